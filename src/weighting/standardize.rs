//! Direct standardisation of domain estimates to a standard population, as R survey's
//! `svystandardize(design, by, over, population, excluding.missing)`.
//!
//! Within each domain g of a breakdown (R's `over`; the whole population when there is none)
//! the rows of standardising cell a are post-stratified to `share_a × W_g`, where
//! `share_a = population_a / Σ population` and `W_g` is the domain's weight sum. A domain's
//! mean becomes `Σ_a share_a ȳ_{a,g}`: what it would be if its composition by the
//! standardising variables were the standard population's. The variance is that of
//! post-stratification on the cells a × g ([`PostStratFit`], after any calibration's
//! residuals); replicate weights are post-stratified to the same cell totals.
//!
//! Only the analysed rows take part (valid value, in the subset, known domain); the others
//! get weight 0, as `excluding.missing` removes them in R. A cell with no respondents in a
//! domain is left out (R's `partial = TRUE`), so that domain's shares are renormalised over
//! the levels it has; the respondents of a level whose population is 0 get weight 0.

use super::calibrated::Residuals;
use super::margins::{self, locate_rows, MarginFile, Role};
use super::rake::{post_stratify, Margin, PostStratFit};
use crate::design::Design;
use crate::estimate::domain::breakdown;
use crate::table::{format_number, Table};
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The role of a standard population in messages.
pub const STANDARD: Role = Role {
    variable: "standardising variable",
    file: "standard population",
};

/// Reads a standard population file: the standardising variables' levels and a `population`
/// column, one row per cell.
pub fn read_standard(path: &Path) -> Result<MarginFile> {
    margins::read_cells(path, "population", "a standard population file")
}

/// [`read_standard`], checking that the file's variables are the standardising `variables`.
pub fn read_checked(path: &Path, variables: &[String]) -> Result<MarginFile> {
    let file = read_standard(path)?;
    let mut a: Vec<&String> = file.variables.iter().collect();
    let mut b: Vec<&String> = variables.iter().collect();
    a.sort();
    b.sort();
    if a != b {
        return Err(Error::input(
            crate::error::Location::file(&file.path),
            None,
            format!(
                "the standard population has the variables {} but --standardize names {}; give one column per standardising variable and `population`",
                file.variables.join(", "),
                variables.join(", ")
            ),
        ));
    }
    Ok(file)
}

/// A survey's own weighted structure as a standard population: the weighted count of `rows`
/// in each combination of `variables` (rows with a missing value are left out, as R's
/// `svytable`). `name` names it in messages.
pub fn survey_standard(
    table: &Table,
    weights: &[f64],
    variables: &[String],
    rows: &[u32],
    name: &str,
) -> Result<MarginFile> {
    let groups = breakdown(table, variables, rows)?;
    if groups.is_empty() {
        return Err(Error::Usage(format!(
            "{name} has no respondent with every standardising variable ({}) known",
            variables.join(", ")
        )));
    }
    let columns: Vec<&crate::table::Column> = variables
        .iter()
        .map(|v| table.require(v))
        .collect::<Result<_>>()?;
    let cells = groups
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let first = g.rows[0] as usize;
            margins::MarginCell {
                values: columns
                    .iter()
                    .map(|c| c.text(first).unwrap_or_default().trim().to_string())
                    .collect(),
                total: g.rows.iter().map(|&i| weights[i as usize]).sum(),
                row: k + 1,
            }
        })
        .collect();
    Ok(MarginFile {
        path: PathBuf::from(name),
        variables: variables.to_vec(),
        cells,
    })
}

/// A standardised design and the domains that lack respondents in some cell with a
/// population share: their estimates use the shares of the cells present, renormalised.
#[derive(Debug, Clone)]
pub struct Standardized {
    pub design: Design,
    /// (domain, its cells without respondents).
    pub missing: Vec<(String, Vec<String>)>,
}

/// The missing cells of every standardisation of a run, gathered per domain so that the
/// analyst gets one warning, not one per estimate.
#[derive(Debug, Clone, Default)]
pub struct MissingCells(BTreeMap<String, BTreeSet<String>>);

impl MissingCells {
    pub fn add(&mut self, missing: Vec<(String, Vec<String>)>) {
        for (domain, cells) in missing {
            self.0.entry(domain).or_default().extend(cells);
        }
    }

    /// Takes in the cells another part of the work found missing.
    pub fn merge(&mut self, other: MissingCells) {
        for (domain, cells) in other.0 {
            self.0.entry(domain).or_default().extend(cells);
        }
    }

