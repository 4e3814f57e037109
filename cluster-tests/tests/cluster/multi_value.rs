//! Multi-value string dimensions through a real `henge quickstart`: a batch task ingests
//! JSON arrays (Druid's multi-value documentation example), push ingestion adds more, and
//! queries over HTTP see exploded groups, any-value filters, scan arrays and
//! `hasMultipleValues`. Expected values are counted by hand from the rows below.

use std::time::Duration;

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::process::{free_port, quickstart_args, HengeProcess};
use serde_json::{json, Value};

use crate::flows::{self, LOAD_TIMEOUT};

const DATASOURCE: &str = "mv_tags";

/// Druid's example rows: row4's tags are empty.
const ROWS: [&str; 4] = [
    r#"{"timestamp": "2011-01-12T00:00:00.000Z", "label": "row1", "tags": ["t3", "t1", "t2"]}"#,
    r#"{"timestamp": "2011-01-13T00:00:00.000Z", "label": "row2", "tags": ["t3", "t4", "t5"]}"#,
    r#"{"timestamp": "2011-01-14T00:00:00.000Z", "label": "row3", "tags": ["t5", "t6", "t7"]}"#,
    r#"{"timestamp": "2011-01-14T00:00:00.000Z", "label": "row4", "tags": []}"#,
];

fn task() -> Value {
    json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": DATASOURCE,
                "timestampSpec": {"column": "timestamp", "format": "iso"},
                "dimensionsSpec": {"dimensions": ["label", "tags"]},
                "granularitySpec": {"segmentGranularity": "month", "rollup": false}
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": ROWS.join("\n")},
                "inputFormat": {"type": "json"}
            }
        }
    })
}

fn group_by_tags(datasource: &str, filter: Value) -> Value {
    json!({
        "queryType": "groupBy", "dataSource": datasource,
        "intervals": ["2011-01-01/2011-02-01"], "granularity": "all",
        "dimensions": ["tags"], "filter": filter,
        "aggregations": [{"type": "count", "name": "count"}],
    })
}

fn counts(response: &Value) -> Vec<(Value, u64)> {
    response
        .as_array()
        .expect("groupBy rows")
        .iter()
        .map(|row| {
            (
                row["event"]["tags"].clone(),
                row["event"]["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

/// Batch-ingests the rows and checks the query semantics over HTTP.
pub async fn batch_and_query(overlord: &DruidClient, broker: &DruidClient) {
    let status = overlord.run_task(&task(), LOAD_TIMEOUT).await;
    assert_eq!(status["status"], "SUCCESS", "task failed: {status}");
    flows::wait_for_rows(broker, DATASOURCE, 4).await;

    let all = broker.query(&group_by_tags(DATASOURCE, Value::Null)).await;
    assert_eq!(
        counts(&all),
        [
            (Value::Null, 1),
            (json!("t1"), 1),
            (json!("t2"), 1),
            (json!("t3"), 2),
            (json!("t4"), 1),
            (json!("t5"), 2),
            (json!("t6"), 1),
            (json!("t7"), 1),
        ]
    );
    let t3 = json!({"type": "selector", "dimension": "tags", "value": "t3"});
    let filtered = broker.query(&group_by_tags(DATASOURCE, t3)).await;
    assert_eq!(
        counts(&filtered),
        [
            (json!("t1"), 1),
            (json!("t2"), 1),
            (json!("t3"), 2),
            (json!("t4"), 1),
            (json!("t5"), 1),
        ]
    );
    let scan = broker
        .query(&json!({
            "queryType": "scan", "dataSource": DATASOURCE,
            "intervals": ["2011-01-01/2011-02-01"], "columns": ["label", "tags"],
            "resultFormat": "compactedList",
        }))
        .await;
    let events: Vec<Value> = scan
        .as_array()
        .expect("scan batches")
        .iter()
        .flat_map(|batch| batch["events"].as_array().expect("events").clone())
        .collect();
    // SORTED_ARRAY, the default, sorted row1's values.
    assert_eq!(
        events,
        [
            json!(["row1", ["t1", "t2", "t3"]]),
            json!(["row2", ["t3", "t4", "t5"]]),
            json!(["row3", ["t5", "t6", "t7"]]),
            json!(["row4", null]),
        ]
    );
    let metadata = broker
        .query(&json!({
            "queryType": "segmentMetadata", "dataSource": DATASOURCE,
            "intervals": ["2011-01-01/2011-02-01"], "merge": true,
            "analysisTypes": ["cardinality"],
        }))
        .await;
    let tags = &metadata[0]["columns"]["tags"];
    assert_eq!(tags["hasMultipleValues"], true, "{metadata}");
    assert_eq!(tags["cardinality"], 8, "null and t1..t7: {metadata}");
    assert_eq!(metadata[0]["columns"]["label"]["hasMultipleValues"], false);
}

/// Pushes rows with arrays and checks they explode while still in realtime memory.
pub async fn push_and_query(realtime: &DruidClient, broker: &DruidClient) {
    let datasource = "mv_pushed";
    let body = "{\"timestamp\": \"2011-01-12T00:00:00Z\", \"tags\": [\"b\", \"a\"]}\n\
                {\"timestamp\": \"2011-01-12T00:00:01Z\", \"tags\": \"a\"}\n";
    let (status, answer) = realtime
        .post_raw(&format!("/druid/v2/push/{datasource}"), body.to_string())
        .await;
    assert_eq!(status, 200, "push failed: {answer}");
    let query = group_by_tags(datasource, Value::Null);
    let response = broker
        .query_until(&query, Duration::from_secs(5), |result| {
            result.as_array().is_some_and(|rows| rows.len() == 2)
        })
        .await;
    assert_eq!(counts(&response), [(json!("a"), 2), (json!("b"), 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_ingests_and_queries_multi_value_dimensions() {
    let work = tempfile::tempdir().expect("tempdir");
    let args = quickstart_args(work.path(), 10, &[]);
    let mut node = HengeProcess::start("quickstart-mv", &args, free_port(), work.path());
    node.wait_healthy(Duration::from_secs(60)).await;
    let client = DruidClient::new(&node.url);
    batch_and_query(&client, &client).await;
    push_and_query(&client, &client).await;
    let status = node.terminate();
    assert!(
        status.success(),
        "quickstart exited with {status}:\n{}",
        node.log_tail()
    );
}
