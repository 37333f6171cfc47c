//! The XML inside an `.xlsx` workbook → table. A mutated zip rarely survives its checksums,
//! so this target builds a valid workbook around the input: the bytes up to the first NUL are
//! the worksheet (`xl/worksheets/sheet1.xml`), the bytes after it (if any) the shared strings
//! (`xl/sharedStrings.xml`); the other parts are fixed. The zip is stored uncompressed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::path::Path;
use tasa::table::read::{read_table_bytes, ReadOptions};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

/// The workbook around the fuzzed parts.
fn workbook(sheet: &[u8], shared: Option<&[u8]>) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut part = |name: &str, bytes: &[u8]| -> zip::result::ZipResult<()> {
        zip.start_file(name, stored)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    part("[Content_Types].xml", CONTENT_TYPES.as_bytes())?;
    part("_rels/.rels", RELS.as_bytes())?;
    part("xl/workbook.xml", WORKBOOK.as_bytes())?;
    part("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes())?;
    part("xl/worksheets/sheet1.xml", sheet)?;
    if let Some(shared) = shared {
        part("xl/sharedStrings.xml", shared)?;
    }
    Ok(zip.finish()?.into_inner())
}

fuzz_target!(|data: &[u8]| {
    let (sheet, shared) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(bytes) = workbook(sheet, shared) else {
        return;
    };
    let _ = read_table_bytes(bytes, Path::new("fuzz.xlsx"), &ReadOptions::default());
});
