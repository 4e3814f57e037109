//! `columnComparison`: rows where every listed column holds the same value, compared as
//! strings (numbers in their Java string form; two nulls are equal). A multi-value row
//! matches when its values overlap the first column's (Druid's `ColumnComparisonFilter`:
//! "any overlap"; an empty row counts as one null). It compares columns with each other, so
//! it reads rows, over the universe only.

use henge_segment::ColumnRef;
use roaring::RoaringBitmap;

use super::predicate::java_double_string;
use super::{Matches, Universe};
use crate::columns::Columns;
use crate::model::spec::TIME_COLUMN;

/// How one compared column reads a row as text.
enum Reader<'a> {
    Time(&'a [i64]),
    Column(ColumnRef<'a>),
    Missing,
}

impl Reader<'_> {
    /// The row's values as text: one, except for multi-value rows.
    fn texts(&self, row: usize) -> Vec<Option<String>> {
        match self {
            Reader::Column(ColumnRef::String(column)) if column.is_multi_value() => {
                let mut texts: Vec<Option<String>> = column
                    .row_ids(row)
                    .map(|id| column.value(id).map(str::to_owned))
                    .collect();
                if texts.is_empty() {
                    texts.push(None);
                }
                texts
            }
            _ => vec![self.text(row)],
        }
    }

    fn text(&self, row: usize) -> Option<String> {
        match self {
            Reader::Time(times) => Some(times[row].to_string()),
            Reader::Column(ColumnRef::String(column)) => {
                column.value(column.row_id(row)).map(str::to_owned)
            }
            Reader::Column(ColumnRef::Long(column)) => {
                (!column.is_null(row)).then(|| column.values()[row].to_string())
            }
            Reader::Column(ColumnRef::Double(column)) => {
                (!column.is_null(row)).then(|| java_double_string(column.values()[row]))
            }
            // Sketches compare as nulls, as in every other filter.
            Reader::Column(ColumnRef::Complex(_)) | Reader::Missing => None,
        }
    }
}

pub(super) fn column_comparison(
    columns: &[String],
    segment: &Columns<'_>,
    universe: &Universe<'_>,
) -> Matches {
    let readers: Vec<Reader<'_>> = columns
        .iter()
        .map(|name| match segment.column(name) {
            _ if name == TIME_COLUMN => Reader::Time(segment.times()),
            Some(column) => Reader::Column(column),
            None => Reader::Missing,
        })
        .collect();
    let mut matched = RoaringBitmap::new();
    for range in universe.ranges.iter() {
        let hits = range
            .clone()
            .filter(|&row| {
                let first = readers[0].texts(row);
                readers[1..]
                    .iter()
                    .all(|reader| reader.texts(row).iter().any(|text| first.contains(text)))
            })
            .map(|row| row as u32);
        matched
            .append(hits)
            .expect("ranges are ascending and disjoint");
    }
    Matches {
        matched,
        unknown: RoaringBitmap::new(),
    }
}
