//! Calibration-aware linearisation variances from unit sums, for a design calibrated once by
//! a GREG-type method (linear, raking, logit: R's `calibrate` and `rake`; not
//! post-stratification, not standardised afterwards).
//!
//! After such a calibration the variance is that of the residuals `e_i = z_i - a_i'b`, with
//! `a_i = w_i x_i` and `b` the regression of the scores on the auxiliaries
//! ([`GregFit::coefficients`]). The residuals are non-zero on every row, so the row path of
//! [`Design::variance`] passes over all rows for every estimate, however small its domain:
//! a run's estimates per area and its gaps inside every area cost rows × estimates. Here a
//! unit's total is `t_u = Z_u - A_u'b` (`Z_u` the unit's sum of the estimate's scores, `A_u`
//! its sum of `a_i`), and each parent's term `c Σ_u (t_u - t̄)(t_u - t̄)'` of the variance
//! expands into parts over the units the estimate touches, and a quadratic form `B' Q B` whose
//! p × p matrix `Q = Σ_parents c (Σ_u A_u A_u' - A A'/n)` is made once per design. A variance
//! then costs its own rows, their units and p² — the same numbers as the row path up to
//! rounding (a test holds them to 1e-9). The rows are visited once: each row adds to the
//! moments of `b`, to its units' totals, and, at a stage whose units are the rows, its parts
//! directly; scores come row by row ([`Scores`]), so a row costs its non-zero scores.
//!
//! Designs this does not cover keep the row path: a lone unit in a parent under `adjust`,
//! `average` or `fail`, and fpc that differ between the units of one parent.

use super::{Design, LonelyPsu, Scores};
use crate::weighting::calibrate::GregFit;

/// Rows of sparse p-vectors.
#[derive(Debug, Clone, Default)]
struct Csr {
    start: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f64>,
}

impl Csr {
    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + Clone + '_ {
        let (a, b) = (self.start[i], self.start[i + 1]);
        self.col[a..b]
            .iter()
            .zip(&self.val[a..b])
            .map(|(&j, &v)| (j as usize, v))
    }

    /// Sums of the sparse rows `item(m)` by group `group(m)` (`groups` groups), in one pass.
    fn sums<'a, I>(groups: usize, members: &[Vec<u32>], p: usize, item: impl Fn(u32) -> I) -> Csr
    where
        I: Iterator<Item = (usize, f64)> + 'a,
    {
        let mut out = Csr {
            start: Vec::with_capacity(groups + 1),
            ..Default::default()
        };
        let mut dense = vec![0.0; p];
        let mut touched: Vec<usize> = Vec::new();
        out.start.push(0);
        for m in members.iter().take(groups) {
            for &x in m {
                for (j, v) in item(x) {
                    if dense[j] == 0.0 && !touched.contains(&j) {
                        touched.push(j);
                    }
                    dense[j] += v;
                }
            }
            touched.sort_unstable();
            for &j in &touched {
                out.col.push(j as u32);
                out.val.push(dense[j]);
                dense[j] = 0.0;
            }
            touched.clear();
            out.start.push(out.col.len());
        }
        out
    }
}

/// One stage's unit and parent sums.
#[derive(Debug, Clone)]
struct StageSums {
    /// `A_u` of each unit (empty when the units are the rows: [`GregFit::weighted_row`]).
    units: Csr,
    /// `Σ_u A_u` of each parent.
    parents: Csr,
    /// Each parent's factor: the sampling fractions above it × its fpc × n/(n - 1); 0 for a
    /// parent that adds nothing (a census, or a lone unit under `certainty`/`remove`).
    c: Vec<f64>,
    /// Units of each parent.
    n: Vec<f64>,
}

/// A calibrated design's unit sums, made once ([`crate::weighting::calibrated::Residuals`]).
#[derive(Debug, Clone)]
pub struct Aggregates {
    p: usize,
    /// `Q` (p × p, row-major).
    q: Vec<f64>,
    stages: Vec<StageSums>,
}

