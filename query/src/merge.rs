//! Merging partial results: the one combine step historicals, realtime nodes and the broker
//! share. Merging is associative and the result does not depend on the order of the
//! partials (up to floating-point rounding of double sums).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use henge_segment::granularity::Granularity;

use crate::error::QueryError;
use crate::model::aggregator::AggregatorSpec;
use crate::model::spec::{QueryKind, ScanOrder, ScanSpec, TimeseriesSpec, TopNSpec};
use crate::model::Query;
use crate::order::rank_topn;
use crate::partial::{
    encode_group_by, DimValue, DimValues, GroupByPartial, GroupRow, PartialResult, ScanBatch,
    ScanPartial, ScanRow, TimeBoundaryPartial, TimeseriesPartial, TimeseriesRow, TopNBucket,
    TopNEntry, TopNPartial,
};
use crate::value::AggValue;

/// Merges partial results of `query` into one.
pub fn merge(query: &Query, partials: Vec<PartialResult>) -> Result<PartialResult, QueryError> {
    match &query.kind {
        QueryKind::Timeseries(spec) => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::Timeseries(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::Timeseries(merge_timeseries(spec, parts)))
        }
        QueryKind::TopN(spec) => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::TopN(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::TopN(merge_topn(spec, parts)))
        }
        QueryKind::GroupBy(spec) => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::GroupBy(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::GroupBy(merge_group_by(
                &spec.aggregations,
                parts,
                query.max_group_rows(),
            )?))
        }
        QueryKind::Scan(spec) => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::Scan(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::Scan(merge_scan(spec, parts)))
        }
        QueryKind::SegmentMetadata(spec) => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::SegmentMetadata(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::SegmentMetadata(
                crate::engine::segment_metadata::merge(spec, parts),
            ))
        }
        QueryKind::Search(spec) => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::Search(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::Search(crate::engine::search::merge(
                spec, parts,
            )))
        }
        QueryKind::TimeBoundary(_) | QueryKind::DataSourceMetadata => {
            let parts = unwrap_all(partials, |partial| match partial {
                PartialResult::TimeBoundary(part) => Ok(part),
                other => Err(other),
            })?;
            Ok(PartialResult::TimeBoundary(TimeBoundaryPartial {
                min: parts.iter().filter_map(|part| part.min).min(),
                max: parts.iter().filter_map(|part| part.max).max(),
            }))
        }
    }
}

fn unwrap_all<T>(
    partials: Vec<PartialResult>,
    unwrap: impl Fn(PartialResult) -> Result<T, PartialResult>,
) -> Result<Vec<T>, QueryError> {
    partials
        .into_iter()
        .map(|partial| {
            unwrap(partial).map_err(|other| {
                QueryError::internal(format!(
                    "cannot merge a {} partial result into this query",
                    other.type_name()
                ))
            })
        })
        .collect()
}

/// Combines two value lists aggregator by aggregator.
pub(crate) fn combine_values(specs: &[AggregatorSpec], into: &mut [AggValue], from: Vec<AggValue>) {
    for ((slot, value), spec) in into.iter_mut().zip(from).zip(specs) {
        let current = std::mem::replace(slot, AggValue::Null);
        *slot = current.combine(value, spec.kind);
    }
}

/// Buckets merged by timestamp (`all`: into one bucket stamped with the smallest timestamp);
/// with a limit, only the buckets that can still be returned are kept.
pub(crate) fn merge_timeseries(
    spec: &TimeseriesSpec,
    parts: Vec<TimeseriesPartial>,
) -> TimeseriesPartial {
    let all = spec.granularity == Granularity::All;
    let mut buckets: BTreeMap<i64, TimeseriesRow> = BTreeMap::new();
    for row in parts.into_iter().flat_map(|part| part.rows) {
        let key = if all { 0 } else { row.timestamp };
        match buckets.get_mut(&key) {
            Some(bucket) => {
                bucket.timestamp = bucket.timestamp.min(row.timestamp);
                combine_values(&spec.aggregations, &mut bucket.values, row.values);
            }
            None => {
                buckets.insert(key, row);
            }
        }
    }
    let mut rows: Vec<TimeseriesRow> = buckets.into_values().collect();
    if let Some(limit) = spec.limit.and_then(|limit| usize::try_from(limit).ok()) {
        if spec.descending {
            rows.drain(..rows.len().saturating_sub(limit));
        } else {
            rows.truncate(limit);
        }
    }
    TimeseriesPartial { rows }
}

