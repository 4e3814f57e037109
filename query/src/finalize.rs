//! From a merged partial result to Druid's response JSON, per query type:
//! - timeseries `[{"timestamp","result":{agg…}}]`; with granularity `all`, no rows and
//!   `skipEmptyBuckets` off, one row stamped with the first interval's start holding empty
//!   aggregator values (`TimeseriesQueryQueryToolChest.getNullTimeseriesResultValue`), and
//!   with context `grandTotal` a last row `{"timestamp": null, "result": totals}`;
//! - topN `[{"timestamp","result":[{dim, agg…}]}]`;
//! - groupBy `[{"version":"v1","timestamp","event":{dims…, aggs…, posts…}}]`, the event's keys
//!   in Java `HashMap` order (`ResultRow.toMap` puts them into a `new HashMap<>()`), plus
//!   Druid's summary row
//!   for dimensionless `all` queries over no data (`GroupByQueryRunnerFactory.wrapSummaryRowIfNeeded`);
//!   `having` filters rows before the limit spec sorts, offsets and cuts them;
//! - scan `[{"segmentId","columns","events","rowSignature"}]` in batches of `batchSize`;
//! - timeBoundary `[{"timestamp","result":{"maxTime","minTime"}}]` (a `HashMap` in
//!   `TimeBoundaryQuery.buildResult`, which iterates maxTime first);
//! - dataSourceMetadata `[{"timestamp","result":{"maxIngestedEventTime"}}]`, stamped with the
//!   latest event time itself, as `DataSourceMetadataQuery.mergeResults` does;
//! - segmentMetadata `[{"id","intervals","columns","size","numRows","aggregators",
//!   "timestampSpec","queryGranularity","rollup"}]` (the last four null unless requested).
//!
//! Aggregator values are finalized (means, the values of first/last pairs; floats print as
//! Java floats) and followed by the post-aggregators, which are computed over the intermediate
//! values as Druid's toolchests do.

use henge_segment::granularity::Granularity;
use henge_segment::time::format_timestamp;
use serde_json::{json, Map, Value};

use crate::error::QueryError;
use crate::having::keep;
use crate::java_hash::{in_java_hash_order, java_hash_order, reorder};
use crate::merge::{combine_values, merge, merge_group_by};
use crate::model::aggregator::AggregatorSpec;
use crate::model::post_aggregator::PostAggSpec;
use crate::model::spec::{
    Bound, GroupBySpec, QueryKind, ResultFormat, ScanOrder, ScanSpec, TimeBoundarySpec,
    TimeseriesSpec, TopNSpec,
};
use crate::model::Query;
use crate::order::{rank_topn, sort_group_rows, FinalGroupRow};
use crate::output::output_json;
use crate::partial::{
    GroupByPartial, GroupRow, PartialResult, ScanPartial, SegmentMetadataPartial,
    TimeBoundaryPartial, TimeseriesPartial, TimeseriesRow, TopNPartial,
};
use crate::postagg::{compute_all, post_json};
use crate::value::AggValue;

/// Turns a merged partial result into Druid's response body (always a JSON array).
pub fn finalize(query: &Query, merged: PartialResult) -> Result<Value, QueryError> {
    // Merging a single partial normalises it (ordering, limits), so unmerged input works too.
    let merged = merge(query, vec![merged])?;
    let finalizing = wants_finalized(query);
    let first_start = query
        .intervals()
        .first()
        .map_or(0, |interval| interval.start);
    Ok(match (&query.kind, merged) {
        (QueryKind::Timeseries(spec), PartialResult::Timeseries(part)) => {
            finalize_timeseries(spec, part, first_start, finalizing)
        }
        (QueryKind::TopN(spec), PartialResult::TopN(part)) => finalize_topn(spec, part, finalizing),
        (QueryKind::GroupBy(spec), PartialResult::GroupBy(part)) => {
            finalize_group_by(spec, part, first_start, finalizing)
        }
        (QueryKind::Scan(spec), PartialResult::Scan(part)) => finalize_scan(spec, part),
        (QueryKind::TimeBoundary(spec), PartialResult::TimeBoundary(part)) => {
            finalize_time_boundary(spec, part)
        }
        (QueryKind::DataSourceMetadata, PartialResult::TimeBoundary(part)) => match part.max {
            Some(max) => {
                let max = format_timestamp(max);
                json!([{"timestamp": max, "result": {"maxIngestedEventTime": max}}])
            }
            None => Value::Array(Vec::new()),
        },
        (QueryKind::SegmentMetadata(_), PartialResult::SegmentMetadata(part)) => {
            finalize_segment_metadata(part)
        }
        (QueryKind::Search(spec), PartialResult::Search(part)) => {
            crate::engine::search::finalize(spec, part)
        }
        (_, other) => {
            return Err(QueryError::internal(format!(
                "cannot finalize a {} partial result for a {} query",
                other.type_name(),
                query.query_type()
            )))
        }
    })
}

