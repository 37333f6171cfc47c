//! Confidence intervals: Wald intervals (R's `confint` on `svymean`, `svytotal`, ...) and the
//! interval methods of R survey's `svyciprop` for a proportion, plus tasa's design-based
//! Wilson interval.
//!
//! Everything here is a pure function of the estimate, its design variance and degrees of
//! freedom; the estimators compute those. `df: None` means normal quantiles (R's `df = Inf`).
//! A `level` outside (0, 1), NaN inputs or a negative variance give NaN limits, never a panic.
//!
//! Proportions at the edge (R survey 4.1-1 behaviour and what tasa does):
//!
//! | case | R | tasa |
//! |---|---|---|
//! | V = 0, 0 < p < 1 | `[p, p]` (mean, xlogit, asin, logit); beta `[0.5, 0.5]` (qbeta with two infinite shapes); likelihood: error | `[p, p]` for every method |
//! | p = 0 or 1 | mean `[p, p]` (V = 0); asin, beta, xlogit NaN; logit: IRLS artefact (7e-12); likelihood: error | mean/wald `p ± t sqrt(V)`; every other method NaN |
//! | NaN p or V, V < 0, level outside (0, 1), df <= 0 | NaN or error | NaN |

use super::distribution::{ln_ratio_minus, qbeta, qt_upper};

/// The two-sided critical value `qt(1 - (1 - level)/2, df)`; `qnorm(1 - (1 - level)/2)` when
/// `df` is `None` or infinite. This is the multiplier of R's `confint(..., df = df)` and of
/// `svyciprop`/`svyquantile`.
///
/// `df <= 0` or NaN, and `level` outside (0, 1), give NaN (R's `qt` returns NaN for df <= 0).
///
/// ```
/// use tasa::estimate::interval::quantile_t;
/// assert!((quantile_t(None, 0.95) - 1.959963984540054).abs() < 1e-14);
/// assert!((quantile_t(Some(14.0), 0.95) - 2.1447866879178039).abs() < 1e-13);
/// assert!(quantile_t(Some(0.0), 0.95).is_nan());
/// ```
pub fn quantile_t(df: Option<f64>, level: f64) -> f64 {
    if level.is_nan() || level <= 0.0 || level >= 1.0 {
        return f64::NAN;
    }
    // As R: p = 1 - alpha/2 and qt works with its complement 1 - p.
    let p = 1.0 - (1.0 - level) / 2.0;
    qt_upper(1.0 - p, df)
}

/// The Wald interval `estimate ± t se`, t = [`quantile_t`]`(df, level)`: R's `confint()` on
/// `svymean`, `svytotal`, `svyratio`, `svycontrast` (normal when `df` is `None`, R's default
/// for those) and `svyciprop(method = "mean")` (t with the design df).
///
/// ```
/// use tasa::estimate::interval::wald;
/// let (lo, hi) = wald(10.0, 2.0, None, 0.95);
/// assert!((lo - 6.080072030919892).abs() < 1e-12 && (hi - 13.919927969080108).abs() < 1e-12);
/// ```
pub fn wald(estimate: f64, se: f64, df: Option<f64>, level: f64) -> (f64, f64) {
    let t = quantile_t(df, level);
    if se.is_nan() || se < 0.0 {
        return (f64::NAN, f64::NAN);
    }
    // R: cf + se * qt(c(a, 1 - a), df); qt is symmetric.
    (estimate - se * t, estimate + se * t)
}

/// Two-sided p-value of the Wald statistic `t` on `df` degrees of freedom (`None`: normal).
pub fn p_two_sided(t: f64, df: Option<f64>) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
    if !t.is_finite() {
        return f64::NAN;
    }
    let upper = match df {
        None => Normal::new(0.0, 1.0).map_or(f64::NAN, |n| n.sf(t.abs())),
        Some(d) => StudentsT::new(0.0, 1.0, d).map_or(f64::NAN, |s| s.sf(t.abs())),
    };
    (2.0 * upper).min(1.0)
}

