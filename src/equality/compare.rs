//! Comparing two independent surveys (a survey of people of foreign origin against a
//! general-population survey) or two waves of one survey (`tasa compare A B`): the
//! difference `A − B` of matched estimates, with `SE = sqrt(se_A² + se_B²)` (independent
//! samples, so no covariance), a Wald interval and a p-value.
//!
//! Degrees of freedom: with `--df design`, Welch–Satterthwaite from the two estimates'
//! design df, `(v_A + v_B)² / (v_A²/df_A + v_B²/df_B)`; `--df inf` gives normal intervals and
//! `--df N` a fixed df. The flag is the worse of the two estimates' flags.

use crate::design::Design;
use crate::estimate::breakdown::{self, Plan};
use crate::estimate::domain;
use crate::estimate::estimand::Target;
use crate::estimate::estimator::{self, DfChoice, Estimate, Settings};
use crate::estimate::interval::{p_two_sided, wald};
use crate::estimate::reliability::Flag;
use crate::estimate::survey::Survey;
use crate::output::{Cell, TidyTable};
use crate::progress::Printer;
use crate::weighting::standardize;
use crate::{Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// The column names of the comparisons table, in order.
pub const COLUMNS: [&str; 19] = [
    "indicator",
    "stat",
    "variable",
    "category",
    "by",
    "group",
    "estimate_a",
    "se_a",
    "n_a",
    "estimate_b",
    "se_b",
    "n_b",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "p_value",
    "flag",
];

/// One comparison: the estimates of A and B and their difference.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub a: Estimate,
    pub b: Estimate,
    pub difference: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub df: Option<f64>,
    pub p_value: f64,
    pub flag: Flag,
}

/// Welch–Satterthwaite degrees of freedom of the sum of two independent variances.
pub fn satterthwaite(v_a: f64, df_a: f64, v_b: f64, df_b: f64) -> f64 {
    let num = (v_a + v_b) * (v_a + v_b);
    let den = v_a * v_a / df_a + v_b * v_b / df_b;
    if den > 0.0 && num.is_finite() {
        num / den
    } else {
        df_a.min(df_b)
    }
}

/// Compares the matched estimates `a` and `b` (same indicator, statistic, category and
/// domain) of two independent samples.
pub fn compare(a: Estimate, b: Estimate, df: DfChoice, level: f64) -> Comparison {
    let difference = a.estimate - b.estimate;
    let (v_a, v_b) = (a.se * a.se, b.se * b.se);
    let se = (v_a + v_b).sqrt();
    let df = match df {
        DfChoice::Infinite => None,
        DfChoice::Fixed(x) => Some(x),
        DfChoice::Design => match (a.df, b.df) {
            (Some(da), Some(db)) => Some(satterthwaite(v_a, da, v_b, db)),
            _ => None,
        },
    };
    let (ci_low, ci_high) = wald(difference, se, df, level);
    let p_value = if se > 0.0 {
        p_two_sided(difference / se, df)
    } else {
        f64::NAN
    };
    let flag = Flag::worst([a.flag, b.flag].into_iter());
    Comparison {
        a,
        b,
        difference,
        se,
        ci_low,
        ci_high,
        df,
        p_value,
        flag,
    }
}

