//! A register file read for one period and brought to the level the survey reports: its rows
//! mapped through the classification, and the value of every metric for any cell (a unit or
//! all units, a group or all groups) recomputed from the rows it covers.
//!
//! Counts are summed; shares, rates and ratios are recomputed from summed numerators and
//! denominators; medians and other non-additive values are shown only where one register row
//! gives them. Problems with the keys — codes the classification lacks, duplicate rows, units
//! without rows for the period — are gathered as [`Register::problems`] for the caller to
//! report (or, with `--strict`, to refuse).

use super::classification::Classification;
use super::exact::{self, Interval};
use super::metrics::{Kind, Level, Metric};
use super::{canonical, key_text, list_codes};
use crate::error::Location;
use crate::table::Table;
use crate::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// How to read a register table.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub metrics: &'a [Metric],
    /// Column of the unit code.
    pub unit_column: String,
    /// What the unit codes are.
    pub register_level: Level,
    /// The level the survey reports.
    pub target_level: Level,
    pub classification: Option<&'a Classification>,
    pub period_column: Option<String>,
    /// The period to use; `None` takes the register's only period.
    pub period: Option<String>,
    pub group_column: Option<String>,
    /// The group value of rows that hold a whole unit.
    pub total: Option<String>,
    /// Confidence level of the exact intervals.
    pub level: f64,
    /// Values whose base (count, or denominator) is below this are withheld.
    pub min_base: f64,
}

/// One register row of the period.
#[derive(Debug, Clone)]
struct Record {
    /// The unit at the survey's level.
    unit: String,
    /// `None`: the row holds the whole unit.
    group: Option<String>,
    /// Per metric: numerator (or value) and denominator (NaN when the metric has none).
    num: Vec<f64>,
    den: Vec<f64>,
    /// The register unit (municipality) the row belongs to.
    source: u32,
}

/// A metric's value in one cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Value {
    pub interval: Interval,
    /// Persons (or events, or the denominator) the value rests on; NaN when unknown.
    pub base: f64,
    pub status: Status,
}

/// Whether a cell's value can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Its base is below the minimum: withheld.
    Suppressed,
    /// No rows, a duplicate row, a missing number, or a median that would need combining.
    Missing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Suppressed => "suppressed",
            Status::Missing => "missing",
        }
    }
}

/// A register at the survey's level for one period.
#[derive(Debug, Clone)]
pub struct Register {
    pub metrics: Vec<Metric>,
    pub period: Option<String>,
    /// Units at the survey's level, in order of first appearance.
    pub units: Vec<String>,
    /// Group values (not totals), in order of first appearance.
    pub groups: Vec<String>,
    /// Whether the register has a group column.
    pub grouped: bool,
    /// Key problems found while reading, one message each.
    pub problems: Vec<String>,
    records: Vec<Record>,
    by_unit: HashMap<String, Vec<usize>>,
    level: f64,
    min_base: f64,
    pub source: Option<PathBuf>,
}

