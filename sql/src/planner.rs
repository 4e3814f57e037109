//! [`plan`]: one SQL `SELECT` to one native query. Shapes, as Druid chooses them: aggregates
//! without GROUP BY become a timeseries over granularity `all`; GROUP BY a single time floor
//! becomes a timeseries with that granularity; one dimension ordered by an aggregate
//! descending with a LIMIT becomes a topN while `useApproximateTopN` is on; other GROUP BYs
//! become a groupBy; selects without aggregates become a scan (`grouped` plans the
//! aggregating ones).

mod grouped;
mod join;
mod source;
mod union;

pub(crate) use source::{Env, Source};

use serde_json::{json, Map, Value};
use sqlparser::ast::{
    Expr, GroupByExpr, LimitClause, OrderByKind, OrderBySort, Query, Select, SelectItem, SetExpr,
    Statement,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::aggregate::is_aggregate;
use crate::filter::plan_where;
use crate::params::Params;
use crate::scalar::{Lit, Scalar, Scope};
use crate::{explain, metadata};
use crate::{Catalog, SqlError, SqlType, SystemTables};

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
    /// Further `UNION ALL` branches: each runs after this one and its rows follow (the
    /// answer's columns are this query's).
    pub union_all: Vec<Planned>,
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
/// `INFORMATION_SCHEMA` or without FROM become rows, other SELECTs are [`plan`]ned into a
/// native query. The `sys` tables read as empty; [`prepare_with_system`] fills them.
pub fn prepare(
    sql: &str,
    parameters: &[Value],
    context: &Map<String, Value>,
    catalog: &dyn Catalog,
) -> Result<Prepared, SqlError> {
    prepare_with_system(sql, parameters, context, catalog, &SystemTables::default())
}

/// [`prepare`], with the rows of the `sys` tables the caller fetched from the cluster
/// (see [`system_table_read`]).
pub fn prepare_with_system(
    sql: &str,
    parameters: &[Value],
    context: &Map<String, Value>,
    catalog: &dyn Catalog,
    system: &SystemTables,
) -> Result<Prepared, SqlError> {
    if let Some(inner) = explain::explained(sql) {
        let planned = plan(inner, parameters, context, catalog)?;
        let tables: Vec<String> = referenced_tables(inner)
            .into_iter()
            .filter(|table| catalog.table(table).is_some())
            .collect();
        return Ok(Prepared::Rows(explain::explain(&planned, &tables)));
    }
    if let [Statement::Query(query)] = parse(sql)?.as_slice() {
        if let SetExpr::Select(select) = query.body.as_ref() {
            if metadata::reads_metadata(select) {
                let select = check_query(query)?;
                return metadata::answer(query, select, catalog, system).map(Prepared::Rows);
            }
        }
    }
    plan(sql, parameters, context, catalog).map(Prepared::Native)
}

/// True when `sql` reads an `INFORMATION_SCHEMA` table, so that the caller fills the catalog
/// with every table.
pub fn reads_information_schema(sql: &str) -> bool {
    match parse(sql).as_deref() {
        Ok([Statement::Query(query)]) => matches!(
            query.body.as_ref(),
            SetExpr::Select(select) if metadata::reads_schema(select, "INFORMATION_SCHEMA")
        ),
        _ => false,
    }
}

/// The `sys` table (`segments`, `servers`, ...) `sql` reads, so that the caller fetches
/// its rows from the cluster for [`prepare_with_system`].
pub fn system_table_read(sql: &str) -> Option<String> {
    match parse(sql).ok()?.as_slice() {
        [Statement::Query(query)] => match query.body.as_ref() {
            SetExpr::Select(select) => metadata::system_table(select),
            _ => None,
        },
        _ => None,
    }
}

fn parse(sql: &str) -> Result<Vec<Statement>, SqlError> {
    check_operator_count(sql)?;
    Parser::parse_sql(&GenericDialect {}, sql).map_err(|error| SqlError::parse(&error, sql))
}

/// The most operators (AND, OR, NOT, arithmetic, comparison, `||`) one statement may hold.
/// `sqlparser` reads a chain of them without recursing, but the tree it builds is as deep as
/// the chain, and walking or dropping it recurses: the cap keeps that within the stack of
/// the thread that plans (`IN` lists are not chains and do not count).
pub const MAX_OPERATORS: usize = 2_000;

/// Refuses a statement with more than [`MAX_OPERATORS`] operators, counted on its tokens
/// (the tokenizer does not recurse).
fn check_operator_count(sql: &str) -> Result<(), SqlError> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        // The parser reports the tokenizer's error with its place.
        return Ok(());
    };
    let operators = tokens
        .iter()
        .filter(|token| match token {
            Token::Word(word) => matches!(word.keyword, Keyword::AND | Keyword::OR | Keyword::NOT),
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq => true,
            _ => false,
        })
        .count();
    if operators > MAX_OPERATORS {
        return Err(SqlError::invalid(format!(
            "The statement has {operators} operators; Henge plans at most {MAX_OPERATORS} in \
             one statement (use IN for long lists of values)"
        )));
    }
    Ok(())
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
        native.insert("dataSource".into(), scope.source.data_source.clone());
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
    plan_query(&Env::new(&params, context, catalog)?, query)
}

/// Plans one query: a SELECT (with its WITH queries in scope), a parenthesized query, or a
/// top-level `UNION ALL` of them; every native query it makes is checked by the native parser.
pub(crate) fn plan_query(env: &Env, query: &Query) -> Result<Planned, SqlError> {
    let env = env.with_ctes(query)?;
    check_clauses(query)?;
    match query.body.as_ref() {
        SetExpr::Select(select) => plan_select(&env, query, check_select(select)?),
        SetExpr::SetOperation { .. } => union::plan_union(&env, query),
        SetExpr::Query(inner) if query.order_by.is_none() && query.limit_clause.is_none() => {
            plan_query(&env, inner)
        }
        _ => Err(SqlError::unsupported("this kind of nested query")),
    }
}

