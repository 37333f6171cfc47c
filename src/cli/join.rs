//! `tasa join`: survey results beside register metrics.
//!
//! - `tasa join ESTIMATES --register METRICS --on area[=COL] [--period P] [--classification
//!   FILE] [--level area|region]`: a tidy `estimate` or `gaps` table joined, per area (and
//!   group), with the register's metrics for the same cells.
//! - `tasa join --register METRICS --on area --group VAR[=COL] --gaps`: the register's own
//!   gaps between groups per area, with the areas' ranks.
//! - `tasa join RESPONSES --register PERSONS --on id[=COL] --person`: register variables added
//!   to respondents, one to one.

use super::args::{InputArgs, Inputs, OutputArgs};
use crate::output::TextCells;
use crate::progress::Printer;
use crate::register::gaps::{register_gaps, Measures};
use crate::register::join::{join_area, join_persons, Keys};
use crate::register::metrics::{quotient_flag, Kind, Level, Metric};
use crate::register::source::{self, Loaded, Request};
use crate::table::read::read_table;
use crate::table::Table;
use crate::{Error, Outcome, Result, Warning};
use std::path::{Path, PathBuf};

/// Join estimates (area level) or responses (person level) with register data.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  tasa join estimates.csv --register register/metrics.csv --on area=municipality --classification register/classification.csv --period 2025 -o joined.csv\n  tasa join gaps.csv --register register/metrics.csv --on area=municipality --classification register/classification.csv --period 2025 -o gaps_joined.csv\n  tasa join --register register/metrics.csv --on area=municipality --classification register/classification.csv --period 2025 --gaps -o register_gaps.csv\n  tasa join responses.csv --register persons.csv --on id --person -o linked.csv\n\nThe register's key columns and metrics come from a TOML file beside it (metrics.csv → metrics.toml) or --metrics FILE, and from --count/--share/--rate/--ratio/--median/--value."
)]
pub struct Args {
    /// A tidy table from `tasa estimate` or `tasa gaps` (area level), or a response file
    /// (with --person). Leave it out with --gaps.
    pub table: Option<PathBuf>,
    /// The register file (CSV/TSV, .xlsx, .ods).
    #[arg(long, value_name = "FILE")]
    pub register: PathBuf,
    /// The survey variable holding the key, and the register's column for it if named
    /// differently: `area`, `area=municipality`, `id=person_id`.
    #[arg(long, value_name = "VAR[=COL]")]
    pub on: String,
    /// Person level: add register columns to respondents by id (one to one).
    #[arg(long, help_heading = "Person level")]
    pub person: bool,
    /// Register columns to add (default: all but the id).
    #[arg(
        long,
        value_name = "COL,COL",
        value_delimiter = ',',
        help_heading = "Person level"
    )]
    pub columns: Vec<String>,
    /// Text put before the added columns' names.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "",
        help_heading = "Person level"
    )]
    pub prefix: String,
    /// Leave the id column out of the written file.
    #[arg(long, help_heading = "Person level")]
    pub drop_id: bool,
    /// The period to join (default: the register's only period).
    #[arg(long, value_name = "P", help_heading = "Register keys")]
    pub period: Option<String>,
    /// The register's period column [default: `keys.period`, else `period` if present].
    #[arg(long, value_name = "COL", help_heading = "Register keys")]
    pub period_column: Option<String>,
    /// The survey variable the register's group column matches, and that column if named
    /// differently: `language_group=kieliryhma`.
    #[arg(long, value_name = "VAR[=COL]", help_heading = "Register keys")]
    pub group: Option<String>,
    /// The group value of register rows that hold a whole unit (e.g. `all`) [default:
    /// `keys.total`]; such rows are not summed with the groups.
    #[arg(long, value_name = "VALUE", help_heading = "Register keys")]
    pub total: Option<String>,
    /// Municipality → area → region classification (CSV/Excel with columns municipality, area,
    /// region).
    #[arg(long, value_name = "FILE", help_heading = "Register keys")]
    pub classification: Option<PathBuf>,
    /// The level the survey's codes are at.
    #[arg(
        long,
        value_enum,
        default_value = "area",
        help_heading = "Register keys"
    )]
    pub level: Level,
    /// The level of the register's unit codes [default: `keys.level`, else municipality with
    /// --classification, else --level].
    #[arg(long, value_enum, help_heading = "Register keys")]
    pub register_level: Option<Level>,
    /// The metrics file [default: the register file's name with .toml, if it exists].
    #[arg(long, value_name = "FILE", help_heading = "Metrics")]
    pub metrics: Option<PathBuf>,
    /// Join only these metrics (repeatable; default: all).
    #[arg(long = "metric", value_name = "NAME", help_heading = "Metrics")]
    pub select: Vec<String>,
    /// A count column (summed when areas are combined).
    #[arg(long, value_name = "COL", help_heading = "Metrics")]
    pub count: Vec<String>,
    /// A share NAME=NUMERATOR/DENOMINATOR of two count columns (exact binomial interval).
    #[arg(long, value_name = "NAME=NUM/DEN", help_heading = "Metrics")]
    pub share: Vec<String>,
    /// A rate NAME=EVENTS/EXPOSURE (exact Poisson interval).
    #[arg(long, value_name = "NAME=NUM/DEN", help_heading = "Metrics")]
    pub rate: Vec<String>,
    /// A ratio NAME=NUMERATOR/DENOMINATOR of two sums (no interval).
    #[arg(long, value_name = "NAME=NUM/DEN", help_heading = "Metrics")]
    pub ratio: Vec<String>,
    /// A median column (only joined where the register gives it).
    #[arg(long, value_name = "COL", help_heading = "Metrics")]
    pub median: Vec<String>,
    /// Any other value column that cannot be combined across units.
    #[arg(long, value_name = "COL", help_heading = "Metrics")]
    pub value: Vec<String>,
    /// Write the register's gaps between groups per area instead of joining a table.
    #[arg(long, help_heading = "Register gaps")]
    pub gaps: bool,
    /// Reference group of register gaps [default: `keys.reference`, else the first group].
    #[arg(long, value_name = "GROUP", help_heading = "Register gaps")]
    pub reference: Option<String>,
    /// Register gap measures: difference, ratio.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "difference,ratio",
        help_heading = "Register gaps"
    )]
    pub measures: String,
    /// Confidence level of the exact intervals.
    #[arg(long, value_name = "P", default_value_t = 0.95)]
    pub confidence: f64,
    /// Register values resting on fewer persons (the count, or the denominator) are withheld.
    #[arg(long, value_name = "N", default_value_t = 5.0)]
    pub min_base: f64,
    /// Treat unmatched keys, duplicate rows and missing periods as errors.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let (var, column) = split_key(&args.on, "--on")?;
    Inputs::default()
        .add("the table", args.table.as_deref())
        .add("the register", Some(&args.register))
        .add("the metrics file", args.metrics.as_deref())
        .add("the classification", args.classification.as_deref())
        .check("the join", &[("-o", args.output.output.as_deref())])?;
    if args.person {
        return person(
            &args,
            &var,
            column.as_deref().unwrap_or(&var),
            printer,
            text,
        );
    }
    if !(0.0 < args.confidence && args.confidence < 1.0) {
        return Err(Error::Usage(format!(
            "--confidence {} must be strictly between 0 and 1, e.g. 0.95",
            args.confidence
        )));
    }
    let options = args.input.options();
    let mut declared = Vec::new();
    declare_flags(&mut declared, &args)?;
    let group = match &args.group {
        Some(g) => {
            let (v, c) = split_key(g, "--group")?;
            let c = c.unwrap_or_else(|| v.clone());
            Some((v, c))
        }
        None => None,
    };
    let request = Request {
        register: args.register.clone(),
        metrics: args.metrics.clone(),
        declared,
        select: args.select.clone(),
        classification: args.classification.clone(),
        unit: var.clone(),
        unit_column: column,
        group,
        period: args.period.clone(),
        period_column: args.period_column.clone(),
        total: args.total.clone(),
        level: args.level,
        register_level: args.register_level,
        confidence: args.confidence,
        min_base: args.min_base,
    };
    let Loaded {
        register,
        group_var,
        keys,
        notes,
    } = source::load(&request, &options)?;
    for n in notes {
        printer.note(n);
    }

    let format = args.output.format()?;
    if args.gaps {
        if args.table.is_some() {
            return Err(Error::Usage(
                "--gaps writes the register's own gaps: leave out the table (join a gaps table without --gaps)".to_string(),
            ));
        }
        let group_var = group_var.ok_or_else(|| {
            Error::Usage(
                "--gaps needs the register's group column: --group VAR[=COL] or `keys.group`"
                    .to_string(),
            )
        })?;
        report(&register.problems, args.strict, &args.register, printer)?;
        let measures = Measures::parse(&args.measures)?;
        let reference = args.reference.as_deref().or(keys.reference.as_deref());
        let out = register_gaps(&register, &var, &group_var, reference, measures)?;
        out.write(format, args.output.output.as_deref(), "register gaps", text)?;
        printer.note(format!(
            "{} register gaps ({} metrics, {} units, period {})",
            out.rows.len(),
            register.metrics.len(),
            register.units.len(),
            register.period.as_deref().unwrap_or("-")
        ));
        return Ok(Outcome::Success);
    }
    let path = args.table.as_ref().ok_or_else(|| {
        Error::Usage(
            "give the table to join (estimates or gaps), or --gaps for the register's own gaps"
                .to_string(),
        )
    })?;
    let input = read_table(path, &options)?;
    let joined = join_area(
        &input,
        &register,
        Keys {
            unit: &var,
            group: group_var.as_deref(),
        },
    )?;
    report(&joined.problems, args.strict, &args.register, printer)?;
    for n in &joined.notes {
        printer.note(n);
    }
    joined
        .table
        .write(format, args.output.output.as_deref(), "joined", text)?;
    printer.note(format!(
        "{} rows joined with {} metrics ({} rows written)",
        joined.rows,
        register.metrics.len(),
        joined.table.rows.len()
    ));
    Ok(Outcome::Success)
}

