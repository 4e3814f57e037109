//! [`Interval`]: a half-open `[start, end)` range of epoch milliseconds, parsed from and
//! printed as Druid's ISO-8601 `start/end` strings.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{format_timestamp, parse_timestamp, Period};

/// A half-open `[start, end)` range of epoch milliseconds (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    pub start: i64,
    pub end: i64,
}

impl Interval {
    /// Druid's ETERNITY (`JodaUtils.ETERNITY`):
    /// `-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z`.
    pub const ETERNITY: Interval = Interval {
        start: i64::MIN / 2,
        end: i64::MAX / 2,
    };

    /// `[start, end)`; `start <= end` is expected (checked in debug builds).
    pub fn new(start: i64, end: i64) -> Interval {
        debug_assert!(start <= end, "interval start {start} after end {end}");
        Interval { start, end }
    }

    /// Parses `start/end`, `start/PERIOD` or `PERIOD/end` (ISO-8601 instants and periods).
    /// Returns `None` when malformed or when the end is before the start.
    pub fn parse(text: &str) -> Option<Interval> {
        let (left, right) = text.trim().split_once('/')?;
        let is_period = |part: &str| part.starts_with(['P', 'p']);
        let (start, end) = match (is_period(left), is_period(right)) {
            (false, false) => (parse_timestamp(left)?, parse_timestamp(right)?),
            (false, true) => {
                let start = parse_timestamp(left)?;
                (start, Period::parse(right)?.add_to(start, 1)?)
            }
            (true, false) => {
                let end = parse_timestamp(right)?;
                (Period::parse(left)?.add_to(end, -1)?, end)
            }
            (true, true) => return None,
        };
        (start <= end).then_some(Interval { start, end })
    }

    /// Length in milliseconds.
    pub fn duration_ms(&self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether `ms` lies in `[start, end)`.
    pub fn contains(&self, ms: i64) -> bool {
        self.start <= ms && ms < self.end
    }

    /// Whether the two intervals share at least one millisecond.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The common part of two intervals, or `None` when they do not overlap.
    pub fn intersect(&self, other: &Interval) -> Option<Interval> {
        self.overlaps(other).then(|| Interval {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
        })
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}/{}",
            format_timestamp(self.start),
            format_timestamp(self.end)
        )
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Interval, D::Error> {
        let text = String::deserialize(deserializer)?;
        Interval::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid interval {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS_PER_DAY;

    #[test]
    fn parse_and_display() {
        let day = Interval::parse("2015-09-12/2015-09-13").unwrap();
        assert_eq!(
            day.to_string(),
            "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"
        );
        assert_eq!(day.duration_ms(), MS_PER_DAY);
        assert_eq!(Interval::parse("2015-09-12/P1D"), Some(day));
        assert_eq!(Interval::parse("P1D/2015-09-13"), Some(day));
        assert_eq!(Interval::parse("2015-09-12T00:00:00.000Z/PT24H"), Some(day));
        assert_eq!(
            Interval::parse("2015-01-31/P1M").unwrap().to_string(),
            "2015-01-31T00:00:00.000Z/2015-02-28T00:00:00.000Z"
        );
        assert_eq!(Interval::parse("2015-09-13/2015-09-12"), None);
        assert_eq!(Interval::parse("P1D/P1D"), None);
        assert_eq!(Interval::parse("2015-09-12"), None);
    }

    #[test]
    fn eternity() {
        let text = "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z";
        assert_eq!(Interval::ETERNITY.to_string(), text);
        assert_eq!(Interval::parse(text), Some(Interval::ETERNITY));
    }

    #[test]
    fn set_operations() {
        let a = Interval::new(0, 10);
        let b = Interval::new(5, 20);
        let c = Interval::new(10, 12);
        assert!(a.contains(0) && a.contains(9) && !a.contains(10));
        assert!(a.overlaps(&b) && !a.overlaps(&c));
        assert_eq!(a.intersect(&b), Some(Interval::new(5, 10)));
        assert_eq!(a.intersect(&c), None);
    }

    #[test]
    fn serde_as_string() {
        let day = Interval::parse("2015-09-12/P1D").unwrap();
        let json = serde_json::to_string(&day).unwrap();
        assert_eq!(
            json,
            r#""2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z""#
        );
        assert_eq!(serde_json::from_str::<Interval>(&json).unwrap(), day);
        assert!(serde_json::from_str::<Interval>(r#""nope""#).is_err());
    }
}
