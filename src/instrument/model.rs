//! The checked instrument: every reference resolved, filters parsed, derived variables in
//! dependency order. [`Instrument::load`] fails on any error; [`check::lint`] lists them all.

use super::spec::{
    self, IndicatorKind, InstrumentSpec, ItemType, Labels, Polarity, ScaleKind, Source,
};
use crate::error::{key_at, line_of, Location};
use crate::table::filter::Filter;
use crate::{Error, Result};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// A value code with its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub value: f64,
    pub labels: Labels,
}

#[derive(Debug, Clone)]
pub struct Scale {
    pub id: String,
    pub kind: ScaleKind,
    pub codes: Vec<Code>,
    pub missing: Vec<Code>,
}

impl Scale {
    pub fn is_valid(&self, x: f64) -> bool {
        self.codes.iter().any(|c| c.value == x)
    }
    pub fn is_missing_code(&self, x: f64) -> bool {
        self.missing.iter().any(|c| c.value == x)
    }
    /// Position of a valid code in the scale's order.
    pub fn position(&self, x: f64) -> Option<usize> {
        self.codes.iter().position(|c| c.value == x)
    }
    /// The label of a valid or missing code in `lang`.
    pub fn label(&self, x: f64, lang: &str) -> Option<&str> {
        self.codes
            .iter()
            .chain(&self.missing)
            .find(|c| c.value == x)
            .and_then(|c| c.labels.get(lang))
            .map(String::as_str)
    }
    pub fn min_max(&self) -> (f64, f64) {
        let lo = self
            .codes
            .iter()
            .map(|c| c.value)
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .codes
            .iter()
            .map(|c| c.value)
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    /// The column in response files.
    pub column: String,
    pub text: Labels,
    pub kind: ItemType,
    pub scale: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub integer: bool,
    pub missing: Vec<f64>,
    pub source: Source,
    pub universe: Option<Filter>,
    pub simulate: spec::ItemSimulateSpec,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub enum DerivedRule {
    Bands {
        from: String,
        breaks: Vec<f64>,
    },
    Recode {
        from: String,
        map: Vec<(RecodeValue, f64)>,
    },
    Cases(Vec<(Filter, f64)>),
}

/// A value matched by a recode rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RecodeValue {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct Derived {
    pub id: String,
    pub label: Labels,
    pub scale: String,
    pub rule: DerivedRule,
    pub otherwise: Option<f64>,
    pub line: usize,
}

impl Derived {
    /// Variables the rule reads.
    pub fn inputs(&self) -> Vec<String> {
        match &self.rule {
            DerivedRule::Bands { from, .. } | DerivedRule::Recode { from, .. } => {
                vec![from.clone()]
            }
            DerivedRule::Cases(cases) => {
                let mut v: Vec<String> = Vec::new();
                for (f, _) in cases {
                    for name in f.variables() {
                        if !v.iter().any(|x| x == name) {
                            v.push(name.to_string());
                        }
                    }
                }
                v
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dimension {
    pub id: String,
    pub variable: String,
    pub label: Labels,
    pub reference: Option<f64>,
    pub ordered: bool,
}

/// What an indicator measures for each respondent.
#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    /// proportion (success codes), mean, total (of values, or of persons with success codes),
    /// quantile (`p`).
    Item {
        item: String,
        success: Option<Vec<f64>>,
    },
    AnyOf {
        items: Vec<String>,
        success: Vec<f64>,
    },
    AllOf {
        items: Vec<String>,
        success: Vec<f64>,
    },
    Score {
        items: Vec<String>,
        min_valid: usize,
        reverse: Vec<String>,
    },
    Ratio {
        numerator: String,
        denominator: String,
    },
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub label: Labels,
    pub kind: IndicatorKind,
    pub theme: Option<String>,
    pub definition: Definition,
    /// The quantile's probability.
    pub p: Option<f64>,
    pub universe: Option<Filter>,
    pub polarity: Polarity,
    pub dimensions: Vec<String>,
    pub unit: Option<Labels>,
    pub line: usize,
}

impl Indicator {
    /// Items the indicator reads.
    pub fn items(&self) -> Vec<&str> {
        match &self.definition {
            Definition::Item { item, .. } => vec![item],
            Definition::AnyOf { items, .. }
            | Definition::AllOf { items, .. }
            | Definition::Score { items, .. } => items.iter().map(String::as_str).collect(),
            Definition::Ratio {
                numerator,
                denominator,
            } => vec![numerator, denominator],
        }
    }
}

#[derive(Debug, Clone)]
pub struct Simulation {
    pub population: usize,
    pub stratum: String,
    pub origin: String,
    pub gender: String,
    pub age: String,
    pub age_group: String,
    pub psus: [usize; 2],
    pub sampled_psus: usize,
    pub psu_column: String,
}

/// A checked instrument.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub path: PathBuf,
    pub id: String,
    pub version: String,
    pub languages: Vec<String>,
    pub title: Labels,
    pub description: Option<Labels>,
    pub themes: IndexMap<String, Labels>,
    pub scales: IndexMap<String, Scale>,
    pub items: IndexMap<String, Item>,
    /// In dependency order.
    pub derived: IndexMap<String, Derived>,
    pub dimensions: IndexMap<String, Dimension>,
    pub indicators: IndexMap<String, Indicator>,
    pub simulation: Option<Simulation>,
}

/// A problem found in an instrument file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub line: Option<usize>,
    /// Dotted key, e.g. `items.q10.scale`.
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

impl Instrument {
    /// Reads and checks an instrument; any error-level finding is an error naming the file,
    /// line and key of the first few.
    pub fn load(path: &Path) -> Result<Instrument> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_str(&text, path)
    }

    /// Parses and checks instrument text as [`Instrument::load`] does (`path` is used for
    /// messages and as the instrument's path).
    pub fn from_str(text: &str, path: &Path) -> Result<Instrument> {
        let (inst, findings) = Self::from_str_with_findings(text, path);
        let errors: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        match (inst, errors.first()) {
            (Some(inst), None) => Ok(inst),
            (_, Some(first)) => {
                let more = if errors.len() > 1 {
                    format!(
                        " (and {} more problems; run `tasa instrument check {}`)",
                        errors.len() - 1,
                        path.display()
                    )
                } else {
                    String::new()
                };
                let mut loc = Location::file(path);
                loc.line = first.line;
                Err(Error::spec(
                    loc,
                    Some(&first.key),
                    format!("{}{more}", first.message),
                ))
            }
            (None, None) => Err(Error::spec(
                Location::file(path),
                None,
                "the instrument could not be read",
            )),
        }
    }

    /// Reads an instrument and lists every problem. `Ok((None, findings))` when the file does
    /// not parse; `Err` only when it cannot be read at all.
    pub fn load_with_findings(path: &Path) -> Result<(Option<Instrument>, Vec<Finding>)> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::from_str_with_findings(&text, path))
    }

