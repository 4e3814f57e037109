//! GroupBy over many segments into one table per worker thread, for a data node that merges
//! the partials of its segments (nothing cached per segment).
//!
//! Grouping each segment on its own builds rows of owned keys per segment, which are then
//! merged: a million groups per segment of a high-cardinality key cost more to build and
//! merge than to find. Here the workers split the groups instead of the segments: each
//! reads every segment, but keeps only its own groups, so no two workers hold the same
//! group. Per segment and dimension, an output id is resolved once to a worker-wide id of
//! its value (hashed from the value's bytes, interned on first sight: `interner`) or to
//! "another worker's"; rows then cost an array lookup. One dimension: a group is its value's
//! id. Several: the worker-wide ids, packed, find the group in a hash map.
//!
//! How the groups are split ([`Split`]): by ranges of the first dimension's value, bounded
//! by evenly spaced values of the largest segment, so the workers' partials follow each
//! other in result order (no merge). Each worker's range is cut again into parts of a few
//! thousand values; a segment whose rows are no fewer than its first dimension's values
//! resolves all of them up front, in value order, one part's small table at a time. When
//! the first dimension has few values and others follow, the split is by a hash of all the
//! values instead, and ids are resolved as rows meet them.
//!
//! Aggregators' states are carried from segment to segment ([`Carried`]), so only queries
//! whose aggregators keep no row of a segment (count, sums, min/max, means) qualify
//! ([`GroupAcross::plan`]), with granularity `all` and no join. A segment whose key space is
//! small (dense keys, where per-segment grouping hashes nothing) or that has a multi-value
//! dimension is grouped on its own, and its rows merged with the table's.

mod assign;
mod interner;
mod resolve;

use std::hash::BuildHasher;
use std::mem;

use hashbrown::DefaultHashBuilder;
use henge_segment::granularity::Granularity;
use henge_segment::reader::Segment;
use henge_segment::ColumnRef;

use self::interner::Interner;
use super::{bits_for, KeyMap, DENSE_BITS};
use crate::aggregate::{Accumulator, Carried};
use crate::engine::dimension::DimensionReader;
use crate::engine::{with_views, SegmentView, BATCH_ROWS};
use crate::error::QueryError;
use crate::merge::{merge_group_by, too_many_groups};
use crate::model::dimension::OutputType;
use crate::model::spec::{GroupBySpec, QueryKind, TIME_COLUMN};
use crate::model::Query;
use crate::partial::{DimValue, GroupByPartial, GroupRow, PartialResult};

/// An output id not resolved yet in this segment.
const UNSEEN: u32 = u32::MAX;

/// An output id whose groups belong to another worker.
const NOT_MINE: u32 = u32::MAX - 1;

/// Fewest distinct first values (in the largest segment) for a split by range; below it,
/// ranges of so few values would leave workers idle.
const MIN_RANGE_VALUES: usize = 1 << 12;

/// A segment grouped on its own is small when this many of it hold fewer rows than the
/// largest segment.
const SMALL_SHARE: usize = 4;

/// About how many of the largest segment's first values one part of a range holds.
const PART_VALUES: usize = 1 << 12;

/// A groupBy split between `workers` threads, each running [`GroupAcross::run`] over the
/// same segments; their partials together hold every group once.
pub struct GroupAcross {
    workers: usize,
    /// Shared by the workers: a value hashes alike in all of them.
    hasher: DefaultHashBuilder,
}

/// How the workers split the groups.
enum Split {
    /// `bounds` cut the first values (null first, then by bytes) into `workers * parts`
    /// parts: part `p` holds `bounds[p - 1] <= v < bounds[p]`, and worker `w` parts
    /// `w * parts ..= w * parts + parts - 1`. The workers' partials follow each other.
    Range { bounds: Vec<DimValue>, parts: usize },
    /// By a hash of the group's values.
    Hash,
}

