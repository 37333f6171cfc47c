//! The resolved design description: the design file overlaid with the command-line flags
//! (flags win). Column names only; [`super::Design::build`] checks them against the data.

use super::spec::DesignSpec;
use crate::weighting::calibrated::{CalMethod, CalibrationOptions};
use crate::weighting::replicates::ReplicateSpec;
use crate::{Error, Result};
use std::path::PathBuf;

/// What to do with a stratum that has a single PSU (R's `options(survey.lonely.psu)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LonelyPsu {
    /// Stop with an error naming the stratum and stage.
    #[default]
    Fail,
    /// Centre the lone PSU on the grand mean (R's "adjust").
    Adjust,
    /// Give the stratum the average variance of the other strata.
    Average,
    /// Treat the PSU as sampled with certainty: no contribution.
    Certainty,
    /// Drop the stratum's contribution.
    Remove,
}

impl LonelyPsu {
    pub fn parse(s: &str) -> Result<LonelyPsu> {
        match s {
            "fail" => Ok(LonelyPsu::Fail),
            "adjust" => Ok(LonelyPsu::Adjust),
            "average" => Ok(LonelyPsu::Average),
            "certainty" => Ok(LonelyPsu::Certainty),
            "remove" => Ok(LonelyPsu::Remove),
            other => Err(Error::Usage(format!(
                "lonely_psu = \"{other}\" is not one of fail, adjust, average, certainty, remove"
            ))),
        }
    }
}

/// Kinds of replicate weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepType {
    Jk1,
    Jkn,
    Brr,
    Fay,
    Bootstrap,
    Other,
}

impl RepType {
    pub fn parse(s: &str) -> Result<RepType> {
        match s.to_ascii_lowercase().as_str() {
            "jk1" => Ok(RepType::Jk1),
            "jkn" => Ok(RepType::Jkn),
            "brr" => Ok(RepType::Brr),
            "fay" => Ok(RepType::Fay),
            "bootstrap" => Ok(RepType::Bootstrap),
            "other" => Ok(RepType::Other),
            other => Err(Error::Usage(format!(
                "rep_type = \"{other}\" is not one of jk1, jkn, brr, fay, bootstrap, other"
            ))),
        }
    }
}

/// Replicate weights made in memory from the design's strata and PSUs (`--replicates`).
#[derive(Debug, Clone, PartialEq)]
pub struct MakeReplicates {
    pub spec: ReplicateSpec,
    /// Centre replicate deviations on the full-sample estimate (`--mse`).
    pub mse: bool,
}

/// Replicate-weight settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateOptions {
    /// Glob of the replicate columns (`repw*`), taken in file order.
    pub pattern: String,
    pub kind: RepType,
    /// The whole variance multiplier, when given.
    pub scale: Option<f64>,
    pub rscales: Option<Vec<f64>>,
    pub fay_rho: Option<f64>,
    /// Centre on the full-sample estimate instead of the replicate mean.
    pub mse: bool,
}

/// A complete design description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesignOptions {
    pub weight: Option<String>,
    pub probs: Option<String>,
    pub pps_brewer: bool,
    pub strata: Option<String>,
    /// One per stage, stage 1 first.
    pub clusters: Vec<String>,
    /// One per stage (population sizes or sampling fractions).
    pub fpc: Vec<String>,
    pub nest: bool,
    pub lonely_psu: LonelyPsu,
    pub replicates: Option<ReplicateOptions>,
    /// Replicate weights to make from the strata and PSUs (`--replicates`), instead of
    /// reading them; `tasa weight` writes them out, the other commands estimate with them.
    pub make_replicates: Option<MakeReplicates>,
    pub allow_negative_weights: bool,
    /// Calibrate the weights to population margins before estimating.
    pub calibration: Option<CalibrationOptions>,
    /// Direct standardisation of domain estimates (`--standardize`, `--standard`).
    pub standardize: Option<StandardizeOptions>,
    /// Weighting sections of the design file (`[nonresponse]`...) that only `tasa weight`
    /// runs; other commands warn that they take the weights as they are.
    pub weighting_sections: Vec<&'static str>,
}

