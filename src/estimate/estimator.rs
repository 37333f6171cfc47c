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

impl Estimate {
    /// The row of `target` in a domain before it is estimated: labels, `n`, population size
    /// and df; the numbers NaN, flagged suppressed.
    pub(crate) fn blank(
        target: &Target,
        by: &str,
        group: &str,
        n: usize,
        pop_size: f64,
        df: Option<f64>,
    ) -> Estimate {
        Estimate {
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
            df,
            cv: f64::NAN,
            deff: f64::NAN,
            n,
            n_eff: f64::NAN,
            pop_size,
            flag: Flag::Suppressed,
        }
    }
}

/// A total, mean, proportion or ratio over its valid rows with its variance, from three
/// passes over those rows (sums, then scores and the spread for the design effect, then the
/// design's variance of the scores), into reused buffers.
pub(crate) struct Linear {
    pub est: f64,
    pub variance: f64,
    /// Replicate estimates (replicate-weight designs).
    pub thetas: Option<Vec<f64>>,
    pub deff: f64,
}

/// Kish design effect against simple random sampling without replacement of the same size
/// (R's `deff = TRUE`): `V / (s² (1 - n/N) / n)` for means and proportions, scaled by N² for
/// totals; ratios use the linearised variable `(y - R x) / x̄`. `n` counts the rows with a
/// non-zero weight, `ss` is their weighted sum of squares about the mean of the (linearised)
/// variable, `total_w` their weight.
pub(crate) fn design_effect(
    stat: Stat,
    variance: f64,
    n: usize,
    total_w: f64,
    ss: f64,
    xbar: f64,
) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    let n = n as f64;
    let s2 = n / (n - 1.0) * ss / total_w;
    let fpc = 1.0 - n / total_w;
    let v_srs = match stat {
        Stat::Total => s2 * total_w * total_w * fpc / n,
        Stat::Ratio => s2 * fpc / n / (xbar * xbar),
        _ => s2 * fpc / n,
    };
    variance / v_srs
}

