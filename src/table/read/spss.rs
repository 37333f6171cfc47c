//! SPSS system files: `.sav` (uncompressed or bytecode-compressed) and `.zsav` (zlib).
//!
//! # Why a reader of our own
//!
//! The one maintained pure-Rust crate, `ambers` (0.4.6), reads the metadata we need
//! correctly, but it returns Arrow arrays (it pulls in `arrow` and `rayon`: 57 more crates and
//! about +28 s, 41 s → 69 s, on a clean debug build of this crate), and it is not safe on
//! damaged files: record sizes read from the file are multiplied without overflow checks and
//! allocated unchecked (`vec![0; size * count]`), so a flipped byte panics in debug builds and
//! can abort the process on an impossible allocation in release builds; a truncated
//! uncompressed file gives fewer rows with only a warning. `pspp` is GPL-3 (this crate is
//! MIT/Apache), and ReadStat bindings need a C toolchain. The format is well documented (the
//! PSPP developers' guide, "System File Format"), so this module reads it directly from the
//! bytes in memory: every length read from the file is checked against the bytes that are
//! there before anything is allocated, and a bad or truncated file is an [`Error::Input`]
//! naming the file and what is wrong, never a panic.
//!
//! # What is read
//!
//! Records: the file header (both byte orders, compression 0/1/2, bias), variables (type 2,
//! with labels, user-missing values and string continuation records), value labels (types 3
//! and 4), documents (type 6, skipped), and the type 7 extension records for machine
//! integer info (3: character code), machine float info (4: system-missing value), long
//! variable names (13), very long strings (14: segments joined into one column), extended
//! case count (16), character encoding (20) and long string missing values (22); other
//! extension records (including 21, value labels of long strings) are skipped. Text is decoded with the
//! encoding named by record 7.20, else the code page of record 7.3, else UTF-8 when the
//! text is valid UTF-8 and Windows-1252 when it is not.
//!
//! # How variables become columns
//!
//! - Numeric variables are numeric columns; the system-missing value (and NaN) is missing.
//!   The variable label is [`Column::label`]; value labels are [`Column::value_labels`],
//!   sorted by code.
//! - User-missing values stay values in the data (9 stays 9) and are listed in
//!   [`Column::missing_values`]. A missing *range* (`90 THRU 99`, `LO THRU -1`) cannot be
//!   listed as such, so it is expanded to the distinct values of the data that fall in it,
//!   plus, for a small whole-number range (at most 100 codes, like `90 THRU 99`), every whole
//!   number in it, so that codes with no answers yet are listed too.
//! - Variables with a date format (`DATE`, `ADATE`, `EDATE`, `SDATE`, `JDATE`, `MOYR`, `QYR`,
//!   `WKYR`) become ISO 8601 text (`2024-03-01`), and date-times (`DATETIME`, `YMDHMS`)
//!   `2024-03-01 12:30:00`, as spreadsheet dates do; their value labels and missing values
//!   are dropped. Durations (`TIME`, `DTIME`, `MTIME`) stay numbers: seconds.
//! - String variables are text columns: trailing blanks are trimmed and an empty string is
//!   missing. Their variable label is kept. [`Column`] has value labels for numeric codes
//!   only, so **value labels of string variables are not kept** (the data keep their codes,
//!   e.g. `f`/`m`). **String user-missing values become missing** in the data, which is how
//!   SPSS treats them in analyses, since a text column cannot list declared missing codes.
//! - Long variable names (record 7.13) are the column names.

use crate::error::{Location, Result};
use crate::table::{CatBuilder, Column, ColumnData, Table};
use crate::Error;
use encoding_rs::Encoding;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// Why a file could not be read (turned into an [`Error::Input`] with the file name).
#[derive(Debug)]
enum Fail {
    /// The file ends in the middle of something: what was being read.
    Truncated(String),
    /// Something in the file is impossible.
    Corrupt(String),
}

type Parse<T> = std::result::Result<T, Fail>;

fn corrupt<T>(msg: impl Into<String>) -> Parse<T> {
    Err(Fail::Corrupt(msg.into()))
}

pub(super) fn read(bytes: Vec<u8>, file: &Path) -> Result<Table> {
    let sav = read_sav(&bytes).map_err(|fail| {
        let problem = match fail {
            Fail::Truncated(what) => format!(
                "the SPSS file ends early, while reading {what}; it looks truncated or not fully copied"
            ),
            Fail::Corrupt(what) => format!("not a readable SPSS file: {what}"),
        };
        Error::input(Location::file(file), None, problem)
    })?;
    sav.into_table(file)
}

