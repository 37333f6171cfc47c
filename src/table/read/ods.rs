//! The extent of an OpenDocument spreadsheet's sheets, checked before calamine reads them.
//!
//! An `.ods` file stores runs of equal rows and cells once, with a repeat count
//! (`table:number-rows-repeated`, `table:number-columns-repeated`). calamine expands every
//! sheet of the file into a dense range when it opens it, so a 2 KB file with one value a
//! million rows below the data asks for tens of millions of cells (gigabytes) before tasa sees
//! a single one. Here `content.xml` is streamed once, without expanding anything, and each
//! sheet's cells with values (and, separately, with formulas, which calamine expands into a
//! second range) are measured as [`Extent`]s; a sheet the rule of [`Extent::check`] refuses is
//! refused with the cells that stretch it, as for `.xlsx`. The XML is read with calamine's
//! settings (end tags need not match); XML that cannot be read, or that ends inside a sheet
//! (on which calamine would wait for ever), is refused.

use super::excel::Extent;
use crate::error::{Location, Result};
use crate::Error;
use quick_xml::events::{BytesStart, Event};
use std::io::{BufReader, Cursor};
use std::path::Path;

/// Refuses an `.ods` workbook with a sheet whose values or formulas are spread over a range
/// too large to build.
pub(super) fn check(bytes: &[u8], file: &Path) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    // As calamine reads it, so that nothing it accepts is skipped here.
    let config = reader.config_mut();
    config.check_end_names = false;
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut sheet: Option<Sheet> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) => match &sheet {
                None => break,
                Some(s) => {
                    return Err(Error::input(
                        Location::file(file),
                        None,
                        format!(
                            "cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` ends inside sheet `{}`; the file is cut short or damaged, save it again from the program that made it",
                            s.name
                        ),
                    ))
                }
            },
            Ok(event) => event,
            // What is not read here cannot be vouched for: the file is refused.
            Err(e) => {
                return Err(Error::input(
                    Location::file(file),
                    None,
                    format!(
                        "cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` is damaged at byte {} ({e}); save it again from the program that made it",
                        reader.error_position()
                    ),
                ))
            }
        };
        match event {
            // (Empty elements come as a start and an end.)
            Event::Start(e) if e.name().as_ref() == "table:table" && sheet.is_none() => {
                let name = attr(&e, "table:name").unwrap_or_default();
                sheet = Some(Sheet::new(name));
            }
            Event::Start(e) => {
                if let Some(s) = sheet.as_mut() {
                    s.open(&e);
                }
            }
            Event::Text(t) if t.chars().any(|c| !c.is_whitespace()) => {
                if let Some(s) = sheet.as_mut() {
                    s.text();
                }
            }
            Event::GeneralRef(_) => {
                if let Some(s) = sheet.as_mut() {
                    s.text();
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table" => {
                    if let Some(mut s) = sheet.take() {
                        s.end_row();
                        for (extent, what) in [(&s.values, "values"), (&s.formulas, "formulas")] {
                            extent.check(file, &s.name, what)?;
                            too_large(extent, file, &s.name, what)?;
                        }
                    }
                }
                "table:table-row" => {
                    if let Some(s) = sheet.as_mut() {
                        s.end_row();
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    if let Some(s) = sheet.as_mut() {
                        s.end_cell();
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

/// The most cells an `.ods` sheet's range may expand to. calamine holds each cell of the
/// range twice (its value, and its formula as a string), about 56 bytes a cell: this is
/// 2.8 GB. (A sheet this large is at the format's limit of 1,048,576 rows; such data are
/// better read as CSV.)
const LARGEST_ODS_RANGE: u64 = 50_000_000;

/// Refuses a sheet whose repeated rows and cells expand its range beyond
/// [`LARGEST_ODS_RANGE`], however densely it is filled.
fn too_large(extent: &Extent, file: &Path, sheet: &str, what: &str) -> Result<()> {
    let (rows, cols) = extent.size();
    let area = rows.saturating_mul(cols);
    if area <= LARGEST_ODS_RANGE {
        return Ok(());
    }
    Err(Error::input(
        Location::file(file),
        None,
        format!(
            "sheet `{sheet}` spreads its {what} over {rows} rows × {cols} columns ({area} cells) once its repeated rows and cells are expanded, more than tasa reads from an OpenDocument sheet ({LARGEST_ODS_RANGE} cells); save the sheet as CSV and read that"
        ),
    ))
}

/// An attribute's value as text (`None` when absent or unreadable).
fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    let a = e.try_get_attribute(key).ok()??;
    Some(a.value.into_owned())
}

/// A repeat count; unreadable counts are 1 (calamine then refuses the file).
fn repeats(e: &BytesStart<'_>, key: &str) -> u64 {
    attr(e, key)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1)
}

/// A cell being read: where it starts, how often it repeats, and what it holds so far.
struct OpenCell {
    column: u64,
    repeat: u64,
    value: bool,
    formula: bool,
    /// A string cell without `office:string-value` takes its text as its value.
    text_is_value: bool,
}

/// One sheet being measured.
struct Sheet {
    name: String,
    /// The first row of the current row element, and how often it repeats.
    row: u64,
    row_repeat: u64,
    /// The next column in the current row.
    column: u64,
    cell: Option<OpenCell>,
    values: Extent,
    formulas: Extent,
}

impl Sheet {
    fn new(name: String) -> Sheet {
        Sheet {
            name,
            row: 0,
            row_repeat: 0,
            column: 0,
            cell: None,
            values: Extent::default(),
            formulas: Extent::default(),
        }
    }

    fn open(&mut self, e: &BytesStart<'_>) {
        match e.name().as_ref() {
            "table:table-row" => {
                // A row opened inside another (damaged XML) ends that row's open cell.
                self.end_cell();
                self.row = self.row.saturating_add(self.row_repeat);
                self.row_repeat = repeats(e, "table:number-rows-repeated");
                self.column = 0;
            }
            "table:table-cell" | "table:covered-table-cell" if self.cell.is_none() => {
                let has = |key: &str| matches!(e.try_get_attribute(key), Ok(Some(_)));
                let set = [
                    "office:value",
                    "office:string-value",
                    "office:date-value",
                    "office:time-value",
                    "office:boolean-value",
                ]
                .iter()
                .any(|k| has(k));
                let string = attr(e, "office:value-type").as_deref() == Some("string");
                self.cell = Some(OpenCell {
                    column: self.column,
                    repeat: repeats(e, "table:number-columns-repeated"),
                    value: set,
                    formula: has("table:formula"),
                    text_is_value: !set && string,
                });
            }
            _ => {}
        }
    }

    fn text(&mut self) {
        if let Some(c) = self.cell.as_mut() {
            if c.text_is_value {
                c.value = true;
            }
        }
    }

    fn end_cell(&mut self) {
        let Some(c) = self.cell.take() else {
            return;
        };
        let rows = (self.row, self.row_repeat.max(1));
        let columns = (c.column, c.repeat.max(1));
        if c.value {
            self.values.add_block(rows, columns);
        }
        if c.formula {
            self.formulas.add_block(rows, columns);
        }
        self.column = c.column.saturating_add(c.repeat);
    }

    /// Ends a row; a cell left open (damaged XML, which calamine reads on) ends with it.
    fn end_row(&mut self) {
        self.end_cell();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// An `.ods` file whose first sheet's table body is `rows`.
    fn ods(rows: &str) -> Vec<u8> {
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="answers">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        zip.start_file("content.xml", stored).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    const HEADER: &str = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>id</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>score</text:p></table:table-cell></table:table-row>"#;
    const DATA: &str = r#"<table:table-row table:number-rows-repeated="3"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="2"/></table:table-row>"#;

    fn check_rows(rows: &str) -> Result<()> {
        check(&ods(rows), Path::new("x.ods"))
    }

    #[test]
    fn an_ordinary_sheet_with_styled_empty_rows_passes() {
        // What spreadsheet programs write after the data: a million styled empty cells.
        let tail = r#"<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:style-name="ce1" table:number-columns-repeated="1024"/></table:table-row>"#;
        check_rows(&format!("{HEADER}{DATA}{tail}")).unwrap();
    }

    #[test]
    fn a_value_far_below_the_data_is_named() {
        let far = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="59"/><table:table-cell office:value-type="float" office:value="7"><text:p>7</text:p></table:table-cell></table:table-row>"#;
        let msg = check_rows(&format!("{HEADER}{DATA}{far}"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("x.ods: sheet `answers` has 9 cells with values spread over A1:BH1000005 (1000005 rows × 60 columns), too large a range to read; the cell BH1000005 lies far from the rest"),
            "{msg}"
        );
    }

    #[test]
    fn text_of_a_string_cell_is_a_value_and_an_empty_string_cell_is_not() {
        let far_text = r#"<table:table-row table:number-rows-repeated="2000000"><table:table-cell/></table:table-row><table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>"#;
        assert!(check_rows(&format!("{HEADER}{far_text}")).is_err());
        let far_blank = r#"<table:table-row table:number-rows-repeated="2000000"><table:table-cell/></table:table-row><table:table-row><table:table-cell office:value-type="string"><text:p> </text:p></table:table-cell></table:table-row>"#;
        check_rows(&format!("{HEADER}{far_blank}")).unwrap();
    }

    #[test]
    fn formulas_far_apart_are_named_as_formulas() {
        // calamine expands the formulas of a sheet into a range of their own.
        let formula =
            r#"<table:table-row><table:table-cell table:formula="of:=1"/></table:table-row>"#;
        let gap = r#"<table:table-row table:number-rows-repeated="2000000"><table:table-cell/></table:table-row>"#;
        let far = r#"<table:table-row><table:table-cell table:number-columns-repeated="3"/><table:table-cell table:formula="of:=2"/></table:table-row>"#;
        let msg = check_rows(&format!("{HEADER}{formula}{gap}{far}"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("sheet `answers` has 2 cells with formulas spread over A2:D2000003 (2000002 rows × 4 columns)"),
            "{msg}"
        );
        // One far formula alone is a range of one cell.
        check_rows(&format!("{HEADER}{gap}{far}")).unwrap();
    }

    #[test]
    fn repeated_values_count_as_many_cells() {
        // 2,000 rows of 1,000 equal values: dense, whatever its size.
        let dense = r#"<table:table-row table:number-rows-repeated="2000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="1000"/></table:table-row>"#;
        check_rows(&format!("{HEADER}{dense}")).unwrap();
    }

    #[test]
    fn a_dense_sheet_too_large_to_expand_is_refused() {
        // 200 bytes that expand to 1,000,000 rows of 100 equal values.
        let bomb = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="100"/></table:table-row>"#;
        let msg = check_rows(bomb).unwrap_err().to_string();
        assert!(
            msg.contains("x.ods: sheet `answers` spreads its values over 1000000 rows × 100 columns (100000000 cells) once its repeated rows and cells are expanded, more than tasa reads from an OpenDocument sheet (50000000 cells)"),
            "{msg}"
        );
    }

    #[test]
    fn xml_that_does_not_read_or_ends_inside_a_sheet_is_refused() {
        let msg = check_rows("<table:table-row><!x></table:table-row>")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("x.ods: cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` is damaged at byte"),
            "{msg}"
        );
        // Cut short inside a sheet.
        let open = {
            let content = r#"<office:document-content xmlns:table="t"><table:table table:name="answers"><table:table-row>"#;
            let mut out = Cursor::new(Vec::new());
            let mut zip = zip::ZipWriter::new(&mut out);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file("content.xml", stored).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
            zip.finish().unwrap();
            out.into_inner()
        };
        let msg = check(&open, Path::new("x.ods")).unwrap_err().to_string();
        assert!(
            msg.contains("its part `content.xml` ends inside sheet `answers`"),
            "{msg}"
        );
    }

    #[test]
    fn end_tags_that_do_not_match_do_not_hide_a_far_value() {
        // Found by fuzzing: a cut that leaves a `<text:p>` open makes the cell's end tag a
        // mismatch, which calamine reads on; the value far below must still be seen.
        let broken = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>Uusimaat" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>"#;
        let far = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="59"/><table:table-cell office:value-type="float" office:value="7"><text:p>7</text:p></table:table-cell></table:table-row>"#;
        let msg = check_rows(&format!("{HEADER}{DATA}{broken}{far}"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("the cell BH1000006 lies far from the rest"),
            "{msg}"
        );
    }
}
