//! The gaps table (design section 3, "Gaps output"): for one target and one dimension, the
//! difference and ratio of every group against the reference group, the summary measures of
//! inequality across the groups and the tests of no association, each with a design-based
//! standard error from the joint linearisation of the groups ([`super::groups`]) or from
//! replicate weights, a Wald interval and a p-value.
//!
//! - `difference` = y_g − y_ref (R: `svycontrast(svyby(...), c(g = 1, ref = -1))`), tested
//!   against 0; `ratio` = y_g / y_ref (R: `svycontrast(..., quote(g/ref))`), tested against 1.
//! - the summary measures of [`super::measures`], with intervals and no p-value;
//! - `rao_scott_f`, `rao_scott_chisq` for proportions and `wald_f` for the other statistics
//!   ([`super::association`]); asking for a Rao–Scott test of a mean gives its Wald test.
//!
//! Intervals are `estimate ± t · se` with the design df of the (sub)population (`--df`).

use super::association;
use super::groups::{Across, Gradient};
use super::measures::{evaluate, Groups, Measure, Polarity};
use crate::design::Design;
use crate::estimate::domain::{self, Domain};
use crate::estimate::estimand::{Stat, Target};
use crate::estimate::estimator::{self, DfChoice, Settings as EstSettings};
use crate::estimate::interval::{self, p_two_sided};
use crate::estimate::quantile::QRule;
use crate::estimate::reliability::{Flag, Rules};
use crate::instrument::Instrument;
use crate::output::{Cell, TidyTable};
use crate::table::{format_number, Table};
use crate::{Error, Result};

/// The column names, in order.
pub const COLUMNS: [&str; 14] = [
    "indicator",
    "by",
    "group",
    "reference",
    "measure",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df1",
    "df2",
    "p_value",
    "p_adjusted",
    "flag",
];

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// difference or ratio of one group against the reference.
    Gap,
    /// A summary measure across the groups.
    Summary,
    /// A test of no association.
    Test,
}

/// One row of the gaps table.
#[derive(Debug, Clone, PartialEq)]
pub struct GapRow {
    pub indicator: String,
    pub by: String,
    pub group: String,
    pub reference: String,
    pub measure: String,
    pub kind: RowKind,
    pub estimate: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Interval rows: the t df (None: normal); tests: the numerator df.
    pub df1: Option<f64>,
    pub df2: Option<f64>,
    pub p_value: f64,
    pub p_adjusted: f64,
    pub flag: Flag,
}

/// The measures asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub difference: bool,
    pub ratio: bool,
    pub summary: Vec<Measure>,
    pub rao_scott_f: bool,
    pub rao_scott_chisq: bool,
    pub wald_f: bool,
}

impl Plan {
    /// Parses `--measures` (comma-separated names).
    pub fn parse(list: &str) -> Result<Plan> {
        let mut plan = Plan::default();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "difference" => plan.difference = true,
                "ratio" => plan.ratio = true,
                "rao_scott_f" => plan.rao_scott_f = true,
                "rao_scott_chisq" => plan.rao_scott_chisq = true,
                "wald_f" => plan.wald_f = true,
                other => match Measure::from_name(other) {
                    Some(m) if !plan.summary.contains(&m) => plan.summary.push(m),
                    Some(_) => {}
                    None => {
                        let all: Vec<&str> = ["difference", "ratio"]
                            .into_iter()
                            .chain(Measure::ALL.iter().map(|m| m.name()))
                            .chain(["rao_scott_f", "rao_scott_chisq", "wald_f"])
                            .collect();
                        return Err(Error::Usage(format!(
                            "--measures: unknown measure `{other}`; choose from {}",
                            all.join(", ")
                        )));
                    }
                },
            }
        }
        if plan == Plan::default() {
            return Err(Error::Usage("--measures names no measure".into()));
        }
        Ok(plan)
    }
}

/// Interval and reliability settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub level: f64,
    pub df: DfChoice,
    pub rules: Rules,
}

