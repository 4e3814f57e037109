//! Query data sources: an outer query over the finalized result of an inner one.

use henge_query::run_over_result;
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

/// Runs the inner query on the wiki fixture, then the outer one over its result.
fn run_nested(outer: Value) -> Value {
    let outer = query(outer);
    let inner = outer.inner_query().expect("a query data source");
    let inner_result = run_json(inner.to_json(), &[("wiki_seg", &wiki())]);
    run_over_result(&outer, &inner_result).expect("outer query")
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
