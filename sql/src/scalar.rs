//! SQL scalar expressions: column references, literals (with dynamic parameters) and the
//! expressions Henge turns into Druid's native expression language, registered as virtual
//! columns (`v0`, `v1`, ... as Druid names them) when a query needs them as columns.

use serde_json::{json, Value};
use sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DataType, DateTimeField, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArguments, UnaryOperator, Value as SqlValue,
};

use crate::params::Params;
use crate::{SqlError, SqlType};

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
}

impl Lit {
    /// The value in a native filter or JSON answer.
    pub fn to_json(&self) -> Value {
        match self {
            Lit::Null => Value::Null,
            Lit::Long(value) | Lit::Timestamp(value) => json!(value),
            Lit::Double(value) => json!(value),
            Lit::String(text) => json!(text),
            Lit::Bool(value) => json!(i64::from(*value)),
        }
    }

    /// The value in the native expression language.
    fn to_expr(&self) -> String {
        match self {
            Lit::Null => "null".into(),
            Lit::Long(value) | Lit::Timestamp(value) => value.to_string(),
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
    TimeFloor(String),
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
                Lit::Long(_) => Some(SqlType::Bigint),
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
            Scalar::TimeFloor(period) => {
                format!(
                    "timestamp_floor(\"__time\",{},null,'UTC')",
                    quote_string(period)
                )
            }
            Scalar::Expr(text, _) => text.clone(),
        }
    }
}

/// The table a query reads, its parameters and the virtual columns planned so far.
pub struct Scope<'a> {
    pub table: String,
    pub columns: Vec<(String, SqlType)>,
    params: &'a Params,
    virtual_columns: Vec<(String, String, SqlType)>,
}

