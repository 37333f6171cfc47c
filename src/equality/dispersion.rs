//! Dispersion measures across the groups of a dimension, as in WHO's HEAT / `healthequal`:
//! maximum–minimum difference and ratio, between-group variance, standard deviation and
//! coefficient of variation, mean differences from the mean and from the best group, indices
//! of disparity, and the population attributable risk and fraction.
//!
//! Each function returns the value and its partial derivatives ([`Linearised`]); notation,
//! interpretation and the differences from HEAT are in [`measures`](super::measures).

use super::measures::{
    argmax, argmin, best, check, finish, over_mu, sign, total, Groups, Linearised, Measure,
    Undefined,
};

/// `max_min_difference = max_j y_j − min_j y_j` (HEAT's D for a non-ordered dimension without a
/// reference group). Absolute, ≥ 0; 0 when all groups are equal.
///
/// Derivatives: +1 for the (first) largest group, −1 for the (first) smallest.
pub fn max_min_difference(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::MaxMinDifference;
    check(m, g)?;
    let (hi, lo) = (argmax(g.y), argmin(g.y));
    let mut out = Linearised::constant(g.y[hi] - g.y[lo], g.y.len());
    out.d_y[hi] += 1.0;
    out.d_y[lo] -= 1.0;
    finish(m, out)
}

/// `max_min_ratio = max_j y_j / min_j y_j` (HEAT's R for a non-ordered dimension without a
/// reference group). Relative, ≥ 1; 1 when all groups are equal.
///
/// Undefined when the smallest group estimate is 0 or negative.
pub fn max_min_ratio(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::MaxMinRatio;
    check(m, g)?;
    let (hi, lo) = (argmax(g.y), argmin(g.y));
    let (max, min) = (g.y[hi], g.y[lo]);
    if min == 0.0 {
        return Err(Undefined(format!("{m}: the smallest group estimate is 0")));
    }
    if min < 0.0 {
        return Err(Undefined(format!(
            "{m} needs every group estimate > 0 (the smallest is {min})"
        )));
    }
    let mut out = Linearised::constant(max / min, g.y.len());
    out.d_y[hi] += 1.0 / min;
    out.d_y[lo] -= max / (min * min);
    finish(m, out)
}

/// `Σ p_j (y_j − μ)²` with its derivatives, for bgv and the measures built on it.
fn variance(m: Measure, g: &Groups) -> Result<Linearised, Undefined> {
    check(m, g)?;
    let dev: Vec<f64> = g.y.iter().map(|y| y - g.mu).collect();
    Ok(Linearised {
        value: total(g.p.iter().zip(&dev).map(|(p, d)| p * d * d)),
        d_y: g.p.iter().zip(&dev).map(|(p, d)| 2.0 * p * d).collect(),
        d_p: dev.iter().map(|d| d * d).collect(),
        d_mu: -2.0 * total(g.p.iter().zip(&dev).map(|(p, d)| p * d)),
    })
}

/// `√(Σ p_j (y_j − μ)²)` with its derivatives (0 at a variance of 0).
fn standard_deviation(m: Measure, g: &Groups) -> Result<Linearised, Undefined> {
    let var = variance(m, g)?;
    let sd = var.value.max(0.0).sqrt();
    // d√v = dv / (2√v); at v = 0 the kink's derivative is taken as 0.
    let scale = if sd > 0.0 { 0.5 / sd } else { 0.0 };
    Ok(Linearised {
        value: sd,
        d_y: var.d_y.iter().map(|d| d * scale).collect(),
        d_p: var.d_p.iter().map(|d| d * scale).collect(),
        d_mu: var.d_mu * scale,
    })
}

/// Between-group variance `bgv = Σ p_j (y_j − μ)²` (HEAT's BGV). Absolute (the indicator's unit
/// squared), ≥ 0; 0 when every group equals μ.
///
/// Derivatives: `∂/∂y_j = 2 p_j (y_j − μ)`, `∂/∂p_j = (y_j − μ)²`, `∂/∂μ = −2 Σ p_j (y_j − μ)`.
pub fn bgv(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Bgv;
    finish(m, variance(m, g)?)
}

/// Between-group standard deviation `bgsd = √bgv` (HEAT's BGSD). Absolute, ≥ 0; 0 when every
/// group equals μ.
///
/// Derivatives: those of bgv divided by `2 bgsd` (0 when `bgsd = 0`).
pub fn bgsd(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Bgsd;
    finish(m, standard_deviation(m, g)?)
}

