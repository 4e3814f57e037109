//! `POST /druid/v2/sql`: Druid SQL over the broker's native query path. The request
//! (`query`, `resultFormat`, `header`, `typesHeader`, `sqlTypesHeader`, `context`,
//! `parameters`) is prepared by `henge-sql` against the queried table's schema (a merged
//! segmentMetadata query through the broker; every served table's for INFORMATION_SCHEMA;
//! the rows of a `sys` table it reads from the cluster, `system`), run as a native query (a
//! top-level UNION ALL as one per branch, one after another; INFORMATION_SCHEMA, `sys`,
//! SELECT without FROM and EXPLAIN PLAN FOR answer without one), and written in the
//! requested result format (`format`). Every answer carries `X-Druid-SQL-Query-Id` (context
//! `sqlQueryId`, or a new UUID), under which the native query runs, so that
//! `DELETE /druid/v2/sql/{sqlQueryId}` cancels it. SQL errors answer 400 with Druid's
//! `DruidException` body; errors while running answer like native queries do.

mod arrow;
mod format;
mod system;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use henge_broker::Broker;
use henge_query::QueryError;
use henge_sql::{MapCatalog, Prepared, SqlError, SqlType, SystemTables};
use serde_json::{json, Map, Value};

use super::{json_response, read_body, role_not_here, AppState};
use format::{Format, Header};

