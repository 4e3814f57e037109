//! Time zones as Druid (Joda) takes them: `UTC`, fixed offsets (`+05:30`, `-07`, `+0530`)
//! and IANA names (`America/Los_Angeles`), with the conversions between UTC instants and
//! local wall-clock milliseconds that zoned granularities and time formats need.
//!
//! Local milliseconds are "the UTC instant whose fields read like the local wall clock":
//! `local = utc + offset(utc)`. Going back is ambiguous around DST changes; [`TimeZone::to_utc`]
//! resolves it as Joda's `getOffsetFromLocal` does: in an overlap the earlier instant, in a gap
//! the instant after the gap (the wall time read with the offset before the change).

use std::fmt;

use chrono::{Offset, TimeZone as _};

use super::{format_timestamp, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND};

/// Offsets are bounded by Joda to ±23:59:59.999; IANA offsets stay within ±14 h.
const MAX_FIXED_OFFSET_MS: i64 = 24 * MS_PER_HOUR - 1;

/// A time zone: UTC, a fixed offset east of UTC, or an IANA zone with DST rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeZone {
    Utc,
    /// Milliseconds east of UTC (never 0: that is [`TimeZone::Utc`]).
    Fixed(i64),
    Named(chrono_tz::Tz),
}

impl TimeZone {
    /// Parses a zone id as Joda's `DateTimeZone.forID` does for the forms Druid users write:
    /// `UTC`, `Z`, `Etc/UTC`, `GMT`, an offset `±hh`, `±hh:mm` or `±hhmm`, or an IANA name
    /// (case-sensitive, as in Joda).
    pub fn parse(text: &str) -> Option<TimeZone> {
        let text = text.trim();
        if matches!(
            text,
            "UTC" | "Z" | "Etc/UTC" | "GMT" | "Etc/GMT" | "UCT" | "Etc/UCT" | "Universal"
        ) {
            return Some(TimeZone::Utc);
        }
        if let Some(offset) = parse_offset(text) {
            return Some(if offset == 0 {
                TimeZone::Utc
            } else {
                TimeZone::Fixed(offset)
            });
        }
        let tz: chrono_tz::Tz = text.parse().ok()?;
        Some(TimeZone::Named(tz))
    }

    /// Whether the offset never changes (UTC or a fixed offset).
    pub fn is_fixed(&self) -> bool {
        !matches!(self, TimeZone::Named(_))
    }

    /// The offset from UTC, in milliseconds, in force at the UTC instant `utc_ms`.
    pub fn offset_ms(&self, utc_ms: i64) -> i64 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(offset) => *offset,
            TimeZone::Named(tz) => {
                // chrono covers about ±262,000 years; beyond it clamp to the edge's offset.
                let clamped = utc_ms.clamp(-8_000_000_000_000_000, 8_000_000_000_000_000);
                match chrono::DateTime::from_timestamp_millis(clamped) {
                    Some(instant) => {
                        let offset = tz.offset_from_utc_datetime(&instant.naive_utc());
                        i64::from(offset.fix().local_minus_utc()) * MS_PER_SECOND
                    }
                    None => 0,
                }
            }
        }
    }

    /// The local wall-clock milliseconds of a UTC instant.
    pub fn to_local(&self, utc_ms: i64) -> i64 {
        utc_ms.saturating_add(self.offset_ms(utc_ms))
    }

    /// The UTC instant of local wall-clock milliseconds (see the module docs for DST gaps
    /// and overlaps).
    pub fn to_utc(&self, local_ms: i64) -> i64 {
        let TimeZone::Named(_) = self else {
            return local_ms.saturating_sub(self.offset_ms(local_ms));
        };
        // The two offsets that can apply near `local_ms`: the one at the local time read as
        // UTC, and the one at the instant that first guess gives.
        let first = self.offset_ms(local_ms);
        let second = self.offset_ms(local_ms.saturating_sub(first));
        if first == second {
            let candidate = local_ms.saturating_sub(first);
            // An overlap: an earlier instant with a larger offset may read the same.
            let earlier_offset = self.offset_ms(candidate.saturating_sub(MS_PER_HOUR * 3));
            if earlier_offset > first {
                let earlier = local_ms.saturating_sub(earlier_offset);
                if self.to_local(earlier) == local_ms {
                    return earlier;
                }
            }
            return candidate;
        }
        let consistent: Vec<i64> = [first, second]
            .into_iter()
            .map(|offset| local_ms.saturating_sub(offset))
            .filter(|&utc| self.to_local(utc) == local_ms)
            .collect();
        match consistent.iter().min() {
            // One or both readings exist: the earlier instant (an overlap keeps the first).
            Some(&utc) => utc,
            // A gap: read the wall time with the smaller (pre-gap) offset, landing after it.
            None => local_ms.saturating_sub(first.min(second)),
        }
    }

    /// `utc_ms` as Joda prints a `DateTime` in this zone: `2015-09-11T17:00:00.000-07:00`,
    /// or with `Z` when the offset is zero.
    pub fn format_iso(&self, utc_ms: i64) -> String {
        let offset = self.offset_ms(utc_ms);
        let local = format_timestamp(utc_ms.saturating_add(offset));
        if offset == 0 {
            return local;
        }
        let mut text = local.trim_end_matches('Z').to_owned();
        text.push_str(&format_offset(offset, true));
        text
    }
}

