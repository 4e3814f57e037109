//! Aggregate calls to native aggregators, named `a0`, `a1`, ... as Druid names them:
//! COUNT(*), COUNT(col) (a count filtered on non-null), SUM/MIN/MAX (long or double by the
//! argument's type), AVG (sum and non-null count with a quotient post-aggregator),
//! COUNT(DISTINCT col) and APPROX_COUNT_DISTINCT (the `cardinality` aggregator while
//! `useApproximateCountDistinct` is on), each optionally with `FILTER (WHERE ...)`.

use serde_json::{json, Value};
use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
};

use crate::filter::filter;
use crate::scalar::{Scalar, Scope};
use crate::{SqlError, SqlType};

/// The aggregate function names Henge plans.
const AGGREGATES: &[&str] = &["COUNT", "SUM", "MIN", "MAX", "AVG", "APPROX_COUNT_DISTINCT"];

/// One planned aggregate call.
pub struct PlannedAggregate {
    pub aggregators: Vec<Value>,
    pub post_aggregator: Option<Value>,
    pub sql_type: SqlType,
}

/// True if `expr` is a call of an aggregate function.
pub fn is_aggregate(expr: &Expr) -> bool {
    match expr {
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            AGGREGATES.contains(&name.as_str())
        }
        Expr::Nested(inner) => is_aggregate(inner),
        _ => false,
    }
}

/// Plans the aggregate call `function` under the output name `name`.
pub fn plan_aggregate(
    scope: &mut Scope,
    function: &Function,
    name: &str,
    approximate_count_distinct: bool,
) -> Result<PlannedAggregate, SqlError> {
    let function_name = function.name.to_string().to_ascii_uppercase();
    if function.over.is_some() {
        return Err(SqlError::unsupported("window functions"));
    }
    let FunctionArguments::List(list) = &function.args else {
        return Err(SqlError::invalid(format!(
            "{function_name} needs arguments"
        )));
    };
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    if !list.clauses.is_empty() {
        return Err(SqlError::unsupported(format!("{function}")));
    }
    let star = matches!(
        list.args.as_slice(),
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
    );
    let args: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
            _ => None,
        })
        .collect();
    if !star && args.len() != list.args.len() {
        return Err(SqlError::unsupported(format!("{function}")));
    }
    let argument = |scope: &mut Scope| -> Result<(String, SqlType), SqlError> {
        let [expr] = args.as_slice() else {
            return Err(SqlError::invalid(format!(
                "Invalid number of arguments to function '{function_name}'"
            )));
        };
        let scalar = scope.scalar(expr)?;
        if matches!(scalar, Scalar::Literal(_)) {
            return Err(SqlError::unsupported(format!(
                "{function_name} of a constant"
            )));
        }
        scope.column_for(&scalar)
    };
    let mut planned = match (function_name.as_str(), star, distinct) {
        ("COUNT", true, false) => single(json!({"type": "count", "name": name}), SqlType::Bigint),
        ("COUNT", false, false) => {
            let (column, _) = argument(scope)?;
            single(non_null_count(name, &column), SqlType::Bigint)
        }
        ("COUNT", false, true) | ("APPROX_COUNT_DISTINCT", false, _) => {
            if function_name == "COUNT" && !approximate_count_distinct {
                return Err(SqlError::unsupported(
                    "exact COUNT(DISTINCT) (useApproximateCountDistinct false)",
                ));
            }
            let (column, kind) = argument(scope)?;
            single(distinct_count(name, &column, &kind)?, SqlType::Bigint)
        }
        ("SUM" | "MIN" | "MAX", false, false) => {
            let (column, kind) = argument(scope)?;
            let (prefix, sql_type) = numeric_kind(&function_name, &kind)?;
            let op = match function_name.as_str() {
                "SUM" => "Sum",
                "MIN" => "Min",
                _ => "Max",
            };
            single(
                json!({"type": format!("{prefix}{op}"), "name": name, "fieldName": column}),
                sql_type,
            )
        }
        ("AVG", false, false) => {
            let (column, kind) = argument(scope)?;
            let (prefix, sql_type) = numeric_kind("AVG", &kind)?;
            let sum = format!("{name}:sum");
            let count = format!("{name}:count");
            PlannedAggregate {
                aggregators: vec![
                    json!({"type": format!("{prefix}Sum"), "name": sum, "fieldName": column}),
                    non_null_count(&count, &column),
                ],
                post_aggregator: Some(json!({
                    "type": "arithmetic", "name": name, "fn": "quotient",
                    "fields": [
                        {"type": "fieldAccess", "fieldName": sum},
                        {"type": "fieldAccess", "fieldName": count},
                    ],
                })),
                sql_type,
            }
        }
        _ => {
            return Err(SqlError::unsupported(format!(
                "aggregate {function_name} in this form"
            )))
        }
    };
    if let Some(condition) = &function.filter {
        let condition = filter(scope, condition)?;
        for aggregator in &mut planned.aggregators {
            let inner_name = aggregator["name"].clone();
            *aggregator = json!({
                "type": "filtered", "aggregator": aggregator.clone(),
                "filter": condition, "name": inner_name,
            });
        }
    }
    Ok(planned)
}

fn single(aggregator: Value, sql_type: SqlType) -> PlannedAggregate {
    PlannedAggregate {
        aggregators: vec![aggregator],
        post_aggregator: None,
        sql_type,
    }
}

/// `long`/`double` aggregators and the result type for a numeric argument (MIN and MAX of
/// `__time` stay TIMESTAMP).
fn numeric_kind(function: &str, kind: &SqlType) -> Result<(&'static str, SqlType), SqlError> {
    match kind {
        SqlType::Bigint | SqlType::Boolean => Ok(("long", SqlType::Bigint)),
        SqlType::Timestamp if matches!(function, "MIN" | "MAX") => Ok(("long", SqlType::Timestamp)),
        SqlType::Double | SqlType::Float => Ok(("double", SqlType::Double)),
        other => Err(SqlError::invalid(format!(
            "Cannot apply '{function}' to arguments of type '{function}(<{}>)'",
            other.sql_name()
        ))),
    }
}

/// COUNT(col): rows where `col` is not null.
fn non_null_count(name: &str, column: &str) -> Value {
    json!({
        "type": "filtered",
        "aggregator": {"type": "count", "name": name},
        "filter": {"type": "not", "field": {"type": "null", "column": column}},
        "name": name,
    })
}

/// Approximate distinct count: `cardinality` over plain columns, sketch merges over sketch
/// columns.
fn distinct_count(name: &str, column: &str, kind: &SqlType) -> Result<Value, SqlError> {
    Ok(match kind {
        SqlType::Complex(complex) if complex == "hyperUnique" => {
            json!({"type": "hyperUnique", "name": name, "fieldName": column, "isInputHyperUnique": false, "round": true})
        }
        SqlType::Complex(complex) if complex == "HLLSketch" => {
            json!({"type": "HLLSketchMerge", "name": name, "fieldName": column, "lgK": 12, "tgtHllType": "HLL_4", "round": true})
        }
        SqlType::Complex(other) => {
            return Err(SqlError::unsupported(format!(
                "APPROX_COUNT_DISTINCT over COMPLEX<{other}>"
            )))
        }
        _ => json!({
            "type": "cardinality", "name": name,
            "fields": [{"type": "default", "dimension": column, "outputName": column, "outputType": "STRING"}],
            "byRow": false, "round": true,
        }),
    })
}
