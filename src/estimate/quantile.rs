//! Weighted quantile rules, Woodruff and Francisco–Fuller (score) confidence intervals, as R
//! survey 4.1's `svyquantile` (the "new" implementation: `qrule_math`, `qrule_school`,
//! `qrule_hf1` .. `qrule_hf9`, `woodruffCI` and `ffullerCI`, whose `uniroot` is R's Brent
//! root finder `R_zeroin2`, reproduced iterate by iterate: the limits agree exactly with R's on
//! the api data, the roots to a few ulps).
//!
//! A rule sees the values x and weights w of one domain in any order. Rows with w = 0 are
//! ignored (as R), and so are rows with a NaN x or a non-finite weight (R never sees those:
//! its designs reject them). The data are sorted once, O(n log n) (a stable sort on x, as R's
//! `order`); each quantile after that is O(n) ([`woodruff`] sorts once for its three).
//!
//! Notation: x_1 <= ... <= x_n sorted, C_k the cumulative weights (compensated sums, as R's
//! long-double `cumsum`), C = sum w. R's helper `qs(x, w, p)`: pos = the last k with
//! C_k <= p C (1 if none), next = pos + 1 (pos if pos = n), `wlow = p - C_pos/C`,
//! `wup = C_next/C - p`.
//!
//! R's rules have quirks that are kept: `math` returns x_2, not x_1, when p C < C_1 (pos = 1
//! with no k satisfying the condition, so `wlow != 0` and the next value is taken); `hf4`
//! extrapolates below x_1 there and is NaN at p = 1; the interpolating rules (`hf5`..`hf9`,
//! which R evaluates with `approx(rule = 2)`) stop with an error in R for a single value,
//! where tasa returns that value.

use super::interval::{proportion_ci, quantile_t, ProportionCi, ProportionInput};
use crate::numeric::Sum;

/// A quantile rule (`--qrule`), R survey's `qrule` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QRule {
    /// `qrule_math` (= `hf1`): the inverse of the weighted empirical distribution function,
    /// `x_pos` if C_pos = pC exactly, else `x_next`.
    Math,
    /// `qrule_school` (= `hf2`): as `math`, but the average of `x_pos` and `x_next` when
    /// C_pos = pC.
    School,
    /// Hyndman–Fan type 1 (R's `qrule_hf1`, identical to `math`).
    Hf1,
    /// Hyndman–Fan type 2 (R's `qrule_hf2`, identical to `school`).
    Hf2,
    /// Hyndman–Fan type 3 (R's `qrule_hf3`): on the distinct values with summed weights,
    /// `x_pos` when C_pos = pC and pos is even, else `x_next`.
    Hf3,
    /// Hyndman–Fan type 4 (R's `qrule_hf4`): `x_pos (1 - g) + x_next g`,
    /// `g = wlow / (wlow + wup)`.
    Hf4,
    /// Hyndman–Fan type 5 (R's `qrule_hf5`): linear interpolation of (p_k, x_k),
    /// `p_k = (C_k - w_k/2) / C_n`.
    Hf5,
    /// Hyndman–Fan type 6 (R's `qrule_hf6`): `p_k = C_k / (C_n + w_n)`.
    Hf6,
    /// Hyndman–Fan type 7 (R's `qrule_hf7`): `p_k = C_{k-1} / C_{n-1}` (p_1 = 0, p_n = 1).
    Hf7,
    /// Hyndman–Fan type 8 (R's `qrule_hf8`): `p_k = (C_{k-1}/3 + 2 C_k/3) / (C_n + w_n/3)`.
    Hf8,
    /// Hyndman–Fan type 9 (R's `qrule_hf9`): `p_k = (3 C_{k-1}/8 + 5 C_k/8) / (C_n + w_n/4)`.
    Hf9,
}

impl QRule {
    /// Parses `math`, `school`, `hf1` .. `hf9`.
    pub fn parse(name: &str) -> Option<QRule> {
        Some(match name {
            "math" => QRule::Math,
            "school" => QRule::School,
            "hf1" => QRule::Hf1,
            "hf2" => QRule::Hf2,
            "hf3" => QRule::Hf3,
            "hf4" => QRule::Hf4,
            "hf5" => QRule::Hf5,
            "hf6" => QRule::Hf6,
            "hf7" => QRule::Hf7,
            "hf8" => QRule::Hf8,
            "hf9" => QRule::Hf9,
            _ => return None,
        })
    }

    /// The `--qrule` name.
    pub fn as_str(self) -> &'static str {
        match self {
            QRule::Math => "math",
            QRule::School => "school",
            QRule::Hf1 => "hf1",
            QRule::Hf2 => "hf2",
            QRule::Hf3 => "hf3",
            QRule::Hf4 => "hf4",
            QRule::Hf5 => "hf5",
            QRule::Hf6 => "hf6",
            QRule::Hf7 => "hf7",
            QRule::Hf8 => "hf8",
            QRule::Hf9 => "hf9",
        }
    }
}

/// The weighted `p` quantile of `x` by `rule`, exactly as R survey's `qrule_<rule>(x, w, p)`.
///
/// `x` and `w` in any order (same length; extra elements of the longer one are ignored);
/// rows with w = 0, a non-finite w or a NaN x are ignored. NaN when no row is left or `p` is
/// NaN. Any other `p` is used as R would (p outside [0, 1] gives an end value for most
/// rules). O(n log n).
///
/// ```
/// use tasa::estimate::quantile::{quantile, QRule};
/// let x = [3.0, 1.0, 2.0, 4.0];
/// let w = [1.0, 1.0, 1.0, 1.0];
/// assert_eq!(quantile(&x, &w, 0.5, QRule::Math), 2.0);
/// assert_eq!(quantile(&x, &w, 0.5, QRule::School), 2.5);
/// assert_eq!(quantile(&x, &w, 0.5, QRule::Hf7), 2.5);
/// ```
pub fn quantile(x: &[f64], w: &[f64], p: f64, rule: QRule) -> f64 {
    Sample::new(x, w).quantile(p, rule)
}

/// A domain's values sorted once, with cumulative weights, for several quantiles.
#[derive(Debug, Clone)]
struct Sample {
    /// Values, sorted (stable).
    x: Vec<f64>,
    /// Their weights.
    w: Vec<f64>,
    /// Cumulative weights C_k.
    cum: Vec<f64>,
    /// C = sum of the weights.
    total: f64,
}

