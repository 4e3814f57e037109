//! [`SketchValue`]: a finished sketch (HLL, compact theta or KLL), its bytes, its estimates
//! and the set operations the post-aggregators need.

use std::fmt;

use datasketches::common::{NumStdDev, SearchCriteria};
use datasketches::hll::{HllSketch, HllUnion};
use datasketches::kll::{KllFloat, KllSketch};
use datasketches::theta::{CompactThetaSketch, ThetaANotB, ThetaIntersection};

use super::{HllTarget, Parts, SketchAccumulator, SketchError, SketchFamily, SketchSpec};

/// A finished sketch. Cloning copies it. Equality compares the family, the estimate and the
/// count: an HLL sketch in set mode serializes its hash table in slot order, which depends on
/// insertion order, so equal sketches may have different bytes.
#[derive(Clone)]
pub struct SketchValue {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Hll(HllSketch),
    Theta(CompactThetaSketch),
    Quantiles(KllSketch<KllFloat<f64>>),
}

impl SketchValue {
    pub(super) fn hll(sketch: HllSketch) -> SketchValue {
        SketchValue {
            inner: Inner::Hll(sketch),
        }
    }

    pub(super) fn theta(sketch: CompactThetaSketch) -> SketchValue {
        SketchValue {
            inner: Inner::Theta(sketch),
        }
    }

    pub(super) fn quantiles(sketch: KllSketch<KllFloat<f64>>) -> SketchValue {
        SketchValue {
            inner: Inner::Quantiles(sketch),
        }
    }

    /// Decodes DataSketches' serialization of a sketch of `family`.
    ///
    /// # Errors
    /// When the bytes are not a valid sketch of that family.
    pub fn from_bytes(family: SketchFamily, bytes: &[u8]) -> Result<SketchValue, SketchError> {
        let inner = match family {
            SketchFamily::Hll => {
                Inner::Hll(HllSketch::deserialize(bytes).map_err(SketchError::from_lib)?)
            }
            SketchFamily::Theta => {
                Inner::Theta(CompactThetaSketch::deserialize(bytes).map_err(SketchError::from_lib)?)
            }
            SketchFamily::Quantiles => {
                Inner::Quantiles(KllSketch::deserialize(bytes).map_err(SketchError::from_lib)?)
            }
        };
        Ok(SketchValue { inner })
    }

