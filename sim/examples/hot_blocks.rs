//! The hottest basic blocks of a run, by instructions executed: a tuning aid for kernels.
//!
//! `cargo run --release -p mcusim-sim --example hot_blocks -- BOARD FIRMWARE.elf [N]`
//!
//! Prints the N (default 20) blocks that executed the most instructions, with their start
//! address, execution count, instructions and issue cycles (the block cost table's, without
//! refills and memory waits); `arm-none-eabi-addr2line -f -e FIRMWARE.elf`
//! names them.

use mcusim_boards::Board;
use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (board, elf, n) = match args.as_slice() {
        [b, e] => (b, e, 20),
        [b, e, n] => (b, e, n.parse().unwrap_or(20)),
        _ => {
            eprintln!("usage: hot_blocks BOARD FIRMWARE.elf [N]");
            std::process::exit(2);
        }
    };
    let board = Board::resolve(board).unwrap_or_else(|e| panic!("{e}"));
    let fw = Firmware::load(std::path::Path::new(elf)).unwrap_or_else(|e| panic!("{e}"));
    let mut machine = Machine::new(&board, fw, Box::new(CaptureConsole::default())).unwrap();
    let result = machine.run(Limits::default());
    println!("{:?}", result.stop);
    let table = mcusim_sim::timing::timing_for(board.core);
    let mut rows: Vec<(u64, u64, u64, usize, u64)> = machine
        .blocks()
        .into_iter()
        .map(|(start, code, executions)| {
            let offsets = mcusim_sim::thumb::instruction_offsets(&code);
            let cost = mcusim_sim::timing::block_cost(&table, start, &code, &offsets);
            let issue = u64::from(cost.prefix.last().copied().unwrap_or(0));
            let count = offsets.len();
            (
                executions * count as u64,
                u64::from(start),
                executions,
                count,
                executions * issue,
            )
        })
        .collect();
    let total: u64 = rows.iter().map(|r| r.0).sum();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    println!(
        "{:>10} {:>12} {:>10} {:>6} {:>7} {:>12}",
        "address", "instructions", "executions", "size", "share", "issue cycles"
    );
    for (insns, start, executions, count, issue) in rows.into_iter().take(n) {
        println!(
            "{start:#010x} {insns:>12} {executions:>10} {count:>6} {:>6.1}% {issue:>12}",
            100.0 * insns as f64 / total.max(1) as f64
        );
    }
}
