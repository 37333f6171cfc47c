//! Tidy tables: named columns, one row per record, written as CSV, TSV, JSON (an array of
//! objects, numbers at full precision) or a one-sheet XLSX. The column contract of each
//! command lives with that command's result type; this module only writes.
//!
//! Text cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage return are written to
//! CSV/TSV with a leading `'` so spreadsheets do not run them as formulas ([`TextCells`]);
//! XLSX cells are always written as strings, and JSON as it is.

use super::atomic;
use crate::{Error, Result};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// One cell of a tidy table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Num(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<usize> for Cell {
    fn from(x: usize) -> Self {
        Cell::Int(x as i64)
    }
}
impl From<f64> for Cell {
    fn from(x: f64) -> Self {
        if x.is_nan() {
            Cell::Empty
        } else {
            Cell::Num(x)
        }
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(x: Option<T>) -> Self {
        x.map_or(Cell::Empty, Into::into)
    }
}

/// Output formats of tidy tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Tsv,
    Json,
    Xlsx,
}

impl Format {
    /// The format from `--format`, else from the extension of `-o`, else CSV.
    pub fn choose(explicit: Option<Format>, output: Option<&Path>) -> Result<Format> {
        if let Some(f) = explicit {
            return Ok(f);
        }
        let Some(path) = output else {
            return Ok(Format::Csv);
        };
        let ext = crate::output::extension(path);
        match ext.as_str() {
            "csv" | "txt" | "" => Ok(Format::Csv),
            "tsv" | "tab" => Ok(Format::Tsv),
            "json" => Ok(Format::Json),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(Error::Usage(format!(
                "cannot tell the output format from `.{other}` in {}; use .csv, .tsv, .json or .xlsx, or give --format",
                path.display()
            ))),
        }
    }
}

/// How text cells are written to CSV and TSV files: the one switch behind `--raw-text` and the
/// run file's `raw_text`, used by every CSV writer (tidy tables here, respondent-level data in
/// [`super::data`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextCells {
    /// Text a spreadsheet would run as a formula gets a leading `'` ([`defuse_formula`]).
    #[default]
    Defused,
    /// Text as it is, for files that tasa or a script reads back.
    Raw,
}

impl TextCells {
    /// `Raw` when `raw` (the flag or the run file's key) is set.
    pub fn from_raw(raw: bool) -> TextCells {
        if raw {
            TextCells::Raw
        } else {
            TextCells::Defused
        }
    }

    /// A text cell as written.
    pub fn apply(self, s: &str) -> Cow<'_, str> {
        match self {
            TextCells::Defused => defuse_formula(s),
            TextCells::Raw => Cow::Borrowed(s),
        }
    }

    /// Whether writing `s` changes it.
    pub fn alters(self, s: &str) -> bool {
        self == TextCells::Defused && looks_like_formula(s)
    }
}

