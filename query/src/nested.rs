//! Queries over a query data source (`{"type": "query", "query": {...}}`): the inner query's
//! finalized result becomes one in-memory segment, and the outer query runs on it with the
//! ordinary engine, as Druid's broker runs the outer query over the inner result rows.
//!
//! Result rows map to segment rows as Druid's `toResultArray` does per inner type: groupBy
//! events, timeseries results (not the grandTotal row), topN entries (one row per entry) and
//! scan events (`list` or `compactedList`); each row is stamped with its result timestamp (a scan row with its `__time`).
//! Columns are typed from their values: whole numbers LONG, other numbers DOUBLE, everything
//! else STRING (booleans and arrays as their JSON text). The inner query's dimensions, and
//! string columns, are dimensions; other numeric columns are metrics.

use std::borrow::Cow;

use henge_segment::time::parse_timestamp;
use henge_segment::{ColumnSpec, ColumnType, Segment, SegmentBuilder, Value as Cell, ValueRef};
use serde_json::{Map, Value};

use crate::error::QueryError;
use crate::finalize::{finished_table, ResultTable};
use crate::join::{in_memory_segment, Table};
use crate::model::spec::{QueryKind, TIME_COLUMN};
use crate::model::Query;
use crate::partial::PartialResult;
use crate::{finalize, merge, run_on_segment};

/// Druid's default `maxSubqueryRows`: inner results larger than this fail the query.
pub const DEFAULT_MAX_SUBQUERY_ROWS: usize = 100_000;

/// Runs `outer` over `inner_result`, the finalized response of `outer.inner_query()`.
pub fn run_over_result(outer: &Query, inner_result: &Value) -> Result<Value, QueryError> {
    let inner = inner_of(outer)?;
    let rows = result_rows(inner, inner_result)?;
    check_rows(rows.len(), max_subquery_rows(outer))?;
    run_over_table(outer, inner, positional(rows), &OuterReads::of(outer))
}

/// Runs `outer` over `inner_merged`, the merged (not yet finalized) partial result of
/// `outer.inner_query()`, a groupBy: its finished rows reach the outer query as a table,
/// without being printed as JSON events and read back. The answer is the same as
/// [`run_over_result`]'s over the finalized response.
pub fn run_over_partial(outer: &Query, inner_merged: PartialResult) -> Result<Value, QueryError> {
    let inner = inner_of(outer)?;
    let reads = OuterReads::of(outer);
    let table = finished_table(inner, inner_merged, &|name| reads.column(name))?;
    check_rows(table.rows.len(), max_subquery_rows(outer))?;
    run_over_table(outer, inner, table, &reads)
}

fn inner_of(outer: &Query) -> Result<&Query, QueryError> {
    outer
        .inner_query()
        .ok_or_else(|| QueryError::internal("the query has no inner query"))
}

fn run_over_table(
    outer: &Query,
    inner: &Query,
    table: ResultTable,
    reads: &OuterReads,
) -> Result<Value, QueryError> {
    let segment = build_segment(inner, table, |name| reads.column(name))?;
    let segment_id = format!("{}_subquery", outer.datasource());
    let partial = run_on_segment(outer, &segment, &segment_id)?;
    finalize(outer, merge(outer, vec![partial])?)
}

/// `maxSubqueryRows` from the query's context (Druid's default when absent).
pub(crate) fn max_subquery_rows(query: &Query) -> usize {
    match query.context().get("maxSubqueryRows") {
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|rows| usize::try_from(rows).ok())
            .unwrap_or(DEFAULT_MAX_SUBQUERY_ROWS),
        _ => DEFAULT_MAX_SUBQUERY_ROWS,
    }
}

/// Runs a query whose data source is an inline or lookup table (see [`Query::is_local`])
/// over that table, joins included.
pub fn run_local(query: &Query) -> Result<Value, QueryError> {
    let Some(table) = query.local_table() else {
        return Err(QueryError::internal(
            "the query reads no inline or lookup table",
        ));
    };
    let segment = table.to_segment()?;
    let segment_id = format!("{}_local", query.datasource());
    let partial = run_on_segment(query, &segment, &segment_id)?;
    finalize(query, merge(query, vec![partial])?)
}