/// Plans a SELECT; `query` holds its ORDER BY, LIMIT and OFFSET.
fn plan_select(env: &Env, query: &Query, select: &Select) -> Result<Planned, SqlError> {
    let mut scope = Scope::new(source::resolve(env, select)?, env.params, env.zone, env.now);
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
        context: env.context.clone(),
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
    let mut planned = if aggregating {
        grouped::plan_grouped(scope, parts, group_by)?
    } else {
        plan_scan(scope, parts)?
    };
    join::prune_right_scans(&mut planned.native);
    validate(&planned.native, &env.catalog.lookup_names())?;
    Ok(planned)
}

/// Checks a plan with the native query parser (patterns, periods, zones and expressions
/// compile), so that a bad argument is a SQL planning error as in Druid. Size limits are the
/// server's business when the query runs; only nesting depth stays bounded here. The
/// registered lookups are known by name only (their contents are the data nodes' business).
fn validate(native: &Value, lookup_names: &[String]) -> Result<(), SqlError> {
    let lookups = henge_query::Lookups::from_maps(
        lookup_names
            .iter()
            .map(|name| (name.clone(), henge_query::LookupMap::default()))
            .collect(),
    );
    let limits = henge_query::Limits {
        max_body_bytes: usize::MAX,
        max_in_values: usize::MAX,
        max_aggregators: usize::MAX,
        max_pattern_length: usize::MAX,
        max_group_rows: usize::MAX,
        max_expression_length: usize::MAX,
        lookups,
        ..henge_query::Limits::default()
    };
    let bytes = serde_json::to_vec(native)
        .map_err(|error| SqlError::invalid(format!("planned query does not serialize: {error}")))?;
    henge_query::parse_query(&bytes, &limits)
        .map(|_| ())
        .map_err(|error| SqlError::invalid(error.error_message))
}

/// The tables a single-statement query reads (in subqueries, WITH queries and UNION ALL
/// branches too), so that a caller can fetch their schemas before planning; empty when the
/// text does not parse into one statement.
pub fn referenced_tables(sql: &str) -> Vec<String> {
    let sql = explain::explained(sql).unwrap_or(sql);
    let mut tables = Vec::new();
    if let Ok([Statement::Query(query)]) = parse(sql).as_deref() {
        source::referenced_tables(query, &mut tables);
    }
    tables
}

/// The SELECT of a query, rejecting the clauses Henge does not plan yet (for
/// INFORMATION_SCHEMA, which takes no WITH or set operations).
pub(crate) fn check_query(query: &Query) -> Result<&Select, SqlError> {
    if query.with.is_some() {
        return Err(SqlError::unsupported("WITH"));
    }
    check_clauses(query)?;
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(SqlError::unsupported("set operations and nested queries"));
    };
    check_select(select)
}

fn check_clauses(query: &Query) -> Result<(), SqlError> {
    if query.fetch.is_some() || !query.locks.is_empty() || query.for_clause.is_some() {
        return Err(SqlError::unsupported("FETCH, FOR and locking clauses"));
    }
    Ok(())
}

fn check_select(select: &Select) -> Result<&Select, SqlError> {
    if select.top.is_some() || select.into.is_some() || !select.lateral_views.is_empty() {
        return Err(SqlError::unsupported("TOP, INTO and LATERAL VIEW"));
    }
    if select.qualify.is_some() || !select.named_window.is_empty() {
        return Err(SqlError::unsupported("window functions"));
    }
    Ok(select)
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
                for column in &scope.source.columns {
                    items.push(Projected {
                        expr: Expr::CompoundIdentifier(vec![
                            column.qualifier.as_str().into(),
                            column.name.as_str().into(),
                        ]),
                        name: column.name.clone(),
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
    Ok(order_items(query)?
        .into_iter()
        .map(|(expr, descending)| (expr.clone(), descending))
        .collect())
}

/// The ORDER BY items of `query` with their direction (true: descending), refusing what
/// Henge does not order by (ORDER BY ALL, NULLS FIRST/LAST, WITH FILL, USING).
pub(crate) fn order_items(query: &Query) -> Result<Vec<(&Expr, bool)>, SqlError> {
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
            Ok((&item.expr, descending))
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
        union_all: Vec::new(),
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

/// `CURRENT_TIMESTAMP`: the context's `sqlCurrentTimestamp` (as Druid reads it), else the
/// moment of planning.
pub(crate) fn current_timestamp(context: &Map<String, Value>) -> Result<i64, SqlError> {
    match context.get("sqlCurrentTimestamp") {
        None | Some(Value::Null) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64)),
        Some(Value::String(text)) => henge_segment::time::parse_timestamp(text)
            .ok_or_else(|| SqlError::invalid(format!("Invalid sqlCurrentTimestamp [{text}]"))),
        Some(Value::Number(number)) => number
            .as_i64()
            .ok_or_else(|| SqlError::invalid(format!("Invalid sqlCurrentTimestamp [{number}]"))),
        Some(other) => Err(SqlError::invalid(format!(
            "Invalid sqlCurrentTimestamp [{other}]"
        ))),
    }
}

/// Reads a boolean SQL context flag (a JSON boolean or a "true"/"false" string).
pub(crate) fn context_flag(context: &Map<String, Value>, key: &str, default: bool) -> bool {
    match context.get(key) {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => default,
    }
}
