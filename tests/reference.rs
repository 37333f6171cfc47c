//! Reference test: `tasa estimate` and `tasa gaps` reproduce R's `survey` package (4.1-1).
//!
//! Every case of `../shared/reference/cases.json` (101 estimation calls on the California API
//! data, each with the exact R code and R's full-precision results) is turned into one `tasa`
//! command line — `tasa estimate` for estimates, `tasa gaps` for domain contrasts, domain
//! ratios and chi-square tests — run through the built binary, and its CSV compared with R's
//! numbers: estimates to 1e-9 relative error, standard errors, interval limits and design
//! effects to 1e-6 (the contract of design.md §5), and each domain's degrees of freedom where R
//! uses domain-specific df. Cases where R stops must make `tasa` exit with code 2 and name the
//! same problem. What passing proves: for every design (SRS with and without fpc, strata,
//! one- and two-stage clusters, JK1, JKn and bootstrap replicate weights, lonely PSUs under every
//! policy, negative weights), estimand (means, totals, proportions level by level or of one
//! category, category counts, ratios, quantiles under several rules) and interval (Wald
//! normal and t, and svyciprop's logit, likelihood, asin, beta, mean and xlogit) that the
//! reference covers, tasa gives R's answer — overall and in domains — and that its gaps
//! between domains (svycontrast differences and ratios of svyby results) and its Rao–Scott
//! tests (svychisq `F` and `Chisq`) are R's too.
//!
//! Every mismatch of every case is collected and printed as one table (case, row, field,
//! expected, got, relative error), followed by the command lines of the failing cases, and
//! the test fails once at the end. Cases tasa cannot run yet or by design are skipped with a
//! printed reason; the list of skipped ids is asserted, so a new skip is a deliberate edit of
//! [`EXPECTED_SKIPS`].
//!
//! Mapping decisions (a case's JSON → a command line; see `build_args`):
//! - Design: `--weight`/`--probs`/`--strata`, `--cluster` and `--fpc` once per stage (tasa
//!   tells population sizes from fractions itself, as R does), `--nest`, `--lonely-psu` when
//!   not `fail`, `--pps`, and for replicate designs `--repweights 'repw*'` with the type, the
//!   case's scale (the whole multiplier), rscales, Fay's rho and `--mse`. A numeric design
//!   weight becomes a constant column in a copy of the dataset. A weight column holding a
//!   negative value adds `--allow-negative-weights` (R accepts such weights silently; tasa
//!   only on request, design.md §8).
//! - Estimands: numeric mean `--mean`, total `--total` (also on a categorical variable: counts
//!   per level), categorical mean/proportion `--prop VAR` (one row per level), indicator
//!   `--prop VAR=VALUE` (or `--total VAR=VALUE`), `--ratio NUM/DEN`, one `--quantile VAR:P`
//!   per quantile; several `by` variables in one svyby call are crossed (`--by A*B`);
//!   `domain_filter` becomes `--subset "VAR not in (...)"`; `na_rm` is tasa's only behaviour.
//! - Intervals: `--ci` always explicit (the Woodruff type `mean` is tasa's `wald`), `--level`,
//!   `--df inf` for R's normal quantiles, `--df N` for a number, `--df design` for per-domain
//!   df (then each row's `df` is compared too), `--qrule` from the case.
//! - Rows: an R row is found by (by variables, group values, category, quantile); R's
//!   category is the level label, or the variable name in a multi-variable call (then matched
//!   against tasa's `variable`). Rows tasa adds (the whole-population row of a `--by` call)
//!   are not compared.
//! - NA: an R `null` (NA/NaN) demands an empty tasa cell; a row whose every number is NA may
//!   also be absent. Cases where R's NA only comes from `na.rm=FALSE` are skipped instead,
//!   because tasa always drops missing analysis values from the domain.
//! - `likelihood` intervals are compared with the exact roots (`ci_*_exact`): tasa computes
//!   them exactly, R interpolates a spline (README §5). Design effects are compared when the
//!   case asked `deff=TRUE`, not for `deff="replace"` (tasa reports the Kish deff).
//! - Gaps (`tasa gaps`, same design flags, `--no-suppress -q`; see `gaps_args`): a `diff`
//!   (svycontrast with coefficients +1 and −1 on two domains of one svyby) becomes
//!   `--measures difference --reference <the −1 domain>`, a `domain_ratio` `--measures ratio
//!   --reference <the denominator domain>`, both with `--df inf` (confint on svycontrast uses
//!   normal quantiles) and the estimand of `--mean VAR` or `--prop VAR=CATEGORY`; R's one row
//!   is tasa's row of the +1 (numerator) domain: estimate, se and interval limits are compared.
//!   A `chisq` on `[row, col]` becomes `--prop ROW=LEVEL --by COL --measures
//!   rao_scott_f,rao_scott_chisq` with the design's df (the `ddf` of R's F): for a two-level row
//!   variable the test of one level's proportion across the columns is the test of the whole
//!   table. `F` compares the `rao_scott_f` row (statistic, ndf = `df1`, ddf = `df2`, p-value);
//!   `Chisq` compares only `df1` and the p-value of the `rao_scott_chisq` row, because R prints
//!   the unadjusted Pearson X² as its statistic but the df and p-value of the corrected one.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Relative tolerance of point estimates.
const ESTIMATE_TOL: f64 = 1e-9;
/// Relative tolerance of standard errors, interval limits and design effects.
const SPREAD_TOL: f64 = 1e-6;
/// Degrees of freedom are integers: they must agree to rounding only.
const DF_TOL: f64 = 1e-9;
/// Below this magnitude an expected value is compared absolutely (so that zeros work).
const TINY: f64 = 1e-12;

/// The column added to a copy of the dataset when a case's design weight is a number.
const CONSTANT_WEIGHT_COLUMN: &str = "tasa_reference_weight";

/// The ids of the cases that are skipped (in any order). Changing it is a deliberate act:
/// each id is skipped for the reason `skip_reason` gives.
const EXPECTED_SKIPS: &[&str] = &[
    // R's NA from na.rm=FALSE
    "srs_mean_avged_nonarm",
];

// ---------------------------------------------------------------------------------------------
// The reference cases (README §4 of the reference folder).

#[derive(Debug, Deserialize)]
struct Reference {
    n_cases: usize,
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
struct Case {
    id: String,
    dataset: String,
    design: Design,
    stat: String,
    variable: OneOrMany<String>,
    variable_type: Option<String>,
    denominator: Option<String>,
    category: Option<Scalar>,
    by: Option<Vec<String>>,
    domain_filter: Option<DomainFilter>,
    #[serde(default)]
    na_rm: bool,
    ci_method: Option<String>,
    level: f64,
    df: Option<Scalar>,
    options: Option<Options>,
    #[serde(default)]
    expect_error: bool,
    error_message: Option<String>,
    #[serde(default)]
    results: Vec<ResultRow>,
}

#[derive(Debug, Clone, Deserialize)]
struct Design {
    weight: Option<Scalar>,
    probs: Option<String>,
    strata: Option<String>,
    cluster: Option<Vec<String>>,
    fpc: Option<Vec<String>>,
    #[serde(default)]
    nest: bool,
    lonely_psu: Option<String>,
    pps: Option<String>,
    replicates: Option<Replicates>,
    calibration: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
struct Replicates {
    columns_prefix: String,
    #[serde(rename = "type")]
    kind: String,
    scale: Option<f64>,
    rscales: Option<Vec<f64>>,
    rho: Option<f64>,
    #[serde(default)]
    mse: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct DomainFilter {
    variable: String,
    not_in: Vec<Scalar>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Options {
    /// `true` or `"replace"`.
    deff: Option<serde_json::Value>,
    quantiles: Option<OneOrMany<f64>>,
    qrule: Option<String>,
    /// `diff`: the coefficients of svycontrast, one per domain.
    contrast: Option<Vec<ContrastTerm>>,
    /// `domain_ratio`: the domains of numerator and denominator.
    numerator_group: Option<Group>,
    denominator_group: Option<Group>,
    /// `chisq`: `F`, `Chisq`, `Wald` or `adjWald`.
    chisq_statistic: Option<String>,
}

/// A domain: the values of the `by` variables (`{"stype": "E"}`).
type Group = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, Deserialize)]
struct ContrastTerm {
    group: Group,
    coef: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct ResultRow {
    group: Option<Group>,
    category: Option<Scalar>,
    quantile: Option<f64>,
    estimate: Option<f64>,
    se: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    deff: Option<f64>,
    df: Option<f64>,
    ci_low_exact: Option<f64>,
    ci_high_exact: Option<f64>,
    /// `chisq`: the test statistic, its degrees of freedom (`ndf`, `ddf` of an F; `df` of a
    /// chi-square) and p-value.
    statistic: Option<f64>,
    ndf: Option<f64>,
    ddf: Option<f64>,
    p_value: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(x) => vec![x.clone()],
            OneOrMany::Many(xs) => xs.clone(),
        }
    }
}

/// A JSON value that is a label or a number (category `"Yes"` or `1`, weight `"pw"` or `1`,
/// df `14` or `"per_group"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(f64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Number(x) => x.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

impl Case {
    fn options(&self) -> Options {
        self.options.clone().unwrap_or_default()
    }

