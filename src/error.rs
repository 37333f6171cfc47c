//! Errors and warnings: what went wrong, where (file, row, column), and the exit code it maps to.
//!
//! A command that runs and finds problems (validation errors) is not an error: it returns
//! [`Outcome::Problems`] and exits 1. Errors exit 2, except [`Error::NotConverged`] (exit 1:
//! the inputs were valid, the data could not meet the targets).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input a problem sits. Rows are 1-based data rows (the header is row 0 for CSV);
/// lines are 1-based text lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub row: Option<usize>,
    pub column: Option<String>,
}

impl Location {
    pub fn file(path: impl AsRef<Path>) -> Self {
        Location {
            file: Some(path.as_ref().to_path_buf()),
            ..Default::default()
        }
    }
    /// A location in a file that may be unknown (standard input, a table built in memory).
    pub fn source(file: Option<PathBuf>) -> Self {
        Location {
            file,
            ..Default::default()
        }
    }

    pub fn row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }
    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

/// The 1-based line of byte `offset` in `text` (for spans reported by the TOML parser).
pub fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The dotted key (`items.age.min`) of the key or value at byte `offset` of TOML text, for
/// messages about a value of the wrong type; `None` when the text does not parse or nothing
/// sits there.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    fn find(table: &DeTable, offset: usize, path: &mut Vec<String>) -> bool {
        for (key, value) in table.iter() {
            path.push(key.get_ref().to_string());
            let here = key.span().contains(&offset)
                || match value.get_ref() {
                    DeValue::Table(t) => find(t, offset, path) || value.span().contains(&offset),
                    DeValue::Array(items) => items.iter().any(|item| match item.get_ref() {
                        DeValue::Table(t) => find(t, offset, path),
                        _ => item.span().contains(&offset),
                    }),
                    _ => value.span().contains(&offset),
                };
            if here {
                return true;
            }
            path.pop();
        }
        false
    }
    let doc = DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    find(doc.get_ref(), offset, &mut path).then(|| path.join("."))
}

/// The line of a key's value in TOML text (`key` dotted for nested tables); with `item`, the
/// line of the array element that is that string.
pub fn line_of_value(text: &str, key: &str, item: Option<&str>) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref() == part)?;
        match (value.get_ref(), parts.peek()) {
            (DeValue::Table(t), Some(_)) => table = t,
            (_, Some(_)) => return None,
            (DeValue::Array(items), None) if item.is_some() => {
                let at = items.iter().find(
                    |v| matches!(v.get_ref(), DeValue::String(s) if Some(s.as_ref()) == item),
                )?;
                return Some(line_of(text, at.span().start));
            }
            (_, None) => return Some(line_of(text, value.span().start)),
        }
    }
    None
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.display().to_string());
        }
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(row) = self.row {
            parts.push(format!("row {row}"));
        }
        if let Some(col) = &self.column {
            parts.push(format!("column `{col}`"));
        }
        if parts.is_empty() {
            f.write_str("<input>")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// The library's error type. Each variant knows its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flags or arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// A value in a data file that cannot be used.
    #[error("{location}: {problem}{}", value_note(.value))]
    Input {
        location: Box<Location>,
        value: Option<String>,
        problem: String,
    },
    /// A specification file (instrument, design, run file) that is wrong.
    #[error("{location}: {problem}{}", key_note(.key))]
    Spec {
        location: Box<Location>,
        key: Option<String>,
        problem: String,
    },
    /// A survey design that cannot be estimated (lonely PSU, bad weights...).
    #[error("{0}")]
    Design(String),
    /// An iterative fit (calibration) that did not reach its tolerance: exit 1, as a problem
    /// found in the data rather than a usage error.
    #[error("{0}")]
    NotConverged(String),
    /// A file that cannot be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn value_note(value: &Option<String>) -> String {
    match value {
        Some(v) => format!(" (found `{}`)", shorten(v)),
        None => String::new(),
    }
}

/// Characters of a value that a message quotes; longer values are cut there.
const QUOTED_CHARS: usize = 40;

/// A value as messages quote it: whole when short, else its first 40 characters and `…` (a
/// field may be megabytes long).
pub fn shorten(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(QUOTED_CHARS) {
        None => std::borrow::Cow::Borrowed(value),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &value[..cut])),
    }
}

fn key_note(key: &Option<String>) -> String {
    match key {
        Some(k) => format!(" [key `{k}`]"),
        None => String::new(),
    }
}

impl Error {
    /// Exit code of the process for this error: 1 for non-convergence, else 2 (bad usage or
    /// unusable input).
    pub fn code(&self) -> i32 {
        match self {
            Error::NotConverged(_) => 1,
            _ => 2,
        }
    }

    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn input(location: Location, value: Option<String>, problem: impl Into<String>) -> Self {
        Error::Input {
            location: Box::new(location),
            value,
            problem: problem.into(),
        }
    }

    /// An error in a specification file; an empty key is no key.
    pub fn spec(location: Location, key: Option<&str>, problem: impl Into<String>) -> Self {
        Error::Spec {
            location: Box::new(location),
            key: key.filter(|k| !k.is_empty()).map(str::to_string),
            problem: problem.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How a command that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything fine: exit 0.
    Success,
    /// The command ran but found problems (validation errors, non-convergence): exit 1.
    Problems,
}

impl Outcome {
    pub fn code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Problems => 1,
        }
    }
}

/// A non-fatal issue, with what to do about it. Printed on stderr and kept for manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
    pub remedy: Option<String>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(r) = &self.remedy {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_in_messages() {
        assert_eq!(shorten("1e400"), "1e400");
        let long = "9".repeat(10_000_000);
        let e = Error::input(
            Location::file("a.csv").row(2),
            Some(long),
            "expected a number",
        );
        let msg = e.to_string();
        assert!(msg.len() < 200, "{}", msg.len());
        assert!(
            msg.ends_with(&format!("(found `{}…`)", "9".repeat(40))),
            "{msg}"
        );
        assert_eq!(shorten(&"ä".repeat(41)), format!("{}…", "ä".repeat(40)));
    }

    #[test]
    fn an_empty_key_is_no_key() {
        let e = Error::spec(
            Location::file("i.toml").line(1),
            Some(""),
            "missing field `id`",
        );
        assert_eq!(e.to_string(), "i.toml, line 1: missing field `id`");
    }

    #[test]
    fn keys_and_lines_are_found_in_toml_text() {
        let text = "id = \"x\"\n\n[items.age]\nmin = \"18\"\nmax = 99\n\n[design]\nmargin = [\n  \"a.csv\",\n  \"b.csv\",\n]\n";
        let at = text.find("\"18\"").unwrap();
        assert_eq!(key_at(text, at).as_deref(), Some("items.age.min"));
        assert_eq!(key_at(text, 0).as_deref(), Some("id"));
        assert_eq!(key_at("a = [", 0), None);
        assert_eq!(line_of_value(text, "items.age.max", None), Some(5));
        assert_eq!(
            line_of_value(text, "design.margin", Some("b.csv")),
            Some(10)
        );
        assert_eq!(line_of_value(text, "design.nothing", None), None);
    }
}
