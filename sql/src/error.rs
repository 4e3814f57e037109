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

    /// A parse error from `sqlparser`, keeping the line and column it names, in Druid's
    /// words: `Received an unexpected token [FROM] (line [1], column [8]), acceptable
    /// options: [...]` (Druid lists Calcite's expected tokens; Henge names what its parser
    /// expected).
    /// An unexpected end of input is placed just after the last character of `sql`.
    pub fn parse(error: &sqlparser::parser::ParserError, sql: &str) -> SqlError {
        let text = error.to_string();
        let position = parse_position(&text).or_else(|| {
            text.ends_with("found: EOF").then(|| {
                let line = sql.lines().count().max(1);
                let last = sql.lines().last().unwrap_or_default();
                (line as u64, last.chars().count() as u64 + 1)
            })
        });
        let detail = text
            .strip_prefix("sql parser error: ")
            .unwrap_or(&text)
            .to_owned();
        let message = match (unexpected_token(&detail), position) {
            (Some((token, expected)), Some((line, column))) => format!(
                "Received an unexpected token [{token}] (line [{line}], column [{column}]), \
                 acceptable options: [{expected}]"
            ),
            _ => format!("Incorrect syntax: {detail}"),
        };
        SqlError { message, position }
    }

    /// Druid's form of a validation error at a place in the SQL text: the message followed
    /// by ` (line [L], column [C])`. An error that already has a place keeps it.
    pub fn at(mut self, location: sqlparser::tokenizer::Location) -> SqlError {
        if self.position.is_none() && location.line > 0 {
            self.message = format!(
                "{} (line [{}], column [{}])",
                self.message, location.line, location.column
            );
            self.position = Some((location.line, location.column));
        }
        self
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

/// The unexpected token and what was expected instead, from `Expected: X, found: T at ...`.
fn unexpected_token(detail: &str) -> Option<(String, String)> {
    let rest = detail.strip_prefix("Expected: ")?;
    let (expected, found) = rest.split_once(", found: ")?;
    let token = found.split(" at Line: ").next().unwrap_or(found).trim();
    let token = if token == "EOF" { "<EOF>" } else { token };
    Some((token.to_owned(), expected.trim().to_owned()))
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
    fn parse_errors_name_the_token_and_place_as_druid_does() {
        let parse = |sql: &str| {
            let error =
                sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, sql)
                    .unwrap_err();
            SqlError::parse(&error, sql)
        };
        let error = parse("SELECT * FROM t WHERE a = = 1");
        assert_eq!(error.position, Some((1, 27)));
        assert_eq!(
            error.message,
            "Received an unexpected token [=] (line [1], column [27]), acceptable options: \
             [an expression]"
        );
        let body = error.to_json();
        assert_eq!(body["context"]["line"], "1");
        assert_eq!(body["context"]["column"], "27");
        let end = parse("SELECT COUNT(*)\nFROM t WHERE");
        assert_eq!(end.position, Some((2, 13)));
        assert!(end
            .message
            .starts_with("Received an unexpected token [<EOF>] (line [2], column [13])"));
    }

    #[test]
    fn validation_errors_carry_their_place() {
        let location = sqlparser::tokenizer::Location { line: 2, column: 5 };
        let error = SqlError::invalid("Object 'x' not found").at(location);
        assert_eq!(error.message, "Object 'x' not found (line [2], column [5])");
        assert_eq!(error.clone().at(location), error);
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
