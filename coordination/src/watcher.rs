//! [`PrefixWatcher`]: a live, typed copy of every key under a prefix (the nodes, one
//! node's assignments, the rules), kept current by a background task.
//!
//! The task lists the prefix, then watches from the listed revision. When the watch
//! breaks (store unreachable, history compacted, watcher lagging), it waits, lists again
//! and replaces the whole map, so a consumer never misses a change for good. A value that
//! is not valid JSON for `T` is logged and left out instead of stopping the task.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::Result;
use crate::store::{KeyValue, MetaStore, WatchEvent, WatchEventKind};

/// Entries keyed by the part of the key after the prefix.
pub type PrefixMap<T> = Arc<BTreeMap<String, T>>;

const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A live view of a prefix. Dropping it stops its background task.
pub struct PrefixWatcher<T> {
    receiver: watch::Receiver<PrefixMap<T>>,
    _task_guard: DropGuard,
}

impl<T> PrefixWatcher<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// Lists `prefix` (so [`PrefixWatcher::current`] is complete when this returns) and
    /// starts following it.
    pub async fn start(store: Arc<dyn MetaStore>, prefix: &str) -> Result<Self> {
        let (entries, revision) = store.list(prefix).await?;
        let map = decode_all(prefix, entries);
        let (sender, receiver) = watch::channel(Arc::new(map.clone()));
        let cancel = CancellationToken::new();
        let follower = Follower {
            store,
            prefix: prefix.to_string(),
            map,
            revision,
            sender,
        };
        tokio::spawn(follower.run(cancel.clone()));
        Ok(Self {
            receiver,
            _task_guard: cancel.drop_guard(),
        })
    }

    /// The entries as of now.
    pub fn current(&self) -> PrefixMap<T> {
        Arc::clone(&self.receiver.borrow())
    }

    /// Waits until the entries change, then returns them.
    pub async fn changed(&mut self) -> PrefixMap<T> {
        // The sender lives in the task, which lives as long as `self`: this cannot fail
        // while `self` exists, and if it ever did, the last value is still the best answer.
        let _ = self.receiver.changed().await;
        Arc::clone(&self.receiver.borrow_and_update())
    }

    /// A receiver for consumers that want to `select!` on changes; it stops seeing
    /// changes once this watcher is dropped.
    pub fn subscribe(&self) -> watch::Receiver<PrefixMap<T>> {
        self.receiver.clone()
    }
}

struct Follower<T> {
    store: Arc<dyn MetaStore>,
    prefix: String,
    map: BTreeMap<String, T>,
    revision: i64,
    sender: watch::Sender<PrefixMap<T>>,
}

impl<T> Follower<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    async fn run(mut self, cancel: CancellationToken) {
        let mut retry_delay = RETRY_MIN;
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                outcome = self.follow() => outcome,
            };
            if let Err(err) = outcome {
                tracing::warn!(prefix = %self.prefix, error = %err, "prefix watch broke; relisting");
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(retry_delay) => {}
            }
            retry_delay = (retry_delay * 2).min(RETRY_MAX);
            let relisted = tokio::select! {
                _ = cancel.cancelled() => return,
                relisted = self.store.list(&self.prefix) => relisted,
            };
            match relisted {
                Ok((entries, revision)) => {
                    self.map = decode_all(&self.prefix, entries);
                    self.revision = revision;
                    self.publish();
                    retry_delay = RETRY_MIN;
                }
                Err(err) => {
                    tracing::warn!(prefix = %self.prefix, error = %err, "failed to relist prefix");
                }
            }
        }
    }

    /// Follows the watch until it breaks; returns the error that broke it.
    async fn follow(&mut self) -> Result<()> {
        let mut stream = self.store.watch_prefix(&self.prefix, self.revision).await?;
        while let Some(first) = stream.next().await {
            self.apply(first?);
            // Apply whatever else is already waiting before publishing one new map.
            while let Some(Some(next)) = stream.next().now_or_never() {
                self.apply(next?);
            }
            self.publish();
        }
        Err(crate::Error::Unavailable("watch stream ended".into()))
    }

    fn apply(&mut self, event: WatchEvent) {
        self.revision = self.revision.max(event.kv.mod_revision);
        let relative = event.kv.key[self.prefix.len()..].to_string();
        match event.kind {
            WatchEventKind::Delete => {
                self.map.remove(&relative);
            }
            WatchEventKind::Put => match decode(&self.prefix, &event.kv) {
                Some(value) => {
                    self.map.insert(relative, value);
                }
                None => {
                    self.map.remove(&relative);
                }
            },
        }
    }

    fn publish(&self) {
        self.sender.send_replace(Arc::new(self.map.clone()));
    }
}

fn decode_all<T: DeserializeOwned>(prefix: &str, entries: Vec<KeyValue>) -> BTreeMap<String, T> {
    entries
        .into_iter()
        .filter_map(|kv| {
            let value = decode(prefix, &kv)?;
            Some((kv.key[prefix.len()..].to_string(), value))
        })
        .collect()
}

fn decode<T: DeserializeOwned>(prefix: &str, kv: &KeyValue) -> Option<T> {
    match serde_json::from_slice(&kv.value) {
        Ok(value) => Some(value),
        Err(err) => {
            tracing::warn!(prefix, key = %kv.key, error = %err, "skipping value that is not valid json");
            None
        }
    }
}
