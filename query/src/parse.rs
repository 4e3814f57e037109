//! From request bytes to a [`Query`]: size and nesting limits first (a scan over the bytes,
//! so hostile nesting never reaches a recursive parser), then JSON, then the query model.

use serde_json::Value;

use crate::error::QueryError;
use crate::lookup::Lookups;
use crate::model::Query;

/// Default of [`Limits::max_group_rows`].
pub const DEFAULT_MAX_GROUP_ROWS: usize = 1_000_000;

/// Guards applied while parsing a query, and the registered lookups it may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Deepest accepted nesting of JSON arrays and objects.
    pub max_depth: usize,
    /// Most values one `in` filter may list.
    pub max_in_values: usize,
    /// Most aggregators one query may declare.
    pub max_aggregators: usize,
    /// Longest accepted `like` or `regex` pattern, in characters.
    pub max_pattern_length: usize,
    /// Most group rows one groupBy holds in memory, per segment and per merge (Druid's
    /// `bufferGrouperMaxSize`; a query's context may lower it). Henge does not spill to
    /// disk: beyond it the query fails with `Resource limit exceeded`.
    pub max_group_rows: usize,
    /// Longest accepted expression (virtual columns, expression filters, aggregators and
    /// post-aggregators), in characters.
    pub max_expression_length: usize,
    /// Deepest accepted nesting of operators, parentheses and calls in one expression.
    pub max_expression_depth: usize,
    /// The registered lookups of this node: `registeredLookup` extraction functions,
    /// `lookup` dimension specs with a `name` and `lookup()` expressions resolve against
    /// them while the query is parsed (an unknown name fails the query).
    pub lookups: Lookups,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            // serde_json itself stops at 128 levels; stay below so our message is the one seen.
            max_depth: 100,
            max_in_values: 100_000,
            max_aggregators: 1_000,
            max_pattern_length: 10_000,
            max_group_rows: DEFAULT_MAX_GROUP_ROWS,
            max_expression_length: 100_000,
            max_expression_depth: 200,
            lookups: Lookups::default(),
        }
    }
}

impl Limits {
    /// Rejects a list of `len` values (an `in` filter, a lookup map, ...) longer than
    /// `max_in_values`; `what` names the list in the error, e.g. `in filter on [page]`.
    pub fn check_values(&self, what: &str, len: usize) -> Result<(), QueryError> {
        if len > self.max_in_values {
            return Err(QueryError::resource_limit(format!(
                "{what} has {len} values, more than the limit of {}",
                self.max_in_values
            )));
        }
        Ok(())
    }
}

/// Parses and validates a native query from a request body.
pub fn parse_query(body: &[u8], limits: &Limits) -> Result<Query, QueryError> {
    if body.len() > limits.max_body_bytes {
        return Err(QueryError::resource_limit(format!(
            "query body of {} bytes exceeds the limit of {} bytes",
            body.len(),
            limits.max_body_bytes
        )));
    }
    check_depth(body, limits.max_depth)?;
    let value: Value =
        serde_json::from_slice(body).map_err(|error| QueryError::json_parse(error.to_string()))?;
    Query::from_json(value, limits)
}

/// Fails on the first array or object nested deeper than `max_depth`, skipping strings.
fn check_depth(body: &[u8], max_depth: usize) -> Result<(), QueryError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(QueryError::nesting_too_deep(depth, max_depth));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Query, QueryError> {
        parse_query(body.as_bytes(), &Limits::default())
    }

    #[test]
    fn malformed_json_is_a_400_json_parse_error() {
        let error = parse(r#"{"queryType": "timeseries", "#).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.error, "Json parse failed");
        assert_eq!(
            error.error_class,
            "com.fasterxml.jackson.core.JsonParseException"
        );
    }

    #[test]
    fn unknown_types_are_400_json_parse_errors() {
        let unknown_query = parse(r#"{"queryType": "select2", "dataSource": "w"}"#).unwrap_err();
        let unknown_aggregator = parse(
            r#"{"queryType": "timeseries", "dataSource": "w", "intervals": "2015/2016",
                "granularity": "all", "aggregations": [{"type": "longSumm", "name": "a", "fieldName": "a"}]}"#,
        )
        .unwrap_err();
        let unknown_filter = parse(
            r#"{"queryType": "timeseries", "dataSource": "w", "intervals": "2015/2016",
                "granularity": "all", "filter": {"type": "selectorr", "dimension": "a", "value": "b"}}"#,
        )
        .unwrap_err();
        for error in [unknown_query, unknown_aggregator, unknown_filter] {
            assert_eq!(error.status, 400, "{error:?}");
            assert_eq!(error.error, "Json parse failed");
            assert_eq!(
                error.error_class,
                "com.fasterxml.jackson.databind.exc.InvalidTypeIdException"
            );
        }
    }

    #[test]
    fn deep_nesting_is_rejected_without_recursion() {
        let body = "[".repeat(100_000) + &"]".repeat(100_000);
        let error = parse_query(body.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!(error.status, 400);
        assert!(error.error_message.contains("nesting depth (101)"));
        let nested_objects = r#"{"a":"#.repeat(100_000);
        assert_eq!(parse(&nested_objects).unwrap_err().status, 400);
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let body = format!(
            r#"{{"queryType": "timeBoundary", "dataSource": "{}"}}"#,
            "[".repeat(500)
        );
        assert!(parse(&body).is_ok());
    }

    #[test]
    fn oversized_bodies_are_a_resource_limit() {
        let limits = Limits {
            max_body_bytes: 10,
            ..Limits::default()
        };
        let error = parse_query(br#"{"queryType": "timeBoundary"}"#, &limits).unwrap_err();
        assert_eq!(error.error, "Resource limit exceeded");
        assert_eq!(error.status, 400);
    }
}
