//! Time functions: `timestamp`, `unix_timestamp`, `timestamp_floor`/`ceil`/`shift`/
//! `extract`/`parse`/`format`, and `subtract_months` (whole months between two instants). Periods, units, patterns and time zones must be constant
//! arguments and are compiled once. Bucketing goes through
//! [`Granularity::from_json`]'s period granularities; zones are UTC or fixed offsets (as
//! the `timeFormat` extraction supports), formatting and parsing reuse its Joda subset.

use henge_segment::granularity::Granularity;
use henge_segment::time::{format_timestamp, parse_timestamp, Period, TimeZone};
use serde_json::{json, Map, Value};

use super::Func;
use crate::error::QueryError;
use crate::expr::{runtime_error, Eval};
use crate::extract::{
    civil_from_days, days_from_civil, format_time, parse_time_pattern, parse_with_pattern,
    parse_zone, TimePattern,
};

const MS_PER_DAY: i64 = 86_400_000;

/// A `timestamp_extract` unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Epoch,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Dow,
    Doy,
    Week,
    Month,
    Quarter,
    Year,
    /// Druid's ISOYEAR is the calendar year (`dateTime.year()`), not the week-based year.
    IsoYear,
    /// Druid's MICROSECOND is the epoch in seconds divided by 1000.
    Microsecond,
    Decade,
    Century,
    Millennium,
}

/// The compiled constant arguments of a time function.
#[derive(Debug, Default)]
pub(crate) struct TimeArgs {
    granularity: Option<Granularity>,
    period: Option<Period>,
    unit: Option<Unit>,
    pattern: Option<TimePattern>,
    /// The time zone (UTC, a fixed offset or an IANA zone).
    zone: TimeZone,
}

impl TimeArgs {
    /// Whether `timestamp_extract` gives a double (CENTURY and MILLENNIUM).
    pub(crate) fn extracts_double(&self) -> bool {
        matches!(self.unit, Some(Unit::Century | Unit::Millennium))
    }
}

type Literal<'l> = dyn Fn(usize) -> Result<Option<String>, QueryError> + 'l;

fn granularity_error(message: String) -> QueryError {
    if message.contains("unsupported") {
        QueryError::unsupported(message)
    } else {
        QueryError::invalid_query(message)
    }
}

/// Compiles the constant arguments of `func`.
pub(super) fn compile(func: Func, literal: &Literal<'_>) -> Result<TimeArgs, QueryError> {
    let zone_at = match func {
        Func::TimestampFloor | Func::TimestampCeil | Func::TimestampShift => Some(3),
        Func::TimestampExtract
        | Func::TimestampParse
        | Func::TimestampFormat
        | Func::SubtractMonths => Some(2),
        _ => None,
    };
    let zone = match zone_at {
        Some(index) => literal(index)?,
        None => None,
    };
    let mut compiled = TimeArgs {
        zone: zone
            .as_deref()
            .map(parse_zone)
            .transpose()?
            .unwrap_or(TimeZone::Utc),
        ..TimeArgs::default()
    };
    match func {
        Func::TimestampFloor | Func::TimestampCeil => {
            let period = literal(1)?.unwrap_or_default();
            let mut spec = Map::new();
            spec.insert("type".into(), json!("period"));
            spec.insert("period".into(), json!(period));
            if let Some(zone) = zone {
                spec.insert("timeZone".into(), json!(zone));
            }
            if let Some(origin) = literal(2)? {
                let origin = match origin.parse::<i64>() {
                    Ok(millis) => format_timestamp(millis),
                    Err(_) => origin,
                };
                spec.insert("origin".into(), json!(origin));
            }
            compiled.granularity =
                Some(Granularity::from_json(&Value::Object(spec)).map_err(granularity_error)?);
        }
        Func::TimestampShift => {
            let text = literal(1)?.unwrap_or_default();
            compiled.period = Some(Period::parse(&text).ok_or_else(|| {
                QueryError::invalid_query(format!("Invalid period [{text}] for timestamp_shift"))
            })?);
        }
        Func::TimestampExtract => {
            let text = literal(1)?.unwrap_or_default().to_ascii_uppercase();
            compiled.unit = Some(match text.as_str() {
                "EPOCH" => Unit::Epoch,
                "MILLISECOND" => Unit::Millisecond,
                "SECOND" => Unit::Second,
                "MINUTE" => Unit::Minute,
                "HOUR" => Unit::Hour,
                "DAY" => Unit::Day,
                "DOW" | "ISODOW" => Unit::Dow,
                "DOY" => Unit::Doy,
                "WEEK" => Unit::Week,
                "MONTH" => Unit::Month,
                "QUARTER" => Unit::Quarter,
                "YEAR" => Unit::Year,
                "ISOYEAR" => Unit::IsoYear,
                "MICROSECOND" => Unit::Microsecond,
                "DECADE" => Unit::Decade,
                "CENTURY" => Unit::Century,
                "MILLENNIUM" => Unit::Millennium,
                other => {
                    return Err(QueryError::invalid_query(format!(
                        "Invalid unit [{other}] for timestamp_extract"
                    )))
                }
            });
        }
        Func::TimestampParse | Func::TimestampFormat | Func::Timestamp | Func::UnixTimestamp => {
            if let Some(pattern) = literal(1)? {
                compiled.pattern = Some(parse_time_pattern(&pattern)?);
            }
        }
        _ => {}
    }
    Ok(compiled)
}

