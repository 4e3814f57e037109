//! [`plan`]: one SQL `SELECT` to one native query. Shapes, as Druid chooses them: aggregates
//! without GROUP BY become a timeseries over granularity `all`; GROUP BY a single time floor
//! becomes a timeseries with that granularity; one dimension ordered by an aggregate
//! descending with a LIMIT becomes a topN while `useApproximateTopN` is on; other GROUP BYs
//! become a groupBy; selects without aggregates become a scan (`grouped` plans the
//! aggregating ones).

mod grouped;

use serde_json::{json, Map, Value};
use sqlparser::ast::{
    Expr, GroupByExpr, LimitClause, ObjectNamePart, OrderByKind, OrderBySort, Query, Select,
    SelectItem, SetExpr, Statement, TableFactor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::aggregate::is_aggregate;
use crate::filter::plan_where;
use crate::params::Params;
use crate::scalar::{Lit, Scalar, Scope};
use crate::{explain, metadata};
use crate::{Catalog, SqlError, SqlType};

/// A column of the SQL answer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputColumn {
    pub name: String,
    pub sql_type: SqlType,
    /// Where the value sits in a native result row.
    pub(crate) field: String,
}

/// The native query shape, which decides how result rows are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Timeseries,
    TopN,
    GroupBy,
    Scan,
}

/// A planned SQL query.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The native query, for the native query path.
    pub native: Value,
    /// The answer's columns, in order.
    pub columns: Vec<OutputColumn>,
    pub(crate) shape: Shape,
}

/// An answer computed without a native query (INFORMATION_SCHEMA, EXPLAIN).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub columns: Vec<OutputColumn>,
    pub rows: Vec<Vec<Value>>,
}

/// What a SQL statement needs: a native query to run, or rows already answered.
#[derive(Debug, Clone)]
pub enum Prepared {
    Native(Planned),
    Rows(Answer),
}

/// Prepares any statement Henge answers: `EXPLAIN PLAN FOR <select>` and SELECTs over
/// `INFORMATION_SCHEMA` become rows, other SELECTs are [`plan`]ned into a native query.
pub fn prepare(
    sql: &str,
    parameters: &[Value],
    context: &Map<String, Value>,
    catalog: &dyn Catalog,
) -> Result<Prepared, SqlError> {
    if let Some(inner) = explain::explained(sql) {
        let planned = plan(inner, parameters, context, catalog)?;
        let table = referenced_table(inner).unwrap_or_default();
        return Ok(Prepared::Rows(explain::explain(&planned, &table)));
    }
    if let [Statement::Query(query)] = parse(sql)?.as_slice() {
        if let SetExpr::Select(select) = query.body.as_ref() {
            if metadata::reads_metadata(select) {
                let select = check_query(query)?;
                return metadata::answer(query, select, catalog).map(Prepared::Rows);
            }
        }
    }
    plan(sql, parameters, context, catalog).map(Prepared::Native)
}

/// True when `sql` reads an `INFORMATION_SCHEMA` table, so that the caller fills the catalog
/// with every table.
pub fn reads_information_schema(sql: &str) -> bool {
    match parse(sql).as_deref() {
        Ok([Statement::Query(query)]) => {
            matches!(query.body.as_ref(), SetExpr::Select(select) if metadata::reads_metadata(select))
        }
        _ => false,
    }
}

fn parse(sql: &str) -> Result<Vec<Statement>, SqlError> {
    Parser::parse_sql(&GenericDialect {}, sql).map_err(|error| SqlError::parse(&error))
}

/// The field of a timeseries row's own timestamp (a time-floored GROUP BY key).
pub(crate) const ROW_TIMESTAMP: &str = "\u{0}timestamp";

/// One item of the SELECT list.
pub(crate) struct Projected {
    pub expr: Expr,
    pub name: String,
}

