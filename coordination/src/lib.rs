//! Coordination: membership, leader election with fencing, the segment catalog and
//! watches, over one small key-value abstraction with two backends.
//!
//! Layout:
//! - [`store`]: the [`MetaStore`] trait (get/list/put/delete, transactions, leases,
//!   watches) with etcd v3 semantics, and its data types.
//! - [`embedded`]: the in-process backend, persisted in a checksummed snapshot file, for
//!   single-process mode and tests. [`etcd`]: the etcd backend, for clusters.
//! - Typed helpers built once on the trait, for every backend: [`membership`],
//!   [`election`], [`catalog`], [`lookups`] (the lookup configuration), and [`watcher`] (a live typed view of a prefix).
//! - [`keys`]: the key schema and the size limits of what the store may hold.
//! - `testing` (cargo feature `testing`): starts a throwaway etcd server for tests.
//!
//! Invariants:
//! - Every leader write goes through [`fenced_txn`]; a leader is active only after its
//!   first confirmed keep-alive.
//! - Lease expiry only removes ephemeral keys (node records, leader keys); durable data
//!   never lives under a lease.
//! - Both backends pass one conformance suite (`tests/conformance`).
//!
//! This crate depends only on `henge-common` among Henge crates: segment and task types
//! are stored as opaque JSON.

pub mod catalog;
pub mod election;
pub mod embedded;
mod error;
pub mod etcd;
pub mod keys;
pub mod lookups;
pub mod membership;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod watcher;

use std::path::Path;
use std::sync::Arc;

pub use catalog::SegmentRecord;
pub use election::{fenced_txn, Election, LeaderGuard};
pub use embedded::EmbeddedStore;
pub use error::{Error, Result};
pub use etcd::EtcdStore;
pub use membership::{Membership, NodeInfo, Registration};
pub use store::{
    Compare, KeyValue, LeaseId, MetaStore, Op, Txn, WatchEvent, WatchEventKind, WatchStream,
    MAX_TXN_OPS,
};
pub use watcher::{PrefixMap, PrefixWatcher};

/// Subdirectory of the node's data directory that holds the embedded store.
pub const EMBEDDED_DIR: &str = "coordination";

/// Opens the store named by `spec`:
/// - `embedded`: the in-process store, kept in `data_dir/coordination`;
/// - `etcd://host:port[,host:port...][/namespace]`: an etcd cluster; every key is stored
///   under `/namespace` when one is given.
pub async fn connect(spec: &str, data_dir: &Path) -> Result<Arc<dyn MetaStore>> {
    if spec == "embedded" {
        let store = EmbeddedStore::open(&data_dir.join(EMBEDDED_DIR)).await?;
        return Ok(Arc::new(store));
    }
    let (endpoints, namespace) = parse_etcd_spec(spec)?;
    Ok(Arc::new(EtcdStore::connect(&endpoints, &namespace).await?))
}

fn parse_etcd_spec(spec: &str) -> Result<(Vec<String>, String)> {
    let invalid = || Error::InvalidSpec {
        spec: spec.to_string(),
    };
    let rest = spec.strip_prefix("etcd://").ok_or_else(invalid)?;
    let (hosts, namespace) = match rest.split_once('/') {
        Some((hosts, namespace)) => {
            let namespace = namespace.trim_end_matches('/');
            if namespace.is_empty() {
                (hosts, String::new())
            } else {
                (hosts, format!("/{namespace}"))
            }
        }
        None => (rest, String::new()),
    };
    let endpoints: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(|host| format!("http://{host}"))
        .collect();
    if endpoints.is_empty() {
        return Err(invalid());
    }
    Ok((endpoints, namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_etcd_specs() {
        let (endpoints, namespace) = parse_etcd_spec("etcd://a:2379,b:2379").unwrap();
        assert_eq!(endpoints, ["http://a:2379", "http://b:2379"]);
        assert_eq!(namespace, "");
        let (endpoints, namespace) = parse_etcd_spec("etcd://a:2379/prod/").unwrap();
        assert_eq!(endpoints, ["http://a:2379"]);
        assert_eq!(namespace, "/prod");
        assert!(parse_etcd_spec("etcd://").is_err());
        assert!(parse_etcd_spec("zk://a:2181").is_err());
    }
}
