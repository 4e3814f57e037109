//! Evaluating an expression tree: operators with Druid's SQL-compatible null handling (any
//! null operand makes arithmetic and comparisons null) and strict booleans (comparisons,
//! `!`, `&&` and `||` give longs 1/0, `&&`/`||` with three-valued logic).
//!
//! Operand types follow `ExpressionTypeConversion.autoDetect`: two strings stay strings (only
//! `+` concatenates them and comparisons compare them; other arithmetic is an error), two
//! longs stay longs (division by zero is Java's `ArithmeticException`), anything else is
//! computed in doubles.

use std::cmp::Ordering;

use super::function;
use super::{runtime_error, BinaryOp, Eval, Node, UnaryOp};
use crate::error::QueryError;

const ARITHMETIC: &str = "java.lang.ArithmeticException";
const ILLEGAL_ARGUMENT: &str = "java.lang.IllegalArgumentException";

pub(super) fn eval(node: &Node, input: &mut dyn FnMut(usize) -> Eval) -> Result<Eval, QueryError> {
    match node {
        Node::Literal(value) => Ok(value.clone()),
        Node::Identifier(index) => Ok(input(*index)),
        Node::Unary(op, operand) => unary(*op, eval(operand, input)?),
        Node::Binary(BinaryOp::And, left, right) => and(left, right, input),
        Node::Binary(BinaryOp::Or, left, right) => or(left, right, input),
        Node::Binary(op, left, right) => {
            let left = eval(left, input)?;
            let right = eval(right, input)?;
            binary(*op, &left, &right)
        }
        Node::Call {
            func,
            args,
            compiled,
        } => function::call(*func, args, compiled.as_deref(), input),
    }
}

fn unary(op: UnaryOp, value: Eval) -> Result<Eval, QueryError> {
    Ok(match (op, value) {
        (_, Eval::Null) => Eval::Null,
        (UnaryOp::Minus, Eval::Long(value)) => Eval::Long(value.wrapping_neg()),
        (UnaryOp::Minus, Eval::Double(value)) => Eval::Double(-value),
        (UnaryOp::Minus, Eval::Str(_)) => {
            return Err(runtime_error("unsupported type STRING", ILLEGAL_ARGUMENT))
        }
        (UnaryOp::Not, value) => Eval::boolean(!value.truthy()),
    })
}

/// `&&`: false if either side is false, else null if either is null, else true.
fn and(
    left: &Node,
    right: &Node,
    input: &mut dyn FnMut(usize) -> Eval,
) -> Result<Eval, QueryError> {
    let left = eval(left, input)?;
    if !left.is_null() && !left.truthy() {
        return Ok(Eval::boolean(false));
    }
    let right = eval(right, input)?;
    Ok(match (left.is_null(), right.is_null()) {
        (_, false) if !right.truthy() => Eval::boolean(false),
        (false, false) => Eval::boolean(true),
        _ => Eval::Null,
    })
}

/// `||`: true if either side is true, else null if either is null, else false.
fn or(left: &Node, right: &Node, input: &mut dyn FnMut(usize) -> Eval) -> Result<Eval, QueryError> {
    let left = eval(left, input)?;
    if left.truthy() {
        return Ok(Eval::boolean(true));
    }
    let right = eval(right, input)?;
    Ok(match (left.is_null(), right.is_null()) {
        (_, false) if right.truthy() => Eval::boolean(true),
        (false, false) => Eval::boolean(false),
        _ => Eval::Null,
    })
}

/// How two operands are combined.
enum Operands {
    Strings,
    Longs(i64, i64),
    Doubles(f64, f64),
    /// A non-numeric string met a number.
    NumericNull,
}

fn operands(left: &Eval, right: &Eval) -> Operands {
    match (left, right) {
        (Eval::Str(_), Eval::Str(_)) => Operands::Strings,
        (Eval::Long(left), Eval::Long(right)) => Operands::Longs(*left, *right),
        _ => match (left.as_double(), right.as_double()) {
            (Some(left), Some(right)) => Operands::Doubles(left, right),
            _ => Operands::NumericNull,
        },
    }
}

