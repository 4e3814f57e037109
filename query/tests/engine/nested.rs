//! Query data sources: an outer query over the finalized result of an inner one.

use henge_query::{merge, run_on_segment, run_over_partial, run_over_result};
use serde_json::{json, Value};

use crate::common::{query, run_json, wiki};

fn inner_group_by() -> Value {
    json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel", "user"],
        "aggregations": [{"type": "count", "name": "rows"},
                         {"type": "doubleSum", "name": "delta", "fieldName": "delta"}],
    })
}

/// Runs the inner query on the wiki fixture, then the outer one over its result; for an
/// inner groupBy, also over its merged partial (the broker's path), which must answer the same.
fn run_nested(outer: Value) -> Value {
    let outer = query(outer);
    let inner = outer.inner_query().expect("a query data source");
    let inner_result = run_json(inner.to_json(), &[("wiki_seg", &wiki())]);
    let response = run_over_result(&outer, &inner_result).expect("outer query");
    if inner.query_type() == "groupBy" {
        let partial = run_on_segment(inner, &wiki(), "wiki_seg").expect("inner query");
        let merged = merge(inner, vec![partial]).expect("merge");
        let handed_off = run_over_partial(&outer, merged).expect("outer query over the partial");
        assert_eq!(
            handed_off, response,
            "the partial hand-off answers differently"
        );
    }
    response
}

#[test]
fn group_by_over_group_by_counts_inner_groups() {
    let response = run_nested(json!({
        "queryType": "groupBy",
        "dataSource": {"type": "query", "query": inner_group_by()},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel"],
        "aggregations": [{"type": "count", "name": "users"},
                         {"type": "longSum", "name": "edits", "fieldName": "rows"},
                         {"type": "doubleMax", "name": "maxDelta", "fieldName": "delta"}],
    }));
    // Inner groups (channel, user): (null, carol), (#de, null), (#en, null), (#en, alice),
    // (#fr, alice), (#fr, bob); deltas 4.0, 0.5, -2.0, 1.5, null, 3.0.
    let row = |channel: Value, users: u64, edits: u64, max_delta: Value| {
        json!({"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z",
               "event": {"channel": channel, "users": users, "edits": edits,
                         "maxDelta": max_delta}})
    };
    assert_eq!(
        response,
        json!([
            row(Value::Null, 1, 1, json!(4.0)),
            row(json!("#de"), 1, 1, json!(0.5)),
            row(json!("#en"), 2, 2, json!(1.5)),
            row(json!("#fr"), 2, 2, json!(3.0)),
        ])
    );
}

#[test]
fn timeseries_over_group_by_with_a_filter_on_an_inner_aggregate() {
    let response = run_nested(json!({
        "queryType": "timeseries",
        "dataSource": {"type": "query", "query": inner_group_by()},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "filter": {"type": "range", "column": "delta", "matchValueType": "DOUBLE",
                   "lower": 1.0},
        "aggregations": [{"type": "count", "name": "groups"}],
    }));
    // Groups with delta >= 1.0: carol (4.0), alice on #en (1.5), bob (3.0).
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:00:00.000Z", "result": {"groups": 3}}])
    );
}

#[test]
fn nested_twice_and_the_subquery_row_limit() {
    let middle = json!({
        "queryType": "groupBy",
        "dataSource": {"type": "query", "query": inner_group_by()},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel"],
        "aggregations": [{"type": "count", "name": "users"}],
    });
    let outer = json!({
        "queryType": "groupBy",
        "dataSource": {"type": "query", "query": middle},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": [{"type": "default", "dimension": "users", "outputType": "LONG"}],
        "aggregations": [{"type": "count", "name": "channels"}],
    });
    let parsed = query(outer.clone());
    assert_eq!(parsed.datasource(), "wiki");
    let middle_query = parsed.inner_query().unwrap();
    let innermost = run_json(
        middle_query.inner_query().unwrap().to_json(),
        &[("wiki_seg", &wiki())],
    );
    let middle_result = run_over_result(middle_query, &innermost).unwrap();
    let response = run_over_result(&parsed, &middle_result).unwrap();
    assert_eq!(
        response,
        json!([
            {"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z",
             "event": {"users": 1, "channels": 2}},
            {"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z",
             "event": {"users": 2, "channels": 2}},
        ])
    );
    let mut limited = query(json!({
        "queryType": "timeseries",
        "dataSource": {"type": "query", "query": inner_group_by()},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "groups"}],
        "context": {"maxSubqueryRows": 5},
    }));
    let inner_result = run_json(
        limited.inner_query().unwrap().to_json(),
        &[("wiki_seg", &wiki())],
    );
    let error = run_over_result(&limited, &inner_result).unwrap_err();
    assert_eq!(error.error, "Resource limit exceeded");
    limited = query(json!({"queryType": "timeseries", "dataSource": "wiki",
                           "intervals": ["2015-09-12/2015-09-13"], "granularity": "all"}));
    assert!(run_over_result(&limited, &inner_result).is_err());
}

