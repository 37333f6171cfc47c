//! Delimited text (CSV, TSV, `;`-separated Finnish Excel exports) into columns.
//!
//! One pass over the records straight into column builders. A column starts numeric and
//! turns categorical at its first non-number; the rows before that are re-read from the
//! text, so numeric columns never pay for string interning. Large files without quote
//! characters are cut at line ends into blocks parsed in parallel and joined in order (a
//! quote may hide a line break inside a field, so quoted files are read in one block).
//!
//! Text without a quote character is split by [`Plain`], which gives the records and fields
//! the `csv` crate gives (its DFA is a third of the reading time at a million rows, and
//! without quotes there is nothing for it to decide); text with quotes is read by `csv`.

use super::ReadOptions;
use crate::error::{Location, Result};
use crate::table::sniff::{self, parse_number};
use crate::table::{CatBuilder, Column, ColumnData, Table, MISSING_CODE};
use crate::Error;
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;

/// Bytes of data per parallel block.
const BLOCK_BYTES: usize = 4 << 20;

/// Where a block puts a column's numbers: a growing vector, or its rows of the final column
/// (when the rows of every block are known beforehand).
enum Sink<'a> {
    Grow(Vec<f64>),
    Slot(&'a mut [f64]),
}

enum Builder<'a> {
    Num(Sink<'a>),
    /// Turned categorical at data row `since` (0-based); rows before it are filled afterwards.
    Cat {
        since: usize,
        b: CatBuilder,
    },
}

/// A block's part of a column once parsed.
enum Piece {
    /// Numbers (empty when they went straight into the final column).
    Num(Vec<f64>),
    Cat {
        since: usize,
        b: CatBuilder,
    },
}

pub(super) fn read(bytes: &[u8], file: &Path, options: &ReadOptions) -> Result<Table> {
    let (text, _enc) = sniff::decode(bytes, options.encoding, file)?;
    read_delimited_text(&text, file, options)
}

/// Parses already-decoded delimited text.
pub fn read_delimited_text(text: &str, file: &Path, options: &ReadOptions) -> Result<Table> {
    read_in_blocks(text, file, options, BLOCK_BYTES)
}

