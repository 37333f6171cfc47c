//! `tasa weight`: calibrated weights equal R's row by row, the diagnostics report, the
//! non-response adjustment by hand, trimming with re-calibration, replicate weights that
//! repeat the calibration (and give the calibrated linearisation SE back), non-convergence
//! (exit 1) and every bad input with its message; and `tasa estimate --calibrate`'s checks.

use crate::harness::{parse_csv, repo, Test};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn reference(path: &str) -> PathBuf {
    repo("../shared/reference").join(path)
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// A CSV file as (header, rows).
fn read(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    parse_csv(&std::fs::read_to_string(path).expect("output written"))
}

/// The numbers of one column.
fn column(path: &std::path::Path, name: &str) -> Vec<f64> {
    let (h, rows) = read(path);
    let j = h
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    rows.iter().map(|r| num(&r[j])).collect()
}

/// The total of weight column `weight` over the rows of `file` whose `stype` is E.
fn e_total(file: &std::path::Path, weight: &str) -> f64 {
    let (h, rows) = read(file);
    let st = h.iter().position(|c| c == "stype").expect("stype");
    let w = column(file, weight);
    rows.iter()
        .zip(&w)
        .filter(|(r, _)| r[st] == "E")
        .map(|(_, w)| w)
        .sum()
}

/// R's calibrated weights, by 1-based row.
fn r_weights(file: &str) -> Vec<f64> {
    column(&reference(&format!("data/calweights/{file}")), "weight")
}

const CLUS1: [&str; 6] = ["--weight", "pw", "--cluster", "dnum", "--fpc", "fpc"];

fn margins(t: &Test) {
    t.write("stype.csv", "stype,total\nE,4421\nH,755\nM,1018\n");
    t.write("schwide.csv", "sch.wide,total\nNo,1072\nYes,5122\n");
    t.write("awards.csv", "awards,total\nNo,2027\nYes,4167\n");
}

#[test]
fn calibrated_weights_equal_r_row_by_row() {
    let data = reference("data/apiclus1.csv");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "clus1_ps.csv",
            vec!["--calibrate", "poststratify", "--margin", "stype.csv"],
        ),
        (
            "clus1_rake2.csv",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "stype.csv",
                "--margin",
                "schwide.csv",
            ],
        ),
        (
            "clus1_rake3.csv",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "stype.csv",
                "--margin",
                "schwide.csv",
                "--margin",
                "awards.csv",
            ],
        ),
        (
            "clus1_cal_linear.csv",
            vec![
                "--calibrate",
                "linear",
                "--margin",
                "stype.csv",
                "--margin-total",
                "api99=3914069",
            ],
        ),
        (
            "clus1_cal_raking.csv",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "stype.csv",
                "--margin-total",
                "api99=3914069",
            ],
        ),
        (
            "clus1_cal_logit.csv",
            vec![
                "--calibrate",
                "logit",
                "--margin",
                "stype.csv",
                "--margin-total",
                "api99=3914069",
                "--bounds",
                "0.7,1.7",
            ],
        ),
    ];
    for (file, flags) in cases {
        let t = Test::new();
        margins(&t);
        t.args(["weight"])
            .args([&data])
            .args(CLUS1)
            .args(&flags)
            .args(["-o", "out.csv"])
            .run()
            .code(0);
        let got = column(&t.path("out.csv"), "tasa_weight");
        let want = r_weights(file);
        assert_eq!(got.len(), want.len());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs() / b.abs())
            .fold(0.0f64, f64::max);
        assert!(worst < 1e-8, "{file}: weights differ from R by {worst:e}");
        // The input columns come first, unchanged; the weight is added at the end.
        let (header, _) = read(&t.path("out.csv"));
        assert_eq!(header.last().map(String::as_str), Some("tasa_weight"));
        assert_eq!(header[0], "cds");
    }
}

