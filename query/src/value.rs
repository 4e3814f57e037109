//! [`AggValue`]: one aggregator's (partial or final) value, and how it combines and prints.
//!
//! On the wire a value is a bare JSON scalar: `null`, an integer for longs, a float for doubles
//! (serde_json always writes a fraction or exponent for `f64`, so `3.0` stays a double), and
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"` for non-finite doubles.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::model::aggregator::{AggKind, NumericOp};

/// An aggregated value. `Null` is SQL NULL: a sum, min or max over no non-null input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum AggValue {
    Null,
    Long(i64),
    Double(f64),
}

impl AggValue {
    /// The value of an aggregator that saw no rows: `0` for count, null otherwise.
    pub(crate) fn empty(kind: AggKind) -> AggValue {
        match kind {
            AggKind::Count => AggValue::Long(0),
            _ => AggValue::Null,
        }
    }

    /// Combines two partial values of an aggregator of `kind` (Druid's `AggregatorFactory.combine`).
    pub(crate) fn combine(self, other: AggValue, kind: AggKind) -> AggValue {
        let op = kind.numeric().map_or(NumericOp::Sum, |(_, op)| op);
        match (self, other) {
            (AggValue::Null, value) | (value, AggValue::Null) => value,
            (AggValue::Long(left), AggValue::Long(right)) => AggValue::Long(match op {
                NumericOp::Sum => left.wrapping_add(right),
                NumericOp::Min => left.min(right),
                NumericOp::Max => left.max(right),
            }),
            (left, right) => {
                let (left, right) = (left.as_f64(), right.as_f64());
                AggValue::Double(match op {
                    NumericOp::Sum => left + right,
                    NumericOp::Min => java_min(left, right),
                    NumericOp::Max => java_max(left, right),
                })
            }
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            AggValue::Null => 0.0,
            AggValue::Long(value) => value as f64,
            AggValue::Double(value) => value,
        }
    }

    /// The response JSON: an integer, a float (`1.0`), or `null`. Non-finite doubles, which
    /// Jackson would print as bare `NaN`/`Infinity` tokens, become `null`.
    pub(crate) fn to_json(self) -> Value {
        match self {
            AggValue::Null => Value::Null,
            AggValue::Long(value) => Value::from(value),
            AggValue::Double(value) => {
                serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
            }
        }
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

impl Serialize for AggValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            AggValue::Null => serializer.serialize_none(),
            AggValue::Long(value) => serializer.serialize_i64(value),
            AggValue::Double(value) if value.is_finite() => serializer.serialize_f64(value),
            AggValue::Double(value) if value.is_nan() => serializer.serialize_str("NaN"),
            AggValue::Double(value) if value > 0.0 => serializer.serialize_str("Infinity"),
            AggValue::Double(_) => serializer.serialize_str("-Infinity"),
        }
    }
}

impl<'de> Deserialize<'de> for AggValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AggValue, D::Error> {
        deserializer.deserialize_any(AggValueVisitor)
    }
}

struct AggValueVisitor;

impl Visitor<'_> for AggValueVisitor {
    type Value = AggValue;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("null, an integer, a float, or NaN/Infinity/-Infinity")
    }

    fn visit_unit<E: de::Error>(self) -> Result<AggValue, E> {
        Ok(AggValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<AggValue, E> {
        Ok(AggValue::Null)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<AggValue, E> {
        Ok(AggValue::Long(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<AggValue, E> {
        i64::try_from(value)
            .map(AggValue::Long)
            .map_err(|_| E::custom(format!("long value {value} out of range")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<AggValue, E> {
        Ok(AggValue::Double(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<AggValue, E> {
        match value {
            "NaN" => Ok(AggValue::Double(f64::NAN)),
            "Infinity" => Ok(AggValue::Double(f64::INFINITY)),
            "-Infinity" => Ok(AggValue::Double(f64::NEG_INFINITY)),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_exactly() {
        let values = vec![
            AggValue::Null,
            AggValue::Long(i64::MIN),
            AggValue::Long(3),
            AggValue::Double(3.0),
            AggValue::Double(0.1 + 0.2),
            AggValue::Double(-0.0),
            AggValue::Double(1e300),
            AggValue::Double(f64::MIN_POSITIVE / 3.0),
            AggValue::Double(f64::INFINITY),
            AggValue::Double(f64::NEG_INFINITY),
        ];
        let text = serde_json::to_string(&values).unwrap();
        let back: Vec<AggValue> = serde_json::from_str(&text).unwrap();
        for (before, after) in values.iter().zip(&back) {
            match (before, after) {
                (AggValue::Double(left), AggValue::Double(right)) => {
                    assert_eq!(left.to_bits(), right.to_bits())
                }
                _ => assert_eq!(before, after),
            }
        }
        let nan: AggValue = serde_json::from_str("\"NaN\"").unwrap();
        assert!(matches!(nan, AggValue::Double(value) if value.is_nan()));
    }

    #[test]
    fn combine_ignores_nulls() {
        let sum = AggValue::Null.combine(AggValue::Long(2), AggKind::LongSum);
        assert_eq!(
            sum.combine(AggValue::Long(3), AggKind::LongSum),
            AggValue::Long(5)
        );
        assert_eq!(
            AggValue::Double(1.5).combine(AggValue::Double(-2.0), AggKind::DoubleMin),
            AggValue::Double(-2.0)
        );
        assert_eq!(
            AggValue::Null.combine(AggValue::Null, AggKind::DoubleMax),
            AggValue::Null
        );
        assert_eq!(
            AggValue::Double(9385573.0).to_json().to_string(),
            "9385573.0"
        );
    }
}
