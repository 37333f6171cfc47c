//! Estimates for one target in one domain: the estimate, its design-based variance
//! (linearisation scores or replicate weights), interval, design effect and reliability.
//!
//! Estimators (R's `svytotal`, `svymean`, `svyratio`, `svyquantile`), over the domain's rows
//! with a valid value, weights w:
//! - total `T = sum w y`, scores `w y`;
//! - mean and proportion `ybar = sum w y / W`, scores `w (y - ybar) / W`;
//! - ratio `R = sum w y / sum w x`, scores `w (y - R x) / sum w x`;
//! - quantile by the chosen rule, with a Woodruff interval from the variance of the estimated
//!   distribution function at the estimate, or the Francisco–Fuller score interval.

use super::estimand::{Stat, Target};
use super::interval::{self, ProportionCi, ProportionInput};
use super::quantile::{self, QRule, WoodruffType};
use super::reliability::{self, Flag, Rules};
use crate::design::Design;
use crate::numeric::Sum;
use crate::{Error, Result};

/// Interval methods of `--ci`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiMethod {
    Wald,
    Logit,
    Beta,
    Wilson,
    Likelihood,
    Asin,
    Xlogit,
    Mean,
    Score,
    Quantile,
}

/// Degrees of freedom of intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DfChoice {
    /// The design's (per domain), as R's `degf`.
    Design,
    /// Normal quantiles.
    Infinite,
    Fixed(f64),
}

impl DfChoice {
    pub fn parse(s: &str) -> Result<DfChoice> {
        match s {
            "design" => Ok(DfChoice::Design),
            "inf" | "Inf" | "infinite" => Ok(DfChoice::Infinite),
            other => match other.parse::<f64>() {
                Ok(x) if x > 0.0 => Ok(DfChoice::Fixed(x)),
                _ => Err(Error::Usage(format!(
                    "--df `{other}`: use design, inf or a positive number"
                ))),
            },
        }
    }
}

/// Settings shared by every estimate of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None`: logit for proportions, Wald otherwise.
    pub ci: Option<CiMethod>,
    pub level: f64,
    pub df: DfChoice,
    pub qrule: QRule,
    pub rules: Rules,
}

/// One result row (the tidy columns of `tasa estimate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub indicator: String,
    pub stat: Stat,
    pub variable: String,
    pub category: String,
    pub by: String,
    pub group: String,
    pub estimate: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub df: Option<f64>,
    pub cv: f64,
    pub deff: f64,
    pub n: usize,
    pub n_eff: f64,
    pub pop_size: f64,
    pub flag: Flag,
}

/// Sums over rows with given weights.
fn weighted(rows: &[u32], w: &[f64], f: impl Fn(usize) -> f64) -> f64 {
    let mut s = Sum::new();
    for &i in rows {
        s.add(w[i as usize] * f(i as usize));
    }
    s.value()
}

/// The point estimate with weights `w` over the valid rows (quantiles: the rule).
fn point(stat: Stat, rows: &[u32], w: &[f64], y: &[f64], x: Option<&[f64]>, qrule: QRule) -> f64 {
    match stat {
        Stat::Total => weighted(rows, w, |i| y[i]),
        Stat::Mean | Stat::Proportion => weighted(rows, w, |i| y[i]) / weighted(rows, w, |_| 1.0),
        Stat::Ratio => {
            let x = x.unwrap_or(y);
            weighted(rows, w, |i| y[i]) / weighted(rows, w, |i| x[i])
        }
        Stat::Quantile(p) => {
            let xs: Vec<f64> = rows.iter().map(|&i| y[i as usize]).collect();
            let ws: Vec<f64> = rows.iter().map(|&i| w[i as usize]).collect();
            quantile::quantile(&xs, &ws, p, qrule)
        }
    }
}

