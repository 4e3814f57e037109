//! Dimension output values (`docs/querying/dimensionspecs.md`, "Output Types"): how a grouped
//! value is rendered for a dimension spec's `outputType`, compared and printed.
//!
//! Partial results carry every dimension value as an optional string: the value itself for
//! `STRING` outputs, and for numeric outputs a canonical text that parses back exactly (`i64`
//! decimal for `LONG`, Rust's shortest round-trip `f64` text for `FLOAT` and `DOUBLE`). The
//! response prints numeric outputs as JSON numbers (floats as Java prints a `float`).

use std::cmp::Ordering;

use serde_json::Value;

use crate::extract::apply_all;
use crate::filter::{exact_long, java_double_string};
use crate::model::dimension::{DimensionSpec, OutputType};
use crate::order::parse_decimal;
use crate::value::float_json;

/// One input value of a dimension, before conversion to the output type.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RawValue<'v> {
    Null,
    Long(i64),
    Double(f64),
    Str(&'v str),
}

impl RawValue<'_> {
    /// The value as Druid hands it to string functions (`String.valueOf` for numbers).
    pub(crate) fn as_string(&self) -> Option<String> {
        match self {
            RawValue::Null => None,
            RawValue::Long(value) => Some(value.to_string()),
            RawValue::Double(value) => Some(java_double_string(*value)),
            RawValue::Str(text) => Some((*text).to_owned()),
        }
    }
}

/// Converts a value to the output type (Druid's `DimensionHandlerUtils.convertObjectToType`):
/// strings become numbers only when they parse (a `LONG` needs an exact integer), doubles
/// truncate to longs; anything else is null.
pub(crate) fn render(output: OutputType, value: RawValue<'_>) -> Option<String> {
    match output {
        OutputType::String => value.as_string(),
        OutputType::Long => match value {
            RawValue::Null => None,
            RawValue::Long(value) => Some(value),
            RawValue::Double(value) => Some(value as i64),
            RawValue::Str(text) => exact_long(text.trim()),
        }
        .map(|value| value.to_string()),
        OutputType::Double | OutputType::Float => {
            let number = match value {
                RawValue::Null => None,
                RawValue::Long(value) => Some(value as f64),
                RawValue::Double(value) => Some(value),
                RawValue::Str(text) => parse_decimal(text.trim()),
            }?;
            let number = if output == OutputType::Float {
                f64::from(number as f32)
            } else {
                number
            };
            Some(format!("{number:?}"))
        }
    }
}

/// A value's output for a dimension spec: its transforms (extraction functions, value
/// filters) then the conversion to the output type.
pub(crate) fn render_for(spec: &DimensionSpec, value: RawValue<'_>) -> Option<String> {
    if spec.transforms.is_empty() {
        return render(spec.output_type, value);
    }
    let transformed = apply_all(&spec.transforms, value);
    let value = transformed.as_deref().map_or(RawValue::Null, RawValue::Str);
    render(spec.output_type, value)
}

/// Compares two rendered values of one output type, nulls first: strings lexicographically,
/// numbers by value.
pub(crate) fn compare_outputs(
    output: OutputType,
    left: Option<&str>,
    right: Option<&str>,
) -> Ordering {
    let (Some(left), Some(right)) = (left, right) else {
        return left.is_some().cmp(&right.is_some());
    };
    match output {
        OutputType::String => left.cmp(right),
        OutputType::Long => long_of(left).cmp(&long_of(right)),
        OutputType::Double | OutputType::Float => double_of(left).total_cmp(&double_of(right)),
    }
}

/// The response JSON of a rendered value.
pub(crate) fn output_json(output: OutputType, value: Option<String>) -> Value {
    let Some(text) = value else {
        return Value::Null;
    };
    match output {
        OutputType::String => Value::String(text),
        OutputType::Long => Value::from(long_of(&text)),
        OutputType::Double => {
            serde_json::Number::from_f64(double_of(&text)).map_or(Value::Null, Value::Number)
        }
        OutputType::Float => float_json(double_of(&text)),
    }
}

fn long_of(text: &str) -> i64 {
    text.parse().unwrap_or_default()
}

fn double_of(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_druid() {
        assert_eq!(
            render(OutputType::String, RawValue::Long(10)).unwrap(),
            "10"
        );
        assert_eq!(
            render(OutputType::String, RawValue::Double(1e7)).unwrap(),
            "1.0E7"
        );
        assert_eq!(
            render(OutputType::Long, RawValue::Double(-1.7)).unwrap(),
            "-1"
        );
        assert_eq!(render(OutputType::Long, RawValue::Str("3.0")).unwrap(), "3");
        assert_eq!(render(OutputType::Long, RawValue::Str("3.5")), None);
        assert_eq!(
            render(OutputType::Double, RawValue::Long(2)).unwrap(),
            "2.0"
        );
        let float = render(OutputType::Float, RawValue::Double(0.1)).unwrap();
        assert_eq!(
            output_json(OutputType::Float, Some(float)).to_string(),
            "0.1"
        );
        assert_eq!(
            output_json(OutputType::Double, Some("2.0".into())).to_string(),
            "2.0"
        );
    }

    #[test]
    fn numeric_outputs_compare_by_value() {
        let order = compare_outputs(OutputType::Long, Some("10"), Some("9"));
        assert_eq!(order, Ordering::Greater);
        let order = compare_outputs(OutputType::String, Some("10"), Some("9"));
        assert_eq!(order, Ordering::Less);
        let order = compare_outputs(OutputType::Double, None, Some("-1.0"));
        assert_eq!(order, Ordering::Less);
    }
}
