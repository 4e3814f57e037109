//! Resolving a segment's first-dimension output ids before its rows are read (range split):
//! this worker's ids of every segment, part by part of its value range, so that one part's
//! small table serves all the segments while it is in the CPU cache.

use super::{selected_rows, Split, Table, NOT_MINE};
use crate::engine::dimension::DimensionReader;
use crate::engine::SegmentView;
use crate::model::dimension::OutputType;

impl Table<'_> {
    /// Resolves the first dimension's output ids up front (range split), in the segments
    /// grouped here whose selected rows are no fewer than those ids: part by part of this
    /// worker's range, every segment's ids of the part, so the part's table stays in the
    /// CPU cache. Per segment, `None` where ids are left to be resolved as rows meet them.
    pub(super) fn resolve_all(
        &mut self,
        views: &[SegmentView<'_>],
        readers: &[Vec<DimensionReader<'_>>],
        alone: &[bool],
        output_type: OutputType,
    ) -> Vec<Option<Vec<u32>>> {
        let mut resolved: Vec<Option<Vec<u32>>> = views.iter().map(|_| None).collect();
        let Split::Range { parts, .. } = &self.split else {
            return resolved;
        };
        let parts = *parts;
        // Per segment: this worker's output ids grouped by part, and where each part starts.
        let mut owned: Vec<Option<(Vec<u32>, Vec<usize>)>> = Vec::with_capacity(views.len());
        for ((view, readers), &alone) in views.iter().zip(readers).zip(alone) {
            let values = readers[0].cardinality();
            let eager = !alone && selected_rows(view) >= values;
            owned.push(eager.then(|| self.owned_by_part(&readers[0], output_type)));
        }
        for (index, owned) in owned.iter().enumerate() {
            if owned.is_some() {
                resolved[index] = Some(vec![NOT_MINE; readers[index][0].cardinality()]);
            }
        }
        for part in 0..parts {
            if views.first().is_some_and(SegmentView::interrupted) {
                break;
            }
            for (index, owned) in owned.iter().enumerate() {
                let (Some((ids, starts)), Some(resolved)) = (owned, &mut resolved[index]) else {
                    continue;
                };
                let reader = &readers[index][0];
                for &id in &ids[starts[part]..starts[part + 1]] {
                    resolved[id as usize] = self.intern(0, part, reader, id, 0);
                }
            }
        }
        resolved
    }

    /// This worker's output ids of a first dimension in value order, and where each of its
    /// parts starts among them (one more entry: the end).
    fn owned_by_part(
        &self,
        reader: &DimensionReader<'_>,
        output_type: OutputType,
    ) -> (Vec<u32>, Vec<usize>) {
        let Split::Range { bounds, parts } = &self.split else {
            return (Vec::new(), vec![0]);
        };
        let mine = self.worker * parts..(self.worker + 1) * parts;
        let values = reader.cardinality();
        let bound = |part: usize| bounds[part].as_ref().map(|bound| bound.as_bytes());
        let mut owned: Vec<(usize, u32)> = match output_type {
            // Output ids in value order: this worker's are one run of them.
            OutputType::String => {
                let start = match mine.start {
                    0 => 0,
                    part => first_at_least(reader, values, bound(part - 1)),
                };
                let mut part = mine.start;
                let mut owned = Vec::new();
                for id in start as u32..values as u32 {
                    let bytes = reader.bytes(id);
                    while part < bounds.len() && bound(part) <= bytes {
                        part += 1;
                    }
                    if part >= mine.end {
                        break;
                    }
                    owned.push((part - mine.start, id));
                }
                owned
            }
            _ => (0..values as u32)
                .map(|id| (self.split.part_of(reader.bytes(id)), id))
                .filter(|(part, _)| mine.contains(part))
                .map(|(part, id)| (part - mine.start, id))
                .collect(),
        };
        owned.sort_by_key(|&(part, _)| part);
        let mut starts = Vec::with_capacity(parts + 1);
        let mut at = 0;
        for part in 0..=*parts {
            while at < owned.len() && owned[at].0 < part {
                at += 1;
            }
            starts.push(at);
        }
        (owned.into_iter().map(|(_, id)| id).collect(), starts)
    }
}

/// The first of `values` output ids (in value order) whose value is at least `bound`.
fn first_at_least(reader: &DimensionReader<'_>, values: usize, bound: Option<&[u8]>) -> usize {
    let (mut low, mut high) = (0, values);
    while low < high {
        let middle = low + (high - low) / 2;
        match reader.bytes(middle as u32) < bound {
            true => low = middle + 1,
            false => high = middle,
        }
    }
    low
}
