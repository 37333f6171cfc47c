//! Design-based tests of no association between an outcome and the groups of a dimension.
//!
//! - **Rao–Scott** (R's `svychisq`, statistics `"F"` and `"Chisq"`), for a categorical outcome
//!   (r categories) against c groups. With cell proportions π over the rows with both values,
//!   their design covariance V, N the number of rows of the design, and C a basis of the
//!   interaction contrasts (orthogonal to the row and column effects), the design effect
//!   matrix is Δ = (C' diag(1/(N π)) C)⁻¹ C' D⁻¹ V D⁻¹ C with D = diag(π). Pearson's X² of
//!   the weighted table scaled to N is corrected to
//!   - `rao_scott_f` (second order): F = X² / tr Δ on d₀ = (tr Δ)² / tr Δ² and d₀ ν degrees
//!     of freedom, ν the design df;
//!   - `rao_scott_chisq` (first order): X² / δ̄, δ̄ = tr Δ / q, on q = (r − 1)(c − 1) df (R
//!     prints the uncorrected X² and gives this p-value).
//!
//!   Δ's traces do not depend on the basis C, so C is built from simple contrasts.
//! - **Wald F for means** (R's `regTermTest(svyglm(y ~ group), ~group)`): the contrasts
//!   d_j = y_j − y_ref with their design covariance, F = d' V_d⁻¹ d / q on q = c − 1 and ν − q
//!   df.

use super::groups::{Across, Gradient};
use crate::design::{Design, Scores};
use crate::weighting::linalg::{pinv_sym, SymMatrix};
use crate::{Error, Result};
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

/// A test statistic with its degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Test {
    pub statistic: f64,
    pub df1: f64,
    /// Denominator df of an F statistic; `None` for chi-square.
    pub df2: Option<f64>,
    pub p_value: f64,
}

/// Rao–Scott's two tests of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaoScott {
    pub f: Test,
    pub chisq: Test,
    /// Pearson's X² of the weighted table scaled to the number of rows.
    pub pearson: f64,
}

/// Eigenvalue cut-off of the generalised inverses (relative to the largest).
const PINV_TOL: f64 = 1e-10;

fn f_upper(x: f64, d1: f64, d2: f64) -> f64 {
    FisherSnedecor::new(d1, d2).map_or(f64::NAN, |f| f.sf(x))
}

fn chisq_upper(x: f64, df: f64) -> f64 {
    ChiSquared::new(df).map_or(f64::NAN, |c| c.sf(x))
}

/// `a (p × p) · b (p × p)`, row-major.
fn matmul(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let aik = a[i * p + k];
            if aik != 0.0 {
                for j in 0..p {
                    out[i * p + j] += aik * b[k * p + j];
                }
            }
        }
    }
    out
}

fn sym(a: Vec<f64>, p: usize) -> SymMatrix {
    let mut m = SymMatrix { p, a };
    // Exact symmetry for the eigen solver (sums in another order differ in the last bits).
    for i in 0..p {
        for j in 0..i {
            let v = 0.5 * (m.a[i * p + j] + m.a[j * p + i]);
            m.a[i * p + j] = v;
            m.a[j * p + i] = v;
        }
    }
    m
}

/// The contrast scores of a table's cells: row `j` scores `base[j] × C_km` in the contrasts
/// `m` of its cell `k` (`contrasts[k]`: the non-zero `C_km`), nothing without a cell.
struct CellScores {
    q: usize,
    cell: Vec<u32>,
    base: Vec<f64>,
    contrasts: Vec<Vec<(usize, f64)>>,
}

impl Scores for CellScores {
    fn count(&self) -> usize {
        self.q
    }

    #[inline]
    fn each(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        if let Some(cs) = self.contrasts.get(self.cell[j] as usize) {
            for &(m, c) in cs {
                let z = self.base[j] * c;
                if z != 0.0 {
                    f(m, z);
                }
            }
        }
    }
}

