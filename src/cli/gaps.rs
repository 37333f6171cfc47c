//! `tasa gaps DATA [design flags] [estimands] --by DIM`: gaps of every group against a
//! reference group, summary measures of inequality across the groups, and tests of no
//! association, with design-based standard errors, intervals and adjusted p-values.

use super::args::{
    DesignArgs, EstimandArgs, InputArgs, IntervalArgs, OutputArgs, ReliabilityArgs, Survey,
};
use crate::equality::adjust::{adjust, Adjust};
use crate::equality::gaps::{self, GapRow, Plan, RowKind};
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

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    let format = args.output.format()?;
    let (level, df) = args.interval.resolve()?;
    let method = Adjust::parse(&args.adjust)?;
    let plan = Plan::parse(&args.measures)?;
    let mut survey = Survey::prepare(
        &args.data,
        &args.design,
        &args.estimands,
        &args.input,
        args.subset.as_deref(),
        printer,
    )?;

    let mut out: Vec<GapRow> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    // `--indicators all` takes what gaps can compare; quantiles are left out by name.
    if args.estimands.indicators.as_deref() == Some("all") {
        let quantiles: Vec<String> = survey
            .targets
            .iter()
            .filter(|t| matches!(t.stat, crate::estimate::estimand::Stat::Quantile(_)))
            .map(|t| t.indicator.clone())
            .collect();
        if !quantiles.is_empty() {
            survey
                .targets
                .retain(|t| !matches!(t.stat, crate::estimate::estimand::Stat::Quantile(_)));
            warnings.push(format!(
                "quantile indicators have no gaps and were left out: {}",
                quantiles.join(", ")
            ));
        }
    }
    let instrument = survey.instrument.as_ref();
    let runs = gaps::categorical_runs(&survey.targets, &survey.rows);
    let mut missing = crate::weighting::standardize::MissingCells::default();
    let settings = gaps::Settings {
        level,
        df,
        rules: args.reliability.rules(),
    };
    // The subpopulations gaps are computed in: the whole (sub)population, or each level of
    // --within (its label goes before the groups).
    let parts: Vec<(Option<String>, Vec<u32>)> = match &args.within {
        None => vec![(None, survey.rows.clone())],
        Some(var) => crate::estimate::domain::breakdown(
            &survey.table,
            std::slice::from_ref(var),
            &survey.rows,
        )?
        .into_iter()
        .map(|d| (Some(d.group), d.rows))
        .collect(),
    };
    for by in &args.by {
        for (level_label, rows) in &parts {
            let dim = match (
                gaps::Dimension::resolve(&survey.table, by, instrument, rows),
                level_label,
            ) {
                (Ok(d), _) => d,
                (Err(e), Some(l)) => {
                    warnings.push(format!(
                        "{} {l}: no gaps for `{by}` ({e})",
                        args.within.as_deref().unwrap_or_default()
                    ));
                    continue;
                }
                (Err(e), None) => return Err(e),
            };
            let mut over: Vec<String> = args.within.iter().cloned().collect();
            over.extend(dim.by.split('*').map(str::to_string));
            let reference = match (dim.reference(args.reference.as_deref()), level_label) {
                (Ok(r), _) => r,
                (Err(e), Some(l)) => {
                    warnings.push(format!(
                        "{} {l}: no gaps for `{by}` ({e})",
                        args.within.as_deref().unwrap_or_default()
                    ));
                    continue;
                }
                (Err(e), None) => return Err(e),
            };
            let first = out.len();
            for (k, t) in survey.targets.iter().enumerate() {
                let polarity = gaps::polarity(instrument, &t.indicator);
                // With --standardize: the groups' estimates standardised within each group.
                let design = survey.design_for(t, &over, &mut missing)?;
                // Every category of one variable: one r × c test after its last category.
                let run = runs
                    .iter()
                    .find(|(start, end, _)| (*start..*end).contains(&k));
                let per_target = match run {
                    Some(_) => Plan {
                        rao_scott_f: false,
                        rao_scott_chisq: false,
                        ..plan.clone()
                    },
                    None => plan.clone(),
                };
                let result = gaps::gaps(
                    &design,
                    t,
                    &dim,
                    reference,
                    rows,
                    polarity,
                    &per_target,
                    &settings,
                )?;
                out.extend(result.rows);
                warnings.extend(result.warnings);
                if let Some((start, end, outcome)) = run.filter(|(_, end, _)| k + 1 == *end) {
                    let (r, w) = gaps::rao_scott_rows(
                        &design,
                        outcome,
                        end - start,
                        &dim,
                        rows,
                        &plan,
                        &t.indicator,
                    );
                    out.extend(r);
                    warnings.extend(w);
                }
            }
            if let (Some(var), Some(l)) = (&args.within, level_label) {
                for row in &mut out[first..] {
                    row.by = format!("{var}*{}", row.by);
                    for g in [&mut row.group, &mut row.reference] {
                        if !g.is_empty() {
                            *g = format!("{l}*{g}");
                        }
                    }
                }
            }
        }
    }
    warnings.extend(missing.warning());
    for w in &warnings {
        printer.warn(&Warning {
            message: w.clone(),
            remedy: None,
        });
    }
    let p: Vec<f64> = out.iter().map(|r| r.p_value).collect();
    for (row, q) in out.iter_mut().zip(adjust(&p, method)) {
        row.p_adjusted = q;
    }
    gaps::table(&out, args.reliability.no_suppress).write(
        format,
        args.output.output.as_deref(),
        "gaps",
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
