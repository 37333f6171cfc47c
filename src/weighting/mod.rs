//! Weighting: calibration of design weights to population totals, post-stratification and
//! raking, with the calibration-aware variance scores R survey uses after each.
//!
//! - [`calibrate::calibrate`]: linear (closed form or bounded), raking and logit distances,
//!   as R's `calibrate()`; [`calibrate::greg_residuals`] for its variance.
//! - [`rake::post_stratify`] and [`rake::post_stratify_residuals`], as R's `postStratify()`.
//! - [`rake::rake`] and [`rake::rake_residuals`]: iterative proportional fitting, as R's
//!   `rake()` (its converged form equals [`calibrate::calibrate`] with
//!   [`calibrate::Method::Raking`] on the margins' cell indicators).
//! - [`linalg`]: the small dense linear algebra (Gram matrices, a generalized inverse).
//! - [`margins`]: margin files and numeric totals matched to the sample as constraints.
//! - [`standardize`]: direct standardisation of domain estimates, as R's `svystandardize()`.
//! - [`calibrated`]: in-process calibration of a design (`--calibrate`), replicates
//!   re-calibrated, and the residuals that make its variances calibration-aware.
//! - [`pipeline`]: the steps of `tasa weight`; [`plan`]: which steps, from flags and design
//!   file, and the weighted data and estimation design that come out.
//!
//! The variance scores `z` passed in are the estimator's linearised scores computed with the
//! final weights (e.g. `w_i y_i` for a total); the returned residual scores go to
//! [`crate::design::Design::variance`].

pub mod calibrate;
pub mod calibrated;
pub mod diagnostics;
pub mod linalg;
pub mod margins;
pub mod nonresponse;
pub mod pipeline;
pub mod plan;
pub mod rake;
pub mod replicates;
pub mod standardize;
pub mod trim;

pub use calibrate::{
    calibrate, greg_residuals, Auxiliaries, Bounds, Calibrated, CalibrationError, Control, GregFit,
    Method,
};
pub use rake::{
    post_stratify, post_stratify_residuals, rake, rake_residuals, Margin, PostStratFit,
    RakeControl, Raked,
};

#[cfg(test)]
mod reference_tests;
