//! Per-layer figures agree with the whole-run ones: every cycle of a run is charged to exactly
//! one basic block (its issue cycles, the refill and fetch waits of the branch it takes, what its
//! instructions add mid-block, sleep after it), so the blocks' cycles sum to the run's and,
//! between any two probe hits, to the time between them; and a layer's hot functions carry the
//! same cycles as the function table from the call tree.

use crate::support::{boards, firmware, mcusim, profile_on};
use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// Runs `elf` on `board` with probes at the chosen functions (every `stride`-th, from
/// `offset`) and checks the law.
fn check_law(board: &str, elf: &Path, stride: usize, offset: usize) {
    let b = mcusim_boards::Board::resolve(board).unwrap();
    let fw = Firmware::load(elf).unwrap();
    let functions: Vec<u32> = fw
        .symbols
        .iter()
        .filter(|s| s.is_function)
        .map(|s| s.addr)
        .collect();
    let mut m = Machine::new(&b, fw, Box::new(CaptureConsole::default())).unwrap();
    for &f in functions
        .iter()
        .skip(offset % functions.len().max(1))
        .step_by(stride.max(1))
    {
        m.add_probe(f);
    }
    m.track_calls(&[]);
    m.snapshot_blocks(true);
    let result = m.run(Limits {
        max_instructions: Some(50_000_000),
        max_cycles: None,
        timeout: None,
    });
    let blocks = m.block_profile();
    let total: u64 = blocks.iter().map(|b| b.cycles).sum();
    assert_eq!(
        total,
        result.cycles.0,
        "{board} {}: blocks' cycles vs the run's",
        elf.display()
    );
    let hits = m.probe_hits();
    let snaps = m.block_snapshots();
    assert_eq!(hits.len(), snaps.len());
    let sum = |s: &[(u64, u64)]| s.iter().map(|&(_, c)| c).sum::<u64>();
    for (hit, snap) in hits.iter().zip(snaps) {
        assert_eq!(
            sum(snap),
            hit.cycle.0,
            "{board} {}: at a hit",
            elf.display()
        );
    }
}

fn kws_elf() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("attribution");
    std::fs::create_dir_all(&dir).unwrap();
    let elf = dir.join("kws.elf");
    if !elf.exists() {
        let model =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/models/kws_ds_cnn.tflite");
        let run = mcusim([
            "compile".as_ref(),
            model.as_os_str(),
            "-o".as_ref(),
            elf.as_os_str(),
        ]);
        assert_eq!(run.status, 0, "{}", run.stderr);
    }
    elf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Exceptions (SVC, PendSV, SysTick with WFI sleeps, nested IRQs, a system reset), an
    /// integer mix with divides on the M0+ and M7, the call patterns with SysTick firing, and
    /// a model whose weights stream from flash behind wait states.
    #[test]
    fn every_cycle_is_charged_to_exactly_one_block(stride in 1usize..12, offset in 0usize..50) {
        check_law("nucleo-l4r5zi", &firmware("nucleo-l4r5zi", "exceptions", &[]), stride, offset);
        check_law("nucleo-g0b1re", &firmware("nucleo-g0b1re", "intmix", &[]), stride, offset);
        check_law("stm32f746g-disco", &firmware("stm32f746g-disco", "intmix", &[]), stride, offset);
        check_law("nucleo-u575zi", &firmware("nucleo-u575zi", "calls", &[]), stride, offset);
        check_law("nucleo-l4r5zi", &kws_elf(), stride, offset);
    }
}

/// One layer holding the whole workload: its hottest functions' cycles equal the function
/// table's exclusive cycles (from the call tree), on every core; a function that also ran
/// outside the layer (start-up's `memset`) has no more in the layer than in the table.
#[test]
fn a_layers_hot_functions_agree_with_the_function_table() {
    for board in boards() {
        let elf = firmware(&board, "intmix", &["INTMIX_LAYER"]);
        let (_, p) = profile_on(&elf, &board, &elf.with_extension("profile.json"));
        let layer = &p["layers"][0];
        let share = layer["share"].as_f64().unwrap();
        assert!(share > 0.95, "{board}: the layer holds {share} of the run");
        let hot = layer["hot_functions"].as_array().unwrap();
        assert!(hot.len() >= 3, "{board}: {hot:?}");
        for (i, h) in hot.iter().enumerate() {
            let name = h["name"].as_str().unwrap();
            if name == "main" {
                continue;
            }
            let row = p["functions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name);
            // Code outside every symbol (a few cycles) is named by its address in the layer
            // and charged to its caller in the call tree.
            let Some(row) = row else {
                assert!(
                    i >= 3 && name.starts_with("0x"),
                    "{board}: {name} not in the function table"
                );
                continue;
            };
            let (in_layer, in_table) = (
                h["cycles"].as_u64().unwrap(),
                row["cycles"].as_u64().unwrap(),
            );
            if i < 3 {
                assert_eq!(
                    in_layer, in_table,
                    "{board}: {name} in the layer and in the function table"
                );
            } else {
                assert!(
                    in_layer <= in_table,
                    "{board}: {name}: {in_layer} > {in_table}"
                );
            }
        }
    }
}
