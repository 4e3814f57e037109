//! Column schema ([`ColumnSpec`]) and row values ([`Value`], [`ValueRef`]), with the
//! coercions the builder applies when a value does not match its column's type.
//!
//! The coercion rules are documented on [`Value`].

use serde::{Deserialize, Serialize};

/// A column's value type, serialized with Druid's type signatures: `"STRING"`, `"LONG"`,
/// `"DOUBLE"`, or `"COMPLEX<name>"` for a column of sketches (see [`ComplexKind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    String,
    Long,
    Double,
    /// Per-row opaque blobs of one sketch kind (a metric column).
    Complex(ComplexKind),
}

impl ColumnType {
    /// Druid's type signature: `"STRING"`, `"LONG"`, `"DOUBLE"` or e.g. `"COMPLEX<HLLSketch>"`.
    pub fn name(&self) -> &'static str {
        match self {
            ColumnType::String => "STRING",
            ColumnType::Long => "LONG",
            ColumnType::Double => "DOUBLE",
            ColumnType::Complex(kind) => kind.signature(),
        }
    }

    /// The type for a signature written by [`ColumnType::name`].
    pub fn from_name(name: &str) -> Option<ColumnType> {
        match name {
            "STRING" => Some(ColumnType::String),
            "LONG" => Some(ColumnType::Long),
            "DOUBLE" => Some(ColumnType::Double),
            other => ComplexKind::ALL
                .into_iter()
                .find(|kind| kind.signature() == other)
                .map(ColumnType::Complex),
        }
    }
}

impl Serialize for ColumnType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ColumnType, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ColumnType::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown column type {name:?}")))
    }
}

/// The sketch held by a complex column, with Druid's complex type names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComplexKind {
    /// `hyperUnique`: an HLL sketch (Henge stores a DataSketches HLL with lgK 11, see
    /// [`crate::sketch`]), built at ingestion, read by `hyperUnique` and `cardinality`.
    HyperUnique,
    /// `HLLSketch`: a DataSketches HLL sketch.
    HllSketch,
    /// `thetaSketch`: a compact DataSketches theta sketch.
    ThetaSketch,
    /// `quantilesDoublesSketch`: a quantiles sketch over doubles (KLL, see [`crate::sketch`]).
    QuantilesDoublesSketch,
}

impl ComplexKind {
    pub const ALL: [ComplexKind; 4] = [
        ComplexKind::HyperUnique,
        ComplexKind::HllSketch,
        ComplexKind::ThetaSketch,
        ComplexKind::QuantilesDoublesSketch,
    ];

    /// Druid's complex type name, e.g. `"HLLSketch"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ComplexKind::HyperUnique => "hyperUnique",
            ComplexKind::HllSketch => "HLLSketch",
            ComplexKind::ThetaSketch => "thetaSketch",
            ComplexKind::QuantilesDoublesSketch => "quantilesDoublesSketch",
        }
    }

    /// Druid's type signature, e.g. `"COMPLEX<HLLSketch>"`.
    pub fn signature(&self) -> &'static str {
        match self {
            ComplexKind::HyperUnique => "COMPLEX<hyperUnique>",
            ComplexKind::HllSketch => "COMPLEX<HLLSketch>",
            ComplexKind::ThetaSketch => "COMPLEX<thetaSketch>",
            ComplexKind::QuantilesDoublesSketch => "COMPLEX<quantilesDoublesSketch>",
        }
    }

    /// The kind's id byte in a complex column blob (`segment/FORMAT.md`).
    pub(crate) fn id(&self) -> u8 {
        match self {
            ComplexKind::HyperUnique => 1,
            ComplexKind::HllSketch => 2,
            ComplexKind::ThetaSketch => 3,
            ComplexKind::QuantilesDoublesSketch => 4,
        }
    }

    pub(crate) fn from_id(id: u8) -> Option<ComplexKind> {
        ComplexKind::ALL.into_iter().find(|kind| kind.id() == id)
    }
}

/// Whether a column is a dimension (part of the sort key, groupable) or a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnRole {
    #[serde(alias = "Dimension")]
    Dimension,
    #[serde(alias = "Metric")]
    Metric,
}

/// One column of a segment's schema (the time column is implicit and not listed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    pub column_type: ColumnType,
    pub role: ColumnRole,
}

