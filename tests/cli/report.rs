//! `tasa report -o FILE.xlsx`: the workbook read back with calamine — sheets in the chosen
//! language, labels from the instrument, numbers equal to the tidy input, `..` and its
//! footnote where values are withheld, no formulas from text that begins with `=`, charts with
//! error bars, the methods and manifest sheets — and bad input.

use crate::harness::{parse_csv, repo, Test};
use calamine::{Data, Reader, Xlsx};
use std::io::Read;

/// A small estimates table: an overall row, three origin groups (one withheld, one of low
/// precision), and a mean.
const ESTIMATES: &str = "\
indicator,stat,variable,category,by,group,estimate,se,ci_low,ci_high,df,cv,deff,n,n_eff,pop_size,flag
info_understood,proportion,info_lang,,,,0.8130004116262296,0.0075,0.797625717429591,0.8274597332557555,90,0.0092,1.06,2837,2669.03,261247.7,ok
info_understood,proportion,info_lang,,origin_group,1,0.823924845624594,0.0084,0.80,0.84,88,0.01,1.1,2401,2200,200000,ok
info_understood,proportion,info_lang,,origin_group,2,0.8224776912981967,0.027,0.76,0.87,6,0.03,1.2,199,170,30000,low_precision
info_understood,proportion,info_lang,,origin_group,4,,,,,3,,,11,,,suppressed
contacts_per_month,mean,contacts,,,,2.5,0.1,2.3,2.7,90,0.04,1.3,2500,1900,250000,ok
";

fn instrument() -> std::path::PathBuf {
    repo("instruments/service-equality.toml")
}

fn open(path: &std::path::Path) -> Xlsx<std::io::BufReader<std::fs::File>> {
    calamine::open_workbook(path).expect("open the workbook")
}

