//! Scan: every column in Druid's order, compactedList, limits, offsets, batches and
//! time ordering.

use serde_json::json;

use crate::common::{run_json, run_wiki, ts, wiki_segment, WIKI_ROWS};

#[test]
fn all_columns_list_format() {
    let response = run_wiki(json!({
        "queryType": "scan",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "limit": 2,
    }));
    assert_eq!(
        response,
        json!([{
            "segmentId": "wiki_seg",
            "columns": ["__time", "channel", "page", "user", "rank", "added", "delta"],
            "events": [
                {"__time": ts("2015-09-12T00:46:58.771Z"), "channel": "#en", "page": "Apple",
                 "user": "alice", "rank": "10", "added": 10, "delta": 1.5},
                {"__time": ts("2015-09-12T00:50:00Z"), "channel": "#en", "page": "Banana",
                 "user": null, "rank": "9", "added": 20, "delta": -2.0},
            ],
            "rowSignature": [
                {"name": "__time", "type": "LONG"},
                {"name": "channel", "type": "STRING"},
                {"name": "page", "type": "STRING"},
                {"name": "user", "type": "STRING"},
                {"name": "rank", "type": "STRING"},
                {"name": "added", "type": "LONG"},
                {"name": "delta", "type": "DOUBLE"},
            ],
        }])
        .to_string()
    );
}

#[test]
fn compacted_list_with_offset_batches_and_missing_columns() {
    let response = run_wiki(json!({
        "queryType": "scan",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "columns": ["page", "added", "nope"],
        "resultFormat": "compactedList",
        "offset": 1,
        "limit": 3,
        "batchSize": 2,
    }));
    let signature = json!([
        {"name": "page", "type": "STRING"},
        {"name": "added", "type": "LONG"},
        {"name": "nope"},
    ]);
    assert_eq!(
        response,
        json!([
            {"segmentId": "wiki_seg", "columns": ["page", "added", "nope"],
             "events": [["Banana", 20, null], ["Apple", null, null]], "rowSignature": signature},
            {"segmentId": "wiki_seg", "columns": ["page", "added", "nope"],
             "events": [["Cherry", 5, null]], "rowSignature": signature},
        ])
        .to_string()
    );
}

#[test]
fn segments_come_back_in_segment_id_order_and_limits_span_them() {
    let late = wiki_segment(&WIKI_ROWS[3..]);
    let early = wiki_segment(&WIKI_ROWS[..3]);
    let response = run_json(
        json!({
            "queryType": "scan",
            "dataSource": "wiki",
            "intervals": ["2015-09-12/2015-09-13"],
            "columns": ["page"],
            "resultFormat": "compactedList",
            "limit": 4,
        }),
        &[("wiki_b", &late), ("wiki_a", &early)],
    );
    assert_eq!(
        response,
        json!([
            {"segmentId": "wiki_a", "columns": ["page"],
             "events": [["Apple"], ["Banana"], ["Apple"]],
             "rowSignature": [{"name": "page", "type": "STRING"}]},
            {"segmentId": "wiki_b", "columns": ["page"], "events": [["Cherry"]],
             "rowSignature": [{"name": "page", "type": "STRING"}]},
        ])
    );
}

#[test]
fn descending_time_order_merges_segments_without_segment_ids() {
    let late = wiki_segment(&WIKI_ROWS[3..]);
    let early = wiki_segment(&WIKI_ROWS[..3]);
    let response = run_json(
        json!({
            "queryType": "scan",
            "dataSource": "wiki",
            "intervals": ["2015-09-12/2015-09-13"],
            "columns": ["__time", "page"],
            "resultFormat": "compactedList",
            "order": "descending",
            "filter": {"type": "not", "field": {"type": "selector", "dimension": "page", "value": "Cherry"}},
            "limit": 3,
        }),
        &[("wiki_a", &early), ("wiki_b", &late)],
    );
    assert_eq!(
        response,
        json!([{
            "segmentId": null,
            "columns": ["__time", "page"],
            "events": [
                [ts("2015-09-12T03:59:59.999Z"), "Banana"],
                [ts("2015-09-12T03:05:00Z"), "Apple"],
                [ts("2015-09-12T01:10:00Z"), "Apple"],
            ],
            "rowSignature": [{"name": "__time", "type": "LONG"}, {"name": "page", "type": "STRING"}],
        }])
    );
}

#[test]
fn no_rows_means_no_batches() {
    let response = run_wiki(json!({
        "queryType": "scan",
        "dataSource": "wiki",
        "intervals": ["2015-09-13/2015-09-14"],
    }));
    assert_eq!(response, "[]");
}