    /// Parses and checks instrument text (`path` is used for messages only).
    pub fn from_str_with_findings(text: &str, path: &Path) -> (Option<Instrument>, Vec<Finding>) {
        let spec: InstrumentSpec = match toml::from_str(text) {
            Ok(s) => s,
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                let message = e.message().trim().to_string();
                let key = unknown_key(&message)
                    .or_else(|| e.span().and_then(|s| key_at(text, s.start)))
                    .unwrap_or_default();
                return (
                    None,
                    vec![Finding {
                        severity: Severity::Error,
                        line,
                        key,
                        message,
                    }],
                );
            }
        };
        let mut b = Builder {
            text,
            findings: Vec::new(),
            languages: spec.languages.clone(),
        };
        let inst = b.build(spec, path);
        (Some(inst), b.findings)
    }

    /// Label in `lang`, falling back to English, then any.
    pub fn label<'a>(labels: &'a Labels, lang: &str) -> &'a str {
        labels
            .get(lang)
            .or_else(|| labels.get("en"))
            .or_else(|| labels.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The scale of a coded item or derived variable.
    pub fn scale_of(&self, variable: &str) -> Option<&Scale> {
        let id = match (self.items.get(variable), self.derived.get(variable)) {
            (Some(item), _) => item.scale.as_deref()?,
            (None, Some(d)) => d.scale.as_str(),
            _ => return None,
        };
        self.scales.get(id)
    }

    /// Whether `name` is an item or a derived variable.
    pub fn has_variable(&self, name: &str) -> bool {
        self.items.contains_key(name) || self.derived.contains_key(name)
    }
}

fn unknown_key(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

struct Builder<'a> {
    text: &'a str,
    findings: Vec<Finding>,
    languages: Vec<String>,
}

