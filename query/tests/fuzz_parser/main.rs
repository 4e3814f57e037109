//! Fuzzing the query parser and engine with proptest (issue 3): arbitrary bytes, arbitrary
//! JSON, mutations of valid native queries of every supported type, and random expressions
//! in virtual columns, filters, aggregators and post-aggregators (`expressions`) go through
//! `parse_query`; whatever parses is run on two small segments, merged and finalized. Nothing
//! may panic; errors are fine.
//!
//! `HENGE_FUZZ_CASES` sets the number of cases per strategy (default 2,000, so `cargo test`
//! stays fast). The long run from the README:
//!
//! ```sh
//! HENGE_FUZZ_CASES=1000000 CARGO_TARGET_DIR=/work/target-fuzz \
//!     cargo test --release -p henge-query --test fuzz_parser
//! ```

mod expressions;
mod seeds;
mod words;

use std::fmt;

use expressions::expression_query;
use henge_query::{empty_result, finalize, merge, parse_query, run_on_segment, Limits};
use henge_segment::builder::SegmentBuilder;
use henge_segment::reader::Segment;
use henge_segment::time::parse_timestamp;
use henge_segment::{ColumnSpec, ColumnType, Value as CellValue};
use proptest::prelude::*;
use proptest::test_runner::Config;
use seeds::seeds;
use serde_json::{json, Map, Value};
use words::WORDS;

/// Cases per strategy: `HENGE_FUZZ_CASES`, or 2,000.
fn cases() -> u32 {
    std::env::var("HENGE_FUZZ_CASES")
        .ok()
        .and_then(|text| text.replace(['_', ','], "").parse().ok())
        .unwrap_or(2_000)
}

fn config() -> Config {
    Config {
        cases: cases(),
        // Keep the source tree clean: a failure prints its minimal input instead.
        failure_persistence: None,
        max_shrink_iters: 100_000,
        ..Config::default()
    }
}

/// A request body, shown as text (lossy) and as bytes when a case fails.
#[derive(Clone)]
struct Body(Vec<u8>);

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) => write!(f, "Body({} bytes)\n  text: {text}", self.0.len()),
            Err(_) => write!(
                f,
                "Body({} bytes, not UTF-8)\n  lossy text: {}\n  bytes: {:?}",
                self.0.len(),
                String::from_utf8_lossy(&self.0),
                self.0
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Segments

fn ts(text: &str) -> i64 {
    parse_timestamp(text).unwrap_or_else(|| panic!("bad timestamp {text}"))
}

type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    Option<f64>,
);

/// A page cell: `"[]"` is an empty multi-value row, text with `|` a multi-value row.
fn page_cell(page: Option<&str>) -> CellValue {
    match page {
        Some("[]") => CellValue::Strings(Vec::new()),
        Some(text) if text.contains('|') => {
            CellValue::Strings(text.split('|').map(|part| Some(part.to_owned())).collect())
        }
        other => CellValue::from(other),
    }
}

fn build(rows: &[Row]) -> Segment {
    let schema = vec![
        ColumnSpec::dimension("channel", ColumnType::String),
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Long),
        ColumnSpec::metric("delta", ColumnType::Double),
    ];
    let mut builder = SegmentBuilder::new(schema);
    for &(time, channel, page, added, delta) in rows {
        builder.push_row(
            ts(time),
            &[
                CellValue::from(channel),
                page_cell(page),
                CellValue::from(added),
                CellValue::from(delta),
            ],
        );
    }
    let mut bytes = Vec::new();
    builder.write(&mut bytes).expect("write segment");
    Segment::from_vec(bytes).expect("open segment")
}

