//! Calibration of design weights to population totals of auxiliary variables, as R survey's
//! `calibrate()` (`regcalibrate` for unbounded linear, `grake` otherwise), and the
//! calibration-aware (GREG residual) variance scores of `svyrecvar`.
//!
//! A problem is the design weights `d` (n), an n × p auxiliary matrix `X` built column by
//! column ([`Auxiliaries`]: an intercept, indicator columns of margin cells, numeric
//! variables) and the population totals `T` (p). The calibrated weights are `w_i = d_i g_i`
//! with `sum_i w_i x_i = T`.

use super::linalg::{pinv_sym, solve_psd, SymMatrix};
use crate::design::Scores;
use rayon::prelude::*;

/// The tolerance R's `grake` passes to `MASS::ginv` for the Newton step:
/// singular values below `256 × machine epsilon × largest` are dropped.
pub const GINV_TOL: f64 = 256.0 * f64::EPSILON;

/// A Newton-step pivot of the equilibrated Gram matrix at or below this marks a redundant
/// constraint ([`solve_psd`]).
const CHOLESKY_TOL: f64 = 1e-10;

/// The calibration distance (R's `calfun`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// `g = 1 + u` (R's `cal.linear`); with bounds `g = min(max(1 + u, L), U)`.
    Linear,
    /// `g = exp(u)` (R's `cal.raking`); with bounds `g = min(max(exp(u), L), U)`.
    Raking,
    /// R's `cal.logit` with bounds (L, U), `A = (U - L) / ((U - 1)(1 - L))`:
    /// `g = (L(U - 1) + U(1 - L) e^{Au}) / (U - 1 + (1 - L) e^{Au})`. Needs finite bounds.
    Logit,
}

/// Bounds (L, U) on the g-weights `w_i / d_i`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub lower: f64,
    pub upper: f64,
}

impl Bounds {
    /// No bounds: (-inf, inf).
    pub const NONE: Bounds = Bounds {
        lower: f64::NEG_INFINITY,
        upper: f64::INFINITY,
    };

    fn is_unbounded(&self) -> bool {
        self.lower == f64::NEG_INFINITY && self.upper == f64::INFINITY
    }
}

/// Iteration control of the Newton iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// Converged when `max_j |sum_i w_i x_ij - T_j| / (1 + |T_j|) < epsilon`.
    pub epsilon: f64,
    /// Maximum number of Newton steps (R's `maxit`).
    pub maxit: usize,
}

impl Default for Control {
    /// tasa's defaults: epsilon 1e-10 (R's default is 1e-7), 50 iterations (as R).
    fn default() -> Self {
        Control {
            epsilon: 1e-10,
            maxit: 50,
        }
    }
}

/// Why calibration failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// The iterations did not reach the tolerance (the caller exits 1).
    #[error(
        "calibration did not converge after {iterations} iterations: constraint `{constraint}` is \
         off by {misfit} (relative {relative:e}, target {total}); try wider bounds or fewer margins"
    )]
    NotConverged {
        constraint: String,
        /// Population total of the worst constraint.
        total: f64,
        /// `T_j - sum_i w_i x_ij` of the worst constraint.
        misfit: f64,
        /// `|misfit| / (1 + |T_j|)`.
        relative: f64,
        iterations: usize,
    },
    /// The problem cannot be calibrated (wrong lengths, a cell without sample rows...): exit 2.
    #[error("{0}")]
    Invalid(String),
}

impl CalibrationError {
    /// The process exit code: 1 for non-convergence, 2 for an invalid problem.
    pub fn code(&self) -> i32 {
        match self {
            CalibrationError::NotConverged { .. } => 1,
            CalibrationError::Invalid(_) => 2,
        }
    }
}

/// One column of X.
#[derive(Debug, Clone, PartialEq)]
enum AuxColumn {
    /// 1 for every row (R's `(Intercept)`).
    Ones,
    /// 1 for the listed rows (sorted), 0 elsewhere.
    Indicator(Vec<u32>),
    /// Values of a numeric variable (must be finite).
    Numeric(Vec<f64>),
}

/// The auxiliary matrix X (n × p) with names and population totals of its columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Auxiliaries {
    n: usize,
    names: Vec<String>,
    totals: Vec<f64>,
    columns: Vec<AuxColumn>,
    /// X in row form, made on first use and shared by the calibration and its variance fit.
    rows: RowsCache,
}

/// The row form of an [`Auxiliaries`]' X, made once; not part of its value (two equal
/// auxiliaries are equal whether or not either has made it).
#[derive(Debug, Clone, Default)]
struct RowsCache(std::sync::OnceLock<std::sync::Arc<Rows>>);

impl PartialEq for RowsCache {
    fn eq(&self, _: &RowsCache) -> bool {
        true
    }
}

impl Auxiliaries {
    /// An empty X for n rows.
    pub fn new(n: usize) -> Self {
        Auxiliaries {
            n,
            ..Default::default()
        }
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.n
    }

    /// Number of constraints p.
    pub fn ncols(&self) -> usize {
        self.columns.len()
    }

