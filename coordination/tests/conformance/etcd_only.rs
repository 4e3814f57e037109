//! What only the etcd backend has: namespaces and a server that can go away.

use std::time::Duration;

use henge_coordination::testing::EtcdServer;
use henge_coordination::{connect, Error, MetaStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_isolate_stores_on_one_etcd() {
    let server = EtcdServer::start().await;
    let left = server.store("/left").await;
    let right = server.store("/right").await;
    left.put("/henge/x", b"l".to_vec(), None).await.unwrap();
    right.put("/henge/x", b"r".to_vec(), None).await.unwrap();
    assert_eq!(left.get("/henge/x").await.unwrap().unwrap().value, b"l");
    let (entries, _) = right.list("/henge/").await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].key, "/henge/x", "namespace is stripped on reads");
    assert_eq!(left.delete_prefix("/").await.unwrap(), 1);
    assert!(right.get("/henge/x").await.unwrap().is_some());

    let dir = tempfile::tempdir().unwrap();
    let spec = format!("{}/left", server.spec());
    let through_spec = connect(&spec, dir.path()).await.unwrap();
    left.put("/henge/y", b"y".to_vec(), None).await.unwrap();
    assert!(through_spec.get("/henge/y").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_is_unavailable_and_the_client_reconnects() {
    let mut server = EtcdServer::start().await;
    let store = server.store("/outage").await;
    store.put("/k", b"before".to_vec(), None).await.unwrap();

    server.kill();
    let during = tokio::time::timeout(Duration::from_secs(30), store.get("/k"))
        .await
        .expect("a request to a dead etcd returns instead of hanging");
    assert!(matches!(during, Err(Error::Unavailable(_))), "{during:?}");
    assert!(during.unwrap_err().is_retryable());

    server.restart().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let value = loop {
        match store.get("/k").await {
            Ok(kv_opt) => break kv_opt.unwrap().value,
            Err(err) if err.is_retryable() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("client did not reconnect: {err}"),
        }
    };
    assert_eq!(value, b"before", "data survives the etcd restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_outlives_the_request_timeout() {
    let server = EtcdServer::start().await;
    let store = server.store("/long").await;
    let mut stream = store.watch_prefix("/w/", 0).await.unwrap();
    tokio::time::sleep(henge_coordination::etcd::REQUEST_TIMEOUT + Duration::from_secs(2)).await;
    store.put("/w/late", Vec::new(), None).await.unwrap();
    assert_eq!(
        crate::support::next_event(&mut stream).await.kv.key,
        "/w/late"
    );
}
