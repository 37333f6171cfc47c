//! Filter expressions (`--subset`, universes, derived-variable rules) → parsed filter, and
//! when it parses, evaluated on a small table with numbers, missing values, value labels
//! and text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use tasa::table::filter::Filter;
use tasa::table::read::{read_table_bytes, ReadOptions};
use tasa::table::Table;

const SAMPLE: &str = "q5,age,origin,gender,area,q7,w\n\
1,34,1,female,1,2,1.5\n\
2,,2,male,2,,2\n\
,71,3,,3,1,0.5\n\
1,18,2,female,1,99,1\n";

fn sample() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        read_table_bytes(
            SAMPLE.as_bytes().to_vec(),
            Path::new("sample.csv"),
            &ReadOptions::default(),
        )
        .expect("the sample table reads")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = Filter::parse(text) {
        let _ = filter.to_string();
        let _ = filter.variables();
        let _ = filter.evaluate(sample());
    }
});
