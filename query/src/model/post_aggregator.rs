//! Post-aggregator specs (`docs/querying/post-aggregations.md`): `arithmetic`, `fieldAccess`,
//! `finalizingFieldAccess`, `constant`, `doubleGreatest`/`doubleLeast`/`longGreatest`/
//! `longLeast`, and the sketch post-aggregators of [`sketch`]. Parsing checks what Druid's `Queries.prepareAggregations` checks (every
//! referenced field is an aggregator or an earlier post-aggregator) and that arithmetic only
//! ever reads numbers, so evaluation cannot fail.

pub(crate) mod sketch;

use serde_json::Value;

use self::sketch::SketchPostOp;
use super::aggregator::{AggKind, AggregatorSpec};
use super::json::{scalar_string, type_id, Fields};
use crate::error::QueryError;
use crate::expr::{parse_expression, Expr};
use crate::parse::Limits;
use crate::value::AggValue;

const POST_AGGREGATOR_CLASS: &str = "org.apache.druid.query.aggregation.PostAggregator";

/// Post-aggregator types registered in Druid core and its bundled extensions.
const KNOWN_POST_AGGREGATOR_TYPES: &[&str] = &[
    "HLLSketchEstimate",
    "HLLSketchEstimateWithBounds",
    "HLLSketchToString",
    "HLLSketchUnion",
    "arithmetic",
    "constant",
    "doubleGreatest",
    "doubleLeast",
    "expression",
    "fieldAccess",
    "finalizingFieldAccess",
    "hyperUniqueCardinality",
    "javascript",
    "longGreatest",
    "longLeast",
    "quantilesDoublesSketchToCDF",
    "quantilesDoublesSketchToHistogram",
    "quantilesDoublesSketchToQuantile",
    "quantilesDoublesSketchToQuantiles",
    "quantilesDoublesSketchToRank",
    "thetaSketchEstimate",
    "thetaSketchSetOp",
];

/// An arithmetic function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithmeticOp {
    Plus,
    Minus,
    Multiply,
    /// `/`: division where a zero divisor gives 0.
    Divide,
    /// `quotient`: plain floating-point division.
    Quotient,
    Pow,
}

/// A post-aggregator expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PostAggregator {
    Arithmetic {
        op: ArithmeticOp,
        fields: Vec<PostAggregator>,
        /// `ordering: "numericFirst"`: finite values above NaN above infinities.
        numeric_first: bool,
    },
    /// An aggregator's value (intermediate, or finalized) or an earlier post-aggregator's.
    FieldAccess {
        field: String,
        finalizing: bool,
    },
    Constant(AggValue),
    /// `doubleGreatest`/`doubleLeast`/`longGreatest`/`longLeast`: nulls are ignored.
    Extreme {
        greatest: bool,
        long: bool,
        fields: Vec<PostAggregator>,
    },
    /// A sketch post-aggregator over operands that evaluate to sketches.
    Sketch {
        op: SketchPostOp,
        fields: Vec<PostAggregator>,
    },
    /// `expression`: its identifiers name aggregators (read finalized, as Druid's
    /// `ExpressionPostAggregator` does) and earlier post-aggregators.
    Expression {
        expr: Box<Expr>,
        /// `ordering: "numericFirst"`.
        numeric_first: bool,
    },
}

/// A top-level post-aggregator and its output name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PostAggSpec {
    pub(crate) name: String,
    pub(crate) post: PostAggregator,
}

/// Parses `postAggregations` against the query's aggregators.
pub(crate) fn parse_post_aggregators(
    specs: &[Value],
    aggregators: &[AggregatorSpec],
    limits: &Limits,
) -> Result<Vec<PostAggSpec>, QueryError> {
    let mut parsed: Vec<PostAggSpec> = Vec::with_capacity(specs.len());
    for spec in specs {
        let (name, mut post) = parse(spec, limits)?;
        // `hyperUniqueCardinality` rounds when its aggregator does.
        if let PostAggregator::Sketch {
            op: SketchPostOp::HyperUniqueCardinality { round },
            fields,
        } = &mut post
        {
            if let [PostAggregator::FieldAccess { field, .. }] = fields.as_slice() {
                *round = aggregators.iter().any(|agg| {
                    &agg.name == field
                        && matches!(agg.kind, AggKind::Sketch(sketch) if sketch.round)
                });
            }
        }
        let name = name
            .ok_or_else(|| QueryError::invalid_query("postAggregator must have a non-null name"))?;
        if let PostAggregator::FieldAccess {
            field,
            finalizing: false,
        } = &post
        {
            let reads_mean = aggregators
                .iter()
                .any(|agg| &agg.name == field && agg.kind == AggKind::DoubleMean);
            if reads_mean {
                return Err(QueryError::unsupported(format!(
                    "post-aggregator [{name}] outputs the intermediate doubleMean holder of [{field}]; \
                     use finalizingFieldAccess"
                )));
            }
        }
        let mut missing = Vec::new();
        post.check(&name, aggregators, &parsed, &mut missing)?;
        if !missing.is_empty() {
            return Err(QueryError::invalid_query(format!(
                "Missing fields [[{}]] for postAggregator [{name}]",
                missing.join(", ")
            )));
        }
        parsed.push(PostAggSpec { name, post });
    }
    Ok(parsed)
}