/// A table of results with named columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TidyTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl TidyTable {
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        TidyTable {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// Whether writing the table as CSV/TSV with `text` changes a header or a text cell.
    pub fn alters(&self, text: TextCells) -> bool {
        self.columns.iter().any(|c| text.alters(c))
            || self.rows.iter().flatten().any(|cell| match cell {
                Cell::Text(s) => text.alters(s),
                _ => false,
            })
    }

    /// Writes to `output` (atomically) or to standard output; `text` says how CSV/TSV text
    /// cells are written.
    pub fn write(
        &self,
        format: Format,
        output: Option<&Path>,
        sheet: &str,
        text: TextCells,
    ) -> Result<()> {
        match output {
            Some(path) => match format {
                Format::Xlsx => {
                    let bytes = self.to_xlsx(sheet)?;
                    atomic::write_bytes(path, &bytes)
                }
                _ => atomic::write_file(path, |w| {
                    self.write_text(format, text, w)
                        .map_err(|e| Error::io(path, e))
                }),
            },
            None => {
                if format == Format::Xlsx {
                    return Err(Error::Usage(
                        "an .xlsx workbook needs a file: give -o FILE.xlsx".into(),
                    ));
                }
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                match self
                    .write_text(format, text, &mut lock)
                    .and_then(|_| lock.flush())
                {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    Err(e) => Err(Error::io("<stdout>", e)),
                }
            }
        }
    }

    /// Writes CSV, TSV (text cells as `text` says) or JSON text (as it is).
    pub fn write_text(
        &self,
        format: Format,
        text: TextCells,
        w: &mut dyn Write,
    ) -> std::io::Result<()> {
        match format {
            Format::Json => self.write_json(w),
            Format::Tsv => self.write_delimited(w, b'\t', text),
            _ => self.write_delimited(w, b',', text),
        }
    }

    fn write_delimited(
        &self,
        w: &mut dyn Write,
        delimiter: u8,
        text: TextCells,
    ) -> std::io::Result<()> {
        let mut out = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(w);
        out.write_record(self.columns.iter().map(|c| text.apply(c).into_owned()))?;
        let mut fields: Vec<String> = Vec::with_capacity(self.columns.len());
        for row in &self.rows {
            fields.clear();
            for cell in row {
                fields.push(match cell {
                    Cell::Empty => String::new(),
                    Cell::Text(s) => text.apply(s).into_owned(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Num(x) => format_full(*x),
                });
            }
            out.write_record(&fields)?;
        }
        out.flush()
    }

    fn write_json(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let mut array = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let mut obj = serde_json::Map::new();
            for (name, cell) in self.columns.iter().zip(row) {
                let v = match cell {
                    Cell::Empty => serde_json::Value::Null,
                    Cell::Text(s) => serde_json::Value::String(s.clone()),
                    Cell::Int(i) => serde_json::Value::from(*i),
                    Cell::Num(x) => serde_json::Number::from_f64(*x)
                        .map_or(serde_json::Value::Null, serde_json::Value::Number),
                };
                obj.insert(name.clone(), v);
            }
            array.push(serde_json::Value::Object(obj));
        }
        serde_json::to_writer_pretty(&mut *w, &array)?;
        writeln!(w)
    }

    /// A one-sheet workbook: bold frozen header, autofilter, fitted widths.
    pub fn to_xlsx(&self, sheet: &str) -> Result<Vec<u8>> {
        use rust_xlsxwriter::Format as XFormat;
        let xerr =
            |e: rust_xlsxwriter::XlsxError| Error::Usage(format!("cannot write the workbook: {e}"));
        let mut wb = super::xlsx::new_workbook();
        let ws = wb.add_worksheet();
        ws.set_name(sheet).map_err(xerr)?;
        let bold = XFormat::new().set_bold();
        for (j, name) in self.columns.iter().enumerate() {
            ws.write_string_with_format(0, j as u16, name, &bold)
                .map_err(xerr)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let r = (i + 1) as u32;
            for (j, cell) in row.iter().enumerate() {
                let c = j as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        ws.write_string(r, c, s).map_err(xerr)?;
                    }
                    Cell::Int(x) => {
                        ws.write_number(r, c, *x as f64).map_err(xerr)?;
                    }
                    Cell::Num(x) => {
                        ws.write_number(r, c, *x).map_err(xerr)?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xerr)?;
        if !self.columns.is_empty() {
            ws.autofilter(
                0,
                0,
                self.rows.len() as u32,
                (self.columns.len() - 1) as u16,
            )
            .map_err(xerr)?;
        }
        ws.autofit();
        wb.save_to_buffer().map_err(xerr)
    }
}

/// A number at full precision (shortest text that reads back as the same double).
pub fn format_full(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// Prefixes text that a spreadsheet would run as a formula with `'` (OWASP's advice for CSV
/// files: text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return). A negative
/// number written as text (`-2`, `-0.5`, `-1,5`) is a number to a spreadsheet, not a formula,
/// and stays as it is.
pub fn defuse_formula(s: &str) -> Cow<'_, str> {
    if looks_like_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Whether a spreadsheet could take `s` for a formula.
fn looks_like_formula(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        Some(b'-') => !is_negative_number(s),
        _ => false,
    }
}

/// `-` and digits, with at most one decimal point or comma between digits.
fn is_negative_number(s: &str) -> bool {
    let Some(body) = s.strip_prefix('-') else {
        return false;
    };
    let (whole, fraction) = match body.find(['.', ',']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TidyTable {
        let mut t = TidyTable::new(["name", "n", "x"]);
        t.push(vec!["=SUM(A1)".into(), Cell::Int(3), Cell::Num(0.1)]);
        t.push(vec!["plain".into(), Cell::Empty, Cell::Num(1.0 / 3.0)]);
        t
    }

    #[test]
    fn csv_defuses_formulas_and_keeps_precision() {
        let mut buf = Vec::new();
        sample()
            .write_text(Format::Csv, TextCells::Defused, &mut buf)
            .unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(s, "name,n,x\n'=SUM(A1),3,0.1\nplain,,0.3333333333333333\n");
        let mut buf = Vec::new();
        sample()
            .write_text(Format::Csv, TextCells::Raw, &mut buf)
            .unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(s, "name,n,x\n=SUM(A1),3,0.1\nplain,,0.3333333333333333\n");
    }

    #[test]
    fn what_is_defused() {
        for s in [
            "=1+1", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-", "-x", "-1e5", "-1.", "-.5",
        ] {
            assert_eq!(defuse_formula(s), format!("'{s}"), "{s:?}");
        }
        for s in [
            "", "x", "1", "-1", "-0.5", "-1,5", "12-3", " =1", "'=1", "\nx",
        ] {
            assert_eq!(defuse_formula(s), s, "{s:?}");
        }
        assert!(!TextCells::Raw.alters("=1"));
        assert!(TextCells::Defused.alters("=1"));
        let mut t = TidyTable::new(["a"]);
        t.push(vec![Cell::Num(-1.0)]);
        assert!(!t.alters(TextCells::Defused), "numbers are never defused");
        t.push(vec!["@x".into()]);
        assert!(t.alters(TextCells::Defused));
        assert!(!t.alters(TextCells::Raw));
    }

    #[test]
    fn tsv_defuses_too_and_json_keeps_text() {
        let mut t = TidyTable::new(["name", "x"]);
        t.push(vec!["\tx".into(), Cell::Num(-2.0)]);
        let mut buf = Vec::new();
        t.write_text(Format::Tsv, TextCells::Defused, &mut buf)
            .unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "name\tx\n\"'\tx\"\t-2\n");
        let mut buf = Vec::new();
        t.write_text(Format::Json, TextCells::Defused, &mut buf)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["name"], "\tx");
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let mut buf = Vec::new();
        sample()
            .write_text(Format::Json, TextCells::Defused, &mut buf)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["name"], "=SUM(A1)");
        assert_eq!(v[0]["n"], 3);
        assert!(v[1]["n"].is_null());
        assert_eq!(v[1]["x"].as_f64().unwrap(), 1.0 / 3.0);
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            Format::choose(None, Some(Path::new("a.TSV"))).unwrap(),
            Format::Tsv
        );
        assert_eq!(Format::choose(None, None).unwrap(), Format::Csv);
        let e = Format::choose(None, Some(Path::new("a.docx"))).unwrap_err();
        assert!(e.to_string().contains("`.docx`"), "{e}");
    }
}