/// A dimension's groups over the (sub)population.
#[derive(Debug, Clone)]
pub struct Dimension {
    /// `*`-joined variables.
    pub by: String,
    pub groups: Vec<Domain>,
    /// Each row's group (`u32::MAX`: none).
    pub group_of: Vec<u32>,
    /// Ordered levels (an instrument dimension marked `ordered`).
    pub ordered: bool,
    /// The instrument's reference group label.
    pub default_reference: Option<String>,
}

impl Dimension {
    /// `by`: a variable, an instrument dimension id, or `A*B`.
    pub fn resolve(
        table: &Table,
        by: &str,
        instrument: Option<&Instrument>,
        rows: &[u32],
    ) -> Result<Dimension> {
        let dim = instrument.and_then(|i| {
            i.dimensions
                .get(by)
                .or_else(|| i.dimensions.values().find(|d| d.variable == by))
        });
        let vars: Vec<String> = match dim {
            Some(d) => vec![d.variable.clone()],
            None => by.split('*').map(|s| s.trim().to_string()).collect(),
        };
        if vars.iter().any(String::is_empty) {
            return Err(Error::Usage(format!("--by `{by}`: write VAR or VAR1*VAR2")));
        }
        let groups = domain::breakdown(table, &vars, rows)?;
        if groups.len() < 2 {
            return Err(Error::Usage(format!(
                "--by `{by}`: the dimension has {} group{} with respondents; gaps need at least two",
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            )));
        }
        let mut group_of = vec![u32::MAX; table.nrows()];
        for (g, d) in groups.iter().enumerate() {
            for &i in &d.rows {
                group_of[i as usize] = g as u32;
            }
        }
        Ok(Dimension {
            by: vars.join("*"),
            groups,
            group_of,
            ordered: dim.is_some_and(|d| d.ordered),
            default_reference: dim.and_then(|d| d.reference).map(format_number),
        })
    }

    /// The reference group's index: `--reference`, else the instrument's, else the first.
    pub fn reference(&self, given: Option<&str>) -> Result<usize> {
        let labels: Vec<&str> = self.groups.iter().map(|g| g.group.as_str()).collect();
        match given.map(str::to_string).or(self.default_reference.clone()) {
            None => Ok(0),
            Some(r) => labels.iter().position(|&l| l == r).ok_or_else(|| {
                Error::Usage(format!(
                    "--reference `{r}`: no such group of `{}`; the groups are {}",
                    self.by,
                    labels.join(", ")
                ))
            }),
        }
    }
}

/// The polarity of an indicator (neutral for ad-hoc estimands).
pub fn polarity(instrument: Option<&Instrument>, indicator: &str) -> Polarity {
    instrument
        .and_then(|i| i.indicators.get(indicator))
        .map_or(Polarity::Neutral, |i| i.polarity)
}

/// The rows for one target and dimension, and warnings for measures left out.
#[derive(Debug, Clone, Default)]
pub struct Gaps {
    pub rows: Vec<GapRow>,
    pub warnings: Vec<String>,
}