pub(super) fn call(func: Func, values: &[Eval], args: &TimeArgs) -> Result<Eval, QueryError> {
    let value = &values[0];
    if value.is_null() {
        return Ok(Eval::Null);
    }
    Ok(match func {
        Func::SubtractMonths => match (value.as_long(), values[1].as_long()) {
            (Some(end), Some(start)) => Eval::Long(months_between(start, end, args.zone)),
            _ => Eval::Null,
        },
        Func::Timestamp | Func::UnixTimestamp => {
            let millis = match value {
                Eval::Str(text) => parse(text, args).ok_or_else(|| {
                    runtime_error(
                        format!("invalid value {text}"),
                        "java.lang.IllegalArgumentException",
                    )
                })?,
                other => match other.as_long() {
                    Some(millis) => millis,
                    None => return Ok(Eval::Null),
                },
            };
            Eval::Long(if func == Func::UnixTimestamp {
                millis / 1000
            } else {
                millis
            })
        }
        Func::TimestampParse => match value.as_string() {
            Some(text) => parse(&text, args).map_or(Eval::Null, Eval::Long),
            None => Eval::Null,
        },
        _ => {
            // Like Joda's `new DateTime(Object)`, an ISO string is read as a timestamp.
            let millis = match value {
                Eval::Str(text) if func == Func::TimestampExtract => {
                    value.as_long().or_else(|| parse_timestamp(text))
                }
                _ => value.as_long(),
            };
            let Some(millis) = millis else {
                return Ok(Eval::Null);
            };
            match func {
                Func::TimestampFloor | Func::TimestampCeil => {
                    let Some(granularity) = args.granularity else {
                        return Ok(Eval::Null);
                    };
                    let start = granularity.bucket_start(millis);
                    Eval::Long(if func == Func::TimestampCeil && start != millis {
                        granularity.next_bucket_start(start)
                    } else {
                        start
                    })
                }
                Func::TimestampShift => {
                    let (Some(period), Some(step)) = (args.period, values[2].as_long()) else {
                        return Ok(Eval::Null);
                    };
                    let local = args.zone.to_local(millis);
                    period
                        .add_to(local, step)
                        .map_or(Eval::Null, |shifted| Eval::Long(args.zone.to_utc(shifted)))
                }
                Func::TimestampExtract => match args.unit {
                    Some(unit) => extract(unit, millis, args.zone.offset_ms(millis)),
                    None => Eval::Null,
                },
                Func::TimestampFormat => Eval::string(match &args.pattern {
                    Some(pattern) => format_time(pattern, millis, &args.zone),
                    None => args.zone.format_iso(millis),
                }),
                _ => Eval::Null,
            }
        }
    })
}

/// Whole months from `start` to `end` on the zone's calendar, as Joda's
/// `Months.monthsBetween`: the calendar difference, less one when adding it to `start`
/// (clamping the day to the month's end) overshoots `end`.
fn months_between(start: i64, end: i64, zone: TimeZone) -> i64 {
    let (local_start, local_end) = (zone.to_local(start), zone.to_local(end));
    let month_index = |local: i64| {
        let (year, month, _) = civil_from_days(local.div_euclid(MS_PER_DAY));
        year * 12 + i64::from(month) - 1
    };
    let mut months = month_index(local_end) - month_index(local_start);
    let shifted = |months: i64| {
        Period::parse(&format!("P{}M", months.unsigned_abs()))
            .and_then(|period| period.add_to(local_start, months.signum()))
    };
    if months > 0 && shifted(months).is_some_and(|at| at > local_end) {
        months -= 1;
    } else if months < 0 && shifted(months).is_some_and(|at| at < local_end) {
        months += 1;
    }
    months
}

/// Parses a timestamp: with the pattern when there is one, else ISO 8601 or SQL
/// (`2015-09-12 10:00:00`); the zone applies to texts without an offset of their own.
fn parse(text: &str, args: &TimeArgs) -> Option<i64> {
    let text = text.trim();
    if let Some(pattern) = &args.pattern {
        // Read as wall-clock time, then placed in the zone.
        return parse_with_pattern(pattern, text, 0).map(|local| args.zone.to_utc(local));
    }
    let millis = parse_timestamp(text)?;
    Some(if has_offset(text) {
        millis
    } else {
        args.zone.to_utc(millis)
    })
}

