//! Dimension specs (`docs/querying/dimensionspecs.md`), topN metric specs
//! (`docs/querying/topnmetricspec.md`) and the groupBy `default` limit spec
//! (`docs/querying/limitspec.md`).

use serde_json::Value;

use super::filter::StringOrdering;
use super::json::{mismatch, type_id, Fields};
use crate::error::QueryError;

const DIMENSION_SPEC_CLASS: &str = "org.apache.druid.query.dimension.DimensionSpec";
const TOPN_METRIC_CLASS: &str = "org.apache.druid.query.topn.TopNMetricSpec";
const LIMIT_SPEC_CLASS: &str = "org.apache.druid.query.groupby.orderby.LimitSpec";

/// A `default` dimension spec: read `dimension`, output it as `output_name`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DimensionSpec {
    pub(crate) dimension: String,
    pub(crate) output_name: String,
}

impl DimensionSpec {
    pub(crate) fn parse(value: &Value) -> Result<DimensionSpec, QueryError> {
        if let Value::String(name) = value {
            return Ok(DimensionSpec {
                dimension: name.clone(),
                output_name: name.clone(),
            });
        }
        let fields = Fields::of(value, DIMENSION_SPEC_CLASS)?;
        match type_id(value, "type").unwrap_or("default") {
            "default" => {}
            known @ ("extraction" | "listFiltered" | "regexFiltered" | "prefixFiltered"
            | "lookup") => {
                return Err(QueryError::unsupported(format!(
                    "dimension spec type [{known}] is not supported yet"
                )))
            }
            unknown => {
                return Err(QueryError::unknown_type(
                    unknown,
                    DIMENSION_SPEC_CLASS,
                    &[
                        "default",
                        "extraction",
                        "listFiltered",
                        "lookup",
                        "prefixFiltered",
                        "regexFiltered",
                    ],
                ))
            }
        }
        let dimension = fields.required_string("dimension", "dimension must not be null")?;
        if let Some(output_type) = fields.string("outputType")? {
            if !output_type.eq_ignore_ascii_case("STRING") {
                return Err(QueryError::unsupported(format!(
                    "dimension outputType [{output_type}] is not supported yet"
                )));
            }
        }
        let output_name = fields
            .string("outputName")?
            .unwrap_or_else(|| dimension.clone());
        Ok(DimensionSpec {
            dimension,
            output_name,
        })
    }
}

/// How topN ranks dimension values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TopNMetric {
    /// By an aggregator, largest first (nulls last).
    Numeric(String),
    /// By dimension value, ascending, after `previous_stop` when given.
    Dimension {
        ordering: StringOrdering,
        previous_stop: Option<String>,
    },
    /// The reverse of the inner ordering.
    Inverted(Box<TopNMetric>),
}

impl TopNMetric {
    pub(crate) fn parse(value: &Value) -> Result<TopNMetric, QueryError> {
        if let Value::String(name) = value {
            return Ok(TopNMetric::Numeric(name.clone()));
        }
        let fields = Fields::of(value, TOPN_METRIC_CLASS)?;
        let Some(kind) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", TOPN_METRIC_CLASS));
        };
        match kind {
            "numeric" => Ok(TopNMetric::Numeric(
                fields.required_string("metric", "metric can't be null")?,
            )),
            "inverted" => {
                let inner = fields
                    .get("metric")
                    .ok_or_else(|| QueryError::invalid_query("metric can't be null"))?;
                Ok(TopNMetric::Inverted(Box::new(TopNMetric::parse(inner)?)))
            }
            "dimension" | "lexicographic" => {
                let ordering = match fields.get("ordering") {
                    Some(ordering) => StringOrdering::parse(ordering)?,
                    None => StringOrdering::Lexicographic,
                };
                Ok(TopNMetric::Dimension {
                    ordering,
                    previous_stop: fields.string("previousStop")?,
                })
            }
            "alphaNumeric" => Ok(TopNMetric::Dimension {
                ordering: StringOrdering::Alphanumeric,
                previous_stop: fields.string("previousStop")?,
            }),
            unknown => Err(QueryError::unknown_type(
                unknown,
                TOPN_METRIC_CLASS,
                &[
                    "alphaNumeric",
                    "dimension",
                    "inverted",
                    "lexicographic",
                    "numeric",
                ],
            )),
        }
    }

    /// The aggregator this metric ranks by, if it ranks by one.
    pub(crate) fn metric_name(&self) -> Option<&str> {
        match self {
            TopNMetric::Numeric(name) => Some(name),
            TopNMetric::Dimension { .. } => None,
            TopNMetric::Inverted(inner) => inner.metric_name(),
        }
    }
}

