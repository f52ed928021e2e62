//! Thumb-2 decoding into timing classes: what kind of work an instruction is, which core
//! registers it reads, writes and forms addresses from. Enough for the cycle model; not a
//! disassembler. Encodings from the Armv7-M Architecture Reference Manual (DDI 0403E) A5.2
//! (16-bit) and A5.3 (32-bit), and A7.5/A7.7 for the floating-point extension.

use crate::thumb::is_wide;

/// The kinds of instruction the cycle model tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Data processing: moves, adds, logic, shifts, compares, extends, bit fields, saturate.
    Alu,
    /// 32-bit result multiply: MUL.
    Mul,
    /// Multiply-accumulate with a 32-bit result: MLA, MLS.
    Mac,
    /// 64-bit result multiply: SMULL, UMULL.
    MulLong,
    /// 64-bit multiply-accumulate: SMLAL, UMLAL and the DSP long forms.
    MacLong,
    /// DSP extension: SIMD add/subtract, saturating arithmetic, halfword and dual multiplies.
    Dsp,
    /// SDIV, UDIV.
    Div,
    /// A single load (LDR, LDRB, LDRH, LDRSB, LDRSH, LDREX, the literal forms).
    Load,
    /// A store with an immediate offset.
    Store,
    /// A store with a register offset (nothing pipelines after it on M3/M4).
    StoreRegOffset,
    /// LDRD.
    LoadDouble,
    /// STRD.
    StoreDouble,
    /// LDM and POP with this many registers.
    LoadMultiple(u8),
    /// STM and PUSH with this many registers.
    StoreMultiple(u8),
    /// A branch: B, BL, BX, BLX, CBZ/CBNZ; conditional or not.
    Branch,
    /// TBB, TBH.
    TableBranch,
    /// IT.
    It,
    /// DMB, DSB, ISB.
    Barrier,
    /// NOP and the other hints, SVC, BKPT, CPS, MRS, MSR.
    System,
    /// Floating-point add, subtract, multiply, compare, convert, move, absolute, negate.
    FpAlu,
    /// Floating-point multiply-accumulate (VMLA, VMLS, VNMLA, VFMA, ...).
    FpMac,
    /// VDIV, VSQRT.
    FpDivSqrt,
    /// VLDR, VSTR.
    FpLoadStore,
    /// VLDM, VSTM, VPUSH, VPOP with this many 32-bit words.
    FpMultiple(u8),
    /// A transfer between core and floating-point registers (VMOV, VMRS, VMSR).
    FpTransfer,
    /// Something the model does not know; costs one cycle.
    Other,
}

/// One decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// 2 or 4 bytes.
    pub size: u8,
    /// Its timing class.
    pub class: Class,
    /// Core registers read (bit n = Rn), address registers included.
    pub reads: u16,
    /// Core registers written (bit 15: the PC, a branch).
    pub writes: u16,
    /// Core registers that form a load/store address.
    pub addr: u16,
    /// Whether it writes the PC (a branch, a load to PC, an ALU write to PC).
    pub writes_pc: bool,
    /// Whether it is conditional (a conditional branch, CBZ/CBNZ); IT blocks are not tracked.
    pub conditional: bool,
    /// Whether it writes the PC from a register or memory (BX, BLX Rm, POP {pc}, LDR pc, TBB,
    /// MOV pc): the target is not in the instruction, so the core cannot fetch it early.
    pub indirect: bool,
}

const PC: u16 = 1 << 15;
const SP: u16 = 1 << 13;
const LR: u16 = 1 << 14;

fn r(n: u32) -> u16 {
    1 << (n & 15)
}

fn bits(v: u16, hi: u32, lo: u32) -> u32 {
    (u32::from(v) >> lo) & ((1 << (hi - lo + 1)) - 1)
}

fn insn(size: u8, class: Class, reads: u16, writes: u16, addr: u16) -> Insn {
    Insn {
        size,
        class,
        reads: reads | addr,
        writes,
        addr,
        writes_pc: writes & PC != 0,
        conditional: false,
        // Direct branches set this to false below; everything else that writes the PC
        // takes its target from a register or memory.
        indirect: writes & PC != 0 && class != Class::Branch,
    }
}

