//! Measures for ordered dimensions, as in WHO's HEAT / `healthequal`: the slope and relative
//! indices of inequality (regression on the ridit scale) and the absolute and relative
//! concentration indices.
//!
//! The groups come in the dimension's order, from the lowest level (most disadvantaged) to the
//! highest. Group `j`'s ridit is the midpoint of its slice of the cumulative population share,
//! `X_j = Σ_{k<j} p_k + p_j / 2`; it depends on the shares, and so do the derivatives. Each
//! function returns the value and its partial derivatives ([`Linearised`]); notation,
//! interpretation and the differences from HEAT are in [`measures`](super::measures).

use super::measures::{check, finish, over_mu, total, Groups, Linearised, Measure, Undefined};
use crate::numeric::Sum;

/// The ridits `X_j = Σ_{k<j} p_k + p_j / 2`.
fn ridits(p: &[f64]) -> Vec<f64> {
    let mut below = Sum::new();
    p.iter()
        .map(|&pj| {
            let x = below.value() + pj / 2.0;
            below.add(pj);
            x
        })
        .collect()
}

/// Suffix sums `Σ_{i>k} v_i` for every `k`.
fn above(v: impl DoubleEndedIterator<Item = f64> + ExactSizeIterator) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    let mut s = Sum::new();
    for (slot, x) in out.iter_mut().rev().zip(v.rev()) {
        *slot = s.value();
        s.add(x);
    }
    out
}

/// The `p`-weighted least-squares line `y = a + b X` on the ridits, with the derivatives of
/// `a` and `b` with respect to every `y_j` and `p_j`.
struct Line {
    a: f64,
    b: f64,
    da_dy: Vec<f64>,
    db_dy: Vec<f64>,
    da_dp: Vec<f64>,
    db_dp: Vec<f64>,
}

/// Fits the line: `b = Σ p_j (X_j − X̄)(y_j − ȳ) / Σ p_j (X_j − X̄)²`, `a = ȳ − b X̄`, with
/// `X̄ = Σ p_j X_j` and `ȳ = Σ p_j y_j` (the shares are free variables: `Σ p_j = 1` is not
/// imposed in the derivatives).
fn fit(m: Measure, g: &Groups) -> Result<Line, Undefined> {
    let (y, p) = (g.y, g.p);
    let x = ridits(p);
    let x_bar = total(p.iter().zip(&x).map(|(p, x)| p * x));
    let y_bar = total(p.iter().zip(y).map(|(p, y)| p * y));
    let e: Vec<f64> = x.iter().map(|x| x - x_bar).collect();
    let f: Vec<f64> = y.iter().map(|y| y - y_bar).collect();
    let sxx = total(p.iter().zip(&e).map(|(p, e)| p * e * e));
    let sxy = total(p.iter().zip(&e).zip(&f).map(|((p, e), f)| p * e * f));
    if sxx.is_nan() || sxx <= 0.0 {
        return Err(Undefined(format!(
            "{m}: the ridit scores do not vary (the whole population is in one group)"
        )));
    }
    let b = sxy / sxx;
    let a = y_bar - b * x_bar;
    // D = Σ p_i e_i and F = Σ p_i f_i (both 0 when Σ p = 1).
    let d = total(p.iter().zip(&e).map(|(p, e)| p * e));
    let f_sum = total(p.iter().zip(&f).map(|(p, f)| p * f));

    // With respect to y_j: ∂ȳ = p_j, ∂Sxy = p_j (e_j − D).
    let db_dy: Vec<f64> = p.iter().zip(&e).map(|(p, e)| p * (e - d) / sxx).collect();
    let da_dy: Vec<f64> = p.iter().zip(&db_dy).map(|(p, db)| p - x_bar * db).collect();

    // With respect to p_k: ∂X_i/∂p_k = 1 (k < i), 1/2 (k = i), 0 (k > i), so
    // ∂X̄/∂p_k = G_k = X_k + Σ_{i>k} p_i + p_k / 2, ∂ȳ/∂p_k = y_k,
    // ∂Sxx/∂p_k = e_k² + 2 (Σ_{i>k} p_i e_i + p_k e_k / 2) − 2 G_k D,
    // ∂Sxy/∂p_k = e_k f_k + (Σ_{i>k} p_i f_i + p_k f_k / 2) − G_k F − y_k D.
    let p_above = above(p.iter().copied());
    let pe_above = above(p.iter().zip(&e).map(|(p, e)| p * e));
    let pf_above = above(p.iter().zip(&f).map(|(p, f)| p * f));
    let n = y.len();
    let (mut da_dp, mut db_dp) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for k in 0..n {
        let g_k = x[k] + p_above[k] + p[k] / 2.0;
        let dsxx = e[k] * e[k] + 2.0 * (pe_above[k] + p[k] * e[k] / 2.0) - 2.0 * g_k * d;
        let dsxy = e[k] * f[k] + (pf_above[k] + p[k] * f[k] / 2.0) - g_k * f_sum - y[k] * d;
        let db = (dsxy - b * dsxx) / sxx;
        db_dp.push(db);
        da_dp.push(y[k] - db * x_bar - b * g_k);
    }
    Ok(Line {
        a,
        b,
        da_dy,
        db_dy,
        da_dp,
        db_dp,
    })
}

