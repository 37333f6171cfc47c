//! Entropy (disproportionality) measures across the groups of a dimension, as in WHO's HEAT /
//! `healthequal`: the Theil index and the mean log deviation.
//!
//! Each function returns the value and its partial derivatives ([`Linearised`]); notation,
//! interpretation and the differences from HEAT are in [`measures`](super::measures).

use super::measures::{check, finish, nonzero_mu, total, Groups, Linearised, Measure, Undefined};

/// The checks both measures share: `μ > 0`.
fn positive_mu(m: Measure, g: &Groups) -> Result<(), Undefined> {
    nonzero_mu(m, g)?;
    if g.mu < 0.0 {
        return Err(Undefined(format!(
            "{m} needs a positive population estimate μ (it is {})",
            g.mu
        )));
    }
    Ok(())
}

/// Theil index `theil = Σ p_j r_j ln r_j`, `r_j = y_j / μ` (HEAT's TI, which is ×1000).
/// Relative, no unit; 0 when every group equals μ, larger values mean more inequality. Each
/// group's log ratio is weighted by its share of the indicator, so groups far above the mean
/// weigh most.
///
/// A group with `y_j = 0` contributes its limit 0 (HEAT replaces it by 10⁻⁶), and its
/// `∂/∂y_j` (infinite at 0) is taken as 0. Undefined when `μ ≤ 0` or some `y_j < 0`.
///
/// Derivatives: `∂/∂y_j = p_j (ln r_j + 1) / μ`, `∂/∂p_j = r_j ln r_j`,
/// `∂/∂μ = −Σ p_j r_j (ln r_j + 1) / μ`.
pub fn theil(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Theil;
    check(m, g)?;
    positive_mu(m, g)?;
    if let Some((j, y)) = g.y.iter().enumerate().find(|(_, &y)| y < 0.0) {
        return Err(Undefined(format!(
            "{m} needs every group estimate ≥ 0 (group {} is {y})",
            j + 1
        )));
    }
    let mu = g.mu;
    let n = g.y.len();
    let mut out = Linearised::constant(0.0, n);
    let mut terms = Vec::with_capacity(n);
    let mut d_mu = Vec::with_capacity(n);
    for (j, (&y, &p)) in g.y.iter().zip(g.p).enumerate() {
        if y == 0.0 {
            continue;
        }
        let r = y / mu;
        let ln = r.ln();
        terms.push(p * r * ln);
        out.d_y[j] = p * (ln + 1.0) / mu;
        out.d_p[j] = r * ln;
        d_mu.push(-p * r * (ln + 1.0) / mu);
    }
    out.value = total(terms);
    out.d_mu = total(d_mu);
    finish(m, out)
}