/// Buffers one thread reuses across estimates, so that an estimate allocates nothing.
#[derive(Default)]
struct Scratch {
    valid: Vec<u32>,
    scores: Vec<f64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Rows per block of the replicate pass: a block's slices of every replicate column stay in
/// cache while the replicates are summed.
const REPLICATE_BLOCK: usize = 256;

/// The estimates of `stat` under every replicate weight: block by block of rows, each
/// replicate's sums in plain arithmetic within the block and compensated across blocks.
pub(crate) fn replicate_points(
    stat: Stat,
    rows: &[u32],
    reps: &crate::design::Replicates,
    n: usize,
    y: &[f64],
    x: Option<&[f64]>,
) -> Vec<f64> {
    let k = reps.count;
    // Means about the first value, so that the sums keep their precision far from zero.
    let c = match stat {
        Stat::Mean | Stat::Proportion => rows.first().map_or(0.0, |&i| y[i as usize]),
        _ => 0.0,
    };
    let (mut num, mut den) = (vec![Sum::new(); k], vec![Sum::new(); k]);
    let (mut ys, mut xs) = (
        Vec::with_capacity(REPLICATE_BLOCK),
        Vec::with_capacity(REPLICATE_BLOCK),
    );
    for block in rows.chunks(REPLICATE_BLOCK) {
        ys.clear();
        xs.clear();
        for &i in block {
            let i = i as usize;
            ys.push(y[i] - c);
            xs.push(match (stat, x) {
                (Stat::Ratio, Some(x)) => x[i],
                (Stat::Ratio, None) => y[i],
                _ => 1.0,
            });
        }
        for r in 0..k {
            let col = reps.column(r, n);
            // Four accumulators, so that consecutive rows do not wait on each other.
            let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
            let mut quads = block
                .chunks_exact(4)
                .zip(ys.chunks_exact(4).zip(xs.chunks_exact(4)));
            for (i4, (y4, x4)) in &mut quads {
                for l in 0..4 {
                    let wi = col.at(i4[l] as usize);
                    a[l] += wi * y4[l];
                    b[l] += wi * x4[l];
                }
            }
            let tail = block.len() / 4 * 4;
            for ((&i, &yi), &xi) in block[tail..].iter().zip(&ys[tail..]).zip(&xs[tail..]) {
                let wi = col.at(i as usize);
                a[0] += wi * yi;
                b[0] += wi * xi;
            }
            let (a, b) = ((a[0] + a[1]) + (a[2] + a[3]), (b[0] + b[1]) + (b[2] + b[3]));
            num[r].add(a);
            den[r].add(b);
        }
    }
    num.iter()
        .zip(&den)
        .map(|(a, b)| match stat {
            Stat::Total => a.value(),
            _ => c + a.value() / b.value(),
        })
        .collect()
}

/// The estimate of `stat` over the valid `rows` (R's `svytotal`, `svymean`, `svyratio`), its
/// variance by linearisation or replicates, and its design effect ([`design_effect`]).
fn linear(
    design: &Design,
    stat: Stat,
    rows: &[u32],
    y: &[f64],
    x: Option<&[f64]>,
    scores: &mut Vec<f64>,
) -> Result<Linear> {
    let w = &design.weights;
    let ratio = stat == Stat::Ratio;
    let xv = x.unwrap_or(y);
    let (mut sw, mut swy, mut swx, mut n_nz) = (Sum::new(), Sum::new(), Sum::new(), 0usize);
    for &i in rows {
        let i = i as usize;
        let wi = w[i];
        sw.add(wi);
        swy.add(wi * y[i]);
        if ratio {
            swx.add(wi * xv[i]);
        }
        n_nz += usize::from(wi != 0.0);
    }
    let (total_w, total_y, total_x) = (sw.value(), swy.value(), swx.value());
    let est = match stat {
        Stat::Total => total_y,
        Stat::Ratio => total_y / total_x,
        _ => total_y / total_w,
    };
    // Scores (linearisation), and the weighted sum of squares about the mean of the
    // (linearised) variable for the design effect.
    let linearised = design.replicates.is_none();
    scores.clear();
    let centre = match stat {
        Stat::Ratio => (total_y - est * total_x) / total_w,
        _ => total_y / total_w,
    };
    let mut ss = Sum::new();
    for &i in rows {
        let i = i as usize;
        let wi = w[i];
        let v = if ratio { y[i] - est * xv[i] } else { y[i] };
        let d = v - centre;
        ss.add(wi * d * d);
        if linearised {
            scores.push(match stat {
                Stat::Total => wi * y[i],
                Stat::Ratio => wi * v / total_x,
                _ => wi * d / total_w,
            });
        }
    }
    let (variance, thetas) = match &design.replicates {
        None => (design.variance(rows, scores)?, None),
        Some(r) => {
            let thetas = replicate_points(stat, rows, r, design.n, y, x);
            (r.variance(est, &thetas), Some(thetas))
        }
    };
    let xbar = total_x / total_w;
    let deff = design_effect(stat, variance, n_nz, total_w, ss.value(), xbar);
    Ok(Linear {
        est,
        variance,
        thetas,
        deff,
    })
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
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { valid, scores } = &mut *scratch;
        estimate_with(
            design,
            target,
            by,
            group,
            domain_rows,
            domain_df,
            s,
            valid,
            scores,
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn estimate_with(
    design: &Design,
    target: &Target,
    by: &str,
    group: &str,
    domain_rows: &[u32],
    domain_df: f64,
    s: &Settings,
    valid: &mut Vec<u32>,
    scores: &mut Vec<f64>,
) -> Result<Estimate> {
    let y = &target.y;
    let x = target.x.as_deref();
    let w = &design.weights;
    // The valid rows, their weight and the domain's (all rows, for proportion intervals).
    valid.clear();
    let (mut valid_w, mut domain_w) = (Sum::new(), Sum::new());
    for &i in domain_rows {
        let wi = w[i as usize];
        domain_w.add(wi);
        if target.is_valid(i as usize) {
            valid.push(i);
            valid_w.add(wi);
        }
    }
    let valid: &[u32] = valid;
    let n = valid.len();
    let mut out = Estimate::blank(target, by, group, n, valid_w.value(), None);
    // Quantiles drop rows without a value before the df (as svyquantile); the others do not.
    let df = match (target.stat, s.df) {
        (Stat::Quantile(_), choice) => df_for(design, valid, choice),
        (_, DfChoice::Design) => Some(domain_df),
        (_, choice) => df_for(design, domain_rows, choice),
    };
    out.df = df;
    if n == 0 {
        return Ok(out);
    }
    let method = interval_for(target.stat, s.ci);
    match target.stat {
        Stat::Quantile(p) => {
            let xs: Vec<f64> = valid.iter().map(|&i| y[i as usize]).collect();
            let ws: Vec<f64> = valid.iter().map(|&i| w[i as usize]).collect();
            let est = quantile::quantile(&xs, &ws, p, s.qrule);
            out.estimate = est;
            if method == CiMethod::Quantile {
                let Some(r) = &design.replicates else {
                    return Err(Error::Usage(
                        "--ci quantile needs a replicate-weight design".into(),
                    ));
                };
                let thetas: Vec<f64> = (0..r.count)
                    .map(|k| {
                        let wr = r.column(k, design.n);
                        let wsr: Vec<f64> = valid.iter().map(|&i| wr.at(i as usize)).collect();
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
                let mut full = vec![0.0; y.len()];
                let mut se_of_mean = |u: &[f64]| {
                    for (&i, &ui) in valid.iter().zip(u) {
                        full[i as usize] = ui;
                    }
                    linear(design, Stat::Mean, valid, &full, None, scores).map_or_else(
                        |e| {
                            failure.get_or_insert(e);
                            f64::NAN
                        },
                        |l| l.variance.sqrt(),
                    )
                };
                let (lo, hi, se) =
                    quantile::score_interval(&xs, &ws, p, s.qrule, df, s.level, &mut se_of_mean);
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
                let l = linear(design, Stat::Mean, valid, &below, None, scores)?;
                let (lo, hi, se) = quantile::woodruff(
                    &xs,
                    &ws,
                    s.qrule,
                    l.est,
                    l.variance,
                    kind,
                    df,
                    s.level,
                    domain_rows.len(),
                    design.degf_rows(valid),
                );
                out.ci_low = lo;
                out.ci_high = hi;
                out.se = se;
            }
        }
        stat => {
            let l = linear(design, stat, valid, y, x, scores)?;
            return finish(
                design,
                target,
                out,
                l,
                domain_rows.len(),
                domain_w.value(),
                domain_df,
                s,
            );
        }
    }
    flag(target, out, domain_rows.len(), domain_df, s)
}

/// The estimate row of a total, mean, proportion or ratio from its [`Linear`] parts: `out`
/// holds the labels, n, df and population size; `n_rows` and `domain_w` are the domain's rows
/// and weight (valid or not), for the proportion intervals that need them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    design: &Design,
    target: &Target,
    mut out: Estimate,
    l: Linear,
    n_rows: usize,
    domain_w: f64,
    domain_df: f64,
    s: &Settings,
) -> Result<Estimate> {
    let Linear {
        est,
        variance: v,
        thetas,
        deff,
    } = l;
    let stat = target.stat;
    let method = interval_for(stat, s.ci);
    let df = out.df;
    out.estimate = est;
    out.se = v.sqrt();
    let (lo, hi) = if stat == Stat::Proportion && method != CiMethod::Wald {
        if let (CiMethod::Logit, Some(thetas), Some(r)) = (method, &thetas, &design.replicates) {
            // Replicate designs: the variance of the replicate logits (as R's glm fit).
            let logit = |p: f64| (p / (1.0 - p)).ln();
            let lt: Vec<f64> = thetas.iter().map(|&p| logit(p)).collect();
            let vl = r.variance(logit(est), &lt);
            interval::logit_ci_from_se(est, vl.sqrt(), df, s.level)
        } else {
            let m = proportion_method(method)?;
            let mean_w = domain_w / n_rows as f64;
            let input = ProportionInput {
                p: est,
                variance: v,
                df,
                level: s.level,
                n_rows,
                design_df: domain_df,
                w_sum: out.pop_size / mean_w,
                m: out.n,
            };
            interval::proportion_ci(m, &input)
        }
    } else {
        interval::wald(est, out.se, df, s.level)
    };
    out.ci_low = lo;
    out.ci_high = hi;
    out.deff = deff;
    flag(target, out, n_rows, domain_df, s)
}

/// The coefficient of variation, effective sample size and reliability flag of a finished
/// estimate: proportions are judged by the Korn-Graubard interval (NCHS standards).
fn flag(
    target: &Target,
    mut out: Estimate,
    n_rows: usize,
    domain_df: f64,
    s: &Settings,
) -> Result<Estimate> {
    let est = out.estimate;
    out.cv = out.se / est.abs();
    out.n_eff = out.n as f64 / out.deff;
    let kg = if target.stat == Stat::Proportion {
        let input = ProportionInput {
            p: est,
            variance: out.se * out.se,
            df: Some(domain_df),
            level: 0.95,
            n_rows,
            design_df: domain_df,
            w_sum: f64::NAN,
            m: out.n,
        };
        Some(interval::proportion_ci(ProportionCi::Beta, &input))
    } else {
        None
    };
    out.flag = reliability::flag(&s.rules, target.stat, &out, kg, domain_df);
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
