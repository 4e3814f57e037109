//! The sketches complex columns hold, and the one implementation of them that ingestion
//! (rollup) and the query engine (aggregators, post-aggregators) share, backed by Apache
//! DataSketches' Rust crate:
//! - HLL ([`SketchSpec::Hll`]): `HLLSketchBuild`/`HLLSketchMerge`; also `hyperUnique` and
//!   `cardinality`, which Henge backs with a DataSketches HLL of lgK 11 (2048 registers, like
//!   Druid's `HyperLogLogCollector`) instead of re-implementing that collector: estimates
//!   agree within the sketch error, the bytes are not Druid's HLLC format;
//! - theta ([`SketchSpec::Theta`]): `thetaSketch`, compact ordered sketches;
//! - quantiles ([`SketchSpec::Quantiles`]): `quantilesDoublesSketch`. DataSketches' Rust crate
//!   has no classic quantiles sketch, so Henge uses its KLL sketch over doubles with the same
//!   `k` (rank error about 1.7 % at k = 128 for classic, about 2 % for KLL); the bytes are
//!   KLL's, not `DoublesSketch`'s.
//!
//! Hashing follows Druid: strings are hashed as their UTF-8 bytes with murmur3 x64-128 and
//! seed 9001 (empty strings are skipped, as Java's `update(String)` does), longs as 8
//! little-endian bytes, doubles canonicalized first.
//!
//! [`SketchAccumulator`] is the mutable state (one per rollup row or query slot);
//! [`SketchValue`] the immutable, cloneable result that travels between nodes as bytes.

mod value;

use datasketches::hash::value::{canonical_float, raw_bytes};
use datasketches::hll::{Coupon, HllSketch, HllType, HllUnion};
use datasketches::kll::{KllFloat, KllSketch};
use datasketches::theta::{ThetaSketch, ThetaSketchBuilder, ThetaUnion, ThetaUnionBuilder};

pub use self::value::{SetOp, SketchValue};
use crate::schema::ComplexKind;

/// The register width of an HLL sketch (`tgtHllType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HllTarget {
    Hll4,
    Hll6,
    Hll8,
}

impl HllTarget {
    /// `HLL_4`, `HLL_6` or `HLL_8`.
    pub fn parse(name: &str) -> Option<HllTarget> {
        match name {
            "HLL_4" => Some(HllTarget::Hll4),
            "HLL_6" => Some(HllTarget::Hll6),
            "HLL_8" => Some(HllTarget::Hll8),
            _ => None,
        }
    }

    fn hll_type(self) -> HllType {
        match self {
            HllTarget::Hll4 => HllType::Hll4,
            HllTarget::Hll6 => HllType::Hll6,
            HllTarget::Hll8 => HllType::Hll8,
        }
    }
}

/// Which family a sketch belongs to (what its bytes decode as).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SketchFamily {
    Hll,
    Theta,
    Quantiles,
}

impl SketchFamily {
    /// The family of the sketches a complex column holds.
    pub fn of(kind: ComplexKind) -> SketchFamily {
        match kind {
            ComplexKind::HyperUnique | ComplexKind::HllSketch => SketchFamily::Hll,
            ComplexKind::ThetaSketch => SketchFamily::Theta,
            ComplexKind::QuantilesDoublesSketch => SketchFamily::Quantiles,
        }
    }
}

/// The parameters of a sketch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SketchSpec {
    /// `lgK` in 4..=21 and the target register width.
    Hll { lg_k: u8, target: HllTarget },
    /// log2 of the nominal entries (Druid's `size`, a power of 2), in 5..=26.
    Theta { lg_k: u8 },
    /// `k` in 8..=65535.
    Quantiles { k: u16 },
}

impl SketchSpec {
    /// What `hyperUnique` and `cardinality` use: 2048 registers.
    pub const HYPER_UNIQUE: SketchSpec = SketchSpec::Hll {
        lg_k: 11,
        target: HllTarget::Hll8,
    };
    /// Druid's `HLLSketchBuild` defaults: lgK 12, HLL_4.
    pub const HLL_DEFAULT: SketchSpec = SketchSpec::Hll {
        lg_k: 12,
        target: HllTarget::Hll4,
    };
    /// Druid's `thetaSketch` default size 16384.
    pub const THETA_DEFAULT: SketchSpec = SketchSpec::Theta { lg_k: 14 };
    /// Druid's `quantilesDoublesSketch` default k 128.
    pub const QUANTILES_DEFAULT: SketchSpec = SketchSpec::Quantiles { k: 128 };

