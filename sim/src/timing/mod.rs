//! The cycle model, kept apart from execution: a block of Thumb code goes in (once, when the
//! simulator first meets it), its cost per instruction comes out; the machine only looks the
//! cost up afterwards. Per-core figures live in [`cores`], each citing its source.
//!
//! What is static (known from the code): each instruction's issue cost, load/store pipelining,
//! the address-dependency and load-use stalls, M7 and M33 dual issue. What is dynamic (known
//! only when running): whether a branch was taken (charged as a pipeline refill when the next
//! block is not the fall-through), divide early termination (charged by a hook on each divide
//! from its operands), exception entry, and sleep.

mod cores;
pub mod decode;
mod flash;
pub mod npu;
pub mod stride;

pub use cores::{CoreTiming, timing_for};
use decode::{Class, Insn};
pub use flash::{BlockFetch, FlashFetch};
use mcusim_boards::Core;
pub use mcusim_traces::Breakdown;
use mcusim_traces::Cycles;

/// The cost of one block, instruction by instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCost {
    /// `prefix[i]`: cycles before instruction `i` starts; `prefix[n]`: the whole block.
    pub prefix: Box<[u32]>,
    /// The same, counting only stall cycles (the rest is execution).
    pub stall_prefix: Box<[u32]>,
    /// Whether the block ends in an instruction that may branch.
    pub ends_in_branch: bool,
    /// Pipeline refill if that branch is taken (direct or indirect, per core).
    pub refill: u32,
    /// Whether the block's first instruction is 32 bits wide at an address that is not a
    /// multiple of 4 (a branch there refills the pipeline more slowly on M3/M4).
    pub first_wide_unaligned: bool,
    /// The instructions that pipeline with the load before them (M3/M4), each with the cycles
    /// that saved: lost again when the two reach different memories (see
    /// `CoreTiming::pipelines`).
    pub pipelined: Box<[(u16, u32)]>,
    /// The single loads that would dual-issue with the load before them on the M7 if the two
    /// reach different banks, each with its cost: saved when they do (see
    /// `CoreTiming::pairs_in_other_banks`). Only where the load after it did not pair with it.
    pub dual_loads: Box<[(u16, u32)]>,
}

/// Bytes the loads and the stores of a block move when it runs: (read, written). Sizes come
/// from the encodings (`thumb::data_access`, the register list of LDM/STM/PUSH/POP); a
/// floating-point load or store counts 4 bytes per register. Conditional (IT) loads and stores
/// count as executed: an approximation.
pub fn data_bytes(code: &[u8], offsets: &[u16]) -> (u32, u32) {
    let (mut read, mut written) = (0u32, 0u32);
    for &o in offsets {
        let insn = &code[usize::from(o)..code.len().min(usize::from(o) + 4)];
        let len = || {
            crate::thumb::data_access(insn, |_| 0)
                .or_else(|| crate::thumb::literal_access(insn, 0))
                .map_or(4, |r| r.end.wrapping_sub(r.start))
        };
        match decode::decode(insn).class {
            Class::Load => read += len(),
            Class::Store | Class::StoreRegOffset => written += len(),
            Class::LoadDouble => read += 8,
            Class::StoreDouble => written += 8,
            Class::LoadMultiple(n) => read += 4 * u32::from(n),
            Class::StoreMultiple(n) => written += 4 * u32::from(n),
            Class::TableBranch => read += len(),
            Class::FpLoadStore | Class::FpMultiple(_) => {
                let words = match decode::decode(insn).class {
                    Class::FpMultiple(n) => u32::from(n),
                    // VLDR/VSTR: bit 8 of the second half-word selects a double register.
                    _ => 1 + u32::from(insn.len() >= 4 && insn[3] & 1 != 0),
                };
                // VLDR/VLDM/VPOP have bit 4 (L) of the first half-word set.
                if insn[0] & 0x10 != 0 {
                    read += 4 * words;
                } else {
                    written += 4 * words;
                }
            }
            _ => {}
        }
    }
    (read, written)
}

