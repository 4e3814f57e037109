//! [`SegmentBuilder`]: accumulates rows column by column (no per-row allocation), then sorts
//! them by (time, dimensions), sorts every dictionary and writes the current format
//! (`segment/FORMAT.md`).

mod dictionary;

use std::cmp::Ordering;
use std::io::{self, Write};

use roaring::RoaringBitmap;

use self::dictionary::StringAccumulator;
use crate::format::{ColumnEntry, Footer, CODEC_DOUBLE_RAW, CODEC_LONG_RAW};
use crate::schema::{ColumnRole, ColumnSpec, ColumnType, ComplexKind, Value, ValueRef};
use crate::writer::{SegmentWriter, StringRows};

/// Builds one segment in memory. Values are coerced to their column's type as described on
/// [`Value`] (see [`ValueRef::coerce_long`] and friends).
pub struct SegmentBuilder {
    columns: Vec<ColumnSpec>,
    times: Vec<i64>,
    data: Vec<ColumnData>,
    metadata: serde_json::Value,
    /// Reused to format numbers pushed into string columns.
    scratch: String,
}

enum ColumnData {
    String(StringAccumulator),
    Long(NumericAccumulator<i64>),
    Double(NumericAccumulator<f64>),
    Complex(ComplexKind, BlobAccumulator),
}

/// Per-row byte strings (an empty one is null), concatenated, with their end offsets.
#[derive(Default)]
struct BlobAccumulator {
    ends: Vec<usize>,
    data: Vec<u8>,
}

impl BlobAccumulator {
    fn push(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.ends.push(self.data.len());
    }

    fn row(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.data[start..self.ends[row]]
    }
}

/// Values (0 for nulls) and the rows that are null.
#[derive(Default)]
struct NumericAccumulator<T> {
    values: Vec<T>,
    null_rows: Vec<u32>,
}

impl<T: Default> NumericAccumulator<T> {
    fn push(&mut self, value_opt: Option<T>) {
        match value_opt {
            Some(value) => self.values.push(value),
            None => {
                self.null_rows.push(self.values.len() as u32);
                self.values.push(T::default());
            }
        }
    }

    /// One flag per row, or `None` when no row is null.
    fn null_mask(&self) -> Option<Vec<bool>> {
        if self.null_rows.is_empty() {
            return None;
        }
        let mut mask = vec![false; self.values.len()];
        for &row in &self.null_rows {
            mask[row as usize] = true;
        }
        Some(mask)
    }
}

/// What [`SegmentBuilder::write`] produced.
#[derive(Clone, Debug)]
pub struct WriteSummary {
    /// Size of the file in bytes.
    pub bytes: u64,
    /// CRC32 of the whole file (what [`crate::Segment::crc32`] returns).
    pub crc32: u32,
    pub num_rows: u64,
    pub min_time: Option<i64>,
    pub max_time: Option<i64>,
}

impl SegmentBuilder {
    /// An empty builder for these columns (the time column is implicit).
    pub fn new(columns: Vec<ColumnSpec>) -> SegmentBuilder {
        let data = columns
            .iter()
            .map(|column| match column.column_type {
                ColumnType::String => ColumnData::String(StringAccumulator::default()),
                ColumnType::Long => ColumnData::Long(NumericAccumulator::default()),
                ColumnType::Double => ColumnData::Double(NumericAccumulator::default()),
                ColumnType::Complex(kind) => ColumnData::Complex(kind, BlobAccumulator::default()),
            })
            .collect();
        SegmentBuilder {
            columns,
            times: Vec::new(),
            data,
            metadata: serde_json::Value::Object(serde_json::Map::new()),
            scratch: String::new(),
        }
    }

    pub fn columns(&self) -> &[ColumnSpec] {
        &self.columns
    }

    pub fn num_rows(&self) -> usize {
        self.times.len()
    }

