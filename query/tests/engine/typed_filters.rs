//! The filters SQL plans (`equals`, `null`, `inType`, `range`), text filters (`like`, `regex`,
//! `search`), `columnComparison`, `interval` and `true`/`false`, over the `wiki` fixture
//! (see `filters.rs` for the rows), nulls included.

use henge_query::{parse_query, Limits};
use serde_json::{json, Value};

use crate::filters::{not, rows};

const NONE: [usize; 0] = [];

fn typed(kind: &str, column: &str, match_type: &str, extra: Value) -> Value {
    let mut filter = json!({"type": kind, "column": column, "matchValueType": match_type});
    for (key, value) in extra.as_object().unwrap() {
        filter[key] = value.clone();
    }
    filter
}

fn equals(column: &str, match_type: &str, value: Value) -> Value {
    typed("equals", column, match_type, json!({"matchValue": value}))
}

fn parse_error(filter: Value) -> henge_query::QueryError {
    let request = json!({
        "queryType": "scan", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "filter": filter,
    });
    parse_query(request.to_string().as_bytes(), &Limits::default()).unwrap_err()
}

#[test]
fn equals_casts_the_match_value() {
    assert_eq!(rows(equals("user", "STRING", json!("alice"))), [0, 3]);
    assert_eq!(rows(not(equals("user", "STRING", json!("alice")))), [2, 5]);
    assert_eq!(rows(equals("added", "LONG", json!(10))), [0]);
    assert_eq!(rows(equals("added", "STRING", json!("10"))), [0]);
    assert_eq!(rows(equals("added", "DOUBLE", json!(10.5))), NONE);
    assert_eq!(rows(equals("delta", "DOUBLE", json!(3))), [2]);
    // A string column compares the match value's string form: DOUBLE 10 is "10.0".
    assert_eq!(rows(equals("rank", "LONG", json!(10))), [0]);
    assert_eq!(rows(equals("rank", "DOUBLE", json!(10))), NONE);
    assert_eq!(
        parse_error(equals("user", "STRING", Value::Null)).status,
        400
    );
    assert_eq!(
        parse_error(equals("added", "LONG", json!("ten"))).status,
        400
    );
    let array = equals("user", "ARRAY<STRING>", json!(["a"]));
    assert_eq!(parse_error(array).status, 501);
}

#[test]
fn null_and_in_type() {
    let null = |column: &str| json!({"type": "null", "column": column});
    assert_eq!(rows(null("user")), [1, 4]);
    assert_eq!(rows(not(null("user"))), [0, 2, 3, 5]);
    assert_eq!(rows(null("added")), [2]);
    assert_eq!(rows(null("nope")), [0, 1, 2, 3, 4, 5]);
    let in_type = |column: &str, match_type: &str, values: Value| {
        typed(
            "inType",
            column,
            match_type,
            json!({"sortedValues": values}),
        )
    };
    assert_eq!(
        rows(in_type("user", "STRING", json!([null, "bob"]))),
        [1, 2, 4]
    );
    assert_eq!(
        rows(not(in_type("user", "STRING", json!(["bob"])))),
        [0, 3, 5]
    );
    assert_eq!(rows(in_type("added", "LONG", json!([1, 20]))), [1, 5]);
}

#[test]
fn range_never_matches_null() {
    let range =
        |column: &str, match_type: &str, extra: Value| typed("range", column, match_type, extra);
    // Unlike `bound`, a range without a lower end leaves null users out (and `not` too).
    assert_eq!(rows(range("user", "STRING", json!({"upper": "b"}))), [0, 3]);
    assert_eq!(
        rows(not(range("user", "STRING", json!({"upper": "b"})))),
        [2, 5]
    );
    assert_eq!(
        rows(range(
            "added",
            "LONG",
            json!({"lower": 5, "upper": 10, "upperOpen": true})
        )),
        [3, 4]
    );
    assert_eq!(
        rows(range(
            "delta",
            "DOUBLE",
            json!({"lower": 0, "lowerOpen": true})
        )),
        [0, 2, 4, 5]
    );
    // A numeric range over a string column compares numerically; "x" sorts below numbers.
    assert_eq!(rows(range("rank", "LONG", json!({"lower": 9}))), [0, 1, 3]);
    assert_eq!(
        rows(range(
            "rank",
            "LONG",
            json!({"upper": 9, "upperOpen": true})
        )),
        [2, 5]
    );
    assert_eq!(parse_error(range("added", "LONG", json!({}))).status, 400);
    assert_eq!(
        parse_error(range("added", "LONG", json!({"lower": "abc"}))).status,
        400
    );
}

#[test]
fn like_regex_and_search() {
    let like = |dimension: &str, pattern: &str| json!({"type": "like", "dimension": dimension, "pattern": pattern});
    assert_eq!(rows(like("page", "%an%")), [1, 5]);
    assert_eq!(rows(like("page", "A____")), [0, 2, 4]);
    assert_eq!(rows(not(like("user", "a%"))), [2, 5]);
    assert_eq!(rows(like("added", "1%")), [0, 5]);
    let regex = |dimension: &str, pattern: &str| json!({"type": "regex", "dimension": dimension, "pattern": pattern});
    assert_eq!(rows(regex("page", "^[AC]")), [0, 2, 3, 4]);
    assert_eq!(rows(regex("user", "o")), [2, 5]);
    assert_eq!(rows(not(regex("user", "o"))), [0, 3]);
    assert_eq!(rows(regex("delta", "\\.5$")), [0, 4]);
    assert_eq!(parse_error(regex("page", "(")).status, 400);
    let search = |query: Value| json!({"type": "search", "dimension": "page", "query": query});
    assert_eq!(
        rows(search(
            json!({"type": "insensitive_contains", "value": "AN"})
        )),
        [1, 5]
    );
    assert_eq!(
        rows(search(
            json!({"type": "contains", "value": "AN", "caseSensitive": true})
        )),
        NONE
    );
    assert_eq!(
        rows(search(json!({"type": "fragment", "values": ["P", "e"]}))),
        [0, 2, 4]
    );
}

#[test]
fn patterns_are_length_limited() {
    let limits = Limits {
        max_pattern_length: 8,
        ..Limits::default()
    };
    let request = json!({
        "queryType": "scan", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "filter": {"type": "regex", "dimension": "page", "pattern": "a".repeat(9)},
    });
    let error = parse_query(request.to_string().as_bytes(), &limits).unwrap_err();
    assert_eq!(error.error, "Resource limit exceeded");
}

#[test]
fn column_comparison_interval_and_constants() {
    // rank "10" equals added 10 only in row 0.
    let comparison = json!({"type": "columnComparison", "dimensions": ["rank", "added"]});
    assert_eq!(rows(comparison), [0]);
    let interval = json!({"type": "interval", "dimension": "__time", "intervals": [
        "2015-09-12T00:00:00Z/2015-09-12T01:00:00Z", "2015-09-12T03:00:00Z/2015-09-12T04:00:00Z"
    ]});
    assert_eq!(rows(interval.clone()), [0, 1, 4, 5]);
    assert_eq!(rows(not(interval)), [2, 3]);
    assert_eq!(rows(json!({"type": "true"})), [0, 1, 2, 3, 4, 5]);
    assert_eq!(rows(json!({"type": "false"})), NONE);
    assert_eq!(rows(not(json!({"type": "false"}))), [0, 1, 2, 3, 4, 5]);
    let one_column = json!({"type": "columnComparison", "dimensions": ["rank"]});
    assert_eq!(parse_error(one_column).status, 400);
}
