//! Golden segment files: `compat/v1.seg` and `compat/v2.seg` must stay readable forever, with
//! every value below. The current writer must reproduce the current version's file; regenerate
//! it only when the fixture itself changes: `HENGE_REGEN_GOLDEN=1 cargo test -p henge-segment
//! --test golden`. A new format version adds a new file; old files stay (v1.seg was written
//! by the v1 writer from this fixture without the `tags` column).

use std::path::PathBuf;
use std::sync::Once;

use henge_segment::time::parse_timestamp;
use henge_segment::{
    ColumnRef, ColumnSpec, ColumnType, Segment, SegmentBuilder, Value, FORMAT_VERSION,
};
use serde_json::json;

fn golden_path(version: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("compat/v{version}.seg"))
}

fn ts(text: &str) -> i64 {
    parse_timestamp(text).unwrap()
}

/// The fixture, pushed out of order so the file also pins the sort.
fn fixture() -> Vec<u8> {
    let mut builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::dimension("user", ColumnType::String),
        ColumnSpec::dimension("tags", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Long),
        ColumnSpec::metric("ratio", ColumnType::Double),
    ]);
    // Multi-value rows, in push order: a list, an empty list, one value, nothing (null), and
    // a list with a null and a repeat.
    let tags = [
        Value::Strings(vec![Some("b".into()), Some("a".into())]),
        Value::Strings(vec![]),
        Value::Strings(vec![Some("x".into())]),
        Value::Strings(vec![None, Some("x".into()), Some("x".into())]),
        Value::Null,
    ];
    let rows: [(&str, Value, &str, Value, f64); 5] = [
        (
            "2015-09-12T01:00:00Z",
            "Zebra".into(),
            "bob",
            10i64.into(),
            0.5,
        ),
        (
            "2015-09-12T00:00:00Z",
            Value::Null,
            "alice",
            Value::Null,
            1.25,
        ),
        (
            "2015-09-12T00:00:00Z",
            "Apple".into(),
            "émile",
            (-3i64).into(),
            -0.0,
        ),
        (
            "2015-09-12T02:30:15.123Z",
            "Apple".into(),
            "",
            7i64.into(),
            2.0,
        ),
        (
            "2015-09-12T00:00:00Z",
            "Apple".into(),
            "bob",
            1i64.into(),
            1e300,
        ),
    ];
    for ((time, page, user, added, ratio), tags) in rows.into_iter().zip(tags) {
        builder.push_row(
            ts(time),
            &[page, user.into(), tags, added, Value::Double(ratio)],
        );
    }
    // Keys in sorted order, so the JSON is the same with or without serde_json's
    // `preserve_order` feature.
    builder.set_metadata(json!({
        "aggregators": [{"fieldName": "added", "name": "added", "type": "longSum"}],
        "queryGranularity": "NONE",
        "rollup": false,
    }));
    let mut bytes = Vec::new();
    builder.write(&mut bytes).unwrap();
    bytes
}

/// Reads a golden file, first rewriting the current version's file when
/// `HENGE_REGEN_GOLDEN=1` (once per test run, before any test reads it).
fn golden_bytes(version: u32) -> Vec<u8> {
    static REGENERATE: Once = Once::new();
    REGENERATE.call_once(|| {
        if std::env::var("HENGE_REGEN_GOLDEN").as_deref() == Ok("1") {
            std::fs::write(golden_path(FORMAT_VERSION), fixture()).unwrap();
        }
    });
    std::fs::read(golden_path(version)).unwrap()
}

#[test]
fn current_writer_reproduces_the_golden_file_byte_for_byte() {
    let golden = golden_bytes(FORMAT_VERSION);
    assert!(
        golden == fixture(),
        "writer output differs from compat/v{FORMAT_VERSION}.seg"
    );
}

#[test]
fn reads_every_value_of_v1() {
    check_common_values(&golden_bytes(1), false);
}

