//! String functions. Numbers passed to them are read as their string form; a null string
//! argument makes the result null, except for the matching functions (`like`,
//! `regexp_like`, `contains_string`), for which a null never matches (0), as in Druid.
//! Positions and lengths count characters (Druid counts UTF-16 units; they differ only
//! outside the Basic Multilingual Plane), except `strlen`, which counts UTF-16 units.

use std::sync::Arc;

use super::{Compiled, Func};
use crate::error::QueryError;
use crate::expr::{runtime_error, Eval};

const ILLEGAL_ARGUMENT: &str = "java.lang.IllegalArgumentException";

fn text(value: &Eval) -> Option<Arc<str>> {
    value.as_string()
}

pub(super) fn call(
    func: Func,
    values: &[Eval],
    compiled: Option<&Compiled>,
) -> Result<Eval, QueryError> {
    let first = values.first().and_then(text);
    match func {
        Func::Concat => {
            let mut out = String::new();
            for value in values {
                match text(value) {
                    Some(part) => out.push_str(&part),
                    None => return Ok(Eval::Null),
                }
            }
            return Ok(if values.is_empty() {
                Eval::Null
            } else {
                Eval::string(out)
            });
        }
        Func::Like | Func::RegexpLike | Func::ContainsString | Func::IcontainsString => {
            let Some(value) = first else {
                return Ok(Eval::boolean(false));
            };
            return Ok(Eval::boolean(match compiled {
                Some(Compiled::Like(pattern)) => pattern.matches(&value),
                Some(Compiled::Regex(pattern)) => pattern.matches(&value),
                Some(Compiled::Needle(needle)) if func == Func::IcontainsString => {
                    value.to_lowercase().contains(needle.as_str())
                }
                Some(Compiled::Needle(needle)) => value.contains(needle.as_str()),
                _ => false,
            }));
        }
        _ => {}
    }
    let Some(value) = first else {
        return Ok(Eval::Null);
    };
    let long_arg = |index: usize| values.get(index).and_then(Eval::as_long);
    let text_arg = |index: usize| values.get(index).and_then(text);
    Ok(match func {
        Func::Strlen => Eval::Long(value.encode_utf16().count() as i64),
        Func::Lower => Eval::string(value.to_lowercase()),
        Func::Upper => Eval::string(value.to_uppercase()),
        Func::Reverse => Eval::string(value.chars().rev().collect::<String>()),
        Func::Substring => {
            let (Some(index), Some(length)) = (long_arg(1), long_arg(2)) else {
                return Ok(Eval::Null);
            };
            let chars: Vec<char> = value.chars().collect();
            if index < 0 {
                return Err(runtime_error(
                    format!(
                        "begin {index}, end {}, length {}",
                        index + length,
                        chars.len()
                    ),
                    "java.lang.StringIndexOutOfBoundsException",
                ));
            }
            let index = index as usize;
            if index >= chars.len() {
                return Ok(Eval::Null);
            }
            let end = if length >= 0 {
                index.saturating_add(length as usize).min(chars.len())
            } else {
                chars.len()
            };
            Eval::string(chars[index..end].iter().collect::<String>())
        }
        Func::Left | Func::Right => {
            let Some(count) = long_arg(1) else {
                return Ok(Eval::Null);
            };
            if count < 0 {
                let name = if func == Func::Left { "left" } else { "right" };
                return Err(runtime_error(
                    format!("Function[{name}] needs a positive integer as second argument"),
                    ILLEGAL_ARGUMENT,
                ));
            }
            let chars: Vec<char> = value.chars().collect();
            let count = (count as usize).min(chars.len());
            let kept = if func == Func::Left {
                &chars[..count]
            } else {
                &chars[chars.len() - count..]
            };
            Eval::string(kept.iter().collect::<String>())
        }
        Func::Trim | Func::Ltrim | Func::Rtrim => {
            let chars: Vec<char> = match values.get(1) {
                None => vec![' '],
                Some(set) => match text(set) {
                    Some(set) => set.chars().collect(),
                    None => return Ok(Eval::Null),
                },
            };
            let strip = |c: char| chars.contains(&c);
            Eval::string(match func {
                Func::Trim => value.trim_matches(strip),
                Func::Ltrim => value.trim_start_matches(strip),
                _ => value.trim_end_matches(strip),
            })
        }
        Func::Replace => {
            let (Some(pattern), Some(replacement)) = (text_arg(1), text_arg(2)) else {
                return Ok(Eval::Null);
            };
            Eval::string(value.replace(&*pattern, &replacement))
        }
        Func::Strpos => {
            let Some(needle) = text_arg(1) else {
                return Ok(Eval::Null);
            };
            let from = match values.get(2) {
                None => 0,
                Some(from) => match from.as_long() {
                    Some(from) => from.max(0) as usize,
                    None => return Ok(Eval::Null),
                },
            };
            let start = value.char_indices().nth(from).map(|(byte, _)| byte);
            Eval::Long(
                match start.and_then(|start| value[start..].find(&*needle).map(|at| start + at)) {
                    Some(byte) => value[..byte].chars().count() as i64,
                    None if needle.is_empty() && from >= value.chars().count() => {
                        value.chars().count() as i64
                    }
                    None => -1,
                },
            )
        }
        Func::Repeat => match long_arg(1) {
            Some(times) if times >= 1 => {
                let times = times as usize;
                if value.len().saturating_mul(times) > MAX_STRING_BYTES {
                    return Err(too_long());
                }
                Eval::string(value.repeat(times))
            }
            _ => Eval::Null,
        },
        Func::Lpad | Func::Rpad => {
            let (Some(length), Some(pad)) = (long_arg(1), text_arg(2)) else {
                return Ok(Eval::Null);
            };
            if length <= 0 {
                return Ok(Eval::string(""));
            }
            if length as usize > MAX_STRING_BYTES {
                return Err(too_long());
            }
            Eval::string(pad_to(&value, length as usize, &pad, func == Func::Lpad))
        }
        Func::RegexpExtract => {
            let Some(Compiled::Regex(pattern)) = compiled else {
                return Ok(Eval::Null);
            };
            let group = match values.get(2) {
                None => 0,
                Some(group) => match group.as_long() {
                    Some(group) if group >= 0 => group as usize,
                    _ => return Ok(Eval::Null),
                },
            };
            pattern
                .regex()
                .captures(&value)
                .and_then(|captures| captures.get(group))
                .map_or(Eval::Null, |found| Eval::string(found.as_str()))
        }
        Func::RegexpReplace => {
            let (Some(Compiled::Regex(pattern)), Some(replacement)) = (compiled, text_arg(2))
            else {
                return Ok(Eval::Null);
            };
            Eval::string(
                pattern
                    .regex()
                    .replace_all(&value, &*replacement)
                    .into_owned(),
            )
        }
        Func::ParseLong => {
            let radix = match values.get(1) {
                None => 10,
                Some(radix) => match radix.as_long() {
                    Some(radix @ 2..=36) => radix as u32,
                    _ => return Ok(Eval::Null),
                },
            };
            let digits = if radix == 16 {
                value.trim_start_matches("0x").trim_start_matches("0X")
            } else {
                &value
            };
            i64::from_str_radix(digits, radix).map_or(Eval::Null, Eval::Long)
        }
        _ => Eval::Null,
    })
}

/// Largest string `repeat`, `lpad` and `rpad` may build.
const MAX_STRING_BYTES: usize = 1 << 20;

fn too_long() -> QueryError {
    QueryError::resource_limit(format!(
        "expression result would be longer than {MAX_STRING_BYTES} bytes"
    ))
}

/// Druid's `StringUtils.lpad`/`rpad`: pads to `length` characters with `pad` repeated (no
/// padding when `pad` is empty), or truncates `value` to `length` characters.
fn pad_to(value: &str, length: usize, pad: &str, left: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= length || pad.is_empty() {
        return chars[..length.min(chars.len())].iter().collect();
    }
    let filler: String = pad.chars().cycle().take(length - chars.len()).collect();
    if left {
        filler + value
    } else {
        value.to_owned() + &filler
    }
}
