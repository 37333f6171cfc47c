//! `tasa simulate`: deterministic for its seeds, the files it promises, a sample that
//! reproduces the population when weighted, non-response that biases unweighted results, and
//! respondents that pass `validate`.

use crate::harness::{fixture, parse_csv, Test};
use std::collections::BTreeMap;

/// Simulates from the test instrument into `t`'s folder `out`.
fn simulate(t: &Test, out: &str, extra: &[&str]) {
    let mut args: Vec<String> = vec![
        "simulate".into(),
        "--instrument".into(),
        fixture("mini.toml").display().to_string(),
    ];
    args.extend(["--out".to_string(), t.path(out).display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    Test::new().args(&args).run().code(0);
}

fn table(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    parse_csv(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The population size, from the stratum margin.
fn population(t: &Test, dir: &str) -> f64 {
    let (_, area) = table(&t.path(dir).join("margins/area.csv"));
    area.iter()
        .map(|r| r[1].parse::<f64>().expect("total"))
        .sum()
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn writes_every_promised_file() {
    let t = Test::new();
    simulate(&t, "sim", &["--n", "800", "--seed", "3"]);
    for f in [
        "responses.csv",
        "sample.csv",
        "design.toml",
        "truth.csv",
        "margins/area.csv",
        "margins/origin_gender.csv",
        "margins/age_group.csv",
    ] {
        assert!(t.path("sim").join(f).exists(), "{f} missing");
    }
    assert!(!t.path("sim/register").exists());
    let design = std::fs::read_to_string(t.path("sim/design.toml")).expect("design");
    for line in [
        "weight = \"design_weight\"",
        "strata = \"area\"",
        "cluster = [\"office\", \"id\"]",
        "fpc = [\"office_count\", \"office_size\"]",
    ] {
        assert!(design.contains(line), "{design}");
    }
    let (h, rows) = table(&t.path("sim/truth.csv"));
    assert_eq!(h, ["indicator", "by", "group", "value"]);
    // fair: overall + 2 origins + 3 age groups; disc: 1 + 2; treatment: overall + every
    // dimension (none listed); wait_median: 1 + 2; disc_count: overall + all dimensions.
    assert_eq!(rows.iter().filter(|r| r[0] == "fair").count(), 6);
    assert_eq!(rows.iter().filter(|r| r[0] == "disc").count(), 3);
    assert_eq!(rows.iter().filter(|r| r[0] == "treatment").count(), 6);
    let v = |ind: &str, by: &str, g: &str| -> f64 {
        rows.iter()
            .find(|r| r[0] == ind && r[1] == by && r[2] == g)
            .expect("truth row")[3]
            .parse()
            .expect("number")
    };
    // The model puts real gaps in: the foreign-born are treated fairly less often, report more
    // discrimination and wait longer.
    assert!(v("fair", "origin", "1") > v("fair", "origin", "2") + 0.05);
    assert!(v("disc", "origin", "2") > v("disc", "origin", "1") + 0.03);
    assert!(v("wait_median", "origin", "2") > v("wait_median", "origin", "1"));
    assert!((0.0..=1.0).contains(&v("fair", "", "")));
    assert!((1.0..=5.0).contains(&v("treatment", "", "")));
    assert_eq!(v("wait_median", "", "").fract(), 0.0);
    assert!(v("disc_count", "", "") > 100.0);

    // Margins add up to the population.
    let (_, area) = table(&t.path("sim/margins/area.csv"));
    let total: f64 = area
        .iter()
        .map(|r| r[1].parse::<f64>().expect("total"))
        .sum();
    assert_eq!(total, 20000.0);
    let (h, og) = table(&t.path("sim/margins/origin_gender.csv"));
    assert_eq!(h, ["origin", "gender", "total"]);
    assert_eq!(
        og.iter()
            .map(|r| r[2].parse::<f64>().expect("total"))
            .sum::<f64>(),
        20000.0
    );
}

#[test]
fn same_seeds_same_files_other_sample_seed_same_population() {
    let t = Test::new();
    simulate(&t, "a", &["--n", "500", "--seed", "7"]);
    simulate(&t, "b", &["--n", "500", "--seed", "7"]);
    simulate(&t, "c", &["--n", "500", "--seed", "8"]);
    for f in [
        "responses.csv",
        "sample.csv",
        "truth.csv",
        "design.toml",
        "margins/area.csv",
    ] {
        assert_eq!(
            std::fs::read(t.path("a").join(f)).ok(),
            std::fs::read(t.path("b").join(f)).ok(),
            "{f} differs"
        );
    }
    assert_ne!(
        std::fs::read(t.path("a/responses.csv")).ok(),
        std::fs::read(t.path("c/responses.csv")).ok()
    );
    assert_eq!(
        std::fs::read(t.path("a/truth.csv")).ok(),
        std::fs::read(t.path("c/truth.csv")).ok()
    );

    // A person's answers do not depend on which sample drew them.
    let (h, a) = table(&t.path("a/responses.csv"));
    let (_, c) = table(&t.path("c/responses.csv"));
    let id = col(&h, "id");
    let by_id: BTreeMap<&str, &Vec<String>> = c.iter().map(|r| (r[id].as_str(), r)).collect();
    let common: Vec<&Vec<String>> = a
        .iter()
        .filter(|r| by_id.contains_key(r[id].as_str()))
        .collect();
    assert!(!common.is_empty());
    let fair = col(&h, "fair");
    for r in common {
        assert_eq!(r[fair], by_id[r[id].as_str()][fair]);
    }
}

#[test]
fn design_weights_reproduce_the_population() {
    let t = Test::new();
    simulate(
        &t,
        "s",
        &["--n", "4000", "--seed", "11", "--nonresponse", "none"],
    );
    let (h, rows) = table(&t.path("s/responses.csv"));
    let (w, ag) = (col(&h, "design_weight"), col(&h, "age_group"));
    let n_pop = population(&t, "s");
    // 4000 sampled need a population of 8 x 4000.
    assert_eq!(n_pop, 32000.0);
    let total: f64 = rows.iter().map(|r| r[w].parse::<f64>().expect("w")).sum();
    assert!((total / n_pop - 1.0).abs() < 0.05, "weighted total {total}");
    let (_, margin) = table(&t.path("s/margins/age_group.csv"));
    for m in &margin {
        let pop_share = m[1].parse::<f64>().expect("total") / n_pop;
        let est: f64 = rows
            .iter()
            .filter(|r| r[ag] == m[0])
            .map(|r| r[w].parse::<f64>().expect("w"))
            .sum::<f64>()
            / total;
        assert!(
            (est - pop_share).abs() < 0.02,
            "age group {}: {est} vs {pop_share}",
            m[0]
        );
    }
    // Without non-response everybody sampled answers.
    let (sh, sample) = table(&t.path("s/sample.csv"));
    assert_eq!(sample.len(), rows.len());
    assert!(sample.iter().all(|r| r[col(&sh, "responded")] == "1"));
}

#[test]
fn nonresponse_biases_unweighted_shares() {
    let t = Test::new();
    simulate(&t, "s", &["--n", "3000", "--seed", "5"]);
    let (h, rows) = table(&t.path("s/responses.csv"));
    let origin = col(&h, "origin");
    let share_foreign = rows.iter().filter(|r| r[origin] == "2").count() as f64 / rows.len() as f64;
    let (_, og) = table(&t.path("s/margins/origin_gender.csv"));
    let pop_foreign: f64 = og
        .iter()
        .filter(|r| r[0] == "2")
        .map(|r| r[2].parse::<f64>().expect("n"))
        .sum::<f64>()
        / population(&t, "s");
    assert!(
        share_foreign < pop_foreign - 0.03,
        "respondents {share_foreign} vs population {pop_foreign}"
    );
    let (sh, sample) = table(&t.path("s/sample.csv"));
    let responded = sample
        .iter()
        .filter(|r| r[col(&sh, "responded")] == "1")
        .count();
    assert_eq!(responded, rows.len());
    assert!(responded < sample.len());
}

#[test]
fn respondents_pass_validation() {
    let t = Test::new();
    simulate(&t, "s", &["--n", "1000", "--seed", "2"]);
    let out = Test::new()
        .args([
            "validate",
            "--id",
            "id",
            "--weight",
            "design_weight",
            "--instrument",
        ])
        .args([fixture("mini.toml"), t.path("s/responses.csv")])
        .run()
        .code(0);
    let (_, rows) = out.csv();
    assert!(rows.iter().all(|r| r[1] != "error"), "{rows:?}");
}

#[test]
fn bad_requests_exit_2() {
    let t = Test::new();
    t.write(
        "nosim.toml",
        "id = \"t\"\nversion = \"1\"\nlanguages = [\"en\"]\ntitle = { en = \"T\" }\n",
    );
    t.args([
        "simulate",
        "--instrument",
        "nosim.toml",
        "--n",
        "10",
        "--out",
        "x",
    ])
    .run()
    .code(2)
    .stderr_has("has no [simulation] section");
    Test::new()
        .args(["simulate", "--n", "0", "--out", "x", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(2)
        .stderr_has("--n must be at least 1");
    Test::new()
        .args([
            "simulate",
            "--n",
            "50000",
            "--population",
            "20000",
            "--out",
            "x",
            "--instrument",
        ])
        .args([fixture("mini.toml")])
        .run()
        .code(2)
        .stderr_has("more than the population of 20000");
}

#[test]
fn bundled_example_is_what_its_command_makes() {
    let t = Test::new();
    let out = t.path("ex");
    Test::new()
        .args(["simulate", "--n", "3000", "--seed", "2026", "--out"])
        .args([&out])
        .args(["--instrument"])
        .args([crate::harness::repo("instruments/service-equality.toml")])
        .args(["--classification"])
        .args([crate::harness::repo(
            "examples/service-equality/register/classification.csv",
        )])
        .run()
        .code(0);
    let example = crate::harness::repo("examples/service-equality");
    for f in [
        "responses.csv",
        "sample.csv",
        "design.toml",
        "truth.csv",
        "margins/area.csv",
        "margins/origin_gender.csv",
        "margins/age_group.csv",
        "register/classification.csv",
        "register/metrics.csv",
        "register/metrics.toml",
        "register/area_medians.csv",
        "register/area_medians.toml",
    ] {
        let made = std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let shipped = std::fs::read(example.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(made == shipped, "examples/service-equality/{f} differs from what its command makes; regenerate it (examples/README.md)");
    }
}

#[test]
fn shipped_instruments_simulate_data_that_validates() {
    for name in ["service-equality.toml", "monisuomi.toml"] {
        let t = Test::new();
        let inst = crate::harness::repo("instruments").join(name);
        Test::new()
            .args(["simulate", "--n", "1500", "--seed", "4", "--out"])
            .args([t.path("s")])
            .args(["--instrument"])
            .args([&inst])
            .run()
            .code(0);
        let out = Test::new()
            .args([
                "validate",
                "--id",
                "id",
                "--weight",
                "design_weight",
                "--instrument",
            ])
            .args([&inst, &t.path("s/responses.csv")])
            .run()
            .code(0);
        assert!(
            out.csv().1.iter().all(|r| r[1] == "info"),
            "{name}: {}",
            out.stdout
        );
        let (_, truth) = table(&t.path("s/truth.csv"));
        assert!(truth.len() > 100, "{name}: {} truth rows", truth.len());
    }
}

#[test]
fn register_metrics_need_every_area_in_the_classification() {
    let t = Test::new();
    let (_, areas) = {
        simulate(&t, "sim", &["--n", "300", "--seed", "3", "--no-truth"]);
        table(&t.path("sim/margins/area.csv"))
    };
    // Every area but the last gets one municipality.
    let mut class = String::from("municipality,area\n");
    for (k, a) in areas.iter().take(areas.len() - 1).enumerate() {
        class.push_str(&format!("{},{}\n", 100 + k, a[0]));
    }
    t.write("class.csv", &class);
    let out = Test::new()
        .args(["simulate", "--instrument"])
        .args([fixture("mini.toml")])
        .args(["--n", "300", "--seed", "3", "--no-truth", "--out"])
        .args([t.path("sim2")])
        .args(["--classification"])
        .args([t.path("class.csv")])
        .run()
        .code(2);
    let last = &areas[areas.len() - 1][0];
    assert!(!t.path("sim2/sample.csv").exists(), "nothing is written");
    assert!(
        out.stderr.contains(&format!(
            "the classification has no municipality in area {last}; every simulated area needs one"
        )),
        "{}",
        out.stderr
    );
    // With every area, the register's job seekers add up to the population.
    class.push_str(&format!("999,{last}\n"));
    t.write("class.csv", &class);
    simulate(
        &t,
        "sim3",
        &[
            "--n",
            "300",
            "--seed",
            "3",
            "--no-truth",
            "--classification",
            t.path("class.csv").to_str().unwrap(),
        ],
    );
    let (h, rows) = table(&t.path("sim3/register/metrics.csv"));
    let js = col(&h, "job_seekers");
    let total: f64 = rows
        .iter()
        .filter(|r| r[1] == "2025" && r[2] == "all")
        .map(|r| r[js].parse::<f64>().unwrap())
        .sum();
    assert!(
        (total - population(&t, "sim3")).abs() <= areas.len() as f64,
        "{total}"
    );
}