/// Two segments with nulls in every column, extreme numbers and odd strings; `page` is
/// multi-value in the second.
fn segments() -> [Segment; 2] {
    let first = build(&[
        (
            "2015-09-12T00:46:58.771Z",
            Some("#en"),
            Some("Apple"),
            Some(10),
            Some(1.5),
        ),
        (
            "2015-09-12T00:50:00.000Z",
            Some("#en"),
            None,
            None,
            Some(-2.0),
        ),
        (
            "2015-09-12T01:10:00.000Z",
            Some("#fr"),
            Some("Äpfel ✓"),
            Some(i64::MAX),
            None,
        ),
        (
            "2015-09-12T03:59:59.999Z",
            None,
            Some(""),
            Some(i64::MIN),
            Some(f64::MAX),
        ),
    ]);
    let second = build(&[
        (
            "2015-09-12T02:00:00.000Z",
            Some("10"),
            Some("9|Banana|9"),
            Some(-1),
            Some(0.0),
        ),
        (
            "2015-09-13T05:00:00.000Z",
            Some("#de"),
            Some("Banana"),
            Some(0),
            Some(-1e-300),
        ),
        ("2015-09-14T23:59:59.999Z", None, Some("[]"), None, None),
    ]);
    [first, second]
}

// ---------------------------------------------------------------------------------------------
// The pipeline under test

/// Parses `body`; when it parses, runs it on both segments, merges and finalizes. Errors are
/// fine, panics fail the case.
fn exercise(body: &[u8], segments: &[Segment; 2]) {
    for limits in [
        Limits::default(),
        Limits {
            max_body_bytes: 4096,
            max_depth: 8,
            max_in_values: 3,
            max_aggregators: 3,
            max_pattern_length: 4,
            max_group_rows: 3,
            max_expression_length: 40,
            max_expression_depth: 6,
            ..Limits::default()
        },
    ] {
        let Ok(query) = parse_query(body, &limits) else {
            continue;
        };
        let _ = query.cache_key();
        let _ = query.to_json();
        let _ = empty_result(&query);
        let mut partials = Vec::new();
        for (index, segment) in segments.iter().enumerate() {
            if let Ok(partial) = run_on_segment(&query, segment, &format!("seg_{index}")) {
                // Partials travel between nodes in their wire form; the round trip must not
                // panic either.
                if let Ok(wire) = partial.to_wire() {
                    let _ = henge_query::PartialResult::from_wire(&wire);
                }
                partials.push(partial);
            }
        }
        if let Some(first) = partials.first().cloned() {
            if let Ok(merged) = merge(&query, vec![first.clone()]) {
                let _ = finalize(&query, merged);
            }
            // Merging is associative: merge the merge with a partial again.
            if let Ok(merged) = merge(&query, partials.clone()) {
                if let Ok(again) = merge(&query, vec![merged.clone(), first]) {
                    let _ = finalize(&query, again);
                }
                let _ = finalize(&query, merged);
            }
        }
        let _ = merge(&query, Vec::new()).map(|merged| finalize(&query, merged));
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => word(),
        1 => any::<String>(),
        1 => "[a-z#%_\\\\.*()\\[\\]{}-]{0,12}",
        1 => (word(), word()).prop_map(|(a, b)| format!("{a}{b}")),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        prop::sample::select(vec![
            json!(0),
            json!(1),
            json!(-1),
            json!(2),
            json!(3),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(i32::MAX),
            json!(u32::MAX as u64 + 1),
            json!(-0.0),
            json!(0.5),
            json!(1e308),
            json!(-1e308),
            json!(f64::MIN_POSITIVE),
            json!(5e-324),
            json!(1442016000000_i64),
            json!(1442016000000.5),
            json!(1_000_000_000),
        ]),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..20).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => number(),
        5 => text().prop_map(Value::String),
    ]
    .boxed()
}

/// Arbitrary JSON with nesting, keys mostly drawn from the Druid vocabulary.
fn json_value() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
}

/// Arbitrary JSON objects that at least name a query type, to get past type dispatch.
fn json_query() -> BoxedStrategy<Value> {
    (
        prop::sample::select(vec![
            "timeseries",
            "topN",
            "groupBy",
            "scan",
            "timeBoundary",
            "segmentMetadata",
            "dataSourceMetadata",
        ]),
        prop::collection::vec((word(), json_value()), 0..10),
    )
        .prop_map(|(kind, pairs)| {
            let mut object: Map<String, Value> = pairs.into_iter().collect();
            object.insert("queryType".into(), json!(kind));
            object.entry("dataSource").or_insert_with(|| json!("wiki"));
            Value::Object(object)
        })
        .boxed()
}

