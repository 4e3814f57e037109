//! Feeding one row into a slot's sketch: raw values are hashed (strings from the dictionary,
//! numbers as numbers), sketch columns of the aggregator's family are merged, and
//! `cardinality` hashes each field's value (or, `byRow`, the row's tuple of values).
//!
//! HLL aggregators over string columns hash each dictionary value once per segment
//! ([`Coupons`]) and add the cached hash for every row, so the per-row work is an id lookup
//! and a register update.

use henge_segment::sketch::{HllCoupon, SketchAccumulator, SketchFamily};

use super::input::Input;
use crate::model::aggregator::{SketchAgg, SketchOp};

/// A dictionary id's cached HLL hash.
#[derive(Clone, Copy)]
enum Coupon {
    Unknown,
    /// The null or empty value: nothing to add.
    Nothing,
    Known(HllCoupon),
}

/// Per input (`input`, then the `cardinality` fields), the cached hash of each dictionary id;
/// empty for inputs that are not strings or aggregators that are not HLL.
#[derive(Default)]
pub(super) struct Coupons {
    by_input: Vec<Vec<Coupon>>,
}

impl Coupons {
    pub(super) fn for_inputs(agg: &SketchAgg, input: &Input<'_>, inputs: &[Input<'_>]) -> Coupons {
        let hashes_strings = agg.spec.family() == SketchFamily::Hll
            && !matches!(agg.op, SketchOp::Cardinality { by_row: true });
        let table = |input: &Input<'_>| match input {
            Input::Strings(column, _) if hashes_strings => {
                vec![Coupon::Unknown; column.cardinality()]
            }
            _ => Vec::new(),
        };
        Coupons {
            by_input: std::iter::once(input).chain(inputs).map(table).collect(),
        }
    }

    /// Adds the string of `row` in `input` (number `index`) through the cache, if it has one;
    /// false when the caller must add the value itself.
    fn add(
        &mut self,
        index: usize,
        input: &Input<'_>,
        sketch: &mut SketchAccumulator,
        row: usize,
    ) -> bool {
        let (Input::Strings(column, _), Some(table)) = (input, self.by_input.get_mut(index)) else {
            return false;
        };
        if table.is_empty() {
            return false;
        }
        let id = column.row_id(row);
        let coupon = &mut table[id as usize];
        if let Coupon::Unknown = coupon {
            *coupon = column
                .value(id)
                .and_then(HllCoupon::of_str)
                .map_or(Coupon::Nothing, Coupon::Known);
        }
        if let Coupon::Known(coupon) = *coupon {
            sketch.update_coupon(coupon);
        }
        true
    }
}

/// Adds row `row` to `slot` (creating its sketch on first use).
pub(super) fn add(
    agg: &SketchAgg,
    slot: &mut Option<SketchAccumulator>,
    coupons: &mut Coupons,
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
        Input::Strings(column, parsed) => {
            let id = column.row_id(row);
            if agg.op == SketchOp::Quantiles {
                if let Some(number) = parsed[id as usize] {
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