/// A topN bucket's aggregator values by dimension value.
type EntriesByValue = hashbrown::HashMap<Option<String>, Vec<AggValue>>;

/// Entries merged by value within each bucket, then re-ranked and cut to the per-merge
/// threshold `max(threshold, 1000)`.
pub(crate) fn merge_topn(spec: &TopNSpec, parts: Vec<TopNPartial>) -> TopNPartial {
    let all = spec.granularity == Granularity::All;
    let mut buckets: BTreeMap<i64, (i64, EntriesByValue)> = BTreeMap::new();
    for bucket in parts.into_iter().flat_map(|part| part.buckets) {
        let key = if all { 0 } else { bucket.timestamp };
        let (timestamp, entries) = buckets
            .entry(key)
            .or_insert_with(|| (bucket.timestamp, hashbrown::HashMap::new()));
        *timestamp = (*timestamp).min(bucket.timestamp);
        for entry in bucket.entries {
            match entries.get_mut(&entry.value) {
                Some(values) => combine_values(&spec.aggregations, values, entry.values),
                None => {
                    entries.insert(entry.value, entry.values);
                }
            }
        }
    }
    let buckets = buckets
        .into_values()
        .map(|(timestamp, entries)| {
            let mut entries: Vec<TopNEntry> = entries
                .into_iter()
                .map(|(value, values)| TopNEntry { value, values })
                .collect();
            rank_topn(spec, &mut entries, spec.partial_threshold());
            TopNBucket { timestamp, entries }
        })
        .collect();
    TopNPartial { buckets }
}

/// Druid's `ResourceLimitExceededException` for a groupBy holding more than `limit` rows
/// (its message starts like Druid's merge-buffer message; Henge has no disk spilling).
pub(crate) fn too_many_groups(limit: usize) -> QueryError {
    QueryError::resource_limit(format!(
        "Not enough merge buffer memory to execute this query: it holds more than {limit} \
         group rows (bufferGrouperMaxSize). Henge does not spill groupBy results to disk; \
         narrow the query (filter, fewer dimensions, coarser granularity) or raise \
         --groupby-max-rows on the broker and data nodes."
    ))
}

/// Rows merged by (timestamp, dimension values), in natural order; fails once more than
/// `max_rows` distinct groups are held.
pub(crate) fn merge_group_by(
    specs: &[AggregatorSpec],
    parts: Vec<GroupByPartial>,
    max_rows: usize,
) -> Result<GroupByPartial, QueryError> {
    // Every partial in result order with each key once (the engine and this merge produce
    // them so; anything else is sorted first).
    let runs: Vec<Vec<GroupRow>> = parts
        .into_iter()
        .filter(|part| !part.rows.is_empty())
        .map(|part| match part.ordered {
            true => part.rows,
            false => sorted_unique(specs, part.rows),
        })
        .collect();
    let total: usize = runs.iter().map(Vec::len).sum();
    // Runs that follow each other (a data node's workers split by key range give them so)
    // only need to be joined.
    if runs.len() > 1 && follow(runs.iter().map(Vec::as_slice)) {
        let mut rows = Vec::with_capacity(total);
        runs.into_iter().for_each(|run| rows.extend(run));
        if rows.len() > max_rows {
            return Err(too_many_groups(max_rows));
        }
        return Ok(GroupByPartial {
            rows,
            ordered: true,
        });
    }
    let threads = match runs.len() > 1 && total >= PARALLEL_MERGE_ROWS {
        true => std::thread::available_parallelism().map_or(1, usize::from),
        false => 1,
    };
    let rows = match threads {
        1 => merge_runs(specs, runs),
        _ => {
            // Each thread merges the runs' rows of one key range; the ranges follow each
            // other, so their results concatenate in order.
            let jobs = split_by_key(runs, threads)
                .into_iter()
                .map(|runs| move || merge_runs(specs, runs))
                .collect();
            on_threads(jobs).concat()
        }
    };
    if rows.len() > max_rows {
        return Err(too_many_groups(max_rows));
    }
    Ok(GroupByPartial {
        rows,
        ordered: true,
    })
}

