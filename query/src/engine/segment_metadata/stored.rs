//! The segmentMetadata analyses of what ingestion stored with a segment (its metadata JSON,
//! see `henge_ingest`): `aggregators`, `timestampSpec`, `queryGranularity` and `rollup`,
//! and Druid's rules for merging them (`SegmentMetadataQueryQueryToolChest.mergeAnalyses`).
//!
//! - `aggregators`: the metricsSpec as Druid's `Metadata` keeps it, each aggregator's
//!   combining factory (a `count` becomes a `longSum` of itself, every other one reads its
//!   own column), keyed by name in Java `HashMap` order as Druid builds the map.
//! - `timestampSpec`: `column`, `format` and `missingValue` with Druid's defaults filled in.
//! - `queryGranularity`, `rollup`: as stored.
//!
//! Merging keeps a value only where both sides agree (a lenient aggregator merge keeps every
//! name, nulling one whose factories differ); a merged empty aggregator map is null.

use serde_json::{json, Map, Value};

use crate::java_hash::in_java_hash_order;
use crate::model::metadata::Analyses;

/// The four stored analyses of one segment (or of merged segments); `Value::Null` where not
/// requested, not known or not agreed on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stored {
    pub(crate) aggregators: Value,
    pub(crate) timestamp_spec: Value,
    pub(crate) query_granularity: Value,
    pub(crate) rollup: Value,
}

/// The requested analyses of a segment's metadata.
pub(crate) fn analyze(metadata: &Value, analyses: &Analyses) -> Stored {
    let wanted = |flag: bool, value: Option<Value>| {
        if flag {
            value.unwrap_or(Value::Null)
        } else {
            Value::Null
        }
    };
    Stored {
        aggregators: wanted(
            analyses.aggregators,
            metadata.get("aggregators").and_then(aggregators),
        ),
        timestamp_spec: wanted(
            analyses.timestamp_spec,
            metadata.get("timestampSpec").and_then(timestamp_spec),
        ),
        query_granularity: wanted(
            analyses.query_granularity,
            metadata.get("queryGranularity").cloned(),
        ),
        rollup: wanted(
            analyses.rollup,
            metadata
                .get("rollup")
                .filter(|rollup| rollup.is_boolean())
                .cloned(),
        ),
    }
}

/// Druid's merge of two segments' stored analyses.
pub(crate) fn merge(left: Stored, right: Stored, lenient: bool) -> Stored {
    let same = |left: Value, right: Value| if left == right { left } else { Value::Null };
    let aggregators = if lenient {
        merge_lenient(left.aggregators, right.aggregators)
    } else {
        same(left.aggregators, right.aggregators)
    };
    Stored {
        aggregators: match aggregators {
            Value::Object(map) if map.is_empty() => Value::Null,
            other => other,
        },
        timestamp_spec: same(left.timestamp_spec, right.timestamp_spec),
        query_granularity: same(left.query_granularity, right.query_granularity),
        rollup: same(left.rollup, right.rollup),
    }
}

/// Every name of either side; a name whose factories differ becomes null.
fn merge_lenient(left: Value, right: Value) -> Value {
    let mut merged = Map::new();
    for side in [left, right] {
        let Value::Object(map) = side else { continue };
        for (name, factory) in map {
            match merged.get(&name) {
                Some(known) if *known != factory => {
                    merged.insert(name, Value::Null);
                }
                Some(_) => {}
                None => {
                    merged.insert(name, factory);
                }
            }
        }
    }
    Value::Object(in_java_hash_order(merged))
}

/// The stored metricsSpec as a map from name to combining factory.
fn aggregators(metrics: &Value) -> Option<Value> {
    let mut map = Map::new();
    for metric in metrics.as_array()? {
        let name = metric.get("name")?.as_str()?.to_owned();
        map.insert(name.clone(), combining(metric, &name));
    }
    Some(Value::Object(in_java_hash_order(map)))
}

