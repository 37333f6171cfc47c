//! `tasa weight DATA [design flags] -o OUT`: base weights, non-response adjustment,
//! calibration, trimming and replicate weights; writes the data with the new weight column and
//! replicate columns, a diagnostics report, and a design file for estimating from OUT.

use super::args::{DesignArgs, InputArgs};
use crate::design::{Design, DesignSpec, RepType};
use crate::output::{atomic, data};
use crate::progress::Printer;
use crate::table::read::read_table;
use crate::table::{Column, Table};
use crate::weighting::nonresponse::NonresponseOptions;
use crate::weighting::pipeline::{self, NonresponsePlan, Plan, Report, TrimPlan};
use crate::weighting::replicates::{type_name, ReplicateSpec};
use crate::{Error, Outcome, Result};
use std::path::{Path, PathBuf};

/// Compute weights: base weights, non-response adjustment within cells, calibration to
/// population margins, trimming, and replicate weights that repeat every step.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "The steps come from the design file ([base], [nonresponse], calibrate/margin, [trim], [replicates]) or the flags.\n\nExamples:\n  tasa weight responses.csv --design design.toml --calibrate raking --margin margins/area.csv --margin margins/age_group.csv -o weighted.csv --report weights.json\n  tasa weight sample.csv --design design.toml --respondent responded --nonresponse-cells area,age_group --collapse -o weighted.csv\n  tasa weight responses.csv --design design.toml --calibrate raking --margin m.csv --replicates bootstrap:200 --seed 7 -o weighted.csv --design-out weighted.toml\n\nEstimate from OUT with the written design file (--design-out), or --weight tasa_weight [--repweights 'tasa_weight_rep*' --rep-type TYPE]."
)]
pub struct Args {
    /// Data file (CSV/TSV, .xlsx, .ods, .sav).
    pub data: PathBuf,
    #[command(flatten)]
    pub design: DesignArgs,
    /// Output data file (CSV): the data with the weight and replicate columns.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Name of the new weight column; replicates are NAME_rep1..R.
    #[arg(long, value_name = "NAME", default_value = "tasa_weight")]
    pub out_weight: String,
    /// Base weights N_h / n_h from this column of stratum population sizes.
    #[arg(long, value_name = "COL", help_heading = "Base weights")]
    pub stratum_population: Option<String>,
    /// Response indicator column (1 respondent, 0 non-respondent): adjust for non-response.
    #[arg(long, value_name = "COL", help_heading = "Non-response")]
    pub respondent: Option<String>,
    /// Adjustment cells: variables to cross, comma-separated (none: one cell).
    #[arg(
        long,
        value_name = "VAR,VAR",
        value_delimiter = ',',
        help_heading = "Non-response"
    )]
    pub nonresponse_cells: Vec<String>,
    /// Merge deficient cells with a neighbour instead of stopping.
    #[arg(long, help_heading = "Non-response")]
    pub collapse: bool,
    /// Fewest respondents a cell may have [default: 1].
    #[arg(long, value_name = "N", help_heading = "Non-response")]
    pub min_respondents: Option<usize>,
    /// Largest adjustment factor a cell may have.
    #[arg(long, value_name = "X", help_heading = "Non-response")]
    pub max_factor: Option<f64>,
    /// Trim the weights to LO..HI times the mean weight, re-calibrating after each round.
    #[arg(long, value_name = "LO,HI", help_heading = "Trimming")]
    pub trim: Option<String>,
    /// --trim bounds are weights, not multiples of the mean.
    #[arg(long, help_heading = "Trimming")]
    pub trim_absolute: bool,
    /// Make replicate weights: bootstrap:R, jk1, jkn, brr or fay (with --fay-rho).
    #[arg(long, value_name = "TYPE[:R]", help_heading = "Replicates")]
    pub replicates: Option<String>,
    /// Seed of the bootstrap replicates [default: 1].
    #[arg(long, help_heading = "Replicates")]
    pub seed: Option<u64>,
    /// Diagnostics as JSON: targets vs achieved, weight distribution, design effect.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// A design file for estimating from OUT (weight and replicate settings).
    #[arg(long, value_name = "FILE.toml")]
    pub design_out: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    check_output_paths(&args)?;
    let spec = args.design.spec()?;
    // --fay-rho names the Fay replicates to make here, not replicate columns to read.
    let mut flags = args.design.flags.clone();
    let fay_rho = if flags.repweights.is_none() {
        flags.fay_rho.take()
    } else {
        None
    };
    if !flags.standardize.is_empty() || flags.standard.is_some() {
        return Err(Error::Usage(
            "--standardize and --standard standardise estimates; give them to tasa estimate, gaps or compare, not to weight".into(),
        ));
    }
    let options = crate::design::options::resolve(spec.clone(), flags)?;
    if options.replicates.is_some() {
        return Err(Error::Usage(
            "weight makes replicate weights (--replicates); --repweights reads existing ones — calibrate those with `tasa estimate --calibrate`".into(),
        ));
    }
    let plan = plan(&args, spec.as_ref(), &options, fay_rho)?;

    let table = read_table(&args.data, &args.input.options())?;
    let design = Design::build(&table, &options)?;
    let mut report = Report::default();
    let result = pipeline::weigh(&table, &design, &plan, &mut report);
    for w in &report.warnings {
        printer.warn(&crate::Warning {
            message: w.clone(),
            remedy: None,
        });
    }
    let weighted = match result {
        Ok(w) => w,
        Err(e) => {
            // A run that stops still leaves its diagnostics, never a half-weighted file.
            if let Some(path) = &args.report {
                report.error = Some(e.to_string());
                write_report(path, &report)?;
            }
            return Err(e);
        }
    };

    let rep_count = weighted.replicates.len();
    let negative = weighted.weights.iter().any(|&w| w < 0.0);
    let settings = weighted.replicate_settings;
    let out = with_weights(
        table,
        &args.out_weight,
        weighted.weights,
        weighted.replicates,
    )?;
    data::write_csv(&args.output, &out)?;
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    let pattern = format!("{}_rep*", args.out_weight);
    if let Some(path) = &args.design_out {
        let only_calibration =
            plan.nonresponse.is_none() && plan.trim.is_none() && plan.stratum_population.is_none();
        let text = design_for_output(
            &args.out_weight,
            &options,
            settings.as_ref(),
            negative,
            only_calibration,
            &pattern,
        );
        atomic::write_bytes(path, text.as_bytes())?;
    }
    for line in summary(&report) {
        printer.note(line);
    }
    let mut how = format!("--weight {}", args.out_weight);
    if let Some(f) = &settings {
        how.push_str(&format!(
            " --repweights '{pattern}' --rep-type {}",
            type_name(f.kind)
        ));
    }
    printer.note(format!(
        "wrote {} ({}{}); estimate with {}",
        args.output.display(),
        args.out_weight,
        if rep_count > 0 {
            format!(", {}_rep1..{rep_count}", args.out_weight)
        } else {
            String::new()
        },
        match &args.design_out {
            Some(p) => format!("--design {}", p.display()),
            None => how,
        }
    ));
    Ok(Outcome::Success)
}

