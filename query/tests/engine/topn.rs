//! TopN: numeric, inverted and dimension orderings, null dimension values and null metrics.

use serde_json::json;

use crate::common::run_wiki;

fn topn(dimension: serde_json::Value, metric: serde_json::Value, threshold: u64) -> String {
    run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": dimension,
        "metric": metric,
        "threshold": threshold,
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    }))
}

#[test]
fn ranks_by_a_metric_largest_first() {
    assert_eq!(
        topn(json!("channel"), json!("added"), 2),
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"channel": "#en", "edits": 2, "added": 30},
            {"channel": "#de", "edits": 1, "added": 7},
        ]}])
        .to_string()
    );
}

#[test]
fn inverted_metric_ranks_smallest_first_with_null_dimension_values() {
    assert_eq!(
        topn(
            json!({"type": "default", "dimension": "channel", "outputName": "ch"}),
            json!({"type": "inverted", "metric": {"type": "numeric", "metric": "added"}}),
            3
        ),
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"ch": null, "edits": 1, "added": 1},
            {"ch": "#fr", "edits": 2, "added": 5},
            {"ch": "#de", "edits": 1, "added": 7},
        ]}])
        .to_string()
    );
}

#[test]
fn dimension_ordering_is_lexicographic_with_nulls_first() {
    assert_eq!(
        topn(
            json!("channel"),
            json!({"type": "dimension", "ordering": "lexicographic"}),
            3
        ),
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"channel": null, "edits": 1, "added": 1},
            {"channel": "#de", "edits": 1, "added": 7},
            {"channel": "#en", "edits": 2, "added": 30},
        ]}])
        .to_string()
    );
    assert_eq!(
        topn(
            json!("channel"),
            json!({"type": "dimension", "ordering": "lexicographic", "previousStop": "#de"}),
            5
        ),
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"channel": "#en", "edits": 2, "added": 30},
            {"channel": "#fr", "edits": 2, "added": 5},
        ]}])
        .to_string()
    );
}

#[test]
fn null_metrics_rank_last() {
    assert_eq!(
        topn(json!("user"), json!("added"), 10),
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"user": null, "edits": 2, "added": 27},
            {"user": "alice", "edits": 2, "added": 15},
            {"user": "carol", "edits": 1, "added": 1},
            {"user": "bob", "edits": 1, "added": null},
        ]}])
        .to_string()
    );
}

#[test]
fn filters_and_missing_dimensions() {
    let response = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": "nope",
        "metric": "edits",
        "threshold": 5,
        "filter": {"type": "selector", "dimension": "page", "value": "Apple"},
        "aggregations": [{"type": "count", "name": "edits"}],
    }));
    assert_eq!(
        response,
        r#"[{"timestamp":"2015-09-12T00:46:58.771Z","result":[{"nope":null,"edits":3}]}]"#
    );
    let nothing = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": "page",
        "metric": "edits",
        "threshold": 5,
        "filter": {"type": "selector", "dimension": "page", "value": "Durian"},
        "aggregations": [{"type": "count", "name": "edits"}],
    }));
    assert_eq!(
        nothing,
        r#"[{"timestamp":"2015-09-12T00:46:58.771Z","result":[]}]"#
    );
}

#[test]
fn hourly_buckets_rank_separately() {
    let response = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12T00:00:00Z/2015-09-12T02:00:00Z"],
        "granularity": "hour",
        "dimension": "page",
        "metric": "edits",
        "threshold": 1,
        "aggregations": [{"type": "count", "name": "edits"}],
    }));
    assert_eq!(
        response,
        json!([
            {"timestamp": "2015-09-12T00:00:00.000Z", "result": [{"page": "Apple", "edits": 1}]},
            {"timestamp": "2015-09-12T01:00:00.000Z", "result": [{"page": "Apple", "edits": 1}]},
        ])
        .to_string()
    );
}

#[test]
fn high_cardinality_dimensions_keep_the_best_values() {
    use henge_segment::{ColumnSpec, ColumnType, Value};

    use crate::common::{build, run_json};

    // 1500 pages; page i has (i * 7 % 13) + 1 edits, so counts tie a lot.
    let mut rows = Vec::new();
    let mut counts = Vec::new();
    for page in 0..1500 {
        let edits = (page * 7 % 13) + 1;
        counts.push((format!("page-{page:04}"), edits as i64));
        for edit in 0..edits {
            rows.push((
                1_442_016_000_000 + edit as i64,
                vec![Value::from(format!("page-{page:04}"))],
            ));
        }
    }
    let segment = build(
        vec![ColumnSpec::dimension("page", ColumnType::String)],
        &rows,
    );
    counts.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
    let expected: Vec<serde_json::Value> = counts[..5]
        .iter()
        .map(|(page, edits)| json!({"page": page, "edits": edits}))
        .collect();
    let response = run_json(
        json!({
            "queryType": "topN", "dataSource": "pages", "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all", "dimension": "page", "metric": "edits", "threshold": 5,
            "aggregations": [{"type": "count", "name": "edits"}],
        }),
        &[("pages", &segment)],
    );
    assert_eq!(response[0]["result"], json!(expected));
}
