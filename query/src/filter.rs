//! Evaluating filters on one segment into roaring bitmaps, with SQL three-valued logic.
//!
//! Every filter yields the rows where it is TRUE and the rows where it is UNKNOWN (a null
//! compared with a value); FALSE is the rest. `not` swaps TRUE and FALSE and keeps UNKNOWN,
//! so `not(selector x = 'a')` matches neither `'a'` nor null rows, as Druid does by default
//! since 28 (`druid.generic.useThreeValueLogicForNativeFilters`, `sql-data-types.md`).
//!
//! String columns never touch rows: a selector is a dictionary lookup and one bitmap, `in` a
//! union, a `bound` a dictionary range (lexicographic) or a predicate over dictionary values
//! (numeric). Long and double columns are compared row by row over the value slice, and
//! `__time` bounds are binary searches over the sorted time column.

use std::cell::OnceCell;
use std::ops::Range;

use henge_segment::reader::Segment;
use henge_segment::{ColumnRef, NumericColumn, StringColumn};
use roaring::{MultiOps, RoaringBitmap};

use crate::model::filter::{FilterSpec, StringOrdering};
use crate::model::spec::TIME_COLUMN;
use crate::order::{compare_strings, parse_decimal};

/// The TRUE and UNKNOWN rows of a filter (disjoint, both inside the universe).
pub(crate) struct Matches {
    pub(crate) matched: RoaringBitmap,
    pub(crate) unknown: RoaringBitmap,
}

/// The rows a filter is evaluated over: the query intervals' rows of one segment. Leaf
/// filters on string columns answer for the whole segment; callers only ever read the result
/// inside these ranges, so the universe bitmap is built only when `not` or an all-null
/// column needs it.
pub(crate) struct Universe<'a> {
    ranges: &'a [Range<usize>],
    rows: OnceCell<RoaringBitmap>,
}

