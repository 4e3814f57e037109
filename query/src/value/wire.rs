//! The wire form of [`AggValue`] in partial results: a bare JSON scalar for numbers and null
//! (an integer for longs, a float for doubles, since serde_json always writes a fraction or
//! exponent for `f64`; the strings `"NaN"`, `"Infinity"`, `"-Infinity"` for non-finite
//! doubles), and small objects for the rest: `{"s": text}`, `{"t": time, "v": value}` for
//! first/last pairs, `{"sum": sum, "count": count}` for mean holders, `{"sketch": family,
//! "bytes": base64}` for sketches (`hll`, `theta` or `quantiles`; the bytes are DataSketches'
//! serialization) and `{"doubles": [...]}` for lists of doubles.

use std::fmt;

use base64::prelude::{Engine, BASE64_STANDARD};
use henge_segment::sketch::{SketchFamily, SketchValue};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::AggValue;

fn family_name(family: SketchFamily) -> &'static str {
    match family {
        SketchFamily::Hll => "hll",
        SketchFamily::Theta => "theta",
        SketchFamily::Quantiles => "quantiles",
    }
}

fn family_of(name: &str) -> Option<SketchFamily> {
    match name {
        "hll" => Some(SketchFamily::Hll),
        "theta" => Some(SketchFamily::Theta),
        "quantiles" => Some(SketchFamily::Quantiles),
        _ => None,
    }
}

impl Serialize for AggValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AggValue::Null => serializer.serialize_none(),
            AggValue::Long(value) => serializer.serialize_i64(*value),
            AggValue::Double(value) if value.is_finite() => serializer.serialize_f64(*value),
            AggValue::Double(value) if value.is_nan() => serializer.serialize_str("NaN"),
            AggValue::Double(value) if *value > 0.0 => serializer.serialize_str("Infinity"),
            AggValue::Double(_) => serializer.serialize_str("-Infinity"),
            AggValue::Str(text) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("s", text)?;
                map.end()
            }
            AggValue::Timed(time, value) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("t", time)?;
                map.serialize_entry("v", value.as_ref())?;
                map.end()
            }
            AggValue::Mean { sum, count } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("sum", &AggValue::Double(*sum))?;
                map.serialize_entry("count", count)?;
                map.end()
            }
            AggValue::Sketch(sketch) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("sketch", family_name(sketch.family()))?;
                map.serialize_entry("bytes", &BASE64_STANDARD.encode(sketch.to_bytes()))?;
                map.end()
            }
            AggValue::Doubles(values) => {
                let values: Vec<AggValue> = values.iter().copied().map(AggValue::Double).collect();
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("doubles", &values)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for AggValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AggValue, D::Error> {
        deserializer.deserialize_any(AggValueVisitor)
    }
}

struct AggValueVisitor;

