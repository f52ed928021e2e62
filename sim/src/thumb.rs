//! Just enough Thumb-2 decoding for the simulator: instruction lengths (to split a block into
//! instructions), the sleep hints, and the data address of a load or store computed from the
//! register file (to tell which instruction of a block made an MMIO access).
//!
//! The encodings are from the Armv7-M Architecture Reference Manual (DDI 0403E), section A5
//! ("The Thumb instruction set encoding") and A6/A7 for the individual instructions.

/// Whether a halfword is the first half of a 32-bit instruction (ARMv7-M ARM A5.1: bits
/// [15:11] are 0b11101, 0b11110 or 0b11111).
pub fn is_wide(hw1: u16) -> bool {
    hw1 >> 11 >= 0b11101
}

/// The instruction start offsets of a block of Thumb code, relative to its first byte.
/// A trailing half instruction (a block cut short) is not counted.
pub fn instruction_offsets(code: &[u8]) -> Vec<u16> {
    let mut offsets = Vec::with_capacity(code.len() / 2);
    let mut at = 0usize;
    while at + 2 <= code.len() {
        let hw1 = u16::from_le_bytes([code[at], code[at + 1]]);
        let len = if is_wide(hw1) { 4 } else { 2 };
        if at + len > code.len() {
            break;
        }
        offsets.push(at as u16);
        at += len;
    }
    offsets
}

/// Whether `insn` is a call: BL (`11110x.. 11x1....`, A7.7.18) or BLX register
/// (`0100 0111 1xxx x000`, A7.7.19).
pub fn is_call(insn: &[u8]) -> bool {
    if insn.len() < 2 {
        return false;
    }
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    if !is_wide(hw1) {
        return hw1 & 0xFF87 == 0x4780;
    }
    insn.len() >= 4 && hw1 & 0xF800 == 0xF000 && {
        let hw2 = u16::from_le_bytes([insn[2], insn[3]]);
        hw2 & 0xD000 == 0xD000
    }
}

/// The target of a direct branch B (encodings T1 to T4, A7.7.12) at `pc`, if `insn` is one.
/// BL, CBZ/CBNZ and everything else: `None`.
pub fn branch_target(insn: &[u8], pc: u32) -> Option<u32> {
    let hw1 = u16::from_le_bytes([*insn.first()?, *insn.get(1)?]);
    let sext = |v: u32, bits: u32| ((v << (32 - bits)) as i32 >> (32 - bits)) as u32;
    let at = pc.wrapping_add(4);
    if !is_wide(hw1) {
        return match hw1 >> 12 {
            // T1: 1101 cond imm8, cond neither 1110 (undefined) nor 1111 (SVC).
            0b1101 if (hw1 >> 9) & 7 != 7 => {
                Some(at.wrapping_add(sext(u32::from(hw1 & 0xFF) << 1, 9)))
            }
            // T2: 11100 imm11.
            0b1110 if hw1 & 0x0800 == 0 => {
                Some(at.wrapping_add(sext(u32::from(hw1 & 0x7FF) << 1, 12)))
            }
            _ => None,
        };
    }
    let hw2 = u16::from_le_bytes([*insn.get(2)?, *insn.get(3)?]);
    if hw1 & 0xF800 != 0xF000 || hw2 & 0x8000 == 0 {
        return None;
    }
    let s = u32::from(hw1 >> 10) & 1;
    let (j1, j2) = (u32::from(hw2 >> 13) & 1, u32::from(hw2 >> 11) & 1);
    let imm11 = u32::from(hw2 & 0x7FF);
    match hw2 & 0x5000 {
        // T3: conditional, cond not 111x (those encodings are other instructions).
        0x0000 if (hw1 >> 7) & 7 != 7 => {
            let imm6 = u32::from(hw1 & 0x3F);
            let imm = s << 20 | j2 << 19 | j1 << 18 | imm6 << 12 | imm11 << 1;
            Some(at.wrapping_add(sext(imm, 21)))
        }
        // T4: unconditional.
        0x1000 => {
            let imm10 = u32::from(hw1 & 0x3FF);
            let (i1, i2) = (!(j1 ^ s) & 1, !(j2 ^ s) & 1);
            let imm = s << 24 | i1 << 23 | i2 << 22 | imm10 << 12 | imm11 << 1;
            Some(at.wrapping_add(sext(imm, 25)))
        }
        _ => None,
    }
}

