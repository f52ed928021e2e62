//! The profile: the versioned report `mcusim profile --json` writes (schema
//! `mcusim-profile/1`). Field order and number formatting are fixed, so the same run gives the
//! same bytes.

use mcusim_traces::{Breakdown, Cycles, StopReason};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema name and version of [`Profile`].
pub const PROFILE_SCHEMA: &str = "mcusim-profile/1";

/// The JSON Schema (draft 2020-12) of [`Profile`] as `profile --json` writes it (see
/// [`mcusim_traces::json_schema`]); `schema/` at the repository's root holds a copy, kept equal
/// by a test, and `mcusim schema` prints it.
pub fn profile_schema() -> serde_json::Value {
    mcusim_traces::json_schema::<Profile>(PROFILE_SCHEMA)
}

/// A run's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Profile {
    /// `mcusim-profile/1`.
    pub schema: String,
    /// The mcusim version that made it.
    pub mcusim_version: String,
    pub board: BoardInfo,
    pub firmware: FirmwareInfo,
    /// The command's arguments after `mcusim` (paths as given), to reproduce the run with
    /// the firmware and board the hashes identify.
    pub arguments: Vec<String>,
    /// How the run ended.
    pub stop: StopReason,
    pub totals: Totals,
    pub memory: Memory,
    /// How energy was estimated, with the coefficients' source.
    pub energy_model: String,
    /// The board's roofs, for a roofline of the layers.
    pub roofline: Roofline,
    /// Where the layers come from: `markers` (the firmware's layer markers), `calls` (the
    /// outermost calls of recognised kernel functions, for firmware without markers) or `none`.
    pub attribution: String,
    /// The layers, in execution order.
    pub layers: Vec<Layer>,
    /// Each device that logged work (a DMA, an accelerator): its busy time over the run.
    /// Absent when none did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRow>,
    /// The devices' work, item by item, in the order they logged it (the trace's device
    /// tracks). Absent when none did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity: Vec<mcusim_traces::Activity>,
    /// For a run fed a sample stream (`--stream`): whether the firmware keeps up, and what it
    /// costs. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamSummary>,
    /// Every function that ran, by exclusive cycles.
    pub functions: Vec<FunctionRow>,
    /// The call tree (empty when calls were not followed): node 0 is the code run from reset,
    /// every other node one function reached through one chain of calls.
    pub call_tree: Vec<CallRow>,
    /// The basic blocks with the most cycles (every cycle charged to them: see
    /// `mcusim_traces::BlockCount::cycles`), the top 10.
    pub hot_blocks: Vec<HotBlock>,
    /// The code of the hottest functions (the top 10 by own cycles), disassembled and
    /// annotated per instruction.
    pub code: Vec<AnnotatedFunction>,
}

/// A function's instructions with what each cost in the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnotatedFunction {
    pub name: String,
    pub start: u32,
    pub instructions: Vec<AnnotatedInstruction>,
}

/// One instruction, disassembled, with its executions and issue cycles over the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnotatedInstruction {
    pub address: u32,
    /// Its bytes in hex, in memory order.
    pub bytes: String,
    /// `smlad r0, r1, r2, r0`.
    pub text: String,
    pub executions: u64,
    /// Issue cycles summed over its executions (refills and memory waits are the block's).
    pub cycles: u64,
    /// `file:line` from the DWARF line table, on the first instruction of each run of
    /// instructions from one source line (absent on the others and without line information).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// That source line's text, where the source file could be read when the profile was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_text: Option<String>,
}

/// A function's cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionRow {
    /// Its name: demangled (C++, Rust), with its source file or address added where two
    /// functions would show the same name.
    pub name: String,
    /// The symbol as the ELF spells it, where it differs from `name` (a mangled name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// `file:line` of its entry from the ELF's DWARF line table, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Exclusive cycles: its own code's, not its callees'. From the call tree when calls were
    /// followed, otherwise its blocks' cycles: every cycle either way, refills and waits
    /// included.
    pub cycles: u64,
    /// Inclusive cycles, its callees' included (`null` without the call tree).
    pub inclusive_cycles: Option<u64>,
    /// Calls made to it (`null` without the call tree).
    pub calls: Option<u64>,
    /// Exclusive instructions.
    pub instructions: u64,
    /// Exclusive cycles over the whole run's, 0..1.
    pub share: f64,
}

