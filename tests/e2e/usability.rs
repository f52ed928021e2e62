//! What a new user runs into first: the bundled example passes as users run it, config typos
//! are named with their place, the same model gives the same firmware whichever command builds
//! it and from wherever, and flags do what they say.

use crate::support::mcusim;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("usability")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `mcusim` started in `dir`.
fn mcusim_in(dir: &Path, args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcusim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn profile_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_bundled_example_config_passes_as_users_run_it() {
    // From the repository root, as the README says, and from its own folder.
    for (dir, config) in [
        (root(), "examples/mcusim.toml"),
        (root().join("examples"), "mcusim.toml"),
    ] {
        let (status, stdout, stderr) =
            mcusim_in(&dir, &["check".as_ref(), "-c".as_ref(), config.as_ref()]);
        assert_eq!(status, 0, "{config}: {stdout}{stderr}");
        assert!(!stdout.contains("FAIL"), "{stdout}");
    }
}

#[test]
fn one_model_gives_one_firmware_whichever_command_builds_it() {
    let dir = out_dir("hash");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let input = root().join("examples/models/kws_ds_cnn.input_0.npy");
    // profile, from the repository root.
    let profiled = dir.join("profile.json");
    let run = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--input".as_ref(),
        input.as_os_str(),
        "-q".as_ref(),
        "--json".as_ref(),
        profiled.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    // check, from the folder of its config.
    let config = dir.join("mcusim.toml");
    std::fs::write(
        &config,
        format!(
            "[[model]]\npath = {:?}\nname = \"kws\"\ninput = [{:?}]\n",
            model.display().to_string(),
            input.display().to_string()
        ),
    )
    .unwrap();
    let reports = dir.join("reports");
    let (status, out, err) = mcusim_in(
        &dir,
        &[
            "check".as_ref(),
            "-q".as_ref(),
            "--reports".as_ref(),
            reports.as_os_str(),
        ],
    );
    assert_eq!(status, 0, "{out}{err}");
    // compile to another name, from a third folder, then profile that ELF.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (status, _, err) = mcusim_in(
        &elsewhere,
        &[
            "compile".as_ref(),
            model.as_os_str(),
            "-o".as_ref(),
            "fw.elf".as_ref(),
        ],
    );
    assert_eq!(status, 0, "{err}");
    // Nothing but the ELF is left beside it.
    let left: Vec<_> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["fw.elf"], "compile left {left:?}");
    let compiled = dir.join("compiled.json");
    let run = mcusim([
        "profile".as_ref(),
        elsewhere.join("fw.elf").as_os_str(),
        "-q".as_ref(),
        "--json".as_ref(),
        compiled.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let hashes: Vec<serde_json::Value> =
        [profiled, reports.join("kws@nucleo-l4r5zi.json"), compiled]
            .iter()
            .map(|p| profile_json(p)["firmware"]["hash"].clone())
            .collect();
    assert_eq!(hashes[0], hashes[1], "profile and check");
    assert_eq!(hashes[0], hashes[2], "profile and compile");
}

#[test]
fn misspelled_keys_are_named_with_their_place() {
    let dir = out_dir("typos");
    let model = root().join("examples/models/autoencoder.tflite");
    for (line, key) in [
        ("budgt = { max_cycles = 5 }", "budgt"),
        ("budget = { max_latncy_ms = 70 }", "max_latncy_ms"),
    ] {
        let config = dir.join("mcusim.toml");
        std::fs::write(
            &config,
            format!(
                "[[model]]\npath = {:?}\n{line}\n",
                model.display().to_string()
            ),
        )
        .unwrap();
        let run = mcusim(["check".as_ref(), "-c".as_ref(), config.as_os_str()]);
        assert_eq!(run.status, 2, "{}", run.stderr);
        let error = run.stderr.trim_end();
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(error.contains("mcusim.toml:3:"), "{error}");
        assert!(
            error.contains(&format!("unknown key `{key}` (expected one of `")),
            "{error}"
        );
    }
    // A board file too.
    let text = mcusim_boards::Board::builtin("nucleo-l4r5zi")
        .unwrap()
        .unwrap()
        .text
        .replacen("clock_hz = ", "clock_hzz = ", 1);
    let board = dir.join("typo.toml");
    std::fs::write(&board, text).unwrap();
    let run = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        board.as_os_str(),
    ]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("typo.toml:"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(": unknown key `clock_hzz` (expected one of `name`"),
        "{}",
        run.stderr
    );
}

