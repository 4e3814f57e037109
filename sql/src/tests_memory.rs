//! SELECTs answered in memory: aggregates, GROUP BY and HAVING over INFORMATION_SCHEMA, the
//! `sys` tables over rows handed in, and SELECT without FROM. Expected rows are worked out
//! by hand from the catalog and the rows below.

use serde_json::{json, Map, Value};

use crate::tests_support::catalog_of;
use crate::{prepare_with_system, system_table_read, Answer, MapCatalog, Prepared, SqlType};
use crate::{reads_information_schema, SystemTables};

fn catalog() -> MapCatalog {
    catalog_of(&[
        (
            "wikipedia",
            &[
                ("__time", SqlType::Timestamp),
                ("channel", SqlType::Varchar),
                ("added", SqlType::Bigint),
                ("ratio", SqlType::Float),
                ("delta", SqlType::Double),
                ("users", SqlType::Complex("hyperUnique".into())),
            ],
        ),
        ("koalas", &[("__time", SqlType::Timestamp)]),
    ])
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("rows are written as objects"),
    }
}

/// Three segments of two datasources, one of them not served; two servers.
fn system() -> SystemTables {
    let mut system = SystemTables::default();
    system.insert(
        "segments",
        vec![
            object(json!({"segment_id": "w1", "datasource": "wikipedia", "num_rows": 10, "size": 100, "num_replicas": 1, "is_available": 1})),
            object(json!({"segment_id": "w2", "datasource": "wikipedia", "num_rows": 32, "size": 300, "num_replicas": 2, "is_available": 1})),
            object(json!({"segment_id": "k1", "datasource": "koalas", "num_rows": 5, "size": 50, "num_replicas": 0, "is_available": 0})),
        ],
    );
    system.insert(
        "servers",
        vec![
            object(json!({"server": "h:1", "server_type": "historical", "curr_size": 400})),
            object(json!({"server": "b:2", "server_type": "broker", "curr_size": 0})),
        ],
    );
    system
}

fn answer(sql: &str) -> Answer {
    match prepare_with_system(sql, &[], &Map::new(), &catalog(), &system()).unwrap() {
        Prepared::Rows(answer) => answer,
        Prepared::Native(planned) => panic!("expected rows, planned {}", planned.native),
    }
}

fn rows(sql: &str) -> Vec<Vec<Value>> {
    answer(sql).rows
}

fn error(sql: &str) -> String {
    prepare_with_system(sql, &[], &Map::new(), &catalog(), &system())
        .unwrap_err()
        .message
}

#[test]
fn pydruid_has_table_counts_matching_tables() {
    let sql = |table: &str| {
        format!(
            "SELECT COUNT(*) > 0 AS exists_ FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = '{table}'"
        )
    };
    let found = answer(&sql("wikipedia"));
    assert_eq!(found.columns[0].name, "exists_");
    assert_eq!(found.columns[0].sql_type, SqlType::Boolean);
    assert_eq!(found.rows, vec![vec![json!(true)]]);
    // COUNT over no rows is 0, so one row answers false.
    assert_eq!(rows(&sql("nope")), vec![vec![json!(false)]]);
}

#[test]
fn select_without_from_is_one_row() {
    let ping = answer("SELECT 1");
    assert_eq!(ping.columns[0].name, "EXPR$0");
    assert_eq!(ping.rows, vec![vec![json!(1)]]);
    let answer = answer("SELECT 1 + 1, 'a', 7 / 2 AS half, 1.5 * 2, 3 > 2 AND NOT FALSE");
    assert_eq!(
        answer.rows,
        vec![vec![
            json!(2),
            json!("a"),
            json!(3),
            json!(3.0),
            json!(true)
        ]]
    );
    let names: Vec<&str> = answer.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["EXPR$0", "EXPR$1", "half", "EXPR$3", "EXPR$4"]);
    assert_eq!(answer.columns[3].sql_type, SqlType::Double);
    assert_eq!(rows("SELECT 1 WHERE 1 = 2"), Vec::<Vec<Value>>::new());
    assert!(error("SELECT nope").starts_with("Column 'nope' not found in any table"));
}

