//! Every calibration case of the shared R reference (`design.calibration` not null) rebuilt
//! from its JSON description: calibrated weights at 1e-9 relative, estimates at 1e-9 and
//! standard errors at 1e-6; plus fixtures made with R 4.2 / survey 4.1-1 for `rake()` with
//! its default control and bounded linear calibration (`testdata/`, see its README).

use super::*;
use crate::design::{Design, DesignOptions};
use crate::table::read::{read_table, ReadOptions};
use crate::table::Table;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference")
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/weighting/testdata")
}

/// Whether `x <= tol` (false for NaN).
fn within(x: f64, tol: f64) -> bool {
    x <= tol
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(1e-300)
    }
}

/// Reads a CSV with a header into (header, rows of fields) without interpreting it.
fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).expect("fixture readable");
    r.records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect()
}

/// The `weight` column (last) of a weights file, by 1-based `row` (first column).
fn read_weights(path: &Path, n: usize) -> Vec<f64> {
    let mut w = vec![f64::NAN; n];
    for rec in read_csv(path) {
        let row: usize = rec[0].parse().expect("row");
        w[row - 1] = rec[rec.len() - 1].parse().expect("weight");
    }
    w
}

fn design_of(table: &Table, design: &Value) -> Design {
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let options = DesignOptions {
        weight: design["weight"].as_str().map(str::to_string),
        strata: design["strata"].as_str().map(str::to_string),
        clusters: strs(&design["cluster"]),
        fpc: strs(&design["fpc"]),
        nest: design["nest"].as_bool().unwrap_or(false),
        ..Default::default()
    };
    Design::build(table, &options).expect("design")
}

fn text(table: &Table, var: &str, i: usize) -> Option<String> {
    table.column(var).expect("column").text(i)
}

fn margin_of(table: &Table, m: &Value) -> Margin {
    let var = m["variables"][0].as_str().expect("variable");
    let totals = m["totals"].as_object().expect("totals");
    let names: Vec<&String> = totals.keys().collect();
    let cells = (0..table.nrows())
        .map(|i| {
            let t = text(table, var, i).expect("no missing margin values");
            names
                .iter()
                .position(|n| **n == t)
                .expect("level in margin") as u32
        })
        .collect();
    Margin {
        name: var.to_string(),
        cells,
        totals: totals
            .values()
            .map(|v| v.as_f64().expect("total"))
            .collect(),
    }
}

fn aux_of(table: &Table, constraints: &Value) -> Auxiliaries {
    let n = table.nrows();
    let mut aux = Auxiliaries::new(n);
    for c in constraints.as_array().expect("constraints") {
        let name = c["term"].as_str().expect("term");
        let total = c["total"].as_f64().expect("total");
        match c["type"].as_str().expect("type") {
            "intercept" => aux.push_intercept(name, total),
            "indicator" => {
                let var = c["variable"].as_str().expect("variable");
                let level = c["level"].as_str().expect("level");
                let rows = (0..n)
                    .filter(|&i| text(table, var, i).as_deref() == Some(level))
                    .map(|i| i as u32)
                    .collect();
                aux.push_indicator(name, rows, total).expect("indicator");
            }
            "numeric" => {
                let var = c["variable"].as_str().expect("variable");
                let v = table.require_num(var).expect("numeric").to_vec();
                aux.push_numeric(name, v, total).expect("numeric");
            }
            other => panic!("unknown constraint type {other}"),
        }
    }
    aux
}

/// What a case calibrates with, and how its variance scores are adjusted.
enum Fitted {
    Cal(Auxiliaries),
    Ps(Margin),
    Rake(Vec<Margin>, Raked),
}

