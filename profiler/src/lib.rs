//! The profiler: from what a run recorded (probe hits at the firmware's layer markers, counters,
//! the stack scan) and what the firmware and board say (ELF sections and symbols, energy
//! coefficients), a [`Profile`]: per-layer cycles, breakdown and energy, memory use, and exports
//! (JSON, CSV, Perfetto trace, folded stacks). It never depends on the simulator.

pub mod budget;
pub mod code;
pub mod compare;
pub mod config;
pub mod devices;
pub mod diff;
pub mod elf;
pub mod energy;
pub mod export;
pub mod kernels;
pub mod plot;
pub mod profile;
pub mod roofline;
pub mod stream;

pub use profile::{
    ArenaPlan, Layer, LayerShape, Memory, PROFILE_SCHEMA, PlanBuffer, Profile, Totals,
    profile_schema,
};

use mcusim_boards::Board;
use mcusim_traces::{Breakdown, CallNode, Cycles, ProbeHit, ProbeId, StopReason, Traffic};
use std::collections::BTreeMap;

pub use mcusim_traces::group;
pub use stream::StreamFacts;

/// `name` in at most `width` characters: as it is if it fits, else its start and its end
/// around a `…`, since names differ at either end (`conv_3/Relu`, `Eval(...) [conv.cpp]`).
pub fn abbreviate(name: &str, width: usize) -> String {
    let n = name.chars().count();
    if n <= width {
        return name.to_owned();
    }
    if width < 2 {
        return name.chars().take(width).collect();
    }
    let head = (width - 1) / 2;
    let tail = width - 1 - head;
    let start: String = name.chars().take(head).collect();
    let end: String = name.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// An energy figure in microjoules with `decimals` decimals, or `-` when it is unknown (the
/// board file gives no energy coefficients).
/// A layer's engine as tables show it, on boards with an NPU: `cpu`, or `npu` with the NPU's
/// MAC utilisation and what bounds it (`npu 23% flash`); `None` on boards without one.
pub fn engine_cell(l: &Layer) -> Option<String> {
    let engine = l.engine.as_deref()?;
    if engine != "npu" {
        return Some(engine.to_owned());
    }
    let npu = l.devices.iter().find(|d| d.mac_utilisation.is_some());
    let mut cell = String::from("npu");
    if let Some(u) = npu.and_then(|d| d.mac_utilisation) {
        cell.push_str(&format!(" {:.0}%", 100.0 * u));
    }
    let bound = npu.and_then(|d| d.bound());
    if let Some(b) = bound {
        cell.push(' ');
        cell.push_str(b);
    }
    Some(cell)
}

pub fn uj(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |e| format!("{e:.decimals$}"))
}

