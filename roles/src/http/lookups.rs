//! Druid's lookup API (`docs/api-reference/lookups-api.md`): the coordinator's
//! `/druid/coordinator/v1/lookups/config` endpoints over the configuration in the
//! coordination store, and the node-side introspection of a loaded lookup
//! (`/druid/v1/lookups/introspect/{name}`).
//!
//! Status codes and bodies follow Druid's `LookupCoordinatorResource`: writes answer 202,
//! a missing tier or lookup 404 with `{"error": ...}`, an uninitialized configuration 404.
//! Henge accepts only `map` lookup factories (others are a 400, where Druid stores any
//! factory its extensions know), and answers a version that does not replace the existing
//! one with 400 (Druid: 500).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use henge_coordination::lookups::{self, LookupConfig, LookupSpec, DEFAULT_TIER};
use henge_coordination::Error as StoreError;
use serde::Deserialize;
use serde_json::json;

use super::{json_response, read_body, role_not_here, AppState};

/// Largest lookup configuration accepted in one request (etcd's request limit is 1.5 MiB).
const MAX_LOOKUP_BYTES: usize = 1536 * 1024;

/// `?discover=` and `?detailed=`.
#[derive(Debug, Default, Deserialize)]
pub struct Flags {
    #[serde(default)]
    discover: bool,
    #[serde(default)]
    detailed: bool,
}

/// Druid's `ServletResourceUtils.sanitizeException` body.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "error": message.into() }), false)
}

fn store_error(err: StoreError) -> Response {
    match err {
        StoreError::InvalidArgument(message) => error(StatusCode::BAD_REQUEST, message),
        other => error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
    }
}

/// The configuration, or the response to give when the role is missing or the store fails.
async fn load(state: &AppState) -> Result<Option<LookupConfig>, Response> {
    if !state.runs_coordinator() {
        return Err(role_not_here(state, "coordinator"));
    }
    lookups::config(state.context.store.as_ref())
        .await
        .map_err(store_error)
}

/// Checks every factory (only `map` is supported) before anything is written; the error
/// is the message of the first bad one.
fn validate(config: &LookupConfig) -> Result<(), String> {
    for (tier, specs) in config {
        for (name, spec) in specs {
            if let Err(err) = henge_query::parse_lookup_factory(&spec.lookup_extractor_factory) {
                return Err(format!("lookup [{tier}]:[{name}]: {}", err.error_message));
            }
        }
    }
    Ok(())
}

async fn write(state: &AppState, config: &LookupConfig) -> Result<(), Response> {
    validate(config).map_err(|message| error(StatusCode::BAD_REQUEST, message))?;
    lookups::update(state.context.store.as_ref(), config)
        .await
        .map_err(store_error)
}

async fn read_json<T: serde::de::DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes = read_body(body, MAX_LOOKUP_BYTES)
        .await
        .map_err(|message| error(StatusCode::PAYLOAD_TOO_LARGE, message))?;
    serde_json::from_slice(&bytes).map_err(|err| error(StatusCode::BAD_REQUEST, err.to_string()))
}

/// `GET .../lookups/config`: the tiers (`?discover=true` adds the tier nodes load).
pub async fn tiers(State(state): State<AppState>, Query(flags): Query<Flags>) -> Response {
    let config = match load(&state).await {
        Ok(config) => config,
        Err(response) => return response,
    };
    let mut tiers: Vec<String> = config.iter().flat_map(|c| c.keys().cloned()).collect();
    if flags.discover {
        if !tiers.iter().any(|tier| tier == DEFAULT_TIER) {
            tiers.push(DEFAULT_TIER.to_owned());
        }
    } else if config.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    json_response(StatusCode::OK, &json!(tiers), false)
}

/// `GET .../lookups/config/all`: every tier with its lookups.
pub async fn all(State(state): State<AppState>) -> Response {
    match load(&state).await {
        Ok(Some(config)) => json_response(StatusCode::OK, &json!(config), false),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(response) => response,
    }
}

