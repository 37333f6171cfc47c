//! `tasa estimate DATA [design flags] [estimands] [--by ...]`: design-based estimates with
//! standard errors, intervals, design effects and reliability flags, overall and by domains.

use super::args::{
    DesignArgs, EstimandArgs, InputArgs, IntervalArgs, OutputArgs, ReliabilityArgs, Survey,
};
use crate::estimate::estimator::{self, CiMethod, Settings};
use crate::estimate::quantile::QRule;
use crate::estimate::{domain, result};
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

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    let format = args.output.format()?;
    let (level, df) = args.interval.resolve()?;
    let qrule = QRule::parse(&args.qrule).ok_or_else(|| {
        Error::Usage(format!(
            "--qrule `{}`: use math, school or hf1..hf9",
            args.qrule
        ))
    })?;
    let survey = Survey::prepare(
        &args.data,
        &args.design,
        &args.estimands,
        &args.input,
        args.subset.as_deref(),
        printer,
    )?;
    let breakdowns = domain::breakdowns(&survey.table, &args.by, &survey.rows)?;

    let settings = Settings {
        ci: args.ci,
        level,
        df,
        qrule,
        rules: args.reliability.rules(),
    };
    let n_domains: usize = breakdowns.iter().map(|(_, d)| d.len()).sum();
    let targets = &survey.targets;
    let bar = printer.bar((targets.len() * n_domains) as u64, "estimating");
    let mut estimates = Vec::with_capacity(targets.len() * n_domains);
    let mut missing = crate::weighting::standardize::MissingCells::default();
    // The design df of each domain, the same for every target (unless standardised).
    let domain_df: Vec<Vec<f64>> = breakdowns
        .iter()
        .map(|(_, ds)| {
            ds.iter()
                .map(|d| survey.design.degf_rows(&d.rows))
                .collect()
        })
        .collect();
    for t in targets {
        for ((over, domains), dfs) in breakdowns.iter().zip(&domain_df) {
            let design = survey.design_for(t, over, &mut missing)?;
            for (d, &df) in domains.iter().zip(dfs) {
                // A standardised design weights only the rows analysed: R's degf of it.
                let df = match &design {
                    std::borrow::Cow::Borrowed(_) => df,
                    std::borrow::Cow::Owned(std) => std.degf_rows(&d.rows),
                };
                estimates.push(estimator::estimate(
                    &design, t, &d.by, &d.group, &d.rows, df, &settings,
                )?);
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    if let Some(message) = missing.warning() {
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
