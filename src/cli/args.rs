//! Arguments shared by several subcommands, defined once.

use crate::output::Format;
use crate::table::read::ReadOptions;
use crate::table::sniff::{Decimal, Encoding};
use std::path::PathBuf;

/// How to read a data file.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Field delimiter of text files: `,`, `;`, `tab` or any single character (default: detected
    /// from the header line).
    #[arg(long, value_parser = parse_delimiter, value_name = "CHAR")]
    pub delimiter: Option<u8>,
    /// Text encoding (default: UTF-8, or Windows-1252 when the bytes are not UTF-8).
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: Encoding,
    /// Decimal separator of numbers in text files (default: comma when the delimiter is `;` or
    /// a tab, else point).
    #[arg(long, value_enum, default_value = "auto")]
    pub decimal: Decimal,
    /// Worksheet of an .xlsx/.ods file (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

impl InputArgs {
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            encoding: self.encoding,
            decimal: self.decimal,
            sheet: self.sheet.clone(),
        }
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "`{s}` is not a single-character delimiter; use `,`, `;`, `tab` or `|`"
        )),
    }
}

/// Where and how to write a table.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Write to FILE instead of standard output; the extension picks the format.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format (default: from the extension of -o, else csv).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

impl OutputArgs {
    pub fn format(&self) -> crate::Result<Format> {
        Format::choose(self.format, self.output.as_deref())
    }
}

/// The design flags shared by weight, estimate, gaps and compare (design section 3).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DesignArgs {
    /// Design file (TOML) with any of the flags below; flags override it.
    #[arg(long, value_name = "FILE.toml", help_heading = "Design")]
    pub design: Option<PathBuf>,
    #[command(flatten)]
    pub flags: crate::design::DesignFlags,
}

impl DesignArgs {
    /// The design file overlaid with the flags.
    pub fn resolve(&self) -> crate::Result<crate::design::DesignOptions> {
        crate::design::options::resolve(self.spec()?, self.flags.clone())
    }

    /// The design file, if one was given.
    pub fn spec(&self) -> crate::Result<Option<crate::design::DesignSpec>> {
        self.design
            .as_deref()
            .map(crate::design::DesignSpec::load)
            .transpose()
    }
}