impl Register {
    /// Reads the register's rows for the period and maps them to the survey's level.
    pub fn build(table: &Table, setup: &Setup) -> Result<Register> {
        let file = table.source.clone();
        let at = || Location::source(file.clone());
        let unit_col = table.require(&setup.unit_column)?;
        let group_col = match &setup.group_column {
            Some(g) => Some(table.require(g)?),
            None => None,
        };
        // Which rows belong to the period.
        let period_col = match &setup.period_column {
            Some(p) => Some(table.require(p)?),
            None => None,
        };
        let mut problems = Vec::new();
        let (period, in_period): (Option<String>, Vec<bool>) = match (period_col, &setup.period) {
            (None, None) => (None, vec![true; table.nrows()]),
            (None, Some(p)) => {
                return Err(Error::Usage(format!(
                    "--period {p}: the register has no period column; name it with --period-column or `keys.period`"
                )))
            }
            (Some(col), wanted) => {
                let values: Vec<Option<String>> =
                    (0..table.nrows()).map(|i| key_text(col, i)).collect();
                if let Some(i) = values.iter().position(Option::is_none) {
                    return Err(Error::input(
                        at().row(i + 1).column(&col.name),
                        None,
                        "expected a period, found an empty cell",
                    ));
                }
                let mut periods: Vec<String> = Vec::new();
                for v in values.iter().flatten() {
                    if !periods.contains(v) {
                        periods.push(v.clone());
                    }
                }
                let chosen = match wanted {
                    Some(p) => {
                        let p = canonical(p).unwrap_or_default();
                        if !periods.contains(&p) {
                            return Err(Error::input(
                                at().column(&col.name),
                                Some(p),
                                format!(
                                    "the register has no rows for this period; its periods are {}",
                                    periods.join(", ")
                                ),
                            ));
                        }
                        p
                    }
                    None if periods.is_empty() => {
                        return Err(Error::input(
                            at(),
                            None,
                            "the register has no rows",
                        ))
                    }
                    None if periods.len() == 1 => periods[0].clone(),
                    None => {
                        return Err(Error::Usage(format!(
                            "the register holds the periods {}; choose one with --period",
                            periods.join(", ")
                        )))
                    }
                };
                let keep = values
                    .iter()
                    .map(|v| v.as_deref() == Some(chosen.as_str()))
                    .collect();
                (Some(chosen), keep)
            }
        };

        // Register codes up to the survey's level.
        let mapping = if setup.register_level == setup.target_level {
            None
        } else {
            if rank(setup.register_level) > rank(setup.target_level) {
                return Err(Error::Usage(format!(
                    "the register gives {} codes, a coarser level than the survey's {}; a register can only be brought up to a coarser level, not down",
                    setup.register_level.name(),
                    setup.target_level.plural()
                )));
            }
            let class = setup.classification.ok_or_else(|| {
                Error::Usage(format!(
                    "the register gives {} codes and the survey reports by {}; give --classification FILE to map them",
                    setup.register_level.name(),
                    setup.target_level.name()
                ))
            })?;
            // Non-additive metrics cannot be combined across register units.
            if let Some(m) = setup.metrics.iter().find(|m| !m.kind.is_additive()) {
                return Err(Error::Usage(format!(
                    "metric `{}` is a {} given per {}; {}s cannot be combined into {}. Give it per {} in the register, or leave it out with --metric",
                    m.name,
                    m.kind.name(),
                    setup.register_level.name(),
                    m.kind.name(),
                    setup.target_level.plural(),
                    setup.target_level.name()
                )));
            }
            Some(class.mapping(setup.register_level, setup.target_level)?)
        };

        // Metric columns: numbers, counts where the kind says so.
        let mut num_cols = Vec::with_capacity(setup.metrics.len());
        let mut den_cols = Vec::with_capacity(setup.metrics.len());
        for m in setup.metrics {
            let read = |name: &str| -> Result<&[f64]> {
                let col = table.require(name)?;
                let values = col.require_num(file.as_deref())?;
                // Counts must be whole; a rate's exposure (person-years) need not be.
                let is_exposure = m.kind == Kind::Rate && Some(name) == m.denominator.as_deref();
                if m.needs_counts() && !is_exposure {
                    if let Some((i, &x)) = values
                        .iter()
                        .enumerate()
                        .find(|(_, x)| !x.is_nan() && (**x < 0.0 || x.fract() != 0.0))
                    {
                        return Err(Error::input(
                            at().row(i + 1).column(name),
                            Some(crate::table::format_number(x)),
                            format!(
                                "metric `{}` is a {}: expected a whole number of persons or events, 0 or more",
                                m.name,
                                m.kind.name()
                            ),
                        ));
                    }
                }
                Ok(values)
            };
            let n = read(&m.numerator)?;
            let d = match &m.denominator {
                Some(d) => Some(read(d)?),
                None => None,
            };
            if m.kind == Kind::Share {
                if let Some(d) = d {
                    if let Some(i) = (0..n.len()).find(|&i| n[i] > d[i]) {
                        return Err(Error::input(
                            at().row(i + 1).column(&m.numerator),
                            Some(crate::table::format_number(n[i])),
                            format!(
                                "metric `{}` is a share: its numerator exceeds the denominator `{}` ({})",
                                m.name,
                                m.denominator.as_deref().unwrap_or_default(),
                                crate::table::format_number(d[i])
                            ),
                        ));
                    }
                }
            }
            num_cols.push(n);
            den_cols.push(d);
        }

        // Rows of the period, keyed; codes outside the classification and duplicates noted.
        let total = setup.total.as_deref().and_then(canonical);
        let mut sources: Vec<String> = Vec::new();
        let mut source_index: HashMap<String, u32> = HashMap::new();
        let mut all_sources: Vec<String> = Vec::new();
        let mut seen: HashMap<(u32, Option<String>), usize> = HashMap::new();
        let mut records: Vec<Record> = Vec::new();
        let mut file_rows: Vec<usize> = Vec::new();
        let mut duplicates: Vec<String> = Vec::new();
        let mut unclassified: Vec<String> = Vec::new();
        for i in 0..table.nrows() {
            let code = key_text(unit_col, i).ok_or_else(|| {
                Error::input(
                    at().row(i + 1).column(&unit_col.name),
                    None,
                    format!(
                        "expected a {} code, found an empty cell",
                        setup.register_level.name()
                    ),
                )
            })?;
            if !in_period[i] {
                if !all_sources.contains(&code) {
                    all_sources.push(code);
                }
                continue;
            }
            let unit = match &mapping {
                None => code.clone(),
                Some(map) => match map.get(&code) {
                    Some(u) => u.clone(),
                    None => {
                        if !unclassified.contains(&code) {
                            unclassified.push(code);
                        }
                        continue;
                    }
                },
            };
            let group = group_col
                .and_then(|g| key_text(g, i))
                .filter(|g| Some(g) != total.as_ref());
            let source = *source_index.entry(code.clone()).or_insert_with(|| {
                sources.push(code.clone());
                (sources.len() - 1) as u32
            });
            if let Some(&first) = seen.get(&(source, group.clone())) {
                duplicates.push(format!(
                    "{} {code}{}: rows {} and {}",
                    setup.register_level.name(),
                    group
                        .as_ref()
                        .map(|g| format!(", group {g}"))
                        .unwrap_or_default(),
                    file_rows[first],
                    i + 1
                ));
                // Neither row is trusted: the cells they feed stay empty.
                let r = &mut records[first];
                r.num
                    .iter_mut()
                    .chain(r.den.iter_mut())
                    .for_each(|x| *x = f64::NAN);
                continue;
            }
            seen.insert((source, group.clone()), records.len());
            records.push(Record {
                unit,
                group,
                num: num_cols.iter().map(|c| c[i]).collect(),
                den: den_cols
                    .iter()
                    .map(|c| c.map_or(f64::NAN, |c| c[i]))
                    .collect(),
                source,
            });
            file_rows.push(i + 1);
        }

        let what = setup.register_level.name();
        let period_note = period
            .as_ref()
            .map(|p| format!(" for period {p}"))
            .unwrap_or_default();
        if !duplicates.is_empty() {
            problems.push(format!(
                "duplicate register rows{period_note} (their cells are left empty): {}",
                list_codes(&duplicates, 10)
            ));
        }
        if !unclassified.is_empty() {
            problems.push(format!(
                "{what} codes in the register that the classification lacks (left out, so totals over them are incomplete): {}",
                list_codes(&unclassified, 10)
            ));
        }
        // Units with rows in other periods, or in the classification, but none in this one.
        let mut absent: Vec<String> = all_sources
            .into_iter()
            .filter(|c| !source_index.contains_key(c) && !unclassified.contains(c))
            .collect();
        if let (Some(class), Some(_)) = (setup.classification, &period) {
            if class.has(setup.register_level) {
                for c in class.codes(setup.register_level) {
                    if !source_index.contains_key(&c) && !absent.contains(&c) {
                        absent.push(c);
                    }
                }
            }
        }
        if !absent.is_empty() {
            problems.push(format!(
                "{} without register rows{period_note}: {}",
                setup.register_level.plural(),
                list_codes(&absent, 10)
            ));
        }

        let mut units: Vec<String> = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        let mut by_unit: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, r) in records.iter().enumerate() {
            if !by_unit.contains_key(&r.unit) {
                units.push(r.unit.clone());
            }
            by_unit.entry(r.unit.clone()).or_default().push(k);
            if let Some(g) = &r.group {
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
        }
        Ok(Register {
            metrics: setup.metrics.to_vec(),
            period,
            units,
            groups,
            grouped: group_col.is_some(),
            problems,
            records,
            by_unit,
            level: setup.level,
            min_base: setup.min_base,
            source: file,
        })
    }

