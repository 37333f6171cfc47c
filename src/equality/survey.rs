//! Gaps over a survey's dimensions: every target against the reference group of each
//! dimension (optionally inside every level of a `within` variable), the summary measures and
//! tests of the plan, and p-values adjusted across the whole table — the table of
//! `tasa gaps`.

use crate::equality::adjust::{adjust, Adjust};
use crate::equality::gaps::{self, GapRow, Plan};
use crate::estimate::survey::Survey;
use crate::weighting::standardize::MissingCells;
use crate::Result;
use rayon::prelude::*;

/// One indicator's gap rows, its warnings, and the standard population's cells it found missing.
type TargetGaps = (Vec<GapRow>, Vec<String>, MissingCells);

/// What to compute.
#[derive(Debug, Clone)]
pub struct Request {
    /// Dimensions: a variable, an instrument dimension id, or crossed variables `A*B`.
    pub by: Vec<String>,
    /// Gaps inside every level of this variable (rows `VAR*DIM`, groups `level*group`; a
    /// per-dimension measure's group is the level alone).
    pub within: Option<String>,
    /// The reference group; default the instrument's, else the first level.
    pub reference: Option<String>,
    pub plan: Plan,
    pub settings: gaps::Settings,
    pub adjust: Adjust,
    /// The targets are all of an instrument's indicators: quantiles, which have no gaps, are
    /// left out with a warning instead of failing.
    pub all_indicators: bool,
    /// Estimates made already with the same settings over the survey's rows (a run's estimate
    /// step): the flags of the groups of a dimension over the whole (sub)population come
    /// from them instead of estimating the groups again.
    pub known: Vec<crate::estimate::estimator::Estimate>,
}

