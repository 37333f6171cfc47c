//! Post-stratification and iterative proportional fitting, as R survey's `postStratify()`
//! and `rake()`, with the variance scores `svyrecvar` uses after them.
//!
//! Cells are given as codes per row (`0..k` into the margin's totals); every row must be in
//! a cell (R's `na.fail`).

use super::calibrate::CalibrationError;
use std::collections::HashMap;

/// A margin: the cell of each row and the population count of each cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// Name shown in messages (the margin's variables).
    pub name: String,
    /// Cell code of each row, `0..totals.len()`.
    pub cells: Vec<u32>,
    /// Population count of each cell.
    pub totals: Vec<f64>,
}

fn check_margin(n: usize, m: &Margin) -> Result<(), CalibrationError> {
    if m.cells.len() != n {
        return Err(CalibrationError::Invalid(format!(
            "margin `{}` has {} rows, the data {n}",
            m.name,
            m.cells.len()
        )));
    }
    if let Some(i) = m.cells.iter().position(|&c| c as usize >= m.totals.len()) {
        return Err(CalibrationError::Invalid(format!(
            "margin `{}`: row {} is in no cell with a population total",
            m.name,
            i + 1
        )));
    }
    if let Some(c) = m.totals.iter().position(|t| !t.is_finite() || *t < 0.0) {
        return Err(CalibrationError::Invalid(format!(
            "margin `{}`: cell {} has an invalid population total {}",
            m.name, c, m.totals[c]
        )));
    }
    Ok(())
}

/// Post-stratifies weights `d` to one margin, as R's `postStratify(design, ~v, population)`:
/// `w_i = d_i N_g / sum_{j in g} d_j` for the post-stratum g of row i.
///
/// A cell with population count > 0 but no sample weight is an error (R without `partial`);
/// a cell with neither keeps its (zero) weights.
pub fn post_stratify(d: &[f64], margin: &Margin) -> Result<Vec<f64>, CalibrationError> {
    check_margin(d.len(), margin)?;
    if let Some(i) = d.iter().position(|v| !v.is_finite()) {
        return Err(CalibrationError::Invalid(format!(
            "row {}: the weight is missing or infinite",
            i + 1
        )));
    }
    let mut sums = vec![0.0; margin.totals.len()];
    for (&c, &w) in margin.cells.iter().zip(d) {
        sums[c as usize] += w;
    }
    let mut factor = vec![1.0; sums.len()];
    for (c, (&s, &t)) in sums.iter().zip(&margin.totals).enumerate() {
        if s == 0.0 {
            if t != 0.0 {
                return Err(CalibrationError::Invalid(format!(
                    "margin `{}`: cell {c} has a population count of {t} but no sample weight",
                    margin.name
                )));
            }
        } else {
            factor[c] = t / s;
        }
    }
    Ok(margin
        .cells
        .iter()
        .zip(d)
        .map(|(&c, &w)| w * factor[c as usize])
        .collect())
}

/// The variance residuals of one post-stratification, prepared once for the scores of every
/// estimate, as R's `svyrecvar` for a post-stratified design: `z'_i = z_i - psw_i m_g`,
/// `m_g = sum_{g} (z d / psw) / sum_{g} d`, where `d` are the weights before and `psw` after
/// post-stratification (R sets `psw = 1` where both are 0) and `z` the estimator's scores
/// computed with the final weights.
#[derive(Debug, Clone)]
pub struct PostStratFit {
    cells: Vec<u32>,
    /// `sum_g d` per cell.
    den: Vec<f64>,
    /// `d_i / psw_i` (0 where `psw_i = 0`).
    d_over_psw: Vec<f64>,
    psw: Vec<f64>,
}

