//! Reliability flags and disclosure control (design section 6).
//!
//! Proportions follow the NCHS Data Presentation Standards for Proportions (Parker et al.
//! 2017), on the Korn–Graubard interval: suppressed when the effective sample size
//! `min(n, p(1-p)/V)` is below 30, or the interval is 0.30 wide or wider, or it is wider than
//! 0.05 and its width relative to the estimate exceeds 130 %; `low_precision` when the design
//! df are below 8. Means, totals, ratios and quantiles: suppressed when n < 30,
//! `low_precision` when the CV exceeds 30 % or the df are below 8. Any estimate with n below
//! the minimum cell size (disclosure control) is suppressed.

use super::estimand::Stat;
use super::estimator::Estimate;

/// The flag of a result row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Ok,
    LowPrecision,
    Suppressed,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Ok => "ok",
            Flag::LowPrecision => "low_precision",
            Flag::Suppressed => "suppressed",
        }
    }

    /// The worst of several flags (a result built from several estimates).
    pub fn worst(flags: impl Iterator<Item = Flag>) -> Flag {
        flags.fold(Flag::Ok, |a, f| match (a, f) {
            (Flag::Suppressed, _) | (_, Flag::Suppressed) => Flag::Suppressed,
            (Flag::LowPrecision, _) | (_, Flag::LowPrecision) => Flag::LowPrecision,
            _ => Flag::Ok,
        })
    }
}

/// The thresholds (defaults as the design says).
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub min_cell: usize,
    pub min_n_eff: f64,
    pub max_width: f64,
    pub width_floor: f64,
    pub max_relative_width: f64,
    pub min_df: f64,
    pub min_n: usize,
    pub max_cv: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_cell: 30,
            min_n_eff: 30.0,
            max_width: 0.30,
            width_floor: 0.05,
            max_relative_width: 1.30,
            min_df: 8.0,
            min_n: 30,
            max_cv: 0.30,
        }
    }
}

/// The flag of an estimate; `kg` is the Korn–Graubard interval of a proportion; `df` the
/// domain's design degrees of freedom.
pub fn flag(rules: &Rules, stat: Stat, e: &Estimate, kg: Option<(f64, f64)>, df: f64) -> Flag {
    if e.n < rules.min_cell || e.n == 0 || e.estimate.is_nan() {
        return Flag::Suppressed;
    }
    match (stat, kg) {
        (Stat::Proportion, Some((lo, hi))) => {
            let p = e.estimate;
            let v = e.se * e.se;
            let n_eff = if v > 0.0 {
                (p * (1.0 - p) / v).min(e.n as f64)
            } else {
                e.n as f64
            };
            let width = hi - lo;
            let relative = if p > 0.0 { width / p } else { f64::INFINITY };
            if n_eff < rules.min_n_eff
                || width.is_nan()
                || width >= rules.max_width
                || (width > rules.width_floor && relative > rules.max_relative_width)
            {
                Flag::Suppressed
            } else if df < rules.min_df {
                Flag::LowPrecision
            } else {
                Flag::Ok
            }
        }
        _ => {
            if e.n < rules.min_n {
                Flag::Suppressed
            } else if e.cv > rules.max_cv || df < rules.min_df {
                Flag::LowPrecision
            } else {
                Flag::Ok
            }
        }
    }
}
