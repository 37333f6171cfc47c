//! Margin files (CSV: variable columns and `total`) → margin cells, matched against a small
//! sample as calibration matches them (categories missing on either side, totals that
//! disagree, cells given twice).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use tasa::table::read::{read_table_bytes, ReadOptions};
use tasa::table::Table;
use tasa::weighting::margins::{cells_of_table, constraints};

const SAMPLE: &str = "sex,age_group,region,w\n\
1,1,north,10\n\
2,2,south,12\n\
1,3,north,0\n\
2,1,east,11\n\
1,2,south,9\n\
2,3,,10\n";

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
    let file = Path::new("margin.csv");
    let Ok(table) = read_table_bytes(data.to_vec(), file, &ReadOptions::default()) else {
        return;
    };
    let Ok(margin) = cells_of_table(&table, file, "total", "a margin file") else {
        return;
    };
    let _ = margin.name();
    let _ = margin.grand_total();
    let sample = sample();
    let d = sample.require_num("w").expect("the sample has weights");
    let _ = constraints(sample, d, &[margin], &[]);
});
