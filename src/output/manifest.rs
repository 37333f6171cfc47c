//! What an output was made from, so a published result can be audited: every input file with
//! its size and SHA-256, the tool's version, the command line and the time (UTC).

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Input {
    /// What the file was given as (`--estimates`, `--instrument` ...).
    pub role: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

/// Hashes an input file.
pub fn input(role: &str, path: &Path) -> Result<Input> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(Input {
        role: role.to_string(),
        path: path.to_path_buf(),
        bytes: data.len() as u64,
        sha256: sha256_hex(&data),
    })
}

/// The SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The tool and its version.
pub fn tool() -> String {
    format!("tasa {}", env!("CARGO_PKG_VERSION"))
}

/// The command line as typed (arguments with spaces quoted).
pub fn command_line() -> String {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .map(|a| {
            if a.contains(char::is_whitespace) || a.is_empty() {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The time outputs are stamped with, in seconds since 1970: `SOURCE_DATE_EPOCH` when it is
/// set (the reproducible-builds convention), so that the same inputs give byte-identical
/// manifests and workbooks; the current time otherwise.
pub fn stamp_seconds() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
}

/// The time outputs are stamped with ([`stamp_seconds`]) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    utc(stamp_seconds())
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_dates() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        // date -u -d @1795392000 → 2026-11-23T00:00:00Z; a leap day, 2024-02-29 12:34:56.
        assert_eq!(utc(1_795_392_000), "2026-11-23T00:00:00Z");
        assert_eq!(utc(1_709_210_096), "2024-02-29T12:34:56Z");
    }
}
