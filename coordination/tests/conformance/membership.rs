//! Membership records under leases.

use std::sync::Arc;
use std::time::Duration;

use henge_coordination::{keys, Membership, MetaStore, NodeInfo};

use crate::support::{eventually, exists};

fn node(id: &str) -> NodeInfo {
    NodeInfo {
        id: id.to_string(),
        roles: vec!["historical".to_string()],
        http_addr: format!("{id}:8083"),
        ready: false,
        waiting_for: vec!["segment cache".to_string()],
        started_at: "2026-01-01T00:00:00.000Z".to_string(),
    }
}

pub async fn register_list_update_leave_expire(store: Arc<dyn MetaStore>) {
    let membership = Membership::new(Arc::clone(&store));
    let ttl = Duration::from_secs(3);
    let first = membership.register(&node("node-b"), ttl).await.unwrap();
    let second = membership.register(&node("node-a"), ttl).await.unwrap();
    let mut watcher = membership.watch_nodes().await.unwrap();

    let listed = membership.list_nodes().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|info| info.id.as_str()).collect();
    assert_eq!(ids, ["node-a", "node-b"]);
    assert_eq!(listed[1], node("node-b"));
    assert_eq!(watcher.current().len(), 2);

    // Records outlive several TTLs while registered.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(membership.list_nodes().await.unwrap().len(), 2);

    let mut ready = node("node-b");
    ready.ready = true;
    ready.waiting_for.clear();
    first.update(&ready).await.unwrap();
    let nodes = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let nodes = watcher.changed().await;
            if nodes.get("node-b").is_some_and(|info| info.ready) {
                return nodes;
            }
        }
    })
    .await
    .expect("watcher saw the update");
    assert_eq!(nodes["node-b"], ready);
    assert!(first.update(&node("someone-else")).await.is_err());

    first.leave().await.unwrap();
    assert!(!exists(&store, &keys::node("node-b")).await);

    // A dropped registration (a crashed node) disappears one TTL later.
    drop(second);
    eventually(
        Duration::from_secs(15),
        "crashed node record to expire",
        || async { watcher.current().is_empty() },
    )
    .await;
    assert!(membership.list_nodes().await.unwrap().is_empty());
}

pub async fn registration_comes_back_after_lease_loss(store: Arc<dyn MetaStore>) {
    let membership = Membership::new(Arc::clone(&store));
    let registration = membership
        .register(&node("node-x"), Duration::from_secs(3))
        .await
        .unwrap();
    let lost_lease = registration.lease().await;
    store.revoke_lease(lost_lease).await.unwrap();
    assert!(!exists(&store, &keys::node("node-x")).await);
    eventually(
        Duration::from_secs(10),
        "node to register again",
        || async { exists(&store, &keys::node("node-x")).await },
    )
    .await;
    assert_ne!(registration.lease().await, lost_lease);
    registration.leave().await.unwrap();
    assert!(!exists(&store, &keys::node("node-x")).await);
}
