//! The device context inside a running machine: a device's own bus reads and writes reach
//! memory and the other devices, cost the slaves' wait states, fault cleanly, and what it logs
//! becomes the run's activity.

use super::*;
use crate::devices::Context;
use mcusim_traces::StopReason;

/// A test device: a one-channel copier. SRC at 0x0, DST at 0x4, LEN at 0x8; writing 1 to 0xC
/// copies LEN bytes a word at a time through the bus; STATUS at 0x10 reads 1 when it finished,
/// 2 when the bus faulted.
#[derive(Default)]
struct Copier {
    regs: [u32; 5],
}

impl Device for Copier {
    fn read(&mut self, offset: u32, _: usize, _: &mut Context<'_>) -> u32 {
        self.regs.get(offset as usize / 4).copied().unwrap_or(0)
    }
    fn write(&mut self, offset: u32, _: usize, value: u32, cx: &mut Context<'_>) {
        let Some(r) = self.regs.get_mut(offset as usize / 4) else {
            return;
        };
        *r = value;
        if offset != 0xC || value != 1 {
            return;
        }
        let [src, dst, len, ..] = self.regs;
        let begin = cx.now();
        let mut at = begin;
        let mut status = 1;
        for o in (0..len).step_by(4) {
            let mut word = [0u8; 4];
            let moved = cx
                .bus()
                .read(src + o, &mut word)
                .and_then(|r| Ok(r + cx.bus().write(dst + o, &word)?));
            match moved {
                Ok(c) => at += c,
                Err(_) => {
                    status = 2;
                    break;
                }
            }
        }
        self.regs[4] = status;
        cx.record(begin, at, u64::from(len), 0, "copy");
        cx.pulse_irq();
    }
}

const DEVICE: u32 = 0x4000_0000;

/// mps2-an386 with a device block at 0x4000_0000 and firmware that programs it: SRC, DST,
/// LEN = 16, start, read STATUS into r2, then spin.
fn machine(src: u32, dst: u32) -> Machine {
    let text = mcusim_boards::Board::builtin("mps2-an386")
        .unwrap()
        .unwrap()
        .text;
    let board = Board::parse(
        &format!("{text}\n[[peripheral]]\nname = \"copier\"\nkind = \"cmsdk-timer\"\nbase = 0x4000_0000\nsize = 0x1000\n"),
        "test",
    )
    .unwrap();
    let mut code: Vec<u8> = Vec::new();
    // Vector table: the stack at the top of ssram23's first KiB, reset at 0x41.
    let mut vt = [0u32; 16];
    vt[0] = 0x2000_0400;
    vt[1] = 0x41;
    vt.iter().for_each(|w| code.extend(w.to_le_bytes()));
    let insns: [u16; 12] = [
        0x4805, // ldr r0, [pc, #20]   DEVICE
        0x4906, // ldr r1, [pc, #24]   src
        0x6001, // str r1, [r0, #0]
        0x4906, // ldr r1, [pc, #24]   dst
        0x6041, // str r1, [r0, #4]
        0x2110, // movs r1, #16
        0x6081, // str r1, [r0, #8]
        0x2101, // movs r1, #1
        0x60C1, // str r1, [r0, #12]
        0x6902, // ldr r2, [r0, #16]
        0xE7FE, // b .
        0xBF00, // nop (pads the literals to a word)
    ];
    insns.iter().for_each(|h| code.extend(h.to_le_bytes()));
    [DEVICE, src, dst]
        .iter()
        .for_each(|w| code.extend(w.to_le_bytes()));
    let pattern: Vec<u8> = (1..=16).collect();
    let segment = |addr: u32, data: Vec<u8>| crate::Segment {
        addr,
        run_addr: addr,
        mem_size: data.len() as u32,
        data,
        sections: vec![".text".into()],
    };
    let firmware = Firmware {
        name: "copier.elf".into(),
        path: "copier.elf".into(),
        hash: String::new(),
        segments: vec![segment(0, code), segment(0x2000_1000, pattern)],
        symbols: Vec::new(),
        elf_entry: 0x41,
    };
    let mut m = Machine::new(&board, firmware, Box::new(CaptureConsole::default())).unwrap();
    m.replace_device("copier", Box::new(Copier::default()));
    m
}

fn run(m: &mut Machine) -> u32 {
    let r = m.run(Limits {
        max_instructions: Some(30),
        max_cycles: None,
        timeout: None,
    });
    assert!(matches!(r.stop, StopReason::Limit { .. }), "{:?}", r.stop);
    reg(&m.uc, RegisterARM::R2)
}

#[test]
fn a_device_copies_memory_through_the_bus_and_logs_it() {
    let mut m = machine(0x2000_1000, 0x2000_2000);
    assert_eq!(run(&mut m), 1, "status: done");
    let copied = m.read_memory(0x2000_2000, 16).unwrap();
    assert_eq!(copied, (1..=16).collect::<Vec<u8>>());
    let a = m.activity();
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].track.as_str(), a[0].bytes, a[0].label.as_str()),
        ("copier", 16, "copy")
    );
    // Four words read and four written from zero-wait-state SSRAM: one cycle each.
    assert_eq!(a[0].end.0 - a[0].begin.0, 8);
    assert!(a[0].begin.0 > 0);
}

#[test]
fn a_device_reads_another_devices_registers_through_the_bus() {
    // From UART0's CTRL register (offset 8) on: zero after reset.
    let mut m = machine(0x4000_4008, 0x2000_2000);
    m.write_memory(0x2000_2000, &[0xAA; 16]);
    assert_eq!(run(&mut m), 1);
    assert_eq!(m.read_memory(0x2000_2000, 4).unwrap(), [0; 4]);
}

#[test]
fn a_bus_access_no_slave_answers_is_the_devices_fault_not_the_machines() {
    // Outside every region, and the device's own registers (it is running: it sees a fault).
    for (src, dst) in [(0x2000_1000, 0x3000_0000), (DEVICE, 0x2000_2000)] {
        let mut m = machine(src, dst);
        assert_eq!(run(&mut m), 2, "status: bus error for {src:#x} -> {dst:#x}");
        assert_eq!(m.activity().len(), 1);
    }
}