/// Whether `insn` may return from a function: it writes the PC from a register or from
/// memory and is neither a call nor a table branch (BX Rm, POP/LDM with the PC, LDR PC not
/// relative to the PC, MOV PC, Rm).
pub fn may_return(insn: &[u8]) -> bool {
    if insn.len() < 2 {
        return false;
    }
    let d = crate::timing::decode::decode(insn);
    let pc_relative_load = {
        let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
        // LDR.W pc, [pc, ...] (a jump table), A7.7.43: 1111 1000 x101 1111.
        is_wide(hw1) && hw1 & 0xFF7F == 0xF85F
    };
    d.indirect
        && d.class != crate::timing::decode::Class::TableBranch
        && d.writes & (1 << 14) == 0
        && !pc_relative_load
}

/// The hint instructions that end a unicorn run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Wait for interrupt.
    Wfi,
    /// Wait for event.
    Wfe,
    /// Yield (a no-op on a single core).
    Yield,
}

/// Whether the instruction ending at the end of `code` is WFI, WFE or YIELD (16- or 32-bit
/// encodings: `BF30`/`BF20`/`BF10`, `F3AF 8003`/`F3AF 8002`/`F3AF 8001`).
pub fn hint_before(code: &[u8]) -> Option<Hint> {
    let hw = |at: usize| u16::from_le_bytes([code[at], code[at + 1]]);
    let n = code.len();
    if n >= 2 {
        match hw(n - 2) {
            0xBF30 if n < 4 || !is_wide(hw(n - 4)) => return Some(Hint::Wfi),
            0xBF20 if n < 4 || !is_wide(hw(n - 4)) => return Some(Hint::Wfe),
            0xBF10 if n < 4 || !is_wide(hw(n - 4)) => return Some(Hint::Yield),
            _ => {}
        }
    }
    if n >= 4 && hw(n - 4) == 0xF3AF {
        match hw(n - 2) {
            0x8003 => return Some(Hint::Wfi),
            0x8002 => return Some(Hint::Wfe),
            0x8001 => return Some(Hint::Yield),
            _ => {}
        }
    }
    None
}

