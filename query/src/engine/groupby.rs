//! GroupBy on one segment: rows are grouped by the output ids of their dimension values
//! (`dimension`: dictionary ids, or dense ids of numeric values, mapped through the spec's
//! transforms), packed into one integer key. A key of at most [`DENSE_BITS`] bits (or of at
//! most [`DENSE_BITS_FOR_MANY_ROWS`] over a segment with rows enough to fill half the array)
//! indexes a dense array of slots directly (such grouping hashes nothing); wider keys go
//! through a hashbrown map from key (`u64`, else `u128`, else a boxed id list) to a dense
//! slot. Aggregators accumulate per slot. Strings are only
//! materialized once per group, when a time bucket is flushed. Granularity `all` stamps every
//! row with the first interval's start, as Druid's `GroupByQuery.getUniversalTimestamp` does.
//!
//! Multi-value dimensions explode rows (Druid's `GroupByEngineV2`): a row is aggregated once
//! per combination of its dimensions' values (the cross product when several dimensions are
//! multi-value; a value held twice counts twice), and a row without values groups as null.
//!
//! The rows held (flushed plus current groups) are capped by `Query::max_group_rows`; past it
//! the scan stops adding rows and the query fails with `Resource limit exceeded`.

pub(super) mod across;

use std::hash::Hash;
use std::ops::{BitOr, Shl};

use hashbrown::HashMap;
use henge_segment::granularity::Granularity;

use super::dimension::DimensionReader;
use super::{SegmentView, BATCH_ROWS};
use crate::aggregate::{slot_values, Accumulator};
use crate::error::QueryError;
use crate::merge::{merge_group_by, too_many_groups};
use crate::model::dimension::OutputType;
use crate::model::spec::GroupBySpec;
use crate::model::Query;
use crate::partial::{GroupByPartial, GroupRow};

/// Widest packed key that always indexes a dense slot array (64 Ki entries, 256 KiB).
const DENSE_BITS: u32 = 16;

/// Widest packed key that indexes a dense slot array when the segment has at least half as
/// many rows as the array has entries (4 Mi entries, 16 MiB): a high-cardinality key such
/// as a user id then costs an array lookup per row instead of a hash probe, and no sort.
const DENSE_BITS_FOR_MANY_ROWS: u32 = 22;

/// No group has this packed key yet (in a dense slot array).
const NO_SLOT: u32 = u32::MAX;

/// Group key -> slot, specialised by how many bits the packed ids need.
enum KeyMap {
    /// Slot of each packed key, [`NO_SLOT`] where none; and how many slots are taken.
    Dense(Vec<u32>, usize),
    Narrow(HashMap<u64, u32>),
    Wide(HashMap<u128, u32>),
    Ids(HashMap<Box<[u32]>, u32>),
}

impl KeyMap {
    /// The map for packed keys of `bits` bits over a segment of `rows` rows.
    fn for_bits(bits: u32, rows: usize) -> KeyMap {
        let dense = bits <= DENSE_BITS
            || (bits <= DENSE_BITS_FOR_MANY_ROWS && (1usize << bits) <= rows.saturating_mul(2));
        match bits {
            bits if dense => KeyMap::Dense(vec![NO_SLOT; 1 << bits], 0),
            ..=64 => KeyMap::Narrow(HashMap::new()),
            65..=128 => KeyMap::Wide(HashMap::new()),
            _ => KeyMap::Ids(HashMap::new()),
        }
    }

    fn len(&self) -> usize {
        match self {
            KeyMap::Dense(_, len) => *len,
            KeyMap::Narrow(map) => map.len(),
            KeyMap::Wide(map) => map.len(),
            KeyMap::Ids(map) => map.len(),
        }
    }

    /// Appends every slot to `order`, in the order of the groups' id lists (first
    /// dimension first); `group_ids` holds their ids (`shifts.len()` per group).
    fn slots_in_key_order(&self, group_ids: &[u32], shifts: &[u32], order: &mut Vec<u32>) {
        let width = shifts.len();
        match self {
            KeyMap::Dense(table, _) => {
                order.extend(table.iter().copied().filter(|&slot| slot != NO_SLOT));
            }
            KeyMap::Narrow(_) | KeyMap::Wide(_) => {
                let mut keyed: Vec<(u128, u32)> = group_ids
                    .chunks_exact(width)
                    .zip(0u32..)
                    .map(|(ids, slot)| (pack(ids.iter().copied(), shifts), slot))
                    .collect();
                keyed.sort_unstable();
                order.extend(keyed.into_iter().map(|(_, slot)| slot));
            }
            KeyMap::Ids(map) => {
                let start = order.len();
                order.extend(0..map.len() as u32);
                let ids_of = |slot: u32| &group_ids[slot as usize * width..][..width];
                order[start..].sort_unstable_by(|&left, &right| ids_of(left).cmp(ids_of(right)));
            }
        }
    }

