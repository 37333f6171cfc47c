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
use std::collections::HashMap;

/// One parent's contribution, or `None` for a lonely parent under `average`.
fn one_parent(
    totals: &[(f64, f64)],
    n: usize,
    lonely: LonelyPsu,
    name: impl Fn() -> String,
) -> Result<Option<f64>> {
    // totals: (t_j, f_j) for every unit of the parent, untouched units included with t = 0.
    if totals.iter().all(|&(_, f)| f < 1e-7) {
        return Ok(Some(0.0));
    }
    if n > 1 {
        let mean = totals.iter().map(|t| t.0).sum::<f64>() / n as f64;
        let scale = n as f64 / (n as f64 - 1.0);
        return Ok(Some(
            totals
                .iter()
                .map(|&(t, f)| f * scale * (t - mean) * (t - mean))
                .sum(),
        ));
    }
    let (t, f) = totals.first().copied().unwrap_or((0.0, 1.0));
    match lonely {
        LonelyPsu::Fail => Err(Error::Design(format!(
            "{} has only one PSU; choose --lonely-psu adjust, average, certainty or remove",
            name()
        ))),
        LonelyPsu::Certainty | LonelyPsu::Remove => Ok(Some(0.0)),
        // R 4.1: the lone PSU total is not centred.
        LonelyPsu::Adjust => Ok(Some(f * t * t)),
        LonelyPsu::Average => Ok(None),
    }
}

impl Design {
    /// The linearisation variance of `sum_i z_i` over `rows` (all other rows score 0). After
    /// calibration the scores are first replaced by their calibration residuals, which are
    /// non-zero on every row (as R's `svyrecvar` for calibrated designs).
    pub fn variance(&self, rows: &[u32], z: &[f64]) -> Result<f64> {
        match &self.calibration {
            None => self.scores_variance(rows, z),
            Some(cal) => {
                let mut e = Vec::new();
                cal.residuals(rows, z, &mut e);
                self.scores_variance(cal.all_rows(), &e)
            }
        }
    }

    /// [`Design::variance`] of scores as given.
    fn scores_variance(&self, rows: &[u32], z: &[f64]) -> Result<f64> {
        let st = &self.stages[0];
        let n_units = st.unit_parent.len();
        let mut totals = vec![0.0; n_units];
        let mut present = vec![false; self.stratum_label.len()];
        for (&i, &zi) in rows.iter().zip(z) {
            let u = st.row_unit[i as usize] as usize;
            totals[u] += zi;
            present[self.row_stratum[i as usize] as usize] = true;
        }
        let children = &st.children;
        let (mut sum, mut n_present, mut n_ok) = (0.0, 0usize, 0usize);
        for (h, units) in children.iter().enumerate() {
            if !present[h] {
                continue;
            }
            n_present += 1;
            let t: Vec<(f64, f64)> = units
                .iter()
                .map(|&u| (totals[u as usize], st.unit_f[u as usize]))
                .collect();
            if let Some(v) = one_parent(&t, units.len(), self.lonely_psu, || {
                format!("stratum `{}`", self.stratum_label[h])
            })? {
                sum += v;
                n_ok += 1;
            }
        }
        let mut v = if n_ok == 0 {
            0.0
        } else {
            sum * n_present as f64 / n_ok as f64
        };

        if self.multistage {
            // Multiplier of each unit: the product of the sampling fractions above it.
            let mut multiplier: Vec<f64> = st.unit_fraction.clone();
            for s in 1..self.stages.len() {
                let stage = &self.stages[s];
                let parent_stage = &self.stages[s - 1];
                let mut sub: HashMap<u32, f64> = HashMap::new();
                let mut touched_parents: HashMap<u32, ()> = HashMap::new();
                for (&i, &zi) in rows.iter().zip(z) {
                    let u = stage.row_unit[i as usize];
                    *sub.entry(u).or_insert(0.0) += zi;
                    touched_parents.insert(stage.unit_parent[u as usize], ());
                }
                let kids = &stage.children;
                for (&p, _) in touched_parents.iter() {
                    let units = &kids[p as usize];
                    let t: Vec<(f64, f64)> = units
                        .iter()
                        .map(|&u| {
                            (
                                sub.get(&u).copied().unwrap_or(0.0),
                                stage.unit_f[u as usize],
                            )
                        })
                        .collect();
                    let contribution = one_parent(&t, units.len(), self.lonely_psu, || {
                        format!(
                            "unit `{}` at stage {}",
                            parent_stage
                                .unit_label
                                .get(p as usize)
                                .cloned()
                                .unwrap_or_else(|| format!("row {}", p + 1)),
                            s
                        )
                    })?
                    .unwrap_or(0.0);
                    v += multiplier[p as usize] * contribution;
                }
                multiplier = (0..stage.unit_parent.len())
                    .map(|u| multiplier[stage.unit_parent[u] as usize] * stage.unit_fraction[u])
                    .collect();
            }
        }
        Ok(v)
    }
}
