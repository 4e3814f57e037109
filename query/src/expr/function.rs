//! Built-in functions: [`Func`] names, arity checks and literal compilation at parse time
//! ([`resolve`]), and evaluation ([`call`]). General and math functions live here, string
//! functions in `strings`, time functions in `time`.

mod strings;
mod time;

use std::sync::Arc;

use super::eval::{binary, eval, java_compare};
use super::{runtime_error, BinaryOp, Eval, Node};
use crate::error::QueryError;
use crate::lookup::LookupMap;
use crate::model::filter::text::{LikePattern, RegexPattern};
use crate::parse::Limits;

pub(crate) use self::time::TimeArgs;

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    // General.
    Cast,
    Coalesce,
    If,
    Nvl,
    IsNull,
    NotNull,
    CaseSearched,
    CaseSimple,
    // Math.
    Abs,
    Ceil,
    Floor,
    Round,
    Pow,
    Sqrt,
    Exp,
    Log,
    Log10,
    Sin,
    Cos,
    Tan,
    Signum,
    /// Another one-argument double function.
    Math(MathFn),
    /// A two-argument double function.
    Math2(Math2Fn),
    Greatest,
    Least,
    Max,
    Min,
    Div,
    SafeDivide,
    Pi,
    // Strings.
    Concat,
    Strlen,
    Substring,
    Left,
    Right,
    Lower,
    Upper,
    Trim,
    Ltrim,
    Rtrim,
    Replace,
    Strpos,
    Reverse,
    Repeat,
    Lpad,
    Rpad,
    Like,
    RegexpExtract,
    RegexpLike,
    RegexpReplace,
    ContainsString,
    IcontainsString,
    ParseLong,
    /// `lookup(expr, 'name'[, 'replaceMissingValueWith'])`: a registered lookup.
    Lookup,
    // Time.
    Timestamp,
    UnixTimestamp,
    TimestampFloor,
    TimestampCeil,
    TimestampShift,
    TimestampExtract,
    TimestampParse,
    TimestampFormat,
    SubtractMonths,
}

