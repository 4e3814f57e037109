//! Druid's native batch task spec (`index_parallel`, and the legacy `index`): parsing and
//! validation into [`IndexTask`] (Druid's `docs/ingestion/native-batch.md`,
//! `ingestion-spec.md`, `native-batch-input-sources.md`).
//!
//! Unknown fields are rejected everywhere except in `tuningConfig` and `context`, where Druid
//! has dozens of knobs that do not change what gets ingested; features Henge recognises but
//! does not implement (transforms, hashed partitioning, other input sources) are rejected with
//! [`SpecError::Unsupported`] or [`SpecError::UnknownType`] rather than silently ignored.

mod fields;
mod metrics;
mod schema;

use std::path::PathBuf;

use serde_json::Value;

use self::fields::Obj;
pub use self::metrics::parse_metrics_spec;
pub(crate) use self::schema::validate_datasource;
pub use self::schema::{
    DataSchema, DimensionKind, DimensionSchema, DimensionsSpec, GranularitySpec, MetricKind,
    MetricSpec, TimestampFormat, TimestampSpec,
};
use crate::error::SpecError;

/// Druid's default `maxRowsPerSegment` for dynamic partitioning.
pub const DEFAULT_MAX_ROWS_PER_SEGMENT: usize = 5_000_000;

/// How many parse exceptions a report keeps when `maxSavedParseExceptions` is not given.
/// Druid's default is 0; Henge keeps a few so the report explains what went wrong.
pub const DEFAULT_MAX_SAVED_PARSE_EXCEPTIONS: usize = 10;

/// A parsed batch ingestion task.
#[derive(Clone, Debug)]
pub struct IndexTask {
    /// The task id when the submitter gave one (the overlord assigns one otherwise).
    pub id: Option<String>,
    /// `index_parallel` or `index`.
    pub task_type: String,
    pub datasource: String,
    pub spec: IndexSpec,
    /// The task JSON exactly as submitted (the task API returns it as the payload).
    pub raw: Value,
}

/// `spec`: what to ingest and how.
#[derive(Clone, Debug)]
pub struct IndexSpec {
    pub data_schema: DataSchema,
    pub io_config: IoConfig,
    pub tuning_config: TuningConfig,
}

/// `spec.ioConfig`.
#[derive(Clone, Debug, PartialEq)]
pub struct IoConfig {
    pub input_source: InputSource,
    /// `inputFormat`: only `json` (newline-delimited objects) so far, so nothing to hold.
    pub input_format: InputFormat,
}

/// `ioConfig.inputSource`.
#[derive(Clone, Debug, PartialEq)]
pub enum InputSource {
    /// Files on the server's disk: every file under `base_dir` (recursively) whose name
    /// matches `filter`, plus `files`.
    Local {
        base_dir: Option<PathBuf>,
        /// A wildcard pattern (`*` and `?`) matched against file names.
        filter: String,
        files: Vec<PathBuf>,
    },
    /// Data given in the spec itself (`{"type": "inline", "data": "..."}`).
    Inline { data: String },
}

/// `ioConfig.inputFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    Json,
}

/// The `tuningConfig` fields that change what Henge produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TuningConfig {
    /// Rows (after rollup) per segment before a time chunk gets another partition.
    pub max_rows_per_segment: usize,
    /// Parse exceptions tolerated before the task fails; `None` is unlimited (Druid's default).
    pub max_parse_exceptions: Option<u64>,
    pub max_saved_parse_exceptions: usize,
}

impl Default for TuningConfig {
    fn default() -> Self {
        TuningConfig {
            max_rows_per_segment: DEFAULT_MAX_ROWS_PER_SEGMENT,
            max_parse_exceptions: None,
            max_saved_parse_exceptions: DEFAULT_MAX_SAVED_PARSE_EXCEPTIONS,
        }
    }
}

/// Parses and validates a batch task (`index_parallel` or `index`).
pub fn parse_index_task(json: &Value) -> Result<IndexTask, SpecError> {
    let task = Obj::new(json, "")?;
    task.allow_only(&[
        "type",
        "id",
        "groupId",
        "resource",
        "context",
        "dataSource",
        "spec",
    ])?;
    let task_type = task.type_id(None)?;
    if task_type != "index_parallel" && task_type != "index" {
        return Err(SpecError::UnknownType {
            base: "Task",
            type_id: task_type.to_string(),
            known: "index_parallel, index".to_string(),
        });
    }
    let spec = task.required_obj("spec")?;
    spec.allow_only(&["dataSchema", "ioConfig", "tuningConfig"])?;
    let data_schema = schema::parse_data_schema(&spec.required_obj("dataSchema")?)?;
    if let Some(datasource) = task.str("dataSource")? {
        if datasource != data_schema.datasource {
            return Err(task.invalid(
                "dataSource",
                format!(
                    "[{datasource}] differs from spec.dataSchema.dataSource [{}]",
                    data_schema.datasource
                ),
            ));
        }
    }
    let io_config = parse_io_config(&spec.required_obj("ioConfig")?)?;
    let tuning_config = match spec.obj("tuningConfig")? {
        Some(tuning) => parse_tuning_config(&tuning)?,
        None => TuningConfig::default(),
    };
    Ok(IndexTask {
        id: task.str("id")?.map(str::to_string),
        task_type: task_type.to_string(),
        datasource: data_schema.datasource.clone(),
        spec: IndexSpec {
            data_schema,
            io_config,
            tuning_config,
        },
        raw: json.clone(),
    })
}

