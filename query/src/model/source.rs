//! `dataSource` (`docs/querying/datasource.md`): a table name or `{"type": "table"}`, a
//! `query`, an `inline` table, a registered `lookup`, or a `join` of any of those (left) with
//! an inline, lookup or query right side. A join chain is flattened left-deep into its base
//! input and the [`JoinClause`]s applied to it in order.

use std::sync::Arc;

use serde_json::Value;

use super::json::{mismatch, type_id, Fields};
use super::Query;
use crate::error::QueryError;
use crate::expr::parse_expression;
use crate::join::{JoinClause, JoinKind, Right, Table};
use crate::parse::Limits;

const DATA_SOURCE_CLASS: &str = "org.apache.druid.query.DataSource";

/// What a query reads before any join.
pub(super) enum Base {
    Table(String),
    Query(Box<Query>),
    /// An inline table or a lookup, read whole on the broker: its name (the lookup's, or
    /// `inline`) and its rows.
    Local(String, Arc<Table>),
}

/// A parsed data source: its base and the joins applied to it, in order.
pub(super) struct Source {
    pub(super) base: Base,
    pub(super) joins: Vec<JoinClause>,
}

/// Parses `value`, found at the JSON pointer `pointer` of the query.
pub(super) fn parse_source(
    value: Option<&Value>,
    limits: &Limits,
    pointer: &str,
) -> Result<Source, QueryError> {
    let base = |base| {
        Ok(Source {
            base,
            joins: Vec::new(),
        })
    };
    let object = match value {
        None => return Err(QueryError::invalid_query("dataSource can't be null")),
        Some(Value::String(name)) => return base(Base::Table(name.clone())),
        Some(object @ Value::Object(_)) => object,
        Some(other) => return Err(mismatch(DATA_SOURCE_CLASS, other)),
    };
    let fields = Fields::of(object, DATA_SOURCE_CLASS)?;
    match type_id(object, "type") {
        Some("table") => base(Base::Table(
            fields.required_string("name", "'name' must be nonnull")?,
        )),
        Some("query") => base(Base::Query(Box::new(inner_query(&fields, limits)?))),
        Some("inline") => base(Base::Local(
            "inline".to_owned(),
            Arc::new(Table::parse_inline(object)?),
        )),
        Some("lookup") => {
            let (name, table) = lookup_table(&fields, limits)?;
            base(Base::Local(name, table))
        }
        Some("join") => {
            let mut source = parse_source(fields.get("left"), limits, &format!("{pointer}/left"))?;
            let right_pointer = format!("{pointer}/right");
            let right = parse_right(fields.get("right"), limits)?;
            let prefix = fields.required_string("rightPrefix", "rightPrefix cannot be null")?;
            let condition = fields.required_string("condition", "condition cannot be null")?;
            let condition = parse_expression(&condition, limits)?;
            let kind =
                JoinKind::parse(&fields.required_string("joinType", "joinType cannot be null")?)?;
            source.joins.push(JoinClause::new(
                right,
                prefix,
                &condition,
                kind,
                right_pointer,
            )?);
            Ok(source)
        }
        Some(known @ ("union" | "unnest" | "filtered" | "frame" | "restrict")) => Err(
            QueryError::unsupported(format!("dataSource type [{known}] is not supported yet")),
        ),
        Some(unknown) => Err(QueryError::unknown_type(
            unknown,
            DATA_SOURCE_CLASS,
            &[
                "inline", "join", "lookup", "query", "table", "union", "unnest",
            ],
        )),
        None => Err(QueryError::missing_type("type", DATA_SOURCE_CLASS)),
    }
}

/// A join's right side: an inline table, a lookup, or a query run first by the broker.
fn parse_right(value: Option<&Value>, limits: &Limits) -> Result<Right, QueryError> {
    let Some(object @ Value::Object(_)) = value else {
        return match value {
            None => Err(QueryError::invalid_query("right cannot be null")),
            Some(Value::String(name)) => Err(table_on_right(name)),
            Some(other) => Err(mismatch(DATA_SOURCE_CLASS, other)),
        };
    };
    let fields = Fields::of(object, DATA_SOURCE_CLASS)?;
    match type_id(object, "type") {
        Some("inline") => Ok(Right::Table(Arc::new(Table::parse_inline(object)?))),
        Some("lookup") => Ok(Right::Table(lookup_table(&fields, limits)?.1)),
        Some("query") => Ok(Right::Query(Box::new(inner_query(&fields, limits)?))),
        Some("table") => Err(table_on_right(&fields.string("name")?.unwrap_or_default())),
        Some(other) => Err(QueryError::unsupported(format!(
            "a join's right side of type [{other}] is not supported: use an inline, lookup or \
             query data source"
        ))),
        None => Err(QueryError::missing_type("type", DATA_SOURCE_CLASS)),
    }
}

/// Druid joins only broadcast tables on the right; Henge has none, so a table must come
/// through a query (which is what Druid's SQL planner does too).
fn table_on_right(name: &str) -> QueryError {
    QueryError::unsupported(format!(
        "a join's right side cannot be the table [{name}]: wrap it in a query data source \
         (a scan of the columns needed), which the broker runs and broadcasts"
    ))
}

fn inner_query(fields: &Fields<'_>, limits: &Limits) -> Result<Query, QueryError> {
    match fields.get("query") {
        Some(inner @ Value::Object(_)) => Query::from_json(inner.clone(), limits),
        _ => Err(QueryError::invalid_query("'query' must be nonnull")),
    }
}

/// `{"type": "lookup", "lookup": name}`: the registered lookup as a table of `k`, `v`.
fn lookup_table(fields: &Fields<'_>, limits: &Limits) -> Result<(String, Arc<Table>), QueryError> {
    let name = fields.required_string("lookup", "lookup cannot be null")?;
    let map = limits.lookups.resolve(&name)?;
    Ok((name, Arc::new(Table::of_lookup(&map))))
}
