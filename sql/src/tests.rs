//! Planner tests: each query shape against hand-written native JSON, and row conversion.

use serde_json::{json, Map, Value};

use crate::tests_support::{catalog_of, on_server_stack};
use crate::{plan, MapCatalog, SqlType};

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
        ],
    )])
}

fn native(sql: &str) -> Value {
    plan(sql, &[], &Map::new(), &catalog()).unwrap().native
}

fn error(sql: &str) -> String {
    plan(sql, &[], &Map::new(), &catalog()).unwrap_err().message
}

#[test]
fn aggregates_without_group_by_are_a_timeseries_over_all() {
    assert_eq!(
        native("SELECT COUNT(*), SUM(added) AS s FROM wikipedia WHERE channel = '#en.wikipedia'"),
        json!({
            "queryType": "timeseries",
            "dataSource": {"type": "table", "name": "wikipedia"},
            "intervals": {"type": "intervals", "intervals": [ETERNITY]},
            "virtualColumns": [],
            "filter": {"type": "equals", "column": "channel", "matchValueType": "STRING", "matchValue": "#en.wikipedia"},
            "granularity": "all",
            "aggregations": [
                {"type": "count", "name": "a0"},
                {"type": "longSum", "name": "a1", "fieldName": "added"},
            ],
            "postAggregations": [],
            "context": {},
        })
    );
}

#[test]
fn time_conditions_become_intervals_with_between_end_plus_one_ms() {
    let query = native(
        "SELECT COUNT(*) FROM wikipedia WHERE __time BETWEEN TIMESTAMP '2015-09-12 00:00:00' \
         AND TIMESTAMP '2015-09-12 00:59:59' AND added > 10",
    );
    assert_eq!(
        query["intervals"]["intervals"],
        json!(["2015-09-12T00:00:00.000Z/2015-09-12T00:59:59.001Z"])
    );
    assert_eq!(
        query["filter"],
        json!({"type": "range", "column": "added", "matchValueType": "LONG", "lower": 10, "lowerOpen": true})
    );
    let query = native(
        "SELECT COUNT(*) FROM wikipedia WHERE __time >= TIMESTAMP '2015-09-12 01:00:00' \
         AND __time < TIMESTAMP '2015-09-12 02:00:00'",
    );
    assert_eq!(
        query["intervals"]["intervals"],
        json!(["2015-09-12T01:00:00.000Z/2015-09-12T02:00:00.000Z"])
    );
    assert!(query.get("filter").is_none());
}

#[test]
fn where_operators_become_druid_28_filters() {
    let query = native(
        "SELECT COUNT(*) FROM wikipedia WHERE (channel IN ('#a', '#b') OR page LIKE 'Ab%') \
         AND NOT \"user\" IS NULL AND delta BETWEEN 1 AND 2.5 AND added <> 3",
    );
    assert_eq!(
        query["filter"],
        json!({"type": "and", "fields": [
            {"type": "or", "fields": [
                {"type": "in", "dimension": "channel", "values": ["#a", "#b"]},
                {"type": "like", "dimension": "page", "pattern": "Ab%"},
            ]},
            {"type": "not", "field": {"type": "null", "column": "user"}},
            {"type": "range", "column": "delta", "matchValueType": "DOUBLE", "lower": 1.0, "upper": 2.5},
            {"type": "not", "field": {"type": "equals", "column": "added", "matchValueType": "LONG", "matchValue": 3}},
        ]})
    );
}

#[test]
fn one_dimension_ordered_by_an_aggregate_with_limit_is_a_top_n() {
    let query = native(
        "SELECT page, COUNT(*) AS edits FROM wikipedia GROUP BY page ORDER BY edits DESC LIMIT 10",
    );
    assert_eq!(query["queryType"], "topN");
    assert_eq!(
        query["dimension"],
        json!({"type": "default", "dimension": "page", "outputName": "d0", "outputType": "STRING"})
    );
    assert_eq!(query["metric"], json!({"type": "numeric", "metric": "a0"}));
    assert_eq!(query["threshold"], 10);
}

#[test]
fn top_n_is_a_group_by_when_approximation_is_off() {
    let mut context = Map::new();
    context.insert("useApproximateTopN".into(), json!(false));
    let planned = plan(
        "SELECT page, COUNT(*) AS edits FROM wikipedia GROUP BY page ORDER BY edits DESC LIMIT 10",
        &[],
        &context,
        &catalog(),
    )
    .unwrap();
    assert_eq!(planned.native["queryType"], "groupBy");
    assert_eq!(
        planned.native["dimensions"],
        json!([{"type": "default", "dimension": "page", "outputName": "d0", "outputType": "STRING"}])
    );
    assert_eq!(
        planned.native["limitSpec"],
        json!({"type": "default", "columns": [{"dimension": "a0", "direction": "descending", "dimensionOrder": "numeric"}], "limit": 10})
    );
}

