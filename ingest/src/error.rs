//! The crate's errors: [`SpecError`] for a task spec that Henge cannot run (the caller answers
//! HTTP 400) and [`IngestError`] for everything that fails while ingesting.

use std::io;
use std::path::PathBuf;

use crate::stats::RowStats;

/// An ingestion spec that is malformed or asks for something Henge does not support.
///
/// Messages follow Druid's tone: they name the offending field by its JSON path and list what
/// would have been accepted.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A required field is absent.
    #[error("missing required field [{path}]")]
    Missing { path: String },
    /// A field holds a value of the wrong JSON type or an invalid value.
    #[error("invalid value for [{path}]: {message}")]
    Invalid { path: String, message: String },
    /// A field that neither Druid nor Henge knows at this place.
    #[error("unknown field [{field}] in [{path}]; known fields: [{known}]")]
    UnknownField {
        path: String,
        field: String,
        known: String,
    },
    /// A polymorphic `type` Henge does not implement (Druid's "Could not resolve type id").
    #[error("could not resolve type id [{type_id}] as a subtype of [{base}]: known type ids = [{known}]")]
    UnknownType {
        base: &'static str,
        type_id: String,
        known: String,
    },
    /// A Druid feature that Henge recognises but does not implement yet.
    #[error("[{path}] is not supported by Henge yet: {message}")]
    Unsupported { path: String, message: String },
    /// A local input path resolves outside every directory the server allows reading.
    #[error(
        "local input path [{path}] is outside the directories allowed for ingestion; \
         allowed: [{allowed}]"
    )]
    PathNotAllowed { path: PathBuf, allowed: String },
    /// A local input path that does not exist or cannot be resolved.
    #[error("local input path [{path}] cannot be read: {source}")]
    PathUnreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Everything that can make an ingestion fail.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Reading input or writing a segment failed.
    #[error("i/o error on [{path}]: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// More rows failed to parse than `tuningConfig.maxParseExceptions` allows (Druid's
    /// message). The stats at the moment of failure go into the task report.
    #[error("Max parse exceptions[{limit}] exceeded")]
    MaxParseExceptions { limit: u64, stats: Box<RowStats> },
    /// A realtime push whose body has bad rows; nothing of it was ingested (HTTP 400).
    #[error("push rejected, nothing ingested: {}", errors.join("; "))]
    PushRejected { errors: Vec<String> },
    /// A segment built in memory could not be reopened (a bug in the segment crate).
    #[error("segment error: {0}")]
    Segment(#[from] henge_segment::SegmentError),
}

impl IngestError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> IngestError {
        IngestError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
