//! `henge bench gen`: writes the benchmark dataset that `scripts/bench` loads into Henge and
//! DuckDB: `events.json` (newline JSON, timestamps in epoch milliseconds), `checksums.json`
//! (count, sums and distinct counts both engines must reproduce) and `spec.json` (the
//! `index_parallel` task that ingests `events.json` with rollup off). The rows themselves
//! come from [`events`].

pub mod events;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};

use events::{Checksums, START_MS};

/// Name of the benchmark datasource.
pub const DATASOURCE: &str = "events";
/// The seed unless `--seed` says otherwise.
pub const DEFAULT_SEED: u64 = 42;

/// Writes `rows` events generated with `seed`, their checksums and the ingestion spec into
/// `out` (created if missing). Returns the checksums document.
pub fn generate(rows: u64, seed: u64, out: &Path) -> anyhow::Result<Value> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = out
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", out.display()))?;
    let events_path = out.join("events.json");
    let file = File::create(&events_path)
        .with_context(|| format!("cannot create {}", events_path.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut checksums = Checksums::default();
    for index in 0..rows {
        let event = events::event(seed, index, rows);
        checksums.add(&event);
        events::write_line(&event, &mut writer)?;
    }
    writer.flush()?;
    let checksums = checksums.to_json(seed);
    write_json(&out.join("checksums.json"), &checksums)?;
    write_json(&out.join("spec.json"), &index_spec(&out))?;
    Ok(checksums)
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The `index_parallel` task for `dir/events.json`: day segments, rollup off, the string
/// dimensions and the three metrics as typed columns.
pub fn index_spec(dir: &Path) -> Value {
    let first_day = henge_segment::time::format_timestamp(START_MS);
    let end = henge_segment::time::format_timestamp(START_MS + events::SPAN_MS);
    json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": DATASOURCE,
                "timestampSpec": {"column": "ts", "format": "millis"},
                "dimensionsSpec": {"dimensions": [
                    "country", "device", "campaign", "page", "user_id",
                    {"name": "clicks", "type": "long"},
                    {"name": "revenue", "type": "double"},
                    {"name": "latency_ms", "type": "long"},
                ]},
                "metricsSpec": [],
                "granularitySpec": {
                    "segmentGranularity": "day",
                    "queryGranularity": "none",
                    "rollup": false,
                    "intervals": [format!("{first_day}/{end}")],
                },
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {
                    "type": "local",
                    "baseDir": dir.display().to_string(),
                    "filter": "events.json",
                },
                "inputFormat": {"type": "json"},
            },
            "tuningConfig": {"type": "index_parallel"},
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generator_is_deterministic_and_matches_its_checksums() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let rows = 5_000;
        generate(rows, 7, first.path()).unwrap();
        generate(rows, 7, second.path()).unwrap();
        let text = std::fs::read_to_string(first.path().join("events.json")).unwrap();
        assert_eq!(
            text,
            std::fs::read_to_string(second.path().join("events.json")).unwrap()
        );
        let other = tempfile::tempdir().unwrap();
        generate(rows, 8, other.path()).unwrap();
        assert_ne!(
            text,
            std::fs::read_to_string(other.path().join("events.json")).unwrap()
        );

        // Recompute the totals from the JSON text itself.
        let (mut count, mut clicks, mut cents, mut latency) = (0u64, 0i64, 0i64, 0i64);
        let mut previous = i64::MIN;
        let mut distinct: [HashSet<String>; 5] = Default::default();
        for line in text.lines() {
            let row: Value = serde_json::from_str(line).unwrap();
            let time = row["ts"].as_i64().unwrap();
            assert!(time > previous, "timestamps rise strictly");
            assert!((START_MS..START_MS + events::SPAN_MS).contains(&time));
            previous = time;
            count += 1;
            let row_clicks = row["clicks"].as_i64().unwrap();
            assert!((0..16).contains(&row_clicks));
            clicks += row_clicks;
            cents += (row["revenue"].as_f64().unwrap() * 100.0).round() as i64;
            latency += row["latency_ms"].as_i64().unwrap();
            for (set, column) in distinct
                .iter_mut()
                .zip(["country", "device", "campaign", "page", "user_id"])
            {
                set.insert(row[column].as_str().unwrap().to_string());
            }
        }
        let checksums: Value = serde_json::from_str(
            &std::fs::read_to_string(first.path().join("checksums.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(checksums["count"], count);
        assert_eq!(count, rows);
        assert_eq!(checksums["sum_clicks"], clicks);
        assert_eq!(checksums["sum_revenue_cents"], cents);
        assert_eq!(checksums["sum_latency_ms"], latency);
        for (set, column) in distinct
            .iter()
            .zip(["country", "device", "campaign", "page", "user_id"])
        {
            assert_eq!(checksums["distinct"][column], set.len(), "{column}");
        }
        assert_eq!(checksums["distinct"]["device"], 5);
        assert!(distinct[0].len() <= events::COUNTRIES && distinct[0].len() > 100);
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(first.path().join("spec.json")).unwrap())
                .unwrap();
        assert_eq!(
            spec["spec"]["ioConfig"]["inputSource"]["filter"],
            "events.json"
        );
        assert_eq!(
            spec["spec"]["dataSchema"]["granularitySpec"]["intervals"][0],
            "2025-01-01T00:00:00.000Z/2025-01-31T00:00:00.000Z"
        );
    }
}
