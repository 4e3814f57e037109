//! The coordinator role: assigns every used segment to a historical.
//!
//! Leader-gated: only the elected coordinator acts, and every assignment write is fenced on
//! its leadership. Each run (every second) compares the used segments in the catalog with
//! the assignments and the live historicals:
//! - a used segment with no assignment on a live historical is assigned to the historical
//!   with the fewest assignments (default rule: load forever, one replica);
//! - assignments of segments that are no longer used are removed;
//! - a historical that has been gone for longer than the grace period loses its
//!   assignments, which the next run places elsewhere (lease expiry alone never moves data
//!   at once: a restarting historical keeps its segments).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use henge_coordination::{fenced_txn, keys, Txn, MAX_TXN_OPS};
use henge_segment::id::DataSegment;

use crate::actor::Actor;
use crate::context::NodeContext;
use crate::leadership::Leadership;
use crate::role::Role;

/// How long a vanished historical keeps its assignments.
const MISSING_NODE_GRACE: Duration = Duration::from_secs(30);
const RUN_PERIOD: Duration = Duration::from_secs(1);

pub enum CoordinatorMessage {}

pub struct Coordinator {
    context: Arc<NodeContext>,
    leadership: Leadership,
    missing_since: HashMap<String, Instant>,
}

impl Coordinator {
    pub fn new(context: Arc<NodeContext>) -> Coordinator {
        Coordinator {
            leadership: Leadership::start(&context, Role::Coordinator),
            context,
            missing_since: HashMap::new(),
        }
    }

    async fn run_duties(&mut self) -> anyhow::Result<()> {
        let Some(guard) = self.leadership.guard() else {
            self.context.readiness.set(
                Role::Coordinator,
                true,
                Some("not the leader: campaigning or standing by".into()),
            );
            return Ok(());
        };
        let store = self.context.store.as_ref();
        let used: BTreeMap<String, DataSegment> = self
            .context
            .used_segments()
            .await?
            .into_iter()
            .map(|segment| (segment.identifier.clone(), segment))
            .collect();
        let historicals: HashSet<String> = self
            .context
            .nodes_with_role(Role::Historical.as_str())
            .await?
            .into_iter()
            .map(|node| node.id)
            .collect();
        let (entries, _) = store.list(keys::ASSIGNMENTS).await?;
        let mut assigned: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut load: BTreeMap<String, usize> =
            historicals.iter().map(|node| (node.clone(), 0)).collect();
        let mut removals = Vec::new();
        let now = Instant::now();
        self.missing_since
            .retain(|node, _| !historicals.contains(node));
        for entry in &entries {
            let Some((node, segment)) = entry.key[keys::ASSIGNMENTS.len()..].split_once('/') else {
                continue;
            };
            let alive = historicals.contains(node);
            let expired = !alive
                && now.duration_since(*self.missing_since.entry(node.to_string()).or_insert(now))
                    > MISSING_NODE_GRACE;
            if !used.contains_key(segment) || expired {
                removals.push(entry.key.clone());
                continue;
            }
            if alive {
                *load.entry(node.to_string()).or_default() += 1;
            }
            assigned
                .entry(segment.to_string())
                .or_default()
                .push(node.to_string());
        }
        let mut puts = Vec::new();
        let mut unassignable = 0;
        for (identifier, segment) in &used {
            let served = assigned.get(identifier).is_some_and(|nodes| {
                nodes
                    .iter()
                    .any(|node| historicals.contains(node) || self.missing_since.contains_key(node))
            });
            if served {
                continue;
            }
            let Some(target) = load
                .iter()
                .min_by_key(|(node, count)| (**count, (*node).clone()))
                .map(|(node, _)| node.clone())
            else {
                unassignable += 1;
                continue;
            };
            *load.get_mut(&target).expect("target is a known node") += 1;
            tracing::info!(segment = %identifier, historical = %target, "assigning segment");
            puts.push((
                keys::assignment(&target, identifier),
                serde_json::to_vec(segment)?,
            ));
        }
        for chunk in removals.chunks(MAX_TXN_OPS) {
            let txn = chunk
                .iter()
                .fold(Txn::new(), |txn, key| txn.delete(key.clone()));
            fenced_txn(&guard, txn).await?;
        }
        for chunk in puts.chunks(MAX_TXN_OPS) {
            let txn = chunk.iter().fold(Txn::new(), |txn, (key, value)| {
                txn.put(key.clone(), value.clone())
            });
            fenced_txn(&guard, txn).await?;
        }
        let waiting =
            (unassignable > 0).then(|| format!("no historical to load {unassignable} segments"));
        self.context.readiness.set(Role::Coordinator, true, waiting);
        Ok(())
    }
}

#[async_trait]
impl Actor for Coordinator {
    type Message = CoordinatorMessage;

    async fn handle(&mut self, message: CoordinatorMessage) -> anyhow::Result<()> {
        match message {}
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(RUN_PERIOD)
    }

    async fn tick(&mut self) -> anyhow::Result<()> {
        self.run_duties().await
    }

    async fn finalize(&mut self) -> anyhow::Result<()> {
        self.leadership.stop().await;
        Ok(())
    }
}
