//! Query lifecycle across processes on a real etcd (coordinator+overlord, broker, one
//! historical, one realtime node):
//! - every query type answers over a datasource with rows handed off to the historical and
//!   rows still in realtime memory, checked against expectations computed here from the
//!   pushed rows;
//! - a timeout answers 504 with Druid's body and the `X-Druid-Query-Id` header, and both data
//!   nodes stop working on the query;
//! - `DELETE /druid/v2/{queryId}` cancels a running query on the broker and both data nodes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::process::{free_port, server_args, HengeProcess};
use henge_coordination::testing::EtcdServer;
use henge_segment::time::{format_timestamp, parse_timestamp};
use serde_json::{json, Value};

use crate::flows::LOAD_TIMEOUT;

const HEALTHY: Duration = Duration::from_secs(60);
/// Datasource with a handed-off hour (2020) and an hour in realtime memory (2099).
const MIXED: &str = "mixed";
/// Datasource large enough that a full scan keeps each data node busy for about a second
/// (debug build); the broker then needs a few more seconds to merge and render the rows,
/// so timeouts shorter than the data nodes' part interrupt them mid-scan.
const BIG: &str = "big";
const BIG_ROWS_PER_SIDE: i64 = 300_000;
const ALL_TIME: &str = "2000-01-01/2100-01-01";

/// One pushed row.
#[derive(Clone)]
struct Row {
    time: i64,
    page: String,
    value: i64,
}

impl Row {
    fn json_line(&self) -> String {
        format!(
            "{{\"timestamp\":\"{}\",\"page\":\"{}\",\"value\":{}}}\n",
            format_timestamp(self.time),
            self.page,
            self.value
        )
    }
}

fn ts(text: &str) -> i64 {
    parse_timestamp(text).expect("timestamp")
}

/// 30 rows in 2020 (their hour is long over: handed off) and 20 rows in 2099 (their hour
/// has not begun: they stay in realtime memory).
fn mixed_rows() -> (Vec<Row>, Vec<Row>) {
    let old = (0..30)
        .map(|i| Row {
            time: ts("2020-01-01T00:00:00Z") + i * 60_000,
            page: ["a", "b", "c"][i as usize % 3].to_string(),
            value: i + 1,
        })
        .collect();
    let live = (0..20)
        .map(|j| Row {
            time: ts("2099-01-01T00:00:00Z") + j * 60_000,
            page: ["b", "c", "d"][j as usize % 3].to_string(),
            value: 100 + j,
        })
        .collect();
    (old, live)
}

async fn push(realtime: &DruidClient, datasource: &str, rows: &[Row]) {
    for chunk in rows.chunks(50_000) {
        let body: String = chunk.iter().map(Row::json_line).collect();
        let (status, answer) = realtime
            .post_raw(&format!("/druid/v2/push/{datasource}"), body)
            .await;
        assert_eq!(status, 200, "push failed: {answer}");
    }
}

