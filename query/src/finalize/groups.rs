//! A merged groupBy partial finished as a table ([`group_table`]: summary row, post-aggregators,
//! `having`, the limit spec, `subtotalsSpec`), and that table printed as Druid's events. A
//! query data source over a groupBy reads the table itself, not the printed events.

use henge_segment::granularity::Granularity;
use serde_json::{json, Map, Value};

use super::{empty_values, metric_values};
use crate::having::keep;
use crate::java_hash::{java_hash_order, reorder};
use crate::merge::merge_group_by;
use crate::model::dimension::OutputType;
use crate::model::spec::GroupBySpec;
use crate::order::{sort_group_rows, FinalGroupRow};
use crate::output::output_json;
use crate::partial::{DimValues, GroupByPartial, GroupRow};

/// Finished result rows as a table: column names (for a groupBy its row signature:
/// dimensions, aggregators, post-aggregators) and, per row, its time and one value per name
/// as the response prints it.
pub(crate) struct ResultTable {
    pub(crate) names: Vec<String>,
    pub(crate) rows: Vec<(i64, Vec<Value>)>,
}

/// How groups are finished: the time of a summary row, whether aggregators are finalized,
/// and which columns (dimensions, aggregators, post-aggregators) the table keeps (a
/// subquery's table leaves out what its outer query does not read).
pub(crate) struct Finish<'p> {
    pub(crate) first_start: i64,
    pub(crate) finalizing: bool,
    pub(crate) keeps: &'p dyn Fn(&str) -> bool,
}

/// The finished rows of a merged groupBy partial; with `subtotalsSpec`, each subtotal's rows
/// in its order.
pub(crate) fn group_table(
    spec: &GroupBySpec,
    part: GroupByPartial,
    finish: &Finish<'_>,
) -> ResultTable {
    let names = spec
        .output_names()
        .filter(|name| (finish.keeps)(name))
        .map(str::to_owned)
        .collect();
    let rows = match &spec.subtotals {
        Some(subtotals) => subtotals
            .iter()
            .flat_map(|included| subtotal_rows(spec, &part, included, finish))
            .collect(),
        None => finished_rows(spec, part, finish),
    };
    ResultTable { names, rows }
}

/// Druid's groupBy events: `{"version", "timestamp", "event"}`, the event's keys in Java
/// `HashMap` order.
pub(super) fn finalize_group_by(
    spec: &GroupBySpec,
    part: GroupByPartial,
    first_start: i64,
    finalizing: bool,
) -> Value {
    let finish = Finish {
        first_start,
        finalizing,
        keeps: &|_| true,
    };
    let ResultTable { names, rows } = group_table(spec, part, &finish);
    // Every event has the same keys (the row signature), so their Java order is computed once.
    let order = java_hash_order(names.iter().map(String::as_str));
    // Rows come in time order, mostly sharing a bucket: each bucket's text is formatted once.
    let mut stamp: Option<(i64, Value)> = None;
    Value::Array(
        rows.into_iter()
            .map(|(time, values)| {
                let event: Map<String, Value> = names.iter().cloned().zip(values).collect();
                let timestamp = match &stamp {
                    Some((known, text)) if *known == time => text.clone(),
                    _ => {
                        let text = Value::String(spec.granularity.format_timestamp(time));
                        stamp = Some((time, text.clone()));
                        text
                    }
                };
                json!({
                    "version": "v1",
                    "timestamp": timestamp,
                    "event": reorder(event, &order),
                })
            })
            .collect(),
    )
}

/// One `subtotalsSpec` entry: the merged groups regrouped by the included dimensions (the
/// others become null), then finished like a groupBy of its own whose limitSpec keeps only
/// the columns it still has, as Druid's `GroupingEngine.processSubtotalsSpec` does.
fn subtotal_rows(
    spec: &GroupBySpec,
    part: &GroupByPartial,
    included: &[usize],
    finish: &Finish<'_>,
) -> Vec<(i64, Vec<Value>)> {
    let regrouped = GroupByPartial {
        rows: part
            .rows
            .iter()
            .map(|row| GroupRow {
                timestamp: row.timestamp,
                dims: (0..row.dims.len())
                    .map(|index| {
                        included
                            .contains(&index)
                            .then(|| row.dims[index].clone())
                            .flatten()
                    })
                    .collect(),
                values: row.values.clone(),
            })
            .collect(),
        ordered: false,
    };
    // Regrouping never holds more rows than the merged input, so no row limit applies.
    let Ok(merged) = merge_group_by(&spec.aggregations, vec![regrouped], usize::MAX) else {
        return Vec::new();
    };
    let excluded: Vec<&str> = spec
        .dimensions
        .iter()
        .enumerate()
        .filter(|(index, _)| !included.contains(index))
        .map(|(_, dimension)| dimension.output_name.as_str())
        .collect();
    let mut subtotal_spec = spec.clone();
    subtotal_spec.subtotals = None;
    subtotal_spec
        .limit_spec
        .columns
        .retain(|column| !excluded.contains(&column.column.as_str()));
    let finish = Finish {
        first_start: 0,
        ..*finish
    };
    finished_rows(&subtotal_spec, merged, &finish)
}

