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
//! ```

use crate::error::Location;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

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
}

impl DesignSpec {
    /// Reads a design file; unknown keys and wrong types name the line and key.
    pub fn load(path: &Path) -> Result<DesignSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text).map_err(|e| {
            let mut loc = Location::file(path);
            loc.line = e.span().map(|s| {
                1 + text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
            });
            Error::spec(loc, None, e.message().trim().to_string())
        })
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
}
