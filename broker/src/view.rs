//! The server view: which data node serves which segment.
//!
//! The roles tell the view which data nodes exist (from membership); the view keeps one
//! poller per node that long-polls the node's `Inventory` RPC, so a newly announced segment
//! is visible to brokers within one round trip. A node that stops answering keeps its last
//! inventory until membership removes it (a restart must not make data flap away).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use henge_proto::{DataNodeClient, InventoryRequest};
use henge_segment::id::DataSegment;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

use crate::timeline::{self, TimelineEntry};

/// Largest gRPC message a broker accepts (inventories and partial results): protobuf's own
/// limit (2 GiB - 1). A query whose results on one data node exceed it fails with this
/// number in its error (the 20 M-row benchmark's exact distinct count over 8.6 M users sends
/// 1.2 GB); streaming results in pieces would lift it.
pub const MAX_MESSAGE_BYTES: usize = i32::MAX as usize;
const INVENTORY_WAIT_MS: u32 = 10_000;
const RETRY_DELAY: Duration = Duration::from_millis(300);

/// A data node as membership reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataNodeAddr {
    pub id: String,
    /// `host:port` of the node's HTTP/gRPC listener.
    pub addr: String,
}

/// One segment in a node's inventory.
#[derive(Clone, Debug)]
pub struct ServedSegment {
    pub segment: DataSegment,
    pub realtime: bool,
}

struct NodeState {
    addr: String,
    channel: Channel,
    segments: Arc<Vec<ServedSegment>>,
    synced: bool,
    poller: JoinHandle<()>,
}

#[derive(Default)]
struct Nodes {
    by_id: HashMap<String, NodeState>,
}

/// Shared, cheaply cloneable view of the data nodes' inventories.
#[derive(Clone)]
pub struct ServerView {
    nodes: Arc<Mutex<Nodes>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Default for ServerView {
    fn default() -> Self {
        ServerView::new()
    }
}

impl ServerView {
    pub fn new() -> ServerView {
        let (changes, _) = watch::channel(0);
        ServerView {
            nodes: Arc::default(),
            changes: Arc::new(changes),
        }
    }

    /// Replaces the set of data nodes: starts polling new ones, forgets removed ones.
    pub fn set_nodes(&self, nodes: &[DataNodeAddr]) {
        let mut guard = self.nodes.lock().expect("server view lock poisoned");
        let before = guard.by_id.len();
        guard.by_id.retain(|id, state| {
            let keep = nodes
                .iter()
                .any(|node| &node.id == id && node.addr == state.addr);
            if !keep {
                state.poller.abort();
            }
            keep
        });
        let mut changed = guard.by_id.len() != before;
        for node in nodes {
            if guard.by_id.contains_key(&node.id) {
                continue;
            }
            let Ok(endpoint) = Endpoint::from_shared(format!("http://{}", node.addr)) else {
                tracing::warn!(node = %node.id, addr = %node.addr, "invalid data node address");
                continue;
            };
            let channel = endpoint
                .connect_timeout(Duration::from_secs(2))
                .connect_lazy();
            let poller = tokio::spawn(poll_inventory(
                self.clone(),
                node.id.clone(),
                channel.clone(),
            ));
            guard.by_id.insert(
                node.id.clone(),
                NodeState {
                    addr: node.addr.clone(),
                    channel,
                    segments: Arc::default(),
                    synced: false,
                    poller,
                },
            );
            changed = true;
        }
        drop(guard);
        if changed {
            self.changes.send_modify(|version| *version += 1);
        }
    }

    /// A gRPC client for a node, if the view knows it.
    pub fn client(&self, node_id: &str) -> Option<DataNodeClient<Channel>> {
        let guard = self.nodes.lock().expect("server view lock poisoned");
        guard.by_id.get(node_id).map(|state| {
            DataNodeClient::new(state.channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES)
        })
    }

    /// Timeline entries over every node's current inventory.
    pub fn entries(&self) -> Vec<TimelineEntry> {
        let snapshot = self.snapshot();
        timeline::collect_entries(snapshot.iter().flat_map(|(node_id, segments)| {
            segments
                .iter()
                .map(move |served| (node_id.as_str(), &served.segment, served.realtime))
        }))
    }

    /// Every node's inventory.
    pub fn snapshot(&self) -> Vec<(String, Arc<Vec<ServedSegment>>)> {
        let guard = self.nodes.lock().expect("server view lock poisoned");
        let mut nodes: Vec<_> = guard
            .by_id
            .iter()
            .map(|(id, state)| (id.clone(), Arc::clone(&state.segments)))
            .collect();
        nodes.sort_by(|left, right| left.0.cmp(&right.0));
        nodes
    }

    /// Nodes that have not answered an inventory request yet.
    pub fn unsynced_nodes(&self) -> Vec<String> {
        let guard = self.nodes.lock().expect("server view lock poisoned");
        let mut ids: Vec<String> = guard
            .by_id
            .iter()
            .filter(|(_, state)| !state.synced)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// True once some node serves a non-realtime copy of the segment.
    pub fn is_loaded_on_historical(&self, identifier: &str) -> bool {
        let guard = self.nodes.lock().expect("server view lock poisoned");
        guard.by_id.values().any(|state| {
            state
                .segments
                .iter()
                .any(|served| !served.realtime && served.segment.identifier == identifier)
        })
    }

    /// A receiver that changes whenever any inventory or the node set changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Stops every poller.
    pub fn shutdown(&self) {
        let mut guard = self.nodes.lock().expect("server view lock poisoned");
        for state in guard.by_id.values() {
            state.poller.abort();
        }
        guard.by_id.clear();
    }

    fn update(&self, node_id: &str, segments: Vec<ServedSegment>) {
        let mut guard = self.nodes.lock().expect("server view lock poisoned");
        if let Some(state) = guard.by_id.get_mut(node_id) {
            state.segments = Arc::new(segments);
            state.synced = true;
        }
        drop(guard);
        self.changes.send_modify(|version| *version += 1);
    }
}

async fn poll_inventory(view: ServerView, node_id: String, channel: Channel) {
    let mut client = DataNodeClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut since_version = 0;
    loop {
        let request = InventoryRequest {
            since_version,
            wait_ms: if since_version == 0 {
                0
            } else {
                INVENTORY_WAIT_MS
            },
        };
        match client.inventory(request).await {
            Ok(response) => {
                let response = response.into_inner();
                since_version = response.version;
                let segments = response
                    .segments
                    .iter()
                    .filter_map(|served| {
                        match serde_json::from_slice::<DataSegment>(&served.data_segment_json) {
                            Ok(segment) => Some(ServedSegment {
                                segment,
                                realtime: served.realtime,
                            }),
                            Err(err) => {
                                tracing::warn!(node = %node_id, error = %err, "bad segment in inventory");
                                None
                            }
                        }
                    })
                    .collect();
                view.update(&node_id, segments);
            }
            Err(status) => {
                tracing::debug!(node = %node_id, error = %status, "inventory poll failed, retrying");
                since_version = 0;
                tokio::time::sleep(RETRY_DELAY).await;
            }
        }
    }
}
