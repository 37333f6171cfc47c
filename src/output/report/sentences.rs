//! The generated sentences of a report draft, per indicator: the overall value with its
//! interval; per dimension of the gaps table, the groups that differ significantly from the
//! reference after the p-value adjustment (or that none do); and, with a compare table, the
//! change since the previous wave (or the difference from the comparison survey). Numbers are formatted for the language.

use super::{shown_interval, shown_value, Focus, Inputs, Level};
use crate::output::labels::Labeller;
use crate::output::locale::Lang;
use crate::output::Cells;

/// The sentences about one indicator.
pub fn for_indicator(
    id: &str,
    label: &str,
    inputs: &Inputs,
    labels: &Labeller,
    percent: bool,
) -> Vec<String> {
    let lang = labels.lang;
    let level = lang.number(100.0 * inputs.level, 0);
    let value = |x: f64| shown_value(lang, percent, x);
    // Differences of proportions are in percentage points.
    let gap = |x: f64| {
        if percent {
            lang.points(x)
        } else {
            lang.signed(x, 2)
        }
    };
    let gap_range = |lo: f64, hi: f64| {
        if percent {
            lang.points_range(lo, hi)
        } else {
            format!("{}…{}", lang.signed(lo, 2), lang.signed(hi, 2))
        }
    };
    let alpha = 1.0 - inputs.level;
    let mut out = Vec::new();

    let est = Cells(inputs.estimates);
    // In a draft about one area, the headline is the area's value beside the levels above.
    let find = |level: Level| {
        est.rows().find(|&i| {
            est.text("indicator", i) == id
                && est.text("category", i).is_empty()
                && inputs.focus.is_some_and(|f| {
                    f.level(&est.text("by", i), &est.text("group", i)) == Some(level)
                })
        })
    };
    if let Some(f) = inputs.focus {
        if let Some(i) = find(Level::Unit) {
            out.push(focus_headline(f, i, find, label, inputs, labels, percent));
        }
    } else if let Some(i) = est.rows().find(|&i| {
        est.text("indicator", i) == id
            && est.text("by", i).is_empty()
            && est.text("category", i).is_empty()
    }) {
        let (e, lo, hi) = (
            est.num("estimate", i),
            est.num("ci_low", i),
            est.num("ci_high", i),
        );
        if est.text("flag", i) == "suppressed" || !e.is_finite() {
            out.push(match lang {
                Lang::Fi => format!("{label}: koko joukon arvo on salattu tai puuttuu (ks. huomautukset)."),
                Lang::Sv => format!("{label}: värdet för hela gruppen är undertryckt eller saknas (se anmärkningarna)."),
                Lang::En => format!("{label}: the overall value is withheld or missing (see the notes)."),
            });
        } else {
            let ci = shown_interval(lang, percent, lo, hi);
            out.push(match lang {
                Lang::Fi => format!(
                    "{label}: koko joukossa {} ({level} %:n luottamusväli {ci}).",
                    value(e)
                ),
                Lang::Sv => format!(
                    "{label}: {} i hela gruppen ({level} % konfidensintervall {ci}).",
                    value(e)
                ),
                Lang::En => format!(
                    "{label}: {} overall ({level}% confidence interval {ci}).",
                    value(e)
                ),
            });
        }
    }

    if let Some(gaps) = inputs.gaps {
        let g = Cells(gaps);
        // A row's dimension, group and reference: as written for the whole population; in a
        // draft about one area, the gaps inside the area with the area taken off the front.
        let parts = |i: usize| -> Option<(String, String, String)> {
            let (by, group, reference) =
                (g.text("by", i), g.text("group", i), g.text("reference", i));
            match inputs.focus {
                None => (!by.contains('*')).then_some((by, group, reference)),
                Some(f) => {
                    let strip = |x: &str, p: &str| {
                        x.strip_prefix(p)
                            .and_then(|r| r.strip_prefix('*'))
                            .map(str::to_string)
                    };
                    Some((
                        strip(&by, &f.by)?,
                        strip(&group, &f.group)?,
                        strip(&reference, &f.group).unwrap_or_default(),
                    ))
                }
            }
        };
        let rows: Vec<(usize, (String, String, String))> = g
            .rows()
            .filter(|&i| g.text("indicator", i) == id && g.text("measure", i) == "difference")
            .filter_map(|i| parts(i).map(|p| (i, p)))
            .filter(|(_, (_, group, _))| !group.is_empty())
            .collect();
        let mut dims: Vec<String> = Vec::new();
        for (_, (by, _, _)) in &rows {
            if !dims.contains(by) {
                dims.push(by.clone());
            }
        }
        for by in dims {
            let of_dim: Vec<&(usize, (String, String, String))> =
                rows.iter().filter(|(_, p)| p.0 == by).collect();
            let reference = labels.group(&by, &of_dim[0].1 .2);
            let dim = labels.by(&by);
            let significant: Vec<String> = of_dim
                .iter()
                .filter(|(i, _)| {
                    g.text("flag", *i) != "suppressed" && g.num("p_adjusted", *i) < alpha
                })
                .map(|(i, p)| format!("{} {}", labels.group(&by, &p.1), gap(g.num("estimate", *i))))
                .collect();
            let p = lang.number(alpha, 2);
            let all_withheld = of_dim
                .iter()
                .all(|(i, _)| g.text("flag", *i) == "suppressed");
            out.push(if all_withheld {
                match lang {
                    Lang::Fi => format!("{dim}: erot vertailuryhmään ({reference}) on salattu."),
                    Lang::Sv => format!("{dim}: skillnaderna mot referensgruppen ({reference}) är undertryckta."),
                    Lang::En => format!("{dim}: the gaps to the reference group ({reference}) are withheld."),
                }
            } else if significant.is_empty() {
                match lang {
                    Lang::Fi => format!("{dim}: mikään ryhmä ei eroa tilastollisesti merkitsevästi vertailuryhmästä ({reference})."),
                    Lang::Sv => format!("{dim}: ingen grupp skiljer sig statistiskt signifikant från referensgruppen ({reference})."),
                    Lang::En => format!("{dim}: no group differs significantly from the reference group ({reference})."),
                }
            } else {
                let list = significant.join(", ");
                match lang {
                    Lang::Fi => format!("{dim}: vertailuryhmästä ({reference}) eroavat tilastollisesti merkitsevästi (korjattu p < {p}) {list}."),
                    Lang::Sv => format!("{dim}: från referensgruppen ({reference}) skiljer sig statistiskt signifikant (justerat p < {p}) {list}."),
                    Lang::En => format!("{dim}: differing significantly from the reference group ({reference}) (adjusted p < {p}) are {list}."),
                }
            });
        }
    }

    // The previous wave's (or the comparison survey's) table, and a comparison survey's
    // beside a previous wave's.
    let tables = [
        inputs.compare.map(|t| (t, inputs.compare_is_wave)),
        inputs.comparison.map(|t| (t, false)),
    ];
    for (compare, is_wave) in tables.into_iter().flatten() {
        let c = Cells(compare);
        if let Some(i) = c.rows().find(|&i| {
            let (by, group) = (c.text("by", i), c.text("group", i));
            c.text("indicator", i) == id
                && c.text("category", i).is_empty()
                && match inputs.focus {
                    Some(f) => f.level(&by, &group) == Some(Level::Unit),
                    None => by.is_empty(),
                }
        }) {
            let d = c.num("difference", i);
            if c.text("flag", i) != "suppressed" && d.is_finite() {
                let (lo, hi) = (c.num("ci_low", i), c.num("ci_high", i));
                let significant = c.num("p_value", i) < alpha;
                let ci = gap_range(lo, hi);
                let verdict = match (lang, significant) {
                    (Lang::Fi, true) => "tilastollisesti merkitsevä",
                    (Lang::Fi, false) => "ei tilastollisesti merkitsevä",
                    (Lang::Sv, true) => "statistiskt signifikant",
                    (Lang::Sv, false) => "inte statistiskt signifikant",
                    (Lang::En, true) => "statistically significant",
                    (Lang::En, false) => "not statistically significant",
                };
                let d = gap(d);
                out.push(match (lang, is_wave) {
                    (Lang::Fi, true) => format!("Muutos edellisestä kierroksesta on {d} ({level} %:n luottamusväli {ci}), {verdict}."),
                    (Lang::Fi, false) => format!("Ero vertailuaineistoon (A − B) on {d} ({level} %:n luottamusväli {ci}), {verdict}."),
                    (Lang::Sv, true) => format!("Förändringen sedan föregående omgång är {d} ({level} % konfidensintervall {ci}), {verdict}."),
                    (Lang::Sv, false) => format!("Skillnaden mot jämförelsematerialet (A − B) är {d} ({level} % konfidensintervall {ci}), {verdict}."),
                    (Lang::En, true) => format!("The change since the previous wave is {d} ({level}% confidence interval {ci}), {verdict}."),
                    (Lang::En, false) => format!("The difference from the comparison survey (A − B) is {d} ({level}% confidence interval {ci}), {verdict}."),
                });
            }
        }
    }
    out
}