impl Sample {
    fn new(x: &[f64], w: &[f64]) -> Sample {
        let mut rows: Vec<(f64, f64)> = x
            .iter()
            .zip(w)
            .filter(|(xi, wi)| !xi.is_nan() && wi.is_finite() && **wi != 0.0)
            .map(|(&xi, &wi)| (xi, wi))
            .collect();
        // Weights summed in the data's order (R's sum(w)), before sorting.
        let mut total = Sum::new();
        for &(_, wi) in &rows {
            total.add(wi);
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        Sample::from_sorted(rows, total.value())
    }

    fn from_sorted(rows: Vec<(f64, f64)>, total: f64) -> Sample {
        let mut cum = Vec::with_capacity(rows.len());
        let mut acc = Sum::new();
        for &(_, wi) in &rows {
            acc.add(wi);
            cum.push(acc.value());
        }
        let (x, w) = rows.into_iter().unzip();
        Sample { x, w, cum, total }
    }

    fn len(&self) -> usize {
        self.x.len()
    }

    fn quantile(&self, p: f64, rule: QRule) -> f64 {
        if self.len() == 0 || p.is_nan() {
            return f64::NAN;
        }
        match rule {
            QRule::Math | QRule::Hf1 => {
                let q = self.qs(p);
                if q.wlow == 0.0 {
                    self.x[q.pos]
                } else {
                    self.x[q.next]
                }
            }
            QRule::School | QRule::Hf2 => {
                let q = self.qs(p);
                if q.wlow == 0.0 {
                    (self.x[q.pos] + self.x[q.next]) / 2.0
                } else {
                    self.x[q.next]
                }
            }
            QRule::Hf3 => {
                let distinct = self.distinct();
                let q = distinct.qs(p);
                // R's ilow is 1-based: "even" there is odd here.
                if q.wlow == 0.0 && (q.pos + 1).is_multiple_of(2) {
                    distinct.x[q.pos]
                } else {
                    distinct.x[q.next]
                }
            }
            QRule::Hf4 => {
                let q = self.qs(p);
                let gamma = q.wlow / (q.wup + q.wlow);
                self.x[q.pos] * (1.0 - gamma) + self.x[q.next] * gamma
            }
            QRule::Hf5 | QRule::Hf6 | QRule::Hf7 | QRule::Hf8 | QRule::Hf9 => {
                self.interpolate(p, rule)
            }
        }
    }

    /// R's `qs(x, w, p)` (0-based positions).
    fn qs(&self, p: f64) -> Qs {
        let n = self.len();
        let target = p * self.total;
        // The last k with C_k <= pC, else the first (R's `last()`); a scan, since C need not
        // be monotone with negative weights.
        let pos = self.cum.iter().rposition(|&c| c <= target).unwrap_or(0);
        let next = if pos + 1 == n { pos } else { pos + 1 };
        Qs {
            pos,
            next,
            wlow: p - self.cum[pos] / self.total,
            wup: self.cum[next] / self.total - p,
        }
    }

    /// The distinct values with their summed weights (R's `rowsum(w, x)`: plain double sums
    /// in the data's order), for `hf3`.
    fn distinct(&self) -> Sample {
        let mut rows: Vec<(f64, f64)> = Vec::new();
        for (&xi, &wi) in self.x.iter().zip(&self.w) {
            match rows.last_mut() {
                Some(last) if last.0 == xi => last.1 += wi,
                _ => rows.push((xi, wi)),
            }
        }
        let mut total = Sum::new();
        for &(_, wi) in &rows {
            total.add(wi);
        }
        Sample::from_sorted(rows, total.value())
    }

    /// `approx(p_k, x_k, p, rule = 2)` with the plotting positions of `hf5`..`hf9`.
    fn interpolate(&self, p: f64, rule: QRule) -> f64 {
        let n = self.len();
        if n == 1 {
            return self.x[0];
        }
        let cn = self.cum[n - 1];
        let wn = self.w[n - 1];
        let prev = |k: usize| if k == 0 { 0.0 } else { self.cum[k - 1] };
        let pk: Vec<f64> = (0..n)
            .map(|k| {
                let c = self.cum[k];
                match rule {
                    QRule::Hf5 => (c - self.w[k] / 2.0) / cn,
                    QRule::Hf6 => c / (cn + wn),
                    QRule::Hf7 => prev(k) / self.cum[n - 2],
                    // R: (c(0, cumw[-n]) * 1/3 + cumw * 2/3) / (cumw[n] + w[n]/3)
                    QRule::Hf8 => (prev(k) / 3.0 + c * 2.0 / 3.0) / (cn + wn / 3.0),
                    // R: (c(0, cumw[-n]) * 3/8 + cumw * 5/8) / (cumw[n] + w[n]/4)
                    _ => (prev(k) * 3.0 / 8.0 + c * 5.0 / 8.0) / (cn + wn / 4.0),
                }
            })
            .collect();
        approx(&pk, &self.x, p)
    }
}

/// R's `qs()` result, 0-based.
#[derive(Debug, Clone, Copy)]
struct Qs {
    pos: usize,
    next: usize,
    wlow: f64,
    wup: f64,
}

/// R's `approx(xs, ys, v, method = "linear", rule = 2)`: pairs with a NaN dropped, sorted by
/// xs if needed (stable), ties in xs collapsed to the mean of their ys; below the first or
/// above the last xs the end ys; one point: its y.
fn approx(xs: &[f64], ys: &[f64], v: f64) -> f64 {
    let mut pts: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(&a, &b)| (a, b))
        .collect();
    if pts.windows(2).any(|w| w[1].0 < w[0].0) {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    if pts.windows(2).any(|w| w[1].0 == w[0].0) {
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
        let mut i = 0;
        while i < pts.len() {
            let mut j = i;
            let mut sum = Sum::new();
            while j < pts.len() && pts[j].0 == pts[i].0 {
                sum.add(pts[j].1);
                j += 1;
            }
            merged.push((pts[i].0, sum.value() / (j - i) as f64));
            i = j;
        }
        pts = merged;
    }
    let n = pts.len();
    if n == 0 || v.is_nan() {
        return f64::NAN;
    }
    if n == 1 {
        return pts[0].1;
    }
    if v < pts[0].0 {
        return pts[0].1;
    }
    if v > pts[n - 1].0 {
        return pts[n - 1].1;
    }
    // Bisection as R's approx1(): x[i] <= v <= x[j].
    let (mut i, mut j) = (0, n - 1);
    while i + 1 < j {
        let ij = (i + j) / 2;
        if v < pts[ij].0 {
            j = ij;
        } else {
            i = ij;
        }
    }
    if v == pts[j].0 {
        return pts[j].1;
    }
    if v == pts[i].0 {
        return pts[i].1;
    }
    let (xi, yi) = pts[i];
    let (xj, yj) = pts[j];
    yi + (yj - yi) * ((v - xi) / (xj - xi))
}

/// Interval types of the Woodruff interval (R's `svyquantile(interval.type = ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WoodruffType {
    /// `"mean"` (R's default; `--ci wald`): `phat ± t sqrt(V)`.
    Mean,
    /// `"beta"`: Korn–Graubard, with `n_rows` and `design_df`.
    Beta,
    /// `"xlogit"`: on the logit scale.
    Xlogit,
    /// `"asin"`: on the arcsine-square-root scale.
    Asin,
}

