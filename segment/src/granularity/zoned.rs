//! Druid's `period` granularity (any ISO period, in a time zone, from an origin) and
//! `duration` granularity (fixed milliseconds from an origin).
//!
//! Bucketing follows Druid's `PeriodGranularity.truncate` branch by branch: a single-field
//! period of one unit without an origin floors the local wall clock (`P1D` in
//! `America/Los_Angeles` starts at local midnight); a multiple (`P2D`, `PT6H`) or an explicit
//! origin aligns on whole periods counted from the origin, which defaults to local midnight of
//! 1970-01-01 in the zone; compound periods (`PT1H30M`, `P1DT12H`) step from the origin.
//! Calendar fields (years, months, weeks, days) move the local wall clock; time fields (hours
//! and below) move the instant, as Joda's zoned chronology does.

use crate::time::period::add_months;
use crate::time::{
    civil_from_days, days_from_civil, Period, TimeZone, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE,
    MS_PER_SECOND,
};

/// Upper bound on the steps of a compound period walked from the origin, so a pathological
/// granularity cannot spin; beyond it the bucket start saturates to the last step reached.
const MAX_COMPOUND_STEPS: u32 = 10_000_000;

/// One field of a period, in Joda's order of application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Years,
    Months,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
    Millis,
}

impl Field {
    /// Average length, for a first estimate of how many steps separate two instants.
    fn nominal_ms(self) -> i64 {
        match self {
            Field::Years => 31_556_952_000,
            Field::Months => 2_629_746_000,
            Field::Weeks => 7 * MS_PER_DAY,
            Field::Days => MS_PER_DAY,
            Field::Hours => MS_PER_HOUR,
            Field::Minutes => MS_PER_MINUTE,
            Field::Seconds => MS_PER_SECOND,
            Field::Millis => 1,
        }
    }
}

fn fields(period: &Period) -> [(Field, i64); 8] {
    [
        (Field::Years, period.years),
        (Field::Months, period.months),
        (Field::Weeks, period.weeks),
        (Field::Days, period.days),
        (Field::Hours, period.hours),
        (Field::Minutes, period.minutes),
        (Field::Seconds, period.seconds),
        (Field::Millis, period.millis),
    ]
}

/// `{"type": "period", "period": ..., "timeZone": ..., "origin": ...}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeriodGranularity {
    period: Period,
    zone: TimeZone,
    origin: i64,
    has_origin: bool,
}

impl PeriodGranularity {
    /// A period granularity; the period must be positive in every field it sets.
    pub fn new(
        period: Period,
        zone: TimeZone,
        origin_opt: Option<i64>,
    ) -> Result<PeriodGranularity, String> {
        let values = fields(&period);
        if values.iter().any(|(_, value)| *value < 0) {
            return Err("negative periods are not supported in a granularity".to_owned());
        }
        if values.iter().all(|(_, value)| *value == 0) {
            return Err("zero period is not acceptable in PeriodGranularity!".to_owned());
        }
        Ok(PeriodGranularity {
            period,
            zone,
            // Joda: `new DateTime(0, UTC).withZoneRetainFields(zone)`, local 1970-01-01.
            origin: origin_opt.unwrap_or_else(|| zone.to_utc(0)),
            has_origin: origin_opt.is_some(),
        })
    }

    pub fn period(&self) -> Period {
        self.period
    }

    pub fn zone(&self) -> TimeZone {
        self.zone
    }

    /// The origin given in the query, if any.
    pub fn origin(&self) -> Option<i64> {
        self.has_origin.then_some(self.origin)
    }

    /// Whether this is one of Druid's standard granularities (UTC, no origin); those are
    /// represented by the named variants instead.
    pub(crate) fn is_standard_candidate(&self) -> bool {
        self.zone == TimeZone::Utc && !self.has_origin
    }

    /// The start of the bucket holding `t`.
    pub fn bucket_start(&self, t: i64) -> i64 {
        let values = fields(&self.period);
        let set: Vec<(Field, i64)> = values.into_iter().filter(|(_, v)| *v != 0).collect();
        if set.len() > 1 {
            return self.truncate_compound(t);
        }
        let (field, count) = set[0];
        if field == Field::Hours && (count > 1 || self.has_origin) {
            return self.truncate_hours(t, count);
        }
        if count > 1 || self.has_origin {
            // Millis of one unit ignore the origin in Druid.
            if field == Field::Millis && count == 1 {
                return t;
            }
            return self.grid_floor(t, field, count);
        }
        self.floor_local(t, field)
    }

    /// The start of the next bucket: `bucket_start` plus the period.
    pub fn increment(&self, bucket_start: i64) -> i64 {
        self.add_period(bucket_start, 1).unwrap_or(i64::MAX)
    }

    /// `instant` plus `scalar` periods, field by field in Joda's order.
    fn add_period(&self, instant: i64, scalar: i64) -> Option<i64> {
        let mut result = instant;
        for (field, value) in fields(&self.period) {
            if value != 0 {
                result = self.add_field(result, field, value.checked_mul(scalar)?)?;
            }
        }
        Some(result)
    }