/// Function names with their arity (minimum, maximum; `usize::MAX`: any).
const FUNCTIONS: &[(&str, Func, usize, usize)] = &[
    ("cast", Func::Cast, 2, 2),
    ("coalesce", Func::Coalesce, 1, usize::MAX),
    ("if", Func::If, 3, 3),
    ("nvl", Func::Nvl, 2, 2),
    ("isnull", Func::IsNull, 1, 1),
    ("notnull", Func::NotNull, 1, 1),
    ("case_searched", Func::CaseSearched, 2, usize::MAX),
    ("case_simple", Func::CaseSimple, 3, usize::MAX),
    ("abs", Func::Abs, 1, 1),
    ("ceil", Func::Ceil, 1, 1),
    ("floor", Func::Floor, 1, 1),
    ("round", Func::Round, 1, 2),
    ("pow", Func::Pow, 2, 2),
    ("sqrt", Func::Sqrt, 1, 1),
    ("exp", Func::Exp, 1, 1),
    ("log", Func::Log, 1, 1),
    ("log10", Func::Log10, 1, 1),
    ("sin", Func::Sin, 1, 1),
    ("cos", Func::Cos, 1, 1),
    ("tan", Func::Tan, 1, 1),
    ("signum", Func::Signum, 1, 1),
    ("acos", Func::Math(MathFn::Acos), 1, 1),
    ("asin", Func::Math(MathFn::Asin), 1, 1),
    ("atan", Func::Math(MathFn::Atan), 1, 1),
    ("cbrt", Func::Math(MathFn::Cbrt), 1, 1),
    ("cosh", Func::Math(MathFn::Cosh), 1, 1),
    ("sinh", Func::Math(MathFn::Sinh), 1, 1),
    ("tanh", Func::Math(MathFn::Tanh), 1, 1),
    ("cot", Func::Math(MathFn::Cot), 1, 1),
    ("expm1", Func::Math(MathFn::Expm1), 1, 1),
    ("log1p", Func::Math(MathFn::Log1p), 1, 1),
    ("todegrees", Func::Math(MathFn::ToDegrees), 1, 1),
    ("toradians", Func::Math(MathFn::ToRadians), 1, 1),
    ("atan2", Func::Math2(Math2Fn::Atan2), 2, 2),
    ("hypot", Func::Math2(Math2Fn::Hypot), 2, 2),
    ("copysign", Func::Math2(Math2Fn::CopySign), 2, 2),
    ("greatest", Func::Greatest, 0, usize::MAX),
    ("least", Func::Least, 0, usize::MAX),
    ("max", Func::Max, 2, 2),
    ("min", Func::Min, 2, 2),
    ("div", Func::Div, 2, 2),
    ("safe_divide", Func::SafeDivide, 2, 2),
    ("pi", Func::Pi, 0, 0),
    ("concat", Func::Concat, 0, usize::MAX),
    ("strlen", Func::Strlen, 1, 1),
    ("substring", Func::Substring, 3, 3),
    ("left", Func::Left, 2, 2),
    ("right", Func::Right, 2, 2),
    ("lower", Func::Lower, 1, 1),
    ("upper", Func::Upper, 1, 1),
    ("trim", Func::Trim, 1, 2),
    ("ltrim", Func::Ltrim, 1, 2),
    ("rtrim", Func::Rtrim, 1, 2),
    ("replace", Func::Replace, 3, 3),
    ("strpos", Func::Strpos, 2, 3),
    ("reverse", Func::Reverse, 1, 1),
    ("repeat", Func::Repeat, 2, 2),
    ("lpad", Func::Lpad, 3, 3),
    ("rpad", Func::Rpad, 3, 3),
    ("like", Func::Like, 2, 3),
    ("regexp_extract", Func::RegexpExtract, 2, 3),
    ("regexp_like", Func::RegexpLike, 2, 2),
    ("regexp_replace", Func::RegexpReplace, 3, 3),
    ("contains_string", Func::ContainsString, 2, 2),
    ("icontains_string", Func::IcontainsString, 2, 2),
    ("parse_long", Func::ParseLong, 1, 2),
    ("lookup", Func::Lookup, 2, 3),
    ("timestamp", Func::Timestamp, 1, 2),
    ("unix_timestamp", Func::UnixTimestamp, 1, 2),
    ("timestamp_floor", Func::TimestampFloor, 2, 4),
    ("timestamp_ceil", Func::TimestampCeil, 2, 4),
    ("timestamp_shift", Func::TimestampShift, 3, 4),
    ("timestamp_extract", Func::TimestampExtract, 2, 3),
    ("timestamp_parse", Func::TimestampParse, 1, 3),
    ("timestamp_format", Func::TimestampFormat, 1, 3),
    ("subtract_months", Func::SubtractMonths, 3, 3),
];

/// One-argument double functions of `java.lang.Math`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MathFn {
    Acos,
    Asin,
    Atan,
    Cbrt,
    Cosh,
    Sinh,
    Tanh,
    Cot,
    Expm1,
    Log1p,
    ToDegrees,
    ToRadians,
}

impl MathFn {
    pub(crate) fn apply(self, x: f64) -> f64 {
        match self {
            MathFn::Acos => x.acos(),
            MathFn::Asin => x.asin(),
            MathFn::Atan => x.atan(),
            MathFn::Cbrt => x.cbrt(),
            MathFn::Cosh => x.cosh(),
            MathFn::Sinh => x.sinh(),
            MathFn::Tanh => x.tanh(),
            MathFn::Cot => x.cos() / x.sin(),
            MathFn::Expm1 => x.exp_m1(),
            MathFn::Log1p => x.ln_1p(),
            MathFn::ToDegrees => x.to_degrees(),
            MathFn::ToRadians => x.to_radians(),
        }
    }
}