/// One line on the whole run's energy: the total, its parts and the average power, or why it
/// is unknown.
pub fn energy_line(p: &Profile) -> String {
    match (p.totals.energy_uj, &p.totals.energy) {
        (Some(total), Some(e)) => {
            let mw = if p.totals.time_us > 0.0 {
                total / p.totals.time_us * 1e3
            } else {
                0.0
            };
            let devices = if e.devices_uj > 0.0 {
                format!(", devices {:.3}", e.devices_uj)
            } else {
                String::new()
            };
            format!(
                "energy: {total:.3} uJ (core {:.3}, flash {:.3}, SRAM {:.3}, sleep {:.3}{devices}), {mw:.3} mW average",
                e.core_uj, e.flash_uj, e.sram_uj, e.sleep_uj
            )
        }
        _ => format!("energy: {}", energy::Model::ABSENT),
    }
}

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
    /// The command's arguments, for the report.
    pub arguments: Vec<String>,
    pub stop: StopReason,
    pub instructions: u64,
    pub cycles: Cycles,
    pub breakdown: Breakdown,
    /// Data moved by loads and stores in the whole run.
    pub traffic: Traffic,
    /// Every probe hit, in order.
    pub hits: &'a [ProbeHit],
    /// Every block's executions at each hit (by `BlockCount::id`), if recorded.
    pub block_snapshots: &'a [Vec<(u64, u64)>],
    /// The probes of the firmware's layer markers (begin, end), if it has them.
    pub markers: Option<(ProbeId, ProbeId)>,
    /// The probes of the outermost kernel calls and their returns, if calls were followed
    /// (see `kernels`): the layers of firmware without markers.
    pub kernel_calls: Option<(ProbeId, ProbeId)>,
    /// The call tree, if calls were followed.
    pub call_tree: &'a [CallNode],
    /// The layer descriptions, by the address the markers pass.
    pub layer_infos: BTreeMap<u32, LayerInfo>,
    /// For firmware without markers: the layers of the model it runs (from the `.tflite`),
    /// in order, to give the layers found in the call tree their names and MACs.
    pub model_layers: Option<&'a [LayerInfo]>,
    /// What the compiler knows of each layer, by layer index, and the arena's plan: when this
    /// run compiled the model.
    pub layer_shapes: BTreeMap<u32, profile::LayerShape>,
    /// Reads a source file the DWARF line table names (the path as the compiler recorded
    /// it), for the Code view's source lines; `None` when it cannot be found.
    pub sources: &'a dyn Fn(&str) -> Option<String>,
    pub plan: Option<profile::ArenaPlan>,
    /// Deepest stack use seen (bytes below the initial stack pointer), if measured.
    pub stack_peak_bytes: Option<u32>,
    /// The heap's highest break above its start, if the firmware says.
    pub heap_peak_bytes: Option<u32>,
    /// The arena's bytes the run wrote, if measured.
    pub arena_touched_bytes: Option<u32>,
    /// The firmware image.
    pub image: &'a elf::Image,
    /// Every executed block's counts.
    pub blocks: &'a [mcusim_traces::BlockCount],
    /// What the devices logged.
    pub activity: &'a [mcusim_traces::Activity],
    /// The sample stream the run played, if any.
    pub stream: Option<StreamFacts>,
}

