//! Checking a response file against an instrument. Every finding has a stable code, a
//! severity and the rows it concerns; errors make `tasa validate` exit 1.
//!
//! | code | severity | rule |
//! |---|---|---|
//! | V001 | error | `missing-column`: an item of the instrument has no column in the file |
//! | V002 | info | `unexpected-column`: a column that is no item, derived variable, id or weight |
//! | V003 | error | `invalid-code`: a value that is not a code of the item's scale (valid or missing) |
//! | V004 | error | `not-a-number`: text in a coded or numeric item |
//! | V005 | error | `out-of-range`: a number below the item's `min` or above its `max` |
//! | V006 | error | `not-integer`: a fraction in an integer item |
//! | V007 | error | `missing-id`: a row without an id |
//! | V008 | error | `duplicate-id`: an id on more than one row |
//! | V009 | error | `answered-outside-universe`: an answer from someone the item was not asked of |
//! | V010 | info | `missing-inside-universe`: no answer from someone the item was asked of (item non-response) |
//! | V011 | warning | `empty-row`: a row with no answer to any survey item |
//! | V012 | error | `missing-weight`: a row without a weight |
//! | V013 | error | `negative-weight`: a weight below zero |
//! | V014 | warning | `zero-weight`: a weight of zero |
//! | V015 | warning | `derived-mismatch`: a column named like a derived variable disagrees with its definition |
//! | V016 | error | `no-rows`: the file has no data rows |
//! | V017 | warning | `high-item-nonresponse`: over 20 % of those asked (at least 10) left an item blank — a routing or delivery problem? |

use crate::instrument::derive::{self, InvalidCodes};
use crate::instrument::spec::{ItemType, Source};
use crate::instrument::Instrument;
use crate::output::{Cell, TidyTable};
use crate::table::filter::Tri;
use crate::table::{Column, ColumnData, Table};
use crate::Result;
use std::collections::HashMap;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The rules, with their stable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    MissingColumn,
    UnexpectedColumn,
    InvalidCode,
    NotANumber,
    OutOfRange,
    NotInteger,
    MissingId,
    DuplicateId,
    AnsweredOutsideUniverse,
    MissingInsideUniverse,
    EmptyRow,
    MissingWeight,
    NegativeWeight,
    ZeroWeight,
    DerivedMismatch,
    NoRows,
    HighItemNonresponse,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::MissingColumn => "V001",
            Rule::UnexpectedColumn => "V002",
            Rule::InvalidCode => "V003",
            Rule::NotANumber => "V004",
            Rule::OutOfRange => "V005",
            Rule::NotInteger => "V006",
            Rule::MissingId => "V007",
            Rule::DuplicateId => "V008",
            Rule::AnsweredOutsideUniverse => "V009",
            Rule::MissingInsideUniverse => "V010",
            Rule::EmptyRow => "V011",
            Rule::MissingWeight => "V012",
            Rule::NegativeWeight => "V013",
            Rule::ZeroWeight => "V014",
            Rule::DerivedMismatch => "V015",
            Rule::NoRows => "V016",
            Rule::HighItemNonresponse => "V017",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::MissingColumn => "missing-column",
            Rule::UnexpectedColumn => "unexpected-column",
            Rule::InvalidCode => "invalid-code",
            Rule::NotANumber => "not-a-number",
            Rule::OutOfRange => "out-of-range",
            Rule::NotInteger => "not-integer",
            Rule::MissingId => "missing-id",
            Rule::DuplicateId => "duplicate-id",
            Rule::AnsweredOutsideUniverse => "answered-outside-universe",
            Rule::MissingInsideUniverse => "missing-inside-universe",
            Rule::EmptyRow => "empty-row",
            Rule::MissingWeight => "missing-weight",
            Rule::NegativeWeight => "negative-weight",
            Rule::ZeroWeight => "zero-weight",
            Rule::DerivedMismatch => "derived-mismatch",
            Rule::NoRows => "no-rows",
            Rule::HighItemNonresponse => "high-item-nonresponse",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::UnexpectedColumn | Rule::MissingInsideUniverse => Severity::Info,
            Rule::HighItemNonresponse
            | Rule::EmptyRow
            | Rule::ZeroWeight
            | Rule::DerivedMismatch => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// At most this many row numbers are listed per finding (the count has them all).
pub const MAX_ROWS_LISTED: usize = 20;

/// One finding: a rule broken in a column (and for a value), with its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: Rule,
    pub column: Option<String>,
    pub value: Option<String>,
    /// Number of rows concerned (0 for column-level findings).
    pub count: usize,
    /// The first rows concerned (1-based data rows).
    pub rows: Vec<usize>,
    pub message: String,
}

