//! Spreadsheets (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) through calamine.
//!
//! One worksheet is read: the first, or the one named by [`ReadOptions::sheet`]. The first
//! row of the sheet's used area is the header (names trimmed, non-empty, unique, as for CSV);
//! every row below it is a data row. Rows shorter than the header are padded with missing
//! values and trailing rows with nothing in them are dropped. Trailing columns that are
//! empty from header to bottom (formatting only) are ignored.
//!
//! How cells become values:
//!
//! - numbers are numbers; booleans are 1 (TRUE) and 0 (FALSE);
//! - text is text (trimmed), except that text holding a number (`"12"`, `" 2.5 "`, and with
//!   a decimal comma `"1,25"` unless `--decimal point` is given, since Finnish users type
//!   numbers that way) counts as that number, so such a column stays numeric;
//! - empty cells, blank text and `NA` are missing;
//! - dates and date-times become ISO 8601 text (`2024-03-01`, `2024-03-01 12:30:00`; a time
//!   of day alone is `12:30:00`), so a date column is a text column whose sorted levels are in
//!   time order. Durations become `h:mm:ss` text (`.xlsx`/`.xls`) or stay as the ISO 8601
//!   duration the file stores (`.ods`). Dates are never read as Excel serial numbers, whose
//!   meaning depends on the workbook's 1900/1904 epoch;
//! - an error cell (`#DIV/0!`, `#N/A`, ...) stops reading with an error that names the file,
//!   sheet, row and cell (as the spreadsheet shows them), the column and the value: a
//!   formula that failed is never silently turned into a missing value.
//!
//! A column is numeric when every non-missing cell is a number (or boolean, or numeric text);
//! otherwise it is text: text cells keep their (trimmed) text, so `007` stays `007` as in
//! CSV, number cells are written the shortest exact way ([`format_number`]) and booleans as
//! `TRUE`/`FALSE`.

use super::ReadOptions;
use crate::error::{Location, Result};
use crate::table::sniff::{self, parse_number, Decimal};
use crate::table::{format_number, CatBuilder, Column, ColumnData, Table};
use crate::Error;
use calamine::{Data, DataRef, Ods, Range, Reader, Sheets, Xls, XlsError, Xlsb, Xlsx, XlsxError};
use std::io::Cursor;
use std::path::Path;

/// What a cell means for a column.
enum Cell<'a> {
    Missing,
    Number(f64),
    /// Text that is not a number (trimmed), or a rendering of a date or boolean.
    Text(std::borrow::Cow<'a, str>),
}

pub(super) fn read(bytes: Vec<u8>, file: &Path, options: &ReadOptions) -> Result<Table> {
    let (range, sheet) = guarded(file, || sheet_range(&bytes, file, options))?;
    let comma = options.decimal != Decimal::Point;
    table_from_range(&range, file, &sheet, comma)
}

/// The cells of the sheet to read, and its name.
fn sheet_range(bytes: &[u8], file: &Path, options: &ReadOptions) -> Result<(Range<Data>, String)> {
    let mut book = open(bytes, file)?;
    let names = book.sheet_names();
    let sheet = match &options.sheet {
        Some(wanted) => match names.iter().find(|n| *n == wanted) {
            Some(n) => n.clone(),
            None => {
                return Err(Error::input(
                    Location::file(file),
                    None,
                    format!(
                        "no sheet named `{wanted}`; the workbook has: {}",
                        list(&names)
                    ),
                ))
            }
        },
        None => match names.first() {
            Some(n) => n.clone(),
            None => {
                return Err(Error::input(
                    Location::file(file),
                    None,
                    "the workbook has no worksheets",
                ))
            }
        },
    };
    let range = read_range(&mut book, &sheet, file)?;
    Ok((range, sheet))
}

