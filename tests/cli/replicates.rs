//! Replicate weights made in memory (`--replicates TYPE[:R] --seed S` on estimate, gaps and
//! compare): the same numbers as `tasa weight --replicates` followed by estimating from the
//! written file, R's SE for re-calibrated jackknife replicates, and every bad input with its
//! message.

use crate::harness::{repo, Test};
use std::collections::HashMap;

const INST: &str = "instruments/service-equality.toml";

/// A simulated survey of 3,000 people (sim/responses.csv, sim/design.toml, sim/margins/).
fn simulated() -> Test {
    let t = Test::new();
    t.args([
        "simulate", "--n", "3000", "--seed", "3", "--out", "sim", "-q",
    ])
    .args(["--instrument", repo(INST).to_str().unwrap()])
    .run()
    .code(0);
    t.clear();
    t
}

const RAKING: [&str; 8] = [
    "--calibrate",
    "raking",
    "--margin",
    "sim/margins/area.csv",
    "--margin",
    "sim/margins/origin_gender.csv",
    "--margin",
    "sim/margins/age_group.csv",
];

/// Rows of a CSV as maps from column name to value.
fn records(out: &crate::harness::Output) -> Vec<HashMap<String, String>> {
    let (h, rows) = out.csv();
    rows.into_iter()
        .map(|r| h.iter().cloned().zip(r).collect())
        .collect()
}

/// Two tables with the same rows: text equal, numbers within `tol` relative (or both within
/// 1e-15 of zero).
fn same_tables(a: &[HashMap<String, String>], b: &[HashMap<String, String>], tol: f64) {
    assert_eq!(a.len(), b.len(), "row counts");
    assert!(!a.is_empty());
    for (ra, rb) in a.iter().zip(b) {
        for (k, va) in ra {
            let vb = &rb[k];
            match (va.parse::<f64>(), vb.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!(
                    (x - y).abs() <= tol * x.abs().max(y.abs()) + 1e-15,
                    "{k}: {x} vs {y}\n{ra:?}\n{rb:?}"
                ),
                _ => assert_eq!(va, vb, "{k}\n{ra:?}\n{rb:?}"),
            }
        }
    }
}

const WHAT: [&str; 14] = [
    "--indicator",
    "channel_suitable",
    "--indicator",
    "treated_equally",
    "--mean",
    "age",
    "--total",
    "wait_weeks",
    "--quantile",
    "age:0.5",
    "--by",
    "origin",
    "--by",
    "area",
];

#[test]
fn estimates_with_replicates_made_in_memory_equal_weight_then_estimate() {
    let t = simulated();
    let cases: [(&str, &[&str]); 4] = [
        ("bootstrap:40", &[]),
        ("jkn", &[]),
        // Each replicate re-calibrated, by weight and in memory alike.
        ("bootstrap:40", &RAKING),
        ("jkn", &RAKING),
    ];
    let mut uncalibrated_df: HashMap<String, String> = HashMap::new();
    for (kind, calibrate) in cases {
        t.clear()
            .args(["weight", "sim/responses.csv", "--design", "sim/design.toml"])
            .args(calibrate)
            .args(["--replicates", kind, "--seed", "4", "-q"])
            .args(["-o", "w.csv", "--design-out", "w.toml"])
            .run()
            .code(0);
        let from_file = t
            .clear()
            .args(["estimate", "w.csv", "--design", "w.toml"])
            .args(["-i", repo(INST).to_str().unwrap(), "--no-suppress", "-q"])
            .args(WHAT)
            .run()
            .code(0);
        let in_memory = t
            .clear()
            .args([
                "estimate",
                "sim/responses.csv",
                "--design",
                "sim/design.toml",
            ])
            .args(calibrate)
            .args(["--replicates", kind, "--seed", "4"])
            .args(["-i", repo(INST).to_str().unwrap(), "--no-suppress", "-q"])
            .args(WHAT)
            .run()
            .code(0);
        let (mut a, mut b) = (records(&from_file), records(&in_memory));
        if !calibrate.is_empty() {
            // The df are the rank of the replicate weights as made, before calibration (as
            // for replicate columns read and calibrated by estimate); weight's file holds
            // them calibrated, whose rank is larger. The rest is the same.
            let uncalibrated = &uncalibrated_df[kind.split(':').next().unwrap_or(kind)];
            for r in &b {
                assert_eq!(&r["df"], uncalibrated, "{kind}");
            }
            for r in a.iter_mut().chain(b.iter_mut()) {
                for k in ["df", "ci_low", "ci_high"] {
                    r.remove(k);
                }
                // A quantile's (Woodruff) SE comes from its interval, so from the df too.
                if r["stat"].starts_with("quantile") {
                    r.remove("se");
                    r.remove("cv");
                }
            }
        } else {
            uncalibrated_df.insert(
                kind.split(':').next().unwrap_or(kind).to_string(),
                b[0]["df"].clone(),
            );
        }
        // The file holds the weights to 17 significant digits.
        same_tables(&a, &b, 1e-9);
    }
    // The jackknife's df: one replicate per PSU outside the census strata, whose factors
    // have rank 1 + Σ(n_h − 1); the bootstrap's: at most its replicates less one.
    assert!(uncalibrated_df["bootstrap"].parse::<f64>().unwrap() <= 39.0);
}

