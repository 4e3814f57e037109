//! The native filter model (`docs/querying/filters.md`): parsing `selector`, `in`, `bound`,
//! `equals`, `null`, `inType`, `range`, `interval` (in [`typed`]), `like`, `regex`, `search`
//! (patterns in [`text`]), `columnComparison`, `expression`, `true`, `false`, `and`, `or` and
//! `not`. Other Druid filter types are recognised and rejected as unsupported.

pub(crate) mod text;
mod typed;

use serde_json::Value;

use self::text::{LikePattern, RegexPattern, SearchQuery};
use super::dimension::DimensionSpec;
use super::json::{scalar_string, type_id, Fields};
use crate::error::QueryError;
use crate::expr::{parse_expression, Expr};
use crate::parse::Limits;

const DIM_FILTER_CLASS: &str = "org.apache.druid.query.filter.DimFilter";

/// Filter types Druid registers on `DimFilter` (for the unknown-type message).
const KNOWN_FILTER_TYPES: &[&str] = &[
    "and",
    "arrayContainsElement",
    "bound",
    "columnComparison",
    "equals",
    "expression",
    "extraction",
    "false",
    "in",
    "inType",
    "interval",
    "isfalse",
    "istrue",
    "javascript",
    "like",
    "not",
    "null",
    "or",
    "range",
    "regex",
    "search",
    "selector",
    "spatial",
    "true",
];

/// How a `bound` filter compares values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringOrdering {
    /// UTF-8 byte order (Druid's `StringComparators.LEXICOGRAPHIC`).
    Lexicographic,
    /// Numbers by value; unparseable strings sort before numbers (`StringComparators.NUMERIC`).
    Numeric,
    /// Digit runs by value, other runs as strings (`StringComparators.ALPHANUMERIC`).
    Alphanumeric,
    /// Shorter first, then lexicographic (`StringComparators.STRLEN`).
    Strlen,
}