/// Decode the instruction at the start of `code` (which holds at least its bytes).
pub fn decode(code: &[u8]) -> Insn {
    let hw1 = u16::from_le_bytes([code[0], code[1]]);
    if is_wide(hw1) && code.len() >= 4 {
        decode32(hw1, u16::from_le_bytes([code[2], code[3]]))
    } else {
        decode16(hw1)
    }
}

fn decode16(h: u16) -> Insn {
    use Class::*;
    let lo3 = |s: u32| r(bits(h, s + 2, s));
    let alu = |reads: u16, writes: u16| insn(2, Alu, reads, writes, 0);
    match h >> 10 {
        // Shift (immediate), add, subtract, move, compare (A5.2.1).
        0b000000..=0b000101 => alu(lo3(3), lo3(0)),
        0b000110 | 0b000111 => {
            // ADD/SUB register or 3-bit immediate.
            let rm = if h & 0x0400 == 0 { lo3(6) } else { 0 };
            alu(lo3(3) | rm, lo3(0))
        }
        0b001000..=0b001111 => {
            // MOV/CMP/ADD/SUB immediate; CMP (op 01) writes nothing.
            let rdn = lo3(8);
            match bits(h, 12, 11) {
                0b00 => alu(0, rdn),
                0b01 => alu(rdn, 0),
                _ => alu(rdn, rdn),
            }
        }
        // Data processing (A5.2.2): TST, CMP, CMN write nothing; MUL is a multiply.
        0b010000 => {
            let (rdn, rm) = (lo3(0), lo3(3));
            match bits(h, 9, 6) {
                0b1000 | 0b1010 | 0b1011 => alu(rdn | rm, 0),
                0b1101 => insn(2, Mul, rdn | rm, rdn, 0),
                0b1001 => alu(rm, rdn),
                0b1111 => alu(rm, rdn),
                _ => alu(rdn | rm, rdn),
            }
        }
        // Special data processing and branch and exchange (A5.2.3).
        0b010001 => {
            let rd = r(bits(h, 7, 7) << 3 | bits(h, 2, 0));
            let rm = r(bits(h, 6, 3));
            match bits(h, 9, 8) {
                0b00 => alu(rd | rm, rd),
                0b01 => alu(rd | rm, 0),
                0b10 => alu(rm, rd),
                // BX, BLX.
                _ => {
                    let link = if h & 0x80 != 0 { LR } else { 0 };
                    Insn {
                        indirect: true,
                        ..insn(2, Branch, rm, PC | link, 0)
                    }
                }
            }
        }
        // LDR (literal).
        0b010010 | 0b010011 => insn(2, Load, 0, lo3(8), PC),
        // Load/store register offset (A5.2.4).
        0b010100..=0b010111 => {
            let (rt, rn, rm) = (lo3(0), lo3(3), lo3(6));
            match bits(h, 11, 9) {
                0b000..=0b010 => insn(2, StoreRegOffset, rt, 0, rn | rm),
                _ => insn(2, Load, 0, rt, rn | rm),
            }
        }
        // Load/store word/byte/halfword immediate (bit 11: load).
        0b011000..=0b100011 => {
            let (rt, rn) = (lo3(0), lo3(3));
            if h & 0x0800 != 0 {
                insn(2, Load, 0, rt, rn)
            } else {
                insn(2, Store, rt, 0, rn)
            }
        }
        // SP-relative load/store.
        0b100100..=0b100111 => {
            let rt = lo3(8);
            if h & 0x0800 != 0 {
                insn(2, Load, 0, rt, SP)
            } else {
                insn(2, Store, rt, 0, SP)
            }
        }
        // ADR, ADD Rd, SP, #imm.
        0b101000..=0b101011 => alu(if h & 0x0800 != 0 { SP } else { PC }, lo3(8)),
        // Miscellaneous 16-bit instructions (A5.2.5).
        0b101100..=0b101111 => misc16(h),
        // STM/LDM (A7.7.156, A7.7.40).
        0b110000..=0b110011 => {
            let rn = lo3(8);
            let list = h & 0xFF;
            let n = list.count_ones() as u8;
            if h & 0x0800 != 0 {
                insn(2, LoadMultiple(n), 0, list | rn, rn)
            } else {
                insn(2, StoreMultiple(n), list, rn, rn)
            }
        }
        // Conditional branch, UDF, SVC (A5.2.6).
        0b110100..=0b110111 => match bits(h, 11, 8) {
            0b1110 => insn(2, Other, 0, 0, 0),
            0b1111 => insn(2, System, 0, 0, 0),
            _ => Insn {
                conditional: true,
                ..insn(2, Branch, 0, PC, 0)
            },
        },
        // B (unconditional).
        0b111000 | 0b111001 => insn(2, Branch, 0, PC, 0),
        _ => insn(2, Other, 0, 0, 0),
    }
}

