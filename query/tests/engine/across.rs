//! GroupBy split by key between workers over many segments (`GroupAcross`, what a data node
//! runs when it merges its segments itself) against the same query run segment by segment
//! and merged: the finished answers must be identical, for one-dimension and
//! several-dimension keys, range and hash splits, numeric outputs, filters, nulls, and
//! segments small enough to be grouped on their own.

use henge_query::{
    finalize, merge, merge_to_wire, run_on_segment, GroupAcross, PartialResult, Query,
};
use henge_segment::reader::Segment;
use henge_segment::{ColumnSpec, ColumnType, Value};
use serde_json::{json, Value as Json};

use super::common::{build, query, ts};

/// A deterministic stream of numbers (xorshift).
struct Numbers(u64);

impl Numbers {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// A segment of `rows` rows on day `day` of September 2015: `key` (one of `keys` values,
/// sometimes null), `side` (one of 20, or of `sides`), `number` (the key's number as a
/// long), `added` (long, sometimes null) and `delta` (a double in halves, so that sums are
/// exact in any order).
fn segment(seed: u64, day: u32, rows: usize, keys: u64, sides: u64) -> Segment {
    let schema = vec![
        ColumnSpec::dimension("key", ColumnType::String),
        ColumnSpec::dimension("side", ColumnType::String),
        ColumnSpec::dimension("number", ColumnType::Long),
        ColumnSpec::metric("added", ColumnType::Long),
        ColumnSpec::metric("delta", ColumnType::Double),
    ];
    let mut numbers = Numbers(seed);
    let start = ts(&format!("2015-09-{day:02}T00:00:00.000Z"));
    let rows: Vec<(i64, Vec<Value>)> = (0..rows)
        .map(|row| {
            let key = numbers.below(keys);
            let side = numbers.below(sides);
            let added = numbers.below(100) as i64;
            let delta = numbers.below(64) as f64 / 2.0 - 8.0;
            (
                start + row as i64,
                vec![
                    match key % 97 {
                        0 => Value::Null,
                        _ => Value::String(format!("k{key:07}")),
                    },
                    Value::String(format!("side-{side}")),
                    Value::Long(key as i64),
                    match added % 10 {
                        0 => Value::Null,
                        _ => Value::Long(added),
                    },
                    Value::Double(delta),
                ],
            )
        })
        .collect();
    build(schema, &rows)
}

/// Three large segments and a small one (grouped on its own: dense keys).
fn segments() -> Vec<Segment> {
    vec![
        segment(7, 1, 90_000, 400_000, 20),
        segment(11, 2, 80_000, 400_000, 20),
        segment(13, 3, 300, 400_000, 20),
        segment(17, 4, 90_000, 400_000, 20),
    ]
}

/// The answer segment by segment: each one's partial, merged, finished.
fn by_segment(query: &Query, segments: &[Segment]) -> Json {
    let partials = segments
        .iter()
        .map(|segment| run_on_segment(query, segment, "seg").expect("run"))
        .collect();
    finalize(query, merge(query, partials).expect("merge")).expect("finalize")
}

/// The answer split between `workers`: each worker's partial, written to the wire as a data
/// node does, read back, finished.
fn across(query: &Query, segments: &[Segment], workers: usize) -> Json {
    let plan = GroupAcross::plan(query, workers).expect("the query qualifies");
    let partials = (0..workers)
        .map(|worker| plan.run(query, worker, segments, &|| false).expect("run"))
        .collect();
    let wire = merge_to_wire(query, partials).expect("merge to wire");
    let merged = PartialResult::from_wire(&wire).expect("read back");
    finalize(query, merged).expect("finalize")
}

fn group_by(dimensions: Json, extra: Json) -> Query {
    let mut spec = json!({
        "queryType": "groupBy",
        "dataSource": "test",
        "intervals": ["2015-09-01/2015-10-01"],
        "granularity": "all",
        "dimensions": dimensions,
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
            {"type": "doubleMean", "name": "mean", "fieldName": "delta"},
            {"type": "longMin", "name": "least", "fieldName": "added"},
            {"type": "filtered", "filter": {"type": "selector", "dimension": "side", "value": "side-3"},
             "aggregator": {"type": "longSum", "name": "side3", "fieldName": "added"}}
        ]
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    query(spec)
}

fn assert_same(query: &Query, segments: &[Segment]) {
    let expected = by_segment(query, segments);
    assert!(expected.as_array().is_some_and(|rows| rows.len() > 100));
    for workers in [1, 2, 3] {
        assert_eq!(
            across(query, segments, workers),
            expected,
            "{workers} workers"
        );
    }
}

#[test]
fn one_string_dimension_split_by_range() {
    assert_same(&group_by(json!(["key"]), json!({})), &segments());
}

#[test]
fn high_cardinality_first_then_low_split_by_range() {
    assert_same(&group_by(json!(["key", "side"]), json!({})), &segments());
}

#[test]
fn low_cardinality_first_split_by_hash() {
    let segments = vec![
        segment(3, 1, 20_000, 5_000, 20),
        segment(5, 2, 20_000, 5_000, 20),
    ];
    assert_same(&group_by(json!(["side", "key"]), json!({})), &segments);
}

#[test]
fn dense_segments_are_grouped_on_their_own_once() {
    // About 9,500 keys per segment: enough for a range split, few enough (14 bits) that
    // each segment is grouped on its own, by one worker.
    let segments = vec![
        segment(19, 1, 30_000, 10_000, 20),
        segment(23, 2, 30_000, 10_000, 20),
        segment(29, 3, 30_000, 10_000, 20),
    ];
    assert_same(&group_by(json!(["key"]), json!({})), &segments);
}

#[test]
fn numeric_outputs_and_limits() {
    let query = group_by(
        json!([{"type": "default", "dimension": "number", "outputName": "n", "outputType": "LONG"}]),
        json!({"limitSpec": {"type": "default", "limit": 500,
            "columns": [{"dimension": "rows", "direction": "descending"},
                        {"dimension": "n", "direction": "ascending", "dimensionOrder": "numeric"}]}}),
    );
    assert_same(&query, &segments());
}

#[test]
fn filtered_rows_resolve_ids_as_they_come() {
    let query = group_by(
        json!(["key"]),
        json!({"filter": {"type": "bound", "dimension": "key", "lower": "k0100000", "upper": "k0150000"}}),
    );
    assert_same(&query, &segments());
}

#[test]
fn queries_that_keep_segment_rows_do_not_qualify() {
    let by_day = group_by(json!(["key"]), json!({"granularity": "day"}));
    assert!(GroupAcross::plan(&by_day, 2).is_none());
    let first = query(json!({
        "queryType": "groupBy", "dataSource": "test", "intervals": ["2015-09-01/2015-10-01"],
        "granularity": "all", "dimensions": ["key"],
        "aggregations": [{"type": "longFirst", "name": "first", "fieldName": "added"}]
    }));
    assert!(GroupAcross::plan(&first, 2).is_none());
}

#[test]
fn too_many_groups_fail_as_druid_does() {
    let query = group_by(
        json!(["key"]),
        json!({"context": {"bufferGrouperMaxSize": 1000}}),
    );
    let segments = segments();
    let plan = GroupAcross::plan(&query, 2).expect("qualifies");
    let error = plan
        .run(&query, 0, &segments, &|| false)
        .expect_err("over the limit");
    assert!(
        error.to_string().contains("Resource limit exceeded"),
        "{error}"
    );
}

#[test]
fn splitting_pays_on_wide_keys_only() {
    let segments = segments();
    assert!(GroupAcross::pays_on(
        &group_by(json!(["key"]), json!({})),
        &segments
    ));
    assert!(!GroupAcross::pays_on(
        &group_by(json!(["side"]), json!({})),
        &segments
    ));
    // Transformed outputs are not estimated wide: they may be far fewer than the values.
    let prefix = json!([{"type": "extraction", "dimension": "key", "outputName": "k",
        "extractionFn": {"type": "substring", "index": 0, "length": 3}}]);
    assert!(!GroupAcross::pays_on(
        &group_by(prefix, json!({})),
        &segments
    ));
    // A dimension the segments lack is one value, null: no wider than the others.
    assert!(!GroupAcross::pays_on(
        &group_by(json!(["side", "absent"]), json!({})),
        &segments
    ));
}
