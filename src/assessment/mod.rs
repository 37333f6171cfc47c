//! A whole assessment from one run file (`tasa run`): for each survey, validate → weight (or
//! take the given weights) → estimate every indicator overall and by every dimension → compare
//! with the previous wave and/or a comparison survey → gaps per dimension → join with register
//! metrics → tidy tables, a workbook and report drafts per language, and per-area outputs;
//! then `manifest.json`. Each step calls the same library functions as its command, so a run's
//! tables equal those of the commands run by hand on the same inputs.
//!
//! Everything is written into a staging folder beside the output folder, which replaces the
//! output folder only when the whole run has succeeded: a failed run leaves the previous
//! results as they were.

mod areas;
pub mod init;
pub mod spec;

use crate::design::options::resolve as resolve_design;
use crate::design::{Design, DesignFlags, DesignSpec};
use crate::equality::adjust::Adjust;
use crate::equality::gaps::{self as gap, Plan};
use crate::equality::survey::{survey_gaps, Request as GapRequest};
use crate::estimate::estimand::{self, Target};
use crate::estimate::estimator::{DfChoice, Estimate, Settings};
use crate::estimate::quantile::QRule;
use crate::estimate::reliability::{Flag, Rules};
use crate::estimate::result;
use crate::estimate::survey::Survey;
use crate::instrument::derive::{self, InvalidCodes};
use crate::instrument::Instrument;
use crate::output::manifest::{self, Input};
use crate::output::publish::{publish, read_checked, Product, Publication};
use crate::output::report::{render, Focus};
use crate::output::xlsx::sheets::Kind;
use crate::output::xlsx::Tables;
use crate::output::{Format, TextCells, TidyTable};
use crate::progress::Printer;
use crate::register::join::{join_area, Keys};
use crate::register::metrics::Level;
use crate::register::source;
use crate::table::read::{read_table, ReadOptions};
use crate::table::Table;
use crate::validate::{self, Severity};
use crate::weighting::pipeline::{self, Report};
use crate::weighting::plan::{self, PlanFlags};
use crate::weighting::standardize;
use crate::{Error, Outcome, Result};
use serde::Serialize;
use spec::{Indicators, OtherSpec, Run, SurveySpec};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A target with its place in the survey's list.
type Numbered = (usize, Target);

/// The weight column a run's weighting writes.
const WEIGHT: &str = "tasa_weight";

/// The staging folder's space for files the run reads but does not publish.
const SCRATCH: &str = ".scratch";

/// What a run did, for the manifest and the closing summary.
#[derive(Debug, Default, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub command: String,
    pub run_file: Option<Input>,
    pub started: String,
    pub finished: String,
    pub seed: Option<u64>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    pub steps: Vec<Step>,
    pub surveys: Vec<SurveySummary>,
    pub warnings: Vec<String>,
}

/// A file the run wrote (path relative to the output folder).
#[derive(Debug, Serialize)]
pub struct Output {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A step with its wall time.
#[derive(Debug, Serialize)]
pub struct Step {
    pub survey: String,
    pub step: String,
    pub seconds: f64,
}

/// Counts per survey.
#[derive(Debug, Default, Serialize)]
pub struct SurveySummary {
    pub name: String,
    pub respondents: usize,
    pub indicators: usize,
    pub estimates: usize,
    pub suppressed: usize,
    pub low_precision: usize,
    pub gaps: usize,
    pub significant_gaps: usize,
    pub comparisons: usize,
    pub register_rows: usize,
    /// Areas given a workbook and report drafts of their own.
    pub area_outputs: usize,
}

/// How a run ended: its manifest and where it was written (on validation problems, nothing
/// is written and the findings are in `problems`).
pub struct Finished {
    pub outcome: Outcome,
    pub out: PathBuf,
    pub manifest: Manifest,
    pub problems: Vec<String>,
}

/// The staging folder and what has been written into it.
struct Stage {
    root: PathBuf,
    written: Vec<(String, Vec<u8>)>,
    /// How text goes into the published CSV/TSV tables.
    text: TextCells,
}

impl Stage {
    fn write(&mut self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
        self.written.push((rel.to_string(), bytes));
        Ok(())
    }

