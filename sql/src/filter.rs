//! WHERE and HAVING conditions to Druid 28+ native filters (`equals`, `range`, `in`, `like`,
//! `regex`, `null`, `and`, `or`, `not`, as Druid plans them with `sqlUseBoundAndSelectors`
//! false; an `expression` filter for conditions none of them expresses, such as comparisons
//! between two columns or IS TRUE), and top-level conditions on `__time` against TIMESTAMP
//! literals to query intervals (BETWEEN takes Druid's end-plus-1ms rule). Timestamp texts
//! are read in the query's `sqlTimeZone`.

use henge_segment::time::format_timestamp;
use henge_segment::Interval;
use serde_json::{json, Value};
use sqlparser::ast::{BinaryOperator, Expr, InTarget, UnaryOperator};

use crate::scalar::{plain_args, Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

/// One side of a comparison: a column (real, virtual or an output name) or a literal.
pub enum Operand {
    Column(String, SqlType),
    Literal(Lit),
}

/// Resolves comparison operands: table columns for WHERE, output names for HAVING.
pub trait Resolve {
    fn operand(&mut self, expr: &Expr) -> Result<Operand, SqlError>;

    /// The query's scope (table, time zone).
    fn scope(&self) -> &Scope<'_>;

    /// A condition no native filter expresses, as an `expression` filter.
    fn expression_filter(&mut self, expr: &Expr) -> Result<Value, SqlError>;

    /// Whether `expr` is a constant.
    fn is_literal(&self, expr: &Expr) -> bool {
        matches!(self.scope().scalar(expr), Ok(Scalar::Literal(_)))
    }
}

impl Resolve for Scope<'_> {
    fn scope(&self) -> &Scope<'_> {
        self
    }

    fn expression_filter(&mut self, expr: &Expr) -> Result<Value, SqlError> {
        let condition = match self.condition(expr)? {
            Some(condition) => condition,
            None => match self.scalar(expr)? {
                scalar @ Scalar::Expr(_, SqlType::Boolean) => scalar,
                scalar @ (Scalar::Expr(..) | Scalar::Column(..))
                    if scalar.sql_type().is_some_and(|kind| kind.is_numeric()) =>
                {
                    scalar
                }
                _ => return Err(SqlError::unsupported(format!("condition {expr}"))),
            },
        };
        Ok(json!({"type": "expression", "expression": condition.to_expr()}))
    }

    fn operand(&mut self, expr: &Expr) -> Result<Operand, SqlError> {
        match self.scalar(expr)? {
            Scalar::Literal(lit) => Ok(Operand::Literal(lit)),
            scalar => {
                let (name, kind) = self.column_for(&scalar)?;
                Ok(Operand::Column(name, kind))
            }
        }
    }
}

/// A planned WHERE clause.
pub struct Where {
    pub filter: Option<Value>,
    /// The query intervals (`start/end` text); empty when the time conditions exclude all.
    pub intervals: Vec<String>,
}

/// Plans a WHERE clause: top-level `__time` bounds become intervals, the rest a filter.
pub fn plan_where(scope: &mut Scope, condition: Option<&Expr>) -> Result<Where, SqlError> {
    let (mut start, mut end) = (Interval::ETERNITY.start, Interval::ETERNITY.end);
    let mut filters = Vec::new();
    let mut conjuncts = Vec::new();
    if let Some(condition) = condition {
        flatten_and(condition, &mut conjuncts);
    }
    for conjunct in conjuncts {
        match time_bounds(scope, conjunct)? {
            Some((low, high)) => {
                start = start.max(low);
                end = end.min(high);
            }
            None => filters.push(filter(scope, conjunct)?),
        }
    }
    let intervals = if start < end {
        vec![format!(
            "{}/{}",
            format_timestamp(start),
            format_timestamp(end)
        )]
    } else {
        Vec::new()
    };
    let filter = match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(json!({"type": "and", "fields": filters})),
    };
    Ok(Where { filter, intervals })
}

