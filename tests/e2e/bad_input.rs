//! Bad input gets one clear line naming the file and the problem, and exit status 2.

use crate::support::{firmware, mcusim};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-input");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Exit status 2 and exactly one line on stderr that contains every `needle`.
fn refused(args: &[&str], needles: &[&str]) {
    let run = mcusim(args);
    assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    for n in needles {
        assert!(
            run.stderr.contains(n),
            "{args:?}: '{n}' not in {}",
            run.stderr
        );
    }
}

#[test]
fn a_garbage_file_is_not_an_elf() {
    let path = scratch("garbage.elf");
    std::fs::write(&path, b"this is not firmware at all").unwrap();
    refused(
        &["run", path.to_str().unwrap()],
        &["garbage.elf", "not an ELF file"],
    );
}

#[test]
fn a_missing_file_is_named() {
    refused(
        &["run", "/no/such/fw.elf"],
        &["/no/such/fw.elf", "cannot read firmware"],
    );
}

#[test]
fn a_truncated_elf_is_refused() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let bytes = std::fs::read(&elf).unwrap();
    for cut in [40, 200, bytes.len() / 2] {
        let path = scratch(&format!("truncated-{cut}.elf"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        refused(
            &["run", path.to_str().unwrap()],
            &[&format!("truncated-{cut}.elf")],
        );
    }
}

#[test]
fn a_non_arm_elf_is_refused() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let mut bytes = std::fs::read(&elf).unwrap();
    // e_machine (offset 18, little-endian): 3 is Intel 80386.
    bytes[18] = 3;
    bytes[19] = 0;
    let path = scratch("x86.elf");
    std::fs::write(&path, &bytes).unwrap();
    refused(&["run", path.to_str().unwrap()], &["x86.elf", "not Arm"]);
    // A 64-bit ELF (the test binary itself).
    let me = std::env::current_exe().unwrap();
    refused(
        &["run", me.to_str().unwrap()],
        &["not a 32-bit little-endian ELF"],
    );
}

#[test]
fn firmware_for_another_memory_map_is_refused() {
    let elf = firmware("mps2-an386", "hello", &[]);
    refused(
        &["run", "--board", "nucleo-l4r5zi", elf.to_str().unwrap()],
        &[
            "hello.elf",
            "does not fit board 'nucleo-l4r5zi'",
            "no flash, SRAM or TCM region of the board holds 0x00000000",
        ],
    );
}

#[test]
fn an_unknown_board_is_named() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    refused(
        &["run", "--board", "nucleo-x", elf.to_str().unwrap()],
        &["no board named 'nucleo-x'"],
    );
}

#[test]
fn a_broken_board_file_lists_every_problem() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let board = scratch("broken.toml");
    let text = mcusim_boards::Board::builtin("nucleo-l4r5zi")
        .unwrap()
        .unwrap()
        .text
        .replace("clock_hz = 120_000_000", "clock_hz = 0")
        .replace("core = \"cortex-m4f\"", "core = \"cortex-m5\"")
        .replace("base = 0x2003_0000", "base = 0x2002_0800");
    std::fs::write(&board, text).unwrap();
    let run = mcusim([
        "run",
        "--board",
        board.to_str().unwrap(),
        elf.to_str().unwrap(),
    ]);
    assert_eq!(run.status, 2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stderr);
    assert!(
        lines[0].contains("broken.toml: core: unknown core 'cortex-m5'"),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].contains("broken.toml: clock_hz: clock must be above zero"),
        "{}",
        run.stderr
    );
    assert!(
        lines[2].contains("memory[2].base: 0x20020800 is not a multiple of 4 KiB"),
        "{}",
        run.stderr
    );
    assert!(
        lines[3].contains("memory[2].base: region 'sram2'"),
        "{}",
        run.stderr
    );
    assert!(
        lines[3].contains("overlaps memory[1] 'sram1'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_board_file_with_a_syntax_error_is_one_line() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let board = scratch("syntax.toml");
    std::fs::write(&board, "name = \"x\"\ncore = [unclosed\n").unwrap();
    refused(
        &[
            "run",
            "--board",
            board.to_str().unwrap(),
            elf.to_str().unwrap(),
        ],
        &["syntax.toml:2:"],
    );
}

#[test]
fn bad_arguments_give_status_2() {
    let run = mcusim(["run"]);
    assert_eq!(run.status, 2);
    let run = mcusim(["run", "x.elf", "--max-instructions", "many"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("--max-instructions"), "{}", run.stderr);
}

/// A small deterministic generator, so a failing case can be reproduced from its number.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

/// Corrupted ELFs never crash the loader: every one is refused with an error or loads.
#[test]
fn corrupted_elfs_never_panic_the_loader() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let original = std::fs::read(&elf).unwrap();
    let mut seed = 0x5EED;
    for case in 0..2000 {
        let mut bytes = original.clone();
        match case % 3 {
            // Flip bytes in the ELF and program headers, where the loader looks.
            0 | 1 => {
                for _ in 0..1 + lcg(&mut seed) % 4 {
                    let at = (lcg(&mut seed) as usize) % 256.min(bytes.len());
                    bytes[at] = lcg(&mut seed) as u8;
                }
            }
            _ => bytes.truncate((lcg(&mut seed) as usize) % original.len()),
        }
        let parsed = std::panic::catch_unwind(|| {
            mcusim_sim::Firmware::parse(&bytes, "case.elf", "case.elf".into()).map(|_| ())
        });
        assert!(parsed.is_ok(), "case {case} panicked");
    }
}

/// Corrupted ELFs run by the binary end with status 0, 1 or 2, never a crash or a hang.
#[test]
fn corrupted_elfs_never_crash_the_binary() {
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let original = std::fs::read(&elf).unwrap();
    let mut seed = 0xC0DE;
    // The file offset of the first program header's bytes: the vector table and start-up
    // code (ELF32: e_phoff at 0x1C, p_offset 4 bytes into a program header).
    let word = |at: usize| u32::from_le_bytes(original[at..at + 4].try_into().unwrap()) as usize;
    let code = word(word(0x1C) + 4);
    let mut seen = [0u32; 3];
    for case in 0..60 {
        let mut bytes = original.clone();
        for _ in 0..1 + lcg(&mut seed) % 6 {
            // Headers in a third of the cases, the vector table and code otherwise.
            let at = if case % 3 == 0 {
                (lcg(&mut seed) as usize) % 128
            } else {
                code + (lcg(&mut seed) as usize) % 2048
            };
            bytes[at] = lcg(&mut seed) as u8;
        }
        let path = scratch(&format!("corrupt-{case}.elf"));
        std::fs::write(&path, &bytes).unwrap();
        let run = mcusim([
            "run",
            "-q",
            "--max-instructions",
            "2000000",
            path.to_str().unwrap(),
        ]);
        assert!(
            (0..=2).contains(&run.status),
            "case {case}: status {}",
            run.status
        );
        assert!(
            !run.stderr.contains("panicked"),
            "case {case}: {}",
            run.stderr
        );
        seen[run.status as usize] += 1;
    }
    assert!(
        seen[2] > 0 || seen[1] > 0,
        "corruption was noticed: {seen:?}"
    );
}
