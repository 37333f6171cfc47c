//! Taylor-linearisation variance of a total of scores: stratified multistage sampling with
//! finite population corrections, as R survey's `svyrecvar` (`survey.ultimate.cluster =
//! FALSE`). A domain estimate passes only its rows; the other rows have score 0, so every
//! PSU of the design still counts (the full-design method, never dropping PSUs).
//!
//! Per stratum h with n_h PSUs, PSU totals t_hj and fpc factors f_hj = (N_h - n_h)/N_h:
//! `v_h = n_h/(n_h - 1) * sum_j f_hj (t_hj - mean_j t_hj)^2`; a census stratum (all
//! f < 1e-7) gives 0. When an fpc is given for every stage, each sampled unit adds the
//! same one-stage variance of its sub-units, multiplied by the sampling fractions n/N of
//! the stages above it. Single-PSU strata follow `--lonely-psu` as R 4.1 does.

use super::{Design, LonelyPsu};
use crate::{Error, Result};

/// K score vectors over the rows of an estimate, read row by row: the variance functions
/// take them in this form so that a row scoring in few of many vectors (a group's row among
/// the 2k + 1 scores of a gap table) costs its non-zero scores only.
pub trait Scores {
    /// The number of vectors, K.
    fn count(&self) -> usize;
    /// Calls `f(c, z)` for the non-zero scores `z` of the estimate's `j`-th row (vector `c`),
    /// each vector at most once. Skipping a zero never changes a sum.
    fn each(&self, j: usize, f: impl FnMut(usize, f64));

    /// The K vectors written out over `m` rows, for the paths that need them whole.
    fn columns(&self, m: usize) -> Vec<Vec<f64>> {
        let mut out = vec![vec![0.0; m]; self.count()];
        (0..m).for_each(|j| self.each(j, |c, z| out[c][j] = z));
        out
    }
}

/// Score vectors given whole, `z[c][j]`.
impl Scores for [&[f64]] {
    fn count(&self) -> usize {
        self.len()
    }

    #[inline]
    fn each(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        for (c, zc) in self.iter().enumerate() {
            let z = zc[j];
            if z != 0.0 {
                f(c, z);
            }
        }
    }
}

/// A unit no row of the estimate falls in.
const UNTOUCHED: u32 = u32::MAX;

/// Scratch space for [`one_parent`], reused across parents so that no parent allocates.
struct Scratch {
    out: Vec<f64>,
    mean: Vec<f64>,
}

impl Scratch {
    fn new(k: usize) -> Scratch {
        Scratch {
            out: vec![0.0; k * k],
            mean: vec![0.0; k],
        }
    }
}

