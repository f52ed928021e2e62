//! The one pipeline of the binary: a [`Request`] (a model or a firmware ELF, a board, inputs,
//! limits) is built (a `.tflite` compiled to firmware first), run on the simulated board and,
//! when asked, profiled. `run`, `profile`, `check` and the TUI's live view all go through
//! [`run`] or [`profile`]; the options stay typed all the way, and the report's record of them
//! is made here, once ([`Request::arguments`]).
//!
//! The ELF is read once: the simulator's loader and the profiler's image reader parse the same
//! bytes. The symbols looked up are the firmware ABI's ([`mcusim_traces::abi`]).

use crate::cli::{DEFAULT_MAX_INSTRUCTIONS, Foreign, WhatIf};
use crate::model::{self, Options};
use crate::progress::{self, Spinner};
use anyhow::{Context, Result, anyhow, bail};
use mcusim_boards::Board;
use mcusim_profiler::{Profile, group};
use mcusim_sim::{Firmware, Limits, Machine, RunResult, StdConsole};
use mcusim_traces::report::FirmwareRef;
use mcusim_traces::{StopReason, abi};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The command a request comes from, as its report records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Profile,
    Run,
}

/// What to build, run and measure, and how.
pub struct Request<'a> {
    pub verb: Verb,
    /// A `.tflite` model (compiled first) or a firmware ELF.
    pub model: &'a Path,
    /// The board as asked for (a built-in name or a board file), and as resolved with the
    /// what-if changes applied.
    pub board_name: &'a str,
    pub board: &'a Board,
    pub what_if: WhatIf,
    /// How a model is compiled.
    pub options: Options,
    pub inputs: &'a [PathBuf],
    pub limits: Limits,
    /// The cycle model on (off: one cycle per instruction), and exact flash charging.
    pub timing: bool,
    pub exact_flash: bool,
    /// For a firmware ELF: its model and the symbols of its input, output and arena.
    pub foreign: Foreign,
    /// The firmware's command line arguments (SYS_GET_CMDLINE).
    pub firmware_args: &'a [String],
    /// Progress lines on standard error.
    pub progress: bool,
    /// Read the model's output tensor after the run.
    pub read_output: bool,
    /// Forward what the firmware prints to standard output and error.
    pub forward_output: bool,
    /// Stop at the first fault instead of letting the firmware's fault handler take it.
    pub stop_on_fault: bool,
    /// The folder the firmware's semihosting file calls may reach, if any.
    pub semihosting_root: Option<&'a Path>,
    /// The samples the board's sample stream plays (`--stream`).
    pub stream: Option<&'a crate::stream::StreamInput>,
}

impl Request<'_> {
    /// The options that decide the result (not where the reports go), canonically spelled,
    /// as the profile records them: the same run asked for twice records the same.
    pub fn arguments(&self) -> Vec<String> {
        let verb = match self.verb {
            Verb::Profile => "profile",
            Verb::Run => "run",
        };
        let mut a = vec![
            verb.to_owned(),
            self.model.display().to_string(),
            "--board".into(),
            self.board_name.to_owned(),
        ];
        if model::is_tflite(self.model) {
            a.push(format!("--opt={}", self.options.opt));
            for (on, flag) in [
                (self.options.weights_in_sram, "--weights-in-sram"),
                (self.options.reference_kernels, "--reference-kernels"),
                (!self.options.layer_markers, "--no-layer-markers"),
                (self.options.cpu_only, "--cpu-only"),
            ] {
                if on {
                    a.push(flag.into());
                }
            }
            if let Some(model::Window::Samples(n)) = self.options.stream {
                a.push(format!("--stream-window={n}"));
            }
        }
        if !self.timing {
            a.push("--timing=off".into());
        }
        if self.exact_flash {
            a.push("--exact-flash".into());
        }
        for i in self.inputs {
            a.push("--input".into());
            a.push(i.display().to_string());
        }
        a.extend(self.what_if.arguments());
        a.extend(self.foreign.arguments());
        if let Some(s) = self.stream {
            a.extend(s.arguments.iter().cloned());
        }
        match self.limits.max_instructions {
            Some(DEFAULT_MAX_INSTRUCTIONS) => {}
            Some(n) => a.push(format!("--max-instructions={n}")),
            None => a.push("--max-instructions=none".into()),
        }
        if let Some(n) = self.limits.max_cycles {
            a.push(format!("--max-cycles={n}"));
        }
        if !self.firmware_args.is_empty() {
            a.push("--".into());
            a.extend(self.firmware_args.iter().cloned());
        }
        a
    }
}

