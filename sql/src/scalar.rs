//! SQL scalar expressions: column references, literals (with dynamic parameters) and the
//! expressions Henge turns into Druid's native expression language, registered as virtual
//! columns (`v0`, `v1`, ... as Druid names them) when a query needs them as columns.
//! Submodules: `functions` (string, numeric and conditional functions, CAST), `time`
//! (time functions, TIMESTAMP and INTERVAL literals, all in the query's `sqlTimeZone`) and
//! `condition` (boolean expressions: comparisons, AND/OR/NOT, IS, IN, BETWEEN, LIKE).

mod condition;
mod functions;
mod time;

use henge_segment::time::TimeZone;
use serde_json::{json, Value};
use sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DataType, DateTimeField, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArguments, UnaryOperator, Value as SqlValue,
};

use crate::params::Params;
use crate::planner::Source;
use crate::{SqlError, SqlType};

pub use self::time::{context_zone, Floor};

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Long(i64),
    Double(f64),
    String(String),
    Bool(bool),
    /// Epoch milliseconds.
    Timestamp(i64),
    /// A day-time `INTERVAL`, in milliseconds.
    Interval(i64),
    /// A year-month `INTERVAL`, in months.
    Months(i64),
}

impl Lit {
    /// The value in a native filter or JSON answer.
    pub fn to_json(&self) -> Value {
        match self {
            Lit::Null => Value::Null,
            Lit::Long(value)
            | Lit::Timestamp(value)
            | Lit::Interval(value)
            | Lit::Months(value) => {
                json!(value)
            }
            Lit::Double(value) => json!(value),
            Lit::String(text) => json!(text),
            Lit::Bool(value) => json!(i64::from(*value)),
        }
    }

    /// The value in the native expression language.
    fn to_expr(&self) -> String {
        match self {
            Lit::Null => "null".into(),
            Lit::Long(value)
            | Lit::Timestamp(value)
            | Lit::Interval(value)
            | Lit::Months(value) => value.to_string(),
            Lit::Double(value) => native_double(*value),
            Lit::String(text) => quote_string(text),
            Lit::Bool(value) => i64::from(*value).to_string(),
        }
    }
}

/// A double in the native expression language, whose exponent form needs a decimal point
/// (`1.0e20`, where Rust prints `1e20`).
pub(crate) fn native_double(value: f64) -> String {
    let text = format!("{value:?}");
    match text.split_once('e') {
        Some((mantissa, exponent)) if !mantissa.contains('.') => format!("{mantissa}.0e{exponent}"),
        _ => text,
    }
}

/// A resolved scalar expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Column(String, SqlType),
    Literal(Lit),
    /// `__time` floored to a period (`FLOOR(__time TO HOUR)`, `TIME_FLOOR(__time, 'PT1H')`).
    TimeFloor(Floor),
    /// A native expression and its SQL type.
    Expr(String, SqlType),
}

impl Scalar {
    /// The SQL type (`None` for a NULL literal).
    pub fn sql_type(&self) -> Option<SqlType> {
        match self {
            Scalar::Column(_, kind) | Scalar::Expr(_, kind) => Some(kind.clone()),
            Scalar::TimeFloor(_) => Some(SqlType::Timestamp),
            Scalar::Literal(lit) => match lit {
                Lit::Null => None,
                Lit::Long(_) | Lit::Interval(_) | Lit::Months(_) => Some(SqlType::Bigint),
                Lit::Double(_) => Some(SqlType::Double),
                Lit::String(_) => Some(SqlType::Varchar),
                Lit::Bool(_) => Some(SqlType::Boolean),
                Lit::Timestamp(_) => Some(SqlType::Timestamp),
            },
        }
    }

    /// The native expression computing this value.
    pub fn to_expr(&self) -> String {
        match self {
            Scalar::Column(name, _) => quote_identifier(name),
            Scalar::Literal(lit) => lit.to_expr(),
            Scalar::TimeFloor(floor) => floor.to_expr(&quote_identifier("__time")),
            Scalar::Expr(text, _) => text.clone(),
        }
    }
}

/// What a query reads (its data source and columns), its parameters, time zone and start
/// time, and the virtual columns planned so far.
pub struct Scope<'a> {
    pub source: Source,
    params: &'a Params,
    /// `sqlTimeZone`: the zone of time functions, TIMESTAMP literals and printed results.
    pub zone: TimeZone,
    /// `CURRENT_TIMESTAMP`: the query's start, in epoch milliseconds.
    pub now: i64,
    virtual_columns: Vec<(String, String, SqlType)>,
}

