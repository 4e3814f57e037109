//! Checks shared by every topology.

use std::path::Path;
use std::time::{Duration, Instant};

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::wikiticker::{self, Expected};
use henge_roles::demo;
use serde_json::{json, Value};

pub const LOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Ingests wikiticker through the task API and waits until the broker serves all of it.
pub async fn ingest_wikiticker(overlord: &DruidClient, broker: &DruidClient, expected: &Expected) {
    let status = overlord
        .run_task(&wikiticker::index_spec(), LOAD_TIMEOUT)
        .await;
    assert_eq!(
        status["status"], "SUCCESS",
        "wikiticker task failed: {status}"
    );
    let id = status["id"].as_str().expect("task id");
    let (code, report) = overlord
        .get(&format!("/druid/indexer/v1/task/{id}/reports"))
        .await;
    assert_eq!(code, 200);
    let stats = &report["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"];
    assert_eq!(stats["processed"], json!(expected.rows), "report: {report}");
    wait_for_rows(broker, wikiticker::DATASOURCE, expected.rows).await;
}

/// Repeats a count query until the datasource has `rows` rows.
pub async fn wait_for_rows(broker: &DruidClient, datasource: &str, rows: u64) -> Value {
    let query = count_query(datasource);
    broker
        .query_until(&query, LOAD_TIMEOUT, |result| {
            result[0]["result"]["count"] == json!(rows)
        })
        .await
}

pub fn count_query(datasource: &str) -> Value {
    json!({
        "queryType": "timeseries", "dataSource": datasource, "intervals": ["1000/3000"],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "count"}, {"type": "longSum", "name": "value", "fieldName": "value"}],
    })
}

/// A repeated query over historical segments (its repeat is the result-level cache's, whose
/// hits `roles/tests/lifecycle.rs` tells apart) answers with the same text as the first run,
/// pretty-printed on request, and as the same text again when computed afresh
/// (`useResultLevelCache` false).
pub async fn result_cache_repeats(broker: &DruidClient) {
    let query = json!({
        "queryType": "topN", "dataSource": wikiticker::DATASOURCE,
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all", "dimension": "page", "metric": "edits", "threshold": 3,
        "aggregations": [{"type": "count", "name": "edits"},
                         {"type": "longSum", "name": "added", "fieldName": "added"}],
    });
    let (status, _, first) = broker.post_text("/druid/v2", &query).await;
    assert_eq!(status, 200, "{first}");
    let (_, _, repeat) = broker.post_text("/druid/v2", &query).await;
    assert_eq!(repeat, first);
    let (_, _, pretty) = broker.post_text("/druid/v2?pretty", &query).await;
    assert!(pretty.contains('\n'), "{pretty}");
    assert_eq!(
        serde_json::from_str::<Value>(&pretty).unwrap(),
        serde_json::from_str::<Value>(&first).unwrap()
    );
    let mut computed = query.clone();
    computed["context"] = json!({"useResultLevelCache": false});
    let (_, _, again) = broker.post_text("/druid/v2", &computed).await;
    assert_eq!(again, first);
    let top: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        top[0]["result"][0]["page"],
        json!("Wikipedia:Vandalismusmeldung")
    );
    assert_eq!(top[0]["result"][0]["edits"], json!(33));
}