/// One inner result row: its timestamp and its columns (built for `compactedList` scan rows).
type ResultRow<'r> = (i64, Cow<'r, Map<String, Value>>);

/// The inner result as rows.
fn result_rows<'r>(inner: &Query, result: &'r Value) -> Result<Vec<ResultRow<'r>>, QueryError> {
    let unexpected = || {
        QueryError::internal(format!(
            "unexpected {} result shape in a subquery",
            inner.query_type()
        ))
    };
    let entries = result.as_array().ok_or_else(unexpected)?;
    // Result rows mostly share their timestamp text: each distinct text is parsed once.
    let parsed: std::cell::RefCell<Option<(&str, Option<i64>)>> = std::cell::RefCell::new(None);
    let stamp = |entry: &'r Value| {
        let text = entry.get("timestamp").and_then(Value::as_str)?;
        let mut last = parsed.borrow_mut();
        match *last {
            Some((known, time)) if known == text => time,
            _ => {
                let time = parse_timestamp(text);
                *last = Some((text, time));
                time
            }
        }
    };
    let mut rows = Vec::new();
    for entry in entries {
        match &inner.kind {
            QueryKind::GroupBy(_) => {
                let event = entry.get("event").and_then(Value::as_object);
                rows.push((
                    stamp(entry).ok_or_else(unexpected)?,
                    Cow::Borrowed(event.ok_or_else(unexpected)?),
                ));
            }
            QueryKind::Timeseries(_) => {
                // The grandTotal row has a null timestamp and is not part of the table.
                if let (Some(time), Some(values)) =
                    (stamp(entry), entry.get("result").and_then(Value::as_object))
                {
                    rows.push((time, Cow::Borrowed(values)));
                }
            }
            QueryKind::TopN(_) => {
                let time = stamp(entry).ok_or_else(unexpected)?;
                let ranked = entry.get("result").and_then(Value::as_array);
                for item in ranked.ok_or_else(unexpected)? {
                    rows.push((
                        time,
                        Cow::Borrowed(item.as_object().ok_or_else(unexpected)?),
                    ));
                }
            }
            QueryKind::Scan(_) => {
                let events = entry.get("events").and_then(Value::as_array);
                let names = entry.get("columns").and_then(Value::as_array);
                for event in events.ok_or_else(unexpected)? {
                    let event = match (event, names) {
                        (Value::Object(event), _) => Cow::Borrowed(event),
                        // compactedList: values in the order of the batch's `columns`.
                        (Value::Array(values), Some(names)) => Cow::Owned(
                            names
                                .iter()
                                .zip(values)
                                .filter_map(|(name, value)| {
                                    Some((name.as_str()?.to_owned(), value.clone()))
                                })
                                .collect(),
                        ),
                        _ => return Err(unexpected()),
                    };
                    let time = event.get(TIME_COLUMN).and_then(Value::as_i64).unwrap_or(0);
                    rows.push((time, event));
                }
            }
            _ => {
                return Err(QueryError::unsupported(format!(
                    "a {} query as a query data source is not supported",
                    inner.query_type()
                )))
            }
        }
    }
    Ok(rows)
}

