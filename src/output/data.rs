//! Writing respondent-level tables (the data files `simulate` and `weight` produce) as CSV.
//! Numbers are written at full precision, whole numbers without a decimal point.

use crate::table::{ColumnData, Table, MISSING_CODE};
use std::io::Write;
use std::path::Path;

/// Writes `table` as a CSV file, atomically.
pub fn write_csv(path: &Path, table: &Table) -> crate::Result<()> {
    super::atomic::write_file(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let io = |e: csv::Error| crate::Error::io(path, std::io::Error::other(e));
        write_header(table, &mut csv).map_err(io)?;
        write_rows(table, &mut csv).map_err(io)?;
        csv.flush().map_err(|e| crate::Error::io(path, e))
    })
}

/// Writes the header row.
pub fn write_header(table: &Table, w: &mut csv::Writer<impl Write>) -> csv::Result<()> {
    w.write_record(table.names())
}

/// Writes the rows of `table` (no header), reusing one record buffer.
pub fn write_rows(table: &Table, w: &mut csv::Writer<impl Write>) -> csv::Result<()> {
    let mut buf = String::with_capacity(32);
    let mut fields: Vec<String> = vec![String::new(); table.ncols()];
    for i in 0..table.nrows() {
        for (field, col) in fields.iter_mut().zip(table.columns()) {
            field.clear();
            match &col.data {
                ColumnData::Num(v) => {
                    let x = v[i];
                    if !x.is_nan() {
                        buf.clear();
                        format_into(x, &mut buf);
                        field.push_str(&buf);
                    }
                }
                ColumnData::Cat { codes, levels } => {
                    if codes[i] != MISSING_CODE {
                        field.push_str(&levels[codes[i] as usize]);
                    }
                }
            }
        }
        w.write_record(&fields)?;
    }
    Ok(())
}

fn format_into(x: f64, out: &mut String) {
    use std::fmt::Write as _;
    if x == x.trunc() && x.abs() < 1e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    #[test]
    fn writes_numbers_and_text() {
        let t = Table::from_columns(vec![
            Column::num("x", vec![1.0, f64::NAN, 0.1 + 0.2]),
            Column::cat_from_strings("g", &[Some("a"), None, Some("b")]),
        ])
        .unwrap();
        let mut w = csv::Writer::from_writer(Vec::new());
        write_header(&t, &mut w).unwrap();
        write_rows(&t, &mut w).unwrap();
        let s = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(s, "x,g\n1,a\n,\n0.30000000000000004,b\n");
    }
}
