//! The malformed-input suite: models, boards and reports made to break mcusim, each refused
//! with exit status 2 and one line naming the file and the problem, in bounded time and
//! memory (`support::mcusim_bounded`), never a panic.

use crate::support::*;
use mcusim_compiler::synth;
use mcusim_compiler::tflite::writer::{self, ModelSpec};
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `args` on the file at `path` must fail with status 2, in one line that names the file and
/// says `problem`.
fn refused(args: &[&str], path: &Path, problem: &str) {
    let mut all: Vec<std::ffi::OsString> = args.iter().map(|a| a.into()).collect();
    all.insert(1, path.into());
    refused_as(&all, path, problem);
}

/// `args` (which name the file at `path`) must fail as [`refused`] says.
fn refused_as(all: &[std::ffi::OsString], path: &Path, problem: &str) {
    let args = all;
    let run = mcusim_bounded(all, 120, 1024);
    let name = path.file_name().unwrap().to_string_lossy();
    assert_eq!(
        run.status, 2,
        "{args:?} {name}: {}{}",
        run.stdout, run.stderr
    );
    let err = run.stderr.trim_end();
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?} {name}: not one line: {err}"
    );
    assert!(
        err.contains(&*name),
        "{args:?} {name}: file not named: {err}"
    );
    assert!(
        err.contains(problem),
        "{args:?} {name}: does not say {problem:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// A valid model, changed by `f`, written as `name`.
fn model(name: &str, f: impl FnOnce(&mut ModelSpec)) -> PathBuf {
    let mut spec = synth::random_model(7);
    f(&mut spec);
    let path = scratch(name);
    std::fs::write(&path, writer::write(&spec)).unwrap();
    path
}

fn refused_model(path: &Path, problem: &str) {
    let elf = scratch("out.elf");
    let elf = elf.to_str().unwrap();
    refused(&["compile", "-o", elf], path, problem);
    refused(&["profile", "-q"], path, problem);
}

#[test]
fn models_with_bad_graph_indices_are_refused() {
    refused_model(
        &model("input-999.tflite", |s| s.inputs = vec![999]),
        "input",
    );
    refused_model(
        &model("output-neg.tflite", |s| s.outputs = vec![-3]),
        "output",
    );
    refused_model(&model("no-input.tflite", |s| s.inputs.clear()), "input");
    refused_model(&model("no-output.tflite", |s| s.outputs.clear()), "output");
}

#[test]
fn models_with_enormous_or_empty_shapes_are_refused() {
    let first = |s: &mut ModelSpec| s.inputs[0] as usize;
    refused_model(
        &model("huge.tflite", |s| {
            let i = first(s);
            s.tensors[i].shape = vec![1, i32::MAX, 4, 3];
        }),
        "too large",
    );
    refused_model(
        &model("huge-all.tflite", |s| {
            for t in &mut s.tensors {
                if t.data.is_none() {
                    t.shape[1] = 1 << 24;
                }
            }
        }),
        "too large",
    );
    refused_model(
        &model("empty.tflite", |s| {
            let i = first(s);
            s.tensors[i].shape[2] = 0;
        }),
        "empty",
    );
}

#[test]
fn models_with_bad_quantisation_are_refused() {
    for (name, scale) in [
        ("nan-scale.tflite", f32::NAN),
        ("inf-scale.tflite", f32::INFINITY),
        ("negative-scale.tflite", -0.5),
        ("zero-scale.tflite", 0.0),
    ] {
        refused_model(
            &model(name, |s| {
                let i = s.inputs[0] as usize;
                s.tensors[i].scale = vec![scale];
            }),
            "scale",
        );
    }
}

/// Every number of a board file is bounded: cache sizes that would take gigabytes, clocks and
/// wait states past any part's are refused before anything runs, each problem on its line.
#[test]
fn board_numbers_past_any_parts_are_refused() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let text = mcusim_boards::Board::builtin("nucleo-l4r5zi")
        .unwrap()
        .unwrap()
        .text;
    for (name, from, to, key) in [
        (
            "icache.toml",
            "icache_lines = 32",
            "icache_lines = 4294967295",
            "flash_accelerator.icache_lines",
        ),
        (
            "dcache.toml",
            "dcache_lines = 8",
            "dcache_lines = 1000000000",
            "flash_accelerator.dcache_lines",
        ),
        (
            "clock.toml",
            "clock_hz = 120_000_000",
            "clock_hz = 18446744073709551615",
            "clock_hz",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let board = scratch(name);
        std::fs::write(&board, text.replace(from, to)).unwrap();
        let run = mcusim_bounded(
            [
                "run",
                "--board",
                board.to_str().unwrap(),
                elf.to_str().unwrap(),
            ],
            60,
            512,
        );
        assert_eq!(run.status, 2, "{name}: {}", run.stderr);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("{name}: {key}: ")) && run.stderr.contains("outside"),
            "{name}: {}",
            run.stderr
        );
    }
}

