//! From a response file to the analysis table: item columns named by item id, the scales'
//! missing codes (9 = don't know) turned into missing values, and derived variables computed
//! in dependency order.

use super::model::{Derived, DerivedRule, Instrument, RecodeValue, Scale};
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

/// What a value of a coded item is under its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeKind {
    Valid,
    /// A missing code of the scale, or no value.
    Missing,
    Invalid,
}

/// A scale's codes as a table for the integers 0–255 (the codes of nearly every scale), so
/// that a column's million values are each looked up instead of compared with every code;
/// other values are compared with the codes.
struct CodeTable<'a> {
    scale: &'a Scale,
    small: [CodeKind; 256],
}

impl<'a> CodeTable<'a> {
    fn new(scale: &'a Scale) -> CodeTable<'a> {
        let mut small = [CodeKind::Invalid; 256];
        for (v, k) in small.iter_mut().enumerate() {
            *k = Self::compare(scale, v as f64);
        }
        CodeTable { scale, small }
    }

    /// A missing code first: a code listed as both is missing.
    fn compare(scale: &Scale, x: f64) -> CodeKind {
        if x.is_nan() || scale.is_missing_code(x) {
            CodeKind::Missing
        } else if scale.is_valid(x) {
            CodeKind::Valid
        } else {
            CodeKind::Invalid
        }
    }

    #[inline]
    fn kind(&self, x: f64) -> CodeKind {
        // An integer 0–255 converts to itself and back (NaN and negatives convert to 0, and
        // -0.0 is the code 0); a comparison, where `fract` is a call.
        let i = x as u8;
        if f64::from(i) == x {
            self.small[usize::from(i)]
        } else {
            Self::compare(self.scale, x)
        }
    }
}

/// A function of a value, tabled for the integers 0–255 (the codes of nearly every scale), so
/// that a column's million values are each looked up instead of compared with a list of
/// codes; other values (NaN among them) go to the function.
pub(super) struct CodeMap<F: Fn(f64) -> f64> {
    f: F,
    small: [f64; 256],
}

impl<F: Fn(f64) -> f64> CodeMap<F> {
    pub(super) fn new(f: F) -> Self {
        let mut small = [0.0; 256];
        for (v, y) in small.iter_mut().enumerate() {
            *y = f(v as f64);
        }
        CodeMap { f, small }
    }