    /// The default sketch of a complex column kind.
    pub fn default_for(kind: ComplexKind) -> SketchSpec {
        match kind {
            ComplexKind::HyperUnique => SketchSpec::HYPER_UNIQUE,
            ComplexKind::HllSketch => SketchSpec::HLL_DEFAULT,
            ComplexKind::ThetaSketch => SketchSpec::THETA_DEFAULT,
            ComplexKind::QuantilesDoublesSketch => SketchSpec::QUANTILES_DEFAULT,
        }
    }

    pub fn family(&self) -> SketchFamily {
        match self {
            SketchSpec::Hll { .. } => SketchFamily::Hll,
            SketchSpec::Theta { .. } => SketchFamily::Theta,
            SketchSpec::Quantiles { .. } => SketchFamily::Quantiles,
        }
    }

    /// A theta spec from Druid's `size` (a power of 2 from 32 to 2^26).
    pub fn theta_of_size(size: u64) -> Result<SketchSpec, SketchError> {
        if !size.is_power_of_two() || !(32..=1 << 26).contains(&size) {
            return Err(SketchError(format!(
                "size must be a power of 2 between 32 and 67108864, got {size}"
            )));
        }
        Ok(SketchSpec::Theta {
            lg_k: size.trailing_zeros() as u8,
        })
    }

    /// Checks the parameters' ranges.
    pub fn validate(&self) -> Result<(), SketchError> {
        let ok = match *self {
            SketchSpec::Hll { lg_k, .. } => (4..=21).contains(&lg_k),
            SketchSpec::Theta { lg_k } => (5..=26).contains(&lg_k),
            SketchSpec::Quantiles { k } => k >= 8,
        };
        if ok {
            Ok(())
        } else {
            Err(SketchError(format!("invalid sketch parameters {self:?}")))
        }
    }
}

/// A sketch that cannot be built or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SketchError(pub String);

impl SketchError {
    fn from_lib(error: datasketches::error::Error) -> SketchError {
        SketchError(error.message().to_owned())
    }
}

/// The mutable state of one sketch: raw values and other sketches go in, a [`SketchValue`]
/// comes out. Merging is a set union (HLL, theta) or a quantiles merge, so it is associative
/// and commutative.
pub struct SketchAccumulator {
    spec: SketchSpec,
    inner: Inner,
}

/// The hash of a string as an HLL sketch uses it, computed once and added to many sketches
/// (the query engine keeps one per dictionary id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HllCoupon(Coupon);

impl HllCoupon {
    /// The coupon of a string's UTF-8 bytes; `None` for the empty string, which HLL skips.
    pub fn of_utf8(bytes: &[u8]) -> Option<HllCoupon> {
        (!bytes.is_empty()).then(|| HllCoupon(Coupon::from_value(raw_bytes::from_slice(bytes))))
    }
}

enum Inner {
    /// Raw values go into `raw` (8-bit registers, the fastest to update); sketches merge
    /// into `union`, created on the first one.
    Hll {
        raw: HllSketch,
        union: Option<HllUnion>,
    },
    Theta {
        sketch: ThetaSketch,
        union: Option<ThetaUnion>,
    },
    Quantiles(KllSketch<KllFloat<f64>>),
}

impl SketchAccumulator {
    /// An empty sketch.
    ///
    /// # Errors
    /// When the parameters are out of range (see [`SketchSpec::validate`]).
    pub fn new(spec: SketchSpec) -> Result<SketchAccumulator, SketchError> {
        spec.validate()?;
        let inner = match spec {
            SketchSpec::Hll { lg_k, .. } => Inner::Hll {
                raw: HllSketch::new(lg_k, HllType::Hll8).map_err(SketchError::from_lib)?,
                union: None,
            },
            SketchSpec::Theta { lg_k } => Inner::Theta {
                sketch: ThetaSketchBuilder::default()
                    .lg_k(lg_k)
                    .build()
                    .map_err(SketchError::from_lib)?,
                union: None,
            },
            SketchSpec::Quantiles { k } => {
                Inner::Quantiles(KllSketch::new(k).map_err(SketchError::from_lib)?)
            }
        };
        Ok(SketchAccumulator { spec, inner })
    }

    pub fn spec(&self) -> SketchSpec {
        self.spec
    }

    /// Adds a string: hashed (HLL, theta; empty strings are skipped) or parsed as a number
    /// (quantiles; strings that are not numbers are skipped).
    pub fn update_str(&mut self, text: &str) {
        match &mut self.inner {
            Inner::Hll { raw, .. } if !text.is_empty() => {
                raw.update(raw_bytes::from_str(text));
            }
            Inner::Theta { sketch, .. } if !text.is_empty() => {
                sketch.update(raw_bytes::from_str(text));
            }
            Inner::Quantiles(_) => {
                if let Ok(number) = text.trim().parse::<f64>() {
                    self.update_double(number);
                }
            }
            Inner::Hll { .. } | Inner::Theta { .. } => {}
        }
    }

