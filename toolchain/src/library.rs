//! The mnn kernel library, compiled once per compiler, core and options and kept as an archive
//! in the user's cache directory, keyed by content.
//!
//! Compiling the library's C files is most of a model build (1.8 s of 2 s for KWS on a 2-core
//! machine); the generated model and the runtime are board- and model-specific and small. The
//! key is a SHA-256 of everything that decides the archive's bytes: the compiler's own version
//! text, every flag, and every source and header of the library, so a changed compiler, flag
//! or kernel gives a new entry and never a stale one. Entries are built in a private folder
//! and renamed into place, so concurrent builds never see half an archive; an entry whose
//! archive does not match the digest recorded beside it is built again.
//!
//! The objects are compiled from paths relative to their folder with that folder mapped to
//! `.`, and archived in deterministic mode, so the archive (and every firmware linked against
//! it) has the same bytes whether it came from the cache, from another cache folder or from a
//! build without a cache.

use crate::{Error, GCC, KERNELS, core_flags};
use mcusim_boards::Core;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The archiver of the same binutils as [`GCC`].
pub const AR: &str = "arm-none-eabi-ar";

/// The environment variable naming the cache folder; set to the empty string, nothing is
/// cached.
pub const CACHE_ENV: &str = "MCUSIM_CACHE_DIR";

/// Changes whenever the way an entry is built changes, so older entries are not reused.
const FORMAT: &str = "mcusim kernel library 1";

/// The archive's file name in an entry.
const ARCHIVE: &str = "libmnn.a";

/// Flags every kernel object is compiled with, besides the core's, the options and the
/// definitions.
pub(crate) const COMPILE_FLAGS: [&str; 7] = [
    "-g",
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-ffunction-sections",
    "-fdata-sections",
    "-ffreestanding",
];

/// The folder mcusim caches in: `$MCUSIM_CACHE_DIR`, else `mcusim` in the user's cache
/// directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux); `None` when caching is off or there is
/// no such directory.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_ENV) {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => dirs::cache_dir().map(|d| d.join("mcusim")),
    }
}

/// What one library is built with.
pub(crate) struct Spec<'a> {
    pub core: Core,
    pub opt: &'a [String],
    pub defines: &'a [String],
    /// The ELF being built, for error messages.
    pub output: &'a Path,
}