/// A finished run.
pub struct Ran {
    pub result: RunResult,
    /// The firmware as the reports name it.
    pub firmware: FirmwareRef,
    /// The output tensor's bytes and shape, if asked for and the run exited with 0.
    pub output: Option<(Vec<u8>, Vec<usize>)>,
    pub host_seconds: f64,
    /// The firmware's output that could not be written to standard output or error.
    pub lost_output: mcusim_sim::LostOutput,
}

impl Ran {
    /// An error saying what of the firmware's output was lost, if any was: the run is not
    /// reported as a success when what it printed did not arrive.
    pub fn check_output(&self) -> anyhow::Result<()> {
        match &self.lost_output.error {
            Some(e) => anyhow::bail!(
                "standard output: {e}: {} bytes of the firmware's output were lost",
                self.lost_output.bytes
            ),
            None => Ok(()),
        }
    }
}

/// A run in progress, for a live view.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStatus {
    pub instructions: u64,
    pub cycles: u64,
    pub clock_hz: u64,
    /// The layer running (from the last marker or kernel call), if known: `3 conv_3/out
    /// (CONV_2D)`.
    pub layer: Option<String>,
    /// How many layers the firmware describes, if it has markers.
    pub layers_total: Option<usize>,
}

/// Called about every million instructions while the firmware runs; false stops the run.
pub type LiveHook<'a> = &'a mut dyn FnMut(&LiveStatus) -> bool;

/// Builds (for a model) and runs, without probes: the fastest run, and no profile.
pub fn run(r: &Request<'_>) -> Result<Ran> {
    // The spinner only while building: the firmware's own output goes to the terminal after.
    let spinner = r.progress.then(Spinner::new).flatten();
    built(r, spinner.as_ref(), |elf, prepared| {
        execute(r, elf, prepared, None)
    })
    .map(|(ran, _)| ran)
}

/// Builds (for a model), runs and profiles, reporting the run's progress to `live`.
pub fn profile(r: &Request<'_>, live: Option<LiveHook<'_>>) -> Result<(Ran, Profile)> {
    let spinner = (r.progress && live.is_none()).then(Spinner::new).flatten();
    let mut show = |s: &LiveStatus| {
        if let Some(spinner) = &spinner {
            spinner.step(running(r.board, s));
        }
        true
    };
    let live: Option<LiveHook<'_>> = match live {
        Some(live) => Some(live),
        None if spinner.is_some() => Some(&mut show),
        None => None,
    };
    let (ran, profile) = built(r, spinner.as_ref(), |elf, prepared| {
        execute(r, elf, prepared, Some(Watch { live }))
    })?;
    let profile =
        profile.ok_or_else(|| anyhow!("internal error: a profiled run has no profile"))?;
    Ok((ran, profile))
}

