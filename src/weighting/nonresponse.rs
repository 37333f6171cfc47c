//! Weighting-class non-response adjustment.
//!
//! This module owns the non-response step of `tasa weight`: the adjustment cells (the
//! cross-classification of some variables, [`cells`]), the adjustment within them
//! ([`adjust`]), the collapsing of cells with too few respondents or too large a factor, and
//! the repetition of the same adjustment with other base weights for replicate weights
//! ([`reapply`], [`Adjusted::reapply`]).
//!
//! Within each cell c the respondents' base weights d are multiplied by
//!
//! ```text
//! factor_c = Σ_{sampled i in c} d_i / Σ_{respondents i in c} d_i
//! ```
//!
//! and the non-respondents get weight 0, so each cell keeps its total base weight. This is
//! the classical weighting-class adjustment (the inverse of the weighted response rate); R's
//! survey package has no function for it (one writes it with `ave()` or a `postStratify` to
//! the sampled totals), so the numbers here are checked by hand in the tests.
//!
//! Collapsing follows a fixed, documented rule so that results are reproducible: the first
//! deficient cell in sort order is merged with its neighbour — the adjacent cell that agrees
//! on every cell variable except the last (the previous one if it agrees, else the next),
//! or failing that the adjacent cell in sort order (previous, else next) — and the check
//! repeats on the merged cells.

use crate::error::Location;
use crate::numeric::Sum;
use crate::table::{Column, ColumnData, Table};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::PathBuf;

/// The value of one cell variable in a cell's key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellKey {
    /// A numeric value (never NaN; -0 is stored as +0).
    Num(f64),
    /// A category code: an index into the column's (sorted) levels.
    Cat(u32),
}

impl CellKey {
    /// Numbers in numeric order, categories in level order. One column is either numeric or
    /// categorical, so the mixed case only orders keys of different columns consistently.
    fn cmp(&self, other: &CellKey) -> Ordering {
        match (self, other) {
            (CellKey::Num(a), CellKey::Num(b)) => a.total_cmp(b),
            (CellKey::Cat(a), CellKey::Cat(b)) => a.cmp(b),
            (CellKey::Num(_), CellKey::Cat(_)) => Ordering::Less,
            (CellKey::Cat(_), CellKey::Num(_)) => Ordering::Greater,
        }
    }

    /// A hashable form: the bits of the number or the code.
    fn bits(&self) -> (bool, u64) {
        match *self {
            CellKey::Num(x) => (false, x.to_bits()),
            CellKey::Cat(c) => (true, u64::from(c)),
        }
    }
}

/// A key tuple in hashable form (see [`CellKey::bits`]).
type KeyBits = Vec<(bool, u64)>;

fn cmp_keys(a: &[CellKey], b: &[CellKey]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.cmp(y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    a.len().cmp(&b.len())
}

/// The adjustment cells: the cross-classification of the cell variables, with the cells that
/// have at least one row, in the order of their key tuples.
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    /// The cell variables, in the order given.
    pub vars: Vec<String>,
    /// The cell of each row: an index into `labels`, `keys` and `values`.
    pub row_cell: Vec<u32>,
    /// `var=value, var=value` per cell (`all` when there are no cell variables).
    pub labels: Vec<String>,
    /// The key tuple of each cell, one entry per variable.
    pub keys: Vec<Vec<CellKey>>,
    /// The key tuple of each cell as text, as the values are written in the data.
    pub values: Vec<Vec<String>>,
    /// The file the rows came from, for messages.
    pub source: Option<PathBuf>,
}

