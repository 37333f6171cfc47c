//! Joining register data to survey results.
//!
//! - **Area level** ([`join_area`]): each row of a tidy `estimate` or `gaps` table whose
//!   breakdown is the area, the register's group dimension, both crossed, or the whole
//!   population gets, per metric, the register's value for the same cell (for a gap row: the
//!   register's gap between the same groups, by the same measure). The output is long — one
//!   row per (input row, metric) — so its columns are the same for every register.
//! - **Person level** ([`join_persons`]): register variables added to respondents by id,
//!   one to one.

use super::aggregate::{Register, Status, Value};
use super::exact::{self, Interval};
use super::{canonical, key_text, list_codes};
use crate::error::Location;
use crate::output::{Cell, TidyTable};
use crate::table::{Column, ColumnData, Table, MISSING_CODE};
use crate::{Error, Result};
use std::collections::HashMap;

/// The columns an area join adds after the input's.
pub const ADDED: [&str; 9] = [
    "period",
    "metric",
    "metric_kind",
    "metric_unit",
    "register_value",
    "register_low",
    "register_high",
    "register_base",
    "register_flag",
];

/// Which survey variables hold the register's keys.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    /// The survey variable with unit codes (`area`).
    pub unit: &'a str,
    /// The survey variable whose codes the register's group column holds.
    pub group: Option<&'a str>,
}

/// A cell of the register: a unit (or all) and a group (or all).
type CellKey = (Option<String>, Option<String>);

/// An area join's result.
#[derive(Debug, Clone)]
pub struct Joined {
    pub table: TidyTable,
    /// Input rows joined (each gives one output row per metric).
    pub rows: usize,
    /// Key problems: the register's own, and codes found on one side only (`--strict` refuses
    /// them).
    pub problems: Vec<String>,
    /// Rows left out because the register has nothing to put beside them.
    pub notes: Vec<String>,
}

/// Joins a tidy estimates or gaps table with a register (see the module documentation).
pub fn join_area(input: &Table, register: &Register, keys: Keys) -> Result<Joined> {
    let file = input.source.clone();
    let need = |name: &str| {
        input.column(name).ok_or_else(|| {
            Error::input(
                Location::source(file.clone()).column(name),
                None,
                format!(
                    "not a tidy table from `tasa estimate` or `tasa gaps`: it has no `{name}` column (its columns are {})",
                    input.names().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let by = need("by")?;
    let group = need("group")?;
    let gap_cols = match (input.column("measure"), input.column("reference")) {
        (Some(m), Some(r)) => Some((m, r)),
        _ => None,
    };
    if let Some(name) = ADDED.iter().find(|a| input.column(a).is_some()) {
        return Err(Error::input(
            Location::source(file.clone()).column(*name),
            None,
            "the table already has register columns; join the estimates as `estimate` or `gaps` wrote them",
        ));
    }
    let text = |c: &Column, i: usize| c.text(i).unwrap_or_default();

    let mut columns: Vec<String> = input.names().map(str::to_string).collect();
    columns.extend(ADDED.iter().map(|s| s.to_string()));
    let mut out = TidyTable::new(columns);
    let mut left_out: Vec<(String, usize)> = Vec::new();
    let mut measures_left: Vec<String> = Vec::new();
    let mut survey_units: Vec<String> = Vec::new();
    let mut survey_groups: Vec<String> = Vec::new();
    let mut cache: HashMap<CellKey, Vec<Value>> = HashMap::new();
    let mut joined = 0;
    let period: Cell = register.period.clone().into();
    for i in 0..input.nrows() {
        let b = text(by, i);
        // Only gaps between two groups have a register counterpart.
        if let Some((measure, _)) = gap_cols {
            let m = text(measure, i);
            if m != "difference" && m != "ratio" {
                if !measures_left.contains(&m) {
                    measures_left.push(m);
                }
                continue;
            }
        }
        let Some(key) = cell_key(&b, &text(group, i), keys) else {
            count(&mut left_out, &b);
            continue;
        };
        let values: Vec<Value> = match gap_cols {
            None => lookup(&mut cache, register, &key).clone(),
            Some((measure, reference)) => {
                let ratio = text(measure, i) == "ratio";
                let Some(reference) = cell_key(&b, &text(reference, i), keys) else {
                    count(&mut left_out, &b);
                    continue;
                };
                let a = lookup(&mut cache, register, &key).clone();
                let r = lookup(&mut cache, register, &reference).clone();
                note_codes(&reference, &mut survey_units, &mut survey_groups);
                a.iter().zip(&r).map(|(a, r)| gap(a, r, ratio)).collect()
            }
        };
        note_codes(&key, &mut survey_units, &mut survey_groups);
        joined += 1;
        let row: Vec<Cell> = input
            .columns()
            .iter()
            .map(|c| match &c.data {
                ColumnData::Num(v) => Cell::from(v[i]),
                ColumnData::Cat { .. } => c.text(i).into(),
            })
            .collect();
        for (metric, v) in register.metrics.iter().zip(&values) {
            let shown = v.status == Status::Ok;
            let num = |x: f64| {
                if shown && x.is_finite() {
                    Cell::Num(x)
                } else {
                    Cell::Empty
                }
            };
            let mut r = row.clone();
            r.extend([
                period.clone(),
                metric.name.clone().into(),
                metric.kind.name().into(),
                unit_of(metric).into(),
                num(v.interval.value),
                num(v.interval.low),
                num(v.interval.high),
                num(v.base),
                v.status.as_str().into(),
            ]);
            out.push(r);
        }
    }

    let mut notes = Vec::new();
    if !left_out.is_empty() {
        let list: Vec<String> = left_out
            .iter()
            .map(|(b, n)| format!("{b} ({n} rows)"))
            .collect();
        notes.push(format!(
            "rows of breakdowns the register has no keys for were left out: {}",
            list.join(", ")
        ));
    }
    if !measures_left.is_empty() {
        notes.push(format!(
            "gap measures without a register counterpart were left out: {} (register gaps are differences and ratios)",
            measures_left.join(", ")
        ));
    }
    let mut warnings = Vec::new();
    let period_note = register
        .period
        .as_ref()
        .map(|p| format!(" for period {p}"))
        .unwrap_or_default();
    let missing: Vec<String> = survey_units
        .iter()
        .filter(|u| !register.has_unit(u))
        .cloned()
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "{} codes in the estimates without register rows{period_note}: {}",
            keys.unit,
            list_codes(&missing, 10)
        ));
    }
    if !survey_units.is_empty() {
        let unused: Vec<String> = register
            .units
            .iter()
            .filter(|u| !survey_units.contains(u))
            .cloned()
            .collect();
        if !unused.is_empty() {
            warnings.push(format!(
                "register units{period_note} not in the estimates: {}",
                list_codes(&unused, 10)
            ));
        }
    }
    if let Some(g) = keys.group {
        let missing: Vec<String> = survey_groups
            .iter()
            .filter(|x| !register.groups.contains(x))
            .cloned()
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "{g} groups in the estimates that the register does not break down by: {}",
                list_codes(&missing, 10)
            ));
        }
    }
    let mut all = register.problems.clone();
    all.extend(warnings);
    Ok(Joined {
        table: out,
        rows: joined,
        problems: all,
        notes,
    })
}

