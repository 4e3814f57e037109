//! Validating parse of a segment's bytes into byte ranges: footer, checksum, column
//! directory and blob headers. Runs once at open and touches no per-row data except the
//! dictionaries' UTF-8 and the (small) numeric null bitmaps; after it succeeds, every range
//! is in bounds and correctly aligned, so column accessors can slice without checks.

use std::ops::Range;

use roaring::RoaringBitmap;
use tantivy_bitpacker::compute_num_bits;

use crate::format::{
    align8, BlobRef, Footer, CODEC_COMPLEX, CODEC_DOUBLE_RAW, CODEC_LONG_RAW, CODEC_STRING_DICT,
    COMPLEX_HEADER_LEN, HEADER_LEN, NUMERIC_HEADER_LEN, STRING_HEADER_LEN, TAIL_LEN,
    UNCHECKED_TAIL_LEN,
};
use crate::schema::{ColumnSpec, ColumnType, ComplexKind};
use crate::{Result, SegmentError, FORMAT_VERSION, MAGIC};

/// The oldest format version this reader opens (it reads `N - 1` and `N`).
const MIN_READ_VERSION: u32 = FORMAT_VERSION - 1;
/// The first version with multi-value string columns.
const MULTI_VALUE_VERSION: u32 = 2;

/// Everything [`crate::Segment`] needs, as ranges into the segment's bytes.
pub(crate) struct Layout {
    pub(crate) num_rows: usize,
    pub(crate) times: Range<usize>,
    pub(crate) schema: Vec<ColumnSpec>,
    pub(crate) columns: Vec<ColumnLayout>,
    pub(crate) metadata: serde_json::Value,
    pub(crate) file_crc32: u32,
}

pub(crate) enum ColumnLayout {
    String(StringLayout),
    Numeric(NumericLayout),
    Complex(ComplexLayout),
}

pub(crate) struct ComplexLayout {
    pub(crate) kind: ComplexKind,
    /// `num_rows + 1` little-endian u64 end offsets into `data`.
    pub(crate) offsets: Range<usize>,
    pub(crate) data: Range<usize>,
}

pub(crate) struct StringLayout {
    pub(crate) has_nulls: bool,
    pub(crate) num_bits: u8,
    pub(crate) cardinality: u32,
    /// `V + 1` little-endian u32 end offsets (V = non-null values).
    pub(crate) dict_offsets: Range<usize>,
    pub(crate) dict_bytes: Range<usize>,
    /// Multi-value columns only: `num_rows + 1` little-endian u32 ends of each row's values
    /// in `ids` (entry 0 is 0).
    pub(crate) row_ends: Option<Range<usize>>,
    /// Bit-packed ids: one per row, or (multi-value) every row's values back to back.
    pub(crate) ids: Range<usize>,
    /// `cardinality + 1` little-endian u64 offsets into `bitmap_data`.
    pub(crate) bitmap_offsets: Range<usize>,
    pub(crate) bitmap_data: Range<usize>,
}

pub(crate) struct NumericLayout {
    pub(crate) values: Range<usize>,
    pub(crate) nulls: Option<RoaringBitmap>,
}

fn corrupt(message: impl Into<String>) -> SegmentError {
    SegmentError::Corrupt(message.into())
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4-byte slice"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8-byte slice"))
}

fn to_usize(value: u64, what: &str) -> Result<usize> {
    usize::try_from(value).map_err(|_| corrupt(format!("{what} {value} out of range")))
}

