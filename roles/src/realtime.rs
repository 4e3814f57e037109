//! The realtime role: task slots for batch index tasks, and push ingestion into an
//! in-memory index that queries see at once.
//!
//! Push: `POST /druid/v2/push/{datasource}` appends rows to a sink (one per segment-granular
//! time chunk); every acknowledged row is queryable immediately (the sink's in-memory
//! hydrants are registered with the data-node service). A sink whose interval ended more
//! than the grace period ago, or that reached the row limit, is handed off: its hydrants are
//! merged into one segment, pushed to deep storage and published; the node keeps serving it
//! until a historical announces it. On graceful stop every sink is handed off first.

mod batch;
mod publish;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use henge_broker::{DataNodeAddr, ServerView};
use henge_ingest::spec::MetricSpec;
use henge_ingest::{PushSummary, RealtimeConfig, RealtimeIndex, SinkHandoff};
use henge_segment::granularity::Granularity;
use henge_segment::id::DataSegment;
use henge_segment::reader::Segment;
use henge_segment::time::{format_timestamp, Interval};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::actor::Actor;
use crate::context::NodeContext;
use crate::datanode::Served;
use crate::overlord::now_ms;
use crate::role::Role;
use crate::tasks::{self, RunnerState};
use publish::BuiltFile;

const TICK: Duration = Duration::from_millis(250);
/// How long a graceful stop waits for historicals to load handed-off segments.
const SHUTDOWN_HANDOFF_WAIT: Duration = Duration::from_secs(10);

