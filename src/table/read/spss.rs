//! SPSS `.sav`. Being written in this session.

use crate::error::Result;
use crate::table::Table;
use crate::Error;
use std::path::Path;

pub(super) fn read(_bytes: Vec<u8>, file: &Path) -> Result<Table> {
    Err(Error::Usage(format!("{}: SPSS files are not read yet", file.display())))
}