/// What a query asks for, taken apart from the syntax tree.
pub(crate) struct Parts<'s> {
    pub select: &'s Select,
    pub projection: Vec<Projected>,
    pub order_by: Vec<(Expr, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub intervals: Vec<String>,
    pub filter: Option<Value>,
    pub context: Map<String, Value>,
}

impl Parts<'_> {
    /// The native query fields every shape shares.
    pub fn base(&self, query_type: &str, scope: &Scope) -> Map<String, Value> {
        let mut native = Map::new();
        native.insert("queryType".into(), json!(query_type));
        native.insert(
            "dataSource".into(),
            json!({"type": "table", "name": scope.table}),
        );
        native.insert(
            "intervals".into(),
            json!({"type": "intervals", "intervals": self.intervals}),
        );
        native.insert("virtualColumns".into(), scope.virtual_columns_json());
        if let Some(filter) = &self.filter {
            native.insert("filter".into(), filter.clone());
        }
        native
    }
}

/// Plans `sql` against `catalog`, with `?` bound to `parameters` and the SQL `context`
/// (passed on to the native query; `useApproximateTopN` and `useApproximateCountDistinct`
/// steer planning).
pub fn plan(
    sql: &str,
    parameters: &[Value],
    context: &Map<String, Value>,
    catalog: &dyn Catalog,
) -> Result<Planned, SqlError> {
    let statements = parse(sql)?;
    let query = match statements.as_slice() {
        [Statement::Query(query)] => query,
        [_] => return Err(SqlError::unsupported("statements other than SELECT")),
        _ => return Err(SqlError::invalid("Expected exactly one SQL statement")),
    };
    let params = Params::new(sql, parameters)?;
    let select = check_query(query)?;
    let table = table_name(select)?;
    let columns = catalog
        .table(&table)
        .ok_or_else(|| SqlError::invalid(format!("Object '{table}' not found")))?;
    let mut scope = Scope::new(table, columns, &params);
    let planned_where = plan_where(&mut scope, select.selection.as_ref())?;
    let (limit, offset) = limit_offset(&scope, query)?;
    let parts = Parts {
        select,
        projection: projection(&scope, select)?,
        order_by: order_by(query)?,
        limit,
        offset,
        intervals: planned_where.intervals,
        filter: planned_where.filter,
        context: context.clone(),
    };
    let group_by = match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs.clone(),
        _ => return Err(SqlError::unsupported("GROUP BY ALL and grouping modifiers")),
    };
    let aggregating = !group_by.is_empty()
        || select.distinct.is_some()
        || select.having.is_some()
        || parts
            .projection
            .iter()
            .any(|item| is_aggregate(&item.expr) || grouped::contains_aggregate(&item.expr));
    let planned = if aggregating {
        grouped::plan_grouped(scope, parts, group_by)?
    } else {
        plan_scan(scope, parts)?
    };
    refuse_what_native_refuses(&planned)?;
    Ok(planned)
}

/// Refuses, as a SQL error, a plan the native query parser would refuse under its default
/// limits (an expression nested deeper than it accepts, from a long operator chain that
/// `sqlparser` reads without recursing).
fn refuse_what_native_refuses(planned: &Planned) -> Result<(), SqlError> {
    let bytes = serde_json::to_vec(&planned.native)
        .map_err(|error| SqlError::invalid(format!("planned query does not serialize: {error}")))?;
    henge_query::parse_query(&bytes, &henge_query::Limits::default())
        .map(|_| ())
        .map_err(|error| SqlError::unsupported(error.error_message))
}

/// The table a single-statement SELECT reads, so that a caller can fetch that table's schema
/// before planning; `None` when the text does not parse into one.
pub fn referenced_table(sql: &str) -> Option<String> {
    let sql = explain::explained(sql).unwrap_or(sql);
    match parse(sql).ok()?.as_slice() {
        [Statement::Query(query)] => table_name(check_query(query).ok()?).ok(),
        _ => None,
    }
}