/// Checks magic, version and checksum, then parses the footer and every blob header.
pub(crate) fn parse(bytes: &[u8]) -> Result<Layout> {
    let len = bytes.len();
    if len < HEADER_LEN + TAIL_LEN {
        return Err(SegmentError::TooShort { len });
    }
    if &bytes[..4] != MAGIC || &bytes[len - 4..] != MAGIC {
        return Err(SegmentError::BadMagic);
    }
    let version = read_u32(bytes, len - 8);
    if !(MIN_READ_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(SegmentError::UnsupportedVersion(version));
    }
    let checked_len = len - UNCHECKED_TAIL_LEN;
    let stored = read_u32(bytes, checked_len);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[..checked_len]);
    let computed = hasher.clone().finalize();
    if stored != computed {
        return Err(SegmentError::ChecksumMismatch { stored, computed });
    }
    hasher.update(&bytes[checked_len..]);
    let file_crc32 = hasher.finalize();
    if read_u32(bytes, 4) != version {
        return Err(corrupt("header and footer versions differ"));
    }

    let meta_len = read_u32(bytes, len - TAIL_LEN) as usize;
    let meta_end = len - TAIL_LEN;
    if meta_len > meta_end - HEADER_LEN {
        return Err(corrupt(format!(
            "footer length {meta_len} exceeds the file"
        )));
    }
    let data_end = meta_end - meta_len;
    let footer: Footer = serde_json::from_slice(&bytes[data_end..meta_end])?;
    let num_rows = to_usize(footer.num_rows, "row count")?;
    if u32::try_from(num_rows).is_err() {
        return Err(corrupt(format!("row count {num_rows} exceeds u32::MAX")));
    }

    let time_range = blob_range(footer.time, data_end)?;
    let time = parse_numeric(bytes, time_range, CODEC_LONG_RAW, num_rows)?;
    if time.nulls.is_some() {
        return Err(corrupt("time column has nulls"));
    }
    let first_time = (num_rows > 0).then(|| read_u64(bytes, time.values.start) as i64);
    let last_time = (num_rows > 0).then(|| read_u64(bytes, time.values.end - 8) as i64);
    if first_time != footer.min_time || last_time != footer.max_time {
        return Err(corrupt("time range in footer differs from the time column"));
    }

    let mut schema = Vec::with_capacity(footer.columns.len());
    let mut columns = Vec::with_capacity(footer.columns.len());
    for entry in footer.columns {
        if schema
            .iter()
            .any(|spec: &ColumnSpec| spec.name == entry.name)
        {
            return Err(corrupt(format!("duplicate column {:?}", entry.name)));
        }
        let range = blob_range(entry.blob, data_end)?;
        let layout = match entry.column_type {
            ColumnType::String => {
                ColumnLayout::String(parse_string(bytes, range, num_rows, version)?)
            }
            ColumnType::Long => {
                ColumnLayout::Numeric(parse_numeric(bytes, range, CODEC_LONG_RAW, num_rows)?)
            }
            ColumnType::Double => {
                ColumnLayout::Numeric(parse_numeric(bytes, range, CODEC_DOUBLE_RAW, num_rows)?)
            }
            ColumnType::Complex(kind) => {
                ColumnLayout::Complex(parse_complex(bytes, range, kind, num_rows)?)
            }
        };
        columns.push(layout);
        schema.push(ColumnSpec::new(entry.name, entry.column_type, entry.role));
    }
    Ok(Layout {
        num_rows,
        times: time.values,
        schema,
        columns,
        metadata: footer.metadata,
        file_crc32,
    })
}

fn blob_range(blob: BlobRef, data_end: usize) -> Result<Range<usize>> {
    let start = to_usize(blob.offset, "blob offset")?;
    let end = start
        .checked_add(to_usize(blob.length, "blob length")?)
        .ok_or_else(|| corrupt("blob end overflows"))?;
    if start % 8 != 0 || start < HEADER_LEN || end > data_end {
        return Err(corrupt(format!("blob {start}..{end} misplaced")));
    }
    Ok(start..end)
}