/// A cursor over the file's bytes in its byte order. Every read checks the length first.
struct Bytes<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize, what: &str) -> Parse<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.buf.len() => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(Fail::Truncated(what.to_string())),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Parse<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn i32(&mut self, what: &str) -> Parse<i32> {
        let a = self.array::<4>(what)?;
        Ok(if self.big_endian {
            i32::from_be_bytes(a)
        } else {
            i32::from_le_bytes(a)
        })
    }

    fn i64(&mut self, what: &str) -> Parse<i64> {
        let a = self.array::<8>(what)?;
        Ok(if self.big_endian {
            i64::from_be_bytes(a)
        } else {
            i64::from_le_bytes(a)
        })
    }

    fn f64(&mut self, what: &str) -> Parse<f64> {
        let a = self.array::<8>(what)?;
        Ok(f64_of(a, self.big_endian))
    }

    /// A length or count read from the file: must be `0..=max`.
    fn count(&mut self, what: &str, max: usize) -> Parse<usize> {
        let n = self.i32(what)?;
        match usize::try_from(n) {
            Ok(n) if n <= max => Ok(n),
            _ => corrupt(format!("{what} is {n}")),
        }
    }

    /// A count of items of at least `item_len` bytes each that must follow: negative is
    /// corrupt, more than the bytes left is a truncated file.
    fn count_of(&mut self, what: &str, item_len: usize) -> Parse<usize> {
        let n = self.i32(what)?;
        let Ok(n) = usize::try_from(n) else {
            return corrupt(format!("{what} is {n}"));
        };
        match n.checked_mul(item_len) {
            Some(len) if len <= self.remaining() => Ok(n),
            _ => Err(Fail::Truncated(format!("{what} ({n})"))),
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

fn f64_of(a: [u8; 8], big_endian: bool) -> f64 {
    if big_endian {
        f64::from_be_bytes(a)
    } else {
        f64::from_le_bytes(a)
    }
}

/// How a numeric variable's values are shown (from its print format).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Date,
    DateTime,
}

/// One variable record (type 2), before very long strings are joined.
#[derive(Debug)]
struct VarRecord {
    /// The 8-byte name, decoded once the encoding is known.
    raw_name: [u8; 8],
    short_name: String,
    /// 0 for numeric, else the string width in bytes (1..=255).
    width: usize,
    /// The variable label, still in the file's encoding.
    label: Option<Vec<u8>>,
    kind: Kind,
    /// Discrete missing values (numeric), raw 8-byte values (string).
    missing: Vec<[u8; 8]>,
    /// A numeric missing range.
    range: Option<(f64, f64)>,
    /// Index of the first 8-byte slot of this variable in a case.
    slot: usize,
    /// Raw value labels (8-byte values).
    labels: Vec<([u8; 8], Vec<u8>)>,
}

/// Everything read from the file, before it becomes a [`Table`].
struct Sav {
    vars: Vec<VarRecord>,
    /// The number of 8-byte slots in a case.
    slots: usize,
    big_endian: bool,
    encoding: Option<&'static Encoding>,
    long_names: Vec<u8>,
    very_long: Vec<u8>,
    long_string_missing: LongStringMissing,
    /// The decoded columns, one per output variable (see [`Sav::layout`]).
    columns: Vec<Raw>,
    layout: Vec<Group>,
}

/// Record 7.22: (variable name, its missing values), still in the file's encoding.
type LongStringMissing = Vec<(Vec<u8>, Vec<Vec<u8>>)>;

/// A column as read: numbers, or byte strings (`None` = empty).
enum Raw {
    Num(Vec<f64>),
    Str(Vec<Option<Vec<u8>>>),
}

/// An output column: one variable, or the segments of a very long string.
#[derive(Debug)]
struct Group {
    /// Indices into `Sav::vars`; the first names the column.
    vars: Vec<usize>,
    /// The declared width of a very long string (else the variable's width).
    width: usize,
}

/// A bound on value labels attached to variables in all (a damaged variable list could
/// otherwise attach one label set to the same variables over and over).
const MAX_LABEL_COPIES: usize = 10_000_000;

fn read_sav(buf: &[u8]) -> Parse<Sav> {
    let mut r = Bytes {
        buf,
        pos: 0,
        big_endian: false,
    };
    // --- File header (176 bytes).
    let magic = r.take(4, "the file header")?;
    let zlib_file = match magic {
        b"$FL2" => false,
        b"$FL3" => true,
        _ => return corrupt("the file does not start with `$FL2` or `$FL3`"),
    };
    r.take(60, "the file header")?; // product name
    let layout = r.array::<4>("the file header")?;
    let le = i32::from_le_bytes(layout);
    let be = i32::from_be_bytes(layout);
    if le == 2 || le == 3 {
        r.big_endian = false;
    } else if be == 2 || be == 3 {
        r.big_endian = true;
    } else {
        return corrupt(format!("unknown layout code {le} in the file header"));
    }
    let _nominal_case_size = r.i32("the file header")?;
    let compression = r.i32("the file header")?;
    let _weight_index = r.i32("the file header")?;
    let mut ncases = i64::from(r.i32("the file header")?);
    let bias = r.f64("the file header")?;
    r.take(9 + 8 + 64 + 3, "the file header")?; // date, time, file label, padding
    match (compression, zlib_file) {
        (0 | 1, false) | (2, true) => {}
        (2, false) => return corrupt("zlib compression in a `$FL2` file"),
        _ => return corrupt(format!("unknown compression code {compression}")),
    }

    let mut vars: Vec<VarRecord> = Vec::new();
    let mut slots = 0usize;
    // The slot index of each variable (for value label records, which use 1-based slots).
    let mut by_slot: HashMap<usize, usize> = HashMap::new();
    let mut continuation_left = 0usize;
    let mut sysmis = -f64::MAX;
    let mut code_page: Option<i32> = None;
    let mut encoding_name: Option<String> = None;
    let mut long_names = Vec::new();
    let mut very_long = Vec::new();
    let mut long_string_missing = Vec::new();
    let mut label_copies = 0usize;
    loop {
        let rec_type = r.i32("the dictionary (no end-of-dictionary record)")?;
        match rec_type {
            2 => {
                let what = "a variable record";
                let typ = r.i32(what)?;
                let has_label = r.i32(what)?;
                let n_missing = r.i32(what)?;
                let print = r.i32(what)?;
                let _write = r.i32(what)?;
                let name = r.array::<8>(what)?;
                if typ == -1 {
                    // Continuation of a long string: one more 8-byte slot.
                    if continuation_left == 0 {
                        return corrupt(format!(
                            "a string continuation record at slot {} follows no long string",
                            slots + 1
                        ));
                    }
                    continuation_left -= 1;
                    slots += 1;
                    continue;
                }
                if continuation_left > 0 {
                    return corrupt(format!(
                        "a long string variable lacks {continuation_left} continuation records"
                    ));
                }
                let width = match usize::try_from(typ) {
                    Ok(w) if w <= 255 => w,
                    _ => return corrupt(format!("variable type {typ} (expected 0 to 255)")),
                };
                let label = if has_label != 0 {
                    let len = r.count("a variable label length", 65_535)?;
                    let text = r.take(len, "a variable label")?;
                    r.take((4 - len % 4) % 4, "a variable label")?;
                    Some(text.to_vec())
                } else {
                    None
                };
                let (n_discrete, has_range) = match (width, n_missing) {
                    (_, 0..=3) => (n_missing as usize, false),
                    (0, -2) => (0, true),
                    (0, -3) => (1, true),
                    _ => {
                        return corrupt(format!(
                            "missing-value count {n_missing} of a {} variable",
                            if width == 0 { "numeric" } else { "string" }
                        ))
                    }
                };
                let range = if has_range {
                    let lo = r.f64("a missing-value range")?;
                    let hi = r.f64("a missing-value range")?;
                    Some((lo, hi))
                } else {
                    None
                };
                let mut missing = Vec::with_capacity(n_discrete);
                for _ in 0..n_discrete {
                    missing.push(r.array::<8>("a missing value")?);
                }
                let fmt_type = (print >> 16) & 0xff;
                let kind = match (width, fmt_type) {
                    (0, 20 | 23 | 24 | 28 | 29 | 30 | 38 | 39) => Kind::Date,
                    (0, 22 | 41) => Kind::DateTime,
                    _ => Kind::Number,
                };
                by_slot.insert(slots, vars.len());
                vars.push(VarRecord {
                    raw_name: name,
                    short_name: String::new(),
                    width,
                    label,
                    kind,
                    missing,
                    range,
                    slot: slots,
                    labels: Vec::new(),
                });
                slots += 1;
                continuation_left = width.div_ceil(8).saturating_sub(1);
            }
            3 => {
                let what = "a value label record";
                let n = r.count_of("the number of value labels", 16)?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    let value = r.array::<8>(what)?;
                    let len = r.take(1, what)?[0] as usize;
                    let label = r.take(len, what)?.to_vec();
                    r.take((8 - (len + 1) % 8) % 8, what)?;
                    pairs.push((value, label));
                }
                let what = "the variable list of value labels";
                if r.i32(what)? != 4 {
                    return corrupt(
                        "a value label record (type 3) not followed by its variable list (type 4)",
                    );
                }
                let nv = r.count_of("the number of labelled variables", 4)?;
                let mut labelled: HashSet<usize> = HashSet::new();
                for _ in 0..nv {
                    let idx = r.i32(what)?;
                    let var = usize::try_from(idx)
                        .ok()
                        .and_then(|i| i.checked_sub(1))
                        .and_then(|s| by_slot.get(&s).copied());
                    match var {
                        Some(v) if !labelled.insert(v) => {}
                        Some(v) => {
                            label_copies += pairs.len();
                            if label_copies > MAX_LABEL_COPIES {
                                return corrupt("implausibly many value labels");
                            }
                            vars[v].labels.extend(pairs.iter().cloned());
                        }
                        None => {
                            return corrupt(format!(
                                "value labels refer to variable slot {idx}, which does not start a variable"
                            ))
                        }
                    }
                }
            }
            4 => {
                return corrupt("a value label variable list (type 4) without its labels (type 3)")
            }
            6 => {
                let n = r.count_of("the number of document lines", 80)?;
                r.take(n * 80, "the document record")?;
            }
            7 => {
                let what = "an extension record";
                let subtype = r.i32(what)?;
                let size = r.count("an extension record's element size", i32::MAX as usize)?;
                let count = r.count("an extension record's element count", i32::MAX as usize)?;
                let len = size.saturating_mul(count);
                let data = r.take(len, &format!("extension record 7.{subtype}"))?;
                let mut sub = Bytes {
                    buf: data,
                    pos: 0,
                    big_endian: r.big_endian,
                };
                match subtype {
                    3 if size == 4 && count >= 8 => {
                        let what = "the machine integer info record";
                        for _ in 0..7 {
                            sub.i32(what)?;
                        }
                        code_page = Some(sub.i32(what)?);
                    }
                    4 if size == 8 && count >= 1 => {
                        sysmis = sub.f64("the machine float info record")?
                    }
                    13 => long_names = data.to_vec(),
                    14 => very_long = data.to_vec(),
                    16 if size == 8 && count == 2 => {
                        sub.i64("the case count record")?;
                        let n = sub.i64("the case count record")?;
                        if ncases < 0 {
                            ncases = n;
                        }
                    }
                    20 => encoding_name = Some(String::from_utf8_lossy(data).trim().to_string()),
                    22 => long_string_missing = parse_long_string_missing(&mut sub)?,
                    _ => {}
                }
            }
            999 => {
                r.i32("the end-of-dictionary record")?;
                break;
            }
            t => {
                return corrupt(format!(
                    "unknown record type {t} at byte {} (the dictionary is damaged)",
                    r.pos - 4
                ))
            }
        }
    }
    if continuation_left > 0 {
        return corrupt("the last long string variable lacks its continuation records");
    }
    if vars.is_empty() {
        return corrupt("the file defines no variables");
    }

    let encoding = encoding_name
        .as_deref()
        .and_then(|n| Encoding::for_label(n.as_bytes()))
        .or_else(|| code_page.and_then(encoding_of_code_page));
    for v in &mut vars {
        v.short_name = decode(encoding, &v.raw_name).trim_end().to_string();
    }

    let mut sav = Sav {
        vars,
        slots,
        big_endian: r.big_endian,
        encoding,
        long_names,
        very_long,
        long_string_missing,
        columns: Vec::new(),
        layout: Vec::new(),
    };
    sav.layout = sav.group_segments()?;

    // --- Data.
    let data: Cow<'_, [u8]> = if compression == 2 {
        Cow::Owned(inflate_zsav(&mut r)?)
    } else {
        Cow::Borrowed(&buf[r.pos..])
    };
    // A negative count means "unknown": read to the end of the data.
    let ncases = usize::try_from(ncases).ok();
    sav.columns = if compression == 0 {
        sav.read_uncompressed(&data, ncases, sysmis)?
    } else {
        sav.read_bytecode(&data, ncases, bias, sysmis)?
    };
    Ok(sav)
}