/// Arbitrary JSON (maybe naming a query type), serialized, then maybe byte-edited.
fn arbitrary_json() -> BoxedStrategy<Body> {
    (prop_oneof![json_value(), json_query()], byte_edit())
        .prop_map(|(value, edit)| {
            Body(edit_bytes(
                serde_json::to_vec(&value).expect("serialize"),
                &edit,
            ))
        })
        .boxed()
}

/// One edit of a JSON tree, applied at a node chosen by `path` (indexes taken modulo the size
/// of each container).
#[derive(Clone, Debug)]
enum Mutation {
    Replace(Vec<usize>, Value),
    Delete(Vec<usize>),
    Insert(Vec<usize>, String, Value),
    /// Changes the JSON type of the node while keeping something of its content.
    Retype(Vec<usize>, u8),
    /// Wraps the node in `levels` arrays or objects.
    Nest(Vec<usize>, u8, bool),
    /// Copies another node (e.g. a filter) over this one.
    Graft(Vec<usize>, Vec<usize>),
}

fn path() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<usize>(), 0..8)
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => (path(), json_value()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        2 => path().prop_map(Mutation::Delete),
        3 => (path(), word(), json_value()).prop_map(|(p, k, v)| Mutation::Insert(p, k, v)),
        3 => (path(), any::<u8>()).prop_map(|(p, t)| Mutation::Retype(p, t)),
        1 => (path(), 1u8..120, any::<bool>()).prop_map(|(p, l, o)| Mutation::Nest(p, l, o)),
        2 => (path(), path()).prop_map(|(to, from)| Mutation::Graft(to, from)),
    ]
    .boxed()
}

/// The node `path` leads to: at each level take child `index % len`, stopping at leaves, empty
/// containers or the end of the path.
fn node_mut<'a>(mut value: &'a mut Value, path: &[usize]) -> &'a mut Value {
    for &index in path {
        let len = match &*value {
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => 0,
        };
        if len == 0 {
            break;
        }
        value = match value {
            Value::Array(items) => &mut items[index % len],
            Value::Object(map) => map.values_mut().nth(index % len).expect("index < len"),
            _ => unreachable!(),
        };
    }
    value
}

fn retype(value: &Value, to: u8) -> Value {
    match to % 8 {
        0 => Value::Null,
        1 => Value::String(match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }),
        2 => json!([value]),
        3 => json!({"type": value}),
        4 => match value {
            Value::String(text) => text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(text.len())),
            Value::Number(number) => json!(number.as_f64().map(|x| x * -1.5)),
            _ => json!(-1),
        },
        5 => Value::Bool(!matches!(value, Value::Null | Value::Bool(false))),
        6 => match value {
            Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
            Value::Object(map) => Value::Array(map.values().cloned().collect()),
            other => json!({"type": other.clone(), "value": other.clone()}),
        },
        _ => json!({}),
    }
}

fn apply(root: &mut Value, mutation: &Mutation) {
    match mutation {
        Mutation::Replace(path, replacement) => *node_mut(root, path) = replacement.clone(),
        Mutation::Delete(path) => {
            let Some((last, parent)) = path.split_last() else {
                return;
            };
            match node_mut(root, parent) {
                Value::Array(items) if !items.is_empty() => {
                    let len = items.len();
                    items.remove(last % len);
                }
                Value::Object(map) if !map.is_empty() => {
                    let key = map.keys().nth(last % map.len()).cloned();
                    if let Some(key) = key {
                        map.remove(&key);
                    }
                }
                _ => {}
            }
        }
        Mutation::Insert(path, key, value) => match node_mut(root, path) {
            Value::Array(items) => {
                let at = path.last().copied().unwrap_or(0) % (items.len() + 1);
                items.insert(at, value.clone());
            }
            Value::Object(map) => {
                map.insert(key.clone(), value.clone());
            }
            other => *other = json!([other.clone(), value.clone()]),
        },
        Mutation::Retype(path, to) => {
            let node = node_mut(root, path);
            *node = retype(node, *to);
        }
        Mutation::Nest(path, levels, as_object) => {
            let node = node_mut(root, path);
            let mut nested = node.take();
            for level in 0..*levels {
                nested = if *as_object {
                    // Alternate logical filters and plain wrappers, as in a deep filter tree.
                    if level % 2 == 0 {
                        json!({"type": "not", "field": nested})
                    } else {
                        json!({"type": "and", "fields": [nested]})
                    }
                } else {
                    json!([nested])
                };
            }
            *node = nested;
        }
        Mutation::Graft(to, from) => {
            let copy = node_mut(root, from).clone();
            *node_mut(root, to) = copy;
        }
    }
}

