//! Text patterns of `like`, `regex` and `search` filters: parsed (and length-limited) once
//! per query, then matched against each dictionary value of a string column, or the string
//! form of each numeric value. None of them matches null.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::error::QueryError;
use crate::model::json::{scalar_string, type_id, Fields};
use crate::parse::Limits;

/// Most bytes a compiled regex program may take (the `regex` crate's size limit).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Rejects a `like` or `regex` pattern longer than the limit.
fn check_length(kind: &str, pattern: &str, limits: &Limits) -> Result<(), QueryError> {
    let length = pattern.chars().count();
    if length > limits.max_pattern_length {
        return Err(QueryError::resource_limit(format!(
            "{kind} pattern has {length} characters, more than the limit of {}",
            limits.max_pattern_length
        )));
    }
    Ok(())
}

/// One element of a LIKE pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LikeToken {
    Literal(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters.
    Any,
}

/// A SQL LIKE pattern (`%`, `_`, an optional escape character), matched on whole values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LikePattern {
    tokens: Vec<LikeToken>,
}

impl LikePattern {
    pub(crate) fn parse(
        pattern: &str,
        escape: Option<&str>,
        limits: &Limits,
    ) -> Result<LikePattern, QueryError> {
        check_length("like", pattern, limits)?;
        let escape = match escape {
            None => None,
            Some(escape) => {
                let mut chars = escape.chars();
                match (chars.next(), chars.next()) {
                    (Some(escape), None) => Some(escape),
                    _ => {
                        return Err(QueryError::invalid_query(
                            "Escape must be null or a single character",
                        ))
                    }
                }
            }
        };
        let mut tokens = Vec::new();
        let mut escaping = false;
        for c in pattern.chars() {
            if escaping {
                tokens.push(LikeToken::Literal(c));
                escaping = false;
            } else if Some(c) == escape {
                escaping = true;
            } else if c == '%' {
                // Runs of `%` are one wildcard.
                if tokens.last() != Some(&LikeToken::Any) {
                    tokens.push(LikeToken::Any);
                }
            } else if c == '_' {
                tokens.push(LikeToken::One);
            } else {
                tokens.push(LikeToken::Literal(c));
            }
        }
        Ok(LikePattern { tokens })
    }

    /// Whether the whole of `value` matches: greedy matching with backtracking to the last
    /// `%` only, so the cost is O(len(value) * len(pattern)) at worst.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let chars: Vec<char> = value.chars().collect();
        let (mut at, mut token) = (0usize, 0usize);
        let mut resume: Option<(usize, usize)> = None;
        while at < chars.len() {
            match self.tokens.get(token) {
                Some(LikeToken::Any) => {
                    resume = Some((token, at));
                    token += 1;
                    continue;
                }
                Some(LikeToken::One) => {
                    at += 1;
                    token += 1;
                    continue;
                }
                Some(LikeToken::Literal(c)) if *c == chars[at] => {
                    at += 1;
                    token += 1;
                    continue;
                }
                _ => {}
            }
            match resume {
                Some((any_token, any_at)) => {
                    resume = Some((any_token, any_at + 1));
                    token = any_token + 1;
                    at = any_at + 1;
                }
                None => return false,
            }
        }
        self.tokens[token..]
            .iter()
            .all(|token| *token == LikeToken::Any)
    }
}

/// A compiled `regex` filter pattern; equal when the pattern text is.
#[derive(Clone, Debug)]
pub(crate) struct RegexPattern(Regex);

impl PartialEq for RegexPattern {
    fn eq(&self, other: &RegexPattern) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl RegexPattern {
    pub(crate) fn parse(pattern: &str, limits: &Limits) -> Result<RegexPattern, QueryError> {
        check_length("regex", pattern, limits)?;
        RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(RegexPattern)
            .map_err(|error| {
                QueryError::invalid_query(format!("Invalid regex pattern [{pattern}]: {error}"))
            })
    }

    /// The compiled expression.
    pub(crate) fn regex(&self) -> &Regex {
        &self.0
    }

    /// Java's `Matcher.find()`: the pattern occurs anywhere in `value`.
    pub(crate) fn matches(&self, value: &str) -> bool {
        self.0.is_match(value)
    }
}

/// A search query spec (`contains`, `insensitive_contains`, `fragment`, `regex`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SearchQuery {
    /// Every fragment occurs in the value (one fragment for the `contains` kinds).
    Contains {
        fragments: Vec<String>,
        case_sensitive: bool,
    },
    Regex(RegexPattern),
}

