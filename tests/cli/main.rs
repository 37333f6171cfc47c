//! Integration tests of the `tasa` command, one file per subcommand; each runs the built
//! binary on files written into a temporary folder and checks output, exit code and files.

mod harness;

mod bad_input;
mod compare;
mod determinism;
mod estimate;
mod gaps;
mod init;
mod injection;
mod instrument;
mod join;
mod replicates;
mod report;
mod run;
mod simulate;
mod standardize;
mod validate;
mod weight;