/// Every asked-for row for target `t` across `dim`. `known`: estimates made already on this
/// design with the same settings (a run's estimate step), whose groups' flags are taken
/// instead of estimating the groups again. `nu`: the design df of `rows`
/// ([`Design::degf_rows`]), the same for every target of a subpopulation.
#[allow(clippy::too_many_arguments)]
pub fn gaps(
    design: &Design,
    t: &Target,
    dim: &Dimension,
    reference: usize,
    rows: &[u32],
    polarity: Polarity,
    plan: &Plan,
    s: &Settings,
    known: &[estimator::Estimate],
    nu: f64,
) -> Result<Gaps> {
    let indicator = if t.category.is_empty() {
        t.indicator.clone()
    } else {
        format!("{}={}", t.indicator, t.category)
    };
    let mut out = Gaps::default();
    let df = match s.df {
        DfChoice::Design => Some(nu),
        DfChoice::Infinite => None,
        DfChoice::Fixed(x) => Some(x),
    };
    // Each group's own estimate, for its reliability flag.
    let est_settings = EstSettings {
        ci: None,
        level: s.level,
        df: s.df,
        // Gaps take no quantiles; the rule is never used.
        qrule: QRule::Math,
        rules: s.rules.clone(),
    };
    let flags: Vec<Flag> = dim
        .groups
        .iter()
        .map(|g| {
            let made = known.iter().find(|e| {
                e.by == g.by
                    && e.group == g.group
                    && e.indicator == t.indicator
                    && e.category == t.category
                    && e.stat == t.stat
                    && e.variable == t.variable
            });
            if let Some(e) = made {
                return Ok(e.flag);
            }
            let gdf = design.degf_rows(&g.rows);
            estimator::estimate(design, t, &g.by, &g.group, &g.rows, gdf, &est_settings)
                .map(|e| e.flag)
        })
        .collect::<Result<_>>()?;
    let across = Across::new(design, t, rows, &dim.group_of, dim.groups.len())?;
    let ref_label = dim.groups[reference].group.clone();
    // An indicator whose universe leaves out the reference group (e.g. interpreting, asked
    // of those with another mother tongue) has no gaps by that dimension; the other
    // indicators still do.
    if !across.y[reference].is_finite() {
        out.warnings.push(format!(
            "{indicator}: the reference group `{ref_label}` of `{}` has no respondents with a value; no gaps by `{}` for it",
            dim.by, dim.by
        ));
        return Ok(out);
    }
    let row = |group: &str, reference: &str, measure: &str, kind: RowKind| GapRow {
        indicator: indicator.clone(),
        by: dim.by.clone(),
        group: group.to_string(),
        reference: reference.to_string(),
        measure: measure.to_string(),
        kind,
        estimate: f64::NAN,
        se: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        df1: None,
        df2: None,
        p_value: f64::NAN,
        p_adjusted: f64::NAN,
        flag: Flag::Ok,
    };
    let with_interval = |mut r: GapRow, value: f64, var: f64, null: Option<f64>| {
        r.estimate = value;
        r.se = var.sqrt();
        let (lo, hi) = interval::wald(value, r.se, df, s.level);
        r.ci_low = lo;
        r.ci_high = hi;
        r.df1 = df;
        if let Some(h0) = null {
            r.p_value = p_two_sided((value - h0) / r.se, df);
        }
        r
    };
    let k = dim.groups.len();
    let unit = |j: usize| -> Vec<f64> { (0..k).map(|i| f64::from(i == j)).collect() };

    // Per group: difference and ratio.
    for (g, group) in dim.groups.iter().enumerate() {
        if g == reference || !(plan.difference || plan.ratio) {
            continue;
        }
        let flag = Flag::worst([flags[g], flags[reference]].into_iter());
        if !across.y[g].is_finite() {
            out.warnings.push(format!(
                "{indicator}: group `{}` of `{}` has no respondents with a value; no gap for it",
                group.group, dim.by
            ));
            continue;
        }
        let (yg, yr) = (across.y[g], across.y[reference]);
        if plan.difference {
            let d = Gradient {
                d_y: unit(g)
                    .iter()
                    .zip(unit(reference))
                    .map(|(a, b)| a - b)
                    .collect(),
                d_p: vec![0.0; k],
                d_mu: 0.0,
            };
            let var = across.variance(design, yg - yr, &d, |y, _, _| Some(y[g] - y[reference]))?;
            let mut r = with_interval(
                row(&group.group, &ref_label, "difference", RowKind::Gap),
                yg - yr,
                var,
                Some(0.0),
            );
            r.flag = flag;
            out.rows.push(r);
        }
        if plan.ratio {
            if yr == 0.0 {
                out.warnings.push(format!(
                    "{indicator}: the reference group `{ref_label}` estimate is 0; no ratio"
                ));
            } else {
                let d = Gradient {
                    d_y: (0..k)
                        .map(|j| {
                            if j == g {
                                1.0 / yr
                            } else if j == reference {
                                -yg / (yr * yr)
                            } else {
                                0.0
                            }
                        })
                        .collect(),
                    d_p: vec![0.0; k],
                    d_mu: 0.0,
                };
                let var =
                    across.variance(design, yg / yr, &d, |y, _, _| Some(y[g] / y[reference]))?;
                let mut r = with_interval(
                    row(&group.group, &ref_label, "ratio", RowKind::Gap),
                    yg / yr,
                    var,
                    Some(1.0),
                );
                r.flag = flag;
                out.rows.push(r);
            }
        }
    }

    // Summary measures over the groups with an estimate.
    let all_flag = Flag::worst(flags.iter().copied());
    for &m in &plan.summary {
        if m.needs_order() && !dim.ordered {
            out.warnings.push(format!(
                "{indicator}: {} needs an ordered dimension; `{}` is not marked ordered in the instrument",
                m.name(),
                dim.by
            ));
            continue;
        }
        if across.y.iter().any(|y| !y.is_finite()) {
            out.warnings.push(format!(
                "{indicator}: {} needs an estimate in every group of `{}`",
                m.name(),
                dim.by
            ));
            continue;
        }
        let groups = Groups {
            y: &across.y,
            p: &across.p,
            mu: across.mu,
            polarity,
        };
        let lin = match evaluate(m, &groups) {
            Ok(l) => l,
            Err(e) => {
                out.warnings.push(format!(
                    "{indicator}: {} across `{}`: {}",
                    m.name(),
                    dim.by,
                    e.0
                ));
                continue;
            }
        };
        let d = Gradient {
            d_y: lin.d_y.clone(),
            d_p: lin.d_p.clone(),
            d_mu: lin.d_mu,
        };
        let var = across.variance(design, lin.value, &d, |y, p, mu| {
            evaluate(m, &Groups { y, p, mu, polarity })
                .ok()
                .map(|l| l.value)
        })?;
        let mut r = with_interval(
            row("", "", m.name(), RowKind::Summary),
            lin.value,
            var,
            None,
        );
        r.flag = all_flag;
        out.rows.push(r);
    }

    // Tests of no association.
    let test_row = |name: &str, reference: &str, test: association::Test| {
        test_gap_row(&indicator, &dim.by, reference, name, test, nu)
    };
    let binary = t.stat == Stat::Proportion
        && rows
            .iter()
            .all(|&i| matches!(t.y[i as usize], v if v.is_nan() || v == 0.0 || v == 1.0));
    let wants_rao_scott = plan.rao_scott_f || plan.rao_scott_chisq;
    if wants_rao_scott && binary {
        let outcome: Vec<u32> =
            t.y.iter()
                .map(|&v| if v.is_nan() { u32::MAX } else { v as u32 })
                .collect();
        let (rows, warnings) = rao_scott_rows(
            design,
            &outcome,
            2,
            dim,
            rows,
            nu,
            Some(&across),
            plan,
            &indicator,
        );
        out.rows.extend(rows);
        out.warnings.extend(warnings);
    }
    if plan.wald_f || (wants_rao_scott && !binary) {
        match association::wald_f(design, &across, reference, nu) {
            Ok(test) => out.rows.push(test_row("wald_f", &ref_label, test)),
            Err(e) => out
                .warnings
                .push(format!("{indicator} across `{}`: {e}", dim.by)),
        }
    }
    Ok(out)
}

