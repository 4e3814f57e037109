//! Filter truth tables over the `wiki` fixture, nulls included, on string, long, double,
//! missing and `__time` columns. SQL three-valued logic: `not` never matches rows where its
//! operand is unknown (a null compared with a value).

use serde_json::{json, Value};

use crate::common::{run_wiki, ts, WIKI_ROWS};

/// The fixture rows (by position) a filter matches, found with a scan of `__time`.
pub fn rows(filter: Value) -> Vec<usize> {
    let response: Value = serde_json::from_str(&run_wiki(json!({
        "queryType": "scan",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "columns": ["__time"],
        "resultFormat": "compactedList",
        "filter": filter,
    })))
    .unwrap();
    let times: Vec<i64> = WIKI_ROWS.iter().map(|row| ts(row.0)).collect();
    response
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|batch| batch["events"].as_array().unwrap().clone())
        .map(|event| {
            let time = event[0].as_i64().unwrap();
            times.iter().position(|&t| t == time).unwrap()
        })
        .collect()
}

fn selector(dimension: &str, value: Value) -> Value {
    json!({"type": "selector", "dimension": dimension, "value": value})
}

pub fn not(field: Value) -> Value {
    json!({"type": "not", "field": field})
}

fn bound(dimension: &str, extra: Value) -> Value {
    let mut filter = json!({"type": "bound", "dimension": dimension});
    for (key, value) in extra.as_object().unwrap() {
        filter[key] = value.clone();
    }
    filter
}

#[test]
fn string_selectors_and_in() {
    // user: alice, null, bob, alice, null, carol
    assert_eq!(rows(selector("user", json!("alice"))), [0, 3]);
    assert_eq!(rows(not(selector("user", json!("alice")))), [2, 5]);
    assert_eq!(rows(selector("user", Value::Null)), [1, 4]);
    assert_eq!(rows(not(selector("user", Value::Null))), [0, 2, 3, 5]);
    assert_eq!(rows(selector("user", json!("nobody"))), Vec::<usize>::new());
    assert_eq!(rows(not(selector("user", json!("nobody")))), [0, 2, 3, 5]);
    let in_with_null = json!({"type": "in", "dimension": "user", "values": ["alice", null]});
    assert_eq!(rows(in_with_null.clone()), [0, 1, 3, 4]);
    assert_eq!(rows(not(in_with_null)), [2, 5]);
    let in_bob = json!({"type": "in", "dimension": "user", "values": ["bob", "zed"]});
    assert_eq!(rows(in_bob.clone()), [2]);
    assert_eq!(rows(not(in_bob)), [0, 3, 5]);
}

#[test]
fn string_bounds() {
    assert_eq!(rows(bound("user", json!({"lower": "b"}))), [2, 5]);
    assert_eq!(rows(not(bound("user", json!({"lower": "b"})))), [0, 3]);
    // Druid keeps matching nulls when a bound has no lower end (BoundFilter.doesMatchNull).
    assert_eq!(rows(bound("user", json!({"upper": "b"}))), [0, 1, 3, 4]);
    assert_eq!(rows(not(bound("user", json!({"upper": "b"})))), [2, 5]);
    assert_eq!(
        rows(bound(
            "user",
            json!({"lower": "alice", "lowerStrict": true, "upper": "carol"})
        )),
        [2, 5]
    );
    assert_eq!(
        rows(bound(
            "user",
            json!({"lower": "alice", "upper": "carol", "upperStrict": true})
        )),
        [0, 2, 3]
    );
    // rank: "10", "9", "x", "100", null, "2"; numeric order puts "x" before every number.
    assert_eq!(
        rows(bound("rank", json!({"lower": "9", "ordering": "numeric"}))),
        [0, 1, 3]
    );
    assert_eq!(
        rows(bound(
            "rank",
            json!({"upper": "9", "upperStrict": true, "ordering": "numeric"})
        )),
        [2, 4, 5]
    );
    assert_eq!(rows(bound("rank", json!({"lower": "9"}))), [1, 2]);
}

