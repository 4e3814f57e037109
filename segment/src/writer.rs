//! Low-level serialization of the current format (`segment/FORMAT.md`): the header, column blobs with their alignment
//! padding, and the footer, all through one checksumming, position-tracking writer. The
//! builder decides what to write (sorted rows); this module decides how the bytes look.

use std::io::{self, BufWriter, Write};

use roaring::RoaringBitmap;
use tantivy_bitpacker::{compute_num_bits, BitPacker};

use crate::format::{
    align8, BlobRef, Footer, CODEC_COMPLEX, CODEC_STRING_DICT, COMPLEX_HEADER_LEN, HEADER_LEN,
    NUMERIC_HEADER_LEN, STRING_HEADER_LEN,
};
use crate::schema::ComplexKind;
use crate::{FORMAT_VERSION, MAGIC};

/// The rows of a string column in segment order: one id per row, or (multi-value) every
/// row's ids back to back and the end of each row in them.
pub(crate) enum StringRows {
    Single(Vec<u32>),
    Multi { ends: Vec<u32>, ids: Vec<u32> },
}

impl StringRows {
    fn num_rows(&self) -> usize {
        match self {
            StringRows::Single(ids) => ids.len(),
            StringRows::Multi { ends, .. } => ends.len(),
        }
    }

    /// The bit-packed ids: one per row, or every value of every row.
    fn packed_ids(&self) -> &[u32] {
        match self {
            StringRows::Single(ids) | StringRows::Multi { ids, .. } => ids,
        }
    }
}

