//! `EXPLAIN PLAN FOR <select>`: one row of Druid's three VARCHAR columns, PLAN (a JSON array
//! of `{"query", "signature", "columnMappings"}`, Druid 24+'s form), RESOURCES (the
//! datasources read) and ATTRIBUTES (`{"statementType":"SELECT"}`).

use serde_json::{json, Value};

use crate::planner::{Answer, OutputColumn, Planned, ROW_TIMESTAMP};
use crate::SqlType;

/// The text after `EXPLAIN PLAN FOR` (any case and whitespace), if `sql` starts with it.
pub(crate) fn explained(sql: &str) -> Option<&str> {
    let mut rest = sql.trim_start();
    for word in ["EXPLAIN", "PLAN", "FOR"] {
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        let tail = &rest[word.len()..];
        if !tail.starts_with(char::is_whitespace) {
            return None;
        }
        rest = tail.trim_start();
    }
    Some(rest)
}

/// The EXPLAIN row of a planned query over `tables`: one plan entry per native query (one
/// per `UNION ALL` branch).
pub(crate) fn explain(planned: &Planned, tables: &[String]) -> Answer {
    let plan: Vec<Value> = std::iter::once(planned)
        .chain(&planned.union_all)
        .map(plan_entry)
        .collect();
    let plan = Value::Array(plan);
    let resources: Vec<Value> = tables
        .iter()
        .map(|table| json!({"name": table, "type": "DATASOURCE"}))
        .collect();
    let resources = Value::Array(resources);
    let attributes = json!({"statementType": "SELECT"});
    let columns = ["PLAN", "RESOURCES", "ATTRIBUTES"]
        .into_iter()
        .map(|name| OutputColumn {
            name: name.to_owned(),
            sql_type: SqlType::Varchar,
            field: String::new(),
        })
        .collect();
    Answer {
        columns,
        rows: vec![vec![
            json!(plan.to_string()),
            json!(resources.to_string()),
            json!(attributes.to_string()),
        ]],
    }
}

/// One native query of a plan, with its signature and column mappings.
fn plan_entry(planned: &Planned) -> Value {
    let field = |column: &OutputColumn| {
        if column.field == ROW_TIMESTAMP {
            "__time".to_owned()
        } else {
            column.field.clone()
        }
    };
    let mut signature: Vec<Value> = Vec::new();
    for column in &planned.columns {
        let entry = json!({"name": field(column), "type": column.sql_type.native_name()});
        if !signature.contains(&entry) {
            signature.push(entry);
        }
    }
    let mappings: Vec<Value> = planned
        .columns
        .iter()
        .map(|column| json!({"queryColumn": field(column), "outputColumn": column.name}))
        .collect();
    json!({
        "query": planned.native,
        "signature": signature,
        "columnMappings": mappings,
    })
}
