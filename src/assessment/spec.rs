//! The run file (`tasa run RUN.toml`): what an assessment reads and what it publishes. The
//! structs mirror the TOML exactly; unknown keys are errors with their line, and paths are
//! relative to the run file. [`RunSpec::load`] also checks, before any work, that every named
//! file exists and every indicator and dimension is in its instrument.

use crate::error::{line_of, Location};
use crate::instrument::Instrument;
use crate::output::locale::Lang;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The whole run file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// A title for the outputs (default: the first survey's instrument title).
    pub title: Option<String>,
    /// Output folder, relative to the run file (`--out` overrides it).
    pub out: Option<Spanned<String>>,
    /// Languages of the workbooks and report drafts: fi, sv, en.
    #[serde(default = "default_languages")]
    pub languages: Vec<Spanned<String>>,
    /// Tidy table formats written beside the workbooks: csv, tsv, json.
    #[serde(default = "default_tables")]
    pub tables: Vec<Spanned<String>>,
    /// Seed of replicate weights made by a design file's `[replicates]`.
    pub seed: Option<u64>,
    /// Write text into the CSV/TSV tables as it is (as `--raw-text`); by default text a
    /// spreadsheet would run as a formula gets a leading `'`.
    #[serde(default)]
    pub raw_text: bool,
    #[serde(default)]
    pub rules: RulesSpec,
    #[serde(default)]
    pub validation: ValidationSpec,
    /// The surveys of the assessment, each published on its own.
    #[serde(rename = "survey", default)]
    pub surveys: Vec<SurveySpec>,
}

fn default_languages() -> Vec<Spanned<String>> {
    vec![Spanned::new(0..0, "fi".to_string())]
}

fn default_tables() -> Vec<Spanned<String>> {
    vec![Spanned::new(0..0, "csv".to_string())]
}

/// Intervals, tests and suppression (design section 6), for every survey of the run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSpec {
    /// Confidence level of intervals.
    pub level: f64,
    /// Degrees of freedom: design, inf or a number.
    pub df: String,
    /// Smallest unweighted n published (disclosure control).
    pub min_cell: usize,
    /// Smallest register count shown.
    pub min_base: f64,
    /// Keep every value, also of suppressed rows.
    pub no_suppress: bool,
    /// Gap measures (names as in `tasa gaps --measures`).
    pub measures: Vec<String>,
    /// p-value adjustment: holm, bh or none.
    pub adjust: String,
}

impl Default for RulesSpec {
    fn default() -> Self {
        RulesSpec {
            level: 0.95,
            df: "design".into(),
            min_cell: 30,
            min_base: 5.0,
            no_suppress: false,
            measures: vec!["difference".into(), "ratio".into(), "rao_scott_f".into()],
            adjust: "holm".into(),
        }
    }
}

/// When validation stops the run.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ValidationSpec {
    /// `errors` (default): stop on errors, go on with warnings; `warnings`: stop on either.
    pub stop_on: Option<Spanned<String>>,
}

/// One survey: its data, instrument, design, what to estimate, and what to set it against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveySpec {
    /// Name of the survey's output folder and files.
    pub name: Spanned<String>,
    pub data: Spanned<String>,
    pub instrument: Spanned<String>,
    /// Design file (TOML): the design flags and weighting sections.
    pub design: Spanned<String>,
    /// Run the design file's weighting steps (non-response, calibration, trimming,
    /// replicates) before estimating; without it the weights are taken as given (a
    /// calibration in the design file is still applied in process).
    #[serde(default)]
    pub weight: bool,
    /// Respondent id column, checked by validation.
    pub id: Option<String>,
    /// `"all"` or a list of indicator ids.
    #[serde(default)]
    pub indicators: Option<Spanned<Indicators>>,
    /// Equality dimensions (instrument dimension ids); default: all of the instrument's.
    pub dimensions: Option<Vec<Spanned<String>>>,
    /// Indicators charted in the workbook (default: the first of each theme).
    #[serde(default)]
    pub key: Vec<Spanned<String>>,
    /// Employment areas: estimates and gaps per area and region.
    pub areas: Option<AreasSpec>,
    /// The previous wave of the same survey.
    pub previous: Option<OtherSpec>,
    /// An independent comparison survey (e.g. the general population).
    pub comparison: Option<OtherSpec>,
    /// Register metrics joined by area.
    pub register: Option<RegisterSpec>,
}

