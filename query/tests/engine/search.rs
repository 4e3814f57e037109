//! Search queries: matching kinds, dimensions (all by default, numeric ones as strings),
//! filters, orderings and limits, and merging segments into buckets stamped with segment
//! starts, as Druid's `SearchQueryRunner` and `SearchBinaryFn` do.

use serde_json::{json, Value};

use crate::common::{run_json, wiki, wiki_segment, WIKI_ROWS};

const DAY_ONE: &str = "wiki_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_v1";
const DAY_ONE_PART_ONE: &str = "wiki_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_v1_1";
const DAY_TWO: &str = "wiki_2015-09-13T00:00:00.000Z_2015-09-14T00:00:00.000Z_v1";

fn search(extra: Value) -> Value {
    let mut query = json!({
        "queryType": "search",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-14"],
    });
    query
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    query
}

fn hits(value: Value) -> Vec<(Value, Value, u64)> {
    value.as_array().unwrap()[0]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            (
                hit["dimension"].clone(),
                hit["value"].clone(),
                hit["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn insensitive_contains_over_listed_dimensions() {
    let response = run_json(
        search(json!({"searchDimensions": ["page", "user"],
                      "query": {"type": "insensitive_contains", "value": "A"}})),
        &[(DAY_ONE, &wiki())],
    );
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:00:00.000Z", "result": [
            {"dimension": "page", "value": "Apple", "count": 3},
            {"dimension": "page", "value": "Banana", "count": 2},
            {"dimension": "user", "value": "alice", "count": 2},
            {"dimension": "user", "value": "carol", "count": 1},
        ]}])
    );
}

#[test]
fn every_dimension_when_none_are_listed_and_case_sensitive_matching() {
    let response = run_json(
        search(json!({"query": {"type": "contains", "value": "A", "caseSensitive": true}})),
        &[(DAY_ONE, &wiki())],
    );
    assert_eq!(hits(response), [(json!("page"), json!("Apple"), 3)]);
    // Metrics are not searched unless listed; listed numeric columns are searched as text.
    let numeric = run_json(
        search(json!({"searchDimensions": ["added"], "query": {"type": "contains", "value": "1"}})),
        &[(DAY_ONE, &wiki())],
    );
    assert_eq!(
        hits(numeric),
        [
            (json!("added"), json!("1"), 1),
            (json!("added"), json!("10"), 1)
        ]
    );
}

#[test]
fn filters_restrict_rows_and_all_matches_nulls_first() {
    let response = run_json(
        search(
            json!({"searchDimensions": ["user"], "query": {"type": "all"},
                      "filter": {"type": "selector", "dimension": "channel", "value": "#en"}}),
        ),
        &[(DAY_ONE, &wiki())],
    );
    assert_eq!(
        hits(response),
        [
            (json!("user"), Value::Null, 1),
            (json!("user"), json!("alice"), 1)
        ]
    );
    // Only `all` accepts nulls; a text search over the same rows skips them.
    let text = run_json(
        search(json!({"searchDimensions": ["user"],
                      "query": {"type": "fragment", "values": ["l", "E"]},
                      "filter": {"type": "selector", "dimension": "channel", "value": "#en"}})),
        &[(DAY_ONE, &wiki())],
    );
    assert_eq!(hits(text), [(json!("user"), json!("alice"), 1)]);
}

#[test]
fn orderings_and_limits() {
    let response = run_json(
        search(json!({"searchDimensions": ["page", "channel"],
                      "query": {"type": "regex", "pattern": "^[A-C#]"},
                      "sort": {"type": "strlen"}, "limit": 3})),
        &[(DAY_ONE, &wiki())],
    );
    // strlen: "#de" "#en" "#fr" (3) before "Apple" (5): the limit keeps the three channels.
    assert_eq!(
        hits(response),
        [
            (json!("channel"), json!("#de"), 1),
            (json!("channel"), json!("#en"), 2),
            (json!("channel"), json!("#fr"), 2),
        ]
    );
}

#[test]
fn segments_merge_into_buckets_of_their_start() {
    let first = wiki_segment(&WIKI_ROWS[..3]);
    let second = wiki_segment(&WIKI_ROWS[3..]);
    let query = search(json!({"searchDimensions": ["page"],
                              "query": {"type": "insensitive_contains", "value": "an"}}));
    let merged = run_json(
        query.clone(),
        &[(DAY_ONE, &first), (DAY_ONE_PART_ONE, &second)],
    );
    assert_eq!(
        merged,
        json!([{"timestamp": "2015-09-12T00:00:00.000Z", "result": [
            {"dimension": "page", "value": "Banana", "count": 2},
        ]}])
    );
    // With a day granularity, a segment of the next day makes a second bucket; with `all`
    // they merge under the earliest start.
    let mut daily = query.clone();
    daily["granularity"] = json!("day");
    let two_days = run_json(daily, &[(DAY_ONE, &first), (DAY_TWO, &second)]);
    assert_eq!(
        two_days,
        json!([
            {"timestamp": "2015-09-12T00:00:00.000Z", "result": [
                {"dimension": "page", "value": "Banana", "count": 1}]},
            {"timestamp": "2015-09-13T00:00:00.000Z", "result": [
                {"dimension": "page", "value": "Banana", "count": 1}]},
        ])
    );
    let all = run_json(query, &[(DAY_TWO, &second), (DAY_ONE, &first)]);
    assert_eq!(all[0]["timestamp"], json!("2015-09-12T00:00:00.000Z"));
    assert_eq!(hits(all), [(json!("page"), json!("Banana"), 2)]);
}