impl Aggregates {
    /// The sums of `design` for the fit `g`, or `None` when the design needs the row path.
    pub fn new(design: &Design, g: &GregFit) -> Option<Aggregates> {
        if design.replicates.is_some() {
            return None;
        }
        let p = g.ncols();
        let last = if design.multistage {
            design.stages.len()
        } else {
            1
        };
        let mut q = vec![0.0; p * p];
        let mut stages = Vec::with_capacity(last);
        // The product of the sampling fractions above each unit (1 above stage 1's strata).
        let mut above: Vec<f64> = vec![1.0; design.stages[0].children.len()];
        for (s, stage) in design.stages.iter().take(last).enumerate() {
            let units = stage.unit_parent.len();
            // The rows of each unit, then each unit's A_u and each parent's sum.
            let mut rows: Vec<Vec<u32>> = vec![Vec::new(); units];
            for (i, &u) in stage.row_unit.iter().enumerate() {
                rows[u as usize].push(i as u32);
            }
            let unit_sums = Csr::sums(units, &rows, p, |i| g.weighted_row(i as usize));
            drop(rows);
            let parents = stage.children.len();
            let parent_sums = Csr::sums(parents, &stage.children, p, |u| unit_sums.row(u as usize));
            let mut c = vec![0.0; parents];
            let mut n = vec![0.0; parents];
            for (h, kids) in stage.children.iter().enumerate() {
                n[h] = kids.len() as f64;
                let f: Vec<f64> = kids.iter().map(|&u| stage.unit_f[u as usize]).collect();
                if f.iter().all(|&f| f < 1e-7) {
                    continue;
                }
                if kids.len() == 1 {
                    match design.lonely_psu {
                        LonelyPsu::Certainty | LonelyPsu::Remove => continue,
                        _ => return None,
                    }
                }
                if f.iter()
                    .any(|&x| (x - f[0]).abs() > 1e-12 * f[0].abs().max(1.0))
                {
                    return None;
                }
                let factor = if s == 0 { 1.0 } else { above[h] };
                c[h] = factor * f[0] * n[h] / (n[h] - 1.0);
            }
            // Q += Σ_parents c (Σ_u A_u A_u' - A A' / n).
            for (h, kids) in stage.children.iter().enumerate() {
                if c[h] == 0.0 {
                    continue;
                }
                for &u in kids {
                    outer(&mut q, p, c[h], unit_sums.row(u as usize));
                }
                outer(&mut q, p, -c[h] / n[h], parent_sums.row(h));
            }
            // The fractions above the next stage's parents (this stage's units), as the row
            // path multiplies them.
            above = (0..units)
                .map(|u| {
                    let parent = stage.unit_parent[u] as usize;
                    let up = if s == 0 { 1.0 } else { above[parent] };
                    up * stage.unit_fraction[u]
                })
                .collect();
            stages.push(StageSums {
                // A stage whose units are the rows reads each unit's A_u from its row.
                units: if is_row_stage(design, stage) {
                    Csr::default()
                } else {
                    unit_sums
                },
                parents: parent_sums,
                c,
                n,
            });
        }
        Some(Aggregates { p, q, stages })
    }

    /// The K × K covariance (row-major) of the calibration residuals of K score vectors
    /// `z[k]`, aligned with `rows` (every other row scores 0): what the row path gives for
    /// the residuals of every row.
    pub fn covariance<S: Scores + ?Sized>(
        &self,
        design: &Design,
        g: &GregFit,
        rows: &[u32],
        z: &S,
    ) -> Vec<f64> {
        self.parts(design, g, rows, z, true)
    }

    /// The K variances of [`Aggregates::covariance`] alone (its diagonal), for score vectors
    /// whose covariances nobody needs: every domain of a breakdown at once, each row scoring
    /// for its own domain. The pass is the same; what follows it costs O(K p²), not O(K² p).
    pub fn variances<S: Scores + ?Sized>(
        &self,
        design: &Design,
        g: &GregFit,
        rows: &[u32],
        z: &S,
    ) -> Vec<f64> {
        self.parts(design, g, rows, z, false)
    }

