//! Timing tests as data: `tests/timing/*.s` hold small assembly snippets, each with the rule
//! it exercises and its expected cycles per core. Each snippet is assembled with
//! `arm-none-eabi-as`, linked into a tiny firmware, run on a zero-wait-state board of that core,
//! and its cost measured as the run's cycles minus those of the same harness without it.
//!
//! Format of a case:
//!
//! ```text
//! # rule: Cortex-M4 TRM table 3-1: LDR is 2 cycles, pipelined with a following load.
//! # case: two-independent-loads
//! # setup: movs r4, #0           (optional, run before the measured part)
//!     ldr r0, [r1]
//!     ldr r2, [r3]
//! # expect: cortex-m4=3 cortex-m0plus=4
//! ```
//!
//! Registers r0 to r7 start as distinct word-aligned RAM addresses (0x2000_0100 + 0x100 * n),
//! each word holding its own address. `MCUSIM_BLESS=1` rewrites the expectations with what the
//! model gives now; a failing run prints every mismatch.

use mcusim_boards::{Board, Core};
use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine};
use mcusim_traces::StopReason;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: String,
    rule: Vec<String>,
    setup: Vec<String>,
    body: Vec<String>,
    /// (core name, expected cycles), in file order.
    expect: Vec<(String, u64)>,
    /// Line of the `# expect:` line (0-based) in the file.
    expect_line: usize,
}

fn parse(text: &str, file: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut rule = Vec::new();
    let mut current: Option<Case> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(r) = trimmed.strip_prefix("# rule:") {
            rule.push(r.trim().to_string());
        } else if let Some(name) = trimmed.strip_prefix("# case:") {
            assert!(current.is_none(), "{file}:{}: case without expect", n + 1);
            current = Some(Case {
                name: name.trim().to_string(),
                rule: std::mem::take(&mut rule),
                setup: vec![],
                body: vec![],
                expect: vec![],
                expect_line: 0,
            });
        } else if let Some(s) = trimmed.strip_prefix("# setup:") {
            current
                .as_mut()
                .expect("setup inside a case")
                .setup
                .push(s.trim().to_string());
        } else if let Some(e) = trimmed.strip_prefix("# expect:") {
            let mut case = current.take().expect("expect inside a case");
            assert!(
                !case.rule.is_empty(),
                "{file}: case {} cites no rule",
                case.name
            );
            for pair in e.split_whitespace() {
                let (core, cycles) = pair.split_once('=').expect("core=cycles");
                case.expect
                    .push((core.to_string(), cycles.parse().expect("a number")));
            }
            case.expect_line = n;
            cases.push(case);
        } else if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        } else if let Some(case) = current.as_mut() {
            case.body.push(line.to_string());
        }
    }
    assert!(current.is_none(), "{file}: last case has no expect line");
    cases
}

/// A zero-wait-state board for `core`: 64 KiB flash at 0x0800_0000, two SRAMs of 64 KiB each
/// (two bus slaves) at 0x2000_0000 and 0x2001_0000.
fn board(core: &str) -> Board {
    let text = format!(
        r#"name = "timing-{core}"
description = "zero-wait-state test board"
source = "mcusim timing tests"
core = "{core}"
clock_hz = 100_000_000
boot_region = "flash"
ram_region = "sram"
irq_lines = 32
priority_bits = 3

[[memory]]
name = "flash"
kind = "flash"
base = 0x0800_0000
size = 0x1_0000

[[memory]]
name = "sram"
kind = "sram"
base = 0x2000_0000
size = 0x1_0000

[[memory]]
name = "sram2"
kind = "sram"
base = 0x2001_0000
size = 0x1_0000
"#
    );
    Board::parse(&text, "timing board").unwrap()
}

fn asm_flags(core: &str) -> Vec<&'static str> {
    let core = Core::ALL
        .into_iter()
        .find(|c| c.name() == core)
        .expect("known core");
    match core {
        Core::CortexM0Plus => vec!["-mcpu=cortex-m0plus"],
        Core::CortexM3 => vec!["-mcpu=cortex-m3"],
        Core::CortexM4 => vec!["-mcpu=cortex-m4"],
        Core::CortexM4F => vec!["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16"],
        Core::CortexM7 => vec!["-mcpu=cortex-m7", "-mfpu=fpv5-sp-d16"],
        Core::CortexM33 => vec!["-mcpu=cortex-m33", "-mfpu=fpv5-sp-d16"],
    }
}

