//! The command line: one file per subcommand holding its arguments and `run`. Commands call
//! the library, never each other (`run` calls [`crate::assessment`], which calls what the
//! other commands call).

pub mod args;
pub mod compare;
pub mod estimate;
pub mod gaps;
pub mod init;
pub mod instrument;
pub mod join;
pub mod report;
pub mod run;
pub mod simulate;
pub mod validate;
pub mod weight;

use crate::output::TextCells;
use crate::progress::Printer;
use crate::{Outcome, Result};
use clap::{Parser, Subcommand};

/// Survey-based equality assessment: weights, design-based indicators with confidence
/// intervals, equality gaps, register joins, workbooks and report drafts.
#[derive(Debug, Parser)]
#[command(name = "tasa", version, about, max_term_width = 100)]
pub struct Cli {
    /// No progress bars or notes on stderr (warnings and errors still appear).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Write text into CSV/TSV files as it is. Without it, text that begins with `=`, `+`, `-`,
    /// `@`, a tab or a carriage return gets a leading `'` (a negative number stays as it is), so
    /// a spreadsheet shows it rather than running it as a formula; tasa reads such a `'` back as
    /// part of the text, so use this flag for files that tasa or a script will read.
    #[arg(long, global = true)]
    pub raw_text: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an instrument file, or list its items, scales and indicators.
    #[command(subcommand)]
    Instrument(instrument::InstrumentCommand),
    /// Check a response file against an instrument; exit 1 when errors are found.
    Validate(validate::Args),
    /// Make a synthetic population, a sample of respondents, margins and true values.
    Simulate(simulate::Args),
    /// Compute weights: base, non-response adjustment, calibration, trimming, replicate weights.
    Weight(Box<weight::Args>),
    /// Design-based estimates with standard errors and confidence intervals, overall and by domains.
    Estimate(Box<estimate::Args>),
    /// Equality gaps against a reference group, summary measures of inequality and tests across a dimension's groups.
    Gaps(Box<gaps::Args>),
    /// Two independent surveys or two waves: differences of matched estimates with intervals, optionally standardised.
    Compare(Box<compare::Args>),
    /// Join estimates or gaps (area level) or responses (person level) with register data; register gaps between groups.
    Join(Box<join::Args>),
    /// A new assessment project that `tasa run DIR/run.toml` runs as is.
    Init(init::Args),
    /// A whole assessment from a run file: validate, weight, estimate, compare, gaps, register, workbooks, drafts, manifest.
    Run(run::Args),
    /// The workbook of tidy results: a sheet per table with labels in fi/sv/en, charts, methods and manifest.
    Report(Box<report::Args>),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    let printer = Printer::new(cli.quiet);
    let text = TextCells::from_raw(cli.raw_text);
    match cli.command {
        Command::Instrument(c) => instrument::run(c, &printer),
        Command::Validate(a) => validate::run(a, &printer, text),
        Command::Simulate(a) => simulate::run(a, &printer, text),
        Command::Weight(a) => weight::run(*a, &printer, text),
        Command::Estimate(a) => estimate::run(*a, &printer, text),
        Command::Gaps(a) => gaps::run(*a, &printer, text),
        Command::Compare(a) => compare::run(*a, &printer, text),
        Command::Join(a) => join::run(*a, &printer, text),
        Command::Report(a) => report::run(*a, &printer),
        Command::Run(a) => run::run(a, &printer, text),
        Command::Init(a) => init::run(a, &printer),
    }
}
