//! Reading data files into a [`Table`]: delimited text (CSV/TSV, any common encoding and
//! decimal style), spreadsheets (`.xlsx`, `.xls`, `.ods` through calamine) and SPSS `.sav`.
//! The format is recognised from the file's first bytes, so `-` (standard input) works too.

mod biff;
mod cell_refs;
mod csv;
mod excel;
mod ods;
mod ole;
mod spss;

use super::sniff::{Decimal, Encoding};
use super::Table;
use crate::error::{Location, Result};
use crate::Error;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How to read a data file. The defaults detect everything.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Field delimiter of delimited text; `None` detects `,`, `;` or tab from the header.
    pub delimiter: Option<u8>,
    pub encoding: Encoding,
    pub decimal: Decimal,
    /// Worksheet of a spreadsheet; `None` takes the first.
    pub sheet: Option<String>,
}

/// The kinds of file `tasa` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Delimited,
    /// A zip container: `.xlsx` or `.ods`.
    Zip,
    /// Legacy Excel `.xls` (an OLE compound file).
    Xls,
    Spss,
}

/// Recognises a format from magic bytes.
pub fn detect(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"PK\x03\x04") {
        Format::Zip
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Format::Xls
    } else if bytes.starts_with(b"$FL2") || bytes.starts_with(b"$FL3") {
        Format::Spss
    } else {
        Format::Delimited
    }
}

/// Reads a data file (or standard input for `-`) into a table.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table> {
    let bytes = read_bytes(path)?;
    let display: PathBuf = if path == Path::new("-") {
        PathBuf::from("<stdin>")
    } else {
        path.to_path_buf()
    };
    read_table_bytes(bytes, &display, options)
}

/// Reads the bytes of a data file into a table. `file` names the file in messages and in
/// [`Table::source`]; its extension, if it names a spreadsheet or SPSS format, must match the
/// bytes (as for [`read_table`]).
pub fn read_table_bytes(bytes: Vec<u8>, file: &Path, options: &ReadOptions) -> Result<Table> {
    if let Some(problem) = promise_broken(file, &bytes) {
        return Err(Error::input(Location::file(file), None, problem));
    }
    let mut table = match detect(&bytes) {
        Format::Delimited => csv::read(&bytes, file, options)?,
        Format::Zip | Format::Xls => excel::read(bytes, file, options)?,
        Format::Spss => spss::read(bytes, file)?,
    };
    table.source = Some(file.to_path_buf());
    Ok(table)
}

/// A file whose extension names a spreadsheet or SPSS format is read as that format: when
/// its first bytes are not that format's, what is wrong (random bytes named `.xlsx` are not
/// read as text). Other names, and standard input, go by the bytes alone.
fn promise_broken(path: &Path, bytes: &[u8]) -> Option<String> {
    let ext = crate::output::extension(path);
    let found = detect(bytes);
    let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02X}")).collect();
    let start = if start.is_empty() {
        "it is empty".to_string()
    } else {
        format!("it starts with the bytes {}", start.join(" "))
    };
    let (what, ok) = match ext.as_str() {
        // An encrypted .xlsx is an OLE container, as .xls files are.
        "xlsx" | "xlsm" | "xlsb" => (
            format!("the file is not a zip archive, so not an Excel workbook (.{ext}) as its name says"),
            matches!(found, Format::Zip | Format::Xls),
        ),
        "ods" => (
            "the file is not a zip archive, so not an OpenDocument spreadsheet (.ods) as its name says".into(),
            found == Format::Zip,
        ),
        "xls" => (
            "the file is not an Excel 97-2003 workbook (.xls) as its name says: it has neither the OLE nor the zip signature".into(),
            matches!(found, Format::Zip | Format::Xls),
        ),
        "sav" | "zsav" => (
            format!("the file is not an SPSS data file (.{ext}) as its name says: it does not start with $FL2 or $FL3"),
            found == Format::Spss,
        ),
        _ => return None,
    };
    (!ok).then(|| {
        format!("{what} ({start}); check that it is the right file, or save it again from the program that made it")
    })
}

/// Reads a whole file, or standard input for `-`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("<stdin>", e))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| Error::io(path, e))
    }
}

pub use self::csv::read_delimited_text;
