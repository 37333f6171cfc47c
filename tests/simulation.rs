//! Coverage of design-based intervals against known population values: over many samples
//! drawn from one synthetic population (`tasa simulate --nonresponse none`, one seed each),
//! 95 % intervals must cover the true value close to 95 % of the time.
//!
//! Slow (a thousand samples): `cargo test --release --test simulation -- --ignored`.

use std::path::Path;
use std::process::Command;

fn tasa(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tasa"))
        .args(args)
        .output()
        .expect("run tasa");
    assert!(
        out.status.success(),
        "tasa {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|x| x.expect("row").iter().map(str::to_string).collect())
        .collect()
}

#[test]
#[ignore = "a thousand samples; run with --release --ignored"]
fn logit_intervals_cover_the_truth_95_percent_of_the_time() {
    let instrument = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini.toml");
    let instrument = instrument.to_str().expect("path");
    let dir = tempfile::tempdir().expect("tempdir");
    let samples = 1000;
    // (indicator, by, group) -> (covered, total)
    let mut tally: std::collections::BTreeMap<(String, String, String), (usize, usize)> =
        Default::default();
    let mut truth: std::collections::HashMap<(String, String, String), f64> = Default::default();
    for seed in 1..=samples {
        let out = dir.path().join(format!("s{seed}"));
        let out_s = out.to_str().expect("path");
        let mut args = vec![
            "-q",
            "simulate",
            "--instrument",
            instrument,
            "--n",
            "1500",
            "--nonresponse",
            "none",
            "--out",
            out_s,
        ];
        let seed_s = seed.to_string();
        args.extend(["--seed", &seed_s]);
        if seed > 1 {
            args.push("--no-truth");
        }
        tasa(&args);
        if seed == 1 {
            let text = std::fs::read_to_string(out.join("truth.csv")).expect("truth");
            for r in rows(&text) {
                if let Ok(v) = r[3].parse::<f64>() {
                    truth.insert((r[0].clone(), r[1].clone(), r[2].clone()), v);
                }
            }
        }
        let design = out.join("design.toml");
        let data = out.join("responses.csv");
        let text = tasa(&[
            "-q",
            "estimate",
            data.to_str().expect("path"),
            "--design",
            design.to_str().expect("path"),
            "--instrument",
            instrument,
            "--indicator",
            "fair",
            "--indicator",
            "disc",
            "--by",
            "origin",
            "--no-suppress",
        ]);
        for r in rows(&text) {
            let key = (r[0].clone(), r[4].clone(), r[5].clone());
            let (Some(&t), Ok(lo), Ok(hi)) =
                (truth.get(&key), r[8].parse::<f64>(), r[9].parse::<f64>())
            else {
                continue;
            };
            let e = tally.entry(key).or_default();
            e.0 += usize::from(lo <= t && t <= hi);
            e.1 += 1;
        }
        std::fs::remove_dir_all(&out).ok();
    }
    let mut report = String::new();
    let mut bad = 0;
    for ((ind, by, group), (covered, total)) in &tally {
        let rate = *covered as f64 / *total as f64;
        report.push_str(&format!(
            "{ind:6} {by:8} {group:3} {covered}/{total} = {rate:.3}\n"
        ));
        if !(0.93..=0.97).contains(&rate) {
            bad += 1;
        }
    }
    eprintln!("{report}");
    assert!(tally.len() >= 6, "{report}");
    assert_eq!(bad, 0, "coverage outside 93-97 %:\n{report}");
}
