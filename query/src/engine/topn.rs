//! TopN on one segment (Druid's pooled topN algorithm): per time bucket, aggregate into dense
//! arrays indexed by the dimension's output id (`dimension`: dictionary ids, or dense ids of
//! numeric values, mapped through the spec's transforms), then keep the
//! `max(threshold, 1000)` best values that occurred. Every bucket is reported, empty ones
//! with no entries.
//!
//! On a multi-value dimension a row is aggregated once per value it holds (repeats
//! included), and a row without values is not aggregated at all (Druid's topN algorithms
//! loop over the row's values; unlike groupBy they have no null group for empty rows).

use super::dimension::DimensionReader;
use super::{SegmentView, BATCH_ROWS};
use crate::aggregate::{slot_values, Accumulator};
use crate::error::QueryError;
use crate::merge::merge_topn;
use crate::model::dimension::TopNMetric;
use crate::model::spec::TopNSpec;
use crate::order::rank_topn;
use crate::partial::{TopNBucket, TopNEntry, TopNPartial};
use crate::value::{compare_values, AggValue};

pub(crate) fn run(spec: &TopNSpec, view: &SegmentView<'_>) -> Result<TopNPartial, QueryError> {
    let dimension = DimensionReader::new(&spec.dimension, view);
    let cardinality = dimension.cardinality();
    let mut accumulators = Accumulator::for_all(&spec.aggregations, view);
    let mut rows_per_id = vec![0u32; cardinality];
    let mut ids = vec![0u32; BATCH_ROWS];
    // Multi-value dimensions: one (row, output id) pair per value.
    let (mut exploded_rows, mut exploded_ids) = (Vec::new(), Vec::new());
    let mut buckets = Vec::new();
    for piece in &view.pieces {
        for (timestamp, rows) in view.buckets(piece, false)? {
            accumulators
                .iter_mut()
                .for_each(|acc| acc.reset(cardinality));
            rows_per_id.fill(0);
            view.for_each_chunk(rows, |chunk, contiguous| {
                if dimension.is_multi_value() {
                    exploded_rows.clear();
                    exploded_ids.clear();
                    for &row in chunk {
                        dimension.row_outputs(row, &mut exploded_ids);
                        exploded_rows.resize(exploded_ids.len(), row);
                    }
                    for &id in &exploded_ids {
                        rows_per_id[id as usize] += 1;
                    }
                    for accumulator in accumulators.iter_mut() {
                        accumulator.add_grouped(&exploded_rows, &exploded_ids);
                    }
                    return;
                }
                let chunk_ids = &mut ids[..chunk.len()];
                dimension.decode(chunk, contiguous, chunk_ids);
                for &id in chunk_ids.iter() {
                    rows_per_id[id as usize] += 1;
                }
                for accumulator in accumulators.iter_mut() {
                    accumulator.add_grouped(chunk, chunk_ids);
                }
            });
            let entries = collect_entries(spec, &dimension, &accumulators, &rows_per_id);
            buckets.push(TopNBucket { timestamp, entries });
        }
    }
    // Each interval is ranked on its own, as Druid runs one query per (segment, interval);
    // merging combines intervals that share a bucket (all of them under `all`).
    Ok(merge_topn(spec, vec![TopNPartial { buckets }]))
}

/// The entries of the dictionary ids that occurred, ranked and cut to the per-segment
/// threshold. When ranking by an aggregator, ids are ranked before any string is built: ties
/// break by dimension value ascending, which is output id order (nulls first).
fn collect_entries(
    spec: &TopNSpec,
    dimension: &DimensionReader<'_>,
    accumulators: &[Accumulator<'_>],
    rows_per_id: &[u32],
) -> Vec<TopNEntry> {
    let keep = spec.partial_threshold();
    let mut ids: Vec<usize> = (0..rows_per_id.len())
        .filter(|&id| rows_per_id[id] > 0)
        .collect();
    let ranked_by_metric = metric_rank(&spec.metric, false).and_then(|(name, ascending)| {
        let index = spec.aggregations.iter().position(|agg| agg.name == name)?;
        Some((&accumulators[index], ascending))
    });
    if let Some((accumulator, ascending)) = ranked_by_metric {
        // Each id's value once (a sketch as its estimate), not once per comparison.
        let keys: Vec<AggValue> = (0..rows_per_id.len())
            .map(|id| {
                if rows_per_id[id] == 0 {
                    return AggValue::Null;
                }
                match accumulator.value(id) {
                    sketch @ AggValue::Sketch(_) => sketch.finalized(),
                    other => other,
                }
            })
            .collect();
        let compare = |left: &usize, right: &usize| {
            let by_metric = compare_values(&keys[*left], &keys[*right]);
            let by_metric = if ascending {
                by_metric
            } else {
                by_metric.reverse()
            };
            by_metric.then(left.cmp(right))
        };
        if ids.len() > keep {
            ids.select_nth_unstable_by(keep, compare);
            ids.truncate(keep);
        }
        ids.sort_unstable_by(compare);
    }
    let mut entries: Vec<TopNEntry> = ids
        .into_iter()
        .map(|id| TopNEntry {
            value: dimension.value(id as u32),
            values: slot_values(accumulators, id),
        })
        .collect();
    if ranked_by_metric.is_none() {
        rank_topn(spec, &mut entries, keep);
    }
    entries
}

/// For metric orderings, the aggregator name and whether it ranks ascending (inverted).
fn metric_rank(metric: &TopNMetric, inverted: bool) -> Option<(&str, bool)> {
    match metric {
        TopNMetric::Numeric(name) => Some((name, inverted)),
        TopNMetric::Inverted(inner) => metric_rank(inner, !inverted),
        TopNMetric::Dimension { .. } => None,
    }
}
