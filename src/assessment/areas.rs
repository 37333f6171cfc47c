//! Per-area outputs of a run (`[survey.areas] outputs = true`): every employment area that has
//! respondents gets a workbook and report drafts of its own, with the area's estimates beside
//! its region's and the whole country's, the gaps inside the area (and inside its region, and
//! nationally), the change since the previous wave and the area's register metrics. The rows
//! are cut from the survey's tables ([`crate::output::publish::cut`]), so every number and
//! every `..` is the survey's own: the same estimates under the same suppression rules.

use super::{Base, Ctx};
use crate::assessment::spec::AreasSpec;
use crate::output::report::Focus;
use crate::output::xlsx::Tables;
use crate::table::Table;
use crate::{Error, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// An area with respondents, and the region most of them live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub code: String,
    pub region: Option<String>,
}

/// The areas of the estimates (rows by `variable`), in their order, each with its region
/// from the responses; an area whose respondents fall in several regions takes the most
/// common one, with a warning.
pub fn areas(
    estimates: &Table,
    variable: &str,
    data: &Table,
    region: Option<&str>,
) -> Result<(Vec<Area>, Vec<String>)> {
    let mut codes: Vec<String> = Vec::new();
    if let (Some(by), Some(group)) = (estimates.column("by"), estimates.column("group")) {
        for i in 0..estimates.nrows() {
            if by.text(i).as_deref() == Some(variable) {
                if let Some(g) = group.text(i) {
                    if !codes.contains(&g) {
                        codes.push(g);
                    }
                }
            }
        }
    }
    let mut warnings = Vec::new();
    let Some(region) = region else {
        let areas = codes
            .into_iter()
            .map(|code| Area { code, region: None })
            .collect();
        return Ok((areas, warnings));
    };
    let (a, r) = (data.require(variable)?, data.require(region)?);
    // Respondents per (area, region): one pass over the responses.
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for i in 0..data.nrows() {
        if let (Some(x), Some(y)) = (a.text(i), r.text(i)) {
            *counts.entry(x).or_default().entry(y).or_default() += 1;
        }
    }
    let areas = codes
        .into_iter()
        .map(|code| {
            let regions = counts.get(&code);
            let region = regions.and_then(|m| {
                // The most respondents; ties to the smaller code, for a stable choice.
                m.iter()
                    .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
                    .map(|(k, _)| k.clone())
            });
            if let (Some(m), Some(chosen)) = (regions, &region) {
                if m.len() > 1 {
                    warnings.push(format!(
                        "area {code}: its respondents lie in {} regions ({}); its outputs show region {chosen}",
                        m.len(),
                        m.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            Area { code, region }
        })
        .collect();
    Ok((areas, warnings))
}

/// A file name for an area code: letters, digits, `-`, `_` and `.` kept, anything else `_`.
pub fn file_name(code: &str) -> String {
    let name: String = code
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

impl Ctx<'_> {
    /// Writes every area's workbook and drafts into `SURVEY/areas/`; returns how many areas.
    pub(super) fn area_outputs(
        &mut self,
        spec: &AreasSpec,
        base: &Base,
        tables: &Tables,
        data: &Table,
    ) -> Result<usize> {
        let variable = spec.variable.get_ref();
        let region = spec.region.as_ref().map(|r| r.get_ref().as_str());
        let (areas, warnings) = areas(&tables.estimates, variable, data, region)?;
        self.warn(warnings);
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut jobs = Vec::new();
        for area in &areas {
            let name = file_name(&area.code);
            if let Some(other) = names.insert(name.clone(), area.code.clone()) {
                return Err(Error::Usage(format!(
                    "{variable}: the areas `{other}` and `{}` would share the file name `{name}`; recode one of them",
                    area.code
                )));
            }
            let focus = Focus {
                by: variable.clone(),
                group: area.code.clone(),
                parent: match (region, &area.region) {
                    (Some(v), Some(c)) => Some((v.to_string(), c.clone())),
                    _ => None,
                },
            };
            let stem = &self.name;
            jobs.push((focus, format!("{stem}/areas/{name}/{stem}-{name}")));
        }
        // Areas are independent: rendered in parallel, written in order.
        let this: &Self = self;
        let rendered: Vec<Vec<(String, Vec<u8>)>> = jobs
            .par_iter()
            .map(|(focus, rel)| {
                let cut = crate::output::publish::cut(tables, focus);
                this.render(base, &cut, Some(focus), rel)
            })
            .collect::<Result<_>>()?;
        for (path, bytes) in rendered.into_iter().flatten() {
            self.stage.write(&path, bytes)?;
        }
        Ok(areas.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    #[test]
    fn each_area_takes_the_region_most_of_its_respondents_live_in() {
        let estimates = Table::from_columns(vec![
            Column::cat_from_strings("by", &[Some(""), Some("area"), Some("area"), Some("area")]),
            Column::cat_from_strings("group", &[Some(""), Some("2"), Some("1"), Some("2")]),
        ])
        .unwrap();
        let data = Table::from_columns(vec![
            Column::num("area", vec![1.0, 1.0, 2.0, 2.0, 2.0]),
            Column::num("region", vec![7.0, 7.0, 4.0, 5.0, 5.0]),
        ])
        .unwrap();
        let (found, warnings) = areas(&estimates, "area", &data, Some("region")).unwrap();
        assert_eq!(
            found,
            vec![
                Area {
                    code: "2".into(),
                    region: Some("5".into())
                },
                Area {
                    code: "1".into(),
                    region: Some("7".into())
                },
            ]
        );
        assert_eq!(
            warnings,
            vec!["area 2: its respondents lie in 2 regions (4, 5); its outputs show region 5"]
        );
        let (none, _) = areas(&estimates, "area", &data, None).unwrap();
        assert_eq!(none[0].region, None);
    }

    #[test]
    fn file_names_keep_codes_readable_and_safe() {
        assert_eq!(file_name("091"), "091");
        assert_eq!(file_name("Uusimaa/Itä"), "Uusimaa_Itä");
        assert_eq!(file_name("../x"), "_.._x");
        assert_eq!(file_name(""), "_");
    }
}
