//! Labels of published tables in one language, from the instrument: indicator names,
//! dimension names and the labels of group and category codes. Without an instrument, or for a
//! name it does not know, the id or code itself is the label.

use super::locale::Lang;
use crate::instrument::spec::Labels;
use crate::instrument::Instrument;
use crate::register::canonical;

/// Labels in one language.
#[derive(Debug, Clone, Copy)]
pub struct Labeller<'a> {
    pub instrument: Option<&'a Instrument>,
    pub lang: Lang,
}

impl<'a> Labeller<'a> {
    pub fn new(instrument: Option<&'a Instrument>, lang: Lang) -> Self {
        Labeller { instrument, lang }
    }

    fn pick(&self, labels: &Labels) -> Option<String> {
        labels
            .get(self.lang.code())
            .or_else(|| labels.get("en"))
            .or_else(|| labels.values().next())
            .cloned()
    }

    /// An indicator's label, else its id.
    pub fn indicator(&self, id: &str) -> String {
        self.instrument
            .and_then(|i| i.indicators.get(id))
            .and_then(|ind| self.pick(&ind.label))
            .unwrap_or_else(|| id.to_string())
    }

    /// A variable's label: its dimension's, else its item text or derived label, else its name.
    pub fn variable(&self, var: &str) -> String {
        let Some(inst) = self.instrument else {
            return var.to_string();
        };
        inst.dimensions
            .values()
            .find(|d| d.variable == var)
            .and_then(|d| self.pick(&d.label))
            .or_else(|| inst.derived.get(var).and_then(|d| self.pick(&d.label)))
            .or_else(|| inst.items.get(var).and_then(|i| self.pick(&i.text)))
            .unwrap_or_else(|| var.to_string())
    }

    /// A breakdown's label: its variables' labels joined with ` × `; empty stays empty.
    pub fn by(&self, by: &str) -> String {
        if by.is_empty() {
            return String::new();
        }
        by.split('*')
            .map(|v| self.variable(v))
            .collect::<Vec<_>>()
            .join(" × ")
    }

    /// The label of one code of a variable, from its scale; else the code.
    pub fn code(&self, var: &str, code: &str) -> String {
        let scale = self.instrument.and_then(|inst| {
            let id = inst
                .derived
                .get(var)
                .map(|d| d.scale.clone())
                .or_else(|| inst.items.get(var).and_then(|i| i.scale.clone()))?;
            inst.scales.get(&id)
        });
        let value = canonical(code).and_then(|c| c.parse::<f64>().ok());
        scale
            .and_then(|s| {
                let x = value?;
                s.codes
                    .iter()
                    .chain(&s.missing)
                    .find(|c| c.value == x)
                    .and_then(|c| self.pick(&c.labels))
            })
            .unwrap_or_else(|| code.to_string())
    }

    /// A group's label: each part labelled by its variable of `by`, joined with ` × `.
    pub fn group(&self, by: &str, group: &str) -> String {
        if by.is_empty() || group.is_empty() {
            return group.to_string();
        }
        let vars: Vec<&str> = by.split('*').collect();
        let parts: Vec<&str> = group.split('*').collect();
        // Fewer parts than variables: a level of the leading ones (gaps inside an area).
        if parts.len() > vars.len() {
            return group.to_string();
        }
        vars.iter()
            .zip(parts)
            .map(|(v, p)| self.code(v, p))
            .collect::<Vec<_>>()
            .join(" × ")
    }
}
