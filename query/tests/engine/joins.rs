//! Join, inline and lookup data sources. Expected rows come from the six `wiki` fixture rows
//! (common.rs), worked out by hand:
//! 1 #en Apple alice added 10 · 2 #en Banana (null) 20 · 3 #fr Apple bob (null) ·
//! 4 #fr Cherry alice 5 · 5 #de Apple (null) 7 · 6 (null) Banana carol 1.

use std::collections::BTreeMap;
use std::sync::Arc;

use henge_query::{parse_query, run_local, Limits, Lookups, QueryError};
use serde_json::{json, Value};

use crate::common::{query, run_json, wiki};

const INTERVAL: &str = "2015-09-12/2015-09-13";

fn languages() -> Value {
    json!({"type": "inline", "columnNames": ["chan", "lang"], "columnTypes": ["STRING", "STRING"],
           "rows": [["#en", "English"], ["#fr", "French"], ["#xx", "nobody"]]})
}

fn by_language(join_type: &str) -> Value {
    json!({
        "queryType": "groupBy",
        "dataSource": {"type": "join", "left": "wiki", "right": languages(),
                       "rightPrefix": "j0.", "condition": "(\"channel\" == \"j0.chan\")",
                       "joinType": join_type},
        "intervals": [INTERVAL], "granularity": "all",
        "dimensions": ["j0.lang"],
        "aggregations": [{"type": "count", "name": "rows"},
                         {"type": "longSum", "name": "added", "fieldName": "added"}],
    })
}

fn group(lang: Value, rows: u64, added: i64) -> Value {
    json!({"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z",
           "event": {"j0.lang": lang, "rows": rows, "added": added}})
}

fn error_of(body: Value) -> QueryError {
    parse_query(body.to_string().as_bytes(), &Limits::default()).expect_err("must be refused")
}

#[test]
fn inner_join_with_an_inline_table_drops_unmatched_rows() {
    let response = run_json(by_language("INNER"), &[("wiki_seg", &wiki())]);
    // #en: rows 1, 2 (10 + 20); #fr: rows 3, 4 (null + 5). #de and the null channel drop.
    assert_eq!(
        response,
        json!([group(json!("English"), 2, 30), group(json!("French"), 2, 5)])
    );
}

#[test]
fn left_join_keeps_unmatched_rows_with_nulls_and_null_keys_never_match() {
    let response = run_json(by_language("LEFT"), &[("wiki_seg", &wiki())]);
    // Rows 5 (#de) and 6 (null channel) have no language: 7 + 1.
    assert_eq!(
        response,
        json!([
            group(Value::Null, 2, 8),
            group(json!("English"), 2, 30),
            group(json!("French"), 2, 5)
        ])
    );
}

#[test]
fn a_query_right_side_runs_first_and_travels_as_inline_rows() {
    let pages = json!({
        "queryType": "groupBy", "dataSource": "wiki", "intervals": [INTERVAL],
        "granularity": "all", "dimensions": ["page"],
        "aggregations": [{"type": "count", "name": "edits"}],
    });
    let outer = query(json!({
        "queryType": "groupBy",
        "dataSource": {"type": "join", "left": {"type": "table", "name": "wiki"},
                       "right": {"type": "query", "query": pages},
                       "rightPrefix": "p.", "condition": "\"page\" == \"p.page\"",
                       "joinType": "INNER"},
        "intervals": [INTERVAL], "granularity": "all",
        "dimensions": ["user"],
        "aggregations": [{"type": "longSum", "name": "pageEdits", "fieldName": "p.edits"}],
    }));
    assert_eq!(outer.datasource(), "wiki");
    let inner = outer.join_subqueries();
    assert_eq!(inner.len(), 1);
    let inner_result = run_json(inner[0].to_json(), &[("wiki_seg", &wiki())]);
    let broadcast = outer.with_join_results(&[inner_result]).expect("rows fit");
    assert!(broadcast.join_subqueries().is_empty());
    let forwarded = broadcast.to_json();
    assert_eq!(
        forwarded.pointer("/dataSource/right/type"),
        Some(&json!("inline"))
    );
    assert_eq!(
        forwarded.pointer("/dataSource/right/columnNames"),
        Some(&json!(["page", "edits"]))
    );
    // Apple 3 edits, Banana 2, Cherry 1. Users: (null) rows 2 + 5 = 2 + 3; alice rows 1 + 4
    // = 3 + 1; bob row 3 = 3; carol row 6 = 2.
    let response = run_json(forwarded, &[("wiki_seg", &wiki())]);
    let row = |user: Value, edits: i64| {
        json!({"version": "v1", "timestamp": "2015-09-12T00:00:00.000Z",
               "event": {"user": user, "pageEdits": edits}})
    };
    assert_eq!(
        response,
        json!([
            row(Value::Null, 5),
            row(json!("alice"), 4),
            row(json!("bob"), 3),
            row(json!("carol"), 2)
        ])
    );
}

