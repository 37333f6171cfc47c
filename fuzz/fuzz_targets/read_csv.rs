//! Delimited text (CSV/TSV/semicolon, any encoding and decimal style) → table: once with the
//! defaults (everything detected), once with options chosen by the input's length, so the
//! explicit `--delimiter`, `--encoding` and `--decimal` paths are fuzzed too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tasa::table::read::{read_table_bytes, ReadOptions};
use tasa::table::sniff::{Decimal, Encoding};

fuzz_target!(|data: &[u8]| {
    let file = Path::new("fuzz.csv");
    let _ = read_table_bytes(data.to_vec(), file, &ReadOptions::default());
    let pick = data.len();
    let options = ReadOptions {
        delimiter: [None, Some(b','), Some(b';'), Some(b'\t')][pick % 4],
        encoding: [Encoding::Auto, Encoding::Utf8, Encoding::Windows1252][pick / 4 % 3],
        decimal: [Decimal::Auto, Decimal::Point, Decimal::Comma][pick / 12 % 3],
        sheet: None,
    };
    let _ = read_table_bytes(data.to_vec(), file, &options);
});
