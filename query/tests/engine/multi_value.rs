//! Multi-value string dimensions (`docs/querying/multi-value-dimensions.md`): filters match a
//! row when any value matches, groupBy and topN explode rows, scan prints arrays. The
//! fixture is Druid's documentation example plus a second multi-value column; every expected
//! value below is counted by hand from these four rows:
//!
//! | row  | time       | tags         | country    | alt      | added |
//! |------|------------|--------------|------------|----------|-------|
//! | row1 | 2011-01-12 | [t1, t2, t3] | us         | [t9, us] | 1     |
//! | row2 | 2011-01-13 | [t3, t4, t5] | [us, fr]   | fr       | 2     |
//! | row3 | 2011-01-14 | [t5, t6, t7] | null       | null     | 4     |
//! | row4 | 2011-01-14 | []           | fr         | []       | 8     |

use henge_segment::reader::Segment;
use henge_segment::{ColumnSpec, ColumnType, Value};
use serde_json::{json, Value as Json};

use crate::common::{build, run_json, ts};

fn strings(values: &[&str]) -> Value {
    Value::Strings(values.iter().map(|value| Some(value.to_string())).collect())
}

fn fixture() -> Segment {
    let schema = vec![
        ColumnSpec::dimension("label", ColumnType::String),
        ColumnSpec::dimension("tags", ColumnType::String),
        ColumnSpec::dimension("country", ColumnType::String),
        ColumnSpec::dimension("alt", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Long),
    ];
    let rows = vec![
        (
            ts("2011-01-12T00:00:00Z"),
            vec![
                "row1".into(),
                strings(&["t1", "t2", "t3"]),
                "us".into(),
                strings(&["t9", "us"]),
                1i64.into(),
            ],
        ),
        (
            ts("2011-01-13T00:00:00Z"),
            vec![
                "row2".into(),
                strings(&["t3", "t4", "t5"]),
                strings(&["us", "fr"]),
                "fr".into(),
                2i64.into(),
            ],
        ),
        (
            ts("2011-01-14T00:00:00Z"),
            vec![
                "row3".into(),
                strings(&["t5", "t6", "t7"]),
                Value::Null,
                Value::Null,
                4i64.into(),
            ],
        ),
        (
            ts("2011-01-14T00:00:00Z"),
            vec![
                "row4".into(),
                strings(&[]),
                "fr".into(),
                strings(&[]),
                8i64.into(),
            ],
        ),
    ];
    build(schema, &rows)
}

const START: &str = "2011-01-01T00:00:00.000Z";

fn run(mut request: Json) -> Json {
    request["dataSource"] = json!("test");
    request["intervals"] = json!(["2011-01-01/2011-02-01"]);
    run_json(request, &[("test_seg", &fixture())])
}

