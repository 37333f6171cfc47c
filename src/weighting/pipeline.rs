//! The weighting steps of `tasa weight`, in order: base weights, non-response adjustment
//! within cells, calibration to population margins, trimming with re-calibration, and
//! replicate weights that repeat the adjustment and the calibration, so that replicate
//! variances reflect them (R's `as.svrepdesign` followed by `calibrate` on the replicate
//! design does the calibration part).
//!
//! Each replicate starts from the base weights times its PSU multipliers, repeats the
//! non-response adjustment in the same (collapsed) cells, is calibrated to the same margins,
//! takes the full sample's trimming factors (trimmed / untrimmed weight) and is re-calibrated.
//! Carrying the trimming factors over, rather than trimming each replicate to the bounds
//! anew, keeps a replicate's weights from being cut where the resampling merely doubled a
//! PSU.

use super::calibrated::{replicate_error, CalibrationOptions, CalibrationReport, Calibrator};
use super::diagnostics::{ratio_summary, summarize, RatioSummary, WeightSummary};
use super::nonresponse::{self, CellReport, NonresponseOptions};
use super::replicates::{replicate_factors, type_name, ReplicateFactors, ReplicateSpec};
use super::trim::trim;
use crate::design::Design;
use crate::error::Location;
use crate::table::{format_number, ColumnData, Table, MISSING_CODE};
use crate::{Error, Result, Warning};
use rayon::prelude::*;
use serde::Serialize;

/// Margin cells with fewer respondents than this are named in a warning before replicate
/// weights are calibrated.
const SMALL_CELL: usize = 10;

/// Re-calibration after trimming moves weights back towards the outside a little
/// each round (the alternation converges linearly); a weight within this relative distance of
/// a bound counts as inside.
const SLACK: f64 = 1e-4;

/// Non-response adjustment settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NonresponsePlan {
    /// Response indicator column (1 / 0, or true/false, yes/no).
    pub indicator: String,
    /// Cell variables (none: one cell).
    pub cells: Vec<String>,
    pub options: NonresponseOptions,
}

/// Trimming settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrimPlan {
    pub lower: f64,
    pub upper: f64,
    /// Bounds are multiples of the mean non-zero weight.
    pub relative: bool,
    /// Re-calibrate after each trimming round (when calibrating).
    pub recalibrate: bool,
    /// Rounds of trimming and re-calibration.
    pub maxit: usize,
}

/// All the steps to run; a step that is `None` is skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Column with the population size of each row's stratum: base weight `N_h / n_h`.
    pub stratum_population: Option<String>,
    pub nonresponse: Option<NonresponsePlan>,
    pub calibration: Option<CalibrationOptions>,
    pub trim: Option<TrimPlan>,
    pub replicates: Option<ReplicateSpec>,
}

/// What the base weights were.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaseReport {
    pub source: String,
    pub summary: WeightSummary,
}

/// The non-response adjustment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NonresponseReport {
    pub indicator: String,
    pub cell_variables: Vec<String>,
    pub sampled: usize,
    pub respondents: usize,
    /// Σ d over respondents / Σ d over the sample.
    pub weighted_response_rate: f64,
    /// Cells after collapsing.
    pub final_cells: usize,
    pub cells: Vec<CellReport>,
}

/// The trimming step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrimReport {
    /// Absolute bounds used.
    pub lower: f64,
    pub upper: f64,
    /// The bounds as given, and whether they were multiples of the mean weight.
    pub given: (f64, f64),
    pub relative: bool,
    pub recalibrated: bool,
    pub rounds: usize,
    /// Rows trimmed up to the lower bound or down to the upper one in some round.
    pub trimmed_low: usize,
    pub trimmed_high: usize,
    /// Non-zero weights still outside the bounds (by more than 0.01 %) at the end:
    /// re-calibration can push a few out again.
    pub outside_after: usize,
}

