//! A classification of municipalities into employment areas and regions: a CSV (or Excel)
//! file with columns `municipality`, `area` and `region` (any two of them; other columns such
//! as names are ignored). It maps a register's unit codes up to the level the survey reports.

use super::key_text;
use super::metrics::Level;
use crate::error::Location;
use crate::table::read::{read_table, ReadOptions};
use crate::table::Table;
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The classification as read: one row per line of the file.
#[derive(Debug, Clone)]
pub struct Classification {
    table: Table,
}

impl Classification {
    pub fn load(path: &Path, options: &ReadOptions) -> Result<Classification> {
        let table = read_table(path, options)?;
        Self::from_table(table)
    }

    /// Checks a classification table: at least two level columns, no empty codes, and every
    /// code of a lower level in one unit of each higher level.
    pub fn from_table(table: Table) -> Result<Classification> {
        let present: Vec<Level> = LEVELS
            .into_iter()
            .filter(|l| table.column(l.name()).is_some())
            .collect();
        if present.len() < 2 {
            return Err(Error::input(
                Location::source(table.source.clone()),
                None,
                format!(
                    "a classification needs at least two of the columns `municipality`, `area`, `region`; the file has {}",
                    table.names().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let c = Classification { table };
        for (i, &from) in present.iter().enumerate() {
            for &to in &present[i + 1..] {
                c.mapping(from, to)?;
            }
        }
        Ok(c)
    }

    /// Whether the classification has a column for `level`.
    pub fn has(&self, level: Level) -> bool {
        self.table.column(level.name()).is_some()
    }

    /// The map from codes of `from` to codes of `to` (a higher level). A code listed with two
    /// different units of `to` is a conflicting classification: an error naming both rows.
    pub fn mapping(&self, from: Level, to: Level) -> Result<HashMap<String, String>> {
        let missing = |l: Level| {
            Error::input(
                Location::source(self.table.source.clone()).column(l.name()),
                None,
                format!(
                    "the classification has no `{}` column, needed to map {} codes to {}s",
                    l.name(),
                    from.name(),
                    to.name()
                ),
            )
        };
        let fc = self
            .table
            .column(from.name())
            .ok_or_else(|| missing(from))?;
        let tc = self.table.column(to.name()).ok_or_else(|| missing(to))?;
        let mut map: HashMap<String, (String, usize)> = HashMap::new();
        for i in 0..self.table.nrows() {
            let at = |col: &str| {
                Location::source(self.table.source.clone())
                    .row(i + 1)
                    .column(col)
            };
            let f = key_text(fc, i).ok_or_else(|| {
                Error::input(
                    at(from.name()),
                    None,
                    "expected a code, found an empty cell",
                )
            })?;
            let t = key_text(tc, i).ok_or_else(|| {
                Error::input(at(to.name()), None, "expected a code, found an empty cell")
            })?;
            match map.get(&f) {
                Some((other, row)) if *other != t => {
                    return Err(Error::input(
                        at(to.name()),
                        Some(t.clone()),
                        format!(
                            "conflicting classification: {} {f} is in {} {other} on row {row} and in {} {t} here",
                            from.name(),
                            to.name(),
                            to.name()
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    map.insert(f, (t, i + 1));
                }
            }
        }
        Ok(map.into_iter().map(|(k, (v, _))| (k, v)).collect())
    }

    /// All codes of `level`, in file order without repeats.
    pub fn codes(&self, level: Level) -> Vec<String> {
        let Some(col) = self.table.column(level.name()) else {
            return Vec::new();
        };
        let mut seen = std::collections::HashSet::new();
        (0..self.table.nrows())
            .filter_map(|i| key_text(col, i))
            .filter(|k| seen.insert(k.clone()))
            .collect()
    }
}

const LEVELS: [Level; 3] = [Level::Municipality, Level::Area, Level::Region];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read::read_delimited_text;

    fn class(text: &str) -> Result<Classification> {
        let mut t = read_delimited_text(text, Path::new("c.csv"), &ReadOptions::default())?;
        t.source = Some("c.csv".into());
        Classification::from_table(t)
    }

    #[test]
    fn maps_municipalities_up() {
        let c = class("municipality,name,area,region\n091,Helsinki,1,01\n049,Espoo,2,01\n235,Kauniainen,2,01\n837,Tampere,4,06\n").unwrap();
        let m = c.mapping(Level::Municipality, Level::Area).unwrap();
        assert_eq!(m["91"], "1");
        assert_eq!(m["235"], "2");
        let r = c.mapping(Level::Area, Level::Region).unwrap();
        assert_eq!(r["4"], "6");
        assert_eq!(c.codes(Level::Area), ["1", "2", "4"]);
    }

    #[test]
    fn conflicts_and_gaps_are_errors() {
        let e = class("municipality,area\n91,1\n49,2\n91,3\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "c.csv, row 3, column `area`: conflicting classification: municipality 91 is in area 1 on row 1 and in area 3 here (found `3`)"
        );
        let e = class("municipality,area,region\n91,1,1\n49,1,2\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("area 1 is in region 1 on row 1 and in region 2 here"),
            "{e}"
        );
        let e = class("municipality,name\n91,Helsinki\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs at least two of the columns"), "{e}");
        let e = class("municipality,area\n91,\n49,2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1, column `area`: expected a code"), "{e}");
    }
}
