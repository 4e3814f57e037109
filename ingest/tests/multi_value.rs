//! Multi-value string dimensions from JSON arrays: each `multiValueHandling`, rollup on whole
//! value lists, empty arrays, schemaless discovery, spec validation and push ingestion.

use std::path::Path;

use henge_ingest::{parse_index_task, run_batch, RealtimeConfig, RealtimeIndex, SpecError};
use henge_segment::reader::ColumnRef;
use henge_segment::{merge_segments, ColumnType, Granularity, Segment};
use serde_json::{json, Value};

fn inline_spec(data: &[&str], dimensions_spec: Value, rollup: bool) -> Value {
    json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "tags",
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": dimensions_spec,
                "metricsSpec": [{"type": "count", "name": "rows"}],
                "granularitySpec": {"rollup": rollup, "queryGranularity": "day"}
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": data.join("\n")},
                "inputFormat": {"type": "json"}
            }
        }
    })
}

/// Ingests and opens the single segment.
fn ingest(spec: &Value, work: &Path) -> Segment {
    let task = parse_index_task(spec).unwrap();
    let output = run_batch(&task, &[], work, "v1").unwrap();
    assert_eq!(output.segments.len(), 1);
    Segment::from_vec(std::fs::read(&output.segments[0].path).unwrap()).unwrap()
}

/// Every row's values of a string column, in segment order.
fn lists(segment: &Segment, name: &str) -> Vec<Vec<Option<String>>> {
    let Some(ColumnRef::String(column)) = segment.column(name) else {
        panic!("{name} is a string column")
    };
    (0..segment.num_rows())
        .map(|row| {
            column
                .row_ids(row)
                .map(|id| column.value(id).map(str::to_owned))
                .collect()
        })
        .collect()
}

fn list(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|value| Some(value.to_string())).collect()
}

fn longs(segment: &Segment, name: &str) -> Vec<i64> {
    let Some(ColumnRef::Long(column)) = segment.column(name) else {
        panic!("{name} is a long column")
    };
    column.values().to_vec()
}

#[test]
fn each_multi_value_handling_orders_the_values() {
    let data = [
        r#"{"ts": "2020-01-01T00:00:00Z", "sa": ["b", "a", "b"], "ss": ["b", "a", "b"], "ar": ["b", "a", "b"], "one": ["x"]}"#,
        r#"{"ts": "2020-01-01T01:00:00Z", "sa": [], "ss": null, "ar": ["c", null], "one": "y"}"#,
    ];
    let dimensions = json!({"dimensions": [
        {"name": "sa", "type": "string"},
        {"name": "ss", "type": "string", "multiValueHandling": "sorted_set"},
        {"name": "ar", "type": "string", "multiValueHandling": "ARRAY"},
        "one",
    ]});
    let work = tempfile::tempdir().unwrap();
    let segment = ingest(&inline_spec(&data, dimensions, false), work.path());
    // Rows sort by (day, sa): the empty row first.
    assert_eq!(lists(&segment, "sa"), [vec![], list(&["a", "b", "b"])]);
    assert_eq!(lists(&segment, "ss"), [vec![None], list(&["a", "b"])]);
    assert_eq!(
        lists(&segment, "ar"),
        [vec![Some("c".into()), None], list(&["b", "a", "b"])]
    );
    // One element is a single value: that column stays single-value.
    assert_eq!(lists(&segment, "one"), [list(&["y"]), list(&["x"])]);
    let multi = |name: &str| match segment.column(name) {
        Some(ColumnRef::String(column)) => column.is_multi_value(),
        _ => panic!("{name} is a string column"),
    };
    assert!(multi("sa") && multi("ss") && multi("ar") && !multi("one"));
    // The empty row is in null's bitmap, so it matches null filters.
    let Some(ColumnRef::String(sa)) = segment.column("sa") else {
        panic!()
    };
    assert!(sa.has_nulls());
    assert_eq!(sa.bitmap(0).iter().collect::<Vec<_>>(), [0]);
}

