//! What a register file holds: its key columns and the metrics, with how each one aggregates.
//!
//! The description comes from a small TOML file beside the register file (`metrics.csv` →
//! `metrics.toml`, or `--metrics FILE`) and from flags, which override it. A metric's kind
//! decides what aggregation may do with it:
//!
//! | kind | columns | aggregated by | interval |
//! |---|---|---|---|
//! | `count` | one count | summing | none (a register total has no sampling error) |
//! | `share` | numerator, denominator (counts, numerator ≤ denominator) | Σ num / Σ den | exact binomial (Clopper–Pearson) |
//! | `rate` | numerator (events), denominator (exposure) | Σ num / Σ den | exact Poisson (Garwood) |
//! | `ratio` | numerator, denominator (any sums, e.g. days and persons) | Σ num / Σ den | none |
//! | `median`, `value` | one value | never: used only where the register gives it | none |
//!
//! Rates are never averaged across units: they are recomputed from the summed numerators and
//! denominators, so a large municipality weighs as much as its persons.

use crate::error::{line_of, Location};
use crate::instrument::spec::{Labels, Polarity};
use crate::{Error, Result};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// How a metric aggregates (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Count,
    Share,
    Rate,
    Ratio,
    Median,
    Value,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Count => "count",
            Kind::Share => "share",
            Kind::Rate => "rate",
            Kind::Ratio => "ratio",
            Kind::Median => "median",
            Kind::Value => "value",
        }
    }

    /// Whether the metric is computed from a numerator and a denominator.
    pub fn is_quotient(self) -> bool {
        matches!(self, Kind::Share | Kind::Rate | Kind::Ratio)
    }

    /// Whether values of several units or groups can be combined into one.
    pub fn is_additive(self) -> bool {
        !matches!(self, Kind::Median | Kind::Value)
    }

    /// Whether the metric's columns are counts of persons or events (whole numbers ≥ 0).
    fn counts(self) -> bool {
        matches!(self, Kind::Count | Kind::Share | Kind::Rate)
    }
}

/// What the codes of the register's unit column are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Municipality,
    Area,
    Region,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Municipality => "municipality",
            Level::Area => "area",
            Level::Region => "region",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Level::Municipality => "municipalities",
            Level::Area => "areas",
            Level::Region => "regions",
        }
    }
}

/// One metric, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub kind: Kind,
    /// The value column (count, median, value) or the numerator (share, rate, ratio).
    pub numerator: String,
    /// The denominator (share, rate, ratio).
    pub denominator: Option<String>,
    /// Multiplier of a quotient (100 for percent, 1000 for per mille); 1 by default.
    pub per: f64,
    pub label: Labels,
    pub unit: Option<String>,
    pub polarity: Polarity,
}

impl Metric {
    /// A metric declared by a flag: labels, unit and polarity left empty.
    pub fn plain(name: &str, kind: Kind, numerator: &str, denominator: Option<&str>) -> Metric {
        Metric {
            name: name.to_string(),
            kind,
            numerator: numerator.to_string(),
            denominator: denominator.map(str::to_string),
            per: 1.0,
            label: Labels::new(),
            unit: None,
            polarity: Polarity::Neutral,
        }
    }

    /// The register columns the metric reads.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.numerator.as_str()).chain(self.denominator.as_deref())
    }

    /// Whether the metric's columns must hold whole non-negative numbers.
    pub fn needs_counts(&self) -> bool {
        self.kind.counts()
    }
}

/// The key columns of a register file, as written in its metrics file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSpec {
    /// Column of the unit code (municipality, employment area or region).
    pub unit: Option<String>,
    /// What the unit codes are: municipality, area or region.
    pub level: Option<Level>,
    /// Column of the period (a year, `2025H1`...).
    pub period: Option<String>,
    /// Column of a breakdown by group (language group, origin...).
    pub group: Option<String>,
    /// The survey variable whose codes the group column holds (default: the column's name).
    pub dimension: Option<String>,
    /// The group value of rows that hold a whole unit (e.g. `all`); an empty group is one too.
    pub total: Option<String>,
    /// The reference group of register gaps.
    pub reference: Option<String>,
}

