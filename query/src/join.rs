//! Join data sources (`docs/querying/datasource.md#join`): a left input (a table's segment,
//! a query data source's result, an inline or lookup table, or another join) joined to a
//! right [`Table`] held in memory, as Druid's broadcast hash join does.
//!
//! A [`JoinClause`] is one `{"type": "join"}` level: its right side (an inline or lookup
//! table, or a `query` the broker runs first and replaces by its rows, see
//! [`crate::Query::with_join_results`]), its `rightPrefix`, the equalities of its condition
//! (`left expression == "<prefix>column"`, ANDed) and its type (INNER or LEFT). [`apply`]
//! runs the clauses of a query on one segment, left-deep, into a new in-memory segment that
//! holds every left column plus every right column renamed `<prefix><name>`; the query then
//! runs on it as on any segment. Keys compare in the right column's type; null keys never
//! match; a LEFT join keeps unmatched left rows with nulls on the right.

mod table;

use std::sync::Arc;

use hashbrown::HashMap;
use henge_segment::reader::Segment;
use henge_segment::{ColumnRef, ColumnSpec, ColumnType, SegmentBuilder, Value as Cell};

pub(crate) use self::table::{in_memory_segment, Table};
use crate::columns::{Binding, Columns};
use crate::error::QueryError;
use crate::expr::{Eval, Expr};
use crate::model::Query;

/// Most rows one join may produce from one segment.
const MAX_JOINED_ROWS: usize = 10_000_000;

/// Rows joined between two polls of the interruption check.
const POLL_ROWS: usize = 4096;

/// `joinType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinKind {
    Inner,
    Left,
}

impl JoinKind {
    pub(crate) fn parse(name: &str) -> Result<JoinKind, QueryError> {
        match name.to_ascii_uppercase().as_str() {
            "INNER" => Ok(JoinKind::Inner),
            "LEFT" => Ok(JoinKind::Left),
            "RIGHT" | "FULL" => Err(QueryError::unsupported(format!(
                "joinType [{name}] is not supported: Henge broadcasts the right side and \
                 joins INNER or LEFT"
            ))),
            _ => Err(QueryError::invalid_query(format!(
                "Cannot deserialize value of type `org.apache.druid.segment.join.JoinType` \
                 from String \"{name}\": not one of the values accepted for Enum class: \
                 [RIGHT, LEFT, FULL, INNER]"
            ))),
        }
    }
}

/// A join's right side.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Right {
    Table(Arc<Table>),
    /// A query the broker runs first; its rows then replace it.
    Query(Box<Query>),
}

/// One join level.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JoinClause {
    pub(crate) right: Right,
    pub(crate) prefix: String,
    /// Each equality: the left side's expression and the right column it equals (without
    /// the prefix).
    keys: Vec<(Expr, String)>,
    kind: JoinKind,
    /// Where the right data source sits in the query's JSON (a JSON pointer), so the broker
    /// can put the rows of a `query` right side there.
    pub(crate) pointer: String,
}

impl JoinClause {
    /// A clause from its parsed parts; `condition` must be ANDed equalities between a left
    /// expression and a right column.
    pub(crate) fn new(
        right: Right,
        prefix: String,
        condition: &Expr,
        kind: JoinKind,
        pointer: String,
    ) -> Result<JoinClause, QueryError> {
        if prefix.is_empty() || prefix == "__time" {
            return Err(QueryError::invalid_query(format!(
                "Join clause cannot have null or empty prefix, or the prefix [{prefix}]"
            )));
        }
        let non_equi = || {
            QueryError::unsupported(format!(
                "Cannot build hash-join matcher on non-equi-join condition: {}; Henge joins on \
                 equalities between a left expression and a right column, ANDed",
                condition.text()
            ))
        };
        let on_right = |expr: &Expr| {
            expr.as_identifier()
                .and_then(|name| name.strip_prefix(prefix.as_str()))
                .map(str::to_owned)
        };
        let reads_right = |expr: &Expr| {
            expr.identifiers()
                .iter()
                .any(|name| name.starts_with(prefix.as_str()))
        };
        let mut keys = Vec::new();
        for (first, second) in condition.equalities().ok_or_else(non_equi)? {
            let key = match (on_right(&first), on_right(&second)) {
                (_, Some(column)) if !reads_right(&first) => (first, column),
                (Some(column), _) if !reads_right(&second) => (second, column),
                _ => return Err(non_equi()),
            };
            keys.push(key);
        }
        Ok(JoinClause {
            right,
            prefix,
            keys,
            kind,
            pointer,
        })
    }
}

