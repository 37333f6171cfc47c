//! A survey design built on a data table: weights, strata, nested sampling units per stage
//! with their finite population corrections, or replicate weights. Everything the variance
//! estimators need, checked once (R's `svydesign`, `svrepdesign`).

use super::options::{DesignOptions, LonelyPsu, RepType, ReplicateOptions};
use crate::error::Location;
use crate::table::{ColumnData, Table, MISSING_CODE};
use crate::{Error, Result};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};

/// Hashes the design's keys (ids as integers): a seeded mix of each word, a fraction of the
/// default hasher's cost where a last stage has an id per row (a million keys). The seed is
/// drawn per process, as the default hasher's is, so that ids cannot be chosen to collide.
#[derive(Clone, Copy)]
struct Ids(u64);

impl Ids {
    fn new() -> Ids {
        Ids(RandomState::new().hash_one(0x7461_7361_u64))
    }
}

impl BuildHasher for Ids {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    /// splitmix64's finaliser of the state and the word: a bijection that spreads every bit.
    fn write_u64(&mut self, x: u64) {
        let mut z = self.0 ^ x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = (z ^ (z >> 31)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    }
}

/// One sampling stage: units nested in parents (strata for stage 1, units of the previous
/// stage after that).
#[derive(Debug, Clone)]
pub struct Stage {
    /// Unit of each row.
    pub row_unit: Vec<u32>,
    /// Parent of each unit.
    pub unit_parent: Vec<u32>,
    /// Units sampled in each parent (n).
    pub parent_n: Vec<u32>,
    /// Finite population correction factor (N - n)/N of each unit's sampling (1 without fpc).
    pub unit_f: Vec<f64>,
    /// Sampling fraction n/N of each unit (0 without fpc).
    pub unit_fraction: Vec<f64>,
    /// Label of each unit, for messages (none when the units are the rows).
    pub unit_label: UnitLabels,
    /// The units of each parent.
    pub children: Vec<Vec<u32>>,
}

/// The labels of a stage's units, for messages: each unit's id as its column holds it, made
/// into text when a message names the unit (a stage with an id per row has a million units,
/// and needs no million strings).
#[derive(Debug, Clone, Default)]
pub struct UnitLabels {
    /// Each unit's key ([`keys`]): number bits, or a text column's code.
    keys: Vec<u64>,
    /// A text column's levels; `None` for numbers.
    levels: Option<Vec<String>>,
}

impl UnitLabels {
    /// Unit `u`'s label, as the id column writes it.
    pub fn get(&self, u: usize) -> Option<String> {
        let key = *self.keys.get(u)?;
        Some(match &self.levels {
            None => crate::table::format_number(f64::from_bits(key)),
            Some(levels) => levels.get(key as usize).cloned().unwrap_or_default(),
        })
    }
}

/// Replicate weights, with their variance multipliers.
#[derive(Debug, Clone)]
pub struct Replicates {
    /// The replicate weights as columns (the `r`-th at `[r * n .. (r + 1) * n]`), or as PSU
    /// factors; read them through [`Replicates::column`].
    storage: RepStorage,
    /// What the user should know about the replicates made (an fpc the type ignores).
    pub notes: Vec<crate::Warning>,
    pub count: usize,
    pub names: Vec<String>,
    pub scale: f64,
    pub rscales: Vec<f64>,
    pub mse: bool,
    pub kind: RepType,
    /// Rank of the replicate weight matrix minus 1 (R's `degf`).
    pub df: f64,
}

#[derive(Debug, Clone)]
enum RepStorage {
    /// Every replicate's weight of every row (read from a file, or changed since made).
    Dense(Vec<f64>),
    /// Replicates made from the design's stage-1 PSUs (`--replicates`) and not changed since
    /// (R's compressed replicate weights): replicate r's weight of row i is
    /// `base[i] * factors[r * n_psu + row_psu[i]]`. A million rows and 200 replicates hold
    /// 12 MB this way instead of 1.6 GB, and estimates can come from PSU sums.
    Factored(PsuFactors),
}

/// Replicate weights as multipliers of the full-sample weights, one per stage-1 PSU.
#[derive(Debug, Clone)]
pub struct PsuFactors {
    /// Replicate r, PSU u at `[r * n_psu + u]`.
    pub factors: Vec<f64>,
    pub n_psu: usize,
    /// The full-sample weights the factors multiply.
    base: Vec<f64>,
    /// Stage-1 PSU of each row.
    row_psu: Vec<u32>,
}

/// One replicate's weights, row by row ([`Replicates::column`]).
#[derive(Clone, Copy)]
pub enum RepColumn<'a> {
    Dense(&'a [f64]),
    Factored {
        base: &'a [f64],
        row_psu: &'a [u32],
        factors: &'a [f64],
    },
}

impl RepColumn<'_> {
    /// Row i's weight.
    #[inline]
    pub fn at(&self, i: usize) -> f64 {
        match self {
            RepColumn::Dense(w) => w[i],
            RepColumn::Factored {
                base,
                row_psu,
                factors,
            } => base[i] * factors[row_psu[i] as usize],
        }
    }

