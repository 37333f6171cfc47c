//! `tasa init DIR`: the new project runs as is with `tasa run`, and a folder with files in it
//! is refused untouched.

use crate::harness::Test;

#[test]
fn a_new_project_runs_as_is() {
    let t = Test::new();
    t.args(["init", "project"])
        .run()
        .code(0)
        .stderr_has("wrote 12 files; run the assessment with: tasa run project/run.toml");
    for f in [
        "run.toml",
        "instruments/service-equality.toml",
        "data/responses.csv",
        "weights/design.toml",
        "weights/margins/area.csv",
        "register/metrics.toml",
    ] {
        assert!(t.path("project").join(f).is_file(), "{f}");
    }
    // One language keeps the test short; everything else as written.
    let run = t.path("project/run.toml");
    let text = std::fs::read_to_string(&run).expect("run.toml");
    assert!(text.contains("languages = [\"fi\", \"sv\", \"en\"]"));
    std::fs::write(
        &run,
        text.replace(
            "languages = [\"fi\", \"sv\", \"en\"]",
            "languages = [\"sv\"]",
        ),
    )
    .expect("write");
    t.clear()
        .args(["run", "project/run.toml"])
        .run()
        .code(0)
        .stderr_has("service-equality: 2989 respondents, 36 indicators");
    for f in [
        "manifest.json",
        "service-equality/estimates.csv",
        "service-equality/joined.csv",
        "service-equality/service-equality.sv.xlsx",
    ] {
        assert!(t.path("project/out").join(f).is_file(), "{f}");
    }
}

#[test]
fn a_folder_with_files_is_refused() {
    let t = Test::new();
    t.write("taken/notes.txt", "mine");
    t.args(["init", "taken"])
        .run()
        .code(2)
        .stderr_has("taken is not empty; give a new or empty folder for the project");
    assert_eq!(
        std::fs::read_to_string(t.path("taken/notes.txt")).expect("notes"),
        "mine"
    );
    assert!(!t.path("taken/run.toml").exists());
}
