//! `tasa compare A B`: differences of matched estimates of two independent surveys against
//! R (two samples of the California API population: the stratified and the cluster sample of
//! `../shared/reference/data`), directly standardised comparisons, indicators matched through
//! two instruments whose items differ, waves, and every bad input with its message.
//!
//! R set-up: `ds <- svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)`;
//! `dc <- svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)`.

// R's numbers are quoted with all the digits it printed.
#![allow(clippy::excessive_precision)]

use crate::harness::{repo, Test};
use std::collections::HashMap;
use std::path::PathBuf;

const INST: &str = "instruments/service-equality.toml";

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/data")
        .join(name);
    assert!(p.exists(), "missing reference data {}", p.display());
    p.display().to_string()
}

/// Design files of the two API samples.
fn designs(t: &Test) -> (String, String) {
    let a = t.write(
        "strat.toml",
        "strata = \"stype\"\nweight = \"pw\"\nfpc = [\"fpc\"]\n",
    );
    let b = t.write(
        "clus.toml",
        "cluster = [\"dnum\"]\nweight = \"pw\"\nfpc = [\"fpc\"]\n",
    );
    (a.display().to_string(), b.display().to_string())
}

fn records(out: &crate::harness::Output) -> Vec<HashMap<String, String>> {
    let (h, rows) = out.csv();
    rows.into_iter()
        .map(|r| h.iter().cloned().zip(r).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    ((a - b) / b.abs().max(1e-300)).abs() < tol
}

fn row<'a>(rows: &'a [HashMap<String, String>], group: &str) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["group"] == group)
        .unwrap_or_else(|| panic!("no row for group {group:?}"))
}

/// Asserts both sides against R (`svymean`/`svyby` on each design) and the difference,
/// its SE sqrt(se_a² + se_b²), the normal interval and the p-value.
fn check(r: &HashMap<String, String>, a: (f64, f64), b: (f64, f64)) {
    let g = &r["group"];
    assert!(close(num(&r["estimate_a"]), a.0, 1e-9), "{g}: {r:?}");
    assert!(close(num(&r["se_a"]), a.1, 1e-6), "{g}: {r:?}");
    assert!(close(num(&r["estimate_b"]), b.0, 1e-9), "{g}: {r:?}");
    assert!(close(num(&r["se_b"]), b.1, 1e-6), "{g}: {r:?}");
    let diff = a.0 - b.0;
    let se = (a.1 * a.1 + b.1 * b.1).sqrt();
    assert!(close(num(&r["difference"]), diff, 1e-9), "{g}: {r:?}");
    assert!(close(num(&r["se"]), se, 1e-6), "{g}: {r:?}");
    if r["df"].is_empty() {
        let z = 1.959963984540054;
        assert!(close(num(&r["ci_low"]), diff - z * se, 1e-6), "{g}: {r:?}");
        assert!(close(num(&r["ci_high"]), diff + z * se, 1e-6), "{g}: {r:?}");
    }
}

