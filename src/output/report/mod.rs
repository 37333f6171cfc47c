//! Report drafts (`tasa report -o FILE.md|FILE.html`): the tidy results arranged by the
//! instrument's themes, per indicator its sentences ([`sentences`]), a table per breakdown and
//! (in HTML) an inline SVG chart ([`svg`]), then the methods; rendered with templates
//! ([`render`]) embedded in the binary or taken from `--templates DIR`.
//!
//! Everything shown is formatted here, in the report's language (decimal comma and `12,3 %`
//! in Finnish and Swedish, `12.3%` in English), so templates only place text.

pub mod render;
pub mod sentences;
pub mod svg;

use super::labels::Labeller;
use super::Cells;
use crate::table::Table;
use serde::Serialize;

/// The whole draft, as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub lang: String,
    pub title: String,
    pub subtitle: String,
    pub generated: String,
    pub words: Words,
    pub sections: Vec<Section>,
    pub methods: Vec<Topic>,
    pub notes: Vec<String>,
}

/// Headings and column names in the report's language.
#[derive(Debug, Clone, Serialize)]
pub struct Words {
    pub contents: String,
    pub methods: String,
    pub group: String,
    pub estimate: String,
    pub ci: String,
    pub n: String,
    pub flag: String,
    pub draft_note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub topic: String,
    pub text: String,
}

/// A theme of the instrument.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub indicators: Vec<IndicatorView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorView {
    pub id: String,
    pub label: String,
    pub sentences: Vec<String>,
    pub tables: Vec<TableView>,
    /// Inline SVG (already escaped); empty when nothing can be drawn.
    pub chart: String,
}

/// One breakdown of an indicator (the whole population first, with an empty `by`).
#[derive(Debug, Clone, Serialize)]
pub struct TableView {
    pub by: String,
    pub rows: Vec<RowView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    pub group: String,
    pub estimate: String,
    pub ci: String,
    pub n: String,
    pub flag: String,
}

/// A publication about one unit (an employment area) beside the level above it (its region)
/// and the whole population: the tables keep those rows, and the draft's sentences and tables
/// speak of the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus {
    /// The unit's variable and code (e.g. `area`, `12`).
    pub by: String,
    pub group: String,
    /// The level above: its variable and code (e.g. `region`, `1`).
    pub parent: Option<(String, String)>,
}

/// Where a row of an estimates table sits relative to a [`Focus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Unit,
    Parent,
    Whole,
}

impl Focus {
    /// Whether a row of a tidy table (its `by` and `group`) belongs in the unit's
    /// publication: the whole population's rows; rows by the unit's (or parent's) variable,
    /// alone or first in a crossing (gaps inside an area: `area*origin_group`, group `12*2`
    /// or `12`), only for the unit (or parent) itself; and other breakdowns (the whole
    /// population's groups) only with `breakdowns` (the national gaps beside the area's).
    pub fn keeps(&self, by: &str, group: &str, breakdowns: bool) -> bool {
        if by.is_empty() {
            return true;
        }
        let first = by.split('*').next().unwrap_or_default();
        let of = |code: &str| {
            group == code
                || group
                    .strip_prefix(code)
                    .is_some_and(|rest| rest.starts_with('*'))
        };
        if first == self.by {
            return of(&self.group);
        }
        match &self.parent {
            Some((var, code)) if first == var => of(code),
            _ => breakdowns,
        }
    }

    /// The level of an estimates row: the unit's, the parent's or the whole population's.
    pub fn level(&self, by: &str, group: &str) -> Option<Level> {
        if by.is_empty() {
            Some(Level::Whole)
        } else if by == self.by && group == self.group {
            Some(Level::Unit)
        } else {
            match &self.parent {
                Some((v, c)) if by == v && group == c => Some(Level::Parent),
                _ => None,
            }
        }
    }

    /// The unit's name with its variable's label, e.g. `Employment area: Helsinki`.
    pub fn name(&self, labels: &Labeller) -> String {
        format!(
            "{}: {}",
            labels.by(&self.by),
            labels.group(&self.by, &self.group)
        )
    }

