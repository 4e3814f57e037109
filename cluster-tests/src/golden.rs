//! Golden native-query cases kept as JSON files in `cluster-tests/cases/native/`.
//!
//! Each file is `{"description", "dataset", "source", "query", "expected"}` plus an optional
//! `"known_failure": "<reason>"`. `source` says where `expected` came from: `"independent"`
//! (computed from the raw data by `scripts/golden/wikiticker_expected.py`, never rewritten
//! here) or `"henge"` (Henge's own answer, recorded with `HENGE_GOLDEN_COMPLETE=1` and
//! reviewed by hand).
//!
//! Comparison is exact JSON equality with two refinements: object keys must come in the same
//! order (Druid's key order is part of its answer), and two doubles are equal within a
//! relative tolerance of 1e-9 (an integer never equals a double: Druid prints doubleSum as
//! `9385573.0`). A case may set `"tolerance"` (relative): its doubles then match any number
//! that close, for sketch estimates checked against exact values. Segment versions are
//! ingestion times, so every segment id in an answer (`segmentId`, segmentMetadata's `id`)
//! has its version replaced by `VERSION` before the comparison.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Relative tolerance for doubles.
const DOUBLE_TOLERANCE: f64 = 1e-9;
/// The environment variable that rewrites `expected` of non-independent cases.
pub const COMPLETE_VAR: &str = "HENGE_GOLDEN_COMPLETE";

/// One case file.
#[derive(Debug, Clone)]
pub struct Case {
    pub path: PathBuf,
    pub document: Value,
}

impl Case {
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn dataset(&self) -> &str {
        self.document["dataset"].as_str().unwrap_or_default()
    }

    pub fn query(&self) -> &Value {
        &self.document["query"]
    }

    pub fn expected(&self) -> &Value {
        &self.document["expected"]
    }

    /// Whether `expected` comes from the independent script (never rewritten from Henge).
    pub fn is_independent(&self) -> bool {
        self.document["source"] == "independent"
    }

    /// A case's own relative tolerance for numbers (sketch estimates against exact
    /// values), if it sets one.
    pub fn tolerance(&self) -> Option<f64> {
        self.document["tolerance"].as_f64()
    }

    pub fn known_failure(&self) -> Option<&str> {
        self.document["known_failure"].as_str()
    }

    /// Replaces `expected` with `actual` and writes the file atomically (temp + rename), so
    /// a concurrent reader sees the old or the new file, never half of one.
    pub fn rewrite_expected(&mut self, actual: Value) {
        self.document["expected"] = actual;
        let text = serde_json::to_string_pretty(&self.document).expect("case serializes") + "\n";
        let temp = self.path.with_extension("json.tmp");
        std::fs::write(&temp, text).expect("write case");
        std::fs::rename(&temp, &self.path).expect("replace case");
    }
}

/// `cluster-tests/cases/native`.
pub fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases/native")
}

/// Every case file in `dir`, sorted by name; panics on a malformed file.
pub fn load_cases(dir: &Path) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable case");
            let document: Value = serde_json::from_str(&text)
                .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()));
            for field in ["description", "dataset", "source", "query", "expected"] {
                assert!(
                    document.get(field).is_some(),
                    "{} lacks the field {field:?}",
                    path.display()
                );
            }
            Case { path, document }
        })
        .collect()
}

/// Replaces the version of every `segmentId` (scan) and `id` (segmentMetadata) of `dataset`
/// in `value` with `VERSION`. A segment id is `{dataSource}_{start}_{end}_{version}[_{partition}]`.
pub fn normalize_segment_ids(value: &mut Value, dataset: &str) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key == "segmentId" || key == "id" {
                    if let Some(id) = inner.as_str() {
                        *inner = Value::String(normalize_segment_id(id, dataset));
                        continue;
                    }
                }
                normalize_segment_ids(inner, dataset);
            }
        }
        Value::Array(items) => {
            for item in items {
                normalize_segment_ids(item, dataset);
            }
        }
        _ => {}
    }
}

fn normalize_segment_id(id: &str, dataset: &str) -> String {
    let Some(rest) = id.strip_prefix(&format!("{dataset}_")) else {
        return id.to_string();
    };
    let mut parts: Vec<&str> = rest.split('_').collect();
    if parts.len() >= 3 {
        parts[2] = "VERSION";
    }
    format!("{dataset}_{}", parts.join("_"))
}

