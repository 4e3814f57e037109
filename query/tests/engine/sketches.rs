//! Approximate aggregators and sketch post-aggregators over generated data, with exact answers
//! computed here from the same data and estimates checked against the sketches' error.

use std::collections::HashSet;

use base64::prelude::{Engine, BASE64_STANDARD};
use henge_segment::reader::Segment;
use henge_segment::sketch::{SketchAccumulator, SketchFamily, SketchSpec, SketchValue};
use henge_segment::{ColumnSpec, ColumnType, ComplexKind, Value};
use serde_json::{json, Value as Json};

use crate::common::{build, run_json, ts};

/// One generated row: channel, user, value.
struct Row {
    channel: &'static str,
    user: String,
    value: f64,
}

/// `count` rows: users drawn from `users` distinct ids (a deterministic LCG), channels with
/// very different user counts (#big: all users, #mid: ids < 300, #small: ids < 20), values
/// 1..=count in order.
fn rows(count: usize, users: u64, seed: u64) -> Vec<Row> {
    let mut state = seed;
    (0..count)
        .map(|index| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = (state >> 33) % users;
            let channel = match index % 3 {
                0 => "#big",
                1 if id < 300 => "#mid",
                _ if id < 20 => "#small",
                _ => "#big",
            };
            Row {
                channel,
                user: format!("user-{id}"),
                value: (index + 1) as f64,
            }
        })
        .collect()
}

fn segment(rows: &[Row]) -> Segment {
    let schema = vec![
        ColumnSpec::dimension("channel", ColumnType::String),
        ColumnSpec::dimension("user", ColumnType::String),
        ColumnSpec::metric("value", ColumnType::Double),
    ];
    let start = ts("2015-09-12T00:00:00Z");
    let values: Vec<(i64, Vec<Value>)> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            (
                start + index as i64,
                vec![
                    row.channel.into(),
                    row.user.as_str().into(),
                    row.value.into(),
                ],
            )
        })
        .collect();
    build(schema, &values)
}

fn distinct<'a>(users: impl Iterator<Item = &'a str>) -> f64 {
    users.collect::<HashSet<_>>().len() as f64
}

fn within(estimate: &Json, exact: f64, tolerance: f64) {
    let estimate = estimate.as_f64().expect("a number");
    let error = (estimate - exact).abs() / exact;
    assert!(error < tolerance, "estimate {estimate} vs exact {exact}");
}

fn timeseries(aggregations: Json, post: Json, context: Json) -> Json {
    json!({
        "queryType": "timeseries",
        "dataSource": "gen",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": aggregations,
        "postAggregations": post,
        "context": context,
    })
}