/// `-o` (and the report and design file) may not overwrite the input.
fn check_output_paths(args: &Args) -> Result<()> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    let outputs = [
        Some(&args.output),
        args.report.as_ref(),
        args.design_out.as_ref(),
    ];
    for out in outputs.into_iter().flatten() {
        if same(out, &args.data) {
            return Err(Error::Usage(format!(
                "{} is the input data; write the weighted data to another file",
                out.display()
            )));
        }
    }
    // Every output's folder must exist before anything is written, so that a run never
    // leaves some of its outputs behind.
    for out in outputs.into_iter().flatten() {
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(Error::io(
                out,
                std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
            ));
        }
    }
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("csv") | None) && !args.output.starts_with("/dev") {
        return Err(Error::Usage(format!(
            "-o {}: weight writes CSV; name the output .csv",
            args.output.display()
        )));
    }
    Ok(())
}

/// The plan from the flags over the design file's weighting sections.
fn plan(
    args: &Args,
    spec: Option<&DesignSpec>,
    options: &crate::design::DesignOptions,
    fay_rho: Option<f64>,
) -> Result<Plan> {
    let stratum_population = args.stratum_population.clone().or_else(|| {
        spec.and_then(|s| s.base.as_ref())
            .map(|b| b.stratum_population.clone())
    });
    if stratum_population.is_some() && (options.weight.is_some() || options.probs.is_some()) {
        return Err(Error::Usage(
            "base weights come either from --weight/--probs or from --stratum-population, not both"
                .into(),
        ));
    }
    let nr_spec = spec.and_then(|s| s.nonresponse.as_ref());
    // The flag's indicator, else the file's; the other settings likewise flag over file.
    let indicator = args
        .respondent
        .clone()
        .or_else(|| nr_spec.map(|s| s.indicator.clone()));
    let nonresponse = match indicator {
        Some(indicator) => Some(NonresponsePlan {
            indicator,
            cells: if args.nonresponse_cells.is_empty() {
                nr_spec.map(|s| s.cells.clone()).unwrap_or_default()
            } else {
                args.nonresponse_cells.clone()
            },
            options: NonresponseOptions {
                collapse: args.collapse || nr_spec.is_some_and(|s| s.collapse),
                min_respondents: args
                    .min_respondents
                    .or(nr_spec.and_then(|s| s.min_respondents))
                    .unwrap_or(1),
                max_factor: args.max_factor.or(nr_spec.and_then(|s| s.max_factor)),
            },
        }),
        None => {
            if !args.nonresponse_cells.is_empty()
                || args.collapse
                || args.min_respondents.is_some()
                || args.max_factor.is_some()
            {
                return Err(Error::Usage(
                    "--nonresponse-cells, --collapse, --min-respondents and --max-factor need --respondent COL".into(),
                ));
            }
            None
        }
    };
    if let Some(x) = nonresponse.as_ref().and_then(|n| n.options.max_factor) {
        if x.is_nan() || x < 1.0 {
            return Err(Error::Usage(format!(
                "--max-factor {x}: an adjustment factor is at least 1"
            )));
        }
    }

    let trim_spec = spec.and_then(|s| s.trim.as_ref());
    let trim = match (&args.trim, trim_spec) {
        (Some(b), t) => {
            let (lower, upper) = crate::weighting::calibrated::parse_bounds(b)
                .map_err(|_| Error::Usage(format!("--trim `{b}`: write LO,HI, e.g. 0.3,3.5")))?;
            Some(TrimPlan {
                lower,
                upper,
                relative: t.and_then(|t| t.relative).unwrap_or(true) && !args.trim_absolute,
                recalibrate: t.and_then(|t| t.recalibrate).unwrap_or(true),
                maxit: t.and_then(|t| t.maxit).unwrap_or(20),
            })
        }
        (None, Some(t)) => Some(TrimPlan {
            lower: t.lower,
            upper: t.upper,
            relative: t.relative.unwrap_or(true) && !args.trim_absolute,
            recalibrate: t.recalibrate.unwrap_or(true),
            maxit: t.maxit.unwrap_or(20),
        }),
        (None, None) => None,
    };
    if let Some(t) = &trim {
        if !(t.lower >= 0.0 && t.lower < t.upper)
            || (t.relative && !(t.lower < 1.0 && t.upper > 1.0))
        {
            return Err(Error::Usage(format!(
                "trimming bounds {},{}: need 0 <= LO < HI{}",
                t.lower,
                t.upper,
                if t.relative {
                    ", and LO < 1 < HI as multiples of the mean weight"
                } else {
                    ""
                }
            )));
        }
    }

    let rep_spec = spec.and_then(|s| s.replicates.as_ref());
    let replicates = match (&args.replicates, rep_spec) {
        (Some(text), r) => {
            let (kind, count) = parse_replicates(text)?;
            Some(ReplicateSpec {
                kind,
                count,
                seed: args.seed.or(r.and_then(|r| r.seed)).unwrap_or(1),
                fay_rho: fay_rho.or(r.and_then(|r| r.fay_rho)),
            })
        }
        (None, Some(r)) => Some(ReplicateSpec {
            kind: RepType::parse(&r.kind)?,
            count: r.count,
            seed: args.seed.or(r.seed).unwrap_or(1),
            fay_rho: fay_rho.or(r.fay_rho),
        }),
        (None, None) => {
            if args.seed.is_some() || fay_rho.is_some() {
                return Err(Error::Usage(
                    "--seed and --fay-rho set the replicates to make; add --replicates TYPE[:R]"
                        .into(),
                ));
            }
            None
        }
    };
    let plan = Plan {
        stratum_population,
        nonresponse,
        calibration: options.calibration.clone(),
        trim,
        replicates,
    };
    if plan == Plan::default() {
        return Err(Error::Usage(
            "no weighting step: give --calibrate with margins, --respondent, --trim, --replicates or --stratum-population (or the design file's sections)".into(),
        ));
    }
    Ok(plan)
}

