//! Small dense linear algebra for calibration: symmetric p × p matrices (Gram matrices
//! `sum_i d_i x_i x_i'`), their eigen-decomposition by cyclic Jacobi rotations and a
//! Moore–Penrose generalized inverse with R's `MASS::ginv` truncation rule.
//!
//! p is small (tens to a few hundred), so the O(p³) Jacobi method is fast enough and gives
//! eigenvalues with high relative accuracy after the matrix is equilibrated.

/// A dense square matrix stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct SymMatrix {
    pub p: usize,
    pub a: Vec<f64>,
}

impl SymMatrix {
    /// The p × p zero matrix.
    pub fn zeros(p: usize) -> Self {
        SymMatrix {
            p,
            a: vec![0.0; p * p],
        }
    }

    /// Element (i, j).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.p + j]
    }

    /// Adds `v` to element (i, j).
    pub fn add(&mut self, i: usize, j: usize, v: f64) {
        self.a[i * self.p + j] += v;
    }

    /// Copies the upper triangle into the lower one (accumulators may fill only `j >= i`).
    pub fn symmetrize_from_upper(&mut self) {
        let p = self.p;
        for i in 0..p {
            for j in 0..i {
                self.a[i * p + j] = self.a[j * p + i];
            }
        }
    }

    /// `A v`.
    pub fn mul_vec(&self, v: &[f64]) -> Vec<f64> {
        let p = self.p;
        (0..p)
            .map(|i| (0..p).map(|j| self.a[i * p + j] * v[j]).sum())
            .collect()
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations:
/// returns (eigenvalues, eigenvectors as the columns of a row-major p × p matrix).
pub fn jacobi_eigen(m: &SymMatrix) -> (Vec<f64>, Vec<f64>) {
    let p = m.p;
    let mut a = m.a.clone();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..p {
            diag += a[i * p + i] * a[i * p + i];
            for j in (i + 1)..p {
                off += a[i * p + j] * a[i * p + j];
            }
        }
        if off == 0.0 || off <= 1e-36 * diag {
            break;
        }
        for k in 0..p {
            for l in (k + 1)..p {
                let akl = a[k * p + l];
                if akl == 0.0 {
                    continue;
                }
                let akk = a[k * p + k];
                let all = a[l * p + l];
                // Skip rotations that cannot change anything at working precision.
                if akl.abs() <= f64::EPSILON * 1e-3 * (akk.abs() * all.abs()).sqrt() {
                    a[k * p + l] = 0.0;
                    a[l * p + k] = 0.0;
                    continue;
                }
                let theta = (all - akk) / (2.0 * akl);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..p {
                    let ark = a[r * p + k];
                    let arl = a[r * p + l];
                    a[r * p + k] = c * ark - s * arl;
                    a[r * p + l] = s * ark + c * arl;
                }
                for r in 0..p {
                    let akr = a[k * p + r];
                    let alr = a[l * p + r];
                    a[k * p + r] = c * akr - s * alr;
                    a[l * p + r] = s * akr + c * alr;
                }
                a[k * p + l] = 0.0;
                a[l * p + k] = 0.0;
                for r in 0..p {
                    let vrk = v[r * p + k];
                    let vrl = v[r * p + l];
                    v[r * p + k] = c * vrk - s * vrl;
                    v[r * p + l] = s * vrk + c * vrl;
                }
            }
        }
    }
    let values = (0..p).map(|i| a[i * p + i]).collect();
    (values, v)
}

