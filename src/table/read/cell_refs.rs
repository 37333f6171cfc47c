//! Cell references of an `.xlsx` workbook, checked before calamine reads its sheets.
//!
//! A worksheet's XML places each cell by a reference (`<c r="B7">`), each row by a number
//! (`<row r="7">`) and the used area by a range (`<dimension ref="A1:C40">`). calamine turns
//! these into numbers without bounds: a reference such as `AAAAAAAAA1` or row `99999999999`
//! overflows, which panics in builds with overflow checks and otherwise wraps, so that a
//! cell could land in another column. A sheet has columns A to XFD and rows 1 to 1,048,576;
//! any reference beyond them is refused here, naming the part of the workbook and the
//! reference. The shared strings' count (`<sst uniqueCount="...">`) is checked too: calamine
//! reserves room for that many strings before reading one, so a count beyond what the part's
//! bytes can hold (each `<si/>` takes at least five) would reserve gigabytes from a few bytes.
//! Every part of the zip is read once more for this, as a stream, without keeping it in
//! memory; parts that do not decompress are left to calamine.

use crate::error::{Location, Result};
use crate::Error;
use std::io::{Cursor, Read};
use std::path::Path;

/// The last column (XFD) and row of a sheet.
const MAX_COLUMN: u64 = 16_384;
const MAX_ROW: u64 = 1_048_576;
/// Attribute values longer than this are not kept whole (no valid reference is this long).
const MAX_VALUE: usize = 40;

/// Refuses a workbook whose XML places a cell, row or used area beyond the last cell of a
/// sheet.
pub(super) fn check(bytes: &[u8], file: &Path) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            continue;
        };
        let part = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let mut scan = Scanner::default();
        let mut counts = CountScan::default();
        let mut read = 0u64;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            read += n as u64;
            for &b in &buf[..n] {
                counts.push(b);
                scan.push(b);
                if let Some(bad) = scan.bad.take() {
                    return Err(Error::input(
                        Location::file(file),
                        Some(bad.value),
                        format!(
                            "cannot read the workbook: its part `{part}` places a {} beyond the last cell a sheet can have (XFD1048576); the file is damaged, save it again from the program that made it",
                            bad.what
                        ),
                    ));
                }
            }
        }
        if let Some(count) = counts.largest.filter(|&c| c > read / SHORTEST_STRING) {
            return Err(Error::input(
                Location::file(file),
                None,
                format!(
                    "cannot read the workbook: its part `{part}` declares {count} shared strings, more than its {read} bytes can hold; the file is damaged, save it again from the program that made it"
                ),
            ));
        }
    }
    Ok(())
}

/// The bytes of the shortest shared string, `<si/>`.
const SHORTEST_STRING: u64 = 5;

/// Every `uniqueCount="N"` in a part's bytes, wherever it stands: calamine reads the count
/// from the shared strings' `<sst>` tag as quick-xml delimits it (quotes may hide a `>`), so
/// the check takes any attribute of that name, in any tag or text, and keeps the largest
/// whole number. The number is its digits, up to whatever follows them (a value whose quote
/// is never closed ends at the tag's end for calamine). A count that overflows is reserved
/// by nobody.
#[derive(Default)]
struct CountScan {
    /// Bytes of `uniqueCount` matched so far, then what follows it.
    state: CountState,
    value: u64,
    overflow: bool,
    largest: Option<u64>,
}

#[derive(Default, Clone, Copy)]
enum CountState {
    #[default]
    Name,
    /// `uniqueCount` matched up to this many bytes.
    Matched(usize),
    /// The name, then spaces, before `=`.
    BeforeEq,
    /// `=`, then spaces, before the quote.
    BeforeQuote,
    /// Digits inside the quotes.
    Digits(u8),
}

const COUNT_NAME: &[u8] = b"uniqueCount";

