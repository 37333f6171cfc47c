//! Columnar data: a [`Table`] of typed [`Column`]s read from CSV/TSV, Excel/ODS or SPSS files.
//!
//! Numbers are `f64` with NaN for missing; text is stored as `u32` codes into a sorted level
//! table (like R factors), with [`MISSING_CODE`] for missing. Value labels (SPSS, or attached
//! from an instrument's scales) travel with numeric columns.

pub mod filter;
pub mod read;
pub mod sniff;

use std::collections::HashMap;
use std::path::PathBuf;

/// The code of a missing value in a categorical column.
pub const MISSING_CODE: u32 = u32::MAX;

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Numbers; NaN is missing.
    Num(Vec<f64>),
    /// Text values as codes into `levels` (sorted); [`MISSING_CODE`] is missing.
    Cat {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
}

/// One named column with optional metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// A descriptive label (SPSS variable label), if the file had one.
    pub label: Option<String>,
    pub data: ColumnData,
    /// Labels of numeric codes (SPSS value labels).
    pub value_labels: Vec<(f64, String)>,
    /// Codes the file declared as missing (SPSS user-missing values); kept as values here.
    pub missing_values: Vec<f64>,
}

impl Column {
    /// A column without labels or declared missing values.
    pub fn new(name: impl Into<String>, data: ColumnData) -> Self {
        Column {
            name: name.into(),
            label: None,
            data,
            value_labels: Vec::new(),
            missing_values: Vec::new(),
        }
    }

    pub fn num(name: impl Into<String>, values: Vec<f64>) -> Self {
        Column::new(name, ColumnData::Num(values))
    }

    /// A categorical column from text values (`None` = missing). Levels are sorted.
    pub fn cat_from_strings<S: AsRef<str>>(name: impl Into<String>, values: &[Option<S>]) -> Self {
        let mut b = CatBuilder::default();
        for v in values {
            match v {
                Some(s) => b.push(s.as_ref()),
                None => b.push_missing(),
            }
        }
        let (codes, levels) = b.finish();
        Column::new(name, ColumnData::Cat { codes, levels })
    }

    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Num(v) => v.len(),
            ColumnData::Cat { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self.data, ColumnData::Num(_))
    }

    pub fn as_num(&self) -> Option<&[f64]> {
        match &self.data {
            ColumnData::Num(v) => Some(v),
            ColumnData::Cat { .. } => None,
        }
    }

    /// Whether row `i` is missing (blank, NA); declared missing codes are not counted here.
    pub fn is_missing(&self, i: usize) -> bool {
        match &self.data {
            ColumnData::Num(v) => v[i].is_nan(),
            ColumnData::Cat { codes, .. } => codes[i] == MISSING_CODE,
        }
    }

    /// The value of row `i` as text, as it would be written back (`None` when missing).
    pub fn text(&self, i: usize) -> Option<String> {
        match &self.data {
            ColumnData::Num(v) => {
                let x = v[i];
                if x.is_nan() {
                    None
                } else {
                    Some(format_number(x))
                }
            }
            ColumnData::Cat { codes, levels } => {
                let c = codes[i];
                (c != MISSING_CODE).then(|| levels[c as usize].clone())
            }
        }
    }

    /// The numbers of a numeric column, or an error naming the first text value (in `file`).
    pub fn require_num(&self, file: Option<&std::path::Path>) -> crate::Result<&[f64]> {
        match &self.data {
            ColumnData::Num(v) => Ok(v),
            ColumnData::Cat { codes, levels } => {
                let (row, value) = codes
                    .iter()
                    .enumerate()
                    .find(|(_, &c)| {
                        c != MISSING_CODE
                            && sniff::parse_number(&levels[c as usize], false).is_none()
                    })
                    .map(|(i, &c)| (i + 1, levels[c as usize].clone()))
                    .unwrap_or((1, String::new()));
                Err(crate::Error::input(
                    crate::error::Location::source(file.map(std::path::Path::to_path_buf))
                        .row(row)
                        .column(&self.name),
                    Some(value),
                    "expected a number",
                ))
            }
        }
    }

    /// The label of a numeric code, if the column has value labels.
    pub fn value_label(&self, code: f64) -> Option<&str> {
        self.value_labels
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, l)| l.as_str())
    }
}