#[test]
fn a_join_subquery_over_max_subquery_rows_fails() {
    let outer = query(json!({
        "queryType": "timeseries",
        "dataSource": {"type": "join", "left": "wiki",
                       "right": {"type": "query", "query": {
                           "queryType": "scan", "dataSource": "wiki", "intervals": [INTERVAL],
                           "columns": ["page"]}},
                       "rightPrefix": "r.", "condition": "page == \"r.page\"",
                       "joinType": "LEFT"},
        "intervals": [INTERVAL], "granularity": "all",
        "aggregations": [{"type": "count", "name": "rows"}],
        "context": {"maxSubqueryRows": 5},
    }));
    let inner_result = run_json(outer.join_subqueries()[0].to_json(), &[("s", &wiki())]);
    let error = outer
        .with_join_results(&[inner_result])
        .expect_err("6 rows > 5");
    assert_eq!(error.error, "Resource limit exceeded");
    assert!(
        error.error_message.contains("maximum[5]"),
        "{}",
        error.error_message
    );
}

#[test]
fn numeric_keys_compare_in_the_right_column_type_and_several_keys_and() {
    let right = json!({"type": "inline", "columnNames": ["n", "page", "name"],
                       "columnTypes": ["LONG", "STRING", "STRING"],
                       "rows": [[10, "apple", "ten"], [5, "cherry", "five"], [7, "banana", "x"]]});
    let response = run_json(
        json!({
            "queryType": "scan",
            "dataSource": {"type": "join", "left": "wiki", "right": right, "rightPrefix": "r.",
                           "condition": "(\"added\" == \"r.n\") && (lower(page) == \"r.page\")",
                           "joinType": "INNER"},
            "intervals": [INTERVAL], "columns": ["page", "r.name", "r.n"],
            "resultFormat": "compactedList",
        }),
        &[("wiki_seg", &wiki())],
    );
    // Row 1 (10, Apple) and row 4 (5, Cherry) match; row 5 (7, Apple) fails the page key.
    let events = response[0]["events"].clone();
    assert_eq!(events, json!([["Apple", "ten", 10], ["Cherry", "five", 5]]));
}

#[test]
fn chained_joins_apply_left_deep() {
    let ranks = json!({"type": "inline", "columnNames": ["lang", "rank"],
                       "rows": [["English", 1], ["French", 2]]});
    let response = run_json(
        json!({
            "queryType": "timeseries",
            "dataSource": {"type": "join",
                           "left": {"type": "join", "left": "wiki", "right": languages(),
                                    "rightPrefix": "j0.",
                                    "condition": "channel == \"j0.chan\"", "joinType": "LEFT"},
                           "right": ranks, "rightPrefix": "j1.",
                           "condition": "\"j0.lang\" == \"j1.lang\"", "joinType": "INNER"},
            "intervals": [INTERVAL], "granularity": "all",
            "aggregations": [{"type": "longSum", "name": "rank", "fieldName": "j1.rank"},
                             {"type": "count", "name": "rows"}],
        }),
        &[("wiki_seg", &wiki())],
    );
    // English rows 1, 2 (rank 1 each), French rows 3, 4 (rank 2 each).
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": {"rank": 6, "rows": 4}}])
    );
}

