//! `henge quickstart`: every role in one process, embedded coordination, local deep storage,
//! the generated demo datasource and any `--load` files, loaded through the task API.
//!
//! Datasets already in the catalog (from an earlier run on the same data dir) are not loaded
//! again.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::config::{NodeConfig, NodeFlags};
use crate::demo;
use crate::node::{shutdown_signal, Node};
use crate::overlord::OverlordMessage;
use crate::tasks::{self, TaskState};

/// The readiness hold kept while the quickstart loads its datasets.
const LOAD_HOLD: &str = "quickstart";

/// Rows of the demo datasource unless `--demo-rows` says otherwise.
pub const DEFAULT_DEMO_ROWS: usize = 300_000;
/// Column names tried, in order, when a file's timestamp column is not given.
const TIME_COLUMNS: [&str; 9] = [
    "__time",
    "timestamp",
    "time",
    "ts",
    "@timestamp",
    "event_time",
    "eventTime",
    "datetime",
    "date",
];

pub struct QuickstartOptions {
    pub load: Vec<PathBuf>,
    pub time_column: Option<String>,
    pub demo_rows: usize,
}

pub async fn run(mut flags: NodeFlags, options: QuickstartOptions) -> anyhow::Result<()> {
    if flags
        .coordination
        .as_deref()
        .is_some_and(|spec| spec != "embedded")
    {
        bail!("quickstart always uses embedded coordination; use `henge server` for etcd");
    }
    flags.coordination = Some("embedded".into());
    let mut config = NodeConfig::resolve(&flags, Some("all"))?;
    // The demo file is written under the data dir.
    config.allow_dirs.push(config.data_dir.clone());
    for file in &options.load {
        let dir = file
            .canonicalize()
            .with_context(|| format!("cannot read --load file {}", file.display()))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        config.allow_dirs.push(dir);
    }
    let node = Node::start(config).await?;
    // `/status/health` stays false until the datasets are queryable, so that a script waiting
    // for it never queries a datasource that is still loading.
    let readiness = &node.context.readiness;
    readiness.hold(LOAD_HOLD, "loading the quickstart datasets".into());
    tokio::select! {
        _ = shutdown_signal() => return node.stop().await,
        loaded = load_all(&node, &options) => {
            if let Err(err) = loaded {
                tracing::error!(error = %format!("{err:#}"), "loading data failed");
            }
        }
    }
    readiness.release(LOAD_HOLD);
    let url = format!("http://{}", node.context.node_id);
    tracing::info!(url = %url, "henge quickstart is ready: open {url}/status, query with POST {url}/druid/v2");
    shutdown_signal().await;
    node.stop().await
}