/// Builds the profile of a run.
pub fn profile(f: &RunFacts<'_>) -> Profile {
    let clock_hz = f.board.clock_hz();
    let model = energy::Model::for_board(f.board);
    let marked = f
        .markers
        .filter(|(begin, _)| f.hits.iter().any(|h| h.probe == *begin));
    let called = f
        .kernel_calls
        .filter(|(call, _)| f.hits.iter().any(|h| h.probe == *call));
    let (attribution, spans) = match (marked, called) {
        (Some(m), _) => ("markers", spans(f.hits, m)),
        (None, Some(k)) => ("calls", spans(f.hits, k)),
        (None, None) => ("none", Vec::new()),
    };
    let peaks = devices::mac_peaks(f.board);
    let mut layers = Vec::new();
    for (from, to) in spans {
        let (begin, end) = (&f.hits[from], &f.hits[to]);
        let (hot_functions, hot_blocks) = inside(f, from, to);
        let info = if attribution == "markers" {
            f.layer_infos.get(&end.arg0).cloned().unwrap_or(LayerInfo {
                index: layers.len() as u32,
                op: "?".into(),
                name: format!("layer at {:#010x}", end.arg0),
                macs: 0,
            })
        } else {
            kernel_layer(f, layers.len() as u32, end.arg0)
        };
        let cycles = end.cycle - begin.cycle;
        let breakdown = diff(end.breakdown, begin.breakdown);
        let traffic = profile::MemoryTraffic::from(end.traffic.since(&begin.traffic));
        let kernel = (attribution == "calls")
            .then(|| f.image.function_containing(end.arg0))
            .flatten();
        layers.push(Layer {
            index: info.index,
            kernel: kernel.map(|k| k.name.clone()),
            symbol: kernel.and_then(elf::Function::mangled),
            name: info.name,
            op: info.op,
            start_cycle: begin.cycle,
            cycles,
            instructions: end.instructions - begin.instructions,
            macs: info.macs,
            cycles_per_mac: (info.macs > 0).then(|| cycles.0 as f64 / info.macs as f64),
            share: 0.0,
            breakdown,
            traffic,
            // Set below, with the devices' work.
            energy_uj: None,
            energy: None,
            stack_peak_bytes: stack_depth(f, lowest_stack(f.hits, from, to)),
            hot_functions,
            hot_blocks,
            devices: {
                let mut d = devices::busy(f.activity, begin.cycle, end.cycle);
                devices::utilisation(&mut d, &peaks);
                d
            },
            engine: None,
            time_us: cycles.seconds_at(clock_hz) * 1e6,
            shape: f.layer_shapes.get(&info.index).cloned(),
        });
        if let Some(l) = layers.last_mut() {
            l.engine = devices::engine(&l.devices, &peaks);
            if let Some(m) = &model {
                let work = l
                    .devices
                    .iter()
                    .map(|d| (d.device.as_str(), d.bytes, d.macs));
                let uj = m.devices_uj(work);
                l.energy_uj = Some(m.energy_uj(&l.breakdown, &l.traffic, uj));
                l.energy = Some(m.parts(&l.breakdown, &l.traffic, uj));
            }
        }
    }
    if attribution == "calls"
        && let Some(model) = f.model_layers
    {
        name_from_model(&mut layers, model);
    }
    let total = f.cycles.0.max(1) as f64;
    for l in &mut layers {
        l.share = l.cycles.0 as f64 / total;
    }
    let in_layers: u64 = layers.iter().map(|l| l.cycles.0).sum();
    let macs: u64 = layers.iter().map(|l| l.macs).sum();
    let traffic = profile::MemoryTraffic::from(f.traffic);
    let device_rows = devices::summary(f.activity, f.cycles);
    let devices_uj = model.as_ref().map_or(0.0, |m| {
        m.devices_uj(
            device_rows
                .iter()
                .map(|d| (d.device.as_str(), d.bytes, d.macs)),
        )
    });
    let energy_uj = model
        .as_ref()
        .map(|m| m.energy_uj(&f.breakdown, &traffic, devices_uj));
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
            compiler: f.image.compiler.clone(),
        },
        arguments: f.arguments.clone(),
        stop: f.stop.clone(),
        totals: Totals {
            cycles: f.cycles,
            instructions: f.instructions,
            time_us: f.cycles.seconds_at(clock_hz) * 1e6,
            macs,
            cycles_per_mac: (macs > 0).then(|| f.cycles.0 as f64 / macs as f64),
            outside_layers_cycles: Cycles(f.cycles.0.saturating_sub(in_layers)),
            before_layers_cycles: layers.first().map_or(f.cycles, |l| l.start_cycle),
            after_layers_cycles: Cycles(
                layers
                    .iter()
                    .map(|l| l.start_cycle.0 + l.cycles.0)
                    .max()
                    .map_or(0, |end| f.cycles.0.saturating_sub(end)),
            ),
            breakdown: f.breakdown,
            traffic,
            energy_uj,
            energy: model
                .as_ref()
                .map(|m| m.parts(&f.breakdown, &traffic, devices_uj)),
        },
        memory: Memory {
            static_ram_bytes: f.image.static_ram_bytes,
            stack_peak_bytes: f.stack_peak_bytes,
            heap_peak_bytes: f.heap_peak_bytes,
            peak_sram_bytes: f.image.static_ram_bytes
                + f.stack_peak_bytes.unwrap_or(0)
                + f.heap_peak_bytes.unwrap_or(0),
            flash_bytes: f.image.flash_bytes,
            flash_code_bytes: f.image.flash_code_bytes,
            flash_data_bytes: f.image.flash_bytes.saturating_sub(f.image.flash_code_bytes),
            flash_sections: f.image.flash_sections.clone(),
            arena_bytes: f.image.arena_bytes,
            arena_touched_bytes: f.arena_touched_bytes,
            plan: f.plan.clone(),
            top_flash_symbols: f.image.top_flash_symbols(10),
            timeline: f
                .hits
                .iter()
                .filter_map(|h| {
                    Some((
                        h.cycle,
                        f.image.static_ram_bytes
                            + f.heap_peak_bytes.unwrap_or(0)
                            + stack_depth(f, h.stack_low)?,
                    ))
                })
                .collect(),
        },
        energy_model: model
            .as_ref()
            .map_or_else(|| energy::Model::ABSENT.to_owned(), energy::Model::describe),
        roofline: roofline::for_board(f.board),
        attribution: attribution.into(),
        layers,
        devices: device_rows,
        activity: f.activity.to_vec(),
        stream: f.stream.as_ref().map(|s| {
            stream::summary(
                s,
                f.hits,
                f.activity,
                clock_hz,
                model.as_ref(),
                f.board.file.energy.as_ref().map(|e| e.supply_volts),
            )
        }),
        functions: if f.call_tree.is_empty() {
            functions(f)
        } else {
            functions_from_calls(f)
        },
        call_tree: call_rows(f),
        code: {
            let names: Vec<String> = functions_for_code(f);
            code::annotate(f.image, f.blocks, &names, f.sources)
        },
        hot_blocks: hot_blocks(f),
    }
}

