//! Timeseries on one segment (Druid's `TimeseriesQueryEngine`): one slot per time bucket,
//! zero-filled unless `skipEmptyBuckets`; granularity `all` folds every interval into one
//! bucket stamped with the smallest clipped start.

use std::collections::BTreeMap;

use henge_segment::granularity::Granularity;

use super::{Batch, SegmentView};
use crate::aggregate::{slot_values, Accumulator};
use crate::error::QueryError;
use crate::merge::merge_timeseries;
use crate::model::spec::TimeseriesSpec;
use crate::partial::{TimeseriesPartial, TimeseriesRow};

pub(crate) fn run(
    spec: &TimeseriesSpec,
    view: &SegmentView<'_>,
) -> Result<TimeseriesPartial, QueryError> {
    let mut accumulators = Accumulator::for_all(&spec.aggregations, view);
    let all = spec.granularity == Granularity::All;
    // Bucket timestamp -> slot (with `all`, key 0 holds the single bucket).
    let mut slots: BTreeMap<i64, (i64, usize)> = BTreeMap::new();
    for piece in &view.pieces {
        for (timestamp, rows) in view.buckets(piece, spec.skip_empty_buckets)? {
            let key = if all { 0 } else { timestamp };
            let next_slot = slots.len();
            let (stamp, slot) = slots.entry(key).or_insert((timestamp, next_slot));
            *stamp = (*stamp).min(timestamp);
            let slot = *slot;
            if slot == next_slot {
                accumulators.iter_mut().for_each(Accumulator::push_slot);
            }
            view.for_each_batch(rows, |batch| {
                for accumulator in accumulators.iter_mut() {
                    match &batch {
                        Batch::Range(range) => accumulator.add_range(slot, range.clone()),
                        Batch::Rows(rows) => accumulator.add_rows(slot, rows),
                    }
                }
            });
        }
    }
    let rows = slots
        .into_values()
        .map(|(timestamp, slot)| TimeseriesRow {
            timestamp,
            values: slot_values(&accumulators, slot),
        })
        .collect();
    // Merging one partial applies the limit the same way the broker will.
    Ok(merge_timeseries(spec, vec![TimeseriesPartial { rows }]))
}
