//! The kernel library cache: built once per compiler, core and options, reused after, never
//! changing a firmware's bytes, and never in the way (off, broken or unwritable).

use crate::support::root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `mcusim compile` of the bundled KWS model for BOARD with OPT into OUT, the cache at CACHE
/// (`None`: caching off); the ELF's bytes.
fn compile(cache: Option<&Path>, board: &str, opt: &str, out: &Path) -> Vec<u8> {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let run = Command::new(env!("CARGO_BIN_EXE_mcusim"))
        .env(
            mcusim_toolchain::CACHE_ENV,
            cache.map_or_else(Default::default, |c| c.as_os_str().to_owned()),
        )
        .arg("compile")
        .arg(&model)
        .args(["--board", board, "--opt", opt, "-o"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(out).unwrap()
}

/// The entries of the cache at `cache`: (folder, the archive's modification time).
fn entries(cache: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let Ok(dir) = std::fs::read_dir(cache.join("kernels")) else {
        return Vec::new();
    };
    let mut v: Vec<_> = dir
        .map(|e| e.unwrap().path())
        .map(|p| {
            let t = std::fs::metadata(p.join("libmnn.a"))
                .and_then(|m| m.modified())
                .unwrap();
            (p, t)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_kernel_library_is_built_once_and_never_changes_the_firmware() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("cache");

    // Cold: one entry, holding the archive and its digest (and nothing half-built beside).
    let cold = compile(Some(&cache), "nucleo-l4r5zi", "-O2", &dir.join("cold.elf"));
    let first = entries(&cache);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].0.join("libmnn.a.sha256").is_file());

    // Warm: the same entry, not rebuilt, and the same bytes.
    let warm = compile(Some(&cache), "nucleo-l4r5zi", "-O2", &dir.join("warm.elf"));
    assert_eq!(entries(&cache), first, "the warm build rebuilt the library");
    assert!(cold == warm, "cached and fresh builds differ");

    // Caching off, or a cache that cannot be written (a file where its folder would be):
    // built in the build's own folder, with the same bytes.
    let off = compile(None, "nucleo-l4r5zi", "-O2", &dir.join("off.elf"));
    assert!(off == cold, "a build without the cache differs");
    let blocked = dir.join("not-a-folder");
    std::fs::write(&blocked, "x").unwrap();
    let unwritable = compile(Some(&blocked), "nucleo-l4r5zi", "-O2", &dir.join("un.elf"));
    assert!(
        unwritable == cold,
        "a build past an unwritable cache differs"
    );

    // An entry whose archive was cut short is noticed by its digest and built again.
    let archive = first[0].0.join("libmnn.a");
    let len = std::fs::metadata(&archive).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&archive)
        .unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let repaired = compile(Some(&cache), "nucleo-l4r5zi", "-O2", &dir.join("rep.elf"));
    assert!(repaired == cold, "the repaired build differs");
    assert_eq!(std::fs::metadata(&archive).unwrap().len(), len);

    // Another core or other options: an entry of their own.
    compile(Some(&cache), "nucleo-l4r5zi", "-Os", &dir.join("os.elf"));
    compile(Some(&cache), "nucleo-u575zi", "-O2", &dir.join("u5.elf"));
    let all = entries(&cache);
    assert_eq!(all.len(), 3, "{all:?}");
    let left: Vec<_> = std::fs::read_dir(cache.join("kernels"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "private build folders left: {left:?}");
}