/// Woodruff's interval for a quantile, as R survey's `woodruffCI` (`svyquantile` with
/// `interval.type` "mean", "beta", "xlogit" or "asin"): `(ci_low, ci_high, se)`.
///
/// `phat` is the estimated distribution function at the estimate, `sum_D w 1(x <= qhat) / W`,
/// and `var_phat` its design variance (the caller computes both). `[pL, pU]` is the interval
/// for `phat` by [`proportion_ci`] with the method of the same name (`Mean` = `p ± t sqrt(V)`;
/// `Beta` uses `n_rows` and `design_df`, R's `nrow(design)` and `degf(design)`). Then
/// `ci = [rule(pL), rule(pU)]` on the same `x`, `w` (NaN for a limit when pL < 0 or NaN,
/// pU > 1 or NaN) and `se = (ci_high - ci_low) / (2 t)`, t = [`quantile_t`]`(df, level)`.
/// The interval is centred on phat, not on the quantile's p (R does the same).
///
/// ```
/// use tasa::estimate::quantile::{woodruff, QRule, WoodruffType};
/// let x: Vec<f64> = (1..=100).map(f64::from).collect();
/// let w = vec![1.0; 100];
/// // phat = 0.5 at the median 50, V = 0.5 * 0.5 / 99: [pL, pU] = 0.5 -+ qt(0.975, 99) sqrt(V)
/// // = [0.4003, 0.5997], whose math quantiles are 41 and 60.
/// let (lo, hi, se) = woodruff(&x, &w, QRule::Math, 0.5, 0.25 / 99.0, WoodruffType::Mean,
///                             Some(99.0), 0.95, 100, 99.0);
/// assert_eq!((lo, hi), (41.0, 60.0));
/// assert!((se - 19.0 / (2.0 * 1.9842169515864172)).abs() < 1e-12);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn woodruff(
    x: &[f64],
    w: &[f64],
    rule: QRule,
    phat: f64,
    var_phat: f64,
    interval: WoodruffType,
    df: Option<f64>,
    level: f64,
    n_rows: usize,
    design_df: f64,
) -> (f64, f64, f64) {
    let method = match interval {
        WoodruffType::Mean => ProportionCi::Mean,
        WoodruffType::Beta => ProportionCi::Beta,
        WoodruffType::Xlogit => ProportionCi::Xlogit,
        WoodruffType::Asin => ProportionCi::Asin,
    };
    let input = ProportionInput {
        p: phat,
        variance: var_phat,
        df,
        level,
        n_rows,
        design_df,
        w_sum: f64::NAN,
        m: 0,
    };
    let (pl, pu) = proportion_ci(method, &input);
    let sample = Sample::new(x, w);
    let low = if pl.is_nan() || pl < 0.0 {
        f64::NAN
    } else {
        sample.quantile(pl, rule)
    };
    let high = if pu.is_nan() || pu > 1.0 {
        f64::NAN
    } else {
        sample.quantile(pu, rule)
    };
    let se = (high - low) / (2.0 * quantile_t(df, level));
    (low, high, se)
}

/// The Francisco–Fuller (test-inversion) interval for a quantile, as R survey 4.1's
/// `ffullerCI` (`svyquantile` with `interval.type = "score"`): `(ci_low, ci_high, se)`.
///
/// `x`, `w` are the domain's rows with a value (all of them, zero weights included: R's
/// `x`); `se_of_mean(u)` returns the design SE of the weighted mean of the per-row values `u`
/// (aligned with `x`). With U(θ) = 1(x > θ) − (1 − p), the roots of
/// z(θ) = mean_U(θ) / SE(mean_U(θ)) = ±t, t = [`quantile_t`]`(df, level)`, are found by R's
/// `uniroot` (Brent's method, [`zeroin`]) on [min x + IQR/100, max x − IQR/100] (IQR of type
/// 7) with `tol = 1/(100 sqrt(n))`, n = `x.len()`. z is a step function, so each root lands
/// within tol of a jump and its side is decided by the iterates: they are reproduced step by
/// step. Each root r becomes `rule(x, w, mean(x <= r))` — the **unweighted** share of rows
/// at or below r, as R. `se = (ci_high - ci_low) / (2 t)`.
///
/// Where R stops with an error (no sign change of z − t on the interval, z undefined at an
/// end, or an empty search interval) that limit is NaN. R's `svyquantile` offers `score` on
/// linearisation designs only; with replicate weights `se_of_mean` may use the replicate
/// variance (tasa's extension).
///
/// ```
/// use tasa::estimate::quantile::{score_interval, QRule};
/// let x: Vec<f64> = (1..=100).map(f64::from).collect();
/// let w = vec![1.0; 100];
/// // SRS without fpc: SE of a mean = sqrt(sum (u - ubar)^2 / (n (n - 1))).
/// let se = |u: &[f64]| {
///     let m = u.iter().sum::<f64>() / 100.0;
///     (u.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (100.0 * 99.0)).sqrt()
/// };
/// let (lo, hi, _) = score_interval(&x, &w, 0.5, QRule::Math, Some(99.0), 0.95, se);
/// assert!(lo < 50.0 && hi > 50.0);
/// ```
pub fn score_interval(
    x: &[f64],
    w: &[f64],
    p: f64,
    rule: QRule,
    df: Option<f64>,
    level: f64,
    mut se_of_mean: impl FnMut(&[f64]) -> f64,
) -> (f64, f64, f64) {
    let t = quantile_t(df, level);
    let (low, high) = match score_roots(x, w, p, t, &mut se_of_mean) {
        Some((r_low, r_high)) => {
            let sample = Sample::new(x, w);
            let share = |r: f64| x.iter().filter(|&&xi| xi <= r).count() as f64 / x.len() as f64;
            let limit = |r: f64| {
                if r.is_nan() {
                    f64::NAN
                } else {
                    sample.quantile(share(r), rule)
                }
            };
            (limit(r_low), limit(r_high))
        }
        None => (f64::NAN, f64::NAN),
    };
    (low, high, (high - low) / (2.0 * t))
}

