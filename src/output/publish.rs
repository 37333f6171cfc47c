//! Publishing tidy results, shared by `tasa report` and `tasa run`: the tidy tables read back
//! and checked, the key indicators, the methods text in the chosen language, and the bytes of
//! a workbook ([`xlsx`]) or a report draft ([`report`]).

use crate::error::Location;
use crate::instrument::Instrument;
use crate::output::labels::Labeller;
use crate::output::locale::Lang;
use crate::output::manifest::{self, Input};
use crate::output::report::{self, render, Focus};
use crate::output::xlsx::sheets::{required, Kind};
use crate::output::xlsx::{self, Settings, Tables};
use crate::table::read::{read_table, ReadOptions};
use crate::table::Table;
use crate::{Error, Result};
use std::path::Path;

/// What a publication is made of besides the tables.
pub struct Publication<'a> {
    pub tables: &'a Tables,
    pub instrument: Option<&'a Instrument>,
    pub lang: Lang,
    /// Indicators that get charts; empty: the first indicator of each theme.
    pub key: &'a [String],
    /// The interval method named in the methods text (default: the estimate defaults).
    pub ci: Option<String>,
    pub level: f64,
    /// The survey's smallest published n and the register's smallest base.
    pub min_cell: usize,
    pub min_base: f64,
    /// A design file and weighting diagnostics (JSON) for the methods text.
    pub design: Option<&'a Path>,
    pub diagnostics: Option<&'a Path>,
    /// A folder of templates replacing the embedded ones.
    pub templates: Option<&'a Path>,
    /// Whether the compare table is an earlier wave (else another survey).
    pub compare_is_wave: bool,
    pub inputs: Vec<Input>,
    pub command: String,
    pub time: String,
    /// A publication about one area (its tables already cut to it; see [`Focus::keeps`]).
    pub focus: Option<&'a Focus>,
}

/// What to make: the workbook, or a report draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Workbook,
    Draft(render::Kind),
}

impl Product {
    /// From the extension of the output: `.xlsx`, `.md`, `.html`.
    pub fn of(path: &Path) -> Result<Product> {
        let ext = crate::output::extension(path);
        match ext.as_str() {
            "xlsx" => Ok(Product::Workbook),
            "md" => Ok(Product::Draft(render::Kind::Markdown)),
            "html" | "htm" => Ok(Product::Draft(render::Kind::Html)),
            _ => Err(Error::Usage(format!(
                "-o {}: give a workbook (.xlsx) or a report draft (.md, .html)",
                path.display()
            ))),
        }
    }
}

/// The bytes of the product and a short description of what it holds.
pub fn publish(p: &Publication, product: Product) -> Result<(Vec<u8>, String)> {
    let tables = p.tables;
    let key = if p.key.is_empty() {
        default_key(&tables.estimates, p.instrument)
    } else {
        let present = indicators(&tables.estimates);
        if let Some(k) = p.key.iter().find(|k| !present.contains(k)) {
            return Err(Error::Usage(format!(
                "--key {k}: the estimates have no such indicator; they have {}",
                present.join(", ")
            )));
        }
        p.key.to_vec()
    };
    let settings = Settings {
        labels: Labeller::new(p.instrument, p.lang),
        min_cell: p.min_cell,
        register_min_base: p.min_base,
        key,
        methods: methods(p)?,
        inputs: p.inputs.clone(),
        tool: manifest::tool(),
        command: p.command.clone(),
        time: p.time.clone(),
    };
    if let Product::Draft(kind) = product {
        let inputs = report::Inputs {
            estimates: &tables.estimates,
            gaps: tables.gaps.as_ref(),
            compare: tables.compare.as_ref(),
            compare_is_wave: p.compare_is_wave,
            comparison: tables.comparison.as_ref(),
            level: p.level,
            min_cell: p.min_cell,
            methods: settings.methods.clone(),
            generated: settings.time.chars().take(10).collect(),
            focus: p.focus,
        };
        let draft = report::draft(&inputs, &settings.labels);
        let text = render::render(&draft, kind, p.templates)?;
        let count: usize = draft.sections.iter().map(|s| s.indicators.len()).sum();
        let what = format!(
            "{} sections, {count} indicators, in {}",
            draft.sections.len(),
            p.lang.code()
        );
        return Ok((text.into_bytes(), what));
    }
    let bytes = xlsx::workbook(tables, &settings)?;
    let what = format!(
        "{} estimates{}{}{}; charts for {} key indicators",
        tables.estimates.nrows(),
        tables
            .gaps
            .as_ref()
            .map_or(String::new(), |t| format!(", {} gaps", t.nrows())),
        tables
            .compare
            .as_ref()
            .map_or(String::new(), |t| format!(", {} comparisons", t.nrows())),
        tables
            .joined
            .as_ref()
            .map_or(String::new(), |t| format!(", {} register rows", t.nrows())),
        settings.key.len()
    );
    Ok((bytes, what))
}

