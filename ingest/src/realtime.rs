//! [`RealtimeIndex`]: the in-memory data of push ingestion (`POST /druid/v2/push/{ds}`) on one
//! realtime node, served to queries until it is handed off as segments.
//!
//! Each datasource has a schema discovered from its events (`schema`: every field but
//! `timestamp` is a dimension; no rollup) and one or more `sink`s per segment-granularity
//! time chunk. A sink becomes full at `max_rows_per_segment` rows; later rows for its chunk go
//! to a new sink with the next partition number and the same version. The version and the
//! first partition number of a chunk are asked from the caller once, when the index first
//! sees the chunk (after a restart the catalog may already hold partitions of that version). [`RealtimeIndex::take_for_handoff`] removes sinks that are
//! full, whose chunk ended more than a grace period ago, or all of them; the caller merges
//! their hydrants, publishes the segment and keeps serving the hydrants until a historical
//! loads it.
//!
//! A push is all-or-nothing: the whole body is parsed and checked first, and if any line is
//! bad (not a JSON object, unparseable timestamp, a value that does not fit its column) the
//! request is rejected with [`IngestError::PushRejected`] (HTTP 400) and nothing is ingested.
//! No locking inside: the caller owns the index behind a mutex or an actor.

mod schema;
mod sink;

use std::collections::{BTreeMap, HashMap};

use henge_segment::{ColumnSpec, Granularity, Interval, Segment, SegmentId};

use self::schema::PushSchema;
pub use self::schema::TIMESTAMP_FIELD;
use self::sink::{ListScratch, Sink};
use crate::error::{IngestError, Result, SpecError};
use crate::spec::MetricSpec;

/// Most bad lines described in a rejected push.
const MAX_PUSH_ERRORS: usize = 10;

/// Settings of a realtime node's index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealtimeConfig {
    /// Time chunk of a sink (default HOUR).
    pub segment_granularity: Granularity,
    /// Rows at which a sink is full and handed off (default 1,000,000).
    pub max_rows_per_segment: usize,
    /// Rows at which a hydrant stops being merged with newer ones (default 100,000).
    pub max_rows_in_memory: usize,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        RealtimeConfig {
            segment_granularity: Granularity::Hour,
            max_rows_per_segment: 1_000_000,
            max_rows_in_memory: 100_000,
        }
    }
}

/// The version of a time chunk new to the index, and the partition number of its first sink
/// (0 unless the catalog already holds partitions of that version, e.g. after a restart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkVersion {
    pub version: String,
    pub first_partition: u32,
}

impl From<String> for ChunkVersion {
    fn from(version: String) -> ChunkVersion {
        ChunkVersion {
            version,
            first_partition: 0,
        }
    }
}

impl From<(String, u32)> for ChunkVersion {
    fn from((version, first_partition): (String, u32)) -> ChunkVersion {
        ChunkVersion {
            version,
            first_partition,
        }
    }
}

/// What an accepted push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSummary {
    /// Events ingested (blank lines are skipped).
    pub accepted: usize,
}

/// A sink as queries see it.
#[derive(Clone, Debug)]
pub struct SinkView {
    pub id: SegmentId,
    /// Immutable in-memory segments; together they hold every acknowledged row of the sink.
    pub segments: Vec<Segment>,
    pub num_rows: usize,
}

/// A sink removed for handoff.
#[derive(Clone, Debug)]
pub struct SinkHandoff {
    pub id: SegmentId,
    /// Merge these (`henge_segment::merge_segments`) to get the segment to publish.
    pub hydrants: Vec<Segment>,
    pub num_rows: usize,
}

/// The sinks of one time chunk of a datasource.
struct ChunkSinks {
    interval: Interval,
    version: String,
    next_partition: u32,
    /// Sinks not handed off yet; all but the last are full.
    sinks: Vec<Sink>,
}

struct Datasource {
    schema: PushSchema,
    /// By chunk start. Kept after handoff so later rows continue the partition numbering.
    chunks: BTreeMap<i64, ChunkSinks>,
}

/// All push-ingested data of one realtime node (see the module docs).
pub struct RealtimeIndex {
    config: RealtimeConfig,
    datasources: HashMap<String, Datasource>,
    /// Metrics of datasources, by name (see [`RealtimeIndex::set_metrics`]).
    metrics: HashMap<String, Vec<MetricSpec>>,
}

impl RealtimeIndex {
    pub fn new(config: RealtimeConfig) -> RealtimeIndex {
        RealtimeIndex {
            config,
            datasources: HashMap::new(),
            metrics: HashMap::new(),
        }
    }

    /// Sets the metrics (a `metricsSpec`) of `datasource`'s rows, before its first push: each
    /// pushed row gets its own metric values (no rollup): 1 for `count`, the input value for
    /// sums, minimums and maximums, a sketch of the input value for sketch metrics, which
    /// queries then merge. The metrics' names and input fields are not dimensions.
    ///
    /// # Errors
    /// When the index already holds rows of `datasource` (its columns are fixed then).
    pub fn set_metrics(&mut self, datasource: &str, metrics: Vec<MetricSpec>) -> Result<()> {
        if self.datasources.contains_key(datasource) {
            return Err(IngestError::Spec(SpecError::Invalid {
                path: "metricsSpec".to_string(),
                message: format!(
                    "datasource [{datasource}] already has rows; set its metrics before the first push"
                ),
            }));
        }
        self.metrics.insert(datasource.to_string(), metrics);
        Ok(())
    }

