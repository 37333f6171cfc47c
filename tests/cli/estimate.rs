//! `tasa estimate`: the tidy column contract, hand-checkable values, the full-design domain
//! method, numerical stability, suppression, and every bad input with its message.

use crate::harness::{fixture, parse_csv, Test};

const COLUMNS: [&str; 17] = [
    "indicator",
    "stat",
    "variable",
    "category",
    "by",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "cv",
    "deff",
    "n",
    "n_eff",
    "pop_size",
    "flag",
];

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// A clustered sample: 8 PSUs in 2 strata, 5 rows each; group `a` lives in PSUs 1, 2, 5, 6 only.
fn clustered() -> String {
    let mut s = String::from("stratum,psu,w,y,g\n");
    let ys = [3.0, 5.0, 4.0, 8.0, 6.0, 2.0, 9.0, 7.0, 5.0, 1.0];
    for psu in 0..8 {
        for k in 0..5 {
            let y = ys[(psu * 3 + k) % 10] + psu as f64;
            let g = if matches!(psu, 0 | 1 | 4 | 5) && k % 2 == 0 {
                "a"
            } else {
                "b"
            };
            s.push_str(&format!(
                "{},{},{},{},{}\n",
                psu / 4 + 1,
                psu + 1,
                10 + psu,
                y,
                g
            ));
        }
    }
    s
}

#[test]
fn columns_and_srs_values_by_hand() {
    let t = Test::new();
    t.write("d.csv", "y\n1\n2\n3\n4\n6\n");
    let out = t
        .args([
            "estimate",
            "d.csv",
            "--mean",
            "y",
            "--df",
            "inf",
            "--no-suppress",
        ])
        .run()
        .code(0);
    let (h, rows) = out.csv();
    assert_eq!(h, COLUMNS);
    let r = &rows[0];
    assert_eq!(
        (r[0].as_str(), r[1].as_str(), r[2].as_str()),
        ("y", "mean", "y")
    );
    // Mean 3.2; s^2 = 14.8/4 = 3.7; SE = sqrt(3.7/5) (with replacement, no fpc).
    assert!(rel(num(&r[6]), 3.2) < 1e-15);
    let se = (3.7f64 / 5.0).sqrt();
    assert!(rel(num(&r[7]), se) < 1e-12, "{}", r[7]);
    assert!(rel(num(&r[8]), 3.2 - 1.959963984540054 * se) < 1e-12);
    assert_eq!(r[10], "");
    assert_eq!(r[13], "5");
    assert_eq!(r[16], "suppressed"); // n < 30, kept by --no-suppress
    let out = Test::new()
        .args(["estimate", "-", "--mean", "y", "--format", "json"])
        .stdin("y\n1\n2\n")
        .run()
        .code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let keys: Vec<&str> = v[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 17);
    assert!(
        v[0]["estimate"].is_null(),
        "suppressed values are withheld: {}",
        v[0]
    );
    assert_eq!(v[0]["flag"], "suppressed");
    assert_eq!(v[0]["n"], 2);
}

