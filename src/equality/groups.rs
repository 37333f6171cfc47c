//! One target's estimates across the groups of one dimension, and the design-based variance of
//! any smooth function of them (R's `svyby(..., covmat = TRUE)` followed by `svycontrast`).
//!
//! For groups `j` the estimates `y_j` (mean, proportion, total or ratio over the group's rows
//! with a valid value), the population shares `p_j = N̂_j / Σ_k N̂_k` (N̂_j the weight of those
//! rows) and the whole (sub)population's estimate `μ` are all functions of weighted totals. A
//! function `f(y, p, μ)` with partial derivatives `∂f` has the linearised score
//! `z_i = ∂f/∂y_g z^y_i + w_i / W (∂f/∂p_g − Σ_j ∂f/∂p_j p_j) + ∂f/∂μ z^μ_i` for a row `i` of
//! group `g`, with `z^y` the row's score for its group's estimate, `W = Σ_k N̂_k` and `z^μ` its
//! score for `μ`. Its variance is the design variance of the total of `z` (every PSU counts,
//! so the covariance of the groups is accounted for). With replicate weights, `f` is
//! recomputed from every replicate's `y`, `p` and `μ` instead.

use crate::design::{Design, RepColumn, Scores};
use crate::estimate::estimand::{Stat, Target};
use crate::numeric::Sum;
use crate::{Error, Result};

/// The estimates of one target in the groups of one dimension.
#[derive(Debug, Clone)]
pub struct Across {
    /// Group estimates (NaN for a group without a valid value).
    pub y: Vec<f64>,
    /// Population shares of the groups.
    pub p: Vec<f64>,
    /// The whole (sub)population's estimate.
    pub mu: f64,
    /// The rows compared; the per-row vectors below are aligned with them.
    rows: Vec<u32>,
    /// Per row: its group, or `NONE` when it is in no group or has no valid value.
    row_group: Vec<u32>,
    /// Per row: its score for its group's estimate, for `μ`, and `w_i / W`.
    zy: Vec<f64>,
    zmu: Vec<f64>,
    wp: Vec<f64>,
    /// Replicate estimates `(y, p, μ)`, on replicate designs.
    replicates: Vec<(Vec<f64>, Vec<f64>, f64)>,
    /// The covariance of the totals of the base scores — `μ`'s, each group's estimate's, and
    /// each group's `w_i / W` — made on first use: every linearised variance of a function
    /// of `(y, p, μ)` is a quadratic form in it.
    base: std::sync::OnceLock<Vec<f64>>,
}

const NONE: u32 = u32::MAX;

/// The derivatives of a function of `(y, p, μ)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    pub d_y: Vec<f64>,
    pub d_p: Vec<f64>,
    pub d_mu: f64,
}

/// Weighted sums of one group: Σw, Σw y, Σw x.
#[derive(Clone, Copy, Default)]
struct Sums {
    w: f64,
    wy: f64,
    wx: f64,
}

/// The estimate of `stat` from a group's sums.
fn point(stat: Stat, s: Sums) -> f64 {
    match stat {
        Stat::Total => s.wy,
        Stat::Mean | Stat::Proportion => s.wy / s.w,
        Stat::Ratio => s.wy / s.wx,
        Stat::Quantile(_) => f64::NAN,
    }
}

/// Sums per group (index `groups`: the whole population's) with weights `w`.
fn sums(
    t: &Target,
    rows: &[u32],
    row_group: &[u32],
    groups: usize,
    w: RepColumn<'_>,
) -> (Vec<Sums>, Sums) {
    let mut acc = vec![[Sum::new(), Sum::new(), Sum::new()]; groups + 1];
    for &i in rows {
        let i = i as usize;
        let y = t.y[i];
        let x = t.x.as_ref().map_or(1.0, |x| x[i]);
        if y.is_nan() || x.is_nan() {
            continue;
        }
        let wi = w.at(i);
        for g in [row_group[i] as usize, groups] {
            if g <= groups {
                acc[g][0].add(wi);
                acc[g][1].add(wi * y);
                acc[g][2].add(wi * x);
            }
        }
    }
    let out: Vec<Sums> = acc
        .iter()
        .map(|a| Sums {
            w: a[0].value(),
            wy: a[1].value(),
            wx: a[2].value(),
        })
        .collect();
    let all = out[groups];
    (out[..groups].to_vec(), all)
}

