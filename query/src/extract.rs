//! Running dimension-spec transforms (`crate::model::extraction`) on one value, and the
//! `timeFormat` pieces: a Joda `DateTimeFormat` subset (`yyyy yy MM M MMM MMMM dd d HH H mm
//! m ss s SSS EEE EEEE`, quoted literals, other non-letters verbatim) and fixed-offset zones.

use henge_segment::time::{parse_timestamp, TimeZone};

use crate::error::QueryError;
use crate::model::extraction::{ExtractionFn, Transform, ValueFilter};
use crate::output::RawValue;

const MS_PER_DAY: i64 = 86_400_000;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Day names from Monday (ISO day 1).
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One field or literal of a time pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TimeToken {
    Literal(String),
    Year(usize),
    Month(usize),
    Day(usize),
    Hour(usize),
    Minute(usize),
    Second(usize),
    Millis(usize),
    Weekday(usize),
}

/// A parsed `timeFormat` pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TimePattern(Vec<TimeToken>);

/// Parses the supported subset of Joda's pattern letters; other letters are a 501.
pub(crate) fn parse_time_pattern(format: &str) -> Result<TimePattern, QueryError> {
    let chars: Vec<char> = format.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let letter = chars[at];
        if letter == '\'' {
            let end = chars[at + 1..]
                .iter()
                .position(|&c| c == '\'')
                .map_or(chars.len(), |offset| at + 1 + offset);
            let text: String = chars[at + 1..end].iter().collect();
            tokens.push(TimeToken::Literal(if text.is_empty() {
                "'".into()
            } else {
                text
            }));
            at = end + 1;
            continue;
        }
        if !letter.is_ascii_alphabetic() {
            tokens.push(TimeToken::Literal(letter.to_string()));
            at += 1;
            continue;
        }
        let count = chars[at..].iter().take_while(|&&c| c == letter).count();
        let token = match (letter, count) {
            ('y', 2 | 4) => TimeToken::Year(count),
            ('M', 1..=4) => TimeToken::Month(count),
            ('d', 1 | 2) => TimeToken::Day(count),
            ('H', 1 | 2) => TimeToken::Hour(count),
            ('m', 1 | 2) => TimeToken::Minute(count),
            ('s', 1 | 2) => TimeToken::Second(count),
            ('S', 3) => TimeToken::Millis(count),
            ('E', 3 | 4) => TimeToken::Weekday(count),
            _ => {
                return Err(QueryError::unsupported(format!(
                    "timeFormat pattern letters [{}] are not supported",
                    chars[at..at + count].iter().collect::<String>()
                )))
            }
        };
        tokens.push(token);
        at += count;
    }
    Ok(TimePattern(tokens))
}

/// A `timeZone`: `UTC`, a fixed offset (`+05:30`) or an IANA name (`America/Los_Angeles`).
pub(crate) fn parse_zone(zone: &str) -> Result<TimeZone, QueryError> {
    TimeZone::parse(zone).ok_or_else(|| {
        QueryError::invalid_query(format!("The datetime zone id '{zone}' is not recognised"))
    })
}

/// Applies a dimension spec's transforms to one value (`None` for no transforms).
pub(crate) fn apply_all(transforms: &[Transform], value: RawValue<'_>) -> Option<String> {
    apply_kept(transforms, value).flatten()
}

/// Like [`apply_all`], but `None` when a value filter (`listFiltered`, `regexFiltered`,
/// `prefixFiltered`) drops the value, and `Some(None)` for a null result: a multi-value row
/// loses its dropped values, while a single-value row groups them as null.
pub(crate) fn apply_kept(transforms: &[Transform], value: RawValue<'_>) -> Option<Option<String>> {
    let mut current = match transforms.first() {
        Some(Transform::Extract(function)) => apply(function, value),
        _ => value.as_string(),
    };
    let skip = usize::from(matches!(transforms.first(), Some(Transform::Extract(_))));
    for transform in &transforms[skip..] {
        current = match transform {
            Transform::Extract(function) => apply(
                function,
                current.as_deref().map_or(RawValue::Null, RawValue::Str),
            ),
            Transform::Filter(filter) => match current {
                Some(text) if !keeps(filter, &text) => return None,
                other => other,
            },
        };
    }
    Some(current)
}

fn keeps(filter: &ValueFilter, value: &str) -> bool {
    match filter {
        ValueFilter::List { values, whitelist } => {
            values.iter().any(|known| known == value) == *whitelist
        }
        ValueFilter::Regex(pattern) => pattern.matches(value),
        ValueFilter::Prefix(prefix) => value.starts_with(prefix.as_str()),
    }
}

