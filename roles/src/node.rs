//! Ordered startup and graceful shutdown of one node.
//!
//! Start: coordination store → deep storage → HTTP/gRPC listener → membership record
//! (not ready) → role actors in dependency order (coordinator, overlord, historical,
//! realtime, broker) → serve → report ready in membership once every role is ready.
//! Stop (SIGTERM/SIGINT): mark the membership record not ready, stop the actors in reverse
//! order (the realtime role hands off its in-memory rows first), stop serving, and release
//! the membership lease last.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use henge_broker::{Broker, ServerView};
use henge_coordination::{Membership, NodeInfo, Registration};
use henge_proto::DataNodeServer;
use henge_query::{Limits, Lookups};
use henge_storage::DeepStorage;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actor::{Mailbox, Supervisor};
use crate::broker::{BrokerRole, CACHE_BYTES};
use crate::config::NodeConfig;
use crate::context::NodeContext;
use crate::coordinator::Coordinator;
use crate::datanode::{DataNodeService, SegmentRegistry};
use crate::historical::Historical;
use crate::http::{self, AppState};
use crate::lookups::LookupLoader;
use crate::overlord::{Overlord, OverlordMessage};
use crate::readiness::Readiness;
use crate::realtime::Realtime;
use crate::role::Role;

const MAILBOX_SIZE: usize = 64;
const READINESS_PERIOD: Duration = Duration::from_millis(250);

/// A running node.
pub struct Node {
    pub context: Arc<NodeContext>,
    pub addr: SocketAddr,
    overlord: Option<Mailbox<OverlordMessage>>,
    broker: Option<Arc<Broker>>,
    supervisor: Supervisor,
    registration: Arc<Registration>,
    server: JoinHandle<std::io::Result<()>>,
    server_stop: CancellationToken,
    reporter: JoinHandle<()>,
    /// Keeps the registered lookups current on nodes that run queries.
    _lookup_loader: Option<LookupLoader>,
}

