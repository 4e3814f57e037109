//! Post-aggregators: arithmetic (division by zero, quotient, pow, null operands, numericFirst
//! ordering), field access, constants and greatest/least, computed after merging, in every
//! aggregating query type, and usable as a topN metric or a groupBy order-by column.

use serde_json::{json, Value};

use crate::common::{query, run_json, run_wiki, wiki_segment, WIKI_ROWS};

fn field(name: &str) -> Value {
    json!({"type": "fieldAccess", "fieldName": name})
}

fn arithmetic(name: &str, function: &str, fields: Value) -> Value {
    json!({"type": "arithmetic", "name": name, "fn": function, "fields": fields})
}

fn timeseries(post_aggregations: Value) -> Value {
    json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
        ],
        "postAggregations": post_aggregations,
    })
}

#[test]
fn arithmetic_functions_yield_doubles() {
    let response = run_wiki(timeseries(json!([
        arithmetic("avg", "/", json!([field("added"), field("rows")])),
        arithmetic("byZero", "/", json!([field("added"), {"type": "constant", "name": "z", "value": 0}])),
        arithmetic("quotient", "quotient", json!([field("added"), field("rows")])),
        arithmetic("squared", "pow", json!([field("rows"), {"type": "constant", "value": 2}])),
        arithmetic("net", "-", json!([field("added"), field("delta"), field("rows")])),
        arithmetic("nested", "*", json!([
            arithmetic("sum", "+", json!([field("added"), field("delta")])),
            {"type": "constant", "value": 0.5}
        ])),
        {"type": "constant", "name": "seven", "value": 7},
        {"type": "constant", "name": "half", "value": 0.5},
        {"type": "finalizingFieldAccess", "name": "rowsAgain", "fieldName": "rows"},
        arithmetic("ofPost", "+", json!([field("avg"), field("seven")])),
    ])));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": {
            "rows": 6, "added": 43, "delta": 7.0,
            "avg": 7.166666666666667, "byZero": 0.0, "quotient": 7.166666666666667,
            "squared": 36.0, "net": 30.0, "nested": 25.0, "seven": 7, "half": 0.5,
            "rowsAgain": 6, "ofPost": 14.166666666666668
        }}])
        .to_string()
    );
}

#[test]
fn greatest_and_least_skip_nulls_and_keep_their_type() {
    let response = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["page"],
        "aggregations": [
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleMax", "name": "delta", "fieldName": "delta"},
        ],
        "postAggregations": [
            {"type": "doubleGreatest", "name": "dg", "fields": [field("added"), field("delta")]},
            {"type": "longLeast", "name": "ll", "fields": [field("added"), field("delta")]},
            arithmetic("sum", "+", json!([field("added"), field("delta")])),
        ],
    }));
    let start = "2015-09-12T00:00:00.000Z";
    // Cherry's delta is null: greatest/least ignore it, arithmetic becomes null.
    assert_eq!(
        response,
        json!([
            {"version": "v1", "timestamp": start, "event": {
                "ll": 3, "dg": 17.0, "added": 17, "delta": 3.0, "sum": 20.0, "page": "Apple"}},
            {"version": "v1", "timestamp": start, "event": {
                "ll": 4, "dg": 21.0, "added": 21, "delta": 4.0, "sum": 25.0, "page": "Banana"}},
            {"version": "v1", "timestamp": start, "event": {
                "ll": 5, "dg": 5.0, "added": 5, "delta": null, "sum": null, "page": "Cherry"}},
        ])
        .to_string()
    );
}

#[test]
fn post_aggregators_are_computed_after_merging() {
    let first = wiki_segment(&WIKI_ROWS[..2]);
    let second = wiki_segment(&WIKI_ROWS[2..]);
    let response = run_json(
        timeseries(json!([arithmetic(
            "avg",
            "/",
            json!([field("added"), field("rows")])
        )])),
        &[("a", &first), ("b", &second)],
    );
    assert_eq!(response[0]["result"]["avg"], json!(43.0 / 6.0));
}

fn topn(metric: Value) -> String {
    run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": "channel",
        "metric": metric,
        "threshold": 4,
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
        "postAggregations": [
            arithmetic("perEdit", "/", json!([field("added"), field("edits")])),
            // edits / (added - 7): #de divides by zero into Infinity.
            {"type": "arithmetic", "name": "odd", "fn": "quotient", "ordering": "numericFirst", "fields": [
                field("edits"),
                arithmetic("shifted", "-", json!([field("added"), {"type": "constant", "value": 7}])),
            ]},
            {"type": "arithmetic", "name": "oddDefault", "fn": "quotient", "fields": [
                field("edits"),
                arithmetic("shifted", "-", json!([field("added"), {"type": "constant", "value": 7}])),
            ]},
        ],
    }))
}