    /// Names of the constraints, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Population totals T, in order.
    pub fn totals(&self) -> &[f64] {
        &self.totals
    }

    /// Adds an intercept column (population size `total`).
    pub fn push_intercept(&mut self, name: impl Into<String>, total: f64) {
        self.names.push(name.into());
        self.totals.push(total);
        self.rows = RowsCache::default();
        self.columns.push(AuxColumn::Ones);
    }

    /// Adds the indicator of a set of rows (a margin cell) with its population count.
    pub fn push_indicator(
        &mut self,
        name: impl Into<String>,
        rows: Vec<u32>,
        total: f64,
    ) -> Result<(), CalibrationError> {
        let name = name.into();
        let mut rows = rows;
        rows.sort_unstable();
        rows.dedup();
        if rows.last().is_some_and(|&r| r as usize >= self.n) {
            return Err(CalibrationError::Invalid(format!(
                "constraint `{name}`: row index out of range"
            )));
        }
        self.names.push(name);
        self.totals.push(total);
        self.rows = RowsCache::default();
        self.columns.push(AuxColumn::Indicator(rows));
        Ok(())
    }

    /// Adds one indicator column per cell of a margin: row i belongs to cell `codes[i]`
    /// (`u32::MAX`: to none). `cells` gives each cell's name and population count.
    pub fn push_margin(
        &mut self,
        codes: &[u32],
        cells: &[(String, f64)],
    ) -> Result<(), CalibrationError> {
        if codes.len() != self.n {
            return Err(CalibrationError::Invalid(format!(
                "margin has {} rows, the data {}",
                codes.len(),
                self.n
            )));
        }
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); cells.len()];
        for (i, &c) in codes.iter().enumerate() {
            if c == u32::MAX {
                continue;
            }
            match rows.get_mut(c as usize) {
                Some(r) => r.push(i as u32),
                None => {
                    return Err(CalibrationError::Invalid(format!(
                        "row {}: margin cell code {c} has no population total",
                        i + 1
                    )))
                }
            }
        }
        for ((name, total), r) in cells.iter().zip(rows) {
            self.push_indicator(name.clone(), r, *total)?;
        }
        Ok(())
    }

    /// Adds a numeric variable with its population total.
    pub fn push_numeric(
        &mut self,
        name: impl Into<String>,
        values: Vec<f64>,
        total: f64,
    ) -> Result<(), CalibrationError> {
        let name = name.into();
        if values.len() != self.n {
            return Err(CalibrationError::Invalid(format!(
                "variable `{name}` has {} rows, the data {}",
                values.len(),
                self.n
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(CalibrationError::Invalid(format!(
                "variable `{name}`: row {} is missing; calibration needs every value",
                i + 1
            )));
        }
        self.names.push(name);
        self.totals.push(total);
        self.rows = RowsCache::default();
        self.columns.push(AuxColumn::Numeric(values));
        Ok(())
    }

    /// `sum_i w_i x_i` for every constraint: the totals the weights `w` reach.
    pub fn weighted_totals(&self, w: &[f64]) -> Vec<f64> {
        self.columns
            .iter()
            .map(|c| match c {
                AuxColumn::Ones => crate::numeric::sum(w),
                AuxColumn::Indicator(r) => r.iter().map(|&i| w[i as usize]).sum(),
                AuxColumn::Numeric(v) => v.iter().zip(w).map(|(x, w)| x * w).sum(),
            })
            .collect()
    }

    /// X in sparse row form, made on first use.
    fn rows(&self) -> std::sync::Arc<Rows> {
        self.rows
            .0
            .get_or_init(|| std::sync::Arc::new(self.build_rows()))
            .clone()
    }

    /// X in sparse row form: for each row the (column, value) pairs that are not zero.
    fn build_rows(&self) -> Rows {
        let mut count = vec![0u32; self.n + 1];
        for col in &self.columns {
            match col {
                AuxColumn::Ones => count.iter_mut().take(self.n).for_each(|c| *c += 1),
                AuxColumn::Indicator(r) => r.iter().for_each(|&i| count[i as usize] += 1),
                AuxColumn::Numeric(v) => v
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| **x != 0.0)
                    .for_each(|(i, _)| count[i] += 1),
            }
        }
        let mut start = vec![0usize; self.n + 1];
        for i in 0..self.n {
            start[i + 1] = start[i] + count[i] as usize;
        }
        let nnz = start[self.n];
        let mut col = vec![0u32; nnz];
        let mut val = vec![0.0; nnz];
        let mut fill = start.clone();
        for (j, c) in self.columns.iter().enumerate() {
            let mut put = |i: usize, x: f64| {
                col[fill[i]] = j as u32;
                val[fill[i]] = x;
                fill[i] += 1;
            };
            match c {
                AuxColumn::Ones => (0..self.n).for_each(|i| put(i, 1.0)),
                AuxColumn::Indicator(r) => r.iter().for_each(|&i| put(i as usize, 1.0)),
                AuxColumn::Numeric(v) => v
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| **x != 0.0)
                    .for_each(|(i, &x)| put(i, x)),
            }
        }
        Rows::compact(start, col, val)
    }
}

