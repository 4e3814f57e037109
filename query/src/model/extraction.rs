//! Extraction functions and filtered dimension specs (`docs/querying/dimensionspecs.md`):
//! the value transforms a dimension spec applies before grouping. Supported: `substring`,
//! `regex`, `upper`, `lower`, `strlen`, `timeFormat` (a Joda pattern subset, UTC and fixed
//! offsets), `lookup` with an inline `map`, `registeredLookup` (a lookup registered on the
//! node, by name: `crate::lookup`); and the `listFiltered`, `regexFiltered` and
//! `prefixFiltered` specs. The transforms themselves run in `crate::extract`.

use std::sync::Arc;

use henge_segment::granularity::Granularity;
use henge_segment::time::TimeZone;
use serde_json::Value;

use super::filter::text::RegexPattern;
use super::json::{type_id, Fields};
use crate::error::QueryError;
use crate::extract::{parse_time_pattern, parse_zone, TimePattern};
use crate::lookup::LookupMap;
use crate::parse::Limits;

const EXTRACTION_FN_CLASS: &str = "org.apache.druid.query.extraction.ExtractionFn";
const LOOKUP_CLASS: &str = "org.apache.druid.query.lookup.LookupExtractor";

/// One value transform of a dimension spec, applied in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Transform {
    Extract(ExtractionFn),
    /// A filtered spec: values it rejects become null.
    Filter(ValueFilter),
}

/// An extraction function.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExtractionFn {
    /// UTF-16 code units `[index, index + length)` (chars here); null past the end.
    Substring {
        index: usize,
        length: Option<usize>,
    },
    /// Group `index` of the first match; unmatched values are kept, or replaced.
    Regex {
        pattern: RegexPattern,
        index: usize,
        replacement: Option<Option<String>>,
    },
    Upper,
    Lower,
    Strlen,
    TimeFormat {
        pattern: Option<TimePattern>,
        zone: TimeZone,
        granularity: Option<Granularity>,
        as_millis: bool,
    },
    /// A map lookup (inline, or registered and resolved by name while parsing): missing
    /// values are retained, or replaced (`None`: null).
    Lookup {
        map: LookupMap,
        retain_missing: bool,
        replacement: Option<String>,
    },
}

/// What a filtered dimension spec keeps.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ValueFilter {
    List {
        values: Vec<String>,
        whitelist: bool,
    },
    /// Values the whole pattern matches.
    Regex(RegexPattern),
    Prefix(String),
}

impl ExtractionFn {
    pub(crate) fn parse(value: &Value, limits: &Limits) -> Result<ExtractionFn, QueryError> {
        let fields = Fields::of(value, EXTRACTION_FN_CLASS)?;
        let Some(kind) = type_id(value, "type") else {
            return Err(QueryError::missing_type("type", EXTRACTION_FN_CLASS));
        };
        match kind {
            "substring" => Ok(ExtractionFn::Substring {
                index: to_usize(fields.u64("index")?.unwrap_or(0)),
                length: fields.u64("length")?.map(to_usize),
            }),
            "regex" => {
                let expr = fields.required_string("expr", "expr must not be null")?;
                let pattern = RegexPattern::parse(&expr, limits)?;
                let index = to_usize(fields.u64("index")?.unwrap_or(1));
                if index >= pattern.regex().captures_len() {
                    return Err(QueryError::invalid_query("index must be <= group count"));
                }
                let replacement = (fields.bool("replaceMissingValue")? == Some(true))
                    .then(|| fields.string("replaceMissingValueWith"))
                    .transpose()?;
                Ok(ExtractionFn::Regex {
                    pattern,
                    index,
                    replacement,
                })
            }
            "upper" => Ok(ExtractionFn::Upper),
            "lower" => Ok(ExtractionFn::Lower),
            "strlen" => Ok(ExtractionFn::Strlen),
            "timeFormat" => {
                let pattern = fields
                    .string("format")?
                    .map(|format| parse_time_pattern(&format))
                    .transpose()?;
                let zone = match fields.string("timeZone")? {
                    Some(zone) => parse_zone(&zone)?,
                    None => TimeZone::Utc,
                };
                let granularity = match fields.get("granularity") {
                    None | Some(Value::Null) => None,
                    Some(granularity) => {
                        Some(Granularity::from_json(granularity).map_err(QueryError::unsupported)?)
                    }
                };
                Ok(ExtractionFn::TimeFormat {
                    pattern,
                    zone,
                    granularity,
                    as_millis: fields.bool("asMillis")?.unwrap_or(false),
                })
            }
            "lookup" => {
                let lookup = fields
                    .get("lookup")
                    .ok_or_else(|| QueryError::invalid_query("lookup must not be null"))?;
                let (retain_missing, replacement) = parse_missing(&fields)?;
                Ok(ExtractionFn::Lookup {
                    map: parse_map_lookup(lookup, limits)?,
                    retain_missing,
                    replacement,
                })
            }
            "registeredLookup" => {
                let name = fields.required_string("lookup", "lookup must not be null")?;
                let (retain_missing, replacement) = parse_missing(&fields)?;
                Ok(ExtractionFn::Lookup {
                    map: limits.lookups.resolve(&name)?,
                    retain_missing,
                    replacement,
                })
            }
            known @ ("partial" | "searchQuery" | "time" | "javascript" | "cascade"
            | "stringFormat" | "bucket") => Err(QueryError::unsupported(format!(
                "extraction function [{known}] is not supported yet"
            ))),
            unknown => Err(QueryError::unknown_type(
                unknown,
                EXTRACTION_FN_CLASS,
                &[
                    "bucket",
                    "cascade",
                    "javascript",
                    "lookup",
                    "lower",
                    "partial",
                    "regex",
                    "registeredLookup",
                    "searchQuery",
                    "stringFormat",
                    "strlen",
                    "substring",
                    "time",
                    "timeFormat",
                    "upper",
                ],
            )),
        }
    }
}

