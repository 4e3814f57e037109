//! Write/open round trips of hand-written segments: sorting, nulls, coercion, empty
//! segments, unaligned buffers, and the errors `Segment::open` reports.

use std::sync::Arc;

use henge_segment::{
    ColumnRef, ColumnSpec, ColumnType, Segment, SegmentBuilder, SegmentError, Value, ValueRef,
    FORMAT_VERSION, MAGIC,
};
use serde_json::json;

fn write(builder: SegmentBuilder) -> Vec<u8> {
    let mut bytes = Vec::new();
    let summary = builder.write(&mut bytes).unwrap();
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(summary.crc32, crc32fast::hash(&bytes));
    bytes
}

fn strings(segment: &Segment, name: &str) -> Vec<Option<String>> {
    let Some(ColumnRef::String(column)) = segment.column(name) else {
        panic!("{name} is not a string column")
    };
    (0..segment.num_rows())
        .map(|row| column.value(column.row_id(row)).map(str::to_string))
        .collect()
}

fn longs(segment: &Segment, name: &str) -> Vec<Option<i64>> {
    let Some(ColumnRef::Long(column)) = segment.column(name) else {
        panic!("{name} is not a long column")
    };
    let values = column.values();
    (0..segment.num_rows())
        .map(|row| (!column.is_null(row)).then_some(values[row]))
        .collect()
}

#[test]
fn sorts_by_time_then_dimensions_with_nulls_first() {
    let mut builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::dimension("n", ColumnType::Long),
        ColumnSpec::metric("added", ColumnType::Long),
    ]);
    builder.push_row(20, &["b".into(), 1i64.into(), 1i64.into()]);
    builder.push_row(10, &["b".into(), Value::Null, 2i64.into()]);
    builder.push_row(10, &["a".into(), 5i64.into(), 3i64.into()]);
    builder.push_row(10, &[Value::Null, 9i64.into(), 4i64.into()]);
    builder.push_row(10, &["b".into(), (-1i64).into(), Value::Null]);
    builder.set_metadata(json!({"rollup": true}));
    let summary_rows = builder.num_rows();
    let segment = Segment::from_vec(write(builder)).unwrap();
    assert_eq!(segment.num_rows(), summary_rows);
    assert_eq!(segment.times(), [10, 10, 10, 10, 20]);
    assert_eq!(
        (segment.min_time(), segment.max_time()),
        (Some(10), Some(20))
    );
    assert_eq!(
        strings(&segment, "page"),
        [
            None,
            Some("a".into()),
            Some("b".into()),
            Some("b".into()),
            Some("b".into())
        ]
    );
    assert_eq!(
        longs(&segment, "n"),
        [Some(9), Some(5), None, Some(-1), Some(1)]
    );
    assert_eq!(
        longs(&segment, "added"),
        [Some(4), Some(3), Some(2), None, Some(1)]
    );
    assert_eq!(segment.metadata(), &json!({"rollup": true}));

    let Some(ColumnRef::String(page)) = segment.column("page") else {
        unreachable!()
    };
    assert!(page.has_nulls());
    assert_eq!(page.cardinality(), 3);
    assert_eq!(page.lookup(None), Some(0));
    assert_eq!(page.lookup(Some("a")), Some(1));
    assert_eq!(page.lookup(Some("b")), Some(2));
    assert_eq!(page.lookup(Some("c")), None);
    assert_eq!(page.bitmap(2).iter().collect::<Vec<_>>(), [2, 3, 4]);
    assert!(page.bitmap(99).is_empty());
    let mut ids = [0u32; 4];
    page.decode_ids(1, &mut ids);
    assert_eq!(ids, [1, 2, 2, 2]);
    let Some(ColumnRef::Long(added)) = segment.column("added") else {
        unreachable!()
    };
    assert_eq!(added.null_bitmap().unwrap().iter().collect::<Vec<_>>(), [3]);
    let Some(ColumnRef::Long(n)) = segment.column("n") else {
        unreachable!()
    };
    assert_eq!(n.values()[2], 0, "null rows hold 0");
}

#[test]
fn coerces_values_into_column_types() {
    let mut builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("s", ColumnType::String),
        ColumnSpec::metric("l", ColumnType::Long),
        ColumnSpec::metric("d", ColumnType::Double),
    ]);
    builder.push_row_with(0, |index| match index {
        0 => ValueRef::Long(42),
        1 => ValueRef::Str("17.9"),
        _ => ValueRef::Long(3),
    });
    builder.push_row(1, &[Value::Double(0.5), Value::Double(-2.5), "x".into()]);
    let segment = Segment::from_vec(write(builder)).unwrap();
    assert_eq!(
        strings(&segment, "s"),
        [Some("42".into()), Some("0.5".into())]
    );
    assert_eq!(longs(&segment, "l"), [Some(17), Some(-2)]);
    let Some(ColumnRef::Double(d)) = segment.column("d") else {
        unreachable!()
    };
    assert_eq!(d.values(), [3.0, 0.0]);
    assert!(d.is_null(1) && !d.is_null(0));
}

