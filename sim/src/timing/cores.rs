//! Per-core cycle tables and pipeline rules.
//!
//! Sources, cited per figure below: Arm Cortex-M0+ TRM (DDI 0484C, table 3.1), Cortex-M3 TRM
//! (DDI 0337I, table 18-1), Cortex-M4 TRM (DDI 0439B, table 3-1, also TI SWCU192 tables
//! 3-25/3-27), LLVM's `ARMScheduleM4.td`/`ARMScheduleM7.td`, and jnk0le's "pipeline cycle
//! test" measurements on STM32F407, STM32H7 and RP2350, as collected in TIMING.md.

use super::decode::{Class, Insn};
use mcusim_boards::Core;

/// A core's costs and pipeline rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreTiming {
    /// Which core.
    pub core: Core,
    /// Pipeline refill after a taken direct branch (the `P` of the TRM tables).
    pub refill: u32,
    /// Pipeline refill after an indirect branch (BX, POP {pc}, LDR pc, TBB).
    pub refill_indirect: u32,
    /// Extra refill when the branch target is a 32-bit instruction that is not word-aligned.
    pub refill_unaligned_wide: u32,
    /// M3/M4 style load pipelining: a load or store right after a load, whose address does
    /// not depend on that load, costs one cycle less.
    pub load_pipelining: bool,
    /// An address register written by the immediately preceding ALU instruction costs a
    /// cycle (M3/M4 AGU dependency).
    pub address_dependency_stall: bool,
    /// Using a load's result in the next instruction costs this many cycles more.
    pub load_use: u32,
    /// Dual issue: 0 none, 1 two 16-bit instructions (M33), 2 M7 pairs.
    pub dual_issue: u8,
}

/// The timing of a core.
pub fn timing_for(core: Core) -> CoreTiming {
    match core {
        // M0+ TRM table 3.1: B taken 2 (1 + refill 1), BL 3, BX 2, POP {pc} 3+N. No pipelining
        // of loads (2 cycles each).
        Core::CortexM0Plus => CoreTiming {
            core,
            refill: 1,
            refill_indirect: 1,
            refill_unaligned_wide: 0,
            load_pipelining: false,
            address_dependency_stall: false,
            load_use: 0,
            dual_issue: 0,
        },
        // M3/M4 TRM: taken branch 1+P, P = 1 to 3 "depending on alignment and width of the
        // target, and whether the processor manages to speculate the address early". Model: a
        // direct branch (target in the instruction, fetched early) P = 1; an indirect one
        // P = 2, so LDR PC = 2 + 1 + 2 and TBB = 2 + 1 + 1 + 2 meet the TRM's "at least 5"
        // and "at least 6" (TI SWCU185G, the M4 TRM's load/store notes); plus 1 for a 32-bit
        // target that is not word-aligned (jnk0le, STM32F407). Load pipelining and the AGU
        // stall: the same TRM notes.
        Core::CortexM3 | Core::CortexM4 | Core::CortexM4F => CoreTiming {
            core,
            refill: 1,
            refill_indirect: 2,
            refill_unaligned_wide: 1,
            load_pipelining: true,
            address_dependency_stall: true,
            load_use: 0,
            dual_issue: 0,
        },
        // M7 (no public table). LLVM ARMScheduleM7.td: issue width 2, load and MAC latency 2.
        // Branches: the M7 predicts; approximation: one refill cycle per taken branch on
        // average (mispredicts cost 6 to 8, jnk0le STM32H7; predicted ones nothing).
        Core::CortexM7 => CoreTiming {
            core,
            refill: 1,
            refill_indirect: 1,
            refill_unaligned_wide: 0,
            load_pipelining: false,
            address_dependency_stall: false,
            load_use: 1,
            dual_issue: 2,
        },
        // M33 (jnk0le, RP2350): load-to-use 2, taken branch 2, only two 16-bit instructions
        // dual-issue.
        Core::CortexM33 => CoreTiming {
            core,
            refill: 1,
            refill_indirect: 1,
            refill_unaligned_wide: 0,
            load_pipelining: false,
            address_dependency_stall: false,
            load_use: 1,
            dual_issue: 1,
        },
    }
}

