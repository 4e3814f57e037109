//! INFORMATION_SCHEMA and EXPLAIN PLAN FOR tests, with rows written by hand from the catalog.

use serde_json::{json, Map, Value};

use crate::tests_support::{answered, answered_rows, catalog_of};
use crate::{prepare, Answer, MapCatalog, SqlType};

fn catalog() -> MapCatalog {
    catalog_of(&[
        (
            "wikipedia",
            &[
                ("__time", SqlType::Timestamp),
                ("channel", SqlType::Varchar),
                ("added", SqlType::Bigint),
                ("delta", SqlType::Double),
            ],
        ),
        ("koalas", &[("__time", SqlType::Timestamp)]),
    ])
}

fn answer(sql: &str) -> Answer {
    answered(sql, &catalog())
}

fn rows(sql: &str) -> Vec<Vec<Value>> {
    answered_rows(sql, &catalog())
}

fn names(answer: &Answer) -> Vec<&str> {
    answer
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .collect()
}

#[test]
fn schemata_lists_druid_information_schema_and_lookup() {
    let answer = answer("SELECT * FROM INFORMATION_SCHEMA.SCHEMATA");
    assert_eq!(
        names(&answer),
        [
            "CATALOG_NAME",
            "SCHEMA_NAME",
            "SCHEMA_OWNER",
            "DEFAULT_CHARACTER_SET_CATALOG",
            "DEFAULT_CHARACTER_SET_SCHEMA",
            "DEFAULT_CHARACTER_SET_NAME",
            "SQL_PATH"
        ]
    );
    assert_eq!(
        answer.rows,
        vec![
            vec![
                json!("druid"),
                json!("druid"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
            vec![
                json!("druid"),
                json!("INFORMATION_SCHEMA"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
            vec![
                json!("druid"),
                json!("lookup"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
            vec![
                json!("druid"),
                json!("sys"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
        ]
    );
}

#[test]
fn tables_filters_by_schema_and_orders() {
    assert_eq!(
        rows(
            "SELECT TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES \
             WHERE TABLE_SCHEMA = 'druid' ORDER BY TABLE_NAME DESC"
        ),
        vec![
            vec![json!("wikipedia"), json!("TABLE")],
            vec![json!("koalas"), json!("TABLE")],
        ]
    );
    assert_eq!(
        rows(
            "select TABLE_NAME from INFORMATION_SCHEMA.TABLES \
             where TABLE_SCHEMA in ('INFORMATION_SCHEMA') and TABLE_NAME like '%A%A' limit 5"
        ),
        vec![vec![json!("SCHEMATA")]]
    );
    let all = answer("SELECT * FROM INFORMATION_SCHEMA.TABLES");
    assert_eq!(
        names(&all),
        [
            "TABLE_CATALOG",
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "TABLE_TYPE",
            "IS_JOINABLE",
            "IS_BROADCAST"
        ]
    );
    // Two datasources, three INFORMATION_SCHEMA tables and five sys tables.
    assert_eq!(all.rows.len(), 10);
    assert_eq!(
        all.rows[2],
        vec![
            json!("druid"),
            json!("INFORMATION_SCHEMA"),
            json!("COLUMNS"),
            json!("SYSTEM_TABLE"),
            json!("NO"),
            json!("NO")
        ]
    );
}

#[test]
fn columns_describe_each_sql_type() {
    let answer = answer(
        "SELECT COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, DATA_TYPE, NUMERIC_PRECISION, \
         DATETIME_PRECISION, CHARACTER_SET_NAME, JDBC_TYPE FROM INFORMATION_SCHEMA.COLUMNS \
         WHERE TABLE_SCHEMA = 'druid' AND TABLE_NAME = 'wikipedia' ORDER BY ORDINAL_POSITION",
    );
    assert_eq!(answer.columns[1].sql_type, SqlType::Bigint);
    assert_eq!(
        answer.rows,
        vec![
            vec![
                json!("__time"),
                json!(1),
                json!("NO"),
                json!("TIMESTAMP"),
                Value::Null,
                json!(3),
                Value::Null,
                json!(93)
            ],
            vec![
                json!("channel"),
                json!(2),
                json!("YES"),
                json!("VARCHAR"),
                Value::Null,
                Value::Null,
                json!("UTF-16LE"),
                json!(12)
            ],
            vec![
                json!("added"),
                json!(3),
                json!("YES"),
                json!("BIGINT"),
                json!(19),
                Value::Null,
                Value::Null,
                json!(-5)
            ],
            vec![
                json!("delta"),
                json!(4),
                json!("YES"),
                json!("DOUBLE"),
                json!(15),
                Value::Null,
                Value::Null,
                json!(8)
            ],
        ]
    );
    assert_eq!(
        rows(
            "SELECT COLUMN_NAME AS c FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'wikipedia' \
             AND NOT (DATA_TYPE = 'VARCHAR' OR COLUMN_NAME = '__time') ORDER BY 1 DESC LIMIT 1 OFFSET 1"
        ),
        vec![vec![json!("added")]]
    );
    assert_eq!(
        rows("SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE COLUMN_NAME IS NULL").len(),
        0,
    );
}

#[test]
fn order_by_reads_ordinals_and_aliases() {
    let sql = |order: &str| {
        format!(
            "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_SCHEMA = 'druid' ORDER BY {order}"
        )
    };
    let expected = vec![
        vec![json!("wikipedia"), json!("delta")],
        vec![json!("wikipedia"), json!("channel")],
        vec![json!("wikipedia"), json!("added")],
        vec![json!("wikipedia"), json!("__time")],
        vec![json!("koalas"), json!("__time")],
    ];
    assert_eq!(rows(&sql("1 DESC, 2 DESC")), expected);
    assert_eq!(rows(&sql("t DESC, c DESC")), expected);
    assert_eq!(rows(&sql("TABLE_NAME DESC, COLUMN_NAME DESC")), expected);
}

#[test]
fn metadata_errors_are_sql_errors() {
    let error = |sql: &str| {
        prepare(sql, &[], &Map::new(), &catalog())
            .unwrap_err()
            .message
    };
    assert!(error("SELECT nope FROM INFORMATION_SCHEMA.TABLES").contains("Column 'nope' not found"));
    assert!(error("SELECT * FROM INFORMATION_SCHEMA.NOPE").contains("not found"));
    // Identifiers are case-sensitive, as in Druid.
    assert!(error("SELECT * FROM information_schema.tables").contains("not found"));
    assert!(error("SELECT table_name FROM INFORMATION_SCHEMA.TABLES").contains("not found"));
    assert_eq!(
        error("SELECT TABLE_NAME, COUNT(*) FROM INFORMATION_SCHEMA.TABLES GROUP BY TABLE_SCHEMA"),
        "Expression 'TABLE_NAME' is not being grouped (line [1], column [8])"
    );
    assert_eq!(
        error("SELECT * FROM INFORMATION_SCHEMA.NOPE"),
        "Object 'NOPE' not found within 'INFORMATION_SCHEMA' (line [1], column [34])"
    );
}

#[test]
fn explain_plan_for_gives_the_native_query_with_its_signature() {
    let answer =
        answer("explain plan for SELECT channel, SUM(added) AS s FROM wikipedia GROUP BY channel");
    assert_eq!(names(&answer), ["PLAN", "RESOURCES", "ATTRIBUTES"]);
    let [row] = answer.rows.as_slice() else {
        panic!("one row expected");
    };
    let plan: Value = serde_json::from_str(row[0].as_str().unwrap()).unwrap();
    assert_eq!(plan[0]["query"]["queryType"], "groupBy");
    assert_eq!(
        plan[0]["query"]["dataSource"],
        json!({"type": "table", "name": "wikipedia"})
    );
    assert_eq!(
        plan[0]["signature"],
        json!([{"name": "d0", "type": "STRING"}, {"name": "a0", "type": "LONG"}])
    );
    assert_eq!(
        plan[0]["columnMappings"],
        json!([{"queryColumn": "d0", "outputColumn": "channel"}, {"queryColumn": "a0", "outputColumn": "s"}])
    );
    assert_eq!(
        row[1],
        json!(r#"[{"name":"wikipedia","type":"DATASOURCE"}]"#)
    );
    assert_eq!(row[2], json!(r#"{"statementType":"SELECT"}"#));
}

#[test]
fn explain_of_a_bad_query_is_the_query_error() {
    let error = prepare(
        "EXPLAIN PLAN FOR SELECT nope FROM wikipedia",
        &[],
        &Map::new(),
        &catalog(),
    )
    .unwrap_err()
    .message;
    assert!(error.contains("nope"), "{error}");
}
