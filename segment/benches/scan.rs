//! Full-scan benchmarks over a 10M-row segment (time, one string dimension of 100 values,
//! one long metric): count + sum of the metric, unfiltered and under a selector bitmap.

use std::sync::OnceLock;

use divan::Bencher;
use henge_segment::{ColumnRef, ColumnSpec, ColumnType, Segment, SegmentBuilder, ValueRef};

const NUM_ROWS: usize = 10_000_000;

fn segment() -> &'static Segment {
    static SEGMENT: OnceLock<Segment> = OnceLock::new();
    SEGMENT.get_or_init(|| {
        let values: Vec<String> = (0..100).map(|index| format!("value-{index:03}")).collect();
        let mut builder = SegmentBuilder::new(vec![
            ColumnSpec::dimension("dim", ColumnType::String),
            ColumnSpec::metric("metric", ColumnType::Long),
        ]);
        builder.reserve(NUM_ROWS);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for row in 0..NUM_ROWS {
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
        let mut bytes = Vec::new();
        builder.write(&mut bytes).expect("write to a vec");
        Segment::from_vec(bytes).expect("open the bench segment")
    })
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

fn main() {
    divan::main();
}
