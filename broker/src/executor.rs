//! Scatter/gather: runs a native query across the data nodes that serve its segments.
//!
//! Steps: select the visible segments from the timeline; answer historical segments from the
//! per-segment cache when allowed; group the rest by serving node (historical copies are
//! preferred over realtime ones, replicas are spread round-robin); send one `RunQuery` per
//! node concurrently; retry segments a node no longer serves once the view changes; merge
//! every partial with `henge_query::merge` and finalize with `henge_query::finalize`.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use henge_proto::QueryRequest;
use henge_query::{PartialResult, Query, QueryError};
use serde_json::Value;

use crate::cache::ResultCache;
use crate::timeline::{self, TimelineEntry};
use crate::view::ServerView;

/// Druid's default query timeout (`druid.server.http.defaultQueryTimeout`).
const DEFAULT_TIMEOUT_MS: u64 = 300_000;
const MAX_ATTEMPTS: usize = 4;
const VIEW_CHANGE_WAIT: Duration = Duration::from_millis(1_000);

pub struct Broker {
    view: ServerView,
    cache: ResultCache,
    round_robin: AtomicUsize,
}

/// Work for one node: which segments to run, and whether their results may be cached.
struct NodeBatch {
    node_id: String,
    segments: Vec<(String, bool)>,
}

impl Broker {
    pub fn new(view: ServerView, cache_capacity_bytes: u64) -> Broker {
        Broker {
            view,
            cache: ResultCache::new(cache_capacity_bytes),
            round_robin: AtomicUsize::new(0),
        }
    }

    pub fn view(&self) -> &ServerView {
        &self.view
    }

    pub fn cache(&self) -> &ResultCache {
        &self.cache
    }

    /// Runs `query` across the cluster and returns Druid's response JSON. A query over a
    /// query data source runs its inner query first (recursively), then itself over that
    /// result on this broker.
    pub async fn run(&self, query: &Query) -> Result<Value, QueryError> {
        if let Some(inner) = query.inner_query() {
            let inner_result = Box::pin(self.run(inner)).await?;
            return henge_query::run_over_result(query, &inner_result);
        }
        let timeout_ms = context_u64(query, "timeout").unwrap_or(DEFAULT_TIMEOUT_MS);
        let deadline = Instant::now() + Duration::from_millis(timeout_ms.max(1));
        let gather = self.gather(query, deadline);
        let partials = if timeout_ms == 0 {
            gather.await?
        } else {
            tokio::time::timeout_at(deadline.into(), gather)
                .await
                .map_err(|_| QueryError::timeout())??
        };
        if partials.is_empty() {
            return Ok(henge_query::empty_result(query));
        }
        let merged = henge_query::merge(query, partials)?;
        henge_query::finalize(query, merged)
    }

    async fn gather(
        &self,
        query: &Query,
        deadline: Instant,
    ) -> Result<Vec<PartialResult>, QueryError> {
        let use_cache = context_bool(query, "useCache").unwrap_or(true);
        let populate_cache = context_bool(query, "populateCache").unwrap_or(true);
        let cache_key = query.cache_key();
        let query_json = query.to_json().to_string();

        let mut partials = Vec::new();
        let mut pending: Option<Vec<String>> = None;
        let mut excluded: HashSet<(String, String)> = HashSet::new();
        for _attempt in 0..MAX_ATTEMPTS {
            let changes = self.view.subscribe();
            let entries = self.view.entries();
            let selected = timeline::select(&entries, query.datasource(), query.intervals());
            let selected: Vec<TimelineEntry> = match &pending {
                None => selected,
                Some(wanted) => selected
                    .into_iter()
                    .filter(|entry| wanted.contains(&entry.segment.identifier))
                    .collect(),
            };
            let mut batches: BTreeMap<String, NodeBatch> = BTreeMap::new();
            let mut unserved = Vec::new();
            for entry in &selected {
                let identifier = &entry.segment.identifier;
                let cacheable = !entry.historicals.is_empty();
                if cacheable && use_cache {
                    let key = ResultCache::key(identifier, &cache_key);
                    if let Some(bytes) = self.cache.get(&key).await {
                        partials.push(decode_partial(&bytes)?);
                        continue;
                    }
                }
                match self.choose_node(entry, &excluded) {
                    Some(node_id) => batches
                        .entry(node_id.clone())
                        .or_insert_with(|| NodeBatch {
                            node_id,
                            segments: Vec::new(),
                        })
                        .segments
                        .push((identifier.clone(), cacheable && populate_cache)),
                    None => unserved.push(identifier.clone()),
                }
            }
            let remaining_ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as u64;
            let responses = join_all(
                batches
                    .values()
                    .map(|batch| self.run_batch(batch, &query_json, &cache_key, remaining_ms)),
            )
            .await;
            let mut missing = unserved;
            for (batch, response) in batches.values().zip(responses) {
                let (mut node_partials, node_missing) = response?;
                partials.append(&mut node_partials);
                for identifier in node_missing {
                    excluded.insert((batch.node_id.clone(), identifier.clone()));
                    missing.push(identifier);
                }
            }
            if missing.is_empty() {
                return Ok(partials);
            }
            tracing::debug!(
                missing = missing.len(),
                "segments moved during query, retrying"
            );
            pending = Some(missing);
            let mut changes = changes;
            let _ = tokio::time::timeout(VIEW_CHANGE_WAIT, changes.changed()).await;
        }
        Err(QueryError::unknown(
            format!(
                "segments not served by any node: {}",
                pending.unwrap_or_default().join(", ")
            ),
            "org.apache.druid.query.QueryInterruptedException",
        ))
    }

