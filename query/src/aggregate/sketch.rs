//! Sketch aggregator state: one sketch per slot ([`SketchSlots`]), fed row by row: raw
//! values are hashed (strings from the dictionary, numbers as numbers), sketch columns of the
//! aggregator's family are merged, and `cardinality` hashes each field's value (or, `byRow`,
//! the row's tuple of values).
//!
//! Strings are handled by dictionary id: HLL aggregators hash each dictionary value once per
//! segment ([`Coupons`]) and add the hash for every row; theta aggregators collect the
//! ids a slot saw and hash each distinct value once, when the slot's value is read.

use henge_segment::sketch::{HllCoupon, SketchAccumulator, SketchFamily};
use roaring::RoaringBitmap;

use super::input::Input;
use crate::model::aggregator::{AggKind, SketchAgg, SketchOp};
use crate::value::AggValue;

/// The sketches of one aggregator, one per slot.
pub(super) struct SketchSlots {
    agg: SketchAgg,
    slots: Vec<Option<SketchAccumulator>>,
    /// HLL hashes of string inputs by dictionary id.
    coupons: Coupons,
    /// Theta over a string column: the dictionary ids each slot saw (`None` otherwise).
    ids: Option<Vec<RoaringBitmap>>,
}

impl SketchSlots {
    pub(super) fn new(agg: SketchAgg) -> SketchSlots {
        SketchSlots {
            agg,
            slots: Vec::new(),
            coupons: Coupons::default(),
            ids: None,
        }
    }

    /// Prepares the per-segment caches for these inputs.
    pub(super) fn bind(&mut self, input: &Input<'_>, inputs: &[Input<'_>]) {
        self.coupons = Coupons::for_inputs(&self.agg, input, inputs);
        let theta_strings = self.agg.op == SketchOp::Theta && matches!(input, Input::Strings(..));
        self.ids = theta_strings.then(Vec::new);
    }

    pub(super) fn clear(&mut self) {
        self.slots.clear();
        if let Some(ids) = &mut self.ids {
            ids.clear();
        }
    }

    pub(super) fn push_slot(&mut self) {
        self.slots.push(None);
        if let Some(ids) = &mut self.ids {
            ids.push(RoaringBitmap::new());
        }
    }

    /// The sketch of a slot (an empty one when it saw no rows).
    pub(super) fn value(&self, slot: usize, input: &Input<'_>) -> AggValue {
        let seen = match (&self.ids, input) {
            (Some(ids), Input::Strings(column, _)) if !ids[slot].is_empty() => {
                Some((&ids[slot], column))
            }
            _ => None,
        };
        match (&self.slots[slot], seen) {
            (Some(sketch), None) => AggValue::Sketch(Box::new(sketch.finish())),
            (None, None) => AggValue::empty(AggKind::Sketch(self.agg)),
            (sketch, Some((ids, column))) => {
                let Ok(mut all) = SketchAccumulator::new(self.agg.spec) else {
                    return AggValue::Null;
                };
                if let Some(sketch) = sketch {
                    all.merge(&sketch.finish());
                }
                for id in ids {
                    if let Some(text) = column.value(id) {
                        all.update_str(text);
                    }
                }
                AggValue::Sketch(Box::new(all.finish()))
            }
        }
    }

    /// Adds row `row` to `slot`.
    pub(super) fn add(&mut self, slot: usize, input: &Input<'_>, inputs: &[Input<'_>], row: usize) {
        if let (Some(ids), Input::Strings(column, _)) = (&mut self.ids, input) {
            ids[slot].insert(column.row_id(row));
            return;
        }
        add(
            &self.agg,
            &mut self.slots[slot],
            &self.coupons,
            input,
            inputs,
            row,
        );
    }
}

/// Per input (`input`, then the `cardinality` fields), the HLL hash of each dictionary id
/// (`None`: the null or empty value, nothing to add); empty for inputs that are not strings or
/// aggregators that are not HLL. Computed for the whole dictionary when bound: one pass in
/// dictionary order costs less than a cache miss per id in row order, and a dictionary has
/// no more values than its segment has rows.
#[derive(Default)]
struct Coupons {
    by_input: Vec<Vec<Option<HllCoupon>>>,
}