/// `svymean(~api00, ds)`, `svymean(~api00, dc)` and `svyby(~api00, ~stype, ., svymean)`; the
/// df of each difference is Welch–Satterthwaite from the design df (197 and 14).
#[test]
fn two_independent_samples_match_r() {
    let t = Test::new();
    let (da, db) = designs(&t);
    let out = t
        .args(["compare", &data("apistrat.csv"), &data("apiclus1.csv")])
        .args(["--design-a", &da, "--design-b", &db])
        .args(["--mean", "api00", "--by", "stype", "--no-suppress"])
        .run()
        .code(0)
        .stderr_has("4 comparisons of survey A");
    let rows = records(&out);
    assert_eq!(
        out.csv().0,
        [
            "indicator",
            "stat",
            "variable",
            "category",
            "by",
            "group",
            "estimate_a",
            "se_a",
            "n_a",
            "estimate_b",
            "se_b",
            "n_b",
            "difference",
            "se",
            "ci_low",
            "ci_high",
            "df",
            "p_value",
            "flag"
        ]
    );
    let all = row(&rows, "");
    check(
        all,
        (662.2873631593207620, 9.4089408027845796),
        (644.1693989071038686, 23.5422406937810393),
    );
    let (va, vb) = (
        9.4089408027845796f64.powi(2),
        23.5422406937810393f64.powi(2),
    );
    let welch = (va + vb).powi(2) / (va * va / 197.0 + vb * vb / 14.0);
    assert!(close(num(&all["df"]), welch, 1e-9), "{all:?}");
    assert_eq!((all["n_a"].as_str(), all["n_b"].as_str()), ("200", "183"));
    check(
        row(&rows, "E"),
        (674.42999999999995, 12.382479793907287),
        (648.86805555555554, 22.362408893831891),
    );
    check(
        row(&rows, "H"),
        (625.81999999999994, 14.937129185393079),
        (618.57142857142856, 38.020249359407529),
    );
    // 14 high schools in the cluster sample: suppressed (n < 30), kept by --no-suppress.
    assert_eq!(row(&rows, "H")["flag"], "suppressed");
    check(
        row(&rows, "M"),
        (636.60000000000002, 16.214707308184522),
        (631.44000000000005, 31.609465227245526),
    );
}

/// Design flags on the command line apply to both surveys:
/// `svymean(~api00, svydesign(id=~1, weights=~pw, data=.))` on each file.
#[test]
fn design_flags_apply_to_both_surveys() {
    let t = Test::new();
    let out = t
        .args(["compare", &data("apistrat.csv"), &data("apiclus1.csv")])
        .args(["--weight", "pw", "--mean", "api00", "--df", "inf"])
        .run()
        .code(0);
    let rows = records(&out);
    check(
        row(&rows, ""),
        (662.2873631593207620, 9.5854288763731255),
        (644.1693989071038686, 7.8171811596296035),
    );
}

/// Both samples standardised to the cluster sample's weighted school-type structure:
/// `popB <- svytable(~stype, dc)`; `svystandardize(ds, by=~stype, over=~awards,
/// population=as.vector(popB))` and the same on `dc`, then `svyby(~api00, ~awards, .,
/// svymean)`; the whole population with `over=~1`.
#[test]
fn standardised_to_survey_b_matches_r() {
    let t = Test::new();
    let (da, db) = designs(&t);
    let out = t
        .args(["compare", &data("apistrat.csv"), &data("apiclus1.csv")])
        .args(["--design-a", &da, "--design-b", &db])
        .args(["--mean", "api00", "--by", "awards"])
        .args(["--standardize", "stype", "--standard", "b", "--df", "inf"])
        .run()
        .code(0)
        .stderr_has("standardised by stype to survey B");
    let rows = records(&out);
    let a_all = row(&rows, "");
    assert!(close(num(&a_all["estimate_a"]), 665.543169398907025, 1e-9));
    assert!(close(num(&a_all["se_a"]), 10.057343963203678, 1e-6));
    check(
        row(&rows, "No"),
        (647.61932019550159, 20.525382395540422),
        (626.63073356515986, 33.146420039601907),
    );
    check(
        row(&rows, "Yes"),
        (678.11222459265912, 11.625926849461678),
        (650.16154868613887, 22.152234523164012),
    );
    // A file with the same structure gives the same numbers.
    let file = t.write(
        "std.csv",
        "stype,population\nE,4873.9675\nH,473.8579\nM,846.1749\n",
    );
    t.clear();
    let out = t
        .args(["compare", &data("apistrat.csv"), &data("apiclus1.csv")])
        .args(["--design-a", &da, "--design-b", &db])
        .args(["--mean", "api00", "--by", "awards"])
        .args(["--standardize", "stype", "--standard"])
        .args([file.to_str().unwrap(), "--df", "inf"])
        .run()
        .code(0);
    let again = records(&out);
    assert!(close(
        num(&row(&again, "No")["estimate_a"]),
        647.61932019550159,
        1e-6
    ));
}

