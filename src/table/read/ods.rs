//! The sheets of an OpenDocument spreadsheet, walked before calamine reads them.
//!
//! An `.ods` file stores runs of equal rows and cells once, with a repeat count
//! (`table:number-rows-repeated`, `table:number-columns-repeated`), and runs of spaces as one
//! `<text:s text:c="N"/>`. calamine expands all of it when it opens the file: every sheet into
//! a dense range of values and another of formulas, every repeated cell into copies of its
//! text. A 2 KB file can so ask for gigabytes. And calamine's reader waits for ever when the
//! XML ends inside a sheet or a cell's annotation.
//!
//! Here `content.xml` is walked once, as calamine walks it (the same XML reader with the same
//! settings, attributes taken apart by calamine's rules, the same elements consumed in the
//! same order, the same caps on repeats), but
//! nothing is expanded: each sheet's cells with values and with formulas are measured as
//! [`Extent`]s, and the text the expansion would copy is counted. A sheet the rule of
//! [`Extent::check`] refuses (a few values spread over a huge range) is refused with the
//! cells that stretch it, as for `.xlsx`; so is a sheet that would expand beyond
//! [`LARGEST_ODS_RANGE`] cells or [`LARGEST_ODS_TEXT`] bytes of text, XML that does not read,
//! and XML that ends where calamine would wait for ever. Where calamine stops with an error of
//! its own (a repeat count that is not a number, an element out of place), the walk stops and
//! leaves the message to calamine.

use super::excel::Extent;
use crate::error::{Location, Result};
use crate::Error;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

/// calamine's caps on an `.ods` sheet: rows and columns beyond them are dropped.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

/// The most cells an `.ods` sheet's range may expand to. calamine holds each cell of the
/// range twice (its value, and its formula as a string), about 56 bytes a cell: this is
/// 2.8 GB. (A sheet this large is at the format's limit of 1,048,576 rows; such data are
/// better read as CSV.)
const LARGEST_ODS_RANGE: u64 = 50_000_000;

/// The most bytes of text the cells of a sheet may expand to, each repeated cell holding its
/// own copy of its text (1 GB).
const LARGEST_ODS_TEXT: u64 = 1_000_000_000;

/// Refuses an `.ods` workbook whose sheets calamine would expand beyond what can be read, or
/// on which it would never finish.
pub(super) fn check(bytes: &[u8], file: &Path) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    // calamine's settings, so that the walk sees the events calamine sees.
    let config = reader.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut walk = Walk {
        reader,
        buf: Vec::new(),
        file,
    };
    walk.document()
}

/// Whether calamine reads on, or stops with an error of its own here.
enum Flow {
    On,
    Stop,
}

/// What a cell holds, as calamine reads it.
struct CellRead {
    value: bool,
    formula: bool,
    /// Bytes of text a copy of the cell holds.
    text: u64,
    /// Whether the cell's end tag was read with its content.
    closed: bool,
}

struct Walk<'a, R: Read> {
    reader: quick_xml::Reader<BufReader<R>>,
    buf: Vec<u8>,
    file: &'a Path,
}

/// A start tag's name and attributes, copied out of the reader's buffer. The attributes are
/// read only where calamine reads them; `attrs` is `None` when they do not read.
struct Tag {
    name: String,
    attrs: Option<Vec<(String, String)>>,
}

impl Tag {
    fn of(e: &BytesStart<'_>) -> Tag {
        let name = e.name().as_ref().to_string();
        let wanted = matches!(
            name.as_str(),
            "table:table"
                | "table:table-row"
                | "table:table-cell"
                | "table:covered-table-cell"
                | "text:s"
        );
        let attrs = wanted.then(|| raw_attributes(e.attributes_raw())).flatten();
        Tag { name, attrs }
    }
}

/// A tag's attributes as calamine's own attribute reader takes them apart (not as quick-xml's
/// does: the two differ on damaged tags, and a walk that reads a cell differently from calamine
/// cannot follow it). Any ASCII whitespace, form feed included, separates attributes; a key is
/// everything up to `=`, less trailing whitespace; the value is quoted and runs to the same
/// quote or to the end of the tag. Values stay as written (entities not decoded), as calamine
/// compares them. `None` where calamine meets an attribute it cannot read (a key without `=`,
/// a value without quotes) and stops.
fn raw_attributes(raw: &str) -> Option<Vec<(String, String)>> {
    let mut attrs = Vec::new();
    let mut rest = raw;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if rest.is_empty() {
            return Some(attrs);
        }
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let quote = after.chars().next().filter(|&c| c == '"' || c == '\'')?;
        let after = &after[1..];
        let (value, next) = after.split_once(quote).unwrap_or((after, ""));
        attrs.push((key.trim_ascii_end().to_string(), value.to_string()));
        rest = next;
    }
}

