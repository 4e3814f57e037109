//! GroupBy having specs (every form, over dimensions, aggregators and post-aggregators),
//! limit-spec offsets and the alphanumeric and strlen dimension orders.

use henge_segment::{ColumnSpec, ColumnType, Value as Cell};
use serde_json::{json, Value};

use crate::common::{build, run_json, run_wiki, ts};

/// GroupBy over `channel` with `edits`, `added` and the post-aggregator `perEdit`.
fn group_by(extra: Value) -> Vec<Value> {
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
        "postAggregations": [{"type": "arithmetic", "name": "perEdit", "fn": "/", "fields": [
            {"type": "fieldAccess", "fieldName": "added"},
            {"type": "fieldAccess", "fieldName": "edits"},
        ]}],
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    let response: Value = serde_json::from_str(&run_wiki(request)).unwrap();
    response
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["event"]["channel"].clone())
        .collect()
}

fn having(spec: Value) -> Vec<Value> {
    group_by(json!({"having": spec}))
}

// Groups: null (1 edit, added 1), #de (1, 7), #en (2, 30), #fr (2, 5).

#[test]
fn numeric_comparisons() {
    let compare = |kind: &str, column: &str, value: Value| {
        having(json!({"type": kind, "aggregation": column, "value": value}))
    };
    assert_eq!(
        compare("greaterThan", "edits", json!(1)),
        [json!("#en"), json!("#fr")]
    );
    assert_eq!(compare("equalTo", "added", json!(7)), [json!("#de")]);
    assert_eq!(compare("equalTo", "added", json!(7.0)), [json!("#de")]);
    assert_eq!(
        compare("lessThan", "perEdit", json!("7.5")),
        [Value::Null, json!("#de"), json!("#fr")]
    );
    assert_eq!(
        compare("lessThan", "unknown", json!(100)),
        Vec::<Value>::new()
    );
}

#[test]
fn dim_selector_and_boolean_specs() {
    assert_eq!(
        having(json!({"type": "dimSelector", "dimension": "channel", "value": "#fr"})),
        [json!("#fr")]
    );
    assert_eq!(
        having(json!({"type": "dimSelector", "dimension": "channel", "value": null})),
        [Value::Null]
    );
    let big = json!({"type": "greaterThan", "aggregation": "added", "value": 6});
    let single = json!({"type": "equalTo", "aggregation": "edits", "value": 1});
    assert_eq!(
        having(json!({"type": "and", "havingSpecs": [big, single]})),
        [json!("#de")]
    );
    assert_eq!(
        having(json!({"type": "or", "havingSpecs": [big, single]})),
        [Value::Null, json!("#de"), json!("#en")]
    );
    // `not` over having specs is two-valued: the null-channel group passes.
    assert_eq!(
        having(json!({"type": "not", "havingSpec":
            {"type": "dimSelector", "dimension": "channel", "value": "#fr"}})),
        [Value::Null, json!("#de"), json!("#en")]
    );
    assert_eq!(having(json!({"type": "never"})), Vec::<Value>::new());
    assert_eq!(having(json!({"type": "always"})).len(), 4);
}

#[test]
fn filter_having_uses_query_filters_with_three_valued_logic() {
    let filter = |filter: Value| having(json!({"type": "filter", "filter": filter}));
    assert_eq!(
        filter(
            json!({"type": "bound", "dimension": "added", "lower": "5", "upper": "10",
                      "ordering": "numeric"})
        ),
        [json!("#de"), json!("#fr")]
    );
    assert_eq!(
        filter(json!({"type": "selector", "dimension": "perEdit", "value": "15"})),
        [json!("#en")]
    );
    // The null channel is unknown for `not(channel = '#en')` and is dropped.
    assert_eq!(
        filter(json!({"type": "not", "field":
            {"type": "equals", "column": "channel", "matchValueType": "STRING", "matchValue": "#en"}})),
        [json!("#de"), json!("#fr")]
    );
    assert_eq!(
        filter(json!({"type": "like", "dimension": "channel", "pattern": "#_n"})),
        [json!("#en")]
    );
}

#[test]
fn having_applies_before_limit_and_offset() {
    let rows = group_by(json!({
        "having": {"type": "greaterThan", "aggregation": "added", "value": 1},
        "limitSpec": {"type": "default", "offset": 1, "limit": 1, "columns": [
            {"dimension": "added", "direction": "descending"}
        ]},
    }));
    assert_eq!(rows, [json!("#de")]);
}

#[test]
fn dimension_orders() {
    let schema = vec![ColumnSpec::dimension("name", ColumnType::String)];
    let names = ["a10", "a9", "b", "a09", "ccc", "a1"];
    let rows: Vec<(i64, Vec<Cell>)> = names
        .iter()
        .map(|name| (ts("2015-09-12T00:00:00Z"), vec![Cell::from(Some(*name))]))
        .collect();
    let segment = build(schema, &rows);
    let order = |dimension_order: &str| -> Vec<Value> {
        let response = run_json(
            json!({
                "queryType": "groupBy",
                "dataSource": "names",
                "intervals": ["2015-09-12/2015-09-13"],
                "granularity": "all",
                "dimensions": ["name"],
                "aggregations": [],
                "limitSpec": {"type": "default", "columns": [
                    {"dimension": "name", "dimensionOrder": dimension_order}
                ]},
            }),
            &[("names", &segment)],
        );
        response
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["event"]["name"].clone())
            .collect()
    };
    assert_eq!(
        order("lexicographic"),
        json!(["a09", "a1", "a10", "a9", "b", "ccc"])
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(
        order("alphanumeric"),
        json!(["a1", "a9", "a09", "a10", "b", "ccc"])
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(
        order("strlen"),
        json!(["b", "a1", "a9", "a09", "a10", "ccc"])
            .as_array()
            .unwrap()
            .clone()
    );
    let bound = json!({"type": "bound", "dimension": "name", "lower": "a2", "upper": "a09",
                       "ordering": "alphanumeric"});
    let response = run_json(
        json!({
            "queryType": "scan", "dataSource": "names", "intervals": ["2015-09-12/2015-09-13"],
            "columns": ["name"], "resultFormat": "compactedList", "filter": bound,
        }),
        &[("names", &segment)],
    );
    assert_eq!(response[0]["events"], json!([["a09"], ["a9"]]));
}
