//! Leases: expiry, keep-alive, revoke.

use std::sync::Arc;
use std::time::Duration;

use henge_coordination::{Error, MetaStore, Txn};

use crate::support::{eventually, exists};

pub async fn lease_expiry_deletes_only_its_keys(store: Arc<dyn MetaStore>) {
    let lease = store.grant_lease(Duration::from_secs(1)).await.unwrap();
    store
        .put("/l/ephemeral", b"e".to_vec(), Some(lease))
        .await
        .unwrap();
    store
        .txn(Txn::new().put_with_lease("/l/ephemeral-txn", b"t".to_vec(), lease))
        .await
        .unwrap();
    store.put("/l/durable", b"d".to_vec(), None).await.unwrap();
    assert_eq!(
        store.get("/l/ephemeral").await.unwrap().unwrap().lease,
        Some(lease)
    );

    eventually(Duration::from_secs(10), "lease expiry", || async {
        !exists(&store, "/l/ephemeral").await
    })
    .await;
    assert!(!exists(&store, "/l/ephemeral-txn").await);
    assert!(exists(&store, "/l/durable").await);
    assert!(matches!(
        store.keep_alive(lease).await,
        Err(Error::LeaseExpired { .. })
    ));
    assert!(matches!(
        store.put("/l/late", Vec::new(), Some(lease)).await,
        Err(Error::LeaseExpired { .. })
    ));
    assert!(!exists(&store, "/l/late").await);
}

pub async fn keep_alive_extends_a_lease(store: Arc<dyn MetaStore>) {
    let lease = store.grant_lease(Duration::from_secs(3)).await.unwrap();
    store.put("/ka", Vec::new(), Some(lease)).await.unwrap();
    // Five seconds (past the TTL and any rounding of it), refreshed every 500 ms.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        store.keep_alive(lease).await.unwrap();
    }
    assert!(exists(&store, "/ka").await);
    store.revoke_lease(lease).await.unwrap();
}

pub async fn revoke_deletes_keys_at_once(store: Arc<dyn MetaStore>) {
    let lease = store.grant_lease(Duration::from_secs(30)).await.unwrap();
    store.put("/r/1", Vec::new(), Some(lease)).await.unwrap();
    store.put("/r/2", Vec::new(), Some(lease)).await.unwrap();
    // A key moved off the lease is not deleted with it.
    store
        .put("/r/moved", Vec::new(), Some(lease))
        .await
        .unwrap();
    store.put("/r/moved", Vec::new(), None).await.unwrap();
    store.revoke_lease(lease).await.unwrap();
    let (remaining, _) = store.list("/r/").await.unwrap();
    let keys: Vec<&str> = remaining.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/r/moved"]);
    store.revoke_lease(lease).await.unwrap();
    assert!(matches!(
        store.keep_alive(lease).await,
        Err(Error::LeaseExpired { .. })
    ));
}