    /// Forgets every group; `group_ids` holds their ids (`shifts.len()` per group).
    fn clear(&mut self, group_ids: &[u32], shifts: &[u32]) {
        match self {
            KeyMap::Dense(table, len) => {
                if shifts.is_empty() {
                    table.fill(NO_SLOT);
                } else {
                    // Only the taken entries: a fine granularity flushes often.
                    for ids in group_ids.chunks_exact(shifts.len()) {
                        table[dense_index(ids.iter().copied(), shifts)] = NO_SLOT;
                    }
                }
                *len = 0;
            }
            KeyMap::Narrow(map) => map.clear(),
            KeyMap::Wide(map) => map.clear(),
            KeyMap::Ids(map) => map.clear(),
        }
    }

    /// Sets `slots[i]` to the group of row `i` of the chunk, creating groups as needed; the
    /// ids of every new group are appended to `group_ids`.
    fn assign(
        &mut self,
        dim_ids: &[Vec<u32>],
        shifts: &[u32],
        slots: &mut [u32],
        group_ids: &mut Vec<u32>,
    ) {
        match self {
            KeyMap::Dense(table, len) => {
                for (i, slot) in slots.iter_mut().enumerate() {
                    let entry = &mut table[dense_index(dim_ids.iter().map(|ids| ids[i]), shifts)];
                    if *entry == NO_SLOT {
                        *entry = *len as u32;
                        *len += 1;
                        group_ids.extend(dim_ids.iter().map(|ids| ids[i]));
                    }
                    *slot = *entry;
                }
            }
            KeyMap::Narrow(map) => assign_packed(map, dim_ids, slots, group_ids, |i| {
                pack(dim_ids.iter().map(|ids| ids[i]), shifts)
            }),
            KeyMap::Wide(map) => assign_packed(map, dim_ids, slots, group_ids, |i| {
                pack(dim_ids.iter().map(|ids| ids[i]), shifts)
            }),
            KeyMap::Ids(map) => {
                let mut key = vec![0u32; dim_ids.len()];
                for (i, slot) in slots.iter_mut().enumerate() {
                    for (part, ids) in key.iter_mut().zip(dim_ids) {
                        *part = ids[i];
                    }
                    let next = map.len() as u32;
                    *slot = match map.get(key.as_slice()) {
                        Some(&existing) => existing,
                        None => {
                            map.insert(key.clone().into_boxed_slice(), next);
                            group_ids.extend_from_slice(&key);
                            next
                        }
                    };
                }
            }
        }
    }
}

fn assign_packed<K: Hash + Eq>(
    map: &mut HashMap<K, u32>,
    dim_ids: &[Vec<u32>],
    slots: &mut [u32],
    group_ids: &mut Vec<u32>,
    key_of: impl Fn(usize) -> K,
) {
    for (i, slot) in slots.iter_mut().enumerate() {
        let next = map.len() as u32;
        *slot = *map.entry(key_of(i)).or_insert_with(|| {
            group_ids.extend(dim_ids.iter().map(|ids| ids[i]));
            next
        });
    }
}

/// A group's ids packed into one integer, each shifted by its dimension's shift.
fn pack<K>(ids: impl Iterator<Item = u32>, shifts: &[u32]) -> K
where
    K: From<u32> + Shl<u32, Output = K> + BitOr<Output = K>,
{
    ids.zip(shifts)
        .fold(K::from(0), |key, (id, &shift)| key | K::from(id) << shift)
}

/// The dense-table index of a group's ids (at most [`DENSE_BITS`] bits).
fn dense_index(ids: impl Iterator<Item = u32>, shifts: &[u32]) -> usize {
    pack::<u32>(ids, shifts) as usize
}

/// Bits needed for ids below `cardinality`.
fn bits_for(cardinality: usize) -> u32 {
    match cardinality {
        0 | 1 => 0,
        n => usize::BITS - (n - 1).leading_zeros(),
    }
}

