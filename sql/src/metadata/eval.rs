//! Expression evaluation over in-memory metadata rows: columns, literals, arithmetic,
//! comparisons, IN, LIKE, BETWEEN, IS NULL and AND/OR/NOT with SQL's three-valued logic.
//! Columns and aggregate calls are resolved by a [`Scope`]: one row, or a group of rows.

use std::cmp::Ordering;

use serde_json::{json, Value};
use sqlparser::ast::{BinaryOperator, Expr, Function, InTarget, UnaryOperator, Value as SqlValue};

use crate::SqlError;

/// Where an expression's columns and aggregate calls get their values.
pub(super) trait Scope {
    fn column(&self, name: &str) -> Result<Value, SqlError>;
    fn aggregate(&self, function: &Function) -> Result<Value, SqlError>;
}

/// One row of a table: aggregate calls are not allowed here.
pub(super) struct RowScope<'a> {
    pub names: &'a [&'a str],
    pub row: &'a [Value],
}

impl Scope for RowScope<'_> {
    fn column(&self, name: &str) -> Result<Value, SqlError> {
        column_index(self.names, name).map(|index| self.row[index].clone())
    }

    fn aggregate(&self, function: &Function) -> Result<Value, SqlError> {
        Err(SqlError::invalid(format!(
            "Aggregate expressions cannot be nested or used here: {function}"
        )))
    }
}

/// The position of column `name`, or Druid's error for an unknown column.
pub(super) fn column_index(names: &[&str], name: &str) -> Result<usize, SqlError> {
    names
        .iter()
        .position(|candidate| *candidate == name)
        .ok_or_else(|| SqlError::invalid(format!("Column '{name}' not found in any table")))
}

/// The aggregate functions the in-memory evaluator computes.
pub(super) const AGGREGATES: [&str; 5] = ["COUNT", "SUM", "MIN", "MAX", "AVG"];

/// True when `function` is an aggregate call.
pub(super) fn is_aggregate(function: &Function) -> bool {
    let name = function.name.to_string().to_ascii_uppercase();
    AGGREGATES.contains(&name.as_str())
}

/// The value of a literal.
pub(super) fn literal(value: &SqlValue) -> Result<Value, SqlError> {
    Ok(match value {
        SqlValue::SingleQuotedString(text) => json!(text),
        SqlValue::Number(text, _) => text
            .parse::<i64>()
            .map(|number| json!(number))
            .or_else(|_| text.parse::<f64>().map(|number| json!(number)))
            .map_err(|_| SqlError::invalid(format!("Bad number {text}")))?,
        SqlValue::Boolean(flag) => json!(flag),
        SqlValue::Null => Value::Null,
        other => return Err(SqlError::unsupported(format!("the literal {other}"))),
    })
}

/// The value of `expr` in `scope`.
pub(super) fn eval(scope: &dyn Scope, expr: &Expr) -> Result<Value, SqlError> {
    Ok(match expr {
        Expr::Identifier(ident) => scope
            .column(&ident.value)
            .map_err(|error| error.at(ident.span.start))?,
        Expr::CompoundIdentifier(parts) => match parts.last() {
            Some(ident) => scope
                .column(&ident.value)
                .map_err(|error| error.at(ident.span.start))?,
            None => Value::Null,
        },
        Expr::Nested(inner) => eval(scope, inner)?,
        Expr::Value(value) => literal(&value.value)?,
        Expr::Function(function) if is_aggregate(function) => scope.aggregate(function)?,
        Expr::UnaryOp { op, expr } => {
            let value = eval(scope, expr)?;
            match (op, value) {
                (_, Value::Null) => Value::Null,
                (UnaryOperator::Not, value) => json!(!truthy(&value)),
                (UnaryOperator::Minus, Value::Number(number)) => match number.as_i64() {
                    Some(integer) => json!(integer.checked_neg().unwrap_or(i64::MAX)),
                    None => json!(-number.as_f64().unwrap_or(0.0)),
                },
                (UnaryOperator::Plus, value @ Value::Number(_)) => value,
                (op, _) => return Err(SqlError::unsupported(format!("the operator {op}"))),
            }
        }
        Expr::IsNull(inner) => json!(eval(scope, inner)?.is_null()),
        Expr::IsNotNull(inner) => json!(!eval(scope, inner)?.is_null()),
        Expr::IsTrue(inner) => json!(eval(scope, inner)? == json!(true)),
        Expr::IsFalse(inner) => json!(eval(scope, inner)? == json!(false)),
        Expr::BinaryOp { left, op, right } => binary(op, eval(scope, left)?, eval(scope, right)?)?,
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let value = eval(scope, expr)?;
            let above = binary(&BinaryOperator::GtEq, value.clone(), eval(scope, low)?)?;
            let below = binary(&BinaryOperator::LtEq, value, eval(scope, high)?)?;
            let inside = binary(&BinaryOperator::And, above, below)?;
            if *negated {
                eval_not(inside)
            } else {
                inside
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            global: false,
        } => {
            let value = eval(scope, expr)?;
            if value.is_null() {
                return Ok(Value::Null);
            }
            let mut found = false;
            for item in list {
                found |= compare(&value, &eval(scope, item)?) == Some(Ordering::Equal);
            }
            json!(found != *negated)
        }
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => match (eval(scope, expr)?, eval(scope, pattern)?) {
            (Value::String(text), Value::String(pattern)) => {
                json!(like(&text, &pattern) != *negated)
            }
            _ => Value::Null,
        },
        other => return Err(SqlError::unsupported(format!("the expression {other}"))),
    })
}