thread_local! {
    /// Set while this thread runs calamine under [`guarded`]: its panics are then caught and
    /// reported as a damaged file, so the panic hook stays silent for them.
    static IN_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs calamine's parsing of a workbook with its panics turned into an input error.
///
/// calamine takes hostile bytes apart, and some of its parsers (an `.xls` formula's tokens,
/// a shared string's runs, a defined name) index a record without checking its length: a
/// damaged file then panics inside calamine. That is a damaged input, not a fault of the
/// run, so it is refused like any other (exit 2, nothing written). The records whose
/// misreading would exhaust memory instead, which no catching can save, are refused before
/// calamine starts (`biff.rs`, `ole.rs`, [`check_entry_sizes`], `cell_refs.rs`, `ods.rs`).
/// Nothing calamine touches outlives the call, so no broken state is seen afterwards.
fn guarded<T>(file: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_READER.with(|r| r.get()) {
                previous(info);
            }
        }));
    });
    let outer = IN_READER.with(|r| r.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    IN_READER.with(|r| r.set(outer));
    outcome.unwrap_or_else(|_| {
        Err(Error::input(
            Location::file(file),
            None,
            "cannot read the workbook: one of its records is damaged and cannot be taken apart; save the file again from the program that made it",
        ))
    })
}

/// Opens the workbook in memory. A zip is `.ods` when its leading `mimetype` entry says so
/// (the OpenDocument rule), else `.xlsx`/`.xlsm`, `.xlsb` or `.ods` in that order of trying;
/// an OLE compound file is `.xls`.
fn open<'a>(bytes: &'a [u8], file: &Path) -> Result<Sheets<Cursor<&'a [u8]>>> {
    let cursor = Cursor::new(bytes);
    let failed = |kind: &str, e: &dyn std::fmt::Display| {
        Error::input(
            Location::file(file),
            None,
            format!("cannot open the file as {kind}: {e}"),
        )
    };
    if super::detect(bytes) == super::Format::Xls {
        if let Some(stream) = super::ole::check_compound_file(bytes, file)? {
            super::biff::check(&stream, file)?;
        }
        // An encrypted .xlsx is an OLE container around the encrypted package.
        if let Err(XlsxError::Password) = Xlsx::new(cursor.clone()) {
            return Err(encrypted(file));
        }
        return Xls::new(cursor).map(Sheets::Xls).map_err(|e| match e {
            XlsError::Password => encrypted(file),
            e => failed("an Excel 97-2003 workbook (.xls)", &e),
        });
    }
    check_entry_sizes(bytes, file)?;
    if declares_ods(bytes) {
        super::ods::check(bytes, file)?;
        return Ods::new(cursor)
            .map(Sheets::Ods)
            .map_err(|e| failed("an OpenDocument spreadsheet (.ods)", &e));
    }
    super::cell_refs::check(bytes, file)?;
    let xlsx_err = match Xlsx::new(cursor.clone()) {
        Ok(x) => return Ok(Sheets::Xlsx(x)),
        Err(e) => e,
    };
    if let Ok(x) = Xlsb::new(cursor.clone()) {
        return Ok(Sheets::Xlsb(x));
    }
    super::ods::check(bytes, file)?;
    if let Ok(x) = Ods::new(cursor) {
        return Ok(Sheets::Ods(x));
    }
    Err(failed("an Excel workbook (.xlsx)", &xlsx_err))
}

fn encrypted(file: &Path) -> Error {
    Error::input(
        Location::file(file),
        None,
        "the workbook is encrypted with a password, and tasa does not read encrypted workbooks; open it in Excel, remove the password (File > Info > Protect Workbook) and save a copy to read",
    )
}

/// Deflate, the compression of workbooks, packs at most about 1032 bytes into one.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Refuses a zip with an entry that declares more uncompressed bytes than its compressed
/// bytes can hold: such a header lies (a damaged file or a zip bomb), and a reader that
/// trusted it could reserve gigabytes. Only the zip's directory is read. A zip that does not
/// open is left to the workbook readers, which say why.
fn check_entry_sizes(bytes: &[u8], file: &Path) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            continue;
        };
        let most = entry
            .compressed_size()
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(1 << 16);
        if entry.size() > most {
            return Err(Error::input(
                Location::file(file),
                None,
                format!(
                    "the zip entry `{}` declares {} bytes uncompressed from {} compressed bytes, more than compression can give; the file is damaged or made to exhaust memory, and is not read",
                    String::from_utf8_lossy(entry.name_raw()),
                    entry.size(),
                    entry.compressed_size()
                ),
            ));
        }
    }
    Ok(())
}