impl<'a> Universe<'a> {
    pub(crate) fn new(ranges: &'a [Range<usize>]) -> Universe<'a> {
        Universe {
            ranges,
            rows: OnceCell::new(),
        }
    }

    fn rows(&self) -> &RoaringBitmap {
        self.rows.get_or_init(|| {
            let mut rows = RoaringBitmap::new();
            for range in self.ranges {
                rows.insert_range(range.start as u32..range.end as u32);
            }
            rows
        })
    }
}

/// Rows of `segment` where `filter` is TRUE. Rows outside the universe may be included;
/// callers read the result only inside the universe's ranges.
pub(crate) fn evaluate(
    filter: &FilterSpec,
    segment: &Segment,
    universe: &Universe<'_>,
) -> RoaringBitmap {
    evaluate_3vl(filter, segment, universe).matched
}

fn evaluate_3vl(filter: &FilterSpec, segment: &Segment, universe: &Universe<'_>) -> Matches {
    match filter {
        FilterSpec::And(children) => {
            let results: Vec<Matches> = children
                .iter()
                .map(|child| evaluate_3vl(child, segment, universe))
                .collect();
            let matched = results.iter().map(|child| &child.matched).intersection();
            let not_false = results
                .iter()
                .map(|child| &child.matched | &child.unknown)
                .intersection();
            Matches {
                unknown: not_false - &matched,
                matched,
            }
        }
        FilterSpec::Or(children) => {
            let results: Vec<Matches> = children
                .iter()
                .map(|child| evaluate_3vl(child, segment, universe))
                .collect();
            let matched = results.iter().map(|child| &child.matched).union();
            let unknown = results.iter().map(|child| &child.unknown).union() - &matched;
            Matches { matched, unknown }
        }
        FilterSpec::Not(child) => {
            let inner = evaluate_3vl(child, segment, universe);
            let matched = universe.rows() - &(&inner.matched | &inner.unknown);
            Matches {
                matched,
                unknown: inner.unknown,
            }
        }
        leaf => evaluate_leaf(leaf, segment, universe),
    }
}

/// A leaf filter, reduced to one predicate over non-null values plus what nulls give.
fn evaluate_leaf(filter: &FilterSpec, segment: &Segment, universe: &Universe<'_>) -> Matches {
    let (dimension, predicate) = match filter {
        FilterSpec::Selector { dimension, value } => {
            (dimension, Predicate::In(vec![value.clone()]))
        }
        FilterSpec::In { dimension, values } => (dimension, Predicate::In(values.clone())),
        FilterSpec::Bound {
            dimension,
            lower,
            upper,
            lower_strict,
            upper_strict,
            ordering,
        } => (
            dimension,
            Predicate::Bound(Bound {
                lower: lower.clone(),
                upper: upper.clone(),
                lower_strict: *lower_strict,
                upper_strict: *upper_strict,
                ordering: *ordering,
            }),
        ),
        FilterSpec::And(_) | FilterSpec::Or(_) | FilterSpec::Not(_) => {
            unreachable!("boolean filters are handled by evaluate_3vl")
        }
    };
    if dimension == TIME_COLUMN {
        return Matches {
            matched: time_matches(segment.times(), &predicate, universe),
            unknown: RoaringBitmap::new(),
        };
    }
    let null_result = if predicate.matches_null() {
        NullResult::True
    } else {
        NullResult::Unknown
    };
    match segment.column(dimension) {
        None => match null_result {
            NullResult::True => Matches {
                matched: universe.rows().clone(),
                unknown: RoaringBitmap::new(),
            },
            NullResult::Unknown => Matches {
                matched: RoaringBitmap::new(),
                unknown: universe.rows().clone(),
            },
        },
        Some(ColumnRef::String(column)) => string_matches(column, &predicate, null_result),
        Some(ColumnRef::Long(column)) => {
            numeric_matches(column, universe, null_result, predicate.long_test())
        }
        Some(ColumnRef::Double(column)) => {
            numeric_matches(column, universe, null_result, predicate.double_test())
        }
    }
}

#[derive(Clone, Copy)]
enum NullResult {
    True,
    Unknown,
}

struct Bound {
    lower: Option<String>,
    upper: Option<String>,
    lower_strict: bool,
    upper_strict: bool,
    ordering: StringOrdering,
}

impl Bound {
    /// Whether `value` lies within the bounds under the string `ordering`.
    fn contains_str(&self, value: &str) -> bool {
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

enum Predicate {
    /// Equal to one of the values (`None` = null).
    In(Vec<Option<String>>),
    Bound(Bound),
}

impl Predicate {
    /// Whether null rows match: `in` listing null, or a `bound` without a lower bound (Druid
    /// keeps this "sad backwards compatible behavior" in `BoundFilter.doesMatchNull`).
    fn matches_null(&self) -> bool {
        match self {
            Predicate::In(values) => values.iter().any(Option::is_none),
            Predicate::Bound(bound) => bound.lower.is_none(),
        }
    }

    /// A test of long values, with the match values parsed once.
    fn long_test(&self) -> Box<dyn Fn(i64) -> bool + '_> {
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
                StringOrdering::Lexicographic => {
                    Box::new(move |value| bound.contains_str(&value.to_string()))
                }
            },
        }
    }

    /// A test of double values, with the match values parsed once.
    fn double_test(&self) -> Box<dyn Fn(f64) -> bool + '_> {
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
                StringOrdering::Lexicographic => {
                    Box::new(move |value| bound.contains_str(&java_double_string(value)))
                }
            },
        }
    }
}