pub(crate) fn run(
    spec: &GroupBySpec,
    view: &SegmentView<'_>,
    query: &Query,
) -> Result<GroupByPartial, QueryError> {
    let dimensions: Vec<DimensionReader<'_>> = spec
        .dimensions
        .iter()
        .map(|dimension| DimensionReader::new(dimension, view))
        .collect();
    run_with(spec, view, query, &dimensions)
}

/// [`run`] with the segment's dimensions already read.
pub(crate) fn run_with<'a>(
    spec: &GroupBySpec,
    view: &SegmentView<'a>,
    query: &Query,
    dimensions: &[DimensionReader<'a>],
) -> Result<GroupByPartial, QueryError> {
    // The first dimension in the highest bits: packed keys sort as the id lists do.
    let mut shifts = vec![0u32; dimensions.len()];
    let mut total_bits = 0u32;
    for (dimension, shift) in dimensions.iter().zip(shifts.iter_mut()).rev() {
        *shift = total_bits;
        total_bits += bits_for(dimension.cardinality());
    }
    let mut grouper = Grouper {
        dimensions,
        shifts,
        keys: KeyMap::for_bits(total_bits, view.segment.num_rows()),
        group_ids: Vec::new(),
        accumulators: Accumulator::for_all(&spec.aggregations, view),
        dim_ids: vec![vec![0u32; BATCH_ROWS]; dimensions.len()],
        slots: vec![0u32; BATCH_ROWS],
        rows: Vec::new(),
        exploded: Exploded::default(),
        max_rows: query.max_group_rows(),
        over_limit: false,
        // String outputs: output id order is the order of the rendered values.
        sorted: spec
            .dimensions
            .iter()
            .all(|dimension| dimension.output_type == OutputType::String),
        order: Vec::new(),
    };
    if spec.granularity == Granularity::All {
        for piece in &view.pieces {
            view.for_each_chunk(piece.rows.clone(), |chunk, contiguous| {
                grouper.add(chunk, contiguous)
            });
        }
        let universal_timestamp = query
            .intervals()
            .first()
            .map_or(0, |interval| interval.start);
        grouper.flush(universal_timestamp);
    } else {
        for piece in &view.pieces {
            for (timestamp, rows) in view.buckets(piece, true)? {
                view.for_each_chunk(rows, |chunk, contiguous| grouper.add(chunk, contiguous));
                grouper.flush(timestamp);
            }
        }
    }
    if grouper.over_limit || grouper.rows.len() > grouper.max_rows {
        return Err(too_many_groups(grouper.max_rows));
    }
    if grouper.sorted {
        return Ok(GroupByPartial {
            rows: grouper.rows,
            ordered: true,
        });
    }
    // Sorts the rows and combines groups that several intervals share.
    merge_group_by(
        &spec.aggregations,
        vec![GroupByPartial {
            rows: grouper.rows,
            ordered: false,
        }],
        grouper.max_rows,
    )
}

/// Gives each row its group slot (a new group gets a fresh slot in every accumulator) and
/// aggregates `rows` into their slots; `ids` holds each dimension's output ids of the rows.
fn assign_and_aggregate(
    keys: &mut KeyMap,
    shifts: &[u32],
    slots: &mut [u32],
    group_ids: &mut Vec<u32>,
    accumulators: &mut [Accumulator<'_>],
    ids: &[Vec<u32>],
    rows: &[u32],
) {
    let known = keys.len();
    keys.assign(ids, shifts, slots, group_ids);
    for _ in known..keys.len() {
        accumulators.iter_mut().for_each(Accumulator::push_slot);
    }
    for accumulator in accumulators.iter_mut() {
        accumulator.add_grouped(rows, slots);
    }
}

/// Grouping state for one time bucket, plus the rows flushed so far.
struct Grouper<'d, 'a> {
    dimensions: &'d [DimensionReader<'a>],
    shifts: Vec<u32>,
    keys: KeyMap,
    /// Dictionary ids of every group, `dimensions.len()` per slot.
    group_ids: Vec<u32>,
    accumulators: Vec<Accumulator<'a>>,
    dim_ids: Vec<Vec<u32>>,
    slots: Vec<u32>,
    rows: Vec<GroupRow>,
    exploded: Exploded,
    /// Most rows (flushed plus current groups) this segment may hold.
    max_rows: usize,
    over_limit: bool,
    /// Whether `rows` are still in result order (time, then dimension values) with no key
    /// twice: output ids sort as their values do, and every flush came later than the last.
    sorted: bool,
    /// Scratch: the slots of a flush in key order.
    order: Vec<u32>,
}

