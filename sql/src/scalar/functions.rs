//! Scalar function calls to native expressions, as Druid's operator conversions write them:
//! strings (CONCAT, TEXTCAT, LOWER, UPPER, SUBSTRING, TRIM/BTRIM/LTRIM/RTRIM, LENGTH,
//! REPLACE, REGEXP_EXTRACT, REGEXP_LIKE, STRPOS, POSITION, LPAD/RPAD, REVERSE, LEFT/RIGHT,
//! PARSE_LONG), numbers (ABS, CEIL, FLOOR, ROUND, TRUNCATE, MOD, POWER, SQRT, EXP, LN,
//! LOG10, SAFE_DIVIDE, GREATEST/LEAST), conditionals (CASE, COALESCE, NULLIF, NVL, IFNULL)
//! and CAST. SQL positions are 1-based, native ones 0-based.

use sqlparser::ast::{CaseWhen, DataType, Expr, Function, TrimWhereField};

use super::{numeric_type, plain_args, quote_string, Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

impl Scope<'_> {
    pub(super) fn function(&self, function: &Function) -> Result<Scalar, SqlError> {
        let name = function.name.to_string().to_ascii_uppercase();
        if crate::aggregate::is_aggregate(&Expr::Function(function.clone())) {
            return Err(SqlError::unsupported(format!(
                "the aggregate {function} inside an expression or outside a grouped query"
            )));
        }
        let args = plain_args(function)?;
        if let Some(scalar) = self.time_function(&name, &args)? {
            return Ok(scalar);
        }
        let scalars = self.arguments(&args)?;
        let call = |native: &str, kind: SqlType| {
            let joined: Vec<String> = scalars.iter().map(Scalar::to_expr).collect();
            Ok(Scalar::Expr(
                format!("{native}({})", joined.join(",")),
                kind,
            ))
        };
        let first_type = scalars.first().and_then(Scalar::sql_type);
        match (name.as_str(), scalars.len()) {
            ("CONCAT", 1..) | ("TEXTCAT", 2) => call("concat", SqlType::Varchar),
            ("LOWER", 1) => call("lower", SqlType::Varchar),
            ("UPPER", 1) => call("upper", SqlType::Varchar),
            ("LOOKUP", 2 | 3) => lookup(&scalars),
            ("CHAR_LENGTH" | "CHARACTER_LENGTH" | "LENGTH" | "STRLEN", 1) => {
                call("strlen", SqlType::Bigint)
            }
            ("REPLACE", 3) => call("replace", SqlType::Varchar),
            ("REVERSE", 1) => call("reverse", SqlType::Varchar),
            ("LEFT", 2) => call("left", SqlType::Varchar),
            ("RIGHT", 2) => call("right", SqlType::Varchar),
            ("LPAD" | "RPAD", 2 | 3) => {
                let pad = scalars
                    .get(2)
                    .map_or_else(|| "' '".to_owned(), Scalar::to_expr);
                Ok(Scalar::Expr(
                    format!(
                        "{}({},{},{pad})",
                        name.to_ascii_lowercase(),
                        scalars[0].to_expr(),
                        scalars[1].to_expr()
                    ),
                    SqlType::Varchar,
                ))
            }
            ("BTRIM" | "LTRIM" | "RTRIM", 1 | 2) => {
                let native = match name.as_str() {
                    "BTRIM" => "trim",
                    "LTRIM" => "ltrim",
                    _ => "rtrim",
                };
                call(native, SqlType::Varchar)
            }
            ("SUBSTR" | "SUBSTRING", 2 | 3) => {
                self.substring(&args[0], Some(&args[1]), args.get(2))
            }
            ("STRPOS", 2) => self.position(&args[1], &args[0], None),
            ("POSITION", 2 | 3) => self.position(&args[0], &args[1], args.get(2)),
            ("REGEXP_EXTRACT", 2 | 3) => {
                self.string_arg(&args, 1, &name)?;
                call("regexp_extract", SqlType::Varchar)
            }
            ("REGEXP_LIKE", 2) => {
                self.string_arg(&args, 1, &name)?;
                call("regexp_like", SqlType::Boolean)
            }
            ("PARSE_LONG", 1 | 2) => call("parse_long", SqlType::Bigint),
            ("ABS", 1) => {
                let kind = numeric_type(&scalars[0], &scalars[0])?;
                call("abs", kind)
            }
            ("CEIL" | "CEILING" | "FLOOR", 1) => {
                let native = if name == "FLOOR" { "floor" } else { "ceil" };
                self.numeric_floor(&args[0], native)
            }
            ("ROUND", 1 | 2) => {
                let kind = numeric_type(&scalars[0], &scalars[0])?;
                call("round", kind)
            }
            ("TRUNCATE" | "TRUNC", 1 | 2) => self.truncate(&scalars),
            ("MOD", 2) => {
                let kind = numeric_type(&scalars[0], &scalars[1])?;
                Ok(Scalar::Expr(
                    format!("({} % {})", scalars[0].to_expr(), scalars[1].to_expr()),
                    kind,
                ))
            }
            ("POWER" | "POW", 2) => {
                numeric_type(&scalars[0], &scalars[1])?;
                call("pow", SqlType::Double)
            }
            ("SQRT" | "EXP" | "LN" | "LOG10", 1) => {
                numeric_type(&scalars[0], &scalars[0])?;
                let native = match name.as_str() {
                    "SQRT" => "sqrt",
                    "EXP" => "exp",
                    "LN" => "log",
                    _ => "log10",
                };
                call(native, SqlType::Double)
            }
            ("SAFE_DIVIDE", 2) => {
                let kind = numeric_type(&scalars[0], &scalars[1])?;
                call("safe_divide", kind)
            }
            ("GREATEST" | "LEAST", 1..) => {
                let kind = common_type(&scalars)?;
                call(&name.to_ascii_lowercase(), kind)
            }
            ("COALESCE", 1..) => {
                let kind = common_type(&scalars)?;
                call("coalesce", kind)
            }
            ("NVL" | "IFNULL", 2) => {
                let kind = common_type(&scalars)?;
                call("nvl", kind)
            }
            ("NULLIF", 2) => {
                let kind = first_type.unwrap_or(SqlType::Varchar);
                Ok(Scalar::Expr(
                    format!(
                        "case_searched(({} == {}),null,{})",
                        scalars[0].to_expr(),
                        scalars[1].to_expr(),
                        scalars[0].to_expr()
                    ),
                    kind,
                ))
            }
            _ => Err(SqlError::unsupported(format!(
                "function {name} with {} arguments here",
                scalars.len()
            ))),
        }
    }

    /// Numeric `FLOOR(x)`/`CEIL(x)` (`native` is `floor` or `ceil`): an integer is its own.
    pub(super) fn numeric_floor(&self, inner: &Expr, native: &str) -> Result<Scalar, SqlError> {
        let value = self.scalar(inner)?;
        if numeric_type(&value, &value)? == SqlType::Bigint {
            return Ok(value);
        }
        Ok(Scalar::Expr(
            format!("{native}({})", value.to_expr()),
            SqlType::Double,
        ))
    }

    /// `SUBSTRING(s FROM start [FOR length])`: native `substring` is 0-based, and a negative
    /// length reads to the end.
    pub(super) fn substring(
        &self,
        inner: &Expr,
        from: Option<&Expr>,
        length: Option<&Expr>,
    ) -> Result<Scalar, SqlError> {
        let text = self.scalar(inner)?;
        let start = match from.map(|from| self.scalar(from)).transpose()? {
            None => "0".to_owned(),
            Some(Scalar::Literal(Lit::Long(start))) => (start.max(1) - 1).to_string(),
            Some(other) => format!("max(({} - 1),0)", other.to_expr()),
        };
        let length = match length.map(|length| self.scalar(length)).transpose()? {
            None => "-1".to_owned(),
            Some(length) => length.to_expr(),
        };
        Ok(Scalar::Expr(
            format!("substring({},{start},{length})", text.to_expr()),
            SqlType::Varchar,
        ))
    }

    /// `TRIM([BOTH | LEADING | TRAILING] [chars FROM] s)`.
    pub(super) fn trim(
        &self,
        side: Option<&TrimWhereField>,
        what: Option<&Expr>,
        inner: &Expr,
        characters: Option<&[Expr]>,
    ) -> Result<Scalar, SqlError> {
        let text = self.scalar(inner)?;
        let chars = match (what, characters) {
            (Some(what), None) => self.scalar(what)?.to_expr(),
            (None, Some([chars])) => self.scalar(chars)?.to_expr(),
            (None, None) => "' '".to_owned(),
            _ => return Err(SqlError::unsupported("TRIM with several character lists")),
        };
        let native = match side {
            None | Some(TrimWhereField::Both) => "trim",
            Some(TrimWhereField::Leading) => "ltrim",
            Some(TrimWhereField::Trailing) => "rtrim",
        };
        Ok(Scalar::Expr(
            format!("{native}({},{chars})", text.to_expr()),
            SqlType::Varchar,
        ))
    }

    /// `POSITION(needle IN haystack [FROM start])` and `STRPOS(haystack, needle)`: the
    /// 1-based position, 0 when absent.
    pub(super) fn position(
        &self,
        needle: &Expr,
        haystack: &Expr,
        from: Option<&Expr>,
    ) -> Result<Scalar, SqlError> {
        let (needle, haystack) = (self.scalar(needle)?, self.scalar(haystack)?);
        let from = match from.map(|from| self.scalar(from)).transpose()? {
            None => String::new(),
            Some(Scalar::Literal(Lit::Long(start))) => format!(",{}", start.max(1) - 1),
            Some(other) => format!(",({} - 1)", other.to_expr()),
        };
        Ok(Scalar::Expr(
            format!(
                "(strpos({},{}{from}) + 1)",
                haystack.to_expr(),
                needle.to_expr()
            ),
            SqlType::Bigint,
        ))
    }

    /// `TRUNCATE(x [, digits])`: toward zero at `digits` decimal places.
    fn truncate(&self, scalars: &[Scalar]) -> Result<Scalar, SqlError> {
        let kind = numeric_type(&scalars[0], &scalars[0])?;
        let digits = match scalars.get(1) {
            None => 0,
            Some(Scalar::Literal(Lit::Long(digits))) if digits.abs() <= 18 => *digits,
            Some(_) => {
                return Err(SqlError::unsupported(
                    "TRUNCATE with digits other than an integer literal",
                ))
            }
        };
        let value = scalars[0].to_expr();
        let text = match (&kind, digits) {
            (SqlType::Bigint, 0..) => return Ok(scalars[0].clone()),
            (SqlType::Bigint, _) => {
                let factor = 10i64.pow(digits.unsigned_abs() as u32);
                format!("(({value} / {factor}) * {factor})")
            }
            _ => {
                let factor = super::native_double(10f64.powi(digits as i32));
                format!("(cast(cast(({value} * {factor}),'LONG'),'DOUBLE') / {factor})")
            }
        };
        Ok(Scalar::Expr(text, kind))
    }

    /// Simple and searched `CASE`.
    pub(super) fn case(
        &self,
        operand: Option<&Expr>,
        conditions: &[CaseWhen],
        otherwise: Option<&Expr>,
    ) -> Result<Scalar, SqlError> {
        let mut parts = Vec::new();
        let mut results = Vec::new();
        let subject = operand.map(|operand| self.scalar(operand)).transpose()?;
        if let Some(subject) = &subject {
            parts.push(subject.to_expr());
        }
        for when in conditions {
            let condition = self.scalar(&when.condition)?;
            let result = self.scalar(&when.result)?;
            parts.push(condition.to_expr());
            parts.push(result.to_expr());
            results.push(result);
        }
        if let Some(otherwise) = otherwise {
            let result = self.scalar(otherwise)?;
            parts.push(result.to_expr());
            results.push(result);
        }
        let kind = common_type(&results)?;
        let native = if subject.is_some() {
            "case_simple"
        } else {
            "case_searched"
        };
        Ok(Scalar::Expr(format!("{native}({})", parts.join(",")), kind))
    }

    /// `CAST(x AS type)`: constants are converted at planning time; TIMESTAMP casts read
    /// and print wall-clock time in the query's zone, as Druid does.
    pub(super) fn cast(&self, inner: &Expr, data_type: &DataType) -> Result<Scalar, SqlError> {
        let value = self.scalar(inner)?;
        let target = match data_type {
            DataType::Varchar(_) | DataType::Char(_) | DataType::String(_) | DataType::Text => {
                SqlType::Varchar
            }
            DataType::BigInt(_)
            | DataType::Int(_)
            | DataType::Integer(_)
            | DataType::SmallInt(_)
            | DataType::TinyInt(_) => SqlType::Bigint,
            DataType::Double(_) | DataType::DoublePrecision => SqlType::Double,
            DataType::Float(_) | DataType::Real => SqlType::Float,
            DataType::Boolean | DataType::Bool => SqlType::Boolean,
            DataType::Timestamp(..) => return self.cast_to_timestamp(value),
            DataType::Date => {
                let timestamp = self.cast_to_timestamp(value)?;
                return self.floor_to_day(timestamp);
            }
            other => return Err(SqlError::unsupported(format!("CAST to {other}"))),
        };
        let source = value.sql_type();
        if source.as_ref() == Some(&target) {
            return Ok(value);
        }
        if let Scalar::Literal(lit) = &value {
            if let Some(folded) = fold_cast(lit, &target) {
                return Ok(Scalar::Literal(folded));
            }
        }
        let input = value.to_expr();
        let text = match (source, &target) {
            (_, SqlType::Boolean) if value.sql_type() == Some(SqlType::Varchar) => {
                format!("(lower({input}) == 'true')")
            }
            (_, SqlType::Boolean) => format!("({input} != 0)"),
            (Some(SqlType::Timestamp), SqlType::Varchar) => format!(
                "timestamp_format({input},'yyyy-MM-dd HH:mm:ss',{})",
                quote_string(&self.zone.to_string())
            ),
            (Some(SqlType::Timestamp), SqlType::Bigint) => input,
            (Some(SqlType::Timestamp), _) => format!("cast({input}, 'DOUBLE')"),
            (Some(SqlType::Boolean), SqlType::Varchar) => {
                format!("case_searched(({input} != 0),'true',notnull({input}),'false',null)")
            }
            _ => format!("cast({input}, '{}')", target.value_type()),
        };
        Ok(Scalar::Expr(text, target))
    }

    fn cast_to_timestamp(&self, value: Scalar) -> Result<Scalar, SqlError> {
        Ok(match value {
            Scalar::Literal(Lit::String(text)) => self.timestamp_literal(&text)?,
            Scalar::Literal(Lit::Long(ms)) => Scalar::Literal(Lit::Timestamp(ms)),
            Scalar::Literal(Lit::Null) => Scalar::Literal(Lit::Null),
            other => match other.sql_type() {
                Some(SqlType::Timestamp) => other,
                Some(SqlType::Varchar) => Scalar::Expr(
                    format!(
                        "timestamp_parse({},null,{})",
                        other.to_expr(),
                        quote_string(&self.zone.to_string())
                    ),
                    SqlType::Timestamp,
                ),
                Some(kind) if kind.is_numeric() => Scalar::Expr(
                    format!("cast({}, 'LONG')", other.to_expr()),
                    SqlType::Timestamp,
                ),
                _ => {
                    return Err(SqlError::unsupported(format!(
                        "CAST of {other:?} to TIMESTAMP"
                    )))
                }
            },
        })
    }

    /// A TIMESTAMP floored to its day in the query's zone (Druid's DATE).
    fn floor_to_day(&self, timestamp: Scalar) -> Result<Scalar, SqlError> {
        let floor = super::Floor {
            period: "P1D".into(),
            origin: None,
            zone: self.zone,
        };
        Ok(match timestamp {
            Scalar::Literal(Lit::Timestamp(at)) => {
                let local = self.zone.to_local(at);
                Scalar::Literal(Lit::Timestamp(
                    self.zone.to_utc(local - local.rem_euclid(86_400_000)),
                ))
            }
            Scalar::Column(name, _) if name == "__time" => Scalar::TimeFloor(floor),
            Scalar::Literal(Lit::Null) => Scalar::Literal(Lit::Null),
            other => Scalar::Expr(floor.to_expr(&other.to_expr()), SqlType::Timestamp),
        })
    }
}

