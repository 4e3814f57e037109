//! Batch ingestion throughput: `run_batch` over 1 M newline-JSON rows shaped like the
//! benchmark suite's events (issue 5: five string dimensions of 200 to 10 M values, two long
//! columns and a double, millisecond timestamps over 30 days, day segments, rollup off),
//! from reading the file to finished segment files.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use divan::counter::ItemsCount;
use divan::Bencher;
use henge_ingest::{parse_index_task, run_batch};
use serde_json::json;

const NUM_ROWS: u64 = 1_000_000;
const START_MS: i64 = 1_735_689_600_000;
const SPAN_MS: i64 = 30 * 86_400_000;

fn main() {
    divan::main();
}

/// The input directory, written once (kept alive for the whole run).
fn input_dir() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_path_buf();
        let file = std::fs::File::create(path.join("events.json")).expect("create input");
        let mut out = std::io::BufWriter::new(file);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for row in 0..NUM_ROWS {
            let time = START_MS + (row as i64 * SPAN_MS) / NUM_ROWS as i64;
            let (a, b, c) = (next(), next(), next());
            writeln!(
                out,
                "{{\"ts\":{time},\"country\":\"C{:03}\",\"device\":\"d{}\",\"campaign\":\"cmp-{:05}\",\
                 \"page\":\"/page/{}\",\"user_id\":\"u{}\",\"clicks\":{},\"revenue\":{}.{:02},\
                 \"latency_ms\":{}}}",
                a % 200,
                a % 5,
                b % 10_000,
                b % 1_000_000,
                c % 10_000_000,
                a % 16,
                c % 1000,
                b % 100,
                1 + c % 2000,
            )
            .expect("write input");
        }
        out.flush().expect("flush input");
        (dir, path)
    })
    .1
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn events_rollup_off(bencher: Bencher) {
    let dir = input_dir().clone();
    let spec = json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "events",
                "timestampSpec": {"column": "ts", "format": "millis"},
                "dimensionsSpec": {"dimensions": [
                    "country", "device", "campaign", "page", "user_id",
                    {"name": "clicks", "type": "long"},
                    {"name": "revenue", "type": "double"},
                    {"name": "latency_ms", "type": "long"}
                ]},
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none",
                                    "rollup": false}
            },
            "ioConfig": {"type": "index_parallel",
                         "inputSource": {"type": "local", "baseDir": dir, "filter": "events.json"},
                         "inputFormat": {"type": "json"}}
        }
    });
    let task = parse_index_task(&spec).expect("valid spec");
    let allowed = [dir];
    bencher.counter(ItemsCount::new(NUM_ROWS)).bench(|| {
        let work = tempfile::tempdir().expect("work dir");
        let output = run_batch(&task, &allowed, work.path(), "v1").expect("ingests");
        assert_eq!(output.report.processed, NUM_ROWS);
    });
}
