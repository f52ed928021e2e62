//! Compiles the mnn C library (every `.c` under `src/`) and the self-check driver for the host,
//! with the warnings the library must stay clean of.

use std::path::{Path, PathBuf};

fn c_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("kernels/src is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            c_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "c") {
            out.push(path);
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    c_files(&root.join("src"), &mut files);
    files.push(root.join("tests/selfcheck/mnn_selfcheck.c"));
    let mut build = cc::Build::new();
    build
        .include(root.join("include"))
        .include(root.join("tests/selfcheck"))
        .std("c99")
        .opt_level(2)
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-Wshadow")
        .flag_if_supported("-Wpedantic")
        .warnings_into_errors(true);
    for f in &files {
        build.file(f);
        println!("cargo:rerun-if-changed={}", f.display());
    }
    println!("cargo:rerun-if-changed={}", root.join("include").display());
    for h in ["mnn_types.h", "mnn_functions.h", "mnn_support.h"] {
        println!(
            "cargo:rerun-if-changed={}",
            root.join("include").join(h).display()
        );
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("tests/selfcheck/mnn_selfcheck.h").display()
    );
    build.compile("mnn");
}
