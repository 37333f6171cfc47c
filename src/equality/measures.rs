//! Summary measures of inequality across the groups of one dimension, as defined by WHO's
//! Health Equity Assessment Toolkit (HEAT) and its R package `healthequal`: the common types,
//! the input checks, and the dispatch [`evaluate`].
//!
//! This module owns the *values* of the per-dimension measures of the `gaps` command
//! (design.md §3 "Gaps output") and their partial derivatives with respect to every input
//! ([`Linearised`]). It does no I/O and knows nothing of the survey design: the caller passes
//! the group estimates, the groups' estimated population shares and the whole population's
//! estimate ([`Groups`]), and turns the derivatives into a design-based (delta-method) variance
//! that accounts for the covariance of the groups, which come from one survey. The formulas
//! themselves live in [`dispersion`](super::dispersion) (differences, ratios, variances, mean
//! differences, attributable risk), [`entropy`](super::entropy) (Theil index, mean log
//! deviation) and [`slope`](super::slope) (slope and relative index of inequality,
//! concentration indices).
//!
//! # Notation
//!
//! `J` groups `j = 1..J` in the dimension's order; `y_j` the group estimates; `p_j` the groups'
//! estimated population shares (`p_j = N̂_j / Σ_k N̂_k`, so `Σ p_j = 1`); `μ` the whole
//! population's estimate of the same indicator; `r_j = y_j / μ`; `best` the most favourable
//! group by the indicator's polarity (`higher_better`: the largest `y_j`, `lower_better`: the
//! smallest; ties: the first such group). For ordered dimensions the groups run from the
//! lowest level (most disadvantaged) to the highest, and `X_j = Σ_{k<j} p_k + p_j / 2` is group
//! `j`'s ridit (the midpoint of its slice of the cumulative population share, in `0..1`).
//!
//! # The measures
//!
//! All are on the indicator's natural scale: no ×100 or ×1000 as HEAT displays some of them.
//! "Absolute" measures have the indicator's unit, "relative" ones have none.
//!
//! | name | formula | no inequality | HEAT / `healthequal` |
//! |---|---|---|---|
//! | `max_min_difference` | `max_j y_j − min_j y_j` | 0 | D, `d()` (non-ordered, no reference group) |
//! | `max_min_ratio` | `max_j y_j / min_j y_j` | 1 | R, `r()` (non-ordered, no reference group) |
//! | `bgv` | `Σ p_j (y_j − μ)²` | 0 | BGV, `bgv()` |
//! | `bgsd` | `√bgv` | 0 | BGSD, `bgsd()` |
//! | `cov` | `bgsd / μ` | 0 | COV, `covar()` (×100 there) |
//! | `mdmu` | `(1/J) Σ abs(y_j − μ)` | 0 | MDMU, `mdmu()` |
//! | `mdmw` | `Σ p_j abs(y_j − μ)` | 0 | MDMW, `mdmw()` |
//! | `mdbu` | `(1/J) Σ abs(y_j − y_best)` | 0 | MDBU, `mdbu()` |
//! | `mdbw` | `Σ p_j abs(y_j − y_best)` | 0 | MDBW, `mdbw()` |
//! | `idisu` | `mdmu / μ` | 0 | IDISU, `idisu()` (×100 there) |
//! | `idisw` | `mdmw / μ` | 0 | IDISW, `idisw()` (×100 there) |
//! | `theil` | `Σ p_j r_j ln r_j` | 0 | TI, `ti()` (×1000 there) |
//! | `mld` | `−Σ p_j ln r_j` | 0 | MLD, `mld()` (×1000 there) |
//! | `par` | `y_best − μ` | 0 | PAR, `parisk()` |
//! | `paf` | `(y_best − μ) / μ` | 0 | PAF, `paf()` (×100 there) |
//! | `sii` | slope `b` of the `p`-weighted least-squares line of `y_j` on `X_j` | 0 | SII, `sii(linear = TRUE)` |
//! | `rii` | `(a + b) / a`, `a` the line's intercept (fitted value at ridit 0) | 1 | RII, `rii(linear = TRUE)` |
//! | `aci` | `Σ p_j (2 X_j − 1) y_j` | 0 | ACI, `aci()` |
//! | `rci` | `aci / μ` | 0 | RCI, `rci()` (×100 in HEAT's display) |
//!
//! Interpretation, measure by measure:
//!
//! - `max_min_difference` (absolute, unweighted, ≥ 0): the gap between the highest and the
//!   lowest group estimate, whatever the polarity; larger means more inequality.
//! - `max_min_ratio` (relative, unweighted, ≥ 1): how many times the highest group estimate is
//!   the lowest. Defined only when every group estimate is > 0 (HEAT's R has no meaning for
//!   estimates of different sign either).
//! - `bgv` (absolute, weighted, ≥ 0, in the indicator's unit squared): the population-weighted
//!   mean squared deviation of the groups from the population estimate. `bgsd` is its square
//!   root (indicator's unit) and `cov` = `bgsd / μ` the same relative to the population level.
//! - `mdmu`, `mdmw` (absolute, ≥ 0): the mean absolute deviation of the groups from the
//!   population estimate, unweighted (every group counts `1/J`) or weighted by population share.
//!   `idisu`, `idisw` (index of disparity, relative, ≥ 0 when `μ > 0`) divide them by `μ`.
//! - `mdbu`, `mdbw` (absolute, ≥ 0): the mean absolute distance of the groups from the best
//!   group: how far, on average, groups are from the best level already reached. They need the
//!   indicator's polarity.
//! - `theil`, `mld` (relative, weighted, ≥ 0 when `Σ p_j y_j = μ`): entropy measures, 0 when
//!   every group equals the population level. The Theil index weights each group's log ratio by
//!   its share of the indicator (`p_j r_j`), so it is more sensitive to groups far above the
//!   mean; the mean log deviation weights by population share and is more sensitive to groups
//!   far below it. Both need `μ > 0`; `mld` needs every `y_j > 0`, `theil` every `y_j ≥ 0` (a term
//!   with `y_j = 0` is its limit 0).
//! - `par` (population attributable risk, absolute, weighted): the change in the population
//!   level if every group reached the best group's level: ≥ 0 for `higher_better` and ≤ 0 for
//!   `lower_better` indicators (when `μ` lies between the group estimates, as it does when
//!   `μ = Σ p_j y_j`); 0 means no improvement is possible. `paf` (population attributable
//!   fraction, relative) is the same as a fraction of `μ`.
//! - `sii` (slope index of inequality, absolute, weighted, ordered dimensions): the difference
//!   in the fitted value between the top (`X = 1`) and the bottom (`X = 0`) of the population
//!   ranked by the dimension. Positive: the indicator rises with the dimension's level (for a
//!   `higher_better` indicator, concentrated among the higher levels); negative: it falls.
//!   `b = Σ p_j (X_j − X̄)(y_j − ȳ) / Σ p_j (X_j − X̄)²` with `X̄ = Σ p_j X_j`, `ȳ = Σ p_j y_j`;
//!   because the ridit is constant within a group this is the slope of the individual-level
//!   weighted regression of the outcome on the ridit score.
//! - `rii` (relative index of inequality, ordered dimensions, > 0 when both fitted ends are > 0):
//!   the fitted value at the top over the fitted value at the bottom, `(a + b) / a` with
//!   `a = ȳ − b X̄`; 1 means no gradient, > 1 the indicator is higher at the top of the scale,
//!   < 1 higher at the bottom. A multiplicative measure: 2 and 0.5 are equally large.
//! - `aci` (absolute concentration index, ordered dimensions): twice the population-weighted
//!   covariance between the group estimates and the ridits (`= 2 Σ p_j (X_j − X̄) y_j` when
//!   `Σ p_j = 1`). 0 means no concentration; positive values mean the indicator is concentrated
//!   at the higher levels of the dimension, negative at the lower levels. `rci` (relative
//!   concentration index) divides by `μ`; for an indicator ≥ 0 and `μ = Σ p_j y_j` it lies in
//!   `−1..1`.
//!
//! # Where tasa differs from HEAT
//!
//! The formulas above are tasa's public contract. Compared with HEAT and `healthequal`:
//!
//! - **Scale.** Every measure is on its natural scale; HEAT multiplies `cov`, `idisu`, `idisw`,
//!   `paf` (and in its display `rci`) by 100, and `theil`, `mld` by 1000.
//! - **The population level `μ`.** tasa uses the survey's own estimate for the whole population;
//!   HEAT uses the share-weighted mean of the group estimates `Σ p_j y_j` (its "setting average"
//!   only when population sizes are missing). The two coincide for means and proportions when
//!   the groups cover every respondent and the shares come from the same weights; they differ
//!   when some respondents have no value on the dimension.
//! - **Number of groups.** Every measure needs at least two groups; HEAT asks for more than
//!   two for most complex measures.
//! - **SII and RII** are always the linear (weighted least-squares) versions, which
//!   `healthequal` computes with `linear = TRUE`; HEAT's default for indicators on a 0–1/0–100%
//!   scale fits a logistic (quasi-binomial) model instead, so its SII/RII differ for
//!   proportions.
//! - **PAR and PAF** compare with the best group by polarity for every dimension; HEAT uses the
//!   most advantaged (highest-level) group for ordered dimensions. HEAT replaces a PAR/PAF of the
//!   wrong sign by 0; tasa reports the value as computed (with `μ = Σ p_j y_j` it never has the
//!   wrong sign).
//! - **Zero estimates.** HEAT replaces a group estimate of 0 by 10⁻⁶ in the Theil index and the
//!   mean log deviation; tasa uses the limit `0 · ln 0 = 0` in `theil` and leaves `mld`
//!   undefined (its value would be driven by the arbitrary replacement).
//! - **Maximum–minimum.** `max_min_difference` and `max_min_ratio` are HEAT's D and R for a
//!   non-ordered dimension without a reference group; HEAT's D and R for ordered dimensions, or
//!   against a chosen reference group, correspond to tasa's per-group `difference` and `ratio`.
//! - **Concentration indices.** `healthequal` gets ACI and RCI from a "convenient regression" of
//!   `2 σ²_X y_j` on the ridit; that equals `Σ p_j (2 X_j − 1) y_j` when `Σ p_j = 1`. RCI divides by
//!   `Σ p_j y_j` there and by `μ` here.
//! - **Uncertainty.** HEAT treats the group estimates as independent (or simulates them);
//!   tasa's callers use the derivatives here with the full design covariance of the groups.
//!
//! # Derivatives
//!
//! [`Linearised`] holds `∂value/∂y_j`, `∂value/∂p_j` and `∂value/∂μ`. The shares are treated as
//! free variables (`Σ p_j = 1` is not imposed; the caller's linearisation of the estimated
//! shares carries the constraint), and the ridits `X_j` and their mean depend on them. The
//! maximum, minimum and best group are held fixed at the point of evaluation (ties: the first
//! such group). At a kink the derivative is taken as 0: `abs(x)` at `x = 0`, `√bgv` at
//! `bgv = 0` (`bgsd`, `cov`), and `r ln r` at `y_j = 0` (`theil`).
//!
//! # When a measure has no value
//!
//! Every measure returns [`Undefined`] with a message, never panics, when: there are fewer than
//! two groups; `y` and `p` differ in length; an input is NaN or infinite; a share is negative;
//! it divides by `μ` and `μ = 0`; it needs the polarity and the indicator is `neutral`; the
//! result overflows. Measure-specific cases are documented on each function.