/// Rao–Scott tests of `outcome` (per row a category code in `0..r`, `u32::MAX` missing)
/// against `group_of` (per row a group in `0..c`, `u32::MAX` none) over `rows`; `nu` the
/// design df. Categories and groups without weight among the rows with both values are left
/// out, as R takes the levels that occur.
///
/// `across`: for a binary outcome (`r = 2`, the codes the values 0 and 1), the proportion's
/// estimates in the same groups over the same rows. The cell proportions are then
/// `π_1g = p_g y_g` and `π_0g = p_g (1 − y_g)`, whose linearised scores are combinations of
/// the base scores whose covariance `across` holds, so the test needs no pass over the rows
/// of its own (the same covariance up to rounding).
#[allow(clippy::too_many_arguments)]
pub fn rao_scott(
    design: &Design,
    outcome: &[u32],
    r: usize,
    group_of: &[u32],
    c: usize,
    rows: &[u32],
    nu: f64,
    across: Option<&Across>,
) -> Result<RaoScott> {
    let w = &design.weights;
    let complete = |i: usize| (outcome[i] as usize) < r && (group_of[i] as usize) < c;
    // Levels that occur (with weight) among complete rows.
    let (mut row_w, mut col_w) = (vec![0.0; r], vec![0.0; c]);
    for &i in rows {
        let i = i as usize;
        if complete(i) && w[i] > 0.0 {
            row_w[outcome[i] as usize] += w[i];
            col_w[group_of[i] as usize] += w[i];
        }
    }
    let remap = |v: &[f64]| -> (Vec<u32>, usize) {
        let mut k = 0u32;
        let m = v
            .iter()
            .map(|&x| {
                if x > 0.0 {
                    k += 1;
                    k - 1
                } else {
                    u32::MAX
                }
            })
            .collect();
        (m, k as usize)
    };
    let (rmap, nr) = remap(&row_w);
    let (cmap, nc) = remap(&col_w);
    if nr < 2 || nc < 2 {
        return Err(Error::Usage(format!(
            "a test of association needs at least two outcome categories and two groups with respondents (found {nr} and {nc})"
        )));
    }
    let k = nr * nc;
    // Cell of each complete row (rows vary fastest, as R's interaction()).
    let cell = |i: usize| -> Option<usize> {
        if !complete(i) {
            return None;
        }
        let (a, b) = (rmap[outcome[i] as usize], cmap[group_of[i] as usize]);
        (a != u32::MAX && b != u32::MAX).then(|| a as usize + nr * b as usize)
    };
    let mut cell_w = vec![0.0; k];
    for &i in rows {
        if let Some(kk) = cell(i as usize) {
            cell_w[kk] += w[i as usize];
        }
    }
    let total: f64 = cell_w.iter().sum();
    let pi: Vec<f64> = cell_w.iter().map(|x| x / total).collect();
    let n = design.n as f64;

    // Pearson's X² of the table scaled to N.
    let mut pearson = 0.0;
    for a in 0..nr {
        let ra: f64 = (0..nc).map(|b| pi[a + nr * b]).sum();
        for b in 0..nc {
            let cb: f64 = (0..nr).map(|x| pi[x + nr * b]).sum();
            let e = n * ra * cb;
            let o = n * pi[a + nr * b];
            pearson += (o - e) * (o - e) / e;
        }
    }

    // Contrast basis: (e_a - e_last) ⊗ (e_b - e_last).
    let q = (nr - 1) * (nc - 1);
    let contrast = |kk: usize, m: usize| -> f64 {
        let (ri, ci) = (kk % nr, kk / nr);
        let (a, b) = (m % (nr - 1), m / (nr - 1));
        let u = if ri == a {
            1.0
        } else if ri == nr - 1 {
            -1.0
        } else {
            0.0
        };
        let v = if ci == b {
            1.0
        } else if ci == nc - 1 {
            -1.0
        } else {
            0.0
        };
        u * v
    };
    let inv = |x: f64| if x == 0.0 { 0.0 } else { 1.0 / x };
    let mut denom = vec![0.0; q * q];
    for (kk, &p) in pi.iter().enumerate() {
        let d = inv(p) / n;
        for m1 in 0..q {
            let c1 = contrast(kk, m1);
            if c1 != 0.0 {
                for m2 in 0..q {
                    denom[m1 * q + m2] += c1 * d * contrast(kk, m2);
                }
            }
        }
    }
    // C' D⁻¹ V D⁻¹ C: the covariance of the contrasts of the cell proportions divided by π.
    let numr = match (&design.replicates, across) {
        (None, Some(across)) if r == 2 => {
            // u_m = Σ_k C_km / π_k z(π_k), z(π_1g) = y_g z(p_g) + p_g z(y_g) and
            // z(π_0g) = (1 − y_g) z(p_g) − p_g z(y_g): gradients in (y, p).
            let gradients: Vec<Gradient> = (0..q)
                .map(|m| {
                    let mut d = Gradient {
                        d_y: vec![0.0; c],
                        d_p: vec![0.0; c],
                        d_mu: 0.0,
                    };
                    for (g, &b) in cmap.iter().enumerate() {
                        if b == u32::MAX {
                            continue;
                        }
                        let (y, p) = (across.y[g], across.p[g]);
                        for (a, sign, share) in [(0usize, -1.0, 1.0 - y), (1, 1.0, y)] {
                            if rmap[a] == u32::MAX {
                                continue;
                            }
                            let kk = rmap[a] as usize + nr * b as usize;
                            let alpha = contrast(kk, m) * inv(pi[kk]);
                            if alpha != 0.0 {
                                d.d_y[g] += alpha * sign * p;
                                d.d_p[g] += alpha * share;
                            }
                        }
                    }
                    d
                })
                .collect();
            across.gradient_covariance(design, &gradients)?
        }
        (None, _) => {
            // Row i of cell k scores (w_i / W) C_km / π_k (Σ_k C_km = 0 removes the centring):
            // non-zero only for the contrasts of its cell.
            let cells: Vec<u32> = rows
                .iter()
                .map(|&i| cell(i as usize).map_or(u32::MAX, |kk| kk as u32))
                .collect();
            let base = rows
                .iter()
                .zip(&cells)
                .map(|(&i, &kk)| match pi.get(kk as usize) {
                    Some(&p) => w[i as usize] / total * inv(p),
                    None => 0.0,
                })
                .collect();
            let scores = CellScores {
                q,
                cell: cells,
                base,
                contrasts: (0..k)
                    .map(|kk| {
                        (0..q)
                            .filter_map(|m| {
                                let x = contrast(kk, m);
                                (x != 0.0).then_some((m, x))
                            })
                            .collect()
                    })
                    .collect(),
            };
            design.covariance_of(rows, &scores)?
        }
        (Some(reps), _) => {
            let thetas: Vec<Vec<f64>> = (0..reps.count)
                .map(|rr| {
                    let wr = reps.column(rr, design.n);
                    let mut cw = vec![0.0; k];
                    for &i in rows {
                        if let Some(kk) = cell(i as usize) {
                            cw[kk] += wr.at(i as usize);
                        }
                    }
                    let t: f64 = cw.iter().sum();
                    cw.iter().map(|x| x / t).collect()
                })
                .collect();
            let v = reps.covariance(&pi, &thetas);
            let mut out = vec![0.0; q * q];
            for k1 in 0..k {
                for k2 in 0..k {
                    let x = v[k1 * k + k2] * inv(pi[k1]) * inv(pi[k2]);
                    if x == 0.0 {
                        continue;
                    }
                    for m1 in 0..q {
                        let c1 = contrast(k1, m1);
                        if c1 != 0.0 {
                            for m2 in 0..q {
                                out[m1 * q + m2] += c1 * x * contrast(k2, m2);
                            }
                        }
                    }
                }
            }
            out
        }
    };
    let denom_inv = pinv_sym(&sym(denom, q), PINV_TOL);
    let delta = matmul(&denom_inv.a, &numr, q);
    let trace: f64 = (0..q).map(|i| delta[i * q + i]).sum();
    let trace2: f64 = (0..q)
        .flat_map(|i| (0..q).map(move |j| (i, j)))
        .map(|(i, j)| delta[i * q + j] * delta[j * q + i])
        .sum();
    let d0 = trace * trace / trace2;
    let f = pearson / trace;
    let chisq = pearson / (trace / q as f64);
    Ok(RaoScott {
        f: Test {
            statistic: f,
            df1: d0,
            df2: Some(d0 * nu),
            p_value: f_upper(f, d0, d0 * nu),
        },
        chisq: Test {
            statistic: chisq,
            df1: q as f64,
            df2: None,
            p_value: chisq_upper(chisq, q as f64),
        },
        pearson,
    })
}