/// The build step: `then` gets the ELF to run and, for a model, the model compiled; the
/// temporary build folder goes afterwards, whatever happened.
fn built<T>(
    r: &Request<'_>,
    spinner: Option<&Spinner>,
    then: impl FnOnce(&Path, Option<&model::Prepared>) -> Result<T>,
) -> Result<T> {
    if let Some(s) = spinner {
        s.step(format!("running on {}", r.board.name));
    }
    if !model::is_tflite(r.model) {
        return then(r.model, None);
    }
    let say = |s: String| {
        if r.progress {
            progress::say(spinner, &format!("mcusim: {s}"));
        }
    };
    if let Some(s) = spinner {
        s.step(format!("building the firmware for {}", r.board.name));
    }
    let p = model::prepare(r.model, r.board, r.options.cpu_only)?;
    say(format!(
        "{}: {} layers, {} MACs, arena {} bytes (liveness lower bound {}); building for {} ...",
        p.source_name,
        p.layers.len(),
        group(p.macs()),
        group(u64::from(p.plan.arena_bytes)),
        group(u64::from(p.plan.lower_bound)),
        r.board.name
    ));
    if let Some(s) = p.placement_summary() {
        say(s);
    }
    let started = Instant::now();
    let elf = model::temporary_elf(&p.source_name)?;
    let result = model::build(&p, r.board, &r.options, &elf).and_then(|()| {
        say(format!(
            "built in {:.1} s; running ...",
            started.elapsed().as_secs_f64()
        ));
        if let Some(s) = spinner {
            s.step(format!("running on {}", r.board.name));
        }
        then(&elf, Some(&p))
    });
    if let Some(dir) = elf.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// The spinner's line while the firmware runs: `running on nucleo-l4r5zi: layer 3 of 13 conv_3/out
/// (CONV_2D), 12.0 M instructions, 3.2 ms simulated`.
fn running(board: &Board, s: &LiveStatus) -> String {
    let layer = match (&s.layer, s.layers_total) {
        (Some(l), Some(n)) => format!("layer {l} of {n}, "),
        (Some(l), None) => format!("in {l}, "),
        _ => String::new(),
    };
    format!(
        "running on {}: {layer}{:.1} M instructions, {:.1} ms simulated",
        board.name,
        s.instructions as f64 / 1e6,
        s.cycles as f64 * 1e3 / s.clock_hz.max(1) as f64
    )
}

/// The byte the free RAM is filled with before the run, to find the stack's deepest point.
const STACK_PATTERN: u8 = 0xA5;

/// The byte the arena is filled with when `main` starts, to find what the run wrote.
const ARENA_PATTERN: u8 = 0x5A;

/// A profiled run's extra: the live view's hook.
struct Watch<'a> {
    live: Option<LiveHook<'a>>,
}

