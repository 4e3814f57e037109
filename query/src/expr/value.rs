//! [`Eval`]: one expression value (Druid's `ExprEval`) with its conversions: strings become
//! numbers when they parse as a long or a double (else a numeric null), numbers print as
//! Java does, and truthiness follows `Evals.asBoolean` (a number is true when positive, a
//! string when it is `true` in any case, null never).

use std::sync::Arc;

use crate::filter::java_double_string;
use crate::order::parse_decimal;

/// A typed expression value; nulls carry no type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Eval {
    Null,
    Long(i64),
    Double(f64),
    Str(Arc<str>),
}

impl Eval {
    /// A string value.
    pub(crate) fn string(text: impl Into<Arc<str>>) -> Eval {
        Eval::Str(text.into())
    }

    /// A boolean as Druid's long 1/0.
    pub(crate) fn boolean(value: bool) -> Eval {
        Eval::Long(i64::from(value))
    }

    /// An optional string: `None` is null.
    pub(crate) fn from_opt_str(text: Option<&str>) -> Eval {
        text.map_or(Eval::Null, Eval::string)
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Eval::Null)
    }

    /// The value as a long: doubles truncate (Java's cast), strings parse (`None` when not a
    /// number).
    pub(crate) fn as_long(&self) -> Option<i64> {
        match self {
            Eval::Null => None,
            Eval::Long(value) => Some(*value),
            Eval::Double(value) => Some(*value as i64),
            Eval::Str(text) => parse_number(text).map(|number| match number {
                Number::Long(value) => value,
                Number::Double(value) => value as i64,
            }),
        }
    }

    /// The value as a double (`None` for null and non-numeric strings).
    pub(crate) fn as_double(&self) -> Option<f64> {
        match self {
            Eval::Null => None,
            Eval::Long(value) => Some(*value as f64),
            Eval::Double(value) => Some(*value),
            Eval::Str(text) => parse_number(text).map(|number| match number {
                Number::Long(value) => value as f64,
                Number::Double(value) => value,
            }),
        }
    }

    /// The value as text: longs in decimal, doubles as Java's `Double.toString`.
    pub(crate) fn as_string(&self) -> Option<Arc<str>> {
        match self {
            Eval::Null => None,
            Eval::Long(value) => Some(value.to_string().into()),
            Eval::Double(value) => Some(java_double_string(*value).into()),
            Eval::Str(text) => Some(text.clone()),
        }
    }

    /// Druid's `asBoolean`: positive numbers, and strings equal to `true` ignoring case.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Eval::Null => false,
            Eval::Long(value) => *value > 0,
            Eval::Double(value) => *value > 0.0,
            Eval::Str(text) => text.eq_ignore_ascii_case("true"),
        }
    }

    /// The value cast to long (`cast(x, 'LONG')`): null when it is not a number.
    pub(crate) fn cast_long(&self) -> Eval {
        self.as_long().map_or(Eval::Null, Eval::Long)
    }

    /// The value cast to double.
    pub(crate) fn cast_double(&self) -> Eval {
        self.as_double().map_or(Eval::Null, Eval::Double)
    }

    /// The value cast to string.
    pub(crate) fn cast_string(&self) -> Eval {
        self.as_string().map_or(Eval::Null, Eval::Str)
    }
}

/// A string parsed as a number: a long when it is one, else a double.
pub(crate) enum Number {
    Long(i64),
    Double(f64),
}

/// Druid's `ExprEval.computeNumber`: a long if the text is one, else a double, else `None`.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    let text = text.trim();
    if let Ok(value) = text.parse::<i64>() {
        return Some(Number::Long(value));
    }
    match text {
        "NaN" => return Some(Number::Double(f64::NAN)),
        "Infinity" | "+Infinity" => return Some(Number::Double(f64::INFINITY)),
        "-Infinity" => return Some(Number::Double(f64::NEG_INFINITY)),
        _ => {}
    }
    parse_decimal(text).map(Number::Double)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_druid() {
        assert_eq!(Eval::string("12").as_long(), Some(12));
        assert_eq!(Eval::string("3.7").as_long(), Some(3));
        assert_eq!(Eval::string("x").as_double(), None);
        assert_eq!(Eval::Double(-2.9).as_long(), Some(-2));
        assert_eq!(Eval::Double(1e7).as_string().as_deref(), Some("1.0E7"));
        assert!(Eval::string("TRUE").truthy());
        assert!(!Eval::string("1").truthy());
        assert!(!Eval::Long(-1).truthy());
        assert!(Eval::Double(0.5).truthy());
        assert!(!Eval::Null.truthy());
    }
}
