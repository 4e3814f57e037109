//! [`Columns`]: what a query reads on one segment: the segment's columns, shadowed by the
//! query's virtual columns (a virtual column wins over a real column of the same name, as in
//! Druid's `VirtualColumns`).
//!
//! A virtual column is materialized the first time something reads it, over the rows of the
//! query intervals (other rows are null), into columns with the segment's row order (dense
//! numbers with a null bitmap, or a dictionary-encoded string column), so every engine path
//! (filters, grouping, aggregators, scan) reads it exactly like a stored column. An expression over one string column is evaluated once per
//! dictionary id; any other expression once per row (`binding`).

mod binding;
mod materialize;

use std::cell::{OnceCell, RefCell};
use std::ops::Range;

use henge_segment::reader::Segment;
use henge_segment::{ColumnRef, ColumnSpec};

pub(crate) use self::binding::{Binding, Sink};
use self::materialize::Built;
use crate::error::QueryError;
use crate::model::virtual_column::VirtualColumn;

/// The columns of one segment as one query sees them.
pub(crate) struct Columns<'a> {
    segment: &'a Segment,
    virtuals: &'a [VirtualColumn],
    /// The rows of the query intervals, ascending and disjoint.
    ranges: Vec<Range<usize>>,
    built: Vec<OnceCell<Option<Built>>>,
    /// The first failure while materializing a virtual column.
    error: RefCell<Option<QueryError>>,
}

impl<'a> Columns<'a> {
    pub(crate) fn new(
        segment: &'a Segment,
        virtuals: &'a [VirtualColumn],
        ranges: Vec<Range<usize>>,
    ) -> Columns<'a> {
        Columns {
            segment,
            virtuals,
            ranges,
            built: virtuals.iter().map(|_| OnceCell::new()).collect(),
            error: RefCell::new(None),
        }
    }

    /// The segment's time column.
    pub(crate) fn times(&self) -> &'a [i64] {
        self.segment.times()
    }

    pub(crate) fn num_rows(&self) -> usize {
        self.segment.num_rows()
    }

    /// The segment's stored columns (virtual columns are not listed).
    pub(crate) fn schema(&self) -> &'a [ColumnSpec] {
        self.segment.schema()
    }

    /// The names of the query's virtual columns, in declaration order.
    pub(crate) fn virtual_names(&self) -> impl Iterator<Item = &'a str> {
        self.virtuals.iter().map(|column| column.name.as_str())
    }

    /// A column by name: a virtual column if the query defines one, else the segment's.
    /// A virtual column that failed to evaluate reads as missing; [`Self::take_error`]
    /// reports why.
    pub(crate) fn column(&self, name: &str) -> Option<ColumnRef<'_>> {
        let Some(index) = self.virtuals.iter().position(|column| column.name == name) else {
            return self.segment.column(name);
        };
        let built = self.built[index].get_or_init(|| {
            match materialize::materialize(&self.virtuals[index], self, &self.ranges) {
                Ok(built) => Some(built),
                Err(error) => {
                    self.error.borrow_mut().get_or_insert(error);
                    None
                }
            }
        });
        built.as_ref().and_then(|built| built.column(name))
    }

    /// The first error met while materializing virtual columns, if any.
    pub(crate) fn take_error(&self) -> Option<QueryError> {
        self.error.borrow_mut().take()
    }

    /// Records an error met while evaluating an expression filter.
    pub(crate) fn record_error(&self, error: QueryError) {
        self.error.borrow_mut().get_or_insert(error);
    }
}