/// A test row: the statistic in `estimate`, its df in `df1`, `df2`; `low_precision` below 8
/// design df.
fn test_gap_row(
    indicator: &str,
    by: &str,
    reference: &str,
    measure: &str,
    test: association::Test,
    nu: f64,
) -> GapRow {
    GapRow {
        indicator: indicator.to_string(),
        by: by.to_string(),
        group: String::new(),
        reference: reference.to_string(),
        measure: measure.to_string(),
        kind: RowKind::Test,
        estimate: test.statistic,
        se: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        df1: Some(test.df1),
        df2: test.df2,
        p_value: test.p_value,
        p_adjusted: f64::NAN,
        flag: if nu < 8.0 {
            Flag::LowPrecision
        } else {
            Flag::Ok
        },
    }
}

/// The Rao–Scott rows the plan asks for, of the r × c table of `outcome` (per row a category
/// in `0..r`, `u32::MAX` missing) by the dimension's groups over `rows`, named `indicator`;
/// a table that cannot be tested gives a warning instead. `across`: a binary outcome's
/// estimates in the groups ([`association::rao_scott`]).
#[allow(clippy::too_many_arguments)]
pub fn rao_scott_rows(
    design: &Design,
    outcome: &[u32],
    r: usize,
    dim: &Dimension,
    rows: &[u32],
    nu: f64,
    across: Option<&Across>,
    plan: &Plan,
    indicator: &str,
) -> (Vec<GapRow>, Vec<String>) {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    match association::rao_scott(
        design,
        outcome,
        r,
        &dim.group_of,
        dim.groups.len(),
        rows,
        nu,
        across,
    ) {
        Ok(rs) => {
            if plan.rao_scott_f {
                out.push(test_gap_row(
                    indicator,
                    &dim.by,
                    "",
                    "rao_scott_f",
                    rs.f,
                    nu,
                ));
            }
            if plan.rao_scott_chisq {
                out.push(test_gap_row(
                    indicator,
                    &dim.by,
                    "",
                    "rao_scott_chisq",
                    rs.chisq,
                    nu,
                ));
            }
        }
        Err(e) => warnings.push(format!("{indicator} across `{}`: {e}", dim.by)),
    }
    (out, warnings)
}