/// What Druid answers when no segment holds data for the query: `[]`, except the rows a
/// timeseries (granularity `all`) or a dimensionless groupBy returns over no data.
pub fn empty_result(query: &Query) -> Value {
    merge(query, Vec::new())
        .and_then(|empty| finalize(query, empty))
        .unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// Context `finalize` (default true). With `false`, sketch aggregators print their sketch
/// (base64) instead of its estimate; other aggregators print finalized values either way.
fn wants_finalized(query: &Query) -> bool {
    !matches!(query.context().get("finalize"), Some(Value::Bool(false)))
        && !matches!(
            query.context().get("finalize"),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("false")
        )
}

/// Writes the finalized aggregator values, then the post-aggregators computed over the
/// intermediate values.
fn metrics(
    specs: &[AggregatorSpec],
    posts: &[PostAggSpec],
    values: &[AggValue],
    finalizing: bool,
    into: &mut Map<String, Value>,
) {
    let computed = compute_all(posts, specs, values);
    write_metrics(specs, posts, values, &computed, finalizing, into);
}

fn write_metrics(
    specs: &[AggregatorSpec],
    posts: &[PostAggSpec],
    values: &[AggValue],
    computed: &[AggValue],
    finalizing: bool,
    into: &mut Map<String, Value>,
) {
    for (spec, value) in specs.iter().zip(values) {
        let json = match value {
            AggValue::Sketch(_) if !finalizing => value.to_json(),
            // Unfinalized first/last values are Druid's `SerializablePair`s.
            AggValue::Timed(time, inner) if !finalizing => {
                json!({"lhs": time, "rhs": inner.finalized().to_json_as(spec.kind)})
            }
            _ => value.finalized_for(spec.kind).to_json_as(spec.kind),
        };
        into.insert(spec.name.clone(), json);
    }
    for (post, value) in posts.iter().zip(computed) {
        into.insert(post.name.clone(), post_json(value));
    }
}

fn empty_values(specs: &[AggregatorSpec]) -> Vec<AggValue> {
    specs
        .iter()
        .map(|spec| AggValue::empty(spec.kind))
        .collect()
}

fn finalize_timeseries(
    spec: &TimeseriesSpec,
    part: TimeseriesPartial,
    first_start: i64,
    finalizing: bool,
) -> Value {
    let mut rows = part.rows;
    if rows.is_empty() && spec.granularity == Granularity::All && !spec.skip_empty_buckets {
        rows.push(TimeseriesRow {
            timestamp: first_start,
            values: empty_values(&spec.aggregations),
        });
    }
    if spec.descending {
        rows.reverse();
    }
    if let Some(limit) = spec.limit.and_then(|limit| usize::try_from(limit).ok()) {
        rows.truncate(limit);
    }
    // Druid totals the returned buckets into a last row stamped `null`.
    let grand_total = spec.grand_total.then(|| {
        let mut totals = vec![AggValue::Null; spec.aggregations.len()];
        for row in &rows {
            combine_values(&spec.aggregations, &mut totals, row.values.clone());
        }
        let mut result = Map::new();
        metrics(
            &spec.aggregations,
            &spec.post_aggregations,
            &totals,
            finalizing,
            &mut result,
        );
        json!({"timestamp": null, "result": result})
    });
    let mut output: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let mut result = Map::new();
            metrics(
                &spec.aggregations,
                &spec.post_aggregations,
                &row.values,
                finalizing,
                &mut result,
            );
            json!({"timestamp": spec.granularity.format_timestamp(row.timestamp), "result": result})
        })
        .collect();
    output.extend(grand_total);
    Value::Array(output)
}

