//! mcusim as a cargo runner: a real Rust firmware (`tests/firmware/rust-runner`, cortex-m-rt,
//! cortex-m-semihosting, panic-halt) built for thumbv7em-none-eabihf and started with
//! `cargo run -- a b`, the mcusim binary being the runner. Skipped, saying so, where that
//! Rust target is not installed (`cargo xtask test` installs it where rustup can). Also a
//! defmt firmware (`tests/firmware/rust-defmt`), its log decoded.

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
    cargo_run_in("rust-runner", args)
}

/// `cargo run --release -- ARGS` in `tests/firmware/NAME`, mcusim as the runner.
fn cargo_run_in(name: &str, args: &[&str]) -> (i32, String, String) {
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/firmware")
        .join(name);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let runner = format!("{} run --board nucleo-l4r5zi", env!("CARGO_BIN_EXE_mcusim"));
    let out = Command::new(cargo)
        .args(["run", "--release", "--quiet", "--"])
        .args(args)
        .current_dir(&project)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(name),
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

/// A real Rust firmware logging with `defmt` over `defmt-rtt` (`tests/firmware/rust-defmt`):
/// its frames decoded with the ELF's defmt table, each line with its level and the simulated
/// time it was written, in order, formatted arguments included.
#[test]
fn a_defmt_firmware_prints_decoded_lines_with_simulated_time() {
    if !target_installed() {
        eprintln!(
            "skipped: the Rust target {TARGET} is not installed (rustup target add {TARGET})"
        );
        return;
    }
    let (status, stdout, stderr) = cargo_run_in("rust-defmt", &[]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let want = [
        "INFO  hello from defmt",
        "DEBUG step 0: sum 0",
        "DEBUG step 1: sum 1",
        "DEBUG step 2: sum 5",
        "DEBUG step 3: sum 14",
        "DEBUG step 4: sum 30",
        "WARN  sum of squares below 5 is 30",
        "ERROR an error with a float 1.5 and a bool true",
    ];
    assert_eq!(lines.len(), want.len(), "{stdout}{stderr}");
    let mut last = 0.0f64;
    for (line, want) in lines.iter().zip(want) {
        let (time, message) = line.split_once(' ').unwrap();
        assert_eq!(message, want, "{stdout}");
        // Seconds of simulated time, rising line by line.
        let t: f64 = time.parse().unwrap();
        assert!(t > last && t < 0.01, "{line}");
        last = t;
    }
    assert!(stderr.contains("exit with code 0"), "{stderr}");
}