fn read_in_blocks(
    text: &str,
    file: &Path,
    options: &ReadOptions,
    block_bytes: usize,
) -> Result<Table> {
    let delimiter = options.delimiter.unwrap_or_else(|| sniff::delimiter(text));
    let comma = sniff::decimal_comma(options.decimal, delimiter);
    let mut reader = reader(text, delimiter, true);

    let headers = reader.headers().map_err(|e| csv_error(e, file, 0))?.clone();
    if reader.position().byte() as usize >= text.len() {
        // A header that runs to the end of the file may be a quote never closed.
        if let Some(line) = unclosed_quote(text.as_bytes(), delimiter) {
            return Err(BlockError::Unclosed { line }.into_error(file, 0));
        }
    }
    if headers.is_empty() || (headers.len() == 1 && headers[0].trim().is_empty()) {
        return Err(Error::input(
            Location::file(file).line(1),
            None,
            "the file has no header row; expected column names on the first line",
        ));
    }
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (j, h) in headers.iter().enumerate() {
        let name = h.trim().to_string();
        if name.is_empty() {
            return Err(Error::input(
                Location::file(file).line(1),
                None,
                format!("column {} has an empty name in the header", j + 1),
            ));
        }
        if names.contains(&name) {
            return Err(Error::input(
                Location::file(file).line(1).column(&name),
                None,
                "the column name appears twice in the header",
            ));
        }
        names.push(name);
    }

    // The data after the header, cut into blocks that start at a record.
    let data_start = (reader.position().byte() as usize).min(text.len());
    let data = &text[data_start..];
    let header_lines = reader.position().line().saturating_sub(1) as usize;
    let quoted = data.as_bytes().contains(&b'"');
    let blocks = split_records(data.as_bytes(), block_bytes, quoted);
    // A non-ASCII delimiter byte could fall inside a character: `csv` reads those.
    let plain = delimiter.is_ascii() && !quoted;
    let ncols = names.len();
    let parse_error = |r: &Range<usize>, e: BlockError| {
        // Lines before the block, for the message.
        e.into_error(
            file,
            header_lines + count_lines(&data.as_bytes()[..r.start]),
        )
    };

    // Several blocks (no quotes): count each block's records, then let every block write its
    // numbers straight into its rows of the final columns.
    let mut finals: Vec<Vec<f64>> = Vec::new();
    let mut parts: Vec<Block> = Vec::with_capacity(blocks.len());
    if blocks.len() > 1 {
        let counts: Vec<usize> = blocks
            .par_iter()
            .map(|r| count_records(&data.as_bytes()[r.clone()]))
            .collect();
        let nrows: usize = counts.iter().sum();
        finals = (0..ncols).map(|_| vec![0.0; nrows]).collect();
        let mut slots: Vec<Vec<&mut [f64]>> = blocks.iter().map(|_| Vec::new()).collect();
        for column in finals.iter_mut() {
            let mut rest: &mut [f64] = column;
            for (k, &c) in counts.iter().enumerate() {
                let (mine, tail) = rest.split_at_mut(c);
                slots[k].push(mine);
                rest = tail;
            }
        }
        let parsed: Vec<std::result::Result<Block, BlockError>> = blocks
            .par_iter()
            .zip(slots)
            .map(|(r, slots)| {
                let sinks = slots.into_iter().map(Sink::Slot).collect();
                parse_block(&data[r.clone()], sinks, delimiter, comma, plain)
            })
            .collect();
        for ((r, p), &c) in blocks.iter().zip(parsed).zip(&counts) {
            let b = p.map_err(|e| parse_error(r, e))?;
            if b.rows != c {
                return Err(Error::input(
                    Location::file(file),
                    None,
                    "the records could not be counted consistently; the file may mix line-break styles",
                ));
            }
            parts.push(b);
        }
    } else {
        for r in &blocks {
            let sinks = (0..ncols).map(|_| Sink::Grow(Vec::new())).collect();
            let b = parse_block(&data[r.clone()], sinks, delimiter, comma, plain)
                .map_err(|e| parse_error(r, e))?;
            parts.push(b);
        }
    }

    let nrows: usize = parts.iter().map(|p| p.rows).sum();
    let mut table = Table::new(nrows);
    let mut finals = finals.into_iter();
    for (j, name) in names.into_iter().enumerate() {
        let pieces: Vec<Piece> = parts
            .iter_mut()
            .map(|p| std::mem::replace(&mut p.columns[j], Piece::Num(Vec::new())))
            .collect();
        let full = finals.next();
        let data = if pieces.iter().all(|b| matches!(b, Piece::Num(_))) {
            match full {
                Some(v) => ColumnData::Num(v),
                None => ColumnData::Num(
                    pieces
                        .into_iter()
                        .flat_map(|p| match p {
                            Piece::Num(v) => v,
                            Piece::Cat { .. } => Vec::new(),
                        })
                        .collect(),
                ),
            }
        } else {
            drop(full);
            let mut texts = Vec::with_capacity(pieces.len());
            for ((piece, r), part) in pieces.into_iter().zip(&blocks).zip(&parts) {
                let b = text_column(piece, &data[r.clone()], part.rows, j, delimiter, plain)
                    .map_err(|e| csv_error(e, file, header_lines))?;
                texts.push(b.finish());
            }
            let (codes, levels) = join_codes(texts, nrows);
            ColumnData::Cat { codes, levels }
        };
        table.push(Column::new(name, data))?;
    }
    Ok(table)
}

/// One block's columns.
struct Block {
    rows: usize,
    columns: Vec<Piece>,
}

/// A parse error inside a block, with the line counted from the block's start.
enum BlockError {
    Csv(csv::Error),
    Ragged {
        line: usize,
        len: usize,
        expected: usize,
    },
    /// A quoted field opened on `line` runs to the end of the text.
    Unclosed {
        line: usize,
    },
}

impl BlockError {
    fn into_error(self, file: &Path, lines_before: usize) -> Error {
        match self {
            BlockError::Csv(e) => csv_error(e, file, lines_before),
            BlockError::Ragged {
                line,
                len,
                expected,
            } => Error::input(
                Location::file(file).line(lines_before + line),
                None,
                format!(
                    "the line has {len} fields but the header has {expected}; check the delimiter and quoting"
                ),
            ),
            BlockError::Unclosed { line } => Error::input(
                Location::file(file).line(lines_before + line),
                None,
                "a quoted field opens on this line and its quote is never closed, so it runs to the end of the file; close the quote or remove it",
            ),
        }
    }
}

