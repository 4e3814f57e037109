//! `INFORMATION_SCHEMA.SCHEMATA`, `TABLES` and `COLUMNS`, answered from the [`Catalog`]
//! without a native query, with Druid's columns and values (`InformationSchema.java`):
//! schemas `druid` (the datasources, `TABLE`), `INFORMATION_SCHEMA` (`SYSTEM_TABLE`) and
//! `lookup` (the registered lookups, tables with columns `k` and `v`, joinable and
//! broadcast), column types as Calcite describes them. `SELECT` lists of columns or `*`, WHERE with
//! comparisons, IN, LIKE, IS NULL, AND/OR/NOT, ORDER BY and LIMIT/OFFSET are evaluated over
//! the rows (`eval`).

use serde_json::{json, Value};
use sqlparser::ast::{Expr, ObjectNamePart, Query, Select, SelectItem, TableFactor};

use crate::planner::{Answer, OutputColumn};
use crate::{Catalog, SqlError, SqlType};
use eval::{eval, limit_offset, sort, truthy};

mod eval;

/// The schema name of the metadata tables.
const SCHEMA: &str = "INFORMATION_SCHEMA";
/// The schema of the registered lookups.
const LOOKUP_SCHEMA: &str = "lookup";

/// One metadata table: its columns with SQL types.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
}

const SCHEMATA: Table = Table {
    name: "SCHEMATA",
    columns: &[
        ("CATALOG_NAME", Kind::Text),
        ("SCHEMA_NAME", Kind::Text),
        ("SCHEMA_OWNER", Kind::Text),
        ("DEFAULT_CHARACTER_SET_CATALOG", Kind::Text),
        ("DEFAULT_CHARACTER_SET_SCHEMA", Kind::Text),
        ("DEFAULT_CHARACTER_SET_NAME", Kind::Text),
        ("SQL_PATH", Kind::Text),
    ],
};

const TABLES: Table = Table {
    name: "TABLES",
    columns: &[
        ("TABLE_CATALOG", Kind::Text),
        ("TABLE_SCHEMA", Kind::Text),
        ("TABLE_NAME", Kind::Text),
        ("TABLE_TYPE", Kind::Text),
        ("IS_JOINABLE", Kind::Text),
        ("IS_BROADCAST", Kind::Text),
    ],
};

const COLUMNS: Table = Table {
    name: "COLUMNS",
    columns: &[
        ("TABLE_CATALOG", Kind::Text),
        ("TABLE_SCHEMA", Kind::Text),
        ("TABLE_NAME", Kind::Text),
        ("COLUMN_NAME", Kind::Text),
        ("ORDINAL_POSITION", Kind::Number),
        ("COLUMN_DEFAULT", Kind::Text),
        ("IS_NULLABLE", Kind::Text),
        ("DATA_TYPE", Kind::Text),
        ("CHARACTER_MAXIMUM_LENGTH", Kind::Number),
        ("CHARACTER_OCTET_LENGTH", Kind::Number),
        ("NUMERIC_PRECISION", Kind::Number),
        ("NUMERIC_PRECISION_RADIX", Kind::Number),
        ("NUMERIC_SCALE", Kind::Number),
        ("DATETIME_PRECISION", Kind::Number),
        ("CHARACTER_SET_NAME", Kind::Text),
        ("COLLATION_NAME", Kind::Text),
        ("JDBC_TYPE", Kind::Number),
    ],
};

const ALL: [&Table; 3] = [&SCHEMATA, &TABLES, &COLUMNS];

/// The metadata table `select` reads (`INFORMATION_SCHEMA.X`; identifiers are case-sensitive, as in Druid), if it reads one.
fn metadata_table(select: &Select) -> Option<&'static Table> {
    let [from] = select.from.as_slice() else {
        return None;
    };
    let TableFactor::Table { name, .. } = &from.relation else {
        return None;
    };
    let parts: Vec<&str> = name
        .0
        .iter()
        .filter_map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(ident.value.as_str()),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    let [schema, table] = parts.as_slice() else {
        return None;
    };
    if *schema != SCHEMA {
        return None;
    }
    ALL.into_iter().find(|candidate| candidate.name == *table)
}

