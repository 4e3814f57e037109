//! The lifecycle of a query on the broker: its id (the client's `queryId` or a generated
//! UUID), the context values that steer it (`timeout`, `priority`, `useCache`,
//! `populateCache`, read with Druid's rules and errors), and the registry of running queries
//! that `DELETE /druid/v2/{queryId}` cancels. A query's registration remembers the data nodes
//! it was sent to, so that a cancelled or timed-out query is stopped there too.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use henge_proto::CancelRequest;
use henge_query::{Query, QueryError};
use rand::RngCore;
use tokio_util::sync::CancellationToken;

use crate::view::ServerView;

/// Druid's `QueryContexts.DEFAULT_TIMEOUT_MILLIS` (`druid.server.http.defaultQueryTimeout`).
pub const DEFAULT_TIMEOUT_MS: u64 = 300_000;
/// How long the broker waits for a data node to acknowledge a cancellation.
const CANCEL_RPC_TIMEOUT: Duration = Duration::from_secs(2);

/// The context values the broker acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOptions {
    /// Milliseconds the query may run; 0 = no timeout (Druid's `NO_TIMEOUT`).
    pub timeout_ms: u64,
    /// Druid's `priority` (higher first); data nodes hand out scan slots by it.
    pub priority: i32,
    pub use_cache: bool,
    pub populate_cache: bool,
    /// Druid's `useResultLevelCache` / `populateResultLevelCache`: whether the query's final
    /// result may be read from / stored in the broker's result-level cache. Each defaults to
    /// its per-segment counterpart (Druid also needs a broker setting to turn it on).
    pub use_result_cache: bool,
    pub populate_result_cache: bool,
}

impl QueryOptions {
    /// Reads the options of `query`; `default_timeout_ms` applies when it sets no `timeout`.
    pub fn of(query: &Query, default_timeout_ms: u64) -> Result<QueryOptions, QueryError> {
        query.context_string("queryId")?;
        let timeout_ms = match query.context_long("timeout")? {
            None => default_timeout_ms,
            Some(timeout) => u64::try_from(timeout).map_err(|_| {
                QueryError::bad_context(format!(
                    "Timeout [timeout] must be a non negative value, but was {timeout}"
                ))
            })?,
        };
        let use_cache = query.context_bool("useCache")?.unwrap_or(true);
        let populate_cache = query.context_bool("populateCache")?.unwrap_or(true);
        Ok(QueryOptions {
            timeout_ms,
            priority: query.context_int("priority")?.unwrap_or(0),
            use_cache,
            populate_cache,
            use_result_cache: query
                .context_bool("useResultLevelCache")?
                .unwrap_or(use_cache),
            populate_result_cache: query
                .context_bool("populateResultLevelCache")?
                .unwrap_or(populate_cache),
        })
    }
}