/// Parses one block of records into `sinks` (one per column); `plain` when the block has no
/// quote character.
fn parse_block(
    text: &str,
    sinks: Vec<Sink>,
    delimiter: u8,
    comma: bool,
    plain: bool,
) -> std::result::Result<Block, BlockError> {
    let mut columns: Vec<Builder> = sinks.into_iter().map(Builder::Num).collect();
    let rows = if plain {
        parse_plain(text, &mut columns, delimiter, comma)?
    } else {
        parse_quoted(text, &mut columns, delimiter, comma)?
    };
    let columns = columns
        .into_iter()
        .map(|b| match b {
            Builder::Num(Sink::Grow(v)) => Piece::Num(v),
            Builder::Num(Sink::Slot(_)) => Piece::Num(Vec::new()),
            Builder::Cat { since, b } => Piece::Cat { since, b },
        })
        .collect();
    Ok(Block { rows, columns })
}

/// The records of text without quotes into `columns`; the number of records.
fn parse_plain(
    text: &str,
    columns: &mut [Builder],
    delimiter: u8,
    comma: bool,
) -> std::result::Result<usize, BlockError> {
    let ncols = columns.len();
    let mut records = Plain::new(text, delimiter);
    let mut row = 0usize;
    while let Some(line) = records.next_record() {
        let mut len = 0usize;
        while let Some(field) = records.next_field() {
            if let Some(b) = columns.get_mut(len) {
                push(b, field, row, comma);
            }
            len += 1;
        }
        if len != ncols {
            return Err(BlockError::Ragged {
                line,
                len,
                expected: ncols,
            });
        }
        row += 1;
    }
    Ok(row)
}

/// The records of text with quotes, read by `csv`, into `columns`; the number of records.
fn parse_quoted(
    text: &str,
    columns: &mut [Builder],
    delimiter: u8,
    comma: bool,
) -> std::result::Result<usize, BlockError> {
    let ncols = columns.len();
    let mut reader = reader(text, delimiter, false);
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    // Where `csv` began reading the last record: a quote left open swallows the rest of the
    // text into the last record.
    let mut last = 0usize;
    let unclosed = |from: usize| {
        let (start, line) = record_start(text.as_bytes(), from);
        unclosed_quote(&text.as_bytes()[start..], delimiter)
            .map(|l| BlockError::Unclosed { line: line + l - 1 })
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(BlockError::Csv(e)),
        }
        if let Some(p) = record.position() {
            last = p.byte() as usize;
        }
        if record.len() != ncols {
            if let Some(e) = unclosed(last) {
                return Err(e);
            }
            return Err(BlockError::Ragged {
                line: record_start(text.as_bytes(), last).1,
                len: record.len(),
                expected: ncols,
            });
        }
        for (j, field) in record.iter().enumerate() {
            push(&mut columns[j], field, row, comma);
        }
        row += 1;
    }
    if row > 0 {
        if let Some(e) = unclosed(last) {
            return Err(e);
        }
    }
    Ok(row)
}

/// Where the record `csv` began reading at byte `from` starts (byte, 1-based line). `csv`'s
/// own position is where it began reading, before the line ends it skips (the `\n` of a
/// `\r\n`, empty lines), so its line numbers run behind in files with Windows line ends.
fn record_start(text: &[u8], from: usize) -> (usize, usize) {
    let from = from.min(text.len());
    let skipped = text[from..]
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count();
    let start = from + skipped;
    (start, 1 + count_lines(&text[..start]))
}

/// Records and fields of text without quote characters, as the `csv` crate reads them: a
/// record ends at `\n`, `\r` or `\r\n`, empty lines are skipped, fields are split at every
/// delimiter (an ASCII byte) and kept as written. Lines are counted by line feeds, as `csv`
/// counts them.
struct Plain<'a> {
    text: &'a str,
    delimiter: u8,
    pos: usize,
    line: usize,
    in_record: bool,
}

impl<'a> Plain<'a> {
    fn new(text: &'a str, delimiter: u8) -> Self {
        Plain {
            text,
            delimiter,
            pos: 0,
            line: 1,
            in_record: false,
        }
    }