/// X in compressed sparse row form. Variances pass over X once per estimate, so it is kept
/// small: raking and post-stratification give every row the same number of entries (the
/// intercept and one cell per margin), all 1, and then neither the row starts nor the values
/// are stored.
#[derive(Debug, Clone)]
struct Rows {
    /// Where each row starts in `col`; empty when every row has `width` entries.
    start: Vec<usize>,
    width: usize,
    n: usize,
    col: Vec<u32>,
    /// The entries' values; empty when they are all 1.
    val: Vec<f64>,
    /// The distinct rows, made once when the Newton steps first need them (every replicate's
    /// re-calibration shares them).
    distinct: std::sync::OnceLock<Option<Box<Distinct>>>,
}

impl Rows {
    fn compact(start: Vec<usize>, col: Vec<u32>, val: Vec<f64>) -> Rows {
        let n = start.len() - 1;
        let width = start.get(1).copied().unwrap_or(0);
        let fixed = start.iter().enumerate().all(|(i, &s)| s == i * width);
        let ones = val.iter().all(|&x| x == 1.0);
        Rows {
            start: if fixed { Vec::new() } else { start },
            width,
            n,
            col,
            val: if ones { Vec::new() } else { val },
            distinct: Default::default(),
        }
    }

    /// [`Distinct::of`] these rows, made once.
    fn distinct(&self) -> Option<&Distinct> {
        self.distinct
            .get_or_init(|| Distinct::of(self).map(Box::new))
            .as_deref()
    }

    /// Row `i`'s entries, `col[a..b]`.
    #[inline]
    fn span(&self, i: usize) -> (usize, usize) {
        if self.start.is_empty() {
            (i * self.width, (i + 1) * self.width)
        } else {
            (self.start[i], self.start[i + 1])
        }
    }

    /// The value of entry `k`.
    #[inline]
    fn x(&self, k: usize) -> f64 {
        if self.val.is_empty() {
            1.0
        } else {
            self.val[k]
        }
    }

    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + Clone + '_ {
        let (a, b) = self.span(i);
        (a..b).map(move |k| (self.col[k] as usize, self.x(k)))
    }

    /// `x_i' v`.
    fn dot(&self, i: usize, v: &[f64]) -> f64 {
        self.row(i).map(|(j, x)| x * v[j]).sum()
    }

    fn nrows(&self) -> usize {
        self.n
    }

    /// `sum_i c_i x_i x_i'` (p × p).
    fn gram(&self, p: usize, c: impl Fn(usize) -> f64 + Sync) -> SymMatrix {
        let parts = by_blocks(self.nrows(), |rows| {
            let mut m = SymMatrix::zeros(p);
            for i in rows {
                let ci = c(i);
                if ci == 0.0 {
                    continue;
                }
                let (a, b) = self.span(i);
                for k in a..b {
                    let (jk, xk) = (self.col[k] as usize, self.x(k) * ci);
                    for l in a..b {
                        let jl = self.col[l] as usize;
                        if jl >= jk {
                            m.add(jk, jl, xk * self.x(l));
                        }
                    }
                }
            }
            m.a
        });
        let mut m = SymMatrix {
            p,
            a: sum_parts(parts, p * p),
        };
        m.symmetrize_from_upper();
        m
    }

    /// `sum_i c_i x_i` (p).
    fn weighted_sum(&self, p: usize, c: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
        let parts = by_blocks(self.nrows(), |rows| {
            let mut s = vec![0.0; p];
            for i in rows {
                let ci = c(i);
                if ci == 0.0 {
                    continue;
                }
                for (j, x) in self.row(i) {
                    s[j] += ci * x;
                }
            }
            s
        });
        sum_parts(parts, p)
    }
}

/// The distinct rows of X, where margins make them few: raking, and calibration to
/// categorical margins generally, give every row an intercept and one cell of each margin, so
/// a million rows hold only as many different rows as there are combinations of cells met.
/// A row's g depends on its auxiliaries alone, so the Newton steps can sum over the distinct
/// rows, each with the total weight of its rows, instead of over all the rows: the same sums,
/// grouped.
#[derive(Debug, Clone)]
struct Distinct {
    /// One row per combination, in order of first appearance.
    rows: Rows,
    /// Each row's combination.
    of_row: Vec<u32>,
}