/// The two roots of [`score_interval`] (z = t, then z = −t), NaN for a root R cannot find;
/// `None` for no data.
fn score_roots(
    x: &[f64],
    w: &[f64],
    p: f64,
    t: f64,
    se_of_mean: &mut impl FnMut(&[f64]) -> f64,
) -> Option<(f64, f64)> {
    let n = x.len();
    if n == 0 || x.iter().any(|v| v.is_nan()) || p.is_nan() {
        return None;
    }
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let iqr = type7(&sorted, 0.75) - type7(&sorted, 0.25);
    let lower = sorted[0] + iqr / 100.0;
    let upper = sorted[n - 1] - iqr / 100.0;
    let tol = 1.0 / (100.0 * (n as f64).sqrt());
    let mut total = Sum::new();
    for &wi in w.iter().take(n) {
        total.add(wi);
    }
    let total = total.value();
    let mut u = vec![0.0; n];
    // The mean as R's svymean: sum of u w / W, term by term.
    let mut z = |theta: f64| {
        let mut s = Sum::new();
        for ((ui, &xi), &wi) in u.iter_mut().zip(x).zip(w) {
            *ui = f64::from(xi > theta) - (1.0 - p);
            s.add(*ui * wi / total);
        }
        s.value() / se_of_mean(&u)
    };
    let mut root =
        |limit: f64| uniroot(|theta| z(theta) - limit, lower, upper, tol, 1000).unwrap_or(f64::NAN);
    let r_low = root(t);
    let r_high = root(-t);
    Some((r_low, r_high))
}

/// R's `quantile(x, p, type = 7)` of sorted `x` (n >= 1).
fn type7(sorted: &[f64], p: f64) -> f64 {
    let index = 1.0 + (sorted.len() - 1) as f64 * p;
    let lo = index.floor();
    let (xl, xh) = (sorted[lo as usize - 1], sorted[index.ceil() as usize - 1]);
    if index > lo && xh != xl {
        let h = index - lo;
        (1.0 - h) * xl + h * xh
    } else {
        xl
    }
}

/// R's `uniroot(f, c(lower, upper), tol = tol, maxiter = maxit)`: `None` where R stops
/// (lower >= upper, f NaN at an end, no sign change), else the root of [`zeroin`] (also
/// when it did not converge: R then only warns).
fn uniroot(
    mut f: impl FnMut(f64) -> f64,
    lower: f64,
    upper: f64,
    tol: f64,
    maxit: u32,
) -> Option<f64> {
    // R: "lower < upper is not fulfilled" (also for NaN).
    if lower.partial_cmp(&upper) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let (fa, fb) = (f(lower), f(upper));
    // R's sign(): 0 at 0.
    let sign = |v: f64| if v == 0.0 { 0.0 } else { v.signum() };
    if fa.is_nan() || fb.is_nan() || sign(fa) * sign(fb) > 0.0 {
        return None;
    }
    Some(zeroin(lower, upper, fa, fb, f, tol, maxit))
}