/// Push rows, see them within a second, hand them off, and see the same answer after.
pub async fn push_and_handoff(
    realtime: &DruidClient,
    coordinator: &DruidClient,
    broker: &DruidClient,
) {
    let datasource = "pushed";
    let body: String = (0..100)
        .map(|index| {
            format!(
                "{{\"timestamp\":\"2020-01-01T00:{:02}:00.000Z\",\"host\":\"h{}\",\"value\":{index}}}\n",
                index % 60,
                index % 3
            )
        })
        .collect();
    let pushed_at = Instant::now();
    let (status, answer) = realtime
        .post_raw(&format!("/druid/v2/push/{datasource}"), body)
        .await;
    assert_eq!(status, 200, "push failed: {answer}");
    let before = broker
        .query_until(&count_query(datasource), Duration::from_secs(1), |result| {
            result[0]["result"]["count"] == json!(100)
        })
        .await;
    assert!(
        pushed_at.elapsed() < Duration::from_secs(1),
        "pushed rows took {:?} to be queryable",
        pushed_at.elapsed()
    );
    assert_eq!(before[0]["result"]["value"], json!(4950));
    // The rows are from 2020, so the sink's interval has ended: it is handed off once the
    // grace period passes, published to the catalog, and loaded by a historical.
    let deadline = Instant::now() + LOAD_TIMEOUT;
    loop {
        let (_, names) = coordinator.get("/druid/coordinator/v1/datasources").await;
        if names
            .as_array()
            .is_some_and(|names| names.contains(&json!(datasource)))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pushed rows were never published"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Until a historical serves the segment and the realtime node lets it go, the answer
    // never changes.
    loop {
        assert_eq!(broker.query(&count_query(datasource)).await, before);
        let (status, candidates) = broker
            .post("/druid/v2/candidates", &count_query(datasource))
            .await;
        assert_eq!(status, 200, "{candidates}");
        let kinds: Vec<&str> = candidates
            .as_array()
            .expect("candidates list")
            .iter()
            .flat_map(|segment| segment["locations"].as_array().expect("locations").iter())
            .map(|location| location["type"].as_str().expect("location type"))
            .collect();
        if !kinds.is_empty() && kinds.iter().all(|kind| *kind == "historical") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "handoff never completed: {candidates}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(broker.query(&count_query(datasource)).await, before);
}

/// Pushed rows with sketch metrics (set through the push metrics endpoint) are merged by
/// queries through the broker: distinct users and a quantiles count, checked against the
/// numbers pushed.
pub async fn push_sketches(realtime: &DruidClient, broker: &DruidClient) {
    let datasource = "pushed_sketches";
    let metrics = json!([
        {"type": "count", "name": "rows"},
        {"type": "HLLSketchBuild", "name": "users", "fieldName": "user"},
        {"type": "quantilesDoublesSketch", "name": "latency", "fieldName": "ms"},
    ]);
    let path = format!("/druid/v2/push/{datasource}/metrics");
    let (status, answer) = realtime.post(&path, &metrics).await;
    assert_eq!(status, 200, "setting metrics failed: {answer}");
    let (status, answer) = realtime
        .post(
            &path,
            &json!([{"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 3}]),
        )
        .await;
    assert_eq!(status, 400, "a bad metricsSpec is refused: {answer}");
    // 300 rows, users u0..u199 (200 distinct), latencies 1..=300.
    let body: String = (0..300)
        .map(|index| {
            format!(
                "{{\"timestamp\":\"2020-02-01T00:{:02}:00.000Z\",\"user\":\"u{}\",\"ms\":{}}}\n",
                index % 60,
                index % 200,
                index + 1
            )
        })
        .collect();
    let (status, answer) = realtime
        .post_raw(&format!("/druid/v2/push/{datasource}"), body)
        .await;
    assert_eq!(status, 200, "push failed: {answer}");
    let (status, _) = realtime.post(&path, &metrics).await;
    assert_eq!(
        status, 400,
        "metrics are fixed once the datasource has rows"
    );
    let query = json!({
        "queryType": "timeseries", "dataSource": datasource, "granularity": "all",
        "intervals": ["2020-02-01/2020-02-02"],
        "aggregations": [
            {"type": "longSum", "name": "rows", "fieldName": "rows"},
            {"type": "HLLSketchMerge", "name": "users", "fieldName": "users", "round": true},
            {"type": "quantilesDoublesSketch", "name": "latency", "fieldName": "latency"},
        ],
        "postAggregations": [{"type": "quantilesDoublesSketchToQuantile", "name": "median",
            "fraction": 0.5, "field": {"type": "fieldAccess", "fieldName": "latency"}}],
    });
    let answer = broker
        .query_until(&query, LOAD_TIMEOUT, |result| {
            result[0]["result"]["rows"] == json!(300)
        })
        .await;
    let result = &answer[0]["result"];
    let users = result["users"].as_i64().expect("a rounded estimate");
    assert!((users - 200).abs() <= 4, "{users} distinct users of 200");
    assert_eq!(result["latency"], json!(300));
    let median = result["median"].as_f64().expect("a median");
    assert!((median - 150.0).abs() <= 15.0, "median {median} of 1..=300");
}

/// Bad input gets Druid's error bodies, and the server keeps serving.
pub async fn bad_input(broker: &DruidClient, overlord: &DruidClient) {
    let (status, body) = broker.post_raw("/druid/v2", "{not json").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "Json parse failed");
    assert!(
        body["errorClass"].is_string()
            && body["errorMessage"].is_string()
            && body.get("host").is_some()
    );

    let (status, body) = broker
        .post(
            "/druid/v2",
            &json!({"queryType": "nope", "dataSource": "x"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("nope"),
        "{body}"
    );

    let mut query = count_query(wikiticker::DATASOURCE);
    query["aggregations"] = json!([{"type": "fancySum", "name": "x", "fieldName": "added"}]);
    let (status, body) = broker.post("/druid/v2", &query).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("fancySum"),
        "{body}"
    );

    let mut query = count_query(wikiticker::DATASOURCE);
    query["filter"] = json!({"type": "sometimes", "dimension": "page"});
    let (status, body) = broker.post("/druid/v2", &query).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("sometimes"),
        "{body}"
    );

    // As Druid: a timeseries with granularity all answers one row of empty aggregates
    // (TimeseriesQueryQueryToolChest), the other query types an empty list.
    let missing = broker.query(&count_query("no-such-datasource")).await;
    assert_eq!(
        missing,
        json!([{"timestamp": "1000-01-01T00:00:00.000Z", "result": {"count": 0, "value": null}}])
    );
    let missing = broker
        .query(&json!({
            "queryType": "groupBy", "dataSource": "no-such-datasource", "intervals": ["1000/3000"],
            "granularity": "all", "dimensions": ["page"], "aggregations": [{"type": "count", "name": "count"}],
        }))
        .await;
    assert_eq!(missing, json!([]));

    let mut spec = wikiticker::index_spec();
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = json!("/etc");
    let (status, body) = overlord.post("/druid/indexer/v1/task", &spec).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("/etc"),
        "{body}"
    );

    let (status, body) = overlord
        .get("/druid/indexer/v1/task/no-such-task/status")
        .await;
    assert_eq!(
        (status, body),
        (404, json!({"task": "no-such-task", "status": null}))
    );

    // Still serving.
    let (status, _) = broker.get("/status/health").await;
    assert_eq!(status, 200);
}

/// A task whose input has a row with a bad timestamp and a malformed line succeeds and
/// counts both as parse exceptions.
pub async fn parse_exceptions(overlord: &DruidClient, broker: &DruidClient, input_dir: &Path) {
    let file = input_dir.join("bad-rows.json");
    std::fs::write(
        &file,
        "{\"ts\":\"2020-02-01T00:00:00Z\",\"k\":\"a\",\"value\":1}\n{\"ts\":\"not a time\",\"k\":\"b\",\"value\":2}\n{broken\n{\"ts\":\"2020-02-01T01:00:00Z\",\"k\":\"c\",\"value\":3}\n",
    )
    .expect("write input");
    let spec = json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "badrows",
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": {"dimensions": ["k", {"name": "value", "type": "long"}]},
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none", "rollup": false},
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "local", "baseDir": input_dir.display().to_string(), "filter": "bad-rows.json"},
                "inputFormat": {"type": "json"},
            },
        }
    });
    let status = overlord.run_task(&spec, LOAD_TIMEOUT).await;
    assert_eq!(status["status"], "SUCCESS", "{status}");
    let id = status["id"].as_str().expect("task id");
    let (_, report) = overlord
        .get(&format!("/druid/indexer/v1/task/{id}/reports"))
        .await;
    let stats = &report["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"];
    assert_eq!(stats["processed"], json!(2), "{report}");
    assert_eq!(stats["unparseable"], json!(2), "{report}");
    let result = wait_for_rows(broker, "badrows", 2).await;
    assert_eq!(result[0]["result"]["value"], json!(4));
}