/// The headline of a draft about one area: the area's value with its interval, beside its
/// region's and the whole country's (`..` where withheld).
fn focus_headline(
    f: &Focus,
    i: usize,
    find: impl Fn(Level) -> Option<usize>,
    label: &str,
    inputs: &Inputs,
    labels: &Labeller,
    percent: bool,
) -> String {
    let lang = labels.lang;
    let value = |x: f64| shown_value(lang, percent, x);
    let est = Cells(inputs.estimates);
    let level = lang.number(100.0 * inputs.level, 0);
    let shown = |i: usize| {
        let e = est.num("estimate", i);
        if est.text("flag", i) == "suppressed" || !e.is_finite() {
            "..".to_string()
        } else {
            value(e)
        }
    };
    let mut beside = Vec::new();
    if let (Some((var, code)), Some(p)) = (&f.parent, find(Level::Parent)) {
        beside.push(format!("{} {}", labels.group(var, code), shown(p)));
    }
    if let Some(w) = find(Level::Whole) {
        let whole = lang.pick("koko maa", "hela landet", "whole country");
        beside.push(format!("{whole} {}", shown(w)));
    }
    let beside = beside.join(", ");
    let area = labels.group(&f.by, &f.group);
    let e = est.num("estimate", i);
    if est.text("flag", i) == "suppressed" || !e.is_finite() {
        return match lang {
            Lang::Fi => format!("{label}: {area} – arvo on salattu (liian vähän vastaajia tai liian epätarkka); {beside}."),
            Lang::Sv => format!("{label}: {area} – värdet är undertryckt (för få svarande eller för osäkert); {beside}."),
            Lang::En => format!("{label}: {area} – the value is withheld (too few respondents or too imprecise); {beside}."),
        };
    }
    let (lo, hi) = (est.num("ci_low", i), est.num("ci_high", i));
    let ci = shown_interval(lang, percent, lo, hi);
    match lang {
        Lang::Fi => format!(
            "{label}: {area} {} ({level} %:n luottamusväli {ci}); {beside}.",
            value(e)
        ),
        Lang::Sv => format!(
            "{label}: {area} {} ({level} % konfidensintervall {ci}); {beside}.",
            value(e)
        ),
        Lang::En => format!(
            "{label}: {area} {} ({level}% confidence interval {ci}); {beside}.",
            value(e)
        ),
    }
}