    /// Moves to the next record; its first line, or `None` at the end of the text. Fields the
    /// last record did not give are skipped.
    fn next_record(&mut self) -> Option<usize> {
        while self.next_field().is_some() {}
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b'\r' => {}
                _ => {
                    self.in_record = true;
                    return Some(self.line);
                }
            }
            self.pos += 1;
        }
        None
    }

    /// The record's field `j` (0-based).
    fn nth_field(&mut self, j: usize) -> Option<&'a str> {
        (0..j).try_for_each(|_| self.next_field().map(|_| ()))?;
        self.next_field()
    }

    /// The record's next field, or `None` after its last.
    fn next_field(&mut self) -> Option<&'a str> {
        if !self.in_record {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            if b == self.delimiter || b == b'\n' || b == b'\r' {
                break;
            }
            end += 1;
        }
        if bytes.get(end) == Some(&self.delimiter) {
            self.pos = end + 1;
        } else {
            self.pos = end;
            self.in_record = false;
        }
        // Both ends are at ASCII bytes or the ends of the text: always character boundaries.
        Some(self.text.get(start..end).unwrap_or(""))
    }
}

/// A block's piece of a text column (`rows` records): numbers it read before the first text
/// are re-read from the block as written ("01" stays "01").
fn text_column(
    piece: Piece,
    block: &str,
    rows: usize,
    j: usize,
    delimiter: u8,
    plain: bool,
) -> std::result::Result<CatBuilder, csv::Error> {
    let (upto, tail) = match piece {
        Piece::Cat { since: 0, b } => return Ok(b),
        Piece::Cat { since, b } => (since, Some(b)),
        Piece::Num(_) => (rows, None),
    };
    let mut head = CatBuilder::with_capacity(rows);
    if plain {
        let mut records = Plain::new(block, delimiter);
        for _ in 0..upto {
            if records.next_record().is_none() {
                break;
            }
            push_text(&mut head, records.nth_field(j).unwrap_or(""));
        }
    } else {
        let mut again = reader(block, delimiter, false);
        let mut record = csv::StringRecord::new();
        for _ in 0..upto {
            if !again.read_record(&mut record)? {
                break;
            }
            push_text(&mut head, record.get(j).unwrap_or(""));
        }
    }
    if let Some(tail) = tail {
        append_builder(&mut head, tail);
    }
    Ok(head)
}

/// Joins the blocks' (codes, sorted levels) into one column with sorted levels.
fn join_codes(parts: Vec<(Vec<u32>, Vec<String>)>, nrows: usize) -> (Vec<u32>, Vec<String>) {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut levels: Vec<String> = parts.iter().flat_map(|p| p.1.iter().cloned()).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut codes = Vec::with_capacity(nrows);
    for (c, l) in parts {
        let remap: Vec<u32> = l
            .iter()
            .map(|x| levels.binary_search(x).map_or(MISSING_CODE, |k| k as u32))
            .collect();
        codes.extend(c.into_iter().map(|k| {
            if k == MISSING_CODE {
                k
            } else {
                remap[k as usize]
            }
        }));
    }
    (codes, levels)
}

/// Cuts `data` into blocks of about `target` bytes, each ending after a line feed. A quote
/// character anywhere (`quoted`) keeps the data in one block: a quoted field may hold a line
/// break, and only a full parse can tell.
fn split_records(data: &[u8], target: usize, quoted: bool) -> Vec<Range<usize>> {
    let n = data.len();
    if n <= target || quoted {
        return vec![Range { start: 0, end: n }];
    }
    let mut out = Vec::with_capacity(n / target + 1);
    let mut start = 0;
    while start < n {
        let guess = start + target;
        if guess >= n {
            out.push(start..n);
            break;
        }
        match data[guess..].iter().position(|&b| b == b'\n') {
            Some(k) => {
                out.push(start..guess + k + 1);
                start = guess + k + 1;
            }
            None => {
                out.push(start..n);
                break;
            }
        }
    }
    out
}

/// The records of a block without quote characters, as `csv` counts them: runs of bytes
/// between line ends (`\n`, `\r`), empty lines skipped.
fn count_records(bytes: &[u8]) -> usize {
    let end = |b: u8| b == b'\n' || b == b'\r';
    let starts = bytes.windows(2).filter(|w| end(w[0]) && !end(w[1])).count();
    starts + usize::from(bytes.first().is_some_and(|&b| !end(b)))
}