/// Formats a number the shortest way that reads back exactly (integers without `.0`).
pub fn format_number(x: f64) -> String {
    let mut out = Vec::with_capacity(24);
    push_number(x, &mut out);
    // Only ASCII digits, signs, '.', 'e', "NaN" and "inf" are ever pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`format_number`]'s text for `x` to `out` without allocating: the hot path of every
/// data file tasa writes. Integers go through `itoa`, other numbers in 1e-5..1e15 through `ryu`
/// (shortest round-trip digits in plain notation, as `{}` prints in that range; when two
/// shortest texts are equally near, the last digit may differ from `{}`'s); the rare rest
/// through `{}`.
pub fn push_number(x: f64, out: &mut Vec<u8>) {
    let a = x.abs();
    if x == x.trunc() && a < 1e15 {
        out.extend_from_slice(itoa::Buffer::new().format(x as i64).as_bytes());
    } else if (1e-5..1e15).contains(&a) {
        out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes());
    } else {
        use std::io::Write as _;
        let _ = write!(out, "{x}");
    }
}

/// A data set: equal-length named columns.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    nrows: usize,
    /// The file the table was read from, for messages.
    pub source: Option<PathBuf>,
}

impl Table {
    pub fn new(nrows: usize) -> Self {
        Table {
            nrows,
            ..Default::default()
        }
    }

    /// Builds a table from columns; all must have the same length and distinct names.
    pub fn from_columns(columns: Vec<Column>) -> crate::Result<Self> {
        let nrows = columns.first().map_or(0, Column::len);
        let mut t = Table::new(nrows);
        for c in columns {
            t.push(c)?;
        }
        Ok(t)
    }

    /// Adds a column. Its length must equal the table's and its name must be new.
    pub fn push(&mut self, column: Column) -> crate::Result<()> {
        if self.columns.is_empty() && self.nrows == 0 {
            self.nrows = column.len();
        }
        if column.len() != self.nrows {
            return Err(crate::Error::Usage(format!(
                "column `{}` has {} rows, the table has {}",
                column.name,
                column.len(),
                self.nrows
            )));
        }
        if self.index.contains_key(&column.name) {
            return Err(crate::Error::Usage(format!(
                "column `{}` appears twice",
                column.name
            )));
        }
        self.index.insert(column.name.clone(), self.columns.len());
        self.columns.push(column);
        Ok(())
    }

    /// Replaces the column of the same name, or adds it.
    pub fn set(&mut self, column: Column) -> crate::Result<()> {
        match self.index.get(&column.name) {
            Some(&i) => {
                if column.len() != self.nrows {
                    return Err(crate::Error::Usage(format!(
                        "column `{}` has {} rows, the table has {}",
                        column.name,
                        column.len(),
                        self.nrows
                    )));
                }
                self.columns[i] = column;
                Ok(())
            }
            None => self.push(column),
        }
    }

    /// Renames a column; the new name must be free.
    pub fn rename(&mut self, from: &str, to: &str) -> crate::Result<()> {
        if from == to {
            return Ok(());
        }
        if self.index.contains_key(to) {
            return Err(crate::Error::Usage(format!("column `{to}` appears twice")));
        }
        let i = self
            .index
            .remove(from)
            .ok_or_else(|| self.unknown_column(from))?;
        self.columns[i].name = to.to_string();
        self.index.insert(to.to_string(), i);
        Ok(())
    }

    /// Moves the named columns (those present) to the end, in the order given.
    pub fn move_to_end(&mut self, names: &[&str]) {
        let mut moved = Vec::new();
        for name in names {
            if let Some(pos) = self.columns.iter().position(|c| c.name == *name) {
                moved.push(self.columns.remove(pos));
            }
        }
        self.columns.extend(moved);
        self.index = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
    }

    pub fn nrows(&self) -> usize {
        self.nrows
    }

