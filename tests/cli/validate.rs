//! `tasa validate`: seeded errors are found by row; messy but valid files (semicolons and
//! decimal commas, BOM, Windows-1252, standard input) load; exit codes and outputs.

use crate::harness::{fixture, parse_csv, Test};

/// Rows 1–8; errors are seeded in rows 3 (invalid code 7), 4 (text, age out of range),
/// 5 (duplicate id, answered outside the universe), 6 (empty row), 7 (negative weight),
/// 8 (missing weight and id).
const SEEDED: &str = "\
id,area,origin,gender,age,fair,respect,disc,disc_origin,wait,w
1,1,1,1,30,4,5,2,,3,10
2,2,2,2,41,5,4,1,1,2,12
3,3,1,1,52,7,4,2,,0,8
4,4,2,2,17,x,3,9,,5,9
4,1,1,2,25,3,3,2,1,1,11
6,2,2,1,44,,,,,,10
7,3,1,2,60,2,2,1,2,6,-1
,4,1,1,33,4,4,2,,2,
";

fn findings(out: &crate::harness::Output) -> Vec<Vec<String>> {
    out.csv().1
}

fn find<'a>(rows: &'a [Vec<String>], code: &str, column: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r[0] == code && r[3] == column)
        .unwrap_or_else(|| panic!("no {code} for {column} in {rows:?}"))
}