fn misc16(h: u16) -> Insn {
    use Class::*;
    let lo3 = |s: u32| r(bits(h, s + 2, s));
    match bits(h, 11, 5) {
        // ADD/SUB SP, SP, #imm.
        0b0000000..=0b0000111 => insn(2, Alu, SP, SP, 0),
        // CBZ, CBNZ.
        0b0001000..=0b0001111
        | 0b1001000..=0b1001111
        | 0b0011000..=0b0011111
        | 0b1011000..=0b1011111 => Insn {
            conditional: true,
            ..insn(2, Branch, lo3(0), PC, 0)
        },
        // SXTH, SXTB, UXTH, UXTB.
        0b0010000..=0b0010111 => insn(2, Alu, lo3(3), lo3(0), 0),
        // PUSH {list, LR?}.
        0b0100000..=0b0101111 => {
            let list = (h & 0xFF) | if h & 0x100 != 0 { LR } else { 0 };
            insn(2, StoreMultiple(list.count_ones() as u8), list | SP, SP, SP)
        }
        // CPS.
        0b0110011 => insn(2, System, 0, 0, 0),
        // REV, REV16, REVSH.
        0b1010000..=0b1010111 => insn(2, Alu, lo3(3), lo3(0), 0),
        // POP {list, PC?}.
        0b1100000..=0b1101111 => {
            let list = (h & 0xFF) | if h & 0x100 != 0 { PC } else { 0 };
            insn(2, LoadMultiple(list.count_ones() as u8), SP, list | SP, SP)
        }
        // BKPT.
        0b1110000..=0b1110111 => insn(2, System, 0, 0, 0),
        // IT and hints.
        0b1111000..=0b1111111 => {
            if h & 0xF != 0 {
                insn(2, It, 0, 0, 0)
            } else {
                insn(2, System, 0, 0, 0)
            }
        }
        _ => insn(2, Other, 0, 0, 0),
    }
}