    /// Whether the register has any row for `unit` at the survey's level.
    pub fn has_unit(&self, unit: &str) -> bool {
        self.by_unit.contains_key(unit)
    }

    /// The value of every metric in one cell: `unit` (`None`: all units) and `group` (`None`:
    /// the whole unit — its total rows where the register has them, else the sum of its
    /// groups' rows).
    pub fn cell(&self, unit: Option<&str>, group: Option<&str>) -> Vec<Value> {
        let candidates: Vec<usize> = match unit {
            Some(u) => self.by_unit.get(u).cloned().unwrap_or_default(),
            None => (0..self.records.len()).collect(),
        };
        let chosen: Vec<&Record> = match group {
            Some(g) => candidates
                .iter()
                .map(|&k| &self.records[k])
                .filter(|r| r.group.as_deref() == Some(g))
                .collect(),
            None => {
                // A register unit with a total row contributes that row; one without, its groups.
                let with_total: HashSet<u32> = candidates
                    .iter()
                    .map(|&k| &self.records[k])
                    .filter(|r| r.group.is_none())
                    .map(|r| r.source)
                    .collect();
                candidates
                    .iter()
                    .map(|&k| &self.records[k])
                    .filter(|r| r.group.is_none() || !with_total.contains(&r.source))
                    .collect()
            }
        };
        (0..self.metrics.len())
            .map(|m| self.value(m, &chosen))
            .collect()
    }