#[test]
fn empty_segment_round_trips() {
    let builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Double),
    ]);
    let mut bytes = Vec::new();
    let summary = builder.write(&mut bytes).unwrap();
    assert_eq!(
        (summary.num_rows, summary.min_time, summary.max_time),
        (0, None, None)
    );
    let segment = Segment::from_vec(bytes).unwrap();
    assert_eq!(segment.num_rows(), 0);
    assert!(segment.times().is_empty());
    assert_eq!((segment.min_time(), segment.max_time()), (None, None));
    assert_eq!(segment.schema().len(), 2);
    let Some(ColumnRef::String(page)) = segment.column("page") else {
        unreachable!()
    };
    assert_eq!(page.cardinality(), 0);
    assert_eq!(page.lookup(Some("x")), None);
    assert_eq!(page.lookup(None), None);
    page.decode_ids(0, &mut []);
    let Some(ColumnRef::Double(added)) = segment.column("added") else {
        unreachable!()
    };
    assert!(added.values().is_empty() && added.null_bitmap().is_none());
    assert!(segment.column("missing").is_none());
    assert_eq!(segment.metadata(), &json!({}));

    let no_columns = Segment::from_vec(write(SegmentBuilder::new(Vec::new()))).unwrap();
    assert_eq!(no_columns.num_rows(), 0);
}

/// Bytes whose slice starts one byte into a vector, so it is never 8-byte aligned.
struct Unaligned(Vec<u8>);

impl AsRef<[u8]> for Unaligned {
    fn as_ref(&self) -> &[u8] {
        &self.0[1..]
    }
}

#[test]
fn opens_unaligned_bytes_by_copying() {
    let mut builder = SegmentBuilder::new(vec![ColumnSpec::metric("v", ColumnType::Long)]);
    for row in 0..100i64 {
        builder.push_row(row, &[Value::Long(row * 3)]);
    }
    let bytes = write(builder);
    let mut shifted = vec![0u8];
    shifted.extend_from_slice(&bytes);
    let unaligned = Unaligned(shifted);
    assert_ne!(unaligned.as_ref().as_ptr().align_offset(8), 0);
    let segment = Segment::open(Arc::new(unaligned)).unwrap();
    assert_eq!(segment.size_bytes(), bytes.len() as u64);
    assert_eq!(segment.crc32(), crc32fast::hash(&bytes));
    assert_eq!(longs(&segment, "v")[99], Some(297));
    let clone = segment.clone();
    std::thread::spawn(move || assert_eq!(clone.times().len(), 100))
        .join()
        .unwrap();
}

#[test]
fn open_reports_what_is_wrong() {
    let mut builder = SegmentBuilder::new(vec![ColumnSpec::metric("v", ColumnType::Long)]);
    builder.push_row(1, &[Value::Long(1)]);
    let bytes = write(builder);
    let len = bytes.len();

    assert!(matches!(
        Segment::from_vec(bytes[..10].to_vec()),
        Err(SegmentError::TooShort { len: 10 })
    ));
    let mut bad_magic = bytes.clone();
    bad_magic[len - 1] ^= 1;
    assert!(matches!(
        Segment::from_vec(bad_magic),
        Err(SegmentError::BadMagic)
    ));
    let mut bad_version = bytes.clone();
    bad_version[len - 8..len - 4].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        Segment::from_vec(bad_version),
        Err(SegmentError::UnsupportedVersion(3))
    ));
    let mut too_old = bytes.clone();
    too_old[len - 8..len - 4].copy_from_slice(&(FORMAT_VERSION - 2).to_le_bytes());
    assert!(matches!(
        Segment::from_vec(too_old),
        Err(SegmentError::UnsupportedVersion(0))
    ));
    let mut bad_data = bytes.clone();
    bad_data[20] ^= 0x40;
    let error = Segment::from_vec(bad_data).unwrap_err();
    assert!(matches!(error, SegmentError::ChecksumMismatch { .. }));
    assert!(error.to_string().starts_with("segment checksum mismatch"));
    assert_eq!(&bytes[..4], MAGIC);
}

#[test]
fn an_unsorted_string_dictionary_fails_open() {
    let mut builder = SegmentBuilder::new(vec![ColumnSpec::dimension("s", ColumnType::String)]);
    builder.push_row(1, &[Value::String("ax".into())]);
    builder.push_row(2, &[Value::String("bx".into())]);
    let mut bytes = write(builder);
    // The dictionary holds "ax" then "bx" back to back; swapping the first letters keeps
    // every offset valid but puts "bx" before "ax". The checksum is recomputed to match.
    let at = bytes
        .windows(4)
        .position(|window| window == b"axbx")
        .expect("the dictionary bytes");
    bytes[at..at + 4].copy_from_slice(b"bxax");
    let len = bytes.len();
    // The tail: [meta len][crc32][version][magic]; the crc covers everything before it.
    let checked = len - 12;
    let crc = crc32fast::hash(&bytes[..checked]);
    bytes[checked..checked + 4].copy_from_slice(&crc.to_le_bytes());
    let Err(error) = Segment::from_vec(bytes) else {
        panic!("an unsorted dictionary must fail to open");
    };
    assert!(
        error.to_string().contains("string dictionary not sorted"),
        "{error}"
    );
}