#[test]
fn subqueries_take_the_outer_execution_context_keys_they_lack() {
    let mut inner = inner_group_by();
    inner["context"] = json!({"priority": 5});
    let outer = query(json!({
        "queryType": "timeseries",
        "dataSource": {"type": "query", "query": inner},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "groups"}],
        "context": {"useCache": false, "priority": 1, "grandTotal": true},
    }));
    let inner = outer.inner_query().expect("a query data source");
    // Forwarded to data nodes as well: the JSON carries the same context.
    for context in [
        inner.context().clone(),
        inner.to_json()["context"]
            .clone()
            .as_object()
            .unwrap()
            .clone(),
    ] {
        assert_eq!(context.get("useCache"), Some(&json!(false)));
        // The inner query's own value wins; result-shaping keys stay with the outer query.
        assert_eq!(context.get("priority"), Some(&json!(5)));
        assert_eq!(context.get("grandTotal"), None);
    }
}

#[test]
fn outer_queries_over_finished_inner_groups_see_having_limits_posts_and_subtotals() {
    let inner = json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "hour",
        "dimensions": ["channel", {"type": "default", "dimension": "added",
                                   "outputName": "addedKey", "outputType": "LONG"}],
        "aggregations": [{"type": "count", "name": "rows"},
                         {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
                         {"type": "HLLSketchBuild", "name": "users", "fieldName": "user"}],
        "postAggregations": [{"type": "arithmetic", "name": "twice", "fn": "*",
                              "fields": [{"type": "fieldAccess", "fieldName": "rows"},
                                         {"type": "constant", "value": 2}]}],
        "having": {"type": "greaterThan", "aggregation": "rows", "value": 0},
        "limitSpec": {"type": "default", "limit": 5,
                      "columns": [{"dimension": "delta", "direction": "descending",
                                   "dimensionOrder": "numeric"}]},
    });
    let response = run_nested(json!({
        "queryType": "groupBy",
        "dataSource": {"type": "query", "query": inner},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel"],
        "aggregations": [{"type": "count", "name": "groups"},
                         {"type": "longSum", "name": "twice", "fieldName": "twice"},
                         {"type": "longSum", "name": "added", "fieldName": "addedKey"},
                         {"type": "doubleSum", "name": "users", "fieldName": "users"}],
    }));
    assert!(!response.as_array().expect("rows").is_empty());
    let mut with_subtotals = inner_group_by();
    with_subtotals["subtotalsSpec"] = json!([["channel"], []]);
    let response = run_nested(json!({
        "queryType": "scan",
        "dataSource": {"type": "query", "query": with_subtotals},
        "intervals": ["2015-09-12/2015-09-13"],
        "columns": ["channel", "user", "rows", "delta"],
    }));
    assert!(!response.as_array().expect("batches").is_empty());
}

#[test]
fn an_outer_query_reading_no_inner_column_counts_rows() {
    // Neither query names an inner column: the subquery segment holds times only.
    let response = run_nested(json!({
        "queryType": "timeseries",
        "dataSource": {"type": "query", "query": inner_group_by()},
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "groups"}],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:00:00.000Z", "result": {"groups": 6}}])
    );
}
