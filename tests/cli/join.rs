//! `tasa join`: aggregation of register metrics to the survey's areas (by hand and against R's
//! exact intervals), every reported key problem, `--strict`, person-level matching, register
//! gaps and the combined table of survey and register gaps, and bad input.

#![allow(clippy::excessive_precision)]

use crate::harness::{parse_csv, Test};
use std::collections::HashMap;

const CLASSIFICATION: &str = "municipality,name,area,region\n091,Helsinki,1,01\n049,Espoo,2,01\n235,Kauniainen,2,01\n837,Tampere,4,06\n";

/// Two language groups per municipality; Tampere (area 4) has no rows for 2023.
const REGISTER: &str = "\
municipality,period,lang,unemployed,long_term,days_sum,plans,complaints
091,2025,1,400,120,4000,380,3
091,2025,2,100,40,1500,90,2
049,2025,1,300,60,2400,280,1
049,2025,2,50,10,800,45,0
235,2025,1,20,8,300,19,0
235,2025,2,10,1,150,10,0
837,2025,1,250,75,2600,240,2
837,2025,2,30,12,500,28,1
091,2023,1,420,130,4300,400,2
049,2023,1,310,70,2500,290,1
235,2023,1,22,9,310,20,0
";

const METRICS: &str = r#"
[keys]
unit = "municipality"
period = "period"
group = "lang"
reference = "1"

[metrics.unemployed]
kind = "count"
unit = "persons"

[metrics.long_term_share]
kind = "share"
numerator = "long_term"
denominator = "unemployed"
polarity = "lower_better"

[metrics.days_mean]
kind = "ratio"
numerator = "days_sum"
denominator = "plans"
unit = "days"

[metrics.complaints]
kind = "rate"
numerator = "complaints"
denominator = "unemployed"
per = 1000
"#;

const ESTIMATES: &str = "\
indicator,stat,variable,category,by,group,estimate,se,ci_low,ci_high,df,cv,deff,n,n_eff,pop_size,flag
fair,proportion,fair,,,,0.8,0.01,0.78,0.82,40,0.0125,1.1,900,818,5000,ok
fair,proportion,fair,,area,1,0.82,0.02,0.78,0.86,12,0.02,1.1,400,363,2000,ok
fair,proportion,fair,,area,2,0.79,0.03,0.73,0.85,10,0.03,1.1,300,272,1500,ok
fair,proportion,fair,,area,3,0.75,0.05,0.65,0.85,5,0.06,1.1,200,181,1500,ok
fair,proportion,fair,,lang,2,0.7,0.05,0.6,0.8,30,0.07,1.1,100,90,600,ok
fair,proportion,fair,,area*lang,2*2,0.6,0.1,0.4,0.8,8,0.16,1.1,40,36,200,low_precision
fair,proportion,fair,,gender,1,0.81,0.02,0.77,0.85,40,0.02,1.1,450,409,2500,ok
";

/// A test folder with the register, its metrics file beside it, and the classification.
fn setup() -> Test {
    let t = Test::new();
    t.write("register.csv", REGISTER);
    t.write("register.toml", METRICS);
    t.write("class.csv", CLASSIFICATION);
    t.write("estimates.csv", ESTIMATES);
    t
}

fn area_args(t: &Test) -> &Test {
    t.args([
        "join",
        "estimates.csv",
        "--register",
        "register.csv",
        "--on",
        "area=municipality",
        "--classification",
        "class.csv",
        "--period",
        "2025",
    ])
}

/// Rows keyed by (by, group, metric) → the named columns.
fn by_metric(text: &str) -> HashMap<(String, String, String), HashMap<String, String>> {
    let (header, rows) = parse_csv(text);
    rows.into_iter()
        .map(|r| {
            let m: HashMap<String, String> = header.iter().cloned().zip(r).collect();
            (
                (m["by"].clone(), m["group"].clone(), m["metric"].clone()),
                m,
            )
        })
        .collect()
}

