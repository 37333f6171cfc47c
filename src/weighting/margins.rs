//! Population margins for calibration, checked against the sample: margin files (CSV: one or
//! more variable columns and a `total` column; several variable columns make a crossed margin)
//! and totals of numeric variables (`--margin-total VAR=TOTAL`), turned into the constraints
//! ([`Auxiliaries`]) that [`super::calibrate`] meets — the `population` argument of R's
//! `calibrate()`, `rake()` and `postStratify()`.
//!
//! Checked here, each a clear error listing what is wrong: a total that is missing,
//! non-numeric or negative; a cell given twice; sample categories missing from a margin; margin
//! cells with a population but no respondents; cells with respondents but a population of 0;
//! margins whose grand totals disagree. Rows with a design weight of 0 (non-respondents kept in
//! a gross sample) take no part.

use super::calibrate::Auxiliaries;
use crate::error::Location;
use crate::table::read::{read_table, ReadOptions};
use crate::table::{format_number, sniff, ColumnData, Table, MISSING_CODE};
use crate::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One row of a margin file.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginCell {
    /// The values of the margin's variables, as text.
    pub values: Vec<String>,
    pub total: f64,
    /// 1-based data row in the file, for messages.
    pub row: usize,
}

/// A margin file as read.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginFile {
    pub path: PathBuf,
    pub variables: Vec<String>,
    pub cells: Vec<MarginCell>,
}

impl MarginFile {
    /// The margin's name in messages and reports: its variables, `origin × gender`.
    pub fn name(&self) -> String {
        self.variables.join(" × ")
    }

    /// The population total of the margin (sum of its cells).
    pub fn grand_total(&self) -> f64 {
        self.cells.iter().map(|c| c.total).sum()
    }