    fn table(&mut self, rel_stem: &str, table: &TidyTable, formats: &[Format]) -> Result<()> {
        for f in formats {
            let mut buf = Vec::new();
            table
                .write_text(*f, self.text, &mut buf)
                .map_err(|e| Error::io(self.root.join(rel_stem), e))?;
            let ext = match f {
                Format::Tsv => "tsv",
                Format::Json => "json",
                _ => "csv",
            };
            self.write(&format!("{rel_stem}.{ext}"), buf)?;
        }
        Ok(())
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Runs the assessment of `run` into its output folder: `out_flag` (`--out`), else the run
/// file's `out`, else `out` beside the run file.
pub fn run(
    run: &Run,
    out_flag: Option<&Path>,
    command: String,
    printer: &Printer,
) -> Result<Finished> {
    let started = manifest::utc_now();
    let out = &run.out_dir(out_flag);
    check_out(out, run, out_flag.is_some())?;
    let staging = crate::output::atomic::stage_beside(out, ".tasa-run-")?;
    let mut stage = Stage {
        root: staging.path().to_path_buf(),
        written: Vec::new(),
        text: run.text_cells,
    };
    let mut m = Manifest {
        tool: manifest::tool(),
        command,
        run_file: Some(manifest::input("run file", &run.path)?),
        started,
        seed: run.spec.seed,
        ..Default::default()
    };
    let quiet = Printer::new(true);
    let steps_total: usize = run.spec.surveys.iter().map(steps_of).sum();
    let bar = printer.bar(steps_total as u64, "run");
    let mut problems = Vec::new();
    for s in &run.spec.surveys {
        let mut ctx = Ctx {
            run,
            spec: s,
            name: s.name.get_ref().clone(),
            stage: &mut stage,
            manifest: &mut m,
            bar: &bar,
            printer: &quiet,
            clock: Instant::now(),
        };
        match ctx.survey()? {
            None => {}
            Some(found) => {
                problems = found;
                break;
            }
        }
    }
    bar.finish_and_clear();
    if !problems.is_empty() {
        // Validation stopped the run: nothing is published, the staging folder goes away.
        return Ok(Finished {
            outcome: Outcome::Problems,
            out: out.to_path_buf(),
            manifest: m,
            problems,
        });
    }
    m.finished = manifest::utc_now();
    m.outputs = stage
        .written
        .iter()
        .map(|(p, b)| Output {
            path: p.clone(),
            bytes: b.len() as u64,
            sha256: manifest::sha256_hex(b),
        })
        .collect();
    m.outputs.sort_by(|a, b| a.path.cmp(&b.path));
    let json = serde_json::to_vec_pretty(&m)
        .map_err(|e| Error::io(stage.path("manifest.json"), std::io::Error::other(e)))?;
    std::fs::write(stage.path("manifest.json"), json)
        .map_err(|e| Error::io(stage.path("manifest.json"), e))?;
    let scratch = stage.path(SCRATCH);
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
    }
    crate::output::atomic::replace_dir(staging, out)?;
    Ok(Finished {
        outcome: Outcome::Success,
        out: out.to_path_buf(),
        manifest: m,
        problems,
    })
}

/// The output folder may be new, empty, or an earlier run's (it has a `manifest.json`);
/// anything else is refused so that a run never deletes someone's files. The message names
/// where the folder was given: `--out` (`by_flag`), the run file's `out`, or the default.
fn check_out(out: &Path, run: &Run, by_flag: bool) -> Result<()> {
    let refuse = |problem: &str| {
        match (&run.spec.out, by_flag) {
        (_, true) => Error::Usage(format!("--out {}: {problem}", out.display())),
        (Some(key), false) => run.error(
            key,
            "out",
            format!("out = \"{}\": {problem}", key.get_ref()),
        ),
        (None, false) => Error::Usage(format!(
            "the default output folder {} (beside the run file): {problem}; give another with --out",
            out.display()
        )),
    }
    };
    if out.exists() {
        if !out.is_dir() {
            return Err(refuse("a file, not a folder"));
        }
        let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
        if entries.next().is_some() && !out.join("manifest.json").is_file() {
            return Err(refuse(
                "the folder has files but no manifest.json of an earlier run; give a new or empty folder (a run replaces its folder as a whole)",
            ));
        }
        // The run file and its inputs must not live inside the folder being replaced.
        let out_abs = out.canonicalize().map_err(|e| Error::io(out, e))?;
        let inside = |p: &Path| p.canonicalize().is_ok_and(|p| p.starts_with(&out_abs));
        if inside(&run.path) {
            return Err(refuse(
                "the run file is inside the output folder, which a run replaces; write the outputs elsewhere",
            ));
        }
    }
    Ok(())
}

/// The steps of one survey, for the progress bar.
fn steps_of(s: &SurveySpec) -> usize {
    5 + usize::from(s.previous.is_some())
        + usize::from(s.comparison.is_some())
        + usize::from(s.register.is_some())
}

/// One survey's run.
struct Ctx<'a> {
    run: &'a Run,
    spec: &'a SurveySpec,
    name: String,
    stage: &'a mut Stage,
    manifest: &'a mut Manifest,
    bar: &'a indicatif::ProgressBar,
    printer: &'a Printer,
    clock: Instant,
}

/// What every publication of a survey shares (the survey's and each area's).
struct Base<'a> {
    instrument: &'a Instrument,
    key: Vec<String>,
    level: f64,
    design: PathBuf,
    diagnostics: Option<PathBuf>,
    compare_is_wave: bool,
    inputs: Vec<Input>,
}