    /// The weights of rows `start..start + out.len()`, into `out`.
    pub fn fill(&self, start: usize, out: &mut [f64]) {
        let end = start + out.len();
        match self {
            RepColumn::Dense(w) => out.copy_from_slice(&w[start..end]),
            RepColumn::Factored {
                base,
                row_psu,
                factors,
            } => {
                for ((o, &b), &u) in out
                    .iter_mut()
                    .zip(&base[start..end])
                    .zip(&row_psu[start..end])
                {
                    *o = b * factors[u as usize];
                }
            }
        }
    }

    /// Every row's weight.
    pub fn to_vec(&self, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n];
        self.fill(0, &mut out);
        out
    }
}

impl Replicates {
    /// Replicates held as columns (`weights[r * n + i]`), of `kind`, with a scale and
    /// rscales of 1, no names and `count - 1` df: the caller sets what differs.
    pub fn dense(weights: Vec<f64>, count: usize, kind: RepType) -> Replicates {
        Self::with_storage(RepStorage::Dense(weights), count, kind)
    }

    /// Replicates held as PSU factors (`factors[r * n_psu + u]`) of the full-sample weights
    /// `base`, row i in PSU `row_psu[i]`; the rest as [`Replicates::dense`].
    pub fn factored(
        factors: Vec<f64>,
        n_psu: usize,
        base: &[f64],
        row_psu: &[u32],
        count: usize,
        kind: RepType,
    ) -> Replicates {
        let f = PsuFactors {
            factors,
            n_psu,
            base: base.to_vec(),
            row_psu: row_psu.to_vec(),
        };
        Self::with_storage(RepStorage::Factored(f), count, kind)
    }

    fn with_storage(storage: RepStorage, count: usize, kind: RepType) -> Replicates {
        Replicates {
            storage,
            notes: Vec::new(),
            count,
            names: Vec::new(),
            scale: 1.0,
            rscales: vec![1.0; count],
            mse: false,
            kind,
            df: count as f64 - 1.0,
        }
    }