    fn variable_type(&self) -> &str {
        self.variable_type.as_deref().unwrap_or("numeric")
    }

    /// Several variables in one call: R then names each row's variable in `category`.
    fn is_multi_variable(&self) -> bool {
        matches!(&self.variable, OneOrMany::Many(v) if v.len() > 1)
    }

    fn df_is_per_group(&self) -> bool {
        matches!(&self.df, Some(Scalar::Text(s)) if s == "per_group")
    }

    fn compares_deff(&self) -> bool {
        self.options().deff == Some(serde_json::Value::Bool(true))
    }

    /// Domain contrasts, domain ratios and chi-square tests run through `tasa gaps`.
    fn runs_through_gaps(&self) -> bool {
        matches!(self.stat.as_str(), "diff" | "domain_ratio" | "chisq")
    }
}

// ---------------------------------------------------------------------------------------------
// Which cases run.

const SKIP_STANDARDIZE: &str = "standardised means: later";
const SKIP_NA: &str = "R's NA comes from na.rm=FALSE; tasa always drops missing analysis values \
                       from the domain (design.md §3), so it cannot give NA by design";

/// Why a case is not run, or `None` when it is.
fn skip_reason(case: &Case) -> Option<&'static str> {
    if case.stat == "standardized_mean" {
        return Some(SKIP_STANDARDIZE);
    }
    // A chi-square row has no estimate: its headline number is the statistic.
    let na = |r: &ResultRow| r.estimate.or(r.statistic).is_none();
    if !case.na_rm && case.results.iter().any(na) {
        return Some(SKIP_NA);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// A case → the `tasa estimate` or `tasa gaps` command line.

/// The dataset a case runs on, as prepared by `prepare_dataset`.
#[derive(Debug, Clone)]
struct Dataset {
    path: PathBuf,
    /// The design's weight column holds a negative value.
    negative_weights: bool,
    /// The calibration flags of a calibrated design (margin files written beside the data).
    calibration: Vec<String>,
}

/// The arguments of `tasa` for a case (pure: everything it needs is in the case and the
/// prepared dataset).
fn build_args(case: &Case, data: &Dataset) -> Vec<String> {
    if case.runs_through_gaps() {
        return gaps_args(case, data);
    }
    let mut args: Vec<String> = vec![
        "estimate".into(),
        data.path.display().to_string(),
        "--format".into(),
        "csv".into(),
        "--no-suppress".into(),
    ];
    design_args(&case.design, data, &mut args);
    estimand_args(case, &mut args);
    if let Some(by) = &case.by {
        push(&mut args, "--by", by.join("*"));
    }
    if let Some(filter) = &case.domain_filter {
        push(&mut args, "--subset", subset_expression(filter));
    }
    interval_args(case, &mut args);
    args
}

fn push(args: &mut Vec<String>, flag: &str, value: impl Into<String>) {
    args.push(flag.into());
    args.push(value.into());
}

fn design_args(design: &Design, data: &Dataset, args: &mut Vec<String>) {
    match &design.weight {
        Some(Scalar::Text(column)) => push(args, "--weight", column),
        Some(Scalar::Number(_)) => push(args, "--weight", CONSTANT_WEIGHT_COLUMN),
        None => {}
    }
    if let Some(probs) = &design.probs {
        push(args, "--probs", probs);
    }
    if let Some(strata) = &design.strata {
        push(args, "--strata", strata);
    }
    for column in design.cluster.iter().flatten() {
        push(args, "--cluster", column);
    }
    for column in design.fpc.iter().flatten() {
        push(args, "--fpc", column);
    }
    if design.nest {
        args.push("--nest".into());
    }
    if let Some(policy) = design.lonely_psu.as_deref().filter(|p| *p != "fail") {
        push(args, "--lonely-psu", policy);
    }
    if let Some(pps) = &design.pps {
        push(args, "--pps", pps);
    }
    if let Some(rep) = &design.replicates {
        push(args, "--repweights", format!("{}*", rep.columns_prefix));
        push(args, "--rep-type", rep.kind.to_ascii_lowercase());
        if let Some(scale) = rep.scale {
            push(args, "--rep-scale", scale.to_string());
        }
        if let Some(rscales) = &rep.rscales {
            let list: Vec<String> = rscales.iter().map(f64::to_string).collect();
            push(args, "--rep-rscales", list.join(","));
        }
        if let Some(rho) = rep.rho {
            push(args, "--fay-rho", rho.to_string());
        }
        if rep.mse {
            args.push("--mse".into());
        }
    }
    if data.negative_weights {
        args.push("--allow-negative-weights".into());
    }
    args.extend(data.calibration.iter().cloned());
}

fn estimand_args(case: &Case, args: &mut Vec<String>) {
    let category = || {
        case.category
            .as_ref()
            .map(Scalar::text)
            .unwrap_or_else(|| panic!("{}: an indicator needs a category", case.id))
    };
    for variable in case.variable.to_vec() {
        match (case.stat.as_str(), case.variable_type()) {
            ("quantile", _) => {
                let quantiles = case.options().quantiles.map(|q| q.to_vec());
                for p in quantiles.unwrap_or_else(|| panic!("{}: no quantiles", case.id)) {
                    push(args, "--quantile", format!("{variable}:{p}"));
                }
            }
            ("ratio", _) => {
                let den = case.denominator.as_deref();
                let den = den.unwrap_or_else(|| panic!("{}: ratio without denominator", case.id));
                push(args, "--ratio", format!("{variable}/{den}"));
            }
            ("total", "indicator") => push(args, "--total", format!("{variable}={}", category())),
            ("total", _) => push(args, "--total", variable),
            ("mean" | "proportion", "categorical") => push(args, "--prop", variable),
            ("mean" | "proportion", "indicator") => {
                push(args, "--prop", format!("{variable}={}", category()))
            }
            ("mean", _) => push(args, "--mean", variable),
            (stat, kind) => panic!("{}: no estimand flag for a {kind} {stat}", case.id),
        }
    }
}

/// `VAR not in (v1, v2)`, text values quoted.
fn subset_expression(filter: &DomainFilter) -> String {
    let values: Vec<String> = filter
        .not_in
        .iter()
        .map(|v| match v {
            Scalar::Number(x) => x.to_string(),
            Scalar::Text(s) => format!("\"{s}\""),
        })
        .collect();
    format!("{} not in ({})", filter.variable, values.join(", "))
}

fn interval_args(case: &Case, args: &mut Vec<String>) {
    if let Some(method) = &case.ci_method {
        // The Woodruff interval type R calls `mean` is tasa's `wald`.
        let ci = if case.stat == "quantile" && method == "mean" {
            "wald"
        } else {
            method.as_str()
        };
        push(args, "--ci", ci);
    }
    push(args, "--level", case.level.to_string());
    push(args, "--df", df_value(case));
    if let Some(rule) = case.options().qrule {
        push(args, "--qrule", rule);
    }
}

/// tasa's `--df` for the case's interval df: R's null (normal quantiles) is `inf`.
fn df_value(case: &Case) -> String {
    match &case.df {
        None => "inf".to_string(),
        Some(Scalar::Number(n)) => n.to_string(),
        Some(Scalar::Text(s)) if s == "per_group" => "design".to_string(),
        Some(Scalar::Text(s)) => panic!("{}: unknown df {s:?}", case.id),
    }
}

/// The `tasa gaps` arguments of a `diff`, `domain_ratio` or `chisq` case (module docs).
fn gaps_args(case: &Case, data: &Dataset) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "gaps".into(),
        data.path.display().to_string(),
        "--format".into(),
        "csv".into(),
        "--no-suppress".into(),
        "-q".into(),
    ];
    design_args(&case.design, data, &mut args);
    let variables = case.variable.to_vec();
    if case.stat == "chisq" {
        let [row, col] = variables.as_slice() else {
            panic!("{}: a chi-square test needs [row, col]", case.id)
        };
        // The design's df is the ddf of R's F: no --df.
        push(&mut args, "--prop", format!("{row}={}", chisq_level(case)));
        push(&mut args, "--by", col);
        push(&mut args, "--measures", "rao_scott_f,rao_scott_chisq");
        return args;
    }
    let [variable] = variables.as_slice() else {
        panic!("{}: a domain gap of one variable", case.id)
    };
    match case.variable_type() {
        "indicator" => {
            let category = case.category.as_ref().map(Scalar::text);
            let category =
                category.unwrap_or_else(|| panic!("{}: an indicator needs a category", case.id));
            push(&mut args, "--prop", format!("{variable}={category}"));
        }
        "numeric" => push(&mut args, "--mean", variable),
        kind => panic!("{}: no gaps estimand for a {kind} variable", case.id),
    }
    let by = case.by.as_ref();
    push(
        &mut args,
        "--by",
        by.unwrap_or_else(|| panic!("{}: a domain gap needs by", case.id))
            .join("*"),
    );
    let (_, reference) = gap_groups(case);
    push(&mut args, "--reference", reference);
    let measure = if case.stat == "diff" {
        "difference"
    } else {
        "ratio"
    };
    push(&mut args, "--measures", measure);
    if let Some(filter) = &case.domain_filter {
        push(&mut args, "--subset", subset_expression(filter));
    }
    if let Some(method) = case.ci_method.as_deref().filter(|m| *m != "wald") {
        panic!("{}: tasa gaps gives Wald intervals, not {method}", case.id);
    }
    push(&mut args, "--level", case.level.to_string());
    push(&mut args, "--df", df_value(case));
    args
}

