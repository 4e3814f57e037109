//! Where an aggregator reads its values: a column of one segment, read in place, with null
//! rows (and filtered-aggregator rows) as dense bit sets for cheap per-row tests.

use std::cell::OnceCell;
use std::ops::Range;

use henge_segment::{ColumnRef, ComplexColumn, StringColumn};
use roaring::RoaringBitmap;

use crate::columns::Columns;
use crate::filter::java_double_string;
use crate::model::spec::TIME_COLUMN;
use crate::order::parse_decimal;

/// A column of one segment as an aggregator input.
pub(super) enum Input<'a> {
    /// A long column (or `__time`) and its null rows as a dense bit set.
    Longs(&'a [i64], Option<Vec<u64>>),
    Doubles(&'a [f64], Option<Vec<u64>>),
    /// A string column, and its dictionary values as numbers for the aggregators that read
    /// numbers.
    Strings(StringColumn<'a>, Numbers),
    /// A column of sketches (read only by sketch aggregators; null to every other one).
    Complex(ComplexColumn<'a>),
    /// A column the segment does not have: every row is null.
    Missing,
}

/// A bitmap as a dense bit set over `num_rows` rows; `None` when it is empty.
pub(super) fn dense_bits(rows: Option<&RoaringBitmap>, num_rows: usize) -> Option<Vec<u64>> {
    let rows = rows.filter(|rows| !rows.is_empty())?;
    let mut bits = vec![0u64; num_rows.div_ceil(64)];
    for row in rows {
        if (row as usize) < num_rows {
            bits[row as usize / 64] |= 1 << (row % 64);
        }
    }
    Some(bits)
}

/// Whether `row` is set in a dense bit set (`None` is the empty set).
pub(super) fn is_set(bits: &Option<Vec<u64>>, row: usize) -> bool {
    bits.as_ref()
        .is_some_and(|bits| bits[row / 64] & (1 << (row % 64)) != 0)
}

impl<'a> Input<'a> {
    pub(super) fn open(segment: &'a Columns<'_>, field: &str) -> Input<'a> {
        if field == TIME_COLUMN {
            return Input::Longs(segment.times(), None);
        }
        match segment.column(field) {
            None => Input::Missing,
            Some(ColumnRef::Long(column)) => Input::Longs(
                column.values(),
                dense_bits(column.null_bitmap_ref(), segment.num_rows()),
            ),
            Some(ColumnRef::Double(column)) => Input::Doubles(
                column.values(),
                dense_bits(column.null_bitmap_ref(), segment.num_rows()),
            ),
            Some(ColumnRef::String(column)) => Input::Strings(column, Numbers::default()),
            Some(ColumnRef::Complex(column)) => Input::Complex(column),
        }
    }

    pub(super) fn long_at(&self, row: usize) -> Option<i64> {
        match self {
            Input::Longs(values, nulls) => (!is_set(nulls, row)).then(|| values[row]),
            // Java's (long) cast: truncation, saturating, NaN to 0.
            Input::Doubles(values, nulls) => (!is_set(nulls, row)).then(|| values[row] as i64),
            Input::Strings(column, numbers) => {
                single_id(column, row).and_then(|id| numbers.get(column, id).map(|v| v as i64))
            }
            Input::Complex(_) | Input::Missing => None,
        }
    }

    pub(super) fn double_at(&self, row: usize) -> Option<f64> {
        match self {
            Input::Longs(values, nulls) => (!is_set(nulls, row)).then(|| values[row] as f64),
            Input::Doubles(values, nulls) => (!is_set(nulls, row)).then(|| values[row]),
            Input::Strings(column, numbers) => {
                single_id(column, row).and_then(|id| numbers.get(column, id))
            }
            Input::Complex(_) | Input::Missing => None,
        }
    }

    /// The value `doubleMean` adds for a row: nulls are skipped, strings that are not numbers
    /// count as 0 (`Numbers.tryParseDouble(value, 0)`).
    pub(super) fn mean_input_at(&self, row: usize) -> Option<f64> {
        match self {
            Input::Strings(column, numbers) => {
                let id = single_id(column, row)?;
                column
                    .value(id)
                    .map(|_| numbers.get(column, id).unwrap_or(0.0))
            }
            other => other.double_at(row),
        }
    }

    /// A row's value as text (Java's `String.valueOf` for numbers).
    pub(super) fn string_at(&self, row: usize) -> Option<String> {
        match self {
            Input::Longs(values, nulls) => (!is_set(nulls, row)).then(|| values[row].to_string()),
            Input::Doubles(values, nulls) => {
                (!is_set(nulls, row)).then(|| java_double_string(values[row]))
            }
            Input::Strings(column, _) if column.is_multi_value() => multi_value_text(column, row),
            Input::Strings(column, _) => column.value(column.row_id(row)).map(str::to_owned),
            Input::Complex(_) | Input::Missing => None,
        }
    }

    /// Like [`Self::string_at`], but only the first value of a multi-value row (null when
    /// it is empty): `stringAny` with `aggregateMultipleValues: false`.
    pub(super) fn first_string_at(&self, row: usize) -> Option<String> {
        match self {
            Input::Strings(column, _) if column.is_multi_value() => {
                let id = column.row_ids(row).next()?;
                column.value(id).map(str::to_owned)
            }
            other => other.string_at(row),
        }
    }

    /// Non-null rows in `rows` of a numeric input.
    pub(super) fn non_null_count(&self, rows: &Range<usize>) -> usize {
        match self {
            Input::Longs(_, Some(bits)) | Input::Doubles(_, Some(bits)) => {
                rows.len() - count_bits(bits, rows)
            }
            _ => rows.len(),
        }
    }
}

/// A string column's dictionary values parsed as numbers (`None`: not a number), on the first
/// read: only aggregators that read numbers pay for the pass over the dictionary.
#[derive(Default)]
pub(super) struct Numbers(OnceCell<Vec<Option<f64>>>);

impl Numbers {
    pub(super) fn get(&self, column: &StringColumn<'_>, id: u32) -> Option<f64> {
        let parsed = self.0.get_or_init(|| {
            (0..column.cardinality() as u32)
                .map(|id| column.value(id).and_then(|text| parse_decimal(text.trim())))
                .collect()
        });
        parsed[id as usize]
    }
}

/// The id of a row holding exactly one value; a multi-value row with none or several is
/// null to numeric aggregators.
fn single_id(column: &StringColumn<'_>, row: usize) -> Option<u32> {
    if !column.is_multi_value() {
        return Some(column.row_id(row));
    }
    let mut ids = column.row_ids(row);
    (ids.len() == 1).then(|| ids.next()).flatten()
}

/// A multi-value row as the string first/last/any aggregators read it (Druid's
/// `DimensionHandlerUtils.convertObjectToString` of `rowToObject`): null when empty, the value
/// for one, Java's `List.toString` (`[a, b]`, nulls as `null`) for more.
fn multi_value_text(column: &StringColumn<'_>, row: usize) -> Option<String> {
    let ids = column.row_ids(row);
    match ids.len() {
        0 => None,
        1 => ids
            .map(|id| column.value(id))
            .next()
            .flatten()
            .map(str::to_owned),
        _ => {
            let texts: Vec<&str> = ids.map(|id| column.value(id).unwrap_or("null")).collect();
            Some(format!("[{}]", texts.join(", ")))
        }
    }
}

/// Set bits of `bits` at positions `range`.
pub(super) fn count_bits(bits: &[u64], range: &Range<usize>) -> usize {
    let mut count = 0;
    let mut position = range.start;
    while position < range.end {
        let word = position / 64;
        let offset = position % 64;
        let width = (64 - offset).min(range.end - position);
        let mask = if width == 64 {
            u64::MAX
        } else {
            ((1u64 << width) - 1) << offset
        };
        count += (bits[word] & mask).count_ones() as usize;
        position += width;
    }
    count
}

/// Cuts `text` to at most `max_bytes` bytes of UTF-8, on a character boundary (Druid's
/// `StringUtils.chop`).
pub(super) fn chop(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bits_in_ranges() {
        let bits = vec![u64::MAX, 0b1010, 1];
        assert_eq!(count_bits(&bits, &(0..64)), 64);
        assert_eq!(count_bits(&bits, &(60..70)), 4 + 2);
        assert_eq!(count_bits(&bits, &(64..129)), 3);
        assert_eq!(count_bits(&bits, &(5..5)), 0);
    }

    #[test]
    fn chops_on_character_boundaries() {
        assert_eq!(chop("héllo".into(), 2), "h");
        assert_eq!(chop("héllo".into(), 3), "hé");
        assert_eq!(chop("abc".into(), 10), "abc");
    }
}
