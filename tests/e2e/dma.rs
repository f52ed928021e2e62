//! ST's DMA controller (`sim/src/devices/stm32_dma.rs`) driven by real firmware through the
//! runtime's driver (`kernels/runtime/mcusim_dma.h`) on the boards that have one: copies land,
//! interrupts wake the core, priorities order the channels, a bad address is a transfer error,
//! each item costs what the model says, and the profile shows the controller's work.

use crate::support::*;

const BOARDS: [&str; 2] = ["nucleo-l4r5zi", "nucleo-g0b1re"];

#[test]
fn firmware_drives_the_dma_controller() {
    for board in BOARDS {
        let elf = firmware(board, "dma", &[]);
        let run = mcusim(["run", "-q", "--board", board, elf.to_str().unwrap()]);
        assert_eq!(run.status, 0, "{board}: {}{}", run.stdout, run.stderr);
        for line in [
            "dma: 512 words copied, flags 7, at least 4 cycles per word",
            "dma: 64 bytes widened to words right, 1 interrupt",
            "dma: circular: 3 half and 2 full transfers, CNDTR reloaded and counting",
            "dma: priority: channel 4 had most of its items left when channel 5 finished",
            "dma: bad address: 1 error interrupt, channel disabled",
        ] {
            assert!(
                run.stdout.contains(line),
                "{board}: no '{line}' in\n{}",
                run.stdout
            );
        }
        // A word from SRAM to SRAM: 2 + 1 per port (AN4031 sec. 3.1; no wait states), 6 cycles;
        // the firmware's reading of the counter around the copy adds a few.
        let cycles: u64 = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("dma: cycles for 512 words: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{board}: no cycle count in\n{}", run.stdout));
        assert!(
            (512 * 6..512 * 6 + 80).contains(&cycles),
            "{board}: {cycles} cycles for 512 words"
        );
    }
}