fn parse_io_config(io_config: &Obj<'_>) -> Result<IoConfig, SpecError> {
    io_config.allow_only(&[
        "type",
        "inputSource",
        "inputFormat",
        "appendToExisting",
        "dropExisting",
        "firehose",
    ])?;
    if io_config.get("firehose").is_some() {
        return Err(io_config.unsupported("firehose", "firehoses; use inputSource"));
    }
    if io_config.bool("appendToExisting")? == Some(true) {
        return Err(io_config.unsupported(
            "appendToExisting",
            "appending; batch tasks overwrite the time chunks they write",
        ));
    }
    if io_config.bool("dropExisting")? == Some(true) {
        return Err(io_config.unsupported("dropExisting", "tombstones for empty time chunks"));
    }
    let input_source = parse_input_source(&io_config.required_obj("inputSource")?)?;
    let input_format = match io_config.obj("inputFormat")? {
        Some(format) => parse_input_format(&format)?,
        None => return Err(io_config.missing("inputFormat")),
    };
    Ok(IoConfig {
        input_source,
        input_format,
    })
}

fn parse_input_source(source: &Obj<'_>) -> Result<InputSource, SpecError> {
    match source.type_id(None)? {
        "local" => {
            source.allow_only(&["type", "baseDir", "filter", "files"])?;
            let base_dir = source.str("baseDir")?.map(PathBuf::from);
            let files: Vec<PathBuf> = source
                .strings("files")?
                .into_iter()
                .map(PathBuf::from)
                .collect();
            if base_dir.is_none() && files.is_empty() {
                return Err(SpecError::Invalid {
                    path: source.path().to_string(),
                    message: "at least one of baseDir or files must be specified".to_string(),
                });
            }
            Ok(InputSource::Local {
                base_dir,
                filter: source.str("filter")?.unwrap_or("*").to_string(),
                files,
            })
        }
        "inline" => {
            source.allow_only(&["type", "data"])?;
            Ok(InputSource::Inline {
                data: source.str("data")?.unwrap_or_default().to_string(),
            })
        }
        other => Err(SpecError::UnknownType {
            base: "InputSource",
            type_id: other.to_string(),
            known: "local, inline".to_string(),
        }),
    }
}

fn parse_input_format(format: &Obj<'_>) -> Result<InputFormat, SpecError> {
    match format.type_id(None)? {
        "json" => {
            format.allow_only(&[
                "type",
                "flattenSpec",
                "featureSpec",
                "keepNullColumns",
                "assumeNewlineDelimited",
                "useJsonNodeReader",
            ])?;
            if let Some(flatten) = format.obj("flattenSpec")? {
                let has_fields = flatten.array("fields")?.is_some_and(|f| !f.is_empty());
                if has_fields || flatten.bool("useFieldDiscovery")? == Some(false) {
                    return Err(format.unsupported("flattenSpec", "flattening nested JSON"));
                }
            }
            Ok(InputFormat::Json)
        }
        other => Err(SpecError::UnknownType {
            base: "InputFormat",
            type_id: other.to_string(),
            known: "json".to_string(),
        }),
    }
}

/// Reads the few tuning fields that matter; everything else is ignored, as Druid ignores
/// tuning it does not need for the chosen partitioning.
fn parse_tuning_config(tuning: &Obj<'_>) -> Result<TuningConfig, SpecError> {
    let mut config = TuningConfig::default();
    if let Some(rows) = positive(tuning, "maxRowsPerSegment")? {
        config.max_rows_per_segment = rows;
    }
    if let Some(partitions) = tuning.obj("partitionsSpec")? {
        match partitions.type_id(Some("dynamic"))? {
            "dynamic" => {
                if let Some(rows) = positive(&partitions, "maxRowsPerSegment")? {
                    config.max_rows_per_segment = rows;
                }
            }
            other @ ("hashed" | "single_dim" | "range") => {
                return Err(tuning.unsupported(
                    "partitionsSpec",
                    format!("[{other}] partitioning; use dynamic"),
                ))
            }
            other => {
                return Err(SpecError::UnknownType {
                    base: "PartitionsSpec",
                    type_id: other.to_string(),
                    known: "dynamic, hashed, single_dim, range".to_string(),
                })
            }
        }
    }
    // Druid: a negative maxParseExceptions, like an absent one, means unlimited.
    config.max_parse_exceptions = tuning
        .i64("maxParseExceptions")?
        .and_then(|limit| u64::try_from(limit).ok());
    if let Some(saved) = tuning.i64("maxSavedParseExceptions")? {
        config.max_saved_parse_exceptions = usize::try_from(saved).unwrap_or(0);
    }
    Ok(config)
}

/// A positive integer field; Druid treats 0 or a negative value as "use the default".
fn positive(obj: &Obj<'_>, key: &str) -> Result<Option<usize>, SpecError> {
    Ok(obj
        .i64(key)?
        .and_then(|value| usize::try_from(value).ok())
        .filter(|value| *value > 0))
}
