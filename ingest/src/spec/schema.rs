//! `spec.dataSchema`: the timestamp, dimensions, metrics and granularity of an ingestion
//! (Druid's `docs/ingestion/ingestion-spec.md#dataschema`).

use henge_segment::time::parse_timestamp;
use henge_segment::{ColumnType, Granularity, Interval};
use serde_json::Value;

use super::fields::{json_kind, Obj};
use super::metrics::parse_metrics;
pub use super::metrics::{MetricKind, MetricSpec};
use crate::error::SpecError;
use crate::multi_value::MultiValueHandling;

/// `dataSchema`.
#[derive(Clone, Debug)]
pub struct DataSchema {
    pub datasource: String,
    pub timestamp_spec: TimestampSpec,
    pub dimensions_spec: DimensionsSpec,
    pub metrics: Vec<MetricSpec>,
    /// `metricsSpec` exactly as submitted, stored in segment metadata as `aggregators`.
    pub metrics_json: Value,
    pub granularity_spec: GranularitySpec,
}

/// `timestampSpec`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimestampSpec {
    /// Input field holding the timestamp (default `"timestamp"`).
    pub column: String,
    pub format: TimestampFormat,
    /// Timestamp used when the column is absent or null (`missingValue`).
    pub missing_value: Option<i64>,
}

/// `timestampSpec.format`. Joda patterns are not supported yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampFormat {
    /// ISO-8601 strings; numbers are taken as epoch milliseconds (as Druid does).
    Iso,
    /// ISO-8601 strings, or epoch milliseconds as numbers or all-digit strings.
    Auto,
    Millis,
    /// Epoch seconds.
    Posix,
    Micro,
    Nano,
}

impl TimestampFormat {
    fn parse(name: &str) -> Option<TimestampFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "iso" => TimestampFormat::Iso,
            "auto" => TimestampFormat::Auto,
            "millis" => TimestampFormat::Millis,
            "posix" => TimestampFormat::Posix,
            "micro" => TimestampFormat::Micro,
            "nano" => TimestampFormat::Nano,
            _ => return None,
        })
    }

    /// Converts an epoch number in this format's unit to milliseconds.
    pub(crate) fn epoch_to_millis(&self, number: i64) -> Option<i64> {
        match self {
            TimestampFormat::Iso | TimestampFormat::Auto | TimestampFormat::Millis => Some(number),
            TimestampFormat::Posix => number.checked_mul(1000),
            TimestampFormat::Micro => Some(number.div_euclid(1000)),
            TimestampFormat::Nano => Some(number.div_euclid(1_000_000)),
        }
    }
}

/// `dimensionsSpec`.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionsSpec {
    /// Explicit dimensions, in order. Empty means schemaless (see [`DimensionsSpec::discover`]).
    pub dimensions: Vec<DimensionSchema>,
    pub exclusions: Vec<String>,
    /// Whether fields beyond `dimensions` become dimensions: true when `dimensions` is
    /// empty (classic schemaless), or with `includeAllDimensions` / `useSchemaDiscovery`.
    pub discover: bool,
    /// `useSchemaDiscovery`: discovered dimensions get types (long, double or string) from
    /// their values instead of all being strings.
    pub typed_discovery: bool,
}

/// One dimension of `dimensionsSpec.dimensions`.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionSchema {
    pub name: String,
    pub kind: DimensionKind,
    /// How a string dimension orders the values of a JSON array (`multiValueHandling`).
    pub multi_value_handling: MultiValueHandling,
}

/// A dimension's declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimensionKind {
    /// `string`, `long`, `double` (and `float`, stored as double).
    Fixed(ColumnType),
    /// `auto`: the type is discovered from the values, like `useSchemaDiscovery`.
    Auto,
}

/// `granularitySpec` (type `uniform`).
#[derive(Clone, Debug, PartialEq)]
pub struct GranularitySpec {
    pub segment_granularity: Granularity,
    pub query_granularity: Granularity,
    pub rollup: bool,
    /// Input intervals; empty means "derive from the data".
    pub intervals: Vec<Interval>,
}

