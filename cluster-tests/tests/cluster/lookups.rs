//! Registered lookups over HTTP: the coordinator's lookup config API, propagation to every
//! node that runs queries, and lookups used by native queries and SQL on the broker.
//!
//! The lookup is `channel_names` from `cluster-tests/data/channel-names-lookup.json`.
//! Counts were computed from the raw wikiticker file: English is `#en.wikipedia` (11,549)
//! plus `#simple.wikipedia` (39), Vietnamese 9,747, unmapped channels 7,192, `#nl.wikipedia`
//! 445, `#no.wikipedia` 169.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use henge_cluster_tests::client::DruidClient;
use serde_json::{json, Value};

const CONFIG: &str = "/druid/coordinator/v1/lookups/config";
const NAME: &str = "channel_names";

/// The registration body: `{"__default": {"channel_names": {...}}}`.
pub fn registration() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/channel-names-lookup.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    serde_json::from_str(&text).expect("lookup JSON")
}

fn spec() -> Value {
    registration()["__default"][NAME].clone()
}

/// The map after [`check`] registered version `v2`, which adds `#nl.wikipedia`.
pub fn updated_map() -> Value {
    let mut map = spec()["lookupExtractorFactory"]["map"].clone();
    map["#nl.wikipedia"] = json!("Dutch");
    map
}

/// On a fresh cluster: the configuration starts uninitialized, `{}` initializes it, then
/// `channel_names` is registered and waited for on every node in `nodes`.
pub async fn register(coordinator: &DruidClient, nodes: &[&DruidClient]) {
    assert_eq!(coordinator.get(CONFIG).await.0, 404);
    assert_eq!(coordinator.post(CONFIG, &json!({})).await, (202, json!({})));
    assert_eq!(coordinator.get(CONFIG).await, (200, json!([])));
    let body = registration();
    assert_eq!(coordinator.post(CONFIG, &body).await, (202, body));
    wait_loaded(nodes, &spec()["lookupExtractorFactory"]["map"]).await;
}

