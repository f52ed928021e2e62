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