pub(crate) fn parse_data_schema(data_schema: &Obj<'_>) -> Result<DataSchema, SpecError> {
    data_schema.allow_only(&[
        "dataSource",
        "timestampSpec",
        "dimensionsSpec",
        "metricsSpec",
        "granularitySpec",
        "transformSpec",
        "parser",
    ])?;
    if data_schema.get("parser").is_some() {
        return Err(data_schema.unsupported(
            "parser",
            "the legacy parser/parseSpec; use ioConfig.inputFormat with dataSchema.timestampSpec \
             and dataSchema.dimensionsSpec",
        ));
    }
    if let Some(transform) = data_schema.obj("transformSpec")? {
        transform.allow_only(&["transforms", "filter"])?;
        let has_transforms = transform
            .array("transforms")?
            .is_some_and(|t| !t.is_empty());
        if has_transforms || transform.get("filter").is_some() {
            return Err(data_schema.unsupported("transformSpec", "transforms and filters"));
        }
    }
    let datasource = data_schema.required_str("dataSource")?.to_string();
    if let Err(message) = validate_datasource(&datasource) {
        return Err(data_schema.invalid("dataSource", message));
    }
    let timestamp_spec = match data_schema.obj("timestampSpec")? {
        Some(spec) => parse_timestamp_spec(&spec)?,
        None => return Err(data_schema.missing("timestampSpec")),
    };
    let metrics_json = data_schema
        .get("metricsSpec")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let metrics = parse_metrics(data_schema)?;
    let dimensions_spec = match data_schema.obj("dimensionsSpec")? {
        Some(spec) => parse_dimensions_spec(&spec)?,
        None => DimensionsSpec {
            dimensions: Vec::new(),
            exclusions: Vec::new(),
            discover: true,
            typed_discovery: false,
        },
    };
    check_unique_columns(&dimensions_spec, &metrics)?;
    let granularity_spec = match data_schema.obj("granularitySpec")? {
        Some(spec) => parse_granularity_spec(&spec)?,
        None => GranularitySpec {
            segment_granularity: Granularity::Day,
            query_granularity: Granularity::None,
            rollup: true,
            intervals: Vec::new(),
        },
    };
    Ok(DataSchema {
        datasource,
        timestamp_spec,
        dimensions_spec,
        metrics,
        metrics_json,
        granularity_spec,
    })
}

/// Druid's `IdUtils.validateId` rules for a datasource name (it also names files).
pub(crate) fn validate_datasource(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Value cannot be null or empty.".to_string());
    }
    if name.starts_with('.') {
        return Err(format!("Value [{name}] cannot start with '.'."));
    }
    if name.contains('/') {
        return Err(format!("Value [{name}] cannot contain '/'."));
    }
    if name
        .chars()
        .any(|c| c != ' ' && (c.is_whitespace() || c.is_control()))
    {
        return Err(format!(
            "Value [{name}] cannot contain whitespace character except space."
        ));
    }
    Ok(())
}

fn parse_timestamp_spec(spec: &Obj<'_>) -> Result<TimestampSpec, SpecError> {
    spec.allow_only(&["column", "format", "missingValue"])?;
    let column = spec.str("column")?.unwrap_or("timestamp").to_string();
    let format_name = spec.str("format")?.unwrap_or("auto");
    let format = TimestampFormat::parse(format_name).ok_or_else(|| {
        spec.unsupported(
            "format",
            format!(
                "timestamp format [{format_name}]; supported: iso, auto, millis, posix, micro, \
                 nano (Joda patterns are not supported yet)"
            ),
        )
    })?;
    let missing_value = match spec.get("missingValue") {
        None => None,
        Some(Value::String(text)) => Some(
            parse_timestamp(text)
                .ok_or_else(|| spec.invalid("missingValue", format!("unparseable [{text}]")))?,
        ),
        Some(Value::Number(number)) => Some(
            number
                .as_i64()
                .ok_or_else(|| spec.invalid("missingValue", "not an integer"))?,
        ),
        Some(other) => {
            return Err(spec.invalid(
                "missingValue",
                format!("expected a timestamp, got {}", json_kind(other)),
            ))
        }
    };
    Ok(TimestampSpec {
        column,
        format,
        missing_value,
    })
}

fn parse_dimensions_spec(spec: &Obj<'_>) -> Result<DimensionsSpec, SpecError> {
    spec.allow_only(&[
        "dimensions",
        "dimensionExclusions",
        "spatialDimensions",
        "includeAllDimensions",
        "useSchemaDiscovery",
        "forceSegmentSortByTime",
    ])?;
    if spec
        .array("spatialDimensions")?
        .is_some_and(|dims| !dims.is_empty())
    {
        return Err(spec.unsupported("spatialDimensions", "spatial dimensions"));
    }
    if spec.bool("forceSegmentSortByTime")? == Some(false) {
        return Err(spec.unsupported(
            "forceSegmentSortByTime",
            "segments are always sorted by __time first",
        ));
    }
    let dimensions_path = spec.child("dimensions");
    let mut dimensions = Vec::new();
    for (index, item) in spec
        .array("dimensions")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("{dimensions_path}[{index}]");
        dimensions.push(parse_dimension(item, &path)?);
    }
    let typed_discovery = spec.bool("useSchemaDiscovery")?.unwrap_or(false);
    let include_all = spec.bool("includeAllDimensions")?.unwrap_or(false);
    Ok(DimensionsSpec {
        discover: dimensions.is_empty() || include_all || typed_discovery,
        dimensions,
        exclusions: spec.strings("dimensionExclusions")?,
        typed_discovery,
    })
}