/// A sheet's range is always built when it has at most this many cells.
const SMALL_RANGE: u64 = 1 << 20;
/// Above [`SMALL_RANGE`], cells with values must fill at least 1 / SPARSE of the range.
const SPARSE: u64 = 16;
/// No sheet range larger than this is built (about 6 GB of cells).
const LARGEST_RANGE: u64 = 200_000_000;

/// Reads a worksheet's cells. `.xlsx` and `.xlsb` sheets are read cell by cell and their range
/// is built only when it is not absurd: one stray value at XFD1048576 would stretch it to 17
/// billion cells. (`.xls` sheets have at most 65,536 × 256 cells.)
fn read_range(book: &mut Sheets<Cursor<&[u8]>>, sheet: &str, file: &Path) -> Result<Range<Data>> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::input(
            Location::file(file),
            None,
            format!("cannot read sheet `{sheet}`: {e}"),
        )
    };
    let mut cells: Vec<calamine::Cell<Data>> = Vec::new();
    let mut keep = |cell: calamine::Cell<DataRef<'_>>| {
        if !matches!(cell.get_value(), DataRef::Empty) {
            cells.push(calamine::Cell::new(
                cell.get_position(),
                cell.get_value().clone().into(),
            ));
        }
    };
    match book {
        Sheets::Xlsx(x) => {
            let mut reader = match x.worksheet_cells_reader(sheet) {
                Ok(r) => r,
                // A chart sheet has no cells.
                Err(XlsxError::NotAWorksheet(_)) => return Ok(Range::default()),
                Err(e) => return Err(failed(&e)),
            };
            while let Some(cell) = reader.next_cell().map_err(|e| failed(&e))? {
                keep(cell);
            }
        }
        Sheets::Xlsb(x) => {
            let mut reader = x.worksheet_cells_reader(sheet).map_err(|e| failed(&e))?;
            while let Some(cell) = reader.next_cell().map_err(|e| failed(&e))? {
                keep(cell);
            }
        }
        other => {
            return other.worksheet_range(sheet).map_err(|e| match e {
                calamine::Error::Xls(XlsError::Password) => encrypted(file),
                e => failed(&e),
            })
        }
    }
    Extent::of_cells(&cells).check(file, sheet, "values")?;
    Ok(Range::from_sparse(cells))
}

/// Where a sheet's cells with values lie: the smallest range holding them, the cells that
/// stretch it down and right, and how many there are (0-based rows and columns).
#[derive(Debug, Clone, Default)]
pub(super) struct Extent {
    top: u64,
    left: u64,
    bottom: (u64, u64),
    right: (u64, u64),
    values: u64,
}

impl Extent {
    /// Adds a block of equal cells: `rows` and `columns` as (first, how many), both at least 1.
    pub(super) fn add_block(&mut self, rows: (u64, u64), columns: (u64, u64)) {
        let last_row = rows.0.saturating_add(rows.1 - 1);
        let last_column = columns.0.saturating_add(columns.1 - 1);
        if self.values == 0 {
            self.top = rows.0;
            self.left = columns.0;
            self.bottom = (last_row, columns.0);
            self.right = (rows.0, last_column);
        } else {
            self.top = self.top.min(rows.0);
            self.left = self.left.min(columns.0);
            if last_row > self.bottom.0 {
                self.bottom = (last_row, columns.0);
            }
            if last_column > self.right.1 {
                self.right = (rows.0, last_column);
            }
        }
        self.values = self.values.saturating_add(rows.1.saturating_mul(columns.1));
    }

    fn of_cells(cells: &[calamine::Cell<Data>]) -> Extent {
        let mut extent = Extent::default();
        for c in cells {
            let (r, k) = c.get_position();
            extent.add_block((u64::from(r), 1), (u64::from(k), 1));
        }
        extent
    }

    /// The rows and columns of the smallest range holding the cells (0 × 0 without cells).
    pub(super) fn size(&self) -> (u64, u64) {
        if self.values == 0 {
            return (0, 0);
        }
        (self.bottom.0 - self.top + 1, self.right.1 - self.left + 1)
    }

