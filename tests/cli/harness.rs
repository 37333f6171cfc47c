//! A small builder for running `tasa` in a temporary folder and checking what it did.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (for shipped instruments and fixtures).
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A fixture under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    repo("tests/fixtures").join(name)
}

pub struct Test {
    dir: tempfile::TempDir,
    args: std::cell::RefCell<Vec<String>>,
    stdin: std::cell::RefCell<Option<Vec<u8>>>,
    env: std::cell::RefCell<Vec<(String, String)>>,
}

/// What a run printed and returned.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing both streams when it differs.
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code, expected,
            "exit code {} (expected {expected})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn stderr_has(self, text: &str) -> Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(self, text: &str) -> Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }

    /// The stdout parsed as CSV: header and rows.
    pub fn csv(&self) -> (Vec<String>, Vec<Vec<String>>) {
        parse_csv(&self.stdout)
    }
}

pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("csv row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Default::default(),
            stdin: Default::default(),
            env: Default::default(),
        }
    }

    /// A path inside the test folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file into the test folder and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// Forgets the arguments (standard input, environment) of the previous run, keeping the
    /// folder.
    pub fn clear(&self) -> &Self {
        self.args.borrow_mut().clear();
        self.env.borrow_mut().clear();
        *self.stdin.borrow_mut() = None;
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(&self, args: I) -> &Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.args.borrow_mut().extend(
            args.into_iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned()),
        );
        self
    }

    /// Sets an environment variable of the runs.
    pub fn env(&self, key: &str, value: &str) -> &Self {
        self.env
            .borrow_mut()
            .push((key.to_string(), value.to_string()));
        self
    }

    pub fn stdin(&self, bytes: impl Into<Vec<u8>>) -> &Self {
        *self.stdin.borrow_mut() = Some(bytes.into());
        self
    }

    /// Runs `tasa` with the arguments, in the test folder.
    pub fn run(&self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tasa"));
        let input = self.stdin.borrow().clone();
        cmd.args(self.args.borrow().iter())
            .envs(self.env.borrow().iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("run tasa");
        if let Some(input) = &input {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait for tasa");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
