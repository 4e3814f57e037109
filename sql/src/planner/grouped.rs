//! Aggregating selects: GROUP BY keys become dimensions `d0`, `d1`, ...; aggregate calls
//! (in SELECT, HAVING or ORDER BY) become aggregators `a0`, `a1`, ...; arithmetic over
//! them becomes expression post-aggregators `p0`, `p1`, ...; then the shape is chosen
//! (timeseries, topN or groupBy) and ORDER BY/LIMIT/OFFSET/HAVING placed on it.

use serde_json::{json, Map, Value};
use sqlparser::ast::{BinaryOperator, Expr};

use super::{context_flag, OutputColumn, Parts, Planned, Shape, ROW_TIMESTAMP};
use crate::aggregate::{
    is_aggregate, is_post_function, nest_exact_distinct, plan_aggregate, plan_post_function,
    ExactDistinct, PostOperands,
};
use crate::filter::{filter, Operand, Resolve};
use crate::scalar::{native_double, Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

/// A GROUP BY key.
struct Key {
    expr: Expr,
    scalar: Scalar,
    column: String,
    sql_type: SqlType,
}

/// Keys and aggregates planned so far; resolves HAVING and ORDER BY operands.
struct Grouping<'p, 's> {
    scope: Scope<'s>,
    keys: Vec<Key>,
    aggregates: Vec<(Expr, String, SqlType)>,
    aggregators: Vec<Value>,
    post_aggregators: Vec<Value>,
    /// Arithmetic over aggregates planned so far, as post-aggregators `p0`, `p1`, ...
    posts: Vec<(Expr, String, SqlType)>,
    approximate_count_distinct: bool,
    /// The exact COUNT(DISTINCT) aggregates, which nest the query.
    exact_distinct: Vec<ExactDistinct>,
    projection: &'p [super::Projected],
}

impl Grouping<'_, '_> {
    /// The output field and type of a grouped expression: a key, an aggregate (planned on
    /// first use), a SELECT alias or ordinal.
    fn field(&mut self, expr: &Expr) -> Result<(String, SqlType), SqlError> {
        self.field_or_alias(expr, true)
    }

    /// `field`, following a SELECT alias or ordinal only when `follow_alias` (once: the
    /// aliased expression is not itself looked up as an alias, so `SELECT "user", * ...
    /// ORDER BY 1` cannot bounce between `"user"` and the `*` column `user` forever).
    fn field_or_alias(
        &mut self,
        expr: &Expr,
        follow_alias: bool,
    ) -> Result<(String, SqlType), SqlError> {
        let expr = unnest(expr);
        if let Some(index) = self.keys.iter().position(|key| unnest(&key.expr) == expr) {
            return Ok((format!("d{index}"), self.keys[index].sql_type.clone()));
        }
        if is_aggregate(expr) {
            if let Some((_, name, kind)) = self.aggregates.iter().find(|(seen, _, _)| seen == expr)
            {
                return Ok((name.clone(), kind.clone()));
            }
            let Expr::Function(function) = expr else {
                return Err(SqlError::unsupported(format!("{expr}")));
            };
            let name = format!("a{}", self.aggregates.len());
            let planned = plan_aggregate(
                &mut self.scope,
                function,
                &name,
                self.approximate_count_distinct,
            )?;
            self.aggregators.extend(planned.aggregators);
            self.post_aggregators.extend(planned.post_aggregator);
            if let Some((column, sql_type)) = planned.exact_distinct {
                self.exact_distinct.push(ExactDistinct {
                    aggregator: name.clone(),
                    column,
                    sql_type,
                });
            }
            self.aggregates
                .push((expr.clone(), name.clone(), planned.sql_type.clone()));
            return Ok((name, planned.sql_type));
        }
        if contains_aggregate(expr) {
            if let Some((_, name, kind)) = self.posts.iter().find(|(seen, _, _)| seen == expr) {
                return Ok((name.clone(), kind.clone()));
            }
            let (name, kind) = match is_post_function(expr) {
                Some(function) => {
                    let name = format!("p{}", self.posts.len());
                    let (post, kind) = plan_post_function(function, &name, self)?;
                    self.post_aggregators.push(post);
                    (name, kind)
                }
                None => self.post_aggregate(expr)?,
            };
            self.posts.push((expr.clone(), name.clone(), kind.clone()));
            return Ok((name, kind));
        }
        let aliased = match expr {
            _ if !follow_alias => None,
            Expr::Identifier(ident) => self
                .projection
                .iter()
                .find(|item| item.name == ident.value && unnest(&item.expr) != expr),
            Expr::Value(value) => match &value.value {
                sqlparser::ast::Value::Number(text, _) => text
                    .parse::<usize>()
                    .ok()
                    .and_then(|ordinal| self.projection.get(ordinal.checked_sub(1)?)),
                _ => None,
            },
            _ => None,
        };
        match aliased {
            Some(item) => {
                let target = item.expr.clone();
                self.field_or_alias(&target, false)
            }
            None => Err(SqlError::invalid(format!(
                "Expression '{expr}' is not being grouped"
            ))),
        }
    }
}

impl Grouping<'_, '_> {
    /// Arithmetic over aggregates and keys (`SUM(a) / COUNT(*)`): an `expression`
    /// post-aggregator `p0`, `p1`, ... over their output names, as Druid plans it.
    fn post_aggregate(&mut self, expr: &Expr) -> Result<(String, SqlType), SqlError> {
        let (expression, sql_type) = self.post_expression(expr)?;
        let name = format!("p{}", self.posts.len());
        self.post_aggregators
            .push(json!({"type": "expression", "name": name, "expression": expression}));
        Ok((name, sql_type))
    }

    fn post_expression(&mut self, expr: &Expr) -> Result<(String, SqlType), SqlError> {
        match expr {
            Expr::Nested(inner) => self.post_expression(inner),
            Expr::BinaryOp { left, op, right } => {
                let symbol = match op {
                    BinaryOperator::Plus => "+",
                    BinaryOperator::Minus => "-",
                    BinaryOperator::Multiply => "*",
                    BinaryOperator::Divide => "/",
                    BinaryOperator::Modulo => "%",
                    other => {
                        return Err(SqlError::unsupported(format!(
                            "operator {other} over aggregates"
                        )))
                    }
                };
                let (left, left_type) = self.post_expression(left)?;
                let (right, right_type) = self.post_expression(right)?;
                let sql_type = match (&left_type, &right_type) {
                    (SqlType::Bigint, SqlType::Bigint) => SqlType::Bigint,
                    (a, b) if a.is_numeric() && b.is_numeric() => SqlType::Double,
                    _ => {
                        return Err(SqlError::invalid(format!(
                            "Cannot apply '{symbol}' to {} and {}",
                            left_type.sql_name(),
                            right_type.sql_name()
                        )))
                    }
                };
                Ok((format!("({left} {symbol} {right})"), sql_type))
            }
            _ => match self.scope.scalar(expr) {
                Ok(Scalar::Literal(Lit::Long(value))) => Ok((value.to_string(), SqlType::Bigint)),
                Ok(Scalar::Literal(Lit::Double(value))) => {
                    Ok((native_double(value), SqlType::Double))
                }
                _ => {
                    let (name, sql_type) = self.field(expr)?;
                    Ok((format!("\"{name}\""), sql_type))
                }
            },
        }
    }
}

/// True if `expr` has an aggregate call inside arithmetic, or is a sketch post-aggregation
/// function.
pub(super) fn contains_aggregate(expr: &Expr) -> bool {
    if is_post_function(expr).is_some() {
        return true;
    }
    match expr {
        Expr::Nested(inner) => contains_aggregate(inner),
        Expr::BinaryOp { left, right, .. } => {
            is_aggregate(left)
                || is_aggregate(right)
                || contains_aggregate(left)
                || contains_aggregate(right)
        }
        _ => false,
    }
}

impl<'s> PostOperands for Grouping<'_, 's> {
    fn aggregate(&mut self, expr: &Expr) -> Result<(String, SqlType), SqlError> {
        self.field(expr)
    }

    fn scope(&self) -> &Scope<'_> {
        &self.scope
    }
}