/// Loads, runs and (with `watch`) profiles the firmware at `elf`.
fn execute(
    r: &Request<'_>,
    elf: &Path,
    prepared: Option<&model::Prepared>,
    watch: Option<Watch<'_>>,
) -> Result<(Ran, Option<Profile>)> {
    let board = r.board;
    let shown = elf.display().to_string();
    // Read once; the loader and the image reader parse the same bytes.
    let bytes = mcusim_traces::file::read_capped(elf, mcusim_traces::file::MAX_INPUT_BYTES)
        .map_err(|source| mcusim_sim::Error::Io {
            path: shown.clone(),
            source,
        })?;
    let name = elf
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let firmware = Firmware::parse(&bytes, &shown, name)?;
    let mut image = match watch {
        Some(_) => Some(mcusim_profiler::elf::Image::parse(&bytes, &shown)?),
        None => None,
    };
    // What the firmware's RTT channels carry is printed by this, decoding defmt frames with
    // the ELF's own table (read now, while the bytes are here).
    let rtt_printer = (r.forward_output && firmware.symbol(abi::RTT_CONTROL_BLOCK).is_some())
        .then(|| crate::rtt::Printer::new(&bytes, board.clock_hz()));
    drop(bytes);
    if let (Some(image), Some(name)) = (&mut image, &r.foreign.arena_symbol)
        && !image.use_arena(name)
    {
        bail!("{shown}: no RAM object `{name}` to take as the arena (--arena-symbol)");
    }
    // The model the firmware runs: compiled here, or given with --model for an ELF.
    let given = match (prepared, &r.foreign.tflite) {
        (None, Some(path)) => Some(model::prepare(path, board, false)?),
        _ => None,
    };
    // Only a model compiled by this run has a plan the firmware follows.
    let compiled_here = prepared.is_some();
    let prepared = prepared.or(given.as_ref());
    let (input_symbol, output_symbol) = r.foreign.symbols();
    let symbol = |name: &str| firmware.symbol(name).cloned();
    let input_data = symbol(input_symbol);
    let output_data = symbol(output_symbol);
    let markers = symbol(abi::LAYER_BEGIN).zip(symbol(abi::LAYER_END));
    let heap_peak_at = symbol(abi::HEAP_PEAK).map(|s| s.addr);
    let main_entry = symbol(abi::MAIN).filter(|s| s.is_function).map(|s| s.addr);
    let has_sbrk = symbol(abi::SBRK).is_some();
    // The layer descriptions the markers pass, for the live view.
    let layer_objects: Vec<u32> = firmware
        .symbols
        .iter()
        .filter(|s| !s.is_function && abi::layer_object_index(&s.name).is_some())
        .map(|s| s.addr)
        .collect();
    let (file, hash) = (firmware.name.clone(), firmware.hash.clone());
    let std_console = StdConsole::default();
    let lost = std_console.lost();
    let console: Box<dyn mcusim_sim::Console> = if r.forward_output {
        Box::new(std_console)
    } else {
        Box::new(mcusim_sim::CaptureConsole::default())
    };
    // Watched only for a stream's summary: other profiles keep their probe hits as they were.
    let streaming = r.stream.is_some();
    let inference = symbol(abi::INFERENCE_BEGIN)
        .zip(symbol(abi::INFERENCE_END))
        .filter(|_| streaming);
    let window = symbol(abi::WINDOW).filter(|_| streaming);
    let rtt = symbol(abi::RTT_CONTROL_BLOCK).filter(|s| !s.is_function);
    let mut machine = Machine::new(board, firmware, console)?;
    machine.set_args(r.firmware_args);
    // RTT's up channels, drained as the firmware writes them, go where its console output goes.
    if let (Some(block), Some(printer)) = (rtt, rtt_printer) {
        machine.watch_rtt(block.addr, Box::new(printer));
    }
    if let Some(s) = r.stream
        && !machine.set_stream(std::sync::Arc::clone(&s.samples))
    {
        bail!(
            "{}: board '{}' has no sample stream to play it (a `sample-stream` peripheral: nucleo-l4r5zi and nucleo-g0b1re have one)",
            s.file,
            board.name
        );
    }
    let watched = match (watch, &image) {
        (Some(w), Some(image)) => Some(Watched::set_up(
            &mut machine,
            image,
            w,
            Marks {
                markers,
                inference,
                window,
                heap_peak_at,
                main_entry,
                has_sbrk,
            },
        )),
        _ => None,
    };
    if !r.inputs.is_empty() {
        let Some(input_data) = &input_data else {
            bail!(
                "{shown}: the firmware has no `{input_symbol}` to write --input into (name the firmware's input buffer with --input-symbol)"
            );
        };
        let sizes = match prepared {
            Some(p) => p.input_sizes(),
            None => vec![input_data.size as usize; r.inputs.len().min(1)],
        };
        let bytes = model::inputs_for(r.inputs, &sizes)?;
        if bytes.len() != input_data.size as usize {
            bail!(
                "{shown}: the inputs hold {} bytes, the firmware's input takes {}",
                bytes.len(),
                input_data.size
            );
        }
        if !machine.write_memory(input_data.addr, &bytes) {
            bail!("{shown}: cannot write the input into the firmware");
        }
    }
    machine.set_timing(r.timing);
    machine.set_exact_flash(r.exact_flash);
    machine.set_stop_on_fault(r.stop_on_fault);
    if let Some(root) = r.semihosting_root {
        machine
            .set_semihosting_root(root)
            .with_context(|| format!("{}: cannot be the semihosting root", root.display()))?;
    }
    let started = Instant::now();
    let (result, watched) = match watched {
        Some(mut w) => {
            let result = w.run(
                &mut machine,
                r.limits,
                board.clock_hz(),
                &layer_objects,
                image.as_ref(),
            );
            (result, Some(w))
        }
        None => (machine.run(r.limits), None),
    };
    let host_seconds = started.elapsed().as_secs_f64();
    let mut output = None;
    if r.read_output && matches!(result.stop, StopReason::Exit { code: 0 }) {
        let Some(output_data) = &output_data else {
            bail!(
                "{shown}: the firmware has no `{output_symbol}` to read --output from (name the firmware's output buffer with --output-symbol)"
            );
        };
        let bytes = machine
            .read_memory(output_data.addr, output_data.size as usize)
            .with_context(|| format!("{shown}: cannot read the output"))?;
        let shape = prepared
            .and_then(|p| p.output_shapes().into_iter().next())
            .unwrap_or_else(|| vec![bytes.len()]);
        output = Some((bytes, shape));
    }
    let profile = match (watched, &image) {
        (Some(w), Some(image)) => {
            let sources = source_reader(elf.parent());
            let known = Known {
                prepared,
                compiled_here,
                sources: &sources,
            };
            Some(w.profile(r, &machine, image, known, &result))
        }
        _ => None,
    };
    let ran = Ran {
        firmware: FirmwareRef {
            file,
            hash,
            entry: machine.entry(),
        },
        result,
        output,
        host_seconds,
        lost_output: lost.borrow().clone(),
    };
    Ok((ran, profile))
}

