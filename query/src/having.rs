//! Applying a groupBy `having` spec to merged rows on the broker, after post-aggregators and
//! before the limit spec, as Druid's `GroupByQuery.postProcess` does. Columns are read by
//! output name: dimensions, finalized aggregators, post-aggregators, and `__time`.

use std::cmp::Ordering;

use crate::filter::{row_matches, Cell};
use crate::model::having::HavingSpec;
use crate::model::spec::{GroupBySpec, TIME_COLUMN};
use crate::order::{parse_decimal, FinalGroupRow};
use crate::value::AggValue;

/// Whether `row` passes `having`.
pub(crate) fn keep(having: &HavingSpec, spec: &GroupBySpec, row: &FinalGroupRow) -> bool {
    match having {
        HavingSpec::Filter(filter) => row_matches(filter, &|column| cell(spec, row, column)),
        HavingSpec::Compare {
            column,
            wanted,
            value,
        } => compare(&cell(spec, row, column), value) == Some(*wanted),
        HavingSpec::DimSelector { dimension, value } => cell(spec, row, dimension).text() == *value,
        HavingSpec::And(children) => children.iter().all(|child| keep(child, spec, row)),
        HavingSpec::Or(children) => children.iter().any(|child| keep(child, spec, row)),
        HavingSpec::Not(child) => !keep(child, spec, row),
        HavingSpec::Always => true,
        HavingSpec::Never => false,
    }
}

/// The value of an output column of a row.
fn cell(spec: &GroupBySpec, row: &FinalGroupRow, column: &str) -> Cell {
    if let Some(at) = spec
        .dimensions
        .iter()
        .position(|dimension| dimension.output_name == column)
    {
        return row.row.dims[at]
            .as_deref()
            .map_or(Cell::Null, |text| Cell::Str(text.to_owned()));
    }
    if let Some(at) = spec.aggregations.iter().position(|agg| agg.name == column) {
        return value_cell(&row.row.values[at]);
    }
    if let Some(at) = spec
        .post_aggregations
        .iter()
        .position(|post| post.name == column)
    {
        return value_cell(&row.posts[at]);
    }
    if column == TIME_COLUMN {
        return Cell::Long(row.row.timestamp);
    }
    Cell::Null
}

/// A finalized aggregator or post-aggregator value as a cell.
fn value_cell(value: &AggValue) -> Cell {
    match value.finalized() {
        AggValue::Long(value) => Cell::Long(value),
        AggValue::Double(value) => Cell::Double(value),
        AggValue::Str(text) => Cell::Str(text),
        _ => Cell::Null,
    }
}

/// A column value compared with a having value (Druid's `HavingSpecMetricComparator`):
/// longs exactly, anything else as doubles; `None` for nulls and non-numbers, which never pass.
fn compare(cell: &Cell, value: &AggValue) -> Option<Ordering> {
    let number = match cell {
        Cell::Null => return None,
        Cell::Long(left) => {
            if let AggValue::Long(right) = value {
                return Some(left.cmp(right));
            }
            *left as f64
        }
        Cell::Double(left) => *left,
        Cell::Str(text) => parse_decimal(text.trim())?,
    };
    let target = value.number()?;
    Some(number.total_cmp(&target))
}
