//! Indicator values per respondent, from the analysis table ([`super::derive::prepare`]).
//!
//! Each respondent gets the value that the estimators average or sum: 1/0 for proportions,
//! the item value for means, totals and quantiles, the mean of valid items for scores, and a
//! numerator and denominator for ratios. Respondents outside the indicator's universe, or
//! without a valid answer, get NaN (outside the estimate's domain, as R's `na.rm = TRUE`).

use super::derive::CodeMap;
use super::model::{Definition, Indicator, Instrument};
use crate::table::filter::Tri;
use crate::table::Table;
use crate::Result;

/// The per-respondent values of one indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Scalar(Vec<f64>),
    Ratio {
        numerator: Vec<f64>,
        denominator: Vec<f64>,
    },
}

/// Computes the indicator's value for every row of the analysis table.
pub fn values(inst: &Instrument, ind: &Indicator, table: &Table) -> Result<Values> {
    let n = table.nrows();
    let mut out = match &ind.definition {
        Definition::Item { item, success } => {
            let x = table.require_num(item)?;
            Values::Scalar(match success {
                Some(s) => {
                    let hit = CodeMap::new(|v: f64| {
                        if v.is_nan() {
                            v
                        } else {
                            f64::from(s.contains(&v))
                        }
                    });
                    x.iter().map(|&v| hit.get(v)).collect()
                }
                None => x.to_vec(),
            })
        }
        Definition::AnyOf { items, success } | Definition::AllOf { items, success } => {
            let any = matches!(ind.definition, Definition::AnyOf { .. });
            let cols: Vec<&[f64]> = items
                .iter()
                .map(|i| table.require_num(i))
                .collect::<Result<_>>()?;
            let mut y = vec![f64::NAN; n];
            for (i, yi) in y.iter_mut().enumerate() {
                let (mut hits, mut misses, mut missing) = (0usize, 0usize, 0usize);
                for c in &cols {
                    let v = c[i];
                    if v.is_nan() {
                        missing += 1;
                    } else if success.contains(&v) {
                        hits += 1;
                    } else {
                        misses += 1;
                    }
                }
                // any_of: one success decides; all_of: one failure decides; otherwise every
                // item must be answered.
                *yi = if any {
                    if hits > 0 {
                        1.0
                    } else if missing == 0 {
                        0.0
                    } else {
                        f64::NAN
                    }
                } else if misses > 0 {
                    0.0
                } else if missing == 0 {
                    1.0
                } else {
                    f64::NAN
                };
            }
            Values::Scalar(y)
        }
        Definition::Score {
            items,
            min_valid,
            reverse,
        } => {
            let mut cols = Vec::with_capacity(items.len());
            for item in items {
                let x = table.require_num(item)?;
                let flip = if reverse.contains(item) {
                    let (lo, hi) = match inst.scale_of(item) {
                        Some(s) => s.min_max(),
                        None => {
                            let it = inst.items.get(item);
                            (
                                it.and_then(|i| i.min).unwrap_or(f64::NAN),
                                it.and_then(|i| i.max).unwrap_or(f64::NAN),
                            )
                        }
                    };
                    Some(lo + hi)
                } else {
                    None
                };
                cols.push((x, flip));
            }
            let mut y = vec![f64::NAN; n];
            for (i, yi) in y.iter_mut().enumerate() {
                let (mut sum, mut k) = (0.0, 0usize);
                for (c, flip) in &cols {
                    let v = c[i];
                    if !v.is_nan() {
                        sum += flip.map_or(v, |f| f - v);
                        k += 1;
                    }
                }
                if k >= *min_valid && k > 0 {
                    *yi = sum / k as f64;
                }
            }
            Values::Scalar(y)
        }
        Definition::Ratio {
            numerator,
            denominator,
        } => {
            let a = table.require_num(numerator)?;
            let b = table.require_num(denominator)?;
            let (mut num, mut den) = (a.to_vec(), b.to_vec());
            for i in 0..n {
                if num[i].is_nan() || den[i].is_nan() {
                    num[i] = f64::NAN;
                    den[i] = f64::NAN;
                }
            }
            Values::Ratio {
                numerator: num,
                denominator: den,
            }
        }
    };
    if let Some(u) = &ind.universe {
        let inside = u.evaluate_tri(table)?;
        let clear = |v: &mut Vec<f64>| {
            for (x, t) in v.iter_mut().zip(&inside) {
                if *t != Tri::True {
                    *x = f64::NAN;
                }
            }
        };
        match &mut out {
            Values::Scalar(y) => clear(y),
            Values::Ratio {
                numerator,
                denominator,
            } => {
                clear(numerator);
                clear(denominator);
            }
        }
    }
    Ok(out)
}
