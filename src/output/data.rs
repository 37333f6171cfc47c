//! Writing respondent-level tables (the data files `simulate`, `weight` and person-level
//! `join` produce) as CSV. Numbers are written at full precision, whole numbers without a
//! decimal point; text (values and column names) as [`TextCells`] says, so by default a value
//! a spreadsheet would run as a formula gets a leading `'`.
//!
//! The bytes are made here rather than through `csv::Writer`: numbers never need quoting and
//! each text level is quoted once per file, so a row is a run of buffer appends. Blocks of rows
//! are formatted in parallel and written in order (a million rows × 60 columns is 130 MB).

use super::tidy::TextCells;
use crate::table::{push_number, ColumnData, Table, MISSING_CODE};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// Rows formatted by one task; a batch of blocks is held in memory at a time.
const BLOCK_ROWS: usize = 8192;
const BATCH_BLOCKS: usize = 16;

/// Writes `table` as a CSV file, atomically.
pub fn write_csv(path: &Path, table: &Table, text: TextCells) -> crate::Result<()> {
    super::atomic::write_file(path, |w| {
        let io = |e: std::io::Error| crate::Error::io(path, e);
        write_header(table, text, w).map_err(io)?;
        write_rows(table, text, w).map_err(io)
    })
}

/// Writes the header row.
pub fn write_header(
    table: &Table,
    text: TextCells,
    w: &mut (impl Write + ?Sized),
) -> std::io::Result<()> {
    let mut line = Vec::new();
    for (j, name) in table.names().enumerate() {
        if j > 0 {
            line.push(b',');
        }
        push_text(&text.apply(name), &mut line);
    }
    if table.ncols() == 1 && line.is_empty() {
        line.extend_from_slice(b"\"\"");
    }
    line.push(b'\n');
    w.write_all(&line)
}

/// Writes the rows of `table` (no header).
pub fn write_rows(
    table: &Table,
    text: TextCells,
    w: &mut (impl Write + ?Sized),
) -> std::io::Result<()> {
    let columns: Vec<Field> = table
        .columns()
        .iter()
        .map(|c| match &c.data {
            ColumnData::Num(v) => Field::Num(v),
            ColumnData::Cat { codes, levels } => Field::Cat {
                codes,
                levels: levels
                    .iter()
                    .map(|l| {
                        let mut b = Vec::with_capacity(l.len() + 1);
                        push_text(&text.apply(l), &mut b);
                        b
                    })
                    .collect(),
            },
        })
        .collect();
    let n = table.nrows();
    let batch = BLOCK_ROWS * BATCH_BLOCKS;
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch).min(n);
        let blocks: Vec<Vec<u8>> = (start..end)
            .step_by(BLOCK_ROWS)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| format_block(&columns, from, (from + BLOCK_ROWS).min(end)))
            .collect();
        for block in &blocks {
            w.write_all(block)?;
        }
    }
    Ok(())
}

/// One column, ready to write.
enum Field<'a> {
    Num(&'a [f64]),
    /// Levels already quoted where CSV needs it.
    Cat {
        codes: &'a [u32],
        levels: Vec<Vec<u8>>,
    },
}

/// The CSV text of rows `from..to`.
fn format_block(columns: &[Field], from: usize, to: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity((to - from) * columns.len() * 8);
    for i in from..to {
        let row_start = out.len();
        for (j, col) in columns.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            match col {
                Field::Num(v) => {
                    if !v[i].is_nan() {
                        push_number(v[i], &mut out);
                    }
                }
                Field::Cat { codes, levels } => {
                    if codes[i] != MISSING_CODE {
                        out.extend_from_slice(&levels[codes[i] as usize]);
                    }
                }
            }
        }
        // A one-column row with a missing value would be a blank line, which readers skip.
        if columns.len() == 1 && out.len() == row_start {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
    }
    out
}

/// Appends `s` as a CSV field: quoted (with doubled quotes) when it holds a comma, a quote or
/// a line break, or starts or ends with a space that a reader might trim.
fn push_text(s: &str, out: &mut Vec<u8>) {
    let needs_quotes = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(' ')
        || s.ends_with(' ');
    if !needs_quotes {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    fn text(t: &Table) -> String {
        written(t, TextCells::Defused)
    }

    fn written(t: &Table, text: TextCells) -> String {
        let mut w = Vec::new();
        write_header(t, text, &mut w).unwrap();
        write_rows(t, text, &mut w).unwrap();
        String::from_utf8(w).unwrap()
    }

    #[test]
    fn defuses_text_but_not_numbers_unless_raw() {
        let t = Table::from_columns(vec![
            Column::num("x", vec![-1.0, -0.5]),
            Column::cat_from_strings("=g", &[Some("=HYPERLINK(\"http://x\")"), Some("-2")]),
            Column::cat_from_strings("h", &[Some("\rx"), Some("@SUM(A1)")]),
        ])
        .unwrap();
        assert_eq!(
            written(&t, TextCells::Defused),
            "x,'=g,h\n-1,\"'=HYPERLINK(\"\"http://x\"\")\",\"'\rx\"\n-0.5,-2,'@SUM(A1)\n"
        );
        assert_eq!(
            written(&t, TextCells::Raw),
            "x,=g,h\n-1,\"=HYPERLINK(\"\"http://x\"\")\",\"\rx\"\n-0.5,-2,@SUM(A1)\n"
        );
    }

    #[test]
    fn writes_numbers_and_text() {
        let t = Table::from_columns(vec![
            Column::num("x", vec![1.0, f64::NAN, 0.1 + 0.2]),
            Column::cat_from_strings("g", &[Some("a"), None, Some("b")]),
        ])
        .unwrap();
        assert_eq!(text(&t), "x,g\n1,a\n,\n0.30000000000000004,b\n");
    }

    #[test]
    fn quotes_text_that_needs_it() {
        let t = Table::from_columns(vec![Column::cat_from_strings(
            "a,b",
            &[Some("say \"hi\""), Some("x\ny"), Some(" pad"), None],
        )])
        .unwrap();
        assert_eq!(
            text(&t),
            "\"a,b\"\n\"say \"\"hi\"\"\"\n\"x\ny\"\n\" pad\"\n\"\"\n"
        );
    }

    #[test]
    fn reads_back_what_it_wrote_across_blocks() {
        let n = BLOCK_ROWS * BATCH_BLOCKS + 3 * BLOCK_ROWS + 17;
        let x: Vec<f64> = (0..n).map(|i| (i as f64).sqrt() * 1.5e-3).collect();
        let g: Vec<Option<String>> = (0..n)
            .map(|i| (i % 7 != 0).then(|| format!("g{}", i % 5)))
            .collect();
        let t = Table::from_columns(vec![
            Column::num("x", x.clone()),
            Column::cat_from_strings("g", &g),
        ])
        .unwrap();
        let s = text(&t);
        let mut r = csv::Reader::from_reader(s.as_bytes());
        let mut rows = 0;
        for (i, rec) in r.records().enumerate() {
            let rec = rec.unwrap();
            assert_eq!(rec[0].parse::<f64>().unwrap(), x[i], "row {i}");
            assert_eq!(&rec[1], g[i].as_deref().unwrap_or(""), "row {i}");
            rows += 1;
        }
        assert_eq!(rows, n);
    }
}
