//! The profiler: from what a run recorded (probe hits at the firmware's layer markers, counters,
//! the stack scan) and what the firmware and board say (ELF sections and symbols, energy
//! coefficients), a [`Profile`]: per-layer cycles, breakdown and energy, memory use, and exports
//! (JSON, CSV, Perfetto trace, folded stacks). It never depends on the simulator.

pub mod elf;
pub mod energy;
pub mod export;
pub mod plot;
pub mod profile;

pub use profile::{Layer, Memory, PROFILE_SCHEMA, Profile, Totals};

use mcusim_boards::Board;
use mcusim_traces::{Breakdown, Cycles, ProbeHit, ProbeId, StopReason};
use std::collections::BTreeMap;

/// A layer's description as the firmware's `mcusim_layer_info` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    pub index: u32,
    pub op: String,
    pub name: String,
    pub macs: u64,
}

/// What a run produced, for [`profile`].
pub struct RunFacts<'a> {
    pub board: &'a Board,
    pub firmware_name: String,
    pub firmware_hash: String,
    pub stop: StopReason,
    pub instructions: u64,
    pub cycles: Cycles,
    pub breakdown: Breakdown,
    /// Every probe hit, in order.
    pub hits: &'a [ProbeHit],
    pub layer_begin: ProbeId,
    pub layer_end: ProbeId,
    /// The layer descriptions, by the address the markers pass.
    pub layer_infos: BTreeMap<u32, LayerInfo>,
    /// Deepest stack use seen (bytes below the initial stack pointer), if measured.
    pub stack_peak_bytes: Option<u32>,
    /// The firmware image.
    pub image: &'a elf::Image,
    /// Every executed block's counts.
    pub blocks: &'a [mcusim_traces::BlockCount],
}

/// Builds the profile of a run.
pub fn profile(f: &RunFacts<'_>) -> Profile {
    let clock_hz = f.board.clock_hz();
    let model = energy::Model::for_board(f.board);
    let mut open: Vec<&ProbeHit> = Vec::new();
    let mut layers = Vec::new();
    for hit in f.hits {
        if hit.probe == f.layer_begin {
            open.push(hit);
        } else if hit.probe == f.layer_end
            && let Some(i) = open.iter().rposition(|b| b.arg0 == hit.arg0)
        {
            let begin = open.remove(i);
            let info = f.layer_infos.get(&hit.arg0).cloned().unwrap_or(LayerInfo {
                index: layers.len() as u32,
                op: "?".into(),
                name: format!("layer at {:#010x}", hit.arg0),
                macs: 0,
            });
            let cycles = hit.cycle - begin.cycle;
            let breakdown = diff(hit.breakdown, begin.breakdown);
            layers.push(Layer {
                index: info.index,
                name: info.name,
                op: info.op,
                start_cycle: begin.cycle,
                cycles,
                instructions: hit.instructions - begin.instructions,
                macs: info.macs,
                cycles_per_mac: (info.macs > 0).then(|| cycles.0 as f64 / info.macs as f64),
                share: 0.0,
                breakdown,
                energy_uj: model.energy_uj(&breakdown),
                stack_peak_bytes: stack_depth(f, hit.stack_low),
            });
        }
    }
    let total = f.cycles.0.max(1) as f64;
    for l in &mut layers {
        l.share = l.cycles.0 as f64 / total;
    }
    let in_layers: u64 = layers.iter().map(|l| l.cycles.0).sum();
    let macs: u64 = layers.iter().map(|l| l.macs).sum();
    let energy_uj = model.energy_uj(&f.breakdown);
    Profile {
        schema: PROFILE_SCHEMA.into(),
        mcusim_version: env!("CARGO_PKG_VERSION").into(),
        board: profile::BoardInfo {
            name: f.board.name.clone(),
            core: f.board.core.name().into(),
            clock_hz,
            hash: mcusim_traces::report::fnv1a64(f.board.text.as_bytes()),
        },
        firmware: profile::FirmwareInfo {
            file: f.firmware_name.clone(),
            hash: f.firmware_hash.clone(),
        },
        stop: f.stop.clone(),
        totals: Totals {
            cycles: f.cycles,
            instructions: f.instructions,
            time_us: f.cycles.seconds_at(clock_hz) * 1e6,
            macs,
            cycles_per_mac: (macs > 0).then(|| f.cycles.0 as f64 / macs as f64),
            outside_layers_cycles: Cycles(f.cycles.0.saturating_sub(in_layers)),
            breakdown: f.breakdown,
            energy_uj,
            energy: model.parts(&f.breakdown),
        },
        memory: Memory {
            static_ram_bytes: f.image.static_ram_bytes,
            stack_peak_bytes: f.stack_peak_bytes,
            peak_sram_bytes: f.image.static_ram_bytes + f.stack_peak_bytes.unwrap_or(0),
            flash_bytes: f.image.flash_bytes,
            flash_code_bytes: f.image.flash_code_bytes,
            flash_data_bytes: f.image.flash_bytes.saturating_sub(f.image.flash_code_bytes),
            top_flash_symbols: f.image.top_flash_symbols(10),
            timeline: f
                .hits
                .iter()
                .filter_map(|h| {
                    Some((
                        h.cycle,
                        f.image.static_ram_bytes + stack_depth(f, h.stack_low)?,
                    ))
                })
                .collect(),
        },
        energy_model: model.describe(),
        layers,
        functions: functions(f),
        hot_blocks: hot_blocks(f),
    }
}

