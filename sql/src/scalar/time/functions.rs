//! The SQL time functions by name: TIME_FLOOR, TIME_CEIL, DATE_TRUNC, TIME_SHIFT,
//! TIME_EXTRACT, TIME_PARSE, TIME_FORMAT, MILLIS_TO_TIMESTAMP, TIMESTAMP_TO_MILLIS,
//! TIMESTAMPADD, TIMESTAMPDIFF, CURRENT_TIMESTAMP and CURRENT_DATE, with their constant
//! arguments (periods, patterns, units, zones) checked at planning time.

use henge_segment::time::{Period, TimeZone};
use sqlparser::ast::Expr;

use super::{ceil_expr, unit_period, unit_step, Floor, Step, MS_PER_DAY};
use crate::scalar::{quote_string, Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

impl Scope<'_> {
    /// The time functions; `None` when `name` is not one of them.
    pub(in crate::scalar) fn time_function(
        &self,
        name: &str,
        args: &[Expr],
    ) -> Result<Option<Scalar>, SqlError> {
        let arity = |min: usize, max: usize| {
            if (min..=max).contains(&args.len()) {
                Ok(())
            } else {
                Err(SqlError::invalid(format!(
                    "Invalid number of arguments to function '{name}'"
                )))
            }
        };
        let scalar = match name {
            "CURRENT_TIMESTAMP" | "NOW" | "LOCALTIMESTAMP" => {
                arity(0, 0)?;
                Scalar::Literal(Lit::Timestamp(self.now))
            }
            "CURRENT_DATE" => {
                arity(0, 0)?;
                let local = self.zone.to_local(self.now);
                Scalar::Literal(Lit::Timestamp(
                    self.zone.to_utc(local - local.rem_euclid(MS_PER_DAY)),
                ))
            }
            "TIME_FLOOR" | "TIME_CEIL" => {
                arity(2, 4)?;
                let input = self.scalar(&args[0])?;
                self.require_timestamp(&input, name)?;
                let period = self.string_arg(args, 1, name)?.unwrap_or_default();
                if Period::parse(&period).is_none() {
                    return Err(SqlError::invalid(format!(
                        "{name}: invalid period '{period}'"
                    )));
                }
                let origin = match args.get(2).map(|arg| self.scalar(arg)).transpose()? {
                    None | Some(Scalar::Literal(Lit::Null)) => None,
                    Some(Scalar::Literal(Lit::Timestamp(at))) => Some(at),
                    Some(Scalar::Literal(Lit::String(text))) => Some(
                        self.parse_local(&text)
                            .ok_or_else(|| SqlError::invalid(format!("{name}: bad origin")))?,
                    ),
                    Some(_) => {
                        return Err(SqlError::invalid(format!(
                            "{name} needs a TIMESTAMP literal origin"
                        )))
                    }
                };
                let floor = Floor {
                    period,
                    origin,
                    zone: self.zone_at(args, 3, name)?,
                };
                if name == "TIME_CEIL" {
                    ceil_expr(&input, &floor)
                } else {
                    self.floor(input, floor)
                }
            }
            "DATE_TRUNC" => {
                arity(2, 2)?;
                let unit = self.string_arg(args, 0, name)?.unwrap_or_default();
                let period = unit_period(&unit)
                    .ok_or_else(|| SqlError::unsupported(format!("DATE_TRUNC to '{unit}'")))?;
                let input = self.scalar(&args[1])?;
                self.require_timestamp(&input, name)?;
                let floor = Floor {
                    period: period.to_owned(),
                    origin: None,
                    zone: self.zone,
                };
                self.floor(input, floor)
            }
            "TIME_SHIFT" => {
                arity(3, 4)?;
                let input = self.scalar(&args[0])?;
                self.require_timestamp(&input, name)?;
                let period = self.string_arg(args, 1, name)?.unwrap_or_default();
                let step = self.scalar(&args[2])?;
                let zone = self.zone_at(args, 3, name)?;
                Scalar::Expr(
                    format!(
                        "timestamp_shift({},{},{},{})",
                        input.to_expr(),
                        quote_string(&period),
                        step.to_expr(),
                        quote_string(&zone.to_string())
                    ),
                    SqlType::Timestamp,
                )
            }
            "TIME_EXTRACT" => {
                arity(1, 3)?;
                let input = self.scalar(&args[0])?;
                self.require_timestamp(&input, name)?;
                let unit = self
                    .string_arg(args, 1, name)?
                    .unwrap_or_else(|| "MILLISECOND".into());
                let zone = self.zone_at(args, 2, name)?;
                Scalar::Expr(
                    format!(
                        "timestamp_extract({},{},{})",
                        input.to_expr(),
                        quote_string(&unit.to_ascii_uppercase()),
                        quote_string(&zone.to_string())
                    ),
                    SqlType::Bigint,
                )
            }
            "TIME_PARSE" | "TIME_FORMAT" => {
                arity(1, 3)?;
                let input = self.scalar(&args[0])?;
                let pattern = self
                    .string_arg(args, 1, name)?
                    .map_or_else(|| "null".to_owned(), |pattern| quote_string(&pattern));
                let zone = quote_string(&self.zone_at(args, 2, name)?.to_string());
                let (native, kind) = if name == "TIME_PARSE" {
                    ("timestamp_parse", SqlType::Timestamp)
                } else {
                    self.require_timestamp(&input, name)?;
                    ("timestamp_format", SqlType::Varchar)
                };
                Scalar::Expr(
                    format!("{native}({},{pattern},{zone})", input.to_expr()),
                    kind,
                )
            }
            "MILLIS_TO_TIMESTAMP" | "TIMESTAMP_TO_MILLIS" => {
                arity(1, 1)?;
                let input = self.scalar(&args[0])?;
                let (kind, wanted) = if name == "MILLIS_TO_TIMESTAMP" {
                    (SqlType::Timestamp, SqlType::Bigint)
                } else {
                    (SqlType::Bigint, SqlType::Timestamp)
                };
                match input.sql_type() {
                    Some(found) if found != wanted => {
                        return Err(SqlError::invalid(format!(
                            "{name} needs a {}, not {}",
                            wanted.sql_name(),
                            found.sql_name()
                        )))
                    }
                    _ => {}
                }
                match input {
                    Scalar::Literal(Lit::Long(ms)) if kind == SqlType::Timestamp => {
                        Scalar::Literal(Lit::Timestamp(ms))
                    }
                    Scalar::Literal(Lit::Timestamp(ms)) => Scalar::Literal(Lit::Long(ms)),
                    other => Scalar::Expr(other.to_expr(), kind),
                }
            }
            "TIMESTAMPADD" | "TIMESTAMPDIFF" => {
                arity(3, 3)?;
                let unit = match &args[0] {
                    Expr::Identifier(ident) => ident.value.to_ascii_uppercase(),
                    other => {
                        return Err(SqlError::invalid(format!(
                            "{name} needs a time unit, not {other}"
                        )))
                    }
                };
                let step = unit_step(&unit)
                    .ok_or_else(|| SqlError::unsupported(format!("{name} in {unit}")))?;
                if name == "TIMESTAMPADD" {
                    self.timestamp_add(step, &args[1], &args[2])?
                } else {
                    self.timestamp_diff(step, &args[1], &args[2])?
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(scalar))
    }

    /// `TIMESTAMPADD(unit, count, ts)`.
    fn timestamp_add(&self, step: Step, count: &Expr, time: &Expr) -> Result<Scalar, SqlError> {
        let (count, time) = (self.scalar(count)?, self.scalar(time)?);
        self.require_timestamp(&time, "TIMESTAMPADD")?;
        let text = match step {
            Step::Millis(ms) => format!("({} + ({} * {ms}))", time.to_expr(), count.to_expr()),
            Step::Months(months) => format!(
                "timestamp_shift({},'P{months}M',{},{})",
                time.to_expr(),
                count.to_expr(),
                self.zone_arg()
            ),
        };
        Ok(Scalar::Expr(text, SqlType::Timestamp))
    }

    /// `TIMESTAMPDIFF(unit, start, end)`: whole units from `start` to `end`.
    fn timestamp_diff(&self, step: Step, start: &Expr, end: &Expr) -> Result<Scalar, SqlError> {
        let (start, end) = (self.scalar(start)?, self.scalar(end)?);
        self.require_timestamp(&start, "TIMESTAMPDIFF")?;
        self.require_timestamp(&end, "TIMESTAMPDIFF")?;
        let text = match step {
            Step::Millis(ms) => format!("div(({} - {}),{ms})", end.to_expr(), start.to_expr()),
            Step::Months(1) => format!(
                "subtract_months({},{},{})",
                end.to_expr(),
                start.to_expr(),
                self.zone_arg()
            ),
            Step::Months(months) => format!(
                "div(subtract_months({},{},{}),{months})",
                end.to_expr(),
                start.to_expr(),
                self.zone_arg()
            ),
        };
        Ok(Scalar::Expr(text, SqlType::Bigint))
    }

    /// A constant string argument (a pattern, period, unit or zone); `None` when absent or
    /// NULL.
    pub(in crate::scalar) fn string_arg(
        &self,
        args: &[Expr],
        index: usize,
        name: &str,
    ) -> Result<Option<String>, SqlError> {
        match args.get(index).map(|arg| self.scalar(arg)).transpose()? {
            None | Some(Scalar::Literal(Lit::Null)) => Ok(None),
            Some(Scalar::Literal(Lit::String(text))) => Ok(Some(text)),
            Some(_) => Err(SqlError::invalid(format!(
                "{name} needs a string literal as argument {}",
                index + 1
            ))),
        }
    }

    /// The zone a time function names at `index`, else the query's.
    fn zone_at(&self, args: &[Expr], index: usize, name: &str) -> Result<TimeZone, SqlError> {
        match self.string_arg(args, index, name)? {
            None => Ok(self.zone),
            Some(text) => TimeZone::parse(&text)
                .ok_or_else(|| SqlError::invalid(format!("{name}: unknown time zone '{text}'"))),
        }
    }
}
