//! The instrument file format (TOML), mirrored exactly. Unknown keys are errors.
//!
//! ```toml
//! id = "service-equality"
//! version = "2026.1"
//! languages = ["fi", "sv", "en"]
//! title = { fi = "…", sv = "…", en = "…" }
//!
//! [themes.treatment]
//! label = { fi = "Yhdenvertainen kohtelu", sv = "Likabehandling", en = "Equal treatment" }
//!
//! [scales.agree5]
//! kind = "ordinal"                       # ordinal | nominal
//! codes = [{ code = 1, fi = "…", sv = "…", en = "…" }, …]
//! missing = [{ code = 9, fi = "En osaa sanoa", sv = "Vet inte", en = "Don't know" }]
//!
//! [items.q10]                            # the data column is the item id unless `column` says
//! text = { fi = "…", sv = "…", en = "…" }
//! scale = "agree5"                       # coded item; or type = "number" (min, max, integer)
//! universe = "q9 == 1"                   # who was asked (skip logic)
//! simulate = { p = [0.05, 0.1, 0.2, 0.35, 0.3], shift = -0.6 }
//!
//! [derived.age_group]                    # bands | recode | cases
//! label = { … }
//! scale = "age_groups"
//! bands = { from = "age", breaks = [18, 30, 45, 65] }
//!
//! [indicators.treated_equally]
//! label = { … }
//! kind = "proportion"                    # proportion | mean | total | ratio | quantile | score
//! item = "q10"
//! success = [4, 5]
//! polarity = "higher_better"             # higher_better | lower_better | neutral
//! dimensions = ["origin", "gender"]
//!
//! [dimensions.origin]
//! variable = "origin_group"
//! label = { … }
//! reference = 1
//! ```

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// Text in several languages, keyed by language code (`fi`, `sv`, `en`).
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    /// Short identifier, e.g. `service-equality`.
    pub id: String,
    pub version: String,
    /// Languages every label must be given in.
    pub languages: Vec<String>,
    pub title: Labels,
    /// Optional longer description.
    #[serde(default)]
    pub description: Option<Labels>,
    /// Report sections; indicators name their theme.
    #[serde(default)]
    pub themes: IndexMap<String, Spanned<ThemeSpec>>,
    #[serde(default)]
    pub scales: IndexMap<String, Spanned<ScaleSpec>>,
    #[serde(default)]
    pub items: IndexMap<String, Spanned<ItemSpec>>,
    #[serde(default)]
    pub derived: IndexMap<String, Spanned<DerivedSpec>>,
    #[serde(default)]
    pub dimensions: IndexMap<String, Spanned<DimensionSpec>>,
    #[serde(default)]
    pub indicators: IndexMap<String, Spanned<IndicatorSpec>>,
    /// How `tasa simulate` builds a population for this instrument.
    #[serde(default)]
    pub simulation: Option<Spanned<SimulationSpec>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeSpec {
    pub label: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    Ordinal,
    Nominal,
}

/// A value code with its label in each language: `{ code = 1, fi = "…", sv = "…", en = "…" }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CodeSpec {
    pub code: i64,
    #[serde(flatten)]
    pub labels: Labels,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleSpec {
    pub kind: ScaleKind,
    /// Valid answers, in the scale's order (low to high for ordinal scales).
    pub codes: Vec<CodeSpec>,
    /// Codes that are answers but mean "no value" (9 = don't know, 8 = does not want to say).
    #[serde(default)]
    pub missing: Vec<CodeSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// Answers are codes of the item's scale (the default when `scale` is given).
    #[default]
    Coded,
    /// A number, optionally within `min`..`max`.
    Number,
    /// Free text or an identifier: never checked against codes, never published.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Asked in the questionnaire.
    #[default]
    Survey,
    /// Delivered from a register with the sample (age, area...): never skipped.
    Register,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    /// Question text (or variable description) per language.
    pub text: Labels,
    /// Data column, when it differs from the item id.
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<ItemType>,
    #[serde(default)]
    pub scale: Option<Spanned<String>>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub integer: bool,
    /// Numbers that mean "no value" for a numeric item (e.g. 999).
    #[serde(default)]
    pub missing: Vec<f64>,
    #[serde(default)]
    pub source: Source,
    /// Who was asked: a filter over earlier items.
    #[serde(default)]
    pub universe: Option<Spanned<String>>,
    #[serde(default)]
    pub simulate: Option<ItemSimulateSpec>,
}