/// R's C `R_zeroin2` (stats/src/zeroin.c): Brent's root finder, with f(ax) and f(bx)
/// given, step by step as R (the same iterates for the same f).
fn zeroin(
    ax: f64,
    bx: f64,
    fa: f64,
    fb: f64,
    mut f: impl FnMut(f64) -> f64,
    tol: f64,
    maxit: u32,
) -> f64 {
    let (mut a, mut b, mut fa, mut fb) = (ax, bx, fa, fb);
    let (mut c, mut fc) = (a, fa);
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    for _ in 0..=maxit {
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            // Swap so that b is the best approximation.
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * f64::EPSILON * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return b;
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            // Interpolation may be tried.
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                // Linear interpolation.
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                // Inverse quadratic interpolation.
                q = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < (0.75 * cb * q - (tol_act * q).abs() / 2.0) && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    b
}

#[cfg(test)]
// R's values are pasted as printed by sprintf("%.17g"), one digit more than f64 needs.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn rel(got: f64, want: f64) -> f64 {
        if got == want || (got.is_nan() && want.is_nan()) {
            0.0
        } else {
            ((got - want) / want).abs()
        }
    }

    fn numbers(t: &[&str]) -> Vec<f64> {
        t.iter()
            .map(|x| {
                if *x == "NaN" {
                    f64::NAN
                } else {
                    x.parse().expect("a number")
                }
            })
            .collect()
    }

    fn rule(name: &str) -> QRule {
        QRule::parse(name).expect("a rule")
    }

    /// survey:::qrule_<rule>(x, w, p) for every rule on three data sets (ties, a zero weight,
    /// unequal weights), 14 values of p including 0, 1 and exact cumulative-weight shares
    /// (testdata/qrules.txt).
    #[test]
    fn rules_match_r() {
        let text = include_str!("testdata/qrules.txt");
        let mut data: std::collections::HashMap<String, Vec<f64>> = Default::default();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let t: Vec<&str> = line.split_whitespace().collect();
            if t[0].starts_with('x') || t[0].starts_with('w') {
                data.insert(t[0].to_string(), numbers(&t[1..]));
                continue;
            }
            let (x, w) = (&data[&format!("x{}", t[0])], &data[&format!("w{}", t[0])]);
            let p: f64 = t[2].parse().expect("p");
            let want = numbers(&t[3..4])[0];
            let got = quantile(x, w, p, rule(t[1]));
            assert!(
                rel(got, want) < 1e-14,
                "set {} {} p {p}: {got} vs R {want}",
                t[0],
                t[1]
            );
            n += 1;
        }
        assert_eq!(n, 3 * 11 * 14);
    }

    #[test]
    fn r_quirks_at_the_ends() {
        // R: qrule_math(1:5, rep(1, 5), 0.1) is 2 (pos = 1 without a match, so x[2]);
        // qrule_hf4(1:5, rep(1, 5), 1) is NaN and at 0.1 extrapolates below x_1, to
        // 0.50000000000000011 (sprintf("%.17g")).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let w = [1.0; 5];
        assert_eq!(quantile(&x, &w, 0.1, QRule::Math), 2.0);
        assert_eq!(quantile(&x, &w, 0.2, QRule::Math), 1.0);
        assert!(quantile(&x, &w, 1.0, QRule::Hf4).is_nan());
        assert_eq!(quantile(&x, &w, 0.1, QRule::Hf4), 0.50000000000000011);
        // One value: R's interpolating rules stop; tasa returns the value.
        for r in ["math", "school", "hf3", "hf5", "hf6", "hf7", "hf8", "hf9"] {
            assert_eq!(quantile(&[7.0], &[2.0], 0.3, rule(r)), 7.0, "{r}");
        }
        // R: qrule_hf4(7, 2, 0.3) is NaN (0 * Inf).
        assert!(quantile(&[7.0], &[2.0], 0.3, QRule::Hf4).is_nan());
    }

    #[test]
    fn ignored_rows_order_and_empty_input() {
        let x = [5.0, 1.0, f64::NAN, 3.0, 9.0, 2.0];
        let w = [1.0, 2.0, 4.0, 0.0, 1.5, f64::INFINITY];
        // Left: (5, 1), (1, 2), (9, 1.5).
        let kept_x = [5.0, 1.0, 9.0];
        let kept_w = [1.0, 2.0, 1.5];
        let mut rev_x = kept_x;
        let mut rev_w = kept_w;
        rev_x.reverse();
        rev_w.reverse();
        for name in [
            "math", "school", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9",
        ] {
            for p in [0.1, 0.4, 0.5, 0.9] {
                let a = quantile(&x, &w, p, rule(name));
                assert_eq!(a, quantile(&kept_x, &kept_w, p, rule(name)), "{name} {p}");
                assert_eq!(
                    a,
                    quantile(&rev_x, &rev_w, p, rule(name)),
                    "{name} {p} reversed"
                );
            }
            assert!(quantile(&[], &[], 0.5, rule(name)).is_nan());
            assert!(quantile(&[1.0], &[0.0], 0.5, rule(name)).is_nan());
            assert!(quantile(&kept_x, &kept_w, f64::NAN, rule(name)).is_nan());
        }
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "math", "school", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9",
        ] {
            assert_eq!(QRule::parse(name).map(QRule::as_str), Some(name));
        }
        assert_eq!(QRule::parse("hf10"), None);
        assert_eq!(QRule::parse("shahvaish"), None);
    }

    /// The synthetic design's x, w and domain g (testdata/synth_design.txt).
    fn synthetic() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (mut x, mut w, mut g) = (vec![], vec![], vec![]);
        for line in include_str!("testdata/synth_design.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let v = numbers(&line.split_whitespace().collect::<Vec<_>>());
            x.push(v[0]);
            w.push(v[1]);
            g.push(v[2]);
        }
        (x, w, g)
    }

    /// svyquantile() with Woodruff intervals of every type and five rules on a stratified
    /// cluster design, and in a domain with df = Inf and alpha = 0.1 (testdata/woodruff.txt):
    /// the estimate, both limits and the SE.
    #[test]
    fn woodruff_matches_svyquantile() {
        let (x, w, g) = synthetic();
        let dom: Vec<usize> = (0..x.len()).filter(|&i| g[i] == 1.0).collect();
        let xd: Vec<f64> = dom.iter().map(|&i| x[i]).collect();
        let wd: Vec<f64> = dom.iter().map(|&i| w[i]).collect();
        let mut n = 0;
        for line in include_str!("testdata/woodruff.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let t: Vec<&str> = line.split_whitespace().collect();
            let v = numbers(&t[3..]);
            let (p, qhat, phat, var, lo, hi, se) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
            let kind = match t[2] {
                "mean" => WoodruffType::Mean,
                "beta" => WoodruffType::Beta,
                "xlogit" => WoodruffType::Xlogit,
                _ => WoodruffType::Asin,
            };
            let (xs, ws, df, level, rows) = if t[0] == "all" {
                (&x, &w, Some(22.0), 0.95, 155)
            } else {
                (&xd, &wd, None, 0.9, 52)
            };
            assert!(rel(quantile(xs, ws, p, rule(t[1])), qhat) < 1e-14, "{line}");
            let (glo, ghi, gse) =
                woodruff(xs, ws, rule(t[1]), phat, var, kind, df, level, rows, 22.0);
            let e = rel(glo, lo).max(rel(ghi, hi)).max(rel(gse, se));
            assert!(e < 1e-9, "{line}: got {glo} {ghi} {gse} (rel {e:.1e})");
            n += 1;
        }
        assert_eq!(n, 72);
    }

    /// api00 of apisrs (weight 30.97 for every row) and of apiclus1 (weight 33.84699630737305), in file
    /// order, with apiclus1's stype.
    const SRS_API00: &[f64] = &[
        462.0, 878.0, 734.0, 772.0, 739.0, 835.0, 456.0, 506.0, 543.0, 649.0, 556.0, 671.0, 528.0,
        742.0, 555.0, 631.0, 698.0, 810.0, 502.0, 532.0, 430.0, 658.0, 453.0, 635.0, 508.0, 804.0,
        813.0, 650.0, 569.0, 642.0, 500.0, 808.0, 594.0, 607.0, 760.0, 764.0, 622.0, 793.0, 802.0,
        529.0, 630.0, 742.0, 842.0, 903.0, 720.0, 634.0, 529.0, 540.0, 795.0, 485.0, 734.0, 665.0,
        541.0, 642.0, 758.0, 425.0, 878.0, 691.0, 558.0, 424.0, 641.0, 462.0, 749.0, 715.0, 498.0,
        744.0, 564.0, 448.0, 496.0, 744.0, 725.0, 762.0, 542.0, 693.0, 553.0, 704.0, 474.0, 720.0,
        665.0, 720.0, 827.0, 743.0, 485.0, 759.0, 752.0, 528.0, 670.0, 598.0, 675.0, 603.0, 512.0,
        728.0, 906.0, 588.0, 591.0, 796.0, 722.0, 579.0, 657.0, 474.0, 573.0, 348.0, 708.0, 699.0,
        738.0, 529.0, 757.0, 674.0, 741.0, 475.0, 533.0, 427.0, 536.0, 504.0, 771.0, 965.0, 559.0,
        590.0, 745.0, 790.0, 915.0, 734.0, 787.0, 579.0, 737.0, 719.0, 794.0, 596.0, 840.0, 952.0,
        794.0, 905.0, 660.0, 497.0, 666.0, 801.0, 765.0, 722.0, 893.0, 834.0, 447.0, 582.0, 410.0,
        728.0, 818.0, 905.0, 698.0, 644.0, 577.0, 677.0, 633.0, 479.0, 852.0, 509.0, 884.0, 813.0,
        813.0, 482.0, 804.0, 447.0, 630.0, 739.0, 658.0, 564.0, 894.0, 460.0, 787.0, 494.0, 772.0,
        537.0, 676.0, 868.0, 544.0, 740.0, 584.0, 548.0, 382.0, 706.0, 584.0, 754.0, 638.0, 883.0,
        660.0, 708.0, 607.0, 544.0, 607.0, 806.0, 708.0, 487.0, 682.0, 513.0, 644.0, 625.0, 720.0,
        547.0, 467.0, 612.0, 601.0, 595.0,
    ];
    const CLUS1_API00: &[f64] = &[
        608.0, 684.0, 612.0, 710.0, 729.0, 714.0, 759.0, 585.0, 625.0, 664.0, 669.0, 443.0, 467.0,
        482.0, 496.0, 411.0, 494.0, 493.0, 592.0, 550.0, 689.0, 598.0, 628.0, 652.0, 628.0, 832.0,
        777.0, 709.0, 709.0, 736.0, 561.0, 555.0, 696.0, 631.0, 564.0, 602.0, 529.0, 491.0, 510.0,
        547.0, 814.0, 806.0, 715.0, 785.0, 720.0, 905.0, 617.0, 630.0, 629.0, 696.0, 476.0, 757.0,
        825.0, 595.0, 552.0, 847.0, 714.0, 724.0, 687.0, 723.0, 662.0, 699.0, 807.0, 679.0, 691.0,
        622.0, 754.0, 655.0, 764.0, 795.0, 505.0, 638.0, 733.0, 523.0, 511.0, 710.0, 657.0, 602.0,
        490.0, 664.0, 651.0, 603.0, 698.0, 511.0, 814.0, 669.0, 711.0, 538.0, 705.0, 595.0, 551.0,
        762.0, 521.0, 709.0, 780.0, 780.0, 722.0, 828.0, 737.0, 595.0, 661.0, 502.0, 614.0, 585.0,
        582.0, 642.0, 536.0, 746.0, 667.0, 629.0, 745.0, 674.0, 637.0, 696.0, 632.0, 639.0, 745.0,
        789.0, 656.0, 789.0, 517.0, 478.0, 582.0, 592.0, 587.0, 553.0, 516.0, 535.0, 566.0, 481.0,
        472.0, 559.0, 610.0, 599.0, 551.0, 554.0, 561.0, 505.0, 492.0, 504.0, 487.0, 627.0, 465.0,
        529.0, 625.0, 436.0, 542.0, 515.0, 461.0, 528.0, 512.0, 508.0, 670.0, 760.0, 652.0, 546.0,
        717.0, 701.0, 748.0, 735.0, 699.0, 685.0, 827.0, 711.0, 677.0, 759.0, 697.0, 742.0, 691.0,
        700.0, 551.0, 703.0, 676.0, 714.0, 842.0, 824.0, 717.0, 836.0, 733.0, 719.0, 817.0, 749.0,
        781.0,
    ];
    const CLUS1_STYPE: &str = "HEEEEEEEEMMHEMEMEEMEMMEEEEEEEEEEHMEEHEEMEEEEMEMEEEEEEEEMHHHHEEEMEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEHHEMEEMEEEEEEEEEEEEMEHHHEEEEEEEEEEEEEEEEEEEEEEEEEMMMMEEEEEEEEMEEMEMEEEEEHEEEEEEMEMEE";

    /// (case, (x, w, rows), rule, interval type, df, p, R estimate, phat, V, R ci_low, R ci_high, R se)
    type RefCase<'a> = (
        &'a str,
        (&'a [f64], &'a [f64], usize),
        &'a str,
        &'a str,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
    );

    /// The quantile cases of ../shared/reference/cases.json on apisrs (SRS, no fpc) and apiclus1
    /// (one-stage cluster sample of 15 of 757 districts): R's estimate, interval and SE. phat
    /// and its variance were computed from the CSVs with exact rational arithmetic: SRS
    /// V = n/(n-1) sum z_i^2, cluster V = (1 - 15/757) 15/14 sum_j (t_j - tbar)^2, with
    /// z_i = w_i (1(x_i <= qhat) - phat) / W.
    #[test]
    fn woodruff_reference_cases() {
        let srs_w = vec![30.97; SRS_API00.len()];
        let clus1_w = vec![33.84699630737305; CLUS1_API00.len()];
        let srs = (SRS_API00, &srs_w[..], 200usize);
        let clus1 = (CLUS1_API00, &clus1_w[..], 183usize);
        #[rustfmt::skip]
        let cases: &[RefCase] = &[
            ("srs_quantile_api00", srs, "math", "mean", 199.0, 0.25, 544.0, 0.255, 0.0009546482412060302, 529.0, 579.0, 12.677764159091097),
            ("srs_quantile_api00", srs, "math", "mean", 199.0, 0.5, 658.0, 0.5, 0.001256281407035176, 633.0, 693.0, 15.213316990909318),
            ("srs_quantile_api00", srs, "math", "mean", 199.0, 0.75, 752.0, 0.75, 0.0009422110552763819, 738.0, 787.0, 12.424208875909276),
            ("srs_quantile_api00_hf7_mean", srs, "hf7", "mean", 199.0, 0.1, 481.7, 0.1, 0.0004522613065326633, 458.21855560023937, 500.49072219988034, 10.718331172881122),
            ("srs_quantile_api00_hf7_mean", srs, "hf7", "mean", 199.0, 0.5, 659.0, 0.5, 0.001256281407035176, 632.1821296668662, 695.0446758328344, 15.939130694642419),
            ("srs_quantile_api00_hf7_mean", srs, "hf7", "mean", 199.0, 0.9, 818.9000000000001, 0.9, 0.0004522613065326633, 803.5092778001197, 878.0, 18.887516161809092),
            ("clus1_quantile_api00", clus1, "math", "mean", 14.0, 0.25, 552.0, 0.25136612021857924, 0.006527837342328957, 492.0, 627.0, 31.471661205399485),
            ("clus1_quantile_api00", clus1, "math", "mean", 14.0, 0.5, 652.0, 0.5027322404371585, 0.01142482359247288, 561.0, 714.0, 35.66788269945275),
            ("clus1_quantile_api00", clus1, "math", "mean", 14.0, 0.75, 719.0, 0.7540983606557377, 0.0035547391558514055, 696.0, 777.0, 18.88299672323969),
            ("clus1_quantile_api00_school_mean", clus1, "school", "mean", 14.0, 0.1, 502.0, 0.10382513661202186, 0.0014998957710084268, 461.0, 529.0, 15.852392310867888),
            ("clus1_quantile_api00_school_mean", clus1, "school", "mean", 14.0, 0.5, 652.0, 0.5027322404371585, 0.01142482359247288, 561.0, 714.0, 35.66788269945275),
            ("clus1_quantile_api00_school_mean", clus1, "school", "mean", 14.0, 0.9, 781.0, 0.9016393442622951, 0.0013421965280538627, 745.0, 836.0, 21.214230886602614),
            ("clus1_quantile_api00_hf7_mean", clus1, "hf7", "mean", 14.0, 0.1, 502.4, 0.10382513661202186, 0.0014998957710084268, 464.11385616250266, 529.0833141169018, 15.14590199584663),
            ("clus1_quantile_api00_hf7_mean", clus1, "hf7", "mean", 14.0, 0.5, 652.0, 0.5027322404371585, 0.01142482359247288, 560.5476291728218, 714.2207209327148, 35.82479615002683),
            ("clus1_quantile_api00_hf7_mean", clus1, "hf7", "mean", 14.0, 0.9, 780.8, 0.8961748633879781, 0.0015728965642145209, 740.1129556419602, 834.340236579328, 21.966585644198794),
            ("clus1_quantile_api00_math_beta", clus1, "math", "beta", 14.0, 0.1, 502.0, 0.10382513661202186, 0.0014998957710084268, 472.0, 547.0, 17.484256225221937),
            ("clus1_quantile_api00_math_beta", clus1, "math", "beta", 14.0, 0.5, 652.0, 0.5027322404371585, 0.01142482359247288, 555.0, 717.0, 37.76599344647938),
            ("clus1_quantile_api00_math_beta", clus1, "math", "beta", 14.0, 0.9, 781.0, 0.9016393442622951, 0.0013421965280538627, 733.0, 827.0, 21.913601135611493),
        ];
        for &(id, (x, w, rows), rule_name, kind, df, p, estimate, phat, var, lo, hi, se) in cases {
            let r = rule(rule_name);
            assert!(rel(quantile(x, w, p, r), estimate) < 1e-12, "{id} p {p}");
            let kind = if kind == "beta" {
                WoodruffType::Beta
            } else {
                WoodruffType::Mean
            };
            let (glo, ghi, gse) = woodruff(x, w, r, phat, var, kind, Some(df), 0.95, rows, df);
            let e = rel(glo, lo).max(rel(ghi, hi)).max(rel(gse, se));
            assert!(
                e < 1e-9,
                "{id} p {p}: {glo} {ghi} {gse} vs R {lo} {hi} {se} ({e:.1e})"
            );
        }
        // clus1_dom_quantile_median_by_stype: medians of the stype domains (R: 652, 608, 642).
        for (stype, want) in [('E', 652.0), ('H', 608.0), ('M', 642.0)] {
            let xs: Vec<f64> = CLUS1_API00
                .iter()
                .zip(CLUS1_STYPE.chars())
                .filter(|(_, s)| *s == stype)
                .map(|(x, _)| *x)
                .collect();
            let ws = vec![33.84699630737305; xs.len()];
            assert_eq!(quantile(&xs, &ws, 0.5, QRule::Math), want, "{stype}");
        }
    }

    /// apiclus1's dnum (the PSUs of dclus1), in file order.
    const CLUS1_DNUM: &[u32] = &[
        637, 637, 637, 637, 637, 637, 637, 637, 637, 637, 637, 437, 437, 437, 437, 778, 778, 197,
        197, 197, 197, 197, 197, 197, 197, 197, 197, 197, 197, 197, 406, 406, 815, 815, 815, 815,
        178, 178, 178, 178, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 568, 568, 568, 568, 568, 568, 568, 568, 568, 135, 135, 135, 135, 135, 135, 135,
        135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135, 135,
        135, 135, 135, 135, 135, 135, 135, 135, 135, 510, 510, 510, 510, 510, 510, 510, 510, 510,
        510, 510, 510, 510, 510, 510, 510, 510, 510, 510, 510, 510, 716, 716, 716, 716, 716, 716,
        716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716,
        716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 716, 61, 61, 61, 61, 61, 61,
        61, 61, 61, 61, 61, 61, 61, 413, 448, 448, 448, 448, 448, 448, 448, 448, 448, 448, 448,
        448,
    ];

    /// The SE of a weighted mean of `u` under a one-stage design without strata: `psu` per row
    /// (None: each row its own PSU) and the sampling fraction of PSUs `f` (R's svymean:
    /// V = (1 - f) m/(m-1) sum_j (t_j - tbar)^2 over the m PSU totals of w (u - ubar) / W).
    fn se_one_stage(u: &[f64], w: &[f64], psu: Option<&[u32]>, f: f64) -> f64 {
        let total: f64 = w.iter().sum();
        let mean: f64 = u.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / total;
        let mut t: std::collections::BTreeMap<u32, f64> = Default::default();
        for (i, (a, b)) in u.iter().zip(w).enumerate() {
            let key = psu.map_or(i as u32, |p| p[i]);
            *t.entry(key).or_default() += b * (a - mean) / total;
        }
        let m = t.len() as f64;
        let tbar = t.values().sum::<f64>() / m;
        let ss: f64 = t.values().map(|v| (v - tbar).powi(2)).sum();
        ((1.0 - f) * m / (m - 1.0) * ss).sqrt()
    }

    /// (design, rule, p, level, df, [ci_low, ci_high, se, root_low, root_high])
    type ScoreCase<'a> = (&'a str, &'a str, f64, f64, Option<f64>, [f64; 5]);

    /// svyquantile(~api00, design, p, interval.type = "score", qrule, alpha, df) on
    /// dsrs = svydesign(id = ~1, weights = ~pw, data = apisrs) (df 199), dclus1 =
    /// svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc) (df 14) and
    /// subset(dclus1, stype == "E") (144 rows, df 14), printed with sprintf("%.17g"): the
    /// limits and SE, and the two roots of ffullerCI's uniroot() calls (re-run in R with the
    /// same arguments).
    #[test]
    fn score_interval_matches_svyquantile() {
        let srs_w = vec![30.97; SRS_API00.len()];
        let clus1_w = vec![33.84699630737305; CLUS1_API00.len()];
        let e_rows: Vec<usize> = (0..CLUS1_API00.len())
            .filter(|&i| CLUS1_STYPE.as_bytes()[i] == b'E')
            .collect();
        let e_x: Vec<f64> = e_rows.iter().map(|&i| CLUS1_API00[i]).collect();
        let e_w = vec![33.84699630737305; e_rows.len()];
        let e_dnum: Vec<u32> = e_rows.iter().map(|&i| CLUS1_DNUM[i]).collect();
        let f1 = 15.0 / 757.0;
        #[rustfmt::skip]
        let cases: &[ScoreCase] = &[
            // (design, rule, p, level, df, [ci_low, ci_high, se, root_low, root_high])
            ("srs", "math", 0.1, 0.95, Some(199.0), [460.0, 502.0, 10.649321893636522, 461.99950750624339, 502.00057486975766]),
            ("srs", "math", 0.25, 0.95, Some(199.0), [529.0, 577.0, 12.170653592727454, 528.99958873422656, 577.00027260948525]),
            ("srs", "math", 0.5, 0.95, Some(199.0), [631.0, 693.0, 15.720427557272961, 632.99973776465936, 693.0001497963533]),
            ("srs", "math", 0.75, 0.95, Some(199.0), [738.0, 772.0, 8.620879628181946, 737.99994857291438, 786.99997006656986]),
            ("srs", "math", 0.9, 0.95, Some(199.0), [801.0, 878.0, 19.523756805000293, 801.99968558367527, 868.00000272168791]),
            ("clus1", "math", 0.1, 0.95, Some(14.0), [478.0, 592.0, 26.576069462337344, 478.00051648618705, 594.99960250944264]),
            ("clus1", "math", 0.25, 0.95, Some(14.0), [512.0, 638.0, 29.373550458372851, 512.00034011399293, 638.99978610712242]),
            ("clus1", "math", 0.5, 0.95, Some(14.0), [564.0, 701.0, 31.93790803807207, 565.99987066191602, 702.99950601958244]),
            ("clus1", "math", 0.75, 0.95, Some(14.0), [662.0, 749.0, 20.281737221257444, 662.00003331358721, 753.99961054212076]),
            ("clus1", "math", 0.9, 0.95, Some(14.0), [729.0, 817.0, 20.514860637593738, 729.00037412415509, 817.00044831904995]),
            ("clus1", "hf7", 0.5, 0.95, Some(14.0), [565.42076502732243, 701.66666666666663, 31.76211005198239, 565.99987066191602, 702.99950601958244]),
            // alpha = 0.1, df = Inf
            ("clus1", "school", 0.3, 0.9, None, [532.0, 638.5, 32.373701299301722, 529.00038846779057, 638.00052890273082]),
            // alpha = 0.1
            ("srs", "hf7", 0.5, 0.9, Some(199.0), [634.56000000000006, 685.96000000000004, 15.551753715661404, 634.9999425926419, 682.00049839562382]),
            ("clus1E", "math", 0.5, 0.95, Some(14.0), [582.0, 705.0, 28.674180209363975, 582.00025955884325, 708.99942625054746]),
            ("clus1E", "math", 0.25, 0.95, Some(14.0), [516.0, 637.0, 28.20793337669139, 516.00042538631328, 637.9997982468293]),
        ];
        for &(design, rule_name, p, level, df, want) in cases {
            let (x, w, psu, f): (&[f64], &[f64], Option<&[u32]>, f64) = match design {
                "srs" => (SRS_API00, &srs_w, None, 0.0),
                "clus1" => (CLUS1_API00, &clus1_w, Some(CLUS1_DNUM), f1),
                _ => (&e_x, &e_w, Some(&e_dnum), f1),
            };
            let se = |u: &[f64]| se_one_stage(u, w, psu, f);
            let (lo, hi, s) = score_interval(x, w, p, rule(rule_name), df, level, se);
            let t = quantile_t(df, level);
            let mut se = |u: &[f64]| se_one_stage(u, w, psu, f);
            let (r_lo, r_hi) = score_roots(x, w, p, t, &mut se).expect("roots");
            let got = [lo, hi, s, r_lo, r_hi];
            for k in 0..5 {
                assert!(
                    rel(got[k], want[k]) < 1e-12,
                    "{design} {rule_name} p {p}: {got:?} vs R {want:?}"
                );
            }
        }
    }

    /// R's uniroot() on smooth functions: the root and the iterates (counted by calls).
    #[test]
    fn uniroot_follows_r() {
        // R: uniroot(function(x) x^3 - 2 * x - 5, c(2, 3), tol = 1e-9): root
        // 2.0945514815361843 (sprintf("%.17g")), 7 iterations: 9 calls of f (and one more for
        // f.root, which tasa does not need).
        let mut calls = 0;
        let r = uniroot(
            |x| {
                calls += 1;
                x * x * x - 2.0 * x - 5.0
            },
            2.0,
            3.0,
            1e-9,
            1000,
        );
        assert_eq!(r, Some(2.0945514815361843));
        assert_eq!(calls, 9);
        // R: uniroot(cos, c(0, 2)) (default tol .Machine$double.eps^0.25): 1.570783521943903.
        assert_eq!(
            uniroot(f64::cos, 0.0, 2.0, f64::EPSILON.powf(0.25), 1000),
            Some(1.570783521943903)
        );
        // No sign change, an empty interval, NaN at an end: R stops.
        assert_eq!(uniroot(|x| x * x + 1.0, -1.0, 1.0, 1e-6, 1000), None);
        assert_eq!(uniroot(|x| x, 1.0, 1.0, 1e-6, 1000), None);
        assert_eq!(uniroot(|x| x.ln(), -1.0, 2.0, 1e-6, 1000), None);
        // A root at an end is returned as it is.
        assert_eq!(uniroot(|x| x - 1.0, 1.0, 2.0, 1e-6, 1000), Some(1.0));
    }

    #[test]
    fn score_interval_without_data_or_with_a_constant() {
        let se = |_: &[f64]| 1.0;
        let (lo, hi, s) = score_interval(&[], &[], 0.5, QRule::Math, None, 0.95, se);
        assert!(lo.is_nan() && hi.is_nan() && s.is_nan());
        // All values equal: the search interval is empty (R: "lower < upper is not fulfilled").
        let (lo, hi, _) = score_interval(&[3.0; 5], &[1.0; 5], 0.5, QRule::Math, None, 0.95, se);
        assert!(lo.is_nan() && hi.is_nan());
    }
}
