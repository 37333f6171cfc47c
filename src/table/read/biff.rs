//! The sheets of an `.xls` workbook, checked before calamine reads them.
//!
//! calamine reads every sheet of an `.xls` when it opens the file: it reserves room for the
//! area a sheet's DIMENSIONS record declares, then makes a dense range spanning the rows and
//! columns of the sheet's cells (and another of its formulas). A damaged file of a few
//! kilobytes can declare a huge area, an area that ends before it starts, a cell far from
//! the others, or a sheet that starts past the end of the workbook stream: gigabytes
//! reserved, an allocation that aborts the process, or a panic. This walks the workbook
//! stream's records as calamine does (each sheet from its BOUNDSHEET offset to its EOF,
//! skipping embedded substreams) and refuses such a workbook with a message; so are the
//! records calamine reads at fixed places without checking their length (FILEPASS,
//! CODEPAGE, DATEMODE, BOF, BOUNDSHEET, LBL, MERGECELLS) when they are too short. A sheet may
//! span at most the cells of a whole sheet of the format (65,536 rows × 256 columns), and
//! the sheets together 50 million cells, the limit of an `.ods` sheet; and, as for `.xlsx`
//! and `.ods` sheets ([`Extent::check`]), a sheet's values and formulas spread over more than
//! a million places must fill one in sixteen of them: a 5 KB file with two cells at opposite
//! corners of a sheet would otherwise cost a gigabyte.

use super::excel::Extent;
use crate::error::{Location, Result};
use crate::Error;
use std::path::Path;

/// The cells of one full `.xls` (BIFF8) sheet: the most one sheet may span.
const SHEET_CELLS: u64 = 65_536 * 256;

/// The most cells the sheets may span together, as for an `.ods` (calamine holds each about
/// twice, some 70 bytes a cell with its reservation: 3.5 GB).
const WORKBOOK_CELLS: u64 = 50_000_000;

