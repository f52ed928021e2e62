//! Project tasks: `cargo xtask <task>`.
//!
//! - `demo`: install what is missing, build the bundled hello firmware for nucleo-l4r5zi and
//!   run it in mcusim (the README's first command).
//! - `test`: install what is missing, then format check, clippy and every test (the README's
//!   second command, and what CI runs).
//! - `firmware BOARD NAME`: build `tests/firmware/NAME.c` for BOARD; prints the ELF's path.
//! - `build-c BOARD OUT.elf ARGS...`: build any C sources for BOARD with mcusim's runtime;
//!   arguments starting with `-` go to the compiler (`-O3`, `-DX=1`, `-Idir`), the rest are
//!   sources.
//! - `bench`: speed of the simulator on an int8 dot-product firmware, against QEMU; prints
//!   figures (a benchmark, not a test).
//! - `calibrate`: run an integer workload mix (`tests/firmware/intmix.c`) on each core from
//!   zero-wait-state memory and compare the speed ratios between cores with the published
//!   CoreMark/MHz ratios (a calibration check, not a test).
//! - `vela`: mcusim's NPU against Arm's Vela on the shared models, per layer, for the U55-128
//!   and U55-256 (installs `ethos-u-vela` in a virtualenv under `target/`; a benchmark).
//! - `fuzz [SECONDS]`: build the fuzz targets (`fuzz/`, cargo-fuzz and libFuzzer, installed
//!   if missing) and run each for SECONDS (default 60) from its checked-in seeds; prints the
//!   executions and corpus size per target and fails on a crash (`cargo xtask test` runs each
//!   for 10 s).
//! - `deps`: only install the system packages.
//! - `tone OUT.wav SECONDS`: write SECONDS of a 16 kHz test signal (a 440 Hz tone with a
//!   faster ripple), for `--stream`.

