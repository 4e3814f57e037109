//! Orderings shared by the engine, merge and finalize: Druid's string comparators, the
//! nulls-first value order, topN ranking and the groupBy limit-spec row order.

mod alphanumeric;

use std::cmp::Ordering;

use self::alphanumeric::{compare_alphanumeric, compare_strlen};

use crate::model::aggregator::AggregatorSpec;
use crate::model::dimension::{OrderByColumn, OutputType, TopNMetric};
use crate::model::filter::StringOrdering;
use crate::model::post_aggregator::{PostAggSpec, PostAggregator};
use crate::model::spec::{GroupBySpec, TopNSpec};
use crate::output::compare_outputs;
use crate::partial::{GroupRow, TopNEntry};
use crate::postagg::{compare_post, compute_all};
use crate::value::{compare_values, AggValue};

/// Compares two strings with a Druid string comparator.
pub(crate) fn compare_strings(ordering: StringOrdering, left: &str, right: &str) -> Ordering {
    match ordering {
        StringOrdering::Lexicographic => left.cmp(right),
        StringOrdering::Numeric => compare_numeric_strings(left, right),
        StringOrdering::Alphanumeric => compare_alphanumeric(left, right),
        StringOrdering::Strlen => compare_strlen(left, right),
    }
}

/// `StringComparators.NUMERIC`: numbers by value; strings that are not numbers sort before
/// numbers and among themselves lexicographically.
pub(crate) fn compare_numeric_strings(left: &str, right: &str) -> Ordering {
    if let (Ok(left), Ok(right)) = (left.parse::<i64>(), right.parse::<i64>()) {
        return left.cmp(&right);
    }
    match (parse_decimal(left), parse_decimal(right)) {
        (Some(left), Some(right)) => left.total_cmp(&right),
        (None, None) => left.cmp(right),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
    }
}

/// Parses what Java's `BigDecimal(String)` accepts: `[+-]digits[.digits][(e|E)[+-]digits]`,
/// with digits on at least one side of the point. No whitespace, `NaN` or `Infinity`.
pub(crate) fn parse_decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut index = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let mantissa_start = index;
    let mut digits = 0;
    while index < bytes.len() && (bytes[index].is_ascii_digit() || bytes[index] == b'.') {
        digits += usize::from(bytes[index].is_ascii_digit());
        index += 1;
    }
    let mantissa = &text[mantissa_start..index];
    if digits == 0 || mantissa.matches('.').count() > 1 {
        return None;
    }
    if index < bytes.len() {
        if !matches!(bytes[index], b'e' | b'E') {
            return None;
        }
        index += 1;
        index += usize::from(matches!(bytes.get(index), Some(b'+' | b'-')));
        let exponent_digits = &bytes[index..];
        if exponent_digits.is_empty() || !exponent_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    text.parse::<f64>().ok()
}

/// Compares optional strings with nulls first.
pub(crate) fn compare_nullable_strings(
    ordering: StringOrdering,
    left: Option<&str>,
    right: Option<&str>,
) -> Ordering {
    match (left, right) {
        (Some(left), Some(right)) => compare_strings(ordering, left, right),
        (left, right) => left.is_some().cmp(&right.is_some()),
    }
}

/// Ranks topN entries best first: by the metric spec, ties by dimension value ascending
/// (nulls first), as Druid's `TopNNumericResultBuilder` and `TopNLexicographicResultBuilder` do.
/// Entries before `previousStop` of a dimension ordering are dropped. A metric naming a
/// post-aggregator is computed per entry and compared with the post-aggregator's comparator.
pub(crate) fn rank_topn(spec: &TopNSpec, entries: &mut Vec<TopNEntry>, keep: usize) {
    retain_after_previous_stop(&spec.metric, entries);
    let metric = spec
        .metric
        .metric_name()
        .map(|name| MetricColumn::find(spec, name));
    let mut keyed: Vec<(AggValue, TopNEntry)> = entries
        .drain(..)
        .map(|entry| {
            let key = match &metric {
                Some(metric) => metric.value(spec, &entry.values),
                None => AggValue::Null,
            };
            (key, entry)
        })
        .collect();
    keyed.sort_by(|(left_key, left), (right_key, right)| {
        compare_topn(
            &spec.metric,
            metric.as_ref(),
            spec.dimension.output_type,
            false,
            (left_key, left),
            (right_key, right),
        )
    });
    keyed.truncate(keep);
    entries.extend(keyed.into_iter().map(|(_, entry)| entry));
}

/// Where a topN metric or an order-by column reads its value.
enum MetricColumn<'s> {
    Aggregator(usize),
    /// A post-aggregator: its index and expression.
    Post(usize, &'s PostAggregator),
}