#[test]
fn a_seed_gives_the_same_bootstrap_and_another_seed_another() {
    let t = simulated();
    let run = |seed: &str| {
        records(
            &t.clear()
                .args([
                    "estimate",
                    "sim/responses.csv",
                    "--design",
                    "sim/design.toml",
                ])
                .args(["--replicates", "bootstrap:20", "--seed", seed, "-q"])
                .args(["--mean", "age", "--by", "area"])
                .run()
                .code(0),
        )
    };
    let (a, b, c) = (run("9"), run("9"), run("10"));
    assert_eq!(a, b);
    assert_eq!(a.len(), c.len());
    assert!(a.iter().zip(&c).any(|(x, y)| x["se"] != y["se"]));
    assert!(a
        .iter()
        .zip(&c)
        .all(|(x, y)| x["estimate"] == y["estimate"]));
}

#[test]
fn recalibrated_jackknife_replicates_give_rs_standard_error() {
    // R: rd <- as.svrepdesign(svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1), "JK1")
    //    SE(svymean(~api00, rake(rd, list(~stype, ~sch.wide), pop,
    //                            control = list(maxit = 1000, epsilon = 1e-13))))
    //    = 26.87398044
    let t = Test::new();
    t.write("stype.csv", "stype,total\nE,4421\nH,755\nM,1018\n");
    t.write("schwide.csv", "sch.wide,total\nNo,1072\nYes,5122\n");
    let out = t
        .args(["estimate"])
        .args([repo("../shared/reference/data/apiclus1.csv")])
        .args(["--weight", "pw", "--cluster", "dnum", "--fpc", "fpc"])
        .args(["--calibrate", "raking", "--margin", "stype.csv"])
        .args(["--margin", "schwide.csv", "--replicates", "jk1"])
        .args(["--mean", "api00", "--df", "inf"])
        .run()
        .code(0);
    let rows = records(&out);
    let se: f64 = rows[0]["se"].parse().unwrap();
    assert!(
        (se / 26.87398044 - 1.0).abs() < 1e-8,
        "replicate SE {se} vs R 26.87398044"
    );
}

