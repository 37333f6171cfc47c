//! What a command tells the person at the terminal: messages on stderr, progress bars only
//! when stderr is a terminal and `--quiet` is off.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Prints human messages to stderr and makes progress bars.
#[derive(Debug, Clone)]
pub struct Printer {
    pub quiet: bool,
    /// Put before every note and warning (e.g. `survey A: ` when a command prepares two
    /// surveys).
    prefix: String,
}

impl Printer {
    pub fn new(quiet: bool) -> Self {
        Printer {
            quiet,
            prefix: String::new(),
        }
    }

    /// The same printer with notes that begin with `prefix`.
    pub fn with_prefix(&self, prefix: impl Into<String>) -> Self {
        Printer {
            quiet: self.quiet,
            prefix: prefix.into(),
        }
    }

    /// A line for the person running the command (stderr), unless quiet.
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}{}", self.prefix, message.as_ref());
        }
    }

    /// A warning is printed even when quiet (after the prefix, so that a command with two
    /// surveys says whose it is).
    pub fn warn(&self, warning: &crate::Warning) {
        eprintln!("warning: {}{warning}", self.prefix);
    }

    /// A progress bar over `len` steps, hidden unless stderr is a terminal.
    pub fn bar(&self, len: u64, message: &str) -> ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template("{msg:20} [{bar:30}] {pos}/{len} ({eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_string());
        bar
    }
}