impl Spec<'_> {
    fn args(&self) -> Vec<String> {
        core_flags(self.core)
            .iter()
            .map(|s| (*s).to_owned())
            .chain(self.opt.iter().cloned())
            .chain(COMPILE_FLAGS.iter().map(|s| (*s).to_owned()))
            .chain(self.defines.iter().map(|d| format!("-D{d}")))
            .collect()
    }

    /// The entry's key: hex SHA-256 of the format, the compiler's version text, the flags and
    /// the library's files.
    fn key(&self) -> Result<String, Error> {
        let version = Command::new(GCC)
            .arg("--version")
            .output()
            .map_err(|source| Error::Io {
                path: GCC.into(),
                source,
            })?;
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(FORMAT.as_bytes());
        field(&version.stdout);
        for a in self.args() {
            field(a.as_bytes());
        }
        for (path, text) in KERNELS {
            field(path.as_bytes());
            field(text.as_bytes());
        }
        Ok(hex(&h.finalize()))
    }

    fn compile_error(&self, stderr: &[u8]) -> Error {
        Error::Compile {
            output: self.output.display().to_string(),
            stderr: String::from_utf8_lossy(stderr).trim_end().to_owned(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where the library came from, for progress messages and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An entry of the cache, built earlier.
    Cached,
    /// Built now, and kept in the cache.
    Built,
    /// Built now in the build's own folder: caching is off or the cache cannot be written.
    Uncached,
}

/// The archive of the kernel library for `spec`: from the cache when it holds it, else built
/// (into the cache when it can be written, else into `scratch`).
pub(crate) fn archive(spec: &Spec<'_>, scratch: &Path) -> Result<(PathBuf, Origin), Error> {
    if let Some(root) = cache_dir() {
        let key = spec.key()?;
        let entries = root.join("kernels");
        let entry = entries.join(&key[..32]);
        if valid(&entry) {
            return Ok((entry.join(ARCHIVE), Origin::Cached));
        }
        // One build at a time in this process (each uses every core): `check` profiling
        // several models for one core builds their library once, not once per model.
        static BUILDING: Mutex<()> = Mutex::new(());
        let _one = BUILDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if valid(&entry) {
            return Ok((entry.join(ARCHIVE), Origin::Cached));
        }
        if std::fs::create_dir_all(&entries).is_ok() {
            static SERIAL: AtomicUsize = AtomicUsize::new(0);
            let private = entries.join(format!(
                ".build-{}-{}",
                std::process::id(),
                SERIAL.fetch_add(1, Ordering::Relaxed)
            ));
            let built = build(spec, &private);
            match built {
                Ok(()) => {
                    // A broken entry (its archive does not match its digest) is replaced.
                    if entry.exists() && !valid(&entry) {
                        let _ = std::fs::remove_dir_all(&entry);
                    }
                    let renamed = std::fs::rename(&private, &entry);
                    if renamed.is_err() {
                        let _ = std::fs::remove_dir_all(&private);
                    }
                    // Renamed, or another build put the same entry in place first.
                    if valid(&entry) {
                        return Ok((entry.join(ARCHIVE), Origin::Built));
                    }
                }
                Err(e @ Error::Compile { .. }) => {
                    let _ = std::fs::remove_dir_all(&private);
                    return Err(e);
                }
                // The cache folder cannot be written to: build without it.
                Err(_) => {
                    let _ = std::fs::remove_dir_all(&private);
                }
            }
        }
    }
    let dir = scratch.join("mnn-lib");
    let _ = std::fs::remove_dir_all(&dir);
    build(spec, &dir)?;
    Ok((dir.join(ARCHIVE), Origin::Uncached))
}

/// Whether `entry` holds an archive whose SHA-256 is the one recorded beside it.
fn valid(entry: &Path) -> bool {
    let archive = entry.join(ARCHIVE);
    let (Ok(bytes), Ok(recorded)) = (
        std::fs::read(&archive),
        std::fs::read_to_string(entry.join("libmnn.a.sha256")),
    ) else {
        return false;
    };
    hex(&Sha256::digest(&bytes)) == recorded.trim()
}

/// Writes the library's files into `dir`, compiles every C file (as many at a time as the
/// machine has cores) and archives the objects into `dir/libmnn.a`, with its digest beside.
fn build(spec: &Spec<'_>, dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let dir = std::path::absolute(dir).map_err(io(dir))?;
    let mut sources = Vec::new();
    for (path, text) in KERNELS {
        let file = dir.join("mnn").join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&file, text).map_err(io(&file))?;
        if let Some(c) = path.strip_suffix(".c") {
            sources.push((
                format!("mnn/{path}"),
                format!("obj/{}.o", c.replace('/', "_")),
            ));
        }
    }
    let obj = dir.join("obj");
    std::fs::create_dir_all(&obj).map_err(io(&obj))?;
    let args = spec.args();
    let prefix_map = format!("-ffile-prefix-map={}=.", dir.display());
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(sources.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((source, object)) = sources.get(i) else {
                        return;
                    };
                    if failure.lock().map_or(true, |f| f.is_some()) {
                        return;
                    }
                    let out = Command::new(GCC)
                        .current_dir(&dir)
                        .args(&args)
                        .arg(&prefix_map)
                        .args(["-I", "mnn/include", "-c", source, "-o", object])
                        .output();
                    let error = match out {
                        Ok(o) if o.status.success() => continue,
                        Ok(o) => spec.compile_error(&o.stderr),
                        Err(source) => Error::Io {
                            path: GCC.into(),
                            source,
                        },
                    };
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert(error);
                    }
                    return;
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let archive = dir.join(ARCHIVE);
    let out = Command::new(AR)
        .current_dir(&dir)
        // r: insert, c: no warning on creation, s: symbol index, D: zero timestamps and ids.
        .arg("rcsD")
        .arg(ARCHIVE)
        .args(sources.iter().map(|(_, o)| o))
        .output()
        .map_err(|source| Error::Io {
            path: AR.into(),
            source,
        })?;
    if !out.status.success() {
        return Err(spec.compile_error(&out.stderr));
    }
    // The objects are in the archive; the sources stay, for reading beside the debug lines.
    let _ = std::fs::remove_dir_all(&obj);
    let bytes = std::fs::read(&archive).map_err(io(&archive))?;
    let digest = dir.join("libmnn.a.sha256");
    std::fs::write(&digest, hex(&Sha256::digest(&bytes)) + "\n").map_err(io(&digest))
}
