//! Writing result files so that nothing is lost: each file is written whole to a temporary
//! file in its own directory, synced to disk and renamed over its place, so a reader (or a
//! run interrupted by SIGINT, SIGTERM or SIGKILL) sees the old file or the new one, never a
//! truncated one. A set of files (a baseline) is staged whole before any is renamed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_all_atomic(&[(path.to_path_buf(), bytes.to_vec())])
}

/// Writes every `(path, bytes)` atomically, and as a set: all are written and synced to
/// temporary files before the first is renamed into place, so a failure (a full disk, an
/// unwritable directory) leaves every one of them as it was.
pub fn write_all_atomic(files: &[(PathBuf, Vec<u8>)]) -> std::io::Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".mcusim-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        staged.push((tmp, path));
    }
    // Dropping a staged file not yet persisted removes it.
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| e.error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_replaced_whole_and_sets_not_at_all_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        write_atomic(&a, b"old").unwrap();
        write_atomic(&a, b"new").unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"new");
        // The second file's directory does not exist: neither file changes.
        let missing = dir.path().join("no/such/dir/b.json");
        let set = [(a.clone(), b"newer".to_vec()), (missing, b"x".to_vec())];
        assert!(write_all_atomic(&set).is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"new");
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("a.json")]);
    }
}
