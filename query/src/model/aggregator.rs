//! Aggregator specs (`docs/querying/aggregations.md`): `count` and the long/double
//! sum/min/max family. Other Druid aggregator types are recognised and rejected as unsupported.

use serde_json::Value;

use super::json::{type_id, Fields};
use crate::error::QueryError;

const AGGREGATOR_CLASS: &str = "org.apache.druid.query.aggregation.AggregatorFactory";

/// Aggregator types registered in Druid core and its bundled extensions.
const KNOWN_AGGREGATOR_TYPES: &[&str] = &[
    "HLLSketchBuild",
    "HLLSketchMerge",
    "approxHistogram",
    "approxHistogramFold",
    "bloom",
    "cardinality",
    "count",
    "doubleAny",
    "doubleFirst",
    "doubleLast",
    "doubleMax",
    "doubleMean",
    "doubleMin",
    "doubleSum",
    "expression",
    "filtered",
    "fixedBucketsHistogram",
    "floatAny",
    "floatFirst",
    "floatLast",
    "floatMax",
    "floatMin",
    "floatSum",
    "grouping",
    "histogram",
    "hyperUnique",
    "javascript",
    "longAny",
    "longFirst",
    "longLast",
    "longMax",
    "longMin",
    "longSum",
    "quantilesDoublesSketch",
    "singleValue",
    "stringAny",
    "stringFirst",
    "stringLast",
    "tDigestSketch",
    "thetaSketch",
    "variance",
];

/// What an aggregator computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggKind {
    Count,
    LongSum,
    LongMin,
    LongMax,
    DoubleSum,
    DoubleMin,
    DoubleMax,
}

/// The combining operation of a numeric aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumericOp {
    Sum,
    Min,
    Max,
}

impl AggKind {
    /// `Some((is_long, op))` for numeric aggregators, `None` for `count`.
    pub(crate) fn numeric(self) -> Option<(bool, NumericOp)> {
        match self {
            AggKind::Count => None,
            AggKind::LongSum => Some((true, NumericOp::Sum)),
            AggKind::LongMin => Some((true, NumericOp::Min)),
            AggKind::LongMax => Some((true, NumericOp::Max)),
            AggKind::DoubleSum => Some((false, NumericOp::Sum)),
            AggKind::DoubleMin => Some((false, NumericOp::Min)),
            AggKind::DoubleMax => Some((false, NumericOp::Max)),
        }
    }
}

/// One aggregator of a query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AggregatorSpec {
    pub(crate) name: String,
    pub(crate) kind: AggKind,
    /// The input column; `None` only for `count`.
    pub(crate) field: Option<String>,
}

impl AggregatorSpec {
    pub(crate) fn parse(value: &Value) -> Result<AggregatorSpec, QueryError> {
        let fields = Fields::of(value, AGGREGATOR_CLASS)?;
        let Some(kind_name) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", AGGREGATOR_CLASS));
        };
        let kind = match kind_name {
            "count" => AggKind::Count,
            "longSum" => AggKind::LongSum,
            "longMin" => AggKind::LongMin,
            "longMax" => AggKind::LongMax,
            "doubleSum" => AggKind::DoubleSum,
            "doubleMin" => AggKind::DoubleMin,
            "doubleMax" => AggKind::DoubleMax,
            known if KNOWN_AGGREGATOR_TYPES.contains(&known) => {
                return Err(QueryError::unsupported(format!(
                    "aggregator type [{known}] is not supported yet"
                )))
            }
            unknown => {
                return Err(QueryError::unknown_type(
                    unknown,
                    AGGREGATOR_CLASS,
                    KNOWN_AGGREGATOR_TYPES,
                ))
            }
        };
        let name = fields.required_string("name", "Must have a valid, non-null aggregator name")?;
        if fields.get("expression").is_some() {
            return Err(QueryError::unsupported(
                "aggregators with an expression are not supported yet",
            ));
        }
        let field = match kind {
            AggKind::Count => None,
            _ => Some(fields.required_string(
                "fieldName",
                "Must have a valid, non-null fieldName or expression",
            )?),
        };
        Ok(AggregatorSpec { name, kind, field })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_supported_aggregators() {
        let spec = AggregatorSpec::parse(
            &json!({"type": "doubleSum", "name": "added", "fieldName": "added"}),
        )
        .unwrap();
        assert_eq!(spec.kind, AggKind::DoubleSum);
        assert_eq!(spec.field.as_deref(), Some("added"));
        let count = AggregatorSpec::parse(&json!({"type": "count", "name": "rows"})).unwrap();
        assert_eq!(count.field, None);
    }

    #[test]
    fn rejects_bad_aggregators() {
        let unknown = AggregatorSpec::parse(&json!({"type": "sum", "name": "x"})).unwrap_err();
        assert_eq!(
            (unknown.status, unknown.error.as_str()),
            (400, "Json parse failed")
        );
        let sketch = AggregatorSpec::parse(&json!({"type": "thetaSketch", "name": "x"}));
        assert_eq!(sketch.unwrap_err().status, 501);
        let no_field = AggregatorSpec::parse(&json!({"type": "longSum", "name": "x"}));
        assert!(no_field
            .unwrap_err()
            .error_message
            .starts_with("Invalid native query"));
    }
}