#[test]
fn report_states_targets_iterations_and_the_weight_distribution() {
    let t = Test::new();
    margins(&t);
    let out = t
        .args(["weight"])
        .args([reference("data/apiclus1.csv")])
        .args(CLUS1)
        .args([
            "--calibrate",
            "raking",
            "--margin",
            "stype.csv",
            "--margin",
            "schwide.csv",
        ])
        .args([
            "-o",
            "out.csv",
            "--report",
            "report.json",
            "--out-weight",
            "w_cal",
        ])
        .run()
        .code(0)
        .stderr_has("calibration (raking): 5 population totals met in")
        .stderr_has("design effect of weighting")
        .stderr_has("estimate with --weight w_cal");
    assert!(out.stdout.is_empty());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("report.json")).unwrap()).unwrap();
    let cal = &report["calibration"];
    assert_eq!(cal["method"], "raking");
    assert!(cal["iterations"].as_u64().unwrap() >= 2);
    assert!(cal["max_relative_misfit"].as_f64().unwrap() < 1e-10);
    let cells = cal["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 5);
    assert_eq!(cells[0]["cell"], "stype=E");
    assert_eq!(cells[0]["target"], 4421.0);
    // Before calibration: the design weights' total of E schools.
    let before = e_total(&reference("data/apiclus1.csv"), "pw");
    assert!((cells[0]["before"].as_f64().unwrap() - before).abs() < 1e-6);
    assert!((cells[0]["achieved"].as_f64().unwrap() - 4421.0).abs() < 1e-6);
    // The distribution of the final weights and the Kish design effect of weighting.
    let fin = column(&t.path("out.csv"), "w_cal");
    let s: f64 = fin.iter().sum();
    let s2: f64 = fin.iter().map(|x| x * x).sum();
    let kish = fin.len() as f64 * s2 / (s * s);
    let weights = &report["weights"];
    assert!((weights["kish_deff"].as_f64().unwrap() - kish).abs() < 1e-12);
    assert!((weights["effective_n"].as_f64().unwrap() - s * s / s2).abs() < 1e-9);
    assert!((weights["sum"].as_f64().unwrap() - 6194.0).abs() < 1e-6);
    assert_eq!(
        weights["max"].as_f64().unwrap(),
        fin.iter().cloned().fold(f64::MIN, f64::max)
    );
    assert!(report["error"].is_null());
}

/// A gross sample: 3 areas × 2 age groups; area 3, age 2 has no respondents.
fn gross_sample() -> String {
    let mut s = String::from("id,area,age,w,responded\n");
    let mut id = 0;
    for area in 1..=3 {
        for age in 1..=2 {
            for k in 0..6 {
                id += 1;
                let responded = if area == 3 && age == 2 {
                    0
                } else {
                    u8::from(k % 3 != 0)
                };
                s.push_str(&format!("{id},{area},{age},{},{responded}\n", 10 + area));
            }
        }
    }
    s
}

#[test]
fn nonresponse_adjustment_within_cells_and_collapsing() {
    let t = Test::new();
    t.write("sample.csv", gross_sample());
    let base = [
        "weight",
        "sample.csv",
        "--weight",
        "w",
        "--respondent",
        "responded",
    ];
    // A cell without respondents stops the run, naming the cell, and writes nothing.
    t.args(base)
        .args(["--nonresponse-cells", "area,age", "-o", "out.csv"])
        .run()
        .code(2)
        .stderr_has("area=3, age=2")
        .stderr_has("collapse");
    assert!(!t.path("out.csv").exists());

    // Collapsed: (3, 2) joins (3, 1), whose factor is then 12 / 4 = 3.
    let t = Test::new();
    t.write("sample.csv", gross_sample());
    t.args(base)
        .args([
            "--nonresponse-cells",
            "area,age",
            "--collapse",
            "-o",
            "out.csv",
        ])
        .args(["--report", "r.json"])
        .run()
        .code(0)
        .stderr_has("non-response: 20 of 36 rows responded")
        .stderr_has("6 cells (5 after collapsing)");
    let (h, rows) = read(&t.path("out.csv"));
    let idx = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (ia, ig, ir, iw) = (
        idx("area"),
        idx("age"),
        idx("responded"),
        idx("tasa_weight"),
    );
    let mut totals: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        let w = num(&r[iw]);
        if r[ir] == "0" {
            assert_eq!(w, 0.0, "a non-respondent keeps weight 0");
            continue;
        }
        let base = 10.0 + num(&r[ia]);
        let expected = if r[ia] == "3" { 3.0 } else { 1.5 } * base;
        assert!((w - expected).abs() < 1e-12, "{r:?}: {w} vs {expected}");
        *totals.entry(r[ia].clone()).or_default() += w;
        let _ = &r[ig];
    }
    // The weight total of each area is kept.
    for (area, total) in totals {
        let want = 12.0 * (10.0 + num(&area));
        assert!(
            (total - want).abs() < 1e-9,
            "area {area}: {total} vs {want}"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("r.json")).unwrap()).unwrap();
    let nr = &report["nonresponse"];
    assert_eq!(nr["respondents"], 20);
    assert_eq!(nr["final_cells"], 5);
    let merged: Vec<&str> = nr["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["merged_into"].is_null())
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(merged, ["area=3, age=1", "area=3, age=2"]);

    // A bad response indicator names the row, column and value.
    let t = Test::new();
    t.write("s.csv", "w,r\n1,1\n2,maybe\n");
    t.args([
        "weight",
        "s.csv",
        "--weight",
        "w",
        "--respondent",
        "r",
        "-o",
        "o.csv",
    ])
    .run()
    .code(2)
    .stderr_has("row 2, column `r`: expected a response indicator")
    .stderr_has("`maybe`");
}

