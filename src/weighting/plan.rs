//! The weighting plan — which steps `tasa weight` takes, from the flags over the design
//! file's sections — and what comes out of it: the data with the new weight and replicate
//! columns, and the design for estimating from them.

use super::nonresponse::NonresponseOptions;
use super::pipeline::{NonresponsePlan, Plan, TrimPlan};
use super::replicates::{type_name, ReplicateFactors, ReplicateSpec};
use crate::design::{DesignOptions, DesignSpec, RepType};
use crate::table::{Column, Table};
use crate::{Error, Result};

/// The weighting flags of `tasa weight`; each one left empty falls back on the design file.
#[derive(Debug, Clone, Default)]
pub struct PlanFlags {
    pub stratum_population: Option<String>,
    pub respondent: Option<String>,
    pub nonresponse_cells: Vec<String>,
    pub collapse: bool,
    pub min_respondents: Option<usize>,
    pub max_factor: Option<f64>,
    pub trim: Option<String>,
    pub trim_absolute: bool,
    pub replicates: Option<String>,
    pub seed: Option<u64>,
    /// The ρ of Fay replicates to make.
    pub fay_rho: Option<f64>,
}

/// The plan from the flags over the design file's weighting sections.
pub fn resolve(
    args: &PlanFlags,
    spec: Option<&DesignSpec>,
    options: &DesignOptions,
) -> Result<Plan> {
    let fay_rho = args.fay_rho;
    let stratum_population = args.stratum_population.clone().or_else(|| {
        spec.and_then(|s| s.base.as_ref())
            .map(|b| b.stratum_population.clone())
    });
    if stratum_population.is_some() && (options.weight.is_some() || options.probs.is_some()) {
        return Err(Error::Usage(
            "base weights come either from --weight/--probs or from --stratum-population, not both"
                .into(),
        ));
    }
    let nr_spec = spec.and_then(|s| s.nonresponse.as_ref());
    // The flag's indicator, else the file's; the other settings likewise flag over file.
    let indicator = args
        .respondent
        .clone()
        .or_else(|| nr_spec.map(|s| s.indicator.clone()));
    let nonresponse = match indicator {
        Some(indicator) => Some(NonresponsePlan {
            indicator,
            cells: if args.nonresponse_cells.is_empty() {
                nr_spec.map(|s| s.cells.clone()).unwrap_or_default()
            } else {
                args.nonresponse_cells.clone()
            },
            options: NonresponseOptions {
                collapse: args.collapse || nr_spec.is_some_and(|s| s.collapse),
                min_respondents: args
                    .min_respondents
                    .or(nr_spec.and_then(|s| s.min_respondents))
                    .unwrap_or(1),
                max_factor: args.max_factor.or(nr_spec.and_then(|s| s.max_factor)),
            },
        }),
        None => {
            if !args.nonresponse_cells.is_empty()
                || args.collapse
                || args.min_respondents.is_some()
                || args.max_factor.is_some()
            {
                return Err(Error::Usage(
                    "--nonresponse-cells, --collapse, --min-respondents and --max-factor need --respondent COL".into(),
                ));
            }
            None
        }
    };
    if let Some(x) = nonresponse.as_ref().and_then(|n| n.options.max_factor) {
        if x.is_nan() || x < 1.0 {
            return Err(Error::Usage(format!(
                "--max-factor {x}: an adjustment factor is at least 1"
            )));
        }
    }

    let trim_spec = spec.and_then(|s| s.trim.as_ref());
    let trim = match (&args.trim, trim_spec) {
        (Some(b), t) => {
            let (lower, upper) = crate::weighting::calibrated::parse_bounds(b)
                .map_err(|_| Error::Usage(format!("--trim `{b}`: write LO,HI, e.g. 0.3,3.5")))?;
            Some(TrimPlan {
                lower,
                upper,
                relative: t.and_then(|t| t.relative).unwrap_or(true) && !args.trim_absolute,
                recalibrate: t.and_then(|t| t.recalibrate).unwrap_or(true),
                maxit: t.and_then(|t| t.maxit).unwrap_or(20),
            })
        }
        (None, Some(t)) => Some(TrimPlan {
            lower: t.lower,
            upper: t.upper,
            relative: t.relative.unwrap_or(true) && !args.trim_absolute,
            recalibrate: t.recalibrate.unwrap_or(true),
            maxit: t.maxit.unwrap_or(20),
        }),
        (None, None) => None,
    };
    if let Some(t) = &trim {
        if !(t.lower >= 0.0 && t.lower < t.upper)
            || (t.relative && !(t.lower < 1.0 && t.upper > 1.0))
        {
            return Err(Error::Usage(format!(
                "trimming bounds {},{}: need 0 <= LO < HI{}",
                t.lower,
                t.upper,
                if t.relative {
                    ", and LO < 1 < HI as multiples of the mean weight"
                } else {
                    ""
                }
            )));
        }
    }

    let rep_spec = spec.and_then(|s| s.replicates.as_ref());
    let replicates = match (&args.replicates, rep_spec) {
        (Some(text), r) => {
            let (kind, count) = parse_replicates(text)?;
            Some(ReplicateSpec {
                kind,
                count,
                seed: args.seed.or(r.and_then(|r| r.seed)).unwrap_or(1),
                fay_rho: fay_rho.or(r.and_then(|r| r.fay_rho)),
            })
        }
        (None, Some(r)) => Some(ReplicateSpec {
            kind: RepType::parse(&r.kind)?,
            count: r.count,
            seed: args.seed.or(r.seed).unwrap_or(1),
            fay_rho: fay_rho.or(r.fay_rho),
        }),
        (None, None) => {
            if args.seed.is_some() || fay_rho.is_some() {
                return Err(Error::Usage(
                    "--seed and --fay-rho set the replicates to make; add --replicates TYPE[:R]"
                        .into(),
                ));
            }
            None
        }
    };
    let plan = Plan {
        stratum_population,
        nonresponse,
        calibration: options.calibration.clone(),
        trim,
        replicates,
    };
    if plan == Plan::default() {
        return Err(Error::Usage(
            "no weighting step: give --calibrate with margins, --respondent, --trim, --replicates or --stratum-population (or the design file's sections)".into(),
        ));
    }
    Ok(plan)
}

