//! Where the cycles of a run go, by instruction class: a calibration aid for the cycle model.
//!
//! `cargo run --release -p mcusim-sim --example class_profile -- BOARD FIRMWARE.elf`
//!
//! Runs the firmware, then weighs each executed block's instructions by the block's execution
//! count and prints, per timing class, the dynamic instruction count and the issue cycles the
//! block cost table gave them (stalls, refills and memory waits are in the run's breakdown).

use mcusim_boards::Board;
use mcusim_sim::timing::{self, decode};
use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine};
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [board, elf] = args.as_slice() else {
        eprintln!("usage: class_profile BOARD FIRMWARE.elf");
        std::process::exit(2);
    };
    let board = Board::resolve(board).unwrap_or_else(|e| panic!("{e}"));
    let fw = Firmware::load(std::path::Path::new(elf)).unwrap_or_else(|e| panic!("{e}"));
    let mut machine = Machine::new(&board, fw, Box::new(CaptureConsole::default())).unwrap();
    let result = machine.run(Limits::default());
    println!("{:?}\n{:?}", result.stop, result.breakdown);
    let table = timing::timing_for(board.core);
    let mut by_class: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (start, code, executions) in machine.blocks() {
        let offsets = mcusim_sim::thumb::instruction_offsets(&code);
        let cost = timing::block_cost(&table, start, &code, &offsets);
        for (i, &off) in offsets.iter().enumerate() {
            let insn = decode::decode(&code[usize::from(off)..]);
            let name = format!("{:?}", insn.class);
            let name = name.split('(').next().unwrap_or("").to_string();
            let e = by_class.entry(name).or_default();
            e.0 += executions;
            e.1 += executions * u64::from(cost.prefix[i + 1] - cost.prefix[i]);
        }
    }
    let total: u64 = by_class.values().map(|v| v.0).sum();
    let mut rows: Vec<_> = by_class.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.1));
    println!(
        "{:<16} {:>12} {:>7} {:>12} {:>6}",
        "class", "executed", "share", "cycles", "cpi"
    );
    for (class, (n, cycles)) in rows {
        println!(
            "{class:<16} {n:>12} {:>6.1}% {cycles:>12} {:>6.2}",
            100.0 * n as f64 / total as f64,
            cycles as f64 / n.max(1) as f64
        );
    }
}
