//! segmentMetadata: the default analyses (cardinality, interval, minmax) per segment in
//! column order, and `toInclude`, `size` and `merge` (columns by name) across segments.

use serde_json::{json, Value};

use crate::common::{run_json, wiki, wiki_segment, WIKI_ROWS};

fn column(
    type_name: &str,
    has_nulls: bool,
    size: i64,
    strings: Option<(i64, Value, Value)>,
) -> Value {
    let (cardinality, min, max) = match strings {
        Some((cardinality, min, max)) => (json!(cardinality), min, max),
        None => (Value::Null, Value::Null, Value::Null),
    };
    json!({"typeSignature": type_name, "type": type_name, "hasMultipleValues": false,
           "hasNulls": has_nulls, "size": size, "cardinality": cardinality,
           "minValue": min, "maxValue": max, "errorMessage": null})
}

#[test]
fn default_analyses_per_segment() {
    let id = "wiki_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_v1";
    let segment = wiki();
    let response = run_json(
        json!({"queryType": "segmentMetadata", "dataSource": "wiki"}),
        &[(id, &segment)],
    );
    let expected = json!([{
        "id": id,
        "intervals": ["2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"],
        "columns": {
            "__time": column("LONG", false, 0, None),
            "channel": column("STRING", true, 0, Some((4, Value::Null, json!("#fr")))),
            "page": column("STRING", false, 0, Some((3, json!("Apple"), json!("Cherry")))),
            "user": column("STRING", true, 0, Some((4, Value::Null, json!("carol")))),
            "rank": column("STRING", true, 0, Some((6, Value::Null, json!("x")))),
            "added": column("LONG", true, 0, None),
            "delta": column("DOUBLE", true, 0, None),
        },
        "size": 0,
        "numRows": 6,
        "aggregators": null,
        "timestampSpec": null,
        "queryGranularity": null,
        "rollup": null,
    }]);
    assert_eq!(response.to_string(), expected.to_string());
}

#[test]
fn merged_size_and_listed_columns() {
    let first = wiki_segment(&WIKI_ROWS[..3]);
    let second = wiki_segment(&WIKI_ROWS[3..]);
    let request = json!({"queryType": "segmentMetadata", "dataSource": "wiki",
                         "intervals": ["2015-09-12/2015-09-13"], "merge": true,
                         "toInclude": {"type": "list", "columns": ["page", "added"]},
                         "analysisTypes": ["size", "cardinality"]});
    let response = run_json(request, &[("b", &second), ("a", &first)]);
    let expected = json!([{
        "id": "merged",
        "intervals": null,
        "columns": {
            "added": column("LONG", true, 48, None),
            // Apple, Banana, Apple | Cherry, Apple, Banana: 16 + 17 bytes.
            "page": column("STRING", false, 33, Some((3, Value::Null, Value::Null))),
        },
        "size": 81,
        "numRows": 6,
        "aggregators": null,
        "timestampSpec": null,
        "queryGranularity": null,
        "rollup": null,
    }]);
    assert_eq!(response.to_string(), expected.to_string());
    let unmerged = run_json(
        json!({"queryType": "segmentMetadata", "dataSource": "wiki",
               "toInclude": {"type": "none"}}),
        &[("b", &second), ("a", &first)],
    );
    let ids: Vec<&Value> = unmerged
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&json!("a"), &json!("b")]);
    assert_eq!(unmerged[0]["columns"], json!({}));
}

#[test]
fn merging_folds_min_max_and_flags_type_conflicts() {
    use henge_segment::{ColumnSpec, ColumnType, Value as Cell};

    use crate::common::{build, ts};

    let strings = build(
        vec![ColumnSpec::dimension("x", ColumnType::String)],
        &[(ts("2015-09-12T01:00:00Z"), vec![Cell::from(Some("b"))])],
    );
    let with_null = build(
        vec![ColumnSpec::dimension("x", ColumnType::String)],
        &[
            (ts("2015-09-12T02:00:00Z"), vec![Cell::from(None::<&str>)]),
            (ts("2015-09-12T03:00:00Z"), vec![Cell::from(Some("a"))]),
        ],
    );
    let longs = build(
        vec![ColumnSpec::dimension("x", ColumnType::Long)],
        &[(ts("2015-09-12T04:00:00Z"), vec![Cell::from(Some(1i64))])],
    );
    let request = json!({"queryType": "segmentMetadata", "dataSource": "t", "merge": true,
                         "toInclude": {"type": "list", "columns": ["x"]}});
    let merged = run_json(request.clone(), &[("s", &strings), ("n", &with_null)]);
    // The largest cardinality (null and "a"); a null minimum wins; the maximum ignores nulls.
    assert_eq!(
        merged[0]["columns"]["x"],
        column("STRING", true, 0, Some((2, Value::Null, json!("b"))))
    );
    assert_eq!(
        merged[0]["intervals"],
        json!([
            "2015-09-12T01:00:00.000Z/2015-09-12T01:00:00.001Z",
            "2015-09-12T02:00:00.000Z/2015-09-12T03:00:00.001Z"
        ])
    );
    let conflict = run_json(request, &[("s", &strings), ("l", &longs)]);
    let mut expected = column("STRING", false, -1, None);
    expected["errorMessage"] = json!("error:cannot_merge_diff_types: [LONG] and [STRING]");
    assert_eq!(conflict[0]["columns"]["x"], expected);
}
