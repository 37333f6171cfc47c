//! tasa — survey-based equality assessment.
//!
//! The library behind the `tasa` command. Modules follow the domain:
//!
//! - [`table`]: columnar data read from CSV/TSV, Excel/ODS and SPSS; row filters.
//! - [`instrument`]: questionnaires as data — scales, items, skip logic, derived variables,
//!   indicators, equality dimensions; linting and indicator evaluation.
//! - [`validate`]: checking a response file against an instrument (findings with codes).
//! - [`design`]: the survey design description shared by the estimating commands.
//! - [`estimate`]: design-based estimates, confidence intervals and quantile rules.
//! - [`equality`]: gaps against a reference group, summary measures of inequality, tests.
//! - [`register`]: register metrics per area and person, classifications, register gaps.
//! - [`simulate`]: synthetic populations, samples and their true values.
//! - [`weighting`]: calibration, post-stratification and raking, with calibration-aware variances.
//! - [`assessment`]: a whole assessment from a run file (`tasa run`).
//! - [`output`]: tidy tables (CSV/TSV/JSON) and atomic file writing.
//! - [`numeric`]: compensated sums.

pub mod assessment;
pub mod cli;
pub mod design;
pub mod equality;
pub mod error;
pub mod estimate;
pub mod instrument;
pub mod numeric;
pub mod output;
pub mod progress;
pub mod register;
pub mod simulate;
pub mod table;
pub mod validate;
pub mod weighting;

pub use error::{Error, Outcome, Result, Warning};