    /// Calendar fields move the local wall clock; time fields move the instant.
    fn add_field(&self, instant: i64, field: Field, amount: i64) -> Option<i64> {
        let local = |shift: &dyn Fn(i64) -> Option<i64>| {
            let moved = shift(self.zone.to_local(instant))?;
            Some(self.zone.to_utc(moved))
        };
        match field {
            Field::Years => local(&|ms| add_months(ms, amount.checked_mul(12)?)),
            Field::Months => local(&|ms| add_months(ms, amount)),
            Field::Weeks => local(&|ms| ms.checked_add(amount.checked_mul(7 * MS_PER_DAY)?)),
            Field::Days => local(&|ms| ms.checked_add(amount.checked_mul(MS_PER_DAY)?)),
            Field::Hours | Field::Minutes | Field::Seconds | Field::Millis => {
                instant.checked_add(amount.checked_mul(field.nominal_ms())?)
            }
        }
    }

    /// The last grid point `origin + k * count` (k counted in `field` units, a multiple of
    /// `count`) at or before `t`: what Druid's difference-then-round-down computes.
    fn grid_floor(&self, t: i64, field: Field, count: i64) -> i64 {
        let at = |units: i64| self.add_field(self.origin, field, units);
        let step_ms = field.nominal_ms().saturating_mul(count);
        let mut units = (t.saturating_sub(self.origin)).div_euclid(step_ms.max(1)) * count;
        // The estimate is within a step or two; walk to the exact grid point.
        while at(units).is_none_or(|start| start > t) {
            units -= count;
            if at(units).is_none() {
                return i64::MIN;
            }
        }
        while at(units + count).is_some_and(|next| next <= t) {
            units += count;
        }
        at(units).unwrap_or(i64::MIN)
    }

    /// Druid's hour branch, kept with its quirks: before a non-positive origin it returns
    /// the grid point after `t`, as Druid does.
    fn truncate_hours(&self, t: i64, hours: i64) -> i64 {
        let mut units = t.saturating_sub(self.origin) / MS_PER_HOUR;
        units -= units % hours;
        let grid = self
            .origin
            .saturating_add(units.saturating_mul(MS_PER_HOUR));
        if t < grid && self.origin > 0 {
            grid.saturating_sub(hours.saturating_mul(MS_PER_HOUR))
        } else if t > grid && self.origin < 0 {
            self.floor_local(grid, Field::Hours)
        } else {
            grid
        }
    }

    /// Floors the local wall clock to the start of its year, month, week (Monday), day,
    /// hour, minute or second.
    fn floor_local(&self, t: i64, field: Field) -> i64 {
        let local = self.zone.to_local(t);
        let days = local.div_euclid(MS_PER_DAY);
        let floored = match field {
            Field::Years | Field::Months => {
                let (year, month, _) = civil_from_days(days);
                let first_month = if field == Field::Years { 1 } else { month };
                days_from_civil(year, first_month, 1).saturating_mul(MS_PER_DAY)
            }
            // 1970-01-01 was a Thursday: shift so weeks start on Mondays.
            Field::Weeks => (days - (days + 3).rem_euclid(7)).saturating_mul(MS_PER_DAY),
            Field::Days => days.saturating_mul(MS_PER_DAY),
            Field::Hours | Field::Minutes | Field::Seconds => {
                local - local.rem_euclid(field.nominal_ms())
            }
            Field::Millis => local,
        };
        self.zone.to_utc(floored)
    }

    fn truncate_compound(&self, t: i64) -> i64 {
        let calendar = self.period.years != 0 || self.period.months != 0;
        if self.zone.is_fixed() && !calendar {
            let millis = fields(&self.period)
                .iter()
                .map(|(field, value)| field.nominal_ms().saturating_mul(*value))
                .fold(0i64, i64::saturating_add);
            let mut offset = t % millis - self.origin % millis;
            if offset < 0 {
                offset += millis;
            }
            return t - offset;
        }
        let mut current = self.origin;
        let mut steps = 0;
        if t >= self.origin {
            while let Some(next) = self.add_period(current, 1) {
                if t < next || steps >= MAX_COMPOUND_STEPS {
                    break;
                }
                current = next;
                steps += 1;
            }
        } else {
            while t < current && steps < MAX_COMPOUND_STEPS {
                match self.add_period(current, -1) {
                    Some(previous) => current = previous,
                    None => return i64::MIN,
                }
                steps += 1;
            }
        }
        current
    }
}

/// `{"type": "duration", "duration": ms, "origin": ...}`: fixed-width buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DurationGranularity {
    duration: i64,
    origin: i64,
}

impl DurationGranularity {
    pub fn new(duration: i64, origin_opt: Option<i64>) -> Result<DurationGranularity, String> {
        if duration <= 0 {
            return Err("duration should be greater than 0!".to_owned());
        }
        Ok(DurationGranularity {
            duration,
            origin: origin_opt.unwrap_or(0) % duration,
        })
    }

    pub fn duration(&self) -> i64 {
        self.duration
    }

    /// The origin, reduced modulo the duration as Druid keeps it.
    pub fn origin(&self) -> i64 {
        self.origin
    }

    pub fn bucket_start(&self, t: i64) -> i64 {
        let mut offset = t % self.duration - self.origin;
        if offset < 0 {
            offset += self.duration;
        }
        t.saturating_sub(offset)
    }

    pub fn increment(&self, bucket_start: i64) -> i64 {
        bucket_start.saturating_add(self.duration)
    }
}
