//! The embedded store's state machine: keys, revisions, leases, watch history and
//! watchers. Pure and synchronous; [`super::EmbeddedStore`] adds locking, persistence and
//! the lease-expiry task.
//!
//! Every mutating method returns the [`WatchEvent`]s it produced and leaves them
//! unpublished: the caller persists the new state first and only then calls
//! [`State::publish`], so that no watcher ever sees a change that a crash could undo.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::store::{Compare, KeyValue, LeaseId, Op, Txn, WatchEvent, WatchEventKind};

/// How many recent events are kept for watches that start in the past.
const HISTORY_LIMIT: usize = 4096;
/// Per-watcher buffer; a watcher that falls this far behind is cancelled.
pub(super) const WATCH_CHANNEL_CAPACITY: usize = 4 * HISTORY_LIMIT;

pub(super) type WatchSender = mpsc::Sender<Result<WatchEvent>>;

/// One stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) value: Vec<u8>,
    pub(super) create_revision: i64,
    pub(super) mod_revision: i64,
    pub(super) lease: Option<LeaseId>,
}

struct Lease {
    ttl: Duration,
    deadline: Instant,
    keys: BTreeSet<String>,
}

struct Watcher {
    prefix: String,
    after_revision: i64,
    sender: WatchSender,
}

impl Watcher {
    /// Offers an event; returns false once the watcher is gone (closed or lagging).
    fn offer(&self, event: &WatchEvent) -> bool {
        if self.sender.is_closed() {
            return false;
        }
        if !event.kv.key.starts_with(&self.prefix) || event.kv.mod_revision <= self.after_revision {
            return true;
        }
        if self.sender.capacity() <= 1 {
            // Keep the last slot for the error that tells the consumer to relist.
            let _ = self.sender.try_send(Err(Error::WatchLagged));
            return false;
        }
        self.sender.try_send(Ok(event.clone())).is_ok()
    }
}

pub(super) struct State {
    revision: i64,
    kvs: BTreeMap<String, Entry>,
    leases: HashMap<LeaseId, Lease>,
    history: VecDeque<WatchEvent>,
    /// Every event with a revision above this one is still in `history`.
    history_floor: i64,
    watchers: Vec<Watcher>,
}

impl State {
    /// State restored from a snapshot: durable keys only, no leases, no history.
    pub(super) fn restore(revision: i64, kvs: BTreeMap<String, Entry>) -> Self {
        Self {
            revision,
            kvs,
            leases: HashMap::new(),
            history: VecDeque::new(),
            history_floor: revision,
            watchers: Vec::new(),
        }
    }

    pub(super) fn revision(&self) -> i64 {
        self.revision
    }

    /// The keys that survive a restart: those not attached to a lease.
    pub(super) fn durable_entries(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.kvs.iter().filter(|(_, entry)| entry.lease.is_none())
    }

    pub(super) fn get(&self, key: &str) -> Option<KeyValue> {
        self.kvs.get(key).map(|entry| key_value(key, entry))
    }

