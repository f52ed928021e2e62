//! A firmware that fits the board is loaded, to the last byte; one that does not is refused
//! before linking or running, in the user's terms: which memory, how many bytes are needed and
//! how many the board has, naming the file the user gave.

use crate::support::{firmware, mcusim};
use mcusim_compiler::{interp, synth, tflite::Model, tflite::writer};
use std::path::{Path, PathBuf};

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fit")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The load address of `.bss` (in its program header) lies past the end of flash when the
/// image nearly fills flash: a loader must check file bytes at the load address and memory at
/// the run address.
#[test]
fn a_firmware_filling_flash_and_sram_runs() {
    let elf = firmware(
        "nucleo-g0b1re",
        "fill",
        &["CONST_BYTES=500000", "BSS_BYTES=130000"],
    );
    let fw = mcusim_sim::Firmware::load(&elf).unwrap();
    let bss = fw
        .segments
        .iter()
        .find(|s| s.sections.iter().any(|n| n == ".bss"))
        .expect("a segment holds .bss");
    assert!(
        u64::from(bss.addr) + u64::from(bss.mem_size) > 0x0808_0000,
        "the test needs a .bss whose load range would overrun flash: {bss:?}"
    );
    let run = mcusim(["run", "--board", "nucleo-g0b1re", elf.to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("fill "), "{}", run.stdout);
}

#[test]
fn a_firmware_too_big_for_the_board_is_refused_with_its_sizes() {
    let elf = firmware(
        "nucleo-l4r5zi",
        "fill",
        &["CONST_BYTES=4096", "BSS_BYTES=200000"],
    );
    let run = mcusim(["run", "--board", "nucleo-g0b1re", elf.to_str().unwrap()]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    for needle in [
        "fill-const_bytes=4096-bss_bytes=200000.elf",
        ".data, .bss",
        "does not fit board 'nucleo-g0b1re'",
        "region 'sram' has 147,456",
        "bytes too many",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
}

#[test]
fn a_build_that_overflows_ram_says_by_how_much() {
    let board = mcusim_boards::Board::builtin("nucleo-g0b1re")
        .unwrap()
        .unwrap();
    let out = out_dir("overflow").join("fill.elf");
    let mut build = mcusim_toolchain::Build::new(
        &board,
        vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/fill.c")],
        out,
    );
    build.defines = vec!["BSS_BYTES=150000".into()];
    match build.run() {
        Err(mcusim_toolchain::Error::DoesNotFit { shortfalls, .. }) => {
            assert_eq!(shortfalls.len(), 1, "{shortfalls:?}");
            let s = &shortfalls[0];
            assert_eq!((s.memory, s.available), ("RAM", 147_456));
            // .bss, a little data, and the 8 KiB stack reserve.
            assert!(
                (150_000 + 8192..150_000 + 8192 + 1024).contains(&s.needed),
                "{s:?}"
            );
        }
        other => panic!("expected DoesNotFit, got {other:?}"),
    }
}

fn large_resnet(dir: &Path) -> (PathBuf, Vec<i8>, Vec<i8>) {
    let bytes = writer::write(&synth::large_resnet(7));
    let path = dir.join("large_resnet.tflite");
    std::fs::write(&path, &bytes).unwrap();
    let model = Model::parse(&bytes, "large_resnet.tflite").unwrap();
    let layers = model.lower().unwrap();
    let input = synth::random_input(7, model.tensors[model.inputs[0]].elements());
    let want = interp::run(&model, &layers, std::slice::from_ref(&input)).unwrap();
    (path, input, want.into_iter().next().unwrap())
}

/// A model whose firmware takes nearly all of a Cortex-M0+ board's flash and SRAM compiles,
/// runs and computes what the reference interpreter (bit-exact with TFLite Micro) computes.
#[test]
fn a_large_model_filling_the_cortex_m0plus_board_profiles_and_matches() {
    let dir = out_dir("large-resnet");
    let (model, input, want) = large_resnet(&dir);
    let input_file = dir.join("input.bin");
    std::fs::write(
        &input_file,
        input.iter().map(|&v| v as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let json = dir.join("profile.json");
    let output = dir.join("output.bin");
    let run = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        "nucleo-g0b1re".as_ref(),
        "-q".as_ref(),
        "--input".as_ref(),
        input_file.as_os_str(),
        "--output".as_ref(),
        output.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let got: Vec<i8> = std::fs::read(&output)
        .unwrap()
        .into_iter()
        .map(|b| b as i8)
        .collect();
    assert_eq!(got, want);
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let flash = p["memory"]["flash_bytes"].as_u64().unwrap();
    let sram = p["memory"]["static_ram_bytes"].as_u64().unwrap();
    // Near the board's 512 KiB and 144 KiB, as a large model is.
    assert!((450_000..524_288).contains(&flash), "flash {flash}");
    assert!((100_000..147_456).contains(&sram), "static RAM {sram}");
}

/// With the weights copied to SRAM the same model cannot fit: said before anything is built,
/// naming the model, not a temporary file.
#[test]
fn a_model_too_big_for_sram_is_refused_before_building() {
    let dir = out_dir("large-resnet-sram");
    let (model, _, _) = large_resnet(&dir);
    let elf = dir.join("fw.elf");
    let run = mcusim([
        "compile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        "nucleo-g0b1re".as_ref(),
        "--weights-in-sram".as_ref(),
        "-o".as_ref(),
        elf.as_os_str(),
    ]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    let error = run.stderr.lines().last().unwrap_or("");
    for needle in [
        "large_resnet.tflite does not fit board 'nucleo-g0b1re'",
        "RAM needs at least",
        "weights copied to RAM",
        "the board has 147,456",
        "without --weights-in-sram",
    ] {
        assert!(error.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(
        !run.stderr.contains("mcusim-"),
        "a temporary path: {}",
        run.stderr
    );
    assert!(!elf.exists());
}