fn num(m: &HashMap<String, String>, col: &str) -> f64 {
    m[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", m[col]))
}

fn close(got: f64, want: f64, tol: f64) {
    assert!(
        ((got - want) / want).abs() < tol,
        "got {got}, expected {want}"
    );
}

#[test]
fn counts_are_summed_and_rates_recomputed_not_averaged() {
    let t = setup();
    // By default a rate of one event is withheld: it would give the count away.
    let out = area_args(&t).run().code(0);
    let c = &by_metric(&out.stdout)[&("area".into(), "2".into(), "complaints".into())];
    assert_eq!(
        (c["register_value"].as_str(), c["register_flag"].as_str()),
        ("", "suppressed")
    );
    let out = area_args(t.clear()).args(["--min-base", "1"]).run().code(0);
    let (header, _) = out.csv();
    assert_eq!(
        header[17..],
        [
            "period",
            "metric",
            "metric_kind",
            "metric_unit",
            "register_value",
            "register_low",
            "register_high",
            "register_base",
            "register_flag"
        ]
    );
    let rows = by_metric(&out.stdout);
    let get = |by: &str, group: &str, metric: &str| {
        rows.get(&(by.into(), group.into(), metric.into()))
            .unwrap_or_else(|| panic!("no row {by}/{group}/{metric}"))
    };
    // Area 2 = Espoo + Kauniainen, both language groups: 300+50+20+10 unemployed.
    let a2 = get("area", "2", "unemployed");
    assert_eq!(a2["register_value"], "380");
    assert_eq!(a2["period"], "2025");
    assert_eq!(a2["register_flag"], "ok");
    assert_eq!(a2["estimate"], "0.79");
    // The share is (60+10+8+1)/380, not the mean of the municipalities' shares.
    let s = get("area", "2", "long_term_share");
    assert_eq!(num(s, "register_value"), 79.0 / 380.0);
    assert_eq!(s["register_base"], "380");
    // R: binom.test(79, 380)$conf.int
    close(num(s, "register_low"), 0.16819124899975593, 1e-9);
    close(num(s, "register_high"), 0.25221694654303362, 1e-9);
    // A ratio of sums: (2400+800+300+150)/(280+45+19+10) days, no interval.
    let d = get("area", "2", "days_mean");
    assert_eq!(num(d, "register_value"), 3650.0 / 354.0);
    assert_eq!(d["register_low"], "");
    // A Poisson rate per 1000: 1 complaint over 380. R: poisson.test(1, 380)$conf.int * 1000
    let c = get("area", "2", "complaints");
    close(num(c, "register_value"), 1000.0 / 380.0, 1e-12);
    close(num(c, "register_low"), 0.066625810484973416, 1e-9);
    close(num(c, "register_high"), 14.662219449839207996, 1e-9);
    // The whole population's row: every municipality; R: binom.test(326, 1160)$conf.int
    let all = get("", "", "long_term_share");
    assert_eq!(num(all, "register_value"), 326.0 / 1160.0);
    close(num(all, "register_low"), 0.25531827149048963, 1e-9);
    close(num(all, "register_high"), 0.30786591947504571, 1e-9);
    // A group over all areas, and a crossed cell: area 2, group 2 = 11 of 60.
    assert_eq!(
        num(get("lang", "2", "long_term_share"), "register_value"),
        63.0 / 190.0
    );
    let cell = get("area*lang", "2*2", "long_term_share");
    assert_eq!(num(cell, "register_value"), 11.0 / 60.0);
    close(num(cell, "register_low"), 0.095235822916563795, 1e-9);
    close(num(cell, "register_high"), 0.304396054740776245, 1e-9);
    // Area 3 is not in the register: its rows stay, marked missing.
    let a3 = get("area", "3", "unemployed");
    assert_eq!(
        (a3["register_value"].as_str(), a3["register_flag"].as_str()),
        ("", "missing")
    );
    // The gender row has no register key: left out, with a note.
    assert!(!rows.keys().any(|(by, _, _)| by == "gender"));
    assert_eq!(out.stdout.lines().count(), 1 + 6 * 4);
    let err = &out.stderr;
    assert!(
        err.contains("area codes in the estimates without register rows for period 2025: 3"),
        "{err}"
    );
    assert!(
        err.contains("register units for period 2025 not in the estimates: 4"),
        "{err}"
    );
    assert!(
        err.contains(
            "rows of breakdowns the register has no keys for were left out: gender (1 rows)"
        ),
        "{err}"
    );
    assert!(
        err.contains("6 rows joined with 4 metrics (24 rows written)"),
        "{err}"
    );
}

#[test]
fn key_problems_are_reported_by_name_and_strict_refuses_them() {
    let t = setup();
    // Vantaa (092) is not in the classification; Espoo's group 1 appears twice.
    let mut reg = REGISTER.to_string();
    reg.push_str("092,2025,1,500,100,5000,450,4\n049,2025,1,300,60,2400,280,1\n");
    t.write("register.csv", &reg);
    // Tampere has rows for 2025 only; asking for 2023 reports it.
    let out = t
        .args([
            "join",
            "estimates.csv",
            "--register",
            "register.csv",
            "--on",
            "area=municipality",
        ])
        .args([
            "--classification",
            "class.csv",
            "--period",
            "2023",
            "--metric",
            "unemployed",
        ])
        .run()
        .code(0);
    assert!(
        out.stderr
            .contains("municipalities without register rows for period 2023: 837"),
        "{}",
        out.stderr
    );
    let out = t
        .clear()
        .args([
            "join",
            "estimates.csv",
            "--register",
            "register.csv",
            "--on",
            "area=municipality",
        ])
        .args([
            "--classification",
            "class.csv",
            "--period",
            "2025",
            "--metric",
            "unemployed",
        ])
        .run()
        .code(0);
    assert!(out.stderr.contains("municipality codes in the register that the classification lacks (left out, so totals over them are incomplete): 92"), "{}", out.stderr);
    assert!(out.stderr.contains("duplicate register rows for period 2025 (their cells are left empty): municipality 49, group 1: rows 3 and 13"), "{}", out.stderr);
    let rows = by_metric(&out.stdout);
    // Area 2 depends on the duplicated rows: empty, not a guess.
    let a2 = &rows[&("area".into(), "2".into(), "unemployed".into())];
    assert_eq!(
        (a2["register_value"].as_str(), a2["register_flag"].as_str()),
        ("", "missing")
    );
    let a1 = &rows[&("area".into(), "1".into(), "unemployed".into())];
    assert_eq!(a1["register_value"], "500");

    let out_file = t.path("strict.csv");
    let out = t
        .clear()
        .args([
            "join",
            "estimates.csv",
            "--register",
            "register.csv",
            "--on",
            "area=municipality",
        ])
        .args([
            "--classification",
            "class.csv",
            "--period",
            "2025",
            "--strict",
            "-o",
            "strict.csv",
        ])
        .run()
        .code(2);
    assert!(
        out.stderr
            .contains("error: register.csv: --strict: duplicate register rows"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the classification lacks"),
        "{}",
        out.stderr
    );
    assert!(!out_file.exists(), "--strict must not leave an output");
}

#[test]
fn periods_must_be_chosen_and_exist() {
    let t = setup();
    let base = [
        "join",
        "estimates.csv",
        "--register",
        "register.csv",
        "--on",
        "area=municipality",
        "--classification",
        "class.csv",
    ];
    t.args(base)
        .run()
        .code(2)
        .stderr_has("the register holds the periods 2025, 2023; choose one with --period");
    t.clear()
        .args(base)
        .args(["--period", "2021"])
        .run()
        .code(2)
        .stderr_has("register.csv, column `period`: the register has no rows for this period; its periods are 2025, 2023 (found `2021`)");
    // A register without periods takes no --period.
    t.write("flat.csv", "area,n\n1,10\n2,20\n");
    t.clear()
        .args(["join", "estimates.csv", "--register", "flat.csv", "--on", "area", "--count", "n", "--period", "2025"])
        .run()
        .code(2)
        .stderr_has("--period 2025: the register has no period column; name it with --period-column or `keys.period`");
    let out = t
        .clear()
        .args([
            "join",
            "estimates.csv",
            "--register",
            "flat.csv",
            "--on",
            "area",
            "--count",
            "n",
        ])
        .run()
        .code(0);
    let rows = by_metric(&out.stdout);
    assert_eq!(
        rows[&("area".into(), "2".into(), "n".into())]["register_value"],
        "20"
    );
    assert_eq!(
        rows[&("".into(), "".into(), "n".into())]["register_value"],
        "30"
    );
    assert_eq!(rows[&("".into(), "".into(), "n".into())]["period"], "");
}

#[test]
fn survey_groups_the_register_lacks_are_named() {
    let t = setup();
    t.write(
        "estimates.csv",
        format!(
            "{ESTIMATES}fair,proportion,fair,,lang,3,0.6,0.05,0.5,0.7,30,0.08,1.1,80,72,500,ok\n"
        ),
    );
    let out = area_args(&t).args(["--metric", "unemployed"]).run().code(0);
    assert!(
        out.stderr
            .contains("lang groups in the estimates that the register does not break down by: 3"),
        "{}",
        out.stderr
    );
    area_args(t.clear())
        .args(["--metric", "unemployed", "--strict"])
        .run()
        .code(2)
        .stderr_has("lang groups in the estimates that the register does not break down by: 3");
}

#[test]
fn medians_are_used_only_where_the_register_gives_them() {
    let t = setup();
    t.write(
        "medians.csv",
        "area,period,lang,days_median\n1,2025,1,30\n1,2025,2,41\n1,2025,all,32\n2,2025,1,25\n2,2025,2,35\n",
    );
    t.write("medians.toml", "[keys]\ngroup = \"lang\"\ntotal = \"all\"\n\n[metrics.days_median]\nkind = \"median\"\nunit = \"days\"\n");
    // Per municipality → area would need combining: refused.
    t.args(["join", "estimates.csv", "--register", "register.csv", "--on", "area=municipality"])
        .args(["--classification", "class.csv", "--period", "2025", "--median", "days_sum"])
        .run()
        .code(2)
        .stderr_has("metric `days_sum` is a median given per municipality; medians cannot be combined into areas. Give it per area in the register, or leave it out with --metric");
    // Already per area: used as given, the total row for the whole area.
    let out = t
        .clear()
        .args([
            "join",
            "estimates.csv",
            "--register",
            "medians.csv",
            "--on",
            "area",
            "--period",
            "2025",
        ])
        .run()
        .code(0);
    let rows = by_metric(&out.stdout);
    let v = |by: &str, g: &str| {
        rows[&(by.to_string(), g.to_string(), "days_median".to_string())]["register_value"].clone()
    };
    assert_eq!(v("area", "1"), "32");
    assert_eq!(v("area*lang", "2*2"), "35");
    // Area 2 has no total row and the whole country is several areas: no value.
    assert_eq!(v("area", "2"), "");
    assert_eq!(v("", ""), "");
}

#[test]
fn register_gaps_per_area_with_exact_limits_and_ranks() {
    let t = setup();
    let out = t
        .args([
            "join",
            "--register",
            "register.csv",
            "--on",
            "area=municipality",
        ])
        .args([
            "--classification",
            "class.csv",
            "--period",
            "2025",
            "--gaps",
        ])
        .run()
        .code(0);
    let (header, rows) = out.csv();
    assert_eq!(
        header,
        [
            "indicator",
            "by",
            "group",
            "reference",
            "measure",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "df1",
            "df2",
            "p_value",
            "p_adjusted",
            "flag",
            "period",
            "rank"
        ]
    );
    let find = |metric: &str, group: &str, measure: &str| {
        rows.iter()
            .find(|r| r[0] == metric && r[2] == group && r[4] == measure)
            .unwrap_or_else(|| panic!("no {metric} {group} {measure}"))
            .clone()
    };
    // Counts are sizes, not levels: no gaps.
    assert!(!rows.iter().any(|r| r[0] == "unemployed"));
    // Area 2, group 2 against group 1: 11/60 − 68/320 with MOVER limits from R's exact ones.
    let (p2, l2, u2) = (11.0 / 60.0, 0.095235822916563795, 0.304396054740776245);
    let (p1, l1, u1) = (68.0 / 320.0, 0.16896129799629683, 0.26145023886533514);
    let d = find("long_term_share", "2*2", "difference");
    assert_eq!((d[1].as_str(), d[3].as_str()), ("area*lang", "2*1"));
    let est: f64 = d[5].parse().unwrap();
    assert!((est - (p2 - p1)).abs() < 1e-15);
    close(
        d[7].parse().unwrap(),
        p2 - p1 - ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt(),
        1e-9,
    );
    close(
        d[8].parse().unwrap(),
        p2 - p1 + ((u2 - p2).powi(2) + (p1 - l1).powi(2)).sqrt(),
        1e-9,
    );
    assert_eq!(d[6], "");
    assert_eq!(d[11], "");
    assert_eq!(d[13], "ok");
    let r = find("long_term_share", "2*2", "ratio");
    assert!((r[5].parse::<f64>().unwrap() - p2 / p1).abs() < 1e-15);
    // Lower is better: the area where group 2's share exceeds group 1's most ranks first.
    // Area 1: 40/100 − 120/400 = 0.10; area 4: 12/30 − 75/250 = 0.10 (tie); area 2: −0.029.
    let rank = |g: &str| find("long_term_share", g, "difference")[15].clone();
    assert_eq!(
        (rank("1*2"), rank("4*2"), rank("2*2")),
        ("1".into(), "1".into(), "3".into())
    );
    // The whole country: by = lang, no rank; a ratio metric has no limits.
    let all = find("days_mean", "2", "difference");
    assert_eq!(
        (
            all[1].as_str(),
            all[3].as_str(),
            all[7].as_str(),
            all[15].as_str()
        ),
        ("lang", "1", "", "")
    );
    // Small bases are withheld.
    let out = t
        .clear()
        .args([
            "join",
            "--register",
            "register.csv",
            "--on",
            "area=municipality",
        ])
        .args([
            "--classification",
            "class.csv",
            "--period",
            "2025",
            "--gaps",
            "--min-base",
            "50",
        ])
        .run()
        .code(0);
    let (_, rows) = out.csv();
    let small = rows
        .iter()
        .find(|r| r[0] == "long_term_share" && r[2] == "4*2" && r[4] == "difference")
        .unwrap();
    assert_eq!(
        (small[5].as_str(), small[13].as_str(), small[15].as_str()),
        ("", "suppressed", "")
    );
}

#[test]
fn survey_gaps_within_areas_sit_beside_the_register_gaps() {
    let t = Test::new();
    let ex = crate::harness::repo("examples/service-equality");
    let inst = crate::harness::repo("instruments/service-equality.toml");
    t.args(["gaps"])
        .args([ex.join("responses.csv")])
        .args(["--design"])
        .args([ex.join("design.toml")])
        .args(["-i"])
        .args([&inst])
        .args([
            "--indicator",
            "info_understood",
            "--by",
            "language_group",
            "--within",
            "area",
        ])
        .args([
            "--measures",
            "difference,bgv",
            "--no-suppress",
            "-o",
            "gaps.csv",
        ])
        .run()
        .code(0);
    // The rows of one area are those of a subset run on that area.
    let within = std::fs::read_to_string(t.path("gaps.csv")).unwrap();
    let sub = t
        .clear()
        .args(["gaps"])
        .args([ex.join("responses.csv")])
        .args(["--design"])
        .args([ex.join("design.toml")])
        .args(["-i"])
        .args([&inst])
        .args([
            "--indicator",
            "info_understood",
            "--by",
            "language_group",
            "--subset",
            "area == 5",
        ])
        .args(["--measures", "difference", "--no-suppress"])
        .run()
        .code(0);
    let (_, sub_rows) = sub.csv();
    let (_, within_rows) = parse_csv(&within);
    for s in &sub_rows {
        let w = within_rows
            .iter()
            .find(|w| {
                w[1] == "area*language_group" && w[2] == format!("5*{}", s[2]) && w[4] == s[4]
            })
            .unwrap_or_else(|| panic!("no within row for {s:?}"));
        assert_eq!(w[3], format!("5*{}", s[3]));
        assert_eq!(
            w[5..12],
            s[5..12],
            "estimate..p_value of area 5, group {}",
            s[2]
        );
    }
    // Joined with the register: each survey gap gets the register gap of the same area and
    // groups; the per-dimension bgv rows have no register counterpart.
    let reg = ex.join("register");
    let out = t
        .clear()
        .args(["join", "gaps.csv", "--register"])
        .args([reg.join("metrics.csv")])
        .args(["--on", "area=municipality", "--classification"])
        .args([reg.join("classification.csv")])
        .args(["--period", "2025", "--metric", "activation_rate"])
        .run()
        .code(0);
    assert!(
        out.stderr
            .contains("gap measures without a register counterpart were left out: bgv"),
        "{}",
        out.stderr
    );
    let joined = by_metric(&out.stdout);
    let row = &joined[&(
        "area*language_group".into(),
        "5*3".into(),
        "activation_rate".into(),
    )];
    // The register gap by hand from the register cells of area 5 (Turku, Kaarina, Lieto, Naantali).
    let cells = t
        .clear()
        .args(["join", "--register"])
        .args([reg.join("metrics.csv")])
        .args(["--on", "area=municipality", "--classification"])
        .args([reg.join("classification.csv")])
        .args([
            "--period",
            "2025",
            "--gaps",
            "--metric",
            "activation_rate",
            "--measures",
            "difference",
        ])
        .run()
        .code(0);
    let (_, gap_rows) = cells.csv();
    let g = gap_rows.iter().find(|r| r[2] == "5*3").unwrap();
    assert_eq!(row["register_value"], g[5]);
    assert_eq!(row["register_low"], g[7]);
    assert_eq!(
        row["estimate"],
        within_rows
            .iter()
            .find(|w| w[2] == "5*3" && w[4] == "difference")
            .unwrap()[5]
    );
    let text = std::fs::read_to_string(reg.join("metrics.csv")).unwrap();
    let (h, rows) = parse_csv(&text);
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let sum = |group: &str, c: &str| -> f64 {
        rows.iter()
            .filter(|r| {
                ["853", "202", "423", "529"].contains(&r[0].as_str())
                    && r[1] == "2025"
                    && r[2] == group
            })
            .map(|r| r[col(c)].parse::<f64>().unwrap())
            .sum()
    };
    let share = |g: &str| sum(g, "activated") / sum(g, "activation_base");
    let by_hand = share("3") - share("1");
    assert!(
        (num(row, "register_value") - by_hand).abs() < 1e-14,
        "{} vs {by_hand}",
        row["register_value"]
    );
}

#[test]
fn persons_are_matched_one_to_one_and_the_added_columns_are_domains() {
    let t = Test::new();
    t.write(
        "responses.csv",
        "id,w,y\n1,10,1\n2,10,0\n3,20,1\n4,20,1\n5,10,0\n",
    );
    t.write(
        "persons.csv",
        "person,duration,plan\n3,14,yes\n1,2,no\n2,7,yes\n9,1,no\n4,30,yes\n",
    );
    let out = t
        .args([
            "join",
            "responses.csv",
            "--register",
            "persons.csv",
            "--on",
            "id=person",
            "--person",
            "-o",
            "linked.csv",
        ])
        .run()
        .code(0);
    assert!(out.stderr.contains("matched 4 of 5 respondents (80.0 %); 1 without a register row; 1 of 5 register rows matched no respondent; added duration, plan"), "{}", out.stderr);
    let linked = std::fs::read_to_string(t.path("linked.csv")).unwrap();
    assert_eq!(
        linked,
        "id,w,y,duration,plan\n1,10,1,2,no\n2,10,0,7,yes\n3,20,1,14,yes\n4,20,1,30,yes\n5,10,0,,\n"
    );
    // The added column is a domain like any other.
    let est = t
        .clear()
        .args([
            "estimate",
            "linked.csv",
            "--weight",
            "w",
            "--mean",
            "y",
            "--by",
            "plan",
            "--no-suppress",
        ])
        .run()
        .code(0);
    let (h, rows) = est.csv();
    let g = h.iter().position(|c| c == "group").unwrap();
    let e = h.iter().position(|c| c == "estimate").unwrap();
    let yes = rows.iter().find(|r| r[g] == "yes").unwrap();
    assert_eq!(yes[e], "0.8"); // (10·0 + 20·1 + 20·1) / 50
                               // --drop-id, --prefix, --columns.
    t.clear()
        .args([
            "join",
            "responses.csv",
            "--register",
            "persons.csv",
            "--on",
            "id=person",
            "--person",
        ])
        .args(["--columns", "plan", "--prefix", "reg_", "--drop-id"])
        .run()
        .code(0)
        .stdout_has("w,y,reg_plan\n10,1,no\n");
    // --strict: a respondent without a register row is an error, and nothing is written.
    t.clear()
        .args([
            "join",
            "responses.csv",
            "--register",
            "persons.csv",
            "--on",
            "id=person",
            "--person",
            "--strict",
            "-o",
            "strict.csv",
        ])
        .run()
        .code(2)
        .stderr_has("--strict: every respondent needs a register row; matched 4 of 5");
    assert!(!t.path("strict.csv").exists());
}

#[test]
fn person_level_problems_name_the_rows() {
    let t = Test::new();
    t.write("responses.csv", "id,y\n1,1\n2,0\n");
    t.write("dup.csv", "id,x\n1,5\n2,6\n1,7\n");
    let base = [
        "join",
        "responses.csv",
        "--on",
        "id",
        "--person",
        "--register",
    ];
    t.args(base)
        .args(["dup.csv"])
        .run()
        .code(2)
        .stderr_has("dup.csv, column `id`: ids must be unique for a person-level join; repeated: 1 (rows 1 and 3)");
    t.write("clash.csv", "id,y\n1,5\n2,6\n");
    t.clear()
        .args(base)
        .args(["clash.csv"])
        .run()
        .code(2)
        .stderr_has(
            "the register column `y` is also a column of the responses; add a prefix with --prefix",
        );
    t.write("noid.csv", "person,x\n1,5\n");
    t.clear()
        .args(base)
        .args(["noid.csv"])
        .run()
        .code(2)
        .stderr_has("`id`");
    t.write("blank.csv", "id,x\n1,5\n,6\n");
    t.clear()
        .args(base)
        .args(["blank.csv"])
        .run()
        .code(2)
        .stderr_has("blank.csv, row 2, column `id`: expected an id, found an empty cell");
}

#[test]
fn bad_register_input_gets_clear_messages_and_no_output() {
    let t = setup();
    let run = |extra: &[&str]| {
        t.clear()
            .args([
                "join",
                "estimates.csv",
                "--register",
                "register.csv",
                "--classification",
                "class.csv",
                "--period",
                "2025",
                "-o",
                "out.csv",
            ])
            .args(extra)
            .run()
            .code(2)
    };
    run(&["--on", "area=kunta"]).stderr_has("kunta");
    run(&["--on", "area="]).stderr_has("--on `area=`: write VAR or VAR=COLUMN");
    // A metric that is not a number.
    t.write(
        "register.csv",
        REGISTER.replace("091,2025,2,100,40", "091,2025,2,100,..."),
    );
    run(&["--on", "area=municipality"])
        .stderr_has("register.csv, row 2, column `long_term`: expected a number (found `...`)");
    // A share whose numerator exceeds its denominator, and a fractional count.
    t.write(
        "register.csv",
        REGISTER.replace("091,2025,2,100,40", "091,2025,2,100,140"),
    );
    run(&["--on", "area=municipality"]).stderr_has("register.csv, row 2, column `long_term`: metric `long_term_share` is a share: its numerator exceeds the denominator `unemployed` (100) (found `140`)");
    t.write(
        "register.csv",
        REGISTER.replace("091,2025,2,100,40", "091,2025,2,100.5,40"),
    );
    run(&["--on", "area=municipality"]).stderr_has("row 2, column `unemployed`: metric `unemployed` is a count: expected a whole number of persons or events, 0 or more (found `100.5`)");
    t.write("register.csv", REGISTER);
    // A conflicting classification.
    t.write("class.csv", format!("{CLASSIFICATION}049,Espoo,4,06\n"));
    run(&["--on", "area=municipality"]).stderr_has("class.csv, row 5, column `area`: conflicting classification: municipality 49 is in area 2 on row 2 and in area 4 here");
    t.write("class.csv", CLASSIFICATION);
    // A table that is not tidy estimates.
    t.write("estimates.csv", "a,b\n1,2\n");
    run(&["--on", "area=municipality"]).stderr_has(
        "estimates.csv, column `by`: not a tidy table from `tasa estimate` or `tasa gaps`",
    );
    assert!(!t.path("out.csv").exists());
    // The output may not overwrite an input.
    t.write("estimates.csv", ESTIMATES);
    t.clear()
        .args([
            "join",
            "estimates.csv",
            "--register",
            "register.csv",
            "--on",
            "area=municipality",
            "--classification",
            "class.csv",
            "--period",
            "2025",
            "-o",
            "estimates.csv",
        ])
        .run()
        .code(2)
        .stderr_has("-o estimates.csv is an input of the join");
    // No classification for municipality codes, and a metrics file with a mistake.
    t.clear()
        .args(["join", "estimates.csv", "--register", "register.csv", "--on", "area=municipality", "--period", "2025", "--register-level", "municipality"])
        .run()
        .code(2)
        .stderr_has("the register gives municipality codes and the survey reports by area; give --classification FILE");
    t.write(
        "register.toml",
        METRICS.replace("kind = \"ratio\"", "kind = \"mean\""),
    );
    run(&["--on", "area=municipality"])
        .stderr_has("register.toml, line 19: unknown variant `mean`");
}

#[test]
fn an_excel_register_joins_like_its_csv() {
    let t = setup();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in REGISTER.lines().enumerate() {
        for (c, field) in line.split(',').enumerate() {
            let (r, c) = (r as u32, c as u16);
            match field.parse::<f64>() {
                // Municipality codes stay text, as in a register export.
                Ok(x) if c != 0 || r == 0 => ws.write_number(r, c, x).map(|_| ()),
                _ => ws.write_string(r, c, field).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(t.path("register.xlsx")).unwrap();
    t.write("register.toml", METRICS);
    let csv = area_args(&t).run().code(0);
    let xlsx = t
        .clear()
        .args([
            "join",
            "estimates.csv",
            "--register",
            "register.xlsx",
            "--on",
            "area=municipality",
        ])
        .args([
            "--classification",
            "class.csv",
            "--period",
            "2025",
            "--metrics",
            "register.toml",
        ])
        .run()
        .code(0);
    assert_eq!(csv.stdout, xlsx.stdout);
}

#[test]
fn added_register_columns_calibrate_like_survey_columns() {
    let t = Test::new();
    t.write(
        "responses.csv",
        "id,w,y\n1,10,1\n2,10,0\n3,20,1\n4,20,1\n5,10,0\n",
    );
    t.write("persons.csv", "id,plan\n1,no\n2,yes\n3,yes\n4,yes\n5,no\n");
    t.write("plan.csv", "plan,total\nno,60\nyes,40\n");
    t.args([
        "join",
        "responses.csv",
        "--register",
        "persons.csv",
        "--on",
        "id",
        "--person",
        "-o",
        "linked.csv",
    ])
    .run()
    .code(0)
    .stderr_has("matched 5 of 5 respondents (100.0 %)");
    let out = t
        .clear()
        .args([
            "estimate",
            "linked.csv",
            "--weight",
            "w",
            "--mean",
            "y",
            "--no-suppress",
        ])
        .args(["--calibrate", "poststratify", "--margin", "plan.csv"])
        .run()
        .code(0);
    let (h, rows) = out.csv();
    let e = h.iter().position(|c| c == "estimate").unwrap();
    let p = h.iter().position(|c| c == "pop_size").unwrap();
    // Post-stratified: the `no` cell (ids 1, 5: y = 1, 0) weighs 60, `yes` (y = 0, 1, 1, by
    // weights 10, 20, 20) 40: (60·0.5 + 40·0.8) / 100.
    let est: f64 = rows[0][e].parse().unwrap();
    assert!((est - 0.62).abs() < 1e-12, "{est}");
    assert_eq!(rows[0][p], "100");
}

#[test]
fn totals_by_flag_exposures_and_recoverable_counts() {
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    // Total rows named by --total are not summed with the groups; an exposure may be fractional.
    t.write(
        "r.csv",
        "area,lang,n,events,years\n1,1,100,10,250.5\n1,2,40,8,90.25\n1,all,140,18,340.75\n2,1,60,5,100\n2,2,30,28,70\n",
    );
    let out = t
        .args([
            "join",
            "est.csv",
            "--register",
            "r.csv",
            "--on",
            "area",
            "--group",
            "lang",
        ])
        .args([
            "--total",
            "all",
            "--count",
            "n",
            "--rate",
            "rate=events/years",
            "--share",
            "s=events/n",
        ])
        .run()
        .code(0);
    let rows = by_metric(&out.stdout);
    let v =
        |by: &str, g: &str, m: &str| rows[&(by.to_string(), g.to_string(), m.to_string())].clone();
    assert_eq!(v("area", "1", "n")["register_value"], "140");
    assert_eq!(
        num(&v("area", "1", "rate"), "register_value"),
        18.0 / 340.75
    );
    // Area 2, group 2: 28 of 30 — the 2 without the outcome could be recovered: withheld.
    let s = v("area*lang", "2*2", "s");
    assert_eq!(
        (s["register_value"].as_str(), s["register_flag"].as_str()),
        ("", "suppressed")
    );
    // Person-level output is CSV only.
    t.write("p.csv", "id,x\n1,2\n");
    t.clear()
        .args([
            "join",
            "p.csv",
            "--register",
            "p.csv",
            "--on",
            "id",
            "--person",
            "-o",
            "out.xlsx",
        ])
        .run()
        .code(2)
        .stderr_has("--person writes respondent-level data as CSV");
}