/// A binary operator other than `&&` and `||`.
pub(super) fn binary(op: BinaryOp, left: &Eval, right: &Eval) -> Result<Eval, QueryError> {
    if left.is_null() || right.is_null() {
        return Ok(Eval::Null);
    }
    let comparison = |ordering: Ordering| -> Eval {
        Eval::boolean(match op {
            BinaryOp::Lt => ordering == Ordering::Less,
            BinaryOp::Le => ordering != Ordering::Greater,
            BinaryOp::Gt => ordering == Ordering::Greater,
            BinaryOp::Ge => ordering != Ordering::Less,
            BinaryOp::Eq => ordering == Ordering::Equal,
            _ => ordering != Ordering::Equal,
        })
    };
    let is_comparison = matches!(
        op,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
    );
    match operands(left, right) {
        Operands::NumericNull => Ok(Eval::Null),
        Operands::Strings => {
            let (Eval::Str(l), Eval::Str(r)) = (left, right) else {
                return Ok(Eval::Null);
            };
            if is_comparison {
                return Ok(comparison(l.cmp(r)));
            }
            if op == BinaryOp::Add {
                return Ok(Eval::string(format!("{l}{r}")));
            }
            Err(runtime_error(
                format!(
                    "operator '{}' in expression ('{l}' {} '{r}') is not supported on type STRING.",
                    op.symbol(),
                    op.symbol()
                ),
                ILLEGAL_ARGUMENT,
            ))
        }
        Operands::Longs(l, r) => {
            if is_comparison {
                return Ok(comparison(l.cmp(&r)));
            }
            long_op(op, l, r).map(Eval::Long)
        }
        Operands::Doubles(l, r) => {
            if is_comparison {
                // `==`/`!=` use primitive equality; the order comparisons use Double.compare.
                return Ok(match op {
                    BinaryOp::Eq => Eval::boolean(l == r),
                    BinaryOp::Ne => Eval::boolean(l != r),
                    _ => comparison(java_compare(l, r)),
                });
            }
            Ok(Eval::Double(double_op(op, l, r)))
        }
    }
}

fn long_op(op: BinaryOp, left: i64, right: i64) -> Result<i64, QueryError> {
    Ok(match op {
        BinaryOp::Add => left.wrapping_add(right),
        BinaryOp::Sub => left.wrapping_sub(right),
        BinaryOp::Mul => left.wrapping_mul(right),
        BinaryOp::Div | BinaryOp::Mod if right == 0 => {
            return Err(runtime_error("/ by zero", ARITHMETIC))
        }
        BinaryOp::Div => left.wrapping_div(right),
        BinaryOp::Mod => left.wrapping_rem(right),
        BinaryOp::Pow => long_pow(left, right)?,
        _ => 0,
    })
}

/// Guava's `LongMath.pow(left, Ints.checkedCast(right))`: overflow wraps.
pub(super) fn long_pow(left: i64, right: i64) -> Result<i64, QueryError> {
    let exponent = i32::try_from(right).map_err(|_| {
        runtime_error(
            format!("Out of range: {right}"),
            "java.lang.IllegalArgumentException",
        )
    })?;
    if exponent < 0 {
        return Err(runtime_error(
            format!("exponent ({exponent}) must be >= 0"),
            "java.lang.IllegalArgumentException",
        ));
    }
    Ok(left.wrapping_pow(exponent as u32))
}

fn double_op(op: BinaryOp, left: f64, right: f64) -> f64 {
    match op {
        BinaryOp::Add => left + right,
        BinaryOp::Sub => left - right,
        BinaryOp::Mul => left * right,
        BinaryOp::Div => left / right,
        // Java's `%` on doubles is the truncating remainder, like Rust's.
        BinaryOp::Mod => left % right,
        BinaryOp::Pow => left.powf(right),
        _ => f64::NAN,
    }
}

/// Java's `Double.compare`: -0.0 below 0.0, NaN above everything.
pub(super) fn java_compare(left: f64, right: f64) -> Ordering {
    match (left.is_nan(), right.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => left.total_cmp(&right),
    }
}
