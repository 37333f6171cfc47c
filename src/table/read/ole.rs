//! The OLE compound file (MS-CFB), the container of Excel 97-2003 workbooks (`.xls`) and of
//! encrypted `.xlsx` files, checked before calamine opens it.
//!
//! A compound file is a header and a run of fixed-size sectors; its allocation table (FAT)
//! chains sectors into streams, and small streams live in 64-byte mini sectors inside a
//! mini stream. calamine follows these chains trusting every number, and a damaged or made-up
//! file can make it panic (a sector that lies past the end of the file, a sector cut short)
//! or grow memory without end (a chain that loops). So every chain calamine follows is
//! walked here first: each sector it names must lie whole inside the file, each chain must
//! end, and the allocation tables must hold the sectors they are asked about. Only the
//! container is checked; what the streams hold is calamine's to read.

use crate::error::{Location, Result};
use crate::Error;
use std::path::Path;

/// Sector ids at or above this are markers, not sectors (`DIFSECT`, `FATSECT`, ...).
const MAX_REGULAR: u32 = 0xFFFF_FFFA;
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
/// Streams shorter than this live in mini sectors.
const MINI_CUTOFF: u64 = 4096;
const MINI_SECTOR: u64 = 64;
const DIR_ENTRY: usize = 128;
/// The streams calamine reads from `.xls` workbooks: the workbook (`Workbook`, or `Book` in
/// Excel 5) and its properties.
const READ: [&str; 4] = [
    "Workbook",
    "Book",
    "\u{5}SummaryInformation",
    "\u{5}DocumentSummaryInformation",
];