#[test]
fn distinct_counts_and_quantiles_are_within_error_across_segments() {
    let first = rows(20_000, 15_000, 7);
    let second = rows(20_000, 15_000, 11);
    let exact = distinct(first.iter().chain(&second).map(|row| row.user.as_str()));
    let query = timeseries(
        json!([
            {"type": "cardinality", "name": "card", "fields": ["user"]},
            {"type": "hyperUnique", "name": "hu", "fieldName": "user", "round": true},
            {"type": "HLLSketchBuild", "name": "hll", "fieldName": "user"},
            {"type": "thetaSketch", "name": "theta", "fieldName": "user"},
            {"type": "quantilesDoublesSketch", "name": "q", "fieldName": "value"},
        ]),
        json!([
            {"type": "hyperUniqueCardinality", "name": "hu_card", "fieldName": "hu"},
            {"type": "HLLSketchEstimate", "name": "hll_est", "round": true,
                "field": {"type": "fieldAccess", "fieldName": "hll"}},
            {"type": "HLLSketchEstimateWithBounds", "name": "hll_bounds", "numStdDev": 3,
                "field": {"type": "fieldAccess", "fieldName": "hll"}},
            {"type": "thetaSketchEstimate", "name": "theta_est",
                "field": {"type": "fieldAccess", "fieldName": "theta"}},
            {"type": "quantilesDoublesSketchToQuantile", "name": "median", "fraction": 0.5,
                "field": {"type": "fieldAccess", "fieldName": "q"}},
            {"type": "quantilesDoublesSketchToQuantiles", "name": "quartiles",
                "fractions": [0.25, 0.75], "field": {"type": "fieldAccess", "fieldName": "q"}},
            {"type": "quantilesDoublesSketchToRank", "name": "rank", "value": 10000,
                "field": {"type": "fieldAccess", "fieldName": "q"}},
            {"type": "quantilesDoublesSketchToCDF", "name": "cdf", "splitPoints": [20000],
                "field": {"type": "fieldAccess", "fieldName": "q"}},
            {"type": "quantilesDoublesSketchToHistogram", "name": "histogram", "numBins": 4,
                "field": {"type": "fieldAccess", "fieldName": "q"}},
        ]),
        json!({}),
    );
    let (one, two) = (segment(&first), segment(&second));
    let response = run_json(query, &[("one", &one), ("two", &two)]);
    let result = &response[0]["result"];
    // lgK 11: 1.04 / sqrt(2048) = 2.3 % standard error; lgK 12: 1.6 %.
    within(&result["card"], exact, 0.07);
    within(&result["hu"], exact, 0.07);
    assert!(
        result["hu"].is_i64(),
        "round gives a long: {}",
        result["hu"]
    );
    within(&result["hu_card"], exact, 0.07);
    assert!(
        result["hu_card"].is_i64(),
        "the post-aggregator rounds like its aggregator"
    );
    within(&result["hll"], exact, 0.05);
    assert!(result["hll"].is_f64());
    within(&result["hll_est"], exact, 0.05);
    assert!(result["hll_est"].is_i64());
    let bounds: Vec<f64> = result["hll_bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bound| bound.as_f64().unwrap())
        .collect();
    assert_eq!(bounds[0], result["hll"].as_f64().unwrap());
    assert!(
        bounds[1] <= exact && exact <= bounds[2],
        "{bounds:?} around {exact}"
    );
    // theta, k = 16384 > ~14_000 distinct users: exact.
    assert_eq!(result["theta"].as_f64(), Some(exact));
    assert_eq!(result["theta_est"].as_f64(), Some(exact));
    // 40_000 values, 1..=20_000 twice: the median is about 10_000, quartiles 5_000 and 15_000.
    assert_eq!(result["q"], json!(40_000));
    let rank_error = 0.03 * 20_000.0;
    let near = |value: &Json, expected: f64| {
        let value = value.as_f64().unwrap();
        assert!(
            (value - expected).abs() < rank_error,
            "{value} vs {expected}"
        );
    };
    near(&result["median"], 10_000.0);
    near(&result["quartiles"][0], 5_000.0);
    near(&result["quartiles"][1], 15_000.0);
    assert!((result["rank"].as_f64().unwrap() - 0.5).abs() < 0.03);
    assert_eq!(result["cdf"].as_array().unwrap().len(), 2);
    // Below the split point 20,000 (the largest value) lie all values but the two equal to
    // it, within the sketch's rank error: KLL compaction is randomised, so the weight left on
    // the largest retained value varies from run to run.
    assert!((result["cdf"][0].as_f64().unwrap() - 1.0).abs() < 0.03);
    assert_eq!(result["cdf"][1].as_f64(), Some(1.0));
    let histogram: Vec<f64> = result["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|count| count.as_f64().unwrap())
        .collect();
    assert_eq!(histogram.len(), 4);
    assert!((histogram.iter().sum::<f64>() - 40_000.0).abs() < 1e-6);
    for count in histogram {
        assert!((count - 10_000.0).abs() < 0.03 * 40_000.0, "{count}");
    }
}

#[test]
fn topn_ranks_by_the_estimate_and_theta_set_ops_follow_the_sets() {
    let data = rows(30_000, 5_000, 3);
    let users_of = |channel: &str| -> HashSet<&str> {
        data.iter()
            .filter(|row| row.channel == channel)
            .map(|row| row.user.as_str())
            .collect()
    };
    let (big, mid) = (users_of("#big"), users_of("#mid"));
    let seg = segment(&data);
    let response = run_json(
        json!({
            "queryType": "topN",
            "dataSource": "gen",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "dimension": "channel",
            "metric": "users",
            "threshold": 3,
            "aggregations": [{"type": "HLLSketchBuild", "name": "users", "fieldName": "user"}],
        }),
        &[("seg", &seg)],
    );
    let order: Vec<&str> = response[0]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["channel"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["#big", "#mid", "#small"]);
    within(&response[0]["result"][0]["users"], big.len() as f64, 0.05);

    let filtered = |name: &str, channel: &str| {
        json!({"type": "filtered", "name": name,
            "filter": {"type": "selector", "dimension": "channel", "value": channel},
            "aggregator": {"type": "thetaSketch", "name": name, "fieldName": "user"}})
    };
    let set_op = |name: &str, func: &str| {
        json!({"type": "thetaSketchEstimate", "name": name, "field": {
            "type": "thetaSketchSetOp", "name": "op", "func": func, "fields": [
                {"type": "fieldAccess", "fieldName": "big"},
                {"type": "fieldAccess", "fieldName": "mid"}]}})
    };
    let response = run_json(
        timeseries(
            json!([filtered("big", "#big"), filtered("mid", "#mid")]),
            json!([
                set_op("union", "UNION"),
                set_op("both", "INTERSECT"),
                set_op("only_big", "NOT"),
            ]),
            json!({}),
        ),
        &[("seg", &seg)],
    );
    let result = &response[0]["result"];
    // Fewer distinct users than k: theta set operations are exact.
    assert_eq!(
        result["union"].as_f64(),
        Some(big.union(&mid).count() as f64)
    );
    assert_eq!(
        result["both"].as_f64(),
        Some(big.intersection(&mid).count() as f64)
    );
    assert_eq!(
        result["only_big"].as_f64(),
        Some(big.difference(&mid).count() as f64)
    );
}

#[test]
fn ingested_sketch_columns_merge_at_query_time() {
    // Each row holds an HLL sketch of 50 users; rows overlap by half.
    let schema = vec![
        ColumnSpec::dimension("channel", ColumnType::String),
        ColumnSpec::metric("users", ColumnType::Complex(ComplexKind::HllSketch)),
    ];
    let mut all = HashSet::new();
    let mut build_rows = |range: std::ops::Range<u32>| -> Vec<(i64, Vec<Value>)> {
        range
            .map(|row| {
                let mut sketch = SketchAccumulator::new(SketchSpec::HLL_DEFAULT).unwrap();
                for user in row * 25..row * 25 + 50 {
                    let name = format!("u{user}");
                    sketch.update_str(&name);
                    all.insert(name);
                }
                let bytes = sketch.finish().to_bytes();
                (
                    ts("2015-09-12T01:00:00Z"),
                    vec!["#en".into(), Value::Bytes(bytes)],
                )
            })
            .collect()
    };
    let first = build(schema.clone(), &build_rows(0..200));
    let second = build(schema, &build_rows(200..400));
    let exact = all.len() as f64;
    let query = timeseries(
        json!([
            {"type": "HLLSketchMerge", "name": "merged", "fieldName": "users", "round": true},
            {"type": "HLLSketchMerge", "name": "sketch", "fieldName": "users"},
            {"type": "hyperUnique", "name": "hu", "fieldName": "users"},
        ]),
        json!([]),
        json!({"finalize": false}),
    );
    let forward = run_json(query.clone(), &[("a", &first), ("b", &second)]);
    let backward = run_json(query, &[("b", &second), ("a", &first)]);
    // Unions are order-independent: the same sketch bytes either way.
    assert_eq!(forward, backward);
    let result = &forward[0]["result"];
    let decoded = BASE64_STANDARD
        .decode(result["sketch"].as_str().expect("finalize false: base64"))
        .unwrap();
    let sketch = SketchValue::from_bytes(SketchFamily::Hll, &decoded).unwrap();
    assert!((sketch.estimate() - exact).abs() / exact < 0.05);
    // With finalize false every sketch aggregator prints its sketch, rounding or not.
    let hu = BASE64_STANDARD
        .decode(result["hu"].as_str().unwrap())
        .unwrap();
    let hu = SketchValue::from_bytes(SketchFamily::Hll, &hu).unwrap();
    assert!((hu.estimate() - exact).abs() / exact < 0.07);
    assert_eq!(result["merged"], result["sketch"]);

    let metadata = run_json(
        json!({"queryType": "segmentMetadata", "dataSource": "gen",
            "intervals": ["2015-09-12/2015-09-13"], "toInclude": {"type": "list", "columns": ["users"]}}),
        &[("a", &first)],
    );
    let column = &metadata[0]["columns"]["users"];
    assert_eq!(column["type"], json!("HLLSketch"));
    assert_eq!(column["typeSignature"], json!("COMPLEX<HLLSketch>"));
}

#[test]
fn cardinality_by_row_counts_distinct_tuples() {
    let data = rows(5_000, 400, 5);
    let exact_values = distinct(
        data.iter()
            .map(|row| row.user.as_str())
            .chain(data.iter().map(|row| row.channel)),
    );
    let exact_tuples = data
        .iter()
        .map(|row| (row.channel, row.user.as_str()))
        .collect::<HashSet<_>>()
        .len() as f64;
    let seg = segment(&data);
    let response = run_json(
        timeseries(
            json!([
                {"type": "cardinality", "name": "values", "fields": ["channel", "user"]},
                {"type": "cardinality", "name": "tuples", "fields": ["channel", "user"], "byRow": true},
            ]),
            json!([]),
            json!({}),
        ),
        &[("seg", &seg)],
    );
    // Few hundred distinct: HLL is in its exact (list/set) modes up to rounding.
    within(&response[0]["result"]["values"], exact_values, 0.02);
    within(&response[0]["result"]["tuples"], exact_tuples, 0.02);
    assert_ne!(exact_values, exact_tuples);
}

#[test]
fn empty_sketches_finalize_to_zero() {
    let seg = segment(&rows(10, 5, 1));
    let response = run_json(
        json!({
            "queryType": "timeseries",
            "dataSource": "gen",
            "intervals": ["2016-01-01/2016-01-02"],
            "granularity": "all",
            "aggregations": [
                {"type": "HLLSketchBuild", "name": "hll", "fieldName": "user"},
                {"type": "thetaSketch", "name": "theta", "fieldName": "user"},
                {"type": "quantilesDoublesSketch", "name": "q", "fieldName": "value"},
                {"type": "cardinality", "name": "card", "fields": ["user"]},
            ],
        }),
        &[("seg", &seg)],
    );
    assert_eq!(
        response[0]["result"],
        json!({"hll": 0.0, "theta": 0.0, "q": 0, "card": 0.0})
    );
}

#[test]
fn group_by_orders_and_filters_on_estimates() {
    let data = rows(20_000, 3_000, 9);
    let users_of = |channel: &str| {
        distinct(
            data.iter()
                .filter(|row| row.channel == channel)
                .map(|row| row.user.as_str()),
        )
    };
    let seg = segment(&data);
    let response = run_json(
        json!({
            "queryType": "groupBy",
            "dataSource": "gen",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "dimensions": ["channel"],
            "aggregations": [{"type": "hyperUnique", "name": "users", "fieldName": "user"}],
            "having": {"type": "greaterThan", "aggregation": "users", "value": 100},
            "limitSpec": {"type": "default", "limit": 5,
                "columns": [{"dimension": "users", "direction": "ascending"}]},
        }),
        &[("seg", &seg)],
    );
    let rows = response.as_array().unwrap();
    // #small (20 users) fails the having; #mid (300) then #big (~3000), ascending.
    let channels: Vec<&str> = rows
        .iter()
        .map(|row| row["event"]["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["#mid", "#big"]);
    within(&rows[0]["event"]["users"], users_of("#mid"), 0.07);
    within(&rows[1]["event"]["users"], users_of("#big"), 0.07);
}
