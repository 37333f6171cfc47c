//! Weight trimming, as R survey's `trimWeights(design, upper, lower, strict)`
//! (`survey:::trimWeights.survey.design2`, survey 4.1-1).
//!
//! This module owns the trimming step of `tasa weight`: weights below `lower` are raised to
//! it and weights above `upper` are cut to it, and the net amount trimmed is shared out
//! over the weights that were inside the bounds, so that the total weight is kept. With
//! `strict` the pass repeats until no weight is outside the bounds.
//!
//! # What R does, and where this differs
//!
//! One pass of R's `trimWeights` is, with `pw` the current weights:
//!
//! ```r
//! outside <- pw < lower | pw > upper
//! pwnew <- pmax(lower, pmin(pw, upper))
//! trimmings <- pw - pwnew
//! pwnew[!outside] <- pwnew[!outside] + sum(trimmings) / sum(!outside)
//! ```
//!
//! so the trimmed amount is shared out **equally** (the same amount added to every weight
//! inside the bounds), not in proportion to the weights; [`trim`] does the same, pass by pass,
//! so the results agree with R to rounding. Note that a weight set to a bound in one pass is
//! not "outside" in the next: it receives a share again (and may be pushed out and trimmed
//! again); this is R's algorithm and it converges to the same place as long as it converges.
//!
//! Differences, all deliberate:
//!
//! - **Zero weights stay zero** and take no part: they are not trimmed, not counted, and get
//!   no share. R raises a zero weight to `lower` when `lower > 0`, and shares the trimmed
//!   amount with zero weights otherwise, which would give weight back to the non-respondents
//!   a non-response adjustment has just zeroed.
//! - **Impossible bounds are an error.** When the non-zero weights cannot hold the total
//!   inside the bounds (`n × upper < total` or `n × lower > total`), R's strict mode recurses
//!   until the C stack overflows, and its single pass returns weights that do not keep the
//!   total. When every weight is outside the bounds, R divides the trimmed amount by zero
//!   weights inside and silently drops it (the total is not kept); that is an error here too.
//! - **Strict mode always ends.** R's strict mode recurses until no weight is outside. In
//!   floating point the passes often end in a cycle where the same units are pushed out by a
//!   few ulps and pulled back forever (a share smaller than an ulp of the bound still rounds
//!   to one): R's `trimWeights(apiclus2 design, lower = 30, upper = 200, strict = TRUE)`
//!   fails with "C stack usage is too close to the limit", and about one random case in
//!   twenty cycles in the passes here. So once the amount trimmed in a pass is below 1e-12
//!   of the total and has stopped getting smaller, the remaining few-ulp excesses are clamped
//!   to the bounds and the loop ends; the total then changes by at most that amount (in
//!   practice about 1e-16 relative). A loop that has not converged after [`MAX_PASSES`]
//!   passes is an error.
//! - R computes each pass on `weights(design)` = `1 / (1 / w)` (it stores probabilities);
//!   that round trip perturbs weights by an ulp and is not reproduced.
//!
//! Bounds are absolute; the caller turns bounds relative to the mean weight into absolute
//! ones. Infinite bounds (no bound on one side, R's defaults) are allowed.

use crate::error::Location;
use crate::numeric::Sum;
use crate::{Error, Result};
use serde::Serialize;

/// The most passes strict trimming makes before giving up (R has no limit but its stack).
pub const MAX_PASSES: usize = 10_000;

/// Trimmed weights and what trimming did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trimmed {
    /// One weight per input row; zero weights are still zero.
    pub weights: Vec<f64>,
    /// Units set to `lower` in some pass (each counted once).
    pub n_low: usize,
    /// Units set to `upper` in some pass (each counted once).
    pub n_high: usize,
    /// Passes that trimmed something (R's recursion depth); 0 when nothing was outside.
    pub iterations: usize,
    pub total_before: f64,
    pub total_after: f64,
}