    /// Replicate r's weights.
    pub fn column(&self, r: usize, n: usize) -> RepColumn<'_> {
        match &self.storage {
            RepStorage::Dense(w) => RepColumn::Dense(&w[r * n..(r + 1) * n]),
            RepStorage::Factored(f) => RepColumn::Factored {
                base: &f.base,
                row_psu: &f.row_psu,
                factors: &f.factors[r * f.n_psu..(r + 1) * f.n_psu],
            },
        }
    }

    /// The PSU factors, while the replicates are held as factors.
    pub fn psu_factors(&self) -> Option<&PsuFactors> {
        match &self.storage {
            RepStorage::Factored(f) => Some(f),
            RepStorage::Dense(_) => None,
        }
    }

    /// Every replicate's weights as columns of `n` rows (`[r * n + i]`) to change in place
    /// (calibration, standardisation); replicates held as factors are written out first,
    /// and are columns from then on.
    pub fn columns_mut(&mut self, n: usize) -> &mut [f64] {
        if matches!(self.storage, RepStorage::Factored(_)) {
            let mut w = vec![0.0; n * self.count];
            for (r, col) in w.chunks_exact_mut(n).enumerate() {
                self.column(r, n).fill(0, col);
            }
            self.storage = RepStorage::Dense(w);
        }
        match &mut self.storage {
            RepStorage::Dense(w) => w,
            RepStorage::Factored(_) => unreachable!("written out above"),
        }
    }

    /// `scale * sum_r rscale_r (theta_r - centre)^2`; centre = mean of the replicates with
    /// rscale > 0, or `theta` with `mse`.
    pub fn variance(&self, theta: f64, thetas: &[f64]) -> f64 {
        let centre = self.centre(theta, thetas.iter().copied());
        self.scale
            * thetas
                .iter()
                .zip(&self.rscales)
                .map(|(t, r)| r * (t - centre) * (t - centre))
                .sum::<f64>()
    }

    /// The K × K covariance (row-major) of K statistics whose full-sample values are `theta`
    /// and whose replicate values are `thetas[r][k]`, as [`Replicates::variance`].
    pub fn covariance(&self, theta: &[f64], thetas: &[Vec<f64>]) -> Vec<f64> {
        let k = theta.len();
        let centre: Vec<f64> = (0..k)
            .map(|a| self.centre(theta[a], thetas.iter().map(|t| t[a])))
            .collect();
        let mut out = vec![0.0; k * k];
        for (t, r) in thetas.iter().zip(&self.rscales) {
            for a in 0..k {
                let da = self.scale * r * (t[a] - centre[a]);
                for b in 0..k {
                    out[a * k + b] += da * (t[b] - centre[b]);
                }
            }
        }
        out
    }

    /// The centre of the replicate deviations: the mean of the replicates with rscale > 0, or
    /// the full-sample value with `mse`.
    fn centre(&self, theta: f64, thetas: impl Iterator<Item = f64>) -> f64 {
        if self.mse {
            return theta;
        }
        let (mut s, mut k) = (0.0, 0usize);
        for (t, r) in thetas.zip(&self.rscales) {
            if *r > 0.0 {
                s += t;
                k += 1;
            }
        }
        s / k.max(1) as f64
    }
}

/// A checked design.
#[derive(Debug, Clone)]
pub struct Design {
    pub n: usize,
    pub weights: Vec<f64>,
    /// Stratum of each row (0 when unstratified).
    pub row_stratum: Vec<u32>,
    pub stratum_label: Vec<String>,
    /// Sampling stages; stage 1 first. Without clusters, each row is its own PSU.
    pub stages: Vec<Stage>,
    /// Whether later stages enter the variance (an fpc was given for every stage).
    pub multistage: bool,
    pub lonely_psu: LonelyPsu,
    pub replicates: Option<Replicates>,
    /// After in-process calibration: the residuals that make linearisation variances
    /// calibration-aware ([`crate::weighting::calibrated`]).
    pub calibration: Option<std::sync::Arc<crate::weighting::calibrated::Residuals>>,
}

fn loc(table: &Table, row: usize, column: &str) -> Location {
    Location::source(table.source.clone())
        .row(row + 1)
        .column(column)
}

/// A design that cannot be estimated, named by the data file (and column) it comes from;
/// a table read from no file gives the bare problem.
fn design_error(table: &Table, column: Option<&str>, problem: String) -> Error {
    if table.source.is_none() && column.is_none() {
        return Error::Design(problem);
    }
    let mut at = Location::source(table.source.clone());
    at.column = column.map(str::to_string);
    Error::input(at, None, problem)
}

/// A column read as hashable keys (number bits or text codes), erroring on missing values.
/// Labels are made only for the distinct values, for messages.
struct Keys<'a> {
    keys: Vec<u64>,
    col: &'a crate::table::Column,
}

impl Keys<'_> {
    fn label(&self, row: usize) -> String {
        self.col.text(row).unwrap_or_default()
    }

    /// Labels for units numbered by these keys (none yet).
    fn unit_labels(&self) -> UnitLabels {
        UnitLabels {
            keys: Vec::new(),
            levels: match &self.col.data {
                ColumnData::Num(_) => None,
                ColumnData::Cat { levels, .. } => Some(levels.clone()),
            },
        }
    }
}