/// Slope index of inequality `sii = b`, the slope of the `p`-weighted least-squares line of
/// `y_j` on the ridits `X_j`: `b = Σ p_j (X_j − X̄)(y_j − ȳ) / Σ p_j (X_j − X̄)²`,
/// `X̄ = Σ p_j X_j`, `ȳ = Σ p_j y_j` (HEAT's SII with `linear = TRUE`; HEAT's default for
/// proportions is a logistic model). Absolute: the difference between the fitted values at the
/// top (`X = 1`) and the bottom (`X = 0`) of the population ranked by the dimension; 0 means no
/// gradient, positive values that the indicator rises with the dimension's level.
///
/// Undefined when the ridits do not vary (all the population in one group).
pub fn sii(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Sii;
    check(m, g)?;
    let line = fit(m, g)?;
    finish(
        m,
        Linearised {
            value: line.b,
            d_y: line.db_dy,
            d_p: line.db_dp,
            d_mu: 0.0,
        },
    )
}

/// Relative index of inequality `rii = (a + b) / a`, the fitted value at the top of the scale
/// over the fitted value at the bottom, with `a = ȳ − b X̄` the intercept of the line of
/// [`sii`] (HEAT's RII with `linear = TRUE`). Relative: 1 means no gradient, > 1 that the
/// indicator is higher at the top of the dimension, < 1 that it is higher at the bottom.
///
/// Undefined when the ridits do not vary, or when the fitted value at the bottom `a` is 0.
///
/// Derivatives: `∂rii = (a ∂b − b ∂a) / a²`.
pub fn rii(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Rii;
    check(m, g)?;
    let line = fit(m, g)?;
    let (a, b) = (line.a, line.b);
    if a == 0.0 {
        return Err(Undefined(format!(
            "{m}: the fitted value at the bottom of the scale is 0"
        )));
    }
    let d = |da: &[f64], db: &[f64]| -> Vec<f64> {
        da.iter()
            .zip(db)
            .map(|(da, db)| (a * db - b * da) / (a * a))
            .collect()
    };
    finish(
        m,
        Linearised {
            value: (a + b) / a,
            d_y: d(&line.da_dy, &line.db_dy),
            d_p: d(&line.da_dp, &line.db_dp),
            d_mu: 0.0,
        },
    )
}

