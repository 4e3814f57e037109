//! Materializing one virtual column of one segment, with rows lined up with the segment's:
//! numbers into a dense value array plus a null bitmap (read through
//! [`NumericColumn::from_parts`]), strings into a one-column in-memory segment (a metric
//! column keeps push order when written) so they get a sorted dictionary and bitmaps.

use std::ops::Range;

use henge_segment::builder::SegmentBuilder;
use henge_segment::reader::Segment;
use henge_segment::{ColumnRef, ColumnSpec, ColumnType, NumericColumn, ValueRef};
use roaring::RoaringBitmap;

use super::{Binding, Columns, Sink};
use crate::error::QueryError;
use crate::expr::{Eval, ValueType, Values, Vector};
use crate::model::virtual_column::{ColumnKind, VirtualColumn};

/// Rows decoded at a time from a string column.
const CHUNK: usize = 1024;

/// A materialized virtual column.
pub(super) enum Built {
    Longs(Vec<i64>, RoaringBitmap),
    Doubles(Vec<f64>, RoaringBitmap),
    Strings(Segment),
}

impl Built {
    pub(super) fn column(&self, name: &str) -> Option<ColumnRef<'_>> {
        match self {
            Built::Longs(values, nulls) => Some(ColumnRef::Long(NumericColumn::from_parts(
                values,
                Some(nulls),
            ))),
            Built::Doubles(values, nulls) => Some(ColumnRef::Double(NumericColumn::from_parts(
                values,
                Some(nulls),
            ))),
            Built::Strings(segment) => segment.column(name),
        }
    }
}

pub(super) fn materialize(
    column: &VirtualColumn,
    columns: &Columns<'_>,
    ranges: &[Range<usize>],
) -> Result<Built, QueryError> {
    let mut binding = Binding::new(&column.expression, columns);
    let kind = column.output.unwrap_or(match binding.output_type() {
        ValueType::Long => ColumnKind::Long,
        ValueType::Double => ColumnKind::Double,
        ValueType::String => ColumnKind::String,
    });
    let convert = |value: Eval| convert(kind, value);
    let num_rows = columns.num_rows();
    let mut out = match kind {
        ColumnKind::Long => Out::Longs(vec![0; num_rows], RoaringBitmap::new()),
        ColumnKind::Double | ColumnKind::Float => {
            Out::Doubles(vec![0.0; num_rows], RoaringBitmap::new())
        }
        ColumnKind::String => {
            let mut builder = SegmentBuilder::new(vec![ColumnSpec::metric(
                column.name.clone(),
                ColumnType::String,
            )]);
            builder.reserve(num_rows);
            Out::Strings(builder, columns.times())
        }
    };
    let mut next_row = 0;
    if let Some(constant) = binding.constant() {
        let value = convert(constant?);
        for range in ranges {
            out.nulls(next_row..range.start);
            out.fill(range.clone(), &value);
            next_row = range.end;
        }
    } else if let Some((strings, values)) = binding.per_dictionary_id() {
        let values: Vec<Eval> = values?.into_iter().map(convert).collect();
        let mut ids = vec![0u32; CHUNK];
        for range in ranges {
            out.nulls(next_row..range.start);
            for start in range.clone().step_by(CHUNK) {
                let end = (start + CHUNK).min(range.end);
                let ids = &mut ids[..end - start];
                strings.decode_ids(start, ids);
                for (offset, &id) in ids.iter().enumerate() {
                    out.set(start + offset, &values[id as usize]);
                }
            }
            next_row = range.end;
        }
    } else {
        for range in ranges {
            out.nulls(next_row..range.start);
            let mut sink = Converted {
                out: &mut out,
                kind,
            };
            binding.for_each(range.clone(), &mut sink)?;
            next_row = range.end;
        }
    }
    out.nulls(next_row..num_rows);
    out.finish()
}

/// A value cast to the column's kind.
fn convert(kind: ColumnKind, value: Eval) -> Eval {
    match kind {
        ColumnKind::Long => value.cast_long(),
        ColumnKind::Double => value.cast_double(),
        ColumnKind::Float => value
            .as_double()
            .map_or(Eval::Null, |value| Eval::Double(f64::from(value as f32))),
        ColumnKind::String => value.cast_string(),
    }
}

/// Values from a [`Binding`], cast and stored; numeric batches are copied straight into
/// the value array.
struct Converted<'o, 't> {
    out: &'o mut Out<'t>,
    kind: ColumnKind,
}

impl Sink for Converted<'_, '_> {
    fn row(&mut self, row: usize, value: Eval) {
        self.out.set(row, &convert(self.kind, value));
    }