impl<'a> Scope<'a> {
    pub fn new(source: Source, params: &'a Params, zone: TimeZone, now: i64) -> Scope<'a> {
        Scope {
            source,
            params,
            zone,
            now,
            virtual_columns: Vec::new(),
        }
    }

    /// Druid's `virtualColumns` for the planned query.
    pub fn virtual_columns_json(&self) -> Value {
        Value::Array(
            self.virtual_columns
                .iter()
                .map(|(name, expression, kind)| {
                    json!({
                        "type": "expression",
                        "name": name,
                        "expression": expression,
                        "outputType": kind.value_type(),
                    })
                })
                .collect(),
        )
    }

    /// A column holding `scalar`'s value: the column itself, or a virtual column (one per
    /// distinct expression).
    pub fn column_for(&mut self, scalar: &Scalar) -> Result<(String, SqlType), SqlError> {
        if let Scalar::Column(name, kind) = scalar {
            return Ok((name.clone(), kind.clone()));
        }
        let kind = scalar
            .sql_type()
            .ok_or_else(|| SqlError::unsupported("a NULL literal as a column"))?;
        let expression = scalar.to_expr();
        if let Some((name, _, _)) = self
            .virtual_columns
            .iter()
            .find(|(_, existing, _)| *existing == expression)
        {
            return Ok((name.clone(), kind));
        }
        let name = format!("v{}", self.virtual_columns.len());
        self.virtual_columns
            .push((name.clone(), expression, kind.clone()));
        Ok((name, kind))
    }

    /// Resolves a scalar expression.
    pub fn scalar(&self, expr: &Expr) -> Result<Scalar, SqlError> {
        match expr {
            Expr::Identifier(ident) => self
                .column(None, &ident.value)
                .map_err(|error| error.at(ident.span.start)),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [table, column] => self.column(Some(&table.value), &column.value),
                _ => Err(SqlError::invalid(format!(
                    "Column '{}' not found in any table",
                    expr
                ))),
            },
            Expr::Nested(inner) => self.scalar(inner),
            Expr::Value(value) => self.value(&value.value, value.span.start),
            Expr::TypedString(typed) => match (&typed.data_type, &typed.value.value) {
                (
                    DataType::Timestamp(..) | DataType::Date | DataType::Datetime(_),
                    SqlValue::SingleQuotedString(text),
                ) => self.timestamp_literal(text),
                _ => Err(SqlError::unsupported(format!("literal {expr}"))),
            },
            Expr::Interval(interval) => self.interval(interval),
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: inner,
            } => match self.scalar(inner)? {
                Scalar::Literal(Lit::Long(value)) => {
                    Ok(Scalar::Literal(match value.checked_neg() {
                        Some(negated) => Lit::Long(negated),
                        None => Lit::Double(-(value as f64)),
                    }))
                }
                Scalar::Literal(Lit::Double(value)) => Ok(Scalar::Literal(Lit::Double(-value))),
                other => {
                    let kind = numeric_type(&other, &other)?;
                    Ok(Scalar::Expr(format!("-{}", other.to_expr()), kind))
                }
            },
            Expr::UnaryOp {
                op: UnaryOperator::Plus,
                expr: inner,
            } => self.scalar(inner),
            Expr::BinaryOp { left, op, right } => self.binary(expr, left, op, right),
            Expr::Floor {
                expr: inner,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => self.numeric_floor(inner, "floor"),
            Expr::Ceil {
                expr: inner,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => self.numeric_floor(inner, "ceil"),
            Expr::Floor {
                expr: inner,
                field: CeilFloorKind::DateTimeField(unit),
            } => self.floor_to(inner, unit, false),
            Expr::Ceil {
                expr: inner,
                field: CeilFloorKind::DateTimeField(unit),
            } => self.floor_to(inner, unit, true),
            Expr::Floor {
                expr: inner,
                field: CeilFloorKind::Scale(_),
            }
            | Expr::Ceil {
                expr: inner,
                field: CeilFloorKind::Scale(_),
            } => Err(SqlError::unsupported(format!(
                "FLOOR/CEIL with a scale ({inner})"
            ))),
            Expr::Extract {
                field, expr: inner, ..
            } => self.extract(field, inner),
            Expr::Cast {
                kind: CastKind::Cast | CastKind::DoubleColon,
                expr: inner,
                data_type,
                format: None,
            } => self.cast(inner, data_type),
            Expr::Substring {
                expr: inner,
                substring_from,
                substring_for,
                ..
            } => self.substring(inner, substring_from.as_deref(), substring_for.as_deref()),
            Expr::Trim {
                trim_where,
                trim_what,
                expr: inner,
                trim_characters,
            } => self.trim(
                trim_where.as_ref(),
                trim_what.as_deref(),
                inner,
                trim_characters.as_deref(),
            ),
            Expr::Position { expr: needle, r#in } => self.position(needle, r#in, None),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            Expr::Function(function) => self.function(function),
            _ => match self.condition(expr)? {
                Some(condition) => Ok(condition),
                None => Err(SqlError::unsupported(format!("expression {expr}"))),
            },
        }
    }

    fn column(&self, qualifier: Option<&str>, name: &str) -> Result<Scalar, SqlError> {
        self.source
            .column(qualifier, name)
            .map(|column| Scalar::Column(column.field.clone(), column.sql_type.clone()))
    }

    fn value(
        &self,
        value: &SqlValue,
        at: sqlparser::tokenizer::Location,
    ) -> Result<Scalar, SqlError> {
        let lit =
            match value {
                SqlValue::Number(text, _) => match text.parse::<i64>() {
                    Ok(number) => Lit::Long(number),
                    Err(_) => Lit::Double(text.parse().map_err(|_| {
                        SqlError::invalid(format!("Invalid numeric literal [{text}]"))
                    })?),
                },
                SqlValue::SingleQuotedString(text) => Lit::String(text.clone()),
                SqlValue::Boolean(flag) => Lit::Bool(*flag),
                SqlValue::Null => Lit::Null,
                SqlValue::Placeholder(text) if text == "?" => self.params.value_at(at)?,
                other => return Err(SqlError::unsupported(format!("literal {other}"))),
            };
        Ok(Scalar::Literal(lit))
    }

    fn binary(
        &self,
        whole: &Expr,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
    ) -> Result<Scalar, SqlError> {
        let symbol = match op {
            BinaryOperator::Plus => "+",
            BinaryOperator::Minus => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::Divide => "/",
            BinaryOperator::Modulo => "%",
            BinaryOperator::StringConcat => {
                let (left, right) = (self.scalar(left)?, self.scalar(right)?);
                return Ok(Scalar::Expr(
                    format!("concat({},{})", left.to_expr(), right.to_expr()),
                    SqlType::Varchar,
                ));
            }
            _ => {
                return match self.condition(whole)? {
                    Some(condition) => Ok(condition),
                    None => Err(SqlError::unsupported(format!("operator {op} here"))),
                }
            }
        };
        let (left, right) = (self.scalar(left)?, self.scalar(right)?);
        if let Some(shifted) = self.time_arithmetic(&left, symbol, &right)? {
            return Ok(shifted);
        }
        let kind = numeric_type(&left, &right)?;
        if let Some(folded) = fold_arithmetic(&left, symbol, &right) {
            return Ok(Scalar::Literal(folded));
        }
        Ok(Scalar::Expr(
            format!("({} {symbol} {})", left.to_expr(), right.to_expr()),
            kind,
        ))
    }

    /// Resolves a call's arguments.
    fn arguments(&self, args: &[Expr]) -> Result<Vec<Scalar>, SqlError> {
        args.iter().map(|arg| self.scalar(arg)).collect()
    }
}

/// Constant arithmetic on two numeric literals, as Calcite folds it (integer division and
/// remainder by zero are left to the native expression, which reports them).
fn fold_arithmetic(left: &Scalar, symbol: &str, right: &Scalar) -> Option<Lit> {
    match (left, right) {
        (Scalar::Literal(Lit::Long(a)), Scalar::Literal(Lit::Long(b))) => {
            Some(Lit::Long(match symbol {
                "+" => a.checked_add(*b)?,
                "-" => a.checked_sub(*b)?,
                "*" => a.checked_mul(*b)?,
                "/" => a.checked_div(*b)?,
                _ => a.checked_rem(*b)?,
            }))
        }
        (Scalar::Literal(a), Scalar::Literal(b)) => {
            let as_double = |lit: &Lit| match lit {
                Lit::Long(value) => Some(*value as f64),
                Lit::Double(value) => Some(*value),
                _ => None,
            };
            let (a, b) = (as_double(a)?, as_double(b)?);
            Some(Lit::Double(match symbol {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                _ => a % b,
            }))
        }
        _ => None,
    }
}

/// The arguments of a call without DISTINCT, FILTER or OVER.
pub fn plain_args(function: &Function) -> Result<Vec<Expr>, SqlError> {
    if function.over.is_some() || function.filter.is_some() {
        return Err(SqlError::unsupported(format!("{function} here")));
    }
    match &function.args {
        FunctionArguments::None => Ok(Vec::new()),
        FunctionArguments::List(list)
            if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
        {
            list.args
                .iter()
                .map(|arg| match arg {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Ok(expr.clone()),
                    _ => Err(SqlError::unsupported(format!("argument {arg}"))),
                })
                .collect()
        }
        _ => Err(SqlError::unsupported(format!("{function}"))),
    }
}

/// BIGINT when both sides are integers, DOUBLE when either is fractional.
fn numeric_type(left: &Scalar, right: &Scalar) -> Result<SqlType, SqlError> {
    let mut result = SqlType::Bigint;
    for side in [left, right] {
        match side.sql_type() {
            Some(SqlType::Double | SqlType::Float) => result = SqlType::Double,
            Some(SqlType::Bigint | SqlType::Boolean) | None => {}
            Some(other) => {
                return Err(SqlError::invalid(format!(
                    "Cannot apply arithmetic to {}",
                    other.sql_name()
                )))
            }
        }
    }
    Ok(result)
}

/// A double-quoted identifier of the native expression language.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A single-quoted string literal of the native expression language.
pub(crate) fn quote_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}