impl PostStratFit {
    pub fn new(d: &[f64], w: &[f64], margin: &Margin) -> Result<PostStratFit, CalibrationError> {
        let n = d.len();
        check_margin(n, margin)?;
        if w.len() != n {
            return Err(CalibrationError::Invalid(format!(
                "{} weights for {n} rows",
                w.len()
            )));
        }
        let psw: Vec<f64> = d
            .iter()
            .zip(w)
            .map(|(&d, &w)| if w == 0.0 && d == 0.0 { 1.0 } else { w })
            .collect();
        let mut den = vec![0.0; margin.totals.len()];
        for (&c, &di) in margin.cells.iter().zip(d) {
            den[c as usize] += di;
        }
        let d_over_psw = d
            .iter()
            .zip(&psw)
            .map(|(&d, &p)| if p == 0.0 { 0.0 } else { d / p })
            .collect();
        Ok(PostStratFit {
            cells: margin.cells.clone(),
            den,
            d_over_psw,
            psw,
        })
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.cells.len()
    }

    /// Residual scores of all rows for the scores `z` of the rows `idx` (every other row
    /// scores 0), written into `out`.
    pub fn residuals(&self, idx: &[u32], z: &[f64], out: &mut Vec<f64>) {
        let mut num = vec![0.0; self.den.len()];
        for (&i, &zi) in idx.iter().zip(z) {
            num[self.cells[i as usize] as usize] += zi * self.d_over_psw[i as usize];
        }
        let m: Vec<f64> = num
            .iter()
            .zip(&self.den)
            .map(|(&a, &b)| if b != 0.0 { a / b } else { 0.0 })
            .collect();
        out.clear();
        // Rows without weight before and after (non-respondents kept in the file) take no
        // part: residual 0, where R's psw = 1 would give them -m_g.
        out.extend(
            self.cells
                .iter()
                .zip(&self.psw)
                .zip(&self.d_over_psw)
                .map(|((&c, &p), &r)| {
                    if r == 0.0 && p == 1.0 {
                        0.0
                    } else {
                        -m[c as usize] * p
                    }
                }),
        );
        for (&i, &zi) in idx.iter().zip(z) {
            out[i as usize] += zi;
        }
    }
}

/// Variance scores after [`post_stratify`] for scores of every row: [`PostStratFit::residuals`].
pub fn post_stratify_residuals(
    d: &[f64],
    w: &[f64],
    margin: &Margin,
    z: &[f64],
) -> Result<Vec<f64>, CalibrationError> {
    if z.len() != d.len() {
        return Err(CalibrationError::Invalid(format!(
            "{} scores for {} rows",
            z.len(),
            d.len()
        )));
    }
    let fit = PostStratFit::new(d, w, margin)?;
    let idx: Vec<u32> = (0..d.len() as u32).collect();
    let mut out = Vec::new();
    fit.residuals(&idx, z, &mut out);
    Ok(out)
}

/// Iteration control of [`rake`], R's `control = list(maxit, epsilon)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RakeControl {
    /// Maximum number of passes over the margins.
    pub maxit: usize,
    /// Stop when the largest absolute change of a cell of the cross-table of all margin
    /// variables between passes is below epsilon; epsilon < 1 means `epsilon × sum d`.
    pub epsilon: f64,
}

impl Default for RakeControl {
    /// R's defaults: 10 passes, epsilon 1 (absolute), which usually stops before the margins
    /// are met exactly.
    fn default() -> Self {
        RakeControl {
            maxit: 10,
            epsilon: 1.0,
        }
    }
}

impl RakeControl {
    /// The converged form: up to 1000 passes, changes below 1e-13 × sum d.
    pub const CONVERGED: RakeControl = RakeControl {
        maxit: 1000,
        epsilon: 1e-13,
    };
}

/// The result of [`rake`].
#[derive(Debug, Clone, PartialEq)]
pub struct Raked {
    /// Final weights.
    pub weights: Vec<f64>,
    /// Whether the change fell below epsilon (R warns "Raking did not converge" otherwise).
    pub converged: bool,
    /// Passes made.
    pub passes: usize,
    /// Largest cell change of the last pass.
    pub delta: f64,
    /// Weights right after each margin's step in the last pass (for [`rake_residuals`]);
    /// empty when no pass was made.
    pub margin_weights: Vec<Vec<f64>>,
}

