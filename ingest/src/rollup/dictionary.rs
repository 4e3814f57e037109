//! [`Dictionary`]: the distinct strings of one column in insertion order, interned through a
//! hash table over an arena (no allocation per value).

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Distinct strings in insertion order; id 0 is reserved for null.
#[derive(Default)]
pub(super) struct Dictionary {
    arena: String,
    /// End offset of value `id` is `ends[id - 1]`.
    ends: Vec<usize>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Dictionary {
    pub(super) fn get(&self, id: u32) -> Option<&str> {
        let index = id.checked_sub(1)? as usize;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.arena[start..self.ends[index]])
    }

    pub(super) fn intern(&mut self, value: &str) -> u32 {
        let hash = self.hasher.hash_one(value);
        let Dictionary {
            arena,
            ends,
            table,
            hasher,
        } = self;
        let value_of = |id: u32| {
            let index = id as usize - 1;
            let start = if index == 0 { 0 } else { ends[index - 1] };
            &arena[start..ends[index]]
        };
        if let Some(id) = table.find(hash, |&id| value_of(id) == value) {
            return *id;
        }
        arena.push_str(value);
        ends.push(arena.len());
        let id = ends.len() as u32;
        let rehash = |&id: &u32| {
            let index = id as usize - 1;
            let start = if index == 0 { 0 } else { ends[index - 1] };
            hasher.hash_one(&arena[start..ends[index]])
        };
        table.insert_unique(hash, id, rehash);
        id
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_value_once() {
        let mut dictionary = Dictionary::default();
        let values = ["b", "a", "", "b", "ccc", "a"];
        let ids: Vec<u32> = values
            .iter()
            .map(|value| dictionary.intern(value))
            .collect();
        assert_eq!(ids, [1, 2, 3, 1, 4, 2]);
        assert_eq!(dictionary.len(), 4);
        assert_eq!(dictionary.get(0), None);
        assert_eq!(dictionary.get(3), Some(""));
        assert_eq!(dictionary.get(4), Some("ccc"));
        for index in 0..1_000 {
            dictionary.intern(&index.to_string());
        }
        assert_eq!(dictionary.intern("ccc"), 4, "ids survive table growth");
    }
}
