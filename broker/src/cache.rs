//! The broker's result caches: one per-segment, one result-level (whole answers, keyed by
//! the query and its segments; see `executor`). Both are bounded byte stores of this type.
//!
//! Per segment, the key is the segment identifier (which embeds datasource, interval,
//! version and partition) plus the query's cache key (the canonical query JSON without its
//! context), and the value the segment's partial result in its wire form
//! (`PartialResult::to_wire`). Only historical (immutable) segments are cached; realtime
//! results never are. Bounded by total bytes (moka weigher).

use std::sync::Arc;

use moka::future::Cache;

/// Entries larger than this are not cached (Druid's `maxEntrySize` default).
const MAX_ENTRY_BYTES: usize = 1_000_000;

#[derive(Clone)]
pub struct ResultCache {
    entries: Cache<String, Arc<Vec<u8>>>,
}

impl ResultCache {
    pub fn new(capacity_bytes: u64) -> ResultCache {
        let entries = Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|key: &String, value: &Arc<Vec<u8>>| {
                u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
            })
            .build();
        ResultCache { entries }
    }

    pub fn key(segment_identifier: &str, query_cache_key: &str) -> String {
        format!("{segment_identifier}\n{query_cache_key}")
    }

    pub async fn get(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.entries.get(key).await
    }

    pub async fn put(&self, key: String, partial: Vec<u8>) {
        if partial.len() <= MAX_ENTRY_BYTES {
            self.entries.insert(key, Arc::new(partial)).await;
        }
    }

    /// Number of cached entries, after pending inserts are applied.
    pub async fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks().await;
        self.entries.entry_count()
    }
}
