//! `tasa report --estimates E [--gaps G] [--compare C] [--joined J] [--instrument I] [--lang
//! fi|sv|en] [--templates DIR] -o FILE`: the workbook (`.xlsx`) or a report draft (`.md`,
//! `.html`) from tidy results.

use super::args::InputArgs;
use crate::error::Location;
use crate::instrument::Instrument;
use crate::output::labels::Labeller;
use crate::output::locale::Lang;
use crate::output::manifest::{self, Input};
use crate::output::report::{self, render};
use crate::output::xlsx::sheets::{required, Kind};
use crate::output::xlsx::{self, Settings, Tables};
use crate::progress::Printer;
use crate::table::read::{read_table, ReadOptions};
use crate::table::Table;
use crate::{Error, Outcome, Result};
use std::path::{Path, PathBuf};

/// A workbook or report draft of tidy results: a sheet per table with labels in one language,
/// charts of the key indicators, a methods sheet and a manifest; or Markdown/HTML with a section
/// per theme, sentences, tables and charts.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Example:\n  tasa report --estimates estimates.csv --gaps gaps.csv --joined joined.csv --instrument service-equality.toml --lang fi -o tulokset.xlsx\n\nValues are written as numbers, unrounded, with percent or decimal formats; withheld values show `..` with a footnote stating the rule."
)]
pub struct Args {
    /// Tidy estimates (`tasa estimate`).
    #[arg(long, value_name = "FILE")]
    pub estimates: PathBuf,
    /// Tidy gaps (`tasa gaps`).
    #[arg(long, value_name = "FILE")]
    pub gaps: Option<PathBuf>,
    /// Tidy comparisons (`tasa compare`).
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Estimates or gaps joined with register metrics (`tasa join`).
    #[arg(long, value_name = "FILE")]
    pub joined: Option<PathBuf>,
    /// The instrument, for labels of indicators, dimensions and codes.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub instrument: Option<PathBuf>,
    /// Language of the labels and texts.
    #[arg(long, value_enum, default_value = "fi")]
    pub lang: Lang,
    /// Indicators that get charts (repeatable) [default: the first estimated indicator of each
    /// theme of the instrument, else every indicator].
    #[arg(long = "key", value_name = "ID")]
    pub key: Vec<String>,
    /// The design file the estimates were made with (listed on the methods sheet).
    #[arg(long, value_name = "FILE.toml")]
    pub design: Option<PathBuf>,
    /// Weighting diagnostics (`tasa weight --report FILE.json`), listed on the methods sheet.
    #[arg(long, value_name = "FILE.json")]
    pub diagnostics: Option<PathBuf>,
    /// The interval method the estimates used, as stated on the methods sheet.
    #[arg(long, value_name = "TEXT")]
    pub ci: Option<String>,
    /// Confidence level of the estimates' intervals (stated in the sentences; gaps and changes
    /// are called significant below 1 − level).
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Folder with templates that replace the embedded ones (`report.md.tera`,
    /// `report.html.tera`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// What the compare table's survey B is: the previous wave, or another survey (the
    /// drafts' sentences say "change since the previous wave" or "difference from the
    /// comparison survey").
    #[arg(long, value_enum, default_value = "wave")]
    pub compare_as: CompareAs,
    /// The register's threshold for withheld values (`tasa join --min-base`), stated on the
    /// methods sheet and in the register footnote.
    #[arg(long, value_name = "N", default_value_t = 5.0)]
    pub min_base: f64,
    /// The smallest published n the estimates used (stated in the footnote of `..`).
    #[arg(long, default_value_t = 30)]
    pub min_cell: usize,
    #[command(flatten)]
    pub input: InputArgs,
    /// The workbook (.xlsx) or report draft (.md, .html).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// What survey B of a compare table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareAs {
    Wave,
    Survey,
}

pub fn run(args: Args, printer: &Printer) -> Result<Outcome> {
    let mut inputs: Vec<(&str, &Path)> = vec![("--estimates", args.estimates.as_path())];
    for (role, p) in [
        ("--gaps", &args.gaps),
        ("--compare", &args.compare),
        ("--joined", &args.joined),
        ("--instrument", &args.instrument),
        ("--design", &args.design),
        ("--diagnostics", &args.diagnostics),
    ] {
        if let Some(p) = p {
            inputs.push((role, p.as_path()));
        }
    }
    for (_, p) in &inputs {
        if crate::output::atomic::same_file(&args.output, p) {
            return Err(Error::Usage(format!(
                "-o {} is an input of the report; write the workbook to another file",
                args.output.display()
            )));
        }
    }
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let draft_kind = match ext.as_str() {
        "xlsx" => None,
        "md" => Some(render::Kind::Markdown),
        "html" | "htm" => Some(render::Kind::Html),
        _ => {
            return Err(Error::Usage(format!(
                "-o {}: give a workbook (.xlsx) or a report draft (.md, .html)",
                args.output.display()
            )))
        }
    };
    if !(0.0 < args.level && args.level < 1.0) {
        return Err(Error::Usage(format!(
            "--level {} must be strictly between 0 and 1, e.g. 0.95",
            args.level
        )));
    }
    let options = args.input.options();
    let instrument = match &args.instrument {
        Some(p) => Some(Instrument::load(p)?),
        None => None,
    };
    let tables = Tables {
        estimates: read_checked(&args.estimates, Kind::Estimates, &options)?,
        gaps: optional(&args.gaps, Kind::Gaps, &options)?,
        compare: optional(&args.compare, Kind::Compare, &options)?,
        joined: optional(&args.joined, Kind::Register, &options)?,
    };
    let key = if args.key.is_empty() {
        default_key(&tables.estimates, instrument.as_ref())
    } else {
        let present = indicators(&tables.estimates);
        if let Some(k) = args.key.iter().find(|k| !present.contains(k)) {
            return Err(Error::Usage(format!(
                "--key {k}: the estimates have no such indicator; they have {}",
                present.join(", ")
            )));
        }
        args.key.clone()
    };
    let labels = Labeller::new(instrument.as_ref(), args.lang);
    let methods = methods(&args, &tables, instrument.as_ref())?;
    let inputs: Vec<Input> = inputs
        .iter()
        .map(|(role, p)| manifest::input(role, p))
        .collect::<Result<_>>()?;
    let settings = Settings {
        labels,
        min_cell: args.min_cell,
        register_min_base: args.min_base,
        key,
        methods,
        inputs,
        tool: manifest::tool(),
        command: manifest::command_line(),
        time: manifest::utc_now(),
    };
    if let Some(kind) = draft_kind {
        if tables.joined.is_some() {
            printer.note(
                "--joined: register rows go into the workbook (.xlsx), not into report drafts",
            );
        }
        let inputs = report::Inputs {
            estimates: &tables.estimates,
            gaps: tables.gaps.as_ref(),
            compare: tables.compare.as_ref(),
            compare_is_wave: args.compare_as == CompareAs::Wave,
            level: args.level,
            min_cell: args.min_cell,
            methods: settings.methods.clone(),
            generated: settings.time.chars().take(10).collect(),
        };
        let draft = report::draft(&inputs, &settings.labels);
        let text = render::render(&draft, kind, args.templates.as_deref())?;
        crate::output::atomic::write_bytes(&args.output, text.as_bytes())?;
        let count: usize = draft.sections.iter().map(|s| s.indicators.len()).sum();
        printer.note(format!(
            "wrote {} ({} sections, {count} indicators, in {})",
            args.output.display(),
            draft.sections.len(),
            args.lang.code()
        ));
        return Ok(Outcome::Success);
    }
    let bytes = xlsx::workbook(&tables, &settings)?;
    crate::output::atomic::write_bytes(&args.output, &bytes)?;
    printer.note(format!(
        "wrote {} ({} estimates{}{}{}; charts for {} key indicators)",
        args.output.display(),
        tables.estimates.nrows(),
        tables
            .gaps
            .as_ref()
            .map_or(String::new(), |t| format!(", {} gaps", t.nrows())),
        tables
            .compare
            .as_ref()
            .map_or(String::new(), |t| format!(", {} comparisons", t.nrows())),
        tables
            .joined
            .as_ref()
            .map_or(String::new(), |t| format!(", {} register rows", t.nrows())),
        settings.key.len()
    ));
    Ok(Outcome::Success)
}

/// Reads a tidy table and checks it has its command's columns.
fn read_checked(path: &Path, kind: Kind, options: &ReadOptions) -> Result<Table> {
    let table = read_table(path, options)?;
    let command = match kind {
        Kind::Estimates => "estimate",
        Kind::Gaps => "gaps",
        Kind::Compare => "compare",
        Kind::Register => "join",
    };
    if let Some(missing) = required(kind).iter().find(|c| table.column(c).is_none()) {
        return Err(Error::input(
            Location::file(path).column(*missing),
            None,
            format!(
                "not a tidy table from `tasa {command}`: the column `{missing}` is missing (its columns are {})",
                table.names().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(table)
}

fn optional(path: &Option<PathBuf>, kind: Kind, options: &ReadOptions) -> Result<Option<Table>> {
    path.as_ref()
        .map(|p| read_checked(p, kind, options))
        .transpose()
}

/// The indicator ids of a table, in order of first appearance.
fn indicators(table: &Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(c) = table.column("indicator") {
        for i in 0..table.nrows() {
            if let Some(id) = c.text(i) {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    out
}

/// The first estimated indicator of each theme; without an instrument, every indicator.
fn default_key(estimates: &Table, instrument: Option<&Instrument>) -> Vec<String> {
    let present = indicators(estimates);
    let Some(inst) = instrument else {
        return present;
    };
    let mut themes: Vec<Option<String>> = Vec::new();
    let mut key = Vec::new();
    for (id, ind) in &inst.indicators {
        if present.contains(id) && !themes.contains(&ind.theme) {
            themes.push(ind.theme.clone());
            key.push(id.clone());
        }
    }
    // Ad-hoc estimands (not in the instrument) are key too.
    key.extend(
        present
            .into_iter()
            .filter(|id| !inst.indicators.contains_key(id)),
    );
    key
}

/// The methods sheet: (topic, text) in the report's language.
fn methods(
    args: &Args,
    tables: &Tables,
    instrument: Option<&Instrument>,
) -> Result<Vec<(String, String)>> {
    let lang = args.lang;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |topic: &str, text: String| out.push((topic.to_string(), text));
    if let Some(inst) = instrument {
        let title = inst
            .title
            .get(lang.code())
            .or_else(|| inst.title.get("en"))
            .cloned()
            .unwrap_or_default();
        add(
            lang.pick("Kyselylomake", "Frågeformulär", "Instrument"),
            format!(
                "{} — {title} ({} {})",
                inst.id,
                lang.pick("versio", "version", "version"),
                inst.version
            ),
        );
    }
    add(
        lang.pick("Estimointi", "Skattning", "Estimation"),
        lang.pick(
            "Asetelmaperusteiset estimaatit: summat Horvitz–Thompson-estimaattoreina, keskiarvot ja osuudet painotettuina suhde-estimaattoreina (Hájek). Varianssit Taylorin linearisoinnilla (perimmäisten ryvästen approksimaatio, ositus ja äärellisen perusjoukon korjaus) tai toistopainoilla, kuten R:n survey-paketissa; osajoukot estimoidaan koko asetelmassa.",
            "Designbaserade skattningar: totaler med Horvitz–Thompson, medelvärden och andelar som viktade kvotskattningar (Hájek). Varianser med Taylorlinearisering (ultimate cluster-approximation, stratifiering och ändlighetskorrektion) eller replikatvikter, som i R:s survey-paket; delpopulationer skattas i hela designen.",
            "Design-based estimates: Horvitz–Thompson totals, weighted ratio (Hájek) means and proportions. Variances by Taylor linearisation (ultimate-cluster approximation, stratification and finite population corrections) or replicate weights, as in R's survey package; domains are estimated within the full design.",
        )
        .to_string(),
    );
    let df = df_range(&tables.estimates);
    let ci = args.ci.clone().unwrap_or_else(|| {
        lang.pick(
            "osuuksille logit-väli, muille Waldin väli",
            "logitintervall för andelar, Waldintervall för övriga",
            "logit intervals for proportions, Wald intervals otherwise",
        )
        .to_string()
    });
    add(
        lang.pick(
            "Luottamusvälit",
            "Konfidensintervall",
            "Confidence intervals",
        ),
        match df {
            Some((lo, hi)) => format!(
                "{ci}; {} {} {}–{}).",
                lang.pick(
                    "t-jakauma asetelman vapausastein",
                    "t-fördelning med designens frihetsgrader",
                    "t distribution with the design's degrees of freedom"
                ),
                lang.pick("(havaittu väli", "(observerat intervall", "(observed range"),
                crate::table::format_number(lo),
                crate::table::format_number(hi)
            ),
            None => format!(
                "{ci}; {}.",
                lang.pick("normaalijakauma", "normalfördelning", "normal distribution")
            ),
        },
    );
    add(
        lang.pick(
            "Salaus ja luotettavuus",
            "Röjandeskydd och tillförlitlighet",
            "Suppression and reliability",
        ),
        format!(
            "{} {}",
            lang.suppressed_note(args.min_cell),
            lang.low_precision_note()
        ),
    );
    if tables.gaps.is_some() {
        add(
            lang.pick("Erot", "Skillnader", "Gaps"),
            lang.pick(
                "Ryhmien erot ja suhteet vertailuryhmään sekä epätasa-arvon tiivistysmitat (WHO HEAT) asetelmaperusteisin luottamusvälein, jotka ottavat huomioon ryhmien kovarianssin; riippumattomuutta testataan Rao–Scott-korjatuin testein; p-arvot on korjattu monivertailun vuoksi.",
                "Skillnader och kvoter mot referensgruppen samt sammanfattande ojämlikhetsmått (WHO HEAT) med designbaserade intervall som beaktar gruppernas kovarians; oberoende testas med Rao–Scott-korrigerade test; p-värdena är justerade för multipla jämförelser.",
                "Differences and ratios against the reference group and summary measures of inequality (WHO HEAT), with design-based intervals that account for the covariance of the groups; independence tested with Rao–Scott corrected tests; p-values adjusted for multiple comparisons.",
            )
            .to_string(),
        );
    }
    if tables.compare.is_some() {
        add(
            lang.pick("Vertailu", "Jämförelse", "Comparison"),
            lang.pick(
                "Kaksi riippumatonta otosta: ero A − B, keskivirhe √(SE_A² + SE_B²), Welchin–Satterthwaiten vapausasteet.",
                "Två oberoende urval: skillnad A − B, medelfel √(SE_A² + SE_B²), Welch–Satterthwaites frihetsgrader.",
                "Two independent samples: difference A − B, standard error √(SE_A² + SE_B²), Welch–Satterthwaite degrees of freedom.",
            )
            .to_string(),
        );
    }
    if tables.joined.is_some() {
        let base = crate::table::format_number(args.min_base);
        add(
            lang.pick("Rekisteritiedot", "Registeruppgifter", "Register metrics"),
            match lang {
                Lang::Fi => format!("Rekisterimittarit yhdistetty alueittain: lukumäärät summattu, osuudet ja suhteet laskettu uudelleen osoittajista ja nimittäjistä; osuuksille tarkka binomiväli (Clopper–Pearson), intensiteeteille tarkka Poisson-väli (Garwood). Salattu (..): alle {base} henkilön lukumäärät ja niihin nojaavat tai ne paljastavat osuudet ja intensiteetit."),
                Lang::Sv => format!("Registermått sammanslagna per område: antal summerade, andelar och kvoter omräknade från täljare och nämnare; exakt binomialintervall för andelar (Clopper–Pearson), exakt Poissonintervall för intensiteter (Garwood). Undertryckt (..): antal under {base} personer och andelar och intensiteter som vilar på eller röjer sådana antal."),
                Lang::En => format!("Register metrics combined by area: counts summed, shares and ratios recomputed from numerators and denominators; exact binomial intervals for shares (Clopper–Pearson), exact Poisson intervals for rates (Garwood). Withheld (..): counts below {base} persons, and shares and rates that rest on or would reveal such counts."),
            },
        );
    }
    if let Some(p) = &args.design {
        let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        add(
            lang.pick("Otanta-asetelma", "Urvalsdesign", "Sampling design"),
            lines.join("; "),
        );
    }
    if let Some(p) = &args.diagnostics {
        let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Location::file(p).line(e.line()),
                None,
                format!("expected the JSON of `tasa weight --report`: {e}"),
            )
        })?;
        let mut lines = Vec::new();
        flatten("", &value, &mut lines);
        add(
            lang.pick("Painotus", "Viktning", "Weighting"),
            lines.join("; "),
        );
    }
    Ok(out)
}

/// The smallest and largest df of the estimates, if any are finite.
fn df_range(estimates: &Table) -> Option<(f64, f64)> {
    let v = estimates.column("df")?.as_num()?;
    let finite = v.iter().copied().filter(|x| x.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    lo.is_finite().then_some((lo, hi))
}

/// `key = value` lines of a JSON document's scalars (arrays shortened to their length).
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items)
            if items.iter().all(|v| !v.is_object() && !v.is_array()) && items.len() <= 6 =>
        {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            out.push(format!("{prefix} = [{}]", parts.join(", ")));
        }
        Value::Array(items) => out.push(format!("{prefix}: {} items", items.len())),
        v => out.push(format!("{prefix} = {}", scalar(v))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