    /// `f(x)`. (An integer 0–255 converts to itself and back, as in [`CodeTable::kind`].)
    #[inline]
    pub(super) fn get(&self, x: f64) -> f64 {
        let i = x as u8;
        if f64::from(i) == x {
            self.small[usize::from(i)]
        } else {
            (self.f)(x)
        }
    }
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
                        let codes = CodeTable::new(scale);
                        for (i, x) in v.iter_mut().enumerate() {
                            let kind = codes.kind(*x);
                            if kind == CodeKind::Missing {
                                *x = f64::NAN;
                            } else if kind == CodeKind::Invalid {
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
    // In order, in batches of variables none of which reads another of its batch: a batch
    // is computed in parallel and then added, which gives the table of doing them one by
    // one.
    let all: Vec<&Derived> = inst.derived.values().collect();
    let mut start = 0;
    while start < all.len() {
        let mut end = start + 1;
        while end < all.len() {
            let inputs = all[end].inputs();
            if all[start..end].iter().any(|d| inputs.contains(&d.id)) {
                break;
            }
            end += 1;
        }
        let batch = &all[start..end];
        let table_ref: &Table = table;
        let columns: Vec<Option<Result<Vec<f64>>>> = batch
            .par_iter()
            .map(|d| {
                d.inputs()
                    .iter()
                    .all(|v| table_ref.column(v).is_some())
                    .then(|| derive(inst, d, table_ref))
            })
            .collect();
        for (d, values) in batch.iter().zip(columns) {
            let Some(values) = values else {
                continue;
            };
            let mut col = Column::num(d.id.clone(), values?);
            if let Some(scale) = inst.scales.get(&d.scale) {
                col.value_labels = scale
                    .codes
                    .iter()
                    .map(|c| (c.value, Instrument::label(&c.labels, lang).to_string()))
                    .collect();
            }
            table.set(col)?;
        }
        start = end;
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
                ColumnData::Num(x) => {
                    // The map's keys as numbers (text keys parsed once), the first match
                    // winning; the integers 0–255 looked up in a table.
                    let keys: Vec<(f64, f64)> = map
                        .iter()
                        .filter_map(|(rv, to)| match rv {
                            RecodeValue::Number(a) => Some((*a, *to)),
                            RecodeValue::Text(s) => {
                                crate::table::sniff::parse_number(s, false).map(|a| (a, *to))
                            }
                        })
                        .collect();
                    let recode = CodeMap::new(|v: f64| {
                        if v.is_nan() {
                            return f64::NAN;
                        }
                        keys.iter()
                            .find(|(a, _)| *a == v)
                            .map_or(otherwise, |(_, to)| *to)
                    });
                    Ok(x.iter().map(|&v| recode.get(v)).collect())
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::filter::Filter;

    fn mini() -> Instrument {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        Instrument::load(&root.join("tests/fixtures/mini.toml")).unwrap()
    }

    fn derived(id: &str, rule: DerivedRule) -> Derived {
        Derived {
            id: id.into(),
            label: Default::default(),
            scale: String::new(),
            rule,
            otherwise: None,
            line: 0,
        }
    }

    /// The table of a scale's small integer codes says what comparing with its codes says,
    /// for every kind of value.
    #[test]
    fn code_table_agrees_with_the_scale() {
        let inst = mini();
        let scale = &inst.scales["agree5"];
        let table = CodeTable::new(scale);
        for x in [
            -1.0,
            -0.0,
            0.0,
            1.0,
            2.0,
            2.5,
            5.0,
            6.0,
            9.0,
            255.0,
            255.5,
            256.0,
            1e9,
            -1e9,
            f64::NAN,
        ] {
            assert_eq!(table.kind(x), CodeTable::compare(scale, x), "{x}");
        }
        assert_eq!(table.kind(5.0), CodeKind::Valid);
        assert_eq!(table.kind(9.0), CodeKind::Missing);
        assert_eq!(table.kind(f64::NAN), CodeKind::Missing);
        assert_eq!(table.kind(2.5), CodeKind::Invalid);
    }

    /// A numeric recode matches number and text keys, the first match winning, inside and
    /// outside the table of small codes.
    #[test]
    fn recode_of_numbers_matches_number_and_text_keys() {
        let inst = mini();
        let mut t = Table::new(7);
        t.push(Column::num(
            "v",
            vec![1.0, 2.0, 3.0, 300.0, 2.5, f64::NAN, 7.0],
        ))
        .unwrap();
        let map = vec![
            (RecodeValue::Number(1.0), 10.0),
            (RecodeValue::Text("2".into()), 20.0),
            (RecodeValue::Text("two".into()), 99.0),
            (RecodeValue::Number(2.0), 21.0),
            (RecodeValue::Text("300".into()), 30.0),
            (RecodeValue::Number(2.5), 25.0),
        ];
        let mut d = derived(
            "r",
            DerivedRule::Recode {
                from: "v".into(),
                map,
            },
        );
        d.otherwise = Some(0.0);
        let got = derive(&inst, &d, &t).unwrap();
        assert_eq!(&got[..5], &[10.0, 20.0, 0.0, 30.0, 25.0]);
        assert!(got[5].is_nan());
        assert_eq!(got[6], 0.0);
    }

    /// Derived variables that read others (or a file column they replace) see them as if
    /// added one by one.
    #[test]
    fn derived_variables_see_those_before_them() {
        let mut inst = mini();
        inst.derived.clear();
        let mut t = Table::new(3);
        t.push(Column::num("age", vec![20.0, 40.0, 70.0])).unwrap();
        t.push(Column::num("b", vec![1.0, 1.0, 1.0])).unwrap();
        let bands = |from: &str| DerivedRule::Bands {
            from: from.into(),
            breaks: vec![0.0, 30.0, 60.0, 120.0],
        };
        let cases = |text: &str| DerivedRule::Cases(vec![(Filter::parse(text).unwrap(), 1.0)]);
        // a: bands of age (no scale: NaN codes); b replaces the file's b and reads age;
        // c reads b (the new one); d reads the file's age only, beside c.
        for (id, rule) in [
            ("a", bands("age")),
            ("b", cases("age > 30")),
            ("c", cases("b == 1")),
            ("d", cases("age > 60")),
        ] {
            inst.derived.insert(id.into(), derived(id, rule));
        }
        add_derived(&inst, &mut t).unwrap();
        let col = |c: &str| t.column(c).unwrap().as_num().unwrap().to_vec();
        assert!(col("a").iter().all(|x| x.is_nan()));
        assert_eq!(col("b")[1..], [1.0, 1.0]);
        assert!(col("b")[0].is_nan());
        assert_eq!(col("c")[1..], [1.0, 1.0]);
        assert!(col("c")[0].is_nan());
        assert_eq!(col("d")[2], 1.0);
        assert!(col("d")[..2].iter().all(|x| x.is_nan()));
    }
}