/// The level of a `chisq` case's two-level row variable whose proportion tasa tests across the
/// columns: the case's category, else `Yes` (either level gives the same test; a row variable
/// without this level makes tasa stop, which shows as a mismatch).
fn chisq_level(case: &Case) -> String {
    case.category
        .as_ref()
        .map_or_else(|| "Yes".to_string(), Scalar::text)
}

/// The (compared, reference) domains of a `diff` or `domain_ratio` case as tasa's `group`
/// values (`*`-joined in the order of `by`): the domains with coefficients +1 and −1, or the
/// numerator and denominator domains.
fn gap_groups(case: &Case) -> (String, String) {
    let options = case.options();
    let (compared, reference) = if case.stat == "diff" {
        let terms = options.contrast.unwrap_or_default();
        let with = |coef: f64| {
            let found: Vec<&ContrastTerm> = terms.iter().filter(|t| t.coef == coef).collect();
            match found.as_slice() {
                [one] if terms.len() == 2 => one.group.clone(),
                _ => panic!("{}: tasa gaps takes a contrast of +1 and -1", case.id),
            }
        };
        (with(1.0), with(-1.0))
    } else {
        let missing = || panic!("{}: a domain ratio needs both groups", case.id);
        (
            options.numerator_group.unwrap_or_else(missing),
            options.denominator_group.unwrap_or_else(missing),
        )
    };
    (group_key(case, &compared).1, group_key(case, &reference).1)
}

// ---------------------------------------------------------------------------------------------
// Running tasa and reading its tidy output.

/// The reference folder beside the repository; fails with a clear message when it is missing.
fn reference_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    assert!(
        dir.join("cases.json").is_file(),
        "the reference cases are missing: expected {} (the shared/ folder must sit beside the \
         repository, as in CI)",
        dir.join("cases.json").display()
    );
    dir.canonicalize().unwrap_or(dir)
}

fn load_reference(dir: &Path) -> Reference {
    let path = dir.join("cases.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// The case's dataset: the reference CSV itself, or a copy with a constant weight column when
/// the design weight is a number (written into `scratch`).
fn prepare_dataset(case: &Case, reference: &Path, scratch: &Path) -> Dataset {
    let source = reference.join(&case.dataset);
    let text = std::fs::read_to_string(&source)
        .unwrap_or_else(|e| panic!("{}: cannot read {}: {e}", case.id, source.display()));
    let path = match &case.design.weight {
        Some(Scalar::Number(w)) => {
            let copy = scratch.join(format!("{}.csv", case.id));
            std::fs::write(
                &copy,
                with_constant_column(&text, CONSTANT_WEIGHT_COLUMN, *w),
            )
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", copy.display()));
            copy
        }
        _ => source,
    };
    let negative_weights = match &case.design.weight {
        Some(Scalar::Text(column)) => column_has_negative(&text, column),
        Some(Scalar::Number(w)) => *w < 0.0,
        None => false,
    };
    let calibration = match &case.design.calibration {
        Some(cal) => calibration_args(&case.id, cal, &text, scratch),
        None => Vec::new(),
    };
    Dataset {
        path,
        negative_weights,
        calibration,
    }
}

/// The calibration of a case as tasa flags, writing one margin CSV per margin into `scratch`:
/// - `poststratify` → `--calibrate poststratify`, `rake` → `--calibrate raking` (R's `rake()`
///   iterated to convergence gives the converged raking weights; its control is not passed,
///   tasa's tolerance is tighter);
/// - `linear`/`raking`/`logit` with formula constraints → the same method; the intercept and
///   the indicator constraints of one variable become one margin file (the level R leaves out
///   gets the intercept minus the others), numeric constraints `--margin-total`, `bounds`
///   `--bounds`, the control's epsilon `--cal-tolerance` (R's `calibrate()` uses the same
///   convergence measure).
fn calibration_args(
    id: &str,
    cal: &serde_json::Value,
    csv_text: &str,
    scratch: &Path,
) -> Vec<String> {
    let method = cal["method"].as_str().unwrap_or_default();
    let mut args = Vec::new();
    let mut margin_no = 0;
    let mut write_margin = |variable: &str, cells: &[(String, f64)], args: &mut Vec<String>| {
        margin_no += 1;
        let path = scratch.join(format!("{id}_margin{margin_no}.csv"));
        let mut text = format!("{variable},total\n");
        for (level, total) in cells {
            let _ = writeln!(text, "{level},{total}");
        }
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        push(args, "--margin", path.display().to_string());
    };
    match method {
        "poststratify" | "rake" => {
            push(
                &mut args,
                "--calibrate",
                if method == "rake" {
                    "raking"
                } else {
                    "poststratify"
                },
            );
            for m in cal["margins"].as_array().into_iter().flatten() {
                let variable = m["variables"][0].as_str().unwrap_or_default();
                let cells: Vec<(String, f64)> = m["totals"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(f64::NAN)))
                    .collect();
                write_margin(variable, &cells, &mut args);
            }
        }
        "linear" | "raking" | "logit" => {
            push(&mut args, "--calibrate", method);
            let constraints = cal["constraints"].as_array().cloned().unwrap_or_default();
            let intercept = constraints
                .iter()
                .find(|c| c["type"] == "intercept")
                .and_then(|c| c["total"].as_f64());
            let mut by_variable: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
            for c in &constraints {
                let total = c["total"].as_f64().unwrap_or(f64::NAN);
                let variable = c["variable"].as_str().unwrap_or_default().to_string();
                match c["type"].as_str() {
                    Some("indicator") => by_variable
                        .entry(variable)
                        .or_default()
                        .push((c["level"].as_str().unwrap_or_default().to_string(), total)),
                    Some("numeric") => {
                        push(&mut args, "--margin-total", format!("{variable}={total}"))
                    }
                    _ => {}
                }
            }
            for (variable, mut cells) in by_variable {
                let intercept =
                    intercept.unwrap_or_else(|| panic!("{id}: indicators without an intercept"));
                let given: BTreeSet<String> = cells.iter().map(|c| c.0.clone()).collect();
                let levels = column_levels(csv_text, &variable);
                let baseline: Vec<&String> =
                    levels.iter().filter(|l| !given.contains(*l)).collect();
                assert_eq!(
                    baseline.len(),
                    1,
                    "{id}: one level of {variable} is left out by R"
                );
                let rest: f64 = cells.iter().map(|c| c.1).sum();
                cells.push((baseline[0].clone(), intercept - rest));
                write_margin(&variable, &cells, &mut args);
            }
            if let Some(b) = cal["bounds"].as_array() {
                let b: Vec<String> = b.iter().map(|x| x.to_string()).collect();
                push(&mut args, "--bounds", b.join(","));
            }
            if let Some(eps) = cal["control"]["epsilon"].as_f64() {
                push(&mut args, "--cal-tolerance", eps.to_string());
            }
        }
        other => panic!("{id}: calibration method {other}"),
    }
    args
}

/// The distinct values of a column of a CSV text.
fn column_levels(csv_text: &str, column: &str) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let index = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == column))
        .unwrap_or_else(|| panic!("no column {column}"));
    reader
        .records()
        .flatten()
        .filter_map(|r| r.get(index).map(str::to_string))
        .collect()
}

