//! Aggregate calls to native aggregators, named `a0`, `a1`, ... as Druid names them:
//! COUNT(*), COUNT(col) (a count filtered on non-null), SUM/MIN/MAX (long or double by the
//! argument's type), AVG (sum and non-null count with a quotient post-aggregator),
//! COUNT(DISTINCT col), APPROX_COUNT_DISTINCT and APPROX_COUNT_DISTINCT_BUILTIN (the
//! `cardinality` aggregator, Druid's default `druid.sql.approxCountDistinct.function`, also
//! with the DataSketches extension loaded; COUNT(DISTINCT) only while
//! `useApproximateCountDistinct` is on), each optionally with
//! `FILTER (WHERE ...)`, over columns or expressions (virtual columns).
//!
//! Submodules: `case` (Calcite's rewrite of `AGG(CASE WHEN c THEN x END)` into
//! `AGG(x) FILTER (WHERE c)`), `sketch` (the DataSketches aggregates and their
//! post-aggregation functions), `pick` (EARLIEST, LATEST, their `_BY` forms and ANY_VALUE)
//! and `distinct` (exact COUNT(DISTINCT) as a groupBy over a groupBy).

mod case;
mod distinct;
mod pick;
mod sketch;

pub use distinct::{nest_exact_distinct, ExactDistinct};
pub use sketch::{is_post_function, plan_post_function, PostOperands};

use serde_json::{json, Value};
use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
};

use crate::filter::filter;
use crate::scalar::{Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

/// The aggregate function names planned here (the submodules add their own).
const AGGREGATES: &[&str] = &[
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "APPROX_COUNT_DISTINCT",
    "APPROX_COUNT_DISTINCT_BUILTIN",
];

/// One planned aggregate call.
pub struct PlannedAggregate {
    pub aggregators: Vec<Value>,
    pub post_aggregator: Option<Value>,
    pub sql_type: SqlType,
    /// For an exact COUNT(DISTINCT col): the column counted and its type (the aggregator is
    /// a placeholder that `nest_exact_distinct` rewrites).
    pub exact_distinct: Option<(String, SqlType)>,
}

/// An aggregate call taken apart: upper-case name, arguments, `*` and DISTINCT.
pub(crate) struct Call {
    pub name: String,
    pub args: Vec<Expr>,
    pub star: bool,
    pub distinct: bool,
}

impl Call {
    fn of(function: &Function) -> Result<Call, SqlError> {
        let name = function.name.to_string().to_ascii_uppercase();
        if function.over.is_some() {
            return Err(SqlError::unsupported("window functions"));
        }
        let FunctionArguments::List(list) = &function.args else {
            return Err(SqlError::invalid(format!("{name} needs arguments")));
        };
        if !list.clauses.is_empty() {
            return Err(SqlError::unsupported(format!("{function}")));
        }
        let star = matches!(
            list.args.as_slice(),
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
        );
        let args: Vec<Expr> = list
            .args
            .iter()
            .filter_map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
                _ => None,
            })
            .collect();
        if !star && args.len() != list.args.len() {
            return Err(SqlError::unsupported(format!("{function}")));
        }
        Ok(Call {
            name,
            args,
            star,
            distinct: matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
        })
    }

    /// The wrong-arity error Druid gives.
    pub fn arity_error(&self) -> SqlError {
        SqlError::invalid(format!(
            "Invalid number of arguments to function '{}'",
            self.name
        ))
    }

    /// The column (real or virtual) holding argument `index`, which must not be a constant.
    pub fn column(&self, scope: &mut Scope, index: usize) -> Result<(String, SqlType), SqlError> {
        let expr = self.args.get(index).ok_or_else(|| self.arity_error())?;
        let scalar = scope.scalar(expr)?;
        if matches!(scalar, Scalar::Literal(_)) {
            return Err(SqlError::unsupported(format!(
                "{} of a constant",
                self.name
            )));
        }
        scope.column_for(&scalar)
    }

    /// Argument `index` as a literal, `None` when absent.
    pub fn literal(&self, scope: &Scope, index: usize) -> Result<Option<Lit>, SqlError> {
        let Some(expr) = self.args.get(index) else {
            return Ok(None);
        };
        match scope.scalar(expr)? {
            Scalar::Literal(lit) => Ok(Some(lit)),
            _ => Err(SqlError::invalid(format!(
                "{}: argument {} must be a literal, not {expr}",
                self.name,
                index + 1
            ))),
        }
    }

    /// Argument `index` as a non-negative integer literal, `default` when absent.
    pub fn count_literal(
        &self,
        scope: &Scope,
        index: usize,
        default: u64,
    ) -> Result<u64, SqlError> {
        match self.literal(scope, index)? {
            None => Ok(default),
            Some(Lit::Long(value)) if value >= 0 => Ok(value as u64),
            Some(other) => Err(SqlError::invalid(format!(
                "{}: argument {} must be a non-negative integer, not {}",
                self.name,
                index + 1,
                other.to_json()
            ))),
        }
    }

    /// Checks that the call has between `min` and `max` arguments (and no `*`).
    pub fn expect_args(&self, min: usize, max: usize) -> Result<(), SqlError> {
        if self.star || !(min..=max).contains(&self.args.len()) {
            return Err(self.arity_error());
        }
        Ok(())
    }
}

