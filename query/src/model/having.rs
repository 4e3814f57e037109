//! GroupBy having specs (`docs/querying/having.md`): `filter`, `equalTo`, `greaterThan`,
//! `lessThan`, `dimSelector`, `and`, `or`, `not`, `always` and `never`.

use std::cmp::Ordering;

use serde_json::Value;

use super::filter::FilterSpec;
use super::json::{scalar_string, type_id, Fields};
use crate::error::QueryError;
use crate::order::parse_decimal;
use crate::parse::Limits;
use crate::value::AggValue;

const HAVING_CLASS: &str = "org.apache.druid.query.groupby.having.HavingSpec";

/// A parsed having spec.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum HavingSpec {
    /// A query filter over the output row (three-valued; only TRUE keeps the row).
    Filter(FilterSpec),
    /// `equalTo`/`greaterThan`/`lessThan`: the column compared with a number is `wanted`.
    Compare {
        column: String,
        wanted: Ordering,
        value: AggValue,
    },
    /// The column's value equals `value` as a string (`None` matches null).
    DimSelector {
        dimension: String,
        value: Option<String>,
    },
    And(Vec<HavingSpec>),
    Or(Vec<HavingSpec>),
    Not(Box<HavingSpec>),
    Always,
    Never,
}

impl HavingSpec {
    pub(crate) fn parse(value: &Value, limits: &Limits) -> Result<HavingSpec, QueryError> {
        let fields = Fields::of(value, HAVING_CLASS)?;
        let Some(kind) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", HAVING_CLASS));
        };
        let children = |key: &str| -> Result<Vec<HavingSpec>, QueryError> {
            fields
                .array(key)?
                .iter()
                .map(|child| HavingSpec::parse(child, limits))
                .collect()
        };
        match kind {
            "filter" => {
                let filter = fields
                    .get("filter")
                    .ok_or_else(|| QueryError::invalid_query("filter must not be null"))?;
                Ok(HavingSpec::Filter(FilterSpec::parse(filter, limits)?))
            }
            "equalTo" | "greaterThan" | "lessThan" => Ok(HavingSpec::Compare {
                column: fields.required_string("aggregation", "aggregation must not be null")?,
                wanted: match kind {
                    "equalTo" => Ordering::Equal,
                    "greaterThan" => Ordering::Greater,
                    _ => Ordering::Less,
                },
                value: parse_number(fields.get("value"))?,
            }),
            "dimSelector" => {
                if fields.get("extractionFn").is_some() {
                    return Err(QueryError::unsupported(
                        "dimSelector having specs with an extractionFn are not supported yet",
                    ));
                }
                Ok(HavingSpec::DimSelector {
                    dimension: fields
                        .required_string("dimension", "Must have attribute 'dimension'")?,
                    value: fields.string("value")?,
                })
            }
            "and" => Ok(HavingSpec::And(children("havingSpecs")?)),
            "or" => Ok(HavingSpec::Or(children("havingSpecs")?)),
            "not" => {
                let inner = fields
                    .get("havingSpec")
                    .ok_or_else(|| QueryError::invalid_query("havingSpec must not be null"))?;
                Ok(HavingSpec::Not(Box::new(HavingSpec::parse(inner, limits)?)))
            }
            "always" => Ok(HavingSpec::Always),
            "never" => Ok(HavingSpec::Never),
            unknown => Err(QueryError::unknown_type(
                unknown,
                HAVING_CLASS,
                &[
                    "always",
                    "and",
                    "dimSelector",
                    "equalTo",
                    "filter",
                    "greaterThan",
                    "lessThan",
                    "never",
                    "not",
                    "or",
                ],
            )),
        }
    }
}

/// The `value` of a comparison: an integer stays a long, anything else is a double.
fn parse_number(value: Option<&Value>) -> Result<AggValue, QueryError> {
    let Some(value) = value else {
        return Err(QueryError::invalid_query("value must not be null"));
    };
    let text = scalar_string(value, "value")?;
    if let Ok(long) = text.parse::<i64>() {
        return Ok(AggValue::Long(long));
    }
    parse_decimal(text.trim())
        .map(AggValue::Double)
        .ok_or_else(|| {
            QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `java.lang.Number` from String \"{text}\": not a valid number"
            ))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<HavingSpec, QueryError> {
        HavingSpec::parse(&value, &Limits::default())
    }

    #[test]
    fn parses_having_specs() {
        let spec = parse(json!({"type": "and", "havingSpecs": [
            {"type": "greaterThan", "aggregation": "edits", "value": 1},
            {"type": "not", "havingSpec": {"type": "dimSelector", "dimension": "d", "value": "x"}},
        ]}))
        .unwrap();
        assert_eq!(
            spec,
            HavingSpec::And(vec![
                HavingSpec::Compare {
                    column: "edits".into(),
                    wanted: Ordering::Greater,
                    value: AggValue::Long(1)
                },
                HavingSpec::Not(Box::new(HavingSpec::DimSelector {
                    dimension: "d".into(),
                    value: Some("x".into())
                })),
            ])
        );
        assert_eq!(parse(json!({"type": "nope"})).unwrap_err().status, 400);
        let no_value = parse(json!({"type": "equalTo", "aggregation": "a"}));
        assert_eq!(no_value.unwrap_err().status, 400);
    }
}