impl Distinct {
    /// The distinct rows of `rows`, when every row has the same number of entries, all 1
    /// (raking's and post-stratification's X), and the combinations the columns allow are
    /// not many more than the rows (each row's combination is then found in a table);
    /// `None` otherwise.
    fn of(rows: &Rows) -> Option<Distinct> {
        let (n, width) = (rows.nrows(), rows.width);
        if !rows.start.is_empty() || !rows.val.is_empty() || n == 0 || width == 0 {
            return None;
        }
        // Each entry's position in a row takes columns from a range: a row's combination is
        // its columns as a number with one digit per position.
        let mut low = vec![u32::MAX; width];
        let mut high = vec![0u32; width];
        for entries in rows.col.chunks_exact(width) {
            for ((l, h), &c) in low.iter_mut().zip(high.iter_mut()).zip(entries) {
                *l = (*l).min(c);
                *h = (*h).max(c);
            }
        }
        let mut places = 1usize;
        let mut radix = Vec::with_capacity(width);
        for (l, h) in low.iter().zip(&high) {
            radix.push(places);
            places = places.checked_mul((h - l) as usize + 1)?;
        }
        if places > n.saturating_mul(4).max(1 << 16) {
            return None;
        }
        let mut id = vec![u32::MAX; places];
        let mut col = Vec::new();
        let mut of_row = Vec::with_capacity(n);
        for entries in rows.col.chunks_exact(width) {
            let key: usize = entries
                .iter()
                .zip(&low)
                .zip(&radix)
                .map(|((&c, &l), &r)| (c - l) as usize * r)
                .sum();
            if id[key] == u32::MAX {
                id[key] = (col.len() / width) as u32;
                col.extend_from_slice(entries);
            }
            of_row.push(id[key]);
        }
        let distinct = col.len() / width;
        Some(Distinct {
            rows: Rows {
                start: Vec::new(),
                width,
                n: distinct,
                col,
                val: Vec::new(),
                distinct: Default::default(),
            },
            of_row,
        })
    }

    /// The total of `w` over each combination's rows, in row order.
    fn totals(&self, w: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.rows.nrows()];
        for (&q, &wi) in self.of_row.iter().zip(w) {
            out[q as usize] += wi;
        }
        out
    }
}

/// Rows per block of the parallel sums. The blocks are fixed by the row count alone, so
/// results do not depend on the number of threads; a sample within one block is summed in
/// row order.
const BLOCK_ROWS: usize = 1 << 15;

/// `f` over consecutive blocks of `0..n`, in parallel, results in block order.
fn by_blocks<T: Send>(n: usize, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    if n <= BLOCK_ROWS {
        return vec![f(0..n)];
    }
    (0..n.div_ceil(BLOCK_ROWS))
        .into_par_iter()
        .map(|b| f(b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n)))
        .collect()
}

/// Element-wise sum of the blocks' vectors, in block order.
fn sum_parts(parts: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    let mut it = parts.into_iter();
    let mut total = it.next().unwrap_or_else(|| vec![0.0; len]);
    for part in it {
        total.iter_mut().zip(&part).for_each(|(t, x)| *t += x);
    }
    total
}

/// The result of [`calibrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// Calibrated weights `w_i = d_i g_i`.
    pub weights: Vec<f64>,
    /// g-weights `g_i`.
    pub g: Vec<f64>,
    /// Lagrange multipliers λ (R's `eta`); `u_i = x_i' λ`.
    pub lambda: Vec<f64>,
    /// Newton steps taken (0 for the closed form).
    pub iterations: usize,
    /// `max_j |misfit_j| / (1 + |T_j|)` at the returned weights.
    pub achieved: f64,
}

/// `F(u) = g - 1` and `F'(u)` of a method, as R's `calfun$Fm1` and `calfun$dF`.
fn calfun(method: Method, b: Bounds, u: f64) -> (f64, f64) {
    let (l, up) = (b.lower, b.upper);
    match method {
        Method::Linear => {
            let fm1 = (u + 1.0).max(l).min(up) - 1.0;
            let df = if u < up - 1.0 && u > l - 1.0 {
                1.0
            } else {
                0.0
            };
            (fm1, df)
        }
        Method::Raking => {
            let e = u.exp();
            let fm1 = e.max(l).min(up) - 1.0;
            let df = if u < up - 1.0 && u > l - 1.0 { e } else { 0.0 };
            (fm1, df)
        }
        Method::Logit => {
            let a = (up - l) / ((up - 1.0) * (1.0 - l));
            let e = (a * u).exp();
            if !e.is_finite() {
                // exp overflowed: g is at its upper bound, flat (R gives NaN here).
                return (up - 1.0, 0.0);
            }
            let den = up - 1.0 + (1.0 - l) * e;
            let num = l * (up - 1.0) + up * (1.0 - l) * e;
            let fm1 = num / den - 1.0;
            let df = up * (1.0 - l) * e * a / den - num * ((1.0 - l) * e * a) / (den * den);
            (fm1, df)
        }
    }
}

fn check_problem(d: &[f64], aux: &Auxiliaries) -> Result<(), CalibrationError> {
    if d.len() != aux.n {
        return Err(CalibrationError::Invalid(format!(
            "{} design weights for {} rows",
            d.len(),
            aux.n
        )));
    }
    if let Some(i) = d.iter().position(|v| !v.is_finite()) {
        return Err(CalibrationError::Invalid(format!(
            "row {}: the design weight is missing or infinite",
            i + 1
        )));
    }
    if aux.columns.is_empty() {
        return Err(CalibrationError::Invalid(
            "calibration needs at least one constraint".into(),
        ));
    }
    if let Some(j) = aux.totals.iter().position(|t| !t.is_finite()) {
        return Err(CalibrationError::Invalid(format!(
            "constraint `{}`: the population total is missing or infinite",
            aux.names[j]
        )));
    }
    Ok(())
}