/// One extraction function on one value.
fn apply(function: &ExtractionFn, value: RawValue<'_>) -> Option<String> {
    if let ExtractionFn::TimeFormat {
        pattern,
        zone,
        granularity,
        as_millis,
    } = function
    {
        let millis = match value {
            RawValue::Null => return None,
            RawValue::Long(millis) => millis,
            RawValue::Double(millis) => millis as i64,
            RawValue::Str(text) if *as_millis => text.trim().parse().ok()?,
            RawValue::Str(text) => parse_timestamp(text.trim())?,
        };
        let millis = granularity.map_or(millis, |granularity| granularity.bucket_start(millis));
        return Some(match pattern {
            Some(pattern) => format_time(pattern, millis, zone),
            None if *as_millis => millis.to_string(),
            None => zone.format_iso(millis),
        });
    }
    let text = value.as_string();
    match function {
        ExtractionFn::Substring { index, length } => {
            let text = text?;
            let chars = text.chars().count();
            (*index < chars).then(|| {
                let take = length.unwrap_or(usize::MAX);
                text.chars().skip(*index).take(take).collect()
            })
        }
        ExtractionFn::Regex {
            pattern,
            index,
            replacement,
        } => {
            let captures = text
                .as_deref()
                .and_then(|text| pattern.regex().captures(text));
            match captures {
                Some(captures) => captures.get(*index).map(|group| group.as_str().to_owned()),
                None => match replacement {
                    Some(replacement) => replacement.clone(),
                    None => text,
                },
            }
        }
        ExtractionFn::Upper => text.map(|text| text.to_uppercase()),
        ExtractionFn::Lower => text.map(|text| text.to_lowercase()),
        ExtractionFn::Strlen => Some(
            text.map_or(0, |text| text.encode_utf16().count())
                .to_string(),
        ),
        ExtractionFn::Lookup {
            map,
            retain_missing,
            replacement,
        } => {
            let found = text
                .as_deref()
                .and_then(|key| map.get(key))
                .filter(|mapped| !mapped.is_empty());
            match found {
                Some(mapped) => Some(mapped.clone()),
                None if *retain_missing => text,
                None => replacement.clone(),
            }
        }
        ExtractionFn::TimeFormat { .. } => None,
    }
}

