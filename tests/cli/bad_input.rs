//! The bad-input corpus: the files of `tests/bad_input/` (its README has a table of every
//! case) and a few made here, one test each. Bad input stops the command with exit 2 and an
//! error naming the file and the line, row, column or key, with what was expected; nothing
//! is written (no output, no temporary file beside it) and no input is changed.

use crate::harness::{fixture, repo, Output, Test};
use std::collections::BTreeMap;
use std::path::Path;

/// Flags whose value is a file or folder the command writes.
const OUTPUTS: [&str; 5] = ["-o", "--output", "--out", "--report", "--design-out"];

/// A test folder holding copies of corpus files (paths under `tests/bad_input`), each under
/// its own file name.
fn corpus(files: &[&str]) -> Test {
    let t = Test::new();
    for file in files {
        let from = repo("tests/bad_input").join(file);
        let name = from
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        t.write(&name, bytes);
    }
    t
}

/// The fixtures' mini instrument as `mini.toml` in the test folder.
fn mini(t: &Test) {
    t.write(
        "mini.toml",
        std::fs::read(fixture("mini.toml")).expect("mini.toml"),
    );
}

/// `head`, then 10,000,000 copies of `fill`, then `tail`: a CSV with a 10 MB field.
fn ten_megabytes(head: &str, fill: &str, tail: &str) -> String {
    let mut s = String::with_capacity(head.len() + 10_000_000 + tail.len());
    s.push_str(head);
    s.push_str(&fill.repeat(10_000_000));
    s.push_str(tail);
    s
}

/// Every file and folder under the test folder (folders end in `/`), with the files' bytes.
fn snapshot(t: &Test) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read the test folder") {
            let path = entry.expect("a folder entry").path();
            let name = path
                .strip_prefix(root)
                .expect("inside the test folder")
                .display()
                .to_string();
            if path.is_dir() {
                found.insert(format!("{name}/"), Vec::new());
                walk(root, &path, found);
            } else {
                found.insert(name, std::fs::read(&path).expect("read a file"));
            }
        }
    }
    let root = t.path("");
    let mut found = BTreeMap::new();
    walk(&root, &root, &mut found);
    found
}

/// The start of a stream for a failure message (a message may hold a 10 MB field).
fn head(text: &str) -> String {
    let mut s: String = text.chars().take(2000).collect();
    if s.len() < text.len() {
        s.push_str(&format!(" ... ({} bytes in all)", text.len()));
    }
    s
}

/// The arguments of a command line: words split at spaces, `'...'` quoting a word with spaces.
fn words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in cmd.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Runs `tasa CMD` in the test folder on bad input and checks the contract: exit 2, `error: `
/// and every one of `expected` on standard error, nothing on standard output, no output file or
/// folder, and every file in the folder as it was (no temporary file left, no input changed).
fn refused(t: &Test, cmd: &str, expected: &[&str]) -> Output {
    check(t, cmd, None, expected)
}

/// [`refused`] with `input` on standard input.
fn refused_stdin(t: &Test, cmd: &str, input: &str, expected: &[&str]) -> Output {
    check(t, cmd, Some(input), expected)
}

