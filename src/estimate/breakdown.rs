//! Every domain of a breakdown from one pass over the rows with group codes: the estimates
//! of totals, means and proportions (R's `svyby(..., svytotal/svymean)`) for all domains of
//! one `--by` at once.
//!
//! Estimating domain by domain visits each domain's rows through its row list, so a
//! breakdown into 45 areas reads every column 45 times out of order. Here each row carries
//! the code of its domain and of its (domain, PSU) pair, made once per breakdown; an
//! estimate is then one pass in data order summing `w`, `w y` and `w y²` per pair, and every
//! domain's estimate, design effect and linearisation variance follow from those sums: a
//! PSU's total of the scores of a mean is `(Σ_u w y - ȳ Σ_u w) / W`, and a stratum's
//! variance `n/(n - 1) Σ_j f_j (t_j - t̄)²` runs over the PSUs the domain touches, the others
//! adding `f_j t̄²` each. The values are shifted by one value of the variable first, so the
//! sums of squares keep their precision.
//!
//! On replicate-weight designs the full-sample sums come from the same pass, and each
//! domain's replicate estimates from its valid rows; replicates made by `--replicates` are
//! PSU multipliers, and then from the domain's sums per PSU.
//!
//! On a design calibrated once by a GREG-type method (raking, linear, logit) whose variance
//! comes from the calibration's unit sums ([`crate::design::aggregate`], multistage designs
//! included), the same pass gives every domain's estimate and a second pass in data order
//! every domain's score; one call then gives all the domains' variances of the residuals
//! ([`Design::variances_of`]), instead of a gather of each domain's rows per estimate.
//!
//! It covers replicate designs, those calibrated designs, and single-stage variances (strata
//! and PSUs, with or without fpc) of uncalibrated designs, without `--lonely-psu average`;
//! other designs and statistics go domain by domain ([`super::estimator::estimate`]). Tests
//! hold the two paths equal.

