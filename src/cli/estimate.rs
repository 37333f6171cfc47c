//! `tasa estimate DATA [design flags] [estimands] [--by ...]`: design-based estimates with
//! standard errors, intervals, design effects and reliability flags, overall and by domains.

use super::args::{DesignArgs, EstimandArgs, InputArgs, OutputArgs};
use crate::design::Design;
use crate::estimate::estimator::{self, CiMethod, DfChoice, Settings};
use crate::estimate::quantile::QRule;
use crate::estimate::reliability::Rules;
use crate::estimate::{domain, result};
use crate::progress::Printer;
use crate::{Error, Outcome, Result};
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
    /// Confidence level in (0, 1).
    #[arg(long, default_value_t = 0.95, help_heading = "Intervals")]
    pub level: f64,
    /// Degrees of freedom: design (per domain), inf (normal) or a number.
    #[arg(long, default_value = "design", help_heading = "Intervals")]
    pub df: String,
    /// Quantile rule: math, school, hf1..hf9.
    #[arg(long, default_value = "math", help_heading = "Intervals")]
    pub qrule: String,
    /// Keep every value, also of suppressed rows.
    #[arg(long, help_heading = "Reliability")]
    pub no_suppress: bool,
    /// Smallest unweighted n published (disclosure control).
    #[arg(long, default_value_t = 30, help_heading = "Reliability")]
    pub min_cell: usize,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    let format = args.output.format()?;
    if !(args.level > 0.0 && args.level < 1.0) {
        return Err(Error::Usage(format!(
            "--level {} must be strictly between 0 and 1, e.g. 0.95",
            args.level
        )));
    }
    let df = DfChoice::parse(&args.df)?;
    let qrule = QRule::parse(&args.qrule).ok_or_else(|| {
        Error::Usage(format!(
            "--qrule `{}`: use math, school or hf1..hf9",
            args.qrule
        ))
    })?;
    let options = args.design.resolve()?;
    if let Some(w) = options.weighting_warning() {
        printer.warn(&w);
    }

    let (table, instrument) = args.estimands.load(&args.data, &args.input)?;
    let targets = args.estimands.targets(&table, instrument.as_ref())?;

    let (design, calibration) = Design::build_calibrated(&table, &options)?;
    if let Some(c) = &calibration {
        printer.note(c.summary());
    }

    // Domains: the (sub)population, then each breakdown.
    let all = domain::subset_rows(&table, args.subset.as_deref())?;
    let mut domains = vec![domain::Domain {
        by: String::new(),
        group: String::new(),
        rows: all.clone(),
    }];
    for b in &args.by {
        let vars: Vec<String> = b.split('*').map(|s| s.trim().to_string()).collect();
        if vars.iter().any(String::is_empty) {
            return Err(Error::Usage(format!("--by `{b}`: write VAR or VAR1*VAR2")));
        }
        let groups = domain::breakdown(&table, &vars, &all)?;
        if groups.is_empty() {
            return Err(Error::Usage(format!(
                "--by `{b}`: every row has a missing value"
            )));
        }
        domains.extend(groups);
    }

    let settings = Settings {
        ci: args.ci,
        level: args.level,
        df,
        qrule,
        rules: Rules {
            min_cell: args.min_cell,
            ..Rules::default()
        },
    };
    let bar = printer.bar((targets.len() * domains.len()) as u64, "estimating");
    let mut estimates = Vec::with_capacity(targets.len() * domains.len());
    let domain_df: Vec<f64> = domains.iter().map(|d| design.degf_rows(&d.rows)).collect();
    for t in &targets {
        for (d, &df) in domains.iter().zip(&domain_df) {
            estimates.push(estimator::estimate(
                &design, t, &d.by, &d.group, &d.rows, df, &settings,
            )?);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    result::table(&estimates, args.no_suppress).write(
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
        if args.no_suppress {
            ", values kept with --no-suppress"
        } else {
            ""
        }
    ));
    Ok(Outcome::Success)
}