#[test]
fn group_by_with_having_and_avg() {
    let query = native(
        "SELECT channel, AVG(added) FROM wikipedia GROUP BY 1 HAVING SUM(added) > 100 ORDER BY channel",
    );
    assert_eq!(query["queryType"], "groupBy");
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "longSum", "name": "a0:sum", "fieldName": "added"},
            {"type": "filtered", "aggregator": {"type": "count", "name": "a0:count"},
             "filter": {"type": "not", "field": {"type": "null", "column": "added"}}, "name": "a0:count"},
            {"type": "longSum", "name": "a1", "fieldName": "added"},
        ])
    );
    assert_eq!(
        query["postAggregations"],
        json!([{"type": "arithmetic", "name": "a0", "fn": "quotient", "fields": [
            {"type": "fieldAccess", "fieldName": "a0:sum"},
            {"type": "fieldAccess", "fieldName": "a0:count"},
        ]}])
    );
    assert_eq!(
        query["having"],
        json!({"type": "filter", "filter": {"type": "range", "column": "a1", "matchValueType": "LONG", "lower": 100, "lowerOpen": true}})
    );
    assert_eq!(
        query["limitSpec"]["columns"],
        json!([{"dimension": "d0", "direction": "ascending", "dimensionOrder": "lexicographic"}])
    );
}

#[test]
fn group_by_time_floor_alone_is_a_timeseries_with_that_granularity() {
    for sql in [
        "SELECT FLOOR(__time TO HOUR) AS h, SUM(added) FROM wikipedia GROUP BY 1",
        "SELECT TIME_FLOOR(__time, 'PT1H') AS h, SUM(added) FROM wikipedia GROUP BY TIME_FLOOR(__time, 'PT1H')",
    ] {
        let query = native(sql);
        assert_eq!(query["queryType"], "timeseries", "{sql}");
        assert_eq!(
            query["granularity"],
            json!({"type": "period", "period": "PT1H", "timeZone": "UTC"})
        );
        assert_eq!(query["context"]["skipEmptyBuckets"], true);
    }
}

#[test]
fn select_without_aggregates_is_a_scan() {
    let query = native(
        "SELECT __time, page, added * 2 AS twice FROM wikipedia ORDER BY __time DESC LIMIT 5 OFFSET 2",
    );
    assert_eq!(
        query,
        json!({
            "queryType": "scan",
            "dataSource": {"type": "table", "name": "wikipedia"},
            "intervals": {"type": "intervals", "intervals": [ETERNITY]},
            "virtualColumns": [{"type": "expression", "name": "v0", "expression": "(\"added\" * 2)", "outputType": "LONG"}],
            "resultFormat": "compactedList",
            "columns": ["__time", "page", "v0"],
            "limit": 5,
            "offset": 2,
            "order": "descending",
            "context": {},
        })
    );
}

#[test]
fn count_distinct_is_cardinality_by_default() {
    let query =
        native("SELECT COUNT(DISTINCT \"user\"), APPROX_COUNT_DISTINCT(page) FROM wikipedia");
    assert_eq!(
        query["aggregations"][0],
        json!({"type": "cardinality", "name": "a0",
               "fields": [{"type": "default", "dimension": "user", "outputName": "user", "outputType": "STRING"}],
               "byRow": false, "round": true})
    );
}

