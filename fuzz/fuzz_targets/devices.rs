//! The devices under a hostile guest, structure-aware: a built-in board with a DMA, an NPU or
//! a sample stream; memory seeded with NPU descriptors whose words are the kinds that matter
//! (operations, small dimensions, addresses in RAM, flash and the peripherals, or anything);
//! then a program of register writes and reads of every peripheral, the NVIC and SysTick (with
//! values of the same kinds, at 8, 16 and 32 bits), waits, WFI and interrupts on and off.
//! An interrupt's handler returns at once; a fault's skips the instruction that faulted (a
//! write to a register that refuses it), so the program goes on to its later steps. Whatever
//! the registers and descriptors say, the run must end with a stop reason, never a panic, in
//! bounded time.
//!
//! The program is 16-bit Thumb only (constants built with MOVS/LSLS/ADDS), so it runs on the
//! Armv6-M board too.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use mcusim_boards::{Board, PeripheralModel};
use mcusim_sim::devices::{NPU_DESCRIPTOR_BYTES, SYSTICK_BASE, npu_word as word};
use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine, Segment};

/// The boards with the devices a guest drives by DMA or descriptors.
const BOARDS: [&str; 3] = ["corstone-300", "nucleo-l4r5zi", "nucleo-g0b1re"];
/// NPU descriptors seeded into RAM (48 words each).
const DESCRIPTORS: usize = 4;

struct Map {
    ram: std::ops::Range<u32>,
    boot: u32,
    /// Register blocks: every peripheral, the NVIC and SysTick.
    blocks: Vec<(u32, u32)>,
    /// The NPUs' bases.
    npus: Vec<u32>,
    /// The DMA controllers' bases and channels.
    dmas: Vec<(u32, u32)>,
}

/// A register of a block: mostly among its first 64 (where the registers are).
fn register(u: &mut Unstructured<'_>, m: &Map) -> Result<u32> {
    let (base, size) = *u.choose(&m.blocks)?;
    let words = (size / 4).clamp(1, if u.ratio(7, 8)? { 64 } else { 256 });
    Ok(base + 4 * u.int_in_range(0..=words - 1)?)
}

/// A write of `v` to `reg` (32-bit).
fn store(code: &mut Vec<u16>, reg: u32, v: u32) {
    constant(code, 0, reg);
    constant(code, 1, v);
    code.push(0x6001); // str r1, [r0]
}

/// A word of the kinds that reach a device's deeper states.
fn value(u: &mut Unstructured<'_>, m: &Map) -> Result<u32> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => u.int_in_range(0..=16)?,
        1 => 1 << u.int_in_range(0..=31u32)?,
        // A descriptor's address (for QBASE), or anywhere in the first 16 KiB of RAM.
        2 if u.arbitrary()? => {
            m.ram.start + NPU_DESCRIPTOR_BYTES * u.int_in_range(0..=DESCRIPTORS as u32)?
        }
        2 => m.ram.start + 4 * u.int_in_range(0..=4095u32)?,
        3 => m.boot + 4 * u.int_in_range(0..=4095u32)?,
        4 => register(u, m)?,
        5 => u32::MAX - u.int_in_range(0..=3u32)?,
        6 => m.ram.end - 4 * u.int_in_range(0..=16u32)?,
        _ => u.arbitrary()?,
    })
}

/// Where a coherent descriptor's operands go: after the descriptors, 4 KiB each (input,
/// second input, output, weights, bias, multipliers, shifts).
const OPERANDS: u32 = 1024;

