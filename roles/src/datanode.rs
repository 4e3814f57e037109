//! The data-node side of the internode protocol, shared by the historical and realtime roles
//! of a process: the registry of segments this process serves and the `DataNode` gRPC
//! service (per-segment queries, inventory long-polls).
//!
//! Queries run on a blocking thread per segment, bounded by slots sized to the cores and
//! granted by query `priority` (`datanode/priority.rs`), so the async runtime never scans
//! rows; a groupBy that `GroupAcross` splits by key runs instead on one blocking thread per
//! slot, each over every segment (ADR 0013). Every call is registered in [`RunningQueries`]
//! (`datanode/running.rs`) with the deadline the broker sent; work stops between segments
//! and between chunks of rows once the deadline passes, `CancelQuery` names its query id,
//! or the broker drops the call.

mod priority;
mod running;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use henge_broker::blocking::off_runtime;
use henge_proto::{
    CancelRequest, CancelResponse, DataNode, InventoryRequest, InventoryResponse, QueryRequest,
    QueryResponse, SegmentResult, ServedSegment,
};
use henge_query::{GroupAcross, Limits, PartialResult, Query, QueryError};
use henge_segment::id::DataSegment;
use henge_segment::reader::Segment;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use self::priority::PriorityGate;
pub use self::running::{RunningQueries, Stop};

/// A served segment: its descriptor and the immutable segments holding its rows (one for a
/// historical copy; the in-memory hydrants of a realtime one).
#[derive(Clone)]
pub struct Served {
    pub descriptor: DataSegment,
    pub parts: Vec<Segment>,
}

#[derive(Default)]
struct Entries {
    historical: BTreeMap<String, Served>,
    realtime: BTreeMap<String, Served>,
}

/// Every segment this process serves, with a version that changes on every update.
pub struct SegmentRegistry {
    entries: RwLock<Entries>,
    version: watch::Sender<u64>,
}

impl Default for SegmentRegistry {
    fn default() -> Self {
        let (version, _) = watch::channel(1);
        SegmentRegistry {
            entries: RwLock::default(),
            version,
        }
    }
}

impl SegmentRegistry {
    pub fn add_historical(&self, served: Served) {
        self.write()
            .historical
            .insert(served.descriptor.identifier.clone(), served);
        self.bump();
    }

    pub fn remove_historical(&self, identifier: &str) -> Option<Served> {
        let removed = self.write().historical.remove(identifier);
        if removed.is_some() {
            self.bump();
        }
        removed
    }

    pub fn historical_ids(&self) -> Vec<String> {
        self.read().historical.keys().cloned().collect()
    }

    /// Replaces every realtime entry (the realtime role publishes a full snapshot).
    pub fn set_realtime(&self, served: Vec<Served>) {
        let map = served
            .into_iter()
            .map(|entry| (entry.descriptor.identifier.clone(), entry))
            .collect();
        self.write().realtime = map;
        self.bump();
    }

    /// The rows of a segment; the historical copy wins over a realtime one.
    pub fn lookup(&self, identifier: &str) -> Option<Served> {
        let entries = self.read();
        entries
            .historical
            .get(identifier)
            .or_else(|| entries.realtime.get(identifier))
            .cloned()
    }

    fn inventory(&self) -> (u64, Vec<ServedSegment>) {
        let version = *self.version.borrow();
        let entries = self.read();
        let encode = |served: &Served, realtime: bool| ServedSegment {
            data_segment_json: serde_json::to_vec(&served.descriptor)
                .expect("data segments serialize"),
            realtime,
        };
        let segments = entries
            .historical
            .values()
            .map(|served| encode(served, false))
            .chain(entries.realtime.values().map(|served| encode(served, true)))
            .collect();
        (version, segments)
    }

    fn bump(&self) {
        self.version.send_modify(|version| *version += 1);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().expect("segment registry lock poisoned")
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries
            .write()
            .expect("segment registry lock poisoned")
    }
}

/// The gRPC `DataNode` service over a [`SegmentRegistry`].
pub struct DataNodeService {
    node_id: String,
    registry: Arc<SegmentRegistry>,
    cpu: Arc<PriorityGate>,
    /// How many CPU slots `cpu` grants: the workers of a groupBy split by key.
    cores: usize,
    limits: Limits,
    running: Arc<RunningQueries>,
}

