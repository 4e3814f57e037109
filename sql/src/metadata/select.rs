//! One SELECT over rows held in memory (a metadata table, or the single empty row of a
//! SELECT without FROM): WHERE, the SELECT list as expressions, aggregates (COUNT, SUM, MIN,
//! MAX, AVG, with DISTINCT) with GROUP BY and HAVING, SELECT DISTINCT, ORDER BY and
//! LIMIT/OFFSET, with the output columns' SQL types.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{json, Value};
use sqlparser::ast::{
    BinaryOperator, Distinct, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, InTarget, Query, Select, SelectItem, UnaryOperator,
    Value as SqlValue,
};

use super::eval::{column_index, compare, eval, is_aggregate, truthy, RowScope, Scope};
use crate::planner::{order_items, Answer, OutputColumn};
use crate::{SqlError, SqlType};

/// The rows a SELECT reads, with their column names and types.
pub(super) struct Source<'a> {
    pub names: Vec<&'a str>,
    pub types: Vec<SqlType>,
    pub rows: Vec<Vec<Value>>,
}

/// A group of rows: columns read the group's first row, aggregates run over all of them.
struct GroupScope<'a> {
    names: &'a [&'a str],
    rows: Vec<&'a [Value]>,
}

impl Scope for GroupScope<'_> {
    fn column(&self, name: &str) -> Result<Value, SqlError> {
        let index = column_index(self.names, name)?;
        Ok(self
            .rows
            .first()
            .map_or(Value::Null, |row| row[index].clone()))
    }

    fn aggregate(&self, function: &Function) -> Result<Value, SqlError> {
        let name = function.name.to_string().to_ascii_uppercase();
        let FunctionArguments::List(list) = &function.args else {
            return Err(SqlError::unsupported(format!("the call {function}")));
        };
        if function.filter.is_some() || function.over.is_some() || !list.clauses.is_empty() {
            return Err(SqlError::unsupported(format!("the call {function}")));
        }
        let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
        let arg = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "COUNT" && !distinct => {
                return Ok(json!(self.rows.len()))
            }
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))] => expr,
            _ => {
                return Err(SqlError::invalid(format!(
                    "Invalid number of arguments to function '{name}'"
                )))
            }
        };
        let mut values = Vec::new();
        for row in &self.rows {
            let value = eval(
                &RowScope {
                    names: self.names,
                    row,
                },
                arg,
            )?;
            if !value.is_null() {
                values.push(value);
            }
        }
        if distinct {
            let mut seen = std::collections::HashSet::new();
            values.retain(|value| seen.insert(value.to_string()));
        }
        let extreme = |wanted: Ordering| {
            values.iter().fold(Value::Null, |best, value| {
                if best.is_null() || compare(value, &best) == Some(wanted) {
                    value.clone()
                } else {
                    best
                }
            })
        };
        Ok(match name.as_str() {
            "COUNT" => json!(values.len()),
            "MIN" => extreme(Ordering::Less),
            "MAX" => extreme(Ordering::Greater),
            "SUM" => sum(&name, &values)?,
            _ => match sum(&name, &values)? {
                Value::Null => Value::Null,
                total => match total.as_i64() {
                    Some(total) => json!(total / values.len() as i64),
                    None => json!(total.as_f64().unwrap_or(0.0) / values.len() as f64),
                },
            },
        })
    }
}

/// The sum of numbers: BIGINT when all are integers, else DOUBLE; NULL over no values.
fn sum(name: &str, values: &[Value]) -> Result<Value, SqlError> {
    if values.is_empty() {
        return Ok(Value::Null);
    }
    let mut integer = Some(0i64);
    let mut double = 0.0;
    for value in values {
        let Value::Number(number) = value else {
            return Err(SqlError::invalid(format!(
                "Cannot apply '{name}' to arguments of type '{name}(<VARCHAR>)'"
            )));
        };
        integer = integer.and_then(|total| total.checked_add(number.as_i64()?));
        double += number.as_f64().unwrap_or(0.0);
    }
    Ok(integer.map_or_else(|| json!(double), |total| json!(total)))
}

/// What an ORDER BY item sorts on.
enum Key<'q> {
    Output(usize),
    Expr(&'q Expr),
}