/// Two-argument double functions of `java.lang.Math`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Math2Fn {
    Atan2,
    Hypot,
    CopySign,
}

impl Math2Fn {
    pub(crate) fn apply(self, x: f64, y: f64) -> f64 {
        match self {
            Math2Fn::Atan2 => x.atan2(y),
            Math2Fn::Hypot => x.hypot(y),
            Math2Fn::CopySign => x.copysign(y),
        }
    }
}

/// The target of `cast`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CastType {
    Long,
    Double,
    String,
}

/// Literal arguments compiled once at parse time.
#[derive(Debug)]
pub(crate) enum Compiled {
    Cast(CastType),
    Like(LikePattern),
    Regex(RegexPattern),
    /// `contains_string`/`icontains_string`: the needle (lowercased for the latter).
    Needle(String),
    Time(TimeArgs),
    /// `lookup`: the registered map and the replacement of missing values.
    Lookup(LookupMap, Option<String>),
}

/// The function called `name` with these arguments, and its compiled literal arguments.
pub(super) fn resolve(
    name: &str,
    args: &[Node],
    limits: &Limits,
    text: &str,
) -> Result<(Func, Option<Arc<Compiled>>), QueryError> {
    let invalid = |message: String| {
        QueryError::invalid_query(format!("Invalid expression: [{text}]: {message}"))
    };
    let Some(&(_, func, min, max)) = FUNCTIONS.iter().find(|(known, ..)| *known == name) else {
        return Err(invalid(format!("function '{name}' is not defined.")));
    };
    if args.len() < min || args.len() > max {
        let expected = match (min, max) {
            (min, max) if min == max => format!("{min}"),
            (min, usize::MAX) => format!("at least {min}"),
            (min, max) => format!("{min} to {max}"),
        };
        return Err(invalid(format!(
            "Function[{name}] needs {expected} arguments, got {}",
            args.len()
        )));
    }
    let literal = |index: usize| -> Result<Option<String>, QueryError> {
        match args.get(index) {
            None => Ok(None),
            Some(node) if is_constant(node) => Ok(eval(node, &mut |_| Eval::Null)?
                .as_string()
                .map(|text| text.to_string())),
            Some(_) => Err(invalid(format!(
                "Function[{name}] needs argument {} to be a literal",
                index + 1
            ))),
        }
    };
    let compiled = match func {
        Func::Cast => {
            let target = literal(1)?.unwrap_or_default().to_ascii_uppercase();
            Some(Compiled::Cast(match target.as_str() {
                "LONG" => CastType::Long,
                "DOUBLE" | "FLOAT" => CastType::Double,
                "STRING" => CastType::String,
                other => return Err(invalid(format!("Invalid type[{other}] for cast"))),
            }))
        }
        Func::Like => {
            let pattern = literal(1)?.unwrap_or_default();
            let escape = literal(2)?;
            Some(Compiled::Like(LikePattern::parse(
                &pattern,
                escape.as_deref(),
                limits,
            )?))
        }
        Func::RegexpExtract | Func::RegexpLike | Func::RegexpReplace => {
            let pattern = literal(1)?.unwrap_or_default();
            Some(Compiled::Regex(RegexPattern::parse(&pattern, limits)?))
        }
        Func::ContainsString | Func::IcontainsString => {
            let needle = literal(1)?.unwrap_or_default();
            Some(Compiled::Needle(if func == Func::IcontainsString {
                needle.to_lowercase()
            } else {
                needle
            }))
        }
        Func::TimestampFloor
        | Func::TimestampCeil
        | Func::TimestampShift
        | Func::TimestampExtract
        | Func::TimestampParse
        | Func::TimestampFormat
        | Func::Timestamp
        | Func::UnixTimestamp
        | Func::SubtractMonths => Some(Compiled::Time(time::compile(func, &literal)?)),
        Func::Lookup => {
            let name = literal(1)?.unwrap_or_default();
            let replacement = literal(2)?.filter(|text| !text.is_empty());
            Some(Compiled::Lookup(
                limits.lookups.resolve(&name)?,
                replacement,
            ))
        }
        _ => None,
    };
    Ok((func, compiled.map(Arc::new)))
}

