//! What every role of a process shares: configuration, the coordination store, deep
//! storage, the served-segment registry and the readiness board.

use std::sync::Arc;

use henge_coordination::{Membership, MetaStore, NodeInfo};
use henge_storage::DeepStorage;

use crate::config::NodeConfig;
use crate::datanode::SegmentRegistry;
use crate::readiness::Readiness;

pub struct NodeContext {
    pub config: NodeConfig,
    /// `host:port`; also the node's id in membership.
    pub node_id: String,
    pub store: Arc<dyn MetaStore>,
    pub deep: Arc<DeepStorage>,
    pub registry: Arc<SegmentRegistry>,
    pub readiness: Arc<Readiness>,
}

impl NodeContext {
    /// Live nodes that run `role`.
    pub async fn nodes_with_role(&self, role: &str) -> anyhow::Result<Vec<NodeInfo>> {
        let nodes = Membership::new(Arc::clone(&self.store)).list_nodes().await?;
        Ok(nodes
            .into_iter()
            .filter(|node| node.roles.iter().any(|node_role| node_role == role))
            .collect())
    }
}
