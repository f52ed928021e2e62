//! Cycle costs. Kept apart from execution so the cycle model can be replaced and tested on
//! its own (issue 3 brings the per-core, table-driven model).
//!
//! Today's model is functional timing: every instruction costs one cycle, plus the exception
//! entry latency below. That is the Cortex-M4's figure for most data-processing instructions
//! (TRM DDI 0439B, table 3-1) and a lower bound for the rest; it is an approximation until the
//! per-core model lands.

use mcusim_boards::Core;
use mcusim_traces::Cycles;

/// The cost of one block, as the cycle count before each instruction: `prefix[i]` cycles are
/// spent before instruction `i` starts, `prefix[n]` is the whole block.
pub fn block_prefix(_core: Core, instructions: usize) -> Box<[u32]> {
    (0..=instructions as u32).collect()
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