/// Interval methods for a single proportion (R survey's `svyciprop(method = ...)`, plus
/// Wilson).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProportionCi {
    /// R's default `"logit"`: on linearisation designs the same interval as `Xlogit` (R fits a
    /// quasi-binomial glm by IRLS, whose Wald interval on the logit scale has
    /// SE(b) = sqrt(V)/(p(1-p)); the exact value is computed here). Replicate designs use
    /// [`logit_ci_from_se`].
    Logit,
    /// `"xlogit"`: `expit(logit(p) ± t sqrt(V)/(p(1-p)))`.
    Xlogit,
    /// `"asin"`: `sin²(asin(sqrt(p)) ± t sqrt(V)/(2 sqrt(p(1-p))))`.
    Asin,
    /// `"beta"`: Korn–Graubard.
    Beta,
    /// Design-based Wilson score interval (not in R; tasa's definition).
    Wilson,
    /// `"likelihood"`: the exact roots of the rescaled profile likelihood (R interpolates).
    Likelihood,
    /// `"mean"`: `p ± t sqrt(V)`; may leave [0, 1].
    Mean,
    /// The same as `Mean`.
    Wald,
}

impl ProportionCi {
    /// The method named as in `--ci` (`logit`, `xlogit`, `asin`, `beta`, `wilson`,
    /// `likelihood`, `mean`, `wald`).
    pub fn parse(name: &str) -> Option<ProportionCi> {
        Some(match name {
            "logit" => ProportionCi::Logit,
            "xlogit" => ProportionCi::Xlogit,
            "asin" => ProportionCi::Asin,
            "beta" => ProportionCi::Beta,
            "wilson" => ProportionCi::Wilson,
            "likelihood" => ProportionCi::Likelihood,
            "mean" => ProportionCi::Mean,
            "wald" => ProportionCi::Wald,
            _ => return None,
        })
    }

    /// The `--ci` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProportionCi::Logit => "logit",
            ProportionCi::Xlogit => "xlogit",
            ProportionCi::Asin => "asin",
            ProportionCi::Beta => "beta",
            ProportionCi::Wilson => "wilson",
            ProportionCi::Likelihood => "likelihood",
            ProportionCi::Mean => "mean",
            ProportionCi::Wald => "wald",
        }
    }
}

/// What [`proportion_ci`] needs about one proportion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionInput {
    /// The estimate: the weighted proportion.
    pub p: f64,
    /// Its design variance V.
    pub variance: f64,
    /// Degrees of freedom of the t quantile; `None` = normal.
    pub df: Option<f64>,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// `beta` only: rows of the (domain) design, including rows missing the variable (R's
    /// `nrow(design)`).
    pub n_rows: usize,
    /// `beta` only: `degf` of the (domain) design; R ignores the `df` argument for `beta`.
    pub design_df: f64,
    /// `likelihood` only: W' = sum over the non-missing domain rows of w_i / mean(w), the mean
    /// taken over all rows of the (domain) design.
    pub w_sum: f64,
    /// `likelihood` only: the number of non-missing rows.
    pub m: usize,
}

