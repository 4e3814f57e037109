//! Planner tests for scalar functions, `sqlTimeZone`, TIMESTAMP/INTERVAL literals and
//! expression filters: native expressions and granularities against hand-written JSON, rows
//! printed in the zone, and every function's plan accepted by the native query parser.

use serde_json::{json, Map, Value};

use crate::tests_support::catalog_of;
use crate::{plan, MapCatalog, SqlType};

fn catalog() -> MapCatalog {
    catalog_of(&[(
        "wikipedia",
        &[
            ("__time", SqlType::Timestamp),
            ("channel", SqlType::Varchar),
            ("page", SqlType::Varchar),
            ("cityName", SqlType::Varchar),
            ("added", SqlType::Bigint),
            ("deleted", SqlType::Bigint),
            ("delta", SqlType::Double),
        ],
    )])
}

fn context(zone: &str) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("sqlTimeZone".into(), json!(zone));
    context.insert("sqlCurrentTimestamp".into(), json!("2015-09-13T00:00:00Z"));
    context
}

fn native_in(sql: &str, zone: &str) -> Value {
    plan(sql, &[], &context(zone), &catalog())
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .native
}

fn native(sql: &str) -> Value {
    native_in(sql, "UTC")
}

/// The expression of the only virtual column.
fn expression(sql: &str) -> String {
    let query = native(sql);
    assert_eq!(
        query["virtualColumns"].as_array().map(Vec::len),
        Some(1),
        "{query}"
    );
    query["virtualColumns"][0]["expression"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn time_floor_in_a_zone_is_a_zoned_granularity_and_prints_in_the_zone() {
    let sql = "SELECT FLOOR(__time TO DAY) AS d, COUNT(*) FROM wikipedia GROUP BY 1";
    let planned = plan(sql, &[], &context("America/Los_Angeles"), &catalog()).unwrap();
    assert_eq!(planned.native["queryType"], "timeseries");
    assert_eq!(
        planned.native["granularity"],
        json!({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"})
    );
    let rows = planned
        .rows(&json!([{"timestamp": "2015-09-11T07:00:00.000Z", "result": {"a0": 3}}]))
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![json!("2015-09-11T00:00:00.000-07:00"), json!(3)]]
    );
    let origin = native(
        "SELECT TIME_FLOOR(__time, 'PT6H', TIMESTAMP '2015-09-12 03:00:00', '+05:30'), COUNT(*) \
         FROM wikipedia GROUP BY 1",
    );
    assert_eq!(
        origin["granularity"],
        json!({"type": "period", "period": "PT6H", "timeZone": "+05:30", "origin": "2015-09-12T03:00:00.000Z"})
    );
}

#[test]
fn timestamp_literals_and_interval_arithmetic_fold_into_intervals_in_the_zone() {
    let query = native_in(
        "SELECT COUNT(*) FROM wikipedia WHERE __time >= TIMESTAMP '2015-09-12 00:00:00' - \
         INTERVAL '1' HOUR AND __time < '2015-09-12 06:00:00'",
        "America/Los_Angeles",
    );
    assert_eq!(
        query["intervals"]["intervals"],
        json!(["2015-09-12T06:00:00.000Z/2015-09-12T13:00:00.000Z"])
    );
    let query = native(
        "SELECT COUNT(*) FROM wikipedia WHERE __time >= CURRENT_TIMESTAMP - INTERVAL '1' MONTH",
    );
    assert_eq!(
        query["intervals"]["intervals"][0]
            .as_str()
            .map(|text| &text[..24]),
        Some("2015-08-13T00:00:00.000Z")
    );
    assert_eq!(
        expression("SELECT __time + INTERVAL '2' HOUR FROM wikipedia"),
        "(\"__time\" + 7200000)"
    );
    assert_eq!(
        expression("SELECT TIMESTAMPADD(YEAR, 1, __time) FROM wikipedia"),
        "timestamp_shift(\"__time\",'P12M',1,'UTC')"
    );
}

#[test]
fn time_functions_become_native_time_expressions() {
    let cases = [
        (
            "TIME_CEIL(__time, 'PT1H')",
            "timestamp_ceil(\"__time\",'PT1H',null,'UTC')",
        ),
        (
            "TIME_SHIFT(__time, 'P1D', -2)",
            "timestamp_shift(\"__time\",'P1D',-2,'UTC')",
        ),
        (
            "TIME_EXTRACT(__time, 'hour', 'Asia/Tokyo')",
            "timestamp_extract(\"__time\",'HOUR','Asia/Tokyo')",
        ),
        (
            "EXTRACT(DOW FROM __time)",
            "timestamp_extract(\"__time\",'DOW','UTC')",
        ),
        (
            "TIME_PARSE(page, 'yyyy')",
            "timestamp_parse(\"page\",'yyyy','UTC')",
        ),
        (
            "TIME_FORMAT(__time)",
            "timestamp_format(\"__time\",null,'UTC')",
        ),
        (
            "TIMESTAMPDIFF(HOUR, __time, TIMESTAMP '2015-09-13 00:00:00')",
            "div((1442102400000 - \"__time\"),3600000)",
        ),
        (
            "TIMESTAMPDIFF(QUARTER, __time, __time)",
            "div(subtract_months(\"__time\",\"__time\",'UTC'),3)",
        ),
        (
            "CAST(__time AS VARCHAR)",
            "timestamp_format(\"__time\",'yyyy-MM-dd HH:mm:ss','UTC')",
        ),
        (
            "DATE_TRUNC('month', MILLIS_TO_TIMESTAMP(added))",
            "timestamp_floor(\"added\",'P1M',null,'UTC')",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            expression(&format!("SELECT {sql} FROM wikipedia")),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn string_numeric_and_conditional_functions_become_native_expressions() {
    let cases = [
        ("SUBSTRING(page, 2, 3)", "substring(\"page\",1,3)"),
        ("SUBSTRING(page FROM 4)", "substring(\"page\",3,-1)"),
        ("STRPOS(page, ':')", "(strpos(\"page\",':') + 1)"),
        ("POSITION(':' IN page)", "(strpos(\"page\",':') + 1)"),
        ("TRIM(LEADING 'x' FROM page)", "ltrim(\"page\",'x')"),
        ("TRIM(page)", "trim(\"page\",' ')"),
        ("LPAD(page, 3)", "lpad(\"page\",3,' ')"),
        ("channel || page", "concat(\"channel\",\"page\")"),
        (
            "TRUNCATE(delta, 2)",
            "(cast(cast((\"delta\" * 100.0),'LONG'),'DOUBLE') / 100.0)",
        ),
        ("TRUNCATE(added, -1)", "((\"added\" / 10) * 10)"),
        (
            "SAFE_DIVIDE(added, deleted)",
            "safe_divide(\"added\",\"deleted\")",
        ),
        ("POWER(added, 2)", "pow(\"added\",2)"),
        ("LN(delta)", "log(\"delta\")"),
        ("MOD(added, 3)", "(\"added\" % 3)"),
        ("CEIL(delta)", "ceil(\"delta\")"),
        (
            "CASE WHEN added > 10 THEN 'a' ELSE 'b' END",
            "case_searched((\"added\" > 10),'a','b')",
        ),
        (
            "CASE channel WHEN 'x' THEN 1 END",
            "case_simple(\"channel\",'x',1)",
        ),
        (
            "NULLIF(channel, 'x')",
            "case_searched((\"channel\" == 'x'),null,\"channel\")",
        ),
        ("IFNULL(cityName, '?')", "nvl(\"cityName\",'?')"),
        (
            "COALESCE(cityName, page)",
            "coalesce(\"cityName\",\"page\")",
        ),
        ("CAST(added AS BOOLEAN)", "(\"added\" != 0)"),
        ("(added > 3) IS NOT TRUE", "(nvl((\"added\" > 3),0) == 0)"),
        (
            "added BETWEEN 1 AND 2",
            "((\"added\" >= 1) && (\"added\" <= 2))",
        ),
        ("page NOT LIKE 'a%'", "!like(\"page\",'a%')"),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            expression(&format!("SELECT {sql} FROM wikipedia")),
            expected,
            "{sql}"
        );
    }
    let query = native("SELECT CEIL(added), FLOOR(added) FROM wikipedia");
    assert_eq!(query["virtualColumns"], json!([]));
    assert_eq!(query["columns"], json!(["added"]));
}

#[test]
fn conditions_without_a_native_filter_become_expression_filters() {
    assert_eq!(
        native("SELECT COUNT(*) FROM wikipedia WHERE added < deleted")["filter"],
        json!({"type": "expression", "expression": "(\"added\" < \"deleted\")"})
    );
    assert_eq!(
        native("SELECT COUNT(*) FROM wikipedia WHERE (added > 1) IS TRUE")["filter"],
        json!({"type": "expression", "expression": "(nvl((\"added\" > 1),0) != 0)"})
    );
    assert_eq!(
        native("SELECT COUNT(*) FROM wikipedia WHERE REGEXP_LIKE(page, '^a')")["filter"],
        json!({"type": "regex", "dimension": "page", "pattern": "^a"})
    );
    let query = native(
        "SELECT channel, SUM(added) FROM wikipedia GROUP BY 1 HAVING SUM(deleted) > SUM(added) / 10",
    );
    assert_eq!(
        query["having"],
        json!({"type": "filter", "filter": {"type": "expression", "expression": "(\"a1\" > (\"a0\" / 10))"}})
    );
    let query = native("SELECT COUNT(*) FROM wikipedia WHERE UPPER(page) = 'A'");
    assert_eq!(
        query["filter"],
        json!({"type": "equals", "column": "v0", "matchValueType": "STRING", "matchValue": "A"})
    );
    let query = native(
        "SELECT COUNT(*) FROM wikipedia WHERE __time < '2015-09-12 01:00:00' OR channel = 'x'",
    );
    assert_eq!(
        query["filter"]["fields"][0],
        json!({"type": "range", "column": "__time", "matchValueType": "LONG", "upper": 1442019600000_i64, "upperOpen": true})
    );
}

#[test]
fn results_print_booleans_and_zoned_timestamps() {
    let planned = plan(
        "SELECT __time, added > 1 AS big FROM wikipedia",
        &[],
        &context("+05:30"),
        &catalog(),
    )
    .unwrap();
    let rows = planned
        .rows(&json!([{"segmentId": "s", "columns": ["__time", "v0"], "events": [[1442016000000_i64, 1], [1442016000000_i64, 0]]}]))
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![json!("2015-09-12T05:30:00.000+05:30"), json!(true)],
            vec![json!("2015-09-12T05:30:00.000+05:30"), json!(false)],
        ]
    );
}

#[test]
fn bad_time_arguments_are_sql_errors() {
    let error = |sql: &str, zone: &str| {
        plan(sql, &[], &context(zone), &catalog())
            .unwrap_err()
            .message
    };
    assert!(error("SELECT COUNT(*) FROM wikipedia", "Mars/Olympus").contains("sqlTimeZone"));
    assert!(error("SELECT TIME_FLOOR(__time, 'nope') FROM wikipedia", "UTC").contains("period"));
    assert!(error("SELECT TIME_FLOOR(page, 'P1D') FROM wikipedia", "UTC").contains("TIMESTAMP"));
    assert!(error(
        "SELECT TIMESTAMPADD(FORTNIGHT, 1, __time) FROM wikipedia",
        "UTC"
    )
    .contains("not supported"));
    assert!(error("SELECT page + INTERVAL '1' DAY FROM wikipedia", "UTC").contains("TIMESTAMP"));
    assert!(error(
        "SELECT TIME_EXTRACT(__time, 'HOUR', 'Nowhere') FROM wikipedia",
        "UTC"
    )
    .contains("time zone"));
    // The native parser checks every plan: a bad pattern is a planning error.
    assert!(!error(
        "SELECT COUNT(*) FROM wikipedia WHERE REGEXP_LIKE(page, '(')",
        "UTC"
    )
    .is_empty());
    assert!(!error("SELECT REGEXP_EXTRACT(page, '[') FROM wikipedia", "UTC").is_empty());
}

#[test]
fn every_function_plans_into_a_valid_native_query() {
    let queries = [
        "SELECT TIME_FLOOR(__time, 'PT1H', NULL, 'America/New_York') AS h, channel, COUNT(*) \
         FROM wikipedia GROUP BY 1, 2 ORDER BY 1 LIMIT 3",
        "SELECT channel, SUM(CASE WHEN delta < 0 THEN -delta ELSE 0 END) AS removed FROM wikipedia \
         WHERE CASE WHEN page = 'x' THEN 0 ELSE 1 END = 1 GROUP BY 1 ORDER BY removed DESC LIMIT 3",
        "SELECT COUNT(*) FILTER (WHERE REGEXP_LIKE(page, 'a')), SUM(SAFE_DIVIDE(added, deleted)), \
         MAX(TIMESTAMPDIFF(MONTH, __time, CURRENT_TIMESTAMP)) FROM wikipedia",
        "SELECT REGEXP_EXTRACT(page, '(a+)', 1) AS r, LENGTH(page), COUNT(*) FROM wikipedia GROUP BY 1, 2",
        "SELECT CAST(__time AS DATE), TIME_FORMAT(__time, 'yyyy-MM-dd'), TIME_PARSE('2015', 'yyyy'), \
         GREATEST(added, deleted), LEAST(delta, 1.5), ROUND(delta, 1), SQRT(added), EXP(delta), \
         LOG10(added), PARSE_LONG(page, 16), REVERSE(page), LEFT(page, 2), RIGHT(page, 2), \
         REPLACE(page, 'a', 'b'), RPAD(page, 5, 'x'), BTRIM(page), TEXTCAT(page, channel) \
         FROM wikipedia ORDER BY __time LIMIT 1",
        "SELECT COUNT(*) FROM wikipedia WHERE LOWER(page) LIKE '%a\\_%' ESCAPE '\\' \
         AND added NOT IN (1, 2) AND delta BETWEEN -1 AND 1 AND cityName IS NOT NULL \
         AND CONCAT(page, channel) IS NULL AND cityName <> page",
    ];
    for sql in queries {
        let planned = plan(sql, &[], &context("Asia/Kolkata"), &catalog())
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
        let bytes = serde_json::to_vec(&planned.native).unwrap();
        if let Err(error) = henge_query::parse_query(&bytes, &henge_query::Limits::default()) {
            panic!("{sql}\n{}\n{error:?}", planned.native);
        }
    }
}
