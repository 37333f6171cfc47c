//! Design-based estimation: estimands ([`estimand`]), domains ([`domain`]), estimators with
//! their variances ([`estimator`]), every domain of a breakdown in one pass ([`breakdown`]), intervals ([`interval`]), quantiles ([`quantile`]),
//! reliability flags ([`reliability`]), the tidy result table ([`result`]) and a survey ready for
//! estimation ([`survey`]). Matches R
//! survey's `svymean`, `svytotal`, `svyratio`, `svyquantile`, `svyciprop` and `svyby`.
//! [`distribution`] holds the t, beta and normal quantiles the intervals need.

pub mod breakdown;
pub mod distribution;
pub mod domain;
pub mod estimand;
pub mod estimator;
pub mod interval;
pub mod quantile;
pub mod reliability;
pub mod result;
pub mod survey;

#[cfg(test)]
mod precision_tests;
