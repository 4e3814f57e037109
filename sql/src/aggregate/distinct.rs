//! Exact COUNT(DISTINCT col) (context `useApproximateCountDistinct` false), as Druid plans
//! it: a groupBy over a groupBy. The inner groupBy reads the table (intervals, filter,
//! virtual columns) and groups by the query's keys plus `col`, computing the other
//! aggregates; the outer query (the planned timeseries or groupBy, over the inner one as a
//! `query` data source) groups by the inner keys, counts the rows where `col` is not null
//! and combines the other aggregates (counts and sums add up, MIN and MAX of MIN and MAX).
//! A timeseries by a time floor keeps its granularity on both levels. The outer query's
//! names follow Druid's: keys `_d0`, `_d1`, ... and, when the inner query has aggregators,
//! aggregators `_a0`, `_a1`, ... (the planner renames the output columns to match).
//!
//! Druid without `useGroupingSetForExactDistinct` cannot plan exact distinct counts of two
//! different columns in one query; neither does Henge. Aggregates that do not combine
//! (sketches, EARLIEST/LATEST) next to an exact distinct count are refused too.

use serde_json::{json, Map, Value};

use super::non_null_count;
use crate::{SqlError, SqlType};

/// Druid's eternity interval, the outer query's intervals.
const ETERNITY: &str = "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z";

/// One exact COUNT(DISTINCT) of a planned query: its aggregator and the column it counts.
#[derive(Debug, Clone)]
pub struct ExactDistinct {
    pub aggregator: String,
    pub column: String,
    pub sql_type: SqlType,
}

/// Output names the nesting changed: (planned name, outer name).
pub type Renames = Vec<(String, String)>;

/// Turns the planned timeseries or groupBy `native` into the nested query that answers its
/// exact distinct counts, with the output names it renamed; `native` is returned as is when
/// there are none.
pub fn nest_exact_distinct(
    native: Value,
    distinct: &[ExactDistinct],
) -> Result<(Value, Renames), SqlError> {
    let Some(first) = distinct.first() else {
        return Ok((native, Vec::new()));
    };
    if distinct.iter().any(|other| other.column != first.column) {
        return Err(SqlError::unsupported(
            "multiple exact COUNT DISTINCT over different columns \
             (set useApproximateCountDistinct to true)",
        ));
    }
    let Value::Object(mut outer) = native else {
        return Err(SqlError::invalid("a planned query is not a JSON object"));
    };
    let timeseries = outer.get("queryType") == Some(&json!("timeseries"));
    let keys: Vec<Value> = match outer.get("dimensions") {
        Some(Value::Array(keys)) => keys.clone(),
        _ => Vec::new(),
    };
    let counted = format!("d{}", keys.len());
    let mut inner_dimensions = keys.clone();
    inner_dimensions.push(json!({
        "type": "default", "dimension": first.column, "outputName": counted,
        "outputType": first.sql_type.value_type(),
    }));
    let mut inner_aggregators = Vec::new();
    let mut outer_aggregators = Vec::new();
    let aggregators = match outer.remove("aggregations") {
        Some(Value::Array(aggregators)) => aggregators,
        _ => Vec::new(),
    };
    for aggregator in aggregators {
        let name = aggregator["name"].as_str().unwrap_or_default().to_owned();
        if distinct.iter().any(|item| item.aggregator == name) {
            outer_aggregators.push(non_null_count(&name, &counted));
        } else {
            outer_aggregators.push(combine(&aggregator, &name)?);
            inner_aggregators.push(aggregator);
        }
    }
    let mut inner = Map::new();
    inner.insert("queryType".into(), json!("groupBy"));
    for field in ["dataSource", "intervals", "virtualColumns", "filter"] {
        if let Some(value) = outer.remove(field) {
            inner.insert(field.into(), value);
        }
    }
    let granularity = match outer.get("granularity") {
        Some(granularity) if timeseries => granularity.clone(),
        _ => json!("all"),
    };
    inner.insert("granularity".into(), granularity);
    inner.insert("dimensions".into(), json!(inner_dimensions));
    inner.insert("aggregations".into(), json!(inner_aggregators));
    inner.insert("postAggregations".into(), json!([]));
    let mut context = outer.get("context").cloned().unwrap_or_else(|| json!({}));
    if let Some(context) = context.as_object_mut() {
        context.remove("skipEmptyBuckets");
    }
    inner.insert("context".into(), context);
    outer.insert(
        "dataSource".into(),
        json!({"type": "query", "query": Value::Object(inner)}),
    );
    outer.insert(
        "intervals".into(),
        json!({"type": "intervals", "intervals": [ETERNITY]}),
    );
    outer.insert("virtualColumns".into(), json!([]));
    let mut renames = Renames::new();
    if !timeseries {
        let mut outer_keys = Vec::new();
        for key in &keys {
            let inner_name = key["outputName"].as_str().unwrap_or_default();
            let outer_name = format!("_{inner_name}");
            outer_keys.push(json!({
                "type": "default", "dimension": inner_name,
                "outputName": outer_name, "outputType": key["outputType"],
            }));
            renames.push((inner_name.to_owned(), outer_name));
        }
        outer.insert("dimensions".into(), json!(outer_keys));
    }
    if !inner_aggregators.is_empty() {
        for aggregator in &outer_aggregators {
            let name = aggregator["name"].as_str().unwrap_or_default().to_owned();
            let base = name.split(':').next().unwrap_or_default().to_owned();
            for old in [name, base] {
                if !renames.iter().any(|(seen, _)| *seen == old) {
                    renames.push((old.clone(), format!("_{old}")));
                }
            }
        }
    }
    outer.insert("aggregations".into(), json!(outer_aggregators));
    let mut outer = Value::Object(outer);
    for field in ["aggregations", "postAggregations", "having", "limitSpec"] {
        if let Some(value) = outer.get_mut(field) {
            rename(value, &renames);
        }
    }
    Ok((outer, renames))
}

