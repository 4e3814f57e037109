//! Druid's granularities (`docs/querying/granularities.md`): the named ones (UTC), `period`
//! granularities with a time zone and origin, and `duration` granularities; parsing from
//! query JSON, Druid's JSON form, bucket arithmetic, and the zone results are printed in.

mod zoned;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::zoned::{DurationGranularity, PeriodGranularity};
use crate::time::{
    civil_from_days, days_from_civil, parse_timestamp, period::add_months, Interval, Period,
    TimeZone, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND,
};

/// A granularity. The named ones are Druid's standard granularities, computed in UTC with
/// weeks starting on Monday (Joda); a UTC period granularity without an origin equal to one of
/// them is represented by the name, as Druid serializes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    All,
    None,
    Second,
    Minute,
    FiveMinute,
    TenMinute,
    FifteenMinute,
    ThirtyMinute,
    Hour,
    SixHour,
    EightHour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    /// Any other period, or any period in a time zone or from an origin.
    Period(PeriodGranularity),
    /// Fixed-width buckets not equal to a named granularity, or from an origin.
    Duration(DurationGranularity),
}

/// Every granularity with its lowercase name and, for the period-based ones, its ISO period.
const TABLE: [(Granularity, &str, &str); 16] = [
    (Granularity::All, "all", ""),
    (Granularity::None, "none", ""),
    (Granularity::Second, "second", "PT1S"),
    (Granularity::Minute, "minute", "PT1M"),
    (Granularity::FiveMinute, "five_minute", "PT5M"),
    (Granularity::TenMinute, "ten_minute", "PT10M"),
    (Granularity::FifteenMinute, "fifteen_minute", "PT15M"),
    (Granularity::ThirtyMinute, "thirty_minute", "PT30M"),
    (Granularity::Hour, "hour", "PT1H"),
    (Granularity::SixHour, "six_hour", "PT6H"),
    (Granularity::EightHour, "eight_hour", "PT8H"),
    (Granularity::Day, "day", "P1D"),
    (Granularity::Week, "week", "P1W"),
    (Granularity::Month, "month", "P1M"),
    (Granularity::Quarter, "quarter", "P3M"),
    (Granularity::Year, "year", "P1Y"),
];