/// The replicate weights made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicateReport {
    #[serde(rename = "type")]
    pub kind: String,
    pub count: usize,
    pub seed: u64,
    /// The whole variance multiplier.
    pub scale: f64,
    pub fay_rho: Option<f64>,
    pub notes: Vec<String>,
}

/// The diagnostics of a weighting run (`--report FILE`), filled step by step so that a run
/// that stops still says how far it got.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Report {
    pub rows: usize,
    pub base: Option<BaseReport>,
    pub nonresponse: Option<NonresponseReport>,
    pub calibration: Option<CalibrationReport>,
    pub trimming: Option<TrimReport>,
    pub replicates: Option<ReplicateReport>,
    /// The final weights: distribution, Kish design effect of weighting, effective n.
    pub weights: Option<WeightSummary>,
    /// Final weight / base weight over the rows with a base weight.
    pub adjustment: Option<RatioSummary>,
    pub warnings: Vec<String>,
    /// Why the run stopped, when it did.
    pub error: Option<String>,
}

/// The weights made.
#[derive(Debug, Clone)]
pub struct Weighted {
    pub weights: Vec<f64>,
    /// One full weight vector per replicate.
    pub replicates: Vec<Vec<f64>>,
    /// The replicate factors' variance settings (no factors kept).
    pub replicate_settings: Option<ReplicateFactors>,
}

