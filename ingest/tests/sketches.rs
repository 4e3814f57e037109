//! Sketch metrics end to end on the wikiticker quickstart file: `HLLSketchBuild`,
//! `hyperUnique`, `thetaSketch` and `quantilesDoublesSketch` built at ingestion (rollup merges
//! them), then merged at query time across segments, and compared with `cardinality` /
//! `hyperUnique` over the raw `user` strings. Exact answers are computed from the raw file.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use henge_ingest::{parse_index_task, run_batch};
use henge_query::{finalize, merge, parse_query, run_on_segment, Limits, PartialResult};
use henge_segment::{merge_segments, ColumnType, ComplexKind, Segment};
use serde_json::{json, Value};

const VERSION: &str = "2024-01-01T00:00:00.000Z";

fn data_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        .canonicalize()
        .expect("shared/data is beside the project")
}

/// Every row of the quickstart file, parsed here independently of the crate under test.
fn read_wikiticker() -> Vec<Value> {
    let file =
        std::fs::File::open(data_dir().join("wikiticker-2015-09-12-sampled.json.gz")).unwrap();
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect()
}

/// The quickstart spec with `dimensions`, `metricsSpec`, hourly rollup and small segments.
fn spec(dimensions: Value, metrics: Value, rollup: bool) -> Value {
    let mut spec: Value =
        serde_json::from_slice(&std::fs::read(data_dir().join("wikipedia-index.json")).unwrap())
            .unwrap();
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = json!(data_dir());
    let schema = &mut spec["spec"]["dataSchema"];
    schema["dimensionsSpec"]["dimensions"] = dimensions;
    schema["metricsSpec"] = metrics;
    schema["granularitySpec"]["queryGranularity"] = json!(if rollup { "hour" } else { "none" });
    schema["granularitySpec"]["rollup"] = json!(rollup);
    spec["spec"]["tuningConfig"] = json!({"type": "index_parallel", "maxRowsPerSegment": 150});
    spec
}

fn ingest(spec: &Value, work: &Path) -> Vec<Segment> {
    let output = run_batch(
        &parse_index_task(spec).unwrap(),
        &[data_dir()],
        work,
        VERSION,
    )
    .expect("ingestion succeeds");
    output
        .segments
        .iter()
        .map(|built| Segment::from_vec(std::fs::read(&built.path).unwrap()).unwrap())
        .collect()
}

/// Runs a query on every segment, ships the partials through their wire form, merges and
/// finalizes.
fn query(json: Value, segments: &[Segment]) -> Value {
    let query = parse_query(json.to_string().as_bytes(), &Limits::default()).unwrap();
    let partials = segments
        .iter()
        .enumerate()
        .map(|(index, segment)| {
            let partial = run_on_segment(&query, segment, &format!("seg{index}")).unwrap();
            PartialResult::from_wire(&partial.to_wire().unwrap()).unwrap()
        })
        .collect();
    finalize(&query, merge(&query, partials).unwrap()).unwrap()
}

fn within(value: &Value, exact: f64, tolerance: f64) {
    let estimate = value
        .as_f64()
        .unwrap_or_else(|| panic!("a number: {value}"));
    let error = (estimate - exact).abs() / exact;
    assert!(
        error < tolerance,
        "estimate {estimate} vs exact {exact}: {error}"
    );
}