impl CountScan {
    fn push(&mut self, b: u8) {
        self.state = match self.state {
            CountState::Name | CountState::Matched(_) => {
                let done = match self.state {
                    CountState::Matched(k) => k,
                    _ => 0,
                };
                if b == COUNT_NAME[done] {
                    if done + 1 == COUNT_NAME.len() {
                        CountState::BeforeEq
                    } else {
                        CountState::Matched(done + 1)
                    }
                } else if b == COUNT_NAME[0] {
                    // (The name repeats no prefix of itself, so a restart is at its first byte.)
                    CountState::Matched(1)
                } else {
                    CountState::Name
                }
            }
            CountState::BeforeEq => match b {
                b'=' => CountState::BeforeQuote,
                b if b.is_ascii_whitespace() => CountState::BeforeEq,
                _ => self.restart(b),
            },
            CountState::BeforeQuote => match b {
                b'"' | b'\'' => {
                    self.value = 0;
                    self.overflow = false;
                    CountState::Digits(b)
                }
                b if b.is_ascii_whitespace() => CountState::BeforeQuote,
                _ => self.restart(b),
            },
            CountState::Digits(quote) => match b {
                b'0'..=b'9' => {
                    match self
                        .value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    {
                        Some(v) => self.value = v,
                        None => self.overflow = true,
                    }
                    CountState::Digits(quote)
                }
                // The digits end at the closing quote, or (where the quote is never closed)
                // at the tag's end, where calamine's attribute reader ends the value; any
                // other end is taken too, to be safe.
                b => {
                    if !self.overflow {
                        self.largest = Some(self.largest.map_or(self.value, |l| l.max(self.value)));
                    }
                    if b == quote {
                        CountState::Name
                    } else {
                        self.restart(b)
                    }
                }
            },
        };
    }

    /// The state after a byte that breaks the pattern: it may begin the name again.
    fn restart(&self, b: u8) -> CountState {
        if b == COUNT_NAME[0] {
            CountState::Matched(1)
        } else {
            CountState::Name
        }
    }
}

/// A reference found out of bounds.
#[derive(Debug, PartialEq)]
struct Bad {
    what: &'static str,
    value: String,
}

/// Where the scanner is in the XML text.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum State {
    #[default]
    Text,
    /// After `<`: reading the element's name.
    Name,
    /// Inside a tag not checked, or after the checked attribute: until `>`, skipping quoted
    /// values.
    Skip { quote: Option<u8> },
    /// Inside a checked element's tag, between attributes.
    Attrs,
    /// Reading an attribute's name.
    AttrName,
    /// After an attribute's name, before its quote.
    BeforeValue,
    /// Inside an attribute's value, closed by `quote`.
    Value { quote: u8 },
    /// `<!...`, `<?...`: until the end of the comment, section or declaration.
    Markup,
}

#[derive(Default)]
struct Scanner {
    state: State,
    /// The element name, then the attribute name, being read.
    name: Vec<u8>,
    /// The checked element: `c`, `row` or `dimension`.
    element: &'static str,
    /// Whether the current attribute is the checked one.
    wanted: bool,
    value: Vec<u8>,
    value_len: usize,
    /// What ends the markup being skipped (`-->`, `]]>`, `?>` or `>`).
    markup_end: &'static [u8],
    /// The last bytes seen, to find `markup_end` and the kind of `<!` markup.
    tail: Vec<u8>,
    bad: Option<Bad>,
}

