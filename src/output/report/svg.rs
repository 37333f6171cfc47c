//! Inline SVG charts for the HTML report draft: one row per group, a dot at the estimate and a
//! line across its confidence interval, on an axis that starts at zero. Every text is escaped
//! here, because the chart is inserted into the page as markup.

use crate::output::locale::Lang;
use std::fmt::Write;

/// One row of a chart.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// The whole population's row is drawn in another colour.
    pub overall: bool,
    /// A breakdown's name: a heading row without a value.
    pub heading: bool,
}

impl Point {
    /// A heading row that names the breakdown of the rows under it.
    pub fn heading(label: String) -> Point {
        Point {
            label,
            estimate: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
            overall: false,
            heading: true,
        }
    }
}

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const WIDTH: f64 = 680.0;
const LABEL: f64 = 250.0;
/// Characters of a row label that fit left of the plot.
const MAX_LABEL: usize = 36;
const ROW: f64 = 24.0;
const TOP: f64 = 10.0;
const AXIS: f64 = 28.0;

/// A dot-and-interval chart; `title` is its accessible name.
pub fn chart(points: &[Point], percent: bool, lang: Lang, title: &str) -> String {
    let finite_max = points
        .iter()
        .flat_map(|p| [p.estimate, p.high])
        .filter(|x| x.is_finite())
        .fold(0.0_f64, f64::max);
    // A step of 1, 2, 2.5 or 5 × 10^k giving at most five intervals; the axis ends on a step.
    let step = nice_ceiling(finite_max / 5.0);
    let ticks = (finite_max / step).ceil().max(1.0) as usize;
    let max = if percent {
        (step * ticks as f64).min(1.0)
    } else {
        step * ticks as f64
    };
    let ticks = (max / step).round() as usize;
    let plot = WIDTH - LABEL - 20.0;
    let x = |v: f64| LABEL + plot * (v / max).clamp(0.0, 1.0);
    let height = TOP + ROW * points.len() as f64 + AXIS;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    // Gridlines and tick labels.
    let decimals = decimals_of(step);
    for k in 0..=ticks {
        let v = step * k as f64;
        let xv = x(v);
        let label = if percent {
            let d = decimals.saturating_sub(2);
            match lang {
                Lang::En => format!("{}%", lang.number(100.0 * v, d)),
                _ => format!("{}\u{a0}%", lang.number(100.0 * v, d)),
            }
        } else {
            lang.number(v, decimals)
        };
        let _ = write!(
            s,
            "<line x1=\"{xv:.1}\" y1=\"{TOP}\" x2=\"{xv:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{xv:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            height - AXIS + 4.0,
            height - 8.0,
            escape(&label)
        );
    }
    for (i, p) in points.iter().enumerate() {
        let y = TOP + ROW * (i as f64 + 0.5);
        if p.heading {
            let _ = write!(
                s,
                "<text x=\"4\" y=\"{:.1}\" class=\"heading\">{}</text>",
                y + 4.0,
                escape(&p.label)
            );
            continue;
        }
        let class = if p.overall { "dot overall" } else { "dot" };
        // Long labels are shortened; the full one is the row's tooltip.
        let short: String = if p.label.chars().count() > MAX_LABEL {
            let cut: String = p.label.chars().take(MAX_LABEL - 1).collect();
            format!("{cut}…")
        } else {
            p.label.clone()
        };
        let _ = write!(
            s,
            "<g><title>{}</title><text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{}</text>",
            escape(&p.label),
            LABEL - 8.0,
            y + 4.0,
            escape(&short)
        );
        if p.low.is_finite() && p.high.is_finite() {
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"ci\"/>",
                x(p.low),
                x(p.high)
            );
        }
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4.5\" class=\"{class}\"/></g>",
            x(p.estimate)
        );
    }
    s.push_str("</svg>");
    s
}

/// The decimals a tick step needs (2.5 → 1, 0.05 → 2, 20 → 0).
fn decimals_of(step: f64) -> usize {
    (0..8)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-9
        })
        .unwrap_or(8)
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `x`.
fn nice_ceiling(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= x {
            return m * p;
        }
    }
    10.0 * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_rows_drawn() {
        let points = vec![
            Point {
                label: "All".into(),
                estimate: 0.8,
                low: 0.78,
                high: 0.82,
                overall: true,
                heading: false,
            },
            Point::heading("Origin".into()),
            Point {
                label: "<script>alert(1)</script>".into(),
                estimate: 0.7,
                low: f64::NAN,
                high: f64::NAN,
                overall: false,
                heading: false,
            },
        ];
        let svg = chart(&points, true, Lang::En, "A & B");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("aria-label=\"A &amp; B\""));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("class=\"ci\"").count(), 1);
        assert_eq!(nice_ceiling(0.93), 1.0);
        assert_eq!(nice_ceiling(37.0), 50.0);
        assert_eq!(
            (decimals_of(2.5), decimals_of(0.05), decimals_of(20.0)),
            (1, 2, 0)
        );
    }
}
