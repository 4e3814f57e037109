//! Registered lookups (`docs/querying/lookups.md`): the `registeredLookup` extraction
//! function, `lookup` dimension specs by `name` and the `lookup()` expression function,
//! resolved against the [`Lookups`] handle passed in [`Limits`].

use std::collections::BTreeMap;
use std::sync::Arc;

use henge_query::{finalize, merge, parse_query, run_on_segment, Limits, Lookups, QueryError};
use serde_json::{json, Value};

use crate::common::wiki;

/// `#en` and `#fr` named; `#de` and the null channel are missing.
fn channel_lookups() -> Lookups {
    let map = BTreeMap::from([
        ("#en".to_owned(), "English".to_owned()),
        ("#fr".to_owned(), "French".to_owned()),
    ]);
    Lookups::from_maps(BTreeMap::from([("channels".to_owned(), Arc::new(map))]))
}

fn limits(lookups: &Lookups) -> Limits {
    Limits {
        lookups: lookups.clone(),
        ..Limits::default()
    }
}

fn run(lookups: &Lookups, query: Value) -> Result<Value, QueryError> {
    let query = parse_query(query.to_string().as_bytes(), &limits(lookups))?;
    let partial = run_on_segment(&query, &wiki(), "wiki_seg")?;
    finalize(&query, merge(&query, vec![partial])?)
}

/// `(d, edits)` per row of a groupBy over one dimension spec with output name `d`.
fn group_by(lookups: &Lookups, dimension: Value, virtual_columns: Value) -> Vec<(Value, i64)> {
    let response = run(
        lookups,
        json!({
            "queryType": "groupBy",
            "dataSource": "wiki",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "virtualColumns": virtual_columns,
            "dimensions": [dimension],
            "aggregations": [{"type": "count", "name": "edits"}],
        }),
    )
    .expect("groupBy runs");
    response
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["event"]["d"].clone(),
                row["event"]["edits"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pairs(expected: Value) -> Vec<(Value, i64)> {
    expected
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].clone(), pair[1].as_i64().unwrap()))
        .collect()
}

#[test]
fn registered_lookup_extraction_nulls_or_retains_missing_values() {
    let lookups = channel_lookups();
    let registered = |extra: Value| {
        let mut function = json!({"type": "registeredLookup", "lookup": "channels"});
        function
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"type": "extraction", "dimension": "channel", "outputName": "d",
               "extractionFn": function})
    };
    assert_eq!(
        group_by(&lookups, registered(json!({})), json!([])),
        pairs(json!([[null, 2], ["English", 2], ["French", 2]]))
    );
    assert_eq!(
        group_by(
            &lookups,
            registered(json!({"retainMissingValue": true})),
            json!([])
        ),
        pairs(json!([
            [null, 1],
            ["#de", 1],
            ["English", 2],
            ["French", 2]
        ]))
    );
    assert_eq!(
        group_by(
            &lookups,
            registered(json!({"replaceMissingValueWith": "?"})),
            json!([])
        ),
        pairs(json!([["?", 2], ["English", 2], ["French", 2]]))
    );
}

#[test]
fn lookup_dimension_spec_by_name_in_topn() {
    let response = run(
        &channel_lookups(),
        json!({
            "queryType": "topN",
            "dataSource": "wiki",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "dimension": {"type": "lookup", "dimension": "channel", "outputName": "language",
                          "name": "channels", "replaceMissingValueWith": "Other"},
            "metric": "added",
            "threshold": 2,
            "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
        }),
    )
    .unwrap();
    // English: 10 + 20; French: 5 (one null added); Other (#de and null): 7 + 1.
    assert_eq!(
        response,
        json!([{"timestamp": "2015-09-12T00:46:58.771Z", "result": [
            {"language": "English", "added": 30},
            {"language": "Other", "added": 8},
        ]}])
    );
}

#[test]
fn lookup_expression_groups_and_filters() {
    let lookups = channel_lookups();
    let virtual_columns = json!([{"type": "expression", "name": "v0",
        "expression": "lookup(channel, 'channels', 'none')", "outputType": "STRING"}]);
    assert_eq!(
        group_by(
            &lookups,
            json!({"type": "default", "dimension": "v0", "outputName": "d"}),
            virtual_columns
        ),
        pairs(json!([["English", 2], ["French", 2], ["none", 2]]))
    );
    let filtered = run(
        &lookups,
        json!({
            "queryType": "timeseries",
            "dataSource": "wiki",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "filter": {"type": "expression", "expression": "lookup(channel, 'channels') == 'French'"},
            "aggregations": [{"type": "count", "name": "edits"}],
        }),
    )
    .unwrap();
    assert_eq!(filtered[0]["result"]["edits"], 2);
}

#[test]
fn unknown_lookups_fail_and_updates_reach_new_queries() {
    let lookups = Lookups::default();
    let by_name = json!({
        "queryType": "groupBy",
        "dataSource": "wiki",
        "intervals": ["2015-09-12/2015-09-13"],
        "granularity": "all",
        "dimensions": [{"type": "lookup", "dimension": "channel", "outputName": "d",
                        "name": "channels"}],
        "aggregations": [{"type": "count", "name": "edits"}],
    });
    let error = run(&lookups, by_name.clone()).unwrap_err();
    assert_eq!(error.status, 500);
    assert_eq!(error.error_message, "Lookup [channels] not found");
    let expression = json!({
        "queryType": "timeseries", "dataSource": "wiki", "intervals": ["2015/2016"],
        "granularity": "all",
        "virtualColumns": [{"type": "expression", "name": "v0",
                            "expression": "lookup(channel, 'channels')"}],
    });
    assert_eq!(
        run(&lookups, expression).unwrap_err().error_message,
        "Lookup [channels] not found"
    );
    // The node loads the lookup: queries parsed afterwards see it.
    lookups.replace_all(BTreeMap::from([(
        "channels".to_owned(),
        Arc::new(BTreeMap::from([("#de".to_owned(), "German".to_owned())])),
    )]));
    let response = run(&lookups, by_name).unwrap();
    let german = response
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["event"]["d"] == "German")
        .expect("a German group");
    assert_eq!(german["event"]["edits"], 1);
}