fn rows(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str) -> Vec<Vec<Data>> {
    let range = wb
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn report(t: &Test, lang: &str, out: &str) -> crate::harness::Output {
    t.clear()
        .args(["report", "--estimates", "est.csv", "--instrument"])
        .args([instrument()])
        .args(["--lang", lang, "-o", out])
        .run()
}

#[test]
fn the_workbook_reads_back_with_labels_numbers_and_withheld_values() {
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    report(&t, "fi", "tulokset.xlsx")
        .code(0)
        .stderr_has("wrote tulokset.xlsx (5 estimates");
    let mut wb = open(&t.path("tulokset.xlsx"));
    assert_eq!(
        wb.sheet_names(),
        [
            "Estimaatit",
            "Kuviot",
            "Kuvioiden tiedot",
            "Menetelmät",
            "Tiedostot"
        ]
    );
    let sheet = rows(&mut wb, "Estimaatit");
    let header: Vec<String> = sheet[0].iter().map(text).collect();
    assert_eq!(
        header[..8],
        [
            "Indikaattori (tunnus)",
            "Indikaattori",
            "Tunnusluku",
            "Muuttuja",
            "Luokka",
            "Jaottelu",
            "Ryhmä",
            "Estimaatti"
        ]
    );
    assert_eq!(header.last().map(String::as_str), Some("Huom."));
    let (_, tidy) = parse_csv(ESTIMATES);
    // Numbers are the tidy numbers, unrounded.
    for (r, row) in tidy.iter().enumerate() {
        let cells = &sheet[r + 1];
        if row[6].is_empty() {
            continue;
        }
        assert_eq!(cells[7], Data::Float(row[6].parse().unwrap()), "row {r}");
        assert_eq!(cells[9], Data::Float(row[8].parse().unwrap()), "row {r}");
        assert_eq!(cells[14], Data::Float(row[13].parse().unwrap()), "row {r}");
    }
    // Labels from the instrument, in Finnish.
    assert_eq!(text(&sheet[1][2]), "osuus");
    assert_eq!(text(&sheet[2][5]), "Syntymämaa");
    assert_eq!(text(&sheet[2][6]), "Suomessa syntyneet");
    assert_eq!(text(&sheet[5][2]), "keskiarvo");
    // A withheld row: `..` in its numbers, n kept, its flag in Finnish.
    let withheld = &sheet[4];
    assert_eq!(text(&withheld[7]), "..");
    assert_eq!(text(&withheld[8]), "..");
    assert_eq!(withheld[14], Data::Float(11.0));
    assert_eq!(text(&withheld[17]), "salattu");
    // Low precision: a `*` in the note column.
    assert_eq!(text(&sheet[3][18]), "*");
    // Footnotes under the table, after a blank row.
    let notes: Vec<String> = sheet[7..].iter().map(|r| text(&r[0])).collect();
    assert!(
        notes[0].starts_with(".. = arvo salattu: alle 30 vastaajaa"),
        "{notes:?}"
    );
    assert!(notes[1].starts_with("* = epätarkka arvo"), "{notes:?}");
}

#[test]
fn every_language_names_its_sheets_and_flags() {
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    report(&t, "sv", "sv.xlsx").code(0);
    report(&t, "en", "en.xlsx").code(0);
    let mut sv = open(&t.path("sv.xlsx"));
    assert_eq!(sv.sheet_names()[0], "Skattningar");
    let s = rows(&mut sv, "Skattningar");
    assert_eq!(text(&s[2][6]), "Födda i Finland");
    assert_eq!(text(&s[4][17]), "undertryckt");
    let mut en = open(&t.path("en.xlsx"));
    assert_eq!(en.sheet_names()[3], "Methods");
    let e = rows(&mut en, "Estimates");
    assert_eq!(text(&e[4][17]), "suppressed");
    let methods = rows(&mut en, "Methods");
    let topics: Vec<String> = methods.iter().map(|r| text(&r[0])).collect();
    assert_eq!(
        topics,
        [
            "Instrument",
            "Estimation",
            "Confidence intervals",
            "Suppression and reliability"
        ]
    );
    // Weighting diagnostics, flattened (keys in alphabetical order).
    t.write("w.json", "{\"respondents\": 2837, \"weights\": {\"min\": 1.5, \"max\": 420.25}, \"margins\": [\"area\", \"age_group\"]}");
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--lang",
            "en",
            "--diagnostics",
            "w.json",
            "-o",
            "d.xlsx",
        ])
        .run()
        .code(0);
    let mut d = open(&t.path("d.xlsx"));
    let dm = rows(&mut d, "Methods");
    let weighting = dm
        .iter()
        .find(|r| text(&r[0]) == "Weighting")
        .expect("a weighting topic");
    assert_eq!(
        text(&weighting[1]),
        "margins = [area, age_group]; respondents = 2837; weights.max = 420.25; weights.min = 1.5"
    );
    // The df the estimates used, as observed.
    assert!(
        text(&methods[2][1]).contains("(observed range 3–90)"),
        "{:?}",
        methods[2]
    );
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--lang",
            "de",
            "-o",
            "x.xlsx",
        ])
        .run()
        .code(2)
        .stderr_has("invalid value 'de' for '--lang <LANG>'");
}

#[test]
fn text_that_looks_like_a_formula_stays_text() {
    let t = Test::new();
    let hostile = ESTIMATES
        .replace(
            "contacts_per_month,mean,contacts",
            "=HYPERLINK(\"http://x\"),mean,\"=1+1\"",
        )
        .replace(
            "info_understood,proportion,info_lang,,origin_group,1,",
            "info_understood,proportion,info_lang,,origin_group,@SUM(A1),",
        );
    t.write("est.csv", hostile);
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--lang",
            "en",
            "-o",
            "h.xlsx",
        ])
        .run()
        .code(0);
    let mut wb = open(&t.path("h.xlsx"));
    let formulas = wb.worksheet_formula("Estimates").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell may hold a formula"
    );
    let s = rows(&mut wb, "Estimates");
    assert_eq!(text(&s[5][0]), "=HYPERLINK(\"http://x\")");
    assert_eq!(text(&s[5][3]), "=1+1");
    assert_eq!(text(&s[2][6]), "@SUM(A1)");
}

/// The text of one part of the workbook's zip.
fn part(path: &std::path::Path, name: &str) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut zip = zip::ZipArchive::new(file).ok()?;
    let mut entry = zip.by_name(name).ok()?;
    let mut s = String::new();
    entry.read_to_string(&mut s).ok()?;
    Some(s)
}

