//! The segment catalog.

use std::sync::Arc;

use henge_coordination::catalog::{
    delete_segments, list_segments, list_used_segments, mark_unused, mark_used, publish_segments,
    publish_txn,
};
use henge_coordination::{keys, Compare, Error, MetaStore, SegmentRecord, MAX_TXN_OPS};
use serde_json::json;

fn record(datasource: &str, segment_id: &str) -> SegmentRecord {
    SegmentRecord::new_used(
        datasource,
        segment_id,
        json!({ "identifier": segment_id, "size": 10 }),
    )
}

pub async fn publish_is_atomic(store: Arc<dyn MetaStore>) {
    let batch = [
        record("wiki", "s1"),
        record("wiki", "s2"),
        record("other", "o1"),
    ];
    publish_segments(store.as_ref(), &batch).await.unwrap();
    let listed = list_used_segments(store.as_ref(), None).await.unwrap();
    let ids: Vec<&str> = listed
        .iter()
        .map(|record| record.segment_id.as_str())
        .collect();
    assert_eq!(ids, ["o1", "s1", "s2"]);
    assert_eq!(listed[1], batch[0]);
    assert_eq!(
        list_used_segments(store.as_ref(), Some("wiki"))
            .await
            .unwrap()
            .len(),
        2
    );

    // Exactly-once publishing: segments and offsets commit together, after a CAS on the
    // previous offsets. A replay that lost the CAS publishes nothing.
    let offsets = keys::offsets("wiki");
    store
        .put(&offsets, b"{\"p0\":10}".to_vec(), None)
        .await
        .unwrap();
    let commit = |segment_id: &str, expected: &[u8], next: &[u8]| {
        publish_txn(&[record("wiki", segment_id)])
            .unwrap()
            .when(Compare::ValueEquals(offsets.clone(), expected.to_vec()))
            .put(offsets.clone(), next.to_vec())
    };
    assert!(store
        .txn(commit("s3", b"{\"p0\":10}", b"{\"p0\":20}"))
        .await
        .unwrap());
    assert!(!store
        .txn(commit("s3-replay", b"{\"p0\":10}", b"{\"p0\":20}"))
        .await
        .unwrap());
    assert!(store
        .get(&keys::segment("wiki", "s3-replay"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        list_used_segments(store.as_ref(), Some("wiki"))
            .await
            .unwrap()
            .len(),
        3
    );

    // A batch too large for one transaction is refused whole.
    let oversized: Vec<SegmentRecord> = (0..=MAX_TXN_OPS)
        .map(|index| record("big", &format!("b{index}")))
        .collect();
    assert!(matches!(
        publish_segments(store.as_ref(), &oversized).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(list_segments(store.as_ref(), Some("big"))
        .await
        .unwrap()
        .is_empty());
    assert!(publish_segments(store.as_ref(), &[record("bad/name", "x")])
        .await
        .is_err());
}

pub async fn used_flag_round_trip(store: Arc<dyn MetaStore>) {
    let batch: Vec<SegmentRecord> = (0..200)
        .map(|index| record("ds", &format!("s{index:03}")))
        .collect();
    for chunk in batch.chunks(100) {
        publish_segments(store.as_ref(), chunk).await.unwrap();
    }
    let all_ids: Vec<String> = batch
        .iter()
        .map(|record| record.segment_id.clone())
        .collect();
    let mut unused_ids: Vec<String> = all_ids[..150].to_vec();
    unused_ids.push("unknown".to_string());

    assert_eq!(
        mark_unused(store.as_ref(), None, "ds", &unused_ids)
            .await
            .unwrap(),
        150
    );
    assert_eq!(
        mark_unused(store.as_ref(), None, "ds", &unused_ids)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        list_used_segments(store.as_ref(), Some("ds"))
            .await
            .unwrap()
            .len(),
        50
    );
    let all = list_segments(store.as_ref(), Some("ds")).await.unwrap();
    assert_eq!(all.len(), 200);
    assert!(!all[0].used);
    assert!(all[0].used_status_last_updated_ms >= batch[0].used_status_last_updated_ms);

    assert_eq!(
        mark_used(store.as_ref(), None, "ds", &all_ids[..10])
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        list_used_segments(store.as_ref(), Some("ds"))
            .await
            .unwrap()
            .len(),
        60
    );

    assert_eq!(
        delete_segments(store.as_ref(), None, "ds", &all_ids[..140])
            .await
            .unwrap(),
        140
    );
    assert_eq!(
        list_segments(store.as_ref(), Some("ds"))
            .await
            .unwrap()
            .len(),
        60
    );
}
