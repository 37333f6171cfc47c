//! Synthetic populations with a known truth, and samples from them (`tasa simulate`).
//!
//! The model, in order (documented for users in the README):
//!
//! 1. **Frame** ([`population`]): strata are the codes of the instrument's stratum item (areas),
//!    sized like Finnish areas (a few large, many small); each stratum has PSUs (offices,
//!    municipalities). Each person gets an origin (more foreign-born people in large areas),
//!    a latent disadvantage `d = effect[origin] + area effect + N(0, 1)`, and gender and age.
//! 2. **Sample** ([`sample`]): stratified two-stage — in each stratum a simple random sample of
//!    PSUs, then of persons within each sampled PSU; design weight
//!    `(M_h / m_h) * (N_hi / n_hi)`, with both stages' population sizes as FPCs. Each sampled
//!    person responds with a probability that is a product of factors of the margin
//!    variables only (stratum, origin × gender, age group), so raking to the margins removes
//!    the non-response bias.
//! 3. **Answers** ([`answers`]): every other item in file order, from a cumulative-logit model
//!    on its valid codes (`p` for d = 0, `shift` per unit of d), with "don't know", item
//!    non-response and skip logic; numeric items from a normal model.
//!
//! The population and its answers depend only on the population seed; the sample and the
//! response indicators only on the sample seed. True values are finite-population values.

pub mod answers;
pub mod population;
pub mod register;
pub mod sample;

use crate::design::DesignSpec;
use crate::instrument::derive::{self, InvalidCodes};
use crate::instrument::indicator::{self, Values};
use crate::instrument::spec::IndicatorKind;
use crate::instrument::Instrument;
use crate::numeric::Sum;
use crate::output::{Cell, TidyTable};
use crate::table::{format_number, Column, Table};
use crate::{Error, Result};
use rayon::prelude::*;
use std::collections::HashMap;

/// Units processed at a time in the answer phase.
pub const CHUNK: usize = 65_536;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Expected number of respondents (the sample is grown by the expected response rate).
    pub n: usize,
    /// Seed of the sample and of response.
    pub seed: u64,
    /// Seed of the population (its structure and answers).
    pub population_seed: u64,
    /// Population size; default: the instrument's, grown to at least 4 × the sample.
    pub population: Option<usize>,
    /// Whether sampled people may fail to respond.
    pub nonresponse: bool,
    /// Whether to compute the true values (a pass over the whole population).
    pub truth: bool,
}

/// A population margin for calibration: variable columns and population totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// File stem, e.g. `origin_gender`.
    pub name: String,
    pub variables: Vec<String>,
    /// (codes of the variables, total).
    pub cells: Vec<(Vec<f64>, f64)>,
}

impl Margin {
    pub fn table(&self) -> TidyTable {
        let mut t = TidyTable::new(self.variables.iter().cloned().chain(["total".to_string()]));
        for (codes, total) in &self.cells {
            let mut row: Vec<Cell> = codes.iter().map(|&c| Cell::Num(c)).collect();
            row.push(Cell::Num(*total));
            t.push(row);
        }
        t
    }
}

/// Everything but the respondents, which are streamed.
#[derive(Debug, Clone)]
pub struct Summary {
    pub population: usize,
    pub strata: usize,
    pub psus: usize,
    pub sampled: usize,
    pub respondents: usize,
    pub margins: Vec<Margin>,
    /// `indicator, by, group, value`; `None` when not asked for.
    pub truth: Option<TidyTable>,
    pub design: DesignSpec,
    /// Columns of the respondent tables, in order.
    pub columns: Vec<String>,
    /// The gross sample with its response indicator (frame variables only).
    pub sample: Table,
    /// The strata (areas) with their sizes, for synthetic register metrics.
    pub areas: Vec<register::AreaFacts>,
}