/// `indicators = "all"` or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Indicators {
    All(String),
    List(Vec<String>),
}

/// Areas and the regions they lie in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreasSpec {
    /// The area variable of the survey (e.g. `area`).
    pub variable: Spanned<String>,
    /// The region variable (e.g. a derived `region`): estimates per region too.
    pub region: Option<Spanned<String>>,
    /// Also the gaps of every dimension inside each area (and region): `gaps_by_area`. Costs
    /// a gaps table per area. Default: as `outputs`.
    pub gaps: Option<bool>,
    /// A workbook and report drafts per area: the area beside its region and the country.
    #[serde(default)]
    pub outputs: bool,
}

impl AreasSpec {
    /// Whether gaps are computed inside every area and region.
    pub fn within_gaps(&self) -> bool {
        self.gaps.unwrap_or(self.outputs)
    }
}

/// A previous wave or a comparison survey.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherSpec {
    pub data: Spanned<String>,
    /// Default: the survey's own design file.
    pub design: Option<Spanned<String>>,
    /// Default: the survey's own instrument.
    pub instrument: Option<Spanned<String>>,
    /// Run the design file's weighting steps (as the survey's `weight`).
    #[serde(default)]
    pub weight: bool,
    /// A label for the outputs (e.g. "2024", "general population").
    pub label: Option<String>,
    /// Standardise both surveys by these variables (e.g. age group and gender).
    #[serde(default)]
    pub standardize: Vec<String>,
    /// The standard population: `a` (the survey), `b` (this one) or a file.
    pub standard: Option<Spanned<String>>,
}

/// Register metrics joined with the survey's area estimates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterSpec {
    pub file: Spanned<String>,
    /// Metrics file (default: the TOML beside the register).
    pub metrics: Option<Spanned<String>>,
    pub classification: Option<Spanned<String>>,
    /// The register period(s) to join (needed when the file has several): one, or a list
    /// whose rows follow each other in the joined table (e.g. the previous wave's period and
    /// the current one's, so the register's change sits beside the survey's).
    pub period: Option<Periods>,
    /// The survey's area variable (default: the areas' variable), `VAR` or `VAR=COLUMN`.
    pub on: Option<String>,
}

/// `period = "2025"` or `period = ["2023", "2025"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Periods {
    One(String),
    Several(Vec<String>),
}

impl Periods {
    pub fn list(&self) -> Vec<String> {
        match self {
            Periods::One(p) => vec![p.clone()],
            Periods::Several(v) => v.clone(),
        }
    }
}

/// A run file read and checked, with paths resolved.
#[derive(Debug, Clone)]
pub struct Run {
    pub path: PathBuf,
    pub text: String,
    pub spec: RunSpec,
    pub languages: Vec<Lang>,
    pub tables: Vec<crate::output::Format>,
    /// How text goes into the tidy tables: the run file's `raw_text`, or `--raw-text`.
    pub text_cells: crate::output::TextCells,
    pub stop_on_warnings: bool,
}