/// Whether a node reads no input, so it can be evaluated once at parse time.
fn is_constant(node: &Node) -> bool {
    match node {
        Node::Literal(_) => true,
        Node::Identifier(_) => false,
        Node::Unary(_, operand) => is_constant(operand),
        Node::Binary(_, left, right) => is_constant(left) && is_constant(right),
        Node::Call { args, .. } => args.iter().all(is_constant),
    }
}

type Input<'i> = dyn FnMut(usize) -> Eval + 'i;

/// Evaluates a function call.
pub(super) fn call(
    func: Func,
    args: &[Node],
    compiled: Option<&Compiled>,
    input: &mut Input<'_>,
) -> Result<Eval, QueryError> {
    // Functions that do not evaluate every argument.
    match func {
        Func::If => {
            let branch = if eval(&args[0], input)?.truthy() {
                1
            } else {
                2
            };
            return eval(&args[branch], input);
        }
        Func::Nvl | Func::Coalesce => {
            for arg in args {
                let value = eval(arg, input)?;
                if !value.is_null() {
                    return Ok(value);
                }
            }
            return Ok(Eval::Null);
        }
        Func::CaseSearched => {
            for pair in args.chunks(2) {
                match pair {
                    [condition, result] if eval(condition, input)?.truthy() => {
                        return eval(result, input);
                    }
                    [otherwise] => return eval(otherwise, input),
                    _ => {}
                }
            }
            return Ok(Eval::Null);
        }
        Func::CaseSimple => {
            let subject = eval(&args[0], input)?;
            for pair in args[1..].chunks(2) {
                match pair {
                    [candidate, result] => {
                        let candidate = eval(candidate, input)?;
                        if binary(BinaryOp::Eq, &subject, &candidate)?.truthy() {
                            return eval(result, input);
                        }
                    }
                    [otherwise] => return eval(otherwise, input),
                    _ => {}
                }
            }
            return Ok(Eval::Null);
        }
        _ => {}
    }
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        values.push(eval(arg, input)?);
    }
    match func {
        Func::Cast => Ok(match compiled {
            Some(Compiled::Cast(CastType::Long)) => values[0].cast_long(),
            Some(Compiled::Cast(CastType::Double)) => values[0].cast_double(),
            _ => values[0].cast_string(),
        }),
        Func::IsNull => Ok(Eval::boolean(values[0].is_null())),
        Func::NotNull => Ok(Eval::boolean(!values[0].is_null())),
        Func::Abs => Ok(match &values[0] {
            Eval::Long(value) => Eval::Long(value.wrapping_abs()),
            other => math(other, f64::abs),
        }),
        Func::Ceil => Ok(math(&values[0], f64::ceil)),
        Func::Floor => Ok(math(&values[0], f64::floor)),
        Func::Round => round(&values),
        Func::Sqrt => Ok(math(&values[0], f64::sqrt)),
        Func::Exp => Ok(math(&values[0], f64::exp)),
        Func::Log => Ok(math(&values[0], f64::ln)),
        Func::Log10 => Ok(math(&values[0], f64::log10)),
        Func::Sin => Ok(math(&values[0], f64::sin)),
        Func::Cos => Ok(math(&values[0], f64::cos)),
        Func::Tan => Ok(math(&values[0], f64::tan)),
        Func::Signum => Ok(math(&values[0], |x| {
            if x == 0.0 || x.is_nan() {
                x
            } else {
                x.signum()
            }
        })),
        Func::Pi => Ok(Eval::Double(std::f64::consts::PI)),
        Func::Math(function) => Ok(math(&values[0], |x| function.apply(x))),
        Func::Math2(function) => Ok(match (values[0].as_double(), values[1].as_double()) {
            (Some(x), Some(y)) => Eval::Double(function.apply(x, y)),
            _ => Eval::Null,
        }),
        Func::Pow => Ok(match (values[0].as_double(), values[1].as_double()) {
            (Some(base), Some(exponent)) => Eval::Double(base.powf(exponent)),
            _ => Eval::Null,
        }),
        Func::Max | Func::Min => {
            if values.iter().any(Eval::is_null) {
                return Ok(Eval::Null);
            }
            extreme(&values, func == Func::Max)
        }
        Func::Greatest | Func::Least => extreme(&values, func == Func::Greatest),
        Func::Div => match (&values[0], &values[1]) {
            (Eval::Null, _) | (_, Eval::Null) => Ok(Eval::Null),
            (left, right) => match (left.as_long(), right.as_long()) {
                (Some(_), Some(0)) => {
                    Err(runtime_error("/ by zero", "java.lang.ArithmeticException"))
                }
                (Some(left), Some(right)) => Ok(Eval::Long(left.wrapping_div(right))),
                _ => Ok(Eval::Null),
            },
        },
        Func::SafeDivide => Ok(safe_divide(&values[0], &values[1])),
        Func::Timestamp
        | Func::UnixTimestamp
        | Func::TimestampFloor
        | Func::TimestampCeil
        | Func::TimestampShift
        | Func::TimestampExtract
        | Func::TimestampParse
        | Func::TimestampFormat
        | Func::SubtractMonths => match compiled {
            Some(Compiled::Time(time_args)) => time::call(func, &values, time_args),
            _ => Ok(Eval::Null),
        },
        Func::Lookup => Ok(match compiled {
            Some(Compiled::Lookup(map, replacement)) => lookup(map, replacement, &values[0]),
            _ => Eval::Null,
        }),
        _ => strings::call(func, &values, compiled),
    }
}