impl CoreTiming {
    /// Issue cost of an instruction class, without stalls or refills.
    pub fn cost_of(&self, class: Class) -> u32 {
        use Class::*;
        match self.core {
            Core::CortexM0Plus => match class {
                // Single-cycle multiplier (STM32G0: RM0444 sec. 1, "0-wait multiplier").
                Alu | Mul | It | System | Other | Dsp | Mac | MulLong | MacLong | Div => 1,
                Load | Store | StoreRegOffset | LoadDouble | StoreDouble => 2,
                LoadMultiple(n) | StoreMultiple(n) => 1 + u32::from(n),
                Branch => 1,
                TableBranch => 3,
                // DMB/DSB/ISB: 3 (M0+ TRM table 3.1).
                Barrier => 3,
                FpAlu | FpMac | FpDivSqrt | FpLoadStore | FpTransfer => 1,
                FpMultiple(n) => 1 + u32::from(n),
            },
            Core::CortexM3 | Core::CortexM4 | Core::CortexM4F => match class {
                Alu | Mul | Dsp | It | System | Other => 1,
                // M3 TRM table 18-1: MLA/MLS 2; SMULL/UMULL 3-5, SMLAL/UMLAL 4-7, early
                // terminating on operands (approximation: the midpoint, 4 and 5). M4: all 1.
                Mac => self.m3_or(2, 1),
                MulLong => self.m3_or(4, 1),
                MacLong => self.m3_or(5, 1),
                // 2 to 12: the rest is charged from the operands (`divide_extra`).
                Div => 2,
                Load => 2,
                // STR with immediate offset: effectively 1 through the write buffer.
                Store => 1,
                StoreRegOffset => 2,
                LoadDouble | StoreDouble => 3,
                LoadMultiple(n) | StoreMultiple(n) => 1 + u32::from(n),
                Branch => 1,
                // TBB/TBH: at least 6 = 2 load + 1 add + 3 refill; with the indirect P = 2,
                // issue 4.
                TableBranch => 4,
                // DMB/DSB/ISB: 1 + B; approximation: B = 1 with an empty write buffer.
                Barrier => 2,
                // FPv4-SP (M4 TRM sec. 7.2.3): VADD/VSUB/VMUL/VCMP/VCVT 1, VMLA/VFMA 3,
                // VDIV/VSQRT 14, VLDR 2, VLDM 1+N, VMOV 1.
                FpAlu | FpTransfer => 1,
                FpMac => 3,
                FpDivSqrt => 14,
                FpLoadStore => 2,
                FpMultiple(n) => 1 + u32::from(n),
            },
            Core::CortexM7 => match class {
                Alu | Mul | Mac | Dsp | It | System | Other | Load | Store | StoreRegOffset => 1,
                MulLong | MacLong => 2,
                // LLVM ARMScheduleM7.td: SDIV/UDIV single-issue; the rest from the operands.
                Div => 2,
                LoadDouble | StoreDouble => 2,
                // jnk0le STM32H7: LDM/STM ceil(N/2).
                LoadMultiple(n) | StoreMultiple(n) => u32::from(n).div_ceil(2).max(1),
                Branch => 1,
                TableBranch => 4,
                Barrier => 2,
                FpAlu | FpTransfer | FpLoadStore => 1,
                FpMac => 2,
                // FPv5-SP: VDIV/VSQRT 14 (approximation: as FPv4).
                FpDivSqrt => 14,
                FpMultiple(n) => u32::from(n).div_ceil(2).max(1),
            },
            Core::CortexM33 => match class {
                Alu | Mul | Mac | Dsp | It | System | Other | Load | Store | StoreRegOffset => 1,
                MulLong | MacLong => 1,
                Div => 2,
                // jnk0le RP2350: LDRD/STRD 2, LDM/STM N.
                LoadDouble | StoreDouble => 2,
                LoadMultiple(n) | StoreMultiple(n) => u32::from(n).max(1),
                Branch => 1,
                TableBranch => 4,
                Barrier => 2,
                FpAlu | FpTransfer => 1,
                FpMac => 3,
                FpDivSqrt => 14,
                FpLoadStore => 2,
                FpMultiple(n) => 1 + u32::from(n),
            },
        }
    }

    fn m3_or(&self, m3: u32, other: u32) -> u32 {
        if self.core == Core::CortexM3 {
            m3
        } else {
            other
        }
    }

    /// Issue cost and stall cycles of `insn` after `prev` in the same block.
    pub fn cost(&self, insn: &Insn, prev: Option<&Insn>) -> (u32, u32) {
        let (cost, stall, _) = self.cost_detail(insn, prev);
        (cost, stall)
    }