impl<'s> MetricColumn<'s> {
    fn find(spec: &'s TopNSpec, name: &str) -> MetricColumn<'s> {
        MetricColumn::of(&spec.aggregations, &spec.post_aggregations, name)
            .expect("topN metrics are validated at parse time")
    }

    fn of(
        aggregations: &[AggregatorSpec],
        posts: &'s [PostAggSpec],
        name: &str,
    ) -> Option<MetricColumn<'s>> {
        if let Some(at) = aggregations.iter().position(|agg| agg.name == name) {
            return Some(MetricColumn::Aggregator(at));
        }
        posts
            .iter()
            .position(|post| post.name == name)
            .map(|at| MetricColumn::Post(at, &posts[at].post))
    }

    fn value(&self, spec: &TopNSpec, values: &[AggValue]) -> AggValue {
        match self {
            MetricColumn::Aggregator(at) => values[*at].clone(),
            MetricColumn::Post(at, _) => {
                compute_all(&spec.post_aggregations[..=*at], &spec.aggregations, values)
                    .pop()
                    .unwrap_or(AggValue::Null)
            }
        }
    }

    fn compare(&self, left: &AggValue, right: &AggValue) -> Ordering {
        match self {
            MetricColumn::Aggregator(_) => compare_values(left, right),
            MetricColumn::Post(_, post) => compare_post(post, left, right),
        }
    }
}

fn retain_after_previous_stop(metric: &TopNMetric, entries: &mut Vec<TopNEntry>) {
    let (ordering, stop, inverted) = match metric {
        TopNMetric::Dimension {
            ordering,
            previous_stop: Some(stop),
        } => (*ordering, stop, false),
        TopNMetric::Inverted(inner) => match inner.as_ref() {
            TopNMetric::Dimension {
                ordering,
                previous_stop: Some(stop),
            } => (*ordering, stop, true),
            _ => return,
        },
        _ => return,
    };
    entries.retain(|entry| match entry.value.as_deref() {
        None => inverted,
        Some(value) => {
            let order = compare_strings(ordering, value, stop);
            if inverted {
                order == Ordering::Less
            } else {
                order == Ordering::Greater
            }
        }
    });
}

fn compare_topn(
    metric: &TopNMetric,
    column: Option<&MetricColumn<'_>>,
    output: OutputType,
    inverted: bool,
    left: (&AggValue, &TopNEntry),
    right: (&AggValue, &TopNEntry),
) -> Ordering {
    let ((left_key, left), (right_key, right)) = (left, right);
    let by_dimension = |ordering| {
        compare_nullable_strings(ordering, left.value.as_deref(), right.value.as_deref())
    };
    let orient = |order: Ordering| if inverted { order.reverse() } else { order };
    match metric {
        // Largest first; inverting flips the metric but ties stay ascending by value (in the
        // output type's order).
        TopNMetric::Numeric(_) => {
            let column = column.expect("numeric topN metrics name a column");
            orient(column.compare(right_key, left_key)).then_with(|| {
                compare_outputs(output, left.value.as_deref(), right.value.as_deref())
            })
        }
        TopNMetric::Dimension { ordering, .. } => orient(by_dimension(*ordering)),
        TopNMetric::Inverted(inner) => compare_topn(
            inner,
            column,
            output,
            !inverted,
            (left_key, left),
            (right_key, right),
        ),
    }
}

/// The natural groupBy order: timestamp, then each dimension value in its output type's
/// order (nulls first).
pub(crate) fn compare_group_rows_natural(
    spec: &GroupBySpec,
    left: &GroupRow,
    right: &GroupRow,
) -> Ordering {
    let dims = spec
        .dimensions
        .iter()
        .zip(left.dims.iter().zip(&right.dims));
    dims.fold(
        left.timestamp.cmp(&right.timestamp),
        |order, (dim, (l, r))| {
            order.then_with(|| compare_outputs(dim.output_type, l.as_deref(), r.as_deref()))
        },
    )
}

/// An order-by comparison of a dimension: numeric outputs compare by value under the
/// lexicographic (default) and numeric orderings, everything else with the string comparator.
fn compare_dimension(
    output: OutputType,
    ordering: StringOrdering,
    left: Option<&str>,
    right: Option<&str>,
) -> Ordering {
    match (output, ordering) {
        (OutputType::String, _) | (_, StringOrdering::Alphanumeric | StringOrdering::Strlen) => {
            compare_nullable_strings(ordering, left, right)
        }
        (numeric, _) => compare_outputs(numeric, left, right),
    }
}