/// Whether every run's keys come after the last of the run before (runs in result order
/// with each key once, none empty).
fn follow<'r>(runs: impl Iterator<Item = &'r [GroupRow]>) -> bool {
    let mut last: Option<&GroupRow> = None;
    for run in runs {
        match (last, run.first()) {
            (_, None) => return false,
            (Some(last), Some(first)) if group_key(last) >= group_key(first) => return false,
            _ => last = run.last(),
        }
    }
    true
}

/// [`merge`]'s result as wire bytes (see [`PartialResult::to_wire`]). GroupBy partials in
/// result order whose rows follow each other (as a data node's workers split by key range
/// give them) are written one after the other, never joined in memory.
pub fn merge_to_wire(query: &Query, partials: Vec<PartialResult>) -> Result<Vec<u8>, QueryError> {
    let unreadable = |error: String| {
        QueryError::unknown(
            format!("failed to encode partial result: {error}"),
            "java.lang.RuntimeException",
        )
    };
    let runs: Option<Vec<&[GroupRow]>> = partials
        .iter()
        .map(|partial| match partial {
            PartialResult::GroupBy(part) if part.ordered => Some(part.rows.as_slice()),
            _ => None,
        })
        .filter(|run| run.is_none_or(|rows| !rows.is_empty()))
        .collect();
    if let (QueryKind::GroupBy(_), Some(runs)) = (&query.kind, runs) {
        let rows: usize = runs.iter().map(|run| run.len()).sum();
        if runs.len() > 1 && follow(runs.iter().copied()) {
            if rows > query.max_group_rows() {
                return Err(too_many_groups(query.max_group_rows()));
            }
            if let Some(bytes) = encode_group_by(&runs, true).map_err(unreadable)? {
                return Ok(bytes);
            }
        }
    }
    merge(query, partials)?.to_wire().map_err(unreadable)
}

/// Runs each job on a thread of its own; their results in order (a job's panic resumes
/// here).
pub(crate) fn on_threads<T: Send, F: FnOnce() -> T + Send>(jobs: Vec<F>) -> Vec<T> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs.into_iter().map(|job| scope.spawn(job)).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Merges at least this many group rows on every core.
const PARALLEL_MERGE_ROWS: usize = 1 << 16;

/// Runs from [`sorted_unique`] merged pairwise, neighbours first, so keys shared by many
/// runs combine early and k runs cost n log k comparisons; equal keys combine in run order.
fn merge_runs(specs: &[AggregatorSpec], mut runs: Vec<Vec<GroupRow>>) -> Vec<GroupRow> {
    while runs.len() > 1 {
        let mut merged = Vec::with_capacity(runs.len().div_ceil(2));
        let mut pairs = runs.into_iter();
        while let Some(left) = pairs.next() {
            merged.push(match pairs.next() {
                Some(right) => merge_sorted(specs, left, right),
                None => left,
            });
        }
        runs = merged;
    }
    runs.pop().unwrap_or_default()
}

