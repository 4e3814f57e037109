//! The etcd backend (etcd v3 API through `etcd-client`), for clusters.
//!
//! - Every key is stored under a namespace prefix, so several clusters (or test cases) can
//!   share one etcd; the prefix is added on writes and stripped on reads.
//! - The client reconnects by itself; while etcd is unreachable, calls fail with
//!   [`Error::Unavailable`] after [`REQUEST_TIMEOUT`] and the caller retries.
//! - `get_stream` is not used: it needs etcd 3.7 and Debian ships 3.4.

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{
    Client, CompareOp, ConnectOptions, DeleteOptions, EventType, GetOptions, PutOptions, TxnOp,
    WatchOptions,
};
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::store::{
    Compare, KeyValue, LeaseId, MetaStore, Op, Txn, WatchEvent, WatchEventKind, WatchStream,
};

/// Upper bound of one request (not of a watch or a keep-alive stream).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// HTTP/2 pings that notice a dead connection under a quiet watch. Only sent while a
/// stream is open, and no more often than etcd's `--grpc-keepalive-min-time` (5 s) allows,
/// or etcd would close the connection for pinging too much.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);

/// A [`MetaStore`] on an etcd cluster.
#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    namespace: String,
}

impl EtcdStore {
    /// Connects to `endpoints` (`host:port` or `http://host:port`). Every key is stored
    /// as `namespace + key`; use `""` for none. The connection is made lazily, so this
    /// succeeds even while etcd is down.
    pub async fn connect(endpoints: &[String], namespace: &str) -> Result<Self> {
        let options = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, REQUEST_TIMEOUT)
            .with_keep_alive_while_idle(false);
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(map_err)?;
        tracing::info!(?endpoints, namespace, "connected to etcd");
        Ok(Self {
            client,
            namespace: namespace.to_string(),
        })
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }
}

fn convert_kv(namespace: &str, kv: &etcd_client::KeyValue) -> Result<KeyValue> {
    Ok(KeyValue {
        key: strip_namespace(namespace, kv.key())?,
        value: kv.value().to_vec(),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        lease: (kv.lease() != 0).then_some(kv.lease()),
    })
}

fn strip_namespace(namespace: &str, key: &[u8]) -> Result<String> {
    let relative = key.strip_prefix(namespace.as_bytes()).ok_or_else(|| {
        Error::InvalidArgument("etcd returned a key outside the namespace".into())
    })?;
    String::from_utf8(relative.to_vec())
        .map_err(|_| Error::InvalidArgument("etcd returned a key that is not utf-8".into()))
}

/// Maps a client error: malformed requests are the caller's fault, the rest is treated as
/// a transient outage.
fn map_err(err: etcd_client::Error) -> Error {
    if let etcd_client::Error::GRpcStatus(status) = &err {
        let message = status.message();
        if message.contains("duplicate key")
            || message.contains("too many operations")
            || message.contains("key is not provided")
            || message.contains("request is too large")
        {
            return Error::InvalidArgument(message.to_string());
        }
    }
    Error::Unavailable(err.to_string())
}

fn is_lease_not_found(err: &etcd_client::Error) -> bool {
    match err {
        etcd_client::Error::GRpcStatus(status) => status.message().contains("lease not found"),
        etcd_client::Error::LeaseKeepAliveError(message) => message.contains("lease not found"),
        _ => false,
    }
}

fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Result<i64> {
    header
        .map(etcd_client::ResponseHeader::revision)
        .ok_or_else(|| Error::Unavailable("etcd response without header".into()))
}

