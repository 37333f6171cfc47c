//! Creation of replicate weights from a built design, as R survey's `as.svrepdesign()`.
//!
//! This module owns the statistics of making replicates: one multiplier per stage-1 PSU and
//! replicate (ultimate-cluster replication, as R: later stages and their fpcs play no part),
//! and the variance multipliers that go with them. Writing the columns out and printing the
//! flags is the caller's job; [`ReplicateFactors::apply`] makes one replicate's weights and
//! [`ReplicateFactors::reading_options`] says how `tasa estimate` must read them back.
//! `apply` multiplies whatever weights it is given; after calibration, recalibrating each
//! replicate (as R's `calibrate()` on a replicate design does) is the caller's job.
//!
//! The types, with the replicate multipliers of each PSU and the variance multipliers
//! (`var = scale * sum_r rscales[r] * (theta_r - mean theta)^2`); n PSUs (n_h in stratum h),
//! sampling fraction f = n/N of stage 1, so 1 − f = (N − n)/N = `Stage::unit_f` (1 without fpc):
//!
//! - `Jk1`, R's `type = "JK1"` (`jk1weights`): replicate r gives PSU r 0 and the others
//!   n/(n−1); `scale` = (1−f)(n−1)/n, `rscales` 1.
//! - `Jkn`, R's `type = "JKn"` (`jknweights`): one replicate per PSU, in which it gets 0, the
//!   other PSUs of its stratum n_h/(n_h−1) and every other stratum 1; `scale` 1,
//!   `rscales` = (1−f_h)(n_h−1)/n_h.
//! - `Brr`, R's `type = "BRR"` (`brrweights`): two PSUs per stratum, one 2 and the other 0 by
//!   the signs of a Hadamard matrix; `scale` 1/R, `rscales` 1.
//! - `Fay`, R's `type = "Fay"`: as BRR with 2 − ρ and ρ; `scale` 1/(R(1−ρ)²), `rscales` 1.
//! - `Bootstrap`, R's `type = "subbootstrap"` (`subbootweights`), the Rao–Wu rescaling
//!   bootstrap: n_h − 1 PSUs drawn with replacement in every stratum, multiplier
//!   n_h/(n_h−1) × times drawn; `scale` 1/(R−1), `rscales` 1.
//!
//! **Reading them back** (`tasa estimate --repweights 'NAME_rep*' --rep-type TYPE`): the
//! type's default scale reproduces the variance for JK1 without an fpc, BRR, bootstrap and Fay
//! (Fay needs `--fay-rho ρ`). JK1 with an fpc needs `--rep-scale (1−f)(n−1)/n`; JKn always
//! needs `--rep-rscales` (tasa has no default for them), and `--rep-scale` too in R's
//! `average` case below. [`ReplicateFactors::reading_options`] gives exactly these options.
//!
//! **What R does, and tasa with it** (checked with R 4.2.2, survey 4.1-1):
//! - JK1 is for unstratified designs only (R: "Can't use JK1 for a stratified design"); JKn,
//!   BRR and Fay for stratified ones only (R: "Must use JK1 or bootstrap for an unstratified
//!   design"). Both are errors here, suggesting the other type.
//! - The fpc enters JK1 and JKn through the variance multipliers only, never the weights:
//!   JK1's `scale` and JKn's `rscales` are multiplied by (N−n)/N. A census stratum (N = n,
//!   factor exactly 0) makes no replicates at all (R's default
//!   `options(survey.drop.replicates = TRUE)`), so JKn may have fewer replicates than PSUs.
//!   Fpcs after the first stage are dropped, as R does (with a warning) for JK1/JKn.
//! - BRR and Fay drop the fpc (R warns "Finite population correction dropped in conversion");
//!   R's `subbootstrap` ignores it silently. Both are reported here in
//!   [`ReplicateFactors::notes`].
//! - JKn with a single-PSU stratum follows `--lonely-psu` as `jknweights` follows
//!   `options(survey.lonely.psu)`: `fail` is an error (R: "Stratum…has only one PSU");
//!   `certainty` and `remove` make no replicate for the stratum; `average` makes none and
//!   multiplies `scale` by (number of PSUs)/(number of replicates) — R does this whenever
//!   replicates were dropped, census strata included, so it is not the linearisation's
//!   `average`; `adjust` makes one replicate in which the lone PSU gets 0 and every other PSU
//!   of the design K/(K−1) (K strata), with rscale (K−1)/K — again R's own rule, not the
//!   linearisation's `adjust`. A single-PSU census stratum is no problem (no replicate).
//! - BRR needs exactly two PSUs per stratum here. R's `brrweights` splits an even-sized
//!   larger stratum into pairs by default (`large = "split"`), which changes the estimator
//!   according to an arbitrary pairing; tasa asks the user to form the pairs instead.
//! - R's bootstrap with a single-PSU stratum silently gives meaningless multipliers (its
//!   `sample()` on one numeric PSU id k draws from 1..k); here it is an error naming the
//!   stratum.
//!
//! **BRR's Hadamard matrix**: the Sylvester matrix S of order R = the smallest power of two
//! above the number of strata H (at least 4, as R), S_ij = (−1)^popcount(i & j). The strata,
//! sorted by label (bytewise), take rows 1..=H (row 0, all ones, is skipped so that each
//! stratum's signs balance over the replicates); replicate r is column r; sign +1 gives the
//! stratum's first PSU (first in the data) 2 − ρ and the second ρ. R's `hadamard()` picks a
//! matrix of order ≥ H + 1 among Sylvester and Paley constructions. Where its order is a power
//! of two (H = 1–7, 12–15, 28–31, 60–63, …) it is this Sylvester matrix, and the replicates
//! equal R's column for column (when R's locale sorts the labels bytewise). Elsewhere (H = 8
//! to 11: R makes 12 replicates, tasa 16) the columns differ, but both matrices are fully
//! orthogonal, so the variance of any linear estimator (a total) is the same and equals the
//! with-replacement linearisation variance.
//!
//! **Bootstrap randomness**: `ChaCha8Rng::seed_from_u64(seed)`, drawn replicate by
//! replicate and stratum by stratum in the design's stratum order, single-threaded: one seed,
//! one set of factors on every machine. R's random numbers are not reproduced.

use crate::design::{Design, LonelyPsu, RepType, ReplicateOptions};
use crate::{Error, Result, Warning};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The largest replicate × PSU matrix made (8 bytes each: 800 MB). A jackknife on a million
/// row-level PSUs would need a million replicates; better an error than an allocation abort.
pub const MAX_FACTOR_CELLS: usize = 100_000_000;