/// Waits until every node in `nodes` has loaded `channel_names` as `map`.
pub async fn wait_loaded(nodes: &[&DruidClient], map: &Value) {
    let path = format!("/druid/v1/lookups/introspect/{NAME}");
    for node in nodes {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = node.get(&path).await;
            if status == 200 && body == *map {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "lookup never loaded: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The registry API, native and SQL use on the broker, and an update reaching every node.
pub async fn check(coordinator: &DruidClient, broker: &DruidClient, nodes: &[&DruidClient]) {
    registry(coordinator).await;
    native(broker).await;
    let (status, body) = broker
        .post(
            "/druid/v2/sql",
            &json!({"query": "SELECT LOOKUP(channel, 'channel_names') AS lang, COUNT(*) AS edits \
                     FROM wikipedia WHERE channel = '#simple.wikipedia' GROUP BY 1",
                    "resultFormat": "array"}),
        )
        .await;
    assert_eq!((status, body), (200, json!([["English", 39]])));

    // A higher version replaces the lookup on every node.
    let mut updated = spec();
    updated["version"] = json!("v2");
    updated["lookupExtractorFactory"]["map"] = updated_map();
    assert_eq!(
        coordinator
            .post(&format!("{CONFIG}/__default/{NAME}"), &updated)
            .await
            .0,
        202
    );
    wait_loaded(nodes, &updated_map()).await;
    let (status, body) = broker
        .post(
            "/druid/v2/sql",
            &json!({"query": "SELECT COUNT(*) FROM wikipedia \
                     WHERE LOOKUP(channel, 'channel_names') = 'Dutch'",
                    "resultFormat": "array"}),
        )
        .await;
    assert_eq!((status, body), (200, json!([[445]])));
}

async fn registry(coordinator: &DruidClient) {
    let get = |path: String| async move { coordinator.get(&path).await };
    assert_eq!(get(CONFIG.into()).await, (200, json!(["__default"])));
    assert_eq!(get(format!("{CONFIG}/all")).await, (200, registration()));
    assert_eq!(
        get(format!("{CONFIG}/__default")).await,
        (200, json!([NAME]))
    );
    assert_eq!(
        get(format!("{CONFIG}/__default?detailed=true")).await,
        (200, registration()["__default"].clone())
    );
    assert_eq!(
        get(format!("{CONFIG}/__default/{NAME}")).await,
        (200, spec())
    );
    assert_eq!(
        get(format!("{CONFIG}/nope")).await,
        (404, json!({"error": "Tier [nope] not found"}))
    );
    assert_eq!(
        get(format!("{CONFIG}/__default/nope")).await,
        (404, json!({"error": "lookup [nope] not found"}))
    );

    // Writes go to a scratch tier that no node loads.
    let colors = |version: &str, kind: &str| {
        json!({"version": version,
               "lookupExtractorFactory": {"type": kind, "map": {"r": "red"}}})
    };
    let scratch = format!("{CONFIG}/scratch/colors");
    assert_eq!(
        coordinator.post(&scratch, &colors("v2", "map")).await.0,
        202
    );
    let (status, body) = coordinator.post(&scratch, &colors("v1", "map")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("version [v1]"),
        "{body}"
    );
    let (status, body) = coordinator
        .post(&scratch, &colors("v3", "cachedNamespace"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(coordinator.post_raw(&scratch, "{").await.0, 400);
    assert_eq!(get(scratch.clone()).await, (200, colors("v2", "map")));
    assert_eq!(coordinator.delete(&scratch).await.0, 202);
    assert_eq!(coordinator.delete(&scratch).await.0, 404);
    assert_eq!(
        coordinator.delete(&format!("{CONFIG}/scratch")).await.0,
        202
    );
    assert_eq!(
        coordinator.delete(&format!("{CONFIG}/scratch")).await.0,
        404
    );
}

async fn native(broker: &DruidClient) {
    let top = broker
        .query(&json!({
            "queryType": "topN",
            "dataSource": "wikipedia",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "dimension": {"type": "lookup", "dimension": "channel", "outputName": "language",
                          "name": NAME, "replaceMissingValueWith": "Other"},
            "metric": "edits",
            "threshold": 3,
            "aggregations": [{"type": "count", "name": "edits"}],
        }))
        .await;
    assert_eq!(
        top[0]["result"],
        json!([
            {"language": "English", "edits": 11588},
            {"language": "Vietnamese", "edits": 9747},
            {"language": "Other", "edits": 7192},
        ])
    );
    let grouped = broker
        .query(&json!({
            "queryType": "groupBy",
            "dataSource": "wikipedia",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "filter": {"type": "in", "dimension": "channel",
                       "values": ["#nl.wikipedia", "#no.wikipedia"]},
            "dimensions": [{"type": "extraction", "dimension": "channel", "outputName": "d",
                            "extractionFn": {"type": "registeredLookup", "lookup": NAME,
                                             "retainMissingValue": true}}],
            "aggregations": [{"type": "count", "name": "edits"}],
        }))
        .await;
    let rows: Vec<(Value, Value)> = grouped
        .as_array()
        .expect("groupBy rows")
        .iter()
        .map(|row| (row["event"]["d"].clone(), row["event"]["edits"].clone()))
        .collect();
    assert_eq!(
        rows,
        [
            (json!("#nl.wikipedia"), json!(445)),
            (json!("Norwegian"), json!(169))
        ]
    );
    let (status, body) = broker
        .post(
            "/druid/v2",
            &json!({"queryType": "timeseries", "dataSource": "wikipedia",
                    "intervals": ["2015-09-12/2015-09-13"], "granularity": "all",
                    "virtualColumns": [{"type": "expression", "name": "v0",
                                        "expression": "lookup(channel, 'nope')"}],
                    "aggregations": [{"type": "count", "name": "edits"}]}),
        )
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["errorMessage"], "Lookup [nope] not found");
}