/// `Σ p_j (2 X_j − 1) y_j` with its derivatives.
fn concentration(g: &Groups) -> Linearised {
    let (y, p) = (g.y, g.p);
    let x = ridits(p);
    let c: Vec<f64> = x.iter().map(|x| 2.0 * x - 1.0).collect();
    // ∂/∂p_k = (2 X_k − 1) y_k + 2 (Σ_{i>k} p_i y_i + p_k y_k / 2).
    let py_above = above(p.iter().zip(y).map(|(p, y)| p * y));
    Linearised {
        value: total(p.iter().zip(&c).zip(y).map(|((p, c), y)| p * c * y)),
        d_y: p.iter().zip(&c).map(|(p, c)| p * c).collect(),
        d_p: (0..y.len())
            .map(|k| c[k] * y[k] + 2.0 * py_above[k] + p[k] * y[k])
            .collect(),
        d_mu: 0.0,
    }
}

/// Absolute concentration index `aci = Σ p_j (2 X_j − 1) y_j` (HEAT's ACI; when `Σ p_j = 1` it
/// is twice the population-weighted covariance of the group estimates and the ridits). 0 means
/// no concentration; positive values mean the indicator is concentrated at the higher levels of
/// the dimension, negative at the lower levels. Absolute (the indicator's unit).
///
/// Derivatives: `∂/∂y_j = p_j (2 X_j − 1)`,
/// `∂/∂p_k = (2 X_k − 1) y_k + 2 Σ_{i>k} p_i y_i + p_k y_k`.
pub fn aci(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Aci;
    check(m, g)?;
    finish(m, concentration(g))
}

