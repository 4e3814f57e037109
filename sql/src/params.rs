//! Dynamic parameters: the `?` placeholders of a query, bound in order to the request's
//! `parameters` (`[{"type": "VARCHAR", "value": "x"}, ...]`, Druid's `TypedValue`s).

use serde_json::Value;
use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer};

use crate::scalar::Lit;
use crate::SqlError;

/// The parameters of one query, keyed by where their `?` stands in the text.
pub struct Params {
    placeholders: Vec<Location>,
    values: Vec<Lit>,
}

impl Params {
    /// Reads the placeholders' positions from `sql` and the typed values from `parameters`.
    pub fn new(sql: &str, parameters: &[Value]) -> Result<Params, SqlError> {
        let tokens = Tokenizer::new(&GenericDialect {}, sql)
            .tokenize_with_location()
            .map_err(|error| SqlError::invalid(format!("Incorrect syntax: {error}")))?;
        let placeholders = tokens
            .iter()
            .filter(|token| matches!(&token.token, Token::Placeholder(text) if text == "?"))
            .map(|token| token.span.start)
            .collect();
        let values = parameters
            .iter()
            .enumerate()
            .map(|(index, parameter)| typed_value(index, parameter))
            .collect::<Result<_, _>>()?;
        Ok(Params {
            placeholders,
            values,
        })
    }

    /// The value bound to the `?` that starts at `at`.
    pub fn value_at(&self, at: Location) -> Result<Lit, SqlError> {
        let index = self
            .placeholders
            .iter()
            .position(|location| *location == at)
            .ok_or_else(|| SqlError::unsupported("this use of a dynamic parameter"))?;
        self.values.get(index).cloned().ok_or_else(|| {
            SqlError::invalid(format!(
                "No value bound for parameter (position [{}])",
                index + 1
            ))
        })
    }
}

/// One `{"type", "value"}` parameter as a literal of its SQL type.
fn typed_value(index: usize, parameter: &Value) -> Result<Lit, SqlError> {
    let bad = || {
        SqlError::invalid(format!(
            "Parameter [{}] must be an object with a SQL type and a value",
            index + 1
        ))
    };
    let kind = parameter
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_ascii_uppercase();
    let value = parameter.get("value").unwrap_or(&Value::Null);
    if value.is_null() {
        return Ok(Lit::Null);
    }
    let lit = match kind.as_str() {
        "VARCHAR" | "CHAR" => value.as_str().map(|text| Lit::String(text.to_owned())),
        "BIGINT" | "INTEGER" | "SMALLINT" | "TINYINT" => value
            .as_i64()
            .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
            .map(Lit::Long),
        "DOUBLE" | "FLOAT" | "REAL" | "DECIMAL" => value
            .as_f64()
            .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
            .map(Lit::Double),
        "BOOLEAN" => value.as_bool().map(Lit::Bool),
        "TIMESTAMP" | "DATE" => value
            .as_str()
            .and_then(henge_segment::time::parse_timestamp)
            .or_else(|| value.as_i64())
            .map(Lit::Timestamp),
        _ => None,
    };
    lit.ok_or_else(bad)
}
