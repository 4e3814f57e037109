//! [`Binding`]: an expression's inputs bound to the columns of one segment, read row by row
//! (string values are wrapped once per dictionary id and then shared), or, for an expression
//! over a single string column, evaluated once per dictionary id.

use henge_segment::{ColumnRef, NumericColumn, StringColumn};

use super::Columns;
use crate::error::QueryError;
use crate::expr::{Eval, Expr, ValueType};
use crate::model::spec::TIME_COLUMN;

/// How one input reads a row.
enum Reader<'c> {
    Time(&'c [i64]),
    /// A string column and its values wrapped so far, by dictionary id.
    Strings(StringColumn<'c>, Vec<Option<Eval>>),
    Longs(NumericColumn<'c, i64>),
    Doubles(NumericColumn<'c, f64>),
    Missing,
}

impl Reader<'_> {
    fn read(&mut self, row: usize) -> Eval {
        match self {
            Reader::Time(times) => Eval::Long(times[row]),
            Reader::Strings(column, cache) => {
                let id = column.row_id(row);
                cache[id as usize]
                    .get_or_insert_with(|| Eval::from_opt_str(column.value(id)))
                    .clone()
            }
            Reader::Longs(column) if column.is_null(row) => Eval::Null,
            Reader::Longs(column) => Eval::Long(column.values()[row]),
            Reader::Doubles(column) if column.is_null(row) => Eval::Null,
            Reader::Doubles(column) => Eval::Double(column.values()[row]),
            Reader::Missing => Eval::Null,
        }
    }

    fn value_type(&self) -> Option<ValueType> {
        match self {
            Reader::Time(_) | Reader::Longs(_) => Some(ValueType::Long),
            Reader::Doubles(_) => Some(ValueType::Double),
            Reader::Strings(..) => Some(ValueType::String),
            Reader::Missing => None,
        }
    }
}

/// An expression with its inputs bound to columns.
pub(crate) struct Binding<'e, 'c> {
    expr: &'e Expr,
    readers: Vec<Reader<'c>>,
}

impl<'e, 'c> Binding<'e, 'c> {
    pub(crate) fn new(expr: &'e Expr, columns: &'c Columns<'_>) -> Binding<'e, 'c> {
        let readers = expr
            .identifiers()
            .iter()
            .map(|name| match columns.column(name) {
                _ if name == TIME_COLUMN => Reader::Time(columns.times()),
                Some(ColumnRef::String(column)) => {
                    Reader::Strings(column, vec![None; column.cardinality()])
                }
                Some(ColumnRef::Long(column)) => Reader::Longs(column),
                Some(ColumnRef::Double(column)) => Reader::Doubles(column),
                None => Reader::Missing,
            })
            .collect();
        Binding { expr, readers }
    }

    /// The static type of the expression over these columns.
    pub(crate) fn output_type(&self) -> ValueType {
        self.expr
            .output_type(&|index| self.readers[index].value_type())
    }

    /// The expression's value on one row.
    pub(crate) fn eval_row(&mut self, row: usize) -> Result<Eval, QueryError> {
        let readers = &mut self.readers;
        self.expr.eval(&mut |index| readers[index].read(row))
    }

    /// When the expression reads exactly one input and it is a string column: that column
    /// and the expression's value for each dictionary id.
    pub(crate) fn per_dictionary_id(
        &self,
    ) -> Option<(StringColumn<'c>, Result<Vec<Eval>, QueryError>)> {
        let [Reader::Strings(column, _)] = self.readers.as_slice() else {
            return None;
        };
        let values = (0..column.cardinality() as u32)
            .map(|id| {
                let value = Eval::from_opt_str(column.value(id));
                self.expr.eval(&mut |_| value.clone())
            })
            .collect();
        Some((*column, values))
    }

    /// The expression's value when it reads no input.
    pub(crate) fn constant(&self) -> Option<Result<Eval, QueryError>> {
        self.expr
            .is_constant()
            .then(|| self.expr.eval(&mut |_| Eval::Null))
    }
}