#[test]
fn gaps_and_compare_take_replicates_made_in_memory() {
    let t = simulated();
    let what = [
        "--indicator",
        "channel_suitable",
        "--by",
        "age_group",
        "--measures",
        "difference,bgv,theil,rao_scott_f",
    ];
    t.args(["weight", "sim/responses.csv", "--design", "sim/design.toml"])
        .args(["--replicates", "bootstrap:30", "--seed", "2", "-q"])
        .args(["-o", "w.csv", "--design-out", "w.toml"])
        .run()
        .code(0);
    let from_file = t
        .clear()
        .args(["gaps", "w.csv", "--design", "w.toml"])
        .args(["-i", repo(INST).to_str().unwrap(), "--no-suppress", "-q"])
        .args(what)
        .run()
        .code(0);
    let in_memory = t
        .clear()
        .args(["gaps", "sim/responses.csv", "--design", "sim/design.toml"])
        .args(["--replicates", "bootstrap:30", "--seed", "2"])
        .args(["-i", repo(INST).to_str().unwrap(), "--no-suppress", "-q"])
        .args(what)
        .run()
        .code(0);
    same_tables(&records(&from_file), &records(&in_memory), 1e-9);

    // Two surveys, each with replicates made from its own PSUs.
    let compared = t
        .clear()
        .args([
            "compare",
            "sim/responses.csv",
            "w.csv",
            "--design",
            "sim/design.toml",
        ])
        .args(["--replicates", "bootstrap:30", "--seed", "2"])
        .args(["-i", repo(INST).to_str().unwrap(), "--no-suppress", "-q"])
        .args(["--indicator", "channel_suitable"])
        .run()
        .code(0);
    let rows = records(&compared);
    assert!(!rows.is_empty());
    // The same respondents and replicates on both sides: equal estimates and SEs, a
    // difference of 0 with the SE of two independent surveys.
    for r in &rows {
        let x = |k: &str| r[k].parse::<f64>().unwrap();
        assert_eq!(x("difference"), 0.0, "{r:?}");
        assert_eq!(x("se_a"), x("se_b"), "{r:?}");
        let se = (x("se_a").powi(2) + x("se_b").powi(2)).sqrt();
        assert!((x("se") / se - 1.0).abs() < 1e-12, "{r:?}");
    }
    // Each survey's note on the fpc says whose it is.
    compared
        .stderr_has("warning: survey A: the finite population correction is not used by bootstrap replicates")
        .stderr_has("warning: survey B: the finite population correction is not used by bootstrap replicates");
}

#[test]
fn bad_replicate_requests_name_the_problem() {
    let t = simulated();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--replicates", "bootstrap:20", "--repweights", "rep*", "--rep-type", "bootstrap"],
            "--replicates makes replicate weights and --repweights reads them; give one",
        ),
        (
            &["--seed", "3"],
            "--seed sets the bootstrap replicates to make; add --replicates bootstrap:R",
        ),
        (
            &["--replicates", "bootstrap:20", "--rep-scale", "2"],
            "--rep-type, --rep-scale and --rep-rscales describe replicate columns read with --repweights",
        ),
        (&["--replicates", "bootstrap"], "bootstrap replicates need a count"),
        (
            &["--replicates", "bootstrap:x"],
            "--replicates `bootstrap:x`: the count after `:` must be a whole number",
        ),
        (&["--replicates", "other"], "--replicates: make bootstrap, jk1, jkn, brr or fay replicates"),
        (&["--replicates", "fay"], "fay replicates need a rho (--fay-rho)"),
    ];
    for (flags, message) in cases {
        t.clear()
            .args([
                "estimate",
                "sim/responses.csv",
                "--design",
                "sim/design.toml",
            ])
            .args(flags)
            .args(["--mean", "age", "-o", "out.csv"])
            .run()
            .code(2)
            .stderr_has(message);
        assert!(!t.path("out.csv").exists(), "{flags:?}");
    }
    // A stratum with one PSU cannot be bootstrapped: the message names it.
    t.write(
        "lonely.csv",
        "s,p,w,y\n1,1,1,2\n1,2,1,3\n2,3,1,4\n2,3,1,5\n",
    );
    t.clear()
        .args(["estimate", "lonely.csv", "--weight", "w", "--strata", "s"])
        .args(["--cluster", "p", "--lonely-psu", "certainty"])
        .args(["--replicates", "bootstrap:10", "--mean", "y"])
        .run()
        .code(2)
        .stderr_has(
            "bootstrap replicates need at least 2 PSUs in every stratum; stratum `2` has 1",
        );
}