fn harness(setup: &[String], body: &[String]) -> String {
    let mut s = String::from(
        ".syntax unified\n.thumb\n.section .vectors, \"a\"\n.word 0x20008000\n.word _start\n.text\n.thumb_func\n.global _start\n_start:\n",
    );
    for r in 0..8u32 {
        let addr = 0x2000_0100 + 0x100 * r;
        s += &format!("    ldr r{r}, ={addr:#x}\n    str r{r}, [r{r}]\n");
    }
    for line in setup {
        s += &format!("    {line}\n");
    }
    s += "    b 1f\n    .balign 4\n1:\n";
    for line in body {
        s += line;
        s.push('\n');
    }
    // A NOP keeps the snippet's last instruction from pairing with the branch (M7, M33).
    s += "    nop\n    b 2f\n    .ltorg\n    .balign 4\n2:\n";
    // SYS_EXIT with ADP_Stopped_ApplicationExit, in ALU instructions every core has.
    s += "    movs r0, #0x18\n    movs r1, #2\n    lsls r1, r1, #16\n    adds r1, #0x26\n    bkpt 0xab\n";
    s
}

fn build(dir: &Path, name: &str, core: &str, source: &str) -> PathBuf {
    let asm = dir.join(format!("{name}-{core}.s"));
    let obj = asm.with_extension("o");
    let elf = asm.with_extension("elf");
    let ld = dir.join("link.ld");
    std::fs::write(&asm, source).unwrap();
    std::fs::write(
        &ld,
        "SECTIONS { . = 0x08000000; .vectors : { *(.vectors) } .text : { *(.text) } }\n",
    )
    .unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd
            .output()
            .expect("arm-none-eabi binutils (Debian gcc-arm-none-eabi)");
        assert!(
            out.status.success(),
            "{name} for {core}:\n{}\n{source}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("arm-none-eabi-as")
        .args(asm_flags(core))
        .arg("-o")
        .arg(&obj)
        .arg(&asm));
    run(Command::new("arm-none-eabi-ld")
        .arg("-T")
        .arg(&ld)
        .arg("-o")
        .arg(&elf)
        .arg(&obj));
    elf
}

fn cycles(elf: &Path, core: &str) -> u64 {
    let fw = Firmware::load(elf).unwrap();
    let mut machine = Machine::new(&board(core), fw, Box::new(CaptureConsole::default())).unwrap();
    let result = machine.run(Limits {
        max_instructions: Some(100_000),
        max_cycles: None,
        timeout: None,
    });
    assert_eq!(
        result.stop,
        StopReason::Exit { code: 0 },
        "{}",
        elf.display()
    );
    assert_eq!(result.breakdown.total(), result.cycles);
    result.cycles.0
}

#[test]
fn timing_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/timing");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("timing");
    std::fs::create_dir_all(&work).unwrap();
    let bless = std::env::var_os("MCUSIM_BLESS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    // The harness without the snippet, per core and setup.
    let mut baselines: BTreeMap<(String, Vec<String>), u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let shown = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let cases = parse(&text, &shown);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        for case in &cases {
            let mut measured = Vec::new();
            for (core, expected) in &case.expect {
                let key = (core.clone(), case.setup.clone());
                let base = *baselines.entry(key).or_insert_with(|| {
                    let name = format!("baseline-{}", case.name);
                    cycles(&build(&work, &name, core, &harness(&case.setup, &[])), core)
                });
                let elf = build(&work, &case.name, core, &harness(&case.setup, &case.body));
                let got = cycles(&elf, core) - base;
                count += 1;
                if got != *expected {
                    failures.push(format!(
                        "{shown}:{} {} on {core}: expected {expected}, got {got}\n    rule: {}\n{}",
                        case.expect_line + 1,
                        case.name,
                        case.rule.join(" "),
                        case.body.join("\n")
                    ));
                }
                measured.push(format!("{core}={got}"));
            }
            lines[case.expect_line] = format!("# expect: {}", measured.join(" "));
        }
        if bless {
            std::fs::write(file, lines.join("\n") + "\n").unwrap();
        }
    }
    assert!(count >= 40, "only {count} core/case pairs");
    if !bless && !failures.is_empty() {
        panic!(
            "{} of {count} timing expectations differ (MCUSIM_BLESS=1 rewrites them after a deliberate change):\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}
