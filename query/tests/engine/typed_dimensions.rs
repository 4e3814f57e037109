//! Grouping on long, double and `__time` columns and dimension `outputType`s
//! (`docs/querying/dimensionspecs.md`, "Output Types"): values render as Druid's strings by
//! default (`10`, `1.5`, `-2.0`) and sort lexicographically; numeric outputs print as numbers
//! and sort by value; null numeric values group as null.

use serde_json::{json, Value};

use crate::common::{run_json, run_wiki, wiki_segment, WIKI_ROWS};

const START: &str = "2015-09-12T00:00:00.000Z";

fn group_by(dimension: Value, extra: Value) -> Value {
    let mut request = json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": [dimension],
        "aggregations": [{"type": "count", "name": "edits"}],
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    request
}

/// The `(dimension value, edits)` pairs of a groupBy response over one output column `d`.
fn groups(response: &str) -> Vec<(Value, i64)> {
    let rows: Vec<Value> = serde_json::from_str(response).unwrap();
    rows.iter()
        .map(|row| {
            assert_eq!(row["timestamp"], START);
            (
                row["event"]["d"].clone(),
                row["event"]["edits"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn dim(dimension: &str, output_type: Option<&str>) -> Value {
    let mut spec = json!({"type": "default", "dimension": dimension, "outputName": "d"});
    if let Some(output_type) = output_type {
        spec["outputType"] = json!(output_type);
    }
    spec
}

fn values(groups: Vec<(Value, i64)>) -> String {
    Value::Array(groups.into_iter().map(|(value, _)| value).collect()).to_string()
}

#[test]
fn long_column_groups_as_strings_by_default() {
    let response = run_wiki(group_by(dim("added", None), json!({})));
    assert_eq!(
        response,
        json!([
            {"version": "v1", "timestamp": START, "event": {"d": null, "edits": 1}},
            {"version": "v1", "timestamp": START, "event": {"d": "1", "edits": 1}},
            {"version": "v1", "timestamp": START, "event": {"d": "10", "edits": 1}},
            {"version": "v1", "timestamp": START, "event": {"d": "20", "edits": 1}},
            {"version": "v1", "timestamp": START, "event": {"d": "5", "edits": 1}},
            {"version": "v1", "timestamp": START, "event": {"d": "7", "edits": 1}},
        ])
        .to_string()
    );
}

#[test]
fn long_column_with_long_output_sorts_numerically() {
    let response = run_wiki(group_by(dim("added", Some("LONG")), json!({})));
    assert_eq!(values(groups(&response)), "[null,1,5,7,10,20]");
    let descending = run_wiki(group_by(
        dim("added", Some("LONG")),
        json!({"limitSpec": {"type": "default", "limit": 3,
                             "columns": [{"dimension": "d", "direction": "descending"}]}}),
    ));
    assert_eq!(values(groups(&descending)), "[20,10,7]");
    let as_double = run_wiki(group_by(dim("added", Some("DOUBLE")), json!({})));
    assert_eq!(values(groups(&as_double)), "[null,1.0,5.0,7.0,10.0,20.0]");
}

#[test]
fn double_column_renders_like_java_and_converts() {
    let strings = run_wiki(group_by(dim("delta", None), json!({})));
    assert_eq!(
        values(groups(&strings)),
        r#"[null,"-2.0","0.5","1.5","3.0","4.0"]"#
    );
    let floats = run_wiki(group_by(dim("delta", Some("FLOAT")), json!({})));
    assert_eq!(values(groups(&floats)), "[null,-2.0,0.5,1.5,3.0,4.0]");
    let longs = run_wiki(group_by(dim("delta", Some("LONG")), json!({})));
    assert_eq!(values(groups(&longs)), "[null,-2,0,1,3,4]");
}

#[test]
fn string_column_with_long_output_merges_values_that_convert_alike() {
    // rank: "10", "9", "x", "100", null, "2"; "x" is not a number, so it joins null.
    let response = run_wiki(group_by(dim("rank", Some("LONG")), json!({})));
    assert_eq!(
        groups(&response),
        vec![
            (Value::Null, 2),
            (json!(2), 1),
            (json!(9), 1),
            (json!(10), 1),
            (json!(100), 1)
        ]
    );
}

#[test]
fn time_column_groups_by_row_time() {
    let filter = json!({"filter": {"type": "selector", "dimension": "channel", "value": "#en"}});
    let strings = run_wiki(group_by(dim("__time", None), filter.clone()));
    assert_eq!(
        values(groups(&strings)),
        r#"["1442018818771","1442019000000"]"#
    );
    let longs = run_wiki(group_by(dim("__time", Some("LONG")), filter));
    assert_eq!(values(groups(&longs)), "[1442018818771,1442019000000]");
}

#[test]
fn groups_merge_across_segments() {
    let first = wiki_segment(&WIKI_ROWS[..3]);
    let second = wiki_segment(&WIKI_ROWS[3..]);
    let mut rows = WIKI_ROWS;
    rows[4].5 = Some(10);
    let with_repeat = wiki_segment(&rows[3..]);
    let query = group_by(dim("added", Some("LONG")), json!({}));
    let split = run_json(query.clone(), &[("a", &first), ("b", &second)]);
    assert_eq!(values(groups(&split.to_string())), "[null,1,5,7,10,20]");
    let merged = run_json(query, &[("a", &first), ("b", &with_repeat)]);
    assert_eq!(
        groups(&merged.to_string()),
        vec![
            (Value::Null, 1),
            (json!(1), 1),
            (json!(5), 1),
            (json!(10), 2),
            (json!(20), 1)
        ]
    );
}

fn top_n(dimension: Value) -> String {
    run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": dimension,
        "metric": "edits",
        "threshold": 4,
        "aggregations": [{"type": "count", "name": "edits"},
                         {"type": "doubleSum", "name": "delta", "fieldName": "delta"}],
    }))
}

#[test]
fn topn_on_numeric_columns_breaks_ties_in_output_order() {
    let timestamp = "2015-09-12T00:46:58.771Z";
    assert_eq!(
        top_n(dim("added", None)),
        json!([{"timestamp": timestamp, "result": [
            {"d": null, "edits": 1, "delta": 3.0},
            {"d": "1", "edits": 1, "delta": 4.0},
            {"d": "10", "edits": 1, "delta": 1.5},
            {"d": "20", "edits": 1, "delta": -2.0},
        ]}])
        .to_string()
    );
    assert_eq!(
        top_n(dim("added", Some("LONG"))),
        json!([{"timestamp": timestamp, "result": [
            {"d": null, "edits": 1, "delta": 3.0},
            {"d": 1, "edits": 1, "delta": 4.0},
            {"d": 5, "edits": 1, "delta": null},
            {"d": 7, "edits": 1, "delta": 0.5},
        ]}])
        .to_string()
    );
}

#[test]
fn topn_by_metric_on_double_column() {
    let response = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": {"type": "default", "dimension": "delta", "outputName": "d",
                      "outputType": "DOUBLE"},
        "metric": "added",
        "threshold": 2,
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"d": -2.0, "added": 20},
            {"d": 1.5, "added": 10},
        ]}])
        .to_string()
    );
}
