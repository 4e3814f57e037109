//! Sketch post-aggregators (`querying/hll-old.md`, `development/extensions-core/datasketches-
//! {hll,theta,quantiles}.md`): `hyperUniqueCardinality`, `HLLSketchEstimate`,
//! `HLLSketchEstimateWithBounds`, `HLLSketchUnion`, `thetaSketchEstimate`, `thetaSketchSetOp` and the
//! `quantilesDoublesSketchTo{Quantile,Quantiles,Rank,CDF,Histogram}` family. Each reads one
//! or more operands (usually `fieldAccess` to a sketch aggregator) that evaluate to sketches.

use henge_segment::sketch::{HllTarget, SetOp, SketchSpec};
use serde_json::Value;

use super::PostAggregator;
use crate::error::QueryError;
use crate::model::json::Fields;

/// What a sketch post-aggregator computes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SketchPostOp {
    /// `hyperUniqueCardinality`: the estimate (a long when its aggregator rounds).
    HyperUniqueCardinality { round: bool },
    /// `HLLSketchEstimate`: the estimate, a long when `round`.
    HllEstimate { round: bool },
    /// `HLLSketchEstimateWithBounds`: `[estimate, lower, upper]` at `numStdDev` deviations.
    HllEstimateWithBounds { std_devs: u8 },
    /// `HLLSketchUnion`: the union of the operands.
    HllUnion { lg_k: u8, target: HllTarget },
    /// `thetaSketchEstimate`.
    ThetaEstimate,
    /// `thetaSketchSetOp`: UNION, INTERSECT or NOT of the operands.
    ThetaSetOp { op: SetOp, lg_k: u8 },
    /// `quantilesDoublesSketchToQuantile`.
    Quantile(f64),
    /// `quantilesDoublesSketchToQuantiles`.
    Quantiles(Vec<f64>),
    /// `quantilesDoublesSketchToRank`.
    Rank(f64),
    /// `quantilesDoublesSketchToCDF`.
    Cdf(Vec<f64>),
    /// `quantilesDoublesSketchToHistogram`: by split points, or `num_bins` equal bins between
    /// the minimum and the maximum.
    Histogram {
        split_points: Option<Vec<f64>>,
        num_bins: u32,
    },
}

impl SketchPostOp {
    /// Whether the result is a number (so arithmetic may read it).
    pub(crate) fn is_number(&self) -> bool {
        matches!(
            self,
            SketchPostOp::HyperUniqueCardinality { .. }
                | SketchPostOp::HllEstimate { .. }
                | SketchPostOp::ThetaEstimate
                | SketchPostOp::Quantile(_)
                | SketchPostOp::Rank(_)
        )
    }
}