/// Record 7.22: missing values of strings longer than 8 bytes.
fn parse_long_string_missing(r: &mut Bytes<'_>) -> Parse<LongStringMissing> {
    let what = "the long string missing value record";
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let n = r.count("a variable name length", r.remaining())?;
        let name = r.take(n, what)?.to_vec();
        let nm = r.take(1, what)?[0] as usize;
        let vl = r.count("a value length", r.remaining())?;
        let mut values = Vec::with_capacity(nm.min(3));
        for _ in 0..nm {
            values.push(r.take(vl, what)?.to_vec());
        }
        out.push((name, values));
    }
    Ok(out)
}

/// The encoding of a Windows/ISO code page number from record 7.3.
fn encoding_of_code_page(cp: i32) -> Option<&'static Encoding> {
    let label = match cp {
        65001 => "utf-8".to_string(),
        2 | 20127 => "windows-1252".to_string(), // 7-bit ASCII
        28591..=28599 => format!("iso-8859-{}", cp - 28590),
        28605 => "iso-8859-15".to_string(),
        c if (1..=65535).contains(&c) => format!("cp{c}"),
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

/// Decodes text of the file: with its encoding if known, else UTF-8 when valid, else
/// Windows-1252.
fn decode<'b>(encoding: Option<&'static Encoding>, bytes: &'b [u8]) -> Cow<'b, str> {
    match encoding {
        Some(enc) if enc == encoding_rs::UTF_8 => String::from_utf8_lossy(bytes),
        Some(enc) => enc.decode_without_bom_handling(bytes).0,
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
        },
    }
}