/// Layers found in the call tree take the names, indices and MACs of the model's operators
/// when they are the model's in order (operators that call no kernel, such as a RESHAPE done in
/// place, may be missing): each found layer matches the next model layer of its operator.
/// Returns whether they matched; if not, nothing changes.
pub fn name_from_model(layers: &mut [Layer], model: &[LayerInfo]) -> bool {
    let mut next = 0;
    let mut matched = Vec::with_capacity(layers.len());
    for l in layers.iter() {
        match model[next..].iter().position(|m| m.op == l.op) {
            Some(k) => {
                matched.push(next + k);
                next += k + 1;
            }
            None => return false,
        }
    }
    for (l, &m) in layers.iter_mut().zip(&matched) {
        let info = &model[m];
        l.index = info.index;
        l.name = info.name.clone();
        l.macs = info.macs;
        l.cycles_per_mac = (info.macs > 0).then(|| l.cycles.0 as f64 / info.macs as f64);
    }
    true
}

/// Begin and end hits of the spans between `probes` (begin, end), matched by `arg0`, in the
/// order they end.
fn spans(hits: &[ProbeHit], probes: (ProbeId, ProbeId)) -> Vec<(usize, usize)> {
    let mut open: Vec<usize> = Vec::new();
    let mut spans = Vec::new();
    for (j, hit) in hits.iter().enumerate() {
        if hit.probe == probes.0 {
            open.push(j);
        } else if hit.probe == probes.1
            && let Some(i) = open.iter().rposition(|&b| hits[b].arg0 == hit.arg0)
        {
            spans.push((open.remove(i), j));
        }
    }
    spans
}

