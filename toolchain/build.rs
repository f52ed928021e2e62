//! Embeds the mnn kernel library (`kernels/include`, `kernels/src`) into the crate, so an
//! installed `mcusim` can build model firmware without a source tree: writes `kernels.rs`, a
//! list of (relative path, `include_str!`) for every header and C file, sorted.

use std::path::{Path, PathBuf};

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("kernels directory is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "c" || e == "h") {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let kernels = manifest.join("../kernels");
    let mut files = Vec::new();
    for part in ["include", "src"] {
        walk(&kernels, &kernels.join(part), &mut files);
        println!("cargo:rerun-if-changed={}", kernels.join(part).display());
    }
    let mut code = String::from(
        "/// The mnn kernel library: (path under kernels/, contents).\npub const KERNELS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", kernels.join(f).display());
        code.push_str(&format!(
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../kernels/{f}\"))),\n"
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("kernels.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