pub enum RealtimeMessage {
    Push {
        datasource: String,
        body: Bytes,
        reply: oneshot::Sender<Result<PushSummary, String>>,
    },
    /// Sets the metrics of a datasource before its first push.
    SetMetrics {
        datasource: String,
        metrics: Vec<MetricSpec>,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// A sink taken for handoff: served from memory until a historical loads it.
struct HandingOff {
    descriptor: Option<DataSegment>,
    sink: SinkHandoff,
}

pub struct Realtime {
    context: Arc<NodeContext>,
    index: RealtimeIndex,
    handing_off: Vec<HandingOff>,
    tasks: HashMap<String, JoinHandle<()>>,
    view: ServerView,
    /// Latest used (version, max partition) per (datasource, interval) from the catalog.
    versions: BTreeMap<(String, Interval), (String, u32)>,
    versions_refreshed: Option<Instant>,
}

impl Realtime {
    pub fn new(context: Arc<NodeContext>) -> anyhow::Result<Realtime> {
        let granularity = Granularity::from_json(&serde_json::Value::String(
            context.config.push_segment_granularity.clone(),
        ))
        .map_err(anyhow::Error::msg)?;
        let index = RealtimeIndex::new(RealtimeConfig {
            segment_granularity: granularity,
            max_rows_per_segment: context.config.push_max_rows,
            ..RealtimeConfig::default()
        });
        Ok(Realtime {
            context,
            index,
            handing_off: Vec::new(),
            tasks: HashMap::new(),
            view: ServerView::new(),
            versions: BTreeMap::new(),
            versions_refreshed: None,
        })
    }

    async fn push(&mut self, datasource: &str, body: &[u8]) -> Result<PushSummary, String> {
        if self
            .versions_refreshed
            .is_none_or(|at| at.elapsed() > Duration::from_secs(1))
        {
            if let Err(err) = self.refresh_versions().await {
                return Err(format!("coordination store unavailable: {err:#}"));
            }
        }
        let versions = &self.versions;
        let now = format_timestamp(now_ms());
        let summary = self
            .index
            .push(datasource, body, |datasource, interval| {
                chunk_version(versions, datasource, interval, &now)
            })
            .map_err(|err| err.to_string())?;
        self.publish_snapshot();
        Ok(summary)
    }

    async fn refresh_versions(&mut self) -> anyhow::Result<()> {
        let used = self.context.used_segments().await?;
        let mut versions: BTreeMap<(String, Interval), (String, u32)> = BTreeMap::new();
        for segment in used {
            let key = (segment.data_source.clone(), segment.interval);
            let candidate = (segment.version.clone(), segment.shard_spec.partition_num);
            let slot = versions.entry(key).or_insert_with(|| candidate.clone());
            if candidate > *slot {
                *slot = candidate;
            }
        }
        self.versions = versions;
        self.versions_refreshed = Some(Instant::now());
        Ok(())
    }

    /// Registers every sink and every not-yet-loaded handoff with the data-node service.
    fn publish_snapshot(&self) {
        let mut served: Vec<Served> = self
            .index
            .sinks()
            .into_iter()
            .map(|sink| Served {
                descriptor: sink_descriptor(&sink.id, sink.num_rows as u64),
                parts: sink.segments,
            })
            .collect();
        served.extend(self.handing_off.iter().map(|handoff| Served {
            descriptor: handoff.descriptor.clone().unwrap_or_else(|| {
                sink_descriptor(&handoff.sink.id, rows_of(&handoff.sink.hydrants))
            }),
            parts: handoff.sink.hydrants.clone(),
        }));
        self.context.registry.set_realtime(served);
    }

    async fn hand_off(&mut self, force: bool) -> anyhow::Result<()> {
        let grace = self.context.config.push_handoff_grace.as_millis() as i64;
        let taken = self.index.take_for_handoff(now_ms(), grace, force);
        self.handing_off
            .extend(taken.into_iter().map(|sink| HandingOff {
                descriptor: None,
                sink,
            }));
        let mut first_error = None;
        for handoff in &mut self.handing_off {
            if handoff.descriptor.is_some() {
                continue;
            }
            match persist_and_publish(&self.context, &handoff.sink).await {
                Ok(descriptor) => {
                    tracing::info!(segment = %descriptor.identifier, rows = descriptor.num_rows, "realtime segment published");
                    handoff.descriptor = Some(descriptor);
                }
                Err(err) => {
                    tracing::warn!(segment = %handoff.sink.id, error = %format!("{err:#}"), "handoff publish failed, will retry");
                    first_error.get_or_insert(err);
                }
            }
        }
        let view = &self.view;
        self.handing_off
            .retain(|handoff| match &handoff.descriptor {
                Some(descriptor) => {
                    let loaded = view.is_loaded_on_historical(&descriptor.identifier);
                    if loaded {
                        tracing::info!(segment = %descriptor.identifier, "handoff complete");
                    }
                    !loaded
                }
                None => true,
            });
        self.publish_snapshot();
        first_error.map_or(Ok(()), Err)
    }

    async fn refresh_view(&self) -> anyhow::Result<()> {
        let historicals = self
            .context
            .nodes_with_role(Role::Historical.as_str())
            .await?;
        let nodes: Vec<DataNodeAddr> = historicals
            .into_iter()
            .map(|node| DataNodeAddr {
                id: node.id,
                addr: node.http_addr,
            })
            .collect();
        self.view.set_nodes(&nodes);
        Ok(())
    }

    async fn start_assigned_tasks(&mut self) -> anyhow::Result<()> {
        self.tasks.retain(|_, handle| !handle.is_finished());
        for (record, _) in tasks::list(self.context.store.as_ref()).await? {
            let mine = record.worker.as_deref() == Some(self.context.node_id.as_str());
            let active = !record.state.is_complete() && record.runner_state != RunnerState::Waiting;
            if mine && active && !self.tasks.contains_key(&record.id) {
                let id = record.id.clone();
                self.tasks.insert(
                    id,
                    tokio::spawn(batch::run(Arc::clone(&self.context), record)),
                );
            }
        }
        Ok(())
    }
}

/// The version and first partition of a new push chunk: rows append to the newest used
/// version of overlapping data (after its partitions when the interval is the same), so
/// pushed rows add to batch-ingested ones instead of overshadowing them.
fn chunk_version(
    versions: &BTreeMap<(String, Interval), (String, u32)>,
    datasource: &str,
    interval: Interval,
    now: &str,
) -> (String, u32) {
    if let Some((version, partition)) = versions.get(&(datasource.to_string(), interval)) {
        return (version.clone(), partition + 1);
    }
    let newest = versions
        .iter()
        .filter(|((existing_ds, existing), _)| {
            existing_ds == datasource && existing.overlaps(&interval)
        })
        .map(|(_, (version, _))| version.clone())
        .max();
    (newest.unwrap_or_else(|| now.to_string()), 0)
}

fn rows_of(segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|segment| segment.num_rows() as u64)
        .sum()
}

/// The descriptor a broker sees for a sink that is not published yet.
fn sink_descriptor(id: &henge_segment::id::SegmentId, num_rows: u64) -> DataSegment {
    DataSegment {
        data_source: id.datasource.clone(),
        interval: id.interval,
        version: id.version.clone(),
        load_spec: serde_json::json!({}),
        dimensions: String::new(),
        metrics: String::new(),
        shard_spec: henge_segment::id::ShardSpec {
            kind: "numbered".into(),
            partition_num: id.partition,
            partitions: 0,
        },
        binary_version: henge_segment::FORMAT_VERSION,
        size: 0,
        identifier: id.to_string(),
        num_rows,
        crc32: 0,
    }
}

/// Merges a sink's hydrants into one segment file, pushes and publishes it.
async fn persist_and_publish(
    context: &NodeContext,
    sink: &SinkHandoff,
) -> anyhow::Result<DataSegment> {
    let dir = context.config.data_dir.join("handoff");
    let path = dir.join(format!("{}.seg", sink.id));
    let hydrants = sink.hydrants.clone();
    let write_path = path.clone();
    let (summary, columns) = tokio::task::spawn_blocking(move || {
        let builder = henge_segment::merge::merge_segments(&hydrants);
        let columns = builder.columns().to_vec();
        let mut summary = None;
        henge_common::fsutil::write_atomic_with(&write_path, |file| {
            summary = Some(builder.write(std::io::BufWriter::new(file))?);
            Ok(())
        })?;
        anyhow::Ok((summary.expect("write ran"), columns))
    })
    .await??;
    let dimensions: Vec<String> = columns.iter().map(|column| column.name.clone()).collect();
    let file = BuiltFile {
        id: &sink.id,
        path: &path,
        size: summary.bytes,
        crc32: summary.crc32,
        num_rows: summary.num_rows,
        dimensions: &dimensions,
        metrics: &[],
        partitions: 0,
    };
    let descriptor = publish::push(&context.deep, file).await?;
    publish::publish(context.store.as_ref(), std::slice::from_ref(&descriptor)).await?;
    let _ = std::fs::remove_file(&path);
    Ok(descriptor)
}

#[async_trait]
impl Actor for Realtime {
    type Message = RealtimeMessage;

