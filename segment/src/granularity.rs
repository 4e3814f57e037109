//! Druid's named granularities (`docs/querying/granularities.md`) and their UTC bucketing:
//! parsing from query JSON, Druid's JSON form, and bucket arithmetic.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{
    civil_from_days, days_from_civil, period::add_months, Interval, Period, MS_PER_DAY,
    MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND,
};

/// A named granularity. Buckets are computed in UTC; weeks start on Monday (Joda).
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
        ensure_utc_without_origin(object)?;
        let period =
            Period::parse(period_text).ok_or_else(|| format!("invalid period {period_text:?}"))?;
        TABLE
            .iter()
            .find(|(_, _, iso)| !iso.is_empty() && Period::parse(iso) == Some(period))
            .map(|(granularity, _, _)| *granularity)
            .ok_or_else(|| format!("unsupported period granularity {period_text:?}"))
    }

    fn from_duration_object(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Granularity, String> {
        let duration = object
            .get("duration")
            .and_then(serde_json::Value::as_i64)
            .ok_or("duration granularity without a numeric duration")?;
        ensure_utc_without_origin(object)?;
        TABLE
            .iter()
            .find(|(granularity, _, _)| granularity.fixed_ms() == Some(duration))
            .map(|(granularity, _, _)| *granularity)
            .ok_or_else(|| format!("unsupported duration granularity {duration}"))
    }

    /// The lowercase name, e.g. `"five_minute"`.
    pub fn name(&self) -> &'static str {
        TABLE[*self as usize].1
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

fn ensure_utc_without_origin(
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    match object.get("timeZone") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(zone)) if zone == "UTC" || zone == "Etc/UTC" => {}
        Some(zone) => return Err(format!("unsupported granularity time zone {zone}")),
    }
    match object.get("origin") {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(origin) => Err(format!("unsupported granularity origin {origin}")),
    }
}

/// Druid's JSON form: `{"type":"all"}` and `{"type":"none"}` for those two, the uppercase
/// name (`"DAY"`) for the others, as Druid's `segmentMetadata` shows them.
impl Serialize for Granularity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
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
        assert!(Granularity::from_json(&json!({"type": "period", "period": "PT2H"})).is_err());
        let tz = json!({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"});
        assert!(Granularity::from_json(&tz).is_err());
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