    /// Refuses a sheet whose cells with `what` (values, formulas) are spread over a range too
    /// large to build, naming the cells that stretch it.
    pub(super) fn check(&self, file: &Path, sheet: &str, what: &str) -> Result<()> {
        if self.values == 0 {
            return Ok(());
        }
        let (rows, cols) = self.size();
        let area = rows.saturating_mul(cols);
        let values = self.values;
        if area <= SMALL_RANGE || (area <= LARGEST_RANGE && area <= SPARSE.saturating_mul(values)) {
            return Ok(());
        }
        let name = |(r, k): (u64, u64)| cell_ref(k as usize, r as usize + 1);
        let mut far = vec![name(self.bottom)];
        if self.right != self.bottom {
            far.push(name(self.right));
        }
        Err(Error::input(
            Location::file(file),
            None,
            format!(
                "sheet `{sheet}` has {values} cells with {what} spread over {}:{} ({rows} rows × {cols} columns), too large a range to read; {} {} far from the rest: clear {}, or copy the data to a new sheet",
                name((self.top, self.left)),
                name((self.bottom.0, self.right.1)),
                if far.len() == 1 { "the cell" } else { "the cells" },
                if far.len() == 1 { format!("{} lies", far[0]) } else { format!("{} lie", far.join(" and ")) },
                if far.len() == 1 { "it" } else { "them" },
            ),
        ))
    }
}

/// Whether a zip starts with the uncompressed `mimetype` entry of an OpenDocument
/// spreadsheet. (The entry name sits at offset 30 of the first local header.)
fn declares_ods(bytes: &[u8]) -> bool {
    const MIME: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
    let head = &bytes[..bytes.len().min(300)];
    head.get(30..38) == Some(b"mimetype".as_slice()) && head.windows(MIME.len()).any(|w| w == MIME)
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "no sheets".to_string()
    } else {
        names.join(", ")
    }
}

/// Builds the table from a worksheet's used range (header in its first row).
fn table_from_range(range: &Range<Data>, file: &Path, sheet: &str, comma: bool) -> Result<Table> {
    let Some((row0, col0)) = range.start() else {
        return Err(Error::input(
            Location::file(file),
            None,
            format!("sheet `{sheet}` is empty; expected column names in its first row"),
        ));
    };
    let row0 = row0 as usize;
    let col0 = col0 as usize;
    let mut rows = range.rows();
    let header = rows.next().unwrap_or(&[]);
    let body: Vec<&[Data]> = rows.collect();
    // Drop trailing rows with nothing in them.
    let nrows = body
        .iter()
        .rposition(|r| r.iter().any(|c| !is_blank(c)))
        .map_or(0, |i| i + 1);
    let body = &body[..nrows];
    // Ignore trailing columns empty from header to bottom.
    let ncols = (0..header.len())
        .rev()
        .find(|&j| {
            !is_blank(&header[j]) || body.iter().any(|r| r.get(j).is_some_and(|c| !is_blank(c)))
        })
        .map_or(0, |j| j + 1);
    if ncols == 0 {
        return Err(Error::input(
            Location::file(file),
            None,
            format!("sheet `{sheet}` is empty; expected column names in its first row"),
        ));
    }

    let header_row = row0 + 1;
    let mut names: Vec<String> = Vec::with_capacity(ncols);
    for (j, cell) in header[..ncols].iter().enumerate() {
        let at = || Location::file(file).row(header_row);
        let name = match classify(cell, false) {
            Err(value) => {
                return Err(Error::input(
                    at(),
                    Some(value),
                    format!(
                        "sheet `{sheet}`, cell {}: the header cell holds an error value",
                        cell_ref(col0 + j, header_row)
                    ),
                ))
            }
            Ok(Cell::Missing) => String::new(),
            Ok(Cell::Number(x)) => format_number(x),
            Ok(Cell::Text(s)) => s.trim().to_string(),
        };
        if name.is_empty() {
            return Err(Error::input(
                at(),
                None,
                format!(
                    "column {} ({}) of sheet `{sheet}` has an empty name in the header",
                    j + 1,
                    column_letters(col0 + j)
                ),
            ));
        }
        if names.contains(&name) {
            return Err(Error::input(
                at().column(&name),
                None,
                format!("the column name appears twice in the header of sheet `{sheet}`"),
            ));
        }
        names.push(name);
    }

    // First pass: find error cells (in reading order) and which columns are numeric.
    let mut numeric = vec![true; ncols];
    for (i, row) in body.iter().enumerate() {
        for j in 0..ncols {
            let cell = row.get(j).unwrap_or(&Data::Empty);
            match classify(cell, comma) {
                Ok(Cell::Text(_)) => numeric[j] = false,
                Ok(_) => {}
                Err(value) => {
                    let sheet_row = header_row + 1 + i;
                    return Err(Error::input(
                        Location::file(file).row(sheet_row).column(&names[j]),
                        Some(value),
                        format!(
                            "sheet `{sheet}`, cell {} holds an error value; fix the formula or clear the cell",
                            cell_ref(col0 + j, sheet_row)
                        ),
                    ));
                }
            }
        }
    }

    let mut table = Table::new(nrows);
    for (j, name) in names.into_iter().enumerate() {
        let cells = body.iter().map(|r| r.get(j).unwrap_or(&Data::Empty));
        let data = if numeric[j] {
            ColumnData::Num(
                cells
                    .map(|c| match classify(c, comma) {
                        Ok(Cell::Number(x)) => x,
                        _ => f64::NAN,
                    })
                    .collect(),
            )
        } else {
            let mut b = CatBuilder::with_capacity(nrows);
            for c in cells {
                match text_of(c) {
                    Some(s) => b.push(&s),
                    None => b.push_missing(),
                }
            }
            let (codes, levels) = b.finish();
            ColumnData::Cat { codes, levels }
        };
        table.push(Column::new(name, data))?;
    }
    Ok(table)
}