/// What replicates to make.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateSpec {
    pub kind: RepType,
    /// Number of replicates: required for the bootstrap (≥ 2); the jackknives and BRR fix
    /// their own number, and a different one given here is an error saying which.
    pub count: Option<usize>,
    /// Bootstrap seed (unused by the other types).
    pub seed: u64,
    /// Fay's ρ in [0, 1); required for `Fay`, refused for the other types.
    pub fay_rho: Option<f64>,
}

/// Replicate multipliers per stage-1 PSU, with the variance multipliers that go with them:
/// `var = scale * sum_r rscales[r] * (theta_r - mean_r theta_r)^2`
/// ([`crate::design::Replicates::variance`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateFactors {
    pub kind: RepType,
    /// Number of replicates R.
    pub count: usize,
    /// Number of stage-1 PSUs (`design.stages[0].unit_parent.len()`).
    pub n_psu: usize,
    /// Replicate r, PSU u at `[r * n_psu + u]`.
    pub psu_factors: Vec<f64>,
    /// The whole multiplier, as `--rep-scale` takes it (for Fay it includes 1/(1−ρ)²).
    pub scale: f64,
    pub rscales: Vec<f64>,
    pub fay_rho: Option<f64>,
    /// Things the user should know (an fpc that the type does not use).
    pub notes: Vec<Warning>,
}

impl ReplicateFactors {
    /// Replicate r's multipliers, one per PSU.
    pub fn factors(&self, r: usize) -> &[f64] {
        &self.psu_factors[r * self.n_psu..(r + 1) * self.n_psu]
    }

    /// Replicate r's weights: `w_i` × the factor of row i's PSU, written into `out` (length
    /// n). `row_psu` is `design.stages[0].row_unit`. Panics if `r >= count` or the lengths
    /// differ (a caller's bug, not a data problem).
    pub fn apply(&self, r: usize, row_psu: &[u32], w: &[f64], out: &mut [f64]) {
        assert!(
            row_psu.len() == w.len() && w.len() == out.len(),
            "apply: lengths differ"
        );
        let f = self.factors(r);
        for ((o, &wi), &u) in out.iter_mut().zip(w).zip(row_psu) {
            *o = wi * f[u as usize];
        }
    }

    /// The options with which `tasa estimate` reads these replicates back (columns matching
    /// `pattern`, in replicate order) and reproduces their variance: `scale` only where the
    /// type's default differs, `rscales` whenever one is not 1 (always for JKn), `fay_rho`
    /// for Fay.
    pub fn reading_options(&self, pattern: &str) -> ReplicateOptions {
        let default = default_scale(self.kind, self.count, self.fay_rho);
        ReplicateOptions {
            pattern: pattern.to_string(),
            kind: self.kind,
            scale: (default != Some(self.scale)).then_some(self.scale),
            rscales: (self.kind == RepType::Jkn || self.rscales.iter().any(|&r| r != 1.0))
                .then(|| self.rscales.clone()),
            fay_rho: self.fay_rho,
            mse: false,
        }
    }
}

/// The scale `tasa estimate` assumes for a type without `--rep-scale` (computed as
/// `crate::design`'s reader computes it, so that equality is exact).
fn default_scale(kind: RepType, count: usize, rho: Option<f64>) -> Option<f64> {
    let rf = count as f64;
    match kind {
        RepType::Jk1 => Some((rf - 1.0) / rf),
        RepType::Jkn | RepType::Other => Some(1.0),
        RepType::Brr => Some(1.0 / rf),
        RepType::Fay => rho.map(|rho| 1.0 / (rf * (1.0 - rho) * (1.0 - rho))),
        RepType::Bootstrap => Some(1.0 / (rf - 1.0)),
    }
}

/// The type's name as the flags and design files write it.
pub fn type_name(kind: RepType) -> &'static str {
    match kind {
        RepType::Jk1 => "jk1",
        RepType::Jkn => "jkn",
        RepType::Brr => "brr",
        RepType::Fay => "fay",
        RepType::Bootstrap => "bootstrap",
        RepType::Other => "other",
    }
}

/// Makes the replicate factors of `spec.kind` for `design` (see the module documentation for
/// each type's rules and R's counterpart).
pub fn replicate_factors(design: &Design, spec: &ReplicateSpec) -> Result<ReplicateFactors> {
    if design.replicates.is_some() {
        return Err(Error::Usage(
            "the design already has replicate weights; make new ones from a design with \
             strata and clusters instead"
                .into(),
        ));
    }
    if spec.fay_rho.is_some() && spec.kind != RepType::Fay {
        return Err(Error::Usage(format!(
            "a Fay rho applies to fay replicates only, not {}",
            type_name(spec.kind)
        )));
    }
    let mut made =
        match spec.kind {
            RepType::Jk1 => jk1(design, spec)?,
            RepType::Jkn => jkn(design, spec)?,
            RepType::Brr => brr(design, spec, 0.0)?,
            RepType::Fay => {
                let rho = spec
                    .fay_rho
                    .ok_or_else(|| Error::Usage("fay replicates need a rho (--fay-rho)".into()))?;
                if !(0.0..1.0).contains(&rho) {
                    return Err(Error::Usage(format!(
                        "Fay's rho must be in [0, 1), not {rho}"
                    )));
                }
                brr(design, spec, rho)?
            }
            RepType::Bootstrap => bootstrap(design, spec)?,
            RepType::Other => return Err(Error::Usage(
                "replicates of type `other` cannot be made; choose jk1, jkn, brr, fay or bootstrap"
                    .into(),
            )),
        };
    made.notes.extend(fpc_notes(design, spec.kind));
    Ok(made)
}

/// Replicate weights of `spec.kind` made in memory for `design` (as R's `as.svrepdesign`),
/// ready to estimate with: held as the PSU factors (replicate r's weight of row i is `w_i` ×
/// the factor of row i's PSU, as `tasa weight` writes them), the variance multipliers, and the
/// degrees of freedom (the rank of the replicate weights minus 1, taken on the factors of the
/// PSUs that have a row with a non-zero weight: the rows of one PSU are multiples of its
/// factors, so they add no rank).
pub fn made_replicates(
    design: &Design,
    spec: &ReplicateSpec,
    mse: bool,
) -> Result<crate::design::Replicates> {
    let f = replicate_factors(design, spec)?;
    let row_psu = &design.stages[0].row_unit;
    let mut weighted = vec![false; f.n_psu];
    for (&u, &w) in row_psu.iter().zip(&design.weights) {
        weighted[u as usize] |= w != 0.0;
    }
    let kept: Vec<usize> = (0..f.n_psu).filter(|&u| weighted[u]).collect();
    let mut rows = Vec::with_capacity(kept.len() * f.count);
    for r in 0..f.count {
        let fr = f.factors(r);
        rows.extend(kept.iter().map(|&u| fr[u]));
    }
    let df = crate::design::replicate_rank(&rows, kept.len(), f.count) as f64 - 1.0;
    let name = type_name(f.kind);
    let mut out = crate::design::Replicates::factored(
        f.psu_factors,
        f.n_psu,
        &design.weights,
        row_psu,
        f.count,
        f.kind,
    );
    out.notes = f.notes;
    out.names = (1..=f.count).map(|r| format!("{name}_rep{r}")).collect();
    out.scale = f.scale;
    out.rscales = f.rscales;
    out.mse = mse;
    out.df = df;
    Ok(out)
}

