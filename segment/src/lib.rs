//! Henge's segment format (v2; v1 files stay readable): the immutable, time-sorted, columnar unit of storage.
//!
//! This crate owns everything about one segment and nothing around it:
//! - [`time`]: ISO-8601 timestamps and [`Interval`]s, formatted exactly like Druid (Joda);
//! - [`granularity`]: Druid's named granularities and their UTC bucketing;
//! - [`id`]: [`SegmentId`] and Druid's [`DataSegment`] catalog record;
//! - the schema ([`ColumnSpec`]) and row values ([`Value`], [`ValueRef`]);
//! - [`builder`]: a columnar [`SegmentBuilder`] that sorts, dictionary-encodes and writes
//!   the bytes described in `segment/FORMAT.md`;
//! - [`reader`]: [`Segment`], a zero-copy view over those bytes;
//! - [`merge`]: merging segments (realtime hydrants) into one builder;
//! - [`sketch`]: the sketches complex columns hold (HLL, theta, quantiles), built, merged
//!   and serialized with Apache DataSketches, shared by ingestion and the query engine.
//!
//! The crate is pure: no tokio, no network, no file paths and no mmap. It writes through
//! [`std::io::Write`] and reads from a byte slice handed to it ([`SegmentBytes`]); the
//! storage crate owns files and mmaps. Keep it that way: the query engine and its tests
//! depend on this crate without a runtime.
//!
//! Invariants: rows are sorted by (time, dimension values in column order, nulls first);
//! string dictionaries are sorted by UTF-8 bytes with null at id 0 when a column has nulls
//! (a multi-value column's empty rows count as null: they are in id 0's bitmap);
//! every byte of a segment is covered by its CRC32, magic or version fields.

#[cfg(target_endian = "big")]
compile_error!(
    "henge-segment borrows little-endian column data in place: big-endian hosts are unsupported"
);

pub mod builder;
mod format;
pub mod granularity;
pub mod id;
pub mod merge;
pub mod reader;
mod schema;
pub mod sketch;
pub mod time;
mod writer;

pub use builder::{SegmentBuilder, WriteSummary};
pub use granularity::Granularity;
pub use id::{DataSegment, SegmentId, ShardSpec};
pub use merge::merge_segments;
pub use reader::{ColumnRef, ComplexColumn, NumericColumn, Segment, SegmentBytes, StringColumn};
pub use schema::{ColumnRole, ColumnSpec, ColumnType, ComplexKind, StringList, Value, ValueRef};
pub use time::Interval;

/// The segment format version this crate writes; readers also open `FORMAT_VERSION - 1`.
pub const FORMAT_VERSION: u32 = 2;

/// The four magic bytes at the start and at the very end of every segment.
pub const MAGIC: &[u8; 4] = b"HNGS";

/// Errors from opening a segment.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("segment too short: {len} bytes")]
    TooShort { len: usize },
    #[error("bad segment magic bytes")]
    BadMagic,
    #[error("unsupported segment format version {0}")]
    UnsupportedVersion(u32),
    #[error("segment checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch { stored: u32, computed: u32 },
    #[error("invalid segment metadata json: {0}")]
    MetadataJson(#[from] serde_json::Error),
    #[error("corrupt segment: {0}")]
    Corrupt(String),
}

/// The crate's result type.
pub type Result<T, E = SegmentError> = std::result::Result<T, E>;