/// A node of the call tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallRow {
    /// The function (its name as in `functions`, or its address).
    pub name: String,
    /// The symbol as the ELF spells it, where it differs from `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// The caller's index in `call_tree` (`null` for the root).
    pub parent: Option<u32>,
    pub calls: u64,
    /// Inclusive cycles.
    pub cycles: u64,
    /// Exclusive cycles (inclusive less the callees').
    pub self_cycles: u64,
    /// Inclusive instructions.
    pub instructions: u64,
}

/// Data moved by the core's loads and stores, in bytes, by region (instruction fetch not
/// included; see `mcusim_traces::Traffic` for how it is counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryTraffic {
    pub sram_read_bytes: u64,
    pub sram_write_bytes: u64,
    /// Counted on boards whose flash has wait states (elsewhere flash reads count as SRAM's).
    pub flash_read_bytes: u64,
    /// Peripheral register reads and writes.
    pub mmio_bytes: u64,
}

impl From<mcusim_traces::Traffic> for MemoryTraffic {
    fn from(t: mcusim_traces::Traffic) -> MemoryTraffic {
        MemoryTraffic {
            sram_read_bytes: t.ram_read_bytes(),
            sram_write_bytes: t.ram_write_bytes(),
            flash_read_bytes: t.flash_read_bytes,
            mmio_bytes: t.mmio_read_bytes + t.mmio_write_bytes,
        }
    }
}

/// A hot basic block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HotBlock {
    pub address: u32,
    /// `function+offset`, or the address when no symbol covers it.
    pub location: String,
    /// `file:line` of its first instruction, from the DWARF line table, if the ELF has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub executions: u64,
    pub instructions: u64,
    pub cycles: u64,
}

/// A roofline's roofs: the core's peak int8 MACs per cycle and the bytes per cycle SRAM and
/// flash deliver. Approximations from the core and the board file (see `roofline::for_board`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Roofline {
    pub peak_macs_per_cycle: f64,
    pub sram_bytes_per_cycle: f64,
    pub flash_bytes_per_cycle: f64,
    /// Where the figures come from.
    pub source: String,
}

/// The board the run was on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BoardInfo {
    pub name: String,
    pub core: String,
    pub clock_hz: u64,
    /// FNV-1a 64 of the board file's text.
    pub hash: String,
}

/// The firmware that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FirmwareInfo {
    /// The ELF's file name (no directories, so reports do not depend on where it was built).
    pub file: String,
    /// FNV-1a 64 of the ELF's bytes.
    pub hash: String,
    /// The compilers that built it, from its `.comment` section (`null` if it does not say).
    pub compiler: Option<String>,
}

/// Whole-run figures. Layers plus `outside_layers_cycles` sum to `cycles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Of those: before the first layer (reset, start-up, writing the input).
    pub before_layers_cycles: Cycles,
    /// Of those: after the last layer (reading the output, exit). The rest is between layers.
    pub after_layers_cycles: Cycles,
    pub breakdown: Breakdown,
    pub traffic: MemoryTraffic,
    /// Estimated energy of the whole run (`null` when the board file gives no energy
    /// coefficients: unknown, not zero).
    pub energy_uj: Option<f64>,
    /// The same, by component.
    pub energy: Option<EnergyParts>,
}

/// Estimated energy by component, in microjoules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnergyParts {
    /// The core executing (execute, branch refills, stalls, exception entry).
    pub core_uj: f64,
    /// Flash: waiting on it (memory wait cycles) and the bytes read from it.
    pub flash_uj: f64,
    /// SRAM: the bytes read and written.
    pub sram_uj: f64,
    /// Asleep (WFI/WFE).
    pub sleep_uj: f64,
    /// The devices' work: bytes a DMA or NPU moved, an NPU's MACs (0 where none worked).
    #[serde(default)]
    pub devices_uj: f64,
}

