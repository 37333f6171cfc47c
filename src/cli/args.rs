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
    /// Sampling weight column (default: from the fpc, or 1).
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub weight: Option<String>,
    /// Selection probability column (weight = 1/p).
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub probs: Option<String>,
    /// `brewer`: without-replacement PPS variance with Brewer's approximation (fpc = inclusion probabilities).
    #[arg(long, value_name = "METHOD", help_heading = "Design")]
    pub pps: Option<String>,
    /// Stratum column.
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub strata: Option<String>,
    /// PSU column; repeat for later stages (--cluster dnum --cluster snum).
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub cluster: Vec<String>,
    /// Finite population correction per stage: population sizes (> 1) or sampling fractions.
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub fpc: Vec<String>,
    /// PSU ids are unique only within strata.
    #[arg(long, help_heading = "Design")]
    pub nest: bool,
    /// Single-PSU strata: fail (default), adjust, average, certainty or remove.
    #[arg(long, value_enum, value_name = "POLICY", help_heading = "Design")]
    pub lonely_psu: Option<crate::design::LonelyPsu>,
    /// Replicate weight columns by glob, in file order (`repw*`). Each holds a full replicate weight.
    #[arg(long, value_name = "PATTERN", help_heading = "Replicate weights")]
    pub repweights: Option<String>,
    #[arg(
        long,
        value_enum,
        value_name = "TYPE",
        help_heading = "Replicate weights"
    )]
    pub rep_type: Option<crate::design::RepType>,
    /// The whole variance multiplier (for Fay it already includes 1/(1-rho)^2).
    #[arg(long, value_name = "X", help_heading = "Replicate weights")]
    pub rep_scale: Option<f64>,
    /// Per-replicate multipliers, comma-separated, in the order of the replicate columns.
    #[arg(
        long,
        value_name = "A,B,...",
        value_delimiter = ',',
        help_heading = "Replicate weights"
    )]
    pub rep_rscales: Option<Vec<f64>>,
    #[arg(long, value_name = "RHO", help_heading = "Replicate weights")]
    pub fay_rho: Option<f64>,
    /// Centre replicate deviations on the full-sample estimate.
    #[arg(long, help_heading = "Replicate weights")]
    pub mse: bool,
    /// Accept negative weights (they can come from unbounded linear calibration).
    #[arg(long, help_heading = "Design")]
    pub allow_negative_weights: bool,
}

impl DesignArgs {
    /// The design file overlaid with the flags.
    pub fn resolve(&self) -> crate::Result<crate::design::DesignOptions> {
        let spec = match &self.design {
            Some(p) => Some(crate::design::DesignSpec::load(p)?),
            None => None,
        };
        let DesignArgs {
            design: _,
            weight,
            probs,
            pps,
            strata,
            cluster,
            fpc,
            nest,
            lonely_psu,
            repweights,
            rep_type,
            rep_scale,
            rep_rscales,
            fay_rho,
            mse,
            allow_negative_weights,
        } = self.clone();
        crate::design::options::resolve(
            spec,
            crate::design::DesignFlags {
                weight,
                probs,
                pps,
                strata,
                cluster,
                fpc,
                nest,
                lonely_psu,
                repweights,
                rep_type,
                rep_scale,
                rep_rscales,
                fay_rho,
                mse,
                allow_negative_weights,
            },
        )
    }
}
