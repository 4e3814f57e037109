//! Calcite's `AggregateCaseToFilterRule`, which Druid runs before planning aggregates: an
//! aggregate over a one-branch CASE becomes the aggregate of the branch with a FILTER.
//!
//! - `AGG(CASE WHEN c THEN x [ELSE NULL] END)` → `AGG(x) FILTER (WHERE c)`;
//! - `SUM(CASE WHEN c THEN 1 ELSE 0 END)` → `COUNT(*) FILTER (WHERE c)`;
//! - simple CASE (`CASE v WHEN k THEN ...`) reads as `WHEN v = k`.
//!
//! Other CASE forms stay expressions (virtual columns).

use sqlparser::ast::{BinaryOperator, Expr, Value as SqlValue};

use super::Call;

/// Rewrites `call` when its one argument is a CASE of the forms above, returning the new
/// call and the condition to add to its FILTER.
pub(super) fn to_filter(call: Call) -> (Call, Option<Expr>) {
    let [Expr::Case {
        operand,
        conditions,
        else_result,
        ..
    }] = call.args.as_slice()
    else {
        return (call, None);
    };
    let [when] = conditions.as_slice() else {
        return (call, None);
    };
    let condition = match operand {
        Some(operand) => Expr::BinaryOp {
            left: operand.clone(),
            op: BinaryOperator::Eq,
            right: Box::new(when.condition.clone()),
        },
        None => when.condition.clone(),
    };
    let else_value = else_result.as_deref().map(literal_text);
    let rewritten = match else_value {
        None | Some(Some(LiteralText::Null)) => Call {
            args: vec![when.result.clone()],
            ..call
        },
        Some(Some(LiteralText::Number(zero)))
            if call.name == "SUM"
                && !call.distinct
                && zero == "0"
                && literal_text(&when.result) == Some(LiteralText::Number("1".into())) =>
        {
            Call {
                name: "COUNT".into(),
                args: Vec::new(),
                star: true,
                distinct: false,
            }
        }
        _ => return (call, None),
    };
    (rewritten, Some(condition))
}

#[derive(Debug, PartialEq)]
enum LiteralText {
    Null,
    Number(String),
}

fn literal_text(expr: &Expr) -> Option<LiteralText> {
    match expr {
        Expr::Nested(inner) => literal_text(inner),
        Expr::Value(value) => match &value.value {
            SqlValue::Null => Some(LiteralText::Null),
            SqlValue::Number(text, _) => Some(LiteralText::Number(text.clone())),
            _ => None,
        },
        _ => None,
    }
}
