//! [`AggValue`]: one aggregator's (partial or final) value, how it combines, finalizes and
//! prints. The wire form is in [`wire`].

mod wire;

use std::cmp::Ordering;

use base64::prelude::{Engine, BASE64_STANDARD};
use henge_segment::sketch::SketchValue;
use serde_json::Value;

use crate::model::aggregator::{AggKind, NumType, NumericOp, Pick, PickType, SketchAgg};

/// An aggregated value. `Null` is SQL NULL: a sum, min or max over no non-null input, or a
/// first/last/any aggregator that saw no rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AggValue {
    Null,
    Long(i64),
    Double(f64),
    Str(String),
    /// A first/last intermediate: the time of the picked row and its value (maybe `Null`).
    Timed(i64, Box<AggValue>),
    /// A `doubleMean` intermediate (Druid's `DoubleMeanHolder`).
    Mean {
        sum: f64,
        count: i64,
    },
    /// A sketch: the intermediate value of an approximate aggregator, or a sketch
    /// post-aggregator's result.
    Sketch(Box<SketchValue>),
    /// A list of doubles (quantiles, CDF and histogram post-aggregators).
    Doubles(Vec<f64>),
}

impl AggValue {
    /// The value of an aggregator that saw no rows: `0` for count, an empty mean holder for
    /// `doubleMean`, null otherwise.
    pub(crate) fn empty(kind: AggKind) -> AggValue {
        match kind {
            AggKind::Count => AggValue::Long(0),
            AggKind::DoubleMean => AggValue::Mean { sum: 0.0, count: 0 },
            // An empty sketch: its estimate (or count) is 0, as Druid's over no rows.
            AggKind::Sketch(sketch) => henge_segment::sketch::SketchAccumulator::new(sketch.spec)
                .map_or(AggValue::Null, |empty| {
                    AggValue::Sketch(Box::new(empty.finish()))
                }),
            _ => AggValue::Null,
        }
    }

    /// Combines two partial values of an aggregator of `kind` (Druid's `AggregatorFactory.combine`).
    pub(crate) fn combine(self, other: AggValue, kind: AggKind) -> AggValue {
        match (self, other) {
            (AggValue::Null, value) | (value, AggValue::Null) => value,
            (
                AggValue::Mean { sum, count },
                AggValue::Mean {
                    sum: more,
                    count: others,
                },
            ) => AggValue::Mean {
                sum: sum + more,
                count: count + others,
            },
            (AggValue::Sketch(left), AggValue::Sketch(right)) => match kind {
                AggKind::Sketch(sketch) => {
                    AggValue::Sketch(Box::new(left.combine(&right, sketch.spec)))
                }
                _ => AggValue::Sketch(left),
            },
            (AggValue::Timed(left, left_value), AggValue::Timed(right, right_value)) => {
                let take_right = match kind {
                    AggKind::Pick(Pick::Last, _) => right >= left,
                    _ => right < left,
                };
                if take_right {
                    AggValue::Timed(right, right_value)
                } else {
                    AggValue::Timed(left, left_value)
                }
            }
            // `any` keeps either value; the smaller one, so merges do not depend on order.
            (left, right) if matches!(kind, AggKind::Pick(..)) => {
                if compare_values(&right, &left).is_lt() {
                    right
                } else {
                    left
                }
            }
            (left, right) => combine_numbers(&left, &right, kind),
        }
    }

    fn as_f64(&self) -> f64 {
        match self {
            AggValue::Long(value) => *value as f64,
            AggValue::Double(value) => *value,
            _ => 0.0,
        }
    }

    /// A number as `f64` (`None` for nulls, strings and holders).
    pub(crate) fn number(&self) -> Option<f64> {
        match self {
            AggValue::Long(value) => Some(*value as f64),
            AggValue::Double(value) => Some(*value),
            _ => None,
        }
    }

    /// The finalized value of an intermediate one (Druid's `finalizeComputation`): the mean of a
    /// holder, the value of a (time, value) pair.
    pub(crate) fn finalized(&self) -> AggValue {
        match self {
            AggValue::Mean { sum, count } => AggValue::Double(if *count == 0 {
                0.0
            } else {
                sum / *count as f64
            }),
            AggValue::Timed(_, value) => value.finalized(),
            AggValue::Sketch(sketch) => match sketch.count() {
                Some(count) => AggValue::Long(count as i64),
                None => AggValue::Double(sketch.estimate()),
            },
            other => other.clone(),
        }
    }