fn group_by(dimensions: Json, extra: Json) -> Json {
    let mut request = json!({
        "queryType": "groupBy",
        "granularity": "all",
        "dimensions": dimensions,
        "aggregations": [
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    run(request)
}

fn row(event: Json) -> Json {
    json!({"version": "v1", "timestamp": START, "event": event})
}

/// `(tags, count, added)` rows of a groupBy on one dimension named `tags`.
fn tag_rows(expected: &[(Option<&str>, u64, i64)]) -> Json {
    expected
        .iter()
        .map(|(tag, count, added)| row(json!({"tags": tag, "count": count, "added": added})))
        .collect()
}

/// The labels of the rows a filter matches.
fn matching(filter: Json) -> Vec<String> {
    let response = group_by(json!(["label"]), json!({"filter": filter}));
    response
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["event"]["label"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn value_filters_match_when_any_value_matches() {
    let selector = |value: Json| json!({"type": "selector", "dimension": "tags", "value": value});
    assert_eq!(matching(selector(json!("t3"))), ["row1", "row2"]);
    assert_eq!(
        matching(json!({"type": "in", "dimension": "tags", "values": ["t1", "t7"]})),
        ["row1", "row3"]
    );
    assert_eq!(
        matching(json!({"type": "bound", "dimension": "tags", "lower": "t6"})),
        ["row3"]
    );
    assert_eq!(
        matching(json!({"type": "like", "dimension": "tags", "pattern": "t_"})),
        ["row1", "row2", "row3"]
    );
    assert_eq!(
        matching(json!({"type": "regex", "dimension": "tags", "pattern": "^t[45]$"})),
        ["row2", "row3"]
    );
    assert_eq!(
        matching(json!({"type": "search", "dimension": "tags",
                        "query": {"type": "contains", "value": "7"}})),
        ["row3"]
    );
    assert_eq!(
        matching(
            json!({"type": "equals", "column": "tags", "matchValueType": "STRING",
                        "matchValue": "t5"})
        ),
        ["row2", "row3"]
    );
    assert_eq!(
        matching(
            json!({"type": "range", "column": "tags", "matchValueType": "STRING",
                        "upper": "t2", "upperOpen": true})
        ),
        ["row1"]
    );
}

#[test]
fn empty_rows_match_null_filters() {
    let selector = |value: Json| json!({"type": "selector", "dimension": "tags", "value": value});
    assert_eq!(matching(selector(Json::Null)), ["row4"]);
    assert_eq!(
        matching(json!({"type": "null", "column": "tags"})),
        ["row4"]
    );
    // The null-valued single row of `country` matches too.
    assert_eq!(
        matching(json!({"type": "null", "column": "country"})),
        ["row3"]
    );
}

#[test]
fn logical_filters_combine_per_row() {
    let selector = |value: &str| json!({"type": "selector", "dimension": "tags", "value": value});
    assert_eq!(
        matching(json!({"type": "and", "fields": [selector("t1"), selector("t3")]})),
        ["row1"]
    );
    assert_eq!(
        matching(json!({"type": "or", "fields": [selector("t1"), selector("t3")]})),
        ["row1", "row2"]
    );
    // `not` complements the rows holding t3, except the empty row, which is null (unknown).
    assert_eq!(
        matching(json!({"type": "not", "field": selector("t3")})),
        ["row3"]
    );
    // A row holding both "us" and "fr" is neither excluded by one nor the other.
    let country = |value: &str| json!({"type": "selector", "dimension": "country", "value": value});
    assert_eq!(
        matching(json!({"type": "and", "fields": [country("us"), country("fr")]})),
        ["row2"]
    );
    assert_eq!(
        matching(json!({"type": "not", "field": country("us")})),
        ["row4"]
    );
}

#[test]
fn column_comparison_matches_overlapping_values() {
    // row1 and row2 share a value; row3 has two nulls; row4's empty row is null, fr is not.
    assert_eq!(
        matching(json!({"type": "columnComparison", "dimensions": ["country", "alt"]})),
        ["row1", "row2", "row3"]
    );
}

#[test]
fn group_by_explodes_rows_and_groups_empty_rows_as_null() {
    assert_eq!(
        group_by(json!(["tags"]), json!({})),
        tag_rows(&[
            (None, 1, 8),
            (Some("t1"), 1, 1),
            (Some("t2"), 1, 1),
            (Some("t3"), 2, 3),
            (Some("t4"), 1, 2),
            (Some("t5"), 2, 6),
            (Some("t6"), 1, 4),
            (Some("t7"), 1, 4),
        ])
    );
}

#[test]
fn group_by_filter_applies_before_the_explosion() {
    // Druid's documented example: the filter keeps row1 and row2, whose every value groups.
    let filter = json!({"type": "selector", "dimension": "tags", "value": "t3"});
    assert_eq!(
        group_by(json!(["tags"]), json!({"filter": filter})),
        tag_rows(&[
            (Some("t1"), 1, 1),
            (Some("t2"), 1, 1),
            (Some("t3"), 2, 3),
            (Some("t4"), 1, 2),
            (Some("t5"), 1, 2),
        ])
    );
}

#[test]
fn list_filtered_dimension_keeps_only_listed_values() {
    let dimension = json!([{
        "type": "listFiltered",
        "delegate": {"type": "default", "dimension": "tags", "outputName": "tags"},
        "values": ["t3"],
    }]);
    let filter = json!({"type": "selector", "dimension": "tags", "value": "t3"});
    assert_eq!(
        group_by(dimension.clone(), json!({"filter": filter})),
        tag_rows(&[(Some("t3"), 2, 3)])
    );
    // Without the filter, rows left without values (row3, and the empty row4) group as null.
    assert_eq!(
        group_by(dimension, json!({})),
        tag_rows(&[(None, 2, 12), (Some("t3"), 2, 3)])
    );
    let blacklist = json!([{
        "type": "listFiltered",
        "delegate": "tags",
        "values": ["t1", "t2", "t3", "t4", "t5"],
        "isWhitelist": false,
    }]);
    assert_eq!(
        group_by(
            blacklist,
            json!({"filter": {"type": "selector", "dimension": "tags", "value": "t5"}})
        ),
        tag_rows(&[(None, 1, 2), (Some("t6"), 1, 4), (Some("t7"), 1, 4)])
    );
}

#[test]
fn regex_and_prefix_filtered_dimensions_apply_per_value() {
    let regex = json!([{"type": "regexFiltered", "delegate": "tags", "pattern": "^t[67]$"}]);
    assert_eq!(
        group_by(
            regex,
            json!({"filter": {"type": "selector", "dimension": "label", "value": "row3"}})
        ),
        tag_rows(&[(Some("t6"), 1, 4), (Some("t7"), 1, 4)])
    );
    let prefix = json!([{"type": "prefixFiltered", "delegate": "tags", "prefix": "t5"}]);
    assert_eq!(
        group_by(prefix, json!({})),
        tag_rows(&[(None, 2, 9), (Some("t5"), 2, 6)])
    );
}

#[test]
fn extraction_functions_apply_per_value() {
    // Every value of a row maps to "t": the row counts once per value it holds.
    let dimension = json!([{
        "type": "extraction",
        "dimension": "tags",
        "outputName": "tags",
        "extractionFn": {"type": "regex", "expr": "^(t)"},
    }]);
    assert_eq!(
        group_by(dimension, json!({})),
        tag_rows(&[(None, 1, 8), (Some("t"), 9, 21)])
    );
    let upper = json!([{
        "type": "extraction",
        "dimension": "tags",
        "outputName": "tags",
        "extractionFn": {"type": "upper"},
    }]);
    assert_eq!(
        group_by(
            upper,
            json!({"filter": {"type": "selector", "dimension": "label", "value": "row1"}})
        ),
        tag_rows(&[(Some("T1"), 1, 1), (Some("T2"), 1, 1), (Some("T3"), 1, 1)])
    );
}

#[test]
fn two_multi_value_dimensions_give_the_cross_product() {
    let expected: Vec<Json> = [
        (None, Some("fr"), 1, 8),
        (Some("t1"), Some("us"), 1, 1),
        (Some("t2"), Some("us"), 1, 1),
        (Some("t3"), Some("fr"), 1, 2),
        (Some("t3"), Some("us"), 2, 3),
        (Some("t4"), Some("fr"), 1, 2),
        (Some("t4"), Some("us"), 1, 2),
        (Some("t5"), None, 1, 4),
        (Some("t5"), Some("fr"), 1, 2),
        (Some("t5"), Some("us"), 1, 2),
        (Some("t6"), None, 1, 4),
        (Some("t7"), None, 1, 4),
    ]
    .iter()
    .map(|(tags, country, count, added)| {
        row(json!({"tags": tags, "country": country, "count": count, "added": added}))
    })
    .collect();
    assert_eq!(
        group_by(json!(["tags", "country"]), json!({})),
        Json::Array(expected)
    );
}

#[test]
fn having_and_limit_spec_work_on_exploded_groups() {
    assert_eq!(
        group_by(
            json!(["tags"]),
            json!({"having": {"type": "greaterThan", "aggregation": "count", "value": 1}})
        ),
        tag_rows(&[(Some("t3"), 2, 3), (Some("t5"), 2, 6)])
    );
    assert_eq!(
        group_by(
            json!(["tags"]),
            json!({"limitSpec": {"type": "default", "limit": 2,
                   "columns": [{"dimension": "added", "direction": "descending"}]}})
        ),
        tag_rows(&[(None, 1, 8), (Some("t5"), 2, 6)])
    );
}

fn top_n(extra: Json) -> Json {
    let mut request = json!({
        "queryType": "topN",
        "granularity": "all",
        "dimension": "tags",
        "metric": "added",
        "threshold": 3,
        "aggregations": [
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    run(request)
}

#[test]
fn top_n_explodes_rows_and_skips_empty_ones() {
    let timestamp = "2011-01-12T00:00:00.000Z";
    assert_eq!(
        top_n(json!({})),
        json!([{"timestamp": timestamp, "result": [
            {"tags": "t5", "count": 2, "added": 6},
            {"tags": "t6", "count": 1, "added": 4},
            {"tags": "t7", "count": 1, "added": 4},
        ]}])
    );
    // Druid's topN loops over each row's values: the empty row4 adds no null entry.
    let all = top_n(json!({"threshold": 10, "metric": {"type": "dimension"}}));
    let tags: Vec<&Json> = all[0]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["tags"])
        .collect();
    assert_eq!(tags, ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]);
    let prefix = json!({"type": "prefixFiltered", "delegate": "tags", "prefix": "t5"});
    assert_eq!(
        top_n(json!({"dimension": prefix})),
        json!([{"timestamp": timestamp, "result": [{"tags": "t5", "count": 2, "added": 6}]}])
    );
}

#[test]
fn timeseries_counts_rows_once() {
    let response = run(json!({
        "queryType": "timeseries",
        "granularity": "all",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "filtered", "name": "withT5",
             "filter": {"type": "selector", "dimension": "tags", "value": "t5"},
             "aggregator": {"type": "count", "name": "withT5"}},
            {"type": "stringFirst", "name": "firstTags", "fieldName": "tags"},
            {"type": "stringLast", "name": "lastTags", "fieldName": "tags"},
            {"type": "stringAny", "name": "anyTags", "fieldName": "tags"},
            {"type": "stringAny", "name": "anyFirstTag", "fieldName": "tags",
             "aggregateMultipleValues": false},
            {"type": "stringFirst", "name": "firstCountry", "fieldName": "country"},
            {"type": "stringLast", "name": "lastCountry", "fieldName": "country"},
        ],
    }));
    // Multi-value rows read as Java's List.toString. row4 ties row3's time and comes later in
    // the segment: its empty tags are null, which stringLast takes (Druid does not skip nulls
    // there either).
    assert_eq!(
        response,
        json!([{"timestamp": "2011-01-12T00:00:00.000Z", "result": {
            "rows": 4, "withT5": 2, "anyTags": "[t1, t2, t3]", "anyFirstTag": "t1",
            "firstTags": "[t1, t2, t3]", "lastTags": null,
            "firstCountry": "us", "lastCountry": "fr",
        }}])
    );
}

#[test]
fn scan_prints_arrays_for_multi_value_rows() {
    let response = run(json!({
        "queryType": "scan",
        "columns": ["label", "tags", "country"],
        "resultFormat": "compactedList",
    }));
    assert_eq!(
        response[0]["events"],
        json!([
            ["row1", ["t1", "t2", "t3"], "us"],
            ["row2", ["t3", "t4", "t5"], ["us", "fr"]],
            ["row3", ["t5", "t6", "t7"], null],
            ["row4", null, "fr"],
        ])
    );
    let list = run(json!({"queryType": "scan", "columns": ["tags"], "limit": 2}));
    assert_eq!(
        list[0]["events"],
        json!([{"tags": ["t1", "t2", "t3"]}, {"tags": ["t3", "t4", "t5"]}])
    );
    assert_eq!(
        list[0]["rowSignature"],
        json!([{"name": "tags", "type": "STRING"}])
    );
}

#[test]
fn segment_metadata_reports_multiple_values() {
    let response = run(json!({"queryType": "segmentMetadata", "analysisTypes": ["cardinality"]}));
    let columns = &response[0]["columns"];
    assert_eq!(columns["tags"]["hasMultipleValues"], true);
    assert_eq!(columns["tags"]["hasNulls"], true);
    // null, t1 ... t7.
    assert_eq!(columns["tags"]["cardinality"], 8);
    assert_eq!(columns["country"]["hasMultipleValues"], true);
    assert_eq!(columns["country"]["cardinality"], 3);
    assert_eq!(columns["label"]["hasMultipleValues"], false);
    assert_eq!(columns["added"]["hasMultipleValues"], false);
}
