//! Building test firmware and running the binary.

use mcusim_boards::Board;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

/// Every built-in board.
pub fn boards() -> Vec<String> {
    Board::builtin_names().map(String::from).collect()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Build `tests/firmware/NAME.c` for BOARD with the given preprocessor definitions, once per
/// test run (concurrent tests asking for the same ELF wait for one build).
pub fn firmware(board: &str, name: &str, defines: &[&str]) -> PathBuf {
    let variant = defines.join("-").to_lowercase();
    let file = if variant.is_empty() {
        format!("{name}.elf")
    } else {
        format!("{name}-{variant}.elf")
    };
    let sources = vec![root().join("tests/firmware").join(format!("{name}.c"))];
    build_once(board, &file, sources, defines, false)
}

/// A firmware from `tests/firmware/NAME.c` linked with the mnn kernel library.
pub fn kernel_firmware(board: &str, name: &str) -> PathBuf {
    let sources = vec![root().join("tests/firmware").join(format!("{name}.c"))];
    build_once(board, &format!("{name}.elf"), sources, &[], true)
}

/// A C++ firmware from the folder `tests/firmware/NAME/`: every `.cpp` in it (subfolders too)
/// compiled by arm-none-eabi-g++ as a bare-metal C++ build would (no exceptions, no RTTI),
/// linked with its `.c` files and mcusim's runtime. Built once per test run.
pub fn cpp_firmware(board: &str, name: &str) -> PathBuf {
    fn sources(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                sources(&p, ext, out);
            } else if p.extension().is_some_and(|e| e == ext) {
                out.push(p);
            }
        }
    }
    let dir = root().join("tests/firmware").join(name);
    let objects = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("firmware")
        .join(board)
        .join(format!("{name}.obj"));
    let resolved = Board::resolve(board).unwrap();
    let mut cpp = Vec::new();
    sources(&dir, "cpp", &mut cpp);
    let mut inputs = Vec::new();
    std::fs::create_dir_all(&objects).unwrap();
    for source in &cpp {
        let rel = source.strip_prefix(&dir).unwrap().display().to_string();
        let object = objects.join(rel.replace('/', "_")).with_extension("o");
        let out = Command::new("arm-none-eabi-g++")
            .args(mcusim_toolchain::core_flags(resolved.core))
            .args([
                "-O2",
                "-g",
                "-std=c++17",
                "-fno-exceptions",
                "-fno-rtti",
                "-fno-threadsafe-statics",
                "-fno-use-cxa-atexit",
                "-ffunction-sections",
                "-fdata-sections",
                "-c",
            ])
            .arg(source)
            .arg("-o")
            .arg(&object)
            .output()
            .expect("arm-none-eabi-g++ runs");
        assert!(
            out.status.success(),
            "{}: {}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        inputs.push(object);
    }
    sources(&dir, "c", &mut inputs);
    build_once(board, &format!("{name}.elf"), inputs, &[], false)
}

/// The mnn self-check firmware (kernels/tests/selfcheck) for BOARD, with the kernel library.
pub fn selfcheck_firmware(board: &str) -> PathBuf {
    let dir = root().join("kernels/tests/selfcheck");
    let sources = vec![dir.join("selfcheck_main.c"), dir.join("mnn_selfcheck.c")];
    build_once(board, "selfcheck.elf", sources, &[], true)
}

fn build_once(
    board: &str,
    file: &str,
    sources: Vec<PathBuf>,
    defines: &[&str],
    kernels: bool,
) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<bool>>>>> = OnceLock::new();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("firmware")
        .join(board)
        .join(file);
    let slot = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(out.clone())
        .or_default()
        .clone();
    let mut done = slot.lock().unwrap();
    if !*done {
        let board = Board::resolve(board).unwrap();
        let mut build = mcusim_toolchain::Build::new(&board, sources, out.clone());
        build.defines = defines.iter().map(|d| d.to_string()).collect();
        build.kernels = kernels;
        if kernels {
            build.extra_args = vec![
                "-I".into(),
                root().join("kernels/tests/selfcheck").display().to_string(),
            ];
        }
        build
            .run()
            .unwrap_or_else(|e| panic!("building {file} for {}: {e}", board.name));
        *done = true;
    }
    out
}

