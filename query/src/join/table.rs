//! [`Table`]: rows held in memory rather than in a segment: an `inline` data source, a
//! registered lookup read as a `lookup` data source (columns `k` and `v`), or the result of a
//! join's `query` right side once the broker has run it. A table is the right side of a join
//! (hashed on its key columns) or, for inline and lookup data sources, the whole input of a
//! query (turned into one segment with [`Table::to_segment`]).

use henge_segment::{ColumnSpec, ColumnType, Segment, SegmentBuilder, Value as Cell};
use serde_json::{json, Value};

use crate::error::QueryError;
use crate::lookup::LookupMap;
use crate::model::spec::TIME_COLUMN;

/// Columns with a type each, and rows of cells in column order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Table {
    pub(crate) columns: Vec<ColumnSpec>,
    pub(crate) rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A registered lookup as Druid's `LookupDataSource` shows it: string columns `k`, `v`.
    pub(crate) fn of_lookup(map: &LookupMap) -> Table {
        Table {
            columns: vec![
                ColumnSpec::dimension("k", ColumnType::String),
                ColumnSpec::dimension("v", ColumnType::String),
            ],
            rows: map
                .iter()
                .map(|(key, value)| vec![Cell::String(key.clone()), Cell::String(value.clone())])
                .collect(),
        }
    }

    /// `{"type": "inline", "columnNames": [...], "columnTypes": [...], "rows": [[...]]}`, or
    /// the newer `columnSignature: [{"name", "type"}]`. A column without a type is typed from
    /// its values (whole numbers LONG, other numbers DOUBLE, anything else STRING).
    pub(crate) fn parse_inline(object: &Value) -> Result<Table, QueryError> {
        let invalid = |message: String| QueryError::invalid_query(message);
        let mut names: Vec<String> = Vec::new();
        let mut types: Vec<Option<ColumnType>> = Vec::new();
        if let Some(signature) = object.get("columnSignature").filter(|v| !v.is_null()) {
            let entries = signature
                .as_array()
                .ok_or_else(|| invalid("'columnSignature' must be an array".into()))?;
            for entry in entries {
                let name = entry.get("name").and_then(Value::as_str);
                names.push(
                    name.ok_or_else(|| invalid("a column needs a name".into()))?
                        .into(),
                );
                types.push(column_type(entry.get("type"))?);
            }
        } else {
            let listed = object.get("columnNames").and_then(Value::as_array);
            for name in listed.ok_or_else(|| invalid("'columnNames' must be nonnull".into()))? {
                let name = name.as_str();
                names.push(
                    name.ok_or_else(|| invalid("column names are strings".into()))?
                        .into(),
                );
            }
            match object.get("columnTypes") {
                None | Some(Value::Null) => types = vec![None; names.len()],
                Some(Value::Array(listed)) if listed.len() == names.len() => {
                    for listed_type in listed {
                        types.push(column_type(Some(listed_type))?);
                    }
                }
                Some(_) => {
                    return Err(invalid(
                        "columnNames and columnTypes must be the same length".into(),
                    ))
                }
            }
        }
        let rows = object
            .get("rows")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("'rows' must be nonnull".into()))?;
        let mut parsed = Vec::with_capacity(rows.len());
        for row in rows {
            let cells = row
                .as_array()
                .filter(|cells| cells.len() == names.len())
                .ok_or_else(|| {
                    invalid(format!(
                        "every inline row must be an array of {} values",
                        names.len()
                    ))
                })?;
            parsed.push(cells.as_slice());
        }
        let inferred = infer_types(&names, &types, &parsed);
        Ok(Table::from_json_rows(inferred, &parsed))
    }

    /// A table from rows of JSON values in `columns`' order.
    pub(crate) fn from_json_rows(columns: Vec<ColumnSpec>, rows: &[&[Value]]) -> Table {
        let rows = rows
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .zip(row.iter())
                    .map(|(column, value)| cell(column.column_type, value))
                    .collect()
            })
            .collect();
        Table { columns, rows }
    }

    /// The table as Druid's inline data source JSON (what the broker broadcasts in place of
    /// a `query` right side).
    pub(crate) fn to_inline_json(&self) -> Value {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let types: Vec<&str> = self.columns.iter().map(|c| c.column_type.name()).collect();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| Value::Array(row.iter().map(cell_json).collect()))
            .collect();
        json!({"type": "inline", "columnNames": names, "columnTypes": types, "rows": rows})
    }

    /// Where column `name` is.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }

    /// The table as one segment, for a query that reads it whole: `__time` comes from a
    /// LONG `__time` column when there is one, else every row is at 0 (1970-01-01), as in
    /// Druid's row-based segments.
    pub(crate) fn to_segment(&self) -> Result<Segment, QueryError> {
        let time_at = self
            .position(TIME_COLUMN)
            .filter(|&at| self.columns[at].column_type == ColumnType::Long);
        let kept: Vec<usize> = (0..self.columns.len())
            .filter(|&at| Some(at) != time_at)
            .collect();
        let specs = kept.iter().map(|&at| self.columns[at].clone()).collect();
        let mut builder = SegmentBuilder::new(specs);
        for row in &self.rows {
            let time = match time_at.map(|at| &row[at]) {
                Some(Cell::Long(time)) => *time,
                _ => 0,
            };
            builder.push_row_with(time, |index| row[kept[index]].as_value_ref());
        }
        in_memory_segment(builder, "in-memory segment")
    }
}

