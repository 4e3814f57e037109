//! Typed reads of query-context values with Druid's `QueryContexts` rules: numbers may come
//! as numbers or numeric strings, booleans as booleans or strings, and a value of the wrong
//! type is a `BadQueryContextException` (400 `Query context parse failed`) with Druid's
//! message. Also owns the context keys the engine itself reads (`bufferGrouperMaxSize`).

use serde_json::{Map, Value};

use crate::error::QueryError;

/// Druid's `GroupByQueryConfig.CTX_KEY_BUFFER_GROUPER_MAX_SIZE`: the most group rows one
/// groupBy may hold; a query can lower the server's limit, never raise it.
pub(crate) const BUFFER_GROUPER_MAX_SIZE: &str = "bufferGrouperMaxSize";

/// The context keys a subquery takes from its outer query when it lacks them: how the
/// query runs (caching, priority, timeout, lane, the subquery row limit), never what it
/// answers.
pub(crate) const INHERITED: &[&str] = &[
    "useCache",
    "populateCache",
    "priority",
    "timeout",
    "lane",
    "maxSubqueryRows",
];

/// The Java class Jackson would bind `value` to (named in Druid's bad-type messages).
fn java_class(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(number) if number.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) => {
            "java.lang.Integer"
        }
        Value::Number(number) if number.is_i64() || number.is_u64() => "java.lang.Long",
        Value::Number(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

fn bad_type(key: &str, expected: &str, value: &Value) -> QueryError {
    QueryError::bad_context(format!(
        "Expected key [{key}] to be {expected}, but got [{}]",
        java_class(value)
    ))
}

fn bad_value(key: &str, expected: &str, text: &str) -> QueryError {
    QueryError::bad_context(format!(
        "Expected key [{key}] to be {expected}, but got [{text}]"
    ))
}

/// Parses a decimal text the way Druid does: an integer, or a decimal with an exact integer
/// value (`"12.00"`).
fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(value) = text.parse::<i64>() {
        return Some(value);
    }
    let (whole, fraction) = text.split_once('.')?;
    if !fraction.chars().all(|digit| digit == '0') {
        return None;
    }
    whole.parse::<i64>().ok()
}

/// A long value (`QueryContexts.getAsLong`); `None` when absent or null.
pub(crate) fn long(context: &Map<String, Value>, key: &str) -> Result<Option<i64>, QueryError> {
    match context.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => Ok(number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64))),
        Some(Value::String(text)) => parse_integer(text)
            .map(Some)
            .ok_or_else(|| bad_value(key, "in long format", text)),
        Some(other) => Err(bad_type(key, "a Long", other)),
    }
}

/// An int value (`QueryContexts.getAsInt`); `None` when absent or null.
pub(crate) fn int(context: &Map<String, Value>, key: &str) -> Result<Option<i32>, QueryError> {
    match context.get(key) {
        None | Some(Value::Null) => Ok(None),
        // Java's Number.intValue() wraps; saturating is the kinder reading of huge limits.
        Some(Value::Number(number)) => Ok(number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64))
            .map(|value| value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)),
        Some(Value::String(text)) => parse_integer(text)
            .and_then(|value| i32::try_from(value).ok())
            .map(Some)
            .ok_or_else(|| bad_value(key, "in integer format", text)),
        Some(other) => Err(bad_type(key, "an Integer", other)),
    }
}

/// A boolean value (`QueryContexts.getAsBoolean`: any string other than `true` is false).
pub(crate) fn boolean(context: &Map<String, Value>, key: &str) -> Result<Option<bool>, QueryError> {
    match context.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(Value::String(text)) => Ok(Some(text.eq_ignore_ascii_case("true"))),
        Some(other) => Err(bad_type(key, "a Boolean", other)),
    }
}

/// A string value (`QueryContexts.getAsString`); `None` when absent or null.
pub(crate) fn string<'a>(
    context: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, QueryError> {
    match context.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(bad_type(key, "a String", other)),
    }
}

/// The group-row limit of a query: the context's `bufferGrouperMaxSize` when it is lower than
/// the server's `max_rows` (Druid lets a query lower this limit only).
pub(crate) fn group_rows_limit(
    context: &Map<String, Value>,
    max_rows: usize,
) -> Result<usize, QueryError> {
    Ok(match int(context, BUFFER_GROUPER_MAX_SIZE)? {
        Some(asked) => usize::try_from(asked).unwrap_or(0).min(max_rows),
        None => max_rows,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context(value: Value) -> Map<String, Value> {
        json!({ "key": value }).as_object().cloned().unwrap()
    }

    #[test]
    fn numbers_come_as_numbers_or_numeric_strings() {
        assert_eq!(long(&context(json!(1500)), "key"), Ok(Some(1500)));
        assert_eq!(long(&context(json!("1500")), "key"), Ok(Some(1500)));
        assert_eq!(long(&context(json!("12.00")), "key"), Ok(Some(12)));
        assert_eq!(long(&Map::new(), "key"), Ok(None));
        assert_eq!(int(&context(json!(" 7 ")), "key"), Ok(Some(7)));
        let text = long(&context(json!("soon")), "key").unwrap_err();
        assert_eq!(text.status, 400);
        assert_eq!(text.error, "Query context parse failed");
        assert_eq!(
            text.error_message,
            "Expected key [key] to be in long format, but got [soon]"
        );
        let flag = int(&context(json!(true)), "key").unwrap_err();
        assert_eq!(
            flag.error_message,
            "Expected key [key] to be an Integer, but got [java.lang.Boolean]"
        );
    }

    #[test]
    fn booleans_and_strings() {
        assert_eq!(boolean(&context(json!("TRUE")), "key"), Ok(Some(true)));
        assert_eq!(boolean(&context(json!("yes")), "key"), Ok(Some(false)));
        assert!(boolean(&context(json!(1)), "key").is_err());
        assert_eq!(string(&context(json!("q1")), "key"), Ok(Some("q1")));
        let number = string(&context(json!(5)), "key").unwrap_err();
        assert_eq!(
            number.error_message,
            "Expected key [key] to be a String, but got [java.lang.Integer]"
        );
    }

    #[test]
    fn the_context_only_lowers_the_group_limit() {
        let asked = |value: Value| {
            json!({ BUFFER_GROUPER_MAX_SIZE: value })
                .as_object()
                .cloned()
                .unwrap()
        };
        assert_eq!(group_rows_limit(&Map::new(), 100), Ok(100));
        assert_eq!(group_rows_limit(&asked(json!(10)), 100), Ok(10));
        assert_eq!(group_rows_limit(&asked(json!(1000)), 100), Ok(100));
        assert_eq!(group_rows_limit(&asked(json!(-1)), 100), Ok(0));
        assert!(group_rows_limit(&asked(json!("lots")), 100).is_err());
    }
}