    async fn handle(&mut self, message: RealtimeMessage) -> anyhow::Result<()> {
        match message {
            RealtimeMessage::Push {
                datasource,
                body,
                reply,
            } => {
                let _ = reply.send(self.push(&datasource, &body).await);
            }
            RealtimeMessage::SetMetrics {
                datasource,
                metrics,
                reply,
            } => {
                let result = self.index.set_metrics(&datasource, metrics);
                let _ = reply.send(result.map_err(|err| err.to_string()));
            }
        }
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(TICK)
    }

    async fn tick(&mut self) -> anyhow::Result<()> {
        self.context.readiness.set(Role::Realtime, true, None);
        self.refresh_view().await?;
        self.start_assigned_tasks().await?;
        self.hand_off(false).await
    }

    async fn finalize(&mut self) -> anyhow::Result<()> {
        for (id, task) in self.tasks.drain() {
            tracing::info!(task = %id, "waiting for running task before stopping");
            let _ = task.await;
        }
        let deadline = Instant::now() + SHUTDOWN_HANDOFF_WAIT;
        let mut forced = false;
        loop {
            let result = self.hand_off(!forced).await;
            forced = true;
            let unpublished = self
                .handing_off
                .iter()
                .any(|handoff| handoff.descriptor.is_none());
            if self.handing_off.is_empty() || (!unpublished && Instant::now() > deadline) {
                break;
            }
            if let Err(err) = result {
                tracing::warn!(error = %format!("{err:#}"), "handoff on shutdown failed, retrying");
            }
            tokio::time::sleep(TICK).await;
        }
        self.view.shutdown();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_chunks_append_to_existing_versions() {
        let day = Interval::new(0, 86_400_000);
        let hour = Interval::new(0, 3_600_000);
        let mut versions = BTreeMap::new();
        assert_eq!(
            chunk_version(&versions, "ds", hour, "v9"),
            ("v9".to_string(), 0)
        );
        versions.insert(("ds".to_string(), day), ("v1".to_string(), 2));
        assert_eq!(
            chunk_version(&versions, "ds", day, "v9"),
            ("v1".to_string(), 3)
        );
        assert_eq!(
            chunk_version(&versions, "ds", hour, "v9"),
            ("v1".to_string(), 0)
        );
        assert_eq!(
            chunk_version(&versions, "other", hour, "v9"),
            ("v9".to_string(), 0)
        );
    }
}