impl Sav {
    fn decode<'b>(&self, bytes: &'b [u8]) -> Cow<'b, str> {
        decode(self.encoding, bytes)
    }

    /// Groups variables into output columns, joining the segments of very long strings
    /// (record 7.14: `SHORTNAME=width` pairs).
    fn group_segments(&self) -> Parse<Vec<Group>> {
        let mut long: HashMap<String, usize> = HashMap::new();
        let text = self.decode(&self.very_long).into_owned();
        for pair in text.split(['\t', '\0']).filter(|p| !p.trim().is_empty()) {
            let Some((name, width)) = pair.split_once('=') else {
                return corrupt(format!("the very long string record has `{pair}`"));
            };
            match width.trim().parse::<usize>() {
                Ok(w) if w > 255 => {
                    long.insert(name.trim().to_uppercase(), w);
                }
                _ => return corrupt(format!("the very long string record has width `{width}`")),
            }
        }
        let mut groups = Vec::new();
        let mut i = 0;
        while i < self.vars.len() {
            let v = &self.vars[i];
            match long.get(&v.short_name.to_uppercase()) {
                Some(&width) if v.width > 0 => {
                    let n = width.div_ceil(252);
                    if i + n > self.vars.len() || self.vars[i..i + n].iter().any(|s| s.width == 0) {
                        return corrupt(format!(
                            "very long string `{}` (width {width}) lacks its {n} segments",
                            v.short_name
                        ));
                    }
                    groups.push(Group {
                        vars: (i..i + n).collect(),
                        width,
                    });
                    i += n;
                }
                _ => {
                    groups.push(Group {
                        vars: vec![i],
                        width: v.width,
                    });
                    i += 1;
                }
            }
        }
        Ok(groups)
    }

    /// For each slot of a case: which output column it feeds, and for strings how many of its
    /// 8 bytes belong to the value and whether it is the column's last slot.
    fn slot_plan(&self) -> Vec<Slot> {
        let mut plan = vec![Slot::Skip; self.slots];
        for (col, g) in self.layout.iter().enumerate() {
            let n = g.vars.len();
            for (k, &vi) in g.vars.iter().enumerate() {
                let v = &self.vars[vi];
                if v.width == 0 {
                    if let Some(p) = plan.get_mut(v.slot) {
                        *p = Slot::Num(col);
                    }
                    continue;
                }
                // Segment k of a very long string holds bytes 255k.. of the value, 255 at
                // most; segments are allocated 252 bytes of the width each, so the last one
                // ends in 3 bytes of padding per earlier segment. A plain string holds its
                // width.
                let used = if n == 1 {
                    v.width
                } else {
                    g.width.saturating_sub(255 * k).min(255).min(v.width)
                };
                let nslots = v.width.div_ceil(8);
                for s in 0..nslots {
                    let keep = used.saturating_sub(8 * s).min(8);
                    let last = k + 1 == n && s + 1 == nslots;
                    if let Some(p) = plan.get_mut(v.slot + s) {
                        *p = Slot::Str { col, keep, last };
                    }
                }
            }
        }
        plan
    }

    /// Long variable names (record 7.13: `SHORT=Long` pairs separated by tabs), keyed by the
    /// upper-cased short name.
    fn long_names(&self) -> HashMap<String, String> {
        self.decode(&self.long_names)
            .split('\t')
            .filter_map(|pair| pair.split_once('='))
            .map(|(short, long)| {
                (
                    short.trim().to_uppercase(),
                    long.trim_end_matches(['\0', ' ']).to_string(),
                )
            })
            .filter(|(_, long)| !long.is_empty())
            .collect()
    }

    /// Builds the table: names, labels, value labels and missing values per column.
    fn into_table(mut self, file: &Path) -> Result<Table> {
        let long_names = self.long_names();
        let columns = std::mem::take(&mut self.columns);
        let nrows = columns.first().map_or(0, |c| match c {
            Raw::Num(v) => v.len(),
            Raw::Str(v) => v.len(),
        });
        let mut table = Table::new(nrows);
        for (group, raw) in self.layout.iter().zip(columns) {
            let var = &self.vars[group.vars[0]];
            let name = long_names
                .get(&var.short_name.to_uppercase())
                .cloned()
                .unwrap_or_else(|| var.short_name.clone());
            if name.is_empty() {
                return Err(Error::input(
                    Location::file(file),
                    None,
                    format!(
                        "variable {} of the SPSS file has no name",
                        table.ncols() + 1
                    ),
                ));
            }
            if table.column(&name).is_some() {
                return Err(Error::input(
                    Location::file(file).column(&name),
                    None,
                    "two variables of the SPSS file have this name",
                ));
            }
            let label = var
                .label
                .as_deref()
                .map(|l| self.decode(l).trim().to_string())
                .filter(|l| !l.is_empty());
            let mut column = match raw {
                Raw::Num(values) => self.numeric_column(var, values),
                Raw::Str(values) => self.string_column(var, &name, values),
            };
            column.name = name;
            column.label = label;
            table.push(column)?;
        }
        Ok(table)
    }

    fn numeric_column(&self, var: &VarRecord, values: Vec<f64>) -> Column {
        match var.kind {
            Kind::Date | Kind::DateTime => {
                let mut b = CatBuilder::with_capacity(values.len());
                for &x in &values {
                    match spss_date_text(x, var.kind == Kind::DateTime) {
                        Some(text) => b.push(&text),
                        None => b.push_missing(),
                    }
                }
                let (codes, levels) = b.finish();
                return Column {
                    name: String::new(),
                    label: None,
                    data: ColumnData::Cat { codes, levels },
                    value_labels: Vec::new(),
                    missing_values: Vec::new(),
                };
            }
            Kind::Number => {}
        }
        let mut value_labels: Vec<(f64, String)> = var
            .labels
            .iter()
            .map(|(value, label)| (f64_of(*value, self.big_endian), label))
            .filter(|(code, _)| code.is_finite())
            .map(|(code, label)| (code, self.decode(label).trim_end().to_string()))
            .collect();
        // Sorted by code; of two labels for one code, the first read is kept.
        value_labels.sort_by(|a, b| a.0.total_cmp(&b.0));
        value_labels.dedup_by(|later, first| later.0 == first.0);

        let mut missing: Vec<f64> = var
            .missing
            .iter()
            .map(|m| f64_of(*m, self.big_endian))
            .filter(|x| x.is_finite())
            .collect();
        if let Some((lo, hi)) = var.range {
            missing.extend(values.iter().copied().filter(|x| (lo..=hi).contains(x)));
            let whole = lo.is_finite() && hi.is_finite() && lo.fract() == 0.0 && hi.fract() == 0.0;
            if whole && hi >= lo && hi - lo < 100.0 {
                let mut k = lo;
                while k <= hi {
                    missing.push(k);
                    k += 1.0;
                }
            }
        }
        missing.sort_by(f64::total_cmp);
        missing.dedup();
        Column {
            name: String::new(),
            label: None,
            data: ColumnData::Num(values),
            value_labels,
            missing_values: missing,
        }
    }

    fn string_column(&self, var: &VarRecord, name: &str, values: Vec<Option<Vec<u8>>>) -> Column {
        // User-missing strings: short ones in the variable record, long ones in record 7.22.
        let trim = |b: &[u8]| -> Vec<u8> {
            let end = b
                .iter()
                .rposition(|&c| c != b' ' && c != 0)
                .map_or(0, |i| i + 1);
            b[..end].to_vec()
        };
        let mut missing: Vec<Vec<u8>> = var.missing.iter().map(|m| trim(m)).collect();
        for (var_name, list) in &self.long_string_missing {
            let var_name = self.decode(var_name).trim().to_uppercase();
            if var_name == name.to_uppercase() || var_name == var.short_name.to_uppercase() {
                missing.extend(list.iter().map(|m| trim(m)));
            }
        }
        let mut b = CatBuilder::with_capacity(values.len());
        for v in values {
            match v {
                Some(bytes) if !missing.contains(&bytes) => b.push(&self.decode(&bytes)),
                _ => b.push_missing(),
            }
        }
        let (codes, levels) = b.finish();
        Column {
            name: String::new(),
            label: None,
            data: ColumnData::Cat { codes, levels },
            value_labels: Vec::new(),
            missing_values: Vec::new(),
        }
    }

    fn empty_columns(&self, capacity: usize) -> Vec<Raw> {
        self.layout
            .iter()
            .map(|g| {
                if self.vars[g.vars[0]].width == 0 {
                    Raw::Num(Vec::with_capacity(capacity))
                } else {
                    Raw::Str(Vec::with_capacity(capacity))
                }
            })
            .collect()
    }

    fn read_uncompressed(
        &self,
        data: &[u8],
        ncases: Option<usize>,
        sysmis: f64,
    ) -> Parse<Vec<Raw>> {
        let case_len = self.slots * 8;
        let whole = data.len() / case_len;
        let n = match ncases {
            Some(n) if n > whole => {
                return Err(Fail::Truncated(format!(
                    "the data: the header declares {n} cases but the file holds {whole}"
                )))
            }
            Some(n) => n,
            None if !data.len().is_multiple_of(case_len) => {
                return Err(Fail::Truncated(format!("case {} of the data", whole + 1)))
            }
            None => whole,
        };
        let plan = self.slot_plan();
        let mut cols = self.empty_columns(n);
        let mut builder = CaseBuilder::new(self.layout.len());
        for case in data.chunks_exact(case_len).take(n) {
            for (s, chunk) in case.chunks_exact(8).enumerate() {
                let mut a = [0u8; 8];
                a.copy_from_slice(chunk);
                builder.put(plan[s], Value::Raw(a), &mut cols, self.big_endian, sysmis);
            }
        }
        Ok(cols)
    }

    fn read_bytecode(
        &self,
        data: &[u8],
        ncases: Option<usize>,
        bias: f64,
        sysmis: f64,
    ) -> Parse<Vec<Raw>> {
        let plan = self.slot_plan();
        // Each case takes at least one command byte per slot, so this bounds the capacity.
        let cap = ncases.unwrap_or(0).min(data.len() / self.slots.max(1) + 1);
        let mut cols = self.empty_columns(cap);
        let mut builder = CaseBuilder::new(self.layout.len());
        let mut r = Bytes {
            buf: data,
            pos: 0,
            big_endian: self.big_endian,
        };
        let mut commands: [u8; 8] = [0; 8];
        let mut next = 8usize;
        let mut cases = 0usize;
        let mut slot = 0usize;
        'cases: loop {
            if slot == 0 && ncases == Some(cases) {
                break;
            }
            // The next command byte, fetching a new block of 8 when needed.
            if next == 8 {
                if r.remaining() == 0 && slot == 0 {
                    break 'cases;
                }
                commands = r.array::<8>(&format!("case {} of the data", cases + 1))?;
                next = 0;
            }
            let code = commands[next];
            next += 1;
            let value = match code {
                0 => continue,
                252 => {
                    if slot != 0 {
                        return Err(Fail::Truncated(format!(
                            "case {} of the data (the data end in the middle of it)",
                            cases + 1
                        )));
                    }
                    break 'cases;
                }
                253 => Value::Raw(r.array::<8>(&format!("case {} of the data", cases + 1))?),
                254 => Value::Spaces,
                255 => Value::Sysmis,
                c => Value::Number(f64::from(c) - bias),
            };
            builder.put(plan[slot], value, &mut cols, self.big_endian, sysmis);
            slot += 1;
            if slot == self.slots {
                slot = 0;
                cases += 1;
            }
        }
        if let Some(n) = ncases {
            if cases < n {
                return Err(Fail::Truncated(format!(
                    "the data: the header declares {n} cases but the file holds {cases}"
                )));
            }
        }
        Ok(cols)
    }
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A slot no output column uses (cannot happen in a consistent file).
    Skip,
    Num(usize),
    Str {
        col: usize,
        keep: usize,
        last: bool,
    },
}