/// Answers `select` over `source`.
pub(super) fn run(query: &Query, select: &Select, source: Source) -> Result<Answer, SqlError> {
    if matches!(select.distinct, Some(Distinct::On(_))) {
        return Err(SqlError::unsupported("DISTINCT ON"));
    }
    let Source { names, types, rows } = source;
    let mut kept = Vec::new();
    for row in rows {
        let keep = match &select.selection {
            None => true,
            Some(condition) => truthy(&eval(
                &RowScope {
                    names: &names,
                    row: &row,
                },
                condition,
            )?),
        };
        if keep {
            kept.push(row);
        }
    }
    let projection = projection(&names, select)?;
    let group = group_by(select, &projection)?;
    let keys = order_keys(query, &projection)?;
    let aggregating = !group.is_empty()
        || select.having.is_some()
        || projection.iter().any(|(expr, _)| has_aggregate(expr));
    let mut out: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    let emit = |scope: &dyn Scope, out: &mut Vec<(Vec<Value>, Vec<Value>)>| {
        let row = projection
            .iter()
            .map(|(expr, _)| eval(scope, expr))
            .collect::<Result<Vec<_>, _>>()?;
        let sort = keys
            .iter()
            .map(|(key, _)| match key {
                Key::Output(index) => Ok(row[*index].clone()),
                Key::Expr(expr) => eval(scope, expr),
            })
            .collect::<Result<Vec<_>, SqlError>>()?;
        out.push((sort, row));
        Ok::<(), SqlError>(())
    };
    if aggregating {
        let checked = projection
            .iter()
            .map(|(expr, _)| expr)
            .chain(select.having.as_ref())
            .chain(keys.iter().filter_map(|(key, _)| match key {
                Key::Expr(expr) => Some(*expr),
                Key::Output(_) => None,
            }));
        for expr in checked {
            check_grouped(expr, &group)?;
        }
        for members in groups(&names, &kept, &group)? {
            let scope = GroupScope {
                names: &names,
                rows: members
                    .iter()
                    .map(|index| kept[*index].as_slice())
                    .collect(),
            };
            if let Some(having) = &select.having {
                if !truthy(&eval(&scope, having)?) {
                    continue;
                }
            }
            emit(&scope, &mut out)?;
        }
    } else {
        for row in &kept {
            emit(&RowScope { names: &names, row }, &mut out)?;
        }
    }
    if select.distinct.is_some() {
        let mut seen = std::collections::HashSet::new();
        out.retain(|(_, row)| seen.insert(Value::Array(row.clone()).to_string()));
    }
    out.sort_by(|(left, _), (right, _)| {
        for ((left, right), (_, descending)) in left.iter().zip(right).zip(&keys) {
            let order = match (left.is_null(), right.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => compare(left, right).unwrap_or(Ordering::Equal),
            };
            let order = if *descending { order.reverse() } else { order };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    });
    let (limit, offset) = super::limit_offset(query)?;
    let columns = projection
        .iter()
        .map(|(expr, name)| OutputColumn {
            name: name.clone(),
            sql_type: type_of(expr, &names, &types),
            field: String::new(),
        })
        .collect();
    let rows = out
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|(_, row)| row)
        .collect();
    Ok(Answer { columns, rows })
}

/// The SELECT list as (expression, output name): `*` expands to the table's columns;
/// unnamed expressions are `EXPR$<position>`, as Calcite names them.
fn projection(names: &[&str], select: &Select) -> Result<Vec<(Expr, String)>, SqlError> {
    let mut items = Vec::new();
    for (index, item) in select.projection.iter().enumerate() {
        match item {
            SelectItem::Wildcard(options) if options.opt_exclude.is_none() => {
                items.extend(
                    names
                        .iter()
                        .map(|name| (Expr::Identifier((*name).into()), (*name).to_owned())),
                );
            }
            SelectItem::UnnamedExpr(expr) => {
                let name = match expr {
                    Expr::Identifier(ident) => ident.value.clone(),
                    Expr::CompoundIdentifier(parts) if !parts.is_empty() => {
                        parts[parts.len() - 1].value.clone()
                    }
                    _ => format!("EXPR${index}"),
                };
                items.push((expr.clone(), name));
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                items.push((expr.clone(), alias.value.clone()))
            }
            other => return Err(SqlError::unsupported(format!("SELECT item {other}"))),
        }
    }
    Ok(items)
}

/// GROUP BY expressions; an ordinal or an output alias names a SELECT item.
fn group_by(select: &Select, projection: &[(Expr, String)]) -> Result<Vec<Expr>, SqlError> {
    let GroupByExpr::Expressions(exprs, modifiers) = &select.group_by else {
        return Err(SqlError::unsupported("GROUP BY ALL"));
    };
    if !modifiers.is_empty() {
        return Err(SqlError::unsupported("grouping modifiers"));
    }
    exprs
        .iter()
        .map(|expr| match expr {
            Expr::Value(value) => match &value.value {
                SqlValue::Number(text, _) => {
                    ordinal(projection, text).map(|index| projection[index].0.clone())
                }
                _ => Ok(expr.clone()),
            },
            _ => Ok(expr.clone()),
        })
        .collect()
}

fn ordinal(projection: &[(Expr, String)], text: &str) -> Result<usize, SqlError> {
    text.parse::<usize>()
        .ok()
        .and_then(|ordinal| ordinal.checked_sub(1))
        .filter(|index| *index < projection.len())
        .ok_or_else(|| SqlError::invalid(format!("Ordinal out of range: {text}")))
}