/// Appends a column holding `value` on every row (the reference CSVs have one record per line).
fn with_constant_column(csv_text: &str, name: &str, value: f64) -> String {
    let mut out = String::with_capacity(csv_text.len() + 16 * csv_text.lines().count());
    for (i, line) in csv_text.lines().enumerate() {
        let cell = if i == 0 {
            name.to_string()
        } else {
            value.to_string()
        };
        let _ = writeln!(out, "{line},{cell}");
    }
    out
}

fn column_has_negative(csv_text: &str, column: &str) -> bool {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let Some(index) = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == column))
    else {
        return false;
    };
    reader.records().flatten().any(|record| {
        record
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|w| w < 0.0)
    })
}

/// What one run of `tasa` did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_tasa(args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tasa"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot start tasa");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One row of `tasa estimate`'s tidy output: the key columns and the numbers as written.
#[derive(Debug, Clone, Default)]
struct TidyRow {
    stat: String,
    variable: String,
    category: String,
    by: String,
    group: String,
    numbers: BTreeMap<&'static str, String>,
}

const KEY_COLUMNS: [&str; 5] = ["stat", "variable", "category", "by", "group"];
const NUMBER_COLUMNS: [&str; 6] = ["estimate", "se", "ci_low", "ci_high", "df", "deff"];

/// Parses the tidy CSV; an error says what is wrong with it.
fn parse_tidy(stdout: &str) -> Result<Vec<TidyRow>, String> {
    let rows = parse_table(stdout, &KEY_COLUMNS, &NUMBER_COLUMNS)?;
    Ok(rows
        .into_iter()
        .map(|(keys, numbers)| {
            let [stat, variable, category, by, group] = keys.try_into().expect("5 keys");
            TidyRow {
                stat,
                variable,
                category,
                by,
                group,
                numbers,
            }
        })
        .collect())
}

/// One row of `tasa gaps`' CSV: the key columns and the numbers as written.
#[derive(Debug, Clone, Default)]
struct GapsRow {
    measure: String,
    by: String,
    group: String,
    numbers: BTreeMap<&'static str, String>,
}

const GAPS_KEY_COLUMNS: [&str; 3] = ["measure", "by", "group"];
const GAPS_NUMBER_COLUMNS: [&str; 7] = [
    "estimate", "se", "ci_low", "ci_high", "df1", "df2", "p_value",
];

/// Parses the CSV of `tasa gaps`; an error says what is wrong with it.
fn parse_gaps(stdout: &str) -> Result<Vec<GapsRow>, String> {
    let rows = parse_table(stdout, &GAPS_KEY_COLUMNS, &GAPS_NUMBER_COLUMNS)?;
    Ok(rows
        .into_iter()
        .map(|(keys, numbers)| {
            let [measure, by, group] = keys.try_into().expect("3 keys");
            GapsRow {
                measure,
                by,
                group,
                numbers,
            }
        })
        .collect())
}

/// A row of a CSV: the cells of the key columns in order, and the number cells by name.
type TableRow = (Vec<String>, BTreeMap<&'static str, String>);

/// Reads the named columns of a CSV (formula guards undone); an error names a missing column
/// or an unreadable row.
fn parse_table(
    stdout: &str,
    key_columns: &[&str],
    number_columns: &[&'static str],
) -> Result<Vec<TableRow>, String> {
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("unreadable CSV header: {e}"))?
        .clone();
    let index = |name: &str| {
        header.iter().position(|c| c == name).ok_or_else(|| {
            format!(
                "no `{name}` column in {:?}",
                header.iter().collect::<Vec<_>>()
            )
        })
    };
    let keys: Vec<usize> = key_columns
        .iter()
        .map(|c| index(c))
        .collect::<Result<_, _>>()?;
    let numbers: Vec<usize> = number_columns
        .iter()
        .map(|c| index(c))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("unreadable CSV row: {e}"))?;
        let cell = |i: usize| record.get(i).map(undo_formula_guard).unwrap_or_default();
        rows.push((
            keys.iter().map(|&i| cell(i)).collect(),
            number_columns
                .iter()
                .zip(&numbers)
                .map(|(name, &i)| (*name, cell(i)))
                .collect(),
        ));
    }
    Ok(rows)
}

/// tasa writes text starting with `=`, `+`, `-` or `@` with a leading `'` (design.md §8).
fn undo_formula_guard(text: &str) -> String {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_string(),
        _ => text.to_string(),
    }
}

/// A number cell: `Ok(None)` when empty.
fn parse_number(text: &str) -> Result<Option<f64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        text.parse().map(Some).map_err(|_| ())
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing.

/// The one tolerance helper: |got − expected| relative to max(|expected|, TINY).
fn relative_error(expected: f64, got: f64) -> f64 {
    if expected == got {
        return 0.0; // also equal infinities
    }
    (got - expected).abs() / expected.abs().max(TINY)
}

fn within(expected: f64, got: f64, tolerance: f64) -> bool {
    relative_error(expected, got) <= tolerance // false for NaN
}

/// One disagreement between R and tasa.
#[derive(Debug, Clone, PartialEq)]
struct Mismatch {
    case: String,
    row: String,
    field: String,
    expected: String,
    got: String,
    relative_error: Option<f64>,
}

impl Mismatch {
    fn new(case: &Case, row: &str, field: &str, expected: String, got: String) -> Self {
        Mismatch {
            case: case.id.clone(),
            row: row.to_string(),
            field: field.to_string(),
            expected,
            got,
            relative_error: None,
        }
    }
}

/// tasa's (`by`, `group`) cells of an R domain: the `by` variables and their values, each
/// `*`-joined in the order of the case's `by`.
fn group_key(case: &Case, group: &Group) -> (String, String) {
    let names: Vec<String> = match &case.by {
        Some(by) => by.clone(),
        None => group.keys().cloned().collect(),
    };
    let values: Vec<String> = names
        .iter()
        .map(|n| match group.get(n) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        })
        .collect();
    (names.join("*"), values.join("*"))
}

/// Where an R row must appear in tasa's output.
#[derive(Debug, Clone, PartialEq)]
struct RowKey {
    by: String,
    group: String,
    category: String,
    /// Set in multi-variable calls, where R's category names the variable.
    variable: Option<String>,
    quantile: Option<f64>,
}

impl RowKey {
    fn of(case: &Case, row: &ResultRow) -> RowKey {
        let (by, group) = match &row.group {
            None => (String::new(), String::new()),
            Some(map) => group_key(case, map),
        };
        let r_category = row.category.as_ref().map(Scalar::text).unwrap_or_default();
        let (category, variable) = if case.is_multi_variable() && case.variable_type() == "numeric"
        {
            (String::new(), Some(r_category))
        } else {
            (r_category, None)
        };
        RowKey {
            by,
            group,
            category,
            variable,
            quantile: row.quantile,
        }
    }

    fn matches(&self, row: &TidyRow) -> bool {
        let quantile_ok = match self.quantile {
            None => true,
            Some(p) => row
                .stat
                .strip_prefix("quantile:")
                .and_then(|q| q.trim().parse::<f64>().ok())
                .is_some_and(|q| (q - p).abs() < 1e-12),
        };
        row.by == self.by
            && row.group == self.group
            && row.category == self.category
            && self.variable.as_ref().is_none_or(|v| &row.variable == v)
            && quantile_ok
    }

    /// A short label for the mismatch table.
    fn label(&self) -> String {
        let mut parts = Vec::new();
        if self.by.is_empty() {
            parts.push("all".to_string());
        } else {
            parts.push(format!("{}={}", self.by, self.group));
        }
        if let Some(v) = &self.variable {
            parts.push(v.clone());
        }
        if !self.category.is_empty() {
            parts.push(self.category.clone());
        }
        if let Some(p) = self.quantile {
            parts.push(format!("p={p}"));
        }
        parts.join(" ")
    }
}

/// Compares tasa's rows with R's rows of a case that runs without error.
fn compare(case: &Case, run: &Run) -> Vec<Mismatch> {
    if run.code != 0 {
        return vec![Mismatch::new(
            case,
            "-",
            "exit code",
            "0".into(),
            format!("{}: {}", run.code, first_line(&run.stderr)),
        )];
    }
    if case.runs_through_gaps() {
        compare_gaps(case, &run.stdout)
    } else {
        compare_tidy(case, &run.stdout)
    }
}