use std::fmt;

use crate::numeric::Sum;

pub use crate::instrument::spec::Polarity;

/// The estimates of one indicator across the groups of one dimension.
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    /// Group estimates, in the dimension's order (ordered dimensions: most disadvantaged /
    /// lowest level first).
    pub y: &'a [f64],
    /// The groups' estimated population shares (they sum to 1), in the same order as `y`.
    pub p: &'a [f64],
    /// The whole population's estimate of the indicator.
    pub mu: f64,
    /// Whether higher or lower values are better; decides the "best" group.
    pub polarity: Polarity,
}

/// A per-dimension summary measure of inequality (see the module documentation for each
/// formula, its interpretation and the HEAT measure it corresponds to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// `max_j y_j − min_j y_j` (HEAT's D without a reference group).
    MaxMinDifference,
    /// `max_j y_j / min_j y_j` (HEAT's R without a reference group).
    MaxMinRatio,
    /// Between-group variance `Σ p_j (y_j − μ)²`.
    Bgv,
    /// Between-group standard deviation `√bgv`.
    Bgsd,
    /// Coefficient of variation `bgsd / μ`.
    Cov,
    /// Mean difference from the mean, unweighted: `(1/J) Σ abs(y_j − μ)`.
    Mdmu,
    /// Mean difference from the mean, weighted: `Σ p_j abs(y_j − μ)`.
    Mdmw,
    /// Mean difference from the best group, unweighted: `(1/J) Σ abs(y_j − y_best)`.
    Mdbu,
    /// Mean difference from the best group, weighted: `Σ p_j abs(y_j − y_best)`.
    Mdbw,
    /// Index of disparity, unweighted: `mdmu / μ`.
    Idisu,
    /// Index of disparity, weighted: `mdmw / μ`.
    Idisw,
    /// Theil index `Σ p_j r_j ln r_j`, `r_j = y_j / μ`.
    Theil,
    /// Mean log deviation `−Σ p_j ln r_j`.
    Mld,
    /// Population attributable risk `y_best − μ`.
    Par,
    /// Population attributable fraction `(y_best − μ) / μ`.
    Paf,
    /// Slope index of inequality: the slope of the weighted line of `y_j` on the ridits `X_j`.
    Sii,
    /// Relative index of inequality: fitted value at ridit 1 over fitted value at ridit 0.
    Rii,
    /// Absolute concentration index `Σ p_j (2 X_j − 1) y_j`.
    Aci,
    /// Relative concentration index `aci / μ`.
    Rci,
}