/// One `[metrics.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricSpec {
    kind: Kind,
    /// Value column of a count, median or value (default: the metric's name).
    column: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    per: Option<f64>,
    #[serde(default)]
    label: Labels,
    unit: Option<String>,
    #[serde(default)]
    polarity: Polarity,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsFileSpec {
    #[serde(default)]
    keys: KeysSpec,
    #[serde(default)]
    metrics: IndexMap<String, Spanned<MetricSpec>>,
}

/// A register's description: keys and metrics in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub keys: KeysSpec,
    pub metrics: Vec<Metric>,
    /// The file it was read from.
    pub source: Option<PathBuf>,
}

impl Metrics {
    /// The metrics file that belongs to a register file: the same name with `.toml`.
    pub fn beside(register: &Path) -> Option<PathBuf> {
        let candidate = register.with_extension("toml");
        (candidate != register && candidate.is_file()).then_some(candidate)
    }

    /// Reads a metrics file; unknown keys, wrong types and incomplete metrics name the line.
    pub fn load(path: &Path) -> Result<Metrics> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses metrics-file text (`path` is used in messages).
    pub fn parse(text: &str, path: &Path) -> Result<Metrics> {
        let at = |line: usize| Location::file(path).line(line);
        let spec: MetricsFileSpec = toml::from_str(text).map_err(|e| {
            let mut loc = Location::file(path);
            loc.line = e.span().map(|s| line_of(text, s.start));
            Error::spec(loc, None, e.message().trim().to_string())
        })?;
        let mut metrics = Vec::new();
        for (name, spanned) in &spec.metrics {
            let line = line_of(text, spanned.span().start);
            let m = spanned.get_ref();
            let key = format!("metrics.{name}");
            let fail = |problem: String| Err(Error::spec(at(line), Some(&key), problem));
            let numerator = match (m.kind.is_quotient(), &m.column, &m.numerator) {
                (true, _, None) => {
                    return fail(format!(
                        "a {} needs `numerator` and `denominator` columns",
                        m.kind.name()
                    ))
                }
                (true, Some(_), _) => {
                    return fail(format!(
                        "a {} takes `numerator` and `denominator`, not `column`",
                        m.kind.name()
                    ))
                }
                (true, None, Some(n)) => n.clone(),
                (false, _, Some(_)) => {
                    return fail(format!(
                        "a {} takes one `column`; `numerator` and `denominator` belong to shares, rates and ratios",
                        m.kind.name()
                    ))
                }
                (false, c, None) => c.clone().unwrap_or_else(|| name.clone()),
            };
            let denominator = match (m.kind.is_quotient(), &m.denominator) {
                (true, None) => {
                    return fail(format!("a {} needs a `denominator` column", m.kind.name()))
                }
                (false, Some(_)) => {
                    return fail(format!("a {} has no `denominator`", m.kind.name()))
                }
                (_, d) => d.clone(),
            };
            let per = match m.per {
                Some(p) if !(p.is_finite() && p > 0.0) => {
                    return fail(format!("`per` must be a positive number, not {p}"))
                }
                Some(_) if !m.kind.is_quotient() => {
                    return fail(format!(
                        "`per` applies to shares, rates and ratios, not to a {}",
                        m.kind.name()
                    ))
                }
                Some(p) => p,
                None => 1.0,
            };
            metrics.push(Metric {
                name: name.clone(),
                kind: m.kind,
                numerator,
                denominator,
                per,
                label: m.label.clone(),
                unit: m.unit.clone(),
                polarity: m.polarity,
            });
        }
        Ok(Metrics {
            keys: spec.keys,
            metrics,
            source: Some(path.to_path_buf()),
        })
    }

    /// Adds or replaces a metric declared by a flag.
    pub fn declare(&mut self, metric: Metric) {
        match self.metrics.iter_mut().find(|m| m.name == metric.name) {
            Some(m) => *m = metric,
            None => self.metrics.push(metric),
        }
    }

    /// Keeps only the named metrics, in the order given.
    pub fn select(&mut self, names: &[String]) -> Result<()> {
        let mut kept = Vec::with_capacity(names.len());
        for n in names {
            match self.metrics.iter().find(|m| &m.name == n) {
                Some(m) => kept.push(m.clone()),
                None => {
                    return Err(Error::Usage(format!(
                        "--metric `{n}`: no such metric; the register has {}",
                        self.names()
                    )))
                }
            }
        }
        self.metrics = kept;
        Ok(())
    }