use super::domain::Domain;
use super::estimand::{Stat, Target};
use super::estimator::{self, Estimate, Linear, Settings};
use crate::design::{Design, LonelyPsu};
use crate::numeric::Sum;
use crate::{Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;

/// No domain of the breakdown.
const NONE: u32 = u32::MAX;

/// Above this many (domain, PSU) slots the pairs are found by hashing instead.
const DENSE_PAIRS: usize = 1 << 22;

/// The group codes of one breakdown, made once and used by every target.
pub struct Plan {
    /// Pair of each row of the design (`NONE` outside the breakdown).
    row_pair: Vec<u32>,
    /// A calibrated design: one pair per domain, and the variances from the calibration's
    /// unit sums ([`Plan::calibrated_variances`]).
    calibrated: bool,
    /// Each domain's pairs: `start[d]..start[d + 1]`, ordered by stratum.
    start: Vec<usize>,
    /// PSU of each pair.
    pair_unit: Vec<u32>,
    /// Each domain's rows and weight, valid or not.
    rows: Vec<usize>,
    weight: Vec<f64>,
}

impl Plan {
    /// The plan of `domains` (disjoint) under `design`, or `None` when the design needs the
    /// domain-by-domain path.
    pub fn new(design: &Design, domains: &[Domain]) -> Option<Plan> {
        // Replicate designs need no PSUs (one pair per domain), unless their replicates are
        // PSU factors: then each domain's replicate estimates come from its pairs' sums.
        let replicated = design.replicates.is_some();
        let factored = design
            .replicates
            .as_ref()
            .is_some_and(|r| r.psu_factors().is_some());
        // A calibrated design whose variance comes from unit sums ([`crate::design::aggregate`])
        // takes every domain's variance from one pass too, with one pair per domain.
        let calibrated = !replicated
            && design
                .calibration
                .as_ref()
                .is_some_and(|c| c.single_greg().is_some() && c.aggregates(design).is_some());
        let one_unit = (replicated && !factored) || calibrated;
        if !replicated
            && !calibrated
            && (design.calibration.is_some()
                || design.multistage
                || design.lonely_psu == LonelyPsu::Average)
        {
            return None;
        }
        let st = &design.stages[0];
        let n_units = if one_unit { 1 } else { st.unit_parent.len() };
        let mut row_pair = vec![NONE; design.n];
        // Pairs in order of appearance: (stratum, unit, domain).
        let mut pairs: Vec<(u32, u32, u32)> = Vec::new();
        let dense = domains.len().saturating_mul(n_units) <= DENSE_PAIRS;
        let mut slot = if dense {
            vec![NONE; domains.len() * n_units]
        } else {
            Vec::new()
        };
        let mut hashed: HashMap<(u32, u32), u32> = HashMap::new();
        let mut weight = Vec::with_capacity(domains.len());
        for (d, domain) in domains.iter().enumerate() {
            let mut w = Sum::new();
            for &i in &domain.rows {
                let i = i as usize;
                w.add(design.weights[i]);
                let u = if one_unit { 0 } else { st.row_unit[i] };
                let next = pairs.len() as u32;
                let p = if dense {
                    let s = &mut slot[d * n_units + u as usize];
                    if *s == NONE {
                        *s = next;
                    }
                    *s
                } else {
                    *hashed.entry((d as u32, u)).or_insert(next)
                };
                if p == next {
                    let h = if one_unit {
                        0
                    } else {
                        st.unit_parent[u as usize]
                    };
                    pairs.push((h, u, d as u32));
                }
                row_pair[i] = p;
            }
            weight.push(w.value());
        }
        // Renumber the pairs by domain, then stratum and PSU.
        let mut order: Vec<u32> = (0..pairs.len() as u32).collect();
        order.sort_unstable_by_key(|&p| {
            let (h, u, d) = pairs[p as usize];
            (d, h, u)
        });
        let mut renumber = vec![0u32; pairs.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        for p in row_pair.iter_mut().filter(|p| **p != NONE) {
            *p = renumber[*p as usize];
        }
        let mut start = vec![0usize; domains.len() + 1];
        for &(_, _, d) in &pairs {
            start[d as usize + 1] += 1;
        }
        for d in 0..domains.len() {
            start[d + 1] += start[d];
        }
        Some(Plan {
            row_pair,
            calibrated,
            start,
            pair_unit: order.iter().map(|&p| pairs[p as usize].1).collect(),
            rows: domains.iter().map(|d| d.rows.len()).collect(),
            weight,
        })
    }

    /// Whether the plan's pass serves a statistic: totals, means and proportions.
    pub fn serves(stat: Stat) -> bool {
        matches!(stat, Stat::Total | Stat::Mean | Stat::Proportion)
    }

    /// The estimates of `target` in every domain (`dfs`: each domain's design df), or `None`
    /// when the statistic is not a total, mean or proportion. On a replicate design,
    /// `replicated` may hold every domain's replicate estimates (as [`replicate_points`]
    /// gives them for a group of targets); without them they are computed here. `pass` is
    /// the plan's pass for `target` where [`passes`] made it with other breakdowns'.
    #[allow(clippy::too_many_arguments)]
    pub fn estimates(
        &self,
        design: &Design,
        target: &Target,
        domains: &[Domain],
        dfs: &[f64],
        s: &Settings,
        replicated: Option<&[f64]>,
        pass: Option<Pass>,
    ) -> Option<Result<Vec<Estimate>>> {
        if !Self::serves(target.stat) || target.x.is_some() {
            return None;
        }
        if self.calibrated {
            return estimates_together(design, target, &[(self, domains, dfs)], s)
                .map(|r| r.map(|mut all| all.remove(0)));
        }
        let pass = pass.unwrap_or_else(|| self.pass(design, target));
        // Replicate designs: each domain's estimate under every replicate weight.
        let thetas: Option<Cow<'_, [f64]>> = match (replicated, &design.replicates) {
            (Some(given), _) => Some(Cow::Borrowed(given)),
            (None, Some(r)) => Some(Cow::Owned(match r.psu_factors() {
                Some(f) => self.factored_points(r.count, f, target.stat, &pass.sums, pass.shift),
                None => Self::replicate_points(r, design.n, target, domains),
            })),
            (None, None) => None,
        };
        Some(self.to_estimates(
            design,
            target,
            domains,
            dfs,
            s,
            &pass,
            thetas.as_deref(),
            None,
        ))
    }

    /// The breakdown's pass over the rows for `target`.
    fn pass(&self, design: &Design, target: &Target) -> Pass {
        passes(&[self], design, target).remove(0)
    }

    /// The pass's domain totals from its pairs' sums.
    fn totals(&self, sums: &[[f64; 6]]) -> Vec<DomainTotals> {
        (0..self.rows.len())
            .map(|d| {
                let (mut tw, mut twd, mut twdd, mut twy) =
                    (Sum::new(), Sum::new(), Sum::new(), Sum::new());
                let (mut n, mut n_nz) = (0usize, 0usize);
                for a in &sums[self.start[d]..self.start[d + 1]] {
                    tw.add(a[0]);
                    twd.add(a[1]);
                    twdd.add(a[2]);
                    twy.add(a[5]);
                    n += a[3] as usize;
                    n_nz += a[4] as usize;
                }
                DomainTotals {
                    w: tw.value(),
                    wd: twd.value(),
                    wdd: twdd.value(),
                    wy: twy.value(),
                    n,
                    n_nz,
                }
            })
            .collect()
    }

    /// Domain `d`'s estimate, and each of its pairs' total of the scores as
    /// `alpha Σw(y - c) + beta Σw`: `(estimate, alpha, beta)`.
    fn linear(stat: Stat, pass: &Pass, d: usize) -> (f64, f64, f64) {
        let t = &pass.totals[d];
        match stat {
            Stat::Total => (t.wy, 1.0, pass.shift),
            _ => (t.wy / t.w, 1.0 / t.w, -(t.wd / t.w) / t.w),
        }
    }

    /// Every domain's estimate from the pass, with the replicate estimates (`thetas`,
    /// domain-major) on a replicate design, or the variances of the pairs (`calibrated`) on
    /// a calibrated design; else each domain's variance from its pairs' sums.
    #[allow(clippy::too_many_arguments)]
    fn to_estimates(
        &self,
        design: &Design,
        target: &Target,
        domains: &[Domain],
        dfs: &[f64],
        s: &Settings,
        pass: &Pass,
        thetas: Option<&[f64]>,
        calibrated: Option<&[f64]>,
    ) -> Result<Vec<Estimate>> {
        let st = &design.stages[0];
        let mut out = Vec::with_capacity(domains.len());
        for (d, domain) in domains.iter().enumerate() {
            let pairs = self.start[d]..self.start[d + 1];
            let t = &pass.totals[d];
            let df = match s.df {
                estimator::DfChoice::Design => Some(dfs[d]),
                estimator::DfChoice::Infinite => None,
                estimator::DfChoice::Fixed(x) => Some(x),
            };
            let mut e = Estimate::blank(target, &domain.by, &domain.group, t.n, t.w, df);
            if t.n == 0 {
                out.push(e);
                continue;
            }
            let m = t.wd / t.w;
            let (est, alpha, beta) = Self::linear(target.stat, pass, d);
            let (variance, thetas) = match (&design.replicates, thetas, calibrated) {
                (Some(r), Some(all), _) => {
                    let k = r.count;
                    let mine = all[d * k..(d + 1) * k].to_vec();
                    (r.variance(est, &mine), Some(mine))
                }
                // The domain has rows (n > 0), so its one pair.
                (_, _, Some(v)) => (v[pairs.start], None),
                _ => (
                    self.variance(design, st, pairs, &pass.sums, alpha, beta)?,
                    None,
                ),
            };
            let ss = (t.wdd - t.wd * m).max(0.0);
            let deff = estimator::design_effect(target.stat, variance, t.n_nz, t.w, ss, 1.0);
            e = estimator::finish(
                design,
                target,
                e,
                Linear {
                    est,
                    variance,
                    thetas,
                    deff,
                },
                self.rows[d],
                self.weight[d],
                dfs[d],
                s,
            )?;
            out.push(e);
        }
        Ok(out)
    }

    /// Every domain's estimate under every replicate weight (domain-major, `d * R + r`) when
    /// the replicates are PSU factors ([`crate::design::Replicates::psu_factors`]): a
    /// replicate's sums over a domain are its PSUs' factors times the domain's sums in each
    /// PSU, so the rows are not read again (R's compressed replicate weights serve the same
    /// end). `sums` are the pass's per-pair sums, taken about `shift`.
    fn factored_points(
        &self,
        count: usize,
        factors: &crate::design::PsuFactors,
        stat: Stat,
        sums: &[[f64; 6]],
        shift: f64,
    ) -> Vec<f64> {
        let n_psu = factors.n_psu;
        let mut out = Vec::with_capacity(self.rows.len() * count);
        for d in 0..self.rows.len() {
            let pairs = self.start[d]..self.start[d + 1];
            for r in 0..count {
                let f = &factors.factors[r * n_psu..(r + 1) * n_psu];
                let (mut num, mut den) = (Sum::new(), Sum::new());
                for p in pairs.clone() {
                    let fu = f[self.pair_unit[p] as usize];
                    let a = &sums[p];
                    match stat {
                        Stat::Total => num.add(fu * a[5]),
                        _ => {
                            num.add(fu * a[1]);
                            den.add(fu * a[0]);
                        }
                    }
                }
                out.push(match stat {
                    Stat::Total => num.value(),
                    _ => shift + num.value() / den.value(),
                });
            }
        }
        out
    }

    /// Every domain's estimate under every replicate weight (domain-major, `d * R + r`), from
    /// its valid rows ([`estimator::replicate_points`]).
    fn replicate_points(
        reps: &crate::design::Replicates,
        n: usize,
        target: &Target,
        domains: &[Domain],
    ) -> Vec<f64> {
        let mut valid = Vec::new();
        let mut out = Vec::with_capacity(domains.len() * reps.count);
        for d in domains {
            valid.clear();
            valid.extend(
                d.rows
                    .iter()
                    .copied()
                    .filter(|&i| target.is_valid(i as usize)),
            );
            out.extend(estimator::replicate_points(
                target.stat,
                &valid,
                reps,
                n,
                &target.y,
                target.x.as_deref(),
            ));
        }
        out
    }

    /// The single-stage linearisation variance of a domain whose pairs are `pairs` (ordered
    /// by stratum), each pair's score total being `alpha Σw(y - c) + beta Σw`: as
    /// [`Design::variance`] with every untouched PSU of a touched stratum at 0.
    fn variance(
        &self,
        design: &Design,
        st: &crate::design::Stage,
        pairs: std::ops::Range<usize>,
        sums: &[[f64; 6]],
        alpha: f64,
        beta: f64,
    ) -> Result<f64> {
        let total = |p: usize| alpha * sums[p][1] + beta * sums[p][0];
        let mut v = 0.0;
        let mut at = pairs.start;
        while at < pairs.end {
            let h = st.unit_parent[self.pair_unit[at] as usize] as usize;
            let mut end = at;
            let mut valid = 0.0;
            while end < pairs.end && st.unit_parent[self.pair_unit[end] as usize] as usize == h {
                valid += sums[end][3];
                end += 1;
            }
            let range = at..end;
            at = end;
            if valid == 0.0 {
                continue; // no row of the estimate in this stratum
            }
            let units = &st.children[h];
            if units.iter().all(|&u| st.unit_f[u as usize] < 1e-7) {
                continue; // a census stratum
            }
            let n_h = units.len();
            if n_h == 1 {
                match design.lonely_psu {
                    LonelyPsu::Fail => {
                        return Err(Error::Design(format!(
                            "stratum `{}` has only one PSU; choose --lonely-psu adjust, average, certainty or remove",
                            design.stratum_label[h]
                        )))
                    }
                    // R 4.1: the lone PSU total is not centred.
                    LonelyPsu::Adjust => {
                        let p = range.start;
                        let t = total(p);
                        v += st.unit_f[self.pair_unit[p] as usize] * t * t;
                    }
                    _ => {}
                }
                continue;
            }
            let mut sum_t = 0.0;
            for p in range.clone() {
                sum_t += total(p);
            }
            let mean = sum_t / n_h as f64;
            let mut f_untouched: f64 = units.iter().map(|&u| st.unit_f[u as usize]).sum();
            let mut acc = 0.0;
            for p in range {
                let f = st.unit_f[self.pair_unit[p] as usize];
                let dt = total(p) - mean;
                acc += f * dt * dt;
                f_untouched -= f;
            }
            acc += f_untouched.max(0.0) * mean * mean;
            v += n_h as f64 / (n_h as f64 - 1.0) * acc;
        }
        Ok(v)
    }
}

/// The passes of several breakdowns' plans for `target`, made in one pass over the rows: a
/// row's value and weight are read once for every breakdown. Each pair's sums are taken in
/// row order, as a pass of its own takes them.
pub fn passes(plans: &[&Plan], design: &Design, target: &Target) -> Vec<Pass> {
    let y = &target.y;
    let w = &design.weights;
    // Each breakdown's shift: the first value it has (0 and 1 for proportions, exactly).
    let shifts: Vec<f64> = plans
        .iter()
        .map(|plan| {
            plan.row_pair
                .iter()
                .zip(y)
                .find(|(&p, v)| p != NONE && !v.is_nan())
                .map_or(0.0, |(_, &v)| v)
        })
        .collect();
    let mut sums: Vec<Vec<[f64; 6]>> = plans
        .iter()
        .map(|plan| vec![[0.0f64; 6]; plan.pair_unit.len()])
        .collect();
    for (i, (&yi, &wi)) in y.iter().zip(w).enumerate() {
        if yi.is_nan() {
            continue;
        }
        let nonzero = f64::from(u8::from(wi != 0.0));
        let wy = wi * yi;
        for ((plan, sums), &shift) in plans.iter().zip(sums.iter_mut()).zip(&shifts) {
            let p = plan.row_pair[i];
            if p == NONE {
                continue;
            }
            let d = yi - shift;
            let wd = wi * d;
            let a = &mut sums[p as usize];
            a[0] += wi;
            a[1] += wd;
            a[2] += wd * d;
            a[3] += 1.0;
            a[4] += nonzero;
            a[5] += wy;
        }
    }
    plans
        .iter()
        .zip(sums)
        .zip(shifts)
        .map(|((plan, sums), shift)| Pass {
            shift,
            totals: plan.totals(&sums),
            sums,
        })
        .collect()
}

/// One breakdown's pass for one target.
pub struct Pass {
    /// The value sums are taken about (the first value the breakdown has).
    shift: f64,
    /// Per pair: Σw, Σw(y - c), Σw(y - c)², valid rows, rows with non-zero weight, Σwy.
    sums: Vec<[f64; 6]>,
    totals: Vec<DomainTotals>,
}

/// A domain's sums over its valid rows (its pairs' sums added up).
struct DomainTotals {
    w: f64,
    wd: f64,
    wdd: f64,
    wy: f64,
    n: usize,
    n_nz: usize,
}

/// A breakdown for [`estimates_together`]: its plan, its domains and their dfs.
pub type Part<'a> = (&'a Plan, &'a [Domain], &'a [f64]);

