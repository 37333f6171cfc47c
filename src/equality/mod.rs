//! Equality measures: gaps between groups and a reference group, summary measures of
//! inequality across the groups of a dimension (WHO HEAT / `healthequal` definitions), and
//! design-based tests of no association (R survey's `svychisq`, `svycontrast`).

pub mod adjust;
pub mod association;
pub mod compare;
pub mod dispersion;
pub mod entropy;
pub mod gaps;
pub mod groups;
pub mod measures;
pub mod slope;
pub mod survey;
