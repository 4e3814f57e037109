//! Sketch accuracy and merge properties, against exact counts computed here.

use super::*;

fn values(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|index| format!("user-{index}")).collect()
}

fn build(spec: SketchSpec, items: &[String]) -> SketchValue {
    let mut accumulator = SketchAccumulator::new(spec).unwrap();
    for item in items {
        accumulator.update_str(item);
    }
    accumulator.finish()
}

fn relative_error(estimate: f64, exact: f64) -> f64 {
    (estimate - exact).abs() / exact
}

#[test]
fn hll_estimates_within_error_and_survives_bytes() {
    // 30_000 distinct values, each added twice: duplicates must not count.
    let mut items = values(0..30_000);
    items.extend(values(0..30_000));
    let sketch = build(SketchSpec::HLL_DEFAULT, &items);
    assert!(relative_error(sketch.estimate(), 30_000.0) < 0.03);
    let bytes = sketch.to_bytes();
    let back = SketchValue::from_bytes(SketchFamily::Hll, &bytes).unwrap();
    assert_eq!(back.estimate(), sketch.estimate());
    assert_eq!(back, sketch);
    assert!(SketchValue::from_bytes(SketchFamily::Hll, &bytes[..bytes.len() / 2]).is_err());
    // Small sets are exact up to rounding (list mode).
    let small = build(SketchSpec::HYPER_UNIQUE, &values(0..5)).estimate();
    assert!((small - 5.0).abs() < 1e-6, "{small}");
    // Empty strings are skipped, as in Java.
    assert_eq!(
        build(SketchSpec::HLL_DEFAULT, &[String::new()]).estimate(),
        0.0
    );
}

#[test]
fn hll_merge_of_halves_matches_one_sketch() {
    let all = values(0..20_000);
    let whole = build(SketchSpec::HLL_DEFAULT, &all);
    let left = build(SketchSpec::HLL_DEFAULT, &all[..7_000]);
    let right = build(SketchSpec::HLL_DEFAULT, &all[5_000..]);
    let merged = left.combine(&right, SketchSpec::HLL_DEFAULT);
    // Same registers either way; union order does not matter.
    assert_eq!(merged, right.combine(&left, SketchSpec::HLL_DEFAULT));
    assert!(relative_error(merged.estimate(), 20_000.0) < 0.03);
    assert!(relative_error(merged.estimate(), whole.estimate()) < 0.03);
    // A union keeps the maximum of each register, so the union of the halves has exactly
    // the registers (and kxq sums) of the sketch of everything: their bytes are equal past
    // the first 16, which hold the mode flags and the HIP accumulator (order-dependent).
    let (whole_bytes, merged_bytes) = (whole.to_bytes(), merged.to_bytes());
    assert_eq!(whole_bytes.len(), merged_bytes.len());
    assert_eq!(whole_bytes[16..], merged_bytes[16..]);
}

#[test]
fn theta_is_exact_below_k_and_set_ops_work() {
    let spec = SketchSpec::THETA_DEFAULT;
    let left = build(spec, &values(0..1_000));
    let right = build(spec, &values(600..1_500));
    assert_eq!(left.estimate(), 1_000.0);
    let lg_k = 14;
    let union = SketchValue::theta_set_op(&[left.clone(), right.clone()], SetOp::Union, lg_k);
    assert_eq!(union.unwrap().estimate(), 1_500.0);
    let both = SketchValue::theta_set_op(&[left.clone(), right.clone()], SetOp::Intersect, lg_k);
    assert_eq!(both.unwrap().estimate(), 400.0);
    let only_left = SketchValue::theta_set_op(&[left.clone(), right], SetOp::Not, lg_k);
    assert_eq!(only_left.unwrap().estimate(), 600.0);
    let back = SketchValue::from_bytes(SketchFamily::Theta, &left.to_bytes()).unwrap();
    assert_eq!(back, left);
    // Estimation mode: 100_000 distinct values with k = 4096.
    let big = build(SketchSpec::Theta { lg_k: 12 }, &values(0..100_000));
    assert!(relative_error(big.estimate(), 100_000.0) < 0.05);
}

#[test]
fn quantiles_track_ranks_and_merge() {
    let spec = SketchSpec::QUANTILES_DEFAULT;
    let mut low = SketchAccumulator::new(spec).unwrap();
    let mut high = SketchAccumulator::new(spec).unwrap();
    for value in 1..=5_000 {
        low.update_long(value);
        high.update_double(f64::from(value as i32 + 5_000));
    }
    high.update_str("not a number");
    let merged = low.finish().combine(&high.finish(), spec);
    assert_eq!(merged.count(), Some(10_000));
    let median = merged.quantile(0.5).unwrap();
    assert!(
        (median - 5_000.0).abs() < 10_000.0 * 0.03,
        "median {median}"
    );
    let rank = merged.rank(2_500.0).unwrap();
    assert!((rank - 0.25).abs() < 0.03, "rank {rank}");
    assert_eq!(merged.min_max(), Some((1.0, 10_000.0)));
    let cdf = merged.cdf(&[5_000.5]).unwrap();
    assert_eq!(cdf.len(), 2);
    assert!((cdf[0] - 0.5).abs() < 0.03 && cdf[1] == 1.0);
    let back = SketchValue::from_bytes(SketchFamily::Quantiles, &merged.to_bytes()).unwrap();
    assert_eq!(back.count(), Some(10_000));
}

#[test]
fn rejects_bad_parameters() {
    assert!(SketchAccumulator::new(SketchSpec::Hll {
        lg_k: 3,
        target: HllTarget::Hll4
    })
    .is_err());
    assert!(SketchSpec::theta_of_size(1000).is_err());
    assert_eq!(
        SketchSpec::theta_of_size(16384),
        Ok(SketchSpec::THETA_DEFAULT)
    );
    assert!(SketchAccumulator::new(SketchSpec::Quantiles { k: 2 }).is_err());
}
