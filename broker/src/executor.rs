//! Scatter/gather: runs a native query across the data nodes that serve its segments.
//!
//! Steps: select the visible segments from the timeline; answer historical segments from the
//! per-segment cache when allowed; group the rest by serving node (historical copies are
//! preferred over realtime ones, replicas are spread round-robin); send one `RunQuery` per
//! node concurrently; retry segments a node no longer serves once the view changes; merge
//! every partial with `henge_query::merge` and finalize with `henge_query::finalize`.
//! Before all of it, a query that reads only historical segments may be answered whole from
//! the result-level cache, keyed by the query and the identifiers of those segments.
//!
//! Around that, [`Broker::run`] owns the query's lifecycle (see [`crate::lifecycle`]): a
//! deadline computed on arrival whose remainder travels to every data node, cancellation by
//! query id, and on either, a `CancelQuery` to the data nodes the query reached.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use henge_proto::QueryRequest;
use henge_query::{PartialResult, Query, QueryError};
use serde_json::Value;

use crate::blocking::off_runtime;
use crate::cache::ResultCache;
use crate::lifecycle::{self, QueryOptions, RunningQueries, RunningQuery, DEFAULT_TIMEOUT_MS};
use crate::timeline::{self, TimelineEntry};
use crate::view::ServerView;

const MAX_ATTEMPTS: usize = 4;
const VIEW_CHANGE_WAIT: Duration = Duration::from_millis(1_000);

pub struct Broker {
    view: ServerView,
    cache: ResultCache,
    /// Final results by [`Broker::result_key`] (Druid's result-level cache).
    results: ResultCache,
    round_robin: AtomicUsize,
    default_timeout_ms: u64,
    running: RunningQueries,
}

/// A query's answer: computed now, or the JSON text kept in the result-level cache.
pub enum Answered {
    Computed(Value),
    Cached(Arc<Vec<u8>>),
}

