//! Evaluating filters on one segment into roaring bitmaps, with SQL three-valued logic.
//!
//! Every filter yields the rows where it is TRUE and the rows where it is UNKNOWN (a null
//! compared with a value); FALSE is the rest. `not` swaps TRUE and FALSE and keeps UNKNOWN,
//! so `not(selector x = 'a')` matches neither `'a'` nor null rows, as Druid does by default
//! since 28 (`druid.generic.useThreeValueLogicForNativeFilters`, `sql-data-types.md`).
//!
//! String columns never touch rows: a selector is a dictionary lookup and one bitmap, `in` a
//! union, a `bound` a dictionary range (lexicographic) or a predicate over dictionary values
//! (numeric), and `like`/`regex`/`search` test each dictionary value once and union the
//! bitmaps of the matches (`columns`). Long and double columns are compared row by row over
//! the value slice, and `__time` bounds are binary searches over the sorted time column.
//! `columnComparison` compares columns with each other, row by row (`comparison`); an
//! `expression` is evaluated once per dictionary id when it reads one string column, else
//! row by row (`expression`).

mod columns;
mod comparison;
mod expression;
mod predicate;
mod row;

use std::cell::OnceCell;
use std::ops::Range;

use henge_segment::ColumnRef;
use roaring::{MultiOps, RoaringBitmap};

use self::columns::{numeric_matches, string_matches, time_matches};
use self::comparison::column_comparison;
use self::expression::expression_matches;
pub(crate) use self::predicate::{exact_long, java_double_string};
use self::predicate::{Bound, NullResult, Predicate, TextMatcher};
pub(crate) use self::row::{row_matches, Cell};
use crate::columns::Columns;
use crate::model::filter::FilterSpec;
use crate::model::spec::TIME_COLUMN;

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
    segment: &Columns<'_>,
    universe: &Universe<'_>,
) -> RoaringBitmap {
    evaluate_3vl(filter, segment, universe).matched
}

fn evaluate_3vl(filter: &FilterSpec, segment: &Columns<'_>, universe: &Universe<'_>) -> Matches {
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
        FilterSpec::True => Matches {
            matched: universe.rows().clone(),
            unknown: RoaringBitmap::new(),
        },
        FilterSpec::False => Matches {
            matched: RoaringBitmap::new(),
            unknown: RoaringBitmap::new(),
        },
        FilterSpec::ColumnComparison(columns) => column_comparison(columns, segment, universe),
        FilterSpec::Expression(expr) => expression_matches(expr, segment, universe),
        leaf => evaluate_leaf(leaf, segment, universe),
    }
}

/// A leaf filter, reduced to one predicate over non-null values plus what nulls give.
fn evaluate_leaf(filter: &FilterSpec, segment: &Columns<'_>, universe: &Universe<'_>) -> Matches {
    let (dimension, predicate) = leaf_predicate(filter);
    evaluate_leaf_on(dimension, predicate, segment, universe)
}

/// The column and predicate of a leaf filter.
fn leaf_predicate(filter: &FilterSpec) -> (&str, Predicate<'_>) {
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
            nulls_match,
        } => (
            dimension,
            Predicate::Bound(Bound {
                lower: lower.clone(),
                upper: upper.clone(),
                lower_strict: *lower_strict,
                upper_strict: *upper_strict,
                ordering: *ordering,
                nulls_match: *nulls_match,
            }),
        ),
        FilterSpec::Like { dimension, pattern } => {
            (dimension, Predicate::Text(TextMatcher::Like(pattern)))
        }
        FilterSpec::Regex { dimension, pattern } => {
            (dimension, Predicate::Text(TextMatcher::Regex(pattern)))
        }
        FilterSpec::Search { dimension, query } => {
            (dimension, Predicate::Text(TextMatcher::Search(query)))
        }
        FilterSpec::And(_)
        | FilterSpec::Or(_)
        | FilterSpec::Not(_)
        | FilterSpec::True
        | FilterSpec::False
        | FilterSpec::ColumnComparison(_)
        | FilterSpec::Expression(_) => {
            unreachable!("non-leaf filters are handled by evaluate_3vl")
        }
    };
    (dimension, predicate)
}

fn evaluate_leaf_on(
    dimension: &str,
    predicate: Predicate<'_>,
    segment: &Columns<'_>,
    universe: &Universe<'_>,
) -> Matches {
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
        // Filters see a sketch column as null everywhere, as a missing column.
        None | Some(ColumnRef::Complex(_)) => match null_result {
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