impl ColumnSpec {
    pub fn new(name: impl Into<String>, column_type: ColumnType, role: ColumnRole) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            column_type,
            role,
        }
    }

    /// A dimension column.
    pub fn dimension(name: impl Into<String>, column_type: ColumnType) -> ColumnSpec {
        ColumnSpec::new(name, column_type, ColumnRole::Dimension)
    }

    /// A metric column.
    pub fn metric(name: impl Into<String>, column_type: ColumnType) -> ColumnSpec {
        ColumnSpec::new(name, column_type, ColumnRole::Metric)
    }
}

/// An owned cell value.
///
/// Coercions into a column of another type (Druid's, from `DimensionHandlerUtils`):
/// - into a STRING column: a long is written in decimal, a double with Rust's `{:?}` form
///   (`1.0`, `0.25`, `1e20`); the empty string stays distinct from null;
/// - into a LONG column: a double is truncated toward zero (saturating; NaN becomes null);
///   a string is parsed as an integer, else as a float then truncated, else becomes null;
/// - into a DOUBLE column: a long is converted; a string is parsed as a float, else null;
/// - [`Value::Strings`] (a multi-value row, from a JSON array) into a STRING column keeps
///   the list as it is: no values is an empty row (grouped and filtered as null), one value
///   is an ordinary single-value row, more make the column multi-value; into a LONG or
///   DOUBLE column a one-element list is coerced like that element, any other list is null.
/// - only bytes go into a COMPLEX column (anything else is null there), and bytes go only
///   into a COMPLEX column (they are null in any other).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    String(String),
    Long(i64),
    Double(f64),
    /// The values of a multi-value row, in stored order (`None` is a null element).
    Strings(Vec<Option<String>>),
    /// A serialized sketch, for a complex column.
    Bytes(Vec<u8>),
}

impl Value {
    /// Borrows this value as a [`ValueRef`].
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::String(text) => ValueRef::Str(text),
            Value::Long(long) => ValueRef::Long(*long),
            Value::Double(double) => ValueRef::Double(*double),
            Value::Strings(values) => ValueRef::Strings(StringList::Owned(values)),
            Value::Bytes(bytes) => ValueRef::Bytes(bytes),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<i64> for Value {
    fn from(long: i64) -> Value {
        Value::Long(long)
    }
}

impl From<f64> for Value {
    fn from(double: f64) -> Value {
        Value::Double(double)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value_opt: Option<T>) -> Value {
        value_opt.map_or(Value::Null, Into::into)
    }
}

/// A borrowed cell value: what [`crate::SegmentBuilder::push_row_with`] takes, so rows can be
/// pushed without allocating.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    Bytes(&'a [u8]),
    /// A multi-value row (see [`Value::Strings`]).
    Strings(StringList<'a>),
}

/// The borrowed values of a multi-value row: owned strings (from a [`Value::Strings`]) or
/// borrowed ones (from a segment being merged, or a parsed input line).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StringList<'a> {
    Owned(&'a [Option<String>]),
    Borrowed(&'a [Option<&'a str>]),
}