/// One 8-byte value of a case as stored.
enum Value {
    Raw([u8; 8]),
    Number(f64),
    Spaces,
    Sysmis,
}

/// Collects string bytes across slots while a case is decoded.
struct CaseBuilder {
    strings: Vec<Vec<u8>>,
}

impl CaseBuilder {
    fn new(ncols: usize) -> Self {
        CaseBuilder {
            strings: vec![Vec::new(); ncols],
        }
    }

    /// Puts one slot's value of the current case into its column.
    fn put(&mut self, slot: Slot, value: Value, cols: &mut [Raw], big_endian: bool, sysmis: f64) {
        match slot {
            Slot::Skip => {}
            Slot::Num(c) => {
                let x = match value {
                    Value::Raw(a) => f64_of(a, big_endian),
                    Value::Number(x) => x,
                    Value::Spaces | Value::Sysmis => f64::NAN,
                };
                let x = if x == sysmis { f64::NAN } else { x };
                if let Raw::Num(v) = &mut cols[c] {
                    v.push(x);
                }
            }
            Slot::Str { col, keep, last } => {
                let buf = &mut self.strings[col];
                let bytes = match value {
                    Value::Raw(a) => a,
                    // Numbers or system-missing in a string slot: treat as blanks.
                    _ => [b' '; 8],
                };
                buf.extend_from_slice(&bytes[..keep]);
                if last {
                    let end = buf
                        .iter()
                        .rposition(|&b| b != b' ' && b != 0)
                        .map_or(0, |i| i + 1);
                    let value = (end > 0).then(|| buf[..end].to_vec());
                    buf.clear();
                    if let Raw::Str(v) = &mut cols[col] {
                        v.push(value);
                    }
                }
            }
        }
    }
}

