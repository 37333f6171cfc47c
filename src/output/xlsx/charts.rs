//! Native Excel charts of the key indicators: for each key indicator and each single-variable
//! breakdown, a bar per group (and one for the whole population) with error bars from the
//! confidence interval. Withheld groups are left out of the chart. The plotted numbers, the
//! group labels and the titles are written to a data sheet as numbers and strings, which the
//! charts refer to, so no label from data or an instrument reaches a chart as a formula.

use super::XlsxResult;
use crate::output::labels::Labeller;
use crate::table::Table;
use rust_xlsxwriter::{
    Chart, ChartErrorBars, ChartErrorBarsType, ChartFont, ChartRange, ChartType, Format, Worksheet,
};

/// Pixel height of a chart's title and axis, and of one bar.
const CHART_FRAME: u32 = 110;
const BAR_HEIGHT: u32 = 30;
/// Worksheet rows are 20 px high by default.
const ROW_PX: u32 = 20;

/// One bar.
struct Bar {
    label: String,
    estimate: f64,
    low: f64,
    high: f64,
}

/// One chart's data: an indicator by one breakdown.
pub struct Block {
    title: String,
    percent: bool,
    bars: Vec<Bar>,
}

/// The chart blocks of the key indicators, in the order given, each breakdown in table order.
pub fn blocks(estimates: &Table, key: &[String], labels: &Labeller, all_label: &str) -> Vec<Block> {
    let cells = crate::output::Cells(estimates);
    let text = |name: &str, i: usize| cells.text(name, i);
    let num = |name: &str, i: usize| cells.num(name, i);
    let mut out = Vec::new();
    for id in key {
        let rows: Vec<usize> = (0..estimates.nrows())
            .filter(|&i| text("indicator", i) == *id && text("category", i).is_empty())
            .collect();
        let overall = rows.iter().copied().find(|&i| text("by", i).is_empty());
        let mut breakdowns: Vec<String> = Vec::new();
        for &i in &rows {
            let by = text("by", i);
            if !by.is_empty() && !by.contains('*') && !breakdowns.contains(&by) {
                breakdowns.push(by);
            }
        }
        for by in breakdowns {
            let bar = |i: usize, label: String| {
                let b = Bar {
                    label,
                    estimate: num("estimate", i),
                    low: num("ci_low", i),
                    high: num("ci_high", i),
                };
                (text("flag", i) != "suppressed" && b.estimate.is_finite()).then_some(b)
            };
            let mut bars: Vec<Bar> = overall
                .and_then(|i| bar(i, all_label.to_string()))
                .into_iter()
                .collect();
            bars.extend(
                rows.iter()
                    .filter(|&&i| text("by", i) == by)
                    .filter_map(|&i| bar(i, labels.group(&by, &text("group", i)))),
            );
            // A chart needs at least two groups besides the whole population.
            if bars.len() < 3 {
                continue;
            }
            let percent = rows
                .first()
                .is_some_and(|&i| text("stat", i) == "proportion");
            out.push(Block {
                title: format!("{} — {}", labels.indicator(id), labels.by(&by)),
                percent,
                bars,
            });
        }
    }
    out
}

/// Writes the blocks' numbers to `data` (named `data_name`) and a chart per block into
/// `charts`, one under another.
pub fn write(
    blocks: &[Block],
    data: &mut Worksheet,
    data_name: &str,
    charts: &mut Worksheet,
    headers: [&str; 4],
) -> XlsxResult<()> {
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("#,##0.000");
    let mut row: u32 = 0;
    let mut chart_row: u32 = 0;
    for block in blocks {
        data.write_string_with_format(row, 0, &block.title, &bold)?;
        for (j, h) in headers.iter().enumerate() {
            data.write_string_with_format(row + 1, j as u16, *h, &bold)?;
        }
        let first = row + 2;
        let f = if block.percent { &percent } else { &decimal };
        for (b, bar) in block.bars.iter().enumerate() {
            let r = first + b as u32;
            data.write_string(r, 0, &bar.label)?;
            data.write_number_with_format(r, 1, bar.estimate, f)?;
            // Error bars: distances below and above the estimate (zero where no interval).
            let minus = if bar.low.is_finite() {
                bar.estimate - bar.low
            } else {
                0.0
            };
            let plus = if bar.high.is_finite() {
                bar.high - bar.estimate
            } else {
                0.0
            };
            data.write_number_with_format(r, 2, minus, f)?;
            data.write_number_with_format(r, 3, plus, f)?;
        }
        let last = first + block.bars.len() as u32 - 1;

        let mut chart = Chart::new(ChartType::Bar);
        // The title refers to its text cell above the data: a title given as text would be
        // read as a reference or formula when it looks like one (`=(...)`, `Sheet!A1`).
        chart
            .title()
            .set_name((data_name, row, 0))
            .set_font(ChartFont::new().set_size(11).set_bold());
        chart.legend().set_hidden();
        let bars = ChartErrorBars::new()
            .set_type(ChartErrorBarsType::Custom(
                ChartRange::new_from_range(data_name, first, 3, last, 3),
                ChartRange::new_from_range(data_name, first, 2, last, 2),
            ))
            .clone();
        chart
            .add_series()
            .set_categories((data_name, first, 0, last, 0))
            .set_values((data_name, first, 1, last, 1))
            .set_x_error_bars(&bars);
        // Bars run top to bottom in table order, every label shown; lengths start at zero.
        chart
            .y_axis()
            .set_reverse()
            .set_label_interval(1)
            .set_font(ChartFont::new().set_size(9));
        chart
            .x_axis()
            .set_min(0.0)
            .set_font(ChartFont::new().set_size(9));
        if block.percent {
            chart.x_axis().set_num_format("0%");
        }
        let height = CHART_FRAME + BAR_HEIGHT * block.bars.len() as u32;
        chart.set_width(600).set_height(height);
        // One chart under another, so a printed page never cuts one.
        charts.insert_chart(chart_row, 0, &chart)?;
        chart_row += height.div_ceil(ROW_PX) + 1;
        row = last + 2;
    }
    charts.set_paper_size(9).set_print_fit_to_pages(1, 0);
    data.set_column_width(0, 40)?;
    for c in 1..4 {
        data.set_column_width(c, 14)?;
    }
    Ok(())
}