impl Cells {
    /// The number of cells.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The adjustment cells of `table` by the variables `vars` (numeric or categorical columns).
/// A missing value in a cell variable is an error naming the file, row and column. With no
/// variables every row is in one cell, `all`.
pub fn cells(table: &Table, vars: &[String]) -> Result<Cells> {
    let n = table.nrows();
    let mut columns = Vec::with_capacity(vars.len());
    for var in vars {
        let col = table.require(var)?;
        if let Some(i) = (0..n).find(|&i| col.is_missing(i)) {
            return Err(Error::input(
                Location::source(table.source.clone())
                    .row(i + 1)
                    .column(var),
                None,
                "missing value of a non-response cell variable; every row needs one",
            ));
        }
        columns.push(col);
    }
    let key_at = |col: &Column, i: usize| match &col.data {
        // +0.0 and -0.0 are one value.
        ColumnData::Num(v) => CellKey::Num(v[i] + 0.0),
        ColumnData::Cat { codes, .. } => CellKey::Cat(codes[i]),
    };
    let key = |i: usize| -> Vec<CellKey> { columns.iter().map(|col| key_at(col, i)).collect() };

    // Cells numbered in order of appearance first (one allocation per cell, not per row),
    // each with the first row that has it (for its key and text); sorted afterwards.
    let mut seen: HashMap<KeyBits, u32> = HashMap::new();
    let mut first_rows: Vec<usize> = Vec::new();
    let mut row_cell: Vec<u32> = Vec::with_capacity(n);
    let mut buf: KeyBits = Vec::with_capacity(columns.len());
    for i in 0..n {
        buf.clear();
        buf.extend(columns.iter().map(|col| key_at(col, i).bits()));
        let id = match seen.get(buf.as_slice()) {
            Some(&id) => id,
            None => {
                let id = first_rows.len() as u32;
                seen.insert(buf.clone(), id);
                first_rows.push(i);
                id
            }
        };
        row_cell.push(id);
    }
    let first_keys: Vec<Vec<CellKey>> = first_rows.iter().map(|&i| key(i)).collect();
    let mut order: Vec<usize> = (0..first_rows.len()).collect();
    order.sort_by(|&a, &b| cmp_keys(&first_keys[a], &first_keys[b]));
    let mut rank = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    for c in &mut row_cell {
        *c = rank[*c as usize];
    }
    let distinct: Vec<(Vec<CellKey>, usize)> = order
        .iter()
        .map(|&old| (first_keys[old].clone(), first_rows[old]))
        .collect();

    let mut labels = Vec::with_capacity(distinct.len());
    let mut keys = Vec::with_capacity(distinct.len());
    let mut values = Vec::with_capacity(distinct.len());
    for (k, row) in &distinct {
        let texts: Vec<String> = columns
            .iter()
            .map(|col| col.text(*row).unwrap_or_default())
            .collect();
        let label = if vars.is_empty() {
            "all".to_string()
        } else {
            vars.iter()
                .zip(&texts)
                .map(|(v, t)| format!("{v}={t}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        labels.push(label);
        keys.push(k.clone());
        values.push(texts);
    }
    Ok(Cells {
        vars: vars.to_vec(),
        row_cell,
        labels,
        keys,
        values,
        source: table.source.clone(),
    })
}

/// When a cell is deficient, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NonresponseOptions {
    /// Merge deficient cells with a neighbour instead of stopping with an error.
    pub collapse: bool,
    /// The fewest respondents a cell may have (default 1; 0 is taken as 1, since a cell
    /// without respondents cannot be adjusted).
    pub min_respondents: usize,
    /// The largest adjustment factor a cell may have (none by default); at least 1.
    pub max_factor: Option<f64>,
}

impl Default for NonresponseOptions {
    fn default() -> Self {
        NonresponseOptions {
            collapse: false,
            min_respondents: 1,
            max_factor: None,
        }
    }
}

/// One cell of the adjustment, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellReport {
    pub label: String,
    /// Rows in the cell (respondents and non-respondents).
    pub sampled: usize,
    pub respondents: usize,
    /// Σ d over the sampled rows.
    pub weighted_sampled: f64,
    /// Σ d over the respondents.
    pub weighted_respondents: f64,
    /// `weighted_respondents / weighted_sampled`; `None` when the cell has no base weight.
    pub response_rate: Option<f64>,
    /// The factor the cell's respondents got (that of the final cell the cell went into);
    /// `None` when that cell has no base weight at all (its rows all get 0).
    pub factor: Option<f64>,
    /// The factor of this cell on its own, before any merging; `None` when its respondents
    /// have no base weight.
    pub own_factor: Option<f64>,
    /// The label of the final cell this cell was merged into; `None` if it was kept.
    pub merged_into: Option<String>,
}

/// The adjusted weights and the record of how they were made.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjusted {
    /// One per row: d × factor for respondents, 0 for non-respondents.
    pub weights: Vec<f64>,
    /// The final cell of each row: an index into `final_cells`.
    pub final_cell: Vec<u32>,
    /// The cells after collapsing, in sort order of their first original cell; a merged
    /// cell's label joins its original labels with ` + `.
    pub final_cells: Vec<CellReport>,
    /// One per original cell, in the order of [`Cells`].
    pub report: Vec<CellReport>,
}

impl Adjusted {
    /// The same adjustment (the same final cells) with other base weights `d`, as
    /// [`reapply`]: for replicate weights.
    pub fn reapply(&self, d: &[f64], respondent: &[bool]) -> Vec<f64> {
        reapply(d, respondent, &self.final_cell, self.final_cells.len())
    }
}

/// Sampled and respondent counts and weighted totals of some cells.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    sampled: usize,
    respondents: usize,
    weighted_sampled: Sum,
    weighted_respondents: Sum,
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.sampled += other.sampled;
        self.respondents += other.respondents;
        self.weighted_sampled.merge(other.weighted_sampled);
        self.weighted_respondents.merge(other.weighted_respondents);
    }

    fn factor(&self) -> Option<f64> {
        let r = self.weighted_respondents.value();
        (r > 0.0).then(|| self.weighted_sampled.value() / r)
    }
}

