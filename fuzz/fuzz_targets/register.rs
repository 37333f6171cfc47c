//! Register files as `tasa join` reads them: the input up to its first NUL byte is the
//! metrics file (TOML), the rest the register (CSV). The register is also read as a
//! classification (municipality/area/region columns), aggregated to the survey's level with
//! the metrics' keys, every cell is computed, and register gaps are taken when it has groups.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tasa::register::aggregate::{Register, Setup};
use tasa::register::classification::Classification;
use tasa::register::gaps::{register_gaps, Measures};
use tasa::register::metrics::{Kind, Level, Metric, Metrics};
use tasa::table::read::{read_table_bytes, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let Ok(toml) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let csv = data.get(split + 1..).unwrap_or(&[]).to_vec();
    let Ok(mut metrics) = Metrics::parse(toml, Path::new("register.toml")) else {
        return;
    };
    let Ok(table) = read_table_bytes(csv, Path::new("register.csv"), &ReadOptions::default())
    else {
        return;
    };
    let keys = metrics.keys.clone();
    let unit_column = keys.unit.clone().unwrap_or_else(|| "area".into());
    let period_column = keys
        .period
        .clone()
        .or_else(|| table.column("period").map(|_| "period".to_string()));
    if metrics.metrics.is_empty() {
        // As `tasa join` does without declarations: every other numeric column is a value.
        for c in table.columns() {
            let key = c.name == unit_column
                || Some(&c.name) == keys.group.as_ref()
                || Some(&c.name) == period_column.as_ref();
            if !key && c.is_numeric() {
                metrics.declare(Metric::plain(&c.name, Kind::Value, &c.name, None));
            }
        }
    }
    let period = period_column
        .as_deref()
        .and_then(|p| table.column(p))
        .filter(|c| !c.is_empty())
        .and_then(|c| c.text(0));
    let classification = Classification::from_table(table.clone()).ok();
    let register_level = keys.level.unwrap_or(if classification.is_some() {
        Level::Municipality
    } else {
        Level::Area
    });
    let setup = Setup {
        metrics: &metrics.metrics,
        unit_column,
        register_level,
        target_level: Level::Area,
        classification: classification.as_ref(),
        period_column,
        // The first row's period, as `--period` would name one of several.
        period,
        group_column: keys.group.clone(),
        total: keys.total.clone(),
        level: 0.95,
        min_base: 3.0,
    };
    let Ok(register) = Register::build(&table, &setup) else {
        return;
    };
    for unit in std::iter::once(None).chain(register.units.iter().map(|u| Some(u.as_str()))) {
        let _ = register.cell(unit, None);
        for group in &register.groups {
            let _ = register.cell(unit, Some(group));
        }
    }
    if let Ok(measures) = Measures::parse("difference,ratio") {
        let _ = register_gaps(
            &register,
            "area",
            "group",
            keys.reference.as_deref(),
            measures,
        );
    }
});
