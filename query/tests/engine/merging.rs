//! Merging: associativity, order independence, and exact JSON round trips of partials.

use henge_query::{merge, run_on_segment, PartialResult};
use serde_json::json;

use crate::common::{query, wiki_segment, WIKI_ROWS};

/// Partials of three segments holding two fixture rows each.
fn three_partials(request: serde_json::Value) -> (henge_query::Query, Vec<PartialResult>) {
    let query = query(request);
    let partials = WIKI_ROWS
        .chunks(2)
        .enumerate()
        .map(|(index, rows)| {
            run_on_segment(&query, &wiki_segment(rows), &format!("wiki_{index}")).unwrap()
        })
        .collect();
    (query, partials)
}

fn requests() -> Vec<serde_json::Value> {
    let interval = json!(["2015-09-12/2015-09-13"]);
    let aggregations = json!([
        {"type": "count", "name": "edits"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
        {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
        {"type": "longMax", "name": "maxAdded", "fieldName": "added"},
        {"type": "doubleMin", "name": "minDelta", "fieldName": "delta"},
    ]);
    vec![
        json!({"queryType": "timeseries", "dataSource": "wiki", "intervals": interval,
               "granularity": "all", "aggregations": aggregations}),
        json!({"queryType": "timeseries", "dataSource": "wiki", "intervals": interval,
               "granularity": "hour", "aggregations": aggregations, "limit": 3,
               // Zero-filling depends on each segment's time range, as in Druid.
               "context": {"skipEmptyBuckets": true}}),
        json!({"queryType": "topN", "dataSource": "wiki", "intervals": interval,
               "granularity": "all", "dimension": "page", "metric": "added", "threshold": 2,
               "aggregations": aggregations}),
        json!({"queryType": "groupBy", "dataSource": "wiki", "intervals": interval,
               "granularity": "hour", "dimensions": ["channel", "user"],
               "aggregations": aggregations}),
        // A numeric output type: ids do not sort as the rendered values, so rows are sorted.
        json!({"queryType": "groupBy", "dataSource": "wiki", "intervals": interval,
               "granularity": "all", "dimensions": [
                   {"type": "default", "dimension": "added", "outputName": "a",
                    "outputType": "LONG"}, "channel"],
               "aggregations": aggregations}),
        json!({"queryType": "scan", "dataSource": "wiki", "intervals": interval, "limit": 4}),
        json!({"queryType": "scan", "dataSource": "wiki", "intervals": interval, "limit": 4,
               "order": "descending"}),
        json!({"queryType": "timeBoundary", "dataSource": "wiki"}),
    ]
}

#[test]
fn merge_is_associative_and_order_independent() {
    for request in requests() {
        let (query, partials) = three_partials(request.clone());
        let [a, b, c] = <[PartialResult; 3]>::try_from(partials).unwrap();
        let left = merge(
            &query,
            vec![
                merge(&query, vec![a.clone(), b.clone()]).unwrap(),
                c.clone(),
            ],
        );
        let right = merge(
            &query,
            vec![
                a.clone(),
                merge(&query, vec![b.clone(), c.clone()]).unwrap(),
            ],
        );
        let reversed = merge(&query, vec![c.clone(), b.clone(), a.clone()]);
        let flat = merge(&query, vec![a, b, c]).unwrap();
        assert_eq!(left.unwrap(), flat, "associativity: {request}");
        assert_eq!(right.unwrap(), flat, "associativity: {request}");
        assert_eq!(reversed.unwrap(), flat, "order independence: {request}");
    }
}

#[test]
fn merged_results_equal_one_segment_results() {
    for request in requests() {
        let (query, partials) = three_partials(request.clone());
        let merged = henge_query::finalize(&query, merge(&query, partials).unwrap()).unwrap();
        let whole = wiki_segment(&WIKI_ROWS);
        let single = run_on_segment(&query, &whole, "wiki_0").unwrap();
        let expected = henge_query::finalize(&query, single).unwrap();
        if query.query_type() == "scan" {
            // Unordered scans keep one entry per segment; compare the rows only.
            let events = |response: &serde_json::Value| -> Vec<serde_json::Value> {
                response
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|batch| batch["events"].as_array().unwrap().clone())
                    .collect()
            };
            assert_eq!(events(&merged), events(&expected), "{request}");
        } else {
            assert_eq!(merged, expected, "{request}");
        }
    }
}

#[test]
fn partials_round_trip_through_json_exactly() {
    for request in requests() {
        let (_, partials) = three_partials(request);
        for partial in partials {
            let text = serde_json::to_string(&partial).unwrap();
            let back: PartialResult = serde_json::from_str(&text).unwrap();
            assert_eq!(back, partial);
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }
    }
    let segment = wiki_segment(&[(
        "2015-09-12T00:00:00Z",
        None,
        "p",
        None,
        None,
        None,
        Some(0.1 + 0.2),
    )]);
    let query = query(json!({
        "queryType": "timeseries", "dataSource": "wiki", "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "aggregations": [{"type": "doubleSum", "name": "delta", "fieldName": "delta"}],
    }));
    let partial = run_on_segment(&query, &segment, "s").unwrap();
    let back: PartialResult =
        serde_json::from_str(&serde_json::to_string(&partial).unwrap()).unwrap();
    let response = henge_query::finalize(&query, back).unwrap();
    assert_eq!(
        response[0]["result"]["delta"].as_f64().unwrap().to_bits(),
        (0.1f64 + 0.2).to_bits()
    );
}
