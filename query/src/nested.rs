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
use henge_segment::{ColumnSpec, ColumnType, Segment, SegmentBuilder, Value as Cell};
use serde_json::{Map, Value};

use crate::error::QueryError;
use crate::join::{in_memory_segment, Table};
use crate::model::spec::{QueryKind, TIME_COLUMN};
use crate::model::Query;
use crate::{finalize, merge, run_on_segment};

/// Druid's default `maxSubqueryRows`: inner results larger than this fail the query.
pub const DEFAULT_MAX_SUBQUERY_ROWS: usize = 100_000;

/// Runs `outer` over `inner_result`, the finalized response of `outer.inner_query()`.
pub fn run_over_result(outer: &Query, inner_result: &Value) -> Result<Value, QueryError> {
    let Some(inner) = outer.inner_query() else {
        return Err(QueryError::internal("the query has no inner query"));
    };
    let rows = result_rows(inner, inner_result)?;
    check_rows(rows.len(), max_subquery_rows(outer))?;
    let segment = build_segment(inner, &rows)?;
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

/// Column names in first-seen order (for a groupBy, in its row signature's order: dimensions,
/// aggregators, post-aggregators, since its events print in Java `HashMap` order), each typed
/// from its non-null values.
fn schema(inner: &Query, rows: &[ResultRow<'_>]) -> Vec<ColumnSpec> {
    let mut columns: Vec<(String, Option<ColumnType>)> = Vec::new();
    for (_, row) in rows {
        for (name, value) in row.iter() {
            if name == TIME_COLUMN {
                continue;
            }
            let seen = match columns.iter().position(|(known, _)| known == name) {
                Some(at) => at,
                None => {
                    columns.push((name.clone(), None));
                    columns.len() - 1
                }
            };
            let observed = match value {
                Value::Null => continue,
                Value::Number(number) if number.is_i64() => ColumnType::Long,
                Value::Number(_) => ColumnType::Double,
                _ => ColumnType::String,
            };
            let slot = &mut columns[seen].1;
            *slot = Some(match (*slot, observed) {
                (None, observed) => observed,
                (Some(ColumnType::String), _) | (_, ColumnType::String) => ColumnType::String,
                (Some(ColumnType::Long), ColumnType::Long) => ColumnType::Long,
                _ => ColumnType::Double,
            });
        }
    }
    if let QueryKind::GroupBy(spec) = &inner.kind {
        let signature: Vec<&str> = spec
            .dimensions
            .iter()
            .map(|dimension| dimension.output_name.as_str())
            .chain(spec.aggregations.iter().map(|agg| agg.name.as_str()))
            .chain(spec.post_aggregations.iter().map(|post| post.name.as_str()))
            .collect();
        columns.sort_by_key(|(name, _)| {
            signature
                .iter()
                .position(|known| known == name)
                .unwrap_or(signature.len())
        });
    }
    let dimensions = inner_dimensions(inner);
    columns
        .into_iter()
        .map(|(name, column_type)| {
            let column_type = column_type.unwrap_or(ColumnType::String);
            if column_type == ColumnType::String || dimensions.contains(&name.as_str()) {
                ColumnSpec::dimension(name, column_type)
            } else {
                ColumnSpec::metric(name, column_type)
            }
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

fn build_segment(inner: &Query, rows: &[ResultRow<'_>]) -> Result<Segment, QueryError> {
    let columns = schema(inner, rows);
    let mut ordered: Vec<&ResultRow<'_>> = rows.iter().collect();
    // Segments are time-sorted; the sort is stable, so equal times keep the result order.
    ordered.sort_by_key(|(time, _)| *time);
    let mut builder = SegmentBuilder::new(columns.clone());
    let mut cells = Vec::with_capacity(columns.len());
    for (time, row) in ordered {
        cells.clear();
        cells.extend(
            columns
                .iter()
                .map(|column| cell(column, row.get(&column.name))),
        );
        builder.push_row(*time, &cells);
    }
    in_memory_segment(builder, "subquery segment")
}

/// One result value as a cell of `column`.
fn cell(column: &ColumnSpec, value: Option<&Value>) -> Cell {
    match value {
        None | Some(Value::Null) => Cell::Null,
        Some(Value::String(text)) => Cell::String(text.clone()),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(long) if column.column_type == ColumnType::Long => Cell::Long(long),
            _ => number.as_f64().map_or(Cell::Null, Cell::Double),
        },
        Some(other) => Cell::String(other.to_string()),
    }
}

/// The inner result as a table of its columns ([`schema`]); with `with_time`, also a LONG
/// `__time` column holding each row's time (a scan's rows carry theirs; other result rows
/// have no time column in Druid's row signatures).
fn table(inner: &Query, rows: &[ResultRow<'_>], with_time: bool) -> Table {
    let mut columns = schema(inner, rows);
    if with_time {
        columns.push(ColumnSpec::dimension(TIME_COLUMN, ColumnType::Long));
    }
    let cells = rows
        .iter()
        .map(|(time, row)| {
            columns
                .iter()
                .map(|column| match with_time && column.name == TIME_COLUMN {
                    true => Cell::Long(*time),
                    false => cell(column, row.get(&column.name)),
                })
                .collect()
        })
        .collect();
    Table {
        columns,
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
    Ok(table(inner, &rows, with_time))
}

fn check_rows(rows: usize, max_rows: usize) -> Result<(), QueryError> {
    if rows > max_rows {
        return Err(QueryError::resource_limit(format!(
            "Subquery generated results beyond maximum[{max_rows}] rows"
        )));
    }
    Ok(())
}