/// True when `select` reads an `INFORMATION_SCHEMA` table.
pub(crate) fn reads_metadata(select: &Select) -> bool {
    let [from] = select.from.as_slice() else {
        return false;
    };
    match &from.relation {
        TableFactor::Table { name, .. } => name.0.first().is_some_and(
            |part| matches!(part, ObjectNamePart::Identifier(ident) if ident.value == SCHEMA),
        ),
        _ => false,
    }
}

/// Answers a SELECT over an `INFORMATION_SCHEMA` table.
pub(crate) fn answer(
    query: &Query,
    select: &Select,
    catalog: &dyn Catalog,
) -> Result<Answer, SqlError> {
    let table = metadata_table(select).ok_or_else(|| {
        SqlError::invalid(format!(
            "Object '{}' not found",
            select
                .from
                .first()
                .map(|from| from.relation.to_string())
                .unwrap_or_default()
        ))
    })?;
    if !select.from[0].joins.is_empty() {
        return Err(SqlError::unsupported("JOIN"));
    }
    if select.distinct.is_some()
        || select.having.is_some()
        || !matches!(&select.group_by, sqlparser::ast::GroupByExpr::Expressions(exprs, _) if exprs.is_empty())
    {
        return Err(SqlError::unsupported(
            "aggregation over INFORMATION_SCHEMA tables",
        ));
    }
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let mut rows = Vec::new();
    for row in table_rows(table, catalog) {
        let keep = match &select.selection {
            None => true,
            Some(condition) => truthy(&eval(&names, &row, condition)?),
        };
        if keep {
            rows.push(row);
        }
    }
    let picked = pick(&names, select)?;
    sort(&names, &picked, query, &mut rows)?;
    let (limit, offset) = limit_offset(query)?;
    let rows: Vec<Vec<Value>> = rows
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    Ok(project(table, &picked, rows))
}

/// The rows of `table`, in Druid's order: schemas, then tables, then their columns.
fn table_rows(table: &Table, catalog: &dyn Catalog) -> Vec<Vec<Value>> {
    let datasources = catalog.table_names();
    match table.name {
        "SCHEMATA" => ["druid", SCHEMA, LOOKUP_SCHEMA]
            .iter()
            .map(|schema| {
                let mut row = vec![json!("druid"), json!(schema)];
                row.resize(SCHEMATA.columns.len(), Value::Null);
                row
            })
            .collect(),
        "TABLES" => {
            let mut rows: Vec<Vec<Value>> = datasources
                .iter()
                .map(|name| {
                    vec![
                        json!("druid"),
                        json!("druid"),
                        json!(name),
                        json!("TABLE"),
                        json!("NO"),
                        json!("NO"),
                    ]
                })
                .collect();
            rows.extend(ALL.iter().map(|system| {
                vec![
                    json!("druid"),
                    json!(SCHEMA),
                    json!(system.name),
                    json!("SYSTEM_TABLE"),
                    json!("NO"),
                    json!("NO"),
                ]
            }));
            rows.extend(catalog.lookup_names().iter().map(|name| {
                vec![
                    json!("druid"),
                    json!(LOOKUP_SCHEMA),
                    json!(name),
                    json!("TABLE"),
                    json!("YES"),
                    json!("YES"),
                ]
            }));
            rows
        }
        _ => {
            let mut rows = Vec::new();
            for name in &datasources {
                for (index, (column, kind)) in
                    catalog.table(name).unwrap_or_default().iter().enumerate()
                {
                    rows.push(column_row("druid", name, index, column, kind));
                }
            }
            for system in ALL {
                for (index, (column, kind)) in system.columns.iter().enumerate() {
                    let kind = match kind {
                        Kind::Text => SqlType::Varchar,
                        Kind::Number => SqlType::Bigint,
                    };
                    rows.push(column_row(SCHEMA, system.name, index, column, &kind));
                }
            }
            for name in catalog.lookup_names() {
                for (index, column) in ["k", "v"].iter().enumerate() {
                    rows.push(column_row(
                        LOOKUP_SCHEMA,
                        &name,
                        index,
                        column,
                        &SqlType::Varchar,
                    ));
                }
            }
            rows
        }
    }
}

