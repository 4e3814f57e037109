//! `LOOKUP(expr, 'name' [, replaceMissingValueWith])` planned as Druid's native `lookup`
//! expression, and the `lookup` schema in INFORMATION_SCHEMA.

use serde_json::{json, Map, Value};

use crate::tests_support::{answered_rows, catalog_of};
use crate::{plan, MapCatalog, SqlType};

fn catalog() -> MapCatalog {
    let mut catalog = catalog_of(&[(
        "wikipedia",
        &[
            ("__time", SqlType::Timestamp),
            ("channel", SqlType::Varchar),
            ("added", SqlType::Bigint),
        ],
    )]);
    catalog.set_lookups(vec!["languages".into(), "channel_names".into()]);
    catalog
}

fn native(sql: &str) -> Value {
    plan(sql, &[], &Map::new(), &catalog()).unwrap().native
}

fn rows(sql: &str) -> Vec<Vec<Value>> {
    answered_rows(sql, &catalog())
}

#[test]
fn lookup_in_group_by_is_a_virtual_column() {
    let query = native(
        "SELECT LOOKUP(channel, 'channel_names') AS lang, COUNT(*) AS edits FROM wikipedia \
         GROUP BY 1",
    );
    assert_eq!(
        query["virtualColumns"],
        json!([{"type": "expression", "name": "v0",
                "expression": "lookup(\"channel\",'channel_names')", "outputType": "STRING"}])
    );
    assert_eq!(
        query["dimensions"],
        json!([{"type": "default", "dimension": "v0", "outputName": "d0", "outputType": "STRING"}])
    );
}

#[test]
fn lookup_with_replacement_in_where_and_on_numbers() {
    let query = native(
        "SELECT COUNT(*) FROM wikipedia WHERE LOOKUP(channel, 'channel_names', 'Other') = 'Other'",
    );
    let text = query.to_string();
    assert!(
        text.contains(r#"lookup(\"channel\",'channel_names','Other')"#),
        "{text}"
    );
    let query =
        native("SELECT LOOKUP(added, 'languages') AS x, COUNT(*) FROM wikipedia GROUP BY 1");
    assert_eq!(
        query["virtualColumns"][0]["expression"],
        "lookup(cast(\"added\", 'STRING'),'languages')"
    );
}

#[test]
fn lookup_needs_a_literal_name() {
    let error = plan(
        "SELECT LOOKUP(channel, channel) FROM wikipedia",
        &[],
        &Map::new(),
        &catalog(),
    )
    .unwrap_err();
    assert!(
        error.message.contains("LOOKUP needs a string literal"),
        "{}",
        error.message
    );
}

#[test]
fn lookup_schema_lists_registered_lookups() {
    assert_eq!(
        rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IS_JOINABLE, IS_BROADCAST \
             FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'lookup'"
        ),
        vec![
            vec![
                json!("lookup"),
                json!("channel_names"),
                json!("TABLE"),
                json!("YES"),
                json!("YES")
            ],
            vec![
                json!("lookup"),
                json!("languages"),
                json!("TABLE"),
                json!("YES"),
                json!("YES")
            ],
        ]
    );
    assert_eq!(
        rows(
            "SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_SCHEMA = 'lookup' AND TABLE_NAME = 'languages'"
        ),
        vec![
            vec![json!("k"), json!("VARCHAR")],
            vec![json!("v"), json!("VARCHAR")],
        ]
    );
}
