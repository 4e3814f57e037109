//! Timestamps: ISO-8601 parsing and Druid/Joda-style formatting of epoch milliseconds (UTC),
//! plus the proleptic Gregorian calendar arithmetic shared with [`crate::granularity`].
//!
//! The calendar is Joda's ISO chronology: proleptic Gregorian with a year 0, valid over the
//! whole `i64` millisecond range (Druid's ETERNITY reaches years ±146 million, far beyond
//! what chrono supports, so this module does its own arithmetic).

mod interval;
pub(crate) mod period;
pub mod zone;

pub use interval::Interval;
pub use period::Period;
pub use zone::TimeZone;

pub(crate) const MS_PER_SECOND: i64 = 1_000;
pub(crate) const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub(crate) const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub(crate) const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian `(year, month, day)` of a day number since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400;
    (if month <= 2 { year + 1 } else { year }, month, day)
}

pub(crate) fn is_leap_year(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the way Joda prints a UTC
/// instant: years have at least four digits and a leading `-` when negative, so
/// `i64::MIN / 2` prints as `-146136543-09-08T08:23:32.096Z`.
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let ms_of_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let sign = if year < 0 { "-" } else { "" };
    format!(
        "{sign}{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        year.unsigned_abs(),
        ms_of_day / MS_PER_HOUR,
        ms_of_day % MS_PER_HOUR / MS_PER_MINUTE,
        ms_of_day % MS_PER_MINUTE / MS_PER_SECOND,
        ms_of_day % MS_PER_SECOND,
    )
}