    /// A row's label in the unit's tables.
    fn row_label(&self, level: Level, labels: &Labeller) -> String {
        match (level, &self.parent) {
            (Level::Unit, _) => self.name(labels),
            (Level::Parent, Some((v, c))) => {
                format!("{}: {}", labels.by(v), labels.group(v, c))
            }
            _ => labels
                .lang
                .pick("Koko maa", "Hela landet", "Whole country")
                .to_string(),
        }
    }
}

/// What a draft is made of.
pub struct Inputs<'a> {
    pub estimates: &'a Table,
    pub gaps: Option<&'a Table>,
    pub compare: Option<&'a Table>,
    /// Whether the compare table is an earlier wave (else another survey).
    pub compare_is_wave: bool,
    /// A comparison survey's table beside an earlier wave's in `compare`.
    pub comparison: Option<&'a Table>,
    pub level: f64,
    /// The smallest published n (for the footnote of `..`).
    pub min_cell: usize,
    pub methods: Vec<(String, String)>,
    pub generated: String,
    /// A draft about one area: its value beside its region's and the whole country's.
    pub focus: Option<&'a Focus>,
}

/// Builds the draft from the tidy tables.
pub fn draft(inputs: &Inputs, labels: &Labeller) -> Draft {
    let lang = labels.lang;
    let est = Cells(inputs.estimates);
    // Indicators in table order, each with its rows (per-category rows are in the workbook).
    let mut order: Vec<String> = Vec::new();
    for i in est.rows() {
        let id = est.text("indicator", i);
        if est.text("category", i).is_empty() && !order.contains(&id) {
            order.push(id);
        }
    }
    let instrument = labels.instrument;
    let theme_of = |id: &str| -> Option<String> {
        instrument
            .and_then(|inst| inst.indicators.get(id))
            .and_then(|ind| ind.theme.clone())
    };
    // Sections: the instrument's themes in order, then indicators without one.
    let mut themes: Vec<(Option<String>, String)> = Vec::new();
    if let Some(inst) = instrument {
        for (id, label) in &inst.themes {
            let title = label
                .get(lang.code())
                .or_else(|| label.get("en"))
                .cloned()
                .unwrap_or_else(|| id.clone());
            themes.push((Some(id.clone()), title));
        }
    }
    themes.push((None, lang.pick("Muut", "Övriga", "Other").to_string()));
    let mut sections = Vec::new();
    for (theme, title) in themes {
        let indicators: Vec<IndicatorView> = order
            .iter()
            .filter(|id| theme_of(id) == theme)
            .map(|id| indicator(id, inputs, labels))
            .collect();
        if !indicators.is_empty() {
            sections.push(Section {
                id: theme.unwrap_or_else(|| "other".into()),
                title,
                indicators,
            });
        }
    }
    let title = instrument
        .and_then(|i| {
            i.title
                .get(lang.code())
                .or_else(|| i.title.get("en"))
                .cloned()
        })
        .unwrap_or_else(|| lang.pick("Tulokset", "Resultat", "Results").to_string());
    Draft {
        lang: lang.code().to_string(),
        title,
        subtitle: {
            let draft = lang.pick("Raporttiluonnos", "Rapportutkast", "Report draft");
            match inputs.focus {
                Some(f) => format!("{draft} — {}", f.name(labels)),
                None => draft.to_string(),
            }
        },
        generated: inputs.generated.clone(),
        words: Words {
            contents: lang.pick("Sisältö", "Innehåll", "Contents").into(),
            methods: lang.pick("Menetelmät", "Metoder", "Methods").into(),
            group: lang.header("group"),
            estimate: lang.header("estimate"),
            ci: format!(
                "{} {}",
                lang.number(100.0 * inputs.level, 0),
                lang.pick("%:n luottamusväli", "% konfidensintervall", "% confidence interval")
            ),
            n: "n".into(),
            flag: lang.header("flag"),
            draft_note: lang
                .pick(
                    "Luonnos: tekstit on tuotettu automaattisesti tuloksista; tarkista ja muokkaa ennen julkaisua.",
                    "Utkast: texterna har skapats automatiskt ur resultaten; granska och redigera före publicering.",
                    "Draft: the text was generated from the results; review and edit before publishing.",
                )
                .into(),
        },
        sections,
        methods: inputs
            .methods
            .iter()
            .map(|(t, x)| Topic {
                topic: t.clone(),
                text: x.clone(),
            })
            .collect(),
        notes: vec![
            lang.suppressed_note(inputs.min_cell),
            lang.low_precision_note().to_string(),
        ],
    }
}

