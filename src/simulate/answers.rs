//! Answers to the items, chunk by chunk of the population, in the instrument's item order.
//!
//! Coded items: a cumulative-logit model on the valid codes in scale order,
//! `P(Y <= k | d) = logistic(theta_k - shift * d)`, where `theta` reproduces the item's `p`
//! at d = 0. Numeric items: `N(mean + shift * sd * d, sd)`, clipped to `min..max`, rounded
//! for integer items. Survey items (not register variables) then get "don't know" (the
//! scale's first missing code) and blanks at their rates; items are blank outside their
//! universe.

use super::population::Frame;
use crate::instrument::derive;
use crate::instrument::model::{Item, Simulation};
use crate::instrument::spec::{ItemType, Source};
use crate::instrument::Instrument;
use crate::table::filter::Tri;
use crate::table::{Column, Table};
use crate::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Default share of blank answers inside the universe.
pub const DEFAULT_NONRESPONSE: f64 = 0.02;
/// Default share of "don't know" when the scale has a missing code.
pub const DEFAULT_DONT_KNOW: f64 = 0.03;

/// Cumulative logits of an item's baseline answer shares.
#[derive(Debug, Clone)]
pub struct Thresholds {
    theta: Vec<f64>,
    shift: f64,
}

impl Thresholds {
    pub fn for_item(item: &Item, n_codes: usize) -> Thresholds {
        let p = item
            .simulate
            .p
            .clone()
            .filter(|p| p.len() == n_codes)
            .unwrap_or_else(|| vec![1.0 / n_codes as f64; n_codes]);
        Self::from_shares(&p, item.simulate.shift.unwrap_or(0.0))
    }

    /// One set per origin code when the item has `p_by_origin`.
    pub fn by_origin(item: &Item, n_codes: usize) -> Option<Vec<Thresholds>> {
        let rows = item.simulate.p_by_origin.as_ref()?;
        Some(
            rows.iter()
                .map(|p| {
                    let p = if p.len() == n_codes {
                        p.clone()
                    } else {
                        vec![1.0 / n_codes as f64; n_codes]
                    };
                    Self::from_shares(&p, item.simulate.shift.unwrap_or(0.0))
                })
                .collect(),
        )
    }

    fn from_shares(p: &[f64], shift: f64) -> Thresholds {
        let n_codes = p.len();
        let mut cum = 0.0;
        let theta = p[..n_codes.saturating_sub(1)]
            .iter()
            .map(|&x| {
                cum += x;
                let c = cum.clamp(0.0, 1.0);
                (c / (1.0 - c)).ln()
            })
            .collect();
        Thresholds { theta, shift }
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Draws a code for a person with latent disadvantage `d`.
pub fn draw_coded(rng: &mut impl Rng, codes: &[f64], t: &Thresholds, d: f64) -> f64 {
    let u: f64 = rng.random();
    for (k, &theta) in t.theta.iter().enumerate() {
        if u < logistic(theta - t.shift * d) {
            return codes[k];
        }
    }
    codes[codes.len() - 1]
}

/// Draws a number for a person with latent disadvantage `d`.
pub fn draw_number(rng: &mut impl Rng, item: &Item, d: f64) -> f64 {
    let (lo, hi) = (
        item.min.unwrap_or(f64::NEG_INFINITY),
        item.max.unwrap_or(f64::INFINITY),
    );
    let default_mean = if lo.is_finite() && hi.is_finite() {
        (lo + hi) / 2.0
    } else {
        0.0
    };
    let default_sd = if lo.is_finite() && hi.is_finite() {
        (hi - lo) / 6.0
    } else {
        1.0
    };
    let mean = item.simulate.mean.unwrap_or(default_mean);
    let sd = item.simulate.sd.unwrap_or(default_sd);
    let shift = item.simulate.shift.unwrap_or(0.0);
    let z: f64 = rng.sample(rand_distr::StandardNormal);
    let mut x = (mean + shift * sd * d + sd * z).clamp(lo, hi);
    if item.integer {
        x = x.round().clamp(lo.ceil(), hi.floor());
    }
    x
}

/// Generates answers. Every person has an own random stream (the ChaCha stream numbered by
/// the person), so a person's answers are the same whether the whole population or only the
/// respondents are generated, and chunks can be generated in any order or in parallel.
pub struct Generator<'a> {
    inst: &'a Instrument,
    sim: &'a Simulation,
    template: ChaCha8Rng,
    thresholds: Vec<Option<(Vec<f64>, Thresholds)>>,
    /// Per item with `p_by_origin`: thresholds per origin code.
    by_origin: Vec<Option<Vec<Thresholds>>>,
    origin_codes: Vec<f64>,
}

/// Streams 0 and 1 belong to the frame; person `i` uses stream `i + PERSON_STREAMS`.
const PERSON_STREAMS: u64 = 2;

impl<'a> Generator<'a> {
    pub fn new(inst: &'a Instrument, sim: &'a Simulation, population_seed: u64) -> Self {
        let template = ChaCha8Rng::seed_from_u64(population_seed);
        let thresholds = inst
            .items
            .values()
            .map(|item| {
                let scale = item.scale.as_ref().and_then(|s| inst.scales.get(s))?;
                let codes: Vec<f64> = scale.codes.iter().map(|c| c.value).collect();
                let t = Thresholds::for_item(item, codes.len());
                Some((codes, t))
            })
            .collect();
        let by_origin = inst
            .items
            .values()
            .map(|item| {
                let scale = item.scale.as_ref().and_then(|s| inst.scales.get(s))?;
                Thresholds::by_origin(item, scale.codes.len())
            })
            .collect();
        let origin_codes = inst
            .scale_of(&sim.origin)
            .map(|s| s.codes.iter().map(|c| c.value).collect())
            .unwrap_or_default();
        Generator {
            inst,
            sim,
            template,
            thresholds,
            by_origin,
            origin_codes,
        }
    }