/// `TYPE[:R]`.
fn parse_replicates(text: &str) -> Result<(RepType, Option<usize>)> {
    let (kind, count) = match text.split_once(':') {
        Some((k, c)) => (
            k,
            Some(c.trim().parse::<usize>().map_err(|_| {
                Error::Usage(format!(
                    "--replicates `{text}`: the count after `:` must be a whole number, e.g. bootstrap:200"
                ))
            })?),
        ),
        None => (text, None),
    };
    let kind = RepType::parse(kind.trim())?;
    if kind == RepType::Other {
        return Err(Error::Usage(
            "--replicates: make bootstrap, jk1, jkn, brr or fay replicates".into(),
        ));
    }
    Ok((kind, count))
}

/// The data with the weight column set and the replicate columns `NAME_rep1..R` (columns
/// left from an earlier run with the same name are replaced, stale replicates dropped).
fn with_weights(
    table: Table,
    name: &str,
    weights: Vec<f64>,
    replicates: Vec<Vec<f64>>,
) -> Result<Table> {
    let source = table.source.clone();
    let prefix = format!("{name}_rep");
    let is_replicate = |c: &str| {
        c.strip_prefix(&prefix)
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let columns: Vec<Column> = table
        .into_columns()
        .into_iter()
        .filter(|c| c.name != name && !is_replicate(&c.name))
        .collect();
    let mut out = Table::from_columns(columns)?;
    out.source = source;
    out.push(Column::num(name, weights))?;
    for (r, w) in replicates.into_iter().enumerate() {
        out.push(Column::num(format!("{prefix}{}", r + 1), w))?;
    }
    Ok(out)
}

fn write_report(path: &Path, report: &Report) -> Result<()> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    atomic::write_bytes(path, text.as_bytes())
}