/// The (1 - alpha) interval for a proportion, alpha = 1 - level, t = [`quantile_t`]`(df, level)`
/// (each formula as R survey 4.1-1's `svyciprop`, except Wilson):
///
/// - `Mean`, `Wald` (`method = "mean"`): `p ± t sqrt(V)`.
/// - `Logit`, `Xlogit` (`"logit"` on linearisation designs, `"xlogit"`):
///   `expit(logit(p) ± t sqrt(V) / (p(1-p)))`.
/// - `Asin` (`"asin"`): `sin²(asin(sqrt p) ± t sqrt(V) / (2 sqrt(p(1-p))))`; as in R the
///   limits are not clamped, so a limit past 0 or pi/2 on the angle scale folds back.
/// - `Beta` (`"beta"`, Korn–Graubard): `n_eff = p(1-p)/V (qt(alpha/2, n-1)/qt(alpha/2, degf))²`
///   with n = `n_rows` and degf = `design_df` (the `df` field is ignored, as R does);
///   `[qbeta(alpha/2, n_eff p, n_eff (1-p) + 1), qbeta(1 - alpha/2, n_eff p + 1, n_eff (1-p))]`.
/// - `Likelihood` (`"likelihood"`): the two roots q of
///   `2 (m-1) [p ln(p/q) + (1-p) ln((1-p)/(1-q))] = t² lambda`, `lambda = V W' / (p(1-p))`,
///   found by bisection to full double precision. R evaluates the profile on a grid and
///   interpolates with a spline (up to 5e-4 off); these are the exact roots.
/// - `Wilson` (tasa's definition; R has no Wilson interval): the score interval with the
///   effective sample size `n = p(1-p)/V` and z = t:
///   `(p + z²/(2n)) / (1 + z²/n) ± z / (1 + z²/n) sqrt(p(1-p)/n + z²/(4n²))`.
///
/// Edge cases (see the module table): V = 0 with 0 < p < 1 gives `(p, p)` for every method;
/// p = 0 or 1 gives NaN for every method except `Mean`/`Wald`; NaN inputs, V < 0, p outside
/// [0, 1] (except for `Mean`/`Wald`), df <= 0, fewer than 2 rows for `likelihood` give NaN.
///
/// ```
/// use tasa::estimate::interval::{proportion_ci, ProportionCi, ProportionInput};
/// // R: svyciprop(~I(sch.wide=="Yes"), dclus1, method="beta") (apiclus1, df 14, 183 rows)
/// let input = ProportionInput {
///     p: 0.8743169398907104, variance: 0.02035947724462743_f64.powi(2), df: Some(14.0),
///     level: 0.95, n_rows: 183, design_df: 14.0, w_sum: f64::NAN, m: 183,
/// };
/// let (lo, hi) = proportion_ci(ProportionCi::Beta, &input);
/// assert!((lo / 0.8237022108475011 - 1.0).abs() < 1e-9);
/// assert!((hi / 0.9147044921268653 - 1.0).abs() < 1e-9);
/// ```
pub fn proportion_ci(method: ProportionCi, input: &ProportionInput) -> (f64, f64) {
    const NAN2: (f64, f64) = (f64::NAN, f64::NAN);
    let p = input.p;
    let v = input.variance;
    let t = quantile_t(input.df, input.level);
    let level_ok = input.level > 0.0 && input.level < 1.0;
    if p.is_nan() || v.is_nan() || v < 0.0 || !level_ok {
        return NAN2;
    }
    if matches!(method, ProportionCi::Mean | ProportionCi::Wald) {
        return wald(p, v.sqrt(), input.df, input.level);
    }
    // `beta` ignores `df` (as R), the others need t.
    if !(p > 0.0 && p < 1.0) || (t.is_nan() && method != ProportionCi::Beta) {
        return NAN2;
    }
    if v == 0.0 {
        // Every interval degenerates to the estimate (R: beta gives [0.5, 0.5] here, an
        // artefact of qbeta with two infinite shapes; likelihood stops with an error).
        return (p, p);
    }
    let q = p * (1.0 - p);
    match method {
        ProportionCi::Mean | ProportionCi::Wald => wald(p, v.sqrt(), input.df, input.level),
        ProportionCi::Logit | ProportionCi::Xlogit => {
            logit_ci_from_se(p, v.sqrt() / q, input.df, input.level)
        }
        ProportionCi::Asin => {
            let centre = p.sqrt().asin();
            let half = t * v.sqrt() / (2.0 * q.sqrt());
            let lo = (centre - half).sin();
            let hi = (centre + half).sin();
            (lo * lo, hi * hi)
        }
        ProportionCi::Beta => korn_graubard(p, v, input.level, input.n_rows, input.design_df),
        ProportionCi::Wilson => {
            let n = q / v;
            let z2n = t * t / n;
            let centre = (p + z2n / 2.0) / (1.0 + z2n);
            let half = t / (1.0 + z2n) * (v + z2n / (4.0 * n)).sqrt();
            (centre - half, centre + half)
        }
        ProportionCi::Likelihood => {
            if input.m < 2 || input.w_sum.is_nan() || input.w_sum <= 0.0 {
                return NAN2;
            }
            let lambda = v * input.w_sum / q;
            let target = t * t * lambda / (2.0 * (input.m as f64 - 1.0));
            likelihood_roots(p, target)
        }
    }
}