async fn load_all(node: &Node, options: &QuickstartOptions) -> anyhow::Result<()> {
    let existing: BTreeSet<String> = node
        .context
        .used_segments()
        .await?
        .into_iter()
        .map(|segment| segment.data_source)
        .collect();
    let mut submitted = Vec::new();
    if options.demo_rows > 0 && !existing.contains(demo::DATASOURCE) {
        let dir = node.context.config.data_dir.join("demo");
        let file = dir.join(format!("{}-{}.json", demo::DATASOURCE, options.demo_rows));
        let rows = options.demo_rows;
        let write_to = file.clone();
        tokio::task::spawn_blocking(move || {
            henge_common::fsutil::write_atomic_with(&write_to, |out| {
                demo::write_json(rows, std::io::BufWriter::new(out))
            })
        })
        .await??;
        let spec = index_spec(
            demo::DATASOURCE,
            &file,
            "timestamp",
            demo::dimensions_spec(),
        );
        submitted.push((demo::DATASOURCE.to_string(), submit(node, spec).await?));
    }
    for file in &options.load {
        let datasource = datasource_name(file);
        if existing.contains(&datasource) {
            tracing::info!(datasource = %datasource, "already loaded, skipping");
            continue;
        }
        let column = match &options.time_column {
            Some(column) => column.clone(),
            None => detect_time_column(file)?,
        };
        let spec = index_spec(
            &datasource,
            &file.canonicalize()?,
            &column,
            json!({"dimensions": [], "useSchemaDiscovery": true}),
        );
        submitted.push((datasource, submit(node, spec).await?));
    }
    let loading: BTreeSet<String> = submitted.iter().map(|(name, _)| name.clone()).collect();
    for (datasource, task_id) in submitted {
        tracing::info!(datasource = %datasource, task = %task_id, "loading");
        loop {
            match tasks::load(node.context.store.as_ref(), &task_id).await? {
                Some(task) if task.state == TaskState::Success => break,
                Some(task) if task.state == TaskState::Failed => {
                    bail!(
                        "loading {datasource} failed: {}",
                        task.error_msg.unwrap_or_default()
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        tracing::info!(datasource = %datasource, "loaded");
    }
    served_by_broker(node, &loading).await
}

/// Waits until the broker serves a historical copy of every used segment of `datasources`,
/// so that they answer in full once the node reports ready.
async fn served_by_broker(node: &Node, datasources: &BTreeSet<String>) -> anyhow::Result<()> {
    let broker = node.broker().context("quickstart runs the broker")?;
    let mut changes = broker.view().subscribe();
    loop {
        let used = node.context.used_segments().await?;
        let missing = used
            .iter()
            .filter(|segment| datasources.contains(&segment.data_source))
            .filter(|segment| !broker.view().is_loaded_on_historical(&segment.identifier))
            .count();
        if missing == 0 {
            return Ok(());
        }
        tracing::debug!(
            missing,
            "waiting for the broker to see every loaded segment"
        );
        // The view changes when a historical announces; poll too, in case the catalog moved.
        let _ = tokio::time::timeout(Duration::from_millis(500), changes.changed()).await;
    }
}

async fn submit(node: &Node, payload: Value) -> anyhow::Result<String> {
    let overlord = node.overlord().context("quickstart runs the overlord")?;
    overlord
        .ask(|reply| OverlordMessage::Submit { payload, reply })
        .await?
        .map_err(|rejection| anyhow::anyhow!("task rejected: {}", rejection.message))
}

/// A datasource name from a file name: the name without `.gz` and `.json`-like extensions.
fn datasource_name(file: &Path) -> String {
    let mut name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    for extension in [".gz", ".json", ".ndjson", ".jsonl"] {
        if let Some(stripped) = name.strip_suffix(extension) {
            name = stripped.to_string();
        }
    }
    name
}

fn index_spec(datasource: &str, file: &Path, time_column: &str, dimensions: Value) -> Value {
    json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": time_column, "format": "auto"},
                "dimensionsSpec": dimensions,
                "metricsSpec": [],
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none", "rollup": false},
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {
                    "type": "local",
                    "baseDir": file.parent().map(|dir| dir.display().to_string()).unwrap_or_default(),
                    "filter": file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default(),
                },
                "inputFormat": {"type": "json"},
            },
            "tuningConfig": {"type": "index_parallel"},
        }
    })
}

/// Finds the timestamp column from the file's first row.
fn detect_time_column(file: &Path) -> anyhow::Result<String> {
    let raw =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let reader: Box<dyn Read> = if file.extension().is_some_and(|extension| extension == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut first = String::new();
    BufReader::new(reader).read_line(&mut first)?;
    let row: serde_json::Map<String, Value> = serde_json::from_str(&first)
        .with_context(|| format!("first line of {} is not a JSON object", file.display()))?;
    if let Some(column) = TIME_COLUMNS
        .iter()
        .find(|column| row.contains_key(**column))
    {
        return Ok(column.to_string());
    }
    row.iter()
        .find(|(_, value)| {
            value
                .as_str()
                .and_then(henge_segment::time::parse_timestamp)
                .is_some()
        })
        .map(|(name, _)| name.clone())
        .with_context(|| {
            format!(
                "no timestamp column found in {}; pass --time-column",
                file.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_time_columns() {
        assert_eq!(
            datasource_name(Path::new("/x/wikiticker-2015-09-12-sampled.json.gz")),
            "wikiticker-2015-09-12-sampled"
        );
        assert_eq!(datasource_name(Path::new("events.ndjson")), "events");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        std::fs::write(&file, "{\"when\":\"2015-09-12T00:00:00Z\",\"x\":1}\n").unwrap();
        assert_eq!(detect_time_column(&file).unwrap(), "when");
        std::fs::write(&file, "{\"x\":\"a\",\"time\":\"2015\"}\n").unwrap();
        assert_eq!(detect_time_column(&file).unwrap(), "time");
    }
}
