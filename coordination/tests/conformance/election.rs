//! Leader election and fencing.

use std::sync::Arc;
use std::time::Duration;

use henge_coordination::{fenced_txn, Election, Error, MetaStore, Txn};

const TTL: Duration = Duration::from_secs(3);
const HANDOVER: Duration = Duration::from_secs(15);

pub async fn exactly_one_leader_and_handover_on_resign(store: Arc<dyn MetaStore>) {
    let election = Election::new(Arc::clone(&store));
    let first = election
        .campaign("coordinator", "node-1", TTL)
        .await
        .unwrap();
    assert!(first.is_leader());
    assert_eq!(
        election
            .current_leader("coordinator")
            .await
            .unwrap()
            .as_deref(),
        Some("node-1")
    );

    let contender = {
        let election = election.clone();
        tokio::spawn(async move { election.campaign("coordinator", "node-2", TTL).await })
    };
    // The contender waits while the leader holds on (across several TTLs).
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert!(!contender.is_finished(), "two leaders at once");
    assert!(first.is_leader());
    assert_eq!(
        election
            .current_leader("coordinator")
            .await
            .unwrap()
            .as_deref(),
        Some("node-1")
    );
    // Other roles are independent.
    let overlord = election.campaign("overlord", "node-2", TTL).await.unwrap();

    let first_token = first.fencing_token();
    let lost = first.lost();
    first.resign().await.unwrap();
    tokio::time::timeout(Duration::from_secs(1), lost)
        .await
        .expect("resigning resolves lost()");
    let second = tokio::time::timeout(HANDOVER, contender)
        .await
        .expect("contender took over")
        .unwrap()
        .unwrap();
    assert!(second.fencing_token() > first_token);
    assert_eq!(
        election
            .current_leader("coordinator")
            .await
            .unwrap()
            .as_deref(),
        Some("node-2")
    );
    second.resign().await.unwrap();
    overlord.resign().await.unwrap();
    assert_eq!(election.current_leader("coordinator").await.unwrap(), None);
}

pub async fn handover_on_expiry(store: Arc<dyn MetaStore>) {
    let election = Election::new(Arc::clone(&store));
    let first = election.campaign("overlord", "node-1", TTL).await.unwrap();
    let first_token = first.fencing_token();
    // A crashed leader: no resign, no more keep-alives.
    drop(first);
    let second = tokio::time::timeout(HANDOVER, election.campaign("overlord", "node-2", TTL))
        .await
        .expect("a new leader after the old lease expired")
        .unwrap();
    assert!(second.fencing_token() > first_token);
    second.resign().await.unwrap();
}

pub async fn stale_leader_writes_are_fenced(store: Arc<dyn MetaStore>) {
    let election = Election::new(Arc::clone(&store));
    let stale = election
        .campaign("coordinator", "node-1", TTL)
        .await
        .unwrap();
    assert!(fenced_txn(&stale, Txn::new().put("/f/by-1", b"1".to_vec()))
        .await
        .unwrap());
    // The leader's caller compares failing is not a leadership loss.
    let own_compare_fails = Txn::new()
        .when(henge_coordination::Compare::Absent("/f/by-1".into()))
        .put("/f/never", Vec::new());
    assert!(!fenced_txn(&stale, own_compare_fails).await.unwrap());
    assert!(stale.is_leader());

    // node-1's lease is lost behind its back (a partition); node-2 takes over.
    store.revoke_lease(stale.lease()).await.unwrap();
    let fresh = tokio::time::timeout(HANDOVER, election.campaign("coordinator", "node-2", TTL))
        .await
        .expect("node-2 took over")
        .unwrap();
    assert!(fresh.fencing_token() > stale.fencing_token());

    let rejected = fenced_txn(&stale, Txn::new().put("/f/by-1", b"stale".to_vec())).await;
    assert!(
        matches!(rejected, Err(Error::NotLeader { .. })),
        "{rejected:?}"
    );
    assert_eq!(store.get("/f/by-1").await.unwrap().unwrap().value, b"1");
    tokio::time::timeout(Duration::from_secs(5), stale.lost())
        .await
        .expect("stale guard reports the loss");
    assert!(!stale.is_leader());

    assert!(fenced_txn(&fresh, Txn::new().put("/f/by-2", b"2".to_vec()))
        .await
        .unwrap());
    fresh.resign().await.unwrap();
}