#[test]
fn domains_use_the_full_design_and_subset_equals_by() {
    let t = Test::new();
    t.write("d.csv", clustered());
    let design = [
        "--strata",
        "stratum",
        "--cluster",
        "psu",
        "--weight",
        "w",
        "--no-suppress",
        "--df",
        "inf",
    ];
    let by = t
        .args(["estimate", "d.csv", "--mean", "y", "--by", "g"])
        .args(design)
        .run()
        .code(0);
    let (_, rows) = by.csv();
    let a = rows
        .iter()
        .find(|r| r[4] == "g" && r[5] == "a")
        .expect("group a")
        .clone();
    let sub = Test::new();
    sub.write("d.csv", clustered());
    let s = sub
        .args(["estimate", "d.csv", "--mean", "y", "--subset", "g == \"a\""])
        .args(design)
        .run()
        .code(0);
    let (_, srows) = s.csv();
    for j in 6..10 {
        assert!(
            rel(num(&srows[0][j]), num(&a[j])) < 1e-12,
            "column {j}: {} vs {}",
            srows[0][j],
            a[j]
        );
    }
    // Dropping the other rows first loses the PSUs with no `a` rows: a different (wrong) SE.
    let only_a: String = clustered()
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.ends_with(",a"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let d = Test::new();
    d.write("a.csv", only_a);
    let dropped = d
        .args(["estimate", "a.csv", "--mean", "y"])
        .args(design)
        .run()
        .code(0);
    let (_, drows) = dropped.csv();
    assert!(rel(num(&drows[0][6]), num(&a[6])) < 1e-12, "same estimate");
    assert!(
        rel(num(&drows[0][7]), num(&a[7])) > 1e-3,
        "the SE must differ: {} vs {}",
        drows[0][7],
        a[7]
    );
}

#[test]
fn large_values_keep_their_precision() {
    let t = Test::new();
    let mut s = String::from("y\n");
    for i in 0..1000 {
        s.push_str(&format!("{}\n", 1e9 + (i % 7) as f64 * 0.001));
    }
    t.write("d.csv", &s);
    let out = t
        .args(["estimate", "d.csv", "--mean", "y", "--df", "inf"])
        .run()
        .code(0);
    let (_, rows) = out.csv();
    let values: Vec<f64> = (0..1000).map(|i| (i % 7) as f64 * 0.001).collect();
    let mean_dev = values.iter().sum::<f64>() / 1000.0;
    let s2 = values.iter().map(|v| (v - mean_dev).powi(2)).sum::<f64>() / 999.0;
    assert!(rel(num(&rows[0][6]), 1e9 + mean_dev) < 1e-15);
    assert!(
        rel(num(&rows[0][7]), (s2 / 1000.0).sqrt()) < 1e-6,
        "se {}",
        rows[0][7]
    );
}

#[test]
fn bad_inputs_exit_2_with_their_message() {
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("y\n1\n", vec!["--mean", "z"], "column `z`: no such column; the file has: y"),
        ("y,g\n1,a\n2,b\n", vec!["--prop", "g=c"], "`c` is not a value of `g`; it has: a, b"),
        ("y,N\n1,1.5\n2,1.5\n", vec!["--mean", "y", "--fpc", "N"], "the fpc implies a population of 1.5 in the population, which has 2 sampled units"),
        ("y\n1\n", vec!["--mean", "y"], "the design (unstratified) has only one PSU at stage 1"),
        ("y,g\n1,a\n", vec!["--mean", "g"], "row 1, column `g`: expected a number (found `a`)"),
        ("y,w\n1,-2\n", vec!["--mean", "y", "--weight", "w"], "row 1, column `w`: a negative weight"),
        ("y,w\n1,\n2,1\n", vec!["--mean", "y", "--weight", "w"], "row 1, column `w`: missing weight"),
        ("y,w\n1,inf\n", vec!["--mean", "y", "--weight", "w"], "column `w`: expected a number (found `inf`)"),
        (
            "y,s,p\n1,1,1\n2,2,1\n",
            vec!["--mean", "y", "--strata", "s", "--cluster", "p"],
            "PSU `1` of column `p` is in stratum `1` (row 1) and in stratum `2` (row 2); if PSU ids repeat across strata, add --nest",
        ),
        (
            "y,s,p\n1,1,1\n2,1,2\n3,2,3\n",
            vec!["--mean", "y", "--strata", "s", "--cluster", "p"],
            "stratum `2` has only one PSU at stage 1",
        ),
        // A lonely unit at the second stage is named by its first-stage unit's id, text or
        // number, as the file writes it.
        (
            "y,s,p,q,N1,N2\n1,1,A1,1,10,20\n2,1,A1,2,10,20\n3,1,B2,3,10,20\n",
            vec!["--mean", "y", "--strata", "s", "--cluster", "p", "--cluster", "q", "--fpc", "N1", "--fpc", "N2"],
            "unit `B2` of stage 1 has only one PSU at stage 2",
        ),
        (
            "y,s,p,q,N1,N2\n1,1,7,1,10,20\n2,1,7,2,10,20\n3,1,8.5,3,10,20\n",
            vec!["--mean", "y", "--strata", "s", "--cluster", "p", "--cluster", "q", "--fpc", "N1", "--fpc", "N2"],
            "unit `8.5` of stage 1 has only one PSU at stage 2",
        ),
        ("y\n1\n2\n", vec!["--mean", "y", "--subset", "y > 5"], "--subset `y > 5` selects no rows"),
        ("y\n1\n2\n", vec!["--mean", "y", "--subset", "y = 5"], "in the filter `y = 5`: use `==` to compare"),
        ("y\n1\n2\n", vec!["--mean", "y", "--level", "95"], "--level 95 must be strictly between 0 and 1"),
        ("y\n1\n2\n", vec![], "nothing to estimate"),
        ("y\n1\n2\n", vec!["--quantile", "y:1.5"], "the probability must be strictly between 0 and 1"),
        ("y,w\n1,0\n", vec!["--mean", "y", "--weight", "w"], "every weight in `w` is zero"),
    ];
    for (data, args, message) in cases {
        let t = Test::new();
        t.write("d.csv", data);
        let out = t.args(["estimate", "d.csv"]).args(&args).run();
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(message),
            "{args:?}: expected {message:?} in\n{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?} wrote output");
    }
}