fn tally(d: &[f64], respondent: &[bool], cell: &[u32], n_cells: usize) -> Vec<Tally> {
    let mut t = vec![Tally::default(); n_cells];
    for ((&di, &r), &c) in d.iter().zip(respondent).zip(cell) {
        let t = &mut t[c as usize];
        t.sampled += 1;
        t.weighted_sampled.add(di);
        if r {
            t.respondents += 1;
            t.weighted_respondents.add(di);
        }
    }
    t
}

/// Adjusts the base weights `d` for non-response within `cells` (see the module docs).
///
/// A cell is deficient when it has fewer than `min_respondents` respondents (always when it
/// has none), when its respondents have no base weight but the cell has some, or when its
/// factor exceeds `max_factor`. Without `collapse` a deficient cell is an error naming it;
/// with `collapse` deficient cells are merged with neighbours until none is left (an error if
/// even the single cell of everything is deficient).
///
/// Rows with d = 0 are allowed (they add nothing to either total); a negative or non-finite
/// d is an error naming the row.
pub fn adjust(
    d: &[f64],
    respondent: &[bool],
    cells: &Cells,
    opts: &NonresponseOptions,
) -> Result<Adjusted> {
    let n = cells.row_cell.len();
    if d.len() != n || respondent.len() != n {
        return Err(Error::Usage(format!(
            "non-response adjustment: {} base weights and {} response indicators for {n} rows",
            d.len(),
            respondent.len()
        )));
    }
    if let Some(i) = d.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
        return Err(Error::input(
            Location::source(cells.source.clone()).row(i + 1),
            Some(d[i].to_string()),
            "a base weight must be a finite number, zero or more, for the non-response \
             adjustment",
        ));
    }
    if let Some(m) = opts.max_factor {
        if m.is_nan() || m < 1.0 {
            return Err(Error::Usage(format!(
                "the largest non-response factor must be at least 1 (it is {m}): a factor \
                 is a sampled total over a respondent total"
            )));
        }
    }
    let min_respondents = opts.min_respondents.max(1);

    let k = cells.len();
    // `Cells` has public fields; one built by hand must still be consistent.
    if cells.keys.len() != k || cells.row_cell.iter().any(|&c| c as usize >= k) {
        return Err(Error::Usage(format!(
            "non-response cells are inconsistent: {k} labels, {} keys, and rows in cells up \
             to {}",
            cells.keys.len(),
            cells.row_cell.iter().max().map_or(0, |&c| c as usize + 1)
        )));
    }
    let own = tally(d, respondent, &cells.row_cell, k);
    let deficiency = |t: &Tally| -> Option<String> {
        if t.respondents < min_respondents {
            return Some(if t.respondents == 0 {
                "no respondents".to_string()
            } else {
                format!("fewer respondents than the minimum {min_respondents}")
            });
        }
        match (t.factor(), opts.max_factor) {
            (None, _) if t.weighted_sampled.value() > 0.0 => {
                Some("its respondents have no base weight".to_string())
            }
            (Some(f), Some(m)) if f > m => Some(format!("its factor {f} exceeds the maximum {m}")),
            _ => None,
        }
    };
    let describe = |label: &str, t: &Tally, why: &str| {
        format!(
            "non-response cell `{label}` has {} sampled and {} respondents: {why}",
            t.sampled, t.respondents
        )
    };

    // Groups of original cells: contiguous runs in sort order.
    let mut groups: Vec<Vec<usize>> = (0..k).map(|c| vec![c]).collect();
    let group_tally = |g: &[usize]| {
        let mut t = Tally::default();
        for &c in g {
            t.merge(&own[c]);
        }
        t
    };
    let group_label = |g: &[usize]| {
        g.iter()
            .map(|&c| cells.labels[c].as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    };

    if !opts.collapse {
        let bad: Vec<(usize, String)> = (0..k)
            .filter_map(|c| deficiency(&own[c]).map(|why| (c, why)))
            .collect();
        if let Some((c, why)) = bad.first() {
            let others = match bad.len() - 1 {
                0 => String::new(),
                1 => " (and 1 other cell)".to_string(),
                m => format!(" (and {m} other cells)"),
            };
            return Err(Error::Design(format!(
                "{}{others}; allow collapsing cells (`collapse = true`) or use coarser cells",
                describe(&cells.labels[*c], &own[*c], why)
            )));
        }
    } else {
        // The key prefix (all variables but the last) a group shares, if it shares one.
        let prefix_of = |c: usize| {
            let key = &cells.keys[c];
            &key[..key.len().saturating_sub(1)]
        };
        let prefix = |g: &[usize]| -> Option<&[CellKey]> {
            let first = prefix_of(*g.first()?);
            g.iter()
                .all(|&c| cmp_keys(prefix_of(c), first) == Ordering::Equal)
                .then_some(first)
        };
        let agree = |a: &[usize], b: &[usize]| match (prefix(a), prefix(b)) {
            (Some(x), Some(y)) => cmp_keys(x, y) == Ordering::Equal,
            _ => false,
        };
        loop {
            let found = groups
                .iter()
                .enumerate()
                .find_map(|(g, members)| deficiency(&group_tally(members)).map(|why| (g, why)));
            let Some((g, why)) = found else { break };
            if groups.len() == 1 {
                let t = group_tally(&groups[0]);
                return Err(Error::Design(format!(
                    "{}, even with every cell collapsed into one; check the response \
                     indicator and the options `min_respondents` and `max_factor`",
                    describe("all rows", &t, &why)
                )));
            }
            let prev = g.checked_sub(1);
            let next = (g + 1 < groups.len()).then_some(g + 1);
            let partner = match (prev, next) {
                (Some(p), _) if agree(&groups[p], &groups[g]) => p,
                (_, Some(q)) if agree(&groups[q], &groups[g]) => q,
                (Some(p), _) => p,
                (None, Some(q)) => q,
                // Unreachable: more than one group means g has a neighbour.
                (None, None) => break,
            };
            let (lo, hi) = if partner < g {
                (partner, g)
            } else {
                (g, partner)
            };
            let moved = groups.remove(hi);
            groups[lo].extend(moved);
        }
    }

    let mut group_of = vec![0u32; k];
    for (g, members) in groups.iter().enumerate() {
        for &c in members {
            group_of[c] = g as u32;
        }
    }
    let final_cell: Vec<u32> = cells
        .row_cell
        .iter()
        .map(|&c| group_of[c as usize])
        .collect();
    let finals = tally(d, respondent, &final_cell, groups.len());
    let weights = weights_from(d, respondent, &final_cell, &finals);

    let report_of = |label: String, t: &Tally, factor: Option<f64>, merged_into| {
        let ws = t.weighted_sampled.value();
        let wr = t.weighted_respondents.value();
        CellReport {
            label,
            sampled: t.sampled,
            respondents: t.respondents,
            weighted_sampled: ws,
            weighted_respondents: wr,
            response_rate: (ws > 0.0).then(|| wr / ws),
            factor,
            own_factor: t.factor(),
            merged_into,
        }
    };
    let final_cells: Vec<CellReport> = groups
        .iter()
        .zip(&finals)
        .map(|(members, t)| report_of(group_label(members), t, t.factor(), None))
        .collect();
    let report = (0..k)
        .map(|c| {
            let g = group_of[c] as usize;
            let merged_into = (groups[g].len() > 1).then(|| final_cells[g].label.clone());
            report_of(
                cells.labels[c].clone(),
                &own[c],
                final_cells[g].factor,
                merged_into,
            )
        })
        .collect();

    Ok(Adjusted {
        weights,
        final_cell,
        final_cells,
        report,
    })
}