#[test]
fn trimming_keeps_the_margins_and_the_bounds() {
    let t = Test::new();
    margins(&t);
    let out = t
        .args(["weight"])
        .args([reference("data/apiclus1.csv")])
        .args(CLUS1)
        .args([
            "--calibrate",
            "raking",
            "--margin",
            "stype.csv",
            "--margin",
            "awards.csv",
        ])
        .args(["--trim", "0.8,1.2", "-o", "out.csv", "--report", "r.json"])
        .run()
        .code(0)
        .stderr_has("trimming: bounds");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("r.json")).unwrap()).unwrap();
    let tr = &report["trimming"];
    let (lo, hi) = (tr["lower"].as_f64().unwrap(), tr["upper"].as_f64().unwrap());
    assert!(
        (lo / 0.8 - 6194.0 / 183.0).abs() < 1e-9,
        "bounds relative to the mean weight"
    );
    assert!(tr["trimmed_high"].as_u64().unwrap() + tr["trimmed_low"].as_u64().unwrap() > 0);
    let w = column(&t.path("out.csv"), "tasa_weight");
    let outside = tr["outside_after"].as_u64().unwrap() as usize;
    assert_eq!(
        outside,
        w.iter()
            .filter(|&&x| x < lo * (1.0 - 1e-4) || x > hi * (1.0 + 1e-4))
            .count()
    );
    if outside > 0 {
        assert!(out.stderr.contains("still outside the trimming bounds"));
    }
    // Margins still met after re-calibration.
    let e = e_total(&t.path("out.csv"), "tasa_weight");
    assert!((e - 4421.0).abs() < 1e-6, "E total {e}");
}

#[test]
fn replicates_repeat_the_calibration_and_reproduce_its_variance() {
    let t = Test::new();
    margins(&t);
    let data = reference("data/apiclus1.csv");
    t.args(["weight"])
        .args([&data])
        .args(CLUS1)
        .args([
            "--calibrate",
            "raking",
            "--margin",
            "stype.csv",
            "--margin",
            "schwide.csv",
        ])
        .args([
            "--replicates",
            "jk1",
            "-o",
            "out.csv",
            "--design-out",
            "out.toml",
        ])
        .run()
        .code(0)
        .stderr_has("replicates: 15 jk1, every weighting step repeated")
        .stderr_has("estimate with --design out.toml");
    let design = std::fs::read_to_string(t.path("out.toml")).unwrap();
    assert!(design.contains("weight = \"tasa_weight\""), "{design}");
    assert!(
        design.contains("repweights = \"tasa_weight_rep*\""),
        "{design}"
    );
    assert!(design.contains("rep_type = \"jk1\""), "{design}");
    // JK1 with an fpc: the scale (1 - f)(n - 1)/n must be written out.
    assert!(design.contains("rep_scale = "), "{design}");

    // Every replicate meets the margins.
    for r in 1..=15 {
        let e = e_total(&t.path("out.csv"), &format!("tasa_weight_rep{r}"));
        assert!((e - 4421.0).abs() < 1e-6, "replicate {r}: E total {e}");
    }

    // The replicate SE of the calibrated mean equals R's for the same replicates raked:
    //   rd <- as.svrepdesign(svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1), "JK1")
    //   SE(svymean(~api00, rake(rd, list(~stype, ~sch.wide), pop,
    //                           control = list(maxit = 1000, epsilon = 1e-13))))
    // = 26.87398044 (the calibrated linearisation SE is 23.70362: with 15 PSUs the two
    // variance estimators differ by 13 %).
    let rep = t
        .clear()
        .args([
            "estimate", "out.csv", "--design", "out.toml", "--mean", "api00", "--df", "inf",
        ])
        .run()
        .code(0);
    let (h, rows) = rep.csv();
    let se = num(&rows[0][h.iter().position(|c| c == "se").unwrap()]);
    assert!(
        (se / 26.87398044 - 1.0).abs() < 1e-8,
        "replicate SE {se} vs R 26.87398044"
    );
}