fn parse_numeric(
    bytes: &[u8],
    blob: Range<usize>,
    codec: u8,
    num_rows: usize,
) -> Result<NumericLayout> {
    if blob.len() < NUMERIC_HEADER_LEN {
        return Err(corrupt("numeric blob shorter than its header"));
    }
    let header = &bytes[blob.start..blob.start + NUMERIC_HEADER_LEN];
    if header[0] != codec {
        return Err(corrupt(format!(
            "expected codec {codec}, found {}",
            header[0]
        )));
    }
    if header[1] > 1 || header[2..4] != [0, 0] {
        return Err(corrupt("invalid numeric blob flags"));
    }
    if read_u32(header, 4) as usize != num_rows {
        return Err(corrupt("numeric blob row count differs from the segment"));
    }
    let null_len = to_usize(read_u64(header, 8), "null bitmap length")?;
    let values_start = blob.start + NUMERIC_HEADER_LEN;
    let values_end = values_start + 8 * num_rows;
    if values_end.checked_add(null_len) != Some(blob.end) {
        return Err(corrupt("numeric blob length mismatch"));
    }
    let nulls = match (header[1], null_len) {
        (0, 0) => None,
        (1, 1..) => {
            let bitmap = RoaringBitmap::deserialize_from(&bytes[values_end..blob.end])
                .map_err(|error| corrupt(format!("invalid null bitmap: {error}")))?;
            if bitmap.max().is_some_and(|max| max as usize >= num_rows) {
                return Err(corrupt("null bitmap beyond the last row"));
            }
            Some(bitmap)
        }
        _ => return Err(corrupt("null flag and null bitmap disagree")),
    };
    Ok(NumericLayout {
        values: values_start..values_end,
        nulls,
    })
}

fn parse_complex(
    bytes: &[u8],
    blob: Range<usize>,
    kind: ComplexKind,
    num_rows: usize,
) -> Result<ComplexLayout> {
    if blob.len() < COMPLEX_HEADER_LEN {
        return Err(corrupt("complex blob shorter than its header"));
    }
    let header = &bytes[blob.start..blob.start + COMPLEX_HEADER_LEN];
    if header[0] != CODEC_COMPLEX {
        return Err(corrupt(format!(
            "expected complex codec, found {}",
            header[0]
        )));
    }
    if ComplexKind::from_id(header[1]) != Some(kind) || header[2..4] != [0, 0] {
        return Err(corrupt("complex blob kind differs from the column type"));
    }
    if read_u32(header, 4) as usize != num_rows {
        return Err(corrupt("complex blob row count differs from the segment"));
    }
    let data_len = to_usize(read_u64(header, 8), "complex data length")?;
    let offsets_start = blob.start + COMPLEX_HEADER_LEN;
    let offsets = offsets_start..offsets_start + 8 * (num_rows + 1);
    if offsets.end.checked_add(data_len) != Some(blob.end) {
        return Err(corrupt("complex blob length mismatch"));
    }
    let mut previous = 0;
    for index in 0..=num_rows {
        let end = read_u64(bytes, offsets.start + 8 * index);
        if (index == 0 && end != 0) || end < previous {
            return Err(corrupt("complex row offsets not ascending"));
        }
        previous = end;
    }
    if to_usize(previous, "complex data end")? != data_len {
        return Err(corrupt("complex data length mismatch"));
    }
    Ok(ComplexLayout {
        kind,
        data: offsets.end..blob.end,
        offsets,
    })
}

