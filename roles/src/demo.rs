//! The deterministic demo data generator behind `henge quickstart`.
//!
//! Row `i` is a pure function of `i` (splitmix64 hashes), so any two runs write the same
//! file and its totals can be recomputed without storing it. Events are spread evenly over
//! seven days from 2024-01-01 and carry skewed string dimensions and three metrics.

use std::io::{self, Write};

use henge_segment::time::format_timestamp;

/// Name of the demo datasource.
pub const DATASOURCE: &str = "henge-demo";
const START_MS: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00.000Z
const SPAN_MS: i64 = 7 * 24 * 3_600_000;
const COUNTRIES: [&str; 12] = [
    "US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "ES", "IT", "NL",
];
const DEVICES: [&str; 5] = ["mobile", "desktop", "tablet", "tv", "console"];
const BROWSERS: [&str; 6] = ["chrome", "safari", "firefox", "edge", "opera", "other"];

/// One demo event.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRow {
    pub timestamp: i64,
    pub country: &'static str,
    pub device: &'static str,
    pub browser: &'static str,
    pub page: String,
    pub user_id: String,
    pub clicks: i64,
    pub revenue: f64,
    pub latency_ms: i64,
}

/// The splitmix64 mix of `state`: a fast, well-spread 64-bit hash for generated rows.
pub(crate) fn splitmix64(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut mixed = state;
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^ (mixed >> 31)
}

/// Picks from `items` with a skew towards the first ones (squared uniform).
fn skewed<T: Copy>(items: &[T], hash: u64) -> T {
    let unit = (hash >> 11) as f64 / (1u64 << 53) as f64;
    items[((unit * unit) * items.len() as f64) as usize]
}

/// Row `index` of a demo dataset of `rows` rows.
pub fn row(index: usize, rows: usize) -> DemoRow {
    let seed = index as u64;
    let hash = |salt: u64| splitmix64(seed.wrapping_mul(31).wrapping_add(salt));
    let timestamp = START_MS + (index as i64 * SPAN_MS) / rows.max(1) as i64;
    DemoRow {
        timestamp,
        country: skewed(&COUNTRIES, hash(1)),
        device: skewed(&DEVICES, hash(2)),
        browser: skewed(&BROWSERS, hash(3)),
        page: format!("/page/{}", hash(4) % 5_000),
        user_id: format!("user-{}", hash(5) % 40_000),
        clicks: (hash(6) % 16) as i64,
        revenue: (hash(7) % 10_000) as f64 / 100.0,
        latency_ms: 5 + (hash(8) % 995) as i64,
    }
}

/// Writes `rows` demo events as newline JSON.
pub fn write_json(rows: usize, mut out: impl Write) -> io::Result<()> {
    for index in 0..rows {
        let event = row(index, rows);
        let line = serde_json::json!({
            "timestamp": format_timestamp(event.timestamp),
            "country": event.country,
            "device": event.device,
            "browser": event.browser,
            "page": event.page,
            "user_id": event.user_id,
            "clicks": event.clicks,
            "revenue": event.revenue,
            "latency_ms": event.latency_ms,
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// The dimensions spec the demo datasource is ingested with.
pub fn dimensions_spec() -> serde_json::Value {
    serde_json::json!({
        "dimensions": [
            "country", "device", "browser", "page", "user_id",
            {"name": "clicks", "type": "long"},
            {"name": "revenue", "type": "double"},
            {"name": "latency_ms", "type": "long"},
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_deterministic_and_in_range() {
        assert_eq!(row(42, 1000), row(42, 1000));
        let mut previous = i64::MIN;
        for index in 0..1000 {
            let event = row(index, 1000);
            assert!(event.timestamp >= previous && event.timestamp < START_MS + SPAN_MS);
            previous = event.timestamp;
            assert!((0..16).contains(&event.clicks));
        }
        let mut out = Vec::new();
        write_json(3, &mut out).unwrap();
        assert_eq!(out.iter().filter(|byte| **byte == b'\n').count(), 3);
        let first: serde_json::Value =
            serde_json::from_slice(out.split(|byte| *byte == b'\n').next().unwrap()).unwrap();
        assert_eq!(first["timestamp"], "2024-01-01T00:00:00.000Z");
    }
}
