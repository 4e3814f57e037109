//! The per-column string accumulator of the builder: interns each distinct value once into
//! an arena (hash table of insertion ids), records one id per row, and at write time sorts
//! the dictionary and remaps the row ids to their sorted positions.
//!
//! A column turns multi-value at its first row with zero or several values: from then on
//! `ids` holds every row's values back to back and `row_ends` where each row ends.

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
    /// The hash of each distinct value (growing the table never hashes a value again).
    hashes: Vec<u64>,
    table: HashTable<u32>,
    hash_builder: DefaultHashBuilder,
    ids: Vec<u32>,
    /// Multi-value columns only: the end of each row's values in `ids`.
    row_ends: Option<Vec<u32>>,
    has_nulls: bool,
}

/// A sorted dictionary and the rows' ids into it (id 0 is null when `has_nulls`).
pub(crate) struct EncodedStrings {
    arena: String,
    ends: Vec<usize>,
    /// Sorted position -> insertion id.
    order: Vec<u32>,
    pub(crate) has_nulls: bool,
    /// Final id per row, in push order (every value of every row when `row_ends` is set).
    pub(crate) ids: Vec<u32>,
    /// Multi-value columns only: the end of each row's values in `ids`.
    pub(crate) row_ends: Option<Vec<u32>>,
}

fn slice<'a>(arena: &'a str, ends: &[usize], id: u32) -> &'a str {
    &arena[range(ends, id)]
}

/// The bytes of value `id` (comparisons need no UTF-8 boundary checks).
fn bytes<'a>(arena: &'a [u8], ends: &[usize], id: u32) -> &'a [u8] {
    &arena[range(ends, id)]
}

fn range(ends: &[usize], id: u32) -> std::ops::Range<usize> {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    start..ends[id]
}

/// The first 8 bytes of a value, big-endian, zero-padded: comparing these first orders most
/// pairs without touching the arena.
fn prefix(value: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let len = value.len().min(8);
    head[..len].copy_from_slice(&value[..len]);
    u64::from_be_bytes(head)
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
        self.end_row();
    }

    /// Adds a multi-value row. One value is stored as a single-value row; none or several
    /// make the column multi-value. An empty row counts as null (`has_nulls`), as in Druid,
    /// where null's bitmap holds the empty rows.
    pub(crate) fn push_list<'v>(&mut self, values: impl ExactSizeIterator<Item = Option<&'v str>>) {
        if values.len() == 1 {
            for value in values {
                self.push(value);
            }
            return;
        }
        if self.row_ends.is_none() {
            let ends = (1..=self.ids.len() as u32).collect();
            self.row_ends = Some(ends);
        }
        if values.len() == 0 {
            self.has_nulls = true;
        }
        for value in values {
            let id = match value {
                None => {
                    self.has_nulls = true;
                    NULL_INSERTION_ID
                }
                Some(value) => self.intern(value),
            };
            self.ids.push(id);
        }
        self.end_row();
    }

    fn end_row(&mut self) {
        if let Some(ends) = &mut self.row_ends {
            let end = u32::try_from(self.ids.len())
                .expect("a multi-value column holds at most u32::MAX values");
            ends.push(end);
        }
    }

    pub(crate) fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional);
    }

    fn intern(&mut self, value: &str) -> u32 {
        let hash = self.hash_builder.hash_one(value);
        let StringAccumulator {
            arena,
            ends,
            hashes,
            table,
            ..
        } = self;
        let found = table.find(hash, |&id| {
            hashes[id as usize] == hash && bytes(arena.as_bytes(), ends, id) == value.as_bytes()
        });
        if let Some(&id) = found {
            return id;
        }
        let id = ends.len() as u32;
        assert!(
            id < NULL_INSERTION_ID,
            "string column has too many distinct values"
        );
        arena.push_str(value);
        ends.push(arena.len());
        hashes.push(hash);
        table.insert_unique(hash, id, |&id| hashes[id as usize]);
        id
    }

    /// Sorts the dictionary by UTF-8 bytes and rewrites the row ids to sorted positions,
    /// shifted by one when the column has nulls (null = 0).
    pub(crate) fn encode(self) -> EncodedStrings {
        let StringAccumulator {
            arena,
            ends,
            mut ids,
            row_ends,
            has_nulls,
            ..
        } = self;
        let arena_bytes = arena.as_bytes();
        let mut keyed: Vec<(u64, u32)> = (0..ends.len() as u32)
            .map(|id| (prefix(bytes(arena_bytes, &ends, id)), id))
            .collect();
        keyed.sort_unstable_by(|&(left_prefix, left), &(right_prefix, right)| {
            left_prefix
                .cmp(&right_prefix)
                .then_with(|| bytes(arena_bytes, &ends, left).cmp(bytes(arena_bytes, &ends, right)))
        });
        let order: Vec<u32> = keyed.into_iter().map(|(_, id)| id).collect();
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
            row_ends,
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

    /// The ids of one row (in push order).
    pub(crate) fn row(&self, row: usize) -> &[u32] {
        match &self.row_ends {
            None => std::slice::from_ref(&self.ids[row]),
            Some(ends) => {
                let start = if row == 0 { 0 } else { ends[row - 1] as usize };
                &self.ids[start..ends[row] as usize]
            }
        }
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
        assert!(encoded.row_ends.is_none());
    }

    #[test]
    fn lists_make_the_column_multi_value() {
        let mut accumulator = StringAccumulator::default();
        accumulator.push(Some("b"));
        accumulator.push_list([Some("c"), Some("a"), Some("c")].into_iter());
        accumulator.push_list(std::iter::empty());
        accumulator.push_list([Some("a")].into_iter());
        accumulator.push_list([None, Some("b")].into_iter());
        let encoded = accumulator.encode();
        assert_eq!(encoded.sorted_values(), ["a", "b", "c"]);
        assert!(encoded.has_nulls);
        assert_eq!(encoded.row_ends.as_deref(), Some(&[1, 4, 4, 5, 7][..]));
        assert_eq!(encoded.row(0), [2]);
        assert_eq!(encoded.row(1), [3, 1, 3]);
        assert!(encoded.row(2).is_empty());
        assert_eq!(encoded.row(3), [1]);
        assert_eq!(encoded.row(4), [0, 2]);
    }
}
