//! [`run_batch`]: runs a parsed batch task to completion. The calling thread reads every
//! input line, turns it into a row (`row`) and routes the row to the in-memory index of its
//! time chunk (`RowStore`, rolled up when asked); a partition is finished whenever a chunk
//! reaches `maxRowsPerSegment` (Druid's dynamic partitioning), when its chunk has fallen
//! behind the input (see [`IDLE_ROWS`]) and at the end, and is written by the writer threads
//! (`writer`) while reading goes on.
//!
//! Memory is bounded by `maxRowsPerSegment` rows per time chunk still receiving rows, plus
//! the few finished partitions queued for the writers; there is no spilling to disk (Druid's
//! `maxRowsInMemory` persists) yet.

mod row;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use henge_segment::{Granularity, Interval, SegmentBuilder, SegmentId, ShardSpec, WriteSummary};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use self::row::{LineOutcome, RowLayout};
use self::writer::{Job, Jobs, Pool};
use crate::error::{IngestError, Result, SpecError};
use crate::input::{self, InputEntity};
use crate::rollup::RowStore;
use crate::spec::IndexTask;
use crate::stats::RowStats;

/// What a batch task produced.
#[derive(Debug)]
pub struct BatchOutput {
    /// Segments ordered by interval, then partition.
    pub segments: Vec<BuiltSegment>,
    pub report: RowStats,
}

/// One segment written under the work directory, ready to be pushed to deep storage.
#[derive(Clone, Debug)]
pub struct BuiltSegment {
    pub id: SegmentId,
    /// `numbered`: partition `id.partition` of the time chunk's partitions.
    pub shard_spec: ShardSpec,
    pub path: PathBuf,
    pub summary: WriteSummary,
    pub dimensions: Vec<String>,
    pub metrics: Vec<String>,
}

/// Checks, without reading any data, that `task`'s input resolves to readable files under
/// `allowed_dirs` (what [`run_batch`] checks first), so a submission can be refused up front.
pub fn check_input_allowed(task: &IndexTask, allowed_dirs: &[PathBuf]) -> Result<(), SpecError> {
    input::resolve(&task.spec.io_config.input_source, allowed_dirs).map(drop)
}

/// Runs `task`: reads its input (local paths must lie under `allowed_dirs`), builds segments
/// with `version` and writes them to `work_dir`. Parse exceptions are counted in the report;
/// the task fails only past `maxParseExceptions`.
pub fn run_batch(
    task: &IndexTask,
    allowed_dirs: &[PathBuf],
    work_dir: &Path,
    version: &str,
) -> Result<BatchOutput> {
    let inputs = input::resolve(&task.spec.io_config.input_source, allowed_dirs)?;
    std::fs::create_dir_all(work_dir).map_err(|source| IngestError::io(work_dir, source))?;
    // One writer per core besides this thread, which joins them once the input is read.
    let writers = std::thread::available_parallelism()
        .map_or(1, |cores| cores.get().saturating_sub(1))
        .max(1);
    let (jobs, queue) = mpsc::sync_channel(writers);
    let pool = Pool::new(queue);
    let read = std::thread::scope(|scope| {
        for _ in 0..writers {
            scope.spawn(|| pool.drain());
        }
        let mut batch = Batch::new(task, work_dir, version, jobs);
        let read = inputs
            .iter()
            .try_for_each(|entity| batch.read(entity))
            .and_then(|()| batch.finish());
        drop(batch);
        pool.drain();
        read
    });
    let report = read?;
    let mut segments = pool.into_segments()?;
    segments.sort_by_key(|segment| (segment.id.interval, segment.id.partition));
    for index in 0..segments.len() {
        let interval = segments[index].id.interval;
        let partitions = segments
            .iter()
            .filter(|segment| segment.id.interval == interval)
            .count() as u32;
        let segment = &mut segments[index];
        segment.shard_spec = ShardSpec::numbered(segment.id.partition, partitions);
    }
    Ok(BatchOutput { segments, report })
}

/// A time chunk that has received no row for this many rows, while rows of a later chunk
/// arrive, is finished and handed to the writers (time-ordered input then keeps only the
/// current chunks in memory, and writing overlaps reading). A late row for it starts a new
/// partition, as Druid's dynamic partitioning would.
const IDLE_ROWS: u64 = 10_000;

/// One time chunk's open partition (if any) and how many partitions it already finished.
struct Chunk {
    rows: Option<ChunkRows>,
    written: u32,
    /// The row count when it last received a row.
    last_row: u64,
}