impl Resolve for Grouping<'_, '_> {
    fn scope(&self) -> &Scope<'_> {
        &self.scope
    }

    /// A comparison between two grouped values (`SUM(added) > SUM(deleted)`): an
    /// `expression` filter over the output names.
    fn expression_filter(&mut self, expr: &Expr) -> Result<Value, SqlError> {
        let symbol = match unnest(expr) {
            Expr::BinaryOp { op, .. } => match op {
                BinaryOperator::Eq => "==",
                BinaryOperator::NotEq => "!=",
                BinaryOperator::Lt => "<",
                BinaryOperator::LtEq => "<=",
                BinaryOperator::Gt => ">",
                BinaryOperator::GtEq => ">=",
                _ => "",
            },
            _ => "",
        };
        let Expr::BinaryOp { left, right, .. } = unnest(expr) else {
            return Err(SqlError::unsupported(format!("HAVING condition {expr}")));
        };
        if symbol.is_empty() {
            return Err(SqlError::unsupported(format!("HAVING condition {expr}")));
        }
        let (left, _) = self.post_expression(left)?;
        let (right, _) = self.post_expression(right)?;
        Ok(json!({"type": "expression", "expression": format!("({left} {symbol} {right})")}))
    }

    fn operand(&mut self, expr: &Expr) -> Result<Operand, SqlError> {
        if let Ok(Scalar::Literal(lit)) = self.scope.scalar(expr) {
            return Ok(Operand::Literal(lit));
        }
        let (name, kind) = self.field(expr)?;
        Ok(Operand::Column(name, kind))
    }
}