fn parse_dimension(item: &Value, path: &str) -> Result<DimensionSchema, SpecError> {
    if let Value::String(name) = item {
        return Ok(DimensionSchema {
            name: name.clone(),
            kind: DimensionKind::Fixed(ColumnType::String),
            multi_value_handling: MultiValueHandling::default(),
        });
    }
    let dimension = Obj::new(item, path)?;
    dimension.allow_only(&[
        "name",
        "type",
        "createBitmapIndex",
        "multiValueHandling",
        "castToType",
    ])?;
    let name = dimension.required_str("name")?.to_string();
    let kind = match dimension.type_id(Some("string"))? {
        "string" => DimensionKind::Fixed(ColumnType::String),
        "long" => DimensionKind::Fixed(ColumnType::Long),
        "double" | "float" => DimensionKind::Fixed(ColumnType::Double),
        "auto" if dimension.get("castToType").is_none() => DimensionKind::Auto,
        other => {
            return Err(SpecError::UnknownType {
                base: "DimensionSchema",
                type_id: other.to_string(),
                known: "string, long, float, double, auto".to_string(),
            })
        }
    };
    let multi_value_handling = match dimension.str("multiValueHandling")? {
        None => MultiValueHandling::default(),
        Some(text) => MultiValueHandling::parse(text).ok_or_else(|| SpecError::Invalid {
            path: dimension.child("multiValueHandling"),
            message: format!(
                "unknown multiValueHandling [{text}]; known: SORTED_ARRAY, SORTED_SET, ARRAY"
            ),
        })?,
    };
    Ok(DimensionSchema {
        name,
        kind,
        multi_value_handling,
    })
}

/// Druid: "Cannot specify a column more than once"; `__time` is reserved.
fn check_unique_columns(dims: &DimensionsSpec, metrics: &[MetricSpec]) -> Result<(), SpecError> {
    let names = dims
        .dimensions
        .iter()
        .map(|dim| (dim.name.as_str(), "dimensionsSpec.dimensions"))
        .chain(metrics.iter().map(|m| (m.name.as_str(), "metricsSpec")));
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (name, list) in names {
        if name == "__time" {
            return Err(SpecError::Invalid {
                path: format!("spec.dataSchema.{list}"),
                message: "[__time] is a reserved column name".to_string(),
            });
        }
        if let Some((_, first_list)) = seen.iter().find(|(seen_name, _)| *seen_name == name) {
            return Err(SpecError::Invalid {
                path: format!("spec.dataSchema.{list}"),
                message: format!(
                    "Cannot specify a column more than once: [{name}] seen in {first_list} and {list}"
                ),
            });
        }
        seen.push((name, list));
    }
    Ok(())
}

fn parse_granularity_spec(spec: &Obj<'_>) -> Result<GranularitySpec, SpecError> {
    spec.allow_only(&[
        "type",
        "segmentGranularity",
        "queryGranularity",
        "rollup",
        "intervals",
    ])?;
    match spec.type_id(Some("uniform"))? {
        "uniform" => {}
        other => {
            return Err(SpecError::UnknownType {
                base: "GranularitySpec",
                type_id: other.to_string(),
                known: "uniform".to_string(),
            })
        }
    }
    let granularity = |key: &str, default: Granularity| match spec.get(key) {
        None => Ok(default),
        Some(value) => Granularity::from_json(value).map_err(|message| spec.invalid(key, message)),
    };
    let segment_granularity = granularity("segmentGranularity", Granularity::Day)?;
    let query_granularity = granularity("queryGranularity", Granularity::None)?;
    if segment_granularity == Granularity::None {
        return Err(spec.invalid("segmentGranularity", "NONE cannot partition segments"));
    }
    if bucket_width(query_granularity) > bucket_width(segment_granularity) {
        return Err(spec.invalid(
            "queryGranularity",
            format!(
                "queryGranularity [{}] must be finer than or equal to segmentGranularity [{}]",
                query_granularity.name(),
                segment_granularity.name()
            ),
        ));
    }
    let intervals_path = spec.child("intervals");
    let intervals = spec
        .strings("intervals")?
        .iter()
        .enumerate()
        .map(|(index, text)| {
            Interval::parse(text).ok_or_else(|| SpecError::Invalid {
                path: format!("{intervals_path}[{index}]"),
                message: format!("unparseable interval [{text}]"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GranularitySpec {
        segment_granularity,
        query_granularity,
        rollup: spec.bool("rollup")?.unwrap_or(true),
        intervals,
    })
}

/// A granularity's bucket width at the epoch, to compare coarseness.
fn bucket_width(granularity: Granularity) -> i64 {
    granularity.bucket_interval(0).duration_ms()
}
