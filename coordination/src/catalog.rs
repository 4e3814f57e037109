//! The segment catalog: one [`SegmentRecord`] per published segment under
//! `/henge/segments/{datasource}/{segment_id}`.
//!
//! - Publishing is one transaction ([`publish_txn`]); a task adds its own compares and
//!   writes (the stream offsets compare-and-swap) to the same transaction, so segments and
//!   offsets commit together or not at all.
//! - The payload is opaque JSON here (the segment descriptor is defined elsewhere); this
//!   module owns only the `used` flag and the time it last changed.
//! - Writes that belong to the coordinator leader take a `fence_opt`, and then go through
//!   [`crate::fenced_txn`].

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::election::{fenced_txn, LeaderGuard};
use crate::error::{Error, Result};
use crate::keys;
use crate::store::{Compare, KeyValue, MetaStore, Op, Txn, MAX_TXN_OPS};

/// Attempts of a read-modify-write batch before giving up on concurrent writers.
const CONFLICT_RETRIES: usize = 8;

/// A published segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRecord {
    pub datasource: String,
    pub segment_id: String,
    /// False once the segment is overshadowed, dropped by a rule, or disabled by a user.
    pub used: bool,
    /// When `used` last changed, in milliseconds since the Unix epoch.
    pub used_status_last_updated_ms: i64,
    /// The segment descriptor, as JSON.
    pub payload: serde_json::Value,
}

impl SegmentRecord {
    /// A record for a segment being published now.
    pub fn new_used(
        datasource: impl Into<String>,
        segment_id: impl Into<String>,
        payload: serde_json::Value,
    ) -> Self {
        Self {
            datasource: datasource.into(),
            segment_id: segment_id.into(),
            used: true,
            used_status_last_updated_ms: now_ms(),
            payload,
        }
    }

    /// The record's key.
    pub fn key(&self) -> String {
        keys::segment(&self.datasource, &self.segment_id)
    }
}

/// The transaction that writes `segments`; extend it with compares and writes (for
/// example the offsets compare-and-swap) before running it.
pub fn publish_txn(segments: &[SegmentRecord]) -> Result<Txn> {
    let mut txn = Txn::new();
    for record in segments {
        keys::check_component("datasource", &record.datasource)?;
        keys::check_component("segment id", &record.segment_id)?;
        txn = txn.put(record.key(), encode(record)?);
    }
    Ok(txn)
}

/// Publishes `segments` in one transaction: all of them or none.
pub async fn publish_segments(store: &dyn MetaStore, segments: &[SegmentRecord]) -> Result<()> {
    if store.txn(publish_txn(segments)?).await? {
        Ok(())
    } else {
        Err(Error::Unavailable(
            "unconditional publish transaction was not applied".into(),
        ))
    }
}

/// Every segment record, of one datasource or of all, sorted by datasource and id.
pub async fn list_segments(
    store: &dyn MetaStore,
    datasource_opt: Option<&str>,
) -> Result<Vec<SegmentRecord>> {
    let prefix = match datasource_opt {
        Some(datasource) => keys::segments_of(datasource),
        None => keys::SEGMENTS.to_string(),
    };
    let (entries, _revision) = store.list(&prefix).await?;
    entries.iter().map(decode).collect()
}

/// The records with `used == true`.
pub async fn list_used_segments(
    store: &dyn MetaStore,
    datasource_opt: Option<&str>,
) -> Result<Vec<SegmentRecord>> {
    let mut records = list_segments(store, datasource_opt).await?;
    records.retain(|record| record.used);
    Ok(records)
}

/// Marks segments unused; returns how many changed. Ids that are unknown or already
/// unused are skipped.
pub async fn mark_unused(
    store: &dyn MetaStore,
    fence_opt: Option<&LeaderGuard>,
    datasource: &str,
    segment_ids: &[String],
) -> Result<u64> {
    set_used(store, fence_opt, datasource, segment_ids, false).await
}

