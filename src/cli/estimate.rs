//! `tasa estimate DATA [design flags] [estimands] [--by ...]`: design-based estimates with
//! standard errors, intervals, design effects and reliability flags, overall and by domains.

use super::args::{
    prepare_survey, DesignArgs, EstimandArgs, InputArgs, Inputs, IntervalArgs, OutputArgs,
    ReliabilityArgs,
};
use crate::estimate::estimator::{CiMethod, Settings};
use crate::estimate::quantile::QRule;
use crate::estimate::result;
use crate::output::TextCells;
use crate::progress::Printer;
use crate::{Error, Outcome, Result, Warning};
use std::path::PathBuf;

/// Estimate means, totals, proportions, ratios, quantiles and indicators with design-based
/// standard errors and confidence intervals.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  tasa estimate responses.csv --design design.toml --prop fair=4 --by origin\n  tasa estimate responses.csv --design design.toml --instrument service-equality.toml --indicators all --by origin_group --by area\n  tasa estimate apistrat.csv --weight pw --strata stype --fpc fpc --mean api00 --ci wald --df inf\n\nCost grows with rows x estimands x domains (x replicates with --repweights)."
)]
pub struct Args {
    /// Data file (CSV/TSV, .xlsx, .ods, .sav; `-` for standard input).
    pub data: PathBuf,
    #[command(flatten)]
    pub design: DesignArgs,
    #[command(flatten)]
    pub estimands: EstimandArgs,
    /// Domains: a variable, or crossed variables `A*B`; repeat for separate breakdowns.
    #[arg(long, value_name = "VAR[*VAR]", help_heading = "Domains")]
    pub by: Vec<String>,
    /// Subpopulation filter (the full design is kept for variances).
    #[arg(long, value_name = "FILTER", help_heading = "Domains")]
    pub subset: Option<String>,
    /// Interval: proportions default logit; others wald. Quantiles: wald (Woodruff), beta, xlogit, asin, quantile (replicates).
    #[arg(long, value_enum, help_heading = "Intervals")]
    pub ci: Option<CiMethod>,
    #[command(flatten)]
    pub interval: IntervalArgs,
    /// Quantile rule: math, school, hf1..hf9.
    #[arg(long, default_value = "math", help_heading = "Intervals")]
    pub qrule: String,
    #[command(flatten)]
    pub reliability: ReliabilityArgs,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let format = args.output.format()?;
    Inputs::default()
        .add("the data", Some(&args.data))
        .design(args.design.design.as_deref(), &args.design.resolve()?)
        .add("the instrument", args.estimands.instrument.as_deref())
        .check("the estimates", &[("-o", args.output.output.as_deref())])?;
    let (level, df) = args.interval.resolve()?;
    let qrule = QRule::parse(&args.qrule).ok_or_else(|| {
        Error::Usage(format!(
            "--qrule `{}`: use math, school or hf1..hf9",
            args.qrule
        ))
    })?;
    let survey = prepare_survey(
        &args.data,
        &args.design,
        &args.estimands,
        &args.input,
        args.subset.as_deref(),
        true,
        printer,
    )?;
    let settings = Settings {
        ci: args.ci,
        level,
        df,
        qrule,
        rules: args.reliability.rules(),
    };
    let (estimates, warnings) = survey.estimates(&args.by, &settings, printer)?;
    for message in warnings {
        printer.warn(&Warning {
            message,
            remedy: None,
        });
    }
    if let Some(standard) = &survey.standard {
        printer.note(format!(
            "estimates standardised by {} to the standard population {}",
            standard.variables.join(" × "),
            standard.path.display()
        ));
    }
    result::table(&estimates, args.reliability.no_suppress).write(
        format,
        args.output.output.as_deref(),
        "estimates",
        text,
    )?;
    let suppressed = estimates
        .iter()
        .filter(|e| e.flag == crate::estimate::reliability::Flag::Suppressed)
        .count();
    printer.note(format!(
        "{} estimates ({} suppressed{})",
        estimates.len(),
        suppressed,
        if args.reliability.no_suppress {
            ", values kept with --no-suppress"
        } else {
            ""
        }
    ));
    Ok(Outcome::Success)
}