/// Runs the plan on the design's rows; `report` is filled as the steps complete.
pub fn weigh(table: &Table, design: &Design, plan: &Plan, report: &mut Report) -> Result<Weighted> {
    let n = table.nrows();
    report.rows = n;
    // Warnings reach the report at once, so that a run that stops still shows them.
    let warn = |w: Warning, report: &mut Report| report.warnings.push(w.to_string());

    // 1. Base weights.
    let (base, source) = match &plan.stratum_population {
        Some(col) => (
            stratum_weights(table, design, col)?,
            format!("stratum population `{col}` / sample size"),
        ),
        None => (design.weights.clone(), "design weights".to_string()),
    };
    if let Some(i) = base.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(Error::Design(format!(
            "row {}: the base weight {} is not a non-negative number",
            i + 1,
            base[i]
        )));
    }
    report.base = Some(BaseReport {
        source,
        summary: summarize(&base),
    });

    // 2. Non-response adjustment.
    let mut w = base.clone();
    let mut nr = None;
    if let Some(p) = &plan.nonresponse {
        let respondent = response_indicator(table, &p.indicator)?;
        let cells = nonresponse::cells(table, &p.cells)?;
        let adjusted = nonresponse::adjust(&base, &respondent, &cells, &p.options)?;
        let (ws, wr) = base
            .iter()
            .zip(&respondent)
            .fold((0.0, 0.0), |(s, r), (&d, &resp)| {
                (s + d, if resp { r + d } else { r })
            });
        report.nonresponse = Some(NonresponseReport {
            indicator: p.indicator.clone(),
            cell_variables: p.cells.clone(),
            sampled: n,
            respondents: respondent.iter().filter(|&&r| r).count(),
            weighted_response_rate: if ws > 0.0 { wr / ws } else { f64::NAN },
            final_cells: adjusted.final_cells.len(),
            cells: adjusted.report.clone(),
        });
        w = adjusted.weights.clone();
        nr = Some((adjusted, respondent));
    }

    // 3. Calibration.
    let calibrator = match &plan.calibration {
        Some(options) => Some(Calibrator::new(table, &w, options)?),
        None => None,
    };
    if let Some(cal) = &calibrator {
        let d = w.clone();
        let (wc, iterations) = cal.weights(&d)?;
        report.calibration = Some(cal.report(&d, &wc, iterations));
        w = wc;
    }

    if let (Some(cal), Some(_)) = (&calibrator, &plan.replicates) {
        let small = cal.small_cells(SMALL_CELL);
        if !small.is_empty() {
            warn(
                Warning {
                    message: format!(
                        "margin cells with fewer than {SMALL_CELL} respondents: {}; a replicate that drops their PSUs cannot be calibrated",
                        small.join(", ")
                    ),
                    remedy: Some("collapse small cells with a neighbouring category".into()),
                },
                report,
            );
        }
    }

    // 4. Trimming, with re-calibration.
    let mut trim_factor: Option<Vec<f64>> = None;
    if let Some(t) = &plan.trim {
        let untrimmed = w.clone();
        let positive: Vec<f64> = w.iter().copied().filter(|&x| x > 0.0).collect();
        let mean = crate::numeric::sum(&positive) / positive.len().max(1) as f64;
        let (lo, hi) = if t.relative {
            (t.lower * mean, t.upper * mean)
        } else {
            (t.lower, t.upper)
        };
        let recalibrate = t.recalibrate && calibrator.is_some();
        let mut low = vec![false; n];
        let mut high = vec![false; n];
        let mut rounds = 0;
        let outside = |w: &[f64]| {
            w.iter()
                .filter(|&&x| x != 0.0 && (x < lo * (1.0 - SLACK) || x > hi * (1.0 + SLACK)))
                .count()
        };
        while rounds < t.maxit.max(1) {
            rounds += 1;
            for (i, &x) in w.iter().enumerate() {
                if x != 0.0 && x < lo {
                    low[i] = true;
                }
                if x > hi {
                    high[i] = true;
                }
            }
            w = trim(&w, lo, hi, true)?.weights;
            if let (true, Some(cal)) = (recalibrate, &calibrator) {
                w = cal.weights(&w)?.0;
            }
            if outside(&w) == 0 {
                break;
            }
        }
        let outside_after = outside(&w);
        if outside_after > 0 {
            warn(
                Warning {
                    message: format!(
                        "{outside_after} weights are still outside the trimming bounds [{}, {}] after {rounds} rounds of trimming and re-calibration",
                        format_number(lo),
                        format_number(hi)
                    ),
                    remedy: Some("widen the bounds or use bounded calibration (--bounds)".into()),
                },
                report,
            );
        }
        report.trimming = Some(TrimReport {
            lower: lo,
            upper: hi,
            given: (t.lower, t.upper),
            relative: t.relative,
            recalibrated: recalibrate,
            rounds,
            trimmed_low: low.iter().filter(|&&b| b).count(),
            trimmed_high: high.iter().filter(|&&b| b).count(),
            outside_after,
        });
        trim_factor = Some(
            w.iter()
                .zip(&untrimmed)
                .map(|(&a, &b)| if b != 0.0 { a / b } else { 0.0 })
                .collect(),
        );
    }

    let negative = w.iter().filter(|&&x| x < 0.0).count();
    if negative > 0 {
        warn(
            Warning {
                message: format!(
                    "{negative} weights are negative (smallest {})",
                    format_number(w.iter().fold(f64::INFINITY, |a, &b| a.min(b)))
                ),
                remedy: Some(
                    "bound the calibration with --bounds LO,HI; estimating with these weights needs --allow-negative-weights".into(),
                ),
            },
            report,
        );
    }

    // 5. Replicates: every step again from each replicate's base weights.
    let mut replicates = Vec::new();
    let mut replicate_settings = None;
    if let Some(spec) = &plan.replicates {
        let factors = replicate_factors(design, spec)?;
        for note in &factors.notes {
            warn(note.clone(), report);
        }
        let row_psu = &design.stages[0].row_unit;
        let one = |r: usize| -> Result<Vec<f64>> {
            let mut wr = vec![0.0; n];
            factors.apply(r, row_psu, &base, &mut wr);
            if let Some((adjusted, respondent)) = &nr {
                wr = adjusted.reapply(&wr, respondent);
            }
            if let Some(cal) = &calibrator {
                wr = cal.weights(&wr)?.0;
                if let Some(f) = &trim_factor {
                    wr.iter_mut().zip(f).for_each(|(x, f)| *x *= f);
                    if plan.trim.as_ref().is_some_and(|t| t.recalibrate) {
                        wr = cal.weights(&wr)?.0;
                    }
                }
            } else if let Some(f) = &trim_factor {
                wr.iter_mut().zip(f).for_each(|(x, f)| *x *= f);
            }
            Ok(wr)
        };
        replicates = (0..factors.count)
            .into_par_iter()
            .map(|r| one(r).map_err(|e| replicate_error(&(r + 1).to_string(), e)))
            .collect::<Result<Vec<_>>>()?;
        if let Some(c) = &mut report.calibration {
            c.replicates = factors.count;
        }
        report.replicates = Some(ReplicateReport {
            kind: type_name(factors.kind).to_string(),
            count: factors.count,
            seed: spec.seed,
            scale: factors.scale,
            fay_rho: factors.fay_rho,
            notes: factors.notes.iter().map(ToString::to_string).collect(),
        });
        replicate_settings = Some(ReplicateFactors {
            psu_factors: Vec::new(),
            ..factors
        });
    }

    report.weights = Some(summarize(&w));
    report.adjustment = Some(ratio_summary(&base, &w));
    Ok(Weighted {
        weights: w,
        replicates,
        replicate_settings,
    })
}