/// Renames output names in the outer query's aggregators (their own names only: their
/// inputs are inner columns), post-aggregators, having and limitSpec.
fn rename(value: &mut Value, renames: &Renames) {
    let renamed = |text: &str| {
        renames
            .iter()
            .find(|(old, _)| old == text)
            .map(|(_, new)| new.clone())
    };
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| rename(item, renames)),
        Value::Object(fields) => {
            let aggregator = fields.contains_key("type")
                && !fields.contains_key("fields")
                && fields
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(is_aggregator_type);
            for (key, field) in fields.iter_mut() {
                match (key.as_str(), field) {
                    ("fieldName", _) if aggregator => {}
                    ("filter", _) if aggregator => {}
                    ("name" | "fieldName" | "column" | "dimension", Value::String(text)) => {
                        if let Some(new) = renamed(text) {
                            *text = new;
                        }
                    }
                    ("expression", Value::String(text)) => {
                        for (old, new) in renames {
                            *text = text.replace(&format!("\"{old}\""), &format!("\"{new}\""));
                        }
                    }
                    (_, other) => rename(other, renames),
                }
            }
        }
        _ => {}
    }
}

/// Aggregator types of the outer query (whose `fieldName` and `filter` read inner columns).
fn is_aggregator_type(kind: &str) -> bool {
    matches!(
        kind,
        "count"
            | "filtered"
            | "longSum"
            | "longMin"
            | "longMax"
            | "doubleSum"
            | "doubleMin"
            | "doubleMax"
            | "floatSum"
            | "floatMin"
            | "floatMax"
    )
}

/// The outer aggregator combining the inner aggregator's per-group values.
fn combine(aggregator: &Value, name: &str) -> Result<Value, SqlError> {
    let mut inner = aggregator;
    while inner["type"] == "filtered" {
        inner = &inner["aggregator"];
    }
    let kind = match inner["type"].as_str().unwrap_or_default() {
        "count" => "longSum",
        kind @ ("longSum" | "longMin" | "longMax" | "doubleSum" | "doubleMin" | "doubleMax"
        | "floatSum" | "floatMin" | "floatMax") => kind,
        other => {
            return Err(SqlError::unsupported(format!(
                "the aggregator {other} next to an exact COUNT(DISTINCT)"
            )))
        }
    };
    Ok(json!({"type": kind, "name": name, "fieldName": name}))
}
