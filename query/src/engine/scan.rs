//! Scan on one segment: the selected rows, in time order (descending when asked), cut to
//! `offset + limit`. Without `columns`, every column is returned: `__time`, then the
//! dimensions, then the metrics (Druid's `ScanQueryEngine` order). A multi-value row is a
//! JSON array when it holds two or more values, a plain string for one, null for none.

use base64::prelude::{Engine, BASE64_STANDARD};
use henge_segment::{ColumnRef, ColumnRole, StringColumn};
use serde_json::Value;

use super::{SegmentView, BATCH_ROWS};
use crate::columns::Columns;
use crate::model::spec::{ScanOrder, ScanSpec, TIME_COLUMN};
use crate::partial::{ScanBatch, ScanPartial, ScanRow};

/// How one output column reads.
enum Reader<'a> {
    Time(&'a [i64]),
    Column(ColumnRef<'a>),
    Missing,
}

impl Reader<'_> {
    fn type_name(&self) -> Option<String> {
        match self {
            Reader::Time(_) => Some("LONG".to_owned()),
            Reader::Column(ColumnRef::String(_)) => Some("STRING".to_owned()),
            Reader::Column(ColumnRef::Long(_)) => Some("LONG".to_owned()),
            Reader::Column(ColumnRef::Double(_)) => Some("DOUBLE".to_owned()),
            Reader::Column(ColumnRef::Complex(column)) => {
                Some(column.kind().signature().to_owned())
            }
            Reader::Missing => None,
        }
    }

    fn value(&self, row: usize) -> Value {
        match self {
            Reader::Time(times) => Value::from(times[row]),
            Reader::Column(ColumnRef::String(column)) if column.is_multi_value() => {
                multi_value(column, row)
            }
            Reader::Column(ColumnRef::String(column)) => column
                .value(column.row_id(row))
                .map_or(Value::Null, |text| Value::String(text.to_owned())),
            Reader::Column(ColumnRef::Long(column)) if column.is_null(row) => Value::Null,
            Reader::Column(ColumnRef::Long(column)) => Value::from(column.values()[row]),
            Reader::Column(ColumnRef::Double(column)) if column.is_null(row) => Value::Null,
            Reader::Column(ColumnRef::Double(column)) => {
                serde_json::Number::from_f64(column.values()[row])
                    .map_or(Value::Null, Value::Number)
            }
            // A sketch prints as Druid prints one: the base64 of its bytes.
            Reader::Column(ColumnRef::Complex(column)) => {
                column.get(row).map_or(Value::Null, |bytes| {
                    Value::String(BASE64_STANDARD.encode(bytes))
                })
            }
            Reader::Missing => Value::Null,
        }
    }
}

/// A multi-value row as Druid's `DimensionSelector.rowToObject` gives it: null when empty,
/// a plain string for one value, an array of strings (nulls kept) for more.
fn multi_value(column: &StringColumn<'_>, row: usize) -> Value {
    let text = |id: u32| column.value(id).map_or(Value::Null, Value::from);
    let mut ids = column.row_ids(row);
    match ids.len() {
        0 => Value::Null,
        1 => ids.next().map_or(Value::Null, text),
        _ => Value::Array(ids.map(text).collect()),
    }
}

/// The columns of a scan without `columns`, as Druid lists them: `__time`, the query's
/// virtual columns, then the segment's dimensions and metrics (each name once).
fn all_columns(segment: &Columns<'_>) -> Vec<String> {
    let schema = segment.schema();
    let mut names: Vec<String> = std::iter::once(TIME_COLUMN.to_owned())
        .chain(segment.virtual_names().map(str::to_owned))
        .collect();
    let stored = schema
        .iter()
        .filter(|spec| spec.role == ColumnRole::Dimension)
        .chain(schema.iter().filter(|spec| spec.role == ColumnRole::Metric));
    for spec in stored {
        if !names.contains(&spec.name) {
            names.push(spec.name.clone());
        }
    }
    names
}

pub(crate) fn run(spec: &ScanSpec, view: &SegmentView<'_>, segment_id: &str) -> ScanPartial {
    let segment = view.segment;
    let columns = if spec.columns.is_empty() {
        all_columns(segment)
    } else {
        spec.columns.clone()
    };
    let readers: Vec<Reader<'_>> = columns
        .iter()
        .map(|name| match segment.column(name) {
            _ if name == TIME_COLUMN => Reader::Time(segment.times()),
            Some(column) => Reader::Column(column),
            None => Reader::Missing,
        })
        .collect();
    let budget = spec
        .row_budget()
        .and_then(|budget| usize::try_from(budget).ok())
        .unwrap_or(usize::MAX);
    let selected: Vec<usize> = if spec.order == ScanOrder::Descending {
        view.pieces
            .iter()
            .rev()
            .flat_map(|piece| view.selected_rows(piece.rows.clone()).rev())
            .take(budget)
            .collect()
    } else {
        view.pieces
            .iter()
            .flat_map(|piece| view.selected_rows(piece.rows.clone()))
            .take(budget)
            .collect()
    };
    if selected.is_empty() {
        return ScanPartial::default();
    }
    let times = segment.times();
    // Materializing rows is the slow part of a scan: poll for interruption once per batch.
    let rows = selected
        .into_iter()
        .enumerate()
        .take_while(|(index, _)| index % BATCH_ROWS != 0 || !view.interrupted())
        .map(|(_, row)| ScanRow {
            time: times[row],
            values: readers.iter().map(|reader| reader.value(row)).collect(),
        })
        .collect();
    ScanPartial {
        batches: vec![ScanBatch {
            segment_id: Some(segment_id.to_owned()),
            column_types: readers.iter().map(Reader::type_name).collect(),
            columns,
            rows,
        }],
    }
}