impl Split {
    /// The part (over all workers) holding a first value.
    fn part_of(&self, value: Option<&[u8]>) -> usize {
        match self {
            Split::Range { bounds, .. } => bounds
                .partition_point(|bound| bound.as_ref().map(|bound| bound.as_bytes()) <= value),
            Split::Hash => 0,
        }
    }
}

impl GroupAcross {
    /// The plan for `query` over `workers` threads, or `None` when it does not qualify (see
    /// the module doc): the caller then runs it segment by segment.
    pub fn plan(query: &Query, workers: usize) -> Option<GroupAcross> {
        (workers > 0 && GroupAcross::qualifies(query)).then(|| GroupAcross {
            workers,
            hasher: DefaultHashBuilder::default(),
        })
    }

    /// Whether `query` is a groupBy that a data node merging its segments splits by key.
    pub fn qualifies(query: &Query) -> bool {
        let QueryKind::GroupBy(spec) = &query.kind else {
            return false;
        };
        query.joins.is_empty()
            && spec.granularity == Granularity::All
            && !spec.dimensions.is_empty()
            && spec.aggregations.iter().all(Accumulator::carries)
    }

    /// Whether splitting pays on these segments: in some segment the key space is wider
    /// than per-segment grouping indexes densely (narrower keys group fast segment by
    /// segment, on all cores, and merge cheaply), so per-segment results would be about as
    /// large as the answer. A dimension's values are estimated from its column: a string
    /// column's dictionary, otherwise the segment's rows; a column the segment lacks has
    /// one value (null), and so, as an estimate, has a dimension with transforms (its
    /// outputs may be far fewer than its column's values, and resolving them costs every
    /// worker a pass over the dictionary).
    pub fn pays_on<'s>(query: &Query, segments: impl IntoIterator<Item = &'s Segment>) -> bool {
        let QueryKind::GroupBy(spec) = &query.kind else {
            return false;
        };
        let virtual_column = |name: &str| query.virtual_columns.iter().any(|vc| vc.name == name);
        GroupAcross::qualifies(query)
            && segments.into_iter().any(|segment| {
                let bits: u32 = spec
                    .dimensions
                    .iter()
                    .map(|dimension| {
                        let name = dimension.dimension.as_str();
                        bits_for(match segment.column(name) {
                            _ if !dimension.transforms.is_empty() => 1,
                            Some(ColumnRef::String(column)) => column.cardinality(),
                            None if name != TIME_COLUMN && !virtual_column(name) => 1,
                            _ => segment.num_rows(),
                        })
                    })
                    .sum();
                bits > DENSE_BITS
            })
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The groups of `worker` (below [`Self::workers`]) over `segments`, as one groupBy
    /// partial in result order. Polls `interrupted` between segments and chunks of rows.
    pub fn run(
        &self,
        query: &Query,
        worker: usize,
        segments: &[Segment],
        interrupted: &dyn Fn() -> bool,
    ) -> Result<PartialResult, QueryError> {
        let QueryKind::GroupBy(spec) = &query.kind else {
            return Err(QueryError::internal(
                "a groupBy plan ran another query type",
            ));
        };
        with_views(query, segments, interrupted, |views| {
            let readers: Vec<Vec<DimensionReader<'_>>> = views
                .iter()
                .map(|view| {
                    spec.dimensions
                        .iter()
                        .map(|dimension| DimensionReader::new(dimension, view))
                        .collect()
                })
                .collect();
            let split = self.split(spec, segments, &readers);
            let largest_rows = segments.iter().map(Segment::num_rows).max().unwrap_or(0);
            let mut table = Table::new(self, worker, split, spec, query, largest_rows);
            table.add_segments(spec, query, views, &readers)?;
            let timestamp = query
                .intervals()
                .first()
                .map_or(0, |interval| interval.start);
            let mut runs = mem::take(&mut table.runs);
            runs.push(table.finish(timestamp));
            merge_group_by(&spec.aggregations, runs, query.max_group_rows())
                .map(PartialResult::GroupBy)
        })
    }

    /// The split of the groups: by evenly spaced first values of the largest segment, unless
    /// there are too few of them.
    fn split(
        &self,
        spec: &GroupBySpec,
        segments: &[Segment],
        readers: &[Vec<DimensionReader<'_>>],
    ) -> Split {
        let largest = (0..segments.len()).max_by_key(|&index| segments[index].num_rows());
        let Some(reader) = largest.map(|index| &readers[index][0]) else {
            return Split::Hash;
        };
        let values = reader.cardinality();
        if values < MIN_RANGE_VALUES || reader.is_multi_value() {
            return Split::Hash;
        }
        let parts = values.div_ceil(PART_VALUES * self.workers);
        let cuts = self.workers * parts;
        let positions = (1..cuts).map(|cut| values * cut / cuts);
        let bounds = match spec.dimensions[0].output_type {
            // Output ids follow the values' order already.
            OutputType::String => positions.map(|at| reader.key(at as u32)).collect(),
            _ => {
                let mut sorted: Vec<DimValue> =
                    (0..values as u32).map(|id| reader.key(id)).collect();
                sorted.sort_unstable();
                positions.map(|at| mem::take(&mut sorted[at])).collect()
            }
        };
        Split::Range { bounds, parts }
    }

    /// The hash of a dimension value (never 0, which marks "not hashed yet").
    fn hash(&self, value: Option<&[u8]>) -> u64 {
        self.hasher.hash_one(value).max(1)
    }

    /// Which worker owns a key of this hash. Bits 24-55: hashbrown indexes buckets with the
    /// low bits and tags them with the top seven, which must stay spread within a worker.
    fn owner(&self, hash: u64) -> usize {
        ((((hash >> 24) & 0xFFFF_FFFF) * self.workers as u64) >> 32) as usize
    }
}

/// One worker's groups.
struct Table<'p> {
    plan: &'p GroupAcross,
    worker: usize,
    split: Split,
    interners: Vec<Interner>,
    /// Groups by their packed worker-wide ids (two dimensions or more; with one, a group's
    /// slot is its value's id).
    keys: Option<KeyMap>,
    shifts: Vec<u32>,
    /// The worker-wide ids of each group (several dimensions), one per dimension.
    group_ids: Vec<u32>,
    groups: usize,
    /// The aggregators' slots (empty before the first segment grouped here).
    carried: Vec<Carried>,
    /// This worker's rows of segments grouped on their own.
    runs: Vec<GroupByPartial>,
    run_rows: usize,
    max_rows: usize,
    /// Rows of the largest segment.
    largest_rows: usize,
    scratch: Scratch,
}

