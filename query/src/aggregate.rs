//! Per-segment aggregation into dense, slot-indexed state arrays.
//!
//! An [`Accumulator`] holds one aggregator's state for many slots (timeseries buckets, topN
//! dictionary ids, groupBy groups) as plain vectors, and reads its input column in place:
//! - [`Accumulator::add_range`] for contiguous rows (no filter): slice loops the compiler can
//!   vectorize, the hot path of unfiltered timeseries;
//! - [`Accumulator::add_rows`] for the rows of a filter bitmap;
//! - [`Accumulator::add_grouped`] for rows spread over slots (topN, groupBy).
//!
//! Sums, minimums and maximums of no non-null input are null (SQL-compatible mode); `count`
//! counts rows.

use std::ops::Range;

use henge_segment::reader::Segment;
use henge_segment::{ColumnRef, StringColumn};

use crate::model::aggregator::{AggregatorSpec, NumericOp};
use crate::model::spec::TIME_COLUMN;
use crate::order::parse_decimal;
use crate::value::{java_max, java_min, AggValue};

/// Where an aggregator reads its values.
enum Input<'a> {
    /// A long column (or `__time`) and its null rows as a dense bit set.
    Longs(&'a [i64], Option<Vec<u64>>),
    Doubles(&'a [f64], Option<Vec<u64>>),
    /// A string column: each dictionary value parsed as a number once (`None`: not a number).
    Strings(StringColumn<'a>, Vec<Option<f64>>),
    /// A column the segment does not have: every row is null.
    Missing,
}

fn dense_nulls(nulls: Option<&roaring::RoaringBitmap>, num_rows: usize) -> Option<Vec<u64>> {
    let nulls = nulls.filter(|nulls| !nulls.is_empty())?;
    let mut bits = vec![0u64; num_rows.div_ceil(64)];
    for row in nulls {
        bits[row as usize / 64] |= 1 << (row % 64);
    }
    Some(bits)
}

fn is_null(bits: &Option<Vec<u64>>, row: usize) -> bool {
    bits.as_ref()
        .is_some_and(|bits| bits[row / 64] & (1 << (row % 64)) != 0)
}

impl<'a> Input<'a> {
    fn open(segment: &'a Segment, field: &str) -> Input<'a> {
        if field == TIME_COLUMN {
            return Input::Longs(segment.times(), None);
        }
        match segment.column(field) {
            None => Input::Missing,
            Some(ColumnRef::Long(column)) => Input::Longs(
                column.values(),
                dense_nulls(column.null_bitmap_ref(), segment.num_rows()),
            ),
            Some(ColumnRef::Double(column)) => Input::Doubles(
                column.values(),
                dense_nulls(column.null_bitmap_ref(), segment.num_rows()),
            ),
            Some(ColumnRef::String(column)) => {
                let parsed = (0..column.cardinality() as u32)
                    .map(|id| column.value(id).and_then(|text| parse_decimal(text.trim())))
                    .collect();
                Input::Strings(column, parsed)
            }
        }
    }

    fn long_at(&self, row: usize) -> Option<i64> {
        match self {
            Input::Longs(values, nulls) => (!is_null(nulls, row)).then(|| values[row]),
            // Java's (long) cast: truncation, saturating, NaN to 0.
            Input::Doubles(values, nulls) => (!is_null(nulls, row)).then(|| values[row] as i64),
            Input::Strings(column, parsed) => parsed[column.row_id(row) as usize].map(|v| v as i64),
            Input::Missing => None,
        }
    }

    fn double_at(&self, row: usize) -> Option<f64> {
        match self {
            Input::Longs(values, nulls) => (!is_null(nulls, row)).then(|| values[row] as f64),
            Input::Doubles(values, nulls) => (!is_null(nulls, row)).then(|| values[row]),
            Input::Strings(column, parsed) => parsed[column.row_id(row) as usize],
            Input::Missing => None,
        }
    }

    /// Non-null rows in `rows` of a numeric input.
    fn non_null_count(&self, rows: &Range<usize>) -> usize {
        match self {
            Input::Longs(_, Some(bits)) | Input::Doubles(_, Some(bits)) => {
                rows.len() - count_bits(bits, rows)
            }
            _ => rows.len(),
        }
    }
}

/// Set bits of `bits` at positions `range`.
fn count_bits(bits: &[u64], range: &Range<usize>) -> usize {
    let mut count = 0;
    let mut position = range.start;
    while position < range.end {
        let word = position / 64;
        let offset = position % 64;
        let width = (64 - offset).min(range.end - position);
        let mask = if width == 64 {
            u64::MAX
        } else {
            ((1u64 << width) - 1) << offset
        };
        count += (bits[word] & mask).count_ones() as usize;
        position += width;
    }
    count
}

/// State of one aggregator for every slot.
enum State {
    Count(Vec<i64>),
    Long {
        op: NumericOp,
        values: Vec<i64>,
        seen: Vec<bool>,
    },
    Double {
        op: NumericOp,
        values: Vec<f64>,
        seen: Vec<bool>,
    },
}

/// One aggregator bound to its input column of one segment.
pub(crate) struct Accumulator<'a> {
    input: Input<'a>,
    state: State,
}

impl<'a> Accumulator<'a> {
    pub(crate) fn new(spec: &AggregatorSpec, segment: &'a Segment) -> Accumulator<'a> {
        let input = match &spec.field {
            Some(field) => Input::open(segment, field),
            None => Input::Missing,
        };
        let state = match spec.kind.numeric() {
            None => State::Count(Vec::new()),
            Some((true, op)) => State::Long {
                op,
                values: Vec::new(),
                seen: Vec::new(),
            },
            Some((false, op)) => State::Double {
                op,
                values: Vec::new(),
                seen: Vec::new(),
            },
        };
        Accumulator { input, state }
    }

    /// Builds one accumulator per aggregator.
    pub(crate) fn for_all(specs: &[AggregatorSpec], segment: &'a Segment) -> Vec<Accumulator<'a>> {
        specs
            .iter()
            .map(|spec| Accumulator::new(spec, segment))
            .collect()
    }

    /// Makes room for `slots` slots, all empty (existing slots are reset).
    pub(crate) fn reset(&mut self, slots: usize) {
        match &mut self.state {
            State::Count(counts) => {
                counts.clear();
                counts.resize(slots, 0);
            }
            State::Long { op, values, seen } => {
                values.clear();
                values.resize(slots, identity_long(*op));
                seen.clear();
                seen.resize(slots, false);
            }
            State::Double { op, values, seen } => {
                values.clear();
                values.resize(slots, identity_double(*op));
                seen.clear();
                seen.resize(slots, false);
            }
        }
    }

    /// Adds one empty slot at the end.
    pub(crate) fn push_slot(&mut self) {
        match &mut self.state {
            State::Count(counts) => counts.push(0),
            State::Long { op, values, seen } => {
                values.push(identity_long(*op));
                seen.push(false);
            }
            State::Double { op, values, seen } => {
                values.push(identity_double(*op));
                seen.push(false);
            }
        }
    }

    /// The value of a slot.
    pub(crate) fn value(&self, slot: usize) -> AggValue {
        match &self.state {
            State::Count(counts) => AggValue::Long(counts[slot]),
            State::Long { values, seen, .. } => {
                if seen[slot] {
                    AggValue::Long(values[slot])
                } else {
                    AggValue::Null
                }
            }
            State::Double { values, seen, .. } => {
                if seen[slot] {
                    AggValue::Double(values[slot])
                } else {
                    AggValue::Null
                }
            }
        }
    }

    /// Whether adding rows cannot change the state: a sum, min or max of a missing column.
    fn reads_nothing(&self) -> bool {
        matches!(self.input, Input::Missing) && !matches!(self.state, State::Count(_))
    }

    /// Aggregates the contiguous rows `rows` into `slot`.
    pub(crate) fn add_range(&mut self, slot: usize, rows: Range<usize>) {
        if rows.is_empty() || self.reads_nothing() {
            return;
        }
        match (&mut self.state, &self.input) {
            (State::Count(counts), _) => counts[slot] += rows.len() as i64,
            (
                State::Long {
                    op: NumericOp::Sum,
                    values,
                    seen,
                },
                Input::Longs(column, _),
            ) => {
                // Null rows hold 0, so they do not change the sum; they only decide `seen`.
                let sum = column[rows.clone()]
                    .iter()
                    .fold(0i64, |sum, v| sum.wrapping_add(*v));
                values[slot] = values[slot].wrapping_add(sum);
                seen[slot] |= self.input.non_null_count(&rows) > 0;
            }
            (State::Long { op, values, seen }, Input::Longs(column, None)) => {
                let slice = &column[rows];
                let folded = match op {
                    NumericOp::Min => slice.iter().copied().min(),
                    _ => slice.iter().copied().max(),
                };
                if let Some(folded) = folded {
                    values[slot] = apply_long(*op, values[slot], folded);
                    seen[slot] = true;
                }
            }
            (
                State::Double {
                    op: NumericOp::Sum,
                    values,
                    seen,
                },
                Input::Doubles(column, _),
            ) => {
                let sum = column[rows.clone()]
                    .iter()
                    .fold(values[slot], |sum, v| sum + v);
                values[slot] = sum;
                seen[slot] |= self.input.non_null_count(&rows) > 0;
            }
            _ => {
                for row in rows {
                    self.add_one(slot, row);
                }
            }
        }
    }

    /// Aggregates the given rows into `slot`.
    pub(crate) fn add_rows(&mut self, slot: usize, rows: &[u32]) {
        if self.reads_nothing() {
            return;
        }
        match (&mut self.state, &self.input) {
            (State::Count(counts), _) => counts[slot] += rows.len() as i64,
            (
                State::Long {
                    op: NumericOp::Sum,
                    values,
                    seen,
                },
                Input::Longs(column, None),
            ) => {
                let sum = rows
                    .iter()
                    .fold(0i64, |sum, &row| sum.wrapping_add(column[row as usize]));
                values[slot] = values[slot].wrapping_add(sum);
                seen[slot] |= !rows.is_empty();
            }
            _ => {
                for &row in rows {
                    self.add_one(slot, row as usize);
                }
            }
        }
    }

    /// Aggregates `rows[i]` into `slots[i]`.
    pub(crate) fn add_grouped(&mut self, rows: &[u32], slots: &[u32]) {
        if self.reads_nothing() {
            return;
        }
        match &mut self.state {
            State::Count(counts) => {
                for &slot in slots {
                    counts[slot as usize] += 1;
                }
            }
            _ => {
                for (&row, &slot) in rows.iter().zip(slots) {
                    self.add_one(slot as usize, row as usize);
                }
            }
        }
    }

    fn add_one(&mut self, slot: usize, row: usize) {
        match &mut self.state {
            State::Count(counts) => counts[slot] += 1,
            State::Long { op, values, seen } => {
                if let Some(value) = self.input.long_at(row) {
                    values[slot] = apply_long(*op, values[slot], value);
                    seen[slot] = true;
                }
            }
            State::Double { op, values, seen } => {
                if let Some(value) = self.input.double_at(row) {
                    values[slot] = apply_double(*op, values[slot], value);
                    seen[slot] = true;
                }
            }
        }
    }
}

fn identity_long(op: NumericOp) -> i64 {
    match op {
        NumericOp::Sum => 0,
        NumericOp::Min => i64::MAX,
        NumericOp::Max => i64::MIN,
    }
}

fn identity_double(op: NumericOp) -> f64 {
    match op {
        NumericOp::Sum => 0.0,
        NumericOp::Min => f64::INFINITY,
        NumericOp::Max => f64::NEG_INFINITY,
    }
}

fn apply_long(op: NumericOp, state: i64, value: i64) -> i64 {
    match op {
        NumericOp::Sum => state.wrapping_add(value),
        NumericOp::Min => state.min(value),
        NumericOp::Max => state.max(value),
    }
}

fn apply_double(op: NumericOp, state: f64, value: f64) -> f64 {
    match op {
        NumericOp::Sum => state + value,
        NumericOp::Min => java_min(state, value),
        NumericOp::Max => java_max(state, value),
    }
}

/// The value list of one slot across accumulators.
pub(crate) fn slot_values(accumulators: &[Accumulator<'_>], slot: usize) -> Vec<AggValue> {
    accumulators.iter().map(|acc| acc.value(slot)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bits_in_ranges() {
        let bits = vec![u64::MAX, 0b1010, 1];
        assert_eq!(count_bits(&bits, &(0..64)), 64);
        assert_eq!(count_bits(&bits, &(60..70)), 4 + 2);
        assert_eq!(count_bits(&bits, &(64..129)), 3);
        assert_eq!(count_bits(&bits, &(5..5)), 0);
    }
}