/// Memory use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Memory {
    /// `.data` + `.bss` + `.noinit`: static RAM, arena included.
    pub static_ram_bytes: u32,
    /// Deepest stack use of the run (`null` if not measured).
    pub stack_peak_bytes: Option<u32>,
    /// The heap's high-water mark (`null` if the firmware does not say: mcusim's runtime keeps
    /// it in `mcusim_heap_peak`).
    pub heap_peak_bytes: Option<u32>,
    /// Static RAM plus the stack and heap peaks.
    pub peak_sram_bytes: u32,
    /// Everything the image stores in flash (code, constants, initial data).
    pub flash_bytes: u32,
    /// Of which functions.
    pub flash_code_bytes: u32,
    /// Of which constants and initial data (weights among them).
    pub flash_data_bytes: u32,
    /// The sections stored in flash: (name, bytes), in address order.
    pub flash_sections: Vec<(String, u32)>,
    /// The model's planned tensor arena (within static RAM), bytes; `null` if the firmware
    /// has none.
    pub arena_bytes: Option<u32>,
    /// Of the arena, the bytes the run wrote (`null` if not measured): filled with a pattern
    /// when `main` is entered, after start-up, and scanned after the run (a byte written with
    /// the pattern's value counts as untouched: an approximation of at most a few bytes).
    pub arena_touched_bytes: Option<u32>,
    /// The largest objects in flash: (name, bytes).
    pub top_flash_symbols: Vec<(String, u32)>,
    /// SRAM in use (static RAM plus the deepest stack since the previous point) at every layer
    /// boundary: (cycle, bytes).
    pub timeline: Vec<(Cycles, u32)>,
    /// The arena's plan, tensor by tensor, when this run compiled the model (absent for
    /// firmware built elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<ArenaPlan>,
}

/// One layer: one kernel call, between the firmware's layer markers or found in the call tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Layer {
    /// The operator's index in the model.
    pub index: u32,
    /// The output tensor's name (from the markers), or the kernel function's name (from the
    /// call tree).
    pub name: String,
    /// For a layer found in the call tree: the kernel function (demangled) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// ... and its symbol as the ELF spells it, where that differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
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
    pub traffic: MemoryTraffic,
    /// Estimated energy (`null` when the board file gives no energy coefficients).
    pub energy_uj: Option<f64>,
    pub energy: Option<EnergyParts>,
    /// The deepest stack use while the layer ran (`null` if not measured).
    pub stack_peak_bytes: Option<u32>,
    /// Every function that ran in it, by its blocks' cycles in it, most first: every cycle, so
    /// they agree with `functions` (and the folded stacks put each under the layer's frame).
    pub hot_functions: Vec<FunctionCycles>,
    /// Its hottest basic blocks (top 3).
    pub hot_blocks: Vec<HotBlock>,
    /// The devices that worked while it ran (absent when none did).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceBusy>,
    /// `npu` when an NPU (a device with MACs) did the layer's MACs, `cpu` otherwise; absent
    /// on boards without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Simulated microseconds at the board's clock.
    #[serde(default)]
    pub time_us: f64,
    /// Its tensors' shapes, window and constant bytes, when this run compiled the model
    /// (absent for firmware built elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<LayerShape>,
}

/// What the compiler knows of a layer: the shapes of the tensors it reads and writes, its
/// window (convolutions and pooling) and its constants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LayerShape {
    /// Each activation input's shape (NHWC for images).
    pub inputs: Vec<Vec<i32>>,
    pub outputs: Vec<Vec<i32>>,
    /// The filter's (height, width), for windowed operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<[i32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<[i32; 2]>,
    /// Padding before the first row and before the first column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<[i32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dilation: Option<[i32; 2]>,
    /// Bytes of constants (weights and bias) the layer reads.
    pub weights_bytes: u64,
}

impl LayerShape {
    /// In one line: `1x25x5x64 -> 1x25x5x64, kernel 3x3, stride 1x1, pad 1x1, weights 832 B`.
    pub fn describe(&self) -> String {
        let dims = |d: &[i32]| d.iter().map(i32::to_string).collect::<Vec<_>>().join("x");
        let list = |v: &[Vec<i32>]| v.iter().map(|d| dims(d)).collect::<Vec<_>>().join(" + ");
        let mut s = format!("{} -> {}", list(&self.inputs), list(&self.outputs));
        for (what, v) in [
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("pad", self.padding),
        ] {
            if let Some([h, w]) = v {
                s.push_str(&format!(", {what} {h}x{w}"));
            }
        }
        if let Some([h, w]) = self.dilation.filter(|d| *d != [1, 1]) {
            s.push_str(&format!(", dilation {h}x{w}"));
        }
        if self.weights_bytes > 0 {
            s.push_str(&format!(", weights {} B", crate::group(self.weights_bytes)));
        }
        s
    }
}