/// Writes a segment front to back, hashing every byte and tracking the position.
pub(crate) struct SegmentWriter<W: Write> {
    /// The CRC is taken below the buffer, on whole buffer flushes, where it runs at full speed
    /// (most writes above are a few bytes: offsets, packed ids, bitmap pieces).
    out: BufWriter<Hashing<W>>,
    position: u64,
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What [`SegmentWriter::finish`] reports.
pub(crate) struct Written {
    pub(crate) bytes: u64,
    /// CRC32 of the whole file, footer included.
    pub(crate) file_crc32: u32,
}

impl<W: Write> Write for SegmentWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf)?;
        self.position += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> SegmentWriter<W> {
    /// Starts a segment: writes the 8-byte header.
    pub(crate) fn start(writer: W) -> io::Result<SegmentWriter<W>> {
        let mut segment_writer = SegmentWriter {
            out: BufWriter::with_capacity(
                1 << 16,
                Hashing {
                    inner: writer,
                    hasher: crc32fast::Hasher::new(),
                },
            ),
            position: 0,
        };
        segment_writer.write_all(MAGIC)?;
        segment_writer.write_all(&FORMAT_VERSION.to_le_bytes())?;
        debug_assert_eq!(segment_writer.position, HEADER_LEN as u64);
        Ok(segment_writer)
    }

    fn pad_to_8(&mut self) -> io::Result<()> {
        let padding = align8(self.position as usize) - self.position as usize;
        self.write_all(&[0u8; 8][..padding])
    }

    /// Writes a numeric blob: `[codec][has_nulls][0u16][rows u32][null bitmap len u64]`,
    /// the raw values, then the serialized null bitmap if any.
    pub(crate) fn write_numeric_blob<T: bytemuck::Pod>(
        &mut self,
        codec: u8,
        values: &[T],
        nulls_opt: Option<&RoaringBitmap>,
    ) -> io::Result<BlobRef> {
        self.pad_to_8()?;
        let offset = self.position;
        let num_rows = row_count(values.len())?;
        let null_len = nulls_opt.map_or(0, RoaringBitmap::serialized_size);
        let mut header = [0u8; NUMERIC_HEADER_LEN];
        header[0] = codec;
        header[1] = u8::from(nulls_opt.is_some());
        header[4..8].copy_from_slice(&num_rows.to_le_bytes());
        header[8..16].copy_from_slice(&(null_len as u64).to_le_bytes());
        self.write_all(&header)?;
        self.write_all(bytemuck::cast_slice(values))?;
        if let Some(nulls) = nulls_opt {
            nulls.serialize_into(&mut *self)?;
        }
        Ok(BlobRef {
            offset,
            length: self.position - offset,
        })
    }

    /// Writes a string blob for a sorted dictionary (`values`, the null entry excluded) and
    /// the rows' ids into it (id 0 is null when `has_nulls`).
    pub(crate) fn write_string_blob(
        &mut self,
        values: &[&str],
        has_nulls: bool,
        rows: &StringRows,
    ) -> io::Result<BlobRef> {
        self.pad_to_8()?;
        let offset = self.position;
        let num_rows = row_count(rows.num_rows())?;
        let ids = rows.packed_ids();
        let cardinality = values.len() + usize::from(has_nulls);
        let cardinality_u32 = u32::try_from(cardinality)
            .map_err(|_| invalid_input("string dictionary has more than u32::MAX entries"))?;
        let num_bits = compute_num_bits(u64::from(cardinality_u32.saturating_sub(1)));
        let dict_bytes: usize = values.iter().map(|value| value.len()).sum();
        if u32::try_from(dict_bytes).is_err() {
            return Err(invalid_input("string dictionary exceeds 4 gib"));
        }
        let ids_offset = align8(STRING_HEADER_LEN + 4 * (values.len() + 1) + dict_bytes);
        // Multi-value: the row ends come first, the packed ids after them.
        let packed_offset = match rows {
            StringRows::Single(_) => ids_offset,
            StringRows::Multi { ends, .. } => align8(ids_offset + 4 * (ends.len() + 1)),
        };
        let ids_len = (ids.len() * usize::from(num_bits)).div_ceil(8);
        let bitmaps_offset = align8(packed_offset + ids_len);

        let mut bitmaps = match rows {
            StringRows::Single(ids) => rows_by_id(ids, cardinality),
            StringRows::Multi { ends, ids } => rows_by_value(ends, ids, cardinality),
        };
        for bitmap in &mut bitmaps {
            bitmap.optimize();
        }

        let mut header = [0u8; STRING_HEADER_LEN];
        header[0] = CODEC_STRING_DICT;
        header[1] = u8::from(matches!(rows, StringRows::Multi { .. }));
        header[2] = u8::from(has_nulls);
        header[3] = num_bits;
        header[4..8].copy_from_slice(&cardinality_u32.to_le_bytes());
        header[8..12].copy_from_slice(&num_rows.to_le_bytes());
        header[16..24].copy_from_slice(&(ids_offset as u64).to_le_bytes());
        header[24..32].copy_from_slice(&(bitmaps_offset as u64).to_le_bytes());
        self.write_all(&header)?;

        let mut end: u32 = 0;
        self.write_all(&end.to_le_bytes())?;
        for value in values {
            end += value.len() as u32;
            self.write_all(&end.to_le_bytes())?;
        }
        for value in values {
            self.write_all(value.as_bytes())?;
        }
        self.pad_to_8()?;
        debug_assert_eq!(self.position - offset, ids_offset as u64);
        if let StringRows::Multi { ends, .. } = rows {
            self.write_all(&0u32.to_le_bytes())?;
            for end in ends {
                self.write_all(&end.to_le_bytes())?;
            }
            self.pad_to_8()?;
            debug_assert_eq!(self.position - offset, packed_offset as u64);
        }

        let mut packer = BitPacker::new();
        for &id in ids {
            packer.write(u64::from(id), num_bits, &mut *self)?;
        }
        packer.close(&mut *self)?;
        self.pad_to_8()?;
        debug_assert_eq!(self.position - offset, bitmaps_offset as u64);

        let mut bitmap_end: u64 = 0;
        self.write_all(&bitmap_end.to_le_bytes())?;
        for bitmap in &bitmaps {
            bitmap_end += bitmap.serialized_size() as u64;
            self.write_all(&bitmap_end.to_le_bytes())?;
        }
        for bitmap in &bitmaps {
            bitmap.serialize_into(&mut *self)?;
        }
        Ok(BlobRef {
            offset,
            length: self.position - offset,
        })
    }

    /// Writes a complex blob: `[codec][kind][0u16][rows u32][data len u64]`, the row end
    /// offsets (`rows + 1` u64s, starting with 0), then the concatenated row bytes. `rows`
    /// yields each row's bytes in segment order; an empty row is null.
    pub(crate) fn write_complex_blob<'r>(
        &mut self,
        kind: ComplexKind,
        rows: impl Iterator<Item = &'r [u8]> + Clone,
    ) -> io::Result<BlobRef> {
        self.pad_to_8()?;
        let offset = self.position;
        let num_rows = row_count(rows.clone().count())?;
        let data_len: u64 = rows.clone().map(|row| row.len() as u64).sum();
        let mut header = [0u8; COMPLEX_HEADER_LEN];
        header[0] = CODEC_COMPLEX;
        header[1] = kind.id();
        header[4..8].copy_from_slice(&num_rows.to_le_bytes());
        header[8..16].copy_from_slice(&data_len.to_le_bytes());
        self.write_all(&header)?;
        let mut end: u64 = 0;
        self.write_all(&end.to_le_bytes())?;
        for row in rows.clone() {
            end += row.len() as u64;
            self.write_all(&end.to_le_bytes())?;
        }
        for row in rows {
            self.write_all(row)?;
        }
        Ok(BlobRef {
            offset,
            length: self.position - offset,
        })
    }

    /// Writes the footer (`[meta json][meta len u32][crc32 u32][version u32][magic]`) and
    /// flushes.
    pub(crate) fn finish(mut self, footer: &Footer) -> io::Result<Written> {
        let meta = serde_json::to_vec(footer).map_err(io::Error::other)?;
        let meta_len =
            u32::try_from(meta.len()).map_err(|_| invalid_input("segment footer exceeds 4 gib"))?;
        self.write_all(&meta)?;
        self.write_all(&meta_len.to_le_bytes())?;
        // Everything so far must have reached the hasher.
        self.out.flush()?;
        let content_crc = self.out.get_ref().hasher.clone().finalize();
        self.write_all(&content_crc.to_le_bytes())?;
        self.write_all(&FORMAT_VERSION.to_le_bytes())?;
        self.write_all(MAGIC)?;
        self.out.flush()?;
        Ok(Written {
            bytes: self.position,
            file_crc32: self.out.get_ref().hasher.clone().finalize(),
        })
    }
}