/// Person level: register columns added to respondents.
fn person(
    args: &Args,
    id: &str,
    register_id: &str,
    printer: &Printer,
    text: TextCells,
) -> Result<Outcome> {
    let path = args.table.as_ref().ok_or_else(|| {
        Error::Usage("--person needs the response file: tasa join RESPONSES --register PERSONS --on id --person".to_string())
    })?;
    if args.gaps {
        return Err(Error::Usage(
            "--gaps works on area-level registers, not with --person".to_string(),
        ));
    }
    if args.output.format()? != crate::output::Format::Csv {
        return Err(Error::Usage(
            "--person writes respondent-level data as CSV; give -o FILE.csv (or no -o)".to_string(),
        ));
    }
    let options = args.input.options();
    let responses = read_table(path, &options)?;
    let register = read_table(&args.register, &options)?;
    let columns = (!args.columns.is_empty()).then_some(args.columns.as_slice());
    let joined = join_persons(responses, &register, id, register_id, columns, &args.prefix)?;
    let share = if joined.respondents == 0 {
        0.0
    } else {
        100.0 * joined.matched as f64 / joined.respondents as f64
    };
    let summary = format!(
        "matched {} of {} respondents ({share:.1} %); {} without a register row; {} of {} register rows matched no respondent; added {}",
        joined.matched,
        joined.respondents,
        joined.respondents - joined.matched,
        joined.unused,
        joined.register_rows,
        joined.added.join(", ")
    );
    if args.strict && joined.matched < joined.respondents {
        return Err(Error::input(
            crate::error::Location::file(&args.register).column(register_id),
            None,
            format!("--strict: every respondent needs a register row; {summary}"),
        ));
    }
    let mut table = joined.table;
    if args.drop_id {
        table = Table::from_columns(
            table
                .into_columns()
                .into_iter()
                .filter(|c| c.name != id)
                .collect(),
        )?;
    }
    match &args.output.output {
        Some(p) => crate::output::data::write_csv(p, &table, text)?,
        None => {
            let mut buf = Vec::new();
            crate::output::data::write_header(&table, text, &mut buf)
                .and_then(|_| crate::output::data::write_rows(&table, text, &mut buf))
                .map_err(|e| Error::io("<stdout>", e))?;
            crate::output::print_stdout(&String::from_utf8_lossy(&buf))?;
        }
    }
    printer.note(summary);
    Ok(Outcome::Success)
}

