//! Domains: the row index of every group of a breakdown (`--by A`, crossed `--by A*B`),
//! built in one pass over the data and reused by every estimate.

use crate::table::{format_number, ColumnData, Table, MISSING_CODE};
use crate::{Error, Result};
use std::collections::HashMap;

/// One domain: its rows (in data order), by-variable(s) and group value(s).
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    /// `*`-joined by-variables; empty for the whole population.
    pub by: String,
    /// `*`-joined values; empty for the whole population.
    pub group: String,
    pub rows: Vec<u32>,
}

/// A sort key that orders numbers numerically and text alphabetically.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Text(String),
}

impl Key {
    fn label(&self) -> String {
        match self {
            Key::Num(x) => format_number(*x),
            Key::Text(s) => s.clone(),
        }
    }
}

/// A by-variable as one integer key per row (number bits or text code; `None` when missing).
fn row_keys(table: &Table, var: &str) -> Result<Vec<Option<u64>>> {
    let col = table.require(var)?;
    Ok(match &col.data {
        ColumnData::Num(v) => v
            .iter()
            .map(|&x| (!x.is_nan()).then(|| (x + 0.0).to_bits()))
            .collect(),
        ColumnData::Cat { codes, .. } => codes
            .iter()
            .map(|&c| (c != MISSING_CODE).then_some(u64::from(c)))
            .collect(),
    })
}

/// The sort key and label of row `i` of a by-variable (made once per group).
fn key_of(table: &Table, var: &str, i: usize) -> Result<Key> {
    let col = table.require(var)?;
    Ok(match &col.data {
        ColumnData::Num(v) => Key::Num(v[i]),
        ColumnData::Cat { codes, levels } => Key::Text(levels[codes[i] as usize].clone()),
    })
}

/// A breakdown: its variables (none for the whole population) and its domains.
pub type Breakdown = (Vec<String>, Vec<Domain>);

/// The breakdowns of `--by` flags over `rows`: the whole population first, then one per flag
/// (`VAR` or crossed `VAR1*VAR2`). A flag whose rows all miss the value is an error.
pub fn breakdowns(table: &Table, by: &[String], rows: &[u32]) -> Result<Vec<Breakdown>> {
    let mut out: Vec<Breakdown> = vec![(
        Vec::new(),
        vec![Domain {
            by: String::new(),
            group: String::new(),
            rows: rows.to_vec(),
        }],
    )];
    for b in by {
        let vars: Vec<String> = b.split('*').map(|s| s.trim().to_string()).collect();
        if vars.iter().any(String::is_empty) {
            return Err(Error::Usage(format!("--by `{b}`: write VAR or VAR1*VAR2")));
        }
        let groups = breakdown(table, &vars, rows)?;
        if groups.is_empty() {
            return Err(Error::Usage(format!(
                "--by `{b}`: every row has a missing value"
            )));
        }
        out.push((vars, groups));
    }
    Ok(out)
}

/// The groups of a breakdown over `rows` (the whole data or a subset). Rows with a missing
/// by-value belong to no group (as R's `svyby`). Groups come in sorted order. One pass over the
/// rows with integer keys; labels are made once per group.
pub fn breakdown(table: &Table, vars: &[String], rows: &[u32]) -> Result<Vec<Domain>> {
    let columns: Vec<Vec<Option<u64>>> = vars
        .iter()
        .map(|v| row_keys(table, v))
        .collect::<Result<_>>()?;
    let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut groups: Vec<(u32, Vec<u32>)> = Vec::new(); // (first row, rows)
    let mut key: Vec<u64> = Vec::with_capacity(vars.len());
    'rows: for &i in rows {
        key.clear();
        for c in &columns {
            match c[i as usize] {
                Some(k) => key.push(k),
                None => continue 'rows,
            }
        }
        match index.get(key.as_slice()) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((i, vec![i]));
            }
        }
    }
    let mut list: Vec<(Vec<Key>, Vec<u32>)> = Vec::with_capacity(groups.len());
    for (first, members) in groups {
        let keys = vars
            .iter()
            .map(|v| key_of(table, v, first as usize))
            .collect::<Result<Vec<Key>>>()?;
        list.push((keys, members));
    }
    list.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    let by = vars.join("*");
    Ok(list
        .into_iter()
        .map(|(k, rows)| Domain {
            by: by.clone(),
            group: k.iter().map(Key::label).collect::<Vec<_>>().join("*"),
            rows,
        })
        .collect())
}

/// The rows of the (sub)population: those `--subset` keeps, else every row.
pub fn subset_rows(table: &Table, subset: Option<&str>) -> Result<Vec<u32>> {
    let Some(text) = subset else {
        return Ok((0..table.nrows() as u32).collect());
    };
    let f = crate::table::filter::Filter::parse(text)
        .map_err(|e| crate::Error::Usage(e.to_string()))?;
    let keep = f.evaluate(table)?;
    let rows: Vec<u32> = (0..table.nrows() as u32)
        .filter(|&i| keep[i as usize])
        .collect();
    if rows.is_empty() {
        return Err(crate::Error::Usage(format!(
            "--subset `{text}` selects no rows"
        )));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    #[test]
    fn crossed_groups_in_order_without_missing() {
        let t = Table::from_columns(vec![
            Column::num("a", vec![2.0, 1.0, 2.0, f64::NAN, 10.0]),
            Column::cat_from_strings(
                "b",
                &[Some("x"), Some("y"), Some("x"), Some("x"), Some("y")],
            ),
        ])
        .unwrap();
        let all: Vec<u32> = (0..5).collect();
        let d = breakdown(&t, &["a".into()], &all).unwrap();
        let groups: Vec<&str> = d.iter().map(|d| d.group.as_str()).collect();
        assert_eq!(groups, ["1", "2", "10"]);
        assert_eq!(d[1].rows, [0, 2]);
        let d = breakdown(&t, &["a".into(), "b".into()], &all).unwrap();
        assert_eq!(d[0].by, "a*b");
        let groups: Vec<&str> = d.iter().map(|d| d.group.as_str()).collect();
        assert_eq!(groups, ["1*y", "2*x", "10*y"]);
    }
}
