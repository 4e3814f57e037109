//! Rows of Druid's `sys` tables, fetched from the live cluster when a SQL query reads one
//! (`SystemSchema.java`): `segments` from the used-segment catalog joined with the broker's
//! server view, `servers` from membership (one row per node and role) with leadership and
//! served sizes, `server_segments` from the server view, `tasks` from the overlord's task
//! records, `supervisors` empty (Henge has no supervisors). Every role reads the same
//! coordination store, so the broker builds them alike on the quickstart and on a
//! multi-process cluster.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use henge_broker::Broker;
use henge_coordination::{Election, Membership, NodeInfo};
use henge_segment::id::DataSegment;
use henge_segment::time::format_timestamp;
use henge_sql::SystemTables;
use serde_json::{json, Map, Value};

use crate::http::AppState;
use crate::tasks;

/// The tier every Henge historical is in.
const DEFAULT_TIER: &str = "_default_tier";
/// Replicas the coordinator's default rule asks for (see `coordinator.rs`).
const REPLICATION_FACTOR: i64 = 1;

/// The rows of `sys.<table>`; an unknown table gets no rows (the SQL layer rejects it).
pub async fn rows(state: &AppState, broker: &Broker, table: &str) -> anyhow::Result<SystemTables> {
    let rows = match table {
        "segments" => segments(state, broker).await?,
        "servers" => servers(state, broker).await?,
        "server_segments" => server_segments(broker),
        "tasks" => task_rows(state).await?,
        _ => Vec::new(),
    };
    let mut system = SystemTables::default();
    system.insert(table, rows);
    Ok(system)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Druid writes list columns (`dimensions`, `metrics`) as JSON text.
fn json_list(names: &str) -> String {
    let list: Vec<&str> = names.split(',').filter(|name| !name.is_empty()).collect();
    Value::from(list).to_string()
}

fn segment_row(
    segment: &DataSegment,
    replicas: usize,
    realtime: bool,
    published: bool,
    overshadowed: bool,
) -> Map<String, Value> {
    let flag = |value: bool| json!(i64::from(value));
    object(json!({
        "segment_id": segment.identifier,
        "datasource": segment.data_source,
        "start": format_timestamp(segment.interval.start),
        "end": format_timestamp(segment.interval.end),
        "size": segment.size,
        "version": segment.version,
        "partition_num": segment.shard_spec.partition_num,
        "num_replicas": replicas,
        "num_rows": segment.num_rows,
        "is_active": flag(if published { !overshadowed } else { realtime }),
        "is_published": flag(published),
        "is_available": flag(replicas > 0),
        "is_realtime": flag(realtime),
        "is_overshadowed": flag(overshadowed),
        "shard_spec": serde_json::to_string(&segment.shard_spec).ok(),
        "dimensions": json_list(&segment.dimensions),
        "metrics": json_list(&segment.metrics),
        "projections": Value::Null,
        "last_compaction_state": Value::Null,
        "replication_factor": if published { REPLICATION_FACTOR } else { -1 },
    }))
}

/// Published (used) segments first, with their replicas in the server view, then served
/// segments the catalog does not have yet (realtime ones).
async fn segments(state: &AppState, broker: &Broker) -> anyhow::Result<Vec<Map<String, Value>>> {
    let used = state.context.used_segments().await?;
    let served: HashMap<String, (usize, bool)> = broker
        .view()
        .entries()
        .into_iter()
        .map(|entry| {
            let replicas = entry.historicals.len() + entry.realtimes.len();
            let realtime = entry.historicals.is_empty() && !entry.realtimes.is_empty();
            (entry.segment.identifier.clone(), (replicas, realtime))
        })
        .collect();
    let mut rows: Vec<Map<String, Value>> = used
        .iter()
        .map(|segment| {
            let replicas = served
                .get(&segment.identifier)
                .map_or(0, |(count, _)| *count);
            segment_row(segment, replicas, false, true, overshadowed(segment, &used))
        })
        .collect();
    for entry in broker.view().entries() {
        if used
            .iter()
            .any(|segment| segment.identifier == entry.segment.identifier)
        {
            continue;
        }
        let replicas = entry.historicals.len() + entry.realtimes.len();
        let realtime = !entry.realtimes.is_empty();
        rows.push(segment_row(
            &entry.segment,
            replicas,
            realtime,
            false,
            false,
        ));
    }
    Ok(rows)
}

/// True when a used segment of a newer version of the same datasource covers this one's
/// interval.
fn overshadowed(segment: &DataSegment, used: &[DataSegment]) -> bool {
    used.iter().any(|other| {
        other.data_source == segment.data_source
            && other.version > segment.version
            && other.interval.start <= segment.interval.start
            && other.interval.end >= segment.interval.end
    })
}

/// Druid's server type of a Henge role: the realtime role serves realtime segments and runs
/// ingestion tasks in its own process, as Druid's indexer does.
fn server_type(role: &str) -> &str {
    match role {
        "realtime" => "indexer",
        other => other,
    }
}

/// One row per live node and role.
async fn servers(state: &AppState, broker: &Broker) -> anyhow::Result<Vec<Map<String, Value>>> {
    let store = Arc::clone(&state.context.store);
    let nodes: Vec<NodeInfo> = Membership::new(Arc::clone(&store)).list_nodes().await?;
    let election = Election::new(store);
    let mut leaders = BTreeMap::new();
    for role in ["coordinator", "overlord"] {
        leaders.insert(role, election.current_leader(role).await?);
    }
    // Bytes each node serves as a historical (false) and as a realtime node (true).
    let mut served: HashMap<(String, bool), u64> = HashMap::new();
    for (node, segments) in broker.view().snapshot() {
        for segment in segments.iter() {
            *served.entry((node.clone(), segment.realtime)).or_default() += segment.segment.size;
        }
    }
    let mut rows = Vec::new();
    for node in &nodes {
        let (host, port) = node
            .http_addr
            .rsplit_once(':')
            .map_or((node.http_addr.as_str(), -1), |(host, port)| {
                (host, port.parse::<i64>().unwrap_or(-1))
            });
        for role in &node.roles {
            let data_server = role == "historical" || role == "realtime";
            let current = served
                .get(&(node.id.clone(), role == "realtime"))
                .copied()
                .unwrap_or(0);
            let is_leader = leaders
                .get(role.as_str())
                .map(|leader| i64::from(leader.as_deref() == Some(node.id.as_str())));
            rows.push(object(json!({
                "server": node.http_addr,
                "host": host,
                "plaintext_port": port,
                "tls_port": -1,
                "server_type": server_type(role),
                "tier": data_server.then_some(DEFAULT_TIER),
                "curr_size": if data_server { current } else { 0 },
                "max_size": 0,
                "is_leader": is_leader,
                "start_time": node.started_at,
                "version": env!("CARGO_PKG_VERSION"),
                "labels": Value::Null,
            })));
        }
    }
    Ok(rows)
}

/// One row per segment each data node serves.
fn server_segments(broker: &Broker) -> Vec<Map<String, Value>> {
    broker
        .view()
        .snapshot()
        .into_iter()
        .flat_map(|(node, segments)| {
            segments
                .iter()
                .map(|served| {
                    object(json!({
                        "server": node,
                        "segment_id": served.segment.identifier,
                    }))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every task the overlord knows, newest first, as `GET /druid/indexer/v1/tasks` lists them.
async fn task_rows(state: &AppState) -> anyhow::Result<Vec<Map<String, Value>>> {
    let mut all = tasks::list(state.context.store.as_ref()).await?;
    all.sort_by(|left, right| right.0.created_time.cmp(&left.0.created_time));
    Ok(all
        .iter()
        .map(|(task, _)| {
            let status = task.status_json();
            let location = &status["location"];
            object(json!({
                "task_id": task.id,
                "group_id": status["groupId"],
                "type": task.task_type,
                "datasource": task.datasource,
                "created_time": task.created_time,
                "queue_insertion_time": status["queueInsertionTime"],
                "status": status["statusCode"],
                "runner_status": status["runnerStatusCode"],
                "duration": task.duration,
                "location": location.to_string(),
                "host": location["host"],
                "plaintext_port": location["port"],
                "tls_port": location["tlsPort"],
                "error_msg": task.error_msg,
            }))
        })
        .collect())
}
