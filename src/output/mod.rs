//! Writing results: tidy tables as CSV/TSV/JSON/XLSX ([`tidy`]), the published workbook
//! ([`xlsx`]) with its labels ([`labels`]) and words ([`locale`]) in fi/sv/en, the record of
//! inputs ([`manifest`]), report drafts ([`report`]), the publishing step both build on
//! ([`publish`]), and files that appear whole or not at all ([`atomic`]).

pub mod atomic;
pub mod data;
pub mod labels;
pub mod locale;
pub mod manifest;
pub mod publish;
pub mod report;
pub mod tidy;
pub mod xlsx;

pub use tidy::{Cell, Format, TextCells, TidyTable};

use crate::table::Table;

/// Reads a tidy table's cells by column name.
pub struct Cells<'a>(pub &'a Table);

impl Cells<'_> {
    pub fn text(&self, col: &str, i: usize) -> String {
        self.0
            .column(col)
            .and_then(|c| c.text(i))
            .unwrap_or_default()
    }
    pub fn num(&self, col: &str, i: usize) -> f64 {
        self.0
            .column(col)
            .and_then(|c| c.as_num())
            .map_or(f64::NAN, |v| v[i])
    }
    pub fn rows(&self) -> std::ops::Range<usize> {
        0..self.0.nrows()
    }
}

/// Prints text to standard output; a closed pipe (`tasa ... | head`) is not an error.
pub fn print_stdout(text: &str) -> crate::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    match lock.write_all(text.as_bytes()).and_then(|_| lock.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(crate::Error::io("<stdout>", e)),
    }
}

/// The extension of an output path, lower-cased (empty without one).
pub fn extension(path: &std::path::Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}
