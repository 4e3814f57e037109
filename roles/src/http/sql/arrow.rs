//! The `arrow` result format, a Henge extension Druid lacks: the answer as one Arrow IPC
//! stream (`application/vnd.apache.arrow.stream`) with one nullable field per SQL column
//! (BIGINT → Int64, DOUBLE → Float64, FLOAT → Float32, VARCHAR → Utf8, TIMESTAMP →
//! Timestamp(ms, "UTC"), BOOLEAN → Boolean, other types → Utf8 of their JSON text), each
//! field's metadata holding its `sqlType`, then one record batch of all rows (none when the
//! answer is empty).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use henge_segment::time::parse_timestamp;
use henge_sql::{OutputColumn, SqlType};
use serde_json::Value;

/// The content type of an Arrow IPC stream.
pub const CONTENT_TYPE: &str = "application/vnd.apache.arrow.stream";

/// The Arrow IPC stream of `rows` (each row holds one value per column, in order).
pub fn stream(columns: &[OutputColumn], rows: &[Vec<Value>]) -> Result<Vec<u8>, ArrowError> {
    let columns: Vec<(&str, &SqlType)> = columns
        .iter()
        .map(|column| (column.name.as_str(), &column.sql_type))
        .collect();
    typed_stream(&columns, rows)
}

/// The Arrow IPC stream of `rows` under columns given by name and SQL type.
fn typed_stream(columns: &[(&str, &SqlType)], rows: &[Vec<Value>]) -> Result<Vec<u8>, ArrowError> {
    let schema = Arc::new(schema(columns));
    let mut body = Vec::new();
    let mut writer = StreamWriter::try_new(&mut body, &schema)?;
    if !rows.is_empty() {
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .enumerate()
            .map(|(index, (_, sql_type))| array(sql_type, rows.iter().map(|row| row.get(index))))
            .collect();
        writer.write(&RecordBatch::try_new(schema.clone(), arrays)?)?;
    }
    writer.finish()?;
    drop(writer);
    Ok(body)
}

fn schema(columns: &[(&str, &SqlType)]) -> Schema {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, sql_type)| {
            Field::new(*name, data_type(sql_type), true)
                .with_metadata(HashMap::from([("sqlType".to_owned(), sql_type.sql_name())]))
        })
        .collect();
    Schema::new(fields)
}

fn data_type(sql_type: &SqlType) -> DataType {
    match sql_type {
        SqlType::Bigint => DataType::Int64,
        SqlType::Double => DataType::Float64,
        SqlType::Float => DataType::Float32,
        SqlType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        SqlType::Boolean => DataType::Boolean,
        SqlType::Varchar | SqlType::Complex(_) => DataType::Utf8,
    }
}

/// One column's values as an array of the column's Arrow type; a value that does not convert
/// (a null, or text where a number belongs) is null.
fn array<'a>(sql_type: &SqlType, values: impl Iterator<Item = Option<&'a Value>>) -> ArrayRef {
    match sql_type {
        SqlType::Bigint => Arc::new(
            values
                .map(|value| value.and_then(long))
                .collect::<Int64Array>(),
        ),
        SqlType::Double => Arc::new(
            values
                .map(|value| value.and_then(Value::as_f64))
                .collect::<Float64Array>(),
        ),
        SqlType::Float => Arc::new(
            values
                .map(|value| value.and_then(Value::as_f64).map(|number| number as f32))
                .collect::<Float32Array>(),
        ),
        SqlType::Timestamp => Arc::new(
            values
                .map(|value| value.and_then(millis))
                .collect::<TimestampMillisecondArray>()
                .with_timezone("UTC"),
        ),
        SqlType::Boolean => Arc::new(
            values
                .map(|value| value.and_then(boolean))
                .collect::<BooleanArray>(),
        ),
        SqlType::Varchar => Arc::new(
            values
                .map(|value| value.and_then(text))
                .collect::<StringArray>(),
        ),
        SqlType::Complex(_) => Arc::new(
            values
                .map(|value| value.filter(|value| !value.is_null()).map(Value::to_string))
                .collect::<StringArray>(),
        ),
    }
}

fn long(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64)),
        Value::Bool(flag) => Some(i64::from(*flag)),
        _ => None,
    }
}

/// Milliseconds since the epoch of a TIMESTAMP value (ISO text in rows, or a number).
fn millis(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => parse_timestamp(text),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => number.as_f64().map(|number| number != 0.0),
        _ => None,
    }
}

/// VARCHAR text: strings as they are, other scalars as their JSON text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type, Int64Type, TimestampMillisecondType};
    use arrow_ipc::reader::StreamReader;
    use serde_json::json;

    fn read(bytes: &[u8]) -> (Arc<Schema>, Vec<RecordBatch>) {
        let reader = StreamReader::try_new(bytes, None).unwrap();
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
        (schema, batches)
    }

    #[test]
    fn round_trips_every_sql_type_with_nulls() {
        let sketch = SqlType::Complex("hyperUnique".into());
        let columns = [
            ("__time", &SqlType::Timestamp),
            ("page", &SqlType::Varchar),
            ("added", &SqlType::Bigint),
            ("delta", &SqlType::Double),
            ("ratio", &SqlType::Float),
            ("flag", &SqlType::Boolean),
            ("sketch", &sketch),
        ];
        let rows = vec![
            vec![
                json!("2015-09-12T01:02:03.004Z"),
                json!("Main Page"),
                json!(-7),
                json!(1.5),
                json!(0.25),
                json!(true),
                json!({"a": 1}),
            ],
            vec![Value::Null; 7],
        ];
        let bytes = typed_stream(&columns, &rows).unwrap();
        let (schema, batches) = read(&bytes);
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(
            types,
            [
                &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                &DataType::Utf8,
                &DataType::Int64,
                &DataType::Float64,
                &DataType::Float32,
                &DataType::Boolean,
                &DataType::Utf8,
            ]
        );
        assert!(schema.fields().iter().all(|field| field.is_nullable()));
        assert_eq!(schema.field(2).name(), "added");
        assert_eq!(schema.field(2).metadata()["sqlType"], "BIGINT");
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        assert_eq!(batch.num_rows(), 2);
        // 2015-09-12T01:02:03.004Z: 16690 days and 3723.004 s after the epoch.
        let time = batch.column(0).as_primitive::<TimestampMillisecondType>();
        assert_eq!(time.value(0), 16_690 * 86_400_000 + 3_723_004);
        assert_eq!(batch.column(1).as_string::<i32>().value(0), "Main Page");
        assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(0), -7);
        assert_eq!(batch.column(3).as_primitive::<Float64Type>().value(0), 1.5);
        assert_eq!(batch.column(4).as_primitive::<Float32Type>().value(0), 0.25);
        assert!(batch.column(5).as_boolean().value(0));
        assert_eq!(batch.column(6).as_string::<i32>().value(0), "{\"a\":1}");
        for index in 0..7 {
            assert!(batch.column(index).is_null(1), "column {index} row 1");
        }
    }

    #[test]
    fn empty_answer_is_a_schema_without_batches() {
        let (schema, batches) = read(&typed_stream(&[("c", &SqlType::Bigint)], &[]).unwrap());
        assert_eq!(schema.fields().len(), 1);
        assert!(batches.is_empty());
    }
}