    /// One metric's value over the chosen rows.
    fn value(&self, m: usize, rows: &[&Record]) -> Value {
        let metric = &self.metrics[m];
        let missing = Value {
            interval: Interval::point(f64::NAN),
            base: f64::NAN,
            status: Status::Missing,
        };
        if rows.is_empty() {
            return missing;
        }
        if !metric.kind.is_additive() {
            return match rows {
                [one] if !one.num[m].is_nan() => Value {
                    interval: Interval::point(one.num[m]),
                    base: f64::NAN,
                    status: Status::Ok,
                },
                _ => missing,
            };
        }
        let total = |column: fn(&Record) -> &[f64]| {
            let mut s = crate::numeric::Sum::new();
            rows.iter().for_each(|r| s.add(column(r)[m]));
            s.value()
        };
        let num = total(|r| r.num.as_slice());
        let den = total(|r| r.den.as_slice());
        let (interval, base) = match metric.kind {
            Kind::Count => (Interval::point(num), num),
            Kind::Share => (
                exact::scaled(exact::binomial(num, den, self.level), metric.per),
                den,
            ),
            Kind::Rate => (
                exact::scaled(exact::poisson(num, den, self.level), metric.per),
                den,
            ),
            _ => (Interval::point(num / den * metric.per), den),
        };
        if interval.value.is_nan() {
            return missing;
        }
        // Small counts are withheld, and so is a share or rate from which one could be
        // recovered (few persons with, or without, the outcome).
        let few = |x: f64| x > 0.0 && x < self.min_base;
        let small = match metric.kind {
            Kind::Count => few(base),
            Kind::Share => base < self.min_base || few(num) || few(den - num),
            Kind::Rate => base < self.min_base || few(num),
            _ => base < self.min_base,
        };
        Value {
            interval,
            base,
            status: if small {
                Status::Suppressed
            } else {
                Status::Ok
            },
        }
    }
}

/// Order of levels from fine to coarse.
fn rank(level: Level) -> u8 {
    match level {
        Level::Municipality => 0,
        Level::Area => 1,
        Level::Region => 2,
    }
}