/// The rows of `builder` as a segment held in memory; `what` names it in errors.
pub(crate) fn in_memory_segment(
    builder: SegmentBuilder,
    what: &str,
) -> Result<Segment, QueryError> {
    let mut bytes = Vec::new();
    builder
        .write(&mut bytes)
        .map_err(|error| QueryError::internal(format!("{what}: {error}")))?;
    Segment::from_vec(bytes).map_err(|error| QueryError::internal(format!("{what}: {error}")))
}

/// A listed column type: STRING, LONG, FLOAT/DOUBLE, or none (typed from the values).
fn column_type(value: Option<&Value>) -> Result<Option<ColumnType>, QueryError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => match name.to_ascii_uppercase().as_str() {
            "STRING" => Ok(Some(ColumnType::String)),
            "LONG" => Ok(Some(ColumnType::Long)),
            "FLOAT" | "DOUBLE" => Ok(Some(ColumnType::Double)),
            other => Err(QueryError::unsupported(format!(
                "inline column type [{other}] is not supported"
            ))),
        },
        Some(other) => Err(QueryError::invalid_query(format!(
            "a column type must be a string, not {other}"
        ))),
    }
}

/// Column specs, typing untyped columns from their non-null values. Strings are
/// dimensions, numbers metrics (as in a query data source's segment).
fn infer_types(
    names: &[String],
    types: &[Option<ColumnType>],
    rows: &[&[Value]],
) -> Vec<ColumnSpec> {
    names
        .iter()
        .zip(types)
        .enumerate()
        .map(|(at, (name, listed))| {
            let column_type = listed.unwrap_or_else(|| {
                rows.iter()
                    .filter_map(|row| match &row[at] {
                        Value::Null => None,
                        Value::Number(number) if number.is_i64() => Some(ColumnType::Long),
                        Value::Number(_) => Some(ColumnType::Double),
                        _ => Some(ColumnType::String),
                    })
                    .reduce(|seen, next| match (seen, next) {
                        (ColumnType::String, _) | (_, ColumnType::String) => ColumnType::String,
                        (ColumnType::Long, ColumnType::Long) => ColumnType::Long,
                        _ => ColumnType::Double,
                    })
                    .unwrap_or(ColumnType::String)
            });
            spec(name.clone(), column_type)
        })
        .collect()
}

/// A column spec: strings as dimensions, numbers as metrics.
pub(crate) fn spec(name: String, column_type: ColumnType) -> ColumnSpec {
    match column_type {
        ColumnType::String => ColumnSpec::dimension(name, column_type),
        _ => ColumnSpec::metric(name, column_type),
    }
}

/// A JSON value as a cell of a column of `column_type`.
fn cell(column_type: ColumnType, value: &Value) -> Cell {
    match (column_type, value) {
        (_, Value::Null) => Cell::Null,
        (ColumnType::Long, Value::Number(number)) => match number.as_i64() {
            Some(long) => Cell::Long(long),
            None => number
                .as_f64()
                .map_or(Cell::Null, |double| Cell::Long(double as i64)),
        },
        (ColumnType::Long, Value::String(text)) => {
            text.trim().parse().map_or(Cell::Null, Cell::Long)
        }
        (ColumnType::Double, Value::Number(number)) => {
            number.as_f64().map_or(Cell::Null, Cell::Double)
        }
        (ColumnType::Double, Value::String(text)) => {
            text.trim().parse().map_or(Cell::Null, Cell::Double)
        }
        (_, Value::String(text)) => Cell::String(text.clone()),
        (ColumnType::String, Value::Array(items)) => Cell::Strings(
            items
                .iter()
                .map(|item| match item {
                    Value::Null => None,
                    Value::String(text) => Some(text.clone()),
                    other => Some(other.to_string()),
                })
                .collect(),
        ),
        (_, other) => Cell::String(other.to_string()),
    }
}

/// A cell as JSON.
fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null | Cell::Bytes(_) => Value::Null,
        Cell::String(text) => Value::String(text.clone()),
        Cell::Long(long) => json!(long),
        Cell::Double(double) => json!(double),
        Cell::Strings(values) => json!(values),
    }
}