/// Calibrates design weights `d` to the totals of `aux`, as R survey 4.1's
/// `calibrate(design, formula, population, calfun, bounds, epsilon, maxit)`.
///
/// - `Linear` without bounds: R's `regcalibrate` closed form, `g_i = 1 + x_i' λ` with
///   `λ = (sum d x x')⁻ (T - sum d x)` (a generalized inverse, so redundant constraints work
///   where R's `solve` would stop).
/// - otherwise R's `grake`: from λ = 0, Newton steps
///   `λ += ginv(sum d F'(x'λ) x x') (T - sum d x - sum d x F(x'λ))` (`MASS::ginv` with
///   tolerance [`GINV_TOL`]), halving a step while some g or F' is not finite, until
///   `max |misfit| / (1 + |T|) < epsilon`; after `maxit` steps the worst constraint is named
///   in [`CalibrationError::NotConverged`]. If every `T_j / sum d x_j > 20` the design
///   weights are first multiplied by the mean of those ratios (bounds then refer to the
///   rescaled weights), as R does.
///
/// Constraints whose column is zero for every row and whose total is 0 are dropped, as R does.
pub fn calibrate(
    d: &[f64],
    aux: &Auxiliaries,
    method: Method,
    bounds: Bounds,
    control: Control,
) -> Result<Calibrated, CalibrationError> {
    check_problem(d, aux)?;
    if method == Method::Logit && !(bounds.lower.is_finite() && bounds.upper.is_finite()) {
        return Err(CalibrationError::Invalid(
            "logit calibration needs finite bounds".into(),
        ));
    }
    if !(bounds.lower < 1.0 && bounds.upper > 1.0) {
        return Err(CalibrationError::Invalid(format!(
            "calibration bounds ({}, {}) must contain 1",
            bounds.lower, bounds.upper
        )));
    }
    let n = aux.n;
    let all_rows = aux.rows();
    let p_all = aux.ncols();
    // Drop all-zero columns with a zero total (R: `zz`); a zero column with a non-zero total
    // cannot be met.
    let mut nz_any = vec![false; p_all];
    for i in 0..n {
        for (j, _) in all_rows.row(i) {
            nz_any[j] = true;
        }
    }
    let keep: Vec<usize> = (0..p_all)
        .filter(|&j| nz_any[j] || aux.totals[j] != 0.0)
        .collect();
    if let Some(&j) = keep.iter().find(|&&j| !nz_any[j]) {
        return Err(CalibrationError::Invalid(format!(
            "constraint `{}` has no sample rows but a population total of {}",
            aux.names[j], aux.totals[j]
        )));
    }
    let (rows, names, totals) = if keep.len() == p_all {
        (all_rows, aux.names.clone(), aux.totals.clone())
    } else {
        let mut sub = Auxiliaries::new(n);
        for &j in &keep {
            sub.names.push(aux.names[j].clone());
            sub.totals.push(aux.totals[j]);
            sub.columns.push(aux.columns[j].clone());
        }
        (sub.rows(), sub.names, sub.totals)
    };
    let p = totals.len();
    let worst = |misfit: &[f64]| -> (usize, f64) {
        misfit
            .iter()
            .zip(&totals)
            .map(|(m, t)| m.abs() / (1.0 + t.abs()))
            .enumerate()
            .fold(
                (0, 0.0),
                |acc, (j, r)| if r > acc.1 || r.is_nan() { (j, r) } else { acc },
            )
    };

    if method == Method::Linear && bounds.is_unbounded() {
        let gram = rows.gram(p, |i| d[i]);
        let st = rows.weighted_sum(p, |i| d[i]);
        let rhs: Vec<f64> = totals.iter().zip(&st).map(|(t, s)| t - s).collect();
        let lambda = pinv_sym(&gram, GINV_TOL).mul_vec(&rhs);
        let g: Vec<f64> = (0..n).map(|i| 1.0 + rows.dot(i, &lambda)).collect();
        let weights: Vec<f64> = d.iter().zip(&g).map(|(d, g)| d * g).collect();
        let got = rows.weighted_sum(p, |i| weights[i]);
        let misfit: Vec<f64> = totals.iter().zip(&got).map(|(t, s)| t - s).collect();
        let (j, achieved) = worst(&misfit);
        // The closed form is exact unless the totals are inconsistent with X.
        let met = achieved < control.epsilon.max(1e-7);
        if !met {
            return Err(CalibrationError::NotConverged {
                constraint: names[j].clone(),
                total: totals[j],
                misfit: misfit[j],
                relative: achieved,
                iterations: 0,
            });
        }
        return Ok(Calibrated {
            weights,
            g,
            lambda: expand(&lambda, &keep, p_all),
            iterations: 0,
            achieved,
        });
    }

    // Newton's sums over the distinct rows of X where they are few ([`Distinct`]), each with
    // its rows' total weight `ww`; else over the rows.
    let distinct = rows.distinct();
    let (x, mut ww) = match distinct {
        Some(dist) => (&dist.rows, dist.totals(d)),
        None => (&*rows, d.to_vec()),
    };
    let mut sample_total = x.weighted_sum(p, |i| ww[i]);
    let scales: Vec<f64> = totals
        .iter()
        .zip(&sample_total)
        .map(|(t, s)| t / s)
        .collect();
    let rescale = if scales.iter().all(|&s| s > 20.0) {
        let s = scales.iter().sum::<f64>() / p as f64;
        ww.iter_mut().for_each(|w| *w *= s);
        sample_total.iter_mut().for_each(|t| *t *= s);
        Some(s)
    } else {
        None
    };
    let eval = |lambda: &[f64]| -> (Vec<f64>, Vec<f64>) {
        (0..x.nrows())
            .into_par_iter()
            .with_min_len(BLOCK_ROWS)
            .map(|i| calfun(method, bounds, x.dot(i, lambda)))
            .unzip()
    };
    let misfit_of = |fm1: &[f64]| -> Vec<f64> {
        let s = x.weighted_sum(p, |i| ww[i] * fm1[i]);
        (0..p).map(|j| totals[j] - sample_total[j] - s[j]).collect()
    };
    let finite = |a: &[f64], b: &[f64]| a.iter().chain(b).all(|v| v.is_finite());

    let mut lambda = vec![0.0; p];
    let (mut fm1, mut df) = eval(&lambda);
    let mut iter = 1usize;
    let (fm1, achieved) = loop {
        let tmat = x.gram(p, |i| ww[i] * df[i]);
        let misfit = misfit_of(&fm1);
        // Pivoted Cholesky for speed; the generalized inverse when that fails. Both give the
        // same step in fitted values for the consistent systems calibration solves.
        let mut step = solve_psd(&tmat, &misfit, CHOLESKY_TOL)
            .unwrap_or_else(|| pinv_sym(&tmat, GINV_TOL).mul_vec(&misfit));
        lambda.iter_mut().zip(&step).for_each(|(l, s)| *l += s);
        (fm1, df) = eval(&lambda);
        while iter < control.maxit && !finite(&fm1, &df) {
            iter += 1;
            step.iter_mut().for_each(|s| *s /= 2.0);
            lambda.iter_mut().zip(&step).for_each(|(l, s)| *l -= s);
            (fm1, df) = eval(&lambda);
        }
        let misfit = misfit_of(&fm1);
        let (j, achieved) = worst(&misfit);
        if misfit
            .iter()
            .zip(&totals)
            .all(|(m, t)| m.abs() / (1.0 + t.abs()) < control.epsilon)
        {
            break (fm1, achieved);
        }
        iter += 1;
        if iter > control.maxit {
            return Err(CalibrationError::NotConverged {
                constraint: names[j].clone(),
                total: totals[j],
                misfit: misfit[j],
                relative: achieved,
                iterations: iter - 1,
            });
        }
    };
    let mut g: Vec<f64> = match distinct {
        Some(dist) => dist.of_row.iter().map(|&q| 1.0 + fm1[q as usize]).collect(),
        None => fm1.iter().map(|f| 1.0 + f).collect(),
    };
    if let Some(s) = rescale {
        g.iter_mut().for_each(|g| *g *= s);
    }
    let weights = d.iter().zip(&g).map(|(d, g)| d * g).collect();
    Ok(Calibrated {
        weights,
        g,
        lambda: expand(&lambda, &keep, p_all),
        iterations: iter,
        achieved,
    })
}

