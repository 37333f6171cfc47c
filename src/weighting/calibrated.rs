//! Calibrating a design in process (`--calibrate METHOD --margin FILE ...` on every command
//! that takes design flags, and the calibration step of `tasa weight`): margins matched to the
//! sample ([`super::margins`]), the weights fitted ([`super::calibrate`] or
//! [`super::post_stratify`]), replicate weights re-calibrated one by one, and the residuals
//! that make linearisation variances calibration-aware kept on the design.
//!
//! Raking is R's `calibrate(calfun = "raking")` run to convergence (the same weights as
//! `rake()` iterated to the end); its variance uses the GREG residuals at the converged weights.
//! Post-stratification is R's `postStratify()`.

use super::calibrate::{calibrate, Bounds, CalibrationError, Control, GregFit, Method};
use super::margins::{self, Constraints, MarginFile};
use super::rake::{post_stratify, Margin, PostStratFit};
use crate::design::Design;
use crate::table::{format_number, Table};
use crate::{Error, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// The calibration method (`--calibrate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalMethod {
    /// Iterative proportional fitting to convergence (R's `calibrate(calfun = "raking")`).
    Raking,
    /// Linear (GREG) calibration, bounded with --bounds (R's `calfun = "linear"`).
    Linear,
    /// Bounded logit calibration; needs --bounds (R's `calfun = "logit"`).
    Logit,
    /// Post-stratification to one (possibly crossed) margin (R's `postStratify()`).
    Poststratify,
}