#[test]
fn profile_quiet_prints_the_layer_table_only() {
    let model = root().join("examples/models/autoencoder.tflite");
    let run = mcusim(["profile".as_ref(), model.as_os_str(), "-q".as_ref()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let last = run.stdout.lines().last().unwrap();
    assert!(last.trim_start().starts_with("total"), "{}", run.stdout);
    for line in ["memory:", "hot functions:", "energy:"] {
        assert!(!run.stdout.contains(line), "{}", run.stdout);
    }
}

/// The runtime for a user's own firmware, with the M7 board's ITCM and DTCM placement: written
/// by `mcusim runtime`, built by its Makefile, run.
#[test]
fn the_runtime_builds_a_users_own_firmware_with_tcm_placement() {
    let dir = out_dir("runtime");
    let run = mcusim([
        "runtime".as_ref(),
        dir.as_os_str(),
        "--board".as_ref(),
        "stm32f746g-disco".as_ref(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    std::fs::copy(root().join("tests/firmware/tcm.c"), dir.join("main.c")).unwrap();
    let make = Command::new("make").current_dir(&dir).output().unwrap();
    assert!(
        make.status.success(),
        "{}",
        String::from_utf8_lossy(&make.stderr)
    );
    let elf = dir.join("firmware.elf");
    let run = mcusim([
        "run".as_ref(),
        "--board".as_ref(),
        "stm32f746g-disco".as_ref(),
        elf.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    // "flash F itcm I at 0x1, table at 0x20000000": the function runs from the ITCM at 0, no
    // slower than from flash, the table sits in the DTCM.
    let words: Vec<&str> = run.stdout.split_whitespace().collect();
    let num = |key: &str| -> u64 {
        let at = words.iter().position(|w| *w == key).unwrap();
        words[at + 1].parse().unwrap()
    };
    assert!(num("itcm") <= num("flash"), "{}", run.stdout);
    assert!(run.stdout.contains("at 0x1,"), "{}", run.stdout);
    assert!(run.stdout.contains("table at 0x20000000"), "{}", run.stdout);
    let fw = mcusim_sim::Firmware::load(&elf).unwrap();
    let itcm = fw.symbol("in_itcm").unwrap();
    assert!(itcm.addr < 0x4000, "{itcm:?}");
}

/// What-if knobs change the board for one run, and the report says so.
#[test]
fn what_if_knobs_change_the_board_and_are_recorded() {
    let dir = out_dir("what-if");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let profile = |tag: &str, extra: &[&str]| -> serde_json::Value {
        let json = dir.join(format!("{tag}.json"));
        let mut args: Vec<std::ffi::OsString> = vec![
            "profile".into(),
            model.clone().into(),
            "-q".into(),
            "--json".into(),
            json.clone().into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let run = mcusim(&args);
        assert_eq!(run.status, 0, "{tag}: {}", run.stderr);
        profile_json(&json)
    };
    let base = profile("base", &[]);
    let slow = profile("80mhz", &["--clock-mhz", "80"]);
    let zero = profile("0ws", &["--flash-wait-states", "0"]);
    let off = profile("off", &["--accelerator", "off"]);
    let cycles = |p: &serde_json::Value| p["totals"]["cycles"].as_f64().unwrap();
    let memory = |p: &serde_json::Value| p["totals"]["breakdown"]["memory"].as_u64().unwrap();
    // The clock alone: the same cycles, in more time.
    assert_eq!(cycles(&slow), cycles(&base));
    let time = |p: &serde_json::Value| p["totals"]["time_us"].as_f64().unwrap();
    assert!((time(&slow) / time(&base) - 1.5).abs() < 1e-9);
    assert_eq!(memory(&zero), 0, "no wait states, no waiting");
    assert!(
        memory(&off) > 3 * memory(&base),
        "{} vs {}",
        memory(&off),
        memory(&base)
    );
    for (p, flag) in [
        (&slow, "--clock-mhz=80"),
        (&zero, "--flash-wait-states=0"),
        (&off, "--accelerator=off"),
    ] {
        assert!(
            p["arguments"].as_array().unwrap().iter().any(|a| a == flag),
            "{}",
            p["arguments"]
        );
        assert_ne!(p["board"]["hash"], base["board"]["hash"]);
    }
    let bad = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--clock-mhz".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(bad.status, 2);
    assert!(bad.stderr.contains("--clock-mhz 0"), "{}", bad.stderr);
}
