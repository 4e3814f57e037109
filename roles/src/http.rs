//! The HTTP API of a node: Druid's JSON endpoints for the roles this process runs, merged
//! with the internode gRPC service on the same port (HTTP/1.1 for clients, h2c for gRPC).
//!
//! An endpoint of a role this node does not run answers 404 with an error body that says
//! which roles the node has.

mod indexer;
mod lookups;
mod query;
mod sql;
mod status;

use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use henge_broker::Broker;
use henge_query::Limits;
use serde_json::{json, Value};

use crate::actor::Mailbox;
use crate::context::NodeContext;
use crate::overlord::OverlordMessage;
use crate::realtime::RealtimeMessage;
use crate::role::Role;

/// Largest push body (newline JSON events).
const MAX_PUSH_BYTES: usize = 64 * 1024 * 1024;
/// Largest task spec.
const MAX_TASK_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub context: Arc<NodeContext>,
    pub broker: Option<Arc<Broker>>,
    pub overlord: Option<Mailbox<OverlordMessage>>,
    pub realtime: Option<Mailbox<RealtimeMessage>>,
    pub limits: Limits,
}

impl AppState {
    /// Whether this node runs the coordinator role.
    pub fn runs_coordinator(&self) -> bool {
        self.context.config.roles.contains(&Role::Coordinator)
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/status", get(status::status))
        .route("/status/health", get(status::health))
        .route("/status/selfDiscovered", get(status::self_discovered))
        .route(
            "/status/selfDiscovered/status",
            get(status::self_discovered_status),
        )
        .route(
            "/druid/broker/v1/loadstatus",
            get(status::broker_load_status),
        )
        .route("/druid/broker/v1/readiness", get(status::broker_readiness))
        .route(
            "/druid/historical/v1/loadstatus",
            get(status::historical_load_status),
        )
        .route(
            "/druid/historical/v1/readiness",
            get(status::historical_readiness),
        )
        .route(
            "/druid/coordinator/v1/leader",
            get(status::coordinator_leader),
        )
        .route("/druid/indexer/v1/leader", get(status::overlord_leader))
        .route("/druid/v2", post(query::native))
        .route("/druid/v2/", post(query::native))
        .route("/druid/v2/{id}", delete(query::cancel))
        .route("/druid/v2/sql", post(sql::sql))
        .route("/druid/v2/sql/", post(sql::sql))
        .route("/druid/v2/sql/{id}", delete(sql::cancel))
        .route("/druid/v2/candidates", post(query::candidates))
        .route("/druid/v2/datasources", get(query::datasources))
        .route("/druid/v2/datasources/{name}", get(query::datasource))
        .route("/druid/v2/push/{datasource}", post(indexer::push))
        .route(
            "/druid/v2/push/{datasource}/metrics",
            post(indexer::push_metrics),
        )
        .route("/druid/indexer/v1/task", post(indexer::submit))
        .route("/druid/indexer/v1/tasks", get(indexer::list))
        .route("/druid/indexer/v1/task/{id}", get(indexer::payload))
        .route("/druid/indexer/v1/task/{id}/status", get(indexer::status))
        .route("/druid/indexer/v1/task/{id}/reports", get(indexer::reports))
        .route(
            "/druid/coordinator/v1/datasources",
            get(indexer::used_datasources),
        )
        .route(
            "/druid/coordinator/v1/lookups/config",
            get(lookups::tiers).post(lookups::update_all),
        )
        .route(
            "/druid/coordinator/v1/lookups/config/all",
            get(lookups::all),
        )
        .route(
            "/druid/coordinator/v1/lookups/config/{tier}",
            get(lookups::tier).delete(lookups::delete_tier),
        )
        .route(
            "/druid/coordinator/v1/lookups/config/{tier}/{name}",
            get(lookups::lookup)
                .post(lookups::update_one)
                .delete(lookups::delete_one),
        )
        .route(
            "/druid/v1/lookups/introspect/{name}",
            get(lookups::introspect),
        )
        .with_state(state)
}

/// A JSON response with a status code.
pub fn json_response(status: StatusCode, body: &Value, pretty: bool) -> Response {
    let text = if pretty {
        serde_json::to_string_pretty(body)
    } else {
        serde_json::to_string(body)
    }
    .expect("json values serialize");
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

/// Druid's newer error body (`DruidException`), used by the indexer and coordinator APIs.
pub fn druid_error(status: StatusCode, message: impl Into<String>) -> Response {
    let category = match status.as_u16() {
        404 => "NOT_FOUND",
        400..=499 => "INVALID_INPUT",
        503 => "RUNTIME_FAILURE",
        _ => "UNCATEGORIZED",
    };
    let code = match status.as_u16() {
        404 => "notFound",
        400..=499 => "invalidInput",
        _ => "internalServerError",
    };
    let body = json!({
        "error": "druidException",
        "errorCode": code,
        "persona": "USER",
        "category": category,
        "errorMessage": message.into(),
        "context": {},
    });
    json_response(status, &body, false)
}

/// 404 for an endpoint whose role this node does not run.
pub fn role_not_here(state: &AppState, role: &str) -> Response {
    let roles: Vec<&str> = state
        .context
        .config
        .roles
        .iter()
        .map(|role| role.as_str())
        .collect();
    druid_error(
        StatusCode::NOT_FOUND,
        format!(
            "this node does not run the {role} role (roles: {})",
            roles.join(",")
        ),
    )
}

/// Reads a request body up to `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, String> {
    to_bytes(body, limit)
        .await
        .map_err(|_| format!("request body exceeds the limit of {limit} bytes"))
}