/// Coefficient of variation `cov = bgsd / μ` (HEAT's COV, which is ×100). Relative, ≥ 0 when
/// `μ > 0`; 0 when every group equals μ.
///
/// Undefined when `μ = 0`.
pub fn cov(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Cov;
    let sd = standard_deviation(m, g)?;
    finish(m, over_mu(m, g, sd)?)
}

/// Mean absolute deviation of the groups from `reference` (a group index, or μ when `None`),
/// unweighted (`1/J` each) or weighted by `p_j`.
fn mean_difference(g: &Groups, reference: Option<usize>, weighted: bool) -> Linearised {
    let n = g.y.len();
    let centre = reference.map_or(g.mu, |b| g.y[b]);
    let weight = |j: usize| if weighted { g.p[j] } else { 1.0 / n as f64 };
    let mut out = Linearised::constant(
        total(
            g.y.iter()
                .enumerate()
                .map(|(j, y)| weight(j) * (y - centre).abs()),
        ),
        n,
    );
    // ∂/∂(centre) of Σ w_j abs(y_j − centre) = −Σ w_j sign(y_j − centre).
    let mut d_centre = Vec::with_capacity(n);
    for (j, y) in g.y.iter().enumerate() {
        let s = sign(y - centre);
        out.d_y[j] = weight(j) * s;
        d_centre.push(-weight(j) * s);
        if weighted {
            out.d_p[j] = (y - centre).abs();
        }
    }
    let d_centre = total(d_centre);
    match reference {
        // The best group's own term is abs(0): its sign is 0, so only the centre's share counts.
        Some(b) => out.d_y[b] += d_centre,
        None => out.d_mu = d_centre,
    }
    out
}

/// Mean difference from the mean, unweighted: `mdmu = (1/J) Σ abs(y_j − μ)` (HEAT's MDMU).
/// Absolute, ≥ 0; 0 when every group equals μ.
///
/// Derivatives: `∂/∂y_j = sign(y_j − μ) / J`, `∂/∂μ = −Σ sign(y_j − μ) / J`, with `sign(0) = 0`.
pub fn mdmu(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Mdmu;
    check(m, g)?;
    finish(m, mean_difference(g, None, false))
}

/// Mean difference from the mean, weighted: `mdmw = Σ p_j abs(y_j − μ)` (HEAT's MDMW).
/// Absolute, ≥ 0; 0 when every group equals μ.
///
/// Derivatives: `∂/∂y_j = p_j sign(y_j − μ)`, `∂/∂p_j = abs(y_j − μ)`,
/// `∂/∂μ = −Σ p_j sign(y_j − μ)`.
pub fn mdmw(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Mdmw;
    check(m, g)?;
    finish(m, mean_difference(g, None, true))
}

/// Mean difference from the best group, unweighted: `mdbu = (1/J) Σ abs(y_j − y_best)` (HEAT's
/// MDBU). Absolute, ≥ 0; 0 when every group equals the best.
///
/// Undefined for an indicator with neutral polarity. The best group is held fixed in the
/// derivatives.
pub fn mdbu(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Mdbu;
    check(m, g)?;
    let b = best(m, g)?;
    finish(m, mean_difference(g, Some(b), false))
}

/// Mean difference from the best group, weighted: `mdbw = Σ p_j abs(y_j − y_best)` (HEAT's
/// MDBW). Absolute, ≥ 0; 0 when every group equals the best.
///
/// Undefined for an indicator with neutral polarity. The best group is held fixed in the
/// derivatives.
pub fn mdbw(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Mdbw;
    check(m, g)?;
    let b = best(m, g)?;
    finish(m, mean_difference(g, Some(b), true))
}

/// Index of disparity, unweighted: `idisu = mdmu / μ` (HEAT's IDISU, which is ×100). Relative,
/// ≥ 0 when `μ > 0`; 0 when every group equals μ.
///
/// Undefined when `μ = 0`.
pub fn idisu(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Idisu;
    check(m, g)?;
    finish(m, over_mu(m, g, mean_difference(g, None, false))?)
}

/// Index of disparity, weighted: `idisw = mdmw / μ` (HEAT's IDISW, which is ×100). Relative,
/// ≥ 0 when `μ > 0`; 0 when every group equals μ.
///
/// Undefined when `μ = 0`.
pub fn idisw(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Idisw;
    check(m, g)?;
    finish(m, over_mu(m, g, mean_difference(g, None, true))?)
}