impl SearchQuery {
    pub(crate) fn parse(value: &Value, limits: &Limits) -> Result<SearchQuery, QueryError> {
        const CLASS: &str = "org.apache.druid.query.search.SearchQuerySpec";
        let fields = Fields::of(value, CLASS)?;
        let Some(kind) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", CLASS));
        };
        let case_sensitive = fields.bool("caseSensitive")?.unwrap_or(false);
        let fragments = match kind {
            "contains" | "insensitive_contains" => {
                vec![fields.required_string("value", "value cannot be null")?]
            }
            "fragment" => fields
                .array("values")?
                .iter()
                .map(|value| scalar_string(value, "values"))
                .collect::<Result<Vec<_>, _>>()?,
            "regex" => {
                let pattern = fields.required_string("pattern", "pattern cannot be null")?;
                return RegexPattern::parse(&pattern, limits).map(SearchQuery::Regex);
            }
            "all" => Vec::new(),
            unknown => {
                return Err(QueryError::unknown_type(
                    unknown,
                    CLASS,
                    &[
                        "all",
                        "contains",
                        "fragment",
                        "insensitive_contains",
                        "regex",
                    ],
                ))
            }
        };
        let case_sensitive = case_sensitive && kind != "insensitive_contains";
        Ok(SearchQuery::Contains {
            fragments: if case_sensitive {
                fragments
            } else {
                fragments.iter().map(|text| text.to_lowercase()).collect()
            },
            case_sensitive,
        })
    }

    pub(crate) fn matches(&self, value: &str) -> bool {
        match self {
            SearchQuery::Contains {
                fragments,
                case_sensitive: true,
            } => fragments
                .iter()
                .all(|fragment| value.contains(fragment.as_str())),
            SearchQuery::Contains { fragments, .. } => {
                let lower = value.to_lowercase();
                fragments
                    .iter()
                    .all(|fragment| lower.contains(fragment.as_str()))
            }
            SearchQuery::Regex(pattern) => pattern.matches(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn like(pattern: &str, escape: Option<&str>) -> LikePattern {
        LikePattern::parse(pattern, escape, &Limits::default()).unwrap()
    }

    #[test]
    fn like_patterns_match_whole_values() {
        assert!(like("D%", None).matches("Druid"));
        assert!(!like("D%", None).matches("a Druid"));
        assert!(like("%ui%", None).matches("Druid"));
        assert!(like("_ruid", None).matches("Druid"));
        assert!(!like("_ruid", None).matches("ruid"));
        assert!(like("%", None).matches(""));
        assert!(like("a%b%c", None).matches("aXbYbZc"));
        assert!(!like("a%b%c", None).matches("aXbYbZ"));
        assert!(like("100\\%", Some("\\")).matches("100%"));
        assert!(!like("100\\%", Some("\\")).matches("1000"));
        assert!(like("a!_b", Some("!")).matches("a_b"));
        assert!(!like("a!_b", Some("!")).matches("axb"));
        assert!(like("é_", None).matches("éa"));
        let error = LikePattern::parse("a", Some("ab"), &Limits::default()).unwrap_err();
        assert_eq!(error.status, 400);
    }

    #[test]
    fn patterns_are_length_limited() {
        let limits = Limits {
            max_pattern_length: 3,
            ..Limits::default()
        };
        let error = LikePattern::parse("abcd", None, &limits).unwrap_err();
        assert_eq!(error.error, "Resource limit exceeded");
        assert!(RegexPattern::parse("abcd", &limits).is_err());
        assert!(RegexPattern::parse("(", &Limits::default()).is_err());
    }

    #[test]
    fn search_queries() {
        let parse = |value| SearchQuery::parse(&value, &Limits::default()).unwrap();
        let insensitive = parse(json!({"type": "insensitive_contains", "value": "PP"}));
        assert!(insensitive.matches("Apple"));
        let sensitive = parse(json!({"type": "contains", "value": "PP", "caseSensitive": true}));
        assert!(!sensitive.matches("Apple"));
        let fragment = parse(json!({"type": "fragment", "values": ["a", "N"]}));
        assert!(fragment.matches("Banana"));
        assert!(!fragment.matches("Apple"));
    }
}