/// UTC, Druid's zone when a query names none.
impl Default for TimeZone {
    fn default() -> TimeZone {
        TimeZone::Utc
    }
}

impl fmt::Display for TimeZone {
    /// The zone id as Joda prints it: `UTC`, `+05:30`, `America/Los_Angeles`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeZone::Utc => formatter.write_str("UTC"),
            TimeZone::Fixed(offset) => formatter.write_str(&format_offset(*offset, true)),
            TimeZone::Named(tz) => formatter.write_str(tz.name()),
        }
    }
}

/// `±hh:mm` (or `±hhmm` without the colon), with seconds appended when the offset has them.
pub fn format_offset(offset_ms: i64, colon: bool) -> String {
    let sign = if offset_ms < 0 { '-' } else { '+' };
    let total = offset_ms.unsigned_abs() as i64;
    let hours = total / MS_PER_HOUR;
    let minutes = total % MS_PER_HOUR / MS_PER_MINUTE;
    let seconds = total % MS_PER_MINUTE / MS_PER_SECOND;
    let separator = if colon { ":" } else { "" };
    let mut text = format!("{sign}{hours:02}{separator}{minutes:02}");
    if seconds != 0 {
        text.push_str(&format!("{separator}{seconds:02}"));
    }
    text
}

/// `±hh`, `±hh:mm` or `±hhmm`, as milliseconds east of UTC.
fn parse_offset(text: &str) -> Option<i64> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &text[1..];
    let (hours, minutes) = match rest.len() {
        2 => (rest, "00"),
        4 => rest.split_at(2),
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return None,
    };
    if !hours
        .bytes()
        .chain(minutes.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    if minutes >= 60 {
        return None;
    }
    let offset = hours * MS_PER_HOUR + minutes * MS_PER_MINUTE;
    (offset <= MAX_FIXED_OFFSET_MS).then_some(sign * offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    fn ts(text: &str) -> i64 {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn parses_zone_ids() {
        assert_eq!(TimeZone::parse("UTC"), Some(TimeZone::Utc));
        assert_eq!(TimeZone::parse("+00:00"), Some(TimeZone::Utc));
        assert_eq!(
            TimeZone::parse("+05:30"),
            Some(TimeZone::Fixed(5 * MS_PER_HOUR + 30 * MS_PER_MINUTE))
        );
        assert_eq!(
            TimeZone::parse("-07"),
            Some(TimeZone::Fixed(-7 * MS_PER_HOUR))
        );
        assert_eq!(
            TimeZone::parse("+0530"),
            TimeZone::parse("+05:30"),
            "both offset spellings"
        );
        assert_eq!(
            TimeZone::parse("America/Los_Angeles").map(|zone| zone.to_string()),
            Some("America/Los_Angeles".to_owned())
        );
        for bad in [
            "",
            "Mars/Base",
            "+5",
            "+05:3",
            "+05:60",
            "america/los_angeles",
        ] {
            assert_eq!(TimeZone::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets_follow_dst() {
        let la = TimeZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.offset_ms(ts("2015-09-12T00:00:00Z")), -7 * MS_PER_HOUR);
        assert_eq!(la.offset_ms(ts("2015-01-12T00:00:00Z")), -8 * MS_PER_HOUR);
        assert_eq!(
            la.format_iso(ts("2015-09-12T07:00:00Z")),
            "2015-09-12T00:00:00.000-07:00"
        );
        let london = TimeZone::parse("Europe/London").unwrap();
        assert_eq!(
            london.format_iso(ts("2015-01-12T07:00:00Z")),
            "2015-01-12T07:00:00.000Z"
        );
        assert_eq!(
            TimeZone::parse("+05:30")
                .unwrap()
                .format_iso(ts("2015-09-12T00:00:00Z")),
            "2015-09-12T05:30:00.000+05:30"
        );
    }

    #[test]
    fn local_to_utc_resolves_gaps_and_overlaps_like_joda() {
        let la = TimeZone::parse("America/Los_Angeles").unwrap();
        // Ordinary times round-trip.
        let instant = ts("2015-09-12T07:00:00Z");
        assert_eq!(la.to_utc(la.to_local(instant)), instant);
        // 2015-03-08 02:30 does not exist in Los Angeles: Joda moves it to 03:30 PDT.
        assert_eq!(
            la.to_utc(ts("2015-03-08T02:30:00Z")),
            ts("2015-03-08T10:30:00Z")
        );
        // 2015-11-01 01:30 happens twice: Joda picks the earlier one (PDT, -07:00).
        assert_eq!(
            la.to_utc(ts("2015-11-01T01:30:00Z")),
            ts("2015-11-01T08:30:00Z")
        );
        let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
        assert_eq!(
            kolkata.to_utc(ts("2015-09-12T00:00:00Z")),
            ts("2015-09-11T18:30:00Z")
        );
    }
}