/// Runs of targets that are every category of one categorical variable (`--prop VAR`): each
/// valid row is in exactly one of them. Their association with a dimension is one r × c
/// Rao–Scott test of the variable (R's `svychisq(~VAR + group)`), not one test per category.
/// Returns (first target, last target + 1, each row's category index or `u32::MAX`).
pub fn categorical_runs(targets: &[Target], rows: &[u32]) -> Vec<(usize, usize, Vec<u32>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < targets.len() {
        let t0 = &targets[start];
        let mut end = start + 1;
        while end < targets.len()
            && targets[end].stat == Stat::Proportion
            && targets[end].indicator == t0.indicator
            && targets[end].variable == t0.variable
            && !targets[end].category.is_empty()
        {
            end += 1;
        }
        let r = end - start;
        if t0.stat == Stat::Proportion && !t0.category.is_empty() && r >= 2 {
            let n = t0.y.len();
            let mut outcome = vec![u32::MAX; n];
            let mut partition = true;
            for &i in rows {
                let i = i as usize;
                let mut hit = None;
                for (k, t) in targets[start..end].iter().enumerate() {
                    let v = t.y[i];
                    if v == 1.0 {
                        partition &= hit.is_none();
                        hit = Some(k as u32);
                    } else if !(v.is_nan() || v == 0.0) {
                        partition = false;
                    }
                }
                let valid = targets[start..end].iter().any(|t| !t.y[i].is_nan());
                match hit {
                    Some(k) => outcome[i] = k,
                    None if valid => partition = false,
                    None => {}
                }
                if !partition {
                    break;
                }
            }
            if partition {
                out.push((start, end, outcome));
            }
        }
        start = end;
    }
    out
}

/// The rows as a tidy table; suppressed rows keep `flag` and leave the numbers empty unless
/// `keep_suppressed`.
pub fn table(rows: &[GapRow], keep_suppressed: bool) -> TidyTable {
    let mut t = TidyTable::new(COLUMNS);
    for r in rows {
        let hide = r.flag == Flag::Suppressed && !keep_suppressed;
        let num = |x: f64| {
            if hide || !x.is_finite() {
                Cell::Empty
            } else {
                Cell::from(x)
            }
        };
        t.push(vec![
            r.indicator.clone().into(),
            r.by.clone().into(),
            r.group.clone().into(),
            r.reference.clone().into(),
            r.measure.clone().into(),
            num(r.estimate),
            num(r.se),
            num(r.ci_low),
            num(r.ci_high),
            r.df1.map_or(Cell::Empty, Cell::from),
            r.df2.map_or(Cell::Empty, Cell::from),
            num(r.p_value),
            num(r.p_adjusted),
            r.flag.as_str().into(),
        ]);
    }
    t
}