#[test]
fn seeded_errors_are_found_by_row() {
    let t = Test::new();
    t.write("d.csv", SEEDED);
    let out = t
        .args(["validate", "d.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .args(["--id", "id", "--weight", "w"])
        .run()
        .code(1);
    let (header, _) = out.csv();
    assert_eq!(
        header,
        ["code", "severity", "rule", "column", "value", "count", "rows", "message"]
    );
    let rows = findings(&out);
    let invalid = find(&rows, "V003", "fair");
    assert_eq!(
        (
            invalid[4].as_str(),
            invalid[5].as_str(),
            invalid[6].as_str()
        ),
        ("7", "1", "3")
    );
    assert_eq!(
        invalid[7],
        "7 is not a code of scale `agree5` (1, 2, 3, 4, 5; missing 9): 1 row"
    );
    assert_eq!(find(&rows, "V004", "fair")[6], "4");
    let range = find(&rows, "V005", "age");
    assert_eq!((range[4].as_str(), range[6].as_str()), ("17", "4"));
    assert_eq!(range[7], "17 is outside 18..64: 1 row");
    let dup = find(&rows, "V008", "id");
    assert_eq!((dup[4].as_str(), dup[6].as_str()), ("4", "4 5"));
    assert_eq!(find(&rows, "V007", "id")[6], "8");
    let outside = find(&rows, "V009", "disc_origin");
    assert_eq!(outside[6], "5");
    assert_eq!(
        outside[7],
        "answered by 1 row outside the universe `disc == 1`"
    );
    assert_eq!(find(&rows, "V011", "")[6], "6");
    assert_eq!(find(&rows, "V013", "w")[6], "7");
    assert_eq!(find(&rows, "V012", "w")[6], "8");
    // Row 6 left items blank that everybody is asked.
    assert!(find(&rows, "V010", "fair")[6].split(' ').any(|r| r == "6"));
    // The design-only column is noted, not an error.
    assert!(rows.iter().all(|r| r[0] != "V002"), "{rows:?}");
    assert!(
        out.stderr.contains("d.csv: 8 rows, 11 columns; 8 errors"),
        "{}",
        out.stderr
    );
}

#[test]
fn clean_file_exits_0_and_json_output_parses() {
    let t = Test::new();
    t.write("d.csv", "area,origin,gender,age,fair,respect,disc,disc_origin,wait,office\n1,1,1,30,4,5,2,,3,101\n2,2,2,41,5,4,1,1,2,201\n");
    let out = t
        .args(["validate", "d.csv", "--format", "json", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 1, "{arr:?}");
    assert_eq!(arr[0]["code"], "V002");
    assert_eq!(arr[0]["column"], "office");
    assert_eq!(arr[0]["severity"], "info");
}

#[test]
fn missing_columns_and_no_rows() {
    let t = Test::new();
    t.write("d.csv", "area,origin\n");
    let out = t
        .args(["validate", "d.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(1);
    let rows = findings(&out);
    assert!(rows.iter().any(|r| r[0] == "V016"), "{rows:?}");
    assert_eq!(
        find(&rows, "V001", "fair")[7],
        "item `fair` has no column `fair` in the file"
    );
}

#[test]
fn finnish_excel_export_windows_1252_and_bom_load() {
    // `;` with decimal commas in Windows-1252 (ä = 0xE4): 52,5 weeks is out of range, which
    // proves the decimal comma was read as a number.
    let t = Test::new();
    let mut bytes = b"area;origin;gender;age;fair;respect;disc;disc_origin;wait;huom\r\n".to_vec();
    bytes.extend_from_slice(b"1;1;1;30;4;5;2;;52,5;h\xE4iri\xF6\r\n2;2;2;41;5;4;1;1;2,0;ok\r\n");
    t.write("fi.csv", &bytes);
    let out = t
        .args(["validate", "fi.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(1);
    let rows = findings(&out);
    assert_eq!(find(&rows, "V005", "wait")[4], "52.5");
    assert!(rows.iter().all(|r| r[0] != "V004"), "{rows:?}");

    let t = Test::new();
    t.write(
        "bom.csv",
        "\u{feff}area,origin,gender,age,fair,respect,disc,disc_origin,wait\n1,1,1,30,4,5,2,,3\n",
    );
    let out = t
        .args(["validate", "bom.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    assert!(findings(&out).is_empty(), "{}", out.stdout);
}

#[test]
fn reads_standard_input_and_writes_file() {
    let t = Test::new();
    let out = t
        .args(["validate", "-", "-o", "f.tsv", "--instrument"])
        .args([fixture("mini.toml")])
        .stdin("area\tage\n9\t30\n")
        .run()
        .code(1);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(out_path(&t, "f.tsv")).expect("findings file");
    assert!(text.starts_with("code\tseverity\trule"), "{text}");
    assert!(
        text.contains("V003\terror\tinvalid-code\tarea\t9"),
        "{text}"
    );
}

fn out_path(t: &Test, name: &str) -> std::path::PathBuf {
    t.path(name)
}

#[test]
fn bad_usage_and_unreadable_input_exit_2_without_output() {
    let t = Test::new();
    t.write("d.csv", "area\n1\n");
    let out = t
        .args(["validate", "d.csv", "-o", "f.docx", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(2);
    assert!(
        out.stderr
            .contains("cannot tell the output format from `.docx`"),
        "{}",
        out.stderr
    );
    assert!(!t.path("f.docx").exists());

    let t = Test::new();
    t.write("ragged.csv", "area,age\n1,30\n2\n");
    t.args(["validate", "ragged.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(2)
        .stderr_has("error: ragged.csv, line 3: the line has 1 fields but the header has 2; check the delimiter and quoting");

    let t = Test::new();
    t.write("d.csv", "area\n1\n");
    t.args(["validate", "d.csv", "--weight", "w", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(2)
        .stderr_has("column `w`: no such column; the file has: area");

    let t = Test::new();
    t.write("d.csv", "area\n1\n");
    t.args(["validate", "d.csv", "--delimiter", "ab", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(2)
        .stderr_has("`ab` is not a single-character delimiter");
}

#[test]
fn formula_like_text_is_defused_in_csv_findings() {
    let t = Test::new();
    t.write("d.csv", "area,fair\n1,=HYPERLINK(1)\n");
    let out = t
        .args(["validate", "d.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(1);
    let (_, rows) = parse_csv(&out.stdout);
    assert!(
        rows.iter()
            .any(|r| r[0] == "V004" && r[4] == "'=HYPERLINK(1)"),
        "{rows:?}"
    );
}

#[test]
fn a_derived_column_in_the_file_is_checked_against_its_definition() {
    let t = Test::new();
    // age_group bands age at 18, 35, 50, 65: row 2 (age 41) should be 2, not 3.
    t.write("d.csv", "area,origin,gender,age,fair,respect,disc,disc_origin,wait,age_group\n1,1,1,30,4,5,2,,3,1\n2,2,2,41,5,4,1,1,2,3\n");
    let out = t
        .args(["validate", "d.csv", "--instrument"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    let rows = findings(&out);
    let mismatch = find(&rows, "V015", "age_group");
    assert_eq!(
        (
            mismatch[1].as_str(),
            mismatch[4].as_str(),
            mismatch[6].as_str()
        ),
        ("warning", "3", "2"),
        "{rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r[0] == "V015").count(),
        1,
        "{rows:?}"
    );
}
