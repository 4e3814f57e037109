//! Time in SQL: TIMESTAMP and INTERVAL literals, timestamp ± interval arithmetic (folded
//! into a literal when both sides are constant, so that `__time >= TIMESTAMP '...' -
//! INTERVAL '1' DAY` still becomes a query interval), `FLOOR`/`CEIL(... TO unit)`, `EXTRACT`,
//! and the functions TIME_FLOOR, TIME_CEIL, TIME_SHIFT, TIME_EXTRACT, TIME_PARSE,
//! TIME_FORMAT, MILLIS_TO_TIMESTAMP, TIMESTAMP_TO_MILLIS, DATE_TRUNC, TIMESTAMPADD,
//! TIMESTAMPDIFF, CURRENT_TIMESTAMP and CURRENT_DATE. Every one of them works in the query's
//! `sqlTimeZone` unless it names its own zone, as Druid's planner does.

use henge_segment::time::{format_timestamp, parse_timestamp, Period, TimeZone};
use serde_json::{json, Map, Value};
use sqlparser::ast::{DateTimeField, Expr, Interval};

mod functions;

use super::{quote_string, Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 86_400_000;

/// `__time` floored to a period in a zone, optionally from an origin: a query granularity
/// when it is a GROUP BY key, else a `timestamp_floor` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    pub period: String,
    pub origin: Option<i64>,
    pub zone: TimeZone,
}

impl Floor {
    /// `timestamp_floor(input, period, origin, zone)`.
    pub fn to_expr(&self, input: &str) -> String {
        let origin = self
            .origin
            .map_or_else(|| "null".to_owned(), |origin| origin.to_string());
        format!(
            "timestamp_floor({input},{},{origin},{})",
            quote_string(&self.period),
            quote_string(&self.zone.to_string())
        )
    }

    /// The native `period` granularity.
    pub fn granularity(&self) -> Value {
        let mut spec = Map::new();
        spec.insert("type".into(), json!("period"));
        spec.insert("period".into(), json!(self.period));
        spec.insert("timeZone".into(), json!(self.zone.to_string()));
        if let Some(origin) = self.origin {
            spec.insert("origin".into(), json!(format_timestamp(origin)));
        }
        Value::Object(spec)
    }
}

/// A SQL time unit as a fixed length in milliseconds or a number of months.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Millis(i64),
    Months(i64),
}

fn unit_step(unit: &str) -> Option<Step> {
    Some(match unit.to_ascii_uppercase().as_str() {
        "MILLISECOND" => Step::Millis(1),
        "SECOND" => Step::Millis(MS_PER_SECOND),
        "MINUTE" => Step::Millis(MS_PER_MINUTE),
        "HOUR" => Step::Millis(MS_PER_HOUR),
        "DAY" => Step::Millis(MS_PER_DAY),
        "WEEK" => Step::Millis(7 * MS_PER_DAY),
        "MONTH" => Step::Months(1),
        "QUARTER" => Step::Months(3),
        "YEAR" => Step::Months(12),
        _ => return None,
    })
}

/// The ISO period of a SQL time unit (`HOUR` is `PT1H`).
fn unit_period(unit: &str) -> Option<&'static str> {
    Some(match unit.to_ascii_uppercase().as_str() {
        "MILLISECOND" => "PT0.001S",
        "SECOND" => "PT1S",
        "MINUTE" => "PT1M",
        "HOUR" => "PT1H",
        "DAY" => "P1D",
        "WEEK" => "P1W",
        "MONTH" => "P1M",
        "QUARTER" => "P3M",
        "YEAR" => "P1Y",
        _ => return None,
    })
}

/// The name of a `FLOOR ... TO`, `EXTRACT` or `INTERVAL` unit.
fn field_name(field: &DateTimeField) -> String {
    match field {
        DateTimeField::Week(_) => "WEEK".into(),
        other => other.to_string().to_ascii_uppercase(),
    }
}