/// Two simulated surveys of job seekers (different samples of one population; n = 3000, as
/// smaller samples leave some offices with one respondent, a design the default
/// `--lonely-psu fail` refuses).
fn simulated(t: &Test) -> (PathBuf, PathBuf) {
    for (seed, dir) in [("1", "a"), ("2", "b")] {
        t.clear();
        t.args(["simulate", "--n", "3000", "--seed", seed, "--out"])
            .args([t.path(dir).to_str().unwrap(), "-i"])
            .args([repo(INST).to_str().unwrap(), "-q"])
            .run()
            .code(0);
    }
    t.clear();
    (t.path("a"), t.path("b"))
}

/// Survey B's instrument names the appointment item `k_appoint` and its indicator
/// `quick_appointment`; B's file has the column `k_appoint`. Paired with
/// `--indicator appointment_quick=quick_appointment`, the comparison equals the one with one
/// instrument for both.
#[test]
fn indicators_are_matched_through_the_instruments() {
    let t = Test::new();
    let (a, b) = simulated(&t);
    let text = std::fs::read_to_string(repo(INST)).unwrap();
    let inst_b = t.write(
        "inst_b.toml",
        text.replace("acc_appoint", "k_appoint").replace(
            "[indicators.appointment_quick]",
            "[indicators.quick_appointment]",
        ),
    );
    let resp_b = std::fs::read_to_string(b.join("responses.csv")).unwrap();
    let (header, body) = resp_b.split_once('\n').unwrap();
    assert!(header.contains("acc_appoint"));
    let renamed = t.write(
        "b_renamed.csv",
        format!("{}\n{body}", header.replace("acc_appoint", "k_appoint")),
    );
    let (design_a, design_b) = (a.join("design.toml"), b.join("design.toml"));
    let common = |t: &Test| {
        t.args(["--design-a", design_a.to_str().unwrap()])
            .args(["--design-b", design_b.to_str().unwrap(), "-i"])
            .args([repo(INST).to_str().unwrap()])
            .args(["--by", "gender", "--no-suppress"]);
    };
    t.args(["compare"])
        .args([a.join("responses.csv"), b.join("responses.csv")].map(|p| p.display().to_string()));
    common(&t);
    let same = t.args(["--indicator", "appointment_quick"]).run().code(0);
    t.clear();
    t.args(["compare", a.join("responses.csv").to_str().unwrap()])
        .args([renamed.to_str().unwrap()]);
    common(&t);
    let mapped = t
        .args(["--instrument-b", inst_b.to_str().unwrap()])
        .args(["--indicator", "appointment_quick=quick_appointment"])
        .run()
        .code(0);
    assert_eq!(same.stdout, mapped.stdout);
    let rows = records(&mapped);
    assert!(rows.len() >= 3, "{}", mapped.stdout);
    assert!(rows.iter().all(|r| r["indicator"] == "appointment_quick"));
    for r in &rows {
        let d = num(&r["estimate_a"]) - num(&r["estimate_b"]);
        assert!((num(&r["difference"]) - d).abs() < 1e-12);
    }

    // A wave against itself: difference 0, SE sqrt(2) times the wave's own.
    t.clear();
    t.args(["compare"])
        .args([a.join("responses.csv"), a.join("responses.csv")].map(|p| p.display().to_string()));
    common(&t);
    let out = t.args(["--indicator", "appointment_quick"]).run().code(0);
    for r in records(&out) {
        assert_eq!(num(&r["difference"]), 0.0);
        let s = num(&r["se_a"]);
        assert!(close(num(&r["se"]), s * 2f64.sqrt(), 1e-12));
        assert_eq!(num(&r["p_value"]), 1.0);
    }
}