#[async_trait]
impl MetaStore for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let response = self
            .client
            .clone()
            .get(self.full_key(key), None)
            .await
            .map_err(map_err)?;
        response
            .kvs()
            .first()
            .map(|kv| convert_kv(&self.namespace, kv))
            .transpose()
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, i64)> {
        let response = self
            .client
            .clone()
            .get(self.full_key(prefix), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(map_err)?;
        let kvs = response
            .kvs()
            .iter()
            .map(|kv| convert_kv(&self.namespace, kv))
            .collect::<Result<Vec<_>>>()?;
        Ok((kvs, header_revision(response.header())?))
    }

    async fn put(&self, key: &str, value: Vec<u8>, lease: Option<LeaseId>) -> Result<i64> {
        let options = lease.map(|lease_id| PutOptions::new().with_lease(lease_id));
        let response = self
            .client
            .clone()
            .put(self.full_key(key), value, options)
            .await
            .map_err(|err| match lease {
                Some(lease_id) if is_lease_not_found(&err) => {
                    Error::LeaseExpired { lease: lease_id }
                }
                _ => map_err(err),
            })?;
        header_revision(response.header())
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let response = self
            .client
            .clone()
            .delete(self.full_key(key), None)
            .await
            .map_err(map_err)?;
        Ok(response.deleted() > 0)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64> {
        let response = self
            .client
            .clone()
            .delete(
                self.full_key(prefix),
                Some(DeleteOptions::new().with_prefix()),
            )
            .await
            .map_err(map_err)?;
        Ok(response.deleted().max(0) as u64)
    }

    async fn txn(&self, txn: Txn) -> Result<bool> {
        txn.validate()?;
        let first_lease_opt = txn.ops.iter().find_map(|op| match op {
            Op::Put { lease, .. } => *lease,
            Op::Delete { .. } => None,
        });
        let compares: Vec<etcd_client::Compare> = txn
            .compares
            .iter()
            .map(|compare| match compare {
                Compare::ValueEquals(key, value) => {
                    etcd_client::Compare::value(self.full_key(key), CompareOp::Equal, value.clone())
                }
                Compare::ModRevision(key, revision) => etcd_client::Compare::mod_revision(
                    self.full_key(key),
                    CompareOp::Equal,
                    *revision,
                ),
                Compare::CreateRevision(key, revision) => etcd_client::Compare::create_revision(
                    self.full_key(key),
                    CompareOp::Equal,
                    *revision,
                ),
                Compare::Absent(key) => {
                    etcd_client::Compare::version(self.full_key(key), CompareOp::Equal, 0)
                }
            })
            .collect();
        let ops: Vec<TxnOp> = txn
            .ops
            .into_iter()
            .map(|op| match op {
                Op::Put { key, value, lease } => TxnOp::put(
                    self.full_key(&key),
                    value,
                    lease.map(|lease_id| PutOptions::new().with_lease(lease_id)),
                ),
                Op::Delete { key } => TxnOp::delete(self.full_key(&key), None),
            })
            .collect();
        let request = etcd_client::Txn::new().when(compares).and_then(ops);
        let response =
            self.client
                .clone()
                .txn(request)
                .await
                .map_err(|err| match first_lease_opt {
                    Some(lease_id) if is_lease_not_found(&err) => {
                        Error::LeaseExpired { lease: lease_id }
                    }
                    _ => map_err(err),
                })?;
        Ok(response.succeeded())
    }

    async fn grant_lease(&self, ttl: Duration) -> Result<LeaseId> {
        let ttl_secs = ttl.as_secs_f64().ceil().max(1.0) as i64;
        let response = self
            .client
            .clone()
            .lease_grant(ttl_secs, None)
            .await
            .map_err(map_err)?;
        Ok(response.id())
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<()> {
        // One refresh: the client sends the first keep-alive and checks its answer before
        // handing back the stream, which is dropped right away.
        match self.client.clone().lease_keep_alive(lease).await {
            Ok(_keeper_and_stream) => Ok(()),
            Err(err) if is_lease_not_found(&err) => Err(Error::LeaseExpired { lease }),
            Err(err) => Err(map_err(err)),
        }
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<()> {
        match self.client.clone().lease_revoke(lease).await {
            Ok(_) => Ok(()),
            Err(err) if is_lease_not_found(&err) => Ok(()),
            Err(err) => Err(map_err(err)),
        }
    }

    async fn watch_prefix(&self, prefix: &str, from_revision: i64) -> Result<WatchStream> {
        let mut options = WatchOptions::new().with_prefix();
        if from_revision > 0 {
            // etcd's start revision is inclusive; ours is "after".
            options = options.with_start_revision(from_revision + 1);
        }
        let mut stream = self
            .client
            .clone()
            .watch(self.full_key(prefix), Some(options))
            .await
            .map_err(map_err)?;
        let created = stream.message().await.map_err(map_err)?;
        match created {
            Some(response) if response.created() && !response.canceled() => {}
            Some(response) => return Err(cancel_error(&response, from_revision)),
            None => return Err(Error::Unavailable("watch closed before it started".into())),
        }
        let state = EtcdWatch {
            stream,
            namespace: self.namespace.clone(),
            pending: VecDeque::new(),
            from_revision,
            done: false,
        };
        Ok(futures::stream::unfold(state, EtcdWatch::next).boxed())
    }
}

fn cancel_error(response: &etcd_client::WatchResponse, from_revision: i64) -> Error {
    if response.compact_revision() > 0 {
        Error::Compacted {
            revision: from_revision,
        }
    } else {
        Error::Unavailable(format!("watch cancelled: {}", response.cancel_reason()))
    }
}

/// State of an etcd watch turned into a [`WatchStream`]: one etcd response may carry
/// several events, which are handed out one by one.
struct EtcdWatch {
    stream: etcd_client::WatchStream,
    namespace: String,
    pending: VecDeque<Result<WatchEvent>>,
    from_revision: i64,
    done: bool,
}

impl EtcdWatch {
    async fn next(mut self) -> Option<(Result<WatchEvent>, Self)> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some((item, self));
            }
            if self.done {
                return None;
            }
            match self.stream.message().await {
                Ok(Some(response)) if response.canceled() => {
                    self.done = true;
                    let err = cancel_error(&response, self.from_revision);
                    self.pending.push_back(Err(err));
                }
                Ok(Some(response)) => {
                    for event in response.events() {
                        let converted = self.convert(event);
                        self.done = converted.is_err();
                        self.pending.push_back(converted);
                        if self.done {
                            break;
                        }
                    }
                }
                Ok(None) => {
                    self.done = true;
                    let err = Error::Unavailable("etcd closed the watch".into());
                    self.pending.push_back(Err(err));
                }
                Err(err) => {
                    self.done = true;
                    self.pending.push_back(Err(map_err(err)));
                }
            }
        }
    }

    fn convert(&self, event: &etcd_client::Event) -> Result<WatchEvent> {
        let kv = event
            .kv()
            .ok_or_else(|| Error::Unavailable("etcd watch event without a key".into()))?;
        let kind = match event.event_type() {
            EventType::Put => WatchEventKind::Put,
            EventType::Delete => WatchEventKind::Delete,
        };
        Ok(WatchEvent {
            kind,
            kv: convert_kv(&self.namespace, kv)?,
        })
    }
}