/// Moore–Penrose generalized inverse of a symmetric matrix, as R's `MASS::ginv(m, tol)`:
/// singular values (here |eigenvalues|) at or below `tol × largest` are treated as zero.
///
/// The matrix is first equilibrated, `S = D^-1/2 A D^-1/2` with `D = diag(|a_ii|)`, so that
/// columns on very different scales (an intercept and an income variable) keep full relative
/// precision; the result is `D^-1/2 S⁺ D^-1/2`. For a singular `A` this is a generalized
/// inverse that gives the same fitted values `x'λ` as the Moore–Penrose one whenever the
/// system is consistent (the only use here). A zero row/column stays zero.
pub fn pinv_sym(m: &SymMatrix, tol: f64) -> SymMatrix {
    let p = m.p;
    let scale: Vec<f64> = (0..p)
        .map(|i| {
            let d = m.get(i, i).abs();
            if d > 0.0 && d.is_finite() {
                1.0 / d.sqrt()
            } else {
                0.0
            }
        })
        .collect();
    let mut s = SymMatrix::zeros(p);
    for i in 0..p {
        for j in 0..p {
            s.a[i * p + j] = m.get(i, j) * scale[i] * scale[j];
        }
    }
    let (values, vectors) = jacobi_eigen(&s);
    let largest = values.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    let mut out = SymMatrix::zeros(p);
    if largest == 0.0 || !largest.is_finite() {
        return out;
    }
    for (k, &lambda) in values.iter().enumerate() {
        if lambda.abs() <= tol * largest {
            continue;
        }
        let inv = 1.0 / lambda;
        for i in 0..p {
            let vik = vectors[i * p + k] * inv;
            if vik == 0.0 {
                continue;
            }
            for j in 0..p {
                out.a[i * p + j] += vik * vectors[j * p + k];
            }
        }
    }
    for i in 0..p {
        for j in 0..p {
            out.a[i * p + j] *= scale[i] * scale[j];
        }
    }
    out
}

