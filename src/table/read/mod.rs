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
        read_file(path).map_err(|e| Error::io(path, e))
    }
}

/// Files above this size are read in parallel parts.
const PARALLEL_READ_BYTES: u64 = 32 << 20;

/// A whole file. A large one is read in as many parts as there are threads, each copied from
/// the page cache (and its pages of the buffer first touched) by a thread of its own: one
/// thread took a tenth of a second for a million rows, with the other core idle. A file that
/// changes size while it is read is read again in one piece. (Reading at an offset from
/// several threads is Unix's `pread`; elsewhere the file is read in one piece.)
#[cfg(not(unix))]
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

#[cfg(unix)]
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    read_in_parts(path, PARALLEL_READ_BYTES)
}

/// [`read_file`] for files of at least `least` bytes.
#[cfg(unix)]
fn read_in_parts(path: &Path, least: u64) -> std::io::Result<Vec<u8>> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let threads = rayon::current_num_threads();
    if !meta.is_file() || meta.len() < least.max(1) || threads < 2 {
        return std::fs::read(path);
    }
    let Ok(len) = usize::try_from(meta.len()) else {
        return std::fs::read(path);
    };
    let mut buf = vec![0u8; len];
    let part = len.div_ceil(threads);
    let parts: std::io::Result<()> = buf
        .par_chunks_mut(part)
        .enumerate()
        .try_for_each(|(k, chunk)| file.read_exact_at(chunk, (k * part) as u64));
    // Cut short while read, or grown: read it again as it is now.
    if parts.is_err() || file.read_at(&mut [0u8; 1], len as u64)? != 0 {
        return std::fs::read(path);
    }
    Ok(buf)
}

pub use self::csv::read_delimited_text;

#[cfg(test)]
mod tests {
    use super::*;

    /// A file read in parts is the file, whatever its length against the parts.
    #[cfg(unix)]
    #[test]
    fn a_file_read_in_parts_is_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for len in [1usize, 2, 7, 4096, 100_003] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(read_in_parts(&path, 1).unwrap(), bytes, "{len}");
        }
        // An empty file, and a missing one.
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert!(read_in_parts(&empty, 0).unwrap().is_empty());
        assert!(read_in_parts(&dir.path().join("none"), 1).is_err());
    }
}
