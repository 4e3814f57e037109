//! Membership: each node keeps a [`NodeInfo`] record under `/henge/nodes/{id}`, attached to
//! a lease that a background task refreshes.
//!
//! - A node that dies stops refreshing; its record disappears one TTL later.
//! - If the lease is lost while the node lives (a long pause, an etcd outage longer than
//!   the TTL), the task grants a new lease and writes the record again, so a live node
//!   always comes back.
//! - [`Registration::leave`] revokes the lease: the record disappears at once. Dropping a
//!   [`Registration`] only stops the refresh, as a crash would.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::keys;
use crate::store::{LeaseId, MetaStore};
use crate::watcher::PrefixWatcher;

/// What a node tells the cluster about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub id: String,
    /// Role names (`coordinator`, `overlord`, `broker`, `historical`, `realtime`).
    pub roles: Vec<String>,
    /// `host:port` of the node's HTTP server.
    pub http_addr: String,
    /// True once every role of the node can serve.
    pub ready: bool,
    /// What the node still waits for, for `/status/health` and the console.
    pub waiting_for: Vec<String>,
    /// Start time, ISO 8601.
    pub started_at: String,
}

/// Membership operations on a store.
#[derive(Clone)]
pub struct Membership {
    store: Arc<dyn MetaStore>,
}

impl Membership {
    pub fn new(store: Arc<dyn MetaStore>) -> Self {
        Self { store }
    }

    /// Writes `node`'s record under a new lease of `ttl` and keeps it alive until
    /// [`Registration::leave`] or drop.
    pub async fn register(&self, node: &NodeInfo, ttl: Duration) -> Result<Registration> {
        keys::check_component("node id", &node.id)?;
        let shared = Arc::new(Shared {
            store: Arc::clone(&self.store),
            key: keys::node(&node.id),
            ttl,
            current: Mutex::new(Current {
                lease: 0,
                node: node.clone(),
            }),
        });
        {
            let mut current = shared.current.lock().await;
            shared.write_under_new_lease(&mut current).await?;
        }
        let cancel = CancellationToken::new();
        let task = tokio::spawn(keep_registered(Arc::clone(&shared), cancel.clone()));
        tracing::info!(node_id = %node.id, ttl_ms = ttl.as_millis() as u64, "registered node");
        Ok(Registration {
            shared,
            cancel,
            task_opt: Some(task),
        })
    }

    /// Every registered node, sorted by id.
    pub async fn list_nodes(&self) -> Result<Vec<NodeInfo>> {
        let (entries, _revision) = self.store.list(keys::NODES).await?;
        entries
            .iter()
            .map(|kv| {
                serde_json::from_slice(&kv.value).map_err(|source| Error::Json {
                    key: kv.key.clone(),
                    source,
                })
            })
            .collect()
    }

    /// A live view of the registered nodes, keyed by node id.
    pub async fn watch_nodes(&self) -> Result<PrefixWatcher<NodeInfo>> {
        PrefixWatcher::start(Arc::clone(&self.store), keys::NODES).await
    }
}

/// A node's membership; keeps the record alive while it exists.
pub struct Registration {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    task_opt: Option<JoinHandle<()>>,
}

struct Shared {
    store: Arc<dyn MetaStore>,
    key: String,
    ttl: Duration,
    current: Mutex<Current>,
}

struct Current {
    lease: LeaseId,
    node: NodeInfo,
}

impl Shared {
    async fn write_under_new_lease(&self, current: &mut Current) -> Result<()> {
        let lease = self.store.grant_lease(self.ttl).await?;
        let value = encode(&current.node)?;
        if let Err(err) = self.store.put(&self.key, value, Some(lease)).await {
            let _ = self.store.revoke_lease(lease).await;
            return Err(err);
        }
        current.lease = lease;
        Ok(())
    }

    async fn refresh(&self) {
        let mut current = self.current.lock().await;
        match self.store.keep_alive(current.lease).await {
            Ok(()) => {}
            Err(Error::LeaseExpired { lease }) => {
                tracing::warn!(key = %self.key, lease, "node lease expired; registering again");
                if let Err(err) = self.write_under_new_lease(&mut current).await {
                    tracing::warn!(key = %self.key, error = %err, "failed to register node again");
                }
            }
            Err(err) => {
                tracing::warn!(key = %self.key, error = %err, "failed to refresh node lease");
            }
        }
    }
}

async fn keep_registered(shared: Arc<Shared>, cancel: CancellationToken) {
    let interval = (shared.ttl / 3).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = shared.refresh() => {}
        }
    }
}

fn encode(node: &NodeInfo) -> Result<Vec<u8>> {
    serde_json::to_vec(node).map_err(|source| Error::Json {
        key: keys::node(&node.id),
        source,
    })
}

impl Registration {
    /// The lease the record currently lives under (it changes after a re-registration).
    pub async fn lease(&self) -> LeaseId {
        self.shared.current.lock().await.lease
    }

    /// Replaces the record (for example when the node turns ready). The id cannot change.
    pub async fn update(&self, node: &NodeInfo) -> Result<()> {
        let mut current = self.shared.current.lock().await;
        if node.id != current.node.id {
            return Err(Error::InvalidArgument(format!(
                "registration of node {:?} cannot be updated to node {:?}",
                current.node.id, node.id
            )));
        }
        current.node = node.clone();
        let value = encode(node)?;
        match self
            .shared
            .store
            .put(&self.shared.key, value, Some(current.lease))
            .await
        {
            Err(Error::LeaseExpired { .. }) => {
                self.shared.write_under_new_lease(&mut current).await
            }
            other => other.map(|_revision| ()),
        }
    }

    /// Leaves the cluster: stops the refresh and revokes the lease, which deletes the
    /// record at once.
    pub async fn leave(mut self) -> Result<()> {
        self.cancel.cancel();
        if let Some(task) = self.task_opt.take() {
            let _ = task.await;
        }
        let lease = self.shared.current.lock().await.lease;
        self.shared.store.revoke_lease(lease).await?;
        tracing::info!(key = %self.shared.key, "node left the cluster");
        Ok(())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
