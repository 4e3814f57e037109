//! Leaf filters as one predicate over non-null values (`in`, `bound`, or a text pattern),
//! with its tests of long, double and string values and what null rows give.

use crate::model::filter::text::{LikePattern, RegexPattern, SearchQuery};
use crate::model::filter::StringOrdering;
use crate::order::{compare_strings, parse_decimal};

/// What null rows give: TRUE (`in` listing null, a legacy bound without a lower end) or
/// UNKNOWN (a null compared with a value).
#[derive(Clone, Copy)]
pub(super) enum NullResult {
    True,
    Unknown,
}

/// The bounds of a `bound`, `range` or `interval` filter.
pub(super) struct Bound {
    pub(super) lower: Option<String>,
    pub(super) upper: Option<String>,
    pub(super) lower_strict: bool,
    pub(super) upper_strict: bool,
    pub(super) ordering: StringOrdering,
    pub(super) nulls_match: bool,
}

impl Bound {
    /// Whether `value` lies within the bounds under the string `ordering`.
    pub(super) fn contains_str(&self, value: &str) -> bool {
        self.contains_by(|bound| compare_strings(self.ordering, value, bound))
    }

    fn contains_by(&self, compare_to: impl Fn(&str) -> std::cmp::Ordering) -> bool {
        let above_lower = self.lower.as_deref().is_none_or(|lower| {
            let order = compare_to(lower);
            order.is_gt() || (order.is_eq() && !self.lower_strict)
        });
        let below_upper = self.upper.as_deref().is_none_or(|upper| {
            let order = compare_to(upper);
            order.is_lt() || (order.is_eq() && !self.upper_strict)
        });
        above_lower && below_upper
    }

    /// A test of numbers against the bounds (parsed once); an unparseable bound matches
    /// nothing, as Druid's numeric bound predicates do.
    fn number_test(&self) -> Box<dyn Fn(f64) -> bool + '_> {
        let parse = |bound: &Option<String>| bound.as_deref().map(parse_decimal);
        let (lower, upper) = (parse(&self.lower), parse(&self.upper));
        if matches!(lower, Some(None)) || matches!(upper, Some(None)) {
            return Box::new(|_| false);
        }
        let (lower, upper) = (lower.flatten(), upper.flatten());
        let (lower_strict, upper_strict) = (self.lower_strict, self.upper_strict);
        Box::new(move |value| {
            let above =
                lower.is_none_or(|lower| value > lower || (value == lower && !lower_strict));
            let below =
                upper.is_none_or(|upper| value < upper || (value == upper && !upper_strict));
            above && below
        })
    }
}

pub(super) enum Predicate<'f> {
    /// Equal to one of the values (`None` = null).
    In(Vec<Option<String>>),
    Bound(Bound),
    /// A text pattern, tested on string values and on the string form of numbers.
    Text(TextMatcher<'f>),
}

/// The pattern of a `like`, `regex` or `search` filter.
#[derive(Clone, Copy)]
pub(super) enum TextMatcher<'f> {
    Like(&'f LikePattern),
    Regex(&'f RegexPattern),
    Search(&'f SearchQuery),
}

impl TextMatcher<'_> {
    pub(super) fn matches(self, value: &str) -> bool {
        match self {
            TextMatcher::Like(pattern) => pattern.matches(value),
            TextMatcher::Regex(pattern) => pattern.matches(value),
            TextMatcher::Search(query) => query.matches(value),
        }
    }
}

impl Predicate<'_> {
    /// Whether null rows match: `in` listing null, or a legacy `bound` without a lower bound
    /// (Druid keeps this "sad backwards compatible behavior" in `BoundFilter.doesMatchNull`).
    pub(super) fn matches_null(&self) -> bool {
        match self {
            Predicate::In(values) => values.iter().any(Option::is_none),
            Predicate::Bound(bound) => bound.nulls_match,
            Predicate::Text(_) => false,
        }
    }

    /// A test of one non-null string value.
    pub(super) fn string_test(&self, value: &str) -> bool {
        match self {
            Predicate::In(values) => values.iter().flatten().any(|target| target == value),
            Predicate::Bound(bound) => bound.contains_str(value),
            Predicate::Text(matcher) => matcher.matches(value),
        }
    }

    /// A test of long values, with the match values parsed once.
    pub(super) fn long_test(&self) -> Box<dyn Fn(i64) -> bool + '_> {
        match self {
            Predicate::In(values) => {
                let targets: Vec<i64> = values
                    .iter()
                    .flatten()
                    .filter_map(|v| exact_long(v))
                    .collect();
                Box::new(move |value| targets.contains(&value))
            }
            Predicate::Bound(bound) => match bound.ordering {
                StringOrdering::Numeric => {
                    let test = bound.number_test();
                    Box::new(move |value| test(value as f64))
                }
                _ => Box::new(move |value| bound.contains_str(&value.to_string())),
            },
            Predicate::Text(matcher) => {
                let matcher = *matcher;
                Box::new(move |value| matcher.matches(&value.to_string()))
            }
        }
    }

    /// A test of double values, with the match values parsed once.
    pub(super) fn double_test(&self) -> Box<dyn Fn(f64) -> bool + '_> {
        match self {
            Predicate::In(values) => {
                let targets: Vec<f64> = values
                    .iter()
                    .flatten()
                    .filter_map(|v| parse_decimal(v))
                    .collect();
                Box::new(move |value| targets.contains(&value))
            }
            Predicate::Bound(bound) => match bound.ordering {
                StringOrdering::Numeric => bound.number_test(),
                _ => Box::new(move |value| bound.contains_str(&java_double_string(value))),
            },
            Predicate::Text(matcher) => {
                let matcher = *matcher;
                Box::new(move |value| matcher.matches(&java_double_string(value)))
            }
        }
    }
}

/// A match value as an exact long (`DimensionHandlerUtils.getExactLongFromDecimalString`):
/// `"3"` and `"3.0"` are 3, `"3.5"` is not a long.
pub(crate) fn exact_long(text: &str) -> Option<i64> {
    if let Ok(value) = text.parse::<i64>() {
        return Some(value);
    }
    let value = parse_decimal(text)?;
    let in_range = value >= i64::MIN as f64 && value < i64::MAX as f64;
    (value.fract() == 0.0 && in_range).then_some(value as i64)
}

/// Java's `Double.toString`: plain between 1e-3 and 1e7, computerized scientific notation
/// (`1.0E7`) outside, always with a fractional digit.
pub(crate) fn java_double_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let plain = format!("{value}");
        return if plain.contains('.') {
            plain
        } else {
            plain + ".0"
        };
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("LowerExp output has an exponent");
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_strings() {
        assert_eq!(java_double_string(1.0), "1.0");
        assert_eq!(java_double_string(0.001), "0.001");
        assert_eq!(java_double_string(1234567.5), "1234567.5");
        assert_eq!(java_double_string(1e7), "1.0E7");
        assert_eq!(java_double_string(1.5e-5), "1.5E-5");
        assert_eq!(java_double_string(-0.0), "-0.0");
    }

    #[test]
    fn exact_longs() {
        assert_eq!(exact_long("3"), Some(3));
        assert_eq!(exact_long("3.0"), Some(3));
        assert_eq!(exact_long("1e3"), Some(1000));
        assert_eq!(exact_long("3.5"), None);
        assert_eq!(exact_long("x"), None);
    }
}
