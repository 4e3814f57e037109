//! Expressions end to end on the `wiki` fixture: virtual columns in every place a column name
//! goes (aggregator inputs, grouping, topN, scan, filters), shadowing and chained virtual
//! columns, `expression` filters with three-valued logic, aggregator `expression`s,
//! expression post-aggregators and errors. Expected values are computed by hand from the six
//! rows in `common::WIKI_ROWS`:
//!
//! | row | time         | channel | page   | user  | added | delta |
//! |-----|--------------|---------|--------|-------|-------|-------|
//! | 0   | 00:46:58.771 | #en     | Apple  | alice | 10    | 1.5   |
//! | 1   | 00:50        | #en     | Banana | null  | 20    | -2.0  |
//! | 2   | 01:10        | #fr     | Apple  | bob   | null  | 3.0   |
//! | 3   | 01:20        | #fr     | Cherry | alice | 5     | null  |
//! | 4   | 03:05        | #de     | Apple  | null  | 7     | 0.5   |
//! | 5   | 03:59:59.999 | null    | Banana | carol | 1     | 4.0   |

use henge_query::{parse_query, run_on_segment, Limits};
use serde_json::{json, Value};

use crate::common::{query, run_wiki, ts, wiki};

const FIRST: &str = "2015-09-12T00:46:58.771Z";
const DAY: &str = "2015-09-12T00:00:00.000Z";

fn timeseries(extra: Value) -> String {
    let mut request = json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    run_wiki(request)
}

fn group_by(extra: Value) -> String {
    let mut request = json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    run_wiki(request)
}

fn vc(name: &str, expression: &str, output: Option<&str>) -> Value {
    let mut column = json!({"type": "expression", "name": name, "expression": expression});
    if let Some(output) = output {
        column["outputType"] = json!(output);
    }
    column
}

fn count() -> Value {
    json!({"type": "count", "name": "rows"})
}

fn row(event: Value) -> Value {
    json!({"version": "v1", "timestamp": DAY, "event": event})
}

#[test]
fn virtual_columns_feed_aggregators() {
    // added * 2 + delta: 21.5, 38.0, null, null, 14.5, 6.0.
    let response = timeseries(json!({
        "virtualColumns": [
            vc("v0", "added * 2 + delta", Some("DOUBLE")),
            vc("v1", "added * 10", None),
            vc("v2", "delta", Some("FLOAT")),
        ],
        "aggregations": [
            {"type": "doubleSum", "name": "sum", "fieldName": "v0"},
            {"type": "longSum", "name": "tens", "fieldName": "v1"},
            {"type": "doubleMax", "name": "max", "fieldName": "v2"},
        ],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": FIRST, "result": {"sum": 80.0, "tens": 430, "max": 4.0}}]).to_string()
    );
}

#[test]
fn group_by_string_and_time_virtual_columns() {
    // One string input: evaluated per dictionary value.
    let by_prefix = group_by(json!({
        "virtualColumns": [vc("v0", "upper(substring(page, 0, 2))", Some("STRING"))],
        "dimensions": [{"type": "default", "dimension": "v0", "outputName": "p2"}],
        "aggregations": [count()],
    }));
    assert_eq!(
        by_prefix,
        json!([
            row(json!({"p2": "AP", "rows": 3})),
            row(json!({"p2": "BA", "rows": 2})),
            row(json!({"p2": "CH", "rows": 1})),
        ])
        .to_string()
    );
    let by_user = group_by(json!({
        "virtualColumns": [vc("v0", "nvl(user, 'anon')", None)],
        "dimensions": ["v0"],
        "aggregations": [count()],
    }));
    assert_eq!(
        by_user,
        json!([
            row(json!({"v0": "alice", "rows": 2})),
            row(json!({"v0": "anon", "rows": 2})),
            row(json!({"v0": "bob", "rows": 1})),
            row(json!({"v0": "carol", "rows": 1})),
        ])
        .to_string()
    );
    let by_hour = group_by(json!({
        "virtualColumns": [vc("v0", "timestamp_floor(__time, 'PT1H')", Some("LONG"))],
        "dimensions": [
            {"type": "default", "dimension": "v0", "outputName": "hour", "outputType": "LONG"}
        ],
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    }));
    assert_eq!(
        by_hour,
        json!([
            row(json!({"hour": ts("2015-09-12T00:00:00Z"), "added": 30})),
            row(json!({"hour": ts("2015-09-12T01:00:00Z"), "added": 5})),
            row(json!({"hour": ts("2015-09-12T03:00:00Z"), "added": 8})),
        ])
        .to_string()
    );
}

#[test]
fn top_n_on_a_multi_input_virtual_column() {
    let response = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "virtualColumns": [vc("v0", "concat(channel, '/', page)", None)],
        "dimension": "v0",
        "metric": "added",
        "threshold": 2,
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": FIRST, "result": [
            {"v0": "#en/Banana", "added": 20},
            {"v0": "#en/Apple", "added": 10},
        ]}])
        .to_string()
    );
}

