//! Query lifecycle inside the engine: the groupBy row limit (per segment and in the merge,
//! lowered by context `bufferGrouperMaxSize`), interruption polled between chunks of rows,
//! and query ids set by the broker.

use std::cell::Cell;

use henge_query::{
    merge, parse_query, run_on_segment, run_on_segment_until, Limits, PartialResult, QueryError,
};
use henge_segment::{ColumnSpec, ColumnType, Value};
use serde_json::json;

use crate::common::{build, query, wiki, wiki_segment, WIKI_ROWS};

fn group_by_channel(granularity: &str, context: serde_json::Value) -> serde_json::Value {
    json!({
        "queryType": "groupBy", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "granularity": granularity, "dimensions": ["channel"],
        "aggregations": [{"type": "count", "name": "edits"}],
        "context": context,
    })
}

fn assert_resource_limit(error: &QueryError) {
    assert_eq!(error.status, 400, "{error:?}");
    assert_eq!(error.error, "Resource limit exceeded");
    assert_eq!(
        error.error_class,
        "org.apache.druid.query.ResourceLimitExceededException"
    );
    assert!(
        error
            .error_message
            .starts_with("Not enough merge buffer memory to execute this query"),
        "{error:?}"
    );
}

#[test]
fn group_rows_past_the_limit_fail_on_the_segment() {
    // The fixture has four channels: null, #de, #en, #fr.
    let fits = query(group_by_channel("all", json!({"bufferGrouperMaxSize": 4})));
    assert!(run_on_segment(&fits, &wiki(), "w").is_ok());
    let over = query(group_by_channel("all", json!({"bufferGrouperMaxSize": 3})));
    assert_resource_limit(&run_on_segment(&over, &wiki(), "w").unwrap_err());
    // By hour the groups are (00, #en), (01, #fr), (03, null), (03, #de): rows held across
    // time buckets count too.
    let hourly = query(group_by_channel("hour", json!({"bufferGrouperMaxSize": 3})));
    assert_resource_limit(&run_on_segment(&hourly, &wiki(), "w").unwrap_err());
    let hourly = query(group_by_channel(
        "hour",
        json!({"bufferGrouperMaxSize": "4"}),
    ));
    assert!(run_on_segment(&hourly, &wiki(), "w").is_ok());
}

#[test]
fn group_rows_past_the_limit_fail_in_the_merge() {
    // Two channels per segment, four in all.
    let first = wiki_segment(&WIKI_ROWS[..4]);
    let second = wiki_segment(&WIKI_ROWS[4..]);
    let over = query(group_by_channel("all", json!({"bufferGrouperMaxSize": 3})));
    let partials: Vec<PartialResult> = [&first, &second]
        .iter()
        .map(|segment| run_on_segment(&over, segment, "s").expect("two groups fit"))
        .collect();
    assert_resource_limit(&merge(&over, partials).unwrap_err());
    let fits = query(group_by_channel("all", json!({"bufferGrouperMaxSize": 4})));
    let partials: Vec<PartialResult> = [&first, &second]
        .iter()
        .map(|segment| run_on_segment(&fits, segment, "s").unwrap())
        .collect();
    assert!(merge(&fits, partials).is_ok());
}

