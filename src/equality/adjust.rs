//! Multiple-testing adjustment of the p-values of a results table (`--adjust`).
//!
//! An equality table tests many gaps at once (every group against the reference, in every
//! dimension and indicator), so some unadjusted p-values fall below 0.05 by chance alone. This
//! module owns the adjustment applied across the whole table; it matches R's
//! `stats::p.adjust(p, method)` for `"holm"`, `"BH"` (alias `"fdr"`) and `"none"` value for
//! value, including ties, the cumulative max/min and the clamp to 1.
//!
//! Which to use:
//! - **Holm** controls the family-wise error rate: the chance of even one false "significant"
//!   gap in the table. It is uniformly more powerful than Bonferroni, but with many tests it
//!   becomes strict and hides real gaps.
//! - **Benjamini–Hochberg** controls the false discovery rate: the expected share of false ones
//!   among the gaps called significant. It suits the many comparisons of an equality table,
//!   where a few false leads among many real findings are acceptable, and is the better default
//!   there.
//! - **None** reports the p-values as computed, for a single pre-specified comparison.
//!
//! Tests that could not be computed carry a NaN p-value; they stay NaN and are not counted in
//! the number of tests `n`, as R's `p.adjust` does with `NA` under its default `n`.

use crate::{Error, Result};

/// A multiple-testing adjustment method, named as in R's `p.adjust`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjust {
    /// Holm's step-down method (`p.adjust(method = "holm")`): family-wise error rate.
    Holm,
    /// Benjamini–Hochberg step-up method (`p.adjust(method = "BH")`): false discovery rate.
    Bh,
    /// No adjustment (`p.adjust(method = "none")`).
    None,
}

impl Adjust {
    /// Parses a method name: `holm`, `bh` (also `BH`, or `fdr` as R's alias), `none`.
    ///
    /// Any other name is a [`Error::Usage`] that lists the valid names.
    pub fn parse(s: &str) -> Result<Adjust> {
        match s {
            "holm" => Ok(Adjust::Holm),
            "bh" | "BH" | "fdr" => Ok(Adjust::Bh),
            "none" => Ok(Adjust::None),
            _ => Err(Error::Usage(format!(
                "--adjust {s}: expected holm, bh or none"
            ))),
        }
    }

    /// The canonical name, as accepted by [`Adjust::parse`] and written to outputs.
    pub fn name(self) -> &'static str {
        match self {
            Adjust::Holm => "holm",
            Adjust::Bh => "bh",
            Adjust::None => "none",
        }
    }
}

/// Adjusted p-values, in the input's order, as R's `p.adjust(p, method)`.
///
/// With `n` the number of non-NaN p-values and `p₍ᵢ₎` the i-th smallest (1-based):
/// - Holm: `min(1, max_{j ≤ i} (n − j + 1) p₍ⱼ₎)`.
/// - Benjamini–Hochberg: `min(1, min_{j ≥ i} (n / j) p₍ⱼ₎)`.
/// - None: `p` unchanged.
///
/// NaN entries (tests that could not be computed) are returned as NaN and not counted in `n`.
/// With `n ≤ 1` the input is returned unchanged, as in R.
///
/// # Examples
///
/// ```
/// use tasa::equality::adjust::{adjust, Adjust};
///
/// let p = [0.01, 0.04, f64::NAN];
/// let holm = adjust(&p, Adjust::Holm);
/// assert_eq!(&holm[..2], &[0.02, 0.04]);
/// assert!(holm[2].is_nan());
/// assert_eq!(&adjust(&p, Adjust::Bh)[..2], &[0.02, 0.04]);
/// ```
pub fn adjust(p: &[f64], method: Adjust) -> Vec<f64> {
    let mut out = p.to_vec();
    // Positions of the computed tests; NaN entries keep their NaN.
    let valid: Vec<usize> = (0..p.len()).filter(|&k| !p[k].is_nan()).collect();
    let n = valid.len();
    if n <= 1 || method == Adjust::None {
        return out;
    }
    let nf = n as f64;
    match method {
        Adjust::Holm => {
            // Ascending; a stable sort, as R's `order`.
            let mut order = valid;
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut running = f64::NEG_INFINITY;
            for (i0, &k) in order.iter().enumerate() {
                // (n + 1 - i) * p with i 1-based, in R's order of operations.
                let scaled = (n - i0) as f64 * p[k];
                running = running.max(scaled);
                out[k] = running.min(1.0);
            }
        }
        Adjust::Bh => {
            // Descending; stable, as R's `order(p, decreasing = TRUE)`.
            let mut order = valid;
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
            let mut running = f64::INFINITY;
            for (d, &k) in order.iter().enumerate() {
                // Ascending rank i = n - d; R computes n / i * p.
                let rank = (n - d) as f64;
                let scaled = nf / rank * p[k];
                running = running.min(scaled);
                out[k] = running.min(1.0);
            }
        }
        Adjust::None => {}
    }
    out
}