impl Scope<'_> {
    /// `TIMESTAMP 'yyyy-MM-dd HH:mm:ss'` (or `DATE '...'`): wall-clock time in the query's
    /// zone.
    pub(super) fn timestamp_literal(&self, text: &str) -> Result<Scalar, SqlError> {
        self.parse_local(text)
            .map(|ms| Scalar::Literal(Lit::Timestamp(ms)))
            .ok_or_else(|| SqlError::invalid(format!("Illegal TIMESTAMP literal '{text}'")))
    }

    /// A timestamp text compared with or cast to a TIMESTAMP: wall-clock time in the query's
    /// zone unless the text names its own offset.
    pub fn parse_local(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        let millis = parse_timestamp(text)?;
        let own_offset = text.get(10..).is_some_and(|time| {
            time.ends_with('Z') || time.ends_with('z') || time.contains('+') || time.contains('-')
        });
        Some(if own_offset {
            millis
        } else {
            self.zone.to_utc(millis)
        })
    }

    /// The zone as a native expression argument.
    fn zone_arg(&self) -> String {
        quote_string(&self.zone.to_string())
    }

    /// `INTERVAL 'n' unit`.
    pub(super) fn interval(&self, interval: &Interval) -> Result<Scalar, SqlError> {
        let unsupported = || SqlError::unsupported(format!("INTERVAL {interval}"));
        if interval.last_field.is_some() {
            return Err(unsupported());
        }
        let count = match self.scalar(&interval.value)? {
            Scalar::Literal(Lit::String(text)) => text.trim().parse::<i64>().ok(),
            Scalar::Literal(Lit::Long(count)) => Some(count),
            _ => None,
        }
        .ok_or_else(unsupported)?;
        let unit = interval
            .leading_field
            .as_ref()
            .map(field_name)
            .unwrap_or_else(|| "SECOND".into());
        match unit_step(&unit).ok_or_else(unsupported)? {
            Step::Millis(ms) => count.checked_mul(ms).map(Lit::Interval),
            Step::Months(months) => count.checked_mul(months).map(Lit::Months),
        }
        .map(Scalar::Literal)
        .ok_or_else(unsupported)
    }

    /// `timestamp ± interval` (and `interval + timestamp`); `None` when neither side is an
    /// interval.
    pub(super) fn time_arithmetic(
        &self,
        left: &Scalar,
        symbol: &str,
        right: &Scalar,
    ) -> Result<Option<Scalar>, SqlError> {
        let is_interval = |scalar: &Scalar| {
            matches!(
                scalar,
                Scalar::Literal(Lit::Interval(_)) | Scalar::Literal(Lit::Months(_))
            )
        };
        let (time, interval, sign) = match (is_interval(left), is_interval(right), symbol) {
            (false, true, "+") => (left, right, 1),
            (false, true, "-") => (left, right, -1),
            (true, false, "+") => (right, left, 1),
            (false, false, _) => return Ok(None),
            _ => {
                return Err(SqlError::unsupported(format!(
                    "interval arithmetic {symbol}"
                )))
            }
        };
        if time.sql_type() != Some(SqlType::Timestamp) {
            return Err(SqlError::invalid(
                "Cannot apply '+' or '-' to an INTERVAL and a non-TIMESTAMP",
            ));
        }
        let overflow = || SqlError::invalid("TIMESTAMP arithmetic overflows");
        Ok(Some(match (time, interval) {
            (Scalar::Literal(Lit::Timestamp(at)), Scalar::Literal(Lit::Interval(ms))) => {
                Scalar::Literal(Lit::Timestamp(
                    at.checked_add(ms * sign).ok_or_else(overflow)?,
                ))
            }
            (Scalar::Literal(Lit::Timestamp(at)), Scalar::Literal(Lit::Months(months))) => {
                let local = self.zone.to_local(*at);
                let shifted = Period::parse(&format!("P{}M", months.unsigned_abs()))
                    .and_then(|period| period.add_to(local, months.signum() * sign))
                    .ok_or_else(overflow)?;
                Scalar::Literal(Lit::Timestamp(self.zone.to_utc(shifted)))
            }
            (_, Scalar::Literal(Lit::Interval(ms))) => Scalar::Expr(
                format!(
                    "({} {} {ms})",
                    time.to_expr(),
                    if sign > 0 { "+" } else { "-" }
                ),
                SqlType::Timestamp,
            ),
            (_, Scalar::Literal(Lit::Months(months))) => Scalar::Expr(
                format!(
                    "timestamp_shift({},'P1M',{},{})",
                    time.to_expr(),
                    months * sign,
                    self.zone_arg()
                ),
                SqlType::Timestamp,
            ),
            _ => return Ok(None),
        }))
    }

    fn require_timestamp(&self, scalar: &Scalar, what: &str) -> Result<(), SqlError> {
        match scalar.sql_type() {
            Some(SqlType::Timestamp) | None => Ok(()),
            Some(other) => Err(SqlError::invalid(format!(
                "{what} needs a TIMESTAMP, not {}",
                other.sql_name()
            ))),
        }
    }

    /// A floor of a timestamp: a [`Floor`] of `__time` itself, else an expression.
    fn floor(&self, input: Scalar, floor: Floor) -> Scalar {
        match input {
            Scalar::Column(name, _) if name == "__time" => Scalar::TimeFloor(floor),
            other => Scalar::Expr(floor.to_expr(&other.to_expr()), SqlType::Timestamp),
        }
    }

    /// `FLOOR(ts TO unit)` and `CEIL(ts TO unit)`.
    pub(super) fn floor_to(
        &self,
        inner: &Expr,
        unit: &DateTimeField,
        ceil: bool,
    ) -> Result<Scalar, SqlError> {
        let input = self.scalar(inner)?;
        self.require_timestamp(&input, "FLOOR/CEIL TO")?;
        let name = field_name(unit);
        let period = unit_period(&name)
            .ok_or_else(|| SqlError::unsupported(format!("FLOOR/CEIL to {name}")))?;
        let floor = Floor {
            period: period.to_owned(),
            origin: None,
            zone: self.zone,
        };
        Ok(if ceil {
            ceil_expr(&input, &floor)
        } else {
            self.floor(input, floor)
        })
    }

    /// `EXTRACT(unit FROM ts)`.
    pub(super) fn extract(&self, field: &DateTimeField, inner: &Expr) -> Result<Scalar, SqlError> {
        let input = self.scalar(inner)?;
        self.require_timestamp(&input, "EXTRACT")?;
        let unit = field_name(field);
        let known = [
            "EPOCH",
            "MICROSECOND",
            "MILLISECOND",
            "SECOND",
            "MINUTE",
            "HOUR",
            "DAY",
            "DOW",
            "ISODOW",
            "DOY",
            "WEEK",
            "MONTH",
            "QUARTER",
            "YEAR",
            "ISOYEAR",
            "DECADE",
            "CENTURY",
            "MILLENNIUM",
        ];
        if !known.contains(&unit.as_str()) {
            return Err(SqlError::unsupported(format!("EXTRACT of {unit}")));
        }
        Ok(Scalar::Expr(
            format!(
                "timestamp_extract({},{},{})",
                input.to_expr(),
                quote_string(&unit),
                self.zone_arg()
            ),
            SqlType::Bigint,
        ))
    }
}

/// `timestamp_ceil(input, period, origin, zone)`.
fn ceil_expr(input: &Scalar, floor: &Floor) -> Scalar {
    let text = floor.to_expr(&input.to_expr());
    Scalar::Expr(
        text.replacen("timestamp_floor(", "timestamp_ceil(", 1),
        SqlType::Timestamp,
    )
}

/// The `sqlTimeZone` of a SQL context (UTC when absent).
pub fn context_zone(context: &Map<String, Value>) -> Result<TimeZone, SqlError> {
    match context.get("sqlTimeZone") {
        None | Some(Value::Null) => Ok(TimeZone::Utc),
        Some(Value::String(text)) => TimeZone::parse(text)
            .ok_or_else(|| SqlError::invalid(format!("Unknown sqlTimeZone [{text}]"))),
        Some(other) => Err(SqlError::invalid(format!(
            "sqlTimeZone must be a string, not {other}"
        ))),
    }
}