/// Simulates a population and a sample. `respondents` receives the responding sampled units
/// chunk by chunk (all columns of [`Summary::columns`]), in population order.
pub fn simulate(
    inst: &Instrument,
    options: &Options,
    mut respondents: impl FnMut(&Table) -> Result<()>,
) -> Result<Summary> {
    let sim = inst.simulation.as_ref().ok_or_else(|| {
        Error::Usage(format!(
            "{} has no [simulation] section; add one naming the stratum, origin, gender, age and age_group variables",
            inst.path.display()
        ))
    })?;
    if options.n == 0 {
        return Err(Error::Usage("--n must be at least 1".into()));
    }
    let frame = population::Frame::build(inst, sim, options)?;
    let selection = sample::select(&frame, sim, options)?;
    let answers = answers::Generator::new(inst, sim, options.population_seed);

    // The truth: every person of the population, in parallel chunks merged in order.
    let truth = if options.truth {
        let starts: Vec<usize> = (0..frame.len()).step_by(CHUNK).collect();
        let parts: Vec<Result<Truth>> = starts
            .par_iter()
            .map(|&start| {
                let persons: Vec<usize> = (start..(start + CHUNK).min(frame.len())).collect();
                let chunk = answers.rows(&frame, &persons)?;
                let analysis = derive::prepare(inst, chunk, InvalidCodes::Error)?;
                let mut t = Truth::new(inst)?;
                t.add(inst, &analysis)?;
                Ok(t)
            })
            .collect();
        let mut total = Truth::new(inst)?;
        for part in parts {
            total.merge(part?);
        }
        Some(total.finish())
    } else {
        None
    };

    // The respondents only, chunk by chunk in population order.
    let respondents_all: Vec<usize> = (0..frame.len())
        .filter(|&i| selection.responded[i])
        .collect();
    let mut columns: Option<Vec<String>> = None;
    for persons in respondents_all.chunks(CHUNK) {
        let chunk = answers.rows(&frame, persons)?;
        let out = respondent_table(chunk, persons, &frame, &selection, sim)?;
        if columns.is_none() {
            columns = Some(out.names().map(str::to_string).collect());
        }
        respondents(&out)?;
    }
    let columns = match columns {
        Some(c) => c,
        None => {
            let empty = respondent_table(answers.rows(&frame, &[])?, &[], &frame, &selection, sim)?;
            empty.names().map(str::to_string).collect()
        }
    };
    let n_units = frame.len();

    let design = DesignSpec {
        weight: Some(sample::WEIGHT.to_string()),
        strata: Some(sim.stratum.clone()),
        cluster: vec![sim.psu_column.clone(), sample::ID.to_string()],
        fpc: vec![sample::psu_count_column(sim), sample::psu_size_column(sim)],
        ..Default::default()
    };
    Ok(Summary {
        population: n_units,
        strata: frame.strata.len(),
        psus: frame.psu_sizes.len(),
        sampled: selection.sampled_count,
        respondents: selection.responded.iter().filter(|&&r| r).count(),
        margins: frame.margins(inst, sim),
        truth,
        design,
        columns,
        sample: sample::sample_table(&frame, &selection, sim)?,
        areas: register::area_facts(&frame),
    })
}

/// The respondents of a chunk: id, stratum, PSU, items, derived variables, weight and FPCs.
fn respondent_table(
    chunk: Table,
    persons: &[usize],
    frame: &population::Frame,
    selection: &sample::Selection,
    sim: &crate::instrument::model::Simulation,
) -> Result<Table> {
    let mut out = Table::new(persons.len());
    out.push(Column::num(
        sample::ID,
        persons.iter().map(|&p| (p + 1) as f64).collect(),
    ))?;
    for col in chunk.columns() {
        out.push(col.clone())?;
    }
    out.push(Column::num(
        sample::WEIGHT,
        persons.iter().map(|&p| selection.weight[p]).collect(),
    ))?;
    out.push(Column::num(
        sample::psu_count_column(sim),
        persons
            .iter()
            .map(|&p| frame.strata[frame.stratum_of(p)].psus.len() as f64)
            .collect(),
    ))?;
    out.push(Column::num(
        sample::psu_size_column(sim),
        persons
            .iter()
            .map(|&p| frame.psu_sizes[frame.psu[p] as usize] as f64)
            .collect(),
    ))?;
    Ok(out)
}

/// Accumulates the finite-population value of every indicator, overall and by group.
struct Truth {
    indicators: Vec<TruthCells>,
}

struct TruthCells {
    id: String,
    kind: IndicatorKind,
    p: f64,
    /// (dimension variable, or "" for the whole population; accumulators per group code).
    groups: Vec<(String, Vec<(f64, Acc)>)>,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    /// Sum of values (numerators).
    sum: Sum,
    /// Count of valid values (denominators, for ratios).
    den: Sum,
    /// Value counts, for quantiles (keyed by bit pattern).
    hist: HashMap<u64, usize>,
}

impl Truth {
    fn new(inst: &Instrument) -> Result<Truth> {
        let mut indicators = Vec::new();
        for ind in inst.indicators.values() {
            let dims: Vec<&str> = if ind.dimensions.is_empty() {
                inst.dimensions.keys().map(String::as_str).collect()
            } else {
                ind.dimensions.iter().map(String::as_str).collect()
            };
            let mut groups = vec![(String::new(), vec![(f64::NAN, Acc::default())])];
            for d in dims {
                let Some(dim) = inst.dimensions.get(d) else {
                    continue;
                };
                let Some(scale) = inst.scale_of(&dim.variable) else {
                    continue;
                };
                groups.push((
                    dim.variable.clone(),
                    scale
                        .codes
                        .iter()
                        .map(|c| (c.value, Acc::default()))
                        .collect(),
                ));
            }
            indicators.push(TruthCells {
                id: ind.id.clone(),
                kind: ind.kind,
                p: ind.p.unwrap_or(0.5),
                groups,
            });
        }
        Ok(Truth { indicators })
    }

