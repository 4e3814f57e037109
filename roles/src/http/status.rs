//! `GET /status` and `GET /status/health`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::{json_response, AppState};

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

/// Resident set size of this process, from /proc (0 where unavailable).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
