//! Column accessors over a validated segment: [`StringColumn`] (sorted dictionary, bit-packed
//! ids, one roaring bitmap per id), [`NumericColumn`] (raw values plus a null bitmap) and
//! [`ComplexColumn`] (one serialized sketch per row).
//! All of them borrow the segment's bytes; none copies row data.

use roaring::RoaringBitmap;
use tantivy_bitpacker::BitUnpacker;

use super::layout::{ComplexLayout, NumericLayout, StringLayout};
use crate::schema::{ColumnType, ComplexKind};

/// One column of a [`crate::Segment`], by type.
#[derive(Clone, Copy)]
pub enum ColumnRef<'a> {
    String(StringColumn<'a>),
    Long(NumericColumn<'a, i64>),
    Double(NumericColumn<'a, f64>),
    Complex(ComplexColumn<'a>),
}

impl ColumnRef<'_> {
    /// The column's type.
    pub fn column_type(&self) -> ColumnType {
        match self {
            ColumnRef::String(_) => ColumnType::String,
            ColumnRef::Long(_) => ColumnType::Long,
            ColumnRef::Double(_) => ColumnType::Double,
            ColumnRef::Complex(column) => ColumnType::Complex(column.kind()),
        }
    }
}

/// A dictionary-encoded string column. Ids follow the dictionary's sorted order; when the
/// column has nulls, id 0 is null and values start at id 1.
///
/// A multi-value column ([`Self::is_multi_value`]) holds a list of ids per row
/// ([`Self::row_ids`]): possibly empty, possibly with repeats, in stored order. Its bitmap of
/// an id holds the rows holding that id at least once; the null id's bitmap also holds the
/// empty rows (Druid's rule: an empty row matches a `null` filter).
#[derive(Clone, Copy)]
pub struct StringColumn<'a> {
    has_nulls: bool,
    cardinality: u32,
    num_rows: usize,
    dict_offsets: &'a [u32],
    dict_bytes: &'a [u8],
    /// Multi-value only: `num_rows + 1` ends of each row's values in the packed ids.
    row_ends: Option<&'a [u32]>,
    ids: &'a [u8],
    unpacker: BitUnpacker,
    bitmap_offsets: &'a [u64],
    bitmap_data: &'a [u8],
}

impl<'a> StringColumn<'a> {
    pub(crate) fn new(bytes: &'a [u8], layout: &StringLayout, num_rows: usize) -> StringColumn<'a> {
        StringColumn {
            has_nulls: layout.has_nulls,
            cardinality: layout.cardinality,
            num_rows,
            dict_offsets: bytemuck::cast_slice(&bytes[layout.dict_offsets.clone()]),
            dict_bytes: &bytes[layout.dict_bytes.clone()],
            row_ends: layout
                .row_ends
                .clone()
                .map(|range| bytemuck::cast_slice(&bytes[range])),
            ids: &bytes[layout.ids.clone()],
            unpacker: BitUnpacker::new(layout.num_bits),
            bitmap_offsets: bytemuck::cast_slice(&bytes[layout.bitmap_offsets.clone()]),
            bitmap_data: &bytes[layout.bitmap_data.clone()],
        }
    }

    /// Number of dictionary ids, including the null entry when [`Self::has_nulls`].
    pub fn cardinality(&self) -> usize {
        self.cardinality as usize
    }

    /// Whether some row is null; then id 0 means null.
    pub fn has_nulls(&self) -> bool {
        self.has_nulls
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// The value of a dictionary id; `None` for the null id (and for ids out of range).
    pub fn value(&self, id: u32) -> Option<&'a str> {
        // Validated as UTF-8 on character boundaries when the segment was opened.
        std::str::from_utf8(self.value_bytes(id)?).ok()
    }

    /// The UTF-8 bytes of a dictionary id's value, without checking them again (for hashing,
    /// where the text is not needed); `None` as for [`Self::value`].
    pub fn value_bytes(&self, id: u32) -> Option<&'a [u8]> {
        let index = id.checked_sub(u32::from(self.has_nulls))? as usize;
        let end = *self.dict_offsets.get(index + 1)? as usize;
        let start = self.dict_offsets[index] as usize;
        Some(&self.dict_bytes[start..end])
    }

    /// The id of a value (`None` = null), by binary search in the sorted dictionary.
    pub fn lookup(&self, value: Option<&str>) -> Option<u32> {
        let shift = u32::from(self.has_nulls);
        let Some(value) = value else {
            return self.has_nulls.then_some(0);
        };
        let num_values = self.dict_offsets.len() - 1;
        let (mut low, mut high) = (0usize, num_values);
        while low < high {
            let middle = (low + high) / 2;
            let start = self.dict_offsets[middle] as usize;
            let end = self.dict_offsets[middle + 1] as usize;
            match self.dict_bytes[start..end].cmp(value.as_bytes()) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(middle as u32 + shift),
            }
        }
        None
    }

    /// Whether rows hold lists of values (format v2's multi-value columns).
    pub fn is_multi_value(&self) -> bool {
        self.row_ends.is_some()
    }

    /// Where row `row`'s values are in the packed ids.
    fn row_range(&self, row: usize) -> std::ops::Range<usize> {
        assert!(
            row < self.num_rows,
            "row {row} out of {} rows",
            self.num_rows
        );
        match self.row_ends {
            None => row..row + 1,
            Some(ends) => ends[row] as usize..ends[row + 1] as usize,
        }
    }

    /// The ids of one row, in stored order: exactly one for a single-value column; any
    /// number (repeats included) for a multi-value column.
    pub fn row_ids(&self, row: usize) -> impl ExactSizeIterator<Item = u32> + 'a {
        let (unpacker, ids) = (self.unpacker, self.ids);
        self.row_range(row)
            .map(move |at| unpacker.get(at as u32, ids) as u32)
    }

    /// The id of one row; for a multi-value column its first id, or the null id (0) for an
    /// empty row.
    pub fn row_id(&self, row: usize) -> u32 {
        let range = self.row_range(row);
        if range.is_empty() {
            return 0;
        }
        self.unpacker.get(range.start as u32, self.ids) as u32
    }

    /// Decodes the ids of rows `start_row..start_row + out.len()` into `out` (for a
    /// multi-value column, what [`Self::row_id`] gives).
    ///
    /// # Panics
    /// When the range goes past the last row.
    pub fn decode_ids(&self, start_row: usize, out: &mut [u32]) {
        assert!(
            start_row + out.len() <= self.num_rows,
            "rows {start_row}..{} out of {} rows",
            start_row + out.len(),
            self.num_rows
        );
        if self.is_multi_value() {
            for (offset, id) in out.iter_mut().enumerate() {
                *id = self.row_id(start_row + offset);
            }
            return;
        }
        const BLOCK: usize = 64;
        let mut block = [0u64; BLOCK];
        for (block_index, chunk) in out.chunks_mut(BLOCK).enumerate() {
            let decoded = &mut block[..chunk.len()];
            let first_row = start_row + block_index * BLOCK;
            self.unpacker.get_range(first_row as u32, self.ids, decoded);
            for (id, &wide) in chunk.iter_mut().zip(decoded.iter()) {
                *id = wide as u32;
            }
        }
    }

    /// The rows whose id is `id` (for a multi-value column: the rows holding `id`, and for
    /// the null id also the empty rows); empty for ids out of range.
    pub fn bitmap(&self, id: u32) -> RoaringBitmap {
        let index = id as usize;
        let Some(&end) = self.bitmap_offsets.get(index + 1) else {
            return RoaringBitmap::new();
        };
        let start = self.bitmap_offsets[index] as usize;
        RoaringBitmap::deserialize_unchecked_from(&self.bitmap_data[start..end as usize])
            .expect("string bitmaps are written by this crate and covered by the checksum")
    }
}

