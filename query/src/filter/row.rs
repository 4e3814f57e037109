//! Evaluating a filter on one result row (groupBy `having` of type `filter`), with the same
//! predicates and three-valued logic as on segments: only TRUE keeps a row.

use super::leaf_predicate;
use super::predicate::{java_double_string, Predicate};
use crate::expr::Eval;
use crate::model::filter::FilterSpec;

/// A value of a result row as a filter sees it.
pub(crate) enum Cell {
    Null,
    Str(String),
    Long(i64),
    Double(f64),
}

impl Cell {
    /// The value as a string: numbers in Java's string form.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Str(text) => Some(text.clone()),
            Cell::Long(value) => Some(value.to_string()),
            Cell::Double(value) => Some(java_double_string(*value)),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl From<bool> for Truth {
    fn from(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// Whether `filter` is TRUE for the row whose columns `cell_of` reads.
pub(crate) fn row_matches(filter: &FilterSpec, cell_of: &dyn Fn(&str) -> Cell) -> bool {
    truth(filter, cell_of) == Truth::True
}

fn truth(filter: &FilterSpec, cell_of: &dyn Fn(&str) -> Cell) -> Truth {
    match filter {
        FilterSpec::And(children) => {
            let mut result = Truth::True;
            for child in children {
                match truth(child, cell_of) {
                    Truth::False => return Truth::False,
                    Truth::Unknown => result = Truth::Unknown,
                    Truth::True => {}
                }
            }
            result
        }
        FilterSpec::Or(children) => {
            let mut result = Truth::False;
            for child in children {
                match truth(child, cell_of) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => result = Truth::Unknown,
                    Truth::False => {}
                }
            }
            result
        }
        FilterSpec::Not(child) => match truth(child, cell_of) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
        FilterSpec::True => Truth::True,
        FilterSpec::False => Truth::False,
        FilterSpec::ColumnComparison(columns) => {
            let first = cell_of(&columns[0]).text();
            Truth::from(
                columns[1..]
                    .iter()
                    .all(|column| cell_of(column).text() == first),
            )
        }
        FilterSpec::Expression(expr) => {
            let values: Vec<Eval> = expr
                .identifiers()
                .iter()
                .map(|name| match cell_of(name) {
                    Cell::Null => Eval::Null,
                    Cell::Str(text) => Eval::string(text),
                    Cell::Long(value) => Eval::Long(value),
                    Cell::Double(value) => Eval::Double(value),
                })
                .collect();
            match expr.eval(&mut |index| values[index].clone()) {
                Ok(value) if !value.is_null() => Truth::from(value.truthy()),
                _ => Truth::Unknown,
            }
        }
        leaf => {
            let (column, predicate) = leaf_predicate(leaf);
            leaf_truth(&predicate, cell_of(column))
        }
    }
}

fn leaf_truth(predicate: &Predicate<'_>, cell: Cell) -> Truth {
    match cell {
        Cell::Null if predicate.matches_null() => Truth::True,
        Cell::Null => Truth::Unknown,
        Cell::Str(text) => Truth::from(predicate.string_test(&text)),
        Cell::Long(value) => Truth::from(predicate.long_test()(value)),
        Cell::Double(value) => Truth::from(predicate.double_test()(value)),
    }
}