fn shares(s: &[Sums]) -> Vec<f64> {
    let total: f64 = s.iter().map(|g| g.w).sum();
    s.iter().map(|g| g.w / total).collect()
}

impl Across {
    /// Estimates `t` in every group: `rows` the (sub)population, `group_of[i]` each row's
    /// group (`u32::MAX`: none), `groups` the number of groups.
    pub fn new(
        design: &Design,
        t: &Target,
        rows: &[u32],
        group_of: &[u32],
        groups: usize,
    ) -> Result<Across> {
        if matches!(t.stat, Stat::Quantile(_)) {
            return Err(Error::Usage(format!(
                "{}: gaps compare means, proportions, totals and ratios, not quantiles",
                t.indicator
            )));
        }
        let n = design.n;
        let m = rows.len();
        let w = &design.weights;
        let (s, all) = sums(t, rows, group_of, groups, RepColumn::Dense(w));
        let y: Vec<f64> = s.iter().map(|&g| point(t.stat, g)).collect();
        let p = shares(&s);
        let mu = point(t.stat, all);
        let total_w: f64 = s.iter().map(|g| g.w).sum();

        let mut row_group = vec![NONE; m];
        let (mut zy, mut zmu, mut wp) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
        let score = |stat: Stat, est: f64, sums: Sums, wi: f64, yi: f64, xi: f64| match stat {
            Stat::Total => wi * yi,
            Stat::Mean | Stat::Proportion => wi * (yi - est) / sums.w,
            Stat::Ratio => wi * (yi - est * xi) / sums.wx,
            Stat::Quantile(_) => 0.0,
        };
        for (at, &i) in rows.iter().enumerate() {
            let i = i as usize;
            let yi = t.y[i];
            let xi = t.x.as_ref().map_or(1.0, |x| x[i]);
            if yi.is_nan() || xi.is_nan() {
                continue;
            }
            zmu[at] = score(t.stat, mu, all, w[i], yi, xi);
            let g = group_of[i];
            if g != NONE {
                row_group[at] = g;
                let g = g as usize;
                zy[at] = score(t.stat, y[g], s[g], w[i], yi, xi);
                wp[at] = w[i] / total_w;
            }
        }

        let replicates = match &design.replicates {
            None => Vec::new(),
            Some(r) => (0..r.count)
                .map(|k| {
                    let wr = r.column(k, n);
                    let (s, all) = sums(t, rows, group_of, groups, wr);
                    (
                        s.iter().map(|&g| point(t.stat, g)).collect(),
                        shares(&s),
                        point(t.stat, all),
                    )
                })
                .collect(),
        };
        Ok(Across {
            y,
            p,
            mu,
            rows: rows.to_vec(),
            row_group,
            zy,
            zmu,
            wp,
            replicates,
            base: std::sync::OnceLock::new(),
        })
    }

    /// The covariance of the 2k + 1 base score totals (`μ`, then `y_g`, then `p_g`).
    fn base_covariance(&self, design: &Design) -> Result<&[f64]> {
        if let Some(c) = self.base.get() {
            return Ok(c);
        }
        let c = design.covariance_of(&self.rows, self)?;
        Ok(self.base.get_or_init(|| c))
    }

