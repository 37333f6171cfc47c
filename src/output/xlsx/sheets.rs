//! One worksheet per tidy table: labels in the chosen language, numbers as numbers with
//! percent or decimal formats (never rounded, only formatted), `..` where a value is withheld,
//! `*` beside low-precision values, footnotes under the table, a frozen header, an autofilter
//! and column widths that fit. Text is always written as text, so a label that begins with `=`
//! stays a label and never becomes a formula.

use super::XlsxResult;
use crate::instrument::spec::IndicatorKind;
use crate::output::labels::Labeller;
use crate::table::{ColumnData, Table};
use rust_xlsxwriter::{Format, Worksheet};

/// The widest a column gets, in characters.
const MAX_TEXT_WIDTH: usize = 60;

/// What a sheet holds, which decides its labels and formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Estimates,
    Gaps,
    Compare,
    Register,
}

/// How a column's numbers look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Percent for proportions (and differences of them), else decimals.
    Value,
    Count,
    Decimal,
    P,
    Df,
}

/// The formats a sheet uses.
pub struct Formats {
    header: Format,
    percent: Format,
    decimal: Format,
    count: Format,
    p: Format,
    df: Format,
    note: Format,
    withheld: Format,
}

impl Formats {
    pub fn new() -> Formats {
        Formats {
            header: Format::new().set_bold().set_text_wrap(),
            percent: Format::new().set_num_format("0.0%"),
            decimal: Format::new().set_num_format("#,##0.000"),
            count: Format::new().set_num_format("#,##0"),
            p: Format::new().set_num_format("0.0000"),
            df: Format::new().set_num_format("0.0"),
            note: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(rust_xlsxwriter::FormatAlign::Top),
            withheld: Format::new().set_align(rust_xlsxwriter::FormatAlign::Right),
        }
    }
}

impl Default for Formats {
    fn default() -> Self {
        Self::new()
    }
}

fn style(column: &str) -> Option<Style> {
    Some(match column {
        "estimate" | "se" | "ci_low" | "ci_high" | "estimate_a" | "se_a" | "estimate_b"
        | "se_b" | "difference" | "register_value" | "register_low" | "register_high" => {
            Style::Value
        }
        "n" | "n_a" | "n_b" | "n_eff" | "pop_size" | "register_base" => Style::Count,
        "cv" | "deff" => Style::Decimal,
        "p_value" | "p_adjusted" => Style::P,
        "df" | "df1" | "df2" => Style::Df,
        _ => return None,
    })
}

/// The flag column that withholds a column's value: the register's for register values,
/// the survey's for every survey number; `None` for columns never withheld.
fn withheld_by(column: &str) -> Option<&'static str> {
    match column {
        "register_value" | "register_low" | "register_high" | "register_base" => {
            Some("register_flag")
        }
        "estimate" | "se" | "ci_low" | "ci_high" | "cv" | "deff" | "n_eff" | "pop_size"
        | "estimate_a" | "se_a" | "estimate_b" | "se_b" | "difference" | "p_value"
        | "p_adjusted" => Some("flag"),
        _ => None,
    }
}

/// Whether a gaps row's `measure` is in the indicator's own unit: the per-group difference,
/// or a summary measure that says so.
fn in_indicator_units(measure: &str) -> bool {
    measure == "difference"
        || crate::equality::measures::Measure::from_name(measure)
            .is_some_and(|m| m.in_indicator_units())
}

/// What a sheet's footnotes must explain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Notes {
    pub withheld: bool,
    pub register_withheld: bool,
    pub low_precision: bool,
}