/// Scratch space for exploding rows of multi-value dimensions.
#[derive(Default)]
struct Exploded {
    /// Each dimension's output ids of the current row.
    lists: Vec<Vec<u32>>,
    /// The position in each list of the current combination.
    positions: Vec<usize>,
    /// One entry per (row, combination): the row, then each dimension's output id.
    rows: Vec<u32>,
    ids: Vec<Vec<u32>>,
}

impl Grouper<'_, '_> {
    fn add(&mut self, chunk: &[u32], contiguous: bool) {
        if self.over_limit {
            return;
        }
        if self.dimensions.iter().any(DimensionReader::is_multi_value) {
            self.add_exploded(chunk);
            // Checked per chunk: at most one chunk of groups past the limit is ever held.
            self.over_limit = self.rows.len() + self.keys.len() > self.max_rows;
            return;
        }
        let len = chunk.len();
        for (dimension, ids) in self.dimensions.iter().zip(self.dim_ids.iter_mut()) {
            dimension.decode(chunk, contiguous, &mut ids[..len]);
        }
        assign_and_aggregate(
            &mut self.keys,
            &self.shifts,
            &mut self.slots[..len],
            &mut self.group_ids,
            &mut self.accumulators,
            &self.dim_ids,
            chunk,
        );
        // Checked per chunk: at most one chunk of groups past the limit is ever held.
        self.over_limit = self.rows.len() + self.keys.len() > self.max_rows;
    }

    /// Adds the rows of a chunk once per combination of their dimension values.
    fn add_exploded(&mut self, chunk: &[u32]) {
        let width = self.dimensions.len();
        let exploded = &mut self.exploded;
        exploded.lists.resize_with(width, Vec::new);
        exploded.ids.resize_with(width, Vec::new);
        exploded.positions.resize(width, 0);
        exploded.rows.clear();
        exploded.ids.iter_mut().for_each(Vec::clear);
        for &row in chunk {
            for (dimension, list) in self.dimensions.iter().zip(&mut exploded.lists) {
                list.clear();
                dimension.row_outputs(row, list);
                if list.is_empty() {
                    list.push(dimension.empty_output());
                }
            }
            exploded.positions.fill(0);
            'combinations: loop {
                exploded.rows.push(row);
                for ((ids, list), &position) in exploded
                    .ids
                    .iter_mut()
                    .zip(&exploded.lists)
                    .zip(&exploded.positions)
                {
                    ids.push(list[position]);
                }
                // Next combination: the last dimension varies fastest.
                for dimension in (0..width).rev() {
                    exploded.positions[dimension] += 1;
                    if exploded.positions[dimension] < exploded.lists[dimension].len() {
                        continue 'combinations;
                    }
                    exploded.positions[dimension] = 0;
                }
                break;
            }
        }
        let len = exploded.rows.len();
        if self.slots.len() < len {
            self.slots.resize(len, 0);
        }
        assign_and_aggregate(
            &mut self.keys,
            &self.shifts,
            &mut self.slots[..len],
            &mut self.group_ids,
            &mut self.accumulators,
            &exploded.ids,
            &exploded.rows,
        );
    }

    fn flush(&mut self, timestamp: i64) {
        let width = self.dimensions.len();
        let groups = self.keys.len();
        if groups == 0 {
            return;
        }
        if self
            .rows
            .last()
            .is_some_and(|last| last.timestamp >= timestamp)
        {
            self.sorted = false;
        }
        self.order.clear();
        if self.sorted {
            // Ordering ids here spares sorting rendered values when partials merge.
            self.keys
                .slots_in_key_order(&self.group_ids, &self.shifts, &mut self.order);
        } else {
            self.order.extend(0..groups as u32);
        }
        for &slot in &self.order {
            let slot = slot as usize;
            let ids = &self.group_ids[slot * width..(slot + 1) * width];
            self.rows.push(GroupRow {
                timestamp,
                dims: self
                    .dimensions
                    .iter()
                    .zip(ids)
                    .map(|(dimension, &id)| dimension.key(id))
                    .collect(),
                values: slot_values(&self.accumulators, slot),
            });
        }
        self.keys.clear(&self.group_ids, &self.shifts);
        self.group_ids.clear();
        self.accumulators.iter_mut().for_each(|acc| acc.reset(0));
    }
}