/// Linearisation scores of the estimate over the valid rows.
fn scores(stat: Stat, est: f64, rows: &[u32], w: &[f64], y: &[f64], x: Option<&[f64]>) -> Vec<f64> {
    match stat {
        Stat::Total => rows
            .iter()
            .map(|&i| w[i as usize] * y[i as usize])
            .collect(),
        Stat::Mean | Stat::Proportion => {
            let total_w = weighted(rows, w, |_| 1.0);
            rows.iter()
                .map(|&i| w[i as usize] * (y[i as usize] - est) / total_w)
                .collect()
        }
        Stat::Ratio => {
            let x = x.unwrap_or(y);
            let total_x = weighted(rows, w, |i| x[i]);
            rows.iter()
                .map(|&i| w[i as usize] * (y[i as usize] - est * x[i as usize]) / total_x)
                .collect()
        }
        Stat::Quantile(_) => Vec::new(),
    }
}

/// Variance of an estimator: by linearisation (from its scores) or from replicate estimates.
fn variance(
    design: &Design,
    rows: &[u32],
    est: f64,
    score: impl Fn() -> Vec<f64>,
    replicate: impl Fn(&[f64]) -> f64,
) -> Result<(f64, Option<Vec<f64>>)> {
    match &design.replicates {
        None => Ok((design.variance(rows, &score())?, None)),
        Some(r) => {
            let thetas: Vec<f64> = (0..r.count)
                .map(|k| replicate(r.column(k, design.n)))
                .collect();
            Ok((r.variance(est, &thetas), Some(thetas)))
        }
    }
}

/// The interval of a statistic: `--ci` when the statistic has that interval, else its default
/// (logit for proportions, Woodruff-Wald for quantiles, Wald otherwise), so one `--ci` can
/// serve a run that mixes proportions, means and quantiles.
pub fn interval_for(stat: Stat, ci: Option<CiMethod>) -> CiMethod {
    use CiMethod::*;
    match (stat, ci) {
        (
            Stat::Proportion,
            Some(m @ (Wald | Mean | Logit | Beta | Wilson | Likelihood | Asin | Xlogit)),
        ) => m,
        (Stat::Proportion, _) => Logit,
        (Stat::Quantile(_), Some(m @ (Wald | Mean | Beta | Xlogit | Asin | Score | Quantile))) => m,
        (Stat::Quantile(_), _) => Wald,
        _ => Wald,
    }
}

/// Degrees of freedom for the domain rows `rows` under the settings.
fn df_for(design: &Design, rows: &[u32], choice: DfChoice) -> Option<f64> {
    match choice {
        DfChoice::Infinite => None,
        DfChoice::Fixed(x) => Some(x),
        DfChoice::Design => Some(design.degf_rows(rows)),
    }
}