/// True if `expr` is a call of an aggregate function.
pub fn is_aggregate(expr: &Expr) -> bool {
    match expr {
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            AGGREGATES.contains(&name.as_str())
                || sketch::AGGREGATES.contains(&name.as_str())
                || pick::AGGREGATES.contains(&name.as_str())
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
    let (call, case_condition) = case::to_filter(Call::of(function)?);
    let mut planned = plan_call(scope, &call, name, approximate_count_distinct)?;
    let conditions: Vec<&Expr> = function
        .filter
        .as_deref()
        .into_iter()
        .chain(case_condition.as_ref())
        .collect();
    if conditions.is_empty() {
        return Ok(planned);
    }
    if planned.exact_distinct.is_some() {
        return Err(SqlError::unsupported(
            "a filtered exact COUNT(DISTINCT) (useApproximateCountDistinct false)",
        ));
    }
    let mut filters = Vec::new();
    for condition in conditions {
        filters.push(filter(scope, condition)?);
    }
    let condition = match filters.len() {
        1 => filters.remove(0),
        _ => json!({"type": "and", "fields": filters}),
    };
    for aggregator in &mut planned.aggregators {
        let inner_name = aggregator["name"].clone();
        *aggregator = json!({
            "type": "filtered", "aggregator": aggregator.clone(),
            "filter": condition, "name": inner_name,
        });
    }
    Ok(planned)
}

fn plan_call(
    scope: &mut Scope,
    call: &Call,
    name: &str,
    approximate_count_distinct: bool,
) -> Result<PlannedAggregate, SqlError> {
    if let Some(planned) = sketch::plan(scope, call, name)? {
        return Ok(planned);
    }
    if let Some(planned) = pick::plan(scope, call, name)? {
        return Ok(planned);
    }
    let function_name = call.name.as_str();
    let planned = match (function_name, call.star, call.distinct) {
        ("COUNT", true, false) => single(json!({"type": "count", "name": name}), SqlType::Bigint),
        // COUNT of a non-null constant counts every row, as Calcite folds it.
        ("COUNT", false, false) if constant_not_null(scope, call) => {
            single(json!({"type": "count", "name": name}), SqlType::Bigint)
        }
        ("COUNT", false, false) => {
            call.expect_args(1, 1)?;
            let (column, _) = call.column(scope, 0)?;
            single(non_null_count(name, &column), SqlType::Bigint)
        }
        ("COUNT", false, true) if !approximate_count_distinct => {
            call.expect_args(1, 1)?;
            let (column, kind) = call.column(scope, 0)?;
            if let SqlType::Complex(complex) = &kind {
                return Err(SqlError::invalid(format!(
                    "Cannot count distinct values of COMPLEX<{complex}> exactly; \
                     use APPROX_COUNT_DISTINCT"
                )));
            }
            let mut planned = single(non_null_count(name, &column), SqlType::Bigint);
            planned.exact_distinct = Some((column, kind));
            planned
        }
        ("COUNT", false, true)
        | ("APPROX_COUNT_DISTINCT" | "APPROX_COUNT_DISTINCT_BUILTIN", false, _) => {
            call.expect_args(1, 1)?;
            let (column, kind) = call.column(scope, 0)?;
            single(distinct_count(name, &column, &kind)?, SqlType::Bigint)
        }
        ("SUM" | "MIN" | "MAX", false, false) => {
            call.expect_args(1, 1)?;
            let (column, kind) = call.column(scope, 0)?;
            let (prefix, sql_type) = numeric_kind(function_name, &kind)?;
            let op = match function_name {
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
            call.expect_args(1, 1)?;
            let (column, kind) = call.column(scope, 0)?;
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
                exact_distinct: None,
            }
        }
        _ => {
            return Err(SqlError::unsupported(format!(
                "aggregate {function_name} in this form"
            )))
        }
    };
    Ok(planned)
}

/// True for `COUNT(<non-null literal>)`.
fn constant_not_null(scope: &Scope, call: &Call) -> bool {
    matches!(call.args.as_slice(), [arg]
        if matches!(scope.scalar(arg), Ok(Scalar::Literal(lit)) if lit != Lit::Null))
}

pub(crate) fn single(aggregator: Value, sql_type: SqlType) -> PlannedAggregate {
    PlannedAggregate {
        aggregators: vec![aggregator],
        post_aggregator: None,
        sql_type,
        exact_distinct: None,
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
pub(crate) fn non_null_count(name: &str, column: &str) -> Value {
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