/// The rows of an open partition.
enum ChunkRows {
    /// Without rollup or discovery, rows go straight into the segment builder.
    Direct(SegmentBuilder),
    /// Otherwise they are indexed first (see [`RowStore`]).
    Indexed(RowStore),
}

impl ChunkRows {
    fn new(layout: &RowLayout, rollup: bool, metadata: &Value) -> ChunkRows {
        if layout.is_direct(rollup) {
            ChunkRows::Direct(layout.new_builder(metadata.clone()))
        } else {
            ChunkRows::Indexed(layout.new_store(rollup))
        }
    }

    fn len(&self) -> usize {
        match self {
            ChunkRows::Direct(builder) => builder.num_rows(),
            ChunkRows::Indexed(store) => store.len(),
        }
    }
}

struct Batch<'t> {
    task: &'t IndexTask,
    work_dir: &'t Path,
    version: &'t str,
    layout: RowLayout,
    /// Open chunks by the start of their segment-granularity bucket.
    chunks: BTreeMap<i64, Chunk>,
    /// When `intervals` are given, the bucket starts they cover; rows elsewhere are thrown
    /// away (Druid rounds the intervals out to whole buckets).
    allowed_buckets: Option<Vec<i64>>,
    metadata: Value,
    jobs: Jobs,
    /// Rows routed to a chunk so far, and the newest chunk seen.
    routed: u64,
    newest_bucket: Option<i64>,
    stats: RowStats,
}

