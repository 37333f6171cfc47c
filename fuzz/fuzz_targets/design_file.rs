//! Design-file TOML → design spec, as `--design FILE` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tasa::design::spec::DesignSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = DesignSpec::from_str(text, Path::new("/nonexistent-tasa-fuzz/design.toml")) {
        let _ = spec.to_toml();
    }
});