/// `expit(logit(p) ± t se_logit)`: the logit-scale Wald interval. R's `svyciprop(method =
/// "logit")` on replicate designs, where `se_logit` is the replicate standard error of the
/// replicate logits `logit(p_r)` (the caller computes it); with `se_logit = sqrt(V)/(p(1-p))`
/// it is the linearisation `logit`/`xlogit` interval. NaN when p is not in (0, 1) or
/// `se_logit` is NaN or negative.
///
/// ```
/// use tasa::estimate::interval::logit_ci_from_se;
/// // R: svyciprop(~I(sch.wide=="Yes"), jk1 design of apiclus1, method="logit")
/// let p = 0.8743169398907104;
/// // 0.18635312503024093: the JK1 standard error of the 15 replicate logits.
/// let (lo, hi) = logit_ci_from_se(p, 0.18635312503024093, Some(14.0), 0.95);
/// assert!((lo / 0.823463548270105 - 1.0).abs() < 1e-7 && (hi / 0.9120853645120579 - 1.0).abs() < 1e-7);
/// ```
pub fn logit_ci_from_se(p: f64, se_logit: f64, df: Option<f64>, level: f64) -> (f64, f64) {
    let t = quantile_t(df, level);
    if !(p > 0.0 && p < 1.0) || se_logit.is_nan() || se_logit < 0.0 || t.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let eta = (p / (1.0 - p)).ln();
    (expit(eta - t * se_logit), expit(eta + t * se_logit))
}