/// Solves `A x = b` for a symmetric positive semi-definite `A` by Cholesky factorisation
/// with diagonal pivoting, after the same equilibration as [`pinv_sym`]. A pivot whose
/// remaining (equilibrated) diagonal is at most `tol` marks a column that depends on the
/// earlier ones (redundant calibration constraints, such as two margins that both cover every
/// row): its component of `x` is set to 0. For a consistent system (`b` in the range of `A`)
/// the fitted values `X x` then equal those of the generalized-inverse solution `A⁺ b`, at
/// O(p³/3) instead of an eigen-decomposition.
///
/// Returns `None` when `A` is not positive semi-definite at working precision (a clearly
/// negative pivot) or has non-finite entries; callers then fall back to [`pinv_sym`].
pub fn solve_psd(m: &SymMatrix, b: &[f64], tol: f64) -> Option<Vec<f64>> {
    let p = m.p;
    if b.len() != p || m.a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let scale: Vec<f64> = (0..p)
        .map(|i| {
            let d = m.get(i, i);
            if d > 0.0 {
                1.0 / d.sqrt()
            } else {
                0.0
            }
        })
        .collect();
    if (0..p).any(|i| m.get(i, i) < 0.0) {
        return None;
    }
    // Working copy of the equilibrated matrix, factorised in place (lower triangle = L).
    let mut a = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            a[i * p + j] = m.get(i, j) * scale[i] * scale[j];
        }
    }
    let mut perm: Vec<usize> = (0..p).collect();
    let mut rank = 0;
    for k in 0..p {
        // The largest remaining diagonal.
        let (j, dmax) = (k..p)
            .map(|j| (j, a[j * p + j]))
            .fold(
                (k, f64::NEG_INFINITY),
                |acc, x| if x.1 > acc.1 { x } else { acc },
            );
        if dmax <= tol {
            if dmax < -1e3 * tol.max(f64::EPSILON) {
                return None;
            }
            break;
        }
        if j != k {
            perm.swap(j, k);
            for c in 0..p {
                a.swap(k * p + c, j * p + c);
            }
            for r in 0..p {
                a.swap(r * p + k, r * p + j);
            }
        }
        let lkk = a[k * p + k].sqrt();
        a[k * p + k] = lkk;
        for i in (k + 1)..p {
            a[i * p + k] /= lkk;
        }
        for i in (k + 1)..p {
            let lik = a[i * p + k];
            if lik == 0.0 {
                continue;
            }
            for jj in (k + 1)..=i {
                a[i * p + jj] -= lik * a[jj * p + k];
            }
            // Keep the upper triangle in step for the pivot search and swaps.
            for jj in (k + 1)..i {
                a[jj * p + i] = a[i * p + jj];
            }
        }
        rank += 1;
    }
    // Forward and back substitution on the leading rank × rank block.
    let mut y: Vec<f64> = (0..rank).map(|k| b[perm[k]] * scale[perm[k]]).collect();
    for k in 0..rank {
        let mut v = y[k];
        for c in 0..k {
            v -= a[k * p + c] * y[c];
        }
        y[k] = v / a[k * p + k];
    }
    for k in (0..rank).rev() {
        let mut v = y[k];
        for r in (k + 1)..rank {
            v -= a[r * p + k] * y[r];
        }
        y[k] = v / a[k * p + k];
    }
    let mut x = vec![0.0; p];
    for k in 0..rank {
        x[perm[k]] = y[k] * scale[perm[k]];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pivoted_cholesky_solves_full_and_redundant_systems() {
        let m = SymMatrix {
            p: 3,
            a: vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0],
        };
        let b = [1.0, 2.0, 3.0];
        let x = solve_psd(&m, &b, 1e-10).unwrap();
        let back = m.mul_vec(&x);
        for i in 0..3 {
            assert!((back[i] - b[i]).abs() < 1e-14, "{back:?}");
        }
        // Columns (1,1,0,0), (0,0,1,1), (1,1,1,1): the third is the sum of the others.
        let g = SymMatrix {
            p: 3,
            a: vec![2.0, 0.0, 2.0, 0.0, 2.0, 2.0, 2.0, 2.0, 4.0],
        };
        // b = X' y for y = (1, 2, 3, 4): consistent.
        let b = [3.0, 7.0, 10.0];
        let x = solve_psd(&g, &b, 1e-10).unwrap();
        let xg = pinv_sym(&g, 256.0 * f64::EPSILON).mul_vec(&b);
        // Same fitted values X x for the four rows.
        let fit = |x: &[f64]| [x[0] + x[2], x[0] + x[2], x[1] + x[2], x[1] + x[2]];
        for (a, b) in fit(&x).iter().zip(fit(&xg)) {
            assert!((a - b).abs() < 1e-12, "{x:?} {xg:?}");
        }
        // Not positive semi-definite.
        let bad = SymMatrix {
            p: 2,
            a: vec![1.0, 2.0, 2.0, 1.0],
        };
        assert!(solve_psd(&bad, &[1.0, 1.0], 1e-10).is_none());
    }

    #[test]
    fn inverse_of_a_full_rank_matrix() {
        let m = SymMatrix {
            p: 3,
            a: vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0],
        };
        let inv = pinv_sym(&m, 1e-12);
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|k| m.get(i, k) * inv.get(k, j)).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((e - want).abs() < 1e-14, "{i} {j} {e}");
            }
        }
    }

    #[test]
    fn generalized_inverse_of_a_singular_matrix() {
        // Gram matrix of columns (1, 1, 0, 0), (0, 0, 1, 1), (1, 1, 1, 1): rank 2.
        let m = SymMatrix {
            p: 3,
            a: vec![2.0, 0.0, 2.0, 0.0, 2.0, 2.0, 2.0, 2.0, 4.0],
        };
        let g = pinv_sym(&m, 256.0 * f64::EPSILON);
        // A G A = A.
        let mut ag = SymMatrix::zeros(3);
        for i in 0..3 {
            for j in 0..3 {
                ag.a[i * 3 + j] = (0..3).map(|k| m.get(i, k) * g.get(k, j)).sum();
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|k| ag.get(i, k) * m.get(k, j)).sum();
                assert!((e - m.get(i, j)).abs() < 1e-12, "{i} {j} {e}");
            }
        }
    }
}
