//! Per-segment aggregation into dense, slot-indexed state arrays.
//!
//! An [`Accumulator`] holds one aggregator's state for many slots (timeseries buckets, topN
//! dictionary ids, groupBy groups) as plain vectors, and reads its input column in place
//! (`input`):
//! - [`Accumulator::add_range`] for contiguous rows (no filter): slice loops the compiler can
//!   vectorize, the hot path of unfiltered timeseries;
//! - [`Accumulator::add_rows`] for the rows of a filter bitmap;
//! - [`Accumulator::add_grouped`] for rows spread over slots (topN, groupBy).
//!
//! Sums, minimums and maximums of no non-null input are null (SQL-compatible mode); `count`
//! counts rows. First/last/any aggregators keep the time and row number of the picked row per
//! slot and read its value only when asked. A `filtered` aggregator evaluates its filter once
//! per segment into a dense bit set and skips the rows outside it. Sketch aggregators keep one
//! sketch per slot, created on the first row (`sketch`).

mod input;
mod sketch;

use std::ops::Range;

use self::input::{chop, dense_bits, is_set, Input};
use crate::engine::SegmentView;
use crate::filter::{evaluate, Universe};
use crate::model::aggregator::{AggKind, AggregatorSpec, NumType, NumericOp, Pick, PickType};
use crate::value::{java_max, java_min, AggValue};

/// No row picked yet.
const NO_ROW: u32 = u32::MAX;

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
    Float {
        op: NumericOp,
        values: Vec<f32>,
        seen: Vec<bool>,
    },
    Mean {
        sums: Vec<f64>,
        counts: Vec<i64>,
    },
    Pick {
        pick: Pick,
        times: Vec<i64>,
        rows: Vec<u32>,
    },
    Sketch(sketch::SketchSlots),
}

impl State {
    /// The value of a slot of a state that reads no segment to give it (`None` for
    /// first/last/any and sketches).
    fn plain_value(&self, slot: usize) -> Option<AggValue> {
        Some(match self {
            State::Count(counts) => AggValue::Long(counts[slot]),
            State::Long { values, seen, .. } if seen[slot] => AggValue::Long(values[slot]),
            State::Double { values, seen, .. } if seen[slot] => AggValue::Double(values[slot]),
            State::Float { values, seen, .. } if seen[slot] => {
                AggValue::Double(f64::from(values[slot]))
            }
            State::Long { .. } | State::Double { .. } | State::Float { .. } => AggValue::Null,
            State::Mean { sums, counts } => AggValue::Mean {
                sum: sums[slot],
                count: counts[slot],
            },
            State::Pick { .. } | State::Sketch(_) => return None,
        })
    }
}

/// The slots of an aggregator whose state reads nothing from its segment once filled
/// (count, sums, minimums, maximums, means), carried from one segment's accumulator to the
/// next so that many segments aggregate into one set of slots.
pub(crate) struct Carried(State);

impl Carried {
    /// The (intermediate) value of a slot.
    pub(crate) fn value(&self, slot: usize) -> AggValue {
        self.0.plain_value(slot).unwrap_or(AggValue::Null)
    }
}

/// One aggregator bound to its input column of one segment.
pub(crate) struct Accumulator<'a> {
    input: Input<'a>,
    /// The columns of `cardinality` (empty otherwise).
    inputs: Vec<Input<'a>>,
    /// The time column of first/last aggregators.
    time: Option<Input<'a>>,
    /// The rows a `filtered` aggregator reads (`Some(None)`: none of them).
    filter: Option<Option<Vec<u64>>>,
    kind: AggKind,
    max_string_bytes: usize,
    /// `stringAny`'s `aggregateMultipleValues`.
    aggregate_multiple_values: bool,
    state: State,
}