fn flatten_and<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    out.extend(chain(expr, &BinaryOperator::And));
}

/// The operands of a chain of one logical operator (`a OR b OR c`, parentheses looked
/// through), in order, gathered without recursion: `sqlparser` builds a long chain as a
/// left-nested tree as deep as the chain is long.
fn chain<'e>(expr: &'e Expr, op: &BinaryOperator) -> Vec<&'e Expr> {
    let mut operands = Vec::new();
    let mut pending = vec![expr];
    while let Some(expr) = pending.pop() {
        match expr {
            Expr::Nested(inner) => pending.push(inner),
            Expr::BinaryOp {
                left,
                op: this,
                right,
            } if this == op => {
                pending.push(right);
                pending.push(left);
            }
            other => operands.push(other),
        }
    }
    operands
}

/// `[start, end)` of a comparison of bare `__time` with a timestamp literal.
fn time_bounds(scope: &Scope, expr: &Expr) -> Result<Option<(i64, i64)>, SqlError> {
    let (eternal_start, eternal_end) = (Interval::ETERNITY.start, Interval::ETERNITY.end);
    let is_time =
        |expr: &Expr| matches!(scope.scalar(expr), Ok(Scalar::Column(name, _)) if name == "__time");
    let instant = |expr: &Expr| -> Result<Option<i64>, SqlError> {
        Ok(match scope.scalar(expr)? {
            Scalar::Literal(Lit::Timestamp(ms)) => Some(ms),
            Scalar::Literal(Lit::String(text)) => scope.parse_local(&text),
            _ => None,
        })
    };
    match expr {
        Expr::BinaryOp { left, op, right } => {
            let (op, value) = if is_time(left) {
                (op.clone(), instant(right)?)
            } else if is_time(right) {
                (flip(op), instant(left)?)
            } else {
                return Ok(None);
            };
            let Some(at) = value else { return Ok(None) };
            Ok(match op {
                BinaryOperator::Eq => Some((at, at.saturating_add(1))),
                BinaryOperator::Gt => Some((at.saturating_add(1), eternal_end)),
                BinaryOperator::GtEq => Some((at, eternal_end)),
                BinaryOperator::Lt => Some((eternal_start, at)),
                BinaryOperator::LtEq => Some((eternal_start, at.saturating_add(1))),
                _ => None,
            })
        }
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } if is_time(expr) => match (instant(low)?, instant(high)?) {
            (Some(low), Some(high)) => Ok(Some((low, high.saturating_add(1)))),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The comparison seen from the other side (`5 < x` is `x > 5`).
fn flip(op: &BinaryOperator) -> BinaryOperator {
    match op {
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        other => other.clone(),
    }
}

/// A condition as a native filter.
pub fn filter(resolve: &mut dyn Resolve, expr: &Expr) -> Result<Value, SqlError> {
    match expr {
        Expr::Nested(inner) => filter(resolve, inner),
        Expr::BinaryOp {
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            ..
        } => {
            let kind = if *op == BinaryOperator::And {
                "and"
            } else {
                "or"
            };
            let mut fields = Vec::new();
            for operand in chain(expr, op) {
                let planned = filter(resolve, operand)?;
                if planned["type"] == kind {
                    fields.extend(planned["fields"].as_array().cloned().unwrap_or_default());
                } else {
                    fields.push(planned);
                }
            }
            Ok(json!({"type": kind, "fields": fields}))
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => Ok(not(filter(resolve, expr)?)),
        Expr::BinaryOp { left, right, .. }
            if !resolve.is_literal(left) && !resolve.is_literal(right) =>
        {
            resolve.expression_filter(expr)
        }
        Expr::BinaryOp { left, op, right } => compare(resolve, left, op, right),
        Expr::IsNull(inner) if !resolve.is_literal(inner) => Ok(null_filter(resolve, inner)?),
        Expr::IsNotNull(inner) if !resolve.is_literal(inner) => {
            Ok(not(null_filter(resolve, inner)?))
        }
        Expr::Function(function)
            if function
                .name
                .to_string()
                .eq_ignore_ascii_case("REGEXP_LIKE") =>
        {
            let args = plain_args(function)?;
            match args.as_slice() {
                [value, pattern] if resolve.is_literal(pattern) && !resolve.is_literal(value) => {
                    let (column, _) = column_operand(resolve, value)?;
                    let Lit::String(pattern) = literal_for(resolve, pattern, &SqlType::Varchar)?
                    else {
                        return Err(SqlError::invalid("REGEXP_LIKE needs a string pattern"));
                    };
                    Ok(json!({"type": "regex", "dimension": column, "pattern": pattern}))
                }
                _ => resolve.expression_filter(expr),
            }
        }
        Expr::Between {
            expr: inner,
            low,
            high,
            ..
        } if resolve.is_literal(inner) || !resolve.is_literal(low) || !resolve.is_literal(high) => {
            resolve.expression_filter(expr)
        }
        Expr::In {
            expr: inner,
            target: InTarget::List(list),
            ..
        } if resolve.is_literal(inner) || list.iter().any(|item| !resolve.is_literal(item)) => {
            resolve.expression_filter(expr)
        }
        Expr::Like {
            expr: inner,
            pattern,
            escape_char,
            ..
        } if resolve.is_literal(inner)
            || !resolve.is_literal(pattern)
            || escape_char
                .as_ref()
                .is_some_and(|escape| !resolve.is_literal(escape)) =>
        {
            resolve.expression_filter(expr)
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let (column, kind) = column_operand(resolve, expr)?;
            let low = literal_for(resolve, low, &kind)?;
            let high = literal_for(resolve, high, &kind)?;
            let range = json!({
                "type": "range", "column": column, "matchValueType": kind.value_type(),
                "lower": low.to_json(), "upper": high.to_json(),
            });
            Ok(if *negated { not(range) } else { range })
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            global: false,
        } => {
            let (column, kind) = column_operand(resolve, expr)?;
            let values = list
                .iter()
                .map(|item| literal_for(resolve, item, &kind))
                .collect::<Result<Vec<_>, _>>()?;
            let planned = if kind == SqlType::Varchar {
                let values: Vec<Value> = values.iter().map(Lit::to_json).collect();
                json!({"type": "in", "dimension": column, "values": values})
            } else {
                let fields: Vec<Value> = values
                    .iter()
                    .map(|value| equals(&column, &kind, value))
                    .collect();
                json!({"type": "or", "fields": fields})
            };
            Ok(if *negated { not(planned) } else { planned })
        }
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char,
        } => {
            let (column, _) = column_operand(resolve, expr)?;
            let Lit::String(pattern) = literal_for(resolve, pattern, &SqlType::Varchar)? else {
                return Err(SqlError::invalid("LIKE needs a string pattern"));
            };
            let mut like = json!({"type": "like", "dimension": column, "pattern": pattern});
            if let Some(escape) = escape_char {
                match literal_for(resolve, escape, &SqlType::Varchar)? {
                    Lit::String(escape) => like["escape"] = json!(escape),
                    _ => return Err(SqlError::invalid("LIKE ESCAPE needs a string")),
                }
            }
            Ok(if *negated { not(like) } else { like })
        }
        other => resolve.expression_filter(other),
    }
}

fn not(field: Value) -> Value {
    json!({"type": "not", "field": field})
}

fn equals(column: &str, kind: &SqlType, value: &Lit) -> Value {
    json!({"type": "equals", "column": column, "matchValueType": kind.value_type(), "matchValue": value.to_json()})
}

fn null_filter(resolve: &mut dyn Resolve, expr: &Expr) -> Result<Value, SqlError> {
    let (column, _) = column_operand(resolve, expr)?;
    Ok(json!({"type": "null", "column": column}))
}

fn column_operand(resolve: &mut dyn Resolve, expr: &Expr) -> Result<(String, SqlType), SqlError> {
    match resolve.operand(expr)? {
        Operand::Column(name, kind) => Ok((name, kind)),
        Operand::Literal(_) => Err(SqlError::unsupported(format!(
            "a condition on the constant {expr}"
        ))),
    }
}

/// A literal compared with a column of type `kind`, coerced as Calcite does.
fn literal_for(resolve: &mut dyn Resolve, expr: &Expr, kind: &SqlType) -> Result<Lit, SqlError> {
    let Operand::Literal(lit) = resolve.operand(expr)? else {
        return Err(SqlError::unsupported(format!(
            "a comparison between columns ({expr})"
        )));
    };
    let lit = match (lit, kind) {
        (Lit::String(text), SqlType::Timestamp) => match resolve.scope().parse_local(&text) {
            Some(ms) => Lit::Timestamp(ms),
            None => Lit::String(text),
        },
        (lit, _) => lit,
    };
    coerce(lit, kind).ok_or_else(|| {
        SqlError::invalid(format!(
            "Cannot compare a {} column with {expr}",
            kind.sql_name()
        ))
    })
}

fn coerce(lit: Lit, kind: &SqlType) -> Option<Lit> {
    Some(match (lit, kind) {
        (Lit::Null, _) => Lit::Null,
        (Lit::String(text), SqlType::Varchar) => Lit::String(text),
        (Lit::Timestamp(ms), SqlType::Timestamp) => Lit::Long(ms),
        (Lit::String(text), SqlType::Bigint) => Lit::Long(text.trim().parse().ok()?),
        (Lit::String(text), SqlType::Double | SqlType::Float) => {
            Lit::Double(text.trim().parse().ok()?)
        }
        (Lit::Long(value), SqlType::Bigint) => Lit::Long(value),
        (Lit::Long(value), SqlType::Double | SqlType::Float) => Lit::Double(value as f64),
        (Lit::Double(value), SqlType::Double | SqlType::Float | SqlType::Bigint) => {
            Lit::Double(value)
        }
        (Lit::Bool(value), SqlType::Bigint | SqlType::Boolean) => Lit::Long(i64::from(value)),
        _ => return None,
    })
}

fn compare(
    resolve: &mut dyn Resolve,
    left: &Expr,
    op: &BinaryOperator,
    right: &Expr,
) -> Result<Value, SqlError> {
    let (column, kind, value, op) = match resolve.operand(left)? {
        Operand::Column(name, kind) => {
            let value = literal_for(resolve, right, &kind)?;
            (name, kind, value, op.clone())
        }
        Operand::Literal(_) => {
            let (name, kind) = column_operand(resolve, right)?;
            let value = literal_for(resolve, left, &kind)?;
            (name, kind, value, flip(op))
        }
    };
    if value == Lit::Null {
        // A comparison with NULL is never true.
        return Ok(json!({"type": "false"}));
    }
    // A fractional bound on a BIGINT column compares as DOUBLE, as Calcite widens it.
    let kind = match (&kind, &value) {
        (SqlType::Bigint, Lit::Double(_)) => SqlType::Double,
        _ => kind,
    };
    let bound = |side: &str, open: bool| {
        let mut range =
            json!({"type": "range", "column": column, "matchValueType": kind.value_type()});
        range[side] = value.to_json();
        if open {
            range[format!("{side}Open")] = json!(true);
        }
        range
    };
    match op {
        BinaryOperator::Eq => Ok(equals(&column, &kind, &value)),
        BinaryOperator::NotEq => Ok(not(equals(&column, &kind, &value))),
        BinaryOperator::Lt => Ok(bound("upper", true)),
        BinaryOperator::LtEq => Ok(bound("upper", false)),
        BinaryOperator::Gt => Ok(bound("lower", true)),
        BinaryOperator::GtEq => Ok(bound("lower", false)),
        other => Err(SqlError::unsupported(format!(
            "operator {other} in a condition"
        ))),
    }
}
