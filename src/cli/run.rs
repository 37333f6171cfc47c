//! `tasa run RUN.toml [--out DIR]`: the whole assessment from one run file — validate, weight,
//! estimate, compare, gaps, register join, tidy tables, workbooks, report drafts and
//! `manifest.json`.

use crate::assessment::{self, spec::Run};
use crate::output::{manifest, TextCells};
use crate::progress::Printer;
use crate::{Outcome, Result};
use std::path::PathBuf;

/// Run a whole assessment from a run file.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Example:\n  tasa run examples/biennial/run.toml --out out/\n\nPaths in the run file are relative to it. Every file, indicator and dimension the run file names is checked before any work. The outputs appear in DIR only when the whole run has succeeded (an earlier run's folder is replaced as a whole); DIR/manifest.json lists the inputs and outputs with their SHA-256, the steps with their times, and the warnings.\n\nCost: each survey is read once; estimates, gaps and comparisons grow with respondents x indicators x groups."
)]
pub struct Args {
    /// The run file (TOML).
    pub run_file: PathBuf,
    /// Output folder [default: the run file's `out`, else `out` beside the run file].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `text` is the global `--raw-text`: `Raw` overrides the run file's `raw_text = false`.
pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let mut run = Run::load(&args.run_file)?;
    if text == TextCells::Raw {
        run.text_cells = TextCells::Raw;
    }
    let finished = assessment::run(&run, args.out.as_deref(), manifest::command_line(), printer)?;
    if finished.outcome == Outcome::Problems {
        printer.warn(&crate::Warning {
            message: format!(
                "validation found problems; the run stopped and wrote nothing ({} findings):",
                finished.problems.len()
            ),
            remedy: None,
        });
        for p in finished.problems.iter().take(20) {
            eprintln!("  {p}");
        }
        return Ok(Outcome::Problems);
    }
    let m = &finished.manifest;
    const SHOWN: usize = 20;
    for w in m.warnings.iter().take(SHOWN) {
        printer.warn(&crate::Warning {
            message: w.clone(),
            remedy: None,
        });
    }
    if m.warnings.len() > SHOWN {
        printer.warn(&crate::Warning {
            message: format!(
                "and {} more warnings, all listed in {}",
                m.warnings.len() - SHOWN,
                finished.out.join("manifest.json").display()
            ),
            remedy: None,
        });
    }
    for s in &m.surveys {
        let mut line = format!(
            "{}: {} respondents, {} indicators; {} estimates ({} suppressed, {} low precision); {} gap rows ({} significant after adjustment)",
            s.name,
            s.respondents,
            s.indicators,
            s.estimates,
            s.suppressed,
            s.low_precision,
            s.gaps,
            s.significant_gaps,
        );
        if s.comparisons > 0 {
            line.push_str(&format!("; {} comparisons", s.comparisons));
        }
        if s.register_rows > 0 {
            line.push_str(&format!("; {} register rows", s.register_rows));
        }
        if s.area_outputs > 0 {
            line.push_str(&format!(
                "; a workbook and drafts for each of {} areas",
                s.area_outputs
            ));
        }
        printer.note(line);
    }
    let seconds: f64 = m.steps.iter().map(|s| s.seconds).sum();
    printer.note(format!(
        "wrote {} files into {} in {:.1} s ({} warning{}; see {})",
        m.outputs.len() + 1,
        finished.out.display(),
        seconds,
        m.warnings.len(),
        if m.warnings.len() == 1 { "" } else { "s" },
        finished.out.join("manifest.json").display()
    ));
    Ok(Outcome::Success)
}