fn unnest(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => unnest(inner),
        other => other,
    }
}

/// Plans an aggregating select.
pub(super) fn plan_grouped(
    scope: Scope,
    parts: Parts,
    group_by: Vec<Expr>,
) -> Result<Planned, SqlError> {
    let approximate_count_distinct =
        context_flag(&parts.context, "useApproximateCountDistinct", true);
    let mut grouping = Grouping {
        scope,
        keys: Vec::new(),
        aggregates: Vec::new(),
        aggregators: Vec::new(),
        post_aggregators: Vec::new(),
        posts: Vec::new(),
        approximate_count_distinct,
        exact_distinct: Vec::new(),
        projection: &parts.projection,
    };
    let key_exprs: Vec<Expr> = if parts.select.distinct.is_some() {
        if !group_by.is_empty() {
            return Err(SqlError::unsupported("SELECT DISTINCT with GROUP BY"));
        }
        parts
            .projection
            .iter()
            .map(|item| item.expr.clone())
            .collect()
    } else {
        group_by
            .iter()
            .map(|expr| resolve_key(&parts, expr))
            .collect::<Result<_, _>>()?
    };
    for expr in key_exprs {
        if is_aggregate(&expr) {
            return Err(SqlError::invalid(format!("Aggregate '{expr}' in GROUP BY")));
        }
        let scalar = grouping.scope.scalar(&expr)?;
        if matches!(scalar, Scalar::Literal(_)) {
            return Err(SqlError::unsupported("GROUP BY a constant"));
        }
        let (column, sql_type) = grouping.scope.column_for(&scalar)?;
        grouping.keys.push(Key {
            expr,
            scalar,
            column,
            sql_type,
        });
    }
    let mut columns = Vec::new();
    for item in &parts.projection {
        let (field, sql_type) = grouping.field(&item.expr)?;
        columns.push(OutputColumn {
            name: item.name.clone(),
            sql_type,
            field,
        });
    }
    let having = match &parts.select.having {
        Some(condition) => Some(filter(&mut grouping, condition)?),
        None => None,
    };
    let mut ordering = Vec::new();
    for (expr, descending) in &parts.order_by {
        let (field, sql_type) = grouping.field(expr)?;
        ordering.push((field, sql_type, *descending));
    }
    let shape = choose_shape(&grouping, &parts, &ordering, having.is_some());
    let mut native = parts.base(
        match shape {
            Shape::Timeseries => "timeseries",
            Shape::TopN => "topN",
            _ => "groupBy",
        },
        &grouping.scope,
    );
    let mut context = parts.context.clone();
    match shape {
        Shape::Timeseries => {
            let granularity = match grouping.keys.first() {
                Some(Key {
                    scalar: Scalar::TimeFloor(floor),
                    ..
                }) => {
                    context.insert("skipEmptyBuckets".into(), json!(true));
                    for column in &mut columns {
                        if column.field == "d0" {
                            column.field = ROW_TIMESTAMP.into();
                        }
                    }
                    floor.granularity()
                }
                _ => json!("all"),
            };
            native.insert("granularity".into(), granularity);
            if let Some((_, _, true)) = ordering.first() {
                native.insert("descending".into(), json!(true));
            }
            if !grouping.keys.is_empty() {
                if let Some(limit) = parts.limit {
                    native.insert("limit".into(), json!(limit));
                }
            }
        }
        Shape::TopN => {
            let key = &grouping.keys[0];
            native.insert("granularity".into(), json!("all"));
            native.insert(
                "dimension".into(),
                json!({"type": "default", "dimension": key.column, "outputName": "d0", "outputType": key.sql_type.value_type()}),
            );
            native.insert(
                "metric".into(),
                json!({"type": "numeric", "metric": ordering[0].0}),
            );
            native.insert("threshold".into(), json!(parts.limit.unwrap_or(0)));
        }
        _ => {
            native.insert("granularity".into(), json!("all"));
            let dimensions: Vec<Value> = grouping
                .keys
                .iter()
                .enumerate()
                .map(|(index, key)| json!({"type": "default", "dimension": key.column, "outputName": format!("d{index}"), "outputType": key.sql_type.value_type()}))
                .collect();
            native.insert("dimensions".into(), json!(dimensions));
            if let Some(having) = having {
                native.insert("having".into(), json!({"type": "filter", "filter": having}));
            }
            if !ordering.is_empty() || parts.limit.is_some() || parts.offset.is_some() {
                native.insert("limitSpec".into(), limit_spec(&ordering, &parts));
            }
        }
    }
    native.insert("aggregations".into(), json!(grouping.aggregators));
    native.insert("postAggregations".into(), json!(grouping.post_aggregators));
    native.insert("context".into(), Value::Object(context));
    let (native, renames) = nest_exact_distinct(Value::Object(native), &grouping.exact_distinct)?;
    for column in &mut columns {
        if let Some((_, outer)) = renames.iter().find(|(old, _)| *old == column.field) {
            column.field = outer.clone();
        }
    }
    Ok(Planned {
        native,
        columns,
        shape,
        union_all: Vec::new(),
    })
}