/// Map-shaped result rows as a table: columns in first-seen order (`__time` left out), a
/// null where a row lacks one.
fn positional(rows: Vec<ResultRow<'_>>) -> ResultTable {
    let mut names: Vec<String> = Vec::new();
    for (_, row) in &rows {
        for name in row.keys() {
            if name != TIME_COLUMN && !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    let rows = rows
        .into_iter()
        .map(|(time, row)| {
            let values = names
                .iter()
                .map(|name| row.get(name).cloned().unwrap_or(Value::Null))
                .collect();
            (time, values)
        })
        .collect();
    ResultTable { names, rows }
}

/// The table's columns (for a groupBy in its row signature's order: dimensions, aggregators,
/// post-aggregators, since its events print in Java `HashMap` order), each typed from its
/// non-null values, with the index of its values in the table's rows.
fn schema(inner: &Query, table: &ResultTable) -> Vec<(ColumnSpec, usize)> {
    let mut types: Vec<Option<ColumnType>> = vec![None; table.names.len()];
    for (_, values) in &table.rows {
        for (slot, value) in types.iter_mut().zip(values) {
            let observed = match value {
                Value::Null => continue,
                Value::Number(number) if number.is_i64() => ColumnType::Long,
                Value::Number(_) => ColumnType::Double,
                _ => ColumnType::String,
            };
            *slot = Some(match (*slot, observed) {
                (None, observed) => observed,
                (Some(ColumnType::String), _) | (_, ColumnType::String) => ColumnType::String,
                (Some(ColumnType::Long), ColumnType::Long) => ColumnType::Long,
                _ => ColumnType::Double,
            });
        }
    }
    let mut order: Vec<usize> = (0..table.names.len()).collect();
    if let QueryKind::GroupBy(spec) = &inner.kind {
        let signature: Vec<&str> = spec.output_names().collect();
        order.sort_by_key(|&index| {
            signature
                .iter()
                .position(|known| *known == table.names[index])
                .unwrap_or(signature.len())
        });
    }
    let dimensions = inner_dimensions(inner);
    order
        .into_iter()
        .map(|index| {
            let name = table.names[index].clone();
            let column_type = types[index].unwrap_or(ColumnType::String);
            let spec = if column_type == ColumnType::String || dimensions.contains(&name.as_str()) {
                ColumnSpec::dimension(name, column_type)
            } else {
                ColumnSpec::metric(name, column_type)
            };
            (spec, index)
        })
        .collect()
}

fn inner_dimensions(inner: &Query) -> Vec<&str> {
    match &inner.kind {
        QueryKind::GroupBy(spec) => spec
            .dimensions
            .iter()
            .map(|dimension| dimension.output_name.as_str())
            .collect(),
        QueryKind::TopN(spec) => vec![spec.dimension.output_name.as_str()],
        _ => Vec::new(),
    }
}

/// Which inner columns an outer query may read: those named somewhere in its JSON outside
/// its data source (keys included, inside expressions too), or every column for a scan
/// without `columns`, a search without `searchDimensions` and segmentMetadata. The test is
/// textual, so it may keep a column the outer query does not read, never drop one it does.
struct OuterReads {
    /// `None`: every column.
    mentioned: Option<Vec<String>>,
}

impl OuterReads {
    fn of(outer: &Query) -> OuterReads {
        let Value::Object(mut raw) = outer.to_json() else {
            return OuterReads { mentioned: None };
        };
        raw.remove("dataSource");
        let lists_none = |key: &str| {
            raw.get(key)
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        };
        let reads_all = match &outer.kind {
            QueryKind::Scan(_) => lists_none("columns"),
            QueryKind::Search(_) => lists_none("searchDimensions"),
            QueryKind::SegmentMetadata(_) => true,
            _ => false,
        };
        if reads_all {
            return OuterReads { mentioned: None };
        }
        fn collect(value: &Value, into: &mut Vec<String>) {
            match value {
                Value::String(text) => into.push(text.clone()),
                Value::Array(values) => values.iter().for_each(|value| collect(value, into)),
                Value::Object(fields) => {
                    for (key, value) in fields {
                        into.push(key.clone());
                        collect(value, into);
                    }
                }
                _ => {}
            }
        }
        let mut mentioned = Vec::new();
        collect(&Value::Object(raw), &mut mentioned);
        OuterReads {
            mentioned: Some(mentioned),
        }
    }

    fn column(&self, name: &str) -> bool {
        self.mentioned
            .as_ref()
            .is_none_or(|mentioned| mentioned.iter().any(|text| text.contains(name)))
    }
}

/// The table as an in-memory segment of the columns `read` keeps (the builder sorts its rows
/// by time; equal times keep the result order).
fn build_segment(
    inner: &Query,
    mut table: ResultTable,
    read: impl Fn(&str) -> bool,
) -> Result<Segment, QueryError> {
    let mut columns = schema(inner, &table);
    columns.retain(|(spec, _)| read(&spec.name));
    stringify_non_scalars(&mut table, &columns);
    let mut builder = SegmentBuilder::new(columns.iter().map(|(spec, _)| spec.clone()).collect());
    builder.reserve(table.rows.len());
    for (time, values) in &table.rows {
        builder.push_row_with(*time, |column| {
            let (spec, index) = &columns[column];
            cell_ref(spec, &values[*index])
        });
    }
    in_memory_segment(builder, "subquery segment")
}

/// Booleans, arrays and objects in `columns` become strings holding their JSON text, so
/// every cell is a scalar.
fn stringify_non_scalars(table: &mut ResultTable, columns: &[(ColumnSpec, usize)]) {
    for (_, values) in &mut table.rows {
        for (_, index) in columns {
            if let Some(value) = values.get_mut(*index) {
                if matches!(value, Value::Bool(_) | Value::Array(_) | Value::Object(_)) {
                    *value = Value::String(value.to_string());
                }
            }
        }
    }
}

/// One scalar result value (see [`stringify_non_scalars`]) as a cell of `column`.
fn cell_ref<'v>(column: &ColumnSpec, value: &'v Value) -> ValueRef<'v> {
    match value {
        Value::String(text) => ValueRef::Str(text),
        Value::Number(number) => match number.as_i64() {
            Some(long) if column.column_type == ColumnType::Long => ValueRef::Long(long),
            _ => number.as_f64().map_or(ValueRef::Null, ValueRef::Double),
        },
        _ => ValueRef::Null,
    }
}

