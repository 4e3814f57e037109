//! Leader election for the coordinator and overlord: a background campaign that keeps a
//! current [`LeaderGuard`] while this node leads, and campaigns again when leadership is
//! lost. Duties run only while [`Leadership::guard`] returns a guard, and every write they
//! make is fenced on it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use henge_coordination::{Election, LeaderGuard, MetaStore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::context::NodeContext;
use crate::role::Role;

pub struct Leadership {
    current: Arc<Mutex<Option<Arc<LeaderGuard>>>>,
    campaign: JoinHandle<()>,
    stop: CancellationToken,
}

impl Leadership {
    /// Starts campaigning for `role` on behalf of this node.
    pub fn start(context: &NodeContext, role: Role) -> Leadership {
        let store = Arc::clone(&context.store);
        let node_id = context.node_id.clone();
        let ttl = context.config.lease_ttl;
        let role = role.as_str();
        let current: Arc<Mutex<Option<Arc<LeaderGuard>>>> = Arc::default();
        let stop = CancellationToken::new();
        let campaign = tokio::spawn(campaign_loop(
            store,
            role,
            node_id,
            ttl,
            Arc::clone(&current),
            stop.clone(),
        ));
        Leadership {
            current,
            campaign,
            stop,
        }
    }

    /// The guard while this node leads.
    pub fn guard(&self) -> Option<Arc<LeaderGuard>> {
        let guard = self
            .current
            .lock()
            .expect("leadership lock poisoned")
            .clone();
        guard.filter(|guard| guard.is_leader())
    }

    /// Stops campaigning and resigns if leading.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        let _ = (&mut self.campaign).await;
    }
}

impl Drop for Leadership {
    /// An actor rebuilt after a panic drops its old campaign: make it resign.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn campaign_loop(
    store: Arc<dyn MetaStore>,
    role: &'static str,
    node_id: String,
    ttl: Duration,
    current: Arc<Mutex<Option<Arc<LeaderGuard>>>>,
    stop: CancellationToken,
) {
    let election = Election::new(store);
    loop {
        let guard = tokio::select! {
            _ = stop.cancelled() => return,
            guard = election.campaign(role, &node_id, ttl) => guard,
        };
        let guard = match guard {
            Ok(guard) => Arc::new(guard),
            Err(err) => {
                tracing::warn!(role, error = %err, "leader campaign failed, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        tracing::info!(role, node = %node_id, token = guard.fencing_token(), "became leader");
        *current.lock().expect("leadership lock poisoned") = Some(Arc::clone(&guard));
        tokio::select! {
            _ = stop.cancelled() => {
                current.lock().expect("leadership lock poisoned").take();
                match Arc::try_unwrap(guard) {
                    Ok(guard) => {
                        if let Err(err) = guard.resign().await {
                            tracing::warn!(role, error = %err, "failed to resign leadership");
                        }
                    }
                    Err(_) => tracing::warn!(role, "leader guard still in use; its lease will expire"),
                }
                return;
            }
            _ = guard.lost() => {
                current.lock().expect("leadership lock poisoned").take();
                tracing::warn!(role, node = %node_id, "lost leadership");
            }
        }
    }
}