/// A random (version 4) UUID, Druid's format for generated query ids.
pub fn new_query_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `query` with a `queryId`: its own when it has one (a non-string one is left for
/// [`QueryOptions::of`] to reject), else a new UUID.
pub fn with_query_id(query: Query) -> Query {
    if query.context().contains_key("queryId") {
        query
    } else {
        query.with_id(&new_query_id())
    }
}

/// One running query: its cancellation token and the data nodes it was sent to.
#[derive(Default)]
pub struct RunningQuery {
    token: CancellationToken,
    nodes: Mutex<BTreeSet<String>>,
}

impl RunningQuery {
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Records that part of the query was sent to `node_id`.
    pub fn sent_to(&self, node_id: &str) {
        self.lock().insert(node_id.to_owned());
    }

    pub fn nodes(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.nodes.lock().expect("running query lock poisoned")
    }
}

type Registry = Mutex<HashMap<String, Vec<Arc<RunningQuery>>>>;

/// The queries running on this broker, by id.
#[derive(Default)]
pub struct RunningQueries {
    queries: Arc<Registry>,
}

/// A query's place in [`RunningQueries`]; dropping it unregisters the query.
pub struct Registration {
    queries: Arc<Registry>,
    id: String,
    query: Arc<RunningQuery>,
}

impl Registration {
    pub fn query(&self) -> &RunningQuery {
        &self.query
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut queries = self.queries.lock().expect("running queries lock poisoned");
        if let Some(list) = queries.get_mut(&self.id) {
            list.retain(|query| !Arc::ptr_eq(query, &self.query));
            if list.is_empty() {
                queries.remove(&self.id);
            }
        }
    }
}

impl RunningQueries {
    pub fn register(&self, id: &str) -> Registration {
        let query = Arc::new(RunningQuery::default());
        self.lock()
            .entry(id.to_owned())
            .or_default()
            .push(Arc::clone(&query));
        Registration {
            queries: Arc::clone(&self.queries),
            id: id.to_owned(),
            query,
        }
    }

    /// Cancels every running query with this id; returns how many there were.
    pub fn cancel(&self, id: &str) -> usize {
        let queries = self.lock();
        let list = queries.get(id).map(Vec::as_slice).unwrap_or_default();
        for query in list {
            query.token.cancel();
        }
        list.len()
    }

    /// Queries running now.
    pub fn running(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Arc<RunningQuery>>>> {
        self.queries.lock().expect("running queries lock poisoned")
    }
}

/// Tells `nodes` to stop their work on `query_id`, in the background (best effort: a node
/// that does not answer also loses the query's RPC, which stops its work too).
pub fn cancel_on_nodes(view: &ServerView, query_id: &str, nodes: &[String]) {
    for node_id in nodes {
        let Some(mut client) = view.client(node_id) else {
            continue;
        };
        let request = CancelRequest {
            query_id: query_id.to_owned(),
        };
        let node_id = node_id.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(CANCEL_RPC_TIMEOUT, client.cancel_query(request)).await {
                Ok(Ok(_)) => {}
                Ok(Err(status)) => {
                    tracing::debug!(node = %node_id, error = %status, "cancel not delivered")
                }
                Err(_) => tracing::debug!(node = %node_id, "cancel not acknowledged in time"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use henge_query::Limits;
    use serde_json::json;

    use super::*;

    fn parse(context: serde_json::Value) -> Query {
        let body = json!({"queryType": "timeBoundary", "dataSource": "d", "context": context});
        henge_query::parse_query(body.to_string().as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn options_follow_druid_defaults_and_types() {
        let defaults = QueryOptions::of(&parse(json!({})), DEFAULT_TIMEOUT_MS).unwrap();
        assert_eq!(
            defaults,
            QueryOptions {
                timeout_ms: 300_000,
                priority: 0,
                use_cache: true,
                populate_cache: true,
                use_result_cache: true,
                populate_result_cache: true,
            }
        );
        let set = parse(
            json!({"timeout": "1500", "priority": 10, "useCache": "false",
                               "populateCache": false}),
        );
        let set = QueryOptions::of(&set, DEFAULT_TIMEOUT_MS).unwrap();
        assert_eq!((set.timeout_ms, set.priority), (1500, 10));
        assert!(!set.use_cache && !set.populate_cache);
        // The result-level flags follow the per-segment ones unless set themselves.
        assert!(!set.use_result_cache && !set.populate_result_cache);
        let own = parse(json!({"useCache": false, "useResultLevelCache": "true"}));
        let own = QueryOptions::of(&own, DEFAULT_TIMEOUT_MS).unwrap();
        assert!(own.use_result_cache && own.populate_result_cache && !own.use_cache);
        assert_eq!(
            QueryOptions::of(&parse(json!({"timeout": 0})), 5)
                .unwrap()
                .timeout_ms,
            0
        );

        let negative = QueryOptions::of(&parse(json!({"timeout": -5})), 1).unwrap_err();
        assert_eq!(negative.status, 400);
        assert_eq!(negative.error, "Query context parse failed");
        assert_eq!(
            negative.error_message,
            "Timeout [timeout] must be a non negative value, but was -5"
        );
        let bad_priority = QueryOptions::of(&parse(json!({"priority": "high"})), 1).unwrap_err();
        assert_eq!(
            bad_priority.error_message,
            "Expected key [priority] to be in integer format, but got [high]"
        );
        let bad_id = QueryOptions::of(&parse(json!({"queryId": 12})), 1).unwrap_err();
        assert_eq!(
            bad_id.error_message,
            "Expected key [queryId] to be a String, but got [java.lang.Integer]"
        );
    }

    #[test]
    fn queries_get_uuid_ids_unless_they_have_one() {
        let id = new_query_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4', "version 4: {id}");
        assert_ne!(id, new_query_id());
        let generated = with_query_id(parse(json!({})));
        assert_eq!(generated.id().map(str::len), Some(36));
        let own = with_query_id(parse(json!({"queryId": "mine"})));
        assert_eq!(own.id(), Some("mine"));
    }

    #[test]
    fn cancel_reaches_every_registration_of_an_id() {
        let running = RunningQueries::default();
        let first = running.register("q");
        let second = running.register("q");
        let other = running.register("r");
        first.query().sent_to("n1");
        first.query().sent_to("n1");
        assert_eq!(first.query().nodes(), vec!["n1".to_string()]);
        assert_eq!(running.cancel("q"), 2);
        assert!(first.query().token().is_cancelled() && second.query().token().is_cancelled());
        assert!(!other.query().token().is_cancelled());
        assert_eq!(running.cancel("nope"), 0);
        drop(first);
        drop(second);
        assert_eq!(running.running(), 1);
    }
}