#[test]
fn key_indicators_get_charts_with_interval_error_bars() {
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    report(&t, "en", "c.xlsx").code(0);
    let path = t.path("c.xlsx");
    // One chart: info_understood by origin (the withheld group is left out); the mean has no
    // breakdown, so no chart.
    let chart = part(&path, "xl/charts/chart1.xml").expect("a chart");
    assert!(part(&path, "xl/charts/chart2.xml").is_none());
    assert!(chart.contains("<c:barChart>"), "{chart}");
    assert!(chart.contains("<c:errValType val=\"cust\"/>"), "{chart}");
    assert!(
        chart.contains("'Chart data'!$D$3:$D$5"),
        "plus distances: {chart}"
    );
    assert!(
        chart.contains("'Chart data'!$C$3:$C$5"),
        "minus distances: {chart}"
    );
    let mut wb = open(&path);
    let data = rows(&mut wb, "Chart data");
    assert_eq!(
        text(&data[0][0]),
        "Received information in a language they understand well — Country of birth"
    );
    let labels: Vec<String> = data[2..5].iter().map(|r| text(&r[0])).collect();
    assert_eq!(
        labels,
        ["All", "Born in Finland", "Born elsewhere in Europe"]
    );
    // Estimate, and the distances to the interval limits.
    assert_eq!(data[3][1], Data::Float(0.823924845624594));
    match (&data[3][2], &data[3][3]) {
        (Data::Float(minus), Data::Float(plus)) => {
            assert!((minus - (0.823924845624594 - 0.80)).abs() < 1e-15);
            assert!((plus - (0.84 - 0.823924845624594)).abs() < 1e-15);
        }
        other => panic!("{other:?}"),
    }
    // --key picks the charts; an unknown id is refused.
    t.clear()
        .args(["report", "--estimates", "est.csv", "--key", "nope", "-o", "k.xlsx"])
        .run()
        .code(2)
        .stderr_has("--key nope: the estimates have no such indicator; they have info_understood, contacts_per_month");
}

#[test]
fn the_manifest_records_every_input_with_its_hash() {
    use sha2::Digest;
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    report(&t, "en", "m.xlsx").code(0);
    let mut wb = open(&t.path("m.xlsx"));
    let m = rows(&mut wb, "Manifest");
    assert_eq!(text(&m[0][0]), "Tool");
    assert!(text(&m[0][1]).starts_with("tasa "));
    assert!(text(&m[1][1]).contains("report --estimates est.csv"));
    assert!(text(&m[2][1]).ends_with('Z'));
    let est_hash: String = sha2::Sha256::digest(ESTIMATES.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let inputs: Vec<(String, String, String)> = m[5..]
        .iter()
        .map(|r| (text(&r[0]), text(&r[1]), text(&r[3])))
        .collect();
    assert_eq!(
        inputs[0],
        ("--estimates".into(), "est.csv".into(), est_hash)
    );
    assert_eq!(inputs[1].0, "--instrument");
    assert_eq!(inputs[1].2.len(), 64);
}

#[test]
fn gaps_comparisons_and_register_rows_get_their_own_sheets() {
    let t = Test::new();
    let ex = repo("examples/service-equality");
    t.write("est.csv", ESTIMATES);
    t.write("cmp.csv", COMPARE);
    t.clear()
        .args(["gaps"])
        .args([ex.join("responses.csv")])
        .args(["--design"])
        .args([ex.join("design.toml")])
        .args(["-i"])
        .args([instrument()])
        .args([
            "--indicator",
            "info_understood",
            "--by",
            "origin_group",
            "-o",
            "gaps.csv",
        ])
        .run()
        .code(0);
    t.clear()
        .args(["join", "est.csv", "--register"])
        .args([ex.join("register/metrics.csv")])
        .args(["--on", "area=municipality", "--classification"])
        .args([ex.join("register/classification.csv")])
        .args(["--period", "2025", "-o", "joined.csv"])
        .run()
        .code(0);
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--gaps",
            "gaps.csv",
            "--compare",
            "cmp.csv",
            "--joined",
            "joined.csv",
            "-i",
        ])
        .args([instrument()])
        .args(["--lang", "en", "--design"])
        .args([ex.join("design.toml")])
        .args(["-o", "all.xlsx"])
        .run()
        .code(0);
    let mut wb = open(&t.path("all.xlsx"));
    assert_eq!(
        wb.sheet_names(),
        [
            "Estimates",
            "Gaps",
            "Comparison",
            "Register",
            "Charts",
            "Chart data",
            "Methods",
            "Manifest"
        ]
    );
    let gaps_text = std::fs::read_to_string(t.path("gaps.csv")).unwrap();
    let (_, tidy) = parse_csv(&gaps_text);
    let sheet = rows(&mut wb, "Gaps");
    // The header, a row per gap, and any footnotes after a blank row.
    assert!(sheet.len() == tidy.len() + 1 || sheet.len() >= tidy.len() + 3);
    let cmp = rows(&mut wb, "Comparison");
    assert_eq!(text(&cmp[0][13]), "Difference (A − B)");
    assert_eq!(cmp[1][13], Data::Float(0.024));
    assert_eq!(text(&cmp[1][19]), "ok");
    // The estimate of each gap row equals the tidy one (col 6: after the indicator label).
    for (r, row) in tidy.iter().enumerate() {
        if !row[5].is_empty() {
            assert_eq!(
                sheet[r + 1][6],
                Data::Float(row[5].parse().unwrap()),
                "gap row {r}"
            );
        }
    }
    let methods = rows(&mut wb, "Methods");
    let topics: Vec<String> = methods.iter().map(|r| text(&r[0])).collect();
    for topic in ["Gaps", "Comparison", "Register metrics", "Sampling design"] {
        assert!(topics.contains(&topic.to_string()), "{topic}: {topics:?}");
    }
}