/// A match value as an exact long (`DimensionHandlerUtils.getExactLongFromDecimalString`):
/// `"3"` and `"3.0"` are 3, `"3.5"` is not a long.
fn exact_long(text: &str) -> Option<i64> {
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

fn string_matches(column: StringColumn<'_>, predicate: &Predicate, nulls: NullResult) -> Matches {
    let first_value_id = u32::from(column.has_nulls());
    let end_id = column.cardinality() as u32;
    let matched_ids: Vec<u32> = match predicate {
        Predicate::In(values) => {
            let mut ids: Vec<u32> = values
                .iter()
                .flatten()
                .filter_map(|value| column.lookup(Some(value)))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        }
        Predicate::Bound(bound) if bound.ordering == StringOrdering::Lexicographic => {
            // The dictionary is sorted by UTF-8 bytes: the bound is a contiguous id range.
            let value_of = |id: u32| column.value(id).unwrap_or_default();
            let ids: Vec<u32> = (first_value_id..end_id).collect();
            let start = match bound.lower.as_deref() {
                None => 0,
                Some(lower) => ids.partition_point(|&id| {
                    let order = value_of(id).cmp(lower);
                    order.is_lt() || (order.is_eq() && bound.lower_strict)
                }),
            };
            let end = match bound.upper.as_deref() {
                None => ids.len(),
                Some(upper) => ids.partition_point(|&id| {
                    let order = value_of(id).cmp(upper);
                    order.is_lt() || (order.is_eq() && !bound.upper_strict)
                }),
            };
            ids[start..end.max(start)].to_vec()
        }
        // Numeric ordering: the predicate runs once per dictionary value, never per row.
        Predicate::Bound(bound) => (first_value_id..end_id)
            .filter(|&id| {
                column
                    .value(id)
                    .is_some_and(|value| bound.contains_str(value))
            })
            .collect(),
    };
    let mut matched = matched_ids.into_iter().map(|id| column.bitmap(id)).union();
    let mut unknown = RoaringBitmap::new();
    if column.has_nulls() {
        match nulls {
            NullResult::True => matched |= column.bitmap(0),
            NullResult::Unknown => unknown = column.bitmap(0),
        }
    }
    Matches { matched, unknown }
}

fn numeric_matches<T: Copy>(
    column: NumericColumn<'_, T>,
    universe: &Universe<'_>,
    nulls: NullResult,
    predicate: Box<dyn Fn(T) -> bool + '_>,
) -> Matches {
    let values = column.values();
    let mut matched = RoaringBitmap::new();
    for range in universe.ranges.iter() {
        let hits = range
            .clone()
            .filter(|&row| predicate(values[row]))
            .map(|row| row as u32);
        matched
            .append(hits)
            .expect("ranges are ascending and disjoint");
    }
    let mut unknown = RoaringBitmap::new();
    if let Some(null_rows) = column.null_bitmap_ref() {
        // Null rows hold 0 and may have matched above: they are decided here instead.
        matched -= null_rows;
        match nulls {
            NullResult::True => matched |= null_rows,
            NullResult::Unknown => unknown = null_rows.clone(),
        }
    }
    Matches { matched, unknown }
}

/// `__time` compared as a long: binary searches over the sorted time column.
fn time_matches(times: &[i64], predicate: &Predicate, universe: &Universe<'_>) -> RoaringBitmap {
    let mut matched = RoaringBitmap::new();
    match predicate {
        Predicate::In(values) => {
            for time in values
                .iter()
                .flatten()
                .filter_map(|value| exact_long(value))
            {
                let start = times.partition_point(|&t| t < time);
                let end = times.partition_point(|&t| t <= time);
                matched.insert_range(start as u32..end as u32);
            }
        }
        Predicate::Bound(bound) if bound.ordering == StringOrdering::Numeric => {
            let parse = |text: &Option<String>| text.as_deref().map(parse_decimal);
            let (lower, upper) = (parse(&bound.lower), parse(&bound.upper));
            if matches!(lower, Some(None)) || matches!(upper, Some(None)) {
                return matched;
            }
            let start = lower.flatten().map_or(0, |lower| {
                times.partition_point(|&t| {
                    let t = t as f64;
                    t < lower || (t == lower && bound.lower_strict)
                })
            });
            let end = upper.flatten().map_or(times.len(), |upper| {
                times.partition_point(|&t| {
                    let t = t as f64;
                    t < upper || (t == upper && !bound.upper_strict)
                })
            });
            if start < end {
                matched.insert_range(start as u32..end as u32);
            }
        }
        Predicate::Bound(bound) => {
            for range in universe.ranges.iter() {
                let hits = range
                    .clone()
                    .filter(|&row| bound.contains_str(&times[row].to_string()))
                    .map(|row| row as u32);
                matched
                    .append(hits)
                    .expect("ranges are ascending and disjoint");
            }
        }
    }
    matched
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
