//! `tasa run RUN.toml --out DIR`: the bundled biennial example runs end to end; every output
//! the manifest lists exists with its hash; the workbooks read back; the run's tables equal
//! those of `tasa weight`, `estimate`, `gaps`, `compare` and `join` run by hand on the same
//! inputs; a second run gives identical tables; a bad run file fails before any work, naming
//! the key and line, and validation errors stop the run with nothing written.

use crate::harness::{repo, Test};
use calamine::{Reader, Xlsx};
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    repo("examples/biennial/run.toml")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The cells of every sheet but the manifest (which holds the time of the run).
fn workbook_cells(p: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> = calamine::open_workbook(p).expect("open the workbook");
    let mut names = wb.sheet_names().to_vec();
    // The last sheet is the manifest, with the run's time and command line.
    names.pop();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).expect("sheet");
            let rows = range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect();
            (n, rows)
        })
        .collect()
}

#[test]
fn example_runs_end_to_end_and_equals_the_commands() {
    let t = Test::new();
    let out = t.path("out");
    let o = t
        .args([
            "run".as_ref(),
            example().as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
        .run()
        .code(0);
    let stderr = o.stderr.clone();
    assert!(
        stderr.contains("service-equality: 2989 respondents, 36 indicators"),
        "{stderr}"
    );
    assert!(stderr.contains("wrote "), "{stderr}");

    // Every listed output exists with its bytes and hash; the manifest names the inputs.
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out.join("manifest.json"))).expect("manifest JSON");
    let outputs = manifest["outputs"].as_array().expect("outputs");
    assert!(outputs.len() >= 38, "{} outputs", outputs.len());
    for f in outputs {
        let p = out.join(f["path"].as_str().expect("path"));
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(bytes.len() as u64, f["bytes"].as_u64().expect("bytes"));
        assert_eq!(
            tasa::output::manifest::sha256_hex(&bytes),
            f["sha256"].as_str().expect("sha")
        );
    }
    for lang in ["fi", "sv", "en"] {
        for ext in ["xlsx", "md", "html"] {
            assert!(out
                .join(format!("service-equality/service-equality.{lang}.{ext}"))
                .is_file());
            assert!(out
                .join(format!("monisuomi/monisuomi.{lang}.{ext}"))
                .is_file());
        }
    }
    let roles: Vec<&str> = manifest["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| i["role"].as_str().expect("role"))
        .collect();
    for role in [
        "service-equality data",
        "service-equality previous data",
        "service-equality register",
        "monisuomi comparison data",
    ] {
        assert!(roles.contains(&role), "{roles:?}");
    }
    let steps: Vec<&str> = manifest["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["step"].as_str().expect("step"))
        .collect();
    assert_eq!(
        &steps[..7],
        &[
            "validate",
            "weight",
            "estimate",
            "compare previous",
            "gaps",
            "register",
            "publish"
        ]
    );
    let wb = workbook_cells(&out.join("service-equality/service-equality.en.xlsx"));
    let sheets: Vec<&str> = wb.iter().map(|(n, _)| n.as_str()).collect();
    for s in ["Estimates", "Gaps", "Comparison", "Register", "Methods"] {
        assert!(sheets.contains(&s), "{sheets:?}");
    }

    // The same numbers from the commands, on the same inputs.
    let se = out.join("service-equality");
    let inst = repo("instruments/service-equality.toml");
    let data = repo("examples/service-equality/responses.csv");
    let design = repo("examples/biennial/weights/service-equality.toml");
    let weighted = t.path("weighted.csv");
    let est_design = t.path("weighted.toml");
    t.clear()
        .args([
            "weight".as_ref(),
            data.as_os_str(),
            "--design".as_ref(),
            design.as_os_str(),
        ])
        .args([
            "-o".as_ref(),
            weighted.as_os_str(),
            "--design-out".as_ref(),
            est_design.as_os_str(),
        ])
        .run()
        .code(0);
    let by = [
        "origin_group",
        "language_group",
        "gender",
        "age_group",
        "disability",
        "area",
        "region",
    ];
    let estimates = t.path("estimates.csv");
    t.clear()
        .args([
            "estimate".as_ref(),
            weighted.as_os_str(),
            "--design".as_ref(),
            est_design.as_os_str(),
        ])
        .args([
            "-i".as_ref(),
            inst.as_os_str(),
            "--indicators".as_ref(),
            "all".as_ref(),
        ])
        .args(by.iter().flat_map(|b| ["--by", b]))
        .args(["-o".as_ref(), estimates.as_os_str()])
        .run()
        .code(0);
    assert_eq!(read(&estimates), read(&se.join("estimates.csv")));

    let gaps = t.path("gaps.csv");
    t.clear()
        .args([
            "gaps".as_ref(),
            weighted.as_os_str(),
            "--design".as_ref(),
            est_design.as_os_str(),
        ])
        .args([
            "-i".as_ref(),
            inst.as_os_str(),
            "--indicators".as_ref(),
            "all".as_ref(),
        ])
        .args(
            ["origin", "language", "gender", "age_group", "disability"]
                .iter()
                .flat_map(|b| ["--by", b]),
        )
        .args(["-o".as_ref(), gaps.as_os_str()])
        .run()
        .code(0);
    assert_eq!(read(&gaps), read(&se.join("gaps.csv")));

    let compare = t.path("compare.csv");
    let previous = repo("examples/biennial/service-equality-2024/responses.csv");
    t.clear()
        .args([
            "compare".as_ref(),
            weighted.as_os_str(),
            previous.as_os_str(),
        ])
        .args([
            "--design-a".as_ref(),
            est_design.as_os_str(),
            "--design-b".as_ref(),
            design.as_os_str(),
        ])
        .args([
            "-i".as_ref(),
            inst.as_os_str(),
            "--indicators".as_ref(),
            "all".as_ref(),
        ])
        .args(by.iter().flat_map(|b| ["--by", b]))
        .args(["-o".as_ref(), compare.as_os_str()])
        .run()
        .code(0);
    assert_eq!(read(&compare), read(&se.join("compare_previous.csv")));

    // The run joins two periods: the rows of 2023, then those of 2025.
    let register = repo("examples/service-equality/register/metrics.csv");
    let classification = repo("examples/service-equality/register/classification.csv");
    let mut by_hand = String::new();
    for period in ["2023", "2025"] {
        let joined = t.path(&format!("joined-{period}.csv"));
        t.clear()
            .args([
                "join".as_ref(),
                estimates.as_os_str(),
                "--register".as_ref(),
                register.as_os_str(),
            ])
            .args(["--on", "area=municipality", "--period", period])
            .args(["--classification".as_ref(), classification.as_os_str()])
            .args(["-o".as_ref(), joined.as_os_str()])
            .run()
            .code(0);
        let text = read(&joined);
        if by_hand.is_empty() {
            by_hand = text;
        } else {
            by_hand.push_str(text.split_once('\n').expect("a header").1);
        }
    }
    assert_eq!(by_hand, read(&se.join("joined.csv")));

    // A second run: identical tables, identical workbook cells (times aside).
    let again = t.path("again");
    t.clear()
        .args([
            "run".as_ref(),
            example().as_os_str(),
            "--out".as_ref(),
            again.as_os_str(),
        ])
        .run()
        .code(0);
    for f in outputs {
        let p = f["path"].as_str().expect("path");
        if p.ends_with(".csv") || p.ends_with(".json") || p.ends_with(".toml") {
            assert_eq!(read(&out.join(p)), read(&again.join(p)), "{p}");
        }
    }
    for p in [
        "service-equality/service-equality.fi.xlsx",
        "monisuomi/monisuomi.sv.xlsx",
    ] {
        assert_eq!(
            workbook_cells(&out.join(p)),
            workbook_cells(&again.join(p)),
            "{p}"
        );
    }

    // Running into the same folder again replaces it as a whole.
    std::fs::write(out.join("service-equality/stale.csv"), "x").expect("write");
    t.clear()
        .args([
            "run".as_ref(),
            example().as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
        .run()
        .code(0);
    assert!(!out.join("service-equality/stale.csv").exists());
    assert!(out.join("manifest.json").is_file());
}

/// A run file of the example's monisuomi survey alone, with `extra` appended to its table.
fn small_run(t: &Test, extra: &str) -> PathBuf {
    let r = |p: &str| repo(p).display().to_string();
    t.write(
        "run.toml",
        format!(
            "languages = [\"en\"]\n\n[[survey]]\nname = \"ms\"\ndata = \"{}\"\ninstrument = \"{}\"\ndesign = \"{}\"\n{extra}",
            r("examples/biennial/monisuomi/responses.csv"),
            r("instruments/monisuomi.toml"),
            r("examples/biennial/monisuomi/design.toml"),
        ),
    )
}

#[test]
fn a_small_run_writes_only_what_it_is_asked() {
    let t = Test::new();
    let run = small_run(
        &t,
        "indicators = [\"good_health\", \"lonely_often\"]\ndimensions = [\"gender\"]\n",
    );
    t.args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(0)
        .stderr_has("ms: 2583 respondents, 2 indicators");
    // `out` defaults to a folder beside the run file.
    let out = t.path("out/ms");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("out/ms")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "estimates.csv",
            "gaps.csv",
            "ms.en.html",
            "ms.en.md",
            "ms.en.xlsx"
        ]
    );
    let (header, rows) = crate::harness::parse_csv(&read(&out.join("estimates.csv")));
    assert_eq!(header[0], "indicator");
    // 2 indicators × (overall + 2 genders).
    assert_eq!(rows.len(), 6);
    // No staging folder is left beside the output.
    let leftovers: Vec<_> = std::fs::read_dir(t.path("."))
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tasa-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_json_only_run_publishes_no_csv() {
    let t = Test::new();
    let run = small_run(
        &t,
        "indicators = [\"good_health\"]\ndimensions = [\"gender\"]\n",
    );
    let text = read(&run).replace(
        "languages = [\"en\"]\n",
        "languages = [\"en\"]\ntables = [\"json\"]\n",
    );
    let run = t.write("run.toml", text);
    t.args(["run".as_ref(), run.as_os_str()]).run().code(0);
    let mut names: Vec<String> = std::fs::read_dir(t.path("out/ms"))
        .expect("out/ms")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "estimates.json",
            "gaps.json",
            "ms.en.html",
            "ms.en.md",
            "ms.en.xlsx"
        ]
    );
    let mut top: Vec<String> = std::fs::read_dir(t.path("out"))
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["manifest.json", "ms"]);
    let rows: serde_json::Value =
        serde_json::from_str(&read(&t.path("out/ms/estimates.json"))).expect("json");
    // 1 indicator × (overall + 2 genders).
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
}