    fn choose_node(
        &self,
        entry: &TimelineEntry,
        excluded: &HashSet<(String, String)>,
    ) -> Option<String> {
        let usable = |nodes: &[String]| -> Vec<String> {
            nodes
                .iter()
                .filter(|node| {
                    !excluded.contains(&((*node).clone(), entry.segment.identifier.clone()))
                })
                .cloned()
                .collect()
        };
        let mut candidates = usable(&entry.historicals);
        if candidates.is_empty() {
            candidates = usable(&entry.realtimes);
        }
        if candidates.is_empty() {
            return None;
        }
        let turn = self.round_robin.fetch_add(1, Ordering::Relaxed);
        Some(candidates.swap_remove(turn % candidates.len()))
    }

    /// Runs one node's batch; returns its partials and the segments it no longer serves.
    async fn run_batch(
        &self,
        batch: &NodeBatch,
        query_json: &str,
        cache_key: &str,
        remaining_ms: u64,
    ) -> Result<(Vec<PartialResult>, Vec<String>), QueryError> {
        let Some(mut client) = self.view.client(&batch.node_id) else {
            return Ok((
                Vec::new(),
                batch.segments.iter().map(|(id, _)| id.clone()).collect(),
            ));
        };
        let request = QueryRequest {
            query_json: query_json.to_string(),
            segment_ids: batch.segments.iter().map(|(id, _)| id.clone()).collect(),
            timeout_ms: remaining_ms,
        };
        let response = match client.run_query(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == tonic::Code::Unavailable => {
                tracing::debug!(node = %batch.node_id, error = %status, "data node unavailable");
                return Ok((
                    Vec::new(),
                    batch.segments.iter().map(|(id, _)| id.clone()).collect(),
                ));
            }
            Err(status) => return Err(crate::status::error_from_status(&status)),
        };
        let mut partials = Vec::with_capacity(response.results.len());
        for result in response.results {
            let cacheable = batch
                .segments
                .iter()
                .any(|(id, cacheable)| *cacheable && id == &result.segment_id);
            partials.push(decode_partial(&result.partial_json)?);
            if cacheable {
                let key = ResultCache::key(&result.segment_id, cache_key);
                self.cache.put(key, result.partial_json).await;
            }
        }
        Ok((partials, response.missing_segments))
    }
}

fn decode_partial(bytes: &[u8]) -> Result<PartialResult, QueryError> {
    serde_json::from_slice(bytes).map_err(|err| {
        QueryError::unknown(
            format!("bad partial result from data node: {err}"),
            "java.lang.IllegalStateException",
        )
    })
}

fn context_u64(query: &Query, key: &str) -> Option<u64> {
    match query.context().get(key)? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn context_bool(query: &Query, key: &str) -> Option<bool> {
    match query.context().get(key)? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}
