//! [`Binding`]: an expression's inputs bound to the columns of one segment, read a batch of
//! rows at a time into dense vectors when every input is numeric, else row by row (string
//! values are wrapped once per dictionary id and then shared); an expression over a single
//! string column is evaluated once per dictionary id instead.

use std::ops::Range;

use henge_segment::{ColumnRef, NumericColumn, StringColumn};
use roaring::RoaringBitmap;

use super::Columns;
use crate::error::QueryError;
use crate::expr::{Eval, Expr, ValueType, Vector};
use crate::model::spec::TIME_COLUMN;

/// Rows evaluated together by the batch evaluator.
const BATCH_ROWS: usize = 1024;

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

    /// Rows `rows` as a batch; only numeric inputs are read this way.
    fn vector(&self, rows: Range<usize>) -> Vector {
        let len = rows.len();
        let null_flags = |nulls: Option<&RoaringBitmap>| {
            let mut flags = vec![false; len];
            if let Some(nulls) = nulls {
                for row in nulls.range(rows.start as u32..rows.end as u32) {
                    flags[row as usize - rows.start] = true;
                }
            }
            flags
        };
        match self {
            Reader::Time(times) => Vector::longs(times[rows].to_vec(), vec![false; len]),
            Reader::Longs(column) => Vector::longs(
                column.values()[rows.clone()].to_vec(),
                null_flags(column.null_bitmap_ref()),
            ),
            Reader::Doubles(column) => Vector::doubles(
                column.values()[rows.clone()].to_vec(),
                null_flags(column.null_bitmap_ref()),
            ),
            Reader::Strings(..) | Reader::Missing => Vector::null(len),
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

/// Where [`Binding::for_each`] delivers values.
pub(crate) trait Sink {
    /// The value of one row.
    fn row(&mut self, row: usize, value: Eval);

    /// The values of rows `start..start + values.len()`.
    fn batch(&mut self, start: usize, values: &Vector) {
        for offset in 0..values.len() {
            self.row(start + offset, values.get(offset));
        }
    }
}

/// An expression with its inputs bound to columns.
pub(crate) struct Binding<'e, 'c> {
    expr: &'e Expr,
    readers: Vec<Reader<'c>>,
    /// Whether every input is numeric and the expression can run a batch at a time.
    batched: bool,
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
                // Sketch columns have no expression type.
                Some(ColumnRef::Complex(_)) | None => Reader::Missing,
            })
            .collect::<Vec<_>>();
        let batched = expr.supports_batch(&|index| !matches!(readers[index], Reader::Strings(..)));
        Binding {
            expr,
            readers,
            batched,
        }
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

    /// Hands the values of `rows` to `sink` in row order: a batch of rows at a time when the
    /// expression allows it (a batch that fails is redone row by row, so only real errors
    /// surface), else row by row.
    pub(crate) fn for_each(
        &mut self,
        rows: Range<usize>,
        sink: &mut dyn Sink,
    ) -> Result<(), QueryError> {
        if !self.batched {
            for row in rows {
                let value = self.eval_row(row)?;
                sink.row(row, value);
            }
            return Ok(());
        }
        for start in rows.clone().step_by(BATCH_ROWS) {
            let end = (start + BATCH_ROWS).min(rows.end);
            let inputs: Vec<Vector> = self
                .readers
                .iter()
                .map(|reader| reader.vector(start..end))
                .collect();
            match self.expr.eval_batch(&inputs, end - start) {
                Ok(vector) => sink.batch(start, &vector),
                Err(_) => {
                    for row in start..end {
                        let value = self.eval_row(row)?;
                        sink.row(row, value);
                    }
                }
            }
        }
        Ok(())
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