    fn batch(&mut self, start: usize, vector: &Vector) {
        let rows = start..start + vector.len();
        let float = self.kind == ColumnKind::Float;
        let nulls = match (&mut *self.out, &vector.values) {
            (Out::Longs(values, nulls), Values::Long(batch)) => {
                values[rows].copy_from_slice(batch);
                nulls
            }
            (Out::Longs(values, nulls), Values::Double(batch)) => {
                for (slot, value) in values[rows].iter_mut().zip(batch) {
                    *slot = *value as i64;
                }
                nulls
            }
            (Out::Doubles(values, nulls), Values::Long(batch)) => {
                for (slot, value) in values[rows].iter_mut().zip(batch) {
                    *slot = if float {
                        f64::from(*value as f32)
                    } else {
                        *value as f64
                    };
                }
                nulls
            }
            (Out::Doubles(values, nulls), Values::Double(batch)) => {
                for (slot, value) in values[rows].iter_mut().zip(batch) {
                    *slot = if float {
                        f64::from(*value as f32)
                    } else {
                        *value
                    };
                }
                nulls
            }
            (Out::Strings(..), _) => {
                for offset in 0..vector.len() {
                    self.row(start + offset, vector.get(offset));
                }
                return;
            }
        };
        for (offset, &null) in vector.nulls.iter().enumerate() {
            if null {
                nulls
                    .try_push((start + offset) as u32)
                    .expect("rows ascend");
            }
        }
        // Null rows hold 0, as in stored columns (aggregators rely on it).
        let null_rows = vector.nulls.iter().enumerate().filter(|(_, &null)| null);
        match &mut *self.out {
            Out::Longs(values, _) => null_rows.for_each(|(offset, _)| values[start + offset] = 0),
            Out::Doubles(values, _) => {
                null_rows.for_each(|(offset, _)| values[start + offset] = 0.0)
            }
            Out::Strings(..) => {}
        }
    }
}

/// Where the values go, row by row in ascending order.
enum Out<'t> {
    Longs(Vec<i64>, RoaringBitmap),
    Doubles(Vec<f64>, RoaringBitmap),
    Strings(SegmentBuilder, &'t [i64]),
}

impl Out<'_> {
    /// Sets the value of `row`, which follows every row set so far; values are already
    /// converted to the column's kind.
    fn set(&mut self, row: usize, value: &Eval) {
        match (self, value) {
            (Out::Longs(values, _), Eval::Long(value)) => values[row] = *value,
            (Out::Doubles(values, _), Eval::Double(value)) => values[row] = *value,
            (Out::Longs(_, nulls) | Out::Doubles(_, nulls), _) => {
                nulls.try_push(row as u32).expect("rows ascend");
            }
            (Out::Strings(builder, times), value) => {
                builder.push_row_with(times[row], |_| match value {
                    Eval::Str(text) => ValueRef::Str(text),
                    _ => ValueRef::Null,
                });
            }
        }
    }

    /// Sets every row of `rows` (after every row set so far) to `value`.
    fn fill(&mut self, rows: Range<usize>, value: &Eval) {
        match (&mut *self, value) {
            (Out::Longs(values, _), Eval::Long(value)) => values[rows].fill(*value),
            (Out::Doubles(values, _), Eval::Double(value)) => values[rows].fill(*value),
            (Out::Longs(..) | Out::Doubles(..), _) => self.nulls(rows),
            (Out::Strings(..), _) => rows.for_each(|row| self.set(row, value)),
        }
    }

    /// Marks `rows` (after every row set so far) as null.
    fn nulls(&mut self, rows: Range<usize>) {
        if rows.is_empty() {
            return;
        }
        match self {
            Out::Longs(_, nulls) | Out::Doubles(_, nulls) => {
                nulls.insert_range(rows.start as u32..rows.end as u32);
            }
            Out::Strings(..) => {
                for row in rows {
                    self.set(row, &Eval::Null);
                }
            }
        }
    }

    fn finish(self) -> Result<Built, QueryError> {
        Ok(match self {
            Out::Longs(values, nulls) => Built::Longs(values, nulls),
            Out::Doubles(values, nulls) => Built::Doubles(values, nulls),
            Out::Strings(builder, _) => {
                let mut bytes = Vec::new();
                builder
                    .write(&mut bytes)
                    .map_err(|error| QueryError::internal(format!("virtual column: {error}")))?;
                Built::Strings(
                    Segment::from_vec(bytes).map_err(|error| {
                        QueryError::internal(format!("virtual column: {error}"))
                    })?,
                )
            }
        })
    }
}