#[test]
fn indicators_of_the_instrument_on_simulated_data() {
    let t = Test::new();
    Test::new()
        .args(["simulate", "--n", "2000", "--seed", "9", "--out"])
        .args([t.path("s")])
        .args(["--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    let out = Test::new()
        .args([
            "estimate",
            "--indicators",
            "all",
            "--by",
            "origin",
            "--design",
        ])
        .args([t.path("s/design.toml"), t.path("s/responses.csv")])
        .args(["--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    let (_, rows) = parse_csv(&out.stdout);
    let fair: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "fair").collect();
    assert_eq!(fair.len(), 3, "overall + two origins");
    assert_eq!(fair[0][1], "proportion");
    let p = num(&fair[0][6]);
    assert!(p > 0.3 && p < 0.95);
    assert!(num(&fair[0][8]) < p && p < num(&fair[0][9]));
    assert_eq!(fair[0][16], "ok");
    let median = rows
        .iter()
        .find(|r| r[0] == "wait_median" && r[4].is_empty())
        .expect("median");
    assert_eq!(median[1], "quantile:0.5");
    let count = rows
        .iter()
        .find(|r| r[0] == "disc_count" && r[4].is_empty())
        .expect("count");
    assert_eq!(count[1], "total");
    assert!(num(&count[6]) > 100.0);

    // One --ci for a mixed run: proportions take it, means keep Wald, quantiles Woodruff.
    let out = Test::new()
        .args([
            "estimate",
            "--indicators",
            "all",
            "--ci",
            "beta",
            "--design",
        ])
        .args([t.path("s/design.toml"), t.path("s/responses.csv")])
        .args(["--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    let (_, beta) = parse_csv(&out.stdout);
    let fair_beta = beta.iter().find(|r| r[0] == "fair").expect("fair");
    assert_ne!(
        fair_beta[8], fair[0][8],
        "the proportion's interval changed to beta"
    );
    let mean = beta.iter().find(|r| r[0] == "treatment").expect("score");
    let (e, lo, hi) = (num(&mean[6]), num(&mean[8]), num(&mean[9]));
    assert!(
        ((e - lo) - (hi - e)).abs() < 1e-9,
        "the mean keeps a symmetric Wald interval"
    );
}

#[test]
fn xlsx_output_reads_back() {
    use calamine::{Data, Reader, Xlsx};
    let t = Test::new();
    t.write("d.csv", clustered());
    t.args([
        "estimate",
        "d.csv",
        "--mean",
        "y",
        "--strata",
        "stratum",
        "--cluster",
        "psu",
        "--weight",
        "w",
        "-o",
        "e.xlsx",
    ])
    .run()
    .code(0);
    let mut wb: Xlsx<_> = calamine::open_workbook(t.path("e.xlsx")).expect("open xlsx");
    let range = wb.worksheet_range("estimates").expect("sheet");
    let header: Vec<String> = range
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header, COLUMNS);
    let row: Vec<&Data> = range.rows().nth(1).expect("row").iter().collect();
    assert_eq!(row[0], &Data::String("y".into()));
    assert!(matches!(row[6], Data::Float(x) if *x > 0.0), "{:?}", row[6]);
    assert_eq!(row[16], &Data::String("low_precision".into()));
}

#[test]
fn flags_follow_the_reliability_rules() {
    // 40 rows in 8 PSUs and 2 strata: df = 6 < 8, so a mean is published as low precision.
    let t = Test::new();
    t.write("d.csv", clustered());
    let out = t
        .args([
            "estimate",
            "d.csv",
            "--mean",
            "y",
            "--prop",
            "g=a",
            "--by",
            "g",
            "--strata",
            "stratum",
            "--cluster",
            "psu",
            "--weight",
            "w",
        ])
        .run()
        .code(0);
    let (_, rows) = out.csv();
    let overall = &rows[0];
    assert_eq!(
        (
            overall[1].as_str(),
            overall[10].as_str(),
            overall[16].as_str()
        ),
        ("mean", "6", "low_precision")
    );
    // Group a has 12 rows: below the minimum cell of 30, its numbers are withheld.
    let a = rows
        .iter()
        .find(|r| r[1] == "mean" && r[5] == "a")
        .expect("group a");
    assert_eq!(
        (a[6].as_str(), a[13].as_str(), a[16].as_str()),
        ("", "12", "suppressed")
    );
    let out = Test::new();
    out.write("d.csv", clustered());
    let kept = out
        .args([
            "estimate",
            "d.csv",
            "--mean",
            "y",
            "--by",
            "g",
            "--strata",
            "stratum",
            "--cluster",
            "psu",
            "--weight",
            "w",
            "--min-cell",
            "10",
            "--no-suppress",
        ])
        .run()
        .code(0);
    let (_, rows) = kept.csv();
    let a = rows.iter().find(|r| r[5] == "a").expect("group a");
    assert!(!a[6].is_empty(), "--no-suppress keeps the value: {a:?}");
}

#[test]
fn brewer_needs_inclusion_probabilities() {
    let t = Test::new();
    t.write("d.csv", "y,pi\n1,0.1\n2,0.2\n3,0.3\n");
    let out = t
        .args([
            "estimate",
            "d.csv",
            "--mean",
            "y",
            "--pps",
            "brewer",
            "--fpc",
            "pi",
            "--no-suppress",
            "--df",
            "inf",
        ])
        .run()
        .code(0);
    let (_, rows) = out.csv();
    // Weights 1/pi; variance n/(n-1) sum (1 - pi) (z - zbar)^2 with z the mean's scores.
    let w = [10.0, 5.0, 10.0 / 3.0];
    let y = [1.0, 2.0, 3.0];
    let pi = [0.1, 0.2, 0.3];
    let tw: f64 = w.iter().sum();
    let mean: f64 = w.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>() / tw;
    let z: Vec<f64> = (0..3).map(|i| w[i] * (y[i] - mean) / tw).collect();
    let zbar = z.iter().sum::<f64>() / 3.0;
    let v: f64 = 1.5
        * (0..3)
            .map(|i| (1.0 - pi[i]) * (z[i] - zbar).powi(2))
            .sum::<f64>();
    assert!(rel(num(&rows[0][6]), mean) < 1e-14);
    assert!(
        rel(num(&rows[0][7]), v.sqrt()) < 1e-12,
        "{} vs {}",
        rows[0][7],
        v.sqrt()
    );
    let t = Test::new();
    t.write("d.csv", "y,N\n1,10\n2,20\n");
    t.args([
        "estimate", "d.csv", "--mean", "y", "--pps", "brewer", "--fpc", "N",
    ])
    .run()
    .code(2)
    .stderr_has("--pps brewer takes the fpc `N` as inclusion probabilities");
}

#[test]
fn quantile_score_interval_matches_r() {
    // R (survey 4.1.1): dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1);
    // svyquantile(~api00, dclus1, 0.5, interval.type = "score"), sprintf("%.17g"):
    // 652, [564, 701], SE 31.93790803807207; degf 14.
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/data/apiclus1.csv");
    let t = Test::new();
    let out = t
        .args(["estimate".as_ref(), data.as_os_str()])
        .args([
            "--cluster",
            "dnum",
            "--weight",
            "pw",
            "--quantile",
            "api00:0.5",
            "--ci",
            "score",
        ])
        .run()
        .code(0);
    let (_, rows) = out.csv();
    let want = [652.0, 31.93790803807207, 564.0, 701.0, 14.0];
    let got: Vec<f64> = [6, 7, 8, 9, 10].iter().map(|&k| num(&rows[0][k])).collect();
    for (g, w) in got.iter().zip(want) {
        assert!(rel(*g, w) < 1e-6, "{got:?} vs R {want:?}");
    }
}