/// Writes a tidy table into `ws`. Returns which footnotes were needed (they are written
/// under the table).
pub fn write_table(
    ws: &mut Worksheet,
    table: &Table,
    kind: Kind,
    labels: &Labeller,
    formats: &Formats,
    min_cell: usize,
    register_min_base: f64,
) -> XlsxResult<Notes> {
    let lang = labels.lang;
    let names: Vec<&str> = table.names().collect();
    let cells = crate::output::Cells(table);
    let text = |name: &str, i: usize| cells.text(name, i);
    // The output columns: the input's, with the indicator's label after its id, and a note.
    let mut out: Vec<String> = Vec::new();
    for n in &names {
        out.push(n.to_string());
        if *n == "indicator" {
            out.push("indicator_label".into());
        }
    }
    out.push("note".into());
    let mut widths: Vec<usize> = out
        .iter()
        .map(|c| lang.header(c).chars().count().min(18))
        .collect();
    for (j, c) in out.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, lang.header(c), &formats.header)?;
    }

    let mut notes = Notes::default();
    for i in 0..table.nrows() {
        let r = (i + 1) as u32;
        let flag = text("flag", i);
        let indicator = text("indicator", i);
        let by = text("by", i);
        // Percent or decimals for this row's survey values, and for its register values.
        let percent = if names.contains(&"stat") {
            text("stat", i) == "proportion"
        } else {
            in_indicator_units(&text("measure", i)) && is_proportion(labels, &indicator)
        };
        let register_percent = kind == Kind::Register
            && text("metric_kind", i) == "share"
            && text("metric_unit", i).is_empty()
            && text("measure", i) != "ratio";
        let mut c = 0u16;
        for (j, name) in names.iter().enumerate() {
            let column = &table.columns()[j];
            let mut put_text = |ws: &mut Worksheet, c: u16, s: String| -> XlsxResult<()> {
                widths[c as usize] = widths[c as usize].max(s.chars().count());
                if !s.is_empty() {
                    ws.write_string(r, c, &s)?;
                }
                Ok(())
            };
            match (*name, &column.data) {
                ("indicator", _) => {
                    put_text(ws, c, indicator.clone())?;
                    c += 1;
                    put_text(ws, c, labels.indicator(&indicator))?;
                }
                ("stat", _) => put_text(ws, c, lang.stat(&text("stat", i)))?,
                ("by", _) => put_text(ws, c, labels.by(&by))?,
                ("group" | "reference", _) => put_text(ws, c, labels.group(&by, &text(name, i)))?,
                ("category", _) => {
                    let v = text("variable", i);
                    let cat = text("category", i);
                    let label = if cat.is_empty() {
                        cat
                    } else {
                        labels.code(&v, &cat)
                    };
                    put_text(ws, c, label)?;
                }
                ("flag" | "register_flag", _) => put_text(ws, c, lang.flag(&text(name, i)))?,
                (_, ColumnData::Num(v)) if style(name).is_some() => {
                    let x = v[i];
                    let by_flag = withheld_by(name).filter(|f| text(f, i) == "suppressed");
                    if x.is_nan() && by_flag.is_some() {
                        ws.write_string_with_format(r, c, "..", &formats.withheld)?;
                        if by_flag == Some("register_flag") {
                            notes.register_withheld = true;
                        } else {
                            notes.withheld = true;
                        }
                    } else if !x.is_nan() {
                        let pct = if name.starts_with("register_") {
                            register_percent
                        } else {
                            percent
                        };
                        let f = match style(name) {
                            Some(Style::Value) if pct => &formats.percent,
                            Some(Style::Value) | Some(Style::Decimal) => &formats.decimal,
                            Some(Style::Count) => &formats.count,
                            Some(Style::P) => &formats.p,
                            _ => &formats.df,
                        };
                        ws.write_number_with_format(r, c, x, f)?;
                        widths[c as usize] = widths[c as usize].max(10);
                    }
                }
                (_, ColumnData::Num(v)) => {
                    if !v[i].is_nan() {
                        ws.write_number(r, c, v[i])?;
                        widths[c as usize] = widths[c as usize].max(8);
                    }
                }
                (_, ColumnData::Cat { .. }) => put_text(ws, c, column.text(i).unwrap_or_default())?,
            }
            c += 1;
        }
        // The note column.
        let mark = if flag == "low_precision" {
            notes.low_precision = true;
            "*"
        } else {
            ""
        };
        if !mark.is_empty() {
            ws.write_string(r, c, mark)?;
        }
    }
    let last_row = table.nrows() as u32;
    ws.set_freeze_panes(1, 0)?;
    // Printed: landscape A4, as wide as one page, the header on every page.
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_repeat_rows(0, 0)?;
    ws.autofilter(0, 0, last_row, (out.len() - 1) as u16)?;
    for (j, w) in widths.iter().enumerate() {
        ws.set_column_width(j as u16, (w.min(&MAX_TEXT_WIDTH) + 2) as f64)?;
    }
    // Footnotes under the table, after a blank row: each across the table's width, wrapped,
    // so it neither widens the printed page nor runs off it.
    let last_col = (out.len() - 1) as u16;
    let mut footnotes: Vec<String> = Vec::new();
    if notes.withheld {
        footnotes.push(lang.suppressed_note(min_cell));
    }
    if notes.register_withheld {
        footnotes.push(lang.register_suppressed_note(register_min_base));
    }
    if notes.low_precision {
        footnotes.push(lang.low_precision_note().to_string());
    }
    let table_width: usize = widths.iter().map(|w| w.min(&MAX_TEXT_WIDTH) + 2).sum();
    for (row, note) in (last_row + 2..).zip(footnotes) {
        let lines = note.chars().count().div_ceil(table_width.max(20)) as f64;
        ws.merge_range(row, 0, row, last_col, &note, &formats.note)?;
        ws.set_row_height(row, 15.0 * lines.max(1.0) + 3.0)?;
    }
    Ok(notes)
}

/// Whether the instrument defines `indicator` as a proportion.
fn is_proportion(labels: &Labeller, indicator: &str) -> bool {
    labels
        .instrument
        .and_then(|i| i.indicators.get(indicator))
        .is_some_and(|ind| ind.kind == IndicatorKind::Proportion)
}

/// The columns each kind of table must have (its tidy contract).
pub fn required(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Estimates => &crate::estimate::result::COLUMNS,
        Kind::Gaps => &crate::equality::gaps::COLUMNS,
        Kind::Compare => &crate::equality::compare::COLUMNS,
        Kind::Register => &["by", "group", "metric", "register_value", "register_flag"],
    }
}
