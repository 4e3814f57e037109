//! Ingestion for Henge: Druid's native batch task spec, input reading and parsing, rollup and
//! segment building, and the in-memory realtime index behind push ingestion.
//!
//! Layout:
//! - [`spec`]: parsing and validating `index_parallel` / `index` task JSON ([`parse_index_task`]);
//! - `input`: resolving `local` / `inline` input sources (confined to allowed directories) and
//!   reading lines, gunzipping `.gz` files;
//! - `parse`: borrowed, map-free parsing of one JSON object per line;
//! - `multi_value`: JSON arrays into multi-value string rows, with `multiValueHandling`;
//! - `rollup`: the columnar in-memory index of one time chunk, with ingestion-time rollup
//!   (sketch metrics keep a sketch per row, from `henge_segment::sketch`);
//! - [`batch`]: [`run_batch`], which ties them together and writes segment files;
//! - [`stats`]: row counters and Druid's task report;
//! - [`realtime`]: [`RealtimeIndex`], the push-ingestion sinks and their in-memory hydrants.
//!
//! Everything here is synchronous and does no networking: batch tasks read local files and
//! write segments to a work directory; the caller runs them on a blocking thread and pushes the
//! files to deep storage. This crate must not depend on the query engine or on tokio.

pub mod batch;
mod error;
mod input;
mod multi_value;
mod parse;
pub mod realtime;
mod rollup;
pub mod spec;
pub mod stats;

pub use batch::{check_input_allowed, run_batch, BatchOutput, BuiltSegment};
pub use error::{IngestError, Result, SpecError};
pub use multi_value::MultiValueHandling;
pub use realtime::{
    ChunkVersion, PushSummary, RealtimeConfig, RealtimeIndex, SinkHandoff, SinkView,
};
pub use spec::{parse_index_task, IndexSpec, IndexTask};
pub use stats::{IngestionState, ParseErrorType, ParseExceptionReport, RowStats};