/// A mismatch saying tasa's output is not the expected CSV.
fn unreadable(case: &Case, what: &str, problem: String) -> Vec<Mismatch> {
    vec![Mismatch::new(case, "-", "output", what.into(), problem)]
}

/// Compares `tasa estimate`'s tidy CSV with R's rows.
fn compare_tidy(case: &Case, stdout: &str) -> Vec<Mismatch> {
    let rows = match parse_tidy(stdout) {
        Ok(rows) => rows,
        Err(problem) => return unreadable(case, "tidy CSV", problem),
    };
    let mut found = Vec::new();
    for expected in &case.results {
        let key = RowKey::of(case, expected);
        let label = key.label();
        let matching: Vec<&TidyRow> = rows.iter().filter(|r| key.matches(r)).collect();
        let got = match matching.as_slice() {
            [one] => *one,
            [] => {
                if !all_numbers_na(expected) {
                    found.push(Mismatch::new(
                        case,
                        &label,
                        "row",
                        "present".into(),
                        "absent".into(),
                    ));
                }
                continue;
            }
            many => {
                found.push(Mismatch::new(
                    case,
                    &label,
                    "row",
                    "one".into(),
                    format!("{} rows", many.len()),
                ));
                continue;
            }
        };
        for (field, value, tolerance) in expected_fields(case, expected) {
            if let Some(m) =
                compare_number(case, &label, field, value, &got.numbers[field], tolerance)
            {
                found.push(m);
            }
        }
    }
    found
}

/// The numbers of an R row that tasa must reproduce, with their tolerances.
fn expected_fields(case: &Case, row: &ResultRow) -> Vec<(&'static str, Option<f64>, f64)> {
    let exact = case.ci_method.as_deref() == Some("likelihood");
    let (low, high) = if exact {
        (row.ci_low_exact, row.ci_high_exact)
    } else {
        (row.ci_low, row.ci_high)
    };
    let mut fields = vec![
        ("estimate", row.estimate, ESTIMATE_TOL),
        ("se", row.se, SPREAD_TOL),
        ("ci_low", low, SPREAD_TOL),
        ("ci_high", high, SPREAD_TOL),
    ];
    if case.compares_deff() {
        fields.push(("deff", row.deff, SPREAD_TOL));
    }
    if case.df_is_per_group() {
        fields.push(("df", row.df, DF_TOL));
    }
    fields
}

/// Compares `tasa gaps`' CSV with R's one row (module docs): the row of the expected measure
/// and group must be there once, with R's numbers.
fn compare_gaps(case: &Case, stdout: &str) -> Vec<Mismatch> {
    let rows = match parse_gaps(stdout) {
        Ok(rows) => rows,
        Err(problem) => return unreadable(case, "gaps CSV", problem),
    };
    let [expected] = case.results.as_slice() else {
        panic!("{}: R gives one row for a gap or test", case.id)
    };
    let (measure, by, group, fields) = gaps_expectation(case, expected);
    let label = if group.is_empty() {
        format!("{measure} by {by}")
    } else {
        format!("{measure} {by}={group}")
    };
    let matching: Vec<&GapsRow> = rows
        .iter()
        .filter(|r| r.measure == measure && r.by == by && r.group == group)
        .collect();
    let got = match matching.as_slice() {
        [one] => *one,
        [] => {
            let m = Mismatch::new(case, &label, "row", "present".into(), "absent".into());
            return vec![m];
        }
        many => {
            let got = format!("{} rows", many.len());
            return vec![Mismatch::new(case, &label, "row", "one".into(), got)];
        }
    };
    fields
        .into_iter()
        .filter_map(|(field, value, tolerance)| {
            compare_number(case, &label, field, value, &got.numbers[field], tolerance)
        })
        .collect()
}

