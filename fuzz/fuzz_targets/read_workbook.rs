//! Spreadsheet bytes (`.xlsx`, `.ods`, `.xls`, as a user's file named `.xlsx`) → table,
//! through the same entry point as every data file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tasa::table::read::{read_table_bytes, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let _ = read_table_bytes(
        data.to_vec(),
        Path::new("fuzz.xlsx"),
        &ReadOptions::default(),
    );
});
