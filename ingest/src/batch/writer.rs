//! Segment writing off the reading thread: the reader hands each finished partition to a
//! small pool of writer threads (sorting dictionaries and rows, encoding, checksumming and
//! the atomic file write are most of a batch task's CPU), through a bounded queue so that
//! finished partitions waiting in memory stay few. The reading thread joins the pool once
//! the input is read.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Mutex;

use henge_segment::{SegmentBuilder, SegmentId, ShardSpec};
use serde_json::Value;

use super::{BuiltSegment, ChunkRows};
use crate::error::{IngestError, Result};

/// One partition to write.
pub(super) struct Job {
    pub(super) id: SegmentId,
    pub(super) path: PathBuf,
    pub(super) rows: ChunkRows,
    /// The dimension and metric names of a builder filled directly (indexed rows know theirs).
    pub(super) columns: (Vec<String>, Vec<String>),
    pub(super) metadata: Value,
}

/// Where the reader sends jobs; dropping it tells the writers no more will come.
pub(super) type Jobs = SyncSender<Job>;

/// The writers' side: the queue and what they built.
pub(super) struct Pool {
    queue: Mutex<Receiver<Job>>,
    built: Mutex<Vec<Result<BuiltSegment>>>,
}

impl Pool {
    pub(super) fn new(queue: Receiver<Job>) -> Pool {
        Pool {
            queue: Mutex::new(queue),
            built: Mutex::new(Vec::new()),
        }
    }

    /// Writes jobs until the sender is gone and the queue is empty.
    pub(super) fn drain(&self) {
        loop {
            let job = match self.queue.lock() {
                Ok(queue) => queue.recv(),
                Err(poisoned) => poisoned.into_inner().recv(),
            };
            let Ok(job) = job else {
                return;
            };
            let outcome = write(job);
            match self.built.lock() {
                Ok(mut built) => built.push(outcome),
                Err(poisoned) => poisoned.into_inner().push(outcome),
            }
        }
    }

    /// Every segment written, or the first failure.
    pub(super) fn into_segments(self) -> Result<Vec<BuiltSegment>> {
        let built = match self.built.into_inner() {
            Ok(built) => built,
            Err(poisoned) => poisoned.into_inner(),
        };
        built.into_iter().collect()
    }
}

fn write(job: Job) -> Result<BuiltSegment> {
    let Job {
        id,
        path,
        rows,
        columns,
        metadata,
    } = job;
    let (builder, (dimensions, metrics)): (SegmentBuilder, _) = match rows {
        ChunkRows::Direct(builder) => (builder, columns),
        ChunkRows::Indexed(store) => {
            let (builder, dimensions, metrics) = store.build(metadata);
            (builder, (dimensions, metrics))
        }
    };
    let mut summary_opt = None;
    henge_common::fsutil::write_atomic_with(&path, |file| {
        let mut writer = BufWriter::new(file);
        summary_opt = Some(builder.write(&mut writer)?);
        writer.flush()
    })
    .map_err(|source| IngestError::io(&path, source))?;
    let summary = summary_opt.expect("write_atomic_with runs the writer before returning Ok");
    tracing::debug!(segment = %id, rows = summary.num_rows, bytes = summary.bytes, "wrote segment");
    let partition = id.partition;
    Ok(BuiltSegment {
        id,
        shard_spec: ShardSpec::numbered(partition, 0),
        path,
        summary,
        dimensions,
        metrics,
    })
}