#[test]
fn non_convergence_exits_1_naming_the_worst_cell_and_writes_no_data() {
    let t = Test::new();
    margins(&t);
    t.args(["weight"])
        .args([reference("data/apiclus1.csv")])
        .args(CLUS1)
        .args(["--calibrate", "logit", "--bounds", "0.95,1.05"])
        .args(["--margin", "stype.csv", "--margin", "awards.csv"])
        .args(["-o", "out.csv", "--report", "r.json"])
        .run()
        .code(1)
        .stderr_has("logit calibration did not converge after 50 iterations: the worst cell is `")
        .stderr_has("widen --bounds");
    assert!(!t.path("out.csv").exists());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("r.json")).unwrap()).unwrap();
    assert!(report["error"]
        .as_str()
        .unwrap()
        .contains("did not converge"));
}

#[test]
fn bad_inputs_exit_2_with_their_message_and_no_output() {
    let data = reference("data/apiclus1.csv");
    let cases: Vec<(&str, &str, Vec<&str>, &str)> = vec![
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\n",
            vec!["--calibrate", "raking", "--margin", "m.csv"],
            "categories in the data have no population total in the margin: stype=M (",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\nX,10\n",
            vec!["--calibrate", "raking", "--margin", "m.csv"],
            "cells with a population but no respondents: stype=X (total 10)",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,many\nM,1018\n",
            vec!["--calibrate", "raking", "--margin", "m.csv"],
            "m.csv, row 2, column `total`: expected a non-negative number",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "m.csv",
                "--margin",
                "a.csv",
            ],
            "the margins' population totals disagree",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec!["--calibrate", "logit", "--margin", "m.csv"],
            "--calibrate logit needs finite --bounds",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec![
                "--calibrate",
                "poststratify",
                "--margin",
                "m.csv",
                "--margin",
                "m.csv",
            ],
            "--calibrate poststratify takes exactly one --margin file",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec!["--margin", "m.csv"],
            "--margin, --margin-total and --bounds need --calibrate",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "m.csv",
                "--bounds",
                "1.2,3",
            ],
            "the bounds on w/d must contain 1",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "m.csv",
                "--replicates",
                "brr",
            ],
            "brr replicates are for stratified designs with 2 PSUs per stratum",
        ),
        (
            "m.csv",
            "stype,total\nE,4421\nH,755\nM,1018\n",
            vec![
                "--calibrate",
                "raking",
                "--margin",
                "m.csv",
                "--replicates",
                "bootstrap:x",
            ],
            "--replicates `bootstrap:x`: the count after `:` must be a whole number",
        ),
        ("m.csv", "stype,total\n", vec![], "no weighting step"),
    ];
    for (name, margin, flags, message) in cases {
        let t = Test::new();
        t.write(name, margin);
        t.write("a.csv", "awards,total\nNo,2000\nYes,4167\n");
        let out = t
            .args(["weight"])
            .args([&data])
            .args(CLUS1)
            .args(&flags)
            .args(["-o", "out.csv"])
            .run();
        assert_eq!(out.code, 2, "{flags:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(message),
            "{flags:?}: expected {message:?} in\n{}",
            out.stderr
        );
        assert!(!t.path("out.csv").exists(), "{flags:?} left an output");
    }

    // The output may not be the input.
    let t = Test::new();
    t.write("d.csv", "y,w\n1,2\n2,2\n");
    t.args([
        "weight", "d.csv", "--weight", "w", "--trim", "0.5,2", "-o", "d.csv",
    ])
    .run()
    .code(2)
    .stderr_has("-o d.csv is an input of the weighting (the data d.csv)");
    assert_eq!(
        std::fs::read_to_string(t.path("d.csv")).unwrap(),
        "y,w\n1,2\n2,2\n"
    );
}