/// Inflates the zlib blocks of a `.zsav` file (the zheader follows the dictionary; the
/// ztrailer lists the blocks). The result is bytecode-compressed data.
fn inflate_zsav(r: &mut Bytes<'_>) -> Parse<Vec<u8>> {
    let what = "the zlib data header";
    let zheader_at = r.pos;
    let zheader_ofs = r.i64(what)?;
    let ztrailer_ofs = r.i64(what)?;
    let ztrailer_len = r.i64(what)?;
    if usize::try_from(zheader_ofs).ok() != Some(zheader_at) {
        return corrupt(format!(
            "the zlib data header says it is at byte {zheader_ofs}, not {zheader_at}"
        ));
    }
    let start = usize::try_from(ztrailer_ofs)
        .map_err(|_| Fail::Corrupt("bad zlib trailer offset".into()))?;
    let len = usize::try_from(ztrailer_len)
        .map_err(|_| Fail::Corrupt("bad zlib trailer length".into()))?;
    let mut t = Bytes {
        buf: r.buf,
        pos: 0,
        big_endian: r.big_endian,
    };
    let what = "the zlib block index";
    t.take(start, what)?;
    let trailer = t.take(len, what)?;
    let mut t = Bytes {
        buf: trailer,
        pos: 0,
        big_endian: r.big_endian,
    };
    t.i64(what)?; // bias
    t.i64(what)?; // zero
    let block_size = t.count("the zlib block size", i32::MAX as usize)?;
    let nblocks = t.count("the number of zlib blocks", t.remaining() / 24)?;
    let mut out = Vec::new();
    for b in 0..nblocks {
        t.i64(what)?; // uncompressed offset
        let cofs = t.i64(what)?;
        let usize_ = t.count("a zlib block's size", block_size)?;
        let csize = t.count("a zlib block's compressed size", r.buf.len())?;
        let cofs = usize::try_from(cofs)
            .map_err(|_| Fail::Corrupt(format!("zlib block {} offset {cofs}", b + 1)))?;
        let block = cofs
            .checked_add(csize)
            .and_then(|end| r.buf.get(cofs..end))
            .ok_or_else(|| Fail::Truncated(format!("zlib block {} of the data", b + 1)))?;
        let before = out.len();
        let mut z = flate2::bufread::ZlibDecoder::new(block).take(usize_ as u64);
        z.read_to_end(&mut out)
            .map_err(|e| Fail::Corrupt(format!("zlib block {} does not inflate: {e}", b + 1)))?;
        if out.len() - before != usize_ {
            return Err(Fail::Truncated(format!("zlib block {} of the data", b + 1)));
        }
    }
    Ok(out)
}