#[test]
fn bad_input_gets_clear_messages_and_no_workbook() {
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    t.write(
        "broken.csv",
        "indicator,stat,by,group,estimate\nx,mean,,,1\n",
    );
    t.args(["report", "--estimates", "broken.csv", "-o", "b.xlsx"])
        .run()
        .code(2)
        .stderr_has("broken.csv, column `variable`: not a tidy table from `tasa estimate`: the column `variable` is missing");
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--gaps",
            "est.csv",
            "-o",
            "b.xlsx",
        ])
        .run()
        .code(2)
        .stderr_has("not a tidy table from `tasa gaps`: the column `reference` is missing");
    t.clear()
        .args(["report", "--estimates", "est.csv", "-o", "b.pdf"])
        .run()
        .code(2)
        .stderr_has("-o b.pdf: give a workbook (.xlsx) or a report draft (.md, .html)");
    t.write("weights.json", "{\"n\": 3,");
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--diagnostics",
            "weights.json",
            "-o",
            "b.xlsx",
        ])
        .run()
        .code(2)
        .stderr_has("weights.json, line 1: expected the JSON of `tasa weight --report`");
    assert!(!t.path("b.xlsx").exists());
    t.clear()
        .args(["report", "--estimates", "est.csv", "-o", "est.csv"])
        .run()
        .code(2)
        .stderr_has("-o est.csv is an input of the report");
}

/// A gaps table for the small estimates: origin group 3 differs after adjustment, group 2 not.
const GAPS: &str = "\
indicator,by,group,reference,measure,estimate,se,ci_low,ci_high,df1,df2,p_value,p_adjusted,flag
info_understood,origin_group,2,1,difference,-0.0014,0.028,-0.06,0.05,60,,0.96,1,ok
info_understood,origin_group,3,1,difference,-0.1267,0.03,-0.19,-0.07,60,,0.0001,0.0004,ok
info_understood,origin_group,,,rao_scott_f,7.1,,,,1.9,110,0.0015,0.0045,ok
";

/// A comparison with the previous wave: +2.4 points, significant.
const COMPARE: &str = "\
indicator,stat,variable,category,by,group,estimate_a,se_a,n_a,estimate_b,se_b,n_b,difference,se,ci_low,ci_high,df,p_value,flag
info_understood,proportion,info_lang,,,,0.813,0.0075,2837,0.789,0.008,2790,0.024,0.011,0.002,0.046,170,0.031,ok
";

fn draft(t: &Test, lang: &str, out: &str) -> crate::harness::Output {
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--gaps",
            "gaps.csv",
            "--compare",
            "cmp.csv",
            "--instrument",
        ])
        .args([instrument()])
        .args(["--lang", lang, "-o", out])
        .run()
}

