//! Arguments shared by several subcommands, defined once.

use crate::estimate::estimand::{self, Estimand, Target};
use crate::estimate::survey::Survey;
use crate::instrument::derive::{self, InvalidCodes};
use crate::instrument::Instrument;
use crate::output::Format;
use crate::table::read::ReadOptions;
use crate::table::sniff::{Decimal, Encoding};
use crate::Error;
use std::path::{Path, PathBuf};

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

/// The files a command reads, each with what it is, so that no output overwrites one
/// ([`crate::output::atomic::check_outputs`]).
#[derive(Debug, Default)]
pub struct Inputs(Vec<(String, PathBuf)>);

impl Inputs {
    /// Adds a file, when given.
    pub fn add(mut self, what: &str, path: Option<&Path>) -> Self {
        if let Some(p) = path {
            self.0.push((what.to_string(), p.to_path_buf()));
        }
        self
    }

    /// Adds a design file, when given, and the files of the resolved design (margins, a
    /// standard population).
    pub fn design(mut self, file: Option<&Path>, options: &crate::design::DesignOptions) -> Self {
        self = self.add("the design file", file);
        self.0.extend(options.files());
        self
    }

    /// Refuses `outputs` (flag, path if given) that name one of the inputs or one another;
    /// `task` words the message (`the estimates`).
    pub fn check(&self, task: &str, outputs: &[(&str, Option<&Path>)]) -> crate::Result<()> {
        crate::output::atomic::check_outputs(task, outputs, &self.0)
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

/// What to estimate: ad-hoc estimands and an instrument's indicators (estimate, gaps, compare).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EstimandArgs {
    /// Mean of a numeric column.
    #[arg(long, value_name = "VAR", help_heading = "Estimands")]
    pub mean: Vec<String>,
    /// Total of a numeric column; counts per category of a text column; `VAR=VALUE`: one category's count.
    #[arg(long, value_name = "VAR[=VALUE]", help_heading = "Estimands")]
    pub total: Vec<String>,
    /// Proportions of every category (`VAR`) or of one (`VAR=VALUE`).
    #[arg(long, value_name = "VAR[=VALUE]", help_heading = "Estimands")]
    pub prop: Vec<String>,
    /// Ratio of totals, `NUM/DEN`.
    #[arg(long, value_name = "NUM/DEN", help_heading = "Estimands")]
    pub ratio: Vec<String>,
    /// Quantile, `VAR:P` with P in (0, 1).
    #[arg(long, value_name = "VAR:P", help_heading = "Estimands")]
    pub quantile: Vec<String>,
    /// Instrument file: prepares items (missing codes) and derived variables, and defines indicators.
    #[arg(long, short = 'i', help_heading = "Estimands")]
    pub instrument: Option<PathBuf>,
    /// An indicator of the instrument (repeatable).
    #[arg(long, value_name = "ID", help_heading = "Estimands")]
    pub indicator: Vec<String>,
    /// `all`: every indicator of the instrument.
    #[arg(long, value_name = "all", help_heading = "Estimands")]
    pub indicators: Option<String>,
}

impl EstimandArgs {
    /// Reads the data and, with `--instrument`, prepares its items and derived variables.
    pub fn load(
        &self,
        data: &std::path::Path,
        input: &InputArgs,
    ) -> crate::Result<(crate::table::Table, Option<Instrument>)> {
        let raw = crate::table::read::read_table(data, &input.options())?;
        let instrument = self
            .instrument
            .as_deref()
            .map(Instrument::load)
            .transpose()?;
        let table = match &instrument {
            Some(inst) => derive::prepare(inst, raw, InvalidCodes::Error)?,
            None => raw,
        };
        Ok((table, instrument))
    }