/// λ over the kept constraints, put back in the positions of all constraints (0 for dropped).
fn expand(lambda: &[f64], keep: &[usize], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p];
    for (&j, &l) in keep.iter().zip(lambda) {
        out[j] = l;
    }
    out
}

/// The calibration-aware variance residuals of one calibration, prepared once and applied to
/// the scores of every estimate, as R's `svyrecvar` does for a `greg_calibration`
/// (`qr.resid(qr(X √d), z / (g √d)) · g √d`): with `u_i = z_i / w_i`,
/// `b = (sum d x x')⁻ sum d x u` (regression on X weighted by the *design* weights d) and
/// `z'_i = w_i (u_i - x_i' b)` = `z_i - w_i x_i' b`.
///
/// The generalized inverse of the Gram matrix is computed once here; each estimate then costs
/// one pass over its rows for `sum d x u` and one over all rows for the residuals.
#[derive(Debug, Clone)]
pub struct GregFit {
    rows: std::sync::Arc<Rows>,
    ginv: SymMatrix,
    /// `d_i / w_i` (0 where `w_i = 0`: such rows keep their score).
    d_over_w: Vec<f64>,
    w: Vec<f64>,
}

impl GregFit {
    /// Prepares the residuals of a calibration of design weights `d` to final weights `w`.
    pub fn new(d: &[f64], w: &[f64], aux: &Auxiliaries) -> Result<GregFit, CalibrationError> {
        check_problem(d, aux)?;
        if w.len() != aux.n {
            return Err(CalibrationError::Invalid(format!(
                "{} weights for {} rows",
                w.len(),
                aux.n
            )));
        }
        let p = aux.ncols();
        let rows = aux.rows();
        let ginv = pinv_sym(&rows.gram(p, |i| d[i]), GINV_TOL);
        let d_over_w = d
            .iter()
            .zip(w)
            .map(|(&d, &w)| if w == 0.0 || d == 0.0 { 0.0 } else { d / w })
            .collect();
        Ok(GregFit {
            rows,
            ginv,
            d_over_w,
            w: w.to_vec(),
        })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.w.len()
    }

