//! `mcusim profile`: compile a model (or take model firmware built earlier), run one inference
//! and print the cycles of every layer, attributed from the firmware's layer markers.

use crate::Outcome;
use crate::cli::ProfileArgs;
use crate::model::{self, Options};
use anyhow::{Context, Result, bail};
use mcusim_boards::Board;
use mcusim_sim::{Firmware, Limits, Machine, StdConsole};
use mcusim_traces::{ProbeHit, ProbeId, StopReason};
use std::fmt::Write as _;
use std::time::Instant;

/// One layer's share of the run.
struct Row {
    index: u32,
    op: String,
    name: String,
    macs: u64,
    cycles: u64,
}

pub fn run(args: &ProfileArgs) -> Result<Outcome> {
    let board = Board::resolve(&args.build.board)?;
    let say = |s: String| {
        if !args.quiet {
            eprintln!("mcusim: {s}");
        }
    };
    let mut temporary = None;
    let (elf, prepared) = if model::is_tflite(&args.model) {
        let p = model::prepare(&args.model, &board)?;
        let options = Options {
            opt: args.build.opt.clone(),
            weights_in_sram: args.build.weights_in_sram,
            reference_kernels: args.build.reference_kernels,
        };
        say(format!(
            "{}: {} layers, {} MACs, arena {} bytes (liveness lower bound {}); building for {} ...",
            p.source_name,
            p.layers.len(),
            group(p.macs()),
            group(u64::from(p.plan.arena_bytes)),
            group(u64::from(p.plan.lower_bound)),
            board.name
        ));
        let started = Instant::now();
        let elf = model::temporary_elf(&p.source_name)?;
        temporary = elf.parent().map(std::path::Path::to_path_buf);
        model::build(&p, &board, &options, &elf)?;
        say(format!(
            "built in {:.1} s; running ...",
            started.elapsed().as_secs_f64()
        ));
        (elf, Some(p))
    } else {
        (args.model.clone(), None)
    };
    let result = profile(args, &board, &elf, prepared.as_ref());
    if let Some(dir) = temporary {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn profile(
    args: &ProfileArgs,
    board: &Board,
    elf: &std::path::Path,
    prepared: Option<&model::Prepared>,
) -> Result<Outcome> {
    let firmware = Firmware::load(elf)?;
    let symbol = |name: &str| firmware.symbol(name).cloned();
    let (Some(begin), Some(end)) = (symbol("mcusim_layer_begin"), symbol("mcusim_layer_end"))
    else {
        bail!(
            "{}: not model firmware (no mcusim_layer_begin/mcusim_layer_end): build it with mcusim compile",
            elf.display()
        );
    };
    let input_data = symbol("mcusim_model_input_data");
    let output_data = symbol("mcusim_model_output_data");
    let mut machine = Machine::new(board, firmware, Box::new(StdConsole))?;
    let begin_probe = machine.add_probe(begin.addr);
    let end_probe = machine.add_probe(end.addr);
    if !args.input.is_empty() {
        let Some(input_data) = &input_data else {
            bail!(
                "{}: the firmware has no mcusim_model_input_data to write --input into",
                elf.display()
            );
        };
        let sizes = match prepared {
            Some(p) => p.input_sizes(),
            None => vec![input_data.size as usize; args.input.len().min(1)],
        };
        let bytes = model::inputs_for(&args.input, &sizes)?;
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
    let result = machine.run(Limits {
        max_instructions: args.max_instructions,
        max_cycles: None,
    });
    let host_seconds = started.elapsed().as_secs_f64();
    let rows = layers(&machine, machine.probe_hits(), begin_probe, end_probe);
    let total_cycles = result.cycles.0;
    print!("{}", table(&rows, total_cycles, result.instructions, board));
    if !args.quiet {
        eprintln!(
            "mcusim: {} on {} ({} MHz): {} cycles, {:.3} ms simulated, {:.2} s on the host",
            result.stop,
            board.name,
            board.clock_hz() as f64 / 1e6,
            group(total_cycles),
            result.cycles.seconds_at(board.clock_hz()) * 1e3,
            host_seconds
        );
    }
    if !matches!(result.stop, StopReason::Exit { code: 0 }) {
        if args.quiet {
            eprintln!("mcusim: {}", result.stop);
        }
        return Ok(Outcome::Failure);
    }
    if let Some(path) = &args.output {
        let Some(output_data) = &output_data else {
            bail!(
                "{}: the firmware has no mcusim_model_output_data to read --output from",
                elf.display()
            );
        };
        let bytes = machine
            .read_memory(output_data.addr, output_data.size as usize)
            .with_context(|| format!("{}: cannot read the output", elf.display()))?;
        let shape = prepared
            .and_then(|p| p.output_shapes().into_iter().next())
            .unwrap_or_else(|| vec![bytes.len()]);
        model::write_output(path, &bytes, &shape)?;
    }
    Ok(Outcome::Success)
}

/// Pairs layer-begin and layer-end hits (matched by their `mcusim_layer_info` pointer).
fn layers(machine: &Machine, hits: &[ProbeHit], begin: ProbeId, end: ProbeId) -> Vec<Row> {
    let mut open: Vec<&ProbeHit> = Vec::new();
    let mut rows = Vec::new();
    for hit in hits {
        if hit.probe == begin {
            open.push(hit);
        } else if hit.probe == end
            && let Some(i) = open.iter().rposition(|b| b.arg0 == hit.arg0)
        {
            let b = open.remove(i);
            let info = machine
                .read_memory(hit.arg0, 16)
                .unwrap_or_else(|| vec![0; 16]);
            let word = |i: usize| {
                u32::from_le_bytes([
                    info[4 * i],
                    info[4 * i + 1],
                    info[4 * i + 2],
                    info[4 * i + 3],
                ])
            };
            rows.push(Row {
                index: word(0),
                op: c_string(machine, word(1)),
                name: c_string(machine, word(2)),
                macs: u64::from(word(3)),
                cycles: hit.cycle.0 - b.cycle.0,
            });
        }
    }
    rows
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

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn table(rows: &[Row], total_cycles: u64, total_instructions: u64, board: &Board) -> String {
    let mut t = String::new();
    let name_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(5, 40);
    let _ = writeln!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>6}",
        "#", "op", "layer", "MACs", "cycles", "c/MAC", "share"
    );
    let share = |c: u64| 100.0 * c as f64 / total_cycles.max(1) as f64;
    let mut in_layers = 0u64;
    let mut macs = 0u64;
    for r in rows {
        in_layers += r.cycles;
        macs += r.macs;
        let per = if r.macs > 0 {
            format!("{:.2}", r.cycles as f64 / r.macs as f64)
        } else {
            "-".into()
        };
        let name: String = r.name.chars().take(name_w).collect();
        let _ = writeln!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>5.1}%",
            r.index,
            r.op,
            name,
            group(r.macs),
            group(r.cycles),
            per,
            share(r.cycles)
        );
    }
    let outside = total_cycles - in_layers.min(total_cycles);
    let _ = writeln!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>5.1}%",
        "",
        "(outside layers)",
        "start-up, input, output",
        "",
        group(outside),
        "",
        share(outside)
    );
    let per = if macs > 0 {
        format!("{:.2}", total_cycles as f64 / macs as f64)
    } else {
        "-".into()
    };
    let _ = writeln!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>7} {:>5.1}%",
        "",
        "total",
        format!("{} instructions", group(total_instructions)),
        group(macs),
        group(total_cycles),
        per,
        100.0
    );
    let _ = board;
    t
}