#[test]
fn inline_and_lookup_data_sources_run_locally() {
    let inline = query(json!({
        "queryType": "groupBy", "dataSource": languages(),
        "intervals": ["1970/2100"], "granularity": "all",
        "dimensions": ["lang"], "aggregations": [{"type": "count", "name": "n"}],
        "limitSpec": {"type": "default", "limit": 2,
                      "columns": [{"dimension": "lang", "direction": "descending"}]},
    }));
    assert!(inline.is_local());
    let rows = run_local(&inline).expect("inline");
    assert_eq!(
        rows,
        json!([
            {"version": "v1", "timestamp": "1970-01-01T00:00:00.000Z",
             "event": {"lang": "nobody", "n": 1}},
            {"version": "v1", "timestamp": "1970-01-01T00:00:00.000Z",
             "event": {"lang": "French", "n": 1}}
        ])
    );

    let map = BTreeMap::from([
        ("de".to_owned(), "German".to_owned()),
        ("en".to_owned(), "English".to_owned()),
    ]);
    let limits = Limits {
        lookups: Lookups::from_maps(BTreeMap::from([("langs".to_owned(), Arc::new(map))])),
        ..Limits::default()
    };
    let body = json!({
        "queryType": "scan", "dataSource": {"type": "lookup", "lookup": "langs"},
        "intervals": ["1970/2100"], "columns": ["k", "v"], "resultFormat": "compactedList",
    });
    let lookup = parse_query(body.to_string().as_bytes(), &limits).expect("lookup source");
    let rows = run_local(&lookup).expect("lookup");
    assert_eq!(
        rows[0]["events"],
        json!([["de", "German"], ["en", "English"]])
    );
}

#[test]
fn unsupported_joins_are_refused_with_druid_error_bodies() {
    let join = |right: Value, condition: &str, join_type: &str| {
        json!({"queryType": "timeseries", "intervals": [INTERVAL], "granularity": "all",
               "dataSource": {"type": "join", "left": "wiki", "right": right,
                              "rightPrefix": "j0.", "condition": condition,
                              "joinType": join_type}})
    };
    let non_equi = error_of(join(languages(), "\"channel\" != \"j0.chan\"", "INNER"));
    // Druid answers unsupported queries with 501 (`QueryUnsupportedException`).
    assert_eq!(non_equi.status, 501);
    assert!(
        non_equi.error_message.contains("non-equi"),
        "{}",
        non_equi.error_message
    );
    let both_sides = error_of(join(languages(), "\"j0.lang\" == \"j0.chan\"", "INNER"));
    assert_eq!(both_sides.error, "Unsupported query");
    let right_join = error_of(join(languages(), "channel == \"j0.chan\"", "RIGHT"));
    assert_eq!(right_join.error, "Unsupported query");
    let table = error_of(join(json!("wiki"), "channel == \"j0.channel\"", "INNER"));
    assert!(
        table.error_message.contains("query data source"),
        "{}",
        table.error_message
    );
    let unknown_lookup = error_of(join(
        json!({"type": "lookup", "lookup": "nope"}),
        "channel == \"j0.k\"",
        "LEFT",
    ));
    assert!(unknown_lookup.error_message.contains("nope"));
    let bad_inline = error_of(join(
        json!({"type": "inline", "columnNames": ["a"], "rows": [["x", "y"]]}),
        "channel == \"j0.a\"",
        "LEFT",
    ));
    assert_eq!(bad_inline.status, 400);
    let search = error_of(json!({"queryType": "segmentMetadata", "dataSource": languages()}));
    assert_eq!(search.error, "Unsupported query");
}

#[test]
fn a_condition_naming_a_missing_right_column_fails_on_the_data() {
    let body = json!({"queryType": "timeseries", "intervals": [INTERVAL], "granularity": "all",
                      "dataSource": {"type": "join", "left": "wiki", "right": languages(),
                                     "rightPrefix": "j0.", "condition": "channel == \"j0.nope\"",
                                     "joinType": "INNER"}});
    let parsed = query(body);
    let error = henge_query::run_on_segment(&parsed, &wiki(), "s").expect_err("no column");
    assert_eq!(error.status, 400);
    assert!(
        error.error_message.contains("j0.nope"),
        "{}",
        error.error_message
    );
}
