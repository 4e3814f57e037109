//! Vectorized evaluation of numeric expressions over a batch of rows: each node produces a
//! dense [`Vector`] (values plus null flags) instead of one [`Eval`] per row. It covers
//! literals, numeric inputs, every operator and the numeric functions whose result type does
//! not depend on the row (math, `isnull`/`notnull`, `timestamp_floor`/`ceil`); [`supports`]
//! says whether a tree qualifies. Results equal the row-by-row evaluator's on every row; a
//! batch that fails (say a long division by zero that `&&` would have skipped) must be
//! re-evaluated row by row by the caller, which then reports the error only if it is real.

use super::eval::java_compare;
use super::function::{Compiled, Func};
use super::{BinaryOp, Eval, Node, UnaryOp};
use crate::error::QueryError;

/// The values of a batch, all of one type.
#[derive(Clone, Debug)]
pub(crate) enum Values {
    Long(Vec<i64>),
    Double(Vec<f64>),
}

/// One value per row of a batch and whether it is null (null rows hold 0).
#[derive(Clone, Debug)]
pub(crate) struct Vector {
    pub(crate) values: Values,
    pub(crate) nulls: Vec<bool>,
}

impl Vector {
    pub(crate) fn longs(values: Vec<i64>, nulls: Vec<bool>) -> Vector {
        Vector {
            values: Values::Long(values),
            nulls,
        }
    }

    pub(crate) fn doubles(values: Vec<f64>, nulls: Vec<bool>) -> Vector {
        Vector {
            values: Values::Double(values),
            nulls,
        }
    }

    /// A batch of nulls.
    pub(crate) fn null(len: usize) -> Vector {
        Vector::longs(vec![0; len], vec![true; len])
    }

    pub(crate) fn len(&self) -> usize {
        self.nulls.len()
    }

    /// The value of one row.
    pub(crate) fn get(&self, row: usize) -> Eval {
        if self.nulls[row] {
            return Eval::Null;
        }
        match &self.values {
            Values::Long(values) => Eval::Long(values[row]),
            Values::Double(values) => Eval::Double(values[row]),
        }
    }

    fn as_doubles(&self) -> Vec<f64> {
        match &self.values {
            Values::Long(values) => values.iter().map(|&value| value as f64).collect(),
            Values::Double(values) => values.clone(),
        }
    }

    /// Druid's truthiness of each row (false for nulls).
    fn truthy(&self) -> Vec<bool> {
        match &self.values {
            Values::Long(values) => values.iter().map(|&value| value > 0).collect(),
            Values::Double(values) => values.iter().map(|&value| value > 0.0).collect(),
        }
    }
}

/// Whether `node` can be evaluated by [`eval`], given which inputs are numeric.
pub(crate) fn supports(node: &Node, numeric_input: &dyn Fn(usize) -> bool) -> bool {
    match node {
        Node::Literal(value) => !matches!(value, Eval::Str(_)),
        Node::Identifier(index) => numeric_input(*index),
        Node::Unary(_, operand) => supports(operand, numeric_input),
        Node::Binary(_, left, right) => {
            supports(left, numeric_input) && supports(right, numeric_input)
        }
        Node::Call { func, args, .. } => {
            let numeric = matches!(
                func,
                Func::Abs
                    | Func::Ceil
                    | Func::Floor
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
                    | Func::Pow
                    | Func::IsNull
                    | Func::NotNull
            );
            let time = matches!(func, Func::TimestampFloor | Func::TimestampCeil);
            (numeric && args.iter().all(|arg| supports(arg, numeric_input)))
                || (time && supports(&args[0], numeric_input))
        }
    }
}

/// Evaluates a supported tree over `len` rows whose inputs are `inputs`.
pub(crate) fn eval(node: &Node, inputs: &[Vector], len: usize) -> Result<Vector, QueryError> {
    Ok(match node {
        Node::Literal(Eval::Long(value)) => Vector::longs(vec![*value; len], vec![false; len]),
        Node::Literal(Eval::Double(value)) => Vector::doubles(vec![*value; len], vec![false; len]),
        Node::Literal(_) => Vector::null(len),
        Node::Identifier(index) => inputs[*index].clone(),
        Node::Unary(op, operand) => {
            let mut vector = eval(operand, inputs, len)?;
            match op {
                UnaryOp::Minus => match &mut vector.values {
                    Values::Long(values) => values.iter_mut().for_each(|v| *v = v.wrapping_neg()),
                    Values::Double(values) => values.iter_mut().for_each(|v| *v = -*v),
                },
                UnaryOp::Not => {
                    let values = vector.truthy().iter().map(|&t| i64::from(!t)).collect();
                    vector.values = Values::Long(values);
                }
            }
            vector
        }
        Node::Binary(op, left, right) => {
            let left = eval(left, inputs, len)?;
            let right = eval(right, inputs, len)?;
            binary(*op, &left, &right)?
        }
        Node::Call {
            func,
            args,
            compiled,
        } => call(*func, args, compiled.as_deref(), inputs, len)?,
    })
}

