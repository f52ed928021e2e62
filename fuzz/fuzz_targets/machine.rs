//! The machine under random code: the input's first byte picks a built-in board, the rest is
//! Thumb code placed after a vector table (and, on the cores with Thumb-2, a prologue that
//! points r0-r7 at the board's peripherals, so the code's loads and stores reach their
//! registers: random MMIO sequences). The run is bounded by instructions, cycles and host
//! time; whatever the code does, it must end with a stop reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcusim_boards::Board;
use mcusim_sim::{CaptureConsole, Limits, Machine};
use mcusim_sim::{Firmware, Segment};

/// `movw rd, #lo; movt rd, #hi` (Thumb-2, T3/T1 encodings).
fn mov32(rd: u16, v: u32) -> [u8; 8] {
    let enc = |op: u16, imm: u16| -> [u8; 4] {
        let (i, imm4, imm3, imm8) = ((imm >> 11) & 1, imm >> 12, (imm >> 8) & 7, imm & 0xFF);
        let hw1 = op | (i << 10) | imm4;
        let hw2 = (imm3 << 12) | (rd << 8) | imm8;
        let mut b = [0; 4];
        b[..2].copy_from_slice(&hw1.to_le_bytes());
        b[2..].copy_from_slice(&hw2.to_le_bytes());
        b
    };
    let mut out = [0; 8];
    out[..4].copy_from_slice(&enc(0xF240, v as u16));
    out[4..].copy_from_slice(&enc(0xF2C0, (v >> 16) as u16));
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, code)) = data.split_first() else {
        return;
    };
    let names: Vec<&str> = Board::builtin_names().collect();
    let name = names[usize::from(pick) % names.len()];
    let Ok(board) = Board::resolve(name) else {
        return;
    };
    let boot = board.boot_region().base as u32;
    let ram = board.ram_range();
    let sp = ram.end as u32;
    // Vector table: SP, reset, then every exception and the first 32 IRQs at the code (so an
    // interrupt or fault the code raises runs more of it).
    let table_words = 16 + 32;
    let start = boot + 4 * table_words;
    let mut image = Vec::new();
    image.extend_from_slice(&sp.to_le_bytes());
    for _ in 1..table_words {
        image.extend_from_slice(&(start | 1).to_le_bytes());
    }
    if !board.core.is_armv6m() {
        let mut bases: Vec<u32> = board
            .file
            .peripherals
            .iter()
            .map(|p| p.base as u32)
            .collect();
        bases.extend([0xE000_E000, 0xE000_ED00, ram.start as u32]);
        for (r, base) in bases.iter().cycle().take(8).enumerate() {
            image.extend_from_slice(&mov32(r as u16, *base));
        }
    }
    image.extend_from_slice(code);
    let firmware = Firmware {
        name: "fuzz.elf".into(),
        path: "fuzz.elf".into(),
        hash: String::new(),
        segments: vec![Segment {
            addr: boot,
            data: image.clone(),
            run_addr: boot,
            mem_size: image.len() as u32,
            sections: vec![".text".into()],
        }],
        symbols: Vec::new(),
        elf_entry: start | 1,
    };
    let Ok(mut machine) = Machine::new(&board, firmware, Box::new(CaptureConsole::default()))
    else {
        return;
    };
    let _ = machine.run(Limits {
        max_instructions: Some(20_000),
        max_cycles: Some(2_000_000),
        timeout: Some(std::time::Duration::from_secs(2)),
    });
});
