//! `tasa init DIR`: scaffold a new assessment project that `tasa run DIR/run.toml` runs as is.

use crate::assessment::init;
use crate::progress::Printer;
use crate::{Outcome, Result};
use std::path::PathBuf;

/// Make a new assessment project: a commented run file, instruments, a design file with
/// margins, synthetic responses and register metrics.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Example:\n  tasa init assessment-2026 && tasa run assessment-2026/run.toml\n\nThen replace data/responses.csv with the delivered responses, and adjust weights/design.toml and run.toml."
)]
pub struct Args {
    /// The project folder (new or empty).
    pub dir: PathBuf,
}

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    let files = init::scaffold(&args.dir)?;
    for f in &files {
        printer.note(format!("  {}", f.display()));
    }
    printer.note(format!(
        "wrote {} files; run the assessment with: tasa run {}",
        files.len(),
        args.dir.join("run.toml").display()
    ));
    Ok(Outcome::Success)
}
