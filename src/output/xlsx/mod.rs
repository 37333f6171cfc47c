//! The workbook analysts hand on (`tasa report -o FILE.xlsx`): a sheet per tidy table
//! ([`sheets`]), native charts of the key indicators ([`charts`]), a methods sheet and a
//! manifest sheet, all in one language.

pub mod charts;
pub mod sheets;

use super::labels::Labeller;
use super::locale::Sheet;
use super::manifest::Input;
use crate::table::Table;
use crate::{Error, Result};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use sheets::{Formats, Kind};

/// Width of the methods text column, in characters.
const METHODS_WIDTH: f64 = 90.0;

pub(crate) type XlsxResult<T> = std::result::Result<T, XlsxError>;

/// The tidy tables of a report.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub estimates: Table,
    pub gaps: Option<Table>,
    pub compare: Option<Table>,
    /// A comparison survey's table when `compare` holds the previous wave's (a run with both).
    pub comparison: Option<Table>,
    pub joined: Option<Table>,
}

/// What else goes into the workbook.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    pub labels: Labeller<'a>,
    /// The smallest published n (for the footnote of `..`).
    pub min_cell: usize,
    /// The register's threshold (for the footnote of withheld register values).
    pub register_min_base: f64,
    /// Indicators that get charts.
    pub key: Vec<String>,
    /// Lines of the methods sheet: (topic, text).
    pub methods: Vec<(String, String)>,
    pub inputs: Vec<Input>,
    pub tool: String,
    pub command: String,
    pub time: String,
}

/// Builds the workbook and returns its bytes.
pub fn workbook(tables: &Tables, settings: &Settings) -> Result<Vec<u8>> {
    build(tables, settings).map_err(|e| Error::Usage(format!("cannot write the workbook: {e}")))
}

/// A new workbook created at the time outputs are stamped with
/// ([`crate::output::manifest::stamp_seconds`]).
pub fn new_workbook() -> Workbook {
    let mut wb = Workbook::new();
    let secs = crate::output::manifest::stamp_seconds();
    if let Ok(t) = rust_xlsxwriter::ExcelDateTime::from_timestamp(secs as i64) {
        wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&t));
    }
    wb
}

fn build(tables: &Tables, settings: &Settings) -> XlsxResult<Vec<u8>> {
    let lang = settings.labels.lang;
    let formats = Formats::new();
    let mut wb = new_workbook();
    let parts = [
        (Sheet::Estimates, Some(&tables.estimates), Kind::Estimates),
        (Sheet::Gaps, tables.gaps.as_ref(), Kind::Gaps),
        (Sheet::Compare, tables.compare.as_ref(), Kind::Compare),
        (
            Sheet::CompareSurvey,
            tables.comparison.as_ref(),
            Kind::Compare,
        ),
        (Sheet::Register, tables.joined.as_ref(), Kind::Register),
    ];
    for (sheet, table, kind) in parts {
        if let Some(table) = table {
            let ws = wb.add_worksheet();
            ws.set_name(lang.sheet(sheet))?;
            sheets::write_table(
                ws,
                table,
                kind,
                &settings.labels,
                &formats,
                settings.min_cell,
                settings.register_min_base,
            )?;
        }
    }

    let all = lang.pick("Kaikki", "Alla", "All");
    let blocks = charts::blocks(&tables.estimates, &settings.key, &settings.labels, all);
    if !blocks.is_empty() {
        let data_name = lang.sheet(Sheet::ChartData);
        let mut charts_ws = Worksheet::new();
        charts_ws.set_name(lang.sheet(Sheet::Charts))?;
        let mut data_ws = Worksheet::new();
        data_ws.set_name(data_name)?;
        let (group, estimate) = (lang.header("group"), lang.header("estimate"));
        let headers = [
            group.as_str(),
            estimate.as_str(),
            lang.pick("Alaraja (etäisyys)", "Nedre (avstånd)", "Lower (distance)"),
            lang.pick("Yläraja (etäisyys)", "Övre (avstånd)", "Upper (distance)"),
        ];
        charts::write(&blocks, &mut data_ws, data_name, &mut charts_ws, headers)?;
        wb.push_worksheet(charts_ws);
        wb.push_worksheet(data_ws);
    }

    // Methods: topic and text.
    let bold = Format::new()
        .set_bold()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name(lang.sheet(Sheet::Methods))?;
    for (r, (topic, text)) in settings.methods.iter().enumerate() {
        ws.write_string_with_format(r as u32, 0, topic, &bold)?;
        ws.write_string_with_format(r as u32, 1, text, &wrap)?;
        // Readers do not grow rows for wrapped text on their own: height by lines.
        let lines = text
            .chars()
            .count()
            .div_ceil(METHODS_WIDTH as usize - 4)
            .max(1);
        ws.set_row_height(r as u32, 15.0 * lines as f64 + 3.0)?;
    }
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, METHODS_WIDTH)?;
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0);

    // Manifest: the tool, the command, the time, and every input with its SHA-256.
    let ws = wb.add_worksheet();
    ws.set_name(lang.sheet(Sheet::Manifest))?;
    let head = [
        (
            lang.pick("Ohjelma", "Program", "Tool"),
            settings.tool.as_str(),
        ),
        (
            lang.pick("Komento", "Kommando", "Command"),
            settings.command.as_str(),
        ),
        (
            lang.pick("Aika (UTC)", "Tid (UTC)", "Time (UTC)"),
            settings.time.as_str(),
        ),
    ];
    for (r, (k, v)) in head.iter().enumerate() {
        ws.write_string_with_format(r as u32, 0, *k, &bold)?;
        ws.write_string(r as u32, 1, *v)?;
    }
    let top = head.len() as u32 + 1;
    let cols = [
        lang.pick("Rooli", "Roll", "Role"),
        lang.pick("Tiedosto", "Fil", "File"),
        lang.pick("Tavuja", "Byte", "Bytes"),
        "SHA-256",
    ];
    for (j, c) in cols.iter().enumerate() {
        ws.write_string_with_format(top, j as u16, *c, &bold)?;
    }
    for (i, input) in settings.inputs.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_string(r, 0, &input.role)?;
        ws.write_string(r, 1, input.path.display().to_string())?;
        ws.write_number(r, 2, input.bytes as f64)?;
        ws.write_string(r, 3, &input.sha256)?;
    }
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, 60)?;
    ws.set_column_width(2, 12)?;
    ws.set_column_width(3, 68)?;
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0);
    wb.save_to_buffer()
}
