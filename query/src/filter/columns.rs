//! Evaluating a leaf predicate on one column: string columns through their sorted
//! dictionary (each distinct value tested once, then the bitmaps of the matching ids unioned),
//! long and double columns row by row over the value slice, `__time` by binary search where
//! the predicate allows it.
//!
//! Multi-value string columns need nothing else: a value's bitmap holds every row holding it,
//! so the union matches a row when ANY of its values matches (Druid's rule), and null's
//! bitmap holds the empty rows, which therefore match filters that match null.

use henge_segment::{NumericColumn, StringColumn};
use roaring::{MultiOps, RoaringBitmap};

use super::predicate::{exact_long, NullResult, Predicate};
use super::{Matches, Universe};
use crate::model::filter::StringOrdering;
use crate::order::parse_decimal;

pub(super) fn string_matches(
    column: StringColumn<'_>,
    predicate: &Predicate,
    nulls: NullResult,
) -> Matches {
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
        Predicate::Text(matcher) => (first_value_id..end_id)
            .filter(|&id| column.value(id).is_some_and(|value| matcher.matches(value)))
            .collect(),
    };
    let mut matched = matched_ids.into_iter().map(|id| column.bitmap(id)).union();
    let mut unknown = RoaringBitmap::new();
    if column.has_nulls() {
        match nulls {
            NullResult::True => matched |= column.bitmap(0),
            // A multi-value row may hold a null and a matching value: it is TRUE then.
            NullResult::Unknown => unknown = column.bitmap(0) - &matched,
        }
    }
    Matches { matched, unknown }
}

pub(super) fn numeric_matches<T: Copy>(
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
pub(super) fn time_matches(
    times: &[i64],
    predicate: &Predicate,
    universe: &Universe<'_>,
) -> RoaringBitmap {
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
        Predicate::Bound(_) | Predicate::Text(_) => {
            let test = predicate.long_test();
            for range in universe.ranges.iter() {
                let hits = range
                    .clone()
                    .filter(|&row| test(times[row]))
                    .map(|row| row as u32);
                matched
                    .append(hits)
                    .expect("ranges are ascending and disjoint");
            }
        }
    }
    matched
}
