//! Plans of the aggregate functions against hand-written native JSON: exact COUNT(DISTINCT)
//! as a nested groupBy, the sketch aggregates and their post-aggregation functions,
//! EARLIEST/LATEST/ANY_VALUE, CASE inside aggregates and FILTER.

use serde_json::{json, Map, Value};

use crate::tests_support::catalog_of;
use crate::{plan, MapCatalog, Planned, SqlType};

const ETERNITY: &str = "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z";

fn catalog() -> MapCatalog {
    catalog_of(&[(
        "wikipedia",
        &[
            ("__time", SqlType::Timestamp),
            ("channel", SqlType::Varchar),
            ("page", SqlType::Varchar),
            ("user", SqlType::Varchar),
            ("added", SqlType::Bigint),
            ("delta", SqlType::Double),
            ("user_hll", SqlType::Complex("HLLSketch".into())),
            ("user_theta", SqlType::Complex("thetaSketch".into())),
        ],
    )])
}

fn planned_with(sql: &str, context: Value) -> Result<Planned, String> {
    let context: Map<String, Value> = context.as_object().cloned().unwrap_or_default();
    plan(sql, &[], &context, &catalog()).map_err(|error| error.message)
}

fn native(sql: &str) -> Value {
    planned_with(sql, json!({})).unwrap().native
}

fn exact(sql: &str) -> Value {
    planned_with(sql, json!({"useApproximateCountDistinct": false}))
        .unwrap()
        .native
}

#[test]
fn exact_count_distinct_without_group_by_is_a_timeseries_over_a_group_by() {
    assert_eq!(
        exact("SELECT COUNT(DISTINCT \"user\") FROM wikipedia WHERE channel = '#en'"),
        json!({
            "queryType": "timeseries",
            "dataSource": {"type": "query", "query": {
                "queryType": "groupBy",
                "dataSource": {"type": "table", "name": "wikipedia"},
                "intervals": {"type": "intervals", "intervals": [ETERNITY]},
                "virtualColumns": [],
                "filter": {"type": "equals", "column": "channel", "matchValueType": "STRING", "matchValue": "#en"},
                "granularity": "all",
                "dimensions": [{"type": "default", "dimension": "user", "outputName": "d0", "outputType": "STRING"}],
                "aggregations": [],
                "postAggregations": [],
                "context": {"useApproximateCountDistinct": false},
            }},
            "intervals": {"type": "intervals", "intervals": [ETERNITY]},
            "virtualColumns": [],
            "granularity": "all",
            "aggregations": [{
                "type": "filtered", "aggregator": {"type": "count", "name": "a0"},
                "filter": {"type": "not", "field": {"type": "null", "column": "d0"}}, "name": "a0",
            }],
            "postAggregations": [],
            "context": {"useApproximateCountDistinct": false},
        })
    );
}

#[test]
fn exact_count_distinct_with_keys_combines_the_other_aggregates_outside() {
    let query = exact(
        "SELECT channel, SUM(added), COUNT(*), COUNT(DISTINCT page) AS pages FROM wikipedia \
         GROUP BY channel ORDER BY pages DESC LIMIT 3",
    );
    assert_eq!(query["queryType"], "groupBy", "no topN over an exact count");
    let inner = &query["dataSource"]["query"];
    assert_eq!(
        inner["dimensions"],
        json!([
            {"type": "default", "dimension": "channel", "outputName": "d0", "outputType": "STRING"},
            {"type": "default", "dimension": "page", "outputName": "d1", "outputType": "STRING"},
        ])
    );
    assert_eq!(
        inner["aggregations"],
        json!([
            {"type": "longSum", "name": "a0", "fieldName": "added"},
            {"type": "count", "name": "a1"},
        ])
    );
    assert_eq!(
        query["dimensions"],
        json!([{"type": "default", "dimension": "d0", "outputName": "_d0", "outputType": "STRING"}])
    );
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "longSum", "name": "_a0", "fieldName": "a0"},
            {"type": "longSum", "name": "_a1", "fieldName": "a1"},
            {"type": "filtered", "aggregator": {"type": "count", "name": "_a2"},
             "filter": {"type": "not", "field": {"type": "null", "column": "d1"}}, "name": "_a2"},
        ])
    );
    assert_eq!(query["limitSpec"]["columns"][0]["dimension"], "_a2");
    let planned = planned_with(
        "SELECT channel, AVG(added), COUNT(DISTINCT page) * 2 FROM wikipedia GROUP BY channel \
         HAVING COUNT(DISTINCT page) > 1",
        json!({"useApproximateCountDistinct": false}),
    )
    .unwrap();
    let fields: Vec<&str> = planned.columns.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["_d0", "_a0", "p0"]);
    assert_eq!(
        planned.native["postAggregations"],
        json!([
            {"type": "arithmetic", "name": "_a0", "fn": "quotient", "fields": [
                {"type": "fieldAccess", "fieldName": "_a0:sum"},
                {"type": "fieldAccess", "fieldName": "_a0:count"},
            ]},
            {"type": "expression", "name": "p0", "expression": "(\"_a1\" * 2)"},
        ])
    );
    assert_eq!(planned.native["having"]["filter"]["column"], "_a1");
}

