//! `tasa init DIR`: a new assessment project that `tasa run DIR/run.toml` runs as is — a
//! commented run file, the instruments, a design file with its margins, the bundled
//! synthetic responses (2,989 job seekers) and register metrics. The files are embedded in
//! the binary, so a project needs nothing but tasa.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The project's files: path inside the project, contents.
const FILES: &[(&str, &[u8])] = &[
    ("run.toml", include_bytes!("../../templates/init/run.toml")),
    (
        "instruments/service-equality.toml",
        include_bytes!("../../instruments/service-equality.toml"),
    ),
    (
        "instruments/monisuomi.toml",
        include_bytes!("../../instruments/monisuomi.toml"),
    ),
    (
        "instruments/tervesuomi.toml",
        include_bytes!("../../instruments/tervesuomi.toml"),
    ),
    (
        "data/responses.csv",
        include_bytes!("../../examples/service-equality/responses.csv"),
    ),
    (
        "weights/design.toml",
        include_bytes!("../../templates/init/design.toml"),
    ),
    (
        "weights/margins/area.csv",
        include_bytes!("../../examples/service-equality/margins/area.csv"),
    ),
    (
        "weights/margins/origin_gender.csv",
        include_bytes!("../../examples/service-equality/margins/origin_gender.csv"),
    ),
    (
        "weights/margins/age_group.csv",
        include_bytes!("../../examples/service-equality/margins/age_group.csv"),
    ),
    (
        "register/classification.csv",
        include_bytes!("../../examples/service-equality/register/classification.csv"),
    ),
    (
        "register/metrics.csv",
        include_bytes!("../../examples/service-equality/register/metrics.csv"),
    ),
    (
        "register/metrics.toml",
        include_bytes!("../../examples/service-equality/register/metrics.toml"),
    ),
];

/// Writes the project into `dir`, which must be new or empty. The files are written into a
/// staging folder beside it first, so a failure leaves no half-made project.
pub fn scaffold(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        if entries.next().is_some() {
            return Err(Error::Usage(format!(
                "{} is not empty; give a new or empty folder for the project",
                dir.display()
            )));
        }
    }
    let staging = crate::output::atomic::stage_beside(dir, ".tasa-init-")?;
    let mut written = Vec::new();
    for (rel, bytes) in FILES {
        let path = staging.path().join(rel);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        written.push(dir.join(rel));
    }
    crate::output::atomic::replace_dir(staging, dir)?;
    Ok(written)
}
