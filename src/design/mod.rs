//! The survey design: how the sample was drawn and weighted ([`Design`]), resolved from the
//! design file ([`spec::DesignSpec`]) and the flags ([`options`]). Matches R's `svydesign`
//! and `svrepdesign`; the variance of an estimator's scores lives in [`variance`] (after a
//! GREG calibration, from unit sums: [`aggregate`]).

pub mod aggregate;
#[allow(clippy::module_inception)]
mod design;
pub mod options;
pub mod spec;
pub mod variance;

pub(crate) use design::replicate_rank;
pub use design::{glob, Design, PsuFactors, RepColumn, Replicates, Stage};
pub use options::{
    DesignFlags, DesignOptions, LonelyPsu, MakeReplicates, RepType, ReplicateOptions,
    StandardSource, StandardizeOptions,
};
pub use spec::DesignSpec;
pub use variance::Scores;
