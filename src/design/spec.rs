//! The design file (`--design FILE.toml`), mirrored exactly; flags given on the command line
//! override it. Keys are the design flags' names with `-` written as `_`:
//!
//! ```toml
//! weight = "design_weight"
//! strata = "area"
//! cluster = ["office", "id"]          # one per stage
//! fpc = ["offices_in_area", "office_size"]
//! nest = true
//! lonely_psu = "fail"
//! calibrate = "raking"                # raking | linear | logit | poststratify
//! margin = ["margins/area.csv", "margins/age_group.csv"]   # relative to this file
//! margin_total = { months_reg = 2400000 }
//! bounds = [0.3, 3.0]
//! standardize = ["age_group", "gender"]   # direct standardisation of domain estimates
//! standard = "standard-population.csv"    # relative to this file
//! ```

use crate::error::Location;
use crate::{Error, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DesignSpec {
    /// Sampling weight column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// Selection probability column (weight = 1/p).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probs: Option<String>,
    /// `brewer` for without-replacement PPS variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pps: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strata: Option<String>,
    /// Cluster columns, one per stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<String>,
    /// Finite population corrections, one per stage: population sizes or sampling fractions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fpc: Vec<String>,
    /// PSU ids are unique only within strata.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nest: bool,
    /// fail | adjust | average | certainty | remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lonely_psu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repweights: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_rscales: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fay_rho: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mse: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_negative_weights: bool,
    /// raking | linear | logit | poststratify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrate: Option<String>,
    /// Margin files, relative to the design file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub margin: Vec<PathBuf>,
    /// Population totals of numeric variables.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub margin_total: IndexMap<String, f64>,
    /// Bounds on the calibration factors w/d.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_tolerance: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_maxit: Option<usize>,
    /// Standardising variables (direct standardisation of domain estimates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standardize: Vec<String>,
    /// The standard population file, relative to the design file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<PathBuf>,
    /// Weighting steps of `tasa weight` (other commands take the weights as they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonresponse: Option<NonresponseSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim: Option<TrimSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates: Option<ReplicatesSpec>,
}

/// `[base]`: base weights from stratum population and sample sizes, `N_h / n_h`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BaseSpec {
    /// Column holding the population size of the row's stratum.
    pub stratum_population: String,
}

/// `[nonresponse]`: weighting-class adjustment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NonresponseSpec {
    /// Response indicator column: 1 (or a true value) for respondents, 0 for non-respondents.
    pub indicator: String,
    /// Variables whose cross-classification gives the adjustment cells.
    #[serde(default)]
    pub cells: Vec<String>,
    /// Merge a deficient cell with its neighbour instead of stopping.
    #[serde(default)]
    pub collapse: bool,
    /// A cell needs at least this many respondents (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_respondents: Option<usize>,
    /// A cell's adjustment factor may not exceed this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_factor: Option<f64>,
}

/// `[trim]`: weight trimming, with re-calibration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrimSpec {
    pub lower: f64,
    pub upper: f64,
    /// Bounds are multiples of the mean weight (default true); false: absolute weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative: Option<bool>,
    /// Re-calibrate after trimming (default true when calibrating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalibrate: Option<bool>,
    /// Rounds of trimming and re-calibration (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxit: Option<usize>,
}

/// `[replicates]`: replicate weights to create.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicatesSpec {
    /// bootstrap | jk1 | jkn | brr | fay.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fay_rho: Option<f64>,
}