    /// Number of auxiliary variables.
    pub fn ncols(&self) -> usize {
        self.ginv.p
    }

    /// The nonzero entries `(j, w_i x_ij)` of row `i` (none where `w_i = 0`): a residual is
    /// `z_i - (w_i x_i)' b`.
    pub fn weighted_row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + Clone + '_ {
        let wi = self.w[i];
        self.rows
            .row(i)
            .filter(move |_| wi != 0.0)
            .map(move |(j, x)| (j, wi * x))
    }

    /// The regression coefficients `b = (sum d x x')^- sum_idx x z d / w` of the scores `z`
    /// of the rows `idx`.
    pub fn coefficients(&self, idx: &[u32], z: &[f64]) -> Vec<f64> {
        self.coefficients_of_many(idx, &[z][..])
    }

    /// [`GregFit::coefficients`] of K score vectors at once (`z[c]` aligned with `idx`), as
    /// the p × K matrix `B` (row-major: `b[j * K + c]`): one pass over the rows and their
    /// auxiliaries for all K, each vector summed in the same order as alone.
    pub fn coefficients_of_many<S: Scores + ?Sized>(&self, idx: &[u32], z: &S) -> Vec<f64> {
        let k = z.count();
        let mut xu = vec![0.0; self.ginv.p * k];
        for (at, &i) in idx.iter().enumerate() {
            z.each(at, |c, zc| self.add_moment(i as usize, c, zc, k, &mut xu));
        }
        self.solve_moments(&xu, k)
    }

    /// Adds row `i`'s score `z` of vector `c` (of `k`) to the moments `xu` (p × k) that
    /// [`GregFit::solve_moments`] turns into coefficients: `xu[j, c] += x_ij z d_i / w_i`.
    #[inline]
    pub fn add_moment(&self, i: usize, c: usize, z: f64, k: usize, xu: &mut [f64]) {
        let cc = z * self.d_over_w[i];
        if cc != 0.0 {
            for (j, x) in self.rows.row(i) {
                xu[j * k + c] += cc * x;
            }
        }
    }

    /// The coefficients `B = G⁻ XU` (p × k, row-major) of the moments `xu` (p × k), each entry
    /// summed over j in order (as `mul_vec`).
    pub fn solve_moments(&self, xu: &[f64], k: usize) -> Vec<f64> {
        let p = self.ginv.p;
        let g = &self.ginv.a;
        let mut b = vec![0.0; p * k];
        for i in 0..p {
            for c in 0..k {
                b[i * k + c] = (0..p).map(|j| g[i * p + j] * xu[j * k + c]).sum();
            }
        }
        b
    }

    /// Residual scores of all rows for the scores `z` of the rows `idx` (every other row
    /// scores 0), written into `out` (resized to the number of rows).
    pub fn residuals(&self, idx: &[u32], z: &[f64], out: &mut Vec<f64>) {
        let b = self.coefficients(idx, z);
        out.clear();
        out.extend(self.w.iter().enumerate().map(|(i, &wi)| {
            if wi == 0.0 {
                0.0
            } else {
                -wi * self.rows.dot(i, &b)
            }
        }));
        for (&i, &zi) in idx.iter().zip(z) {
            out[i as usize] += zi;
        }
    }
}

