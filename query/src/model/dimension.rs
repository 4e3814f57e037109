//! Dimension specs (`docs/querying/dimensionspecs.md`), topN metric specs
//! (`docs/querying/topnmetricspec.md`) and the groupBy `default` limit spec
//! (`docs/querying/limitspec.md`).

use serde_json::Value;

use super::extraction::{parse_map_lookup, parse_missing, ExtractionFn, Transform, ValueFilter};
use super::filter::StringOrdering;
use super::json::{mismatch, type_id, Fields};
use crate::error::QueryError;
use crate::parse::Limits;

const DIMENSION_SPEC_CLASS: &str = "org.apache.druid.query.dimension.DimensionSpec";
const TOPN_METRIC_CLASS: &str = "org.apache.druid.query.topn.TopNMetricSpec";
const LIMIT_SPEC_CLASS: &str = "org.apache.druid.query.groupby.orderby.LimitSpec";

/// A dimension spec's `outputType`: what type grouped values are converted to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum OutputType {
    #[default]
    String,
    Long,
    Float,
    Double,
}

impl OutputType {
    /// Parses Druid's type names, case-insensitively; other types are not supported.
    fn parse(name: &str) -> Result<OutputType, QueryError> {
        match name.to_ascii_uppercase().as_str() {
            "STRING" => Ok(OutputType::String),
            "LONG" => Ok(OutputType::Long),
            "FLOAT" => Ok(OutputType::Float),
            "DOUBLE" => Ok(OutputType::Double),
            _ => Err(QueryError::unsupported(format!(
                "dimension outputType [{name}] is not supported"
            ))),
        }
    }
}

/// A dimension spec: read `dimension`, run its transforms (extraction functions, value
/// filters; none for `default`), output it as `output_name` converted to `output_type`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DimensionSpec {
    pub(crate) dimension: String,
    pub(crate) output_name: String,
    pub(crate) output_type: OutputType,
    pub(crate) transforms: Vec<Transform>,
}

impl DimensionSpec {
    /// `{"type": "default", "dimension": name}`: the column's values as strings.
    pub(crate) fn default_for(name: &str) -> DimensionSpec {
        DimensionSpec {
            dimension: name.to_owned(),
            output_name: name.to_owned(),
            output_type: OutputType::String,
            transforms: Vec::new(),
        }
    }

    pub(crate) fn parse(value: &Value, limits: &Limits) -> Result<DimensionSpec, QueryError> {
        if let Value::String(name) = value {
            return Ok(DimensionSpec::default_for(name));
        }
        let fields = Fields::of(value, DIMENSION_SPEC_CLASS)?;
        let kind = type_id(value, "type").unwrap_or("default");
        match kind {
            "default" | "extraction" | "lookup" => {}
            "listFiltered" | "regexFiltered" | "prefixFiltered" => {
                let delegate = fields
                    .get("delegate")
                    .ok_or_else(|| QueryError::invalid_query("delegate must not be null"))?;
                let mut spec = DimensionSpec::parse(delegate, limits)?;
                let filter = ValueFilter::parse(kind, &fields, limits)?;
                spec.transforms.push(Transform::Filter(filter));
                return Ok(spec);
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
        let output_type = match fields.string("outputType")? {
            Some(name) => OutputType::parse(&name)?,
            None => OutputType::String,
        };
        let output_name = fields
            .string("outputName")?
            .unwrap_or_else(|| dimension.clone());
        let transforms = match kind {
            "extraction" => {
                let function = fields
                    .get("extractionFn")
                    .ok_or_else(|| QueryError::invalid_query("extractionFn can not be null"))?;
                vec![Transform::Extract(ExtractionFn::parse(function, limits)?)]
            }
            "lookup" => vec![Transform::Extract(parse_lookup_spec(&fields, limits)?)],
            _ => Vec::new(),
        };
        Ok(DimensionSpec {
            dimension,
            output_name,
            output_type,
            transforms,
        })
    }
}

/// A `lookup` dimension spec: an inline map `lookup`, or a registered lookup by `name`.
fn parse_lookup_spec(fields: &Fields<'_>, limits: &Limits) -> Result<ExtractionFn, QueryError> {
    let map = match (fields.get("lookup"), fields.string("name")?) {
        (Some(lookup), _) => parse_map_lookup(lookup, limits)?,
        (None, Some(name)) => limits.lookups.resolve(&name)?,
        (None, None) => {
            return Err(QueryError::invalid_query(
                "Lookup name or lookup must be specified",
            ))
        }
    };
    let (retain_missing, replacement) = parse_missing(fields)?;
    Ok(ExtractionFn::Lookup {
        map,
        retain_missing,
        replacement,
    })
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
        let limits = Limits::default();
        assert_eq!(
            DimensionSpec::parse(&json!("page"), &Limits::default()).unwrap(),
            DimensionSpec {
                dimension: "page".into(),
                output_name: "page".into(),
                output_type: OutputType::String,
                transforms: Vec::new(),
            }
        );
        let spec = DimensionSpec::parse(
            &json!({"type": "default", "dimension": "p", "outputName": "o"}),
            &limits,
        );
        assert_eq!(spec.unwrap().output_name, "o");
        let typed = DimensionSpec::parse(&json!({"dimension": "n", "outputType": "long"}), &limits);
        assert_eq!(typed.unwrap().output_type, OutputType::Long);
        let complex =
            DimensionSpec::parse(&json!({"dimension": "n", "outputType": "COMPLEX"}), &limits);
        assert_eq!(complex.unwrap_err().status, 501);
        let extraction = DimensionSpec::parse(
            &json!({"type": "extraction", "dimension": "p",
                    "extractionFn": {"type": "javascript", "function": "x"}}),
            &limits,
        );
        assert_eq!(extraction.unwrap_err().status, 501);
        let both = DimensionSpec::parse(
            &json!({"type": "lookup", "dimension": "p", "lookup": {"type": "map", "map": {}},
                    "retainMissingValue": true, "replaceMissingValueWith": "x"}),
            &limits,
        );
        assert_eq!(both.unwrap_err().status, 400);
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
