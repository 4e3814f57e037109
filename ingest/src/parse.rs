//! Parsing one JSON object per line without building a map: each top-level field the schema
//! uses is captured as a borrowed [`RawValue`] in a slot, unknown fields are skipped (or, in
//! schemaless mode, registered as new slots), and values are converted lazily by the column
//! that needs them ([`Scalar`]).

use std::borrow::Cow;
use std::fmt;

use hashbrown::HashMap;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::spec::TimestampFormat;

/// Maps input field names to slots. Fields never registered are skipped while parsing,
/// unless discovery is on, in which case they get a new slot (see [`FieldIndex::parse`]).
pub(crate) struct FieldIndex {
    slots: HashMap<Box<str>, Option<usize>>,
    /// Field name of each slot.
    names: Vec<Box<str>>,
    /// The keys of the last parsed object in order, with their slots: rows usually list
    /// their fields in the same order, so a key is first compared with the one at its
    /// position last time, which is cheaper than hashing it.
    last_order: Vec<(Box<str>, Option<usize>)>,
    discover: bool,
    /// Fields discovered by the last parse, in first-seen order: `(name, slot)`.
    discovered: Vec<(String, usize)>,
}

impl FieldIndex {
    pub(crate) fn new(discover: bool) -> FieldIndex {
        FieldIndex {
            slots: HashMap::new(),
            names: Vec::new(),
            last_order: Vec::new(),
            discover,
            discovered: Vec::new(),
        }
    }

    /// The slot of `name`, registering it if needed.
    pub(crate) fn slot(&mut self, name: &str) -> usize {
        if let Some(Some(slot)) = self.slots.get(name) {
            return *slot;
        }
        let slot = self.names.len();
        self.names.push(name.into());
        self.slots.insert(name.into(), Some(slot));
        slot
    }

    /// The field name of `slot`.
    pub(crate) fn name_of(&self, slot: usize) -> Option<&str> {
        self.names.get(slot).map(|name| &**name)
    }

    /// Marks `name` as never becoming a discovered dimension (unless it already has a slot).
    pub(crate) fn exclude(&mut self, name: &str) {
        self.slots.entry(name.into()).or_insert(None);
    }

    /// Whether unknown fields get slots.
    pub(crate) fn discovers(&self) -> bool {
        self.discover
    }

    /// Fields discovered by the last call to [`FieldIndex::parse`].
    pub(crate) fn discovered(&self) -> &[(String, usize)] {
        &self.discovered
    }

    /// Parses one JSON object into `slots` (resized to the slot count; absent fields are
    /// `None`). On error, `slots` is left in an unspecified state.
    pub(crate) fn parse<'a>(
        &mut self,
        line: &'a str,
        slots: &mut Vec<Option<&'a RawValue>>,
    ) -> Result<(), serde_json::Error> {
        slots.clear();
        slots.resize(self.names.len(), None);
        self.discovered.clear();
        let mut deserializer = serde_json::Deserializer::from_str(line);
        RowSeed { index: self, slots }.deserialize(&mut deserializer)?;
        deserializer.end()
    }
}

/// Empties a vector and reuses its allocation for items of another lifetime (or any type of
/// the same layout), so per-row scratch vectors are allocated once.
pub(crate) fn recycle<T, U>(mut items: Vec<T>) -> Vec<U> {
    items.clear();
    // An in-place collect: with equal layouts the allocation is kept.
    items.into_iter().filter_map(|_| None).collect()
}