/// Whether a cell holds nothing at all (empty, or blank text). `NA` is not blank: it is a
/// value that says "missing", so a row of `NA`s is kept.
fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// What a cell means; `Err` holds the text of an error cell. `comma` accepts a decimal comma
/// in numeric text.
fn classify(cell: &Data, comma: bool) -> std::result::Result<Cell<'_>, String> {
    Ok(match cell {
        Data::Empty => Cell::Missing,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(x) if x.is_finite() => Cell::Number(*x),
        Data::Float(x) => Cell::Text(format!("{x}").into()),
        Data::Bool(b) => Cell::Number(if *b { 1.0 } else { 0.0 }),
        Data::String(s) => {
            if sniff::is_na(s) {
                Cell::Missing
            } else if let Some(x) = parse_number(s, comma) {
                Cell::Number(x)
            } else {
                Cell::Text(s.trim().into())
            }
        }
        Data::DateTime(dt) => Cell::Text(excel_datetime_text(dt).into()),
        Data::DateTimeIso(s) => Cell::Text(s.trim().replacen('T', " ", 1).into()),
        Data::DurationIso(s) => Cell::Text(s.trim().into()),
        Data::Error(e) => return Err(e.to_string()),
    })
}

/// The text of a cell in a text column (`None` when missing).
fn text_of(cell: &Data) -> Option<String> {
    match cell {
        Data::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        Data::String(s) if !sniff::is_na(s) => Some(s.trim().to_string()),
        // Numbers, including numeric text, are written the shortest exact way.
        _ => match classify(cell, false) {
            Ok(Cell::Number(x)) => Some(format_number(x)),
            Ok(Cell::Text(s)) => Some(s.into_owned()),
            Ok(Cell::Missing) | Err(_) => None,
        },
    }
}