#[test]
fn bad_run_files_fail_before_any_work() {
    let t = Test::new();
    let cases: [(&str, &str); 6] = [
        ("indicators = [\"good_health\", \"no_such\"]\n", "line 8: `no_such` is not an indicator of"),
        ("dimensions = [\"gender\", \"shoe_size\"]\n", "`shoe_size` is not a dimension of"),
        ("colour = \"red\"\n", "line 8: unknown field `colour`"),
        ("[survey.previous]\ndata = \"missing.csv\"\n", "missing.csv does not exist (paths are relative to the run file) [key `survey.previous.data`]"),
        ("key = [\"good_health\", \"nope\"]\n", "`nope` is not an indicator of"),
        ("[survey.areas]\nvariable = \"area\"\n", "`area` is neither an item nor a derived variable of"),
    ];
    for (extra, message) in cases {
        let run = small_run(&t, extra);
        t.clear()
            .args(["run".as_ref(), run.as_os_str()])
            .run()
            .code(2)
            .stderr_has(message);
        assert!(!t.path("out").exists(), "{extra}");
    }
    let register = format!(
        "[survey.register]\nfile = \"{}\"\nperiod = []\non = \"region\"\n",
        repo("examples/service-equality/register/metrics.csv").display()
    );
    let run = small_run(&t, &register);
    t.clear()
        .args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(2)
        .stderr_has("give a period, or a list of at least one [key `survey.register.period`]");
    assert!(!t.path("out").exists());
    let run = t.write(
        "bad.toml",
        "languages = [\"de\"]\n[[survey]]\nname = \"x\"\n",
    );
    t.clear()
        .args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(2)
        .stderr_has("missing field");
    let run = t.write(
        "lang.toml",
        format!(
            "languages = [\"de\"]\n{}",
            read(&small_run(&t, "")).replace("languages = [\"en\"]\n", "")
        ),
    );
    t.clear()
        .args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(2)
        .stderr_has("line 1: `de`: use fi, sv or en [key `languages`]");
    let run = t.write("none.toml", "languages = [\"fi\"]\n");
    t.clear()
        .args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(2)
        .stderr_has("the run file names no survey");
    // An output folder with someone else's files is never replaced.
    t.write("taken/notes.txt", "mine");
    let run = small_run(&t, "");
    t.clear()
        .args([
            "run".as_ref(),
            run.as_os_str(),
            "--out".as_ref(),
            t.path("taken").as_os_str(),
        ])
        .run()
        .code(2)
        .stderr_has("the folder has files but no manifest.json of an earlier run");
    assert_eq!(read(&t.path("taken/notes.txt")), "mine");
}

