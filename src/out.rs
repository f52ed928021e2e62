//! Where results go: a file, or standard output for `-`.

use crate::cli::Exports;
use anyhow::{Context, Result, anyhow};
use mcusim_profiler::{Profile, export, plot};
use std::io::Write as _;
use std::path::Path;

/// Writes `text` to standard output: all of it, or an error saying it was cut short (a
/// closed pipe, a full disk), never a panic.
pub fn stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow!("standard output: {e}: the output is incomplete"))
}

/// Writes `text` to `path`, or to standard output when `path` is `-`.
pub fn write(path: &Path, text: &str) -> Result<()> {
    if path.as_os_str() == "-" {
        return stdout(text);
    }
    mcusim_traces::file::write_atomic(path, text.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes a report to `path`, or to standard output without one.
pub fn report(path: Option<&Path>, text: &str) -> Result<()> {
    write(path.unwrap_or(Path::new("-")), text)
}

/// Writes `text` to `path` if one was given.
pub fn write_if(path: Option<&Path>, text: impl FnOnce() -> String) -> Result<()> {
    path.map_or(Ok(()), |p| write(p, &text()))
}

/// Fails, naming the file, if any of `files` (or the `dirs` to create) could not be written:
/// before a run, not after it.
pub fn check_writable(files: &[Option<&Path>], dirs: &[Option<&Path>]) -> Result<()> {
    let all = files
        .iter()
        .map(|f| (f, false))
        .chain(dirs.iter().map(|d| (d, true)));
    for (path, dir) in all {
        if let Some(path) = path.filter(|p| p.as_os_str() != "-") {
            mcusim_traces::file::check_writable(path, dir)
                .with_context(|| format!("{}: cannot be written", path.display()))?;
        }
    }
    Ok(())
}

/// Writes the profile's exports that were asked for (`--csv`, `--perfetto`, `--folded`,
/// `--plots`), shared by `profile` and `run`.
pub fn exports(p: &Profile, e: &Exports) -> Result<()> {
    write_if(e.csv.as_deref(), || export::csv(p))?;
    write_if(e.perfetto.as_deref(), || export::perfetto(p))?;
    write_if(e.folded.as_deref(), || export::folded(p))?;
    if let Some(dir) = e.plots.as_deref() {
        let svgs = plot::write_svgs(p, dir)?;
        plot::write_pngs(&svgs)?;
    }
    Ok(())
}
