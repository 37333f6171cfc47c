//! The floor of design section 9 for the benchmark harness: every field of a delimited file
//! read with the `csv` crate, one thread, nothing typed or kept. `bench/run.sh` times it beside
//! tasa's own reading so that both are measured on the machine as it is at that minute.
//!
//!     cargo run --release --example csv_floor -- FILE

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: csv_floor FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut record = csv::StringRecord::new();
    let (mut records, mut fields, mut field_bytes) = (0u64, 0u64, 0u64);
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                records += 1;
                fields += record.len() as u64;
                field_bytes += record.iter().map(|f| f.len() as u64).sum::<u64>();
            }
            Ok(false) => break,
            Err(e) => {
                eprintln!("{}: {e}", path.to_string_lossy());
                return ExitCode::from(2);
            }
        }
    }
    println!("{records} records, {fields} fields, {field_bytes} bytes in fields");
    ExitCode::SUCCESS
}