#[test]
fn exact_count_distinct_by_a_time_floor_keeps_the_granularity_inside() {
    let query =
        exact("SELECT FLOOR(__time TO HOUR), COUNT(DISTINCT page) FROM wikipedia GROUP BY 1");
    assert_eq!(query["queryType"], "timeseries");
    let hourly = json!({"type": "period", "period": "PT1H", "timeZone": "UTC"});
    assert_eq!(query["granularity"], hourly);
    assert_eq!(query["dataSource"]["query"]["granularity"], hourly);
    assert!(query["dataSource"]["query"]["context"]
        .get("skipEmptyBuckets")
        .is_none());
}

#[test]
fn exact_count_distinct_refusals() {
    let context = json!({"useApproximateCountDistinct": false});
    let refused = |sql: &str| planned_with(sql, context.clone()).unwrap_err();
    assert!(
        refused("SELECT COUNT(DISTINCT page), COUNT(DISTINCT \"user\") FROM wikipedia")
            .contains("multiple exact COUNT DISTINCT")
    );
    assert!(
        refused("SELECT COUNT(DISTINCT page), EARLIEST(page) FROM wikipedia")
            .contains("next to an exact COUNT(DISTINCT)")
    );
    assert!(
        refused("SELECT COUNT(DISTINCT page) FILTER (WHERE added > 1) FROM wikipedia")
            .contains("not supported")
    );
    assert!(refused("SELECT COUNT(DISTINCT user_hll) FROM wikipedia").contains("COMPLEX"));
    // The same column twice is one nested query.
    let query = exact("SELECT COUNT(DISTINCT page), COUNT(DISTINCT page) + 1 FROM wikipedia");
    assert_eq!(query["dataSource"]["type"], "query");
}

#[test]
fn hll_sketch_aggregates() {
    let query = native(
        "SELECT APPROX_COUNT_DISTINCT_DS_HLL(\"user\"), APPROX_COUNT_DISTINCT_DS_HLL(user_hll, 14, 'HLL_8'), \
         HLL_SKETCH_ESTIMATE(DS_HLL(page)) FROM wikipedia",
    );
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "HLLSketchBuild", "name": "a0", "fieldName": "user", "lgK": 12, "tgtHllType": "HLL_4", "shouldFinalize": true, "round": true},
            {"type": "HLLSketchMerge", "name": "a1", "fieldName": "user_hll", "lgK": 14, "tgtHllType": "HLL_8", "shouldFinalize": true, "round": true},
            {"type": "HLLSketchBuild", "name": "a2", "fieldName": "page", "lgK": 12, "tgtHllType": "HLL_4", "shouldFinalize": false, "round": true},
        ])
    );
    assert_eq!(
        query["postAggregations"],
        json!([{"type": "HLLSketchEstimate", "name": "p0", "field": {"type": "fieldAccess", "name": "a2", "fieldName": "a2"}, "round": false}])
    );
    let planned = planned_with(
        "SELECT HLL_SKETCH_ESTIMATE(DS_HLL(page)) FROM wikipedia",
        json!({}),
    )
    .unwrap();
    assert_eq!(planned.columns[0].sql_type, SqlType::Double);
    assert_eq!(planned.columns[0].field, "p0");
}