#[test]
fn parameters_bind_in_order() {
    let planned = plan(
        "SELECT COUNT(*) FROM wikipedia WHERE channel = ? AND added >= ?",
        &[
            json!({"type": "VARCHAR", "value": "#fr"}),
            json!({"type": "BIGINT", "value": 5}),
        ],
        &Map::new(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(planned.native["filter"]["fields"][0]["matchValue"], "#fr");
    assert_eq!(planned.native["filter"]["fields"][1]["lower"], 5);
}

#[test]
fn unsupported_and_invalid_queries_are_errors() {
    assert_eq!(
        error("SELECT * FROM nope"),
        "Object 'nope' not found (line [1], column [15])"
    );
    assert_eq!(
        error("SELECT page,\n  nope FROM wikipedia"),
        "Column 'nope' not found in any table (line [2], column [3])"
    );
    assert!(error("SELEC 1").starts_with(
        "Received an unexpected token [SELEC] (line [1], column [1]), acceptable options: ["
    ));
    assert!(
        error("SELECT a.page FROM wikipedia a RIGHT JOIN wikipedia b ON a.page = b.page")
            .contains("not supported")
    );
    assert!(
        error("SELECT page, COUNT(*) FROM wikipedia GROUP BY channel")
            .contains("not being grouped")
    );
    assert!(error("SELECT page FROM wikipedia ORDER BY page").contains("not supported"));
    assert!(error("SELECT LOWER(SUM(added)) FROM wikipedia").contains("not supported"));
    assert!(error("SELECT COUNT(*) FROM wikipedia; SELECT 1").contains("exactly one"));
    assert!(error("SELECT COUNT(*) FROM wikipedia WHERE added = 'abc'").contains("Cannot compare"));
}

#[test]
fn rows_convert_each_shape() {
    let planned = plan(
        "SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) AS c FROM wikipedia GROUP BY 1",
        &[],
        &Map::new(),
        &catalog(),
    )
    .unwrap();
    let rows = planned
        .rows(&json!([{"timestamp": "2015-09-12T01:00:00.000Z", "result": {"a0": 3}}]))
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![json!("2015-09-12T01:00:00.000Z"), json!(3)]]
    );
    let planned = plan(
        "SELECT __time, page FROM wikipedia",
        &[],
        &Map::new(),
        &catalog(),
    )
    .unwrap();
    let rows = planned
        .rows(&json!([{"segmentId": "s", "columns": ["__time", "page"], "events": [[1442016000000_i64, "P"]]}]))
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![json!("2015-09-12T00:00:00.000Z"), json!("P")]]
    );
    assert_eq!(planned.columns[0].sql_type, SqlType::Timestamp);
}

#[test]
fn planned_queries_are_valid_native_queries() {
    let mut catalog = catalog();
    catalog.insert(
        "sketches",
        vec![
            ("__time".into(), SqlType::Timestamp),
            ("country".into(), SqlType::Varchar),
            ("users_hll".into(), SqlType::Complex("HLLSketch".into())),
            (
                "users_unique".into(),
                SqlType::Complex("hyperUnique".into()),
            ),
        ],
    );
    let queries = [
        "SELECT COUNT(*), SUM(added), MIN(delta), MAX(__time), AVG(delta) FROM wikipedia",
        "SELECT page, COUNT(*) AS c FROM wikipedia GROUP BY page ORDER BY c DESC LIMIT 3",
        "SELECT channel, page, SUM(added) FROM wikipedia WHERE page LIKE 'A%' GROUP BY 1, 2 \
         HAVING SUM(added) BETWEEN 1 AND 10 ORDER BY 3 DESC, 1 LIMIT 5 OFFSET 1",
        "SELECT FLOOR(__time TO DAY), COUNT(*) FILTER (WHERE added > 0) FROM wikipedia GROUP BY 1 ORDER BY 1 DESC LIMIT 2",
        "SELECT FLOOR(__time TO HOUR), channel, COUNT(*) FROM wikipedia GROUP BY 1, 2",
        "SELECT UPPER(channel) || '-' || page AS k, COUNT(DISTINCT \"user\") FROM wikipedia GROUP BY 1",
        "SELECT * FROM wikipedia WHERE channel NOT IN ('#a') AND added IN (1, 2) LIMIT 3",
        "SELECT CAST(added AS DOUBLE) / 2, CONCAT(page, 'x') FROM wikipedia ORDER BY __time LIMIT 1",
        "SELECT DISTINCT channel FROM wikipedia",
        "SELECT APPROX_COUNT_DISTINCT(users_hll), APPROX_COUNT_DISTINCT(users_unique) FROM sketches",
        "SELECT COUNT(*) FROM wikipedia WHERE __time > TIMESTAMP '2016-01-01' AND __time < TIMESTAMP '2015-01-01'",
    ];
    for sql in queries {
        let planned =
            plan(sql, &[], &Map::new(), &catalog).unwrap_or_else(|error| panic!("{sql}: {error}"));
        let bytes = serde_json::to_vec(&planned.native).unwrap();
        if let Err(error) = henge_query::parse_query(&bytes, &henge_query::Limits::default()) {
            panic!("{sql}\n{}\n{error:?}", planned.native);
        }
    }
}