/// The runs cut into `pieces` consecutive key ranges (bounded by evenly spaced keys of the
/// longest run): per range, each run's rows in it, runs in their order.
fn split_by_key(runs: Vec<Vec<GroupRow>>, pieces: usize) -> Vec<Vec<Vec<GroupRow>>> {
    let longest = runs
        .iter()
        .max_by_key(|run| run.len())
        .map_or(&[][..], Vec::as_slice);
    let bounds: Vec<(i64, DimValues)> = (1..pieces)
        .filter_map(|piece| longest.get(piece * longest.len() / pieces))
        .map(|row| (row.timestamp, row.dims.clone()))
        .collect();
    let mut ranges: Vec<Vec<Vec<GroupRow>>> = (0..=bounds.len()).map(|_| Vec::new()).collect();
    for mut run in runs {
        for (index, (time, dims)) in bounds.iter().enumerate().rev() {
            let at = run.partition_point(|row| group_key(row) < (*time, dims.as_slice()));
            let tail = run.split_off(at);
            if !tail.is_empty() {
                ranges[index + 1].push(tail);
            }
        }
        if !run.is_empty() {
            ranges[0].push(run);
        }
    }
    ranges
}

/// Where a group row sorts: time, then dimension values.
fn group_key(row: &GroupRow) -> (i64, &[DimValue]) {
    (row.timestamp, &row.dims)
}

/// `rows` in result order with equal keys combined (in their order: a stable sort).
fn sorted_unique(specs: &[AggregatorSpec], mut rows: Vec<GroupRow>) -> Vec<GroupRow> {
    if rows
        .windows(2)
        .all(|pair| group_key(&pair[0]) < group_key(&pair[1]))
    {
        return rows;
    }
    rows.sort_by(|left, right| group_key(left).cmp(&group_key(right)));
    let mut folded: Vec<GroupRow> = Vec::with_capacity(rows.len());
    for row in rows {
        match folded.last_mut() {
            Some(last) if group_key(last) == group_key(&row) => {
                combine_values(specs, &mut last.values, row.values);
            }
            _ => folded.push(row),
        }
    }
    folded
}

