//! Materializing one virtual column of one segment into a one-column in-memory segment whose
//! rows line up with the segment's (a metric column keeps push order when written).

use std::ops::Range;

use henge_segment::builder::SegmentBuilder;
use henge_segment::reader::Segment;
use henge_segment::{ColumnSpec, ColumnType, ValueRef};

use super::{Binding, Columns};
use crate::error::QueryError;
use crate::expr::{Eval, ValueType};
use crate::model::virtual_column::{ColumnKind, VirtualColumn};

/// Rows decoded at a time from a string column.
const CHUNK: usize = 1024;

pub(super) fn materialize(
    column: &VirtualColumn,
    columns: &Columns<'_>,
    ranges: &[Range<usize>],
) -> Result<Segment, QueryError> {
    let mut binding = Binding::new(&column.expression, columns);
    let kind = column.output.unwrap_or(match binding.output_type() {
        ValueType::Long => ColumnKind::Long,
        ValueType::Double => ColumnKind::Double,
        ValueType::String => ColumnKind::String,
    });
    let column_type = match kind {
        ColumnKind::Long => ColumnType::Long,
        ColumnKind::Double | ColumnKind::Float => ColumnType::Double,
        ColumnKind::String => ColumnType::String,
    };
    let convert = |value: Eval| -> Eval {
        match kind {
            ColumnKind::Long => value.cast_long(),
            ColumnKind::Double => value.cast_double(),
            ColumnKind::Float => value
                .as_double()
                .map_or(Eval::Null, |value| Eval::Double(f64::from(value as f32))),
            ColumnKind::String => value.cast_string(),
        }
    };
    let times = columns.times();
    let mut builder =
        SegmentBuilder::new(vec![ColumnSpec::metric(column.name.clone(), column_type)]);
    builder.reserve(times.len());
    let mut out = Rows {
        builder,
        times,
        next_row: 0,
    };
    if let Some(constant) = binding.constant() {
        let value = convert(constant?);
        for range in ranges {
            out.nulls_to(range.start);
            for _ in range.clone() {
                out.push(&value);
            }
        }
    } else if let Some((strings, values)) = binding.per_dictionary_id() {
        let values: Vec<Eval> = values?.into_iter().map(convert).collect();
        let mut ids = vec![0u32; CHUNK];
        for range in ranges {
            out.nulls_to(range.start);
            for start in range.clone().step_by(CHUNK) {
                let end = (start + CHUNK).min(range.end);
                let ids = &mut ids[..end - start];
                strings.decode_ids(start, ids);
                for &id in ids.iter() {
                    out.push(&values[id as usize]);
                }
            }
        }
    } else {
        for range in ranges {
            out.nulls_to(range.start);
            for row in range.clone() {
                let value = convert(binding.eval_row(row)?);
                out.push(&value);
            }
        }
    }
    out.nulls_to(times.len());
    let mut bytes = Vec::new();
    out.builder
        .write(&mut bytes)
        .map_err(|error| QueryError::internal(format!("virtual column: {error}")))?;
    Segment::from_vec(bytes)
        .map_err(|error| QueryError::internal(format!("virtual column: {error}")))
}

/// The rows written so far, in segment order.
struct Rows<'t> {
    builder: SegmentBuilder,
    times: &'t [i64],
    next_row: usize,
}

impl Rows<'_> {
    /// Appends the value of the next row.
    fn push(&mut self, value: &Eval) {
        self.builder
            .push_row_with(self.times[self.next_row], |_| match value {
                Eval::Null => ValueRef::Null,
                Eval::Long(value) => ValueRef::Long(*value),
                Eval::Double(value) => ValueRef::Double(*value),
                Eval::Str(text) => ValueRef::Str(text),
            });
        self.next_row += 1;
    }

    /// Appends nulls up to row `end` (exclusive).
    fn nulls_to(&mut self, end: usize) {
        while self.next_row < end {
            self.push(&Eval::Null);
        }
    }
}
