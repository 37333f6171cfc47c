//! `--standardize VAR[,VAR] --standard FILE` on `tasa estimate` and `tasa gaps`: direct
//! standardisation as R survey's `svystandardize`, checked against numbers R 4.1 (survey
//! 4.1-1) printed for the California API data of `../shared/reference/data` (the R calls are
//! quoted above each test), and every bad input with its message.
//!
//! Shared R set-up: `pop <- c(E=4421, H=755, M=1018)`;
//! `dc <- svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)`.

// R's numbers are quoted with all the digits it printed.
#![allow(clippy::excessive_precision)]

use crate::harness::Test;
use std::collections::HashMap;
use std::path::PathBuf;

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/data")
        .join(name);
    assert!(p.exists(), "missing reference data {}", p.display());
    p.display().to_string()
}

/// The standard population of school types used throughout (apipop's counts).
fn stype_standard(t: &Test) -> String {
    t.write("stype.csv", "stype,population\nE,4421\nH,755\nM,1018\n")
        .display()
        .to_string()
}

const CLUSTER: [&str; 6] = ["--cluster", "dnum", "--weight", "pw", "--fpc", "fpc"];

fn records(out: &crate::harness::Output) -> Vec<HashMap<String, String>> {
    let (h, rows) = out.csv();
    rows.into_iter()
        .map(|r| h.iter().cloned().zip(r).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// Asserts estimate (1e-9) and SE (1e-6) of the row of `group` against R.
fn check(rows: &[HashMap<String, String>], group: &str, est: f64, se: f64) {
    let r = rows
        .iter()
        .find(|r| r["group"] == group)
        .unwrap_or_else(|| panic!("no row for group {group:?}"));
    let (e, s) = (num(&r["estimate"]), num(&r["se"]));
    assert!(
        ((e - est) / est).abs() < 1e-9,
        "{group}: estimate {e} vs R {est}"
    );
    assert!(((s - se) / se).abs() < 1e-6, "{group}: se {s} vs R {se}");
}

/// `svyby(~api00, ~awards, svystandardize(dc, by=~stype, over=~awards, population=pop,
/// excluding.missing=~api00), svymean)`, the whole population with `over=~1`, and
/// `svytotal` on the same design.
#[test]
fn cluster_design_means_and_totals_match_r() {
    let t = Test::new();
    let std = stype_standard(&t);
    let out = t
        .args(["estimate", &data("apiclus1.csv")])
        .args(CLUSTER)
        .args(["--mean", "api00", "--total", "api00", "--by", "awards"])
        .args(["--standardize", "stype", "--standard", &std])
        .args(["--df", "inf", "--no-suppress"])
        .run()
        .code(0)
        .stderr_has("estimates standardised by stype to the standard population");
    let rows = records(&out);
    let means: Vec<_> = rows
        .iter()
        .filter(|r| r["stat"] == "mean")
        .cloned()
        .collect();
    check(&means, "", 642.31078821158212, 23.92048644509039);
    check(&means, "No", 626.01804043013283, 32.520036200180527);
    check(&means, "Yes", 648.12364166158170, 22.989230373426086);
    let totals: Vec<_> = rows
        .iter()
        .filter(|r| r["stat"] == "total")
        .cloned()
        .collect();
    check(&totals, "No", 1123008.0060477436, 58337.393894706831);
    check(&totals, "Yes", 2851815.0057852943, 101155.131422631137);
    // The standardised mean is the standard's mix of the type means: pop_size stays the
    // domain's weight sum.
    let no = means.iter().find(|r| r["group"] == "No").unwrap();
    assert!((num(&no["pop_size"]) - 1793.8908042907715).abs() < 1e-6);
}

/// `excluding.missing=~avg.ed` (26 schools without a value are removed first): R's
/// estimates, SEs and `degf` of each domain (12 and 13).
#[test]
fn rows_missing_the_value_are_removed_first() {
    let t = Test::new();
    let std = stype_standard(&t);
    let out = t
        .args(["estimate", &data("apiclus1.csv")])
        .args(CLUSTER)
        .args(["--mean", "avg.ed", "--by", "awards"])
        .args([
            "--standardize",
            "stype",
            "--standard",
            &std,
            "--no-suppress",
        ])
        .run()
        .code(0);
    let rows = records(&out);
    check(&rows, "No", 2.6013637901876852, 0.11939892154308829);
    check(&rows, "Yes", 2.6312544968891789, 0.11558540441220645);
    let df: Vec<&str> = rows.iter().map(|r| r["df"].as_str()).collect();
    assert_eq!(df, ["14", "12", "13"]);
    let n: Vec<&str> = rows.iter().map(|r| r["n"].as_str()).collect();
    assert_eq!(n, ["157", "46", "111"]);
}

/// `svystandardize(subset(dc, sch.wide == "Yes"), ...)`: standardised inside the
/// subpopulation.
#[test]
fn subset_is_standardised_inside_the_subpopulation() {
    let t = Test::new();
    let std = stype_standard(&t);
    let out = t
        .args(["estimate", &data("apiclus1.csv")])
        .args(CLUSTER)
        .args(["--mean", "api00", "--by", "awards"])
        .args(["--subset", "sch.wide == \"Yes\""])
        .args(["--standardize", "stype", "--standard", &std])
        .args(["--df", "inf", "--no-suppress"])
        .run()
        .code(0);
    let rows = records(&out);
    check(&rows, "No", 641.4854890293218, 33.141975791818432);
    check(&rows, "Yes", 648.1236416615817, 22.989230373426086);
}

/// Two crossed standardising variables on the stratified design:
/// `ds <- svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)`;
/// `svystandardize(ds, by=~sch.wide+yr.rnd, over=~stype, population=c(5,3,2,4))`. High
/// schools have no year-round school with a school-wide target met: R drops that cell
/// (`partial=TRUE`) and tasa says so.
#[test]
fn crossed_standard_on_a_stratified_design() {
    let t = Test::new();
    let std = t.write(
        "std.csv",
        "sch.wide,yr.rnd,population\nNo,No,5\nYes,No,3\nNo,Yes,2\nYes,Yes,4\n",
    );
    let out = t
        .args(["estimate", &data("apistrat.csv")])
        .args(["--strata", "stype", "--weight", "pw", "--fpc", "fpc"])
        .args(["--mean", "api00", "--by", "stype"])
        .args(["--standardize", "sch.wide,yr.rnd", "--standard"])
        .args([std.to_str().unwrap(), "--df", "inf", "--no-suppress"])
        .run()
        .code(0)
        .stderr_has(
            "1 domain without respondents in some standardising cells use the other cells' shares, renormalised: stype=H (sch.wide=Yes, yr.rnd=Yes)",
        );
    let rows = records(&out);
    check(&rows, "E", 609.29870258914377, 13.648587242706986);
    check(&rows, "H", 591.88879598662209, 11.996866997597824);
    check(&rows, "M", 579.95828331332541, 10.417377046061238);
}

/// Replicate weights are post-stratified to the same cells:
/// `rd <- svrepdesign(weights=~pw, repweights="repw[0-9]+", type="JK1",
/// scale=0.9148392778511668, combined.weights=TRUE, data=apiclus1_jk1)`.
#[test]
fn replicate_designs_match_r() {
    let t = Test::new();
    let std = stype_standard(&t);
    let jk1 = [
        "--weight",
        "pw",
        "--repweights",
        "repw*",
        "--rep-type",
        "jk1",
        "--rep-scale",
        "0.9148392778511668",
    ];
    let out = t
        .args(["estimate", &data("apiclus1_jk1.csv")])
        .args(jk1)
        .args(["--mean", "avg.ed", "--by", "awards"])
        .args([
            "--standardize",
            "stype",
            "--standard",
            &std,
            "--no-suppress",
        ])
        .run()
        .code(0);
    let rows = records(&out);
    check(&rows, "No", 2.6013637901876852, 0.14294865650288535);
    check(&rows, "Yes", 2.6312544968891789, 0.12806721958663042);
    t.clear();
    // The gap between the standardised group means: svycontrast(svyby(~api00, ~awards, s,
    // svymean, covmat=TRUE), c(-1, 1)).
    let out = t
        .args(["gaps", &data("apiclus1_jk1.csv")])
        .args(jk1)
        .args([
            "--mean",
            "api00",
            "--by",
            "awards",
            "--measures",
            "difference",
        ])
        .args([
            "--standardize",
            "stype",
            "--standard",
            &std,
            "--no-suppress",
        ])
        .run()
        .code(0);
    let rows = records(&out);
    check(&rows, "Yes", 22.105601231448759, 24.764760782232276);
}

/// Linearised gap between standardised group means: R's svyby(covmat=TRUE) fails on this
/// design, so the same contrast as `svycontrast(svytotal(~yY+yN+iY+iN, s1),
/// quote(yY/iY - yN/iN))` with y* = api00 and i* the award indicators.
#[test]
fn gaps_between_standardised_groups_match_r() {
    let t = Test::new();
    let std = stype_standard(&t);
    let out = t
        .args(["gaps", &data("apiclus1.csv")])
        .args(CLUSTER)
        .args([
            "--mean",
            "api00",
            "--by",
            "awards",
            "--measures",
            "difference",
        ])
        .args(["--standardize", "stype", "--standard", &std])
        .args(["--df", "inf", "--no-suppress"])
        .run()
        .code(0);
    let rows = records(&out);
    check(&rows, "Yes", 22.105601231448759, 19.621903391701455);
}

#[test]
fn bad_standardisation_inputs_exit_2_with_their_message() {
    let t = Test::new();
    let std = stype_standard(&t);
    let clus = data("apiclus1.csv");
    let base = |t: &Test| {
        t.clear();
        t.args(["estimate", &clus])
            .args(CLUSTER)
            .args(["--mean", "api00"]);
    };
    base(&t);
    t.args(["--standardize", "stype"])
        .run()
        .code(2)
        .stderr_has("--standardize needs --standard FILE");
    base(&t);
    t.args(["--standard", &std])
        .run()
        .code(2)
        .stderr_has("--standard needs --standardize VAR[,VAR]");
    base(&t);
    t.args(["--standardize", "stype", "--standard", "a"])
        .run()
        .code(2)
        .stderr_has("--standard a: a survey's own structure is a standard only in tasa compare");
    let no_pop = t.write("nopop.csv", "stype,total\nE,1\nH,1\nM,1\n");
    base(&t);
    t.args(["--standardize", "stype", "--standard"])
        .args([no_pop.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("a standard population file needs a `population` column beside its variable columns; it has: stype, total");
    let short = t.write("short.csv", "stype,population\nE,4421\nM,1018\n");
    base(&t);
    t.args(["--standardize", "stype", "--standard"])
        .args([short.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("categories in the data have no population total in the standard population: stype=H (14 respondents)");
    base(&t);
    t.args(["--standardize", "awards", "--standard", &std])
        .run()
        .code(2)
        .stderr_has(
            "the standard population has the variables stype but --standardize names awards",
        );
    // acs.k3 is missing for the high schools: a row analysed without a standardising value.
    let acs = t.write("acs.csv", "acs.k3,population\n15,1\n16,1\n17,1\n18,1\n19,1\n20,1\n21,1\n22,1\n23,1\n24,1\n25,1\n26,1\n");
    base(&t);
    t.args(["--standardize", "acs.k3", "--standard"])
        .args([acs.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("missing value of standardising variable `acs.k3`");
    let negative = t.write("neg.csv", "stype,population\nE,4421\nH,-1\nM,1018\n");
    base(&t);
    t.args(["--standardize", "stype", "--standard"])
        .args([negative.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("expected a non-negative number");
    // Nothing was written on any of these paths; weight refuses the flags.
    t.clear();
    t.args(["weight", &clus, "--weight", "pw"])
        .args(["--standardize", "stype", "--standard", &std])
        .args(["-o", t.path("w.csv").to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("give them to tasa estimate, gaps or compare, not to weight");
    assert!(!t.path("w.csv").exists());
}