/// A value as drafts show it: a percentage for proportions, else two decimals.
fn shown_value(lang: crate::output::locale::Lang, percent: bool, x: f64) -> String {
    if percent {
        lang.percent(x)
    } else {
        lang.number(x, 2)
    }
}

/// An interval as drafts show it; empty when a limit is missing.
fn shown_interval(lang: crate::output::locale::Lang, percent: bool, lo: f64, hi: f64) -> String {
    if percent {
        lang.percent_range(lo, hi)
    } else if lo.is_finite() && hi.is_finite() {
        format!(
            "{}–{}",
            shown_value(lang, false, lo),
            shown_value(lang, false, hi)
        )
    } else {
        String::new()
    }
}

/// One indicator: its sentences, tables and chart.
fn indicator(id: &str, inputs: &Inputs, labels: &Labeller) -> IndicatorView {
    let lang = labels.lang;
    let est = Cells(inputs.estimates);
    let mut rows: Vec<usize> = est
        .rows()
        .filter(|&i| est.text("indicator", i) == id && est.text("category", i).is_empty())
        .collect();
    // About one area: the area, its region and the whole country, in that order, as one table.
    let level_of = |i: usize| {
        inputs
            .focus
            .and_then(|f| f.level(&est.text("by", i), &est.text("group", i)))
    };
    if inputs.focus.is_some() {
        rows.retain(|&i| level_of(i).is_some());
        rows.sort_by_key(|&i| level_of(i));
    }
    let focus_heading = lang.pick(
        "Alue, maakunta ja koko maa",
        "Området, landskapet och hela landet",
        "The area, its region and the whole country",
    );
    let percent = rows
        .first()
        .is_some_and(|&i| est.text("stat", i) == "proportion");
    let value = |x: f64| shown_value(lang, percent, x);
    let mut tables: Vec<TableView> = Vec::new();
    let mut points: Vec<svg::Point> = Vec::new();
    for &i in &rows {
        let by = est.text("by", i);
        let flag = est.text("flag", i);
        let withheld = flag == "suppressed";
        let group = match (inputs.focus, level_of(i)) {
            (Some(f), Some(level)) => f.row_label(level, labels),
            _ if by.is_empty() => lang.pick("Kaikki", "Alla", "All").to_string(),
            _ => labels.group(&by, &est.text("group", i)),
        };
        let (e, lo, hi) = (
            est.num("estimate", i),
            est.num("ci_low", i),
            est.num("ci_high", i),
        );
        let row = RowView {
            group: group.clone(),
            estimate: if withheld { "..".into() } else { value(e) },
            ci: if withheld {
                "..".into()
            } else {
                shown_interval(lang, percent, lo, hi)
            },
            n: lang.number(est.num("n", i), 0),
            flag: match flag.as_str() {
                "low_precision" => format!("{} *", lang.flag(&flag)),
                _ => lang.flag(&flag),
            },
        };
        let by_label = match inputs.focus {
            Some(_) => focus_heading.to_string(),
            None => labels.by(&by),
        };
        match tables.iter_mut().find(|t| t.by == by_label) {
            Some(t) => t.rows.push(row),
            None => tables.push(TableView {
                by: by_label.clone(),
                rows: vec![row],
            }),
        }
        if !withheld && e.is_finite() {
            let heading_done = points.iter().any(|p| p.heading && p.label == by_label);
            if !by.is_empty() && !heading_done && inputs.focus.is_none() {
                points.push(svg::Point::heading(by_label.clone()));
            }
            points.push(svg::Point {
                label: group,
                estimate: e,
                low: lo,
                high: hi,
                overall: match inputs.focus {
                    Some(_) => level_of(i) == Some(Level::Unit),
                    None => by.is_empty(),
                },
                heading: false,
            });
        }
    }
    let label = labels.indicator(id);
    let chart = if points.is_empty() {
        String::new()
    } else {
        svg::chart(&points, percent, lang, &label)
    };
    let sentences = sentences::for_indicator(id, &label, inputs, labels, percent);
    IndicatorView {
        id: id.to_string(),
        label,
        sentences,
        tables,
        chart,
    }
}