/// Cost the instructions of a block starting at `start`.
pub fn block_cost(timing: &CoreTiming, start: u32, code: &[u8], offsets: &[u16]) -> BlockCost {
    let insns: Vec<Insn> = offsets
        .iter()
        .map(|&o| decode::decode(&code[usize::from(o)..]))
        .collect();
    let mut prefix = Vec::with_capacity(insns.len() + 1);
    let mut stall_prefix = Vec::with_capacity(insns.len() + 1);
    let (mut total, mut stalls) = (0u32, 0u32);
    let mut paired_with_previous = false;
    let mut pipelined = Vec::new();
    let mut dual_loads = Vec::new();
    let mut paired = vec![false; insns.len()];
    // M3/M4 fetch 32 bits at a time; consecutive 32-bit instructions at half-word addresses
    // each straddle two fetch words.
    let mut unaligned_wide_run = 0;
    for (i, insn) in insns.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &insns[p]);
        // The store before this instruction may take longer because of it: the previous
        // instruction's time, so charged before this one starts.
        total += prev.map_or(0, |p| timing.store_held_by(p, insn));
        prefix.push(total);
        stall_prefix.push(stalls);
        let (mut cost, stall, mut saving) = timing.cost_detail(insn, prev);
        if timing.load_pipelining {
            let unaligned_wide = insn.size == 4 && (start + u32::from(offsets[i])) % 4 == 2;
            // jnk0le (STM32F407), TIMING.md: a 32-bit load at a half-word address may not
            // pipeline (model: it does not), and a run of three or more unaligned 32-bit
            // instructions costs one cycle more (model: once per run).
            if unaligned_wide && prev.is_some_and(|p| timing.pipelines(insn, p)) {
                cost += 1;
                saving = saving.saturating_sub(1);
            }
            if saving > 0 {
                pipelined.push((i as u16, saving));
            }
            unaligned_wide_run = if unaligned_wide {
                unaligned_wide_run + 1
            } else {
                0
            };
            if unaligned_wide_run == 3 {
                cost += 1;
            }
        }
        // Dual issue: the second of a pair issues in the first one's cycle, unless a value it
        // needs from a load two instructions back is not there yet.
        let waits_for_load = i.checked_sub(2).is_some_and(|p2| {
            let p2 = &insns[p2];
            timing.load_use > 0
                && matches!(
                    p2.class,
                    Class::Load | Class::LoadDouble | Class::LoadMultiple(_)
                )
                && insn.reads & p2.writes & 0x7FFF != 0
        });
        let pairs =
            !paired_with_previous && !waits_for_load && prev.is_some_and(|p| timing.pairs(p, insn));
        if pairs {
            cost = 0;
        } else if !paired_with_previous
            && !waits_for_load
            && prev.is_some_and(|p| timing.pairs_in_other_banks(p, insn))
            && cost > 0
            // Of three loads in a row, only the first two may pair.
            && dual_loads
                .last()
                .is_none_or(|&(j, _): &(u16, u32)| usize::from(j) + 1 != i)
        {
            dual_loads.push((i as u16, cost));
        }
        paired[i] = pairs;
        paired_with_previous = pairs;
        total += cost + stall;
        stalls += stall;
    }
    prefix.push(total);
    stall_prefix.push(stalls);
    BlockCost {
        prefix: prefix.into_boxed_slice(),
        stall_prefix: stall_prefix.into_boxed_slice(),
        ends_in_branch: insns.last().is_some_and(|i| i.writes_pc),
        refill: match insns.last() {
            Some(i) if i.indirect => timing.refill_indirect,
            _ => timing.refill,
        },
        first_wide_unaligned: insns.first().is_some_and(|i| i.size == 4) && start % 4 == 2,
        pipelined: pipelined.into_boxed_slice(),
        // Pairing a load with the one before it would keep the next instruction from pairing
        // with it: those stay as they are.
        dual_loads: dual_loads
            .into_iter()
            .filter(|&(i, _)| !paired.get(usize::from(i) + 1).copied().unwrap_or(false))
            .collect(),
    }
}

/// The cost when timing is off: one cycle per instruction, nothing else.
pub fn functional_cost(instructions: usize) -> BlockCost {
    BlockCost {
        prefix: (0..=instructions as u32).collect(),
        stall_prefix: vec![0; instructions + 1].into_boxed_slice(),
        ends_in_branch: false,
        refill: 0,
        first_wide_unaligned: false,
        pipelined: Box::default(),
        dual_loads: Box::default(),
    }
}

/// Cycles from an exception becoming active to the first handler instruction.
///
/// Sources: Cortex-M0+ TRM (DDI 0484C) sec. 2.3, 15 cycles; Cortex-M3/M4 TRMs (DDI 0337I
/// sec. 5.5.1, DDI 0439B sec. 2.3.6) and Arm's "Cortex-M for beginners" white paper, 12
/// cycles for M3, M4, M7 and M33, with zero-wait-state memory.
pub fn exception_entry(core: Core) -> Cycles {
    match core {
        Core::CortexM0Plus => Cycles(15),
        _ => Cycles(12),
    }
}

/// Extra cycles a divide takes beyond its issue cost, from its operands.
///
/// Cortex-M3/M4 TRMs (DDI 0337I table 18-1, DDI 0439B table 3-1): SDIV/UDIV take 2 to 12
/// cycles, terminating early "depending on the number of leading ones and zeroes in the input
/// operands". Approximation (the radix is not published): 2 cycles when the divisor exceeds
/// the dividend (or is zero), else 2 plus the quotient's possible significant bits scaled so
/// a full 32-bit quotient takes the maximum of 12.
/// LLVM's Cortex-M7 model gives the M7 a fixed 7 (`ARMScheduleM7.td`); mcusim applies the
/// same early-termination rule to every core with a divider.
pub fn divide_extra(timing: &CoreTiming, dividend: u32, divisor: u32, signed: bool) -> u32 {
    let magnitude = |v: u32| if signed { (v as i32).unsigned_abs() } else { v };
    let (n, d) = (magnitude(dividend), magnitude(divisor));
    if d == 0 || n < d {
        return 0;
    }
    let quotient_bits = (32 - n.leading_zeros()) - (32 - d.leading_zeros()) + 1;
    let cycles = 2 + (quotient_bits * 10).div_ceil(32);
    cycles.saturating_sub(timing.cost_of(Class::Div))
}

#[cfg(test)]
mod tests;
