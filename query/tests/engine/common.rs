//! Fixtures: the `wiki` segment (six edits on 2015-09-12 with nulls in every column kind) and
//! helpers that run a query through the whole pipeline.

use henge_query::{finalize, merge, parse_query, run_on_segment, Limits, PartialResult, Query};
use henge_segment::builder::SegmentBuilder;
use henge_segment::reader::Segment;
use henge_segment::time::parse_timestamp;
use henge_segment::{ColumnSpec, ColumnType, Value};

/// Epoch milliseconds of an ISO timestamp.
pub fn ts(text: &str) -> i64 {
    parse_timestamp(text).unwrap_or_else(|| panic!("bad timestamp {text}"))
}

/// The schema of the `wiki` fixture.
pub fn wiki_schema() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::dimension("channel", ColumnType::String),
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::dimension("user", ColumnType::String),
        ColumnSpec::dimension("rank", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Long),
        ColumnSpec::metric("delta", ColumnType::Double),
    ]
}

/// One `wiki` row: time, channel, page, user, rank, added, delta.
pub type WikiRow<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<f64>,
);

/// The six rows of the `wiki` fixture, in time order (row numbers in the segment).
pub const WIKI_ROWS: [WikiRow<'static>; 6] = [
    (
        "2015-09-12T00:46:58.771Z",
        Some("#en"),
        "Apple",
        Some("alice"),
        Some("10"),
        Some(10),
        Some(1.5),
    ),
    (
        "2015-09-12T00:50:00.000Z",
        Some("#en"),
        "Banana",
        None,
        Some("9"),
        Some(20),
        Some(-2.0),
    ),
    (
        "2015-09-12T01:10:00.000Z",
        Some("#fr"),
        "Apple",
        Some("bob"),
        Some("x"),
        None,
        Some(3.0),
    ),
    (
        "2015-09-12T01:20:00.000Z",
        Some("#fr"),
        "Cherry",
        Some("alice"),
        Some("100"),
        Some(5),
        None,
    ),
    (
        "2015-09-12T03:05:00.000Z",
        Some("#de"),
        "Apple",
        None,
        None,
        Some(7),
        Some(0.5),
    ),
    (
        "2015-09-12T03:59:59.999Z",
        None,
        "Banana",
        Some("carol"),
        Some("2"),
        Some(1),
        Some(4.0),
    ),
];

/// Builds a segment from rows given as `(timestamp, values)`.
pub fn build(schema: Vec<ColumnSpec>, rows: &[(i64, Vec<Value>)]) -> Segment {
    let mut builder = SegmentBuilder::new(schema);
    for (time, values) in rows {
        builder.push_row(*time, values);
    }
    let mut bytes = Vec::new();
    builder.write(&mut bytes).expect("write segment");
    Segment::from_vec(bytes).expect("open segment")
}

/// Builds a `wiki` segment from some rows.
pub fn wiki_segment(rows: &[WikiRow<'_>]) -> Segment {
    let rows: Vec<(i64, Vec<Value>)> = rows
        .iter()
        .map(|&(time, channel, page, user, rank, added, delta)| {
            (
                ts(time),
                vec![
                    Value::from(channel),
                    Value::from(page),
                    Value::from(user),
                    Value::from(rank),
                    Value::from(added),
                    Value::from(delta),
                ],
            )
        })
        .collect();
    build(wiki_schema(), &rows)
}

/// The full `wiki` fixture.
pub fn wiki() -> Segment {
    wiki_segment(&WIKI_ROWS)
}

pub fn query(json: serde_json::Value) -> Query {
    parse_query(json.to_string().as_bytes(), &Limits::default()).expect("valid query")
}

/// Runs a query on each segment, ships every partial through its wire form, merges and
/// finalizes.
pub fn run_json(json: serde_json::Value, segments: &[(&str, &Segment)]) -> serde_json::Value {
    let query = query(json);
    let partials = segments
        .iter()
        .map(|(id, segment)| {
            let partial = run_on_segment(&query, segment, id).expect("run");
            let wire = partial.to_wire().expect("serialize partial");
            let back = PartialResult::from_wire(&wire).expect("deserialize partial");
            assert_eq!(
                back, partial,
                "partial result must round-trip through the wire"
            );
            let json = serde_json::to_string(&partial).expect("serialize partial as JSON");
            let back: PartialResult = serde_json::from_str(&json).expect("deserialize JSON");
            assert_eq!(back, partial, "partial result must round-trip through JSON");
            back
        })
        .collect();
    finalize(&query, merge(&query, partials).expect("merge")).expect("finalize")
}

/// Runs a query on the `wiki` fixture and renders the response as compact JSON text, so that
/// comparisons also check key order.
pub fn run_wiki(json: serde_json::Value) -> String {
    run_json(json, &[("wiki_seg", &wiki())]).to_string()
}
