//! GroupBy on one segment: rows are grouped by the output ids of their dimension values
//! (`dimension`: dictionary ids, or dense ids of numeric values, mapped through the spec's
//! transforms), packed into one integer key (`u64`, else `u128`, else a boxed id list) in a
//! hashbrown map from key to a dense slot; aggregators accumulate per slot. Strings are only
//! materialized once per group, when a time bucket is flushed. Granularity `all` stamps every
//! row with the first interval's start, as Druid's `GroupByQuery.getUniversalTimestamp` does.
//!
//! Multi-value dimensions explode rows (Druid's `GroupByEngineV2`): a row is aggregated once
//! per combination of its dimensions' values (the cross product when several dimensions are
//! multi-value; a value held twice counts twice), and a row without values groups as null.
//!
//! The rows held (flushed plus current groups) are capped by `Query::max_group_rows`; past it
//! the scan stops adding rows and the query fails with `Resource limit exceeded`.

use std::hash::Hash;

use hashbrown::HashMap;
use henge_segment::granularity::Granularity;

use super::dimension::DimensionReader;
use super::{SegmentView, BATCH_ROWS};
use crate::aggregate::{slot_values, Accumulator};
use crate::error::QueryError;
use crate::merge::{merge_group_by, too_many_groups};
use crate::model::spec::GroupBySpec;
use crate::model::Query;
use crate::partial::{GroupByPartial, GroupRow};

/// Group key -> slot, specialised by how many bits the packed ids need.
enum KeyMap {
    Narrow(HashMap<u64, u32>),
    Wide(HashMap<u128, u32>),
    Ids(HashMap<Box<[u32]>, u32>),
}

impl KeyMap {
    fn for_bits(bits: u32) -> KeyMap {
        match bits {
            0..=64 => KeyMap::Narrow(HashMap::new()),
            65..=128 => KeyMap::Wide(HashMap::new()),
            _ => KeyMap::Ids(HashMap::new()),
        }
    }

    fn len(&self) -> usize {
        match self {
            KeyMap::Narrow(map) => map.len(),
            KeyMap::Wide(map) => map.len(),
            KeyMap::Ids(map) => map.len(),
        }
    }

    fn clear(&mut self) {
        match self {
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
            KeyMap::Narrow(map) => assign_packed(map, dim_ids, slots, group_ids, |i| {
                dim_ids.iter().zip(shifts).fold(0u64, |key, (ids, &shift)| {
                    key | (u64::from(ids[i]) << shift)
                })
            }),
            KeyMap::Wide(map) => assign_packed(map, dim_ids, slots, group_ids, |i| {
                dim_ids
                    .iter()
                    .zip(shifts)
                    .fold(0u128, |key, (ids, &shift)| {
                        key | (u128::from(ids[i]) << shift)
                    })
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
    let mut shifts = Vec::with_capacity(dimensions.len());
    let mut total_bits = 0u32;
    for dimension in &dimensions {
        shifts.push(total_bits);
        total_bits += bits_for(dimension.cardinality());
    }
    let mut grouper = Grouper {
        dimensions: &dimensions,
        shifts,
        keys: KeyMap::for_bits(total_bits),
        group_ids: Vec::new(),
        accumulators: Accumulator::for_all(&spec.aggregations, view),
        dim_ids: vec![vec![0u32; BATCH_ROWS]; dimensions.len()],
        slots: vec![0u32; BATCH_ROWS],
        rows: Vec::new(),
        exploded: Exploded::default(),
        max_rows: query.max_group_rows(),
        over_limit: false,
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
    if grouper.over_limit {
        return Err(too_many_groups(grouper.max_rows));
    }
    // Sorts the rows and combines groups that several intervals share.
    merge_group_by(
        &spec.aggregations,
        vec![GroupByPartial { rows: grouper.rows }],
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
        for slot in 0..self.keys.len() {
            let ids = &self.group_ids[slot * width..(slot + 1) * width];
            self.rows.push(GroupRow {
                timestamp,
                dims: self
                    .dimensions
                    .iter()
                    .zip(ids)
                    .map(|(dimension, &id)| dimension.value(id))
                    .collect(),
                values: slot_values(&self.accumulators, slot),
            });
        }
        self.keys.clear();
        self.group_ids.clear();
        self.accumulators.iter_mut().for_each(|acc| acc.reset(0));
    }
}