#[test]
fn long_columns_compare_numbers() {
    // added: 10, 20, null, 5, 7, 1
    assert_eq!(rows(selector("added", json!("10"))), [0]);
    assert_eq!(rows(selector("added", json!(10))), [0]);
    assert_eq!(rows(selector("added", json!("10.0"))), [0]);
    assert_eq!(rows(selector("added", json!("10.5"))), Vec::<usize>::new());
    assert_eq!(rows(not(selector("added", json!("10")))), [1, 3, 4, 5]);
    assert_eq!(rows(selector("added", Value::Null)), [2]);
    assert_eq!(rows(not(selector("added", Value::Null))), [0, 1, 3, 4, 5]);
    assert_eq!(
        rows(json!({"type": "in", "dimension": "added", "values": ["1", 20]})),
        [1, 5]
    );
    let numeric = json!({"lower": "5", "upper": "10", "ordering": "numeric"});
    assert_eq!(rows(bound("added", numeric)), [0, 3, 4]);
    let strict = json!({"lower": "5", "lowerStrict": true, "upper": "10", "ordering": "numeric"});
    assert_eq!(rows(bound("added", strict.clone())), [0, 4]);
    assert_eq!(rows(not(bound("added", strict))), [1, 3, 5]);
    // Lexicographic bounds compare the decimal text: "10" <= v <= "5".
    assert_eq!(
        rows(bound("added", json!({"lower": "10", "upper": "5"}))),
        [0, 1, 3]
    );
}

#[test]
fn double_columns_compare_numbers() {
    // delta: 1.5, -2.0, 3.0, null, 0.5, 4.0
    assert_eq!(rows(selector("delta", json!("3"))), [2]);
    assert_eq!(rows(not(selector("delta", json!("1.5")))), [1, 2, 4, 5]);
    let positive = json!({"lower": "0", "lowerStrict": true, "ordering": "numeric"});
    assert_eq!(rows(bound("delta", positive.clone())), [0, 2, 4, 5]);
    assert_eq!(rows(not(bound("delta", positive))), [1]);
    assert_eq!(rows(selector("delta", Value::Null)), [3]);
}

#[test]
fn missing_columns_are_all_null() {
    assert_eq!(rows(selector("nope", Value::Null)), [0, 1, 2, 3, 4, 5]);
    assert_eq!(rows(selector("nope", json!("x"))), Vec::<usize>::new());
    assert_eq!(rows(not(selector("nope", json!("x")))), Vec::<usize>::new());
    assert_eq!(
        rows(not(selector("nope", Value::Null))),
        Vec::<usize>::new()
    );
}

#[test]
fn time_filters_compare_milliseconds() {
    let t3 = ts("2015-09-12T01:20:00Z");
    assert_eq!(
        rows(bound(
            "__time",
            json!({"lower": t3.to_string(), "ordering": "numeric"})
        )),
        [3, 4, 5]
    );
    assert_eq!(
        rows(bound(
            "__time",
            json!({"lower": t3, "lowerStrict": true, "ordering": "numeric"})
        )),
        [4, 5]
    );
    assert_eq!(rows(selector("__time", json!(t3))), [3]);
    assert_eq!(rows(not(selector("__time", json!(t3)))), [0, 1, 2, 4, 5]);
}

#[test]
fn and_or_follow_three_valued_logic() {
    let alice = selector("user", json!("alice"));
    let german = selector("channel", json!("#de"));
    let either = json!({"type": "or", "fields": [alice.clone(), german.clone()]});
    assert_eq!(rows(either.clone()), [0, 3, 4]);
    // Row 1 (user null, #en) and row 5 (carol, channel null) are unknown, so `not` skips them.
    assert_eq!(rows(not(either)), [2]);
    let both = json!({"type": "and", "fields": [not(alice), not(german)]});
    assert_eq!(rows(both), [2]);
    let apple_not_de = json!({"type": "and", "fields": [
        selector("page", json!("Apple")),
        not(selector("channel", json!("#de"))),
    ]});
    assert_eq!(rows(apple_not_de.clone()), [0, 2]);
    // Row 5 (Banana, channel null): FALSE AND UNKNOWN is FALSE, so the negation matches.
    assert_eq!(rows(not(apple_not_de)), [1, 3, 4, 5]);
}
