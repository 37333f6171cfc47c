//! Gaps between groups in the register: for every metric broken down by group, each group
//! against the reference group within each unit (area) and in the whole country, as a
//! difference and a ratio, and each unit's rank among the units.
//!
//! The rows have the columns of `tasa gaps` (section 3 of the design) plus `period` and
//! `rank`. A register value has no sampling error: `se`, the degrees of freedom and p-values
//! stay empty; `ci_low`/`ci_high` are MOVER limits from exact intervals where the metric
//! declares counts (shares, rates), else empty. Rank 1 is the unit where the group is worst off
//! by the metric's polarity (for a neutral metric: the largest gap either way); withheld and
//! missing gaps are not ranked.

use super::aggregate::{Register, Status, Value};
use super::join::gap;
use super::metrics::Kind;
use crate::equality::gaps::COLUMNS;
use crate::instrument::spec::Polarity;
use crate::output::{Cell, TidyTable};
use crate::{Error, Result};

/// The columns of the register gap table.
pub fn columns() -> Vec<&'static str> {
    COLUMNS.iter().copied().chain(["period", "rank"]).collect()
}

/// Which measures to compute.
#[derive(Debug, Clone, Copy)]
pub struct Measures {
    pub difference: bool,
    pub ratio: bool,
}

impl Measures {
    /// Parses `--measures` for register gaps: `difference` and/or `ratio`.
    pub fn parse(list: &str) -> Result<Measures> {
        let mut m = Measures {
            difference: false,
            ratio: false,
        };
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "difference" => m.difference = true,
                "ratio" => m.ratio = true,
                other => {
                    return Err(Error::Usage(format!(
                        "--measures: `{other}` is not a register gap measure; register gaps are `difference` and `ratio`"
                    )))
                }
            }
        }
        if !(m.difference || m.ratio) {
            return Err(Error::Usage(
                "--measures: name `difference`, `ratio` or both".to_string(),
            ));
        }
        Ok(m)
    }
}

/// One gap before ranking.
struct Row {
    metric: usize,
    unit: Option<String>,
    group: String,
    ratio: bool,
    value: Value,
}

/// The register gap table: `unit_var` and `group_var` name the survey variables the keys stand
/// for (they make up the `by` column); `reference` defaults to the register's first group.
pub fn register_gaps(
    register: &Register,
    unit_var: &str,
    group_var: &str,
    reference: Option<&str>,
    measures: Measures,
) -> Result<TidyTable> {
    if !register.grouped || register.groups.len() < 2 {
        return Err(Error::Usage(format!(
            "register gaps need metrics broken down by group: give the register's group column with --group {group_var}=COLUMN or `keys.group` (the register has {} groups)",
            register.groups.len()
        )));
    }
    let reference = match reference {
        Some(r) => {
            let r = super::canonical(r).unwrap_or_default();
            if !register.groups.contains(&r) {
                return Err(Error::Usage(format!(
                    "--reference `{r}`: no such group in the register; its groups are {}",
                    register.groups.join(", ")
                )));
            }
            r
        }
        None => register.groups[0].clone(),
    };
    let mut rows: Vec<Row> = Vec::new();
    let units: Vec<Option<&str>> = std::iter::once(None)
        .chain(register.units.iter().map(|u| Some(u.as_str())))
        .collect();
    for unit in units {
        let base = register.cell(unit, Some(&reference));
        for g in register.groups.iter().filter(|g| **g != reference) {
            let values = register.cell(unit, Some(g));
            for (m, (v, r)) in values.iter().zip(&base).enumerate() {
                // Counts are sizes, not levels: groups of different size are not unequal.
                if register.metrics[m].kind == Kind::Count {
                    continue;
                }
                for ratio in [false, true] {
                    if (ratio && !measures.ratio) || (!ratio && !measures.difference) {
                        continue;
                    }
                    let value = gap(v, r, ratio);
                    if value.status == Status::Missing {
                        continue;
                    }
                    rows.push(Row {
                        metric: m,
                        unit: unit.map(str::to_string),
                        group: g.clone(),
                        ratio,
                        value,
                    });
                }
            }
        }
    }
    let ranks = rank(&rows, register);

    let mut out = TidyTable::new(columns());
    let period: Cell = register.period.clone().into();
    for (row, rank) in rows.iter().zip(ranks) {
        let shown = row.value.status == Status::Ok;
        let num = |x: f64| {
            if shown && x.is_finite() {
                Cell::Num(x)
            } else {
                Cell::Empty
            }
        };
        let (by, group, refg) = match &row.unit {
            None => (group_var.to_string(), row.group.clone(), reference.clone()),
            Some(u) => (
                format!("{unit_var}*{group_var}"),
                format!("{u}*{}", row.group),
                format!("{u}*{reference}"),
            ),
        };
        let flag = row.value.status.as_str();
        out.push(vec![
            register.metrics[row.metric].name.clone().into(),
            by.into(),
            group.into(),
            refg.into(),
            if row.ratio { "ratio" } else { "difference" }.into(),
            num(row.value.interval.value),
            Cell::Empty,
            num(row.value.interval.low),
            num(row.value.interval.high),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            flag.into(),
            period.clone(),
            rank.map_or(Cell::Empty, Cell::from),
        ]);
    }
    Ok(out)
}

/// Ranks units within each (metric, group, measure): 1 = the group worst off. Ties share the
/// lower rank; the whole-country rows and unshown gaps get none.
fn rank(rows: &[Row], register: &Register) -> Vec<Option<usize>> {
    // How bad a gap is for the group: larger is worse.
    let badness = |r: &Row| -> f64 {
        let v = r.value.interval.value;
        // On the log scale a ratio's distance from equality is symmetric, like a difference's.
        let x = if r.ratio { v.ln() } else { v };
        match register.metrics[r.metric].polarity {
            Polarity::HigherBetter => -x,
            Polarity::LowerBetter => x,
            Polarity::Neutral => x.abs(),
        }
    };
    // A ratio of 0 is −∞ on the log scale: the worst (or best) of all, still ranked.
    let rankable =
        |r: &Row| r.unit.is_some() && r.value.status == Status::Ok && !badness(r).is_nan();
    let mut out = vec![None; rows.len()];
    for (i, r) in rows.iter().enumerate() {
        if !rankable(r) {
            continue;
        }
        let b = badness(r);
        let worse = rows
            .iter()
            .filter(|o| {
                o.metric == r.metric && o.group == r.group && o.ratio == r.ratio && rankable(o)
            })
            .filter(|o| badness(o) > b)
            .count();
        out[i] = Some(worse + 1);
    }
    out
}