    /// The covariance (`full`: K × K, row-major) or the variances (K) of the residuals.
    fn parts<S: Scores + ?Sized>(
        &self,
        design: &Design,
        g: &GregFit,
        rows: &[u32],
        z: &S,
        full: bool,
    ) -> Vec<f64> {
        let (k, p) = (z.count(), self.p);
        // The parts over the touched units: `Σ c Z Z'` into `v` and `Σ c Z A'` into `m`,
        // and the moments of `B`, from one pass over the rows.
        let mut parts = Parts {
            k,
            p,
            full,
            v: vec![0.0; if full { k * k } else { k }],
            m: vec![0.0; k * p],
        };
        let mut xu = vec![0.0; p * k];
        TOUCHED.with(|t| {
            let scratch = &mut *t.borrow_mut();
            self.unit_parts(design, g, rows, z, &mut parts, &mut xu, scratch);
        });
        let Parts { mut v, m, .. } = parts;
        // B (p × k, row-major).
        let b = g.solve_moments(&xu, k);
        // + B' Q B.
        let mut qb = vec![0.0; p * k];
        for i in 0..p {
            for j in 0..p {
                let qij = self.q[i * p + j];
                if qij != 0.0 {
                    for c in 0..k {
                        qb[i * k + c] += qij * b[j * k + c];
                    }
                }
            }
        }
        for i in 0..p {
            for a in 0..k {
                let bia = b[i * k + a];
                if bia == 0.0 {
                    continue;
                }
                if full {
                    for c in 0..k {
                        v[a * k + c] += bia * qb[i * k + c];
                    }
                } else {
                    v[a] += bia * qb[i * k + a];
                }
            }
        }
        // − M B − (M B)': the cross terms meet B once, at the end.
        let mb = |a: usize, c: usize| -> f64 { (0..p).map(|j| m[a * p + j] * b[j * k + c]).sum() };
        if full {
            for a in 0..k {
                for c in 0..k {
                    let x = mb(a, c);
                    v[a * k + c] -= x;
                    v[c * k + a] -= x;
                }
            }
        } else {
            for (a, x) in v.iter_mut().enumerate() {
                *x -= 2.0 * mb(a, a);
            }
        }
        v
    }

    /// One pass over the rows, then over the touched units and parents: the moments of `B`
    /// into `xu`, and the parts of every stage, `Σ c Z Z'` into `v` and `Σ c Z A'` into `m`.
    /// A stage whose units are the rows (the respondents of a last stage) takes its parts
    /// in the pass, from the row's non-zero scores; the other stages gather their units'
    /// totals in slots.
    #[allow(clippy::too_many_arguments)]
    fn unit_parts<S: Scores + ?Sized>(
        &self,
        design: &Design,
        g: &GregFit,
        rows: &[u32],
        z: &S,
        parts: &mut Parts,
        xu: &mut [f64],
        scratch: &mut Vec<(Touched, Touched)>,
    ) {
        let k = z.count();
        let stages = &design.stages[..self.stages.len()];
        if scratch.len() < stages.len() {
            scratch.resize_with(stages.len(), Default::default);
        }
        // A later stage's parents are the units of the stage above (the design numbers them
        // so), whose totals that stage gathers already: only the first stage's parents (the
        // strata) keep totals of their own.
        for (s, (st, (units, parents))) in stages.iter().zip(scratch.iter_mut()).enumerate() {
            if s == 0 {
                parents.reset(st.children.len(), k);
            }
            if !is_row_stage(design, st) {
                units.reset(st.unit_parent.len(), k);
            }
        }
        let mut nz: Vec<(usize, f64)> = Vec::with_capacity(k);
        for (j, &i) in rows.iter().enumerate() {
            nz.clear();
            z.each(j, |c, x| nz.push((c, x)));
            if nz.is_empty() {
                continue;
            }
            let i = i as usize;
            for &(c, x) in &nz {
                g.add_moment(i, c, x, k, xu);
            }
            for (s, ((st, sums), (units, parents))) in stages
                .iter()
                .zip(&self.stages)
                .zip(scratch.iter_mut())
                .enumerate()
            {
                let u = st.row_unit[i];
                if is_row_stage(design, st) {
                    let h = st.unit_parent[u as usize];
                    if s == 0 {
                        let at = parents.slot(h);
                        for &(c, x) in &nz {
                            parents.values[at + c] += x;
                        }
                    }
                    let c = sums.c[h as usize];
                    if c != 0.0 {
                        // The unit's A_u is the row's w_i x_i.
                        parts.add_sparse(c, &nz, g.weighted_row(i));
                    }
                } else {
                    let at = units.slot(u);
                    for &(c, x) in &nz {
                        units.values[at + c] += x;
                    }
                }
            }
        }
        for (s, (st, sums)) in stages.iter().zip(&self.stages).enumerate() {
            let (above, here) = scratch.split_at_mut(s);
            let (units, parents) = &mut here[0];
            if !is_row_stage(design, st) {
                for (t, &u) in units.order.iter().enumerate() {
                    let zu = &units.values[t * k..(t + 1) * k];
                    let h = st.unit_parent[u as usize];
                    if s == 0 {
                        let at = parents.slot(h);
                        for (x, y) in parents.values[at..at + k].iter_mut().zip(zu) {
                            *x += y;
                        }
                    }
                    let c = sums.c[h as usize];
                    if c != 0.0 {
                        parts.add(c, zu, sums.units.row(u as usize));
                    }
                }
            }
            let totals: &Touched = match above.last() {
                Some((units_above, _)) => units_above,
                None => parents,
            };
            for (t, &h) in totals.order.iter().enumerate() {
                let c = sums.c[h as usize];
                if c != 0.0 {
                    let zh = &totals.values[t * k..(t + 1) * k];
                    let c = -c / sums.n[h as usize];
                    parts.add(c, zh, sums.parents.row(h as usize));
                }
            }
        }
    }
}