/// Calibration-aware variance scores after [`calibrate`] (any method), for scores of every
/// row: [`GregFit::residuals`].
///
/// `z` are the estimator's linearised scores computed with the calibrated weights `w` (they
/// include the weight, e.g. `w_i y_i` for a total); pass the result to
/// [`crate::design::Design::variance`]. Rows with `w_i = 0` keep their score.
pub fn greg_residuals(
    d: &[f64],
    w: &[f64],
    aux: &Auxiliaries,
    z: &[f64],
) -> Result<Vec<f64>, CalibrationError> {
    if z.len() != aux.n {
        return Err(CalibrationError::Invalid(format!(
            "{} scores for {} rows",
            z.len(),
            aux.n
        )));
    }
    let fit = GregFit::new(d, w, aux)?;
    let idx: Vec<u32> = (0..aux.n as u32).collect();
    let mut out = Vec::new();
    fit.residuals(&idx, z, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Newton's steps over the distinct rows of X give the weights that steps over every row
    /// give: the same problem with the intercept written as a column of 2s (values not all 1,
    /// so summed row by row) calibrates to the same g.
    #[test]
    fn newton_over_distinct_rows_gives_the_weights_of_newton_over_rows() {
        let n = 600;
        let a: Vec<u32> = (0..n).map(|i| (i * 7 % 5) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i * 3 % 4) as u32).collect();
        let d: Vec<f64> = (0..n).map(|i| 1.0 + (i % 13) as f64 / 4.0).collect();
        let cells_a: Vec<(String, f64)> = [250.0, 350.0, 300.0, 325.0, 275.0]
            .iter()
            .enumerate()
            .map(|(c, &t)| (format!("a{c}"), t))
            .collect();
        let cells_b: Vec<(String, f64)> = [450.0, 400.0, 350.0, 300.0]
            .iter()
            .enumerate()
            .map(|(c, &t)| (format!("b{c}"), t))
            .collect();
        let population = 1500.0;
        let problem = |twos: bool| {
            let mut aux = Auxiliaries::new(n);
            if twos {
                aux.push_numeric("n", vec![2.0; n], 2.0 * population)
                    .unwrap();
            } else {
                aux.push_intercept("n", population);
            }
            aux.push_margin(&a, &cells_a).unwrap();
            aux.push_margin(&b, &cells_b).unwrap();
            aux
        };
        let (grouped, by_row) = (problem(false), problem(true));
        let dist = Distinct::of(&grouped.rows()).expect("cells of margins are grouped");
        assert_eq!(dist.rows.nrows(), 20);
        assert_eq!(dist.totals(&d).iter().sum::<f64>(), d.iter().sum::<f64>());
        assert!(Distinct::of(&by_row.rows()).is_none());
        for (method, bounds) in [
            (Method::Raking, Bounds::NONE),
            (
                Method::Raking,
                Bounds {
                    lower: 0.5,
                    upper: 2.0,
                },
            ),
            (
                Method::Logit,
                Bounds {
                    lower: 0.4,
                    upper: 3.0,
                },
            ),
            (
                Method::Linear,
                Bounds {
                    lower: 0.3,
                    upper: 4.0,
                },
            ),
        ] {
            let one = calibrate(&d, &grouped, method, bounds, Control::default()).unwrap();
            let two = calibrate(&d, &by_row, method, bounds, Control::default()).unwrap();
            for (x, y) in one.g.iter().zip(&two.g) {
                assert!((x - y).abs() < 1e-12, "{method:?}: {x} against {y}");
            }
            assert_eq!(one.iterations, two.iterations, "{method:?}");
        }
    }

    /// X's rows read back as built, whether stored with row starts and values (a numeric
    /// column, a row outside a margin) or as fixed-width cells of 1.
    #[test]
    fn rows_read_back_in_every_storage() {
        let n = 5;
        let entries = |aux: &Auxiliaries| -> Vec<Vec<(usize, f64)>> {
            let rows = aux.rows();
            (0..n).map(|i| rows.row(i).collect()).collect()
        };
        // Intercept and one margin that holds every row: fixed width, all ones.
        let mut aux = Auxiliaries::new(n);
        aux.push_intercept("n", 10.0);
        aux.push_margin(&[0, 1, 0, 1, 1], &[("a".into(), 4.0), ("b".into(), 6.0)])
            .unwrap();
        let rows = aux.rows();
        assert!(rows.start.is_empty() && rows.val.is_empty());
        assert_eq!(entries(&aux)[1], vec![(0, 1.0), (2, 1.0)]);
        assert_eq!(entries(&aux)[2], vec![(0, 1.0), (1, 1.0)]);
        // A row outside the margin: starts kept, values still all ones.
        let mut aux = Auxiliaries::new(n);
        aux.push_intercept("n", 10.0);
        aux.push_margin(
            &[0, u32::MAX, 0, 1, 1],
            &[("a".into(), 4.0), ("b".into(), 6.0)],
        )
        .unwrap();
        let rows = aux.rows();
        assert!(!rows.start.is_empty() && rows.val.is_empty());
        assert_eq!(entries(&aux)[1], vec![(0, 1.0)]);
        assert_eq!(entries(&aux)[4], vec![(0, 1.0), (2, 1.0)]);
        // A numeric column: values kept.
        aux.push_numeric("x", vec![2.5, 0.0, 1.0, -3.0, 4.0], 7.0)
            .unwrap();
        let rows = aux.rows();
        assert!(!rows.val.is_empty());
        assert_eq!(entries(&aux)[1], vec![(0, 1.0)]);
        assert_eq!(entries(&aux)[3], vec![(0, 1.0), (2, 1.0), (3, -3.0)]);
        assert_eq!(rows.nrows(), n);
        // The Gram matrix sees the same entries: Σ x x' of row 3 alone.
        let g = rows.gram(4, |i| if i == 3 { 1.0 } else { 0.0 });
        assert_eq!(g.a[3 * 4 + 3], 9.0);
        assert_eq!(g.a[2 * 4 + 3], -3.0);
    }
}