fn binary(op: BinaryOp, left: &Vector, right: &Vector) -> Result<Vector, QueryError> {
    let len = left.nulls.len();
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        let (left_true, right_true) = (left.truthy(), right.truthy());
        let mut values = vec![0; len];
        let mut nulls = vec![false; len];
        for row in 0..len {
            let l = (!left.nulls[row]).then_some(left_true[row]);
            let r = (!right.nulls[row]).then_some(right_true[row]);
            let result = if op == BinaryOp::And {
                match (l, r) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            } else {
                match (l, r) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            };
            match result {
                Some(result) => values[row] = i64::from(result),
                None => nulls[row] = true,
            }
        }
        return Ok(Vector::longs(values, nulls));
    }
    let nulls: Vec<bool> = (0..len)
        .map(|row| left.nulls[row] || right.nulls[row])
        .collect();
    let comparison = |ordering: std::cmp::Ordering| -> i64 {
        use std::cmp::Ordering::{Equal, Greater, Less};
        i64::from(match op {
            BinaryOp::Lt => ordering == Less,
            BinaryOp::Le => ordering != Greater,
            BinaryOp::Gt => ordering == Greater,
            BinaryOp::Ge => ordering != Less,
            BinaryOp::Eq => ordering == Equal,
            _ => ordering != Equal,
        })
    };
    let is_comparison = matches!(
        op,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
    );
    if let (Values::Long(l), Values::Long(r)) = (&left.values, &right.values) {
        let mut values = vec![0i64; len];
        for row in 0..len {
            if nulls[row] {
                continue;
            }
            let (a, b) = (l[row], r[row]);
            values[row] = match op {
                _ if is_comparison => comparison(a.cmp(&b)),
                BinaryOp::Add => a.wrapping_add(b),
                BinaryOp::Sub => a.wrapping_sub(b),
                BinaryOp::Mul => a.wrapping_mul(b),
                BinaryOp::Div | BinaryOp::Mod => {
                    let scalar = super::eval::binary(op, &Eval::Long(a), &Eval::Long(b))?;
                    scalar.as_long().unwrap_or(0)
                }
                _ => super::eval::long_pow(a, b)?,
            };
        }
        return Ok(Vector::longs(values, nulls));
    }
    let (l, r) = (left.as_doubles(), right.as_doubles());
    if is_comparison {
        let values = (0..len)
            .map(|row| match op {
                BinaryOp::Eq => i64::from(l[row] == r[row]),
                BinaryOp::Ne => i64::from(l[row] != r[row]),
                _ => comparison(java_compare(l[row], r[row])),
            })
            .collect();
        return Ok(Vector::longs(values, nulls));
    }
    let values = (0..len)
        .map(|row| {
            let (a, b) = (l[row], r[row]);
            match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                BinaryOp::Div => a / b,
                BinaryOp::Mod => a % b,
                _ => a.powf(b),
            }
        })
        .collect();
    Ok(Vector::doubles(values, nulls))
}

fn call(
    func: Func,
    args: &[Node],
    compiled: Option<&Compiled>,
    inputs: &[Vector],
    len: usize,
) -> Result<Vector, QueryError> {
    let first = eval(&args[0], inputs, len)?;
    let unary = |function: &dyn Fn(f64) -> f64| {
        let values = first.as_doubles().into_iter().map(function).collect();
        Vector::doubles(values, first.nulls.clone())
    };
    Ok(match func {
        Func::Abs => match &first.values {
            Values::Long(values) => Vector::longs(
                values.iter().map(|v| v.wrapping_abs()).collect(),
                first.nulls.clone(),
            ),
            Values::Double(_) => unary(&f64::abs),
        },
        Func::Ceil => unary(&f64::ceil),
        Func::Floor => unary(&f64::floor),
        Func::Sqrt => unary(&f64::sqrt),
        Func::Exp => unary(&f64::exp),
        Func::Log => unary(&f64::ln),
        Func::Log10 => unary(&f64::log10),
        Func::Sin => unary(&f64::sin),
        Func::Cos => unary(&f64::cos),
        Func::Tan => unary(&f64::tan),
        Func::Signum => unary(&|x| {
            if x == 0.0 || x.is_nan() {
                x
            } else {
                x.signum()
            }
        }),
        Func::Math(function) => unary(&|x| function.apply(x)),
        Func::Pow | Func::Math2(_) => {
            let second = eval(&args[1], inputs, len)?;
            let (base, exponent) = (first.as_doubles(), second.as_doubles());
            let nulls = (0..len)
                .map(|row| first.nulls[row] || second.nulls[row])
                .collect();
            let values = (0..len)
                .map(|row| match func {
                    Func::Math2(function) => function.apply(base[row], exponent[row]),
                    _ => base[row].powf(exponent[row]),
                })
                .collect();
            Vector::doubles(values, nulls)
        }
        Func::IsNull | Func::NotNull => {
            let wanted = func == Func::IsNull;
            let values = first
                .nulls
                .iter()
                .map(|&null| i64::from(null == wanted))
                .collect();
            Vector::longs(values, vec![false; len])
        }
        _ => {
            // timestamp_floor / timestamp_ceil: through the row-by-row function, which
            // reads only its first argument per row.
            let mut values = vec![0i64; len];
            let mut nulls = first.nulls.clone();
            for row in 0..len {
                if nulls[row] {
                    continue;
                }
                let millis = match &first.values {
                    Values::Long(values) => values[row],
                    Values::Double(values) => values[row] as i64,
                };
                match super::function::call_time(func, Eval::Long(millis), compiled)? {
                    Eval::Long(value) => values[row] = value,
                    _ => nulls[row] = true,
                }
            }
            Vector::longs(values, nulls)
        }
    })
}