/// The breakdowns' parts for [`estimates_together`], when every breakdown has a plan.
pub fn parts<'a>(
    plans: &'a [Option<Plan>],
    breakdowns: &'a [super::domain::Breakdown],
    dfs: &'a [Vec<f64>],
) -> Option<Vec<Part<'a>>> {
    plans
        .iter()
        .zip(breakdowns)
        .zip(dfs)
        .map(|((p, (_, ds)), dfs)| p.as_ref().map(|p| (p, ds.as_slice(), dfs.as_slice())))
        .collect()
}

/// The estimates of `target` in every domain of several breakdowns of a calibrated design
/// (`parts`: each breakdown's plan, domains and dfs), or `None` when the plans or the
/// statistic are not for this: [`estimates_of_many`] for one target.
pub fn estimates_together(
    design: &Design,
    target: &Target,
    parts: &[Part<'_>],
    s: &Settings,
) -> Option<Result<Vec<Vec<Estimate>>>> {
    estimates_of_many(design, &[target], parts, s).map(|r| r.map(|mut all| all.remove(0)))
}

/// Whether [`estimates_of_many`] serves `target` on `parts` of `design`.
pub fn serves_together(design: &Design, target: &Target, parts: &[Part<'_>]) -> bool {
    Plan::serves(target.stat)
        && target.x.is_none()
        && design.replicates.is_none()
        && parts.iter().all(|(p, _, _)| p.calibrated)
}

/// The estimates of several targets (`[target][breakdown]`) in every domain of several
/// breakdowns of a calibrated design, or `None` when the plans or a statistic are not for
/// this ([`serves_together`]).
///
/// Each breakdown's pass gives its domains' estimates; then one pass over the rows in data
/// order gives every domain of every breakdown of every target its score (a row scores
/// `w (alpha (y - c) + beta)` for its pair in each breakdown, for each target it has a value
/// of), and [`Design::variances_of`] the variances of all the pairs' residuals at once. A
/// row's auxiliaries, weight and units are read once for all the breakdowns and targets,
/// where estimating one by one reads them once for each; and the scores of several targets
/// go to different sums, which the processor adds side by side where one target's sums
/// wait on each other row after row.
pub fn estimates_of_many(
    design: &Design,
    targets: &[&Target],
    parts: &[Part<'_>],
    s: &Settings,
) -> Option<Result<Vec<Vec<Vec<Estimate>>>>> {
    if !targets.iter().all(|t| serves_together(design, t, parts)) {
        return None;
    }
    let plans: Vec<&Plan> = parts.iter().map(|(p, _, _)| *p).collect();
    let passes: Vec<Vec<Pass>> = targets.iter().map(|t| passes(&plans, design, t)).collect();
    let mut scores = PairScores {
        rows: Vec::new(),
        row_pair: plans.iter().map(|p| p.row_pair.as_slice()).collect(),
        targets: Vec::with_capacity(targets.len()),
        coef: Vec::new(),
        w: &design.weights,
    };
    for (target, passes) in targets.iter().zip(&passes) {
        let mut offset = Vec::with_capacity(plans.len());
        for (plan, pass) in plans.iter().zip(passes) {
            offset.push(scores.coef.len() as u32);
            let at = scores.coef.len();
            scores.coef.resize(at + plan.pair_unit.len(), (0.0, 0.0));
            for d in 0..plan.rows.len() {
                let (_, alpha, beta) = Plan::linear(target.stat, pass, d);
                scores.coef[at + plan.start[d]..at + plan.start[d + 1]].fill((alpha, beta));
            }
        }
        scores.targets.push(TargetScores {
            y: &target.y,
            shift: passes.iter().map(|p| p.shift).collect(),
            offset,
        });
    }
    scores.rows = (0..design.n)
        .filter(|&i| {
            targets.iter().any(|t| !t.y[i].is_nan())
                && scores.row_pair.iter().any(|rp| rp[i] != NONE)
        })
        .map(|i| i as u32)
        .collect();
    let variances = match design.variances_of(&scores.rows, &scores) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let out = targets
        .iter()
        .zip(&passes)
        .zip(&scores.targets)
        .map(|((target, passes), ts)| {
            parts
                .iter()
                .zip(passes)
                .zip(&ts.offset)
                .map(|(((plan, domains, dfs), pass), &at)| {
                    let at = at as usize;
                    let mine = &variances[at..at + plan.pair_unit.len()];
                    plan.to_estimates(design, target, domains, dfs, s, pass, None, Some(mine))
                })
                .collect()
        })
        .collect();
    Some(out)
}

/// The scores of the valid rows of several targets in several breakdowns: each row scores
/// `w (alpha (y - shift) + beta)` for its pair in each breakdown, for each target it has a
/// value of (a target's pairs in a breakdown numbered from its `offset`, with their `coef`
/// (alpha, beta)).
struct PairScores<'a> {
    rows: Vec<u32>,
    /// Each breakdown's pair of every row.
    row_pair: Vec<&'a [u32]>,
    targets: Vec<TargetScores<'a>>,
    coef: Vec<(f64, f64)>,
    w: &'a [f64],
}

/// One target's part of [`PairScores`]: its values, and its shift and first pair in each
/// breakdown.
struct TargetScores<'a> {
    y: &'a [f64],
    shift: Vec<f64>,
    offset: Vec<u32>,
}

impl crate::design::Scores for PairScores<'_> {
    fn count(&self) -> usize {
        self.coef.len()
    }

    #[inline]
    fn each(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        let i = self.rows[j] as usize;
        let wi = self.w[i];
        for t in &self.targets {
            let yi = t.y[i];
            if yi.is_nan() {
                continue;
            }
            for ((row_pair, &offset), &shift) in self.row_pair.iter().zip(&t.offset).zip(&t.shift) {
                let p = row_pair[i];
                if p == NONE {
                    continue;
                }
                let at = (offset + p) as usize;
                let (alpha, beta) = self.coef[at];
                let z = wi * (alpha * (yi - shift) + beta);
                if z != 0.0 {
                    f(at, z);
                }
            }
        }
    }
}

