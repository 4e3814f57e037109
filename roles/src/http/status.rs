//! `GET /status` and `GET /status/health`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use henge_coordination::Election;
use serde_json::json;

use super::{druid_error, json_response, role_not_here, AppState};
use crate::role::Role;

/// Druid's status object, plus Henge's per-role readiness under `henge`.
pub async fn status(State(state): State<AppState>) -> Response {
    let rss = resident_bytes();
    let roles = state.context.readiness.snapshot();
    let body = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "modules": [],
        "memory": {
            "maxMemory": rss,
            "totalMemory": rss,
            "freeMemory": 0,
            "usedMemory": rss,
            "directMemory": 0,
        },
        "henge": {
            "nodeId": state.context.node_id,
            "ready": state.context.readiness.all_ready(),
            "roles": roles.iter().map(|(role, status)| (role.as_str().to_string(), json!(status))).collect::<serde_json::Map<_, _>>(),
            "heldBy": state.context.readiness.holds(),
            // Query calls of the data-node service running now, and those that ended
            // without an answer (cancelled, timed out, dropped by the broker).
            "queries": {
                "running": state.context.running.running(),
                "interrupted": state.context.running.interrupted(),
                "brokerRunning": state.broker.as_ref().map(|broker| broker.running().running()),
            },
        },
    });
    json_response(StatusCode::OK, &body, false)
}

/// `true` once every role of the node can serve; `false` with 503 before.
pub async fn health(State(state): State<AppState>) -> Response {
    if state.context.readiness.all_ready() {
        json_response(StatusCode::OK, &json!(true), false)
    } else {
        json_response(StatusCode::SERVICE_UNAVAILABLE, &json!(false), false)
    }
}

/// `GET /status/selfDiscovered`: 200 once the node is ready (announced as serving), else 503.
pub async fn self_discovered(State(state): State<AppState>) -> Response {
    if state.context.readiness.all_ready() {
        StatusCode::OK.into_response()
    } else {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }
}

/// `GET /status/selfDiscovered/status` → `{"selfDiscovered": bool}`.
pub async fn self_discovered_status(State(state): State<AppState>) -> Response {
    let body = json!({"selfDiscovered": state.context.readiness.all_ready()});
    json_response(StatusCode::OK, &body, false)
}

fn role_ready(state: &AppState, role: Role) -> Option<bool> {
    state
        .context
        .readiness
        .snapshot()
        .get(&role)
        .map(|status| status.ready)
}

/// `GET /druid/broker/v1/loadstatus` → `{"inventoryInitialized": bool}`.
pub async fn broker_load_status(State(state): State<AppState>) -> Response {
    match role_ready(&state, Role::Broker) {
        Some(ready) => json_response(
            StatusCode::OK,
            &json!({"inventoryInitialized": ready}),
            false,
        ),
        None => role_not_here(&state, "broker"),
    }
}

/// `GET /druid/broker/v1/readiness`: 200 once the broker has every data node's inventory.
pub async fn broker_readiness(State(state): State<AppState>) -> Response {
    readiness_code(&state, Role::Broker)
}

/// `GET /druid/historical/v1/loadstatus` → `{"cacheInitialized": bool}`.
pub async fn historical_load_status(State(state): State<AppState>) -> Response {
    match role_ready(&state, Role::Historical) {
        Some(ready) => json_response(StatusCode::OK, &json!({"cacheInitialized": ready}), false),
        None => role_not_here(&state, "historical"),
    }
}

/// `GET /druid/historical/v1/readiness`: 200 once the local cache is loaded and announced.
pub async fn historical_readiness(State(state): State<AppState>) -> Response {
    readiness_code(&state, Role::Historical)
}

fn readiness_code(state: &AppState, role: Role) -> Response {
    match role_ready(state, role) {
        Some(true) => StatusCode::OK.into_response(),
        Some(false) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        None => role_not_here(state, role.as_str()),
    }
}

/// `GET /druid/coordinator/v1/leader`: the leading coordinator's URL, as plain text.
pub async fn coordinator_leader(State(state): State<AppState>) -> Response {
    leader(&state, Role::Coordinator).await
}

/// `GET /druid/indexer/v1/leader`: the leading overlord's URL, as plain text.
pub async fn overlord_leader(State(state): State<AppState>) -> Response {
    leader(&state, Role::Overlord).await
}

async fn leader(state: &AppState, role: Role) -> Response {
    let election = Election::new(Arc::clone(&state.context.store));
    match election.current_leader(role.as_str()).await {
        Ok(Some(node)) => (StatusCode::OK, format!("http://{node}")).into_response(),
        Ok(None) => druid_error(
            StatusCode::NOT_FOUND,
            format!("no {role} leader is elected"),
        ),
        Err(err) => druid_error(StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
    }
}

/// Resident set size of this process, from /proc (0 where unavailable).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
