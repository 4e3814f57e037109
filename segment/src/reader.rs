//! [`Segment`]: an opened, validated, zero-copy view over the bytes of one segment file
//! (an mmap from the storage crate, or a `Vec<u8>` in tests). Column accessors live in
//! `columns`; the validating parse in `layout`.

mod columns;
mod layout;

use std::fmt;
use std::sync::Arc;

pub use self::columns::{ColumnRef, ComplexColumn, NumericColumn, StringColumn};
use self::layout::{ColumnLayout, Layout};
use crate::schema::ColumnSpec;
use crate::Result;

/// The bytes of a segment. The storage crate passes an mmap; tests pass a `Vec<u8>`.
/// `as_ref` must return the same slice on every call.
pub type SegmentBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// An opened segment. Cloning is cheap (one `Arc`); it is `Send + Sync`.
#[derive(Clone)]
pub struct Segment {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    layout: Layout,
    size: u64,
}

/// Where the bytes live: the caller's buffer when it is 8-byte aligned, else an aligned copy
/// (so that `i64`/`f64`/`u64` slices can be borrowed in place).
enum Storage {
    Shared(SegmentBytes),
    Aligned { words: Vec<u64>, len: usize },
}

impl Storage {
    fn new(bytes: SegmentBytes) -> Storage {
        let slice = (*bytes).as_ref();
        if slice.as_ptr().align_offset(8) == 0 {
            return Storage::Shared(bytes);
        }
        let mut words = vec![0u64; slice.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..slice.len()].copy_from_slice(slice);
        Storage::Aligned {
            words,
            len: slice.len(),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Shared(bytes) => (**bytes).as_ref(),
            Storage::Aligned { words, len } => &bytemuck::cast_slice::<u64, u8>(words)[..*len],
        }
    }
}

impl Segment {
    /// Opens a segment: checks magic, version and the CRC32 of the whole content, then parses
    /// the footer and the column headers (no per-row decoding). Copies the bytes once if they
    /// are not 8-byte aligned.
    pub fn open(bytes: SegmentBytes) -> Result<Segment> {
        let storage = Storage::new(bytes);
        let layout = layout::parse(storage.bytes())?;
        let size = storage.bytes().len() as u64;
        Ok(Segment {
            inner: Arc::new(Inner {
                storage,
                layout,
                size,
            }),
        })
    }

    /// Opens a segment held in a vector.
    pub fn from_vec(bytes: Vec<u8>) -> Result<Segment> {
        Segment::open(Arc::new(bytes))
    }

    fn bytes(&self) -> &[u8] {
        self.inner.storage.bytes()
    }

    pub fn num_rows(&self) -> usize {
        self.inner.layout.num_rows
    }

    /// The first timestamp, or `None` for an empty segment.
    pub fn min_time(&self) -> Option<i64> {
        self.times().first().copied()
    }

    /// The last timestamp, or `None` for an empty segment.
    pub fn max_time(&self) -> Option<i64> {
        self.times().last().copied()
    }

    /// Row timestamps (epoch ms), ascending, borrowed in place.
    pub fn times(&self) -> &[i64] {
        bytemuck::cast_slice(&self.bytes()[self.inner.layout.times.clone()])
    }

    /// The columns, in segment order (the time column is implicit).
    pub fn schema(&self) -> &[ColumnSpec] {
        &self.inner.layout.schema
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<ColumnRef<'_>> {
        let index = self.schema().iter().position(|spec| spec.name == name)?;
        self.column_at(index)
    }

    /// The column at this position of [`Segment::schema`].
    pub fn column_at(&self, index: usize) -> Option<ColumnRef<'_>> {
        let spec = self.schema().get(index)?;
        let layout = &self.inner.layout.columns[index];
        Some(match layout {
            ColumnLayout::String(string) => {
                ColumnRef::String(StringColumn::new(self.bytes(), string, self.num_rows()))
            }
            ColumnLayout::Numeric(numeric) => match spec.column_type {
                crate::ColumnType::Double => {
                    ColumnRef::Double(NumericColumn::new(self.bytes(), numeric))
                }
                _ => ColumnRef::Long(NumericColumn::new(self.bytes(), numeric)),
            },
            ColumnLayout::Complex(complex) => {
                ColumnRef::Complex(ComplexColumn::new(self.bytes(), complex))
            }
        })
    }

    /// The opaque metadata JSON given to [`crate::SegmentBuilder::set_metadata`].
    pub fn metadata(&self) -> &serde_json::Value {
        &self.inner.layout.metadata
    }

    /// Size of the file in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.inner.size
    }

    /// CRC32 of the whole file, footer included (`crc32fast::hash(bytes)`): the value of
    /// [`crate::WriteSummary::crc32`] and [`crate::DataSegment::crc32`].
    pub fn crc32(&self) -> u32 {
        self.inner.layout.file_crc32
    }
}

impl fmt::Debug for Segment {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Segment")
            .field("num_rows", &self.num_rows())
            .field("size_bytes", &self.size_bytes())
            .field("crc32", &format_args!("{:#010x}", self.crc32()))
            .field("schema", &self.schema())
            .finish()
    }
}