/// A GROUP BY item: an ordinal or a SELECT alias stands for that SELECT expression.
fn resolve_key(parts: &Parts, expr: &Expr) -> Result<Expr, SqlError> {
    match expr {
        Expr::Value(value) => match &value.value {
            sqlparser::ast::Value::Number(text, _) => text
                .parse::<usize>()
                .ok()
                .and_then(|ordinal| parts.projection.get(ordinal.checked_sub(1)?))
                .map(|item| item.expr.clone())
                .ok_or_else(|| SqlError::invalid(format!("Ordinal out of range: {text}"))),
            _ => Ok(expr.clone()),
        },
        Expr::Identifier(ident)
            if !parts.select.projection.is_empty()
                && parts.projection.iter().any(|item| item.name == ident.value) =>
        {
            let item = parts
                .projection
                .iter()
                .find(|item| item.name == ident.value)
                .map(|item| item.expr.clone());
            Ok(item.unwrap_or_else(|| expr.clone()))
        }
        _ => Ok(expr.clone()),
    }
}

/// Druid's choice among timeseries, topN and groupBy.
fn choose_shape(
    grouping: &Grouping,
    parts: &Parts,
    ordering: &[(String, SqlType, bool)],
    has_having: bool,
) -> Shape {
    let keys = &grouping.keys;
    if keys.is_empty() && !has_having {
        return Shape::Timeseries;
    }
    let simple = !has_having && parts.offset.unwrap_or(0) == 0;
    if let [Key {
        scalar: Scalar::TimeFloor(_),
        ..
    }] = keys.as_slice()
    {
        let by_time_only = ordering.iter().all(|(field, _, _)| field == "d0");
        if simple && by_time_only {
            return Shape::Timeseries;
        }
    }
    let approximate_top_n = context_flag(&parts.context, "useApproximateTopN", true);
    if let ([key], [(field, _, true)], Some(_)) = (keys.as_slice(), ordering, parts.limit) {
        let is_aggregate = grouping.aggregates.iter().any(|(_, name, _)| name == field);
        if approximate_top_n
            && grouping.exact_distinct.is_empty()
            && simple
            && is_aggregate
            && !matches!(key.scalar, Scalar::TimeFloor(_))
        {
            return Shape::TopN;
        }
    }
    Shape::GroupBy
}

/// groupBy's `limitSpec`: ORDER BY columns with numeric or lexicographic order, LIMIT, OFFSET.
fn limit_spec(ordering: &[(String, SqlType, bool)], parts: &Parts) -> Value {
    let columns: Vec<Value> = ordering
        .iter()
        .map(|(field, sql_type, descending)| {
            json!({
                "dimension": field,
                "direction": if *descending { "descending" } else { "ascending" },
                "dimensionOrder": if sql_type.is_numeric() || *sql_type == SqlType::Timestamp { "numeric" } else { "lexicographic" },
            })
        })
        .collect();
    let mut spec = Map::new();
    spec.insert("type".into(), json!("default"));
    spec.insert("columns".into(), json!(columns));
    if let Some(limit) = parts.limit {
        spec.insert("limit".into(), json!(limit));
    }
    if let Some(offset) = parts.offset.filter(|offset| *offset > 0) {
        spec.insert("offset".into(), json!(offset));
    }
    Value::Object(spec)
}
