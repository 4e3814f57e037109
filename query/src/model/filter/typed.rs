//! The typed filters SQL plans (`equals`, `null`, `inType`, `range`) and `interval`, parsed
//! into the selector/in/bound forms the evaluator runs. Match values are cast to strings the
//! way Druid's `ExprEval.castTo(STRING)` does (`10` as DOUBLE is `"10.0"`); numeric columns
//! parse them back, so `10.5` never equals a long.

use henge_segment::time::Interval;
use serde_json::Value;

use super::{FilterSpec, StringOrdering};
use crate::error::QueryError;
use crate::filter::java_double_string;
use crate::model::json::{scalar_string, Fields};
use crate::order::parse_decimal;
use crate::parse::Limits;

/// A scalar `matchValueType`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MatchType {
    String,
    Long,
    Double,
}

impl MatchType {
    fn parse(fields: &Fields<'_>, filter: &str, column: &str) -> Result<MatchType, QueryError> {
        let Some(name) = fields.string("matchValueType")? else {
            return Err(QueryError::invalid_query(format!(
                "Invalid {filter} filter on column [{column}], matchValueType cannot be null"
            )));
        };
        match name.to_ascii_uppercase().as_str() {
            "STRING" => Ok(MatchType::String),
            "LONG" => Ok(MatchType::Long),
            "DOUBLE" | "FLOAT" => Ok(MatchType::Double),
            _ => Err(QueryError::unsupported(format!(
                "{filter} filters with matchValueType [{name}] are not supported yet"
            ))),
        }
    }

    fn is_numeric(self) -> bool {
        self != MatchType::String
    }

    /// A match value cast to the type and then to its string form; `None` when a numeric type
    /// cannot parse it.
    fn cast(self, value: &Value, key: &str) -> Result<Option<String>, QueryError> {
        let text = scalar_string(value, key)?;
        Ok(match self {
            MatchType::String => Some(text),
            MatchType::Long => match text.parse::<i64>() {
                Ok(long) => Some(long.to_string()),
                Err(_) => parse_decimal(text.trim()).map(|double| (double as i64).to_string()),
            },
            MatchType::Double => parse_decimal(text.trim()).map(java_double_string),
        })
    }
}

fn column(fields: &Fields<'_>, filter: &str) -> Result<String, QueryError> {
    fields.required_string(
        "column",
        &format!("Invalid {filter} filter, column cannot be null"),
    )
}

fn unparseable(filter: &str, column: &str, what: &str, value: &Value) -> QueryError {
    QueryError::invalid_query(format!(
        "Invalid {filter} filter on column [{column}], {what} [{}] cannot be parsed as the specified match value type",
        scalar_string(value, what).unwrap_or_default()
    ))
}

/// `equals`: the column equals the match value; never matches null.
pub(super) fn parse_equals(fields: &Fields<'_>) -> Result<FilterSpec, QueryError> {
    let column = column(fields, "equality")?;
    let match_type = MatchType::parse(fields, "equality", &column)?;
    let Some(raw) = fields.get("matchValue") else {
        return Err(QueryError::invalid_query(format!(
            "Invalid equality filter on column [{column}], matchValue cannot be null"
        )));
    };
    let value = match_type
        .cast(raw, "matchValue")?
        .ok_or_else(|| unparseable("equality", &column, "matchValue", raw))?;
    Ok(FilterSpec::Selector {
        dimension: column,
        value: Some(value),
    })
}

/// `null`: the column is null.
pub(super) fn parse_null(fields: &Fields<'_>) -> Result<FilterSpec, QueryError> {
    Ok(FilterSpec::Selector {
        dimension: column(fields, "null")?,
        value: None,
    })
}

/// `inType`: the column equals one of `sortedValues` (a null value matches nulls).
pub(super) fn parse_in_type(
    fields: &Fields<'_>,
    limits: &Limits,
) -> Result<FilterSpec, QueryError> {
    let column = column(fields, "in")?;
    let match_type = MatchType::parse(fields, "in", &column)?;
    let Some(Value::Array(items)) = fields.get("sortedValues") else {
        return Err(QueryError::invalid_query(format!(
            "Invalid in filter on column [{column}], sortedValues cannot be null"
        )));
    };
    limits.check_values(&format!("inType filter on [{column}]"), items.len())?;
    let values = items
        .iter()
        .map(|item| match item {
            Value::Null => Ok(None),
            other => match_type
                .cast(other, "sortedValues")?
                .map(Some)
                .ok_or_else(|| unparseable("in", &column, "value", other)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FilterSpec::In {
        dimension: column,
        values,
    })
}

/// `range`: numeric comparison for numeric match types, else lexicographic; unlike `bound`,
/// null never matches.
pub(super) fn parse_range(fields: &Fields<'_>) -> Result<FilterSpec, QueryError> {
    let column = column(fields, "range")?;
    let match_type = MatchType::parse(fields, "range", &column)?;
    let bound = |key: &str| -> Result<Option<String>, QueryError> {
        match fields.get(key) {
            None => Ok(None),
            Some(raw) => match_type.cast(raw, key)?.map(Some).ok_or_else(|| {
                QueryError::invalid_query(format!(
                    "Invalid range filter on column [{column}], {key} bound [{}] cannot be parsed as specified match value type",
                    scalar_string(raw, key).unwrap_or_default()
                ))
            }),
        }
    };
    let (lower, upper) = (bound("lower")?, bound("upper")?);
    if lower.is_none() && upper.is_none() {
        return Err(QueryError::invalid_query(format!(
            "Invalid range filter on column [{column}], lower and upper cannot be null at the same time"
        )));
    }
    Ok(FilterSpec::Bound {
        dimension: column,
        lower,
        upper,
        lower_strict: fields.bool("lowerOpen")?.unwrap_or(false),
        upper_strict: fields.bool("upperOpen")?.unwrap_or(false),
        ordering: if match_type.is_numeric() {
            StringOrdering::Numeric
        } else {
            StringOrdering::Lexicographic
        },
        nulls_match: false,
    })
}

/// `interval`: an OR of numeric bounds `[start, end)` in milliseconds.
pub(super) fn parse_interval(fields: &Fields<'_>) -> Result<FilterSpec, QueryError> {
    let dimension = fields.required_string("dimension", "dimension can not be null")?;
    let intervals = fields.array("intervals")?;
    if intervals.is_empty() {
        return Err(QueryError::invalid_query("intervals can't be empty"));
    }
    let bounds = intervals
        .iter()
        .map(|text| {
            let text = scalar_string(text, "intervals")?;
            let interval = Interval::parse(&text)
                .ok_or_else(|| QueryError::invalid_query(format!("Invalid interval [{text}]")))?;
            Ok(FilterSpec::Bound {
                dimension: dimension.clone(),
                lower: Some(interval.start.to_string()),
                upper: Some(interval.end.to_string()),
                lower_strict: false,
                upper_strict: true,
                ordering: StringOrdering::Numeric,
                nulls_match: false,
            })
        })
        .collect::<Result<Vec<_>, QueryError>>()?;
    Ok(FilterSpec::Or(bounds))
}