#[test]
fn arithmetic_over_aggregates_is_an_expression_post_aggregator() {
    let query = native(
        "SELECT channel, SUM(added) / COUNT(*) AS per_edit, (SUM(delta) * 1.5) FROM wikipedia \
         GROUP BY channel ORDER BY SUM(added) / COUNT(*) DESC",
    );
    assert_eq!(
        query["aggregations"],
        json!([
            {"type": "longSum", "name": "a0", "fieldName": "added"},
            {"type": "count", "name": "a1"},
            {"type": "doubleSum", "name": "a2", "fieldName": "delta"},
        ])
    );
    assert_eq!(
        query["postAggregations"],
        json!([
            {"type": "expression", "name": "p0", "expression": "(\"a0\" / \"a1\")"},
            {"type": "expression", "name": "p1", "expression": "(\"a2\" * 1.5)"},
        ])
    );
    assert_eq!(query["limitSpec"]["columns"][0]["dimension"], "p0");
    let planned = plan(
        "SELECT SUM(added) / COUNT(*) FROM wikipedia",
        &[],
        &Map::new(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(planned.native["queryType"], "timeseries");
    assert_eq!(planned.columns[0].sql_type, SqlType::Bigint);
}

#[test]
fn a_subquery_in_from_is_a_query_data_source_read_by_its_output_names() {
    let query = native(
        "SELECT COUNT(*) AS pages FROM (SELECT page, COUNT(*) AS edits FROM wikipedia \
         GROUP BY page) t WHERE t.edits > 10",
    );
    assert_eq!(query["queryType"], "timeseries");
    assert_eq!(query["dataSource"]["type"], "query");
    let inner = &query["dataSource"]["query"];
    assert_eq!(inner["queryType"], "groupBy");
    assert_eq!(
        inner["dataSource"],
        json!({"type": "table", "name": "wikipedia"})
    );
    assert_eq!(
        query["filter"],
        json!({"type": "range", "column": "a0", "matchValueType": "LONG", "lower": 10, "lowerOpen": true})
    );
    // A WITH query used in FROM plans the same way.
    let with = native(
        "WITH per_page AS (SELECT page, COUNT(*) AS edits FROM wikipedia GROUP BY page) \
         SELECT COUNT(*) AS pages FROM per_page t WHERE t.edits > 10",
    );
    assert_eq!(with, query);
}

#[test]
fn a_time_floored_subquery_column_is_the_outer_time_column() {
    let query = native(
        "SELECT FLOOR(h TO DAY) AS d, SUM(edits) FROM (SELECT FLOOR(__time TO HOUR) AS h, \
         COUNT(*) AS edits FROM wikipedia GROUP BY 1) GROUP BY 1",
    );
    assert_eq!(query["queryType"], "timeseries");
    assert_eq!(query["granularity"]["period"], "P1D");
    assert_eq!(
        query["dataSource"]["query"]["granularity"]["period"],
        "PT1H"
    );
    assert_eq!(
        query["aggregations"],
        json!([{"type": "longSum", "name": "a0", "fieldName": "a0"}])
    );
}

#[test]
fn union_all_plans_one_query_per_branch_with_matching_types() {
    let planned = plan(
        "SELECT COUNT(*) FROM wikipedia UNION ALL SELECT SUM(added) FROM wikipedia \
         UNION ALL SELECT COUNT(*) FROM wikipedia WHERE channel = 'x'",
        &[],
        &Map::new(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(planned.union_all.len(), 2);
    assert_eq!(
        planned.union_all[0].native["aggregations"][0]["type"],
        "longSum"
    );
    assert!(
        error("SELECT COUNT(*) FROM wikipedia UNION ALL SELECT channel FROM wikipedia")
            .contains("Type mismatch")
    );
    assert!(error("SELECT page FROM wikipedia UNION SELECT page FROM wikipedia").contains("UNION"));
    assert!(
        error("SELECT page FROM wikipedia UNION ALL SELECT page, channel FROM wikipedia")
            .contains("Column count")
    );
    assert!(error("WITH t AS (SELECT * FROM t) SELECT COUNT(*) FROM t").contains("'t' not found"));
    assert!(error("SELECT x.page FROM (SELECT page FROM wikipedia) t").contains("not found"));
}

/// A chain of operators up to [`crate::MAX_OPERATORS`] plans on a stack as large as the
/// server's runtime threads have (the tree is as deep as the chain); a longer one is refused
/// before it is parsed.
#[test]
fn operator_chains_plan_up_to_the_cap_and_longer_ones_are_refused() {
    let chain = |terms: usize| {
        let condition: Vec<String> = (0..terms).map(|i| format!("channel = 'c{i}'")).collect();
        format!(
            "SELECT COUNT(*) FROM wikipedia WHERE {}",
            condition.join(" OR ")
        )
    };
    let within = chain(crate::MAX_OPERATORS / 2);
    let beyond = chain(crate::MAX_OPERATORS / 2 + 1);
    let planned = on_server_stack(move || native(&within));
    let fields = planned["filter"]["fields"].as_array().map(Vec::len);
    assert_eq!(fields, Some(crate::MAX_OPERATORS / 2));
    assert!(error(&beyond).contains("Henge plans at most 2000"));
}