impl<'a> Accumulator<'a> {
    pub(crate) fn new(spec: &AggregatorSpec, view: &SegmentView<'a>) -> Accumulator<'a> {
        let segment = view.segment;
        let input = match &spec.field {
            Some(field) => Input::open(segment, field),
            None => Input::Missing,
        };
        let inputs: Vec<Input<'a>> = spec
            .fields
            .iter()
            .map(|field| Input::open(segment, field))
            .collect();
        let filter = spec.filter.as_ref().map(|filter| {
            let ranges: Vec<Range<usize>> = view.pieces.iter().map(|p| p.rows.clone()).collect();
            let rows = evaluate(filter, segment, &Universe::new(&ranges));
            dense_bits(Some(&rows), segment.num_rows())
        });
        let state = match spec.kind {
            AggKind::Count => State::Count(Vec::new()),
            AggKind::Numeric(NumType::Long, op) => State::Long {
                op,
                values: Vec::new(),
                seen: Vec::new(),
            },
            AggKind::Numeric(NumType::Double, op) => State::Double {
                op,
                values: Vec::new(),
                seen: Vec::new(),
            },
            AggKind::Numeric(NumType::Float, op) => State::Float {
                op,
                values: Vec::new(),
                seen: Vec::new(),
            },
            AggKind::DoubleMean => State::Mean {
                sums: Vec::new(),
                counts: Vec::new(),
            },
            AggKind::Pick(pick, _) => State::Pick {
                pick,
                times: Vec::new(),
                rows: Vec::new(),
            },
            AggKind::Sketch(agg) => State::Sketch(sketch::SketchSlots::new(agg)),
        };
        let time = matches!(spec.kind, AggKind::Pick(Pick::First | Pick::Last, _))
            .then(|| Input::open(segment, &spec.time_column));
        let mut state = state;
        if let State::Sketch(sketches) = &mut state {
            sketches.bind(&input, &inputs);
        }
        Accumulator {
            input,
            inputs,
            time,
            filter,
            kind: spec.kind,
            max_string_bytes: spec.max_string_bytes,
            aggregate_multiple_values: spec.aggregate_multiple_values,
            state,
        }
    }

    /// Builds one accumulator per aggregator.
    pub(crate) fn for_all(
        specs: &[AggregatorSpec],
        view: &SegmentView<'a>,
    ) -> Vec<Accumulator<'a>> {
        specs
            .iter()
            .map(|spec| Accumulator::new(spec, view))
            .collect()
    }

    /// Makes room for `slots` slots, all empty (existing slots are reset).
    pub(crate) fn reset(&mut self, slots: usize) {
        self.clear();
        for _ in 0..slots {
            self.push_slot();
        }
    }

    fn clear(&mut self) {
        match &mut self.state {
            State::Count(counts) => counts.clear(),
            State::Long { values, seen, .. } => {
                values.clear();
                seen.clear();
            }
            State::Double { values, seen, .. } => {
                values.clear();
                seen.clear();
            }
            State::Float { values, seen, .. } => {
                values.clear();
                seen.clear();
            }
            State::Mean { sums, counts } => {
                sums.clear();
                counts.clear();
            }
            State::Pick { times, rows, .. } => {
                times.clear();
                rows.clear();
            }
            State::Sketch(sketches) => sketches.clear(),
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
            State::Float { op, values, seen } => {
                values.push(identity_double(*op) as f32);
                seen.push(false);
            }
            State::Mean { sums, counts } => {
                sums.push(0.0);
                counts.push(0);
            }
            State::Pick { times, rows, .. } => {
                times.push(0);
                rows.push(NO_ROW);
            }
            State::Sketch(sketches) => sketches.push_slot(),
        }
    }

    /// Whether the aggregator's state can be carried from segment to segment ([`Carried`]).
    pub(crate) fn carries(spec: &AggregatorSpec) -> bool {
        matches!(
            spec.kind,
            AggKind::Count | AggKind::Numeric(..) | AggKind::DoubleMean
        )
    }

