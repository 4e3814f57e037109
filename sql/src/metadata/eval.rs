//! Evaluation over the rows of an INFORMATION_SCHEMA table: WHERE conditions (comparisons,
//! IN, LIKE, IS NULL, AND/OR/NOT with SQL's nulls), ORDER BY and LIMIT/OFFSET.

use std::cmp::Ordering;

use serde_json::{json, Value};
use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, OrderByKind, Query, UnaryOperator, Value as SqlValue,
};

use crate::planner::limit_clause;
use crate::SqlError;

/// The value of `expr` in `row`: columns, literals, comparisons and boolean logic.
pub(super) fn eval(names: &[&str], row: &[Value], expr: &Expr) -> Result<Value, SqlError> {
    Ok(match expr {
        Expr::Identifier(ident) => column(names, row, &ident.value)?,
        Expr::CompoundIdentifier(parts) => match parts.last() {
            Some(ident) => column(names, row, &ident.value)?,
            None => Value::Null,
        },
        Expr::Nested(inner) => eval(names, row, inner)?,
        Expr::Value(value) => match &value.value {
            SqlValue::SingleQuotedString(text) => json!(text),
            SqlValue::Number(text, _) => text
                .parse::<i64>()
                .map(|number| json!(number))
                .or_else(|_| text.parse::<f64>().map(|number| json!(number)))
                .map_err(|_| SqlError::invalid(format!("Bad number {text}")))?,
            SqlValue::Boolean(flag) => json!(flag),
            SqlValue::Null => Value::Null,
            other => return Err(SqlError::unsupported(format!("the literal {other}"))),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match eval(names, row, expr)? {
            Value::Null => Value::Null,
            value => json!(!truthy(&value)),
        },
        Expr::IsNull(inner) => json!(eval(names, row, inner)?.is_null()),
        Expr::IsNotNull(inner) => json!(!eval(names, row, inner)?.is_null()),
        Expr::BinaryOp { left, op, right } => {
            let left = eval(names, row, left)?;
            let right = eval(names, row, right)?;
            match op {
                BinaryOperator::And => json!(truthy(&left) && truthy(&right)),
                BinaryOperator::Or => json!(truthy(&left) || truthy(&right)),
                _ => {
                    let Some(order) = compare(&left, &right) else {
                        return Ok(Value::Null);
                    };
                    json!(match op {
                        BinaryOperator::Eq => order == Ordering::Equal,
                        BinaryOperator::NotEq => order != Ordering::Equal,
                        BinaryOperator::Lt => order == Ordering::Less,
                        BinaryOperator::LtEq => order != Ordering::Greater,
                        BinaryOperator::Gt => order == Ordering::Greater,
                        BinaryOperator::GtEq => order != Ordering::Less,
                        other =>
                            return Err(SqlError::unsupported(format!("the operator {other}"))),
                    })
                }
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            global: false,
        } => {
            let value = eval(names, row, expr)?;
            if value.is_null() {
                return Ok(Value::Null);
            }
            let mut found = false;
            for item in list {
                found |= compare(&value, &eval(names, row, item)?) == Some(Ordering::Equal);
            }
            json!(found != *negated)
        }
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => match (eval(names, row, expr)?, eval(names, row, pattern)?) {
            (Value::String(text), Value::String(pattern)) => {
                json!(like(&text, &pattern) != *negated)
            }
            _ => Value::Null,
        },
        other => return Err(SqlError::unsupported(format!("the expression {other}"))),
    })
}

pub(super) fn column(names: &[&str], row: &[Value], name: &str) -> Result<Value, SqlError> {
    names
        .iter()
        .position(|candidate| *candidate == name)
        .map(|index| row[index].clone())
        .ok_or_else(|| SqlError::invalid(format!("Column '{name}' not found in any table")))
}

pub(super) fn truthy(value: &Value) -> bool {
    value.as_bool().unwrap_or(false)
}

/// SQL comparison: numbers numerically, strings by code point, NULL with anything unknown.
pub(super) fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64()?.partial_cmp(&right.as_f64()?),
        (Value::String(left), Value::String(right)) => Some(left.cmp(right)),
        (Value::Number(number), Value::String(text)) => {
            number.as_f64()?.partial_cmp(&text.parse().ok()?)
        }
        (Value::String(text), Value::Number(number)) => {
            text.parse::<f64>().ok()?.partial_cmp(&number.as_f64()?)
        }
        (Value::Bool(left), Value::Bool(right)) => Some(left.cmp(right)),
        _ => None,
    }
}

