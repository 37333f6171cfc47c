//! Weight diagnostics: the distribution of a weight column and of adjustment factors.
//!
//! This module owns the numbers `tasa weight` reports about the weights it made: counts of
//! positive, zero and negative weights, percentiles (R's `quantile(type = 7)`, the default),
//! the coefficient of variation (`sd(w) / mean(w)` with R's `sd`, denominator n − 1), Kish's
//! design effect due to unequal weighting `n Σw² / (Σw)²` and the effective sample size
//! `(Σw)² / Σw²`; and [`ratio_summary`], the spread of the factors `after / before` of one
//! adjustment step (calibration g-weights, non-response factors, trimming).
//!
//! Zero weights are rows that carry no weight (non-respondents after a non-response
//! adjustment), so every distribution statistic is taken over the **non-zero** weights; `n`,
//! the counts and `sum` describe all rows. Non-finite weights (NaN, ±inf) are counted in
//! `n_nonfinite` and left out of everything else, so one bad value does not hide the rest.
//!
//! Statistics that do not exist for the input (no non-zero weight; a standard deviation of a
//! single weight; a max/min ratio when the smallest weight is not positive) are `None`, which
//! serialises as JSON `null`: an empty or all-zero column never panics and never yields NaN.

use crate::numeric::Sum;
use serde::Serialize;

/// The distribution of one weight column. See the module docs for which rows each field uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightSummary {
    /// Rows.
    pub n: usize,
    pub n_positive: usize,
    pub n_zero: usize,
    pub n_negative: usize,
    /// NaN or infinite weights, left out of every other statistic.
    pub n_nonfinite: usize,
    /// Sum of the finite weights (0 when there are none).
    pub sum: f64,
    /// Mean of the non-zero weights.
    pub mean: Option<f64>,
    /// Smallest non-zero weight.
    pub min: Option<f64>,
    pub p1: Option<f64>,
    pub p5: Option<f64>,
    pub p25: Option<f64>,
    pub median: Option<f64>,
    pub p75: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    /// Largest non-zero weight.
    pub max: Option<f64>,
    /// Standard deviation (denominator n' − 1) over the mean of the non-zero weights; `None`
    /// with fewer than two of them or a zero mean.
    pub cv: Option<f64>,
    /// Kish's design effect due to weighting, `n' Σw² / (Σw)²` over the n' non-zero weights
    /// (= 1 + cv² × (n' − 1) / n').
    pub kish_deff: Option<f64>,
    /// Kish's effective sample size `(Σw)² / Σw²` over the non-zero weights.
    pub effective_n: Option<f64>,
    /// `max / min` of the non-zero weights; `None` unless the smallest is positive.
    pub max_min_ratio: Option<f64>,
}

/// Summarises the weights `w` (see [`WeightSummary`]).
pub fn summarize(w: &[f64]) -> WeightSummary {
    let mut n_positive = 0;
    let mut n_zero = 0;
    let mut n_negative = 0;
    let mut n_nonfinite = 0;
    let mut nonzero = Vec::with_capacity(w.len());
    for &x in w {
        if !x.is_finite() {
            n_nonfinite += 1;
        } else if x > 0.0 {
            n_positive += 1;
            nonzero.push(x);
        } else if x < 0.0 {
            n_negative += 1;
            nonzero.push(x);
        } else {
            n_zero += 1;
        }
    }
    nonzero.sort_by(f64::total_cmp);

    let sum = crate::numeric::sum(&nonzero);
    let count = nonzero.len();
    let mean = (count > 0).then(|| sum / count as f64);

    let sd = mean.and_then(|m| sd_about(&nonzero, m));
    let cv = match (sd, mean) {
        (Some(s), Some(m)) if m != 0.0 => Some(s / m),
        _ => None,
    };

    let mut squares = Sum::new();
    for &x in &nonzero {
        squares.add(x * x);
    }
    let sum_sq = squares.value();
    let (kish_deff, effective_n) = if count > 0 && sum != 0.0 && sum_sq > 0.0 {
        (
            Some(count as f64 * sum_sq / (sum * sum)),
            Some(sum * sum / sum_sq),
        )
    } else {
        (None, None)
    };

    let min = nonzero.first().copied();
    let max = nonzero.last().copied();
    let max_min_ratio = match (min, max) {
        (Some(lo), Some(hi)) if lo > 0.0 => Some(hi / lo),
        _ => None,
    };
    let q = |p: f64| quantile7(&nonzero, p);

    WeightSummary {
        n: w.len(),
        n_positive,
        n_zero,
        n_negative,
        n_nonfinite,
        sum,
        mean,
        min,
        p1: q(0.01),
        p5: q(0.05),
        p25: q(0.25),
        median: q(0.5),
        p75: q(0.75),
        p95: q(0.95),
        p99: q(0.99),
        max,
        cv,
        kish_deff,
        effective_n,
        max_min_ratio,
    }
}

