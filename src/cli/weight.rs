//! `tasa weight DATA [design flags] -o OUT`: base weights, non-response adjustment,
//! calibration, trimming and replicate weights; writes the data with the new weight column and
//! replicate columns, a diagnostics report, and a design file for estimating from OUT.

use super::args::{DesignArgs, InputArgs, Inputs};
use crate::design::Design;
use crate::output::{atomic, data, TextCells};
use crate::progress::Printer;
use crate::table::read::read_table;
use crate::weighting::pipeline::{self, Report};
use crate::weighting::plan::{self, PlanFlags};
use crate::weighting::replicates::type_name;
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
    /// Diagnostics as JSON: targets vs achieved, weight distribution, design effect.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// A design file for estimating from OUT (weight and replicate settings).
    #[arg(long, value_name = "FILE.toml")]
    pub design_out: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let spec = args.design.spec()?;
    // --fay-rho names the Fay replicates to make here, not replicate columns to read.
    let mut flags = args.design.flags.clone();
    let fay_rho = if flags.repweights.is_none() {
        flags.fay_rho.take()
    } else {
        None
    };
    // --replicates and --seed name the replicates written out here (the weighting plan
    // repeats every step in each), not replicates to estimate with.
    let (replicates, seed) = (flags.replicates.take(), flags.seed.take());
    if !flags.standardize.is_empty() || flags.standard.is_some() {
        return Err(Error::Usage(
            "--standardize and --standard standardise estimates; give them to tasa estimate, gaps or compare, not to weight".into(),
        ));
    }
    let options = crate::design::options::resolve(spec.clone(), flags)?;
    check_output_paths(&args, &options)?;
    if options.replicates.is_some() {
        return Err(Error::Usage(
            "weight makes replicate weights (--replicates); --repweights reads existing ones — calibrate those with `tasa estimate --calibrate`".into(),
        ));
    }
    let flags = PlanFlags {
        stratum_population: args.stratum_population.clone(),
        respondent: args.respondent.clone(),
        nonresponse_cells: args.nonresponse_cells.clone(),
        collapse: args.collapse,
        min_respondents: args.min_respondents,
        max_factor: args.max_factor,
        trim: args.trim.clone(),
        trim_absolute: args.trim_absolute,
        replicates,
        seed,
        fay_rho,
    };
    let plan = plan::resolve(&flags, spec.as_ref(), &options)?;

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
    let out = plan::with_weights(
        table,
        &args.out_weight,
        weighted.weights,
        weighted.replicates,
    )?;
    data::write_csv(&args.output, &out, text)?;
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    let pattern = format!("{}_rep*", args.out_weight);
    if let Some(path) = &args.design_out {
        let only_calibration =
            plan.nonresponse.is_none() && plan.trim.is_none() && plan.stratum_population.is_none();
        let text = plan::estimation_design(
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

/// `-o`, the report and the design file may not overwrite an input or one another, and
/// their folders must exist.
fn check_output_paths(args: &Args, options: &crate::design::DesignOptions) -> Result<()> {
    Inputs::default()
        .add("the data", Some(&args.data))
        .design(args.design.design.as_deref(), options)
        .check(
            "the weighting",
            &[
                ("-o", Some(&args.output)),
                ("--report", args.report.as_deref()),
                ("--design-out", args.design_out.as_deref()),
            ],
        )?;
    let outputs = [
        Some(&args.output),
        args.report.as_ref(),
        args.design_out.as_ref(),
    ];
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
    let ext = crate::output::extension(&args.output);
    if !matches!(ext.as_str(), "csv" | "") && !args.output.starts_with("/dev") {
        return Err(Error::Usage(format!(
            "-o {}: weight writes CSV; name the output .csv",
            args.output.display()
        )));
    }
    Ok(())
}

fn write_report(path: &Path, report: &Report) -> Result<()> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    atomic::write_bytes(path, text.as_bytes())
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