/// Iterative proportional fitting, as R's `rake(design, margins, populations, control)`:
/// each pass post-stratifies ([`post_stratify`]) on margin 1, 2, ... in order; after a pass
/// the weighted cross-table of all margin variables is compared with the previous one (the
/// first time with the table of the design weights); raking stops when the largest absolute
/// cell change is below epsilon (epsilon < 1: `epsilon × sum d`), or after `maxit` passes
/// (then `converged` is false, as R's warning).
pub fn rake(
    d: &[f64],
    margins: &[Margin],
    control: RakeControl,
) -> Result<Raked, CalibrationError> {
    let n = d.len();
    if margins.is_empty() {
        return Err(CalibrationError::Invalid("raking needs a margin".into()));
    }
    for m in margins {
        check_margin(n, m)?;
    }
    let epsilon = if control.epsilon < 1.0 {
        control.epsilon * d.iter().sum::<f64>()
    } else {
        control.epsilon
    };
    // Cell of the full cross-classification of each row.
    let mut ids: HashMap<Vec<u32>, u32> = HashMap::new();
    let cross: Vec<u32> = (0..n)
        .map(|i| {
            let key: Vec<u32> = margins.iter().map(|m| m.cells[i]).collect();
            let next = ids.len() as u32;
            *ids.entry(key).or_insert(next)
        })
        .collect();
    let table = |w: &[f64]| {
        let mut t = vec![0.0; ids.len()];
        for (&c, &wi) in cross.iter().zip(w) {
            t[c as usize] += wi;
        }
        t
    };
    let mut old = table(d);
    let mut w = d.to_vec();
    let mut passes = 0usize;
    let mut converged = false;
    let mut delta = f64::NAN;
    let mut margin_weights = Vec::new();
    while passes < control.maxit {
        margin_weights.clear();
        for m in margins {
            w = post_stratify(&w, m)?;
            margin_weights.push(w.clone());
        }
        let new = table(&w);
        delta = old
            .iter()
            .zip(&new)
            .fold(0.0f64, |a, (o, n)| a.max((o - n).abs()));
        if delta < epsilon {
            converged = true;
            passes += 1;
            break;
        }
        old = new;
        passes += 1;
    }
    Ok(Raked {
        weights: w,
        converged,
        passes,
        delta,
        margin_weights,
    })
}

/// Variance scores after [`rake`], as R's `svyrecvar` for a raked design: 10 sweeps of
/// `z <- z - psw_k ave_k(z / psw_k)` over the margins k in order, where `ave_k` is the
/// **unweighted** mean within the row's cell of margin k and `psw_k` the weights right after
/// margin k's step in the last pass ([`Raked::margin_weights`]). An approximation of the
/// calibration residual; rows with `psw_k = 0` add nothing to their cell's mean.
pub fn rake_residuals(
    margins: &[Margin],
    raked: &Raked,
    z: &[f64],
) -> Result<Vec<f64>, CalibrationError> {
    let n = z.len();
    for m in margins {
        check_margin(n, m)?;
    }
    if raked.margin_weights.is_empty() {
        return Ok(z.to_vec());
    }
    if raked.margin_weights.len() != margins.len()
        || raked.margin_weights.iter().any(|w| w.len() != n)
    {
        return Err(CalibrationError::Invalid(
            "raking weights do not match the margins".into(),
        ));
    }
    let mut z = z.to_vec();
    let counts: Vec<Vec<f64>> = margins
        .iter()
        .map(|m| {
            let mut c = vec![0.0; m.totals.len()];
            m.cells.iter().for_each(|&k| c[k as usize] += 1.0);
            c
        })
        .collect();
    for _ in 0..10 {
        for ((m, psw), count) in margins.iter().zip(&raked.margin_weights).zip(&counts) {
            let mut sum = vec![0.0; m.totals.len()];
            for i in 0..n {
                if psw[i] != 0.0 {
                    sum[m.cells[i] as usize] += z[i] / psw[i];
                }
            }
            for i in 0..n {
                let c = m.cells[i] as usize;
                z[i] -= psw[i] * sum[c] / count[c];
            }
        }
    }
    Ok(z)
}
