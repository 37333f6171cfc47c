//! What to estimate: ad-hoc estimands from the command line (`--mean`, `--total`, `--prop`,
//! `--ratio`, `--quantile`) and instrument indicators, turned into per-row [`Target`]s.

use crate::instrument::indicator::{self, Values};
use crate::instrument::spec::IndicatorKind;
use crate::instrument::{Indicator, Instrument};
use crate::table::{format_number, ColumnData, Table, MISSING_CODE};
use crate::{Error, Result};
use std::borrow::Cow;

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
    /// An instrument indicator whose values are not made yet (`y` and `x` are empty): they
    /// are made when it is estimated, by [`Target::made`], so that estimating many indicators
    /// over a million rows holds one target's values per thread instead of all of them.
    pub deferred: bool,
}

impl Target {
    /// The target with its values: itself, or for a deferred indicator a target made now.
    pub fn made<'a>(&'a self, inst: Option<&Instrument>, table: &Table) -> Result<Cow<'a, Target>> {
        if !self.deferred {
            return Ok(Cow::Borrowed(self));
        }
        let inst = inst.ok_or_else(|| {
            Error::Usage(format!(
                "the indicator `{}` needs its instrument",
                self.indicator
            ))
        })?;
        indicator_target(inst, &self.indicator, table).map(Cow::Owned)
    }

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
        deferred: false,
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

/// The instrument's indicator `id`, or an error listing some of its indicators.
fn find_indicator<'a>(inst: &'a Instrument, id: &str) -> Result<&'a Indicator> {
    inst.indicators.get(id).ok_or_else(|| {
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
    })
}

/// The target of an instrument indicator (on the prepared analysis table).
pub fn indicator_target(inst: &Instrument, id: &str, table: &Table) -> Result<Target> {
    let ind = find_indicator(inst, id)?;
    let (y, x) = match indicator::values(inst, ind, table)? {
        Values::Scalar(y) => (y, None),
        Values::Ratio {
            numerator,
            denominator,
        } => (numerator, Some(denominator)),
    };
    Ok(Target {
        y,
        x,
        ..described(id, ind)
    })
}

/// An indicator's target whose values are left to [`Target::made`]. The columns its values
/// read are checked now, so that a missing or text item is reported before any estimate.
pub fn deferred_indicator_target(inst: &Instrument, id: &str, table: &Table) -> Result<Target> {
    let ind = find_indicator(inst, id)?;
    for item in ind.items() {
        table.require_num(item)?;
    }
    if let Some(u) = &ind.universe {
        for v in u.variables() {
            table.require(v)?;
        }
    }
    Ok(Target {
        deferred: true,
        ..described(id, ind)
    })
}

/// An indicator's target without values.
fn described(id: &str, ind: &Indicator) -> Target {
    let stat = match ind.kind {
        IndicatorKind::Proportion => Stat::Proportion,
        IndicatorKind::Mean | IndicatorKind::Score => Stat::Mean,
        IndicatorKind::Total => Stat::Total,
        IndicatorKind::Ratio => Stat::Ratio,
        IndicatorKind::Quantile => Stat::Quantile(ind.p.unwrap_or(0.5)),
    };
    let variable = ind.items().join("+");
    Target {
        indicator: id.to_string(),
        stat,
        variable,
        category: String::new(),
        y: Vec::new(),
        x: None,
        deferred: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> (Instrument, Table) {
        crate::instrument::bundled()
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn a_deferred_indicator_is_made_with_the_values_of_an_eager_one() {
        let (inst, table) = bundled();
        for id in inst.indicators.keys() {
            let eager = indicator_target(&inst, id, &table).unwrap();
            let deferred = deferred_indicator_target(&inst, id, &table).unwrap();
            assert!(deferred.deferred && deferred.y.is_empty() && deferred.x.is_none());
            assert!(!eager.deferred);
            let made = deferred.made(Some(&inst), &table).unwrap();
            assert!(matches!(made, Cow::Owned(_)), "{id}");
            assert_eq!(
                (&made.indicator, &made.stat, &made.variable, &made.category),
                (
                    &eager.indicator,
                    &eager.stat,
                    &eager.variable,
                    &eager.category
                )
            );
            assert!(same(&made.y, &eager.y), "{id}");
            assert_eq!(made.x.is_some(), eager.x.is_some(), "{id}");
            if let (Some(a), Some(b)) = (&made.x, &eager.x) {
                assert!(same(a, b), "{id}");
            }
            // An eager target is its own.
            assert!(matches!(
                eager.made(None, &table).unwrap(),
                Cow::Borrowed(_)
            ));
        }
    }

    #[test]
    fn a_deferred_indicator_checks_its_columns_at_once() {
        let (inst, table) = bundled();
        let id = inst.indicators.keys().next().unwrap().clone();
        let item = inst.indicators[&id].items()[0].to_string();
        let columns = table
            .into_columns()
            .into_iter()
            .filter(|c| c.name != item)
            .collect();
        let table = Table::from_columns(columns).unwrap();
        let eager = indicator_target(&inst, &id, &table)
            .unwrap_err()
            .to_string();
        let deferred = deferred_indicator_target(&inst, &id, &table)
            .unwrap_err()
            .to_string();
        assert_eq!(eager, deferred);
        assert!(deferred.contains(&item), "{deferred}");
        let unknown = deferred_indicator_target(&inst, "no_such", &table)
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("has no indicator `no_such`"), "{unknown}");
    }
}
