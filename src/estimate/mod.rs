//! Design-based estimation. Intervals ([`interval`]) and quantile rules ([`quantile`]) match
//! R survey's `confint`, `svyciprop` and `svyquantile`; [`distribution`] holds the t, beta
//! and normal quantiles they need.

pub mod distribution;
pub mod interval;
pub mod quantile;
