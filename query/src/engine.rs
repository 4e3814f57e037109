//! Running a query on one segment: [`run_on_segment`] clips the query intervals to the
//! segment's rows, binds the query's virtual columns ([`Columns`]), evaluates the filter once
//! into a bitmap, then hands both to the engine of the query type.
//!
//! Clipping follows Druid's `CursorGranularizer`: each query interval is intersected with
//! `[minTime, bucketEnd(maxTime))` of the segment, and buckets iterate from the bucket holding
//! the clipped start. With granularity `all` the single bucket starts at the clipped start,
//! which is why timeseries and topN results are stamped `max(interval start, min __time)`.
//!
//! [`run_on_segment_until`] takes a cheap interruption check (a deadline passed, the query
//! was cancelled) that the row loops poll once per chunk of rows, so a data node stops a
//! long scan within a chunk instead of at the end of the segment.

mod dimension;
mod groupby;
mod scan;
pub(crate) mod search;
pub(crate) mod segment_metadata;
mod time_boundary;
mod timeseries;
mod topn;

pub use groupby::across::GroupAcross;

use std::cell::Cell;
use std::ops::Range;

use henge_segment::granularity::Granularity;
use henge_segment::reader::Segment;
use roaring::RoaringBitmap;

use crate::columns::Columns;
use crate::error::QueryError;
use crate::filter::{evaluate, Universe};
use crate::model::filter::FilterSpec;
use crate::model::spec::QueryKind;
use crate::model::Query;
use crate::partial::PartialResult;

/// Most time buckets one segment may produce (zero-filled timeseries, empty topN buckets).
const MAX_BUCKETS_PER_SEGMENT: usize = 1_000_000;

/// Rows handled per batch when rows come from a bitmap.
const BATCH_ROWS: usize = 1024;

/// Runs `query` on one segment, over the rows inside `query.intervals()`.
/// `segment_id` names the segment in scan results.
pub fn run_on_segment(
    query: &Query,
    segment: &Segment,
    segment_id: &str,
) -> Result<PartialResult, QueryError> {
    run_on_segment_until(query, segment, segment_id, &|| false)
}

/// Like [`run_on_segment`], but polls `interrupted` before the work and once per chunk of
/// rows; once it answers `true` the work stops and the result is Druid's
/// `Query cancelled` error (callers that know better, e.g. a passed deadline, replace it).
pub fn run_on_segment_until(
    query: &Query,
    segment: &Segment,
    segment_id: &str,
    interrupted: &dyn Fn() -> bool,
) -> Result<PartialResult, QueryError> {
    if interrupted() {
        return Err(QueryError::cancelled(query.id()));
    }
    if query.joins.is_empty() {
        return run_joined(query, segment, segment_id, interrupted);
    }
    let joined = crate::join::apply(segment, query, interrupted)?;
    run_joined(query, &joined, segment_id, interrupted)
}

/// Runs `query` on `segment`, which already holds the rows of the query's joins.
fn run_joined(
    query: &Query,
    segment: &Segment,
    segment_id: &str,
    interrupted: &dyn Fn() -> bool,
) -> Result<PartialResult, QueryError> {
    with_view(query, segment, interrupted, |view| {
        Ok(match &query.kind {
            QueryKind::Timeseries(spec) => PartialResult::Timeseries(timeseries::run(spec, view)?),
            QueryKind::TopN(spec) => PartialResult::TopN(topn::run(spec, view)?),
            QueryKind::GroupBy(spec) => PartialResult::GroupBy(groupby::run(spec, view, query)?),
            QueryKind::Scan(spec) => PartialResult::Scan(scan::run(spec, view, segment_id)),
            QueryKind::TimeBoundary(_) | QueryKind::DataSourceMetadata => {
                PartialResult::TimeBoundary(time_boundary::run(view))
            }
            QueryKind::Search(spec) => {
                PartialResult::Search(search::run(spec, view, query.datasource(), segment_id))
            }
            QueryKind::SegmentMetadata(spec) => PartialResult::SegmentMetadata(
                segment_metadata::run(spec, segment, query.datasource(), segment_id),
            ),
        })
    })
}