/// The line (1-based, within `record`) where a quoted field opens that is still open at the end
/// of `record`, the raw text of a record to the end of the input. Quotes are read as the
/// `csv` crate reads them: a quote opens a quoted field only at the start of a field (`2"` is
/// text), `""` inside it is a quote, and the quote that closes it may be followed by more text.
fn unclosed_quote(record: &[u8], delimiter: u8) -> Option<usize> {
    let mut field_start = true;
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if open.is_some() {
            if b == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                open = None;
            }
            field_start = false;
        } else if field_start && b == b'"' {
            open = Some(i);
            field_start = false;
        } else {
            field_start = b == delimiter || b == b'\n' || b == b'\r';
        }
        i += 1;
    }
    open.map(|at| 1 + count_lines(&record[..at]))
}

/// Line feeds in `bytes`: the lines before a block.
fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

fn reader(text: &str, delimiter: u8, has_headers: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(has_headers)
        .flexible(!has_headers)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes())
}

fn push(builder: &mut Builder, field: &str, row: usize, comma: bool) {
    match builder {
        Builder::Num(sink) => {
            // Numbers first: the common case, and `parse_number` has a fast path for codes.
            let x = match parse_number(field, comma) {
                Some(x) => x,
                None if sniff::is_na(field) => f64::NAN,
                None => {
                    let mut b = CatBuilder::with_capacity(row + 1);
                    push_text(&mut b, field);
                    *builder = Builder::Cat { since: row, b };
                    return;
                }
            };
            match sink {
                Sink::Grow(v) => v.push(x),
                // A row past the counted ones is caught by the caller's count check.
                Sink::Slot(s) => {
                    if let Some(slot) = s.get_mut(row) {
                        *slot = x;
                    }
                }
            }
        }
        Builder::Cat { b, .. } => push_text(b, field),
    }
}

fn push_text(b: &mut CatBuilder, field: &str) {
    if sniff::is_na(field) {
        b.push_missing();
    } else {
        b.push(field.trim());
    }
}

/// Appends the rows of `tail` (its own codes and levels) to `head`.
fn append_builder(head: &mut CatBuilder, tail: CatBuilder) {
    let (codes, levels) = tail.finish();
    for c in codes {
        if c == MISSING_CODE {
            head.push_missing();
        } else {
            head.push(&levels[c as usize]);
        }
    }
}

