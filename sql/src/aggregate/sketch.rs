//! The DataSketches aggregates of Druid SQL over the native sketch aggregators, as Druid's
//! `HllSketch*SqlAggregator`, `ThetaSketch*SqlAggregator` and `DoublesSketch*SqlAggregator`
//! plan them, and the post-aggregation functions over their sketches:
//!
//! - APPROX_COUNT_DISTINCT_DS_HLL(expr [, lgK, tgtHllType]) and DS_HLL(...):
//!   `HLLSketchBuild` (`HLLSketchMerge` over an HLL sketch column), `round` true,
//!   `shouldFinalize` true for the count (BIGINT), false for DS_HLL (the sketch);
//! - APPROX_COUNT_DISTINCT_DS_THETA(expr [, size]) and DS_THETA(...): `thetaSketch`;
//! - APPROX_QUANTILE_DS(expr, fraction [, k]): `quantilesDoublesSketch` named `<name>:agg`
//!   with a `quantilesDoublesSketchToQuantile` post-aggregator; DS_QUANTILES_SKETCH(expr
//!   [, k]): the sketch itself;
//! - HLL_SKETCH_ESTIMATE(sketch [, round]), HLL_SKETCH_UNION([lgK, tgtHllType,] sketch,
//!   ...), THETA_SKETCH_ESTIMATE(sketch), THETA_SKETCH_UNION/INTERSECT/NOT([size,] sketch,
//!   ...), DS_GET_QUANTILE(sketch, fraction) and
//!   DS_RANK(sketch, value): native sketch post-aggregators over `fieldAccess` operands.

use serde_json::{json, Value};
use sqlparser::ast::{Expr, Function};

