//! SELECTs Henge answers in memory, without a native query: over the `INFORMATION_SCHEMA`
//! tables (from the [`Catalog`]), over Druid's `sys` tables (from the [`SystemTables`] rows
//! the caller fetched from the cluster), and without FROM (`SELECT 1`, one row). `tables`
//! holds the tables with Druid's columns and types, `select` runs the query (WHERE,
//! expressions, aggregates with GROUP BY and HAVING, DISTINCT, ORDER BY, LIMIT/OFFSET) and
//! `eval` evaluates expressions.

use sqlparser::ast::{Expr, ObjectNamePart, Query, Select, TableFactor, Value as SqlValue};

use crate::planner::{limit_clause, Answer};
use crate::{Catalog, SqlError};
use tables::{INFORMATION_SCHEMA, SYS};

pub use tables::SystemTables;

mod eval;
mod select;
mod tables;

/// The `[schema, table]` identifiers of the one table in FROM, and the place of the table
/// name in the SQL text.
fn from_parts(select: &Select) -> Option<(Vec<&str>, sqlparser::tokenizer::Location)> {
    let [from] = select.from.as_slice() else {
        return None;
    };
    let TableFactor::Table { name, .. } = &from.relation else {
        return None;
    };
    let mut location = None;
    let parts = name
        .0
        .iter()
        .filter_map(|part| match part {
            ObjectNamePart::Identifier(ident) => {
                location = Some(ident.span.start);
                Some(ident.value.as_str())
            }
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    Some((parts, location?))
}

/// True when `select` is answered in memory: it reads an `INFORMATION_SCHEMA` or `sys`
/// table, or has no FROM.
pub(crate) fn reads_metadata(select: &Select) -> bool {
    select.from.is_empty() || reads_schema(select, INFORMATION_SCHEMA) || reads_schema(select, SYS)
}

/// True when the table `select` reads is in `schema`.
pub(crate) fn reads_schema(select: &Select, schema: &str) -> bool {
    from_parts(select).is_some_and(|(parts, _)| parts.len() > 1 && parts[0] == schema)
}

/// The `sys` table `select` reads, if it reads one.
pub(crate) fn system_table(select: &Select) -> Option<String> {
    match from_parts(select)?.0.as_slice() {
        [SYS, table] => Some((*table).to_owned()),
        _ => None,
    }
}

/// Answers a SELECT over a metadata table, or without FROM.
pub(crate) fn answer(
    query: &Query,
    select: &Select,
    catalog: &dyn Catalog,
    system: &SystemTables,
) -> Result<Answer, SqlError> {
    if select.from.is_empty() {
        let source = select::Source {
            names: Vec::new(),
            types: Vec::new(),
            rows: vec![Vec::new()],
        };
        return select::run(query, select, source);
    }
    if select.from.len() > 1 || !select.from[0].joins.is_empty() {
        return Err(SqlError::unsupported("JOIN"));
    }
    let (parts, location) = from_parts(select)
        .ok_or_else(|| SqlError::unsupported(format!("FROM {}", select.from[0].relation)))?;
    let table = match parts.as_slice() {
        [schema, name] => tables::find(schema, name).ok_or_else(|| {
            SqlError::invalid(format!("Object '{name}' not found within '{schema}'")).at(location)
        })?,
        _ => {
            return Err(SqlError::invalid(format!(
                "Object '{}' not found",
                select.from[0].relation
            ))
            .at(location))
        }
    };
    let source = select::Source {
        names: table.columns.iter().map(|(name, _, _)| *name).collect(),
        types: table
            .columns
            .iter()
            .map(|(_, kind, _)| kind.sql_type())
            .collect(),
        rows: tables::rows(table, catalog, system),
    };
    select::run(query, select, source)
}

/// LIMIT and OFFSET as row counts.
fn limit_offset(query: &Query) -> Result<(Option<usize>, usize), SqlError> {
    let (limit, offset) = limit_clause(query, |expr| {
        match expr {
            Expr::Value(value) => match &value.value {
                SqlValue::Number(text, _) => text.parse::<u64>().ok(),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| {
            SqlError::invalid(format!(
                "LIMIT and OFFSET need a non-negative integer, not {expr}"
            ))
        })
    })?;
    let size = |count: u64| usize::try_from(count).unwrap_or(usize::MAX);
    Ok((limit.map(size), offset.map_or(0, size)))
}
