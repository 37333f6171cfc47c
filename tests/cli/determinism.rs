//! Determinism: the same inputs, seed and time stamp (`SOURCE_DATE_EPOCH`) give byte-identical
//! outputs whatever the number of threads — replicate weights drawn with a seed, estimates,
//! gaps and comparisons, and every file of `tasa run` but the step times of its manifest.

use crate::harness::{repo, Test};
use std::collections::BTreeMap;
use std::path::Path;

/// A fixed time stamp (2026-09-22).
const STAMP: &str = "1790000000";

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("inside").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// One folder per thread count, each with the same commands run in it.
fn in_each(threads: &[&str], run: impl Fn(&Test)) -> Vec<Test> {
    threads
        .iter()
        .map(|n| {
            let t = Test::new();
            t.env("RAYON_NUM_THREADS", n);
            t.env("SOURCE_DATE_EPOCH", STAMP);
            run(&t);
            t
        })
        .collect()
}

#[test]
fn seeded_replicates_estimates_gaps_and_comparisons_repeat_byte_for_byte() {
    let inst = repo("instruments/service-equality.toml");
    let data = repo("examples/service-equality/responses.csv");
    let design = repo("examples/biennial/weights/service-equality.toml");
    let previous = repo("examples/biennial/service-equality-2024/responses.csv");
    let (inst, data, design, previous) = (
        inst.to_str().unwrap(),
        data.to_str().unwrap(),
        design.to_str().unwrap(),
        previous.to_str().unwrap(),
    );
    let runs = in_each(&["1", "3"], |t| {
        t.args(["weight", data, "--design", design])
            .args(["--replicates", "bootstrap:30", "--seed", "11", "-q"])
            .args(["-o", "rep.csv", "--design-out", "rep.toml"])
            .run()
            .code(0);
    });
    // The remaining commands, each in both folders with the folder's thread count.
    for (t, threads) in runs.iter().zip(["1", "3"]) {
        let run = |args: &[&str]| {
            t.clear()
                .env("RAYON_NUM_THREADS", threads)
                .env("SOURCE_DATE_EPOCH", STAMP)
                .args(args)
                .run()
                .code(0);
        };
        let by = ["--by", "area", "--by", "origin_group"];
        let est = [
            &["estimate", "rep.csv", "--design", "rep.toml", "-i", inst][..],
            &by[..],
        ];
        run(&[
            est.concat(),
            vec!["--indicators", "all", "-o", "rep-estimates.csv", "-q"],
        ]
        .concat());
        let lin = [
            &["estimate", data, "--design", design, "-i", inst][..],
            &by[..],
        ];
        run(&[
            lin.concat(),
            vec!["--indicators", "all", "-o", "estimates.csv", "-q"],
        ]
        .concat());
        run(&[
            "gaps",
            data,
            "--design",
            design,
            "-i",
            inst,
            "--indicators",
            "all",
            "--by",
            "origin_group",
            "--within",
            "region",
            "-o",
            "gaps.csv",
            "-q",
        ]);
        run(&[
            "gaps",
            "rep.csv",
            "--design",
            "rep.toml",
            "-i",
            inst,
            "--indicators",
            "all",
            "--by",
            "gender",
            "-o",
            "rep-gaps.csv",
            "-q",
        ]);
        run(&[
            "compare",
            data,
            previous,
            "--design",
            design,
            "--design-b",
            design,
            "-i",
            inst,
            "--indicators",
            "all",
            "--by",
            "area",
            "-o",
            "compare.csv",
            "-q",
        ]);
    }
    let (a, b) = (
        files(runs[0].path("").as_path()),
        files(runs[1].path("").as_path()),
    );
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for name in [
        "rep.csv",
        "rep.toml",
        "rep-estimates.csv",
        "estimates.csv",
        "gaps.csv",
        "rep-gaps.csv",
        "compare.csv",
    ] {
        assert!(a.contains_key(name), "{name} written");
        assert!(a[name] == b[name], "{name}: 1 thread and 3 threads differ");
    }
}

#[test]
fn a_run_repeats_byte_for_byte_whatever_the_thread_count() {
    let example = repo("examples/biennial/run.toml");
    let runs = in_each(&["1", "4"], |t| {
        t.args(["run", example.to_str().unwrap(), "--out", "out", "-q"])
            .run()
            .code(0);
    });
    let (a, b) = (files(&runs[0].path("out")), files(&runs[1].path("out")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.keys().any(|k| k.ends_with(".xlsx")) && a.keys().any(|k| k.ends_with(".csv")));
    for (name, bytes) in &a {
        if name == "manifest.json" {
            // The same but for how long each step took.
            let strip = |b: &[u8]| {
                let mut m: serde_json::Value = serde_json::from_slice(b).expect("manifest");
                for s in m["steps"].as_array_mut().expect("steps") {
                    s["seconds"] = serde_json::Value::Null;
                }
                m["finished"] = serde_json::Value::Null;
                m
            };
            assert_eq!(strip(bytes), strip(&b[name]), "manifest.json");
        } else {
            assert!(*bytes == b[name], "{name}: 1 thread and 4 threads differ");
        }
    }
}