/// Whether an ISO timestamp ends with its own zone (`Z`, `+hh:mm`, `-hh`).
fn has_offset(text: &str) -> bool {
    let Some(time_at) = text.get(10..).and_then(|rest| rest.find(['T', ' '])) else {
        return false;
    };
    let time = &text[10 + time_at..];
    time.ends_with('Z') || time.contains('+') || time.contains('-')
}

/// One field of a timestamp in a fixed-offset zone, as Druid's `TimestampExtractExprMacro`
/// computes it (a long, except CENTURY and MILLENNIUM, which are doubles).
fn extract(unit: Unit, millis: i64, offset_ms: i64) -> Eval {
    let local = millis.saturating_add(offset_ms);
    let days = local.div_euclid(MS_PER_DAY);
    let of_day = local.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    // ISO day of week: Monday 1 ... Sunday 7; 1970-01-01 was a Thursday.
    let weekday = (days + 3).rem_euclid(7) + 1;
    let day_of_year = days - days_from_civil(year, 1, 1) + 1;
    Eval::Long(match unit {
        Unit::Epoch => millis / 1000,
        Unit::Microsecond => millis / 1000 / 1000,
        Unit::Millisecond => of_day % 1000,
        Unit::Second => of_day / 1000 % 60,
        Unit::Minute => of_day / 60_000 % 60,
        Unit::Hour => of_day / 3_600_000,
        Unit::Day => i64::from(day),
        Unit::Dow => weekday,
        Unit::Doy => day_of_year,
        Unit::Month => i64::from(month),
        Unit::Quarter => i64::from(month - 1) / 3 + 1,
        Unit::Year | Unit::IsoYear => year,
        Unit::Decade => year / 10,
        Unit::Century => return Eval::Double((year as f64 / 100.0).ceil()),
        Unit::Millennium => return Eval::Double((year as f64 / 1000.0).ceil()),
        Unit::Week => iso_week(year, day_of_year, weekday),
    })
}

/// The ISO week number of a date (Joda's `weekOfWeekyear`).
fn iso_week(year: i64, day_of_year: i64, weekday: i64) -> i64 {
    let week = (day_of_year - weekday + 10) / 7;
    if week < 1 {
        return weeks_in_year(year - 1);
    }
    if week > weeks_in_year(year) {
        return 1;
    }
    week
}

/// 53 when the year starts on a Thursday, or on a Wednesday in a leap year; else 52.
fn weeks_in_year(year: i64) -> i64 {
    let jan1 = (days_from_civil(year, 1, 1) + 3).rem_euclid(7) + 1;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if jan1 == 4 || (leap && jan1 == 3) {
        53
    } else {
        52
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_iso_fields() {
        // 2015-09-12 is a Saturday in ISO week 37; 2016-01-01 (a Friday) is in week 53 of 2015.
        let millis = parse_timestamp("2015-09-12T00:46:58.771Z").unwrap();
        assert_eq!(extract(Unit::Dow, millis, 0), Eval::Long(6));
        assert_eq!(extract(Unit::Week, millis, 0), Eval::Long(37));
        assert_eq!(extract(Unit::Doy, millis, 0), Eval::Long(255));
        assert_eq!(extract(Unit::Hour, millis, -3_600_000), Eval::Long(23));
        assert_eq!(extract(Unit::Century, millis, 0), Eval::Double(21.0));
        assert_eq!(extract(Unit::Decade, millis, 0), Eval::Long(201));
        let new_year = parse_timestamp("2016-01-01").unwrap();
        assert_eq!(extract(Unit::Week, new_year, 0), Eval::Long(53));
        assert_eq!(extract(Unit::IsoYear, new_year, 0), Eval::Long(2016));
        assert!(has_offset("2015-09-12T00:00:00-07:00"));
    }

    #[test]
    fn months_between_counts_whole_calendar_months() {
        let at = |text: &str| parse_timestamp(text).unwrap();
        let utc = TimeZone::Utc;
        assert_eq!(months_between(at("2015-01-31"), at("2015-02-28"), utc), 1);
        assert_eq!(
            months_between(at("2015-01-15T10:00"), at("2015-03-15T09:59"), utc),
            1
        );
        assert_eq!(
            months_between(at("2015-01-15T10:00"), at("2015-03-15T10:00"), utc),
            2
        );
        assert_eq!(months_between(at("2016-03-15"), at("2015-01-20"), utc), -13);
        assert_eq!(months_between(at("2015-09-12"), at("2015-09-30"), utc), 0);
        // Los Angeles reads 2015-10-01T03:00Z as 2015-09-30T20:00, a month after 08-30T20:00.
        let la = TimeZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(
            months_between(at("2015-08-31T03:00Z"), at("2015-10-01T03:00Z"), la),
            1
        );
        assert_eq!(
            months_between(at("2015-09-01T12:00Z"), at("2015-10-01T03:00Z"), utc),
            0
        );
    }
}