/// What a run of the binary gave.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: &Output) -> Run {
        Run {
            status: out.status.code().expect("not killed by a signal"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Run `mcusim` with these arguments.
pub fn mcusim<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Run::from(
        &Command::new(env!("CARGO_BIN_EXE_mcusim"))
            .args(args)
            .output()
            .expect("the mcusim binary runs"),
    )
}

/// `mcusim profile INPUT --board BOARD -q --json OUT` (a model or an ELF): the run, which must
/// succeed, and the profile, checked against its schema.
pub fn profile_on(input: &Path, board: &str, out: &Path) -> (Run, serde_json::Value) {
    let run = mcusim([
        "profile".as_ref(),
        input.as_os_str(),
        "--board".as_ref(),
        board.as_ref(),
        "-q".as_ref(),
        "--json".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(
        run.status,
        0,
        "{} on {board}: {}",
        input.display(),
        run.stderr
    );
    let p = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_valid("profile", &p);
    (run, p)
}

/// `mcusim run --board BOARD ELF --json FILE EXTRA...`, returning the run and the report.
pub fn run_json(board: &str, elf: &Path, extra: &[&str]) -> (Run, serde_json::Value) {
    let json = elf.with_extension(format!("{}.json", extra.join("_").replace(['-', ' '], "")));
    let _ = std::fs::remove_file(&json);
    let mut args: Vec<std::ffi::OsString> = vec![
        "run".into(),
        "--board".into(),
        board.into(),
        elf.into(),
        "--json".into(),
        json.clone().into(),
    ];
    args.extend(extra.iter().map(Into::into));
    let run = mcusim(&args);
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {}", run.stderr));
    let report = serde_json::from_str(&text).expect("valid JSON");
    assert_valid("run", &report);
    (run, report)
}

/// The address range of a function in an ELF (or of its clone, `name.isra.0` and the like).
pub fn function_range(elf: &Path, name: &str) -> std::ops::Range<u64> {
    let fw = mcusim_sim::Firmware::load(elf).unwrap();
    let clone = format!("{name}.");
    let sym = fw
        .symbols
        .iter()
        .find(|s| s.is_function && (s.name == name || s.name.starts_with(&clone)))
        .unwrap_or_else(|| panic!("{name} in {}", elf.display()));
    u64::from(sym.addr)..u64::from(sym.addr + sym.size)
}

/// Runs `f` with the validator of the committed JSON Schema of a report kind (`run`,
/// `profile`, `diff`, `check`: `schema/mcusim-KIND-1.schema.json`), compiled once.
fn with_validator<R>(kind: &str, f: impl FnOnce(&jsonschema::Validator) -> R) -> R {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static VALIDATORS: OnceLock<Mutex<HashMap<String, jsonschema::Validator>>> = OnceLock::new();
    let mut validators = VALIDATORS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let validator = validators.entry(kind.to_owned()).or_insert_with(|| {
        let path = root().join(format!("schema/mcusim-{kind}-1.schema.json"));
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        jsonschema::validator_for(&schema).expect("a valid draft 2020-12 schema")
    });
    f(validator)
}

/// Panics unless `report` validates against the committed JSON Schema of its kind.
pub fn assert_valid(kind: &str, report: &serde_json::Value) {
    let errors: Vec<String> = with_validator(kind, |v| {
        v.iter_errors(report)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect()
    });
    assert!(
        errors.is_empty(),
        "the {kind} report breaks its schema: {errors:#?}"
    );
}

/// Whether `report` validates against the committed JSON Schema of its kind.
pub fn is_valid(kind: &str, report: &serde_json::Value) -> bool {
    with_validator(kind, |v| v.is_valid(report))
}

/// Runs the binary as [`mcusim`] does, but bounded: killed (and the test failed) if it runs
/// longer than `seconds` or its resident memory passes `mib` MiB (read from /proc while it
/// runs, so a runaway allocation is caught before it exhausts the machine).
pub fn mcusim_bounded<I, S>(args: I, seconds: u64, mib: u64) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcusim"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mcusim binary runs");
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let start = Instant::now();
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
        peak_kib = peak_kib.max(rss);
        let (late, big) = (
            start.elapsed() > Duration::from_secs(seconds),
            rss > mib * 1024,
        );
        if late || big {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "mcusim {args:?}: {} (peak {} MiB after {:.1} s)",
                if late {
                    "did not finish"
                } else {
                    "used too much memory"
                },
                peak_kib / 1024,
                start.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    Run {
        status: status.code().expect("not killed by a signal"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
