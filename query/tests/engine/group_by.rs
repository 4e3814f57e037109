//! GroupBy: natural ordering, limit specs, time buckets, multiple dimensions with nulls and
//! the summary row of dimensionless queries.

use henge_query::empty_result;
use serde_json::json;

use crate::common::{query, run_wiki};

fn group_by(extra: serde_json::Value) -> String {
    let mut request = json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel"],
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    run_wiki(request)
}

fn row(timestamp: &str, event: serde_json::Value) -> serde_json::Value {
    json!({"version": "v1", "timestamp": timestamp, "event": event})
}

#[test]
fn rows_are_ordered_by_dimension_values_nulls_first() {
    let start = "2015-09-12T00:00:00.000Z";
    assert_eq!(
        group_by(json!({})),
        json!([
            row(start, json!({"added": 1, "edits": 1, "channel": null})),
            row(start, json!({"added": 7, "edits": 1, "channel": "#de"})),
            row(start, json!({"added": 30, "edits": 2, "channel": "#en"})),
            row(start, json!({"added": 5, "edits": 2, "channel": "#fr"})),
        ])
        .to_string()
    );
}

#[test]
fn limit_spec_orders_by_aggregates_and_dimensions() {
    let start = "2015-09-12T00:00:00.000Z";
    assert_eq!(
        group_by(json!({"limitSpec": {
            "type": "default",
            "limit": 2,
            "columns": [{"dimension": "added", "direction": "descending"}],
        }})),
        json!([
            row(start, json!({"added": 30, "edits": 2, "channel": "#en"})),
            row(start, json!({"added": 7, "edits": 1, "channel": "#de"})),
        ])
        .to_string()
    );
    // Ties on `edits` keep the natural (dimension) order; offset skips after sorting.
    assert_eq!(
        group_by(json!({"limitSpec": {
            "type": "default",
            "offset": 1,
            "columns": [{"dimension": "edits", "direction": "desc"}, "channel"],
        }})),
        json!([
            row(start, json!({"added": 5, "edits": 2, "channel": "#fr"})),
            row(start, json!({"added": 1, "edits": 1, "channel": null})),
            row(start, json!({"added": 7, "edits": 1, "channel": "#de"})),
        ])
        .to_string()
    );
}

#[test]
fn hourly_groups_are_ordered_by_time_first() {
    assert_eq!(
        group_by(json!({"granularity": "hour"})),
        json!([
            row(
                "2015-09-12T00:00:00.000Z",
                json!({"added": 30, "edits": 2, "channel": "#en"})
            ),
            row(
                "2015-09-12T01:00:00.000Z",
                json!({"added": 5, "edits": 2, "channel": "#fr"})
            ),
            row(
                "2015-09-12T03:00:00.000Z",
                json!({"added": 1, "edits": 1, "channel": null})
            ),
            row(
                "2015-09-12T03:00:00.000Z",
                json!({"added": 7, "edits": 1, "channel": "#de"})
            ),
        ])
        .to_string()
    );
}

#[test]
fn several_dimensions_with_nulls_and_missing_columns() {
    let start = "2015-09-12T00:00:00.000Z";
    let response = group_by(json!({
        "dimensions": ["channel", {"type": "default", "dimension": "user", "outputName": "who"}, "nope"],
        "filter": {"type": "in", "dimension": "channel", "values": ["#en", "#fr"]},
    }));
    assert_eq!(
        response,
        json!([
            row(
                start,
                json!({"nope": null, "added": 20, "edits": 1, "channel": "#en", "who": null})
            ),
            row(
                start,
                json!({"nope": null, "added": 10, "edits": 1, "channel": "#en", "who": "alice"})
            ),
            row(
                start,
                json!({"nope": null, "added": 5, "edits": 1, "channel": "#fr", "who": "alice"})
            ),
            row(
                start,
                json!({"nope": null, "added": null, "edits": 1, "channel": "#fr", "who": "bob"})
            ),
        ])
        .to_string()
    );
}