    pub(super) fn list(&self, prefix: &str) -> Vec<KeyValue> {
        self.kvs
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, entry)| key_value(key, entry))
            .collect()
    }

    pub(super) fn put(
        &mut self,
        key: &str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
        now: Instant,
    ) -> Result<Vec<WatchEvent>> {
        let op = Op::Put {
            key: key.to_string(),
            value,
            lease,
        };
        self.check_leases(std::slice::from_ref(&op), now)?;
        Ok(self.apply(vec![op]))
    }

    pub(super) fn delete(&mut self, key: &str) -> Vec<WatchEvent> {
        self.apply(vec![Op::Delete {
            key: key.to_string(),
        }])
    }

    pub(super) fn delete_prefix(&mut self, prefix: &str) -> Vec<WatchEvent> {
        let ops = self
            .list(prefix)
            .into_iter()
            .map(|kv| Op::Delete { key: kv.key })
            .collect();
        self.apply(ops)
    }

    /// Applies a transaction; returns whether its compares held, and its events.
    pub(super) fn txn(&mut self, txn: Txn, now: Instant) -> Result<(bool, Vec<WatchEvent>)> {
        txn.validate()?;
        if !txn.compares.iter().all(|compare| self.holds(compare)) {
            return Ok((false, Vec::new()));
        }
        self.check_leases(&txn.ops, now)?;
        Ok((true, self.apply(txn.ops)))
    }

    pub(super) fn grant_lease(&mut self, ttl: Duration, now: Instant) -> LeaseId {
        let lease_id = loop {
            // Random ids: an id from before a restart is never handed out again by luck.
            let candidate = rand::random::<i64>() & i64::MAX;
            if candidate != 0 && !self.leases.contains_key(&candidate) {
                break candidate;
            }
        };
        self.leases.insert(
            lease_id,
            Lease {
                ttl,
                deadline: now + ttl,
                keys: BTreeSet::new(),
            },
        );
        lease_id
    }

    pub(super) fn keep_alive(&mut self, lease_id: LeaseId, now: Instant) -> Result<()> {
        match self.leases.get_mut(&lease_id) {
            Some(lease) if lease.deadline > now => {
                lease.deadline = now + lease.ttl;
                Ok(())
            }
            _ => Err(Error::LeaseExpired { lease: lease_id }),
        }
    }

    /// Removes a lease and deletes its keys at one revision.
    pub(super) fn revoke_lease(&mut self, lease_id: LeaseId) -> Vec<WatchEvent> {
        let Some(lease) = self.leases.remove(&lease_id) else {
            return Vec::new();
        };
        let ops = lease
            .keys
            .into_iter()
            .map(|key| Op::Delete { key })
            .collect();
        self.apply(ops)
    }

    /// Revokes every lease whose deadline has passed.
    pub(super) fn expire_leases(&mut self, now: Instant) -> Vec<WatchEvent> {
        let expired: Vec<LeaseId> = self
            .leases
            .iter()
            .filter(|(_, lease)| lease.deadline <= now)
            .map(|(lease_id, _)| *lease_id)
            .collect();
        let mut events = Vec::new();
        for lease_id in expired {
            tracing::debug!(lease = lease_id, "embedded lease expired");
            events.extend(self.revoke_lease(lease_id));
        }
        events
    }

    /// Registers a watcher for changes after `after_revision` (0 = from now), replaying
    /// the retained history it missed.
    pub(super) fn watch(
        &mut self,
        prefix: &str,
        after_revision: i64,
        sender: WatchSender,
    ) -> Result<()> {
        let after_revision = if after_revision == 0 {
            self.revision
        } else {
            after_revision
        };
        if after_revision < self.history_floor {
            return Err(Error::Compacted {
                revision: after_revision,
            });
        }
        let watcher = Watcher {
            prefix: prefix.to_string(),
            after_revision,
            sender,
        };
        for event in &self.history {
            if !watcher.offer(event) {
                return Ok(());
            }
        }
        self.watchers.push(watcher);
        Ok(())
    }

    /// Delivers persisted events to the watchers and remembers them for late watchers.
    pub(super) fn publish(&mut self, events: Vec<WatchEvent>) {
        for event in events {
            self.watchers.retain(|watcher| watcher.offer(&event));
            self.history.push_back(event);
        }
        while self.history.len() > HISTORY_LIMIT {
            let Some(oldest) = self.history.pop_front() else {
                break;
            };
            self.history_floor = oldest.kv.mod_revision;
            while self
                .history
                .front()
                .is_some_and(|event| event.kv.mod_revision <= self.history_floor)
            {
                self.history.pop_front();
            }
        }
    }

    fn holds(&self, compare: &Compare) -> bool {
        let entry_opt = self.kvs.get(compare.key());
        match compare {
            Compare::ValueEquals(_, expected) => {
                entry_opt.is_some_and(|entry| &entry.value == expected)
            }
            Compare::ModRevision(_, revision) => {
                entry_opt.map_or(0, |entry| entry.mod_revision) == *revision
            }
            Compare::CreateRevision(_, revision) => {
                entry_opt.map_or(0, |entry| entry.create_revision) == *revision
            }
            Compare::Absent(_) => entry_opt.is_none(),
        }
    }

    fn check_leases(&self, ops: &[Op], now: Instant) -> Result<()> {
        for op in ops {
            if let Op::Put {
                lease: Some(lease_id),
                ..
            } = op
            {
                let alive = self
                    .leases
                    .get(lease_id)
                    .is_some_and(|lease| lease.deadline > now);
                if !alive {
                    return Err(Error::LeaseExpired { lease: *lease_id });
                }
            }
        }
        Ok(())
    }

    /// Applies writes at one new revision; a batch that changes nothing (deletes of
    /// missing keys) leaves the revision alone.
    fn apply(&mut self, ops: Vec<Op>) -> Vec<WatchEvent> {
        let revision = self.revision + 1;
        let mut events = Vec::new();
        for op in ops {
            match op {
                Op::Put { key, value, lease } => {
                    let previous_opt = self.kvs.get(&key);
                    let create_revision =
                        previous_opt.map_or(revision, |entry| entry.create_revision);
                    if let Some(old_lease) = previous_opt.and_then(|entry| entry.lease) {
                        self.detach(old_lease, &key);
                    }
                    if let Some(lease_id) = lease {
                        if let Some(lease) = self.leases.get_mut(&lease_id) {
                            lease.keys.insert(key.clone());
                        }
                    }
                    let entry = Entry {
                        value,
                        create_revision,
                        mod_revision: revision,
                        lease,
                    };
                    events.push(WatchEvent {
                        kind: WatchEventKind::Put,
                        kv: key_value(&key, &entry),
                    });
                    self.kvs.insert(key, entry);
                }
                Op::Delete { key } => {
                    let Some(removed) = self.kvs.remove(&key) else {
                        continue;
                    };
                    if let Some(old_lease) = removed.lease {
                        self.detach(old_lease, &key);
                    }
                    events.push(WatchEvent {
                        kind: WatchEventKind::Delete,
                        kv: KeyValue {
                            key,
                            value: Vec::new(),
                            create_revision: 0,
                            mod_revision: revision,
                            lease: None,
                        },
                    });
                }
            }
        }
        if !events.is_empty() {
            self.revision = revision;
        }
        events
    }

    fn detach(&mut self, lease_id: LeaseId, key: &str) {
        if let Some(lease) = self.leases.get_mut(&lease_id) {
            lease.keys.remove(key);
        }
    }
}

fn key_value(key: &str, entry: &Entry) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: entry.value.clone(),
        create_revision: entry.create_revision,
        mod_revision: entry.mod_revision,
        lease: entry.lease,
    }
}
