//! TimeBoundary: both bounds, one bound, filters and no data; dataSourceMetadata, which reads
//! the same per-segment bounds.

use henge_query::empty_result;
use serde_json::json;

use crate::common::{query, run_json, run_wiki, wiki_segment, WIKI_ROWS};

#[test]
fn reports_min_and_max_time() {
    assert_eq!(
        run_wiki(json!({"queryType": "timeBoundary", "dataSource": "wiki"})),
        r#"[{"timestamp":"2015-09-12T00:46:58.771Z","result":{"maxTime":"2015-09-12T03:59:59.999Z","minTime":"2015-09-12T00:46:58.771Z"}}]"#
    );
}

#[test]
fn one_bound_stamps_the_result_with_it() {
    assert_eq!(
        run_wiki(json!({"queryType": "timeBoundary", "dataSource": "wiki", "bound": "maxTime"})),
        r#"[{"timestamp":"2015-09-12T03:59:59.999Z","result":{"maxTime":"2015-09-12T03:59:59.999Z"}}]"#
    );
    assert_eq!(
        run_wiki(json!({"queryType": "timeBoundary", "dataSource": "wiki", "bound": "minTime"})),
        r#"[{"timestamp":"2015-09-12T00:46:58.771Z","result":{"minTime":"2015-09-12T00:46:58.771Z"}}]"#
    );
}

#[test]
fn filters_and_intervals_narrow_the_rows() {
    assert_eq!(
        run_wiki(json!({
            "queryType": "timeBoundary",
            "dataSource": "wiki",
            "filter": {"type": "selector", "dimension": "channel", "value": "#fr"},
        })),
        r#"[{"timestamp":"2015-09-12T01:10:00.000Z","result":{"maxTime":"2015-09-12T01:20:00.000Z","minTime":"2015-09-12T01:10:00.000Z"}}]"#
    );
    assert_eq!(
        run_wiki(json!({
            "queryType": "timeBoundary",
            "dataSource": "wiki",
            "intervals": ["2015-09-12T01:00:00Z/2015-09-12T03:30:00Z"],
        })),
        r#"[{"timestamp":"2015-09-12T01:10:00.000Z","result":{"maxTime":"2015-09-12T03:05:00.000Z","minTime":"2015-09-12T01:10:00.000Z"}}]"#
    );
}

#[test]
fn no_rows_means_an_empty_response() {
    let request = json!({
        "queryType": "timeBoundary",
        "dataSource": "wiki",
        "filter": {"type": "selector", "dimension": "channel", "value": "#nope"},
    });
    assert_eq!(run_wiki(request.clone()), "[]");
    assert_eq!(empty_result(&query(request)), json!([]));
}

#[test]
fn data_source_metadata_reports_the_latest_event_across_segments() {
    let early = wiki_segment(&WIKI_ROWS[..2]);
    let late = wiki_segment(&WIKI_ROWS[2..]);
    let request = json!({"queryType": "dataSourceMetadata", "dataSource": "wiki"});
    let latest = "2015-09-12T03:59:59.999Z";
    assert_eq!(
        run_json(request.clone(), &[("late", &late), ("early", &early)]),
        json!([{"timestamp": latest, "result": {"maxIngestedEventTime": latest}}])
    );
    assert_eq!(empty_result(&query(request)), json!([]));
}
