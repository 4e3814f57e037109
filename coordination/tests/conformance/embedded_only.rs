//! What only the embedded backend promises: persistence across reopen.

use std::time::Duration;

use futures::StreamExt;
use henge_coordination::{connect, EmbeddedStore, Error, MetaStore, Txn};

#[tokio::test]
async fn durable_keys_survive_reopen_and_ephemeral_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (durable, last_revision) = {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        store.put("/keep/a", b"a".to_vec(), None).await.unwrap();
        store
            .txn(
                Txn::new()
                    .put("/keep/b", b"b".to_vec())
                    .put("/keep/c", b"c".to_vec()),
            )
            .await
            .unwrap();
        store.delete("/keep/c").await.unwrap();
        let lease = store.grant_lease(Duration::from_secs(60)).await.unwrap();
        let last = store
            .put("/node/ephemeral", b"e".to_vec(), Some(lease))
            .await
            .unwrap();
        (store.list("/keep/").await.unwrap().0, last)
    };

    let reopened = EmbeddedStore::open(dir.path()).await.unwrap();
    let (entries, revision) = reopened.list("/").await.unwrap();
    assert_eq!(entries, durable, "same keys, values and revisions");
    assert!(revision >= last_revision, "revisions never go back");
    assert!(reopened.get("/node/ephemeral").await.unwrap().is_none());
    let next = reopened.put("/keep/d", Vec::new(), None).await.unwrap();
    assert!(next > last_revision);

    // History from before the restart is gone: a watch asking for it must relist.
    assert!(matches!(
        reopened.watch_prefix("/keep/", 1).await.err(),
        Some(Error::Compacted { .. })
    ));
    let mut live = reopened.watch_prefix("/keep/", revision).await.unwrap();
    assert_eq!(live.next().await.unwrap().unwrap().kv.key, "/keep/d");
}

#[tokio::test]
async fn corrupted_snapshot_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        store.put("/a", b"value".to_vec(), None).await.unwrap();
    }
    let snapshot = dir.path().join("meta.snapshot");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&snapshot, &bytes).unwrap();
    let err = EmbeddedStore::open(dir.path())
        .await
        .err()
        .expect("corruption detected");
    assert!(matches!(err, Error::Corrupted { .. }), "{err:?}");
    assert!(err.to_string().contains("meta.snapshot"), "{err}");

    std::fs::write(&snapshot, &bytes[..5]).unwrap();
    assert!(matches!(
        EmbeddedStore::open(dir.path()).await,
        Err(Error::Corrupted { .. })
    ));
}

#[tokio::test]
async fn connect_opens_the_embedded_store_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = connect("embedded", dir.path()).await.unwrap();
        store.put("/x", b"1".to_vec(), None).await.unwrap();
    }
    assert!(dir.path().join("coordination/meta.snapshot").is_file());
    let store = connect("embedded", dir.path()).await.unwrap();
    assert_eq!(store.get("/x").await.unwrap().unwrap().value, b"1");
    assert!(matches!(
        connect("zookeeper://x", dir.path()).await.err(),
        Some(Error::InvalidSpec { .. })
    ));
}