fn decode32(h1: u16, h2: u16) -> Insn {
    use Class::*;
    let rn = r(bits(h1, 3, 0));
    let rd8 = r(bits(h2, 11, 8));
    let rt12 = r(bits(h2, 15, 12));
    let rm = r(bits(h2, 3, 0));
    let op1 = bits(h1, 12, 11);
    let op2 = bits(h1, 10, 4);
    let wide = |class, reads, writes, addr| insn(4, class, reads, writes, addr);
    match op1 {
        0b01 if op2 & 0b1100100 == 0b0000000 => {
            // Load/store multiple (A5.3.5).
            let list = h2;
            let n = list.count_ones() as u8;
            let wb = if h1 & 0x0020 != 0 { rn } else { 0 };
            if h1 & 0x0010 != 0 {
                wide(LoadMultiple(n), 0, list | wb, rn)
            } else {
                wide(StoreMultiple(n), list, wb, rn)
            }
        }
        0b01 if op2 & 0b1100100 == 0b0000100 => {
            // Load/store dual or exclusive, table branch (A5.3.6).
            let (p, w, l) = (h1 & 0x0100 != 0, h1 & 0x0020 != 0, h1 & 0x0010 != 0);
            let wb = if w { rn } else { 0 };
            if !p && !w {
                if h1 & 0x0080 == 0 {
                    // LDREX/STREX.
                    return if l {
                        wide(Load, 0, rt12, rn)
                    } else {
                        wide(Store, rt12, rd8, rn)
                    };
                }
                if l && bits(h2, 7, 5) == 0 {
                    return wide(TableBranch, rm, PC, rn | rm);
                }
                return if l {
                    wide(Load, 0, rt12, rn)
                } else {
                    wide(Store, rt12, rm, rn)
                };
            }
            if l {
                wide(LoadDouble, 0, rt12 | rd8 | wb, rn)
            } else {
                wide(StoreDouble, rt12 | rd8, wb, rn)
            }
        }
        // Data processing (shifted register); TST/TEQ/CMP/CMN have Rd = PC.
        0b01 if op2 & 0b1100000 == 0b0100000 => {
            let writes = if rd8 == PC { 0 } else { rd8 };
            wide(Alu, rn | rm, writes, 0)
        }
        0b01 | 0b11 if op2 & 0b1000000 != 0 => coprocessor(h1, h2),
        0b10 if h2 & 0x8000 == 0 => {
            // Data processing, modified or plain immediate (A5.3.1, A5.3.3).
            let writes = if rd8 == PC { 0 } else { rd8 };
            wide(Alu, rn, writes, 0)
        }
        0b10 => branch_misc(h1, h2),
        0b11 => {
            match op2 {
                // Store single (A5.3.10).
                _ if op2 & 0b1110001 == 0b0000000 => {
                    if h1 & 0x0080 == 0 && bits(h2, 11, 6) == 0 {
                        wide(StoreRegOffset, rt12, 0, rn | rm)
                    } else {
                        let wb = if h1 & 0x0080 == 0 && h2 & 0x0900 == 0x0900 {
                            rn
                        } else {
                            0
                        };
                        wide(Store, rt12, wb, rn)
                    }
                }
                // Loads (A5.3.7 to A5.3.9).
                _ if op2 & 0b1100001 == 0b0000001 => {
                    let addr = if bits(h1, 3, 0) == 15 {
                        PC
                    } else if h1 & 0x0080 == 0 && bits(h2, 11, 6) == 0 {
                        rn | rm
                    } else {
                        rn
                    };
                    let wb = if h1 & 0x0080 == 0 && h2 & 0x0900 == 0x0900 {
                        rn
                    } else {
                        0
                    };
                    wide(Load, 0, rt12 | wb, addr)
                }
                // Data processing (register) (A5.3.12): shifts, extends, SIMD, misc.
                _ if op2 & 0b1110000 == 0b0100000 => {
                    let class = if bits(h1, 7, 7) == 1 && bits(h2, 7, 7) == 0 {
                        // Parallel add/subtract (op1 1xxx, op2 0xxx): DSP.
                        Dsp
                    } else if bits(h1, 7, 4) >= 0b1000 && bits(h2, 7, 6) == 0b10 {
                        // QADD/QSUB/..., REV, CLZ, SEL: saturating ones are DSP.
                        if bits(h1, 5, 4) == 0 { Dsp } else { Alu }
                    } else {
                        Alu
                    };
                    wide(class, rn | rm, rd8, 0)
                }
                // Multiply, multiply-accumulate, absolute difference (A5.3.16).
                _ if op2 & 0b1111000 == 0b0110000 => {
                    let ra = if bits(h2, 15, 12) == 15 { 0 } else { rt12 };
                    let class = match (bits(h1, 6, 4), bits(h2, 5, 4)) {
                        (0b000, 0b00) => {
                            if ra == 0 {
                                Mul
                            } else {
                                Mac
                            }
                        }
                        (0b000, 0b01) => Mac,
                        _ => Dsp,
                    };
                    wide(class, rn | rm | ra, rd8, 0)
                }
                // Long multiply, long multiply-accumulate, divide (A5.3.17).
                _ if op2 & 0b1111000 == 0b0111000 => match bits(h1, 6, 4) {
                    0b001 | 0b011 => wide(Div, rn | rm, rd8, 0),
                    0b000 | 0b010 => wide(MulLong, rn | rm, rt12 | rd8, 0),
                    _ => {
                        let class = if bits(h1, 6, 4) == 0b100 && bits(h2, 7, 4) == 0
                            || bits(h1, 6, 4) == 0b110 && bits(h2, 7, 4) == 0
                        {
                            MacLong
                        } else {
                            // SMLALxy, SMLALD, SMLSLD, UMAAL: DSP long MACs.
                            MacLong
                        };
                        wide(class, rn | rm | rt12 | rd8, rt12 | rd8, 0)
                    }
                },
                _ => wide(Other, 0, 0, 0),
            }
        }
        _ => wide(Other, 0, 0, 0),
    }
}