/// Estimates `target` in the domain whose rows are `domain_rows` (all of its rows, including
/// those without a valid value); `domain_df` is the design df of those rows
/// ([`Design::degf_rows`]), the same for every target of the domain.
pub fn estimate(
    design: &Design,
    target: &Target,
    by: &str,
    group: &str,
    domain_rows: &[u32],
    domain_df: f64,
    s: &Settings,
) -> Result<Estimate> {
    let y = &target.y;
    let x = target.x.as_deref();
    let valid: Vec<u32> = domain_rows
        .iter()
        .copied()
        .filter(|&i| target.is_valid(i as usize))
        .collect();
    let w = &design.weights;
    let n = valid.len();
    let mut out = Estimate {
        indicator: target.indicator.clone(),
        stat: target.stat,
        variable: target.variable.clone(),
        category: target.category.clone(),
        by: by.to_string(),
        group: group.to_string(),
        estimate: f64::NAN,
        se: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        df: None,
        cv: f64::NAN,
        deff: f64::NAN,
        n,
        n_eff: f64::NAN,
        pop_size: weighted(&valid, w, |_| 1.0),
        flag: Flag::Suppressed,
    };
    // Quantiles drop rows without a value before the df (as svyquantile); the others do not.
    let df = match (target.stat, s.df) {
        (Stat::Quantile(_), choice) => df_for(design, &valid, choice),
        (_, DfChoice::Design) => Some(domain_df),
        (_, choice) => df_for(design, domain_rows, choice),
    };
    out.df = df;
    if n == 0 {
        return Ok(out);
    }
    let est = point(target.stat, &valid, w, y, x, s.qrule);
    out.estimate = est;

    let method = interval_for(target.stat, s.ci);
    let design_df_domain = domain_df;

    match target.stat {
        Stat::Quantile(p) => {
            let xs: Vec<f64> = valid.iter().map(|&i| y[i as usize]).collect();
            let ws: Vec<f64> = valid.iter().map(|&i| w[i as usize]).collect();
            if method == CiMethod::Quantile {
                let Some(r) = &design.replicates else {
                    return Err(Error::Usage(
                        "--ci quantile needs a replicate-weight design".into(),
                    ));
                };
                let thetas: Vec<f64> = (0..r.count)
                    .map(|k| {
                        let wr = r.column(k, design.n);
                        let wsr: Vec<f64> = valid.iter().map(|&i| wr[i as usize]).collect();
                        quantile::quantile(&xs, &wsr, p, s.qrule)
                    })
                    .collect();
                let v = r.variance(est, &thetas);
                out.se = v.sqrt();
                let (lo, hi) = interval::wald(est, out.se, df, s.level);
                out.ci_low = lo;
                out.ci_high = hi;
            } else if method == CiMethod::Score {
                // Francisco-Fuller: the design SE of the weighted mean of per-row values u.
                let mut failure = None;
                let se_of_mean = |u: &[f64]| {
                    let mut full = vec![0.0; y.len()];
                    for (&i, &ui) in valid.iter().zip(u) {
                        full[i as usize] = ui;
                    }
                    let m = point(Stat::Mean, &valid, w, &full, None, s.qrule);
                    let v = variance(
                        design,
                        &valid,
                        m,
                        || scores(Stat::Mean, m, &valid, w, &full, None),
                        |wr| point(Stat::Mean, &valid, wr, &full, None, s.qrule),
                    );
                    v.map_or_else(
                        |e| {
                            failure.get_or_insert(e);
                            f64::NAN
                        },
                        |(v, _)| v.sqrt(),
                    )
                };
                let (lo, hi, se) =
                    quantile::score_interval(&xs, &ws, p, s.qrule, df, s.level, se_of_mean);
                if let Some(e) = failure {
                    return Err(e);
                }
                out.ci_low = lo;
                out.ci_high = hi;
                out.se = se;
            } else {
                let kind = match method {
                    CiMethod::Wald | CiMethod::Mean => WoodruffType::Mean,
                    CiMethod::Beta => WoodruffType::Beta,
                    CiMethod::Xlogit => WoodruffType::Xlogit,
                    CiMethod::Asin => WoodruffType::Asin,
                    other => {
                        return Err(Error::Usage(format!(
                        "--ci {} is not available for quantiles; use wald, beta, xlogit, asin or score{}",
                        format!("{other:?}").to_lowercase(),
                        if design.replicates.is_some() {
                            ", or quantile"
                        } else {
                            ""
                        }
                    )))
                    }
                };
                // The estimated distribution function at the estimate, and its variance.
                let below: Vec<f64> = y.iter().map(|&v| f64::from(v <= est)).collect();
                let phat = point(Stat::Mean, &valid, w, &below, None, s.qrule);
                let (v, _) = variance(
                    design,
                    &valid,
                    phat,
                    || scores(Stat::Mean, phat, &valid, w, &below, None),
                    |wr| point(Stat::Mean, &valid, wr, &below, None, s.qrule),
                )?;
                let (lo, hi, se) = quantile::woodruff(
                    &xs,
                    &ws,
                    s.qrule,
                    phat,
                    v,
                    kind,
                    df,
                    s.level,
                    domain_rows.len(),
                    design.degf_rows(&valid),
                );
                out.ci_low = lo;
                out.ci_high = hi;
                out.se = se;
            }
        }
        stat => {
            let (v, thetas) = variance(
                design,
                &valid,
                est,
                || scores(stat, est, &valid, w, y, x),
                |wr| point(stat, &valid, wr, y, x, s.qrule),
            )?;
            out.se = v.sqrt();
            let (lo, hi) = if stat == Stat::Proportion && method != CiMethod::Wald {
                if method == CiMethod::Logit && thetas.is_some() {
                    // Replicate designs: the variance of the replicate logits (as R's glm fit).
                    let thetas = thetas.unwrap_or_default();
                    let logit = |p: f64| (p / (1.0 - p)).ln();
                    let lt: Vec<f64> = thetas.iter().map(|&p| logit(p)).collect();
                    let vl = design
                        .replicates
                        .as_ref()
                        .map_or(f64::NAN, |r| r.variance(logit(est), &lt));
                    interval::logit_ci_from_se(est, vl.sqrt(), df, s.level)
                } else {
                    let m = proportion_method(method)?;
                    let mean_w = weighted(domain_rows, w, |_| 1.0) / domain_rows.len() as f64;
                    let input = ProportionInput {
                        p: est,
                        variance: v,
                        df,
                        level: s.level,
                        n_rows: domain_rows.len(),
                        design_df: design_df_domain,
                        w_sum: out.pop_size / mean_w,
                        m: n,
                    };
                    interval::proportion_ci(m, &input)
                }
            } else {
                interval::wald(est, out.se, df, s.level)
            };
            out.ci_low = lo;
            out.ci_high = hi;
            out.deff = design_effect(stat, est, v, &valid, w, y, x);
        }
    }
    out.cv = out.se / est.abs();
    out.n_eff = n as f64 / out.deff;

    // Reliability: proportions are judged by the Korn-Graubard interval (NCHS standards).
    let kg = if target.stat == Stat::Proportion {
        let input = ProportionInput {
            p: est,
            variance: out.se * out.se,
            df: Some(design_df_domain),
            level: 0.95,
            n_rows: domain_rows.len(),
            design_df: design_df_domain,
            w_sum: f64::NAN,
            m: n,
        };
        Some(interval::proportion_ci(ProportionCi::Beta, &input))
    } else {
        None
    };
    out.flag = reliability::flag(&s.rules, target.stat, &out, kg, design_df_domain);
    Ok(out)
}