/// Byte-level edits of the serialized query text.
#[derive(Clone, Debug)]
enum ByteEdit {
    None,
    Truncate(usize),
    Flip(usize, u8),
    Splice(usize, String),
}

fn byte_edit() -> BoxedStrategy<ByteEdit> {
    prop_oneof![
        8 => Just(ByteEdit::None),
        1 => any::<usize>().prop_map(ByteEdit::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| ByteEdit::Flip(at, byte)),
        1 => (any::<usize>(), prop::sample::select(vec![
            "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "null", "1e999", "-",
            "\"queryType\":\"scan\",", "{\"type\":\"not\",\"field\":",
        ]))
            .prop_map(|(at, text)| ByteEdit::Splice(at, text.to_owned())),
    ]
    .boxed()
}

fn edit_bytes(mut bytes: Vec<u8>, edit: &ByteEdit) -> Vec<u8> {
    let len = bytes.len().max(1);
    match edit {
        ByteEdit::None => {}
        ByteEdit::Truncate(at) => bytes.truncate(at % len),
        ByteEdit::Flip(at, byte) => {
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = *byte;
            }
        }
        ByteEdit::Splice(at, text) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, text.bytes());
        }
    }
    bytes
}

/// A valid seed query with a few mutations applied, serialized (then maybe byte-edited).
fn mutated_query() -> BoxedStrategy<Body> {
    let seeds = seeds();
    (
        0..seeds.len(),
        // Mostly one or two edits, so most inputs stay close to a valid query.
        prop_oneof![
            3 => prop::collection::vec(mutation(), 1..3),
            1 => prop::collection::vec(mutation(), 0..8),
        ],
        byte_edit(),
    )
        .prop_map(move |(seed, mutations, edit)| {
            let mut query = seeds[seed].clone();
            for mutation in &mutations {
                apply(&mut query, mutation);
            }
            let bytes = serde_json::to_vec(&query).expect("serialize");
            Body(edit_bytes(bytes, &edit))
        })
        .boxed()
}

/// Bytes: fully random, or a soup of JSON tokens and Druid words.
fn byte_soup() -> BoxedStrategy<Body> {
    let token = prop_oneof![
        4 => prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "0", "-1", "1.5e3",
            " ", "\\", "\\n", "\\u0000",
        ])
        .prop_map(str::to_owned),
        3 => word().prop_map(|w| format!("\"{w}\"")),
        1 => word(),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Body),
        prop::collection::vec(token, 0..64).prop_map(|tokens| Body(tokens.concat().into_bytes())),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn seeds_are_valid_queries() {
    let segments = segments();
    for seed in seeds() {
        let body = seed.to_string();
        let query = parse_query(body.as_bytes(), &Limits::default())
            .unwrap_or_else(|error| panic!("seed does not parse: {error:?}\n{body}"));
        let partial = run_on_segment(&query, &segments[0], "seg_0")
            .unwrap_or_else(|error| panic!("seed does not run: {error:?}\n{body}"));
        let merged = merge(&query, vec![partial]).expect("merge seed");
        finalize(&query, merged).expect("finalize seed");
        exercise(body.as_bytes(), &segments);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in byte_soup()) {
        thread_local!(static SEGMENTS: [Segment; 2] = segments());
        SEGMENTS.with(|segments| exercise(&body.0, segments));
    }

    #[test]
    fn arbitrary_json_never_panics(body in arbitrary_json()) {
        thread_local!(static SEGMENTS: [Segment; 2] = segments());
        SEGMENTS.with(|segments| exercise(&body.0, segments));
    }

    #[test]
    fn mutated_queries_never_panic(body in mutated_query()) {
        thread_local!(static SEGMENTS: [Segment; 2] = segments());
        SEGMENTS.with(|segments| exercise(&body.0, segments));
    }

    #[test]
    fn expressions_never_panic(body in expression_query()) {
        thread_local!(static SEGMENTS: [Segment; 2] = segments());
        SEGMENTS.with(|segments| exercise(&body.0, segments));
    }
}