/// Where `actual` first differs from `expected` (a JSON path and what differs), if anywhere.
pub fn first_difference(expected: &Value, actual: &Value) -> Option<String> {
    difference_at("$", expected, actual, None)
}

/// [`first_difference`], except that with a `tolerance` a double in `expected` matches any
/// number within that relative distance (a sketch estimate against the exact value).
pub fn first_difference_within(
    expected: &Value,
    actual: &Value,
    tolerance: Option<f64>,
) -> Option<String> {
    difference_at("$", expected, actual, tolerance)
}

fn difference_at(
    path: &str,
    expected: &Value,
    actual: &Value,
    tolerance: Option<f64>,
) -> Option<String> {
    match (expected, actual) {
        (Value::Number(left), Value::Number(right)) if left.is_f64() && tolerance.is_some() => {
            let (left, right) = (
                left.as_f64().unwrap_or(f64::NAN),
                right.as_f64().unwrap_or(f64::NAN),
            );
            let allowed = tolerance.unwrap_or_default() * left.abs();
            ((left - right).abs() > allowed || right.is_nan())
                .then(|| format!("{path}: {left} expected within {allowed}, {right} received"))
        }
        (Value::Object(left), Value::Object(right)) => {
            let left_keys: Vec<&String> = left.keys().collect();
            let right_keys: Vec<&String> = right.keys().collect();
            if left_keys != right_keys {
                return Some(format!(
                    "{path}: keys {left_keys:?} expected, {right_keys:?} received"
                ));
            }
            left.iter().find_map(|(key, value)| {
                difference_at(
                    &format!("{path}.{key}"),
                    value,
                    &right[key.as_str()],
                    tolerance,
                )
            })
        }
        (Value::Array(left), Value::Array(right)) => {
            if left.len() != right.len() {
                return Some(format!(
                    "{path}: {} items expected, {} received",
                    left.len(),
                    right.len()
                ));
            }
            left.iter()
                .zip(right)
                .enumerate()
                .find_map(|(index, (left, right))| {
                    difference_at(&format!("{path}[{index}]"), left, right, tolerance)
                })
        }
        (Value::Number(left), Value::Number(right)) if left.is_f64() || right.is_f64() => {
            match (left.is_f64(), right.is_f64()) {
                (true, true) => {
                    let (left, right) = (left.as_f64().unwrap(), right.as_f64().unwrap());
                    let scale = left.abs().max(right.abs());
                    ((left - right).abs() > DOUBLE_TOLERANCE * scale)
                        .then(|| format!("{path}: {left} expected, {right} received"))
                }
                _ => Some(format!(
                    "{path}: {left} expected, {right} received (integer and double differ)"
                )),
            }
        }
        _ => {
            (expected != actual).then(|| format!("{path}: {expected} expected, {actual} received"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn doubles_within_tolerance_match_but_integers_never_equal_doubles() {
        assert_eq!(first_difference(&json!([1.0]), &json!([1.0 + 1e-12])), None);
        assert!(first_difference(&json!([1.0]), &json!([1.001])).is_some());
        assert!(first_difference(&json!({"a": 1.0}), &json!({"a": 1})).is_some());
        assert_eq!(first_difference(&json!({"a": 1}), &json!({"a": 1})), None);
    }

    #[test]
    fn key_order_matters() {
        let expected: Value = serde_json::from_str(r#"{"a": 1, "b": 2}"#).unwrap();
        let actual: Value = serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap();
        assert!(first_difference(&expected, &actual)
            .unwrap()
            .contains("keys"));
    }

    #[test]
    fn segment_versions_are_normalized() {
        let mut value = json!([{"segmentId": "wikipedia_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_2026-11-23T15:43:57.813Z"},
                               {"segmentId": "henge-demo_2024-01-01T00:00:00.000Z_2024-01-02T00:00:00.000Z_v1_3"},
                               {"segmentId": null}]);
        normalize_segment_ids(&mut value, "wikipedia");
        assert_eq!(
            value[0]["segmentId"],
            "wikipedia_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_VERSION"
        );
        normalize_segment_ids(&mut value, "henge-demo");
        assert_eq!(
            value[1]["segmentId"],
            "henge-demo_2024-01-01T00:00:00.000Z_2024-01-02T00:00:00.000Z_VERSION_3"
        );
        assert_eq!(value[2]["segmentId"], Value::Null);
    }
}
