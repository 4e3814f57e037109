//! Aggregator specs (`docs/querying/aggregations.md`): `count`; long/double/float sum, min
//! and max; `doubleMean`; first/last and any for long, double, float and string; `filtered`;
//! the approximate ones in [`sketch`] (`cardinality`, `hyperUnique`, `HLLSketchBuild`,
//! `HLLSketchMerge`, `thetaSketch`, `quantilesDoublesSketch`). Other Druid aggregator types
//! are recognised and rejected as unsupported.

pub(crate) mod sketch;

use serde_json::Value;

pub(crate) use self::sketch::{SketchAgg, SketchOp};

use super::filter::FilterSpec;
use super::json::{type_id, Fields};
use super::spec::TIME_COLUMN;
use crate::error::QueryError;
use crate::expr::{parse_expression, Expr};
use crate::parse::Limits;

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

/// Druid's default `maxStringBytes` of string first/last/any aggregators.
const DEFAULT_MAX_STRING_BYTES: usize = 1024;

/// The value type of a numeric aggregator. Floats are computed in `f32`, as Druid does, and
/// carried as the `f64` of that `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumType {
    Long,
    Double,
    Float,
}

/// The value type of a first/last/any aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PickType {
    Long,
    Double,
    Float,
    String,
}

/// Which row's value a picking aggregator keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The row with the smallest time (the first one scanned among equal times).
    First,
    /// The row with the largest time (the last one scanned among equal times).
    Last,
    /// The first row scanned.
    Any,
}

/// What an aggregator computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggKind {
    Count,
    Numeric(NumType, NumericOp),
    DoubleMean,
    Pick(Pick, PickType),
    /// An approximate aggregator whose intermediate value is a sketch.
    Sketch(SketchAgg),
}

/// The combining operation of a numeric aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumericOp {
    Sum,
    Min,
    Max,
}

impl AggKind {
    /// Whether the intermediate value is a plain number (so `fieldAccess` can feed
    /// arithmetic): false for `doubleMean` holders, (time, value) pairs and strings.
    pub(crate) fn intermediate_is_number(self) -> bool {
        match self {
            AggKind::Count | AggKind::Numeric(..) => true,
            AggKind::Pick(Pick::Any, kind) => kind != PickType::String,
            AggKind::DoubleMean | AggKind::Pick(..) | AggKind::Sketch(_) => false,
        }
    }

