//! Tokens of Druid's expression grammar (`Expr.g4`): identifiers (`[_$a-zA-Z][_$a-zA-Z0-9]*`
//! or `"quoted"` with Java escapes), `'string'` literals with Java escapes, long literals
//! (`[0-9]+`), double literals (`1.`, `1.5`, `1.5e3`, `NaN`, `Infinity`), `null`, operators,
//! parentheses, brackets and commas.

use crate::error::QueryError;

/// One token and the character offset it starts at.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token {
    Identifier(String),
    Str(String),
    Long(i64),
    Double(f64),
    Null,
    /// An operator or punctuation: `+ - * / % ^ < <= > >= == != && || ! ( ) , [ ]`.
    Symbol(&'static str),
}

const SYMBOLS: [&str; 20] = [
    "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "^", "<", ">", "!", "(", ")", ",",
    "[", "]",
];

fn error(text: &str, message: impl std::fmt::Display) -> QueryError {
    QueryError::invalid_query(format!("Invalid expression: [{text}]: {message}"))
}

/// Splits an expression into tokens.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let (token, next) = number(text, &chars, at)?;
            tokens.push(token);
            at = next;
            continue;
        }
        if c == '_' || c == '$' || c.is_ascii_alphabetic() {
            let end = at
                + chars[at..]
                    .iter()
                    .take_while(|&&c| c == '_' || c == '$' || c.is_ascii_alphanumeric())
                    .count();
            let word: String = chars[at..end].iter().collect();
            tokens.push(match word.as_str() {
                "null" => Token::Null,
                "NaN" => Token::Double(f64::NAN),
                "Infinity" => Token::Double(f64::INFINITY),
                _ => Token::Identifier(word),
            });
            at = end;
            continue;
        }
        if c == '"' || c == '\'' {
            let (content, next) = quoted(text, &chars, at)?;
            tokens.push(if c == '"' {
                Token::Identifier(content)
            } else {
                Token::Str(content)
            });
            at = next;
            continue;
        }
        let rest: String = chars[at..(at + 2).min(chars.len())].iter().collect();
        match SYMBOLS.iter().find(|symbol| rest.starts_with(*symbol)) {
            Some(symbol) => {
                tokens.push(Token::Symbol(symbol));
                at += symbol.len();
            }
            None => return Err(error(text, format!("unexpected character '{c}'"))),
        }
    }
    Ok(tokens)
}

/// A long or double literal starting at `start`.
fn number(text: &str, chars: &[char], start: usize) -> Result<(Token, usize), QueryError> {
    let digits = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut end = start + digits(start);
    let mut is_double = false;
    if chars.get(end) == Some(&'.') {
        is_double = true;
        end += 1;
        end += digits(end);
    }
    if is_double && matches!(chars.get(end), Some('e' | 'E')) {
        let sign = usize::from(chars.get(end + 1) == Some(&'-'));
        let exponent = digits(end + 1 + sign);
        if exponent > 0 {
            end += 1 + sign + exponent;
        }
    }
    let literal: String = chars[start..end].iter().collect();
    let token = if is_double {
        Token::Double(
            literal
                .parse()
                .map_err(|_| error(text, format!("bad number {literal}")))?,
        )
    } else {
        Token::Long(
            literal
                .parse()
                .map_err(|_| error(text, format!("number {literal} is out of range")))?,
        )
    };
    Ok((token, end))
}

/// The unescaped content of a quoted string or identifier starting at `start`.
fn quoted(text: &str, chars: &[char], start: usize) -> Result<(String, usize), QueryError> {
    let quote = chars[start];
    let mut out = String::new();
    let mut at = start + 1;
    while at < chars.len() {
        match chars[at] {
            c if c == quote => return Ok((out, at + 1)),
            '\\' => {
                let escaped = chars
                    .get(at + 1)
                    .ok_or_else(|| error(text, "unterminated escape"))?;
                at += 2;
                match escaped {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = chars[at..(at + 4).min(chars.len())].iter().collect();
                        let code = (hex.len() == 4)
                            .then(|| u32::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .ok_or_else(|| error(text, "bad unicode escape"))?;
                        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                        at += 4;
                    }
                    '\'' | '"' | '\\' | '/' => out.push(*escaped),
                    other => return Err(error(text, format!("bad escape \\{other}"))),
                }
            }
            c => {
                out.push(c);
                at += 1;
            }
        }
    }
    Err(error(text, "unterminated quoted text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_literals_and_operators() {
        let tokens = tokenize(r#"x_1 + "a b" >= 'it\'s\u0041' && 2.5e-1 != 10 ^ null"#).unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Identifier("x_1".into()),
                Token::Symbol("+"),
                Token::Identifier("a b".into()),
                Token::Symbol(">="),
                Token::Str("it'sA".into()),
                Token::Symbol("&&"),
                Token::Double(0.25),
                Token::Symbol("!="),
                Token::Long(10),
                Token::Symbol("^"),
                Token::Null,
            ]
        );
        assert_eq!(tokenize("1.").unwrap(), vec![Token::Double(1.0)]);
        assert!(tokenize("'open").is_err());
        assert!(tokenize("99999999999999999999").is_err());
        assert!(tokenize("a # b").is_err());
    }
}
