//! The XML inside an OpenDocument spreadsheet → table. As for `read_workbook_xml`, a valid
//! container is built around the input, which is the `content.xml` part (the sheets); the
//! `mimetype` entry comes first and uncompressed, as the format asks. This reaches the
//! repeat-count extent check of `.ods` sheets and calamine's `.ods` reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::path::Path;
use tasa::table::read::{read_table_bytes, ReadOptions};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

/// The spreadsheet around the fuzzed `content.xml`.
fn spreadsheet(content: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut part = |name: &str, bytes: &[u8]| -> zip::result::ZipResult<()> {
        zip.start_file(name, stored)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    part(
        "mimetype",
        b"application/vnd.oasis.opendocument.spreadsheet",
    )?;
    part("META-INF/manifest.xml", MANIFEST.as_bytes())?;
    part("content.xml", content)?;
    Ok(zip.finish()?.into_inner())
}

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = spreadsheet(data) else {
        return;
    };
    let _ = read_table_bytes(bytes, Path::new("fuzz.ods"), &ReadOptions::default());
});
