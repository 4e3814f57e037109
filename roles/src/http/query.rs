//! `POST /druid/v2` (native queries), `DELETE /druid/v2/{queryId}` (cancellation) and the
//! broker's datasource listings. Every parsed query gets a `queryId` (the client's, or a new
//! UUID), returned in the `X-Druid-Query-Id` header of the answer and of its errors.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use henge_broker::executor::Answered;
use henge_query::QueryError;
use serde_json::{json, Value};

use super::{json_response, read_body, role_not_here, AppState};

pub async fn native(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let Some(broker) = state.broker.clone() else {
        return role_not_here(&state, "broker");
    };
    let pretty = params.contains_key("pretty");
    let bytes = match read_body(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(message) => return error_response(&QueryError::resource_limit(message), pretty),
    };
    let query = match henge_query::parse_query(&bytes, &state.limits) {
        Ok(query) => query,
        Err(error) => return error_response(&error, pretty),
    };
    let query = henge_broker::lifecycle::with_query_id(query);
    let query_id = query.id().map(str::to_string);
    let answered = broker.run_or_cached(&query).await;
    let mut response = match answered {
        // Sent as kept, unless it is to be pretty-printed.
        Ok(Answered::Cached(text)) if !pretty => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text.as_ref().clone(),
        )
            .into_response(),
        Ok(answered) => match answered.into_value() {
            Ok(result) => json_response(StatusCode::OK, &result, pretty),
            Err(error) => error_response(&error, pretty),
        },
        Err(error) => {
            tracing::debug!(error = %error, "query failed");
            // Timeouts and cancellations are decided here: this node is the host.
            let host = matches!(error.status, 500 | 504).then_some(state.context.node_id.as_str());
            error_body(&error, pretty, host)
        }
    };
    if let Some(value) = query_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert("X-Druid-Query-Id", value);
    }
    response
}

/// `DELETE /druid/v2/{queryId}`: cancels the query on this broker and on every data node;
/// 202 Accepted with no body, known id or not, as Druid's `QueryResource.cancelQuery`.
pub async fn cancel(State(state): State<AppState>, Path(query_id): Path<String>) -> Response {
    let Some(broker) = &state.broker else {
        return role_not_here(&state, "broker");
    };
    let found = broker.cancel(&query_id);
    tracing::info!(query_id = %query_id, running_here = found, "cancel requested");
    StatusCode::ACCEPTED.into_response()
}

fn error_response(error: &QueryError, pretty: bool) -> Response {
    error_body(error, pretty, None)
}

fn error_body(error: &QueryError, pretty: bool, host: Option<&str>) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &error.to_json(host), pretty)
}

/// `POST /druid/v2/candidates`: the segments a query would read and the servers holding them
/// (Druid's `LocatedSegmentDescriptor` list).
pub async fn candidates(State(state): State<AppState>, body: Body) -> Response {
    let Some(broker) = &state.broker else {
        return role_not_here(&state, "broker");
    };
    let bytes = match read_body(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(message) => return error_response(&QueryError::resource_limit(message), false),
    };
    let query = match henge_query::parse_query(&bytes, &state.limits) {
        Ok(query) => query,
        Err(error) => return error_response(&error, false),
    };
    let entries = broker.view().entries();
    let selected = henge_broker::timeline::select(&entries, query.datasource(), query.intervals());
    let location = |node: &String, kind: &str| json!({"name": node, "host": node, "hostAndTlsPort": null, "maxSize": 0, "type": kind, "tier": "_default_tier", "priority": 0});
    let body: Vec<Value> = selected
        .iter()
        .map(|entry| {
            let locations: Vec<Value> = entry
                .historicals
                .iter()
                .map(|node| location(node, "historical"))
                .chain(
                    entry
                        .realtimes
                        .iter()
                        .map(|node| location(node, "indexer-executor")),
                )
                .collect();
            json!({
                "interval": entry.segment.interval.to_string(),
                "version": entry.segment.version,
                "partitionNumber": entry.segment.shard_spec.partition_num,
                "size": entry.segment.size,
                "locations": locations,
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!(body), false)
}

/// `GET /druid/v2/datasources`: the datasources the broker can query.
pub async fn datasources(State(state): State<AppState>) -> Response {
    let Some(broker) = &state.broker else {
        return role_not_here(&state, "broker");
    };
    let names: BTreeSet<String> = broker
        .view()
        .entries()
        .into_iter()
        .map(|entry| entry.segment.data_source)
        .collect();
    json_response(StatusCode::OK, &json!(names), false)
}

/// `GET /druid/v2/datasources/{name}`: dimensions and metrics served for a datasource.
pub async fn datasource(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let Some(broker) = &state.broker else {
        return role_not_here(&state, "broker");
    };
    let mut dimensions = BTreeMap::new();
    let mut metrics = BTreeMap::new();
    let mut found = false;
    for entry in broker.view().entries() {
        if entry.segment.data_source != name {
            continue;
        }
        found = true;
        let split = |text: &str| {
            text.split(',')
                .filter(|item| !item.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        for dimension in split(&entry.segment.dimensions) {
            dimensions.insert(dimension, ());
        }
        for metric in split(&entry.segment.metrics) {
            metrics.insert(metric, ());
        }
    }
    if !found {
        return json_response(StatusCode::OK, &json!({}), false);
    }
    let body: Value = json!({
        "dimensions": dimensions.keys().collect::<Vec<_>>(),
        "metrics": metrics.keys().collect::<Vec<_>>(),
    });
    json_response(StatusCode::OK, &body, false)
}