/// One row of `COLUMNS`, with Calcite's precision, charset and JDBC type of `kind`.
fn column_row(schema: &str, table: &str, index: usize, column: &str, kind: &SqlType) -> Vec<Value> {
    // (nullable, precision, scale, datetime precision, character type, JDBC type)
    let (nullable, precision, datetime, character, jdbc) = match kind {
        SqlType::Timestamp => (false, None, Some(3), false, 93),
        SqlType::Varchar => (true, None, None, true, 12),
        SqlType::Bigint => (true, Some(19), None, false, -5),
        SqlType::Float => (true, Some(7), None, false, 6),
        SqlType::Double => (true, Some(15), None, false, 8),
        SqlType::Boolean => (true, None, None, false, 16),
        SqlType::Complex(_) => (true, None, None, false, 1111),
    };
    vec![
        json!("druid"),
        json!(schema),
        json!(table),
        json!(column),
        json!(index + 1),
        json!(""),
        json!(if nullable { "YES" } else { "NO" }),
        json!(kind.sql_name()),
        Value::Null,
        Value::Null,
        precision.map_or(Value::Null, |precision: u32| json!(precision)),
        precision.map_or(Value::Null, |_| json!(10)),
        precision.map_or(Value::Null, |_| json!(0)),
        datetime.map_or(Value::Null, |datetime: u32| json!(datetime)),
        if character {
            json!("UTF-16LE")
        } else {
            Value::Null
        },
        if character {
            json!("UTF-16LE$en_US$primary")
        } else {
            Value::Null
        },
        json!(jdbc),
    ]
}

/// The SELECT list as (table column index, output name): `*`, or columns with aliases.
fn pick(names: &[&str], select: &Select) -> Result<Vec<(usize, String)>, SqlError> {
    let mut picked: Vec<(usize, String)> = Vec::new();
    for item in &select.projection {
        let (expr, alias) = match item {
            SelectItem::Wildcard(_) => {
                picked.extend(
                    names
                        .iter()
                        .enumerate()
                        .map(|(index, name)| (index, (*name).to_owned())),
                );
                continue;
            }
            SelectItem::UnnamedExpr(expr) => (expr, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
            other => return Err(SqlError::unsupported(format!("SELECT item {other}"))),
        };
        let name = match expr {
            Expr::Identifier(ident) => &ident.value,
            Expr::CompoundIdentifier(parts) if !parts.is_empty() => &parts[parts.len() - 1].value,
            other => {
                return Err(SqlError::unsupported(format!(
                    "the expression {other} over INFORMATION_SCHEMA"
                )))
            }
        };
        let index = names
            .iter()
            .position(|candidate| *candidate == name)
            .ok_or_else(|| SqlError::invalid(format!("Column '{name}' not found in any table")))?;
        picked.push((index, alias.unwrap_or_else(|| names[index].to_owned())));
    }
    Ok(picked)
}

/// The picked columns of the filtered, sorted rows.
fn project(table: &Table, picked: &[(usize, String)], rows: Vec<Vec<Value>>) -> Answer {
    let columns = picked
        .iter()
        .map(|(index, name)| OutputColumn {
            name: name.clone(),
            sql_type: match table.columns[*index].1 {
                Kind::Text => SqlType::Varchar,
                Kind::Number => SqlType::Bigint,
            },
            field: String::new(),
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|row| {
            picked
                .iter()
                .map(|(index, _)| row[*index].clone())
                .collect()
        })
        .collect();
    Answer { columns, rows }
}
