//! Constants and the footer JSON shared by the writer and the reader. `segment/FORMAT.md`
//! documents every byte; keep the two in sync.

use serde::{Deserialize, Serialize};

use crate::schema::{ColumnRole, ColumnType};

/// `[magic][version u32]` at offset 0.
pub(crate) const HEADER_LEN: usize = 8;
/// `[meta len u32][crc32 u32][version u32][magic]` at the end of the file.
pub(crate) const TAIL_LEN: usize = 16;
/// The bytes after the checksummed part: `[crc32 u32][version u32][magic]`.
pub(crate) const UNCHECKED_TAIL_LEN: usize = 12;

/// Codec id of a string column blob: sorted dictionary, bit-packed ids, roaring bitmaps.
pub(crate) const CODEC_STRING_DICT: u8 = 1;
/// Codec id of a raw little-endian `i64` blob (also used for the time column).
pub(crate) const CODEC_LONG_RAW: u8 = 2;
/// Codec id of a raw little-endian `f64` blob.
pub(crate) const CODEC_DOUBLE_RAW: u8 = 3;

/// Codec id of a complex (sketch) column blob: per-row byte strings behind an offset table.
pub(crate) const CODEC_COMPLEX: u8 = 4;

/// Fixed header of a string column blob.
pub(crate) const STRING_HEADER_LEN: usize = 32;
/// Fixed header of a numeric column blob.
pub(crate) const NUMERIC_HEADER_LEN: usize = 16;
/// Fixed header of a complex column blob.
pub(crate) const COMPLEX_HEADER_LEN: usize = 16;

/// Rounds up to a multiple of 8.
pub(crate) fn align8(len: usize) -> usize {
    len.next_multiple_of(8)
}

/// The footer's JSON document: row count, time range, column directory, user metadata.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Footer {
    pub(crate) num_rows: u64,
    pub(crate) min_time: Option<i64>,
    pub(crate) max_time: Option<i64>,
    pub(crate) time: BlobRef,
    pub(crate) columns: Vec<ColumnEntry>,
    pub(crate) metadata: serde_json::Value,
}

/// Where a blob lives: absolute byte offset (a multiple of 8) and length.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct BlobRef {
    pub(crate) offset: u64,
    pub(crate) length: u64,
}

/// One column of the directory, in schema order.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ColumnEntry {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) column_type: ColumnType,
    pub(crate) role: ColumnRole,
    #[serde(flatten)]
    pub(crate) blob: BlobRef,
}