/// The comparisons of two prepared surveys: their targets matched by (indicator, statistic,
/// category) — an indicator must be the same statistic on both sides — and their domains of
/// every breakdown of `by` matched by group label; each pair estimated on its own survey and
/// compared (A's from `known_a` where it has them). B's targets carry A's indicator ids.
/// Returns the rows and the warnings (estimates or groups in one survey only, standardising
/// cells missing).
pub fn surveys(
    a: &Survey,
    b: &Survey,
    by: &[String],
    settings: &Settings,
    printer: &Printer,
    known_a: &[Estimate],
) -> Result<(Vec<Comparison>, Vec<String>)> {
    // Match the targets; an indicator must be the same statistic on both sides.
    let mut stats_b: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for t in &b.targets {
        stats_b
            .entry(t.indicator.as_str())
            .or_default()
            .insert(t.stat.name());
    }
    for t in &a.targets {
        if let Some(sb) = stats_b.get(t.indicator.as_str()) {
            if !sb.contains(&t.stat.name()) {
                return Err(Error::Usage(format!(
                    "`{}` is a {} in survey A but a {} in survey B; compare like with like (check the indicator definitions in both instruments)",
                    t.indicator,
                    t.stat.name(),
                    sb.iter().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
    }
    let index_b: HashMap<(String, String, String), usize> = b
        .targets
        .iter()
        .enumerate()
        .map(|(k, t)| (key(t), k))
        .collect();
    let mut matched: Vec<(usize, usize)> = Vec::new();
    let mut unmatched: Vec<String> = Vec::new();
    let mut used_b = vec![false; b.targets.len()];
    for (k, t) in a.targets.iter().enumerate() {
        match index_b.get(&key(t)) {
            Some(&j) => {
                matched.push((k, j));
                used_b[j] = true;
            }
            None => unmatched.push(format!("{} in A only", label(t))),
        }
    }
    for (j, t) in b.targets.iter().enumerate() {
        if !used_b[j] {
            unmatched.push(format!("{} in B only", label(t)));
        }
    }
    if matched.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to compare: no estimate is in both surveys ({})",
            unmatched.join("; ")
        )));
    }
    let mut warnings: Vec<String> = Vec::new();
    if !unmatched.is_empty() {
        warnings.push(format!(
            "left out, found in one survey only: {}",
            unmatched.join("; ")
        ));
    }

    let side_breakdowns = |side: &Survey, name: &str| {
        domain::breakdowns(&side.table, by, &side.rows).map_err(|e| match e {
            Error::Usage(m) => Error::Usage(format!("survey {name}: {m}")),
            other => other,
        })
    };
    let breakdowns_a = side_breakdowns(a, "A")?;
    let breakdowns_b = side_breakdowns(b, "B")?;
    // Domains matched by their group label.
    let mut domain_pairs: Vec<Vec<(usize, usize)>> = Vec::new();
    for (k, ((_, da), (_, db))) in breakdowns_a.iter().zip(&breakdowns_b).enumerate() {
        let in_b: HashMap<&str, usize> = db
            .iter()
            .enumerate()
            .map(|(j, d)| (d.group.as_str(), j))
            .collect();
        let pairs: Vec<(usize, usize)> = da
            .iter()
            .enumerate()
            .filter_map(|(i, d)| in_b.get(d.group.as_str()).map(|&j| (i, j)))
            .collect();
        let only_a: Vec<&str> = da
            .iter()
            .filter(|d| !in_b.contains_key(d.group.as_str()))
            .map(|d| d.group.as_str())
            .collect();
        let in_a: BTreeSet<&str> = da.iter().map(|d| d.group.as_str()).collect();
        let only_b: Vec<&str> = db
            .iter()
            .filter(|d| !in_a.contains(d.group.as_str()))
            .map(|d| d.group.as_str())
            .collect();
        if !only_a.is_empty() || !only_b.is_empty() {
            warnings.push(format!(
                "--by {}: groups in one survey only are left out (A only: {}; B only: {})",
                by[k - 1],
                if only_a.is_empty() {
                    "none".to_string()
                } else {
                    only_a.join(", ")
                },
                if only_b.is_empty() {
                    "none".to_string()
                } else {
                    only_b.join(", ")
                },
            ));
        }
        if pairs.is_empty() && k > 0 {
            return Err(Error::Usage(format!(
                "--by {}: the surveys have no group in common",
                by[k - 1]
            )));
        }
        domain_pairs.push(pairs);
    }

    let total: usize = domain_pairs.iter().map(Vec::len).sum::<usize>() * matched.len();
    let bar = printer.bar(total as u64, "comparing");
    // Each domain's design df, the same for every target (unless standardised).
    let dfs = |side: &Survey, breakdowns: &[domain::Breakdown]| -> Vec<Vec<f64>> {
        breakdowns
            .iter()
            .map(|(_, ds)| ds.iter().map(|d| side.design.degf_rows(&d.rows)).collect())
            .collect()
    };
    let (dfs_a, dfs_b) = (dfs(a, &breakdowns_a), dfs(b, &breakdowns_b));
    let df_of =
        |design: &Cow<'_, Design>, dfs: &[Vec<f64>], k: usize, i: usize, rows: &[u32]| match design
        {
            Cow::Borrowed(_) => dfs[k][i],
            Cow::Owned(std) => std.degf_rows(rows),
        };
    // A's estimates made already (by `tasa run`'s estimate step, with the same settings), by
    // indicator, category, breakdown and group: taken as they are where A's design is not
    // standardised for the comparison.
    let mut known: HashMap<(&str, &str, &str, &str), Vec<&Estimate>> = HashMap::new();
    for e in known_a {
        known
            .entry((&e.indicator, &e.category, &e.by, &e.group))
            .or_default()
            .push(e);
    }
    let known_for = |t: &Target, by: &str, group: &str| -> Option<Estimate> {
        known
            .get(&(t.indicator.as_str(), t.category.as_str(), by, group))?
            .iter()
            .find(|e| e.stat == t.stat && e.variable == t.variable)
            .map(|e| (*e).clone())
    };
    // Group codes per breakdown and side ([`Survey::plans`]); A's only when its estimates
    // were not made already.
    let plans_a = match known.is_empty() {
        true => a.plans(&breakdowns_a),
        false => breakdowns_a.iter().map(|_| None).collect(),
    };
    let plans_b = b.plans(&breakdowns_b);
    // Every domain's estimates of a breakdown from its plan, or `None` for the domain path.
    let by_plan = |side: &Survey,
                   plan: &Option<Plan>,
                   design: &Cow<'_, Design>,
                   t: &Target,
                   domains: &[domain::Domain],
                   dfs: &[f64]|
     -> Option<Result<Vec<Estimate>>> {
        match design {
            Cow::Borrowed(_) => {
                plan.as_ref()?
                    .estimates(&side.design, t, domains, dfs, settings, None, None)
            }
            Cow::Owned(_) => None,
        }
    };
    // On a calibrated design, every breakdown's estimates of a target with one variance
    // pass ([`breakdown::estimates_together`]), by breakdown; empty when not.
    let together = |side: &Survey,
                    plans: &[Option<Plan>],
                    breakdowns: &[domain::Breakdown],
                    dfs: &[Vec<f64>],
                    t: &Target|
     -> Result<Vec<Option<Vec<Estimate>>>> {
        if side.standard.is_some() {
            return Ok(Vec::new());
        }
        let parts = breakdown::parts(plans, breakdowns, dfs);
        Ok(
            match parts
                .and_then(|parts| breakdown::estimates_together(&side.design, t, &parts, settings))
            {
                Some(all) => all?.into_iter().map(Some).collect(),
                None => Vec::new(),
            },
        )
    };
    // Targets in parallel; comparisons in target order.
    type Part = (Vec<Comparison>, [standardize::MissingCells; 2]);
    let per_target: Vec<Result<Part>> = matched
        .par_iter()
        .map(|&(ka, kb)| {
            // A deferred indicator's values live while it is compared.
            let made_a = a.targets[ka].made(a.instrument.as_ref(), &a.table)?;
            let made_b = b.targets[kb].made(b.instrument.as_ref(), &b.table)?;
            let (ta, tb) = (made_a.as_ref(), made_b.as_ref());
            let mut missing: [standardize::MissingCells; 2] = Default::default();
            let mut out = Vec::new();
            let mut together_a = together(a, &plans_a, &breakdowns_a, &dfs_a, ta)?;
            let mut together_b = together(b, &plans_b, &breakdowns_b, &dfs_b, tb)?;
            for (k, (over, _)) in breakdowns_a.iter().enumerate() {
                let design_a = a.design_for(ta, over, &mut missing[0])?;
                let design_b = b.design_for(tb, over, &mut missing[1])?;
                let (domains_a, domains_b) = (&breakdowns_a[k].1, &breakdowns_b[k].1);
                // Each side's breakdown from its one pass where it can be (A's only when the
                // estimate step did not make them; then they are taken as made).
                let side_all = |side: &Survey,
                                together: &mut Vec<Option<Vec<Estimate>>>,
                                plan: &Option<Plan>,
                                design: &Cow<'_, Design>,
                                t: &Target,
                                domains: &[domain::Domain],
                                dfs: &[f64]|
                 -> Result<Option<Vec<Estimate>>> {
                    match together.get_mut(k).and_then(Option::take) {
                        Some(all) => Ok(Some(all)),
                        None => by_plan(side, plan, design, t, domains, dfs).transpose(),
                    }
                };
                let all_a = side_all(
                    a,
                    &mut together_a,
                    &plans_a[k],
                    &design_a,
                    ta,
                    domains_a,
                    &dfs_a[k],
                )?;
                let all_b = side_all(
                    b,
                    &mut together_b,
                    &plans_b[k],
                    &design_b,
                    tb,
                    domains_b,
                    &dfs_b[k],
                )?;
                for &(i, j) in &domain_pairs[k] {
                    let (da, db) = (&domains_a[i], &domains_b[j]);
                    let made = match &design_a {
                        Cow::Borrowed(_) => known_for(ta, &da.by, &da.group),
                        Cow::Owned(_) => None,
                    }
                    .or_else(|| all_a.as_ref().map(|all| all[i].clone()));
                    let ea = match made {
                        Some(e) => e,
                        None => estimator::estimate(
                            &design_a,
                            ta,
                            &da.by,
                            &da.group,
                            &da.rows,
                            df_of(&design_a, &dfs_a, k, i, &da.rows),
                            settings,
                        )?,
                    };
                    let eb = match &all_b {
                        Some(all) => all[j].clone(),
                        None => estimator::estimate(
                            &design_b,
                            tb,
                            &db.by,
                            &db.group,
                            &db.rows,
                            df_of(&design_b, &dfs_b, k, j, &db.rows),
                            settings,
                        )?,
                    };
                    out.push(compare(ea, eb, settings.df, settings.level));
                    bar.inc(1);
                }
            }
            Ok((out, missing))
        })
        .collect();
    let mut out: Vec<Comparison> = Vec::with_capacity(total);
    let mut side_missing: [standardize::MissingCells; 2] = Default::default();
    for r in per_target {
        let (o, [ma, mb]) = r?;
        out.extend(o);
        side_missing[0].merge(ma);
        side_missing[1].merge(mb);
    }
    bar.finish_and_clear();
    for (name, missing) in ["A", "B"].iter().zip(&side_missing) {
        warnings.extend(missing.warning().map(|w| format!("survey {name}: {w}")));
    }
    Ok((out, warnings))
}

/// What a target is matched on: the indicator (A's id), statistic and category.
fn key(t: &Target) -> (String, String, String) {
    (t.indicator.clone(), t.stat.name(), t.category.clone())
}

/// A target in messages: `indicator` or `indicator=category`.
fn label(t: &Target) -> String {
    if t.category.is_empty() {
        t.indicator.clone()
    } else {
        format!("{}={}", t.indicator, t.category)
    }
}

/// The comparisons as a tidy table; a suppressed row (either estimate suppressed) keeps the
/// labels, `n_a`, `n_b` and `flag` and leaves the numbers empty unless `keep_suppressed`.
pub fn table(rows: &[Comparison], keep_suppressed: bool) -> TidyTable {
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
        let a = &r.a;
        t.push(vec![
            a.indicator.clone().into(),
            a.stat.name().into(),
            a.variable.clone().into(),
            a.category.clone().into(),
            a.by.clone().into(),
            a.group.clone().into(),
            num(a.estimate),
            num(a.se),
            Cell::Int(a.n as i64),
            num(r.b.estimate),
            num(r.b.se),
            Cell::Int(r.b.n as i64),
            num(r.difference),
            num(r.se),
            num(r.ci_low),
            num(r.ci_high),
            r.df.map_or(Cell::Empty, Cell::from),
            num(r.p_value),
            r.flag.as_str().into(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::estimand::Stat;

    fn est(estimate: f64, se: f64, df: f64, flag: Flag) -> Estimate {
        Estimate {
            indicator: "x".into(),
            stat: Stat::Mean,
            variable: "x".into(),
            category: String::new(),
            by: String::new(),
            group: String::new(),
            estimate,
            se,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            df: Some(df),
            cv: f64::NAN,
            deff: f64::NAN,
            n: 100,
            n_eff: f64::NAN,
            pop_size: 1.0,
            flag,
        }
    }

    #[test]
    fn difference_se_and_welch_df_by_hand() {
        let c = compare(
            est(0.6, 0.03, 20.0, Flag::Ok),
            est(0.5, 0.04, 40.0, Flag::LowPrecision),
            DfChoice::Design,
            0.95,
        );
        assert!((c.difference - 0.1).abs() < 1e-15);
        assert!((c.se - 0.05).abs() < 1e-15);
        // (0.0009 + 0.0016)^2 / (0.0009^2/20 + 0.0016^2/40) = 6.25e-6 / 1.045e-7
        let df = c.df.unwrap();
        assert!((df - 6.25e-6 / 1.045e-7).abs() < 1e-9, "{df}");
        // R: qt(0.975, 59.808612440191389) = 2.0004294845004056.
        assert!((c.ci_low - (0.1 - 0.05 * 2.0004294845004056)).abs() < 1e-12);
        // R: 2 * pt(-2, 59.808612440191389) = 0.050047649683727276.
        assert!(
            (c.p_value - 0.050047649683727276).abs() < 1e-9,
            "{}",
            c.p_value
        );
        assert_eq!(c.flag, Flag::LowPrecision);

        let c = compare(
            est(0.6, 0.03, 20.0, Flag::Ok),
            est(0.5, 0.04, 40.0, Flag::Suppressed),
            DfChoice::Infinite,
            0.95,
        );
        assert_eq!(c.df, None);
        assert!((c.ci_high - (0.1 + 0.05 * 1.959963984540054)).abs() < 1e-12);
        assert_eq!(c.flag, Flag::Suppressed);
        let t = table(&[c], false);
        assert_eq!(t.columns.len(), COLUMNS.len());
    }

    #[test]
    fn zero_variances_take_the_smaller_df() {
        assert_eq!(satterthwaite(0.0, 10.0, 0.0, 30.0), 10.0);
        assert!((satterthwaite(1.0, 10.0, 1.0, 10.0) - 20.0).abs() < 1e-12);
    }
}