    /// The finalized value of an aggregator of `kind`: like [`AggValue::finalized`], with a
    /// sketch aggregator's `round` (a long estimate) and `shouldFinalize` (false keeps the
    /// sketch).
    pub(crate) fn finalized_for(&self, kind: AggKind) -> AggValue {
        match (self, kind) {
            (
                AggValue::Sketch(_),
                AggKind::Sketch(SketchAgg {
                    should_finalize: false,
                    ..
                }),
            ) => self.clone(),
            (AggValue::Sketch(_), AggKind::Sketch(SketchAgg { round: true, .. })) => {
                match self.finalized() {
                    AggValue::Double(estimate) => AggValue::Long(estimate.round() as i64),
                    other => other,
                }
            }
            _ => self.finalized(),
        }
    }

    /// The response JSON: an integer, a float (`1.0`), a string or `null`. Non-finite
    /// doubles, which Jackson would print as bare `NaN`/`Infinity` tokens, become `null`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            AggValue::Null => Value::Null,
            AggValue::Long(value) => Value::from(*value),
            AggValue::Double(value) => {
                serde_json::Number::from_f64(*value).map_or(Value::Null, Value::Number)
            }
            AggValue::Str(text) => Value::String(text.clone()),
            AggValue::Timed(..) | AggValue::Mean { .. } => self.finalized().to_json(),
            // Druid prints a sketch as the base64 of its serialized bytes.
            AggValue::Sketch(sketch) => Value::String(BASE64_STANDARD.encode(sketch.to_bytes())),
            AggValue::Doubles(values) => Value::Array(
                values
                    .iter()
                    .map(|value| AggValue::Double(*value).to_json())
                    .collect(),
            ),
        }
    }

    /// The response JSON of a finalized value of an aggregator of `kind`: floats print as
    /// Java prints a `float` (`0.1`, not the `f64` expansion of the `f32`).
    pub(crate) fn to_json_as(&self, kind: AggKind) -> Value {
        let is_float = matches!(
            kind,
            AggKind::Numeric(NumType::Float, _) | AggKind::Pick(_, PickType::Float)
        );
        match self {
            AggValue::Double(value) if is_float => float_json(*value),
            other => other.to_json(),
        }
    }
}

/// Sum, min or max of two numbers, in the aggregator's type.
fn combine_numbers(left: &AggValue, right: &AggValue, kind: AggKind) -> AggValue {
    let (num_type, op) = match kind {
        AggKind::Numeric(num_type, op) => (num_type, op),
        _ => (NumType::Long, NumericOp::Sum),
    };
    match (left, right, num_type) {
        (AggValue::Long(left), AggValue::Long(right), _) => AggValue::Long(match op {
            NumericOp::Sum => left.wrapping_add(*right),
            NumericOp::Min => *left.min(right),
            NumericOp::Max => *left.max(right),
        }),
        (left, right, NumType::Float) => {
            let (left, right) = (left.as_f64() as f32, right.as_f64() as f32);
            AggValue::Double(f64::from(match op {
                NumericOp::Sum => left + right,
                NumericOp::Min => java_min(f64::from(left), f64::from(right)) as f32,
                NumericOp::Max => java_max(f64::from(left), f64::from(right)) as f32,
            }))
        }
        (left, right, _) => {
            let (left, right) = (left.as_f64(), right.as_f64());
            AggValue::Double(match op {
                NumericOp::Sum => left + right,
                NumericOp::Min => java_min(left, right),
                NumericOp::Max => java_max(left, right),
            })
        }
    }
}

