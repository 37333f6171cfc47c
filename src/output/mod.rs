//! Writing results: tidy tables as CSV/TSV/JSON/XLSX ([`tidy`]) and files that appear whole
//! or not at all ([`atomic`]).

pub mod atomic;
pub mod data;
pub mod tidy;

pub use tidy::{Cell, Format, TidyTable};