fn setup_draft() -> Test {
    let t = Test::new();
    t.write("est.csv", ESTIMATES);
    t.write("gaps.csv", GAPS);
    t.write("cmp.csv", COMPARE);
    t
}

#[test]
fn finnish_sentences_use_decimal_commas_and_name_the_significant_groups() {
    let t = setup_draft();
    draft(&t, "fi", "r.md")
        .code(0)
        .stderr_has("wrote r.md (2 sections, 2 indicators, in fi)");
    let md = std::fs::read_to_string(t.path("r.md")).unwrap();
    assert!(
        md.starts_with("# Työnhakijoiden yhdenvertaisuuskokemukset työllisyyspalveluissa\n"),
        "{md}"
    );
    let label = "Sai tietoa kielellä, jota ymmärtää hyvin";
    assert!(
        md.contains(&format!(
            "{label}: koko joukossa 81,3\u{a0}% (95 %:n luottamusväli 79,8–82,7\u{a0}%)."
        )),
        "{md}"
    );
    assert!(md.contains("Syntymämaa: vertailuryhmästä (Suomessa syntyneet) eroavat tilastollisesti merkitsevästi (korjattu p < 0,05) Euroopan ulkopuolella syntyneet \u{2212}12,7\u{a0}prosenttiyksikköä."), "{md}");
    assert!(md.contains("Muutos edellisestä kierroksesta on +2,4\u{a0}prosenttiyksikköä (95 %:n luottamusväli +0,2…+4,6\u{a0}prosenttiyksikköä), tilastollisesti merkitsevä."), "{md}");
    // A table row per group, withheld values as `..`, thousands with a narrow space.
    assert!(
        md.contains("| Kaikki | 81,3\u{a0}% | 79,8–82,7\u{a0}% | 2\u{202f}837 | ok |"),
        "{md}"
    );
    assert!(
        md.contains("| Muu tai tuntematon syntymämaa | .. | .. | 11 | salattu |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| Muualla Euroopassa syntyneet | 82,2\u{a0}% | 76,0–87,0\u{a0}% | 199 | epätarkka * |"
        ),
        "{md}"
    );
    // A mean keeps two decimals and no percent sign.
    assert!(
        md.contains("koko joukossa 2,50 (95 %:n luottamusväli 2,30–2,70)."),
        "{md}"
    );
    // English: decimal points and `12.3%`.
    draft(&t, "en", "r-en.md").code(0);
    let en = std::fs::read_to_string(t.path("r-en.md")).unwrap();
    assert!(en.contains("Received information in a language they understand well: 81.3% overall (95% confidence interval 79.8–82.7%)."), "{en}");
    assert!(en.contains("The change since the previous wave is +2.4\u{a0}percentage points (95% confidence interval +0.2 to +4.6\u{a0}percentage points), statistically significant."), "{en}");
}

#[test]
fn the_html_draft_has_every_indicator_a_chart_each_and_escapes_everything() {
    let t = setup_draft();
    // A label that is markup: it must arrive as text, never as a script.
    let hostile = ESTIMATES.replace(
        "contacts_per_month,mean,contacts",
        "<script>alert(1)</script>,mean,contacts",
    );
    t.write("est.csv", &hostile);
    draft(&t, "sv", "r.html").code(0);
    let html = std::fs::read_to_string(t.path("r.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"sv\">"));
    assert!(!html.contains("<script"), "an unescaped script tag");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    // Every indicator has a section with its heading and one chart.
    let sections: Vec<&str> = html.split("<section class=\"indicator\"").skip(1).collect();
    assert_eq!(sections.len(), 2);
    for s in &sections {
        let s = s.split("</section>").next().unwrap();
        assert_eq!(s.matches("<svg class=\"chart\"").count(), 1, "{s}");
        assert!(s.contains("<h3>"));
    }
    assert!(sections[0].contains("<h3>Fick information på ett språk som man förstår bra</h3>"));
    // The chart: a dot per shown group plus the whole population, withheld group left out.
    let chart = sections[0].split("</svg>").next().unwrap();
    assert_eq!(chart.matches("<circle").count(), 3, "{chart}");
    assert!(chart.contains("Födda i Finland"));
    assert!(!chart.contains("Annat eller okänt"));
    // Self-contained: inline style, no external resources.
    assert!(html.contains("<style>") && !html.contains("<link") && !html.contains("src=\"http"));
    assert!(html.contains("@media print"));
}

