//! The `expression` filter: rows where the expression is truthy (Druid's `asBoolean`: a
//! positive number, or a string equal to `true`) are TRUE, rows where it is null are UNKNOWN
//! (Druid's `ExpressionFilter` with `includeUnknown`), the rest FALSE. An expression over one
//! string column is evaluated once per dictionary id and the id bitmaps are unioned; any
//! other expression is evaluated on each row of the universe. An evaluation error is recorded
//! on the [`Columns`] and fails the query.

use roaring::RoaringBitmap;

use super::{Matches, Universe};
use crate::columns::{Binding, Columns, Sink};
use crate::error::QueryError;
use crate::expr::{Eval, Expr};

pub(super) fn expression_matches(
    expr: &Expr,
    columns: &Columns<'_>,
    universe: &Universe<'_>,
) -> Matches {
    match try_matches(expr, columns, universe) {
        Ok(matches) => matches,
        Err(error) => {
            columns.record_error(error);
            Matches {
                matched: RoaringBitmap::new(),
                unknown: RoaringBitmap::new(),
            }
        }
    }
}

fn try_matches(
    expr: &Expr,
    columns: &Columns<'_>,
    universe: &Universe<'_>,
) -> Result<Matches, QueryError> {
    let mut binding = Binding::new(expr, columns);
    let mut matched = RoaringBitmap::new();
    let mut unknown = RoaringBitmap::new();
    if let Some(constant) = binding.constant() {
        let constant = constant?;
        if constant.is_null() {
            unknown = universe.rows().clone();
        } else if constant.truthy() {
            matched = universe.rows().clone();
        }
        return Ok(Matches { matched, unknown });
    }
    if let Some((column, values)) = binding.per_dictionary_id() {
        for (id, value) in values?.iter().enumerate() {
            if value.is_null() {
                unknown |= column.bitmap(id as u32);
            } else if value.truthy() {
                matched |= column.bitmap(id as u32);
            }
        }
        return Ok(Matches { matched, unknown });
    }
    let mut sink = Truth {
        matched: &mut matched,
        unknown: &mut unknown,
    };
    for range in universe.ranges {
        binding.for_each(range.clone(), &mut sink)?;
    }
    Ok(Matches { matched, unknown })
}

/// Collects the TRUE and UNKNOWN rows, in ascending order.
struct Truth<'m> {
    matched: &'m mut RoaringBitmap,
    unknown: &'m mut RoaringBitmap,
}

impl Sink for Truth<'_> {
    fn row(&mut self, row: usize, value: Eval) {
        if value.is_null() {
            self.unknown.try_push(row as u32).expect("rows ascend");
        } else if value.truthy() {
            self.matched.try_push(row as u32).expect("rows ascend");
        }
    }
}
