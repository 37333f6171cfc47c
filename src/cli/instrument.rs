//! `tasa instrument check|show`: lint an instrument file; list its contents in a language.

use crate::instrument::spec::{IndicatorKind, ItemType};
use crate::instrument::{Finding, Instrument, Severity};
use crate::progress::Printer;
use crate::{Error, Outcome, Result};
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum InstrumentCommand {
    /// Check an instrument: syntax, unknown keys, references, labels in every language, cycles.
    /// Exit 0 when it has no errors, 1 when it has.
    #[command(
        after_long_help = "Example:\n  tasa instrument check instruments/service-equality.toml"
    )]
    Check {
        /// The instrument file (TOML).
        instrument: PathBuf,
        /// `text` (default) or `json` findings on stdout.
        #[arg(long, default_value = "text")]
        format: ShowFormat,
    },
    /// List the scales, items, derived variables, dimensions and indicators in a language.
    #[command(
        after_long_help = "Example:\n  tasa instrument show instruments/monisuomi.toml --lang sv"
    )]
    Show {
        instrument: PathBuf,
        /// Language of the labels (one of the instrument's languages).
        #[arg(long, default_value = "en")]
        lang: String,
        #[arg(long, default_value = "text")]
        format: ShowFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
}

pub fn run(cmd: InstrumentCommand, printer: &Printer) -> Result<Outcome> {
    match cmd {
        InstrumentCommand::Check { instrument, format } => check(&instrument, format, printer),
        InstrumentCommand::Show {
            instrument,
            lang,
            format,
        } => show(&instrument, &lang, format),
    }
}

fn check(path: &std::path::Path, format: ShowFormat, printer: &Printer) -> Result<Outcome> {
    let (inst, findings) = Instrument::load_with_findings(path)?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    match format {
        ShowFormat::Json => {
            let v = serde_json::json!({
                "file": path.display().to_string(),
                "errors": errors,
                "warnings": warnings,
                "findings": findings,
            });
            crate::output::print_stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ))?;
        }
        ShowFormat::Text => {
            let text: String = findings
                .iter()
                .map(|f| finding_line(path, f) + "\n")
                .collect();
            crate::output::print_stdout(&text)?;
        }
    }
    match (&inst, errors) {
        (Some(i), 0) => {
            printer.note(format!(
            "{}: ok ({} scales, {} items, {} derived variables, {} dimensions, {} indicators{})",
            path.display(),
            i.scales.len(),
            i.items.len(),
            i.derived.len(),
            i.dimensions.len(),
            i.indicators.len(),
            if warnings > 0 { format!("; {warnings} warnings") } else { String::new() }
        ))
        }
        _ => printer.note(format!(
            "{}: {errors} errors, {warnings} warnings",
            path.display()
        )),
    }
    Ok(if errors > 0 {
        Outcome::Problems
    } else {
        Outcome::Success
    })
}

fn finding_line(path: &std::path::Path, f: &Finding) -> String {
    let at = match f.line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    };
    let key = if f.key.is_empty() {
        String::new()
    } else {
        format!(" [{}]", f.key)
    };
    format!("{at}: {}{key}: {}", f.severity, f.message)
}