/// The bytes a load or store instruction accesses, `start..end`, computed from the register
/// values before it executes. `None` for instructions that access no data memory, or whose
/// address does not come from a register (literal loads) or is not decoded here.
pub fn data_access(insn: &[u8], reg: impl Fn(u16) -> u32) -> Option<std::ops::Range<u32>> {
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    let bits = |v: u16, hi: u32, lo: u32| (u32::from(v) >> lo) & ((1 << (hi - lo + 1)) - 1);
    let span = |start: u32, len: u32| Some(start..start.wrapping_add(len));
    if !is_wide(hw1) {
        let rn = reg(bits(hw1, 5, 3) as u16);
        let imm5 = bits(hw1, 10, 6);
        return match hw1 >> 11 {
            0b01100 | 0b01101 => span(rn.wrapping_add(imm5 * 4), 4),
            0b01110 | 0b01111 => span(rn.wrapping_add(imm5), 1),
            0b10000 | 0b10001 => span(rn.wrapping_add(imm5 * 2), 2),
            // Register offset: STR/STRH/STRB/LDRSB/LDR/LDRH/LDRB/LDRSH (A5.2.4).
            0b01010 | 0b01011 => {
                let rm = reg(bits(hw1, 8, 6) as u16);
                let len = [4, 2, 1, 1, 4, 2, 1, 2][bits(hw1, 11, 9) as usize];
                span(rn.wrapping_add(rm), len)
            }
            // SP-relative.
            0b10010 | 0b10011 => span(reg(13).wrapping_add(bits(hw1, 7, 0) * 4), 4),
            // LDM/STM Rn!, {list}.
            0b11000 | 0b11001 => {
                let base = reg(bits(hw1, 10, 8) as u16);
                span(base, (hw1 & 0xFF).count_ones() * 4)
            }
            _ => None,
        };
    }
    if insn.len() < 4 {
        return None;
    }
    let hw2 = u16::from_le_bytes([insn[2], insn[3]]);
    let rn_index = hw1 & 0xF;
    let rn = reg(rn_index);
    // Load/store single (A5.3.7 to A5.3.10): 1111 100x xxxx xxxx.
    if hw1 & 0xFE00 == 0xF800 {
        if rn_index == 15 {
            return None;
        }
        let len = match bits(hw1, 6, 5) {
            0 => 1,
            1 => 2,
            _ => 4,
        };
        if hw1 & 0x0080 != 0 {
            return span(rn.wrapping_add(bits(hw2, 11, 0)), len);
        }
        if hw2 & 0x0800 != 0 {
            let (p, u) = (hw2 & 0x0400 != 0, hw2 & 0x0200 != 0);
            let imm8 = bits(hw2, 7, 0);
            let at = match (p, u) {
                (false, _) => rn,
                (true, true) => rn.wrapping_add(imm8),
                (true, false) => rn.wrapping_sub(imm8),
            };
            return span(at, len);
        }
        if bits(hw2, 11, 6) == 0 {
            let rm = reg(bits(hw2, 3, 0) as u16);
            return span(rn.wrapping_add(rm << bits(hw2, 5, 4)), len);
        }
        return None;
    }
    // LDRD/STRD and the exclusives (A5.3.5): 1110 100x x1xx xxxx.
    if hw1 & 0xFE40 == 0xE840 {
        let (p, u, w) = (hw1 & 0x0100 != 0, hw1 & 0x0080 != 0, hw1 & 0x0020 != 0);
        let imm8 = bits(hw2, 7, 0) * 4;
        if !p && !w {
            // LDREX/STREX (word) when bit 7 is clear; TBB/TBH and byte/halfword exclusives
            // (op1 = 01) otherwise.
            return if !u {
                span(rn.wrapping_add(imm8), 4)
            } else if hw1 & 0xFFF0 == 0xE8D0 && bits(hw2, 7, 4) <= 1 {
                // TBB/TBH: a table read at Rn + Rm (x2).
                let rm = reg(bits(hw2, 3, 0) as u16);
                let half = bits(hw2, 4, 4);
                span(rn.wrapping_add(rm << half), 1 + half)
            } else {
                span(rn, 4)
            };
        }
        if rn_index == 15 {
            return None;
        }
        let at = match (p, u) {
            (false, _) => rn,
            (true, true) => rn.wrapping_add(imm8),
            (true, false) => rn.wrapping_sub(imm8),
        };
        return span(at, 8);
    }
    // LDM/STM (A5.3.5): 1110 100x x0xx xxxx, IA (01) or DB (10).
    if hw1 & 0xFE40 == 0xE800 {
        let n = u32::from(hw2).count_ones() * 4;
        return match bits(hw1, 8, 7) {
            0b01 => span(rn, n),
            0b10 => span(rn.wrapping_sub(n), n),
            _ => None,
        };
    }
    None
}