impl Granularity {
    /// Parses a query's granularity: a name in any case (`"day"`, `"DAY"`), `{"type": name}`,
    /// or a UTC `{"type": "period", "period": "P1D"}` / `{"type": "duration", "duration": ms}`
    /// equal to one of the named granularities.
    pub fn from_json(value: &serde_json::Value) -> Result<Granularity, String> {
        match value {
            serde_json::Value::String(name) => {
                Granularity::from_name(name).ok_or_else(|| format!("unknown granularity {name:?}"))
            }
            serde_json::Value::Object(object) => {
                let kind = object
                    .get("type")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| format!("granularity object without a type: {value}"))?;
                match kind.to_ascii_lowercase().as_str() {
                    "period" => Granularity::from_period_object(object),
                    "duration" => Granularity::from_duration_object(object),
                    _ => Granularity::from_name(kind)
                        .ok_or_else(|| format!("unknown granularity type {kind:?}")),
                }
            }
            other => Err(format!("invalid granularity {other}")),
        }
    }

    /// The granularity with this name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Granularity> {
        TABLE
            .iter()
            .find(|(_, table_name, _)| table_name.eq_ignore_ascii_case(name))
            .map(|(granularity, _, _)| *granularity)
    }

    fn from_period_object(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Granularity, String> {
        let period_text = object
            .get("period")
            .and_then(serde_json::Value::as_str)
            .ok_or("period granularity without a period")?;
        let period =
            Period::parse(period_text).ok_or_else(|| format!("invalid period {period_text:?}"))?;
        let zone = match object.get("timeZone") {
            None | Some(serde_json::Value::Null) => TimeZone::Utc,
            Some(serde_json::Value::String(zone)) => TimeZone::parse(zone)
                .ok_or_else(|| format!("The datetime zone id '{zone}' is not recognised"))?,
            Some(other) => return Err(format!("invalid timeZone {other}")),
        };
        let granularity = PeriodGranularity::new(period, zone, origin(object)?)?;
        if granularity.is_standard_candidate() {
            let named = TABLE
                .iter()
                .find(|(_, _, iso)| !iso.is_empty() && Period::parse(iso) == Some(period));
            if let Some((named, _, _)) = named {
                return Ok(*named);
            }
        }
        Ok(Granularity::Period(granularity))
    }

    fn from_duration_object(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Granularity, String> {
        let duration = object
            .get("duration")
            .and_then(serde_json::Value::as_i64)
            .ok_or("duration granularity without a numeric duration")?;
        let origin_opt = origin(object)?;
        let granularity = DurationGranularity::new(duration, origin_opt)?;
        if origin_opt.is_none() {
            let named = TABLE
                .iter()
                .find(|(named, _, _)| named.fixed_ms() == Some(duration));
            if let Some((named, _, _)) = named {
                return Ok(*named);
            }
        }
        Ok(Granularity::Duration(granularity))
    }

    /// The lowercase name, e.g. `"five_minute"`; `"period"` or `"duration"` for the others.
    pub fn name(&self) -> &'static str {
        match self {
            Granularity::Period(_) => "period",
            Granularity::Duration(_) => "duration",
            named => TABLE
                .iter()
                .find(|(candidate, _, _)| candidate == named)
                .map_or("period", |(_, name, _)| name),
        }
    }

    /// The zone Druid prints this granularity's bucket timestamps in (UTC unless a period
    /// granularity names a zone).
    pub fn time_zone(&self) -> TimeZone {
        match self {
            Granularity::Period(period) => period.zone(),
            _ => TimeZone::Utc,
        }
    }

    /// A bucket timestamp as Druid prints it in query results: in the granularity's zone.
    pub fn format_timestamp(&self, ms: i64) -> String {
        self.time_zone().format_iso(ms)
    }

    /// Bucket length for granularities of fixed length (second to week).
    fn fixed_ms(&self) -> Option<i64> {
        match self {
            Granularity::Second => Some(MS_PER_SECOND),
            Granularity::Minute => Some(MS_PER_MINUTE),
            Granularity::FiveMinute => Some(5 * MS_PER_MINUTE),
            Granularity::TenMinute => Some(10 * MS_PER_MINUTE),
            Granularity::FifteenMinute => Some(15 * MS_PER_MINUTE),
            Granularity::ThirtyMinute => Some(30 * MS_PER_MINUTE),
            Granularity::Hour => Some(MS_PER_HOUR),
            Granularity::SixHour => Some(6 * MS_PER_HOUR),
            Granularity::EightHour => Some(8 * MS_PER_HOUR),
            Granularity::Day => Some(MS_PER_DAY),
            Granularity::Week => Some(7 * MS_PER_DAY),
            _ => None,
        }
    }

    /// Start of the bucket holding `ms`: `ms` itself for `None`, `i64::MIN` for `All`.
    pub fn bucket_start(&self, ms: i64) -> i64 {
        match self {
            Granularity::All => i64::MIN,
            Granularity::None => ms,
            Granularity::Period(period) => period.bucket_start(ms),
            Granularity::Duration(duration) => duration.bucket_start(ms),
            // 1970-01-01 was a Thursday: shift so buckets start on Mondays.
            Granularity::Week => {
                let days = ms.div_euclid(MS_PER_DAY);
                (days - (days + 3).rem_euclid(7)).saturating_mul(MS_PER_DAY)
            }
            Granularity::Month | Granularity::Quarter | Granularity::Year => {
                let (year, month, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
                let first_month = match self {
                    Granularity::Month => month,
                    Granularity::Quarter => (month - 1) / 3 * 3 + 1,
                    _ => 1,
                };
                days_from_civil(year, first_month, 1).saturating_mul(MS_PER_DAY)
            }
            fixed => {
                let width = fixed
                    .fixed_ms()
                    .expect("every other granularity has a fixed width");
                ms.saturating_sub(ms.rem_euclid(width))
            }
        }
    }

    /// Start of the bucket after the one starting at `bucket_start` (saturating at
    /// `i64::MAX`): `bucket_start + 1` for `None`, `i64::MAX` for `All`.
    pub fn next_bucket_start(&self, bucket_start: i64) -> i64 {
        let next_opt = match self {
            Granularity::All => None,
            Granularity::None => bucket_start.checked_add(1),
            Granularity::Period(period) => Some(period.increment(bucket_start)),
            Granularity::Duration(duration) => Some(duration.increment(bucket_start)),
            Granularity::Month => add_months(bucket_start, 1),
            Granularity::Quarter => add_months(bucket_start, 3),
            Granularity::Year => add_months(bucket_start, 12),
            fixed => fixed
                .fixed_ms()
                .and_then(|width| bucket_start.checked_add(width)),
        };
        next_opt.unwrap_or(i64::MAX)
    }

    /// The bucket holding `ms`; for `All` that is `[i64::MIN, i64::MAX)`.
    pub fn bucket_interval(&self, ms: i64) -> Interval {
        let start = self.bucket_start(ms);
        Interval::new(start, self.next_bucket_start(start))
    }
}

/// A granularity's `origin`: an ISO timestamp or epoch milliseconds, or absent.
fn origin(object: &serde_json::Map<String, serde_json::Value>) -> Result<Option<i64>, String> {
    match object.get("origin") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => parse_timestamp(text)
            .map(Some)
            .ok_or_else(|| format!("invalid granularity origin {text:?}")),
        Some(serde_json::Value::Number(number)) => number
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("invalid granularity origin {number}")),
        Some(other) => Err(format!("invalid granularity origin {other}")),
    }
}

