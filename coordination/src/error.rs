//! The one error type of this crate.

use std::path::PathBuf;

use crate::store::LeaseId;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while talking to a coordination backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend cannot be reached or refused the request for a transient reason; the
    /// caller may retry.
    #[error("coordination store unavailable: {0}")]
    Unavailable(String),
    /// The lease does not exist any more (expired, revoked, or lost across a restart).
    #[error("lease {lease} expired or not found")]
    LeaseExpired { lease: LeaseId },
    /// A fenced write was rejected: the caller no longer holds leadership of `role`.
    #[error("not the leader for role {role}")]
    NotLeader { role: String },
    /// A watch asked for history that the backend no longer keeps; relist and watch again.
    #[error("watch revision {revision} is compacted; relist and watch again")]
    Compacted { revision: i64 },
    /// A watcher fell too far behind and was dropped; relist and watch again.
    #[error("watch fell behind and was cancelled; relist and watch again")]
    WatchLagged,
    /// The request is malformed (bad key, duplicate key in a transaction, too many ops).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The connection spec given to [`crate::connect`] is not understood.
    #[error("invalid coordination spec {spec:?}: expected \"embedded\" or \"etcd://host:port[,host:port][/namespace]\"")]
    InvalidSpec { spec: String },
    /// The embedded store's snapshot file is unreadable (torn or bit-flipped).
    #[error("embedded coordination snapshot {path} is corrupted: {reason}")]
    Corrupted { path: PathBuf, reason: String },
    /// A local file operation of the embedded store failed.
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A stored value is not the JSON that a typed helper expects.
    #[error("invalid json value at key {key}")]
    Json {
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// True for errors after which retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}