/// `segment` joined with every clause of `query` in order (left-deep).
pub(crate) fn apply(
    segment: &Segment,
    query: &Query,
    interrupted: &dyn Fn() -> bool,
) -> Result<Segment, QueryError> {
    let mut joined: Option<Segment> = None;
    for clause in &query.joins {
        let left = joined.as_ref().unwrap_or(segment);
        joined = Some(join_one(left, clause, &|| {
            interrupted().then(|| QueryError::cancelled(query.id()))
        })?);
    }
    joined.ok_or_else(|| QueryError::internal("a join without clauses"))
}

/// One key value, in the type of the right column it is compared with.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Str(Arc<str>),
    Long(i64),
    /// A double's bits (`-0.0` normalized to `0.0`).
    Double(u64),
}

impl Key {
    fn of_eval(value: &Eval, column_type: ColumnType) -> Option<Key> {
        match column_type {
            ColumnType::Long => value.as_long().map(Key::Long),
            ColumnType::Double => value.as_double().map(Key::double),
            _ => value.as_string().map(Key::Str),
        }
    }

    fn of_cell(cell: &Cell) -> Option<Key> {
        match cell {
            Cell::String(text) => Some(Key::Str(text.as_str().into())),
            Cell::Long(long) => Some(Key::Long(*long)),
            Cell::Double(double) => Some(Key::double(*double)),
            Cell::Null | Cell::Strings(_) | Cell::Bytes(_) => None,
        }
    }

    fn double(value: f64) -> Key {
        Key::Double(if value == 0.0 { 0 } else { value.to_bits() })
    }
}