/// Waits until the segments of `interval` are served by historicals only.
async fn wait_handed_off(broker: &DruidClient, datasource: &str, interval: &str) {
    let query =
        json!({"queryType": "timeBoundary", "dataSource": datasource, "intervals": [interval]});
    let deadline = Instant::now() + LOAD_TIMEOUT;
    loop {
        let (status, candidates) = broker.post("/druid/v2/candidates", &query).await;
        assert_eq!(status, 200, "{candidates}");
        let kinds = location_kinds(&candidates);
        if !kinds.is_empty() && kinds.iter().all(|kind| kind == "historical") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{datasource} {interval} never handed off: {candidates}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn location_kinds(candidates: &Value) -> Vec<String> {
    candidates
        .as_array()
        .expect("candidates list")
        .iter()
        .flat_map(|segment| segment["locations"].as_array().expect("locations").iter())
        .map(|location| location["type"].as_str().expect("type").to_string())
        .collect()
}

/// Sum and count of `value` per page.
fn per_page(rows: &[&Row]) -> BTreeMap<String, (i64, i64)> {
    let mut pages: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let entry = pages.entry(row.page.clone()).or_default();
        entry.0 += 1;
        entry.1 += row.value;
    }
    pages
}

/// Every query type over the mixed datasource, against expectations from the rows.
async fn every_query_type(broker: &DruidClient, old: &[Row], live: &[Row]) {
    let all: Vec<&Row> = old.iter().chain(live).collect();
    let count = all.len() as i64;
    let sum: i64 = all.iter().map(|row| row.value).sum();
    let min_time = all.iter().map(|row| row.time).min().expect("rows");
    let max_time = all.iter().map(|row| row.time).max().expect("rows");
    let aggregations = json!([{"type": "count", "name": "rows"},
                              {"type": "longSum", "name": "value", "fieldName": "value"}]);

    let timeseries = broker
        .query(
            &json!({"queryType": "timeseries", "dataSource": MIXED, "intervals": [ALL_TIME],
                       "granularity": "all", "aggregations": aggregations}),
        )
        .await;
    assert_eq!(
        timeseries,
        json!([{"timestamp": format_timestamp(min_time), "result": {"rows": count, "value": sum}}])
    );
    let yearly = broker
        .query(
            &json!({"queryType": "timeseries", "dataSource": MIXED, "intervals": [ALL_TIME],
                       "granularity": "year", "aggregations": aggregations,
                       "context": {"skipEmptyBuckets": true}}),
        )
        .await;
    let year_row = |rows: &[Row], year: &str| {
        json!({"timestamp": format!("{year}-01-01T00:00:00.000Z"),
               "result": {"rows": rows.len(), "value": rows.iter().map(|row| row.value).sum::<i64>()}})
    };
    assert_eq!(
        yearly,
        json!([year_row(old, "2020"), year_row(live, "2099")])
    );

    let pages = per_page(&all);
    let mut ranked: Vec<(&String, &(i64, i64))> = pages.iter().collect();
    ranked.sort_by_key(|(_, (_, value))| std::cmp::Reverse(*value));
    let top_n = broker
        .query(
            &json!({"queryType": "topN", "dataSource": MIXED, "intervals": [ALL_TIME],
                       "granularity": "all", "dimension": "page", "metric": "value",
                       "threshold": 3, "aggregations": aggregations}),
        )
        .await;
    let expected_top: Vec<Value> = ranked
        .iter()
        .take(3)
        .map(|(page, (rows, value))| json!({"page": page, "rows": rows, "value": value}))
        .collect();
    assert_eq!(
        top_n,
        json!([{"timestamp": format_timestamp(min_time), "result": expected_top}])
    );

    let group_by = broker
        .query(
            &json!({"queryType": "groupBy", "dataSource": MIXED, "intervals": [ALL_TIME],
                       "granularity": "all", "dimensions": ["page"],
                       "aggregations": aggregations}),
        )
        .await;
    let expected_groups: Vec<Value> = pages
        .iter()
        .map(|(page, (rows, value))| {
            json!({"version": "v1", "timestamp": "2000-01-01T00:00:00.000Z",
                   "event": {"page": page, "rows": rows, "value": value}})
        })
        .collect();
    assert_eq!(group_by, json!(expected_groups));

    let scan = broker
        .query(
            &json!({"queryType": "scan", "dataSource": MIXED, "intervals": [ALL_TIME],
                       "columns": ["__time", "page", "value"], "order": "ascending",
                       "resultFormat": "compactedList"}),
        )
        .await;
    let events: Vec<Value> = scan
        .as_array()
        .expect("scan batches")
        .iter()
        .flat_map(|batch| batch["events"].as_array().expect("events").clone())
        .collect();
    let mut by_time = all.clone();
    by_time.sort_by_key(|row| row.time);
    let expected_events: Vec<Value> = by_time
        .iter()
        .map(|row| json!([row.time, row.page, row.value]))
        .collect();
    assert_eq!(events, expected_events);

    let boundary = broker
        .query(&json!({"queryType": "timeBoundary", "dataSource": MIXED}))
        .await;
    assert_eq!(
        boundary,
        json!([{"timestamp": format_timestamp(min_time),
                "result": {"minTime": format_timestamp(min_time), "maxTime": format_timestamp(max_time)}}])
    );

    let metadata = broker
        .query(&json!({"queryType": "dataSourceMetadata", "dataSource": MIXED}))
        .await;
    assert_eq!(
        metadata[0]["result"],
        json!({"maxIngestedEventTime": format_timestamp(max_time)})
    );

    // Search: one merged bucket stamped with the earliest segment's start (the handed-off
    // 2020 hour), each page counted over both nodes.
    let search = broker
        .query(
            &json!({"queryType": "search", "dataSource": MIXED, "intervals": [ALL_TIME],
                       "searchDimensions": ["page"], "query": {"type": "all"}}),
        )
        .await;
    let expected_hits: Vec<Value> = pages
        .iter()
        .map(|(page, (rows, _))| json!({"dimension": "page", "value": page, "count": rows}))
        .collect();
    assert_eq!(
        search,
        json!([{"timestamp": "2020-01-01T00:00:00.000Z", "result": expected_hits}])
    );

    let segments = broker
        .query(&json!({"queryType": "segmentMetadata", "dataSource": MIXED,
                       "intervals": [ALL_TIME], "merge": true, "analysisTypes": ["cardinality"]}))
        .await;
    assert_eq!(segments[0]["numRows"], json!(count), "{segments}");
    // A merged analysis keeps the largest cardinality of its segments (Druid's
    // `ColumnAnalysis.fold`): here one handed-off and one realtime segment.
    let distinct = |rows: &[Row]| {
        rows.iter()
            .map(|row| row.page.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    assert_eq!(
        segments[0]["columns"]["page"]["cardinality"],
        json!(distinct(old).max(distinct(live))),
        "{segments}"
    );
}

/// Every data node's `henge.queries` from `GET /status`.
async fn queries_of(node: &DruidClient) -> Value {
    let (status, body) = node.get("/status").await;
    assert_eq!(status, 200);
    body["henge"]["queries"].clone()
}

/// Waits until no data node runs a query call, and returns each node's interrupted count.
async fn wait_idle(nodes: &[&DruidClient]) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut busy = false;
        let mut interrupted = Vec::new();
        for node in nodes {
            let queries = queries_of(node).await;
            busy |= queries["running"] != json!(0);
            interrupted.push(queries["interrupted"].as_u64().expect("interrupted"));
        }
        if !busy {
            return interrupted;
        }
        assert!(Instant::now() < deadline, "a data node kept working");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn big_rows(start: &str) -> Vec<Row> {
    let start = ts(start);
    (0..BIG_ROWS_PER_SIDE)
        .map(|k| Row {
            time: start + k,
            page: format!("p{}", k % 1_000),
            value: k,
        })
        .collect()
}

fn big_scan(context: Value) -> Value {
    json!({"queryType": "scan", "dataSource": BIG, "intervals": [ALL_TIME], "context": context})
}

/// Timeout and cancellation of a full scan of `big`, which runs on both data nodes.
async fn timeout_and_cancel(
    broker: &DruidClient,
    historical: &DruidClient,
    realtime: &DruidClient,
) {
    let nodes = [historical, realtime];
    let before = wait_idle(&nodes).await;

    let started = Instant::now();
    let (status, query_id, body) = broker
        .post_with_query_id("/druid/v2", &big_scan(json!({"timeout": 150})))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 504, "{body}");
    let query_id = query_id.expect("X-Druid-Query-Id on a timeout");
    assert_eq!(query_id.len(), 36, "a generated UUID: {query_id}");
    assert_eq!(body["error"], "Query timeout");
    assert_eq!(
        body["errorClass"],
        "org.apache.druid.query.QueryTimeoutException"
    );
    assert!(body["host"].is_string(), "{body}");
    let message = body["errorMessage"].as_str().expect("message");
    assert_eq!(message, format!("Query [{query_id}] timed out"));
    let after_timeout = wait_idle(&nodes).await;
    for (node, (after, before)) in after_timeout.iter().zip(&before).enumerate() {
        assert!(after > before, "data node {node} was not interrupted");
    }

    let cancelling = broker.clone();
    let running = tokio::spawn(async move {
        cancelling
            .post_with_query_id(
                "/druid/v2",
                &big_scan(json!({"queryId": "cancel-me", "timeout": 0})),
            )
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while queries_of(realtime).await["running"] == json!(0)
        || queries_of(historical).await["running"] == json!(0)
    {
        assert!(
            Instant::now() < deadline,
            "the query never reached both nodes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, text) = broker.delete("/druid/v2/cancel-me").await;
    assert_eq!((status, text.as_str()), (202, ""));
    let (status, query_id, body) = running.await.expect("query task");
    assert_eq!(status, 500, "{body}");
    assert_eq!(query_id.as_deref(), Some("cancel-me"));
    assert_eq!(body["error"], "Query cancelled");
    assert_eq!(body["errorMessage"], "Query [cancel-me] was cancelled");
    let after_cancel = wait_idle(&nodes).await;
    for (node, (after, before)) in after_cancel.iter().zip(&after_timeout).enumerate() {
        assert!(after > before, "data node {node} did not stop on cancel");
    }
    // Unknown ids are accepted too, as Druid does.
    assert_eq!(broker.delete("/druid/v2/no-such-query").await.0, 202);
    // A client's queryId comes back on success too.
    let (status, query_id, _) = broker
        .post_with_query_id(
            "/druid/v2",
            &json!({"queryType": "timeBoundary", "dataSource": BIG, "context": {"queryId": "tb-1"}}),
        )
        .await;
    assert_eq!((status, query_id.as_deref()), (200, Some("tb-1")));
    // A groupBy over more groups than its row limit fails with Druid's body (1,000 pages).
    let (status, _, body) = broker
        .post_with_query_id(
            "/druid/v2",
            &json!({"queryType": "groupBy", "dataSource": BIG, "intervals": [ALL_TIME],
                    "granularity": "all", "dimensions": ["page"],
                    "aggregations": [{"type": "count", "name": "rows"}],
                    "context": {"bufferGrouperMaxSize": 500}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "Resource limit exceeded");
    assert_eq!(
        body["errorClass"],
        "org.apache.druid.query.ResourceLimitExceededException"
    );
    // The nodes serve again at once.
    let count = broker
        .query(
            &json!({"queryType": "timeseries", "dataSource": BIG, "intervals": [ALL_TIME],
                       "granularity": "all", "aggregations": [{"type": "count", "name": "rows"}]}),
        )
        .await;
    assert_eq!(count[0]["result"]["rows"], json!(2 * BIG_ROWS_PER_SIDE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_span_historical_and_realtime_and_stop_on_timeout_or_cancel() {
    let etcd = EtcdServer::start().await;
    let work = tempfile::tempdir().expect("tempdir");
    let spec = etcd.spec();
    let node_args = |roles: &str, name: &str| -> Vec<String> {
        server_args(
            roles,
            &spec,
            work.path(),
            name,
            &["--push-handoff-grace-ms", "300"],
        )
    };
    let mut processes: Vec<HengeProcess> = [
        ("coordinator,overlord", "master"),
        ("broker", "broker"),
        ("historical", "historical"),
        ("realtime", "realtime"),
    ]
    .iter()
    .map(|(roles, name)| {
        HengeProcess::start(name, &node_args(roles, name), free_port(), work.path())
    })
    .collect();
    for process in processes.iter_mut() {
        process.wait_healthy(HEALTHY).await;
    }
    let broker = DruidClient::new(&processes[1].url);
    let historical = DruidClient::new(&processes[2].url);
    let realtime = DruidClient::new(&processes[3].url);

    let (old, live) = mixed_rows();
    push(&realtime, MIXED, &old).await;
    push(&realtime, MIXED, &live).await;
    let started = Instant::now();
    push(&realtime, BIG, &big_rows("2021-01-01T00:00:00Z")).await;
    push(&realtime, BIG, &big_rows("2099-06-01T00:00:00Z")).await;
    eprintln!(
        "pushed {} big rows in {:?}",
        2 * BIG_ROWS_PER_SIDE,
        started.elapsed()
    );
    wait_handed_off(&broker, MIXED, "2020-01-01/2020-01-02").await;
    wait_handed_off(&broker, BIG, "2021-01-01/2021-01-02").await;
    eprintln!("handed off after {:?}", started.elapsed());
    // The 2099 rows are served by the realtime node only.
    let live_interval =
        json!({"queryType": "timeBoundary", "dataSource": MIXED, "intervals": ["2099/2100"]});
    let (_, candidates) = broker.post("/druid/v2/candidates", &live_interval).await;
    assert_eq!(location_kinds(&candidates), vec!["indexer-executor"]);

    every_query_type(&broker, &old, &live).await;
    let started = Instant::now();
    timeout_and_cancel(&broker, &historical, &realtime).await;
    eprintln!("timeout and cancel checks took {:?}", started.elapsed());
}