fn fit(table: &Table, d: &[f64], cal: &Value) -> (Vec<f64>, Fitted) {
    let control = |c: &Value| {
        c.get("control").filter(|v| v.is_object()).map(|v| Control {
            epsilon: v["epsilon"].as_f64().expect("epsilon"),
            maxit: v["maxit"].as_u64().expect("maxit") as usize,
        })
    };
    let bounds = |c: &Value| match c.get("bounds").and_then(Value::as_array) {
        Some(b) => Bounds {
            lower: b[0].as_f64().expect("L"),
            upper: b[1].as_f64().expect("U"),
        },
        None => Bounds::NONE,
    };
    let method = cal["method"].as_str().expect("method");
    match method {
        "poststratify" => {
            let m = margin_of(table, &cal["margins"][0]);
            (post_stratify(d, &m).expect("post_stratify"), Fitted::Ps(m))
        }
        "rake" => {
            let margins: Vec<Margin> = cal["margins"]
                .as_array()
                .expect("margins")
                .iter()
                .map(|m| margin_of(table, m))
                .collect();
            let c = control(cal)
                .map(|c| RakeControl {
                    maxit: c.maxit,
                    epsilon: c.epsilon,
                })
                .unwrap_or_default();
            let raked = rake(d, &margins, c).expect("rake");
            (raked.weights.clone(), Fitted::Rake(margins, raked))
        }
        "linear" | "raking" | "logit" => {
            let aux = aux_of(table, &cal["constraints"]);
            let m = match method {
                "linear" => Method::Linear,
                "raking" => Method::Raking,
                _ => Method::Logit,
            };
            let c = control(cal).unwrap_or(Control {
                epsilon: 1e-7,
                maxit: 50,
            });
            let out = calibrate(d, &aux, m, bounds(cal), c).expect("calibrate");
            (out.weights, Fitted::Cal(aux))
        }
        other => panic!("unsupported calibration {other}"),
    }
}

/// Estimate and SE of one result row: mean / total of a numeric variable, or a proportion /
/// count of one category.
#[allow(clippy::too_many_arguments)]
fn estimate(
    table: &Table,
    design: &Design,
    d: &[f64],
    w: &[f64],
    fitted: &Fitted,
    stat: &str,
    variable: &str,
    category: Option<&str>,
) -> (f64, f64) {
    let n = table.nrows();
    let y: Vec<f64> = match category {
        Some(level) => (0..n)
            .map(|i| f64::from(u8::from(text(table, variable, i).as_deref() == Some(level))))
            .collect(),
        None => table.require_num(variable).expect("numeric").to_vec(),
    };
    let sw: f64 = w.iter().sum();
    let t: f64 = w.iter().zip(&y).map(|(w, y)| w * y).sum();
    let (est, z): (f64, Vec<f64>) = match stat {
        "total" => (t, w.iter().zip(&y).map(|(w, y)| w * y).collect()),
        "mean" | "proportion" => {
            let m = t / sw;
            (m, w.iter().zip(&y).map(|(w, y)| w * (y - m) / sw).collect())
        }
        other => panic!("stat {other}"),
    };
    let zr = match fitted {
        Fitted::Cal(aux) => greg_residuals(d, w, aux, &z).expect("residuals"),
        Fitted::Ps(m) => post_stratify_residuals(d, w, m, &z).expect("residuals"),
        Fitted::Rake(margins, raked) => rake_residuals(margins, raked, &z).expect("residuals"),
    };
    let rows: Vec<u32> = (0..n as u32).collect();
    let v = design.variance(&rows, &zr).expect("variance");
    (est, v.sqrt())
}