/// A float value as Java's `Float.toString` digits (the shortest that round-trip an `f32`).
pub(crate) fn float_json(value: f64) -> Value {
    let float = value as f32;
    if !float.is_finite() {
        return Value::Null;
    }
    let shortest: f64 = float.to_string().parse().unwrap_or(value);
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// Compares values with nulls first (SQL-compatible mode); pairs and holders compare by their
/// finalized value, numbers before strings.
pub(crate) fn compare_values(left: &AggValue, right: &AggValue) -> Ordering {
    match (left, right) {
        (AggValue::Timed(..) | AggValue::Mean { .. } | AggValue::Sketch(_), _)
        | (_, AggValue::Timed(..) | AggValue::Mean { .. } | AggValue::Sketch(_)) => {
            compare_values(&left.finalized(), &right.finalized())
        }
        (AggValue::Null, AggValue::Null) => Ordering::Equal,
        (AggValue::Null, _) => Ordering::Less,
        (_, AggValue::Null) => Ordering::Greater,
        (AggValue::Long(left), AggValue::Long(right)) => left.cmp(right),
        (AggValue::Str(left), AggValue::Str(right)) => left.cmp(right),
        (AggValue::Str(_), _) => Ordering::Greater,
        (_, AggValue::Str(_)) => Ordering::Less,
        (AggValue::Doubles(left), AggValue::Doubles(right)) => left
            .iter()
            .zip(right)
            .map(|(left, right)| left.total_cmp(right))
            .find(|ordering| ordering.is_ne())
            .unwrap_or_else(|| left.len().cmp(&right.len())),
        (AggValue::Doubles(_), _) => Ordering::Greater,
        (_, AggValue::Doubles(_)) => Ordering::Less,
        (left, right) => left.as_f64().total_cmp(&right.as_f64()),
    }
}

/// `Math.min` for doubles: NaN wins, and -0.0 is smaller than 0.0.
pub(crate) fn java_min(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        f64::NAN
    } else if left == right {
        if left.is_sign_negative() {
            left
        } else {
            right
        }
    } else {
        left.min(right)
    }
}

/// `Math.max` for doubles: NaN wins, and 0.0 is larger than -0.0.
pub(crate) fn java_max(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        f64::NAN
    } else if left == right {
        if left.is_sign_positive() {
            left
        } else {
            right
        }
    } else {
        left.max(right)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG_SUM: AggKind = AggKind::Numeric(NumType::Long, NumericOp::Sum);

    #[test]
    fn combine_ignores_nulls() {
        let sum = AggValue::Null.combine(AggValue::Long(2), LONG_SUM);
        assert_eq!(sum.combine(AggValue::Long(3), LONG_SUM), AggValue::Long(5));
        let double_min = AggKind::Numeric(NumType::Double, NumericOp::Min);
        assert_eq!(
            AggValue::Double(1.5).combine(AggValue::Double(-2.0), double_min),
            AggValue::Double(-2.0)
        );
        assert_eq!(
            AggValue::Null.combine(AggValue::Null, double_min),
            AggValue::Null
        );
        assert_eq!(
            AggValue::Double(9385573.0).to_json().to_string(),
            "9385573.0"
        );
    }

    #[test]
    fn floats_sum_in_f32_and_print_like_java() {
        let float_sum = AggKind::Numeric(NumType::Float, NumericOp::Sum);
        let tenth = AggValue::Double(f64::from(0.1f32));
        let sum = tenth.clone().combine(tenth, float_sum);
        assert_eq!(sum, AggValue::Double(f64::from(0.2f32)));
        assert_eq!(sum.to_json_as(float_sum).to_string(), "0.2");
        assert_eq!(sum.to_json().to_string(), "0.20000000298023224");
    }

    #[test]
    fn pairs_keep_the_earliest_or_latest_row() {
        let first = AggKind::Pick(Pick::First, PickType::Long);
        let last = AggKind::Pick(Pick::Last, PickType::Long);
        let early = AggValue::Timed(1, Box::new(AggValue::Long(10)));
        let late = AggValue::Timed(2, Box::new(AggValue::Null));
        assert_eq!(late.clone().combine(early.clone(), first), early);
        assert_eq!(early.clone().combine(late.clone(), last), late);
        assert_eq!(early.finalized(), AggValue::Long(10));
        let mean = AggValue::Mean { sum: 3.0, count: 2 };
        assert_eq!(mean.finalized(), AggValue::Double(1.5));
        assert_eq!(
            AggValue::empty(AggKind::DoubleMean).finalized(),
            AggValue::Double(0.0)
        );
    }
}