impl Run {
    /// Reads the run file and checks every key, file, indicator and dimension before any
    /// work.
    pub fn load(path: &Path) -> Result<Run> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_str(text, path)
    }

    /// Parses and checks run-file text as [`Run::load`] does; `path` names the file in
    /// messages, and the files the run names are looked for relative to its folder.
    pub fn from_str(text: String, path: &Path) -> Result<Run> {
        let spec: RunSpec = toml::from_str(&text).map_err(|e| {
            let mut loc = Location::file(path);
            loc.line = e.span().map(|s| line_of(&text, s.start));
            Error::spec(loc, None, e.message().trim().to_string())
        })?;
        let run = Run {
            path: path.to_path_buf(),
            languages: Vec::new(),
            tables: Vec::new(),
            text_cells: crate::output::TextCells::from_raw(spec.raw_text),
            stop_on_warnings: false,
            text,
            spec,
        };
        run.check()
    }

    /// A path of the run file, relative to its folder.
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// An error at a key's line.
    pub fn error<T>(&self, at: &Spanned<T>, key: &str, problem: impl Into<String>) -> Error {
        let mut loc = Location::file(&self.path);
        if at.span().end > 0 {
            loc.line = Some(line_of(&self.text, at.span().start));
        }
        Error::spec(loc, Some(key), problem)
    }

    /// A file named by the run file, which must exist.
    pub fn file(&self, at: &Spanned<String>, key: &str) -> Result<PathBuf> {
        let p = self.resolve(at.get_ref());
        if !p.is_file() {
            return Err(self.error(
                at,
                key,
                format!(
                    "{} does not exist (paths are relative to the run file)",
                    p.display()
                ),
            ));
        }
        Ok(p)
    }

    fn check(mut self) -> Result<Run> {
        let spec = self.spec.clone();
        for l in &spec.languages {
            let lang = Lang::parse(l.get_ref()).ok_or_else(|| {
                self.error(
                    l,
                    "languages",
                    format!("`{}`: use fi, sv or en", l.get_ref()),
                )
            })?;
            self.languages.push(lang);
        }
        for t in &spec.tables {
            let f = match t.get_ref().as_str() {
                "csv" => crate::output::Format::Csv,
                "tsv" => crate::output::Format::Tsv,
                "json" => crate::output::Format::Json,
                other => {
                    return Err(self.error(t, "tables", format!("`{other}`: use csv, tsv or json")))
                }
            };
            self.tables.push(f);
        }
        if let Some(s) = &spec.validation.stop_on {
            self.stop_on_warnings = match s.get_ref().as_str() {
                "errors" => false,
                "warnings" => true,
                other => {
                    return Err(self.error(
                        s,
                        "validation.stop_on",
                        format!("`{other}`: use errors or warnings"),
                    ))
                }
            };
        }
        let r = &spec.rules;
        if !(r.level > 0.0 && r.level < 1.0) {
            return Err(Error::spec(
                Location::file(&self.path),
                Some("rules.level"),
                format!("{} must be strictly between 0 and 1, e.g. 0.95", r.level),
            ));
        }
        crate::estimate::estimator::DfChoice::parse(&r.df)?;
        crate::equality::gaps::Plan::parse(&r.measures.join(","))?;
        crate::equality::adjust::Adjust::parse(&r.adjust)?;
        if spec.surveys.is_empty() {
            return Err(Error::spec(
                Location::file(&self.path),
                Some("survey"),
                "the run file names no survey: add a [[survey]] with name, data, instrument and design",
            ));
        }
        let mut names: Vec<&str> = Vec::new();
        for s in &spec.surveys {
            let name = s.name.get_ref();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                || name.starts_with('.')
            {
                return Err(self.error(
                    &s.name,
                    "survey.name",
                    format!("`{name}`: a name for files, of letters, digits, `-`, `_` and `.`"),
                ));
            }
            if names.contains(&name.as_str()) {
                return Err(self.error(
                    &s.name,
                    "survey.name",
                    format!("`{name}` names two surveys"),
                ));
            }
            names.push(name);
            self.file(&s.data, "survey.data")?;
            self.file(&s.design, "survey.design")?;
            let inst_path = self.file(&s.instrument, "survey.instrument")?;
            let inst = Instrument::load(&inst_path)?;
            self.check_survey(s, &inst)?;
            for (other, key) in [
                (&s.previous, "survey.previous"),
                (&s.comparison, "survey.comparison"),
            ] {
                let Some(o) = other else { continue };
                self.file(&o.data, &format!("{key}.data"))?;
                if let Some(d) = &o.design {
                    self.file(d, &format!("{key}.design"))?;
                }
                if let Some(i) = &o.instrument {
                    let p = self.file(i, &format!("{key}.instrument"))?;
                    Instrument::load(&p)?;
                }
                if let Some(st) = &o.standard {
                    if !matches!(st.get_ref().as_str(), "a" | "b") {
                        self.file(st, &format!("{key}.standard"))?;
                    }
                    if o.standardize.is_empty() {
                        return Err(self.error(
                            st,
                            &format!("{key}.standard"),
                            "a standard population needs `standardize = [VARIABLES]`",
                        ));
                    }
                }
            }
            if let Some(r) = &s.register {
                self.file(&r.file, "survey.register.file")?;
                if let Some(m) = &r.metrics {
                    self.file(m, "survey.register.metrics")?;
                }
                if let Some(c) = &r.classification {
                    self.file(c, "survey.register.classification")?;
                }
                if r.period.as_ref().is_some_and(|p| p.list().is_empty()) {
                    return Err(Error::spec(
                        Location::file(&self.path),
                        Some("survey.register.period"),
                        format!("survey `{name}`: give a period, or a list of at least one"),
                    ));
                }
                if r.on.is_none() && s.areas.is_none() {
                    return Err(Error::spec(
                        Location::file(&self.path),
                        Some("survey.register.on"),
                        format!(
                            "survey `{name}`: name the area variable to join on (`on = \"area\"`, or an [survey.areas] section)"
                        ),
                    ));
                }
            }
        }
        Ok(self)
    }

    /// Indicators, dimensions and key indicators must be in the instrument.
    fn check_survey(&self, s: &SurveySpec, inst: &Instrument) -> Result<()> {
        if let Some(ind) = &s.indicators {
            match ind.get_ref() {
                Indicators::All(a) if a == "all" => {}
                Indicators::All(other) => {
                    return Err(self.error(
                        ind,
                        "survey.indicators",
                        format!("`{other}`: write \"all\" or a list of indicator ids"),
                    ))
                }
                Indicators::List(ids) => {
                    if let Some(id) = ids.iter().find(|id| !inst.indicators.contains_key(*id)) {
                        return Err(self.error(
                            ind,
                            "survey.indicators",
                            format!(
                                "`{id}` is not an indicator of {} (it has {})",
                                inst.path.display(),
                                keys(inst.indicators.keys())
                            ),
                        ));
                    }
                }
            }
        }
        for d in s.dimensions.iter().flatten() {
            if !inst.dimensions.contains_key(d.get_ref()) {
                return Err(self.error(
                    d,
                    "survey.dimensions",
                    format!(
                        "`{}` is not a dimension of {} (it has {})",
                        d.get_ref(),
                        inst.path.display(),
                        keys(inst.dimensions.keys())
                    ),
                ));
            }
        }
        for k in &s.key {
            if !inst.indicators.contains_key(k.get_ref()) {
                return Err(self.error(
                    k,
                    "survey.key",
                    format!(
                        "`{}` is not an indicator of {}",
                        k.get_ref(),
                        inst.path.display()
                    ),
                ));
            }
        }
        if let Some(a) = &s.areas {
            for (v, key) in [
                (Some(&a.variable), "survey.areas.variable"),
                (a.region.as_ref(), "survey.areas.region"),
            ] {
                let Some(v) = v else { continue };
                let known =
                    inst.items.contains_key(v.get_ref()) || inst.derived.contains_key(v.get_ref());
                if !known {
                    return Err(self.error(
                        v,
                        key,
                        format!(
                            "`{}` is neither an item nor a derived variable of {}",
                            v.get_ref(),
                            inst.path.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The output folder: `--out`, else the run file's `out`, else `out` beside the run file.
    pub fn out_dir(&self, flag: Option<&Path>) -> PathBuf {
        match (flag, &self.spec.out) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(o)) => self.resolve(o.get_ref()),
            (None, None) => self.resolve("out"),
        }
    }
}

fn keys<'a>(k: impl Iterator<Item = &'a String>) -> String {
    k.map(String::as_str).collect::<Vec<_>>().join(", ")
}
