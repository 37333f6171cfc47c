//! The frame of a synthetic population: strata and PSUs with their sizes, and for each person
//! origin, gender, age, age group, latent disadvantage and response propensity.

use super::answers::{draw_coded, draw_number, Thresholds};
use super::{Margin, Options};
use crate::instrument::derive;
use crate::instrument::model::Simulation;
use crate::instrument::Instrument;
use crate::table::{Column, Table};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Fewest persons in a PSU.
const MIN_PSU_SIZE: usize = 20;

/// One stratum (area).
#[derive(Debug, Clone)]
pub struct Stratum {
    pub code: f64,
    pub size: usize,
    /// Indices into the frame's PSU vectors.
    pub psus: std::ops::Range<usize>,
    /// Latent disadvantage of living in the area.
    pub effect: f64,
    /// Factor of the response propensity.
    pub response: f64,
}

/// The population frame; persons are ordered by stratum, then PSU.
#[derive(Debug, Clone)]
pub struct Frame {
    pub strata: Vec<Stratum>,
    pub psu_sizes: Vec<usize>,
    pub psu_ids: Vec<f64>,
    pub psu_stratum: Vec<usize>,
    /// First person of each PSU.
    pub psu_start: Vec<usize>,
    /// Per person.
    pub psu: Vec<u32>,
    pub origin: Vec<f64>,
    pub gender: Vec<f64>,
    pub age: Vec<f64>,
    pub age_group: Vec<f64>,
    pub disadvantage: Vec<f64>,
    pub propensity: Vec<f64>,
}

impl Frame {
    pub fn len(&self) -> usize {
        self.psu.len()
    }

    pub fn is_empty(&self) -> bool {
        self.psu.is_empty()
    }

    pub fn stratum_of(&self, person: usize) -> usize {
        self.psu_stratum[self.psu[person] as usize]
    }

