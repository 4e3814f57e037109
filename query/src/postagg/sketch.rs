//! Evaluating sketch post-aggregators over operands that evaluated to sketches; an operand
//! that is not a sketch of the right family (or null) makes the result null.

use henge_segment::sketch::{SketchFamily, SketchValue};

use crate::model::post_aggregator::sketch::SketchPostOp;
use crate::value::AggValue;

/// The value of `op` over `operands`.
pub(super) fn eval(op: &SketchPostOp, operands: Vec<AggValue>) -> AggValue {
    let sketches: Option<Vec<SketchValue>> = operands
        .into_iter()
        .map(|operand| match operand {
            AggValue::Sketch(sketch) => Some(*sketch),
            _ => None,
        })
        .collect();
    let Some(sketches) = sketches else {
        return AggValue::Null;
    };
    let family = match op {
        SketchPostOp::HyperUniqueCardinality { .. }
        | SketchPostOp::HllEstimate { .. }
        | SketchPostOp::HllEstimateWithBounds { .. }
        | SketchPostOp::HllUnion { .. } => SketchFamily::Hll,
        SketchPostOp::ThetaEstimate | SketchPostOp::ThetaSetOp { .. } => SketchFamily::Theta,
        _ => SketchFamily::Quantiles,
    };
    if sketches.iter().any(|sketch| sketch.family() != family) {
        return AggValue::Null;
    }
    let Some(first) = sketches.first() else {
        return AggValue::Null;
    };
    let result = match op {
        SketchPostOp::HyperUniqueCardinality { round } | SketchPostOp::HllEstimate { round } => {
            Some(estimate(first, *round))
        }
        SketchPostOp::ThetaEstimate => Some(estimate(first, false)),
        SketchPostOp::HllEstimateWithBounds { std_devs } => first
            .estimate_with_bounds(*std_devs)
            .map(|bounds| AggValue::Doubles(bounds.to_vec())),
        SketchPostOp::HllUnion { lg_k, target } => {
            SketchValue::hll_union(&sketches, *lg_k, *target).map(sketch_value)
        }
        SketchPostOp::ThetaSetOp { op, lg_k } => {
            SketchValue::theta_set_op(&sketches, *op, *lg_k).map(sketch_value)
        }
        SketchPostOp::Quantile(fraction) => first.quantile(*fraction).map(AggValue::Double),
        // Druid answers NaN for an empty sketch; null here (JSON cannot hold NaN).
        SketchPostOp::Quantiles(fractions) => fractions
            .iter()
            .map(|fraction| first.quantile(*fraction))
            .collect::<Option<Vec<f64>>>()
            .map(AggValue::Doubles),
        SketchPostOp::Rank(value) => first.rank(*value).map(AggValue::Double),
        SketchPostOp::Cdf(points) => first.cdf(points).map(AggValue::Doubles),
        SketchPostOp::Histogram {
            split_points,
            num_bins,
        } => histogram(first, split_points.as_deref(), *num_bins),
    };
    result.unwrap_or(AggValue::Null)
}

fn sketch_value(sketch: SketchValue) -> AggValue {
    AggValue::Sketch(Box::new(sketch))
}

fn estimate(sketch: &SketchValue, round: bool) -> AggValue {
    if round {
        AggValue::Long(sketch.estimate().round() as i64)
    } else {
        AggValue::Double(sketch.estimate())
    }
}

/// Counts per bin (Druid's `DoublesSketchToHistogramPostAggregator`): the PMF at the split
/// points times the count; without split points, `num_bins` equal bins from the minimum to
/// the maximum.
fn histogram(
    sketch: &SketchValue,
    split_points: Option<&[f64]>,
    num_bins: u32,
) -> Option<AggValue> {
    let count = sketch.count()? as f64;
    let points = match split_points {
        Some(points) => points.to_vec(),
        None => {
            let (min, max) = sketch.min_max()?;
            if min == max {
                return Some(AggValue::Doubles(vec![count]));
            }
            let delta = (max - min) / f64::from(num_bins);
            (1..num_bins)
                .map(|bin| min + delta * f64::from(bin))
                .collect()
        }
    };
    let pmf = sketch.pmf(&points)?;
    Some(AggValue::Doubles(
        pmf.into_iter().map(|mass| mass * count).collect(),
    ))
}
