//! Guessing how a delimited text file is written: its encoding, its delimiter, and whether
//! numbers use a decimal comma (Finnish and Swedish Excel exports: `;` and `12,5`).

use crate::error::{Location, Result};
use crate::Error;
use std::borrow::Cow;
use std::path::Path;

/// Text encodings `tasa` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Encoding {
    /// UTF-8 if the bytes are valid UTF-8, else Windows-1252.
    #[default]
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// Windows-1252 (a superset of Latin-1 as Windows writes it).
    #[value(name = "windows-1252", alias = "cp1252", alias = "latin1")]
    Windows1252,
}

/// Decimal separator of numbers in delimited text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Decimal {
    /// A comma when the delimiter is `;` or a tab, else a point.
    #[default]
    Auto,
    Point,
    Comma,
}

/// Decodes file bytes into text: strips a UTF-8 BOM, and falls back to Windows-1252 when the
/// bytes are not UTF-8 (under `Auto`). Returns the text and the encoding used.
pub fn decode<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    file: &Path,
) -> Result<(Cow<'a, str>, Encoding)> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match encoding {
        Encoding::Windows1252 => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(body);
            Ok((text, Encoding::Windows1252))
        }
        Encoding::Utf8 | Encoding::Auto => match std::str::from_utf8(body) {
            Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8)),
            Err(_) if encoding == Encoding::Auto => {
                if let Some((utf8, other)) = mixed_encodings(body) {
                    let line = |at: usize| 1 + body[..at].iter().filter(|&&b| b == b'\n').count();
                    return Err(Error::input(
                        Location::file(file).line(line(other)),
                        Some(format!("byte 0x{:02X}", body[other])),
                        format!(
                            "this line is not UTF-8 but line {} is: the file mixes encodings; save it as UTF-8, or read it all as one encoding with --encoding windows-1252 or --encoding utf-8",
                            line(utf8)
                        ),
                    ));
                }
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(body);
                Ok((text, Encoding::Windows1252))
            }
            Err(e) => {
                let offset = e.valid_up_to();
                let line = 1 + body[..offset].iter().filter(|&&b| b == b'\n').count();
                Err(Error::input(
                    Location::file(file).line(line),
                    Some(format!("byte 0x{:02X}", body[offset])),
                    "the file is not valid UTF-8; try --encoding windows-1252",
                ))
            }
        },
    }
}

/// For bytes that are not UTF-8: where a multi-byte UTF-8 character and the first byte that
/// is not UTF-8 sit, when the bytes hold both (parts saved in different encodings). Text in
/// Windows-1252 almost never holds a valid multi-byte UTF-8 sequence.
fn mixed_encodings(bytes: &[u8]) -> Option<(usize, usize)> {
    let (mut utf8, mut other) = (None, None);
    let mut at = 0;
    while at < bytes.len() && (utf8.is_none() || other.is_none()) {
        let (valid, bad) = match std::str::from_utf8(&bytes[at..]) {
            Ok(_) => (bytes.len() - at, None),
            Err(e) => (
                e.valid_up_to(),
                Some(e.error_len().unwrap_or(bytes.len() - at - e.valid_up_to())),
            ),
        };
        if utf8.is_none() {
            utf8 = bytes[at..at + valid]
                .iter()
                .position(|&b| b >= 0x80)
                .map(|k| at + k);
        }
        match bad {
            Some(len) => {
                other.get_or_insert(at + valid);
                at += valid + len.max(1);
            }
            None => break,
        }
    }
    utf8.zip(other)
}

/// Picks the delimiter from the header line: the most frequent of `,`, `;` and tab outside
/// quotes (ties go to `,`, then `;`).
pub fn delimiter(text: &str) -> u8 {
    let header = first_record_line(text);
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for b in header.bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

fn first_record_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// Whether numbers use a decimal comma, given the delimiter.
pub fn decimal_comma(decimal: Decimal, delimiter: u8) -> bool {
    match decimal {
        Decimal::Comma => true,
        Decimal::Point => false,
        Decimal::Auto => delimiter != b',',
    }
}

/// A plain integer of up to 15 digits (optional minus sign), read exactly without the float
/// parser: most survey fields are codes.
#[inline]
fn plain_integer(s: &[u8]) -> Option<f64> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    Some(if negative { -(v as f64) } else { v as f64 })
}