/// The design file for estimating from the output: the new weights, the design's strata,
/// clusters and fpcs for linearisation, or the replicate settings.
fn design_for_output(
    weight: &str,
    o: &crate::design::DesignOptions,
    replicates: Option<&crate::weighting::replicates::ReplicateFactors>,
    negative: bool,
    only_calibration: bool,
    pattern: &str,
) -> String {
    let mut spec = DesignSpec {
        weight: Some(weight.to_string()),
        ..Default::default()
    };
    let header;
    match replicates {
        Some(f) => {
            let r = f.reading_options(pattern);
            spec.repweights = Some(r.pattern);
            spec.rep_type = Some(type_name(r.kind).to_string());
            spec.rep_scale = r.scale;
            spec.rep_rscales = r.rscales;
            spec.fay_rho = r.fay_rho;
            header = "# Written by `tasa weight`: the calibrated weights and their replicates, which\n# repeat every weighting step, so replicate variances reflect the weighting.\n";
        }
        None => {
            // The calibration again, so that estimate's variances are calibration-aware. When
            // calibration was the only step, from the design weights: the same weights and
            // exactly R's variance. Otherwise from the final weights, which already meet the
            // margins (g = 1); the residual regression is then weighted by them instead of
            // the design weights (asymptotically the same; 1e-4 apart on R's apiclus1).
            if let Some(c) = &o.calibration {
                if only_calibration {
                    spec.weight = o.weight.clone();
                    spec.probs = o.probs.clone();
                }
                spec.calibrate = Some(c.method.name().to_string());
                spec.margin = c
                    .margins
                    .iter()
                    .map(|m| m.canonicalize().unwrap_or_else(|_| m.clone()))
                    .collect();
                spec.margin_total = c.totals.iter().cloned().collect();
                spec.bounds = c.bounds.map(|(l, u)| [l, u]);
            }
            spec.strata = o.strata.clone();
            spec.cluster = o.clusters.clone();
            spec.fpc = o.fpc.clone();
            spec.nest = o.nest;
            spec.lonely_psu = (o.lonely_psu != crate::design::LonelyPsu::Fail)
                .then(|| format!("{:?}", o.lonely_psu).to_ascii_lowercase());
            header = "# Written by `tasa weight`: the new weights with the sampling design and, when they\n# were calibrated, the calibration (it leaves them as they are and makes the variances\n# calibration-aware). Non-response and trimming count as fixed here; replicate weights\n# (--replicates) repeat them.\n";
        }
    }
    spec.allow_negative_weights = negative;
    format!("{header}{}", spec.to_toml())
}