/// The summary row (a dimensionless `all` query over no data), post-aggregators, `having`,
/// then the limit spec's order, offset and limit.
fn finished_rows(
    spec: &GroupBySpec,
    part: GroupByPartial,
    finish: &Finish<'_>,
) -> Vec<(i64, Vec<Value>)> {
    // Rows known to be in result order are in the natural order too when every dimension
    // is a string (numeric outputs order by value).
    let natural = part.ordered
        && spec
            .dimensions
            .iter()
            .all(|dimension| dimension.output_type == OutputType::String);
    let mut rows = part.rows;
    let wants_summary_row = spec.dimensions.is_empty()
        && spec.granularity == Granularity::All
        && spec.limit_spec.offset == 0;
    if rows.is_empty() && wants_summary_row {
        rows.push(GroupRow {
            timestamp: finish.first_start,
            dims: DimValues::new(),
            values: empty_values(&spec.aggregations),
        });
    }
    let offset = usize::try_from(spec.limit_spec.offset).unwrap_or(usize::MAX);
    let limit = spec
        .limit_spec
        .limit
        .and_then(|limit| usize::try_from(limit).ok())
        .unwrap_or(usize::MAX);
    // Whether each dimension, then each metric (aggregators, post-aggregators) is kept.
    let (kept_dimensions, kept_metrics): (Vec<bool>, Vec<bool>) = {
        let mut kept = spec.output_names().map(|name| (finish.keeps)(name));
        let dimensions = kept.by_ref().take(spec.dimensions.len()).collect();
        (dimensions, kept.collect())
    };
    let every_metric = kept_metrics.iter().all(|&kept| kept);
    let kept_count = kept_dimensions
        .iter()
        .chain(&kept_metrics)
        .filter(|&&kept| kept)
        .count();
    let post_aggregated = |row: GroupRow| FinalGroupRow {
        posts: crate::postagg::compute_all(
            &spec.post_aggregations,
            &spec.aggregations,
            &row.values,
        ),
        row,
    };
    let finished = |FinalGroupRow { row, posts }: FinalGroupRow| {
        let mut values: Vec<Value> = Vec::with_capacity(kept_count);
        for ((dimension, value), _) in spec
            .dimensions
            .iter()
            .zip(row.dims)
            .zip(&kept_dimensions)
            .filter(|(_, &kept)| kept)
        {
            values.push(output_json(dimension.output_type, value.map(String::from)));
        }
        if kept_count > values.len() {
            let mut metrics = Vec::new();
            let into = match every_metric {
                true => &mut values,
                false => &mut metrics,
            };
            metric_values(
                &spec.aggregations,
                &spec.post_aggregations,
                &row.values,
                &posts,
                finish.finalizing,
                into,
            );
            let kept = metrics
                .into_iter()
                .zip(&kept_metrics)
                .filter(|(_, &kept)| kept);
            values.extend(kept.map(|(value, _)| value));
        }
        (row.timestamp, values)
    };
    if natural && spec.having.is_none() && spec.limit_spec.columns.is_empty() {
        // Nothing to drop or reorder: each row is finished as it comes.
        return rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|row| finished(post_aggregated(row)))
            .collect();
    }
    let mut rows: Vec<FinalGroupRow> = rows.into_iter().map(post_aggregated).collect();
    if let Some(having) = &spec.having {
        rows.retain(|row| keep(having, spec, row));
    }
    sort_group_rows(spec, &mut rows, offset.saturating_add(limit), natural);
    rows.into_iter()
        .skip(offset)
        .take(limit)
        .map(finished)
        .collect()
}