impl Answered {
    /// The answer as JSON (a cached text parsed).
    pub fn into_value(self) -> Result<Value, QueryError> {
        match self {
            Answered::Computed(response) => Ok(response),
            Answered::Cached(text) => serde_json::from_slice(&text).map_err(|error| {
                QueryError::unknown(
                    format!("cached result unreadable: {error}"),
                    "java.lang.RuntimeException",
                )
            }),
        }
    }
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
            results: ResultCache::new(cache_capacity_bytes),
            round_robin: AtomicUsize::new(0),
            default_timeout_ms: DEFAULT_TIMEOUT_MS,
            running: RunningQueries::default(),
        }
    }

    /// Sets the timeout of queries whose context has none (Druid's
    /// `druid.server.http.defaultQueryTimeout`; 0 = none).
    pub fn with_default_timeout(mut self, timeout_ms: u64) -> Broker {
        self.default_timeout_ms = timeout_ms;
        self
    }

    /// The queries running on this broker.
    pub fn running(&self) -> &RunningQueries {
        &self.running
    }

    /// Cancels the query with this id here, and tells every data node to stop it (it may run
    /// there for another broker). Returns whether it was running here.
    pub fn cancel(&self, query_id: &str) -> bool {
        let found = self.running.cancel(query_id) > 0;
        let nodes: Vec<String> = self
            .view
            .snapshot()
            .into_iter()
            .map(|(node_id, _)| node_id)
            .collect();
        lifecycle::cancel_on_nodes(&self.view, query_id, &nodes);
        found
    }

    pub fn view(&self) -> &ServerView {
        &self.view
    }

    pub fn cache(&self) -> &ResultCache {
        &self.cache
    }

    /// The result-level cache: whole answers of queries over historical segments.
    pub fn result_cache(&self) -> &ResultCache {
        &self.results
    }

    /// Runs `query` across the cluster and returns Druid's response JSON. A query without
    /// `queryId` gets one (give it one first with [`lifecycle::with_query_id`] to know it).
    /// Fails with Druid's `Query timeout` (504) past its timeout and `Query cancelled` once
    /// [`Broker::cancel`] names it; then the data nodes it reached are told to stop. A query
    /// over a query data source runs its inner query first (recursively), then itself over
    /// that result on this broker.
    ///
    /// A query whose every segment is historical may be answered from the result-level cache
    /// (see [`Broker::result_key`]; context `useResultLevelCache`, `populateResultLevelCache`).
    pub async fn run(&self, query: &Query) -> Result<Value, QueryError> {
        self.run_or_cached(query).await?.into_value()
    }

    /// Runs `query` as [`Broker::run`] does, but an answer from the result-level cache comes
    /// back as the JSON text it was kept as, for a caller that only sends it on.
    pub async fn run_or_cached(&self, query: &Query) -> Result<Answered, QueryError> {
        let options = QueryOptions::of(query, self.default_timeout_ms)?;
        let key = (options.use_result_cache || options.populate_result_cache)
            .then(|| self.result_key(query))
            .flatten();
        if let (Some(key), true) = (&key, options.use_result_cache) {
            if let Some(text) = self.results.get(key).await {
                return Ok(Answered::Cached(text));
            }
        }
        let response = match self.answer(query, false).await? {
            Answer::Response(response) => response,
            // Not asked for; finished the usual way all the same.
            Answer::Merged(partial) => henge_query::finalize(query, partial)?,
        };
        if let (Some(key), true) = (key, options.populate_result_cache) {
            // Kept only if no segment came or went while the query ran.
            if self.result_key(query).as_ref() == Some(&key) {
                if let Ok(text) = serde_json::to_vec(&response) {
                    self.results.put(key, text).await;
                }
            }
        }
        Ok(Answered::Computed(response))
    }

    /// The key of `query`'s final result in the result-level cache: every segment it reads
    /// and the query itself, context included but for the keys that only steer how it runs.
    /// `None` when the result may not be cached (see [`Broker::result_segments`]).
    fn result_key(&self, query: &Query) -> Option<String> {
        let mut identifiers = self.result_segments(query)?;
        identifiers.sort_unstable();
        Some(format!(
            "{}\n{}",
            identifiers.join("\n"),
            query.result_cache_key()
        ))
    }

    /// The segments a query reads (through its query data sources), or `None` when its
    /// result may not be cached: it reads realtime rows (which change without a new
    /// segment), a join, inline rows, maybe a registered lookup, or no segment at all.
    fn result_segments(&self, query: &Query) -> Option<Vec<String>> {
        if query.is_local() || query.has_joins() || query.may_read_lookups() {
            return None;
        }
        if let Some(inner) = query.inner_query() {
            return self.result_segments(inner);
        }
        let entries = self.view.entries();
        let selected = timeline::select(&entries, query.datasource(), query.intervals());
        if selected.is_empty() || selected.iter().any(|entry| entry.historicals.is_empty()) {
            return None;
        }
        Some(
            selected
                .into_iter()
                .map(|entry| entry.segment.identifier)
                .collect(),
        )
    }

    /// Runs `query` as [`Broker::run`] does; with `merged`, a groupBy that reads a table answers
    /// with its merged partial instead (an outer query reads that without JSON in between).
    async fn answer(&self, query: &Query, merged: bool) -> Result<Answer, QueryError> {
        let query = lifecycle::with_query_id(query.clone());
        let options = QueryOptions::of(&query, self.default_timeout_ms)?;
        let id = query.id().unwrap_or_default().to_owned();
        let arrived = Instant::now();
        let deadline =
            (options.timeout_ms > 0).then(|| arrived + Duration::from_millis(options.timeout_ms));
        let registration = self.running.register(&id);
        let running = registration.query();
        let work = async {
            // A join's `query` right sides run first; their rows travel as inline tables.
            let subqueries = query.join_subqueries();
            let query = if subqueries.is_empty() {
                query.clone()
            } else {
                let mut results = Vec::with_capacity(subqueries.len());
                for subquery in subqueries {
                    results.push(Box::pin(self.run(subquery)).await?);
                }
                query.with_join_results(&results)?
            };
            if query.is_local() {
                let owned = query.clone();
                return off_runtime("query", move || henge_query::run_local(&owned))
                    .await
                    .map(Answer::Response);
            }
            if let Some(inner) = query.inner_query() {
                let inner_answer = Box::pin(self.answer(inner, true)).await?;
                let owned = query.clone();
                return off_runtime("subquery", move || match inner_answer {
                    Answer::Response(result) => henge_query::run_over_result(&owned, &result),
                    Answer::Merged(partial) => henge_query::run_over_partial(&owned, partial),
                })
                .await
                .map(Answer::Response);
            }
            let partials = self
                .gather_in_order(&query, deadline, &options, running)
                .await?;
            let hand_off = merged && query.query_type() == "groupBy";
            if partials.is_empty() && !hand_off {
                return Ok(Answer::Response(henge_query::empty_result(&query)));
            }
            // Merging many rows takes a while: off the runtime, so the deadline and a
            // cancellation still answer the client on time.
            let owned = query.clone();
            off_runtime("merge", move || {
                // Finishing normalises a lone partial (order, limits) by itself.
                let merged = match <[PartialResult; 1]>::try_from(partials) {
                    Ok([lone]) => lone,
                    Err(partials) => henge_query::merge(&owned, partials)?,
                };
                match hand_off {
                    true => Ok(Answer::Merged(merged)),
                    false => henge_query::finalize(&owned, merged).map(Answer::Response),
                }
            })
            .await
        };
        let expiry = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            biased;
            outcome = work => outcome,
            () = running.token().cancelled() => Err(QueryError::cancelled(Some(&id))),
            () = expiry => Err(QueryError::timed_out(Some(&id))),
        };
        if let Err(error) = &outcome {
            tracing::debug!(query_id = %id, error = %error, "query failed; stopping it on data nodes");
            lifecycle::cancel_on_nodes(&self.view, &id, &running.nodes());
        }
        outcome
    }

    /// Gathers the partials of every segment of `query`, except for scans in `__time` order
    /// with a limit: their segments are visited in that order, in waves of 1, 2, 4, …
    /// intervals, until `offset + limit` rows are held and no unvisited segment can hold an
    /// earlier row (later, descending). A `LIMIT 100` scan then reads one day, not a month.
    async fn gather_in_order(
        &self,
        query: &Query,
        deadline: Option<Instant>,
        options: &QueryOptions,
        running: &RunningQuery,
    ) -> Result<Vec<PartialResult>, QueryError> {
        let Some((descending, budget)) = query.time_ordered_row_budget() else {
            return self.gather(query, deadline, options, running, None).await;
        };
        let entries = self.view.entries();
        let selected = timeline::select(&entries, query.datasource(), query.intervals());
        let mut intervals: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
        for entry in selected {
            let interval = entry.segment.interval;
            intervals
                .entry((interval.start, interval.end))
                .or_default()
                .push(entry.segment.identifier);
        }
        let mut intervals: Vec<((i64, i64), Vec<String>)> = intervals.into_iter().collect();
        if descending {
            intervals.sort_by_key(|&((start, end), _)| {
                (std::cmp::Reverse(end), std::cmp::Reverse(start))
            });
        }
        let mut partials = Vec::new();
        let (mut rows, mut wave) = (0usize, 1usize);
        // Every row read so far is before `bound` (after it, descending).
        let mut bound: Option<i64> = None;
        let mut pending = intervals.into_iter().peekable();
        while let Some(&((start, end), _)) = pending.peek() {
            let covered = bound.is_some_and(|bound| match descending {
                false => start >= bound,
                true => end <= bound,
            });
            if rows >= budget && covered {
                break;
            }
            let mut segments = HashSet::new();
            for ((start, end), identifiers) in pending.by_ref().take(wave) {
                segments.extend(identifiers);
                bound = Some(match (descending, bound) {
                    (false, None) => end,
                    (false, Some(bound)) => bound.max(end),
                    (true, None) => start,
                    (true, Some(bound)) => bound.min(start),
                });
            }
            let mut found = self
                .gather(query, deadline, options, running, Some(segments))
                .await?;
            rows += found.iter().map(PartialResult::scan_rows).sum::<usize>();
            partials.append(&mut found);
            wave *= 2;
        }
        Ok(partials)
    }

    /// Gathers the partials of `query` on every segment it selects (only those named in
    /// `wanted`, when given).
    async fn gather(
        &self,
        query: &Query,
        deadline: Option<Instant>,
        options: &QueryOptions,
        running: &RunningQuery,
        wanted: Option<HashSet<String>>,
    ) -> Result<Vec<PartialResult>, QueryError> {
        // A joined segment's result depends on the right side too, and a registered lookup
        // can change under the same segment: never cached.
        let cacheable = !query.has_joins() && !query.may_read_lookups();
        let use_cache = options.use_cache && cacheable;
        let populate_cache = options.populate_cache && cacheable;
        let cache_key = query.cache_key();
        let query_json = query.to_json().to_string();

        let mut partials = Vec::new();
        let mut pending = wanted;
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
            // 0 means no deadline on the wire: a passed deadline still sends 1 ms.
            let remaining_ms = deadline.map_or(0, |deadline| {
                (deadline
                    .saturating_duration_since(Instant::now())
                    .as_millis() as u64)
                    .max(1)
            });
            for node_id in batches.keys() {
                running.sent_to(node_id);
            }
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
            pending = Some(missing.into_iter().collect());
            let mut changes = changes;
            let _ = tokio::time::timeout(VIEW_CHANGE_WAIT, changes.changed()).await;
        }
        Err(QueryError::unknown(
            format!(
                "segments not served by any node: {}",
                pending
                    .unwrap_or_default()
                    .into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
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
            // Nothing to cache: one merged result instead of one per segment.
            merge: batch.segments.iter().all(|(_, cacheable)| !cacheable),
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
            partials.push(decode_partial(&result.partial)?);
            if cacheable {
                let key = ResultCache::key(&result.segment_id, cache_key);
                self.cache.put(key, result.partial).await;
            }
        }
        Ok((partials, response.missing_segments))
    }
}

/// What running a query gives: Druid's response, or the merged partial of an inner groupBy.
enum Answer {
    Response(Value),
    Merged(PartialResult),
}

fn decode_partial(bytes: &[u8]) -> Result<PartialResult, QueryError> {
    PartialResult::from_wire(bytes).map_err(|err| {
        QueryError::unknown(
            format!("bad partial result from data node: {err}"),
            "java.lang.IllegalStateException",
        )
    })
}