/// A value looked up in a registered map: null keys and missing keys give the replacement
/// (null without one), like Druid's `LookupExprMacro` with `retainMissingValue` false.
fn lookup(map: &LookupMap, replacement: &Option<String>, key: &Eval) -> Eval {
    let found = key
        .as_string()
        .and_then(|key| map.get(key.as_ref()))
        .filter(|value| !value.is_empty());
    match found.or(replacement.as_ref()) {
        Some(value) => Eval::string(value.clone()),
        None => Eval::Null,
    }
}

/// `timestamp_floor`/`timestamp_ceil` of one value (batch evaluation reads only that).
pub(super) fn call_time(
    func: Func,
    value: Eval,
    compiled: Option<&Compiled>,
) -> Result<Eval, QueryError> {
    match compiled {
        Some(Compiled::Time(args)) => time::call(func, &[value], args),
        _ => Ok(Eval::Null),
    }
}

/// `safe_divide(x, y)`: `x / y`, or null when `y` is zero (longs divide as longs).
fn safe_divide(left: &Eval, right: &Eval) -> Eval {
    match (left, right) {
        (Eval::Long(left), Eval::Long(right)) => match left.checked_div(*right) {
            Some(quotient) => Eval::Long(quotient),
            None if *right == 0 => Eval::Null,
            None => Eval::Long(left.wrapping_div(*right)),
        },
        _ => match (left.as_double(), right.as_double()) {
            (Some(_), Some(0.0)) => Eval::Null,
            (Some(dividend), Some(divisor)) => Eval::Double(dividend / divisor),
            _ => Eval::Null,
        },
    }
}

/// A double function of a number (longs are widened); null and non-numbers give null.
fn math(value: &Eval, function: impl Fn(f64) -> f64) -> Eval {
    value
        .as_double()
        .map_or(Eval::Null, |value| Eval::Double(function(value)))
}

