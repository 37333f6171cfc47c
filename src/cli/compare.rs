//! `tasa compare A B [--design-a FILE --design-b FILE] [estimands] [--by DIM]
//! [--standardize VARS --standard FILE|a|b]`: two independent surveys or two waves, the
//! difference A − B of every matched estimate with its standard error, interval and p-value.
//!
//! Indicators are matched by id through each survey's instrument (`--instrument-a`,
//! `--instrument-b`, or one `--instrument` for both); each instrument defines the indicator
//! from its own items, and `--indicator ID=ID_B` pairs indicators whose ids differ.

use super::args::{
    prepare_survey, DesignArgs, EstimandArgs, InputArgs, Inputs, IntervalArgs, OutputArgs,
    ReliabilityArgs,
};
use crate::design::options::standardize_request;
use crate::design::{DesignFlags, StandardSource, StandardizeOptions};
use crate::equality::compare;
use crate::estimate::estimator::Settings;
use crate::estimate::quantile::QRule;
use crate::estimate::survey::Survey;
use crate::instrument::Instrument;
use crate::output::TextCells;
use crate::progress::Printer;
use crate::weighting::standardize;
use crate::{Error, Outcome, Result, Warning};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Compare two independent surveys, or two waves of one survey: differences A − B of matched
/// estimates with SE = sqrt(se_A² + se_B²), intervals and p-values, optionally directly
/// standardised to a standard population.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  tasa compare monisuomi.csv tervesuomi.csv --design-a ms-design.toml --design-b ts-design.toml --instrument-a instruments/monisuomi.toml --instrument-b tervesuomi.toml --indicators all --standardize age_group,gender --standard b\n  tasa compare wave2026.csv wave2024.csv --design design.toml -i service-equality.toml --indicator treated_fairly --by origin_group\n\nThe difference is A minus B: put the survey in focus (or the newer wave) first."
)]
pub struct Args {
    /// The survey in focus (or the newer wave).
    pub a: PathBuf,
    /// The comparison survey (or the earlier wave).
    pub b: PathBuf,
    /// Design file (TOML) of both surveys.
    #[arg(long, value_name = "FILE.toml", help_heading = "Design")]
    pub design: Option<PathBuf>,
    /// Design file of survey A (overrides --design).
    #[arg(long, value_name = "FILE.toml", help_heading = "Design")]
    pub design_a: Option<PathBuf>,
    /// Design file of survey B (overrides --design).
    #[arg(long, value_name = "FILE.toml", help_heading = "Design")]
    pub design_b: Option<PathBuf>,
    /// Design flags for both surveys (they override the design files); `--standardize VARS
    /// --standard FILE|a|b` standardises both to one standard population.
    #[command(flatten)]
    pub flags: DesignFlags,
    /// Instrument of survey A (overrides --instrument).
    #[arg(long, value_name = "FILE", help_heading = "Estimands")]
    pub instrument_a: Option<PathBuf>,
    /// Instrument of survey B (overrides --instrument).
    #[arg(long, value_name = "FILE", help_heading = "Estimands")]
    pub instrument_b: Option<PathBuf>,
    /// Estimands on both files; `--indicator ID=ID_B` pairs an indicator of A with one of B.
    #[command(flatten)]
    pub estimands: EstimandArgs,
    /// Domains: a variable, or crossed variables `A*B`; repeat for separate breakdowns.
    #[arg(long, value_name = "VAR[*VAR]", help_heading = "Domains")]
    pub by: Vec<String>,
    /// Subpopulation filter applied to both surveys.
    #[arg(long, value_name = "FILTER", help_heading = "Domains")]
    pub subset: Option<String>,
    /// Subpopulation filter of survey A (overrides --subset).
    #[arg(long, value_name = "FILTER", help_heading = "Domains")]
    pub subset_a: Option<String>,
    /// Subpopulation filter of survey B (overrides --subset).
    #[arg(long, value_name = "FILTER", help_heading = "Domains")]
    pub subset_b: Option<String>,
    #[command(flatten)]
    pub interval: IntervalArgs,
    #[command(flatten)]
    pub reliability: ReliabilityArgs,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// One survey's side of the comparison.
struct Side {
    name: String,
    survey: Survey,
}

/// The indicator ids of A and B, paired: `--indicator ID[=ID_B]` and `--indicators all` (the
/// ids both instruments define).
fn pair_indicators(
    args: &Args,
    inst_a: Option<&Instrument>,
    inst_b: Option<&Instrument>,
    printer: &Printer,
) -> Result<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = args
        .estimands
        .indicator
        .iter()
        .map(|s| match s.split_once('=') {
            Some((a, b)) => (a.trim().to_string(), b.trim().to_string()),
            None => (s.trim().to_string(), s.trim().to_string()),
        })
        .collect();
    match args.estimands.indicators.as_deref() {
        None => {}
        Some("all") => {
            let (Some(a), Some(b)) = (inst_a, inst_b) else {
                return Err(Error::Usage(
                    "--indicators all needs an instrument for both surveys (--instrument, or --instrument-a and --instrument-b)".into(),
                ));
            };
            let (both, only): (Vec<&String>, Vec<&String>) = a
                .indicators
                .keys()
                .partition(|id| b.indicators.contains_key(*id));
            if both.is_empty() {
                return Err(Error::Usage(format!(
                    "--indicators all: {} and {} have no indicator id in common; pair them with --indicator ID_A=ID_B",
                    a.path.display(),
                    b.path.display()
                )));
            }
            if !only.is_empty() {
                printer.note(format!(
                    "{} indicators of {} have no counterpart in {} and are left out: {}",
                    only.len(),
                    a.path.display(),
                    b.path.display(),
                    only.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            pairs.extend(both.into_iter().map(|id| (id.clone(), id.clone())));
        }
        Some(other) => {
            return Err(Error::Usage(format!(
                "--indicators `{other}`: the only value is `all`"
            )))
        }
    }
    if let (Some(b), false) = (inst_b, pairs.is_empty()) {
        for (a_id, b_id) in &pairs {
            if !b.indicators.contains_key(b_id) {
                return Err(Error::Usage(format!(
                    "indicator `{b_id}` is not in survey B's instrument {}; name its counterpart there with --indicator {a_id}=ID_IN_B",
                    b.path.display()
                )));
            }
        }
    }
    Ok(pairs)
}

/// The estimand flags of one side: its instrument and its indicator ids.
fn side_estimands(args: &Args, instrument: Option<&PathBuf>, ids: Vec<String>) -> EstimandArgs {
    EstimandArgs {
        instrument: instrument.cloned(),
        indicator: ids,
        indicators: None,
        ..args.estimands.clone()
    }
}

/// The design of one side: its design file overlaid with the shared flags (standardisation
/// is done here, for both sides at once).
fn side_design(file: Option<&PathBuf>, flags: &DesignFlags) -> DesignArgs {
    DesignArgs {
        design: file.cloned(),
        flags: DesignFlags {
            standardize: Vec::new(),
            standard: None,
            ..flags.clone()
        },
    }
}

/// A usage error of one survey's side, saying which survey.
fn of_survey(name: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Usage(m) => Error::Usage(format!("survey {name}: {m}")),
        other => other,
    }
}

/// The files the comparison reads, so that `-o` overwrites none.
fn check_output(args: &Args, inst_a: Option<&PathBuf>, inst_b: Option<&PathBuf>) -> Result<()> {
    let mut inputs = Inputs::default()
        .add("survey A's data", Some(&args.a))
        .add("survey B's data", Some(&args.b))
        .add("survey A's instrument", inst_a.map(PathBuf::as_path))
        .add("survey B's instrument", inst_b.map(PathBuf::as_path));
    for (name, file) in [("A", &args.design_a), ("B", &args.design_b)] {
        let file = file.as_ref().or(args.design.as_ref());
        let options = side_design(file, &args.flags)
            .resolve()
            .map_err(of_survey(name))?;
        inputs = inputs.design(file.map(PathBuf::as_path), &options);
    }
    let standard = standardize_request(
        &Default::default(),
        args.flags.standardize.clone(),
        args.flags.standard.clone(),
    )?;
    if let Some(StandardizeOptions {
        standard: StandardSource::File(p),
        ..
    }) = &standard
    {
        inputs = inputs.add("the standard population", Some(p));
    }
    inputs.check("the comparison", &[("-o", args.output.output.as_deref())])
}

/// The standard population of `--standardize`, read once for both sides.
fn standard_population(
    args: &Args,
    a: &Side,
    b: &Side,
) -> Result<Option<crate::weighting::margins::MarginFile>> {
    let Some(request) = standardize_request(
        &Default::default(),
        args.flags.standardize.clone(),
        args.flags.standard.clone(),
    )?
    else {
        return Ok(None);
    };
    let side = match request.standard {
        StandardSource::File(path) => {
            return standardize::read_checked(&path, &request.variables).map(Some)
        }
        StandardSource::Survey('a') => a,
        StandardSource::Survey(_) => b,
    };
    standardize::survey_standard(
        &side.survey.table,
        &side.survey.design.weights,
        &request.variables,
        &side.survey.rows,
        &side.name,
    )
    .map(Some)
}

pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let format = args.output.format()?;
    let (level, df) = args.interval.resolve()?;
    let inst_path_a = args
        .instrument_a
        .as_ref()
        .or(args.estimands.instrument.as_ref());
    let inst_path_b = args
        .instrument_b
        .as_ref()
        .or(args.estimands.instrument.as_ref());
    check_output(&args, inst_path_a, inst_path_b)?;
    let load = |p: Option<&PathBuf>| p.map(|p| Instrument::load(p)).transpose();
    let (inst_a, inst_b) = (load(inst_path_a)?, load(inst_path_b)?);
    let pairs = pair_indicators(&args, inst_a.as_ref(), inst_b.as_ref(), printer)?;
    let b_to_a: HashMap<String, String> =
        pairs.iter().map(|(a, b)| (b.clone(), a.clone())).collect();

    let prepare = |data: &Path,
                   design: Option<&PathBuf>,
                   inst: Option<&PathBuf>,
                   ids: Vec<String>,
                   subset: Option<&String>,
                   name: &str|
     -> Result<Side> {
        let survey = prepare_survey(
            data,
            &side_design(design.or(args.design.as_ref()), &args.flags),
            &side_estimands(&args, inst, ids),
            &args.input,
            subset.or(args.subset.as_ref()).map(String::as_str),
            false,
            &printer.with_prefix(format!("survey {name}: ")),
        )
        .map_err(of_survey(name))?;
        Ok(Side {
            name: format!("survey {name} ({})", data.display()),
            survey,
        })
    };
    let mut a = prepare(
        &args.a,
        args.design_a.as_ref(),
        inst_path_a,
        pairs.iter().map(|p| p.0.clone()).collect(),
        args.subset_a.as_ref(),
        "A",
    )?;
    let mut b = prepare(
        &args.b,
        args.design_b.as_ref(),
        inst_path_b,
        pairs.iter().map(|p| p.1.clone()).collect(),
        args.subset_b.as_ref(),
        "B",
    )?;
    // B's indicators (its first targets, one per id) go by A's ids from here on.
    for t in b.survey.targets.iter_mut().take(pairs.len()) {
        if let Some(a_id) = b_to_a.get(&t.indicator) {
            t.indicator = a_id.clone();
        }
    }
    if let Some(standard) = standard_population(&args, &a, &b)? {
        a.survey.standard = Some(standard.clone());
        b.survey.standard = Some(standard);
    }

    let settings = Settings {
        ci: None,
        level,
        df,
        qrule: QRule::Math,
        rules: args.reliability.rules(),
    };
    let (out, warnings) =
        compare::surveys(&a.survey, &b.survey, &args.by, &settings, printer, &[])?;
    for w in warnings {
        printer.warn(&Warning {
            message: w,
            remedy: None,
        });
    }
    compare::table(&out, args.reliability.no_suppress).write(
        format,
        args.output.output.as_deref(),
        "comparisons",
        text,
    )?;
    let significant = out
        .iter()
        .filter(|c| {
            c.p_value < 1.0 - level && c.flag != crate::estimate::reliability::Flag::Suppressed
        })
        .count();
    printer.note(format!(
        "{} comparisons of {} with {}{}; {} differ at the {}% level (unadjusted)",
        out.len(),
        a.name,
        b.name,
        match &a.survey.standard {
            Some(s) => format!(
                ", standardised by {} to {}",
                s.variables.join(" × "),
                s.path.display()
            ),
            None => String::new(),
        },
        significant,
        crate::table::format_number(((1.0 - level) * 1e8).round() / 1e6)
    ));
    Ok(Outcome::Success)
}