fn parse_string(
    bytes: &[u8],
    blob: Range<usize>,
    num_rows: usize,
    version: u32,
) -> Result<StringLayout> {
    if blob.len() < STRING_HEADER_LEN {
        return Err(corrupt("string blob shorter than its header"));
    }
    let header = &bytes[blob.start..blob.start + STRING_HEADER_LEN];
    if header[0] != CODEC_STRING_DICT {
        return Err(corrupt(format!(
            "expected string codec, found {}",
            header[0]
        )));
    }
    if header[1] > u8::from(version >= MULTI_VALUE_VERSION) {
        return Err(corrupt(format!(
            "invalid multi-value flag {} for format version {version}",
            header[1]
        )));
    }
    let multi_value = header[1] == 1;
    if header[2] > 1 || header[12..16] != [0; 4] {
        return Err(corrupt("invalid string blob flags"));
    }
    let has_nulls = header[2] == 1;
    let num_bits = header[3];
    let cardinality = read_u32(header, 4);
    if read_u32(header, 8) as usize != num_rows {
        return Err(corrupt("string blob row count differs from the segment"));
    }
    if cardinality < u32::from(has_nulls)
        || num_bits != compute_num_bits(u64::from(cardinality.saturating_sub(1)))
    {
        return Err(corrupt("invalid string cardinality or bit width"));
    }
    let num_values = (cardinality - u32::from(has_nulls)) as usize;

    let dict_offsets =
        blob.start + STRING_HEADER_LEN..blob.start + STRING_HEADER_LEN + 4 * (num_values + 1);
    let offset_in_blob = |at: usize, what: &str| -> Result<usize> {
        let relative = to_usize(read_u64(header, at), what)?;
        if relative > blob.len() {
            return Err(corrupt(format!("{what} {relative} beyond the blob")));
        }
        Ok(blob.start + relative)
    };
    let ids_start = offset_in_blob(16, "ids offset")?;
    let bitmaps_start = offset_in_blob(24, "bitmaps offset")?;
    if dict_offsets.end > ids_start {
        return Err(corrupt("string dictionary misplaced"));
    }
    let mut previous = 0;
    for index in 0..=num_values {
        let end = read_u32(bytes, dict_offsets.start + 4 * index);
        if (index == 0 && end != 0) || end < previous {
            return Err(corrupt("string dictionary offsets not ascending"));
        }
        previous = end;
    }
    let dict_bytes = dict_offsets.end..dict_offsets.end + previous as usize;
    if ids_start - blob.start != align8(dict_bytes.end - blob.start) {
        return Err(corrupt("string ids misplaced"));
    }
    let dictionary = std::str::from_utf8(&bytes[dict_bytes.clone()])
        .map_err(|_| corrupt("string dictionary is not utf-8"))?;
    // Ids follow the dictionary's order (lookups search it, engines read ids as that order):
    // values must be strictly increasing.
    let (mut start, mut previous_value) = (0, None);
    for index in 0..=num_values {
        let end = read_u32(bytes, dict_offsets.start + 4 * index) as usize;
        if !dictionary.is_char_boundary(end) {
            return Err(corrupt("string dictionary offset splits a character"));
        }
        if index > 0 {
            let value = &dictionary[start..end];
            if previous_value.is_some_and(|previous| previous >= value) {
                return Err(corrupt("string dictionary not sorted"));
            }
            previous_value = Some(value);
        }
        start = end;
    }

    let (row_ends, packed_start, num_ids) = if multi_value {
        let row_ends = ids_start..ids_start + 4 * (num_rows + 1);
        if row_ends.end > blob.end {
            return Err(corrupt("string row ends beyond the blob"));
        }
        let mut previous = 0;
        for index in 0..=num_rows {
            let end = read_u32(bytes, row_ends.start + 4 * index);
            if (index == 0 && end != 0) || end < previous {
                return Err(corrupt("string row ends not ascending"));
            }
            previous = end;
        }
        let packed_start = blob.start + align8(row_ends.end - blob.start);
        (Some(row_ends), packed_start, previous as usize)
    } else {
        (None, ids_start, num_rows)
    };
    let ids = packed_start..packed_start + (num_ids * usize::from(num_bits)).div_ceil(8);
    if bitmaps_start - blob.start != align8(ids.end - blob.start) {
        return Err(corrupt("string bitmaps misplaced"));
    }
    let table_len = 8 * (cardinality as usize + 1);
    let bitmap_offsets = bitmaps_start..bitmaps_start + table_len;
    if bitmap_offsets.end > blob.end {
        return Err(corrupt("string bitmap offsets beyond the blob"));
    }
    let mut previous = 0;
    for index in 0..=cardinality as usize {
        let end = read_u64(bytes, bitmap_offsets.start + 8 * index);
        if (index == 0 && end != 0) || end < previous {
            return Err(corrupt("string bitmap offsets not ascending"));
        }
        previous = end;
    }
    let bitmap_data = bitmap_offsets.end..blob.end;
    if to_usize(previous, "bitmap data length")? != bitmap_data.len() {
        return Err(corrupt("string bitmap data length mismatch"));
    }
    Ok(StringLayout {
        has_nulls,
        num_bits,
        cardinality,
        dict_offsets,
        dict_bytes,
        row_ends,
        ids,
        bitmap_offsets,
        bitmap_data,
    })
}