    /// Adds a precomputed string hash (HLL only; other sketches ignore it).
    pub fn update_coupon(&mut self, coupon: HllCoupon) {
        if let Inner::Hll { raw, .. } = &mut self.inner {
            raw.update_with_coupon(coupon.0);
        }
    }

    /// Adds a long (hashed as 8 little-endian bytes, or a quantiles value).
    pub fn update_long(&mut self, long: i64) {
        match &mut self.inner {
            Inner::Hll { raw, .. } => raw.update(long),
            Inner::Theta { sketch, .. } => sketch.update(long),
            Inner::Quantiles(_) => self.update_double(long as f64),
        }
    }

    /// Adds a double (hashed canonically; NaN is skipped by quantiles).
    pub fn update_double(&mut self, double: f64) {
        match &mut self.inner {
            Inner::Hll { raw, .. } => raw.update(canonical_float::from_f64(double)),
            Inner::Theta { sketch, .. } => sketch.update(canonical_float::from_f64(double)),
            Inner::Quantiles(kll) => {
                if let Ok(value) = KllFloat::<f64>::new(double) {
                    kll.update(value);
                }
            }
        }
    }

    /// Merges a finished sketch in. A sketch of another family is ignored.
    pub fn merge(&mut self, value: &SketchValue) {
        value.merge_into(self);
    }

    /// Decodes a serialized sketch of this accumulator's family and merges it in.
    ///
    /// # Errors
    /// When the bytes are not a valid sketch of the family.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<(), SketchError> {
        let value = SketchValue::from_bytes(self.spec.family(), bytes)?;
        self.merge(&value);
        Ok(())
    }

    /// The sketch of everything added so far.
    pub fn finish(&self) -> SketchValue {
        match (&self.inner, self.spec) {
            (Inner::Hll { raw, union }, SketchSpec::Hll { lg_k, target }) => {
                let mut all = match union {
                    Some(union) => union.clone(),
                    None => HllUnion::new(lg_k).expect("validated hll lg_k"),
                };
                all.update(raw);
                SketchValue::hll(all.to_sketch(target.hll_type()))
            }
            (Inner::Theta { sketch, union }, SketchSpec::Theta { lg_k }) => match union {
                None => SketchValue::theta(sketch.compact(true)),
                Some(union) if sketch.is_empty() => SketchValue::theta(union.to_sketch(true)),
                Some(union) => {
                    // Raw values and merged sketches: their union, in a fresh union so that
                    // this accumulator stays as it is.
                    let mut both = ThetaUnionBuilder::default()
                        .lg_k(lg_k)
                        .build()
                        .expect("validated theta lg_k");
                    let _ = both.update(&union.to_sketch(true));
                    let _ = both.update(sketch);
                    SketchValue::theta(both.to_sketch(true))
                }
            },
            (Inner::Theta { sketch, .. }, _) => SketchValue::theta(sketch.compact(true)),
            (Inner::Quantiles(kll), _) => SketchValue::quantiles(kll.clone()),
            (Inner::Hll { raw, .. }, _) => SketchValue::hll(raw.clone()),
        }
    }

    /// The accumulator's HLL union, theta union (created on first use) or KLL sketch.
    fn parts(&mut self) -> Parts<'_> {
        match &mut self.inner {
            Inner::Hll { union, .. } => {
                let lg_k = match self.spec {
                    SketchSpec::Hll { lg_k, .. } => lg_k,
                    _ => 12,
                };
                Parts::Hll(
                    union.get_or_insert_with(|| HllUnion::new(lg_k).expect("validated hll lg_k")),
                )
            }
            Inner::Theta { union, .. } => {
                let lg_k = match self.spec {
                    SketchSpec::Theta { lg_k } => lg_k,
                    _ => 14,
                };
                let union = match union {
                    Some(union) => union,
                    None => union.insert(
                        ThetaUnionBuilder::default()
                            .lg_k(lg_k)
                            .build()
                            .expect("validated theta lg_k"),
                    ),
                };
                Parts::Theta(union)
            }
            Inner::Quantiles(kll) => Parts::Quantiles(kll),
        }
    }
}

/// Mutable access to what sketches merge into.
enum Parts<'a> {
    Hll(&'a mut HllUnion),
    Theta(&'a mut ThetaUnion),
    Quantiles(&'a mut KllSketch<KllFloat<f64>>),
}

/// The distinct count an HLL of `spec` would estimate for `distinct` values is within this
/// relative error 99.7 % of the time (three standard deviations of `1.04 / sqrt(2^lgK)`).
pub fn hll_relative_error(lg_k: u8) -> f64 {
    3.0 * 1.04 / f64::from(1u32 << lg_k).sqrt()
}

#[cfg(test)]
mod tests;