impl DataNodeService {
    pub fn new(node_id: String, registry: Arc<SegmentRegistry>) -> DataNodeService {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        DataNodeService {
            node_id,
            registry,
            cpu: PriorityGate::new(cores),
            cores,
            limits: Limits::default(),
            running: Arc::default(),
        }
    }

    /// Uses `limits` (e.g. the node's groupBy row limit) to parse incoming queries.
    pub fn with_limits(mut self, limits: Limits) -> DataNodeService {
        self.limits = limits;
        self
    }

    /// Registers calls in `running` (shared with the node's status endpoint).
    pub fn with_running(mut self, running: Arc<RunningQueries>) -> DataNodeService {
        self.running = running;
        self
    }

    async fn run_segment(
        &self,
        query: Arc<Query>,
        identifier: String,
        served: Served,
        stop: Stop,
    ) -> Result<(String, PartialResult), QueryError> {
        // The broker validated `priority`; a bad one from elsewhere runs at the default.
        let priority = query.context_int("priority").ok().flatten().unwrap_or(0);
        let _permit = self.cpu.acquire(priority).await;
        if stop.should_stop() {
            return Err(stop.error(query.id()));
        }
        off_runtime("segment scan", move || {
            run_parts(&query, &identifier, &served.parts, &stop)
                .map_err(|error| stopped_or(&stop, &query, error))
                .map(|partial| (identifier, partial))
        })
        .await
    }

    /// Runs a groupBy that `plan` splits by key (see [`GroupAcross`]) over `segments` (every
    /// part of the served segments): one blocking task per worker, each holding a CPU slot.
    /// The workers' partials hold disjoint groups.
    async fn run_across(
        &self,
        query: Arc<Query>,
        plan: GroupAcross,
        segments: Vec<Segment>,
        stop: Stop,
    ) -> Result<Vec<(String, PartialResult)>, QueryError> {
        let priority = query.context_int("priority").ok().flatten().unwrap_or(0);
        let segments = Arc::new(segments);
        let plan = Arc::new(plan);
        let work = (0..plan.workers()).map(|worker| {
            let (query, plan, segments, stop) = (
                Arc::clone(&query),
                Arc::clone(&plan),
                Arc::clone(&segments),
                stop.clone(),
            );
            async move {
                let _permit = self.cpu.acquire(priority).await;
                if stop.should_stop() {
                    return Err(stop.error(query.id()));
                }
                off_runtime("groupBy across segments", move || {
                    plan.run(&query, worker, &segments, &|| stop.should_stop())
                        .map_err(|error| stopped_or(&stop, &query, error))
                        .map(|partial| (String::new(), partial))
                })
                .await
            }
        });
        futures::future::try_join_all(work).await
    }
}

/// Druid's error for a stopped query when `stop` says it was stopped, else `error`.
fn stopped_or(stop: &Stop, query: &Query, error: QueryError) -> QueryError {
    match stop.should_stop() {
        true => stop.error(query.id()),
        false => error,
    }
}

/// A partial result as it crosses the wire.
fn encode(segment_id: String, partial: &PartialResult) -> Result<SegmentResult, QueryError> {
    let partial = partial.to_wire().map_err(|err| {
        QueryError::unknown(
            format!("failed to encode partial result: {err}"),
            "java.lang.RuntimeException",
        )
    })?;
    Ok(SegmentResult {
        segment_id,
        partial,
    })
}

/// Every segment's partial result encoded on its own (in parallel), or (`merge`) all of
/// them merged into one; off the async runtime.
async fn encode_results(
    query: Arc<Query>,
    partials: Vec<(String, PartialResult)>,
    merge: bool,
) -> Result<Vec<SegmentResult>, QueryError> {
    if !merge {
        let encoded = partials.into_iter().map(|(segment_id, partial)| {
            off_runtime("encoding partial results", move || {
                encode(segment_id, &partial)
            })
        });
        return futures::future::try_join_all(encoded).await;
    }
    if partials.is_empty() {
        return Ok(Vec::new());
    }
    off_runtime("merging partial results", move || {
        let partials = partials.into_iter().map(|(_, partial)| partial).collect();
        Ok(vec![SegmentResult {
            segment_id: String::new(),
            partial: henge_query::merge_to_wire(&query, partials)?,
        }])
    })
    .await
}