#[test]
fn estimate_calibrates_in_process_and_reads_design_files() {
    // The design file names margins relative to itself; estimate warns about the weighting
    // sections only `weight` runs.
    let t = Test::new();
    margins(&t);
    std::fs::create_dir_all(t.path("w")).unwrap();
    std::fs::rename(t.path("stype.csv"), t.path("w/stype.csv")).unwrap();
    t.write(
        "w/design.toml",
        "weight = \"pw\"\ncluster = [\"dnum\"]\nfpc = [\"fpc\"]\ncalibrate = \"poststratify\"\nmargin = [\"stype.csv\"]\n\n[trim]\nlower = 0.5\nupper = 2.0\n",
    );
    let out = t
        .args(["estimate"])
        .args([reference("data/apiclus1.csv")])
        .args([
            "--design",
            "w/design.toml",
            "--mean",
            "api00",
            "--df",
            "inf",
        ])
        .run()
        .code(0)
        .stderr_has("weights calibrated (poststratify) to 3 population totals")
        .stderr_has("warning: the design file's [trim] sections are weighting steps");
    let (h, rows) = out.csv();
    let get = |name: &str| num(&rows[0][h.iter().position(|c| c == name).unwrap()]);
    // R: clus1_ps_mean_api00.
    assert!(
        (get("estimate") / 642.3107882115821 - 1.0).abs() < 1e-9,
        "{}",
        get("estimate")
    );
    assert!((get("pop_size") - 6194.0).abs() < 1e-6);
}

#[test]
fn calibrated_domains_match_r_and_the_design_file_keeps_the_calibration() {
    // R: c2 <- calibrate(des, ~stype + sch.wide, c(6194, 755, 1018, 5122), calfun = "raking")
    //    svyby(~api00, ~awards, c2, svymean)
    //    No 622.980364174249 (SE 30.3879195009192), Yes 650.578719150625 (21.5023950220607)
    let t = Test::new();
    margins(&t);
    let data = reference("data/apiclus1.csv");
    let rake = [
        "--calibrate",
        "raking",
        "--margin",
        "stype.csv",
        "--margin",
        "schwide.csv",
    ];
    let check = |out: crate::harness::Output| {
        let (h, rows) = out.csv();
        let col = |name: &str| h.iter().position(|c| c == name).unwrap();
        let want = [
            ("No", 622.980364174249, 30.3879195009192),
            ("Yes", 650.578719150625, 21.5023950220607),
        ];
        for (group, est, se) in want {
            let r = rows
                .iter()
                .find(|r| r[col("by")] == "awards" && r[col("group")] == group)
                .unwrap_or_else(|| panic!("no row for awards={group}"));
            let (e, s) = (num(&r[col("estimate")]), num(&r[col("se")]));
            assert!(
                (e / est - 1.0).abs() < 1e-9,
                "{group}: estimate {e} vs R {est}"
            );
            assert!((s / se - 1.0).abs() < 1e-6, "{group}: SE {s} vs R {se}");
        }
    };
    let by = [
        "--mean",
        "api00",
        "--by",
        "awards",
        "--df",
        "inf",
        "--no-suppress",
    ];
    check(
        t.args(["estimate"])
            .args([&data])
            .args(CLUS1)
            .args(rake)
            .args(by)
            .run()
            .code(0),
    );
    // `weight --design-out` keeps the calibration, so estimating from its output gives the
    // same calibration-aware SEs.
    t.clear()
        .args(["weight"])
        .args([&data])
        .args(CLUS1)
        .args(rake)
        .args(["-o", "out.csv", "--design-out", "out.toml"])
        .run()
        .code(0);
    let design = std::fs::read_to_string(t.path("out.toml")).unwrap();
    assert!(design.contains("calibrate = \"raking\""), "{design}");
    check(
        t.clear()
            .args(["estimate", "out.csv", "--design", "out.toml"])
            .args(by)
            .run()
            .code(0),
    );
}