/// Whether the design has no strata column (one stratum with an empty label).
fn unstratified(design: &Design) -> bool {
    design.stratum_label.len() == 1 && design.stratum_label[0].is_empty()
}

fn stratum_name(design: &Design, h: usize) -> String {
    format!("stratum `{}`", design.stratum_label[h])
}

/// Warnings for fpcs the type does not use.
fn fpc_notes(design: &Design, kind: RepType) -> Vec<Warning> {
    let has_fpc = |s: usize| {
        design
            .stages
            .get(s)
            .is_some_and(|st| st.unit_f.iter().any(|&f| f != 1.0))
    };
    let later = (1..design.stages.len()).any(has_fpc);
    let mut notes = Vec::new();
    match kind {
        RepType::Brr | RepType::Fay | RepType::Bootstrap if has_fpc(0) || later => {
            notes.push(Warning {
                message: format!(
                    "the finite population correction is not used by {} replicates (as in R)",
                    type_name(kind)
                ),
                remedy: Some("use jk1 or jkn replicates to keep it".into()),
            })
        }
        RepType::Jk1 | RepType::Jkn if later => notes.push(Warning {
            message: "finite population corrections after the first stage are not used by \
                      jackknife replicates (as in R)"
                .into(),
            remedy: None,
        }),
        _ => {}
    }
    notes
}

/// The count the design gives, checked against the one asked for, and the zero-filled matrix
/// (checked against [`MAX_FACTOR_CELLS`]).
fn matrix(spec: &ReplicateSpec, count: usize, n_psu: usize, why: &str) -> Result<Vec<f64>> {
    if let Some(asked) = spec.count {
        if asked != count {
            return Err(Error::Usage(format!(
                "{} replicates on this design number {count} ({why}), not {asked}; \
                 leave the count out",
                type_name(spec.kind)
            )));
        }
    }
    match count.checked_mul(n_psu) {
        Some(cells) if cells <= MAX_FACTOR_CELLS => Ok(vec![0.0; cells]),
        _ => Err(Error::Usage(format!(
            "{} replicates on this design would be {count} replicates × {n_psu} PSUs, more \
             than tasa makes ({MAX_FACTOR_CELLS} multipliers); use bootstrap replicates",
            type_name(spec.kind)
        ))),
    }
}

/// The common fpc factor (N−n)/N of the PSUs `units`, or an error naming `what`.
fn common_f(design: &Design, units: &[u32], what: &str) -> Result<f64> {
    let f = &design.stages[0].unit_f;
    let first = units.first().map_or(1.0, |&u| f[u as usize]);
    if units.iter().any(|&u| f[u as usize] != first) {
        return Err(Error::Design(format!(
            "the fpc differs between the PSUs of {what}; jackknife replicates need one \
             population size per stratum"
        )));
    }
    Ok(first)
}

/// Delete-one-PSU jackknife, unstratified (R's `jk1weights`).
fn jk1(design: &Design, spec: &ReplicateSpec) -> Result<ReplicateFactors> {
    if !unstratified(design) {
        return Err(Error::Usage(format!(
            "jk1 replicates are for unstratified designs; this one has {} strata: use jkn \
             (or bootstrap)",
            design.stratum_label.len()
        )));
    }
    let st = &design.stages[0];
    let n_psu = st.unit_parent.len();
    let f = common_f(design, &st.children[0], "the design")?;
    if f == 0.0 {
        return Err(Error::Design(
            "the design is a census (fpc = number of PSUs): there is no sampling variance to \
             replicate"
                .into(),
        ));
    }
    if n_psu < 2 {
        return Err(Error::Design(
            "jk1 replicates need at least 2 PSUs; the design has 1".into(),
        ));
    }
    let mut factors = matrix(spec, n_psu, n_psu, "one per PSU")?;
    let n = n_psu as f64;
    let keep = n / (n - 1.0);
    for (r, row) in factors.chunks_exact_mut(n_psu).enumerate() {
        row.fill(keep);
        row[r] = 0.0;
    }
    Ok(ReplicateFactors {
        kind: RepType::Jk1,
        count: n_psu,
        n_psu,
        psu_factors: factors,
        // R's `fpc * (n - 1)/n`, in its order of operations.
        scale: f * (n - 1.0) / n,
        rscales: vec![1.0; n_psu],
        fay_rho: None,
        notes: Vec::new(),
    })
}

/// Stratified delete-one-PSU jackknife (R's `jknweights`).
fn jkn(design: &Design, spec: &ReplicateSpec) -> Result<ReplicateFactors> {
    if unstratified(design) {
        return Err(Error::Usage(
            "jkn replicates are for stratified designs; this one has no strata: use jk1 \
             (or bootstrap)"
                .into(),
        ));
    }
    let st = &design.stages[0];
    let n_psu = st.unit_parent.len();
    // The replicates in R's order: strata in design order, their PSUs in data order.
    // `Some(u)` deletes PSU u; `None` is R's `adjust` replicate of a lone PSU.
    let mut plan: Vec<(usize, Option<u32>)> = Vec::new();
    let mut stratum_f = vec![1.0; st.children.len()];
    for (h, units) in st.children.iter().enumerate() {
        let f = common_f(design, units, &stratum_name(design, h))?;
        stratum_f[h] = f;
        if f == 0.0 {
            // A census stratum: no sampling variance, no replicates (R drops them).
            continue;
        }
        if units.len() == 1 {
            match design.lonely_psu {
                LonelyPsu::Fail => {
                    return Err(Error::Design(format!(
                        "{} has only one PSU, so jkn replicates cannot delete it; choose \
                         --lonely-psu certainty, remove, average or adjust",
                        stratum_name(design, h)
                    )))
                }
                LonelyPsu::Certainty | LonelyPsu::Remove | LonelyPsu::Average => continue,
                LonelyPsu::Adjust => plan.push((h, None)),
            }
        } else {
            plan.extend(units.iter().map(|&u| (h, Some(u))));
        }
    }
    if plan.is_empty() {
        return Err(Error::Design(
            "no stratum gives a jackknife replicate (every stratum is a census or a removed \
             single-PSU stratum): there is no sampling variance to replicate"
                .into(),
        ));
    }
    let count = plan.len();
    let mut factors = matrix(spec, count, n_psu, "one per PSU of the sampled strata")?;
    let mut rscales = Vec::with_capacity(count);
    let strata = design.stratum_label.len() as f64;
    for (row, &(h, drop)) in factors.chunks_exact_mut(n_psu).zip(&plan) {
        let units = &st.children[h];
        match drop {
            Some(dropped) => {
                row.fill(1.0);
                let n = units.len() as f64;
                let keep = n / (n - 1.0);
                for &u in units {
                    row[u as usize] = if u == dropped { 0.0 } else { keep };
                }
                // R's `fpc * (n - 1)/n`.
                rscales.push(stratum_f[h] * (n - 1.0) / n);
            }
            None => {
                // R's `adjust`: every other PSU of the design K/(K−1), the lone one 0.
                row.fill(strata / (strata - 1.0));
                row[units[0] as usize] = 0.0;
                rscales.push((strata - 1.0) / strata);
            }
        }
    }
    // R's `average`: scale up by the replicates missing, whatever dropped them.
    let scale = if design.lonely_psu == LonelyPsu::Average && count < n_psu {
        n_psu as f64 / count as f64
    } else {
        1.0
    };
    Ok(ReplicateFactors {
        kind: RepType::Jkn,
        count,
        n_psu,
        psu_factors: factors,
        scale,
        rscales,
        fay_rho: None,
        notes: Vec::new(),
    })
}

