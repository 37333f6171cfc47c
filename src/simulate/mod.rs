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
    /// `indicator, by, group, value`.
    pub truth: TidyTable,
    pub design: DesignSpec,
    /// Columns of the respondent tables, in order.
    pub columns: Vec<String>,
    /// The gross sample with its response indicator (frame variables only).
    pub sample: Table,
}

/// Simulates a population and a sample. `respondents` receives the responding sampled units
/// chunk by chunk (all columns of [`Summary::columns`]), in population order.
pub fn simulate(inst: &Instrument, options: &Options, mut respondents: impl FnMut(&Table) -> Result<()>) -> Result<Summary> {
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

    let mut truth = Truth::new(inst)?;
    let mut answers = answers::Generator::new(inst, sim, options.population_seed);
    let mut columns: Option<Vec<String>> = None;
    let n_units = frame.len();
    let mut start = 0;
    while start < n_units {
        let end = (start + CHUNK).min(n_units);
        let chunk = answers.chunk(&frame, start, end)?;
        let analysis = derive::prepare(inst, &chunk, InvalidCodes::Error)?;
        truth.add(inst, &analysis)?;

        let rows: Vec<usize> = (start..end).filter(|&i| selection.responded[i]).map(|i| i - start).collect();
        let out = respondent_table(&chunk, &rows, start, &frame, &selection, sim)?;
        if columns.is_none() {
            columns = Some(out.names().map(str::to_string).collect());
        }
        if out.nrows() > 0 {
            respondents(&out)?;
        }
        start = end;
    }

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
        truth: truth.finish(),
        design,
        columns: columns.unwrap_or_default(),
        sample: sample::sample_table(&frame, &selection, sim)?,
    })
}

/// The respondents of a chunk: id, stratum, PSU, items, derived variables, weight and FPCs.
fn respondent_table(
    chunk: &Table,
    rows: &[usize],
    start: usize,
    frame: &population::Frame,
    selection: &sample::Selection,
    sim: &crate::instrument::model::Simulation,
) -> Result<Table> {
    let mut out = Table::new(rows.len());
    out.push(Column::num(sample::ID, rows.iter().map(|&r| (start + r + 1) as f64).collect()))?;
    for col in chunk.columns() {
        let mut c = col.clone();
        c.data = match &col.data {
            crate::table::ColumnData::Num(v) => crate::table::ColumnData::Num(rows.iter().map(|&r| v[r]).collect()),
            crate::table::ColumnData::Cat { codes, levels } => crate::table::ColumnData::Cat {
                codes: rows.iter().map(|&r| codes[r]).collect(),
                levels: levels.clone(),
            },
        };
        out.push(c)?;
    }
    let units: Vec<usize> = rows.iter().map(|&r| start + r).collect();
    out.push(Column::num(sample::WEIGHT, units.iter().map(|&u| selection.weight[u]).collect()))?;
    out.push(Column::num(
        sample::psu_count_column(sim),
        units.iter().map(|&u| frame.strata[frame.stratum_of(u)].psus.len() as f64).collect(),
    ))?;
    out.push(Column::num(
        sample::psu_size_column(sim),
        units.iter().map(|&u| frame.psu_sizes[frame.psu[u] as usize] as f64).collect(),
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
                let Some(dim) = inst.dimensions.get(d) else { continue };
                let Some(scale) = inst.scale_of(&dim.variable) else { continue };
                groups.push((dim.variable.clone(), scale.codes.iter().map(|c| (c.value, Acc::default())).collect()));
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
        for (cells, ind) in self.indicators.iter_mut().zip(inst.indicators.values()) {
            let values = indicator::values(inst, ind, analysis)?;
            let quantile = cells.kind == IndicatorKind::Quantile;
            let (num, den): (&[f64], Option<&[f64]>) = match &values {
                Values::Scalar(y) => (y, None),
                Values::Ratio { numerator, denominator } => (numerator, Some(denominator)),
            };
            for (var, accs) in cells.groups.iter_mut() {
                let by: Option<&[f64]> = if var.is_empty() { None } else { Some(analysis.require_num(var)?) };
                for (i, &v) in num.iter().enumerate() {
                    if v.is_nan() {
                        continue;
                    }
                    let slot = match by {
                        None => Some(0),
                        Some(g) => accs.iter().position(|(c, _)| *c == g[i]),
                    };
                    let Some(k) = slot else { continue };
                    let a = &mut accs[k].1;
                    a.sum.add(v);
                    a.den.add(den.map_or(1.0, |d| d[i]));
                    if quantile {
                        *a.hist.entry(v.to_bits()).or_insert(0) += 1;
                    }
                }
            }
        }
        Ok(())
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
                    let group = if var.is_empty() { String::new() } else { format_number(*code) };
                    t.push(vec![cells.id.clone().into(), var.clone().into(), group.into(), Cell::from(value)]);
                }
            }
        }
        t
    }
}

/// The population quantile: the smallest value whose share at or below it is at least `p`
/// (the inverse empirical distribution function, R survey's `qrule = "math"`).
fn population_quantile(hist: &HashMap<u64, usize>, p: f64) -> f64 {
    let mut values: Vec<(f64, usize)> = hist.iter().map(|(&b, &c)| (f64::from_bits(b), c)).collect();
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