#[test]
fn validation_errors_stop_the_run_and_write_nothing() {
    let t = Test::new();
    let text = read(&repo("examples/biennial/monisuomi/responses.csv"));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "health_srh")
        .expect("health_srh");
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[col] = "17".into();
    lines[1] = cells.join(",");
    let data = t.write("responses.csv", lines.join("\n") + "\n");
    let run = small_run(&t, "").display().to_string();
    let text = read(Path::new(&run)).replace(
        &repo("examples/biennial/monisuomi/responses.csv")
            .display()
            .to_string(),
        &data.display().to_string(),
    );
    let run = t.write("run.toml", text);
    t.clear()
        .args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(1)
        .stderr_has("validation found problems; the run stopped and wrote nothing")
        .stderr_has("health_srh");
    assert!(!t.path("out").exists());
}

/// All cells of a sheet as text (numbers by `Display`), header first.
fn sheet(p: &Path, name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(p).expect("open the workbook");
    let range = wb.worksheet_range(name).expect("sheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// A cell of a sheet row by its header.
fn cell<'a>(rows: &'a [Vec<String>], row: &'a [String], header: &str) -> &'a str {
    let j = rows[0]
        .iter()
        .position(|h| h == header)
        .unwrap_or_else(|| panic!("no column {header}: {:?}", rows[0]));
    &row[j]
}

#[test]
fn every_area_gets_a_workbook_and_drafts_beside_its_region_and_the_country() {
    let t = Test::new();
    let r = |p: &str| repo(p).display().to_string();
    let run = t.write(
        "run.toml",
        format!(
            "languages = [\"fi\", \"en\"]\n\n[[survey]]\nname = \"se\"\ndata = \"{}\"\ninstrument = \"{}\"\ndesign = \"{}\"\nweight = true\nindicators = [\"channel_suitable\", \"treated_equally\"]\ndimensions = [\"gender\"]\n\n[survey.areas]\nvariable = \"area\"\nregion = \"region\"\noutputs = true\n\n[survey.previous]\ndata = \"{}\"\n\n[survey.comparison]\ndata = \"{}\"\nlabel = \"another sample\"\n\n[survey.register]\nfile = \"{}\"\nclassification = \"{}\"\nperiod = \"2025\"\non = \"area=municipality\"\n",
            r("examples/service-equality/responses.csv"),
            r("instruments/service-equality.toml"),
            r("examples/biennial/weights/service-equality.toml"),
            r("examples/biennial/service-equality-2024/responses.csv"),
            r("examples/biennial/service-equality-2024/responses.csv"),
            r("examples/service-equality/register/metrics.csv"),
            r("examples/service-equality/register/classification.csv"),
        ),
    );
    t.args(["run".as_ref(), run.as_os_str()])
        .run()
        .code(0)
        .stderr_has("a workbook and drafts for each of 45 areas");
    let out = t.path("out/se");
    let (header, est) = crate::harness::parse_csv(&read(&out.join("estimates.csv")));
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (by, group, ind, value, flag) = (
        col("by"),
        col("group"),
        col("indicator"),
        col("estimate"),
        col("flag"),
    );
    // Every area of the estimates has its folder with a workbook and two drafts per language.
    let areas: Vec<&str> = est
        .iter()
        .filter(|r| r[by] == "area" && r[ind] == "channel_suitable")
        .map(|r| r[group].as_str())
        .collect();
    assert_eq!(areas.len(), 45);
    for a in &areas {
        for lang in ["fi", "en"] {
            for ext in ["xlsx", "md", "html"] {
                let p = out.join(format!("areas/{a}/se-{a}.{lang}.{ext}"));
                assert!(p.is_file(), "{}", p.display());
            }
        }
    }
    // With a previous wave and a comparison survey, the workbook and drafts have both.
    let national = out.join("se.en.xlsx");
    let names = {
        let wb: Xlsx<_> = calamine::open_workbook(&national).expect("open the workbook");
        wb.sheet_names().to_vec()
    };
    for s in ["Comparison", "Comparison survey"] {
        assert!(names.iter().any(|n| n == s), "{names:?}");
    }
    let draft = read(&out.join("se.en.md"));
    assert!(draft.contains("The change since the previous wave is "));
    assert!(draft.contains("The difference from the comparison survey (A − B) is "));
    let (_, previous) = crate::harness::parse_csv(&read(&out.join("compare_previous.csv")));
    let (_, comparison) = crate::harness::parse_csv(&read(&out.join("compare_comparison.csv")));
    let survey_sheet = sheet(&national, "Comparison survey");
    assert_eq!(comparison.len(), previous.len());
    assert!(
        survey_sheet.len() > comparison.len(),
        "{}",
        survey_sheet.len()
    );

    // The gaps inside every area and region were computed (outputs imply them).
    assert!(out.join("gaps_by_area.csv").is_file());
    assert!(out.join("gaps_by_region.csv").is_file());

    // Helsinki (area 1, region Uusimaa = 1): its rows, its region's and the country's, with
    // the numbers of the survey's own table; no other area's rows.
    let wb = out.join("areas/1/se-1.en.xlsx");
    let rows = sheet(&wb, "Estimates");
    let data: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[0] == "channel_suitable" || r[0] == "treated_equally")
        .collect();
    assert_eq!(data.len(), 6, "{rows:?}");
    for r in &data {
        let g = cell(&rows, r, "Group");
        let (b, code) = match g {
            "" => ("", ""),
            "Helsinki" => ("area", "1"),
            "Uusimaa" => ("region", "1"),
            other => panic!("a row of another unit: {other}"),
        };
        let national = est
            .iter()
            .find(|e| e[ind] == r[0] && e[by] == b && e[group] == code)
            .expect("the row in estimates.csv");
        let x: f64 = cell(&rows, r, "Estimate").parse().expect("a number");
        let y: f64 = national[value].parse().expect("a number");
        assert!((x - y).abs() <= 1e-12 * y.abs(), "{x} vs {y}");
    }
    let gaps = sheet(&wb, "Gaps");
    let groups: Vec<&str> = gaps[1..]
        .iter()
        .filter(|r| r[0] == "channel_suitable")
        .map(|r| cell(&gaps, r, "Group"))
        .collect();
    // The country's gap, Helsinki's and Uusimaa's (women against men), and their tests.
    for g in ["Woman", "Helsinki × Woman", "Uusimaa × Woman"] {
        assert!(groups.contains(&g), "{g}: {groups:?}");
    }
    assert!(!groups.iter().any(|g| g.contains("Espoo")), "{groups:?}");
    let register = sheet(&wb, "Register");
    assert!(register[1..]
        .iter()
        .filter(|r| r[0] == "channel_suitable")
        .all(|r| ["", "Helsinki"].contains(&cell(&register, r, "Group"))));
    let methods = sheet(&wb, "Methods");
    assert_eq!(methods[0][0], "Area");
    assert!(methods[0][1].starts_with("Employment area: Helsinki (Region: Uusimaa)"));

    // The draft's headline is Helsinki's value beside Uusimaa's and the country's.
    let md = read(&out.join("areas/1/se-1.en.md"));
    assert!(
        md.contains("*Report draft — Employment area: Helsinki"),
        "{md}"
    );
    let pct = |b: &str, code: &str| {
        let e = est
            .iter()
            .find(|e| e[ind] == "channel_suitable" && e[by] == b && e[group] == code)
            .expect("row");
        format!("{:.1}%", 100.0 * e[value].parse::<f64>().expect("number"))
    };
    let headline = format!(
        "Could deal with the services in a way that suited them: Helsinki {} (95% confidence interval",
        pct("area", "1")
    );
    assert!(md.contains(&headline), "{headline}\n{md}");
    assert!(md.contains(&format!(
        "; Uusimaa {}, whole country {}.",
        pct("region", "1"),
        pct("", "")
    )));
    assert!(md.contains(&format!(
        "| Employment area: Helsinki | {} |",
        pct("area", "1")
    )));
    let fi = read(&out.join("areas/1/se-1.fi.md"));
    assert!(fi.contains("| Työllisyysalue: Helsinki |"), "{fi}");

    // A small area's estimate is withheld in its own outputs exactly as in the survey's.
    let small = est
        .iter()
        .find(|e| e[ind] == "channel_suitable" && e[by] == "area" && e[flag] == "suppressed")
        .expect("a suppressed area");
    let code = &small[group];
    let md = read(&out.join(format!("areas/{code}/se-{code}.en.md")));
    assert!(md.contains("– the value is withheld (too few respondents or too imprecise)"));
    let line = md
        .lines()
        .find(|l| l.starts_with("| Employment area: "))
        .expect("the area's row");
    assert!(line.contains("| .. | .. |"), "{line}");
    let rows = sheet(
        &out.join(format!("areas/{code}/se-{code}.en.xlsx")),
        "Estimates",
    );
    let withheld = rows[1..]
        .iter()
        .find(|r| r[0] == "channel_suitable" && cell(&rows, r, "Breakdown") == "Employment area")
        .expect("the area's row");
    assert_eq!(cell(&rows, withheld, "Estimate"), "..");

    // The manifest lists every area file with its hash.
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&t.path("out/manifest.json"))).expect("manifest");
    let listed = manifest["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter(|o| {
            o["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("se/areas/"))
        })
        .count();
    assert_eq!(listed, 45 * 6);
    let md = read(&out.join("areas/1/se-1.en.md"));
    assert!(md.contains("The difference from the comparison survey (A − B) is "));
}