/// A metric's unit as shown: its declared unit, else `per N` for a scaled quotient.
fn unit_of(metric: &super::metrics::Metric) -> Option<String> {
    metric.unit.clone().or_else(|| {
        (metric.per != 1.0).then(|| format!("per {}", crate::table::format_number(metric.per)))
    })
}

/// The register cell of a row's breakdown and group: `None` when the breakdown has a variable
/// the register has no key for.
fn cell_key(by: &str, group: &str, keys: Keys) -> Option<CellKey> {
    if by.is_empty() {
        return Some((None, None));
    }
    let vars: Vec<&str> = by.split('*').collect();
    let values: Vec<&str> = group.split('*').collect();
    if vars.len() != values.len() {
        return None;
    }
    let (mut unit, mut grp) = (None, None);
    for (v, x) in vars.iter().zip(values) {
        let slot = if *v == keys.unit {
            &mut unit
        } else if Some(*v) == keys.group {
            &mut grp
        } else {
            return None;
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(canonical(x)?);
    }
    Some((unit, grp))
}

fn lookup<'a>(
    cache: &'a mut HashMap<CellKey, Vec<Value>>,
    register: &Register,
    key: &CellKey,
) -> &'a Vec<Value> {
    cache
        .entry(key.clone())
        .or_insert_with(|| register.cell(key.0.as_deref(), key.1.as_deref()))
}

fn count(list: &mut Vec<(String, usize)>, by: &str) {
    match list.iter_mut().find(|(b, _)| b == by) {
        Some((_, n)) => *n += 1,
        None => list.push((by.to_string(), 1)),
    }
}

