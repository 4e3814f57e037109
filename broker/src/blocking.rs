//! Query work that runs for a while (scans, merges, finalization) goes to tokio's blocking
//! pool so the async runtime keeps answering deadlines and cancellations meanwhile.

use henge_query::QueryError;

/// Runs `work` on the blocking pool; a panic in it becomes Druid's `Unknown exception`
/// naming `what` ("merge", "segment scan", …).
pub async fn off_runtime<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, QueryError> + Send + 'static,
) -> Result<T, QueryError> {
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        QueryError::unknown(
            format!("{what} failed: {err}"),
            "java.lang.RuntimeException",
        )
    })?
}
