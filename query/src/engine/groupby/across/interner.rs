//! The distinct values of one grouping dimension that a worker holds, each with a
//! worker-wide id, in hash tables by part of the value range: a segment whose dictionary is
//! resolved in value order works on one part's table at a time, small enough to stay in the
//! CPU cache. Table entries hold the value's first 16 bytes ([`Head`]), so most comparisons
//! read nothing else.

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::partial::DimValue;

/// Bytes a [`Head`] holds.
const HEAD_BYTES: usize = 16;

/// The length of null in a [`Head`].
const NULL_LEN: u32 = u32::MAX;

/// A value's first 16 bytes (zero-padded, as two big-endian words, so heads order as the
/// values do but for ties) and its length ([`NULL_LEN`] for null). Values of up to 16 bytes
/// are equal exactly when their heads are.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Head {
    words: [u64; 2],
    len: u32,
}

impl Head {
    fn of(value: Option<&[u8]>) -> Head {
        let Some(bytes) = value else {
            return Head {
                words: [0; 2],
                len: NULL_LEN,
            };
        };
        let mut head = [0u8; HEAD_BYTES];
        let held = bytes.len().min(HEAD_BYTES);
        head[..held].copy_from_slice(&bytes[..held]);
        let (low, high) = head.split_at(8);
        Head {
            words: [word(low), word(high)],
            len: bytes.len() as u32,
        }
    }

    /// Whether equal heads mean equal values.
    fn whole(&self) -> bool {
        self.len == NULL_LEN || self.len as usize <= HEAD_BYTES
    }
}

/// Eight bytes as a big-endian word.
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_be_bytes(word)
}

/// A table entry: a value's head and its worker-wide id.
struct Held {
    head: Head,
    id: u32,
}

pub(super) struct Interner {
    /// One table per part of the value range.
    parts: Vec<HashTable<Held>>,
    /// Each id's value and hash.
    values: Vec<DimValue>,
    hashes: Vec<u64>,
}

impl Interner {
    pub(super) fn new(parts: usize) -> Interner {
        Interner {
            parts: (0..parts.max(1)).map(|_| HashTable::new()).collect(),
            values: Vec::new(),
            hashes: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    /// The id of the value with these bytes and hash, in part `part` of the value range;
    /// `make` renders the value when it is new.
    pub(super) fn intern(
        &mut self,
        part: usize,
        hash: u64,
        bytes: Option<&[u8]>,
        make: impl FnOnce() -> DimValue,
    ) -> u32 {
        let Interner {
            parts,
            values,
            hashes,
        } = self;
        let head = Head::of(bytes);
        let same = |held: &Held| {
            held.head == head
                && (head.whole()
                    || values[held.id as usize]
                        .as_ref()
                        .map(|value| value.as_bytes())
                        == bytes)
        };
        match parts[part].entry(hash, same, |held| hashes[held.id as usize]) {
            Entry::Occupied(entry) => entry.get().id,
            Entry::Vacant(entry) => {
                let id = values.len() as u32;
                values.push(make());
                hashes.push(hash);
                entry.insert(Held { head, id });
                id
            }
        }
    }

    pub(super) fn value(&self, id: u32) -> &DimValue {
        &self.values[id as usize]
    }

    /// Takes an id's value out (leaving null), for a caller that needs it only once.
    pub(super) fn take(&mut self, id: u32) -> DimValue {
        std::mem::take(&mut self.values[id as usize])
    }

    /// Every id in the order of its values (null first, then by bytes): part after part,
    /// each part's ids sorted on their heads, ties on the values themselves.
    pub(super) fn sorted_ids(&self) -> Vec<u32> {
        let mut sorted = Vec::with_capacity(self.values.len());
        let mut part_ids: Vec<(Head, u32)> = Vec::new();
        for part in &self.parts {
            part_ids.clear();
            part_ids.extend(part.iter().map(|held| (held.head, held.id)));
            part_ids.sort_unstable_by(|(left_head, left), (right_head, right)| {
                left_head.words.cmp(&right_head.words).then_with(|| {
                    match left_head.whole() && right_head.whole() {
                        // Null's head is the empty string's; its length puts it first.
                        true => {
                            (left_head.len.wrapping_add(1)).cmp(&right_head.len.wrapping_add(1))
                        }
                        false => self.values[*left as usize].cmp(&self.values[*right as usize]),
                    }
                })
            });
            sorted.extend(part_ids.iter().map(|&(_, id)| id));
        }
        sorted
    }

    /// Each id's position in [`Self::sorted_ids`].
    pub(super) fn ranks(&self) -> Vec<u32> {
        let mut ranks = vec![0u32; self.values.len()];
        for (rank, id) in self.sorted_ids().into_iter().enumerate() {
            ranks[id as usize] = rank as u32;
        }
        ranks
    }
}