#[test]
fn group_by_with_having_and_order() {
    // Tables per schema: druid 2, INFORMATION_SCHEMA 3, sys 5.
    assert_eq!(
        rows(
            "SELECT TABLE_SCHEMA, COUNT(*) AS n FROM INFORMATION_SCHEMA.TABLES \
             GROUP BY TABLE_SCHEMA HAVING COUNT(*) > 2 ORDER BY n DESC"
        ),
        vec![
            vec![json!("sys"), json!(5)],
            vec![json!("INFORMATION_SCHEMA"), json!(3)],
        ]
    );
    // wikipedia has 6 columns (positions 1..6), koalas 1.
    assert_eq!(
        rows(
            "SELECT TABLE_NAME, COUNT(*), SUM(ORDINAL_POSITION), MIN(COLUMN_NAME), \
             MAX(ORDINAL_POSITION), COUNT(DISTINCT DATA_TYPE) FROM INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_SCHEMA = 'druid' GROUP BY 1 ORDER BY 1"
        ),
        vec![
            vec![
                json!("koalas"),
                json!(1),
                json!(1),
                json!("__time"),
                json!(1),
                json!(1)
            ],
            vec![
                json!("wikipedia"),
                json!(6),
                json!(21),
                json!("__time"),
                json!(6),
                json!(6)
            ],
        ]
    );
    // Aggregates over no rows: COUNT 0, the others NULL.
    assert_eq!(
        rows(
            "SELECT COUNT(*), SUM(JDBC_TYPE), MAX(COLUMN_NAME) FROM INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_NAME = 'nope'"
        ),
        vec![vec![json!(0), Value::Null, Value::Null]]
    );
    assert_eq!(
        rows("SELECT DISTINCT TABLE_SCHEMA FROM INFORMATION_SCHEMA.TABLES ORDER BY TABLE_SCHEMA"),
        vec![
            vec![json!("INFORMATION_SCHEMA")],
            vec![json!("druid")],
            vec![json!("sys")],
        ]
    );
}

#[test]
fn columns_types_follow_druid() {
    let answer = answer(
        "SELECT COLUMN_NAME, IS_NULLABLE, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, \
         JDBC_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'wikipedia' \
         AND COLUMN_NAME IN ('ratio', 'delta', 'users', 'added') ORDER BY ORDINAL_POSITION",
    );
    let scale = json!(-2147483648i64);
    assert_eq!(
        answer.rows,
        vec![
            vec![
                json!("added"),
                json!("YES"),
                json!("BIGINT"),
                json!(19),
                json!(0),
                json!(-5)
            ],
            vec![
                json!("ratio"),
                json!("YES"),
                json!("FLOAT"),
                json!(15),
                scale.clone(),
                json!(6)
            ],
            vec![
                json!("delta"),
                json!("YES"),
                json!("DOUBLE"),
                json!(15),
                scale,
                json!(8)
            ],
            vec![
                json!("users"),
                json!("YES"),
                json!("COMPLEX<hyperUnique>"),
                Value::Null,
                Value::Null,
                json!(1111)
            ],
        ]
    );
    // The metadata tables' own columns: NOT NULL except where Druid allows NULL.
    assert_eq!(
        rows(
            "SELECT COLUMN_NAME, IS_NULLABLE, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_NAME = 'COLUMNS' AND COLUMN_NAME IN ('ORDINAL_POSITION', 'NUMERIC_SCALE')"
        ),
        vec![
            vec![json!("ORDINAL_POSITION"), json!("NO"), json!("BIGINT")],
            vec![json!("NUMERIC_SCALE"), json!("YES"), json!("BIGINT")],
        ]
    );
    assert_eq!(
        rows(
            "SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_SCHEMA = 'sys' AND TABLE_NAME = 'server_segments'"
        ),
        vec![
            vec![json!("server"), json!("VARCHAR")],
            vec![json!("segment_id"), json!("VARCHAR")],
        ]
    );
}

#[test]
fn sys_tables_answer_from_the_rows_handed_in() {
    assert_eq!(
        system_table_read("SELECT * FROM sys.segments"),
        Some("segments".into())
    );
    assert_eq!(
        system_table_read("SELECT * FROM INFORMATION_SCHEMA.TABLES"),
        None
    );
    assert!(!reads_information_schema("SELECT * FROM sys.segments"));
    assert_eq!(
        rows(
            "SELECT datasource, COUNT(*) AS segments, SUM(\"num_rows\") AS total, \
             SUM(size * num_replicas) AS served FROM sys.segments \
             GROUP BY datasource ORDER BY datasource"
        ),
        vec![
            vec![json!("koalas"), json!(1), json!(5), json!(0)],
            vec![json!("wikipedia"), json!(2), json!(42), json!(700)],
        ]
    );
    let all = answer("SELECT * FROM sys.segments WHERE segment_id = 'w1'");
    assert_eq!(all.columns.len(), 20);
    assert_eq!(all.columns[8].name, "num_rows");
    assert_eq!(all.columns[8].sql_type, SqlType::Bigint);
    assert_eq!(all.rows[0][0], json!("w1"));
    assert_eq!(all.rows[0][2], Value::Null);
    assert_eq!(
        rows("SELECT server FROM sys.servers WHERE server_type LIKE 'hist%' OR curr_size IS NULL"),
        vec![vec![json!("h:1")]]
    );
    // A sys table without rows handed in is empty.
    assert_eq!(rows("SELECT COUNT(*) FROM sys.tasks"), vec![vec![json!(0)]]);
    assert_eq!(
        error("SELECT * FROM sys.nope"),
        "Object 'nope' not found within 'sys' (line [1], column [19])"
    );
}