fn show(path: &std::path::Path, lang: &str, format: ShowFormat) -> Result<Outcome> {
    let inst = Instrument::load(path)?;
    if !inst.languages.iter().any(|l| l == lang) {
        return Err(Error::Usage(format!(
            "the instrument has no `{lang}` texts; use one of: {}",
            inst.languages.join(", ")
        )));
    }
    let l = |labels: &crate::instrument::spec::Labels| Instrument::label(labels, lang).to_string();
    match format {
        ShowFormat::Json => {
            let scales: Vec<_> = inst
                .scales
                .values()
                .map(|s| {
                    serde_json::json!({
                        "id": s.id,
                        "kind": s.kind,
                        "codes": s.codes.iter().map(|c| serde_json::json!({"code": c.value, "label": l(&c.labels)})).collect::<Vec<_>>(),
                        "missing": s.missing.iter().map(|c| serde_json::json!({"code": c.value, "label": l(&c.labels)})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let items: Vec<_> = inst
                .items
                .values()
                .map(|i| {
                    serde_json::json!({
                        "id": i.id, "column": i.column, "text": l(&i.text), "type": i.kind,
                        "scale": i.scale, "source": i.source,
                        "universe": i.universe.as_ref().map(|u| u.text.clone()),
                        "min": i.min, "max": i.max,
                    })
                })
                .collect();
            let derived: Vec<_> = inst
                .derived
                .values()
                .map(|d| serde_json::json!({"id": d.id, "label": l(&d.label), "scale": d.scale, "from": d.inputs()}))
                .collect();
            let dims: Vec<_> = inst
                .dimensions
                .values()
                .map(|d| serde_json::json!({"id": d.id, "variable": d.variable, "label": l(&d.label), "reference": d.reference, "ordered": d.ordered}))
                .collect();
            let inds: Vec<_> = inst
                .indicators
                .values()
                .map(|i| {
                    serde_json::json!({
                        "id": i.id, "label": l(&i.label), "kind": i.kind, "theme": i.theme,
                        "items": i.items(), "polarity": i.polarity, "dimensions": i.dimensions,
                        "universe": i.universe.as_ref().map(|u| u.text.clone()),
                    })
                })
                .collect();
            let v = serde_json::json!({
                "id": inst.id, "version": inst.version, "language": lang, "title": l(&inst.title),
                "scales": scales, "items": items, "derived": derived, "dimensions": dims, "indicators": inds,
            });
            crate::output::print_stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ))?;
        }
        ShowFormat::Text => {
            let mut out = String::new();
            out.push_str(&format!(
                "{} — {} (version {})\n",
                inst.id,
                l(&inst.title),
                inst.version
            ));
            out.push_str(&format!("\nItems ({})\n", inst.items.len()));
            for i in inst.items.values() {
                let what = match (i.kind, &i.scale) {
                    (ItemType::Coded, Some(s)) => format!("scale {s}"),
                    (ItemType::Number, _) => {
                        let range = match (i.min, i.max) {
                            (Some(a), Some(b)) => format!(" {a}..{b}"),
                            _ => String::new(),
                        };
                        format!("number{range}")
                    }
                    _ => "text".to_string(),
                };
                let universe = i
                    .universe
                    .as_ref()
                    .map(|u| format!("  [asked if {}]", u.text))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {:<18} {:<16} {}{universe}\n",
                    i.id,
                    what,
                    l(&i.text)
                ));
            }
            if !inst.derived.is_empty() {
                out.push_str(&format!("\nDerived variables ({})\n", inst.derived.len()));
                for d in inst.derived.values() {
                    out.push_str(&format!(
                        "  {:<18} from {:<14} {}\n",
                        d.id,
                        d.inputs().join(", "),
                        l(&d.label)
                    ));
                }
            }
            out.push_str(&format!("\nScales ({})\n", inst.scales.len()));
            for s in inst.scales.values() {
                let codes: Vec<String> = s
                    .codes
                    .iter()
                    .map(|c| format!("{}={}", c.value, l(&c.labels)))
                    .chain(
                        s.missing
                            .iter()
                            .map(|c| format!("{}={} (missing)", c.value, l(&c.labels))),
                    )
                    .collect();
                out.push_str(&format!("  {:<18} {}\n", s.id, codes.join("; ")));
            }
            out.push_str(&format!("\nDimensions ({})\n", inst.dimensions.len()));
            for d in inst.dimensions.values() {
                let reference = match (d.reference, inst.scale_of(&d.variable)) {
                    (Some(r), Some(s)) => {
                        format!(", reference {}", s.label(r, lang).unwrap_or("?"))
                    }
                    _ => String::new(),
                };
                let ordered = if d.ordered { ", ordered" } else { "" };
                out.push_str(&format!(
                    "  {:<18} {} ({}{reference}{ordered})\n",
                    d.id,
                    l(&d.label),
                    d.variable
                ));
            }
            out.push_str(&format!("\nIndicators ({})\n", inst.indicators.len()));
            for i in inst.indicators.values() {
                let kind = match i.kind {
                    IndicatorKind::Proportion => "proportion",
                    IndicatorKind::Mean => "mean",
                    IndicatorKind::Total => "total",
                    IndicatorKind::Ratio => "ratio",
                    IndicatorKind::Quantile => "quantile",
                    IndicatorKind::Score => "score",
                };
                out.push_str(&format!(
                    "  {:<24} {:<10} {}  [{}]\n",
                    i.id,
                    kind,
                    l(&i.label),
                    i.items().join(", ")
                ));
            }
            crate::output::print_stdout(&out)?;
        }
    }
    Ok(Outcome::Success)
}
