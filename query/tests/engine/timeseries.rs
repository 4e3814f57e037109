//! Timeseries: granularity `all` stamps, zero-filled buckets, skipEmptyBuckets, descending,
//! limits, and what comes back when nothing matches.

use henge_query::empty_result;
use serde_json::json;

use crate::common::{query, run_wiki};

fn aggregations() -> serde_json::Value {
    json!([
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
        {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
        {"type": "longMin", "name": "minAdded", "fieldName": "added"},
        {"type": "doubleMax", "name": "maxDelta", "fieldName": "delta"},
        {"type": "longMax", "name": "maxAdded", "fieldName": "added"},
        {"type": "doubleMin", "name": "minDelta", "fieldName": "delta"},
    ])
}

#[test]
fn granularity_all_is_stamped_with_the_first_row_time() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": aggregations(),
    }));
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": {
            "rows": 6, "added": 43, "delta": 7.0, "minAdded": 1, "maxDelta": 4.0,
            "maxAdded": 20, "minDelta": -2.0
        }}])
        .to_string()
    );
}

#[test]
fn granularity_all_after_the_first_row_uses_the_interval_start() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": "2015-09-12T01:00:00Z/2015-09-12T02:00:00Z",
        "granularity": {"type": "all"},
        "aggregations": [{"type": "count", "name": "rows"}],
    }));
    assert_eq!(
        response,
        r#"[{"timestamp":"2015-09-12T01:00:00.000Z","result":{"rows":2}}]"#
    );
}

#[test]
fn hourly_buckets_are_zero_filled_between_the_first_and_last_row() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "hour",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
        ],
    }));
    assert_eq!(
        response,
        json!([
            {"timestamp": "2015-09-12T00:00:00.000Z", "result": {"rows": 2, "added": 30, "delta": -0.5}},
            {"timestamp": "2015-09-12T01:00:00.000Z", "result": {"rows": 2, "added": 5, "delta": 3.0}},
            {"timestamp": "2015-09-12T02:00:00.000Z", "result": {"rows": 0, "added": null, "delta": null}},
            {"timestamp": "2015-09-12T03:00:00.000Z", "result": {"rows": 2, "added": 8, "delta": 4.5}},
        ])
        .to_string()
    );
}

#[test]
fn empty_buckets_are_skipped_on_request_and_limits_apply_after_ordering() {
    let base = json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "hour",
        "aggregations": [{"type": "count", "name": "rows"}],
    });
    let mut skipping = base.clone();
    skipping["context"] = json!({"skipEmptyBuckets": true});
    let times: Vec<String> = serde_json::from_str::<serde_json::Value>(&run_wiki(skipping))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["timestamp"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        times,
        [
            "2015-09-12T00:00:00.000Z",
            "2015-09-12T01:00:00.000Z",
            "2015-09-12T03:00:00.000Z"
        ]
    );

    let mut descending = base;
    descending["descending"] = json!(true);
    descending["limit"] = json!(2);
    assert_eq!(
        run_wiki(descending),
        json!([
            {"timestamp": "2015-09-12T03:00:00.000Z", "result": {"rows": 2}},
            {"timestamp": "2015-09-12T02:00:00.000Z", "result": {"rows": 0}},
        ])
        .to_string()
    );
}

#[test]
fn buckets_start_at_the_bucket_holding_the_clipped_interval_start() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12T01:30:00Z/2015-09-12T03:30:00Z"],
        "granularity": "hour",
        "aggregations": [{"type": "count", "name": "rows"}],
    }));
    assert_eq!(
        response,
        json!([
            {"timestamp": "2015-09-12T01:00:00.000Z", "result": {"rows": 0}},
            {"timestamp": "2015-09-12T02:00:00.000Z", "result": {"rows": 0}},
            {"timestamp": "2015-09-12T03:00:00.000Z", "result": {"rows": 1}},
        ])
        .to_string()
    );
}

