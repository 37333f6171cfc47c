//! A survey ready for estimation — prepared data, instrument, targets, (calibrated) design and
//! the rows of the (sub)population — and the estimates of every target over every breakdown
//! (R survey's `svyby` over several `by=` formulas, one table).

use crate::design::{Design, DesignOptions, StandardSource};
use crate::estimate::breakdown::{self, Plan};
use crate::estimate::domain;
use crate::estimate::estimand::Target;
use crate::estimate::estimator::{self, Estimate, Settings};
use crate::instrument::Instrument;
use crate::progress::Printer;
use crate::table::Table;
use crate::weighting::margins::MarginFile;
use crate::weighting::standardize::{self, MissingCells};
use crate::{Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;

/// The most targets a calibrated design estimates in one pass
/// ([`breakdown::estimates_of_many`]).
const TOGETHER: usize = 8;

/// What every estimating step starts from.
pub struct Survey {
    pub table: Table,
    pub instrument: Option<Instrument>,
    /// The targets; a deferred indicator (the `estimate` command's) has its values made by
    /// [`Target::made`] when it is estimated.
    pub targets: Vec<Target>,
    pub design: Design,
    pub rows: Vec<u32>,
    /// With `--standardize`: the standard population (its variables are the standardising
    /// variables).
    pub standard: Option<MarginFile>,
}

impl Survey {
    /// Builds the design (calibrating in process when the options ask for it), selects the
    /// `subset` rows and reads a standard population file.
    pub fn new(
        table: Table,
        instrument: Option<Instrument>,
        targets: Vec<Target>,
        options: &DesignOptions,
        subset: Option<&str>,
        printer: &Printer,
    ) -> Result<Survey> {
        let (design, calibration) = Design::build_calibrated(&table, options)?;
        for note in design.replicates.iter().flat_map(|r| &r.notes) {
            printer.warn(note);
        }
        if let Some(c) = &calibration {
            printer.note(c.summary());
        }
        let rows = domain::subset_rows(&table, subset)?;
        let standard = match &options.standardize {
            None => None,
            Some(s) => Some(match &s.standard {
                StandardSource::File(path) => standardize::read_checked(path, &s.variables)?,
                StandardSource::Survey(c) => {
                    return Err(Error::Usage(format!(
                        "--standard {c}: a survey's own structure is a standard only in tasa compare; give a file with the standardising variables and a `population` column"
                    )))
                }
            }),
        };
        Ok(Survey {
            table,
            instrument,
            targets,
            design,
            rows,
            standard,
        })
    }

    /// The design for estimating `target` over the domains of the variables `over` (empty:
    /// the whole population): the survey's design, or with a standard population that design
    /// standardised within those domains over the rows analysed for `target`. Domains that
    /// lack a standardising cell are gathered in `missing`.
    pub fn design_for(
        &self,
        target: &Target,
        over: &[String],
        missing: &mut MissingCells,
    ) -> Result<Cow<'_, Design>> {
        let Some(standard) = &self.standard else {
            return Ok(Cow::Borrowed(&self.design));
        };
        let rows: Vec<u32> = self
            .rows
            .iter()
            .copied()
            .filter(|&i| target.is_valid(i as usize))
            .collect();
        let s = standardize::standardize(&self.design, &self.table, standard, over, &rows)?;
        missing.add(s.missing);
        Ok(Cow::Owned(s.design))
    }

    /// Group codes per breakdown, when the design lets a pass in data order serve every
    /// domain at once ([`Plan`]; a standard population gives each target its own design).
    pub fn plans(&self, breakdowns: &[domain::Breakdown]) -> Vec<Option<Plan>> {
        breakdowns
            .iter()
            .map(|(_, ds)| {
                self.standard
                    .is_none()
                    .then(|| Plan::new(&self.design, ds))
                    .flatten()
            })
            .collect()
    }

    /// The passes of `target` for the breakdowns whose plan serves it, made together
    /// ([`breakdown::passes`]); `None` for the others.
    fn passes(&self, plans: &[Option<Plan>], target: &Target) -> Vec<Option<breakdown::Pass>> {
        if !Plan::serves(target.stat) || target.x.is_some() {
            return plans.iter().map(|_| None).collect();
        }
        let served: Vec<&Plan> = plans.iter().flatten().collect();
        let mut made = breakdown::passes(&served, &self.design, target).into_iter();
        plans
            .iter()
            .map(|p| p.as_ref().and_then(|_| made.next()))
            .collect()
    }

    /// Every target over the whole (sub)population and each breakdown of `by` (`VAR` or
    /// `A*B`): the whole population's rows first, then each breakdown, target by target.
    /// Returns the estimates and the warnings (standardising cells missing in a domain).
    pub fn estimates(
        &self,
        by: &[String],
        settings: &Settings,
        printer: &Printer,
    ) -> Result<(Vec<Estimate>, Vec<String>)> {
        let breakdowns = domain::breakdowns(&self.table, by, &self.rows)?;
        let n_domains: usize = breakdowns.iter().map(|(_, d)| d.len()).sum();
        let bar = printer.bar((self.targets.len() * n_domains) as u64, "estimating");
        // The design df of each domain, the same for every target (unless standardised).
        let domain_df: Vec<Vec<f64>> = breakdowns
            .iter()
            .map(|(_, ds)| ds.iter().map(|d| self.design.degf_rows(&d.rows)).collect())
            .collect();
        let plans = self.plans(&breakdowns);
        let replicated = self.grouped_replicate_points(&plans)?;
        // Every breakdown's plan, domains and dfs, when each has a plan.
        let together = breakdown::parts(&plans, &breakdowns, &domain_df);
        // A calibrated design: the targets the plans serve, a group at a time, all the
        // breakdowns' variances of a group from one pass; the other targets one by one.
        let mut grouped: Vec<Option<Result<Vec<Estimate>>>> =
            self.targets.iter().map(|_| None).collect();
        if let Some(parts) = &together {
            let served: Vec<usize> = (0..self.targets.len())
                .filter(|&i| breakdown::serves_together(&self.design, &self.targets[i], parts))
                .collect();
            // Two groups a thread at least, so that both threads have work to the end.
            let size = served
                .len()
                .div_ceil(2 * rayon::current_num_threads())
                .clamp(1, TOGETHER);
            let done: Vec<Vec<(usize, Result<Vec<Estimate>>)>> = served
                .par_chunks(size)
                .map(|group| self.estimate_group(group, parts, settings))
                .collect();
            for (i, r) in done.into_iter().flatten() {
                grouped[i] = Some(r);
                bar.inc(n_domains as u64);
            }
        }
        // Targets in parallel; results and the first error in target order.
        let per_target: Vec<Result<(Vec<Estimate>, MissingCells)>> = self
            .targets
            .par_iter()
            .zip(&replicated)
            .zip(grouped)
            .map(|((t, replicated), grouped)| {
                let mut missing = MissingCells::default();
                if let Some(done) = grouped {
                    return done.map(|out| (out, missing));
                }
                // A deferred indicator's values live while it is estimated.
                let made = t.made(self.instrument.as_ref(), &self.table)?;
                let t = made.as_ref();
                let mut out = Vec::with_capacity(n_domains);
                // The passes of every breakdown with a plan, in one pass over the rows.
                let mut passes = self.passes(&plans, t);
                for (b, (((over, domains), dfs), plan)) in
                    breakdowns.iter().zip(&domain_df).zip(&plans).enumerate()
                {
                    let given = replicated.as_ref().map(|r| r[b].as_slice());
                    let pass = passes[b].take();
                    if let Some(all) = plan.as_ref().and_then(|p| {
                        p.estimates(&self.design, t, domains, dfs, settings, given, pass)
                    }) {
                        out.extend(all?);
                        bar.inc(domains.len() as u64);
                        continue;
                    }
                    let design = self.design_for(t, over, &mut missing)?;
                    for (d, &df) in domains.iter().zip(dfs) {
                        // A standardised design weights only the rows analysed: R's degf of it.
                        let df = match &design {
                            Cow::Borrowed(_) => df,
                            Cow::Owned(std) => std.degf_rows(&d.rows),
                        };
                        out.push(estimator::estimate(
                            &design, t, &d.by, &d.group, &d.rows, df, settings,
                        )?);
                        bar.inc(1);
                    }
                }
                Ok((out, missing))
            })
            .collect();
        let mut estimates = Vec::with_capacity(self.targets.len() * n_domains);
        let mut missing = MissingCells::default();
        for r in per_target {
            let (e, m) = r?;
            estimates.extend(e);
            missing.merge(m);
        }
        bar.finish_and_clear();
        Ok((estimates, missing.warning().into_iter().collect()))
    }

    /// The estimates of a group of targets (`group`: their indices) on a calibrated design
    /// whose every breakdown has a plan ([`breakdown::estimates_of_many`]), each target's
    /// breakdowns one after the other; a target whose values cannot be made has its error.
    fn estimate_group(
        &self,
        group: &[usize],
        parts: &[breakdown::Part<'_>],
        settings: &Settings,
    ) -> Vec<(usize, Result<Vec<Estimate>>)> {
        let mut out = Vec::with_capacity(group.len());
        let mut made = Vec::with_capacity(group.len());
        for &i in group {
            match self.targets[i].made(self.instrument.as_ref(), &self.table) {
                Ok(t) => made.push((i, t)),
                Err(e) => out.push((i, Err(e))),
            }
        }
        let targets: Vec<&Target> = made.iter().map(|(_, t)| t.as_ref()).collect();
        match breakdown::estimates_of_many(&self.design, &targets, parts, settings) {
            Some(Ok(all)) => {
                for ((i, _), per_breakdown) in made.iter().zip(all) {
                    out.push((*i, Ok(per_breakdown.into_iter().flatten().collect())));
                }
            }
            // An error of the group (of its pass, or of one target's estimates), as its first
            // target meets it; the others are estimated again one by one.
            Some(Err(e)) => {
                if let Some((i, _)) = made.first() {
                    out.push((*i, Err(e)));
                }
            }
            None => {}
        }
        out
    }

    /// On a replicate design whose every breakdown has a [`Plan`]: each total, mean and
    /// proportion's replicate estimates in every domain (`[breakdown]`, domain-major), made
    /// [`breakdown::LANES`] targets at a time in one pass over the replicate weights
    /// ([`breakdown::replicate_points`]). `None` for the other targets and designs.
    fn grouped_replicate_points(
        &self,
        plans: &[Option<Plan>],
    ) -> Result<Vec<Option<Vec<Vec<f64>>>>> {
        let mut out = vec![None; self.targets.len()];
        let Some(reps) = &self.design.replicates else {
            return Ok(out);
        };
        if reps.psu_factors().is_some() {
            return Ok(out); // each plan takes them from its PSU sums
        }
        let Some(plans) = plans
            .iter()
            .map(Option::as_ref)
            .collect::<Option<Vec<&Plan>>>()
        else {
            return Ok(out);
        };
        let served: Vec<usize> = (0..self.targets.len())
            .filter(|&i| Plan::serves(self.targets[i].stat))
            .collect();
        for group in served.chunks(breakdown::LANES) {
            let made: Vec<Cow<'_, Target>> = group
                .iter()
                .map(|&i| self.targets[i].made(self.instrument.as_ref(), &self.table))
                .collect::<Result<_>>()?;
            let targets: Vec<&Target> = made.iter().map(Cow::as_ref).collect();
            let points = breakdown::replicate_points(reps, self.design.n, &plans, &targets);
            for (&i, p) in group.iter().zip(points) {
                out[i] = Some(p);
            }
        }
        Ok(out)
    }
}