    /// The label of cell `c`: `origin=2, gender=1`.
    pub fn cell_label(&self, c: usize) -> String {
        self.variables
            .iter()
            .zip(&self.cells[c].values)
            .map(|(v, x)| format!("{v}={x}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads a margin file: every column but `total` is a margin variable.
pub fn read_margin(path: &Path) -> Result<MarginFile> {
    read_cells(path, "total", "a margin file")
}

/// Reads a file of population cells: every column but `value` is a variable, `value` holds
/// each cell's population (`total` in margin files, `population` in standard populations).
pub fn read_cells(path: &Path, value: &str, kind: &str) -> Result<MarginFile> {
    let table = read_table(path, &ReadOptions::default())?;
    cells_of_table(&table, path, value, kind)
}

/// The population cells of a table read from the file `path` (named in messages), as
/// [`read_cells`] takes them.
pub fn cells_of_table(table: &Table, path: &Path, value: &str, kind: &str) -> Result<MarginFile> {
    let loc = |row: usize, col: &str| Location::file(path).row(row).column(col);
    let Some(total_col) = table.column(value) else {
        return Err(Error::input(
            Location::file(path),
            None,
            format!(
                "{kind} needs a `{value}` column beside its variable columns; it has: {}",
                table.names().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let variables: Vec<String> = table
        .names()
        .filter(|n| *n != value)
        .map(str::to_string)
        .collect();
    if variables.is_empty() {
        return Err(Error::input(
            Location::file(path),
            None,
            format!("{kind} needs at least one variable column beside `{value}`"),
        ));
    }
    if table.nrows() == 0 {
        return Err(Error::input(
            Location::file(path),
            None,
            format!("{kind} has no rows"),
        ));
    }
    let mut cells = Vec::with_capacity(table.nrows());
    let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
    for i in 0..table.nrows() {
        let total = match total_col.text(i) {
            None => {
                return Err(Error::input(
                    loc(i + 1, value),
                    None,
                    "the population total is missing; expected a non-negative number",
                ))
            }
            Some(text) => match &total_col.data {
                ColumnData::Num(v) => v[i],
                ColumnData::Cat { .. } => sniff::parse_number(&text, false).ok_or_else(|| {
                    Error::input(
                        loc(i + 1, value),
                        Some(text.clone()),
                        "expected a non-negative number (the population total of the cell)",
                    )
                })?,
            },
        };
        if !(total.is_finite() && total >= 0.0) {
            return Err(Error::input(
                loc(i + 1, value),
                Some(format_number(total)),
                "expected a non-negative number (the population total of the cell)",
            ));
        }
        let mut values = Vec::with_capacity(variables.len());
        for v in &variables {
            let col = table.require(v)?;
            match col.text(i) {
                Some(x) => values.push(x.trim().to_string()),
                None => {
                    return Err(Error::input(
                        loc(i + 1, v),
                        None,
                        "the category is missing; every row names one cell",
                    ))
                }
            }
        }
        if let Some(first) = seen.insert(values.clone(), i + 1) {
            return Err(Error::input(
                loc(i + 1, &variables.join(", ")),
                Some(values.join(", ")),
                format!("this cell is also given in row {first}; give each cell once"),
            ));
        }
        cells.push(MarginCell {
            values,
            total,
            row: i + 1,
        });
    }
    Ok(MarginFile {
        path: path.to_path_buf(),
        variables,
        cells,
    })
}

/// A margin matched to the sample.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedMargin {
    pub file: MarginFile,
    /// Cell (index into `file.cells`) of each row; [`MISSING_CODE`] for rows with weight 0.
    pub cell_of_row: Vec<u32>,
    /// Cells kept as constraints (total 0 and no respondents: dropped), in file order.
    pub kept: Vec<usize>,
    /// Respondents (rows with weight > 0) in each cell of the file.
    pub respondents: Vec<usize>,
}

/// The constraints of a calibration, matched to the sample.
#[derive(Debug, Clone)]
pub struct Constraints {
    pub aux: Auxiliaries,
    pub margins: Vec<MatchedMargin>,
    /// `(variable, total)` of the numeric totals.
    pub numeric: Vec<(String, f64)>,
    /// Which margin and cell each constraint of `aux` comes from (`None`: a numeric total).
    pub origin: Vec<Option<(usize, usize)>>,
}

/// How a sample value is looked up among the margin's values of one variable.
enum Lookup {
    /// Level code of a text column → index among the margin values (u32::MAX: not there).
    Levels(Vec<u32>),
    /// Small whole numbers (the usual codes) → index, by position.
    Codes(Vec<u32>),
    /// Number bits → index.
    Numbers(HashMap<u64, u32>),
}

/// The largest code [`Lookup::Codes`] covers.
const MAX_DENSE_CODE: f64 = 65_535.0;

/// Matches margin files and numeric totals to the sample rows with design weight `d > 0`.
pub fn constraints(
    table: &Table,
    d: &[f64],
    margins: &[MarginFile],
    totals: &[(String, f64)],
) -> Result<Constraints> {
    let n = table.nrows();
    let mut aux = Auxiliaries::new(n);
    let mut matched = Vec::with_capacity(margins.len());
    let mut origin = Vec::new();
    for (k, m) in margins.iter().enumerate() {
        let mm = match_margin(table, d, m)?;
        let cells: Vec<(String, f64)> = mm
            .kept
            .iter()
            .map(|&c| (m.cell_label(c), m.cells[c].total))
            .collect();
        // Codes into the kept cells.
        let mut position = vec![MISSING_CODE; m.cells.len()];
        for (j, &c) in mm.kept.iter().enumerate() {
            position[c] = j as u32;
        }
        let codes: Vec<u32> = mm
            .cell_of_row
            .iter()
            .map(|&c| {
                if c == MISSING_CODE {
                    MISSING_CODE
                } else {
                    position[c as usize]
                }
            })
            .collect();
        aux.push_margin(&codes, &cells)
            .map_err(|e| Error::Design(format!("{}: {e}", m.path.display())))?;
        origin.extend(mm.kept.iter().map(|&c| Some((k, c))));
        matched.push(mm);
    }
    check_grand_totals(margins)?;
    for (var, total) in totals {
        if !(total.is_finite()) {
            return Err(Error::Usage(format!(
                "--margin-total {var}={total}: the total must be a finite number"
            )));
        }
        let values = table.require_num(var)?;
        let mut x = Vec::with_capacity(n);
        for (i, (&v, &di)) in values.iter().zip(d).enumerate() {
            if di == 0.0 {
                x.push(0.0);
            } else if v.is_finite() {
                x.push(v);
            } else {
                return Err(Error::input(
                    Location::source(table.source.clone())
                        .row(i + 1)
                        .column(var),
                    None,
                    "missing value of a calibration variable; every respondent needs one",
                ));
            }
        }
        aux.push_numeric(var.clone(), x, *total)
            .map_err(|e| Error::Design(e.to_string()))?;
        origin.push(None);
    }
    Ok(Constraints {
        aux,
        margins: matched,
        numeric: totals.to_vec(),
        origin,
    })
}

fn check_grand_totals(margins: &[MarginFile]) -> Result<()> {
    let sums: Vec<f64> = margins.iter().map(MarginFile::grand_total).collect();
    let (lo, hi) = sums
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &s| {
            (a.min(s), b.max(s))
        });
    // Calibration meets totals to 1e-10 relative: margins must agree at least that well.
    if margins.len() > 1 && (hi - lo) > 1e-10 * (1.0 + hi.abs()) {
        let list: Vec<String> = margins
            .iter()
            .zip(&sums)
            .map(|(m, s)| format!("{} ({}): {}", m.path.display(), m.name(), format_number(*s)))
            .collect();
        return Err(Error::Design(format!(
            "the margins' population totals disagree: {}; every margin must add up to the same population",
            list.join("; ")
        )));
    }
    Ok(())
}

/// What a file of population cells is for, in messages.
#[derive(Debug, Clone, Copy)]
pub struct Role {
    /// `calibration variable`, `standardising variable`.
    pub variable: &'static str,
    /// `margin`, `standard population`.
    pub file: &'static str,
}

/// The role of margin files.
pub const MARGIN: Role = Role {
    variable: "calibration variable",
    file: "margin",
};

fn match_margin(table: &Table, d: &[f64], m: &MarginFile) -> Result<MatchedMargin> {
    let (cell_of_row, respondents) = locate_rows(table, d, m, MARGIN)?;
    let empty: Vec<String> = (0..m.cells.len())
        .filter(|&c| respondents[c] == 0 && m.cells[c].total > 0.0)
        .map(|c| {
            format!(
                "{} (total {})",
                m.cell_label(c),
                format_number(m.cells[c].total)
            )
        })
        .collect();
    if !empty.is_empty() {
        return Err(Error::Design(format!(
            "margin {}: cells with a population but no respondents: {}; collapse them with a neighbouring category in both the data and the margin",
            m.path.display(),
            empty.join("; ")
        )));
    }
    let zero: Vec<String> = (0..m.cells.len())
        .filter(|&c| respondents[c] > 0 && m.cells[c].total == 0.0)
        .map(|c| format!("{} ({} respondents)", m.cell_label(c), respondents[c]))
        .collect();
    if !zero.is_empty() {
        return Err(Error::Design(format!(
            "margin {}: cells with respondents but a population total of 0: {}; check the margin file",
            m.path.display(),
            zero.join("; ")
        )));
    }
    let kept = (0..m.cells.len()).filter(|&c| respondents[c] > 0).collect();
    Ok(MatchedMargin {
        file: m.clone(),
        cell_of_row,
        kept,
        respondents,
    })
}

/// The cell of each row with `d > 0` ([`MISSING_CODE`] for the others) and the number of such
/// rows in each cell. A missing value of one of the file's variables, and categories of the
/// data that the file lacks, are errors.
pub fn locate_rows(
    table: &Table,
    d: &[f64],
    m: &MarginFile,
    role: Role,
) -> Result<(Vec<u32>, Vec<usize>)> {
    let n = table.nrows();
    let nv = m.variables.len();
    // Distinct margin values per variable, and each cell as a tuple of their indices.
    let mut values: Vec<Vec<String>> = vec![Vec::new(); nv];
    let mut index: Vec<HashMap<String, u32>> = vec![HashMap::new(); nv];
    let mut cell_keys: HashMap<Vec<u32>, u32> = HashMap::new();
    for (c, cell) in m.cells.iter().enumerate() {
        let key: Vec<u32> = cell
            .values
            .iter()
            .enumerate()
            .map(|(v, x)| {
                let next = values[v].len() as u32;
                *index[v].entry(x.clone()).or_insert_with(|| {
                    values[v].push(x.clone());
                    next
                })
            })
            .collect();
        cell_keys.insert(key, c as u32);
    }
    let mut lookups = Vec::with_capacity(nv);
    for (v, name) in m.variables.iter().enumerate() {
        let col = table.require(name)?;
        lookups.push(match &col.data {
            ColumnData::Cat { levels, .. } => Lookup::Levels(
                levels
                    .iter()
                    .map(|l| index[v].get(l.trim()).copied().unwrap_or(u32::MAX))
                    .collect(),
            ),
            ColumnData::Num(_) => {
                let mut map = HashMap::new();
                for (k, x) in values[v].iter().enumerate() {
                    // A number, or a value label of the column (SPSS files).
                    let number = sniff::parse_number(x, false).or_else(|| {
                        col.value_labels
                            .iter()
                            .find(|(_, label)| label.trim() == x)
                            .map(|(code, _)| *code)
                    });
                    if let Some(num) = number {
                        map.insert((num + 0.0).to_bits(), k as u32);
                    }
                }
                let codes: Option<Vec<(usize, u32)>> = map
                    .iter()
                    .map(|(&bits, &k)| {
                        let x = f64::from_bits(bits);
                        (x == x.trunc() && (0.0..=MAX_DENSE_CODE).contains(&x))
                            .then_some((x as usize, k))
                    })
                    .collect();
                match codes {
                    Some(codes) => {
                        let len = codes.iter().map(|c| c.0 + 1).max().unwrap_or(0);
                        let mut dense = vec![u32::MAX; len];
                        for (x, k) in codes {
                            dense[x] = k;
                        }
                        Lookup::Codes(dense)
                    }
                    None => Lookup::Numbers(map),
                }
            }
        });
    }
    let columns: Vec<&crate::table::Column> = m
        .variables
        .iter()
        .map(|v| table.require(v))
        .collect::<Result<_>>()?;

    // A cell's key is its value indices in mixed radix; `cell_at` maps keys to cells.
    let radix: Vec<usize> = values.iter().map(|v| v.len().max(1)).collect();
    let keys: usize = radix.iter().product();
    let mut cell_at = vec![MISSING_CODE; keys];
    for (key, &c) in &cell_keys {
        let k = key
            .iter()
            .zip(&radix)
            .fold(0usize, |acc, (&x, &r)| acc * r + x as usize);
        cell_at[k] = c;
    }
    let mut cell_of_row = vec![MISSING_CODE; n];
    let mut unmatched: BTreeMap<String, usize> = BTreeMap::new();
    let mut respondents = vec![0usize; m.cells.len()];
    for i in 0..n {
        if d[i] == 0.0 {
            continue;
        }
        let mut ok = true;
        let mut key = 0usize;
        for (v, col) in columns.iter().enumerate() {
            let k = match (&col.data, &lookups[v]) {
                (ColumnData::Cat { codes, .. }, Lookup::Levels(map)) => {
                    let c = codes[i];
                    if c == MISSING_CODE {
                        u32::MAX - 1
                    } else {
                        map[c as usize]
                    }
                }
                (ColumnData::Num(x), Lookup::Codes(dense)) => {
                    let x = x[i];
                    if x.is_nan() {
                        u32::MAX - 1
                    } else if x == x.trunc() && (0.0..=MAX_DENSE_CODE).contains(&x) {
                        dense.get(x as usize).copied().unwrap_or(u32::MAX)
                    } else {
                        u32::MAX
                    }
                }
                (ColumnData::Num(x), Lookup::Numbers(map)) => {
                    if x[i].is_nan() {
                        u32::MAX - 1
                    } else {
                        map.get(&(x[i] + 0.0).to_bits())
                            .copied()
                            .unwrap_or(u32::MAX)
                    }
                }
                _ => u32::MAX,
            };
            if k == u32::MAX - 1 {
                return Err(Error::input(
                    Location::source(table.source.clone())
                        .row(i + 1)
                        .column(&m.variables[v]),
                    None,
                    format!(
                        "missing value of {} `{}` ({} {}); every respondent needs one",
                        role.variable,
                        m.variables[v],
                        role.file,
                        m.path.display()
                    ),
                ));
            }
            if k == u32::MAX {
                ok = false;
            } else {
                key = key * radix[v] + k as usize;
            }
        }
        match ok.then(|| cell_at[key]).filter(|&c| c != MISSING_CODE) {
            Some(c) => {
                cell_of_row[i] = c;
                respondents[c as usize] += 1;
            }
            None => {
                let label = m
                    .variables
                    .iter()
                    .zip(&columns)
                    .map(|(v, col)| format!("{v}={}", col.text(i).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ");
                *unmatched.entry(label).or_insert(0) += 1;
            }
        }
    }
    if !unmatched.is_empty() {
        let list: Vec<String> = unmatched
            .iter()
            .map(|(l, k)| format!("{l} ({k} respondents)"))
            .collect();
        return Err(Error::Design(format!(
            "{file} {}: categories in the data have no population total in the {file}: {}; add them to the {file} file or recode the data",
            m.path.display(),
            list.join("; "),
            file = role.file,
        )));
    }
    Ok((cell_of_row, respondents))
}

/// Parses `VAR=TOTAL` (a `--margin-total` flag).
pub fn parse_total(s: &str) -> Result<(String, f64)> {
    let bad = || {
        Error::Usage(format!(
            "--margin-total `{s}`: write VAR=TOTAL with a number, e.g. months_reg=2400000"
        ))
    };
    let (var, total) = s.split_once('=').ok_or_else(bad)?;
    let total = sniff::parse_number(total.trim(), false).ok_or_else(bad)?;
    if var.trim().is_empty() || !total.is_finite() {
        return Err(bad());
    }
    Ok((var.trim().to_string(), total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn sample() -> Table {
        Table::from_columns(vec![
            Column::num("area", vec![1.0, 1.0, 2.0, 2.0, 3.0]),
            Column::cat_from_strings(
                "sex",
                &[Some("m"), Some("f"), Some("f"), Some("m"), Some("f")],
            ),
            Column::num("age", vec![20.0, 30.0, 40.0, 50.0, 60.0]),
        ])
        .unwrap()
    }

    #[test]
    fn a_crossed_margin_matches_numbers_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "m.csv",
            "area,sex,total\n1,m,10\n1,f,12\n2,m,8\n2,f,9\n3,f,5\n3,m,0\n",
        );
        let m = read_margin(&p).unwrap();
        assert_eq!(m.variables, ["area", "sex"]);
        let c = constraints(&sample(), &[1.0; 5], &[m], &[("age".into(), 1000.0)]).unwrap();
        // The empty cell (3, m) with total 0 is dropped.
        assert_eq!(c.aux.ncols(), 6);
        assert_eq!(c.aux.names()[0], "area=1, sex=m");
        assert_eq!(c.aux.totals()[5], 1000.0);
        assert_eq!(c.margins[0].cell_of_row, [0, 1, 3, 2, 4]);
    }

    #[test]
    fn bad_margins_name_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let t = sample();
        let err = |text: &str| {
            let p = write(dir.path(), "m.csv", text);
            match read_margin(&p) {
                Err(e) => e.to_string(),
                Ok(m) => constraints(&t, &[1.0; 5], &[m], &[])
                    .unwrap_err()
                    .to_string(),
            }
        };
        let e = err("area,total\n1,10\n2,x\n3,4\n");
        assert!(
            e.contains("row 2") && e.contains("`total`") && e.contains("`x`"),
            "{e}"
        );
        let e = err("area,total\n1,10\n2,-1\n3,4\n");
        assert!(e.contains("row 2") && e.contains("non-negative"), "{e}");
        let e = err("area,total\n1,10\n2,5\n1,4\n");
        assert!(
            e.contains("row 3") && e.contains("also given in row 1"),
            "{e}"
        );
        let e = err("area,n\n1,10\n");
        assert!(
            e.contains("needs a `total` column") && e.contains("area, n"),
            "{e}"
        );
        let e = err("area,total\n1,10\n2,5\n");
        assert!(
            e.contains("no population total in the margin: area=3 (1 respondents)"),
            "{e}"
        );
        let e = err("area,total\n1,10\n2,5\n3,4\n4,7\n");
        assert!(e.contains("no respondents: area=4 (total 7)"), "{e}");
        let e = err("area,total\n1,10\n2,5\n3,0\n");
        assert!(
            e.contains("population total of 0: area=3 (1 respondents)"),
            "{e}"
        );
    }

    #[test]
    fn disagreeing_grand_totals_and_missing_values() {
        let dir = tempfile::tempdir().unwrap();
        let a = read_margin(&write(dir.path(), "a.csv", "area,total\n1,10\n2,5\n3,5\n")).unwrap();
        let s = read_margin(&write(dir.path(), "s.csv", "sex,total\nm,10\nf,11\n")).unwrap();
        let e = constraints(&sample(), &[1.0; 5], &[a.clone(), s], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("totals disagree") && e.contains(": 20;") && e.contains(": 21"),
            "{e}"
        );

        let mut t = sample();
        t.set(Column::num("area", vec![1.0, f64::NAN, 2.0, 2.0, 3.0]))
            .unwrap();
        let e = constraints(&t, &[1.0; 5], std::slice::from_ref(&a), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 2") && e.contains("`area`") && e.contains("missing"),
            "{e}"
        );
        // A row with weight 0 takes no part.
        assert!(constraints(&t, &[1.0, 0.0, 1.0, 1.0, 1.0], &[a], &[]).is_ok());
    }

    #[test]
    fn margin_totals_parse() {
        assert_eq!(parse_total("age=12.5").unwrap(), ("age".into(), 12.5));
        let e = parse_total("age").unwrap_err().to_string();
        assert!(e.contains("VAR=TOTAL"), "{e}");
        assert!(parse_total("age=x").is_err());
    }
}