mod vela;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages the build and the tests need: unicorn's build (cmake, bindgen's libclang),
/// the firmware toolchain, QEMU for the cross-check tests, tmux for the terminal UI's test, and
/// a font for the text of the PNG charts.
const PACKAGES: [(&str, &str); 7] = [
    ("cmake", "cmake"),
    ("clang", "libclang-dev"),
    ("arm-none-eabi-gcc", "gcc-arm-none-eabi"),
    ("newlib", "libnewlib-arm-none-eabi"),
    ("qemu-system-arm", "qemu-system-arm"),
    ("tmux", "tmux"),
    ("fonts", "fonts-dejavu-core"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => deps().and_then(|()| demo()),
        Some("test") => deps().and_then(|()| test()),
        Some("deps") => deps(),
        Some("fuzz") if args.len() <= 2 => match args.get(1).map(|s| s.parse::<u64>()) {
            None => deps().and_then(|()| fuzz(60)),
            Some(Ok(s)) if s > 0 => deps().and_then(|()| fuzz(s)),
            Some(_) => {
                eprintln!("usage: cargo xtask fuzz [SECONDS]");
                return ExitCode::from(2);
            }
        },
        Some("tone") if args.len() == 3 => tone(Path::new(&args[1]), &args[2]),
        Some("bench") if args.len() <= 3 => {
            let against = match args.get(1).map(String::as_str) {
                Some("--against") if args.len() == 3 => Some(args[2].as_str()),
                Some(_) => {
                    eprintln!("usage: cargo xtask bench [--against OTHER_MCUSIM_BINARY]");
                    return ExitCode::from(2);
                }
                None => None,
            };
            deps().and_then(|()| bench(against))
        }
        Some("calibrate") => deps().and_then(|()| calibrate()),
        Some("bench-commands") => deps().and_then(|()| bench_commands()),
        Some("vela") => deps().and_then(|()| vela::run()),
        Some("bench-kernels") => deps().and_then(|()| bench_kernels(args.get(1).map_or("nucleo-l4r5zi", String::as_str))),
        Some("build-c") if args.len() >= 4 => build_c(&args[1], &args[2], &args[3..]),
        Some("snapshot") if args.len() == 2 => deps().and_then(|()| snapshot(Path::new(&args[1]))),
        Some("firmware") if args.len() == 3 => {
            build_firmware(&args[1], &args[2]).map(|p| println!("{}", p.display()))
        }
        _ => Err(
            "usage: cargo xtask demo | test | bench | bench-commands | bench-kernels [BOARD] | vela | calibrate | deps | snapshot DIR | firmware BOARD NAME | build-c BOARD OUT.elf ARGS... | tone OUT.wav SECONDS"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn installed(probe: &str, package: &str) -> bool {
    match probe {
        "clang" => {
            Path::new("/usr/lib/llvm-14/lib/libclang.so").exists() || dpkg_installed(package)
        }
        "newlib" | "fonts" => dpkg_installed(package),
        program => mcusim_toolchain::which(program).is_some(),
    }
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// The Rust target of the cargo-runner test's firmware.
const RUST_TARGET: &str = "thumbv7em-none-eabihf";

/// Adds the firmware's Rust target with rustup where it is missing and rustup can fetch it;
/// without it, the test that needs it says it skipped.
fn rust_target() {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(RUST_TARGET)
        .is_dir()
    {
        return;
    }
    let added = Command::new("rustup")
        .args(["target", "add", RUST_TARGET])
        .current_dir(root())
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        eprintln!(
            "xtask: could not add the Rust target {RUST_TARGET}; the cargo runner test will skip"
        );
    }
}

/// Install the missing Debian packages (as root, with apt-get), and the Rust target the
/// cargo-runner test builds for.
fn deps() -> Result {
    rust_target();
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(probe, package)| !installed(probe, package))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| -> Result {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let status = Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed", args.join(" ")))
        }
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing);
    apt(&install)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn cargo(args: &[&str]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

/// Writes into `dir` every report mcusim makes of every bundled and shared model on every
/// built-in board (the profile JSON and the table) and of every test firmware (the run report,
/// its profile, what it printed), so two builds of mcusim can be compared with `diff -r`: a
/// refactoring must leave every byte as it was. mcusim runs in the checkout's root with paths
/// relative to it, so two checkouts in different places compare too.
fn snapshot(dir: &Path) -> Result {
    cargo(&["build", "--release", "--quiet", "--bin", "mcusim"])?;
    let mcusim = root().join("target/release/mcusim");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = &dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let relative = |p: &Path| p.strip_prefix(root()).unwrap_or(p).to_path_buf();
    let run = |args: &[&std::ffi::OsStr], out: &Path| -> Result {
        let o = Command::new(&mcusim)
            .current_dir(root())
            .args(args)
            .output()
            .map_err(|e| format!("cannot run mcusim: {e}"))?;
        let text = format!(
            "status {}\n--- stdout\n{}--- stderr\n{}",
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout),
            // Host time and speed are the only lines that may differ.
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| {
                    !l.trim_start().starts_with("host ")
                        && !l.contains(" s on the host")
                        && !l.contains("built in ")
                })
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        );
        std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))
    };
    let mut models: Vec<PathBuf> = Vec::new();
    for folder in [PathBuf::from("examples/models"), "../shared/models".into()] {
        let folder = root().join(folder);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "tflite"))
            .map(|p| relative(&p))
            .collect();
        found.sort();
        models.extend(found);
    }
    let boards: Vec<&str> = mcusim_boards::Board::builtin_names().collect();
    for model in &models {
        let stem = model.file_stem().unwrap_or_default().to_string_lossy();
        for board in &boards {
            let json = dir.join(format!("{stem}@{board}.json"));
            run(
                &[
                    "profile".as_ref(),
                    model.as_os_str(),
                    "--board".as_ref(),
                    board.as_ref(),
                    "--json".as_ref(),
                    json.as_os_str(),
                ],
                &dir.join(format!("{stem}@{board}.txt")),
            )?;
            eprintln!("xtask: {stem} on {board}");
        }
    }
    let mut firmware: Vec<String> = std::fs::read_dir(root().join("tests/firmware"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .filter(|n| n != "bench_dot")
        .collect();
    firmware.sort();
    for name in &firmware {
        for board in &boards {
            // Some test firmware is for Thumb-2 cores only.
            let Ok(elf) = build_firmware(board, name) else {
                continue;
            };
            let elf = relative(&elf);
            let tag = format!("{name}@{board}");
            let (report, profile) = (
                dir.join(format!("{tag}.run.json")),
                dir.join(format!("{tag}.profile.json")),
            );
            run(
                &[
                    "run".as_ref(),
                    "--board".as_ref(),
                    board.as_ref(),
                    "--max-instructions".as_ref(),
                    "20000000".as_ref(),
                    "--json".as_ref(),
                    report.as_os_str(),
                    "--profile".as_ref(),
                    profile.as_os_str(),
                    elf.as_os_str(),
                ],
                &dir.join(format!("{tag}.txt")),
            )?;
        }
        eprintln!("xtask: {name} on every board");
    }
    Ok(())
}

fn build_firmware(board: &str, name: &str) -> Result<PathBuf> {
    let board = mcusim_boards::Board::resolve(board).map_err(|e| e.to_string())?;
    let source = root().join("tests/firmware").join(format!("{name}.c"));
    let out = root()
        .join("target/firmware")
        .join(&board.name)
        .join(format!("{name}.elf"));
    mcusim_toolchain::Build::new(&board, vec![source], out.clone())
        .run()
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn demo() -> Result {
    // The bundled KWS-style model (examples/models, generated by the project), compiled with
    // the kernels for the default board, run once, its layers profiled.
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let model = model.to_string_lossy().into_owned();
    cargo(&[
        "run",
        "--release",
        "--quiet",
        "--bin",
        "mcusim",
        "--",
        "profile",
        &model,
        "--board",
        mcusim_boards::DEFAULT_BOARD,
    ])
}

fn test() -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--all-targets", "--", "-D", "warnings"])?;
    // Echo cargo test's output and close with one line for the whole run: cargo prints a
    // result line per test binary, the last of which may be a doc-test binary with none.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(["test", "--all"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    let stdout = child.stdout.take().ok_or("no stdout")?;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| -> u64 {
                rest.split(';')
                    .find_map(|part| {
                        let part = part
                            .trim()
                            .trim_start_matches("ok. ")
                            .trim_start_matches("FAILED. ");
                        part.strip_suffix(word)?.trim().parse().ok()
                    })
                    .unwrap_or(0)
            };
            passed += count("passed");
            failed += count("failed");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    println!("tests: {passed} passed, {failed} failed");
    if !(status.success() && failed == 0) {
        return Err("cargo test failed".into());
    }
    // Every fuzz target, briefly: a crash its seeds or a few seconds find fails the run.
    fuzz(10)
}