fn check(t: &Test, cmd: &str, input: Option<&str>, expected: &[&str]) -> Output {
    let args = words(cmd);
    let targets: Vec<(&str, bool)> = args
        .windows(2)
        .filter(|w| OUTPUTS.contains(&w[0].as_str()))
        .map(|w| (w[1].as_str(), t.path(&w[1]).exists()))
        .collect();
    let before = snapshot(t);
    t.clear().args(args.iter());
    if let Some(input) = input {
        t.stdin(input);
    }
    let out = t.run();
    assert_eq!(
        out.code,
        2,
        "tasa {cmd}: exit {} (expected 2)\n--- stdout\n{}\n--- stderr\n{}",
        out.code,
        head(&out.stdout),
        head(&out.stderr)
    );
    assert!(
        out.stderr.contains("error: "),
        "tasa {cmd}: no error on standard error:\n{}",
        head(&out.stderr)
    );
    for text in expected {
        assert!(
            out.stderr.contains(text),
            "tasa {cmd}: standard error lacks {text:?}:\n{}",
            head(&out.stderr)
        );
    }
    assert!(
        !out.stderr.contains("panicked"),
        "tasa {cmd}: a panic's message on standard error:\n{}",
        head(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "tasa {cmd}: wrote to standard output:\n{}",
        head(&out.stdout)
    );
    for (target, existed) in targets {
        assert!(
            existed || !t.path(target).exists(),
            "tasa {cmd}: left the output {target}"
        );
    }
    let after = snapshot(t);
    let written: Vec<&String> = after
        .keys()
        .filter(|k| !before.contains_key(k.as_str()))
        .collect();
    let removed: Vec<&String> = before
        .keys()
        .filter(|k| !after.contains_key(k.as_str()))
        .collect();
    let changed: Vec<&String> = before
        .iter()
        .filter(|(k, v)| after.get(k.as_str()).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        written.is_empty() && removed.is_empty() && changed.is_empty(),
        "tasa {cmd}: the test folder changed: written {written:?}, removed {removed:?}, changed {changed:?}"
    );
    out
}

// Delimited text: structure, quoting, encodings, delimiters, huge fields, numbers, headers.

/// A data file of 0 bytes.
#[test]
fn empty_file() {
    let t = corpus(&["data/empty.csv"]);
    refused(&t, "estimate empty.csv --mean y -o out.csv", &["empty.csv, line 1: the file has no header row; expected column names on the first line"]);
}

/// A header line and no data rows.
#[test]
fn header_only() {
    let t = corpus(&["data/header-only.csv"]);
    refused(
        &t,
        "estimate header-only.csv --mean y --weight w -o out.csv",
        &["header-only.csv", "no rows"],
    );
}

/// A header line and no data rows, given to `weight`.
#[test]
fn header_only_in_weight() {
    let t = corpus(&["data/header-only.csv"]);
    refused(
        &t,
        "weight header-only.csv --weight w --trim 0.5,2 -o out.csv",
        &["header-only.csv", "no rows"],
    );
}

/// Survey B of `compare` has a header and no data rows.
#[test]
fn header_only_as_survey_b() {
    let t = corpus(&["data/header-only.csv"]);
    t.write("a.csv", "y,w\n1,2\n2,2\n3,2\n4,2\n");
    refused(
        &t,
        "compare a.csv header-only.csv --mean y --weight w -o out.csv",
        &["header-only.csv", "no rows"],
    );
}

/// Line 3 has fewer fields than the header.
#[test]
fn ragged_short_row() {
    let t = corpus(&["data/ragged-short.csv"]);
    refused(&t, "estimate ragged-short.csv --mean y -o out.csv", &["ragged-short.csv, line 3: the line has 1 fields but the header has 2; check the delimiter and quoting"]);
}

/// Line 3 has more fields than the header.
#[test]
fn ragged_long_row() {
    let t = corpus(&["data/ragged-long.csv"]);
    refused(&t, "estimate ragged-long.csv --mean y -o out.csv", &["ragged-long.csv, line 3: the line has 3 fields but the header has 2; check the delimiter and quoting"]);
}

/// A ragged row read from standard input (named `<stdin>`).
#[test]
fn ragged_row_on_standard_input() {
    let t = Test::new();
    refused_stdin(
        &t,
        "estimate - --mean y --weight w -o out.csv",
        "y,w\n1,2\n2\n3,2\n",
        &["<stdin>, line 3: the line has 1 fields but the header has 2"],
    );
}

/// Windows line ends and an empty line before a ragged row: the message names the row's own
/// line, with quotes in the file (read by `csv`) and without (split directly).
#[test]
fn ragged_row_after_windows_line_ends_names_its_own_line() {
    let t = Test::new();
    for text in [
        "y,w\r\n1,2\r\n\r\n2\r\n3,2\r\n",
        "y,w\r\n\"1\",2\r\n\r\n2\r\n3,2\r\n",
    ] {
        refused_stdin(
            &t,
            "estimate - --mean y --weight w -o out.csv",
            text,
            &["<stdin>, line 4: the line has 1 fields but the header has 2"],
        );
    }
}

/// The last line opens a quote that is never closed.
#[test]
fn unclosed_quote_at_the_end() {
    let t = corpus(&["data/unclosed-quote.csv"]);
    refused(
        &t,
        "estimate unclosed-quote.csv --mean y --weight w -o out.csv",
        &["unclosed-quote.csv, line 4", "never closed"],
    );
}

/// A quote opened on line 2 runs to the end of the file, swallowing rows 2-4.
#[test]
fn unclosed_quote_swallows_rows() {
    let t = corpus(&["data/quote-swallows-rows.csv"]);
    refused(
        &t,
        "estimate quote-swallows-rows.csv --mean y --weight w -o out.csv",
        &["quote-swallows-rows.csv, line 2", "never closed"],
    );
}

/// A stray quote after a number.
#[test]
fn quote_inside_unquoted_number() {
    let t = corpus(&["data/stray-quote.csv"]);
    refused(
        &t,
        "estimate stray-quote.csv --mean y --weight w -o out.csv",
        &["stray-quote.csv, row 2, column `w`: expected a number (found `2\"`)"],
    );
}

/// `Mäki` in UTF-8 on line 2 and in Latin-1 on line 3.
#[test]
fn mixed_encodings() {
    let t = corpus(&["data/mixed-encoding.csv"]);
    refused(
        &t,
        "estimate mixed-encoding.csv --mean y --weight w --by name -o out.csv",
        &["mixed-encoding.csv, line 3", "UTF-8", "--encoding"],
    );
}

/// The same file with `--encoding utf-8`.
#[test]
fn mixed_encodings_read_as_utf8() {
    let t = corpus(&["data/mixed-encoding.csv"]);
    refused(&t, "estimate mixed-encoding.csv --mean y --weight w --by name --encoding utf-8 -o out.csv", &["mixed-encoding.csv, line 3: the file is not valid UTF-8; try --encoding windows-1252 (found `byte 0xE4`)"]);
}

/// A `;` file whose header has as many commas as semicolons: split at `,`.
#[test]
fn wrong_delimiter_guess() {
    let t = corpus(&["data/wrong-delimiter.csv"]);
    refused(&t, "estimate wrong-delimiter.csv --mean paino -o out.csv", &["wrong-delimiter.csv, line 2: the line has 4 fields but the header has 3; check the delimiter and quoting"]);
}

/// A `;` file split at `,` where every row splits alike.
#[test]
fn wrong_delimiter_guess_consistent_rows() {
    let t = corpus(&["data/wrong-delimiter-columns.csv"]);
    refused(&t, "estimate wrong-delimiter-columns.csv --mean 'paino, kg' -o out.csv", &["wrong-delimiter-columns.csv, column `paino, kg`: no such column; the file has: id;paino, kg;ika, v"]);
}

/// One column with decimal commas (`1,5`): no delimiter in the header.
#[test]
fn decimal_commas_in_a_one_column_file() {
    let t = corpus(&["data/decimal-comma-one-column.csv"]);
    refused(&t, "estimate decimal-comma-one-column.csv --mean y -o out.csv", &["decimal-comma-one-column.csv, line 2: the line has 2 fields but the header has 1; check the delimiter and quoting"]);
}

/// A 10 MB field of digits in a numeric column (made by the test); the message must not echo it.
#[test]
fn ten_megabyte_number() {
    let t = Test::new();
    t.write(
        "big-number.csv",
        ten_megabytes("y,note\n1,a\n", "9", ",b\n3,c\n"),
    );
    let out = refused(
        &t,
        "estimate big-number.csv --mean y -o out.csv",
        &["big-number.csv, row 2, column `y`: expected a number"],
    );
    assert!(
        out.stderr.len() < 4096,
        "the message repeats the whole field: {} bytes",
        out.stderr.len()
    );
}

/// A 10 MB quoted field that is never closed (made by the test).
#[test]
fn ten_megabyte_unclosed_quote() {
    let t = Test::new();
    t.write(
        "big-quote.csv",
        ten_megabytes("y,note\n1,a\n2,\"", "x", "\n3,c\n"),
    );
    let out = refused(
        &t,
        "estimate big-quote.csv --mean y -o out.csv",
        &["big-quote.csv, line 3", "never closed"],
    );
    assert!(
        out.stderr.len() < 4096,
        "the message repeats the whole field: {} bytes",
        out.stderr.len()
    );
}

/// `NaN` among numbers.
#[test]
fn nan_in_a_number_column() {
    let t = corpus(&["data/nan.csv"]);
    refused(
        &t,
        "estimate nan.csv --mean y --weight w -o out.csv",
        &["nan.csv, row 2, column `y`: expected a number (found `NaN`)"],
    );
}

/// `inf` among numbers.
#[test]
fn inf_in_a_number_column() {
    let t = corpus(&["data/inf.csv"]);
    refused(
        &t,
        "estimate inf.csv --mean y --weight w -o out.csv",
        &["inf.csv, row 2, column `y`: expected a number (found `inf`)"],
    );
}

/// `1e400`, beyond the range of a double.
#[test]
fn overflowing_number() {
    let t = corpus(&["data/overflow.csv"]);
    refused(
        &t,
        "estimate overflow.csv --mean y --weight w -o out.csv",
        &["overflow.csv, row 2, column `y`: expected a number (found `1e400`)"],
    );
}

/// A weight of `-inf`.
#[test]
fn minus_inf_weight() {
    let t = corpus(&["data/weight-minus-inf.csv"]);
    refused(
        &t,
        "estimate weight-minus-inf.csv --mean y --weight w -o out.csv",
        &["weight-minus-inf.csv, row 2, column `w`: expected a number (found `-inf`)"],
    );
}

/// The column `y` twice.
#[test]
fn duplicated_header() {
    let t = corpus(&["data/duplicate-header.csv"]);
    refused(
        &t,
        "estimate duplicate-header.csv --mean w -o out.csv",
        &["duplicate-header.csv, line 1, column `y`: the column name appears twice in the header"],
    );
}

/// `y` and ` y `.
#[test]
fn duplicated_header_after_trimming() {
    let t = corpus(&["data/duplicate-header-spaces.csv"]);
    refused(&t, "estimate duplicate-header-spaces.csv --mean w -o out.csv", &["duplicate-header-spaces.csv, line 1, column `y`: the column name appears twice in the header"]);
}

/// The second column has no name.
#[test]
fn empty_column_name() {
    let t = corpus(&["data/empty-header-name.csv"]);
    refused(
        &t,
        "estimate empty-header-name.csv --mean y -o out.csv",
        &["empty-header-name.csv, line 1: column 2 has an empty name in the header"],
    );
}

// Weights and designs.

/// A weight of -1.
#[test]
fn negative_weight() {
    let t = corpus(&["data/weight-negative.csv"]);
    refused(
        &t,
        "estimate weight-negative.csv --mean y --weight w -o out.csv",
        &[
            "weight-negative.csv, row 2, column `w`: a negative weight; weights must be >= 0",
            "(found `-1`)",
        ],
    );
}

/// A weight of -1, given to `weight`.
#[test]
fn negative_weight_in_weight() {
    let t = corpus(&["data/weight-negative.csv"]);
    refused(
        &t,
        "weight weight-negative.csv --weight w --trim 0.5,2 -o out.csv",
        &["weight-negative.csv, row 2, column `w`: a negative weight; weights must be >= 0"],
    );
}

/// Every weight is 0.
#[test]
fn zero_weights() {
    let t = corpus(&["data/weight-zero.csv"]);
    refused(
        &t,
        "estimate weight-zero.csv --mean y --weight w -o out.csv",
        &["weight-zero.csv", "column `w`", "every weight"],
    );
}

/// Row 2 has no weight.
#[test]
fn missing_weight() {
    let t = corpus(&["data/weight-missing.csv"]);
    refused(
        &t,
        "estimate weight-missing.csv --mean y --weight w -o out.csv",
        &["weight-missing.csv, row 2, column `w`: missing weight; every row needs one"],
    );
}

/// A selection probability of 0.
#[test]
fn zero_selection_probability() {
    let t = corpus(&["data/probs-zero.csv"]);
    refused(&t, "estimate probs-zero.csv --mean y --probs p -o out.csv", &["probs-zero.csv, row 2, column `p`: a selection probability must be in (0, 1] (found `0`)"]);
}

/// A selection probability of 1.5.
#[test]
fn selection_probability_above_one() {
    let t = corpus(&["data/probs-above-one.csv"]);
    refused(&t, "estimate probs-above-one.csv --mean y --probs p -o out.csv", &["probs-above-one.csv, row 2, column `p`: a selection probability must be in (0, 1] (found `1.5`)"]);
}

/// Stratum 2 has one PSU (lonely PSU).
#[test]
fn singleton_stratum() {
    let t = corpus(&["data/lonely-psu.csv"]);
    refused(
        &t,
        "estimate lonely-psu.csv --strata s --cluster p --weight w --mean y -o out.csv",
        &["lonely-psu.csv", "stratum `2`", "--lonely-psu"],
    );
}

/// PSU 2 is in strata 1 and 2, and nesting is not declared.
#[test]
fn psu_ids_across_strata() {
    let t = corpus(&["data/psu-across-strata.csv"]);
    refused(
        &t,
        "estimate psu-across-strata.csv --strata s --cluster p --weight w --mean y -o out.csv",
        &[
            "psu-across-strata.csv",
            "PSU `2` of column `p` is in stratum `1` (row 2) and in stratum `2` (row 3)",
            "--nest",
        ],
    );
}

/// The same with a design file that says `nest = false`.
#[test]
fn psu_ids_across_strata_with_nest_false() {
    let t = corpus(&["data/psu-across-strata.csv", "designs/nest-false.toml"]);
    refused(
        &t,
        "estimate psu-across-strata.csv --design nest-false.toml --mean y -o out.csv",
        &[
            "psu-across-strata.csv",
            "PSU `2` of column `p` is in stratum `1` (row 2) and in stratum `2` (row 3)",
        ],
    );
}

/// Stratum 1 has fpc 10 on rows 1-2 and 12 on row 3.
#[test]
fn fpc_varies_within_a_stratum() {
    let t = corpus(&["data/fpc-varies-in-stratum.csv"]);
    refused(
        &t,
        "estimate fpc-varies-in-stratum.csv --strata s --cluster p --fpc f --mean y -o out.csv",
        &[
            "fpc-varies-in-stratum.csv, row 3, column `f`",
            "stratum `1`",
        ],
    );
}

/// A population of 2 PSUs with 3 sampled.
#[test]
fn fpc_below_the_sample_size() {
    let t = corpus(&["data/fpc-below-sample.csv"]);
    refused(&t, "estimate fpc-below-sample.csv --strata s --cluster p --fpc f --mean y -o out.csv", &["fpc-below-sample.csv, row 1, column `f`: the fpc implies a population of 2 in stratum `1`, which has 3 sampled units (over 100 % sampling) (found `2`)"]);
}

/// Row 3 has no stratum.
#[test]
fn missing_stratum() {
    let t = corpus(&["data/stratum-missing.csv"]);
    refused(
        &t,
        "estimate stratum-missing.csv --strata s --cluster p --weight w --mean y -o out.csv",
        &["stratum-missing.csv, row 3, column `s`: missing stratum; every row needs one"],
    );
}

/// Row 3 has no PSU id.
#[test]
fn missing_cluster_id() {
    let t = corpus(&["data/cluster-missing.csv"]);
    refused(
        &t,
        "estimate cluster-missing.csv --strata s --cluster p --weight w --mean y -o out.csv",
        &["cluster-missing.csv, row 3, column `p`: missing cluster id; every row needs one"],
    );
}

// Spreadsheets and SPSS files.

/// Bytes 00..FF named `.xlsx` (not a zip archive).
#[test]
fn xlsx_that_is_not_a_zip() {
    let t = corpus(&["spreadsheets/random-bytes.xlsx"]);
    refused(
        &t,
        "estimate random-bytes.xlsx --mean y --weight w -o out.csv",
        &["random-bytes.xlsx", "zip"],
    );
}

/// The first half of a workbook.
#[test]
fn truncated_xlsx() {
    let t = corpus(&["spreadsheets/truncated.xlsx"]);
    refused(
        &t,
        "estimate truncated.xlsx --mean y --weight w -o out.csv",
        &["truncated.xlsx: cannot open the file as an Excel workbook (.xlsx)"],
    );
}

/// The sheet's zip entry claims 4 GB uncompressed (the file is 1.6 KB).
#[test]
fn zip_entry_claiming_4_gb() {
    let t = corpus(&["spreadsheets/huge-entry.xlsx"]);
    refused(
        &t,
        "estimate huge-entry.xlsx --mean y --weight w -o out.csv",
        &["huge-entry.xlsx", "xl/worksheets/sheet1.xml"],
    );
}

/// One cell at XFD1048576: a used range of 16384 x 1048576 cells.
#[test]
fn sheet_range_of_17_billion_cells() {
    let t = corpus(&["spreadsheets/far-cell.xlsx"]);
    refused(
        &t,
        "estimate far-cell.xlsx --mean y --weight w -o out.csv",
        &["far-cell.xlsx", "XFD1048576"],
    );
}

/// A workbook encrypted with the password `tasa` (an OLE container around the encrypted package).
#[test]
fn encrypted_workbook() {
    let t = corpus(&["spreadsheets/encrypted.xlsx"]);
    refused(
        &t,
        "estimate encrypted.xlsx --mean y --weight w -o out.csv",
        &["encrypted.xlsx", "password"],
    );
}

/// Cell A3 holds `#DIV/0!`.
#[test]
fn formula_error_cell() {
    let t = corpus(&["spreadsheets/error-cell.xlsx"]);
    refused(&t, "estimate error-cell.xlsx --mean y --weight w -o out.csv", &["error-cell.xlsx, row 3, column `y`: sheet `Data`, cell A3 holds an error value; fix the formula or clear the cell (found `#DIV/0!`)"]);
}

/// The column `y` twice.
#[test]
fn duplicated_header_in_a_workbook() {
    let t = corpus(&["spreadsheets/duplicate-header.xlsx"]);
    refused(&t, "estimate duplicate-header.xlsx --mean w -o out.csv", &["duplicate-header.xlsx, row 1, column `y`: the column name appears twice in the header of sheet `Data`"]);
}

/// `--sheet Results` of a workbook whose only sheet is `Data`.
#[test]
fn missing_sheet() {
    let t = corpus(&["spreadsheets/good.xlsx"]);
    refused(
        &t,
        "estimate good.xlsx --sheet Results --mean y -o out.csv",
        &["good.xlsx: no sheet named `Results`; the workbook has: Data"],
    );
}

/// The first 1,000 bytes of `tests/fixtures/responses.ods`.
#[test]
fn truncated_ods() {
    let t = corpus(&["data/truncated.ods"]);
    refused(
        &t,
        "estimate truncated.ods --mean age -o out.csv",
        &["truncated.ods: cannot open the file as an OpenDocument spreadsheet (.ods)"],
    );
}

/// One value a million rows below the data, in column BH: a 2 KB file whose two repeated rows
/// calamine would expand to 60 million cells (3.7 GB) before tasa saw one.
#[test]
fn ods_value_far_below_the_data() {
    let t = corpus(&["data/far-value.ods"]);
    refused(
        &t,
        "estimate far-value.ods --mean age -o out.csv",
        &["far-value.ods: sheet `answers` has 31 cells with values spread over A1:BH1000007 (1000007 rows × 60 columns), too large a range to read; the cell BH1000007 lies far from the rest: clear it, or copy the data to a new sheet"],
    );
}

/// `content.xml` cut just before its first sheet ends (tasa waited for ever inside calamine).
#[test]
fn ods_cut_inside_a_sheet() {
    let t = corpus(&["data/cut-inside-sheet.ods"]);
    refused(
        &t,
        "estimate cut-inside-sheet.ods --mean age -o out.csv",
        &["cut-inside-sheet.ods: cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` ends inside sheet `answers`; the file is cut short or damaged; save it again from the program that made it"],
    );
}

/// The first 2,000 bytes of `tests/fixtures/responses.xls`.
#[test]
fn truncated_xls() {
    let t = corpus(&["data/truncated.xls"]);
    refused(
        &t,
        "estimate truncated.xls --mean age -o out.csv",
        &["truncated.xls: cannot open the file as an Excel 97-2003 workbook (.xls)"],
    );
}

/// The first 3,000 bytes of `tests/fixtures/responses.sav`.
#[test]
fn truncated_sav() {
    let t = corpus(&["data/truncated.sav"]);
    refused(&t, "estimate truncated.sav --mean age -o out.csv", &["truncated.sav: the SPSS file ends early, while reading the data: the header declares 10 cases but the file holds 1; it looks truncated or not fully copied"]);
}

/// `responses.sav` whose header claims 2^31 - 1 cases.
#[test]
fn sav_header_claims_2_billion_cases() {
    let t = corpus(&["data/cases-lie.sav"]);
    refused(&t, "estimate cases-lie.sav --mean age -o out.csv", &["cases-lie.sav: the SPSS file ends early, while reading the data: the header declares 2147483647 cases but the file holds 10"]);
}

/// `responses.sav` whose first value-label record claims 2^31 - 1 labels.
#[test]
fn sav_value_labels_claim_2_billion() {
    let t = corpus(&["data/labels-lie.sav"]);
    refused(&t, "estimate labels-lie.sav --mean age -o out.csv", &["labels-lie.sav: the SPSS file ends early, while reading the number of value labels (2147483647)"]);
}

/// The first 2,600 bytes of `tests/fixtures/responses.zsav`.
#[test]
fn truncated_zsav() {
    let t = corpus(&["data/truncated.zsav"]);
    refused(
        &t,
        "estimate truncated.zsav --mean age -o out.csv",
        &["truncated.zsav: the SPSS file ends early, while reading the zlib block index"],
    );
}

// Instruments (mistakes one at a time in copies of `tests/fixtures/mini.toml`).

/// `scael` for `scale` in `[items.fair]`.
#[test]
fn instrument_unknown_key() {
    let t = corpus(&["instruments/responses.csv", "instruments/unknown-key.toml"]);
    refused(
        &t,
        "validate responses.csv --instrument unknown-key.toml -o findings.csv",
        &[
            "unknown-key.toml, line 88: unknown field `scael`, expected one of",
            "`scale`",
        ],
    );
}

/// `min = "18"`: a string for a number.
#[test]
fn instrument_wrong_type() {
    let t = corpus(&["instruments/responses.csv", "instruments/wrong-type.toml"]);
    let out = refused(
        &t,
        "estimate responses.csv --instrument wrong-type.toml --indicators all -o out.csv",
        &[
            "wrong-type.toml, line 81: invalid type: string \"18\"",
            "items.age.min",
        ],
    );
    assert!(!out.stderr.contains("[key ``]"), "{}", out.stderr);
}

/// Item `fair` uses the scale `agree7`.
#[test]
fn instrument_undefined_scale() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/undefined-scale.toml",
    ]);
    refused(
        &t,
        "validate responses.csv --instrument undefined-scale.toml -o findings.csv",
        &[
            "undefined-scale.toml, line 89: no scale `agree7` is defined",
            "[key `items.fair.scale`]",
        ],
    );
}