#[test]
fn reference_calibration_cases() {
    let text_json = std::fs::read_to_string(reference().join("cases.json")).expect("cases.json");
    let all: Value = serde_json::from_str(&text_json).expect("json");
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in all["cases"].as_array().expect("cases") {
        let cal = &case["design"]["calibration"];
        if cal.is_null() || case["expect_error"].as_bool() == Some(true) {
            continue;
        }
        seen += 1;
        let id = case["id"].as_str().expect("id");
        let ds = reference().join(case["dataset"].as_str().expect("dataset"));
        let table = read_table(&ds, &ReadOptions::default()).expect("dataset");
        let design = design_of(&table, &case["design"]);
        let d = design.weights.clone();
        let (w, fitted) = fit(&table, &d, cal);
        let want_w = read_weights(
            &reference().join(cal["weights_file"].as_str().expect("file")),
            table.nrows(),
        );
        let dw = w
            .iter()
            .zip(&want_w)
            .map(|(a, b)| rel(*a, *b))
            .fold(0.0f64, f64::max);
        if !within(dw, 1e-9) {
            failures.push(format!("{id}: weights differ by {dw:e}"));
        }
        let stat = case["stat"].as_str().expect("stat");
        let variable = case["variable"].as_str().expect("variable");
        for r in case["results"].as_array().expect("results") {
            let category = r["category"].as_str();
            let (est, se) = estimate(&table, &design, &d, &w, &fitted, stat, variable, category);
            let want_est = r["estimate"].as_f64().expect("estimate");
            let want_se = r["se"].as_f64().expect("se");
            let (de, ds) = (rel(est, want_est), rel(se, want_se));
            report.push(format!(
                "{id} {}: weights {dw:.1e}, estimate {est} vs {want_est} ({de:.1e}), se {se} vs {want_se} ({ds:.1e})",
                category.unwrap_or("")
            ));
            if !within(de, 1e-9) || !within(ds, 1e-6) {
                failures.push(format!(
                    "{id} {}: estimate {est} vs R {want_est} ({de:e}), se {se} vs R {want_se} ({ds:e})",
                    category.unwrap_or("")
                ));
            }
        }
    }
    for line in &report {
        eprintln!("{line}");
    }
    assert!(seen >= 11, "found {seen} calibration cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Weights and results of a fixture made in R (`testdata/README.md`).
fn fixture(name: &str, n: usize) -> (Vec<f64>, Vec<(String, f64, f64)>) {
    let w = read_weights(&testdata().join(format!("{name}_weights.csv")), n);
    let res = read_csv(&testdata().join(format!("{name}_results.csv")))
        .into_iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].parse().expect("estimate"),
                r[2].parse().expect("se"),
            )
        })
        .collect();
    (w, res)
}

fn clus1() -> (Table, Design) {
    let table = read_table(
        &reference().join("data/apiclus1.csv"),
        &ReadOptions::default(),
    )
    .expect("apiclus1");
    let design = design_of(
        &table,
        &serde_json::json!({"weight": "pw", "cluster": ["dnum"], "fpc": ["fpc"]}),
    );
    (table, design)
}

fn pop_margin(table: &Table, var: &str, cells: &[(&str, f64)]) -> Margin {
    let mut totals = serde_json::Map::new();
    for (k, v) in cells {
        totals.insert(k.to_string(), serde_json::json!(v));
    }
    margin_of(
        table,
        &serde_json::json!({"variables": [var], "totals": Value::Object(totals)}),
    )
}

fn clus1_margins(table: &Table) -> Vec<Margin> {
    vec![
        pop_margin(
            table,
            "stype",
            &[("E", 4421.0), ("H", 755.0), ("M", 1018.0)],
        ),
        pop_margin(table, "sch.wide", &[("No", 1072.0), ("Yes", 5122.0)]),
        pop_margin(table, "awards", &[("No", 2027.0), ("Yes", 4167.0)]),
    ]
}

fn check_fixture(table: &Table, design: &Design, w: &[f64], fitted: &Fitted, name: &str) {
    let d = design.weights.clone();
    let (want_w, results) = fixture(name, table.nrows());
    let dw = w
        .iter()
        .zip(&want_w)
        .map(|(a, b)| rel(*a, *b))
        .fold(0.0f64, f64::max);
    assert!(dw <= 1e-9, "{name}: weights differ by {dw:e}");
    for (stat, want_est, want_se) in results {
        let (s, var) = stat.split_once('_').expect("stat_variable");
        let (est, se) = estimate(table, design, &d, w, fitted, s, var, None);
        eprintln!("{name} {stat}: weights {dw:.1e}, estimate {est} vs {want_est} ({:.1e}), se {se} vs {want_se} ({:.1e})",
            rel(est, want_est), rel(se, want_se));
        assert!(
            rel(est, want_est) <= 1e-9,
            "{name} {stat}: {est} vs {want_est}"
        );
        assert!(
            rel(se, want_se) <= 1e-6,
            "{name} {stat}: se {se} vs {want_se}"
        );
    }
}

