//! Watches.

use std::sync::Arc;

use henge_coordination::{MetaStore, Txn, WatchEventKind};

use crate::support::next_event;

pub async fn watch_sees_changes_in_order(store: Arc<dyn MetaStore>) {
    let mut stream = store.watch_prefix("/w/", 0).await.unwrap();
    let put_a = store.put("/w/a", b"1".to_vec(), None).await.unwrap();
    store.put("/outside", b"x".to_vec(), None).await.unwrap();
    store.put("/w/b", b"2".to_vec(), None).await.unwrap();
    store.delete("/w/a").await.unwrap();
    store
        .txn(Txn::new().put("/w/c", b"3".to_vec()).delete("/w/b"))
        .await
        .unwrap();

    let mut seen = Vec::new();
    for _ in 0..5 {
        let event = next_event(&mut stream).await;
        seen.push((
            event.kind,
            event.kv.key.clone(),
            event.kv.value.clone(),
            event.kv.mod_revision,
        ));
    }
    let shape: Vec<(WatchEventKind, &str, &[u8])> = seen
        .iter()
        .map(|(kind, key, value, _)| (*kind, key.as_str(), value.as_slice()))
        .collect();
    assert_eq!(
        shape,
        [
            (WatchEventKind::Put, "/w/a", b"1".as_slice()),
            (WatchEventKind::Put, "/w/b", b"2".as_slice()),
            (WatchEventKind::Delete, "/w/a", b"".as_slice()),
            (WatchEventKind::Put, "/w/c", b"3".as_slice()),
            (WatchEventKind::Delete, "/w/b", b"".as_slice()),
        ]
    );
    assert_eq!(seen[0].3, put_a);
    assert!(seen.windows(2).all(|pair| pair[0].3 <= pair[1].3));
    assert_eq!(seen[3].3, seen[4].3, "one txn, one revision");
}

pub async fn watch_from_revision_replays_missed_changes(store: Arc<dyn MetaStore>) {
    store.put("/h/before", Vec::new(), None).await.unwrap();
    let (_, listed) = store.list("/h/").await.unwrap();
    let first = store.put("/h/x", b"x".to_vec(), None).await.unwrap();
    store.put("/h/y", b"y".to_vec(), None).await.unwrap();

    let mut from_list = store.watch_prefix("/h/", listed).await.unwrap();
    assert_eq!(next_event(&mut from_list).await.kv.key, "/h/x");
    assert_eq!(next_event(&mut from_list).await.kv.key, "/h/y");

    let mut from_first = store.watch_prefix("/h/", first).await.unwrap();
    assert_eq!(next_event(&mut from_first).await.kv.key, "/h/y");
    // Still live after the replay.
    store.put("/h/z", Vec::new(), None).await.unwrap();
    assert_eq!(next_event(&mut from_first).await.kv.key, "/h/z");
    assert_eq!(next_event(&mut from_list).await.kv.key, "/h/z");
}