/// `TYPE[:R]`.
pub fn parse_replicates(text: &str) -> Result<(RepType, Option<usize>)> {
    let (kind, count) = match text.split_once(':') {
        Some((k, c)) => (
            k,
            Some(c.trim().parse::<usize>().map_err(|_| {
                Error::Usage(format!(
                    "--replicates `{text}`: the count after `:` must be a whole number, e.g. bootstrap:200"
                ))
            })?),
        ),
        None => (text, None),
    };
    let kind = RepType::parse(kind.trim())?;
    if kind == RepType::Other {
        return Err(Error::Usage(
            "--replicates: make bootstrap, jk1, jkn, brr or fay replicates".into(),
        ));
    }
    Ok((kind, count))
}

/// The data with the weight column set and the replicate columns `NAME_rep1..R` (columns
/// left from an earlier run with the same name are replaced, stale replicates dropped).
pub fn with_weights(
    table: Table,
    name: &str,
    weights: Vec<f64>,
    replicates: Vec<Vec<f64>>,
) -> Result<Table> {
    let source = table.source.clone();
    let prefix = format!("{name}_rep");
    let is_replicate = |c: &str| {
        c.strip_prefix(&prefix)
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let columns: Vec<Column> = table
        .into_columns()
        .into_iter()
        .filter(|c| c.name != name && !is_replicate(&c.name))
        .collect();
    let mut out = Table::from_columns(columns)?;
    out.source = source;
    out.push(Column::num(name, weights))?;
    for (r, w) in replicates.into_iter().enumerate() {
        out.push(Column::num(format!("{prefix}{}", r + 1), w))?;
    }
    Ok(out)
}

/// The design file for estimating from the output: the new weights, the design's strata,
/// clusters and fpcs for linearisation, or the replicate settings.
pub fn estimation_design(
    weight: &str,
    o: &DesignOptions,
    replicates: Option<&ReplicateFactors>,
    negative: bool,
    only_calibration: bool,
    pattern: &str,
) -> String {
    let mut spec = DesignSpec {
        weight: Some(weight.to_string()),
        ..Default::default()
    };
    let header;
    match replicates {
        Some(f) => {
            let r = f.reading_options(pattern);
            spec.repweights = Some(r.pattern);
            spec.rep_type = Some(type_name(r.kind).to_string());
            spec.rep_scale = r.scale;
            spec.rep_rscales = r.rscales;
            spec.fay_rho = r.fay_rho;
            header = "# Written by `tasa weight`: the calibrated weights and their replicates, which\n# repeat every weighting step, so replicate variances reflect the weighting.\n";
        }
        None => {
            // The calibration again, so that estimate's variances are calibration-aware. When
            // calibration was the only step, from the design weights: the same weights and
            // exactly R's variance. Otherwise from the final weights, which already meet the
            // margins (g = 1); the residual regression is then weighted by them instead of
            // the design weights (asymptotically the same; 1e-4 apart on R's apiclus1).
            if let Some(c) = &o.calibration {
                if only_calibration {
                    spec.weight = o.weight.clone();
                    spec.probs = o.probs.clone();
                }
                spec.calibrate = Some(c.method.name().to_string());
                spec.margin = c
                    .margins
                    .iter()
                    .map(|m| m.canonicalize().unwrap_or_else(|_| m.clone()))
                    .collect();
                spec.margin_total = c.totals.iter().cloned().collect();
                spec.bounds = c.bounds.map(|(l, u)| [l, u]);
            }
            spec.strata = o.strata.clone();
            spec.cluster = o.clusters.clone();
            spec.fpc = o.fpc.clone();
            spec.nest = o.nest;
            spec.lonely_psu = (o.lonely_psu != crate::design::LonelyPsu::Fail)
                .then(|| format!("{:?}", o.lonely_psu).to_ascii_lowercase());
            header = "# Written by `tasa weight`: the new weights with the sampling design and, when they\n# were calibrated, the calibration (it leaves them as they are and makes the variances\n# calibration-aware). Non-response and trimming count as fixed here; replicate weights\n# (--replicates) repeat them.\n";
        }
    }
    spec.allow_negative_weights = negative;
    format!("{header}{}", spec.to_toml())
}