/// A descriptor whose shapes agree (so it gets past the NPU's checks into its datapath),
/// then with a few words changed to anything.
fn descriptor(u: &mut Unstructured<'_>, m: &Map, i: u32) -> Result<[u32; 48]> {
    let mut w = [0u32; 48];
    let op = u.int_in_range(1..=8u32)?;
    let slot = |k: u32| m.ram.start + OPERANDS + (i * 7 + k) * 4096;
    let (h, wd, c) = (
        u.int_in_range(1..=8u32)?,
        u.int_in_range(1..=8u32)?,
        u.int_in_range(1..=8u32)?,
    );
    let (kh, kw) = (
        u.int_in_range(1..=h.min(3))?,
        u.int_in_range(1..=wd.min(3))?,
    );
    let (sh, sw) = (u.int_in_range(1..=2u32)?, u.int_in_range(1..=2u32)?);
    let (oh, ow) = ((h - kh) / sh + 1, (wd - kw) / sw + 1);
    let cout = u.int_in_range(1..=8u32)?;
    w[word::OP] = op;
    w[word::IFM..=word::SHIFT].copy_from_slice(&[
        slot(0),
        slot(1),
        slot(2),
        slot(3),
        slot(4),
        slot(5),
        slot(6),
    ]);
    let dims = |w: &mut [u32; 48], at: usize, d: [u32; 4]| w[at..at + 4].copy_from_slice(&d);
    dims(&mut w, word::IFM_DIMS, [1, h, wd, c]);
    let (ofm, filter) = match op {
        1 => ([1, oh, ow, cout], [cout, kh, kw, c]),
        2 => ([1, oh, ow, c], [1, kh, kw, c]),
        3 => {
            dims(&mut w, word::IFM_DIMS, [1, 1, 1, c]);
            ([1, 1, 1, cout], [cout, 1, 1, c])
        }
        4 | 5 => ([1, oh, ow, c], [1, kh, kw, 1]),
        _ => ([1, h, wd, c], [1, 1, 1, 1]),
    };
    dims(&mut w, word::IFM2_DIMS, [1, h, wd, c]);
    dims(&mut w, word::OFM_DIMS, ofm);
    dims(&mut w, word::FILTER_DIMS, filter);
    w[word::STRIDE..word::STRIDE + 2].copy_from_slice(&[sh, sw]);
    w[word::DILATION..=word::DEPTH_MULTIPLIER].copy_from_slice(&[1, 1, 1]);
    w[word::ACT] = (-128i32) as u32;
    w[word::ACT + 1] = 127;
    // Scales (multiplier, shift) of the inputs, the left shift, the output's scale.
    w[word::IFM_SCALE..word::OFM_SCALE + 2].copy_from_slice(&[
        1 << 30,
        0,
        1 << 30,
        0,
        20,
        1 << 30,
        (-20i32) as u32,
    ]);
    w[word::FLAGS] = u.int_in_range(0..=15u32)?;
    w[word::LENGTH] = u.int_in_range(1..=4096u32)?;
    for _ in 0..u.int_in_range(0..=3u8)? {
        let k = u.int_in_range(1..=47usize)?;
        w[k] = value(u, m)?;
    }
    Ok(w)
}

/// `rd = v` in 16-bit Thumb: MOVS, then LSLS #8 and ADDS for each further byte.
fn constant(code: &mut Vec<u16>, rd: u16, v: u32) {
    let b = v.to_be_bytes();
    code.push(0x2000 | (rd << 8) | u16::from(b[0]));
    for byte in &b[1..] {
        code.push((8 << 6) | (rd << 3) | rd);
        code.push(0x3000 | (rd << 8) | u16::from(*byte));
    }
}