/// A `csv` error as an input error; `lines_before` the lines before the text it parsed.
fn csv_error(e: csv::Error, file: &Path, lines_before: usize) -> Error {
    let line = e.position().map(|p| lines_before + p.line() as usize);
    let mut loc = Location::file(file);
    loc.line = line;
    let problem = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
            "the line has {len} fields but the header has {expected_len}; check the delimiter and quoting"
        ),
        csv::ErrorKind::Utf8 { .. } => "the text is not valid UTF-8".to_string(),
        _ => format!("cannot parse the file as delimited text: {e}"),
    };
    Error::input(loc, None, problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::MISSING_CODE;

    fn read_str(s: &str) -> Table {
        read_delimited_text(s, Path::new("t.csv"), &ReadOptions::default()).unwrap()
    }

    #[test]
    fn types_are_inferred_per_column() {
        let t = read_str("id,g,x\n1,a,1.5\n2,,NA\n3,b,2\n");
        assert_eq!(t.nrows(), 3);
        assert_eq!(t.column("id").unwrap().as_num().unwrap(), &[1.0, 2.0, 3.0]);
        let x = t.column("x").unwrap().as_num().unwrap();
        assert_eq!(x[0], 1.5);
        assert!(x[1].is_nan());
        assert!(!t.column("g").unwrap().is_numeric());
        assert!(t.column("g").unwrap().is_missing(1));
    }

    #[test]
    fn late_text_keeps_earlier_rows_verbatim() {
        let t = read_str("k\n01\n2\nx\n\n");
        match &t.column("k").unwrap().data {
            ColumnData::Cat { codes, levels } => {
                assert_eq!(levels, &["01", "2", "x"]);
                assert_eq!(codes, &[0, 1, 2]);
            }
            _ => panic!("expected text"),
        }
    }

    #[test]
    fn finnish_excel_export() {
        let t = read_str("alue;osuus;nimi\n1;12,5;Äänekoski\n2;0,25;\"Pori; keskusta\"\n");
        assert_eq!(t.column("osuus").unwrap().as_num().unwrap(), &[12.5, 0.25]);
        assert_eq!(
            t.column("nimi").unwrap().text(1).as_deref(),
            Some("Pori; keskusta")
        );
    }

    #[test]
    fn ragged_line_is_an_error_with_its_line() {
        let e = read_delimited_text("a,b\n1,2\n3\n", Path::new("t.csv"), &ReadOptions::default())
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("t.csv, line 3"), "{msg}");
        assert!(msg.contains("1 fields but the header has 2"), "{msg}");
    }

    /// Blocks read in parallel give the table one block gives: numbers, text that starts in a
    /// later block (with the earlier blocks' numbers kept as written), levels seen in only
    /// one block, missing values.
    #[test]
    fn blocks_join_into_the_same_table() {
        let mut text = String::from("id,code,g,x\n");
        for i in 0..500 {
            let code = if i == 420 {
                "x1".to_string()
            } else {
                format!("0{}", i % 3)
            };
            let g = match i % 4 {
                0 => "",
                1 => "a",
                _ if i > 250 => "late",
                _ => "b",
            };
            text.push_str(&format!("{i},{code},{g},{}\n", i as f64 / 8.0));
        }
        let o = ReadOptions::default();
        let one = read_in_blocks(&text, Path::new("t.csv"), &o, usize::MAX).unwrap();
        assert!(split_records(text.as_bytes(), 97, false).len() > 20);
        let many = read_in_blocks(&text, Path::new("t.csv"), &o, 97).unwrap();
        assert_eq!(many.nrows(), 500);
        for name in ["id", "code", "g", "x"] {
            assert_eq!(
                one.column(name).unwrap().data,
                many.column(name).unwrap().data,
                "{name}"
            );
        }
        assert_eq!(many.column("code").unwrap().text(0).as_deref(), Some("00"));
        assert_eq!(
            many.column("code").unwrap().text(420).as_deref(),
            Some("x1")
        );
        assert!(many.column("g").unwrap().is_missing(0));
        assert_eq!(many.column("g").unwrap().text(499).as_deref(), Some("late"));
    }

    #[test]
    fn a_ragged_line_in_a_later_block_names_its_line() {
        let mut text = String::from("a,b\n");
        for i in 0..300 {
            text.push_str(if i == 250 { "7\n" } else { "1,2\n" });
        }
        let e = read_in_blocks(&text, Path::new("t.csv"), &ReadOptions::default(), 64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv, line 252"), "{e}");
        assert!(e.contains("1 fields but the header has 2"), "{e}");
    }

    #[test]
    fn records_are_counted_as_csv_reads_them() {
        for text in ["a\nb\n", "a\nb", "\n\na\r\n\r\nb\rc\n\n", "", "\n", "x"] {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            assert_eq!(
                count_records(text.as_bytes()),
                r.records().count(),
                "{text:?}"
            );
        }
    }

    /// Every record and field `Plain` gives, beside what `csv` gives.
    #[test]
    fn text_without_quotes_splits_as_csv_splits_it() {
        for (text, d) in [
            ("a,b\n1,2\n", b','),
            ("a,b\r\n1,2\r\n\r\n3,4", b','),
            ("\n\na;b;\r;c\rx;;\n\n", b';'),
            ("Äänekoski\t12,5\t\n\tö\n", b'\t'),
            ("", b','),
            ("\r\n", b','),
            ("x", b','),
            (" a , b \n,\n", b','),
        ] {
            let mut plain = Plain::new(text, d);
            let mut mine = Vec::new();
            while let Some(line) = plain.next_record() {
                let mut fields = Vec::new();
                while let Some(f) = plain.next_field() {
                    fields.push(f.to_string());
                }
                mine.push((line, fields));
            }
            let mut r = reader(text, d, false);
            let theirs: Vec<(usize, Vec<String>)> = r
                .records()
                .map(|rec| {
                    let rec = rec.unwrap();
                    let from = rec.position().unwrap().byte() as usize;
                    let line = record_start(text.as_bytes(), from).1;
                    (line, rec.iter().map(str::to_string).collect())
                })
                .collect();
            assert_eq!(mine, theirs, "{text:?}");
            let mut plain = Plain::new(text, d);
            if plain.next_record().is_some() {
                assert_eq!(
                    plain.nth_field(1).map(str::to_string),
                    theirs[0].1.get(1).cloned()
                );
            }
        }
        // The lines are the records' own, where `csv`'s position runs behind.
        let mut plain = Plain::new("a\r\n\r\nb\n\nc", b',');
        let lines: Vec<usize> = std::iter::from_fn(|| plain.next_record()).collect();
        assert_eq!(lines, [1, 3, 5]);
        // The same table and the same error either way.
        let text = "1,a,2.5\r\n2,,NA\r\n\r\n3,b,x\n";
        let read = |plain: bool| {
            let sinks = (0..3).map(|_| Sink::Grow(Vec::new())).collect();
            let mut b = parse_block(text, sinks, b',', false, plain).ok().unwrap();
            let rows = b.rows;
            let cols: Vec<CatBuilder> = std::mem::take(&mut b.columns)
                .into_iter()
                .enumerate()
                .map(|(j, piece)| text_column(piece, text, rows, j, b',', plain).unwrap())
                .collect();
            cols.into_iter().map(CatBuilder::finish).collect::<Vec<_>>()
        };
        assert_eq!(read(true), read(false));
        for plain in [true, false] {
            let sinks = (0..2).map(|_| Sink::Grow(Vec::new())).collect();
            match parse_block("1,2\r\n\n3\n", sinks, b',', false, plain) {
                Err(BlockError::Ragged {
                    line,
                    len,
                    expected,
                }) => assert_eq!((line, len, expected), (3, 1, 2), "{plain}"),
                _ => panic!("a ragged line must be refused"),
            }
        }
    }

    #[test]
    fn quoted_files_stay_in_one_block() {
        let text = "a,b\n1,\"x\ny\"\n2,z\n";
        assert_eq!(split_records(text.as_bytes(), 2, true), vec![0..text.len()]);
        assert_eq!(split_records(b"1\n22\n333\n", 2, false), vec![0..5, 5..9]);
        assert_eq!(split_records(b"1\n22\n333", 3, false), vec![0..5, 5..8]);
    }

    #[test]
    fn a_quote_never_closed_names_the_line_it_opens() {
        assert_eq!(unclosed_quote(b"3,\"2\n", b','), Some(1));
        assert_eq!(unclosed_quote(b"1,2,\"a\n2,2,b\n", b','), Some(1));
        assert_eq!(unclosed_quote(b"1,2\n\"x\"\"y\n", b','), Some(2));
        // Quotes inside a field, closed quotes and escaped quotes are not open quotes.
        assert_eq!(unclosed_quote(b"2,2\"\n", b','), None);
        assert_eq!(unclosed_quote(b"\"a\nb\",\"x\"\"\"\n", b','), None);
        assert_eq!(unclosed_quote(b"\"a\"b\"c,d\n", b','), None);
        for (text, line) in [
            ("y,w\n1,2\n3,\"2\n", 3),
            ("y,w,g\n1,2,\"a\n2,2,b\n3,2,c\n", 2),
            ("y,w\n\"1\n2,3\n", 2),
            ("\"y,w\n1,2\n", 1),
        ] {
            let e = read_delimited_text(text, Path::new("t.csv"), &ReadOptions::default())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("t.csv, line {line}: a quoted field")),
                "{text:?}: {e}"
            );
            assert!(e.contains("never closed"), "{e}");
        }
        let t = read_str("y,w\n1,\"2\"\n2,\"a\nb\"\n");
        assert_eq!(t.nrows(), 2);
    }

    #[test]
    fn duplicate_header_is_an_error() {
        let e = read_delimited_text("a,a\n1,2\n", Path::new("t.csv"), &ReadOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }

    #[test]
    fn missing_code_constant_is_used() {
        let t = read_str("g\nNA\nb\n");
        match &t.column("g").unwrap().data {
            ColumnData::Cat { codes, .. } => assert_eq!(codes[0], MISSING_CODE),
            _ => panic!(),
        }
    }
}
