//! Leader election with fencing, for the coordinator and the overlord.
//!
//! - A candidate holds `/henge/leader/{role}` when it created the key, in a transaction
//!   guarded by `Absent(key)`, under its own lease. The key's create revision is the
//!   fencing token: it strictly increases from one leader to the next.
//! - A winner becomes active only after its first successful keep-alive, so a candidate
//!   whose lease is already dying never acts.
//! - While it leads, a task refreshes the lease every TTL/3 and checks the key is still
//!   its own. It steps down (see [`LeaderGuard::lost`]) as soon as the lease is gone, the
//!   key is gone or replaced, or no refresh succeeded for a whole TTL.
//! - Every leader write goes through [`fenced_txn`], which adds the compare
//!   `CreateRevision(leader key, token)`: a stale leader's writes are rejected by the
//!   store itself, whatever the leader believes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::keys;
use crate::store::{Compare, LeaseId, MetaStore, Txn, WatchEventKind};

/// Pause between campaign attempts while the store is unreachable.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Leader election on a store.
#[derive(Clone)]
pub struct Election {
    store: Arc<dyn MetaStore>,
}

impl Election {
    pub fn new(store: Arc<dyn MetaStore>) -> Self {
        Self { store }
    }

    /// Waits until `node_id` leads `role`. Keeps trying through store outages; fails only
    /// on errors that retrying cannot fix (an invalid role or node id).
    pub async fn campaign(&self, role: &str, node_id: &str, ttl: Duration) -> Result<LeaderGuard> {
        keys::check_component("role", role)?;
        keys::check_component("node id", node_id)?;
        let key = keys::leader(role);
        let value = serde_json::to_vec(node_id).map_err(|source| Error::Json {
            key: key.clone(),
            source,
        })?;
        loop {
            match self.try_acquire(&key, &value, ttl).await {
                Ok(Some((lease, token))) => {
                    tracing::info!(role, node_id, token, "became leader");
                    return Ok(LeaderGuard::start(
                        Arc::clone(&self.store),
                        role,
                        key,
                        lease,
                        token,
                        ttl,
                    ));
                }
                Ok(None) => self.wait_for_vacancy(&key, ttl).await,
                Err(err) if err.is_retryable() => {
                    tracing::warn!(role, error = %err, "leader campaign attempt failed; retrying");
                    tokio::time::sleep(RETRY_DELAY).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The node id of `role`'s leader, if there is one.
    pub async fn current_leader(&self, role: &str) -> Result<Option<String>> {
        let key = keys::leader(role);
        let Some(kv) = self.store.get(&key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&kv.value)
            .map(Some)
            .map_err(|source| Error::Json { key, source })
    }

    /// One attempt: `Some((lease, token))` if this candidate now leads and its lease is
    /// confirmed alive, `None` if someone else leads.
    async fn try_acquire(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<(LeaseId, i64)>> {
        let lease = self.store.grant_lease(ttl).await?;
        let acquired = async {
            let txn = Txn::new()
                .when(Compare::Absent(key.to_string()))
                .put_with_lease(key, value.to_vec(), lease);
            if !self.store.txn(txn).await? {
                return Ok(None);
            }
            self.store.keep_alive(lease).await?;
            match self.store.get(key).await? {
                Some(kv) if kv.lease == Some(lease) => Ok(Some(kv.create_revision)),
                _ => Ok(None),
            }
        }
        .await;
        match acquired {
            Ok(Some(token)) => Ok(Some((lease, token))),
            Ok(None) => {
                self.revoke_quietly(lease).await;
                Ok(None)
            }
            Err(Error::LeaseExpired { .. }) => {
                self.revoke_quietly(lease).await;
                Ok(None)
            }
            Err(err) => {
                self.revoke_quietly(lease).await;
                Err(err)
            }
        }
    }

    async fn revoke_quietly(&self, lease: LeaseId) {
        if let Err(err) = self.store.revoke_lease(lease).await {
            tracing::debug!(lease, error = %err, "failed to revoke unused campaign lease");
        }
    }

    /// Returns once the leader key is deleted, or after one TTL at most, so that the
    /// caller retries even if a watch event was missed.
    async fn wait_for_vacancy(&self, key: &str, ttl: Duration) {
        let wait = async {
            let (entries, revision) = self.store.list(key).await?;
            if !entries.iter().any(|kv| kv.key == key) {
                return Ok(());
            }
            let mut stream = self.store.watch_prefix(key, revision).await?;
            while let Some(event) = stream.next().await {
                let event = event?;
                if event.kv.key == key && event.kind == WatchEventKind::Delete {
                    return Ok(());
                }
            }
            Ok::<(), Error>(())
        };
        match tokio::time::timeout(ttl.max(Duration::from_secs(1)), wait).await {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(err)) => {
                tracing::debug!(key, error = %err, "waiting for leader vacancy failed");
                tokio::time::sleep(RETRY_DELAY).await;
            }
        }
    }
}

/// Proof of leadership. Leader duties should stop when [`LeaderGuard::lost`] resolves.
/// Dropping the guard stops the lease refresh (the key expires one TTL later);
/// [`LeaderGuard::resign`] hands over at once.
pub struct LeaderGuard {
    store: Arc<dyn MetaStore>,
    role: String,
    key: String,
    lease: LeaseId,
    token: i64,
    leading: Arc<watch::Sender<bool>>,
    cancel: CancellationToken,
    task_opt: Option<JoinHandle<()>>,
}

impl LeaderGuard {
    fn start(
        store: Arc<dyn MetaStore>,
        role: &str,
        key: String,
        lease: LeaseId,
        token: i64,
        ttl: Duration,
    ) -> Self {
        let leading = Arc::new(watch::channel(true).0);
        let cancel = CancellationToken::new();
        let keeper = Keeper {
            store: Arc::clone(&store),
            key: key.clone(),
            lease,
            token,
            ttl,
            leading: Arc::clone(&leading),
        };
        let task = tokio::spawn(keeper.run(cancel.clone()));
        Self {
            store,
            role: role.to_string(),
            key,
            lease,
            token,
            leading,
            cancel,
            task_opt: Some(task),
        }
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    /// The create revision of the leader key: higher for every later leader.
    pub fn fencing_token(&self) -> i64 {
        self.token
    }

    /// The lease the leader key lives under.
    pub fn lease(&self) -> LeaseId {
        self.lease
    }

    /// False once leadership is known to be lost.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    /// Resolves when leadership is lost (lease expired, key deleted or replaced, store
    /// unreachable for a TTL, or resigned).
    pub fn lost(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.leading.subscribe();
        async move {
            let _ = receiver.wait_for(|leading| !*leading).await;
        }
    }

    /// Gives up leadership at once: stops the refresh and revokes the lease, which
    /// deletes the leader key so another candidate takes over.
    pub async fn resign(mut self) -> Result<()> {
        self.cancel.cancel();
        if let Some(task) = self.task_opt.take() {
            let _ = task.await;
        }
        self.leading.send_replace(false);
        self.store.revoke_lease(self.lease).await?;
        tracing::info!(role = %self.role, token = self.token, "resigned leadership");
        Ok(())
    }
}

impl Drop for LeaderGuard {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.leading.send_replace(false);
    }
}

/// Applies `txn` only while `guard` still leads: adds the compare
/// `CreateRevision(leader key, token)`. Returns `Ok(true)` if applied, `Ok(false)` if the
/// caller's own compares failed, and [`Error::NotLeader`] if leadership is gone (the
/// guard then also reports itself lost).
pub async fn fenced_txn(guard: &LeaderGuard, txn: Txn) -> Result<bool> {
    let fenced = txn.when(Compare::CreateRevision(guard.key.clone(), guard.token));
    if guard.store.txn(fenced).await? {
        return Ok(true);
    }
    match guard.store.get(&guard.key).await? {
        Some(kv) if kv.create_revision == guard.token => Ok(false),
        _ => {
            guard.leading.send_replace(false);
            Err(Error::NotLeader {
                role: guard.role.clone(),
            })
        }
    }
}

/// The leader's background task: refreshes the lease and checks the key.
struct Keeper {
    store: Arc<dyn MetaStore>,
    key: String,
    lease: LeaseId,
    token: i64,
    ttl: Duration,
    leading: Arc<watch::Sender<bool>>,
}

impl Keeper {
    async fn run(self, cancel: CancellationToken) {
        let interval = (self.ttl / 3).max(Duration::from_millis(100));
        let mut last_confirmed = Instant::now();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            let checked = tokio::select! {
                _ = cancel.cancelled() => return,
                checked = self.check() => checked,
            };
            match checked {
                Ok(true) => last_confirmed = Instant::now(),
                Ok(false) => return self.step_down("leader key deleted or replaced"),
                Err(Error::LeaseExpired { .. }) => return self.step_down("leader lease expired"),
                Err(err) if last_confirmed.elapsed() >= self.ttl => {
                    tracing::warn!(key = %self.key, error = %err, "leader lease not refreshed for a whole ttl");
                    return self.step_down("leader lease not refreshed for a whole ttl");
                }
                Err(err) => {
                    tracing::warn!(key = %self.key, error = %err, "failed to refresh leader lease");
                }
            }
        }
    }

    /// Refreshes the lease; true if the key is still this leader's.
    async fn check(&self) -> Result<bool> {
        self.store.keep_alive(self.lease).await?;
        let kv_opt = self.store.get(&self.key).await?;
        Ok(kv_opt.is_some_and(|kv| kv.create_revision == self.token))
    }

    fn step_down(&self, reason: &'static str) {
        tracing::warn!(key = %self.key, token = self.token, reason, "lost leadership");
        self.leading.send_replace(false);
    }
}