    /// Reserves room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        self.times.reserve(additional);
        for column in &mut self.data {
            match column {
                ColumnData::String(strings) => strings.reserve(additional),
                ColumnData::Long(longs) => longs.values.reserve(additional),
                ColumnData::Double(doubles) => doubles.values.reserve(additional),
                ColumnData::Complex(_, blobs) => blobs.ends.reserve(additional),
            }
        }
    }

    /// Opaque JSON stored in the segment (aggregators, queryGranularity, rollup,
    /// timestampSpec...); an empty object by default.
    pub fn set_metadata(&mut self, metadata: serde_json::Value) {
        self.metadata = metadata;
    }

    /// Adds a row. `values[i]` belongs to `columns()[i]`.
    ///
    /// # Panics
    /// When `values` is shorter than the schema (debug builds also check it is not longer),
    /// or when the builder already holds `u32::MAX` rows.
    pub fn push_row(&mut self, timestamp: i64, values: &[Value]) {
        debug_assert_eq!(
            values.len(),
            self.columns.len(),
            "row width differs from schema"
        );
        self.push_row_with(timestamp, |index| values[index].as_value_ref());
    }

    /// Adds a row without allocating: `value_of(i)` is called once per column, in order.
    ///
    /// # Panics
    /// When the builder already holds `u32::MAX` rows.
    pub fn push_row_with<'v>(
        &mut self,
        timestamp: i64,
        mut value_of: impl FnMut(usize) -> ValueRef<'v>,
    ) {
        assert!(
            self.times.len() < u32::MAX as usize,
            "a segment holds at most u32::MAX rows"
        );
        self.times.push(timestamp);
        for (index, column) in self.data.iter_mut().enumerate() {
            let value = value_of(index);
            match column {
                ColumnData::String(strings) => match value {
                    ValueRef::Strings(list) => strings.push_list(list.iter()),
                    _ => strings.push(value.coerce_str(&mut self.scratch)),
                },
                ColumnData::Long(longs) => longs.push(value.coerce_long()),
                ColumnData::Double(doubles) => doubles.push(value.coerce_double()),
                ColumnData::Complex(_, blobs) => match value {
                    ValueRef::Bytes(bytes) => blobs.push(bytes),
                    _ => blobs.push(&[]),
                },
            }
        }
    }

    /// Sorts rows by (time, dimension values in column order; nulls first, strings by
    /// UTF-8 bytes, multi-value rows by their id lists, doubles by total order; ties keep
    /// push order), then writes the current format version.
    pub fn write<W: Write>(self, writer: W) -> io::Result<WriteSummary> {
        let SegmentBuilder {
            columns,
            times,
            data,
            metadata,
            ..
        } = self;
        let encoded: Vec<EncodedColumn> = data.into_iter().map(EncodedColumn::new).collect();
        let permutation = sort_permutation(&times, &columns, &encoded);

        let mut out = SegmentWriter::start(writer)?;
        let sorted_times: Vec<i64> = permute(&times, &permutation);
        drop(times);
        let time_blob = out.write_numeric_blob(CODEC_LONG_RAW, &sorted_times, None)?;
        let mut entries = Vec::with_capacity(columns.len());
        for (spec, column) in columns.iter().zip(&encoded) {
            let blob = match column {
                EncodedColumn::String(strings) => {
                    let rows = match &strings.row_ends {
                        None => StringRows::Single(permute(&strings.ids, &permutation)),
                        Some(_) => permute_lists(strings, &permutation),
                    };
                    out.write_string_blob(&strings.sorted_values(), strings.has_nulls, &rows)?
                }
                EncodedColumn::Long(values, mask) => out.write_numeric_blob(
                    CODEC_LONG_RAW,
                    &permute(values, &permutation),
                    permuted_nulls(mask, &permutation).as_ref(),
                )?,
                EncodedColumn::Double(values, mask) => out.write_numeric_blob(
                    CODEC_DOUBLE_RAW,
                    &permute(values, &permutation),
                    permuted_nulls(mask, &permutation).as_ref(),
                )?,
                EncodedColumn::Complex(kind, blobs) => out.write_complex_blob(
                    *kind,
                    permutation.iter().map(|&row| blobs.row(row as usize)),
                )?,
            };
            entries.push(ColumnEntry {
                name: spec.name.clone(),
                column_type: spec.column_type,
                role: spec.role,
                blob,
            });
        }
        let footer = Footer {
            num_rows: sorted_times.len() as u64,
            min_time: sorted_times.first().copied(),
            max_time: sorted_times.last().copied(),
            time: time_blob,
            columns: entries,
            metadata,
        };
        let written = out.finish(&footer)?;
        Ok(WriteSummary {
            bytes: written.bytes,
            crc32: written.file_crc32,
            num_rows: footer.num_rows,
            min_time: footer.min_time,
            max_time: footer.max_time,
        })
    }
}