impl Node {
    pub async fn start(mut config: NodeConfig) -> anyhow::Result<Node> {
        let store = henge_coordination::connect(&config.coordination, &config.data_dir)
            .await
            .with_context(|| {
                format!(
                    "failed to connect to coordination backend {}",
                    config.coordination
                )
            })?;
        let deep = DeepStorage::from_url(&config.deep_storage)
            .with_context(|| format!("failed to open deep storage {}", config.deep_storage))?;
        let listener = TcpListener::bind((config.host.as_str(), config.http_port))
            .await
            .with_context(|| format!("failed to listen on {}:{}", config.host, config.http_port))?;
        let addr = listener.local_addr()?;
        config.http_port = addr.port();
        let node_id = config.advertised_addr();
        let readiness = Arc::new(Readiness::new(&config.roles));
        let context = Arc::new(NodeContext {
            node_id: node_id.clone(),
            store: Arc::clone(&store),
            deep: Arc::new(deep),
            registry: Arc::new(SegmentRegistry::default()),
            running: Arc::default(),
            readiness: Arc::clone(&readiness),
            config,
        });
        let registration = Arc::new(
            Membership::new(Arc::clone(&store))
                .register(&node_info(&context), context.config.lease_ttl)
                .await
                .context("failed to register in membership")?,
        );

        let mut supervisor = Supervisor::default();
        let lookups = Lookups::default();
        let runs_queries = context
            .config
            .roles
            .iter()
            .any(|role| matches!(role, Role::Broker | Role::Historical | Role::Realtime));
        let lookup_loader = if runs_queries {
            Some(
                LookupLoader::start(Arc::clone(&store), lookups.clone())
                    .await
                    .context("failed to load lookups")?,
            )
        } else {
            None
        };
        let limits = Limits {
            max_group_rows: context.config.groupby_max_rows,
            lookups,
            ..Limits::default()
        };
        let mut state = AppState {
            context: Arc::clone(&context),
            broker: None,
            overlord: None,
            realtime: None,
            limits: limits.clone(),
        };
        for role in context.config.roles.clone() {
            let shared = Arc::clone(&context);
            match role {
                Role::Coordinator => {
                    supervisor.spawn("coordinator", MAILBOX_SIZE, move |_| {
                        Coordinator::new(Arc::clone(&shared))
                    });
                }
                Role::Overlord => {
                    state.overlord = Some(supervisor.spawn("overlord", MAILBOX_SIZE, move |_| {
                        Overlord::new(Arc::clone(&shared))
                    }));
                }
                Role::Historical => {
                    supervisor.spawn("historical", MAILBOX_SIZE, move |own| {
                        Historical::new(Arc::clone(&shared), own.clone())
                    });
                }
                Role::Realtime => {
                    // Validate the realtime settings before spawning, so a bad flag fails start.
                    Realtime::new(Arc::clone(&context))?;
                    state.realtime = Some(supervisor.spawn("realtime", MAILBOX_SIZE, move |_| {
                        Realtime::new(Arc::clone(&shared))
                            .expect("realtime settings validated at start")
                    }));
                }
                Role::Broker => {
                    let broker = Arc::new(
                        Broker::new(ServerView::new(), CACHE_BYTES)
                            .with_default_timeout(context.config.query_timeout_ms),
                    );
                    state.broker = Some(Arc::clone(&broker));
                    supervisor.spawn("broker", MAILBOX_SIZE, move |_| {
                        BrokerRole::new(Arc::clone(&shared), Arc::clone(&broker))
                    });
                }
            }
        }
        let overlord = state.overlord.clone();
        let grpc = DataNodeServer::new(
            DataNodeService::new(node_id.clone(), Arc::clone(&context.registry))
                .with_limits(limits)
                .with_running(Arc::clone(&context.running)),
        )
        .max_decoding_message_size(henge_broker::view::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(henge_broker::view::MAX_MESSAGE_BYTES);
        let broker = state.broker.clone();
        let router =
            http::router(state).merge(tonic::service::Routes::new(grpc).into_axum_router());
        let server_stop = CancellationToken::new();
        let stop = server_stop.clone();
        // Answers go out at once, as tonic's own server sets for gRPC: without TCP_NODELAY a
        // response written in pieces can wait on Nagle's algorithm and the peer's delayed ACK.
        let listener = listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY on a connection");
            }
        });
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        });
        let reporter = tokio::spawn(report_readiness(
            Arc::clone(&context),
            Arc::clone(&registration),
        ));
        tracing::info!(node = %node_id, roles = ?context.config.roles, "node started");
        Ok(Node {
            context,
            addr,
            overlord,
            broker,
            supervisor,
            registration,
            server,
            server_stop,
            reporter,
            _lookup_loader: lookup_loader,
        })
    }

    /// The broker, when this node runs the broker.
    pub fn broker(&self) -> Option<&Arc<Broker>> {
        self.broker.as_ref()
    }

    /// The overlord's mailbox, when this node runs the overlord.
    pub fn overlord(&self) -> Option<&Mailbox<OverlordMessage>> {
        self.overlord.as_ref()
    }

    /// Stops the node gracefully.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        tracing::info!(node = %self.context.node_id, "stopping");
        self.reporter.abort();
        let _ = (&mut self.reporter).await;
        let mut leaving = node_info(&self.context);
        leaving.ready = false;
        leaving.waiting_for = vec!["shutting down".into()];
        if let Err(err) = self.registration.update(&leaving).await {
            tracing::warn!(error = %err, "failed to announce leaving");
        }
        self.supervisor.shutdown().await;
        self.server_stop.cancel();
        match self.server.await {
            Ok(Err(err)) => tracing::warn!(error = %err, "http server failed"),
            Err(err) => tracing::warn!(error = %err, "http server task failed"),
            Ok(Ok(())) => {}
        }
        match Arc::try_unwrap(self.registration) {
            Ok(registration) => registration
                .leave()
                .await
                .context("failed to leave membership")?,
            Err(_) => tracing::warn!("membership registration still shared; its lease will expire"),
        }
        tracing::info!(node = %self.context.node_id, "stopped");
        Ok(())
    }
}

fn node_info(context: &NodeContext) -> NodeInfo {
    NodeInfo {
        id: context.node_id.clone(),
        roles: context
            .config
            .roles
            .iter()
            .map(|role| role.as_str().to_string())
            .collect(),
        http_addr: context.node_id.clone(),
        ready: context.readiness.all_ready(),
        waiting_for: context.readiness.waiting_for(),
        started_at: henge_segment::time::format_timestamp(crate::overlord::now_ms()),
    }
}

/// Keeps the membership record's readiness current.
async fn report_readiness(context: Arc<NodeContext>, registration: Arc<Registration>) {
    let mut reported: Option<NodeInfo> = None;
    let started_at = node_info(&context).started_at;
    loop {
        let mut info = node_info(&context);
        info.started_at = started_at.clone();
        if reported.as_ref() != Some(&info) {
            match registration.update(&info).await {
                Ok(()) => reported = Some(info),
                Err(err) => tracing::warn!(error = %err, "failed to update membership record"),
            }
        }
        tokio::time::sleep(READINESS_PERIOD).await;
    }
}

/// Waits for SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("failed to install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