#[test]
fn dimensionless_queries_return_a_summary_row_over_no_data() {
    let request = json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "filter": {"type": "selector", "dimension": "page", "value": "Durian"},
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    });
    let expected = r#"[{"version":"v1","timestamp":"2015-09-12T00:00:00.000Z","event":{"added":null,"edits":0}}]"#;
    assert_eq!(run_wiki(request.clone()), expected);
    assert_eq!(empty_result(&query(request)).to_string(), expected);
    let with_dimension = query(json!({
        "queryType": "groupBy", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all", "dimensions": ["page"],
    }));
    assert_eq!(empty_result(&with_dimension), json!([]));
}

#[test]
fn subtotals_concatenate_one_grouping_per_spec() {
    let response = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel", "user"],
        "aggregations": [{"type": "count", "name": "rows"}],
        "subtotalsSpec": [["channel", "user"], ["channel"], []],
    }));
    let row = |channel: serde_json::Value, user: serde_json::Value, rows: u64| {
        json!({"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z",
               "event": {"channel": channel, "rows": rows, "user": user}})
    };
    let null = serde_json::Value::Null;
    assert_eq!(
        response,
        json!([
            row(null.clone(), json!("carol"), 1),
            row(json!("#de"), null.clone(), 1),
            row(json!("#en"), null.clone(), 1),
            row(json!("#en"), json!("alice"), 1),
            row(json!("#fr"), json!("alice"), 1),
            row(json!("#fr"), json!("bob"), 1),
            row(null.clone(), null.clone(), 1),
            row(json!("#de"), null.clone(), 1),
            row(json!("#en"), null.clone(), 2),
            row(json!("#fr"), null.clone(), 2),
            row(null.clone(), null.clone(), 6),
        ])
        .to_string()
    );
    // An order on a dimension a subtotal drops is dropped for that subtotal only.
    let ordered = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel", "user"],
        "aggregations": [{"type": "count", "name": "rows"}],
        "limitSpec": {"type": "default", "limit": 2,
                      "columns": [{"dimension": "user", "direction": "descending"}, "rows"]},
        "subtotalsSpec": [["user"], ["channel"]],
    }));
    assert_eq!(
        ordered,
        json!([
            row(null.clone(), json!("carol"), 1),
            row(null.clone(), json!("bob"), 1),
            row(null.clone(), null.clone(), 1),
            row(json!("#de"), null.clone(), 1),
        ])
        .to_string()
    );
    let bad = henge_query::parse_query(
        json!({"queryType": "groupBy", "dataSource": "wiki", "intervals": "2015/2016",
               "granularity": "all", "dimensions": ["channel"],
               "subtotalsSpec": [["page"]]})
        .to_string()
        .as_bytes(),
        &henge_query::Limits::default(),
    )
    .unwrap_err();
    assert_eq!(bad.status, 400);
}

/// A LIMIT far below the group count selects the first rows before sorting them; ties on the
/// ordering column still fall back to the natural (dimension) order, as the full stable sort
/// does. Twenty groups `g00`..`g19` hold `i % 3 + 1` rows each, so six groups tie at 3.
#[test]
fn a_small_limit_keeps_the_stable_order_of_ties() {
    use henge_segment::{ColumnSpec, ColumnType, Value};

    let mut rows = Vec::new();
    for group in 0..20 {
        for _ in 0..(group % 3 + 1) {
            rows.push((0i64, vec![Value::from(format!("g{group:02}"))]));
        }
    }
    let segment = crate::common::build(vec![ColumnSpec::dimension("g", ColumnType::String)], &rows);
    let limited = |limit: u64, offset: u64| {
        let response = crate::common::run_json(
            json!({
                "queryType": "groupBy", "dataSource": "t", "intervals": ["1970/1971"],
                "granularity": "all", "dimensions": ["g"],
                "aggregations": [{"type": "count", "name": "n"}],
                "limitSpec": {"type": "default", "limit": limit, "offset": offset,
                              "columns": [{"dimension": "n", "direction": "descending",
                                           "dimensionOrder": "numeric"}]},
            }),
            &[("t_seg", &segment)],
        );
        response
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| row["event"]["g"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(limited(3, 0), ["g02", "g05", "g08"]);
    assert_eq!(limited(3, 1), ["g05", "g08", "g11"]);
    assert_eq!(
        limited(8, 4),
        ["g14", "g17", "g01", "g04", "g07", "g10", "g13", "g16"]
    );
}