/// The SELECT of a query, rejecting the clauses Henge does not plan yet.
pub(crate) fn check_query(query: &Query) -> Result<&Select, SqlError> {
    if query.with.is_some() {
        return Err(SqlError::unsupported("WITH"));
    }
    if query.fetch.is_some() || !query.locks.is_empty() || query.for_clause.is_some() {
        return Err(SqlError::unsupported("FETCH, FOR and locking clauses"));
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(SqlError::unsupported("set operations and nested queries"));
    };
    if select.top.is_some() || select.into.is_some() || !select.lateral_views.is_empty() {
        return Err(SqlError::unsupported("TOP, INTO and LATERAL VIEW"));
    }
    if select.qualify.is_some() || !select.named_window.is_empty() {
        return Err(SqlError::unsupported("window functions"));
    }
    Ok(select)
}

/// The one table a query reads (`t` or `druid.t`).
fn table_name(select: &Select) -> Result<String, SqlError> {
    let [from] = select.from.as_slice() else {
        return Err(SqlError::unsupported(
            "a query without exactly one table in FROM",
        ));
    };
    if !from.joins.is_empty() {
        return Err(SqlError::unsupported("JOIN"));
    }
    let TableFactor::Table {
        name, args: None, ..
    } = &from.relation
    else {
        return Err(SqlError::unsupported(format!("FROM {}", from.relation)));
    };
    let parts: Vec<&str> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Ok(ident.value.as_str()),
            ObjectNamePart::Function(_) => Err(SqlError::unsupported(format!("FROM {name}"))),
        })
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [table] | ["druid", table] => Ok((*table).to_owned()),
        _ => Err(SqlError::invalid(format!("Object '{name}' not found"))),
    }
}

/// The SELECT list with output names: the alias, a column's own name, or `EXPR$n`.
fn projection(scope: &Scope, select: &Select) -> Result<Vec<Projected>, SqlError> {
    let mut items = Vec::new();
    for (index, item) in select.projection.iter().enumerate() {
        match item {
            SelectItem::UnnamedExpr(expr) => {
                let name = match expr {
                    Expr::Identifier(ident) => ident.value.clone(),
                    Expr::CompoundIdentifier(parts) => parts
                        .last()
                        .map(|ident| ident.value.clone())
                        .unwrap_or_default(),
                    _ => format!("EXPR${index}"),
                };
                items.push(Projected {
                    expr: expr.clone(),
                    name,
                });
            }
            SelectItem::ExprWithAlias { expr, alias } => items.push(Projected {
                expr: expr.clone(),
                name: alias.value.clone(),
            }),
            SelectItem::Wildcard(options) if options.opt_exclude.is_none() => {
                for (column, _) in &scope.columns {
                    items.push(Projected {
                        expr: Expr::Identifier(column.as_str().into()),
                        name: column.clone(),
                    });
                }
            }
            other => return Err(SqlError::unsupported(format!("SELECT item {other}"))),
        }
    }
    Ok(items)
}

/// ORDER BY items with their direction (true: descending).
fn order_by(query: &Query) -> Result<Vec<(Expr, bool)>, SqlError> {
    let Some(order_by) = &query.order_by else {
        return Ok(Vec::new());
    };
    let OrderByKind::Expressions(items) = &order_by.kind else {
        return Err(SqlError::unsupported("ORDER BY ALL"));
    };
    items
        .iter()
        .map(|item| {
            if item.with_fill.is_some() || item.options.nulls_first.is_some() {
                return Err(SqlError::unsupported("NULLS FIRST/LAST and WITH FILL"));
            }
            let descending = match &item.options.sort {
                None | Some(OrderBySort::Asc) => false,
                Some(OrderBySort::Desc) => true,
                Some(_) => return Err(SqlError::unsupported("ORDER BY USING")),
            };
            Ok((item.expr.clone(), descending))
        })
        .collect()
}

