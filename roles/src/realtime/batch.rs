//! Running an assigned batch index task on this realtime worker: build segments on a
//! blocking thread, push them to deep storage, publish them in one catalog transaction, and
//! record the outcome and Druid's task report in the task record.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use henge_ingest::{IngestionState, RowStats};
use henge_segment::time::format_timestamp;

use super::publish::{self, BuiltFile};
use crate::context::NodeContext;
use crate::overlord::now_ms;
use crate::tasks::{self, RunnerState, TaskRecord, TaskState};

/// Segment uploads to deep storage in flight at once.
const PARALLEL_PUSHES: usize = 4;

/// Runs a task to completion and stores its final record.
pub async fn run(context: Arc<NodeContext>, mut record: TaskRecord) {
    let started = now_ms();
    record.runner_state = RunnerState::Running;
    record.started_ms = Some(started);
    if let Err(err) = tasks::save(context.store.as_ref(), &record).await {
        tracing::warn!(task = %record.id, error = %err, "failed to mark task running");
    }
    tracing::info!(task = %record.id, "task started");
    let outcome = execute(&context, &record).await;
    record.duration = now_ms() - started;
    record.runner_state = RunnerState::None;
    match outcome {
        Ok(stats) => {
            tracing::info!(task = %record.id, rows = stats.processed, "task succeeded");
            record.state = TaskState::Success;
            record.report =
                Some(stats.to_druid_report(&record.id, IngestionState::Completed, None));
        }
        Err((err, stats)) => {
            let message = format!("{err:#}");
            tracing::error!(task = %record.id, error = %message, "task failed");
            record.state = TaskState::Failed;
            record.report =
                Some(stats.to_druid_report(&record.id, IngestionState::Completed, Some(&message)));
            record.error_msg = Some(message);
        }
    }
    // The final record must land: retry until the store takes it.
    loop {
        match tasks::save(context.store.as_ref(), &record).await {
            Ok(()) => break,
            Err(err) => {
                tracing::warn!(task = %record.id, error = %err, "failed to store task outcome, retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

async fn execute(
    context: &NodeContext,
    record: &TaskRecord,
) -> Result<RowStats, (anyhow::Error, RowStats)> {
    let fail = |err: anyhow::Error| (err, RowStats::default());
    let task = henge_ingest::parse_index_task(&record.payload).map_err(|err| fail(err.into()))?;
    let work_dir = context.config.data_dir.join("tasks").join(&record.id);
    let version = format_timestamp(now_ms());
    let allowed = context.config.allow_dirs.clone();
    let build_dir = work_dir.clone();
    let output = tokio::task::spawn_blocking(move || {
        henge_ingest::run_batch(&task, &allowed, &build_dir, &version)
    })
    .await
    .map_err(|err| fail(err.into()))?;
    let output = match output {
        Ok(output) => output,
        Err(err) => {
            let _ = std::fs::remove_dir_all(&work_dir);
            let stats = match &err {
                henge_ingest::IngestError::MaxParseExceptions { stats, .. } => (**stats).clone(),
                _ => RowStats::default(),
            };
            return Err((err.into(), stats));
        }
    };
    let stats = output.report;
    let result = async {
        let partitions_of = |interval| {
            output
                .segments
                .iter()
                .filter(|built| built.id.interval == interval)
                .count() as u32
        };
        // Uploads overlap (each one mostly waits on the disk or the network), in order.
        let pushes: Vec<_> = output
            .segments
            .iter()
            .map(|built| {
                publish::push(
                    &context.deep,
                    BuiltFile {
                        id: &built.id,
                        path: &built.path,
                        size: built.summary.bytes,
                        crc32: built.summary.crc32,
                        num_rows: built.summary.num_rows,
                        dimensions: &built.dimensions,
                        metrics: &built.metrics,
                        partitions: partitions_of(built.id.interval),
                    },
                )
            })
            .collect();
        let descriptors: Vec<_> = futures::stream::iter(pushes)
            .buffered(PARALLEL_PUSHES)
            .try_collect()
            .await?;
        publish::publish(context.store.as_ref(), &descriptors).await?;
        tracing::info!(task = %record.id, segments = descriptors.len(), "segments published");
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&work_dir);
    match result {
        Ok(()) => Ok(stats),
        Err(err) => Err((err, stats)),
    }
}
