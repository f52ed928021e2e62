//! Events a run produces for the profiler.

use crate::units::{Breakdown, Cycles};
use serde::{Deserialize, Serialize};

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
    /// Data moved by loads and stores before it.
    pub traffic: Traffic,
}

/// Data bytes moved by the core's loads and stores, counted from each executed block's load
/// and store instructions (an approximation in one respect: a conditional load or store in an
/// IT block counts whether or not its condition passed). Instruction fetch is not included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// Bytes read by loads, from every region.
    pub read_bytes: u64,
    /// Bytes written by stores, to every region.
    pub write_bytes: u64,
    /// Of `read_bytes`, those from flash: counted where the board's flash has wait states
    /// (elsewhere flash reads cost nothing extra, are not watched and count as RAM reads).
    pub flash_read_bytes: u64,
    /// Of `read_bytes` and `write_bytes`, those of peripheral registers.
    pub mmio_read_bytes: u64,
    pub mmio_write_bytes: u64,
}

impl Traffic {
    /// Bytes read from RAM (SRAM and TCM).
    pub fn ram_read_bytes(&self) -> u64 {
        self.read_bytes
            .saturating_sub(self.flash_read_bytes + self.mmio_read_bytes)
    }

    /// Bytes written to RAM.
    pub fn ram_write_bytes(&self) -> u64 {
        self.write_bytes.saturating_sub(self.mmio_write_bytes)
    }

    /// What moved between `earlier` and `self`.
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            read_bytes: self.read_bytes - earlier.read_bytes,
            write_bytes: self.write_bytes - earlier.write_bytes,
            flash_read_bytes: self.flash_read_bytes - earlier.flash_read_bytes,
            mmio_read_bytes: self.mmio_read_bytes - earlier.mmio_read_bytes,
            mmio_write_bytes: self.mmio_write_bytes - earlier.mmio_write_bytes,
        }
    }
}

/// A node of the call tree: one function reached through one chain of calls, with what its
/// calls cost in total (inclusive of everything they called).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallNode {
    /// The function's entry address (Thumb bit clear).
    pub function: u32,
    /// The calling node's index, `None` for the root (the code that runs from reset).
    pub parent: Option<u32>,
    /// Completed calls, plus one if the run ended inside it.
    pub calls: u64,
    /// Cycles from entry to return, summed over its calls.
    pub cycles: u64,
    /// Instructions from entry to return, summed over its calls.
    pub instructions: u64,
}

/// How often a basic block ran and what one run of it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCount {
    /// The block's identity in this run (the index block snapshots use).
    pub id: u32,
    pub start: u32,
    pub bytes: u32,
    pub instructions: u32,
    pub executions: u64,
    /// Every cycle charged to the block over the run: issue cycles and stalls, what its
    /// instructions add mid-block (divides, peripheral waits), sleep after it, the refill and
    /// fetch waits of the block it branches to, exception entries into it. Over all blocks
    /// they sum to the run's cycles, and between two probe hits to the time between them.
    pub cycles: u64,
    /// Issue cycles of one execution (without refills and waits).
    pub cycles_each: u64,
    /// The same per instruction, in address order (they sum to `cycles_each`).
    pub insn_cycles: Vec<u32>,
    /// Each instruction's offset from `start`.
    pub insn_offsets: Vec<u16>,
}

/// Work a device did over an interval of simulated time: a DMA transfer, an accelerator's
/// layer. A track is one device (its name in the board file); within a track, activities are
/// in the order the device logged them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Activity {
    /// The device.
    pub track: String,
    /// The cycle the work began and the cycle it ended (`end >= begin`).
    pub begin: Cycles,
    pub end: Cycles,
    /// Bytes it moved, MACs it computed (zero where it does neither).
    pub bytes: u64,
    pub macs: u64,
    /// What it was, in the device's words (`ch1 mem-to-mem`).
    pub label: String,
    /// For work paced by something else (a DMA serving a peripheral's requests), the cycles
    /// the device was actually busy within `begin..end`; absent when it was busy throughout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<Cycles>,
}

impl Activity {
    /// Cycles of this activity inside `from..to`.
    pub fn overlap(&self, from: Cycles, to: Cycles) -> Cycles {
        let (b, e) = (self.begin.max(from), self.end.min(to));
        Cycles(e.0.saturating_sub(b.0))
    }
}
