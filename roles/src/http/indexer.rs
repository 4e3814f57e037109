//! The overlord's task API, push ingestion, and the coordinator's datasource list.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{
    druid_error, json_response, read_body, role_not_here, AppState, MAX_PUSH_BYTES, MAX_TASK_BYTES,
};
use crate::overlord::OverlordMessage;
use crate::realtime::RealtimeMessage;
use crate::tasks;

/// `POST /druid/indexer/v1/task` → `{"task": id}`.
pub async fn submit(State(state): State<AppState>, body: Body) -> Response {
    let Some(overlord) = &state.overlord else {
        return role_not_here(&state, "overlord");
    };
    let bytes = match read_body(body, MAX_TASK_BYTES).await {
        Ok(bytes) => bytes,
        Err(message) => return druid_error(StatusCode::PAYLOAD_TOO_LARGE, message),
    };
    let payload: Value = match serde_json::from_slice(&bytes) {
        Ok(payload) => payload,
        Err(err) => {
            return druid_error(
                StatusCode::BAD_REQUEST,
                format!("malformed task JSON: {err}"),
            )
        }
    };
    match overlord
        .ask(|reply| OverlordMessage::Submit { payload, reply })
        .await
    {
        Ok(Ok(id)) => json_response(StatusCode::OK, &json!({ "task": id }), false),
        Ok(Err(rejection)) => {
            let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
            druid_error(status, rejection.message)
        }
        Err(gone) => druid_error(StatusCode::SERVICE_UNAVAILABLE, gone.to_string()),
    }
}

async fn load_task(state: &AppState, id: &str) -> Result<Option<tasks::TaskRecord>, Response> {
    if state.overlord.is_none() {
        return Err(role_not_here(state, "overlord"));
    }
    tasks::load(state.context.store.as_ref(), id)
        .await
        .map_err(|err| druid_error(StatusCode::SERVICE_UNAVAILABLE, format!("{err:#}")))
}

/// `GET /druid/indexer/v1/task/{id}/status`.
pub async fn status(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load_task(&state, &id).await {
        Ok(Some(task)) => json_response(
            StatusCode::OK,
            &json!({"task": id, "status": task.status_json()}),
            false,
        ),
        Ok(None) => json_response(
            StatusCode::NOT_FOUND,
            &json!({"task": id, "status": null}),
            false,
        ),
        Err(response) => response,
    }
}

/// `GET /druid/indexer/v1/task/{id}`: the submitted payload.
pub async fn payload(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load_task(&state, &id).await {
        Ok(Some(task)) => json_response(
            StatusCode::OK,
            &json!({"task": id, "payload": task.payload}),
            false,
        ),
        Ok(None) => druid_error(
            StatusCode::NOT_FOUND,
            format!("Cannot find any task with id: [{id}]"),
        ),
        Err(response) => response,
    }
}

/// `GET /druid/indexer/v1/task/{id}/reports`: Druid's `ingestionStatsAndErrors` report.
pub async fn reports(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load_task(&state, &id).await {
        Ok(Some(tasks::TaskRecord { report: Some(report), .. })) => json_response(StatusCode::OK, &report, false),
        Ok(_) => druid_error(StatusCode::NOT_FOUND, format!("No task reports were found for this task. The task may not exist, or it may not have begun running yet: [{id}]")),
        Err(response) => response,
    }
}

/// `GET /druid/indexer/v1/tasks`: every task, newest first.
pub async fn list(State(state): State<AppState>) -> Response {
    if state.overlord.is_none() {
        return role_not_here(&state, "overlord");
    }
    match tasks::list(state.context.store.as_ref()).await {
        Ok(mut all) => {
            all.sort_by(|left, right| right.0.created_time.cmp(&left.0.created_time));
            let body: Vec<Value> = all.iter().map(|(task, _)| task.status_json()).collect();
            json_response(StatusCode::OK, &json!(body), false)
        }
        Err(err) => druid_error(StatusCode::SERVICE_UNAVAILABLE, format!("{err:#}")),
    }
}

/// `GET /druid/coordinator/v1/datasources`: datasources with used segments.
pub async fn used_datasources(State(state): State<AppState>) -> Response {
    match state.context.used_segments().await {
        Ok(segments) => {
            let names: BTreeSet<String> = segments
                .into_iter()
                .map(|segment| segment.data_source)
                .collect();
            json_response(StatusCode::OK, &json!(names), false)
        }
        Err(err) => druid_error(StatusCode::SERVICE_UNAVAILABLE, format!("{err:#}")),
    }
}

/// `POST /druid/v2/push/{datasource}`: newline-JSON events into the realtime index.
pub async fn push(
    State(state): State<AppState>,
    Path(datasource): Path<String>,
    body: Body,
) -> Response {
    let Some(realtime) = &state.realtime else {
        return role_not_here(&state, "realtime");
    };
    if datasource.is_empty() || datasource.contains('/') || datasource.starts_with('.') {
        return druid_error(
            StatusCode::BAD_REQUEST,
            format!("invalid datasource name [{datasource}]"),
        );
    }
    let body = match read_body(body, MAX_PUSH_BYTES).await {
        Ok(body) => body,
        Err(message) => return druid_error(StatusCode::PAYLOAD_TOO_LARGE, message),
    };
    match realtime
        .ask(|reply| RealtimeMessage::Push {
            datasource,
            body,
            reply,
        })
        .await
    {
        Ok(Ok(summary)) => json_response(
            StatusCode::OK,
            &json!({"accepted": summary.accepted}),
            false,
        ),
        Ok(Err(message)) => druid_error(StatusCode::BAD_REQUEST, message),
        Err(gone) => druid_error(StatusCode::SERVICE_UNAVAILABLE, gone.to_string()),
    }
}

/// `POST /druid/v2/push/{datasource}/metrics` with a `metricsSpec` array: the metrics of
/// the datasource's pushed rows (count, sums, min/max, sketches), before its first push.
pub async fn push_metrics(
    State(state): State<AppState>,
    Path(datasource): Path<String>,
    body: Body,
) -> Response {
    let Some(realtime) = &state.realtime else {
        return role_not_here(&state, "realtime");
    };
    let bytes = match read_body(body, MAX_TASK_BYTES).await {
        Ok(bytes) => bytes,
        Err(message) => return druid_error(StatusCode::PAYLOAD_TOO_LARGE, message),
    };
    let metrics = match serde_json::from_slice::<Value>(&bytes)
        .map_err(|err| format!("malformed metricsSpec JSON: {err}"))
        .and_then(|value| {
            henge_ingest::spec::parse_metrics_spec(&value).map_err(|err| err.to_string())
        }) {
        Ok(metrics) => metrics,
        Err(message) => return druid_error(StatusCode::BAD_REQUEST, message),
    };
    match realtime
        .ask(|reply| RealtimeMessage::SetMetrics {
            datasource,
            metrics,
            reply,
        })
        .await
    {
        Ok(Ok(())) => json_response(StatusCode::OK, &json!({"metrics": "set"}), false),
        Ok(Err(message)) => druid_error(StatusCode::BAD_REQUEST, message),
        Err(gone) => druid_error(StatusCode::SERVICE_UNAVAILABLE, gone.to_string()),
    }
}
