//! `tasa validate DATA --instrument I`: check a response file; findings table; exit 1 on errors.

use super::args::{InputArgs, Inputs, OutputArgs};
use crate::instrument::Instrument;
use crate::output::TextCells;
use crate::progress::Printer;
use crate::table::read::read_table;
use crate::validate::{self, Severity};
use crate::{Outcome, Result};
use std::path::PathBuf;

/// Check responses against the questionnaire: columns, codes, ranges, ids, skip logic, weights.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  tasa validate responses.csv --instrument instruments/service-equality.toml --id id\n  tasa validate data.sav --instrument monisuomi.toml -o findings.json\n\nExit status: 0 no errors (warnings allowed), 1 errors found, 2 unreadable input."
)]
pub struct Args {
    /// Response file (CSV/TSV, .xlsx, .ods, .sav; `-` for standard input).
    pub data: PathBuf,
    /// Instrument file (TOML).
    #[arg(long, short = 'i')]
    pub instrument: PathBuf,
    /// Respondent id column: checked for missing and duplicate ids.
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
    /// Weight column: checked for missing, negative and zero weights.
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let format = args.output.format()?;
    Inputs::default()
        .add("the data", Some(&args.data))
        .add("the instrument", Some(&args.instrument))
        .check("the validation", &[("-o", args.output.output.as_deref())])?;
    let inst = Instrument::load(&args.instrument)?;
    let table = read_table(&args.data, &args.input.options())?;
    let options = validate::Options {
        id: args.id.clone(),
        weight: args.weight.clone(),
    };
    let findings = validate::validate(&inst, &table, &options)?;
    validate::findings_table(&findings).write(
        format,
        args.output.output.as_deref(),
        "findings",
        text,
    )?;

    let count = |s: Severity| findings.iter().filter(|f| f.severity() == s).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    printer.note(format!(
        "{}: {} rows, {} columns; {} errors, {} warnings",
        args.data.display(),
        table.nrows(),
        table.ncols(),
        errors,
        warnings
    ));
    for f in findings
        .iter()
        .filter(|f| f.severity() >= Severity::Warning)
        .take(20)
    {
        let column = f
            .column
            .as_deref()
            .map(|c| format!(" {c}:"))
            .unwrap_or_default();
        printer.note(format!(
            "  {} {} {}{column} {}",
            f.severity().as_str(),
            f.rule.code(),
            f.rule.name(),
            f.message
        ));
    }
    Ok(if errors > 0 {
        Outcome::Problems
    } else {
        Outcome::Success
    })
}