/// A literal cast at planning time; `None` when it must be left to the native cast.
fn fold_cast(lit: &Lit, target: &SqlType) -> Option<Lit> {
    Some(match (lit, target) {
        (Lit::Null, _) => Lit::Null,
        (Lit::String(text), SqlType::Bigint) => Lit::Long(text.trim().parse().ok()?),
        (Lit::String(text), SqlType::Double | SqlType::Float) => {
            Lit::Double(text.trim().parse().ok()?)
        }
        (Lit::Long(value), SqlType::Double | SqlType::Float) => Lit::Double(*value as f64),
        (Lit::Long(value), SqlType::Varchar) => Lit::String(value.to_string()),
        (Lit::Double(value), SqlType::Bigint) if value.is_finite() => {
            Lit::Long(value.trunc() as i64)
        }
        (Lit::Long(value), SqlType::Boolean) => Lit::Bool(*value != 0),
        (Lit::Bool(value), SqlType::Bigint) => Lit::Long(i64::from(*value)),
        _ => return None,
    })
}

/// The type of a value chosen among `scalars` (CASE, COALESCE, GREATEST): VARCHAR if any is,
/// else DOUBLE if any is fractional, else BIGINT, else the first known type.
fn common_type(scalars: &[Scalar]) -> Result<SqlType, SqlError> {
    let kinds: Vec<SqlType> = scalars.iter().filter_map(Scalar::sql_type).collect();
    let Some(first) = kinds.first() else {
        return Ok(SqlType::Varchar);
    };
    if kinds.iter().all(|kind| kind == first) {
        return Ok(first.clone());
    }
    if kinds.contains(&SqlType::Varchar) {
        return Ok(SqlType::Varchar);
    }
    if kinds.iter().all(SqlType::is_numeric) {
        return Ok(
            if kinds
                .iter()
                .any(|kind| matches!(kind, SqlType::Double | SqlType::Float))
            {
                SqlType::Double
            } else {
                SqlType::Bigint
            },
        );
    }
    Err(SqlError::invalid(format!(
        "Cannot infer a common type of {}",
        kinds
            .iter()
            .map(SqlType::sql_name)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// `LOOKUP(expr, 'name' [, 'replaceMissingValueWith'])`: Druid's native `lookup`
/// expression over a registered lookup (the name and replacement must be literals).
fn lookup(scalars: &[Scalar]) -> Result<Scalar, SqlError> {
    let literal = |scalar: &Scalar| match scalar {
        Scalar::Literal(Lit::String(text)) => Ok(quote_string(text)),
        _ => Err(SqlError::invalid(
            "LOOKUP needs a string literal lookup name and replacement",
        )),
    };
    let key = match &scalars[0] {
        Scalar::Literal(Lit::Null) => "null".to_owned(),
        other if other.sql_type() == Some(SqlType::Varchar) => other.to_expr(),
        other => format!("cast({}, 'STRING')", other.to_expr()),
    };
    let mut args = vec![key, literal(&scalars[1])?];
    if let Some(replacement) = scalars.get(2) {
        args.push(literal(replacement)?);
    }
    Ok(Scalar::Expr(
        format!("lookup({})", args.join(",")),
        SqlType::Varchar,
    ))
}
