//! Full-scan benchmarks over a 10M-row segment (time, one string dimension of 100 values,
//! one long metric): count + sum of the metric, unfiltered and under a selector bitmap; plus
//! bulk id decoding, open (checksum + parse), and build/write throughput on 1M rows.

use std::sync::{Arc, OnceLock};

use divan::counter::ItemsCount;
use divan::Bencher;
use henge_segment::{
    ColumnRef, ColumnSpec, ColumnType, Segment, SegmentBuilder, SegmentBytes, ValueRef,
};

const NUM_ROWS: usize = 10_000_000;

/// Pushes `num_rows` rows (10 ms apart, a pseudo-random dimension of 100 values and metric).
fn builder(num_rows: usize) -> SegmentBuilder {
    let values: Vec<String> = (0..100).map(|index| format!("value-{index:03}")).collect();
    let mut builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("dim", ColumnType::String),
        ColumnSpec::metric("metric", ColumnType::Long),
    ]);
    builder.reserve(num_rows);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for row in 0..num_rows {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let dim = &values[(state % 100) as usize];
        let metric = (state >> 40) as i64;
        builder.push_row_with(row as i64 * 10, |index| match index {
            0 => ValueRef::Str(dim),
            _ => ValueRef::Long(metric),
        });
    }
    builder
}

/// The bytes of the 10M-row segment, built once.
fn segment_bytes() -> &'static SegmentBytes {
    static BYTES: OnceLock<SegmentBytes> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut bytes = Vec::new();
        builder(NUM_ROWS).write(&mut bytes).expect("write to a vec");
        Arc::new(bytes)
    })
}

fn segment() -> &'static Segment {
    static SEGMENT: OnceLock<Segment> = OnceLock::new();
    SEGMENT
        .get_or_init(|| Segment::open(Arc::clone(segment_bytes())).expect("open the bench segment"))
}

fn metric(segment: &Segment) -> &[i64] {
    match segment.column("metric") {
        Some(ColumnRef::Long(column)) => column.values(),
        _ => unreachable!("metric is a long column"),
    }
}

#[divan::bench(sample_count = 20)]
fn full_scan_count_sum(bencher: Bencher) {
    let segment = segment();
    bencher.bench(|| {
        let values = metric(segment);
        let sum: i64 = values.iter().sum();
        (values.len(), sum)
    });
}

#[divan::bench(sample_count = 20)]
fn selector_scan_count_sum(bencher: Bencher) {
    let segment = segment();
    bencher.bench(|| {
        let Some(ColumnRef::String(dim)) = segment.column("dim") else {
            unreachable!("dim is a string column")
        };
        let id = dim.lookup(Some("value-042")).expect("value present");
        let rows = dim.bitmap(id);
        let values = metric(segment);
        let sum: i64 = rows.iter().map(|row| values[row as usize]).sum();
        (rows.len(), sum)
    });
}

#[divan::bench(sample_count = 20)]
fn decode_ids_scan(bencher: Bencher) {
    let segment = segment();
    bencher.bench(|| {
        let Some(ColumnRef::String(dim)) = segment.column("dim") else {
            unreachable!("dim is a string column")
        };
        let mut ids = [0u32; 1024];
        let mut matches = 0usize;
        let target = dim.lookup(Some("value-042")).expect("value present");
        let mut row = 0;
        while row < dim.num_rows() {
            let len = ids.len().min(dim.num_rows() - row);
            dim.decode_ids(row, &mut ids[..len]);
            matches += ids[..len].iter().filter(|&&id| id == target).count();
            row += len;
        }
        matches
    });
}

const BUILD_ROWS: usize = 1_000_000;

#[divan::bench(sample_count = 5)]
fn push_rows_1m(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(BUILD_ROWS))
        .bench(|| builder(BUILD_ROWS).num_rows());
}

#[divan::bench(sample_count = 5)]
fn sort_and_write_1m(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(BUILD_ROWS))
        .with_inputs(|| builder(BUILD_ROWS))
        .bench_values(|builder| {
            let mut bytes = Vec::new();
            builder.write(&mut bytes).expect("write to a vec");
            bytes.len()
        });
}

#[divan::bench(sample_count = 10)]
fn open_10m(bencher: Bencher) {
    let bytes = segment_bytes();
    bencher.bench(|| Segment::open(Arc::clone(bytes)).expect("open").num_rows());
}

fn main() {
    divan::main();
}