impl StringOrdering {
    /// Parses an ordering name or `{"type": name}`; other Druid orderings are unsupported.
    pub(crate) fn parse(value: &Value) -> Result<StringOrdering, QueryError> {
        let name = match value {
            Value::String(name) => name.as_str(),
            Value::Object(_) => type_id(value, "type").unwrap_or_default(),
            other => return Err(super::json::mismatch("StringComparator", other)),
        };
        match name.to_ascii_lowercase().as_str() {
            "lexicographic" => Ok(StringOrdering::Lexicographic),
            "numeric" => Ok(StringOrdering::Numeric),
            "alphanumeric" => Ok(StringOrdering::Alphanumeric),
            "strlen" => Ok(StringOrdering::Strlen),
            "version" | "natural" => Err(QueryError::unsupported(format!(
                "string ordering [{name}] is not supported yet"
            ))),
            _ => Err(QueryError::unknown_type(
                name,
                "org.apache.druid.query.ordering.StringComparator",
                &[
                    "alphanumeric",
                    "lexicographic",
                    "natural",
                    "numeric",
                    "strlen",
                    "version",
                ],
            )),
        }
    }
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FilterSpec {
    /// `dimension = value`; a `None` value matches nulls.
    Selector {
        dimension: String,
        value: Option<String>,
    },
    /// `dimension IN (values)`; a `None` value matches nulls.
    In {
        dimension: String,
        values: Vec<Option<String>>,
    },
    /// A range; absent bounds are open.
    Bound {
        dimension: String,
        lower: Option<String>,
        upper: Option<String>,
        lower_strict: bool,
        upper_strict: bool,
        ordering: StringOrdering,
        /// Whether null rows match: a legacy `bound` without a lower end does (Druid's
        /// `BoundFilter.doesMatchNull`); a `range` never does.
        nulls_match: bool,
    },
    /// The whole value matches a SQL LIKE pattern.
    Like {
        dimension: String,
        pattern: LikePattern,
    },
    /// The value contains a match of a regular expression.
    Regex {
        dimension: String,
        pattern: RegexPattern,
    },
    /// The value matches a search query spec.
    Search {
        dimension: String,
        query: SearchQuery,
    },
    /// Every listed column holds the same value in the row.
    ColumnComparison(Vec<String>),
    /// An expression: TRUE where it is truthy, UNKNOWN where it is null.
    Expression(Box<Expr>),
    True,
    False,
    And(Vec<FilterSpec>),
    Or(Vec<FilterSpec>),
    Not(Box<FilterSpec>),
}

impl FilterSpec {
    /// Parses a filter object. Recursion is bounded by the JSON depth checked beforehand.
    pub(crate) fn parse(value: &Value, limits: &Limits) -> Result<FilterSpec, QueryError> {
        let fields = Fields::of(value, DIM_FILTER_CLASS)?;
        let Some(kind) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", DIM_FILTER_CLASS));
        };
        if kind != "and" && kind != "or" && kind != "not" && fields.get("extractionFn").is_some() {
            return Err(QueryError::unsupported(
                "filters with an extractionFn are not supported yet",
            ));
        }
        match kind {
            "selector" => Ok(FilterSpec::Selector {
                dimension: fields.required_string("dimension", "dimension must not be null")?,
                value: fields.string("value")?,
            }),
            "in" => {
                let dimension = fields.required_string("dimension", "dimension can not be null")?;
                let Some(Value::Array(items)) = fields.get("values") else {
                    return Err(QueryError::invalid_query("values can not be null"));
                };
                limits.check_values(&format!("in filter on [{dimension}]"), items.len())?;
                let values = items
                    .iter()
                    .map(|item| match item {
                        Value::Null => Ok(None),
                        other => scalar_string(other, "values").map(Some),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(FilterSpec::In { dimension, values })
            }
            "bound" => parse_bound(&fields),
            "equals" => typed::parse_equals(&fields),
            "null" => typed::parse_null(&fields),
            "inType" => typed::parse_in_type(&fields, limits),
            "range" => typed::parse_range(&fields),
            "interval" => typed::parse_interval(&fields),
            "like" => {
                let dimension =
                    fields.required_string("dimension", "dimension must not be null")?;
                let pattern = fields.required_string("pattern", "pattern must not be null")?;
                let escape = fields.string("escape")?;
                Ok(FilterSpec::Like {
                    dimension,
                    pattern: LikePattern::parse(&pattern, escape.as_deref(), limits)?,
                })
            }
            "expression" => {
                let text = fields.required_string("expression", "expression must not be null")?;
                Ok(FilterSpec::Expression(Box::new(parse_expression(
                    &text, limits,
                )?)))
            }
            "regex" => {
                let dimension =
                    fields.required_string("dimension", "dimension must not be null")?;
                let pattern = fields.required_string("pattern", "pattern must not be null")?;
                Ok(FilterSpec::Regex {
                    dimension,
                    pattern: RegexPattern::parse(&pattern, limits)?,
                })
            }
            "search" => {
                let dimension =
                    fields.required_string("dimension", "dimension must not be null")?;
                let query = fields
                    .get("query")
                    .ok_or_else(|| QueryError::invalid_query("query must not be null"))?;
                Ok(FilterSpec::Search {
                    dimension,
                    query: SearchQuery::parse(query, limits)?,
                })
            }
            "columnComparison" => {
                let dimensions = fields
                    .array("dimensions")?
                    .iter()
                    .map(|spec| match DimensionSpec::parse(spec, limits)? {
                        spec if spec.transforms.is_empty() => Ok(spec.dimension),
                        _ => Err(QueryError::unsupported(
                            "extraction functions in columnComparison are not supported yet",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if dimensions.len() < 2 {
                    return Err(QueryError::invalid_query(
                        "dimensions must have at least 2 dimensions",
                    ));
                }
                Ok(FilterSpec::ColumnComparison(dimensions))
            }
            "true" => Ok(FilterSpec::True),
            "false" => Ok(FilterSpec::False),
            "and" | "or" => {
                let children = fields
                    .array("fields")?
                    .iter()
                    .map(|child| FilterSpec::parse(child, limits))
                    .collect::<Result<Vec<_>, _>>()?;
                if children.is_empty() {
                    return Err(QueryError::invalid_query(format!(
                        "{kind} filter requires at least one field"
                    )));
                }
                Ok(if kind == "and" {
                    FilterSpec::And(children)
                } else {
                    FilterSpec::Or(children)
                })
            }
            "not" => {
                let child = fields.get("field").ok_or_else(|| {
                    QueryError::invalid_query("NOT DimFilter field must not be null")
                })?;
                Ok(FilterSpec::Not(Box::new(FilterSpec::parse(child, limits)?)))
            }
            known if KNOWN_FILTER_TYPES.contains(&known) => Err(QueryError::unsupported(format!(
                "filter type [{known}] is not supported yet"
            ))),
            unknown => Err(QueryError::unknown_type(
                unknown,
                DIM_FILTER_CLASS,
                KNOWN_FILTER_TYPES,
            )),
        }
    }
}

fn parse_bound(fields: &Fields<'_>) -> Result<FilterSpec, QueryError> {
    let dimension = fields.required_string("dimension", "dimension can not be null")?;
    let lower = fields.string("lower")?;
    let upper = fields.string("upper")?;
    if lower.is_none() && upper.is_none() {
        return Err(QueryError::invalid_query(
            "lower and upper can not be null at the same time",
        ));
    }
    let ordering = match fields.get("ordering") {
        Some(ordering) => StringOrdering::parse(ordering)?,
        // The legacy `alphaNumeric` flag, used when no ordering is given.
        None if fields.bool("alphaNumeric")? == Some(true) => StringOrdering::Alphanumeric,
        None => StringOrdering::Lexicographic,
    };
    Ok(FilterSpec::Bound {
        dimension,
        lower_strict: fields.bool("lowerStrict")?.unwrap_or(false),
        upper_strict: fields.bool("upperStrict")?.unwrap_or(false),
        ordering,
        nulls_match: lower.is_none(),
        lower,
        upper,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<FilterSpec, QueryError> {
        FilterSpec::parse(&value, &Limits::default())
    }

    #[test]
    fn parses_nested_filters() {
        let filter = parse(json!({
            "type": "and",
            "fields": [
                {"type": "selector", "dimension": "page", "value": 3},
                {"type": "not", "field": {"type": "in", "dimension": "user", "values": ["a", null]}},
                {"type": "bound", "dimension": "added", "lower": "10", "ordering": "numeric"},
            ]
        }))
        .unwrap();
        assert_eq!(
            filter,
            FilterSpec::And(vec![
                FilterSpec::Selector {
                    dimension: "page".into(),
                    value: Some("3".into())
                },
                FilterSpec::Not(Box::new(FilterSpec::In {
                    dimension: "user".into(),
                    values: vec![Some("a".into()), None]
                })),
                FilterSpec::Bound {
                    dimension: "added".into(),
                    lower: Some("10".into()),
                    upper: None,
                    lower_strict: false,
                    upper_strict: false,
                    ordering: StringOrdering::Numeric,
                    nulls_match: false,
                },
            ])
        );
    }

    #[test]
    fn rejects_unknown_and_unsupported_types() {
        let unknown = parse(json!({"type": "nope", "dimension": "x"})).unwrap_err();
        assert_eq!(unknown.status, 400);
        assert!(unknown
            .error_message
            .contains("Could not resolve type id 'nope'"));
        let unsupported = parse(json!({"type": "spatial", "dimension": "a"}));
        assert_eq!(unsupported.unwrap_err().status, 501);
        let bad_expression = parse(json!({"type": "expression", "expression": "nope(1)"}));
        assert_eq!(bad_expression.unwrap_err().status, 400);
        assert_eq!(parse(json!({"dimension": "x"})).unwrap_err().status, 400);
    }

    #[test]
    fn limits_in_values() {
        let limits = Limits {
            max_in_values: 2,
            ..Limits::default()
        };
        let error = FilterSpec::parse(
            &json!({"type": "in", "dimension": "x", "values": ["a", "b", "c"]}),
            &limits,
        )
        .unwrap_err();
        assert_eq!(error.error, "Resource limit exceeded");
    }
}