#[cfg(test)]
// Expected values are R's output pasted at the precision R printed.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;

    /// Equal to 1e-15, with NaN matching NaN.
    fn same(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
            if w.is_nan() {
                assert!(g.is_nan(), "entry {k}: {g} should be NaN");
            } else {
                assert!((g - w).abs() < 1e-15, "entry {k}: {g} vs {w}");
            }
        }
    }

    // R: p <- c(0.01, 0.04, 0.03, 0.04, NA, 0.5, 0.001, 1)
    const P: [f64; 8] = [0.01, 0.04, 0.03, 0.04, NAN, 0.5, 0.001, 1.0];

    // R: p <- c(0.02, 0.02, 0.02, 0.02, NaN, 0.3, 0.3, 0.9, 0.0001)
    const TIES: [f64; 9] = [0.02, 0.02, 0.02, 0.02, NAN, 0.3, 0.3, 0.9, 0.0001];

    #[test]
    fn holm_matches_r() {
        // options(digits = 17); p.adjust(p, "holm")
        same(
            &adjust(&P, Adjust::Holm),
            &[
                0.0599999999999999978,
                0.1600000000000000033,
                0.1499999999999999944,
                0.1600000000000000033,
                NAN,
                1.0,
                0.0070000000000000001,
                1.0,
            ],
        );
    }

    #[test]
    fn bh_matches_r() {
        // options(digits = 17); p.adjust(p, "BH")
        same(
            &adjust(&P, Adjust::Bh),
            &[
                0.0350000000000000033,
                0.0559999999999999942,
                0.0559999999999999942,
                0.0559999999999999942,
                NAN,
                0.5833333333333333703,
                0.0070000000000000001,
                1.0,
            ],
        );
    }

    #[test]
    fn holm_with_ties_matches_r() {
        same(
            &adjust(&TIES, Adjust::Holm),
            &[
                0.14000000000000001332,
                0.14000000000000001332,
                0.14000000000000001332,
                0.14000000000000001332,
                NAN,
                0.89999999999999991118,
                0.89999999999999991118,
                0.90000000000000002220,
                0.00080000000000000004,
            ],
        );
    }

    #[test]
    fn bh_with_ties_matches_r() {
        same(
            &adjust(&TIES, Adjust::Bh),
            &[
                0.03200000000000000067,
                0.03200000000000000067,
                0.03200000000000000067,
                0.03200000000000000067,
                NAN,
                0.34285714285714280480,
                0.34285714285714280480,
                0.90000000000000002220,
                0.00080000000000000004,
            ],
        );
    }

    #[test]
    fn none_returns_input() {
        same(&adjust(&P, Adjust::None), &P);
    }

    #[test]
    fn empty_input() {
        for m in [Adjust::Holm, Adjust::Bh, Adjust::None] {
            assert!(adjust(&[], m).is_empty());
        }
    }

    #[test]
    fn single_p_is_unchanged() {
        // R: p.adjust(0.7, "holm") and p.adjust(c(NA, 0.3), "BH") return their input.
        for m in [Adjust::Holm, Adjust::Bh, Adjust::None] {
            same(&adjust(&[0.7], m), &[0.7]);
            same(&adjust(&[NAN, 0.3], m), &[NAN, 0.3]);
        }
    }

    #[test]
    fn two_equal_p() {
        // R: p.adjust(c(0.3, 0.2), "BH") = 0.3 0.3; "holm" = 0.4 0.4.
        same(&adjust(&[0.3, 0.2], Adjust::Bh), &[0.3, 0.3]);
        same(&adjust(&[0.3, 0.2], Adjust::Holm), &[0.4, 0.4]);
    }

    #[test]
    fn all_nan() {
        for m in [Adjust::Holm, Adjust::Bh, Adjust::None] {
            same(&adjust(&[NAN, NAN, NAN], m), &[NAN, NAN, NAN]);
        }
    }

    #[test]
    fn parse_names() {
        assert_eq!(Adjust::parse("holm").ok(), Some(Adjust::Holm));
        assert_eq!(Adjust::parse("bh").ok(), Some(Adjust::Bh));
        assert_eq!(Adjust::parse("BH").ok(), Some(Adjust::Bh));
        assert_eq!(Adjust::parse("fdr").ok(), Some(Adjust::Bh));
        assert_eq!(Adjust::parse("none").ok(), Some(Adjust::None));
        for m in [Adjust::Holm, Adjust::Bh, Adjust::None] {
            assert_eq!(Adjust::parse(m.name()).ok(), Some(m));
        }
    }

    #[test]
    fn parse_errors_list_the_names() {
        for bad in ["bonferroni", "Holm", ""] {
            match Adjust::parse(bad) {
                Err(e @ Error::Usage(_)) => {
                    assert_eq!(
                        e.to_string(),
                        format!("--adjust {bad}: expected holm, bh or none")
                    );
                    assert_eq!(e.code(), 2);
                }
                other => panic!("{bad}: expected a usage error, got {other:?}"),
            }
        }
    }
}
