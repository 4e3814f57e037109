//! The one error type of this crate.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in deep storage or the segment cache.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The deep storage URL is not understood.
    #[error("invalid deep storage url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A load spec does not name a file this deep storage can reach.
    #[error("invalid load spec {spec}: {reason}")]
    InvalidLoadSpec { spec: String, reason: String },
    /// The object store failed (missing object, permissions, network for remote stores).
    #[error("deep storage operation failed")]
    ObjectStore(#[from] object_store::Error),
    /// A local file operation failed.
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A segment file does not match its catalog record (size or CRC32).
    #[error("segment {segment_id} failed verification: {reason}")]
    Verification { segment_id: String, reason: String },
    /// A segment file is not a valid segment.
    #[error("segment {segment_id} cannot be opened")]
    Segment {
        segment_id: String,
        #[source]
        source: henge_segment::SegmentError,
    },
    /// A manifest or load spec could not be encoded.
    #[error("json encoding failed")]
    Json(#[from] serde_json::Error),
    /// A background blocking task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

impl Error {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Runs blocking file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| Error::Task(err.to_string()))?
}