/// A merged groupBy row and its post-aggregator values, as the broker sorts and filters it.
pub(crate) struct FinalGroupRow {
    pub(crate) row: GroupRow,
    pub(crate) posts: Vec<AggValue>,
}

/// Sorts rows by the limit spec's columns (stably, over the natural order), after the
/// timestamp when the granularity is not `all`, as Druid's `DefaultLimitSpec` does, and keeps
/// the first `keep` (offset plus limit). When `keep` is far below the row count, the first
/// `keep` rows are selected before only they are sorted; ties then fall back to the natural
/// order and the position, which is exactly the order the stable sorts give. With
/// `natural`, the rows are in the natural order already.
pub(crate) fn sort_group_rows(
    spec: &GroupBySpec,
    rows: &mut Vec<FinalGroupRow>,
    keep: usize,
    natural: bool,
) {
    if !natural {
        rows.sort_by(|left, right| compare_group_rows_natural(spec, &left.row, &right.row));
    }
    if spec.limit_spec.columns.is_empty() {
        rows.truncate(keep);
        return;
    }
    let has_timestamp = spec.granularity != henge_segment::granularity::Granularity::All;
    let keys: Vec<(&OrderByColumn, SortKey<'_>)> = spec
        .limit_spec
        .columns
        .iter()
        .map(|column| {
            let key = match spec
                .dimensions
                .iter()
                .position(|dim| dim.output_name == column.column)
            {
                Some(index) => SortKey::Dimension(index),
                None => SortKey::Metric(
                    MetricColumn::of(&spec.aggregations, &spec.post_aggregations, &column.column)
                        .expect("order-by columns are validated at parse time"),
                ),
            };
            (column, key)
        })
        .collect();
    let by_limit_spec = |left: &FinalGroupRow, right: &FinalGroupRow| {
        let time = if has_timestamp {
            left.row.timestamp.cmp(&right.row.timestamp)
        } else {
            Ordering::Equal
        };
        keys.iter().fold(time, |order, (column, key)| {
            order.then_with(|| {
                let by_column = match key {
                    SortKey::Dimension(index) => compare_dimension(
                        spec.dimensions[*index].output_type,
                        column.ordering,
                        left.row.dims[*index].as_deref(),
                        right.row.dims[*index].as_deref(),
                    ),
                    SortKey::Metric(metric @ MetricColumn::Aggregator(index)) => {
                        metric.compare(&left.row.values[*index], &right.row.values[*index])
                    }
                    SortKey::Metric(metric @ MetricColumn::Post(index, _)) => {
                        metric.compare(&left.posts[*index], &right.posts[*index])
                    }
                };
                if column.descending {
                    by_column.reverse()
                } else {
                    by_column
                }
            })
        })
    };
    if keep.saturating_mul(4) >= rows.len() {
        rows.sort_by(by_limit_spec);
        rows.truncate(keep);
        return;
    }
    // Positions after the natural sort make the order total, as the stable sort's is. The
    // selection moves indices, not rows.
    let total = |left: &u32, right: &u32| {
        by_limit_spec(&rows[*left as usize], &rows[*right as usize]).then(left.cmp(right))
    };
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    if keep == 0 {
        rows.clear();
        return;
    }
    order.select_nth_unstable_by(keep - 1, total);
    order.truncate(keep);
    order.sort_unstable_by(total);
    let mut slots: Vec<Option<FinalGroupRow>> =
        std::mem::take(rows).into_iter().map(Some).collect();
    rows.extend(
        order
            .iter()
            .filter_map(|&index| slots[index as usize].take()),
    );
}

/// Where an order-by column's value lives in a [`FinalGroupRow`].
enum SortKey<'s> {
    Dimension(usize),
    Metric(MetricColumn<'s>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_string_order_puts_non_numbers_first() {
        let mut values = vec!["10", "9", "abc", "-1.5", "1e1", "", "b"];
        values.sort_by(|left, right| compare_numeric_strings(left, right));
        assert_eq!(values, vec!["", "abc", "b", "-1.5", "9", "10", "1e1"]);
        assert_eq!(parse_decimal(".5"), Some(0.5));
        assert_eq!(parse_decimal("NaN"), None);
        assert_eq!(parse_decimal("1e"), None);
        assert_eq!(parse_decimal(" 1"), None);
    }

    #[test]
    fn values_sort_nulls_first() {
        assert_eq!(
            compare_values(&AggValue::Null, &AggValue::Long(-5)),
            Ordering::Less
        );
        assert_eq!(
            compare_values(&AggValue::Double(2.0), &AggValue::Double(1.0)),
            Ordering::Greater
        );
    }
}