/// Indicator `fair` names the dimension `age_grp`.
#[test]
fn instrument_undefined_dimension() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/undefined-dimension.toml",
    ]);
    refused(&t, "estimate responses.csv --instrument undefined-dimension.toml --indicators all -o out.csv", &["undefined-dimension.toml, line 139: no dimension `age_grp` is defined [key `indicators.fair.dimensions`]"]);
}

/// Indicator `disc` names the item `disc_ground`.
#[test]
fn instrument_undefined_item() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/undefined-item.toml",
    ]);
    refused(&t, "estimate responses.csv --instrument undefined-item.toml --indicators all -o out.csv", &["undefined-item.toml, line 145: `disc_ground` is not an item or derived variable [key `indicators.disc.item`]"]);
}

/// `first_visit` is made from `repeat_visit` and back.
#[test]
fn instrument_cyclic_derived_variables() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/cyclic-derived.toml",
    ]);
    refused(&t, "validate responses.csv --instrument cyclic-derived.toml -o findings.csv", &["cyclic-derived.toml, line 121: derived variables depend on each other in a cycle: first_visit -> repeat_visit -> first_visit [key `derived.first_visit`]"]);
}

/// A string without its closing quote.
#[test]
fn instrument_syntax_error() {
    let t = corpus(&["instruments/responses.csv", "instruments/syntax-error.toml"]);
    let out = refused(
        &t,
        "estimate responses.csv --instrument syntax-error.toml --indicators all -o out.csv",
        &["syntax-error.toml, line 50: invalid basic string, expected `\"`"],
    );
    assert!(!out.stderr.contains("[key ``]"), "{}", out.stderr);
}