    /// DataSketches' serialization (what complex columns and partial results carry).
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Hll(sketch) => sketch.serialize(),
            Inner::Theta(sketch) => sketch.serialize(),
            Inner::Quantiles(sketch) => sketch.serialize(),
        }
    }

    pub fn family(&self) -> SketchFamily {
        match &self.inner {
            Inner::Hll(_) => SketchFamily::Hll,
            Inner::Theta(_) => SketchFamily::Theta,
            Inner::Quantiles(_) => SketchFamily::Quantiles,
        }
    }

    /// The distinct-count estimate (HLL, theta) or the number of values (quantiles).
    pub fn estimate(&self) -> f64 {
        match &self.inner {
            Inner::Hll(sketch) => sketch.estimate(),
            Inner::Theta(sketch) => sketch.estimate(),
            Inner::Quantiles(sketch) => sketch.n() as f64,
        }
    }

    /// `[estimate, lower bound, upper bound]` of a distinct-count sketch at `std_devs` (1 to 3)
    /// standard deviations; `None` for quantiles sketches or other `std_devs`.
    pub fn estimate_with_bounds(&self, std_devs: u8) -> Option<[f64; 3]> {
        let deviations = match std_devs {
            1 => NumStdDev::One,
            2 => NumStdDev::Two,
            3 => NumStdDev::Three,
            _ => return None,
        };
        match &self.inner {
            Inner::Hll(sketch) => Some([
                sketch.estimate(),
                sketch.lower_bound(deviations),
                sketch.upper_bound(deviations),
            ]),
            Inner::Theta(sketch) => Some([
                sketch.estimate(),
                sketch.lower_bound(deviations),
                sketch.upper_bound(deviations),
            ]),
            Inner::Quantiles(_) => None,
        }
    }

    /// The number of values a quantiles sketch saw; `None` for other families.
    pub fn count(&self) -> Option<u64> {
        match &self.inner {
            Inner::Quantiles(sketch) => Some(sketch.n()),
            _ => None,
        }
    }

    fn kll(&self) -> Option<&KllSketch<KllFloat<f64>>> {
        match &self.inner {
            Inner::Quantiles(sketch) if !sketch.is_empty() => Some(sketch),
            _ => None,
        }
    }

    /// The value at normalized rank `fraction` (inclusive search); `None` when the sketch is
    /// empty, not a quantiles sketch, or `fraction` is outside [0, 1].
    pub fn quantile(&self, fraction: f64) -> Option<f64> {
        let kll = self.kll()?;
        kll.quantile(fraction, SearchCriteria::Inclusive)
            .ok()
            .flatten()
            .map(KllFloat::into_inner)
    }

    /// The fraction of values below `value` (Druid's `ToRank`: exclusive search).
    pub fn rank(&self, value: f64) -> Option<f64> {
        let kll = self.kll()?;
        kll.rank(
            &KllFloat::<f64>::new(value).ok()?,
            SearchCriteria::Exclusive,
        )
    }

    /// The CDF at ascending `split_points`: `split_points.len() + 1` fractions, the last 1.0.
    pub fn cdf(&self, split_points: &[f64]) -> Option<Vec<f64>> {
        let kll = self.kll()?;
        let points: Vec<KllFloat<f64>> = split_points
            .iter()
            .map(|&point| KllFloat::<f64>::new(point).ok())
            .collect::<Option<_>>()?;
        kll.cdf(&points, SearchCriteria::Exclusive).ok().flatten()
    }

    /// The PMF over ascending `split_points`: `split_points.len() + 1` fractions.
    pub fn pmf(&self, split_points: &[f64]) -> Option<Vec<f64>> {
        let kll = self.kll()?;
        let points: Vec<KllFloat<f64>> = split_points
            .iter()
            .map(|&point| KllFloat::<f64>::new(point).ok())
            .collect::<Option<_>>()?;
        kll.pmf(&points, SearchCriteria::Exclusive).ok().flatten()
    }

    /// The smallest and largest values seen.
    pub fn min_max(&self) -> Option<(f64, f64)> {
        let kll = self.kll()?;
        Some((**kll.min_item()?, **kll.max_item()?))
    }

    /// Merges this sketch into an accumulator of the same family (others are ignored).
    pub(super) fn merge_into(&self, accumulator: &mut SketchAccumulator) {
        match (&self.inner, accumulator.parts()) {
            (Inner::Hll(sketch), Parts::Hll(union)) => union.update(sketch),
            (Inner::Theta(sketch), Parts::Theta(union)) => {
                // Sketches of another seed are rejected by the union; Henge writes one seed.
                let _ = union.update(sketch);
            }
            (Inner::Quantiles(sketch), Parts::Quantiles(kll)) => {
                let _ = kll.merge(sketch);
            }
            _ => {}
        }
    }

    /// Combines two sketches of one aggregator (`spec`) into their union or merge.
    pub fn combine(&self, other: &SketchValue, spec: SketchSpec) -> SketchValue {
        match SketchAccumulator::new(spec) {
            Ok(mut accumulator) => {
                accumulator.merge(self);
                accumulator.merge(other);
                accumulator.finish()
            }
            Err(_) => self.clone(),
        }
    }

    /// The union of HLL sketches (`HLLSketchUnion`), `None` if one is not an HLL sketch.
    pub fn hll_union(values: &[SketchValue], lg_k: u8, target: HllTarget) -> Option<SketchValue> {
        let mut union = HllUnion::new(lg_k).ok()?;
        for value in values {
            match &value.inner {
                Inner::Hll(sketch) => union.update(sketch),
                _ => return None,
            }
        }
        Some(SketchValue::hll(union.to_sketch(target.hll_type())))
    }

    /// Druid's `thetaSketchSetOp`: UNION, INTERSECT or NOT (the first minus the others) of
    /// theta sketches; `None` if one is not a theta sketch.
    pub fn theta_set_op(values: &[SketchValue], op: SetOp, lg_k: u8) -> Option<SketchValue> {
        let sketches: Vec<&CompactThetaSketch> = values
            .iter()
            .map(|value| match &value.inner {
                Inner::Theta(sketch) => Some(sketch),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let result = match op {
            SetOp::Union => {
                let mut accumulator = SketchAccumulator::new(SketchSpec::Theta { lg_k }).ok()?;
                for value in values {
                    accumulator.merge(value);
                }
                return Some(accumulator.finish());
            }
            SetOp::Intersect => {
                let mut intersection = ThetaIntersection::default();
                for sketch in &sketches {
                    intersection.update(*sketch).ok()?;
                }
                intersection.to_sketch(true)?
            }
            SetOp::Not => {
                let (first, rest) = sketches.split_first()?;
                let mut result = (*first).clone();
                for sketch in rest {
                    result = ThetaANotB::default().compute(&result, *sketch, true).ok()?;
                }
                result
            }
        };
        Some(SketchValue::theta(result))
    }
}

/// A theta set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Intersect,
    Not,
}

impl PartialEq for SketchValue {
    fn eq(&self, other: &SketchValue) -> bool {
        self.family() == other.family()
            && self.estimate().to_bits() == other.estimate().to_bits()
            && self.count() == other.count()
    }
}

impl fmt::Debug for SketchValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SketchValue")
            .field("family", &self.family())
            .field("estimate", &self.estimate())
            .finish()
    }
}