impl<'a> StringList<'a> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            StringList::Owned(values) => values.len(),
            StringList::Borrowed(values) => values.len(),
        }
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index` (`None` for a null element or an index out of range).
    pub fn get(&self, index: usize) -> Option<&'a str> {
        match *self {
            StringList::Owned(values) => values.get(index)?.as_deref(),
            StringList::Borrowed(values) => *values.get(index)?,
        }
    }

    /// The values in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&'a str>> + 'a {
        let list = *self;
        (0..list.len()).map(move |index| list.get(index))
    }
}

impl ValueRef<'_> {
    /// An owned copy.
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Str(text) => Value::String(text.to_string()),
            ValueRef::Long(long) => Value::Long(long),
            ValueRef::Double(double) => Value::Double(double),
            ValueRef::Bytes(bytes) => Value::Bytes(bytes.to_vec()),
            ValueRef::Strings(list) => {
                Value::Strings(list.iter().map(|value| value.map(str::to_owned)).collect())
            }
        }
    }

    /// The single element of a one-element list, else `None` (used to coerce a list into a
    /// numeric column).
    fn single_element(list: StringList<'_>) -> ValueRef<'_> {
        match (list.len(), list.get(0)) {
            (1, Some(text)) => ValueRef::Str(text),
            _ => ValueRef::Null,
        }
    }

    /// This value coerced to a long (see [`Value`]); `None` means null.
    pub fn coerce_long(&self) -> Option<i64> {
        match *self {
            ValueRef::Null | ValueRef::Bytes(_) => None,
            ValueRef::Strings(list) => ValueRef::single_element(list).coerce_long(),
            ValueRef::Long(long) => Some(long),
            ValueRef::Double(double) => double_to_long(double),
            ValueRef::Str(text) => {
                let text = text.trim();
                text.parse::<i64>()
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().and_then(double_to_long))
            }
        }
    }

    /// This value coerced to a double (see [`Value`]); `None` means null.
    pub fn coerce_double(&self) -> Option<f64> {
        match *self {
            ValueRef::Null | ValueRef::Bytes(_) => None,
            ValueRef::Strings(list) => ValueRef::single_element(list).coerce_double(),
            ValueRef::Long(long) => Some(long as f64),
            ValueRef::Double(double) => Some(double),
            ValueRef::Str(text) => text.trim().parse::<f64>().ok(),
        }
    }

    /// This value coerced to a string, formatted into `scratch` when it is numeric;
    /// `None` means null. A list gives its single element, else null (string columns take
    /// lists whole instead, see [`Value`]).
    pub fn coerce_str<'s>(&'s self, scratch: &'s mut String) -> Option<&'s str> {
        use std::fmt::Write;
        match *self {
            ValueRef::Null | ValueRef::Bytes(_) => None,
            ValueRef::Strings(list) => match (list.len(), list.get(0)) {
                (1, Some(text)) => Some(text),
                _ => None,
            },
            ValueRef::Str(text) => Some(text),
            ValueRef::Long(long) => {
                scratch.clear();
                write!(scratch, "{long}").expect("writing to a string cannot fail");
                Some(scratch.as_str())
            }
            ValueRef::Double(double) => {
                scratch.clear();
                write!(scratch, "{double:?}").expect("writing to a string cannot fail");
                Some(scratch.as_str())
            }
        }
    }
}

fn double_to_long(double: f64) -> Option<i64> {
    if double.is_nan() {
        None
    } else {
        Some(double as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercions() {
        assert_eq!(ValueRef::Str(" 12 ").coerce_long(), Some(12));
        assert_eq!(ValueRef::Str("12.9").coerce_long(), Some(12));
        assert_eq!(ValueRef::Str("x").coerce_long(), None);
        assert_eq!(ValueRef::Double(-2.7).coerce_long(), Some(-2));
        assert_eq!(ValueRef::Double(f64::NAN).coerce_long(), None);
        assert_eq!(ValueRef::Long(3).coerce_double(), Some(3.0));
        assert_eq!(ValueRef::Str("0.5").coerce_double(), Some(0.5));
        let mut scratch = String::new();
        assert_eq!(ValueRef::Long(-4).coerce_str(&mut scratch), Some("-4"));
        assert_eq!(ValueRef::Double(1.0).coerce_str(&mut scratch), Some("1.0"));
        assert_eq!(ValueRef::Null.coerce_str(&mut scratch), None);
        let one = [Some("7".to_string())];
        assert_eq!(
            ValueRef::Strings(StringList::Owned(&one)).coerce_long(),
            Some(7)
        );
        let two = [Some("7"), Some("8")];
        assert_eq!(
            ValueRef::Strings(StringList::Borrowed(&two)).coerce_long(),
            None
        );
        assert_eq!(
            ValueRef::Strings(StringList::Borrowed(&two)).to_value(),
            Value::Strings(vec![Some("7".into()), Some("8".into())])
        );
    }

    #[test]
    fn serde_names() {
        let spec = ColumnSpec::dimension("page", ColumnType::String);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            json,
            r#"{"name":"page","column_type":"STRING","role":"dimension"}"#
        );
        assert_eq!(serde_json::from_str::<ColumnSpec>(&json).unwrap(), spec);
        let sketch = ColumnSpec::metric("users", ColumnType::Complex(ComplexKind::HllSketch));
        let json = serde_json::to_string(&sketch).unwrap();
        assert_eq!(
            json,
            r#"{"name":"users","column_type":"COMPLEX<HLLSketch>","role":"metric"}"#
        );
        assert_eq!(serde_json::from_str::<ColumnSpec>(&json).unwrap(), sketch);
        assert!(serde_json::from_str::<ColumnType>(r#""COMPLEX<x>""#).is_err());
    }
}