/// `POST .../lookups/config`: merges tiers of lookups into the configuration (`{}`
/// initializes it); answers 202 with the posted configuration.
pub async fn update_all(State(state): State<AppState>, body: Body) -> Response {
    if !state.runs_coordinator() {
        return role_not_here(&state, "coordinator");
    }
    let config: LookupConfig = match read_json(body).await {
        Ok(config) => config,
        Err(response) => return response,
    };
    match write(&state, &config).await {
        Ok(()) => json_response(StatusCode::ACCEPTED, &json!(config), false),
        Err(response) => response,
    }
}

/// `GET .../lookups/config/{tier}`: the tier's lookup names (`?detailed=true`: the specs).
pub async fn tier(
    State(state): State<AppState>,
    Path(tier): Path<String>,
    Query(flags): Query<Flags>,
) -> Response {
    let config = match load(&state).await {
        Ok(Some(config)) => config,
        Ok(None) => return error(StatusCode::NOT_FOUND, "No lookups found"),
        Err(response) => return response,
    };
    match config.get(&tier) {
        None => error(StatusCode::NOT_FOUND, format!("Tier [{tier}] not found")),
        Some(specs) if flags.detailed => json_response(StatusCode::OK, &json!(specs), false),
        Some(specs) => {
            let names: Vec<&String> = specs.keys().collect();
            json_response(StatusCode::OK, &json!(names), false)
        }
    }
}

/// `DELETE .../lookups/config/{tier}`.
pub async fn delete_tier(State(state): State<AppState>, Path(tier): Path<String>) -> Response {
    if !state.runs_coordinator() {
        return role_not_here(&state, "coordinator");
    }
    match lookups::delete_tier(state.context.store.as_ref(), &tier).await {
        Ok(true) => StatusCode::ACCEPTED.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => store_error(err),
    }
}

/// `GET .../lookups/config/{tier}/{name}`: `{"version", "lookupExtractorFactory"}`.
pub async fn lookup(
    State(state): State<AppState>,
    Path((tier, name)): Path<(String, String)>,
) -> Response {
    let config = match load(&state).await {
        Ok(config) => config.unwrap_or_default(),
        Err(response) => return response,
    };
    match config.get(&tier).and_then(|specs| specs.get(&name)) {
        Some(spec) => json_response(StatusCode::OK, &json!(spec), false),
        None => error(StatusCode::NOT_FOUND, format!("lookup [{name}] not found")),
    }
}

/// `POST .../lookups/config/{tier}/{name}`: creates or replaces one lookup.
pub async fn update_one(
    State(state): State<AppState>,
    Path((tier, name)): Path<(String, String)>,
    body: Body,
) -> Response {
    if !state.runs_coordinator() {
        return role_not_here(&state, "coordinator");
    }
    let spec: LookupSpec = match read_json(body).await {
        Ok(spec) => spec,
        Err(response) => return response,
    };
    let config = BTreeMap::from([(tier, BTreeMap::from([(name, spec)]))]);
    match write(&state, &config).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(response) => response,
    }
}

/// `DELETE .../lookups/config/{tier}/{name}`.
pub async fn delete_one(
    State(state): State<AppState>,
    Path((tier, name)): Path<(String, String)>,
) -> Response {
    if !state.runs_coordinator() {
        return role_not_here(&state, "coordinator");
    }
    match lookups::delete(state.context.store.as_ref(), &tier, &name).await {
        Ok(true) => StatusCode::ACCEPTED.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => store_error(err),
    }
}

/// `GET /druid/v1/lookups/introspect/{name}`: the map this node has loaded.
pub async fn introspect(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.limits.lookups.get(&name) {
        Some(map) => json_response(StatusCode::OK, &json!(*map), false),
        None => error(StatusCode::NOT_FOUND, format!("lookup [{name}] not found")),
    }
}