/// Adds `factor` × one parent's contribution to the K × K covariance (row-major) into `acc`;
/// false for a lonely parent under `average` (nothing added). `t` holds the K totals of each
/// of the parent's units (untouched units included with 0), `f` each unit's fpc factor.
#[allow(clippy::too_many_arguments)]
fn one_parent(
    t: &[f64],
    f: &[f64],
    k: usize,
    lonely: LonelyPsu,
    name: impl Fn() -> String,
    factor: f64,
    acc: &mut [f64],
    scratch: &mut Scratch,
) -> Result<bool> {
    let n = f.len();
    let out = &mut scratch.out;
    out.iter_mut().for_each(|x| *x = 0.0);
    if f.iter().all(|&f| f < 1e-7) {
        return Ok(true);
    }
    if n > 1 {
        let mean = &mut scratch.mean;
        mean.iter_mut().for_each(|m| *m = 0.0);
        for u in 0..n {
            for (m, x) in mean.iter_mut().zip(&t[u * k..(u + 1) * k]) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let scale = n as f64 / (n as f64 - 1.0);
        for u in 0..n {
            let row = &t[u * k..(u + 1) * k];
            for a in 0..k {
                let da = f[u] * scale * (row[a] - mean[a]);
                for b in 0..k {
                    out[a * k + b] += da * (row[b] - mean[b]);
                }
            }
        }
    } else {
        let f0 = f.first().copied().unwrap_or(1.0);
        match lonely {
            LonelyPsu::Fail => {
                return Err(Error::Design(format!(
                    "{} has only one PSU; choose --lonely-psu adjust, average, certainty or remove",
                    name()
                )))
            }
            LonelyPsu::Certainty | LonelyPsu::Remove => return Ok(true),
            // R 4.1: the lone PSU total is not centred.
            LonelyPsu::Adjust => {
                for a in 0..k {
                    for b in 0..k {
                        out[a * k + b] = f0 * t[a] * t[b];
                    }
                }
            }
            LonelyPsu::Average => return Ok(false),
        }
    }
    if factor == 1.0 {
        acc.iter_mut().zip(out.iter()).for_each(|(s, x)| *s += x);
    } else {
        acc.iter_mut()
            .zip(out.iter())
            .for_each(|(s, x)| *s += factor * x);
    }
    Ok(true)
}

impl Design {
    /// The linearisation variance of `sum_i z_i` over `rows` (all other rows score 0). After
    /// calibration the scores are first replaced by their calibration residuals, which are
    /// non-zero on every row (as R's `svyrecvar` for calibrated designs).
    pub fn variance(&self, rows: &[u32], z: &[f64]) -> Result<f64> {
        Ok(self.covariance(rows, &[z])?[0])
    }

    /// The covariance of the calibration residuals of K score vectors aligned with `rows` by
    /// the row path: every row's residual, then the stages' unit totals. [`Design::variance`]
    /// takes it when [`super::aggregate`] does not cover the design; tests hold the two equal.
    pub(crate) fn residual_covariance_by_rows<S: Scores + ?Sized>(
        &self,
        rows: &[u32],
        z: &S,
    ) -> Result<Vec<f64>> {
        let Some(cal) = &self.calibration else {
            return self.scores_covariance(rows, z);
        };
        let e: Vec<Vec<f64>> = z
            .columns(rows.len())
            .iter()
            .map(|v| {
                let mut e = Vec::new();
                cal.residuals(rows, v, &mut e);
                e
            })
            .collect();
        let es: Vec<&[f64]> = e.iter().map(|v| v.as_slice()).collect();
        self.scores_covariance(cal.all_rows(), es.as_slice())
    }

    /// The linearisation covariance matrix (K × K, row-major) of the totals of K score
    /// vectors `z[k]` aligned with `rows` (every other row scores 0), calibration-aware as
    /// [`Design::variance`]: what contrasts between domains and tests across a table need
    /// (R's `svymean(..., covmat)`).
    pub fn covariance(&self, rows: &[u32], z: &[&[f64]]) -> Result<Vec<f64>> {
        self.covariance_of(rows, z)
    }

    /// [`Design::covariance`] of scores in any [`Scores`] form.
    pub fn covariance_of<S: Scores + ?Sized>(&self, rows: &[u32], z: &S) -> Result<Vec<f64>> {
        match &self.calibration {
            None => self.scores_covariance(rows, z),
            Some(cal) => {
                if let (Some(g), Some(sums)) = (cal.single_greg(), cal.aggregates(self)) {
                    return Ok(sums.covariance(self, g, rows, z));
                }
                self.residual_covariance_by_rows(rows, z)
            }
        }
    }

    /// The K variances of [`Design::covariance_of`] alone (its diagonal): every domain of a
    /// breakdown from one call, when no covariance between them is wanted. A calibrated
    /// design that [`super::aggregate`] covers makes only the diagonal; the other paths take
    /// it from the covariance.
    pub fn variances_of<S: Scores + ?Sized>(&self, rows: &[u32], z: &S) -> Result<Vec<f64>> {
        if let Some(cal) = &self.calibration {
            if let (Some(g), Some(sums)) = (cal.single_greg(), cal.aggregates(self)) {
                return Ok(sums.variances(self, g, rows, z));
            }
        }
        let k = z.count();
        let v = self.covariance_of(rows, z)?;
        Ok((0..k).map(|a| v[a * k + a]).collect())
    }

    /// The covariance of the totals of K score vectors as given, `z[k]` aligned with `rows`.
    fn scores_covariance<S: Scores + ?Sized>(&self, rows: &[u32], z: &S) -> Result<Vec<f64>> {
        let k = z.count();
        let st = &self.stages[0];
        let n_units = st.unit_parent.len();
        let mut totals = vec![0.0; n_units * k];
        let mut present = vec![false; self.stratum_label.len()];
        for (idx, &i) in rows.iter().enumerate() {
            let u = st.row_unit[i as usize] as usize;
            let t = &mut totals[u * k..(u + 1) * k];
            z.each(idx, |c, x| t[c] += x);
            present[self.row_stratum[i as usize] as usize] = true;
        }
        let (mut sum, mut n_present, mut n_ok) = (vec![0.0; k * k], 0usize, 0usize);
        let (mut t, mut f) = (Vec::new(), Vec::new());
        let mut scratch = Scratch::new(k);
        for (h, units) in st.children.iter().enumerate() {
            if !present[h] {
                continue;
            }
            n_present += 1;
            t.clear();
            f.clear();
            for &u in units {
                t.extend_from_slice(&totals[u as usize * k..(u as usize + 1) * k]);
                f.push(st.unit_f[u as usize]);
            }
            let name = || format!("stratum `{}`", self.stratum_label[h]);
            if one_parent(
                &t,
                &f,
                k,
                self.lonely_psu,
                name,
                1.0,
                &mut sum,
                &mut scratch,
            )? {
                n_ok += 1;
            }
        }
        let scale = if n_ok == 0 {
            0.0
        } else {
            n_present as f64 / n_ok as f64
        };
        let mut v: Vec<f64> = sum.iter().map(|s| s * scale).collect();

        if self.multistage {
            // Multiplier of each unit: the product of the sampling fractions above it.
            let mut multiplier: Vec<f64> = st.unit_fraction.clone();
            for s in 1..self.stages.len() {
                let stage = &self.stages[s];
                let parent_stage = &self.stages[s - 1];
                // Totals of the touched units of this stage, and the parents they sit in.
                // A dense slot per unit (not a hash map): this runs once per estimate.
                let mut slot: Vec<u32> = vec![UNTOUCHED; stage.unit_parent.len()];
                let mut sub: Vec<f64> = Vec::new();
                let mut touched_parents: Vec<u32> = Vec::new();
                for (idx, &i) in rows.iter().enumerate() {
                    let u = stage.row_unit[i as usize] as usize;
                    if slot[u] == UNTOUCHED {
                        slot[u] = (sub.len() / k) as u32;
                        sub.extend(std::iter::repeat_n(0.0, k));
                        touched_parents.push(stage.unit_parent[u]);
                    }
                    let at = slot[u] as usize;
                    let t = &mut sub[at * k..(at + 1) * k];
                    z.each(idx, |c, x| t[c] += x);
                }
                touched_parents.sort_unstable();
                touched_parents.dedup();
                for &p in &touched_parents {
                    let units = &stage.children[p as usize];
                    t.clear();
                    f.clear();
                    for &u in units {
                        match slot[u as usize] {
                            UNTOUCHED => t.extend(std::iter::repeat_n(0.0, k)),
                            at => {
                                let at = at as usize;
                                t.extend_from_slice(&sub[at * k..(at + 1) * k])
                            }
                        }
                        f.push(stage.unit_f[u as usize]);
                    }
                    let name = || {
                        format!(
                            "unit `{}` at stage {}",
                            parent_stage
                                .unit_label
                                .get(p as usize)
                                .unwrap_or_else(|| format!("row {}", p + 1)),
                            s
                        )
                    };
                    let m = multiplier[p as usize];
                    one_parent(&t, &f, k, self.lonely_psu, name, m, &mut v, &mut scratch)?;
                }
                multiplier = (0..stage.unit_parent.len())
                    .map(|u| multiplier[stage.unit_parent[u] as usize] * stage.unit_fraction[u])
                    .collect();
            }
        }
        Ok(v)
    }
}
