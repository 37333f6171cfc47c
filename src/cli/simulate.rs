//! `tasa simulate --instrument I --n N --seed S --out DIR`: a synthetic population with a known
//! truth and a sample of respondents from it.

use crate::instrument::Instrument;
use crate::output::{atomic, data, Format, TextCells};
use crate::progress::Printer;
use crate::simulate::{self, Options};
use crate::{Error, Outcome, Result};
use std::path::PathBuf;

/// Make synthetic respondents from a population with known values: responses, design,
/// population margins and true indicator values.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Writes into DIR:\n  responses.csv   the respondents (items, derived variables, id, stratum, PSU, design weight, FPCs)\n  sample.csv      the gross sample with frame variables and `responded` (for non-response adjustment)\n  design.toml     the design (weight, strata, clusters, FPCs) for --design\n  margins/*.csv   population margins for calibration (stratum, origin x gender, age group)\n  truth.csv       true population values: indicator, by, group, value\n  register/       with --classification: synthetic register metrics per municipality (metrics.csv) and medians per area (area_medians.csv), their metrics files, and the classification\n\nExample:\n  tasa simulate --instrument instruments/service-equality.toml --n 5000 --seed 1 --out sim/"
)]
pub struct Args {
    /// Instrument with a [simulation] section.
    #[arg(long, short = 'i')]
    pub instrument: PathBuf,
    /// Expected number of respondents (the sample is larger by the expected response rate).
    #[arg(long)]
    pub n: usize,
    /// Seed of the sample and of who responds.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the population; keep it fixed to draw many samples from one population.
    #[arg(long, default_value_t = 20_260_101)]
    pub population_seed: u64,
    /// Population size (default: the instrument's, or 8 × n when that is larger).
    #[arg(long)]
    pub population: Option<usize>,
    /// `model`: response depends on area, origin × gender and age group; `none`: everyone
    /// sampled responds.
    #[arg(long, value_enum, default_value = "model")]
    pub nonresponse: Nonresponse,
    /// Skip the true values (a pass over the whole population; benchmarks need no truth).
    #[arg(long)]
    pub no_truth: bool,
    /// Output folder (created if missing).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Also write synthetic register metrics into DIR/register/, for the municipalities of this
    /// classification (CSV with municipality and area columns; areas = the stratum codes).
    #[arg(long, value_name = "FILE")]
    pub classification: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Nonresponse {
    Model,
    None,
}

pub fn run(args: Args, printer: &Printer, text: TextCells) -> Result<Outcome> {
    let inst = Instrument::load(&args.instrument)?;
    let margins_dir = args.out.join("margins");
    std::fs::create_dir_all(&margins_dir).map_err(|e| Error::io(&margins_dir, e))?;
    let options = Options {
        n: args.n,
        seed: args.seed,
        population_seed: args.population_seed,
        population: args.population,
        nonresponse: args.nonresponse == Nonresponse::Model,
        truth: !args.no_truth,
    };

    // Respondents stream into a temporary file that is renamed only when all went well.
    let responses_path = args.out.join("responses.csv");
    let tmp = tempfile::Builder::new()
        .prefix(".tasa-")
        .suffix(".tmp")
        .tempfile_in(&args.out)
        .map_err(|e| Error::io(&responses_path, e))?;
    let mut writer = std::io::BufWriter::new(tmp);
    let mut header_written = false;
    let bar = printer.bar(100, "simulating");
    let summary = simulate::simulate(&inst, &options, |chunk| {
        let io = |e: std::io::Error| Error::io(&responses_path, e);
        if !header_written {
            data::write_header(chunk, text, &mut writer).map_err(io)?;
            header_written = true;
        }
        data::write_rows(chunk, text, &mut writer).map_err(io)?;
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();
    let mut tmp_file = writer
        .into_inner()
        .map_err(|e| Error::io(&responses_path, e.into_error()))?;
    if !header_written {
        // No respondent at all: still a valid file with the header.
        use std::io::Write;
        let names: Vec<_> = summary.columns.iter().map(|c| text.apply(c)).collect();
        writeln!(tmp_file.as_file_mut(), "{}", names.join(","))
            .map_err(|e| Error::io(&responses_path, e))?;
    }

    // The register is made before anything is written, so a bad classification leaves no files.
    let register = match &args.classification {
        Some(path) => Some(make_register(path, &summary, args.population_seed)?),
        None => None,
    };
    data::write_csv(&args.out.join("sample.csv"), &summary.sample, text)?;
    atomic::write_bytes(
        &args.out.join("design.toml"),
        design_text(&summary).as_bytes(),
    )?;
    for m in &summary.margins {
        m.table().write(
            Format::Csv,
            Some(&margins_dir.join(format!("{}.csv", m.name))),
            "margin",
            text,
        )?;
    }
    if let Some(truth) = &summary.truth {
        truth.write(
            Format::Csv,
            Some(&args.out.join("truth.csv")),
            "truth",
            text,
        )?;
    }
    if let Some((classification, data)) = &register {
        write_register(classification, data, &args.out, text)?;
    }
    atomic::persist(tmp_file, &responses_path)?;

    printer.note(format!(
        "population {} in {} strata and {} PSUs; sample {}, respondents {} ({:.1} %); wrote {}",
        summary.population,
        summary.strata,
        summary.psus,
        summary.sampled,
        summary.respondents,
        100.0 * summary.respondents as f64 / summary.sampled.max(1) as f64,
        args.out.display()
    ));
    Ok(Outcome::Success)
}

/// The classification's bytes (copied as they are) and the register tables.
fn make_register(
    classification: &std::path::Path,
    summary: &simulate::Summary,
    seed: u64,
) -> Result<(Vec<u8>, simulate::register::RegisterData)> {
    use crate::register::classification::Classification;
    let bytes = std::fs::read(classification).map_err(|e| Error::io(classification, e))?;
    let class = Classification::load(classification, &Default::default())?;
    let data = simulate::register::generate(&summary.areas, &class, seed)?;
    Ok((bytes, data))
}

/// The register files: the classification, municipality metrics and area medians with their
/// metrics files.
fn write_register(
    classification: &[u8],
    data: &simulate::register::RegisterData,
    out: &std::path::Path,
    text: TextCells,
) -> Result<()> {
    use crate::simulate::register::{MEDIANS_TOML, METRICS_TOML};
    let dir = out.join("register");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    atomic::write_bytes(&dir.join("classification.csv"), classification)?;
    data.metrics
        .write(Format::Csv, Some(&dir.join("metrics.csv")), "metrics", text)?;
    atomic::write_bytes(&dir.join("metrics.toml"), METRICS_TOML.as_bytes())?;
    data.medians.write(
        Format::Csv,
        Some(&dir.join("area_medians.csv")),
        "medians",
        text,
    )?;
    atomic::write_bytes(&dir.join("area_medians.toml"), MEDIANS_TOML.as_bytes())?;
    Ok(())
}

fn design_text(summary: &simulate::Summary) -> String {
    format!(
        "# Design of the simulated sample: strata, two stages (PSUs, then persons), both stages'\n\
         # population sizes as finite population corrections. Use with --design.\n{}",
        summary.design.to_toml()
    )
}
