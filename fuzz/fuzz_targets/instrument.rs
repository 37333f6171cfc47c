//! Instrument TOML → checked instrument (scales, items, universes, derived variables,
//! indicators, dimensions), as `Instrument::load` and `tasa instrument check` read it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tasa::instrument::Instrument;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Instrument::from_str(text, Path::new("fuzz.toml"));
});