/// `round(x, [scale])` as Druid computes it with `BigDecimal.setScale(scale, HALF_UP)`:
/// longs stay longs (a negative scale rounds to tens, hundreds...), doubles round their
/// decimal form half away from zero; NaN and infinities pass through.
fn round(values: &[Eval]) -> Result<Eval, QueryError> {
    let scale = match values.get(1) {
        None => 0,
        Some(scale) => match scale.as_long() {
            Some(scale) => scale.clamp(-400, 400) as i32,
            None => return Ok(Eval::Null),
        },
    };
    Ok(match &values[0] {
        Eval::Null => Eval::Null,
        Eval::Long(value) if scale >= 0 => Eval::Long(*value),
        Eval::Long(value) => Eval::Long(round_long(*value, scale.unsigned_abs())),
        other => match other.as_double() {
            None => Eval::Null,
            Some(value) if !value.is_finite() => Eval::Double(value),
            Some(value) => Eval::Double(round_decimal(value, scale)),
        },
    })
}

/// Rounds a long half away from zero to a multiple of `10^digits`.
fn round_long(value: i64, digits: u32) -> i64 {
    let Some(unit) = 10i128.checked_pow(digits) else {
        return 0;
    };
    let value = i128::from(value);
    let (quotient, remainder) = (value / unit, value % unit);
    let rounded = if remainder.abs() * 2 >= unit {
        quotient + value.signum()
    } else {
        quotient
    };
    i64::try_from(rounded * unit).unwrap_or(0)
}

/// Rounds the shortest decimal form of `value` (what `BigDecimal.valueOf` reads) half away
/// from zero to `scale` fractional digits.
fn round_decimal(value: f64, scale: i32) -> f64 {
    let text = format!("{:e}", value.abs());
    let Some((mantissa, exponent)) = text.split_once('e') else {
        return value;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return value;
    };
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // Digits before the decimal point, and how many digits to keep.
    let keep = exponent + 1 + scale;
    if keep >= digits.len() as i32 {
        return value;
    }
    let round_up = keep >= 0 && digits[keep as usize] >= b'5';
    let kept: String = digits[..keep.max(0) as usize]
        .iter()
        .map(|&digit| digit as char)
        .collect();
    let mut number: u128 = kept.parse().unwrap_or(0);
    if round_up {
        number += 1;
    }
    if number == 0 {
        // BigDecimal has no negative zero.
        return 0.0;
    }
    let rounded: f64 = format!("{number}e{}", -scale).parse().unwrap_or(value);
    rounded.copysign(value)
}

/// `greatest`/`least` (and two-argument `max`/`min`): nulls are skipped; strings compare
/// as strings when any argument is a string, longs stay longs, else doubles.
fn extreme(values: &[Eval], greatest: bool) -> Result<Eval, QueryError> {
    let present: Vec<&Eval> = values.iter().filter(|value| !value.is_null()).collect();
    if present.is_empty() {
        return Ok(Eval::Null);
    }
    let wanted = if greatest {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Less
    };
    if present.iter().any(|value| matches!(value, Eval::Str(_))) {
        let texts: Vec<_> = present
            .iter()
            .filter_map(|value| value.as_string())
            .collect();
        let best = texts.iter().skip(1).fold(&texts[0], |best, text| {
            if text.cmp(best) == wanted {
                text
            } else {
                best
            }
        });
        return Ok(Eval::Str(best.clone()));
    }
    if present.iter().all(|value| matches!(value, Eval::Long(_))) {
        let longs = present.iter().filter_map(|value| value.as_long());
        let best = if greatest { longs.max() } else { longs.min() };
        return Ok(best.map_or(Eval::Null, Eval::Long));
    }
    let doubles: Vec<f64> = present
        .iter()
        .filter_map(|value| value.as_double())
        .collect();
    let best = doubles.iter().skip(1).fold(doubles[0], |best, &value| {
        if java_compare(value, best) == wanted {
            value
        } else {
            best
        }
    });
    Ok(Eval::Double(best))
}