impl DesignOptions {
    /// The files the design reads besides the data (margins, a standard population), each
    /// with what it is.
    pub fn files(&self) -> Vec<(String, PathBuf)> {
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for m in self.calibration.iter().flat_map(|c| &c.margins) {
            files.push(("the margin file".into(), m.clone()));
        }
        if let Some(StandardizeOptions {
            standard: StandardSource::File(p),
            ..
        }) = &self.standardize
        {
            files.push(("the standard population".into(), p.clone()));
        }
        files
    }

    /// The warning for commands other than `weight` when the design file has weighting steps.
    pub fn weighting_warning(&self) -> Option<crate::Warning> {
        (!self.weighting_sections.is_empty()).then(|| crate::Warning {
            message: format!(
                "the design file's {} sections are weighting steps that only `tasa weight` runs; this command uses the weights as they are",
                self.weighting_sections.join(", ")
            ),
            remedy: Some("run `tasa weight` first and estimate from its output".into()),
        })
    }
}

/// Where the standard population of a direct standardisation comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum StandardSource {
    /// A CSV file: the standardising variables and a `population` column.
    File(PathBuf),
    /// The weighted structure of one of the surveys of `tasa compare` (`a` or `b`).
    Survey(char),
}

/// A direct standardisation request.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardizeOptions {
    pub variables: Vec<String>,
    pub standard: StandardSource,
}

/// The design flags as given on the command line (`None`/empty = not given); the CLI
/// flattens them into every command that takes a design.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DesignFlags {
    /// Sampling weight column (default: from the fpc, or 1).
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub weight: Option<String>,
    /// Selection probability column (weight = 1/p).
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub probs: Option<String>,
    /// `brewer`: without-replacement PPS variance with Brewer's approximation (fpc = inclusion probabilities).
    #[arg(long, value_name = "METHOD", help_heading = "Design")]
    pub pps: Option<String>,
    /// Stratum column.
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub strata: Option<String>,
    /// PSU column; repeat for later stages (--cluster dnum --cluster snum).
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub cluster: Vec<String>,
    /// Finite population correction per stage: population sizes (> 1) or sampling fractions.
    #[arg(long, value_name = "COL", help_heading = "Design")]
    pub fpc: Vec<String>,
    /// PSU ids are unique only within strata.
    #[arg(long, help_heading = "Design")]
    pub nest: bool,
    /// Single-PSU strata: fail (default), adjust, average, certainty or remove.
    #[arg(long, value_enum, value_name = "POLICY", help_heading = "Design")]
    pub lonely_psu: Option<LonelyPsu>,
    /// Replicate weight columns by glob, in file order (`repw*`). Each holds a full replicate weight.
    #[arg(long, value_name = "PATTERN", help_heading = "Replicate weights")]
    pub repweights: Option<String>,
    #[arg(
        long,
        value_enum,
        value_name = "TYPE",
        help_heading = "Replicate weights"
    )]
    pub rep_type: Option<RepType>,
    /// The whole variance multiplier (for Fay it already includes 1/(1-rho)^2).
    #[arg(long, value_name = "X", help_heading = "Replicate weights")]
    pub rep_scale: Option<f64>,
    /// Per-replicate multipliers, comma-separated, in the order of the replicate columns.
    #[arg(
        long,
        value_name = "A,B,...",
        value_delimiter = ',',
        help_heading = "Replicate weights"
    )]
    pub rep_rscales: Option<Vec<f64>>,
    #[arg(long, value_name = "RHO", help_heading = "Replicate weights")]
    pub fay_rho: Option<f64>,
    /// Centre replicate deviations on the full-sample estimate.
    #[arg(long, help_heading = "Replicate weights")]
    pub mse: bool,
    /// Make replicate weights from the strata and PSUs instead of reading them:
    /// bootstrap:R, jk1, jkn, brr or fay (with --fay-rho), as R's as.svrepdesign.
    #[arg(long, value_name = "TYPE[:R]", help_heading = "Replicate weights")]
    pub replicates: Option<String>,
    /// Seed of the bootstrap replicates made by --replicates [default: 1].
    #[arg(long, help_heading = "Replicate weights")]
    pub seed: Option<u64>,
    /// Accept negative weights (they can come from unbounded linear calibration).
    #[arg(long, help_heading = "Design")]
    pub allow_negative_weights: bool,
    /// Calibrate the weights to population margins: raking, linear, logit or poststratify.
    #[arg(long, value_enum, value_name = "METHOD", help_heading = "Calibration")]
    pub calibrate: Option<CalMethod>,
    /// Margin file (CSV: variable columns and `total`); repeat for several margins.
    #[arg(long, value_name = "FILE", help_heading = "Calibration")]
    pub margin: Vec<PathBuf>,
    /// Population total of a numeric variable, `VAR=TOTAL` (repeatable).
    #[arg(long, value_name = "VAR=TOTAL", help_heading = "Calibration")]
    pub margin_total: Vec<String>,
    /// Bounds on the calibration factors w/d, `LO,HI` (LO < 1 < HI).
    #[arg(long, value_name = "LO,HI", help_heading = "Calibration")]
    pub bounds: Option<String>,
    /// Calibration converges when max |misfit| / (1 + |total|) is below this [default: 1e-10].
    #[arg(long, value_name = "EPS", help_heading = "Calibration")]
    pub cal_tolerance: Option<f64>,
    /// Maximum number of calibration iterations [default: 50].
    #[arg(long, value_name = "N", help_heading = "Calibration")]
    pub cal_maxit: Option<usize>,
    /// Standardise domain estimates directly by these variables (comma-separated), as R's
    /// svystandardize.
    #[arg(
        long,
        value_name = "VAR[,VAR]",
        value_delimiter = ',',
        help_heading = "Standardisation"
    )]
    pub standardize: Vec<String>,
    /// The standard population: CSV with the standardising variables and `population`
    /// (tasa compare also takes `a` or `b`: that survey's weighted structure).
    #[arg(long, value_name = "FILE", help_heading = "Standardisation")]
    pub standard: Option<PathBuf>,
}

