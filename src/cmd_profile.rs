//! `mcusim profile`: compile a model (or take model firmware built earlier), run one inference
//! and print the cycles of every layer, attributed from the firmware's layer markers.

use crate::Outcome;
use crate::cli::ProfileArgs;
use crate::model::{self, Options};
use anyhow::{Context, Result, bail};
use mcusim_boards::Board;
use mcusim_profiler::group;
use mcusim_sim::{Firmware, Limits, Machine, StdConsole};
use mcusim_traces::StopReason;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn run(args: &ProfileArgs) -> Result<Outcome> {
    let board = args.build.what_if.board(&args.build.board)?;
    let request = Request {
        model: &args.model,
        board: &board,
        options: Options {
            opt: args.build.opt.clone(),
            weights_in_sram: args.build.weights_in_sram,
            reference_kernels: args.build.reference_kernels,
            layer_markers: !args.build.no_layer_markers,
        },
        inputs: &args.input,
        max_instructions: args.max_instructions.0,
        max_cycles: None,
        timing: true,
        exact_flash: false,
        arguments: arguments(args),
        progress: !args.quiet && !args.tui,
        read_output: args.output.is_some(),
        forward_output: !args.tui,
        foreign: args.foreign.clone(),
        firmware_args: Vec::new(),
    };
    let run = if args.tui {
        crate::cmd_tui::collect_live(&request)?
    } else {
        collect(&request)?
    };
    let profile = &run.profile;
    let to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !to_stdout && !args.tui {
        print!("{}", table(profile, !args.quiet));
    }
    write_export(
        args.json.as_deref(),
        &mcusim_profiler::export::json(profile),
    )?;
    write_exports(profile, &args.exports)?;
    let ok = matches!(profile.stop, StopReason::Exit { code: 0 });
    if args.tui {
        // The result, even of a run that failed or was stopped: what ran is shown.
        if let (true, Some(path), Some((bytes, shape))) = (ok, &args.output, &run.output) {
            model::write_output(path, bytes, shape)?;
        }
        crate::cmd_tui::open(run.profile, None)?;
        return Ok(if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        });
    }
    if !args.quiet {
        eprintln!(
            "mcusim: {} on {} ({} MHz): {} cycles, {:.3} ms simulated, {:.2} s on the host",
            profile.stop,
            board.name,
            board.clock_hz() as f64 / 1e6,
            group(profile.totals.cycles.0),
            profile.totals.cycles.seconds_at(board.clock_hz()) * 1e3,
            run.host_seconds
        );
    }
    if !ok {
        if args.quiet {
            eprintln!("mcusim: {}", profile.stop);
        }
        if let Some(hint) = args.max_instructions.hint(&profile.stop) {
            eprintln!("{hint}");
        }
        return Ok(Outcome::Failure);
    }
    if let (Some(path), Some((bytes, shape))) = (&args.output, &run.output) {
        model::write_output(path, bytes, shape)?;
    }
    Ok(Outcome::Success)
}

/// The arguments that decide the result (not where the reports go), canonically spelled, for
/// the report: the same run asked for twice records the same.
fn arguments(args: &ProfileArgs) -> Vec<String> {
    let mut a = vec![
        "profile".to_owned(),
        args.model.display().to_string(),
        "--board".into(),
        args.build.board.clone(),
    ];
    if model::is_tflite(&args.model) {
        a.push(format!("--opt={}", args.build.opt));
        for (on, flag) in [
            (args.build.weights_in_sram, "--weights-in-sram"),
            (args.build.reference_kernels, "--reference-kernels"),
            (args.build.no_layer_markers, "--no-layer-markers"),
        ] {
            if on {
                a.push(flag.into());
            }
        }
    }
    for i in &args.input {
        a.push("--input".into());
        a.push(i.display().to_string());
    }
    a.extend(args.build.what_if.arguments());
    a.extend(args.foreign.arguments());
    if let Some(n) = args
        .max_instructions
        .0
        .filter(|&n| n != crate::cli::DEFAULT_MAX_INSTRUCTIONS)
    {
        a.push(format!("--max-instructions={n}"));
    }
    a
}

