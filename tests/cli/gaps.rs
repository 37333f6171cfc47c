//! `tasa gaps`: summary measures equal a hand computation from `tasa estimate`'s group
//! estimates, the instrument's reference group and ordered dimensions, p-values adjusted by
//! Holm across the table, linearised SEs that agree with bootstrap replicate SEs, and every
//! bad input with its message. (The contrast, ratio and Rao–Scott cases of R are in
//! tests/reference.rs.)

use crate::harness::{repo, Test};
use std::collections::HashMap;

const INST: &str = "instruments/service-equality.toml";

/// A simulated survey of 3,000 people (responses.csv, design.toml) in the test folder.
fn simulated() -> Test {
    let t = Test::new();
    let out = t.path("sim");
    t.args(["simulate", "--n", "3000", "--seed", "3", "--out"])
        .args([
            out.to_str().unwrap(),
            "--instrument",
            repo(INST).to_str().unwrap(),
            "-q",
        ])
        .run()
        .code(0);
    t.clear();
    t
}

fn base(t: &Test) -> Vec<String> {
    vec![
        "gaps".into(),
        t.path("sim/responses.csv").display().to_string(),
        "--design".into(),
        t.path("sim/design.toml").display().to_string(),
        "-i".into(),
        repo(INST).display().to_string(),
        "--no-suppress".into(),
        "-q".into(),
    ]
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// Rows of a CSV as maps from column name to value.
fn records(out: &crate::harness::Output) -> Vec<HashMap<String, String>> {
    let (h, rows) = out.csv();
    rows.into_iter()
        .map(|r| h.iter().cloned().zip(r).collect())
        .collect()
}

fn find<'a>(
    rows: &'a [HashMap<String, String>],
    measure: &str,
    group: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["measure"] == measure && r["group"] == group)
        .unwrap_or_else(|| panic!("no {measure} row for group {group:?}"))
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1e-12),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn summary_measures_equal_a_hand_computation_from_the_group_estimates() {
    let t = simulated();
    // The group estimates, shares and the population estimate, from `tasa estimate`.
    let est = t
        .clear()
        .args(["estimate"])
        .args(base(&t).into_iter().skip(1).take(5).collect::<Vec<_>>())
        .args([
            "--indicator",
            "channel_suitable",
            "--by",
            "age_group",
            "--ci",
            "wald",
            "-q",
        ])
        .run()
        .code(0);
    let er = records(&est);
    let mu = num(&er[0]["estimate"]);
    let groups: Vec<&HashMap<String, String>> =
        er.iter().filter(|r| r["by"] == "age_group").collect();
    let y: Vec<f64> = groups.iter().map(|r| num(&r["estimate"])).collect();
    let pop: Vec<f64> = groups.iter().map(|r| num(&r["pop_size"])).collect();
    let p: Vec<f64> = pop.iter().map(|x| x / pop.iter().sum::<f64>()).collect();
    let measures =
        "difference,ratio,max_min_difference,bgv,mdmu,mdmw,mdbw,theil,mld,par,paf,sii,aci,rci";
    let out = t
        .clear()
        .args(base(&t))
        .args([
            "--indicator",
            "channel_suitable",
            "--by",
            "age_group",
            "--measures",
            measures,
        ])
        .run()
        .code(0);
    let rows = records(&out);
    let value = |m: &str| num(&find(&rows, m, "")["estimate"]);

    // Differences and ratios against the instrument's reference group 3.
    for (j, g) in ["1", "2", "4", "5"].iter().enumerate() {
        let j = if j < 2 { j } else { j + 1 };
        let d = find(&rows, "difference", g);
        assert_eq!(d["reference"], "3");
        close(num(&d["estimate"]), y[j] - y[2], 1e-9, "difference");
        close(
            num(&find(&rows, "ratio", g)["estimate"]),
            y[j] / y[2],
            1e-9,
            "ratio",
        );
    }
    assert!(
        rows.iter().all(|r| r["group"] != "3"),
        "no row for the reference"
    );

    let max = y.iter().cloned().fold(f64::MIN, f64::max);
    let min = y.iter().cloned().fold(f64::MAX, f64::min);
    close(
        value("max_min_difference"),
        max - min,
        1e-9,
        "max_min_difference",
    );
    let bgv: f64 = y.iter().zip(&p).map(|(y, p)| p * (y - mu).powi(2)).sum();
    close(value("bgv"), bgv, 1e-9, "bgv");
    let mdmu: f64 = y.iter().map(|y| (y - mu).abs()).sum::<f64>() / 5.0;
    close(value("mdmu"), mdmu, 1e-9, "mdmu");
    let mdmw: f64 = y.iter().zip(&p).map(|(y, p)| p * (y - mu).abs()).sum();
    close(value("mdmw"), mdmw, 1e-9, "mdmw");
    // channel_suitable: higher is better, so the best group is the highest.
    let mdbw: f64 = y.iter().zip(&p).map(|(y, p)| p * (y - max).abs()).sum();
    close(value("mdbw"), mdbw, 1e-9, "mdbw");
    close(value("par"), max - mu, 1e-9, "par");
    close(value("paf"), (max - mu) / mu, 1e-9, "paf");
    let theil: f64 = y
        .iter()
        .zip(&p)
        .map(|(y, p)| p * (y / mu) * (y / mu).ln())
        .sum();
    close(value("theil"), theil, 1e-9, "theil");
    let mld: f64 = -y
        .iter()
        .zip(&p)
        .map(|(y, p)| p * (y / mu).ln())
        .sum::<f64>();
    close(value("mld"), mld, 1e-9, "mld");
    // Ordered age groups: ridits, the weighted least-squares slope, the concentration index.
    let mut cum = 0.0;
    let x: Vec<f64> = p
        .iter()
        .map(|p| {
            cum += p;
            cum - p / 2.0
        })
        .collect();
    let xbar: f64 = x.iter().zip(&p).map(|(x, p)| x * p).sum();
    let ybar: f64 = y.iter().zip(&p).map(|(y, p)| y * p).sum();
    let sxy: f64 = (0..5).map(|j| p[j] * (x[j] - xbar) * (y[j] - ybar)).sum();
    let sxx: f64 = (0..5).map(|j| p[j] * (x[j] - xbar).powi(2)).sum();
    close(value("sii"), sxy / sxx, 1e-9, "sii");
    let aci: f64 = (0..5).map(|j| p[j] * (2.0 * x[j] - 1.0) * y[j]).sum();
    close(value("aci"), aci, 1e-9, "aci");
    close(value("rci"), aci / mu, 1e-9, "rci");
    // Every interval is estimate ± t se with the design df.
    for r in &rows {
        let (e, se) = (num(&r["estimate"]), num(&r["se"]));
        assert!(se > 0.0, "{r:?}");
        assert!(num(&r["ci_low"]) < e && e < num(&r["ci_high"]), "{r:?}");
    }
}