    /// The raw answers (as a response file would hold them) of the given persons, with the
    /// stratum and PSU columns first and the derived variables last.
    pub fn rows(&self, frame: &Frame, persons: &[usize]) -> Result<Table> {
        let n = persons.len();
        let sim = self.sim;
        let mut rngs: Vec<ChaCha8Rng> = persons
            .iter()
            .map(|&p| {
                let mut r = self.template.clone();
                r.set_stream(p as u64 + PERSON_STREAMS);
                r
            })
            .collect();
        let pick = |v: &[f64]| -> Vec<f64> { persons.iter().map(|&p| v[p]).collect() };
        let mut t = Table::new(n);
        t.push(Column::num(
            sim.stratum.clone(),
            persons
                .iter()
                .map(|&p| frame.strata[frame.stratum_of(p)].code)
                .collect(),
        ))?;
        t.push(Column::num(
            sim.psu_column.clone(),
            persons
                .iter()
                .map(|&p| frame.psu_ids[frame.psu[p] as usize])
                .collect(),
        ))?;
        let d = pick(&frame.disadvantage);
        let origin_pos: Vec<usize> = persons
            .iter()
            .map(|&p| {
                self.origin_codes
                    .iter()
                    .position(|&c| c == frame.origin[p])
                    .unwrap_or(0)
            })
            .collect();
        for (idx, item) in self.inst.items.values().enumerate() {
            let role: Option<&[f64]> = if item.id == sim.origin {
                Some(&frame.origin)
            } else if item.id == sim.gender {
                Some(&frame.gender)
            } else if item.id == sim.age {
                Some(&frame.age)
            } else {
                None
            };
            if item.id == sim.stratum {
                continue;
            }
            if let Some(values) = role {
                t.push(Column::num(item.id.clone(), pick(values)))?;
                continue;
            }
            let asked: Option<Vec<Tri>> = match &item.universe {
                Some(u) => {
                    derive::add_derived(self.inst, &mut t)?;
                    Some(u.evaluate_tri(&t)?)
                }
                None => None,
            };
            let survey = item.source == Source::Survey;
            let nonresponse = if survey {
                item.simulate.nonresponse.unwrap_or(DEFAULT_NONRESPONSE)
            } else {
                0.0
            };
            let dont_know_code = item
                .scale
                .as_ref()
                .and_then(|s| self.inst.scales.get(s))
                .and_then(|s| s.missing.first())
                .map(|c| c.value);
            let dont_know = match (survey, dont_know_code) {
                (true, Some(_)) => item.simulate.dont_know.unwrap_or(DEFAULT_DONT_KNOW),
                _ => 0.0,
            };
            let mut values = Vec::with_capacity(n);
            for (i, (&di, rng)) in d.iter().zip(rngs.iter_mut()).enumerate() {
                let x = match item.kind {
                    ItemType::Text => f64::NAN,
                    ItemType::Number => draw_number(rng, item, di),
                    ItemType::Coded => match (&self.thresholds[idx], &self.by_origin[idx]) {
                        (Some((codes, _)), Some(per_origin)) if !per_origin.is_empty() => {
                            let k = origin_pos[i].min(per_origin.len() - 1);
                            draw_coded(rng, codes, &per_origin[k], di)
                        }
                        (Some((codes, th)), _) => draw_coded(rng, codes, th, di),
                        (None, _) => f64::NAN,
                    },
                };
                let u: f64 = rng.random();
                let inside = asked.as_ref().is_none_or(|a| a[i] == Tri::True);
                values.push(if !inside || u < nonresponse {
                    f64::NAN
                } else if u < nonresponse + dont_know {
                    dont_know_code.unwrap_or(f64::NAN)
                } else {
                    x
                });
            }
            t.push(Column::num(item.id.clone(), values))?;
        }
        derive::add_derived(self.inst, &mut t)?;
        let derived: Vec<&str> = self.inst.derived.keys().map(String::as_str).collect();
        t.move_to_end(&derived);
        // Generated under item ids (universes use them); written under the items' columns.
        for item in self.inst.items.values() {
            if item.column != item.id {
                t.rename(&item.id, &item.column)?;
            }
        }
        Ok(t)
    }
}
