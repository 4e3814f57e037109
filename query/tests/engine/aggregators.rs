//! Aggregators beyond sums, minimums and maximums: float sum/min/max (computed and printed
//! as Java floats), doubleMean, first/last (pairs that merge across segments), any, and
//! filtered aggregators.

use henge_segment::{ColumnSpec, ColumnType, Value as Cell};
use serde_json::{json, Value};

use crate::common::{build, run_json, run_wiki, ts, wiki_segment, WIKI_ROWS};

fn timeseries(aggregations: Value) -> Value {
    json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": aggregations,
    })
}

fn result_of(response: &str) -> Value {
    let response: Value = serde_json::from_str(response).unwrap();
    response[0]["result"].clone()
}

#[test]
fn float_aggregators_compute_in_f32_and_print_floats() {
    let schema = vec![ColumnSpec::metric("price", ColumnType::Double)];
    let rows: Vec<(i64, Vec<Cell>)> = [0.1, 0.2, 0.3]
        .iter()
        .enumerate()
        .map(|(i, &price)| {
            (
                ts("2015-09-12T00:00:00Z") + i as i64,
                vec![Cell::from(Some(price))],
            )
        })
        .collect();
    let segment = build(schema, &rows);
    let response = run_json(
        timeseries(json!([
            {"type": "floatSum", "name": "floatSum", "fieldName": "price"},
            {"type": "doubleSum", "name": "doubleSum", "fieldName": "price"},
            {"type": "floatMin", "name": "floatMin", "fieldName": "price"},
            {"type": "floatMax", "name": "floatMax", "fieldName": "price"},
            {"type": "floatFirst", "name": "floatFirst", "fieldName": "price"},
            {"type": "floatSum", "name": "nothing", "fieldName": "missing"},
        ])),
        &[("prices", &segment)],
    );
    assert_eq!(
        response.to_string(),
        json!([{"timestamp": "2015-09-12T00:00:00.000Z", "result": {
            "floatSum": 0.6, "doubleSum": 0.6000000000000001, "floatMin": 0.1,
            "floatMax": 0.3, "floatFirst": 0.1, "nothing": null
        }}])
        .to_string()
    );
}

#[test]
fn double_mean_skips_nulls_and_merges_sums_and_counts() {
    let aggregations = json!([
        {"type": "doubleMean", "name": "meanDelta", "fieldName": "delta"},
        {"type": "doubleMean", "name": "meanAdded", "fieldName": "added"},
        {"type": "doubleMean", "name": "meanMissing", "fieldName": "missing"},
    ]);
    let expected = json!({"meanDelta": 1.4, "meanAdded": 8.6, "meanMissing": 0.0});
    assert_eq!(
        result_of(&run_wiki(timeseries(aggregations.clone()))),
        expected
    );
    let (first, second) = (wiki_segment(&WIKI_ROWS[..1]), wiki_segment(&WIKI_ROWS[1..]));
    let split = run_json(timeseries(aggregations), &[("a", &first), ("b", &second)]);
    assert_eq!(split[0]["result"], expected);
}

fn first_last() -> Value {
    json!([
        {"type": "doubleFirst", "name": "firstDelta", "fieldName": "delta"},
        {"type": "doubleLast", "name": "lastDelta", "fieldName": "delta"},
        {"type": "longFirst", "name": "firstAdded", "fieldName": "added"},
        {"type": "longLast", "name": "lastAdded", "fieldName": "added"},
        {"type": "stringFirst", "name": "firstUser", "fieldName": "user"},
        {"type": "stringLast", "name": "lastUser", "fieldName": "user"},
        {"type": "stringLast", "name": "lastPage", "fieldName": "page", "maxStringBytes": 3},
        {"type": "stringFirst", "name": "firstAddedText", "fieldName": "added"},
        {"type": "stringFirst", "name": "userOfLeastAdded", "fieldName": "user", "timeColumn": "added"},
        {"type": "stringLast", "name": "userOfMostAdded", "fieldName": "user", "timeColumn": "added"},
    ])
}

#[test]
fn first_and_last_pick_by_time_and_merge_across_segments() {
    let expected = json!({
        "firstDelta": 1.5, "lastDelta": 4.0, "firstAdded": 10, "lastAdded": 1,
        "firstUser": "alice", "lastUser": "carol", "lastPage": "Ban", "firstAddedText": "10",
        "userOfLeastAdded": "carol", "userOfMostAdded": null
    });
    assert_eq!(result_of(&run_wiki(timeseries(first_last()))), expected);
    let (early, late) = (wiki_segment(&WIKI_ROWS[..3]), wiki_segment(&WIKI_ROWS[3..]));
    for segments in [[("a", &early), ("b", &late)], [("b", &late), ("a", &early)]] {
        let response = run_json(timeseries(first_last()), &segments);
        assert_eq!(response[0]["result"], expected);
    }
}

