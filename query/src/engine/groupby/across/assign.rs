//! Giving each row of a chunk its group: this worker's rows, each with the slot of its
//! group, resolving output ids to worker-wide ids as rows meet them.

use super::{Scratch, Split, Table, NOT_MINE, UNSEEN};
use crate::engine::dimension::DimensionReader;

impl Table<'_> {
    /// The worker-wide id of an output id's value of dimension `dimension` (in part `part`
    /// of its range), interned now; `hash` is the value's, or 0 when not known yet.
    pub(super) fn intern(
        &mut self,
        dimension: usize,
        part: usize,
        reader: &DimensionReader<'_>,
        id: u32,
        hash: u64,
    ) -> u32 {
        let bytes = reader.bytes(id);
        let hash = match hash {
            0 => self.plan.hash(bytes),
            known => known,
        };
        self.interners[dimension].intern(part, hash, bytes, || reader.key(id))
    }

    /// The rows whose first value is this worker's, each with its group's slot.
    pub(super) fn assign_by_first(
        &mut self,
        readers: &[DimensionReader<'_>],
        rows: &[u32],
        scratch: &mut Scratch,
    ) {
        scratch.rows.clear();
        scratch.slots.clear();
        scratch.global.iter_mut().for_each(Vec::clear);
        let width = readers.len();
        for (at, &row) in rows.iter().enumerate() {
            let id = scratch.ids[0][at];
            let mut first = scratch.resolved[0][id as usize];
            if first == UNSEEN {
                first = self.resolve_first(&readers[0], id);
                scratch.resolved[0][id as usize] = first;
            }
            if first == NOT_MINE {
                continue;
            }
            scratch.rows.push(row);
            if width == 1 {
                scratch.slots.push(first);
                continue;
            }
            scratch.global[0].push(first);
            for (dimension, reader) in readers.iter().enumerate().skip(1) {
                let id = scratch.ids[dimension][at];
                let mut global = scratch.resolved[dimension][id as usize];
                if global == UNSEEN {
                    global = self.intern(dimension, 0, reader, id, 0);
                    scratch.resolved[dimension][id as usize] = global;
                }
                scratch.global[dimension].push(global);
            }
        }
        self.assign_slots(scratch);
    }

    /// The worker-wide id of a first value that is this worker's, else [`NOT_MINE`].
    fn resolve_first(&mut self, reader: &DimensionReader<'_>, id: u32) -> u32 {
        let bytes = reader.bytes(id);
        let (owner, part, hash) = match &self.split {
            Split::Range { parts, .. } => {
                let part = self.split.part_of(bytes);
                (part / parts, part % parts, 0)
            }
            Split::Hash => {
                let hash = self.plan.hash(bytes);
                (self.plan.owner(hash), 0, hash)
            }
        };
        match owner == self.worker {
            true => self.intern(0, part, reader, id, hash),
            false => NOT_MINE,
        }
    }

    /// The rows whose values hash to this worker, each with its group's slot.
    pub(super) fn assign_hashed(
        &mut self,
        readers: &[DimensionReader<'_>],
        rows: &[u32],
        scratch: &mut Scratch,
    ) {
        scratch.rows.clear();
        scratch.global.iter_mut().for_each(Vec::clear);
        for (at, &row) in rows.iter().enumerate() {
            let mut combined = 0u64;
            for ((reader, hashes), ids) in readers.iter().zip(&mut scratch.hashes).zip(&scratch.ids)
            {
                let id = ids[at] as usize;
                if hashes[id] == 0 {
                    hashes[id] = self.plan.hash(reader.bytes(id as u32));
                }
                combined = (combined ^ hashes[id])
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .rotate_left(29);
            }
            if self.plan.owner(combined) != self.worker {
                continue;
            }
            scratch.rows.push(row);
            for (dimension, reader) in readers.iter().enumerate() {
                let id = scratch.ids[dimension][at];
                let mut global = scratch.resolved[dimension][id as usize];
                if global == UNSEEN {
                    let hash = scratch.hashes[dimension][id as usize];
                    global = self.intern(dimension, 0, reader, id, hash);
                    scratch.resolved[dimension][id as usize] = global;
                }
                scratch.global[dimension].push(global);
            }
        }
        self.assign_slots(scratch);
    }

    /// Several dimensions: the slot of each row's packed worker-wide ids.
    fn assign_slots(&mut self, scratch: &mut Scratch) {
        if let Some(keys) = &mut self.keys {
            scratch.slots.resize(scratch.rows.len(), 0);
            keys.assign(
                &scratch.global,
                &self.shifts,
                &mut scratch.slots,
                &mut self.group_ids,
            );
        }
    }
}