/// One scalar result value as an owned cell of `column`.
fn cell(column: &ColumnSpec, value: &Value) -> Cell {
    match cell_ref(column, value) {
        ValueRef::Str(text) => Cell::String(text.to_owned()),
        ValueRef::Long(long) => Cell::Long(long),
        ValueRef::Double(double) => Cell::Double(double),
        _ => Cell::Null,
    }
}

/// The inner result as a table of its columns ([`schema`]); with `with_time`, also a LONG
/// `__time` column holding each row's time (a scan's rows carry theirs; other result rows
/// have no time column in Druid's row signatures).
fn table(inner: &Query, rows: Vec<ResultRow<'_>>, with_time: bool) -> Table {
    let mut table = positional(rows);
    let mut columns = schema(inner, &table);
    stringify_non_scalars(&mut table, &columns);
    if with_time {
        // No value index: the row's own time.
        columns.push((
            ColumnSpec::dimension(TIME_COLUMN, ColumnType::Long),
            usize::MAX,
        ));
    }
    let cells = table
        .rows
        .iter()
        .map(|(time, values)| {
            columns
                .iter()
                .map(|(spec, index)| match values.get(*index) {
                    Some(value) => cell(spec, value),
                    None => Cell::Long(*time),
                })
                .collect()
        })
        .collect();
    Table {
        columns: columns.into_iter().map(|(spec, _)| spec).collect(),
        rows: cells,
    }
}

/// The finalized result of `inner`, a join's `query` right side, as the table the broker
/// broadcasts; more than `max_rows` rows fail the query as in Druid.
pub(crate) fn result_table(
    inner: &Query,
    result: &Value,
    max_rows: usize,
) -> Result<Table, QueryError> {
    let rows = result_rows(inner, result)?;
    check_rows(rows.len(), max_rows)?;
    let with_time = matches!(inner.kind, QueryKind::Scan(_));
    Ok(table(inner, rows, with_time))
}

fn check_rows(rows: usize, max_rows: usize) -> Result<(), QueryError> {
    if rows > max_rows {
        return Err(QueryError::resource_limit(format!(
            "Subquery generated results beyond maximum[{max_rows}] rows"
        )));
    }
    Ok(())
}