/// The activation arena as the compiler planned it: where each tensor lives and when, and the
/// layer at which the most bytes are live (what sets the arena's size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArenaPlan {
    /// Bytes the plan needs.
    pub arena_bytes: u32,
    /// The most bytes live at one layer: no plan by lifetimes can be smaller.
    pub lower_bound: u32,
    /// The layer (its `index`) at which the most bytes are live, and those bytes.
    pub peak_layer: u32,
    pub peak_bytes: u32,
    /// Every buffer, by offset.
    pub buffers: Vec<PlanBuffer>,
}

/// One buffer of the arena.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanBuffer {
    /// The tensor's name, or what the buffer is for (`scratch of conv_3/out`).
    pub name: String,
    /// `tensor`, `scratch` or `staging` (weights the NPU's DMA copies in ahead of a layer).
    pub kind: String,
    pub offset: u32,
    pub size: u32,
    /// Live from the start of this layer (its `index`) to the end of that one.
    pub first_layer: u32,
    pub last_layer: u32,
    /// Live at the peak layer: one of the buffers that set the arena's size.
    pub at_peak: bool,
}

/// A device's work within a layer (see `devices` for how it is counted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceBusy {
    /// Its name in the board file.
    pub device: String,
    /// Cycles it was busy (the union of its activities).
    pub busy_cycles: Cycles,
    /// Of the layer's cycles, 0..1.
    pub busy_share: f64,
    pub bytes: u64,
    pub macs: u64,
    /// What it spent most of its time in the layer on: its longest activity's label there
    /// (an NPU's says the operation and its bound, e.g. `conv (flash)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<String>,
    /// For an NPU, its MACs against its peak (the board file's MACs per cycle) over its busy
    /// cycles, 0..1; absent for devices without MACs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_utilisation: Option<f64>,
}

impl DeviceBusy {
    /// What bound its work, as an NPU's activity label ends: `compute`, `sram` or `flash`.
    pub fn bound(&self) -> Option<&str> {
        let (_, b) = self.work.as_deref()?.rsplit_once('(')?;
        b.strip_suffix(')')
    }
}

/// A device's work over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceRow {
    pub device: String,
    /// Activities it logged.
    pub activities: u64,
    pub busy_cycles: Cycles,
    /// Of the run's cycles, 0..1.
    pub busy_share: f64,
    pub bytes: u64,
    pub macs: u64,
}

/// A function's cycles within a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionCycles {
    pub name: String,
    pub cycles: u64,
}

/// A streaming run's summary (see `stream.rs`): `null` figures are unknown (no window or
/// inference markers, or no energy coefficients), never zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StreamSummary {
    /// The sample file as given, its rate, its length in samples and in seconds.
    pub file: String,
    pub rate_hz: u32,
    pub samples: u64,
    pub seconds: f64,
    /// Windows the firmware marked ready, and the first one's samples.
    pub windows: u64,
    pub window_samples: Option<u32>,
    /// Whole windows in the file less those marked: windows the firmware skipped because it
    /// was still busy with an earlier one.
    pub missed_windows: Option<u64>,
    /// A window's period: its samples over the rate.
    pub period_cycles: Option<Cycles>,
    pub period_ms: Option<f64>,
    /// Inferences run, and their worst and mean time.
    pub inferences: u64,
    pub inference_worst_cycles: Option<Cycles>,
    pub inference_mean_cycles: Option<f64>,
    pub inference_worst_ms: Option<f64>,
    pub inference_mean_ms: Option<f64>,
    /// The period less the worst and the mean inference time (negative: it falls behind),
    /// and the worst as a share of the period.
    pub margin_worst_ms: Option<f64>,
    pub margin_mean_ms: Option<f64>,
    pub margin_worst_share: Option<f64>,
    /// Inferences that took longer than the period.
    pub late_windows: u64,
    /// The steady-state interval the figures below are measured over: from the first window
    /// to the last.
    pub measured_cycles: Option<Cycles>,
    /// The share of that interval the core was awake.
    pub duty_cycle: Option<f64>,
    /// Average power over it, sleep included; the energy of a second of it (the same number,
    /// in mJ); the energy of one window's inference and sleep.
    pub average_power_mw: Option<f64>,
    pub energy_per_second_mj: Option<f64>,
    pub energy_per_inference_uj: Option<f64>,
    /// The battery capacity given (`--battery-mah`) and how long it lasts at that power, at
    /// the board's supply voltage.
    pub battery_mah: Option<f64>,
    pub battery_hours: Option<f64>,
}