/// Whether the units of `stage` are the rows: the respondents of a last stage.
fn is_row_stage(design: &Design, stage: &super::Stage) -> bool {
    stage.unit_parent.len() == design.n
}

thread_local! {
    /// The slots of each stage's touched units and parents, kept between estimates: only
    /// the slots an estimate touched are cleared after it, so a small domain costs its own
    /// rows.
    static TOUCHED: std::cell::RefCell<Vec<(Touched, Touched)>> = Default::default();
}

/// The touched units (or parents) of one estimate and their k-vectors of score totals, in
/// the order first met: a dense slot per unit, so no sorting and no hashing.
#[derive(Default)]
struct Touched {
    slot: Vec<u32>,
    order: Vec<u32>,
    values: Vec<f64>,
    k: usize,
}

impl Touched {
    fn reset(&mut self, units: usize, k: usize) {
        for &u in &self.order {
            if let Some(s) = self.slot.get_mut(u as usize) {
                *s = u32::MAX;
            }
        }
        self.slot.resize(units, u32::MAX);
        self.order.clear();
        self.values.clear();
        self.k = k;
    }

    /// Where unit `u`'s values start, adding it when first met.
    fn slot(&mut self, u: u32) -> usize {
        let s = &mut self.slot[u as usize];
        if *s == u32::MAX {
            *s = self.order.len() as u32;
            self.order.push(u);
            self.values.extend(std::iter::repeat_n(0.0, self.k));
        }
        *s as usize * self.k
    }
}

/// `m += c x x'` for a sparse p-vector `x`.
fn outer(m: &mut [f64], p: usize, c: f64, x: impl Iterator<Item = (usize, f64)> + Clone) {
    for (i, xi) in x.clone() {
        for (j, xj) in x.clone() {
            m[i * p + j] += c * xi * xj;
        }
    }
}

/// The parts of a covariance that the pass gathers: `v = Σ c Z Z'` (k × k, or its diagonal
/// alone when not `full`) and `m = Σ c Z A'` (k × p).
struct Parts {
    k: usize,
    p: usize,
    full: bool,
    v: Vec<f64>,
    m: Vec<f64>,
}

impl Parts {
    /// Adds a unit's `c Z Z'` and `c Z A'` for a k-vector `Z` and a sparse p-vector `A`. A
    /// unit's scores are often non-zero for one of k groups only: O(k + nnz(A)) per non-zero
    /// of `Z` (O(nnz(A)) for the diagonal alone).
    fn add(&mut self, c: f64, z: &[f64], a: impl Iterator<Item = (usize, f64)> + Clone) {
        let (k, p) = (self.k, self.p);
        for (r, &zr) in z.iter().enumerate() {
            if zr == 0.0 {
                continue;
            }
            let czr = c * zr;
            if self.full {
                for (x, zs) in self.v[r * k..(r + 1) * k].iter_mut().zip(z) {
                    *x += czr * zs;
                }
            } else {
                self.v[r] += czr * zr;
            }
            for (j, aj) in a.clone() {
                self.m[r * p + j] += czr * aj;
            }
        }
    }