#[test]
fn theta_sketch_aggregates_and_set_operations() {
    let query = native(
        "SELECT APPROX_COUNT_DISTINCT_DS_THETA(page, 4096), \
         THETA_SKETCH_ESTIMATE(THETA_SKETCH_INTERSECT(DS_THETA(\"user\") FILTER (WHERE channel = '#a'), \
         DS_THETA(user_theta))) FROM wikipedia",
    );
    assert_eq!(
        query["aggregations"][0],
        json!({"type": "thetaSketch", "name": "a0", "fieldName": "page", "size": 4096, "shouldFinalize": true, "isInputThetaSketch": false})
    );
    assert_eq!(query["aggregations"][1]["type"], "filtered");
    assert_eq!(
        query["aggregations"][1]["aggregator"]["shouldFinalize"],
        false
    );
    assert_eq!(
        query["postAggregations"],
        json!([{"type": "thetaSketchEstimate", "name": "p0", "field": {
        "type": "thetaSketchSetOp", "name": "p0:0", "func": "INTERSECT", "size": 16384, "fields": [
            {"type": "fieldAccess", "name": "a1", "fieldName": "a1"},
            {"type": "fieldAccess", "name": "a2", "fieldName": "a2"},
        ]}}])
    );
}

#[test]
fn quantiles_sketch_aggregates() {
    let query = native(
        "SELECT APPROX_QUANTILE_DS(delta, 0.9), DS_GET_QUANTILE(DS_QUANTILES_SKETCH(added, 64), 0.5), \
         DS_RANK(DS_QUANTILES_SKETCH(added, 64), 100) FROM wikipedia",
    );
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "quantilesDoublesSketch", "name": "a0:agg", "fieldName": "delta", "k": 128},
            {"type": "quantilesDoublesSketch", "name": "a1", "fieldName": "added", "k": 64, "shouldFinalize": false},
        ])
    );
    assert_eq!(
        query["postAggregations"],
        json!([
            {"type": "quantilesDoublesSketchToQuantile", "name": "a0", "field": {"type": "fieldAccess", "name": "a0:agg", "fieldName": "a0:agg"}, "fraction": 0.9},
            {"type": "quantilesDoublesSketchToQuantile", "name": "p0", "field": {"type": "fieldAccess", "name": "a1", "fieldName": "a1"}, "fraction": 0.5},
            {"type": "quantilesDoublesSketchToRank", "name": "p1", "field": {"type": "fieldAccess", "name": "a1", "fieldName": "a1"}, "value": 100.0},
        ])
    );
}

#[test]
fn sketch_argument_errors() {
    let error = |sql: &str| planned_with(sql, json!({})).unwrap_err();
    assert!(error("SELECT APPROX_QUANTILE_DS(page, 0.5) FROM wikipedia").contains("VARCHAR"));
    assert!(error("SELECT APPROX_QUANTILE_DS(added, 2) FROM wikipedia").contains("between 0 and 1"));
    assert!(error("SELECT APPROX_QUANTILE_DS(added, added) FROM wikipedia").contains("literal"));
    assert!(
        error("SELECT HLL_SKETCH_ESTIMATE(DS_THETA(page)) FROM wikipedia").contains("thetaSketch")
    );
    assert!(error("SELECT HLL_SKETCH_ESTIMATE(page) FROM wikipedia").contains("not supported"));
    assert!(
        error("SELECT APPROX_COUNT_DISTINCT_DS_HLL(user_theta) FROM wikipedia").contains("COMPLEX")
    );
    assert!(error("SELECT DS_HLL() FROM wikipedia").contains("Invalid number of arguments"));
}

#[test]
fn earliest_latest_and_any_value_by_type() {
    let query = native(
        "SELECT EARLIEST(page), LATEST(added), EARLIEST_BY(delta, __time), LATEST(page, 64), \
         ANY_VALUE(page, 10, false), ANY_VALUE(added), LATEST_BY(\"user\", FLOOR(__time TO HOUR)) FROM wikipedia",
    );
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "stringFirst", "name": "a0", "fieldName": "page", "timeColumn": "__time", "maxStringBytes": 1024},
            {"type": "longLast", "name": "a1", "fieldName": "added", "timeColumn": "__time"},
            {"type": "doubleFirst", "name": "a2", "fieldName": "delta", "timeColumn": "__time"},
            {"type": "stringLast", "name": "a3", "fieldName": "page", "timeColumn": "__time", "maxStringBytes": 64},
            {"type": "stringAny", "name": "a4", "fieldName": "page", "maxStringBytes": 10, "aggregateMultipleValues": false},
            {"type": "longAny", "name": "a5", "fieldName": "added"},
            {"type": "stringLast", "name": "a6", "fieldName": "user", "timeColumn": "v0", "maxStringBytes": 1024},
        ])
    );
    let error =
        planned_with("SELECT EARLIEST_BY(page, added) FROM wikipedia", json!({})).unwrap_err();
    assert!(error.contains("TIMESTAMP"), "{error}");
}