/// Parses a number as written in a data file; `None` when the text is not a finite number.
/// With `decimal_comma`, a single comma is the decimal separator (`12,5`).
pub fn parse_number(s: &str, decimal_comma: bool) -> Option<f64> {
    if let Some(x) = plain_integer(s.as_bytes()) {
        return Some(x);
    }
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let first = s.as_bytes()[0];
    // Reject words that Rust parses as floats ("inf", "NaN", "infinity").
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' || first == b',')
    {
        return None;
    }
    let parsed = if decimal_comma && s.contains(',') {
        if s.contains('.') || s.matches(',').count() > 1 {
            return None;
        }
        s.replacen(',', ".", 1).parse::<f64>().ok()
    } else {
        s.parse::<f64>().ok()
    };
    parsed.filter(|x| x.is_finite())
}

/// Whether a cell means "missing": empty, or `NA`.
#[inline]
pub fn is_na(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let t = s.trim();
    t.is_empty() || t == "NA"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_sniffed_from_header() {
        assert_eq!(delimiter("a;b;c\n1;2;3"), b';');
        assert_eq!(delimiter("a,b\n1,2"), b',');
        assert_eq!(delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(delimiter("\"x;y\",b\n"), b',');
    }

    #[test]
    fn numbers_with_decimal_comma() {
        assert_eq!(parse_number("12,5", true), Some(12.5));
        assert_eq!(parse_number("12,5", false), None);
        assert_eq!(parse_number(" -3.25 ", false), Some(-3.25));
        assert_eq!(parse_number("1.234,5", true), None);
        assert_eq!(parse_number("inf", false), None);
        assert_eq!(parse_number("NaN", false), None);
        assert_eq!(parse_number("1e400", false), None);
        assert_eq!(parse_number("abc", false), None);
        assert_eq!(parse_number("-042", false), Some(-42.0));
        assert_eq!(
            parse_number("123456789012345", false),
            Some(123456789012345.0)
        );
        assert_eq!(
            parse_number("1234567890123456789", false),
            Some(1234567890123456789.0)
        );
        assert_eq!(parse_number("-", false), None);
    }

    #[test]
    fn windows_1252_is_detected() {
        let bytes = b"nimi\n\xC4ij\xE4\n"; // "Äijä" in Windows-1252
        let (text, enc) = decode(bytes, Encoding::Auto, Path::new("x.csv")).unwrap();
        assert_eq!(enc, Encoding::Windows1252);
        assert_eq!(text, "nimi\nÄijä\n");
        let err = decode(bytes, Encoding::Utf8, Path::new("x.csv")).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn mixed_encodings_name_the_line() {
        // "Mäki" in UTF-8 on line 2 and in Windows-1252 on line 3.
        let bytes = b"nimi\nM\xC3\xA4ki\nM\xE4ki\n";
        let e = decode(bytes, Encoding::Auto, Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.csv, line 3: this line is not UTF-8 but line 2 is"),
            "{e}"
        );
        assert!(e.contains("--encoding"), "{e}");
        let bytes = b"nimi\nM\xE4ki\nM\xC3\xA4ki\n";
        let e = decode(bytes, Encoding::Auto, Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2: this line is not UTF-8 but line 3 is"),
            "{e}"
        );
        let (_, enc) = decode(bytes, Encoding::Windows1252, Path::new("x.csv")).unwrap();
        assert_eq!(enc, Encoding::Windows1252);
    }

    #[test]
    fn bom_is_stripped() {
        let (text, enc) = decode(b"\xEF\xBB\xBFa,b\n", Encoding::Auto, Path::new("x.csv")).unwrap();
        assert_eq!(enc, Encoding::Utf8);
        assert_eq!(text, "a,b\n");
    }
}
