//! Query-engine throughput over a 10M-row segment (time 10 ms apart, one string dimension of
//! 100 values, one long metric): a granularity-`all` timeseries with `count` + `longSum`
//! through `run_on_segment`, unfiltered and under a selector filter (about 1% of the rows);
//! distinct counts of the dimension with `HLLSketchBuild` and `thetaSketch`, and expressions:
//! a numeric virtual column summed, an expression filter on the dimension, and a topN over a
//! string virtual column.

use std::sync::OnceLock;

use divan::counter::ItemsCount;
use divan::Bencher;
use henge_query::{parse_query, run_on_segment, Limits, Query};
use henge_segment::{ColumnSpec, ColumnType, Segment, SegmentBuilder, ValueRef};

const NUM_ROWS: usize = 10_000_000;

fn main() {
    divan::main();
}

/// The 10M-row segment, built once.
fn segment() -> &'static Segment {
    static SEGMENT: OnceLock<Segment> = OnceLock::new();
    SEGMENT.get_or_init(|| {
        let values: Vec<String> = (0..100).map(|index| format!("value-{index:03}")).collect();
        let mut builder = SegmentBuilder::new(vec![
            ColumnSpec::dimension("dim", ColumnType::String),
            ColumnSpec::metric("metric", ColumnType::Long),
        ]);
        builder.reserve(NUM_ROWS);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for row in 0..NUM_ROWS {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let dim = &values[(state % 100) as usize];
            let metric = (state >> 40) as i64;
            builder.push_row_with(row as i64 * 10, |index| match index {
                0 => ValueRef::Str(dim),
                _ => ValueRef::Long(metric),
            });
        }
        let mut bytes = Vec::new();
        builder.write(&mut bytes).expect("write to a vec");
        Segment::from_vec(bytes).expect("open the bench segment")
    })
}

fn timeseries(filter: Option<serde_json::Value>) -> Query {
    let mut query = serde_json::json!({
        "queryType": "timeseries",
        "dataSource": "bench",
        "intervals": ["1970-01-01/1971-01-01"],
        "granularity": "all",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "sum", "fieldName": "metric"},
        ],
    });
    if let Some(filter) = filter {
        query["filter"] = filter;
    }
    parse_query(query.to_string().as_bytes(), &Limits::default()).expect("valid bench query")
}

#[divan::bench]
fn timeseries_count_sum(bencher: Bencher) {
    let segment = segment();
    let query = timeseries(None);
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}

#[divan::bench]
fn timeseries_count_sum_selector(bencher: Bencher) {
    let segment = segment();
    let query = timeseries(Some(
        serde_json::json!({"type": "selector", "dimension": "dim", "value": "value-042"}),
    ));
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}

/// A timeseries reading `extra` fields (virtual columns, aggregators, filter).
fn timeseries_with(extra: serde_json::Value) -> Query {
    let mut query = serde_json::json!({
        "queryType": "timeseries",
        "dataSource": "bench",
        "intervals": ["1970-01-01/1971-01-01"],
        "granularity": "all",
    });
    for (key, value) in extra.as_object().expect("an object") {
        query[key] = value.clone();
    }
    parse_query(query.to_string().as_bytes(), &Limits::default()).expect("valid bench query")
}

#[divan::bench(sample_count = 10)]
fn timeseries_hll_sketch(bencher: Bencher) {
    let segment = segment();
    let query = timeseries_with(serde_json::json!({
        "aggregations": [{"type": "HLLSketchBuild", "name": "u", "fieldName": "dim"}],
    }));
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}

#[divan::bench(sample_count = 10)]
fn timeseries_theta_sketch(bencher: Bencher) {
    let segment = segment();
    let query = timeseries_with(serde_json::json!({
        "aggregations": [{"type": "thetaSketch", "name": "u", "fieldName": "dim"}],
    }));
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}

/// `longSum` over a numeric virtual column, evaluated row by row.
#[divan::bench]
fn expression_numeric_virtual_column(bencher: Bencher) {
    let segment = segment();
    let query = timeseries_with(serde_json::json!({
        "virtualColumns": [
            {"type": "expression", "name": "v0", "expression": "metric * 2 + 1", "outputType": "LONG"}
        ],
        "aggregations": [{"type": "longSum", "name": "sum", "fieldName": "v0"}],
    }));
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}

/// An expression filter over the string dimension, evaluated once per dictionary value.
#[divan::bench]
fn expression_filter_on_string(bencher: Bencher) {
    let segment = segment();
    let query = timeseries_with(serde_json::json!({
        "filter": {"type": "expression", "expression": "like(dim, 'value-04%') && strlen(dim) == 9"},
        "aggregations": [{"type": "count", "name": "rows"}],
    }));
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}

/// A topN over a string virtual column of the dimension (evaluated per dictionary value,
/// then written row by row into a dictionary-encoded column).
#[divan::bench]
fn expression_string_virtual_column_topn(bencher: Bencher) {
    let segment = segment();
    let query = parse_query(
        serde_json::json!({
            "queryType": "topN",
            "dataSource": "bench",
            "intervals": ["1970-01-01/1971-01-01"],
            "granularity": "all",
            "virtualColumns": [
                {"type": "expression", "name": "v0", "expression": "upper(dim)", "outputType": "STRING"}
            ],
            "dimension": "v0",
            "metric": "rows",
            "threshold": 5,
            "aggregations": [{"type": "count", "name": "rows"}],
        })
        .to_string()
        .as_bytes(),
        &Limits::default(),
    )
    .expect("valid bench query");
    bencher
        .counter(ItemsCount::new(NUM_ROWS))
        .bench(|| run_on_segment(&query, segment, "bench").expect("run"));
}