#[test]
fn boards_without_a_dma_controller_say_so() {
    let elf = firmware("mps2-an386", "dma", &[]);
    let run = mcusim(["run", "-q", "--board", "mps2-an386", elf.to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dma: this board has no stm32-dma"));
}

#[test]
fn the_profile_shows_the_controllers_work() {
    let board = "nucleo-l4r5zi";
    let elf = firmware(board, "dma", &[]);
    let out = elf.with_extension("profile.json");
    let (_, p) = profile_on(&elf, board, &out);
    let devices = p["devices"].as_array().expect("a devices section");
    assert_eq!(devices.len(), 1, "{devices:?}");
    let dma1 = &devices[0];
    assert_eq!(dma1["device"], "dma1");
    // Copies: 512 words, 64 bytes widened to words, two rounds of 1,024 half-words and part
    // of a third, 2 x 64 words, and the item that faulted (no bytes).
    let bytes = dma1["bytes"].as_u64().unwrap();
    let whole = 512 * 4 + 64 * 4 + 2 * 2048 + 2 * 64 * 4;
    assert!((whole..whole + 2048).contains(&bytes), "{bytes} bytes");
    assert!(dma1["busy_cycles"].as_u64().unwrap() > 512 * 6);
    let activity = p["activity"].as_array().unwrap();
    assert!(activity.iter().any(|a| a["label"] == "ch1 mem-to-mem"));
    assert!(activity.iter().all(|a| a["track"] == "dma1"));
    // The trace has a dma1 track.
    let trace = elf.with_extension("trace.json");
    let run = mcusim([
        "profile",
        elf.to_str().unwrap(),
        "--board",
        board,
        "-q",
        "--perfetto",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert!(
        t["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "thread_name" && e["args"]["name"] == "dma1")
    );
}

/// DMA timing cases as data: (board, case, cycles per item, why). An item is the two ports'
/// arbitration and address computation, 2 cycles each (ST AN4031 rev 3 sec. 3.1, tables 4
/// and 5), plus each port's AHB transfer, 1 cycle and the slave's wait states per beat (AMBA
/// 3 AHB-Lite, IHI 0033A sec. 3.1; wait states from the board file: RM0432 table 12, 5 at
/// 120 MHz; RM0444 table 18, 2 at 64 MHz).
const TIMING: [(&str, &str, u64, &str); 8] = [
    ("nucleo-l4r5zi", "sram-to-sram words", 6, "2 + 1 + 2 + 1"),
    (
        "nucleo-l4r5zi",
        "sram-to-sram bytes",
        6,
        "a byte is one beat, as a word",
    ),
    (
        "nucleo-l4r5zi",
        "sram-to-sram halfwords widened",
        6,
        "one beat each side",
    ),
    (
        "nucleo-l4r5zi",
        "flash-to-sram words",
        11,
        "2 + (1 + 5 wait states) + 2 + 1",
    ),
    ("nucleo-g0b1re", "sram-to-sram words", 6, "2 + 1 + 2 + 1"),
    (
        "nucleo-g0b1re",
        "sram-to-sram bytes",
        6,
        "a byte is one beat, as a word",
    ),
    (
        "nucleo-g0b1re",
        "sram-to-sram halfwords widened",
        6,
        "one beat each side",
    ),
    (
        "nucleo-g0b1re",
        "flash-to-sram words",
        8,
        "2 + (1 + 2 wait states) + 2 + 1",
    ),
];

#[test]
fn dma_transfers_take_the_modelled_cycles_per_item() {
    let mut failures = Vec::new();
    for board in BOARDS {
        let elf = firmware(board, "dma_timing", &[]);
        let run = mcusim(["run", "-q", "--board", board, elf.to_str().unwrap()]);
        assert_eq!(run.status, 0, "{board}: {}", run.stderr);
        for (_, case, per_item, why) in TIMING.iter().filter(|t| t.0 == board) {
            // The firmware prints the time of 128 items (a 256-item copy less a 128-item one);
            // its polling loop may see the end a few cycles late.
            let got: u64 = run
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("dma_timing: {case}: ")))
                .and_then(|rest| rest.split(' ').next()?.parse().ok())
                .unwrap_or_else(|| panic!("{board}: no '{case}' in\n{}", run.stdout));
            let want = 128 * per_item;
            if got.abs_diff(want) > 8 {
                failures.push(format!("{board} {case}: {got} cycles, want {want} ({why})"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The core and the DMA on one bus slave, then on two (`tests/firmware/dma_contention.c`):
/// a loop of 1,024 loads from SRAM1 while the DMA copies within SRAM1 waits one cycle per load
/// (the DMA makes two beats on SRAM1 every 6 cycles, the loop one load every 7: every load
/// meets a beat; AN4031 sec. 3.1, 1 cycle of bus-matrix arbitration each), and the same loop
/// reading SRAM3 runs as fast as alone. The run's breakdown holds the wait as contention.
#[test]
fn the_core_waits_for_the_dma_only_on_the_same_slave() {
    let board = "nucleo-l4r5zi";
    let elf = firmware(board, "dma_contention", &[]);
    let (run, report) = run_json(board, &elf, &["-q"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("dma_contention: "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let numbers: Vec<u64> = line
        .split([',', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    let [alone, same, other, other_alone] = numbers[..] else {
        panic!("{line}");
    };
    assert!(line.ends_with("dma ran throughout"), "{line}");
    assert_eq!(other, other_alone, "another slave: no wait ({line})");
    assert_eq!(alone, other_alone, "{line}");
    assert_eq!(same - alone, 1024, "one cycle per load ({line})");
    assert_eq!(report["totals"]["breakdown"]["contention"], 1024);
}

/// Double buffering (`tests/firmware/double_buffer.c`): the DMA copies the next chunk of
/// weights from flash while the core computes with this one. The profile shows the copies
/// under the overlapped layers and between the serial ones, and overlapping is faster.
#[test]
fn double_buffering_shows_the_overlap_and_saves_time() {
    let board = "nucleo-l4r5zi";
    let elf = firmware(board, "double_buffer", &[]);
    let out = elf.with_extension("profile.json");
    let (run, p) = profile_on(&elf, board, &out);
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("double_buffer: results agree, serial "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let numbers: Vec<u64> = line
        .split([',', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    let [serial, overlapped] = numbers[..] else {
        panic!("{line}");
    };
    // Each of 7 copies (512 words from flash, 11 cycles each: about 5,600) hides under a
    // chunk's computation, less what the two lose contending for SRAM1.
    assert!(
        serial - overlapped > 7 * 4_500,
        "serial {serial}, overlapped {overlapped}"
    );
    let layers = p["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 16);
    let busy = |l: &serde_json::Value| {
        l["devices"]
            .as_array()
            .map_or(0, |d| d[0]["busy_cycles"].as_u64().unwrap())
    };
    for l in &layers[..8] {
        assert_eq!(busy(l), 0, "serial: no copy during {}", l["name"]);
    }
    for l in &layers[8..15] {
        assert!(busy(l) > 5_000, "overlapped: a copy under {}", l["name"]);
        assert!(l["breakdown"]["contention"].as_u64().unwrap() > 0);
    }
    assert_eq!(
        busy(&layers[15]),
        0,
        "nothing left to fetch for the last chunk"
    );
}