use super::{is_aggregate, single, Call, PlannedAggregate};
use crate::scalar::{Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

/// The sketch aggregate functions.
pub(super) const AGGREGATES: &[&str] = &[
    "APPROX_COUNT_DISTINCT_DS_HLL",
    "APPROX_COUNT_DISTINCT_DS_THETA",
    "APPROX_QUANTILE_DS",
    "DS_HLL",
    "DS_THETA",
    "DS_QUANTILES_SKETCH",
];

/// The post-aggregation functions over sketches.
const POST_FUNCTIONS: &[&str] = &[
    "HLL_SKETCH_ESTIMATE",
    "HLL_SKETCH_UNION",
    "THETA_SKETCH_ESTIMATE",
    "THETA_SKETCH_UNION",
    "THETA_SKETCH_INTERSECT",
    "THETA_SKETCH_NOT",
    "DS_GET_QUANTILE",
    "DS_RANK",
];

const HLL: &str = "HLLSketch";
const THETA: &str = "thetaSketch";
const QUANTILES: &str = "quantilesDoublesSketch";

/// Plans a sketch aggregate; `None` when `call` is not one.
pub(super) fn plan(
    scope: &mut Scope,
    call: &Call,
    name: &str,
) -> Result<Option<PlannedAggregate>, SqlError> {
    if !AGGREGATES.contains(&call.name.as_str()) {
        return Ok(None);
    }
    if call.distinct {
        return Err(SqlError::invalid(format!(
            "{} does not take DISTINCT",
            call.name
        )));
    }
    let planned = match call.name.as_str() {
        "APPROX_COUNT_DISTINCT_DS_HLL" | "DS_HLL" => {
            call.expect_args(1, 3)?;
            let finalize = call.name != "DS_HLL";
            let (column, kind) = call.column(scope, 0)?;
            let lg_k = call.count_literal(scope, 1, 12)?;
            let target = match call.literal(scope, 2)? {
                None => "HLL_4".to_owned(),
                Some(Lit::String(text)) => text,
                Some(other) => {
                    return Err(SqlError::invalid(format!(
                        "{}: tgtHllType must be a string, not {}",
                        call.name,
                        other.to_json()
                    )))
                }
            };
            let merge = matches!(&kind, SqlType::Complex(complex) if complex == HLL);
            check_input(call, &kind, HLL)?;
            single(
                json!({
                    "type": if merge { "HLLSketchMerge" } else { "HLLSketchBuild" },
                    "name": name, "fieldName": column, "lgK": lg_k, "tgtHllType": target,
                    "shouldFinalize": finalize, "round": true,
                }),
                result_type(finalize, SqlType::Bigint, HLL),
            )
        }
        "APPROX_COUNT_DISTINCT_DS_THETA" | "DS_THETA" => {
            call.expect_args(1, 2)?;
            let finalize = call.name != "DS_THETA";
            let (column, kind) = call.column(scope, 0)?;
            check_input(call, &kind, THETA)?;
            let size = call.count_literal(scope, 1, 16384)?;
            single(
                json!({
                    "type": "thetaSketch", "name": name, "fieldName": column, "size": size,
                    "shouldFinalize": finalize, "isInputThetaSketch": false,
                }),
                result_type(finalize, SqlType::Bigint, THETA),
            )
        }
        "APPROX_QUANTILE_DS" => {
            call.expect_args(2, 3)?;
            let (column, kind) = call.column(scope, 0)?;
            check_numeric(call, &kind)?;
            let fraction = fraction(call, scope, 1)?;
            let k = call.count_literal(scope, 2, 128)?;
            let sketch = format!("{name}:agg");
            PlannedAggregate {
                aggregators: vec![
                    json!({"type": "quantilesDoublesSketch", "name": sketch, "fieldName": column, "k": k}),
                ],
                post_aggregator: Some(json!({
                    "type": "quantilesDoublesSketchToQuantile", "name": name,
                    "field": field_access(&sketch), "fraction": fraction,
                })),
                sql_type: SqlType::Double,
                exact_distinct: None,
            }
        }
        _ => {
            call.expect_args(1, 2)?;
            let (column, kind) = call.column(scope, 0)?;
            check_numeric(call, &kind)?;
            let k = call.count_literal(scope, 1, 128)?;
            single(
                json!({
                    "type": "quantilesDoublesSketch", "name": name, "fieldName": column,
                    "k": k, "shouldFinalize": false,
                }),
                SqlType::Complex(QUANTILES.into()),
            )
        }
    };
    Ok(Some(planned))
}

fn result_type(finalize: bool, finalized: SqlType, sketch: &str) -> SqlType {
    if finalize {
        finalized
    } else {
        SqlType::Complex(sketch.into())
    }
}

/// A distinct-count sketch reads plain columns or sketch columns of its own family.
fn check_input(call: &Call, kind: &SqlType, family: &str) -> Result<(), SqlError> {
    match kind {
        SqlType::Complex(complex) if complex != family => Err(SqlError::invalid(format!(
            "Cannot apply '{}' to arguments of type COMPLEX<{complex}>",
            call.name
        ))),
        _ => Ok(()),
    }
}

/// A quantiles sketch reads numbers or quantiles sketch columns.
fn check_numeric(call: &Call, kind: &SqlType) -> Result<(), SqlError> {
    match kind {
        SqlType::Complex(complex) if complex == QUANTILES => Ok(()),
        kind if kind.is_numeric() => Ok(()),
        other => Err(SqlError::invalid(format!(
            "Cannot apply '{}' to arguments of type {}",
            call.name,
            other.sql_name()
        ))),
    }
}

/// A fraction literal in [0, 1].
fn fraction(call: &Call, scope: &Scope, index: usize) -> Result<f64, SqlError> {
    let value = number(call, scope, index)?;
    if !(0.0..=1.0).contains(&value) {
        return Err(SqlError::invalid(format!(
            "{}: the fraction must be between 0 and 1, got {value}",
            call.name
        )));
    }
    Ok(value)
}

fn number(call: &Call, scope: &Scope, index: usize) -> Result<f64, SqlError> {
    match call.literal(scope, index)? {
        Some(Lit::Long(value)) => Ok(value as f64),
        Some(Lit::Double(value)) => Ok(value),
        _ => Err(SqlError::invalid(format!(
            "{}: argument {} must be a numeric literal",
            call.name,
            index + 1
        ))),
    }
}

fn field_access(name: &str) -> Value {
    json!({"type": "fieldAccess", "name": name, "fieldName": name})
}

/// What a sketch post-aggregation function needs from the grouped query: the output name
/// and type of an aggregate operand, and the scope for literal arguments.
pub trait PostOperands {
    fn aggregate(&mut self, expr: &Expr) -> Result<(String, SqlType), SqlError>;
    fn scope(&self) -> &Scope<'_>;
}

/// The sketch post-aggregation function `expr` is a call of, if it is one.
pub fn is_post_function(expr: &Expr) -> Option<&Function> {
    match expr {
        Expr::Function(function)
            if POST_FUNCTIONS
                .contains(&function.name.to_string().to_ascii_uppercase().as_str()) =>
        {
            Some(function)
        }
        Expr::Nested(inner) => is_post_function(inner),
        _ => None,
    }
}

/// Plans a sketch post-aggregation function as the native post-aggregator `name`.
pub fn plan_post_function(
    function: &Function,
    name: &str,
    operands: &mut dyn PostOperands,
) -> Result<(Value, SqlType), SqlError> {
    let call = Call::of(function)?;
    if call.distinct || function.filter.is_some() {
        return Err(SqlError::unsupported(format!("{function}")));
    }
    let (post, sql_type) = match call.name.as_str() {
        "HLL_SKETCH_ESTIMATE" => {
            call.expect_args(1, 2)?;
            let field = sketch_operand(&call, name, operands, 0, HLL)?;
            let round = match call.literal(operands.scope(), 1)? {
                None => false,
                Some(Lit::Bool(flag)) => flag,
                Some(_) => {
                    return Err(SqlError::invalid(
                        "HLL_SKETCH_ESTIMATE: round must be a BOOLEAN literal",
                    ))
                }
            };
            let post =
                json!({"type": "HLLSketchEstimate", "name": name, "field": field, "round": round});
            (post, SqlType::Double)
        }
        "THETA_SKETCH_ESTIMATE" => {
            call.expect_args(1, 1)?;
            let field = sketch_operand(&call, name, operands, 0, THETA)?;
            let post = json!({"type": "thetaSketchEstimate", "name": name, "field": field});
            (post, SqlType::Double)
        }
        "HLL_SKETCH_UNION" => {
            let first = leading_literals(&call, operands, 2);
            let lg_k = if first >= 1 {
                call.count_literal(operands.scope(), 0, 12)?
            } else {
                12
            };
            let target = if first >= 2 {
                match call.literal(operands.scope(), 1)? {
                    Some(Lit::String(text)) => text,
                    _ => {
                        return Err(SqlError::invalid(
                            "HLL_SKETCH_UNION: tgtHllType must be a string",
                        ))
                    }
                }
            } else {
                "HLL_4".to_owned()
            };
            let fields = set_operands(&call, name, operands, first, HLL)?;
            let post = json!({"type": "HLLSketchUnion", "name": name, "fields": fields, "lgK": lg_k, "tgtHllType": target});
            (post, SqlType::Complex(HLL.into()))
        }
        "THETA_SKETCH_UNION" | "THETA_SKETCH_INTERSECT" | "THETA_SKETCH_NOT" => {
            let func = call.name.trim_start_matches("THETA_SKETCH_");
            let first = leading_literals(&call, operands, 1);
            let size = if first == 1 {
                call.count_literal(operands.scope(), 0, 16384)?
            } else {
                16384
            };
            let fields = set_operands(&call, name, operands, first, THETA)?;
            let post = json!({"type": "thetaSketchSetOp", "name": name, "func": func, "size": size, "fields": fields});
            (post, SqlType::Complex(THETA.into()))
        }
        "DS_GET_QUANTILE" => {
            call.expect_args(2, 2)?;
            let field = sketch_operand(&call, name, operands, 0, QUANTILES)?;
            let fraction = fraction(&call, operands.scope(), 1)?;
            let post = json!({"type": "quantilesDoublesSketchToQuantile", "name": name, "field": field, "fraction": fraction});
            (post, SqlType::Double)
        }
        _ => {
            call.expect_args(2, 2)?;
            let field = sketch_operand(&call, name, operands, 0, QUANTILES)?;
            let value = number(&call, operands.scope(), 1)?;
            let post = json!({"type": "quantilesDoublesSketchToRank", "name": name, "field": field, "value": value});
            (post, SqlType::Double)
        }
    };
    Ok((post, sql_type))
}

/// How many of the first `max` arguments of a set operation are literal parameters.
fn leading_literals(call: &Call, operands: &dyn PostOperands, max: usize) -> usize {
    call.args
        .iter()
        .take(max)
        .take_while(|arg| {
            !is_aggregate(arg)
                && is_post_function(arg).is_none()
                && matches!(operands.scope().scalar(arg), Ok(Scalar::Literal(_)))
        })
        .count()
}

/// The sketch operands of a set operation from argument `first` on (at least two).
fn set_operands(
    call: &Call,
    name: &str,
    operands: &mut dyn PostOperands,
    first: usize,
    family: &str,
) -> Result<Vec<Value>, SqlError> {
    if call.args.len() < first + 2 {
        return Err(call.arity_error());
    }
    (first..call.args.len())
        .map(|index| sketch_operand(call, &format!("{name}:{index}"), operands, index, family))
        .collect()
}

/// Argument `index` of a post function as a native operand: a nested sketch post function
/// (planned inline) or a `fieldAccess` to a sketch aggregate of `family`.
fn sketch_operand(
    call: &Call,
    name: &str,
    operands: &mut dyn PostOperands,
    index: usize,
    family: &str,
) -> Result<Value, SqlError> {
    let expr = call.args.get(index).ok_or_else(|| call.arity_error())?;
    let (operand, sql_type) = match is_post_function(expr) {
        Some(inner) => plan_post_function(inner, &format!("{name}:{index}"), operands)?,
        None if is_aggregate(expr) => {
            let (field, sql_type) = operands.aggregate(expr)?;
            (field_access(&field), sql_type)
        }
        None => {
            return Err(SqlError::unsupported(format!(
                "{} of {expr} (only of a sketch aggregate)",
                call.name
            )))
        }
    };
    match sql_type {
        SqlType::Complex(complex) if complex == family => Ok(operand),
        other => Err(SqlError::invalid(format!(
            "Cannot apply '{}' to arguments of type {}",
            call.name,
            other.sql_name()
        ))),
    }
}