fn eval_not(value: Value) -> Value {
    match value {
        Value::Null => Value::Null,
        value => json!(!truthy(&value)),
    }
}

/// A binary operator over two values, NULL-propagating except where SQL's logic decides.
fn binary(op: &BinaryOperator, left: Value, right: Value) -> Result<Value, SqlError> {
    Ok(match op {
        BinaryOperator::And => match (bool_of(&left), bool_of(&right)) {
            (Some(false), _) | (_, Some(false)) => json!(false),
            (Some(true), Some(true)) => json!(true),
            _ => Value::Null,
        },
        BinaryOperator::Or => match (bool_of(&left), bool_of(&right)) {
            (Some(true), _) | (_, Some(true)) => json!(true),
            (Some(false), Some(false)) => json!(false),
            _ => Value::Null,
        },
        BinaryOperator::StringConcat => match (&left, &right) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            _ => json!(format!("{}{}", text_of(&left), text_of(&right))),
        },
        BinaryOperator::Plus
        | BinaryOperator::Minus
        | BinaryOperator::Multiply
        | BinaryOperator::Divide => arithmetic(op, &left, &right)?,
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
                other => return Err(SqlError::unsupported(format!("the operator {other}"))),
            })
        }
    })
}

/// `+ - * /`: integer arithmetic when both sides are integers (division truncates, as in
/// Druid), else double arithmetic; NULL when either side is NULL.
fn arithmetic(op: &BinaryOperator, left: &Value, right: &Value) -> Result<Value, SqlError> {
    let (Value::Number(left), Value::Number(right)) = (left, right) else {
        if left.is_null() || right.is_null() {
            return Ok(Value::Null);
        }
        return Err(SqlError::invalid(format!(
            "Cannot apply '{op}' to arguments {left} and {right}"
        )));
    };
    if let (Some(left), Some(right)) = (left.as_i64(), right.as_i64()) {
        let result = match op {
            BinaryOperator::Plus => left.checked_add(right),
            BinaryOperator::Minus => left.checked_sub(right),
            BinaryOperator::Multiply => left.checked_mul(right),
            _ if right == 0 => return Err(SqlError::invalid("Division by zero")),
            _ => left.checked_div(right),
        };
        return result
            .map(|value| json!(value))
            .ok_or_else(|| SqlError::invalid("BIGINT overflow"));
    }
    let (left, right) = (left.as_f64().unwrap_or(0.0), right.as_f64().unwrap_or(0.0));
    Ok(json!(match op {
        BinaryOperator::Plus => left + right,
        BinaryOperator::Minus => left - right,
        BinaryOperator::Multiply => left * right,
        _ => left / right,
    }))
}

fn bool_of(value: &Value) -> Option<bool> {
    match value {
        Value::Null => None,
        value => Some(truthy(value)),
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        _ => false,
    }
}

/// SQL comparison: numbers numerically, strings by code point, NULL with anything unknown.
pub(super) fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => match (left.as_i64(), right.as_i64()) {
            (Some(left), Some(right)) => Some(left.cmp(&right)),
            _ => left.as_f64()?.partial_cmp(&right.as_f64()?),
        },
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
