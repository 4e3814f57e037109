//! Exact COUNT(DISTINCT col) (context `useApproximateCountDistinct` false), as Druid plans
//! it: a groupBy over a groupBy. The inner groupBy reads the table (intervals, filter,
//! virtual columns) and groups by the query's keys plus `col`, computing the other
//! aggregates; the outer query (the planned timeseries or groupBy, over the inner one as a
//! `query` data source) groups by the inner keys, counts the rows where `col` is not null
//! and combines the other aggregates (counts and sums add up, MIN and MAX of MIN and MAX).
//! A timeseries by a time floor keeps its granularity on both levels.
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

/// Turns the planned timeseries or groupBy `native` into the nested query that answers its
/// exact distinct counts; `native` is returned as is when there are none.
pub fn nest_exact_distinct(native: Value, distinct: &[ExactDistinct]) -> Result<Value, SqlError> {
    let Some(first) = distinct.first() else {
        return Ok(native);
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
    if !timeseries {
        let outer_keys: Vec<Value> = keys
            .iter()
            .map(|key| {
                json!({
                    "type": "default", "dimension": key["outputName"],
                    "outputName": key["outputName"], "outputType": key["outputType"],
                })
            })
            .collect();
        outer.insert("dimensions".into(), json!(outer_keys));
    }
    outer.insert("aggregations".into(), json!(outer_aggregators));
    Ok(Value::Object(outer))
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