/// The universe `disc = 1`.
#[test]
fn instrument_filter_with_single_equals() {
    let t = corpus(&["instruments/responses.csv", "instruments/bad-filter.toml"]);
    refused(&t, "estimate responses.csv --instrument bad-filter.toml --indicators all -o out.csv", &["bad-filter.toml, line 105: in the filter `disc = 1`: use `==` to compare (at character 6) [key `items.disc_origin.universe`]"]);
}

/// `disc_origin` is asked if `disc_origin == 1`.
#[test]
fn instrument_universe_on_itself() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/self-universe.toml",
    ]);
    refused(&t, "validate responses.csv --instrument self-universe.toml -o findings.csv", &["self-universe.toml, line 102: an item's universe cannot depend on the item itself [key `items.disc_origin.universe`]"]);
}

/// Success code 6 on a 1-5 scale.
#[test]
fn instrument_success_code_not_in_scale() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/success-not-code.toml",
    ]);
    refused(&t, "estimate responses.csv --instrument success-not-code.toml --indicators all -o out.csv", &["success-not-code.toml, line 132: 6 is not a valid code of scale `agree5` (item `fair`) [key `indicators.fair.success`]"]);
}

/// An instrument of 0 bytes.
#[test]
fn instrument_empty_file() {
    let t = corpus(&[
        "instruments/responses.csv",
        "instruments/instrument-empty.toml",
    ]);
    let out = refused(
        &t,
        "estimate responses.csv --instrument instrument-empty.toml --indicators all -o out.csv",
        &["instrument-empty.toml, line 1: missing field `id`"],
    );
    assert!(!out.stderr.contains("[key ``]"), "{}", out.stderr);
}