fn branch_misc(h1: u16, h2: u16) -> Insn {
    use Class::*;
    let op = bits(h1, 10, 4);
    let wide = |class, reads, writes| insn(4, class, reads, writes, 0);
    match bits(h2, 14, 12) {
        // B<c>.W, or (condition 111x) the miscellaneous control instructions.
        0b000 | 0b010 => {
            if op & 0b0111000 != 0b0111000 {
                return Insn {
                    conditional: true,
                    ..wide(Branch, 0, PC)
                };
            }
            match op {
                // MSR, MRS.
                0b0111000 | 0b0111001 => wide(System, r(bits(h1, 3, 0)), 0),
                0b0111110 | 0b0111111 => wide(System, 0, r(bits(h2, 11, 8))),
                // Barriers.
                0b0111011 => wide(Barrier, 0, 0),
                _ => wide(System, 0, 0),
            }
        }
        // B.W.
        0b001 | 0b011 => wide(Branch, 0, PC),
        // BL.
        0b101 | 0b111 => wide(Branch, 0, PC | LR),
        _ => wide(Other, 0, 0),
    }
}

/// Floating-point instructions (coprocessors 10 and 11; A5.3.18, A7.5).
fn coprocessor(h1: u16, h2: u16) -> Insn {
    use Class::*;
    let rn = r(bits(h1, 3, 0));
    let rt = r(bits(h2, 15, 12));
    let wide = |class, reads, writes, addr| insn(4, class, reads, writes, addr);
    if bits(h2, 11, 9) != 0b101 {
        return wide(Other, 0, 0, 0);
    }
    let op1 = bits(h1, 9, 4);
    if op1 & 0b100000 == 0 {
        // Extension register load/store (A7.6): VLDR/VSTR, VLDM/VSTM/VPUSH/VPOP, and the
        // 64-bit transfers (VMOV two core registers).
        if op1 & 0b111110 == 0b000100 {
            return wide(FpTransfer, rt | r(bits(h1, 3, 0)), 0, 0);
        }
        if op1 & 0b110010 == 0b010000 {
            return wide(FpLoadStore, 0, 0, rn);
        }
        let words = bits(h2, 7, 0) as u8;
        let wb = if h1 & 0x0020 != 0 { rn } else { 0 };
        return wide(FpMultiple(words), 0, wb, rn);
    }
    if h2 & 0x0010 != 0 {
        // 8-, 16- and 32-bit transfers between core and extension registers (VMOV, VMRS,
        // VMSR); VMRS APSR_nzcv, FPSCR writes only flags.
        let to_core = h1 & 0x0010 != 0;
        let writes = if to_core && bits(h2, 15, 12) != 15 {
            rt
        } else {
            0
        };
        return wide(FpTransfer, if to_core { 0 } else { rt }, writes, 0);
    }
    // Data processing (A7.5): opc1 is h1 bits 7:4 without the D bit (bit 6).
    let opc1 = (bits(h1, 7, 7) << 2) | bits(h1, 5, 4);
    match opc1 {
        0b000 | 0b001 => wide(FpMac, 0, 0, 0),
        0b100 => wide(FpDivSqrt, 0, 0, 0),
        0b101 | 0b110 => wide(FpMac, 0, 0, 0),
        0b111 if bits(h1, 3, 0) == 0b0001 && h2 & 0x00C0 == 0x00C0 => wide(FpDivSqrt, 0, 0, 0),
        _ => wide(FpAlu, 0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(halfwords: &[u16]) -> Insn {
        let bytes: Vec<u8> = halfwords.iter().flat_map(|h| h.to_le_bytes()).collect();
        decode(&bytes)
    }

    #[test]
    fn classifies_common_compiler_output() {
        use Class::*;
        let cases: &[(&[u16], Class, &str)] = &[
            (&[0x2001], Alu, "movs r0, #1"),
            (&[0x4348], Mul, "muls r0, r1"),
            (&[0x6808], Load, "ldr r0, [r1]"),
            (&[0x6008], Store, "str r0, [r1]"),
            (&[0x5088], StoreRegOffset, "str r0, [r1, r2]"),
            (&[0xB510], StoreMultiple(2), "push {r4, lr}"),
            (&[0xBD10], LoadMultiple(2), "pop {r4, pc}"),
            (&[0xD1F7], Branch, "bne"),
            (&[0x4770], Branch, "bx lr"),
            (&[0xBF08], It, "it eq"),
            (&[0xBF00], System, "nop"),
            (&[0xF913, 0xCB01], Load, "ldrsb.w ip, [r3], #1"),
            (&[0xFB0C, 0x0001], Mac, "mla r0, ip, r1, r0"),
            (&[0xFB00, 0xF001], Mul, "mul.w r0, r0, r1"),
            (&[0xFB20, 0x0001], Dsp, "smlad r0, r0, r1, r0"),
            (&[0xFB81, 0x2304], MulLong, "smull r2, r3, r1, r4"),
            (&[0xFB91, 0xF0F2], Div, "sdiv r0, r1, r2"),
            (&[0xE9D3, 0x3200], LoadDouble, "ldrd r3, r2, [r3]"),
            (&[0xE92D, 0x41F0], StoreMultiple(6), "push.w {r4-r8, lr}"),
            (&[0xE8BD, 0x81F0], LoadMultiple(6), "pop.w {r4-r8, pc}"),
            (&[0xE8DF, 0xF001], TableBranch, "tbb [pc, r1]"),
            (&[0xF000, 0xF800], Branch, "bl"),
            (&[0xF3BF, 0x8F4F], Barrier, "dsb sy"),
            (&[0xEB00, 0x0181], Alu, "add.w r1, r0, r1, lsl #2"),
            (&[0xF04F, 0x0001], Alu, "mov.w r0, #1"),
            (&[0xFA81, 0xF012], Dsp, "qadd8 r0, r1, r2"),
            (&[0xEE30, 0x0A81], FpAlu, "vadd.f32 s0, s1, s2"),
            (&[0xEE00, 0x0A81], FpMac, "vmla.f32 s0, s1, s2"),
            (&[0xEE80, 0x0A81], FpDivSqrt, "vdiv.f32 s0, s1, s2"),
            (&[0xEEB1, 0x0AC0], FpDivSqrt, "vsqrt.f32 s0, s0"),
            (&[0xED91, 0x0A00], FpLoadStore, "vldr s0, [r1]"),
            (&[0xEE10, 0x0A10], FpTransfer, "vmov r0, s0"),
            (&[0xECBD, 0x8A04], FpMultiple(4), "vpop {s16-s19}"),
        ];
        for (code, class, text) in cases {
            assert_eq!(d(code).class, *class, "{text}");
        }
    }

    #[test]
    fn tracks_registers_for_dependencies() {
        // ldr r0, [r1]: reads r1 as an address, writes r0.
        let i = d(&[0x6808]);
        assert_eq!((i.addr, i.writes), (1 << 1, 1 << 0));
        // adds r1, r0, #4 writes r1.
        assert_eq!(d(&[0x1D01]).writes, 1 << 1);
        // cmp r0, #1 writes nothing.
        assert_eq!(d(&[0x2801]).writes, 0);
        // pop {r4, pc} writes the PC.
        assert!(d(&[0xBD10]).writes_pc);
        // bne is conditional, b is not.
        assert!(d(&[0xD1F7]).conditional);
        assert!(!d(&[0xE7FB]).conditional);
        // bx lr, pop {pc} and tbb are indirect; b, bl and cbz are not.
        for (code, indirect) in [
            (&[0x4770u16][..], true),
            (&[0xBD10], true),
            (&[0xE8DF, 0xF001], true),
            (&[0xE7FB], false),
            (&[0xF000, 0xF800], false),
            (&[0xB108], false),
        ] {
            assert_eq!(d(code).indirect, indirect, "{code:x?}");
        }
    }
}
