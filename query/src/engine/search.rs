//! Search on one segment, and the merge and response of search results.
//!
//! Per segment, every searched dimension is read through the same [`DimensionReader`] topN
//! and groupBy use (dictionary ids for strings; transforms run once per distinct value): the
//! selected rows are counted per output id, then each value that occurred is tested once
//! against the search text. As in Druid, a segment yields one result stamped with the start
//! of its interval (bucketed by the query granularity unless it is `all`), not one per
//! granularity bucket of its rows.
//!
//! Druid's per-segment scan stops once it has found `limit` distinct hits, in storage order,
//! so its counts can depend on segment layout when more values match; Henge counts every
//! match, sorts, and cuts at `limit` after merging (the same answer whenever fewer than
//! `limit` values match per segment). Cutting a partial at `limit` keeps merges exact: hits
//! sort by value and dimension, never by count.

use std::collections::BTreeMap;

use henge_segment::granularity::Granularity;
use henge_segment::ColumnRole;
use serde_json::{json, Value};

use super::dimension::DimensionReader;
use super::segment_metadata::interval_from_id;
use super::SegmentView;
use crate::model::dimension::DimensionSpec;
use crate::model::search::SearchSpec;
use crate::order::compare_nullable_strings;
use crate::partial::{SearchBucket, SearchHit, SearchPartial};

pub(crate) fn run(
    spec: &SearchSpec,
    view: &SegmentView<'_>,
    datasource: &str,
    segment_id: &str,
) -> SearchPartial {
    let segment = view.segment;
    let all_dimensions: Vec<DimensionSpec>;
    let dimensions = match &spec.dimensions {
        Some(dimensions) => dimensions.as_slice(),
        None => {
            all_dimensions = segment
                .schema()
                .iter()
                .filter(|column| column.role == ColumnRole::Dimension)
                .map(|column| DimensionSpec::default_for(&column.name))
                .collect();
            &all_dimensions
        }
    };
    let mut hits = Vec::new();
    let mut ids = vec![0u32; super::BATCH_ROWS];
    for dimension in dimensions {
        let reader = DimensionReader::new(dimension, view);
        let mut rows_per_id = vec![0u64; reader.cardinality()];
        let mut row_values = Vec::new();
        for piece in &view.pieces {
            view.for_each_chunk(piece.rows.clone(), |chunk, contiguous| {
                if reader.is_multi_value() {
                    // Each value of a row counts; an empty row has none to count.
                    for &row in chunk {
                        row_values.clear();
                        reader.row_outputs(row, &mut row_values);
                        for &id in &row_values {
                            rows_per_id[id as usize] += 1;
                        }
                    }
                    return;
                }
                let chunk_ids = &mut ids[..chunk.len()];
                reader.decode(chunk, contiguous, chunk_ids);
                for &id in chunk_ids.iter() {
                    rows_per_id[id as usize] += 1;
                }
            });
        }
        for (id, &count) in rows_per_id.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let value = reader.value(id as u32);
            if spec.matcher.accepts(value.as_deref()) {
                hits.push(SearchHit {
                    dimension: dimension.output_name.clone(),
                    value,
                    count,
                });
            }
        }
    }
    let segment_start = interval_from_id(datasource, segment_id)
        .map(|(start, _)| start)
        .or_else(|| segment.times().first().copied())
        .unwrap_or(0);
    let timestamp = match spec.granularity {
        Granularity::All => segment_start,
        granularity => granularity.bucket_start(segment_start),
    };
    merge(
        spec,
        vec![SearchPartial {
            buckets: vec![SearchBucket { timestamp, hits }],
        }],
    )
}

/// Hit counts of one bucket, keyed by (dimension, value).
type HitCounts = BTreeMap<(String, Option<String>), u64>;

/// Buckets merged by timestamp (`all`: one bucket with the earliest timestamp); hits of the
/// same dimension and value add their counts; each bucket is sorted and cut at `limit`.
pub(crate) fn merge(spec: &SearchSpec, parts: Vec<SearchPartial>) -> SearchPartial {
    let all = spec.granularity == Granularity::All;
    let mut buckets: BTreeMap<i64, (i64, HitCounts)> = BTreeMap::new();
    for bucket in parts.into_iter().flat_map(|part| part.buckets) {
        let key = if all { 0 } else { bucket.timestamp };
        let (timestamp, counts) = buckets
            .entry(key)
            .or_insert_with(|| (bucket.timestamp, BTreeMap::new()));
        *timestamp = (*timestamp).min(bucket.timestamp);
        for hit in bucket.hits {
            *counts.entry((hit.dimension, hit.value)).or_insert(0) += hit.count;
        }
    }
    let buckets = buckets
        .into_values()
        .map(|(timestamp, counts)| {
            let mut hits: Vec<SearchHit> = counts
                .into_iter()
                .map(|((dimension, value), count)| SearchHit {
                    dimension,
                    value,
                    count,
                })
                .collect();
            hits.sort_by(|left, right| {
                compare_nullable_strings(
                    spec.ordering,
                    left.value.as_deref(),
                    right.value.as_deref(),
                )
                .then_with(|| left.dimension.cmp(&right.dimension))
            });
            hits.truncate(spec.limit);
            SearchBucket { timestamp, hits }
        })
        .collect();
    SearchPartial { buckets }
}

/// `[{"timestamp", "result": [{"dimension", "value", "count"}]}]`, one entry per bucket.
pub(crate) fn finalize(spec: &SearchSpec, part: SearchPartial) -> Value {
    part.buckets
        .into_iter()
        .map(|bucket| {
            let hits: Vec<Value> = bucket
                .hits
                .into_iter()
                .map(|hit| json!({"dimension": hit.dimension, "value": hit.value, "count": hit.count}))
                .collect();
            json!({
                "timestamp": spec.granularity.format_timestamp(bucket.timestamp),
                "result": hits,
            })
        })
        .collect()
}
