//! EARLIEST(expr [, maxBytes]), LATEST(expr [, maxBytes]), EARLIEST_BY/LATEST_BY(expr,
//! timeExpr [, maxBytes]) and ANY_VALUE(expr [, maxBytes [, aggregateMultipleValues]]) as
//! Druid 28+ plans them: the
//! native `{long,double,float,string}{First,Last,Any}` aggregators by the argument's type,
//! with `timeColumn` (`__time`, or the column holding `timeExpr`) and, for strings,
//! `maxStringBytes` (1024 unless given); `stringAny` takes `aggregateMultipleValues` (true
//! unless given).

use serde_json::json;

use super::{single, Call, PlannedAggregate};
use crate::scalar::{Lit, Scope};
use crate::{SqlError, SqlType};

/// The picking aggregate functions.
pub(super) const AGGREGATES: &[&str] = &[
    "EARLIEST",
    "LATEST",
    "EARLIEST_BY",
    "LATEST_BY",
    "ANY_VALUE",
];

/// Druid's default `maxStringBytes`.
const DEFAULT_MAX_BYTES: u64 = 1024;

/// Plans a picking aggregate; `None` when `call` is not one.
pub(super) fn plan(
    scope: &mut Scope,
    call: &Call,
    name: &str,
) -> Result<Option<PlannedAggregate>, SqlError> {
    let (op, by) = match call.name.as_str() {
        "EARLIEST" => ("First", false),
        "LATEST" => ("Last", false),
        "EARLIEST_BY" => ("First", true),
        "LATEST_BY" => ("Last", true),
        "ANY_VALUE" => ("Any", false),
        _ => return Ok(None),
    };
    if call.distinct {
        return Err(SqlError::invalid(format!(
            "{} does not take DISTINCT",
            call.name
        )));
    }
    let extra = usize::from(by);
    let any = op == "Any";
    call.expect_args(1 + extra, 2 + extra + usize::from(any))?;
    let (column, kind) = call.column(scope, 0)?;
    let prefix = match &kind {
        SqlType::Bigint | SqlType::Boolean | SqlType::Timestamp => "long",
        SqlType::Double => "double",
        SqlType::Float => "float",
        SqlType::Varchar => "string",
        SqlType::Complex(complex) => {
            return Err(SqlError::unsupported(format!(
                "{} over COMPLEX<{complex}>",
                call.name
            )))
        }
    };
    let mut aggregator = json!({
        "type": format!("{prefix}{op}"), "name": name, "fieldName": column,
    });
    if !any {
        let time_column = if by {
            let (time_column, time_type) = call.column(scope, 1)?;
            if time_type != SqlType::Timestamp {
                return Err(SqlError::invalid(format!(
                    "{}: the second argument must be a TIMESTAMP, not {}",
                    call.name,
                    time_type.sql_name()
                )));
            }
            time_column
        } else {
            "__time".to_owned()
        };
        aggregator["timeColumn"] = json!(time_column);
    }
    let max_bytes = call.count_literal(scope, 1 + extra, DEFAULT_MAX_BYTES)?;
    if prefix == "string" {
        aggregator["maxStringBytes"] = json!(max_bytes);
        if any {
            let multiple = match call.literal(scope, 2)? {
                None => true,
                Some(Lit::Bool(flag)) => flag,
                Some(_) => {
                    return Err(SqlError::invalid(
                        "ANY_VALUE: aggregateMultipleValues must be a BOOLEAN literal",
                    ))
                }
            };
            aggregator["aggregateMultipleValues"] = json!(multiple);
        }
    }
    Ok(Some(single(aggregator, kind)))
}
