//! Run-file TOML → checked run. The run file names no folder that exists, so every file it
//! names (relative) is missing and the checks that follow are reached with errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tasa::assessment::spec::Run;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Run::from_str(
        text.to_string(),
        Path::new("/nonexistent-tasa-fuzz/run.toml"),
    );
});
