//! Drawing the stratified two-stage sample and who responds.

use super::population::Frame;
use super::Options;
use crate::instrument::model::Simulation;
use crate::table::{Column, Table};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Name of the design weight column.
pub const WEIGHT: &str = "design_weight";
/// Name of the person id column.
pub const ID: &str = "id";

/// Column with the number of PSUs in the stratum (first-stage FPC).
pub fn psu_count_column(sim: &Simulation) -> String {
    format!("{}_count", sim.psu_column)
}

/// Column with the number of persons in the PSU (second-stage FPC).
pub fn psu_size_column(sim: &Simulation) -> String {
    format!("{}_size", sim.psu_column)
}

/// Who was sampled and who responded.
#[derive(Debug, Clone)]
pub struct Selection {
    pub sampled: Vec<bool>,
    pub responded: Vec<bool>,
    /// Design weight of sampled persons (NaN for others).
    pub weight: Vec<f64>,
    pub sampled_count: usize,
}

/// Draws the sample with the sample seed: gross size n / expected response rate, allocated to
/// strata in proportion to their size, split equally among the sampled PSUs.
pub fn select(frame: &Frame, sim: &Simulation, options: &Options) -> Result<Selection> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let n_pop = frame.len();
    let rate = frame.propensity.iter().sum::<f64>() / n_pop as f64;
    let gross = ((options.n as f64) / rate).ceil() as usize;
    if gross > n_pop {
        return Err(Error::Usage(format!(
            "{} respondents need a sample of about {gross}, more than the population of {n_pop}; give a larger --population",
            options.n
        )));
    }
    let mut sampled = vec![false; n_pop];
    let mut weight = vec![f64::NAN; n_pop];
    for st in &frame.strata {
        let m_total = st.psus.len();
        let target = ((gross as f64) * st.size as f64 / n_pop as f64).round() as usize;
        // Enough PSUs that each gives at most half of its people (large samples need more).
        let half_mean_psu = (st.size as f64 / m_total as f64 / 2.0).max(1.0);
        let needed = ((target as f64) / half_mean_psu).ceil() as usize;
        let m = sim.sampled_psus.max(needed).clamp(1, m_total);
        let target = target.max(m);
        let chosen = rand::seq::index::sample(&mut rng, m_total, m).into_vec();
        let mut chosen: Vec<usize> = chosen.into_iter().map(|j| st.psus.start + j).collect();
        chosen.sort_unstable();
        for (k, &j) in chosen.iter().enumerate() {
            let size = frame.psu_sizes[j];
            let share = target / m + usize::from(k < target % m);
            // At least two persons per sampled PSU, so every PSU has a within-PSU variance.
            let take = share.max(2).min(size);
            let w = (m_total as f64 / m as f64) * (size as f64 / take as f64);
            for idx in rand::seq::index::sample(&mut rng, size, take).into_iter() {
                let person = frame.psu_start[j] + idx;
                sampled[person] = true;
                weight[person] = w;
            }
        }
    }
    let mut responded = vec![false; n_pop];
    let mut count = 0;
    for i in 0..n_pop {
        if sampled[i] {
            count += 1;
            let u: f64 = rng.random();
            responded[i] = u < frame.propensity[i];
        }
    }
    Ok(Selection {
        sampled,
        responded,
        weight,
        sampled_count: count,
    })
}

/// The gross sample: frame variables, design columns and the response indicator `responded`.
pub fn sample_table(frame: &Frame, selection: &Selection, sim: &Simulation) -> Result<Table> {
    let rows: Vec<usize> = (0..frame.len()).filter(|&i| selection.sampled[i]).collect();
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let mut t = Table::new(rows.len());
    t.push(Column::num(
        ID,
        rows.iter().map(|&i| (i + 1) as f64).collect(),
    ))?;
    t.push(Column::num(
        sim.stratum.clone(),
        rows.iter()
            .map(|&i| frame.strata[frame.stratum_of(i)].code)
            .collect(),
    ))?;
    t.push(Column::num(
        sim.psu_column.clone(),
        rows.iter()
            .map(|&i| frame.psu_ids[frame.psu[i] as usize])
            .collect(),
    ))?;
    t.push(Column::num(sim.origin.clone(), pick(&frame.origin)))?;
    t.push(Column::num(sim.gender.clone(), pick(&frame.gender)))?;
    t.push(Column::num(sim.age.clone(), pick(&frame.age)))?;
    t.push(Column::num(sim.age_group.clone(), pick(&frame.age_group)))?;
    t.push(Column::num(WEIGHT, pick(&selection.weight)))?;
    t.push(Column::num(
        psu_count_column(sim),
        rows.iter()
            .map(|&i| frame.strata[frame.stratum_of(i)].psus.len() as f64)
            .collect(),
    ))?;
    t.push(Column::num(
        psu_size_column(sim),
        rows.iter()
            .map(|&i| frame.psu_sizes[frame.psu[i] as usize] as f64)
            .collect(),
    ))?;
    t.push(Column::num(
        "responded",
        rows.iter()
            .map(|&i| f64::from(u8::from(selection.responded[i])))
            .collect(),
    ))?;
    Ok(t)
}