/// Parses a sketch post-aggregator of type `kind`; `None` when it is not one. `child` parses
/// an operand.
pub(super) fn parse(
    kind: &str,
    fields: &Fields<'_>,
    child: impl Fn(&Value) -> Result<PostAggregator, QueryError>,
) -> Result<Option<PostAggregator>, QueryError> {
    let field = || -> Result<Vec<PostAggregator>, QueryError> {
        let operand = fields
            .get("field")
            .ok_or_else(|| QueryError::invalid_query(format!("{kind}: field must not be null")))?;
        Ok(vec![child(operand)?])
    };
    let operands = || -> Result<Vec<PostAggregator>, QueryError> {
        let operands: Vec<PostAggregator> = fields
            .array("fields")?
            .iter()
            .map(&child)
            .collect::<Result<_, _>>()?;
        if operands.is_empty() {
            return Err(QueryError::invalid_query(format!(
                "{kind}: fields must not be empty"
            )));
        }
        Ok(operands)
    };
    let (op, operands) = match kind {
        "hyperUniqueCardinality" => (
            SketchPostOp::HyperUniqueCardinality { round: false },
            vec![PostAggregator::FieldAccess {
                field: fields.required_string("fieldName", "fieldName can not be null")?,
                finalizing: false,
            }],
        ),
        "HLLSketchEstimate" => (
            SketchPostOp::HllEstimate {
                round: fields.bool("round")?.unwrap_or(false),
            },
            field()?,
        ),
        "HLLSketchEstimateWithBounds" => {
            let std_devs = fields.u64("numStdDev")?.unwrap_or(1);
            if !(1..=3).contains(&std_devs) {
                return Err(QueryError::invalid_query(
                    "HLLSketchEstimateWithBounds: numStdDev must be 1, 2 or 3",
                ));
            }
            (
                SketchPostOp::HllEstimateWithBounds {
                    std_devs: std_devs as u8,
                },
                field()?,
            )
        }
        "HLLSketchUnion" => {
            let lg_k = fields.u64("lgK")?.unwrap_or(12);
            let target = fields.string("tgtHllType")?;
            let target = match target.as_deref() {
                None => Some(HllTarget::Hll4),
                Some(name) => HllTarget::parse(name),
            };
            let (Some(target), true) = (target, (4..=21).contains(&lg_k)) else {
                return Err(QueryError::invalid_query(
                    "HLLSketchUnion: lgK must be in [4, 21] and tgtHllType HLL_4, HLL_6 or HLL_8",
                ));
            };
            (
                SketchPostOp::HllUnion {
                    lg_k: lg_k as u8,
                    target,
                },
                operands()?,
            )
        }
        "thetaSketchEstimate" => {
            if fields.get("errorBoundsStdDev").is_some() {
                return Err(QueryError::unsupported(
                    "thetaSketchEstimate with errorBoundsStdDev is not supported yet",
                ));
            }
            (SketchPostOp::ThetaEstimate, field()?)
        }
        "thetaSketchSetOp" => {
            let op = match fields.string("func")?.as_deref() {
                Some("UNION") => SetOp::Union,
                Some("INTERSECT") => SetOp::Intersect,
                Some("NOT") => SetOp::Not,
                other => {
                    return Err(QueryError::invalid_query(format!(
                        "thetaSketchSetOp: func must be UNION, INTERSECT or NOT, got {other:?}"
                    )))
                }
            };
            let size = fields.u64("size")?.unwrap_or(16384);
            let Ok(SketchSpec::Theta { lg_k }) = SketchSpec::theta_of_size(size) else {
                return Err(QueryError::invalid_query(format!(
                    "thetaSketchSetOp: size must be a power of 2, got {size}"
                )));
            };
            (SketchPostOp::ThetaSetOp { op, lg_k }, operands()?)
        }
        "quantilesDoublesSketchToQuantile" => (
            SketchPostOp::Quantile(fraction(number(fields, "fraction")?)?),
            field()?,
        ),
        "quantilesDoublesSketchToQuantiles" => {
            let fractions = numbers(fields, "fractions")?
                .into_iter()
                .map(fraction)
                .collect::<Result<_, _>>()?;
            (SketchPostOp::Quantiles(fractions), field()?)
        }
        "quantilesDoublesSketchToRank" => (SketchPostOp::Rank(number(fields, "value")?), field()?),
        "quantilesDoublesSketchToCDF" => (
            SketchPostOp::Cdf(ascending(numbers(fields, "splitPoints")?)?),
            field()?,
        ),
        "quantilesDoublesSketchToHistogram" => {
            let split_points = match fields.get("splitPoints") {
                Some(_) => Some(ascending(numbers(fields, "splitPoints")?)?),
                None => None,
            };
            let num_bins = fields.u64("numBins")?.unwrap_or(10);
            if !(1..=10_000).contains(&num_bins) {
                return Err(QueryError::invalid_query(
                    "numBins must be between 1 and 10000",
                ));
            }
            (
                SketchPostOp::Histogram {
                    split_points,
                    num_bins: num_bins as u32,
                },
                field()?,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(PostAggregator::Sketch {
        op,
        fields: operands,
    }))
}

fn number(fields: &Fields<'_>, key: &str) -> Result<f64, QueryError> {
    match fields.get(key) {
        Some(Value::Number(number)) => number.as_f64().ok_or_else(|| bad_number(key)),
        _ => Err(bad_number(key)),
    }
}

fn numbers(fields: &Fields<'_>, key: &str) -> Result<Vec<f64>, QueryError> {
    fields
        .array(key)?
        .iter()
        .map(|item| item.as_f64().ok_or_else(|| bad_number(key)))
        .collect()
}

fn bad_number(key: &str) -> QueryError {
    QueryError::invalid_query(format!("{key} must be a number or a list of numbers"))
}

fn fraction(value: f64) -> Result<f64, QueryError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(QueryError::invalid_query(format!(
            "fractions must be between 0 and 1, got {value}"
        )))
    }
}

fn ascending(points: Vec<f64>) -> Result<Vec<f64>, QueryError> {
    if points.windows(2).all(|pair| pair[0] < pair[1]) {
        Ok(points)
    } else {
        Err(QueryError::invalid_query(
            "splitPoints must be strictly increasing",
        ))
    }
}