fn row_count(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| invalid_input("a segment holds at most u32::MAX rows"))
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// One bitmap per dictionary id for a multi-value column: the rows holding the id at least
/// once; the null id (0, present whenever a row is empty) also holds the empty rows.
fn rows_by_value(ends: &[u32], ids: &[u32], cardinality: usize) -> Vec<RoaringBitmap> {
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); cardinality];
    let mut start = 0usize;
    for (row, &end) in ends.iter().enumerate() {
        let row = row as u32;
        let values = &ids[start..end as usize];
        if values.is_empty() {
            rows[0].push(row);
        }
        for &id in values {
            let bucket = &mut rows[id as usize];
            if bucket.last() != Some(&row) {
                bucket.push(row);
            }
        }
        start = end as usize;
    }
    // A row's values are visited together, so comparing with the last row pushed is enough
    // to keep every bucket strictly ascending.
    rows.into_iter()
        .map(|rows| RoaringBitmap::from_sorted_iter(rows).expect("rows ascend within an id"))
        .collect()
}

/// One bitmap per dictionary id: a counting sort groups the (ascending) row numbers by id,
/// then each group is bulk-loaded. Cheaper than pushing rows into bitmaps one at a time.
fn rows_by_id(ids: &[u32], cardinality: usize) -> Vec<RoaringBitmap> {
    let mut starts = vec![0usize; cardinality + 1];
    for &id in ids {
        starts[id as usize + 1] += 1;
    }
    for id in 0..cardinality {
        starts[id + 1] += starts[id];
    }
    let mut cursor = starts.clone();
    let mut rows = vec![0u32; ids.len()];
    for (row, &id) in ids.iter().enumerate() {
        rows[cursor[id as usize]] = row as u32;
        cursor[id as usize] += 1;
    }
    starts
        .windows(2)
        .map(|range| {
            RoaringBitmap::from_sorted_iter(rows[range[0]..range[1]].iter().copied())
                .expect("rows ascend within an id")
        })
        .collect()
}
