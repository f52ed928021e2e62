//! `mcusim compile` and `mcusim profile` end to end: the MLPerf Tiny models in `../shared`
//! compiled for every built-in board, run on every recorded input, output bytes equal to
//! TensorFlow Lite Micro's; held-out models the same; bad models refused; `--emit-c` builds
//! with make to the same firmware behaviour.

use crate::support::{mcusim, run_json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> Option<PathBuf> {
    let dir = root().join("../shared");
    if dir.join("models").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (the shared models and vectors)",
            dir.display()
        );
        None
    }
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("models")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The data bytes of an int8 `.npy` (after its header).
fn npy_data(path: &Path) -> Vec<i8> {
    mcusim_compiler::npy::read(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .data
}

fn compile(model: &Path, board: &str, elf: &Path) {
    compile_with(model, board, &[], elf);
}

fn compile_with(model: &Path, board: &str, extra: &[&str], elf: &Path) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "compile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        board.as_ref(),
        "-o".as_ref(),
        elf.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let run = mcusim(args);
    assert_eq!(
        run.status,
        0,
        "compile {} for {board}: {}",
        model.display(),
        run.stderr
    );
}

/// `mcusim profile INPUT -q --json OUT`, which must succeed; the profile, checked against its
/// schema.
fn profile_json(input: &Path, out: &Path) -> serde_json::Value {
    crate::support::profile_on(input, mcusim_boards::DEFAULT_BOARD, out).1
}

/// Profiles `elf` on `inputs`, returns the output bytes.
fn profile(elf: &Path, board: &str, inputs: &[PathBuf], output: &Path) -> Vec<i8> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "profile".into(),
        elf.into(),
        "--board".into(),
        board.into(),
        "-q".into(),
    ];
    for i in inputs {
        args.push("--input".into());
        args.push(i.into());
    }
    args.push("--output".into());
    args.push(output.into());
    let run = mcusim(&args);
    assert_eq!(
        run.status,
        0,
        "profile {} on {board}: {}{}",
        elf.display(),
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("total"),
        "a layer table: {}",
        run.stdout
    );
    npy_data(output)
}

fn shared_models_on(board: &str) {
    shared_models_with(board, &[]);
}

/// The shared models compiled for `board` with `extra` compile flags give TensorFlow Lite
/// Micro's bytes on every input.
fn shared_models_with(board: &str, extra: &[&str]) {
    let Some(shared) = shared() else { return };
    for name in ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"] {
        let dir = out_dir(&format!("{board}-{name}{}", extra.join("")));
        let elf = dir.join("fw.elf");
        compile_with(
            &shared.join("models").join(format!("{name}.tflite")),
            board,
            extra,
            &elf,
        );
        for n in 0..4 {
            let vectors = shared.join("vectors").join(name);
            let got = profile(
                &elf,
                board,
                &[vectors.join(format!("input_{n}.npy"))],
                &dir.join(format!("output_{n}.npy")),
            );
            let want = npy_data(&vectors.join(format!("output_{n}.npy")));
            assert_eq!(got, want, "{name} input {n} on {board}");
        }
    }
}

#[test]
fn mlperf_tiny_models_match_tflite_micro_on_nucleo_l4r5zi() {
    shared_models_on("nucleo-l4r5zi");
}

#[test]
fn mlperf_tiny_models_match_tflite_micro_on_stm32f746g_disco() {
    shared_models_on("stm32f746g-disco");
}

#[test]
fn mlperf_tiny_models_match_tflite_micro_on_nucleo_u575zi() {
    shared_models_on("nucleo-u575zi");
}

#[test]
fn mlperf_tiny_models_match_tflite_micro_on_nucleo_g0b1re() {
    shared_models_on("nucleo-g0b1re");
}

#[test]
fn mlperf_tiny_models_match_tflite_micro_on_mps2_an386() {
    shared_models_on("mps2-an386");
}

/// On the NPU board, with the supported layers on the NPU and with every layer on the CPU:
/// the same bytes, TensorFlow Lite Micro's.
#[test]
fn mlperf_tiny_models_match_tflite_micro_on_corstone_300_with_and_without_the_npu() {
    shared_models_on("corstone-300");
    shared_models_with("corstone-300", &["--cpu-only"]);
}

#[test]
fn heldout_models_match_tflite_micro_in_firmware() {
    let data = root().join("kernels/tests/heldout/data");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for (i, case) in cases.iter().enumerate() {
        // Alternate the two kernel paths: DSP (Cortex-M4F) and portable (Cortex-M0+).
        let board = if i % 2 == 0 {
            "nucleo-l4r5zi"
        } else {
            "nucleo-g0b1re"
        };
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = out_dir(&format!("heldout-{name}"));
        let elf = dir.join("fw.elf");
        compile(&case.join("model.tflite"), board, &elf);
        let mut inputs: Vec<PathBuf> = (0..8)
            .map(|k| case.join(format!("input_{k}.npy")))
            .filter(|p| p.exists())
            .collect();
        inputs.sort();
        // ELF inputs are one buffer: several model inputs go in one file, concatenated.
        let input = if inputs.len() == 1 {
            inputs[0].clone()
        } else {
            let all: Vec<u8> = inputs
                .iter()
                .flat_map(|p| npy_data(p))
                .map(|v| v as u8)
                .collect();
            let bin = dir.join("inputs.bin");
            std::fs::write(&bin, all).unwrap();
            bin
        };
        let got = profile(&elf, board, &[input], &dir.join("output.npy"));
        assert_eq!(
            got,
            npy_data(&case.join("output_0.npy")),
            "{name} on {board}"
        );
    }
}