impl Finding {
    fn new(rule: Rule, column: Option<&str>, message: impl Into<String>) -> Self {
        Finding {
            rule,
            column: column.map(str::to_string),
            value: None,
            count: 0,
            rows: Vec::new(),
            message: message.into(),
        }
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
}

/// The findings table: `code, severity, rule, column, value, count, rows, message`.
pub fn findings_table(findings: &[Finding]) -> TidyTable {
    let mut t = TidyTable::new([
        "code", "severity", "rule", "column", "value", "count", "rows", "message",
    ]);
    for f in findings {
        let rows: Vec<String> = f.rows.iter().map(usize::to_string).collect();
        let mut rows = rows.join(" ");
        if f.count > f.rows.len() && !f.rows.is_empty() {
            rows.push_str(" ...");
        }
        t.push(vec![
            f.rule.code().into(),
            f.severity().as_str().into(),
            f.rule.name().into(),
            f.column.clone().into(),
            f.value.clone().into(),
            Cell::Int(f.count as i64),
            rows.into(),
            f.message.clone().into(),
        ]);
    }
    t
}

/// Options of a validation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub id: Option<String>,
    pub weight: Option<String>,
}

/// Collects rows per (rule, column, value) in row order.
#[derive(Default)]
struct Collector {
    groups: HashMap<(Rule, String, String), (usize, Vec<usize>)>,
    order: Vec<(Rule, String, String)>,
}

impl Collector {
    fn add(&mut self, rule: Rule, column: &str, value: &str, row: usize) {
        // Consecutive rows usually break the same rule in the same column: no allocation then.
        if let Some(last) = self.order.last() {
            if last.0 == rule && last.1 == column && last.2 == value {
                if let Some(entry) = self.groups.get_mut(last) {
                    entry.0 += 1;
                    if entry.1.len() < MAX_ROWS_LISTED {
                        entry.1.push(row);
                    }
                    return;
                }
            }
        }
        let key = (rule, column.to_string(), value.to_string());
        let entry = self.groups.entry(key.clone()).or_insert_with(|| {
            self.order.push(key);
            (0, Vec::new())
        });
        entry.0 += 1;
        if entry.1.len() < MAX_ROWS_LISTED {
            entry.1.push(row);
        }
    }

    fn finish(self, describe: impl Fn(Rule, &str, &str, usize) -> String) -> Vec<Finding> {
        let mut groups = self.groups;
        self.order
            .into_iter()
            .filter_map(|key| {
                let (count, rows) = groups.remove(&key)?;
                let (rule, column, value) = key;
                Some(Finding {
                    rule,
                    message: describe(rule, &column, &value, count),
                    column: Some(column),
                    value: (!value.is_empty()).then_some(value),
                    count,
                    rows,
                })
            })
            .collect()
    }
}