/// The gap rows and the warnings (dimensions with no gaps inside a level, standardising
/// cells missing).
pub fn survey_gaps(survey: &mut Survey, request: &Request) -> Result<(Vec<GapRow>, Vec<String>)> {
    let mut out: Vec<GapRow> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    // `--indicators all` takes what gaps can compare; quantiles are left out by name.
    if request.all_indicators {
        let quantiles: Vec<String> = survey
            .targets
            .iter()
            .filter(|t| matches!(t.stat, crate::estimate::estimand::Stat::Quantile(_)))
            .map(|t| t.indicator.clone())
            .collect();
        if !quantiles.is_empty() {
            survey
                .targets
                .retain(|t| !matches!(t.stat, crate::estimate::estimand::Stat::Quantile(_)));
            warnings.push(format!(
                "quantile indicators have no gaps and were left out: {}",
                quantiles.join(", ")
            ));
        }
    }
    let instrument = survey.instrument.as_ref();
    let runs = gaps::categorical_runs(&survey.targets, &survey.rows);
    let mut missing = MissingCells::default();
    let settings = &request.settings;
    let plan = &request.plan;
    // The subpopulations gaps are computed in: the whole (sub)population, or each level of
    // --within (its label goes before the groups).
    let parts: Vec<(Option<String>, Vec<u32>)> = match &request.within {
        None => vec![(None, survey.rows.clone())],
        Some(var) => crate::estimate::domain::breakdown(
            &survey.table,
            std::slice::from_ref(var),
            &survey.rows,
        )?
        .into_iter()
        .map(|d| (Some(d.group), d.rows))
        .collect(),
    };
    // The design df of each subpopulation, the same for every target and dimension.
    let part_nu: Vec<f64> = parts
        .iter()
        .map(|(_, rows)| survey.design.degf_rows(rows))
        .collect();
    for by in &request.by {
        for ((level_label, rows), &part_nu) in parts.iter().zip(&part_nu) {
            // Inside a level of `within`, a dimension without the groups it needs is left
            // out with a warning; for the whole population it is an error.
            let mut or_skip = |e: crate::Error| match level_label {
                Some(l) => {
                    warnings.push(format!(
                        "{} {l}: no gaps for `{by}` ({e})",
                        request.within.as_deref().unwrap_or_default()
                    ));
                    Ok(())
                }
                None => Err(e),
            };
            let dim = match gaps::Dimension::resolve(&survey.table, by, instrument, rows) {
                Ok(d) => d,
                Err(e) => {
                    or_skip(e)?;
                    continue;
                }
            };
            let mut over: Vec<String> = request.within.iter().cloned().collect();
            over.extend(dim.by.split('*').map(str::to_string));
            let reference = match dim.reference(request.reference.as_deref()) {
                Ok(r) => r,
                Err(e) => {
                    or_skip(e)?;
                    continue;
                }
            };
            let first = out.len();
            // Indicators in parallel; their rows and warnings in indicator order.
            let survey = &*survey;
            let per_target: Vec<Result<TargetGaps>> = survey
                .targets
                .par_iter()
                .enumerate()
                .map(|(k, t)| {
                    let mut missing = MissingCells::default();
                    let polarity = gaps::polarity(instrument, &t.indicator);
                    // With --standardize: the groups' estimates standardised within each group.
                    let design = survey.design_for(t, &over, &mut missing)?;
                    // Every category of one variable: one r × c test after its last category.
                    let run = runs
                        .iter()
                        .find(|(start, end, _)| (*start..*end).contains(&k));
                    let per_target = match run {
                        Some(_) => Plan {
                            rao_scott_f: false,
                            rao_scott_chisq: false,
                            ..plan.clone()
                        },
                        None => plan.clone(),
                    };
                    // Known estimates are of the survey's own design over all its rows.
                    let known = match (&design, level_label) {
                        (std::borrow::Cow::Borrowed(_), None) => &request.known[..],
                        _ => &[],
                    };
                    let nu = match &design {
                        std::borrow::Cow::Borrowed(_) => part_nu,
                        std::borrow::Cow::Owned(d) => d.degf_rows(rows),
                    };
                    let result = gaps::gaps(
                        &design,
                        t,
                        &dim,
                        reference,
                        rows,
                        polarity,
                        &per_target,
                        settings,
                        known,
                        nu,
                    )?;
                    let (mut rows_out, mut warnings) = (result.rows, result.warnings);
                    if let Some((start, end, outcome)) = run.filter(|(_, end, _)| k + 1 == *end) {
                        let (r, w) = gaps::rao_scott_rows(
                            &design,
                            outcome,
                            end - start,
                            &dim,
                            rows,
                            nu,
                            None,
                            plan,
                            &t.indicator,
                        );
                        rows_out.extend(r);
                        warnings.extend(w);
                    }
                    Ok((rows_out, warnings, missing))
                })
                .collect();
            for r in per_target {
                let (r, w, m) = r?;
                out.extend(r);
                warnings.extend(w);
                missing.merge(m);
            }
            if let (Some(var), Some(l)) = (&request.within, level_label) {
                // A group's row names the level before the group (`12*2`); a per-dimension
                // measure's row, which has no group, names the level alone (`12`).
                for row in &mut out[first..] {
                    row.by = format!("{var}*{}", row.by);
                    row.group = if row.group.is_empty() {
                        l.clone()
                    } else {
                        format!("{l}*{}", row.group)
                    };
                    if !row.reference.is_empty() {
                        row.reference = format!("{l}*{}", row.reference);
                    }
                }
            }
        }
    }
    warnings.extend(missing.warning());
    let ids: Vec<String> = survey.targets.iter().map(|t| t.indicator.clone()).collect();
    let warnings = by_indicator(warnings, &ids);
    let p: Vec<f64> = out.iter().map(|r| r.p_value).collect();
    for (row, q) in out.iter_mut().zip(adjust(&p, request.adjust)) {
        row.p_adjusted = q;
    }
    Ok((out, warnings))
}

/// Warnings `ID: message` that differ only in the indicator id, merged into one
/// `ID1, ID2: message` (in the order of first appearance); others as they are.
pub fn by_indicator(warnings: Vec<String>, ids: &[String]) -> Vec<String> {
    let mut merged: Vec<(Vec<String>, String)> = Vec::new();
    for w in warnings {
        match w.split_once(": ") {
            Some((id, rest)) if ids.iter().any(|i| i == id) => {
                match merged
                    .iter_mut()
                    .find(|(ids, r)| !ids.is_empty() && r == rest)
                {
                    Some((ids, _)) => ids.push(id.to_string()),
                    None => merged.push((vec![id.to_string()], rest.to_string())),
                }
            }
            _ => merged.push((Vec::new(), w)),
        }
    }
    merged
        .into_iter()
        .map(|(ids, rest)| {
            if ids.is_empty() {
                rest
            } else {
                format!("{}: {rest}", ids.join(", "))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_that_differ_only_in_the_indicator_are_merged() {
        let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let w = vec![
            "a: group `4` of `origin_group` has no respondents".to_string(),
            "quantile indicators have no gaps: c".to_string(),
            "b: group `4` of `origin_group` has no respondents".to_string(),
            "c: the reference group `1` has no respondents".to_string(),
            "x: not an indicator".to_string(),
        ];
        assert_eq!(
            by_indicator(w, &ids),
            [
                "a, b: group `4` of `origin_group` has no respondents",
                "quantile indicators have no gaps: c",
                "c: the reference group `1` has no respondents",
                "x: not an indicator",
            ]
        );
    }
}