/// A numeric column: raw values (null rows hold 0) and the set of null rows.
#[derive(Clone, Copy)]
pub struct NumericColumn<'a, T> {
    values: &'a [T],
    nulls: Option<&'a RoaringBitmap>,
}

impl<'a, T: bytemuck::Pod> NumericColumn<'a, T> {
    pub(crate) fn new(bytes: &'a [u8], layout: &'a NumericLayout) -> NumericColumn<'a, T> {
        NumericColumn {
            values: bytemuck::cast_slice(&bytes[layout.values.clone()]),
            nulls: layout.nulls.as_ref(),
        }
    }
}

impl<'a, T> NumericColumn<'a, T> {
    /// A column over values computed outside a segment (a query's virtual column): one
    /// value per row, 0 in null rows, and the null rows (`None` or empty: no nulls).
    pub fn from_parts(values: &'a [T], nulls: Option<&'a RoaringBitmap>) -> NumericColumn<'a, T> {
        NumericColumn {
            values,
            nulls: nulls.filter(|nulls| !nulls.is_empty()),
        }
    }

    /// One value per row, borrowed in place; null rows hold 0.
    pub fn values(&self) -> &'a [T] {
        self.values
    }

    /// The null rows, or `None` when no row is null.
    pub fn null_bitmap(&self) -> Option<RoaringBitmap> {
        self.nulls.cloned()
    }

    /// The null rows without cloning, or `None` when no row is null.
    pub fn null_bitmap_ref(&self) -> Option<&'a RoaringBitmap> {
        self.nulls
    }

    /// Whether this row is null.
    pub fn is_null(&self, row: usize) -> bool {
        self.nulls.is_some_and(|nulls| nulls.contains(row as u32))
    }
}

/// A complex column: one byte string (a serialized sketch) per row; an empty one is null.
#[derive(Clone, Copy)]
pub struct ComplexColumn<'a> {
    kind: ComplexKind,
    offsets: &'a [u64],
    data: &'a [u8],
}

impl<'a> ComplexColumn<'a> {
    pub(crate) fn new(bytes: &'a [u8], layout: &ComplexLayout) -> ComplexColumn<'a> {
        ComplexColumn {
            kind: layout.kind,
            offsets: bytemuck::cast_slice(&bytes[layout.offsets.clone()]),
            data: &bytes[layout.data.clone()],
        }
    }

    /// The sketch kind of every row.
    pub fn kind(&self) -> ComplexKind {
        self.kind
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The bytes of one row, borrowed in place; `None` when the row is null.
    ///
    /// # Panics
    /// When `row` is out of range.
    pub fn get(&self, row: usize) -> Option<&'a [u8]> {
        let start = self.offsets[row] as usize;
        let end = self.offsets[row + 1] as usize;
        (end > start).then(|| &self.data[start..end])
    }
}