/// Two runs from [`sorted_unique`] as one; a key in both combines `left`'s values first.
fn merge_sorted(
    specs: &[AggregatorSpec],
    left: Vec<GroupRow>,
    right: Vec<GroupRow>,
) -> Vec<GroupRow> {
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let order = match (left.peek(), right.peek()) {
            (Some(first), Some(second)) => group_key(first).cmp(&group_key(second)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match order {
            Ordering::Less => merged.extend(left.next()),
            Ordering::Greater => merged.extend(right.next()),
            Ordering::Equal => {
                if let (Some(mut row), Some(other)) = (left.next(), right.next()) {
                    combine_values(specs, &mut row.values, other.values);
                    merged.push(row);
                }
            }
        }
    }
    merged
}

/// Unordered scans: batches by segment id, cut to `offset + limit` rows. Time-ordered scans:
/// every row in `__time` order in one batch, cut likewise.
pub(crate) fn merge_scan(spec: &ScanSpec, parts: Vec<ScanPartial>) -> ScanPartial {
    let mut batches: Vec<ScanBatch> = parts.into_iter().flat_map(|part| part.batches).collect();
    batches.sort_by(|left, right| left.segment_id.cmp(&right.segment_id));
    let budget = spec
        .row_budget()
        .and_then(|budget| usize::try_from(budget).ok());
    if spec.order == ScanOrder::None {
        let mut remaining = budget.unwrap_or(usize::MAX);
        batches.retain_mut(|batch| {
            batch.rows.truncate(remaining);
            remaining -= batch.rows.len();
            !batch.rows.is_empty()
        });
        return ScanPartial { batches };
    }
    let Some(columns) = union_columns(&batches) else {
        return ScanPartial::default();
    };
    let (columns, column_types) = columns;
    let mut rows: Vec<ScanRow> = Vec::new();
    for batch in batches {
        let positions: Vec<Option<usize>> = columns
            .iter()
            .map(|column| batch.columns.iter().position(|own| own == column))
            .collect();
        rows.extend(batch.rows.into_iter().map(|row| {
            ScanRow {
                time: row.time,
                values: positions
                    .iter()
                    .map(|position| {
                        position.map_or(serde_json::Value::Null, |at| row.values[at].clone())
                    })
                    .collect(),
            }
        }));
    }
    // Rows with equal timestamps are ordered by content, so the result does not depend on
    // the order in which partials were merged.
    let descending = spec.order == ScanOrder::Descending;
    rows.sort_by(|left, right| {
        let by_time = if descending {
            right.time.cmp(&left.time)
        } else {
            left.time.cmp(&right.time)
        };
        by_time.then_with(|| row_text(left).cmp(&row_text(right)))
    });
    if let Some(budget) = budget {
        rows.truncate(budget);
    }
    ScanPartial {
        batches: vec![ScanBatch {
            segment_id: None,
            columns,
            column_types,
            rows,
        }],
    }
}

fn row_text(row: &ScanRow) -> String {
    serde_json::to_string(&row.values).unwrap_or_default()
}

/// The union of the batches' columns in first-seen order, with their types.
fn union_columns(batches: &[ScanBatch]) -> Option<(Vec<String>, Vec<Option<String>>)> {
    if batches.is_empty() {
        return None;
    }
    let mut columns: Vec<String> = Vec::new();
    let mut types: Vec<Option<String>> = Vec::new();
    for batch in batches {
        for (column, column_type) in batch.columns.iter().zip(&batch.column_types) {
            match columns.iter().position(|known| known == column) {
                Some(at) => {
                    if types[at].is_none() {
                        types[at] = column_type.clone();
                    }
                }
                None => {
                    columns.push(column.clone());
                    types.push(column_type.clone());
                }
            }
        }
    }
    Some((columns, types))
}

#[cfg(test)]
mod tests {
    use compact_str::CompactString;
    use serde_json::json;

    use super::*;

    /// Keys `user-{i}` for `i` from `start` to `end` stepping by `step`, each counted once.
    fn run(start: usize, end: usize, step: usize) -> GroupByPartial {
        let mut rows: Vec<GroupRow> = (start..end)
            .step_by(step)
            .map(|i| GroupRow {
                timestamp: 0,
                dims: [Some(CompactString::from(format!("user-{i:07}")))]
                    .into_iter()
                    .collect(),
                values: vec![AggValue::Long(1)],
            })
            .collect();
        rows.sort_by(|left, right| group_key(left).cmp(&group_key(right)));
        GroupByPartial {
            rows,
            ordered: false,
        }
    }

    #[test]
    fn large_merges_split_by_key_range_and_agree_with_one_thread() {
        let count = json!({"type": "count", "name": "rows"});
        let specs = [AggregatorSpec::parse(&count, &crate::Limits::default()).unwrap()];
        let parts = vec![
            run(0, 300_000, 1),
            run(0, 300_000, 3),
            run(150_000, 400_000, 2),
        ];
        assert!(parts.iter().map(|part| part.rows.len()).sum::<usize>() >= PARALLEL_MERGE_ROWS);
        let runs: Vec<Vec<GroupRow>> = parts.iter().map(|part| part.rows.clone()).collect();
        let expected = merge_runs(&specs, runs);
        let merged = merge_group_by(&specs, parts, usize::MAX).unwrap();
        assert_eq!(merged.rows, expected);
        assert_eq!(merged.rows.len(), 350_000);
        // Key 0 is in the first two runs; key 150,000 in all three.
        assert_eq!(merged.rows[0].values, vec![AggValue::Long(2)]);
        assert_eq!(merged.rows[150_000].values, vec![AggValue::Long(3)]);
        for pieces in 1..5 {
            let runs: Vec<Vec<GroupRow>> = vec![run(0, 10, 1).rows, run(5, 20, 1).rows];
            let ranges = split_by_key(runs, pieces);
            let rows: usize = ranges.iter().flatten().map(Vec::len).sum();
            assert_eq!(rows, 25);
        }
    }
}
