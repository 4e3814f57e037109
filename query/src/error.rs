//! [`QueryError`]: Druid's query error, with its HTTP status and the JSON body Druid sends
//! (`{"error","errorMessage","errorClass","host"}`).
//!
//! The codes and classes follow Druid's `QueryException` family:
//! - `Json parse failed` (400): `BadJsonQueryException`. Malformed JSON keeps Jackson's
//!   `JsonParseException` class. Since apache/druid#19775 and #20830, well-formed JSON that does
//!   not bind (unknown `queryType`/aggregator/filter type: `InvalidTypeIdException`; a field of
//!   the wrong type: `MismatchedInputException`; a failed constructor check:
//!   `ValueInstantiationException`, message prefixed `Invalid native query: `) is also a 400
//!   with this code; older Druid answered those with a 500 `Unknown exception`.
//! - `Query context parse failed` (400): `BadQueryContextException`.
//! - `Resource limit exceeded` (400): `ResourceLimitExceededException`.
//! - `Query timeout` (504): `QueryTimeoutException`.
//! - `Query cancelled` (500): a `QueryInterruptedException` around a `CancellationException`.
//! - `Unsupported query` (501): `QueryUnsupportedException`.
//! - `Unknown exception` (500): anything else.

use serde_json::{json, Value};

/// Druid's `QueryException.JSON_PARSE_ERROR_CODE`.
pub const JSON_PARSE_FAILED: &str = "Json parse failed";
/// Druid's `QueryException.BAD_QUERY_CONTEXT_ERROR_CODE`.
pub const BAD_QUERY_CONTEXT: &str = "Query context parse failed";
/// Druid's `QueryException.RESOURCE_LIMIT_EXCEEDED_ERROR_CODE`.
pub const RESOURCE_LIMIT_EXCEEDED: &str = "Resource limit exceeded";
/// Druid's `QueryException.QUERY_TIMEOUT_ERROR_CODE`.
pub const QUERY_TIMEOUT: &str = "Query timeout";
/// Druid's `QueryException.QUERY_CANCELED_ERROR_CODE` (spelled with two `l`s, as documented).
pub const QUERY_CANCELLED: &str = "Query cancelled";
/// Druid's `QueryUnsupportedException.ERROR_CODE`.
pub const UNSUPPORTED_QUERY: &str = "Unsupported query";
/// Druid's `QueryException.QUERY_CAPACITY_EXCEEDED_ERROR_CODE`.
pub const QUERY_CAPACITY_EXCEEDED: &str = "Query capacity exceeded";
/// Druid's `QueryException.UNKNOWN_EXCEPTION_ERROR_CODE`.
pub const UNKNOWN_EXCEPTION: &str = "Unknown exception";

/// Druid's `QueryTimeoutException.ERROR_MESSAGE`.
pub const TIMEOUT_MESSAGE: &str = "Query did not complete within configured timeout period. \
                                   You can increase query timeout or tune the performance of query.";

const JSON_PARSE_CLASS: &str = "com.fasterxml.jackson.core.JsonParseException";
const STREAM_CONSTRAINTS_CLASS: &str = "com.fasterxml.jackson.core.exc.StreamConstraintsException";
const INVALID_TYPE_ID_CLASS: &str = "com.fasterxml.jackson.databind.exc.InvalidTypeIdException";
const MISMATCHED_INPUT_CLASS: &str = "com.fasterxml.jackson.databind.exc.MismatchedInputException";
const VALUE_INSTANTIATION_CLASS: &str =
    "com.fasterxml.jackson.databind.exc.ValueInstantiationException";
const BAD_CONTEXT_CLASS: &str = "org.apache.druid.query.BadQueryContextException";
const RESOURCE_LIMIT_CLASS: &str = "org.apache.druid.query.ResourceLimitExceededException";
const TIMEOUT_CLASS: &str = "org.apache.druid.query.QueryTimeoutException";
const CANCELLATION_CLASS: &str = "java.util.concurrent.CancellationException";
const UNSUPPORTED_CLASS: &str = "org.apache.druid.query.QueryUnsupportedException";
const CAPACITY_CLASS: &str = "org.apache.druid.query.QueryCapacityExceededException";

