//! Loading registered lookups on a node: brokers, historicals and realtime nodes follow the
//! lookup configuration in the coordination store ([`henge_coordination::lookups`]) with a
//! watch and swap the `__default` tier's maps into the node's [`Lookups`] handle, which
//! every query parsed on the node resolves names against.
//!
//! The first load happens before [`LookupLoader::start`] returns, so a node is ready only
//! with its lookups loaded. After that a change reaches every node as soon as the store's
//! watch delivers it (milliseconds; after a broken watch, the relist of the prefix watcher
//! within 5 s). A lookup whose factory fails to parse is logged and left out.

use std::collections::BTreeMap;
use std::sync::Arc;

use henge_coordination::lookups::{LookupConfig, DEFAULT_TIER};
use henge_coordination::{keys, MetaStore, PrefixMap, PrefixWatcher};
use henge_query::{parse_lookup_factory, LookupMap, Lookups};
use tokio::task::JoinHandle;

/// The background task that keeps a [`Lookups`] handle current. Dropping it stops it.
pub struct LookupLoader {
    task: JoinHandle<()>,
}

impl LookupLoader {
    /// Loads the current lookups into `lookups`, then follows changes.
    pub async fn start(store: Arc<dyn MetaStore>, lookups: Lookups) -> anyhow::Result<Self> {
        let mut watcher = PrefixWatcher::<LookupConfig>::start(store, keys::LOOKUPS).await?;
        let mut loaded = Loaded::default();
        loaded.apply(&watcher.current(), &lookups);
        let task = tokio::spawn(async move {
            loop {
                let entries = watcher.changed().await;
                loaded.apply(&entries, &lookups);
            }
        });
        Ok(LookupLoader { task })
    }
}

impl Drop for LookupLoader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The maps loaded so far, by name, with the version each was built from (an unchanged
/// version reuses its map instead of rebuilding it).
#[derive(Default)]
struct Loaded {
    maps: BTreeMap<String, (Option<String>, LookupMap)>,
}

impl Loaded {
    fn apply(&mut self, entries: &PrefixMap<LookupConfig>, lookups: &Lookups) {
        let tier = entries
            .get("")
            .and_then(|config| config.get(DEFAULT_TIER))
            .cloned()
            .unwrap_or_default();
        let mut next = BTreeMap::new();
        for (name, spec) in tier {
            if let Some((version, map)) = self.maps.get(&name) {
                if *version == spec.version {
                    next.insert(name, (version.clone(), Arc::clone(map)));
                    continue;
                }
            }
            match parse_lookup_factory(&spec.lookup_extractor_factory) {
                Ok(map) => {
                    next.insert(name, (spec.version, Arc::new(map)));
                }
                Err(error) => {
                    tracing::warn!(lookup = %name, error = %error.error_message, "lookup not loaded");
                }
            }
        }
        self.maps = next;
        lookups.replace_all(
            self.maps
                .iter()
                .map(|(name, (_, map))| (name.clone(), Arc::clone(map)))
                .collect(),
        );
        tracing::info!(lookups = ?lookups.names(), "lookups loaded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use henge_coordination::lookups::{update, LookupSpec};
    use henge_coordination::EmbeddedStore;
    use serde_json::json;
    use std::time::Duration;

    fn config(version: &str, map: serde_json::Value) -> LookupConfig {
        let spec = LookupSpec {
            version: Some(version.into()),
            lookup_extractor_factory: json!({"type": "map", "map": map}),
        };
        BTreeMap::from([(
            DEFAULT_TIER.to_owned(),
            BTreeMap::from([("channels".to_owned(), spec)]),
        )])
    }

    #[tokio::test]
    async fn loads_at_start_and_follows_updates() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn MetaStore> = Arc::new(EmbeddedStore::open(dir.path()).await.unwrap());
        update(store.as_ref(), &config("v1", json!({"#en": "English"})))
            .await
            .unwrap();
        let lookups = Lookups::default();
        let _loader = LookupLoader::start(Arc::clone(&store), lookups.clone())
            .await
            .unwrap();
        assert_eq!(lookups.get("channels").unwrap()["#en"], "English");
        update(store.as_ref(), &config("v2", json!({"#en": "Anglais"})))
            .await
            .unwrap();
        for _ in 0..100 {
            if lookups.get("channels").unwrap()["#en"] == "Anglais" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the update did not reach the node");
    }
}