/// The rows of each group (indices into `rows`), in order of first appearance; without
/// GROUP BY, one group of every row (even none).
fn groups(
    names: &[&str],
    rows: &[Vec<Value>],
    group: &[Expr],
) -> Result<Vec<Vec<usize>>, SqlError> {
    if group.is_empty() {
        return Ok(vec![(0..rows.len()).collect()]);
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (position, row) in rows.iter().enumerate() {
        let scope = RowScope { names, row };
        let key = group
            .iter()
            .map(|expr| eval(&scope, expr))
            .collect::<Result<Vec<_>, _>>()?;
        let slot = *index
            .entry(Value::Array(key).to_string())
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[slot].push(position);
    }
    Ok(groups)
}

/// ORDER BY items: an ordinal or an output name is that output column, anything else is
/// evaluated per row (or group).
fn order_keys<'q>(
    query: &'q Query,
    projection: &[(Expr, String)],
) -> Result<Vec<(Key<'q>, bool)>, SqlError> {
    order_items(query)?
        .into_iter()
        .map(|(expr, descending)| {
            let key = match expr {
                Expr::Value(value) => match &value.value {
                    SqlValue::Number(text, _) => Key::Output(ordinal(projection, text)?),
                    _ => Key::Expr(expr),
                },
                Expr::Identifier(ident) => {
                    match projection.iter().position(|(_, name)| *name == ident.value) {
                        Some(index) => Key::Output(index),
                        None => Key::Expr(expr),
                    }
                }
                _ => Key::Expr(expr),
            };
            Ok((key, descending))
        })
        .collect()
}

/// True when `expr` calls an aggregate function.
fn has_aggregate(expr: &Expr) -> bool {
    match expr {
        Expr::Function(function) => is_aggregate(function),
        _ => children(expr).into_iter().any(has_aggregate),
    }
}

/// Druid's error for a column read outside an aggregate that is not a GROUP BY key.
fn check_grouped(expr: &Expr, group: &[Expr]) -> Result<(), SqlError> {
    if group.contains(expr) {
        return Ok(());
    }
    match expr {
        Expr::Identifier(ident) => Err(SqlError::invalid(format!(
            "Expression '{}' is not being grouped",
            ident.value
        ))
        .at(ident.span.start)),
        Expr::CompoundIdentifier(_) => Err(SqlError::invalid(format!(
            "Expression '{expr}' is not being grouped"
        ))),
        Expr::Function(function) if is_aggregate(function) => Ok(()),
        _ => children(expr)
            .into_iter()
            .try_for_each(|child| check_grouped(child, group)),
    }
}

/// The direct subexpressions of the expressions the evaluator knows.
fn children(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::IsNull(inner)
        | Expr::IsNotNull(inner)
        | Expr::IsTrue(inner)
        | Expr::IsFalse(inner) => vec![inner],
        Expr::BinaryOp { left, right, .. } => vec![left, right],
        Expr::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        Expr::In {
            expr,
            target: InTarget::List(list),
            ..
        } => std::iter::once(expr.as_ref()).chain(list).collect(),
        Expr::Like { expr, pattern, .. } => vec![expr, pattern],
        _ => Vec::new(),
    }
}

/// The SQL type of an output expression, as Calcite derives it.
fn type_of(expr: &Expr, names: &[&str], types: &[SqlType]) -> SqlType {
    let column = |name: &str| {
        names
            .iter()
            .position(|candidate| *candidate == name)
            .map_or(SqlType::Varchar, |index| types[index].clone())
    };
    match expr {
        Expr::Identifier(ident) => column(&ident.value),
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .map_or(SqlType::Varchar, |ident| column(&ident.value)),
        Expr::Nested(inner) => type_of(inner, names, types),
        Expr::Value(value) => match &value.value {
            SqlValue::Number(text, _) if text.parse::<i64>().is_ok() => SqlType::Bigint,
            SqlValue::Number(..) => SqlType::Double,
            SqlValue::Boolean(_) => SqlType::Boolean,
            _ => SqlType::Varchar,
        },
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            let argument = match &function.args {
                FunctionArguments::List(list) => match list.args.as_slice() {
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] => {
                        Some(type_of(arg, names, types))
                    }
                    _ => None,
                },
                _ => None,
            };
            match (name.as_str(), argument) {
                ("COUNT", _) | (_, None) => SqlType::Bigint,
                (_, Some(argument)) => argument,
            }
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => type_of(expr, names, types),
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide => {
                match (type_of(left, names, types), type_of(right, names, types)) {
                    (SqlType::Bigint, SqlType::Bigint) => SqlType::Bigint,
                    _ => SqlType::Double,
                }
            }
            BinaryOperator::StringConcat => SqlType::Varchar,
            _ => SqlType::Boolean,
        },
        Expr::UnaryOp { .. }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::Between { .. }
        | Expr::In { .. }
        | Expr::Like { .. } => SqlType::Boolean,
        _ => SqlType::Varchar,
    }
}