#[test]
fn the_server_limit_applies_and_the_context_cannot_raise_it() {
    let limits = Limits {
        max_group_rows: 3,
        ..Limits::default()
    };
    let parse = |context: serde_json::Value| {
        parse_query(
            group_by_channel("all", context).to_string().as_bytes(),
            &limits,
        )
        .unwrap()
    };
    let plain = parse(json!({}));
    assert_eq!(plain.max_group_rows(), 3);
    assert_resource_limit(&run_on_segment(&plain, &wiki(), "w").unwrap_err());
    let raised = parse(json!({"bufferGrouperMaxSize": 100}));
    assert_eq!(raised.max_group_rows(), 3);
    assert_resource_limit(&run_on_segment(&raised, &wiki(), "w").unwrap_err());

    let bad = parse_query(
        group_by_channel("all", json!({"bufferGrouperMaxSize": [1]}))
            .to_string()
            .as_bytes(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error, "Query context parse failed");
}

/// 20,000 rows, one per millisecond, `k` cycling through 100 values.
fn big_segment() -> henge_segment::reader::Segment {
    let rows: Vec<(i64, Vec<Value>)> = (0..20_000i64)
        .map(|row| {
            (
                1_000_000 + row,
                vec![
                    Value::from(Some(format!("k{}", row % 100).as_str())),
                    Value::Long(row),
                ],
            )
        })
        .collect();
    build(
        vec![
            ColumnSpec::dimension("k", ColumnType::String),
            ColumnSpec::metric("n", ColumnType::Long),
        ],
        &rows,
    )
}

#[test]
fn interruption_stops_row_loops_within_a_chunk() {
    let segment = big_segment();
    let interval = "1970-01-01/1970-01-02";
    let queries = [
        json!({"queryType": "scan", "dataSource": "d", "intervals": [interval]}),
        json!({"queryType": "groupBy", "dataSource": "d", "intervals": [interval],
               "granularity": "all", "dimensions": ["k"],
               "aggregations": [{"type": "longSum", "name": "n", "fieldName": "n"}]}),
        json!({"queryType": "topN", "dataSource": "d", "intervals": [interval],
               "granularity": "all", "dimension": "k", "metric": "n", "threshold": 3,
               "aggregations": [{"type": "longSum", "name": "n", "fieldName": "n"}]}),
        json!({"queryType": "groupBy", "dataSource": "d", "intervals": [interval],
               "granularity": "all", "dimensions": ["k"],
               "filter": {"type": "bound", "dimension": "n", "lower": "10", "ordering": "numeric"},
               "aggregations": [{"type": "count", "name": "rows"}], "context": {"queryId": "q-7"}}),
    ];
    for request in queries {
        let query = query(request.clone());
        // 20,000 rows are 20 chunks of 1,024: answer "stop" from the third poll on.
        let polls = Cell::new(0);
        let stop_after_two = || {
            polls.set(polls.get() + 1);
            polls.get() > 2
        };
        let error = run_on_segment_until(&query, &segment, "s", &stop_after_two).unwrap_err();
        assert_eq!(error.error, "Query cancelled", "{request}");
        assert_eq!(error.status, 500);
        assert!(polls.get() <= 4, "{} polls for {request}", polls.get());
        // Never interrupted: the same answer as without a check.
        assert_eq!(
            run_on_segment_until(&query, &segment, "s", &|| false).unwrap(),
            run_on_segment(&query, &segment, "s").unwrap()
        );
    }
    let named = query(json!({"queryType": "timeBoundary", "dataSource": "d",
                             "context": {"queryId": "q-9"}}));
    let error = run_on_segment_until(&named, &segment, "s", &|| true).unwrap_err();
    assert_eq!(error.error_message, "Query [q-9] was cancelled");
}

#[test]
fn with_id_sets_the_query_id_in_the_forwarded_json() {
    let plain = query(json!({"queryType": "timeBoundary", "dataSource": "d"}));
    assert_eq!(plain.id(), None);
    let named = plain.clone().with_id("abc");
    assert_eq!(named.id(), Some("abc"));
    assert_eq!(named.to_json()["context"], json!({"queryId": "abc"}));
    assert_eq!(named.cache_key(), plain.cache_key());
    let with_context = query(json!({"queryType": "timeBoundary", "dataSource": "d",
                                    "context": {"timeout": 5, "queryId": "old"}}))
    .with_id("new");
    assert_eq!(
        with_context.to_json()["context"],
        json!({"timeout": 5, "queryId": "new"})
    );
    assert_eq!(with_context.context_long("timeout"), Ok(Some(5)));
}
