//! The embedded backend: an in-process store for single-process mode (`henge quickstart`)
//! and tests, persisted in one checksummed snapshot file.
//!
//! - All state sits behind one async mutex; a mutation is applied, the snapshot of the
//!   durable keys is written (temp file, fsync, rename) and only then are watchers told and
//!   the caller answered. A write is acknowledged only once it is on disk.
//! - If writing the snapshot fails, the store stops: every later call returns
//!   [`Error::Unavailable`], because memory and disk may disagree. Restarting the process
//!   reopens the last snapshot.
//! - Keys under a lease are ephemeral: they are not persisted and leases do not survive a
//!   restart, as if every lease had expired while the process was down.
//! - A background task revokes leases whose TTL has passed; it stops with the store.
//! - One process at a time: two stores opened on one directory overwrite each other.

mod snapshot;
mod state;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::{mpsc, Mutex, MutexGuard};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use self::state::{State, WATCH_CHANNEL_CAPACITY};
use crate::error::{Error, Result};
use crate::store::{KeyValue, LeaseId, MetaStore, Txn, WatchEvent, WatchStream};

/// Name of the snapshot file inside the store's directory.
const SNAPSHOT_FILE: &str = "meta.snapshot";
/// How often expired leases are collected.
const EXPIRY_TICK: Duration = Duration::from_millis(100);

/// The in-process [`MetaStore`]. Dropping it stops its lease-expiry task.
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    _expiry_guard: DropGuard,
}

struct Inner {
    guarded: Mutex<Guarded>,
    snapshot_path: PathBuf,
}

struct Guarded {
    state: State,
    /// Set once a snapshot write failed; the store refuses all further calls.
    failure_opt: Option<String>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store kept in `dir`. A snapshot that fails its checksum is
    /// reported as [`Error::Corrupted`]. Must be called inside a tokio runtime.
    pub async fn open(dir: &Path) -> Result<Self> {
        let dir = dir.to_path_buf();
        let snapshot_path = dir.join(SNAPSHOT_FILE);
        let read_path = snapshot_path.clone();
        let snapshot_opt = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
            snapshot::read(&read_path)
        })
        .await
        .map_err(|err| Error::Unavailable(format!("embedded store open task failed: {err}")))??;
        let state = match snapshot_opt {
            Some(snapshot) => State::restore(snapshot.revision, snapshot.kvs),
            None => State::restore(0, Default::default()),
        };
        tracing::info!(
            path = %snapshot_path.display(),
            revision = state.revision(),
            "opened embedded coordination store"
        );
        let inner = Arc::new(Inner {
            guarded: Mutex::new(Guarded {
                state,
                failure_opt: None,
            }),
            snapshot_path,
        });
        let cancel = CancellationToken::new();
        tokio::spawn(expire_leases_loop(Arc::downgrade(&inner), cancel.clone()));
        Ok(Self {
            inner,
            _expiry_guard: cancel.drop_guard(),
        })
    }
}

impl Inner {
    async fn lock(&self) -> Result<MutexGuard<'_, Guarded>> {
        let guarded = self.guarded.lock().await;
        if let Some(failure) = &guarded.failure_opt {
            return Err(Error::Unavailable(format!(
                "embedded store stopped after a failed snapshot write: {failure}"
            )));
        }
        Ok(guarded)
    }

    /// Persists the state after a mutation, then publishes its events.
    async fn commit(&self, guarded: &mut Guarded, events: Vec<WatchEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let payload = snapshot::encode(guarded.state.revision(), guarded.state.durable_entries());
        let path = self.snapshot_path.clone();
        let written = tokio::task::spawn_blocking(move || snapshot::write(&path, &payload))
            .await
            .unwrap_or_else(|err| {
                Err(Error::Unavailable(format!(
                    "snapshot write task failed: {err}"
                )))
            });
        match written {
            Ok(()) => {
                guarded.state.publish(events);
                Ok(())
            }
            Err(err) => {
                tracing::error!(
                    path = %self.snapshot_path.display(),
                    error = %err,
                    "failed to write embedded coordination snapshot; store stopped"
                );
                guarded.failure_opt = Some(err.to_string());
                Err(err)
            }
        }
    }

    async fn expire_leases(&self) -> Result<()> {
        let mut guarded = self.lock().await?;
        let events = guarded.state.expire_leases(Instant::now());
        self.commit(&mut guarded, events).await
    }
}

async fn expire_leases_loop(inner: Weak<Inner>, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(EXPIRY_TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Err(err) = inner.expire_leases().await {
            tracing::warn!(error = %err, "failed to expire embedded leases");
        }
    }
}

#[async_trait]
impl MetaStore for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        Ok(self.inner.lock().await?.state.get(key))
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, i64)> {
        let guarded = self.inner.lock().await?;
        Ok((guarded.state.list(prefix), guarded.state.revision()))
    }

    async fn put(&self, key: &str, value: Vec<u8>, lease: Option<LeaseId>) -> Result<i64> {
        let mut guarded = self.inner.lock().await?;
        let events = guarded.state.put(key, value, lease, Instant::now())?;
        self.inner.commit(&mut guarded, events).await?;
        Ok(guarded.state.revision())
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let mut guarded = self.inner.lock().await?;
        let events = guarded.state.delete(key);
        let existed = !events.is_empty();
        self.inner.commit(&mut guarded, events).await?;
        Ok(existed)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64> {
        let mut guarded = self.inner.lock().await?;
        let events = guarded.state.delete_prefix(prefix);
        let deleted = events.len() as u64;
        self.inner.commit(&mut guarded, events).await?;
        Ok(deleted)
    }

    async fn txn(&self, txn: Txn) -> Result<bool> {
        let mut guarded = self.inner.lock().await?;
        let (succeeded, events) = guarded.state.txn(txn, Instant::now())?;
        self.inner.commit(&mut guarded, events).await?;
        Ok(succeeded)
    }

    async fn grant_lease(&self, ttl: Duration) -> Result<LeaseId> {
        let mut guarded = self.inner.lock().await?;
        Ok(guarded.state.grant_lease(ttl, Instant::now()))
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<()> {
        let mut guarded = self.inner.lock().await?;
        guarded.state.keep_alive(lease, Instant::now())
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<()> {
        let mut guarded = self.inner.lock().await?;
        let events = guarded.state.revoke_lease(lease);
        self.inner.commit(&mut guarded, events).await
    }

    async fn watch_prefix(&self, prefix: &str, from_revision: i64) -> Result<WatchStream> {
        let (sender, receiver) = mpsc::channel(WATCH_CHANNEL_CAPACITY);
        self.inner
            .lock()
            .await?
            .state
            .watch(prefix, from_revision, sender)?;
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        Ok(stream.boxed())
    }
}
