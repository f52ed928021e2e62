//! Events a run produces for the profiler.

use crate::units::{Breakdown, Cycles};

/// A probe's identity: its index in the order probes were added to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeId(pub u16);

/// A probed function was entered (its first instruction was about to run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeHit {
    pub probe: ProbeId,
    /// The clock at entry: every cycle before the function's first instruction.
    pub cycle: Cycles,
    /// Instructions retired before it.
    pub instructions: u64,
    /// r0 at entry (the first argument).
    pub arg0: u32,
    /// Where the cycles before it went.
    pub breakdown: Breakdown,
    /// With a stack watch: the lowest stack address written since the previous hit.
    pub stack_low: Option<u32>,
}

/// How often a basic block ran and what one run of it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCount {
    pub start: u32,
    pub bytes: u32,
    pub instructions: u32,
    pub executions: u64,
    /// Issue cycles of one execution (without refills and waits).
    pub cycles_each: u64,
}