#[test]
fn p_values_are_adjusted_by_holm_across_the_table_and_tests_are_reported() {
    let t = simulated();
    let out = t
        .args(base(&t))
        .args([
            "--indicator",
            "channel_suitable",
            "--indicator",
            "appointment_quick",
        ])
        .args(["--by", "origin", "--by", "gender"])
        .run()
        .code(0);
    let rows = records(&out);
    let mut p: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (num(&r["p_value"]), num(&r["p_adjusted"])))
        .collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = p.len() as f64;
    let mut running: f64 = 0.0;
    for (i, (raw, adjusted)) in p.iter().enumerate() {
        running = running.max((raw * (m - i as f64)).min(1.0));
        close(*adjusted, running, 1e-12, "holm");
    }
    // Default measures: difference, ratio, and the Rao–Scott F test of each binary indicator.
    let tests: Vec<_> = rows
        .iter()
        .filter(|r| r["measure"] == "rao_scott_f")
        .collect();
    assert_eq!(tests.len(), 4);
    for r in tests {
        assert!(num(&r["df1"]) > 0.0 && num(&r["df2"]) > 0.0, "{r:?}");
        assert_eq!(r["group"], "");
    }
}

#[test]
fn linearised_standard_errors_agree_with_bootstrap_replicates() {
    let t = simulated();
    t.args(["weight", t.path("sim/responses.csv").to_str().unwrap()])
        .args(["--design", t.path("sim/design.toml").to_str().unwrap()])
        .args(["--replicates", "bootstrap:400", "--seed", "5", "-q"])
        .args(["-o", t.path("rep.csv").to_str().unwrap()])
        .args(["--design-out", t.path("rep.toml").to_str().unwrap()])
        .run()
        .code(0);
    let measures = ["--measures", "difference,bgv,sii,theil"];
    let what = ["--indicator", "channel_suitable", "--by", "age_group"];
    let lin = t
        .clear()
        .args(base(&t))
        .args(what)
        .args(measures)
        .run()
        .code(0);
    let rep = t
        .clear()
        .args(["gaps", t.path("rep.csv").to_str().unwrap()])
        .args(["--design", t.path("rep.toml").to_str().unwrap()])
        .args(["-i", repo(INST).to_str().unwrap(), "--no-suppress", "-q"])
        .args(what)
        .args(measures)
        .run()
        .code(0);
    let (lin, rep) = (records(&lin), records(&rep));
    for (m, g) in [
        ("difference", "5"),
        ("difference", "1"),
        ("sii", ""),
        ("bgv", ""),
        ("theil", ""),
    ] {
        let a = find(&lin, m, g);
        let b = find(&rep, m, g);
        close(num(&a["estimate"]), num(&b["estimate"]), 1e-9, m);
        let ratio = num(&b["se"]) / num(&a["se"]);
        // The bootstrap resamples offices with replacement and ignores the fpc; both are
        // estimates of one variance, so they agree up to simulation noise.
        assert!(
            (0.7..1.4).contains(&ratio),
            "{m} {g}: bootstrap/linearised SE {ratio}"
        );
    }
}