impl Builder<'_> {
    fn line<T>(&self, s: &toml::Spanned<T>) -> usize {
        line_of(self.text, s.span().start)
    }

    fn error(&mut self, line: Option<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding {
            severity: Severity::Error,
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    fn warning(&mut self, line: Option<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding {
            severity: Severity::Warning,
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    fn labels(&mut self, labels: &Labels, line: Option<usize>, key: &str) {
        for lang in self.languages.clone() {
            match labels.get(&lang) {
                Some(s) if !s.trim().is_empty() => {}
                _ => self.error(
                    line,
                    format!("{key}.{lang}"),
                    format!("missing the `{lang}` text"),
                ),
            }
        }
        for lang in labels.keys() {
            if !self.languages.contains(lang) {
                self.warning(
                    line,
                    format!("{key}.{lang}"),
                    format!(
                        "`{lang}` is not one of the instrument's languages ({})",
                        self.languages.join(", ")
                    ),
                );
            }
        }
    }

    fn filter(&mut self, text: &str, line: usize, key: &str) -> Option<Filter> {
        match Filter::parse(text) {
            Ok(f) => Some(f),
            Err(e) => {
                self.error(Some(line), key, e.to_string());
                None
            }
        }
    }

    fn build(&mut self, spec: InstrumentSpec, path: &Path) -> Instrument {
        if spec.id.trim().is_empty() {
            self.error(Some(1), "id", "the id is empty");
        }
        if spec.languages.is_empty() {
            self.error(
                Some(1),
                "languages",
                "name at least one language, e.g. [\"fi\", \"sv\", \"en\"]",
            );
        }
        self.labels(&spec.title, None, "title");
        if let Some(d) = &spec.description {
            self.labels(d, None, "description");
        }

        let mut themes = IndexMap::new();
        for (id, t) in &spec.themes {
            let line = self.line(t);
            self.labels(
                &t.get_ref().label,
                Some(line),
                &format!("themes.{id}.label"),
            );
            themes.insert(id.clone(), t.get_ref().label.clone());
        }

        let mut scales = IndexMap::new();
        for (id, s) in &spec.scales {
            let line = self.line(s);
            let s = s.get_ref();
            let key = format!("scales.{id}");
            if s.codes.is_empty() {
                self.error(
                    Some(line),
                    format!("{key}.codes"),
                    "a scale needs at least one code",
                );
            }
            let mut seen: Vec<i64> = Vec::new();
            for (part, codes) in [("codes", &s.codes), ("missing", &s.missing)] {
                for c in codes {
                    if seen.contains(&c.code) {
                        self.error(
                            Some(line),
                            format!("{key}.{part}"),
                            format!("code {} appears twice", c.code),
                        );
                    }
                    seen.push(c.code);
                    self.labels(&c.labels, Some(line), &format!("{key}.{part}.{}", c.code));
                }
            }
            let conv = |v: &Vec<spec::CodeSpec>| {
                v.iter()
                    .map(|c| Code {
                        value: c.code as f64,
                        labels: c.labels.clone(),
                    })
                    .collect()
            };
            scales.insert(
                id.clone(),
                Scale {
                    id: id.clone(),
                    kind: s.kind,
                    codes: conv(&s.codes),
                    missing: conv(&s.missing),
                },
            );
        }

        // Items and derived variables share one namespace.
        let mut items = IndexMap::new();
        for (id, it) in &spec.items {
            let line = self.line(it);
            let it = it.get_ref();
            let key = format!("items.{id}");
            self.labels(&it.text, Some(line), &format!("{key}.text"));
            let kind = it.kind.unwrap_or(if it.scale.is_some() {
                ItemType::Coded
            } else {
                ItemType::Number
            });
            let scale = it.scale.as_ref().map(|s| s.get_ref().clone());
            match (&kind, &scale) {
                (ItemType::Coded, None) => self.error(
                    Some(line),
                    format!("{key}.scale"),
                    "a coded item needs a scale (or type = \"number\")",
                ),
                (ItemType::Coded, Some(s)) if !scales.contains_key(s) => {
                    let l = it.scale.as_ref().map(|x| self.line(x));
                    self.error(
                        l,
                        format!("{key}.scale"),
                        format!("no scale `{s}` is defined"),
                    )
                }
                (ItemType::Number | ItemType::Text, Some(_)) => self.error(
                    Some(line),
                    format!("{key}.scale"),
                    "only coded items have a scale; drop `type` or `scale`",
                ),
                _ => {}
            }
            if let (Some(lo), Some(hi)) = (it.min, it.max) {
                if lo > hi {
                    self.error(
                        Some(line),
                        format!("{key}.min"),
                        format!("min {lo} is above max {hi}"),
                    );
                }
            }
            if kind != ItemType::Number
                && (it.min.is_some() || it.max.is_some() || it.integer || !it.missing.is_empty())
            {
                self.error(
                    Some(line),
                    key.clone(),
                    "min, max, integer and missing belong to numeric items (type = \"number\")",
                );
            }
            if it.source == Source::Register && it.universe.is_some() {
                self.error(
                    Some(line),
                    format!("{key}.universe"),
                    "register variables are known for everyone; drop the universe",
                );
            }
            let universe = it.universe.as_ref().and_then(|u| {
                let l = self.line(u);
                self.filter(u.get_ref(), l, &format!("{key}.universe"))
            });
            items.insert(
                id.clone(),
                Item {
                    id: id.clone(),
                    column: it.column.clone().unwrap_or_else(|| id.clone()),
                    text: it.text.clone(),
                    kind,
                    scale,
                    min: it.min,
                    max: it.max,
                    integer: it.integer,
                    missing: it.missing.clone(),
                    source: it.source,
                    universe,
                    simulate: it.simulate.clone().unwrap_or_default(),
                    line,
                },
            );
        }

        let mut derived_list = Vec::new();
        for (id, d) in &spec.derived {
            let line = self.line(d);
            let d = d.get_ref();
            let key = format!("derived.{id}");
            if items.contains_key(id) {
                self.error(
                    Some(line),
                    key.clone(),
                    format!("`{id}` is already an item"),
                );
            }
            self.labels(&d.label, Some(line), &format!("{key}.label"));
            let scale = d.scale.get_ref().clone();
            let scale_codes: Vec<f64> = match scales.get(&scale) {
                Some(s) => s.codes.iter().map(|c| c.value).collect(),
                None => {
                    let l = self.line(&d.scale);
                    self.error(
                        Some(l),
                        format!("{key}.scale"),
                        format!("no scale `{scale}` is defined"),
                    );
                    Vec::new()
                }
            };
            let n_rules =
                d.bands.is_some() as u8 + d.recode.is_some() as u8 + d.cases.is_some() as u8;
            if n_rules != 1 {
                self.error(
                    Some(line),
                    key.clone(),
                    "give exactly one of `bands`, `recode` or `cases`",
                );
                continue;
            }
            let check_code = |b: &mut Self, code: i64, what: &str| {
                if !scale_codes.is_empty() && !scale_codes.contains(&(code as f64)) {
                    b.error(
                        Some(line),
                        format!("{key}.{what}"),
                        format!("{code} is not a code of scale `{scale}`"),
                    );
                }
            };
            if let Some(o) = d.otherwise {
                check_code(self, o, "otherwise");
            }
            let rule = if let Some(b) = &d.bands {
                if b.breaks.windows(2).any(|w| w[0] >= w[1]) {
                    self.error(
                        Some(line),
                        format!("{key}.bands.breaks"),
                        "breaks must increase",
                    );
                }
                if !scale_codes.is_empty() && b.breaks.len() != scale_codes.len() + 1 {
                    self.error(
                        Some(line),
                        format!("{key}.bands.breaks"),
                        format!(
                            "{} breaks make {} bands, but scale `{scale}` has {} codes",
                            b.breaks.len(),
                            b.breaks.len().saturating_sub(1),
                            scale_codes.len()
                        ),
                    );
                }
                DerivedRule::Bands {
                    from: b.from.get_ref().clone(),
                    breaks: b.breaks.clone(),
                }
            } else if let Some(r) = &d.recode {
                let mut map = Vec::new();
                for rule in &r.map {
                    check_code(self, rule.to, "recode.map.to");
                    for v in &rule.values {
                        let rv = match v {
                            toml::Value::Integer(i) => RecodeValue::Number(*i as f64),
                            toml::Value::Float(x) => RecodeValue::Number(*x),
                            toml::Value::String(s) => RecodeValue::Text(s.clone()),
                            other => {
                                self.error(
                                    Some(line),
                                    format!("{key}.recode.map.values"),
                                    format!(
                                        "values are numbers or strings, not {}",
                                        other.type_str()
                                    ),
                                );
                                continue;
                            }
                        };
                        map.push((rv, rule.to as f64));
                    }
                }
                DerivedRule::Recode {
                    from: r.from.get_ref().clone(),
                    map,
                }
            } else {
                let mut cases = Vec::new();
                for c in d.cases.as_deref().unwrap_or_default() {
                    check_code(self, c.then, "cases.then");
                    if let Some(f) = self.filter(&c.when, line, &format!("{key}.cases.when")) {
                        cases.push((f, c.then as f64));
                    }
                }
                DerivedRule::Cases(cases)
            };
            derived_list.push(Derived {
                id: id.clone(),
                label: d.label.clone(),
                scale,
                rule,
                otherwise: d.otherwise.map(|o| o as f64),
                line,
            });
        }

        // Inputs of derived variables must exist; order them so each follows its inputs.
        let names: Vec<String> = items
            .keys()
            .chain(derived_list.iter().map(|d| &d.id))
            .cloned()
            .collect();
        for d in &derived_list {
            for input in d.inputs() {
                if !names.contains(&input) {
                    self.error(
                        Some(d.line),
                        format!("derived.{}", d.id),
                        format!("`{input}` is not an item or derived variable"),
                    );
                }
            }
        }
        let derived = self.order_derived(derived_list);

        let is_var = |n: &str| items.contains_key(n) || derived.contains_key(n);
        let item_universes: Vec<(String, usize, Vec<String>)> = items
            .values()
            .filter_map(|it| {
                it.universe.as_ref().map(|u| {
                    (
                        it.id.clone(),
                        it.line,
                        u.variables().iter().map(|s| s.to_string()).collect(),
                    )
                })
            })
            .collect();
        // Items are asked in file order: a universe can use only items asked before it (and
        // derived variables of those).
        let position: std::collections::HashMap<&str, usize> = items
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let last_input = |v: &str| -> Option<usize> {
            let mut stack = vec![v.to_string()];
            let mut seen = Vec::new();
            let mut last = None;
            while let Some(x) = stack.pop() {
                if seen.contains(&x) {
                    continue;
                }
                if let Some(&p) = position.get(x.as_str()) {
                    last = last.max(Some(p));
                } else if let Some(d) = derived.get(&x) {
                    stack.extend(d.inputs());
                }
                seen.push(x);
            }
            last
        };
        for (id, line, vars) in item_universes {
            let own = position.get(id.as_str()).copied().unwrap_or(0);
            for v in vars {
                if is_var(&v) && v != id && last_input(&v).is_some_and(|p| p > own) {
                    self.error(
                        Some(line),
                        format!("items.{id}.universe"),
                        format!(
                            "`{v}` is asked after `{id}`; a universe can use only earlier items"
                        ),
                    );
                }
                if !is_var(&v) {
                    self.error(
                        Some(line),
                        format!("items.{id}.universe"),
                        format!("`{v}` is not an item or derived variable"),
                    );
                } else if v == id {
                    self.error(
                        Some(line),
                        format!("items.{id}.universe"),
                        "an item's universe cannot depend on the item itself",
                    );
                }
            }
        }

        let mut dimensions = IndexMap::new();
        for (id, dim) in &spec.dimensions {
            let line = self.line(dim);
            let dim = dim.get_ref();
            let key = format!("dimensions.{id}");
            self.labels(&dim.label, Some(line), &format!("{key}.label"));
            let var = dim.variable.get_ref().clone();
            let scale = coded_scale(&items, &derived, &var);
            match scale.and_then(|s| scales.get(&s)) {
                None => self.error(
                    Some(self.line(&dim.variable)),
                    format!("{key}.variable"),
                    format!("`{var}` is not a coded item or derived variable"),
                ),
                Some(s) => {
                    if let Some(r) = dim.reference {
                        if !s.is_valid(r as f64) {
                            self.error(
                                Some(line),
                                format!("{key}.reference"),
                                format!("{r} is not a code of scale `{}`", s.id),
                            );
                        }
                    }
                }
            }
            dimensions.insert(
                id.clone(),
                Dimension {
                    id: id.clone(),
                    variable: var,
                    label: dim.label.clone(),
                    reference: dim.reference.map(|r| r as f64),
                    ordered: dim.ordered,
                },
            );
        }

        let mut indicators = IndexMap::new();
        for (id, ind) in &spec.indicators {
            let line = self.line(ind);
            let key = format!("indicators.{id}");
            if let Some(built) = self.indicator(
                id,
                ind.get_ref(),
                line,
                &key,
                &items,
                &derived,
                &scales,
                &themes,
                &dimensions,
            ) {
                indicators.insert(id.clone(), built);
            }
        }

        let simulation = spec.simulation.as_ref().map(|s| {
            let line = self.line(s);
            let s = s.get_ref();
            for (role, var, want_coded) in [
                ("stratum", &s.stratum, true),
                ("origin", &s.origin, true),
                ("gender", &s.gender, true),
                ("age", &s.age, false),
                ("age_group", &s.age_group, true),
            ] {
                let v = var.get_ref();
                let coded = coded_scale(&items, &derived, v).is_some();
                if !is_var(v) {
                    self.error(
                        Some(line),
                        format!("simulation.{role}"),
                        format!("`{v}` is not an item or derived variable"),
                    );
                } else if want_coded && !coded {
                    self.error(
                        Some(line),
                        format!("simulation.{role}"),
                        format!("`{v}` must be coded (have a scale)"),
                    );
                } else if !want_coded && items.get(v).is_none_or(|i| i.kind != ItemType::Number) {
                    self.error(
                        Some(line),
                        format!("simulation.{role}"),
                        format!("`{v}` must be a numeric item"),
                    );
                }
            }
            if s.population == 0 {
                self.error(
                    Some(line),
                    "simulation.population",
                    "the population must be positive",
                );
            }
            if s.psus[0] == 0 || s.psus[0] > s.psus[1] {
                self.error(
                    Some(line),
                    "simulation.psus",
                    "give [fewest, most] PSUs per stratum, fewest at least 1",
                );
            }
            if s.sampled_psus == 0 || s.sampled_psus > s.psus[0] {
                self.error(
                    Some(line),
                    "simulation.sampled_psus",
                    "sample at least one PSU per stratum and no more than the fewest a stratum has",
                );
            }
            Simulation {
                population: s.population,
                stratum: s.stratum.get_ref().clone(),
                origin: s.origin.get_ref().clone(),
                gender: s.gender.get_ref().clone(),
                age: s.age.get_ref().clone(),
                age_group: s.age_group.get_ref().clone(),
                psus: s.psus,
                sampled_psus: s.sampled_psus,
                psu_column: s.psu_column.clone(),
            }
        });

        // Simulation hints must fit their items.
        for it in items.values() {
            let key = format!("items.{}.simulate", it.id);
            let sim = &it.simulate;
            if let (Some(p), Some(scale)) = (&sim.p, it.scale.as_ref().and_then(|s| scales.get(s)))
            {
                if p.len() != scale.codes.len() {
                    self.error(
                        Some(it.line),
                        format!("{key}.p"),
                        format!("{} shares for {} codes", p.len(), scale.codes.len()),
                    );
                }
                let sum: f64 = p.iter().sum();
                if p.iter().any(|x| !(0.0..=1.0).contains(x)) || (sum - 1.0).abs() > 1e-6 {
                    self.error(
                        Some(it.line),
                        format!("{key}.p"),
                        format!("shares must be in [0, 1] and sum to 1 (they sum to {sum})"),
                    );
                }
            }
            if let Some(rows) = &sim.p_by_origin {
                let origin_codes = simulation
                    .as_ref()
                    .and_then(|s| items.get(&s.origin))
                    .and_then(|o| o.scale.as_ref())
                    .and_then(|s| scales.get(s))
                    .map(|s| s.codes.len());
                let n_codes = it
                    .scale
                    .as_ref()
                    .and_then(|s| scales.get(s))
                    .map(|s| s.codes.len());
                match (origin_codes, n_codes) {
                    (Some(o), Some(k)) => {
                        if rows.len() != o {
                            self.error(
                                Some(it.line),
                                format!("{key}.p_by_origin"),
                                format!("{} lists for {o} origin groups", rows.len()),
                            );
                        }
                        for row in rows {
                            let sum: f64 = row.iter().sum();
                            if row.len() != k
                                || row.iter().any(|x| !(0.0..=1.0).contains(x))
                                || (sum - 1.0).abs() > 1e-6
                            {
                                self.error(
                                    Some(it.line),
                                    format!("{key}.p_by_origin"),
                                    format!("each list needs {k} shares in [0, 1] summing to 1"),
                                );
                                break;
                            }
                        }
                    }
                    _ => self.error(
                        Some(it.line),
                        format!("{key}.p_by_origin"),
                        "p_by_origin needs a coded item and a [simulation] origin",
                    ),
                }
            }
            if let (Some(e), Some(scale)) =
                (&sim.effect, it.scale.as_ref().and_then(|s| scales.get(s)))
            {
                if e.len() != scale.codes.len() {
                    self.error(
                        Some(it.line),
                        format!("{key}.effect"),
                        format!("{} effects for {} codes", e.len(), scale.codes.len()),
                    );
                }
            }
            for (name, v) in [
                ("nonresponse", sim.nonresponse),
                ("dont_know", sim.dont_know),
            ] {
                if let Some(v) = v {
                    if !(0.0..1.0).contains(&v) {
                        self.error(Some(it.line), format!("{key}.{name}"), "a share in [0, 1)");
                    }
                }
            }
        }

        Instrument {
            path: path.to_path_buf(),
            id: spec.id,
            version: spec.version,
            languages: spec.languages,
            title: spec.title,
            description: spec.description,
            themes,
            scales,
            items,
            derived,
            dimensions,
            indicators,
            simulation,
        }
    }

    fn order_derived(&mut self, list: Vec<Derived>) -> IndexMap<String, Derived> {
        // Depth-first topological sort over derived-to-derived references.
        let ids: Vec<String> = list.iter().map(|d| d.id.clone()).collect();
        let mut state = vec![0u8; list.len()]; // 0 new, 1 on stack, 2 done
        let mut order = Vec::new();
        fn visit(
            i: usize,
            list: &[Derived],
            ids: &[String],
            state: &mut [u8],
            order: &mut Vec<usize>,
            path: &mut Vec<usize>,
        ) -> Option<Vec<usize>> {
            if state[i] == 2 {
                return None;
            }
            if state[i] == 1 {
                let start = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(i);
                return Some(cycle);
            }
            state[i] = 1;
            path.push(i);
            for input in list[i].inputs() {
                if let Some(j) = ids.iter().position(|x| *x == input) {
                    if let Some(c) = visit(j, list, ids, state, order, path) {
                        return Some(c);
                    }
                }
            }
            path.pop();
            state[i] = 2;
            order.push(i);
            None
        }
        for i in 0..list.len() {
            let mut path = Vec::new();
            if let Some(cycle) = visit(i, &list, &ids, &mut state, &mut order, &mut path) {
                let names: Vec<&str> = cycle.iter().map(|&k| ids[k].as_str()).collect();
                let first = cycle[0];
                self.error(
                    Some(list[first].line),
                    format!("derived.{}", ids[first]),
                    format!(
                        "derived variables depend on each other in a cycle: {}",
                        names.join(" -> ")
                    ),
                );
                // Mark the cycle done so the rest can still be ordered.
                for &k in &cycle {
                    state[k] = 2;
                }
            }
        }
        let mut slots: Vec<Option<Derived>> = list.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|i| slots[i].take())
            .map(|d| (d.id.clone(), d))
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn indicator(
        &mut self,
        id: &str,
        ind: &spec::IndicatorSpec,
        line: usize,
        key: &str,
        items: &IndexMap<String, Item>,
        derived: &IndexMap<String, Derived>,
        scales: &IndexMap<String, Scale>,
        themes: &IndexMap<String, Labels>,
        dimensions: &IndexMap<String, Dimension>,
    ) -> Option<Indicator> {
        self.labels(&ind.label, Some(line), &format!("{key}.label"));
        if let Some(u) = &ind.unit {
            self.labels(u, Some(line), &format!("{key}.unit"));
        }
        let theme = ind.theme.as_ref().map(|t| t.get_ref().clone());
        if let Some(t) = &theme {
            if !themes.contains_key(t) {
                self.error(
                    Some(line),
                    format!("{key}.theme"),
                    format!("no theme `{t}` is defined"),
                );
            }
        }
        for d in &ind.dimensions {
            if !dimensions.contains_key(d.get_ref()) {
                self.error(
                    Some(self.line(d)),
                    format!("{key}.dimensions"),
                    format!("no dimension `{}` is defined", d.get_ref()),
                );
            }
        }
        let exists = |b: &mut Self, name: &toml::Spanned<String>, what: &str| -> bool {
            let n = name.get_ref();
            if items.contains_key(n) || derived.contains_key(n) {
                true
            } else {
                let l = b.line(name);
                b.error(
                    Some(l),
                    format!("{key}.{what}"),
                    format!("`{n}` is not an item or derived variable"),
                );
                false
            }
        };
        let names = |v: &Vec<toml::Spanned<String>>| {
            v.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>()
        };
        let success: Option<Vec<f64>> = ind
            .success
            .as_ref()
            .map(|s| s.iter().map(|&c| c as f64).collect());
        let kind = ind.kind;
        let extra = |b: &mut Self, present: bool, field: &str| {
            if present {
                b.error(
                    Some(line),
                    format!("{key}.{field}"),
                    format!("`{field}` does not apply to a {kind:?} indicator").to_lowercase(),
                );
            }
        };
        extra(
            self,
            ind.min_valid.is_some() && kind != IndicatorKind::Score,
            "min_valid",
        );
        extra(
            self,
            ind.reverse.is_some() && kind != IndicatorKind::Score,
            "reverse",
        );
        extra(
            self,
            ind.p.is_some() && kind != IndicatorKind::Quantile,
            "p",
        );
        extra(
            self,
            (ind.numerator.is_some() || ind.denominator.is_some()) && kind != IndicatorKind::Ratio,
            "numerator",
        );
        extra(
            self,
            ind.success.is_some()
                && !matches!(kind, IndicatorKind::Proportion | IndicatorKind::Total),
            "success",
        );
        let definition = match kind {
            IndicatorKind::Proportion | IndicatorKind::Total => {
                let several = ind.any_of.is_some() as u8
                    + ind.all_of.is_some() as u8
                    + ind.item.is_some() as u8;
                if several != 1 {
                    self.error(
                        Some(line),
                        key.to_string(),
                        "give exactly one of `item`, `any_of` or `all_of`",
                    );
                    return None;
                }
                if kind == IndicatorKind::Proportion && success.is_none() {
                    self.error(
                        Some(line),
                        format!("{key}.success"),
                        "a proportion needs its success codes, e.g. success = [4, 5]",
                    );
                    return None;
                }
                if (ind.any_of.is_some() || ind.all_of.is_some()) && success.is_none() {
                    self.error(
                        Some(line),
                        format!("{key}.success"),
                        "any_of / all_of need success codes",
                    );
                    return None;
                }
                if let Some(item) = &ind.item {
                    if !exists(self, item, "item") {
                        return None;
                    }
                    Definition::Item {
                        item: item.get_ref().clone(),
                        success: success.clone(),
                    }
                } else if let Some(v) = &ind.any_of {
                    if !v.iter().all(|n| exists(self, n, "any_of")) {
                        return None;
                    }
                    Definition::AnyOf {
                        items: names(v),
                        success: success.clone().unwrap_or_default(),
                    }
                } else {
                    let v = ind.all_of.as_ref()?;
                    if !v.iter().all(|n| exists(self, n, "all_of")) {
                        return None;
                    }
                    Definition::AllOf {
                        items: names(v),
                        success: success.clone().unwrap_or_default(),
                    }
                }
            }
            IndicatorKind::Mean | IndicatorKind::Quantile => {
                let Some(item) = &ind.item else {
                    self.error(Some(line), format!("{key}.item"), "name the item");
                    return None;
                };
                if !exists(self, item, "item") {
                    return None;
                }
                if kind == IndicatorKind::Quantile {
                    match ind.p {
                        Some(p) if p > 0.0 && p < 1.0 => {}
                        _ => self.error(
                            Some(line),
                            format!("{key}.p"),
                            "a quantile needs p strictly between 0 and 1",
                        ),
                    }
                }
                Definition::Item {
                    item: item.get_ref().clone(),
                    success: None,
                }
            }
            IndicatorKind::Score => {
                let Some(v) = &ind.items else {
                    self.error(
                        Some(line),
                        format!("{key}.items"),
                        "a score needs its items",
                    );
                    return None;
                };
                if !v.iter().all(|n| exists(self, n, "items")) {
                    return None;
                }
                let min_valid = ind.min_valid.unwrap_or(v.len().div_ceil(2));
                if min_valid == 0 || min_valid > v.len() {
                    self.error(
                        Some(line),
                        format!("{key}.min_valid"),
                        format!("min_valid must be between 1 and {}", v.len()),
                    );
                }
                let reverse = ind.reverse.as_ref().map(names).unwrap_or_default();
                for r in &reverse {
                    if !v.iter().any(|x| x.get_ref() == r) {
                        self.error(
                            Some(line),
                            format!("{key}.reverse"),
                            format!("`{r}` is not one of the score's items"),
                        );
                    }
                }
                Definition::Score {
                    items: names(v),
                    min_valid,
                    reverse,
                }
            }
            IndicatorKind::Ratio => {
                let (Some(n), Some(d)) = (&ind.numerator, &ind.denominator) else {
                    self.error(
                        Some(line),
                        key.to_string(),
                        "a ratio needs `numerator` and `denominator`",
                    );
                    return None;
                };
                if !(exists(self, n, "numerator") & exists(self, d, "denominator")) {
                    return None;
                }
                Definition::Ratio {
                    numerator: n.get_ref().clone(),
                    denominator: d.get_ref().clone(),
                }
            }
        };
        if ind.item.is_some() && matches!(kind, IndicatorKind::Score | IndicatorKind::Ratio) {
            self.error(
                Some(line),
                format!("{key}.item"),
                "use `items` for a score and `numerator`/`denominator` for a ratio",
            );
        }

        // Success codes must be codes of the items' scales; means and scores need numbers.
        let var_scale = |n: &str| coded_scale(items, derived, n).and_then(|s| scales.get(&s));
        for n in definition_items(&definition) {
            let scale = var_scale(&n);
            if let Some(sc) = &success {
                match scale {
                    Some(s) => {
                        for &c in sc {
                            if !s.is_valid(c) {
                                self.error(
                                    Some(line),
                                    format!("{key}.success"),
                                    format!(
                                        "{c} is not a valid code of scale `{}` (item `{n}`)",
                                        s.id
                                    ),
                                );
                            }
                        }
                    }
                    None => self.error(
                        Some(line),
                        format!("{key}.success"),
                        format!("`{n}` is not coded, so it has no success codes"),
                    ),
                }
            }
            let text = items.get(&n).is_some_and(|i| i.kind == ItemType::Text);
            if text {
                self.error(
                    Some(line),
                    key.to_string(),
                    format!("`{n}` is a text item and cannot be measured"),
                );
            }
            if matches!(
                kind,
                IndicatorKind::Mean | IndicatorKind::Score | IndicatorKind::Quantile
            ) {
                if let Some(s) = scale {
                    if s.kind == ScaleKind::Nominal {
                        self.error(
                            Some(line),
                            key.to_string(),
                            format!("`{n}` has a nominal scale; its codes have no mean"),
                        );
                    }
                }
            }
        }
        let universe = ind.universe.as_ref().and_then(|u| {
            let l = self.line(u);
            let f = self.filter(u.get_ref(), l, &format!("{key}.universe"))?;
            for v in f.variables() {
                if !(items.contains_key(v) || derived.contains_key(v)) {
                    self.error(
                        Some(l),
                        format!("{key}.universe"),
                        format!("`{v}` is not an item or derived variable"),
                    );
                }
            }
            Some(f)
        });
        Some(Indicator {
            id: id.to_string(),
            label: ind.label.clone(),
            kind,
            theme,
            definition,
            p: ind.p,
            universe,
            polarity: ind.polarity,
            dimensions: ind.dimensions.iter().map(|d| d.get_ref().clone()).collect(),
            unit: ind.unit.clone(),
            line,
        })
    }
}

fn definition_items(d: &Definition) -> Vec<String> {
    match d {
        Definition::Item { item, .. } => vec![item.clone()],
        Definition::AnyOf { items, .. }
        | Definition::AllOf { items, .. }
        | Definition::Score { items, .. } => items.clone(),
        Definition::Ratio {
            numerator,
            denominator,
        } => vec![numerator.clone(), denominator.clone()],
    }
}

/// The scale id of a coded item or derived variable.
fn coded_scale(
    items: &IndexMap<String, Item>,
    derived: &IndexMap<String, Derived>,
    name: &str,
) -> Option<String> {
    if let Some(i) = items.get(name) {
        return i.scale.clone();
    }
    derived.get(name).map(|d| d.scale.clone())
}
