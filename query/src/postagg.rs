//! Evaluating post-aggregators on one result row, after merging: over the intermediate
//! aggregator values (as Druid's toolchests do before finalizing), each post-aggregator seeing
//! the ones before it. Also the post-aggregator orderings used to rank topN entries and sort
//! groupBy rows. Sketch post-aggregators are evaluated in `sketch`.

mod sketch;

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::expr::Eval;
use crate::model::aggregator::AggregatorSpec;
use crate::model::post_aggregator::{ArithmeticOp, PostAggSpec, PostAggregator};
use crate::value::{compare_values, AggValue};

/// The values of `posts` for one row whose aggregator values are `values`.
pub(crate) fn compute_all(
    posts: &[PostAggSpec],
    aggregators: &[AggregatorSpec],
    values: &[AggValue],
) -> Vec<AggValue> {
    let mut computed: Vec<AggValue> = Vec::with_capacity(posts.len());
    for post in posts {
        let value = {
            let row = Row {
                aggregators,
                values,
                posts: &posts[..computed.len()],
                computed: &computed,
            };
            row.eval(&post.post)
        };
        computed.push(value);
    }
    computed
}

/// The names and values visible to a post-aggregator.
struct Row<'r> {
    aggregators: &'r [AggregatorSpec],
    values: &'r [AggValue],
    posts: &'r [PostAggSpec],
    computed: &'r [AggValue],
}

impl Row<'_> {
    fn eval(&self, post: &PostAggregator) -> AggValue {
        match post {
            PostAggregator::Constant(value) => value.clone(),
            PostAggregator::FieldAccess { field, finalizing } => self.field(field, *finalizing),
            PostAggregator::Arithmetic { op, fields, .. } => {
                let mut operands = fields.iter().map(|field| self.eval(field).number());
                let Some(Some(mut result)) = operands.next() else {
                    return AggValue::Null;
                };
                for operand in operands {
                    // As in SQL, a null operand makes the result null.
                    let Some(operand) = operand else {
                        return AggValue::Null;
                    };
                    result = apply(*op, result, operand);
                }
                AggValue::Double(result)
            }
            PostAggregator::Expression { expr, .. } => {
                let values: Vec<Eval> = expr
                    .identifiers()
                    .iter()
                    .map(|name| to_eval(self.field(name, true)))
                    .collect();
                // Druid fails the query on an evaluation error; a post-aggregator runs after
                // merging, where this engine has no error path, so the value is null.
                match expr.eval(&mut |index| values[index].clone()) {
                    Ok(Eval::Long(value)) => AggValue::Long(value),
                    Ok(Eval::Double(value)) => AggValue::Double(value),
                    Ok(Eval::Str(text)) => AggValue::Str(text.to_string()),
                    Ok(Eval::Null) | Err(_) => AggValue::Null,
                }
            }
            PostAggregator::Extreme {
                greatest,
                long,
                fields,
            } => {
                let wanted = if *greatest {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                let mut best: Option<AggValue> = None;
                for field in fields {
                    let value = match self.eval(field) {
                        AggValue::Long(value) if *long => AggValue::Long(value),
                        AggValue::Double(value) if *long => AggValue::Long(value as i64),
                        other => match other.number() {
                            Some(number) if !*long => AggValue::Double(number),
                            _ => continue,
                        },
                    };
                    if best
                        .as_ref()
                        .is_none_or(|best| compare_values(&value, best) == wanted)
                    {
                        best = Some(value);
                    }
                }
                best.unwrap_or(AggValue::Null)
            }
            PostAggregator::Sketch { op, fields } => {
                let operands: Vec<AggValue> = fields.iter().map(|field| self.eval(field)).collect();
                sketch::eval(op, operands)
            }
        }
    }

    /// An aggregator's value (finalized when asked) or an earlier post-aggregator's.
    fn field(&self, name: &str, finalizing: bool) -> AggValue {
        if let Some(at) = self.posts.iter().rposition(|post| post.name == name) {
            return self.computed[at].clone();
        }
        match self.aggregators.iter().position(|agg| agg.name == name) {
            Some(at) if finalizing => self.values[at].finalized_for(self.aggregators[at].kind),
            Some(at) => self.values[at].clone(),
            None => AggValue::Null,
        }
    }
}