/// Trims the weights `w` to `[lower, upper]` as R's `trimWeights` does (see the module docs):
/// one pass, or with `strict` as many as it takes for every non-zero weight to lie inside.
///
/// Errors: a NaN bound or `lower > upper` (usage); a non-finite weight (naming its 1-based
/// row); bounds that cannot hold the total of the non-zero weights, or a pass where every
/// non-zero weight is outside the bounds (design).
pub fn trim(w: &[f64], lower: f64, upper: f64, strict: bool) -> Result<Trimmed> {
    if lower.is_nan() || upper.is_nan() {
        return Err(Error::Usage(format!(
            "trimming bounds must be numbers (lower {lower}, upper {upper})"
        )));
    }
    if lower > upper {
        return Err(Error::Usage(format!(
            "trimming bounds: the lower bound {lower} is above the upper bound {upper}"
        )));
    }
    if let Some(i) = w.iter().position(|x| !x.is_finite()) {
        return Err(Error::input(
            Location::default().row(i + 1),
            Some(w[i].to_string()),
            "a weight to trim is not a finite number",
        ));
    }

    // The units taking part: the non-zero weights.
    let units: Vec<usize> = (0..w.len()).filter(|&i| w[i] != 0.0).collect();
    let total_before = crate::numeric::sum(w);
    let n = units.len();
    let untouched = |weights: Vec<f64>| Trimmed {
        weights,
        n_low: 0,
        n_high: 0,
        iterations: 0,
        total_before,
        total_after: total_before,
    };
    if n == 0 {
        return Ok(untouched(w.to_vec()));
    }

    // Can the bounds hold the total at all? Allow for rounding in the products and the sum.
    let nf = n as f64;
    let slack = 1e-12 * total_before.abs().max(f64::MIN_POSITIVE);
    if nf * upper < total_before - slack || nf * lower > total_before + slack {
        return Err(Error::Design(format!(
            "trimming to [{lower}, {upper}] cannot keep the total weight {total_before}: \
             {n} non-zero weights hold between {} and {} inside those bounds; \
             widen the bounds",
            nf * lower,
            nf * upper
        )));
    }
    // On the boundary itself every weight must equal the bound; R's passes would approach it
    // only in the limit.
    let at_upper = (nf * upper - total_before).abs() <= slack;
    let at_lower = (nf * lower - total_before).abs() <= slack;
    if strict && (at_upper || at_lower) {
        let bound = if at_upper { upper } else { lower };
        let mut weights = w.to_vec();
        let (mut n_low, mut n_high) = (0, 0);
        for &i in &units {
            if weights[i] < lower {
                n_low += 1;
            } else if weights[i] > upper {
                n_high += 1;
            }
            weights[i] = bound;
        }
        let total_after = crate::numeric::sum(&weights);
        return Ok(Trimmed {
            weights,
            n_low,
            n_high,
            iterations: usize::from(n_low + n_high > 0),
            total_before,
            total_after,
        });
    }

    let mut weights = w.to_vec();
    let mut low = vec![false; n];
    let mut high = vec![false; n];
    let mut inside = vec![false; n];
    let mut iterations = 0;
    // Total of |weights|, the scale for "negligible".
    let scale = {
        let mut s = Sum::new();
        for &i in &units {
            s.add(w[i].abs());
        }
        s.value()
    };
    // The smallest amount trimmed in a pass so far, and how many passes ago it was reached.
    let mut smallest = f64::INFINITY;
    let mut since_smallest = 0usize;

    loop {
        // One pass of R's trimWeights.
        let mut trimmed = Sum::new();
        let mut moved = Sum::new();
        let mut n_inside = 0usize;
        let mut any_outside = false;
        for (k, &i) in units.iter().enumerate() {
            let x = weights[i];
            if x < lower {
                trimmed.add(x - lower);
                moved.add(lower - x);
                weights[i] = lower;
                low[k] = true;
                inside[k] = false;
                any_outside = true;
            } else if x > upper {
                trimmed.add(x - upper);
                moved.add(x - upper);
                weights[i] = upper;
                high[k] = true;
                inside[k] = false;
                any_outside = true;
            } else {
                inside[k] = true;
                n_inside += 1;
            }
        }
        if !any_outside {
            break;
        }
        iterations += 1;
        if n_inside == 0 {
            return Err(Error::Design(format!(
                "trimming to [{lower}, {upper}]: every non-zero weight is outside the bounds \
                 (pass {iterations}), so no weight is left to take the {} trimmed; \
                 widen the bounds",
                trimmed.value()
            )));
        }
        let amount = moved.value();
        if amount <= 1e-12 * scale && since_smallest >= STALL_PASSES {
            // Converged as far as floating point goes: the passes now only push a few units
            // out by ulps and back (see the module docs). The clamping above is kept and the
            // crumb not shared out.
            break;
        }
        if amount < smallest {
            smallest = amount;
            since_smallest = 0;
        } else {
            since_smallest += 1;
        }
        let share = trimmed.value() / n_inside as f64;
        for (k, &i) in units.iter().enumerate() {
            if inside[k] {
                weights[i] += share;
            }
        }
        if !strict {
            break;
        }
        if iterations >= MAX_PASSES {
            return Err(Error::Design(format!(
                "strict trimming to [{lower}, {upper}] did not converge in {MAX_PASSES} \
                 passes ({n} non-zero weights, total {total_before}, between {} and {} \
                 possible): the bounds are too close to impossible; widen them or trim \
                 without `strict`",
                nf * lower,
                nf * upper
            )));
        }
    }

    let total_after = crate::numeric::sum(&weights);
    Ok(Trimmed {
        weights,
        n_low: low.iter().filter(|&&b| b).count(),
        n_high: high.iter().filter(|&&b| b).count(),
        iterations,
        total_before,
        total_after,
    })
}

