//! `tasa instrument check|show`: the shipped instruments are clean and complete; every kind of
//! mistake in an instrument file is reported with its line and key.

use crate::harness::{fixture, repo, Test};

const HEADER: &str = "id = \"t\"\nversion = \"1\"\nlanguages = [\"fi\", \"en\"]\ntitle = { fi = \"T\", en = \"T\" }\n";
const YES_NO: &str = "[scales.yn]\nkind = \"nominal\"\ncodes = [{ code = 1, fi = \"Kyllä\", en = \"Yes\" }, { code = 2, fi = \"Ei\", en = \"No\" }]\n";

fn check(text: &str) -> crate::harness::Output {
    let t = Test::new();
    t.write("i.toml", text);
    t.args(["instrument", "check", "i.toml"]).run()
}

#[test]
fn shipped_instruments_pass_check_with_at_least_25_indicators() {
    for name in ["service-equality.toml", "monisuomi.toml"] {
        let path = repo("instruments").join(name);
        let out = Test::new()
            .args(["instrument", "check"])
            .args([&path])
            .run()
            .code(0);
        assert!(out.stderr.contains(": ok ("), "{}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "{name} has findings:\n{}",
            out.stdout
        );

        for lang in ["fi", "sv", "en"] {
            let out = Test::new()
                .args(["instrument", "show", "--format", "json", "--lang", lang])
                .args([&path])
                .run()
                .code(0);
            let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
            let indicators = v["indicators"].as_array().expect("indicators");
            assert!(
                indicators.len() >= 25,
                "{name}: {} indicators",
                indicators.len()
            );
            for ind in indicators {
                assert!(
                    !ind["label"].as_str().unwrap_or("").is_empty(),
                    "{name} {lang}: {ind}"
                );
            }
            assert!(!v["dimensions"].as_array().expect("dimensions").is_empty());
        }
    }
}

#[test]
fn show_lists_labels_in_the_chosen_language() {
    let out = Test::new()
        .args(["instrument", "show", "--lang", "sv"])
        .args([fixture("mini.toml")])
        .run()
        .code(0);
    assert!(out.stdout.contains("mini — Testenkät"), "{}", out.stdout);
    assert!(out.stdout.contains("Rättvist behandlad"), "{}", out.stdout);
    assert!(
        out.stdout.contains("[asked if disc == 1]"),
        "{}",
        out.stdout
    );
    Test::new()
        .args(["instrument", "show", "--lang", "de"])
        .args([fixture("mini.toml")])
        .run()
        .code(2)
        .stderr_has("the instrument has no `de` texts; use one of: fi, sv, en");
}

#[test]
fn unknown_key_names_line_and_key() {
    let out = check(&format!(
        "{HEADER}{YES_NO}[items.q1]\ntext = {{ fi = \"K\", en = \"Q\" }}\nscael = \"yn\"\n"
    ))
    .code(1);
    assert!(
        out.stdout
            .contains("i.toml:10: error [scael]: unknown field `scael`"),
        "{}",
        out.stdout
    );
}

#[test]
fn wrong_type_names_the_line() {
    let out =
        check("id = \"t\"\nversion = 1\nlanguages = [\"en\"]\ntitle = { en = \"T\" }\n").code(1);
    assert!(out.stdout.contains("i.toml:2: error"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("invalid type: integer `1`, expected a string"),
        "{}",
        out.stdout
    );
}

#[test]
fn references_labels_codes_and_filters_are_checked() {
    let text = format!(
        "{HEADER}{YES_NO}\
[items.q1]\ntext = {{ fi = \"K1\", en = \"Q1\" }}\nscale = \"yn\"\nuniverse = \"q2 == 1\"\n\
[items.q2]\ntext = {{ fi = \"K2\" }}\nscale = \"nope\"\n\
[items.q3]\ntext = {{ fi = \"K3\", en = \"Q3\" }}\nscale = \"yn\"\nuniverse = \"q1 = 1\"\n\
[indicators.a]\nlabel = {{ fi = \"A\", en = \"A\" }}\nkind = \"proportion\"\nitem = \"q1\"\nsuccess = [3]\n\
[indicators.b]\nlabel = {{ fi = \"B\", en = \"B\" }}\nkind = \"mean\"\nitem = \"q9\"\n"
    );
    let out = check(&text).code(1);
    let s = &out.stdout;
    for expected in [
        "[items.q1.universe]: `q2` is asked after `q1`; a universe can use only earlier items",
        "[items.q2.text.en]: missing the `en` text",
        "[items.q2.scale]: no scale `nope` is defined",
        "[items.q3.universe]: in the filter `q1 = 1`: use `==` to compare (at character 4)",
        "[indicators.a.success]: 3 is not a valid code of scale `yn` (item `q1`)",
        "[indicators.b.item]: `q9` is not an item or derived variable",
    ] {
        assert!(s.contains(expected), "missing {expected:?} in:\n{s}");
    }
    assert!(
        out.stderr.contains("6 errors, 0 warnings"),
        "{}",
        out.stderr
    );
}

#[test]
fn cycles_in_derived_variables_are_named() {
    let text = format!(
        "{HEADER}{YES_NO}\
[items.q1]\ntext = {{ fi = \"K1\", en = \"Q1\" }}\nscale = \"yn\"\n\
[derived.a]\nlabel = {{ fi = \"A\", en = \"A\" }}\nscale = \"yn\"\ncases = [{{ when = \"b == 1\", then = 1 }}]\n\
[derived.b]\nlabel = {{ fi = \"B\", en = \"B\" }}\nscale = \"yn\"\nrecode = {{ from = \"a\", map = [{{ to = 1, values = [1] }}] }}\n"
    );
    check(&text)
        .code(1)
        .stdout_has("derived variables depend on each other in a cycle: a -> b -> a");
}

#[test]
fn other_commands_refuse_a_broken_instrument_with_exit_2() {
    let t = Test::new();
    t.write(
        "i.toml",
        format!(
            "{HEADER}{YES_NO}[items.q1]\ntext = {{ fi = \"K\", en = \"Q\" }}\nscale = \"nope\"\n"
        ),
    );
    t.write("d.csv", "q1\n1\n");
    t.args(["validate", "d.csv", "--instrument", "i.toml"])
        .run()
        .code(2)
        .stderr_has("error: i.toml, line 10: no scale `nope` is defined [key `items.q1.scale`]");
}

#[test]
fn missing_file_is_exit_2() {
    Test::new()
        .args(["instrument", "check", "nowhere.toml"])
        .run()
        .code(2)
        .stderr_has("error: nowhere.toml: No such file or directory");
}