fn finalize_topn(spec: &TopNSpec, part: TopNPartial, finalizing: bool) -> Value {
    Value::Array(
        part.buckets
            .into_iter()
            .map(|mut bucket| {
                rank_topn(spec, &mut bucket.entries, spec.threshold);
                let entries: Vec<Value> = bucket
                    .entries
                    .into_iter()
                    .map(|entry| {
                        let mut object = Map::new();
                        object.insert(
                            spec.dimension.output_name.clone(),
                            output_json(spec.dimension.output_type, entry.value),
                        );
                        metrics(
                            &spec.aggregations,
                            &spec.post_aggregations,
                            &entry.values,
                            finalizing,
                            &mut object,
                        );
                        Value::Object(object)
                    })
                    .collect();
                json!({"timestamp": spec.granularity.format_timestamp(bucket.timestamp), "result": entries})
            })
            .collect(),
    )
}

fn finalize_group_by(
    spec: &GroupBySpec,
    part: GroupByPartial,
    first_start: i64,
    finalizing: bool,
) -> Value {
    match &spec.subtotals {
        Some(subtotals) => Value::Array(
            subtotals
                .iter()
                .flat_map(|included| finalize_subtotal(spec, &part, included, finalizing))
                .collect(),
        ),
        None => finalize_groups(spec, part, first_start, finalizing),
    }
}

/// One `subtotalsSpec` entry: the merged groups regrouped by the included dimensions (the
/// others become null), then finished like a groupBy of its own whose limitSpec keeps only
/// the columns it still has, as Druid's `GroupingEngine.processSubtotalsSpec` does. The
/// result sets are concatenated in `subtotalsSpec` order.
fn finalize_subtotal(
    spec: &GroupBySpec,
    part: &GroupByPartial,
    included: &[usize],
    finalizing: bool,
) -> Vec<Value> {
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
    match finalize_groups(&subtotal_spec, merged, 0, finalizing) {
        Value::Array(rows) => rows,
        _ => Vec::new(),
    }
}

fn finalize_groups(
    spec: &GroupBySpec,
    part: GroupByPartial,
    first_start: i64,
    finalizing: bool,
) -> Value {
    let mut rows = part.rows;
    let wants_summary_row = spec.dimensions.is_empty()
        && spec.granularity == Granularity::All
        && spec.limit_spec.offset == 0;
    if rows.is_empty() && wants_summary_row {
        rows.push(GroupRow {
            timestamp: first_start,
            dims: Vec::new(),
            values: empty_values(&spec.aggregations),
        });
    }
    let mut rows: Vec<FinalGroupRow> = rows
        .into_iter()
        .map(|row| FinalGroupRow {
            posts: compute_all(&spec.post_aggregations, &spec.aggregations, &row.values),
            row,
        })
        .collect();
    if let Some(having) = &spec.having {
        rows.retain(|row| keep(having, spec, row));
    }
    let offset = usize::try_from(spec.limit_spec.offset).unwrap_or(usize::MAX);
    let limit = spec
        .limit_spec
        .limit
        .and_then(|limit| usize::try_from(limit).ok())
        .unwrap_or(usize::MAX);
    sort_group_rows(spec, &mut rows, offset.saturating_add(limit));
    // Every event has the same keys (the row signature), so their Java order is computed once.
    let mut key_order: Option<Vec<usize>> = None;
    // Rows come in time order, mostly sharing a bucket: each bucket's text is formatted once.
    let mut stamp: Option<(i64, Value)> = None;
    Value::Array(
        rows.into_iter()
            .skip(offset)
            .take(limit)
            .map(|FinalGroupRow { row, posts }| {
                let mut event = Map::new();
                for (dimension, value) in spec.dimensions.iter().zip(row.dims) {
                    event.insert(
                        dimension.output_name.clone(),
                        output_json(dimension.output_type, value),
                    );
                }
                write_metrics(
                    &spec.aggregations,
                    &spec.post_aggregations,
                    &row.values,
                    &posts,
                    finalizing,
                    &mut event,
                );
                let order = key_order
                    .get_or_insert_with(|| java_hash_order(event.keys().map(String::as_str)));
                let timestamp = match &stamp {
                    Some((time, text)) if *time == row.timestamp => text.clone(),
                    _ => {
                        let text = Value::String(spec.granularity.format_timestamp(row.timestamp));
                        stamp = Some((row.timestamp, text.clone()));
                        text
                    }
                };
                json!({
                    "version": "v1",
                    "timestamp": timestamp,
                    "event": reorder(event, order),
                })
            })
            .collect(),
    )
}