    /// An accumulator bound to `view` that goes on from `carried` (its slots and their
    /// values kept), or starts empty without one.
    pub(crate) fn resume(
        spec: &AggregatorSpec,
        view: &SegmentView<'a>,
        carried: Option<Carried>,
    ) -> Accumulator<'a> {
        let mut accumulator = Accumulator::new(spec, view);
        if let Some(Carried(state)) = carried {
            accumulator.state = state;
        }
        accumulator
    }

    /// The state, unbound from this segment (for an aggregator that [`Self::carries`]).
    pub(crate) fn suspend(self) -> Carried {
        Carried(self.state)
    }

    /// The (intermediate) value of a slot.
    pub(crate) fn value(&self, slot: usize) -> AggValue {
        match &self.state {
            State::Pick { rows, .. } if rows[slot] == NO_ROW => AggValue::Null,
            State::Sketch(sketches) => sketches.value(slot, &self.input),
            State::Pick { pick, times, rows } => {
                let value = self.picked_value(rows[slot] as usize);
                match pick {
                    Pick::Any => value,
                    Pick::First | Pick::Last => AggValue::Timed(times[slot], Box::new(value)),
                }
            }
            plain => plain.plain_value(slot).unwrap_or(AggValue::Null),
        }
    }

    /// The value of a picked row, in the aggregator's type.
    fn picked_value(&self, row: usize) -> AggValue {
        let AggKind::Pick(_, pick_type) = self.kind else {
            return AggValue::Null;
        };
        let value = match pick_type {
            PickType::Long => self.input.long_at(row).map(AggValue::Long),
            PickType::Double => self.input.double_at(row).map(AggValue::Double),
            PickType::Float => self
                .input
                .double_at(row)
                .map(|value| AggValue::Double(f64::from(value as f32))),
            PickType::String if !self.aggregate_multiple_values => self
                .input
                .first_string_at(row)
                .map(|text| AggValue::Str(text.chars().take(self.max_string_bytes).collect())),
            PickType::String => self.input.string_at(row).map(|text| {
                AggValue::Str(match self.kind {
                    // `stringAny` cuts to characters (`fastLooseChop`), first/last to UTF-8
                    // bytes (`StringUtils.chop`).
                    AggKind::Pick(Pick::Any, _) => {
                        text.chars().take(self.max_string_bytes).collect()
                    }
                    _ => chop(text, self.max_string_bytes),
                })
            }),
        };
        value.unwrap_or(AggValue::Null)
    }

    /// Whether adding rows cannot change the state: a sum, min, max or mean of a missing column.
    fn reads_nothing(&self) -> bool {
        matches!(self.input, Input::Missing)
            && self.inputs.is_empty()
            && !matches!(self.state, State::Count(_) | State::Pick { .. })
    }

    /// Aggregates the contiguous rows `rows` into `slot`.
    pub(crate) fn add_range(&mut self, slot: usize, rows: Range<usize>) {
        if rows.is_empty() || self.reads_nothing() {
            return;
        }
        if self.filter.is_some() {
            for row in rows {
                self.add_one(slot, row);
            }
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
            (State::Count(counts), _) if self.filter.is_none() => counts[slot] += rows.len() as i64,
            (
                State::Long {
                    op: NumericOp::Sum,
                    values,
                    seen,
                },
                Input::Longs(column, None),
            ) if self.filter.is_none() => {
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
        match (&mut self.state, &self.input) {
            (State::Count(counts), _) if self.filter.is_none() => {
                for &slot in slots {
                    counts[slot as usize] += 1;
                }
            }
            (
                State::Long {
                    op: NumericOp::Sum,
                    values,
                    seen,
                },
                Input::Longs(column, None),
            ) if self.filter.is_none() => {
                for (&row, &slot) in rows.iter().zip(slots) {
                    let slot = slot as usize;
                    values[slot] = values[slot].wrapping_add(column[row as usize]);
                    seen[slot] = true;
                }
            }
            (
                State::Double {
                    op: NumericOp::Sum,
                    values,
                    seen,
                },
                Input::Doubles(column, None),
            ) if self.filter.is_none() => {
                for (&row, &slot) in rows.iter().zip(slots) {
                    let slot = slot as usize;
                    values[slot] += column[row as usize];
                    seen[slot] = true;
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
        if let Some(filter) = &self.filter {
            if !is_set(filter, row) {
                return;
            }
        }
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
            State::Float { op, values, seen } => {
                if let Some(value) = self.input.double_at(row) {
                    values[slot] = apply_float(*op, values[slot], value as f32);
                    seen[slot] = true;
                }
            }
            State::Mean { sums, counts } => {
                if let Some(value) = self.input.mean_input_at(row) {
                    sums[slot] += value;
                    counts[slot] += 1;
                }
            }
            State::Sketch(sketches) => sketches.add(slot, &self.input, &self.inputs, row),
            State::Pick { pick, times, rows } => {
                let time = match &self.time {
                    Some(time) => match time.long_at(row) {
                        Some(time) => time,
                        // Rows without a time are skipped, as Druid's first/last aggregators do.
                        None => return,
                    },
                    None => 0,
                };
                let empty = rows[slot] == NO_ROW;
                let take = match pick {
                    Pick::First => empty || time < times[slot],
                    Pick::Last => empty || time >= times[slot],
                    Pick::Any => empty,
                };
                if take {
                    times[slot] = time;
                    rows[slot] = row as u32;
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

fn apply_float(op: NumericOp, state: f32, value: f32) -> f32 {
    match op {
        NumericOp::Sum => state + value,
        NumericOp::Min => java_min(f64::from(state), f64::from(value)) as f32,
        NumericOp::Max => java_max(f64::from(state), f64::from(value)) as f32,
    }
}

/// The value list of one slot across accumulators.
pub(crate) fn slot_values(accumulators: &[Accumulator<'_>], slot: usize) -> Vec<AggValue> {
    accumulators.iter().map(|acc| acc.value(slot)).collect()
}
