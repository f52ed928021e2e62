//! Energy is never a silent zero: every built-in board estimates it, a board file without
//! energy coefficients reports it as unknown everywhere, and an energy budget on such a board
//! is a configuration error.

use crate::support::{boards, mcusim, profile_on};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("energy")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kws() -> PathBuf {
    root().join("examples/models/kws_ds_cnn.tflite")
}

#[test]
fn every_built_in_board_estimates_the_energy_of_kws() {
    let dir = out_dir("builtin");
    for board in boards() {
        let (_, p) = profile_on(&kws(), &board, &dir.join(format!("{board}.json")));
        let total = p["totals"]["energy_uj"].as_f64().unwrap_or(0.0);
        // Hundreds of uJ on a CPU; a few on the NPU of corstone-300.
        assert!(total > 1.0, "{board}: {total} uJ");
        let layers: f64 = p["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["energy_uj"].as_f64().unwrap())
            .sum();
        assert!(
            layers > 0.0 && layers < total,
            "{board}: layers {layers} of {total}"
        );
        // Average power within what a microcontroller draws (1 mW to 1 W).
        let mw = total / p["totals"]["time_us"].as_f64().unwrap() * 1e3;
        assert!((1.0..1000.0).contains(&mw), "{board}: {mw} mW");
    }
}

/// A copy of a built-in board without its `[energy]` section.
fn board_without_energy(dir: &Path) -> PathBuf {
    let text = mcusim_boards::Board::builtin("nucleo-l4r5zi")
        .unwrap()
        .unwrap()
        .text;
    let cut = text
        .find("\n[energy]")
        .expect("the board has energy coefficients");
    let path = dir.join("no-energy.toml");
    std::fs::write(&path, &text[..cut]).unwrap();
    path
}

#[test]
fn a_board_without_coefficients_reports_energy_as_unknown() {
    let dir = out_dir("unknown");
    let board = board_without_energy(&dir);
    let json = dir.join("p.json");
    let csv = dir.join("p.csv");
    let run = mcusim([
        "profile".as_ref(),
        kws().as_os_str(),
        "--board".as_ref(),
        board.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
        "--csv".as_ref(),
        csv.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::support::assert_valid("profile", &p);
    assert!(p["totals"]["energy_uj"].is_null(), "{}", p["totals"]);
    assert!(p["totals"]["energy"].is_null());
    assert!(p["layers"][0]["energy_uj"].is_null());
    // The table shows '-', the summary says why.
    let total = run.stdout.lines().find(|l| l.contains(" total ")).unwrap();
    assert!(total.trim_end().ends_with('-'), "{total}");
    assert!(
        run.stdout
            .contains("energy: unknown: the board file gives no energy coefficients"),
        "{}",
        run.stdout
    );
    // The CSV leaves the field empty; diff and tui read the profile back.
    let row = std::fs::read_to_string(&csv).unwrap();
    assert!(row.lines().nth(1).unwrap().ends_with(','), "{row}");
    let same = mcusim(["diff".as_ref(), json.as_os_str(), json.as_os_str()]);
    assert_eq!(same.status, 0, "{}", same.stderr);
}

#[test]
fn an_energy_budget_on_a_board_without_coefficients_is_an_error() {
    let dir = out_dir("budget");
    let board = board_without_energy(&dir);
    let config = dir.join("mcusim.toml");
    std::fs::write(
        &config,
        format!(
            "board = {:?}\n[[model]]\npath = {:?}\nbudget = {{ max_energy_uj = 3000 }}\n",
            board.display().to_string(),
            kws().display().to_string()
        ),
    )
    .unwrap();
    let run = mcusim([
        "check".as_ref(),
        "-c".as_ref(),
        config.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mcusim.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("max_energy_uj"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}