    /// One warning (none when every domain had every cell), listing up to 10 domains.
    pub fn warning(&self) -> Option<String> {
        const SHOWN: usize = 10;
        if self.0.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .0
            .iter()
            .take(SHOWN)
            .map(|(d, cells)| {
                format!(
                    "{d} ({})",
                    cells.iter().cloned().collect::<Vec<_>>().join("; ")
                )
            })
            .collect();
        let more = self.0.len().saturating_sub(SHOWN);
        Some(format!(
            "{} domain{} without respondents in some standardising cells use the other cells' shares, renormalised: {}{}",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" },
            list.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }
}

/// Standardises `design` to `standard` within the domains of the breakdown over `over`
/// (empty: the whole population), using the analysed `rows` only.
pub fn standardize(
    design: &Design,
    table: &Table,
    standard: &MarginFile,
    over: &[String],
    rows: &[u32],
) -> Result<Standardized> {
    let n = design.n;
    let (groups, labels): (Vec<Vec<u32>>, Vec<String>) = if over.is_empty() {
        (
            vec![rows.to_vec()],
            vec!["the whole population".to_string()],
        )
    } else {
        breakdown(table, over, rows)?
            .into_iter()
            .map(|d| (d.rows, format!("{}={}", d.by, d.group)))
            .unzip()
    };
    let mut d = vec![0.0; n];
    let mut group_of = vec![0u32; n];
    for (g, rs) in groups.iter().enumerate() {
        for &i in rs {
            d[i as usize] = design.weights[i as usize];
            group_of[i as usize] = g as u32;
        }
    }
    let (cell_of_row, _) = locate_rows(table, &d, standard, STANDARD)?;
    let population = standard.grand_total();
    if population <= 0.0 || !population.is_finite() {
        return Err(Error::Design(format!(
            "standard population {}: the populations add up to {}; they must add up to a positive number",
            standard.path.display(),
            format_number(population)
        )));
    }
    let k = standard.cells.len();
    // Post-strata: cell c of domain g is g * k + c; rows outside the analysis sit in post-stratum 0
    // with weight 0 before and after.
    let strata: Vec<u32> = (0..n)
        .map(|i| {
            let c = cell_of_row[i];
            if d[i] == 0.0 || c == crate::table::MISSING_CODE {
                0
            } else {
                group_of[i] * k as u32 + c
            }
        })
        .collect();
    let mut reached = vec![0.0; groups.len() * k];
    let mut domain_weight = vec![0.0; groups.len()];
    for i in 0..n {
        if d[i] != 0.0 {
            reached[strata[i] as usize] += d[i];
            domain_weight[group_of[i] as usize] += d[i];
        }
    }
    let mut missing = Vec::new();
    let mut totals = vec![0.0; groups.len() * k];
    for (g, label) in labels.iter().enumerate() {
        let mut absent = Vec::new();
        for (c, cell) in standard.cells.iter().enumerate() {
            let share = cell.total / population;
            if reached[g * k + c] != 0.0 {
                totals[g * k + c] = share * domain_weight[g];
            } else if share > 0.0 {
                absent.push(standard.cell_label(c));
            }
        }
        if !absent.is_empty() {
            missing.push((label.clone(), absent));
        }
    }
    let margin = Margin {
        name: format!("standard population {}", standard.path.display()),
        cells: strata,
        totals,
    };
    let design_error = |e: super::CalibrationError| Error::Design(e.to_string());
    let w = post_stratify(&d, &margin).map_err(design_error)?;

    let mut out = design.clone();
    if let Some(r) = &mut out.replicates {
        // Standardised replicate weights are no longer multiples of the PSU factors: columns.
        for (rep, col) in r.columns_mut(n).chunks_mut(n).enumerate() {
            let mut dr: Vec<f64> = col
                .iter()
                .zip(&d)
                .map(|(&x, &di)| if di == 0.0 { 0.0 } else { x })
                .collect();
            let mut sums = vec![0.0; margin.totals.len()];
            for (&s, &x) in margin.cells.iter().zip(&dr) {
                sums[s as usize] += x;
            }
            if let Some(s) = (0..sums.len()).find(|&s| sums[s] == 0.0 && margin.totals[s] > 0.0) {
                return Err(Error::Design(format!(
                    "replicate {} ({}): {} has no weight left in the standardising cell {}; collapse that level with a neighbouring one in the data and the standard population",
                    rep + 1,
                    r.names[rep],
                    labels[s / k],
                    standard.cell_label(s % k)
                )));
            }
            dr = post_stratify(&dr, &margin).map_err(design_error)?;
            col.copy_from_slice(&dr);
        }
    } else {
        let fit = PostStratFit::new(&d, &w, &margin).map_err(design_error)?;
        out.calibration = Some(Arc::new(Residuals::then_post_stratified(
            design.calibration.as_deref(),
            fit,
        )));
    }
    out.weights = w;
    Ok(Standardized {
        design: out,
        missing,
    })
}