/// What to profile and how.
pub struct Request<'a> {
    /// A `.tflite` model (compiled first) or a firmware ELF.
    pub model: &'a Path,
    pub board: &'a Board,
    pub options: Options,
    pub inputs: &'a [PathBuf],
    pub max_instructions: Option<u64>,
    pub max_cycles: Option<u64>,
    /// The cycle model on (off: one cycle per instruction), and exact flash charging.
    pub timing: bool,
    pub exact_flash: bool,
    /// The arguments recorded in the report.
    pub arguments: Vec<String>,
    /// Progress lines on standard error.
    pub progress: bool,
    /// Read the model's output tensor after the run.
    pub read_output: bool,
    /// Forward what the firmware prints to standard output and error.
    pub forward_output: bool,
    /// For a firmware ELF: its model and the symbols of its input, output and arena.
    pub foreign: crate::cli::Foreign,
    /// The firmware's command line arguments (SYS_GET_CMDLINE).
    pub firmware_args: Vec<String>,
}

/// The symbols of mcusim's model firmware that `--input` and `--output` use by default.
pub const INPUT_SYMBOL: &str = "mcusim_model_input_data";
pub const OUTPUT_SYMBOL: &str = "mcusim_model_output_data";

impl crate::cli::Foreign {
    /// The input and output symbols, given or mcusim's.
    pub fn symbols(&self) -> (&str, &str) {
        (
            self.input_symbol.as_deref().unwrap_or(INPUT_SYMBOL),
            self.output_symbol.as_deref().unwrap_or(OUTPUT_SYMBOL),
        )
    }

    /// The options as the report records them.
    pub fn arguments(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(m) = &self.tflite {
            a.push(format!("--model={}", m.display()));
        }
        for (flag, v) in [
            ("--input-symbol", &self.input_symbol),
            ("--output-symbol", &self.output_symbol),
            ("--arena-symbol", &self.arena_symbol),
        ] {
            if let Some(v) = v {
                a.push(format!("{flag}={v}"));
            }
        }
        a
    }
}