#[test]
fn templates_can_be_replaced_and_their_errors_name_the_line() {
    let t = setup_draft();
    t.write("tpl/report.md.tera", "{{ title }}\n{% for s in sections %}{{ s.title }}: {{ s.indicators | length }}\n{% endfor %}");
    t.clear()
        .args(["report", "--estimates", "est.csv", "-i"])
        .args([instrument()])
        .args(["--lang", "en", "--templates", "tpl", "-o", "own.md"])
        .run()
        .code(0);
    assert_eq!(
        std::fs::read_to_string(t.path("own.md")).unwrap(),
        "Job seekers' experiences of equality in employment services\nContact and accessibility: 1\nLanguage and information: 1\n"
    );
    // The HTML template was not replaced: the embedded one is used.
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--templates",
            "tpl",
            "-o",
            "x.html",
        ])
        .run()
        .code(0);
    t.write("bad/report.html.tera", "<p>\n{{ title }\n</p>\n");
    let out = t
        .clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--templates",
            "bad",
            "-o",
            "bad.html",
        ])
        .run()
        .code(2);
    assert!(
        out.stderr.contains("template bad/report.html.tera:"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("bad/report.html.tera:2:"),
        "the line: {}",
        out.stderr
    );
    assert!(!t.path("bad.html").exists());
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--templates",
            "nowhere",
            "-o",
            "n.html",
        ])
        .run()
        .code(2)
        .stderr_has("--templates nowhere: no such folder");
}

#[test]
fn register_rows_have_their_own_footnote_and_comparisons_their_own_wording() {
    let t = setup_draft();
    t.write(
        "joined.csv",
        "indicator,stat,variable,category,by,group,estimate,se,ci_low,ci_high,df,cv,deff,n,n_eff,pop_size,flag,period,metric,metric_kind,metric_unit,register_value,register_low,register_high,register_base,register_flag\n\
         fair,proportion,fair,,area,1,0.8,0.02,0.76,0.84,12,0.02,1.1,400,363,2000,ok,2025,s,share,,,,,,suppressed\n\
         fair,mean,fair,,area,1,3.4,0.1,3.2,3.6,12,0.03,1.1,400,363,2000,ok,2025,s,share,,0.25,0.2,0.3,400,ok\n",
    );
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--joined",
            "joined.csv",
            "--min-base",
            "10",
            "--lang",
            "en",
            "-o",
            "j.xlsx",
        ])
        .run()
        .code(0);
    let mut wb = open(&t.path("j.xlsx"));
    let reg = rows(&mut wb, "Register");
    let value_col = reg[0]
        .iter()
        .position(|h| text(h) == "Register value")
        .unwrap();
    assert_eq!(text(&reg[1][value_col]), "..");
    assert_eq!(reg[2][value_col], Data::Float(0.25));
    assert_eq!(text(&reg[4][0]), ".. (register) = value withheld: a count below 10 persons, or a share or rate that rests on or would reveal such a count.");
    let methods = rows(&mut wb, "Methods");
    let register = methods
        .iter()
        .find(|r| text(&r[0]) == "Register metrics")
        .unwrap();
    assert!(
        text(&register[1]).contains("counts below 10 persons"),
        "{:?}",
        register
    );
    // Survey B as another survey: the sentence says so.
    t.clear()
        .args([
            "report",
            "--estimates",
            "est.csv",
            "--compare",
            "cmp.csv",
            "--compare-as",
            "survey",
            "-i",
        ])
        .args([instrument()])
        .args(["--lang", "en", "-o", "s.md"])
        .run()
        .code(0);
    let md = std::fs::read_to_string(t.path("s.md")).unwrap();
    assert!(md.contains("The difference from the comparison survey (A − B) is +2.4\u{a0}percentage points (95% confidence interval +0.2 to +4.6\u{a0}percentage points), statistically significant."), "{md}");
}