impl Scanner {
    fn push(&mut self, b: u8) {
        match self.state {
            State::Text => {
                if b == b'<' {
                    self.name.clear();
                    self.state = State::Name;
                }
            }
            State::Name => match b {
                b'!' | b'?' if self.name.is_empty() => {
                    self.tail.clear();
                    self.tail.push(b);
                    self.markup_end = if b == b'?' { b"?>" } else { b"" };
                    self.state = State::Markup;
                }
                b'>' => self.state = State::Text,
                b if b.is_ascii_whitespace() || b == b'/' => {
                    let local = match self.name.iter().rposition(|&c| c == b':') {
                        Some(at) => &self.name[at + 1..],
                        None => &self.name[..],
                    };
                    self.element = match local {
                        b"c" => "c",
                        b"row" => "row",
                        b"dimension" => "dimension",
                        _ => "",
                    };
                    self.state = if self.element.is_empty() || b == b'/' {
                        State::Skip { quote: None }
                    } else {
                        State::Attrs
                    };
                }
                b => self.name.push(b),
            },
            State::Skip { quote: None } => match b {
                b'"' | b'\'' => self.state = State::Skip { quote: Some(b) },
                b'>' => self.state = State::Text,
                _ => {}
            },
            State::Skip { quote: Some(q) } => {
                if b == q {
                    self.state = State::Skip { quote: None };
                }
            }
            State::Attrs => match b {
                b'>' => self.state = State::Text,
                b if b.is_ascii_whitespace() || b == b'/' => {}
                b => {
                    self.name.clear();
                    self.name.push(b);
                    self.state = State::AttrName;
                }
            },
            State::AttrName => match b {
                b'=' => {
                    let key: &[u8] = if self.element == "dimension" {
                        b"ref"
                    } else {
                        b"r"
                    };
                    self.wanted = self.name == key;
                    self.state = State::BeforeValue;
                }
                b'>' => self.state = State::Text,
                b if b.is_ascii_whitespace() => {}
                b => self.name.push(b),
            },
            State::BeforeValue => match b {
                b'"' | b'\'' => {
                    self.value.clear();
                    self.value_len = 0;
                    self.state = State::Value { quote: b };
                }
                b'>' => self.state = State::Text,
                _ => {}
            },
            State::Value { quote } => {
                if b == quote {
                    if self.wanted {
                        self.check_value();
                    }
                    self.state = State::Attrs;
                } else if self.wanted {
                    self.value_len += 1;
                    if self.value.len() < MAX_VALUE {
                        self.value.push(b);
                    }
                }
            }
            State::Markup => {
                self.tail.push(b);
                if self.markup_end.is_empty() {
                    // `<!` then: `--` a comment, `[CDATA[` a section, else a declaration.
                    if self.tail == b"!--" {
                        self.markup_end = b"-->";
                    } else if self.tail == b"![CDATA[" {
                        self.markup_end = b"]]>";
                    } else if !b"![CDATA[".starts_with(&self.tail)
                        && !b"!--".starts_with(&self.tail)
                    {
                        self.markup_end = b">";
                    }
                }
                if !self.markup_end.is_empty() && self.tail.ends_with(self.markup_end) {
                    // `<!-->` is not a whole comment: its end must follow its start.
                    if !(self.markup_end == b"-->" && self.tail.len() < 5) {
                        self.state = State::Text;
                    }
                }
                if self.tail.len() > 16 {
                    self.tail.drain(..self.tail.len() - 8);
                }
            }
        }
    }

    /// Checks a reference (`B7`), a row number or a range (`A1:C40`).
    fn check_value(&mut self) {
        // A value cut at MAX_VALUE is still judged rightly: a reference inside a sheet has at
        // most 3 letters and 7 digits, so calamine stops reading before the cut.
        let too_long = self.value_len > MAX_VALUE;
        let text = String::from_utf8_lossy(&self.value).into_owned();
        let beyond = if self.element == "dimension" {
            self.value.split(|&c| c == b':').any(out_of_sheet)
        } else {
            out_of_sheet(&self.value)
        };
        if beyond {
            self.bad = Some(Bad {
                what: match self.element {
                    "c" => "cell",
                    "row" => "row",
                    _ => "used area",
                },
                value: if too_long { format!("{text}…") } else { text },
            });
        }
    }
}

