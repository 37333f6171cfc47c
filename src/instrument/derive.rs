//! From a response file to the analysis table: item columns named by item id, the scales'
//! missing codes (9 = don't know) turned into missing values, and derived variables computed
//! in dependency order.

use super::model::{Derived, DerivedRule, Instrument, RecodeValue};
use super::spec::ItemType;
use crate::error::Location;
use crate::table::filter::Tri;
use crate::table::{Column, ColumnData, Table};
use crate::{Error, Result};
use rayon::prelude::*;

/// What to do with a code that is not on the item's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidCodes {
    /// An error naming the file, row, column and value (estimation).
    Error,
    /// Treat as missing (validation, which reports them itself).
    Missing,
}

/// Builds the analysis table from a response file (consumed, so its columns are reused).
/// Columns that are not items (design variables, ids) are kept as they are; item columns are
/// renamed to the item id; a column named like a derived variable is replaced by the derived
/// values.
pub fn prepare(inst: &Instrument, raw: Table, invalid: InvalidCodes) -> Result<Table> {
    let lang = inst.languages.first().map(String::as_str).unwrap_or("en");
    let mut out = Table::new(raw.nrows());
    out.source = raw.source.clone();
    let source = raw.source.clone();
    let by_column: std::collections::HashMap<&str, &super::Item> = inst
        .items
        .values()
        .map(|i| (i.column.as_str(), i))
        .collect();
    // Columns in parallel (each is checked against its own item); kept in file order, and
    // the first error in file order is the one reported.
    let columns: Vec<Column> = raw.into_columns();
    let prepared: Vec<Result<Prepared>> = columns
        .into_par_iter()
        .map(|mut c| {
            if inst.derived.contains_key(&c.name) && !by_column.contains_key(c.name.as_str()) {
                return Ok(Prepared::Skip);
            }
            let Some(item) = by_column.get(c.name.as_str()).copied() else {
                return Ok(Prepared::Other(c));
            };
            match item.kind {
                ItemType::Text => {}
                ItemType::Number => {
                    c.require_num(source.as_deref())?;
                    if let ColumnData::Num(v) = &mut c.data {
                        for x in v.iter_mut() {
                            if item.missing.contains(x) {
                                *x = f64::NAN;
                            }
                        }
                    }
                }
                ItemType::Coded => {
                    let Some(scale) = item.scale.as_ref().and_then(|s| inst.scales.get(s)) else {
                        return Ok(Prepared::Skip);
                    };
                    c.require_num(source.as_deref())?;
                    if let ColumnData::Num(v) = &mut c.data {
                        for (i, x) in v.iter_mut().enumerate() {
                            if x.is_nan() || scale.is_missing_code(*x) {
                                *x = f64::NAN;
                            } else if !scale.is_valid(*x) {
                                if invalid == InvalidCodes::Missing {
                                    *x = f64::NAN;
                                } else {
                                    return Err(Error::input(
                                        Location::source(source.clone()).row(i + 1).column(&c.name),
                                        Some(crate::table::format_number(*x)),
                                        format!(
                                            "not a code of scale `{}` ({}); run `tasa validate` to list every invalid code",
                                            scale.id,
                                            code_list(scale)
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                    c.value_labels = scale
                        .codes
                        .iter()
                        .map(|code| {
                            (
                                code.value,
                                Instrument::label(&code.labels, lang).to_string(),
                            )
                        })
                        .collect();
                }
            }
            c.name = item.id.clone();
            Ok(Prepared::Item(c))
        })
        .collect();
    for p in prepared {
        match p? {
            Prepared::Skip => {}
            Prepared::Other(c) => out.push(c)?,
            Prepared::Item(c) => out.set(c)?,
        }
    }
    add_derived(inst, &mut out)?;
    Ok(out)
}

/// What [`prepare`] does with a column of the data.
enum Prepared {
    /// A derived variable's column, recomputed from its inputs; or a coded item without scale.
    Skip,
    /// Not an item: kept as it is.
    Other(Column),
    /// An item, checked and named by its id.
    Item(Column),
}

/// Lists a scale's codes for messages: `1, 2, 3, 4, 5; missing 9`.
pub fn code_list(scale: &super::Scale) -> String {
    let valid: Vec<String> = scale
        .codes
        .iter()
        .map(|c| crate::table::format_number(c.value))
        .collect();
    let missing: Vec<String> = scale
        .missing
        .iter()
        .map(|c| crate::table::format_number(c.value))
        .collect();
    if missing.is_empty() {
        valid.join(", ")
    } else {
        format!("{}; missing {}", valid.join(", "), missing.join(", "))
    }
}

/// Computes every derived variable whose inputs are in `table` and adds (or replaces) it.
pub fn add_derived(inst: &Instrument, table: &mut Table) -> Result<()> {
    let lang = inst.languages.first().map(String::as_str).unwrap_or("en");
    for d in inst.derived.values() {
        if !d.inputs().iter().all(|v| table.column(v).is_some()) {
            continue;
        }
        let values = derive(inst, d, table)?;
        let mut col = Column::num(d.id.clone(), values);
        if let Some(scale) = inst.scales.get(&d.scale) {
            col.value_labels = scale
                .codes
                .iter()
                .map(|c| (c.value, Instrument::label(&c.labels, lang).to_string()))
                .collect();
        }
        table.set(col)?;
    }
    Ok(())
}

/// The values of one derived variable (NaN where it is missing).
pub fn derive(inst: &Instrument, d: &Derived, table: &Table) -> Result<Vec<f64>> {
    let n = table.nrows();
    let otherwise = d.otherwise.unwrap_or(f64::NAN);
    match &d.rule {
        DerivedRule::Bands { from, breaks } => {
            let x = table.require_num(from)?;
            let codes: Vec<f64> = inst
                .scales
                .get(&d.scale)
                .map(|s| s.codes.iter().map(|c| c.value).collect())
                .unwrap_or_default();
            Ok(x.iter()
                .map(|&v| {
                    if v.is_nan() {
                        return f64::NAN;
                    }
                    // breaks[k] <= v < breaks[k+1] gives codes[k].
                    let k = breaks.partition_point(|&b| b <= v);
                    if k == 0 || k >= breaks.len() {
                        f64::NAN
                    } else {
                        codes.get(k - 1).copied().unwrap_or(f64::NAN)
                    }
                })
                .collect())
        }
        DerivedRule::Recode { from, map } => {
            let col = table.require(from)?;
            match &col.data {
                ColumnData::Num(x) => Ok(x
                    .iter()
                    .map(|&v| {
                        if v.is_nan() {
                            return f64::NAN;
                        }
                        map.iter()
                            .find(|(rv, _)| match rv {
                                RecodeValue::Number(a) => *a == v,
                                RecodeValue::Text(s) => {
                                    crate::table::sniff::parse_number(s, false) == Some(v)
                                }
                            })
                            .map_or(otherwise, |(_, to)| *to)
                    })
                    .collect()),
                ColumnData::Cat { codes, levels } => {
                    let per_level: Vec<f64> = levels
                        .iter()
                        .map(|l| {
                            map.iter()
                                .find(|(rv, _)| match rv {
                                    RecodeValue::Text(s) => s == l,
                                    RecodeValue::Number(a) => crate::table::format_number(*a) == *l,
                                })
                                .map_or(otherwise, |(_, to)| *to)
                        })
                        .collect();
                    Ok(codes
                        .iter()
                        .map(|&c| {
                            if c == crate::table::MISSING_CODE {
                                f64::NAN
                            } else {
                                per_level[c as usize]
                            }
                        })
                        .collect())
                }
            }
        }
        DerivedRule::Cases(cases) => {
            let mut out = vec![f64::NAN; n];
            let mut decided = vec![false; n];
            let mut unknown = vec![false; n];
            for (filter, code) in cases {
                let tri = filter.evaluate_tri(table)?;
                for i in 0..n {
                    if decided[i] {
                        continue;
                    }
                    match tri[i] {
                        Tri::True if !unknown[i] => {
                            out[i] = *code;
                            decided[i] = true;
                        }
                        Tri::Unknown => unknown[i] = true,
                        _ => {}
                    }
                }
            }
            // No case held: `otherwise`, unless an earlier case could not be decided.
            for i in 0..n {
                if !decided[i] && !unknown[i] {
                    out[i] = otherwise;
                }
            }
            Ok(out)
        }
    }
}