/// `VAR[=COL]`.
fn split_key(text: &str, flag: &str) -> Result<(String, Option<String>)> {
    let (v, c) = match text.split_once('=') {
        Some((v, c)) => (v.trim(), Some(c.trim())),
        None => (text.trim(), None),
    };
    if v.is_empty() || c.is_some_and(str::is_empty) {
        return Err(Error::Usage(format!(
            "{flag} `{text}`: write VAR or VAR=COLUMN, e.g. {flag} area=municipality"
        )));
    }
    Ok((v.to_string(), c.map(str::to_string)))
}

/// Metrics declared by flags override the metrics file.
fn declare_flags(metrics: &mut Vec<Metric>, args: &Args) -> Result<()> {
    for c in &args.count {
        metrics.push(Metric::plain(c, Kind::Count, c, None));
    }
    for (kind, list) in [
        (Kind::Share, &args.share),
        (Kind::Rate, &args.rate),
        (Kind::Ratio, &args.ratio),
    ] {
        for text in list {
            metrics.push(quotient_flag(kind, text)?);
        }
    }
    for c in &args.median {
        metrics.push(Metric::plain(c, Kind::Median, c, None));
    }
    for c in &args.value {
        metrics.push(Metric::plain(c, Kind::Value, c, None));
    }
    Ok(())
}

/// Prints key problems as warnings, or with `--strict` refuses them.
fn report(problems: &[String], strict: bool, register: &Path, printer: &Printer) -> Result<()> {
    if strict && !problems.is_empty() {
        return Err(Error::input(
            crate::error::Location::file(register),
            None,
            format!("--strict: {}", problems.join("; ")),
        ));
    }
    for p in problems {
        printer.warn(&Warning {
            message: p.clone(),
            remedy: None,
        });
    }
    Ok(())
}