/// The tables of a publication about one area: every table's rows that [`Focus::keeps`], in
/// their order — the whole population's, the area's and its region's rows, and of the gaps
/// also the national ones by dimension beside those inside the area and region.
pub fn cut(tables: &Tables, focus: &Focus) -> Tables {
    let part = |t: &Table, breakdowns: bool| {
        let (by, group) = (t.column("by"), t.column("group"));
        let rows: Vec<usize> = (0..t.nrows())
            .filter(|&i| {
                let text = |c: Option<&crate::table::Column>| {
                    c.and_then(|c| c.text(i)).unwrap_or_default()
                };
                focus.keeps(&text(by), &text(group), breakdowns)
            })
            .collect();
        t.take_rows(&rows)
    };
    Tables {
        estimates: part(&tables.estimates, false),
        gaps: tables.gaps.as_ref().map(|t| part(t, true)),
        compare: tables.compare.as_ref().map(|t| part(t, false)),
        comparison: tables.comparison.as_ref().map(|t| part(t, false)),
        joined: tables.joined.as_ref().map(|t| part(t, false)),
    }
}

/// Reads a tidy table and checks it has its command's columns.
pub fn read_checked(path: &Path, kind: Kind, options: &ReadOptions) -> Result<Table> {
    let table = read_table(path, options)?;
    let command = match kind {
        Kind::Estimates => "estimate",
        Kind::Gaps => "gaps",
        Kind::Compare => "compare",
        Kind::Register => "join",
    };
    if let Some(missing) = required(kind).iter().find(|c| table.column(c).is_none()) {
        return Err(Error::input(
            Location::file(path).column(*missing),
            None,
            format!(
                "not a tidy table from `tasa {command}`: the column `{missing}` is missing (its columns are {})",
                table.names().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if kind == Kind::Estimates && table.nrows() == 0 {
        return Err(Error::input(
            Location::file(path),
            None,
            "the estimates table has its columns but no rows; a report needs at least one estimate from `tasa estimate`",
        ));
    }
    Ok(table)
}

pub fn optional(path: Option<&Path>, kind: Kind, options: &ReadOptions) -> Result<Option<Table>> {
    path.map(|p| read_checked(p, kind, options)).transpose()
}

/// The indicator ids of a table, in order of first appearance.
fn indicators(table: &Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(c) = table.column("indicator") {
        for i in 0..table.nrows() {
            if let Some(id) = c.text(i) {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    out
}

/// The first estimated indicator of each theme; without an instrument, every indicator.
fn default_key(estimates: &Table, instrument: Option<&Instrument>) -> Vec<String> {
    let present = indicators(estimates);
    let Some(inst) = instrument else {
        return present;
    };
    let mut themes: Vec<Option<String>> = Vec::new();
    let mut key = Vec::new();
    for (id, ind) in &inst.indicators {
        if present.contains(id) && !themes.contains(&ind.theme) {
            themes.push(ind.theme.clone());
            key.push(id.clone());
        }
    }
    // Ad-hoc estimands (not in the instrument) are key too.
    key.extend(
        present
            .into_iter()
            .filter(|id| !inst.indicators.contains_key(id)),
    );
    key
}

/// The methods sheet: (topic, text) in the report's language.
fn methods(p: &Publication) -> Result<Vec<(String, String)>> {
    let (lang, tables, instrument) = (p.lang, p.tables, p.instrument);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |topic: &str, text: String| out.push((topic.to_string(), text));
    if let Some(f) = p.focus {
        let labels = Labeller::new(instrument, lang);
        let parent = f
            .parent
            .as_ref()
            .map(|(v, c)| format!("{}: {}", labels.by(v), labels.group(v, c)));
        add(
            lang.pick("Alue", "Område", "Area"),
            match lang {
                Lang::Fi => format!("{}{}. Alueen estimaatit ovat maakunnan ja koko maan estimaattien rinnalla; erot on laskettu alueen sisällä (jos ajossa laskettiin alueittaiset erot). Samat salaussäännöt kuin koko aineistossa: pienen alueen luvut näkyvät merkinnällä ”..”.", f.name(&labels), parent.map(|p| format!(" ({p})")).unwrap_or_default()),
                Lang::Sv => format!("{}{}. Områdets skattningar står bredvid landskapets och hela landets; skillnaderna är beräknade inom området (om körningen beräknade skillnader per område). Samma regler för röjandeskydd som för hela materialet: ett litet områdes tal visas som ”..”.", f.name(&labels), parent.map(|p| format!(" ({p})")).unwrap_or_default()),
                Lang::En => format!("{}{}. The area's estimates stand beside its region's and the whole country's; gaps are computed inside the area (when the run computed gaps per area). The same suppression rules as for the whole survey: a small area's numbers show as \"..\".", f.name(&labels), parent.map(|p| format!(" ({p})")).unwrap_or_default()),
            },
        );
    }
    if let Some(inst) = instrument {
        let title = inst
            .title
            .get(lang.code())
            .or_else(|| inst.title.get("en"))
            .cloned()
            .unwrap_or_default();
        add(
            lang.pick("Kyselylomake", "Frågeformulär", "Instrument"),
            format!(
                "{} — {title} ({} {})",
                inst.id,
                lang.pick("versio", "version", "version"),
                inst.version
            ),
        );
    }
    add(
        lang.pick("Estimointi", "Skattning", "Estimation"),
        lang.pick(
            "Asetelmaperusteiset estimaatit: summat Horvitz–Thompson-estimaattoreina, keskiarvot ja osuudet painotettuina suhde-estimaattoreina (Hájek). Varianssit Taylorin linearisoinnilla (perimmäisten ryvästen approksimaatio, ositus ja äärellisen perusjoukon korjaus) tai toistopainoilla, kuten R:n survey-paketissa; osajoukot estimoidaan koko asetelmassa.",
            "Designbaserade skattningar: totaler med Horvitz–Thompson, medelvärden och andelar som viktade kvotskattningar (Hájek). Varianser med Taylorlinearisering (ultimate cluster-approximation, stratifiering och ändlighetskorrektion) eller replikatvikter, som i R:s survey-paket; delpopulationer skattas i hela designen.",
            "Design-based estimates: Horvitz–Thompson totals, weighted ratio (Hájek) means and proportions. Variances by Taylor linearisation (ultimate-cluster approximation, stratification and finite population corrections) or replicate weights, as in R's survey package; domains are estimated within the full design.",
        )
        .to_string(),
    );
    let df = df_range(&tables.estimates);
    let ci = p.ci.clone().unwrap_or_else(|| {
        lang.pick(
            "osuuksille logit-väli, muille Waldin väli",
            "logitintervall för andelar, Waldintervall för övriga",
            "logit intervals for proportions, Wald intervals otherwise",
        )
        .to_string()
    });
    add(
        lang.pick(
            "Luottamusvälit",
            "Konfidensintervall",
            "Confidence intervals",
        ),
        match df {
            Some((lo, hi)) => format!(
                "{ci}; {} {} {}–{}).",
                lang.pick(
                    "t-jakauma asetelman vapausastein",
                    "t-fördelning med designens frihetsgrader",
                    "t distribution with the design's degrees of freedom"
                ),
                lang.pick("(havaittu väli", "(observerat intervall", "(observed range"),
                crate::table::format_number(lo),
                crate::table::format_number(hi)
            ),
            None => format!(
                "{ci}; {}.",
                lang.pick("normaalijakauma", "normalfördelning", "normal distribution")
            ),
        },
    );
    add(
        lang.pick(
            "Salaus ja luotettavuus",
            "Röjandeskydd och tillförlitlighet",
            "Suppression and reliability",
        ),
        format!(
            "{} {}",
            lang.suppressed_note(p.min_cell),
            lang.low_precision_note()
        ),
    );
    if tables.gaps.is_some() {
        add(
            lang.pick("Erot", "Skillnader", "Gaps"),
            lang.pick(
                "Ryhmien erot ja suhteet vertailuryhmään sekä epätasa-arvon tiivistysmitat (WHO HEAT) asetelmaperusteisin luottamusvälein, jotka ottavat huomioon ryhmien kovarianssin; riippumattomuutta testataan Rao–Scott-korjatuin testein; p-arvot on korjattu monivertailun vuoksi.",
                "Skillnader och kvoter mot referensgruppen samt sammanfattande ojämlikhetsmått (WHO HEAT) med designbaserade intervall som beaktar gruppernas kovarians; oberoende testas med Rao–Scott-korrigerade test; p-värdena är justerade för multipla jämförelser.",
                "Differences and ratios against the reference group and summary measures of inequality (WHO HEAT), with design-based intervals that account for the covariance of the groups; independence tested with Rao–Scott corrected tests; p-values adjusted for multiple comparisons.",
            )
            .to_string(),
        );
    }
    if tables.compare.is_some() {
        add(
            lang.pick("Vertailu", "Jämförelse", "Comparison"),
            lang.pick(
                "Kaksi riippumatonta otosta: ero A − B, keskivirhe √(SE_A² + SE_B²), Welchin–Satterthwaiten vapausasteet.",
                "Två oberoende urval: skillnad A − B, medelfel √(SE_A² + SE_B²), Welch–Satterthwaites frihetsgrader.",
                "Two independent samples: difference A − B, standard error √(SE_A² + SE_B²), Welch–Satterthwaite degrees of freedom.",
            )
            .to_string(),
        );
    }
    if tables.joined.is_some() {
        let base = crate::table::format_number(p.min_base);
        add(
            lang.pick("Rekisteritiedot", "Registeruppgifter", "Register metrics"),
            match lang {
                Lang::Fi => format!("Rekisterimittarit yhdistetty alueittain: lukumäärät summattu, osuudet ja suhteet laskettu uudelleen osoittajista ja nimittäjistä; osuuksille tarkka binomiväli (Clopper–Pearson), intensiteeteille tarkka Poisson-väli (Garwood). Salattu (..): alle {base} henkilön lukumäärät ja niihin nojaavat tai ne paljastavat osuudet ja intensiteetit."),
                Lang::Sv => format!("Registermått sammanslagna per område: antal summerade, andelar och kvoter omräknade från täljare och nämnare; exakt binomialintervall för andelar (Clopper–Pearson), exakt Poissonintervall för intensiteter (Garwood). Undertryckt (..): antal under {base} personer och andelar och intensiteter som vilar på eller röjer sådana antal."),
                Lang::En => format!("Register metrics combined by area: counts summed, shares and ratios recomputed from numerators and denominators; exact binomial intervals for shares (Clopper–Pearson), exact Poisson intervals for rates (Garwood). Withheld (..): counts below {base} persons, and shares and rates that rest on or would reveal such counts."),
            },
        );
    }
    if let Some(p) = p.design {
        let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        add(
            lang.pick("Otanta-asetelma", "Urvalsdesign", "Sampling design"),
            lines.join("; "),
        );
    }
    if let Some(p) = p.diagnostics {
        let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Location::file(p).line(e.line()),
                None,
                format!("expected the JSON of `tasa weight --report`: {e}"),
            )
        })?;
        let mut lines = Vec::new();
        flatten("", &value, &mut lines);
        add(
            lang.pick("Painotus", "Viktning", "Weighting"),
            lines.join("; "),
        );
    }
    Ok(out)
}

/// The smallest and largest df of the estimates, if any are finite.
fn df_range(estimates: &Table) -> Option<(f64, f64)> {
    let v = estimates.column("df")?.as_num()?;
    let finite = v.iter().copied().filter(|x| x.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    lo.is_finite().then_some((lo, hi))
}

/// `key = value` lines of a JSON document's scalars (arrays shortened to their length).
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items)
            if items.iter().all(|v| !v.is_object() && !v.is_array()) && items.len() <= 6 =>
        {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            out.push(format!("{prefix} = [{}]", parts.join(", ")));
        }
        Value::Array(items) => out.push(format!("{prefix}: {} items", items.len())),
        v => out.push(format!("{prefix} = {}", scalar(v))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