/// Targets estimated together by [`replicate_points`]: one lane each.
pub const LANES: usize = 8;

/// Rows per block of [`replicate_points`]: a block's values stay in cache while every
/// replicate weight passes over them, and its sums are added to compensated totals.
const ROW_BLOCK: usize = 2048;

/// Replicates per task of [`replicate_points`].
const REPLICATE_CHUNK: usize = 8;

/// One replicate's compensated sums per (breakdown, domain) slot and lane: Σ w (y - c) and
/// Σ w over the valid rows.
type LaneSums = (Vec<[Sum; LANES]>, Vec<[Sum; LANES]>);

/// The replicate estimates of up to [`LANES`] totals, means or proportions (without a
/// denominator column) in every domain of every breakdown: `[target][breakdown]`, each
/// domain-major (`d * R + r`) as [`Plan::estimates`] takes them.
///
/// Estimating target by target and domain by domain reads every replicate weight once per
/// target and breakdown, gathering each domain's rows. Here each replicate column is read
/// once for the group, in data order, and each of its weights meets the row's values of
/// every target of the group in every breakdown (eight lanes side by side, which the
/// compiler vectorises). Replicates are shared out between threads; each replicate's sums
/// are made in the same order whatever the number of threads, so the results are too.
/// Means and proportions are summed about a shift (each target's first value), as the
/// estimator does.
pub fn replicate_points(
    reps: &crate::design::Replicates,
    n: usize,
    plans: &[&Plan],
    targets: &[&Target],
) -> Vec<Vec<Vec<f64>>> {
    debug_assert!(targets.len() <= LANES);
    let k = reps.count;
    // Each row's domain in each breakdown (a replicate design's plan has one pair per domain
    // that has rows).
    let codes: Vec<Vec<u32>> = plans
        .iter()
        .map(|p| {
            let mut domain_of = vec![NONE; p.pair_unit.len()];
            for d in 0..p.rows.len() {
                domain_of[p.start[d]..p.start[d + 1]].fill(d as u32);
            }
            p.row_pair
                .iter()
                .map(|&pair| {
                    if pair == NONE {
                        NONE
                    } else {
                        domain_of[pair as usize]
                    }
                })
                .collect()
        })
        .collect();
    let in_any = |i: usize| codes.iter().any(|c| c[i] != NONE);
    let mut shift = [0.0; LANES];
    for (t, target) in targets.iter().enumerate() {
        if target.stat != Stat::Total {
            shift[t] = (0..n)
                .find(|&i| in_any(i) && !target.y[i].is_nan())
                .map_or(0.0, |i| target.y[i]);
        }
    }
    // Each row's values and validity, lane by lane (0 where a target has no value).
    let mut values = vec![[0.0f64; LANES]; n];
    let mut valid = vec![[0.0f64; LANES]; n];
    for (t, target) in targets.iter().enumerate() {
        for (i, &y) in target.y.iter().enumerate() {
            if !y.is_nan() {
                values[i][t] = y - shift[t];
                valid[i][t] = 1.0;
            }
        }
    }
    // Slot of each (breakdown, domain).
    let mut offset = Vec::with_capacity(plans.len() + 1);
    offset.push(0usize);
    for p in plans {
        offset.push(offset[offset.len() - 1] + p.rows.len());
    }
    let slots = offset[plans.len()];
    let chunks: Vec<std::ops::Range<usize>> = (0..k)
        .step_by(REPLICATE_CHUNK)
        .map(|r| r..(r + REPLICATE_CHUNK).min(k))
        .collect();
    // Per replicate: compensated Σ w (y - c) and Σ w per slot and lane.
    let sums: Vec<Vec<LaneSums>> = chunks
        .par_iter()
        .map(|chunk| {
            let mut out: Vec<LaneSums> = chunk
                .clone()
                .map(|_| {
                    (
                        vec![[Sum::new(); LANES]; slots],
                        vec![[Sum::new(); LANES]; slots],
                    )
                })
                .collect();
            let mut num = vec![[0.0f64; LANES]; slots];
            let mut den = vec![[0.0f64; LANES]; slots];
            // One replicate's weights of the block's rows.
            let mut block = vec![0.0f64; ROW_BLOCK];
            for start in (0..n).step_by(ROW_BLOCK) {
                let end = (start + ROW_BLOCK).min(n);
                for (r, (tot_num, tot_den)) in chunk.clone().zip(out.iter_mut()) {
                    let col = &mut block[..end - start];
                    reps.column(r, n).fill(start, col);
                    // No test of zero weights: a bootstrap replicate has a third of them, in
                    // no pattern a branch could predict.
                    for (j, &w) in col.iter().enumerate() {
                        let i = start + j;
                        let (y, v) = (values[i], valid[i]);
                        for (b, c) in codes.iter().enumerate() {
                            let d = c[i];
                            if d == NONE {
                                continue;
                            }
                            let s = offset[b] + d as usize;
                            // Lanes in registers, side by side.
                            let (mut a, mut z) = (num[s], den[s]);
                            for l in 0..LANES {
                                a[l] += w * y[l];
                                z[l] += w * v[l];
                            }
                            num[s] = a;
                            den[s] = z;
                        }
                    }
                    for s in 0..slots {
                        for l in 0..LANES {
                            tot_num[s][l].add(num[s][l]);
                            tot_den[s][l].add(den[s][l]);
                        }
                        num[s] = [0.0; LANES];
                        den[s] = [0.0; LANES];
                    }
                }
            }
            out
        })
        .collect();
    let per_replicate: Vec<&LaneSums> = sums.iter().flatten().collect();
    targets
        .iter()
        .enumerate()
        .map(|(t, target)| {
            plans
                .iter()
                .enumerate()
                .map(|(b, p)| {
                    let mut out = Vec::with_capacity(p.rows.len() * k);
                    for d in 0..p.rows.len() {
                        let s = offset[b] + d;
                        out.extend(per_replicate.iter().map(|(num, den)| {
                            let a = num[s][t].value();
                            match target.stat {
                                Stat::Total => a,
                                _ => shift[t] + a / den[s][t].value(),
                            }
                        }));
                    }
                    out
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{options, DesignFlags, DesignSpec};
    use crate::estimate::domain;
    use crate::estimate::estimator::{CiMethod, DfChoice};
    use crate::estimate::quantile::QRule;
    use crate::estimate::reliability::Rules;
    use crate::table::read::{read_table, ReadOptions};
    use crate::table::Table;
    use std::path::Path;

    fn table(path: &Path) -> Table {
        read_table(path, &ReadOptions::default()).unwrap()
    }

    fn design(table: &Table, text: &str) -> Design {
        design_with(table, text, DesignFlags::default())
    }

    fn design_with(table: &Table, text: &str, flags: DesignFlags) -> Design {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("design.toml");
        std::fs::write(&path, text).unwrap();
        let spec = DesignSpec::load(&path).unwrap();
        let o = options::resolve(Some(spec), flags).unwrap();
        Design::build_calibrated(table, &o).unwrap().0
    }

    fn target(stat: Stat, y: Vec<f64>) -> Target {
        Target {
            indicator: "t".into(),
            stat,
            variable: "t".into(),
            category: String::new(),
            y,
            x: None,
            deferred: false,
        }
    }

    /// A proportion (age over 40), a mean with missing values far from zero and a total, of
    /// the bundled responses' columns.
    fn three_targets(t: &Table) -> [Target; 3] {
        let col = |name: &str| t.column(name).unwrap().as_num().unwrap().to_vec();
        let (age, wait) = (col("age"), col("wait_weeks"));
        [
            target(
                Stat::Proportion,
                age.iter().map(|&a| f64::from(a > 40.0)).collect(),
            ),
            // Missing values, and a mean far from zero.
            target(Stat::Mean, wait.iter().map(|&x| x + 1e4).collect()),
            target(Stat::Total, wait),
        ]
    }

    /// Equal to 1e-9 relative, or both within rounding of zero (a variance of 0 by one
    /// path can be 1e-35 by the other).
    fn close(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-14
    }

    /// Every domain of every breakdown, by the plan and domain by domain.
    fn same_as_domain_by_domain(table: &Table, design: &Design, by: &[&str], targets: &[Target]) {
        let all: Vec<u32> = (0..table.nrows() as u32).collect();
        let by: Vec<String> = by.iter().map(|s| s.to_string()).collect();
        for ci in [None, Some(CiMethod::Wald), Some(CiMethod::Beta)] {
            let s = Settings {
                ci,
                level: 0.95,
                df: DfChoice::Design,
                qrule: QRule::Math,
                rules: Rules::default(),
            };
            let breakdowns = domain::breakdowns(table, &by, &all).unwrap();
            let plans: Vec<Plan> = breakdowns
                .iter()
                .map(|(_, domains)| Plan::new(design, domains).expect("a design the plan covers"))
                .collect();
            // Replicate designs: also with every breakdown's replicate estimates made for all
            // targets at once.
            let grouped = design.replicates.as_ref().map(|r| {
                let plans: Vec<&Plan> = plans.iter().collect();
                let targets: Vec<&Target> = targets.iter().collect();
                replicate_points(r, design.n, &plans, &targets)
            });
            let ways: &[bool] = if grouped.is_some() {
                &[false, true]
            } else {
                &[false]
            };
            for (b, ((_, domains), plan)) in breakdowns.iter().zip(&plans).enumerate() {
                let dfs: Vec<f64> = domains.iter().map(|d| design.degf_rows(&d.rows)).collect();
                for ((ti, t), &together) in targets
                    .iter()
                    .enumerate()
                    .flat_map(|t| ways.iter().map(move |w| (t, w)))
                {
                    let given = grouped
                        .as_ref()
                        .filter(|_| together)
                        .map(|g| g[ti][b].as_slice());
                    let fast = plan
                        .estimates(design, t, domains, &dfs, &s, given, None)
                        .unwrap();
                    let slow: Result<Vec<Estimate>> = domains
                        .iter()
                        .zip(&dfs)
                        .map(|(d, &df)| {
                            estimator::estimate(design, t, &d.by, &d.group, &d.rows, df, &s)
                        })
                        .collect();
                    match (fast, slow) {
                        (Ok(fast), Ok(slow)) => {
                            for (a, b) in fast.iter().zip(&slow) {
                                let pairs = [
                                    (a.estimate, b.estimate),
                                    (a.se, b.se),
                                    (a.ci_low, b.ci_low),
                                    (a.ci_high, b.ci_high),
                                    (a.deff, b.deff),
                                    (a.pop_size, b.pop_size),
                                    (a.cv, b.cv),
                                ];
                                assert!(
                                    pairs.iter().all(|&(x, y)| close(x, y))
                                        && (a.n, a.df, a.flag, &a.group)
                                            == (b.n, b.df, b.flag, &b.group),
                                    "{:?} {ci:?} (replicates together: {together}):\n{a:?}\n{b:?}",
                                    t.stat
                                );
                            }
                            assert_eq!(fast.len(), slow.len());
                        }
                        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                        (a, b) => panic!("{a:?} vs {b:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn one_pass_per_breakdown_gives_the_domain_by_domain_estimates() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let t = table(&root.join("examples/service-equality/responses.csv"));
        let col = |name: &str| t.column(name).unwrap().as_num().unwrap().to_vec();
        let targets = three_targets(&t);
        for text in [
            "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\n",
            "weight = \"design_weight\"\ncluster = [\"office\"]\n",
            "weight = \"design_weight\"\nstrata = \"area\"\n",
            "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\nfpc = [\"office_count\"]\n",
        ] {
            let d = design(&t, text);
            same_as_domain_by_domain(&t, &d, &["area", "origin*gender"], &targets);
        }
        // Replicate weights (office-level factors 0 to 2, as a bootstrap draws them), with
        // logit intervals from the replicate logits.
        let mut with_reps = t.clone();
        let (w, office) = (col("design_weight"), col("office"));
        for r in 0..20u64 {
            let rep: Vec<f64> = w
                .iter()
                .zip(&office)
                .map(|(&wi, &o)| wi * ((o as u64 * 7 + r * 13) % 3) as f64)
                .collect();
            with_reps
                .push(crate::table::Column::num(format!("rep{r}"), rep))
                .unwrap();
        }
        let text = "weight = \"design_weight\"\nrepweights = \"rep*\"\nrep_type = \"bootstrap\"\n";
        let d = design(&with_reps, text);
        assert!(d.replicates.is_some());
        same_as_domain_by_domain(&with_reps, &d, &["area", "origin*gender"], &targets);
        // Replicates made from the PSUs (`--replicates`): the plan takes each domain's
        // replicate estimates from its PSU sums and the factors, the domain-by-domain path
        // from the replicate weights' rows.
        for (text, kind) in [
            (
                "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\n",
                "bootstrap:30",
            ),
            (
                "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\n",
                "jkn",
            ),
            (
                "weight = \"design_weight\"\ncluster = [\"office\"]\n",
                "jk1",
            ),
        ] {
            let flags = DesignFlags {
                replicates: Some(kind.into()),
                seed: Some(5),
                ..DesignFlags::default()
            };
            let d = design_with(&t, text, flags);
            let r = d.replicates.as_ref().expect("replicates made");
            assert!(r.psu_factors().is_some(), "{kind}");
            same_as_domain_by_domain(&t, &d, &["area", "origin*gender"], &targets);
        }
    }

    #[test]
    fn calibrated_designs_as_domain_by_domain() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let t = crate::instrument::bundled().1;
        let targets = three_targets(&t);
        let margins = root.join("examples/service-equality/margins");
        let margins = margins.display();
        let raking = format!("calibrate = \"raking\"\nmargin = [\"{margins}/area.csv\", \"{margins}/origin_gender.csv\", \"{margins}/age_group.csv\"]\n");
        for (text, method) in [
            // Two stages with fpc (offices, then job seekers), as the bundled example.
            ("weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\", \"id\"]\nfpc = [\"office_count\", \"office_size\"]\n", "raking"),
            ("weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\n", "raking"),
            ("weight = \"design_weight\"\nstrata = \"area\"\n", "raking"),
            ("weight = \"design_weight\"\ncluster = [\"office\"]\n", "linear"),
        ] {
            let cal = raking.replace("raking", method);
            let d = design(&t, &format!("{text}{cal}"));
            let plan = Plan::new(&d, &domain::breakdowns(&t, &["area".into()], &(0..t.nrows() as u32).collect::<Vec<_>>()).unwrap()[0].1);
            assert!(plan.is_some_and(|p| p.calibrated), "{text}{method}");
            same_as_domain_by_domain(&t, &d, &["area", "origin*gender", "age_group"], &targets);
            many_as_one_by_one(&t, &d, &["area", "origin*gender", "age_group"], &targets);
        }
    }

    /// Several targets in one pass get what each gets in a pass of its own.
    fn many_as_one_by_one(table: &Table, design: &Design, by: &[&str], targets: &[Target]) {
        let all: Vec<u32> = (0..table.nrows() as u32).collect();
        let by: Vec<String> = by.iter().map(|s| s.to_string()).collect();
        let s = Settings {
            ci: Some(CiMethod::Wald),
            level: 0.95,
            df: DfChoice::Design,
            qrule: QRule::Math,
            rules: Rules::default(),
        };
        let breakdowns = domain::breakdowns(table, &by, &all).unwrap();
        let plans: Vec<Option<Plan>> = breakdowns
            .iter()
            .map(|(_, domains)| Plan::new(design, domains))
            .collect();
        let dfs: Vec<Vec<f64>> = breakdowns
            .iter()
            .map(|(_, ds)| ds.iter().map(|d| design.degf_rows(&d.rows)).collect())
            .collect();
        let parts = parts(&plans, &breakdowns, &dfs).expect("every breakdown has a plan");
        let refs: Vec<&Target> = targets.iter().collect();
        let many = estimates_of_many(design, &refs, &parts, &s)
            .expect("served")
            .unwrap();
        assert_eq!(many.len(), targets.len());
        for (t, many) in targets.iter().zip(many) {
            let one = estimates_together(design, t, &parts, &s)
                .expect("served")
                .unwrap();
            for (a, b) in many.iter().flatten().zip(one.iter().flatten()) {
                assert!(
                    close(a.estimate, b.estimate) && close(a.se, b.se) && a.n == b.n,
                    "{:?}:\n{a:?}\n{b:?}",
                    t.stat
                );
            }
            assert_eq!(many.concat().len(), one.concat().len());
        }
    }

    #[test]
    fn lonely_strata_census_strata_and_zero_weights_as_domain_by_domain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.csv");
        // Stratum 3 has one PSU; stratum 4 is a census (fpc = PSUs sampled); group b has no
        // valid value in stratum 2; a zero weight.
        let mut csv = String::from("s,p,w,y,g,f\n");
        let rows = [
            (1, 1, 2.0, "1", "a", 10),
            (1, 1, 3.0, "0", "b", 10),
            (1, 2, 2.5, "1", "a", 10),
            (1, 3, 1.0, "0", "a", 10),
            (2, 4, 4.0, "1", "a", 9),
            (2, 4, 0.0, "", "b", 9),
            (2, 5, 1.5, "0", "a", 9),
            (3, 6, 2.0, "1", "b", 5),
            (3, 6, 2.0, "0", "a", 5),
            (4, 7, 1.0, "1", "b", 2),
            (4, 8, 1.0, "0", "b", 2),
        ];
        for (s, p, w, y, g, f) in rows {
            csv.push_str(&format!("{s},{p},{w},{y},{g},{f}\n"));
        }
        std::fs::write(&path, csv).unwrap();
        let t = table(&path);
        let y = t.column("y").unwrap().as_num().unwrap().to_vec();
        let targets = [
            target(Stat::Proportion, y.clone()),
            target(Stat::Mean, y.clone()),
            target(Stat::Total, y),
        ];
        // (`fail` stops when the design is built.)
        for lonely in ["adjust", "certainty", "remove"] {
            let text = format!(
                "weight = \"w\"\nstrata = \"s\"\ncluster = [\"p\"]\nfpc = [\"f\"]\nlonely_psu = \"{lonely}\"\n"
            );
            let d = design(&t, &text);
            same_as_domain_by_domain(&t, &d, &["g"], &targets);
        }
    }
}