/// Standard output that cannot be written (a full disk, a closed pipe) is an error of one
/// line and status 2, never a panic; the firmware's own output lost that way is counted.
#[test]
fn unwritable_standard_output_is_an_error_not_a_panic() {
    use std::process::{Command, Stdio};
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let board = ["boards", "show", "nucleo-l4r5zi"];
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec!["schema".into()],
        board.iter().map(|a| a.into()).collect(),
        vec!["boards".into()],
        vec!["run".into(), elf.into()],
        vec!["profile".into(), "-q".into(), model.clone().into()],
        vec![
            "profile".into(),
            "-q".into(),
            model.into(),
            "--json".into(),
            "-".into(),
        ],
    ];
    for args in &cases {
        for closed in [false, true] {
            // A closed pipe: its reading end is gone before mcusim starts, so every write
            // fails (whatever the timing).
            let stdout = if closed {
                let (reader, writer) = std::io::pipe().unwrap();
                drop(reader);
                Stdio::from(writer)
            } else {
                Stdio::from(std::fs::File::create("/dev/full").unwrap())
            };
            let child = Command::new(env!("CARGO_BIN_EXE_mcusim"))
                .args(args)
                .stdout(stdout)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let what = format!("{args:?} ({})", if closed { "closed pipe" } else { "full" });
            assert_eq!(out.status.code(), Some(2), "{what}: {err}");
            assert!(!err.contains("panicked"), "{what}: {err}");
            let last = err.trim_end().lines().last().unwrap_or("");
            assert!(last.contains("standard output: "), "{what}: {err}");
            if args[0] == "run" {
                assert!(
                    last.contains("bytes of the firmware's output were lost"),
                    "{what}: {err}"
                );
            }
        }
    }
}

/// Compiler options from the command line or a config are data: optimisation and
/// code-generation flags pass, anything else (`-B DIR` would run programs from DIR) is
/// refused before gcc runs, naming where it came from.
#[test]
fn compiler_options_other_than_optimisation_flags_are_refused() {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let elf = scratch("opt.elf");
    for opt in [
        "-B /tmp",
        "-O2 -wrapper x",
        "@/etc/passwd",
        "-fplugin=/x.so",
        "-O2 -specs=x",
    ] {
        let run = mcusim_bounded(
            [
                "compile".as_ref(),
                model.as_os_str(),
                "-o".as_ref(),
                elf.as_os_str(),
                format!("--opt={opt}").as_ref(),
            ],
            60,
            512,
        );
        assert_eq!(run.status, 2, "{opt}: {}", run.stderr);
        assert!(
            run.stderr.contains("not an optimisation"),
            "{opt}: {}",
            run.stderr
        );
        assert!(!elf.exists());
    }
    let config = scratch("opt.toml");
    std::fs::write(
        &config,
        format!(
            "board = \"nucleo-l4r5zi\"\n[[model]]\npath = \"{}\"\nopt = \"-O2 -B /tmp\"\n",
            model.display()
        ),
    )
    .unwrap();
    let run = mcusim_bounded(
        ["check", "-q", "--config", config.to_str().unwrap()],
        60,
        512,
    );
    assert_eq!(run.status, 2, "{}", run.stderr);
    let err = run.stderr.trim_end();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("opt.toml") && err.contains("'-B'"), "{err}");
}