/// Rows of the generated `henge-demo` datasource on every topology (the golden cases'
/// expectations depend on it: the generator spreads the rows over seven days).
pub const DEMO_ROWS: usize = 5000;

/// Loads the same `henge-demo` datasource `henge quickstart --demo-rows DEMO_ROWS` loads:
/// the same generator, dimensions and granularity spec, through the task API.
pub async fn ingest_demo(overlord: &DruidClient, broker: &DruidClient, input_dir: &Path) {
    let file = input_dir.join(format!("{}-{DEMO_ROWS}.json", demo::DATASOURCE));
    let out = std::io::BufWriter::new(std::fs::File::create(&file).expect("demo file"));
    demo::write_json(DEMO_ROWS, out).expect("write demo rows");
    let spec = json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": demo::DATASOURCE,
                "timestampSpec": {"column": "timestamp", "format": "auto"},
                "dimensionsSpec": demo::dimensions_spec(),
                "metricsSpec": [],
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none", "rollup": false},
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {
                    "type": "local",
                    "baseDir": input_dir.display().to_string(),
                    "filter": file.file_name().expect("file name").to_string_lossy(),
                },
                "inputFormat": {"type": "json"},
            },
            "tuningConfig": {"type": "index_parallel"},
        }
    });
    let status = overlord.run_task(&spec, LOAD_TIMEOUT).await;
    assert_eq!(status["status"], "SUCCESS", "demo task failed: {status}");
    wait_for_rows(broker, demo::DATASOURCE, DEMO_ROWS as u64).await;
}

