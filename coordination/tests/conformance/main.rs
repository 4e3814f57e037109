//! The conformance suite: every case runs against both backends, the embedded store (in a
//! temporary directory) and a real etcd started for the test (`testing::EtcdServer`).
//! Backend-specific behaviour (persistence, namespaces, outages) has its own modules.

mod catalog;
mod election;
mod embedded_only;
mod etcd_only;
mod kv;
mod leases;
mod membership;
mod support;
mod watch;

/// Generates `embedded::<case>` and `etcd::<case>` tests for each listed case, where a case
/// is `async fn(Arc<dyn MetaStore>)`.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, _dir) = crate::support::embedded_store().await;
                    crate::$module::$case(store).await;
                }
            )*
        }
        mod etcd {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let server = henge_coordination::testing::EtcdServer::start().await;
                    let store = std::sync::Arc::new(server.store("/conformance").await);
                    crate::$module::$case(store).await;
                }
            )*
        }
    };
}

conformance!(
    kv::crud,
    kv::list_is_sorted_and_prefix_bounded,
    kv::delete_prefix_counts,
    kv::txn_applies_all_or_nothing,
    kv::txn_compares_on_missing_keys,
    kv::txn_rejects_duplicate_keys_and_oversized_batches,
    leases::lease_expiry_deletes_only_its_keys,
    leases::keep_alive_extends_a_lease,
    leases::revoke_deletes_keys_at_once,
    watch::watch_sees_changes_in_order,
    watch::watch_from_revision_replays_missed_changes,
    membership::register_list_update_leave_expire,
    membership::registration_comes_back_after_lease_loss,
    election::exactly_one_leader_and_handover_on_resign,
    election::handover_on_expiry,
    election::stale_leader_writes_are_fenced,
    catalog::publish_is_atomic,
    catalog::used_flag_round_trip,
);
