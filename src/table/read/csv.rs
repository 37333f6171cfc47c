//! Delimited text (CSV, TSV, `;`-separated Finnish Excel exports) into columns.
//!
//! One pass over the records straight into column builders. A column starts numeric and
//! turns categorical at its first non-number; the rows before that are re-read from the
//! text, so numeric columns never pay for string interning.

use super::ReadOptions;
use crate::error::{Location, Result};
use crate::table::sniff::{self, parse_number};
use crate::table::{CatBuilder, Column, ColumnData, Table};
use crate::Error;
use std::path::Path;

enum Builder {
    Num(Vec<f64>),
    /// Turned categorical at data row `since` (0-based); rows before it are filled afterwards.
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
    let delimiter = options.delimiter.unwrap_or_else(|| sniff::delimiter(text));
    let comma = sniff::decimal_comma(options.decimal, delimiter);
    let mut reader = reader(text, delimiter);

    let headers = reader.headers().map_err(|e| csv_error(e, file))?.clone();
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

    let mut builders: Vec<Builder> = names.iter().map(|_| Builder::Num(Vec::new())).collect();
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, file)),
        }
        for (j, field) in record.iter().enumerate() {
            push(&mut builders[j], field, row, comma);
        }
        row += 1;
    }

    // Fill the prefixes of columns that turned categorical after their first row.
    let refill: Vec<usize> = builders
        .iter()
        .enumerate()
        .filter_map(|(j, b)| matches!(b, Builder::Cat { since, .. } if *since > 0).then_some(j))
        .collect();
    let mut prefixes: Vec<CatBuilder> = Vec::new();
    if !refill.is_empty() {
        let upto = refill
            .iter()
            .map(|&j| match &builders[j] {
                Builder::Cat { since, .. } => *since,
                Builder::Num(_) => 0,
            })
            .max()
            .unwrap_or(0);
        prefixes = refill
            .iter()
            .map(|_| CatBuilder::with_capacity(upto))
            .collect();
        let mut again = reader_at_data(text, delimiter).map_err(|e| csv_error(e, file))?;
        let mut r = 0usize;
        while r < upto {
            match again.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(e, file)),
            }
            for (k, &j) in refill.iter().enumerate() {
                let since = match &builders[j] {
                    Builder::Cat { since, .. } => *since,
                    Builder::Num(_) => 0,
                };
                if r < since {
                    push_text(&mut prefixes[k], &record[j]);
                }
            }
            r += 1;
        }
    }

    let mut table = Table::new(row);
    let mut prefix_iter = prefixes.into_iter();
    for (name, builder) in names.into_iter().zip(builders) {
        let data = match builder {
            Builder::Num(v) => ColumnData::Num(v),
            Builder::Cat { since, b } => {
                let whole = if since > 0 {
                    let mut p = prefix_iter.next().unwrap_or_default();
                    append_builder(&mut p, b);
                    p
                } else {
                    b
                };
                let (codes, levels) = whole.finish();
                ColumnData::Cat { codes, levels }
            }
        };
        table.push(Column::new(name, data))?;
    }
    Ok(table)
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes())
}

fn reader_at_data(
    text: &str,
    delimiter: u8,
) -> std::result::Result<csv::Reader<&[u8]>, csv::Error> {
    let mut r = reader(text, delimiter);
    r.headers()?;
    Ok(r)
}

fn push(builder: &mut Builder, field: &str, row: usize, comma: bool) {
    match builder {
        Builder::Num(values) => {
            // Numbers first: the common case, and `parse_number` has a fast path for codes.
            if let Some(x) = parse_number(field, comma) {
                values.push(x);
            } else if sniff::is_na(field) {
                values.push(f64::NAN);
            } else {
                let mut b = CatBuilder::with_capacity(values.capacity().max(row + 1));
                push_text(&mut b, field);
                *builder = Builder::Cat { since: row, b };
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
        if c == crate::table::MISSING_CODE {
            head.push_missing();
        } else {
            head.push(&levels[c as usize]);
        }
    }
}

fn csv_error(e: csv::Error, file: &Path) -> Error {
    let line = e.position().map(|p| p.line() as usize);
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
