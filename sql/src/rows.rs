//! [`Planned::rows`]: a native answer to SQL rows, reading each shape's result layout and
//! converting values to their SQL types (TIMESTAMP as ISO text in the query's `sqlTimeZone`,
//! as Druid prints a Joda `DateTime` there; BIGINT as integers; BOOLEAN as true/false).

use henge_segment::time::{parse_timestamp, TimeZone};
use serde_json::{json, Value};

use crate::planner::{Shape, ROW_TIMESTAMP};
use crate::{Planned, SqlError, SqlType};

impl Planned {
    /// The rows of the SQL answer, each in the order of [`Planned::columns`].
    pub fn rows(&self, native_result: &Value) -> Result<Vec<Vec<Value>>, SqlError> {
        let items = native_result
            .as_array()
            .ok_or_else(|| SqlError::invalid("native query result is not an array"))?;
        let zone = self.native["context"]["sqlTimeZone"]
            .as_str()
            .and_then(TimeZone::parse)
            .unwrap_or_default();
        let mut rows = Vec::new();
        for item in items {
            match self.shape {
                Shape::Timeseries => rows.push(self.row(&item["result"], &item["timestamp"], zone)),
                Shape::TopN => {
                    for entry in item["result"].as_array().into_iter().flatten() {
                        rows.push(self.row(entry, &item["timestamp"], zone));
                    }
                }
                Shape::GroupBy => rows.push(self.row(&item["event"], &item["timestamp"], zone)),
                Shape::Scan => {
                    let names: Vec<&str> = item["columns"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    for event in item["events"].as_array().into_iter().flatten() {
                        let record: serde_json::Map<String, Value> = names
                            .iter()
                            .zip(event.as_array().into_iter().flatten())
                            .map(|(name, value)| ((*name).to_owned(), value.clone()))
                            .collect();
                        rows.push(self.row(&Value::Object(record), &Value::Null, zone));
                    }
                }
            }
        }
        Ok(rows)
    }

    fn row(&self, record: &Value, timestamp: &Value, zone: TimeZone) -> Vec<Value> {
        self.columns
            .iter()
            .map(|column| {
                let value = if column.field == ROW_TIMESTAMP {
                    timestamp
                } else {
                    record.get(&column.field).unwrap_or(&Value::Null)
                };
                convert(value, &column.sql_type, zone)
            })
            .collect()
    }
}

/// A native value as its SQL type.
fn convert(value: &Value, sql_type: &SqlType, zone: TimeZone) -> Value {
    match (sql_type, value) {
        (SqlType::Timestamp, Value::Number(number)) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64))
            .map(|ms| json!(zone.format_iso(ms)))
            .unwrap_or(Value::Null),
        (SqlType::Timestamp, Value::String(text)) => parse_timestamp(text)
            .map(|ms| json!(zone.format_iso(ms)))
            .unwrap_or_else(|| value.clone()),
        (SqlType::Boolean, Value::Number(number)) => {
            json!(number.as_f64().is_some_and(|value| value != 0.0))
        }
        (SqlType::Boolean, Value::String(text)) => json!(text == "true" || text == "1"),
        (SqlType::Bigint, Value::Number(number)) if number.as_i64().is_none() => number
            .as_f64()
            .filter(|float| float.is_finite())
            .map(|float| json!(float.trunc() as i64))
            .unwrap_or_else(|| value.clone()),
        (SqlType::Double | SqlType::Float, Value::Number(number)) => number
            .as_f64()
            .map(|float| json!(float))
            .unwrap_or_else(|| value.clone()),
        _ => value.clone(),
    }
}