impl DesignSpec {
    /// Reads a design file; unknown keys and wrong types name the line and key.
    pub fn load(path: &Path) -> Result<DesignSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_str(&text, path)
    }

    /// Parses and checks design-file text as [`DesignSpec::load`] does; `path` names the file
    /// in messages, and the files the design names are looked for relative to its folder.
    pub fn from_str(text: &str, path: &Path) -> Result<DesignSpec> {
        let mut spec: DesignSpec = toml::from_str(text).map_err(|e| {
            let mut loc = Location::file(path);
            loc.line = e.span().map(|s| crate::error::line_of(text, s.start));
            Error::spec(loc, None, e.message().trim().to_string())
        })?;
        spec.check(path, text)?;
        // Files are named relative to the design file (`standard` may instead name a survey
        // of `tasa compare`: `a` or `b`).
        let dir = path.parent().unwrap_or(Path::new(""));
        let survey = |p: &Path| p == Path::new("a") || p == Path::new("b");
        for m in spec
            .margin
            .iter_mut()
            .chain(spec.standard.as_mut().filter(|p| !survey(p)))
        {
            if m.is_relative() {
                *m = dir.join(&*m);
            }
        }
        Ok(spec)
    }

    /// Checks, where the file's line is known, the values that name one of a few choices and
    /// the files the design reads.
    fn check(&self, path: &Path, text: &str) -> Result<()> {
        let at = |key: &str, item: Option<&str>, problem: String| {
            let mut loc = Location::file(path);
            loc.line = crate::error::line_of_value(text, key, item);
            Error::spec(loc, Some(key), problem)
        };
        let choice =
            |key: &str, value: &Option<String>, parse: &dyn Fn(&str) -> Result<()>| match value {
                Some(v) => parse(v).map_err(|e| at(key, None, e.to_string())),
                None => Ok(()),
            };
        choice("lonely_psu", &self.lonely_psu, &|v| {
            super::options::LonelyPsu::parse(v).map(drop)
        })?;
        choice("rep_type", &self.rep_type, &|v| {
            super::options::RepType::parse(v).map(drop)
        })?;
        choice("calibrate", &self.calibrate, &|v| {
            crate::weighting::calibrated::CalMethod::parse(v).map(drop)
        })?;
        choice("pps", &self.pps, &|v| {
            super::options::parse_pps(v).map(drop)
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let files = self
            .margin
            .iter()
            .map(|m| ("margin", m))
            .chain(self.standard.iter().map(|s| ("standard", s)));
        for (key, file) in files {
            let is_survey = key == "standard" && (file == Path::new("a") || file == Path::new("b"));
            let resolved = dir.join(file);
            if !is_survey && !resolved.is_file() {
                return Err(at(
                    key,
                    file.to_str(),
                    format!(
                        "{} does not exist (paths are relative to the design file)",
                        resolved.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unknown_key() {
        let spec = DesignSpec {
            weight: Some("w".into()),
            strata: Some("area".into()),
            cluster: vec!["office".into(), "id".into()],
            fpc: vec!["m".into(), "n".into()],
            nest: true,
            ..Default::default()
        };
        let text = spec.to_toml();
        let back: DesignSpec = toml::from_str(&text).unwrap();
        assert_eq!(back, spec);

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.toml");
        std::fs::write(&p, "weight = \"w\"\nstrata = \"a\"\nclusters = [\"x\"]\n").unwrap();
        let e = DesignSpec::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("unknown field `clusters`"),
            "{e}"
        );
    }

    #[test]
    fn choices_and_files_are_checked_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.toml");
        let load = |text: &str| {
            std::fs::write(&p, text).unwrap();
            DesignSpec::load(&p).map_err(|e| e.to_string())
        };
        let e = load("weight = \"w\"\n\nlonely_psu = \"ignore\"\n").unwrap_err();
        assert!(
            e.contains("d.toml, line 3: lonely_psu = \"ignore\" is not one of"),
            "{e}"
        );
        assert!(e.ends_with("[key `lonely_psu`]"), "{e}");
        std::fs::write(dir.path().join("m.csv"), "x,total\n1,2\n").unwrap();
        let e = load("calibrate = \"raking\"\nmargin = [\n  \"m.csv\",\n  \"gone.csv\",\n]\n")
            .unwrap_err();
        assert!(e.contains("d.toml, line 4: "), "{e}");
        assert!(
            e.contains("gone.csv does not exist") && e.contains("[key `margin`]"),
            "{e}"
        );
        // `standard = "b"` names a survey of tasa compare, not a file.
        let spec = load("standard = \"b\"\nstandardize = [\"age\"]\n").unwrap();
        assert_eq!(spec.standard.as_deref(), Some(Path::new("b")));
    }
}