/// The PPS variance method: `brewer` is the one tasa knows (true).
pub fn parse_pps(method: &str) -> Result<bool> {
    match method {
        "brewer" => Ok(true),
        other => Err(Error::Usage(format!(
            "pps = \"{other}\" is not supported; tasa knows `brewer`"
        ))),
    }
}

/// Overlays the flags on the design file (flags win; list flags replace the file's lists).
pub fn resolve(spec: Option<DesignSpec>, flags: DesignFlags) -> Result<DesignOptions> {
    let spec = spec.unwrap_or_default();
    let DesignFlags {
        weight,
        probs,
        pps,
        strata,
        cluster,
        fpc,
        nest,
        lonely_psu,
        repweights,
        rep_type,
        rep_scale,
        rep_rscales,
        fay_rho,
        mse,
        replicates: make,
        seed,
        allow_negative_weights,
        calibrate,
        margin,
        margin_total,
        bounds,
        cal_tolerance,
        cal_maxit,
        standardize,
        standard,
    } = flags;
    let standardize = standardize_request(&spec, standardize, standard)?;
    let calibration = resolve_calibration(
        &spec,
        calibrate,
        margin,
        margin_total,
        bounds,
        cal_tolerance,
        cal_maxit,
    )?;
    let pps_brewer = match pps.or(spec.pps).as_deref() {
        None => false,
        Some(method) => parse_pps(method)?,
    };
    let lonely_psu = match lonely_psu {
        Some(l) => l,
        None => match spec.lonely_psu.as_deref() {
            Some(s) => LonelyPsu::parse(s)?,
            None => LonelyPsu::Fail,
        },
    };
    let pattern = repweights.or(spec.repweights);
    let make_replicates = match make {
        Some(_) if pattern.is_some() => {
            return Err(Error::Usage(
                "--replicates makes replicate weights and --repweights reads them; give one"
                    .into(),
            ))
        }
        Some(_) if rep_type.is_some() || rep_scale.is_some() || rep_rscales.is_some() => {
            return Err(Error::Usage(
                "--rep-type, --rep-scale and --rep-rscales describe replicate columns read with --repweights; --replicates TYPE[:R] sets its own".into(),
            ))
        }
        Some(text) => {
            let (kind, count) = crate::weighting::plan::parse_replicates(&text)?;
            Some(MakeReplicates {
                spec: ReplicateSpec {
                    kind,
                    count,
                    seed: seed.unwrap_or(1),
                    fay_rho,
                },
                mse: mse || spec.mse,
            })
        }
        None if seed.is_some() => {
            return Err(Error::Usage(
                "--seed sets the bootstrap replicates to make; add --replicates bootstrap:R".into(),
            ))
        }
        None => None,
    };
    let replicates = match pattern {
        None if make_replicates.is_some() => None,
        None => {
            if rep_type.is_some()
                || rep_scale.is_some()
                || rep_rscales.is_some()
                || fay_rho.is_some()
            {
                return Err(Error::Usage(
                    "--rep-type, --rep-scale, --rep-rscales and --fay-rho need --repweights".into(),
                ));
            }
            None
        }
        Some(pattern) => {
            let kind =
                match (rep_type, spec.rep_type.as_deref()) {
                    (Some(k), _) => k,
                    (None, Some(s)) => RepType::parse(s)?,
                    (None, None) => return Err(Error::Usage(
                        "--repweights needs --rep-type (jk1, jkn, brr, fay, bootstrap or other)"
                            .into(),
                    )),
                };
            Some(ReplicateOptions {
                pattern,
                kind,
                scale: rep_scale.or(spec.rep_scale),
                rscales: rep_rscales.or(spec.rep_rscales),
                fay_rho: fay_rho.or(spec.fay_rho),
                mse: mse || spec.mse,
            })
        }
    };
    let options = DesignOptions {
        weight: weight.or(spec.weight),
        probs: probs.or(spec.probs),
        pps_brewer,
        strata: strata.or(spec.strata),
        clusters: if cluster.is_empty() {
            spec.cluster
        } else {
            cluster
        },
        fpc: if fpc.is_empty() { spec.fpc } else { fpc },
        nest: nest || spec.nest,
        lonely_psu,
        replicates,
        make_replicates,
        allow_negative_weights: allow_negative_weights || spec.allow_negative_weights,
        calibration,
        standardize,
        weighting_sections: [
            (spec.base.is_some(), "[base]"),
            (spec.nonresponse.is_some(), "[nonresponse]"),
            (spec.trim.is_some(), "[trim]"),
            (spec.replicates.is_some(), "[replicates]"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect(),
    };
    if options.weight.is_some() && options.probs.is_some() {
        return Err(Error::Usage("give --weight or --probs, not both".into()));
    }
    if options.fpc.len() > options.clusters.len().max(1) {
        return Err(Error::Usage(format!(
            "{} --fpc columns for {} stages; give one --fpc per --cluster (or one without clusters)",
            options.fpc.len(),
            options.clusters.len().max(1)
        )));
    }
    Ok(options)
}

/// The standardisation request from the flags over the design file (`a`/`b`: a survey of
/// `tasa compare`).
pub fn standardize_request(
    spec: &DesignSpec,
    variables: Vec<String>,
    standard: Option<PathBuf>,
) -> Result<Option<StandardizeOptions>> {
    let variables: Vec<String> = if variables.is_empty() {
        spec.standardize.clone()
    } else {
        variables
    };
    let variables: Vec<String> = variables.iter().map(|v| v.trim().to_string()).collect();
    let standard = standard.or_else(|| spec.standard.clone());
    match (variables.is_empty(), standard) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(Error::Usage(
            "--standard needs --standardize VAR[,VAR] (the standardising variables)".into(),
        )),
        (false, None) => Err(Error::Usage(
            "--standardize needs --standard FILE, a or b (FILE: the standardising variables' levels and a `population` column; a or b, in tasa compare: that survey's weighted structure)".into(),
        )),
        (false, Some(path)) => {
            if variables.iter().any(String::is_empty) {
                return Err(Error::Usage(
                    "--standardize: write the variables comma-separated, e.g. age_group,gender"
                        .into(),
                ));
            }
            let standard = match path.to_str() {
                Some("a") => StandardSource::Survey('a'),
                Some("b") => StandardSource::Survey('b'),
                _ => StandardSource::File(path),
            };
            Ok(Some(StandardizeOptions {
                variables,
                standard,
            }))
        }
    }
}

/// The calibration request from the flags over the design file (flags win; a list given as
/// flags replaces the file's list).
fn resolve_calibration(
    spec: &DesignSpec,
    method: Option<CalMethod>,
    margin: Vec<PathBuf>,
    margin_total: Vec<String>,
    bounds: Option<String>,
    tolerance: Option<f64>,
    maxit: Option<usize>,
) -> Result<Option<CalibrationOptions>> {
    let method = match (method, spec.calibrate.as_deref()) {
        (Some(m), _) => Some(m),
        (None, Some(s)) => Some(CalMethod::parse(s)?),
        (None, None) => None,
    };
    let margins = if margin.is_empty() {
        spec.margin.clone()
    } else {
        margin
    };
    let totals: Vec<(String, f64)> = if margin_total.is_empty() {
        spec.margin_total
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    } else {
        margin_total
            .iter()
            .map(|t| crate::weighting::margins::parse_total(t))
            .collect::<Result<_>>()?
    };
    let bounds = match bounds {
        Some(b) => Some(crate::weighting::calibrated::parse_bounds(&b)?),
        None => spec.bounds.map(|[l, u]| (l, u)),
    };
    let Some(method) = method else {
        if !margins.is_empty() || !totals.is_empty() || bounds.is_some() {
            return Err(Error::Usage(
                "--margin, --margin-total and --bounds need --calibrate raking|linear|logit|poststratify".into(),
            ));
        }
        return Ok(None);
    };
    let options = CalibrationOptions {
        method,
        margins,
        totals,
        bounds,
        tolerance: tolerance
            .or(spec.cal_tolerance)
            .unwrap_or(CalibrationOptions::DEFAULT_TOLERANCE),
        maxit: maxit
            .or(spec.cal_maxit)
            .unwrap_or(CalibrationOptions::DEFAULT_MAXIT),
    };
    options.check()?;
    Ok(Some(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let spec = DesignSpec {
            weight: Some("w".into()),
            strata: Some("s".into()),
            cluster: vec!["a".into(), "b".into()],
            fpc: vec!["fa".into(), "fb".into()],
            lonely_psu: Some("adjust".into()),
            ..Default::default()
        };
        let flags = DesignFlags {
            weight: Some("w2".into()),
            cluster: vec!["c".into()],
            fpc: vec!["fc".into()],
            ..Default::default()
        };
        let o = resolve(Some(spec), flags).unwrap();
        assert_eq!(o.weight.as_deref(), Some("w2"));
        assert_eq!(o.strata.as_deref(), Some("s"));
        assert_eq!(o.clusters, ["c"]);
        assert_eq!(o.fpc, ["fc"]);
        assert_eq!(o.lonely_psu, LonelyPsu::Adjust);
    }

    #[test]
    fn inconsistent_flags_are_usage_errors() {
        let e = resolve(
            None,
            DesignFlags {
                rep_type: Some(RepType::Jk1),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("need --repweights"), "{e}");
        let e = resolve(
            None,
            DesignFlags {
                repweights: Some("r*".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs --rep-type"), "{e}");
        let e = resolve(
            None,
            DesignFlags {
                weight: Some("w".into()),
                probs: Some("p".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
    }
}
