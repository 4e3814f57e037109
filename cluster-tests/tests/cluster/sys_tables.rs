//! Druid's `sys` tables over HTTP on the multi-process cluster: every node appears in
//! `sys.servers` with its roles (and the coordinator/overlord leader flagged), the
//! historicals serve every published wikipedia segment (`sys.server_segments`), and the
//! wikiticker ingestion task is SUCCESS in `sys.tasks`.

use std::collections::{BTreeMap, BTreeSet};

use henge_cluster_tests::client::DruidClient;
use serde_json::{json, Value};

/// The cluster's nodes by port: (name, Druid server types of its roles).
pub struct Node<'a> {
    pub port: u16,
    pub types: &'a [&'a str],
}

async fn sql(broker: &DruidClient, query: &str) -> Vec<Vec<Value>> {
    let (status, body) = broker
        .post(
            "/druid/v2/sql",
            &json!({"query": query, "resultFormat": "array"}),
        )
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_value(body).expect("array rows")
}

fn port_of(server: &Value) -> u16 {
    server
        .as_str()
        .and_then(|server| server.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("server {server} has no port"))
}

pub async fn check(broker: &DruidClient, nodes: &[Node<'_>], historicals: &[u16]) {
    // One row per node and role; only the coordinator and overlord have a leader flag.
    let rows = sql(
        broker,
        "SELECT server, server_type, is_leader, tier, tls_port FROM sys.servers",
    )
    .await;
    let mut found: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        let kind = row[1].as_str().expect("server_type").to_owned();
        let leader = match kind.as_str() {
            "coordinator" | "overlord" => json!(1),
            _ => Value::Null,
        };
        assert_eq!(row[2], leader, "{row:?}");
        let tier = if kind == "historical" || kind == "indexer" {
            json!("_default_tier")
        } else {
            Value::Null
        };
        assert_eq!(row[3], tier, "{row:?}");
        assert_eq!(row[4], json!(-1), "{row:?}");
        found.entry(port_of(&row[0])).or_default().insert(kind);
    }
    let wanted: BTreeMap<u16, BTreeSet<String>> = nodes
        .iter()
        .map(|node| {
            let types = node.types.iter().map(|kind| kind.to_string()).collect();
            (node.port, types)
        })
        .collect();
    assert_eq!(found, wanted);

    // Every published wikipedia segment is served by a historical, and only by historicals.
    let segments = sql(
        broker,
        "SELECT segment_id, num_replicas FROM sys.segments \
         WHERE datasource = 'wikipedia' AND is_published = 1",
    )
    .await;
    assert!(!segments.is_empty());
    let served = sql(
        broker,
        "SELECT server, segment_id FROM sys.server_segments WHERE segment_id LIKE 'wikipedia%'",
    )
    .await;
    for segment in &segments {
        let servers: Vec<u16> = served
            .iter()
            .filter(|row| row[1] == segment[0])
            .map(|row| port_of(&row[0]))
            .collect();
        assert!(!servers.is_empty(), "{} is not served", segment[0]);
        assert!(
            servers.iter().all(|port| historicals.contains(port)),
            "{} served by {servers:?}",
            segment[0]
        );
        assert_eq!(segment[1], json!(servers.len()), "{}", segment[0]);
    }
    // The same answer through an aggregate: every wikipedia segment on a historical.
    let per_server = sql(
        broker,
        "SELECT server, COUNT(*) FROM sys.server_segments \
         WHERE segment_id LIKE 'wikipedia%' GROUP BY server",
    )
    .await;
    let total: u64 = per_server.iter().filter_map(|row| row[1].as_u64()).sum();
    assert_eq!(total as usize, served.len());

    // The wikiticker ingestion task succeeded; the task list agrees with the overlord's.
    let tasks = sql(
        broker,
        "SELECT task_id, status, runner_status, duration FROM sys.tasks \
         WHERE datasource = 'wikipedia' AND status = 'SUCCESS'",
    )
    .await;
    assert!(!tasks.is_empty(), "no successful wikipedia task");
    for task in &tasks {
        assert_eq!(task[2], json!("NONE"), "{task:?}");
        assert!(
            task[3].as_i64().is_some_and(|duration| duration >= 0),
            "{task:?}"
        );
    }
    assert_eq!(
        sql(broker, "SELECT COUNT(*) FROM sys.supervisors").await,
        vec![vec![json!(0)]]
    );
}