/// The fuzz targets (`fuzz/fuzz_targets/`), each with the longest input it is given.
const FUZZ_TARGETS: [(&str, usize); 8] = [
    ("tflite", 65_536),
    ("npy", 4096),
    ("board", 8192),
    ("config", 8192),
    ("profile_json", 262_144),
    ("elf", 65_536),
    ("machine", 1024),
    ("devices", 4096),
];

/// Builds and runs every fuzz target for `seconds`, from its checked-in seeds
/// (`fuzz/corpus/TARGET`) into a working corpus under `target/fuzz-corpus`. libFuzzer on the
/// toolchain in use: its `-Z` sanitizer flags are let through with `RUSTC_BOOTSTRAP`.
fn fuzz(seconds: u64) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let have = Command::new(&cargo)
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("xtask: installing cargo-fuzz");
        run_status(Command::new(&cargo).args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let dir = root().join("fuzz");
    run_status(
        Command::new(&cargo)
            .args(["fuzz", "build", "-O"])
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(&dir),
    )?;
    println!(
        "{:<14} {:>12} {:>8} {:>8}",
        "target", "executions", "corpus", "seconds"
    );
    for (target, max_len) in FUZZ_TARGETS {
        let work = root().join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let out = Command::new(&cargo)
            .args(["fuzz", "run", "-O", target])
            .arg(&work)
            .arg(dir.join("corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-max_len={max_len}"))
            .args(["-rss_limit_mb=4096", "-timeout=30", "-print_final_stats=1"])
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            // What broke (the panic and its message, libFuzzer's verdict) and how to rerun it;
            // not the input's bytes, which cargo-fuzz prints in full.
            let lines: Vec<&str> = log.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let keep = ["panicked at", "ERROR:", "SUMMARY:", "cargo fuzz run"]
                    .iter()
                    .any(|k| line.contains(k))
                    || (i > 0 && lines[i - 1].contains("panicked at"));
                if keep {
                    eprintln!("{line}");
                }
            }
            return Err(format!(
                "fuzz target {target} failed: the input is in fuzz/artifacts/{target}/; make it a regression case (fuzz/regressions/{target}/) once fixed"
            ));
        }
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let corpus = std::fs::read_dir(&work).map_or(0, |d| d.count());
        println!("{target:<14} {runs:>12} {corpus:>8} {seconds:>8}");
    }
    Ok(())
}

