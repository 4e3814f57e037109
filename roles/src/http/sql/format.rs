//! Druid SQL result formats (`ResultFormat`): `object` and `array` (a JSON array, then a
//! newline), `objectLines` and `arrayLines` (one JSON value per line, then a blank line) and
//! `csv` (RFC 4180 quoting only where needed, nulls as empty fields, then a blank line), each
//! optionally starting with header rows of names, native types and SQL types; and Henge's
//! `arrow` (an Arrow IPC stream, in `arrow`).

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use henge_sql::{OutputColumn, SqlError};
use serde_json::{json, Map, Value};

use super::arrow;

/// A requested result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text(Text),
    Arrow,
}

/// Druid's text result formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Object,
    Array,
    ObjectLines,
    ArrayLines,
    Csv,
}

impl Format {
    pub fn parse(name: &str) -> Result<Format, SqlError> {
        Ok(Format::Text(match name {
            "object" => Text::Object,
            "array" => Text::Array,
            "objectLines" | "objectlines" => Text::ObjectLines,
            "arrayLines" | "arraylines" => Text::ArrayLines,
            "csv" => Text::Csv,
            "arrow" => return Ok(Format::Arrow),
            other => {
                return Err(SqlError::invalid(format!(
                    "Unknown resultFormat [{other}]; expected one of object, array, objectLines, arrayLines, csv, arrow"
                )))
            }
        }))
    }
}

/// Which header rows the client asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Header {
    pub names: bool,
    pub types: bool,
    pub sql_types: bool,
}

/// The whole response for `rows`. The `arrow` format carries names and types in its schema
/// and ignores the header flags.
pub fn respond(
    format: Format,
    header: Header,
    columns: &[OutputColumn],
    rows: &[Vec<Value>],
) -> Response {
    let format = match format {
        Format::Text(text) => text,
        Format::Arrow => {
            return match arrow::stream(columns, rows) {
                Ok(body) => {
                    (StatusCode::OK, [(CONTENT_TYPE, arrow::CONTENT_TYPE)], body).into_response()
                }
                Err(error) => crate::http::json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({
                        "error": "Unknown exception",
                        "errorMessage": format!("cannot write the Arrow stream: {error}"),
                        "errorClass": "java.lang.IllegalStateException",
                    }),
                    false,
                ),
            }
        }
    };
    let body = render(format, header, columns, rows);
    let content_type = match format {
        Text::Object | Text::Array => "application/json",
        Text::ObjectLines | Text::ArrayLines => "text/plain",
        Text::Csv => "text/csv",
    };
    let mut response = (StatusCode::OK, [(CONTENT_TYPE, content_type)], body).into_response();
    if header.names {
        response.headers_mut().insert(
            "X-Druid-SQL-Header-Included",
            "yes".parse().expect("static header"),
        );
    }
    response
}

/// The response body.
pub fn render(
    format: Text,
    header: Header,
    columns: &[OutputColumn],
    rows: &[Vec<Value>],
) -> String {
    let mut lines: Vec<String> = Vec::new();
    match format {
        Text::Object | Text::ObjectLines => {
            if header.names {
                lines.push(Value::Object(object_header(header, columns)).to_string());
            }
            for row in rows {
                let object: Map<String, Value> = columns
                    .iter()
                    .zip(row)
                    .map(|(column, value)| (column.name.clone(), value.clone()))
                    .collect();
                lines.push(Value::Object(object).to_string());
            }
        }
        Text::Array | Text::ArrayLines => {
            for header_row in header_rows(header, columns) {
                lines.push(Value::from(header_row).to_string());
            }
            for row in rows {
                lines.push(Value::from(row.clone()).to_string());
            }
        }
        Text::Csv => {
            for header_row in header_rows(header, columns) {
                lines.push(csv_line(&header_row));
            }
            for row in rows {
                let fields: Vec<String> = row.iter().map(csv_field).collect();
                lines.push(if fields.len() == 1 && fields[0].is_empty() {
                    "\"\"".to_owned()
                } else {
                    csv_line(&fields)
                });
            }
        }
    }
    match format {
        Text::Object | Text::Array => format!("[{}]\n", lines.join(",")),
        Text::ObjectLines | Text::ArrayLines | Text::Csv => {
            let mut text: String = lines.iter().map(|line| format!("{line}\n")).collect();
            text.push('\n');
            text
        }
    }
}