#[test]
fn scan_lists_virtual_columns_with_their_types() {
    let response = run_wiki(json!({
        "queryType": "scan",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "virtualColumns": [
            vc("len", "strlen(page) * 1.5", None),
            vc("day", "timestamp_format(__time, 'yyyy-MM-dd HH')", None),
        ],
        "columns": ["page", "len", "day"],
        "resultFormat": "compactedList",
        "limit": 3,
    }));
    assert_eq!(
        response,
        json!([{
            "segmentId": "wiki_seg",
            "columns": ["page", "len", "day"],
            "events": [
                ["Apple", 7.5, "2015-09-12 00"],
                ["Banana", 9.0, "2015-09-12 00"],
                ["Apple", 7.5, "2015-09-12 01"],
            ],
            "rowSignature": [
                {"name": "page", "type": "STRING"},
                {"name": "len", "type": "DOUBLE"},
                {"name": "day", "type": "STRING"},
            ],
        }])
        .to_string()
    );
}

#[test]
fn virtual_columns_shadow_real_columns_and_chain() {
    // `page` is redefined as upper(channel): #EN, #EN, #FR, #FR, #DE, null.
    let shadowed = timeseries(json!({
        "virtualColumns": [vc("page", "upper(channel)", None)],
        "filter": {"type": "selector", "dimension": "page", "value": "#FR"},
        "aggregations": [count()],
    }));
    assert_eq!(
        shadowed,
        json!([{"timestamp": FIRST, "result": {"rows": 2}}]).to_string()
    );
    // v1 reads v0, declared after it: 2 * added + 1 over 10, 20, 5, 7, 1 is 91.
    let chained = timeseries(json!({
        "virtualColumns": [vc("v1", "v0 + 1", None), vc("v0", "added * 2", None)],
        "aggregations": [{"type": "longSum", "name": "s", "fieldName": "v1"}],
    }));
    assert_eq!(
        chained,
        json!([{"timestamp": FIRST, "result": {"s": 91}}]).to_string()
    );
}

#[test]
fn virtual_columns_only_cover_the_query_intervals() {
    // Rows 2 and 3 only: delta * 10 is 30.0 and null.
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12T01:00/2015-09-12T02:00"],
        "granularity": "all",
        "virtualColumns": [vc("v0", "delta * 10", None)],
        "aggregations": [{"type": "doubleSum", "name": "s", "fieldName": "v0"}, count()],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T01:00:00.000Z", "result": {"s": 30.0, "rows": 2}}])
            .to_string()
    );
}

fn filtered_count(filter: Value) -> String {
    timeseries(json!({"filter": filter, "aggregations": [count()]}))
}

fn counted(rows: u64) -> String {
    json!([{"timestamp": FIRST, "result": {"rows": rows}}]).to_string()
}

#[test]
fn expression_filters_use_three_valued_logic() {
    // added > 5 && delta > 0: true on rows 0 and 4, unknown on row 2, false on 1, 3 and 5.
    let both = json!({"type": "expression", "expression": "added > 5 && delta > 0"});
    assert_eq!(filtered_count(both.clone()), counted(2));
    assert_eq!(
        filtered_count(json!({"type": "not", "field": both})),
        counted(3)
    );
    // One string input, per dictionary value: Apple x3 and Cherry.
    let pages = json!({"type": "expression", "expression": "like(page, 'A%') || page == 'Cherry'"});
    assert_eq!(filtered_count(pages), counted(4));
    // strlen(user) > 3: alice twice and carol; the two null users are unknown, bob is false.
    let users = json!({"type": "expression", "expression": "strlen(user) > 3"});
    assert_eq!(filtered_count(users.clone()), counted(3));
    assert_eq!(
        filtered_count(json!({"type": "not", "field": users})),
        counted(1)
    );
    // Strings are true only when they say so; numbers when positive.
    let text = json!({"type": "expression", "expression": "if(added > 6, 'true', 'yes')"});
    assert_eq!(filtered_count(text), counted(3));
    let constant = json!({"type": "expression", "expression": "1 + 1 == 2"});
    assert_eq!(filtered_count(constant), counted(6));
    // A filter on a virtual column.
    let on_virtual = timeseries(json!({
        "virtualColumns": [vc("v0", "timestamp_extract(__time, 'HOUR')", Some("LONG"))],
        "filter": {"type": "bound", "dimension": "v0", "lower": "1", "ordering": "numeric"},
        "aggregations": [count()],
    }));
    assert_eq!(on_virtual, counted(4));
}