/// The bytes a PC-relative (literal) load reads, `start..end`, for the instruction at `pc`:
/// `LDR Rt, [PC, #imm8*4]` and `LDR{B,H,SB,SH}.W Rt, [PC, #+/-imm12]` (A7.7.43 and kin), and
/// `LDRD Rt, Rt2, [PC, #+/-imm8*4]`. The base is the word-aligned PC + 4.
pub fn literal_access(insn: &[u8], pc: u32) -> Option<std::ops::Range<u32>> {
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    let base = (pc + 4) & !3;
    if !is_wide(hw1) {
        return (hw1 >> 11 == 0b01001).then(|| {
            let at = base + u32::from(hw1 & 0xFF) * 4;
            at..at + 4
        });
    }
    if insn.len() < 4 {
        return None;
    }
    let hw2 = u16::from_le_bytes([insn[2], insn[3]]);
    let up = hw1 & 0x0080 != 0;
    let offset = |imm: u32| if up { base + imm } else { base - imm };
    // Load single, literal: 1111 100S UXX1 1111 (the L bit set, Rn = PC).
    if hw1 & 0xFE1F == 0xF81F {
        let len = match (hw1 >> 5) & 3 {
            0 => 1,
            1 => 2,
            _ => 4,
        };
        let at = offset(u32::from(hw2 & 0x0FFF));
        return Some(at..at + len);
    }
    // LDRD (literal): 1110 100x x1x1 1111 with P set.
    if hw1 & 0xFE5F == 0xE85F && hw1 & 0x0100 != 0 {
        let at = offset(u32::from(hw2 & 0xFF) * 4);
        return Some(at..at + 8);
    }
    None
}

/// Whether the instruction is one that Armv7-M and Armv8-M require to be word-aligned
/// whatever CCR.UNALIGN_TRP says (Armv7-M ARM A3.2.1): LDM/STM (any form but those on SP,
/// PUSH and POP, whose stack is aligned by construction) and LDRD/STRD. The exclusives need
/// alignment too, but QEMU already checks those.
pub fn requires_word_alignment(insn: &[u8]) -> bool {
    if insn.len() < 2 {
        return false;
    }
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    if !is_wide(hw1) {
        // LDM/STM Rn!, {list} (A5.2): 1100 x.
        return hw1 >> 12 == 0b1100;
    }
    let rn = hw1 & 0xF;
    if rn == 13 || rn == 15 {
        return false;
    }
    // LDM/STM.W IA/DB (op 01 or 10), and LDRD/STRD (P or W set).
    let ldm_stm = hw1 & 0xFE40 == 0xE800 && matches!((hw1 >> 7) & 3, 0b01 | 0b10);
    let ldrd_strd = hw1 & 0xFE40 == 0xE840 && hw1 & 0x0120 != 0;
    ldm_stm || ldrd_strd
}

