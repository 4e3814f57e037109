//! `metricsSpec`: the ingestion-time aggregators. Numeric ones (`count`, long/double/float
//! sum, min and max) and sketches stored as complex columns: `hyperUnique`, `HLLSketchBuild`
//! (`lgK`, `tgtHllType`), `thetaSketch` (`size`) and `quantilesDoublesSketch` (`k`), which
//! rollup merges like Druid's (`docs/ingestion/rollup.md`).

use henge_segment::sketch::{HllTarget, SketchSpec};
use henge_segment::{ColumnType, ComplexKind};

use super::fields::Obj;
use crate::error::SpecError;

/// One aggregator of `metricsSpec`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub kind: MetricKind,
    /// Input field; `None` only for `count`.
    pub field_name: Option<String>,
}

/// The ingestion-time aggregators Henge implements (`float*` map to the double ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Count,
    LongSum,
    LongMin,
    LongMax,
    DoubleSum,
    DoubleMin,
    DoubleMax,
    /// A sketch of the input values, stored in a complex column of this kind.
    Sketch(ComplexKind, SketchSpec),
}

impl MetricKind {
    const NAMES: [(&'static str, MetricKind); 10] = [
        ("count", MetricKind::Count),
        ("longSum", MetricKind::LongSum),
        ("longMin", MetricKind::LongMin),
        ("longMax", MetricKind::LongMax),
        ("doubleSum", MetricKind::DoubleSum),
        ("doubleMin", MetricKind::DoubleMin),
        ("doubleMax", MetricKind::DoubleMax),
        ("floatSum", MetricKind::DoubleSum),
        ("floatMin", MetricKind::DoubleMin),
        ("floatMax", MetricKind::DoubleMax),
    ];

    const SKETCH_NAMES: [&'static str; 4] = [
        "hyperUnique",
        "HLLSketchBuild",
        "thetaSketch",
        "quantilesDoublesSketch",
    ];

    /// The column type the metric is stored as.
    pub fn column_type(&self) -> ColumnType {
        match self {
            MetricKind::Count | MetricKind::LongSum | MetricKind::LongMin | MetricKind::LongMax => {
                ColumnType::Long
            }
            MetricKind::Sketch(kind, _) => ColumnType::Complex(*kind),
            _ => ColumnType::Double,
        }
    }
}

/// Parses a `metricsSpec` array on its own (for push-ingested datasources), with the checks
/// of a task's: known types, their parameters, unique names.
pub fn parse_metrics_spec(metrics: &serde_json::Value) -> Result<Vec<MetricSpec>, SpecError> {
    let holder = serde_json::json!({ "metricsSpec": metrics });
    let parsed = parse_metrics(&Obj::new(&holder, "")?)?;
    for (index, metric) in parsed.iter().enumerate() {
        if metric.name == "__time" || parsed[..index].iter().any(|m| m.name == metric.name) {
            return Err(SpecError::Invalid {
                path: "metricsSpec".to_string(),
                message: format!("metric name [{}] is reserved or repeated", metric.name),
            });
        }
    }
    Ok(parsed)
}

pub(super) fn parse_metrics(data_schema: &Obj<'_>) -> Result<Vec<MetricSpec>, SpecError> {
    let path = data_schema.child("metricsSpec");
    let mut metrics = Vec::new();
    for (index, item) in data_schema
        .array("metricsSpec")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let metric = Obj::new(item, format!("{path}[{index}]"))?;
        let type_id = metric.type_id(None)?;
        let kind = match MetricKind::NAMES.iter().find(|(name, _)| *name == type_id) {
            Some((_, kind)) => *kind,
            None => parse_sketch(type_id, &metric)?.ok_or_else(|| SpecError::UnknownType {
                base: "AggregatorFactory",
                type_id: type_id.to_string(),
                known: MetricKind::NAMES
                    .map(|(name, _)| name)
                    .iter()
                    .chain(&MetricKind::SKETCH_NAMES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            })?,
        };
        let field_name = match kind {
            MetricKind::Count => {
                metric.allow_only(&["type", "name"])?;
                None
            }
            MetricKind::Sketch(..) => Some(metric.required_str("fieldName")?.to_string()),
            _ => {
                metric.allow_only(&["type", "name", "fieldName"])?;
                Some(metric.required_str("fieldName")?.to_string())
            }
        };
        metrics.push(MetricSpec {
            name: metric.required_str("name")?.to_string(),
            kind,
            field_name,
        });
    }
    Ok(metrics)
}

/// A sketch metric, or `None` when `type_id` is not one.
fn parse_sketch(type_id: &str, metric: &Obj<'_>) -> Result<Option<MetricKind>, SpecError> {
    let (kind, spec) = match type_id {
        "hyperUnique" => {
            metric.allow_only(&["type", "name", "fieldName", "isInputHyperUnique", "round"])?;
            reject_prebuilt(metric, "isInputHyperUnique")?;
            (ComplexKind::HyperUnique, SketchSpec::HYPER_UNIQUE)
        }
        "HLLSketchBuild" => {
            metric.allow_only(&[
                "type",
                "name",
                "fieldName",
                "lgK",
                "tgtHllType",
                "round",
                "shouldFinalize",
            ])?;
            let lg_k = metric.i64("lgK")?.unwrap_or(12);
            if !(4..=21).contains(&lg_k) {
                return Err(metric.invalid("lgK", format!("must be in [4, 21], got {lg_k}")));
            }
            let target = match metric.str("tgtHllType")? {
                None => HllTarget::Hll4,
                Some(name) => HllTarget::parse(name)
                    .ok_or_else(|| metric.invalid("tgtHllType", "must be HLL_4, HLL_6 or HLL_8"))?,
            };
            let spec = SketchSpec::Hll {
                lg_k: lg_k as u8,
                target,
            };
            (ComplexKind::HllSketch, spec)
        }
        "thetaSketch" => {
            metric.allow_only(&[
                "type",
                "name",
                "fieldName",
                "size",
                "isInputThetaSketch",
                "shouldFinalize",
            ])?;
            reject_prebuilt(metric, "isInputThetaSketch")?;
            let size = metric.i64("size")?.unwrap_or(16384);
            let spec = u64::try_from(size)
                .ok()
                .and_then(|size| SketchSpec::theta_of_size(size).ok())
                .ok_or_else(|| metric.invalid("size", "must be a power of 2 from 32 to 2^26"))?;
            (ComplexKind::ThetaSketch, spec)
        }
        "quantilesDoublesSketch" => {
            metric.allow_only(&["type", "name", "fieldName", "k", "shouldFinalize"])?;
            let k = metric.i64("k")?.unwrap_or(128);
            if !(8..=32768).contains(&k) || k.count_ones() != 1 {
                return Err(metric.invalid("k", "must be a power of 2 from 8 to 32768"));
            }
            let spec = SketchSpec::Quantiles { k: k as u16 };
            (ComplexKind::QuantilesDoublesSketch, spec)
        }
        _ => return Ok(None),
    };
    Ok(Some(MetricKind::Sketch(kind, spec)))
}

/// Ingesting serialized sketches from the input is not supported.
fn reject_prebuilt(metric: &Obj<'_>, key: &str) -> Result<(), SpecError> {
    if metric.bool(key)? == Some(true) {
        return Err(metric.unsupported(key, "ingesting serialized sketches is not supported yet"));
    }
    Ok(())
}