    /// Builds the frame from the population seed.
    pub fn build(inst: &Instrument, sim: &Simulation, options: &Options) -> Result<Frame> {
        let mut rng = ChaCha8Rng::seed_from_u64(options.population_seed);
        let coded = |var: &str| -> Result<Vec<f64>> {
            inst.scale_of(var)
                .map(|s| s.codes.iter().map(|c| c.value).collect())
                .ok_or_else(|| Error::Usage(format!("simulation: `{var}` has no scale")))
        };
        let stratum_codes = coded(&sim.stratum)?;
        let origin_codes = coded(&sim.origin)?;
        let gender_codes = coded(&sim.gender)?;
        let age_group_codes = coded(&sim.age_group)?;
        let k = stratum_codes.len();

        let population = options
            .population
            .unwrap_or_else(|| sim.population.max(8 * options.n));
        let min_needed = k * sim.psus[1] * MIN_PSU_SIZE;
        if population < min_needed {
            return Err(Error::Usage(format!(
                "a population of {population} is too small for {k} strata of up to {} PSUs; give at least {min_needed}",
                sim.psus[1]
            )));
        }

        // Stratum sizes: the stratum item's `p` when given, else a few large areas and many
        // small ones (in the scale's order).
        let stratum_p = inst
            .items
            .get(&sim.stratum)
            .and_then(|i| i.simulate.p.clone())
            .filter(|p| p.len() == k);
        let raw: Vec<f64> = match stratum_p {
            Some(p) => p,
            None => (0..k)
                .map(|i| (i as f64 + 1.0).powf(-0.9) * rng.random_range(0.8..1.25))
                .collect(),
        };
        let total: f64 = raw.iter().sum();
        let mut sizes: Vec<usize> = raw
            .iter()
            .map(|r| ((population as f64) * r / total).floor() as usize)
            .collect();
        let assigned: usize = sizes.iter().sum();
        sizes[0] += population - assigned;
        let max_size = sizes.iter().copied().max().unwrap_or(1) as f64;
        // Rank by size for urbanity: the largest area gets twice the base share of the foreign-born.
        let mut by_size: Vec<usize> = (0..k).collect();
        by_size.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]));
        let mut urban = vec![1.0; k];
        for (rank, &s) in by_size.iter().enumerate() {
            urban[s] = if k > 1 {
                2f64.powf(1.0 - 2.0 * rank as f64 / (k - 1) as f64)
            } else {
                1.0
            };
        }

        let area_effect = Normal::new(0.0, 0.25).map_err(|e| Error::Usage(e.to_string()))?;
        let mut strata = Vec::with_capacity(k);
        let (mut psu_sizes, mut psu_ids, mut psu_stratum, mut psu_start) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut next_person = 0usize;
        for (s, (&code, &size)) in stratum_codes.iter().zip(&sizes).enumerate() {
            let span = (sim.psus[1] - sim.psus[0]) as f64;
            let mut m = sim.psus[0] + (span * (size as f64 / max_size).sqrt()).round() as usize;
            m = m
                .clamp(sim.psus[0], sim.psus[1])
                .min(size / MIN_PSU_SIZE)
                .max(1);
            let shares: Vec<f64> = (0..m).map(|_| rng.random_range(0.4..1.6)).collect();
            let share_total: f64 = shares.iter().sum();
            let spare = size - m * MIN_PSU_SIZE;
            let mut these: Vec<usize> = shares
                .iter()
                .map(|u| MIN_PSU_SIZE + ((spare as f64) * u / share_total).floor() as usize)
                .collect();
            let given: usize = these.iter().sum();
            if let Some(last) = these.last_mut() {
                *last += size - given;
            }
            let first = psu_sizes.len();
            for (j, &ps) in these.iter().enumerate() {
                psu_sizes.push(ps);
                psu_ids.push(code * 1000.0 + (j + 1) as f64);
                psu_stratum.push(s);
                psu_start.push(next_person);
                next_person += ps;
            }
            strata.push(Stratum {
                code,
                size,
                psus: first..psu_sizes.len(),
                effect: area_effect.sample(&mut rng),
                response: rng.random_range(0.7..1.0),
            });
        }

        // Persons.
        let origin_item = inst.items.get(&sim.origin);
        let origin_sim = origin_item.map(|i| i.simulate.clone()).unwrap_or_default();
        let base: Vec<f64> = origin_sim.p.clone().unwrap_or_else(|| {
            let o = origin_codes.len();
            if o == 1 {
                vec![1.0]
            } else {
                std::iter::once(0.85)
                    .chain(std::iter::repeat_n(0.15 / (o - 1) as f64, o - 1))
                    .collect()
            }
        });
        let effects: Vec<f64> = origin_sim.effect.clone().unwrap_or_else(|| {
            (0..origin_codes.len())
                .map(|j| if j == 0 { 0.0 } else { 1.0 })
                .collect()
        });
        let gender_item = inst
            .items
            .get(&sim.gender)
            .ok_or_else(|| Error::Usage(format!("simulation: no item `{}`", sim.gender)))?;
        let gender_thresholds = Thresholds::for_item(gender_item, gender_codes.len());
        let age_item = inst
            .items
            .get(&sim.age)
            .ok_or_else(|| Error::Usage(format!("simulation: no item `{}`", sim.age)))?;

        let n = population;
        let mut psu = Vec::with_capacity(n);
        let mut origin = Vec::with_capacity(n);
        let mut gender = Vec::with_capacity(n);
        let mut age = Vec::with_capacity(n);
        let mut disadvantage = Vec::with_capacity(n);
        for (s, st) in strata.iter().enumerate() {
            // Origin shares of this area: the non-majority groups scaled by urbanity.
            let mut p: Vec<f64> = base
                .iter()
                .enumerate()
                .map(|(j, &b)| if j == 0 { b } else { b * urban[s] })
                .collect();
            let sum: f64 = p.iter().sum();
            p.iter_mut().for_each(|x| *x /= sum);
            let cum: Vec<f64> = p
                .iter()
                .scan(0.0, |acc, &x| {
                    *acc += x;
                    Some(*acc)
                })
                .collect();
            for j in st.psus.clone() {
                for _ in 0..psu_sizes[j] {
                    psu.push(j as u32);
                    let u: f64 = rng.random();
                    let o = cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1);
                    origin.push(origin_codes[o]);
                    let noise: f64 = rng.sample(rand_distr::StandardNormal);
                    let d = effects.get(o).copied().unwrap_or(0.0) + st.effect + noise;
                    disadvantage.push(d);
                    gender.push(draw_coded(&mut rng, &gender_codes, &gender_thresholds, d));
                    age.push(draw_number(&mut rng, age_item, d));
                }
            }
        }

        // Age groups come from the instrument's own derivation.
        let mut t = Table::new(n);
        t.push(Column::num(sim.age.clone(), age.clone()))?;
        t.push(Column::num(sim.gender.clone(), gender.clone()))?;
        t.push(Column::num(sim.origin.clone(), origin.clone()))?;
        derive::add_derived(inst, &mut t)?;
        let age_group = t
            .column(&sim.age_group)
            .and_then(|c| c.as_num())
            .map(<[f64]>::to_vec)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "simulation: `{}` cannot be derived from age, gender and origin alone",
                    sim.age_group
                ))
            })?;

        let propensity = if options.nonresponse {
            let last = (age_group_codes.len().max(2) - 1) as f64;
            (0..n)
                .map(|i| {
                    let st = &strata[psu_stratum[psu[i] as usize]];
                    let f_origin = if origin[i] == origin_codes[0] {
                        1.0
                    } else {
                        0.55
                    };
                    let f_gender = if gender[i] == gender_codes[0] {
                        0.85
                    } else {
                        1.0
                    };
                    let pos = age_group_codes
                        .iter()
                        .position(|&c| c == age_group[i])
                        .unwrap_or(0) as f64;
                    let f_age = 0.55 + 0.45 * pos / last;
                    0.85 * st.response * f_origin * f_gender * f_age
                })
                .collect()
        } else {
            vec![1.0; n]
        };

        Ok(Frame {
            strata,
            psu_sizes,
            psu_ids,
            psu_stratum,
            psu_start,
            psu,
            origin,
            gender,
            age,
            age_group,
            disadvantage,
            propensity,
        })
    }

    /// Population margins for calibration: stratum, origin × gender, age group.
    pub fn margins(&self, inst: &Instrument, sim: &Simulation) -> Vec<Margin> {
        let codes = |var: &str| -> Vec<f64> {
            inst.scale_of(var)
                .map(|s| s.codes.iter().map(|c| c.value).collect())
                .unwrap_or_default()
        };
        let count = |vals: &[f64], code: f64| vals.iter().filter(|&&v| v == code).count() as f64;
        let stratum = Margin {
            name: sim.stratum.clone(),
            variables: vec![sim.stratum.clone()],
            cells: self
                .strata
                .iter()
                .map(|s| (vec![s.code], s.size as f64))
                .collect(),
        };
        let mut og = Vec::new();
        for o in codes(&sim.origin) {
            for g in codes(&sim.gender) {
                let total = self
                    .origin
                    .iter()
                    .zip(&self.gender)
                    .filter(|(&a, &b)| a == o && b == g)
                    .count();
                og.push((vec![o, g], total as f64));
            }
        }
        let origin_gender = Margin {
            name: format!("{}_{}", sim.origin, sim.gender),
            variables: vec![sim.origin.clone(), sim.gender.clone()],
            cells: og,
        };
        let age_group = Margin {
            name: sim.age_group.clone(),
            variables: vec![sim.age_group.clone()],
            cells: codes(&sim.age_group)
                .into_iter()
                .map(|c| (vec![c], count(&self.age_group, c)))
                .collect(),
        };
        vec![stratum, origin_gender, age_group]
    }
}