/// Prepares `segment` for `query` (clipped intervals, virtual columns, the filter's rows)
/// and runs `work` on it; an interruption `work` saw, or a virtual column or expression
/// filter that failed on some row, fails the result.
fn with_view<T>(
    query: &Query,
    segment: &Segment,
    interrupted: &dyn Fn() -> bool,
    work: impl FnOnce(&SegmentView<'_>) -> Result<T, QueryError>,
) -> Result<T, QueryError> {
    with_views(query, std::slice::from_ref(segment), interrupted, |views| {
        work(&views[0])
    })
}

/// Like [`with_view`] for many segments at once: `work` gets every segment's view, in the
/// order of `segments`.
fn with_views<T>(
    query: &Query,
    segments: &[Segment],
    interrupted: &dyn Fn() -> bool,
    work: impl FnOnce(&[SegmentView<'_>]) -> Result<T, QueryError>,
) -> Result<T, QueryError> {
    let (granularity, filter) = view_terms(query);
    let pieces: Vec<Vec<Piece>> = segments
        .iter()
        .map(|segment| clip(query, segment, granularity))
        .collect();
    // Only timeseries, topN, groupBy and scan queries have virtual columns.
    let columns: Vec<Columns<'_>> = segments
        .iter()
        .zip(&pieces)
        .map(|(segment, pieces)| {
            let ranges = pieces.iter().map(|piece| piece.rows.clone()).collect();
            Columns::new(segment, &query.virtual_columns, ranges)
        })
        .collect();
    let views: Vec<SegmentView<'_>> = columns
        .iter()
        .zip(pieces)
        .map(|(columns, pieces)| {
            SegmentView::new(columns, granularity, pieces, filter, interrupted)
        })
        .collect();
    let result = work(&views)?;
    if views.iter().any(|view| view.interrupt_seen.get()) {
        return Err(QueryError::cancelled(query.id()));
    }
    match columns.iter().find_map(Columns::take_error) {
        Some(error) => Err(error),
        None => Ok(result),
    }
}

/// The granularity a query's rows are bucketed by, and its filter.
fn view_terms(query: &Query) -> (Granularity, Option<&FilterSpec>) {
    match &query.kind {
        QueryKind::Timeseries(spec) => (spec.granularity, spec.filter.as_ref()),
        QueryKind::TopN(spec) => (spec.granularity, spec.filter.as_ref()),
        QueryKind::GroupBy(spec) => (spec.granularity, spec.filter.as_ref()),
        QueryKind::Scan(spec) => (Granularity::All, spec.filter.as_ref()),
        QueryKind::TimeBoundary(spec) => (Granularity::All, spec.filter.as_ref()),
        QueryKind::Search(spec) => (Granularity::All, spec.filter.as_ref()),
        QueryKind::DataSourceMetadata | QueryKind::SegmentMetadata(_) => (Granularity::All, None),
    }
}

/// Each query interval clipped to the segment's data (see the module doc), with its rows.
fn clip(query: &Query, segment: &Segment, granularity: Granularity) -> Vec<Piece> {
    let times = segment.times();
    match (times.first(), times.last()) {
        (Some(&min_time), Some(&max_time)) => {
            let data_end = match granularity {
                Granularity::All => i64::MAX,
                _ => granularity.next_bucket_start(granularity.bucket_start(max_time)),
            };
            query
                .intervals()
                .iter()
                .filter_map(|interval| {
                    let start = interval.start.max(min_time);
                    let end = interval.end.min(data_end);
                    (start < end).then(|| Piece {
                        start,
                        end,
                        rows: times.partition_point(|&t| t < start)
                            ..times.partition_point(|&t| t < end),
                    })
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// One query interval clipped to the segment, and the rows it covers.
pub(crate) struct Piece {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) rows: Range<usize>,
}

/// A segment prepared for one query: its columns (with the query's virtual columns),
/// clipped intervals and the filter's matching rows.
pub(crate) struct SegmentView<'a> {
    pub(crate) segment: &'a Columns<'a>,
    pub(crate) granularity: Granularity,
    pub(crate) pieces: Vec<Piece>,
    /// Rows passing the filter; `None` when there is no filter.
    pub(crate) selection: Option<RoaringBitmap>,
    interrupted: &'a dyn Fn() -> bool,
    interrupt_seen: Cell<bool>,
}

impl<'a> SegmentView<'a> {
    fn new(
        segment: &'a Columns<'a>,
        granularity: Granularity,
        pieces: Vec<Piece>,
        filter: Option<&FilterSpec>,
        interrupted: &'a dyn Fn() -> bool,
    ) -> SegmentView<'a> {
        let selection = filter.map(|filter| {
            let ranges: Vec<Range<usize>> = pieces.iter().map(|piece| piece.rows.clone()).collect();
            evaluate(filter, segment, &Universe::new(&ranges))
        });
        SegmentView {
            segment,
            granularity,
            pieces,
            selection,
            interrupted,
            interrupt_seen: Cell::new(false),
        }
    }

    /// Whether the query must stop (sticky: once seen, always seen). Row loops call it once
    /// per chunk of rows and stop early; `run_on_segment_until` then reports the stop.
    pub(crate) fn interrupted(&self) -> bool {
        if !self.interrupt_seen.get() && (self.interrupted)() {
            self.interrupt_seen.set(true);
        }
        self.interrupt_seen.get()
    }

    /// Calls `visit` with the selected rows of `rows`, ascending: one contiguous range when
    /// there is no filter, else batches of row numbers from the filter bitmap.
    pub(crate) fn for_each_batch(&self, rows: Range<usize>, mut visit: impl FnMut(Batch<'_>)) {
        match &self.selection {
            None => {
                if !rows.is_empty() {
                    visit(Batch::Range(rows));
                }
            }
            Some(selection) => {
                let mut buffer = Vec::with_capacity(BATCH_ROWS);
                for row in selection.range(rows.start as u32..rows.end as u32) {
                    buffer.push(row);
                    if buffer.len() == BATCH_ROWS {
                        if self.interrupted() {
                            return;
                        }
                        visit(Batch::Rows(&buffer));
                        buffer.clear();
                    }
                }
                if !buffer.is_empty() {
                    visit(Batch::Rows(&buffer));
                }
            }
        }
    }

    /// Like [`Self::for_each_batch`], but always in chunks of at most `BATCH_ROWS` row
    /// numbers; `contiguous` tells whether the chunk is a run of consecutive rows.
    pub(crate) fn for_each_chunk(&self, rows: Range<usize>, mut visit: impl FnMut(&[u32], bool)) {
        let mut buffer: Vec<u32> = Vec::with_capacity(BATCH_ROWS);
        self.for_each_batch(rows, |batch| match batch {
            Batch::Rows(rows) => visit(rows, false),
            Batch::Range(range) => {
                for start in range.clone().step_by(BATCH_ROWS) {
                    if self.interrupted() {
                        return;
                    }
                    let end = (start + BATCH_ROWS).min(range.end);
                    buffer.clear();
                    buffer.extend(start as u32..end as u32);
                    visit(&buffer, true);
                }
            }
        });
    }

    /// The selected rows of `rows`, ascending (reverse the iterator for descending).
    pub(crate) fn selected_rows(
        &self,
        rows: Range<usize>,
    ) -> Box<dyn DoubleEndedIterator<Item = usize> + '_> {
        match &self.selection {
            None => Box::new(rows),
            Some(selection) => Box::new(
                selection
                    .range(rows.start as u32..rows.end as u32)
                    .map(|row| row as usize),
            ),
        }
    }

    /// The first selected row at or after `row` and before `end`.
    pub(crate) fn next_selected(&self, row: usize, end: usize) -> Option<usize> {
        match &self.selection {
            None => (row < end).then_some(row),
            Some(selection) => selection
                .range(row as u32..end as u32)
                .next()
                .map(|row| row as usize),
        }
    }

    /// The time buckets of a piece: `(timestamp, rows)` in ascending order. With
    /// `skip_empty`, buckets without selected rows are skipped without being visited.
    pub(crate) fn buckets(
        &self,
        piece: &Piece,
        skip_empty: bool,
    ) -> Result<Vec<(i64, Range<usize>)>, QueryError> {
        let times = self.segment.times();
        if self.granularity == Granularity::All {
            let has_rows = self
                .next_selected(piece.rows.start, piece.rows.end)
                .is_some();
            return Ok(if skip_empty && !has_rows {
                Vec::new()
            } else {
                vec![(piece.start, piece.rows.clone())]
            });
        }
        let mut buckets = Vec::new();
        let mut start = self.granularity.bucket_start(piece.start);
        let mut row = piece.rows.start;
        while start < piece.end {
            if skip_empty {
                let Some(next) = self.next_selected(row, piece.rows.end) else {
                    break;
                };
                start = start.max(self.granularity.bucket_start(times[next]));
                row += times[row..piece.rows.end].partition_point(|&t| t < start);
            }
            let end = self.granularity.next_bucket_start(start);
            let bucket_end_row = row + times[row..piece.rows.end].partition_point(|&t| t < end);
            buckets.push((start, row..bucket_end_row));
            if buckets.len() > MAX_BUCKETS_PER_SEGMENT {
                return Err(QueryError::resource_limit(format!(
                    "query produces more than {MAX_BUCKETS_PER_SEGMENT} time buckets in one segment; \
                     use a coarser granularity or skipEmptyBuckets"
                )));
            }
            row = bucket_end_row;
            start = end;
        }
        Ok(buckets)
    }
}

/// Selected rows handed to an aggregation loop.
pub(crate) enum Batch<'b> {
    Range(Range<usize>),
    Rows(&'b [u32]),
}
