//! Reading typed fields out of query JSON with Jackson-like leniency (numbers may come as
//! strings, strings as numbers) and Druid-like error messages.

use serde_json::{Map, Value};

use crate::error::QueryError;

/// A JSON object being read as one of Druid's Java classes (named in error messages).
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    class: &'static str,
}

impl<'a> Fields<'a> {
    /// Views `value` as an object of `class`, failing like Jackson on anything else.
    pub(crate) fn of(value: &'a Value, class: &'static str) -> Result<Fields<'a>, QueryError> {
        match value {
            Value::Object(map) => Ok(Fields { map, class }),
            other => Err(mismatch(class, other)),
        }
    }

    /// The raw value of `key`; JSON `null` counts as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    pub(crate) fn class(&self) -> &'static str {
        self.class
    }

    /// A string field. Numbers and booleans are coerced to their text, as Jackson does.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, QueryError> {
        self.get(key)
            .map(|value| scalar_string(value, key))
            .transpose()
    }

    /// A required string field; `missing` is the message Druid's constructor check uses.
    pub(crate) fn required_string(&self, key: &str, missing: &str) -> Result<String, QueryError> {
        self.string(key)?
            .ok_or_else(|| QueryError::invalid_query(missing))
    }

    /// A boolean field (`true`, `false`, or their strings).
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, QueryError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        match value {
            Value::Bool(flag) => Ok(Some(*flag)),
            Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
            other => Err(QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `boolean` from {} (property '{key}')",
                describe(other)
            ))),
        }
    }

    /// A non-negative integer field (integers, or their strings).
    pub(crate) fn u64(&self, key: &str) -> Result<Option<u64>, QueryError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(number) => u64::try_from(number).map(Some).map_err(|_| {
                QueryError::invalid_query(format!("{key}[{number}] must be non-negative"))
            }),
            None => Err(QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `long` from {} (property '{key}')",
                describe(value)
            ))),
        }
    }

    /// An array field; absent or `null` gives an empty slice.
    pub(crate) fn array(&self, key: &str) -> Result<&'a [Value], QueryError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `java.util.ArrayList` from {} (property '{key}')",
                describe(other)
            ))),
        }
    }
}

/// The text of a scalar the way Jackson coerces it into a `String`.
pub(crate) fn scalar_string(value: &Value, key: &str) -> Result<String, QueryError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(QueryError::mismatched_input(format!(
            "Cannot deserialize value of type `java.lang.String` from {} (property '{key}')",
            describe(other)
        ))),
    }
}

/// The `type` discriminator of a polymorphic object (`None` when the property is missing).
pub(crate) fn type_id<'v>(value: &'v Value, property: &str) -> Option<&'v str> {
    value.get(property).and_then(Value::as_str)
}

/// Jackson's message for a value that cannot become an object of `class`.
pub(crate) fn mismatch(class: &str, value: &Value) -> QueryError {
    QueryError::mismatched_input(format!(
        "Cannot construct instance of `{class}` from {}",
        describe(value)
    ))
}

/// How Jackson names the token it found, e.g. `Array value (token `JsonToken.START_ARRAY`)`.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null value (token `JsonToken.VALUE_NULL`)",
        Value::Bool(_) => "Boolean value (token `JsonToken.VALUE_TRUE`)",
        Value::Number(_) => "Number value (token `JsonToken.VALUE_NUMBER_INT`)",
        Value::String(_) => "String value (token `JsonToken.VALUE_STRING`)",
        Value::Array(_) => "Array value (token `JsonToken.START_ARRAY`)",
        Value::Object(_) => "Object value (token `JsonToken.START_OBJECT`)",
    }
}
