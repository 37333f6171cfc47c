//! A register file made ready to join: read, its metrics file (beside it or named) with the
//! metrics declared on the command line, the classification, and the rows aggregated to the
//! survey's level for one period — the part `tasa join` and `tasa run` share.

use super::aggregate::{Register, Setup};
use super::classification::Classification;
use super::metrics::{KeysSpec, Kind, Level, Metric, Metrics};
use crate::table::read::{read_table, ReadOptions};
use crate::table::Table;
use crate::{Error, Result};
use std::path::PathBuf;

/// Which register and how to read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub register: PathBuf,
    /// The metrics file (default: the TOML beside the register).
    pub metrics: Option<PathBuf>,
    /// Metrics declared besides (or instead of) the file's.
    pub declared: Vec<Metric>,
    /// Only these metrics (empty: all).
    pub select: Vec<String>,
    pub classification: Option<PathBuf>,
    /// The survey's unit variable and the register's column for it (default: the metrics
    /// file's `keys.unit`, else the variable's name).
    pub unit: String,
    pub unit_column: Option<String>,
    /// The survey's group variable and the register's column (default: `keys.group`).
    pub group: Option<(String, String)>,
    pub period: Option<String>,
    pub period_column: Option<String>,
    /// The value of the group column that marks whole-unit rows (default: `keys.total`).
    pub total: Option<String>,
    /// The survey's level and the register's (default: `keys.level`, else municipality with a
    /// classification, else the survey's).
    pub level: Level,
    pub register_level: Option<Level>,
    /// Confidence level of exact intervals, and the smallest base shown.
    pub confidence: f64,
    pub min_base: f64,
}

/// The register at the survey's level.
pub struct Loaded {
    pub register: Register,
    /// The survey's group variable, when the register has groups.
    pub group_var: Option<String>,
    /// The metrics file's keys (its reference group, among others).
    pub keys: KeysSpec,
    /// Notes for the person running the command.
    pub notes: Vec<String>,
}

/// Reads and aggregates the register.
pub fn load(request: &Request, options: &ReadOptions) -> Result<Loaded> {
    let mut notes = Vec::new();
    let table = read_table(&request.register, options)?;
    let mut metrics = match request
        .metrics
        .clone()
        .or_else(|| Metrics::beside(&request.register))
    {
        Some(p) => Metrics::load(&p)?,
        None => Metrics::default(),
    };
    for m in &request.declared {
        metrics.declare(m.clone());
    }
    let keys = metrics.keys.clone();
    let unit_column = request
        .unit_column
        .clone()
        .or(keys.unit.clone())
        .unwrap_or_else(|| request.unit.clone());
    let (group_var, group_column) = match &request.group {
        Some((v, c)) => (Some(v.clone()), Some(c.clone())),
        None => match &keys.group {
            Some(c) => (
                Some(keys.dimension.clone().unwrap_or_else(|| c.clone())),
                Some(c.clone()),
            ),
            None => (None, None),
        },
    };
    let period_column = request
        .period_column
        .clone()
        .or(keys.period.clone())
        .or_else(|| table.column("period").map(|_| "period".to_string()));
    if metrics.metrics.is_empty() {
        undeclared_values(
            &mut metrics,
            &table,
            &unit_column,
            &group_column,
            &period_column,
        );
        notes.push(format!(
            "no metrics file or metric flags: the numeric columns are joined as values that cannot be combined ({})",
            metrics.names()
        ));
    }
    if !request.select.is_empty() {
        metrics.select(&request.select)?;
    }
    if metrics.metrics.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no metrics to join; declare them in {} or with --count/--share/--rate/--ratio/--median/--value",
            request.register.display(),
            request.register.with_extension("toml").display()
        )));
    }
    let classification = match &request.classification {
        Some(p) => Some(Classification::load(p, options)?),
        None => None,
    };
    let register_level =
        request
            .register_level
            .or(keys.level)
            .unwrap_or(if classification.is_some() {
                Level::Municipality
            } else {
                request.level
            });
    let setup = Setup {
        metrics: &metrics.metrics,
        unit_column,
        register_level,
        target_level: request.level,
        classification: classification.as_ref(),
        period_column,
        period: request.period.clone(),
        group_column,
        total: request.total.clone().or(keys.total.clone()),
        level: request.confidence,
        min_base: request.min_base,
    };
    let register = Register::build(&table, &setup)?;
    Ok(Loaded {
        register,
        group_var,
        keys,
        notes,
    })
}

/// Without any declaration, every numeric column that is not a key is a plain value.
fn undeclared_values(
    metrics: &mut Metrics,
    table: &Table,
    unit: &str,
    group: &Option<String>,
    period: &Option<String>,
) {
    for c in table.columns() {
        let key =
            c.name == unit || Some(&c.name) == group.as_ref() || Some(&c.name) == period.as_ref();
        if !key && c.is_numeric() {
            metrics.declare(Metric::plain(&c.name, Kind::Value, &c.name, None));
        }
    }
}