impl<'a> Scope<'a> {
    pub fn new(table: String, columns: Vec<(String, SqlType)>, params: &'a Params) -> Scope<'a> {
        Scope {
            table,
            columns,
            params,
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
            Expr::Identifier(ident) => self.column(&ident.value),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [table, column] if table.value == self.table => self.column(&column.value),
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
                ) => timestamp_literal(text),
                _ => Err(SqlError::unsupported(format!("literal {expr}"))),
            },
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
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::Floor {
                expr: inner,
                field: CeilFloorKind::DateTimeField(unit),
            } => {
                self.require_time(inner)?;
                Ok(Scalar::TimeFloor(period_of(unit)?.to_owned()))
            }
            Expr::Cast {
                kind: CastKind::Cast | CastKind::DoubleColon,
                expr: inner,
                data_type,
                format: None,
            } => self.cast(inner, data_type),
            Expr::Function(function) => self.function(function),
            _ => Err(SqlError::unsupported(format!("expression {expr}"))),
        }
    }

    fn column(&self, name: &str) -> Result<Scalar, SqlError> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(column, kind)| Scalar::Column(column.clone(), kind.clone()))
            .ok_or_else(|| SqlError::invalid(format!("Column '{name}' not found in any table")))
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

    fn require_time(&self, expr: &Expr) -> Result<(), SqlError> {
        match self.scalar(expr)? {
            Scalar::Column(name, _) if name == "__time" => Ok(()),
            _ => Err(SqlError::unsupported(format!(
                "time floor of [{expr}] (only __time)"
            ))),
        }
    }

    fn binary(&self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Result<Scalar, SqlError> {
        let (left, right) = (self.scalar(left)?, self.scalar(right)?);
        let symbol = match op {
            BinaryOperator::Plus => "+",
            BinaryOperator::Minus => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::Divide => "/",
            BinaryOperator::Modulo => "%",
            BinaryOperator::StringConcat => {
                return Ok(Scalar::Expr(
                    format!("concat({},{})", left.to_expr(), right.to_expr()),
                    SqlType::Varchar,
                ))
            }
            other => return Err(SqlError::unsupported(format!("operator {other} here"))),
        };
        let kind = numeric_type(&left, &right)?;
        Ok(Scalar::Expr(
            format!("({} {symbol} {})", left.to_expr(), right.to_expr()),
            kind,
        ))
    }

    fn cast(&self, inner: &Expr, data_type: &DataType) -> Result<Scalar, SqlError> {
        let value = self.scalar(inner)?;
        let target = match data_type {
            DataType::Varchar(_) | DataType::Char(_) | DataType::String(_) | DataType::Text => {
                SqlType::Varchar
            }
            DataType::BigInt(_) | DataType::Int(_) | DataType::Integer(_) => SqlType::Bigint,
            DataType::Double(_)
            | DataType::DoublePrecision
            | DataType::Float(_)
            | DataType::Real => SqlType::Double,
            DataType::Timestamp(..) => {
                return match value {
                    Scalar::Literal(Lit::String(text)) => timestamp_literal(&text),
                    Scalar::Literal(Lit::Timestamp(ms)) => Ok(Scalar::Literal(Lit::Timestamp(ms))),
                    Scalar::Column(name, SqlType::Timestamp) => {
                        Ok(Scalar::Column(name, SqlType::Timestamp))
                    }
                    _ => Err(SqlError::unsupported(format!("CAST to {data_type}"))),
                }
            }
            other => return Err(SqlError::unsupported(format!("CAST to {other}"))),
        };
        if value.sql_type().as_ref() == Some(&target) {
            return Ok(value);
        }
        Ok(Scalar::Expr(
            format!("cast({}, '{}')", value.to_expr(), target.value_type()),
            target,
        ))
    }

    fn function(&self, function: &Function) -> Result<Scalar, SqlError> {
        let name = function.name.to_string().to_ascii_uppercase();
        if crate::aggregate::is_aggregate(&Expr::Function(function.clone())) {
            return Err(SqlError::unsupported(format!(
                "the aggregate {function} inside an expression or outside a grouped query"
            )));
        }
        let args = plain_args(function)?;
        let scalars = args
            .iter()
            .map(|arg| self.scalar(arg))
            .collect::<Result<Vec<_>, _>>()?;
        let call = |native: &str, kind: SqlType| {
            let joined: Vec<String> = scalars.iter().map(Scalar::to_expr).collect();
            Ok(Scalar::Expr(
                format!("{native}({})", joined.join(",")),
                kind,
            ))
        };
        match (name.as_str(), scalars.len()) {
            ("CONCAT", 1..) => call("concat", SqlType::Varchar),
            ("LOWER", 1) => call("lower", SqlType::Varchar),
            ("UPPER", 1) => call("upper", SqlType::Varchar),
            ("CHAR_LENGTH" | "CHARACTER_LENGTH" | "LENGTH", 1) => call("strlen", SqlType::Bigint),
            ("ABS", 1) => {
                let kind = numeric_type(&scalars[0], &scalars[0])?;
                call("abs", kind)
            }
            ("TIME_FLOOR", 2) => {
                self.require_time(&args[0])?;
                match &scalars[1] {
                    Scalar::Literal(Lit::String(period)) => Ok(Scalar::TimeFloor(period.clone())),
                    _ => Err(SqlError::invalid(
                        "TIME_FLOOR needs a period literal such as 'PT1H'",
                    )),
                }
            }
            _ => Err(SqlError::unsupported(format!(
                "function {name} with {} arguments here",
                scalars.len()
            ))),
        }
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

/// The period of `FLOOR(__time TO unit)`.
fn period_of(unit: &DateTimeField) -> Result<&'static str, SqlError> {
    Ok(match unit {
        DateTimeField::Second => "PT1S",
        DateTimeField::Minute => "PT1M",
        DateTimeField::Hour => "PT1H",
        DateTimeField::Day => "P1D",
        DateTimeField::Week(None) => "P1W",
        DateTimeField::Month => "P1M",
        DateTimeField::Quarter => "P3M",
        DateTimeField::Year => "P1Y",
        other => return Err(SqlError::unsupported(format!("FLOOR to {other}"))),
    })
}

fn timestamp_literal(text: &str) -> Result<Scalar, SqlError> {
    henge_segment::time::parse_timestamp(text)
        .map(|ms| Scalar::Literal(Lit::Timestamp(ms)))
        .ok_or_else(|| SqlError::invalid(format!("Illegal TIMESTAMP literal '{text}'")))
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
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A single-quoted string literal of the native expression language.
fn quote_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}
