//! The benchmark's event model: row `i` of a dataset as a pure function of (seed, i, rows),
//! its newline-JSON form, and the running totals (checksums) that both engines must reproduce.
//!
//! Events are spread evenly over [`SPAN_MS`] (30 days) from [`START_MS`], so timestamps rise
//! with `i` and are distinct while `rows` is below the span in milliseconds. String
//! dimensions are drawn from fixed domains with a power-law skew towards the first values:
//! country (200 two-letter codes), device (5), campaign (10,000), page (1,000,000),
//! user_id (10,000,000, uniform).

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::demo::splitmix64;

/// First event time: 2025-01-01T00:00:00.000Z.
pub const START_MS: i64 = 1_735_689_600_000;
/// Events cover 30 days.
pub const SPAN_MS: i64 = 30 * 24 * 3_600_000;
pub const COUNTRIES: usize = 200;
pub const DEVICE_NAMES: [&str; 5] = ["mobile", "desktop", "tablet", "tv", "console"];
pub const CAMPAIGNS: usize = 10_000;
pub const PAGES: usize = 1_000_000;
pub const USERS: usize = 10_000_000;

/// One generated event; string dimensions are kept as indexes into their domains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub timestamp: i64,
    pub country: usize,
    pub device: usize,
    pub campaign: usize,
    pub page: usize,
    pub user: usize,
    pub clicks: i64,
    /// Revenue in cents; the JSON value is `revenue_cents / 100`.
    pub revenue_cents: i64,
    pub latency_ms: i64,
}

/// A uniform value in [0, 1) from the top 53 bits of `hash`.
fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// An index in `0..len` skewed towards 0: `len * u^power` for uniform `u`.
fn skewed(len: usize, hash: u64, power: i32) -> usize {
    ((unit(hash).powi(power) * len as f64) as usize).min(len - 1)
}

/// Event `index` of a dataset of `rows` rows generated with `seed`.
pub fn event(seed: u64, index: u64, rows: u64) -> Event {
    let base = splitmix64(seed ^ 0x5EED_0000_0000_0000).wrapping_add(index.wrapping_mul(16));
    let hash = |salt: u64| splitmix64(base.wrapping_add(salt));
    let offset = (i128::from(index) * i128::from(SPAN_MS)) / i128::from(rows.max(1));
    Event {
        timestamp: START_MS + offset as i64,
        country: skewed(COUNTRIES, hash(1), 3),
        device: skewed(DEVICE_NAMES.len(), hash(2), 2),
        campaign: skewed(CAMPAIGNS, hash(3), 2),
        page: skewed(PAGES, hash(4), 3),
        user: (hash(5) % USERS as u64) as usize,
        clicks: (hash(6) % 16) as i64,
        revenue_cents: (hash(7) % 100_000) as i64,
        latency_ms: 1 + skewed(2_000, hash(8), 2) as i64,
    }
}

/// The two-letter code of country `index` (AA, AB, ... HR).
pub fn country_code(index: usize) -> [u8; 2] {
    [b'A' + (index / 26) as u8, b'A' + (index % 26) as u8]
}

/// Appends `event` as one line of newline JSON (timestamp `ts` in epoch milliseconds).
pub fn write_line(event: &Event, out: &mut impl Write) -> io::Result<()> {
    let country = country_code(event.country);
    writeln!(
        out,
        "{{\"ts\":{},\"country\":\"{}{}\",\"device\":\"{}\",\"campaign\":\"cmp-{:05}\",\
         \"page\":\"/page/{}\",\"user_id\":\"u{}\",\"clicks\":{},\"revenue\":{}.{:02},\
         \"latency_ms\":{}}}",
        event.timestamp,
        country[0] as char,
        country[1] as char,
        DEVICE_NAMES[event.device],
        event.campaign,
        event.page,
        event.user,
        event.clicks,
        event.revenue_cents / 100,
        event.revenue_cents % 100,
        event.latency_ms,
    )
}

/// A fixed-size set of small integers.
struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    fn new(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    fn insert(&mut self, value: usize) {
        self.words[value / 64] |= 1 << (value % 64);
    }

    fn len(&self) -> u64 {
        self.words
            .iter()
            .map(|word| u64::from(word.count_ones()))
            .sum()
    }
}

/// Running totals over the generated events.
pub struct Checksums {
    count: u64,
    sum_clicks: i64,
    sum_revenue_cents: i64,
    sum_latency_ms: i64,
    min_time: i64,
    max_time: i64,
    countries: BitSet,
    devices: BitSet,
    campaigns: BitSet,
    pages: BitSet,
    users: BitSet,
}

impl Default for Checksums {
    fn default() -> Checksums {
        Checksums {
            count: 0,
            sum_clicks: 0,
            sum_revenue_cents: 0,
            sum_latency_ms: 0,
            min_time: i64::MAX,
            max_time: i64::MIN,
            countries: BitSet::new(COUNTRIES),
            devices: BitSet::new(DEVICE_NAMES.len()),
            campaigns: BitSet::new(CAMPAIGNS),
            pages: BitSet::new(PAGES),
            users: BitSet::new(USERS),
        }
    }
}

impl Checksums {
    pub fn add(&mut self, event: &Event) {
        self.count += 1;
        self.sum_clicks += event.clicks;
        self.sum_revenue_cents += event.revenue_cents;
        self.sum_latency_ms += event.latency_ms;
        self.min_time = self.min_time.min(event.timestamp);
        self.max_time = self.max_time.max(event.timestamp);
        self.countries.insert(event.country);
        self.devices.insert(event.device);
        self.campaigns.insert(event.campaign);
        self.pages.insert(event.page);
        self.users.insert(event.user);
    }

    /// The totals as `checksums.json` holds them (`sum_revenue` is exact to the cent).
    pub fn to_json(&self, seed: u64) -> Value {
        json!({
            "seed": seed,
            "count": self.count,
            "sum_clicks": self.sum_clicks,
            "sum_revenue": self.sum_revenue_cents as f64 / 100.0,
            "sum_revenue_cents": self.sum_revenue_cents,
            "sum_latency_ms": self.sum_latency_ms,
            "min_time_ms": self.min_time,
            "max_time_ms": self.max_time,
            "distinct": {
                "country": self.countries.len(),
                "device": self.devices.len(),
                "campaign": self.campaigns.len(),
                "page": self.pages.len(),
                "user_id": self.users.len(),
            },
        })
    }
}
