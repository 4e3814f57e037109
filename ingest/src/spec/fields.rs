//! A small typed walker over a JSON object that remembers its path, so every spec error names
//! the field it is about (`spec.dataSchema.timestampSpec.format`), and rejects unknown fields.

use serde_json::{Map, Value};

use crate::error::SpecError;

/// A JSON object at a known path inside the task spec.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// `value` must be a JSON object.
    pub(crate) fn new(value: &'a Value, path: impl Into<String>) -> Result<Obj<'a>, SpecError> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(SpecError::Invalid {
                path,
                message: format!("expected a JSON object, got {}", json_kind(other)),
            }),
        }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The path of a field of this object.
    pub(crate) fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Fails on the first field not in `known`.
    pub(crate) fn allow_only(&self, known: &[&str]) -> Result<(), SpecError> {
        match self.map.keys().find(|key| !known.contains(&key.as_str())) {
            Some(field) => Err(SpecError::UnknownField {
                path: self.path.clone(),
                field: field.clone(),
                known: known.join(", "),
            }),
            None => Ok(()),
        }
    }

    /// A field's value; JSON `null` counts as absent, as Jackson does for optional fields.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    pub(crate) fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, SpecError> {
        self.get(key)
            .map(|value| Obj::new(value, self.child(key)))
            .transpose()
    }

    pub(crate) fn required_obj(&self, key: &str) -> Result<Obj<'a>, SpecError> {
        self.obj(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn str(&self, key: &str) -> Result<Option<&'a str>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong_kind(key, "a string", other)),
        }
    }

    pub(crate) fn required_str(&self, key: &str) -> Result<&'a str, SpecError> {
        match self.str(key)? {
            Some(text) if !text.trim().is_empty() => Ok(text),
            _ => Err(self.missing(key)),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            // Jackson coerces "true"/"false" strings into booleans.
            Some(Value::String(text)) if text == "true" || text == "false" => {
                Ok(Some(text == "true"))
            }
            Some(other) => Err(self.wrong_kind(key, "a boolean", other)),
        }
    }

    /// An integer field; Jackson also accepts integers written as strings.
    pub(crate) fn i64(&self, key: &str) -> Result<Option<i64>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) if number.as_i64().is_some() => Ok(number.as_i64()),
            Some(Value::String(text)) if text.trim().parse::<i64>().is_ok() => {
                Ok(text.trim().parse().ok())
            }
            Some(other) => Err(self.wrong_kind(key, "an integer", other)),
        }
    }

    pub(crate) fn array(&self, key: &str) -> Result<Option<&'a [Value]>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(self.wrong_kind(key, "an array", other)),
        }
    }

    /// An array of strings.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, SpecError> {
        let Some(items) = self.array(key)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(SpecError::Invalid {
                    path: format!("{}[{index}]", self.child(key)),
                    message: format!("expected a string, got {}", json_kind(other)),
                }),
            })
            .collect()
    }

    /// The polymorphic `type` of this object, or `default` when absent.
    pub(crate) fn type_id(&self, default: Option<&'static str>) -> Result<&'a str, SpecError> {
        match (self.str("type")?, default) {
            (Some(type_id), _) => Ok(type_id),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(self.missing("type")),
        }
    }

    pub(crate) fn missing(&self, key: &str) -> SpecError {
        SpecError::Missing {
            path: self.child(key),
        }
    }

    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            path: self.child(key),
            message: message.into(),
        }
    }

    pub(crate) fn unsupported(&self, key: &str, message: impl Into<String>) -> SpecError {
        SpecError::Unsupported {
            path: self.child(key),
            message: message.into(),
        }
    }

    fn wrong_kind(&self, key: &str, expected: &str, got: &Value) -> SpecError {
        self.invalid(key, format!("expected {expected}, got {}", json_kind(got)))
    }
}

/// How a JSON value is named in error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