#[test]
fn the_bundled_example_models_match_tflite_micro() {
    for name in ["kws_ds_cnn", "mobilenet_tiny", "autoencoder"] {
        let dir = root().join("examples/models");
        let model = dir.join(format!("{name}.tflite"));
        let out = out_dir(&format!("example-{name}")).join("output.npy");
        let got = profile(
            &model,
            "nucleo-l4r5zi",
            &[dir.join(format!("{name}.input_0.npy"))],
            &out,
        );
        assert_eq!(
            got,
            npy_data(&dir.join(format!("{name}.output_0.npy"))),
            "{name}"
        );
    }
}

#[test]
fn weights_in_sram_and_reference_kernels_compute_the_same_bytes() {
    let dir = root().join("examples/models");
    let model = dir.join("mobilenet_tiny.tflite");
    let input = dir.join("mobilenet_tiny.input_0.npy");
    let want = npy_data(&dir.join("mobilenet_tiny.output_0.npy"));
    for (flag, name) in [
        ("--weights-in-sram", "sram"),
        ("--reference-kernels", "ref"),
    ] {
        let out = out_dir(&format!("flags-{name}"));
        let output = out.join("out.npy");
        let run = mcusim([
            "profile".as_ref(),
            model.as_os_str(),
            flag.as_ref(),
            "-q".as_ref(),
            "--input".as_ref(),
            input.as_os_str(),
            "--output".as_ref(),
            output.as_os_str(),
        ]);
        assert_eq!(run.status, 0, "{flag}: {}", run.stderr);
        assert_eq!(npy_data(&output), want, "{flag}");
    }
}

#[test]
fn a_model_profiles_straight_from_tflite_with_a_layer_table() {
    let model = root().join("kernels/tests/heldout/data/conv_pool_reshape_fc_softmax/model.tflite");
    let run = mcusim(["profile".as_ref(), model.as_os_str()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    for op in [
        "CONV_2D",
        "MAX_POOL_2D",
        "RESHAPE",
        "FULLY_CONNECTED",
        "SOFTMAX",
        "(before layers)",
        "(between layers)",
        "(after layers)",
        "total",
    ] {
        assert!(run.stdout.contains(op), "{op} in\n{}", run.stdout);
    }
    assert!(
        run.stderr.contains("building for nucleo-l4r5zi"),
        "{}",
        run.stderr
    );
    // The same inputs give the same table, byte for byte.
    let again = mcusim(["profile".as_ref(), model.as_os_str()]);
    assert_eq!(run.stdout, again.stdout);
}

/// `profile --board a,b`: one table with a column group per board, the JSON holding each
/// board's profile, equal to the one `profile --board a` writes alone; exports once per board.
#[test]
fn boards_side_by_side_in_one_table_and_one_json() {
    let dir = out_dir("side-by-side");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let (json, csv) = (dir.join("both.json"), dir.join("both.csv"));
    let run = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        "nucleo-l4r5zi,nucleo-g0b1re".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
        "--csv".as_ref(),
        csv.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].contains("nucleo-l4r5zi (120 MHz)") && lines[0].contains("nucleo-g0b1re (64 MHz)"),
        "{}",
        run.stdout
    );
    assert_eq!(lines[1].matches("cycles").count(), 2, "{}", lines[1]);
    let conv = lines.iter().find(|l| l.contains("conv_1/out")).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::support::assert_valid("comparison", &doc);
    let boards = doc["boards"].as_array().unwrap();
    assert_eq!(boards.len(), 2);
    for (i, board) in ["nucleo-l4r5zi", "nucleo-g0b1re"].iter().enumerate() {
        assert_eq!(boards[i]["board"], *board);
        // Each board's profile is the one a run on that board alone gives, figure for figure.
        let alone = dir.join(format!("{board}.json"));
        let (_, single) = crate::support::profile_on(&model, board, &alone);
        assert_eq!(boards[i]["profile"], single, "{board}");
        // Its layer cycles are in the table's row.
        let cycles = single["layers"][0]["cycles"].as_u64().unwrap();
        let grouped = mcusim_traces::group(cycles);
        assert!(conv.contains(&grouped), "{grouped} in {conv}");
        assert!(
            dir.join(format!("both.{board}.csv")).is_file(),
            "{board} csv"
        );
    }
    // The Cortex-M0+ is the slower: its speed against the first is below 1.
    let speed = lines.iter().find(|l| l.contains("speed vs first")).unwrap();
    let ratios: Vec<f64> = speed
        .split_whitespace()
        .filter_map(|w| w.strip_suffix('x')?.parse().ok())
        .collect();
    assert!(
        ratios.len() == 2 && ratios[0] == 1.0 && ratios[1] < 0.5,
        "{speed}"
    );

    // A board that does not exist: status 2 before anything runs, the name given.
    let bad = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        "nucleo-l4r5zi,no-such-board".as_ref(),
    ]);
    assert_eq!(bad.status, 2);
    assert!(bad.stderr.contains("no-such-board"), "{}", bad.stderr);
    assert_eq!(bad.stderr.trim_end().lines().count(), 1, "{}", bad.stderr);
}