/// Checks `raw` (a response file as read) against `inst`.
pub fn validate(inst: &Instrument, raw: &Table, options: &Options) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let n = raw.nrows();
    if n == 0 {
        findings.push(Finding::new(
            Rule::NoRows,
            None,
            "the file has a header but no data rows",
        ));
    }

    // Columns: missing items, unexpected columns.
    for item in inst.items.values() {
        if raw.column(&item.column).is_none() {
            findings.push(Finding::new(
                Rule::MissingColumn,
                Some(&item.column),
                format!(
                    "item `{}` has no column `{}` in the file",
                    item.id, item.column
                ),
            ));
        }
    }
    for name in raw.names() {
        let known = inst.items.values().any(|i| i.column == name)
            || inst.derived.contains_key(name)
            || options.id.as_deref() == Some(name)
            || options.weight.as_deref() == Some(name);
        if !known {
            findings.push(Finding::new(
                Rule::UnexpectedColumn,
                Some(name),
                "not an item of the instrument (kept as is; design variables are expected here)",
            ));
        }
    }

    let mut rows = Collector::default();

    // Values of items, and a lenient copy of the file for skip logic: text in numeric items and
    // invalid codes become missing there.
    let mut lenient = Table::new(n);
    lenient.source = raw.source.clone();
    for col in raw.columns() {
        let item = inst.items.values().find(|i| i.column == col.name);
        match (item, &col.data) {
            (Some(item), ColumnData::Cat { codes, levels }) if item.kind != ItemType::Text => {
                let parsed: Vec<f64> = levels
                    .iter()
                    .map(|l| crate::table::sniff::parse_number(l, false).unwrap_or(f64::NAN))
                    .collect();
                let mut values = Vec::with_capacity(n);
                for (i, &c) in codes.iter().enumerate() {
                    if c == crate::table::MISSING_CODE {
                        values.push(f64::NAN);
                        continue;
                    }
                    let x = parsed[c as usize];
                    if x.is_nan() {
                        rows.add(Rule::NotANumber, &col.name, &levels[c as usize], i + 1);
                    }
                    values.push(x);
                }
                check_values(inst, item, &col.name, &values, &mut rows);
                lenient.push(Column::num(col.name.clone(), values))?;
            }
            (Some(item), ColumnData::Num(values)) if item.kind != ItemType::Text => {
                check_values(inst, item, &col.name, values, &mut rows);
                lenient.push(col.clone())?;
            }
            _ => lenient.push(col.clone())?,
        }
    }

    // Derived columns delivered in the file, as read leniently, to check against their
    // definitions below; then the skip logic, on the analysis table built from the lenient
    // copy (moved, not copied: it is as big as the file).
    let given_derived: Vec<(&str, Vec<f64>)> = inst
        .derived
        .values()
        .filter_map(|d| {
            let values = lenient.column(&d.id).and_then(Column::as_num)?;
            Some((d.id.as_str(), values.to_vec()))
        })
        .collect();
    let analysis = derive::prepare(inst, lenient, InvalidCodes::Missing)?;
    let mut empty_candidates = vec![true; n];
    let mut any_survey_item = false;
    for item in inst.items.values() {
        let Some(col) = raw.column(&item.column) else {
            continue;
        };
        if item.source == Source::Survey {
            any_survey_item = true;
            for (i, e) in empty_candidates.iter_mut().enumerate() {
                if !col.is_missing(i) {
                    *e = false;
                }
            }
        }
        let universe: Option<Vec<Tri>> = match &item.universe {
            Some(u) if u.variables().iter().all(|v| analysis.column(v).is_some()) => {
                Some(u.evaluate_tri(&analysis)?)
            }
            _ => None,
        };
        let (mut asked_count, mut blank_count) = (0usize, 0usize);
        for i in 0..n {
            let answered = !col.is_missing(i);
            let asked = universe.as_ref().map_or(Tri::True, |u| u[i]);
            asked_count += usize::from(asked == Tri::True);
            match (answered, asked) {
                (true, Tri::False) => {
                    rows.add(Rule::AnsweredOutsideUniverse, &item.column, "", i + 1)
                }
                (false, Tri::True) => {
                    blank_count += 1;
                    rows.add(Rule::MissingInsideUniverse, &item.column, "", i + 1)
                }
                _ => {}
            }
        }
        if asked_count >= 10 && blank_count as f64 > 0.2 * asked_count as f64 {
            let mut f = Finding::new(
                Rule::HighItemNonresponse,
                Some(&item.column),
                format!(
                    "{:.0} % of the {asked_count} rows inside the universe are blank; check the routing and the delivery",
                    100.0 * blank_count as f64 / asked_count as f64
                ),
            );
            f.count = blank_count;
            findings.push(f);
        }
    }
    if any_survey_item {
        for (i, &e) in empty_candidates.iter().enumerate() {
            if e {
                rows.add(Rule::EmptyRow, "", "", i + 1);
            }
        }
    }

    // Derived columns delivered in the file must agree with their definitions.
    for (id, given) in &given_derived {
        let Some(computed) = analysis.column(id).and_then(Column::as_num) else {
            continue;
        };
        for i in 0..n {
            let (a, b) = (given[i], computed[i]);
            if !(a == b || (a.is_nan() && b.is_nan())) {
                rows.add(
                    Rule::DerivedMismatch,
                    id,
                    &crate::table::format_number(a),
                    i + 1,
                );
            }
        }
    }

    // Ids.
    if let Some(id) = &options.id {
        let col = raw.require(id)?;
        let mut seen: HashMap<String, usize> = HashMap::new();
        for i in 0..n {
            match col.text(i) {
                None => rows.add(Rule::MissingId, id, "", i + 1),
                Some(v) => {
                    if let Some(&first) = seen.get(&v) {
                        if !rows
                            .groups
                            .contains_key(&(Rule::DuplicateId, id.clone(), v.clone()))
                        {
                            rows.add(Rule::DuplicateId, id, &v, first);
                        }
                        rows.add(Rule::DuplicateId, id, &v, i + 1);
                    } else {
                        seen.insert(v, i + 1);
                    }
                }
            }
        }
    }

    // Weights.
    if let Some(w) = &options.weight {
        let col = raw.require(w)?;
        match &col.data {
            ColumnData::Num(values) => {
                for (i, &x) in values.iter().enumerate() {
                    if x.is_nan() {
                        rows.add(Rule::MissingWeight, w, "", i + 1);
                    } else if x < 0.0 {
                        rows.add(Rule::NegativeWeight, w, "", i + 1);
                    } else if x == 0.0 {
                        rows.add(Rule::ZeroWeight, w, "", i + 1);
                    }
                }
            }
            ColumnData::Cat { codes, levels } => {
                for (i, &c) in codes.iter().enumerate() {
                    if c == crate::table::MISSING_CODE {
                        rows.add(Rule::MissingWeight, w, "", i + 1);
                    } else {
                        match crate::table::sniff::parse_number(&levels[c as usize], false) {
                            None => rows.add(Rule::NotANumber, w, &levels[c as usize], i + 1),
                            Some(x) if x < 0.0 => rows.add(Rule::NegativeWeight, w, "", i + 1),
                            Some(0.0) => rows.add(Rule::ZeroWeight, w, "", i + 1),
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    findings.extend(
        rows.finish(|rule, column, value, count| describe(inst, rule, column, value, count)),
    );
    findings.sort_by(|a, b| b.severity().cmp(&a.severity()).then(a.rule.cmp(&b.rule)));
    Ok(findings)
}

/// Per-value checks of a coded or numeric item.
fn check_values(
    inst: &Instrument,
    item: &crate::instrument::Item,
    column: &str,
    values: &[f64],
    rows: &mut Collector,
) {
    match item.kind {
        ItemType::Coded => {
            let Some(scale) = item.scale.as_ref().and_then(|s| inst.scales.get(s)) else {
                return;
            };
            for (i, &x) in values.iter().enumerate() {
                if !x.is_nan() && !scale.is_valid(x) && !scale.is_missing_code(x) {
                    rows.add(
                        Rule::InvalidCode,
                        column,
                        &crate::table::format_number(x),
                        i + 1,
                    );
                }
            }
        }
        ItemType::Number => {
            for (i, &x) in values.iter().enumerate() {
                if x.is_nan() || item.missing.contains(&x) {
                    continue;
                }
                if item.min.is_some_and(|lo| x < lo) || item.max.is_some_and(|hi| x > hi) {
                    rows.add(
                        Rule::OutOfRange,
                        column,
                        &crate::table::format_number(x),
                        i + 1,
                    );
                } else if item.integer && x.fract() != 0.0 {
                    rows.add(
                        Rule::NotInteger,
                        column,
                        &crate::table::format_number(x),
                        i + 1,
                    );
                }
            }
        }
        ItemType::Text => {}
    }
}

fn describe(inst: &Instrument, rule: Rule, column: &str, value: &str, count: usize) -> String {
    let item = inst.items.values().find(|i| i.column == column);
    let rows = if count == 1 {
        "1 row".to_string()
    } else {
        format!("{count} rows")
    };
    match rule {
        Rule::InvalidCode => {
            let scale = item
                .and_then(|i| i.scale.as_ref())
                .and_then(|s| inst.scales.get(s));
            match scale {
                Some(s) => format!(
                    "{value} is not a code of scale `{}` ({}): {rows}",
                    s.id,
                    derive::code_list(s)
                ),
                None => format!("{value} is not a valid code: {rows}"),
            }
        }
        Rule::NotANumber => format!("`{value}` is not a number: {rows}"),
        Rule::OutOfRange => {
            let (lo, hi) = item.map_or((None, None), |i| (i.min, i.max));
            let fmt = |x: Option<f64>| x.map_or("-".to_string(), crate::table::format_number);
            format!("{value} is outside {}..{}: {rows}", fmt(lo), fmt(hi))
        }
        Rule::NotInteger => format!("{value} is not a whole number: {rows}"),
        Rule::MissingId => format!("no id: {rows}"),
        Rule::DuplicateId => format!("id {value} appears on {rows}"),
        Rule::AnsweredOutsideUniverse => {
            let u = item
                .and_then(|i| i.universe.as_ref())
                .map(|u| u.text.clone())
                .unwrap_or_default();
            format!("answered by {rows} outside the universe `{u}`")
        }
        Rule::MissingInsideUniverse => format!("no answer in {rows} inside the universe"),
        Rule::EmptyRow => format!("no answer to any survey item: {rows}"),
        Rule::MissingWeight => format!("no weight: {rows}"),
        Rule::NegativeWeight => format!("negative weight: {rows}"),
        Rule::ZeroWeight => format!("zero weight: {rows}"),
        Rule::DerivedMismatch => {
            format!("the file has {value} where the definition gives another value: {rows}")
        }
        _ => rows,
    }
}
