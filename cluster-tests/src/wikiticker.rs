//! Druid's wikiticker quickstart data: its ingestion spec, the answers to a set of queries
//! computed independently from the raw file, and the check that a Henge endpoint gives them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::client::DruidClient;

pub const DATASOURCE: &str = "wikipedia";
pub const INTERVAL: &str = "2015-09-12/2015-09-13";

/// `../shared/data` beside the project.
pub fn shared_data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    dir.canonicalize().unwrap_or_else(|_| {
        panic!(
            "{} is missing: the tests read Druid's quickstart data from ../shared/data",
            dir.display()
        )
    })
}

/// Druid's quickstart spec with `baseDir` pointed at the shared data.
pub fn index_spec() -> Value {
    let dir = shared_data_dir();
    let text =
        std::fs::read_to_string(dir.join("wikipedia-index.json")).expect("wikipedia-index.json");
    let mut spec: Value = serde_json::from_str(&text).expect("spec is JSON");
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = json!(dir.display().to_string());
    spec
}

/// Answers computed from the raw file.
#[derive(Debug, Default)]
pub struct Expected {
    pub rows: u64,
    pub min_time: String,
    pub max_time: String,
    pub sum_added: i64,
    pub sum_deleted: i64,
    pub page_counts: BTreeMap<String, u64>,
    pub channel_counts: BTreeMap<String, u64>,
    /// Rows per hour, keyed by the hour's ISO start.
    pub hourly_counts: BTreeMap<String, u64>,
    pub en_rows: u64,
    pub en_added: i64,
}

impl Expected {
    pub fn compute() -> Expected {
        let file =
            std::fs::File::open(shared_data_dir().join("wikiticker-2015-09-12-sampled.json.gz"))
                .expect("wikiticker data");
        let reader = BufReader::new(flate2::read::GzDecoder::new(file));
        let mut expected = Expected::default();
        for line in reader.lines() {
            let line = line.expect("readable line");
            if line.trim().is_empty() {
                continue;
            }
            let row: Value = serde_json::from_str(&line).expect("wikiticker rows are JSON");
            let time = row["time"].as_str().expect("time").to_string();
            if expected.rows == 0 || time < expected.min_time {
                expected.min_time.clone_from(&time);
            }
            if time > expected.max_time {
                expected.max_time.clone_from(&time);
            }
            expected.rows += 1;
            let added = row["added"].as_i64().expect("added");
            expected.sum_added += added;
            expected.sum_deleted += row["deleted"].as_i64().expect("deleted");
            *expected
                .page_counts
                .entry(row["page"].as_str().expect("page").to_string())
                .or_default() += 1;
            let channel = row["channel"].as_str().expect("channel").to_string();
            if channel == "#en.wikipedia" {
                expected.en_rows += 1;
                expected.en_added += added;
            }
            *expected.channel_counts.entry(channel).or_default() += 1;
            let hour = format!("{}:00:00.000Z", &time[..13]);
            *expected.hourly_counts.entry(hour).or_default() += 1;
        }
        expected
    }

    /// Pages by count, descending.
    pub fn top_pages(&self) -> Vec<(String, u64)> {
        let mut pages: Vec<(String, u64)> = self
            .page_counts
            .iter()
            .map(|(page, count)| (page.clone(), *count))
            .collect();
        pages.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        pages
    }
}

fn count_and_added() -> Value {
    json!([
        {"type": "count", "name": "count"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
    ])
}

/// Every wikiticker question, answered by the Henge endpoint behind `client`.
pub async fn check(client: &DruidClient, expected: &Expected) {
    assert_eq!(expected.rows, 39_244, "the raw file changed");
    let totals = client
        .query(&json!({
            "queryType": "timeseries", "dataSource": DATASOURCE, "intervals": [INTERVAL],
            "granularity": "all", "aggregations": count_and_added(),
        }))
        .await;
    assert_eq!(
        totals,
        json!([{"timestamp": expected.min_time, "result": {"count": expected.rows, "added": expected.sum_added}}])
    );

    let boundary = client
        .query(&json!({"queryType": "timeBoundary", "dataSource": DATASOURCE}))
        .await;
    assert_eq!(
        boundary,
        json!([{"timestamp": expected.min_time, "result": {"minTime": expected.min_time, "maxTime": expected.max_time}}])
    );

    let top = client
        .query(&json!({
            "queryType": "topN", "dataSource": DATASOURCE, "intervals": [INTERVAL], "granularity": "all",
            "dimension": "page", "metric": "count", "threshold": 10,
            "aggregations": [{"type": "count", "name": "count"}],
        }))
        .await;
    assert_eq!(top[0]["timestamp"], json!(expected.min_time));
    let entries = top[0]["result"].as_array().expect("topN result list");
    assert_eq!(entries.len(), 10);
    let expected_top = expected.top_pages();
    assert_eq!(
        entries[0],
        json!({"page": expected_top[0].0, "count": expected_top[0].1})
    );
    for (rank, entry) in entries.iter().enumerate() {
        let page = entry["page"].as_str().expect("page");
        assert_eq!(
            entry["count"],
            json!(expected.page_counts[page]),
            "count of {page}"
        );
        assert_eq!(
            entry["count"],
            json!(expected_top[rank].1),
            "count at rank {rank}"
        );
    }

    let channels = client
        .query(&json!({
            "queryType": "groupBy", "dataSource": DATASOURCE, "intervals": [INTERVAL], "granularity": "all",
            "dimensions": ["channel"], "aggregations": [{"type": "count", "name": "count"}],
        }))
        .await;
    let rows = channels.as_array().expect("groupBy rows");
    assert_eq!(rows.len(), expected.channel_counts.len());
    for ((channel, count), row) in expected.channel_counts.iter().zip(rows) {
        assert_eq!(
            row,
            &json!({"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z", "event": {"channel": channel, "count": count}})
        );
    }

    let hourly = client
        .query(&json!({
            "queryType": "timeseries", "dataSource": DATASOURCE, "intervals": [INTERVAL], "granularity": "hour",
            "aggregations": [{"type": "count", "name": "count"}],
        }))
        .await;
    let buckets = hourly.as_array().expect("timeseries buckets");
    assert_eq!(buckets.len(), 24);
    for bucket in buckets {
        let hour = bucket["timestamp"].as_str().expect("timestamp");
        let count = expected.hourly_counts.get(hour).copied().unwrap_or(0);
        assert_eq!(bucket["result"]["count"], json!(count), "hour {hour}");
    }

    let english = client
        .query(&json!({
            "queryType": "timeseries", "dataSource": DATASOURCE, "intervals": [INTERVAL], "granularity": "all",
            "filter": {"type": "selector", "dimension": "channel", "value": "#en.wikipedia"},
            "aggregations": count_and_added(),
        }))
        .await;
    assert_eq!(
        english[0]["result"],
        json!({"count": expected.en_rows, "added": expected.en_added})
    );

    let scan = client
        .query(&json!({
            "queryType": "scan", "dataSource": DATASOURCE, "intervals": [INTERVAL],
            "columns": ["__time", "page"], "limit": 3,
        }))
        .await;
    let events: usize = scan
        .as_array()
        .expect("scan batches")
        .iter()
        .map(|batch| batch["events"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(events, 3);
}