/// What a profiled run watches: the layer markers, kernel calls, the free RAM and the arena.
/// What is known of the firmware besides its image: the model (compiled by this run, or given
/// with --model) and where its sources can be read.
#[derive(Clone, Copy)]
struct Known<'a> {
    prepared: Option<&'a model::Prepared>,
    /// The model was compiled by this run: its arena follows the plan.
    compiled_here: bool,
    sources: &'a dyn Fn(&str) -> Option<String>,
}

struct Watched<'a> {
    live: Option<LiveHook<'a>>,
    markers: Option<(mcusim_traces::ProbeId, mcusim_traces::ProbeId)>,
    /// The inference markers (begin, end) and the streaming window marker, if present.
    inference: Option<(mcusim_traces::ProbeId, mcusim_traces::ProbeId)>,
    window: Option<mcusim_traces::ProbeId>,
    kernel_calls: (mcusim_traces::ProbeId, mcusim_traces::ProbeId),
    /// The free RAM watched for the stack's peak: (low, high).
    free: Option<(u32, u32)>,
    heap_peak_at: Option<u32>,
    has_sbrk: bool,
    /// The arena marked when `main` starts: (address, bytes).
    arena: Option<(u32, u32)>,
}

/// The firmware's symbols a profiled run watches.
struct Marks {
    /// The layer markers, the inference markers and the streaming window marker.
    markers: Option<(mcusim_sim::Symbol, mcusim_sim::Symbol)>,
    inference: Option<(mcusim_sim::Symbol, mcusim_sim::Symbol)>,
    window: Option<mcusim_sim::Symbol>,
    heap_peak_at: Option<u32>,
    main_entry: Option<u32>,
    has_sbrk: bool,
}

