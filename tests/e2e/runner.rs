//! mcusim as a cargo runner: a real Rust firmware (`tests/firmware/rust-runner`, cortex-m-rt,
//! cortex-m-semihosting, panic-halt) built for thumbv7em-none-eabihf and started with
//! `cargo run -- a b`, the mcusim binary being the runner. Skipped, saying so, where that
//! Rust target is not installed (`cargo xtask test` installs it where rustup can).

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "thumbv7em-none-eabihf";

fn target_installed() -> bool {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    sysroot.is_some_and(|s| Path::new(&s).join("lib/rustlib").join(TARGET).is_dir())
}

fn cargo_run(args: &[&str]) -> (i32, String, String) {
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/rust-runner");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let runner = format!("{} run --board nucleo-l4r5zi", env!("CARGO_BIN_EXE_mcusim"));
    let out = Command::new(cargo)
        .args(["run", "--release", "--quiet", "--"])
        .args(args)
        .current_dir(&project)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-runner"),
        )
        .env("CARGO_TARGET_THUMBV7EM_NONE_EABIHF_RUNNER", runner)
        .output()
        .expect("cargo runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cargo_run_passes_the_arguments_to_the_firmware() {
    if !target_installed() {
        eprintln!(
            "skipped: the Rust target {TARGET} is not installed (rustup target add {TARGET})"
        );
        return;
    }
    let (status, stdout, stderr) = cargo_run(&["a", "b"]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("cmdline: rust-runner a b"),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("exit with code 0"), "{stderr}");
    // mcusim's options go before the ELF; after `--` everything is the firmware's.
    let (status, stdout, stderr) = cargo_run(&["--", "--json", "x y"]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("cmdline: rust-runner --json \"x y\""),
        "{stdout}{stderr}"
    );
    // A panic with panic-halt is a loop nothing can leave: stopped, named, status 1.
    let (status, stdout, stderr) = cargo_run(&["panic"]);
    assert_ne!(status, 0, "{stdout}{stderr}");
    assert!(stderr.contains("core is stuck at pc 0x"), "{stderr}");
    assert!(stderr.contains("rust_begin_unwind+0x"), "{stderr}");
}