/// How `tasa simulate` answers an item: a cumulative-logit model on the valid codes.
/// `p`: answer shares for the reference group (one per valid code, summing to 1);
/// `shift`: logit shift per unit of the latent disadvantage (negative: disadvantaged people
/// answer lower codes); numeric items use `mean` and `sd` and shift by `shift * sd`;
/// `p_by_origin`: shares per origin code instead of `p` (mother tongue follows origin);
/// `effect`: for the origin item, the latent disadvantage of each code.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSimulateSpec {
    #[serde(default)]
    pub p: Option<Vec<f64>>,
    /// Shares per origin group instead of `p`: one list per code of the origin item.
    #[serde(default)]
    pub p_by_origin: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    pub shift: Option<f64>,
    #[serde(default)]
    pub mean: Option<f64>,
    #[serde(default)]
    pub sd: Option<f64>,
    #[serde(default)]
    pub effect: Option<Vec<f64>>,
    /// Share of blank answers inside the universe (default 0.02).
    #[serde(default)]
    pub nonresponse: Option<f64>,
    /// Share of "don't know" (the scale's first missing code) (default 0.03 when it has one).
    #[serde(default)]
    pub dont_know: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedSpec {
    pub label: Labels,
    /// The scale of the derived codes.
    pub scale: Spanned<String>,
    #[serde(default)]
    pub bands: Option<BandsSpec>,
    #[serde(default)]
    pub recode: Option<RecodeSpec>,
    #[serde(default)]
    pub cases: Option<Vec<CaseSpec>>,
    /// Code for rows no rule matches (`recode`, `cases`); missing when absent.
    #[serde(default)]
    pub otherwise: Option<i64>,
}

/// Numeric bands: `breaks = [b0, b1, …, bK]` gives the scale's K codes in order, code k for
/// `b(k-1) <= x < b(k)`; values outside are missing.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BandsSpec {
    pub from: Spanned<String>,
    pub breaks: Vec<f64>,
}

/// A value map: `map = [{ to = 1, values = [246] }, { to = 2, values = ["SWE", "NOR"] }]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecodeSpec {
    pub from: Spanned<String>,
    pub map: Vec<RecodeRule>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecodeRule {
    pub to: i64,
    pub values: Vec<toml::Value>,
}

/// A rule: the first case whose filter holds gives the code.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub when: String,
    pub then: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionSpec {
    /// A coded item or derived variable.
    pub variable: Spanned<String>,
    pub label: Labels,
    /// The code of the reference group of gaps.
    #[serde(default)]
    pub reference: Option<i64>,
    /// Whether the groups are ordered (age bands, education), for slope indices.
    #[serde(default)]
    pub ordered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Proportion,
    Mean,
    Total,
    Ratio,
    Quantile,
    Score,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    HigherBetter,
    LowerBetter,
    #[default]
    Neutral,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    pub label: Labels,
    pub kind: IndicatorKind,
    #[serde(default)]
    pub theme: Option<Spanned<String>>,
    /// proportion, mean, total, quantile: the item.
    #[serde(default)]
    pub item: Option<Spanned<String>>,
    /// proportion (any_of / all_of): several items; score: the items averaged.
    #[serde(default)]
    pub any_of: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub all_of: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub items: Option<Vec<Spanned<String>>>,
    /// Codes that count as success (proportion; a total over them counts persons).
    #[serde(default)]
    pub success: Option<Vec<i64>>,
    /// score: the fewest valid items for a score.
    #[serde(default)]
    pub min_valid: Option<usize>,
    /// score: items whose codes are reversed (max + min - x) before averaging.
    #[serde(default)]
    pub reverse: Option<Vec<Spanned<String>>>,
    /// ratio.
    #[serde(default)]
    pub numerator: Option<Spanned<String>>,
    #[serde(default)]
    pub denominator: Option<Spanned<String>>,
    /// quantile: the probability in (0, 1).
    #[serde(default)]
    pub p: Option<f64>,
    /// Who the indicator is about: a filter.
    #[serde(default)]
    pub universe: Option<Spanned<String>>,
    #[serde(default)]
    pub polarity: Polarity,
    /// Default equality dimensions (names of `[dimensions]`).
    #[serde(default)]
    pub dimensions: Vec<Spanned<String>>,
    /// The unit of a mean/total/quantile, per language (e.g. "päivää").
    #[serde(default)]
    pub unit: Option<Labels>,
}

/// The synthetic population of `tasa simulate`: a stratified two-stage design with strata =
/// the codes of the `stratum` item, PSUs inside each stratum.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Population size (grown automatically for very large samples).
    pub population: usize,
    /// Coded item whose codes are the strata (areas).
    pub stratum: Spanned<String>,
    /// Coded item of origin; its first code is the majority group.
    pub origin: Spanned<String>,
    /// Coded item of gender.
    pub gender: Spanned<String>,
    /// Numeric age item.
    pub age: Spanned<String>,
    /// Coded (derived) variable of age groups used in the margins.
    pub age_group: Spanned<String>,
    /// Fewest and most PSUs in a stratum.
    #[serde(default = "default_psus")]
    pub psus: [usize; 2],
    /// PSUs sampled per stratum.
    #[serde(default = "default_sampled_psus")]
    pub sampled_psus: usize,
    /// What a PSU is called in the data (column name), e.g. `office`.
    #[serde(default = "default_psu_name")]
    pub psu_column: String,
}

fn default_psus() -> [usize; 2] {
    [4, 12]
}
fn default_sampled_psus() -> usize {
    3
}
fn default_psu_name() -> String {
    "psu".to_string()
}