fn keys<'a>(table: &'a Table, name: &str, what: &str) -> Result<Keys<'a>> {
    let col = table.require(name)?;
    let keys = match &col.data {
        ColumnData::Num(v) => {
            if let Some(i) = v.iter().position(|x| x.is_nan()) {
                return Err(Error::input(
                    loc(table, i, name),
                    None,
                    format!("missing {what}; every row needs one"),
                ));
            }
            // +0.0 and -0.0 are one id.
            v.iter().map(|&x| (x + 0.0).to_bits()).collect()
        }
        ColumnData::Cat { codes, .. } => {
            if let Some(i) = codes.iter().position(|&c| c == MISSING_CODE) {
                return Err(Error::input(
                    loc(table, i, name),
                    None,
                    format!("missing {what}; every row needs one"),
                ));
            }
            codes.iter().map(|&c| u64::from(c)).collect()
        }
    };
    Ok(Keys { keys, col })
}

fn numbers(table: &Table, name: &str, what: &str) -> Result<Vec<f64>> {
    let v = table.require_num(name)?;
    if let Some(i) = v.iter().position(|x| x.is_nan()) {
        return Err(Error::input(
            loc(table, i, name),
            None,
            format!("missing {what}; every row needs one"),
        ));
    }
    Ok(v.to_vec())
}

impl Design {
    /// Builds and checks the design on `table`.
    pub fn build(table: &Table, o: &DesignOptions) -> Result<Design> {
        let n = table.nrows();
        if n == 0 {
            return Err(design_error(
                table,
                None,
                "the data have no rows, only a header; expected a row per respondent".into(),
            ));
        }

        // Strata.
        let (row_stratum, stratum_label) = match &o.strata {
            None => (vec![0u32; n], vec![String::new()]),
            Some(s) => {
                let k = keys(table, s, "stratum")?;
                let mut index: HashMap<u64, u32, Ids> = HashMap::with_hasher(Ids::new());
                let mut labels = Vec::new();
                // A row in the stratum of the row before it is not looked up (files come
                // sorted by stratum and cluster, as a rule).
                let mut last: Option<(u64, u32)> = None;
                let rows = k
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(i, &key)| match last {
                        Some((k0, h)) if k0 == key => h,
                        _ => {
                            let h = *index.entry(key).or_insert_with(|| {
                                labels.push(k.label(i));
                                (labels.len() - 1) as u32
                            });
                            last = Some((key, h));
                            h
                        }
                    })
                    .collect();
                (rows, labels)
            }
        };

        // Sampling units per stage.
        let n_stages = o.clusters.len().max(1);
        let mut stages: Vec<Stage> = Vec::with_capacity(n_stages);
        for s in 0..n_stages {
            let (parent_of_row, parent_count): (Vec<u32>, usize) = if s == 0 {
                (row_stratum.clone(), stratum_label.len())
            } else {
                let prev = &stages[s - 1];
                (prev.row_unit.clone(), prev.unit_parent.len())
            };
            let ids = match o.clusters.get(s) {
                Some(c) => Some(keys(table, c, "cluster id")?),
                None => None,
            };
            let mut unit_parent = Vec::new();
            let mut unit_label = ids.as_ref().map(Keys::unit_labels).unwrap_or_default();
            let mut row_unit = Vec::with_capacity(n);
            match &ids {
                // Without a cluster column every row is its own unit.
                None => {
                    // (Labels stay empty: a row unit is named by its row number.)
                    for (i, &parent) in parent_of_row.iter().enumerate() {
                        unit_parent.push(parent);
                        row_unit.push(i as u32);
                    }
                }
                Some(ids) => {
                    let mut unit_index: HashMap<(u32, u64), u32, Ids> =
                        HashMap::with_hasher(Ids::new());
                    // Without --nest, a PSU id must belong to one stratum only.
                    let check_nesting = s == 0 && o.strata.is_some() && !o.nest;
                    let mut psu_home: HashMap<u64, (u32, usize), Ids> =
                        HashMap::with_hasher(Ids::new());
                    // The unit of the row before, which a row in the same unit takes as it is
                    // (its nesting was checked with that row).
                    let mut last: Option<((u32, u64), u32)> = None;
                    for (i, (&parent, &id)) in parent_of_row.iter().zip(&ids.keys).enumerate() {
                        if let Some((key, u)) = last {
                            if key == (parent, id) {
                                row_unit.push(u);
                                continue;
                            }
                        }
                        if check_nesting {
                            match psu_home.get(&id) {
                                Some(&(home, first_row)) if home != parent => {
                                    return Err(design_error(table, None, format!(
                                        "PSU `{}` of column `{}` is in stratum `{}` (row {}) and in stratum `{}` (row {}); \
                                         if PSU ids repeat across strata, add --nest",
                                        ids.label(i),
                                        o.clusters[0],
                                        stratum_label[home as usize],
                                        first_row + 1,
                                        stratum_label[parent as usize],
                                        i + 1
                                    )))
                                }
                                Some(_) => {}
                                None => {
                                    psu_home.insert(id, (parent, i));
                                }
                            }
                        }
                        let u = *unit_index.entry((parent, id)).or_insert_with(|| {
                            unit_parent.push(parent);
                            unit_label.keys.push(id);
                            (unit_parent.len() - 1) as u32
                        });
                        last = Some(((parent, id), u));
                        row_unit.push(u);
                    }
                }
            }
            let mut parent_n = vec![0u32; parent_count];
            let mut children = vec![Vec::new(); parent_count];
            for (u, &p) in unit_parent.iter().enumerate() {
                parent_n[p as usize] += 1;
                children[p as usize].push(u as u32);
            }
            let units = unit_parent.len();
            stages.push(Stage {
                row_unit,
                unit_parent,
                parent_n,
                unit_f: vec![1.0; units],
                unit_fraction: vec![0.0; units],
                unit_label,
                children,
            });
        }