fn run_status(cmd: &mut Command) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed"))
    }
}

/// Seconds of wall time for a command, best of three runs (the command must succeed).
fn best_of_three(program: &str, args: &[&str]) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        best = best.min(once(program, args)?);
    }
    Ok(best)
}

/// The wall time of one successful run.
fn once(program: &str, args: &[&str]) -> Result<f64> {
    let started = std::time::Instant::now();
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Best of three of this build's mcusim; with `--against`, best of nine of it and of the other
/// build's on the same arguments, their runs alternating so both see the same machine (run to
/// run noise on a shared 2-core machine is about 10%, so a 5% question needs more runs).
fn timed(mcusim: &str, against: Option<&str>, args: &[&str]) -> Result<(f64, Option<f64>)> {
    let Some(other) = against else {
        return Ok((best_of_three(mcusim, args)?, None));
    };
    let (mut mine, mut theirs) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..9 {
        mine = mine.min(once(mcusim, args)?);
        theirs = theirs.min(once(other, args)?);
    }
    Ok((mine, Some(theirs)))
}

/// This build's speed as a share of the other's, for a row of `bench --against`.
fn ratio(mine: f64, theirs: Option<f64>) -> String {
    theirs.map_or_else(String::new, |t| {
        format!("   speed {:.3} of the other build's", t / mine)
    })
}

/// The instruction count of a run report (`mcusim run --json`).
fn report_instructions(json: &Path) -> Result<f64> {
    let report = std::fs::read_to_string(json).map_err(|e| e.to_string())?;
    report
        .split("\"instructions\": ")
        .nth(1)
        .and_then(|t| t.split([',', '\n']).next())
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| "no instruction count in the report".into())
}

/// One line of the bench table: what ran, its instructions, its time and its speed.
fn row(engine: &str, instructions: f64, secs: f64) -> String {
    format!(
        "{:<30} {:>14} {:>10.3} {:>12.1}",
        engine,
        instructions as u64,
        secs,
        instructions / secs / 1e6
    )
}

