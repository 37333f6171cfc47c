//! Design-based estimation: estimands ([`estimand`]), domains ([`domain`]), estimators with
//! their variances ([`estimator`]), intervals ([`interval`]), quantiles ([`quantile`]),
//! reliability flags ([`reliability`]) and the tidy result table ([`result`]). Matches R
//! survey's `svymean`, `svytotal`, `svyratio`, `svyquantile`, `svyciprop` and `svyby`.
//! [`distribution`] holds the t, beta and normal quantiles the intervals need.

pub mod distribution;
pub mod domain;
pub mod estimand;
pub mod estimator;
pub mod interval;
pub mod quantile;
pub mod reliability;
pub mod result;

#[cfg(test)]
mod precision_tests;