#[test]
fn reads_every_value_of_v2() {
    let bytes = golden_bytes(2);
    let segment = check_common_values(&bytes, true);
    let Some(ColumnRef::String(tags)) = segment.column("tags") else {
        panic!("tags")
    };
    assert!(tags.is_multi_value());
    assert!(tags.has_nulls());
    assert_eq!(tags.cardinality(), 4);
    let values: Vec<_> = (0..4).map(|id| tags.value(id)).collect();
    assert_eq!(values, [None, Some("a"), Some("b"), Some("x")]);
    // Rows in segment order: alice [], Apple/bob null, Apple/émile ["x"], Zebra ["b", "a"],
    // 02:30 [null, "x", "x"].
    let rows: Vec<Vec<u32>> = (0..5).map(|row| tags.row_ids(row).collect()).collect();
    assert_eq!(rows, [vec![], vec![0], vec![3], vec![2, 1], vec![0, 3, 3]]);
    let bitmap = |id: u32| tags.bitmap(id).iter().collect::<Vec<_>>();
    assert_eq!(bitmap(0), [0, 1, 4]);
    assert_eq!(bitmap(1), [3]);
    assert_eq!(bitmap(2), [3]);
    assert_eq!(bitmap(3), [2, 4]);
    assert_eq!(tags.row_id(0), 0);
    assert_eq!(tags.row_id(3), 2);
    assert_eq!(tags.lookup(Some("x")), Some(3));
    // A single-value column of a v2 file is laid out as in v1.
    let Some(ColumnRef::String(page)) = segment.column("page") else {
        panic!("page")
    };
    assert!(!page.is_multi_value());
}

/// Checks what v1 and v2 files share and returns the opened segment.
fn check_common_values(bytes: &[u8], with_tags: bool) -> Segment {
    let bytes = bytes.to_vec();
    let segment = Segment::from_vec(bytes.clone()).unwrap();
    assert_eq!(segment.num_rows(), 5);
    assert_eq!(segment.size_bytes(), bytes.len() as u64);
    assert_eq!(segment.crc32(), crc32fast::hash(&bytes));
    let mut schema = vec![
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::dimension("user", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Long),
        ColumnSpec::metric("ratio", ColumnType::Double),
    ];
    if with_tags {
        schema.insert(2, ColumnSpec::dimension("tags", ColumnType::String));
    }
    assert_eq!(segment.schema(), schema);
    let midnight = ts("2015-09-12T00:00:00Z");
    assert_eq!(
        segment.times(),
        [
            midnight,
            midnight,
            midnight,
            ts("2015-09-12T01:00:00Z"),
            ts("2015-09-12T02:30:15.123Z")
        ]
    );
    assert_eq!(segment.min_time(), Some(midnight));
    assert_eq!(segment.max_time(), Some(ts("2015-09-12T02:30:15.123Z")));

    let Some(ColumnRef::String(page)) = segment.column("page") else {
        panic!("page")
    };
    assert!(page.has_nulls());
    assert_eq!(page.cardinality(), 3);
    assert_eq!(
        [page.value(0), page.value(1), page.value(2)],
        [None, Some("Apple"), Some("Zebra")]
    );
    let page_ids: Vec<u32> = (0..5).map(|row| page.row_id(row)).collect();
    assert_eq!(page_ids, [0, 1, 1, 2, 1]);
    assert_eq!(page.bitmap(1).iter().collect::<Vec<_>>(), [1, 2, 4]);

    let Some(ColumnRef::String(user)) = segment.column("user") else {
        panic!("user")
    };
    assert!(!user.has_nulls());
    let users: Vec<_> = (0..5)
        .map(|row| user.value(user.row_id(row)).unwrap())
        .collect();
    assert_eq!(users, ["alice", "bob", "émile", "bob", ""]);
    assert_eq!(user.lookup(Some("")), Some(0));
    assert_eq!(user.lookup(Some("émile")), Some(3));

    let Some(ColumnRef::Long(added)) = segment.column("added") else {
        panic!("added")
    };
    assert_eq!(added.values(), [0, 1, -3, 10, 7]);
    assert_eq!(added.null_bitmap().unwrap().iter().collect::<Vec<_>>(), [0]);

    let Some(ColumnRef::Double(ratio)) = segment.column("ratio") else {
        panic!("ratio")
    };
    let bits: Vec<u64> = ratio.values().iter().map(|value| value.to_bits()).collect();
    let expected: Vec<u64> = [1.25, 1e300, -0.0, 0.5, 2.0]
        .iter()
        .map(|value: &f64| value.to_bits())
        .collect();
    assert_eq!(bits, expected);
    assert!(ratio.null_bitmap().is_none());

    assert_eq!(
        segment.metadata(),
        &json!({
            "aggregators": [{"fieldName": "added", "name": "added", "type": "longSum"}],
            "queryGranularity": "NONE",
            "rollup": false,
        })
    );
    segment
}