#[test]
fn rake_with_r_default_control() {
    // rake(des, list(~stype, ~sch.wide, ~awards), ...) with control maxit 10, epsilon 1.
    let (table, design) = clus1();
    let margins = clus1_margins(&table);
    let raked = rake(&design.weights, &margins, RakeControl::default()).expect("rake");
    let w = raked.weights.clone();
    check_fixture(
        &table,
        &design,
        &w,
        &Fitted::Rake(margins, raked),
        "clus1_rake3default",
    );
}

#[test]
fn bounded_linear_calibration() {
    // calibrate(des, ~stype+api99, pop_tot, calfun="linear", bounds=c(0.7,1.7), epsilon=1e-13, maxit=100)
    let (table, design) = clus1();
    let aux = linear_aux(&table, false);
    let b = Bounds {
        lower: 0.7,
        upper: 1.7,
    };
    let c = Control {
        epsilon: 1e-13,
        maxit: 100,
    };
    let out = calibrate(&design.weights, &aux, Method::Linear, b, c).expect("calibrate");
    assert!(out
        .g
        .iter()
        .all(|g| (0.7 - 1e-12..=1.7 + 1e-12).contains(g)));
    check_fixture(
        &table,
        &design,
        &out.weights,
        &Fitted::Cal(aux),
        "clus1_cal_linear_bounded",
    );
}

/// `~stype + api99` with R's totals; `full` adds a redundant indicator of stype E.
fn linear_aux(table: &Table, full: bool) -> Auxiliaries {
    let mut c = serde_json::json!([
        {"term": "(Intercept)", "type": "intercept", "total": 6194.0},
        {"term": "stypeH", "type": "indicator", "variable": "stype", "level": "H", "total": 755.0},
        {"term": "stypeM", "type": "indicator", "variable": "stype", "level": "M", "total": 1018.0},
        {"term": "api99", "type": "numeric", "variable": "api99", "total": 3914069.0}
    ]);
    if full {
        if let Some(a) = c.as_array_mut() {
            a.push(serde_json::json!({"term": "stypeE", "type": "indicator", "variable": "stype", "level": "E", "total": 4421.0}));
        }
    }
    aux_of(table, &c)
}

#[test]
fn redundant_constraints_use_the_generalized_inverse() {
    let (table, design) = clus1();
    let d = &design.weights;
    // Linear closed form with a redundant cell indicator = R's clus1_cal_linear weights,
    // and the same variance scores.
    let aux = linear_aux(&table, true);
    let out = calibrate(d, &aux, Method::Linear, Bounds::NONE, Control::default()).expect("cal");
    let want = read_weights(
        &reference().join("data/calweights/clus1_cal_linear.csv"),
        table.nrows(),
    );
    let dw = out
        .weights
        .iter()
        .zip(&want)
        .map(|(a, b)| rel(*a, *b))
        .fold(0.0f64, f64::max);
    assert!(dw <= 1e-9, "linear with redundant column: {dw:e}");
    let (_, se_full) = estimate(
        &table,
        &design,
        d,
        &out.weights,
        &Fitted::Cal(aux),
        "mean",
        "api00",
        None,
    );
    assert!(rel(se_full, 3.441753116404808) <= 1e-6, "se {se_full}");

    // Raking on every cell of two margins (each margin sums to N: rank p - 1) converges to
    // the same weights as IPF to convergence (R's clus1_rake2 weights).
    let margins = clus1_margins(&table);
    let mut aux = Auxiliaries::new(table.nrows());
    for m in &margins[..2] {
        let cells: Vec<(String, f64)> = m
            .totals
            .iter()
            .enumerate()
            .map(|(k, t)| (format!("{}{k}", m.name), *t))
            .collect();
        aux.push_margin(&m.cells, &cells).expect("margin");
    }
    let out = calibrate(d, &aux, Method::Raking, Bounds::NONE, Control::default()).expect("rake");
    let want = read_weights(
        &reference().join("data/calweights/clus1_rake2.csv"),
        table.nrows(),
    );
    let dw = out
        .weights
        .iter()
        .zip(&want)
        .map(|(a, b)| rel(*a, *b))
        .fold(0.0f64, f64::max);
    eprintln!(
        "raking calibration vs converged rake2: {dw:e} in {} iterations",
        out.iterations
    );
    assert!(dw <= 1e-9, "raking with redundant margins: {dw:e}");
    // The converged IPF form gives the same weights.
    let ipf = rake(d, &margins[..2], RakeControl::CONVERGED).expect("ipf");
    assert!(ipf.converged);
    let dw = ipf
        .weights
        .iter()
        .zip(&want)
        .map(|(a, b)| rel(*a, *b))
        .fold(0.0f64, f64::max);
    assert!(dw <= 1e-9, "converged IPF: {dw:e}");
}