impl CalMethod {
    pub fn parse(s: &str) -> Result<CalMethod> {
        match s {
            "raking" => Ok(CalMethod::Raking),
            "linear" => Ok(CalMethod::Linear),
            "logit" => Ok(CalMethod::Logit),
            "poststratify" => Ok(CalMethod::Poststratify),
            other => Err(Error::Usage(format!(
                "calibrate = \"{other}\" is not one of raking, linear, logit, poststratify"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CalMethod::Raking => "raking",
            CalMethod::Linear => "linear",
            CalMethod::Logit => "logit",
            CalMethod::Poststratify => "poststratify",
        }
    }
}

/// A resolved calibration request.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationOptions {
    pub method: CalMethod,
    /// Margin files (CSV: variable columns and `total`).
    pub margins: Vec<PathBuf>,
    /// Totals of numeric variables.
    pub totals: Vec<(String, f64)>,
    /// Bounds on the g-weights w/d.
    pub bounds: Option<(f64, f64)>,
    /// Converged when max |misfit| / (1 + |T|) is below this.
    pub tolerance: f64,
    pub maxit: usize,
}

impl CalibrationOptions {
    /// tasa's defaults: tolerance 1e-10, 50 Newton steps.
    pub const DEFAULT_TOLERANCE: f64 = 1e-10;
    pub const DEFAULT_MAXIT: usize = 50;

    /// Checks that the pieces fit together.
    pub fn check(&self) -> Result<()> {
        if self.margins.is_empty() && self.totals.is_empty() {
            return Err(Error::Usage(format!(
                "--calibrate {} needs population margins: --margin FILE (repeatable) or --margin-total VAR=TOTAL",
                self.method.name()
            )));
        }
        match self.method {
            CalMethod::Poststratify => {
                if self.margins.len() != 1 || !self.totals.is_empty() || self.bounds.is_some() {
                    return Err(Error::Usage(
                        "--calibrate poststratify takes exactly one --margin file (cross the variables in one file) and no --margin-total or --bounds".into(),
                    ));
                }
            }
            CalMethod::Logit => {
                if !self
                    .bounds
                    .is_some_and(|(l, u)| l.is_finite() && u.is_finite())
                {
                    return Err(Error::Usage(
                        "--calibrate logit needs finite --bounds LO,HI (e.g. --bounds 0.3,3)"
                            .into(),
                    ));
                }
            }
            CalMethod::Raking | CalMethod::Linear => {}
        }
        if let Some((l, u)) = self.bounds {
            if !(l < 1.0 && u > 1.0) {
                return Err(Error::Usage(format!(
                    "--bounds {l},{u}: the bounds on w/d must contain 1 (LO < 1 < HI)"
                )));
            }
        }
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) || self.maxit == 0 {
            return Err(Error::Usage(
                "the calibration tolerance must be a positive number and maxit at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Parses `--bounds LO,HI`.
pub fn parse_bounds(s: &str) -> Result<(f64, f64)> {
    let bad = || {
        Error::Usage(format!(
            "--bounds `{s}`: write LO,HI with LO < 1 < HI, e.g. 0.3,3"
        ))
    };
    let (l, u) = s.split_once(',').ok_or_else(bad)?;
    let l: f64 = l.trim().parse().map_err(|_| bad())?;
    let u: f64 = u.trim().parse().map_err(|_| bad())?;
    if l.is_nan() || u.is_nan() {
        return Err(bad());
    }
    Ok((l, u))
}

/// The calibration-aware variance residuals kept on a calibrated design: one fit per
/// reweighting, applied in the order the weights were adjusted (calibration, then
/// standardisation), as R's `svyrecvar` goes through a design's `postStrata`.
#[derive(Debug, Clone)]
pub struct Residuals {
    fits: Vec<Fit>,
    all: Vec<u32>,
    /// The design's unit sums of a single GREG fit, made at the first variance
    /// ([`crate::design::aggregate`]); `None` inside when the design needs the row path.
    aggregates: std::sync::OnceLock<Option<crate::design::aggregate::Aggregates>>,
}

#[derive(Debug, Clone)]
enum Fit {
    Greg(GregFit),
    PostStrat(PostStratFit),
}

impl Residuals {
    /// The residuals of all rows for the scores `z` of rows `idx` (others score 0).
    pub fn residuals(&self, idx: &[u32], z: &[f64], out: &mut Vec<f64>) {
        let mut previous = Vec::new();
        for (k, fit) in self.fits.iter().enumerate() {
            let (idx, z) = if k == 0 {
                (idx, z)
            } else {
                std::mem::swap(out, &mut previous);
                (self.all.as_slice(), previous.as_slice())
            };
            match fit {
                Fit::Greg(g) => g.residuals(idx, z, out),
                Fit::PostStrat(p) => p.residuals(idx, z, out),
            }
        }
    }

    /// These residuals followed by a post-stratification (`previous = None`: the
    /// post-stratification alone).
    pub fn then_post_stratified(previous: Option<&Residuals>, fit: PostStratFit) -> Residuals {
        let n = fit.rows();
        let mut fits = previous.map_or_else(Vec::new, |r| r.fits.clone());
        fits.push(Fit::PostStrat(fit));
        Residuals {
            fits,
            all: (0..n as u32).collect(),
            aggregates: Default::default(),
        }
    }

    /// Every row index, in order (the residuals are non-zero everywhere).
    pub fn all_rows(&self) -> &[u32] {
        &self.all
    }

    /// The one GREG fit of a design calibrated once (not post-stratified, not standardised
    /// after), whose variances can be taken from unit sums.
    pub fn single_greg(&self) -> Option<&GregFit> {
        match self.fits.as_slice() {
            [Fit::Greg(g)] => Some(g),
            _ => None,
        }
    }

    /// The unit sums of `design` for [`Residuals::single_greg`], made once.
    pub fn aggregates(
        &self,
        design: &crate::design::Design,
    ) -> Option<&crate::design::aggregate::Aggregates> {
        self.aggregates
            .get_or_init(|| {
                self.single_greg()
                    .and_then(|g| crate::design::aggregate::Aggregates::new(design, g))
            })
            .as_ref()
    }
}

/// Target and achieved total of one constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellFit {
    /// The margin file, or `total` for a numeric total.
    pub margin: String,
    /// `area=3`, `origin=2, gender=1`, or the numeric variable.
    pub cell: String,
    pub target: f64,
    /// Reached by the weights before calibration.
    pub before: f64,
    /// Reached by the calibrated weights.
    pub achieved: f64,
}

/// What a calibration did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationReport {
    pub method: CalMethod,
    pub bounds: Option<(f64, f64)>,
    pub tolerance: f64,
    /// Newton steps (0: closed form).
    pub iterations: usize,
    /// max |misfit| / (1 + |T|) at the final weights.
    pub max_relative_misfit: f64,
    pub cells: Vec<CellFit>,
    /// Rows whose calibrated weight is negative (unbounded linear calibration).
    pub negative_weights: usize,
    /// Replicate weight columns re-calibrated.
    pub replicates: usize,
}

impl CalibrationReport {
    /// One line for the terminal.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "weights calibrated ({}) to {} population totals",
            self.method.name(),
            self.cells.len()
        );
        if self.iterations > 0 {
            s.push_str(&format!(" in {} iterations", self.iterations));
        }
        s.push_str(&format!(
            "; largest relative misfit {:.1e}",
            self.max_relative_misfit
        ));
        if self.replicates > 0 {
            s.push_str(&format!(
                "; {} replicate weights re-calibrated",
                self.replicates
            ));
        }
        s
    }
}

/// The margins and totals of a calibration, read and matched to the sample once, to be
/// applied to the full-sample weights and every replicate.
#[derive(Debug, Clone)]
pub struct Calibrator {
    pub options: CalibrationOptions,
    pub constraints: Constraints,
}

impl Calibrator {
    /// Reads the margin files and matches them to the rows of `table` with `d > 0`.
    pub fn new(table: &Table, d: &[f64], options: &CalibrationOptions) -> Result<Calibrator> {
        options.check()?;
        let files: Vec<MarginFile> = options
            .margins
            .iter()
            .map(|p| margins::read_margin(p))
            .collect::<Result<_>>()?;
        let constraints = margins::constraints(table, d, &files, &options.totals)?;
        Ok(Calibrator {
            options: options.clone(),
            constraints,
        })
    }

    fn post_margin(&self) -> Margin {
        let m = &self.constraints.margins[0];
        let mut position = vec![0u32; m.file.cells.len()];
        for (j, &c) in m.kept.iter().enumerate() {
            position[c] = j as u32;
        }
        Margin {
            name: m.file.name(),
            // Rows with weight 0 sit in no cell; any cell keeps their weight at 0.
            cells: m
                .cell_of_row
                .iter()
                .map(|&c| {
                    if c == crate::table::MISSING_CODE {
                        0
                    } else {
                        position[c as usize]
                    }
                })
                .collect(),
            totals: m.kept.iter().map(|&c| m.file.cells[c].total).collect(),
        }
    }

    /// Calibrated weights from weights `d`, and the Newton steps taken.
    pub fn weights(&self, d: &[f64]) -> Result<(Vec<f64>, usize)> {
        let o = &self.options;
        // A cell whose rows all have weight 0 here (a replicate that dropped every PSU with
        // a respondent in it) cannot be met by any method.
        let aux = &self.constraints.aux;
        let reached = aux.weighted_totals(d);
        if let Some(j) = (0..aux.ncols()).find(|&j| {
            self.constraints.origin[j].is_some() && reached[j] == 0.0 && aux.totals()[j] > 0.0
        }) {
            let respondents = self
                .constraints
                .origin
                .get(j)
                .copied()
                .flatten()
                .map_or(0, |(k, c)| self.constraints.margins[k].respondents[c]);
            // Valid inputs that cannot meet a target: exit 1, as non-convergence.
            return Err(Error::NotConverged(format!(
                "margin cell `{}` has no weight left to calibrate (its {respondents} respondents all have weight 0); collapse it with a neighbouring category in the data and the margin",
                aux.names()[j]
            )));
        }
        if o.method == CalMethod::Poststratify {
            let w = post_stratify(d, &self.post_margin()).map_err(|e| self.error(e))?;
            return Ok((w, 0));
        }
        let method = match o.method {
            CalMethod::Linear => Method::Linear,
            CalMethod::Logit => Method::Logit,
            _ => Method::Raking,
        };
        let bounds = o
            .bounds
            .map_or(Bounds::NONE, |(lower, upper)| Bounds { lower, upper });
        let out = calibrate(
            d,
            &self.constraints.aux,
            method,
            bounds,
            Control {
                epsilon: o.tolerance,
                maxit: o.maxit,
            },
        )
        .map_err(|e| self.error(e))?;
        Ok((out.weights, out.iterations))
    }

    /// The residuals for linearisation variances after calibrating `d` to `w`.
    pub fn residuals(&self, d: &[f64], w: &[f64]) -> Result<Residuals> {
        let fit = if self.options.method == CalMethod::Poststratify {
            Fit::PostStrat(PostStratFit::new(d, w, &self.post_margin()).map_err(|e| self.error(e))?)
        } else {
            Fit::Greg(GregFit::new(d, w, &self.constraints.aux).map_err(|e| self.error(e))?)
        };
        Ok(Residuals {
            fits: vec![fit],
            all: (0..d.len() as u32).collect(),
            aggregates: Default::default(),
        })
    }

    /// Margin cells with fewer than `k` respondents, as `cell (n)` labels: replicate weights
    /// (which drop or repeat whole PSUs) may leave such a cell without weight.
    pub fn small_cells(&self, k: usize) -> Vec<String> {
        self.constraints
            .margins
            .iter()
            .flat_map(|m| {
                m.kept
                    .iter()
                    .filter(|&&c| m.respondents[c] < k)
                    .map(move |&c| format!("{} ({})", m.file.cell_label(c), m.respondents[c]))
            })
            .collect()
    }

    /// The report of a calibration of `d` to `w` in `iterations` Newton steps.
    pub fn report(&self, d: &[f64], w: &[f64], iterations: usize) -> CalibrationReport {
        let cells = self.cells(d, w);
        let max_relative_misfit = cells
            .iter()
            .map(|c| (c.target - c.achieved).abs() / (1.0 + c.target.abs()))
            .fold(0.0f64, f64::max);
        CalibrationReport {
            method: self.options.method,
            bounds: self.options.bounds,
            tolerance: self.options.tolerance,
            iterations,
            max_relative_misfit,
            cells,
            negative_weights: w.iter().filter(|&&x| x < 0.0).count(),
            replicates: 0,
        }
    }

    /// Target, before and achieved per constraint.
    pub fn cells(&self, d: &[f64], w: &[f64]) -> Vec<CellFit> {
        let aux = &self.constraints.aux;
        let before = aux.weighted_totals(d);
        let after = aux.weighted_totals(w);
        aux.names()
            .iter()
            .zip(aux.totals())
            .zip(&self.constraints.origin)
            .enumerate()
            .map(|(j, ((name, &target), origin))| CellFit {
                margin: match origin {
                    Some((k, _)) => self.constraints.margins[*k].file.path.display().to_string(),
                    None => "total".into(),
                },
                cell: name.clone(),
                target,
                before: before[j],
                achieved: after[j],
            })
            .collect()
    }

    /// A calibration error as tasa's error: non-convergence (exit 1) names the worst cell and
    /// its margin file.
    fn error(&self, e: CalibrationError) -> Error {
        match e {
            CalibrationError::Invalid(m) => Error::Design(format!("calibration: {m}")),
            CalibrationError::NotConverged {
                constraint,
                total,
                misfit,
                relative,
                iterations,
            } => {
                let aux = &self.constraints.aux;
                let file = aux
                    .names()
                    .iter()
                    .position(|n| *n == constraint)
                    .and_then(|j| self.constraints.origin[j])
                    .map(|(k, _)| {
                        format!(
                            " of margin {}",
                            self.constraints.margins[k].file.path.display()
                        )
                    })
                    .unwrap_or_default();
                let reached = if misfit.is_finite() {
                    format!(
                        "reached {} (relative misfit {relative:.1e}, tolerance {:.0e})",
                        format_number(total - misfit),
                        self.options.tolerance
                    )
                } else {
                    "the weights became undefined".to_string()
                };
                Error::NotConverged(format!(
                    "{} calibration did not converge after {iterations} iterations: the worst cell is `{constraint}`{file}, target {} but {reached}; widen --bounds, collapse small cells or drop a margin",
                    self.options.method.name(),
                    format_number(total),
                ))
            }
        }
    }
}

/// Calibrates a design in process: its weights, then every replicate weight column with the
/// same margins; the linearisation residuals are kept on the design. Negative calibrated
/// weights are an error unless `allow_negative`.
pub fn calibrate_design(
    design: &mut Design,
    table: &Table,
    options: &CalibrationOptions,
    allow_negative: bool,
) -> Result<CalibrationReport> {
    let d = design.weights.clone();
    let cal = Calibrator::new(table, &d, options)?;
    let (w, iterations) = cal.weights(&d)?;
    let negative = w.iter().filter(|&&x| x < 0.0).count();
    if negative > 0 && !allow_negative {
        let min = w.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        return Err(Error::Design(format!(
            "{} calibration gave {negative} negative weights (smallest {}); bound the g-weights with --bounds LO,HI (e.g. 0.3,3) or accept them with --allow-negative-weights",
            options.method.name(),
            format_number(min)
        )));
    }
    let mut report = cal.report(&d, &w, iterations);
    if let Some(r) = &mut design.replicates {
        // Calibrated replicate weights are no longer multiples of the PSU factors: columns.
        let n = design.n;
        let names = r.names.clone();
        r.columns_mut(n)
            .par_chunks_mut(n)
            .enumerate()
            .try_for_each(|(k, col)| {
                let (w, _) = cal
                    .weights(col)
                    .map_err(|e| replicate_error(&format!("{} ({})", k + 1, names[k]), e))?;
                col.copy_from_slice(&w);
                Ok::<(), Error>(())
            })?;
        report.replicates = r.count;
    } else {
        design.calibration = Some(Arc::new(cal.residuals(&d, &w)?));
    }
    design.weights = w;
    Ok(report)
}

/// An error of replicate `label`'s weighting, with the replicate named.
pub fn replicate_error(label: &str, e: Error) -> Error {
    match e {
        Error::NotConverged(m) => Error::NotConverged(format!("replicate {label}: {m}")),
        Error::Design(m) => Error::Design(format!("replicate {label}: {m}")),
        other => other,
    }
}