impl Coupons {
    fn for_inputs(agg: &SketchAgg, input: &Input<'_>, inputs: &[Input<'_>]) -> Coupons {
        let hashes_strings = agg.spec.family() == SketchFamily::Hll
            && !matches!(agg.op, SketchOp::Cardinality { by_row: true });
        let table = |input: &Input<'_>| match input {
            Input::Strings(column, _) if hashes_strings => (0..column.cardinality() as u32)
                .map(|id| column.value_bytes(id).and_then(HllCoupon::of_utf8))
                .collect(),
            _ => Vec::new(),
        };
        Coupons {
            by_input: std::iter::once(input).chain(inputs).map(table).collect(),
        }
    }

    /// Adds the string of `row` in `input` (number `index`) through the table, if it has one;
    /// false when the caller must add the value itself.
    fn add(
        &self,
        index: usize,
        input: &Input<'_>,
        sketch: &mut SketchAccumulator,
        row: usize,
    ) -> bool {
        let (Input::Strings(column, _), Some(table)) = (input, self.by_input.get(index)) else {
            return false;
        };
        if table.is_empty() {
            return false;
        }
        if let Some(coupon) = table[column.row_id(row) as usize] {
            sketch.update_coupon(coupon);
        }
        true
    }
}

/// Adds row `row` to `slot` (creating its sketch on first use).
fn add(
    agg: &SketchAgg,
    slot: &mut Option<SketchAccumulator>,
    coupons: &Coupons,
    input: &Input<'_>,
    inputs: &[Input<'_>],
    row: usize,
) {
    let sketch = match slot {
        Some(sketch) => sketch,
        None => match SketchAccumulator::new(agg.spec) {
            Ok(sketch) => slot.insert(sketch),
            // Parameters are validated when the query is parsed.
            Err(_) => return,
        },
    };
    match agg.op {
        SketchOp::Cardinality { by_row: false } => {
            for (index, input) in inputs.iter().enumerate() {
                if !coupons.add(index + 1, input, sketch, row) {
                    add_value(agg, sketch, input, row);
                }
            }
        }
        SketchOp::Cardinality { by_row: true } => add_tuple(sketch, inputs, row),
        _ => {
            if !coupons.add(0, input, sketch, row) {
                add_value(agg, sketch, input, row);
            }
        }
    }
}

fn add_value(agg: &SketchAgg, sketch: &mut SketchAccumulator, input: &Input<'_>, row: usize) {
    match input {
        Input::Strings(column, numbers) => {
            let id = column.row_id(row);
            if agg.op == SketchOp::Quantiles {
                if let Some(number) = numbers.get(column, id) {
                    sketch.update_double(number);
                }
            } else if let Some(text) = column.value(id) {
                sketch.update_str(text);
            }
        }
        Input::Complex(column) => {
            if agg.merges(henge_segment::ColumnType::Complex(column.kind())) {
                if let Some(bytes) = column.get(row) {
                    // Segments are checksummed, so only a foreign writer's bytes could fail.
                    let _ = sketch.merge_bytes(bytes);
                }
            }
        }
        Input::Longs(..) => {
            if let Some(long) = input.long_at(row) {
                sketch.update_long(long);
            }
        }
        Input::Doubles(..) => {
            if let Some(double) = input.double_at(row) {
                sketch.update_double(double);
            }
        }
        Input::Missing => {}
    }
}

/// `byRow`: the fields' values of one row joined by `\u{1}` (null as empty), hashed as one
/// string; a row whose fields are all null is skipped.
fn add_tuple(sketch: &mut SketchAccumulator, inputs: &[Input<'_>], row: usize) {
    let mut tuple = String::new();
    let mut any = false;
    for (index, input) in inputs.iter().enumerate() {
        if index > 0 {
            tuple.push('\u{1}');
        }
        let value = match input {
            Input::Strings(column, _) => column.value(column.row_id(row)).map(str::to_owned),
            other => other.string_at(row),
        };
        if let Some(value) = value {
            any = true;
            tuple.push_str(&value);
        }
    }
    if any {
        sketch.update_str(&tuple);
    }
}