/// The fields of an R gap or test row as tasa's row of `tasa gaps`: (measure, by, group, the
/// numbers with their tolerances).
type GapsExpectation = (
    &'static str,
    String,
    String,
    Vec<(&'static str, Option<f64>, f64)>,
);

fn gaps_expectation(case: &Case, row: &ResultRow) -> GapsExpectation {
    if case.stat == "chisq" {
        let by = case.variable.to_vec().get(1).cloned().unwrap_or_default();
        let statistic = case.options().chisq_statistic.unwrap_or_default();
        return match statistic.as_str() {
            "F" => (
                "rao_scott_f",
                by,
                String::new(),
                vec![
                    ("estimate", row.statistic, ESTIMATE_TOL),
                    ("df1", row.ndf, SPREAD_TOL),
                    ("df2", row.ddf, SPREAD_TOL),
                    ("p_value", row.p_value, SPREAD_TOL),
                ],
            ),
            // R's `statistic` is the unadjusted Pearson X², while its df and p-value are of the
            // Rao–Scott corrected statistic (reference README §6.10): tasa reports the corrected
            // statistic, so only df and p-value are compared.
            "Chisq" => (
                "rao_scott_chisq",
                by,
                String::new(),
                vec![
                    ("df1", row.df, SPREAD_TOL),
                    ("p_value", row.p_value, SPREAD_TOL),
                ],
            ),
            other => panic!("{}: no tasa gaps measure for svychisq {other:?}", case.id),
        };
    }
    let measure = if case.stat == "diff" {
        "difference"
    } else {
        "ratio"
    };
    let by = case.by.clone().unwrap_or_default().join("*");
    let (group, _) = gap_groups(case);
    let fields = vec![
        ("estimate", row.estimate, ESTIMATE_TOL),
        ("se", row.se, SPREAD_TOL),
        ("ci_low", row.ci_low, SPREAD_TOL),
        ("ci_high", row.ci_high, SPREAD_TOL),
    ];
    (measure, by, group, fields)
}

fn all_numbers_na(row: &ResultRow) -> bool {
    [row.estimate, row.se, row.ci_low, row.ci_high]
        .iter()
        .all(Option::is_none)
}

fn compare_number(
    case: &Case,
    row: &str,
    field: &str,
    expected: Option<f64>,
    got_text: &str,
    tolerance: f64,
) -> Option<Mismatch> {
    let show = |x: Option<f64>| x.map_or_else(|| "NA (empty)".to_string(), |x| x.to_string());
    let got = match parse_number(got_text) {
        Ok(got) => got,
        Err(()) => {
            let got = format!("{got_text:?} (not a number)");
            return Some(Mismatch::new(case, row, field, show(expected), got));
        }
    };
    let error = match (expected, got) {
        (None, None) => return None,
        (Some(e), Some(g)) if within(e, g, tolerance) => return None,
        (Some(e), Some(g)) => Some(relative_error(e, g)),
        _ => None,
    };
    let mut m = Mismatch::new(case, row, field, show(expected), show(got));
    m.relative_error = error;
    Some(m)
}

/// Checks that tasa refuses the case as R does: exit code 2 and a message naming the problem.
fn check_error(case: &Case, run: &Run) -> Vec<Mismatch> {
    let r_message = case.error_message.clone().unwrap_or_default();
    let mut found = Vec::new();
    if run.code != 2 {
        found.push(Mismatch::new(
            case,
            "-",
            "exit code",
            "2".into(),
            format!("{}: {}", run.code, first_line(&run.stderr)),
        ));
    }
    let message = run.stderr.to_lowercase();
    let tokens = words(&message);
    for group in error_keywords(case) {
        let hit = group.iter().any(|k| {
            if k.contains(' ') {
                message.contains(k.as_str())
            } else {
                tokens.contains(k.as_str())
            }
        });
        if !hit {
            found.push(Mismatch::new(
                case,
                "-",
                "error message",
                format!("one of {group:?} (R: {r_message})"),
                first_line(&run.stderr).to_string(),
            ));
        }
    }
    found
}

/// Key words the error must contain: each inner list is a set of alternatives (lower case;
/// a phrase with a space is matched as text, a single word as a whole word).
fn error_keywords(case: &Case) -> Vec<Vec<String>> {
    let message = case.error_message.as_deref().unwrap_or_default();
    let owned = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if let Some(rest) = message.strip_prefix("Stratum (") {
        let stratum = rest.split(')').next().unwrap_or_default().to_lowercase();
        return vec![
            owned(&["lonely", "one psu", "single psu", "single-psu"]),
            vec![stratum],
        ];
    }
    if let Some(rest) = message.strip_prefix("missing values in `") {
        let what = rest.trim_end_matches('\'').trim_end_matches('`');
        let column = match what {
            "weights" => case.design.weight.as_ref().map(Scalar::text),
            "prob" | "probs" => case.design.probs.clone(),
            "strata" => case.design.strata.clone(),
            _ => None,
        };
        let mut groups = vec![owned(&["missing", "empty"])];
        groups.push(vec![column
            .unwrap_or_else(|| what.to_string())
            .to_lowercase()]);
        return groups;
    }
    words(&message.to_lowercase())
        .into_iter()
        .filter(|w| w.len() >= 4)
        .map(|w| vec![w.to_string()])
        .collect()
}

/// Whole words: runs of letters, digits, `.` and `_` (column names such as `sch.wide`).
fn words(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect()
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Reporting.

/// Text cells of the table are cut to this many characters.
const CELL_WIDTH: usize = 64;

fn mismatch_table(mismatches: &[Mismatch]) -> String {
    let cut = |text: &str| {
        if text.chars().count() <= CELL_WIDTH {
            text.to_string()
        } else {
            let kept: String = text.chars().take(CELL_WIDTH - 1).collect();
            format!("{kept}…")
        }
    };
    let header = ["case", "row", "field", "expected", "got", "rel.error"];
    let rows: Vec<[String; 6]> = mismatches
        .iter()
        .map(|m| {
            [
                m.case.clone(),
                cut(&m.row),
                m.field.clone(),
                cut(&m.expected),
                cut(&m.got),
                m.relative_error
                    .map_or_else(|| "-".into(), |e| format!("{e:.2e}")),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&header.map(String::from));
    for row in &rows {
        line(row);
    }
    out
}

/// A command line to paste into a shell.
fn shell_line(args: &[String]) -> String {
    let quote = |a: &String| {
        if a.chars()
            .all(|c| c.is_alphanumeric() || "-_./:=,".contains(c))
        {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut line = String::from("tasa");
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    line
}

// ---------------------------------------------------------------------------------------------
// The test.

#[test]
fn every_reference_case_matches_r() {
    let dir = reference_dir();
    let reference = load_reference(&dir);
    assert_eq!(
        reference.cases.len(),
        reference.n_cases,
        "cases.json announces {} cases",
        reference.n_cases
    );
    let scratch = tempfile::tempdir().expect("temporary folder");

    let mut skipped: Vec<(&str, &str)> = Vec::new();
    let mut mismatches: Vec<Mismatch> = Vec::new();
    let mut failing_commands: Vec<(String, String)> = Vec::new();
    let mut ran = 0;
    for case in &reference.cases {
        if let Some(reason) = skip_reason(case) {
            skipped.push((case.id.as_str(), reason));
            continue;
        }
        ran += 1;
        let data = prepare_dataset(case, &dir, scratch.path());
        let args = build_args(case, &data);
        let run = run_tasa(&args);
        let found = if case.expect_error {
            check_error(case, &run)
        } else {
            compare(case, &run)
        };
        if !found.is_empty() {
            failing_commands.push((case.id.clone(), shell_line(&args)));
        }
        mismatches.extend(found);
    }

    println!(
        "skipped {} of {} cases:",
        skipped.len(),
        reference.cases.len()
    );
    for (id, reason) in &skipped {
        println!("  {id}: {reason}");
    }
    let skipped_ids: BTreeSet<&str> = skipped.iter().map(|(id, _)| *id).collect();
    let expected_ids: BTreeSet<&str> = EXPECTED_SKIPS.iter().copied().collect();
    let mut report = String::new();
    if skipped_ids != expected_ids {
        let _ = writeln!(
            report,
            "the skipped cases changed: newly skipped {:?}, no longer skipped {:?} (edit \
             EXPECTED_SKIPS if that is deliberate)",
            skipped_ids.difference(&expected_ids).collect::<Vec<_>>(),
            expected_ids.difference(&skipped_ids).collect::<Vec<_>>()
        );
    }
    if !mismatches.is_empty() {
        let cases: BTreeSet<&str> = mismatches.iter().map(|m| m.case.as_str()).collect();
        println!(
            "\n{} mismatches in {} of {ran} cases run:\n\n{}",
            mismatches.len(),
            cases.len(),
            mismatch_table(&mismatches)
        );
        println!("commands of the failing cases (dataset paths are absolute):");
        for (id, line) in &failing_commands {
            println!("  {id}:\n    {line}");
        }
        let _ = writeln!(
            report,
            "{} mismatches with R in {} of {ran} cases (table above; run with --nocapture)",
            mismatches.len(),
            cases.len()
        );
    }
    assert!(report.is_empty(), "{report}");
    println!("all {ran} cases run match R");
}

// ---------------------------------------------------------------------------------------------
// Unit tests of the mapping and comparison logic (no tasa run, no reference folder needed).

mod unit {
    use super::*;
    use serde_json::json;

    /// An SRS mean case (`srs_mean_api00`) with some fields replaced.
    fn case(overrides: serde_json::Value) -> Case {
        let mut base = json!({
            "id": "t", "dataset": "data/apisrs.csv",
            "design": {"weight": "pw", "probs": null, "strata": null, "cluster": null,
                       "fpc": null, "fpc_type": null, "nest": false, "lonely_psu": "fail",
                       "pps": null, "variance": "linearization", "replicates": null,
                       "calibration": null},
            "stat": "mean", "variable": "api00", "variable_type": "numeric",
            "denominator": null, "category": null, "by": null, "domain_filter": null,
            "na_rm": false, "ci_method": "wald", "level": 0.95, "df": null, "design_df": 199,
            "options": {"deff": true}, "expect_error": false,
            "results": [{"group": null, "category": null, "estimate": 656.585,
                         "se": 9.402772170880644, "ci_low": 638.1559051902385,
                         "ci_high": 675.0140948097616, "deff": 1.0333667000333675}]
        });
        merge(&mut base, overrides);
        serde_json::from_value(base).expect("a valid case")
    }

    fn merge(base: &mut serde_json::Value, overrides: serde_json::Value) {
        match (base, overrides) {
            (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
                for (k, v) in o {
                    match b.get_mut(&k) {
                        Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                        _ => {
                            b.insert(k, v);
                        }
                    }
                }
            }
            (b, o) => *b = o,
        }
    }

    fn data() -> Dataset {
        Dataset {
            path: PathBuf::from("/ref/data.csv"),
            negative_weights: false,
            calibration: Vec::new(),
        }
    }

    fn args_of(c: &Case) -> String {
        build_args(c, &data())[5..].join(" ")
    }

    fn tidy(rows: &[&str]) -> Run {
        let mut stdout = String::from(
            "indicator,stat,variable,category,by,group,estimate,se,ci_low,ci_high,df,cv,deff,n,\
             n_eff,pop_size,flag\n",
        );
        for r in rows {
            stdout.push_str(r);
            stdout.push('\n');
        }
        Run {
            code: 0,
            stdout,
            stderr: String::new(),
        }
    }

    #[test]
    fn srs_mean_has_normal_wald_interval() {
        let args = build_args(&case(json!({})), &data());
        assert_eq!(
            args[..5],
            [
                "estimate",
                "/ref/data.csv",
                "--format",
                "csv",
                "--no-suppress"
            ]
        );
        assert_eq!(
            args_of(&case(json!({}))),
            "--weight pw --mean api00 --ci wald --level 0.95 --df inf"
        );
    }

    #[test]
    fn two_stage_clusters_and_fpcs_repeat_per_stage() {
        let c = case(
            json!({"design": {"cluster": ["dnum", "snum"], "fpc": ["fpc1", "fpc2"],
                                       "strata": "stype", "nest": true, "lonely_psu": "adjust"},
                            "stat": "total", "variable": "enroll", "df": 39}),
        );
        assert_eq!(
            args_of(&c),
            "--weight pw --strata stype --cluster dnum --cluster snum --fpc fpc1 --fpc fpc2 \
             --nest --lonely-psu adjust --total enroll --ci wald --level 0.95 --df 39"
        );
    }

    #[test]
    fn replicate_designs_pass_type_scale_and_rscales() {
        let c = case(json!({"design": {"replicates": {
            "columns_prefix": "repw", "n_replicates": 3, "type": "JKn", "scale": 1,
            "rscales": [0.5, 0.9676068762723365, 1], "rho": null, "mse": true, "df": 2}}}));
        assert!(args_of(&c).starts_with(
            "--weight pw --repweights repw* --rep-type jkn --rep-scale 1 \
             --rep-rscales 0.5,0.9676068762723365,1 --mse --mean api00"
        ));
        let fay = case(json!({"design": {"replicates": {
            "columns_prefix": "repw", "type": "Fay", "scale": 0.5, "rscales": null,
            "rho": 0.3, "mse": false}}}));
        assert!(args_of(&fay).contains("--rep-type fay --rep-scale 0.5 --fay-rho 0.3 --mean"));
    }

    #[test]
    fn estimands_follow_stat_and_variable_type() {
        let prop = case(json!({"stat": "proportion", "variable": "sch.wide",
                               "variable_type": "categorical"}));
        assert!(args_of(&prop).contains("--prop sch.wide --ci wald"));
        let counts = case(json!({"stat": "total", "variable": "awards",
                                 "variable_type": "categorical"}));
        assert!(args_of(&counts).contains("--total awards --ci wald"));
        let ratio = case(json!({"stat": "ratio", "variable": "api.stu",
                                "denominator": "enroll"}));
        assert!(args_of(&ratio).contains("--ratio api.stu/enroll"));
        let several = case(json!({"variable": ["api00", "api99"]}));
        assert!(args_of(&several).contains("--mean api00 --mean api99"));
        let coded = case(json!({"stat": "proportion", "variable": "race",
                                "variable_type": "indicator", "category": 1}));
        assert!(args_of(&coded).contains("--prop race=1"));
    }

    #[test]
    fn single_proportion_by_domain_uses_domain_df() {
        let c = case(json!({"stat": "proportion", "variable": "sch.wide",
                            "variable_type": "indicator", "category": "Yes",
                            "by": ["stype", "awards"], "ci_method": "beta", "level": 0.9,
                            "df": "per_group", "options": null}));
        assert_eq!(
            args_of(&c),
            "--weight pw --prop sch.wide=Yes --by stype*awards --ci beta --level 0.9 --df design"
        );
        assert!(c.df_is_per_group());
        assert!(!c.compares_deff());
    }

    #[test]
    fn quantiles_map_woodruff_mean_to_wald_and_pass_the_rule() {
        let c = case(json!({"stat": "quantile", "ci_method": "mean", "df": 14,
                            "options": {"quantiles": [0.1, 0.5], "qrule": "hf7",
                                        "interval_type": "mean", "alpha": 0.05}}));
        assert_eq!(
            args_of(&c),
            "--weight pw --quantile api00:0.1 --quantile api00:0.5 --ci wald --level 0.95 \
             --df 14 --qrule hf7"
        );
        let one = case(json!({"stat": "quantile", "ci_method": "beta",
                              "options": {"quantiles": 0.5}}));
        assert!(args_of(&one).contains("--quantile api00:0.5 --ci beta"));
    }

    #[test]
    fn domain_filter_becomes_a_subset_expression() {
        let c = case(json!({"domain_filter": {"variable": "stype", "not_in": ["E", "H"]}}));
        let args = build_args(&c, &data());
        let at = args.iter().position(|a| a == "--subset").expect("--subset");
        assert_eq!(args[at + 1], r#"stype not in ("E", "H")"#);
        let numeric = DomainFilter {
            variable: "race".into(),
            not_in: vec![Scalar::Number(1.0), Scalar::Number(2.5)],
        };
        assert_eq!(subset_expression(&numeric), "race not in (1, 2.5)");
    }

    #[test]
    fn constant_and_negative_weights() {
        let c = case(json!({"design": {"weight": 2}}));
        assert!(args_of(&c).starts_with(&format!("--weight {CONSTANT_WEIGHT_COLUMN} --mean")));
        let copy = with_constant_column("a,b\n\"x\",1\n\"y\",2\n", "w", 2.5);
        assert_eq!(copy, "a,b,w\n\"x\",1,2.5\n\"y\",2,2.5\n");
        assert!(column_has_negative("a,pw\n1,3\n2,-3.5\n", "pw"));
        assert!(!column_has_negative("a,pw\n1,3\n2,\n", "pw"));
        let negative = Dataset {
            negative_weights: true,
            ..data()
        };
        assert!(build_args(&case(json!({})), &negative)
            .contains(&"--allow-negative-weights".to_string()));
    }

    #[test]
    fn skips_have_reasons() {
        assert_eq!(skip_reason(&case(json!({}))), None);
        let cal = case(json!({"design": {"calibration": {"method": "rake"}}}));
        assert_eq!(skip_reason(&cal), None);
        assert_eq!(skip_reason(&chisq_case("F")), None);
        assert_eq!(skip_reason(&diff_case()), None);
        let standardized = case(json!({"stat": "standardized_mean"}));
        assert_eq!(skip_reason(&standardized), Some(SKIP_STANDARDIZE));
        let na = case(
            json!({"results": [{"group": null, "category": null, "estimate": null,
                                          "se": null, "ci_low": null, "ci_high": null,
                                          "deff": null}]}),
        );
        assert_eq!(skip_reason(&na), Some(SKIP_NA));
    }

    /// `clus1_diff_mean_api00_E_minus_H`.
    fn diff_case() -> Case {
        case(
            json!({"design": {"cluster": ["dnum"], "fpc": ["fpc"]}, "stat": "diff",
                    "by": ["stype"], "options": {"domain_stat": "mean", "contrast": [
                        {"group": {"stype": "E"}, "coef": 1},
                        {"group": {"stype": "H"}, "coef": -1}]},
                    "results": [{"group": null, "category": null,
                                 "estimate": 30.296626984126988, "se": 30.02760619184544,
                                 "ci_low": -28.556399693841982, "ci_high": 89.14965366209596,
                                 "deff": null}]}),
        )
    }

    /// `clus1_chisq_schwide_stype_F` or `_Chisq` (R's numbers of the two cases).
    fn chisq_case(statistic: &str) -> Case {
        let result = if statistic == "F" {
            json!({"statistic": 5.193369541474877, "ndf": 1.4946397777074554,
                   "ddf": 20.924956887904376, "p_value": 0.021747462370796916})
        } else {
            json!({"statistic": 11.94089208074534, "df": 2, "p_value": 0.005553263303113219})
        };
        case(
            json!({"design": {"cluster": ["dnum"], "fpc": ["fpc"]}, "stat": "chisq",
                    "variable": ["sch.wide", "stype"], "variable_type": "categorical",
                    "ci_method": null, "options": {"chisq_statistic": statistic},
                    "results": [result]}),
        )
    }

    fn gaps_args_of(c: &Case) -> String {
        let args = build_args(c, &data());
        assert_eq!(
            args[..6],
            [
                "gaps",
                "/ref/data.csv",
                "--format",
                "csv",
                "--no-suppress",
                "-q"
            ]
        );
        args[6..].join(" ")
    }

    fn gaps_output(rows: &[&str]) -> Run {
        let mut stdout = String::from(
            "indicator,by,group,reference,measure,estimate,se,ci_low,ci_high,df1,df2,p_value,\
             p_adjusted,flag\n",
        );
        for r in rows {
            stdout.push_str(r);
            stdout.push('\n');
        }
        Run {
            code: 0,
            stdout,
            stderr: String::new(),
        }
    }

    #[test]
    fn domain_contrasts_and_ratios_run_through_gaps() {
        assert_eq!(
            gaps_args_of(&diff_case()),
            "--weight pw --cluster dnum --fpc fpc --mean api00 --by stype --reference H \
             --measures difference --level 0.95 --df inf"
        );
        let prop = case(json!({"stat": "diff", "variable": "sch.wide",
                               "variable_type": "indicator", "category": "Yes",
                               "by": ["stype"], "options": {"contrast": [
                                   {"group": {"stype": "M"}, "coef": -1},
                                   {"group": {"stype": "E"}, "coef": 1}]}}));
        assert_eq!(
            gaps_args_of(&prop),
            "--weight pw --prop sch.wide=Yes --by stype --reference M --measures difference \
             --level 0.95 --df inf"
        );
        assert_eq!(gap_groups(&prop), ("E".to_string(), "M".to_string()));
        let ratio = case(json!({"stat": "domain_ratio", "variable": "sch.wide",
                                "variable_type": "indicator", "category": "Yes",
                                "by": ["stype"], "options": {
                                    "numerator_group": {"stype": "E"},
                                    "denominator_group": {"stype": "H"}}}));
        assert_eq!(
            gaps_args_of(&ratio),
            "--weight pw --prop sch.wide=Yes --by stype --reference H --measures ratio \
             --level 0.95 --df inf"
        );
    }

    #[test]
    fn chisq_tests_a_level_across_the_columns_with_the_design_df() {
        assert_eq!(
            gaps_args_of(&chisq_case("F")),
            "--weight pw --cluster dnum --fpc fpc --prop sch.wide=Yes --by stype \
             --measures rao_scott_f,rao_scott_chisq"
        );
    }

    #[test]
    fn gaps_rows_are_compared_by_measure_and_group() {
        let c = diff_case();
        let ok = gaps_output(&[
            "api00,stype,E,H,difference,30.296626984126988,30.0276062,-28.6,\
             89.14965366209596,,,0.31,0.62,ok",
            "api00,stype,M,H,difference,1,1,1,1,,,0.9,0.9,ok",
        ]);
        let found = compare(&c, &ok);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].row.as_str(), found[0].field.as_str()),
            ("difference stype=E", "ci_low")
        );
        let absent = compare(
            &c,
            &gaps_output(&["api00,stype,M,H,difference,1,1,1,1,,,1,1,ok"]),
        );
        assert_eq!(absent[0].field, "row");
        assert!(compare(&c, &tidy(&[]))[0]
            .got
            .contains("no `measure` column"));
    }

    #[test]
    fn chisq_compares_f_fully_and_chisq_by_df_and_p_value() {
        let run = gaps_output(&[
            "sch.wide=Yes,stype,,,rao_scott_f,5.193369541474877,,,,1.494639777707456,\
             20.924956887904386,0.02174746237079585,0.02174746237079585,ok",
            "sch.wide=Yes,stype,,,rao_scott_chisq,10.386739082949754,,,,2,,\
             0.005553263303113222,0.011106526606226444,ok",
        ]);
        assert_eq!(compare(&chisq_case("F"), &run), vec![]);
        // R's Chisq statistic (11.94, unadjusted) differs from tasa's corrected one: not compared.
        assert_eq!(compare(&chisq_case("Chisq"), &run), vec![]);
        let wrong_df = gaps_output(&["sch.wide=Yes,stype,,,rao_scott_chisq,10,,,,3,,\
                                      0.005553263303113222,,ok"]);
        let found = compare(&chisq_case("Chisq"), &wrong_df);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].field.as_str(), found[0].row.as_str()),
            ("df1", "rao_scott_chisq by stype")
        );
    }

    #[test]
    fn relative_error_handles_zeros_and_scale() {
        assert_eq!(relative_error(0.0, 0.0), 0.0);
        assert!(within(0.0, 1e-20, 1e-6));
        assert!(!within(0.0, 1e-10, 1e-6));
        assert!(within(656.585, 656.585 * (1.0 + 5e-10), ESTIMATE_TOL));
        assert!(!within(656.585, 656.585 * (1.0 + 2e-9), ESTIMATE_TOL));
        assert!(within(f64::INFINITY, f64::INFINITY, 1e-6));
        assert!(!within(1.0, f64::NAN, 1e-6));
    }

    #[test]
    fn matching_rows_are_compared_and_extra_rows_ignored() {
        let c = case(json!({"by": ["stype"], "results": [
            {"group": {"stype": "E"}, "category": null, "estimate": 1.0, "se": 0.5,
             "ci_low": 0.0, "ci_high": 2.0, "deff": 1.5}]}));
        let ok = tidy(&[
            "api00,mean,api00,,,,9,9,9,9,,,9,200,,6194,ok",
            "api00,mean,api00,,stype,E,1.0000000000001,0.5,0,2.0000001,,,1.5,100,,3000,ok",
        ]);
        assert_eq!(compare(&c, &ok), vec![]);
        let bad = tidy(&["api00,mean,api00,,stype,E,1.1,0.5,,2,,,1.5,100,,3000,ok"]);
        let found = compare(&c, &bad);
        let fields: Vec<&str> = found.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(fields, ["estimate", "ci_low"]);
        assert_eq!(found[0].row, "stype=E");
        assert!((found[0].relative_error.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(found[1].got, "NA (empty)");
        let absent = compare(
            &c,
            &tidy(&["api00,mean,api00,,stype,H,1,1,1,1,,,1,1,,1,ok"]),
        );
        assert_eq!(absent[0].field, "row");
    }

    #[test]
    fn quantiles_likelihood_and_per_group_df() {
        let q = case(
            json!({"stat": "quantile", "options": {"quantiles": [0.25, 0.5]},
                            "results": [
            {"group": null, "category": null, "quantile": 0.5, "estimate": 658, "se": 15.0,
             "ci_low": 633, "ci_high": 693, "deff": null}]}),
        );
        let run = tidy(&[
            "api00,quantile:0.25,api00,,,,544,1,1,1,199,,,200,,6194,ok",
            "api00,quantile:0.5,api00,,,,658,15,633,693,199,,,200,,6194,ok",
        ]);
        assert_eq!(compare(&q, &run), vec![]);

        let lik = case(
            json!({"ci_method": "likelihood", "df": "per_group", "options": null,
                              "results": [
            {"group": null, "category": "Yes", "estimate": 0.815, "se": 0.0275,
             "ci_low": 0.7566757, "ci_high": 0.8651315, "deff": null, "df": 199,
             "ci_low_exact": 0.756674854460772, "ci_high_exact": 0.8651299195830531}]}),
        );
        let exact = tidy(&[
            "sch.wide,proportion,sch.wide,Yes,,,0.815,0.0275,0.756674854460772,\
             0.8651299195830531,198,,,200,,6194,ok",
        ]);
        let found = compare(&lik, &exact);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].field.as_str(), found[0].got.as_str()),
            ("df", "198")
        );
    }

    #[test]
    fn multi_variable_rows_match_on_the_variable_column() {
        let c = case(
            json!({"variable": ["api00", "api99"], "options": null, "results": [
            {"group": null, "category": "api99", "estimate": 2.0, "se": 1.0, "ci_low": 0.0,
             "ci_high": 4.0, "deff": null}]}),
        );
        let run = tidy(&[
            "api00,mean,api00,,,,1,1,1,1,,,,200,,6194,ok",
            "api99,mean,api99,,,,2,1,0,4,,,,200,,6194,ok",
        ]);
        assert_eq!(compare(&c, &run), vec![]);
    }

    #[test]
    fn errors_need_exit_code_2_and_the_same_problem() {
        let lonely = case(json!({"expect_error": true, "design": {"strata": "stype"},
                                 "error_message": "Stratum (H) has only one PSU at stage 1",
                                 "results": []}));
        assert_eq!(
            error_keywords(&lonely),
            [
                vec!["lonely", "one psu", "single psu", "single-psu"],
                vec!["h"]
            ]
        );
        let refused = Run {
            code: 2,
            stdout: String::new(),
            stderr: "error: stratum `H` has only one PSU at stage 1 (--lonely-psu fail)\n".into(),
        };
        assert_eq!(check_error(&lonely, &refused), vec![]);
        let accepted = Run {
            code: 0,
            stdout: "x\n".into(),
            stderr: String::new(),
        };
        let found = check_error(&lonely, &accepted);
        assert_eq!(found.len(), 3, "{found:?}");

        let na = case(json!({"expect_error": true,
                             "error_message": "missing values in `weights'", "results": []}));
        assert_eq!(error_keywords(&na), [vec!["missing", "empty"], vec!["pw"]]);
        let said = Run {
            code: 2,
            stdout: String::new(),
            stderr: "error: data.csv, row 6, column pw: missing weight\n".into(),
        };
        assert_eq!(check_error(&na, &said), vec![]);
    }

    #[test]
    fn tidy_output_parsing() {
        let rows = parse_tidy(&tidy(&["x,mean,x,'-1,,,1,,,,,,,1,,1,ok"]).stdout).unwrap();
        assert_eq!(rows[0].category, "-1");
        assert_eq!(rows[0].numbers["se"], "");
        assert!(parse_tidy("a,b\n1,2\n")
            .unwrap_err()
            .contains("no `stat` column"));
        assert_eq!(parse_number(" 2.5 "), Ok(Some(2.5)));
        assert_eq!(parse_number(""), Ok(None));
        assert_eq!(parse_number("inf"), Ok(Some(f64::INFINITY)));
        assert!(parse_number("NA").is_err());
    }

    #[test]
    fn report_table_and_shell_line() {
        let m = Mismatch {
            case: "c".into(),
            row: "all".into(),
            field: "se".into(),
            expected: "1".into(),
            got: "1.1".into(),
            relative_error: Some(0.1),
        };
        let table = mismatch_table(&[m]);
        assert_eq!(
            table.lines().collect::<Vec<_>>(),
            [
                "case  row  field  expected  got  rel.error",
                "c     all  se     1         1.1  1.00e-1"
            ]
        );
        let line = shell_line(&["estimate".into(), "repw*".into(), "a b".into()]);
        assert_eq!(line, "tasa estimate 'repw*' 'a b'");
    }
}