    /// The targets: indicators first, then the ad-hoc estimands. With `deferred`, indicators'
    /// values are made when they are estimated ([`Target::made`]).
    pub fn targets(
        &self,
        table: &crate::table::Table,
        instrument: Option<&Instrument>,
        deferred: bool,
    ) -> crate::Result<Vec<Target>> {
        let mut targets: Vec<Target> = Vec::new();
        let mut ids: Vec<String> = self.indicator.clone();
        match self.indicators.as_deref() {
            None => {}
            Some("all") => {
                let inst = instrument
                    .ok_or_else(|| Error::Usage("--indicators all needs --instrument".into()))?;
                ids.extend(inst.indicators.keys().cloned());
            }
            Some(other) => {
                return Err(Error::Usage(format!(
                    "--indicators `{other}`: the only value is `all`"
                )))
            }
        }
        if !ids.is_empty() {
            let inst =
                instrument.ok_or_else(|| Error::Usage("--indicator needs --instrument".into()))?;
            for id in &ids {
                targets.push(if deferred {
                    estimand::deferred_indicator_target(inst, id, table)?
                } else {
                    estimand::indicator_target(inst, id, table)?
                });
            }
        }
        let mut estimands: Vec<Estimand> = self
            .mean
            .iter()
            .map(|v| Estimand::Mean(v.clone()))
            .collect();
        for t in &self.total {
            let (var, value) = Estimand::split_value(t);
            estimands.push(Estimand::Total { var, value });
        }
        for p in &self.prop {
            let (var, value) = Estimand::split_value(p);
            estimands.push(Estimand::Prop { var, value });
        }
        for r in &self.ratio {
            estimands.push(Estimand::parse_ratio(r)?);
        }
        for q in &self.quantile {
            estimands.push(Estimand::parse_quantile(q)?);
        }
        for e in &estimands {
            targets.extend(estimand::targets(table, e)?);
        }
        if targets.is_empty() {
            return Err(Error::Usage(
                "nothing to estimate: give --mean, --total, --prop, --ratio, --quantile or --indicator"
                    .into(),
            ));
        }
        Ok(targets)
    }
}

/// Confidence level and degrees of freedom of intervals (estimate, gaps).
#[derive(Debug, Clone, clap::Args)]
pub struct IntervalArgs {
    /// Confidence level in (0, 1).
    #[arg(long, default_value_t = 0.95, help_heading = "Intervals")]
    pub level: f64,
    /// Degrees of freedom: design (per domain), inf (normal) or a number.
    #[arg(long, default_value = "design", help_heading = "Intervals")]
    pub df: String,
}

impl IntervalArgs {
    /// The checked level and df choice.
    pub fn resolve(&self) -> crate::Result<(f64, crate::estimate::estimator::DfChoice)> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::Usage(format!(
                "--level {} must be strictly between 0 and 1, e.g. 0.95",
                self.level
            )));
        }
        Ok((
            self.level,
            crate::estimate::estimator::DfChoice::parse(&self.df)?,
        ))
    }
}

/// Suppression and disclosure control (design section 6).
#[derive(Debug, Clone, clap::Args)]
pub struct ReliabilityArgs {
    /// Keep every value, also of suppressed rows.
    #[arg(long, help_heading = "Reliability")]
    pub no_suppress: bool,
    /// Smallest unweighted n published (disclosure control).
    #[arg(long, default_value_t = 30, help_heading = "Reliability")]
    pub min_cell: usize,
}

impl ReliabilityArgs {
    pub fn rules(&self) -> crate::estimate::reliability::Rules {
        crate::estimate::reliability::Rules {
            min_cell: self.min_cell,
            ..Default::default()
        }
    }
}

/// Reads and prepares the data of an estimating command and builds its [`Survey`]: the
/// design file overlaid with the flags, the instrument's items and derived variables, the
/// targets, the (calibrated) design and `--subset`. With `deferred`, indicators' values are
/// made when they are estimated (for [`Survey::estimates`], which makes them).
pub fn prepare_survey(
    data: &std::path::Path,
    design: &DesignArgs,
    estimands: &EstimandArgs,
    input: &InputArgs,
    subset: Option<&str>,
    deferred: bool,
    printer: &crate::progress::Printer,
) -> crate::Result<Survey> {
    let options = design.resolve()?;
    if let Some(w) = options.weighting_warning() {
        printer.warn(&w);
    }
    let (table, instrument) = estimands.load(data, input)?;
    let targets = estimands.targets(&table, instrument.as_ref(), deferred)?;
    Survey::new(table, instrument, targets, &options, subset, printer)
}