/// What ran between hits `from` and `to`, from the block snapshots: the functions by their
/// blocks' cycles (top 5) and the hottest blocks (top 3). Every cycle counts, refills, waits
/// and stalls included, so they add up to the layer's cycles and agree with the run's
/// function table.
fn inside(
    f: &RunFacts<'_>,
    from: usize,
    to: usize,
) -> (Vec<profile::FunctionCycles>, Vec<profile::HotBlock>) {
    let (Some(a), Some(b)) = (f.block_snapshots.get(from), f.block_snapshots.get(to)) else {
        return (Vec::new(), Vec::new());
    };
    let at = |s: &[(u64, u64)], id: u32| s.get(id as usize).copied().unwrap_or((0, 0));
    let ran: Vec<(&mcusim_traces::BlockCount, u64, u64)> = f
        .blocks
        .iter()
        .map(|blk| {
            let ((n0, c0), (n1, c1)) = (at(a, blk.id), at(b, blk.id));
            (blk, n1.saturating_sub(n0), c1.saturating_sub(c0))
        })
        .filter(|&(_, n, c)| n > 0 || c > 0)
        .collect();
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    for &(blk, _, cycles) in &ran {
        *by.entry(name_of(f, blk.start)).or_default() += cycles;
    }
    let mut functions: Vec<profile::FunctionCycles> = by
        .into_iter()
        .map(|(name, cycles)| profile::FunctionCycles { name, cycles })
        .collect();
    functions.sort_by(|x, y| y.cycles.cmp(&x.cycles).then_with(|| x.name.cmp(&y.name)));
    let mut blocks: Vec<profile::HotBlock> = ran
        .iter()
        .map(|&(blk, n, cycles)| hot_block(f, blk, n, cycles))
        .collect();
    blocks.sort_by(|x, y| {
        y.cycles
            .cmp(&x.cycles)
            .then_with(|| x.address.cmp(&y.address))
    });
    blocks.truncate(3);
    (functions, blocks)
}

fn hot_block(
    f: &RunFacts<'_>,
    b: &mcusim_traces::BlockCount,
    executions: u64,
    cycles: u64,
) -> profile::HotBlock {
    profile::HotBlock {
        address: b.start,
        source: f
            .image
            .source_at(b.start)
            .map(|(file, line)| format!("{file}:{line}")),
        location: match f.image.function_at(b.start) {
            Some(name) => {
                let start = f.image.function_start(name).unwrap_or(b.start);
                format!("{name}+{:#x}", b.start - start)
            }
            None => format!("{:#010x}", b.start),
        },
        executions,
        instructions: executions * u64::from(b.instructions),
        cycles,
    }
}

/// A layer found as a kernel call: named after the function, its operator from the name or
/// source file (or, for a TFLite Micro invoke function that says nothing, from the first
/// kernel it calls).
fn kernel_layer(f: &RunFacts<'_>, index: u32, function: u32) -> LayerInfo {
    let found = f.image.function_containing(function);
    let name = found.map_or_else(|| format!("{function:#010x}"), |k| k.name.clone());
    let op = found
        .and_then(kernels::op_of)
        .or_else(|| {
            // The first kernel callee (depth first) whose name says what it computes.
            let roots: Vec<u32> = (0..f.call_tree.len() as u32)
                .filter(|&i| f.call_tree[i as usize].function == function)
                .collect();
            let mut stack = roots;
            while let Some(n) = stack.pop() {
                for (i, c) in f.call_tree.iter().enumerate() {
                    if c.parent == Some(n) {
                        let callee = f.image.function_containing(c.function);
                        if let Some(op) = callee
                            .filter(|k| kernels::is_kernel(k))
                            .and_then(kernels::op_of)
                        {
                            return Some(op);
                        }
                        stack.push(i as u32);
                    }
                }
            }
            None
        })
        .unwrap_or("?");
    LayerInfo {
        index,
        op: op.into(),
        name,
        macs: 0,
    }
}

fn name_of(f: &RunFacts<'_>, addr: u32) -> String {
    f.image
        .function_at(addr)
        .map_or_else(|| format!("{addr:#010x}"), str::to_owned)
}

fn call_rows(f: &RunFacts<'_>) -> Vec<profile::CallRow> {
    let mut children_cycles = vec![0u64; f.call_tree.len()];
    for n in f.call_tree {
        if let Some(p) = n.parent {
            children_cycles[p as usize] += n.cycles;
        }
    }
    f.call_tree
        .iter()
        .zip(children_cycles)
        .map(|(n, below)| profile::CallRow {
            name: name_of(f, n.function),
            symbol: f
                .image
                .function_containing(n.function)
                .and_then(elf::Function::mangled),
            parent: n.parent,
            calls: n.calls,
            cycles: n.cycles,
            self_cycles: n.cycles.saturating_sub(below),
            instructions: n.instructions,
        })
        .collect()
}