fn proportion_method(m: CiMethod) -> Result<ProportionCi> {
    Ok(match m {
        CiMethod::Logit => ProportionCi::Logit,
        CiMethod::Beta => ProportionCi::Beta,
        CiMethod::Wilson => ProportionCi::Wilson,
        CiMethod::Likelihood => ProportionCi::Likelihood,
        CiMethod::Asin => ProportionCi::Asin,
        CiMethod::Xlogit => ProportionCi::Xlogit,
        CiMethod::Mean | CiMethod::Wald => ProportionCi::Mean,
        CiMethod::Score | CiMethod::Quantile => {
            return Err(Error::Usage(
                "--ci score and --ci quantile apply to quantiles only".into(),
            ))
        }
    })
}

/// Kish design effect against simple random sampling without replacement of the same size
/// (R's `deff = TRUE`): V / (s^2 (1 - n/N) / n) for means and proportions, scaled by N^2 for
/// totals; ratios use the linearised variable `(y - R x) / xbar`.
fn design_effect(
    stat: Stat,
    est: f64,
    v: f64,
    rows: &[u32],
    w: &[f64],
    y: &[f64],
    x: Option<&[f64]>,
) -> f64 {
    let nz: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&i| w[i as usize] != 0.0)
        .collect();
    let n = nz.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let total_w = weighted(&nz, w, |_| 1.0);
    let value = |i: usize| -> f64 {
        match (stat, x) {
            (Stat::Ratio, Some(x)) => y[i] - est * x[i],
            _ => y[i],
        }
    };
    let mean = weighted(&nz, w, value) / total_w;
    let s2 = n / (n - 1.0) * weighted(&nz, w, |i| (value(i) - mean).powi(2)) / total_w;
    let fpc = 1.0 - n / total_w;
    let v_srs = match stat {
        Stat::Total => s2 * total_w * total_w * fpc / n,
        Stat::Ratio => {
            let xbar = weighted(&nz, w, |i| x.map_or(1.0, |x| x[i])) / total_w;
            s2 * fpc / n / (xbar * xbar)
        }
        _ => s2 * fpc / n,
    };
    v / v_srs
}