/// Relative concentration index `rci = aci / μ` (HEAT's RCI, displayed ×100 there; HEAT divides
/// by `Σ p_j y_j`). For an indicator ≥ 0 and `μ = Σ p_j y_j` it lies in `−1..1`; 0 means no
/// concentration, the sign as for [`aci`].
///
/// Undefined when `μ = 0`.
pub fn rci(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Rci;
    check(m, g)?;
    finish(m, over_mu(m, g, concentration(g))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equality::measures::Polarity;

    fn groups<'a>(y: &'a [f64], p: &'a [f64], mu: f64) -> Groups<'a> {
        Groups {
            y,
            p,
            mu,
            polarity: Polarity::HigherBetter,
        }
    }

    fn value(r: Result<Linearised, Undefined>) -> f64 {
        r.map(|l| l.value).unwrap_or(f64::NAN)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn ridits_are_midpoints() {
        let x = ridits(&[0.1, 0.2, 0.3, 0.4]);
        for (x, e) in x.iter().zip([0.05, 0.2, 0.45, 0.8]) {
            close(*x, e);
        }
        assert_eq!(above([1.0, 2.0, 3.0].into_iter()), vec![5.0, 3.0, 0.0]);
    }

    #[test]
    fn slope_measures_by_hand() {
        let (y, p) = ([0.2, 0.4, 0.5, 0.9], [0.1, 0.2, 0.3, 0.4]);
        let g = groups(&y, &p, 0.6);
        // X = 0.05, 0.2, 0.45, 0.8
        // X̄ = 0.005 + 0.04 + 0.135 + 0.32 = 0.5;  ȳ = 0.02 + 0.08 + 0.15 + 0.36 = 0.61
        // X − X̄ = −0.45, −0.3, −0.05, 0.3;  y − ȳ = −0.41, −0.21, −0.11, 0.29
        // Sxx = 0.1·0.2025 + 0.2·0.09 + 0.3·0.0025 + 0.4·0.09 = 0.02025 + 0.018 + 0.00075 + 0.036
        //     = 0.075
        // Sxy = 0.1·0.1845 + 0.2·0.063 + 0.3·0.0055 + 0.4·0.087 = 0.01845 + 0.0126 + 0.00165 + 0.0348
        //     = 0.0675
        // sii = 0.0675 / 0.075 = 0.9;  a = 0.61 − 0.9·0.5 = 0.16;  rii = (0.16 + 0.9) / 0.16 = 6.625
        close(value(sii(&g)), 0.9);
        close(value(rii(&g)), 6.625);
        // 2X − 1 = −0.9, −0.6, −0.1, 0.6
        // aci = 0.1·(−0.9)·0.2 + 0.2·(−0.6)·0.4 + 0.3·(−0.1)·0.5 + 0.4·0.6·0.9
        //     = −0.018 − 0.048 − 0.015 + 0.216 = 0.135;  rci = 0.135 / 0.6 = 0.225
        close(value(aci(&g)), 0.135);
        close(value(rci(&g)), 0.225);
        // ∂sii/∂y_4 = p_4 (X_4 − X̄) / Sxx = 0.4·0.3 / 0.075 = 1.6
        let d = sii(&g).unwrap_or_else(|e| panic!("{e}"));
        close(d.d_y[3], 1.6);
        assert_eq!(d.d_mu, 0.0);
        // ∂aci/∂p_1 = (2X_1 − 1) y_1 + 2 Σ_{i>1} p_i y_i + p_1 y_1
        //          = −0.18 + 2·0.59 + 0.02 = 1.02
        let d = aci(&g).unwrap_or_else(|e| panic!("{e}"));
        close(d.d_p[0], 1.02);
    }

    #[test]
    fn sii_of_a_straight_line_is_its_slope() {
        // y = 1 + 2 X exactly: sii = 2, intercept 1, rii = (1 + 2) / 1 = 3.
        let p = [0.15, 0.35, 0.2, 0.3];
        let y: Vec<f64> = ridits(&p).iter().map(|x| 1.0 + 2.0 * x).collect();
        let g = groups(&y, &p, 2.0);
        close(value(sii(&g)), 2.0);
        close(value(rii(&g)), 3.0);
    }

    #[test]
    fn aci_is_twice_the_covariance_with_the_ridit() {
        let (y, p) = ([3.0, 2.5, 4.0, 1.0, 6.0], [0.3, 0.1, 0.25, 0.2, 0.15]);
        let x = ridits(&p);
        let x_bar: f64 = p.iter().zip(&x).map(|(p, x)| p * x).sum();
        let y_bar: f64 = p.iter().zip(&y).map(|(p, y)| p * y).sum();
        let covariance: f64 = (0..5).map(|j| p[j] * (x[j] - x_bar) * (y[j] - y_bar)).sum();
        close(value(aci(&groups(&y, &p, y_bar))), 2.0 * covariance);
        // ... and sii is that covariance over the ridits' variance.
        let variance: f64 = (0..5).map(|j| p[j] * (x[j] - x_bar).powi(2)).sum();
        close(value(sii(&groups(&y, &p, y_bar))), covariance / variance);
    }

    #[test]
    fn reversing_the_order_flips_the_sign() {
        let (y, p) = ([0.2, 0.4, 0.5, 0.9], [0.1, 0.2, 0.3, 0.4]);
        let (yr, pr) = ([0.9, 0.5, 0.4, 0.2], [0.4, 0.3, 0.2, 0.1]);
        for f in [sii, aci] {
            close(
                value(f(&groups(&y, &p, 0.6))),
                -value(f(&groups(&yr, &pr, 0.6))),
            );
        }
    }

    #[test]
    fn undefined_cases() {
        // The whole population in one group: the ridits do not vary.
        let g = groups(&[0.2, 0.4, 0.6], &[0.0, 1.0, 0.0], 0.4);
        assert_eq!(
            sii(&g),
            Err(Undefined(
                "sii: the ridit scores do not vary (the whole population is in one group)".into()
            ))
        );
        // Fitted value 0 at the bottom: y = 2 X on X = 0.25, 0.75.
        let g = groups(&[0.5, 1.5], &[0.5, 0.5], 1.0);
        close(value(sii(&g)), 2.0);
        assert_eq!(
            rii(&g),
            Err(Undefined(
                "rii: the fitted value at the bottom of the scale is 0".into()
            ))
        );
        assert_eq!(
            rci(&groups(&[0.5, 1.5], &[0.5, 0.5], 0.0)),
            Err(Undefined(
                "rci divides by the population estimate μ, which is 0".into()
            ))
        );
    }
}