fn note_codes(key: &CellKey, units: &mut Vec<String>, groups: &mut Vec<String>) {
    if let Some(u) = &key.0 {
        if !units.contains(u) {
            units.push(u.clone());
        }
    }
    if let Some(g) = &key.1 {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
}

/// The register gap between two cells: a difference or a ratio, with MOVER limits where both
/// cells have exact limits; withheld when either cell is, missing when either is.
pub fn gap(a: &Value, r: &Value, ratio: bool) -> Value {
    let status = match (a.status, r.status) {
        (Status::Missing, _) | (_, Status::Missing) => Status::Missing,
        (Status::Suppressed, _) | (_, Status::Suppressed) => Status::Suppressed,
        _ => Status::Ok,
    };
    let interval = if ratio {
        exact::ratio(a.interval, r.interval)
    } else {
        exact::difference(a.interval, r.interval)
    };
    let status = if status == Status::Ok && interval.value.is_nan() {
        Status::Missing
    } else {
        status
    };
    Value {
        interval: if status == Status::Missing {
            Interval::point(f64::NAN)
        } else {
            interval
        },
        base: a.base.min(r.base),
        status,
    }
}

/// A person-level join's result.
#[derive(Debug, Clone)]
pub struct PersonJoin {
    pub table: Table,
    pub respondents: usize,
    pub matched: usize,
    pub register_rows: usize,
    /// Register rows that matched no respondent.
    pub unused: usize,
    pub added: Vec<String>,
}

/// Adds register columns to respondents by id. Ids must be unique on both sides; respondents
/// without a register row get missing values. `columns` picks the register columns (default:
/// all but the id); `prefix` goes before their names.
pub fn join_persons(
    responses: Table,
    register: &Table,
    id: &str,
    register_id: &str,
    columns: Option<&[String]>,
    prefix: &str,
) -> Result<PersonJoin> {
    let index = unique_ids(register, register_id)?;
    // Respondents' ids must be unique too, or one register row would feed two respondents.
    unique_ids(&responses, id)?;
    let names: Vec<String> = match columns {
        Some(c) => c.to_vec(),
        None => register
            .names()
            .filter(|n| *n != register_id)
            .map(str::to_string)
            .collect(),
    };
    let id_col = responses.require(id)?;
    let mut matched = 0;
    let rows: Vec<Option<usize>> = (0..responses.nrows())
        .map(|i| {
            let r = key_text(id_col, i).and_then(|k| index.get(&k).copied());
            matched += usize::from(r.is_some());
            r
        })
        .collect();
    let mut out = responses;
    let mut added = Vec::with_capacity(names.len());
    for name in &names {
        let col = register.require(name)?;
        let new_name = format!("{prefix}{name}");
        if out.column(&new_name).is_some() {
            return Err(Error::Usage(format!(
                "the register column `{name}` is also a column of the responses; add a prefix with --prefix (e.g. --prefix reg_) or pick columns with --columns"
            )));
        }
        let data = match &col.data {
            ColumnData::Num(v) => {
                ColumnData::Num(rows.iter().map(|r| r.map_or(f64::NAN, |k| v[k])).collect())
            }
            ColumnData::Cat { codes, levels } => ColumnData::Cat {
                codes: rows
                    .iter()
                    .map(|r| r.map_or(MISSING_CODE, |k| codes[k]))
                    .collect(),
                levels: levels.clone(),
            },
        };
        let mut c = Column::new(new_name.clone(), data);
        c.label = col.label.clone();
        c.value_labels = col.value_labels.clone();
        c.missing_values = col.missing_values.clone();
        out.push(c)?;
        added.push(new_name);
    }
    let respondents = out.nrows();
    Ok(PersonJoin {
        table: out,
        respondents,
        matched,
        register_rows: register.nrows(),
        unused: register.nrows() - matched,
        added,
    })
}

/// Row index per id; an empty or repeated id is an error naming the rows.
fn unique_ids(table: &Table, id: &str) -> Result<HashMap<String, usize>> {
    let col = table.require(id)?;
    let mut index: HashMap<String, usize> = HashMap::with_capacity(table.nrows());
    let mut repeats: Vec<String> = Vec::new();
    for i in 0..table.nrows() {
        let Some(k) = key_text(col, i) else {
            return Err(Error::input(
                Location::source(table.source.clone()).row(i + 1).column(id),
                None,
                "expected an id, found an empty cell",
            ));
        };
        if let Some(&first) = index.get(&k) {
            repeats.push(format!("{k} (rows {} and {})", first + 1, i + 1));
        } else {
            index.insert(k, i);
        }
    }
    if !repeats.is_empty() {
        return Err(Error::input(
            Location::source(table.source.clone()).column(id),
            None,
            format!(
                "ids must be unique for a person-level join; repeated: {}",
                list_codes(&repeats, 5)
            ),
        ));
    }
    Ok(index)
}