#[test]
fn aggregator_expressions() {
    let response = timeseries(json!({
        "aggregations": [
            // delta: 1.5 - 2 + 3 + 0.5 + 4 = 7, doubled.
            {"type": "doubleSum", "name": "d2", "expression": "delta * 2"},
            // Apple 5 + Banana 6 + Apple 5 + Cherry 6 + Apple 5 + Banana 6.
            {"type": "longSum", "name": "chars", "expression": "strlen(page)"},
            {"type": "longMax", "name": "most", "expression": "added + 100"},
            {"type": "filtered", "filter": {"type": "selector", "dimension": "channel", "value": "#en"},
             "aggregator": {"type": "longSum", "name": "en", "expression": "added + 1"}},
        ],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": FIRST, "result": {"d2": 14.0, "chars": 33, "most": 120, "en": 32}}])
            .to_string()
    );
    let both = parse_query(
        json!({
            "queryType": "timeseries", "dataSource": "wiki", "intervals": "2015/2016",
            "granularity": "all",
            "aggregations": [{"type": "longSum", "name": "x", "fieldName": "added", "expression": "1"}],
        })
        .to_string()
        .as_bytes(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(both.status, 400);
    assert!(both.error_message.contains("fieldName or expression"));
}

#[test]
fn expression_post_aggregators() {
    let response = timeseries(json!({
        "aggregations": [count(), {"type": "longSum", "name": "added", "fieldName": "added"}],
        "postAggregations": [
            // 43 / 6 in longs, then in doubles.
            {"type": "expression", "name": "avg", "expression": "added / rows"},
            {"type": "expression", "name": "exact", "expression": "added * 1.0 / rows"},
            {"type": "expression", "name": "label", "expression": "concat('n=', rows, ' avg=', avg)"},
        ],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": FIRST, "result": {
            "rows": 6, "added": 43, "avg": 7, "exact": 43.0 / 6.0, "label": "n=6 avg=7"
        }}])
        .to_string()
    );
}

#[test]
fn errors_are_query_errors() {
    let parse = |request: Value| parse_query(request.to_string().as_bytes(), &Limits::default());
    let base = json!({
        "queryType": "timeseries", "dataSource": "wiki", "intervals": "2015-09-12/2015-09-13",
        "granularity": "all", "aggregations": [{"type": "longSum", "name": "s", "fieldName": "v0"}],
    });
    let with = |columns: Value| {
        let mut request = base.clone();
        request["virtualColumns"] = columns;
        request
    };
    let unknown = parse(with(json!([vc("v0", "frobnicate(added)", None)]))).unwrap_err();
    assert_eq!(
        (unknown.status, unknown.error.as_str()),
        (400, "Json parse failed")
    );
    assert!(unknown
        .error_message
        .contains("function 'frobnicate' is not defined."));
    let syntax = parse(with(json!([vc("v0", "added +", None)]))).unwrap_err();
    assert_eq!(syntax.status, 400);
    let cycle = parse(with(json!([vc("v0", "v0 + 1", None)]))).unwrap_err();
    assert_eq!(cycle.status, 400);
    // Long division by zero fails the query, as Java's ArithmeticException does in Druid.
    let divide = query(with(json!([vc("v0", "added / 0", None)])));
    let error = run_on_segment(&divide, &wiki(), "wiki_seg").unwrap_err();
    assert_eq!(
        (error.status, error.error_message.as_str()),
        (500, "/ by zero")
    );
    let mut bad_filter = base.clone();
    bad_filter["filter"] = json!({"type": "expression", "expression": "page - 'x'"});
    let error = run_on_segment(&query(bad_filter), &wiki(), "wiki_seg").unwrap_err();
    assert_eq!(error.status, 500);
    // Query types without virtual columns accept and ignore them.
    let boundary = parse(json!({
        "queryType": "timeBoundary", "dataSource": "wiki",
        "virtualColumns": [vc("v0", "nope(", None)],
    }));
    assert!(boundary.is_ok());
}

#[test]
fn constant_virtual_columns() {
    let response = timeseries(json!({
        "virtualColumns": [vc("three", "1 + 2", None), vc("none", "null", Some("DOUBLE"))],
        "aggregations": [
            {"type": "longSum", "name": "s", "fieldName": "three"},
            {"type": "doubleSum", "name": "n", "fieldName": "none"},
        ],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": FIRST, "result": {"s": 18, "n": null}}]).to_string()
    );
    let grouped = group_by(json!({
        "virtualColumns": [vc("v0", "'x'", None)],
        "dimensions": ["v0"],
        "aggregations": [count()],
    }));
    assert_eq!(
        grouped,
        json!([row(json!({"v0": "x", "rows": 6}))]).to_string()
    );
}

#[test]
fn scan_without_columns_lists_virtual_columns_after_time() {
    let response = run_wiki(json!({
        "queryType": "scan",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "virtualColumns": [vc("page", "upper(channel)", None), vc("x", "added - 1", None)],
        "resultFormat": "compactedList",
        "limit": 1,
    }));
    assert_eq!(
        response,
        json!([{
            "segmentId": "wiki_seg",
            "columns": ["__time", "page", "x", "channel", "user", "rank", "added", "delta"],
            "events": [[ts(FIRST), "#EN", 9, "#en", "alice", "10", 10, 1.5]],
            "rowSignature": [
                {"name": "__time", "type": "LONG"},
                {"name": "page", "type": "STRING"},
                {"name": "x", "type": "LONG"},
                {"name": "channel", "type": "STRING"},
                {"name": "user", "type": "STRING"},
                {"name": "rank", "type": "STRING"},
                {"name": "added", "type": "LONG"},
                {"name": "delta", "type": "DOUBLE"},
            ],
        }])
        .to_string()
    );
}