pub(crate) fn format_time(pattern: &TimePattern, millis: i64, zone: &TimeZone) -> String {
    let local = zone.to_local(millis);
    let days = local.div_euclid(MS_PER_DAY);
    let of_day = local.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (ISO day 4, index 3 from Monday).
    let weekday = (days + 3).rem_euclid(7) as usize;
    let mut out = String::new();
    for token in &pattern.0 {
        match token {
            TimeToken::Literal(text) => out.push_str(text),
            TimeToken::Year(2) => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            TimeToken::Year(width) => out.push_str(&format!("{year:0width$}")),
            TimeToken::Month(3) => out.push_str(&MONTHS[month as usize - 1][..3]),
            TimeToken::Month(4) => out.push_str(MONTHS[month as usize - 1]),
            TimeToken::Month(width) => out.push_str(&format!("{month:0width$}")),
            TimeToken::Day(width) => out.push_str(&format!("{day:0width$}")),
            TimeToken::Hour(width) => out.push_str(&format!("{:0width$}", of_day / 3_600_000)),
            TimeToken::Minute(width) => out.push_str(&format!("{:0width$}", of_day / 60_000 % 60)),
            TimeToken::Second(width) => out.push_str(&format!("{:0width$}", of_day / 1000 % 60)),
            TimeToken::Millis(width) => out.push_str(&format!("{:0width$}", of_day % 1000)),
            TimeToken::Weekday(3) => out.push_str(&DAYS[weekday][..3]),
            TimeToken::Weekday(_) => out.push_str(DAYS[weekday]),
        }
    }
    out
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * i64::from((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    era * 146_097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year - 719_468
}

/// Parses `text` with a time pattern (Joda's `DateTimeFormat.parseMillis` on the supported
/// letters): numeric fields read their width in digits (one or two for single letters),
/// month and day names match case-insensitively, literals match exactly, and the whole text
/// must be used. The result is UTC millis of the local time minus `offset_ms`.
pub(crate) fn parse_with_pattern(pattern: &TimePattern, text: &str, offset_ms: i64) -> Option<i64> {
    let (mut year, mut month, mut day) = (1970i64, 1u32, 1u32);
    let (mut hour, mut minute, mut second, mut millis) = (0i64, 0i64, 0i64, 0i64);
    let mut rest = text;
    let number = |rest: &mut &str, min: usize, max: usize| -> Option<i64> {
        let digits = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if digits < min {
            return None;
        }
        let value = rest[..digits].parse().ok()?;
        *rest = &rest[digits..];
        Some(value)
    };
    let width = |count: usize| if count == 1 { (1, 2) } else { (count, count) };
    for token in &pattern.0 {
        match token {
            TimeToken::Literal(literal) => rest = rest.strip_prefix(literal.as_str())?,
            TimeToken::Year(2) => year = 2000 + number(&mut rest, 2, 2)?,
            TimeToken::Year(_) => year = number(&mut rest, 4, 4)?,
            TimeToken::Month(count @ (3 | 4)) => {
                let index = MONTHS.iter().position(|name| {
                    let name = if *count == 3 { &name[..3] } else { name };
                    rest.get(..name.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(name))
                })?;
                let name_len = if *count == 3 { 3 } else { MONTHS[index].len() };
                rest = &rest[name_len..];
                month = index as u32 + 1;
            }
            TimeToken::Month(count) => {
                let (min, max) = width(*count);
                month = u32::try_from(number(&mut rest, min, max)?).ok()?;
            }
            TimeToken::Day(count) => {
                let (min, max) = width(*count);
                day = u32::try_from(number(&mut rest, min, max)?).ok()?;
            }
            TimeToken::Hour(count) => {
                let (min, max) = width(*count);
                hour = number(&mut rest, min, max)?;
            }
            TimeToken::Minute(count) => {
                let (min, max) = width(*count);
                minute = number(&mut rest, min, max)?;
            }
            TimeToken::Second(count) => {
                let (min, max) = width(*count);
                second = number(&mut rest, min, max)?;
            }
            TimeToken::Millis(count) => millis = number(&mut rest, *count, *count)?,
            TimeToken::Weekday(count) => {
                let name = DAYS.iter().find_map(|name| {
                    let name = if *count == 3 { &name[..3] } else { name };
                    rest.get(..name.len())
                        .filter(|head| head.eq_ignore_ascii_case(name))
                })?;
                rest = &rest[name.len()..];
            }
        }
    }
    let month_days = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    let valid = rest.is_empty()
        && (1..=month_days).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        days_from_civil(year, month, day) * MS_PER_DAY
            + hour * 3_600_000
            + minute * 60_000
            + second * 1000
            + millis
            - offset_ms
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_joda_subset_in_fixed_zones() {
        let millis = parse_timestamp("2015-09-12T00:46:58.771Z").unwrap();
        let pattern = parse_time_pattern("yyyy-MM-dd'T'HH:mm:ss.SSS EEE MMM").unwrap();
        assert_eq!(
            format_time(&pattern, millis, &TimeZone::Utc),
            "2015-09-12T00:46:58.771 Sat Sep"
        );
        let offset = parse_zone("-07:00").unwrap();
        let pattern = parse_time_pattern("EEEE d MMMM yy, H'h'").unwrap();
        assert_eq!(
            format_time(&pattern, millis, &offset),
            "Friday 11 September 15, 17h"
        );
        assert_eq!(offset.format_iso(millis), "2015-09-11T17:46:58.771-07:00");
        let los_angeles = parse_zone("America/Los_Angeles").unwrap();
        assert_eq!(
            format_time(&pattern, millis, &los_angeles),
            "Friday 11 September 15, 17h"
        );
        let winter = parse_timestamp("2015-01-12T00:46:58.771Z").unwrap();
        assert_eq!(
            los_angeles.format_iso(winter),
            "2015-01-11T16:46:58.771-08:00"
        );
        assert_eq!(parse_zone("Mars/Olympus").unwrap_err().status, 400);
        assert_eq!(parse_time_pattern("ww").unwrap_err().status, 501);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        let pattern = parse_time_pattern("dd MMM yyyy HH:mm:ss.SSS").unwrap();
        assert_eq!(
            parse_with_pattern(&pattern, "12 sep 2015 00:46:58.771", 0),
            Some(millis)
        );
        let pattern = parse_time_pattern("yyyyMMdd H").unwrap();
        assert_eq!(
            parse_with_pattern(&pattern, "20150912 7", -7 * 3_600_000),
            parse_timestamp("2015-09-12T14:00:00Z")
        );
        assert_eq!(parse_with_pattern(&pattern, "20150931 7", 0), None);
    }
}