/// Functions from the call tree: exclusive cycles summed over every node of the function,
/// inclusive ones over the nodes with no caller of the same function (recursion counts once).
fn functions_from_calls(f: &RunFacts<'_>) -> Vec<profile::FunctionRow> {
    let tree = f.call_tree;
    let rows = call_rows(f);
    let mut children_instructions = vec![0u64; tree.len()];
    for n in tree {
        if let Some(p) = n.parent {
            children_instructions[p as usize] += n.instructions;
        }
    }
    let recursive = |mut i: usize| {
        let function = tree[i].function;
        while let Some(p) = tree[i].parent {
            i = p as usize;
            if tree[i].function == function {
                return true;
            }
        }
        false
    };
    // name -> (exclusive, inclusive, calls, exclusive instructions)
    let mut by: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let e = by.entry(row.name.as_str()).or_default();
        e.0 += row.self_cycles;
        e.2 += row.calls;
        e.3 += tree[i]
            .instructions
            .saturating_sub(children_instructions[i]);
        if !recursive(i) {
            e.1 += row.cycles;
        }
    }
    let total = f.cycles.0.max(1) as f64;
    let mut out: Vec<profile::FunctionRow> = by
        .into_iter()
        .map(
            |(name, (cycles, inclusive, calls, instructions))| profile::FunctionRow {
                name: name.to_owned(),
                symbol: f
                    .image
                    .function_named(name)
                    .and_then(elf::Function::mangled),
                source: f
                    .image
                    .function_named(name)
                    .and_then(elf::Function::location),
                cycles,
                inclusive_cycles: Some(inclusive),
                calls: Some(calls),
                instructions,
                share: cycles as f64 / total,
            },
        )
        .collect();
    out.sort_by(|a, b| b.cycles.cmp(&a.cycles).then_with(|| a.name.cmp(&b.name)));
    out
}

/// The 10 functions with the most issue cycles in their own blocks.
fn functions_for_code(f: &RunFacts<'_>) -> Vec<String> {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    for b in f.blocks {
        if let Some(name) = f.image.function_at(b.start) {
            *by.entry(name.to_owned()).or_default() += b.cycles;
        }
    }
    let mut v: Vec<(String, u64)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter().take(10).map(|(n, _)| n).collect()
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
        e.0 += b.cycles;
        e.1 += b.executions * u64::from(b.instructions);
        total += b.cycles;
    }
    let mut rows: Vec<profile::FunctionRow> = by
        .into_iter()
        .map(|(name, (cycles, instructions))| profile::FunctionRow {
            symbol: f
                .image
                .function_named(&name)
                .and_then(elf::Function::mangled),
            source: f
                .image
                .function_named(&name)
                .and_then(elf::Function::location),
            name,
            cycles,
            inclusive_cycles: None,
            calls: None,
            instructions,
            share: cycles as f64 / total.max(1) as f64,
        })
        .collect();
    rows.sort_by(|a, b| b.cycles.cmp(&a.cycles).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn hot_blocks(f: &RunFacts<'_>) -> Vec<profile::HotBlock> {
    let mut rows: Vec<profile::HotBlock> = f
        .blocks
        .iter()
        .map(|b| hot_block(f, b, b.executions, b.cycles))
        .collect();
    rows.sort_by(|a, b| {
        b.cycles
            .cmp(&a.cycles)
            .then_with(|| a.address.cmp(&b.address))
    });
    rows.truncate(10);
    rows
}

/// The lowest stack address any hit after `begin` up to `end` saw (each hit reports the lowest
/// since the one before it).
fn lowest_stack(hits: &[ProbeHit], from: usize, to: usize) -> Option<u32> {
    hits.get(from + 1..=to)?
        .iter()
        .filter_map(|h| h.stack_low)
        .min()
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
        contention: a.contention - b.contention,
    }
}

#[cfg(test)]
mod tests;
