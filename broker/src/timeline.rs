//! Segment selection for a query: the newest complete version of every time chunk.
//!
//! A partition set (segments of one interval and version) is complete when all of its
//! `partitions` core partitions are served somewhere; appendable sets with `partitions == 0`
//! are always complete. Only complete sets are visible, and a segment is overshadowed when a
//! complete set of the same datasource with a greater version covers its whole interval.
//! So a query never sees half of a newly published version. Pure logic over the server
//! view's snapshot.

use std::collections::{BTreeMap, HashMap};

use henge_segment::id::DataSegment;
use henge_segment::time::Interval;

/// One segment as the timeline sees it, with the nodes that serve it.
#[derive(Clone, Debug)]
pub struct TimelineEntry {
    pub segment: DataSegment,
    /// Node ids serving a historical (immutable, cacheable) copy.
    pub historicals: Vec<String>,
    /// Node ids serving a realtime copy (not handed off yet).
    pub realtimes: Vec<String>,
}

/// Builds timeline entries from (node id, segment, is realtime) triples.
pub fn collect_entries<'a>(
    served: impl IntoIterator<Item = (&'a str, &'a DataSegment, bool)>,
) -> Vec<TimelineEntry> {
    let mut by_id: BTreeMap<&str, TimelineEntry> = BTreeMap::new();
    for (node_id, segment, realtime) in served {
        let entry = by_id
            .entry(segment.identifier.as_str())
            .or_insert_with(|| TimelineEntry {
                segment: segment.clone(),
                historicals: Vec::new(),
                realtimes: Vec::new(),
            });
        let nodes = if realtime {
            &mut entry.realtimes
        } else {
            &mut entry.historicals
        };
        if !nodes.iter().any(|existing| existing == node_id) {
            nodes.push(node_id.to_string());
        }
    }
    by_id.into_values().collect()
}

/// Selects the visible segments of `datasource` that overlap any of `intervals`, in
/// (interval start, version, partition) order.
pub fn select(
    entries: &[TimelineEntry],
    datasource: &str,
    intervals: &[Interval],
) -> Vec<TimelineEntry> {
    let candidates: Vec<&TimelineEntry> = entries
        .iter()
        .filter(|entry| entry.segment.data_source == datasource)
        .collect();
    let complete = complete_versions(&candidates);
    let mut visible: Vec<TimelineEntry> = candidates
        .iter()
        .filter(|entry| {
            let interval = entry.segment.interval;
            let set = (interval, entry.segment.version.clone());
            intervals.iter().any(|query| query.overlaps(&interval))
                && complete.get(&set).copied().unwrap_or(false)
                && !is_overshadowed(entry, &candidates, &complete)
        })
        .map(|entry| (*entry).clone())
        .collect();
    visible.sort_by(|left, right| {
        (
            left.segment.interval.start,
            &left.segment.version,
            left.segment.shard_spec.partition_num,
        )
            .cmp(&(
                right.segment.interval.start,
                &right.segment.version,
                right.segment.shard_spec.partition_num,
            ))
    });
    visible
}

/// (interval, version) pairs whose partition sets are complete.
fn complete_versions(candidates: &[&TimelineEntry]) -> HashMap<(Interval, String), bool> {
    let mut present: HashMap<(Interval, String), (u32, Vec<u32>)> = HashMap::new();
    for entry in candidates {
        let key = (entry.segment.interval, entry.segment.version.clone());
        let slot = present.entry(key).or_insert((0, Vec::new()));
        slot.0 = slot.0.max(entry.segment.shard_spec.partitions);
        slot.1.push(entry.segment.shard_spec.partition_num);
    }
    present
        .into_iter()
        .map(|(key, (partitions, nums))| {
            let complete = (0..partitions).all(|partition| nums.contains(&partition));
            (key, complete)
        })
        .collect()
}

fn is_overshadowed(
    entry: &TimelineEntry,
    candidates: &[&TimelineEntry],
    complete: &HashMap<(Interval, String), bool>,
) -> bool {
    let interval = entry.segment.interval;
    candidates.iter().any(|other| {
        other.segment.version > entry.segment.version
            && other.segment.interval.start <= interval.start
            && other.segment.interval.end >= interval.end
            && complete
                .get(&(other.segment.interval, other.segment.version.clone()))
                .copied()
                .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use henge_segment::id::{SegmentId, ShardSpec};

    fn segment(
        start: i64,
        end: i64,
        version: &str,
        partition: u32,
        partitions: u32,
    ) -> DataSegment {
        let id = SegmentId {
            datasource: "ds".into(),
            interval: Interval::new(start, end),
            version: version.into(),
            partition,
        };
        DataSegment {
            data_source: "ds".into(),
            interval: id.interval,
            version: version.into(),
            load_spec: serde_json::json!({}),
            dimensions: String::new(),
            metrics: String::new(),
            shard_spec: ShardSpec {
                kind: "numbered".into(),
                partition_num: partition,
                partitions,
            },
            binary_version: 1,
            size: 0,
            identifier: id.to_string(),
            num_rows: 0,
            crc32: 0,
        }
    }

    fn ids(entries: &[TimelineEntry]) -> Vec<(String, u32)> {
        entries
            .iter()
            .map(|entry| {
                (
                    entry.segment.version.clone(),
                    entry.segment.shard_spec.partition_num,
                )
            })
            .collect()
    }

    #[test]
    fn newer_complete_version_overshadows() {
        let old = segment(0, 100, "v1", 0, 1);
        let new0 = segment(0, 100, "v2", 0, 2);
        let new1 = segment(0, 100, "v2", 1, 2);
        let all = Interval::new(0, 100);
        let incomplete = collect_entries([("n1", &old, false), ("n1", &new0, false)]);
        assert_eq!(
            ids(&select(&incomplete, "ds", &[all])),
            vec![("v1".into(), 0)]
        );
        let complete = collect_entries([
            ("n1", &old, false),
            ("n1", &new0, false),
            ("n2", &new1, false),
        ]);
        assert_eq!(
            ids(&select(&complete, "ds", &[all])),
            vec![("v2".into(), 0), ("v2".into(), 1)]
        );
    }

    #[test]
    fn appendable_sets_and_interval_pruning() {
        let day = segment(0, 100, "v1", 0, 0);
        let appended = segment(0, 100, "v1", 1, 0);
        let other = segment(100, 200, "v1", 0, 0);
        let entries = collect_entries([
            ("h", &day, false),
            ("r", &appended, true),
            ("r", &other, true),
            ("h", &other, false),
        ]);
        let chosen = select(&entries, "ds", &[Interval::new(0, 50)]);
        assert_eq!(ids(&chosen), vec![("v1".into(), 0), ("v1".into(), 1)]);
        let both = select(&entries, "ds", &[Interval::new(150, 160)]);
        assert_eq!(both[0].historicals, vec!["h".to_string()]);
        assert_eq!(both[0].realtimes, vec!["r".to_string()]);
        assert!(select(&entries, "other", &[Interval::new(0, 200)]).is_empty());
    }
}