/// Runs a query on every part of one served segment and merges the parts, polling `stop`
/// before each part and between chunks of rows.
fn run_parts(
    query: &Query,
    identifier: &str,
    parts: &[Segment],
    stop: &Stop,
) -> Result<PartialResult, QueryError> {
    let interrupted = || stop.should_stop();
    let mut partials = parts
        .iter()
        .map(|part| henge_query::run_on_segment_until(query, part, identifier, &interrupted))
        .collect::<Result<Vec<_>, _>>()?;
    match partials.len() {
        1 => Ok(partials.remove(0)),
        _ => henge_query::merge(query, partials),
    }
}

#[tonic::async_trait]
impl DataNode for DataNodeService {
    async fn run_query(
        &self,
        request: Request<QueryRequest>,
    ) -> Result<Response<QueryResponse>, Status> {
        let request = request.into_inner();
        let to_status =
            |error: QueryError| henge_broker::status::status_from_error(&error, &self.node_id);
        let query = Arc::new(
            henge_query::parse_query(request.query_json.as_bytes(), &self.limits)
                .map_err(to_status)?,
        );
        // Dropping the ticket (this future dropped by a broker that gave up, or returning)
        // stops every segment of this call that still runs.
        let ticket = self
            .running
            .start(query.id().unwrap_or_default(), request.timeout_ms);
        let stop = ticket.stop();
        let mut missing_segments = Vec::new();
        let mut found = Vec::new();
        for identifier in request.segment_ids {
            match self.registry.lookup(&identifier) {
                Some(served) => found.push((identifier, served)),
                None => missing_segments.push(identifier),
            }
        }
        // A groupBy over wide keys is split by key rather than by segment, even where
        // per-segment results were asked for (then answered merged, which the broker does
        // not cache per segment).
        let parts = found.iter().flat_map(|(_, served)| &served.parts);
        let plan = GroupAcross::pays_on(&query, parts)
            .then(|| GroupAcross::plan(&query, self.cores))
            .flatten();
        let merge = request.merge || plan.is_some();
        let all = async {
            match plan {
                Some(plan) => {
                    let parts = found.into_iter().flat_map(|(_, served)| served.parts);
                    self.run_across(Arc::clone(&query), plan, parts.collect(), stop.clone())
                        .await
                }
                None => {
                    let work = found.into_iter().map(|(identifier, served)| {
                        self.run_segment(Arc::clone(&query), identifier, served, stop.clone())
                    });
                    futures::future::try_join_all(work).await
                }
            }
        };
        let results = match stop.deadline() {
            None => all.await,
            Some(deadline) => tokio::time::timeout_at(deadline.into(), all)
                .await
                .unwrap_or_else(|_| Err(stop.error(query.id()))),
        };
        let results = match results {
            Ok(partials) => encode_results(Arc::clone(&query), partials, merge).await,
            Err(error) => Err(error),
        };
        let results = match results {
            Ok(results) => results,
            Err(error) => {
                if !stop.should_stop() {
                    // A failure, not an interruption.
                    ticket.answered();
                }
                return Err(to_status(error));
            }
        };
        ticket.answered();
        Ok(Response::new(QueryResponse {
            results,
            missing_segments,
        }))
    }

    async fn cancel_query(
        &self,
        request: Request<CancelRequest>,
    ) -> Result<Response<CancelResponse>, Status> {
        let query_id = request.into_inner().query_id;
        let cancelled = self.running.cancel(&query_id);
        if cancelled > 0 {
            tracing::info!(query_id = %query_id, calls = cancelled, "query cancelled");
        }
        Ok(Response::new(CancelResponse {
            cancelled: u32::try_from(cancelled).unwrap_or(u32::MAX),
        }))
    }

    async fn inventory(
        &self,
        request: Request<InventoryRequest>,
    ) -> Result<Response<InventoryResponse>, Status> {
        let request = request.into_inner();
        let mut changes = self.registry.version.subscribe();
        if *changes.borrow_and_update() == request.since_version && request.wait_ms > 0 {
            let wait = Duration::from_millis(u64::from(request.wait_ms));
            let _ = tokio::time::timeout(wait, changes.changed()).await;
        }
        let (version, segments) = self.registry.inventory();
        Ok(Response::new(InventoryResponse {
            version,
            node_id: self.node_id.clone(),
            segments,
        }))
    }
}