impl<'de> Visitor<'de> for AggValueVisitor {
    type Value = AggValue;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("null, an integer, a float, NaN/Infinity/-Infinity or a value object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<AggValue, E> {
        Ok(AggValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<AggValue, E> {
        Ok(AggValue::Null)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<AggValue, E> {
        Ok(AggValue::Long(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<AggValue, E> {
        i64::try_from(value)
            .map(AggValue::Long)
            .map_err(|_| E::custom(format!("long value {value} out of range")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<AggValue, E> {
        Ok(AggValue::Double(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<AggValue, E> {
        match value {
            "NaN" => Ok(AggValue::Double(f64::NAN)),
            "Infinity" => Ok(AggValue::Double(f64::INFINITY)),
            "-Infinity" => Ok(AggValue::Double(f64::NEG_INFINITY)),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<AggValue, A::Error> {
        let mut fields = Map::new();
        while let Some((key, value)) = access.next_entry::<String, Value>()? {
            fields.insert(key, value);
        }
        let nested = |key: &str| -> Result<AggValue, A::Error> {
            let value = fields.get(key).cloned().unwrap_or(Value::Null);
            serde_json::from_value(value).map_err(de::Error::custom)
        };
        if let (Some(Value::String(family)), Some(Value::String(bytes))) =
            (fields.get("sketch"), fields.get("bytes"))
        {
            let family = family_of(family)
                .ok_or_else(|| de::Error::custom(format!("unknown sketch family {family:?}")))?;
            let bytes = BASE64_STANDARD.decode(bytes).map_err(de::Error::custom)?;
            let sketch = SketchValue::from_bytes(family, &bytes).map_err(de::Error::custom)?;
            return Ok(AggValue::Sketch(Box::new(sketch)));
        }
        if let Some(Value::Array(items)) = fields.get("doubles") {
            let values = items
                .iter()
                .map(
                    |item| match serde_json::from_value::<AggValue>(item.clone()) {
                        Ok(AggValue::Double(value)) => Ok(value),
                        Ok(AggValue::Long(value)) => Ok(value as f64),
                        _ => Err(de::Error::custom("a list of doubles holds only numbers")),
                    },
                )
                .collect::<Result<Vec<f64>, A::Error>>()?;
            return Ok(AggValue::Doubles(values));
        }
        if let Some(Value::String(text)) = fields.get("s") {
            return Ok(AggValue::Str(text.clone()));
        }
        if let Some(time) = fields.get("t").and_then(Value::as_i64) {
            return Ok(AggValue::Timed(time, Box::new(nested("v")?)));
        }
        if let Some(count) = fields.get("count").and_then(Value::as_i64) {
            let sum = match nested("sum")? {
                AggValue::Double(sum) => sum,
                AggValue::Long(sum) => sum as f64,
                _ => return Err(de::Error::custom("a mean holder needs a numeric sum")),
            };
            return Ok(AggValue::Mean { sum, count });
        }
        Err(de::Error::custom("unknown aggregator value object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch() -> SketchValue {
        use henge_segment::sketch::{SketchAccumulator, SketchSpec};
        let mut accumulator = SketchAccumulator::new(SketchSpec::HLL_DEFAULT).unwrap();
        for value in 0..10_000 {
            accumulator.update_long(value);
        }
        accumulator.finish()
    }

    #[test]
    fn values_round_trip_exactly() {
        let values = vec![
            AggValue::Null,
            AggValue::Long(i64::MIN),
            AggValue::Long(3),
            AggValue::Double(3.0),
            AggValue::Double(0.1 + 0.2),
            AggValue::Double(-0.0),
            AggValue::Double(1e300),
            AggValue::Double(f64::MIN_POSITIVE / 3.0),
            AggValue::Double(f64::INFINITY),
            AggValue::Double(f64::NEG_INFINITY),
            AggValue::Str("NaN".into()),
            AggValue::Timed(-5, Box::new(AggValue::Null)),
            AggValue::Timed(7, Box::new(AggValue::Str("x".into()))),
            AggValue::Mean {
                sum: f64::NAN,
                count: 0,
            },
            AggValue::Mean { sum: 2.5, count: 2 },
            AggValue::Doubles(vec![0.5, -1.0]),
            AggValue::Sketch(Box::new(sketch())),
        ];
        let text = serde_json::to_string(&values).unwrap();
        let back: Vec<AggValue> = serde_json::from_str(&text).unwrap();
        assert_eq!(values.len(), back.len());
        for (before, after) in values.iter().zip(&back) {
            match (before, after) {
                (AggValue::Double(left), AggValue::Double(right))
                | (AggValue::Mean { sum: left, .. }, AggValue::Mean { sum: right, .. }) => {
                    assert_eq!(left.to_bits(), right.to_bits())
                }
                _ => assert_eq!(before, after),
            }
        }
        let nan: AggValue = serde_json::from_str("\"NaN\"").unwrap();
        assert!(matches!(nan, AggValue::Double(value) if value.is_nan()));
    }
}