impl<'a> Watched<'a> {
    fn set_up(
        machine: &mut Machine,
        image: &mcusim_profiler::elf::Image,
        watch: Watch<'a>,
        marks: Marks,
    ) -> Watched<'a> {
        let Marks {
            markers,
            inference,
            window,
            heap_peak_at,
            main_entry,
            has_sbrk,
        } = marks;
        let mut probe_pair = |(begin, end): (mcusim_sim::Symbol, mcusim_sim::Symbol)| {
            (machine.add_probe(begin.addr), machine.add_probe(end.addr))
        };
        let markers = markers.map(&mut probe_pair);
        let inference = inference.map(&mut probe_pair);
        let window = window.map(|w| machine.add_probe(w.addr));
        // Calls are followed for the function profile, and the outermost kernel calls are the
        // layers of firmware without markers.
        let kernel_calls = machine.track_calls(&mcusim_profiler::kernels::entries(image));
        // What ran in each layer, block by block.
        machine.snapshot_blocks(true);
        // Fill the free RAM (above static data, below the stack top) to find the stack's
        // peak. The heap grows up from the bottom of the free RAM. mcusim's runtime says how
        // far (`mcusim_heap_peak`); a firmware with another allocator and no such word is not
        // watched, since refilling free RAM could overwrite its heap.
        let foreign_heap = heap_peak_at.is_none() && has_sbrk;
        let free = match (image.heap_start, image.stack_top) {
            (Some(lo), Some(hi)) if hi > lo && !foreign_heap => Some((lo, hi)),
            _ => None,
        };
        if let Some((lo, hi)) = free {
            machine.watch_stack(lo, hi, STACK_PATTERN, heap_peak_at);
        }
        // The arena is cleared by start-up: mark it when `main` starts, to count what the run
        // wrote.
        let arena = image.arena_addr.zip(image.arena_bytes);
        let arena = arena.filter(|_| main_entry.is_some());
        if let (Some((addr, len)), Some(main)) = (arena, main_entry) {
            machine.fill_on_entry(main, addr, len, ARENA_PATTERN);
        }
        Watched {
            live: watch.live,
            markers,
            inference,
            window,
            kernel_calls,
            free,
            heap_peak_at,
            has_sbrk,
            arena,
        }
    }

    /// Runs, telling the live view (if any) how far the run is and which layer runs.
    fn run(
        &mut self,
        machine: &mut Machine,
        limits: Limits,
        clock_hz: u64,
        layer_objects: &[u32],
        image: Option<&mcusim_profiler::elf::Image>,
    ) -> RunResult {
        let Some(hook) = self.live.as_mut() else {
            return machine.run(limits);
        };
        let names: BTreeMap<u32, String> = layer_objects
            .iter()
            .map(|&a| {
                let i = layer_info(machine, a);
                (a, format!("{} {} ({})", i.index, i.name, i.op))
            })
            .collect();
        let total = (!names.is_empty()).then_some(names.len());
        let (begin, end) = (self.markers.map(|(b, _)| b), self.markers.map(|(_, e)| e));
        let (call, ret) = self.kernel_calls;
        machine.run_with_progress(limits, 1_000_000, &mut |p| {
            // The last layer boundary: a layer runs if it was a beginning.
            let layer = if begin.is_some() {
                p.hits
                    .iter()
                    .rev()
                    .find(|h| Some(h.probe) == begin || Some(h.probe) == end)
                    .filter(|h| Some(h.probe) == begin)
                    .and_then(|h| names.get(&h.arg0).cloned())
            } else {
                p.hits
                    .iter()
                    .rev()
                    .find(|h| h.probe == call || h.probe == ret)
                    .filter(|h| h.probe == call)
                    .and_then(|h| image?.function_at(h.arg0).map(str::to_owned))
            };
            hook(&LiveStatus {
                instructions: p.instructions,
                cycles: p.cycles.0,
                clock_hz,
                layer,
                layers_total: total,
            })
        })
    }

    /// The facts of the finished run, attributed.
    fn profile(
        self,
        r: &Request<'_>,
        machine: &Machine,
        image: &mcusim_profiler::elf::Image,
        known: Known<'_>,
        result: &RunResult,
    ) -> Profile {
        let Known {
            prepared,
            compiled_here,
            sources,
        } = known;
        let stack_peak_bytes = self
            .free
            .and_then(|(_, hi)| machine.stack_low_water().map(|low| hi - low));
        let arena_touched_bytes = self.arena.and_then(|(addr, len)| {
            let bytes = machine.read_memory(addr, len as usize)?;
            Some(bytes.iter().filter(|&&b| b != ARENA_PATTERN).count() as u32)
        });
        // Without an allocator linked in (no `_sbrk`), the heap is empty.
        let heap_peak_bytes = match self.heap_peak_at {
            Some(at) => machine
                .read_u32(at)
                .zip(image.heap_start)
                .map(|(peak, start)| peak.saturating_sub(start)),
            None if !self.has_sbrk => Some(0),
            None => None,
        };
        let hits = machine.probe_hits();
        let begin_probe = self.markers.map(|(begin, _)| begin);
        let mut layer_infos = BTreeMap::new();
        for hit in hits.iter().filter(|h| Some(h.probe) == begin_probe) {
            layer_infos
                .entry(hit.arg0)
                .or_insert_with(|| layer_info(machine, hit.arg0));
        }
        let model_layers: Option<Vec<mcusim_profiler::LayerInfo>> = prepared.map(|p| {
            p.layers
                .iter()
                .map(|l| mcusim_profiler::LayerInfo {
                    index: l.index as u32,
                    op: l.op.name(),
                    name: mcusim_compiler::codegen::layer_name(&p.model, l),
                    macs: l.macs,
                })
                .collect()
        });
        let firmware = machine.firmware();
        mcusim_profiler::profile(&mcusim_profiler::RunFacts {
            board: r.board,
            firmware_name: firmware.name.clone(),
            firmware_hash: firmware.hash.clone(),
            arguments: r.arguments(),
            stop: result.stop.clone(),
            instructions: result.instructions,
            cycles: result.cycles,
            breakdown: result.breakdown,
            traffic: machine.traffic(),
            hits,
            block_snapshots: machine.block_snapshots(),
            markers: self.markers,
            kernel_calls: Some(self.kernel_calls),
            call_tree: &machine.call_tree(),
            layer_infos,
            model_layers: model_layers.as_deref(),
            sources,
            layer_shapes: prepared
                .map(model::Prepared::layer_shapes)
                .unwrap_or_default(),
            plan: prepared
                .filter(|_| compiled_here)
                .map(model::Prepared::arena_plan),
            stack_peak_bytes,
            heap_peak_bytes,
            arena_touched_bytes,
            image,
            blocks: &machine.block_profile(),
            activity: machine.activity(),
            stream: r.stream.map(|s| mcusim_profiler::StreamFacts {
                file: s.file.clone(),
                rate_hz: s.samples.rate_hz,
                samples: s.samples.data.len() as u64,
                battery_mah: s.battery_mah,
                inference: self.inference,
                window: self.window,
            }),
        })
    }
}