/// The arena plan as data and as a picture: every buffer's offset, size and lifetime, no two
/// live at once overlapping, the buffers live at the peak summing to it (and to the lower
/// bound), the chart naming them; per layer its shapes, window, weights and time. A firmware
/// built earlier has no plan (its arena is not known to follow one).
#[test]
fn the_arena_plan_shows_which_tensors_set_the_peak() {
    let dir = out_dir("plan");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let json = dir.join("p.json");
    let plots = dir.join("plots");
    let run = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "-q".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
        "--plots".as_ref(),
        plots.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::support::assert_valid("profile", &p);
    let plan = &p["memory"]["plan"];
    let buffers = plan["buffers"].as_array().unwrap();
    let u = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(u(&plan["arena_bytes"]), u(&p["memory"]["arena_bytes"]));
    for (i, a) in buffers.iter().enumerate() {
        assert!(
            u(&a["offset"]) + u(&a["size"]) <= u(&plan["arena_bytes"]),
            "{a}"
        );
        for b in &buffers[i + 1..] {
            let live = u(&a["first_layer"]) <= u(&b["last_layer"])
                && u(&b["first_layer"]) <= u(&a["last_layer"]);
            let apart = u(&a["offset"]) + u(&a["size"]) <= u(&b["offset"])
                || u(&b["offset"]) + u(&b["size"]) <= u(&a["offset"]);
            assert!(!live || apart, "{a} and {b} overlap while both live");
        }
    }
    let peak_layer = u(&plan["peak_layer"]);
    let at_peak: Vec<&serde_json::Value> =
        buffers.iter().filter(|b| b["at_peak"] == true).collect();
    for b in buffers {
        let live = u(&b["first_layer"]) <= peak_layer && peak_layer <= u(&b["last_layer"]);
        assert_eq!(b["at_peak"] == true, live, "{b}");
    }
    let sum: u64 = at_peak.iter().map(|b| u(&b["size"])).sum();
    assert_eq!(sum, u(&plan["peak_bytes"]));
    assert_eq!(sum, u(&plan["lower_bound"]));
    // The chart names the peak's buffers.
    let svg = std::fs::read_to_string(plots.join("arena_plan.svg")).unwrap();
    for b in &at_peak {
        let name = b["name"].as_str().unwrap();
        assert!(svg.contains(name), "{name} not in the chart");
    }
    assert!(plots.join("arena_plan.png").is_file());
    // Per layer: the first convolution's shapes, window and weights, and its time.
    let conv = &p["layers"][0];
    let shape = &conv["shape"];
    assert_eq!(shape["kernel"], serde_json::json!([10, 4]), "{shape}");
    assert_eq!(shape["stride"], serde_json::json!([2, 2]), "{shape}");
    assert_eq!(
        shape["outputs"][0],
        serde_json::json!([1, 25, 5, 64]),
        "{shape}"
    );
    assert!(u(&shape["weights_bytes"]) >= 2560, "{shape}");
    let us = conv["time_us"].as_f64().unwrap();
    let want = u(&conv["cycles"]) as f64 / 120.0;
    assert!((us - want).abs() < 1e-6, "{us} us for {want}");

    // A firmware built earlier: shapes from --model are known, the plan is not.
    let elf = dir.join("kws.elf");
    compile(&model, "nucleo-l4r5zi", &elf);
    let (_, q) = crate::support::profile_on(&elf, "nucleo-l4r5zi", &dir.join("q.json"));
    assert!(q["memory"].get("plan").is_none(), "{}", q["memory"]);
}

