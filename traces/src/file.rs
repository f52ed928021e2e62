//! Writing result files so that nothing is lost: each file is written whole to a temporary
//! file in its own directory, synced to disk and renamed over its place, so a reader (or a
//! run interrupted by SIGINT, SIGTERM or SIGKILL) sees the old file or the new one, never a
//! truncated one. A set of files (a baseline) is staged whole before any is renamed.
//!
//! Reading an input file is bounded too ([`read_capped`]): `/dev/zero` named as a model, a
//! board or a report is an error after a bounded read, not memory growing without end.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The most [`read_capped`] reads of a binary input (a firmware ELF, a model, a report):
/// far above any microcontroller's flash or any report mcusim writes.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;
/// The most it reads of a text file people write (a board file, `mcusim.toml`).
pub const MAX_TEXT_BYTES: u64 = 1 << 20;

/// Reads the whole of `path` if it holds at most `max` bytes. A larger file, or one that never
/// ends (a device), is an error of kind `FileTooLarge` once `max + 1` bytes have been read.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most mcusim reads from such a file",
                max >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`] of a text file, which must be UTF-8.
pub fn read_text_capped(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(read_capped(path, max)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

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
        // The temporary file is private (0600); the result gets the mode of the file it
        // replaces, or a new file's usual rw-r--r--.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        tmp.as_file().sync_all()?;
        staged.push((tmp, path));
    }
    // Dropping a staged file not yet persisted removes it.
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| e.error)?;
    }
    Ok(())
}

/// Whether a file can be written at `path` (its directory exists and takes a new file), or
/// a directory created there (`dir`: its parent does): checked before a run, so a report
/// that could not be saved fails at once instead of after the run.
pub fn check_writable(path: &Path, dir: bool) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let at = if dir && path.is_dir() { path } else { parent };
    if !at.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no directory {}", at.display()),
        ));
    }
    tempfile::Builder::new()
        .prefix(".mcusim-")
        .tempfile_in(at)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, [7u8; 10]).unwrap();
        assert_eq!(read_capped(&a, 10).unwrap(), [7u8; 10]);
        let e = read_capped(&a, 9).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        #[cfg(unix)]
        {
            let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        }
        std::fs::write(&a, [0xFF, 0xFE]).unwrap();
        assert!(read_text_capped(&a, 10).is_err());
    }

    #[test]
    fn files_are_replaced_whole_and_sets_not_at_all_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        write_atomic(&a, b"old").unwrap();
        write_atomic(&a, b"new").unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            // A new file is rw-r--r--, a replaced one keeps its mode.
            assert_eq!(mode(&a), 0o644);
            std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o600)).unwrap();
            write_atomic(&a, b"new").unwrap();
            assert_eq!(mode(&a), 0o600);
        }
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