/// A column with its dictionary sorted (strings) or its null mask built (numbers), rows
/// still in push order.
enum EncodedColumn {
    String(dictionary::EncodedStrings),
    Long(Vec<i64>, Option<Vec<bool>>),
    Double(Vec<f64>, Option<Vec<bool>>),
    Complex(ComplexKind, BlobAccumulator),
}

impl EncodedColumn {
    fn new(data: ColumnData) -> EncodedColumn {
        match data {
            ColumnData::String(strings) => EncodedColumn::String(strings.encode()),
            ColumnData::Long(longs) => {
                let mask = longs.null_mask();
                EncodedColumn::Long(longs.values, mask)
            }
            ColumnData::Double(doubles) => {
                let mask = doubles.null_mask();
                EncodedColumn::Double(doubles.values, mask)
            }
            ColumnData::Complex(kind, blobs) => EncodedColumn::Complex(kind, blobs),
        }
    }

    /// Compares two rows of this column: nulls first, then ids (which follow the sorted
    /// dictionary) or numbers.
    fn compare_rows(&self, left: usize, right: usize) -> Ordering {
        fn is_null(mask: &Option<Vec<bool>>, row: usize) -> bool {
            mask.as_ref().is_some_and(|mask| mask[row])
        }
        match self {
            EncodedColumn::String(strings) if strings.row_ends.is_some() => {
                strings.row(left).cmp(strings.row(right))
            }
            EncodedColumn::String(strings) => strings.ids[left].cmp(&strings.ids[right]),
            EncodedColumn::Long(values, mask) => {
                (!is_null(mask, left), values[left]).cmp(&(!is_null(mask, right), values[right]))
            }
            EncodedColumn::Double(values, mask) => (!is_null(mask, left))
                .cmp(&!is_null(mask, right))
                .then_with(|| values[left].total_cmp(&values[right])),
            // Sketches have no order: a complex dimension does not sort rows.
            EncodedColumn::Complex(..) => Ordering::Equal,
        }
    }
}

/// Row order of the segment: a stable sort of push positions by (time, dimensions).
fn sort_permutation(times: &[i64], columns: &[ColumnSpec], encoded: &[EncodedColumn]) -> Vec<u32> {
    let dimensions: Vec<&EncodedColumn> = columns
        .iter()
        .zip(encoded)
        .filter(|(spec, _)| spec.role == ColumnRole::Dimension)
        .map(|(_, column)| column)
        .collect();
    let mut permutation: Vec<u32> = (0..times.len() as u32).collect();
    permutation.sort_by(|&left, &right| {
        let (left, right) = (left as usize, right as usize);
        times[left].cmp(&times[right]).then_with(|| {
            dimensions
                .iter()
                .map(|column| column.compare_rows(left, right))
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    });
    permutation
}

fn permute<T: Copy>(values: &[T], permutation: &[u32]) -> Vec<T> {
    permutation
        .iter()
        .map(|&row| values[row as usize])
        .collect()
}

/// The rows of a multi-value column in segment order.
fn permute_lists(strings: &dictionary::EncodedStrings, permutation: &[u32]) -> StringRows {
    let mut ends = Vec::with_capacity(permutation.len());
    let mut ids = Vec::with_capacity(strings.ids.len());
    for &source in permutation {
        ids.extend_from_slice(strings.row(source as usize));
        ends.push(ids.len() as u32);
    }
    StringRows::Multi { ends, ids }
}

fn permuted_nulls(mask: &Option<Vec<bool>>, permutation: &[u32]) -> Option<RoaringBitmap> {
    let mask = mask.as_ref()?;
    let mut nulls = RoaringBitmap::new();
    for (row, &source) in permutation.iter().enumerate() {
        if mask[source as usize] {
            nulls.try_push(row as u32).expect("rows ascend");
        }
    }
    Some(nulls)
}