impl<'t> Batch<'t> {
    fn new(task: &'t IndexTask, work_dir: &'t Path, version: &'t str, jobs: Jobs) -> Batch<'t> {
        let schema = &task.spec.data_schema;
        let granularity = &schema.granularity_spec;
        let allowed_buckets = (!granularity.intervals.is_empty()).then(|| {
            let mut starts = Vec::new();
            for interval in &granularity.intervals {
                let segment = granularity.segment_granularity;
                let mut start = segment.bucket_start(interval.start);
                while start < interval.end {
                    starts.push(start);
                    let next = segment.next_bucket_start(start);
                    if next <= start {
                        break;
                    }
                    start = next;
                }
            }
            starts.sort_unstable();
            starts.dedup();
            starts
        });
        let timestamp_spec = task
            .raw
            .pointer("/spec/dataSchema/timestampSpec")
            .cloned()
            .unwrap_or(Value::Null);
        let metadata = json!({
            "aggregators": schema.metrics_json,
            "timestampSpec": timestamp_spec,
            "queryGranularity": granularity.query_granularity,
            "rollup": granularity.rollup,
        });
        Batch {
            task,
            work_dir,
            version,
            layout: RowLayout::new(schema),
            chunks: BTreeMap::new(),
            allowed_buckets,
            metadata,
            jobs,
            routed: 0,
            newest_bucket: None,
            stats: RowStats::default(),
        }
    }

    fn read(&mut self, entity: &InputEntity) -> Result<()> {
        let source = entity.describe();
        let mut slots: Vec<Option<&RawValue>> = Vec::new();
        let mut record = 0u64;
        entity.for_each_line(|line, line_number, raw_len| {
            self.stats.processed_bytes += raw_len as u64;
            if line.iter().all(u8::is_ascii_whitespace) {
                return Ok(());
            }
            record += 1;
            let location = || format!("(Path: {source}, Record: {record}, Line: {line_number})");
            let Ok(text) = std::str::from_utf8(line) else {
                let text = String::from_utf8_lossy(line);
                let message = format!("Unable to parse row [{text}] {}: invalid UTF-8", location());
                return self.parse_exception(&text, message, true);
            };
            let mut line_slots = crate::parse::recycle(std::mem::take(&mut slots));
            let outcome = self.layout.parse(text, &mut line_slots);
            let result = match outcome {
                Ok(time) => self.add_row(text, time, &line_slots),
                Err(message) => {
                    self.parse_exception(text, format!("{message} {}", location()), true)
                }
            };
            slots = crate::parse::recycle(line_slots);
            result
        })
    }

    /// Routes a parsed row to its chunk (or throws it away), counting what happened.
    fn add_row(&mut self, text: &str, time: i64, slots: &[Option<&RawValue>]) -> Result<()> {
        let task = self.task;
        let granularity = &task.spec.data_schema.granularity_spec;
        let bucket = granularity.segment_granularity.bucket_start(time);
        if let Some(allowed) = &self.allowed_buckets {
            if allowed.binary_search(&bucket).is_err() {
                self.stats.thrown_away += 1;
                return Ok(());
            }
        }
        let truncated = match granularity.query_granularity {
            Granularity::All => Interval::ETERNITY.start,
            query => query.bucket_start(time),
        };
        if self.newest_bucket.is_none_or(|newest| bucket > newest) {
            self.newest_bucket = Some(bucket);
            self.finish_idle_chunks()?;
        }
        self.routed += 1;
        let (layout, metadata) = (&mut self.layout, &self.metadata);
        let chunk = self.chunks.entry(bucket).or_insert_with(|| Chunk {
            rows: None,
            written: 0,
            last_row: 0,
        });
        chunk.last_row = self.routed;
        let rows = chunk
            .rows
            .get_or_insert_with(|| ChunkRows::new(layout, granularity.rollup, metadata));
        let outcome = match rows {
            ChunkRows::Direct(builder) => layout.add_to_builder(builder, truncated, slots),
            ChunkRows::Indexed(store) => layout.add_to(store, truncated, slots),
        };
        let full = (rows.len() >= task.spec.tuning_config.max_rows_per_segment)
            .then(|| chunk.rows.take())
            .flatten()
            .map(|rows| {
                chunk.written += 1;
                (rows, chunk.written - 1)
            });
        match outcome {
            LineOutcome::Clean => self.stats.processed += 1,
            LineOutcome::WithErrors(messages) => {
                self.parse_exception(text, messages.join("; "), false)?;
            }
        }
        if let Some((rows, partition)) = full {
            self.write_segment(bucket, partition, rows)?;
        }
        Ok(())
    }

    /// Finishes the partitions of chunks idle for [`IDLE_ROWS`] rows.
    fn finish_idle_chunks(&mut self) -> Result<()> {
        let routed = self.routed;
        let mut idle = Vec::new();
        for (&bucket, chunk) in &mut self.chunks {
            if routed - chunk.last_row >= IDLE_ROWS {
                if let Some(rows) = chunk.rows.take() {
                    chunk.written += 1;
                    idle.push((bucket, chunk.written - 1, rows));
                }
            }
        }
        for (bucket, partition, rows) in idle {
            self.write_segment(bucket, partition, rows)?;
        }
        Ok(())
    }

    /// Records a parse exception; fails once `maxParseExceptions` is exceeded.
    fn parse_exception(&mut self, input: &str, message: String, dropped: bool) -> Result<()> {
        let tuning = &self.task.spec.tuning_config;
        let error_type = if dropped {
            crate::stats::ParseErrorType::Unparseable
        } else {
            crate::stats::ParseErrorType::ProcessedWithError
        };
        self.stats.record(
            error_type,
            input,
            message,
            tuning.max_saved_parse_exceptions,
        );
        match tuning.max_parse_exceptions {
            Some(limit) if self.stats.parse_exceptions() > limit => {
                Err(IngestError::MaxParseExceptions {
                    limit,
                    stats: Box::new(self.stats.clone()),
                })
            }
            _ => Ok(()),
        }
    }

    /// Hands `rows` to the writers as partition `partition` of the chunk starting at `bucket`.
    fn write_segment(&mut self, bucket: i64, partition: u32, rows: ChunkRows) -> Result<()> {
        let segment_granularity = self
            .task
            .spec
            .data_schema
            .granularity_spec
            .segment_granularity;
        let interval = match segment_granularity {
            Granularity::All => Interval::ETERNITY,
            granularity => granularity.bucket_interval(bucket),
        };
        let id = SegmentId {
            datasource: self.task.datasource.clone(),
            interval,
            version: self.version.to_string(),
            partition,
        };
        let path = self.work_dir.join(format!("{id}.seg").replace('/', "_"));
        let columns = match &rows {
            ChunkRows::Direct(_) => self.layout.column_names(),
            ChunkRows::Indexed(_) => (Vec::new(), Vec::new()),
        };
        let job = Job {
            id,
            path,
            rows,
            columns,
            metadata: self.metadata.clone(),
        };
        // The writers stop only when this sender is gone; a send can fail only if they all
        // panicked, which the scope then reports.
        self.jobs.send(job).map_err(|_| {
            IngestError::io(
                self.work_dir,
                std::io::Error::other("segment writers stopped"),
            )
        })
    }

    /// Finishes every open partition; returns the row counts.
    fn finish(&mut self) -> Result<RowStats> {
        let chunks = std::mem::take(&mut self.chunks);
        for (bucket, chunk) in chunks {
            if let Some(rows) = chunk.rows.filter(|rows| rows.len() > 0) {
                self.write_segment(bucket, chunk.written, rows)?;
            }
        }
        Ok(std::mem::take(&mut self.stats))
    }
}
