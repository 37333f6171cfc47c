//! `tasa gaps DATA [design flags] [estimands] --by DIM`: gaps of every group against a
//! reference group, summary measures of inequality across the groups, and tests of no
//! association, with design-based standard errors, intervals and adjusted p-values.

use super::args::{
    prepare_survey, DesignArgs, EstimandArgs, InputArgs, Inputs, IntervalArgs, OutputArgs,
    ReliabilityArgs,
};
use crate::equality::adjust::Adjust;
use crate::equality::gaps::{self, Plan, RowKind};
use crate::equality::survey::{survey_gaps, Request};
use crate::output::TextCells;
use crate::progress::Printer;
use crate::{Outcome, Result, Warning};
use std::path::PathBuf;

/// Equality gaps against a reference group, summary measures of inequality and tests of no
/// association across the groups of a dimension.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  tasa gaps responses.csv --design design.toml --instrument service-equality.toml --indicators all --by origin_group\n  tasa gaps apiclus1.csv --cluster dnum --weight pw --fpc fpc --mean api00 --by stype --reference E --df inf\n  tasa gaps responses.csv --design design.toml -i service-equality.toml --indicator treated_fairly --by age_group --measures difference,sii,rii,aci,rci\n\nMeasures: difference, ratio (per group); max_min_difference, max_min_ratio, bgv, bgsd, cov, mdmu, mdmw, mdbu, mdbw, idisu, idisw, theil, mld, par, paf, sii, rii, aci, rci (per dimension); rao_scott_f, rao_scott_chisq, wald_f (tests)."
)]
pub struct Args {
    /// Data file (CSV/TSV, .xlsx, .ods, .sav; `-` for standard input).
    pub data: PathBuf,
    #[command(flatten)]
    pub design: DesignArgs,
    #[command(flatten)]
    pub estimands: EstimandArgs,
    /// The dimension: a variable, an instrument dimension id, or crossed variables `A*B`;
    /// repeat for several dimensions.
    #[arg(long, value_name = "DIM", required = true, help_heading = "Groups")]
    pub by: Vec<String>,
    /// Gaps within each level of this variable (e.g. each area): the dimension's groups are
    /// compared with the reference inside every level; rows have `by` = `VAR*DIM` and groups
    /// `level*group`.
    #[arg(long, value_name = "VAR", help_heading = "Groups")]
    pub within: Option<String>,
    /// The reference group (`*`-joined values for a crossed dimension) [default: the
    /// instrument's reference group, else the first level].
    #[arg(long, value_name = "GROUP", help_heading = "Groups")]
    pub reference: Option<String>,
    /// Measures, comma-separated (see below).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "difference,ratio,rao_scott_f",
        help_heading = "Groups"
    )]
    pub measures: String,
    /// Adjustment of the p-values across the table: holm, bh or none.
    #[arg(long, default_value = "holm", help_heading = "Groups")]
    pub adjust: String,
    /// Subpopulation filter (the full design is kept for variances).
    #[arg(long, value_name = "FILTER", help_heading = "Groups")]
    pub subset: Option<String>,
    #[command(flatten)]
    pub interval: IntervalArgs,
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
        .check("the gaps", &[("-o", args.output.output.as_deref())])?;
    let (level, df) = args.interval.resolve()?;
    let method = Adjust::parse(&args.adjust)?;
    let plan = Plan::parse(&args.measures)?;
    let mut survey = prepare_survey(
        &args.data,
        &args.design,
        &args.estimands,
        &args.input,
        args.subset.as_deref(),
        false,
        printer,
    )?;

    let request = Request {
        by: args.by.clone(),
        within: args.within.clone(),
        reference: args.reference.clone(),
        plan,
        settings: gaps::Settings {
            level,
            df,
            rules: args.reliability.rules(),
        },
        adjust: method,
        all_indicators: args.estimands.indicators.as_deref() == Some("all"),
        known: Vec::new(),
    };
    let (out, warnings) = survey_gaps(&mut survey, &request)?;
    for w in warnings {
        printer.warn(&Warning {
            message: w,
            remedy: None,
        });
    }
    gaps::table(&out, args.reliability.no_suppress).write(
        format,
        args.output.output.as_deref(),
        "gaps",
        text,
    )?;
    let tests = out.iter().filter(|r| r.kind == RowKind::Test).count();
    printer.note(format!(
        "{} rows ({} tests; p-values adjusted by {})",
        out.len(),
        tests,
        method.name()
    ));
    Ok(Outcome::Success)
}