/// A profiled run.
pub struct Collected {
    pub profile: mcusim_profiler::Profile,
    /// The output tensor's bytes and shape, if asked for and the run exited with 0.
    pub output: Option<(Vec<u8>, Vec<usize>)>,
    pub host_seconds: f64,
    /// The run itself, and the firmware's entry point.
    pub result: mcusim_sim::RunResult,
    pub entry: u32,
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

/// Compiles (for a model), runs and profiles.
pub fn collect(r: &Request<'_>) -> Result<Collected> {
    collect_live(r, None)
}

/// [`collect`], reporting the run's progress to `live`.
pub fn collect_live(r: &Request<'_>, live: Option<LiveHook<'_>>) -> Result<Collected> {
    let say = |s: String| {
        if r.progress {
            eprintln!("mcusim: {s}");
        }
    };
    let mut temporary = None;
    let (elf, prepared) = if model::is_tflite(r.model) {
        let p = model::prepare(r.model, r.board)?;
        say(format!(
            "{}: {} layers, {} MACs, arena {} bytes (liveness lower bound {}); building for {} ...",
            p.source_name,
            p.layers.len(),
            group(p.macs()),
            group(u64::from(p.plan.arena_bytes)),
            group(u64::from(p.plan.lower_bound)),
            r.board.name
        ));
        let started = Instant::now();
        let elf = model::temporary_elf(&p.source_name)?;
        temporary = elf.parent().map(Path::to_path_buf);
        let built = model::build(&p, r.board, &r.options, &elf);
        if let Err(e) = built {
            if let Some(dir) = &temporary {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(e);
        }
        say(format!(
            "built in {:.1} s; running ...",
            started.elapsed().as_secs_f64()
        ));
        (elf, Some(p))
    } else {
        (r.model.to_path_buf(), None)
    };
    let result = profile(r, &elf, prepared.as_ref(), live);
    if let Some(dir) = temporary {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// The byte the free RAM is filled with before the run, to find the stack's deepest point.
const STACK_PATTERN: u8 = 0xA5;

/// The byte the arena is filled with when `main` starts, to find what the run wrote.
const ARENA_PATTERN: u8 = 0x5A;

fn profile(
    r: &Request<'_>,
    elf: &Path,
    prepared: Option<&model::Prepared>,
    live: Option<LiveHook<'_>>,
) -> Result<Collected> {
    let board = r.board;
    let firmware = Firmware::load(elf)?;
    let mut image = mcusim_profiler::elf::Image::load(elf)?;
    if let Some(name) = &r.foreign.arena_symbol
        && !image.use_arena(name)
    {
        bail!(
            "{}: no RAM object `{name}` to take as the arena (--arena-symbol)",
            elf.display()
        );
    }
    // The model the firmware runs: compiled here, or given with --model for an ELF.
    let given = match (prepared, &r.foreign.tflite) {
        (None, Some(path)) => Some(model::prepare(path, board)?),
        _ => None,
    };
    let prepared = prepared.or(given.as_ref());
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
    let (input_symbol, output_symbol) = r.foreign.symbols();
    let symbol = |name: &str| firmware.symbol(name).cloned();
    let markers = symbol("mcusim_layer_begin").zip(symbol("mcusim_layer_end"));
    let input_data = symbol(input_symbol);
    let heap_peak_at = symbol("mcusim_heap_peak").map(|s| s.addr);
    let main_entry = symbol("main").filter(|s| s.is_function).map(|s| s.addr);
    let has_sbrk = symbol("_sbrk").is_some();
    let foreign_heap = heap_peak_at.is_none() && has_sbrk;
    let output_data = symbol(output_symbol);
    // The layer descriptions the markers pass (`layer_N` objects), for the live view.
    let layer_symbols: Vec<u32> = firmware
        .symbols
        .iter()
        .filter(|s| {
            !s.is_function
                && s.name
                    .strip_prefix("layer_")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|s| s.addr)
        .collect();
    let (firmware_name, firmware_hash) = (firmware.name.clone(), firmware.hash.clone());
    let console: Box<dyn mcusim_sim::Console> = if r.forward_output {
        Box::new(StdConsole)
    } else {
        Box::new(mcusim_sim::CaptureConsole::default())
    };
    let mut machine = Machine::new(board, firmware, console)?;
    machine.set_args(&r.firmware_args);
    let marker_probes =
        markers.map(|(begin, end)| (machine.add_probe(begin.addr), machine.add_probe(end.addr)));
    // Calls are followed for the function profile, and the outermost kernel calls are the
    // layers of firmware without markers.
    let kernel_probes = machine.track_calls(&mcusim_profiler::kernels::entries(&image));
    // What ran in each layer, block by block.
    machine.snapshot_blocks(true);
    // Fill the free RAM (above static data, below the stack top) to find the stack's peak.
    let free = match (image.heap_start, image.stack_top) {
        (Some(lo), Some(hi)) if hi > lo => Some((lo, hi)),
        _ => None,
    };
    // The heap grows up from the bottom of the free RAM. mcusim's runtime says how far
    // (`mcusim_heap_peak`); a firmware with another allocator and no such word is not watched,
    // since refilling free RAM could overwrite its heap.
    let free = free.filter(|_| !foreign_heap);
    if let Some((lo, hi)) = free {
        machine.watch_stack(lo, hi, STACK_PATTERN, heap_peak_at);
    }
    // The arena is cleared by start-up: mark it when `main` starts, to count what the run wrote.
    let arena = image.arena_addr.zip(image.arena_bytes);
    let arena = arena.filter(|_| main_entry.is_some());
    if let (Some((addr, len)), Some(main)) = (arena, main_entry) {
        machine.fill_on_entry(main, addr, len, ARENA_PATTERN);
    }
    if !r.inputs.is_empty() {
        let Some(input_data) = &input_data else {
            bail!(
                "{}: the firmware has no `{input_symbol}` to write --input into (name the firmware's input buffer with --input-symbol)",
                elf.display()
            );
        };
        let sizes = match prepared {
            Some(p) => p.input_sizes(),
            None => vec![input_data.size as usize; r.inputs.len().min(1)],
        };
        let bytes = model::inputs_for(r.inputs, &sizes)?;
        if bytes.len() != input_data.size as usize {
            bail!(
                "{}: the inputs hold {} bytes, the firmware's input takes {}",
                elf.display(),
                bytes.len(),
                input_data.size
            );
        }
        if !machine.write_memory(input_data.addr, &bytes) {
            bail!(
                "{}: cannot write the input into the firmware",
                elf.display()
            );
        }
    }
    let started = Instant::now();
    machine.set_timing(r.timing);
    machine.set_exact_flash(r.exact_flash);
    let limits = Limits {
        max_instructions: r.max_instructions,
        max_cycles: r.max_cycles,
    };
    let result = match live {
        Some(hook) => {
            let names: std::collections::BTreeMap<u32, String> = layer_symbols
                .iter()
                .map(|&a| {
                    let i = layer_info(&machine, a);
                    (a, format!("{} {} ({})", i.index, i.name, i.op))
                })
                .collect();
            let total = (!names.is_empty()).then_some(names.len());
            let (begin, end) = (marker_probes.map(|(b, _)| b), marker_probes.map(|(_, e)| e));
            let (call, ret) = kernel_probes;
            let clock_hz = board.clock_hz();
            let image = &image;
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
                        .and_then(|h| image.function_at(h.arg0).map(str::to_owned))
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
        None => machine.run(limits),
    };
    let host_seconds = started.elapsed().as_secs_f64();
    let stack_peak_bytes = free.and_then(|(_, hi)| machine.stack_low_water().map(|low| hi - low));
    let arena_touched_bytes = arena.and_then(|(addr, len)| {
        let bytes = machine.read_memory(addr, len as usize)?;
        Some(bytes.iter().filter(|&&b| b != ARENA_PATTERN).count() as u32)
    });
    // Without an allocator linked in (no `_sbrk`), the heap is empty.
    let heap_peak_bytes = match heap_peak_at {
        Some(at) => machine
            .read_u32(at)
            .zip(image.heap_start)
            .map(|(peak, start)| peak.saturating_sub(start)),
        None if !has_sbrk => Some(0),
        None => None,
    };
    let hits = machine.probe_hits().to_vec();
    let mut layer_infos = std::collections::BTreeMap::new();
    let begin_probe = marker_probes.map(|(begin, _)| begin);
    for hit in hits.iter().filter(|h| Some(h.probe) == begin_probe) {
        layer_infos
            .entry(hit.arg0)
            .or_insert_with(|| layer_info(&machine, hit.arg0));
    }
    let profile = mcusim_profiler::profile(&mcusim_profiler::RunFacts {
        board,
        firmware_name,
        firmware_hash,
        arguments: r.arguments.clone(),
        stop: result.stop.clone(),
        instructions: result.instructions,
        cycles: result.cycles,
        breakdown: result.breakdown,
        traffic: machine.traffic(),
        hits: &hits,
        block_snapshots: machine.block_snapshots(),
        markers: marker_probes,
        kernel_calls: Some(kernel_probes),
        call_tree: &machine.call_tree(),
        layer_infos,
        model_layers: model_layers.as_deref(),
        stack_peak_bytes,
        heap_peak_bytes,
        arena_touched_bytes,
        image: &image,
        blocks: &machine.block_profile(),
    });
    let mut output = None;
    if r.read_output && matches!(result.stop, StopReason::Exit { code: 0 }) {
        let Some(output_data) = &output_data else {
            bail!(
                "{}: the firmware has no `{output_symbol}` to read --output from (name the firmware's output buffer with --output-symbol)",
                elf.display()
            );
        };
        let bytes = machine
            .read_memory(output_data.addr, output_data.size as usize)
            .with_context(|| format!("{}: cannot read the output", elf.display()))?;
        let shape = prepared
            .and_then(|p| p.output_shapes().into_iter().next())
            .unwrap_or_else(|| vec![bytes.len()]);
        output = Some((bytes, shape));
    }
    Ok(Collected {
        profile,
        output,
        host_seconds,
        result,
        entry: machine.entry(),
    })
}

/// Writes the exports asked for (`--csv`, `--perfetto`, `--folded`, `--plots`).
pub fn write_exports(p: &mcusim_profiler::Profile, exports: &crate::cli::Exports) -> Result<()> {
    write_export(exports.csv.as_deref(), &mcusim_profiler::export::csv(p))?;
    write_export(
        exports.perfetto.as_deref(),
        &mcusim_profiler::export::perfetto(p),
    )?;
    write_export(
        exports.folded.as_deref(),
        &mcusim_profiler::export::folded(p),
    )?;
    if let Some(dir) = exports.plots.as_deref() {
        let svgs = mcusim_profiler::plot::write_svgs(p, dir)?;
        mcusim_profiler::plot::write_pngs(&svgs)?;
    }
    Ok(())
}

pub fn write_export(path: Option<&std::path::Path>, text: &str) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    if path.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
}

/// The `mcusim_layer_info` at `addr`: index, operator, name, MACs.
fn layer_info(machine: &Machine, addr: u32) -> mcusim_profiler::LayerInfo {
    let info = machine.read_memory(addr, 16).unwrap_or_else(|| vec![0; 16]);
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

/// The layer table; with `summary`, the memory, hot functions and energy lines after it
/// (`-q` prints the table alone).
fn table(p: &mcusim_profiler::Profile, summary: bool) -> String {
    let mut t = String::new();
    let name_w = p
        .layers
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(5, 40);
    let _ = writeln!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>6} {:>9}",
        "#", "op", "layer", "MACs", "cycles", "c/MAC", "share", "uJ"
    );
    for r in &p.layers {
        let per = r
            .cycles_per_mac
            .map_or_else(|| "-".into(), |c| format!("{c:.2}"));
        let name = mcusim_profiler::abbreviate(&r.name, name_w);
        let _ = writeln!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>5.1}% {:>9}",
            r.index,
            r.op,
            name,
            group(r.macs),
            group(r.cycles.0),
            per,
            100.0 * r.share,
            mcusim_profiler::uj(r.energy_uj, 3)
        );
    }
    let total = p.totals.cycles.0.max(1) as f64;
    // The cycles outside layers, as rows of their own: the rows sum to the total.
    let before = p.totals.before_layers_cycles.0;
    let after = p.totals.after_layers_cycles.0;
    let between = p
        .totals
        .outside_layers_cycles
        .0
        .saturating_sub(before + after);
    for (what, detail, cycles) in [
        ("(before layers)", "reset, start-up, input", before),
        ("(between layers)", "", between),
        ("(after layers)", "output, exit", after),
    ] {
        let _ = writeln!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>5.1}%",
            "",
            what,
            detail,
            "",
            group(cycles),
            "",
            100.0 * cycles as f64 / total
        );
    }
    let per = p
        .totals
        .cycles_per_mac
        .map_or_else(|| "-".into(), |c| format!("{c:.2}"));
    let _ = writeln!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>5.1}% {:>9}",
        "",
        "total",
        format!("{} instructions", group(p.totals.instructions)),
        group(p.totals.macs),
        group(p.totals.cycles.0),
        per,
        100.0,
        mcusim_profiler::uj(p.totals.energy_uj, 3)
    );
    if !summary {
        return t;
    }
    let m = &p.memory;
    let _ = writeln!(
        t,
        "memory: flash {} B ({} code, {} constants), static RAM {} B{}, stack peak {}, heap peak {}, peak SRAM {} B",
        group(u64::from(m.flash_bytes)),
        group(u64::from(m.flash_code_bytes)),
        group(u64::from(m.flash_data_bytes)),
        group(u64::from(m.static_ram_bytes)),
        m.arena_bytes.map_or_else(String::new, |a| format!(
            " (arena {} B{})",
            group(u64::from(a)),
            m.arena_touched_bytes.map_or_else(String::new, |t| format!(
                ", {} written",
                group(u64::from(t))
            ))
        )),
        m.stack_peak_bytes.map_or_else(
            || "unknown".into(),
            |b| format!("{} B", group(u64::from(b)))
        ),
        m.heap_peak_bytes.map_or_else(
            || "unknown".into(),
            |b| format!("{} B", group(u64::from(b)))
        ),
        group(u64::from(m.peak_sram_bytes))
    );
    if !p.functions.is_empty() {
        let top: Vec<String> = p
            .functions
            .iter()
            .take(4)
            .map(|f| format!("{} {:.1}%", f.name, 100.0 * f.share))
            .collect();
        let _ = writeln!(t, "hot functions: {}", top.join(", "));
    }
    let _ = writeln!(t, "{}", mcusim_profiler::energy_line(p));
    t
}