#[test]
fn rollup_keys_hold_the_whole_list() {
    let data = [
        r#"{"ts": "2020-01-01T00:00:00Z", "sorted": ["b", "a"], "kept": ["b", "a"]}"#,
        r#"{"ts": "2020-01-01T01:00:00Z", "sorted": ["a", "b"], "kept": ["b", "a"]}"#,
        r#"{"ts": "2020-01-01T02:00:00Z", "sorted": ["a", "b"], "kept": ["a", "b"]}"#,
        r#"{"ts": "2020-01-01T03:00:00Z", "sorted": ["a"], "kept": ["a", "b"]}"#,
        r#"{"ts": "2020-01-01T04:00:00Z", "sorted": "a", "kept": ["a", "b"]}"#,
    ];
    let dimensions = json!({"dimensions": [
        "sorted",
        {"name": "kept", "type": "string", "multiValueHandling": "array"},
    ]});
    let work = tempfile::tempdir().unwrap();
    let segment = ingest(&inline_spec(&data, dimensions, true), work.path());
    // ["a"] and "a" are the same key; ["a", "b"] differs from both; the order of "kept"
    // matters, that of "sorted" does not.
    assert_eq!(
        lists(&segment, "sorted"),
        [list(&["a"]), list(&["a", "b"]), list(&["a", "b"])]
    );
    assert_eq!(
        lists(&segment, "kept"),
        [list(&["a", "b"]), list(&["a", "b"]), list(&["b", "a"])]
    );
    assert_eq!(longs(&segment, "rows"), [2, 1, 2]);
}

#[test]
fn discovered_arrays_make_multi_value_string_dimensions() {
    let data = [
        r#"{"ts": "2020-01-01T00:00:00Z", "tags": [3, "a", true], "n": 1}"#,
        r#"{"ts": "2020-01-01T00:00:01Z", "tags": "z", "n": [1, 2]}"#,
    ];
    for dimensions in [json!({}), json!({"useSchemaDiscovery": true})] {
        let work = tempfile::tempdir().unwrap();
        let segment = ingest(&inline_spec(&data, dimensions.clone(), false), work.path());
        let types: Vec<(String, ColumnType)> = segment
            .schema()
            .iter()
            .map(|column| (column.name.clone(), column.column_type))
            .collect();
        assert_eq!(types[0], ("tags".to_string(), ColumnType::String));
        assert_eq!(
            types[1],
            ("n".to_string(), ColumnType::String),
            "{dimensions}: an array makes n a string column"
        );
        assert_eq!(
            lists(&segment, "tags"),
            [list(&["3", "a", "true"]), list(&["z"])]
        );
        assert_eq!(lists(&segment, "n"), [list(&["1"]), list(&["1", "2"])]);
    }
}

#[test]
fn unknown_multi_value_handling_is_a_spec_error() {
    let spec = inline_spec(
        &[],
        json!({"dimensions": [{"name": "t", "multiValueHandling": "sorted"}]}),
        false,
    );
    let error = parse_index_task(&spec).unwrap_err();
    assert!(
        matches!(&error, SpecError::Invalid { path, .. }
            if path.ends_with("dimensions[0].multiValueHandling")),
        "{error:?}"
    );
}

#[test]
fn pushed_arrays_are_multi_value_rows_and_survive_merging() {
    let mut index = RealtimeIndex::new(RealtimeConfig {
        segment_granularity: Granularity::Hour,
        max_rows_per_segment: 1_000,
        max_rows_in_memory: 1_000,
    });
    let first = "{\"timestamp\": 1577836800000, \"tags\": [\"b\", \"a\"]}\n\
                 {\"timestamp\": 1577836800000, \"tags\": []}";
    let second = "{\"timestamp\": 1577836800001, \"tags\": \"c\"}";
    for body in [first, second] {
        index
            .push("events", body.as_bytes(), |_, _| "v1".to_string())
            .unwrap();
    }
    let sinks = index.sinks();
    let merged = {
        let mut bytes = Vec::new();
        merge_segments(&sinks[0].segments)
            .write(&mut bytes)
            .unwrap();
        Segment::from_vec(bytes).unwrap()
    };
    assert_eq!(
        lists(&merged, "tags"),
        [vec![], list(&["a", "b"]), list(&["c"])]
    );
}