/// One segment's ids resolved so far, and space for one chunk of rows (kept from segment
/// to segment).
#[derive(Default)]
struct Scratch {
    /// Per dimension and output id: the worker-wide id, [`UNSEEN`] or [`NOT_MINE`].
    resolved: Vec<Vec<u32>>,
    /// Per dimension and output id: the value's hash, 0 before it is needed (hash split
    /// over several dimensions only).
    hashes: Vec<Vec<u64>>,
    /// Each dimension's output ids of the chunk's rows.
    ids: Vec<Vec<u32>>,
    /// The rows this worker groups, with their slots.
    rows: Vec<u32>,
    slots: Vec<u32>,
    /// Each dimension's worker-wide ids of those rows (several dimensions).
    global: Vec<Vec<u32>>,
}

impl Scratch {
    /// Ready for a segment read through `readers` (`hashed`: keeping value hashes).
    fn reset(&mut self, readers: &[DimensionReader<'_>], hashed: bool) {
        let width = readers.len();
        let fill = |lists: &mut Vec<Vec<_>>, count: usize, value| {
            lists.resize_with(count, Vec::new);
            for (list, reader) in lists.iter_mut().zip(readers) {
                list.clear();
                list.resize(reader.cardinality(), value);
            }
        };
        fill(&mut self.resolved, width, UNSEEN);
        let mut hashes = mem::take(&mut self.hashes);
        let hash_lists = if hashed { width } else { 0 };
        hashes.resize_with(hash_lists, Vec::new);
        for (list, reader) in hashes.iter_mut().zip(readers) {
            list.clear();
            list.resize(reader.cardinality(), 0);
        }
        self.hashes = hashes;
        self.ids.resize_with(width, || vec![0; BATCH_ROWS]);
        self.global
            .resize_with(width, || Vec::with_capacity(BATCH_ROWS));
    }
}

impl<'p> Table<'p> {
    fn new(
        plan: &'p GroupAcross,
        worker: usize,
        split: Split,
        spec: &GroupBySpec,
        query: &Query,
        largest_rows: usize,
    ) -> Table<'p> {
        let width = spec.dimensions.len();
        let first_parts = match &split {
            Split::Range { parts, .. } => *parts,
            Split::Hash => 1,
        };
        Table {
            plan,
            worker,
            split,
            interners: (0..width)
                .map(|dimension| Interner::new(if dimension == 0 { first_parts } else { 1 }))
                .collect(),
            keys: (width > 1).then(|| KeyMap::for_bits(32 * width as u32, 0)),
            shifts: (0..width as u32).rev().map(|at| 32 * at).collect(),
            group_ids: Vec::new(),
            groups: 0,
            carried: Vec::new(),
            runs: Vec::new(),
            run_rows: 0,
            max_rows: query.max_group_rows(),
            largest_rows,
            scratch: Scratch::default(),
        }
    }