/// An Excel date/time as ISO 8601 text; durations as `h:mm:ss`.
fn excel_datetime_text(dt: &calamine::ExcelDateTime) -> String {
    let serial = dt.as_f64();
    if dt.is_duration() {
        let secs = (serial * 86_400.0).round();
        let sign = if secs < 0.0 { "-" } else { "" };
        let secs = secs.abs() as u64;
        return format!(
            "{sign}{}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let time = if ms > 0 {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    };
    if (0.0..1.0).contains(&serial) {
        // A time of day with no date.
        time
    } else if serial.fract() == 0.0 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {time}")
    }
}

/// Spreadsheet column letters of a 0-based column index: 0 → `A`, 26 → `AA`.
fn column_letters(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A cell reference like `C4` from a 0-based column and a 1-based row.
fn cell_ref(col: usize, row: usize) -> String {
    format!("{}{row}", column_letters(col))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read::read_table;
    use crate::table::MISSING_CODE;
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn levels(c: &Column) -> (&[u32], &[String]) {
        match &c.data {
            ColumnData::Cat { codes, levels } => (codes, levels),
            ColumnData::Num(_) => panic!("column `{}` is numeric", c.name),
        }
    }

    /// A workbook with a data sheet (numbers, text, numeric text, booleans, dates, blanks,
    /// a short row and trailing empty rows) and a second sheet.
    fn write_xlsx(dir: &Path) -> PathBuf {
        let path = dir.join("book.xlsx");
        let mut wb = Workbook::new();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let stamp = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let ws = wb.add_worksheet();
        ws.set_name("data").unwrap();
        for (j, h) in [" id ", "group", "score", "share", "ok", "when", "code"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, j as u16, *h).unwrap();
        }
        // Row 2
        ws.write_number(1, 0, 1).unwrap();
        ws.write_string(1, 1, "  Uusimaa ").unwrap();
        ws.write_number(1, 2, 3.5).unwrap();
        ws.write_string(1, 3, "0,25").unwrap();
        ws.write_boolean(1, 4, true).unwrap();
        let d = ExcelDateTime::from_ymd(2024, 3, 1).unwrap();
        ws.write_datetime_with_format(1, 5, &d, &date).unwrap();
        ws.write_string(1, 6, "007").unwrap();
        // Row 3: blanks and NA
        ws.write_number(2, 0, 2).unwrap();
        ws.write_string(2, 1, "NA").unwrap();
        ws.write_string(2, 3, " 1.5 ").unwrap();
        ws.write_boolean(2, 4, false).unwrap();
        let dt = ExcelDateTime::from_ymd(2024, 3, 2)
            .unwrap()
            .and_hms(12, 30, 0)
            .unwrap();
        ws.write_datetime_with_format(2, 5, &dt, &stamp).unwrap();
        ws.write_string(2, 6, "A1").unwrap();
        // Row 4: a short row
        ws.write_number(3, 0, 3).unwrap();
        ws.write_string(3, 1, "Pirkanmaa").unwrap();
        ws.write_number(3, 2, -2).unwrap();
        ws.write_number(3, 6, 12).unwrap();
        // Trailing rows with only blank text.
        ws.write_string(5, 1, "   ").unwrap();
        ws.write_blank(7, 2, &date).unwrap();

        let other = wb.add_worksheet();
        other.set_name("areas").unwrap();
        other.write_string(0, 0, "code").unwrap();
        other.write_string(0, 1, "name").unwrap();
        other.write_number(1, 0, 91).unwrap();
        other.write_string(1, 1, "Helsinki").unwrap();
        wb.save(&path).unwrap();
        path
    }

    #[test]
    fn xlsx_cells_become_typed_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_xlsx(dir.path());
        let t = read_table(&path, &ReadOptions::default()).unwrap();
        assert_eq!(t.nrows(), 3, "trailing blank rows are dropped");
        assert_eq!(
            t.names().collect::<Vec<_>>(),
            ["id", "group", "score", "share", "ok", "when", "code"]
        );
        assert_eq!(t.column("id").unwrap().as_num().unwrap(), &[1.0, 2.0, 3.0]);

        let group = t.column("group").unwrap();
        let (codes, lv) = levels(group);
        assert_eq!(lv, &["Pirkanmaa", "Uusimaa"]);
        assert_eq!(codes, &[1, MISSING_CODE, 0]);

        let score = t.column("score").unwrap().as_num().unwrap();
        assert_eq!(score[0], 3.5);
        assert!(score[1].is_nan());
        assert_eq!(score[2], -2.0);

        // Numeric text, with a decimal comma or padded, keeps the column numeric.
        let share = t.column("share").unwrap().as_num().unwrap();
        assert_eq!(share[..2], [0.25, 1.5]);
        assert!(share[2].is_nan(), "short rows are padded with missing");

        let ok = t.column("ok").unwrap().as_num().unwrap();
        assert_eq!(ok[..2], [1.0, 0.0]);
        assert!(ok[2].is_nan());

        let when = t.column("when").unwrap();
        assert_eq!(when.text(0).as_deref(), Some("2024-03-01"));
        assert_eq!(when.text(1).as_deref(), Some("2024-03-02 12:30:00"));
        assert!(when.is_missing(2));

        // A text column keeps its text as typed; number cells in it are written the shortest way.
        let code = t.column("code").unwrap();
        assert!(!code.is_numeric());
        assert_eq!(
            code.text(0).as_deref(),
            Some("007"),
            "text cells keep their text"
        );
        assert_eq!(code.text(1).as_deref(), Some("A1"));
        assert_eq!(code.text(2).as_deref(), Some("12"));
    }

    #[test]
    fn xlsx_sheet_is_chosen_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_xlsx(dir.path());
        let options = ReadOptions {
            sheet: Some("areas".into()),
            ..Default::default()
        };
        let t = read_table(&path, &options).unwrap();
        assert_eq!(t.nrows(), 1);
        assert_eq!(t.column("code").unwrap().as_num().unwrap(), &[91.0]);
        assert_eq!(
            t.column("name").unwrap().text(0).as_deref(),
            Some("Helsinki")
        );

        let options = ReadOptions {
            sheet: Some("Areas".into()),
            ..Default::default()
        };
        let msg = read_table(&path, &options).unwrap_err().to_string();
        assert!(msg.contains("book.xlsx"), "{msg}");
        assert!(
            msg.contains("no sheet named `Areas`; the workbook has: data, areas"),
            "{msg}"
        );
    }

    #[test]
    fn decimal_point_option_makes_comma_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_xlsx(dir.path());
        let options = ReadOptions {
            decimal: Decimal::Point,
            ..Default::default()
        };
        let t = read_table(&path, &options).unwrap();
        let share = t.column("share").unwrap();
        assert!(!share.is_numeric());
        assert_eq!(share.text(0).as_deref(), Some("0,25"));
        assert_eq!(share.text(1).as_deref(), Some("1.5"));
    }

    #[test]
    fn xlsx_error_cell_names_sheet_row_cell_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("errors.xlsx");
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Vastaukset").unwrap();
        ws.write_string(0, 0, "id").unwrap();
        ws.write_string(0, 1, "ratio").unwrap();
        for r in 1..4u32 {
            ws.write_number(r, 0, r).unwrap();
            ws.write_number(r, 1, 0.5).unwrap();
        }
        ws.write_formula(3, 1, Formula::new("=1/0").set_result("#DIV/0!"))
            .unwrap();
        wb.save(&path).unwrap();

        let msg = read_table(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("errors.xlsx, row 4, column `ratio`"), "{msg}");
        assert!(
            msg.contains("sheet `Vastaukset`, cell B4 holds an error value"),
            "{msg}"
        );
        assert!(msg.contains("(found `#DIV/0!`)"), "{msg}");
    }

    #[test]
    fn xlsx_header_rules() {
        let dir = tempfile::tempdir().unwrap();
        let dup = dir.path().join("dup.xlsx");
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "a").unwrap();
        ws.write_string(0, 1, " a").unwrap();
        ws.write_number(1, 0, 1).unwrap();
        wb.save(&dup).unwrap();
        let msg = read_table(&dup, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("dup.xlsx, row 1, column `a`"), "{msg}");
        assert!(msg.contains("appears twice"), "{msg}");

        let gap = dir.path().join("gap.xlsx");
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "a").unwrap();
        ws.write_string(0, 2, "c").unwrap();
        ws.write_number(1, 1, 1).unwrap();
        wb.save(&gap).unwrap();
        let msg = read_table(&gap, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("column 2 (B) of sheet `Sheet1` has an empty name"),
            "{msg}"
        );

        let empty = dir.path().join("empty.xlsx");
        let mut wb = Workbook::new();
        wb.add_worksheet();
        wb.save(&empty).unwrap();
        let msg = read_table(&empty, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("sheet `Sheet1` is empty"), "{msg}");
    }

    #[test]
    fn ods_fixture_is_read() {
        let t = read_table(&fixture("responses.ods"), &ReadOptions::default()).unwrap();
        assert_eq!(
            t.names().collect::<Vec<_>>(),
            ["id", "region", "score", "weight", "visited", "answered"]
        );
        assert_eq!(t.nrows(), 5);
        assert_eq!(
            t.column("id").unwrap().as_num().unwrap(),
            &[1.0, 2.0, 3.0, 4.0, 5.0]
        );

        // A number in a text column is written back as text.
        let region = t.column("region").unwrap();
        let (codes, lv) = levels(region);
        assert_eq!(lv, &["3", "Pirkanmaa", "Uusimaa"]);
        assert_eq!(codes, &[2, 1, MISSING_CODE, 2, 0]);

        let score = t.column("score").unwrap().as_num().unwrap();
        assert_eq!(score[0], 4.0);
        assert!(score[1].is_nan(), "empty cell");
        assert_eq!(score[2..], [2.5, 5.0, 1.0]);

        // "1,25" and " 2 " are text cells holding numbers.
        let weight = t.column("weight").unwrap().as_num().unwrap();
        assert_eq!(weight[..4], [1.25, 0.5, 2.0, 1.0]);
        assert!(weight[4].is_nan());

        let visited = t.column("visited").unwrap().as_num().unwrap();
        assert_eq!(visited[..3], [1.0, 0.0, 1.0]);
        assert!(visited[3].is_nan() && visited[4].is_nan());

        let answered = t.column("answered").unwrap();
        let (_, lv) = levels(answered);
        assert_eq!(lv, &["2024-03-01", "2024-03-02", "2024-03-04"]);
        assert!(answered.is_missing(2));

        let options = ReadOptions {
            sheet: Some("areas".into()),
            ..Default::default()
        };
        let areas = read_table(&fixture("responses.ods"), &options).unwrap();
        assert_eq!(
            areas.column("code").unwrap().as_num().unwrap(),
            &[91.0, 837.0]
        );
        assert_eq!(
            areas.column("name").unwrap().text(1).as_deref(),
            Some("Tampere")
        );

        let options = ReadOptions {
            sheet: Some("nope".into()),
            ..Default::default()
        };
        let msg = read_table(&fixture("responses.ods"), &options)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("no sheet named `nope`; the workbook has: answers, areas"),
            "{msg}"
        );
    }

    #[test]
    fn xls_fixture_is_read() {
        let t = read_table(&fixture("responses.xls"), &ReadOptions::default()).unwrap();
        assert_eq!(
            t.names().collect::<Vec<_>>(),
            ["id", "name", "score", "when"]
        );
        assert_eq!(t.column("id").unwrap().as_num().unwrap(), &[1.0, 2.0, 3.0]);
        let name = t.column("name").unwrap();
        assert_eq!(name.text(0).as_deref(), Some("Oulu"));
        assert!(name.is_missing(1), "NA is missing");
        // A number, a boolean and numeric text.
        assert_eq!(
            t.column("score").unwrap().as_num().unwrap(),
            &[2.5, 1.0, 4.0]
        );
        let when = t.column("when").unwrap();
        assert_eq!(when.text(0).as_deref(), Some("2024-03-01"));
        assert!(when.is_missing(1));
        assert_eq!(when.text(2).as_deref(), Some("2024-12-31"));
    }

    #[test]
    fn broken_zip_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_xlsx(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.xlsx");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = read_table(&cut, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Input { .. }), "{e:?}");
        assert!(
            e.to_string().contains("cut.xlsx: cannot open the file as"),
            "{e}"
        );
    }

    /// A stray value far from the data is refused by name before the range is built; a
    /// formatted but empty far cell is ignored.
    #[test]
    fn a_stray_far_cell_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, value: bool| {
            let path = dir.path().join(name);
            let mut wb = Workbook::new();
            let ws = wb.add_worksheet();
            ws.write_string(0, 0, "y").unwrap();
            ws.write_number(1, 0, 1).unwrap();
            if value {
                ws.write_number(1_048_575, 16_383, 1).unwrap();
            } else {
                ws.write_blank(1_048_575, 16_383, &Format::new().set_bold())
                    .unwrap();
            }
            wb.save(&path).unwrap();
            path
        };
        let msg = read_table(&write("far.xlsx", true), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("far.xlsx: sheet `Sheet1`"), "{msg}");
        assert!(
            msg.contains("A1:XFD1048576") && msg.contains("the cell XFD1048576 lies"),
            "{msg}"
        );
        let t = read_table(&write("blank.xlsx", false), &ReadOptions::default()).unwrap();
        assert_eq!(t.nrows(), 1);
    }

    #[test]
    fn column_letters_are_spreadsheet_style() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(cell_ref(1, 4), "B4");
    }
}