// Design files.

/// `clusters` for `cluster`.
#[test]
fn design_unknown_key() {
    let t = corpus(&["designs/responses.csv", "designs/design-unknown-key.toml"]);
    refused(
        &t,
        "estimate responses.csv --design design-unknown-key.toml --mean y -o out.csv",
        &["design-unknown-key.toml, line 3: unknown field `clusters`, expected one of `weight`"],
    );
}

/// `cluster = "p"` where a list is expected.
#[test]
fn design_wrong_type() {
    let t = corpus(&["designs/responses.csv", "designs/design-wrong-type.toml"]);
    refused(
        &t,
        "estimate responses.csv --design design-wrong-type.toml --mean y -o out.csv",
        &["design-wrong-type.toml, line 3: invalid type: string \"p\", expected a sequence"],
    );
}

/// `bounds = [0.5]`.
#[test]
fn design_bounds_of_one_number() {
    let t = corpus(&["designs/responses.csv", "designs/design-bounds-length.toml"]);
    refused(
        &t,
        "estimate responses.csv --design design-bounds-length.toml --mean y -o out.csv",
        &["design-bounds-length.toml, line 4: invalid length 1, expected an array of length 2"],
    );
}

/// `lonely_psu = "ignore"`.
#[test]
fn design_unknown_lonely_psu_policy() {
    let t = corpus(&["designs/responses.csv", "designs/design-bad-value.toml"]);
    refused(
        &t,
        "estimate responses.csv --design design-bad-value.toml --mean y -o out.csv",
        &[
            "design-bad-value.toml",
            "lonely_psu",
            "fail, adjust, average, certainty, remove",
        ],
    );
}

/// `margin = ["margins/sex.csv"]`, a file that does not exist.
#[test]
fn design_names_a_missing_margin() {
    let t = corpus(&[
        "designs/responses.csv",
        "designs/design-missing-margin.toml",
    ]);
    refused(
        &t,
        "estimate responses.csv --design design-missing-margin.toml --mean y -o out.csv",
        &[
            "design-missing-margin.toml, line 3",
            "margins/sex.csv",
            "[key `margin`]",
        ],
    );
}

// Margins and standard populations.

/// No row for `sex = 2`.
#[test]
fn margin_missing_a_category() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-missing-category.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-missing-category.csv --margin age.csv --mean y -o out.csv", &["margin margin-missing-category.csv: categories in the data have no population total in the margin: sex=2 (20 respondents)"]);
}

/// Age groups add up to 510, sexes to 500.
#[test]
fn margin_totals_disagree() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-totals-disagree.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin sex.csv --margin margin-totals-disagree.csv --mean y -o out.csv", &["the margins' population totals disagree: sex.csv (sex): 500; margin-totals-disagree.csv (age_group): 510; every margin must add up to the same population"]);
}

/// `sex = 1` on rows 1 and 3.
#[test]
fn margin_cell_given_twice() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-cell-twice.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-cell-twice.csv --margin age.csv --mean y -o out.csv", &["margin-cell-twice.csv, row 3, column `sex`: this cell is also given in row 1; give each cell once (found `1`)"]);
}

/// A total of -250.
#[test]
fn margin_negative_total() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-negative-total.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-negative-total.csv --margin age.csv --mean y -o out.csv", &["margin-negative-total.csv, row 1, column `total`: expected a non-negative number (the population total of the cell) (found `-250`)"]);
}

/// A total of `many`.
#[test]
fn margin_text_total() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-text-total.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-text-total.csv --margin age.csv --mean y -o out.csv", &["margin-text-total.csv, row 1, column `total`: expected a non-negative number (the population total of the cell) (found `many`)"]);
}

/// A total of `inf`.
#[test]
fn margin_infinite_total() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-infinite-total.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-infinite-total.csv --margin age.csv --mean y -o out.csv", &["margin-infinite-total.csv, row 2, column `total`: expected a non-negative number (the population total of the cell) (found `inf`)"]);
}

/// An empty total.
#[test]
fn margin_blank_total() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-blank-total.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-blank-total.csv --margin age.csv --mean y -o out.csv", &["margin-blank-total.csv, row 2, column `total`: the population total is missing; expected a non-negative number"]);
}

/// The totals are in a column `count`.
#[test]
fn margin_without_total_column() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-no-total-column.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-no-total-column.csv --margin age.csv --mean y -o out.csv", &["margin-no-total-column.csv: a margin file needs a `total` column beside its variable columns; it has: sex, count"]);
}

/// `sex = 3` has a population and no respondents.
#[test]
fn margin_category_without_respondents() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-extra-category.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-extra-category.csv --margin age.csv --mean y -o out.csv", &["margin margin-extra-category.csv: cells with a population but no respondents: sex=3 (total 100)"]);
}

/// `sex = 2` has 20 respondents and a total of 0.
#[test]
fn margin_zero_total_with_respondents() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/sex.csv",
        "margins/age.csv",
        "margins/margin-zero-total.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin margin-zero-total.csv --margin age.csv --mean y -o out.csv", &["margin margin-zero-total.csv: cells with respondents but a population total of 0: sex=2 (20 respondents)"]);
}

/// Respondent 5 has no `sex`.
#[test]
fn calibration_variable_missing_for_a_respondent() {
    let t = corpus(&[
        "margins/responses-sex-blank.csv",
        "margins/sex.csv",
        "margins/age.csv",
    ]);
    refused(&t, "weight responses-sex-blank.csv --weight w --calibrate raking --margin sex.csv --margin age.csv -o out.csv", &["responses-sex-blank.csv, row 5, column `sex`: missing value of calibration variable `sex` (margin sex.csv); every respondent needs one"]);
}

/// A standard population of -100.
#[test]
fn standard_population_negative() {
    let t = corpus(&["margins/responses.csv", "margins/standard-negative.csv"]);
    refused(&t, "estimate responses.csv --weight w --mean y --by age_group --standardize sex --standard standard-negative.csv -o out.csv", &["standard-negative.csv, row 1, column `population`: expected a non-negative number (the population total of the cell) (found `-100`)"]);
}

/// No row for `sex = 2`.
#[test]
fn standard_population_missing_a_category() {
    let t = corpus(&[
        "margins/responses.csv",
        "margins/standard-missing-category.csv",
    ]);
    refused(&t, "estimate responses.csv --weight w --mean y --by age_group --standardize sex --standard standard-missing-category.csv -o out.csv", &["standard population standard-missing-category.csv: categories in the data have no population total in the standard population: sex=2 (20 respondents)"]);
}

// Registers, metrics files and classifications.