/// Parses one post-aggregator object into its (optional) name and expression.
fn parse(value: &Value, limits: &Limits) -> Result<(Option<String>, PostAggregator), QueryError> {
    let fields = Fields::of(value, POST_AGGREGATOR_CLASS)?;
    let Some(kind) = type_id(value, "type") else {
        return Err(QueryError::missing_type("type", POST_AGGREGATOR_CLASS));
    };
    let name = fields.string("name")?;
    let children = || -> Result<Vec<PostAggregator>, QueryError> {
        fields
            .array("fields")?
            .iter()
            .map(|child| parse(child, limits).map(|(_, post)| post))
            .collect()
    };
    if let Some(post) = sketch::parse(kind, &fields, |child| {
        parse(child, limits).map(|(_, post)| post)
    })? {
        return Ok((name, post));
    }
    let post = match kind {
        "arithmetic" => {
            let function = fields
                .string("fn")?
                .ok_or_else(|| QueryError::invalid_query("fn cannot not be null"))?;
            let operands = children()?;
            if operands.len() < 2 {
                // Druid's message leaves its `%s` unformatted.
                return Err(QueryError::invalid_query(
                    "Illegal number of fields[%s], must be > 1",
                ));
            }
            let op = match function.as_str() {
                "+" => ArithmeticOp::Plus,
                "-" => ArithmeticOp::Minus,
                "*" => ArithmeticOp::Multiply,
                "/" => ArithmeticOp::Divide,
                "quotient" => ArithmeticOp::Quotient,
                "pow" => ArithmeticOp::Pow,
                other => {
                    return Err(QueryError::invalid_query(format!(
                        "Unknown operation[{other}], known operations[[+, -, *, /, quotient, pow]]"
                    )))
                }
            };
            let numeric_first = parse_ordering(&fields, "ArithmeticPostAggregator")?;
            PostAggregator::Arithmetic {
                op,
                fields: operands,
                numeric_first,
            }
        }
        "fieldAccess" | "finalizingFieldAccess" => PostAggregator::FieldAccess {
            field: fields.required_string("fieldName", "fieldName can not be null")?,
            finalizing: kind == "finalizingFieldAccess",
        },
        // `constantValue` is the backwards-compatible name of `value`.
        "constant" => PostAggregator::Constant(parse_constant(
            fields.get("value").or_else(|| fields.get("constantValue")),
        )?),
        "expression" => {
            let text = fields.required_string("expression", "expression cannot be null")?;
            PostAggregator::Expression {
                expr: Box::new(parse_expression(&text, limits)?),
                numeric_first: parse_ordering(&fields, "ExpressionPostAggregator")?,
            }
        }
        "doubleGreatest" | "doubleLeast" | "longGreatest" | "longLeast" => {
            PostAggregator::Extreme {
                greatest: kind.ends_with("Greatest"),
                long: kind.starts_with("long"),
                fields: children()?,
            }
        }
        known if KNOWN_POST_AGGREGATOR_TYPES.contains(&known) => {
            return Err(QueryError::unsupported(format!(
                "post-aggregator type [{known}] is not supported yet"
            )))
        }
        unknown => {
            return Err(QueryError::unknown_type(
                unknown,
                POST_AGGREGATOR_CLASS,
                KNOWN_POST_AGGREGATOR_TYPES,
            ))
        }
    };
    Ok((name, post))
}

/// `ordering`: absent or `numericFirst`.
fn parse_ordering(fields: &Fields<'_>, class: &str) -> Result<bool, QueryError> {
    match fields.string("ordering")?.as_deref() {
        None => Ok(false),
        Some("numericFirst") => Ok(true),
        Some(other) => Err(QueryError::invalid_query(format!(
            "No enum constant org.apache.druid.query.aggregation.post.{class}.Ordering.{other}"
        ))),
    }
}

/// A `constant` value as Jackson binds a `Number`: integers stay integral, others are doubles.
fn parse_constant(value: Option<&Value>) -> Result<AggValue, QueryError> {
    let Some(value) = value else {
        return Err(QueryError::invalid_query("Constant value must not be null"));
    };
    let text = scalar_string(value, "value")?;
    if let Ok(long) = text.parse::<i64>() {
        return Ok(AggValue::Long(long));
    }
    crate::order::parse_decimal(&text)
        .map(AggValue::Double)
        .ok_or_else(|| {
            QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `java.lang.Number` from String \"{text}\": not a valid number"
            ))
        })
}

/// What a post-aggregator's operand evaluates to, for the type check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Produces {
    Number,
    Other,
}