struct RowSeed<'i, 's, 'a> {
    index: &'i mut FieldIndex,
    slots: &'s mut Vec<Option<&'a RawValue>>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut position = 0;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let slot = match self.index.last_order.get(position) {
                Some((last_key, slot)) if **last_key == *key => *slot,
                _ => {
                    let slot = match self.index.slots.get(key.as_ref()) {
                        Some(slot) => *slot,
                        None if self.index.discover => {
                            let slot = self.index.slot(&key);
                            self.index.discovered.push((key.to_string(), slot));
                            self.slots.push(None);
                            Some(slot)
                        }
                        None => None,
                    };
                    let order = &mut self.index.last_order;
                    order.truncate(position);
                    order.push((key.as_ref().into(), slot));
                    slot
                }
            };
            position += 1;
            match slot {
                // Duplicate keys: the last one wins, as with Jackson.
                Some(slot) => self.slots[slot] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An object key, borrowed from the input unless it contains escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A JSON value seen by a column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Str(Cow<'a, str>),
    /// A JSON number, as written.
    Number(&'a str),
    Bool(bool),
    /// An array or object, as written.
    Nested(&'a str),
}

impl<'a> Scalar<'a> {
    pub(crate) fn of(raw: Option<&'a RawValue>) -> Scalar<'a> {
        let Some(raw) = raw else {
            return Scalar::Null;
        };
        let text = raw.get();
        match text.as_bytes().first() {
            None | Some(b'n') => Scalar::Null,
            Some(b't') => Scalar::Bool(true),
            Some(b'f') => Scalar::Bool(false),
            Some(b'[' | b'{') => Scalar::Nested(text),
            Some(b'"') => {
                let inner = &text[1..text.len() - 1];
                if inner.contains('\\') {
                    // serde_json validated the escapes already, so this cannot fail.
                    Scalar::Str(Cow::Owned(serde_json::from_str(text).unwrap_or_default()))
                } else {
                    Scalar::Str(Cow::Borrowed(inner))
                }
            }
            Some(_) => Scalar::Number(text),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }

    /// The value for a string column: numbers and nested values as their JSON text,
    /// booleans as `"true"`/`"false"` (Druid's classic string coercion).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Null => None,
            Scalar::Str(text) => Some(text),
            Scalar::Number(text) | Scalar::Nested(text) => Some(text),
            Scalar::Bool(true) => Some("true"),
            Scalar::Bool(false) => Some("false"),
        }
    }

    /// The value for a long column: `Ok(None)` for null (and the empty string), `Err` when
    /// it cannot be converted. Doubles are truncated toward zero; booleans are 1 and 0.
    pub(crate) fn to_long(&self) -> Result<Option<i64>, ()> {
        match self {
            Scalar::Null => Ok(None),
            Scalar::Bool(flag) => Ok(Some(i64::from(*flag))),
            Scalar::Number(text) => parse_long(text).map(Some),
            Scalar::Str(text) if text.trim().is_empty() => Ok(None),
            Scalar::Str(text) => parse_long(text.trim()).map(Some),
            Scalar::Nested(_) => Err(()),
        }
    }

    /// The value for a double column; like [`Scalar::to_long`].
    pub(crate) fn to_double(&self) -> Result<Option<f64>, ()> {
        match self {
            Scalar::Null => Ok(None),
            Scalar::Bool(flag) => Ok(Some(f64::from(u8::from(*flag)))),
            Scalar::Number(text) => text.parse().map(Some).map_err(drop),
            Scalar::Str(text) if text.trim().is_empty() => Ok(None),
            Scalar::Str(text) => text.trim().parse().map(Some).map_err(drop),
            Scalar::Nested(_) => Err(()),
        }
    }

    /// The row timestamp in epoch milliseconds, or `None` when absent or unparseable.
    pub(crate) fn to_timestamp(&self, format: TimestampFormat) -> Option<i64> {
        match self {
            Scalar::Number(text) => format.epoch_to_millis(parse_long(text).ok()?),
            Scalar::Str(text) => {
                let text = text.trim();
                let is_integer = !text.is_empty()
                    && text
                        .strip_prefix('-')
                        .unwrap_or(text)
                        .bytes()
                        .all(|byte| byte.is_ascii_digit());
                match format {
                    TimestampFormat::Iso => henge_segment::time::parse_timestamp(text),
                    TimestampFormat::Auto if !is_integer => {
                        henge_segment::time::parse_timestamp(text)
                    }
                    _ => format.epoch_to_millis(text.parse().ok()?),
                }
            }
            Scalar::Null | Scalar::Bool(_) | Scalar::Nested(_) => None,
        }
    }

    /// The text printed in parse-exception messages.
    pub(crate) fn display(&self) -> &str {
        self.as_str().unwrap_or("null")
    }
}

/// An integer, or a decimal truncated toward zero (NaN and infinities are errors).
fn parse_long(text: &str) -> Result<i64, ()> {
    if let Ok(long) = text.parse::<i64>() {
        return Ok(long);
    }
    match text.parse::<f64>() {
        Ok(double) if double.is_finite() => Ok(double as i64),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all<'a>(index: &mut FieldIndex, line: &'a str) -> Vec<Scalar<'a>> {
        let mut slots = Vec::new();
        index.parse(line, &mut slots).unwrap();
        slots.into_iter().map(Scalar::of).collect()
    }

    #[test]
    fn captures_known_fields_only() {
        let mut index = FieldIndex::new(false);
        assert_eq!(index.slot("a"), 0);
        assert_eq!(index.slot("b"), 1);
        let values = parse_all(
            &mut index,
            r#"{"b": 36, "zzz": {"x": [1]}, "a": "x\"y", "a2": 1}"#,
        );
        assert_eq!(values, [Scalar::Str("x\"y".into()), Scalar::Number("36")]);
        let values = parse_all(&mut index, r#"{"a": null}"#);
        assert_eq!(values, [Scalar::Null, Scalar::Null]);
        let mut slots = Vec::new();
        assert!(index.parse("[1, 2]", &mut slots).is_err());
        assert!(index.parse(r#"{"a": 1"#, &mut slots).is_err());
        assert!(index.parse(r#"{"a": 1} x"#, &mut slots).is_err());
    }

    #[test]
    fn discovers_new_fields_in_order() {
        let mut index = FieldIndex::new(true);
        index.slot("ts");
        index.exclude("skip");
        let values = parse_all(&mut index, r#"{"ts": 1, "b": true, "skip": 2, "a": [1,2]}"#);
        assert_eq!(
            index.discovered(),
            [("b".to_string(), 1), ("a".to_string(), 2)]
        );
        assert_eq!(values[1].as_str(), Some("true"));
        assert_eq!(values[2].as_str(), Some("[1,2]"));
        parse_all(&mut index, r#"{"a": 1, "c": 2}"#);
        assert_eq!(index.discovered(), [("c".to_string(), 3)]);
    }

    #[test]
    fn recycle_keeps_the_allocation() {
        let mut slots: Vec<Option<&RawValue>> = Vec::with_capacity(16);
        slots.push(None);
        let recycled: Vec<Option<&'static RawValue>> = recycle(slots);
        assert!(recycled.is_empty());
        assert_eq!(recycled.capacity(), 16);
    }

    #[test]
    fn conversions() {
        assert_eq!(Scalar::Number("36").to_long(), Ok(Some(36)));
        assert_eq!(Scalar::Number("-2.7").to_long(), Ok(Some(-2)));
        assert_eq!(Scalar::Str(" 12 ".into()).to_long(), Ok(Some(12)));
        assert_eq!(Scalar::Str("".into()).to_long(), Ok(None));
        assert_eq!(Scalar::Str("x".into()).to_long(), Err(()));
        assert_eq!(Scalar::Bool(true).to_long(), Ok(Some(1)));
        assert_eq!(Scalar::Number("1e3").to_double(), Ok(Some(1000.0)));
        assert_eq!(Scalar::Nested("[1]").to_double(), Err(()));
        assert_eq!(Scalar::Number("1.50").as_str(), Some("1.50"));
    }

    #[test]
    fn timestamps() {
        let iso = Scalar::Str("2015-09-12T00:46:58.771Z".into());
        assert_eq!(
            iso.to_timestamp(TimestampFormat::Iso),
            Some(1_442_018_818_771)
        );
        assert_eq!(
            iso.to_timestamp(TimestampFormat::Auto),
            Some(1_442_018_818_771)
        );
        assert_eq!(iso.to_timestamp(TimestampFormat::Millis), None);
        let millis = Scalar::Number("1442018818771");
        assert_eq!(
            millis.to_timestamp(TimestampFormat::Iso),
            Some(1_442_018_818_771)
        );
        assert_eq!(
            millis.to_timestamp(TimestampFormat::Micro),
            Some(1_442_018_818)
        );
        let digits = Scalar::Str("1442018818".into());
        assert_eq!(
            digits.to_timestamp(TimestampFormat::Posix),
            Some(1_442_018_818_000)
        );
        assert_eq!(
            digits.to_timestamp(TimestampFormat::Auto),
            Some(1_442_018_818)
        );
        assert_eq!(
            Scalar::Str("yesterday".into()).to_timestamp(TimestampFormat::Auto),
            None
        );
        assert_eq!(Scalar::Null.to_timestamp(TimestampFormat::Auto), None);
    }
}