/// A failed query: the HTTP status plus the fields of Druid's error body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {error_message} ({error_class})")]
pub struct QueryError {
    /// HTTP status code of the response.
    pub status: u16,
    /// Druid's error code, e.g. `Json parse failed`.
    pub error: String,
    /// Human-readable detail.
    pub error_message: String,
    /// The Java exception class Druid would name.
    pub error_class: String,
}

impl QueryError {
    fn new(status: u16, error: &str, error_message: String, error_class: &str) -> QueryError {
        QueryError {
            status,
            error: error.to_owned(),
            error_message,
            error_class: error_class.to_owned(),
        }
    }

    /// The body is not valid JSON (Jackson `JsonParseException`).
    pub fn json_parse(message: impl Into<String>) -> QueryError {
        QueryError::new(400, JSON_PARSE_FAILED, message.into(), JSON_PARSE_CLASS)
    }

    /// The body nests deeper than allowed (Jackson `StreamReadConstraints.maxNestingDepth`).
    pub fn nesting_too_deep(depth: usize, max_depth: usize) -> QueryError {
        let message = format!(
            "Document nesting depth ({depth}) exceeds the maximum allowed ({max_depth}, from \
             `StreamReadConstraints.getMaxNestingDepth()`)"
        );
        QueryError::new(400, JSON_PARSE_FAILED, message, STREAM_CONSTRAINTS_CLASS)
    }

    /// A polymorphic `type` (queryType, aggregator, filter...) that Druid does not know.
    pub fn unknown_type(type_id: &str, base_class: &str, known: &[&str]) -> QueryError {
        let message = format!(
            "Could not resolve type id '{type_id}' as a subtype of `{base_class}`: known type ids = [{}]",
            known.join(", ")
        );
        QueryError::new(400, JSON_PARSE_FAILED, message, INVALID_TYPE_ID_CLASS)
    }

    /// A polymorphic object without its type property.
    pub fn missing_type(property: &str, base_class: &str) -> QueryError {
        let message = format!(
            "Could not resolve subtype of [simple type, class {base_class}]: missing type id property '{property}'"
        );
        QueryError::new(400, JSON_PARSE_FAILED, message, INVALID_TYPE_ID_CLASS)
    }

    /// A field holding a JSON value of the wrong shape (Jackson `MismatchedInputException`).
    pub fn mismatched_input(message: impl Into<String>) -> QueryError {
        QueryError::new(
            400,
            JSON_PARSE_FAILED,
            message.into(),
            MISMATCHED_INPUT_CLASS,
        )
    }

    /// A query that parses but fails validation (a missing required field, an invalid value):
    /// Druid's constructor check surfacing as a `ValueInstantiationException`.
    pub fn invalid_query(message: impl AsRef<str>) -> QueryError {
        let message = format!("Invalid native query: {}", message.as_ref());
        QueryError::new(400, JSON_PARSE_FAILED, message, VALUE_INSTANTIATION_CLASS)
    }

    /// A query-context value of the wrong type.
    pub fn bad_context(message: impl Into<String>) -> QueryError {
        QueryError::new(400, BAD_QUERY_CONTEXT, message.into(), BAD_CONTEXT_CLASS)
    }

    /// A configured limit was exceeded (body size, `in` values, aggregators, result rows).
    pub fn resource_limit(message: impl Into<String>) -> QueryError {
        QueryError::new(
            400,
            RESOURCE_LIMIT_EXCEEDED,
            message.into(),
            RESOURCE_LIMIT_CLASS,
        )
    }

    /// The query ran past its deadline.
    pub fn timeout() -> QueryError {
        QueryError::new(
            504,
            QUERY_TIMEOUT,
            TIMEOUT_MESSAGE.to_owned(),
            TIMEOUT_CLASS,
        )
    }

    /// The query with id `query_id` ran past its deadline on some node; Druid's engines say
    /// `Query [id] timed out` (`ChainedExecutionQueryRunner`, the scan engine).
    pub fn timed_out(query_id: Option<&str>) -> QueryError {
        let message = match query_id {
            Some(id) => format!("Query [{id}] timed out"),
            None => "Query timed out".to_owned(),
        };
        QueryError::new(504, QUERY_TIMEOUT, message, TIMEOUT_CLASS)
    }