/// `left` joined with one clause; `stop` answers the error to stop with once the query was
/// interrupted.
fn join_one(
    left: &Segment,
    clause: &JoinClause,
    stop: &dyn Fn() -> Option<QueryError>,
) -> Result<Segment, QueryError> {
    let Right::Table(table) = &clause.right else {
        return Err(QueryError::internal(
            "a join's query right side was not run before the join",
        ));
    };
    let mut right_at = Vec::with_capacity(clause.keys.len());
    for (_, column) in &clause.keys {
        let at = table.position(column).ok_or_else(|| {
            QueryError::invalid_query(format!(
                "Column [{}{column}] of the join condition is not on the join's right side",
                clause.prefix
            ))
        })?;
        right_at.push(at);
    }
    let mut index: HashMap<Vec<Key>, Vec<u32>> = HashMap::new();
    for (row, cells) in table.rows.iter().enumerate() {
        let key: Option<Vec<Key>> = right_at
            .iter()
            .map(|&at| Key::of_cell(&cells[at]))
            .collect();
        if let Some(key) = key {
            index.entry(key).or_default().push(row as u32);
        }
    }
    let schema = joined_schema(left, clause, table)?;
    let num_rows = left.num_rows();
    let columns = Columns::new(left, &[], std::iter::once(0..num_rows).collect());
    let mut bindings = Vec::with_capacity(clause.keys.len());
    for (expr, _) in &clause.keys {
        for name in expr.identifiers() {
            if let Some(ColumnRef::String(column)) = left.column(name) {
                if column.is_multi_value() {
                    return Err(QueryError::unsupported(format!(
                        "Cannot join when the join condition reads the multi-value column [{name}]"
                    )));
                }
            }
        }
        bindings.push(Binding::new(expr, &columns));
    }
    let left_columns: Vec<Option<ColumnRef<'_>>> = left
        .schema()
        .iter()
        .map(|spec| left.column(&spec.name))
        .collect();
    let right_types: Vec<ColumnType> = right_at
        .iter()
        .map(|&at| table.columns[at].column_type)
        .collect();
    let null_row: Vec<Cell> = vec![Cell::Null; table.columns.len()];
    let mut builder = SegmentBuilder::new(schema);
    let mut left_cells: Vec<Cell> = Vec::with_capacity(left_columns.len());
    let mut produced = 0usize;
    for row in 0..num_rows {
        if row % POLL_ROWS == 0 {
            if let Some(error) = stop() {
                return Err(error);
            }
        }
        let mut key = Vec::with_capacity(bindings.len());
        for (binding, &column_type) in bindings.iter_mut().zip(&right_types) {
            match Key::of_eval(&binding.eval_row(row)?, column_type) {
                Some(part) => key.push(part),
                None => break,
            }
        }
        let matches: &[u32] = if key.len() == bindings.len() {
            index.get(&key).map_or(&[], Vec::as_slice)
        } else {
            &[]
        };
        if matches.is_empty() && clause.kind == JoinKind::Inner {
            continue;
        }
        left_cells.clear();
        left_cells.extend(
            left_columns
                .iter()
                .map(|column| left_cell(column.as_ref(), row)),
        );
        let time = left.times()[row];
        let mut push = |right: &[Cell]| {
            builder.push_row_with(time, |at| match left_cells.get(at) {
                Some(cell) => cell.as_value_ref(),
                None => right[at - left_cells.len()].as_value_ref(),
            });
        };
        if matches.is_empty() {
            push(&null_row);
            produced += 1;
        }
        for &matched in matches {
            push(&table.rows[matched as usize]);
        }
        produced += matches.len();
        if produced > MAX_JOINED_ROWS {
            return Err(QueryError::resource_limit(format!(
                "a join produced more than {MAX_JOINED_ROWS} rows from one segment"
            )));
        }
    }
    in_memory_segment(builder, "joined segment")
}

/// The left columns, then the right ones under the prefix; a name may not appear twice.
fn joined_schema(
    left: &Segment,
    clause: &JoinClause,
    table: &Table,
) -> Result<Vec<ColumnSpec>, QueryError> {
    let mut schema: Vec<ColumnSpec> = left.schema().to_vec();
    for column in &table.columns {
        let name = format!("{}{}", clause.prefix, column.name);
        if schema.iter().any(|known| known.name == name) {
            return Err(QueryError::invalid_query(format!(
                "Column [{name}] of the join's right side shadows a column of its left side; \
                 choose another rightPrefix"
            )));
        }
        schema.push(ColumnSpec::new(name, column.column_type, column.role));
    }
    Ok(schema)
}

/// One left row's value of one column.
fn left_cell(column: Option<&ColumnRef<'_>>, row: usize) -> Cell {
    match column {
        None => Cell::Null,
        Some(ColumnRef::String(column)) if column.is_multi_value() => Cell::Strings(
            column
                .row_ids(row)
                .map(|id| column.value(id).map(str::to_owned))
                .collect(),
        ),
        Some(ColumnRef::String(column)) => column
            .value(column.row_id(row))
            .map_or(Cell::Null, |text| Cell::String(text.into())),
        Some(ColumnRef::Long(column)) if column.is_null(row) => Cell::Null,
        Some(ColumnRef::Long(column)) => Cell::Long(column.values()[row]),
        Some(ColumnRef::Double(column)) if column.is_null(row) => Cell::Null,
        Some(ColumnRef::Double(column)) => Cell::Double(column.values()[row]),
        Some(ColumnRef::Complex(column)) => column
            .get(row)
            .map_or(Cell::Null, |bytes| Cell::Bytes(bytes.to_vec())),
    }
}