impl PostAggregator {
    /// Collects referenced names that do not exist into `missing` and fails when arithmetic or
    /// greatest/least would read something that is not a number.
    fn check(
        &self,
        name: &str,
        aggregators: &[AggregatorSpec],
        earlier: &[PostAggSpec],
        missing: &mut Vec<String>,
    ) -> Result<Produces, QueryError> {
        match self {
            PostAggregator::Constant(_) => Ok(Produces::Number),
            PostAggregator::Expression { expr, .. } => {
                for field in expr.identifiers() {
                    let known = aggregators.iter().any(|agg| &agg.name == field)
                        || earlier.iter().any(|post| &post.name == field);
                    if !known {
                        missing.push(field.clone());
                    }
                }
                Ok(Produces::Number)
            }
            PostAggregator::FieldAccess { field, finalizing } => {
                if let Some(aggregator) = aggregators.iter().find(|agg| &agg.name == field) {
                    let number = if *finalizing {
                        aggregator.kind.finalized_is_number()
                    } else {
                        aggregator.kind.intermediate_is_number()
                    };
                    return Ok(if number {
                        Produces::Number
                    } else {
                        Produces::Other
                    });
                }
                match earlier.iter().rposition(|post| &post.name == field) {
                    Some(at) => {
                        earlier[at]
                            .post
                            .check(name, aggregators, &earlier[..at], &mut Vec::new())
                    }
                    None => {
                        missing.push(field.clone());
                        Ok(Produces::Number)
                    }
                }
            }
            PostAggregator::Arithmetic { fields, .. } | PostAggregator::Extreme { fields, .. } => {
                for field in fields {
                    if field.check(name, aggregators, earlier, missing)? == Produces::Other {
                        return Err(QueryError::unsupported(format!(
                            "post-aggregator [{name}] computes on a value that is not a number \
                             (a string, a first/last pair or a mean holder); read first/last/mean \
                             aggregators with finalizingFieldAccess"
                        )));
                    }
                }
                Ok(Produces::Number)
            }
            PostAggregator::Sketch { op, fields } => {
                for field in fields {
                    field.check(name, aggregators, earlier, missing)?;
                }
                Ok(if op.is_number() {
                    Produces::Number
                } else {
                    Produces::Other
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::Limits;

    fn aggregators() -> Vec<AggregatorSpec> {
        [
            json!({"type": "count", "name": "rows"}),
            json!({"type": "longFirst", "name": "first", "fieldName": "x"}),
        ]
        .iter()
        .map(|spec| AggregatorSpec::parse(spec, &Limits::default()).unwrap())
        .collect()
    }

    fn parse_all(specs: Value) -> Result<Vec<PostAggSpec>, QueryError> {
        parse_post_aggregators(
            specs.as_array().unwrap(),
            &aggregators(),
            &Limits::default(),
        )
    }

    #[test]
    fn parses_nested_post_aggregators() {
        let parsed = parse_all(json!([
            {"type": "arithmetic", "name": "half", "fn": "/", "fields": [
                {"type": "fieldAccess", "fieldName": "rows"},
                {"type": "constant", "name": "two", "value": 2}
            ]},
            {"type": "doubleGreatest", "name": "g", "fields": [
                {"type": "fieldAccess", "fieldName": "half"},
                {"type": "finalizingFieldAccess", "fieldName": "first"}
            ]}
        ]))
        .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            parsed[0].post,
            PostAggregator::Arithmetic {
                op: ArithmeticOp::Divide,
                fields: vec![
                    PostAggregator::FieldAccess {
                        field: "rows".into(),
                        finalizing: false
                    },
                    PostAggregator::Constant(AggValue::Long(2)),
                ],
                numeric_first: false,
            }
        );
    }

    #[test]
    fn rejects_bad_post_aggregators() {
        let missing = parse_all(json!([
            {"type": "fieldAccess", "name": "p", "fieldName": "nope"}
        ]))
        .unwrap_err();
        assert_eq!(
            missing.error_message,
            "Invalid native query: Missing fields [[nope]] for postAggregator [p]"
        );
        let one_field = parse_all(json!([
            {"type": "arithmetic", "name": "p", "fn": "+", "fields": [{"type": "constant", "value": 1}]}
        ]));
        assert_eq!(one_field.unwrap_err().status, 400);
        let bad_fn = parse_all(json!([
            {"type": "arithmetic", "name": "p", "fn": "%", "fields": [
                {"type": "constant", "value": 1}, {"type": "constant", "value": 2}]}
        ]));
        assert!(bad_fn
            .unwrap_err()
            .error_message
            .contains("Unknown operation[%]"));
        let pair = parse_all(json!([
            {"type": "arithmetic", "name": "p", "fn": "+", "fields": [
                {"type": "fieldAccess", "fieldName": "first"}, {"type": "constant", "value": 2}]}
        ]));
        assert_eq!(pair.unwrap_err().status, 501);
        let sketch = parse_all(json!([{"type": "thetaSketchEstimate", "name": "p"}]));
        assert_eq!(sketch.unwrap_err().status, 400);
        let bounds = parse_all(json!([{"type": "thetaSketchEstimate", "name": "p",
            "field": {"type": "fieldAccess", "fieldName": "rows"}, "errorBoundsStdDev": 2}]));
        assert_eq!(bounds.unwrap_err().status, 501);
    }
}