/// One record of the stream: its type and data (CONTINUE records are skipped, as they never
/// carry a cell's place).
struct Records<'a> {
    stream: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    /// `None` at the end, or at a record cut short (calamine stops there with its own error).
    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        loop {
            let head = self.stream.get(..4)?;
            let typ = u16::from_le_bytes([head[0], head[1]]);
            let len = u16::from_le_bytes([head[2], head[3]]) as usize;
            let data = self.stream.get(4..4 + len)?;
            self.stream = &self.stream[4 + len..];
            if typ != 0x003C {
                return Some((typ, data));
            }
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2)
        .map(|x| u64::from(u16::from_le_bytes([x[0], x[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 4)
        .map(|x| u64::from(u32::from_le_bytes([x[0], x[1], x[2], x[3]])))
}

/// Adds the cell at (`row`, `col`), or a run of `n` cells to its right.
fn add(extent: &mut Extent, row: u64, col: u64, n: u64) {
    extent.add_block((row, 1), (col, n));
}

/// The cells of the smallest range holding an extent's cells.
fn cells_of(extent: &Extent) -> u64 {
    let (rows, cols) = extent.size();
    rows.saturating_mul(cols)
}

/// A sheet's name from its BOUNDSHEET record (after offset, visibility and type: the name's
/// length, then in BIFF8 a flag for two-byte characters); `sheet k` when it cannot be read.
fn sheet_name(data: &[u8], biff8: bool, k: usize) -> String {
    let fallback = || format!("sheet {}", k + 1);
    let Some(&len) = data.get(6) else {
        return fallback();
    };
    let len = usize::from(len);
    let (wide, at) = match (biff8, data.get(7)) {
        (true, Some(&flag)) => (flag & 1 == 1, 8),
        (true, None) => return fallback(),
        (false, _) => (false, 7),
    };
    let name = if wide {
        let Some(bytes) = data.get(at..at + 2 * len) else {
            return fallback();
        };
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        let Some(bytes) = data.get(at..at + len) else {
            return fallback();
        };
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    name.replace('\0', "")
}

/// Refuses a workbook stream with a sheet that would make calamine reserve or fill more
/// cells than a whole sheet holds, sheets that would together pass [`WORKBOOK_CELLS`],
/// records that place a sheet or an area where calamine would fail, or records too short
/// for what calamine reads of them.
pub(super) fn check(stream: &[u8], file: &Path) -> Result<()> {
    let refuse = |what: String| {
        Error::input(
            Location::file(file),
            None,
            format!(
                "cannot read the workbook: {what}; the file is damaged, save it again from the program that made it"
            ),
        )
    };
    // The sheets' offsets, from the BOUNDSHEET records before the globals' EOF; and the
    // globals' records that calamine reads at fixed places without checking their length.
    let short = |typ: u16, len: usize, need: usize| {
        refuse(format!(
            "a record of type {typ:#06x} has {len} bytes where at least {need} are needed"
        ))
    };
    let mut offsets: Vec<(u64, String)> = Vec::new();
    let mut biff8 = true;
    for (typ, data) in (Records { stream }) {
        let need = match typ {
            // FILEPASS, CODEPAGE, DATEMODE, BOF: a 16-bit field first.
            0x002F | 0x0042 | 0x0022 | 0x0809 => 2,
            // BOUNDSHEET: offset, visibility, type, then the name's length.
            0x0085 => 7,
            // LBL: up to the formula's length.
            0x0018 => 6,
            _ => 0,
        };
        if data.len() < need {
            return Err(short(typ, data.len(), need));
        }
        match typ {
            0x0085 => {
                let name = sheet_name(data, biff8, offsets.len());
                offsets.extend(u32_at(data, 0).map(|at| (at, name)));
            }
            // The version of the format, as calamine reads it (0 also means BIFF8).
            0x0809 => {
                biff8 = !matches!(
                    u16_at(data, 0),
                    Some(0x0200 | 0x0002 | 0x0007 | 0x0300 | 0x0400 | 0x0500)
                )
            }
            0x000A => break,
            _ => {}
        }
    }
    let mut total = 0u64;
    for (k, (at, name)) in offsets.iter().enumerate() {
        let at = *at;
        let Some(sheet) = stream.get(at as usize..) else {
            return Err(refuse(format!(
                "sheet {} starts at byte {at} of the workbook stream, which has {} bytes",
                k + 1,
                stream.len()
            )));
        };
        let (mut values, mut formulas, mut declared) = (Extent::default(), Extent::default(), 0u64);
        let (mut depth, mut seen_bof, mut formula) = (0usize, false, None);
        for (typ, data) in (Records { stream: sheet }) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let place = || Some((u16_at(data, 0)?, u16_at(data, 2)?));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                // DIMENSIONS: calamine reserves (last row − first row + 1) × columns.
                0x0200 => {
                    let (rf, rl, cf, cl) = match data.len() {
                        10 => (
                            u16_at(data, 0),
                            u16_at(data, 2),
                            u16_at(data, 4),
                            u16_at(data, 6),
                        ),
                        14 | 16 => (
                            u32_at(data, 0),
                            u32_at(data, 4),
                            u16_at(data, 8),
                            u16_at(data, 10),
                        ),
                        _ => continue,
                    };
                    let (Some(rf), Some(rl), Some(cf), Some(cl)) = (rf, rl, cf, cl) else {
                        continue;
                    };
                    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                    if rl >= 1 && cl >= 1 {
                        if rf > rl - 1 {
                            return Err(refuse(format!(
                                "sheet {} declares its used rows as {} to {}, which end before they start",
                                k + 1,
                                rf + 1,
                                rl
                            )));
                        }
                        declared = declared.max((rl - rf) * (cl - cf));
                    }
                }
                // NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD => {
                    if let Some((r, c)) = place() {
                        add(&mut values, r, c, 1);
                    }
                }
                // FORMULA (its value's place, also for the STRING after it).
                0x0006 if data.len() >= 20 => {
                    formula = place();
                    if let Some((r, c)) = formula {
                        add(&mut values, r, c, 1);
                        add(&mut formulas, r, c, 1);
                    }
                }
                0x0207 => {
                    if let Some((r, c)) = formula {
                        add(&mut values, r, c, 1);
                    }
                }
                // MERGECELLS: a count, then 8 bytes a merged area.
                0x00E5 => {
                    let count = u16_at(data, 0).unwrap_or(0) as usize;
                    let need = 2 + 8 * count;
                    if data.len() < need {
                        return Err(short(typ, data.len(), need));
                    }
                }
                // MULRK: a row's run of columns, first to last.
                0x00BD if data.len() >= 6 => {
                    if let (Some((r, first)), Some(last)) = (place(), u16_at(data, data.len() - 2))
                    {
                        if last >= first && data.len() as u64 == 6 + 6 * (last - first + 1) {
                            add(&mut values, r, first, last - first + 1);
                        }
                    }
                }
                _ => {}
            }
        }
        let cells = declared.max(cells_of(&values)).max(cells_of(&formulas));
        if cells > SHEET_CELLS {
            return Err(refuse(format!(
                "sheet {} spans {cells} cells, more than the {SHEET_CELLS} of a whole .xls sheet (65,536 rows × 256 columns)",
                k + 1
            )));
        }
        values.check(file, name, "values")?;
        formulas.check(file, name, "formulas")?;
        total += cells;
        if total > WORKBOOK_CELLS {
            return Err(refuse(format!(
                "its sheets span {total} cells up to sheet {}, more than the {WORKBOOK_CELLS} tasa reads from a workbook",
                k + 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    /// A workbook stream: globals with one BOUNDSHEET per sheet, then the sheets' records.
    fn stream(sheets: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let bof = record(0x0809, &[0; 16]);
        let eof = record(0x000A, &[]);
        let globals_len = bof.len() + sheets.len() * (4 + 9) + eof.len();
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        for recs in sheets {
            let mut b = bof.clone();
            for r in recs {
                b.extend(r);
            }
            b.extend(&eof);
            bodies.push(b);
        }
        let mut out = bof.clone();
        let mut at = globals_len;
        for b in &bodies {
            let mut data = (at as u32).to_le_bytes().to_vec();
            // Visible worksheet `A` (one one-byte character).
            data.extend([0, 0, 1, 0, b'A']);
            out.extend(record(0x0085, &data));
            at += b.len();
        }
        out.extend(&eof);
        for b in bodies {
            out.extend(b);
        }
        out
    }

    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0; 10]);
        record(0x0203, &d)
    }

    fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
        let mut d = rf.to_le_bytes().to_vec();
        d.extend(rl.to_le_bytes());
        d.extend(cf.to_le_bytes());
        d.extend(cl.to_le_bytes());
        d.extend([0, 0]);
        record(0x0200, &d)
    }

    fn check_of(s: &[u8]) -> std::result::Result<(), String> {
        check(s, Path::new("w.xls")).map_err(|e| e.to_string())
    }

    #[test]
    fn ordinary_sheets_pass() {
        let s = stream(&[
            vec![dimensions(0, 3, 0, 2), number(0, 0), number(2, 1)],
            vec![number(65_535, 255), number(65_535, 0)],
        ]);
        check_of(&s).unwrap();
    }

    #[test]
    fn damaged_sheets_are_refused() {
        // A cell far from the others: 65,536 rows × 4,097 columns.
        let far = stream(&[vec![number(0, 0), number(65_535, 4_096)]]);
        let e = check_of(&far).unwrap_err();
        assert!(e.contains("w.xls: cannot read the workbook: sheet 1 spans 268500992 cells, more than the 16777216 of a whole .xls sheet (65,536 rows × 256 columns); the file is damaged"), "{e}");
        // A declared area of 2³² rows.
        let huge = stream(&[vec![dimensions(0, u32::MAX, 0, 10)]]);
        assert!(check_of(&huge).unwrap_err().contains("sheet 1 spans"));
        // An area that ends before it starts.
        let reversed = stream(&[vec![dimensions(10, 5, 0, 2)]]);
        let e = check_of(&reversed).unwrap_err();
        assert!(
            e.contains("sheet 1 declares its used rows as 11 to 5, which end before they start"),
            "{e}"
        );
        // Two cells at opposite corners: a whole sheet's range for two values.
        let corners = stream(&[vec![number(0, 0), number(65_535, 255)]]);
        let e = check_of(&corners).unwrap_err();
        assert!(
            e.contains("w.xls: sheet `A` has 2 cells with values spread over A1:IV65536 (65536 rows × 256 columns), too large a range to read; the cell IV65536 lies far from the rest"),
            "{e}"
        );
        // Sheets declaring a whole sheet's area pass one by one, but not beyond 50 million
        // cells in all (the third).
        let full = || vec![dimensions(0, 65_536, 0, 256)];
        check_of(&stream(&[full(), full()])).unwrap();
        let three = stream(&[full(), full(), full()]);
        let e = check_of(&three).unwrap_err();
        assert!(
            e.contains("its sheets span 50331648 cells up to sheet 3, more than the 50000000 tasa reads from a workbook"),
            "{e}"
        );
        // A sheet past the end of the stream.
        let mut past = stream(&[vec![number(0, 0)]]);
        let at = past.len() as u32 + 100;
        // The first BOUNDSHEET's offset sits after the globals' BOF record (20 bytes) and the
        // BOUNDSHEET's own header (4).
        past[24..28].copy_from_slice(&at.to_le_bytes());
        let e = check_of(&past).unwrap_err();
        assert!(e.contains("sheet 1 starts at byte"), "{e}");
        // Records that calamine reads at fixed places, cut short.
        let mut globals = record(0x0809, &[0; 16]);
        globals.extend(record(0x002F, &[]));
        let e = check_of(&globals).unwrap_err();
        assert!(
            e.contains("a record of type 0x002f has 0 bytes where at least 2 are needed"),
            "{e}"
        );
        let mut merged = stream(&[vec![number(0, 0)]]);
        let at = merged.len() - 4;
        merged.splice(at..at, record(0x00E5, &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        let e = check_of(&merged).unwrap_err();
        assert!(
            e.contains("a record of type 0x00e5 has 10 bytes where at least 18 are needed"),
            "{e}"
        );
    }
}