/// `retainMissingValue` and `replaceMissingValueWith` (`""` is null); both at once is invalid.
pub(crate) fn parse_missing(fields: &Fields<'_>) -> Result<(bool, Option<String>), QueryError> {
    let retain_missing = fields.bool("retainMissingValue")?.unwrap_or(false);
    let replacement = fields
        .string("replaceMissingValueWith")?
        .filter(|text| !text.is_empty());
    if retain_missing && replacement.is_some() {
        return Err(QueryError::invalid_query(
            "Cannot specify a [replaceMissingValueWith] and set [retainMissingValue] to true",
        ));
    }
    Ok((retain_missing, replacement))
}

/// An inline `{"type": "map", "map": {...}}` lookup.
pub(crate) fn parse_map_lookup(value: &Value, limits: &Limits) -> Result<LookupMap, QueryError> {
    let fields = Fields::of(value, LOOKUP_CLASS)?;
    match type_id(value, "type") {
        Some("map") => {}
        Some(other) => {
            return Err(QueryError::unsupported(format!(
                "lookup type [{other}] is not supported; use an inline map"
            )))
        }
        None => return Err(QueryError::missing_type("type", LOOKUP_CLASS)),
    }
    let Some(Value::Object(entries)) = fields.get("map") else {
        return Err(QueryError::invalid_query("map must be an object"));
    };
    limits.check_values("lookup map", entries.len())?;
    let map = entries
        .iter()
        .map(|(key, value)| Ok((key.clone(), super::json::scalar_string(value, "map")?)))
        .collect::<Result<_, QueryError>>()?;
    Ok(Arc::new(map))
}

impl ValueFilter {
    /// The filter of a `listFiltered`, `regexFiltered` or `prefixFiltered` spec.
    pub(crate) fn parse(
        kind: &str,
        fields: &Fields<'_>,
        limits: &Limits,
    ) -> Result<ValueFilter, QueryError> {
        match kind {
            "listFiltered" => {
                let values = fields
                    .array("values")?
                    .iter()
                    .map(|value| super::json::scalar_string(value, "values"))
                    .collect::<Result<Vec<_>, _>>()?;
                limits.check_values("listFiltered", values.len())?;
                Ok(ValueFilter::List {
                    values,
                    whitelist: fields.bool("isWhitelist")?.unwrap_or(true),
                })
            }
            "regexFiltered" => {
                let pattern = fields.required_string("pattern", "pattern must not be null")?;
                Ok(ValueFilter::Regex(RegexPattern::parse(
                    &format!("^(?:{pattern})$"),
                    limits,
                )?))
            }
            _ => Ok(ValueFilter::Prefix(
                fields.required_string("prefix", "prefix must not be null")?,
            )),
        }
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