fn program(u: &mut Unstructured<'_>, m: &Map) -> Result<Vec<u16>> {
    let mut code = Vec::new();
    let steps = u.int_in_range(1..=48u8)?;
    for _ in 0..steps {
        match u.int_in_range(0..=11u8)? {
            // An NPU started on a queue of the seeded descriptors.
            10 if !m.npus.is_empty() => {
                let base = *u.choose(&m.npus)?;
                let first = u.int_in_range(0..=DESCRIPTORS as u32 - 1)?;
                store(
                    &mut code,
                    base + 0x08,
                    m.ram.start + NPU_DESCRIPTOR_BYTES * first,
                );
                store(
                    &mut code,
                    base + 0x0C,
                    u.int_in_range(0..=DESCRIPTORS as u32 - first)?,
                );
                store(&mut code, base + 0x18, u.int_in_range(0..=1)?);
                store(&mut code, base + 0x10, 1);
            }
            // A DMA channel set up and enabled (memory to memory or not, any other bits).
            11 if !m.dmas.is_empty() => {
                let (base, channels) = *u.choose(&m.dmas)?;
                let ch = base + 20 * u.int_in_range(0..=channels - 1)?;
                store(&mut code, ch + 0x10, value(u, m)?);
                store(&mut code, ch + 0x14, value(u, m)?);
                let count = if u.ratio(3, 4)? {
                    u.int_in_range(1..=64)?
                } else {
                    value(u, m)?
                };
                store(&mut code, ch + 0x0C, count);
                store(&mut code, ch + 0x08, u.arbitrary::<u32>()? | 1);
            }
            // Writes, most often: to a register of a block.
            0..=5 | 10 | 11 => {
                let reg = register(u, m)?;
                constant(&mut code, 0, reg);
                constant(&mut code, 1, value(u, m)?);
                code.push(match u.int_in_range(0..=5u8)? {
                    0 => 0x7001, // strb r1, [r0]
                    1 => 0x8001, // strh r1, [r0]
                    _ => 0x6001, // str r1, [r0]
                });
            }
            6 => {
                let reg = register(u, m)?;
                constant(&mut code, 0, reg);
                code.push(0x6801); // ldr r1, [r0]
            }
            // A wait: a countdown loop of up to 16,320 iterations.
            7 => {
                let n = u.int_in_range(1..=255u32)? << u.int_in_range(0..=6u32)?;
                constant(&mut code, 2, n);
                code.push(0x3A01); // subs r2, #1
                code.push(0xD1FD); // bne (back to the subs)
            }
            // WFI, less often than the rest: with nothing to wake the core it ends the run.
            8 if u.ratio(1, 3)? => code.push(0xBF30),
            8 => code.push(0xBF00), // nop
            _ => code.push(if u.arbitrary::<bool>()? {
                0xB662 // cpsie i
            } else {
                0xB672 // cpsid i
            }),
        }
    }
    code.push(0xE7FE); // b .
    Ok(code)
}

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let Ok(board) = Board::resolve(u.choose(&BOARDS)?) else {
        return Ok(());
    };
    let ram = board.ram_range();
    let mut blocks: Vec<(u32, u32)> = board
        .file
        .peripherals
        .iter()
        .map(|p| (p.base as u32, p.size as u32))
        .collect();
    blocks.extend([(0xE000_E100, 0x400), (SYSTICK_BASE, 0x10)]);
    let peripherals = &board.file.peripherals;
    let m = Map {
        ram: ram.start as u32..ram.end as u32,
        boot: board.boot_region().base as u32,
        blocks,
        npus: peripherals
            .iter()
            .filter(|p| matches!(p.model, PeripheralModel::Npu { .. }))
            .map(|p| p.base as u32)
            .collect(),
        dmas: peripherals
            .iter()
            .filter_map(|p| match p.model {
                PeripheralModel::Stm32Dma { channels, .. } => {
                    Some((p.base as u32, u32::from(channels.max(1))))
                }
                _ => None,
            })
            .collect(),
    };
    // The descriptors, at the start of RAM: mostly coherent, else words of every kind (the
    // dimensions, strides, padding and dilation mostly small).
    let mut words = Vec::with_capacity(48 * DESCRIPTORS);
    for i in 0..DESCRIPTORS {
        if u.ratio(3, 4)? {
            words.extend(descriptor(&mut u, &m, i as u32)?);
            continue;
        }
        words.push(u.int_in_range(1..=9u32)?); // the operation (9: none)
        for w in 1..48 {
            let shape = (word::IFM_DIMS..word::ACT).contains(&w) && u.int_in_range(0..=7u8)? != 0;
            words.push(if shape {
                u.int_in_range(0..=8u32)?
            } else {
                value(&mut u, &m)?
            });
        }
    }
    let mut descriptors: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    // The operands' slots: multipliers of 2^30 with a shift of -1 (a sane requantisation),
    // the rest zero.
    descriptors.resize((OPERANDS + 4096 * 7 * DESCRIPTORS as u32) as usize, 0);
    for i in 0..DESCRIPTORS {
        for (k, v) in [(5, 1u32 << 30), (6, (-1i32) as u32)] {
            let at = (OPERANDS + (i as u32 * 7 + k) * 4096) as usize;
            for ch in 0..64 {
                descriptors[at + 4 * ch..at + 4 * ch + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
    // Vector table (SP, reset, then the faults at a handler that steps over the faulting
    // instruction and every other exception and 48 IRQs at one that returns), the handlers,
    // the program.
    let vectors = 16 + 48;
    let handler = m.boot + 4 * vectors;
    let skip = handler + 2;
    let start = skip + 12;
    let mut image = Vec::new();
    image.extend_from_slice(&m.ram.end.to_le_bytes());
    image.extend_from_slice(&(start | 1).to_le_bytes());
    for n in 2..vectors {
        let at = if (3..=6).contains(&n) { skip } else { handler };
        image.extend_from_slice(&(at | 1).to_le_bytes());
    }
    let handlers: [u16; 7] = [
        0x4770, // bx lr
        0x4668, // mov r0, sp (the frame: the program runs on the main stack)
        0x6981, // ldr r1, [r0, #24] (the stacked pc)
        0x3102, // adds r1, #2 (every instruction of the program is 16-bit)
        0x6181, // str r1, [r0, #24]
        0x4770, // bx lr
        0xBF00, // nop
    ];
    for h in handlers {
        image.extend_from_slice(&h.to_le_bytes());
    }
    for h in program(&mut u, &m)? {
        image.extend_from_slice(&h.to_le_bytes());
    }
    let segment = |addr: u32, data: Vec<u8>, section: &str| Segment {
        addr,
        run_addr: addr,
        mem_size: data.len() as u32,
        data,
        sections: vec![section.into()],
    };
    let firmware = Firmware {
        name: "devices.elf".into(),
        path: "devices.elf".into(),
        hash: String::new(),
        segments: vec![
            segment(m.boot, image, ".text"),
            segment(m.ram.start, descriptors, ".data"),
        ],
        symbols: Vec::new(),
        elf_entry: start | 1,
    };
    let Ok(mut machine) = Machine::new(&board, firmware, Box::new(CaptureConsole::default()))
    else {
        return Ok(());
    };
    let _ = machine.run(Limits {
        max_instructions: Some(50_000),
        max_cycles: Some(2_000_000),
        timeout: Some(std::time::Duration::from_secs(2)),
    });
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