/// An SPSS date (seconds since 1582-10-14 00:00) as ISO 8601 text; `None` when missing or
/// out of range.
fn spss_date_text(secs: f64, with_time: bool) -> Option<String> {
    if !secs.is_finite() || secs.abs() > 1e14 {
        return None;
    }
    // 1582-10-14 is 141 428 days before 1970-01-01.
    let total = secs.round() as i64;
    let days = total.div_euclid(86_400) - 141_428;
    let (y, m, d) = civil_from_days(days);
    if with_time {
        let t = total.rem_euclid(86_400);
        Some(format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            t / 3600,
            t / 60 % 60,
            t % 60
        ))
    } else {
        Some(format!("{y:04}-{m:02}-{d:02}"))
    }
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read::{read_table, ReadOptions};
    use crate::table::MISSING_CODE;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn read_fixture(name: &str) -> Table {
        read_table(&fixture(name), &ReadOptions::default()).unwrap()
    }

    fn cat(c: &Column) -> (&[u32], &[String]) {
        match &c.data {
            ColumnData::Cat { codes, levels } => (codes, levels),
            ColumnData::Num(_) => panic!("column `{}` is numeric", c.name),
        }
    }

    /// The fixture as written by tests/fixtures/make_fixtures.py.
    fn check_responses(t: &Table) {
        assert_eq!(
            t.names().collect::<Vec<_>>(),
            [
                "id",
                "q1",
                "municipality",
                "age",
                "satisfaction_overall",
                "sex",
                "interviewed",
                "comment"
            ]
        );
        assert_eq!(t.nrows(), 10);
        let id = t.column("id").unwrap();
        assert_eq!(
            id.as_num().unwrap(),
            &[1., 2., 3., 4., 5., 6., 7., 8., 9., 10.]
        );
        assert_eq!(id.label, None);

        let q1 = t.column("q1").unwrap();
        let v = q1.as_num().unwrap();
        assert_eq!(v[..5], [1., 2., 5., 9., 3.], "user-missing 9 stays a value");
        assert!(v[5].is_nan(), "system-missing");
        assert_eq!(v[6..], [4., 4., 9., 2.]);
        assert_eq!(
            q1.label.as_deref(),
            Some("How satisfied are you with the services?")
        );
        assert_eq!(q1.missing_values, [9.0]);
        let labels: Vec<(f64, &str)> = q1
            .value_labels
            .iter()
            .map(|(c, l)| (*c, l.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                (1., "Very dissatisfied"),
                (2., "Dissatisfied"),
                (3., "Neutral"),
                (4., "Satisfied"),
                (5., "Very satisfied"),
                (9., "No answer")
            ]
        );

        let m = t.column("municipality").unwrap();
        let (codes, levels) = cat(m);
        assert_eq!(levels, &["Helsinki", "Oulu", "Pori", "Äänekoski"]);
        assert_eq!(codes[..5], [0, 3, 2, MISSING_CODE, 0]);
        assert_eq!(codes[7], 3, "trailing blanks are trimmed");
        assert_eq!(m.label, None);

        let age = t.column("age").unwrap();
        assert_eq!(age.label.as_deref(), Some("Age in years"));
        assert_eq!(age.as_num().unwrap()[3], 95.0);
        // The range 90 THRU 99, expanded.
        let expected: Vec<f64> = (90..=99).map(f64::from).collect();
        assert_eq!(age.missing_values, expected);
        assert!(age.value_labels.is_empty());

        let sat = t.column("satisfaction_overall").unwrap();
        assert_eq!(sat.label.as_deref(), Some("Overall satisfaction (0-10)"));
        let v = sat.as_num().unwrap();
        assert_eq!(v[5], 5.25);
        assert!(v[9].is_nan());

        // String variable: labels are dropped, the user-missing "x" becomes missing.
        let sex = t.column("sex").unwrap();
        assert_eq!(sex.label.as_deref(), Some("Sex"));
        let (codes, levels) = cat(sex);
        assert_eq!(levels, &["f", "m"]);
        assert_eq!(codes[..5], [1, 0, 0, 1, MISSING_CODE]);
        assert!(sex.value_labels.is_empty() && sex.missing_values.is_empty());

        let when = t.column("interviewed").unwrap();
        assert_eq!(when.text(0).as_deref(), Some("2024-03-01"));
        assert_eq!(when.text(9).as_deref(), Some("2024-03-07"));
        assert!(when.is_missing(3));

        // A very long string (width 300) joined from its segments.
        let comment = t.column("comment").unwrap();
        assert!(comment.is_missing(0));
        assert_eq!(comment.text(1).as_deref(), Some("ok"));
        assert_eq!(comment.text(2), Some("x".repeat(300)));
    }

    #[test]
    fn uncompressed_sav_is_read_with_metadata() {
        check_responses(&read_fixture("responses.sav"));
    }

    #[test]
    fn bytecode_compressed_sav_is_read() {
        check_responses(&read_fixture("responses_bc.sav"));
    }

    #[test]
    fn zlib_compressed_zsav_is_read() {
        check_responses(&read_fixture("responses.zsav"));
    }

    #[test]
    fn truncated_files_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.sav");

        // Cut in the middle of the data.
        let bytes = std::fs::read(fixture("responses.sav")).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
        let e = read_table(&path, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Input { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
        assert!(
            msg.contains("the SPSS file ends early, while reading the data: the header declares 10 cases but the file holds 9"),
            "{msg}"
        );

        // Cut in the dictionary.
        std::fs::write(&path, &bytes[..700]).unwrap();
        let msg = read_table(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("the SPSS file ends early, while reading"),
            "{msg}"
        );

        // Every prefix of every fixture is an error, never a panic.
        for name in ["responses.sav", "responses_bc.sav", "responses.zsav"] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            for n in 0..bytes.len() {
                assert!(read_sav(&bytes[..n]).is_err(), "{name} cut at {n} was read");
            }
        }
    }

    #[test]
    fn damaged_files_never_panic() {
        // Overwrite a few bytes at pseudo-random places; any result but a panic is fine.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for name in ["responses.sav", "responses_bc.sav", "responses.zsav"] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            for _ in 0..1500 {
                let mut b = bytes.clone();
                for _ in 0..1 + next() % 4 {
                    let i = (next() % b.len() as u64) as usize;
                    b[i] = [0, 1, 0x7f, 0x80, 0xff, next() as u8][(next() % 6) as usize];
                }
                if let Ok(sav) = read_sav(&b) {
                    let _ = sav.into_table(Path::new("x.sav"));
                }
            }
        }
    }

    /// Writes a small system file by hand in either byte order: a numeric variable `X`
    /// (long name `score_total`, a Windows-1252 label, value labels, missing range 97 THRU 99
    /// plus 0), a string `S` of width 10 (one continuation record), and three cases, either
    /// uncompressed or bytecode-compressed.
    fn synthetic(big_endian: bool, compressed: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let i32b = |out: &mut Vec<u8>, v: i32| {
            out.extend(if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        let f64b = |out: &mut Vec<u8>, v: f64| {
            out.extend(if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        out.extend(b"$FL2");
        out.extend([b' '; 60]);
        i32b(&mut out, 2); // layout code
        i32b(&mut out, 3); // slots per case
        i32b(&mut out, i32::from(compressed));
        i32b(&mut out, 0); // no weight
        i32b(&mut out, 3); // cases
        f64b(&mut out, 100.0); // bias
        out.extend([b' '; 9 + 8 + 64 + 3]);
        // X: numeric, labelled, missing -3 (range + one value), format F8.2.
        i32b(&mut out, 2);
        i32b(&mut out, 0);
        i32b(&mut out, 1);
        i32b(&mut out, -3);
        i32b(&mut out, (5 << 16) | (8 << 8) | 2);
        i32b(&mut out, (5 << 16) | (8 << 8) | 2);
        out.extend(b"X       ");
        let label = b"Pisteet \xc4iti"; // "Pisteet Äiti" in Windows-1252
        i32b(&mut out, label.len() as i32);
        out.extend(label);
        out.extend(vec![0u8; (4 - label.len() % 4) % 4]);
        f64b(&mut out, 97.0);
        f64b(&mut out, 99.0);
        f64b(&mut out, 0.0);
        // S: string of width 10 and its continuation.
        i32b(&mut out, 2);
        i32b(&mut out, 10);
        i32b(&mut out, 0);
        i32b(&mut out, 0);
        i32b(&mut out, (1 << 16) | (10 << 8));
        i32b(&mut out, (1 << 16) | (10 << 8));
        out.extend(b"S       ");
        i32b(&mut out, 2);
        i32b(&mut out, -1);
        for _ in 0..4 {
            i32b(&mut out, 0);
        }
        out.extend(b"        ");
        // Value labels of X: 1 = "Yes", 2 = "No" (Windows-1252 "Ei ö").
        i32b(&mut out, 3);
        i32b(&mut out, 2);
        for (v, l) in [(1.0, &b"Yes"[..]), (2.0, &b"Ei \xf6"[..])] {
            f64b(&mut out, v);
            out.push(l.len() as u8);
            out.extend(l);
            out.extend(vec![b' '; (8 - (l.len() + 1) % 8) % 8]);
        }
        i32b(&mut out, 4);
        i32b(&mut out, 1);
        i32b(&mut out, 1);
        // 7.20 encoding and 7.13 long names.
        for (sub, text) in [
            (20, &b"windows-1252"[..]),
            (13, &b"X=score_total\tS=name"[..]),
        ] {
            i32b(&mut out, 7);
            i32b(&mut out, sub);
            i32b(&mut out, 1);
            i32b(&mut out, text.len() as i32);
            out.extend(text);
        }
        i32b(&mut out, 999);
        i32b(&mut out, 0);
        // Cases: (1, "M\xe4ki"), (sysmis, ""), (98.5, "abcdefghij").
        let cases: [(f64, &[u8; 16]); 3] = [
            (1.0, b"M\xe4ki            "),
            (-f64::MAX, b"                "),
            (98.5, b"abcdefghij      "),
        ];
        if compressed {
            // Blocks of 8 commands, each followed by the raw values it calls for.
            let mut commands = Vec::new();
            let mut raw: Vec<Vec<u8>> = Vec::new();
            for (x, s) in cases {
                if x == -f64::MAX {
                    commands.push(255);
                } else if x.fract() == 0.0 {
                    commands.push((x + 100.0) as u8);
                } else {
                    commands.push(253);
                    let mut v = Vec::new();
                    f64b(&mut v, x);
                    raw.push(v);
                }
                for half in s.chunks(8) {
                    if half == b"        " {
                        commands.push(254);
                    } else {
                        commands.push(253);
                        raw.push(half.to_vec());
                    }
                }
            }
            commands.push(252);
            let mut raw = raw.into_iter();
            for block in commands.chunks(8) {
                let mut b = block.to_vec();
                b.resize(8, 0);
                let n = b.iter().filter(|&&c| c == 253).count();
                out.extend(b);
                for v in raw.by_ref().take(n) {
                    out.extend(v);
                }
            }
        } else {
            for (x, s) in cases {
                f64b(&mut out, x);
                out.extend(s);
            }
        }
        out
    }

    #[test]
    fn synthetic_files_in_both_byte_orders() {
        let dir = tempfile::tempdir().unwrap();
        for big_endian in [false, true] {
            for compressed in [false, true] {
                let path = dir.path().join("synthetic.sav");
                std::fs::write(&path, synthetic(big_endian, compressed)).unwrap();
                let t = read_table(&path, &ReadOptions::default())
                    .unwrap_or_else(|e| panic!("big {big_endian} compressed {compressed}: {e}"));
                assert_eq!(t.names().collect::<Vec<_>>(), ["score_total", "name"]);
                let x = t.column("score_total").unwrap();
                let v = x.as_num().unwrap();
                assert_eq!(v[0], 1.0);
                assert!(v[1].is_nan());
                assert_eq!(v[2], 98.5);
                assert_eq!(x.label.as_deref(), Some("Pisteet Äiti"));
                assert_eq!(
                    x.value_labels,
                    [(1.0, "Yes".to_string()), (2.0, "Ei ö".to_string())]
                );
                // 0, the whole numbers 97..99, and 98.5 from the data.
                assert_eq!(x.missing_values, [0.0, 97.0, 98.0, 98.5, 99.0]);
                let s = t.column("name").unwrap();
                assert_eq!(s.text(0).as_deref(), Some("Mäki"));
                assert!(s.is_missing(1));
                assert_eq!(s.text(2).as_deref(), Some("abcdefghij"));
            }
        }
    }

    #[test]
    fn corrupt_records_are_named() {
        let mut b = synthetic(false, true);
        // The layout code.
        b[64..68].copy_from_slice(&7i32.to_le_bytes());
        let msg = match read_sav(&b) {
            Err(Fail::Corrupt(m)) => m,
            other => panic!("{:?}", other.err()),
        };
        assert_eq!(msg, "unknown layout code 7 in the file header");

        // A compressed case cut short by the end-of-data code.
        let mut b = synthetic(false, true);
        let n = b.len();
        let at = b[..n].iter().rposition(|&c| c == 252).unwrap();
        b[at - 1] = 252;
        let msg = match read_sav(&b) {
            Err(Fail::Truncated(m)) => m,
            other => panic!("{:?}", other.err()),
        };
        assert!(msg.contains("case 3"), "{msg}");
    }

    #[test]
    fn dates_are_iso_text() {
        assert_eq!(spss_date_text(0.0, false).as_deref(), Some("1582-10-14"));
        // 2024-03-01 is 16861 days after 1970-01-01.
        let secs = (141_428.0 + 19_783.0) * 86_400.0;
        assert_eq!(spss_date_text(secs, false).as_deref(), Some("2024-03-01"));
        assert_eq!(
            spss_date_text(secs + 45_000.0, true).as_deref(),
            Some("2024-03-01 12:30:00")
        );
        assert_eq!(spss_date_text(f64::NAN, false), None);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
