//! Keys, lists and transactions.

use std::sync::Arc;

use henge_coordination::{Compare, Error, MetaStore, Txn, MAX_TXN_OPS};

pub async fn crud(store: Arc<dyn MetaStore>) {
    assert!(store.get("/k").await.unwrap().is_none());
    let first = store.put("/k", b"one".to_vec(), None).await.unwrap();
    let kv = store.get("/k").await.unwrap().unwrap();
    assert_eq!(kv.key, "/k");
    assert_eq!(kv.value, b"one");
    assert_eq!(kv.create_revision, first);
    assert_eq!(kv.mod_revision, first);
    assert_eq!(kv.lease, None);

    let second = store.put("/k", b"two".to_vec(), None).await.unwrap();
    assert!(second > first);
    let kv = store.get("/k").await.unwrap().unwrap();
    assert_eq!(kv.value, b"two");
    assert_eq!(
        kv.create_revision, first,
        "create revision survives overwrites"
    );
    assert_eq!(kv.mod_revision, second);

    assert!(store.delete("/k").await.unwrap());
    assert!(!store.delete("/k").await.unwrap());
    assert!(store.get("/k").await.unwrap().is_none());
    let third = store.put("/k", b"three".to_vec(), None).await.unwrap();
    assert_eq!(
        store.get("/k").await.unwrap().unwrap().create_revision,
        third
    );
}

pub async fn list_is_sorted_and_prefix_bounded(store: Arc<dyn MetaStore>) {
    for key in ["/a/c", "/a/a", "/ab", "/a/b", "/b"] {
        store.put(key, key.as_bytes().to_vec(), None).await.unwrap();
    }
    let last = store.put("/a/d", b"d".to_vec(), None).await.unwrap();
    let (entries, revision) = store.list("/a/").await.unwrap();
    let keys: Vec<&str> = entries.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/a/a", "/a/b", "/a/c", "/a/d"]);
    assert!(revision >= last);
    let (everything, _) = store.list("").await.unwrap();
    assert_eq!(everything.len(), 6);
    assert!(store.list("/zzz").await.unwrap().0.is_empty());
}

pub async fn delete_prefix_counts(store: Arc<dyn MetaStore>) {
    for key in ["/p/1", "/p/2", "/p/3", "/q"] {
        store.put(key, Vec::new(), None).await.unwrap();
    }
    assert_eq!(store.delete_prefix("/p/").await.unwrap(), 3);
    assert_eq!(store.delete_prefix("/p/").await.unwrap(), 0);
    assert!(store.get("/q").await.unwrap().is_some());
}

pub async fn txn_applies_all_or_nothing(store: Arc<dyn MetaStore>) {
    let base = store.put("/t/base", b"v1".to_vec(), None).await.unwrap();
    store.put("/t/gone", b"x".to_vec(), None).await.unwrap();

    let applied = store
        .txn(
            Txn::new()
                .when(Compare::ValueEquals("/t/base".into(), b"v1".to_vec()))
                .when(Compare::ModRevision("/t/base".into(), base))
                .when(Compare::CreateRevision("/t/base".into(), base))
                .when(Compare::Absent("/t/new".into()))
                .put("/t/new", b"n".to_vec())
                .put("/t/base", b"v2".to_vec())
                .delete("/t/gone"),
        )
        .await
        .unwrap();
    assert!(applied);
    let new = store.get("/t/new").await.unwrap().unwrap();
    let updated = store.get("/t/base").await.unwrap().unwrap();
    assert_eq!(updated.value, b"v2");
    assert_eq!(
        new.mod_revision, updated.mod_revision,
        "one revision per txn"
    );
    assert!(store.get("/t/gone").await.unwrap().is_none());

    // A stale compare: nothing of the txn is written.
    let rejected = store
        .txn(
            Txn::new()
                .when(Compare::ModRevision("/t/base".into(), base))
                .put("/t/other", b"o".to_vec())
                .delete("/t/new"),
        )
        .await
        .unwrap();
    assert!(!rejected);
    assert!(store.get("/t/other").await.unwrap().is_none());
    assert!(store.get("/t/new").await.unwrap().is_some());
}

pub async fn txn_compares_on_missing_keys(store: Arc<dyn MetaStore>) {
    let holds = |compare: Compare| {
        let store = Arc::clone(&store);
        async move { store.txn(Txn::new().when(compare)).await.unwrap() }
    };
    assert!(holds(Compare::Absent("/m".into())).await);
    assert!(holds(Compare::ModRevision("/m".into(), 0)).await);
    assert!(holds(Compare::CreateRevision("/m".into(), 0)).await);
    assert!(!holds(Compare::ValueEquals("/m".into(), Vec::new())).await);
    store.put("/m", Vec::new(), None).await.unwrap();
    assert!(!holds(Compare::Absent("/m".into())).await);
    assert!(holds(Compare::ValueEquals("/m".into(), Vec::new())).await);
}

pub async fn txn_rejects_duplicate_keys_and_oversized_batches(store: Arc<dyn MetaStore>) {
    let duplicate = Txn::new().put("/d", b"1".to_vec()).delete("/d");
    assert!(matches!(
        store.txn(duplicate).await,
        Err(Error::InvalidArgument(_))
    ));
    let mut oversized = Txn::new();
    for index in 0..=MAX_TXN_OPS {
        oversized = oversized.put(format!("/big/{index}"), Vec::new());
    }
    assert!(matches!(
        store.txn(oversized).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(store.list("/big/").await.unwrap().0.is_empty());
    assert!(store.get("/d").await.unwrap().is_none());
}