/// SQL LIKE: `%` any run, `_` any one character.
pub(super) fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // matches[j]: the text read so far matches pattern[..j].
    let mut matches = vec![false; pattern.len() + 1];
    matches[0] = true;
    for j in 0..pattern.len() {
        matches[j + 1] = matches[j] && pattern[j] == '%';
    }
    for character in text {
        let mut next = vec![false; pattern.len() + 1];
        for j in 0..pattern.len() {
            next[j + 1] = match pattern[j] {
                '%' => next[j] || matches[j + 1],
                '_' => matches[j],
                literal => matches[j] && literal == character,
            };
        }
        matches = next;
    }
    matches[pattern.len()]
}

/// ORDER BY columns (by name, output alias or ordinal of the SELECT list), NULLs first ascending as Calcite does.
pub(super) fn sort(
    names: &[&str],
    picked: &[(usize, String)],
    query: &Query,
    rows: &mut [Vec<Value>],
) -> Result<(), SqlError> {
    let Some(order_by) = &query.order_by else {
        return Ok(());
    };
    let OrderByKind::Expressions(items) = &order_by.kind else {
        return Err(SqlError::unsupported("ORDER BY ALL"));
    };
    let mut keys = Vec::new();
    for item in items {
        let descending = matches!(item.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
        keys.push((order_key(names, picked, &item.expr)?, descending));
    }
    // Evaluate once per row so that errors surface before sorting.
    let mut failure = None;
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = rows
        .iter()
        .map(|row| {
            let values = keys
                .iter()
                .map(|(key, _)| {
                    key.value(names, row).unwrap_or_else(|error| {
                        failure = Some(error);
                        Value::Null
                    })
                })
                .collect();
            (values, row.clone())
        })
        .collect();
    if let Some(error) = failure {
        return Err(error);
    }
    keyed.sort_by(|(left, _), (right, _)| {
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
    for (slot, (_, row)) in rows.iter_mut().zip(keyed) {
        *slot = row;
    }
    Ok(())
}

pub(super) fn limit_offset(query: &Query) -> Result<(Option<usize>, usize), SqlError> {
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

/// What an ORDER BY item sorts on.
enum Key<'q> {
    Column(usize),
    Expr(&'q Expr),
}

impl Key<'_> {
    fn value(&self, names: &[&str], row: &[Value]) -> Result<Value, SqlError> {
        match self {
            Key::Column(index) => Ok(row[*index].clone()),
            Key::Expr(expr) => eval(names, row, expr),
        }
    }
}

/// An ordinal names a SELECT item, an output alias its column, anything else is evaluated.
fn order_key<'q>(
    names: &[&str],
    picked: &[(usize, String)],
    expr: &'q Expr,
) -> Result<Key<'q>, SqlError> {
    match expr {
        Expr::Value(value) => {
            if let SqlValue::Number(text, _) = &value.value {
                return text
                    .parse::<usize>()
                    .ok()
                    .and_then(|ordinal| picked.get(ordinal.checked_sub(1)?))
                    .map(|(index, _)| Key::Column(*index))
                    .ok_or_else(|| SqlError::invalid(format!("Ordinal out of range: {text}")));
            }
        }
        Expr::Identifier(ident) if !names.iter().any(|name| *name == ident.value) => {
            if let Some((index, _)) = picked.iter().find(|(_, name)| *name == ident.value) {
                return Ok(Key::Column(*index));
            }
        }
        _ => {}
    }
    Ok(Key::Expr(expr))
}