fn functions(f: &RunFacts<'_>) -> Vec<profile::FunctionRow> {
    let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut total = 0u64;
    for b in f.blocks {
        let name = f
            .image
            .function_at(b.start)
            .map_or_else(|| format!("{:#010x}", b.start), str::to_owned);
        let e = by.entry(name).or_default();
        e.0 += b.executions * b.cycles_each;
        e.1 += b.executions * u64::from(b.instructions);
        total += b.executions * b.cycles_each;
    }
    let mut rows: Vec<profile::FunctionRow> = by
        .into_iter()
        .map(|(name, (cycles, instructions))| profile::FunctionRow {
            name,
            cycles,
            instructions,
            share: cycles as f64 / total.max(1) as f64,
        })
        .collect();
    rows.sort_by(|a, b| b.cycles.cmp(&a.cycles).then_with(|| a.name.cmp(&b.name)));
    rows.truncate(20);
    rows
}

fn hot_blocks(f: &RunFacts<'_>) -> Vec<profile::HotBlock> {
    let mut rows: Vec<profile::HotBlock> = f
        .blocks
        .iter()
        .map(|b| profile::HotBlock {
            address: b.start,
            location: match f.image.function_at(b.start) {
                Some(name) => {
                    let start = f.image.function_start(name).unwrap_or(b.start);
                    format!("{name}+{:#x}", b.start - start)
                }
                None => format!("{:#010x}", b.start),
            },
            executions: b.executions,
            instructions: b.executions * u64::from(b.instructions),
            cycles: b.executions * b.cycles_each,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.cycles
            .cmp(&a.cycles)
            .then_with(|| a.address.cmp(&b.address))
    });
    rows.truncate(10);
    rows
}

/// Bytes of stack in use down to `low` (from the image's stack top).
fn stack_depth(f: &RunFacts<'_>, low: Option<u32>) -> Option<u32> {
    Some(f.image.stack_top?.saturating_sub(low?))
}

fn diff(a: Breakdown, b: Breakdown) -> Breakdown {
    Breakdown {
        execute: a.execute - b.execute,
        branch: a.branch - b.branch,
        stall: a.stall - b.stall,
        memory: a.memory - b.memory,
        exception: a.exception - b.exception,
        sleep: a.sleep - b.sleep,
    }
}