/// A finalized aggregator or post-aggregator value as an expression input.
fn to_eval(value: AggValue) -> Eval {
    match value {
        AggValue::Null => Eval::Null,
        AggValue::Long(value) => Eval::Long(value),
        AggValue::Double(value) => Eval::Double(value),
        AggValue::Str(text) => Eval::string(text),
        AggValue::Timed(_, inner) => to_eval(*inner),
        mean @ AggValue::Mean { .. } => to_eval(mean.finalized()),
        // Sketches reach expressions finalized (as estimates); raw sketches and quantile
        // arrays have no expression type.
        AggValue::Sketch(_) | AggValue::Doubles(_) => Eval::Null,
    }
}

fn apply(op: ArithmeticOp, left: f64, right: f64) -> f64 {
    match op {
        ArithmeticOp::Plus => left + right,
        ArithmeticOp::Minus => left - right,
        ArithmeticOp::Multiply => left * right,
        ArithmeticOp::Divide if right == 0.0 => 0.0,
        ArithmeticOp::Divide | ArithmeticOp::Quotient => left / right,
        ArithmeticOp::Pow => left.powf(right),
    }
}

/// Compares two values of a post-aggregator with its comparator, nulls first:
/// `numericFirst` arithmetic puts finite numbers above NaN above infinities.
pub(crate) fn compare_post(post: &PostAggregator, left: &AggValue, right: &AggValue) -> Ordering {
    let numeric_first = matches!(
        post,
        PostAggregator::Arithmetic {
            numeric_first: true,
            ..
        } | PostAggregator::Expression {
            numeric_first: true,
            ..
        }
    );
    match (left.number(), right.number()) {
        (Some(left), Some(right)) if numeric_first => match (left.is_finite(), right.is_finite()) {
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => java_compare(left, right),
        },
        _ => compare_values(left, right),
    }
}

/// Java's `Double.compare`: -0.0 below 0.0, NaN above everything.
fn java_compare(left: f64, right: f64) -> Ordering {
    match (left.is_nan(), right.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => left.total_cmp(&right),
    }
}

/// A post-aggregator value in the response: like an aggregator value, except that a
/// `fieldAccess` to a first/last aggregator shows Druid's serialized pair.
pub(crate) fn post_json(value: &AggValue) -> Value {
    match value {
        AggValue::Timed(time, inner) => json!({"lhs": time, "rhs": inner.to_json()}),
        other => other.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_zero_is_zero_but_quotient_is_not() {
        assert_eq!(apply(ArithmeticOp::Divide, 3.0, 0.0), 0.0);
        assert!(apply(ArithmeticOp::Quotient, 3.0, 0.0).is_infinite());
        assert_eq!(apply(ArithmeticOp::Pow, 2.0, 10.0), 1024.0);
    }

    #[test]
    fn numeric_first_orders_finite_values_last() {
        let post = PostAggregator::Arithmetic {
            op: ArithmeticOp::Divide,
            fields: Vec::new(),
            numeric_first: true,
        };
        let mut values = [
            AggValue::Double(f64::INFINITY),
            AggValue::Double(1.0),
            AggValue::Double(f64::NAN),
            AggValue::Null,
            AggValue::Double(-5.0),
        ];
        values.sort_by(|left, right| compare_post(&post, left, right));
        let text: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(
            text,
            [
                "Null",
                "Double(inf)",
                "Double(NaN)",
                "Double(-5.0)",
                "Double(1.0)"
            ]
        );
    }
}