/// The spread of the adjustment factors `after / before` of one weighting step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatioSummary {
    /// Rows with `before > 0` and a finite ratio (the rows summarised).
    pub n: usize,
    /// Rows with `before > 0` whose ratio is not finite (a NaN or infinite `after`).
    pub n_nonfinite: usize,
    pub min: Option<f64>,
    /// R's `median()` (type 7 at 0.5).
    pub median: Option<f64>,
    pub max: Option<f64>,
}

/// Summarises the factors `after[i] / before[i]` over the rows with `before[i] > 0` (rows with
/// no weight before the step have no factor): min, median, max. For calibration these are the
/// g-weights. The slices are paired row by row; they should have the same length (extra
/// rows of the longer one are ignored).
pub fn ratio_summary(before: &[f64], after: &[f64]) -> RatioSummary {
    debug_assert_eq!(
        before.len(),
        after.len(),
        "weights before and after differ in length"
    );
    let mut ratios = Vec::with_capacity(before.len());
    let mut n_nonfinite = 0;
    for (&b, &a) in before.iter().zip(after) {
        // `b > 0` is false for NaN, so a NaN `before` is skipped like a zero.
        if b > 0.0 && b.is_finite() {
            let r = a / b;
            if r.is_finite() {
                ratios.push(r);
            } else {
                n_nonfinite += 1;
            }
        }
    }
    ratios.sort_by(f64::total_cmp);
    RatioSummary {
        n: ratios.len(),
        n_nonfinite,
        min: ratios.first().copied(),
        median: quantile7(&ratios, 0.5),
        max: ratios.last().copied(),
    }
}

/// Sample standard deviation about `mean` (denominator n − 1), two-pass like R's `sd`; `None`
/// with fewer than two values.
fn sd_about(x: &[f64], mean: f64) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let mut ss = Sum::new();
    for &v in x {
        let d = v - mean;
        ss.add(d * d);
    }
    Some((ss.value() / (x.len() - 1) as f64).sqrt())
}

/// R's type 7 quantile of sorted, finite `x` at `p` in [0, 1] (`None` when `x` is empty).
///
/// Follows `quantile.default` step by step, including its interpolation written as
/// `(1 − h) x[lo] + h x[hi]` and its skipping of the interpolation when the two order
/// statistics are equal, so the results agree with R to the last bit in ordinary cases.
pub(crate) fn quantile7(x: &[f64], p: f64) -> Option<f64> {
    let n = x.len();
    if n == 0 {
        return None;
    }
    let p = p.clamp(0.0, 1.0);
    // R's 1-based index = 1 + (n − 1) p; here 0-based.
    let index = (n - 1) as f64 * p;
    let lo = index.floor();
    let hi = index.ceil();
    // Both are in 0..n because 0 <= index <= n − 1.
    let (lo_i, hi_i) = (lo as usize, hi as usize);
    let qs = x[lo_i];
    let xh = x[hi_i];
    if index > lo && xh != qs {
        let h = index - lo;
        Some((1.0 - h) * qs + h * xh)
    } else {
        Some(qs)
    }
}

