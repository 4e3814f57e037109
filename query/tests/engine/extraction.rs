//! Extraction and filtered dimension specs (`docs/querying/dimensionspecs.md`): substring,
//! regex, upper/lower, strlen, timeFormat, inline map lookups and the listFiltered,
//! regexFiltered and prefixFiltered specs, in groupBy and topN.

use henge_query::{parse_query, Limits};
use serde_json::{json, Value};

use crate::common::run_wiki;

const START: &str = "2015-09-12T00:00:00.000Z";

/// `(value, edits)` per row of a groupBy over one dimension spec (output name `d`).
fn group_by(dimension: Value) -> Vec<(Value, i64)> {
    let response = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": [dimension],
        "aggregations": [{"type": "count", "name": "edits"}],
    }));
    let rows: Vec<Value> = serde_json::from_str(&response).unwrap();
    rows.iter()
        .map(|row| {
            assert_eq!(row["timestamp"], START);
            (
                row["event"]["d"].clone(),
                row["event"]["edits"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn extraction(dimension: &str, function: Value) -> Value {
    json!({"type": "extraction", "dimension": dimension, "outputName": "d",
           "extractionFn": function})
}

fn pairs(expected: Value) -> Vec<(Value, i64)> {
    expected
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].clone(), pair[1].as_i64().unwrap()))
        .collect()
}

#[test]
fn substring_upper_lower_and_strlen() {
    let substring = extraction(
        "page",
        json!({"type": "substring", "index": 0, "length": 2}),
    );
    assert_eq!(
        group_by(substring),
        pairs(json!([["Ap", 3], ["Ba", 2], ["Ch", 1]]))
    );
    // Past the end of every value: null.
    let past_end = extraction("page", json!({"type": "substring", "index": 6}));
    assert_eq!(group_by(past_end), pairs(json!([[null, 6]])));
    let upper = extraction("channel", json!({"type": "upper"}));
    assert_eq!(
        group_by(upper),
        pairs(json!([[null, 1], ["#DE", 1], ["#EN", 2], ["#FR", 2]]))
    );
    let lower = extraction("page", json!({"type": "lower"}));
    assert_eq!(
        group_by(lower),
        pairs(json!([["apple", 3], ["banana", 2], ["cherry", 1]]))
    );
    // user: alice, null, bob, alice, null, carol; null has length 0.
    let strlen = extraction("user", json!({"type": "strlen"}));
    assert_eq!(
        group_by(strlen),
        pairs(json!([["0", 2], ["3", 1], ["5", 3]]))
    );
    let mut as_long = extraction("user", json!({"type": "strlen"}));
    as_long["outputType"] = json!("LONG");
    assert_eq!(group_by(as_long), pairs(json!([[0, 2], [3, 1], [5, 3]])));
}

#[test]
fn regex_extracts_a_group_or_keeps_or_replaces_the_value() {
    let first_letter = extraction("channel", json!({"type": "regex", "expr": "#(\\w)"}));
    assert_eq!(
        group_by(first_letter),
        pairs(json!([[null, 1], ["d", 1], ["e", 2], ["f", 2]]))
    );
    let unmatched_kept = extraction("channel", json!({"type": "regex", "expr": "#(e)n"}));
    assert_eq!(
        group_by(unmatched_kept),
        pairs(json!([[null, 1], ["#de", 1], ["#fr", 2], ["e", 2]]))
    );
    let replaced = extraction(
        "channel",
        json!({"type": "regex", "expr": "#(e)n", "replaceMissingValue": true,
               "replaceMissingValueWith": "other"}),
    );
    assert_eq!(group_by(replaced), pairs(json!([["e", 2], ["other", 4]])));
}

#[test]
fn time_format_on_the_time_column_with_zones_and_granularity() {
    let hours = extraction("__time", json!({"type": "timeFormat", "format": "EEE HH"}));
    assert_eq!(
        group_by(hours),
        pairs(json!([["Sat 00", 2], ["Sat 01", 2], ["Sat 03", 2]]))
    );
    let shifted = extraction(
        "__time",
        json!({"type": "timeFormat", "format": "MMM dd HH:mm", "timeZone": "-01:30",
               "locale": "fr"}),
    );
    assert_eq!(group_by(shifted)[0], (json!("Sep 11 23:16"), 1));
    let bucketed = extraction(
        "__time",
        json!({"type": "timeFormat", "granularity": "hour", "timeZone": "UTC"}),
    );
    assert_eq!(
        group_by(bucketed),
        pairs(json!([
            ["2015-09-12T00:00:00.000Z", 2],
            ["2015-09-12T01:00:00.000Z", 2],
            ["2015-09-12T03:00:00.000Z", 2]
        ]))
    );
    let millis = extraction(
        "__time",
        json!({"type": "timeFormat", "granularity": "day", "asMillis": true}),
    );
    assert_eq!(group_by(millis), pairs(json!([["1442016000000", 6]])));
    // Named zones follow daylight saving: Denver is at -06:00 in September.
    let denver = extraction(
        "__time",
        json!({"type": "timeFormat", "format": "dd HH", "timeZone": "America/Denver"}),
    );
    assert_eq!(
        group_by(denver),
        pairs(json!([["11 18", 2], ["11 19", 2], ["11 21", 2]]))
    );
    let zone = parse_query(
        json!({"queryType": "groupBy", "dataSource": "wiki", "intervals": "2015/2016",
               "granularity": "all",
               "dimensions": [extraction("__time", json!({"type": "timeFormat",
                                                          "timeZone": "Mars/Olympus"}))]})
        .to_string()
        .as_bytes(),
        &Limits::default(),
    );
    assert_eq!(zone.unwrap_err().status, 400);
}

#[test]
fn map_lookups_replace_retain_or_null_missing_values() {
    let map = json!({"type": "map", "map": {"#en": "English", "#fr": "French"}});
    let missing_null = extraction("channel", json!({"type": "lookup", "lookup": map}));
    assert_eq!(
        group_by(missing_null),
        pairs(json!([[null, 2], ["English", 2], ["French", 2]]))
    );
    let retained = extraction(
        "channel",
        json!({"type": "lookup", "lookup": map, "retainMissingValue": true, "injective": true}),
    );
    assert_eq!(
        group_by(retained),
        pairs(json!([
            [null, 1],
            ["#de", 1],
            ["English", 2],
            ["French", 2]
        ]))
    );
    let lookup_spec = json!({"type": "lookup", "dimension": "channel", "outputName": "d",
                             "lookup": map, "replaceMissingValueWith": "?"});
    assert_eq!(
        group_by(lookup_spec),
        pairs(json!([["?", 2], ["English", 2], ["French", 2]]))
    );
}

#[test]
fn filtered_specs_null_out_rejected_values() {
    let channel = json!({"type": "default", "dimension": "channel", "outputName": "d"});
    let whitelist = json!({"type": "listFiltered", "delegate": channel,
                           "values": ["#en", "#fr"]});
    assert_eq!(
        group_by(whitelist),
        pairs(json!([[null, 2], ["#en", 2], ["#fr", 2]]))
    );
    let blacklist = json!({"type": "listFiltered", "delegate": channel,
                           "values": ["#en", "#fr"], "isWhitelist": false});
    assert_eq!(group_by(blacklist), pairs(json!([[null, 5], ["#de", 1]])));
    let regex = json!({"type": "regexFiltered", "delegate": channel, "pattern": "#.r"});
    assert_eq!(group_by(regex), pairs(json!([[null, 4], ["#fr", 2]])));
    let prefix = json!({"type": "prefixFiltered",
                        "delegate": extraction("channel", json!({"type": "upper"})),
                        "prefix": "#E"});
    assert_eq!(group_by(prefix), pairs(json!([[null, 4], ["#EN", 2]])));
}

#[test]
fn topn_ranks_extracted_values() {
    let response = run_wiki(json!({
        "queryType": "topN",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimension": extraction("page", json!({"type": "substring", "index": 0, "length": 1})),
        "metric": "edits",
        "threshold": 2,
        "aggregations": [{"type": "count", "name": "edits"}],
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"d": "A", "edits": 3},
            {"d": "B", "edits": 2},
        ]}])
        .to_string()
    );
}