/// `y_best − μ` with its derivatives.
fn attributable(m: Measure, g: &Groups) -> Result<Linearised, Undefined> {
    check(m, g)?;
    let b = best(m, g)?;
    let mut out = Linearised::constant(g.y[b] - g.mu, g.y.len());
    out.d_y[b] = 1.0;
    out.d_mu = -1.0;
    Ok(out)
}

/// Population attributable risk `par = y_best − μ` (HEAT's PAR, there against the highest level
/// of an ordered dimension and truncated at 0). Absolute: the change in the population level if
/// every group reached the best group's level; ≥ 0 for higher-is-better and ≤ 0 for
/// lower-is-better indicators when `μ` lies within the groups' range; 0 when no improvement is
/// possible.
///
/// Undefined for an indicator with neutral polarity.
pub fn par(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Par;
    finish(m, attributable(m, g)?)
}

/// Population attributable fraction `paf = (y_best − μ) / μ` (HEAT's PAF, which is ×100).
/// Relative: PAR as a fraction of the population level.
///
/// Undefined for an indicator with neutral polarity, or when `μ = 0`.
pub fn paf(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Paf;
    let risk = attributable(m, g)?;
    finish(m, over_mu(m, g, risk)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equality::measures::Polarity;

    const Y: [f64; 4] = [0.2, 0.4, 0.5, 0.9];
    const P: [f64; 4] = [0.1, 0.2, 0.3, 0.4];
    // μ is given, not Σ p_j y_j (= 0.61): the measures use the population estimate as passed.
    const MU: f64 = 0.6;

    fn table(polarity: Polarity) -> Groups<'static> {
        Groups {
            y: &Y,
            p: &P,
            mu: MU,
            polarity,
        }
    }

    fn value(r: Result<Linearised, Undefined>) -> f64 {
        r.map(|l| l.value).unwrap_or(f64::NAN)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn max_min_by_hand() {
        let g = table(Polarity::Neutral);
        // 0.9 − 0.2 = 0.7; 0.9 / 0.2 = 4.5.
        close(value(max_min_difference(&g)), 0.7);
        close(value(max_min_ratio(&g)), 4.5);
        let d = max_min_ratio(&g).unwrap_or_else(|e| panic!("{e}"));
        // ∂/∂max = 1/0.2 = 5; ∂/∂min = −0.9/0.04 = −22.5.
        close(d.d_y[3], 5.0);
        close(d.d_y[0], -22.5);
        assert_eq!(d.d_p, vec![0.0; 4]);
    }

    #[test]
    fn variance_measures_by_hand() {
        let g = table(Polarity::Neutral);
        // y − μ = −0.4, −0.2, −0.1, 0.3
        // bgv = 0.1·0.16 + 0.2·0.04 + 0.3·0.01 + 0.4·0.09 = 0.016 + 0.008 + 0.003 + 0.036 = 0.063
        close(value(bgv(&g)), 0.063);
        close(value(bgsd(&g)), 0.063_f64.sqrt());
        close(value(cov(&g)), 0.063_f64.sqrt() / 0.6);
        let d = bgv(&g).unwrap_or_else(|e| panic!("{e}"));
        // ∂/∂μ = −2 (−0.04 − 0.04 − 0.03 + 0.12) = −2 · 0.01 = −0.02
        close(d.d_mu, -0.02);
        // ∂/∂y_1 = 2 · 0.1 · (−0.4) = −0.08; ∂/∂p_4 = 0.09
        close(d.d_y[0], -0.08);
        close(d.d_p[3], 0.09);
    }

    #[test]
    fn mean_differences_by_hand() {
        let g = table(Polarity::Neutral);
        // mdmu = (0.4 + 0.2 + 0.1 + 0.3) / 4 = 0.25
        close(value(mdmu(&g)), 0.25);
        // mdmw = 0.1·0.4 + 0.2·0.2 + 0.3·0.1 + 0.4·0.3 = 0.04 + 0.04 + 0.03 + 0.12 = 0.23
        close(value(mdmw(&g)), 0.23);
        // idisu = 0.25 / 0.6 = 5/12; idisw = 0.23 / 0.6
        close(value(idisu(&g)), 5.0 / 12.0);
        close(value(idisw(&g)), 0.23 / 0.6);
        // ∂mdmu/∂μ = −(−1 − 1 − 1 + 1)/4 = 0.5
        let d = mdmu(&g).unwrap_or_else(|e| panic!("{e}"));
        close(d.d_mu, 0.5);
        close(d.d_y[0], -0.25);
    }

    #[test]
    fn best_group_measures_by_hand() {
        // Higher is better: best = 0.9; abs(y − 0.9) = 0.7, 0.5, 0.4, 0
        let g = table(Polarity::HigherBetter);
        // mdbu = 1.6 / 4 = 0.4; mdbw = 0.07 + 0.1 + 0.12 + 0 = 0.29
        close(value(mdbu(&g)), 0.4);
        close(value(mdbw(&g)), 0.29);
        // par = 0.9 − 0.6 = 0.3; paf = 0.3 / 0.6 = 0.5
        close(value(par(&g)), 0.3);
        close(value(paf(&g)), 0.5);
        // ∂mdbw/∂y_best = −(0.1 + 0.2 + 0.3)·(−1) ... each sign(y_j − 0.9) = −1: +0.6
        let d = mdbw(&g).unwrap_or_else(|e| panic!("{e}"));
        close(d.d_y[3], 0.6);
        close(d.d_y[0], -0.1);

        // Lower is better: best = 0.2; abs(y − 0.2) = 0, 0.2, 0.3, 0.7
        let g = table(Polarity::LowerBetter);
        // mdbu = 1.2 / 4 = 0.3; mdbw = 0 + 0.04 + 0.09 + 0.28 = 0.41
        close(value(mdbu(&g)), 0.3);
        close(value(mdbw(&g)), 0.41);
        // par = 0.2 − 0.6 = −0.4; paf = −0.4 / 0.6 = −2/3
        close(value(par(&g)), -0.4);
        close(value(paf(&g)), -2.0 / 3.0);
        // ∂paf/∂μ = −y_best/μ² = −0.2 / 0.36
        let d = paf(&g).unwrap_or_else(|e| panic!("{e}"));
        close(d.d_mu, -0.2 / 0.36);
        close(d.d_y[0], 1.0 / 0.6);
    }

    #[test]
    fn ties_use_the_first_group() {
        let (y, p) = ([0.7, 0.3, 0.7], [0.3, 0.4, 0.3]);
        let g = Groups {
            y: &y,
            p: &p,
            mu: 0.54,
            polarity: Polarity::HigherBetter,
        };
        let d = max_min_difference(&g).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.d_y, vec![1.0, -1.0, 0.0]);
        let d = par(&g).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.d_y, vec![1.0, 0.0, 0.0]);
        close(d.value, 0.16);
    }

    #[test]
    fn ratio_needs_a_positive_minimum() {
        let (p, hb) = ([0.5, 0.5], Polarity::HigherBetter);
        let g = |y: &'static [f64]| Groups {
            y,
            p: &p,
            mu: 0.3,
            polarity: hb,
        };
        assert_eq!(
            max_min_ratio(&g(&[0.6, 0.0])),
            Err(Undefined(
                "max_min_ratio: the smallest group estimate is 0".into()
            ))
        );
        assert_eq!(
            max_min_ratio(&g(&[0.6, -0.2])),
            Err(Undefined(
                "max_min_ratio needs every group estimate > 0 (the smallest is -0.2)".into()
            ))
        );
        // The difference is defined all the same.
        close(value(max_min_difference(&g(&[0.6, 0.0]))), 0.6);
    }

    #[test]
    fn neutral_polarity_has_no_best_group() {
        let g = table(Polarity::Neutral);
        for (f, name) in [
            (mdbu as fn(&Groups) -> Result<Linearised, Undefined>, "mdbu"),
            (mdbw, "mdbw"),
            (par, "par"),
            (paf, "paf"),
        ] {
            assert_eq!(
                f(&g),
                Err(Undefined(format!(
                    "{name} needs the indicator's polarity (higher or lower is better)"
                )))
            );
        }
    }

    #[test]
    fn overflow_is_undefined() {
        let (y, p) = ([1e200, -1e200], [0.5, 0.5]);
        let g = Groups {
            y: &y,
            p: &p,
            mu: 0.0,
            polarity: Polarity::HigherBetter,
        };
        assert!(bgv(&g).is_err());
        assert!(max_min_difference(&g).is_ok());
    }
}