/// Rows of Henge's own golden dataset (`scripts/golden/henge_tags.py` writes it).
pub const TAGS_ROWS: u64 = 2000;

/// Loads `henge-tags` (multi-value tags, nulls, sketch metrics) from
/// `cluster-tests/data/` through the task API, staged in `input_dir`.
pub async fn ingest_tags(overlord: &DruidClient, broker: &DruidClient, input_dir: &Path) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    std::fs::copy(
        data.join("henge-tags.json.gz"),
        input_dir.join("henge-tags.json.gz"),
    )
    .expect("stage henge-tags data");
    let text = std::fs::read_to_string(data.join("henge-tags-index.json")).expect("tags spec");
    let mut spec: Value = serde_json::from_str(&text).expect("tags spec is JSON");
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = json!(input_dir.display().to_string());
    let status = overlord.run_task(&spec, LOAD_TIMEOUT).await;
    assert_eq!(
        status["status"], "SUCCESS",
        "henge-tags task failed: {status}"
    );
    wait_for_rows(broker, "henge-tags", TAGS_ROWS).await;
}

/// Datasource of rows pushed with the current time, which no handoff rule has published
/// yet when the node is stopped.
pub const LIVE: &str = "live";

/// Pushes ten rows stamped now; they stay in realtime memory (their hour is not over).
pub async fn push_live(realtime: &DruidClient, broker: &DruidClient) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis();
    let body: String = (0..10)
        .map(|index| format!("{{\"timestamp\":{now_ms},\"value\":{index}}}\n"))
        .collect();
    let (status, answer) = realtime
        .post_raw(&format!("/druid/v2/push/{LIVE}"), body)
        .await;
    assert_eq!(status, 200, "push failed: {answer}");
    broker
        .query_until(&count_query(LIVE), Duration::from_secs(1), |result| {
            result[0]["result"]["count"] == json!(10)
        })
        .await;
}