        // Finite population corrections: population sizes (any value > 1) or fractions.
        for (s, name) in o.fpc.iter().enumerate() {
            let fpc = numbers(table, name, "finite population correction")?;
            let sizes = fpc.iter().any(|&x| x > 1.0);
            if sizes && o.pps_brewer {
                return Err(Error::Usage(format!(
                    "--pps brewer takes the fpc `{name}` as inclusion probabilities (<= 1), not population sizes"
                )));
            }
            if sizes {
                if let Some(i) = fpc.iter().position(|&x| x < 1.0) {
                    return Err(Error::input(
                        loc(table, i, name),
                        Some(crate::table::format_number(fpc[i])),
                        "the fpc mixes population sizes (> 1) and sampling fractions (<= 1); give one kind",
                    ));
                }
            } else if let Some(i) = fpc.iter().position(|&x| x <= 0.0) {
                return Err(Error::input(
                    loc(table, i, name),
                    Some(crate::table::format_number(fpc[i])),
                    "a sampling fraction must be above 0",
                ));
            }
            // One population size (or fraction) per stratum, or per unit of the stage above;
            // under --pps brewer the fpc holds each unit's own inclusion probability.
            if !o.pps_brewer {
                let stage = &stages[s];
                let mut first: Vec<Option<usize>> = vec![None; stage.parent_n.len()];
                for (i, &value) in fpc.iter().enumerate() {
                    let p = stage.unit_parent[stage.row_unit[i] as usize];
                    match first[p as usize] {
                        None => first[p as usize] = Some(i),
                        Some(f) if fpc[f] != value => {
                            return Err(Error::input(
                                loc(table, i, name),
                                Some(crate::table::format_number(value)),
                                format!(
                                    "the fpc differs within {}: {} on row {} but {} here; give one population size (or sampling fraction) per {}",
                                    parent_name(&stages, &stratum_label, o.strata.is_some(), s, p),
                                    crate::table::format_number(fpc[f]),
                                    f + 1,
                                    crate::table::format_number(value),
                                    if s == 0 { "stratum" } else { "unit of the stage above" }
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                }
            }
            let (unit_f, unit_fraction) = {
                let stage = &stages[s];
                let units = stage.unit_parent.len();
                let mut unit_f = vec![1.0; units];
                let mut unit_fraction = vec![0.0; units];
                let mut seen = vec![false; units];
                for (i, &value) in fpc.iter().enumerate() {
                    let u = stage.row_unit[i] as usize;
                    if seen[u] {
                        continue;
                    }
                    seen[u] = true;
                    let sampled = stage.parent_n[stage.unit_parent[u] as usize] as f64;
                    let population = if sizes { value } else { sampled / value };
                    if population < sampled {
                        let parent = parent_name(
                            &stages,
                            &stratum_label,
                            o.strata.is_some(),
                            s,
                            stage.unit_parent[u],
                        );
                        return Err(Error::input(
                            loc(table, i, name),
                            Some(crate::table::format_number(value)),
                            format!("the fpc implies a population of {population} in {parent}, which has {sampled} sampled units (over 100 % sampling)"),
                        ));
                    }
                    unit_f[u] = if population.is_infinite() {
                        1.0
                    } else {
                        (population - sampled) / population
                    };
                    unit_fraction[u] = sampled / population;
                }
                (unit_f, unit_fraction)
            };
            stages[s].unit_f = unit_f;
            stages[s].unit_fraction = unit_fraction;
        }
        let multistage = !o.fpc.is_empty() && o.fpc.len() == n_stages && n_stages > 1;

        // Weights.
        let weights = if let Some(w) = &o.weight {
            numbers(table, w, "weight")?
        } else if let Some(p) = &o.probs {
            let probs = numbers(table, p, "selection probability")?;
            let mut w = Vec::with_capacity(n);
            for (i, &x) in probs.iter().enumerate() {
                if x <= 0.0 || x > 1.0 {
                    return Err(Error::input(
                        loc(table, i, p),
                        Some(crate::table::format_number(x)),
                        "a selection probability must be in (0, 1]",
                    ));
                }
                w.push(1.0 / x);
            }
            w
        } else if !o.fpc.is_empty() {
            // The product over stages of N_s / n_s.
            (0..n)
                .map(|i| {
                    stages
                        .iter()
                        .take(o.fpc.len())
                        .map(|st| {
                            let frac = st.unit_fraction[st.row_unit[i] as usize];
                            if frac > 0.0 {
                                1.0 / frac
                            } else {
                                1.0
                            }
                        })
                        .product()
                })
                .collect()
        } else {
            vec![1.0; n]
        };
        let wname = o
            .weight
            .as_deref()
            .or(o.probs.as_deref())
            .unwrap_or("weight");
        if !o.allow_negative_weights {
            if let Some(i) = weights.iter().position(|&x| x < 0.0) {
                return Err(Error::input(
                    loc(table, i, wname),
                    Some(crate::table::format_number(weights[i])),
                    "a negative weight; weights must be >= 0 (use --allow-negative-weights if they come from unbounded calibration)",
                ));
            }
        }
        if weights.iter().all(|&x| x == 0.0) {
            return Err(design_error(
                table,
                o.weight.as_deref().or(o.probs.as_deref()),
                format!("every weight in `{wname}` is zero; expected some positive weights"),
            ));
        }

        let replicates = match &o.replicates {
            Some(r) => Some(build_replicates(table, r, o, &stages)?),
            None => None,
        };

        let mut design = Design {
            n,
            weights,
            row_stratum,
            stratum_label,
            stages,
            multistage,
            lonely_psu: o.lonely_psu,
            replicates,
            calibration: None,
        };
        if design.replicates.is_none() && design.lonely_psu == LonelyPsu::Fail {
            design.check_lonely(table)?;
        }
        if let Some(m) = &o.make_replicates {
            design.replicates = Some(crate::weighting::replicates::made_replicates(
                &design, &m.spec, m.mse,
            )?);
        }
        Ok(design)
    }

    /// Strata (or parents at later stages) with a single sampled unit, under `fail`.
    fn check_lonely(&self, table: &Table) -> Result<()> {
        let last = if self.multistage {
            self.stages.len()
        } else {
            1
        };
        for (s, stage) in self.stages.iter().take(last).enumerate() {
            for (p, &count) in stage.parent_n.iter().enumerate() {
                if count != 1 {
                    continue;
                }
                // A census parent (f = 0) contributes nothing and is not lonely.
                let unit = stage
                    .unit_parent
                    .iter()
                    .position(|&q| q as usize == p)
                    .unwrap_or(0);
                if stage.unit_f[unit] < 1e-7 {
                    continue;
                }
                let name = if s == 0
                    && self.stratum_label.len() == 1
                    && self.stratum_label[0].is_empty()
                {
                    "the design (unstratified)".to_string()
                } else if s == 0 {
                    format!("stratum `{}`", self.stratum_label[p])
                } else {
                    format!(
                        "unit `{}` of stage {s}",
                        stages_label(&self.stages, s - 1, p as u32)
                    )
                };
                return Err(design_error(
                    table,
                    None,
                    format!(
                        "{name} has only one PSU at stage {}; choose --lonely-psu adjust, average, certainty or remove",
                        s + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Builds the design and, when the options ask for it, calibrates its weights (and
    /// replicate weights) to the population margins: the entry point of every command that
    /// takes design flags.
    pub fn build_calibrated(
        table: &Table,
        o: &DesignOptions,
    ) -> Result<(
        Design,
        Option<crate::weighting::calibrated::CalibrationReport>,
    )> {
        let mut design = Design::build(table, o)?;
        let report = match &o.calibration {
            Some(c) => Some(crate::weighting::calibrated::calibrate_design(
                &mut design,
                table,
                c,
                o.allow_negative_weights,
            )?),
            None => None,
        };
        Ok((design, report))
    }

    /// Design degrees of freedom over the rows where `keep` holds (R's `degf`): PSUs minus
    /// strata with a non-zero-weight row; replicate designs: rank of the replicate weights - 1.
    pub fn degf(&self, keep: impl Fn(usize) -> bool) -> f64 {
        if let Some(r) = &self.replicates {
            return r.df;
        }
        let st = &self.stages[0];
        let mut psu = vec![false; st.unit_parent.len()];
        let mut strata = vec![false; self.stratum_label.len()];
        for i in 0..self.n {
            if self.weights[i] != 0.0 && keep(i) {
                psu[st.row_unit[i] as usize] = true;
                strata[self.row_stratum[i] as usize] = true;
            }
        }
        let count = |v: &[bool]| v.iter().filter(|&&b| b).count() as f64;
        count(&psu) - count(&strata)
    }

    /// [`Design::degf`] over the listed rows only (a domain).
    pub fn degf_rows(&self, rows: &[u32]) -> f64 {
        if let Some(r) = &self.replicates {
            return r.df;
        }
        let st = &self.stages[0];
        let mut psu = vec![false; st.unit_parent.len()];
        let mut strata = vec![false; self.stratum_label.len()];
        let (mut n_psu, mut n_strata) = (0usize, 0usize);
        for &i in rows {
            let i = i as usize;
            if self.weights[i] != 0.0 {
                let u = st.row_unit[i] as usize;
                let h = self.row_stratum[i] as usize;
                n_psu += usize::from(!std::mem::replace(&mut psu[u], true));
                n_strata += usize::from(!std::mem::replace(&mut strata[h], true));
            }
        }
        n_psu as f64 - n_strata as f64
    }
}

/// The parent `p` of the units of stage `s` (0-based), for messages: a stratum, the whole
/// population (stage 1 without strata), or a unit of the stage above.
fn parent_name(
    stages: &[Stage],
    stratum_label: &[String],
    stratified: bool,
    s: usize,
    p: u32,
) -> String {
    if s == 0 && !stratified {
        "the population".to_string()
    } else if s == 0 {
        format!("stratum `{}`", stratum_label[p as usize])
    } else {
        format!("unit `{}` of stage {s}", stages_label(stages, s - 1, p))
    }
}

fn stages_label(stages: &[Stage], s: usize, unit: u32) -> String {
    stages[s].unit_label.get(unit as usize).unwrap_or_default()
}

fn build_replicates(
    table: &Table,
    r: &ReplicateOptions,
    o: &DesignOptions,
    stages: &[Stage],
) -> Result<Replicates> {
    let n = table.nrows();
    if o.weight.is_none() && o.probs.is_none() {
        return Err(Error::Usage(
            "replicate weights need the full-sample weight: give --weight".into(),
        ));
    }
    let names: Vec<String> = table
        .names()
        .filter(|c| glob(&r.pattern, c))
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return Err(Error::Usage(format!(
            "no column matches --repweights `{}`",
            r.pattern
        )));
    }
    let count = names.len();
    let mut weights = Vec::with_capacity(n * count);
    for name in &names {
        weights.extend(numbers(table, name, "replicate weight")?);
    }
    let rscales = match &r.rscales {
        Some(v) if v.len() != count => {
            return Err(Error::Usage(format!(
                "--rep-rscales has {} values for {count} replicate columns",
                v.len()
            )))
        }
        Some(v) => v.clone(),
        None if r.kind == RepType::Jkn => {
            return Err(Error::Usage(
                "JKn replicates need --rep-rscales ((n_h - 1)/n_h of each replicate's stratum)"
                    .into(),
            ))
        }
        None => vec![1.0; count],
    };
    let rf = count as f64;
    let scale = match (r.scale, r.kind) {
        (Some(s), _) => s,
        (None, RepType::Jk1) => (rf - 1.0) / rf,
        (None, RepType::Jkn) | (None, RepType::Other) => 1.0,
        (None, RepType::Brr) => 1.0 / rf,
        (None, RepType::Fay) => {
            let rho = r.fay_rho.ok_or_else(|| {
                Error::Usage("Fay replicates need --fay-rho (or --rep-scale)".into())
            })?;
            1.0 / (rf * (1.0 - rho) * (1.0 - rho))
        }
        (None, RepType::Bootstrap) => 1.0 / (rf - 1.0),
    };
    let _ = stages;
    let df = replicate_rank(&weights, n, count) as f64 - 1.0;
    Ok(Replicates {
        storage: RepStorage::Dense(weights),
        notes: Vec::new(),
        count,
        names,
        scale,
        rscales,
        mse: r.mse,
        kind: r.kind,
        df,
    })
}

/// Rank of the n × R replicate weight matrix (R's `qr(..., tol = 1e-5)$rank`), computed on
/// its distinct rows by Householder QR with column pivoting.
pub(crate) fn replicate_rank(weights: &[f64], n: usize, count: usize) -> usize {
    // Distinct rows only: rows of one PSU usually repeat, and duplicates do not change the rank.
    let mut seen: HashMap<Vec<u64>, ()> = HashMap::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for i in 0..n {
        let row: Vec<f64> = (0..count).map(|r| weights[r * n + i]).collect();
        let key: Vec<u64> = row.iter().map(|x| x.to_bits()).collect();
        if seen.insert(key, ()).is_none() {
            rows.push(row);
        }
    }
    let m = rows.len();
    // Column-major copy of the m × count matrix.
    let mut a: Vec<Vec<f64>> = (0..count)
        .map(|j| rows.iter().map(|r| r[j]).collect())
        .collect();
    let norms: Vec<f64> = a
        .iter()
        .map(|c| c.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let mut rank = 0;
    let tol = 1e-5;
    let mut order: Vec<usize> = (0..count).collect();
    for k in 0..count.min(m) {
        // Pivot: the remaining column with the largest residual norm.
        let (mut best, mut best_norm) = (k, -1.0);
        for (jj, &j) in order.iter().enumerate().skip(k) {
            let nrm: f64 = a[j][k..].iter().map(|x| x * x).sum::<f64>().sqrt();
            if nrm > best_norm {
                best = jj;
                best_norm = nrm;
            }
        }
        order.swap(k, best);
        let j = order[k];
        if best_norm <= tol * norms[j].max(f64::MIN_POSITIVE) || best_norm == 0.0 {
            break;
        }
        rank += 1;
        // Householder reflection on column j from row k.
        let alpha = if a[j][k] > 0.0 { -best_norm } else { best_norm };
        let mut v: Vec<f64> = a[j][k..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|x| x * x).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        for &jj in order.iter().skip(k) {
            let col = &mut a[jj];
            let dot: f64 = v.iter().zip(&col[k..]).map(|(p, q)| p * q).sum();
            let f = 2.0 * dot / vnorm2;
            for (x, vi) in col[k..].iter_mut().zip(&v) {
                *x -= f * vi;
            }
        }
    }
    rank
}

/// Shell-style glob with `*` and `?`.
pub fn glob(pattern: &str, name: &str) -> bool {
    fn rec(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => rec(&p[1..], s) || (!s.is_empty() && rec(p, &s[1..])),
            (Some('?'), Some(_)) => rec(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    rec(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches() {
        assert!(glob("repw*", "repw12"));
        assert!(!glob("repw*", "w_repw1"));
        assert!(glob("r?p*", "rep"));
    }

    #[test]
    fn rank_of_replicates() {
        // Two identical columns and one independent: rank 2.
        let n = 4;
        let w = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 0.0, 1.0];
        assert_eq!(replicate_rank(&w, n, 3), 2);
    }
}