    pub fn ncols(&self) -> usize {
        self.columns.len()
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.index.get(name).map(|&i| &self.columns[i])
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        match self.index.get(name) {
            Some(&i) => Some(&mut self.columns[i]),
            None => None,
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// The column called `name`, or an error naming the file and the columns it has.
    pub fn require(&self, name: &str) -> crate::Result<&Column> {
        self.column(name).ok_or_else(|| self.unknown_column(name))
    }

    /// The error for a column that is not there, listing (some of) the columns that are.
    pub fn unknown_column(&self, name: &str) -> crate::Error {
        let mut names: Vec<&str> = self.names().take(12).collect();
        if self.ncols() > 12 {
            names.push("...");
        }
        crate::Error::input(
            crate::error::Location::source(self.source.clone()).column(name),
            None,
            format!(
                "no such column; the file has: {}",
                if names.is_empty() {
                    "no columns".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )
    }

    /// The numeric values of `name`, or an error saying the column is text.
    pub fn require_num(&self, name: &str) -> crate::Result<&[f64]> {
        self.require(name)?.require_num(self.source.as_deref())
    }

    /// The columns, consumed (to reuse their memory).
    /// The rows `rows`, in that order, as a new table (levels and labels kept).
    pub fn take_rows(&self, rows: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                label: c.label.clone(),
                data: match &c.data {
                    ColumnData::Num(v) => ColumnData::Num(rows.iter().map(|&i| v[i]).collect()),
                    ColumnData::Cat { codes, levels } => ColumnData::Cat {
                        codes: rows.iter().map(|&i| codes[i]).collect(),
                        levels: levels.clone(),
                    },
                },
                value_labels: c.value_labels.clone(),
                missing_values: c.missing_values.clone(),
            })
            .collect::<Vec<_>>();
        let mut t = Table::new(rows.len());
        for c in columns {
            t.index.insert(c.name.clone(), t.columns.len());
            t.columns.push(c);
        }
        t.source = self.source.clone();
        t
    }

    pub fn into_columns(self) -> Vec<Column> {
        self.columns
    }
}

/// Interns text values into codes while reading; `finish` sorts the levels.
#[derive(Debug, Default)]
pub struct CatBuilder {
    codes: Vec<u32>,
    map: HashMap<String, u32>,
    levels: Vec<String>,
}

impl CatBuilder {
    pub fn with_capacity(n: usize) -> Self {
        CatBuilder {
            codes: Vec::with_capacity(n),
            ..Default::default()
        }
    }

    pub fn push(&mut self, value: &str) {
        let code = match self.map.get(value) {
            Some(&c) => c,
            None => {
                let c = self.levels.len() as u32;
                self.map.insert(value.to_string(), c);
                self.levels.push(value.to_string());
                c
            }
        };
        self.codes.push(code);
    }

    pub fn push_missing(&mut self) {
        self.codes.push(MISSING_CODE);
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Codes and sorted levels.
    pub fn finish(self) -> (Vec<u32>, Vec<String>) {
        let mut order: Vec<u32> = (0..self.levels.len() as u32).collect();
        order.sort_by(|&a, &b| self.levels[a as usize].cmp(&self.levels[b as usize]));
        let mut remap = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        let codes = self
            .codes
            .into_iter()
            .map(|c| {
                if c == MISSING_CODE {
                    c
                } else {
                    remap[c as usize]
                }
            })
            .collect();
        let mut levels = self.levels;
        let sorted: Vec<String> = order
            .iter()
            .map(|&o| std::mem::take(&mut levels[o as usize]))
            .collect();
        (codes, sorted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `push_number` is a fast path for what `{}` prints (integers without `.0`): the same
    /// text, up to the last digit of a tie, and always the same number read back.
    #[test]
    fn numbers_print_as_display_does() {
        let std_text = |x: f64| {
            if x.is_finite() && x == x.trunc() && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            }
        };
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.1,
            0.3,
            1e-5,
            9.99e-6,
            1e-7,
            123.456,
            1e15 - 0.5,
            1e15,
            4.5e15,
            1e16,
            1e300,
            5e-324,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            0.1 + 0.2,
            2.0f64.sqrt() * 1e9,
            1.0 / 3.0,
        ];
        let mut u = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            u ^= u << 13;
            u ^= u >> 7;
            u ^= u << 17;
            let x = f64::from_bits(u);
            if x.is_finite() {
                xs.push(x);
            }
            xs.push((u % 1_000_000) as f64 / 997.0 - 500.0);
        }
        for x in xs {
            let (fast, slow) = (format_number(x), std_text(x));
            assert_eq!(fast.len(), slow.len(), "{x:e}: {fast} vs {slow}");
            if x.is_nan() {
                assert_eq!(fast, "NaN");
            } else {
                assert_eq!(fast.parse::<f64>().unwrap(), x, "{x:e}: {fast}");
                let same_but_last = fast[..fast.len() - 1] == slow[..slow.len() - 1];
                assert!(same_but_last, "{x:e}: {fast} vs {slow}");
            }
        }
    }

    #[test]
    fn cat_levels_are_sorted_and_codes_remapped() {
        let c = Column::cat_from_strings("g", &[Some("b"), Some("a"), None, Some("b")]);
        match &c.data {
            ColumnData::Cat { codes, levels } => {
                assert_eq!(levels, &["a", "b"]);
                assert_eq!(codes, &[1, 0, MISSING_CODE, 1]);
            }
            _ => panic!("expected categorical"),
        }
        assert_eq!(c.text(1).as_deref(), Some("a"));
        assert!(c.is_missing(2));
    }

    #[test]
    fn numbers_format_shortest() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(-2.5e20), "-250000000000000000000");
    }
}
