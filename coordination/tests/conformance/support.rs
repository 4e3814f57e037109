//! Shared helpers of the conformance suite.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use henge_coordination::{EmbeddedStore, MetaStore, WatchEvent, WatchStream};
use tempfile::TempDir;

/// A fresh embedded store and the directory that must outlive it.
pub async fn embedded_store() -> (Arc<dyn MetaStore>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    (Arc::new(store), dir)
}

/// Polls `condition` every 100 ms until it holds; panics after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next event of a watch, failing the test after 10 s.
pub async fn next_event(stream: &mut WatchStream) -> WatchEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("timed out waiting for a watch event")
        .expect("watch stream ended")
        .expect("watch stream failed")
}

/// Whether `key` exists.
pub async fn exists(store: &Arc<dyn MetaStore>, key: &str) -> bool {
    store.get(key).await.unwrap().is_some()
}