#[test]
fn ordered_measures_need_an_ordered_dimension() {
    let t = simulated();
    t.args(base(&t))
        .args([
            "--indicator",
            "channel_suitable",
            "--by",
            "gender",
            "--measures",
            "sii,bgv",
        ])
        .run()
        .code(0)
        .stderr_has(
            "sii needs an ordered dimension; `gender` is not marked ordered in the instrument",
        )
        .stdout_has(",bgv,");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let t = simulated();
    let run = |extra: &[&str]| t.clear().args(base(&t)).args(extra.iter().copied()).run();
    run(&[
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--reference",
        "9",
    ])
    .code(2)
    .stderr_has("--reference `9`: no such group of `age_group`; the groups are 1, 2, 3, 4, 5");
    run(&[
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--subset",
        "age_group == 3",
    ])
    .code(2)
    .stderr_has(
        "--by `age_group`: the dimension has 1 group with respondents; gaps need at least two",
    );
    run(&[
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--measures",
        "gini",
    ])
    .code(2)
    .stderr_has(
        "--measures: unknown measure `gini`; choose from difference, ratio, max_min_difference",
    );
    run(&[
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--measures",
        ",",
    ])
    .code(2)
    .stderr_has("--measures names no measure");
    run(&[
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--level",
        "95",
    ])
    .code(2)
    .stderr_has("--level 95 must be strictly between 0 and 1, e.g. 0.95");
    run(&["--indicator", "wait_median", "--by", "age_group"])
        .code(2)
        .stderr_has(
            "wait_median: gaps compare means, proportions, totals and ratios, not quantiles",
        );
    run(&[
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--adjust",
        "bonferroni",
    ])
    .code(2)
    .stderr_has("--adjust bonferroni: expected holm, bh or none");
    run(&["--indicator", "channel_suitable", "--by", "no_such_column"])
        .code(2)
        .stderr_has("no_such_column");
}

/// `--prop VAR` with every category: one r × c Rao–Scott test of the variable, as
/// `svychisq(~stype + awards, dc)` (F and `statistic = "Chisq"`; R prints the uncorrected
/// X² = 12.366 with the p-value of the corrected one, which tasa reports) on
/// `dc <- svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)`; no test per category.
#[test]
fn a_whole_categorical_variable_gets_one_r_by_c_test() {
    let t = Test::new();
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/data/apiclus1.csv");
    let out = t
        .args(["gaps", data.to_str().unwrap(), "--cluster", "dnum"])
        .args([
            "--weight", "pw", "--fpc", "fpc", "--prop", "stype", "--by", "awards",
        ])
        .args(["--measures", "difference,rao_scott_f,rao_scott_chisq", "-q"])
        .run()
        .code(0);
    let rows = records(&out);
    let tests: Vec<&HashMap<String, String>> = rows
        .iter()
        .filter(|r| r["measure"].starts_with("rao_scott"))
        .collect();
    assert_eq!(tests.len(), 2, "{}", out.stdout);
    let f = tests[0];
    assert_eq!(
        (f["indicator"].as_str(), f["measure"].as_str()),
        ("stype", "rao_scott_f")
    );
    close(num(&f["estimate"]), 5.025_875_637_980_899, 1e-6, "F");
    close(num(&f["df1"]), 1.712_002_834_320_565, 1e-6, "ndf");
    close(num(&f["df2"]), 23.968_039_680_487_91, 1e-6, "ddf");
    close(num(&f["p_value"]), 0.018_786_895_086_421_66, 1e-6, "p");
    let chisq = tests[1];
    assert_eq!(chisq["measure"], "rao_scott_chisq");
    assert_eq!(chisq["df1"], "2");
    close(num(&chisq["p_value"]), 0.006_565_834_682_819_974, 1e-6, "p");
    // The per-category differences are still there, one per category and group.
    assert_eq!(
        rows.iter().filter(|r| r["measure"] == "difference").count(),
        3
    );
}

#[test]
fn indicators_all_leaves_quantiles_out_by_name() {
    let t = Test::new();
    let ex = repo("examples/service-equality");
    let out = t
        .args(["gaps"])
        .args([ex.join("responses.csv")])
        .args(["--design"])
        .args([ex.join("design.toml")])
        .args(["-i"])
        .args([repo(INST)])
        .args([
            "--indicators",
            "all",
            "--by",
            "gender",
            "--measures",
            "difference",
        ])
        .run()
        .code(0);
    assert!(
        out.stderr
            .contains("quantile indicators have no gaps and were left out: wait_median"),
        "{}",
        out.stderr
    );
    let rows = records(&out);
    assert!(rows.iter().any(|r| r["indicator"] == "info_understood"));
    assert!(!rows.iter().any(|r| r["indicator"] == "wait_median"));
    // Asked for by name, a quantile is still an error.
    t.clear()
        .args(["gaps"])
        .args([ex.join("responses.csv")])
        .args(["--design"])
        .args([ex.join("design.toml")])
        .args(["-i"])
        .args([repo(INST)])
        .args(["--indicator", "wait_median", "--by", "gender"])
        .run()
        .code(2)
        .stderr_has(
            "wait_median: gaps compare means, proportions, totals and ratios, not quantiles",
        );
}