/// Druid's JSON form: `{"type":"all"}` and `{"type":"none"}` for those two, the uppercase
/// name (`"DAY"`) for the other standard ones, as Druid's `segmentMetadata` shows them, and
/// the object form for period and duration granularities.
impl Serialize for Granularity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Granularity::Period(period) => {
                let mut map = serializer.serialize_map(Some(4))?;
                map.serialize_entry("type", "period")?;
                map.serialize_entry("period", &period.period().to_string())?;
                map.serialize_entry("timeZone", &period.zone().to_string())?;
                map.serialize_entry(
                    "origin",
                    &period.origin().map(crate::time::format_timestamp),
                )?;
                map.end()
            }
            Granularity::Duration(duration) => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("type", "duration")?;
                map.serialize_entry("duration", &duration.duration())?;
                map.serialize_entry("origin", &crate::time::format_timestamp(duration.origin()))?;
                map.end()
            }
            Granularity::All | Granularity::None => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("type", self.name())?;
                map.end()
            }
            _ => serializer.serialize_str(&self.name().to_ascii_uppercase()),
        }
    }
}

impl<'de> Deserialize<'de> for Granularity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Granularity, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Granularity::from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::time::{format_timestamp, parse_timestamp};

    fn ts(text: &str) -> i64 {
        parse_timestamp(text).unwrap()
    }

    fn bucket(granularity: Granularity, text: &str) -> String {
        granularity.bucket_interval(ts(text)).to_string()
    }

    #[test]
    fn parses_names_and_objects() {
        assert_eq!(Granularity::from_json(&json!("day")), Ok(Granularity::Day));
        assert_eq!(Granularity::from_json(&json!("DAY")), Ok(Granularity::Day));
        assert_eq!(
            Granularity::from_json(&json!("Fifteen_Minute")),
            Ok(Granularity::FifteenMinute)
        );
        assert_eq!(
            Granularity::from_json(&json!({"type": "all"})),
            Ok(Granularity::All)
        );
        assert_eq!(
            Granularity::from_json(&json!({"type": "none"})),
            Ok(Granularity::None)
        );
        assert_eq!(
            Granularity::from_json(&json!({"type": "hour"})),
            Ok(Granularity::Hour)
        );
        assert_eq!(
            Granularity::from_json(&json!({"type": "period", "period": "PT1H", "timeZone": "UTC"})),
            Ok(Granularity::Hour)
        );
        assert_eq!(
            Granularity::from_json(&json!({"type": "duration", "duration": 60000})),
            Ok(Granularity::Minute)
        );
        assert!(Granularity::from_json(&json!("fortnight")).is_err());
        assert!(Granularity::from_json(&json!(3)).is_err());
        assert!(matches!(
            Granularity::from_json(&json!({"type": "period", "period": "PT2H"})),
            Ok(Granularity::Period(_))
        ));
        for (granularity, name, _) in TABLE {
            assert_eq!(granularity.name(), name);
            assert_eq!(Granularity::from_name(name), Some(granularity));
        }
    }

    #[test]
    fn serializes_like_druid() {
        assert_eq!(
            serde_json::to_value(Granularity::All).unwrap(),
            json!({"type": "all"})
        );
        assert_eq!(
            serde_json::to_value(Granularity::None).unwrap(),
            json!({"type": "none"})
        );
        assert_eq!(
            serde_json::to_value(Granularity::Day).unwrap(),
            json!("DAY")
        );
        assert_eq!(
            serde_json::to_value(Granularity::FiveMinute).unwrap(),
            json!("FIVE_MINUTE")
        );
        for (granularity, _, _) in TABLE {
            let json = serde_json::to_string(&granularity).unwrap();
            assert_eq!(
                serde_json::from_str::<Granularity>(&json).unwrap(),
                granularity
            );
        }
    }

    #[test]
    fn buckets() {
        let t = "2015-09-12T13:46:58.771Z";
        assert_eq!(
            Granularity::None.bucket_interval(ts(t)),
            Interval::new(ts(t), ts(t) + 1)
        );
        assert_eq!(
            bucket(Granularity::Second, t),
            "2015-09-12T13:46:58.000Z/2015-09-12T13:46:59.000Z"
        );
        assert_eq!(
            bucket(Granularity::FifteenMinute, t),
            "2015-09-12T13:45:00.000Z/2015-09-12T14:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::SixHour, t),
            "2015-09-12T12:00:00.000Z/2015-09-12T18:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::EightHour, t),
            "2015-09-12T08:00:00.000Z/2015-09-12T16:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Day, t),
            "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"
        );
        // 2015-09-12 is a Saturday; Joda weeks start on Monday.
        assert_eq!(
            bucket(Granularity::Week, t),
            "2015-09-07T00:00:00.000Z/2015-09-14T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Week, "2015-09-07"),
            "2015-09-07T00:00:00.000Z/2015-09-14T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Week, "1970-01-01"),
            "1969-12-29T00:00:00.000Z/1970-01-05T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Month, t),
            "2015-09-01T00:00:00.000Z/2015-10-01T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Month, "2016-02-29T23:59"),
            "2016-02-01T00:00:00.000Z/2016-03-01T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Quarter, t),
            "2015-07-01T00:00:00.000Z/2015-10-01T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Quarter, "2015-12-31T23:59"),
            "2015-10-01T00:00:00.000Z/2016-01-01T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Year, t),
            "2015-01-01T00:00:00.000Z/2016-01-01T00:00:00.000Z"
        );
        assert_eq!(
            bucket(Granularity::Hour, "1969-12-31T23:30"),
            "1969-12-31T23:00:00.000Z/1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Granularity::All.bucket_interval(ts(t)),
            Interval::new(i64::MIN, i64::MAX)
        );
        assert_eq!(Granularity::None.next_bucket_start(i64::MAX), i64::MAX);
        assert_eq!(Granularity::Day.next_bucket_start(i64::MAX - 5), i64::MAX);
    }

    #[test]
    fn buckets_at_eternity_bounds() {
        for granularity in TABLE.map(|(granularity, _, _)| granularity) {
            for ms in [i64::MIN / 2, i64::MAX / 2] {
                let interval = granularity.bucket_interval(ms);
                assert!(
                    interval.contains(ms) || granularity == Granularity::All,
                    "{granularity:?}"
                );
                assert!(!format_timestamp(interval.start).is_empty());
            }
        }
    }
}