fn object_header(header: Header, columns: &[OutputColumn]) -> Map<String, Value> {
    columns
        .iter()
        .map(|column| {
            let value = if header.types || header.sql_types {
                let mut types = Map::new();
                if header.types {
                    types.insert("type".into(), Value::from(column.sql_type.native_name()));
                }
                if header.sql_types {
                    types.insert("sqlType".into(), Value::from(column.sql_type.sql_name()));
                }
                Value::Object(types)
            } else {
                Value::Null
            };
            (column.name.clone(), value)
        })
        .collect()
}

/// Header rows of the array and csv formats: names, then native types, then SQL types.
fn header_rows(header: Header, columns: &[OutputColumn]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if header.names {
        rows.push(columns.iter().map(|column| column.name.clone()).collect());
        if header.types {
            rows.push(
                columns
                    .iter()
                    .map(|column| column.sql_type.native_name())
                    .collect(),
            );
        }
        if header.sql_types {
            rows.push(
                columns
                    .iter()
                    .map(|column| column.sql_type.sql_name())
                    .collect(),
            );
        }
    }
    rows
}

fn csv_line(fields: &[String]) -> String {
    fields
        .iter()
        .map(|field| {
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A value as Java's `toString` prints it (doubles like `12.0`, `1.5E7`).
fn csv_field(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Number(number) if number.is_f64() => {
            java_double(number.as_f64().unwrap_or_default())
        }
        other => other.to_string(),
    }
}

fn java_double(value: f64) -> String {
    if value == 0.0 || (1e-3..1e7).contains(&value.abs()) {
        return format!("{value:?}");
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use henge_sql::{plan, MapCatalog, SqlType};
    use serde_json::json;

    fn columns() -> Vec<OutputColumn> {
        let mut catalog = MapCatalog::default();
        catalog.insert(
            "t",
            vec![
                ("page".into(), SqlType::Varchar),
                ("added".into(), SqlType::Bigint),
            ],
        );
        plan("SELECT page, added FROM t", &[], &Map::new(), &catalog)
            .unwrap()
            .columns
    }

    fn rows() -> Vec<Vec<Value>> {
        vec![
            vec![json!("a,\"b\""), json!(1)],
            vec![Value::Null, json!(2)],
        ]
    }

    #[test]
    fn json_formats_frame_like_druid() {
        let none = Header::default();
        assert_eq!(
            render(Text::Object, none, &columns(), &rows()),
            "[{\"page\":\"a,\\\"b\\\"\",\"added\":1},{\"page\":null,\"added\":2}]\n"
        );
        assert_eq!(
            render(Text::ArrayLines, none, &columns(), &rows()),
            "[\"a,\\\"b\\\"\",1]\n[null,2]\n\n"
        );
        assert_eq!(render(Text::ObjectLines, none, &columns(), &[]), "\n");
        let all = Header {
            names: true,
            types: true,
            sql_types: true,
        };
        assert_eq!(
            render(Text::Object, all, &columns(), &[]),
            "[{\"page\":{\"type\":\"STRING\",\"sqlType\":\"VARCHAR\"},\"added\":{\"type\":\"LONG\",\"sqlType\":\"BIGINT\"}}]\n"
        );
        assert_eq!(
            render(
                Text::Array,
                Header {
                    names: true,
                    ..none
                },
                &columns(),
                &[]
            ),
            "[[\"page\",\"added\"]]\n"
        );
    }

    #[test]
    fn csv_quotes_only_where_needed_and_ends_with_a_blank_line() {
        let header = Header {
            names: true,
            types: false,
            sql_types: true,
        };
        assert_eq!(
            render(Text::Csv, header, &columns(), &rows()),
            "page,added\nVARCHAR,BIGINT\n\"a,\"\"b\"\"\",1\n,2\n\n"
        );
        assert_eq!(java_double(12.0), "12.0");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(15_000_000.0), "1.5E7");
        assert_eq!(java_double(10_000_000.0), "1.0E7");
    }
}