/// Base weights `N_h / n_h` from a column holding each row's stratum population.
fn stratum_weights(table: &Table, design: &Design, col: &str) -> Result<Vec<f64>> {
    if design.stages[0].unit_parent.len() != design.n {
        return Err(Error::Usage(format!(
            "base weights from stratum sizes (`{col}`) are for designs that sample persons directly; a clustered design needs --weight or --probs"
        )));
    }
    let pop = table.require_num(col)?;
    let h = design.stratum_label.len();
    let mut size = vec![f64::NAN; h];
    let mut count = vec![0usize; h];
    for (i, (&p, &s)) in pop.iter().zip(&design.row_stratum).enumerate() {
        let s = s as usize;
        let loc = || {
            Location::source(table.source.clone())
                .row(i + 1)
                .column(col)
        };
        if !(p.is_finite() && p > 0.0) {
            return Err(Error::input(
                loc(),
                Some(format_number(p)),
                "expected the stratum's population size, a positive number",
            ));
        }
        if size[s].is_nan() {
            size[s] = p;
        } else if size[s] != p {
            return Err(Error::input(
                loc(),
                Some(format_number(p)),
                format!(
                    "stratum `{}` has population sizes {} and {}; give one per stratum",
                    design.stratum_label[s],
                    format_number(size[s]),
                    format_number(p)
                ),
            ));
        }
        count[s] += 1;
    }
    for s in 0..h {
        if (count[s] as f64) > size[s] {
            return Err(Error::Design(format!(
                "stratum `{}` has {} sampled rows but a population of {}",
                design.stratum_label[s],
                count[s],
                format_number(size[s])
            )));
        }
    }
    Ok(design
        .row_stratum
        .iter()
        .map(|&s| size[s as usize] / count[s as usize] as f64)
        .collect())
}

/// The response indicator: 1/0 numbers, or true/false, yes/no text.
fn response_indicator(table: &Table, col: &str) -> Result<Vec<bool>> {
    let c = table.require(col)?;
    let bad = |i: usize, v: Option<String>| {
        Error::input(
            Location::source(table.source.clone())
                .row(i + 1)
                .column(col),
            v,
            "expected a response indicator: 1 for a respondent, 0 for a non-respondent",
        )
    };
    match &c.data {
        ColumnData::Num(v) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| match x {
                1.0 => Ok(true),
                0.0 => Ok(false),
                x => Err(bad(i, (!x.is_nan()).then(|| format_number(x)))),
            })
            .collect(),
        ColumnData::Cat { codes, levels } => {
            let map: Vec<Option<bool>> = levels
                .iter()
                .map(|l| match l.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" => Some(true),
                    "0" | "false" | "no" => Some(false),
                    _ => None,
                })
                .collect();
            codes
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    if c == MISSING_CODE {
                        return Err(bad(i, None));
                    }
                    map[c as usize].ok_or_else(|| bad(i, Some(levels[c as usize].clone())))
                })
                .collect()
        }
    }
}