/// Mean log deviation `mld = −Σ p_j ln r_j`, `r_j = y_j / μ` (HEAT's MLD, which is ×1000).
/// Relative, no unit; 0 when every group equals μ, larger values mean more inequality. Each
/// group's log ratio is weighted by its population share, so groups far below the mean weigh
/// most.
///
/// Undefined when `μ ≤ 0` or some `y_j ≤ 0` (HEAT replaces a 0 by 10⁻⁶).
///
/// Derivatives: `∂/∂y_j = −p_j / y_j`, `∂/∂p_j = −ln r_j`, `∂/∂μ = Σ p_j / μ`.
pub fn mld(g: &Groups) -> Result<Linearised, Undefined> {
    let m = Measure::Mld;
    check(m, g)?;
    positive_mu(m, g)?;
    if let Some((j, y)) = g.y.iter().enumerate().find(|(_, &y)| y <= 0.0) {
        return Err(Undefined(format!(
            "{m} needs every group estimate > 0 (group {} is {y})",
            j + 1
        )));
    }
    let mu = g.mu;
    let ln: Vec<f64> = g.y.iter().map(|y| (y / mu).ln()).collect();
    let out = Linearised {
        value: -total(g.p.iter().zip(&ln).map(|(p, l)| p * l)),
        d_y: g.p.iter().zip(g.y).map(|(p, y)| -p / y).collect(),
        d_p: ln.iter().map(|l| -l).collect(),
        d_mu: total(g.p.iter().copied()) / mu,
    };
    finish(m, out)
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
            polarity: Polarity::Neutral,
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn theil_and_mld_by_hand() {
        let (y, p) = ([0.2, 0.4, 0.5, 0.9], [0.1, 0.2, 0.3, 0.4]);
        let g = groups(&y, &p, 0.5);
        // r = 0.4, 0.8, 1.0, 1.8
        // theil = 0.1·0.4 ln 0.4 + 0.2·0.8 ln 0.8 + 0.3·1 ln 1 + 0.4·1.8 ln 1.8
        //       = 0.04 ln 0.4 + 0.16 ln 0.8 + 0.72 ln 1.8
        //       = −0.036651629 − 0.035702968 + 0.423206399 = 0.350851801 (to 9 places)
        let t = theil(&g).unwrap_or_else(|e| panic!("{e}"));
        let expected = 0.04 * 0.4_f64.ln() + 0.16 * 0.8_f64.ln() + 0.72 * 1.8_f64.ln();
        close(t.value, expected);
        assert!((t.value - 0.350851801).abs() < 1e-9);
        // ∂/∂y_3 = 0.3 (ln 1 + 1) / 0.5 = 0.6; ∂/∂p_3 = 1 · ln 1 = 0
        close(t.d_y[2], 0.6);
        close(t.d_p[2], 0.0);
        // mld = −(0.1 ln 0.4 + 0.2 ln 0.8 + 0.3 ln 1 + 0.4 ln 1.8)
        //     = −(−0.091629073 − 0.044628710 + 0.235114666) = −0.098856883 (to 9 places)
        // (negative: μ = 0.5 is below Σ p_j y_j = 0.61)
        let l = mld(&g).unwrap_or_else(|e| panic!("{e}"));
        let expected = -(0.1 * 0.4_f64.ln() + 0.2 * 0.8_f64.ln() + 0.4 * 1.8_f64.ln());
        close(l.value, expected);
        assert!((l.value + 0.098856883).abs() < 1e-9);
        // ∂/∂y_1 = −0.1 / 0.2 = −0.5; ∂/∂μ = 1 / 0.5 = 2
        close(l.d_y[0], -0.5);
        close(l.d_mu, 2.0);
    }

    #[test]
    fn theil_with_a_zero_group() {
        let (y, p) = ([0.0, 0.5, 1.0], [0.2, 0.4, 0.4]);
        // μ = Σ p y = 0.6; r = 0, 5/6, 5/3; the first term is 0
        // theil = 0.4·(5/6) ln(5/6) + 0.4·(5/3) ln(5/3)
        let g = groups(&y, &p, 0.6);
        let t = theil(&g).unwrap_or_else(|e| panic!("{e}"));
        let expected =
            0.4 * (5.0 / 6.0) * (5.0_f64 / 6.0).ln() + 0.4 * (5.0 / 3.0) * (5.0_f64 / 3.0).ln();
        close(t.value, expected);
        assert_eq!((t.d_y[0], t.d_p[0]), (0.0, 0.0));
        // mld has no value with a zero group.
        assert_eq!(
            mld(&g),
            Err(Undefined(
                "mld needs every group estimate > 0 (group 1 is 0)".into()
            ))
        );
    }

    #[test]
    fn undefined_cases() {
        let p = [0.5, 0.5];
        assert_eq!(
            theil(&groups(&[0.2, -0.1], &p, 0.05)),
            Err(Undefined(
                "theil needs every group estimate ≥ 0 (group 2 is -0.1)".into()
            ))
        );
        assert_eq!(
            mld(&groups(&[-0.2, -0.1], &p, -0.15)),
            Err(Undefined(
                "mld needs a positive population estimate μ (it is -0.15)".into()
            ))
        );
        assert_eq!(
            theil(&groups(&[0.2, 0.1], &p, 0.0)),
            Err(Undefined(
                "theil divides by the population estimate μ, which is 0".into()
            ))
        );
    }

    #[test]
    fn entropy_is_zero_at_equality_and_positive_otherwise() {
        let p = [0.25, 0.25, 0.5];
        let equal = groups(&[2.0, 2.0, 2.0], &p, 2.0);
        close(theil(&equal).map_or(f64::NAN, |l| l.value), 0.0);
        close(mld(&equal).map_or(f64::NAN, |l| l.value), 0.0);
        // With μ = Σ p_j y_j both are > 0 for unequal groups (Jensen).
        let y = [1.0, 3.0, 2.5];
        let mu = 0.25 + 0.75 + 1.25;
        let g = groups(&y, &p, mu);
        assert!(theil(&g).map_or(f64::NAN, |l| l.value) > 0.0);
        assert!(mld(&g).map_or(f64::NAN, |l| l.value) > 0.0);
    }
}