#[test]
fn no_matching_rows_gives_one_row_of_empty_aggregates() {
    let request = json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "filter": {"type": "selector", "dimension": "channel", "value": "#nope"},
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
        ],
    });
    assert_eq!(
        run_wiki(request.clone()),
        r#"[{"timestamp":"2015-09-12T00:46:58.771Z","result":{"rows":0,"added":null,"delta":null}}]"#
    );
    // Without any segment, Druid's toolchest stamps the row with the first interval start.
    assert_eq!(
        empty_result(&query(request)).to_string(),
        r#"[{"timestamp":"2015-09-12T00:00:00.000Z","result":{"rows":0,"added":null,"delta":null}}]"#
    );
    let hourly = query(json!({
        "queryType": "timeseries", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "hour", "aggregations": [{"type": "count", "name": "rows"}],
    }));
    assert_eq!(empty_result(&hourly), json!([]));
    let skipping = query(json!({
        "queryType": "timeseries", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all", "context": {"skipEmptyBuckets": "true"},
    }));
    assert_eq!(empty_result(&skipping), json!([]));
}

#[test]
fn intervals_after_the_last_row_still_give_a_zero_filled_row() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12T05:00:00Z/2015-09-13"],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "rows"}],
    }));
    // With `all`, the segment's time range ends at the end of time, so the clipped interval
    // starts at 05:00 and holds one empty bucket (Druid's CursorGranularizer).
    assert_eq!(
        response,
        r#"[{"timestamp":"2015-09-12T05:00:00.000Z","result":{"rows":0}}]"#
    );
}

#[test]
fn grand_total_appends_a_totals_row() {
    let response = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "hour",
        "context": {"grandTotal": true},
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longMin", "name": "minAdded", "fieldName": "added"},
        ],
    }));
    assert_eq!(
        response,
        json!([
            {"timestamp": "2015-09-12T00:00:00.000Z", "result": {"rows": 2, "minAdded": 10}},
            {"timestamp": "2015-09-12T01:00:00.000Z", "result": {"rows": 2, "minAdded": 5}},
            {"timestamp": "2015-09-12T02:00:00.000Z", "result": {"rows": 0, "minAdded": null}},
            {"timestamp": "2015-09-12T03:00:00.000Z", "result": {"rows": 2, "minAdded": 1}},
            {"timestamp": null, "result": {"rows": 6, "minAdded": 1}},
        ])
        .to_string()
    );
    let bad_context = henge_query::parse_query(
        br#"{"queryType": "timeseries", "dataSource": "w", "intervals": "2015/2016",
             "granularity": "all", "context": {"grandTotal": 3}}"#,
        &henge_query::Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        (bad_context.status, bad_context.error.as_str()),
        (400, "Query context parse failed")
    );
}

#[test]
fn period_granularities_bucket_and_print_in_their_zone() {
    let kolkata = run_wiki(json!({
        "queryType": "timeseries",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": {"type": "period", "period": "PT2H", "timeZone": "Asia/Kolkata"},
        "aggregations": [{"type": "count", "name": "rows"}],
    }));
    // Local 06:16-06:50 and 08:35-09:29 (+05:30): two-hour buckets from local midnight.
    assert_eq!(
        kolkata,
        json!([
            {"timestamp": "2015-09-12T06:00:00.000+05:30", "result": {"rows": 4}},
            {"timestamp": "2015-09-12T08:00:00.000+05:30", "result": {"rows": 2}},
        ])
        .to_string()
    );
    let los_angeles = run_wiki(json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
        "dimensions": ["channel"],
        "aggregations": [{"type": "count", "name": "rows"}],
        "limitSpec": {"type": "default", "columns": ["channel"], "limit": 1},
    }));
    // Every row falls on 2015-09-11 in Los Angeles (17:46 to 20:59 PDT).
    assert_eq!(
        los_angeles,
        json!([{"version": "v1", "timestamp": "2015-09-11T00:00:00.000-07:00",
                "event": {"channel": null, "rows": 1}}])
        .to_string()
    );
}