pub async fn sql(State(state): State<AppState>, body: Body) -> Response {
    let Some(broker) = state.broker.clone() else {
        return role_not_here(&state, "broker");
    };
    let bytes = match read_body(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(message) => return sql_error(&SqlError::invalid(message)),
    };
    let request = match Request::parse(&bytes) {
        Ok(request) => request,
        Err(error) => return sql_error(&error),
    };
    let query_id = request.query_id.clone();
    let mut response = match run(&state, &broker, &request).await {
        Ok(response) => response,
        Err(Failure::Sql(error)) => sql_error(&error),
        Err(Failure::Query(error)) => {
            let host = matches!(error.status, 500 | 504).then_some(state.context.node_id.as_str());
            let status =
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json_response(status, &error.to_json(host), false)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&query_id) {
        response.headers_mut().insert("X-Druid-SQL-Query-Id", value);
    }
    response
}

/// `DELETE /druid/v2/sql/{sqlQueryId}`: cancels a running SQL query on this broker and its
/// data nodes; 202 Accepted when it was running here, else 404, as Druid's
/// `SqlResource.cancelQuery`.
pub async fn cancel(State(state): State<AppState>, Path(query_id): Path<String>) -> Response {
    let Some(broker) = &state.broker else {
        return role_not_here(&state, "broker");
    };
    let found = broker.cancel(&query_id);
    tracing::info!(sql_query_id = %query_id, running_here = found, "SQL cancel requested");
    if found {
        StatusCode::ACCEPTED.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// Why a SQL query failed: before running (400, SQL body) or while running (native body).
enum Failure {
    Sql(SqlError),
    Query(QueryError),
}

/// A parsed `/druid/v2/sql` request body.
struct Request {
    query: String,
    format: Format,
    header: Header,
    context: Map<String, Value>,
    parameters: Vec<Value>,
    query_id: String,
}

impl Request {
    fn parse(bytes: &[u8]) -> Result<Request, SqlError> {
        let body: Value = serde_json::from_slice(bytes)
            .map_err(|error| SqlError::invalid(format!("Malformed SQL request: {error}")))?;
        let query = body
            .get("query")
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .ok_or_else(|| SqlError::invalid("SQL query string must not be empty"))?
            .to_owned();
        let format = match body.get("resultFormat") {
            None | Some(Value::Null) => Format::Text(format::Text::Object),
            Some(Value::String(name)) => Format::parse(name)?,
            Some(other) => {
                return Err(SqlError::invalid(format!("Unknown resultFormat [{other}]")))
            }
        };
        let flag = |key: &str| body.get(key).and_then(Value::as_bool).unwrap_or(false);
        let header = Header {
            names: flag("header"),
            types: flag("typesHeader"),
            sql_types: flag("sqlTypesHeader"),
        };
        let mut context = match body.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(context)) => context.clone(),
            Some(_) => return Err(SqlError::invalid("SQL context must be an object")),
        };
        let parameters = match body.get("parameters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(parameters)) => parameters.clone(),
            Some(_) => return Err(SqlError::invalid("SQL parameters must be an array")),
        };
        let query_id = match context.get("sqlQueryId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => henge_broker::lifecycle::new_query_id(),
        };
        context.insert("sqlQueryId".into(), json!(query_id));
        Ok(Request {
            query,
            format,
            header,
            context,
            parameters,
            query_id,
        })
    }
}

async fn run(
    state: &AppState,
    broker: &Arc<Broker>,
    request: &Request,
) -> Result<Response, Failure> {
    let mut catalog = MapCatalog::default();
    catalog.set_lookups(state.limits.lookups.names());
    let tables = if henge_sql::reads_information_schema(&request.query) {
        served_tables(broker)
    } else {
        henge_sql::referenced_tables(&request.query)
    };
    for table in tables {
        if let Some(columns) = table_schema(state, broker, &table)
            .await
            .map_err(Failure::Query)?
        {
            catalog.insert(table, columns);
        }
    }
    let system = match henge_sql::system_table_read(&request.query) {
        Some(table) => system::rows(state, broker, &table).await.map_err(|error| {
            Failure::Query(QueryError::unknown(
                format!("could not read sys.{table}: {error:#}"),
                "java.lang.RuntimeException",
            ))
        })?,
        None => SystemTables::default(),
    };
    let prepared = henge_sql::prepare_with_system(
        &request.query,
        &request.parameters,
        &request.context,
        &catalog,
        &system,
    )
    .map_err(Failure::Sql)?;
    let planned = match prepared {
        Prepared::Native(planned) => planned,
        Prepared::Rows(answer) => {
            return Ok(format::respond(
                request.format,
                request.header,
                &answer.columns,
                &answer.rows,
            ))
        }
    };
    // A top-level UNION ALL runs its branches one after another and concatenates their rows.
    let mut rows = Vec::new();
    for branch in std::iter::once(&planned).chain(&planned.union_all) {
        let result = run_native(state, broker, &branch.native, &request.query_id).await?;
        rows.extend(branch.rows(&result).map_err(Failure::Sql)?);
    }
    Ok(format::respond(
        request.format,
        request.header,
        &planned.columns,
        &rows,
    ))
}

/// Runs one planned native query through the broker. It runs under the SQL query id (unless
/// the context names its own queryId), so that `DELETE /druid/v2/sql/{sqlQueryId}` can
/// cancel it.
async fn run_native(
    state: &AppState,
    broker: &Broker,
    native: &Value,
    query_id: &str,
) -> Result<Value, Failure> {
    let mut native = native.clone();
    if let Some(context) = native.get_mut("context").and_then(Value::as_object_mut) {
        context.entry("queryId").or_insert_with(|| json!(query_id));
    }
    let native = serde_json::to_vec(&native).map_err(|error| {
        Failure::Sql(SqlError::invalid(format!(
            "planned query does not serialize: {error}"
        )))
    })?;
    let query = henge_query::parse_query(&native, &state.limits).map_err(Failure::Query)?;
    broker.run(&query).await.map_err(Failure::Query)
}

/// The datasources with at least one served segment, sorted.
fn served_tables(broker: &Broker) -> Vec<String> {
    let names: std::collections::BTreeSet<String> = broker
        .view()
        .entries()
        .iter()
        .map(|entry| entry.segment.data_source.clone())
        .collect();
    names.into_iter().collect()
}

/// The columns of `table` and their SQL types (`__time` first), from a merged segmentMetadata
/// query over the broker; `None` when no segment of the table is served.
async fn table_schema(
    state: &AppState,
    broker: &Broker,
    table: &str,
) -> Result<Option<Vec<(String, SqlType)>>, QueryError> {
    let served = broker
        .view()
        .entries()
        .iter()
        .any(|entry| entry.segment.data_source == table);
    if !served {
        return Ok(None);
    }
    let metadata = json!({
        "queryType": "segmentMetadata",
        "dataSource": table,
        "merge": true,
        "analysisTypes": [],
    });
    let bytes = serde_json::to_vec(&metadata)
        .map_err(|error| QueryError::resource_limit(error.to_string()))?;
    let query = henge_query::parse_query(&bytes, &state.limits)?;
    let result = broker.run(&query).await?;
    let mut columns: Vec<(String, SqlType)> = vec![("__time".into(), SqlType::Timestamp)];
    let analyses = result
        .get(0)
        .and_then(|analysis| analysis.get("columns"))
        .and_then(Value::as_object);
    for (name, analysis) in analyses.into_iter().flatten() {
        if name == "__time" {
            continue;
        }
        let native = analysis
            .get("typeSignature")
            .or_else(|| analysis.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("STRING");
        columns.push((name.clone(), SqlType::from_native(name, native)));
    }
    Ok(Some(columns))
}

fn sql_error(error: &SqlError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &error.to_json(), false)
}