    /// The query was cancelled (`DELETE /druid/v2/{queryId}` or a client disconnect).
    pub fn cancelled(query_id: Option<&str>) -> QueryError {
        let message = match query_id {
            Some(id) => format!("Query [{id}] was cancelled"),
            None => "Query was cancelled".to_owned(),
        };
        QueryError::new(500, QUERY_CANCELLED, message, CANCELLATION_CLASS)
    }

    /// Too many queries are running (Druid's query laning and scheduler, HTTP 429).
    pub fn capacity_exceeded(message: impl Into<String>) -> QueryError {
        QueryError::new(429, QUERY_CAPACITY_EXCEEDED, message.into(), CAPACITY_CLASS)
    }

    /// A query Druid accepts but this engine does not run yet.
    pub fn unsupported(message: impl Into<String>) -> QueryError {
        QueryError::new(501, UNSUPPORTED_QUERY, message.into(), UNSUPPORTED_CLASS)
    }

    /// Any other failure, reported as Druid's `Unknown exception` (500).
    pub fn unknown(message: impl Into<String>, error_class: &str) -> QueryError {
        QueryError::new(500, UNKNOWN_EXCEPTION, message.into(), error_class)
    }

    /// An internal invariant broke (for example, partial results of different query types).
    pub(crate) fn internal(message: impl Into<String>) -> QueryError {
        QueryError::unknown(message, "java.lang.IllegalStateException")
    }

    /// Druid's error body. `host` is the node that failed, `null` when not known.
    pub fn to_json(&self, host: Option<&str>) -> Value {
        json!({
            "error": self.error,
            "errorMessage": self.error_message,
            "errorClass": self.error_class,
            "host": host,
        })
    }

    /// Reads an error body sent by another node, deriving the status from the error code the
    /// way Druid's `QueryException.fromErrorCode` does. `None` if `body` is not an error body.
    pub fn from_json(body: &Value) -> Option<QueryError> {
        let object = body.as_object()?;
        let error = object.get("error")?.as_str()?;
        let text = |key: &str| {
            object
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Some(QueryError {
            status: status_for_code(error),
            error: error.to_owned(),
            error_message: text("errorMessage"),
            error_class: text("errorClass"),
        })
    }
}

/// HTTP status for a Druid error code (`QueryException.FailType`).
fn status_for_code(code: &str) -> u16 {
    match code {
        JSON_PARSE_FAILED
        | RESOURCE_LIMIT_EXCEEDED
        | BAD_QUERY_CONTEXT
        | "SQL parse failed"
        | "Plan validation failed"
        | "SQL query is unsupported" => 400,
        "Unauthorized request" => 401,
        QUERY_CAPACITY_EXCEEDED => 429,
        UNSUPPORTED_QUERY => 501,
        QUERY_TIMEOUT => 504,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_druid_fields() {
        let error = QueryError::timeout();
        assert_eq!(error.status, 504);
        assert_eq!(
            error.to_json(Some("historical:8083")),
            json!({
                "error": "Query timeout",
                "errorMessage": TIMEOUT_MESSAGE,
                "errorClass": "org.apache.druid.query.QueryTimeoutException",
                "host": "historical:8083",
            })
        );
        assert_eq!(
            QueryError::json_parse("x").to_json(None)["host"],
            Value::Null
        );
    }

    #[test]
    fn error_body_round_trips_with_status() {
        for error in [
            QueryError::json_parse("bad"),
            QueryError::invalid_query("dataSource can't be null"),
            QueryError::resource_limit("too many"),
            QueryError::bad_context("grandTotal"),
            QueryError::timeout(),
            QueryError::cancelled(Some("q1")),
            QueryError::unsupported("search"),
            QueryError::capacity_exceeded("too many queries"),
            QueryError::unknown("boom", "java.lang.RuntimeException"),
        ] {
            let parsed = QueryError::from_json(&error.to_json(None)).expect("error body");
            assert_eq!(parsed, error);
        }
        assert_eq!(QueryError::from_json(&json!([1])), None);
    }
}