#[cfg(test)]
mod tests {
    // R's values are printed with %.17g, more digits than needed, to be exact about them.
    #![allow(clippy::excessive_precision)]

    use super::*;
    use crate::table::read::{read_table, ReadOptions};
    use std::path::Path;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        match a {
            Some(a) => a == b || (a - b).abs() <= tol * b.abs(),
            None => false,
        }
    }

    macro_rules! assert_close {
        ($a:expr, $b:expr, $tol:expr) => {{
            let (a, b): (Option<f64>, f64) = ($a, $b);
            assert!(
                close(a, b, $tol),
                "{} = {:?}, R says {:e}",
                stringify!($a),
                a,
                b
            );
        }};
    }

    /// R 4.2.2:
    /// ```r
    /// d <- read.csv("apistrat.csv"); w <- d$pw
    /// sum(w); mean(w); min(w); max(w)
    /// quantile(w, c(.01, .05, .25, .5, .75, .95, .99), type = 7)
    /// sd(w) / mean(w); length(w) * sum(w^2) / sum(w)^2; sum(w)^2 / sum(w^2); max(w) / min(w)
    /// ```
    #[test]
    fn apistrat_pw_matches_r() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/data/apistrat.csv");
        let table = read_table(&path, &ReadOptions::default()).expect("apistrat readable");
        let w = table.require_num("pw").expect("pw numeric");
        let s = summarize(w);
        assert_eq!(
            (s.n, s.n_positive, s.n_zero, s.n_negative),
            (200, 200, 0, 0)
        );
        assert_eq!(s.n_nonfinite, 0);
        let tol = 1e-13;
        assert_close!(Some(s.sum), 6193.9999580383301, tol);
        assert_close!(s.mean, 30.96999979019165, tol);
        assert_close!(s.min, 15.100000381469727, tol);
        assert_close!(s.p1, 15.100000381469727, tol);
        assert_close!(s.p5, 15.100000381469727, tol);
        assert_close!(s.p25, 19.045000553131104, tol);
        assert_close!(s.median, 32.284999847412109, tol);
        assert_close!(s.p75, 44.209999084472656, tol);
        assert_close!(s.p95, 44.209999084472656, tol);
        assert_close!(s.p99, 44.209999084472656, tol);
        assert_close!(s.max, 44.209999084472656, tol);
        assert_close!(s.cv, 0.43279039077801829, tol);
        assert_close!(s.kish_deff, 1.1863709847380408, tol);
        assert_close!(s.effective_n, 168.58133128075568, tol);
        assert_close!(s.max_min_ratio, 2.9278144349404029, tol);
    }

    /// R 4.2.2, zeros dropped first:
    /// ```r
    /// x <- c(0, 3.5, 0, 1.25, 10, 2, 0, 7.75, 1.25, 4); y <- x[x != 0]
    /// quantile(y, c(0, .01, .05, .25, .5, .75, .95, .99, 1))
    /// sd(y) / mean(y); length(y) * sum(y^2) / sum(y)^2
    /// ```
    #[test]
    fn zeros_are_left_out_of_the_distribution() {
        let x = [0.0, 3.5, 0.0, 1.25, 10.0, 2.0, 0.0, 7.75, 1.25, 4.0];
        let s = summarize(&x);
        assert_eq!((s.n, s.n_positive, s.n_zero, s.n_negative), (10, 7, 3, 0));
        assert_eq!(s.sum, 29.75);
        assert_eq!(s.mean, Some(29.75 / 7.0));
        let tol = 1e-14;
        assert_close!(s.min, 1.25, tol);
        assert_close!(s.p1, 1.25, tol);
        assert_close!(s.p5, 1.25, tol);
        assert_close!(s.p25, 1.625, tol);
        assert_close!(s.median, 3.5, tol);
        assert_close!(s.p75, 5.875, tol);
        assert_close!(s.p95, 9.3249999999999993, tol);
        assert_close!(s.p99, 9.8649999999999984, tol);
        assert_close!(s.max, 10.0, tol);
        assert_close!(s.cv, 0.79792117448532562, tol);
        assert_close!(s.kish_deff, 1.5457241720217498, tol);
        assert_close!(s.effective_n, 7.0 / 1.5457241720217498, tol);
        assert_close!(s.max_min_ratio, 8.0, tol);
    }

    #[test]
    fn empty_and_all_zero_do_not_panic() {
        for w in [&[][..], &[0.0, 0.0, -0.0][..]] {
            let s = summarize(w);
            assert_eq!(s.n, w.len());
            assert_eq!(s.n_zero, w.len());
            assert_eq!(s.sum, 0.0);
            for v in [
                s.mean,
                s.min,
                s.p1,
                s.median,
                s.p99,
                s.max,
                s.cv,
                s.kish_deff,
                s.effective_n,
                s.max_min_ratio,
            ] {
                assert_eq!(v, None);
            }
            // JSON has null, not NaN.
            let json = serde_json::to_string(&s).expect("serialises");
            assert!(json.contains("\"median\":null"), "{json}");
        }
    }

    #[test]
    fn one_weight_and_odd_values() {
        let s = summarize(&[5.0]);
        assert_eq!((s.min, s.median, s.max), (Some(5.0), Some(5.0), Some(5.0)));
        assert_eq!(s.cv, None);
        assert_eq!(s.kish_deff, Some(1.0));
        assert_eq!(s.effective_n, Some(1.0));
        assert_eq!(s.max_min_ratio, Some(1.0));

        let s = summarize(&[f64::NAN, -2.0, 4.0, f64::INFINITY, 0.0, 6.0]);
        assert_eq!(
            (s.n, s.n_positive, s.n_zero, s.n_negative, s.n_nonfinite),
            (6, 2, 1, 1, 2)
        );
        assert_eq!(s.sum, 8.0);
        assert_eq!(s.min, Some(-2.0));
        assert_eq!(s.median, Some(4.0));
        // No meaningful ratio when the smallest weight is negative.
        assert_eq!(s.max_min_ratio, None);

        // Weights summing to zero: no design effect rather than a division by zero.
        let s = summarize(&[-1.0, 1.0]);
        assert_eq!((s.kish_deff, s.effective_n, s.cv), (None, None, None));
    }

    #[test]
    fn kish_deff_is_one_plus_relvariance() {
        let w = [1.0, 2.0, 2.0, 3.0, 9.0, 0.5];
        let s = summarize(&w);
        let n = w.len() as f64;
        let cv = s.cv.expect("cv");
        let deff = s.kish_deff.expect("deff");
        assert!((deff - (1.0 + cv * cv * (n - 1.0) / n)).abs() < 1e-14);
        assert!((s.effective_n.expect("neff") - n / deff).abs() < 1e-12);
    }

    #[test]
    fn ratios_skip_rows_without_a_before_weight() {
        let before = [2.0, 0.0, 4.0, 1.0, f64::NAN, 3.0];
        let after = [3.0, 5.0, 2.0, 0.0, 1.0, f64::NAN];
        let r = ratio_summary(&before, &after);
        assert_eq!(r.n, 3);
        assert_eq!(r.n_nonfinite, 1);
        assert_eq!(r.min, Some(0.0));
        assert_eq!(r.median, Some(0.5));
        assert_eq!(r.max, Some(1.5));

        let r = ratio_summary(&[], &[]);
        assert_eq!((r.n, r.min, r.median, r.max), (0, None, None, None));
    }

    #[test]
    fn quantile7_interpolates_like_r() {
        // quantile(c(1, 2, 4, 8), c(0, 0.5, 0.9, 1)) = 1, 3, 6.8, 8
        let x = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile7(&x, 0.0), Some(1.0));
        assert_eq!(quantile7(&x, 0.5), Some(3.0));
        assert!((quantile7(&x, 0.9).expect("q") - 6.8).abs() < 1e-14);
        assert_eq!(quantile7(&x, 1.0), Some(8.0));
        assert_eq!(quantile7(&[], 0.5), None);
    }
}
