//! The profile: the versioned report `mcusim profile --json` writes (schema
//! `mcusim-profile/1`). Field order and number formatting are fixed, so the same run gives the
//! same bytes.

use mcusim_traces::{Breakdown, Cycles, StopReason};
use serde::{Deserialize, Serialize};

/// The schema name and version of [`Profile`].
pub const PROFILE_SCHEMA: &str = "mcusim-profile/1";

/// A run's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// `mcusim-profile/1`.
    pub schema: String,
    /// The mcusim version that made it.
    pub mcusim_version: String,
    pub board: BoardInfo,
    pub firmware: FirmwareInfo,
    /// How the run ended.
    pub stop: StopReason,
    pub totals: Totals,
    pub memory: Memory,
    /// How energy was estimated, with the coefficients' source.
    pub energy_model: String,
    /// The layers, in execution order.
    pub layers: Vec<Layer>,
    /// Functions by exclusive issue cycles (the cycles of their own blocks), the top 20.
    pub functions: Vec<FunctionRow>,
    /// The basic blocks with the most issue cycles, the top 10.
    pub hot_blocks: Vec<HotBlock>,
}

/// A function's own cost (its blocks', not its callees').
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRow {
    pub name: String,
    /// Issue cycles of its blocks (refills and memory waits are not attributed per block).
    pub cycles: u64,
    pub instructions: u64,
    /// Of all blocks' issue cycles, 0..1.
    pub share: f64,
}

/// A hot basic block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotBlock {
    pub address: u32,
    /// `function+offset`, or the address when no symbol covers it.
    pub location: String,
    pub executions: u64,
    pub instructions: u64,
    pub cycles: u64,
}

/// The board the run was on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardInfo {
    pub name: String,
    pub core: String,
    pub clock_hz: u64,
    /// FNV-1a 64 of the board file's text.
    pub hash: String,
}

/// The firmware that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareInfo {
    /// The ELF's file name (no directories, so reports do not depend on where it was built).
    pub file: String,
    /// FNV-1a 64 of the ELF's bytes.
    pub hash: String,
}

/// Whole-run figures. Layers plus `outside_layers_cycles` sum to `cycles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub cycles: Cycles,
    pub instructions: u64,
    /// Simulated time at the board's clock.
    pub time_us: f64,
    /// Multiply-accumulates of all layers.
    pub macs: u64,
    /// Whole-run cycles per MAC (`null` without MACs).
    pub cycles_per_mac: Option<f64>,
    /// Start-up, input and output handling, and anything between layers.
    pub outside_layers_cycles: Cycles,
    pub breakdown: Breakdown,
    /// Estimated energy of the whole run.
    pub energy_uj: f64,
    /// The same, by component.
    pub energy: EnergyParts,
}

/// Estimated energy by component, in microjoules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnergyParts {
    /// The core executing (execute, branch refills, stalls, exception entry).
    pub core_uj: f64,
    /// Waiting on flash (memory wait cycles).
    pub flash_uj: f64,
    /// Asleep (WFI/WFE).
    pub sleep_uj: f64,
}

/// Memory use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// `.data` + `.bss` + `.noinit`: static RAM, arena included.
    pub static_ram_bytes: u32,
    /// Deepest stack use of the run (`null` if not measured).
    pub stack_peak_bytes: Option<u32>,
    /// Static RAM plus the stack peak.
    pub peak_sram_bytes: u32,
    /// Everything the image stores in flash (code, constants, initial data).
    pub flash_bytes: u32,
    /// Of which functions.
    pub flash_code_bytes: u32,
    /// Of which constants and initial data (weights among them).
    pub flash_data_bytes: u32,
    /// The largest objects in flash: (name, bytes).
    pub top_flash_symbols: Vec<(String, u32)>,
    /// SRAM in use (static RAM plus the deepest stack since the previous point) at every layer
    /// boundary: (cycle, bytes).
    pub timeline: Vec<(Cycles, u32)>,
}

/// One layer (one kernel call between the firmware's layer markers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// The operator's index in the model.
    pub index: u32,
    pub name: String,
    /// The TFLite operator, e.g. `CONV_2D`.
    pub op: String,
    /// The clock when the layer began.
    pub start_cycle: Cycles,
    pub cycles: Cycles,
    pub instructions: u64,
    pub macs: u64,
    pub cycles_per_mac: Option<f64>,
    /// Of the whole run's cycles, 0..1.
    pub share: f64,
    pub breakdown: Breakdown,
    pub energy_uj: f64,
    /// The deepest stack use while the layer ran (`null` if not measured).
    pub stack_peak_bytes: Option<u32>,
}
