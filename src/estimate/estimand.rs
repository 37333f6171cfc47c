//! What to estimate: ad-hoc estimands from the command line (`--mean`, `--total`, `--prop`,
//! `--ratio`, `--quantile`) and instrument indicators, turned into per-row [`Target`]s.

use crate::instrument::indicator::{self, Values};
use crate::instrument::spec::IndicatorKind;
use crate::instrument::Instrument;
use crate::table::{format_number, ColumnData, Table, MISSING_CODE};
use crate::{Error, Result};

/// The kind of statistic of a result row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Mean,
    Total,
    Proportion,
    Ratio,
    Quantile(f64),
}

impl Stat {
    /// The `stat` column: mean | total | proportion | ratio | quantile:P.
    pub fn name(&self) -> String {
        match self {
            Stat::Mean => "mean".into(),
            Stat::Total => "total".into(),
            Stat::Proportion => "proportion".into(),
            Stat::Ratio => "ratio".into(),
            Stat::Quantile(p) => format!("quantile:{}", format_number(*p)),
        }
    }
}

/// An estimand as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Estimand {
    Mean(String),
    /// A numeric total, or counts per category of a text column; with a value, one category.
    Total {
        var: String,
        value: Option<String>,
    },
    /// Proportions per category, or of one category.
    Prop {
        var: String,
        value: Option<String>,
    },
    Ratio {
        numerator: String,
        denominator: String,
    },
    Quantile {
        var: String,
        p: f64,
    },
}

impl Estimand {
    /// `VAR` or `VAR=VALUE`.
    pub fn split_value(s: &str) -> (String, Option<String>) {
        match s.split_once('=') {
            Some((v, val)) => (
                v.trim().to_string(),
                Some(val.trim().trim_matches('"').to_string()),
            ),
            None => (s.trim().to_string(), None),
        }
    }

    pub fn parse_ratio(s: &str) -> Result<Estimand> {
        match s.split_once('/') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => Ok(Estimand::Ratio {
                numerator: a.trim().to_string(),
                denominator: b.trim().to_string(),
            }),
            _ => Err(Error::Usage(format!(
                "--ratio `{s}`: write NUMERATOR/DENOMINATOR, e.g. --ratio api00/enroll"
            ))),
        }
    }

    pub fn parse_quantile(s: &str) -> Result<Estimand> {
        let (var, p) = s.rsplit_once(':').ok_or_else(|| {
            Error::Usage(format!(
                "--quantile `{s}`: write VAR:P, e.g. --quantile wait:0.5"
            ))
        })?;
        let p: f64 = p
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("--quantile `{s}`: `{p}` is not a probability")))?;
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::Usage(format!(
                "--quantile `{s}`: the probability must be strictly between 0 and 1"
            )));
        }
        Ok(Estimand::Quantile {
            var: var.trim().to_string(),
            p,
        })
    }
}

/// Per-row values of one result row's statistic.
#[derive(Debug, Clone)]
pub struct Target {
    pub indicator: String,
    pub stat: Stat,
    pub variable: String,
    pub category: String,
    /// Values (NaN: not in this estimate's domain).
    pub y: Vec<f64>,
    /// Denominator of a ratio.
    pub x: Option<Vec<f64>>,
}

impl Target {
    /// Whether row `i` has a value for this target (and a denominator, for a ratio).
    pub fn is_valid(&self, i: usize) -> bool {
        !self.y[i].is_nan() && self.x.as_ref().is_none_or(|x| !x[i].is_nan())
    }
}

/// The categories of a column, in order: sorted numbers, or the (sorted) text levels.
fn categories(table: &Table, var: &str) -> Result<Vec<(String, Vec<f64>)>> {
    let col = table.require(var)?;
    let n = table.nrows();
    Ok(match &col.data {
        ColumnData::Num(v) => {
            let mut values: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            values
                .into_iter()
                .map(|k| {
                    let y = v
                        .iter()
                        .map(|&x| {
                            if x.is_nan() {
                                f64::NAN
                            } else {
                                f64::from(x == k)
                            }
                        })
                        .collect();
                    (format_number(k), y)
                })
                .collect()
        }
        ColumnData::Cat { codes, levels } => (0..levels.len())
            .map(|k| {
                let y = (0..n)
                    .map(|i| {
                        let c = codes[i];
                        if c == MISSING_CODE {
                            f64::NAN
                        } else {
                            f64::from(c as usize == k)
                        }
                    })
                    .collect();
                (levels[k].clone(), y)
            })
            .collect(),
    })
}