    fn add(&mut self, inst: &Instrument, analysis: &Table) -> Result<()> {
        // The group slot of every row, once per dimension variable per chunk.
        let mut slots: HashMap<String, Vec<u32>> = HashMap::new();
        for cells in &self.indicators {
            for (var, accs) in &cells.groups {
                if var.is_empty() || slots.contains_key(var) {
                    continue;
                }
                let g = analysis.require_num(var)?;
                let codes: Vec<f64> = accs.iter().map(|(c, _)| *c).collect();
                let v = g
                    .iter()
                    .map(|x| {
                        codes
                            .iter()
                            .position(|c| c == x)
                            .map_or(u32::MAX, |k| k as u32)
                    })
                    .collect();
                slots.insert(var.clone(), v);
            }
        }
        for (cells, ind) in self.indicators.iter_mut().zip(inst.indicators.values()) {
            let values = indicator::values(inst, ind, analysis)?;
            let quantile = cells.kind == IndicatorKind::Quantile;
            let (num, den): (&[f64], Option<&[f64]>) = match &values {
                Values::Scalar(y) => (y, None),
                Values::Ratio {
                    numerator,
                    denominator,
                } => (numerator, Some(denominator)),
            };
            for (var, accs) in cells.groups.iter_mut() {
                let slot = slots.get(var);
                // Plain sums within the chunk, compensated across chunks.
                let mut sums = vec![0.0; accs.len()];
                let mut dens = vec![0.0; accs.len()];
                for (i, &v) in num.iter().enumerate() {
                    if v.is_nan() {
                        continue;
                    }
                    let k = match slot {
                        None => 0,
                        Some(s) if s[i] == u32::MAX => continue,
                        Some(s) => s[i] as usize,
                    };
                    sums[k] += v;
                    dens[k] += den.map_or(1.0, |d| d[i]);
                    if quantile {
                        *accs[k].1.hist.entry(v.to_bits()).or_insert(0) += 1;
                    }
                }
                for (k, (_, a)) in accs.iter_mut().enumerate() {
                    a.sum.add(sums[k]);
                    a.den.add(dens[k]);
                }
            }
        }
        Ok(())
    }

    /// Adds another part's sums (parts are merged in population order, so results do not
    /// depend on the number of threads).
    fn merge(&mut self, other: Truth) {
        for (mine, theirs) in self.indicators.iter_mut().zip(other.indicators) {
            for ((_, a), (_, b)) in mine.groups.iter_mut().zip(theirs.groups) {
                for ((_, x), (_, y)) in a.iter_mut().zip(b) {
                    x.sum.merge(y.sum);
                    x.den.merge(y.den);
                    for (k, c) in y.hist {
                        *x.hist.entry(k).or_insert(0) += c;
                    }
                }
            }
        }
    }

    fn finish(self) -> TidyTable {
        let mut t = TidyTable::new(["indicator", "by", "group", "value"]);
        for cells in self.indicators {
            for (var, accs) in &cells.groups {
                for (code, acc) in accs {
                    let value = match cells.kind {
                        IndicatorKind::Total => acc.sum.value(),
                        IndicatorKind::Quantile => population_quantile(&acc.hist, cells.p),
                        _ => acc.sum.value() / acc.den.value(),
                    };
                    let group = if var.is_empty() {
                        String::new()
                    } else {
                        format_number(*code)
                    };
                    t.push(vec![
                        cells.id.clone().into(),
                        var.clone().into(),
                        group.into(),
                        Cell::from(value),
                    ]);
                }
            }
        }
        t
    }
}

/// The population quantile: the smallest value whose share at or below it is at least `p`
/// (the inverse empirical distribution function, R survey's `qrule = "math"`).
fn population_quantile(hist: &HashMap<u64, usize>, p: f64) -> f64 {
    let mut values: Vec<(f64, usize)> =
        hist.iter().map(|(&b, &c)| (f64::from_bits(b), c)).collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: usize = values.iter().map(|v| v.1).sum();
    let mut cum = 0usize;
    for (x, c) in &values {
        cum += c;
        if cum as f64 >= p * total as f64 {
            return *x;
        }
    }
    values[values.len() - 1].0
}