impl Measure {
    /// Every measure, in the order of the design's list (and of the output).
    pub const ALL: [Measure; 19] = [
        Measure::MaxMinDifference,
        Measure::MaxMinRatio,
        Measure::Bgv,
        Measure::Bgsd,
        Measure::Cov,
        Measure::Mdmu,
        Measure::Mdmw,
        Measure::Mdbu,
        Measure::Mdbw,
        Measure::Idisu,
        Measure::Idisw,
        Measure::Theil,
        Measure::Mld,
        Measure::Par,
        Measure::Paf,
        Measure::Sii,
        Measure::Rii,
        Measure::Aci,
        Measure::Rci,
    ];

    /// The measure's name in `--measures` and in the `measure` output column.
    pub fn name(self) -> &'static str {
        match self {
            Measure::MaxMinDifference => "max_min_difference",
            Measure::MaxMinRatio => "max_min_ratio",
            Measure::Bgv => "bgv",
            Measure::Bgsd => "bgsd",
            Measure::Cov => "cov",
            Measure::Mdmu => "mdmu",
            Measure::Mdmw => "mdmw",
            Measure::Mdbu => "mdbu",
            Measure::Mdbw => "mdbw",
            Measure::Idisu => "idisu",
            Measure::Idisw => "idisw",
            Measure::Theil => "theil",
            Measure::Mld => "mld",
            Measure::Par => "par",
            Measure::Paf => "paf",
            Measure::Sii => "sii",
            Measure::Rii => "rii",
            Measure::Aci => "aci",
            Measure::Rci => "rci",
        }
    }

    /// The measure with this exact name (as [`Measure::name`] spells it), if any.
    pub fn from_name(s: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Whether the measure is in the indicator's own unit (a difference of proportions is in
    /// points, shown as a percentage); ratios, variances and relative indices are not.
    pub fn in_indicator_units(self) -> bool {
        matches!(
            self,
            Measure::MaxMinDifference
                | Measure::Bgsd
                | Measure::Mdmu
                | Measure::Mdmw
                | Measure::Mdbu
                | Measure::Mdbw
                | Measure::Par
                | Measure::Sii
                | Measure::Aci
        )
    }

    /// Whether the measure is defined only for ordered dimensions (it uses the groups' order
    /// through the ridits): `sii`, `rii`, `aci`, `rci`.
    pub fn needs_order(self) -> bool {
        matches!(
            self,
            Measure::Sii | Measure::Rii | Measure::Aci | Measure::Rci
        )
    }

    /// Whether the measure needs the indicator's polarity to find the best group: `mdbu`,
    /// `mdbw`, `par`, `paf`.
    pub fn needs_polarity(self) -> bool {
        matches!(
            self,
            Measure::Mdbu | Measure::Mdbw | Measure::Par | Measure::Paf
        )
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A measure's value and its partial derivatives with respect to every input.
#[derive(Debug, Clone, PartialEq)]
pub struct Linearised {
    /// The measure's value.
    pub value: f64,
    /// `∂value/∂y_j`, one per group.
    pub d_y: Vec<f64>,
    /// `∂value/∂p_j`, one per group (shares treated as free variables).
    pub d_p: Vec<f64>,
    /// `∂value/∂μ`.
    pub d_mu: f64,
}

impl Linearised {
    /// A value whose derivatives are all 0 (to be filled in), for `groups` groups.
    pub(crate) fn constant(value: f64, groups: usize) -> Self {
        Linearised {
            value,
            d_y: vec![0.0; groups],
            d_p: vec![0.0; groups],
            d_mu: 0.0,
        }
    }
}

/// Why a measure has no value here (e.g. "mld needs every group estimate > 0"; "mdbu needs
/// the indicator's polarity (higher or lower is better)"; "rii: the fitted value at the bottom
/// of the scale is 0").
#[derive(Debug, Clone, PartialEq)]
pub struct Undefined(pub String);

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Undefined {}

/// Evaluates measure `m` on the groups `g`: its value and partial derivatives, or why it has
/// no value. Whether the dimension is ordered (for [`Measure::needs_order`]) is the caller's
/// decision; this function uses the groups in the order given.
pub fn evaluate(m: Measure, g: &Groups) -> Result<Linearised, Undefined> {
    use super::{dispersion, entropy, slope};
    match m {
        Measure::MaxMinDifference => dispersion::max_min_difference(g),
        Measure::MaxMinRatio => dispersion::max_min_ratio(g),
        Measure::Bgv => dispersion::bgv(g),
        Measure::Bgsd => dispersion::bgsd(g),
        Measure::Cov => dispersion::cov(g),
        Measure::Mdmu => dispersion::mdmu(g),
        Measure::Mdmw => dispersion::mdmw(g),
        Measure::Mdbu => dispersion::mdbu(g),
        Measure::Mdbw => dispersion::mdbw(g),
        Measure::Idisu => dispersion::idisu(g),
        Measure::Idisw => dispersion::idisw(g),
        Measure::Theil => entropy::theil(g),
        Measure::Mld => entropy::mld(g),
        Measure::Par => dispersion::par(g),
        Measure::Paf => dispersion::paf(g),
        Measure::Sii => slope::sii(g),
        Measure::Rii => slope::rii(g),
        Measure::Aci => slope::aci(g),
        Measure::Rci => slope::rci(g),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers of the measure files.

/// The checks every measure makes: at least two groups, as many shares as estimates, finite
/// inputs, no negative share.
pub(crate) fn check(m: Measure, g: &Groups) -> Result<(), Undefined> {
    if g.y.len() != g.p.len() {
        return Err(Undefined(format!(
            "{m}: {} group estimates but {} population shares",
            g.y.len(),
            g.p.len()
        )));
    }
    if g.y.len() < 2 {
        return Err(Undefined(format!("{m} needs at least two groups")));
    }
    for (j, (&y, &p)) in g.y.iter().zip(g.p).enumerate() {
        if !y.is_finite() {
            return Err(Undefined(format!(
                "{m}: the estimate of group {} is not finite ({y})",
                j + 1
            )));
        }
        if !p.is_finite() {
            return Err(Undefined(format!(
                "{m}: the population share of group {} is not finite ({p})",
                j + 1
            )));
        }
        if p < 0.0 {
            return Err(Undefined(format!(
                "{m}: the population share of group {} is negative ({p})",
                j + 1
            )));
        }
    }
    if !g.mu.is_finite() {
        return Err(Undefined(format!(
            "{m}: the population estimate μ is not finite ({})",
            g.mu
        )));
    }
    Ok(())
}

/// The index of the best group by polarity (ties: the first).
pub(crate) fn best(m: Measure, g: &Groups) -> Result<usize, Undefined> {
    match g.polarity {
        Polarity::HigherBetter => Ok(argmax(g.y)),
        Polarity::LowerBetter => Ok(argmin(g.y)),
        Polarity::Neutral => Err(Undefined(format!(
            "{m} needs the indicator's polarity (higher or lower is better)"
        ))),
    }
}

/// The index of the first largest value (0 for an empty slice).
pub(crate) fn argmax(v: &[f64]) -> usize {
    let mut at = 0;
    for (j, &x) in v.iter().enumerate() {
        if x > v[at] {
            at = j;
        }
    }
    at
}

/// The index of the first smallest value (0 for an empty slice).
pub(crate) fn argmin(v: &[f64]) -> usize {
    let mut at = 0;
    for (j, &x) in v.iter().enumerate() {
        if x < v[at] {
            at = j;
        }
    }
    at
}

/// The sign of `x`, 0 at 0: the derivative of `abs(x)` with the kink's derivative taken as 0.
pub(crate) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// A compensated sum of the terms.
pub(crate) fn total(terms: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = Sum::new();
    for t in terms {
        s.add(t);
    }
    s.value()
}

/// Fails when `μ = 0`, for measures that divide by it.
pub(crate) fn nonzero_mu(m: Measure, g: &Groups) -> Result<(), Undefined> {
    if g.mu == 0.0 {
        Err(Undefined(format!(
            "{m} divides by the population estimate μ, which is 0"
        )))
    } else {
        Ok(())
    }
}

/// `inner / μ` with its derivatives by the quotient rule.
pub(crate) fn over_mu(m: Measure, g: &Groups, inner: Linearised) -> Result<Linearised, Undefined> {
    nonzero_mu(m, g)?;
    let mu = g.mu;
    let value = inner.value / mu;
    Ok(Linearised {
        value,
        d_y: inner.d_y.iter().map(|d| d / mu).collect(),
        d_p: inner.d_p.iter().map(|d| d / mu).collect(),
        d_mu: (inner.d_mu - value) / mu,
    })
}

/// Fails unless the value and every derivative are finite (overflow on extreme inputs).
pub(crate) fn finish(m: Measure, out: Linearised) -> Result<Linearised, Undefined> {
    let finite = out.value.is_finite()
        && out.d_mu.is_finite()
        && out.d_y.iter().chain(&out.d_p).all(|d| d.is_finite());
    if finite {
        Ok(out)
    } else {
        Err(Undefined(format!(
            "{m}: the result is not finite (the inputs are too large or too close to a limit)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups<'a>(y: &'a [f64], p: &'a [f64], mu: f64, polarity: Polarity) -> Groups<'a> {
        Groups { y, p, mu, polarity }
    }

    #[test]
    fn names_round_trip_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for m in Measure::ALL {
            assert_eq!(Measure::from_name(m.name()), Some(m));
            assert!(seen.insert(m.name()));
            assert_eq!(m.to_string(), m.name());
        }
        assert_eq!(Measure::from_name("SII"), None);
        assert_eq!(Measure::from_name("difference"), None);
        let ordered: Vec<_> = Measure::ALL.iter().filter(|m| m.needs_order()).collect();
        assert_eq!(
            ordered,
            [&Measure::Sii, &Measure::Rii, &Measure::Aci, &Measure::Rci]
        );
        let polar: Vec<_> = Measure::ALL.iter().filter(|m| m.needs_polarity()).collect();
        assert_eq!(
            polar,
            [&Measure::Mdbu, &Measure::Mdbw, &Measure::Par, &Measure::Paf]
        );
    }

    /// A small deterministic generator (xorshift64*) for the random-ish inputs.
    struct Rng(u64);
    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Central finite difference of measure `m` in one input.
    fn central(m: Measure, g: &Groups, which: Input) -> f64 {
        let mut y = g.y.to_vec();
        let mut p = g.p.to_vec();
        let mut mu = g.mu;
        let x = match which {
            Input::Y(j) => y[j],
            Input::P(j) => p[j],
            Input::Mu => mu,
        };
        let h = 1e-6 * x.abs().max(1e-2);
        let mut at = |x: f64| {
            match which {
                Input::Y(j) => y[j] = x,
                Input::P(j) => p[j] = x,
                Input::Mu => mu = x,
            }
            evaluate(m, &groups(&y, &p, mu, g.polarity))
                .expect("defined near the point")
                .value
        };
        (at(x + h) - at(x - h)) / (2.0 * h)
    }

    #[derive(Clone, Copy, Debug)]
    enum Input {
        Y(usize),
        P(usize),
        Mu,
    }

    fn check_derivatives(g: &Groups) {
        for m in Measure::ALL {
            let lin = evaluate(m, g).unwrap_or_else(|e| panic!("{m} on {g:?}: {e}"));
            let n = g.y.len();
            let inputs = (0..n)
                .map(Input::Y)
                .chain((0..n).map(Input::P))
                .chain([Input::Mu]);
            for input in inputs {
                let analytic = match input {
                    Input::Y(j) => lin.d_y[j],
                    Input::P(j) => lin.d_p[j],
                    Input::Mu => lin.d_mu,
                };
                let numeric = central(m, g, input);
                let tol = 1e-6 * (analytic.abs() + lin.value.abs() + 1e-3);
                assert!(
                    (analytic - numeric).abs() <= tol,
                    "{m} ∂/∂{input:?}: analytic {analytic} vs finite difference {numeric} on {g:?}"
                );
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let fixed: [(&[f64], &[f64], f64); 3] = [
            (&[0.32, 0.55, 0.47, 0.81], &[0.2, 0.3, 0.15, 0.35], 0.58),
            (&[12.5, 7.25, 9.75], &[0.5, 0.2, 0.3], 10.4),
            (
                &[3.1, 1.7, 2.2, 4.9, 2.8],
                &[0.1, 0.25, 0.3, 0.2, 0.15],
                2.95,
            ),
        ];
        for (y, p, mu) in fixed {
            for polarity in [Polarity::HigherBetter, Polarity::LowerBetter] {
                check_derivatives(&groups(y, p, mu, polarity));
            }
        }

        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut cases = 0;
        while cases < 24 {
            let n = 2 + (rng.uniform() * 6.0) as usize;
            let y: Vec<f64> = (0..n).map(|_| 0.5 + 4.5 * rng.uniform()).collect();
            let raw: Vec<f64> = (0..n).map(|_| 0.2 + rng.uniform()).collect();
            let sum: f64 = raw.iter().sum();
            let p: Vec<f64> = raw.iter().map(|w| w / sum).collect();
            let weighted: f64 = y.iter().zip(&p).map(|(y, p)| y * p).sum();
            let mu = weighted * (0.9 + 0.2 * rng.uniform());
            // Keep away from the kinks: distinct estimates, none at μ.
            let separated = y
                .iter()
                .enumerate()
                .all(|(i, a)| (a - mu).abs() > 1e-3 && y[..i].iter().all(|b| (a - b).abs() > 1e-3));
            if !separated {
                continue;
            }
            let polarity = if cases % 2 == 0 {
                Polarity::HigherBetter
            } else {
                Polarity::LowerBetter
            };
            check_derivatives(&groups(&y, &p, mu, polarity));
            cases += 1;
        }
    }

    #[test]
    fn every_measure_needs_two_groups() {
        for m in Measure::ALL {
            let e = evaluate(m, &groups(&[0.4], &[1.0], 0.4, Polarity::HigherBetter));
            assert_eq!(
                e,
                Err(Undefined(format!("{} needs at least two groups", m.name())))
            );
            let e = evaluate(m, &groups(&[], &[], 0.4, Polarity::HigherBetter));
            assert_eq!(
                e,
                Err(Undefined(format!("{} needs at least two groups", m.name())))
            );
        }
    }

    #[test]
    fn every_measure_rejects_bad_inputs() {
        let p = [0.5, 0.5];
        let hb = Polarity::HigherBetter;
        for m in Measure::ALL {
            let name = m.name();
            let e = evaluate(m, &groups(&[0.2, f64::NAN], &p, 0.4, hb)).unwrap_err();
            assert_eq!(
                e.0,
                format!("{name}: the estimate of group 2 is not finite (NaN)")
            );
            let e = evaluate(m, &groups(&[0.2, 0.6], &[f64::INFINITY, 0.5], 0.4, hb)).unwrap_err();
            assert_eq!(
                e.0,
                format!("{name}: the population share of group 1 is not finite (inf)")
            );
            let e = evaluate(m, &groups(&[0.2, 0.6], &p, f64::NEG_INFINITY, hb)).unwrap_err();
            assert_eq!(
                e.0,
                format!("{name}: the population estimate μ is not finite (-inf)")
            );
            let e = evaluate(m, &groups(&[0.2, 0.6], &[0.5, 0.3, 0.2], 0.4, hb)).unwrap_err();
            assert_eq!(
                e.0,
                format!("{name}: 2 group estimates but 3 population shares")
            );
            let e = evaluate(m, &groups(&[0.2, 0.6], &[1.5, -0.5], 0.4, hb)).unwrap_err();
            assert_eq!(
                e.0,
                format!("{name}: the population share of group 2 is negative (-0.5)")
            );
        }
    }

    #[test]
    fn measures_divided_by_mu_are_undefined_at_zero() {
        let (y, p) = ([-0.2, 0.1, 0.3], [0.25, 0.5, 0.25]);
        let g = groups(&y, &p, 0.0, Polarity::HigherBetter);
        for m in [
            Measure::Cov,
            Measure::Idisu,
            Measure::Idisw,
            Measure::Theil,
            Measure::Mld,
            Measure::Paf,
            Measure::Rci,
        ] {
            let e = evaluate(m, &g).unwrap_err();
            assert_eq!(
                e.0,
                format!(
                    "{} divides by the population estimate μ, which is 0",
                    m.name()
                ),
                "{m}"
            );
        }
        // The others do not divide by μ and keep a value.
        for m in [
            Measure::MaxMinDifference,
            Measure::Bgv,
            Measure::Bgsd,
            Measure::Mdmu,
            Measure::Mdmw,
            Measure::Mdbu,
            Measure::Mdbw,
            Measure::Par,
            Measure::Sii,
            Measure::Rii,
            Measure::Aci,
        ] {
            assert!(evaluate(m, &g).is_ok(), "{m}");
        }
    }

    #[test]
    fn measures_of_the_best_group_need_polarity() {
        let (y, p) = ([0.2, 0.5, 0.8], [0.25, 0.5, 0.25]);
        let g = groups(&y, &p, 0.5, Polarity::Neutral);
        for m in Measure::ALL {
            let r = evaluate(m, &g);
            if m.needs_polarity() {
                assert_eq!(
                    r,
                    Err(Undefined(format!(
                        "{} needs the indicator's polarity (higher or lower is better)",
                        m.name()
                    )))
                );
            } else {
                assert!(r.is_ok(), "{m}");
            }
        }
    }

    #[test]
    fn equal_groups_show_no_inequality() {
        // Every group at the population level: differences 0, ratios 1, zero derivatives where
        // the measure is flat (the kinks' derivatives are 0 by convention).
        let (y, p) = ([0.35; 4], [0.1, 0.2, 0.3, 0.4]);
        for polarity in [Polarity::HigherBetter, Polarity::LowerBetter] {
            let g = groups(&y, &p, 0.35, polarity);
            for m in Measure::ALL {
                let v = evaluate(m, &g).unwrap_or_else(|e| panic!("{m}: {e}")).value;
                let expected = if matches!(m, Measure::MaxMinRatio | Measure::Rii) {
                    1.0
                } else {
                    0.0
                };
                assert!((v - expected).abs() < 1e-12, "{m}: {v}");
            }
        }
    }

    #[test]
    fn identities_between_measures() {
        let (y, p, mu) = ([0.32, 0.55, 0.47, 0.81], [0.2, 0.3, 0.15, 0.35], 0.58);
        let g = groups(&y, &p, mu, Polarity::HigherBetter);
        let v = |m| evaluate(m, &g).map(|l| l.value).unwrap_or(f64::NAN);
        assert!((v(Measure::Bgsd).powi(2) - v(Measure::Bgv)).abs() < 1e-15);
        assert!((v(Measure::Cov) * mu - v(Measure::Bgsd)).abs() < 1e-15);
        assert!((v(Measure::Idisw) * mu - v(Measure::Mdmw)).abs() < 1e-15);
        assert!((v(Measure::Idisu) * mu - v(Measure::Mdmu)).abs() < 1e-15);
        assert!((v(Measure::Paf) * mu - v(Measure::Par)).abs() < 1e-15);
        assert!((v(Measure::Rci) * mu - v(Measure::Aci)).abs() < 1e-15);
        // PAR with the higher-is-better polarity is the best group minus μ.
        assert!((v(Measure::Par) - (0.81 - mu)).abs() < 1e-15);
    }

    #[test]
    fn no_panic_on_extreme_inputs() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1e-300,
            -1e-300,
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let polarities = [
            Polarity::HigherBetter,
            Polarity::LowerBetter,
            Polarity::Neutral,
        ];
        let mut results = 0;
        for (i, &a) in values.iter().enumerate() {
            for &b in &values {
                let c = values[(i * 7 + 3) % values.len()];
                let y = [a, b, c];
                let p = [b.abs().min(1.0), 0.5, c.abs().min(1.0)];
                for m in Measure::ALL {
                    for polarity in polarities {
                        for mu in [a, c, 0.5] {
                            if let Ok(l) = evaluate(m, &groups(&y, &p, mu, polarity)) {
                                assert!(l.value.is_finite(), "{m}");
                                assert!(l.d_y.iter().chain(&l.d_p).all(|d| d.is_finite()));
                                assert!(l.d_mu.is_finite());
                            }
                            results += 1;
                        }
                    }
                }
            }
        }
        assert!(results > 0);
    }
}