/// A runaway firmware is stopped by `--timeout` (host seconds), whatever its instruction
/// limit, with the stop reason, its PC and status 1.
#[test]
fn a_timeout_stops_a_runaway_firmware() {
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_LOOP"]);
    let started = std::time::Instant::now();
    let run = mcusim_bounded(
        [
            "run",
            "--max-instructions",
            "none",
            "--timeout",
            "1",
            elf.to_str().unwrap(),
        ],
        30,
        512,
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("time limit of 1 s on the host reached at pc 0x"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(main+0x"), "{}", run.stderr);
    assert!(started.elapsed().as_secs() < 15, "{:?}", started.elapsed());
}

/// An interrupt storm (a handler that pends its own interrupt again) stops with its own
/// stop reason at the handler, instead of running to the instruction limit; interrupts that
/// leave the program time to run (a ticking SysTick under a `while (1)`) are no storm.
#[test]
fn an_interrupt_storm_stops_at_its_handler() {
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_STORM"]);
    let run = mcusim_bounded(
        ["run", "--max-instructions", "none", elf.to_str().unwrap()],
        60,
        512,
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("interrupt storm at pc 0x")
            && run.stderr.contains("(SysTick_Handler+0x0)")
            && run.stderr.contains("entered 100,000 times in a row"),
        "{}",
        run.stderr
    );
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_SPIN_TICKING"]);
    let run = mcusim_bounded(
        [
            "run",
            "--max-instructions",
            "2000000",
            elf.to_str().unwrap(),
        ],
        60,
        512,
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("instruction limit of 2,000,000"),
        "{}",
        run.stderr
    );
}

/// SIGINT (and SIGTERM) stop the run with its report still written: the profile is whole
/// JSON naming the interruption, and the status is 1 (the run did not finish).
#[test]
fn an_interrupted_profile_still_writes_its_report() {
    use std::process::{Command, Stdio};
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_LOOP"]);
    for signal in ["-INT", "-TERM"] {
        let json = scratch(&format!("interrupted{signal}.json"));
        let _ = std::fs::remove_file(&json);
        let child = Command::new(env!("CARGO_BIN_EXE_mcusim"))
            .args(["profile", "-q", "--max-instructions", "none", "--json"])
            .arg(&json)
            .arg(&elf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{signal}: {err}");
        assert!(err.contains("interrupted at pc 0x"), "{signal}: {err}");
        let profile: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(
            profile["stop"]["kind"], "interrupted",
            "{signal}: {}",
            profile["stop"]
        );
    }
}

/// `check` stops an entry at twice its cycle budget: a runaway entry fails at once instead of
/// holding the check up.
#[test]
fn check_stops_a_runaway_entry_at_twice_its_budget() {
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_LOOP"]);
    let config = scratch("runaway.toml");
    std::fs::write(
        &config,
        format!(
            "board = \"nucleo-l4r5zi\"\n[[model]]\npath = \"{}\"\nbudget = {{ max_cycles = 1000 }}\n",
            elf.display()
        ),
    )
    .unwrap();
    let run = mcusim_bounded(
        ["check", "-q", "--config", config.to_str().unwrap()],
        60,
        512,
    );
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("stopped at twice its time budget")
            && run.stdout.contains("over budget: cycles 2,000 of 1,000"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

/// A fault handler of the firmware's own takes the fault, as on the part: it reads the fault
/// status registers (a precise bus fault escalated to HardFault, the address in BFAR) and
/// ends the run itself. `--stop-on-fault` stops at the fault instead; a handler that faults
/// itself stops the run with the first fault, its PC and symbol.
#[test]
fn the_firmwares_own_fault_handler_runs() {
    let elf = firmware(
        "nucleo-l4r5zi",
        "fault",
        &["FAULT_UNMAPPED_READ", "OWN_HANDLER"],
    );
    let elf = elf.to_str().unwrap();
    let report = scratch("own-handler.json");
    let run = mcusim_bounded(
        ["run", "-q", "--json", report.to_str().unwrap(), elf],
        60,
        512,
    );
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    // CFSR: PRECISERR | BFARVALID; HFSR: FORCED.
    assert!(
        run.stdout
            .contains("handler: CFSR 00008200 HFSR 40000000 BFAR 60000000"),
        "{}",
        run.stdout
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["stop"]["reason"], "exit", "{}", report["stop"]);
    assert_eq!(report["stop"]["code"], 7, "{}", report["stop"]);
    let run = mcusim_bounded(["run", "--stop-on-fault", elf], 60, 512);
    assert_eq!(run.status, 1);
    assert!(!run.stdout.contains("handler:"), "{}", run.stdout);
    // The fault report: the registers at the fault and the fault status decoded.
    assert!(run.stderr.contains("registers     r0 0x"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "fault status  CFSR 0x00008200 HFSR 0x40000000 (BFSR.PRECISERR, BFSR.BFARVALID, HFSR.FORCED), BFAR 0x60000000"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unmapped fault at pc 0x08"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(main+0x"), "{}", run.stderr);
    let elf = firmware(
        "nucleo-l4r5zi",
        "fault",
        &["FAULT_UNMAPPED_READ", "OWN_HANDLER_FAULTS"],
    );
    let run = mcusim_bounded(["run", "-q", elf.to_str().unwrap()], 60, 512);
    assert_eq!(run.status, 1);
    let err = run.stderr.trim_end();
    assert!(
        err.contains("unmapped fault at pc 0x08") && err.contains("(main+0x"),
        "{err}"
    );
    assert!(
        err.contains("the firmware's fault handler took it and then: unmapped fault"),
        "{err}"
    );
    // A fault inside the BusFault handler cannot preempt it: it escalates to HardFault.
    let elf = firmware(
        "nucleo-l4r5zi",
        "fault",
        &["FAULT_UNMAPPED_READ", "OWN_HANDLER", "OWN_BUSFAULT"],
    );
    let run = mcusim_bounded(["run", "-q", elf.to_str().unwrap()], 60, 512);
    // The firmware exits with 7: status 1.
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("handler: bus fault\nhandler: CFSR 00008200 HFSR 40000000 BFAR 60000004"),
        "{}",
        run.stdout
    );
}

/// Every input a fuzz target crashed on (`fuzz/regressions/TARGET/`), run by the binary as a
/// user would: refused with status 2 and one line naming it, never a panic.
#[test]
fn inputs_the_fuzzers_found_stay_fixed() {
    let dir = root().join("fuzz/regressions/tflite");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let elf = scratch("regression.elf");
        let elf = elf.to_str().unwrap();
        let run = mcusim_bounded(
            [
                "compile".as_ref(),
                path.as_os_str(),
                "-o".as_ref(),
                elf.as_ref(),
            ],
            120,
            1024,
        );
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(run.status, 2, "{name}: {}", run.stderr);
        let err = run.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains(&*name) && !err.contains("panicked"),
            "{name}: {err}"
        );
        seen += 1;
    }
    assert!(seen > 0);
}

/// A report that could not be saved fails before the run, naming the file, not after it.
#[test]
fn an_unwritable_output_fails_before_the_run() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let missing = "/nonexistent-mcusim-dir/report.json";
    let cases: [Vec<&str>; 4] = [
        vec!["run", "--json", missing, elf.to_str().unwrap()],
        vec!["run", "--perfetto", missing, elf.to_str().unwrap()],
        vec!["profile", "-q", "--json", missing, model.to_str().unwrap()],
        vec![
            "profile",
            "-q",
            "--plots",
            "/nonexistent-mcusim-dir/plots",
            model.to_str().unwrap(),
        ],
    ];
    for args in cases {
        let run = mcusim_bounded(&args, 20, 512);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        let err = run.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("/nonexistent-mcusim-dir/") && err.contains("cannot be written"),
            "{err}"
        );
        // Nothing ran: the firmware printed nothing.
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

/// Interrupted while it builds, `profile` still cleans its build folder up, and the run that
/// follows stops at once: nothing is left in the temporary directory.
#[test]
fn an_interrupted_build_leaves_no_build_folder() {
    use std::process::{Command, Stdio};
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let child = Command::new(env!("CARGO_BIN_EXE_mcusim"))
        .args(["profile", "-q"])
        .arg(&model)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted at pc"), "{err}");
    let prefix = format!("mcusim-{pid}-");
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(
        left.is_empty(),
        "left behind: {:?}",
        left.iter().map(|e| e.path()).collect::<Vec<_>>()
    );
}

/// Semihosting file calls are refused unless the user names a folder; with
/// `--semihosting-root` they reach files under it and nowhere else.
#[test]
fn semihosting_files_reach_only_the_named_folder() {
    let elf = firmware("nucleo-l4r5zi", "files", &[]);
    let elf = elf.to_str().unwrap();
    let base = scratch("semihosting");
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("in.txt"), b"hello files").unwrap();
    let _ = std::fs::remove_file("/tmp/mcusim-escape.txt");
    // Refused by default.
    let run = mcusim_bounded(["run", "-q", elf], 60, 512);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("files: in refused, read 0, out refused"),
        "{}",
        run.stdout
    );
    assert!(!root.join("out.txt").exists());
    // Under the root, and only there.
    let run = mcusim_bounded(
        [
            "run",
            "-q",
            "--semihosting-root",
            root.to_str().unwrap(),
            elf,
        ],
        60,
        512,
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("files: in open, read 11, out open, unwritten 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("files: absolute refused, parent refused"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read(root.join("out.txt")).unwrap(), b"HELLO FILES");
    assert!(!base.join("mcusim-escape.txt").exists());
    assert!(!Path::new("/tmp/mcusim-escape.txt").exists());
}

/// A file that never ends (or is far larger than any input can be), named as each kind of
/// input, is refused after a bounded read: it once grew memory without end.
#[cfg(target_os = "linux")]
#[test]
fn endless_inputs_are_read_to_a_bound() {
    let zero = Path::new("/dev/zero");
    let z = "/dev/zero";
    let elf = scratch("zero.elf");
    let elf = elf.to_str().unwrap();
    let too_large = "larger than";
    for args in [
        vec!["run", z],
        vec!["profile", "-q", z],
        vec!["compile", z, "-o", elf],
        vec!["boards", "show", z],
        vec!["diff", z, z],
        vec!["check", "--config", z],
        vec!["run", "--board", z, z],
    ] {
        let all: Vec<std::ffi::OsString> = args.iter().map(|a| a.into()).collect();
        refused_as(&all, zero, too_large);
    }
}

/// Files broken at the byte level, each named as the input it pretends to be: reports of the
/// wrong schema or cut short (for `diff` and `tui`), models cut short, with the wrong magic,
/// or with their root offset out of range or pointing at itself, and `.npy` inputs whose
/// header promises more than the file holds or has the wrong dtype.
#[test]
fn files_broken_at_the_byte_level_are_refused() {
    let write = |name: &str, bytes: &[u8]| {
        let p = scratch(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let arg = |p: &Path| p.to_str().unwrap().to_owned();
    // Reports.
    let run_report = write(
        "run-report.json",
        br#"{"schema": "mcusim-run/1", "stop": {"reason": "exit", "code": 0}}"#,
    );
    let cut = write("cut-report.json", br#"{"schema": "mcusim-profile/1", "lay"#);
    let other = write("other.json", b"[1, 2, 3]");
    for (file, problem) in [
        (&run_report, "not a profile"),
        (&cut, "not JSON"),
        (&other, "not a profile"),
    ] {
        for verb in ["diff", "tui"] {
            let mut all = vec![verb.into(), arg(file).into()];
            if verb == "diff" {
                all.push(arg(file).into());
            }
            refused_as(&all, file, problem);
        }
    }
    // Models.
    let good = std::fs::read(model("good.tflite", |_| {})).unwrap();
    let mut magic = good.clone();
    magic[4..8].copy_from_slice(b"TFL2");
    let mut far = good.clone();
    far[..4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let mut itself = good.clone();
    itself[..4].copy_from_slice(&0u32.to_le_bytes());
    let elf = scratch("broken.elf");
    for (name, bytes, problem) in [
        ("half.tflite", &good[..good.len() / 2], ""),
        ("head.tflite", &good[..12], ""),
        ("magic.tflite", &magic[..], "TFL3"),
        ("far.tflite", &far[..], ""),
        ("itself.tflite", &itself[..], ""),
    ] {
        let path = write(name, bytes);
        refused(&["compile", "-o", elf.to_str().unwrap()], &path, problem);
    }
    // Inputs: the header says 1x1000 int8, the file holds 10 bytes; the dtype is float.
    let npy = |descr: &str, data: &[u8]| {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1, 1000), }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    };
    let model_path = model("for-input.tflite", |_| {});
    for (name, bytes) in [
        ("short.npy", npy("|i1", &[0; 10])),
        ("float.npy", npy("<f4", &[0; 4000])),
    ] {
        let path = write(name, &bytes);
        let all = vec![
            "profile".into(),
            "-q".into(),
            arg(&model_path).into(),
            "--input".into(),
            arg(&path).into(),
        ];
        refused_as(&all, &path, "");
    }
}