#[test]
fn mismatched_inputs_exit_2_with_their_message() {
    let t = Test::new();
    let (a, b) = simulated(&t);
    let (ra, rb) = (
        a.join("responses.csv").display().to_string(),
        b.join("responses.csv").display().to_string(),
    );
    let design = a.join("design.toml").display().to_string();
    let design_b = b.join("design.toml").display().to_string();
    let inst = repo(INST).display().to_string();
    let base = |t: &Test| {
        t.clear();
        t.args([
            "compare",
            &ra,
            &rb,
            "--design",
            &design,
            "--design-b",
            &design_b,
        ])
        .args(["-i", &inst]);
    };
    base(&t);
    t.args(["--indicator", "appointment_quick=no_such_indicator"])
        .run()
        .code(2)
        .stderr_has("indicator `no_such_indicator` is not in survey B's instrument")
        .stderr_has("--indicator appointment_quick=ID_IN_B");
    base(&t);
    t.args(["--indicator", "appointment_quick=satisfaction_mean"])
        .run()
        .code(2)
        .stderr_has("`appointment_quick` is a proportion in survey A but a mean in survey B; compare like with like");
    base(&t);
    t.args([
        "--indicator",
        "appointment_quick",
        "--subset-b",
        "area == 99",
    ])
    .run()
    .code(2)
    .stderr_has("survey B: --subset `area == 99` selects no rows");
    base(&t);
    t.args(["--indicator", "appointment_quick", "--by", "area"])
        .args(["--subset-a", "area == 1", "--subset-b", "area == 2"])
        .run()
        .code(2)
        .stderr_has("--by area: the surveys have no group in common");
    base(&t);
    t.args([
        "--indicator",
        "appointment_quick",
        "--standardize",
        "gender",
    ])
    .run()
    .code(2)
    .stderr_has("--standardize needs --standard FILE, a or b");
    t.clear();
    t.args([
        "compare",
        &ra,
        &rb,
        "--design",
        &design,
        "--indicators",
        "all",
    ])
    .run()
    .code(2)
    .stderr_has("--indicators all needs an instrument for both surveys");
    // Groups present in one survey only are left out with a warning.
    base(&t);
    let out = t
        .args(["--indicator", "appointment_quick", "--by", "area"])
        .args(["--subset-b", "area != 1", "--no-suppress"])
        .run()
        .code(0)
        .stderr_has("--by area: groups in one survey only are left out (A only: 1; B only: none)");
    assert!(records(&out).iter().all(|r| r["group"] != "1"));
    // Categories of a --prop in one survey only are left out with a warning: B's file
    // without education level 4 (recoded to 3).
    let text = std::fs::read_to_string(&rb).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let col = header.split(',').position(|c| c == "education").unwrap();
    let mut recoded = format!("{header}\n");
    for line in lines {
        let mut fields: Vec<&str> = line.split(',').collect();
        if fields[col] == "4" {
            fields[col] = "3";
        }
        recoded.push_str(&fields.join(","));
        recoded.push('\n');
    }
    let rb3 = t.write("b3.csv", recoded).display().to_string();
    t.clear();
    let out = t
        .args([
            "compare",
            &ra,
            &rb3,
            "--design",
            &design,
            "--design-b",
            &design_b,
        ])
        .args(["--prop", "education", "--no-suppress"])
        .run()
        .code(0)
        .stderr_has("left out, found in one survey only: education=4 in A only");
    let cats: Vec<String> = records(&out)
        .iter()
        .map(|r| r["category"].clone())
        .collect();
    assert_eq!(cats, ["1", "2", "3"]);
}

#[test]
fn each_surveys_calibration_note_names_the_survey() {
    let t = Test::new();
    let design = repo("examples/biennial/weights/service-equality.toml");
    t.args([
        "compare".as_ref(),
        repo("examples/service-equality/responses.csv").as_os_str(),
        repo("examples/biennial/service-equality-2024/responses.csv").as_os_str(),
        "--design".as_ref(),
        design.as_os_str(),
        "-i".as_ref(),
        repo("instruments/service-equality.toml").as_os_str(),
        "--indicator".as_ref(),
        "treated_equally".as_ref(),
    ])
    .run()
    .code(0)
    .stderr_has("survey A: weights calibrated (raking) to 66 population totals")
    .stderr_has("survey B: weights calibrated (raking) to 66 population totals");
}