/// Checks the container of an OLE file (its first bytes are the OLE signature). Headers
/// that calamine refuses by itself (sector sizes other than 512 and 4096 bytes, mini sectors
/// other than 64 bytes, a file shorter than its header) are left to calamine's message.
///
/// Returns the workbook stream (`Workbook`, else `Book`, as calamine looks for them) when the
/// container is sound enough to hold one, for [`super::biff::check`].
pub(super) fn check_compound_file(bytes: &[u8], file: &Path) -> Result<Option<Vec<u8>>> {
    let damaged = |what: String| {
        Error::input(
            Location::file(file),
            None,
            format!(
                "cannot open the file as an Excel 97-2003 workbook (.xls): the file is damaged or cut short ({what}); save it again from the program that made it"
            ),
        )
    };
    if bytes.len() < 512 {
        return Ok(None);
    }
    let size = match u16_at(bytes, 30) {
        9 => 512,
        12 => 4096,
        _ => return Ok(None),
    };
    if u16_at(bytes, 32) != 6 || bytes.len() < size {
        return Ok(None);
    }
    // The header fills the first sector; sector 0 follows it. A partial sector at the end
    // is never read, so it may not be named.
    let sectors = (bytes.len() - size) / size;
    let sector = |id: u32| -> &[u8] {
        let start = size + id as usize * size;
        &bytes[start..start + size]
    };
    let named = |id: u32, what: &str| -> Result<()> {
        if (id as usize) < sectors {
            Ok(())
        } else {
            Err(damaged(format!(
                "the {what} names sector {id}, but the file holds {sectors} whole sectors"
            )))
        }
    };

    // The FAT's own sectors: 109 ids in the header, then a chain of DIFAT sectors, each
    // holding ids and, last, the next DIFAT sector.
    let mut fat_sectors: Vec<u32> = u32s(&bytes[76..512]).collect();
    let mut difat = u32_at(bytes, 68);
    let mut steps = 0;
    while difat < MAX_REGULAR {
        named(difat, "list of allocation-table sectors")?;
        steps += 1;
        if steps > sectors {
            return Err(damaged(
                "the list of allocation-table sectors loops".to_string(),
            ));
        }
        let mut ids: Vec<u32> = u32s(sector(difat)).collect();
        difat = ids.pop().unwrap_or(END_OF_CHAIN);
        fat_sectors.extend(ids);
    }
    let mut fat: Vec<u32> = Vec::new();
    for &id in fat_sectors.iter().filter(|&&id| id < MAX_REGULAR) {
        named(id, "list of allocation-table sectors")?;
        fat.extend(u32s(sector(id)));
    }

    // Follows a chain of sectors through `table` (`count` sectors in all) as calamine does:
    // to its end, or until `need` sectors are read. Returns the ids.
    let chain = |start: u32, table: &[u32], count: usize, need: u64, what: &str| {
        let mut ids: Vec<u32> = Vec::new();
        let mut id = start;
        while id != END_OF_CHAIN && (ids.len() as u64) < need {
            if id as usize >= count {
                return Err(damaged(format!(
                    "the {what} names sector {id}, but the file holds {count} whole sectors"
                )));
            }
            if ids.len() >= count {
                return Err(damaged(format!("the chain of sectors of the {what} loops")));
            }
            ids.push(id);
            if ids.len() as u64 == need {
                break;
            }
            id = match table.get(id as usize) {
                Some(&next) => next,
                None => {
                    return Err(damaged(format!(
                        "the {what} goes through sector {id}, which the allocation table does not cover"
                    )))
                }
            };
        }
        Ok::<_, Error>(ids)
    };

    let dir_ids = chain(u32_at(bytes, 48), &fat, sectors, u64::MAX, "directory")?;
    let directory: Vec<u8> = dir_ids.iter().flat_map(|&id| sector(id)).copied().collect();
    let entries: Vec<&[u8]> = directory.chunks_exact(DIR_ENTRY).collect();
    let Some(root) = entries.first() else {
        // No root entry: calamine says so.
        return Ok(None);
    };
    let stream_len = |entry: &[u8]| {
        if size == 512 {
            u64::from(u32_at(entry, 120))
        } else {
            u64_at(entry, 120)
        }
    };

    // The mini stream (the root entry's stream) and the mini FAT, when there are mini
    // sectors.
    let mini_fat_len = u32_at(bytes, 64) as usize;
    let (mini_fat, mini_sectors) = if mini_fat_len > 0 {
        let root_len = stream_len(root);
        let need = root_len.div_ceil(size as u64).max(1);
        let stream = chain(u32_at(root, 116), &fat, sectors, need, "mini stream")?;
        let table = chain(
            u32_at(bytes, 60),
            &fat,
            sectors,
            mini_fat_len as u64,
            "mini allocation table",
        )?;
        let mini_fat: Vec<u32> = table.iter().flat_map(|&id| u32s(sector(id))).collect();
        let held = (stream.len() as u64 * size as u64).min(root_len);
        (mini_fat, (held / MINI_SECTOR) as usize)
    } else {
        (Vec::new(), 0)
    };

    // calamine finds streams by name whatever the entry's type: every entry with a length
    // is checked, and the streams calamine reads even when empty (it reads a stream's first
    // sector whatever its length).
    for entry in entries.iter().skip(1) {
        let len = stream_len(entry);
        let start = u32_at(entry, 116);
        if len == 0
            && !READ
                .iter()
                .any(|n| entry_name(entry).eq_ignore_ascii_case(n))
        {
            continue;
        }
        if len < MINI_CUTOFF {
            let need = len.div_ceil(MINI_SECTOR).max(1);
            chain(start, &mini_fat, mini_sectors, need, "small stream")?;
        } else {
            chain(start, &fat, sectors, len.div_ceil(size as u64), "stream")?;
        }
    }

    // The workbook stream, gathered as calamine will: a small stream from the mini stream's
    // 64-byte sectors, a large one from whole sectors, cut to its length.
    let named = |want: &str| {
        entries
            .iter()
            .find(|e| entry_name(e).eq_ignore_ascii_case(want))
    };
    let Some(entry) = named("Workbook").or_else(|| named("Book")) else {
        return Ok(None);
    };
    let len = stream_len(entry);
    let start = u32_at(entry, 116);
    let mut out: Vec<u8> = Vec::new();
    if len < MINI_CUTOFF {
        let root_ids = chain(
            u32_at(root, 116),
            &fat,
            sectors,
            stream_len(root).div_ceil(size as u64).max(1),
            "mini stream",
        )?;
        let mini: Vec<u8> = root_ids
            .iter()
            .flat_map(|&id| sector(id))
            .copied()
            .collect();
        let need = len.div_ceil(MINI_SECTOR).max(1);
        for id in chain(start, &mini_fat, mini_sectors, need, "small stream")? {
            let at = id as usize * MINI_SECTOR as usize;
            if let Some(piece) = mini.get(at..at + MINI_SECTOR as usize) {
                out.extend_from_slice(piece);
            }
        }
    } else {
        for id in chain(start, &fat, sectors, len.div_ceil(size as u64), "stream")? {
            out.extend_from_slice(sector(id));
        }
    }
    out.truncate(len as usize);
    Ok(Some(out))
}

/// The name of a directory entry (UTF-16, up to its first NUL).
fn entry_name(entry: &[u8]) -> String {
    let units: Vec<u16> = entry[..64]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

fn u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read::{read_table, ReadOptions};
    use std::path::PathBuf;

    fn repo(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    #[test]
    fn sound_containers_pass() {
        for file in [
            "tests/fixtures/responses.xls",
            "tests/bad_input/spreadsheets/encrypted.xlsx",
        ] {
            let bytes = std::fs::read(repo(file)).unwrap();
            check_compound_file(&bytes, Path::new(file)).unwrap();
        }
    }

    /// Files found by fuzzing (`tests/fuzz_regressions/read_workbook/`) on which calamine
    /// panicked (a sector cut short by the end of the file, a sector past it) or ran out of
    /// memory (a chain of sectors that loops): each is an error naming the file.
    #[test]
    fn damaged_containers_are_errors() {
        for (name, expected) in [
            ("xls-sector-cut-short.xls", "whole sectors"),
            ("xls-sector-past-end.xls", "whole sectors"),
            ("xls-chain-loops.xls", "loops"),
        ] {
            let path = repo("tests/fuzz_regressions/read_workbook").join(name);
            let e = read_table(&path, &ReadOptions::default()).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("{}: cannot open the file as an Excel 97-2003 workbook (.xls): the file is damaged or cut short (", path.display())),
                "{msg}"
            );
            assert!(msg.contains(expected), "{name}: {msg}");
            assert_eq!(e.code(), 2);
        }
    }
}