fn channels(response: &str) -> Vec<Value> {
    let response: Value = serde_json::from_str(response).unwrap();
    response[0]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["channel"].clone())
        .collect()
}

#[test]
fn topn_ranks_by_a_post_aggregator() {
    assert_eq!(
        topn(json!("perEdit")),
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"channel": "#en", "edits": 2, "added": 30, "perEdit": 15.0,
             "odd": 0.08695652173913043, "oddDefault": 0.08695652173913043},
            {"channel": "#de", "edits": 1, "added": 7, "perEdit": 7.0, "odd": null, "oddDefault": null},
            {"channel": "#fr", "edits": 2, "added": 5, "perEdit": 2.5, "odd": -1.0, "oddDefault": -1.0},
            {"channel": null, "edits": 1, "added": 1, "perEdit": 1.0,
             "odd": -0.16666666666666666, "oddDefault": -0.16666666666666666},
        ]}])
        .to_string()
    );
    let inverted = topn(json!({"type": "inverted", "metric": "perEdit"}));
    assert_eq!(
        channels(&inverted),
        [json!(null), json!("#fr"), json!("#de"), json!("#en")]
    );
    // Infinity ranks first by default; numericFirst puts it below every finite value.
    assert_eq!(
        channels(&topn(json!("oddDefault"))),
        [json!("#de"), json!("#en"), json!(null), json!("#fr")]
    );
    assert_eq!(
        channels(&topn(json!("odd"))),
        [json!("#en"), json!(null), json!("#fr"), json!("#de")]
    );
}

#[test]
fn group_by_orders_by_a_post_aggregator() {
    let response = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["channel"],
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
        "postAggregations": [arithmetic("perEdit", "/", json!([field("added"), field("edits")]))],
        "limitSpec": {"type": "default", "limit": 2, "columns": [
            {"dimension": "perEdit", "direction": "descending"}
        ]},
    }));
    let start = "2015-09-12T00:00:00.000Z";
    assert_eq!(
        response,
        json!([
            {"version": "v1", "timestamp": start, "event": {
                "added": 30, "edits": 2, "channel": "#en", "perEdit": 15.0}},
            {"version": "v1", "timestamp": start, "event": {
                "added": 7, "edits": 1, "channel": "#de", "perEdit": 7.0}},
        ])
        .to_string()
    );
}

#[test]
fn invalid_post_aggregators_are_rejected() {
    let parse = |post: Value| {
        henge_query::parse_query(
            timeseries(json!([post])).to_string().as_bytes(),
            &henge_query::Limits::default(),
        )
        .unwrap_err()
    };
    let missing = parse(arithmetic("p", "+", json!([field("rows"), field("nope")])));
    assert_eq!(
        missing.error_message,
        "Invalid native query: Missing fields [[nope]] for postAggregator [p]"
    );
    let duplicate = parse(json!({"type": "constant", "name": "rows", "value": 1}));
    assert_eq!(
        duplicate.error_message,
        "Invalid native query: Duplicate output name[rows]"
    );
    let unknown_fn = parse(arithmetic(
        "p",
        "mod",
        json!([field("rows"), field("rows")]),
    ));
    assert_eq!(unknown_fn.status, 400);
    let expression = parse(json!({"type": "expression", "name": "p", "expression": "nope + 1"}));
    assert_eq!(
        expression.error_message,
        "Invalid native query: Missing fields [[nope]] for postAggregator [p]"
    );
    // A post-aggregator name is a valid topN metric.
    let mut request = timeseries(json!([field("rows")]));
    request["postAggregations"][0]["name"] = json!("p");
    request["queryType"] = json!("topN");
    request["dimension"] = json!("page");
    request["threshold"] = json!(1);
    request["metric"] = json!("p");
    query(request);
}

#[test]
fn field_access_shows_first_last_pairs_and_finalizing_access_their_value() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": [
            {"type": "longFirst", "name": "first", "fieldName": "added"},
            {"type": "doubleMean", "name": "mean", "fieldName": "delta"},
        ],
        "postAggregations": [
            {"type": "fieldAccess", "name": "pair", "fieldName": "first"},
            {"type": "finalizingFieldAccess", "name": "value", "fieldName": "first"},
            arithmetic("twiceMean", "*", json!([
                {"type": "finalizingFieldAccess", "fieldName": "mean"},
                {"type": "constant", "value": 2}
            ])),
        ],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": {
            "first": 10, "mean": 1.4,
            "pair": {"lhs": 1442018818771i64, "rhs": 10}, "value": 10, "twiceMean": 2.8
        }}])
        .to_string()
    );
}
