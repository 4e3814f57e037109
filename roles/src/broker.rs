//! The broker role: keeps the server view fed with the live data nodes from membership, and
//! owns the [`henge_broker::Broker`] that the HTTP query endpoint runs queries through.
//!
//! It is ready once it knows at least one data node and has each known node's inventory.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use henge_broker::{Broker, DataNodeAddr};
use henge_coordination::Membership;

use crate::actor::Actor;
use crate::context::NodeContext;
use crate::role::Role;

const REFRESH_PERIOD: Duration = Duration::from_millis(500);
/// Per-segment result cache size.
pub const CACHE_BYTES: u64 = 256 * 1024 * 1024;

pub enum BrokerMessage {}

pub struct BrokerRole {
    context: Arc<NodeContext>,
    broker: Arc<Broker>,
}

impl BrokerRole {
    pub fn new(context: Arc<NodeContext>, broker: Arc<Broker>) -> BrokerRole {
        BrokerRole { context, broker }
    }
}

#[async_trait]
impl Actor for BrokerRole {
    type Message = BrokerMessage;

    async fn handle(&mut self, message: BrokerMessage) -> anyhow::Result<()> {
        match message {}
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(REFRESH_PERIOD)
    }

    async fn tick(&mut self) -> anyhow::Result<()> {
        let nodes = Membership::new(Arc::clone(&self.context.store))
            .list_nodes()
            .await?;
        let data_nodes: Vec<DataNodeAddr> = nodes
            .into_iter()
            .filter(|node| {
                node.roles.iter().any(|role| {
                    role == Role::Historical.as_str() || role == Role::Realtime.as_str()
                })
            })
            .map(|node| DataNodeAddr {
                id: node.id,
                addr: node.http_addr,
            })
            .collect();
        let view = self.broker.view();
        view.set_nodes(&data_nodes);
        let unsynced = view.unsynced_nodes();
        let waiting = if data_nodes.is_empty() {
            Some("no historical or realtime node has joined yet".to_string())
        } else if !unsynced.is_empty() {
            Some(format!("inventory of {}", unsynced.join(", ")))
        } else {
            None
        };
        self.context
            .readiness
            .set(Role::Broker, waiting.is_none(), waiting);
        Ok(())
    }

    async fn finalize(&mut self) -> anyhow::Result<()> {
        self.broker.view().shutdown();
        Ok(())
    }
}