/// Municipality 049, group 1, 2025 on rows 3 and 7 (`--strict`).
#[test]
fn register_duplicate_keys() {
    let t = corpus(&[
        "register/estimates.csv",
        "register/register-duplicate.csv",
        "register/register-duplicate.toml",
        "register/class.csv",
    ]);
    refused(&t, "join estimates.csv --register register-duplicate.csv --on area=municipality --classification class.csv --period 2025 --strict -o joined.csv", &["register-duplicate.csv: --strict: duplicate register rows for period 2025", "municipality 49, group 1: rows 3 and 7"]);
}

/// The same for the register's own gaps.
#[test]
fn register_duplicate_keys_in_register_gaps() {
    let t = corpus(&[
        "register/register-duplicate.csv",
        "register/register-duplicate.toml",
        "register/class.csv",
    ]);
    refused(&t, "join --register register-duplicate.csv --on area=municipality --classification class.csv --period 2025 --gaps --strict -o gaps.csv", &["register-duplicate.csv: --strict: duplicate register rows for period 2025", "municipality 49, group 1: rows 3 and 7"]);
}

/// Person 2 on rows 2 and 4.
#[test]
fn person_register_duplicate_ids() {
    let t = corpus(&["register/responses.csv", "register/persons-duplicate.csv"]);
    refused(&t, "join responses.csv --register persons-duplicate.csv --on id --person -o linked.csv", &["persons-duplicate.csv, column `id`: ids must be unique for a person-level join; repeated: 2 (rows 2 and 4)"]);
}

/// Row 2 has no id.
#[test]
fn person_register_empty_id() {
    let t = corpus(&["register/responses.csv", "register/persons-blank-id.csv"]);
    refused(
        &t,
        "join responses.csv --register persons-blank-id.csv --on id --person -o linked.csv",
        &["persons-blank-id.csv, row 2, column `id`: expected an id, found an empty cell"],
    );
}

/// `units` for `unit`.
#[test]
fn register_metrics_unknown_key() {
    let t = corpus(&[
        "register/estimates.csv",
        "register/register.csv",
        "register/metrics-unknown-key.toml",
        "register/class.csv",
    ]);
    refused(&t, "join estimates.csv --register register.csv --metrics metrics-unknown-key.toml --on area=municipality --classification class.csv --period 2025 -o joined.csv", &["metrics-unknown-key.toml, line 8: unknown field `units`, expected one of `kind`"]);
}

/// `kind = "percentage"`.
#[test]
fn register_metrics_unknown_kind() {
    let t = corpus(&[
        "register/estimates.csv",
        "register/register.csv",
        "register/metrics-bad-kind.toml",
        "register/class.csv",
    ]);
    refused(&t, "join estimates.csv --register register.csv --metrics metrics-bad-kind.toml --on area=municipality --classification class.csv --period 2025 -o joined.csv", &["metrics-bad-kind.toml, line 7: unknown variant `percentage`, expected one of `count`, `share`, `rate`, `ratio`, `median`, `value`"]);
}

/// Municipality 049 in areas 2 and 4.
#[test]
fn classification_conflict() {
    let t = corpus(&[
        "register/estimates.csv",
        "register/register.csv",
        "register/register-duplicate.toml",
        "register/classification-conflict.csv",
    ]);
    refused(&t, "join estimates.csv --register register.csv --metrics register-duplicate.toml --on area=municipality --classification classification-conflict.csv --period 2025 -o joined.csv", &["classification-conflict.csv, row 5, column `area`: conflicting classification: municipality 49 is in area 2 on row 2 and in area 4 here (found `4`)"]);
}

// Run files (beside the mini instrument, `run/responses.csv` and `run/design.toml`).

/// `data = "responses-2026.csv"`.
#[test]
fn run_file_names_a_missing_data_file() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-missing-data.toml",
    ]);
    mini(&t);
    refused(&t, "run run-missing-data.toml --out out", &["run-missing-data.toml, line 6: responses-2026.csv does not exist (paths are relative to the run file) [key `survey.data`]"]);
}

/// `instrument = "instruments/mini.toml"`.
#[test]
fn run_file_names_a_missing_instrument() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-missing-instrument.toml",
    ]);
    mini(&t);
    refused(&t, "run run-missing-instrument.toml --out out", &["run-missing-instrument.toml, line 7: instruments/mini.toml does not exist (paths are relative to the run file) [key `survey.instrument`]"]);
}

/// `design = "weights/design.toml"`.
#[test]
fn run_file_names_a_missing_design() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-missing-design.toml",
    ]);
    mini(&t);
    refused(&t, "run run-missing-design.toml --out out", &["run-missing-design.toml, line 8: weights/design.toml does not exist (paths are relative to the run file) [key `survey.design`]"]);
}

/// `[survey.register] file = "register/metrics.csv"`.
#[test]
fn run_file_names_a_missing_register() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-missing-register.toml",
    ]);
    mini(&t);
    refused(&t, "run run-missing-register.toml --out out", &["run-missing-register.toml, line 11: register/metrics.csv does not exist (paths are relative to the run file) [key `survey.register.file`]"]);
}

/// `[survey.comparison] data = "general/responses.csv"`.
#[test]
fn run_file_names_a_missing_comparison_survey() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-missing-comparison.toml",
    ]);
    mini(&t);
    refused(&t, "run run-missing-comparison.toml --out out", &["run-missing-comparison.toml, line 11: general/responses.csv does not exist (paths are relative to the run file) [key `survey.comparison.data`]"]);
}

/// The survey's design file names `margins/area.csv`, which does not exist.
#[test]
fn run_design_names_a_missing_margin() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-missing-margin.toml",
        "run/design-missing-margin.toml",
    ]);
    mini(&t);
    refused(
        &t,
        "run run-missing-margin.toml --out out",
        &[
            "design-missing-margin.toml, line 3",
            "margins/area.csv",
            "[key `margin`]",
        ],
    );
}

/// The survey's data file has 0 bytes.
#[test]
fn run_data_file_empty() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-empty-data.toml",
        "run/empty.csv",
    ]);
    mini(&t);
    refused(
        &t,
        "run run-empty-data.toml --out out",
        &["empty.csv, line 1: the file has no header row"],
    );
}

/// `out = "."`: the folder of the run file and its inputs.
#[test]
fn run_output_folder_holds_the_inputs() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-out-is-input-folder.toml",
    ]);
    mini(&t);
    refused(
        &t,
        "run run-out-is-input-folder.toml",
        &[
            "run-out-is-input-folder.toml",
            "[key `out`]",
            "the folder has files but no manifest.json of an earlier run",
        ],
    );
}

/// `--out .`, the folder of the inputs.
#[test]
fn run_out_flag_is_the_input_folder() {
    let t = corpus(&[
        "run/responses.csv",
        "run/design.toml",
        "run/run-out-is-input-folder.toml",
    ]);
    mini(&t);
    refused(
        &t,
        "run run-out-is-input-folder.toml --out .",
        &["--out .: the folder has files but no manifest.json of an earlier run"],
    );
}

// An output path equal to an input path.

/// `estimate -o` names the data file.
#[test]
fn estimate_output_is_its_input() {
    let t = corpus(&["same-path/responses.csv"]);
    refused(
        &t,
        "estimate responses.csv --weight w --mean wait -o responses.csv",
        &["-o responses.csv is an input"],
    );
}

/// `-o ./responses.csv` for `responses.csv`.
#[test]
fn estimate_output_is_its_input_spelled_differently() {
    let t = corpus(&["same-path/responses.csv"]);
    refused(
        &t,
        "estimate responses.csv --weight w --mean wait -o ./responses.csv",
        &["-o ./responses.csv is an input"],
    );
}