/// Entry (i, j) of the Sylvester Hadamard matrix: +1 when i & j has an even number of bits.
fn sylvester_plus(i: usize, j: usize) -> bool {
    (i & j).count_ones().is_multiple_of(2)
}

/// Balanced repeated replication (ρ = 0) and Fay's variant (R's `brrweights`).
fn brr(design: &Design, spec: &ReplicateSpec, rho: f64) -> Result<ReplicateFactors> {
    let kind = spec.kind;
    if unstratified(design) {
        return Err(Error::Usage(format!(
            "{} replicates are for stratified designs with 2 PSUs per stratum; this one has \
             no strata: use jk1 or bootstrap",
            type_name(kind)
        )));
    }
    let st = &design.stages[0];
    let n_psu = st.unit_parent.len();
    if let Some(h) = st.children.iter().position(|u| u.len() != 2) {
        return Err(Error::Design(format!(
            "{} replicates need exactly 2 PSUs in every stratum; {} has {}",
            type_name(kind),
            stratum_name(design, h),
            st.children[h].len()
        )));
    }
    let n_strata = st.children.len();
    // R's order: strata by label; Hadamard row k + 1 for the k-th.
    let mut order: Vec<usize> = (0..n_strata).collect();
    order.sort_by(|&a, &b| design.stratum_label[a].cmp(&design.stratum_label[b]));
    let count = (n_strata + 1).next_power_of_two().max(4);
    let mut factors = matrix(
        spec,
        count,
        n_psu,
        "the order of the Hadamard matrix for this number of strata",
    )?;
    let (high, low) = (2.0 - rho, rho);
    for (r, row) in factors.chunks_exact_mut(n_psu).enumerate() {
        for (k, &h) in order.iter().enumerate() {
            let (first, second) = (st.children[h][0] as usize, st.children[h][1] as usize);
            let plus = sylvester_plus(k + 1, r);
            row[first] = if plus { high } else { low };
            row[second] = if plus { low } else { high };
        }
    }
    let rf = count as f64;
    Ok(ReplicateFactors {
        kind,
        count,
        n_psu,
        psu_factors: factors,
        // As the reader computes its default (R's 1/(R (1-rho)^2) up to rounding).
        scale: 1.0 / (rf * (1.0 - rho) * (1.0 - rho)),
        rscales: vec![1.0; count],
        fay_rho: (kind == RepType::Fay).then_some(rho),
        notes: Vec::new(),
    })
}