/// A survey prepared for estimation, with what went into it.
struct Prepared {
    survey: Survey,
    design_path: PathBuf,
    diagnostics: Option<PathBuf>,
}

impl Ctx<'_> {
    fn step(&mut self, step: &str) {
        let seconds = self.clock.elapsed().as_secs_f64();
        self.manifest.steps.push(Step {
            survey: self.name.clone(),
            step: step.to_string(),
            seconds: (seconds * 1000.0).round() / 1000.0,
        });
        self.bar.set_message(format!("{} {step}", self.name));
        self.bar.inc(1);
        self.clock = Instant::now();
    }

    fn input(&mut self, role: &str, path: &Path) -> Result<()> {
        let mut i = manifest::input(&format!("{} {role}", self.name), path)?;
        i.path = relative_to(&i.path, self.run.path.parent());
        self.manifest.inputs.push(i);
        Ok(())
    }

    fn warn(&mut self, messages: impl IntoIterator<Item = String>) {
        for m in messages {
            self.manifest.warnings.push(format!("{}: {m}", self.name));
        }
    }

    fn settings(&self) -> Result<Settings> {
        let r = &self.run.spec.rules;
        Ok(Settings {
            ci: None,
            level: r.level,
            df: DfChoice::parse(&r.df)?,
            qrule: QRule::Math,
            rules: Rules {
                min_cell: r.min_cell,
                ..Default::default()
            },
        })
    }

    /// Returns validation problems when they stop the run.
    fn survey(&mut self) -> Result<Option<Vec<String>>> {
        let s = self.spec;
        let run = self.run;
        let inst_path = run.file(&s.instrument, "survey.instrument")?;
        let data = run.file(&s.data, "survey.data")?;
        let design = run.file(&s.design, "survey.design")?;
        for (role, p) in [
            ("instrument", &inst_path),
            ("data", &data),
            ("design", &design),
        ] {
            self.input(role, p)?;
        }
        let inst = Instrument::load(&inst_path)?;

        // Validate.
        let raw = read_table(&data, &ReadOptions::default())?;
        let findings = validate::validate(
            &inst,
            &raw,
            &validate::Options {
                id: s.id.clone(),
                weight: None,
            },
        )?;
        let stop_at = if run.stop_on_warnings {
            Severity::Warning
        } else {
            Severity::Error
        };
        let stopping: Vec<String> = findings
            .iter()
            .filter(|f| f.severity() >= stop_at)
            .map(|f| {
                format!(
                    "{}: {} {} {}{} {}",
                    data.display(),
                    f.severity().as_str(),
                    f.rule.code(),
                    f.rule.name(),
                    f.column
                        .as_deref()
                        .map(|c| format!(" {c}:"))
                        .unwrap_or_default(),
                    f.message
                )
            })
            .collect();
        if !stopping.is_empty() {
            return Ok(Some(stopping));
        }
        let warned = findings
            .iter()
            .filter(|f| f.severity() == Severity::Warning)
            .count();
        if warned > 0 {
            self.warn([format!(
                "validation: {warned} warnings (see `tasa validate {} --instrument {}`)",
                data.display(),
                inst_path.display()
            )]);
        }
        self.step("validate");

        // Weight, then prepare the survey.
        let ids = self.indicator_ids(&inst);
        let instrument = inst.clone();
        let prepared = self.prepare(raw, inst, &design, s.weight, &ids, "")?;
        self.step(if s.weight { "weight" } else { "design" });
        let mut survey = prepared.survey;
        let settings = self.settings()?;
        let (level, df) = (settings.level, settings.df);
        let no_suppress = run.spec.rules.no_suppress;
        let tables = run.tables.clone();
        let inst = instrument;
        let dims: Vec<String> = match &s.dimensions {
            Some(d) => d.iter().map(|x| x.get_ref().clone()).collect(),
            None => inst.dimensions.keys().cloned().collect(),
        };
        let dim_vars: Vec<String> = dims
            .iter()
            .filter_map(|d| inst.dimensions.get(d).map(|x| x.variable.clone()))
            .collect();
        let areas = s.areas.as_ref();
        let area_vars: Vec<String> = areas
            .iter()
            .flat_map(|a| std::iter::once(&a.variable).chain(a.region.as_ref()))
            .map(|v| v.get_ref().clone())
            .filter(|v| !dim_vars.contains(v))
            .collect();
        let by: Vec<String> = dim_vars.iter().chain(&area_vars).cloned().collect();

        // Estimate.
        let (estimates, w) = survey.estimates(&by, &settings, self.printer)?;
        self.warn(w);
        let summary = SurveySummary {
            name: self.name.clone(),
            respondents: survey.table.nrows(),
            indicators: ids.len(),
            estimates: estimates.len(),
            suppressed: count_flag(&estimates, Flag::Suppressed),
            low_precision: count_flag(&estimates, Flag::LowPrecision),
            ..Default::default()
        };
        self.manifest.surveys.push(summary);
        let stem = self.name.clone();
        let estimates_table = result::table(&estimates, no_suppress);
        self.stage
            .table(&format!("{stem}/estimates"), &estimates_table, &tables)?;
        // The tidy CSV is what the join and the publications read (as the commands would).
        let estimates_csv = self.tidy_csv("estimates", &estimates_table)?;
        self.step("estimate");

        // Compare.
        // The first is the workbook's comparison (the previous wave's, else the comparison
        // survey's); a second, the comparison survey's beside the previous wave's.
        let mut compare_csv: Vec<(PathBuf, bool)> = Vec::new();
        for (other, what, is_wave) in [
            (&s.previous, "previous", true),
            (&s.comparison, "comparison", false),
        ] {
            let Some(o) = other else { continue };
            let rows = self.compare(
                &mut survey,
                o,
                what,
                &dim_vars,
                &area_vars,
                &settings,
                &estimates,
            )?;
            let n = rows.len();
            let table = crate::equality::compare::table(&rows, no_suppress);
            self.stage
                .table(&format!("{stem}/compare_{what}"), &table, &tables)?;
            let path = self.tidy_csv(&format!("compare_{what}"), &table)?;
            compare_csv.push((path, is_wave));
            self.summary().comparisons += n;
            self.step(&format!("compare {what}"));
        }

        // Gaps, nationally and (with areas) inside each area and region.
        let plan = Plan::parse(&run.spec.rules.measures.join(","))?;
        let adjust = Adjust::parse(&run.spec.rules.adjust)?;
        let gap_request = |within: Option<String>| GapRequest {
            by: dims.clone(),
            within,
            reference: None,
            plan: plan.clone(),
            settings: gap::Settings {
                level,
                df,
                rules: settings.rules.clone(),
            },
            adjust,
            all_indicators: true,
            known: Vec::new(),
        };
        // The groups' flags of the national gaps are those of the estimates just made.
        let national = GapRequest {
            known: estimates.clone(),
            ..gap_request(None)
        };
        let (gaps, w) = survey_gaps(&mut survey, &national)?;
        self.warn(w);
        let significant = gaps
            .iter()
            .filter(|g| g.p_adjusted < 1.0 - level && g.flag != Flag::Suppressed)
            .count();
        let gaps_table = gap::table(&gaps, no_suppress);
        self.stage
            .table(&format!("{stem}/gaps"), &gaps_table, &tables)?;
        let gaps_csv = self.tidy_csv("gaps", &gaps_table)?;
        {
            let sum = self.summary();
            sum.gaps = gaps.len();
            sum.significant_gaps = significant;
        }
        let mut within_rows = Vec::new();
        for v in areas
            .iter()
            .filter(|a| a.within_gaps())
            .flat_map(|a| std::iter::once(&a.variable).chain(a.region.as_ref()))
        {
            let (rows, w) = survey_gaps(&mut survey, &gap_request(Some(v.get_ref().clone())))?;
            // Small areas leave many groups empty: one line says how many, not each.
            if !w.is_empty() {
                self.warn([format!(
                    "gaps by {}: {} groups or tests without the respondents they need were left out",
                    v.get_ref(),
                    w.len()
                )]);
            }
            let t = gap::table(&rows, no_suppress);
            let name = format!("gaps_by_{}", v.get_ref());
            self.stage.table(&format!("{stem}/{name}"), &t, &tables)?;
            within_rows.extend(rows);
        }
        self.step("gaps");

        // Register.
        let mut joined_csv = None;
        if let Some(r) = &s.register {
            let path = self.register(r, &estimates_csv)?;
            joined_csv = Some(path);
            self.step("register");
        }

        // Publish.
        let read = |p: &Path, kind: Kind| read_checked(p, kind, &ReadOptions::default());
        let tables_in = Tables {
            estimates: read(&estimates_csv, Kind::Estimates)?,
            gaps: Some(read(&gaps_csv, Kind::Gaps)?),
            compare: match compare_csv.first() {
                Some((p, _)) => Some(read(p, Kind::Compare)?),
                None => None,
            },
            comparison: match compare_csv.get(1) {
                Some((p, _)) => Some(read(p, Kind::Compare)?),
                None => None,
            },
            joined: match &joined_csv {
                Some(p) => Some(read(p, Kind::Register)?),
                None => None,
            },
        };
        let inputs: Vec<Input> = self
            .manifest
            .inputs
            .iter()
            .filter(|i| i.role.starts_with(&format!("{} ", self.name)))
            .cloned()
            .collect();
        let base = Base {
            instrument: &inst,
            key: s.key.iter().map(|k| k.get_ref().clone()).collect(),
            level,
            design: prepared.design_path.clone(),
            diagnostics: prepared.diagnostics.clone(),
            compare_is_wave: compare_csv.first().is_some_and(|c| c.1),
            inputs,
        };
        self.products(&base, &tables_in, None, &format!("{stem}/{stem}"))?;
        if let Some(a) = areas.filter(|a| a.outputs) {
            // The gaps of the whole population and those inside every area and region, in
            // one table that each area's publication takes its rows from.
            let mut all = gaps;
            all.extend(within_rows);
            let path = self.scratch_csv("gaps_all", &gap::table(&all, no_suppress))?;
            let tables_all = Tables {
                gaps: Some(read(&path, Kind::Gaps)?),
                ..tables_in
            };
            let n = self.area_outputs(a, &base, &tables_all, &survey.table)?;
            self.summary().area_outputs = n;
        }
        self.step("publish");

        Ok(None)
    }

    fn summary(&mut self) -> &mut SurveySummary {
        self.manifest
            .surveys
            .last_mut()
            .expect("the survey's summary is pushed after estimating")
    }

    /// Writes the workbook and the report drafts of every language of the run, as
    /// `{rel}.{lang}.{xlsx,md,html}`.
    fn products(
        &mut self,
        base: &Base,
        tables: &Tables,
        focus: Option<&Focus>,
        rel: &str,
    ) -> Result<()> {
        for (path, bytes) in self.render(base, tables, focus, rel)? {
            self.stage.write(&path, bytes)?;
        }
        Ok(())
    }

    /// The products of [`Ctx::products`] as (path, bytes), written nowhere (so areas can be
    /// rendered in parallel).
    fn render(
        &self,
        base: &Base,
        tables: &Tables,
        focus: Option<&Focus>,
        rel: &str,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let rules = &self.run.spec.rules;
        let mut out = Vec::new();
        for &lang in &self.run.languages {
            let publication = Publication {
                tables,
                instrument: Some(base.instrument),
                lang,
                key: &base.key,
                ci: None,
                level: base.level,
                min_cell: rules.min_cell,
                min_base: rules.min_base,
                design: Some(&base.design),
                diagnostics: base.diagnostics.as_deref(),
                templates: None,
                compare_is_wave: base.compare_is_wave,
                inputs: base.inputs.clone(),
                command: self.manifest.command.clone(),
                time: self.manifest.started.clone(),
                focus,
            };
            for (product, ext) in [
                (Product::Workbook, "xlsx"),
                (Product::Draft(render::Kind::Markdown), "md"),
                (Product::Draft(render::Kind::Html), "html"),
            ] {
                let (bytes, _) = publish(&publication, product)?;
                out.push((format!("{rel}.{}.{ext}", lang.code()), bytes));
            }
        }
        Ok(out)
    }

    /// The tidy CSV of a table: the published one, or (when the run publishes only other
    /// formats, or the published one has a `'` before text a spreadsheet would run) one in the
    /// staging folder's scratch space with the text as it is, removed before publishing.
    fn tidy_csv(&mut self, name: &str, table: &TidyTable) -> Result<PathBuf> {
        if self.run.tables.contains(&Format::Csv) && !table.alters(self.stage.text) {
            return Ok(self.stage.path(&format!("{}/{name}.csv", self.name)));
        }
        self.scratch_csv(name, table)
    }

    /// A table written as CSV, its text as it is, into the scratch space (read back, never
    /// published).
    fn scratch_csv(&mut self, name: &str, table: &TidyTable) -> Result<PathBuf> {
        let path = self
            .stage
            .path(&format!("{SCRATCH}/{}/{name}.csv", self.name));
        let mut buf = Vec::new();
        table
            .write_text(Format::Csv, TextCells::Raw, &mut buf)
            .map_err(|e| Error::io(&path, e))?;
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        std::fs::write(&path, buf).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    fn indicator_ids(&self, inst: &Instrument) -> Vec<String> {
        match self.spec.indicators.as_ref().map(|i| i.get_ref()) {
            Some(Indicators::List(ids)) => ids.clone(),
            _ => inst.indicators.keys().cloned().collect(),
        }
    }

    /// Prepares a survey as `tasa weight` + `tasa estimate --design` would: the instrument's
    /// items and derived variables, the design file's weighting steps when `weight`, and the
    /// design for estimating.
    fn prepare(
        &mut self,
        raw: Table,
        inst: Instrument,
        design_path: &Path,
        weight: bool,
        ids: &[String],
        side: &str,
    ) -> Result<Prepared> {
        let mut table = derive::prepare(&inst, raw, InvalidCodes::Error)?;
        let spec = DesignSpec::load(design_path)?;
        let mut options = resolve_design(Some(spec.clone()), DesignFlags::default())?;
        let mut used_design = design_path.to_path_buf();
        let mut diagnostics = None;
        if weight {
            if options.replicates.is_some() {
                return Err(Error::spec(
                    crate::error::Location::file(design_path),
                    Some("repweights"),
                    "`weight = true` makes weights from the design file's steps; a design with replicate weight columns is used as given (set `weight = false`)",
                ));
            }
            // The run's seed is for replicates the design file makes.
            let flags = PlanFlags {
                seed: spec.replicates.as_ref().and(self.run.spec.seed),
                ..Default::default()
            };
            let plan = plan::resolve(&flags, Some(&spec), &options)?;
            let design = Design::build(&table, &options)?;
            let mut report = Report::default();
            let weighted = pipeline::weigh(&table, &design, &plan, &mut report)?;
            self.warn(report.warnings.iter().cloned());
            let negative = weighted.weights.iter().any(|&w| w < 0.0);
            let settings = weighted.replicate_settings;
            table = plan::with_weights(table, WEIGHT, weighted.weights, weighted.replicates)?;
            let only_calibration = plan.nonresponse.is_none()
                && plan.trim.is_none()
                && plan.stratum_population.is_none();
            let text = plan::estimation_design(
                WEIGHT,
                &options,
                settings.as_ref(),
                negative,
                only_calibration,
                &format!("{WEIGHT}_rep*"),
            );
            let rel = format!("{}/design{side}.toml", self.name);
            self.stage.write(&rel, text.clone().into_bytes())?;
            used_design = self.stage.path(&rel);
            let json = serde_json::to_vec_pretty(&report)
                .map_err(|e| Error::io(&used_design, std::io::Error::other(e)))?;
            let rel = format!("{}/weights{side}.json", self.name);
            self.stage.write(&rel, json)?;
            diagnostics = Some(self.stage.path(&rel));
            let est_spec = DesignSpec::load(&used_design)?;
            options = resolve_design(Some(est_spec), DesignFlags::default())?;
        }
        // A compared survey (`side` named) serves the comparison only, which makes each
        // indicator's values when it compares it: they are not all held at once.
        let mut targets: Vec<Target> = Vec::new();
        for id in ids {
            targets.push(if side.is_empty() {
                estimand::indicator_target(&inst, id, &table)?
            } else {
                estimand::deferred_indicator_target(&inst, id, &table)?
            });
        }
        let survey = Survey::new(table, Some(inst), targets, &options, None, self.printer)?;
        Ok(Prepared {
            survey,
            design_path: used_design,
            diagnostics,
        })
    }

    /// The survey against its previous wave or a comparison survey, as `tasa compare`.
    /// Breakdowns: the dimensions `by` that both instruments have, and the area variables
    /// `areas` that both data sets have. The survey's estimates `known_a` (made with the
    /// same settings) are not made again.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &mut self,
        a: &mut Survey,
        o: &OtherSpec,
        what: &str,
        by: &[String],
        areas: &[String],
        settings: &Settings,
        known_a: &[crate::estimate::estimator::Estimate],
    ) -> Result<Vec<crate::equality::compare::Comparison>> {
        let run = self.run;
        let key = format!("survey.{what}");
        let data = run.file(&o.data, &format!("{key}.data"))?;
        let design = match &o.design {
            Some(d) => run.file(d, &format!("{key}.design"))?,
            None => run.file(&self.spec.design, "survey.design")?,
        };
        let inst_path = match &o.instrument {
            Some(i) => run.file(i, &format!("{key}.instrument"))?,
            None => run.file(&self.spec.instrument, "survey.instrument")?,
        };
        self.input(&format!("{what} data"), &data)?;
        if o.design.is_some() {
            self.input(&format!("{what} design"), &design)?;
        }
        if o.instrument.is_some() {
            self.input(&format!("{what} instrument"), &inst_path)?;
        }
        let inst_b = Instrument::load(&inst_path)?;
        // The indicators both instruments define, by id.
        let ids: Vec<String> = a
            .targets
            .iter()
            .map(|t| t.indicator.clone())
            .filter(|id| inst_b.indicators.contains_key(id))
            .fold(Vec::new(), |mut v, id| {
                if !v.contains(&id) {
                    v.push(id);
                }
                v
            });
        if ids.is_empty() {
            return Err(Error::spec(
                crate::error::Location::file(&run.path),
                Some(&format!("{key}.instrument")),
                format!(
                    "{} shares no indicator id with the survey's instrument: nothing to compare",
                    inst_path.display()
                ),
            ));
        }
        let raw = read_table(&data, &ReadOptions::default())?;
        let side = format!("_{what}");
        let mut b = self
            .prepare(raw, inst_b, &design, o.weight, &ids, &side)?
            .survey;
        // Breakdowns that are dimensions of both instruments (the same codes are then meant
        // to mean the same groups), and not standardising variables (a domain of one would be
        // standardised to itself).
        let b_dims: Vec<&str> = b
            .instrument
            .iter()
            .flat_map(|i| i.dimensions.values().map(|d| d.variable.as_str()))
            .collect();
        let (by, left_out): (Vec<String>, Vec<String>) =
            by.iter().chain(areas).cloned().partition(|v| {
                (b_dims.contains(&v.as_str()) || areas.contains(v))
                    && b.table.column(v).is_some()
                    && !o.standardize.contains(v)
            });
        if !left_out.is_empty() {
            self.warn([format!(
                "compare {what}: breakdowns by {} are not compared (not a dimension of {}{})",
                left_out.join(", "),
                relative_to(&inst_path, run.path.parent()).display(),
                if o.standardize.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or a standardising variable: {}",
                        o.standardize.join(", ")
                    )
                }
            )]);
        }
        let by = &by[..];
        // The targets B shares, moved (not copied: each holds a value per respondent) and
        // put back in their order afterwards.
        let (shared, others): (Vec<Numbered>, Vec<Numbered>) = std::mem::take(&mut a.targets)
            .into_iter()
            .enumerate()
            .partition(|(_, t)| ids.contains(&t.indicator));
        let order: Vec<usize> = shared.iter().map(|(k, _)| *k).collect();
        a.targets = shared.into_iter().map(|(_, t)| t).collect();
        let outcome = (|| {
            if !o.standardize.is_empty() {
                let standard = match o.standard.as_ref() {
                    Some(s) if s.get_ref() == "a" => standardize::survey_standard(
                        &a.table,
                        &a.design.weights,
                        &o.standardize,
                        &a.rows,
                        &self.name,
                    )?,
                    Some(s) if s.get_ref() != "b" => {
                        let p = run.file(s, &format!("{key}.standard"))?;
                        standardize::read_checked(&p, &o.standardize)?
                    }
                    _ => standardize::survey_standard(
                        &b.table,
                        &b.design.weights,
                        &o.standardize,
                        &b.rows,
                        &format!("{what} survey"),
                    )?,
                };
                a.standard = Some(standard.clone());
                b.standard = Some(standard);
            }
            crate::equality::compare::surveys(a, &b, by, settings, self.printer, known_a)
        })();
        let mut all: Vec<Numbered> = order
            .into_iter()
            .zip(std::mem::take(&mut a.targets))
            .chain(others)
            .collect();
        all.sort_by_key(|(k, _)| *k);
        a.targets = all.into_iter().map(|(_, t)| t).collect();
        a.standard = None;
        let (rows, w) = outcome?;
        self.warn(w.into_iter().map(|m| format!("compare {what}: {m}")));
        Ok(rows)
    }

    /// The estimates joined with the register, as `tasa join`.
    fn register(&mut self, r: &spec::RegisterSpec, estimates_csv: &Path) -> Result<PathBuf> {
        let run = self.run;
        let file = run.file(&r.file, "survey.register.file")?;
        let metrics = match &r.metrics {
            Some(m) => Some(run.file(m, "survey.register.metrics")?),
            None => crate::register::metrics::Metrics::beside(&file),
        };
        let classification = match &r.classification {
            Some(c) => Some(run.file(c, "survey.register.classification")?),
            None => None,
        };
        self.input("register", &file)?;
        if let Some(m) = &metrics {
            self.input("register metrics", m)?;
        }
        if let Some(c) = &classification {
            self.input("classification", c)?;
        }
        let on =
            r.on.clone()
                .or_else(|| {
                    self.spec
                        .areas
                        .as_ref()
                        .map(|a| a.variable.get_ref().clone())
                })
                .unwrap_or_else(|| "area".into());
        let (unit, unit_column) = match on.split_once('=') {
            Some((v, c)) => (v.trim().to_string(), Some(c.trim().to_string())),
            None => (on.trim().to_string(), None),
        };
        let periods: Vec<Option<String>> = match &r.period {
            Some(p) => p.list().into_iter().map(Some).collect(),
            None => vec![None],
        };
        let input = read_table(estimates_csv, &ReadOptions::default())?;
        let mut table: Option<TidyTable> = None;
        // One join per period; the rows of each period follow those of the one before.
        for period in periods {
            let request = source::Request {
                register: file.clone(),
                metrics: metrics.clone(),
                declared: Vec::new(),
                select: Vec::new(),
                classification: classification.clone(),
                unit: unit.clone(),
                unit_column: unit_column.clone(),
                group: None,
                period,
                period_column: None,
                total: None,
                level: Level::Area,
                register_level: None,
                confidence: run.spec.rules.level,
                min_base: run.spec.rules.min_base,
            };
            let loaded = source::load(&request, &ReadOptions::default())?;
            let joined = join_area(
                &input,
                &loaded.register,
                Keys {
                    unit: &unit,
                    group: loaded.group_var.as_deref(),
                },
            )?;
            self.warn(loaded.register.problems.iter().cloned());
            self.warn(joined.problems.iter().cloned());
            match &mut table {
                None => table = Some(joined.table),
                Some(t) => t.rows.extend(joined.table.rows),
            }
        }
        let joined = table.ok_or_else(|| {
            Error::spec(
                crate::error::Location::file(&run.path),
                Some("survey.register.period"),
                "give a period, or a list of at least one",
            )
        })?;
        self.summary().register_rows = joined.rows.len();
        let tables = run.tables.clone();
        let stem = format!("{}/joined", self.name);
        self.stage.table(&stem, &joined, &tables)?;
        self.tidy_csv("joined", &joined)
    }
}

fn count_flag(estimates: &[Estimate], flag: Flag) -> usize {
    estimates.iter().filter(|e| e.flag == flag).count()
}

/// A path as the run file names it: relative to the run file's folder when inside it.
fn relative_to(path: &Path, dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(d) if !d.as_os_str().is_empty() => path
            .strip_prefix(d)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}
