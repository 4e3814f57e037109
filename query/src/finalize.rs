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

mod groups;

use henge_segment::granularity::Granularity;
use henge_segment::time::format_timestamp;
use serde_json::{json, Map, Value};

pub(crate) use self::groups::ResultTable;
use self::groups::{finalize_group_by, group_table, Finish};
use crate::error::QueryError;
use crate::java_hash::in_java_hash_order;
use crate::merge::{combine_values, merge};
use crate::model::aggregator::AggregatorSpec;
use crate::model::post_aggregator::PostAggSpec;
use crate::model::spec::{
    Bound, QueryKind, ResultFormat, ScanOrder, ScanSpec, TimeBoundarySpec, TimeseriesSpec, TopNSpec,
};
use crate::model::Query;
use crate::order::rank_topn;
use crate::output::output_json;
use crate::partial::{
    PartialResult, ScanPartial, SegmentMetadataPartial, TimeBoundaryPartial, TimeseriesPartial,
    TimeseriesRow, TopNPartial,
};
use crate::postagg::{compute_all, post_json};
use crate::value::AggValue;

/// Turns a merged partial result into Druid's response body (always a JSON array).
pub fn finalize(query: &Query, merged: PartialResult) -> Result<Value, QueryError> {
    // Merging a single partial normalises it (ordering, limits), so unmerged input works too.
    let merged = merge(query, vec![merged])?;
    let finalizing = wants_finalized(query);
    let first_start = first_start(query);
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

/// The finished rows of a groupBy's merged partial as a table: what [`finalize`] prints as
/// events, for a query data source to read without printing them; columns that `keeps`
/// refuses are left out.
pub(crate) fn finished_table(
    query: &Query,
    merged: PartialResult,
    keeps: &dyn Fn(&str) -> bool,
) -> Result<ResultTable, QueryError> {
    match (&query.kind, merge(query, vec![merged])?) {
        (QueryKind::GroupBy(spec), PartialResult::GroupBy(part)) => {
            let finish = Finish {
                first_start: first_start(query),
                finalizing: wants_finalized(query),
                keeps,
            };
            Ok(group_table(spec, part, &finish))
        }
        (_, other) => Err(QueryError::internal(format!(
            "cannot finish a {} partial result of a {} query as a table",
            other.type_name(),
            query.query_type()
        ))),
    }
}

/// The start of the query's first interval (the time of rows over no data).
fn first_start(query: &Query) -> i64 {
    query
        .intervals()
        .first()
        .map_or(0, |interval| interval.start)
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
    let names = specs
        .iter()
        .map(|spec| &spec.name)
        .chain(posts.iter().map(|post| &post.name));
    let mut metrics = Vec::with_capacity(specs.len() + posts.len());
    metric_values(specs, posts, values, computed, finalizing, &mut metrics);
    into.extend(names.cloned().zip(metrics));
}

/// The finalized aggregator values, then the post-aggregator values, as the response prints
/// them.
fn metric_values(
    specs: &[AggregatorSpec],
    posts: &[PostAggSpec],
    values: &[AggValue],
    computed: &[AggValue],
    finalizing: bool,
    into: &mut Vec<Value>,
) {
    for (spec, value) in specs.iter().zip(values) {
        into.push(match value {
            AggValue::Sketch(_) if !finalizing => value.to_json(),
            // Unfinalized first/last values are Druid's `SerializablePair`s.
            AggValue::Timed(time, inner) if !finalizing => {
                json!({"lhs": time, "rhs": inner.finalized().to_json_as(spec.kind)})
            }
            _ => value.finalized_for(spec.kind).to_json_as(spec.kind),
        });
    }
    into.extend(computed.iter().take(posts.len()).map(post_json));
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