    /// Whether the finalized value is a number.
    pub(crate) fn finalized_is_number(self) -> bool {
        match self {
            AggKind::Pick(_, PickType::String) => false,
            AggKind::Sketch(sketch) => sketch.should_finalize,
            _ => true,
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
    /// The time column of first/last aggregators (`__time` unless `timeColumn` says otherwise).
    pub(crate) time_column: String,
    /// `maxStringBytes` of string first/last/any aggregators.
    pub(crate) max_string_bytes: usize,
    /// `aggregateMultipleValues` of `stringAny` (default true): false reads only the first
    /// value of a multi-value row.
    pub(crate) aggregate_multiple_values: bool,
    /// The filter of a `filtered` aggregator (nested ones are and-ed).
    pub(crate) filter: Option<FilterSpec>,
    /// The input columns of `cardinality` (empty for every other aggregator).
    pub(crate) fields: Vec<String>,
    /// The `expression` of a numeric aggregator, read through a hidden virtual column that
    /// [`name_expression_inputs`] names in `field`.
    pub(crate) expression: Option<Expr>,
}

impl AggregatorSpec {
    pub(crate) fn parse(value: &Value, limits: &Limits) -> Result<AggregatorSpec, QueryError> {
        let fields = Fields::of(value, AGGREGATOR_CLASS)?;
        let Some(kind_name) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", AGGREGATOR_CLASS));
        };
        if kind_name == "filtered" {
            return parse_filtered(&fields, limits);
        }
        if let Some(spec) = sketch::parse(kind_name, &fields)? {
            return Ok(spec);
        }
        let kind = match kind_name {
            "count" => AggKind::Count,
            "longSum" => AggKind::Numeric(NumType::Long, NumericOp::Sum),
            "longMin" => AggKind::Numeric(NumType::Long, NumericOp::Min),
            "longMax" => AggKind::Numeric(NumType::Long, NumericOp::Max),
            "doubleSum" => AggKind::Numeric(NumType::Double, NumericOp::Sum),
            "doubleMin" => AggKind::Numeric(NumType::Double, NumericOp::Min),
            "doubleMax" => AggKind::Numeric(NumType::Double, NumericOp::Max),
            "floatSum" => AggKind::Numeric(NumType::Float, NumericOp::Sum),
            "floatMin" => AggKind::Numeric(NumType::Float, NumericOp::Min),
            "floatMax" => AggKind::Numeric(NumType::Float, NumericOp::Max),
            "doubleMean" => AggKind::DoubleMean,
            "longFirst" => AggKind::Pick(Pick::First, PickType::Long),
            "doubleFirst" => AggKind::Pick(Pick::First, PickType::Double),
            "floatFirst" => AggKind::Pick(Pick::First, PickType::Float),
            "stringFirst" => AggKind::Pick(Pick::First, PickType::String),
            "longLast" => AggKind::Pick(Pick::Last, PickType::Long),
            "doubleLast" => AggKind::Pick(Pick::Last, PickType::Double),
            "floatLast" => AggKind::Pick(Pick::Last, PickType::Float),
            "stringLast" => AggKind::Pick(Pick::Last, PickType::String),
            "longAny" => AggKind::Pick(Pick::Any, PickType::Long),
            "doubleAny" => AggKind::Pick(Pick::Any, PickType::Double),
            "floatAny" => AggKind::Pick(Pick::Any, PickType::Float),
            "stringAny" => AggKind::Pick(Pick::Any, PickType::String),
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
        let expression = match fields.string("expression")? {
            None => None,
            Some(_) if !matches!(kind, AggKind::Numeric(..)) => {
                return Err(QueryError::unsupported(format!(
                    "aggregator type [{kind_name}] with an expression is not supported yet"
                )))
            }
            Some(_) if fields.get("fieldName").is_some() => {
                return Err(QueryError::invalid_query(
                    "Must have a valid, non-null fieldName or expression",
                ))
            }
            Some(text) => Some(parse_expression(&text, limits)?),
        };
        let field = match kind {
            AggKind::Count => None,
            _ if expression.is_some() => None,
            _ => Some(fields.required_string(
                "fieldName",
                "Must have a valid, non-null fieldName or expression",
            )?),
        };
        let time_column = match kind {
            AggKind::Pick(Pick::First | Pick::Last, _) => fields.string("timeColumn")?,
            _ => None,
        };
        let max_string_bytes = match fields.u64("maxStringBytes")? {
            None => DEFAULT_MAX_STRING_BYTES,
            Some(bytes) => usize::try_from(bytes).unwrap_or(usize::MAX),
        };
        let aggregate_multiple_values = match kind {
            AggKind::Pick(Pick::Any, PickType::String) => {
                fields.bool("aggregateMultipleValues")?.unwrap_or(true)
            }
            _ => true,
        };
        Ok(AggregatorSpec {
            name,
            kind,
            field,
            time_column: time_column.unwrap_or_else(|| TIME_COLUMN.to_owned()),
            max_string_bytes,
            aggregate_multiple_values,
            filter: None,
            fields: Vec::new(),
            expression,
        })
    }
}

/// Points every aggregator with an `expression` at its own hidden virtual column.
pub(crate) fn name_expression_inputs(aggregators: &mut [AggregatorSpec]) {
    for (index, aggregator) in aggregators.iter_mut().enumerate() {
        if aggregator.expression.is_some() {
            aggregator.field = Some(format!("\u{0}expression of aggregator {index}"));
        }
    }
}

/// `filtered`: the delegate aggregator over the rows matching `filter`, named `name` (the
/// delegate's name when absent), as Druid's `FilteredAggregatorFactory`.
fn parse_filtered(fields: &Fields<'_>, limits: &Limits) -> Result<AggregatorSpec, QueryError> {
    let delegate = fields
        .get("aggregator")
        .ok_or_else(|| QueryError::invalid_query("aggregator must not be null"))?;
    let filter = fields
        .get("filter")
        .ok_or_else(|| QueryError::invalid_query("filter must not be null"))?;
    let filter = FilterSpec::parse(filter, limits)?;
    let mut spec = AggregatorSpec::parse(delegate, limits)?;
    if let Some(name) = fields.string("name")? {
        spec.name = name;
    }
    spec.filter = Some(match spec.filter.take() {
        None => filter,
        Some(inner) => FilterSpec::And(vec![filter, inner]),
    });
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    impl AggregatorSpec {
        fn parse_default(value: &Value) -> Result<AggregatorSpec, QueryError> {
            AggregatorSpec::parse(value, &Limits::default())
        }
    }

    #[test]
    fn parses_supported_aggregators() {
        let spec = AggregatorSpec::parse_default(
            &json!({"type": "doubleSum", "name": "added", "fieldName": "added"}),
        )
        .unwrap();
        assert_eq!(spec.kind, AggKind::Numeric(NumType::Double, NumericOp::Sum));
        assert_eq!(spec.field.as_deref(), Some("added"));
        let count =
            AggregatorSpec::parse_default(&json!({"type": "count", "name": "rows"})).unwrap();
        assert_eq!(count.field, None);
    }

    #[test]
    fn rejects_bad_aggregators() {
        let unknown =
            AggregatorSpec::parse_default(&json!({"type": "sum", "name": "x"})).unwrap_err();
        assert_eq!(
            (unknown.status, unknown.error.as_str()),
            (400, "Json parse failed")
        );
        let sketch = AggregatorSpec::parse_default(&json!({"type": "tDigestSketch", "name": "x"}));
        assert_eq!(sketch.unwrap_err().status, 501);
        let no_field = AggregatorSpec::parse_default(&json!({"type": "longSum", "name": "x"}));
        assert!(no_field
            .unwrap_err()
            .error_message
            .starts_with("Invalid native query"));
    }
}
