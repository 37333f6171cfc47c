//! The `tasa` command: parse arguments, run the subcommand, map the outcome to an exit code
//! (0 success, 1 ran but found problems, 2 bad usage or unreadable input).

use clap::Parser;

fn main() {
    let cli = tasa::cli::Cli::parse();
    let code = match tasa::cli::run(cli) {
        Ok(outcome) => outcome.code(),
        Err(e) => {
            let message = e.to_string();
            eprintln!("error: {message}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                // Most causes are already part of the message.
                let cause = s.to_string();
                if !message.contains(&cause) {
                    eprintln!("  caused by: {cause}");
                }
                source = s.source();
            }
            e.code()
        }
    };
    std::process::exit(code);
}