#[test]
fn first_and_last_keep_null_values_of_the_picked_row() {
    let response = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": ["page"],
        "aggregations": [
            {"type": "doubleFirst", "name": "firstDelta", "fieldName": "delta"},
            {"type": "longLast", "name": "lastAdded", "fieldName": "added"},
            {"type": "stringFirst", "name": "firstUser", "fieldName": "user"},
        ],
    }));
    let start = "2015-09-12T00:00:00.000Z";
    let row = |event: Value| json!({"version": "v1", "timestamp": start, "event": event});
    assert_eq!(
        response,
        json!([
            row(json!({"firstUser": "alice", "lastAdded": 7, "page": "Apple", "firstDelta": 1.5})),
            row(json!({"firstUser": null, "lastAdded": 1, "page": "Banana", "firstDelta": -2.0})),
            row(
                json!({"firstUser": "alice", "lastAdded": 5, "page": "Cherry", "firstDelta": null})
            ),
        ])
        .to_string()
    );
}

#[test]
fn any_aggregators_take_a_row_value() {
    let response = run_wiki(timeseries(json!([
        {"type": "longAny", "name": "added", "fieldName": "added"},
        {"type": "doubleAny", "name": "delta", "fieldName": "delta"},
        {"type": "floatAny", "name": "deltaFloat", "fieldName": "delta"},
        {"type": "stringAny", "name": "page", "fieldName": "page", "maxStringBytes": 2},
        {"type": "stringAny", "name": "none", "fieldName": "missing"},
    ])));
    assert_eq!(
        result_of(&response),
        json!({"added": 10, "delta": 1.5, "deltaFloat": 1.5, "page": "Ap", "none": null})
    );
}

#[test]
fn filtered_aggregators_read_only_matching_rows() {
    let alice = json!({"type": "selector", "dimension": "user", "value": "alice"});
    let response = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": "channel",
        "metric": "aliceAdded",
        "threshold": 3,
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "filtered", "filter": alice, "aggregator":
                {"type": "longSum", "name": "aliceAdded", "fieldName": "added"}},
            {"type": "filtered", "name": "aliceEdits", "filter": alice, "aggregator":
                {"type": "count", "name": "ignored"}},
            {"type": "filtered", "name": "aliceOnApple", "filter":
                {"type": "selector", "dimension": "page", "value": "Apple"},
                "aggregator": {"type": "filtered", "filter": alice, "aggregator":
                    {"type": "count", "name": "inner"}}},
        ],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"channel": "#en", "edits": 2, "aliceAdded": 10, "aliceEdits": 1, "aliceOnApple": 1},
            {"channel": "#fr", "edits": 2, "aliceAdded": 5, "aliceEdits": 1, "aliceOnApple": 0},
            {"channel": null, "edits": 1, "aliceAdded": null, "aliceEdits": 0, "aliceOnApple": 0},
        ]}])
        .to_string()
    );
}

#[test]
fn filtered_aggregators_in_hourly_timeseries() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12T00:00:00Z/2015-09-12T02:00:00Z"],
        "granularity": "hour",
        "aggregations": [
            {"type": "filtered", "name": "fr", "filter":
                {"type": "selector", "dimension": "channel", "value": "#fr"},
                "aggregator": {"type": "doubleSum", "name": "x", "fieldName": "delta"}},
        ],
    }));
    assert_eq!(
        response,
        json!([
            {"timestamp": "2015-09-12T00:00:00.000Z", "result": {"fr": null}},
            {"timestamp": "2015-09-12T01:00:00.000Z", "result": {"fr": 3.0}},
        ])
        .to_string()
    );
}

#[test]
fn empty_results_hold_each_aggregators_empty_value() {
    let request = timeseries(json!([
        {"type": "doubleMean", "name": "mean", "fieldName": "delta"},
        {"type": "longFirst", "name": "first", "fieldName": "added"},
        {"type": "stringAny", "name": "any", "fieldName": "user"},
        {"type": "floatSum", "name": "sum", "fieldName": "delta"},
        {"type": "filtered", "name": "rows", "filter": {"type": "true"},
         "aggregator": {"type": "count", "name": "rows"}},
    ]));
    assert_eq!(
        henge_query::empty_result(&crate::common::query(request)).to_string(),
        json!([{"timestamp": "2015-09-12T00:00:00.000Z", "result": {
            "mean": 0.0, "first": null, "any": null, "sum": null, "rows": 0
        }}])
        .to_string()
    );
}

#[test]
fn unfinalized_first_and_last_are_druid_pairs() {
    let response = run_json(
        json!({
            "queryType": "timeseries",
            "dataSource": "wiki",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "aggregations": [
                {"type": "longFirst", "name": "first", "fieldName": "added"},
                {"type": "stringLast", "name": "last", "fieldName": "page"},
                {"type": "longSum", "name": "sum", "fieldName": "added"},
            ],
            "context": {"finalize": false},
        }),
        &[("wiki_seg", &crate::common::wiki())],
    );
    // The first row (00:46:58.771) added 10; the last row (03:59:59.999) is on "Banana".
    assert_eq!(
        response[0]["result"],
        json!({
            "first": {"lhs": 1_442_018_818_771_i64, "rhs": 10},
            "last": {"lhs": 1_442_030_399_999_i64, "rhs": "Banana"},
            "sum": 43,
        })
    );
}
