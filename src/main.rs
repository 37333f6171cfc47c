//! The `tasa` command: parse arguments, run the subcommand, map the outcome to an exit code
//! (0 success, 1 ran but found problems, 2 bad usage or unreadable input).

use clap::Parser;

fn main() {
    let cli = tasa::cli::Cli::parse();
    let code = match tasa::cli::run(cli) {
        Ok(outcome) => outcome.code(),
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            e.code()
        }
    };
    std::process::exit(code);
}