    /// Groups the rows of every segment (`readers`: each one's dimensions).
    fn add_segments(
        &mut self,
        spec: &GroupBySpec,
        query: &Query,
        views: &[SegmentView<'_>],
        readers: &[Vec<DimensionReader<'_>>],
    ) -> Result<(), QueryError> {
        // Dense keys, where grouping a segment hashes nothing, and multi-value rows: alone.
        let alone: Vec<bool> = readers
            .iter()
            .map(|readers| {
                let bits: u32 = readers
                    .iter()
                    .map(|reader| bits_for(reader.cardinality()))
                    .sum();
                bits <= DENSE_BITS || readers.iter().any(DimensionReader::is_multi_value)
            })
            .collect();
        let mut resolved = self.resolve_all(views, readers, &alone, spec.dimensions[0].output_type);
        for (index, view) in views.iter().enumerate() {
            if view.interrupted() {
                break;
            }
            match alone[index] {
                true => self.add_on_its_own(spec, query, index, view, &readers[index])?,
                false => self.add_segment(spec, view, &readers[index], resolved[index].take())?,
            }
        }
        Ok(())
    }

    /// Groups a segment's rows into the table; `first` is its first dimension's output ids
    /// resolved up front, if they were.
    fn add_segment(
        &mut self,
        spec: &GroupBySpec,
        view: &SegmentView<'_>,
        readers: &[DimensionReader<'_>],
        first: Option<Vec<u32>>,
    ) -> Result<(), QueryError> {
        let carried = mem::take(&mut self.carried).into_iter().map(Some);
        let mut accumulators: Vec<Accumulator<'_>> = spec
            .aggregations
            .iter()
            .zip(carried.chain(std::iter::repeat_with(|| None)))
            .map(|(aggregator, carried)| Accumulator::resume(aggregator, view, carried))
            .collect();
        let hashed = matches!(self.split, Split::Hash) && readers.len() > 1;
        let mut scratch = mem::take(&mut self.scratch);
        scratch.reset(readers, hashed);
        if let Some(first) = first {
            scratch.resolved[0] = first;
        }
        let mut over_limit = false;
        for piece in &view.pieces {
            view.for_each_chunk(piece.rows.clone(), |rows, contiguous| {
                if over_limit {
                    return;
                }
                for (reader, ids) in readers.iter().zip(scratch.ids.iter_mut()) {
                    reader.decode(rows, contiguous, &mut ids[..rows.len()]);
                }
                match hashed {
                    true => self.assign_hashed(readers, rows, &mut scratch),
                    false => self.assign_by_first(readers, rows, &mut scratch),
                }
                let known = self.groups;
                self.groups = match &self.keys {
                    Some(keys) => keys.len(),
                    None => self.interners[0].len(),
                };
                for _ in known..self.groups {
                    accumulators.iter_mut().for_each(Accumulator::push_slot);
                }
                for accumulator in &mut accumulators {
                    accumulator.add_grouped(&scratch.rows, &scratch.slots);
                }
                over_limit = self.groups + self.run_rows > self.max_rows;
            });
        }
        self.scratch = scratch;
        self.carried = accumulators.into_iter().map(Accumulator::suspend).collect();
        self.check_limit()
    }

    /// Groups a segment on its own. One worker per segment does, unless the split is by
    /// range and the segment is small next to the largest (a realtime hydrant among day
    /// segments, say): then every worker does and keeps the rows of its range, so that the
    /// workers' partials still follow each other.
    fn add_on_its_own<'a>(
        &mut self,
        spec: &GroupBySpec,
        query: &Query,
        index: usize,
        view: &SegmentView<'a>,
        readers: &[DimensionReader<'a>],
    ) -> Result<(), QueryError> {
        let small = view.segment.num_rows().saturating_mul(SMALL_SHARE) < self.largest_rows;
        let parts = match &self.split {
            Split::Range { parts, .. } if small => Some(*parts),
            _ if index % self.plan.workers == self.worker => None,
            _ => return Ok(()),
        };
        let mut run = super::run_with(spec, view, query, readers)?;
        if let Some(parts) = parts {
            run.rows.retain(|row| {
                let first = row.dims[0].as_ref().map(|value| value.as_bytes());
                self.split.part_of(first) / parts == self.worker
            });
        }
        self.run_rows += run.rows.len();
        self.runs.push(run);
        self.check_limit()
    }

    fn check_limit(&self) -> Result<(), QueryError> {
        match self.groups + self.run_rows > self.max_rows {
            true => Err(too_many_groups(self.max_rows)),
            false => Ok(()),
        }
    }

    /// Every group as a row stamped `timestamp`, in result order.
    fn finish(mut self, timestamp: i64) -> GroupByPartial {
        let width = self.interners.len();
        let order: Vec<u32> = match width {
            // A group is its value's id.
            1 => self.interners[0].sorted_ids(),
            _ => {
                let ranks: Vec<Vec<u32>> = self.interners.iter().map(Interner::ranks).collect();
                let group_ids = &self.group_ids;
                let rank = |slot: u32, dimension: usize| {
                    ranks[dimension][group_ids[slot as usize * width + dimension] as usize]
                };
                let mut order: Vec<u32> = (0..self.groups as u32).collect();
                order.sort_unstable_by(|&left, &right| {
                    (0..width)
                        .map(|dimension| rank(left, dimension))
                        .cmp((0..width).map(|dimension| rank(right, dimension)))
                });
                order
            }
        };
        let rows = order
            .into_iter()
            .map(|slot| {
                let dims = match width {
                    // Each value is one group's: taken, not copied.
                    1 => std::iter::once(self.interners[0].take(slot)).collect(),
                    _ => (0..width)
                        .map(|dimension| {
                            let id = self.group_ids[slot as usize * width + dimension];
                            self.interners[dimension].value(id).clone()
                        })
                        .collect(),
                };
                GroupRow {
                    timestamp,
                    dims,
                    values: self
                        .carried
                        .iter()
                        .map(|state| state.value(slot as usize))
                        .collect(),
                }
            })
            .collect();
        GroupByPartial {
            rows,
            ordered: true,
        }
    }
}

/// How many rows of the segment the query selects.
fn selected_rows(view: &SegmentView<'_>) -> usize {
    match &view.selection {
        Some(selection) => selection.len() as usize,
        None => view.pieces.iter().map(|piece| piece.rows.len()).sum(),
    }
}
