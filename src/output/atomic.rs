//! Outputs are written to a temporary file beside the target and renamed into place, so an
//! error never leaves a half-written file behind; a folder of outputs (`tasa run`, `tasa
//! init`) likewise goes into a staging folder beside it that replaces it as a whole.

use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether `path` is an existing special file (a device such as `/dev/null`, a FIFO, a
/// socket): those are written in place, never replaced by a rename.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The file a path names, as the system resolves it (`./a.csv` and `a.csv` are one file); for
/// a file not written yet, its folder's resolved path and its name. `None` for standard
/// input or output (`-`), special files (`/dev/null`) and paths that cannot name a file.
fn real_path(path: &Path) -> Option<PathBuf> {
    if path == Path::new("-") || is_special(path) {
        return None;
    }
    std::fs::canonicalize(path).ok().or_else(|| {
        let name = path.file_name()?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(name))
    })
}

/// Refuses, before any work, an output that would overwrite a file the command reads or
/// another of its outputs. `outputs` are the output flags as messages name them (`-o`,
/// `--report`) with their paths, if given; `inputs` are what each input is (`the data`, `the
/// margin file`) with its path; `task` words the message: `-o a.csv is an input of the
/// estimates (the data a.csv); ...`.
pub fn check_outputs(
    task: &str,
    outputs: &[(&str, Option<&Path>)],
    inputs: &[(String, PathBuf)],
) -> Result<()> {
    let inputs: Vec<(&str, &Path, PathBuf)> = inputs
        .iter()
        .filter_map(|(what, p)| Some((what.as_str(), p.as_path(), real_path(p)?)))
        .collect();
    let mut written: Vec<(&str, &Path, PathBuf)> = Vec::new();
    for &(flag, out) in outputs {
        let Some(out) = out else { continue };
        let Some(real) = real_path(out) else {
            continue;
        };
        if let Some((what, input, _)) = inputs.iter().find(|i| i.2 == real) {
            return Err(Error::Usage(format!(
                "{flag} {} is an input of {task} ({what} {}); write the output to another file",
                out.display(),
                input.display()
            )));
        }
        if let Some((other, path, _)) = written.iter().find(|w| w.2 == real) {
            return Err(Error::Usage(format!(
                "{flag} {} is the file of {other} {} too; give each output its own file",
                out.display(),
                path.display()
            )));
        }
        written.push((flag, out, real));
    }
    Ok(())
}

/// Writes `path` atomically with the bytes `write` produces. Special files (`-o /dev/null`,
/// a FIFO) are written directly.
pub fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    if is_special(path) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let mut buf = std::io::BufWriter::new(file);
        write(&mut buf)?;
        return buf.flush().map_err(|e| Error::io(path, e));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
        ));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".tasa-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(path, e))?;
    {
        let mut buf = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush().map_err(|e| Error::io(path, e))?;
    }
    persist(tmp, path)
}

/// Moves a finished temporary file into place, with the permissions a new file would get
/// (temporary files are created private). A special file at `path` (`/dev/null`, a FIFO) is
/// written through instead of replaced.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    if is_special(path) {
        let mut from = std::fs::File::open(tmp.path()).map_err(|e| Error::io(path, e))?;
        let mut to = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        std::io::copy(&mut from, &mut to).map_err(|e| Error::io(path, e))?;
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes bytes atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, |w| w.write_all(bytes).map_err(|e| Error::io(path, e)))
}

/// A new staging folder beside `dir` (its parent made if need be), named `{prefix}…`; it is
/// removed if dropped before [`replace_dir`].
pub fn stage_beside(dir: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))
}

/// Moves a staging folder into place as `dir`: an existing `dir` is set aside first and
/// removed after, and put back if the move fails.
pub fn replace_dir(staging: tempfile::TempDir, dir: &Path) -> Result<()> {
    let stage = staging.keep();
    if dir.exists() {
        let old = dir.with_file_name(format!(
            ".tasa-old-{}-{}",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
            std::process::id()
        ));
        std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
        if let Err(e) = std::fs::rename(&stage, dir) {
            let _ = std::fs::rename(&old, dir);
            let _ = std::fs::remove_dir_all(&stage);
            return Err(Error::io(dir, e));
        }
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    } else if let Err(e) = std::fs::rename(&stage, dir) {
        let _ = std::fs::remove_dir_all(&stage);
        return Err(Error::io(dir, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let r = write_file(&target, |w| {
            w.write_all(b"partial").unwrap();
            Err(Error::Usage("boom".into()))
        });
        assert!(r.is_err());
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_written_through_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_bytes(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert!(
            std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
            "the FIFO was replaced"
        );
        write_bytes(Path::new("/dev/null"), b"nothing").unwrap();
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }

    #[test]
    fn outputs_may_not_overwrite_inputs_or_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.csv");
        std::fs::write(&data, "a\n1\n").unwrap();
        let inputs = [("the data".to_string(), data.clone())];
        let spelled = dir.path().join(".").join("data.csv");
        let e = check_outputs("the estimates", &[("-o", Some(&spelled))], &inputs)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is an input of the estimates (the data"), "{e}");
        let new = dir.path().join("new.csv");
        let e = check_outputs(
            "the weighting",
            &[("-o", Some(&new)), ("--report", Some(&new))],
            &inputs,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("--report") && e.contains("is the file of -o"),
            "{e}"
        );
        let null = Path::new("/dev/null");
        check_outputs(
            "the weighting",
            &[
                ("-o", Some(&new)),
                ("--report", Some(null)),
                ("--design-out", Some(null)),
            ],
            &inputs,
        )
        .unwrap();
        check_outputs("the estimates", &[("-o", None)], &inputs).unwrap();
    }

    #[test]
    fn write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        write_bytes(&target, b"one").unwrap();
        write_bytes(&target, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "two");
    }
}