/// One `ORDER BY` column of a groupBy limit spec.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderByColumn {
    pub(crate) column: String,
    pub(crate) descending: bool,
    pub(crate) ordering: StringOrdering,
}

/// A groupBy `default` limit spec; `NoopLimitSpec` is the default value.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct LimitSpec {
    pub(crate) columns: Vec<OrderByColumn>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
}

impl LimitSpec {
    pub(crate) fn parse(value: &Value) -> Result<LimitSpec, QueryError> {
        let fields = Fields::of(value, LIMIT_SPEC_CLASS)?;
        match type_id(value, "type") {
            Some("default") => {}
            Some("noop") | Some("NoopLimitSpec") => return Ok(LimitSpec::default()),
            Some(unknown) => {
                return Err(QueryError::unknown_type(
                    unknown,
                    LIMIT_SPEC_CLASS,
                    &["default", "noop"],
                ))
            }
            None => return Err(QueryError::missing_type("type", LIMIT_SPEC_CLASS)),
        }
        let columns = fields
            .array("columns")?
            .iter()
            .map(parse_order_by)
            .collect::<Result<Vec<_>, _>>()?;
        let limit = fields.u64("limit")?;
        if limit == Some(0) {
            return Err(QueryError::invalid_query("limit[0] must be > 0"));
        }
        Ok(LimitSpec {
            columns,
            limit,
            offset: fields.u64("offset")?.unwrap_or(0),
        })
    }
}

fn parse_order_by(value: &Value) -> Result<OrderByColumn, QueryError> {
    if let Value::String(column) = value {
        return Ok(OrderByColumn {
            column: column.clone(),
            descending: false,
            ordering: StringOrdering::Lexicographic,
        });
    }
    let fields = Fields::of(
        value,
        "org.apache.druid.query.groupby.orderby.OrderByColumnSpec",
    )?;
    let column = fields.required_string("dimension", "dimension must not be null")?;
    let descending = match fields.string("direction")? {
        None => false,
        Some(direction) => parse_direction(&direction)?,
    };
    let ordering = match fields.get("dimensionOrder") {
        Some(order) => StringOrdering::parse(order)?,
        None => StringOrdering::Lexicographic,
    };
    Ok(OrderByColumn {
        column,
        descending,
        ordering,
    })
}

/// `OrderByColumnSpec.Direction.fromString`: case-insensitive, and any prefix of `ascending` or
/// `descending` (so `asc`/`desc` work).
fn parse_direction(direction: &str) -> Result<bool, QueryError> {
    let upper = direction.to_ascii_uppercase();
    if upper.is_empty() {
        return Err(mismatch("Direction", &Value::String(direction.to_owned())));
    }
    if "ASCENDING".starts_with(&upper) {
        Ok(false)
    } else if "DESCENDING".starts_with(&upper) {
        Ok(true)
    } else {
        Err(QueryError::invalid_query(format!(
            "Unknown direction [{direction}]"
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_dimension_specs() {
        assert_eq!(
            DimensionSpec::parse(&json!("page")).unwrap(),
            DimensionSpec {
                dimension: "page".into(),
                output_name: "page".into()
            }
        );
        let spec =
            DimensionSpec::parse(&json!({"type": "default", "dimension": "p", "outputName": "o"}));
        assert_eq!(spec.unwrap().output_name, "o");
        let extraction = DimensionSpec::parse(&json!({"type": "extraction", "dimension": "p"}));
        assert_eq!(extraction.unwrap_err().status, 501);
    }

    #[test]
    fn parses_topn_metrics() {
        assert_eq!(
            TopNMetric::parse(&json!({"type": "inverted", "metric": "edits"})).unwrap(),
            TopNMetric::Inverted(Box::new(TopNMetric::Numeric("edits".into())))
        );
        let by_dimension =
            TopNMetric::parse(&json!({"type": "dimension", "ordering": "lexicographic"})).unwrap();
        assert_eq!(by_dimension.metric_name(), None);
    }

    #[test]
    fn parses_limit_specs() {
        let spec = LimitSpec::parse(&json!({
            "type": "default",
            "limit": 5,
            "columns": ["a", {"dimension": "b", "direction": "DESC", "dimensionOrder": "numeric"}]
        }))
        .unwrap();
        assert_eq!(spec.limit, Some(5));
        assert_eq!(spec.columns[1].ordering, StringOrdering::Numeric);
        assert!(spec.columns[1].descending);
        assert!(!spec.columns[0].descending);
    }
}