#[test]
fn sketch_metrics_of_wikiticker_users_match_the_raw_file() {
    let rows = read_wikiticker();
    let users: HashSet<&str> = rows
        .iter()
        .map(|row| row["user"].as_str().unwrap())
        .collect();
    let exact = users.len() as f64;
    let added: Vec<f64> = rows
        .iter()
        .map(|row| row["added"].as_f64().unwrap())
        .collect();
    let mut sorted = added.clone();
    sorted.sort_by(f64::total_cmp);
    let exact_median = sorted[sorted.len() / 2];

    let work = tempfile::tempdir().unwrap();
    let rolled = ingest(
        &spec(
            json!(["channel"]),
            json!([
                {"type": "count", "name": "count"},
                {"type": "HLLSketchBuild", "name": "user_hll", "fieldName": "user"},
                {"type": "hyperUnique", "name": "user_unique", "fieldName": "user"},
                {"type": "thetaSketch", "name": "user_theta", "fieldName": "user"},
                {"type": "quantilesDoublesSketch", "name": "added_q", "fieldName": "added"},
            ]),
            true,
        ),
        work.path(),
    );
    assert!(
        rolled.len() > 1,
        "several segments, so merging crosses them"
    );
    let total_rows: usize = rolled.iter().map(Segment::num_rows).sum();
    assert!(
        total_rows < rows.len() / 10,
        "rollup merged rows: {total_rows}"
    );
    let schema = rolled[0].schema();
    let type_of = |name: &str| {
        schema
            .iter()
            .find(|column| column.name == name)
            .map(|column| column.column_type)
    };
    assert_eq!(
        type_of("user_hll"),
        Some(ColumnType::Complex(ComplexKind::HllSketch))
    );
    assert_eq!(
        type_of("added_q"),
        Some(ColumnType::Complex(ComplexKind::QuantilesDoublesSketch))
    );

    let timeseries = |aggregations: Value, post: Value| {
        json!({
            "queryType": "timeseries", "dataSource": "wikipedia",
            "intervals": ["2015-09-12/2015-09-13"], "granularity": "all",
            "aggregations": aggregations, "postAggregations": post,
        })
    };
    let merged = query(
        timeseries(
            json!([
                {"type": "longSum", "name": "rows", "fieldName": "count"},
                {"type": "HLLSketchMerge", "name": "hll", "fieldName": "user_hll"},
                {"type": "hyperUnique", "name": "unique", "fieldName": "user_unique"},
                {"type": "thetaSketch", "name": "theta", "fieldName": "user_theta"},
                {"type": "quantilesDoublesSketch", "name": "q", "fieldName": "added_q"},
            ]),
            json!([{"type": "quantilesDoublesSketchToQuantile", "name": "median",
                "fraction": 0.5, "field": {"type": "fieldAccess", "fieldName": "q"}}]),
        ),
        &rolled,
    );
    let result = &merged[0]["result"];
    assert_eq!(result["rows"], json!(rows.len()));
    within(&result["hll"], exact, 0.05);
    within(&result["unique"], exact, 0.07);
    // k = 16384 is above the number of users: theta is exact after merging.
    assert_eq!(result["theta"].as_f64(), Some(exact));
    assert_eq!(result["q"], json!(rows.len()));
    // Rank error: the median lies between the 47th and 53rd percentiles of the raw values.
    let median = result["median"].as_f64().unwrap();
    let (low, high) = (
        sorted[sorted.len() * 47 / 100],
        sorted[sorted.len() * 53 / 100],
    );
    assert!(
        (low..=high).contains(&median),
        "median {median} vs exact {exact_median} in [{low}, {high}]"
    );

    // Merging the segments (as realtime handoff does) copies the sketches: same answer.
    let mut bytes = Vec::new();
    merge_segments(&rolled).write(&mut bytes).unwrap();
    let one = Segment::from_vec(bytes).unwrap();
    let once = query(
        timeseries(
            json!([{"type": "thetaSketch", "name": "theta", "fieldName": "user_theta"}]),
            json!([]),
        ),
        &[one],
    );
    assert_eq!(once[0]["result"]["theta"], result["theta"]);

    // Query-time counting over the raw strings of the plain quickstart ingestion.
    let raw = ingest(
        &spec(json!(["channel", "user"]), json!([]), false),
        work.path(),
    );
    let counted = query(
        timeseries(
            json!([
                {"type": "cardinality", "name": "card", "fields": ["user"], "round": true},
                {"type": "hyperUnique", "name": "unique", "fieldName": "user"},
                {"type": "HLLSketchBuild", "name": "hll", "fieldName": "user", "lgK": 14},
            ]),
            json!([]),
        ),
        &raw,
    );
    let result = &counted[0]["result"];
    within(&result["card"], exact, 0.07);
    assert!(result["card"].is_i64());
    within(&result["unique"], exact, 0.07);
    within(&result["hll"], exact, 0.03);
}
