//! [`SqlError`]: why a SQL query could not be parsed, validated or planned, rendered as the
//! `DruidException` body Druid 28+ answers with (HTTP 400, `invalidInput`).

use serde_json::{json, Value};

/// A SQL query Henge rejects before running anything.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    /// Druid's `errorMessage`.
    pub message: String,
    /// 1-based line and column of the offending token, when the parser knows it.
    pub position: Option<(u64, u64)>,
}

impl SqlError {
    /// A validation error (unknown table or column, wrong types).
    pub fn invalid(message: impl Into<String>) -> SqlError {
        SqlError {
            message: message.into(),
            position: None,
        }
    }

    /// A valid query whose construct Henge does not plan yet (Druid's wording for a query it
    /// cannot plan).
    pub fn unsupported(what: impl std::fmt::Display) -> SqlError {
        SqlError::invalid(format!(
            "Query could not be planned. A possible reason is [{what}] is not supported yet"
        ))
    }

    /// A parse error from `sqlparser`, keeping the line and column it names.
    pub fn parse(error: &sqlparser::parser::ParserError) -> SqlError {
        let text = error.to_string();
        let position = parse_position(&text);
        let detail = text
            .strip_prefix("sql parser error: ")
            .unwrap_or(&text)
            .to_owned();
        SqlError {
            message: format!("Incorrect syntax: {detail}"),
            position,
        }
    }

    /// HTTP status of the answer.
    pub fn status(&self) -> u16 {
        400
    }

    /// Druid's SQL error body.
    pub fn to_json(&self) -> Value {
        let context = match self.position {
            Some((line, column)) => json!({
                "sourceType": "sql",
                "line": line.to_string(),
                "column": column.to_string(),
            }),
            None => json!({}),
        };
        json!({
            "error": "druidException",
            "errorCode": "invalidInput",
            "persona": "USER",
            "category": "INVALID_INPUT",
            "errorMessage": self.message,
            "context": context,
        })
    }
}

/// Reads `Line: L, Column: C` from a parser message.
fn parse_position(text: &str) -> Option<(u64, u64)> {
    let after_line = &text[text.find("Line: ")? + 6..];
    let line_end = after_line.find(',')?;
    let line = after_line[..line_end].trim().parse().ok()?;
    let after_column = &after_line[after_line.find("Column: ")? + 8..];
    let digits: String = after_column
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((line, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_is_read_from_the_parser_message() {
        assert_eq!(
            parse_position("Expected: an expression, found: FROM at Line: 1, Column: 8"),
            Some((1, 8))
        );
        assert_eq!(parse_position("no position"), None);
    }

    #[test]
    fn body_has_druid_shape() {
        let body = SqlError::invalid("Object 'x' not found").to_json();
        assert_eq!(body["error"], "druidException");
        assert_eq!(body["errorCode"], "invalidInput");
        assert_eq!(body["category"], "INVALID_INPUT");
        assert_eq!(body["persona"], "USER");
        assert_eq!(body["errorMessage"], "Object 'x' not found");
    }
}