    /// [`Parts::add`] for a `Z` given by its non-zero entries (each index once): O(nnz(Z)² +
    /// nnz(Z) nnz(A)), the cost of a respondent's row among many vectors.
    fn add_sparse(
        &mut self,
        c: f64,
        z: &[(usize, f64)],
        a: impl Iterator<Item = (usize, f64)> + Clone,
    ) {
        let (k, p) = (self.k, self.p);
        for &(r, zr) in z {
            let czr = c * zr;
            if self.full {
                for &(s, zs) in z {
                    self.v[r * k + s] += czr * zs;
                }
            } else {
                self.v[r] += czr * zr;
            }
            for (j, aj) in a.clone() {
                self.m[r * p + j] += czr * aj;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::design::{options, Design, DesignFlags, DesignSpec};
    use std::path::Path;

    /// The bundled responses with the instrument's derived variables.
    fn responses() -> crate::table::Table {
        crate::instrument::bundled().1
    }

    fn design(table: &crate::table::Table, text: &str) -> Design {
        let dir = tempfile::tempdir().unwrap();
        let margins =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service-equality/margins");
        let path = dir.path().join("design.toml");
        std::fs::write(
            &path,
            text.replace("MARGINS", &margins.display().to_string()),
        )
        .unwrap();
        let spec = DesignSpec::load(&path).unwrap();
        let o = options::resolve(Some(spec), DesignFlags::default()).unwrap();
        Design::build_calibrated(table, &o).unwrap().0
    }

    #[test]
    fn unit_sums_give_the_row_path_variances() {
        let mut table = responses();
        // The number of areas in the population, for a first stage of areas.
        let areas = crate::table::Column::num("area_count", vec![60.0; table.nrows()]);
        table.push(areas).unwrap();
        let raking = "calibrate = \"raking\"\nmargin = [\"MARGINS/area.csv\", \"MARGINS/origin_gender.csv\", \"MARGINS/age_group.csv\"]\n";
        let designs = [
            // Two stages with fpc (offices, then job seekers), as the bundled example.
            "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\", \"id\"]\nfpc = [\"office_count\", \"office_size\"]\n",
            // Ultimate clusters (offices).
            "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\n",
            // Every respondent a unit, stratified.
            "weight = \"design_weight\"\nstrata = \"area\"\n",
            // Linear calibration without strata.
            "weight = \"design_weight\"\ncluster = [\"office\"]\n",
            // Three stages with fpc (areas, offices, job seekers): the second stage's parents
            // are the first stage's units, and neither is the rows.
            "weight = \"design_weight\"\ncluster = [\"area\", \"office\", \"id\"]\nfpc = [\"area_count\", \"office_count\", \"office_size\"]\n",
        ];
        let n = table.nrows();
        let area = table.column("area").unwrap().as_num().unwrap().to_vec();
        let age = table.column("age").unwrap().as_num().unwrap().to_vec();
        for (d, text) in designs.iter().enumerate() {
            let method = if d == 3 {
                raking.replace("raking", "linear")
            } else {
                raking.to_string()
            };
            let design = design(&table, &format!("{text}{method}"));
            let cal = design.calibration.as_ref().expect("calibrated");
            let (g, sums) = (cal.single_greg().unwrap(), cal.aggregates(&design).unwrap());
            // Domains: everyone, one area, a scattered subset; scores of a mean of age.
            let domains: Vec<Vec<u32>> = vec![
                (0..n as u32).collect(),
                (0..n as u32).filter(|&i| area[i as usize] == 4.0).collect(),
                (0..n as u32).filter(|&i| i % 7 == 3).collect(),
            ];
            for rows in &domains {
                let w: f64 = rows.iter().map(|&i| design.weights[i as usize]).sum();
                let mean: f64 = rows
                    .iter()
                    .map(|&i| design.weights[i as usize] * age[i as usize])
                    .sum::<f64>()
                    / w;
                let z1: Vec<f64> = rows
                    .iter()
                    .map(|&i| design.weights[i as usize] * (age[i as usize] - mean) / w)
                    .collect();
                let z2: Vec<f64> = rows
                    .iter()
                    .map(|&i| design.weights[i as usize] * f64::from(age[i as usize] > 40.0))
                    .collect();
                // The coefficients of both score vectors in one pass are each one's alone,
                // to the bit.
                let both = g.coefficients_of_many(rows, &[&z1[..], &z2[..]][..]);
                for (c, z) in [&z1, &z2].into_iter().enumerate() {
                    let alone = g.coefficients(rows, z);
                    assert!(alone.iter().enumerate().all(|(j, &b)| both[j * 2 + c] == b));
                }
                let fast = sums.covariance(&design, g, rows, &[&z1[..], &z2[..]][..]);
                // The variances alone are the covariance's diagonal.
                let diagonal = sums.variances(&design, g, rows, &[&z1[..], &z2[..]][..]);
                for (c, v) in diagonal.iter().enumerate() {
                    let full = fast[c * 2 + c];
                    assert!((v - full).abs() <= 1e-12 * full.abs(), "{v} vs {full}");
                }
                let slow = design
                    .residual_covariance_by_rows(rows, &[&z1[..], &z2[..]][..])
                    .unwrap();
                for (a, b) in fast.iter().zip(&slow) {
                    assert!(
                        (a - b).abs() <= 1e-9 * b.abs().max(1e-300),
                        "design {d}, {} rows: {fast:?} vs {slow:?}",
                        rows.len()
                    );
                }
                assert!(slow[0] > 0.0);
            }
        }
    }
}