/// Reads the source files a firmware's DWARF line table names, for the Code view: as the path
/// says (absolute, or from the ELF's folder, where a model's generated sources are while it is
/// profiled, or from here), else mcusim's own embedded sources (the kernel library compiled in
/// the cache, the runtime, the entry points). Only C, C++, Rust and assembly files are read,
/// each at most 1 MiB: a report never carries other files' lines.
fn source_reader(elf_dir: Option<&Path>) -> impl Fn(&str) -> Option<String> + '_ {
    move |path: &str| {
        const SOURCES: [&str; 10] = ["c", "h", "cc", "cpp", "cxx", "hpp", "hh", "rs", "s", "S"];
        let p = Path::new(path);
        if !p
            .extension()
            .is_some_and(|e| SOURCES.iter().any(|s| e == *s))
        {
            return None;
        }
        let read = |p: &Path| {
            mcusim_traces::file::read_text_capped(p, mcusim_traces::file::MAX_TEXT_BYTES).ok()
        };
        let on_disk = if p.is_absolute() {
            read(p)
        } else {
            elf_dir
                .map(|d| d.join(p))
                .filter(|f| f.is_file())
                .and_then(|f| read(&f))
        };
        if on_disk.is_some() {
            return on_disk;
        }
        let relative = path.trim_start_matches("./");
        if let Some((_, inside)) = relative
            .rsplit_once("mnn/")
            .or_else(|| relative.strip_prefix("mnn/").map(|r| ("", r)))
            && let Some((_, text)) = mcusim_toolchain::KERNELS.iter().find(|(k, _)| *k == inside)
        {
            return Some((*text).to_owned());
        }
        let name = p.file_name()?.to_str()?;
        mcusim_toolchain::RUNTIME
            .iter()
            .chain([
                &mcusim_toolchain::MODEL_MAIN,
                &mcusim_toolchain::STREAM_MAIN,
            ])
            .find(|(n, _)| *n == name)
            .map(|(_, text)| (*text).to_owned())
            .or_else(|| p.is_file().then(|| read(p)).flatten())
    }
}

/// The `mcusim_layer_info` at `addr`: index, operator, name, MACs.
fn layer_info(machine: &Machine, addr: u32) -> mcusim_profiler::LayerInfo {
    let info = machine
        .read_memory(addr, abi::LAYER_INFO_BYTES as usize)
        .unwrap_or_else(|| vec![0; abi::LAYER_INFO_BYTES as usize]);
    let word = |i: usize| {
        u32::from_le_bytes([
            info[4 * i],
            info[4 * i + 1],
            info[4 * i + 2],
            info[4 * i + 3],
        ])
    };
    mcusim_profiler::LayerInfo {
        index: word(0),
        op: c_string(machine, word(1)),
        name: c_string(machine, word(2)),
        macs: u64::from(word(3)),
    }
}

/// The NUL-terminated string at `addr` (at most 256 bytes).
fn c_string(machine: &Machine, addr: u32) -> String {
    let mut bytes = Vec::new();
    for chunk in 0..8 {
        let Some(part) = machine.read_memory(addr + 32 * chunk, 32) else {
            break;
        };
        if let Some(nul) = part.iter().position(|&b| b == 0) {
            bytes.extend_from_slice(&part[..nul]);
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        bytes.extend_from_slice(&part);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