fn limit_offset(scope: &Scope, query: &Query) -> Result<(Option<u64>, Option<u64>), SqlError> {
    limit_clause(query, |expr| match scope.scalar(expr)? {
        Scalar::Literal(Lit::Long(value)) if value >= 0 => Ok(value as u64),
        _ => Err(SqlError::invalid(format!(
            "LIMIT and OFFSET need a non-negative integer, not {expr}"
        ))),
    })
}

/// A query's `LIMIT` and `OFFSET` (either form), each read by `count`.
pub(crate) fn limit_clause(
    query: &Query,
    count: impl Fn(&Expr) -> Result<u64, SqlError>,
) -> Result<(Option<u64>, Option<u64>), SqlError> {
    match &query.limit_clause {
        None => Ok((None, None)),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) if limit_by.is_empty() => Ok((
            limit.as_ref().map(&count).transpose()?,
            offset
                .as_ref()
                .map(|offset| count(&offset.value))
                .transpose()?,
        )),
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            Ok((Some(count(limit)?), Some(count(offset)?)))
        }
        Some(other) => Err(SqlError::unsupported(format!("{other}"))),
    }
}

/// A select without aggregation: a scan, ordered only by `__time`.
fn plan_scan(mut scope: Scope, parts: Parts) -> Result<Planned, SqlError> {
    let mut columns = Vec::new();
    let mut scan_columns: Vec<String> = Vec::new();
    for item in &parts.projection {
        let scalar = scope.scalar(&item.expr)?;
        let (field, sql_type) = scope.column_for(&scalar)?;
        if !scan_columns.contains(&field) {
            scan_columns.push(field.clone());
        }
        columns.push(OutputColumn {
            name: item.name.clone(),
            sql_type,
            field,
        });
    }
    let order = match parts.order_by.as_slice() {
        [] => None,
        [(expr, descending)] if is_time_column(&scope, &parts, expr) => Some(if *descending {
            "descending"
        } else {
            "ascending"
        }),
        _ => {
            return Err(SqlError::unsupported(
                "ORDER BY other than __time without GROUP BY",
            ))
        }
    };
    let mut native = parts.base("scan", &scope);
    native.insert("resultFormat".into(), json!("compactedList"));
    if let Some(limit) = parts.limit {
        native.insert("limit".into(), json!(limit));
    }
    if let Some(offset) = parts.offset.filter(|offset| *offset > 0) {
        native.insert("offset".into(), json!(offset));
    }
    if let Some(order) = order {
        // Ordering reads __time, so the scan returns it as Druid's planner has it do.
        if !scan_columns.iter().any(|column| column == "__time") {
            scan_columns.push("__time".into());
        }
        native.insert("order".into(), json!(order));
    }
    native.insert("columns".into(), json!(scan_columns));
    native.insert("context".into(), Value::Object(parts.context));
    Ok(Planned {
        native: Value::Object(native),
        columns,
        shape: Shape::Scan,
    })
}

/// True if `expr` is `__time` itself (by name, alias or ordinal).
fn is_time_column(scope: &Scope, parts: &Parts, expr: &Expr) -> bool {
    let target = match expr {
        Expr::Value(value) => match &value.value {
            sqlparser::ast::Value::Number(text, _) => text
                .parse::<usize>()
                .ok()
                .and_then(|ordinal| parts.projection.get(ordinal.checked_sub(1)?))
                .map(|item| &item.expr),
            _ => None,
        },
        Expr::Identifier(ident) => parts
            .projection
            .iter()
            .find(|item| item.name == ident.value)
            .map(|item| &item.expr),
        _ => None,
    }
    .unwrap_or(expr);
    matches!(scope.scalar(target), Ok(Scalar::Column(name, _)) if name == "__time")
}

/// Reads a boolean SQL context flag (a JSON boolean or a "true"/"false" string).
pub(crate) fn context_flag(context: &Map<String, Value>, key: &str, default: bool) -> bool {
    match context.get(key) {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => default,
    }
}