#[test]
fn case_inside_aggregates_becomes_a_filter() {
    let query = native(
        "SELECT SUM(CASE WHEN channel = '#a' THEN added END), \
         SUM(CASE WHEN channel = '#b' THEN 1 ELSE 0 END), \
         MAX(CASE page WHEN 'x' THEN delta ELSE NULL END) FILTER (WHERE added > 0) FROM wikipedia",
    );
    let equals = |column: &str, value: &str| json!({"type": "equals", "column": column, "matchValueType": "STRING", "matchValue": value});
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "filtered", "aggregator": {"type": "longSum", "name": "a0", "fieldName": "added"},
             "filter": equals("channel", "#a"), "name": "a0"},
            {"type": "filtered", "aggregator": {"type": "count", "name": "a1"},
             "filter": equals("channel", "#b"), "name": "a1"},
            {"type": "filtered", "aggregator": {"type": "doubleMax", "name": "a2", "fieldName": "delta"},
             "filter": {"type": "and", "fields": [
                 {"type": "range", "column": "added", "matchValueType": "LONG", "lower": 0, "lowerOpen": true},
                 equals("page", "x"),
             ]}, "name": "a2"},
        ])
    );
}

#[test]
fn aggregates_over_expressions_read_virtual_columns() {
    let query = native("SELECT SUM(added * 2), COUNT(page || 'x'), COUNT(1) FROM wikipedia");
    assert_eq!(
        query["virtualColumns"],
        json!([
            {"type": "expression", "name": "v0", "expression": "(\"added\" * 2)", "outputType": "LONG"},
            {"type": "expression", "name": "v1", "expression": "concat(\"page\",'x')", "outputType": "STRING"},
        ])
    );
    assert_eq!(query["aggregations"][0]["fieldName"], "v0");
    assert_eq!(
        query["aggregations"][1]["filter"],
        json!({"type": "not", "field": {"type": "null", "column": "v1"}})
    );
    assert_eq!(
        query["aggregations"][2],
        json!({"type": "count", "name": "a2"})
    );
}

#[test]
fn approx_count_distinct_builtin_is_cardinality_like_the_default() {
    let query = native(
        "SELECT APPROX_COUNT_DISTINCT_BUILTIN(page), APPROX_COUNT_DISTINCT(page) FROM wikipedia",
    );
    assert_eq!(query["aggregations"][0]["type"], "cardinality");
    assert_eq!(
        query["aggregations"][0]["fields"],
        query["aggregations"][1]["fields"]
    );
}

#[test]
fn hll_sketch_union_takes_optional_leading_parameters() {
    let query = native(
        "SELECT HLL_SKETCH_ESTIMATE(HLL_SKETCH_UNION(DS_HLL(page), DS_HLL(\"user\"))), \
         HLL_SKETCH_UNION(14, 'HLL_8', DS_HLL(page), DS_HLL(user_hll)) FROM wikipedia",
    );
    let access = |name: &str| json!({"type": "fieldAccess", "name": name, "fieldName": name});
    assert_eq!(
        query["postAggregations"][0]["field"],
        json!({"type": "HLLSketchUnion", "name": "p0:0", "fields": [access("a0"), access("a1")], "lgK": 12, "tgtHllType": "HLL_4"})
    );
    assert_eq!(
        query["postAggregations"][1],
        json!({"type": "HLLSketchUnion", "name": "p1", "fields": [access("a0"), access("a2")], "lgK": 14, "tgtHllType": "HLL_8"})
    );
    let error = planned_with(
        "SELECT HLL_SKETCH_UNION(DS_HLL(page)) FROM wikipedia",
        json!({}),
    )
    .unwrap_err();
    assert!(error.contains("Invalid number of arguments"), "{error}");
}