fn finalize_scan(spec: &ScanSpec, part: ScanPartial) -> Value {
    let mut to_skip = usize::try_from(spec.offset).unwrap_or(usize::MAX);
    let mut output = Vec::new();
    for batch in part.batches {
        let skipped = to_skip.min(batch.rows.len());
        to_skip -= skipped;
        let signature: Vec<Value> = batch
            .columns
            .iter()
            .zip(&batch.column_types)
            .map(|(name, column_type)| match column_type {
                Some(column_type) => json!({"name": name, "type": column_type}),
                None => json!({"name": name}),
            })
            .collect();
        let rows = &batch.rows[skipped..];
        for chunk in rows.chunks(spec.batch_size) {
            let events: Vec<Value> = chunk
                .iter()
                .map(|row| match spec.result_format {
                    ResultFormat::CompactedList => Value::Array(row.values.clone()),
                    ResultFormat::List => Value::Object(
                        batch
                            .columns
                            .iter()
                            .cloned()
                            .zip(row.values.iter().cloned())
                            .collect(),
                    ),
                })
                .collect();
            let segment_id = match spec.order {
                ScanOrder::None => batch.segment_id.clone(),
                ScanOrder::Ascending | ScanOrder::Descending => None,
            };
            output.push(json!({
                "segmentId": segment_id,
                "columns": batch.columns,
                "events": events,
                "rowSignature": signature,
            }));
        }
    }
    Value::Array(output)
}

fn finalize_time_boundary(spec: &TimeBoundarySpec, part: TimeBoundaryPartial) -> Value {
    let (Some(min), Some(max)) = (part.min, part.max) else {
        return Value::Array(Vec::new());
    };
    let mut result = Map::new();
    if spec.bound != Bound::MaxTime {
        result.insert("minTime".into(), Value::String(format_timestamp(min)));
    }
    if spec.bound != Bound::MinTime {
        result.insert("maxTime".into(), Value::String(format_timestamp(max)));
    }
    let timestamp = if spec.bound == Bound::MaxTime {
        max
    } else {
        min
    };
    json!([{"timestamp": format_timestamp(timestamp), "result": in_java_hash_order(result)}])
}

fn finalize_segment_metadata(part: SegmentMetadataPartial) -> Value {
    Value::Array(
        part.segments
            .into_iter()
            .map(|segment| {
                let intervals = segment.intervals.map(|intervals| {
                    intervals
                        .into_iter()
                        .map(|(start, end)| {
                            format!("{}/{}", format_timestamp(start), format_timestamp(end))
                        })
                        .collect::<Vec<_>>()
                });
                let columns: Map<String, Value> = segment
                    .columns
                    .into_iter()
                    .map(|column| {
                        // `COMPLEX<HLLSketch>` has the type `HLLSketch`.
                        let type_name = column
                            .type_name
                            .strip_prefix("COMPLEX<")
                            .and_then(|inner| inner.strip_suffix('>'))
                            .unwrap_or(&column.type_name);
                        let analysis = json!({
                            "typeSignature": column.type_name,
                            "type": type_name,
                            "hasMultipleValues": column.has_multiple_values,
                            "hasNulls": column.has_nulls,
                            "size": column.size,
                            "cardinality": column.cardinality,
                            "minValue": column.min,
                            "maxValue": column.max,
                            "errorMessage": column.error,
                        });
                        (column.name, analysis)
                    })
                    .collect();
                json!({
                    "id": segment.id,
                    "intervals": intervals,
                    "columns": columns,
                    "size": segment.size,
                    "numRows": segment.num_rows,
                    "aggregators": segment.aggregators,
                    "timestampSpec": segment.timestamp_spec,
                    "queryGranularity": segment.query_granularity,
                    "rollup": segment.rollup,
                })
            })
            .collect(),
    )
}