#[test]
fn bad_models_are_refused_with_one_line_naming_the_file() {
    let dir = out_dir("bad");
    let garbage = dir.join("garbage.tflite");
    std::fs::write(&garbage, b"this is not a model").unwrap();
    for cmd in ["compile", "profile"] {
        let run = mcusim([
            cmd.as_ref(),
            garbage.as_os_str(),
            "-o".as_ref(),
            dir.join("x.elf").as_os_str(),
        ]);
        if cmd == "profile" {
            // profile takes no -o: clap's usage error is status 2 as well.
            assert_eq!(run.status, 2);
            continue;
        }
        assert_eq!(run.status, 2, "{}", run.stderr);
        assert!(run.stderr.contains("garbage.tflite"), "{}", run.stderr);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }
    let run = mcusim(["profile".as_ref(), garbage.as_os_str()]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("garbage.tflite"), "{}", run.stderr);
    // A truncated model.
    let model = std::fs::read(root().join("kernels/tests/heldout/data/pad/model.tflite")).unwrap();
    let cut = dir.join("cut.tflite");
    std::fs::write(&cut, &model[..model.len() / 2]).unwrap();
    let run = mcusim([
        "compile".as_ref(),
        cut.as_os_str(),
        "-o".as_ref(),
        dir.join("cut.elf").as_os_str(),
    ]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cut.tflite"), "{}", run.stderr);
    // The wrong input size.
    let model = root().join("kernels/tests/heldout/data/pad/model.tflite");
    let small = dir.join("small.bin");
    std::fs::write(&small, [1u8, 2, 3]).unwrap();
    let run = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--input".as_ref(),
        small.as_os_str(),
    ]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("small.bin") && run.stderr.contains("3 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn emit_c_builds_with_make_into_the_same_firmware_behaviour() {
    if mcusim_toolchain::which("make").is_none() {
        eprintln!("skipped: make is not installed");
        return;
    }
    let model = root().join("kernels/tests/heldout/data/conv_same_stride2_relu6/model.tflite");
    let dir = out_dir("emit");
    let src = dir.join("src");
    let _ = std::fs::remove_dir_all(&src);
    let run = mcusim([
        "compile".as_ref(),
        model.as_os_str(),
        "--emit-c".as_ref(),
        src.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let make = std::process::Command::new("make")
        .arg("-s")
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(
        make.status.success(),
        "{}",
        String::from_utf8_lossy(&make.stderr)
    );
    let input = model.with_file_name("input_0.npy");
    let got = profile(
        &src.join("firmware.elf"),
        "nucleo-l4r5zi",
        &[input],
        &dir.join("out.npy"),
    );
    assert_eq!(got, npy_data(&model.with_file_name("output_0.npy")));
}

#[test]
fn run_takes_input_and_output_for_model_firmware() {
    let dir = root().join("examples/models");
    let out = out_dir("run-io");
    let elf = out.join("ae.elf");
    compile(&dir.join("autoencoder.tflite"), "nucleo-u575zi", &elf);
    let output = out.join("out.npy");
    let run = mcusim([
        "run".as_ref(),
        elf.as_os_str(),
        "--board".as_ref(),
        "nucleo-u575zi".as_ref(),
        "-q".as_ref(),
        "--input".as_ref(),
        dir.join("autoencoder.input_0.npy").as_os_str(),
        "--output".as_ref(),
        output.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        npy_data(&output),
        npy_data(&dir.join("autoencoder.output_0.npy"))
    );
    // Not model firmware: a clear refusal.
    let hello = crate::support::firmware("nucleo-u575zi", "hello", &[]);
    let run = mcusim([
        "run".as_ref(),
        hello.as_os_str(),
        "--board".as_ref(),
        "nucleo-u575zi".as_ref(),
        "--input".as_ref(),
        dir.join("autoencoder.input_0.npy").as_os_str(),
    ]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .contains("has no `mcusim_model_input_data` to write --input into"),
        "{}",
        run.stderr
    );
}

#[test]
fn without_the_cross_compiler_one_line_names_the_packages() {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcusim"))
        .args([
            "compile".as_ref(),
            model.as_os_str(),
            "-o".as_ref(),
            out_dir("nogcc").join("x.elf").as_os_str(),
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or("");
    assert!(
        last.contains("gcc-arm-none-eabi") && last.contains("libnewlib-arm-none-eabi"),
        "{stderr}"
    );
}

#[test]
fn random_graphs_compiled_and_simulated_equal_the_reference_interpreter() {
    use mcusim_compiler::{interp, synth, tflite::Model, tflite::writer};
    let boards = [
        "nucleo-l4r5zi",
        "nucleo-g0b1re",
        "stm32f746g-disco",
        "nucleo-u575zi",
        "mps2-an386",
    ];
    for seed in 0..10u64 {
        let board = boards[seed as usize % boards.len()];
        let dir = out_dir(&format!("synthetic-{seed}"));
        let bytes = writer::write(&synth::random_model(seed));
        let path = dir.join("model.tflite");
        std::fs::write(&path, &bytes).unwrap();
        let model = Model::parse(&bytes, "model.tflite").unwrap();
        let layers = model.lower().unwrap();
        let input = synth::random_input(seed, model.tensors[model.inputs[0]].elements());
        let want = interp::run(&model, &layers, std::slice::from_ref(&input)).unwrap();
        let input_file = dir.join("input.bin");
        std::fs::write(
            &input_file,
            input.iter().map(|&v| v as u8).collect::<Vec<u8>>(),
        )
        .unwrap();
        let output = dir.join("output.npy");
        let run = mcusim([
            "profile".as_ref(),
            path.as_os_str(),
            "--board".as_ref(),
            board.as_ref(),
            "-q".as_ref(),
            "--input".as_ref(),
            input_file.as_os_str(),
            "--output".as_ref(),
            output.as_os_str(),
        ]);
        assert_eq!(run.status, 0, "seed {seed} on {board}: {}", run.stderr);
        assert_eq!(npy_data(&output), want[0], "seed {seed} on {board}");
    }
}

#[test]
fn profile_exports_json_csv_perfetto_and_folded_deterministically() {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let dir = out_dir("exports");
    let run_once = |tag: &str| -> Vec<String> {
        let files: Vec<PathBuf> = ["json", "csv", "trace.json", "folded"]
            .iter()
            .map(|ext| dir.join(format!("{tag}.{ext}")))
            .collect();
        let plots = dir.join(format!("{tag}-plots"));
        let run = mcusim([
            "profile".as_ref(),
            model.as_os_str(),
            "-q".as_ref(),
            "--json".as_ref(),
            files[0].as_os_str(),
            "--csv".as_ref(),
            files[1].as_os_str(),
            "--perfetto".as_ref(),
            files[2].as_os_str(),
            "--folded".as_ref(),
            files[3].as_os_str(),
            "--plots".as_ref(),
            plots.as_os_str(),
        ]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let svgs = [
            "cycles_per_layer",
            "cycles_per_mac",
            "energy_per_layer",
            "sram_timeline",
            "roofline",
        ]
        .map(|name| plots.join(format!("{name}.svg")));
        files
            .iter()
            .chain(svgs.iter())
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    };
    let first = run_once("a");
    assert_eq!(first, run_once("b"), "the same run gives the same bytes");
    for svg in &first[4..] {
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    }
    // Each chart as PNG too: an 800-pixel-wide image, the same bytes from both runs.
    for name in [
        "cycles_per_layer",
        "cycles_per_mac",
        "energy_per_layer",
        "sram_timeline",
        "roofline",
    ] {
        let png = |tag: &str| std::fs::read(dir.join(format!("{tag}-plots/{name}.png"))).unwrap();
        let a = png("a");
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        assert_eq!(
            u32::from_be_bytes([a[16], a[17], a[18], a[19]]),
            800,
            "{name}"
        );
        assert!(a == png("b"), "{name}.png differs between runs");
    }
    let [json, csv, trace, folded] = <[String; 4]>::try_from(first[..4].to_vec()).unwrap();
    let p: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(p["schema"], "mcusim-profile/1");
    let layers = p["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 13);
    let total = p["totals"]["cycles"].as_u64().unwrap();
    let in_layers: u64 = layers.iter().map(|l| l["cycles"].as_u64().unwrap()).sum();
    assert_eq!(
        in_layers + p["totals"]["outside_layers_cycles"].as_u64().unwrap(),
        total
    );
    // The outside rows: before the first layer, after the last, the rest between.
    let before = p["totals"]["before_layers_cycles"].as_u64().unwrap();
    let after = p["totals"]["after_layers_cycles"].as_u64().unwrap();
    assert_eq!(before, layers[0]["start_cycle"].as_u64().unwrap());
    assert!(before + after <= p["totals"]["outside_layers_cycles"].as_u64().unwrap());
    assert!(before > 0 && after > 0);
    for key in ["name", "op", "cycles", "macs", "energy_uj"] {
        assert!(layers.iter().all(|l| !l[key].is_null()), "{key}");
    }
    // What ran inside each convolution: its multiply loop first.
    for l in layers.iter().filter(|l| l["op"] == "CONV_2D") {
        assert_eq!(l["hot_functions"][0]["name"], "mat_mult_dsp", "{l}");
        assert!(
            l["hot_blocks"][0]["location"]
                .as_str()
                .unwrap()
                .starts_with("mat_mult_dsp+")
        );
    }
    // The hottest function's code, disassembled and annotated: the multiply loop's SMLADs ran.
    let code = &p["code"][0];
    assert_eq!(code["name"], "mat_mult_dsp");
    let smlad = code["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["text"].as_str().unwrap().starts_with("smlad"))
        .map(|i| i["executions"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(smlad > 50_000, "{smlad}");
    // Flash by section adds up; the arena is the planner's (19,776 bytes: the liveness bound).
    let sections: u64 = p["memory"]["flash_sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[1].as_u64().unwrap())
        .sum();
    assert_eq!(sections, p["memory"]["flash_bytes"].as_u64().unwrap());
    assert_eq!(p["memory"]["arena_bytes"], 19_776);
    // The run writes nearly all of it (the plan is at the liveness bound).
    let touched = p["memory"]["arena_touched_bytes"].as_u64().unwrap();
    assert!((19_000..=19_776).contains(&touched), "{touched}");
    // Model firmware links no allocator: its heap is empty.
    assert_eq!(p["memory"]["heap_peak_bytes"], 0);
    for key in ["peak_sram_bytes", "stack_peak_bytes", "flash_bytes"] {
        assert!(p["memory"][key].as_u64().unwrap() > 0, "{key}");
    }
    // 0.35 mW/MHz under NN load on this board (TIMING.md): within 10%.
    let mw =
        p["totals"]["energy_uj"].as_f64().unwrap() / p["totals"]["time_us"].as_f64().unwrap() * 1e3;
    assert!((mw / 120.0 - 0.35).abs() < 0.035, "{mw} mW");
    // Per-layer stack peaks, the whole run's at least as deep, and a timeline point per marker.
    let layer_stack: Vec<u64> = layers
        .iter()
        .map(|l| l["stack_peak_bytes"].as_u64().unwrap())
        .collect();
    assert!(layer_stack.iter().all(|&b| b > 0));
    assert!(
        p["memory"]["stack_peak_bytes"].as_u64().unwrap() >= *layer_stack.iter().max().unwrap()
    );
    // A point at every layer boundary (and at every kernel call and return).
    assert!(p["memory"]["timeline"].as_array().unwrap().len() >= 2 * layers.len());
    // The hottest function is the convolution's multiply loop; hot blocks name their function.
    assert_eq!(
        p["functions"][0]["name"], "mat_mult_dsp",
        "{}",
        p["functions"]
    );
    assert!(
        p["hot_blocks"][0]["location"]
            .as_str()
            .unwrap()
            .starts_with("mat_mult_dsp+")
    );
    assert_eq!(csv.lines().count(), 14);
    // Vela's column names where they mean the same.
    assert!(csv.starts_with(
        "Index,TFLite_operator,Name,SRAM Usage,Peak%,Op Cycles,Network%,MAC Count,Network% (MAC),Util%"
    ));
    let t: serde_json::Value = serde_json::from_str(&trace).unwrap();
    let slices = t["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X" && e["tid"] == 1)
        .count();
    assert_eq!(slices, 13);
    let folded_total: u64 = folded
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(folded_total, total);
    // Each layer is a frame of its own above its kernels, holding (nearly) its cycles: the
    // five convolutions are five towers, not one.
    for l in p["layers"].as_array().unwrap() {
        let frame = format!(
            ";layer {} {} ({});",
            l["index"],
            l["name"].as_str().unwrap(),
            l["op"].as_str().unwrap()
        );
        let under: u64 = folded
            .lines()
            .filter(|line| line.contains(&frame))
            .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        let cycles = l["cycles"].as_u64().unwrap();
        assert!(
            under <= cycles && (cycles < 1000 || under as f64 >= 0.95 * cycles as f64),
            "{frame}: {under} of {cycles} cycles"
        );
    }
    // The call tree: its root is the whole run, and the convolution kernel's inclusive cycles
    // hold its multiply loop's.
    assert_eq!(p["attribution"], "markers");
    assert_eq!(p["call_tree"][0]["cycles"].as_u64().unwrap(), total);
    let function = |name: &str| {
        p["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {}", p["functions"]))
            .clone()
    };
    let conv = function("mnn_conv_s8");
    let mat = function("mat_mult_dsp");
    assert_eq!(conv["calls"].as_u64().unwrap(), 5);
    assert!(conv["inclusive_cycles"].as_u64().unwrap() > mat["inclusive_cycles"].as_u64().unwrap());
    // Memory traffic per layer: every layer reads and writes SRAM; the weights come from flash.
    for l in layers {
        if l["op"] != "RESHAPE" {
            assert!(
                l["traffic"]["sram_write_bytes"].as_u64().unwrap() > 0,
                "{l}"
            );
        }
    }
    assert!(p["totals"]["traffic"]["flash_read_bytes"].as_u64().unwrap() > 20_000);
    let e = &p["totals"]["energy"];
    assert!(e["sram_uj"].as_f64().unwrap() > 0.0 && e["flash_uj"].as_f64().unwrap() > 0.0);
}

/// Firmware without layer markers (as a user's own build would be): the profiler finds the
/// layers as the outermost calls of kernel functions, by symbol, with the cycles the markers
/// measure.
#[test]
fn layers_are_found_from_kernel_calls_without_markers() {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let dir = out_dir("no-markers");
    let json = |extra: &[&str], tag: &str| -> serde_json::Value {
        let elf = dir.join(format!("{tag}.elf"));
        let mut args: Vec<std::ffi::OsString> = vec![
            "compile".into(),
            model.clone().into(),
            "-o".into(),
            elf.clone().into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let built = mcusim(&args);
        assert_eq!(built.status, 0, "{}", built.stderr);
        let out = dir.join(format!("{tag}.json"));
        profile_json(&elf, &out)
    };
    let marked = json(&[], "marked");
    let bare = json(&["--no-layer-markers"], "bare");
    assert_eq!(bare["attribution"], "calls");
    // RESHAPE calls no kernel; every other layer is found, with its operator.
    let with_kernels: Vec<&serde_json::Value> = marked["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["op"] != "RESHAPE")
        .collect();
    let found = bare["layers"].as_array().unwrap();
    assert_eq!(found.len(), with_kernels.len());
    for (m, b) in with_kernels.iter().zip(found) {
        assert_eq!(m["op"], b["op"], "{b}");
        assert!(b["name"].as_str().unwrap().starts_with("mnn_"), "{b}");
        // The kernel call is inside the marked span, so it is a little shorter; the code moved,
        // so flash fetch differs a little too.
        let (mc, bc) = (m["cycles"].as_f64().unwrap(), b["cycles"].as_f64().unwrap());
        assert!(
            (bc / mc - 1.0).abs() < 0.02 || (bc - mc).abs() < 200.0,
            "{} {mc} vs {bc}",
            b["name"]
        );
    }
    // Given the model, the layers found take its operators' names and MACs.
    let named = dir.join("named.json");
    let run = mcusim([
        "profile".as_ref(),
        dir.join("bare.elf").as_os_str(),
        "--model".as_ref(),
        model.as_os_str(),
        "-q".as_ref(),
        "--json".as_ref(),
        named.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let named: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&named).unwrap()).unwrap();
    for (m, n) in with_kernels.iter().zip(named["layers"].as_array().unwrap()) {
        for key in ["name", "index", "macs", "op"] {
            assert_eq!(m[key], n[key], "{key}: {n}");
        }
        assert!(n["kernel"].as_str().unwrap().starts_with("mnn_"), "{n}");
    }
    let total = bare["totals"]["cycles"].as_u64().unwrap();
    let in_layers: u64 = found.iter().map(|l| l["cycles"].as_u64().unwrap()).sum();
    assert_eq!(
        in_layers + bare["totals"]["outside_layers_cycles"].as_u64().unwrap(),
        total
    );
}

/// TIMING.md: NUCLEO-L4R5ZI runs the MLPerf Tiny KWS model in 43.2 ms for 1,820 uJ (X-CUBE-AI).
/// Scaled to our cycle count, our estimate must be within a factor of 1.5.
#[test]
fn kws_energy_is_within_a_factor_of_1_5_of_the_measured_energy() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    let model = shared.join("models/kws_ref_model.tflite");
    if !model.exists() {
        eprintln!("skipped: {} is absent", model.display());
        return;
    }
    let out = out_dir("energy").join("kws.json");
    let p = profile_json(&model, &out);
    let ms = p["totals"]["time_us"].as_f64().unwrap() / 1e3;
    let expected = 1820.0 * ms / 43.2;
    let ratio = p["totals"]["energy_uj"].as_f64().unwrap() / expected;
    assert!((1.0 / 1.5..1.5).contains(&ratio), "{ratio}");
}

/// Any firmware profiles: without markers or kernels there are no layers, but functions, memory
/// and energy are reported. printf allocates from the heap (newlib), whose high-water mark the
/// runtime keeps; the stack scan starts above it, so the stack's peak is the stack's alone.
#[test]
fn plain_firmware_profiles_with_heap_and_stack_apart() {
    let elf = crate::support::firmware("nucleo-l4r5zi", "hello", &[]);
    let out = out_dir("plain").join("hello.json");
    let p = profile_json(&elf, &out);
    assert_eq!(p["attribution"], "none");
    assert_eq!(p["layers"].as_array().unwrap().len(), 0);
    let heap = p["memory"]["heap_peak_bytes"].as_u64().unwrap();
    let stack = p["memory"]["stack_peak_bytes"].as_u64().unwrap();
    assert!(heap >= 1024, "printf's buffer: {heap}");
    assert!((64..4096).contains(&stack), "{stack}");
    let functions: Vec<&str> = p["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(functions.contains(&"main"), "{functions:?}");
    let main = p["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "main")
        .unwrap();
    assert!(main["inclusive_cycles"].as_u64().unwrap() > main["cycles"].as_u64().unwrap());
}

/// `mcusim run` takes the profile's exports too, and profiles the same run `profile` does.
#[test]
fn run_profiles_with_the_same_exports_as_profile() {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let input = root().join("examples/models/kws_ds_cnn.input_0.npy");
    let dir = out_dir("run-exports");
    let elf = dir.join("kws.elf");
    compile(&model, "nucleo-l4r5zi", &elf);
    let (from_run, from_profile) = (dir.join("run.json"), dir.join("profile.json"));
    let (folded, csv, report) = (
        dir.join("f.folded"),
        dir.join("c.csv"),
        dir.join("report.json"),
    );
    let run = mcusim([
        "run".as_ref(),
        elf.as_os_str(),
        "-q".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "--json".as_ref(),
        report.as_os_str(),
        "--profile".as_ref(),
        from_run.as_os_str(),
        "--folded".as_ref(),
        folded.as_os_str(),
        "--csv".as_ref(),
        csv.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let profile = mcusim([
        "profile".as_ref(),
        elf.as_os_str(),
        "-q".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "--json".as_ref(),
        from_profile.as_os_str(),
    ]);
    assert_eq!(profile.status, 0, "{}", profile.stderr);
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (a, b, r) = (read(&from_run), read(&from_profile), read(&report));
    assert_eq!(a["schema"], "mcusim-profile/1");
    assert_eq!(r["schema"], "mcusim-run/1");
    assert_eq!(a["layers"], b["layers"]);
    assert_eq!(a["totals"], b["totals"]);
    assert_eq!(r["totals"]["cycles"], a["totals"]["cycles"]);
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 14);
    assert!(std::fs::read_to_string(&folded).unwrap().lines().count() > 10);
}

/// A compiled model's weights stay in flash and its convolutions read them in nested loops (a
/// row of a filter, the next row, the next output channel): the learned charging must agree
/// with charging every read through its hook (`--exact-flash`), and only in the memory part.
#[test]
fn model_weight_reads_learned_agree_with_exact_charging() {
    let dir = root().join("examples/models");
    for name in ["kws_ds_cnn", "mobilenet_tiny"] {
        let elf = out_dir(&format!("exact-{name}")).join("model.elf");
        compile(&dir.join(format!("{name}.tflite")), "nucleo-l4r5zi", &elf);
        let (_, fast) = run_json("nucleo-l4r5zi", &elf, &[]);
        let (_, exact) = run_json("nucleo-l4r5zi", &elf, &["--exact-flash"]);
        let memory = |r: &serde_json::Value| r["totals"]["breakdown"]["memory"].as_u64().unwrap();
        let cycles = |r: &serde_json::Value| r["totals"]["cycles"].as_u64().unwrap();
        let (m_fast, m_exact) = (memory(&fast), memory(&exact));
        assert!(m_exact > 10_000, "{name}: weight reads cost ({m_exact})");
        // Measured: KWS 0.06% apart, the MobileNet 0.9% (reads of loads learned at different
        // times reach the data cache in another order); the README promises 2%.
        assert!(
            m_fast.abs_diff(m_exact) * 50 <= m_exact,
            "{name}: learned {m_fast} vs exact {m_exact} memory cycles (more than 2% apart)"
        );
        assert_eq!(cycles(&fast) - m_fast, cycles(&exact) - m_exact, "{name}");
    }
}

/// Profiles validate against the committed JSON Schema (`mcusim schema KIND` prints the same
/// schemas), for a model with markers, and runs that stop on a limit or a fault; a profile
/// that breaks the schema is caught. (Run, diff and check reports are validated where the other
/// tests make them.)
#[test]
fn profiles_validate_against_their_json_schema() {
    for kind in ["profile", "run", "diff", "check"] {
        let path = root().join(format!("schema/mcusim-{kind}-1.schema.json"));
        let committed: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let printed = mcusim(["schema", kind]);
        assert_eq!(printed.status, 0);
        let printed: serde_json::Value = serde_json::from_str(&printed.stdout).unwrap();
        assert_eq!(printed, committed, "{kind}");
    }
    let dir = out_dir("schema");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let elf = dir.join("kws.elf");
    compile(&model, "nucleo-l4r5zi", &elf);
    let fault = crate::support::firmware("nucleo-l4r5zi", "fault", &["FAULT_UNMAPPED_READ"]);
    let cases: [(&str, Vec<&std::ffi::OsStr>, i32); 3] = [
        ("markers", vec!["profile".as_ref(), model.as_os_str()], 0),
        (
            "limit",
            vec![
                "run".as_ref(),
                elf.as_os_str(),
                "--board".as_ref(),
                "nucleo-l4r5zi".as_ref(),
                "--max-instructions".as_ref(),
                "100000".as_ref(),
            ],
            1,
        ),
        (
            "fault",
            vec![
                "run".as_ref(),
                fault.as_os_str(),
                "--board".as_ref(),
                "nucleo-l4r5zi".as_ref(),
            ],
            1,
        ),
    ];
    for (name, mut args, status) in cases {
        let json = dir.join(format!("{name}.json"));
        let flag = if args[0] == "run" {
            "--profile"
        } else {
            "--json"
        };
        args.extend([flag.as_ref(), json.as_os_str()]);
        let run = mcusim(&args);
        assert_eq!(run.status, status, "{name}: {}", run.stderr);
        let profile: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        crate::support::assert_valid("profile", &profile);
        if name == "markers" {
            let mut broken = profile.clone();
            broken["totals"]["cycles"] = "many".into();
            assert!(
                !crate::support::is_valid("profile", &broken),
                "a string where cycles go"
            );
            let mut old = profile;
            old["schema"] = "mcusim-profile/0".into();
            assert!(
                !crate::support::is_valid("profile", &old),
                "another schema version"
            );
        }
    }
}

/// Per-instruction hooks left idle are parked and put back when their code runs again; that
/// must change nothing: the same counts, cycles and output with hooks swept after every block,
/// every few thousand instructions, or never, and a late unaligned LDRD still faults at its PC.
#[test]
fn parked_hooks_change_nothing() {
    use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine};
    let board = mcusim_boards::Board::resolve("nucleo-l4r5zi").unwrap();
    let run = |elf: &Path, sweep: Option<u64>| {
        let console = CaptureConsole::default();
        let out = console.stdout.clone();
        let mut m = Machine::new(&board, Firmware::load(elf).unwrap(), Box::new(console)).unwrap();
        m.set_hook_sweep(sweep);
        let r = m.run(Limits {
            max_instructions: None,
            max_cycles: None,
            timeout: None,
        });
        let printed = out.borrow().clone();
        (r.stop, r.instructions, r.cycles, r.breakdown, printed)
    };
    let model = out_dir("parked").join("kws.elf");
    compile(
        &root().join("examples/models/kws_ds_cnn.tflite"),
        "nucleo-l4r5zi",
        &model,
    );
    let support =
        |name: &str, defines: &[&str]| crate::support::firmware("nucleo-l4r5zi", name, defines);
    let fault = support("fault", &["FAULT_UNALIGNED_LDRD_LATE"]);
    let cases = [
        (model, 20_000),
        (support("intmix", &[]), 5_000),
        (support("loops", &["LOOPS_TABLE_FLASH", "PASSES=4"]), 1),
        (support("loops", &["LOOPS_FILTER_FLASH"]), 1),
        (fault.clone(), 1),
    ];
    for (elf, every) in &cases {
        let never = run(elf, None);
        let often = run(elf, Some(*every));
        assert_eq!(never, often, "{} swept every {every}", elf.display());
    }
    let (stop, ..) = run(&fault, Some(1));
    assert!(
        matches!(
            stop,
            mcusim_traces::StopReason::Fault {
                kind: mcusim_traces::FaultKind::Unaligned,
                ..
            }
        ),
        "{stop:?}"
    );
}