/// Marks segments used again; returns how many changed.
pub async fn mark_used(
    store: &dyn MetaStore,
    fence_opt: Option<&LeaderGuard>,
    datasource: &str,
    segment_ids: &[String],
) -> Result<u64> {
    set_used(store, fence_opt, datasource, segment_ids, true).await
}

/// Deletes segment records (after a kill task removed their files); returns how many
/// existed.
pub async fn delete_segments(
    store: &dyn MetaStore,
    fence_opt: Option<&LeaderGuard>,
    datasource: &str,
    segment_ids: &[String],
) -> Result<u64> {
    rewrite(store, fence_opt, datasource, segment_ids, |kv| {
        Ok(Some(Op::Delete {
            key: kv.key.clone(),
        }))
    })
    .await
}

async fn set_used(
    store: &dyn MetaStore,
    fence_opt: Option<&LeaderGuard>,
    datasource: &str,
    segment_ids: &[String],
    used: bool,
) -> Result<u64> {
    rewrite(store, fence_opt, datasource, segment_ids, |kv| {
        let mut record = decode(kv)?;
        if record.used == used {
            return Ok(None);
        }
        record.used = used;
        record.used_status_last_updated_ms = now_ms();
        Ok(Some(Op::Put {
            key: kv.key.clone(),
            value: encode(&record)?,
            lease: None,
        }))
    })
    .await
}

/// Read-modify-write of some records of one datasource: `edit` turns a current record
/// into a write (or `None` to leave it). Writes go out in transactions of at most
/// [`MAX_TXN_OPS`], each guarded by the `mod_revision`s it read; a chunk that lost a race
/// is redone from a fresh read, where `edit` skips what already changed. Returns how many
/// writes were applied.
async fn rewrite(
    store: &dyn MetaStore,
    fence_opt: Option<&LeaderGuard>,
    datasource: &str,
    segment_ids: &[String],
    edit: impl Fn(&KeyValue) -> Result<Option<Op>>,
) -> Result<u64> {
    let mut applied = 0;
    for _attempt in 0..CONFLICT_RETRIES {
        let present = read_records(store, datasource, segment_ids).await?;
        let mut writes = Vec::new();
        for kv in &present {
            if let Some(op) = edit(kv)? {
                writes.push((Compare::ModRevision(kv.key.clone(), kv.mod_revision), op));
            }
        }
        let mut lost_race = false;
        for chunk in writes.chunks(MAX_TXN_OPS) {
            let (compares, ops) = chunk.iter().cloned().unzip();
            if run(store, fence_opt, Txn { compares, ops }).await? {
                applied += chunk.len() as u64;
            } else {
                lost_race = true;
            }
        }
        if !lost_race {
            return Ok(applied);
        }
    }
    Err(Error::Unavailable(format!(
        "segment records of {datasource} kept changing; gave up after {CONFLICT_RETRIES} attempts"
    )))
}

/// Reads the records of `segment_ids` that exist.
async fn read_records(
    store: &dyn MetaStore,
    datasource: &str,
    segment_ids: &[String],
) -> Result<Vec<KeyValue>> {
    keys::check_component("datasource", datasource)?;
    let wanted: BTreeSet<String> = segment_ids
        .iter()
        .map(|segment_id| keys::segment(datasource, segment_id))
        .collect();
    let (entries, _revision) = store.list(&keys::segments_of(datasource)).await?;
    Ok(entries
        .into_iter()
        .filter(|kv| wanted.contains(&kv.key))
        .collect())
}

async fn run(store: &dyn MetaStore, fence_opt: Option<&LeaderGuard>, txn: Txn) -> Result<bool> {
    match fence_opt {
        Some(guard) => fenced_txn(guard, txn).await,
        None => store.txn(txn).await,
    }
}

fn encode(record: &SegmentRecord) -> Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|source| Error::Json {
        key: record.key(),
        source,
    })
}

fn decode(kv: &KeyValue) -> Result<SegmentRecord> {
    serde_json::from_slice(&kv.value).map_err(|source| Error::Json {
        key: kv.key.clone(),
        source,
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