    /// The linearised score of a function with gradient `d` (aligned with [`Across::rows`]).
    pub fn score(&self, d: &Gradient) -> Vec<f64> {
        let centre: f64 = d.d_p.iter().zip(&self.p).map(|(a, b)| a * b).sum();
        (0..self.row_group.len())
            .map(|i| {
                let mut z = d.d_mu * self.zmu[i];
                let g = self.row_group[i];
                if g != NONE {
                    let g = g as usize;
                    z += d.d_y[g] * self.zy[i] + self.wp[i] * (d.d_p[g] - centre);
                }
                z
            })
            .collect()
    }

    /// The design variance of `f(y, p, μ)` whose value here is `value` and gradient `d`.
    /// On replicate designs `f` is evaluated at each replicate's estimates (a replicate where
    /// it is undefined makes the variance NaN).
    pub fn variance(
        &self,
        design: &Design,
        value: f64,
        d: &Gradient,
        f: impl Fn(&[f64], &[f64], f64) -> Option<f64>,
    ) -> Result<f64> {
        match &design.replicates {
            None => Ok(self.gradient_covariance(design, std::slice::from_ref(d))?[0]),
            Some(r) => {
                let thetas: Vec<f64> = self
                    .replicates
                    .iter()
                    .map(|(y, p, mu)| f(y, p, *mu).unwrap_or(f64::NAN))
                    .collect();
                Ok(r.variance(value, &thetas))
            }
        }
    }

    /// The linearisation covariance (row-major) of functions with gradients `ds`: each
    /// function's score is Σ_j g_j z_j over the base scores, so the covariance of two is
    /// g_a' C g_b. A base score without rows (a group without values) adds nothing.
    pub fn gradient_covariance(&self, design: &Design, ds: &[Gradient]) -> Result<Vec<f64>> {
        let c = self.base_covariance(design)?;
        let n = 2 * self.y.len() + 1;
        let gs: Vec<Vec<f64>> = ds
            .iter()
            .map(|d| {
                let centre: f64 = d.d_p.iter().zip(&self.p).map(|(a, b)| a * b).sum();
                std::iter::once(d.d_mu)
                    .chain(d.d_y.iter().copied())
                    .chain(d.d_p.iter().map(|x| x - centre))
                    .enumerate()
                    .map(|(j, x)| if c[j * n + j] == 0.0 { 0.0 } else { x })
                    .collect()
            })
            .collect();
        let mut out = vec![0.0; ds.len() * ds.len()];
        for (a, ga) in gs.iter().enumerate() {
            for (b, gb) in gs.iter().enumerate() {
                let mut v = 0.0;
                for i in 0..n {
                    if ga[i] != 0.0 {
                        for j in 0..n {
                            if gb[j] != 0.0 {
                                v += ga[i] * c[i * n + j] * gb[j];
                            }
                        }
                    }
                }
                out[a * ds.len() + b] = v;
            }
        }
        Ok(out)
    }

    /// The rows compared, which [`Across::score`] is aligned with.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// The linearisation covariance (row-major) of the estimates of the groups `used`, for
    /// tests across groups: their block of the base covariance.
    pub fn group_covariance(&self, design: &Design, used: &[usize]) -> Result<Vec<f64>> {
        let c = self.base_covariance(design)?;
        let n = 2 * self.y.len() + 1;
        Ok(used
            .iter()
            .flat_map(|&a| used.iter().map(move |&b| c[(1 + a) * n + 1 + b]))
            .collect())
    }

    /// Replicate estimates of the groups, on replicate designs.
    pub fn replicate_groups(&self) -> impl Iterator<Item = &[f64]> {
        self.replicates.iter().map(|(y, _, _)| y.as_slice())
    }
}

/// The 2k + 1 base scores (`μ`, then `y_g`, then `p_g`) of [`Across::rows`]: a row scores
/// in `μ` and in its own group's two, so a covariance pass costs three scores a row, not
/// 2k + 1.
impl Scores for Across {
    fn count(&self) -> usize {
        2 * self.y.len() + 1
    }