/// An aggregator's combining factory, printed with the properties Druid's factory has.
fn combining(metric: &Value, name: &str) -> Value {
    let kind = metric
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let setting = |key: &str, default: Value| metric.get(key).cloned().unwrap_or(default);
    match kind {
        "count" => json!({"type": "longSum", "name": name, "fieldName": name, "expression": null}),
        "longSum" | "longMin" | "longMax" | "doubleSum" | "doubleMin" | "doubleMax"
        | "floatSum" | "floatMin" | "floatMax" => {
            json!({"type": kind, "name": name, "fieldName": name, "expression": null})
        }
        "HLLSketchBuild" | "HLLSketchMerge" => json!({
            "type": "HLLSketchMerge",
            "name": name,
            "fieldName": name,
            "lgK": setting("lgK", json!(12)),
            "tgtHllType": setting("tgtHllType", json!("HLL_4")),
            "stringEncoding": setting("stringEncoding", json!("utf16le")),
            "shouldFinalize": setting("shouldFinalize", json!(true)),
            "round": setting("round", json!(false)),
        }),
        "thetaSketch" => json!({
            "type": "thetaSketch",
            "name": name,
            "fieldName": name,
            "size": setting("size", json!(16384)),
            "shouldFinalize": setting("shouldFinalize", json!(true)),
            "isInputThetaSketch": false,
            "errorBoundsStdDev": setting("errorBoundsStdDev", Value::Null),
        }),
        "quantilesDoublesSketch" => json!({
            "type": "quantilesDoublesSketch",
            "name": name,
            "fieldName": name,
            "k": setting("k", json!(128)),
        }),
        "hyperUnique" => json!({
            "type": "hyperUnique",
            "name": name,
            "fieldName": name,
            "isInputHyperUnique": false,
            "round": setting("round", json!(false)),
        }),
        // Any other stored aggregator reads its own column, its other settings kept.
        _ => {
            let mut factory = metric.clone();
            if let Value::Object(map) = &mut factory {
                map.insert("fieldName".to_owned(), json!(name));
            }
            factory
        }
    }
}

/// `{"column", "format", "missingValue"}` with Druid's defaults (`timestamp`, `auto`).
fn timestamp_spec(spec: &Value) -> Option<Value> {
    let spec = spec.as_object()?;
    Some(json!({
        "column": spec.get("column").cloned().unwrap_or(json!("timestamp")),
        "format": spec.get("format").cloned().unwrap_or(json!("auto")),
        "missingValue": spec.get("missingValue").cloned().unwrap_or(Value::Null),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Analyses {
        Analyses {
            cardinality: false,
            interval: false,
            minmax: false,
            size: false,
            aggregators: true,
            timestamp_spec: true,
            query_granularity: true,
            rollup: true,
        }
    }

    fn stored(metrics: Value, rollup: bool) -> Stored {
        analyze(
            &json!({"aggregators": metrics, "timestampSpec": {"column": "time"},
                    "queryGranularity": "HOUR", "rollup": rollup}),
            &all(),
        )
    }

    #[test]
    fn stored_metadata_becomes_druids_analyses() {
        let analysis = stored(
            json!([{"type": "count", "name": "rows"},
                   {"type": "longSum", "name": "added", "fieldName": "delta"}]),
            true,
        );
        assert_eq!(
            analysis.aggregators,
            json!({
                "rows": {"type": "longSum", "name": "rows", "fieldName": "rows", "expression": null},
                "added": {"type": "longSum", "name": "added", "fieldName": "added", "expression": null},
            })
        );
        assert_eq!(
            analysis.timestamp_spec,
            json!({"column": "time", "format": "auto", "missingValue": null})
        );
        assert_eq!(analysis.query_granularity, json!("HOUR"));
        assert_eq!(analysis.rollup, json!(true));
        let none = analyze(&json!({"rollup": true}), &Analyses::default());
        assert_eq!(none.rollup, Value::Null, "not requested");
    }

    #[test]
    fn merges_keep_what_both_sides_agree_on() {
        let count = json!([{"type": "count", "name": "rows"}]);
        let sum = json!([{"type": "doubleSum", "name": "rows", "fieldName": "x"}]);
        let merged = merge(
            stored(count.clone(), true),
            stored(count.clone(), false),
            false,
        );
        assert_eq!(merged.rollup, Value::Null);
        assert_eq!(merged.query_granularity, json!("HOUR"));
        assert_eq!(merged.aggregators, stored(count.clone(), true).aggregators);
        let strict = merge(
            stored(count.clone(), true),
            stored(sum.clone(), true),
            false,
        );
        assert_eq!(strict.aggregators, Value::Null);
        let lenient = merge(stored(count, true), stored(sum, true), true);
        assert_eq!(lenient.aggregators, json!({"rows": null}));
        let empty = merge(stored(json!([]), true), stored(json!([]), true), false);
        assert_eq!(
            empty.aggregators,
            Value::Null,
            "an empty merged map is null"
        );
    }
}