/// 1/0 for `var == value` (numerically when the column is numeric), NaN when missing.
fn indicator_of(table: &Table, var: &str, value: &str) -> Result<Vec<f64>> {
    let col = table.require(var)?;
    match &col.data {
        ColumnData::Num(v) => {
            let k: f64 = match crate::table::sniff::parse_number(value, false) {
                Some(k) => k,
                None => col
                    .value_labels
                    .iter()
                    .find(|(_, l)| l.eq_ignore_ascii_case(value))
                    .map(|(c, _)| *c)
                    .ok_or_else(|| {
                        Error::Usage(format!("`{var}` is numeric and `{value}` is neither a number nor one of its value labels"))
                    })?,
            };
            Ok(v.iter()
                .map(|&x| {
                    if x.is_nan() {
                        f64::NAN
                    } else {
                        f64::from(x == k)
                    }
                })
                .collect())
        }
        ColumnData::Cat { codes, levels } => {
            let k = levels.iter().position(|l| l == value);
            if k.is_none() {
                let known: Vec<&str> = levels.iter().map(String::as_str).take(12).collect();
                return Err(Error::Usage(format!(
                    "`{value}` is not a value of `{var}`; it has: {}{}",
                    known.join(", "),
                    if levels.len() > 12 { ", ..." } else { "" }
                )));
            }
            Ok(codes
                .iter()
                .map(|&c| {
                    if c == MISSING_CODE {
                        f64::NAN
                    } else {
                        f64::from(Some(c as usize) == k)
                    }
                })
                .collect())
        }
    }
}

/// The targets of one ad-hoc estimand.
pub fn targets(table: &Table, e: &Estimand) -> Result<Vec<Target>> {
    let t = |indicator: &str, stat, variable: &str, category: &str, y, x| Target {
        indicator: indicator.to_string(),
        stat,
        variable: variable.to_string(),
        category: category.to_string(),
        y,
        x,
    };
    Ok(match e {
        Estimand::Mean(v) => vec![t(
            v,
            Stat::Mean,
            v,
            "",
            table.require_num(v)?.to_vec(),
            None,
        )],
        Estimand::Total { var, value: None } if table.require(var)?.is_numeric() => {
            vec![t(
                var,
                Stat::Total,
                var,
                "",
                table.require_num(var)?.to_vec(),
                None,
            )]
        }
        Estimand::Total { var, value: None } => categories(table, var)?
            .into_iter()
            .map(|(k, y)| t(var, Stat::Total, var, &k, y, None))
            .collect(),
        Estimand::Total {
            var,
            value: Some(k),
        } => vec![t(
            var,
            Stat::Total,
            var,
            k,
            indicator_of(table, var, k)?,
            None,
        )],
        Estimand::Prop { var, value: None } => categories(table, var)?
            .into_iter()
            .map(|(k, y)| t(var, Stat::Proportion, var, &k, y, None))
            .collect(),
        Estimand::Prop {
            var,
            value: Some(k),
        } => {
            vec![t(
                var,
                Stat::Proportion,
                var,
                k,
                indicator_of(table, var, k)?,
                None,
            )]
        }
        Estimand::Ratio {
            numerator,
            denominator,
        } => {
            let y = table.require_num(numerator)?.to_vec();
            let x = table.require_num(denominator)?.to_vec();
            let name = format!("{numerator}/{denominator}");
            vec![t(&name, Stat::Ratio, &name, "", y, Some(x))]
        }
        Estimand::Quantile { var, p } => vec![t(
            var,
            Stat::Quantile(*p),
            var,
            "",
            table.require_num(var)?.to_vec(),
            None,
        )],
    })
}

/// The target of an instrument indicator (on the prepared analysis table).
pub fn indicator_target(inst: &Instrument, id: &str, table: &Table) -> Result<Target> {
    let ind = inst.indicators.get(id).ok_or_else(|| {
        let known: Vec<&str> = inst
            .indicators
            .keys()
            .map(String::as_str)
            .take(10)
            .collect();
        Error::Usage(format!(
            "{} has no indicator `{id}`; it has {}{}",
            inst.path.display(),
            known.join(", "),
            if inst.indicators.len() > 10 {
                ", ..."
            } else {
                ""
            }
        ))
    })?;
    let stat = match ind.kind {
        IndicatorKind::Proportion => Stat::Proportion,
        IndicatorKind::Mean | IndicatorKind::Score => Stat::Mean,
        IndicatorKind::Total => Stat::Total,
        IndicatorKind::Ratio => Stat::Ratio,
        IndicatorKind::Quantile => Stat::Quantile(ind.p.unwrap_or(0.5)),
    };
    let variable = ind.items().join("+");
    let (y, x) = match indicator::values(inst, ind, table)? {
        Values::Scalar(y) => (y, None),
        Values::Ratio {
            numerator,
            denominator,
        } => (numerator, Some(denominator)),
    };
    Ok(Target {
        indicator: id.to_string(),
        stat,
        variable,
        category: String::new(),
        y,
        x,
    })
}
