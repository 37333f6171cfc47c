//! Text from data, instruments and registers never runs as code: CSV/TSV outputs (tidy tables
//! and respondent-level files) put `'` before text that begins with `=`, `+`, `-`, `@`, a tab
//! or a carriage return, and `--raw-text` (or a run file's `raw_text = true`) writes it as it
//! is; workbooks hold such text as strings, never formulas (also chart titles); HTML drafts
//! escape every label, and Markdown drafts neither pass HTML nor make links. Every check reads
//! the written files back: CSV with the csv crate, workbooks with calamine, HTML with an HTML
//! parser, Markdown with a CommonMark parser.

use crate::harness::{parse_csv, repo, Test};
use calamine::{Data, Reader, Xlsx};
use std::collections::BTreeSet;
use std::io::Read;

/// The hostile group labels of the data, each with what a default CSV holds. A tab or a
/// carriage return before `x` is trimmed by the CSV reader, so both arrive as `x`; a negative
/// number is a number to a spreadsheet and stays as it is.
const GROUPS: [(&str, &str); 9] = [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1", "'+1"),
    ("-1+1", "'-1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "x"),
    ("\rx", "x"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("[a](javascript:alert(1))", "[a](javascript:alert(1))"),
    ("-2", "-2"),
];

/// Text as a spreadsheet must not run it: the values of [`GROUPS`] as read, unchanged.
fn raw_groups() -> BTreeSet<String> {
    GROUPS.iter().map(|(g, _)| g.trim().to_string()).collect()
}

fn defused_groups() -> BTreeSet<String> {
    GROUPS.iter().map(|(_, d)| d.to_string()).collect()
}

/// A CSV field, quoted.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// 40 respondents in each group of [`GROUPS`]: a positive `y`, a negative `neg`, weights 1
/// and 2.
fn data(t: &Test) {
    let mut s = String::from("id,grp,y,neg,w\n");
    let mut id = 0;
    for (g, _) in GROUPS {
        for k in 0..40 {
            id += 1;
            let y = 5.0 + ((id * 37) % 11) as f64 / 2.0;
            s.push_str(&format!("{id},{},{y},{},{}\n", quoted(g), -y, 1 + k % 2));
        }
    }
    t.write("d.csv", s);
}

/// The values of column `name` in the rows whose `by` is `grp`.
fn groups_of(header: &[String], rows: &[Vec<String>]) -> BTreeSet<String> {
    let by = header.iter().position(|c| c == "by").expect("by");
    let group = header.iter().position(|c| c == "group").expect("group");
    rows.iter()
        .filter(|r| r[by] == "grp")
        .map(|r| r[group].clone())
        .collect()
}

fn read_csv(t: &Test, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    parse_csv(&std::fs::read_to_string(t.path(name)).expect("written"))
}

fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let j = header
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter().map(|r| r[j].as_str()).collect()
}

fn estimate(t: &Test, data: &str, weight: &str, out: &str, raw: bool) {
    t.clear();
    if raw {
        t.args(["--raw-text"]);
    }
    t.args(["estimate", data, "--weight", weight])
        .args(["--mean", "y", "--mean", "neg", "--by", "grp", "-o", out])
        .run()
        .code(0);
}

#[test]
fn tidy_csv_and_tsv_put_a_quote_before_formula_text_unless_raw() {
    let t = Test::new();
    data(&t);
    estimate(&t, "d.csv", "w", "est.csv", false);
    let (h, rows) = read_csv(&t, "est.csv");
    assert_eq!(groups_of(&h, &rows), defused_groups());
    // Negative numbers are numbers, never text with a quote.
    let neg: Vec<f64> = column(&h, &rows, "estimate")
        .iter()
        .map(|e| e.parse().expect("a number"))
        .collect();
    assert!(neg.iter().any(|&e| e < 0.0), "{neg:?}");

    // --raw-text, before or after the subcommand: the text as it was read.
    estimate(&t, "d.csv", "w", "raw.csv", true);
    let (h, rows) = read_csv(&t, "raw.csv");
    assert_eq!(groups_of(&h, &rows), raw_groups());
    t.clear()
        .args(["estimate", "d.csv", "--weight", "w", "--mean", "y"])
        .args(["--by", "grp", "--raw-text"])
        .run()
        .code(0)
        .stdout_has("grp,@SUM(A1),");

    // TSV is defused as CSV; JSON is for scripts and keeps the text.
    let tsv = t
        .clear()
        .args(["estimate", "d.csv", "--weight", "w", "--mean", "y"])
        .args(["--by", "grp", "--format", "tsv"])
        .run()
        .code(0)
        .stdout;
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_reader(tsv.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(groups_of(&h, &rows), defused_groups());
    t.clear()
        .args(["estimate", "d.csv", "--weight", "w", "--mean", "y"])
        .args(["--by", "grp", "-o", "est.json"])
        .run()
        .code(0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("est.json")).unwrap()).unwrap();
    let groups: BTreeSet<String> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["by"] == "grp")
        .map(|r| r["group"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(groups, raw_groups());

    // A tidy workbook holds the text as strings, without a quote and without formulas.
    t.clear()
        .args(["estimate", "d.csv", "--weight", "w", "--mean", "y"])
        .args(["--by", "grp", "-o", "est.xlsx"])
        .run()
        .code(0);
    let mut wb: Xlsx<_> = calamine::open_workbook(t.path("est.xlsx")).expect("open");
    let sheet = wb.sheet_names()[0].clone();
    no_formulas(&mut wb);
    let range = wb.worksheet_range(&sheet).unwrap();
    let cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let g = cells[0]
        .iter()
        .position(|c| *c == Data::String("group".into()))
        .unwrap();
    let groups: BTreeSet<String> = cells[2..]
        .iter()
        .map(|r| match &r[g] {
            Data::String(s) => s.clone(),
            other => panic!("group {other:?} is not a string"),
        })
        .collect();
    assert_eq!(groups, raw_groups());
}

#[test]
fn respondent_level_files_are_defused_and_read_back_as_written() {
    let t = Test::new();
    data(&t);
    t.args(["weight", "d.csv", "--weight", "w", "--trim", "0.5,2"])
        .args(["-o", "weighted.csv"])
        .run()
        .code(0);
    let (h, rows) = read_csv(&t, "weighted.csv");
    let grp: BTreeSet<String> = column(&h, &rows, "grp")
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(grp, defused_groups());
    assert!(column(&h, &rows, "neg")
        .iter()
        .all(|v| v.parse::<f64>().is_ok_and(|x| x < 0.0)));

    // tasa reads the `'` back as part of the text (and does not add a second one).
    estimate(&t, "weighted.csv", "tasa_weight", "again.csv", false);
    let (h, rows) = read_csv(&t, "again.csv");
    assert_eq!(groups_of(&h, &rows), defused_groups());
    // Files to be read back are written with --raw-text: the groups are those of the data.
    t.clear()
        .args([
            "--raw-text",
            "weight",
            "d.csv",
            "--weight",
            "w",
            "--trim",
            "0.5,2",
        ])
        .args(["-o", "weighted-raw.csv"])
        .run()
        .code(0);
    estimate(&t, "weighted-raw.csv", "tasa_weight", "again-raw.csv", true);
    let (h, rows) = read_csv(&t, "again-raw.csv");
    assert_eq!(groups_of(&h, &rows), raw_groups());

    // Person-level join: the register's text (and column names) too.
    let mut persons = String::from("person,@plan\n");
    for (i, (g, _)) in GROUPS.iter().enumerate() {
        persons.push_str(&format!("{},{}\n", i + 1, quoted(g)));
    }
    t.write("persons.csv", persons);
    let join = |raw: bool, out: Option<&str>| {
        t.clear();
        if raw {
            t.args(["--raw-text"]);
        }
        t.args([
            "join",
            "d.csv",
            "--register",
            "persons.csv",
            "--on",
            "id=person",
        ])
        .args(["--person"]);
        if let Some(o) = out {
            t.args(["-o", o]);
        }
        t.run().code(0)
    };
    join(false, Some("linked.csv"));
    let (h, rows) = read_csv(&t, "linked.csv");
    assert_eq!(h.last().map(String::as_str), Some("'@plan"));
    let plans: BTreeSet<String> = column(&h, &rows, "'@plan")[..GROUPS.len()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(plans, defused_groups());
    let (h, rows) = parse_csv(&join(false, None).stdout);
    assert_eq!(column(&h, &rows, "'@plan")[0], "'=HYPERLINK(\"http://x\")");
    let (h, rows) = parse_csv(&join(true, None).stdout);
    assert_eq!(column(&h, &rows, "@plan")[0], "=HYPERLINK(\"http://x\")");
}

/// The test instrument with hostile labels in English: a theme that is a link, an indicator
/// whose id is a formula and whose label is a script, an indicator label that a chart title
/// would take for a formula, dimension labels and value labels that begin with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, and one that is an HTML tag.
fn hostile_instrument(t: &Test) -> std::path::PathBuf {
    let mut s = std::fs::read_to_string(repo("tests/fixtures/mini.toml")).unwrap();
    for (from, to) in [
        (
            r#"en = "Service" }"#,
            r#"en = "[a](javascript:alert(1))" }"#,
        ),
        (
            r#"en = "Treated fairly" }"#,
            r#"en = "=(HYPERLINK(\"http://x\"))" }"#,
        ),
        (
            "[indicators.disc]",
            r#"[indicators."=HYPERLINK(\"http://x\")"]"#,
        ),
        (
            r#"en = "Experienced discrimination" }"#,
            r#"en = "<script>alert(1)</script>" }"#,
        ),
        (r#"en = "Finland" }"#, r#"en = "+1" }"#),
        (r#"en = "Other" }"#, r#"en = "@SUM(A1)" }"#),
        (
            r#"label = { fi = "Syntyperä", sv = "Ursprung", en = "Origin" }"#,
            r#"label = { fi = "Syntyperä", sv = "Ursprung", en = "-1+1" }"#,
        ),
        (r#"en = "18–34" }"#, r#"en = "\tx" }"#),
        (r#"en = "35–49" }"#, r#"en = "\rx" }"#),
        (r#"en = "50–64" }"#, r#"en = "-2" }"#),
        (
            "label = { fi = \"Ikäryhmä\", sv = \"Åldersgrupp\", en = \"Age group\" }\nreference",
            "label = { fi = \"Ikäryhmä\", sv = \"Åldersgrupp\", en = \"<img src=x onerror=alert(1)>\" }\nreference",
        ),
    ] {
        assert!(s.contains(from), "{from}");
        s = s.replacen(from, to, 1);
    }
    t.write("hostile.toml", s)
}

/// The hostile instrument and a simulated sample of it in `sim/`.
fn hostile_survey() -> Test {
    let t = Test::new();
    hostile_instrument(&t);
    t.args(["simulate", "--instrument", "hostile.toml", "--n", "1000"])
        .args(["--seed", "1", "--out", "sim"])
        .run()
        .code(0);
    t
}

fn no_formulas(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>) {
    for name in wb.sheet_names().to_vec() {
        let formulas = wb.worksheet_formula(&name).expect("formulas");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "sheet {name} holds a formula"
        );
    }
}

/// Every string cell of the workbook.
fn strings(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in wb.sheet_names().to_vec() {
        let range = wb.worksheet_range(&name).expect("sheet");
        for c in range.used_cells() {
            if let Data::String(s) = c.2 {
                out.insert(s.clone());
            }
        }
    }
    out
}

/// The text of one part of the workbook's zip.
fn part(path: &std::path::Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("workbook");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut entry = zip.by_name(name).expect(name);
    let mut s = String::new();
    entry.read_to_string(&mut s).expect("utf-8");
    s
}

/// Asserts that an HTML page has no element or attribute that runs code or leaves the page.
fn inert_html(html: &str) {
    let dom = tl::parse(html, tl::ParserOptions::default()).expect("HTML");
    let parser = dom.parser();
    for node in dom.nodes() {
        let Some(tag) = node.as_tag() else { continue };
        let name = tag.name().as_utf8_str().to_ascii_lowercase();
        assert!(
            !matches!(name.as_str(), "script" | "img" | "iframe" | "object"),
            "a <{name}> element: {}",
            tag.outer_html(parser)
        );
        for (key, value) in tag.attributes().iter() {
            let key = key.to_ascii_lowercase();
            let value = value.unwrap_or_default().to_ascii_lowercase();
            assert!(!key.starts_with("on"), "an event attribute {key}");
            assert!(
                !value.contains("javascript:"),
                "{key}=\"{value}\" in {}",
                tag.outer_html(parser)
            );
            if key == "href" {
                assert!(value.starts_with('#'), "a link out of the page: {value}");
            }
        }
    }
}

#[test]
fn workbooks_hold_labels_as_strings_and_drafts_escape_them() {
    let t = hostile_survey();
    let estimate = |raw: bool, out: &str| {
        t.clear();
        if raw {
            t.args(["--raw-text"]);
        }
        t.args([
            "estimate",
            "sim/responses.csv",
            "--design",
            "sim/design.toml",
        ])
        .args(["-i", "hostile.toml", "--indicators", "all"])
        .args(["--by", "origin", "--by", "age_group", "-o", out])
        .run()
        .code(0);
    };
    // The indicator id is defused in the CSV, kept with --raw-text.
    estimate(false, "est.csv");
    let (h, rows) = read_csv(&t, "est.csv");
    assert!(column(&h, &rows, "indicator").contains(&"'=HYPERLINK(\"http://x\")"));
    estimate(true, "est-raw.csv");
    let (h, rows) = read_csv(&t, "est-raw.csv");
    assert!(column(&h, &rows, "indicator").contains(&"=HYPERLINK(\"http://x\")"));

    let report = |out: &str| {
        t.clear()
            .args(["report", "--estimates", "est-raw.csv", "-i", "hostile.toml"])
            .args(["--lang", "en", "-o", out])
            .run()
            .code(0);
    };

    // Workbook: every label is a string cell as the instrument has it, no cell a formula.
    report("r.xlsx");
    let mut wb: Xlsx<_> = calamine::open_workbook(t.path("r.xlsx")).expect("open");
    no_formulas(&mut wb);
    let cells = strings(&mut wb);
    for label in [
        "=HYPERLINK(\"http://x\")",
        "=(HYPERLINK(\"http://x\"))",
        "<script>alert(1)</script>",
        "+1",
        "@SUM(A1)",
        "-1+1",
        "\tx",
        "\rx",
        "-2",
        "<img src=x onerror=alert(1)>",
        "=(HYPERLINK(\"http://x\")) — -1+1",
    ] {
        assert!(cells.contains(label), "no string cell {label:?}: {cells:?}");
    }
    // The chart's title refers to its string cell; a title given as text that begins with
    // `=(` would have been written as a formula.
    let chart = part(&t.path("r.xlsx"), "xl/charts/chart1.xml");
    let title = chart
        .split("<c:title>")
        .nth(1)
        .and_then(|s| s.split("</c:title>").next())
        .expect("a chart title");
    assert!(
        title.contains("<c:f>'Chart data'!$A$1</c:f>")
            && title.contains("<c:v>=(HYPERLINK(\"http://x\")) — -1+1</c:v>"),
        "{title}"
    );

    // HTML: no element or attribute from the labels; the labels are there as text.
    report("r.html");
    let html = std::fs::read_to_string(t.path("r.html")).unwrap();
    inert_html(&html);
    for escaped in [
        "<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>",
        "<caption>&lt;img src=x onerror=alert(1)&gt;</caption>",
        "<h3>=(HYPERLINK(&quot;http://x&quot;))</h3>",
        "[a](javascript:alert(1))</h2>",
    ] {
        assert!(html.contains(escaped), "{escaped} not in the HTML");
    }

    // Markdown: no HTML, no link or image, five cells in every table row; the labels are text.
    report("r.md");
    let md = std::fs::read_to_string(t.path("r.md")).unwrap();
    inert_markdown(&md);
    let text = markdown_text(&md);
    for label in [
        "[a](javascript:alert(1))",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "@SUM(A1)",
    ] {
        assert!(text.contains(label), "{label} not in the Markdown's text");
    }
}

fn markdown_options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
}

/// Asserts that rendered Markdown has no HTML, no link or image, and tables of five columns.
fn inert_markdown(md: &str) {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut cells = 0;
    for event in Parser::new_ext(md, markdown_options()) {
        match &event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML in the Markdown: {h}"),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                panic!("a link in the Markdown: {dest_url}")
            }
            Event::Start(Tag::TableRow | Tag::TableHead) => cells = 0,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                assert_eq!(cells, 5, "a table row of {cells} cells")
            }
            _ => {}
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(md, markdown_options()));
    inert_html(&html);
}

/// The text a Markdown viewer shows.
fn markdown_text(md: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut out = String::new();
    for event in Parser::new_ext(md, markdown_options()) {
        if let Event::Text(s) = event {
            out.push_str(&s);
        }
    }
    out
}

#[test]
fn a_report_of_data_groups_escapes_them() {
    let t = Test::new();
    data(&t);
    estimate(&t, "d.csv", "w", "est.csv", true);
    for out in ["g.xlsx", "g.html", "g.md"] {
        t.clear()
            .args([
                "report",
                "--estimates",
                "est.csv",
                "--lang",
                "en",
                "-o",
                out,
            ])
            .run()
            .code(0);
    }
    let mut wb: Xlsx<_> = calamine::open_workbook(t.path("g.xlsx")).expect("open");
    no_formulas(&mut wb);
    let cells = strings(&mut wb);
    for g in raw_groups() {
        assert!(cells.contains(&g), "no string cell {g:?}");
    }
    let html = std::fs::read_to_string(t.path("g.html")).unwrap();
    inert_html(&html);
    assert!(html.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    let md = std::fs::read_to_string(t.path("g.md")).unwrap();
    inert_markdown(&md);
    let text = markdown_text(&md);
    for g in raw_groups() {
        assert!(text.contains(&g), "{g} not in the Markdown's text");
    }
}

/// A run file of the hostile survey, with `extra` at its top.
fn run_file(t: &Test, name: &str, extra: &str) -> std::path::PathBuf {
    t.write(
        name,
        format!(
            "{extra}languages = [\"en\"]\n\n[[survey]]\nname = \"s\"\ndata = \"sim/responses.csv\"\ninstrument = \"hostile.toml\"\ndesign = \"sim/design.toml\"\n"
        ),
    )
}

#[test]
fn a_run_defuses_its_tables_and_publishes_the_text_as_it_is() {
    let t = hostile_survey();
    let indicators = |dir: &str, file: &str| -> BTreeSet<String> {
        let (h, rows) = read_csv(&t, &format!("{dir}/s/{file}"));
        column(&h, &rows, "indicator")
            .into_iter()
            .map(String::from)
            .collect()
    };
    run_file(&t, "run.toml", "");
    t.clear()
        .args(["run", "run.toml", "--out", "out"])
        .run()
        .code(0);
    for file in ["estimates.csv", "gaps.csv"] {
        let ids = indicators("out", file);
        assert!(ids.contains("'=HYPERLINK(\"http://x\")"), "{file}: {ids:?}");
        assert!(!ids.contains("=HYPERLINK(\"http://x\")"), "{file}: {ids:?}");
    }
    // The workbook and drafts are made from the text as it is.
    let mut wb: Xlsx<_> = calamine::open_workbook(t.path("out/s/s.en.xlsx")).expect("open");
    no_formulas(&mut wb);
    let cells = strings(&mut wb);
    assert!(cells.contains("=HYPERLINK(\"http://x\")"));
    assert!(!cells.contains("'=HYPERLINK(\"http://x\")"));
    inert_html(&std::fs::read_to_string(t.path("out/s/s.en.html")).unwrap());
    inert_markdown(&std::fs::read_to_string(t.path("out/s/s.en.md")).unwrap());
    // Only the published files are left.
    let mut names: Vec<String> = std::fs::read_dir(t.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["manifest.json", "s"]);

    // `raw_text = true` in the run file, or --raw-text: the tables as they are.
    run_file(&t, "raw.toml", "raw_text = true\n");
    t.clear()
        .args(["run", "raw.toml", "--out", "raw"])
        .run()
        .code(0);
    assert!(indicators("raw", "estimates.csv").contains("=HYPERLINK(\"http://x\")"));
    t.clear()
        .args(["run", "run.toml", "--out", "flag", "--raw-text"])
        .run()
        .code(0);
    assert!(indicators("flag", "gaps.csv").contains("=HYPERLINK(\"http://x\")"));
    // A value that is not true or false names the line.
    run_file(&t, "bad.toml", "raw_text = \"yes\"\n");
    t.clear()
        .args(["run", "bad.toml", "--out", "bad"])
        .run()
        .code(2)
        .stderr_has("bad.toml, line 1: invalid type: string \"yes\", expected a boolean");
    assert!(!t.path("bad").exists());
}

#[test]
fn the_flag_is_in_the_help_of_every_command() {
    for cmd in ["estimate", "weight", "join", "run", "simulate"] {
        Test::new()
            .args([cmd, "--help"])
            .run()
            .code(0)
            .stdout_has("--raw-text");
    }
}