/// If the instruction's only effect on some register is to add a constant to it (a load or
/// store writing back its base, or an ADD/SUB of an immediate to itself), that register and the
/// constant. Used to follow address registers through a block.
pub fn base_update(insn: &[u8]) -> Option<(u16, i32)> {
    if insn.len() < 2 {
        return None;
    }
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    let bits =
        |v: u16, hi: u32, lo: u32| ((u32::from(v) >> lo) & ((1 << (hi - lo + 1)) - 1)) as i32;
    if !is_wide(hw1) {
        return match hw1 >> 11 {
            // LDM/STM Rn!, {list}: the base advances past the list (LDM with Rn listed does
            // not write back).
            0b11000 | 0b11001 => {
                let rn = bits(hw1, 10, 8) as u16;
                let list = hw1 & 0xFF;
                let load = hw1 & 0x0800 != 0;
                (!(load && list & (1 << rn) != 0)).then_some((rn, 4 * list.count_ones() as i32))
            }
            // ADDS/SUBS Rdn, #imm8.
            0b00110 => Some((bits(hw1, 10, 8) as u16, bits(hw1, 7, 0))),
            0b00111 => Some((bits(hw1, 10, 8) as u16, -bits(hw1, 7, 0))),
            // ADDS/SUBS Rd, Rn, #imm3 with Rd = Rn.
            0b00011 if bits(hw1, 10, 9) >= 2 && bits(hw1, 5, 3) == bits(hw1, 2, 0) => {
                let imm3 = bits(hw1, 8, 6);
                Some((
                    bits(hw1, 2, 0) as u16,
                    if hw1 & 0x0200 != 0 { -imm3 } else { imm3 },
                ))
            }
            _ => None,
        };
    }
    if insn.len() < 4 {
        return None;
    }
    let hw2 = u16::from_le_bytes([insn[2], insn[3]]);
    let rn = hw1 & 0xF;
    // LDR/STR (immediate, T4) with writeback: 1111 1000 0xx1 Rn | Rt 1PUW imm8.
    if hw1 & 0xFE00 == 0xF800 && hw1 & 0x0080 == 0 && hw2 & 0x0800 != 0 && hw2 & 0x0100 != 0 {
        let load = hw1 & 0x0010 != 0;
        let rt = hw2 >> 12;
        if load && rt == rn {
            return None;
        }
        let imm8 = bits(hw2, 7, 0);
        return Some((rn, if hw2 & 0x0200 != 0 { imm8 } else { -imm8 }));
    }
    // LDRD/STRD with writeback: 1110 100P U1W L Rn | Rt Rt2 imm8.
    if hw1 & 0xFE40 == 0xE840 && hw1 & 0x0020 != 0 {
        let load = hw1 & 0x0010 != 0;
        let (rt, rt2) = (hw2 >> 12, (hw2 >> 8) & 0xF);
        if load && (rt == rn || rt2 == rn) {
            return None;
        }
        let imm = 4 * bits(hw2, 7, 0);
        return Some((rn, if hw1 & 0x0080 != 0 { imm } else { -imm }));
    }
    // LDM/STM.W IA (op 01) or DB (op 10) with writeback.
    if hw1 & 0xFE40 == 0xE800 && matches!((hw1 >> 7) & 3, 0b01 | 0b10) && hw1 & 0x0020 != 0 {
        let load = hw1 & 0x0010 != 0;
        if load && hw2 & (1 << rn) != 0 {
            return None;
        }
        let n = 4 * (hw2 & 0xDFFF).count_ones() as i32;
        return Some((rn, if (hw1 >> 7) & 3 == 0b01 { n } else { -n }));
    }
    // ADD.W/SUB.W Rd, Rn, #imm with Rd = Rn: modified immediate (T3) below 256, or imm12 (T4).
    if hw1 & 0xF800 == 0xF000 && hw2 & 0x8000 == 0 && (hw2 >> 8) & 0xF == rn && rn != 13 && rn != 15
    {
        let op = (hw1 >> 4) & 0x1F;
        // Plain binary immediates (T4) are imm12 as they stand; modified immediates (T3) are
        // followed only below 256, where they are the value itself.
        let plain = hw1 & 0x0200 != 0;
        let imm12 = (bits(hw1, 10, 10) << 11) | (bits(hw2, 14, 12) << 8) | bits(hw2, 7, 0);
        let value = (plain || imm12 < 256).then_some(imm12)?;
        return match (plain, op) {
            // ADD.W (T3, S clear or set) / ADDW (T4).
            (false, 0b10000 | 0b10001) | (true, 0b00000) => Some((rn, value)),
            // SUB.W (T3) / SUBW (T4).
            (false, 0b11010 | 0b11011) | (true, 0b01010) => Some((rn, -value)),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(halfwords: &[u16]) -> Vec<u8> {
        halfwords.iter().flat_map(|h| h.to_le_bytes()).collect()
    }

    #[test]
    fn direct_branch_targets() {
        // b.n to itself (e7fe) and 4 bytes back (e7fc).
        assert_eq!(branch_target(&le(&[0xE7FE]), 0x100), Some(0x100));
        assert_eq!(branch_target(&le(&[0xE7FC]), 0x100), Some(0xFC));
        // beq.n +8: d004.
        assert_eq!(branch_target(&le(&[0xD004]), 0x100), Some(0x10C));
        // b.w 0x800e904 from 0x800e7aa (bgt.w, T3: f300 80ab).
        assert_eq!(
            branch_target(&le(&[0xF300, 0x80AB]), 0x0800_E7AA),
            Some(0x0800_E904)
        );
        // b.w forward (T4): f000 b800 at 0x200 -> 0x204.
        assert_eq!(branch_target(&le(&[0xF000, 0xB800]), 0x200), Some(0x204));
        // b.w backward: f7ff bffe is a branch to itself.
        assert_eq!(branch_target(&le(&[0xF7FF, 0xBFFE]), 0x300), Some(0x300));
        // Not branches: bl, svc, udf, bx lr.
        assert_eq!(branch_target(&le(&[0xF000, 0xF800]), 0x200), None);
        assert_eq!(branch_target(&le(&[0xDF00]), 0x200), None);
        assert_eq!(branch_target(&le(&[0xDE00]), 0x200), None);
        assert_eq!(branch_target(&le(&[0x4770]), 0x200), None);
    }

    #[test]
    fn returns_are_told_from_calls_and_tables() {
        for (hw, returns) in [
            (&[0x4770][..], true),       // bx lr
            (&[0x4718], true),           // bx r3
            (&[0xBD70], true),           // pop {r4, r5, r6, pc}
            (&[0xE8BD, 0x8070], true),   // pop.w {r4, r5, r6, pc}
            (&[0xF85D, 0xFB04], true),   // ldr.w pc, [sp], #4
            (&[0x46F7], true),           // mov pc, lr
            (&[0x4798], false),          // blx r3
            (&[0xF000, 0xF800], false),  // bl
            (&[0xE8DF, 0xF001], false),  // tbb [pc, r1]
            (&[0xF85F, 0xF020], false),  // ldr.w pc, [pc, r0, lsl #2]
            (&[0xE7FE], false),          // b .
            (&[0xBD00 & 0xFEFF], false), // pop {} without the pc is not a return
        ] {
            assert_eq!(may_return(&le(hw)), returns, "{hw:04x?}");
        }
    }

    #[test]
    fn follows_base_register_updates() {
        // ldrd r2, r3, [r0], #8
        assert_eq!(base_update(&le(&[0xE8F0, 0x2302])), Some((0, 8)));
        // ldr r1, [r4], #4 ; str r1, [r4, #-4]!
        assert_eq!(base_update(&le(&[0xF854, 0x1B04])), Some((4, 4)));
        assert_eq!(base_update(&le(&[0xF844, 0x1D04])), Some((4, -4)));
        // adds r5, #8 ; subs r2, r2, #3
        assert_eq!(base_update(&le(&[0x3508])), Some((5, 8)));
        assert_eq!(base_update(&le(&[0x1ED2])), Some((2, -3)));
        // add.w r6, r6, #8 ; addw r6, r6, #1000 ; sub.w r6, r6, #16
        assert_eq!(base_update(&le(&[0xF106, 0x0608])), Some((6, 8)));
        assert_eq!(base_update(&le(&[0xF206, 0x36E8])), Some((6, 1000)));
        assert_eq!(base_update(&le(&[0xF1A6, 0x0610])), Some((6, -16)));
        // ldmia r0!, {r1, r2} ; stmdb r3!, {r4-r7}
        assert_eq!(base_update(&le(&[0xC806])), Some((0, 8)));
        assert_eq!(base_update(&le(&[0xE923, 0x00F0])), Some((3, -16)));
        // Loads into their own base, and other arithmetic: not followed.
        assert_eq!(base_update(&le(&[0xC801])), None);
        assert_eq!(base_update(&le(&[0x4418])), None);
        assert_eq!(base_update(&le(&[0xF106, 0x0508])), None);
    }

    #[test]
    fn splits_mixed_width_code() {
        // movs r0,#1 ; ldr.w r1,[r0,#4] ; nop ; bl (two halfwords)
        let code = le(&[0x2001, 0xF8D0, 0x1004, 0xBF00, 0xF000, 0xF800]);
        assert_eq!(instruction_offsets(&code), [0, 2, 6, 8]);
        // A block cut in the middle of a 32-bit instruction keeps only whole ones.
        assert_eq!(instruction_offsets(&code[..10]), [0, 2, 6]);
    }

    #[test]
    fn recognises_hints_of_both_widths() {
        assert_eq!(hint_before(&le(&[0x2001, 0xBF30])), Some(Hint::Wfi));
        assert_eq!(hint_before(&le(&[0xBF20])), Some(Hint::Wfe));
        assert_eq!(hint_before(&le(&[0xF3AF, 0x8003])), Some(Hint::Wfi));
        // 0xBF30 as the second half of a wide instruction is not a WFI.
        assert_eq!(hint_before(&le(&[0xF8D0, 0xBF30])), None);
        assert_eq!(hint_before(&le(&[0xBF00])), None);
    }

    #[test]
    fn finds_literal_pool_addresses() {
        // ldr r0, [pc, #8] at 0x1002: base (0x1002 + 4) & !3 = 0x1004.
        assert_eq!(literal_access(&le(&[0x4802]), 0x1002), Some(0x100C..0x1010));
        // ldr.w r0, [pc, #-16] (U clear) at 0x1000.
        assert_eq!(
            literal_access(&le(&[0xF85F, 0x0010]), 0x1000),
            Some(0x0FF4..0x0FF8)
        );
        // ldrb.w r1, [pc, #3]
        assert_eq!(
            literal_access(&le(&[0xF89F, 0x1003]), 0x1000),
            Some(0x1007..0x1008)
        );
        // ldr r0, [r1] is not a literal load.
        assert_eq!(literal_access(&le(&[0x6808]), 0x1000), None);
    }

    #[test]
    fn knows_which_accesses_must_be_word_aligned() {
        assert!(requires_word_alignment(&le(&[0xC830]))); // ldmia r0!, {r4, r5}
        assert!(requires_word_alignment(&le(&[0xE891, 0x001C]))); // ldmia.w r1, {r2-r4}
        assert!(requires_word_alignment(&le(&[0xE9D1, 0x2302]))); // ldrd r2, r3, [r1, #8]
        assert!(!requires_word_alignment(&le(&[0xE92D, 0x4070]))); // push.w {r4-r6, lr}
        assert!(!requires_word_alignment(&le(&[0xE851, 0x0F00]))); // ldrex r0, [r1]
        assert!(!requires_word_alignment(&le(&[0xF8D1, 0x0004]))); // ldr.w r0, [r1, #4]
        assert!(!requires_word_alignment(&le(&[0xB430]))); // push {r4, r5}
    }

    #[test]
    fn computes_load_and_store_addresses() {
        let regs = |r: u16| {
            [
                0x1000,
                0xE000_1000,
                8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0x2000_0100,
                0,
                0,
            ][r as usize]
        };
        // ldr r1, [r1, #4]
        assert_eq!(
            data_access(&le(&[0x6849]), regs),
            Some(0xE000_1004..0xE000_1008)
        );
        // ldr r0, [r1, r2]
        assert_eq!(
            data_access(&le(&[0x5888]), regs),
            Some(0xE000_1008..0xE000_100C)
        );
        // ldr.w r0, [r1, #4]
        assert_eq!(
            data_access(&le(&[0xF8D1, 0x0004]), regs),
            Some(0xE000_1004..0xE000_1008)
        );
        // ldr r0, [r1, #-4] (imm8, P=1 U=0)
        assert_eq!(
            data_access(&le(&[0xF851, 0x0C04]), regs),
            Some(0xE000_0FFC..0xE000_1000)
        );
        // ldrd r2, r3, [r1, #8]
        assert_eq!(
            data_access(&le(&[0xE9D1, 0x2302]), regs),
            Some(0xE000_1008..0xE000_1010)
        );
        // ldmia.w r1, {r2, r3, r4}
        assert_eq!(
            data_access(&le(&[0xE891, 0x001C]), regs),
            Some(0xE000_1000..0xE000_100C)
        );
        // ldr r0, [pc, #4] is a literal load: no register address.
        assert_eq!(data_access(&le(&[0x4801]), regs), None);
        // adds r0, #1 is no memory access.
        assert_eq!(data_access(&le(&[0x3001]), regs), None);
    }
}