/// What the walk reads next: a start tag, an end tag's name, text, or the end of the part.
enum Next {
    Start(Tag),
    End(String),
    Text(usize),
    Eof,
    Other,
}

impl<R: Read> Walk<'_, R> {
    fn damaged(&self, what: String) -> Error {
        Error::input(
            Location::file(self.file),
            None,
            format!(
                "cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` {what}; save it again from the program that made it"
            ),
        )
    }

    /// A tag's attributes; where they do not read, calamine's reading of them cannot be
    /// followed, and the file is refused.
    fn attrs<'t>(&self, t: &'t Tag) -> Result<&'t [(String, String)]> {
        t.attrs.as_deref().ok_or_else(|| {
            self.damaged(format!(
                "has a `<{}>` element whose attributes do not read",
                t.name
            ))
        })
    }

    /// The first attribute `key` of a tag, as calamine's lookup finds it.
    fn attr<'t>(&self, t: &'t Tag, key: &str) -> Result<Option<&'t str>> {
        Ok(self
            .attrs(t)?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str()))
    }

    /// A tag's repeat count ([`count`]); `None` where calamine stops.
    fn count(&self, t: &Tag, key: &str) -> Result<Option<u64>> {
        count(self.attr(t, key)?).map_err(|()| {
            self.damaged(format!(
                "has a `<{}>` element whose `{key}` is written with an entity",
                t.name
            ))
        })
    }

    fn next(&mut self) -> Result<Next> {
        self.buf.clear();
        let event = match self.reader.read_event_into(&mut self.buf) {
            Ok(e) => e,
            Err(e) => {
                let at = self.reader.error_position();
                return Err(self.damaged(format!("is damaged at byte {at} ({e})")));
            }
        };
        Ok(match event {
            Event::Start(e) => Next::Start(Tag::of(&e)),
            Event::End(e) => Next::End(e.name().as_ref().to_string()),
            Event::Text(t) => Next::Text(t.len()),
            Event::GeneralRef(r) => Next::Text(r.len() + 2),
            Event::Eof => Next::Eof,
            _ => Next::Other,
        })
    }

    /// The whole part: every sheet with a name (calamine's `parse_content`).
    fn document(&mut self) -> Result<()> {
        loop {
            match self.next()? {
                Next::Start(t) if t.name == "table:table" => {
                    if let Some(name) = self.attr(&t, "table:name")? {
                        let name = name.to_string();
                        if let Flow::Stop = self.sheet(&name)? {
                            return Ok(());
                        }
                    }
                }
                Next::Start(t) if t.name == "table:named-expressions" => {
                    if let Flow::Stop = self.named_expressions()? {
                        return Ok(());
                    }
                }
                Next::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// calamine reads named expressions until their end; anything else stops it.
    fn named_expressions(&mut self) -> Result<Flow> {
        loop {
            match self.next()? {
                Next::Start(t)
                    if t.name == "table:named-range" || t.name == "table:named-expression" => {}
                Next::End(n) if n == "table:named-range" || n == "table:named-expression" => {}
                Next::End(n) if n == "table:named-expressions" => return Ok(Flow::On),
                _ => return Ok(Flow::Stop),
            }
        }
    }

    /// One sheet, to its end tag (calamine's `read_table`, which never stops before it).
    fn sheet(&mut self, name: &str) -> Result<Flow> {
        let mut sheet = Sheet::default();
        loop {
            match self.next()? {
                Next::Start(t) if t.name == "table:table-row" => {
                    let Some(repeats) = self.count(&t, "table:number-rows-repeated")? else {
                        return Ok(Flow::Stop);
                    };
                    let rows = repeats.min(MAX_ROWS.saturating_sub(sheet.rows));
                    let first = sheet.rows;
                    sheet.rows += rows;
                    // Past the cap a row has no repeats left, but calamine still places it
                    // below every row before it: it counts as the last row.
                    let (first, rows) = (first.min(MAX_ROWS - 1), rows.max(1));
                    if let Flow::Stop = self.row(&mut sheet, first, rows)? {
                        return Ok(Flow::Stop);
                    }
                }
                Next::End(n) if n == "table:table" => {
                    for (extent, what) in [(&sheet.values, "values"), (&sheet.formulas, "formulas")]
                    {
                        extent.check(self.file, name, what)?;
                        too_large(extent, self.file, name, what)?;
                    }
                    if sheet.text > LARGEST_ODS_TEXT {
                        return Err(Error::input(
                            Location::file(self.file),
                            None,
                            format!(
                                "sheet `{name}` repeats its cells' text to {} bytes once its repeated rows, cells and spaces are expanded, more than tasa reads from an OpenDocument sheet ({LARGEST_ODS_TEXT} bytes); save the sheet as CSV and read that",
                                sheet.text
                            ),
                        ));
                    }
                    return Ok(Flow::On);
                }
                Next::Eof => {
                    return Err(self.damaged(format!(
                        "ends inside sheet `{name}`; the file is cut short or damaged"
                    )))
                }
                _ => {}
            }
        }
    }

    /// One row element (calamine's `read_row`): its cells, then its end tag; anything else
    /// stops calamine.
    fn row(&mut self, sheet: &mut Sheet, first: u64, rows: u64) -> Result<Flow> {
        let mut column = 0u64;
        let mut empty_run = 0u64;
        loop {
            match self.next()? {
                Next::Start(t)
                    if t.name == "table:table-cell" || t.name == "table:covered-table-cell" =>
                {
                    let Some(repeats) = self.count(&t, "table:number-columns-repeated")? else {
                        return Ok(Flow::Stop);
                    };
                    let cell = match self.cell(&t)? {
                        Some(c) => c,
                        None => return Ok(Flow::Stop),
                    };
                    column += empty_run.min(MAX_COLUMNS.saturating_sub(column));
                    empty_run = 0;
                    let columns = repeats.min(MAX_COLUMNS.saturating_sub(column));
                    if !cell.value && !cell.formula {
                        empty_run = columns;
                    } else {
                        if columns > 0 {
                            if cell.value {
                                sheet.values.add_block((first, rows), (column, columns));
                            }
                            if cell.formula {
                                sheet.formulas.add_block((first, rows), (column, columns));
                            }
                            sheet.text = sheet.text.saturating_add(
                                rows.saturating_mul(columns).saturating_mul(cell.text),
                            );
                        }
                        column += columns;
                    }
                    if !cell.closed {
                        self.buf.clear();
                        let name = QName(t.name.as_str());
                        if let Err(e) = self.reader.read_to_end_into(name, &mut self.buf) {
                            // calamine stops on the same error.
                            let _ = e;
                            return Ok(Flow::Stop);
                        }
                    }
                }
                Next::End(n) if n == "table:table-row" => return Ok(Flow::On),
                _ => return Ok(Flow::Stop),
            }
        }
    }

    /// What a cell holds (calamine's `get_datatype`); `None` where calamine stops.
    fn cell(&mut self, t: &Tag) -> Result<Option<CellRead>> {
        let (mut value_set, mut string, mut error, mut formula) = (false, false, false, false);
        // A value set from `office:string-value`: its length.
        let mut set_text: Option<u64> = None;
        for (k, v) in self.attrs(t)? {
            match k.as_str() {
                "office:value"
                | "office:date-value"
                | "office:time-value"
                | "office:boolean-value"
                    if !value_set =>
                {
                    value_set = true;
                    set_text = Some(v.len() as u64 * u64::from(k != "office:value"));
                }
                "office:string-value" if !value_set => {
                    value_set = true;
                    set_text = Some(v.len() as u64);
                }
                "office:value-type" if !value_set => string = v == "string",
                "calcext:value-type" => error = v == "error",
                "table:formula" => formula = !v.is_empty(),
                _ => {}
            }
        }
        let empty_string = self.attr(t, "office:string-value")? == Some("") && set_text == Some(0);
        if !((!value_set && string) || (error && empty_string)) {
            return Ok(Some(CellRead {
                value: value_set,
                formula,
                text: set_text.unwrap_or(0),
                closed: false,
            }));
        }
        // The text is the cell's content, up to its end tag.
        let mut text = 0u64;
        loop {
            match self.next()? {
                Next::Text(n) => text = text.saturating_add(n as u64),
                Next::End(n) if n == "table:table-cell" || n == "table:covered-table-cell" => {
                    return Ok(Some(CellRead {
                        value: true,
                        formula,
                        text,
                        closed: true,
                    }))
                }
                Next::Start(a) if a.name == "office:annotation" => {
                    loop {
                        // calamine reads to the annotation's end, and at the end of the part
                        // waits for ever.
                        match self.next()? {
                            Next::End(n) if n == "office:annotation" => break,
                            Next::Eof => return Err(self.damaged(
                                "ends inside a cell's annotation; the file is cut short or damaged"
                                    .into(),
                            )),
                            _ => {}
                        }
                    }
                }
                Next::Start(s) if s.name == "text:s" => match self.count(&s, "text:c")? {
                    Some(n) => text = text.saturating_add(n),
                    None => return Ok(None),
                },
                Next::Start(s)
                    if matches!(s.name.as_str(), "text:p" | "text:tab" | "text:line-break") =>
                {
                    text = text.saturating_add(1)
                }
                Next::Eof => return Ok(None),
                _ => {}
            }
        }
    }
}

/// A repeat count as calamine reads it: absent is 1, and what is not a whole number stops it.
/// (An entity in a count is refused: calamine decodes some counts and not others.)
fn count(value: Option<&str>) -> std::result::Result<Option<u64>, ()> {
    match value {
        None => Ok(Some(1)),
        Some(v) if v.contains('&') => Err(()),
        Some(v) => Ok(v.parse::<u64>().ok()),
    }
}

/// One sheet being measured.
#[derive(Default)]
struct Sheet {
    /// Rows so far (capped as calamine caps them).
    rows: u64,
    values: Extent,
    formulas: Extent,
    /// Bytes of text the expanded cells hold.
    text: u64,
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// An `.ods` file whose first sheet's table body is `rows`.
    fn ods(rows: &str) -> Vec<u8> {
        spreadsheet(&format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="answers">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        ))
    }

    /// An `.ods` file whose `content.xml` is `content`.
    fn spreadsheet(content: &str) -> Vec<u8> {
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
    fn a_string_cell_is_a_value_even_blank_and_a_styled_cell_is_not() {
        // calamine keeps a string cell's text, even a blank one, as a value.
        let gap = r#"<table:table-row table:number-rows-repeated="2000000"><table:table-cell/></table:table-row>"#;
        for cell in [
            r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#,
            r#"<table:table-cell office:value-type="string"><text:p> </text:p></table:table-cell>"#,
            r#"<table:table-cell office:value-type="string"/>"#,
        ] {
            let far = format!("{gap}<table:table-row>{cell}</table:table-row>");
            let msg = check_rows(&format!("{HEADER}{far}"))
                .unwrap_err()
                .to_string();
            // The rows past calamine's cap of 1,048,576 land on the last row.
            assert!(
                msg.contains("the cells A1048576 and B1 lie far from the rest"),
                "{msg}"
            );
        }
        let styled = format!(
            r#"{gap}<table:table-row><table:table-cell table:style-name="ce1" table:number-columns-repeated="1024"/></table:table-row>"#
        );
        check_rows(&format!("{HEADER}{styled}")).unwrap();
    }

    #[test]
    fn repeated_text_is_counted_copy_by_copy() {
        // One cell of 40,000 spaces, repeated over 100 columns and 300 rows: 1.2 GB of text.
        let bomb = r#"<table:table-row table:number-rows-repeated="300"><table:table-cell office:value-type="string" table:number-columns-repeated="100"><text:p><text:s text:c="40000"/></text:p></table:table-cell></table:table-row>"#;
        let msg = check_rows(bomb).unwrap_err().to_string();
        assert!(
            msg.contains("sheet `answers` repeats its cells' text to 1200030000 bytes once its repeated rows, cells and spaces are expanded"),
            "{msg}"
        );
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
            msg.contains("sheet `answers` has 2 cells with formulas spread over A2:D1048576 (1048575 rows × 4 columns)"),
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
        let msg = check_rows("<table:table-row><!-- never closed")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("x.ods: cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` is damaged at byte"),
            "{msg}"
        );
        // Cut short inside a sheet.
        let open = spreadsheet(
            r#"<office:document-content xmlns:table="t"><table:table table:name="answers"><table:table-row></table:table-row>"#,
        );
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

    #[test]
    fn attributes_are_read_as_calamine_reads_them() {
        let read = |raw: &str| raw_attributes(raw);
        let pairs = |v: &[(&str, &str)]| {
            Some(
                v.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        // A form feed separates attributes (quick-xml would make it part of the key).
        assert_eq!(
            read(" \x0coffice:value-type=\"string\""),
            pairs(&[("office:value-type", "string")])
        );
        assert_eq!(
            read(" a = 'x \" y' b=\"&amp;\""),
            pairs(&[("a", "x \" y"), ("b", "&amp;")])
        );
        // A key is all up to `=`; a value without its closing quote runs to the end.
        assert_eq!(read(" a b=\"1\" c=\"2"), pairs(&[("a b", "1"), ("c", "2")]));
        assert_eq!(read(""), pairs(&[]));
        assert_eq!(read(" a=\"1\" b"), None);
        assert_eq!(read(" a=1"), None);
        assert_eq!(read(" a="), None);
    }

    #[test]
    fn a_cell_is_read_as_a_string_cell_where_calamine_reads_it_so() {
        // Found by fuzzing: calamine took a cell with a form feed before `office:value-type`
        // as a string cell and read its text to the first cell end tag, while the walk read
        // the whole nested element, met the end of the part, and left calamine to stop there.
        // calamine read on to the end of the part inside the sheet and waited for ever.
        let cut = spreadsheet(
            "<office:document-content xmlns:table=\"t\"><table:table table:name=\"answers\"><table:table-row><table:table-cell \x0coffice:value-type=\"string\"><table:table-cell></table:table-cell></table:table-row>",
        );
        let msg = check(&cut, Path::new("x.ods")).unwrap_err().to_string();
        assert!(
            msg.contains("its part `content.xml` ends inside sheet `answers`"),
            "{msg}"
        );
    }
}