/// Parses an ISO-8601 date or date-time into epoch milliseconds (UTC).
///
/// Accepted: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then optionally `T` (or a space) and `HH`,
/// `HH:mm`, `HH:mm:ss`, `HH:mm:ss.f` with 1-9 fractional digits (truncated to ms), then
/// optionally `Z`, `±hh`, `±hh:mm` or `±hhmm`. Without a zone the time is UTC. Years have 4 to 9
/// digits and may carry a sign (Druid's ETERNITY bounds). Returns `None` for anything else or
/// for an instant outside the `i64` millisecond range.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let mut cursor = Cursor::new(text.trim());
    let negative_year = match cursor.peek() {
        Some(b'-') => {
            cursor.advance(1);
            true
        }
        Some(b'+') => {
            cursor.advance(1);
            false
        }
        _ => false,
    };
    let (year_digits, _) = cursor.digits(4, 9)?;
    let year = if negative_year {
        -(year_digits as i64)
    } else {
        year_digits as i64
    };
    let mut month = 1;
    let mut day = 1;
    if cursor.eat(b'-') {
        month = cursor.fixed_digits(2)? as u32;
        if cursor.eat(b'-') {
            day = cursor.fixed_digits(2)? as u32;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms_of_day: i64 = 0;
    if cursor.eat(b'T') || cursor.eat(b't') || cursor.eat(b' ') {
        let hour = cursor.fixed_digits(2)? as i64;
        let mut minute = 0;
        let mut second = 0;
        let mut millis = 0;
        if cursor.eat(b':') {
            minute = cursor.fixed_digits(2)? as i64;
            if cursor.eat(b':') {
                second = cursor.fixed_digits(2)? as i64;
                if cursor.eat(b'.') || cursor.eat(b',') {
                    let (fraction, fraction_len) = cursor.digits(1, 9)?;
                    millis = match fraction_len {
                        1 => fraction as i64 * 100,
                        2 => fraction as i64 * 10,
                        _ => (fraction / 10u64.pow(fraction_len as u32 - 3)) as i64,
                    };
                }
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        ms_of_day = hour * MS_PER_HOUR + minute * MS_PER_MINUTE + second * MS_PER_SECOND + millis;
    }
    let offset_ms = parse_zone(&mut cursor)?;
    if cursor.peek().is_some() {
        return None;
    }
    let days = i128::from(days_from_civil(year, month, day));
    let total = days * i128::from(MS_PER_DAY) + i128::from(ms_of_day) - i128::from(offset_ms);
    i64::try_from(total).ok()
}

fn parse_zone(cursor: &mut Cursor<'_>) -> Option<i64> {
    if cursor.eat(b'Z') || cursor.eat(b'z') {
        return Some(0);
    }
    let sign = match cursor.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        None => return Some(0),
        Some(_) => return None,
    };
    cursor.advance(1);
    let hours = cursor.fixed_digits(2)? as i64;
    let colon = cursor.eat(b':');
    let minutes = if colon || cursor.peek().is_some() {
        cursor.fixed_digits(2)? as i64
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * MS_PER_HOUR + minutes * MS_PER_MINUTE))
}

/// A byte cursor over ASCII input.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(crate) fn advance(&mut self, count: usize) {
        self.pos += count;
    }

    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Reads between `min` and `max` decimal digits; returns the value and the digit count.
    pub(crate) fn digits(&mut self, min: usize, max: usize) -> Option<(u64, usize)> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(byte @ b'0'..=b'9') = self.peek() {
            if self.pos - start == max {
                return None;
            }
            value = value * 10 + u64::from(byte - b'0');
            self.pos += 1;
        }
        let count = self.pos - start;
        (count >= min).then_some((value, count))
    }

    fn fixed_digits(&mut self, count: usize) -> Option<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        for _ in 0..count {
            match self.peek() {
                Some(byte @ b'0'..=b'9') => value = value * 10 + u64::from(byte - b'0'),
                _ => {
                    self.pos = start;
                    return None;
                }
            }
            self.pos += 1;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_forms() {
        let base = 1_442_016_000_000; // 2015-09-12T00:00:00Z
        assert_eq!(parse_timestamp("2015-09-12"), Some(base));
        assert_eq!(parse_timestamp("2015-09-12T00"), Some(base));
        assert_eq!(
            parse_timestamp("2015-09-12T00:46"),
            Some(base + 46 * MS_PER_MINUTE)
        );
        let full = base + 46 * MS_PER_MINUTE + 58_771;
        assert_eq!(parse_timestamp("2015-09-12T00:46:58.771Z"), Some(full));
        assert_eq!(parse_timestamp("2015-09-12T00:46:58.771"), Some(full));
        assert_eq!(
            parse_timestamp("2015-09-12T00:46:58.771999999Z"),
            Some(full)
        );
        assert_eq!(parse_timestamp("2015-09-12T00:46:58.7Z"), Some(full - 71));
        assert_eq!(parse_timestamp("2015-09-12T00:46:58.77Z"), Some(full - 1));
        assert_eq!(parse_timestamp("2015-09-12T00:46:58Z"), Some(full - 771));
        assert_eq!(parse_timestamp("2015-09-12T02:46:58.771+02:00"), Some(full));
        assert_eq!(parse_timestamp("2015-09-12T02:46:58.771+0200"), Some(full));
        assert_eq!(parse_timestamp("2015-09-11T22:46:58.771-02"), Some(full));
        assert_eq!(parse_timestamp("2015-09"), parse_timestamp("2015-09-01"));
        assert_eq!(parse_timestamp("2015"), parse_timestamp("2015-01-01"));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(parse_timestamp("2016-02-29"), Some(1_456_704_000_000));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "x",
            "2015-13-01",
            "2015-02-30",
            "2015-09-12T24:00",
            "2015-09-12T00:60",
            "2015-09-12T",
            "2015-09-12Z1",
            "2015-9-12",
            "2015-09-12T00:46:58.",
            "12",
            "2015-09-12T00:46:58.1234567890Z",
            "2015-09-12+25:00",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_like_joda() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_timestamp(1_442_018_818_771),
            "2015-09-12T00:46:58.771Z"
        );
        assert_eq!(
            format_timestamp(i64::MIN / 2),
            "-146136543-09-08T08:23:32.096Z"
        );
        assert_eq!(
            format_timestamp(i64::MAX / 2),
            "146140482-04-24T15:36:27.903Z"
        );
        let year_minus_one = days_from_civil(-1, 1, 1) * MS_PER_DAY;
        assert_eq!(
            format_timestamp(year_minus_one),
            "-0001-01-01T00:00:00.000Z"
        );
        assert_eq!(
            format_timestamp(days_from_civil(0, 3, 1) * MS_PER_DAY),
            "0000-03-01T00:00:00.000Z"
        );
        assert_eq!(
            format_timestamp(days_from_civil(12_345, 6, 7) * MS_PER_DAY),
            "12345-06-07T00:00:00.000Z"
        );
        // The extremes of the range format without overflow.
        assert!(format_timestamp(i64::MIN).starts_with("-292275055-"));
        assert!(format_timestamp(i64::MAX).starts_with("292278994-"));
    }

    #[test]
    fn eternity_round_trips() {
        for ms in [
            i64::MIN / 2,
            i64::MAX / 2,
            i64::MIN,
            i64::MAX,
            0,
            -62_135_596_800_001,
        ] {
            assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms), "{ms}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(37) {
            let (year, month, day) = civil_from_days(days);
            assert!(day <= days_in_month(year, month));
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;
    use crate::granularity::Granularity;

    const GRANULARITIES: [Granularity; 15] = [
        Granularity::None,
        Granularity::Second,
        Granularity::Minute,
        Granularity::FiveMinute,
        Granularity::TenMinute,
        Granularity::FifteenMinute,
        Granularity::ThirtyMinute,
        Granularity::Hour,
        Granularity::SixHour,
        Granularity::EightHour,
        Granularity::Day,
        Granularity::Week,
        Granularity::Month,
        Granularity::Quarter,
        Granularity::Year,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn format_then_parse_is_identity(ms in any::<i64>()) {
            prop_assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms));
        }

        #[test]
        fn interval_display_then_parse_is_identity(start in any::<i64>(), length in 0i64..1 << 50) {
            let interval = Interval::new(start, start.saturating_add(length));
            prop_assert_eq!(Interval::parse(&interval.to_string()), Some(interval));
        }

        #[test]
        fn buckets_contain_their_instant(
            ms in Interval::ETERNITY.start..Interval::ETERNITY.end,
            index in 0..GRANULARITIES.len(),
        ) {
            let granularity = GRANULARITIES[index];
            let bucket = granularity.bucket_interval(ms);
            prop_assert!(bucket.contains(ms), "{:?} {} {}", granularity, ms, bucket);
            prop_assert_eq!(granularity.bucket_start(bucket.start), bucket.start);
            prop_assert_eq!(granularity.bucket_start(bucket.end), bucket.end);
            prop_assert_eq!(granularity.bucket_start(bucket.end - 1), bucket.start);
        }
    }
}
