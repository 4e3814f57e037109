//! Registered lookups (`docs/querying/lookups.md`): named key→value maps that queries name
//! instead of inlining (the `registeredLookup` extraction function, `lookup` dimension specs
//! with a `name`, the `lookup(expr, 'name')` expression function).
//!
//! [`Lookups`] is a cheap, shared handle to the maps a node has loaded. The node replaces
//! the whole set when the coordination store changes ([`Lookups::replace_all`]); queries
//! resolve names against it while they are parsed (through [`crate::Limits::lookups`]), so a
//! parsed query holds the maps it uses and never sees a half-applied update. The crate does
//! no I/O: loading the maps is the caller's job.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::error::QueryError;

/// One lookup's map.
pub type LookupMap = Arc<BTreeMap<String, String>>;

/// Lookups by name.
type Table = Arc<BTreeMap<String, LookupMap>>;

/// The lookups loaded on a node, shared by every query parsed there.
#[derive(Clone, Default)]
pub struct Lookups {
    current: Arc<RwLock<Table>>,
}

impl Lookups {
    /// A handle holding `maps` (tests and single-use callers).
    pub fn from_maps(maps: BTreeMap<String, LookupMap>) -> Lookups {
        let lookups = Lookups::default();
        lookups.replace_all(maps);
        lookups
    }

    /// Replaces every loaded lookup at once.
    pub fn replace_all(&self, maps: BTreeMap<String, LookupMap>) {
        let table = Arc::new(maps);
        match self.current.write() {
            Ok(mut current) => *current = table,
            Err(poisoned) => *poisoned.into_inner() = table,
        }
    }

    /// The lookup called `name`, if loaded.
    pub fn get(&self, name: &str) -> Option<LookupMap> {
        self.snapshot().get(name).cloned()
    }

    /// The names of the loaded lookups, sorted.
    pub fn names(&self) -> Vec<String> {
        self.snapshot().keys().cloned().collect()
    }

    /// The lookup called `name`, or Druid's error for an unknown lookup (an
    /// `IllegalStateException` from `RegisteredLookupExtractionFn`, a 500).
    pub(crate) fn resolve(&self, name: &str) -> Result<LookupMap, QueryError> {
        self.get(name).ok_or_else(|| {
            QueryError::unknown(
                format!("Lookup [{name}] not found"),
                "org.apache.druid.java.util.common.ISE",
            )
        })
    }

    fn snapshot(&self) -> Table {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

impl fmt::Debug for Lookups {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("Lookups")
            .field(&self.names())
            .finish()
    }
}

/// Two handles are equal when they share their maps (so [`crate::Limits`] stays comparable).
impl PartialEq for Lookups {
    fn eq(&self, other: &Lookups) -> bool {
        Arc::ptr_eq(&self.current, &other.current)
    }
}

impl Eq for Lookups {}

/// The map of a registered lookup's `lookupExtractorFactory`: only Druid's `map` type
/// (`{"type": "map", "map": {...}}`) is supported; values must be strings (numbers and
/// booleans are taken as their text, `null` is left out).
pub fn parse_lookup_factory(factory: &Value) -> Result<BTreeMap<String, String>, QueryError> {
    let Value::Object(fields) = factory else {
        return Err(QueryError::invalid_query(
            "lookupExtractorFactory must be an object",
        ));
    };
    match fields.get("type").and_then(Value::as_str) {
        Some("map") => {}
        Some(other) => {
            return Err(QueryError::unsupported(format!(
                "lookupExtractorFactory type [{other}] is not supported; only [map] is"
            )))
        }
        None => {
            return Err(QueryError::invalid_query(
                "lookupExtractorFactory needs a type",
            ))
        }
    }
    let Some(Value::Object(entries)) = fields.get("map") else {
        return Err(QueryError::invalid_query("map must be an object"));
    };
    let mut map = BTreeMap::new();
    for (key, value) in entries {
        let text = match value {
            Value::Null => continue,
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            _ => {
                return Err(QueryError::invalid_query(format!(
                    "map value of key [{key}] must be a string"
                )))
            }
        };
        map.insert(key.clone(), text);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replacing_swaps_every_lookup_at_once() {
        let lookups = Lookups::default();
        assert!(lookups.resolve("a").is_err());
        let map: LookupMap = Arc::new(BTreeMap::from([("k".to_owned(), "v".to_owned())]));
        lookups.replace_all(BTreeMap::from([("a".to_owned(), map)]));
        let clone = lookups.clone();
        assert_eq!(clone.get("a").unwrap().get("k").unwrap(), "v");
        assert_eq!(clone.names(), ["a"]);
        lookups.replace_all(BTreeMap::new());
        let error = clone.resolve("a").unwrap_err();
        assert_eq!(error.error_message, "Lookup [a] not found");
        assert_eq!(lookups, clone);
        assert_ne!(lookups, Lookups::default());
    }

    #[test]
    fn only_map_factories_parse() {
        let map =
            parse_lookup_factory(&json!({"type": "map", "map": {"a": "A", "b": 2, "c": null}}))
                .unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["b"], "2");
        let error = parse_lookup_factory(&json!({"type": "cachedNamespace"})).unwrap_err();
        assert_eq!(error.status, 501);
        assert!(parse_lookup_factory(&json!({"type": "map"})).is_err());
        assert!(parse_lookup_factory(&json!({"type": "map", "map": {"a": [1]}})).is_err());
        assert!(parse_lookup_factory(&json!("map")).is_err());
    }
}