/// Respondents get d × factor of their cell, non-respondents 0; a cell whose respondents have
/// no positive weight total gives all its rows 0.
fn weights_from(d: &[f64], respondent: &[bool], cell: &[u32], tallies: &[Tally]) -> Vec<f64> {
    let factors: Vec<f64> = tallies.iter().map(|t| t.factor().unwrap_or(0.0)).collect();
    d.iter()
        .zip(respondent)
        .zip(cell)
        .map(|((&di, &r), &c)| if r { di * factors[c as usize] } else { 0.0 })
        .collect()
}

/// Repeats an adjustment with other base weights `d` in the same final cells (`final_cell`
/// from [`Adjusted`], `n_cells` = its number of final cells): each replicate of a replicate
/// design repeats the non-response adjustment with its own replicate weights.
///
/// A cell whose respondents all have zero weight in this replicate (a jackknife replicate
/// that drops the PSUs of all of them, say) has no factor; its rows all get 0 rather than
/// NaN or infinity. The cell's replicate total is then not kept: its non-respondents' weight
/// has nobody to go to in that replicate.
///
/// The slices are per row and must have the same length (only the rows all three have are
/// used, so a shorter slice shortens the result); cell indices at or above `n_cells` are
/// taken as further cells.
pub fn reapply(d: &[f64], respondent: &[bool], final_cell: &[u32], n_cells: usize) -> Vec<f64> {
    let rows = d.len().min(respondent.len()).min(final_cell.len());
    debug_assert!(d.len() == rows && respondent.len() == rows && final_cell.len() == rows);
    let (d, respondent, final_cell) = (&d[..rows], &respondent[..rows], &final_cell[..rows]);
    let n_cells = final_cell
        .iter()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0)
        .max(n_cells);
    let t = tally(d, respondent, final_cell, n_cells);
    weights_from(d, respondent, final_cell, &t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    fn table() -> Table {
        // area (numeric) × age (text); cells in order:
        // 0: area=1, age=old   rows 2, 3
        // 1: area=1, age=young rows 0, 1
        // 2: area=2, age=old   row 5
        // 3: area=2, age=young rows 4, 6
        // 4: area=10, age=young row 7 (10 after 2: numeric order)
        Table::from_columns(vec![
            Column::num("area", vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 10.0]),
            Column::cat_from_strings(
                "age",
                &[
                    Some("young"),
                    Some("young"),
                    Some("old"),
                    Some("old"),
                    Some("young"),
                    Some("old"),
                    Some("young"),
                    Some("young"),
                ],
            ),
        ])
        .expect("table")
    }

    fn vars(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cells_are_sorted_by_key() {
        let c = cells(&table(), &vars(&["area", "age"])).expect("cells");
        assert_eq!(
            c.labels,
            [
                "area=1, age=old",
                "area=1, age=young",
                "area=2, age=old",
                "area=2, age=young",
                "area=10, age=young"
            ]
        );
        assert_eq!(c.row_cell, [1, 1, 0, 0, 3, 2, 3, 4]);
        assert_eq!(c.keys[4], [CellKey::Num(10.0), CellKey::Cat(1)]);
        assert_eq!(c.values[2], ["2", "old"]);

        let all = cells(&table(), &[]).expect("cells");
        assert_eq!(all.labels, ["all"]);
        assert_eq!(all.row_cell, [0; 8]);
    }

    #[test]
    fn missing_cell_value_names_row_and_column() {
        let t = Table::from_columns(vec![
            Column::num("area", vec![1.0, f64::NAN]),
            Column::cat_from_strings("age", &[Some("a"), None]),
        ])
        .expect("table");
        let e = cells(&t, &vars(&["age"])).expect_err("missing");
        let msg = e.to_string();
        assert!(msg.contains("row 2") && msg.contains("`age`"), "{msg}");
        assert!(cells(&t, &vars(&["nope"])).is_err());
    }

    #[test]
    fn factors_keep_each_cell_total() {
        let c = cells(&table(), &vars(&["area"])).expect("cells");
        let d = [10.0, 20.0, 30.0, 40.0, 5.0, 5.0, 10.0, 7.0];
        let r = [true, false, true, true, true, false, false, true];
        let a = adjust(&d, &r, &c, &NonresponseOptions::default()).expect("adjusts");
        // area 1: 100 sampled over 80 responding; area 2: 20 over 5; area 10: 7 over 7.
        let expected = [12.5, 0.0, 37.5, 50.0, 20.0, 0.0, 0.0, 7.0];
        for (w, e) in a.weights.iter().zip(expected) {
            assert!((w - e).abs() < 1e-12, "{:?}", a.weights);
        }
        assert_eq!(a.final_cell, [0, 0, 0, 0, 1, 1, 1, 2]);
        let r1 = &a.report[1];
        assert_eq!((r1.sampled, r1.respondents), (3, 1));
        assert_eq!(r1.weighted_sampled, 20.0);
        assert_eq!(r1.weighted_respondents, 5.0);
        assert_eq!(r1.response_rate, Some(0.25));
        assert_eq!(r1.factor, Some(4.0));
        assert_eq!(r1.merged_into, None);
        assert!(serde_json::to_string(&a.report).is_ok());
        // The same cells with the same weights give the same weights, bit for bit.
        assert_eq!(a.reapply(&d, &r), a.weights);
    }

    #[test]
    fn deficient_cell_without_collapse_is_an_error() {
        let c = cells(&table(), &vars(&["area", "age"])).expect("cells");
        let d = [1.0; 8];
        // area=2, age=old (row 5) does not respond.
        let r = [true, true, true, true, true, false, true, true];
        let e = adjust(&d, &r, &c, &NonresponseOptions::default()).expect_err("deficient");
        let msg = e.to_string();
        assert!(matches!(e, Error::Design(_)));
        assert!(msg.contains("`area=2, age=old`"), "{msg}");
        assert!(msg.contains("1 sampled and 0 respondents"), "{msg}");
        assert!(msg.contains("collapse = true"), "{msg}");
    }

    #[test]
    fn collapsing_prefers_the_previous_cell_with_the_same_prefix() {
        let c = cells(&table(), &vars(&["area", "age"])).expect("cells");
        let d = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0];
        // area=1, age=old (cell 0) has no respondent: no previous cell, so it joins the next
        // one with area=1. area=2, age=young (cell 3) has none: it joins area=2, age=old.
        let r = [true, false, false, false, false, true, false, true];
        let opts = NonresponseOptions {
            collapse: true,
            ..Default::default()
        };
        let a = adjust(&d, &r, &c, &opts).expect("adjusts");
        let labels: Vec<&str> = a.final_cells.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "area=1, age=old + area=1, age=young",
                "area=2, age=old + area=2, age=young",
                "area=10, age=young"
            ]
        );
        assert_eq!(
            a.report[0].merged_into.as_deref(),
            Some("area=1, age=old + area=1, age=young")
        );
        assert_eq!(a.report[4].merged_into, None);
        // area 1: 6 over 1; area 2: 9 over 3.
        let expected = [6.0, 0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 4.0];
        assert_eq!(a.weights, expected);
        assert_eq!(a.report[0].factor, Some(6.0));
        assert_eq!(a.report[0].own_factor, None);
        assert_eq!(a.final_cell, [0, 0, 0, 0, 1, 1, 1, 2]);
    }

    #[test]
    fn a_lone_cell_joins_the_adjacent_cell() {
        let c = cells(&table(), &vars(&["area", "age"])).expect("cells");
        let d = [1.0; 8];
        // area=10 (the only cell of its area, the last overall) has no respondent: it joins
        // the previous cell in sort order, area=2, age=young.
        let r = [true, true, true, true, true, true, true, false];
        let opts = NonresponseOptions {
            collapse: true,
            ..Default::default()
        };
        let a = adjust(&d, &r, &c, &opts).expect("adjusts");
        assert_eq!(a.final_cells.len(), 4);
        assert_eq!(
            a.final_cells[3].label,
            "area=2, age=young + area=10, age=young"
        );
        assert_eq!(a.weights[4], 1.5);
        assert_eq!(a.weights[6], 1.5);
        assert_eq!(a.weights[7], 0.0);
        let total: f64 = a.weights.iter().sum();
        assert!((total - 8.0).abs() < 1e-12);
    }

    #[test]
    fn max_factor_and_min_respondents_trigger_collapsing() {
        let c = cells(&table(), &vars(&["area"])).expect("cells");
        let d = [1.0; 8];
        // area 1: 4 over 3; area 2: 3 over 1 (factor 3); area 10: 1 over 1.
        let r = [true, true, true, false, true, false, false, true];
        let strict = NonresponseOptions {
            max_factor: Some(2.0),
            ..Default::default()
        };
        let e = adjust(&d, &r, &c, &strict).expect_err("factor 3 > 2");
        assert!(
            e.to_string().contains("factor 3 exceeds the maximum 2"),
            "{e}"
        );

        let opts = NonresponseOptions {
            collapse: true,
            max_factor: Some(2.0),
            ..Default::default()
        };
        let a = adjust(&d, &r, &c, &opts).expect("adjusts");
        // area 2 joins area 1 (previous): 7 over 4.
        assert_eq!(a.final_cells.len(), 2);
        assert_eq!(a.final_cells[0].label, "area=1 + area=2");
        assert_eq!(a.final_cells[0].factor, Some(7.0 / 4.0));

        let opts = NonresponseOptions {
            collapse: true,
            min_respondents: 2,
            ..Default::default()
        };
        let a = adjust(&d, &r, &c, &opts).expect("adjusts");
        // area 2 (1 respondent) joins area 1; then area 10 (1) joins that.
        assert_eq!(a.final_cells.len(), 1);
        assert_eq!(a.final_cells[0].label, "area=1 + area=2 + area=10");
        assert_eq!(a.final_cells[0].factor, Some(8.0 / 5.0));
    }

    #[test]
    fn nobody_responding_is_an_error_even_collapsed() {
        let c = cells(&table(), &vars(&["area"])).expect("cells");
        let opts = NonresponseOptions {
            collapse: true,
            ..Default::default()
        };
        let e = adjust(&[1.0; 8], &[false; 8], &c, &opts).expect_err("no respondents");
        assert!(e.to_string().contains("every cell collapsed"), "{e}");
    }

    #[test]
    fn zero_and_bad_base_weights() {
        let c = cells(&table(), &vars(&["area"])).expect("cells");
        let r = [true, false, true, true, true, false, true, true];
        // Zero base weights are fine.
        let d = [0.0, 2.0, 1.0, 1.0, 1.0, 1.0, 0.0, 3.0];
        let a = adjust(&d, &r, &c, &NonresponseOptions::default()).expect("adjusts");
        assert_eq!(a.weights[0], 0.0);
        assert_eq!(a.weights[2], 2.0);
        assert_eq!(a.weights[6], 0.0);
        // Area 2: respondents 4 (d 1) and 6 (d 0) carry the sampled 2: factor 2.
        assert_eq!(a.weights[4], 2.0);

        // Respondents with no base weight in a cell that has some: deficient.
        let d = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let e = adjust(&d, &r, &c, &NonresponseOptions::default()).expect_err("deficient");
        assert!(e.to_string().contains("no base weight"), "{e}");

        let mut d = [1.0; 8];
        d[3] = -1.0;
        let e = adjust(&d, &r, &c, &NonresponseOptions::default()).expect_err("negative");
        assert!(e.to_string().contains("row 4"), "{e}");
        d[3] = f64::NAN;
        assert!(adjust(&d, &r, &c, &NonresponseOptions::default()).is_err());
        assert!(adjust(&[1.0; 3], &r, &c, &NonresponseOptions::default()).is_err());
        let bad = NonresponseOptions {
            max_factor: Some(0.5),
            ..Default::default()
        };
        assert!(adjust(&[1.0; 8], &r, &c, &bad).is_err());
    }

    #[test]
    fn reapply_zero_replicate_cell_gives_zeros() {
        let c = cells(&table(), &vars(&["area"])).expect("cells");
        let d = [1.0; 8];
        let r = [true, false, true, true, true, false, false, true];
        let a = adjust(&d, &r, &c, &NonresponseOptions::default()).expect("adjusts");
        // A replicate that zeroes area 2's only respondent (row 4).
        let rep = [2.0, 2.0, 0.0, 1.0, 0.0, 3.0, 3.0, 1.0];
        let w = a.reapply(&rep, &r);
        assert!(w.iter().all(|x| x.is_finite()));
        // area 1: 5 over 3; area 2: nothing; area 10: 1.
        let expected = [10.0 / 3.0, 0.0, 0.0, 5.0 / 3.0, 0.0, 0.0, 0.0, 1.0];
        for (x, e) in w.iter().zip(expected) {
            assert!((x - e).abs() < 1e-12, "{w:?}");
        }
        // The free function with a too-small cell count still covers every cell.
        assert_eq!(reapply(&rep, &r, &a.final_cell, 0), w);
    }

    /// apistrat, cells stype × yr.rnd, respondents `sch.wide == "Yes"`, base weights `pw`.
    /// R 4.2.2 (no package needed):
    /// ```r
    /// d <- read.csv("apistrat.csv"); resp <- d$sch.wide == "Yes"
    /// cell <- interaction(d$stype, d$yr.rnd, lex.order = TRUE, drop = TRUE)
    /// tapply(d$pw, cell, sum) / tapply(d$pw * resp, cell, sum)   # H.Yes: 1 sampled, 0 resp.
    /// cell2 <- as.character(cell); cell2[cell2 %in% c("H.No", "H.Yes")] <- "H"
    /// f2 <- tapply(d$pw, cell2, sum) / tapply(d$pw * resp, cell2, sum)
    /// w2 <- ifelse(resp, d$pw * f2[cell2], 0); sum(w2); sum(w2^2)
    /// ```
    #[test]
    fn apistrat_matches_r() {
        #![allow(clippy::excessive_precision)]
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/data/apistrat.csv");
        let t = crate::table::read::read_table(&path, &Default::default()).expect("apistrat");
        let c = cells(&t, &vars(&["stype", "yr.rnd"])).expect("cells");
        let d = t.require_num("pw").expect("pw").to_vec();
        let r: Vec<bool> = (0..t.nrows())
            .map(|i| t.column("sch.wide").and_then(|col| col.text(i)).as_deref() == Some("Yes"))
            .collect();

        let e = adjust(&d, &r, &c, &NonresponseOptions::default()).expect_err("H.Yes");
        assert!(
            e.to_string()
                .contains("`stype=H, yr.rnd=Yes` has 1 sampled and 0 respondents"),
            "{e}"
        );

        let opts = NonresponseOptions {
            collapse: true,
            ..Default::default()
        };
        let a = adjust(&d, &r, &c, &opts).expect("adjusts");
        let own = [
            ("stype=E, yr.rnd=No", 82, 74, Some(1.1081081081081081)),
            ("stype=E, yr.rnd=Yes", 18, 17, Some(1.0588235294117647)),
            ("stype=H, yr.rnd=No", 49, 26, Some(1.8846153846153846)),
            ("stype=H, yr.rnd=Yes", 1, 0, None),
            ("stype=M, yr.rnd=No", 48, 34, Some(1.411764705882353)),
            ("stype=M, yr.rnd=Yes", 2, 1, Some(2.0)),
        ];
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-14 * b,
            (a, b) => a == b,
        };
        for (rep, (label, sampled, respondents, factor)) in a.report.iter().zip(own) {
            assert_eq!(rep.label, label);
            assert_eq!((rep.sampled, rep.respondents), (sampled, respondents));
            assert!(close(rep.own_factor, factor), "{rep:?}");
        }
        let merged = "stype=H, yr.rnd=No + stype=H, yr.rnd=Yes";
        assert_eq!(a.report[2].merged_into.as_deref(), Some(merged));
        assert_eq!(a.report[3].merged_into.as_deref(), Some(merged));
        let finals = [
            1.1081081081081081,
            1.0588235294117647,
            1.9230769230769231,
            1.411764705882353,
            2.0,
        ];
        assert_eq!(a.final_cells.len(), finals.len());
        for (f, r) in a.final_cells.iter().zip(finals) {
            assert!(close(f.factor, Some(r)), "{f:?}");
        }
        let sum: f64 = crate::numeric::sum(&a.weights);
        let sum_sq: f64 = a.weights.iter().map(|w| w * w).sum();
        assert!((sum - 6193.9999580383301).abs() < 1e-12 * 6194.0, "{sum}");
        assert!(
            (sum_sq - 266521.12540548207).abs() < 1e-12 * 266521.0,
            "{sum_sq}"
        );
    }

    #[test]
    fn empty_input() {
        let t = Table::from_columns(vec![Column::num("area", vec![])]).expect("table");
        let c = cells(&t, &vars(&["area"])).expect("cells");
        assert!(c.is_empty());
        let a = adjust(&[], &[], &c, &NonresponseOptions::default()).expect("adjusts");
        assert!(a.weights.is_empty() && a.report.is_empty());
    }
}
