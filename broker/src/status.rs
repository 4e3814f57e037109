//! Query errors across gRPC: a data node sends Druid's error body as the status message,
//! and the broker turns it back into the same [`QueryError`], so a client sees the error
//! the failing node produced.

use henge_query::QueryError;
use tonic::{Code, Status};

/// The gRPC status a data node returns for a failed query.
pub fn status_from_error(error: &QueryError, host: &str) -> Status {
    let code = match error.status {
        400 => Code::InvalidArgument,
        501 => Code::Unimplemented,
        504 => Code::DeadlineExceeded,
        _ => Code::Internal,
    };
    Status::new(code, error.to_json(Some(host)).to_string())
}

/// The query error behind a data node's gRPC status.
pub fn error_from_status(status: &Status) -> QueryError {
    serde_json::from_str(status.message())
        .ok()
        .and_then(|body| QueryError::from_json(&body))
        .unwrap_or_else(|| match status.code() {
            Code::DeadlineExceeded => QueryError::timeout(),
            _ => QueryError::unknown(
                format!("data node failed: {}", status.message()),
                "org.apache.druid.query.QueryInterruptedException",
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_survive_the_round_trip() {
        let error = QueryError::timeout();
        let back = error_from_status(&status_from_error(&error, "h:1"));
        assert_eq!(back, error);
        let other = error_from_status(&Status::unavailable("down"));
        assert_eq!(other.status, 500);
    }
}