    /// [`CoreTiming::cost`], and what pipelining with `prev` took off the cost (M3/M4): the
    /// cycles the pair loses again when its two accesses reach different memories.
    pub fn cost_detail(&self, insn: &Insn, prev: Option<&Insn>) -> (u32, u32, u32) {
        use Class::*;
        let mut saving = 0;
        let mut cost = self.cost_of(insn.class);
        let mut stall = 0;
        // A load that writes the PC is a branch through memory: M3/M4 "LDR PC: at least 5"
        // (2 + 1 + refill 2), while POP/LDM with PC is 1+N+P; on M0+ POP {pc} is 3+N
        // (1+N + 1 + refill 1).
        if insn.writes_pc {
            match (self.core, insn.class) {
                (Core::CortexM0Plus, LoadMultiple(_)) => cost += 1,
                (Core::CortexM3 | Core::CortexM4 | Core::CortexM4F, Load) => cost += 1,
                _ => {}
            }
        }
        // M0+ TRM table 3.1: BL (the 32-bit branch) 3 = 2 + refill 1.
        if self.core == Core::CortexM0Plus && insn.class == Branch && insn.size == 4 {
            cost += 1;
        }
        // IT folds onto a preceding 16-bit instruction on M3/M4 (TRM: "IT: 1, can fold").
        if insn.class == It && self.load_pipelining && prev.is_some_and(|p| p.size == 2) {
            cost = 0;
        }
        if let Some(prev) = prev {
            let is_access = matches!(insn.class, Load | Store | StoreRegOffset);
            let depends_on_prev = insn.addr & prev.writes != 0;
            if self.pipelines(insn, prev) {
                saving = cost - cost.saturating_sub(1).max(1);
                cost -= saving;
            }
            let alu = matches!(prev.class, Alu | Mul | Mac | Dsp);
            let is_any_access = is_access
                || matches!(
                    insn.class,
                    LoadDouble | StoreDouble | LoadMultiple(_) | StoreMultiple(_)
                );
            if self.address_dependency_stall && is_any_access && alu && depends_on_prev {
                stall += 1;
            }
            if self.load_use > 0
                && matches!(prev.class, Load | LoadDouble | LoadMultiple(_))
                && insn.reads & prev.writes & 0x7FFF != 0
            {
                stall += self.load_use;
            }
            // M7: a multiply's result two cycles later (LLVM ARMScheduleM7.td).
            if self.dual_issue == 2
                && matches!(prev.class, Mul | Mac | MulLong | MacLong)
                && insn.reads & prev.writes != 0
            {
                stall += 1;
            }
        }
        (cost, stall, saving)
    }

    /// Whether `insn` pipelines with the load before it (M3/M4): a load or store whose address
    /// does not depend on that load's result (TRM load/store timing notes). Only when both
    /// reach the same memory (jnk0le, STM32F103 and STM32F407: "load pipelining happens only
    /// when targeting the same memory block by all loads (e.g. SRAM1 vs SRAM2 (and CCM))",
    /// and the same for a store after a load): known only when running, so the machine takes
    /// the saving back per pair (`BlockCost::pipelined`).
    pub fn pipelines(&self, insn: &Insn, prev: &Insn) -> bool {
        use Class::*;
        self.load_pipelining
            && matches!(insn.class, Load | Store | StoreRegOffset)
            && prev.class == Load
            && insn.addr & prev.writes == 0
    }

    /// Cycles a store takes beyond its issue cost because of the instruction after it: on
    /// M3/M4 a load. jnk0le (STM32F103, STM32F407) measured "stores cannot be pipelined with
    /// following load instructions (adds extra cycle to store)", LDM included; the TRMs give
    /// no figure. A register-offset store already costs 2 and nothing pipelines after it.
    pub fn store_held_by(&self, store: &Insn, next: &Insn) -> u32 {
        use Class::*;
        u32::from(
            self.load_pipelining
                && store.class == Store
                && matches!(next.class, Load | LoadDouble | LoadMultiple(_)),
        )
    }

    /// Whether two single loads would issue together on the M7 if they reach different banks
    /// (jnk0le, STM32H7: "two loads (targeting dtcm or cache or both) can be dual issued if
    /// each one is targeting different bank (even and odd words)"): known only when running,
    /// so [`CoreTiming::pairs`] keeps them apart and the machine takes the second's cost off
    /// per pair (`BlockCost::dual_loads`).
    pub fn pairs_in_other_banks(&self, first: &Insn, second: &Insn) -> bool {
        self.dual_issue == 2
            && first.class == Class::Load
            && second.class == Class::Load
            && second.reads & first.writes == 0
            && !first.writes_pc
            && !second.writes_pc
    }

    /// Whether `second` issues together with `first`.
    pub fn pairs(&self, first: &Insn, second: &Insn) -> bool {
        use Class::*;
        let independent = second.reads & first.writes == 0 && !first.writes_pc;
        match self.dual_issue {
            // M33: only two 16-bit instructions, both simple (jnk0le RP2350).
            1 => {
                independent
                    && first.size == 2
                    && second.size == 2
                    && matches!(first.class, Alu)
                    && matches!(second.class, Alu | Branch)
            }
            // M7: one memory access per pair, stores never pair, multiplies never pair with
            // each other, multi-cycle and system instructions issue alone (jnk0le STM32H7,
            // LLVM ARMScheduleM7.td).
            2 => {
                let single = |c: Class| {
                    matches!(
                        c,
                        Div | LoadDouble
                            | StoreDouble
                            | LoadMultiple(_)
                            | StoreMultiple(_)
                            | TableBranch
                            | Barrier
                            | System
                            | FpDivSqrt
                            | FpMultiple(_)
                            | MulLong
                            | MacLong
                    )
                };
                let memory = |c: Class| matches!(c, Load | Store | StoreRegOffset | FpLoadStore);
                let store = |c: Class| matches!(c, Store | StoreRegOffset);
                let multiply = |c: Class| matches!(c, Mul | Mac | Dsp);
                let conflict = single(first.class)
                    || single(second.class)
                    || store(second.class)
                    || memory(first.class) && memory(second.class)
                    || multiply(first.class) && multiply(second.class);
                independent && !conflict
            }
            _ => false,
        }
    }
}