/// Passes without a new smallest trimmed amount after which a negligible amount counts as
/// a floating-point cycle rather than progress. Converging passes make a new smallest amount
/// at least every second pass (the trimmed units alternate between two groups).
const STALL_PASSES: usize = 4;

#[cfg(test)]
mod tests {
    // R's values are printed with %.17g, more digits than needed, to be exact about them.
    #![allow(clippy::excessive_precision)]

    use super::*;
    use crate::design::{Design, DesignOptions};
    use crate::table::read::{read_table, ReadOptions};
    use std::path::Path;

    /// The weights of R's `svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)`.
    fn apiclus2_weights() -> Vec<f64> {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/data/apiclus2.csv");
        let table = read_table(&path, &ReadOptions::default()).expect("apiclus2 readable");
        let options = DesignOptions {
            clusters: vec!["dnum".into(), "snum".into()],
            fpc: vec!["fpc1".into(), "fpc2".into()],
            ..Default::default()
        };
        let design = Design::build(&table, &options).expect("design");
        assert_eq!(design.weights.len(), 126);
        design.weights
    }

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            (a - b).abs() / b.abs()
        }
    }

    /// Checks every trimmed weight against R's, given as (input weight, R's trimmed weight)
    /// for each distinct input weight.
    fn check(w: &[f64], t: &Trimmed, r: &[(f64, f64)], r_sum: f64) {
        assert_eq!(t.weights.len(), w.len());
        for (i, (&before, &after)) in w.iter().zip(&t.weights).enumerate() {
            let &(_, expected) = r
                .iter()
                .find(|(x, _)| rel(before, *x) < 1e-12)
                .unwrap_or_else(|| panic!("row {}: weight {before} not in R's table", i + 1));
            assert!(
                rel(after, expected) < 1e-12,
                "row {}: {before} trimmed to {after:.17}, R {expected:.17}",
                i + 1
            );
        }
        assert!(rel(t.total_after, r_sum) < 1e-13, "total {}", t.total_after);
        assert!(rel(t.total_after, t.total_before) < 1e-13);
    }

    // R 4.2.2, survey 4.1-1, for every case below:
    // ```r
    // d <- read.csv("apiclus2.csv")
    // des <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = d)
    // w <- weights(des)
    // show <- function(tw) {
    //   u <- unique(data.frame(w = w, tw = tw)); u <- u[order(u$w), ]
    //   cat("sum", sprintf("%.17g", sum(tw)), "\n")
    //   for (i in seq_len(nrow(u))) cat(sprintf("(%.17g, %.17g),\n", u$w[i], u$tw[i]))
    // }
    // show(weights(trimWeights(des, lower = 20, upper = 80, strict = FALSE)))
    // ```
    // and likewise for the other bounds and `strict`. Note R's argument order is
    // `trimWeights(design, upper, lower, strict)`: name the bounds.

    #[test]
    fn apiclus2_20_80_one_pass_matches_r() {
        let w = apiclus2_weights();
        let t = trim(&w, 20.0, 80.0, false).expect("trims");
        let r = [
            (18.925000000000001, 20.0),
            (22.710000000000004, 65.600833333333355),
            (26.495000000000001, 69.385833333333352),
            (34.065000000000005, 76.955833333333345),
            (41.635000000000005, 84.525833333333352),
            (52.990000000000002, 95.880833333333356),
            (105.98, 80.0),
            (136.26000000000002, 80.0),
            (272.52000000000004, 80.0),
        ];
        check(&w, &t, &r, 5128.6750000000002);
        assert_eq!((t.n_low, t.n_high, t.iterations), (81, 15, 1));
    }

    #[test]
    fn apiclus2_20_80_strict_matches_r() {
        let w = apiclus2_weights();
        let t = trim(&w, 20.0, 80.0, true).expect("trims");
        let r = [
            (18.925000000000001, 21.010231023102314),
            (22.710000000000004, 66.611064356435691),
            (26.495000000000001, 70.396064356435687),
            (34.065000000000005, 77.96606435643568),
            (41.635000000000005, 80.0),
            (52.990000000000002, 80.0),
            (105.98, 80.0),
            (136.26000000000002, 80.0),
            (272.52000000000004, 80.0),
        ];
        check(&w, &t, &r, 5128.6750000000011);
        // The 81 raised to 20 got shares later and ended above it; 25 ended at 80.
        assert_eq!((t.n_low, t.n_high), (81, 25));
        // R's own passes (the same loop written out in R) take 17.
        assert_eq!(t.iterations, 17);
        assert!(t.weights.iter().all(|&x| (20.0..=80.0).contains(&x)));
    }

    #[test]
    fn apiclus2_20_60_matches_r() {
        let w = apiclus2_weights();
        let t = trim(&w, 20.0, 60.0, false).expect("trims");
        let r = [
            (18.925000000000001, 20.0),
            (22.710000000000004, 75.600833333333355),
            (26.495000000000001, 79.385833333333352),
            (34.065000000000005, 86.955833333333345),
            (41.635000000000005, 94.525833333333352),
            (52.990000000000002, 105.88083333333336),
            (105.98, 60.0),
            (136.26000000000002, 60.0),
            (272.52000000000004, 60.0),
        ];
        check(&w, &t, &r, 5128.6750000000002);

        let t = trim(&w, 20.0, 60.0, true).expect("trims");
        let r = [
            (18.925000000000001, 29.983641975308643),
            (22.710000000000004, 60.0),
            (26.495000000000001, 60.0),
            (34.065000000000005, 60.0),
            (41.635000000000005, 60.0),
            (52.990000000000002, 60.0),
            (105.98, 60.0),
            (136.26000000000002, 60.0),
            (272.52000000000004, 60.0),
        ];
        check(&w, &t, &r, 5128.6750000000002);
        assert_eq!((t.n_low, t.n_high), (81, 45));
    }

    #[test]
    fn apiclus2_30_200_one_pass_matches_r() {
        // The net share is negative here: more is raised at the bottom than cut at the top,
        // so one pass pushes weights below the lower bound.
        let w = apiclus2_weights();
        let t = trim(&w, 30.0, 200.0, false).expect("trims");
        let r = [
            (18.925000000000001, 30.0),
            (22.710000000000004, 30.0),
            (26.495000000000001, 30.0),
            (34.065000000000005, 9.8260000000000183),
            (41.635000000000005, 17.396000000000019),
            (52.990000000000002, 28.751000000000019),
            (105.98, 81.741000000000014),
            (136.26000000000002, 112.02100000000003),
            (272.52000000000004, 200.0),
        ];
        check(&w, &t, &r, 5128.6750000000002);
        assert_eq!((t.n_low, t.n_high, t.iterations), (96, 5, 1));
    }

    /// R's strict `trimWeights(des, lower = 30, upper = 200, strict = TRUE)` never returns
    /// (its passes cycle in floating point and the recursion overflows the C stack, even with
    /// a 64 MB stack). The expected values are R's passes written out as a loop, which ends
    /// after 84 passes without the `1 / (1 / w)` round trip:
    /// ```r
    /// pw <- w; lower <- 30; upper <- 200
    /// repeat { outside <- pw < lower | pw > upper; if (!any(outside)) break
    ///   pwnew <- pmax(lower, pmin(pw, upper)); tr <- pw - pwnew
    ///   pwnew[!outside] <- pwnew[!outside] + sum(tr) / sum(!outside); pw <- pwnew }
    /// show(pw)
    /// ```
    #[test]
    fn apiclus2_30_200_strict_ends_where_r_passes_converge() {
        let w = apiclus2_weights();
        let t = trim(&w, 30.0, 200.0, true).expect("trims");
        let r = [
            (18.925000000000001, 30.0),
            (22.710000000000004, 30.0),
            (26.495000000000001, 30.0),
            (34.065000000000005, 30.0),
            (41.635000000000005, 30.0),
            (52.990000000000002, 30.0),
            (105.98, 70.398666666666728),
            (136.26000000000002, 100.67866666666674),
            (272.52000000000004, 188.65766666666659),
        ];
        check(&w, &t, &r, 5128.6750000000002);
        assert!(t.weights.iter().all(|&x| (30.0..=200.0).contains(&x)));
        // 84 passes, as R's loop (checked once; not asserted, since a different rounding of
        // the sums could end the cycle a pass earlier or later).
        assert!(t.iterations < 200, "{} passes", t.iterations);
        assert_eq!((t.n_low, t.n_high), (111, 5));
    }

    /// Strict trimming ends inside the bounds with the total kept, including the cases whose
    /// passes cycle in floating point (about one in twenty here).
    #[test]
    fn strict_always_ends_inside_the_bounds() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for case in 0..400 {
            let n = rng.random_range(20..300);
            let w: Vec<f64> = (0..n)
                .map(|_| {
                    let u: f64 = rng.random();
                    let zero = rng.random::<f64>() < 0.1;
                    if zero {
                        0.0
                    } else {
                        1.0 + 30.0 * u.powi(3)
                    }
                })
                .collect();
            let total = crate::numeric::sum(&w);
            let n_pos = w.iter().filter(|&&x| x > 0.0).count() as f64;
            let mean = total / n_pos;
            let lower = mean * rng.random_range(0.0..1.0);
            let upper = mean * rng.random_range(1.0..3.0);
            let t = trim(&w, lower, upper, true).unwrap_or_else(|e| panic!("case {case}: {e}"));
            assert!(rel(t.total_after, total) < 1e-13, "case {case}");
            for (a, b) in w.iter().zip(&t.weights) {
                assert!(
                    if *a == 0.0 {
                        *b == 0.0
                    } else {
                        (lower..=upper).contains(b)
                    },
                    "case {case}: {a} -> {b}"
                );
            }
        }
    }

    #[test]
    fn nothing_outside_changes_nothing() {
        let w = [1.0, 2.0, 3.0];
        let t = trim(&w, 0.5, 10.0, true).expect("trims");
        assert_eq!(t.weights, w);
        assert_eq!((t.n_low, t.n_high, t.iterations), (0, 0, 0));
        assert_eq!(t.total_after, 6.0);
        // Infinite bounds are R's defaults.
        let t = trim(&w, f64::NEG_INFINITY, f64::INFINITY, true).expect("trims");
        assert_eq!(t.weights, w);
    }

    /// R (`svydesign(id = ~1, weights = ~w)` with w = 0, 1, 2, 3, 10, 0, 4 and
    /// `trimWeights(des, lower = 1.5, upper = 5)`) gives 1.5 1.5 2.5 3.5 5.0 1.5 4.5: it
    /// raises the two zero weights to the lower bound. Here they stay zero and the other five
    /// weights alone keep the total.
    #[test]
    fn zero_weights_stay_zero() {
        let w = [0.0, 1.0, 2.0, 3.0, 10.0, 0.0, 4.0];
        let t = trim(&w, 1.5, 5.0, false).expect("trims");
        // Raised 0.5, cut 5: 4.5 over the three inside, 1.5 each.
        let expected = [0.0, 1.5, 3.5, 4.5, 5.0, 0.0, 5.5];
        for (a, b) in t.weights.iter().zip(expected) {
            assert!((a - b).abs() < 1e-14, "{:?}", t.weights);
        }
        assert_eq!((t.n_low, t.n_high), (1, 1));
        let t = trim(&w, 1.5, 5.0, true).expect("trims");
        assert_eq!(t.weights[0], 0.0);
        assert_eq!(t.weights[5], 0.0);
        assert!((t.total_after - 20.0).abs() < 1e-13);
        assert!(t
            .weights
            .iter()
            .all(|&x| x == 0.0 || (1.5..=5.0).contains(&x)));
    }

    #[test]
    fn bad_bounds_and_weights_are_errors() {
        let w = [1.0, 2.0, 30.0];
        let e = trim(&w, 5.0, 2.0, false).expect_err("lower > upper");
        assert!(e.to_string().contains("above the upper bound"), "{e}");
        assert!(trim(&w, f64::NAN, 2.0, false).is_err());

        // 3 × 10 = 30 < 33: the total does not fit under the upper bound.
        let e = trim(&w, 0.0, 10.0, true).expect_err("infeasible");
        let msg = e.to_string();
        assert!(msg.contains("33") && msg.contains("30"), "{msg}");
        assert!(matches!(e, Error::Design(_)));
        // 3 × 12 = 36 > 33.
        assert!(trim(&w, 12.0, 40.0, false).is_err());

        let e = trim(&[1.0, f64::NAN], 0.0, 10.0, false).expect_err("NaN weight");
        assert!(e.to_string().contains("row 2"), "{e}");
    }

    #[test]
    fn every_weight_outside_is_an_error() {
        // R returns 4, 6 (total 10 instead of 11) without a word.
        let e = trim(&[1.0, 10.0], 4.0, 6.0, true).expect_err("no weight inside");
        assert!(e.to_string().contains("every non-zero weight"), "{e}");
    }

    #[test]
    fn bounds_that_just_hold_the_total() {
        // 4 × 5 = 20 = total: everything ends at the upper bound.
        let t = trim(&[2.0, 3.0, 5.0, 10.0], 1.0, 5.0, true).expect("trims");
        assert_eq!(t.weights, vec![5.0; 4]);
        assert_eq!(t.total_after, 20.0);
        assert_eq!(t.n_high, 1);
        let t = trim(&[2.0, 3.0, 5.0, 10.0, 0.0], 5.0, 5.0, true).expect("trims");
        assert_eq!(t.weights, vec![5.0, 5.0, 5.0, 5.0, 0.0]);
    }

    #[test]
    fn empty_and_all_zero() {
        let t = trim(&[], 1.0, 2.0, true).expect("trims");
        assert!(t.weights.is_empty());
        let t = trim(&[0.0, 0.0], 1.0, 2.0, true).expect("trims");
        assert_eq!(t.weights, vec![0.0, 0.0]);
        assert_eq!(t.iterations, 0);
    }

    #[test]
    fn strict_keeps_the_total_on_many_weights() {
        // Skewed weights, both ends trimmed, many passes.
        let w: Vec<f64> = (0..5000)
            .map(|i| {
                let u = ((i * 7919) % 5000) as f64 / 5000.0;
                1.0 + 40.0 * u.powi(4)
            })
            .collect();
        let total: f64 = crate::numeric::sum(&w);
        let mean = total / w.len() as f64;
        let t = trim(&w, 0.5 * mean, 3.0 * mean, true).expect("trims");
        assert!(t
            .weights
            .iter()
            .all(|&x| x >= 0.5 * mean && x <= 3.0 * mean));
        assert!(rel(t.total_after, total) < 1e-13);
        assert!(t.n_low > 0 && t.n_high > 0);
    }
}