    /// The metric names, comma-separated, for messages.
    pub fn names(&self) -> String {
        if self.metrics.is_empty() {
            return "none".to_string();
        }
        self.metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parses a flag `NAME=NUM/DEN` (share, rate, ratio) into a metric.
pub fn quotient_flag(kind: Kind, text: &str) -> Result<Metric> {
    let flag = kind.name();
    let bad = || {
        Error::Usage(format!(
            "--{flag} `{text}`: write NAME=NUMERATOR/DENOMINATOR, e.g. --{flag} long_term_share=long_term/unemployed"
        ))
    };
    let (name, rest) = text.split_once('=').ok_or_else(bad)?;
    let (num, den) = rest.split_once('/').ok_or_else(bad)?;
    let (name, num, den) = (name.trim(), num.trim(), den.trim());
    if name.is_empty() || num.is_empty() || den.is_empty() {
        return Err(bad());
    }
    Ok(Metric::plain(name, kind, num, Some(den)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Metrics> {
        Metrics::parse(text, Path::new("m.toml"))
    }

    #[test]
    fn reads_keys_and_metrics_in_order() {
        let m = parse(
            "[keys]\nunit = \"kunta\"\nlevel = \"municipality\"\nperiod = \"vuosi\"\n\n\
             [metrics.unemployed]\nkind = \"count\"\nlabel = { fi = \"Työttömät\", en = \"Unemployed\" }\n\n\
             [metrics.long_share]\nkind = \"share\"\nnumerator = \"long\"\ndenominator = \"unemployed\"\nper = 100\npolarity = \"lower_better\"\n\n\
             [metrics.days]\nkind = \"median\"\ncolumn = \"days_median\"\nunit = \"days\"\n",
        )
        .unwrap();
        assert_eq!(m.keys.unit.as_deref(), Some("kunta"));
        assert_eq!(m.keys.level, Some(Level::Municipality));
        assert_eq!(m.names(), "unemployed, long_share, days");
        assert_eq!(m.metrics[0].numerator, "unemployed");
        assert_eq!(m.metrics[1].denominator.as_deref(), Some("unemployed"));
        assert_eq!(m.metrics[1].per, 100.0);
        assert_eq!(m.metrics[1].polarity, Polarity::LowerBetter);
        assert_eq!(m.metrics[2].numerator, "days_median");
    }

    #[test]
    fn incomplete_metrics_name_line_and_key() {
        let e = parse(
            "[metrics.a]\nkind = \"count\"\n\n[metrics.s]\nkind = \"share\"\nnumerator = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 4") && e.contains("metrics.s") && e.contains("needs a `denominator`"),
            "{e}"
        );
        let e = parse("[metrics.m]\nkind = \"median\"\nnumerator = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("takes one `column`"), "{e}");
        let e = parse("[metrics.m]\nkind = \"mean\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("unknown variant `mean`"),
            "{e}"
        );
        let e = parse("[keys]\nunits = \"x\"\n").unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("unknown field `units`"),
            "{e}"
        );
        let e = parse(
            "[metrics.r]\nkind = \"rate\"\nnumerator = \"a\"\ndenominator = \"b\"\nper = -1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`per` must be a positive number"), "{e}");
    }

    #[test]
    fn flags_declare_and_select() {
        let mut m = Metrics::default();
        m.declare(Metric::plain("n", Kind::Count, "n", None));
        m.declare(quotient_flag(Kind::Share, "s=a/b").unwrap());
        m.declare(Metric::plain("n", Kind::Value, "n", None));
        assert_eq!(m.names(), "n, s");
        assert_eq!(m.metrics[0].kind, Kind::Value);
        let e = quotient_flag(Kind::Rate, "r=a").unwrap_err().to_string();
        assert!(
            e.contains("--rate `r=a`: write NAME=NUMERATOR/DENOMINATOR"),
            "{e}"
        );
        m.select(&["s".to_string()]).unwrap();
        assert_eq!(m.names(), "s");
        let e = m.select(&["x".to_string()]).unwrap_err().to_string();
        assert!(e.contains("no such metric; the register has s"), "{e}");
    }
}