fn bench(against: Option<&str>) -> Result {
    cargo(&["build", "--release", "--quiet", "--bin", "mcusim"])?;
    let mcusim = root().join("target/release/mcusim");
    let mcusim = mcusim.to_string_lossy();
    println!(
        "{:<30} {:>14} {:>10} {:>12}   (best of {}, wall time incl. start-up)",
        "engine",
        "instructions",
        "seconds",
        "M instr/s",
        if against.is_some() { 9 } else { 3 }
    );
    // M instructions/s of the dot loop: on nucleo-l4r5zi with timing, and with timing off.
    let (mut dot_timed, mut dot_functional) = (0.0, 0.0);
    for (board, timing) in [
        ("nucleo-l4r5zi", "on"),
        ("mps2-an386", "on"),
        ("mps2-an386", "off"),
    ] {
        let elf = build_firmware(board, "bench_dot")?;
        let elf = elf.to_string_lossy().into_owned();
        let json = root().join("target/bench_dot.json");
        let json_s = json.to_string_lossy().into_owned();
        let args = [
            "run", "-q", "--board", board, &elf, "--json", &json_s, "--timing", timing,
        ];
        let (secs, other) = timed(&mcusim, against, &args)?;
        let instructions = report_instructions(&json)?;
        println!(
            "{}{}",
            row(
                &format!("mcusim {board} --timing {timing}"),
                instructions,
                secs
            ),
            ratio(secs, other)
        );
        match (board, timing) {
            ("nucleo-l4r5zi", "on") => dot_timed = instructions / secs / 1e6,
            ("mps2-an386", "off") => dot_functional = instructions / secs / 1e6,
            _ => {}
        }
        if board == "mps2-an386" && timing == "off" {
            let qemu = best_of_three(
                "qemu-system-arm",
                &[
                    "-M",
                    "mps2-an386",
                    "-display",
                    "none",
                    "-monitor",
                    "none",
                    "-serial",
                    "null",
                    "-semihosting",
                    "-icount",
                    "shift=0",
                    "-kernel",
                    &elf,
                ],
            )?;
            println!(
                "{}",
                row("qemu-system-arm -icount shift=0", instructions, qemu)
            );
        }
    }
    // The KWS-style example model on nucleo-l4r5zi, weights in flash: the simulation of a whole
    // inference (start-up to exit), compiled once.
    let kws = root().join("target/bench-kws.elf");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let status = Command::new(mcusim.as_ref())
        .args(["compile", "-o"])
        .arg(&kws)
        .arg(&model)
        .output()
        .map_err(|e| e.to_string())?;
    if !status.status.success() {
        return Err(format!(
            "compiling the KWS model: {}",
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    let elf = kws.to_string_lossy().into_owned();
    let json = root().join("target/bench_kws.json");
    let json_s = json.to_string_lossy().into_owned();
    let (secs, other) = timed(
        &mcusim,
        against,
        &[
            "run",
            "-q",
            "--board",
            "nucleo-l4r5zi",
            &elf,
            "--json",
            &json_s,
        ],
    )?;
    let instructions = report_instructions(&json)?;
    println!(
        "{}{}",
        row("mcusim run KWS (L4, flash)", instructions, secs),
        ratio(secs, other)
    );
    // The same inference without the cycle model: how fast unicorn runs this code at all.
    let (functional, other) = timed(
        &mcusim,
        against,
        &[
            "run",
            "-q",
            "--board",
            "nucleo-l4r5zi",
            &elf,
            "--timing",
            "off",
        ],
    )?;
    println!(
        "{}{}",
        row("mcusim run KWS --timing off", instructions, functional),
        ratio(functional, other)
    );
    // The same firmware profiled with every export: the profiler's overhead over a plain run
    // (issue 6 bounds it at 1.5x).
    let dir = root().join("target/bench-kws-profile");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (json, csv, trace, folded, plots) = (
        file("p.json"),
        file("p.csv"),
        file("p.trace.json"),
        file("p.folded"),
        file("plots"),
    );
    let (profiled, other) = timed(
        &mcusim,
        against,
        &[
            "profile",
            "-q",
            &elf,
            "--json",
            &json,
            "--csv",
            &csv,
            "--perfetto",
            &trace,
            "--folded",
            &folded,
            "--plots",
            &plots,
        ],
    )?;
    println!(
        "{}   ({:.2}x the plain run){}",
        row("mcusim profile KWS, all exports", instructions, profiled),
        profiled / secs,
        ratio(profiled, other)
    );
    let kws_profile = instructions / profiled / 1e6;
    println!(
        "KWS profile / dot loop with timing (L4): {:.2} (issue 3 aims at 0.70); KWS / dot loop \
         with timing off: {:.2} (the two workloads' own speeds on unicorn)",
        kws_profile / dot_timed,
        instructions / functional / 1e6 / dot_functional
    );
    Ok(())
}

/// Wall time of whole commands as a user runs them, cold (an empty kernel library cache) and
/// warm (best of three after): `profile` of the bundled KWS model and `check` of the bundled
/// `examples/mcusim.toml` (four entries on two cores).
fn bench_commands() -> Result {
    cargo(&["build", "--release", "--quiet", "--bin", "mcusim"])?;
    let mcusim = root().join("target/release/mcusim");
    let cache = root().join("target/bench-commands-cache");
    let kws = root().join("examples/models/kws_ds_cnn.tflite");
    let config = root().join("examples/mcusim.toml");
    let (kws, config) = (kws.to_string_lossy(), config.to_string_lossy());
    let commands: [(&str, Vec<&str>); 2] = [
        ("profile KWS (nucleo-l4r5zi)", vec!["profile", "-q", &kws]),
        (
            "check examples/mcusim.toml (4 entries)",
            vec!["check", "--config", &config],
        ),
    ];
    println!(
        "{:<42} {:>10} {:>10}   (wall seconds; warm: best of 3)",
        "command", "cold", "warm"
    );
    for (name, args) in commands {
        let _ = std::fs::remove_dir_all(&cache);
        let run = |()| -> Result<f64> {
            let started = std::time::Instant::now();
            let out = Command::new(&mcusim)
                .env(mcusim_toolchain::CACHE_ENV, &cache)
                .args(&args)
                .output()
                .map_err(|e| format!("cannot run mcusim: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "mcusim {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(started.elapsed().as_secs_f64())
        };
        let cold = run(())?;
        let mut warm = f64::INFINITY;
        for _ in 0..3 {
            warm = warm.min(run(())?);
        }
        println!("{name:<42} {cold:>10.2} {warm:>10.2}");
    }
    let _ = std::fs::remove_dir_all(&cache);
    Ok(())
}

fn build_c(board: &str, out: &str, args: &[String]) -> Result {
    let board = mcusim_boards::Board::resolve(board).map_err(|e| e.to_string())?;
    let (flags, sources): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.starts_with('-'));
    let mut build = mcusim_toolchain::Build::new(
        &board,
        sources.into_iter().map(PathBuf::from).collect(),
        PathBuf::from(out),
    );
    for flag in flags {
        if flag.starts_with("-O") {
            build.opt = flag.clone();
        } else {
            build.extra_args.push(flag.clone());
        }
    }
    // The mnn library too: --gc-sections drops what the sources do not call.
    build.kernels = true;
    build.run().map_err(|e| e.to_string())
}

/// Published CoreMark/MHz (TIMING.md) of the built-in boards' cores.
const PUBLISHED: [(&str, &str, f64); 4] = [
    ("nucleo-g0b1re", "cortex-m0plus", 2.46),
    ("nucleo-l4r5zi", "cortex-m4f", 3.40),
    ("stm32f746g-disco", "cortex-m7", 5.01),
    ("nucleo-u575zi", "cortex-m33", 4.0),
];

fn calibrate() -> Result {
    cargo(&["build", "--release", "--quiet", "--bin", "mcusim"])?;
    let mcusim = root().join("target/release/mcusim");
    let dir = root().join("target/calibrate");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for (board, core, published) in PUBLISHED {
        let text = mcusim_boards::Board::resolve(board)
            .map_err(|e| e.to_string())?
            .text;
        // Zero-wait-state memory, as per-MHz scores are measured.
        let zws: String = text
            .lines()
            .map(|l| {
                if l.starts_with("wait_states") {
                    "wait_states = 0"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let board_file = dir.join(format!("{board}-zws.toml"));
        std::fs::write(&board_file, zws).map_err(|e| e.to_string())?;
        let board_path = board_file.to_string_lossy().into_owned();
        let zws_board = mcusim_boards::Board::load(&board_file).map_err(|e| e.to_string())?;
        let elf = dir.join(format!("intmix-{board}.elf"));
        mcusim_toolchain::Build::new(
            &zws_board,
            vec![root().join("tests/firmware/intmix.c")],
            elf.clone(),
        )
        .run()
        .map_err(|e| e.to_string())?;
        let out = Command::new(&mcusim)
            .args(["run", "-q", "--board", &board_path])
            .arg(&elf)
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        let cycles: f64 = text
            .split("cycles ")
            .nth(1)
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| format!("{board}: no cycle count in {text:?}"))?;
        rows.push((core, cycles, published));
    }
    let m4 = rows[1].1;
    println!(
        "{:<15} {:>12} {:>14} {:>16}",
        "core", "cycles", "speed vs M4", "published vs M4"
    );
    for (core, cycles, published) in &rows {
        println!(
            "{core:<15} {cycles:>12} {:>14.2} {:>16.2}",
            m4 / cycles,
            published / 3.40
        );
    }
    Ok(())
}

/// The three MLPerf Tiny models in `../shared`, compiled with the optimised and with the
/// reference kernels, run in mcusim on BOARD (weights in flash): cycles and cycles per MAC of
/// every layer and of the whole inference.
fn bench_kernels(board_name: &str) -> Result {
    use mcusim_compiler::{codegen, plan, tflite::Model};
    let shared = root().join("../shared/models");
    if !shared.is_dir() {
        return Err(format!(
            "{} is absent: the benchmark runs the shared MLPerf Tiny models",
            shared.display()
        ));
    }
    cargo(&["build", "--release", "--quiet", "--bin", "mcusim"])?;
    let mcusim = root().join("target/release/mcusim");
    let board = mcusim_boards::Board::resolve(board_name).map_err(|e| e.to_string())?;
    let dsp = !matches!(
        board.core,
        mcusim_boards::Core::CortexM0Plus | mcusim_boards::Core::CortexM3
    );
    let dir = root().join("target/bench-kernels").join(board_name);
    println!(
        "board {board_name} ({:?}), weights in flash, arm-none-eabi-gcc -O2",
        board.core
    );
    for name in ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"] {
        let path = shared.join(format!("{name}.tflite"));
        let model = Model::load(&path).map_err(|e| e.to_string())?;
        model
            .check(&path.display().to_string())
            .map_err(|e| e.to_string())?;
        let layers = model.lower().map_err(|e| e.to_string())?;
        let plan = plan::plan(&model, &layers, dsp);
        let mut runs = Vec::new();
        for reference in [true, false] {
            let variant = if reference { "ref" } else { "opt" };
            let out = dir.join(format!("{name}-{variant}"));
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            let generated = codegen::generate(
                &model,
                &layers,
                &plan,
                &codegen::Options {
                    source_name: format!("{name}.tflite"),
                    reference_kernels: reference,
                    weights_in_sram: false,
                    layer_markers: true,
                    npu: Vec::new(),
                },
            );
            std::fs::write(out.join("mcusim_model.h"), generated.header)
                .map_err(|e| e.to_string())?;
            std::fs::write(out.join("mcusim_model.c"), generated.source)
                .map_err(|e| e.to_string())?;
            let elf = out.join("bench.elf");
            let mut build = mcusim_toolchain::Build::new(
                &board,
                vec![
                    out.join("mcusim_model.c"),
                    root().join("kernels/bench/bench_main.c"),
                ],
                elf.clone(),
            );
            build.kernels = true;
            build.stack_bytes = 4096;
            build.extra_args = vec!["-I".into(), out.display().to_string()];
            build.run().map_err(|e| e.to_string())?;
            let run = Command::new(&mcusim)
                .args(["run", "-q", "--board", board_name])
                .arg(&elf)
                .output()
                .map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&run.stdout).into_owned();
            if !run.status.success() {
                return Err(format!(
                    "{name} ({variant}): {text}{}",
                    String::from_utf8_lossy(&run.stderr)
                ));
            }
            runs.push(text);
        }
        let parse = |text: &str| -> Vec<(String, u64, u64)> {
            text.lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    match f.as_slice() {
                        ["layer", i, op, macs, cyc] => Some((
                            format!("{i:>2} {op}"),
                            macs.parse().ok()?,
                            cyc.parse().ok()?,
                        )),
                        ["inference", macs, cyc] => Some((
                            "inference".to_string(),
                            macs.parse().ok()?,
                            cyc.parse().ok()?,
                        )),
                        _ => None,
                    }
                })
                .collect()
        };
        let (reference, optimised) = (parse(&runs[0]), parse(&runs[1]));
        let hash = |t: &str| {
            t.lines()
                .find(|l| l.starts_with("output"))
                .map(str::to_owned)
        };
        let same = hash(&runs[0]) == hash(&runs[1]);
        println!(
            "\n{name}: arena {} bytes (lower bound {}), outputs of both builds {}",
            plan.arena_bytes,
            plan.lower_bound,
            if same { "identical" } else { "DIFFER" }
        );
        println!(
            "{:<24} {:>10} {:>12} {:>8} {:>12} {:>8} {:>8}",
            "layer", "MACs", "ref cycles", "c/MAC", "opt cycles", "c/MAC", "speedup"
        );
        for ((label, macs, rc), (_, _, oc)) in reference.iter().zip(&optimised) {
            let per = |c: u64| {
                if *macs > 0 {
                    format!("{:.2}", c as f64 / *macs as f64)
                } else {
                    "-".into()
                }
            };
            println!(
                "{label:<24} {macs:>10} {rc:>12} {:>8} {oc:>12} {:>8} {:>7.2}x",
                per(*rc),
                per(*oc),
                *rc as f64 / (*oc).max(1) as f64
            );
        }
        if !same {
            return Err(format!(
                "{name}: the optimised build's output differs from the reference build's"
            ));
        }
    }
    Ok(())
}

/// `tone OUT.wav SECONDS`: the test signal of `tests/e2e/stream.rs`, 16 kHz, one channel.
fn tone(out: &Path, seconds: &str) -> Result {
    let seconds: u32 = seconds
        .parse()
        .map_err(|_| format!("tone: `{seconds}` is not a whole number of seconds"))?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| format!("{}: {e}", out.display());
    let mut w = hound::WavWriter::create(out, spec).map_err(fail)?;
    for i in 0..16_000 * seconds {
        let t = f64::from(i) / 16_000.0;
        let s = 12_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
            + 3_000.0 * (f64::from(i) * 0.37).sin();
        w.write_sample(s as i16).map_err(fail)?;
    }
    w.finalize().map_err(fail)?;
    println!("{}", out.display());
    Ok(())
}
