//! ISO-8601 periods (`P1D`, `PT1H`, `P1Y2M3W4DT5H6M7.5S`) and their calendar arithmetic in
//! UTC, applied field by field in Joda's order: years, months (clamping the day of month),
//! weeks, days, hours, minutes, seconds, milliseconds.

use super::{
    civil_from_days, days_from_civil, days_in_month, Cursor, MS_PER_DAY, MS_PER_HOUR,
    MS_PER_MINUTE, MS_PER_SECOND,
};

/// An ISO-8601 period; every field may be zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Period {
    pub years: i64,
    pub months: i64,
    pub weeks: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
    pub millis: i64,
}

impl Period {
    /// Parses `PnYnMnWnDTnHnMnS` (seconds may have up to 3 fractional digits). At least one
    /// field is required; returns `None` otherwise.
    pub fn parse(text: &str) -> Option<Period> {
        let mut cursor = Cursor::new(text.trim());
        if !(cursor.eat(b'P') || cursor.eat(b'p')) {
            return None;
        }
        let mut period = Period::default();
        let mut in_time = false;
        let mut any_field = false;
        // Designators must appear in order; `rank` tracks the last one seen.
        let mut rank = 0;
        loop {
            if !in_time && (cursor.eat(b'T') || cursor.eat(b't')) {
                in_time = true;
                continue;
            }
            if cursor.peek().is_none() {
                break;
            }
            let negative = cursor.eat(b'-');
            let (whole, _) = cursor.digits(1, 18)?;
            let mut millis = 0;
            if cursor.eat(b'.') || cursor.eat(b',') {
                let (fraction, fraction_len) = cursor.digits(1, 3)?;
                millis = fraction as i64 * 10i64.pow(3 - fraction_len as u32);
            }
            let designator = cursor.peek()?.to_ascii_uppercase();
            cursor.advance(1);
            let (field_rank, field) = match (in_time, designator) {
                (false, b'Y') => (1, &mut period.years),
                (false, b'M') => (2, &mut period.months),
                (false, b'W') => (3, &mut period.weeks),
                (false, b'D') => (4, &mut period.days),
                (true, b'H') => (5, &mut period.hours),
                (true, b'M') => (6, &mut period.minutes),
                (true, b'S') => (7, &mut period.seconds),
                _ => return None,
            };
            if field_rank <= rank || (millis != 0 && designator != b'S') {
                return None;
            }
            rank = field_rank;
            let sign = if negative { -1 } else { 1 };
            *field = sign * whole as i64;
            if designator == b'S' {
                period.millis = sign * millis;
            }
            any_field = true;
        }
        any_field.then_some(period)
    }

    /// `instant` plus `scalar` times this period, or `None` on overflow.
    pub fn add_to(&self, instant: i64, scalar: i64) -> Option<i64> {
        let mut result = add_months(instant, self.years.checked_mul(12)?.checked_mul(scalar)?)?;
        result = add_months(result, self.months.checked_mul(scalar)?)?;
        let fixed_ms = [
            (self.weeks, 7 * MS_PER_DAY),
            (self.days, MS_PER_DAY),
            (self.hours, MS_PER_HOUR),
            (self.minutes, MS_PER_MINUTE),
            (self.seconds, MS_PER_SECOND),
            (self.millis, 1),
        ];
        for (count, unit_ms) in fixed_ms {
            result = result.checked_add(count.checked_mul(unit_ms)?.checked_mul(scalar)?)?;
        }
        Some(result)
    }
}

/// ISO-8601, as Joda prints a period: `P1D`, `PT1H30M`, `PT0.500S`, `PT0S` when empty.
impl std::fmt::Display for Period {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::from("P");
        for (value, designator) in [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ] {
            if value != 0 {
                text.push_str(&format!("{value}{designator}"));
            }
        }
        let has_time =
            self.hours != 0 || self.minutes != 0 || self.seconds != 0 || self.millis != 0;
        if has_time || text.len() == 1 {
            text.push('T');
        }
        for (value, designator) in [(self.hours, 'H'), (self.minutes, 'M')] {
            if value != 0 {
                text.push_str(&format!("{value}{designator}"));
            }
        }
        if self.millis != 0 {
            let sign = if self.seconds < 0 || self.millis < 0 {
                "-"
            } else {
                ""
            };
            let (seconds, millis) = (self.seconds.abs(), self.millis.abs());
            text.push_str(&format!("{sign}{seconds}.{millis:03}S"));
        } else if self.seconds != 0 || !has_time && text.ends_with('T') {
            text.push_str(&format!("{}S", self.seconds));
        }
        formatter.write_str(&text)
    }
}

/// Adds calendar months to an instant, clamping the day to the target month's length.
pub(crate) fn add_months(instant: i64, months: i64) -> Option<i64> {
    if months == 0 {
        return Some(instant);
    }
    let days = instant.div_euclid(MS_PER_DAY);
    let ms_of_day = instant.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let total_months = year
        .checked_mul(12)?
        .checked_add(i64::from(month) - 1)?
        .checked_add(months)?;
    let new_year = total_months.div_euclid(12);
    let new_month = total_months.rem_euclid(12) as u32 + 1;
    let new_day = day.min(days_in_month(new_year, new_month));
    let new_days = i128::from(days_from_civil(new_year, new_month, new_day));
    i64::try_from(new_days * i128::from(MS_PER_DAY) + i128::from(ms_of_day)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    #[test]
    fn parses_periods() {
        let p = Period::parse("P1Y2M3W4DT5H6M7.5S").unwrap();
        assert_eq!(
            p,
            Period {
                years: 1,
                months: 2,
                weeks: 3,
                days: 4,
                hours: 5,
                minutes: 6,
                seconds: 7,
                millis: 500
            }
        );
        assert_eq!(Period::parse("PT1H").unwrap().hours, 1);
        assert_eq!(Period::parse("PT1M").unwrap().minutes, 1);
        assert_eq!(Period::parse("P1M").unwrap().months, 1);
        for bad in ["P", "PT", "1D", "P1H", "PT1D", "P1D1Y", "P1.5D", "P1DX"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn adds_calendar_fields() {
        let jan31 = parse_timestamp("2015-01-31T12:00").unwrap();
        let p1m = Period::parse("P1M").unwrap();
        assert_eq!(p1m.add_to(jan31, 1), parse_timestamp("2015-02-28T12:00"));
        assert_eq!(p1m.add_to(jan31, -1), parse_timestamp("2014-12-31T12:00"));
        let leap = parse_timestamp("2016-02-29").unwrap();
        assert_eq!(
            Period::parse("P1Y1M").unwrap().add_to(leap, 1),
            parse_timestamp("2017-03-28")
        );
        assert_eq!(
            Period::parse("P1W1DT1H").unwrap().add_to(0, 1),
            Some(8 * MS_PER_DAY + MS_PER_HOUR)
        );
        assert_eq!(Period::parse("P1D").unwrap().add_to(i64::MAX, 1), None);
    }
}
