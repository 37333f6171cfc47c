//! `tasa report --estimates E [--gaps G] [--compare C] [--joined J] [--instrument I] [--lang
//! fi|sv|en] [--templates DIR] -o FILE`: the workbook (`.xlsx`) or a report draft (`.md`,
//! `.html`) from tidy results.

use super::args::{InputArgs, Inputs};
use crate::instrument::Instrument;
use crate::output::locale::Lang;
use crate::output::manifest;
use crate::output::publish::{optional, publish, read_checked, Product, Publication};
use crate::output::xlsx::sheets::Kind;
use crate::output::xlsx::Tables;
use crate::progress::Printer;
use crate::{Error, Outcome, Result};
use std::path::{Path, PathBuf};

/// A workbook or report draft of tidy results: a sheet per table with labels in one language,
/// charts of the key indicators, a methods sheet and a manifest; or Markdown/HTML with a section
/// per theme, sentences, tables and charts.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Example:\n  tasa report --estimates estimates.csv --gaps gaps.csv --joined joined.csv --instrument service-equality.toml --lang fi -o tulokset.xlsx\n\nValues are written as numbers, unrounded, with percent or decimal formats; withheld values show `..` with a footnote stating the rule."
)]
pub struct Args {
    /// Tidy estimates (`tasa estimate`).
    #[arg(long, value_name = "FILE")]
    pub estimates: PathBuf,
    /// Tidy gaps (`tasa gaps`).
    #[arg(long, value_name = "FILE")]
    pub gaps: Option<PathBuf>,
    /// Tidy comparisons (`tasa compare`).
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Estimates or gaps joined with register metrics (`tasa join`).
    #[arg(long, value_name = "FILE")]
    pub joined: Option<PathBuf>,
    /// The instrument, for labels of indicators, dimensions and codes.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub instrument: Option<PathBuf>,
    /// Language of the labels and texts.
    #[arg(long, value_enum, default_value = "fi")]
    pub lang: Lang,
    /// Indicators that get charts (repeatable) [default: the first estimated indicator of each
    /// theme of the instrument, else every indicator].
    #[arg(long = "key", value_name = "ID")]
    pub key: Vec<String>,
    /// The design file the estimates were made with (listed on the methods sheet).
    #[arg(long, value_name = "FILE.toml")]
    pub design: Option<PathBuf>,
    /// Weighting diagnostics (`tasa weight --report FILE.json`), listed on the methods sheet.
    #[arg(long, value_name = "FILE.json")]
    pub diagnostics: Option<PathBuf>,
    /// The interval method the estimates used, as stated on the methods sheet.
    #[arg(long, value_name = "TEXT")]
    pub ci: Option<String>,
    /// Confidence level of the estimates' intervals (stated in the sentences; gaps and changes
    /// are called significant below 1 − level).
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Folder with templates that replace the embedded ones (`report.md.tera`,
    /// `report.html.tera`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// What the compare table's survey B is: the previous wave, or another survey (the
    /// drafts' sentences say "change since the previous wave" or "difference from the
    /// comparison survey").
    #[arg(long, value_enum, default_value = "wave")]
    pub compare_as: CompareAs,
    /// The register's threshold for withheld values (`tasa join --min-base`), stated on the
    /// methods sheet and in the register footnote.
    #[arg(long, value_name = "N", default_value_t = 5.0)]
    pub min_base: f64,
    /// The smallest published n the estimates used (stated in the footnote of `..`).
    #[arg(long, default_value_t = 30)]
    pub min_cell: usize,
    #[command(flatten)]
    pub input: InputArgs,
    /// The workbook (.xlsx) or report draft (.md, .html).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// What survey B of a compare table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareAs {
    Wave,
    Survey,
}

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    let mut inputs: Vec<(&str, &Path)> = vec![("--estimates", args.estimates.as_path())];
    for (role, p) in [
        ("--gaps", &args.gaps),
        ("--compare", &args.compare),
        ("--joined", &args.joined),
        ("--instrument", &args.instrument),
        ("--design", &args.design),
        ("--diagnostics", &args.diagnostics),
    ] {
        if let Some(p) = p {
            inputs.push((role, p.as_path()));
        }
    }
    inputs
        .iter()
        .fold(Inputs::default(), |all, (role, p)| all.add(role, Some(p)))
        .check("the report", &[("-o", Some(&args.output))])?;
    let product = Product::of(&args.output)?;
    if !(0.0 < args.level && args.level < 1.0) {
        return Err(Error::Usage(format!(
            "--level {} must be strictly between 0 and 1, e.g. 0.95",
            args.level
        )));
    }
    let options = args.input.options();
    let instrument = match &args.instrument {
        Some(p) => Some(Instrument::load(p)?),
        None => None,
    };
    let tables = Tables {
        estimates: read_checked(&args.estimates, Kind::Estimates, &options)?,
        gaps: optional(args.gaps.as_deref(), Kind::Gaps, &options)?,
        compare: optional(args.compare.as_deref(), Kind::Compare, &options)?,
        comparison: None,
        joined: optional(args.joined.as_deref(), Kind::Register, &options)?,
    };
    if matches!(product, Product::Draft(_)) && tables.joined.is_some() {
        printer
            .note("--joined: register rows go into the workbook (.xlsx), not into report drafts");
    }
    let publication = Publication {
        tables: &tables,
        instrument: instrument.as_ref(),
        lang: args.lang,
        key: &args.key,
        ci: args.ci.clone(),
        level: args.level,
        min_cell: args.min_cell,
        min_base: args.min_base,
        design: args.design.as_deref(),
        diagnostics: args.diagnostics.as_deref(),
        templates: args.templates.as_deref(),
        compare_is_wave: args.compare_as == CompareAs::Wave,
        inputs: inputs
            .iter()
            .map(|(role, p)| manifest::input(role, p))
            .collect::<Result<_>>()?,
        command: manifest::command_line(),
        time: manifest::utc_now(),
        focus: None,
    };
    let (bytes, what) = publish(&publication, product)?;
    crate::output::atomic::write_bytes(&args.output, &bytes)?;
    printer.note(format!("wrote {} ({what})", args.output.display()));
    Ok(Outcome::Success)
}
