//! What every role of a process shares: configuration, the coordination store, deep
//! storage, the served-segment registry, the running data-node queries and the readiness
//! board.

use std::sync::Arc;

use henge_coordination::{catalog, Membership, MetaStore, NodeInfo};
use henge_segment::id::DataSegment;
use henge_storage::DeepStorage;

use crate::config::NodeConfig;
use crate::datanode::{RunningQueries, SegmentRegistry};
use crate::readiness::Readiness;

pub struct NodeContext {
    pub config: NodeConfig,
    /// `host:port`; also the node's id in membership.
    pub node_id: String,
    pub store: Arc<dyn MetaStore>,
    pub deep: Arc<DeepStorage>,
    pub registry: Arc<SegmentRegistry>,
    /// Query calls running on this node's data-node service.
    pub running: Arc<RunningQueries>,
    pub readiness: Arc<Readiness>,
}

impl NodeContext {
    /// Descriptors of every used segment in the catalog.
    pub async fn used_segments(&self) -> anyhow::Result<Vec<DataSegment>> {
        let records = catalog::list_used_segments(self.store.as_ref(), None).await?;
        records
            .into_iter()
            .map(|record| Ok(serde_json::from_value(record.payload)?))
            .collect()
    }

    /// Live nodes that run `role`.
    pub async fn nodes_with_role(&self, role: &str) -> anyhow::Result<Vec<NodeInfo>> {
        let nodes = Membership::new(Arc::clone(&self.store))
            .list_nodes()
            .await?;
        Ok(nodes
            .into_iter()
            .filter(|node| node.roles.iter().any(|node_role| node_role == role))
            .collect())
    }
}
