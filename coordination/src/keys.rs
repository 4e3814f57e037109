//! The key schema: every key Henge keeps in the coordination store. All values are JSON.
//!
//! | key | value | lifetime |
//! |---|---|---|
//! | `/henge/nodes/{node_id}` | [`crate::NodeInfo`] | under the node's lease |
//! | `/henge/leader/{role}` | JSON string: the leader's node id | under the leader's lease; its create revision is the fencing token |
//! | `/henge/segments/{datasource}/{segment_id}` | [`crate::SegmentRecord`] (payload + `used`) | durable; removed by kill |
//! | `/henge/assign/{node_id}/{segment_id}` | assignment written by the coordinator leader | durable; fenced writes |
//! | `/henge/tasks/{task_id}` | task record (spec, status) owned by the overlord | durable |
//! | `/henge/supervisors/{supervisor_id}` | supervisor spec and state | durable |
//! | `/henge/offsets/{datasource}` | committed stream offsets, compared-and-swapped on publish | durable |
//! | `/henge/rules/{datasource}` | current retention/load rules (`_default` for the default) | durable |
//! | `/henge/rules-history/{datasource}/{revision:020}` | earlier rule sets, for the audit API | durable |
//! | `/henge/datasources/{datasource}` | datasource-level settings | durable |
//! | `/henge/lookups` | the lookup configuration, every tier ([`crate::lookups`]) | durable |
//!
//! Path components (datasource, segment id, node id, task id, role) must not be empty or
//! contain `/`; Druid's own id rules already forbid `/`. [`check_component`] enforces it.
//!
//! # Size limits
//!
//! etcd is built for metadata: its default backend quota is 2 GiB (8 GiB at most), a
//! request is at most 1.5 MiB, and a transaction at most [`crate::MAX_TXN_OPS`] (128)
//! writes. A segment record is about 1 KiB and an assignment about 100 bytes, so one
//! million segments with two replicas take roughly 1.2 GiB before MVCC history: past
//! about **200,000 used segments** the catalog must move out of etcd. The plan then:
//! keep the leases, leader keys, rules and tasks in etcd; move `/henge/segments/` to a
//! SQL table (Druid's `druid_segments` shape) and `/henge/assign/` to a per-node load
//! queue served over HTTP, which is where Druid itself converged (no per-segment keys in
//! the coordination service). Only the functions of [`crate::catalog`] touch those
//! prefixes, so the move stays inside this crate.

use crate::error::{Error, Result};

/// Every Henge key starts with this.
pub const ROOT: &str = "/henge/";
/// Prefix of the membership records.
pub const NODES: &str = "/henge/nodes/";
/// Prefix of the leader keys.
pub const LEADERS: &str = "/henge/leader/";
/// Prefix of the segment catalog.
pub const SEGMENTS: &str = "/henge/segments/";
/// Prefix of the segment assignments.
pub const ASSIGNMENTS: &str = "/henge/assign/";
/// Prefix of the task records.
pub const TASKS: &str = "/henge/tasks/";
/// Prefix of the supervisor records.
pub const SUPERVISORS: &str = "/henge/supervisors/";
/// Prefix of the committed stream offsets.
pub const OFFSETS: &str = "/henge/offsets/";
/// Prefix of the current rules.
pub const RULES: &str = "/henge/rules/";
/// Prefix of the rule history.
pub const RULES_HISTORY: &str = "/henge/rules-history/";
/// Prefix of the datasource settings.
pub const DATASOURCES: &str = "/henge/datasources/";
/// The lookup configuration (one key; also the prefix nodes watch it under).
pub const LOOKUPS: &str = "/henge/lookups";

/// Rejects a path component that would break the key schema.
pub fn check_component(kind: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.contains('/') {
        return Err(Error::InvalidArgument(format!(
            "{kind} {value:?} must be non-empty and must not contain '/'"
        )));
    }
    Ok(())
}

pub fn node(node_id: &str) -> String {
    format!("{NODES}{node_id}")
}

pub fn leader(role: &str) -> String {
    format!("{LEADERS}{role}")
}

pub fn segment(datasource: &str, segment_id: &str) -> String {
    format!("{SEGMENTS}{datasource}/{segment_id}")
}

/// Prefix of one datasource's segment records.
pub fn segments_of(datasource: &str) -> String {
    format!("{SEGMENTS}{datasource}/")
}

pub fn assignment(node_id: &str, segment_id: &str) -> String {
    format!("{ASSIGNMENTS}{node_id}/{segment_id}")
}

/// Prefix of the segments assigned to one node.
pub fn assignments_of(node_id: &str) -> String {
    format!("{ASSIGNMENTS}{node_id}/")
}

pub fn task(task_id: &str) -> String {
    format!("{TASKS}{task_id}")
}

pub fn supervisor(supervisor_id: &str) -> String {
    format!("{SUPERVISORS}{supervisor_id}")
}

pub fn offsets(datasource: &str) -> String {
    format!("{OFFSETS}{datasource}")
}

pub fn rules(datasource: &str) -> String {
    format!("{RULES}{datasource}")
}

/// One entry of the rule history; zero-padded so that keys sort by revision.
pub fn rules_history_entry(datasource: &str, revision: i64) -> String {
    format!("{RULES_HISTORY}{datasource}/{revision:020}")
}

/// Prefix of one datasource's rule history.
pub fn rules_history_of(datasource: &str) -> String {
    format!("{RULES_HISTORY}{datasource}/")
}

pub fn datasource(datasource: &str) -> String {
    format!("{DATASOURCES}{datasource}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_nest_under_their_prefixes() {
        assert_eq!(segment("wiki", "s1"), "/henge/segments/wiki/s1");
        assert!(segment("wiki", "s1").starts_with(&segments_of("wiki")));
        assert!(!segment("wikipedia", "s1").starts_with(&segments_of("wiki")));
        assert!(rules_history_entry("wiki", 9) < rules_history_entry("wiki", 10));
        assert!(check_component("datasource", "a/b").is_err());
        assert!(check_component("datasource", "").is_err());
        assert!(check_component("node id", "10.0.0.1:8083").is_ok());
    }
}