/// Whether a reference names a column or row beyond a sheet's last, read as calamine reads
/// it: the leading letters are the column, the digits after them the row, and reading stops
/// at any other character (calamine then refuses the reference, but only after it has
/// counted the letters or digits before it).
fn out_of_sheet(reference: &[u8]) -> bool {
    let letters = reference
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let (col, rest) = reference.split_at(letters);
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let beyond = |chars: &[u8], base: u64, of: fn(u8) -> u64, most: u64| {
        let mut n: u64 = 0;
        for &c in chars {
            n = n * base + of(c);
            if n > most {
                return true;
            }
        }
        false
    };
    beyond(
        col,
        26,
        |c| u64::from(c.to_ascii_uppercase() - b'A') + 1,
        MAX_COLUMN,
    ) || beyond(&rest[..digits], 10, |d| u64::from(d - b'0'), MAX_ROW)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(xml: &str) -> Option<Bad> {
        let mut s = Scanner::default();
        for &b in xml.as_bytes() {
            s.push(b);
            if s.bad.is_some() {
                return s.bad;
            }
        }
        None
    }

    #[test]
    fn references_inside_a_sheet_pass() {
        let xml = r#"<?xml version="1.0"?><worksheet><dimension ref="A1:XFD1048576"/><sheetData><row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="XFD1048576"><v>1</v></c></row><x:row r="1048576"><x:c s="2" r='C7'/></x:row></sheetData></worksheet>"#;
        assert_eq!(scan(xml), None);
        // Attributes of other names, other elements, comments and text are not references.
        let xml = r#"<c t="AAAAAAAAAAAAAA1"/><cols><col min="1" max="99999999999"/></cols><!-- <c r="AAAAAAAAAAAAA1"> --><v>r="ZZZZZZZ9"</v><![CDATA[<row r="99999999999">]]>"#;
        assert_eq!(scan(xml), None);
    }

    #[test]
    fn every_shared_strings_count_is_found() {
        let count = |xml: &str| {
            let mut s = CountScan::default();
            xml.bytes().for_each(|b| s.push(b));
            s.largest
        };
        assert_eq!(
            count(
                r#"<?xml version="1.0"?><sst xmlns="x" count="R" uniqueCount="5444479448"><si><t>y</t></si></sst>"#
            ),
            Some(5_444_479_448)
        );
        assert_eq!(count(r#"<x:sst uniqueCount = '2'/>"#), Some(2));
        // A quote that hides the tag's end from a reader that ends tags at `>` (as quick-xml
        // does not): found all the same.
        assert_eq!(
            count(
                "<sst xmlns=\" standalone=\"yes\"?>\n<\" count=\"R\" uniqueCount=\"5444479448\">"
            ),
            Some(5_444_479_448)
        );
        assert_eq!(
            count(r#"<sst uniqueCount="3"/><sst uniqueCount="70"/>"#),
            Some(70)
        );
        // Found by fuzzing: a quote never closed, so calamine's value runs to the tag's end
        // (quick-xml ends the tag at the `>` after the digits, quotes counted from its start).
        assert_eq!(
            count(r#"<sst xm"gln s="x" count="3" uniqueCount="544444444444444><row r="1">"#),
            Some(544_444_444_444_444)
        );
        // Digits then something else: taken (calamine would not parse it; refusing such a
        // count beyond the part's bytes is safe). Overflowing: calamine reserves nothing.
        assert_eq!(count(r#"<sst uniqueCount="12a"/>"#), Some(12));
        assert_eq!(
            count(&format!(r#"<sst uniqueCount="{}"/>"#, "9".repeat(60))),
            None
        );
        assert_eq!(
            count(r#"<sst count="99999999999" uniqueCountx="5"/>"#),
            None
        );
        // Wider than calamine's reading, which wants the attribute's whole name: refused
        // only when the number is also beyond what the part can hold.
        assert_eq!(count(r#"<sst uuniqueCount="8"/>"#), Some(8));
    }

    #[test]
    fn references_beyond_a_sheet_are_found() {
        let bad = |xml: &str| scan(xml).map(|b| (b.what, b.value));
        assert_eq!(
            bad(r#"<row r="1"><c r="AAAAAAAAAAAAA1">"#),
            Some(("cell", "AAAAAAAAAAAAA1".into()))
        );
        assert_eq!(bad(r#"<c r="XFE1"/>"#), Some(("cell", "XFE1".into())));
        assert_eq!(
            bad(r#"<ss:row  r = '1048577' >"#),
            Some(("row", "1048577".into()))
        );
        assert_eq!(
            bad(r#"<dimension ref="A1:B99999999999"/>"#),
            Some(("used area", "A1:B99999999999".into()))
        );
        let long = format!(r#"<c r="{}1">"#, "A".repeat(100));
        assert_eq!(bad(&long).map(|b| b.0), Some("cell"));
        // calamine counts the letters before it meets the `.` it refuses.
        assert_eq!(
            bad(r#"<c r="schemas.olineStr">"#),
            Some(("cell", "schemas.olineStr".into()))
        );
        assert_eq!(bad(r#"<c r="A99999999x">"#).map(|b| b.0), Some("cell"));
    }
}
