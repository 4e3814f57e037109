//! The lookup configuration (`docs/querying/lookups.md`): every tier's registered lookups,
//! kept as one JSON document under [`keys::LOOKUPS`], as Druid keeps its `lookupsConfig`
//! in one row of its config table.
//!
//! - An absent key means the configuration was never initialized (Druid answers 404 then);
//!   `{}` is an initialized, empty one.
//! - Updates are read-modify-write transactions guarded by the key's `mod_revision`, so two
//!   concurrent updates never lose each other's lookups.
//! - A lookup is replaced only by a higher version (Druid's
//!   `LookupExtractorFactoryMapContainer.replaces`: versions compare as strings, any version
//!   replaces none).
//! - The document is one etcd value, so all lookups together must stay under etcd's request
//!   size (1.5 MiB by default).
//!
//! The factories are opaque JSON here; the roles crate validates them before writing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::keys;
use crate::store::{Compare, MetaStore, Txn};

/// Attempts of an update before giving up on concurrent writers.
const CONFLICT_RETRIES: usize = 8;

/// The tier every node loads.
pub const DEFAULT_TIER: &str = "__default";

/// One registered lookup: Druid's `LookupExtractorFactoryContainer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LookupSpec {
    pub version: Option<String>,
    pub lookup_extractor_factory: Value,
}

impl LookupSpec {
    /// Whether this spec may replace `existing`: it has a version, and a higher one.
    pub fn replaces(&self, existing: &LookupSpec) -> bool {
        match (&self.version, &existing.version) {
            (Some(new), Some(old)) => new > old,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Lookups by name.
pub type TierLookups = BTreeMap<String, LookupSpec>;
/// Tiers by name.
pub type LookupConfig = BTreeMap<String, TierLookups>;

/// The whole configuration, or `None` if it was never initialized.
pub async fn config(store: &dyn MetaStore) -> Result<Option<LookupConfig>> {
    match store.get(keys::LOOKUPS).await? {
        Some(kv) => Ok(Some(decode(&kv.value)?)),
        None => Ok(None),
    }
}

/// Merges `updates` into the configuration (initializing it if needed): new tiers and
/// lookups are added, existing lookups replaced when [`LookupSpec::replaces`] allows, every
/// other lookup kept. A lookup whose version is not higher fails the whole update with
/// [`Error::InvalidArgument`] and nothing is written.
pub async fn update(store: &dyn MetaStore, updates: &LookupConfig) -> Result<()> {
    for (tier, lookups) in updates {
        keys::check_component("tier", tier)?;
        for name in lookups.keys() {
            keys::check_component("lookup name", name)?;
        }
    }
    modify(store, |config| {
        for (tier, lookups) in updates {
            let current = config.entry(tier.clone()).or_default();
            for (name, spec) in lookups {
                if let Some(existing) = current.get(name) {
                    if !spec.replaces(existing) {
                        return Err(Error::InvalidArgument(format!(
                            "Cannot update lookup [{tier}]:[{name}] to version [{}]. \
                             Existing lookup has version [{}]",
                            spec.version.as_deref().unwrap_or("null"),
                            existing.version.as_deref().unwrap_or("null"),
                        )));
                    }
                }
                current.insert(name.clone(), spec.clone());
            }
        }
        Ok(true)
    })
    .await
    .map(|_| ())
}

/// Deletes one lookup; false if the tier or lookup does not exist.
pub async fn delete(store: &dyn MetaStore, tier: &str, name: &str) -> Result<bool> {
    modify(store, |config| {
        Ok(config
            .get_mut(tier)
            .is_some_and(|lookups| lookups.remove(name).is_some()))
    })
    .await
}

/// Deletes a tier with all its lookups; false if it does not exist.
pub async fn delete_tier(store: &dyn MetaStore, tier: &str) -> Result<bool> {
    modify(store, |config| Ok(config.remove(tier).is_some())).await
}

/// Read-modify-write of the document: `edit` changes it and says whether to write it.
async fn modify(
    store: &dyn MetaStore,
    edit: impl Fn(&mut LookupConfig) -> Result<bool>,
) -> Result<bool> {
    for _attempt in 0..CONFLICT_RETRIES {
        let current = store.get(keys::LOOKUPS).await?;
        let (mut config, revision) = match &current {
            Some(kv) => (decode(&kv.value)?, kv.mod_revision),
            None => (LookupConfig::new(), 0),
        };
        if !edit(&mut config)? {
            return Ok(false);
        }
        let value = serde_json::to_vec(&config).map_err(|source| Error::Json {
            key: keys::LOOKUPS.to_string(),
            source,
        })?;
        let txn = Txn::new()
            .when(Compare::ModRevision(keys::LOOKUPS.to_string(), revision))
            .put(keys::LOOKUPS, value);
        if store.txn(txn).await? {
            return Ok(true);
        }
    }
    Err(Error::Unavailable(
        "lookup configuration kept changing concurrently; retry".into(),
    ))
}

/// Decodes the stored document.
pub fn decode(value: &[u8]) -> Result<LookupConfig> {
    serde_json::from_slice(value).map_err(|source| Error::Json {
        key: keys::LOOKUPS.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EmbeddedStore;
    use serde_json::json;

    fn spec(version: &str, value: &str) -> LookupSpec {
        LookupSpec {
            version: Some(version.into()),
            lookup_extractor_factory: json!({"type": "map", "map": {"k": value}}),
        }
    }

    fn one(tier: &str, name: &str, spec: LookupSpec) -> LookupConfig {
        BTreeMap::from([(tier.to_owned(), BTreeMap::from([(name.to_owned(), spec)]))])
    }

    #[tokio::test]
    async fn versions_replace_and_deletes_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        assert_eq!(config(&store).await.unwrap(), None);
        update(&store, &LookupConfig::new()).await.unwrap();
        assert_eq!(config(&store).await.unwrap(), Some(LookupConfig::new()));

        update(&store, &one(DEFAULT_TIER, "a", spec("v1", "one")))
            .await
            .unwrap();
        update(&store, &one(DEFAULT_TIER, "b", spec("v1", "bee")))
            .await
            .unwrap();
        // Same or lower version: rejected, nothing written.
        let stale = update(&store, &one(DEFAULT_TIER, "a", spec("v1", "other"))).await;
        assert!(matches!(stale, Err(Error::InvalidArgument(_))));
        update(&store, &one(DEFAULT_TIER, "a", spec("v2", "two")))
            .await
            .unwrap();
        let current = config(&store).await.unwrap().unwrap();
        assert_eq!(current[DEFAULT_TIER]["a"], spec("v2", "two"));
        assert_eq!(current[DEFAULT_TIER]["b"], spec("v1", "bee"));

        assert!(delete(&store, DEFAULT_TIER, "a").await.unwrap());
        assert!(!delete(&store, DEFAULT_TIER, "a").await.unwrap());
        assert!(!delete(&store, "nope", "b").await.unwrap());
        assert!(delete_tier(&store, DEFAULT_TIER).await.unwrap());
        assert!(!delete_tier(&store, DEFAULT_TIER).await.unwrap());
        assert_eq!(config(&store).await.unwrap(), Some(LookupConfig::new()));
        assert!(update(&store, &one("a/b", "x", spec("v1", "x")))
            .await
            .is_err());
    }
}