/// `estimate -o` names a margin file.
#[test]
fn estimate_output_is_its_margin() {
    let t = corpus(&["same-path/responses.csv", "same-path/gender.csv"]);
    refused(&t, "estimate responses.csv --weight w --calibrate raking --margin gender.csv --mean wait -o gender.csv", &["-o gender.csv is an input"]);
}

/// `validate -o` names the data file.
#[test]
fn validate_output_is_its_input() {
    let t = corpus(&["same-path/responses.csv"]);
    mini(&t);
    refused(
        &t,
        "validate responses.csv --instrument mini.toml --id id --weight w -o responses.csv",
        &["-o responses.csv is an input"],
    );
}

/// `gaps -o` names the data file.
#[test]
fn gaps_output_is_its_input() {
    let t = corpus(&["same-path/responses.csv"]);
    mini(&t);
    refused(&t, "gaps responses.csv --weight w --instrument mini.toml --indicator fair --by origin -o responses.csv", &["-o responses.csv is an input"]);
}

/// `compare -o` names survey B's data file.
#[test]
fn compare_output_is_survey_b() {
    let t = corpus(&["same-path/responses.csv", "same-path/responses-b.csv"]);
    mini(&t);
    refused(&t, "compare responses.csv responses-b.csv --weight w --instrument mini.toml --indicator fair -o responses-b.csv", &["-o responses-b.csv is an input"]);
}

/// `weight -o` names the data file.
#[test]
fn weight_output_is_its_input() {
    let t = corpus(&["same-path/responses.csv"]);
    refused(
        &t,
        "weight responses.csv --weight w --trim 0.5,2 -o responses.csv",
        &["-o responses.csv is an input of the weighting (the data responses.csv); write the output to another file"],
    );
}

/// `weight --report` names a margin file.
#[test]
fn weight_report_is_its_margin() {
    let t = corpus(&["same-path/responses.csv", "same-path/gender.csv"]);
    refused(&t, "weight responses.csv --weight w --calibrate raking --margin gender.csv -o weighted.csv --report gender.csv", &["--report gender.csv is an input"]);
}

/// `weight --design-out` names the design file read.
#[test]
fn weight_design_out_is_its_design() {
    let t = corpus(&["same-path/responses.csv", "same-path/design.toml"]);
    refused(&t, "weight responses.csv --design design.toml --trim 0.5,2 -o weighted.csv --design-out design.toml", &["--design-out design.toml is an input"]);
}

/// `--report` and `-o` name one file.
#[test]
fn weight_report_is_its_output() {
    let t = corpus(&["same-path/responses.csv"]);
    refused(
        &t,
        "weight responses.csv --weight w --trim 0.5,2 -o weighted.csv --report weighted.csv",
        &["--report weighted.csv", "-o weighted.csv"],
    );
}

/// `join -o` names the estimates.
#[test]
fn join_output_is_its_table() {
    let t = corpus(&[
        "register/estimates.csv",
        "register/register.csv",
        "register/register-duplicate.toml",
        "register/class.csv",
    ]);
    refused(&t, "join estimates.csv --register register.csv --metrics register-duplicate.toml --on area=municipality --classification class.csv --period 2025 -o estimates.csv", &["-o estimates.csv is an input of the join (the table estimates.csv); write the output to another file"]);
}

/// `join -o` names the classification.
#[test]
fn join_output_is_its_classification() {
    let t = corpus(&[
        "register/estimates.csv",
        "register/register.csv",
        "register/register-duplicate.toml",
        "register/class.csv",
    ]);
    refused(&t, "join estimates.csv --register register.csv --metrics register-duplicate.toml --on area=municipality --classification class.csv --period 2025 -o class.csv", &["-o class.csv is an input"]);
}

/// `report -o` names the estimates workbook (made by the test with `estimate -o estimates.xlsx`).
#[test]
fn report_output_is_its_estimates() {
    let t = corpus(&["same-path/responses.csv"]);
    mini(&t);
    t.args(words("estimate responses.csv --weight w --instrument mini.toml --indicator fair --by origin -o estimates.xlsx")).run().code(0);
    refused(
        &t,
        "report --estimates estimates.xlsx --instrument mini.toml --lang en -o estimates.xlsx",
        &["-o estimates.xlsx is an input of the report (--estimates estimates.xlsx); write the output to another file"],
    );
}

// Other inputs.

/// The columns of `estimate` and no rows.
#[test]
fn report_of_an_empty_estimates_table() {
    let t = corpus(&["data/estimates-header-only.csv"]);
    refused(
        &t,
        "report --estimates estimates-header-only.csv --lang en -o report.xlsx",
        &["estimates-header-only.csv", "no rows"],
    );
}

/// `--subset 'age >= 30 and (gender == 1'`.
#[test]
fn subset_filter_unbalanced_parenthesis() {
    let t = corpus(&["same-path/responses.csv"]);
    refused(&t, "estimate responses.csv --weight w --mean wait --subset 'age >= 30 and (gender == 1' -o out.csv", &["in the filter `age >= 30 and (gender == 1`: the filter ends where `)` was expected (at character 27)"]);
}

/// An `.xls` with an empty EXTERNSHEET record, whose count calamine reads without checking
/// the record's length: calamine's panic is caught and reported as a damaged file.
#[test]
fn xls_record_shorter_than_it_reads() {
    let t = corpus(&["data/empty-externsheet.xls"]);
    refused(
        &t,
        "estimate empty-externsheet.xls --mean age -o out.csv",
        &["empty-externsheet.xls: cannot read the workbook: one of its records is damaged and cannot be taken apart; save the file again from the program that made it"],
    );
}

// Found by fuzzing (`FUZZING.md`): the files of `tests/fuzz_regressions/`, on which a
// library under tasa panicked or ran out of memory.

/// An `.xls` whose last sector is cut short by the end of the file (calamine panicked).
#[test]
fn fuzzed_xls_sector_cut_short() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-sector-cut-short.xls"]);
    refused(
        &t,
        "estimate xls-sector-cut-short.xls --mean y -o out.csv",
        &["xls-sector-cut-short.xls: cannot open the file as an Excel 97-2003 workbook (.xls): the file is damaged or cut short (", "whole sectors"],
    );
}

/// An `.xls` whose allocation table names a sector past the end of the file (calamine
/// panicked).
#[test]
fn fuzzed_xls_sector_past_the_end() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-sector-past-end.xls"]);
    refused(
        &t,
        "estimate xls-sector-past-end.xls --mean y -o out.csv",
        &["xls-sector-past-end.xls: cannot open the file as an Excel 97-2003 workbook (.xls): the file is damaged or cut short (", "whole sectors"],
    );
}

/// An `.xls` whose chain of sectors loops (calamine grew memory until it ran out).
#[test]
fn fuzzed_xls_chain_that_loops() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-chain-loops.xls"]);
    refused(
        &t,
        "estimate xls-chain-loops.xls --mean y -o out.csv",
        &["xls-chain-loops.xls: cannot open the file as an Excel 97-2003 workbook (.xls): the file is damaged or cut short (", "loops"],
    );
}

/// An `.xls` whose sheet names a cell far from the others (calamine reserved a 2 GB dense
/// range when it opened the file).
#[test]
fn fuzzed_xls_cell_far_away() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-cell-far-away.xls"]);
    refused(
        &t,
        "estimate xls-cell-far-away.xls --mean y -o out.csv",
        &["xls-cell-far-away.xls: cannot read the workbook: sheet 1 spans 67145730 cells, more than the 16777216 of a whole .xls sheet (65,536 rows × 256 columns); the file is damaged, save it again from the program that made it"],
    );
}