/// The Wald F test that every group estimate equals the reference group's; `nu` the design
/// df. Groups without an estimate are left out.
pub fn wald_f(design: &Design, across: &Across, reference: usize, nu: f64) -> Result<Test> {
    let used: Vec<usize> = (0..across.y.len())
        .filter(|&j| across.y[j].is_finite())
        .collect();
    let c = used.len();
    if c < 2 || !used.contains(&reference) {
        return Err(Error::Usage(
            "a Wald test needs the reference group and at least one other group with respondents"
                .into(),
        ));
    }
    let v = match &design.replicates {
        None => across.group_covariance(design, &used)?,
        Some(reps) => {
            let theta: Vec<f64> = used.iter().map(|&j| across.y[j]).collect();
            let thetas: Vec<Vec<f64>> = across
                .replicate_groups()
                .map(|y| used.iter().map(|&j| y[j]).collect())
                .collect();
            reps.covariance(&theta, &thetas)
        }
    };
    let r = used.iter().position(|&j| j == reference).unwrap_or(0);
    let others: Vec<usize> = (0..c).filter(|&a| a != r).collect();
    let q = others.len();
    let d: Vec<f64> = others
        .iter()
        .map(|&a| across.y[used[a]] - across.y[used[r]])
        .collect();
    // Cov(y_a − y_r, y_b − y_r).
    let mut vd = vec![0.0; q * q];
    for (x, &a) in others.iter().enumerate() {
        for (y, &b) in others.iter().enumerate() {
            vd[x * q + y] = v[a * c + b] - v[a * c + r] - v[r * c + b] + v[r * c + r];
        }
    }
    let vinv = pinv_sym(&sym(vd, q), PINV_TOL);
    let x2: f64 = vinv.mul_vec(&d).iter().zip(&d).map(|(a, b)| a * b).sum();
    let f = x2 / q as f64;
    let df2 = nu - q as f64;
    Ok(Test {
        statistic: f,
        df1: q as f64,
        df2: Some(df2),
        p_value: if df2 > 0.0 {
            f_upper(f, q as f64, df2)
        } else {
            f64::NAN
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equality::groups::tests::{example_designs, example_table};
    use crate::estimate::estimand::{Stat, Target};

    /// For a binary outcome, the test from the proportion's base covariance equals the one
    /// from the cell scores' own pass, with and without calibration, including a group
    /// without respondents.
    #[test]
    fn a_binary_outcome_tests_the_same_from_its_groups_estimates() {
        let table = example_table();
        let num = |c: &str| table.column(c).unwrap().as_num().unwrap().to_vec();
        let (disc, origin, area) = (num("disc12"), num("origin"), num("area"));
        // disc12: 1 yes, 2 no, missing otherwise.
        let y: Vec<f64> = disc
            .iter()
            .map(|&v| match v {
                1.0 => 1.0,
                2.0 => 0.0,
                _ => f64::NAN,
            })
            .collect();
        let outcome: Vec<u32> = y
            .iter()
            .map(|&v| if v.is_nan() { u32::MAX } else { v as u32 })
            .collect();
        let t = Target {
            indicator: "discriminated".into(),
            stat: Stat::Proportion,
            variable: "disc12".into(),
            category: String::new(),
            y,
            x: None,
            deferred: false,
        };
        // Groups: origin 1, 2, 3 and the rest, and a fifth group nobody is in.
        let group_of: Vec<u32> = origin.iter().map(|&o| (o.min(4.0) - 1.0) as u32).collect();
        let rows: Vec<u32> = (0..table.nrows() as u32)
            .filter(|&i| area[i as usize] <= 20.0)
            .collect();
        for design in example_designs(&table) {
            let nu = design.degf_rows(&rows);
            let across = Across::new(&design, &t, &rows, &group_of, 5).unwrap();
            let own = rao_scott(&design, &outcome, 2, &group_of, 5, &rows, nu, None).unwrap();
            let from_groups =
                rao_scott(&design, &outcome, 2, &group_of, 5, &rows, nu, Some(&across)).unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * a.abs().max(b.abs());
            assert!(own.f.statistic > 1.0, "{:?}", own.f);
            for (a, b) in [
                (own.f.statistic, from_groups.f.statistic),
                (own.f.df1, from_groups.f.df1),
                (own.f.p_value, from_groups.f.p_value),
                (own.chisq.statistic, from_groups.chisq.statistic),
                (own.pearson, from_groups.pearson),
            ] {
                assert!(close(a, b), "{a} vs {b}");
            }
            assert_eq!(own.chisq.df1, 3.0);
        }
    }
}
