//! The historical role: loads the segments the coordinator assigned to this node from deep
//! storage into the local cache and serves them.
//!
//! At start it reopens the cache (which verifies every cached file and discards torn ones),
//! then reconciles against its assignments: assigned segments already on disk are served at
//! once, missing ones are downloaded, unassigned ones are dropped. It reports ready after
//! that first reconciliation. Afterwards a watch on its assignment prefix triggers a
//! reconciliation on every change, with a periodic one as a safety net.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use henge_coordination::keys;
use henge_segment::id::DataSegment;
use henge_storage::SegmentCache;
use tokio::task::JoinHandle;

use crate::actor::{Actor, Mailbox};
use crate::context::NodeContext;
use crate::datanode::Served;
use crate::role::Role;

const RECONCILE_PERIOD: Duration = Duration::from_secs(5);

pub enum HistoricalMessage {
    Reconcile,
}

pub struct Historical {
    context: Arc<NodeContext>,
    cache: Option<SegmentCache>,
    failed: BTreeSet<String>,
    watcher: Option<JoinHandle<()>>,
    mailbox: Mailbox<HistoricalMessage>,
}

impl Historical {
    /// `mailbox` is the actor's own, for the watch task that pokes it.
    pub fn new(context: Arc<NodeContext>, mailbox: Mailbox<HistoricalMessage>) -> Historical {
        Historical {
            context,
            cache: None,
            failed: BTreeSet::new(),
            watcher: None,
            mailbox,
        }
    }

    async fn reconcile(&mut self) -> anyhow::Result<()> {
        if self.cache.is_none() {
            let dir = self.context.config.data_dir.join("segment-cache");
            let (cache, cached) = SegmentCache::open(&dir).await?;
            tracing::info!(cached = cached.len(), dir = %dir.display(), "segment cache opened");
            self.cache = Some(cache);
            self.start_watch();
        }
        let cache = self.cache.as_ref().expect("cache opened above");
        let prefix = keys::assignments_of(&self.context.node_id);
        let (entries, _) = self.context.store.list(&prefix).await?;
        let mut wanted = BTreeMap::new();
        for entry in entries {
            match serde_json::from_slice::<DataSegment>(&entry.value) {
                Ok(segment) => {
                    wanted.insert(segment.identifier.clone(), segment);
                }
                Err(err) => tracing::warn!(key = %entry.key, error = %err, "bad assignment"),
            }
        }
        let registry = &self.context.registry;
        for identifier in registry.historical_ids() {
            if !wanted.contains_key(&identifier) {
                tracing::info!(segment = %identifier, "dropping unassigned segment");
                if let Some(served) = registry.remove_historical(&identifier) {
                    cache.drop_segment(&served.descriptor.id()).await?;
                }
            }
        }
        let loaded: BTreeSet<String> = registry.historical_ids().into_iter().collect();
        let mut failures = 0;
        for (identifier, descriptor) in wanted {
            if loaded.contains(&identifier) {
                continue;
            }
            match cache.load(&descriptor, &self.context.deep).await {
                Ok(segment) => {
                    tracing::info!(segment = %identifier, rows = segment.num_rows(), "segment loaded");
                    self.failed.remove(&identifier);
                    registry.add_historical(Served {
                        descriptor,
                        parts: vec![segment],
                    });
                }
                Err(err) => {
                    failures += 1;
                    if self.failed.insert(identifier.clone()) {
                        tracing::error!(segment = %identifier, error = %err, "failed to load segment");
                    }
                }
            }
        }
        let waiting =
            (failures > 0).then(|| format!("{failures} assigned segments failed to load"));
        self.context.readiness.set(Role::Historical, true, waiting);
        Ok(())
    }

    fn start_watch(&mut self) {
        let mailbox = self.mailbox.clone();
        let store = Arc::clone(&self.context.store);
        let prefix = keys::assignments_of(&self.context.node_id);
        self.watcher = Some(tokio::spawn(async move {
            loop {
                match store.watch_prefix(&prefix, 0).await {
                    Ok(mut events) => {
                        use futures::StreamExt;
                        while let Some(event) = events.next().await {
                            if event.is_err() {
                                break;
                            }
                            if mailbox.send(HistoricalMessage::Reconcile).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(err) => tracing::debug!(error = %err, "assignment watch failed"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
}

#[async_trait]
impl Actor for Historical {
    type Message = HistoricalMessage;

    async fn handle(&mut self, message: HistoricalMessage) -> anyhow::Result<()> {
        match message {
            HistoricalMessage::Reconcile => self.reconcile().await,
        }
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(RECONCILE_PERIOD)
    }

    async fn tick(&mut self) -> anyhow::Result<()> {
        self.reconcile().await
    }

    async fn finalize(&mut self) -> anyhow::Result<()> {
        if let Some(watcher) = self.watcher.take() {
            watcher.abort();
        }
        Ok(())
    }
}