    /// Ingests a newline-delimited JSON body into `datasource`, all or nothing.
    /// `version_for(datasource, interval)` gives the [`ChunkVersion`] of a time chunk the
    /// index sees for the first time: a version, or a version and a first partition number.
    pub fn push<V: Into<ChunkVersion>>(
        &mut self,
        datasource: &str,
        body: &[u8],
        mut version_for: impl FnMut(&str, Interval) -> V,
    ) -> Result<PushSummary> {
        crate::spec::validate_datasource(datasource).map_err(|message| SpecError::Invalid {
            path: "dataSource".to_string(),
            message,
        })?;
        let body = std::str::from_utf8(body).map_err(|error| IngestError::PushRejected {
            errors: vec![format!("request body is not UTF-8: {error}")],
        })?;
        let is_new = !self.datasources.contains_key(datasource);
        let metrics = self.metrics.get(datasource).map_or(&[][..], Vec::as_slice);
        let state = self
            .datasources
            .entry(datasource.to_string())
            .or_insert_with(|| Datasource {
                schema: PushSchema::with_metrics(metrics),
                chunks: BTreeMap::new(),
            });
        let validated = match state.schema.validate(body, MAX_PUSH_ERRORS) {
            Ok(validated) if !validated.events.is_empty() => validated,
            outcome => {
                // Leave no trace of a datasource that got no data.
                if is_new {
                    self.datasources.remove(datasource);
                }
                return match outcome {
                    Ok(_) => Ok(PushSummary { accepted: 0 }),
                    Err(errors) => Err(IngestError::PushRejected { errors }),
                };
            }
        };
        state.schema.apply(&validated);
        let config = &self.config;
        let mut scalars = Vec::new();
        let mut lists = ListScratch::default();
        for event in &validated.events {
            let start = config.segment_granularity.bucket_start(event.time);
            let chunk = state.chunks.entry(start).or_insert_with(|| {
                let interval = chunk_interval(config.segment_granularity, start);
                let ChunkVersion {
                    version,
                    first_partition,
                } = version_for(datasource, interval).into();
                ChunkSinks {
                    interval,
                    version,
                    next_partition: first_partition,
                    sinks: Vec::new(),
                }
            });
            let needs_sink = chunk
                .sinks
                .last()
                .is_none_or(|sink| sink.num_rows >= config.max_rows_per_segment);
            if needs_sink {
                chunk.sinks.push(Sink::new(SegmentId {
                    datasource: datasource.to_string(),
                    interval: chunk.interval,
                    version: chunk.version.clone(),
                    partition: chunk.next_partition,
                }));
                chunk.next_partition += 1;
            }
            let sink = chunk.sinks.last_mut().expect("a sink was just ensured");
            sink.push(
                &state.schema,
                event,
                &mut scalars,
                &mut lists,
                config.max_rows_in_memory,
            )?;
        }
        for chunk in state.chunks.values_mut() {
            for sink in &mut chunk.sinks {
                sink.seal(config.max_rows_in_memory)?;
            }
        }
        Ok(PushSummary {
            accepted: validated.events.len(),
        })
    }

    /// Every sink, ordered by id, with its hydrants: what queries on realtime data must
    /// cover.
    pub fn sinks(&self) -> Vec<SinkView> {
        let mut views: Vec<SinkView> = self
            .datasources
            .values()
            .flat_map(|state| state.chunks.values())
            .flat_map(|chunk| &chunk.sinks)
            .map(|sink| SinkView {
                id: sink.id.clone(),
                segments: sink.hydrants.clone(),
                num_rows: sink.num_rows,
            })
            .collect();
        views.sort_by(|a, b| a.id.cmp(&b.id));
        views
    }

    /// The columns of `datasource` (its metrics, then the dimensions discovered so far), if
    /// it has any data.
    pub fn schema(&self, datasource: &str) -> Option<&[ColumnSpec]> {
        self.datasources
            .get(datasource)
            .map(|state| state.schema.columns())
    }

    /// Removes and returns the sinks to hand off: those that are full, those whose time
    /// chunk ended more than `grace_ms` before `now_ms`, or every sink when `force`.
    pub fn take_for_handoff(
        &mut self,
        now_ms: i64,
        grace_ms: i64,
        force: bool,
    ) -> Vec<SinkHandoff> {
        let max_rows = self.config.max_rows_per_segment;
        let mut handoffs = Vec::new();
        for state in self.datasources.values_mut() {
            for chunk in state.chunks.values_mut() {
                let expired = force || chunk.interval.end.saturating_add(grace_ms) < now_ms;
                let (taken, kept): (Vec<Sink>, Vec<Sink>) = std::mem::take(&mut chunk.sinks)
                    .into_iter()
                    .partition(|sink| expired || sink.num_rows >= max_rows);
                chunk.sinks = kept;
                handoffs.extend(taken.into_iter().map(|sink| SinkHandoff {
                    id: sink.id,
                    hydrants: sink.hydrants,
                    num_rows: sink.num_rows,
                }));
            }
        }
        handoffs.sort_by(|a, b| a.id.cmp(&b.id));
        handoffs
    }
}

/// The interval of the chunk starting at `start` (ETERNITY for `ALL`, as in Druid).
fn chunk_interval(granularity: Granularity, start: i64) -> Interval {
    match granularity {
        Granularity::All => Interval::ETERNITY,
        granularity => granularity.bucket_interval(start),
    }
}