    #[inline]
    fn each(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        let nonzero = |x: f64| x != 0.0;
        if nonzero(self.zmu[j]) {
            f(0, self.zmu[j]);
        }
        let g = self.row_group[j];
        if g != NONE {
            let g = g as usize;
            if nonzero(self.zy[j]) {
                f(1 + g, self.zy[j]);
            }
            if nonzero(self.wp[j]) {
                f(1 + self.y.len() + g, self.wp[j]);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::design::{options, DesignFlags, DesignSpec};
    use crate::table::read::{read_table, ReadOptions};
    use std::path::Path;

    /// The bundled example's responses.
    pub(crate) fn example_table() -> crate::table::Table {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        read_table(
            &root.join("examples/service-equality/responses.csv"),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    /// Two designs of [`example_table`] that tests across groups hold equal: strata and
    /// PSUs, and two stages with fpc raked to the area and age-group margins.
    pub(crate) fn example_designs(table: &crate::table::Table) -> Vec<Design> {
        let margins =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service-equality/margins");
        [
            "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\"]\n".to_string(),
            format!(
                "weight = \"design_weight\"\nstrata = \"area\"\ncluster = [\"office\", \"id\"]\nfpc = [\"office_count\", \"office_size\"]\ncalibrate = \"raking\"\nmargin = [\"{0}/area.csv\", \"{0}/age_group.csv\"]\n",
                margins.display()
            ),
        ]
        .into_iter()
        .map(|text| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("design.toml");
            std::fs::write(&path, text).unwrap();
            let o = options::resolve(Some(DesignSpec::load(&path).unwrap()), DesignFlags::default())
                .unwrap();
            Design::build_calibrated(table, &o).unwrap().0
        })
        .collect()
    }

    /// Every linearised variance as a quadratic form in the base covariance equals the
    /// variance of the score built row by row, with and without calibration; the base
    /// covariance from the sparse scores equals that of the written-out vectors.
    #[test]
    fn variances_from_the_base_covariance_equal_those_of_the_scores() {
        let table = example_table();
        let num = |c: &str| table.column(c).unwrap().as_num().unwrap().to_vec();
        let (wait, origin, area) = (num("wait_weeks"), num("origin"), num("area"));
        let t = Target {
            indicator: "wait".into(),
            stat: Stat::Mean,
            variable: "wait_weeks".into(),
            category: String::new(),
            y: wait,
            x: None,
            deferred: false,
        };
        // Groups: origin 1, 2, 3 and the rest; rows of the first ten areas.
        let group_of: Vec<u32> = origin.iter().map(|&o| (o.min(4.0) - 1.0) as u32).collect();
        let rows: Vec<u32> = (0..table.nrows() as u32)
            .filter(|&i| area[i as usize] <= 10.0)
            .collect();
        for design in example_designs(&table) {
            let across = Across::new(&design, &t, &rows, &group_of, 4).unwrap();
            // The base scores read row by row (three a row) give the same bits as the 2k + 1
            // vectors written out.
            let columns = across.columns(rows.len());
            assert_eq!(columns.len(), 9);
            let dense: Vec<&[f64]> = columns.iter().map(|c| c.as_slice()).collect();
            assert_eq!(
                design.covariance_of(&rows, &across).unwrap(),
                design.covariance(&rows, &dense).unwrap()
            );
            for d in [
                Gradient {
                    d_y: vec![1.0, -1.0, 0.0, 0.0],
                    d_p: vec![0.0; 4],
                    d_mu: 0.0,
                },
                Gradient {
                    d_y: vec![0.3, -0.2, 0.5, 0.1],
                    d_p: vec![0.7, -1.1, 0.2, 0.4],
                    d_mu: -0.6,
                },
            ] {
                let quadratic = across.variance(&design, 0.0, &d, |_, _, _| None).unwrap();
                let direct = design.variance(across.rows(), &across.score(&d)).unwrap();
                assert!(
                    (quadratic - direct).abs() <= 1e-10 * direct.abs(),
                    "{quadratic} vs {direct}"
                );
                assert!(direct > 0.0);
            }
        }
    }
}