/// Rao–Wu rescaling bootstrap with n_h − 1 draws per stratum (R's `subbootweights`).
fn bootstrap(design: &Design, spec: &ReplicateSpec) -> Result<ReplicateFactors> {
    let count = match spec.count {
        Some(c) if c >= 2 => c,
        Some(c) => {
            return Err(Error::Usage(format!(
                "bootstrap replicates need a count of at least 2, not {c} (500 is usual)"
            )))
        }
        None => {
            return Err(Error::Usage(
                "bootstrap replicates need a count (500 is usual)".into(),
            ))
        }
    };
    let st = &design.stages[0];
    let n_psu = st.unit_parent.len();
    if let Some(h) = st.children.iter().position(|u| u.len() < 2) {
        let what = if unstratified(design) {
            "the design (unstratified)".to_string()
        } else {
            stratum_name(design, h)
        };
        return Err(Error::Design(format!(
            "bootstrap replicates need at least 2 PSUs in every stratum; {what} has {}",
            st.children[h].len()
        )));
    }
    let mut factors = matrix(spec, count, n_psu, "as asked")?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    for row in factors.chunks_exact_mut(n_psu) {
        for units in &st.children {
            let n = units.len();
            // Counts first (exact small integers), rescaled once.
            for _ in 0..n - 1 {
                let j = rng.random_range(0..n as u32) as usize;
                row[units[j] as usize] += 1.0;
            }
            let c = n as f64 / (n as f64 - 1.0);
            for &u in units {
                row[u as usize] *= c;
            }
        }
    }
    let rf = count as f64;
    Ok(ReplicateFactors {
        kind: RepType::Bootstrap,
        count,
        n_psu,
        psu_factors: factors,
        scale: 1.0 / (rf - 1.0),
        rscales: vec![1.0; count],
        fay_rho: None,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    // R's numbers are kept as R printed them (`sprintf("%.17g")`), digits beyond f64 included.
    #![allow(clippy::excessive_precision)]

    use super::*;
    use crate::design::{DesignOptions, Replicates};
    use crate::table::read::{read_table, ReadOptions};
    use crate::table::{Column, Table};
    use std::path::Path;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            (a - b).abs() / b.abs().max(1e-300)
        }
    }

    fn assert_rel(what: &str, got: f64, want: f64, tol: f64) {
        assert!(
            rel(got, want) <= tol,
            "{what}: got {got:.17e}, R {want:.17e}, relative difference {:e}",
            rel(got, want)
        );
    }

    fn api(name: &str) -> Table {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/data")
            .join(name);
        read_table(&path, &ReadOptions::default()).expect("reference data")
    }

    fn num(t: &Table, name: &str) -> Vec<f64> {
        t.require_num(name).expect("numeric column").to_vec()
    }

    fn spec(kind: RepType) -> ReplicateSpec {
        ReplicateSpec {
            kind,
            count: None,
            seed: 0,
            fay_rho: None,
        }
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    /// Every replicate's weights.
    fn all_weights(d: &Design, f: &ReplicateFactors) -> Vec<Vec<f64>> {
        (0..f.count)
            .map(|r| {
                let mut out = vec![0.0; d.n];
                f.apply(r, &d.stages[0].row_unit, &d.weights, &mut out);
                out
            })
            .collect()
    }

    /// The variance as `tasa estimate` computes it from replicate estimates.
    fn variance(f: &ReplicateFactors, theta: f64, thetas: &[f64]) -> f64 {
        let mut r = Replicates::dense(Vec::new(), f.count, f.kind);
        r.scale = f.scale;
        r.rscales = f.rscales.clone();
        r.variance(theta, thetas)
    }

    fn total(w: &[f64], y: &[f64]) -> f64 {
        w.iter().zip(y).map(|(a, b)| a * b).sum()
    }

    fn mean(w: &[f64], y: &[f64]) -> f64 {
        total(w, y) / w.iter().sum::<f64>()
    }

    /// (SE of the weighted mean of `m`, SE of the total of `t`) from the replicates.
    fn replicate_ses(d: &Design, f: &ReplicateFactors, m: &[f64], t: &[f64]) -> (f64, f64) {
        let reps = all_weights(d, f);
        let means: Vec<f64> = reps.iter().map(|w| mean(w, m)).collect();
        let totals: Vec<f64> = reps.iter().map(|w| total(w, t)).collect();
        (
            variance(f, mean(&d.weights, m), &means).sqrt(),
            variance(f, total(&d.weights, t), &totals).sqrt(),
        )
    }

    /// The with-replacement linearisation SE of the total of `y`.
    fn linear_se_total(d: &Design, y: &[f64]) -> f64 {
        let rows: Vec<u32> = (0..d.n as u32).collect();
        let z: Vec<f64> = d.weights.iter().zip(y).map(|(w, v)| w * v).collect();
        d.variance(&rows, &z).expect("variance").sqrt()
    }

    /// Writes the replicates as columns `rep1..R`, reads the design back with
    /// [`ReplicateFactors::reading_options`] and returns the variance `tasa estimate` gets
    /// for the total of `y`.
    fn read_back_se_total(
        mut table: Table,
        options: &DesignOptions,
        f: &ReplicateFactors,
        y: &str,
    ) -> f64 {
        let d = Design::build(&table, options).expect("design");
        for (r, w) in all_weights(&d, f).into_iter().enumerate() {
            table
                .push(Column::num(format!("rep{}", r + 1), w))
                .expect("column");
        }
        let back = DesignOptions {
            replicates: Some(f.reading_options("rep*")),
            ..options.clone()
        };
        let d2 = Design::build(&table, &back).expect("replicate design");
        let reps = d2.replicates.as_ref().expect("replicates");
        let y = num(&table, y);
        let thetas: Vec<f64> = (0..reps.count)
            .map(|r| total(&reps.column(r, d2.n).to_vec(d2.n), &y))
            .collect();
        reps.variance(total(&d2.weights, &y), &thetas).sqrt()
    }

    fn apiclus1_options(fpc: bool) -> DesignOptions {
        DesignOptions {
            weight: Some("pw".into()),
            clusters: vec!["dnum".into()],
            fpc: if fpc { vec!["fpc".into()] } else { vec![] },
            ..Default::default()
        }
    }

    // R 4.2, survey 4.1-1, for the JK1 and JKn cases:
    //   p <- function(...) cat(sprintf("%.17g", c(...)), "\n")
    //   des <- svydesign(id=~dnum, weights=~pw, data=apiclus1)          # and fpc=~fpc
    //   r <- as.svrepdesign(des, type="JK1"); W <- weights(r, "analysis")
    //   p(r$scale); p(W[c(1, 50, 183), c(1, 7, 15)])
    //   p(SE(svymean(~api00, r))); p(SE(svytotal(~enroll, r)))
    // (apiclus1 and apistrat read from ../shared/reference/data/*.csv)

    /// R's analysis weights of rows 1, 50, 183 (1-based) in replicates 1, 7, 15, the same
    /// with and without the fpc: pw × 15/14, and 0 for the deleted district.
    const JK1_ROWS: [usize; 3] = [0, 49, 182];
    const JK1_REPS: [usize; 3] = [0, 6, 14];
    const JK1_W: [[f64; 3]; 3] = [
        [0.0, 36.264638900756836, 36.264638900756836],
        [36.264638900756836, 36.264638900756836, 36.264638900756836],
        [36.264638900756836, 36.264638900756836, 0.0],
    ];

    #[test]
    fn jk1_on_apiclus1_matches_r() {
        let table = api("apiclus1.csv");
        let api00 = num(&table, "api00");
        let enroll = num(&table, "enroll");
        // (fpc, R's scale, SE of mean api00, SE of total enroll)
        let cases = [
            (
                false,
                0.93333333333333335,
                26.594161357710597,
                941610.74091197969,
            ),
            (
                true,
                0.91483927785116681,
                26.329360589527614,
                932235.02704121498,
            ),
        ];
        for (fpc, scale, se_mean, se_total) in cases {
            let options = apiclus1_options(fpc);
            let d = Design::build(&table, &options).expect("design");
            let f = replicate_factors(&d, &spec(RepType::Jk1)).expect("jk1");
            assert_eq!((f.count, f.n_psu), (15, 15));
            assert_rel("scale", f.scale, scale, 1e-15);
            assert!(f.rscales.iter().all(|&r| r == 1.0));
            assert!(f.notes.is_empty());
            let reps = all_weights(&d, &f);
            for (a, &r) in JK1_REPS.iter().enumerate() {
                for (b, &i) in JK1_ROWS.iter().enumerate() {
                    assert_eq!(reps[r][i], JK1_W[a][b], "replicate {r}, row {i}");
                }
            }
            let (m, t) = replicate_ses(&d, &f, &api00, &enroll);
            assert_rel("SE mean api00", m, se_mean, 1e-9);
            assert_rel("SE total enroll", t, se_total, 1e-9);
            // Read back: with the fpc the scale is not jk1's default, so it is passed.
            let o = f.reading_options("rep*");
            assert_eq!(o.scale.is_some(), fpc);
            assert_eq!(o.rscales, None);
            let back = read_back_se_total(table.clone(), &options, &f, "enroll");
            assert_rel("read-back SE total enroll", back, se_total, 1e-9);
        }
    }

    #[test]
    fn jkn_on_apistrat_with_fpc_matches_r() {
        // des <- svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)
        // r <- as.svrepdesign(des, type="JKn"); W <- weights(r, "analysis")
        // p(r$scale); p(r$rscales[c(1, 150, 200)]); p(W[c(1, 101, 200), c(1, 150, 200)])
        // p(SE(svymean(~api00, r))); p(SE(svytotal(~enroll, r)))
        let table = api("apistrat.csv");
        let options = DesignOptions {
            weight: Some("pw".into()),
            strata: Some("stype".into()),
            fpc: vec!["fpc".into()],
            ..Default::default()
        };
        let d = Design::build(&table, &options).expect("design");
        let f = replicate_factors(&d, &spec(RepType::Jkn)).expect("jkn");
        assert_eq!((f.count, f.n_psu), (200, 200));
        assert_eq!(f.scale, 1.0);
        // Strata in data order E, M, H: (4421-100)/4421 * 99/100, (1018-50)/1018 * 49/50,
        // (755-50)/755 * 49/50.
        let want = [
            (0, 0.96760687627233655),
            (149, 0.93186640471512772),
            (199, 0.9150993377483444),
        ];
        for (r, v) in want {
            assert_rel("rscale", f.rscales[r], v, 1e-15);
        }
        let w = [
            [0.0, 44.656564731790567, 15.100000381469725],
            [44.209999084472656, 44.209999084472656, 15.100000381469725],
            [44.209999084472656, 44.209999084472656, 0.0],
        ];
        let reps = all_weights(&d, &f);
        for (a, r) in [0, 149, 199].into_iter().enumerate() {
            for (b, i) in [0, 100, 199].into_iter().enumerate() {
                assert_rel(&format!("weight r{r} i{i}"), reps[r][i], w[a][b], 1e-15);
            }
        }
        let (m, t) = replicate_ses(&d, &f, &num(&table, "api00"), &num(&table, "enroll"));
        assert_rel("SE mean api00", m, 9.4089408027846098, 1e-9);
        assert_rel("SE total enroll", t, 114641.71610078032, 1e-9);
        let o = f.reading_options("rep*");
        assert_eq!((o.scale, o.rscales.as_ref()), (None, Some(&f.rscales)));
        let back = read_back_se_total(table, &options, &f, "enroll");
        assert_rel("read-back SE total enroll", back, 114641.71610078032, 1e-9);
    }

    /// 3 strata (`1`: 3 PSUs, `2`: 1 PSU, `3`: 2 PSUs), 2 rows per PSU; `n` the optional
    /// population sizes. R:
    /// l <- data.frame(st=c(1,1,1,1,1,1,2,2,3,3,3,3), psu=c(1,1,2,2,3,3,4,4,5,5,6,6),
    ///   w=c(3,4,5,3,4,5,10,10,2,3,2,3), y=c(1,2,3,4,5,6,7,8,9,10,11,12))
    fn lonely_table() -> Table {
        Table::from_columns(vec![
            Column::num("st", vec![1., 1., 1., 1., 1., 1., 2., 2., 3., 3., 3., 3.]),
            Column::num("psu", vec![1., 1., 2., 2., 3., 3., 4., 4., 5., 5., 6., 6.]),
            Column::num("w", vec![3., 4., 5., 3., 4., 5., 10., 10., 2., 3., 2., 3.]),
            Column::num("y", (1..=12).map(f64::from).collect()),
            Column::num(
                "N",
                vec![30., 30., 30., 30., 30., 30., 1., 1., 20., 20., 20., 20.],
            ),
        ])
        .expect("table")
    }

    fn lonely_design(t: &Table, lonely: LonelyPsu, fpc: bool) -> Design {
        let options = DesignOptions {
            weight: Some("w".into()),
            strata: Some("st".into()),
            clusters: vec!["psu".into()],
            fpc: if fpc { vec!["N".into()] } else { vec![] },
            lonely_psu: lonely,
            ..Default::default()
        };
        Design::build(t, &options).expect("design")
    }

    #[test]
    fn jkn_single_psu_strata_follow_lonely_psu_as_r() {
        // for (lp in c("fail","remove","certainty","average","adjust")) {
        //   options(survey.lonely.psu=lp)
        //   r <- as.svrepdesign(svydesign(id=~psu, strata=~st, weights=~w, data=l), type="JKn")
        //   p(r$scale); p(r$rscales); print(r$repweights$weights); p(SE(svytotal(~y, r))) }
        // fail: "Stratum2has only one PSU".
        let t = lonely_table();
        let y = num(&t, "y");
        // (Design::build already refuses the lone PSU under `fail`; the replicates check it
        // again for designs changed after building.)
        let mut d = lonely_design(&t, LonelyPsu::Remove, false);
        d.lonely_psu = LonelyPsu::Fail;
        let e = replicate_factors(&d, &spec(RepType::Jkn)).unwrap_err();
        assert!(
            message(e).starts_with("stratum `2` has only one PSU"),
            "message names the stratum"
        );
        let (a, b) = (2.0 / 3.0, 0.5);
        let dropped: Vec<[f64; 6]> = vec![
            [0.0, 1.5, 1.5, 1.0, 1.0, 1.0],
            [1.5, 0.0, 1.5, 1.0, 1.0, 1.0],
            [1.5, 1.5, 0.0, 1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0, 1.0, 0.0, 2.0],
            [1.0, 1.0, 1.0, 1.0, 2.0, 0.0],
        ];
        let mut adjusted = dropped.clone();
        adjusted.insert(3, [1.5, 1.5, 1.5, 0.0, 1.5, 1.5]);
        // (policy, scale, rscales, factors by replicate, R's SE of the total of y)
        let cases = [
            (
                LonelyPsu::Remove,
                1.0,
                vec![a, a, a, b, b],
                dropped.clone(),
                35.397740040855716,
            ),
            (
                LonelyPsu::Certainty,
                1.0,
                vec![a, a, a, b, b],
                dropped.clone(),
                35.397740040855716,
            ),
            (
                LonelyPsu::Average,
                1.2,
                vec![a, a, a, b, b],
                dropped,
                38.776281410161033,
            ),
            (
                LonelyPsu::Adjust,
                1.0,
                vec![a, a, a, a, b, b],
                adjusted,
                52.797218641669907,
            ),
        ];
        for (policy, scale, rscales, factors, se) in cases {
            let d = lonely_design(&t, policy, false);
            let f = replicate_factors(&d, &spec(RepType::Jkn)).expect("jkn");
            assert_eq!(f.count, factors.len(), "{policy:?}");
            assert_rel("scale", f.scale, scale, 1e-15);
            for (got, want) in f.rscales.iter().zip(&rscales) {
                assert_rel("rscale", *got, *want, 1e-15);
            }
            for (r, want) in factors.iter().enumerate() {
                assert_eq!(f.factors(r), want, "{policy:?} replicate {r}");
            }
            let totals: Vec<f64> = all_weights(&d, &f).iter().map(|w| total(w, &y)).collect();
            let v = variance(&f, total(&d.weights, &y), &totals);
            assert_rel(&format!("{policy:?} SE"), v.sqrt(), se, 1e-9);
        }
    }

    #[test]
    fn jkn_census_stratum_makes_no_replicates_as_r() {
        // l$N <- c(rep(30,6), 1, 1, rep(20,4))  # stratum 2 is a census
        // r <- as.svrepdesign(svydesign(id=~psu, strata=~st, weights=~w, fpc=~N, data=l),
        //   type="JKn"); p(r$rscales); p(SE(svytotal(~y, r)))
        // 0.6 x 3, 0.45 x 2; SE 33.581244765493729, equal to the linearisation SE.
        let t = lonely_table();
        let d = lonely_design(&t, LonelyPsu::Fail, true);
        let f = replicate_factors(&d, &spec(RepType::Jkn)).expect("jkn");
        assert_eq!(f.count, 5);
        let want = [0.6, 0.6, 0.6, 0.45, 0.45];
        for (got, want) in f.rscales.iter().zip(want) {
            assert_rel("rscale", *got, want, 1e-15);
        }
        let y = num(&t, "y");
        let totals: Vec<f64> = all_weights(&d, &f).iter().map(|w| total(w, &y)).collect();
        let se = variance(&f, total(&d.weights, &y), &totals).sqrt();
        assert_rel("SE", se, 33.581244765493729, 1e-9);
        assert_rel("linearisation SE", linear_se_total(&d, &y), se, 1e-12);

        // R's `average` scales up for the dropped census replicates too (no lone PSU here):
        // options(survey.lonely.psu="average"); same design: r$scale 1.2,
        // SE(svytotal(~y, r)) 36.786410534326393.
        let d = lonely_design(&t, LonelyPsu::Average, true);
        let f = replicate_factors(&d, &spec(RepType::Jkn)).expect("jkn");
        assert_rel("average scale", f.scale, 1.2, 1e-15);
        let o = f.reading_options("rep*");
        assert_eq!(o.scale, Some(f.scale));
        let totals: Vec<f64> = all_weights(&d, &f).iter().map(|w| total(w, &y)).collect();
        let se = variance(&f, total(&d.weights, &y), &totals).sqrt();
        assert_rel("average SE", se, 36.786410534326393, 1e-9);
    }

    /// Strata `b`, `a`, `c` in data order (R sorts them a, b, c), 2 PSUs each, 2 rows each.
    /// b <- data.frame(st=c("b","b","b","b","a","a","a","a","c","c","c","c"),
    ///   psu=c(1,2,1,2,3,3,4,4,5,6,6,5), w=c(10,12,11,9,20,21,19,22,5,6,7,8),
    ///   y=c(3,5,2,8,1,4,6,7,9,2,3,5))
    fn pairs_table() -> Table {
        let st: Vec<Option<String>> = "bbbbaaaacccc"
            .chars()
            .map(|c| Some(c.to_string()))
            .collect();
        Table::from_columns(vec![
            Column::cat_from_strings("st", &st),
            Column::num("psu", vec![1., 2., 1., 2., 3., 3., 4., 4., 5., 6., 6., 5.]),
            Column::num(
                "w",
                vec![10., 12., 11., 9., 20., 21., 19., 22., 5., 6., 7., 8.],
            ),
            Column::num("y", vec![3., 5., 2., 8., 1., 4., 6., 7., 9., 2., 3., 5.]),
        ])
        .expect("table")
    }

    #[test]
    fn brr_and_fay_equal_r_when_r_uses_sylvester() {
        // db <- svydesign(id=~psu, strata=~st, weights=~w, data=b)
        // r <- as.svrepdesign(db, type="BRR"); p(r$scale); print(r$repweights$weights)
        // r <- as.svrepdesign(db, type="Fay", fay.rho=0.3)   # scale 0.51020408163265318
        // p(SE(svytotal(~y, r)))  # 189.73665961010275 for both; linearisation ...278
        // R's multipliers of PSUs 1..6 (rows) in replicates 1..4 (columns), BRR:
        let r_brr = [
            [2., 2., 0., 0.],
            [0., 0., 2., 2.],
            [2., 0., 2., 0.],
            [0., 2., 0., 2.],
            [2., 0., 0., 2.],
            [0., 2., 2., 0.],
        ];
        let t = pairs_table();
        let options = DesignOptions {
            weight: Some("w".into()),
            strata: Some("st".into()),
            clusters: vec!["psu".into()],
            ..Default::default()
        };
        let d = Design::build(&t, &options).expect("design");
        let y = num(&t, "y");
        for (kind, rho, scale) in [
            (RepType::Brr, None, 0.25),
            (RepType::Fay, Some(0.3), 0.51020408163265318),
        ] {
            let f = replicate_factors(
                &d,
                &ReplicateSpec {
                    fay_rho: rho,
                    ..spec(kind)
                },
            )
            .expect("brr");
            assert_eq!(f.count, 4);
            assert_rel("scale", f.scale, scale, 1e-15);
            let rho = rho.unwrap_or(0.0);
            for (u, row) in r_brr.iter().enumerate() {
                for (r, &m) in row.iter().enumerate() {
                    let want = if m == 2.0 { 2.0 - rho } else { rho };
                    assert_eq!(f.factors(r)[u], want, "PSU {u}, replicate {r}");
                }
            }
            let o = f.reading_options("rep*");
            assert_eq!((o.scale, o.rscales), (None, None));
            let back = read_back_se_total(t.clone(), &options, &f, "y");
            assert_rel("SE total y", back, 189.73665961010275, 1e-12);
            assert_rel("linearisation", linear_se_total(&d, &y), back, 1e-12);
        }
    }

    #[test]
    fn brr_and_fay_variance_of_a_total_is_the_linearisation_variance() {
        // apistrat schools paired within school type in data order: 50 + 25 + 25 strata of
        // 2 schools, 128 replicates (R would use 100 + 4 = 104).
        let mut t = api("apistrat.csv");
        let stype = t.column("stype").expect("stype").clone();
        let mut seen = std::collections::HashMap::new();
        let pair: Vec<Option<String>> = (0..t.nrows())
            .map(|i| {
                let s = stype.text(i).expect("stype");
                let k = seen.entry(s.clone()).or_insert(0usize);
                *k += 1;
                Some(format!("{s}{}", (*k - 1) / 2))
            })
            .collect();
        t.push(Column::cat_from_strings("pair", &pair))
            .expect("pair");
        let d = Design::build(
            &t,
            &DesignOptions {
                weight: Some("pw".into()),
                strata: Some("pair".into()),
                ..Default::default()
            },
        )
        .expect("design");
        assert_eq!(d.stratum_label.len(), 100);
        for y in ["enroll", "api00"] {
            let y = num(&t, y);
            let lin = linear_se_total(&d, &y);
            for rho in [None, Some(0.5)] {
                let kind = if rho.is_some() {
                    RepType::Fay
                } else {
                    RepType::Brr
                };
                let f = replicate_factors(
                    &d,
                    &ReplicateSpec {
                        fay_rho: rho,
                        ..spec(kind)
                    },
                )
                .expect("brr");
                assert_eq!(f.count, 128);
                let totals: Vec<f64> = all_weights(&d, &f).iter().map(|w| total(w, &y)).collect();
                let se = variance(&f, total(&d.weights, &y), &totals).sqrt();
                assert_rel(&format!("{kind:?} SE"), se, lin, 1e-12);
            }
        }
    }

    fn apistrat_design() -> (Table, Design) {
        let t = api("apistrat.csv");
        let d = Design::build(
            &t,
            &DesignOptions {
                weight: Some("pw".into()),
                strata: Some("stype".into()),
                ..Default::default()
            },
        )
        .expect("design");
        (t, d)
    }

    #[test]
    fn bootstrap_is_reproducible_balanced_and_close_to_linearisation() {
        let (t, d) = apistrat_design();
        let boot = |seed, count| {
            replicate_factors(
                &d,
                &ReplicateSpec {
                    count: Some(count),
                    seed,
                    ..spec(RepType::Bootstrap)
                },
            )
            .expect("bootstrap")
        };
        let a = boot(2026, 50);
        assert_eq!(a, boot(2026, 50));
        assert_ne!(a.psu_factors, boot(2027, 50).psu_factors);
        assert_eq!((a.scale, a.rscales.len()), (1.0 / 49.0, 50));
        // Each replicate redistributes every stratum's n_h PSUs: multipliers sum to n_h.
        for r in 0..a.count {
            for units in &d.stages[0].children {
                let s: f64 = units.iter().map(|&u| a.factors(r)[u as usize]).sum();
                assert_rel("stratum sum", s, units.len() as f64, 1e-12);
            }
        }
        // Read back with the bootstrap's default scale.
        let o = a.reading_options("rep*");
        assert_eq!((o.scale, o.rscales), (None, None));

        let f = boot(1, 2000);
        for y in ["enroll", "api00"] {
            let y = num(&t, y);
            let totals: Vec<f64> = all_weights(&d, &f).iter().map(|w| total(w, &y)).collect();
            let se = variance(&f, total(&d.weights, &y), &totals).sqrt();
            let lin = linear_se_total(&d, &y);
            assert!(
                rel(se, lin) < 0.05,
                "bootstrap SE {se}, linearisation {lin}"
            );
        }
    }

    #[test]
    fn apply_scales_rows_by_their_psu() {
        let f = ReplicateFactors {
            kind: RepType::Other,
            count: 2,
            n_psu: 2,
            psu_factors: vec![0.0, 2.0, 1.5, 0.5],
            scale: 1.0,
            rscales: vec![1.0; 2],
            fay_rho: None,
            notes: Vec::new(),
        };
        let mut out = [0.0; 3];
        f.apply(1, &[1, 0, 1], &[2.0, 4.0, 6.0], &mut out);
        assert_eq!(out, [1.0, 6.0, 3.0]);
    }

    #[test]
    fn errors_name_the_problem() {
        let t = lonely_table();
        let d = lonely_design(&t, LonelyPsu::Remove, false);
        // BRR: stratum `1` has 3 PSUs.
        let e = message(replicate_factors(&d, &spec(RepType::Brr)).unwrap_err());
        assert_eq!(
            e,
            "brr replicates need exactly 2 PSUs in every stratum; stratum `1` has 3"
        );
        // Bootstrap: stratum `2` has a single PSU.
        let boot = ReplicateSpec {
            count: Some(100),
            ..spec(RepType::Bootstrap)
        };
        let e = message(replicate_factors(&d, &boot).unwrap_err());
        assert_eq!(
            e,
            "bootstrap replicates need at least 2 PSUs in every stratum; stratum `2` has 1"
        );
        let (_, strat) = apistrat_design();
        for (count, want) in [
            (
                Some(1),
                "bootstrap replicates need a count of at least 2, not 1 (500 is usual)",
            ),
            (None, "bootstrap replicates need a count (500 is usual)"),
        ] {
            let s = ReplicateSpec {
                count,
                ..spec(RepType::Bootstrap)
            };
            assert_eq!(message(replicate_factors(&strat, &s).unwrap_err()), want);
        }
        // JK1: the design gives 15 replicates; on a stratified design it is refused.
        let clus = Design::build(&api("apiclus1.csv"), &apiclus1_options(false)).expect("design");
        let s = ReplicateSpec {
            count: Some(20),
            ..spec(RepType::Jk1)
        };
        let e = message(replicate_factors(&clus, &s).unwrap_err());
        assert_eq!(
            e,
            "jk1 replicates on this design number 15 (one per PSU), not 20; leave the count out"
        );
        let e = message(replicate_factors(&strat, &spec(RepType::Jk1)).unwrap_err());
        assert!(e.contains("use jkn"), "{e}");
        let e = message(replicate_factors(&clus, &spec(RepType::Jkn)).unwrap_err());
        assert!(e.contains("use jk1"), "{e}");
        let e = message(replicate_factors(&clus, &spec(RepType::Other)).unwrap_err());
        assert!(e.contains("cannot be made"), "{e}");
        let e = message(replicate_factors(&strat, &spec(RepType::Fay)).unwrap_err());
        assert!(e.contains("need a rho"), "{e}");
        let s = ReplicateSpec {
            fay_rho: Some(0.5),
            ..spec(RepType::Brr)
        };
        let e = message(replicate_factors(&strat, &s).unwrap_err());
        assert!(e.contains("fay replicates only"), "{e}");
    }

    #[test]
    fn unused_fpc_is_noted() {
        let clus = Design::build(&api("apiclus1.csv"), &apiclus1_options(true)).expect("design");
        let s = ReplicateSpec {
            count: Some(10),
            ..spec(RepType::Bootstrap)
        };
        let f = replicate_factors(&clus, &s).expect("bootstrap");
        assert_eq!(f.notes.len(), 1);
        assert!(f.notes[0].message.contains("not used by bootstrap"));
        let f = replicate_factors(&clus, &spec(RepType::Jk1)).expect("jk1");
        assert!(f.notes.is_empty());
    }
}
