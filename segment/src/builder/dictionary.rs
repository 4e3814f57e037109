//! The per-column string accumulator of the builder: interns each distinct value once into
//! an arena (hash table of insertion ids), records one id per row, and at write time sorts
//! the dictionary and remaps the row ids to their sorted positions.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Row id of a null before the dictionary is sorted.
const NULL_INSERTION_ID: u32 = u32::MAX;

/// Distinct values in insertion order plus one insertion id per row.
#[derive(Default)]
pub(crate) struct StringAccumulator {
    /// Every distinct value, concatenated.
    arena: String,
    /// `value i = arena[ends[i - 1]..ends[i]]` (with `ends[-1] = 0`).
    ends: Vec<usize>,
    table: HashTable<u32>,
    hash_builder: DefaultHashBuilder,
    ids: Vec<u32>,
    has_nulls: bool,
}

/// A sorted dictionary and the rows' ids into it (id 0 is null when `has_nulls`).
pub(crate) struct EncodedStrings {
    arena: String,
    ends: Vec<usize>,
    /// Sorted position -> insertion id.
    order: Vec<u32>,
    pub(crate) has_nulls: bool,
    /// Final id per row, in push order.
    pub(crate) ids: Vec<u32>,
}

fn slice<'a>(arena: &'a str, ends: &[usize], id: u32) -> &'a str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &arena[start..ends[id]]
}

impl StringAccumulator {
    pub(crate) fn push(&mut self, value_opt: Option<&str>) {
        let id = match value_opt {
            None => {
                self.has_nulls = true;
                NULL_INSERTION_ID
            }
            Some(value) => self.intern(value),
        };
        self.ids.push(id);
    }

    pub(crate) fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional);
    }

    fn intern(&mut self, value: &str) -> u32 {
        let hash = self.hash_builder.hash_one(value);
        let StringAccumulator {
            arena,
            ends,
            table,
            hash_builder,
            ..
        } = self;
        if let Some(&id) = table.find(hash, |&id| slice(arena, ends, id) == value) {
            return id;
        }
        let id = ends.len() as u32;
        assert!(
            id < NULL_INSERTION_ID,
            "string column has too many distinct values"
        );
        arena.push_str(value);
        ends.push(arena.len());
        table.insert_unique(hash, id, |&id| {
            hash_builder.hash_one(slice(arena, ends, id))
        });
        id
    }

    /// Sorts the dictionary by UTF-8 bytes and rewrites the row ids to sorted positions,
    /// shifted by one when the column has nulls (null = 0).
    pub(crate) fn encode(self) -> EncodedStrings {
        let StringAccumulator {
            arena,
            ends,
            mut ids,
            has_nulls,
            ..
        } = self;
        let mut order: Vec<u32> = (0..ends.len() as u32).collect();
        order.sort_unstable_by(|&left, &right| {
            slice(&arena, &ends, left).cmp(slice(&arena, &ends, right))
        });
        let shift = u32::from(has_nulls);
        let mut final_id = vec![0u32; ends.len()];
        for (position, &insertion_id) in order.iter().enumerate() {
            final_id[insertion_id as usize] = position as u32 + shift;
        }
        for id in &mut ids {
            *id = if *id == NULL_INSERTION_ID {
                0
            } else {
                final_id[*id as usize]
            };
        }
        EncodedStrings {
            arena,
            ends,
            order,
            has_nulls,
            ids,
        }
    }
}

impl EncodedStrings {
    /// The non-null dictionary values in sorted order.
    pub(crate) fn sorted_values(&self) -> Vec<&str> {
        self.order
            .iter()
            .map(|&id| slice(&self.arena, &self.ends, id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_sorts_and_remaps() {
        let mut accumulator = StringAccumulator::default();
        for value in [Some("b"), None, Some("a"), Some("b"), Some(""), Some("c")] {
            accumulator.push(value);
        }
        let encoded = accumulator.encode();
        assert_eq!(encoded.sorted_values(), ["", "a", "b", "c"]);
        assert!(encoded.has_nulls);
        assert_eq!(encoded.ids, [3, 0, 2, 3, 1, 4]);
    }

    #[test]
    fn without_nulls_ids_start_at_zero() {
        let mut accumulator = StringAccumulator::default();
        for value in ["z", "y", "z"] {
            accumulator.push(Some(value));
        }
        let encoded = accumulator.encode();
        assert!(!encoded.has_nulls);
        assert_eq!(encoded.ids, [1, 0, 1]);
    }
}
