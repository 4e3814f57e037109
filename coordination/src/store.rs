//! The [`MetaStore`] trait every backend implements, and the plain data types it speaks.
//!
//! The semantics follow etcd v3, so that the embedded backend and etcd pass one conformance
//! suite:
//! - every mutation bumps the store revision once (a transaction bumps it once for all of
//!   its writes; a delete of a missing key or a failed transaction does not bump it);
//! - `create_revision` is the revision that created the key (stable until it is deleted),
//!   `mod_revision` the revision of its last write;
//! - a compare on a missing key sees revisions of 0 and never matches `ValueEquals`;
//! - a key put under a lease is deleted when the lease expires or is revoked;
//! - watches deliver events in revision order, after a given revision.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::error::Result;

/// Most compares, and most writes, one transaction may hold: etcd's default
/// `--max-txn-ops`. Larger batches must be split by the caller.
pub const MAX_TXN_OPS: usize = 128;

/// A lease id, as handed out by [`MetaStore::grant_lease`].
pub type LeaseId = i64;

/// One key with its value and revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    /// Revision that created the key; 0 in delete events.
    pub create_revision: i64,
    /// Revision of the last write (of the delete, in delete events).
    pub mod_revision: i64,
    /// The lease the key is attached to, if any.
    pub lease: Option<LeaseId>,
}

/// A condition of a [`Txn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compare {
    /// The key exists and holds exactly these bytes.
    ValueEquals(String, Vec<u8>),
    /// The key's `mod_revision` equals the given one (0 = the key is absent).
    ModRevision(String, i64),
    /// The key's `create_revision` equals the given one (0 = the key is absent).
    CreateRevision(String, i64),
    /// The key does not exist.
    Absent(String),
}

impl Compare {
    /// The key the condition looks at.
    pub fn key(&self) -> &str {
        match self {
            Compare::ValueEquals(key, _)
            | Compare::ModRevision(key, _)
            | Compare::CreateRevision(key, _)
            | Compare::Absent(key) => key,
        }
    }
}

/// A write of a [`Txn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put {
        key: String,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    },
    Delete {
        key: String,
    },
}

impl Op {
    /// The key the write touches.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }
}

/// A conditional batch: if every compare holds, every op is applied atomically at one
/// revision; otherwise nothing is written. A transaction may touch each key once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    pub compares: Vec<Compare>,
    pub ops: Vec<Op>,
}

impl Txn {
    /// An empty transaction (no compares, no ops).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a condition.
    pub fn when(mut self, compare: Compare) -> Self {
        self.compares.push(compare);
        self
    }

    /// Adds a put without a lease.
    pub fn put(mut self, key: impl Into<String>, value: Vec<u8>) -> Self {
        self.ops.push(Op::Put {
            key: key.into(),
            value,
            lease: None,
        });
        self
    }

    /// Adds a put attached to `lease`.
    pub fn put_with_lease(
        mut self,
        key: impl Into<String>,
        value: Vec<u8>,
        lease: LeaseId,
    ) -> Self {
        self.ops.push(Op::Put {
            key: key.into(),
            value,
            lease: Some(lease),
        });
        self
    }

    /// Adds a delete.
    pub fn delete(mut self, key: impl Into<String>) -> Self {
        self.ops.push(Op::Delete { key: key.into() });
        self
    }

    /// Rejects what etcd refuses: a key written twice, or more than [`MAX_TXN_OPS`]
    /// compares or writes. Both backends check it, so they fail alike.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.ops.len() > MAX_TXN_OPS || self.compares.len() > MAX_TXN_OPS {
            return Err(crate::Error::InvalidArgument(format!(
                "transaction has {} compares and {} writes; at most {MAX_TXN_OPS} of each",
                self.compares.len(),
                self.ops.len()
            )));
        }
        let mut keys: Vec<&str> = self.ops.iter().map(Op::key).collect();
        keys.sort_unstable();
        match keys.windows(2).find(|pair| pair[0] == pair[1]) {
            Some(pair) => Err(crate::Error::InvalidArgument(format!(
                "duplicate key {:?} in transaction",
                pair[0]
            ))),
            None => Ok(()),
        }
    }
}

/// Whether a watch event is a write or a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEventKind {
    Put,
    Delete,
}

/// One change seen by a watch. For deletes, `kv.value` is empty and `kv.mod_revision` is
/// the revision of the delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub kind: WatchEventKind,
    pub kv: KeyValue,
}

/// Events of a watch, in revision order. The stream ends with an error (for example
/// [`crate::Error::Compacted`] or [`crate::Error::Unavailable`]) when the watch breaks; the
/// caller then relists and watches again from the listed revision.
pub type WatchStream = BoxStream<'static, Result<WatchEvent>>;

/// A small, strongly consistent key-value store with leases, transactions and watches:
/// the one abstraction over etcd and the embedded backend.
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    /// Reads one key.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Reads every key that starts with `prefix`, sorted by key, together with the store
    /// revision of the read (use it as `from_revision` of a following watch).
    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, i64)>;

    /// Writes one key, optionally attached to a lease; returns the new store revision.
    async fn put(&self, key: &str, value: Vec<u8>, lease: Option<LeaseId>) -> Result<i64>;

    /// Deletes one key; returns whether it existed.
    async fn delete(&self, key: &str) -> Result<bool>;

    /// Deletes every key that starts with `prefix`; returns how many there were.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64>;

    /// Applies `txn` if all its compares hold; returns whether it was applied.
    async fn txn(&self, txn: Txn) -> Result<bool>;

    /// Creates a lease that expires `ttl` after its last keep-alive. Backends may round the
    /// TTL up (etcd works in whole seconds, with a minimum of a few seconds).
    async fn grant_lease(&self, ttl: Duration) -> Result<LeaseId>;

    /// Refreshes a lease once; [`crate::Error::LeaseExpired`] if it is gone.
    async fn keep_alive(&self, lease: LeaseId) -> Result<()>;

    /// Revokes a lease and deletes its keys. Revoking a lease that is already gone is `Ok`.
    async fn revoke_lease(&self, lease: LeaseId) -> Result<()>;

    /// Watches every key under `prefix` for changes made after `from_revision` (0 = changes
    /// from now on). When this returns, the watch is established.
    async fn watch_prefix(&self, prefix: &str, from_revision: i64) -> Result<WatchStream>;
}