#[test]
fn rows_without_weight_take_no_part_in_post_stratified_variances() {
    // Non-respondents kept with weight 0 must not change the estimate or its SE.
    let t = Test::new();
    let mut full = String::from("psu,g,y,w\n");
    let mut respondents = full.clone();
    for i in 0..40 {
        let line = format!(
            "{},{},{},{}\n",
            i / 4,
            if i % 3 == 0 { "a" } else { "b" },
            i % 7,
            5 + i % 4
        );
        full.push_str(&line);
        respondents.push_str(&line);
        full.push_str(&format!(
            "{},{},,0\n",
            i / 4,
            if i % 2 == 0 { "a" } else { "b" }
        ));
    }
    t.write("full.csv", full);
    t.write("resp.csv", respondents);
    t.write("m.csv", "g,total\na,100\nb,180\n");
    let run = |file: &str| {
        let out = t
            .clear()
            .args(["estimate", file, "--weight", "w", "--cluster", "psu"])
            .args([
                "--calibrate",
                "poststratify",
                "--margin",
                "m.csv",
                "--mean",
                "y",
            ])
            .run()
            .code(0);
        let (h, rows) = out.csv();
        let col = |name: &str| h.iter().position(|c| c == name).unwrap();
        (num(&rows[0][col("estimate")]), num(&rows[0][col("se")]))
    };
    let (e1, s1) = run("resp.csv");
    let (e2, s2) = run("full.csv");
    assert!(
        (e1 - e2).abs() < 1e-12 && (s1 / s2 - 1.0).abs() < 1e-12,
        "{e1} {s1} vs {e2} {s2}"
    );
}

#[test]
fn stratum_population_base_weights_and_flag_errors() {
    // N_h / n_h: stratum 1 has 3 rows of 30, stratum 2 has 2 rows of 10.
    let t = Test::new();
    t.write("s.csv", "s,N,y\n1,30,1\n1,30,2\n1,30,3\n2,10,4\n2,10,5\n");
    t.args([
        "weight",
        "s.csv",
        "--strata",
        "s",
        "--stratum-population",
        "N",
        "-o",
        "o.csv",
    ])
    .run()
    .code(0);
    assert_eq!(
        column(&t.path("o.csv"), "tasa_weight"),
        [10.0, 10.0, 10.0, 5.0, 5.0]
    );

    let cases: Vec<(&str, Vec<&str>, &str)> =
        vec![
        (
            "s,N,y\n1,30,1\n1,31,2\n2,10,4\n2,10,5\n",
            vec!["--strata", "s", "--stratum-population", "N"],
            "row 2, column `N`: stratum `1` has population sizes 30 and 31; give one per stratum",
        ),
        (
            "s,N,y\n1,1,1\n1,1,2\n2,10,4\n2,10,5\n",
            vec!["--strata", "s", "--stratum-population", "N"],
            "stratum `1` has 2 sampled rows but a population of 1",
        ),
        (
            "s,p,N,y\n1,1,30,1\n1,1,30,2\n1,2,30,3\n1,2,30,4\n",
            vec!["--strata", "s", "--cluster", "p", "--stratum-population", "N"],
            "a clustered design needs --weight or --probs",
        ),
        (
            "s,N,y,w\n1,30,1,1\n1,30,2,1\n",
            vec!["--weight", "w", "--stratum-population", "N"],
            "not both",
        ),
        (
            "y,w\n1,1\n2,1\n",
            vec!["--weight", "w", "--nonresponse-cells", "y"],
            "need --respondent COL",
        ),
        (
            "y,w,r\n1,1,1\n2,1,0\n",
            vec!["--weight", "w", "--respondent", "r", "--max-factor", "0.5"],
            "--max-factor 0.5: an adjustment factor is at least 1",
        ),
        ("y,w\n1,1\n2,1\n", vec!["--weight", "w", "--seed", "3"], "add --replicates TYPE[:R]"),
        ("y,w\n1,1\n2,1\n", vec!["--weight", "w", "--trim", "2,3"], "LO < 1 < HI"),
        ("y,w\n1,1\n2,1\n", vec!["--weight", "w", "--trim", "x"], "--trim `x`: write LO,HI"),
    ];
    for (data, flags, message) in cases {
        let t = Test::new();
        t.write("d.csv", data);
        t.args(["weight", "d.csv"])
            .args(&flags)
            .args(["-o", "o.csv"])
            .run()
            .code(2)
            .stderr_has(message);
        assert!(!t.path("o.csv").exists(), "{flags:?} left an output");
    }
}