/// The human summary for stderr.
fn summary(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(n) = &r.nonresponse {
        lines.push(format!(
            "non-response: {} of {} rows responded (weighted rate {:.1} %); {} cells{}",
            n.respondents,
            n.sampled,
            100.0 * n.weighted_response_rate,
            n.cells.len(),
            if n.final_cells < n.cells.len() {
                format!(" ({} after collapsing)", n.final_cells)
            } else {
                String::new()
            }
        ));
    }
    if let Some(c) = &r.calibration {
        let worst = c
            .cells
            .iter()
            .map(|c| (c.target - c.before).abs() / c.target.abs().max(1.0))
            .fold(0.0f64, f64::max);
        lines.push(format!(
            "calibration ({}): {} population totals met{} (largest relative misfit {:.1e}; before calibration up to {:.1} % off)",
            c.method.name(),
            c.cells.len(),
            if c.iterations > 0 {
                format!(" in {} iterations", c.iterations)
            } else {
                String::new()
            },
            c.max_relative_misfit,
            100.0 * worst
        ));
    }
    if let Some(t) = &r.trimming {
        lines.push(format!(
            "trimming: bounds {:.4}..{:.4}{}: {} weights cut, {} raised, {} rounds{}",
            t.lower,
            t.upper,
            if t.relative {
                format!(" ({}..{} × mean)", t.given.0, t.given.1)
            } else {
                String::new()
            },
            t.trimmed_high,
            t.trimmed_low,
            t.rounds,
            if t.recalibrated {
                ", re-calibrated"
            } else {
                ""
            }
        ));
    }
    if let Some(rep) = &r.replicates {
        lines.push(format!(
            "replicates: {} {}{}, every weighting step repeated",
            rep.count,
            rep.kind,
            if rep.kind == "bootstrap" {
                format!(" (seed {})", rep.seed)
            } else {
                String::new()
            }
        ));
    }
    if let Some(w) = &r.weights {
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        lines.push(format!(
            "weights: {} non-zero, min {}, median {}, max {}, CV {}; design effect of weighting {} (effective n {})",
            w.n_positive + w.n_negative,
            f(w.min),
            f(w.median),
            f(w.max),
            f(w.cv),
            f(w.kish_deff),
            w.effective_n.map_or("-".to_string(), |v| format!("{v:.0}"))
        ));
    }
    lines
}