#[test]
fn non_convergence_names_the_worst_constraint() {
    // R: "Failed to converge: eps=0.3629 in 101 iterations" for bounds (0.8, 1.3) and
    // maxit 100; R counts one past the last step, tasa reports the steps taken (maxit).
    let (table, design) = clus1();
    let aux = linear_aux(&table, false);
    let b = Bounds {
        lower: 0.8,
        upper: 1.3,
    };
    let err = calibrate(&design.weights, &aux, Method::Linear, b, Control::default())
        .expect_err("infeasible bounds");
    match &err {
        CalibrationError::NotConverged {
            constraint,
            iterations,
            ..
        } => {
            assert!(aux.names().contains(constraint));
            assert_eq!(*iterations, 50);
        }
        other => panic!("{other}"),
    }
    assert_eq!(err.code(), 1);
    assert!(err.to_string().contains("did not converge"));
}

#[test]
fn invalid_problems_are_errors_not_panics() {
    let d = vec![1.0, 2.0, 3.0];
    let mut aux = Auxiliaries::new(3);
    aux.push_intercept("(Intercept)", 10.0);
    assert!(aux
        .push_numeric("x", vec![1.0, f64::NAN, 2.0], 5.0)
        .is_err());
    assert!(aux.push_indicator("c", vec![7], 1.0).is_err());
    aux.push_indicator("empty", vec![], 2.0).expect("push");
    let e = calibrate(&d, &aux, Method::Raking, Bounds::NONE, Control::default());
    assert!(matches!(e, Err(CalibrationError::Invalid(_))));
    let e = calibrate(
        &d[..2],
        &aux,
        Method::Linear,
        Bounds::NONE,
        Control::default(),
    );
    assert!(matches!(e, Err(CalibrationError::Invalid(_))));
    let e = calibrate(&d, &aux, Method::Logit, Bounds::NONE, Control::default());
    assert!(matches!(e, Err(CalibrationError::Invalid(_))));
    let m = Margin {
        name: "v".into(),
        cells: vec![0, 0, 1],
        totals: vec![5.0, 0.0, 3.0],
    };
    assert!(post_stratify(&d, &m).is_err());
    let m = Margin {
        name: "v".into(),
        cells: vec![0, 0, 5],
        totals: vec![5.0, 3.0],
    };
    assert!(post_stratify(&d, &m).is_err());
    assert!(rake(&d, &[], RakeControl::default()).is_err());
}

#[test]
fn post_stratification_formula() {
    let d = vec![1.0, 3.0, 2.0, 2.0];
    let m = Margin {
        name: "v".into(),
        cells: vec![0, 0, 1, 1],
        totals: vec![8.0, 2.0],
    };
    let w = post_stratify(&d, &m).expect("ps");
    assert_eq!(w, vec![2.0, 6.0, 1.0, 1.0]);
    // Scores of a total of y: residuals z - w * (sum_g z / sum_g w).
    let y = [1.0, 2.0, 3.0, 5.0];
    let z: Vec<f64> = w.iter().zip(&y).map(|(w, y)| w * y).collect();
    let r = post_stratify_residuals(&d, &w, &m, &z).expect("res");
    let want = [
        2.0 - 2.0 * 14.0 / 8.0,
        12.0 - 6.0 * 14.0 / 8.0,
        3.0 - 4.0,
        5.0 - 4.0,
    ];
    for (a, b) in r.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12);
    }
}
