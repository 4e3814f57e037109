//! The static output type of an expression (Druid's `Expr.getOutputType`), used for virtual
//! columns without `outputType`: literals and inputs have their types, arithmetic follows
//! `ExpressionTypeConversion.operator` (two strings stay strings, two longs stay longs, else
//! double), comparisons and logic are longs, and each function has its return rule.

use super::function::{Compiled, Func};
use super::{BinaryOp, Eval, Node, UnaryOp};

/// A scalar expression type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueType {
    Long,
    Double,
    String,
}

/// `operator`: strings with strings stay strings, longs with longs stay longs, else double;
/// an unknown side takes the other's type.
fn operator(left: Option<ValueType>, right: Option<ValueType>) -> Option<ValueType> {
    match (left, right) {
        (None, other) | (other, None) => other,
        (Some(ValueType::String), Some(ValueType::String)) => Some(ValueType::String),
        (Some(ValueType::Long), Some(ValueType::Long)) => Some(ValueType::Long),
        _ => Some(ValueType::Double),
    }
}

/// `function`: any string makes a string, longs stay longs, else double.
fn function(left: Option<ValueType>, right: Option<ValueType>) -> Option<ValueType> {
    match (left, right) {
        (None, other) | (other, None) => other,
        (Some(ValueType::String), _) | (_, Some(ValueType::String)) => Some(ValueType::String),
        (Some(ValueType::Long), Some(ValueType::Long)) => Some(ValueType::Long),
        _ => Some(ValueType::Double),
    }
}

pub(super) fn infer(node: &Node, input: &dyn Fn(usize) -> Option<ValueType>) -> Option<ValueType> {
    let all = |nodes: &[Node]| {
        nodes
            .iter()
            .map(|node| infer(node, input))
            .fold(None, function)
    };
    match node {
        Node::Literal(Eval::Null) => None,
        Node::Literal(Eval::Long(_)) => Some(ValueType::Long),
        Node::Literal(Eval::Double(_)) => Some(ValueType::Double),
        Node::Literal(Eval::Str(_)) => Some(ValueType::String),
        Node::Identifier(index) => input(*index),
        Node::Unary(UnaryOp::Not, _) => Some(ValueType::Long),
        Node::Unary(UnaryOp::Minus, operand) => infer(operand, input),
        Node::Binary(op, left, right) => match op {
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Pow => operator(infer(left, input), infer(right, input)),
            _ => Some(ValueType::Long),
        },
        Node::Call {
            func: Func::TimestampExtract,
            compiled: Some(compiled),
            ..
        } if matches!(&**compiled, Compiled::Time(args) if args.extracts_double()) => {
            Some(ValueType::Double)
        }
        Node::Call { func, args, .. } => match func {
            Func::Cast => match args.get(1) {
                Some(Node::Literal(Eval::Str(target))) => {
                    match target.to_ascii_uppercase().as_str() {
                        "LONG" => Some(ValueType::Long),
                        "STRING" => Some(ValueType::String),
                        _ => Some(ValueType::Double),
                    }
                }
                _ => None,
            },
            Func::If => function(infer(&args[1], input), infer(&args[2], input)),
            Func::Nvl | Func::Coalesce | Func::Greatest | Func::Least => all(args),
            Func::CaseSearched => {
                let results: Vec<Node> = args
                    .chunks(2)
                    .map(|pair| pair.last().cloned().unwrap_or(Node::Literal(Eval::Null)))
                    .collect();
                all(&results)
            }
            Func::CaseSimple => {
                let results: Vec<Node> = args[1..]
                    .chunks(2)
                    .map(|pair| pair.last().cloned().unwrap_or(Node::Literal(Eval::Null)))
                    .collect();
                all(&results)
            }
            Func::Abs | Func::Round => match infer(&args[0], input) {
                Some(ValueType::Long) => Some(ValueType::Long),
                _ => Some(ValueType::Double),
            },
            Func::Max | Func::Min | Func::SafeDivide => {
                operator(infer(&args[0], input), infer(&args[1], input))
            }
            Func::Ceil
            | Func::Floor
            | Func::Pow
            | Func::Sqrt
            | Func::Exp
            | Func::Log
            | Func::Log10
            | Func::Sin
            | Func::Cos
            | Func::Tan
            | Func::Signum
            | Func::Math(_)
            | Func::Math2(_)
            | Func::Pi => Some(ValueType::Double),
            Func::IsNull
            | Func::NotNull
            | Func::Div
            | Func::Strlen
            | Func::Strpos
            | Func::Like
            | Func::RegexpLike
            | Func::ContainsString
            | Func::IcontainsString
            | Func::ParseLong
            | Func::Timestamp
            | Func::UnixTimestamp
            | Func::TimestampFloor
            | Func::TimestampCeil
            | Func::TimestampShift
            | Func::TimestampExtract
            | Func::TimestampParse
            | Func::SubtractMonths => Some(ValueType::Long),
            Func::Concat
            | Func::Substring
            | Func::Left
            | Func::Right
            | Func::Lower
            | Func::Upper
            | Func::Trim
            | Func::Ltrim
            | Func::Rtrim
            | Func::Replace
            | Func::Reverse
            | Func::Repeat
            | Func::Lpad
            | Func::Rpad
            | Func::RegexpExtract
            | Func::RegexpReplace
            | Func::Lookup
            | Func::TimestampFormat => Some(ValueType::String),
        },
    }
}
