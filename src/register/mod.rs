//! Register metrics beside survey results: the metrics file ([`metrics`]), municipality →
//! area → region classifications ([`classification`]), aggregation of register rows to the
//! level the survey reports ([`aggregate`]), the area- and person-level joins ([`join`]),
//! gaps between groups in the register ([`gaps`]) and their exact intervals ([`exact`]); a
//! register file read and aggregated for a join ([`source`]).
//!
//! Codes are compared as canonical text: a code that reads as a whole number is written the
//! way tasa writes numbers (`091` and `91.0` are both `91`), so a municipality code stored as
//! text in one file and as a number in another still matches; other text compares as written.

pub mod aggregate;
pub mod classification;
pub mod exact;
pub mod gaps;
pub mod join;
pub mod metrics;
pub mod source;

use crate::table::sniff::parse_number;
use crate::table::{format_number, Column, ColumnData, MISSING_CODE};

/// The canonical text of a code (see the module documentation); `None` for an empty code.
pub fn canonical(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    // Only whole numbers that f64 holds exactly compare as numbers (`091` = `91`); any other
    // text (`2025.10`, a 17-digit id) is compared as written.
    Some(match parse_number(t, false) {
        Some(x) if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 => format_number(x),
        _ => t.to_string(),
    })
}

/// The canonical code of row `i` of a column; `None` when missing.
pub fn key_text(column: &Column, i: usize) -> Option<String> {
    match &column.data {
        ColumnData::Num(v) => (!v[i].is_nan()).then(|| format_number(v[i])),
        ColumnData::Cat { codes, levels } => {
            let c = codes[i];
            if c == MISSING_CODE {
                None
            } else {
                canonical(&levels[c as usize])
            }
        }
    }
}

/// Lists codes for a message: at most `limit`, then how many more.
pub fn list_codes(codes: &[String], limit: usize) -> String {
    let shown: Vec<&str> = codes.iter().take(limit).map(String::as_str).collect();
    let mut s = shown.join(", ");
    if codes.len() > limit {
        s.push_str(&format!(" and {} more", codes.len() - limit));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_compare_as_canonical_text() {
        assert_eq!(canonical(" 091 ").as_deref(), Some("91"));
        assert_eq!(canonical("91.0").as_deref(), Some("91"));
        assert_eq!(canonical("2025.10").as_deref(), Some("2025.10"));
        assert_eq!(
            canonical("12345678901234567").as_deref(),
            Some("12345678901234567")
        );
        assert_eq!(canonical("KOKO MAA").as_deref(), Some("KOKO MAA"));
        assert_eq!(canonical("  "), None);
        let c = Column::cat_from_strings("k", &[Some("049"), None, Some("x")]);
        assert_eq!(key_text(&c, 0).as_deref(), Some("49"));
        assert_eq!(key_text(&c, 1), None);
        let n = Column::num("k", vec![49.0, f64::NAN]);
        assert_eq!(key_text(&n, 0).as_deref(), Some("49"));
        let codes: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(list_codes(&codes, 3), "1, 2, 3 and 2 more");
    }
}