/// exp(eta) / (1 + exp(eta)), without overflow.
fn expit(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// Korn–Graubard interval, as `svyciprop(method = "beta")`.
fn korn_graubard(p: f64, v: f64, level: f64, n_rows: usize, design_df: f64) -> (f64, f64) {
    let alpha = 1.0 - level;
    // qt(alpha/2, n - 1) / qt(alpha/2, degf): both negative; the ratio of the upper-tail
    // quantiles is the same.
    let ratio =
        qt_upper(alpha / 2.0, Some(n_rows as f64 - 1.0)) / qt_upper(alpha / 2.0, Some(design_df));
    let n_eff = p * (1.0 - p) / v * ratio * ratio;
    if n_eff.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    (
        qbeta(alpha / 2.0, n_eff * p, n_eff * (1.0 - p) + 1.0),
        qbeta(1.0 - alpha / 2.0, n_eff * p + 1.0, n_eff * (1.0 - p)),
    )
}

/// The roots of `KL(p, q) = target` on (0, p) and (p, 1), with
/// `KL(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q))`, by bisection to the last representable
/// midpoint.
fn likelihood_roots(p: f64, target: f64) -> (f64, f64) {
    if target.is_nan() || target < 0.0 {
        return (f64::NAN, f64::NAN);
    }
    // KL(p, q) = -[p (ln(q/p) - u) + (1-p) (ln((1-q)/(1-p)) - v)], u = (q-p)/p,
    // v = (p-q)/(1-p), since p u + (1-p) v = 0.
    let f = |q: f64| -> f64 {
        let kl = -(p * ln_ratio_minus(q, p, q - p)
            + (1.0 - p) * ln_ratio_minus(1.0 - q, 1.0 - p, p - q));
        kl - target
    };
    // f(p) = -target <= 0; f -> +inf at 0 and 1.
    let lower = bisect(f, 0.0, p, true);
    let upper = bisect(f, p, 1.0, false);
    (lower, upper)
}

/// Bisection for a sign change of `f` on (lo, hi): `f(lo+) > 0 >= f(hi)` when `decreasing`,
/// else `f(lo) <= 0 < f(hi-)`. Runs until no double lies strictly between the ends.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, decreasing: bool) -> f64 {
    for _ in 0..2200 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        let fm = f(mid);
        if fm.is_nan() {
            return f64::NAN;
        }
        // "positive side" = the side towards the end where f -> +inf.
        let on_positive_side = fm > 0.0;
        if on_positive_side == decreasing {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo + (hi - lo) / 2.0
}

#[cfg(test)]
// R's values are pasted as printed by sprintf("%.17g"), one digit more than f64 needs.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn rel(got: f64, want: f64) -> f64 {
        if got == want {
            0.0
        } else {
            ((got - want) / want).abs()
        }
    }

    fn input(p: f64, se: f64, df: Option<f64>, n_rows: usize, design_df: f64) -> ProportionInput {
        ProportionInput {
            p,
            variance: se * se,
            df,
            level: 0.95,
            n_rows,
            design_df,
            w_sum: f64::NAN,
            m: n_rows,
        }
    }

    fn assert_ci(got: (f64, f64), want: (f64, f64), tol: f64, what: &str) {
        let e = rel(got.0, want.0).max(rel(got.1, want.1));
        assert!(e < tol, "{what}: {got:?} vs R {want:?} (rel {e:.1e})");
    }

    #[test]
    fn critical_values_and_wald() {
        // R: qt(0.975, 14), qt(0.95, 199), qnorm(0.995)
        assert!(rel(quantile_t(Some(14.0), 0.95), 2.1447866879178039) < 1e-13);
        assert!(rel(quantile_t(Some(199.0), 0.9), 1.6525467461665617) < 1e-13);
        assert!(rel(quantile_t(None, 0.99), 2.5758293035488999) < 1e-14);
        for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            assert!(quantile_t(None, bad).is_nan());
        }
        assert!(quantile_t(Some(0.0), 0.95).is_nan());
        assert!(quantile_t(Some(-1.0), 0.95).is_nan());
        let (lo, hi) = wald(0.5, 0.1, Some(14.0), 0.95);
        assert!(
            rel(lo, 0.5 - 0.21447866879178039) < 1e-14
                && rel(hi, 0.5 + 0.21447866879178039) < 1e-14
        );
        assert!(wald(1.0, f64::NAN, None, 0.95).0.is_nan());
        assert!(wald(1.0, -1.0, None, 0.95).1.is_nan());
    }

    /// svyciprop() on a synthetic stratified cluster design (testdata/svyciprop.txt): three
    /// proportions (0.28, 0.037, 0.93), levels 0.95 and 0.90, design df and df = Inf, and two
    /// domains; every method R has.
    #[test]
    fn svyciprop_on_a_synthetic_design() {
        let mut n = 0;
        for line in include_str!("testdata/svyciprop.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let t: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| t[i].parse::<f64>().expect("a number");
            let method = ProportionCi::parse(t[0]).expect("a method");
            let input = ProportionInput {
                p: num(1),
                variance: num(2),
                df: if t[3] == "inf" { None } else { Some(num(3)) },
                level: num(4),
                n_rows: t[5].parse().expect("rows"),
                design_df: num(6),
                w_sum: f64::NAN,
                m: 0,
            };
            // R's logit comes from an IRLS fit (README section 5: within 5e-10).
            let tol = if method == ProportionCi::Logit {
                1e-8
            } else {
                1e-9
            };
            assert_ci(proportion_ci(method, &input), (num(7), num(8)), tol, line);
            n += 1;
        }
        assert_eq!(n, 66);
    }

    /// (case, method, p, se, df, nrow(design), degf(design), R ci_low, R ci_high)
    type Case = (
        &'static str,
        ProportionCi,
        f64,
        f64,
        f64,
        usize,
        f64,
        f64,
        f64,
    );

    /// The svyciprop cases of ../shared/reference/cases.json (estimate, se, df, R's interval).
    #[test]
    fn reference_cases() {
        // (case, method, p, se, df, nrow(design), degf(design), R ci_low, R ci_high)
        let cases: &[Case] = &[
            (
                "srs_ciprop_schwide_logit",
                ProportionCi::Logit,
                0.8149999999999986,
                0.027525684670556567,
                199.0,
                200,
                199.0,
                0.7545131410614334,
                0.8632836883412476,
            ),
            (
                "srs_ciprop_schwide_asin",
                ProportionCi::Asin,
                0.8150000000000001,
                0.027525684670556567,
                199.0,
                200,
                199.0,
                0.7578244879888233,
                0.8660301872534788,
            ),
            (
                "srs_ciprop_schwide_beta",
                ProportionCi::Beta,
                0.8150000000000001,
                0.027525684670556567,
                199.0,
                200,
                199.0,
                0.7539663055110069,
                0.866392410671726,
            ),
            (
                "srs_ciprop_schwide_mean",
                ProportionCi::Mean,
                0.8150000000000001,
                0.027525684670556567,
                199.0,
                200,
                199.0,
                0.7607205459788859,
                0.8692794540211142,
            ),
            (
                "srs_ciprop_schwide_xlogit",
                ProportionCi::Xlogit,
                0.8150000000000001,
                0.027525684670556567,
                199.0,
                200,
                199.0,
                0.7545131410614346,
                0.8632836883412489,
            ),
            (
                "clus1_ciprop_schwide_logit",
                ProportionCi::Logit,
                0.8743169398907104,
                0.02035947724462743,
                14.0,
                183,
                14.0,
                0.8237988923790337,
                0.9119000770212227,
            ),
            (
                "clus1_ciprop_schwide_asin",
                ProportionCi::Asin,
                0.8743169398907104,
                0.02035947724462743,
                14.0,
                183,
                14.0,
                0.8275334533210862,
                0.9146145718489066,
            ),
            (
                "clus1_ciprop_schwide_beta",
                ProportionCi::Beta,
                0.8743169398907104,
                0.02035947724462743,
                14.0,
                183,
                14.0,
                0.8237022108475011,
                0.9147044921268653,
            ),
            (
                "clus1_ciprop_schwide_mean",
                ProportionCi::Mean,
                0.8743169398907104,
                0.02035947724462743,
                14.0,
                183,
                14.0,
                0.830650204123468,
                0.9179836756579527,
            ),
            (
                "strat_ciprop_schwide_logit",
                ProportionCi::Logit,
                0.8279480114158234,
                0.024344780113074775,
                197.0,
                200,
                197.0,
                0.7745396543515681,
                0.8708148545445087,
            ),
            (
                "strat_ciprop_schwide_beta",
                ProportionCi::Beta,
                0.8279480114158234,
                0.024344780113074775,
                197.0,
                200,
                197.0,
                0.7741713285973125,
                0.8734315926207352,
            ),
            // svyby(..., svyciprop): each domain's own df; beta uses the domain's rows.
            (
                "clus1_dom_ciprop_schwide_logit_by_stype E",
                ProportionCi::Logit,
                0.9166666666666609,
                0.020984278952490824,
                14.0,
                144,
                14.0,
                0.8592065370564007,
                0.9519868014721203,
            ),
            (
                "clus1_dom_ciprop_schwide_logit_by_stype H",
                ProportionCi::Logit,
                0.7857142857141421,
                0.09146190998884929,
                7.0,
                14,
                7.0,
                0.5036879678656367,
                0.9298125723646261,
            ),
            (
                "clus1_dom_ciprop_schwide_logit_by_stype M",
                ProportionCi::Logit,
                0.6799999999999015,
                0.10950224839804529,
                11.0,
                25,
                11.0,
                0.4124554446972525,
                0.8654562616511196,
            ),
            (
                "srs_dom_ciprop_schwide_xlogit_by_stype E",
                ProportionCi::Xlogit,
                0.8943661971830986,
                0.02585850621254193,
                141.0,
                142,
                141.0,
                0.8313237129880675,
                0.9356699492717556,
            ),
            (
                "srs_dom_ciprop_schwide_xlogit_by_stype H",
                ProportionCi::Xlogit,
                0.48,
                0.10017070856428718,
                24.0,
                25,
                24.0,
                0.28734031973581653,
                0.6787975442567822,
            ),
            (
                "srs_dom_ciprop_schwide_xlogit_by_stype M",
                ProportionCi::Xlogit,
                0.7272727272727273,
                0.07772208191562495,
                32.0,
                33,
                32.0,
                0.5455382837115733,
                0.8555732433567065,
            ),
            (
                "strat_dom_ciprop_schwide_beta_by_stype E",
                ProportionCi::Beta,
                0.91,
                0.028435196206367308,
                99.0,
                100,
                99.0,
                0.8366077769546583,
                0.9577672661665267,
            ),
            (
                "strat_dom_ciprop_schwide_beta_by_stype H",
                ProportionCi::Beta,
                0.52,
                0.06896763492281631,
                49.0,
                50,
                49.0,
                0.3777083020902392,
                0.6599553635845612,
            ),
            (
                "strat_dom_ciprop_schwide_beta_by_stype M",
                ProportionCi::Beta,
                0.7000000000000001,
                0.06383743034718317,
                49.0,
                50,
                49.0,
                0.5563352041200307,
                0.8197071788120337,
            ),
        ];
        for &(id, method, p, se, df, n_rows, design_df, lo, hi) in cases {
            let tol = if method == ProportionCi::Logit {
                1e-8
            } else {
                1e-9
            };
            assert_ci(
                proportion_ci(method, &input(p, se, Some(df), n_rows, design_df)),
                (lo, hi),
                tol,
                id,
            );
        }
        // clus1_ciprop_schwide_beta_90: level 0.90.
        let mut i90 = input(
            0.8743169398907104,
            0.02035947724462743,
            Some(14.0),
            183,
            14.0,
        );
        i90.level = 0.9;
        assert_ci(
            proportion_ci(ProportionCi::Beta, &i90),
            (0.8328982953008651, 0.9084123998583793),
            1e-9,
            "beta 90",
        );
    }

    /// The likelihood cases of cases.json against the exact roots (`ci_*_exact`); R's own
    /// spline-interpolated limits are within 3e-6.
    #[test]
    fn likelihood_exact_roots() {
        // apisrs and apiclus1 have equal weights, so W' = the number of rows = m.
        let cases: &[(&str, f64, f64, f64, usize, f64, f64)] = &[
            (
                "srs_ciprop_schwide_likelihood",
                0.8150000000000001,
                0.027525684670556567,
                199.0,
                200,
                0.756674854460772,
                0.8651299195830531,
            ),
            (
                "clus1_ciprop_schwide_likelihood",
                0.8743169398907104,
                0.02035947724462743,
                14.0,
                183,
                0.8262857202280218,
                0.9136942490528448,
            ),
        ];
        for &(id, p, se, df, m, lo, hi) in cases {
            let mut inp = input(p, se, Some(df), m, df);
            inp.w_sum = m as f64;
            inp.m = m;
            let got = proportion_ci(ProportionCi::Likelihood, &inp);
            assert_ci(got, (lo, hi), 1e-9, id);
        }
    }

    #[test]
    fn replicate_logit_interval() {
        // jk1_ciprop_schwide_logit: the JK1 standard error of the replicate logits of apiclus1_jk1
        // (scale 0.9148392778511668) is 0.18635312503024093; R refits a glm per replicate.
        let got = logit_ci_from_se(0.8743169398907104, 0.18635312503024093, Some(14.0), 0.95);
        assert_ci(
            got,
            (0.823463548270105, 0.9120853645120579),
            1e-7,
            "jk1 logit",
        );
        // With the linearisation SE on the logit scale it is the xlogit interval.
        let p = 0.8150000000000001;
        let se = 0.027525684670556567;
        let a = logit_ci_from_se(p, se / (p * (1.0 - p)), Some(199.0), 0.95);
        let b = proportion_ci(ProportionCi::Xlogit, &input(p, se, Some(199.0), 200, 199.0));
        assert_eq!(a, b);
        assert!(logit_ci_from_se(0.0, 0.1, None, 0.95).0.is_nan());
        assert!(logit_ci_from_se(0.5, f64::NAN, None, 0.95).1.is_nan());
    }

    #[test]
    fn wilson_is_the_score_interval_with_the_effective_sample_size() {
        // Design effect 1 with n = 100: V = p(1-p)/100 gives the textbook Wilson interval.
        let p = 0.2;
        let z = quantile_t(None, 0.95);
        let n = 100.0;
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        let got = proportion_ci(
            ProportionCi::Wilson,
            &input(p, (p * (1.0 - p) / n).sqrt(), None, 100, 99.0),
        );
        assert_ci(got, (centre - half, centre + half), 1e-14, "wilson");
        // R: prop.test(20, 100, correct = FALSE)$conf.int (Wilson's interval)
        assert_ci(
            got,
            (0.1333669333310325, 0.28882916559315885),
            1e-14,
            "prop.test",
        );
        // Inside (0, 1) even for a small p, where Wald is not.
        let small = input(0.01, 0.012, Some(20.0), 50, 20.0);
        let w = proportion_ci(ProportionCi::Wilson, &small);
        assert!(w.0 > 0.0 && w.1 < 1.0 && w.0 < 0.01 && w.1 > 0.01);
        assert!(proportion_ci(ProportionCi::Wald, &small).0 < 0.0);
    }

    #[test]
    fn edge_cases() {
        let all = [
            ProportionCi::Logit,
            ProportionCi::Xlogit,
            ProportionCi::Asin,
            ProportionCi::Beta,
            ProportionCi::Wilson,
            ProportionCi::Likelihood,
            ProportionCi::Mean,
            ProportionCi::Wald,
        ];
        for m in all {
            let mut zero_v = input(0.3, 0.0, Some(10.0), 50, 10.0);
            zero_v.w_sum = 50.0;
            // V = 0 inside (0, 1): the estimate itself.
            assert_eq!(proportion_ci(m, &zero_v), (0.3, 0.3), "{m:?}");
            for p in [0.0, 1.0] {
                let got = proportion_ci(m, &input(p, 0.0, Some(10.0), 50, 10.0));
                if matches!(m, ProportionCi::Mean | ProportionCi::Wald) {
                    // R: svyciprop(method = "mean") gives [p, p].
                    assert_eq!(got, (p, p));
                } else {
                    assert!(
                        got.0.is_nan() && got.1.is_nan(),
                        "{m:?} at p = {p}: {got:?}"
                    );
                }
            }
            for bad in [
                input(f64::NAN, 0.1, Some(10.0), 50, 10.0),
                input(0.3, f64::NAN, Some(10.0), 50, 10.0),
                ProportionInput {
                    variance: -1e-4,
                    ..input(0.3, 0.1, Some(10.0), 50, 10.0)
                },
                ProportionInput {
                    level: 1.2,
                    ..input(0.3, 0.1, Some(10.0), 50, 10.0)
                },
            ] {
                let got = proportion_ci(m, &bad);
                assert!(got.0.is_nan() && got.1.is_nan(), "{m:?} {bad:?}: {got:?}");
            }
        }
        // df <= 0: NaN (beta ignores df but its degf of 0 makes qt NaN too).
        assert!(
            proportion_ci(ProportionCi::Xlogit, &input(0.3, 0.1, Some(0.0), 50, 0.0))
                .0
                .is_nan()
        );
        assert!(
            proportion_ci(ProportionCi::Beta, &input(0.3, 0.1, Some(10.0), 50, 0.0))
                .0
                .is_nan()
        );
        assert!(
            proportion_ci(ProportionCi::Beta, &input(0.3, 0.1, Some(10.0), 1, 10.0))
                .0
                .is_nan()
        );
        // likelihood needs W' and two rows.
        let mut lik = input(0.3, 0.05, Some(10.0), 50, 10.0);
        assert!(proportion_ci(ProportionCi::Likelihood, &lik).0.is_nan());
        lik.w_sum = 50.0;
        lik.m = 1;
        assert!(proportion_ci(ProportionCi::Likelihood, &lik).0.is_nan());
        // R does not clamp asin: a limit past 0 on the angle scale folds back.
        // R: p <- .02; d <- 0.5 * p^-0.5 / sqrt(1 - sqrt(p)^2);
        //    sin(asin(sqrt(p)) + c(qt(.025, 10), qt(.975, 10)) * 0.05 * d)^2
        let wide = proportion_ci(ProportionCi::Asin, &input(0.02, 0.05, Some(10.0), 50, 10.0));
        assert_ci(
            wide,
            (0.064109390017504028, 0.264140921614903712),
            1e-12,
            "asin folds",
        );
        assert!(wide.0 > 0.02);
        // Wald may leave [0, 1].
        assert!(
            proportion_ci(ProportionCi::Mean, &input(0.02, 0.05, Some(10.0), 50, 10.0)).0 < 0.0
        );
    }

    #[test]
    fn likelihood_roots_solve_the_equation() {
        for &(p, v, m, w) in &[
            (0.3, 0.002_f64, 120usize, 120.0),
            (0.004, 1e-5, 2000, 1800.0),
            (0.97, 3e-4, 60, 75.5),
        ] {
            let mut inp = input(p, v.sqrt(), Some(30.0), m, 30.0);
            inp.m = m;
            inp.w_sum = w;
            let (lo, hi) = proportion_ci(ProportionCi::Likelihood, &inp);
            assert!(lo < p && p < hi && lo > 0.0 && hi < 1.0);
            let t = quantile_t(Some(30.0), 0.95);
            let target = t * t * v * w / (p * (1.0 - p));
            for q in [lo, hi] {
                let kl = p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln();
                let lhs = 2.0 * (m as f64 - 1.0) * kl;
                assert!(rel(lhs, target) < 1e-9, "p {p}: {lhs} vs {target}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "logit",
            "xlogit",
            "asin",
            "beta",
            "wilson",
            "likelihood",
            "mean",
            "wald",
        ] {
            assert_eq!(
                ProportionCi::parse(name).map(ProportionCi::as_str),
                Some(name)
            );
        }
        assert_eq!(ProportionCi::parse("score"), None);
    }
}