/// An `.xls` whose FILEPASS record is empty (calamine read its first field past the end and
/// panicked).
#[test]
fn fuzzed_xls_empty_filepass() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-empty-filepass.xls"]);
    refused(
        &t,
        "estimate xls-empty-filepass.xls --mean y -o out.csv",
        &["xls-empty-filepass.xls: cannot read the workbook: a record of type 0x002f has 0 bytes where at least 2 are needed; the file is damaged, save it again from the program that made it"],
    );
}

/// An `.xls` whose shared-string table ends inside a string's header (calamine read past
/// it and panicked; tasa catches calamine's panics).
#[test]
fn fuzzed_xls_sst_string_cut_short() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-sst-string-cut-short.xls"]);
    refused(
        &t,
        "estimate xls-sst-string-cut-short.xls --mean y -o out.csv",
        &["xls-sst-string-cut-short.xls: cannot read the workbook: one of its records is damaged and cannot be taken apart"],
    );
}

/// An `.xls` of 5.6 KB whose 15 cells lie at opposite corners of a whole sheet: calamine
/// made a dense range of 16 million cells (1 GB, and a timeout under the fuzzer).
#[test]
fn fuzzed_xls_cells_far_apart() {
    let t = corpus(&["../fuzz_regressions/read_workbook/xls-cells-far-apart.xls"]);
    refused(
        &t,
        "estimate xls-cells-far-apart.xls --mean y -o out.csv",
        &["xls-cells-far-apart.xls: sheet `data` has 15 cells with values spread over A1:IL65535 (65535 rows × 246 columns), too large a range to read; the cell IL65535 lies far from the rest: clear it, or copy the data to a new sheet"],
    );
}

/// An `.xlsx` sheet with the cell reference `schemas.olineStr` (calamine's column number
/// overflowed).
#[test]
fn fuzzed_xlsx_cell_reference_overflows() {
    let t = corpus(&["../fuzz_regressions/read_workbook_xml/cell-reference-overflows.xlsx"]);
    refused(
        &t,
        "estimate cell-reference-overflows.xlsx --mean y -o out.csv",
        &["cell-reference-overflows.xlsx: cannot read the workbook: its part `xl/worksheets/sheet1.xml` places a cell beyond the last cell a sheet can have (XFD1048576)", "(found `schemas.olineStr`)"],
    );
}

/// An `.xlsx` whose shared strings declare 5,444,479,448 of themselves in 138 bytes: calamine
/// reserved room for them all before reading one (130 GB; the process aborted).
#[test]
fn fuzzed_xlsx_shared_strings_count_lies() {
    let t = corpus(&["../fuzz_regressions/read_workbook_xml/shared-strings-count-lies.xlsx"]);
    refused(
        &t,
        "estimate shared-strings-count-lies.xlsx --mean y -o out.csv",
        &["shared-strings-count-lies.xlsx: cannot read the workbook: its part `xl/sharedStrings.xml` declares 5444479448 shared strings, more than its 138 bytes can hold; the file is damaged, save it again from the program that made it"],
    );
}

/// The same count in an `<sst>` tag whose quotes hide a `>` from a reader that ends tags at
/// it (the first check did; calamine's XML reader does not, and aborted again).
#[test]
fn fuzzed_xlsx_shared_strings_count_behind_a_quote() {
    let t =
        corpus(&["../fuzz_regressions/read_workbook_xml/shared-strings-count-behind-a-quote.xlsx"]);
    refused(
        &t,
        "estimate shared-strings-count-behind-a-quote.xlsx --mean y -o out.csv",
        &["shared-strings-count-behind-a-quote.xlsx: cannot read the workbook: its part `xl/sharedStrings.xml` declares 5444479448 shared strings, more than its"],
    );
}

/// The same count a third time, in a value whose quote is never closed: calamine's attribute
/// reader runs the value to the tag's end (the process aborted asking for 13 PB).
#[test]
fn fuzzed_xlsx_shared_strings_count_quote_never_closed() {
    let t = corpus(&[
        "../fuzz_regressions/read_workbook_xml/shared-strings-count-quote-never-closed.xlsx",
    ]);
    refused(
        &t,
        "estimate shared-strings-count-quote-never-closed.xlsx --mean y -o out.csv",
        &["shared-strings-count-quote-never-closed.xlsx: cannot read the workbook: its part `xl/sharedStrings.xml` declares 544444444444444 shared strings, more than its 588 bytes can hold"],
    );
}

/// An `.xlsx` sheet with a row numbered by letters (calamine's row number overflowed).
#[test]
fn fuzzed_xlsx_row_reference_overflows() {
    let t = corpus(&["../fuzz_regressions/read_workbook_xml/row-reference-overflows.xlsx"]);
    refused(
        &t,
        "estimate row-reference-overflows.xlsx --mean y -o out.csv",
        &["row-reference-overflows.xlsx: cannot read the workbook: its part `xl/worksheets/sheet1.xml` places a row beyond the last cell a sheet can have (XFD1048576)"],
    );
}

/// An `.ods` whose cut leaves an end tag unmatched, with a value a million rows below (10.8 s
/// and 3.7 GB before; a timeout under the fuzzer).
#[test]
fn fuzzed_ods_end_tag_mismatch_hides_a_far_value() {
    let t = corpus(&["../fuzz_regressions/read_ods_xml/end-tag-mismatch-hides-far-value.ods"]);
    refused(
        &t,
        "estimate end-tag-mismatch-hides-far-value.ods --mean age -o out.csv",
        &["end-tag-mismatch-hides-far-value.ods: sheet `answers` has 13 cells with values spread over A1:BH1000004 (1000004 rows × 60 columns), too large a range to read; the cell BH1000004 lies far from the rest"],
    );
}

/// A cell left unclosed makes calamine skip past the sheet's end tag; it then waited for ever (a hang under the fuzzer).
#[test]
fn fuzzed_ods_unclosed_cell_skips_sheet_end() {
    let t = corpus(&["../fuzz_regressions/read_ods_xml/unclosed-cell-skips-sheet-end.ods"]);
    refused(
        &t,
        "estimate unclosed-cell-skips-sheet-end.ods --mean age -o out.csv",
        &["unclosed-cell-skips-sheet-end.ods: cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` ends inside sheet `areas`; the file is cut short or damaged; save it again from the program that made it"],
    );
}

/// A form feed before a cell's value type: calamine reads attributes apart where quick-xml
/// does not, read the cell as text and waited for ever at the end of the part (a hang under
/// the fuzzer, found after the walk was first written).
#[test]
fn fuzzed_ods_form_feed_string_cell() {
    let t = corpus(&["../fuzz_regressions/read_ods_xml/form-feed-string-cell.ods"]);
    refused(
        &t,
        "estimate form-feed-string-cell.ods --mean age -o out.csv",
        &["form-feed-string-cell.ods: cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` ends inside sheet `ansvers`; the file is cut short or damaged; save it again from the program that made it"],
    );
}

/// Damaged tags leave a sheet without its end tag; calamine waited for ever (a hang under the fuzzer).
#[test]
fn fuzzed_ods_sheet_never_ends() {
    let t = corpus(&["../fuzz_regressions/read_ods_xml/sheet-never-ends.ods"]);
    refused(
        &t,
        "estimate sheet-never-ends.ods --mean age -o out.csv",
        &["sheet-never-ends.ods: cannot read the sheets of the OpenDocument spreadsheet: its part `content.xml` ends inside sheet `answers`; the file is cut short or damaged; save it again from the program that made it"],
    );
}
