//! `mcusim run`: load an ELF on a board, run it, forward its output, summarise.

use crate::Outcome;
use crate::cli::{RunArgs, Timing};
use anyhow::{Context, Result, bail};
use mcusim_boards::Board;
use mcusim_profiler::group;
use mcusim_sim::{Firmware, Limits, Machine, StdConsole};
use mcusim_traces::StopReason;
use mcusim_traces::report::{self, BoardRef, FirmwareRef, RunReport, Totals};
use std::io::Write;
use std::time::Instant;

/// What a run leaves for the report.
struct Ran {
    result: mcusim_sim::RunResult,
    host_seconds: f64,
    file: String,
    hash: String,
    entry: u32,
    /// The model output's bytes, when asked for and the run exited with 0.
    output: Option<Vec<u8>>,
}

pub fn run(args: &RunArgs) -> Result<Outcome> {
    let board = args.what_if.board(&args.board)?;
    let profiling = args.profile.is_some() || args.exports.any();
    let ran = if profiling {
        profiled(args, &board)?
    } else {
        plain(args, &board)?
    };
    let result = &ran.result;
    let clock_hz = board.clock_hz();
    let report = RunReport {
        schema: report::RUN_SCHEMA.into(),
        mcusim_version: env!("CARGO_PKG_VERSION").into(),
        board: BoardRef {
            name: board.name.clone(),
            core: board.core.name().into(),
            clock_hz,
            hash: report::fnv1a64(board.text.as_bytes()),
        },
        firmware: FirmwareRef {
            file: ran.file.clone(),
            hash: ran.hash.clone(),
            entry: ran.entry,
        },
        stop: result.stop.clone(),
        totals: Totals {
            instructions: result.instructions,
            cycles: result.cycles,
            sleep_cycles: result.sleep_cycles,
            breakdown: result.breakdown,
            time_us: result.cycles.seconds_at(clock_hz) * 1e6,
            exceptions: result.exceptions,
        },
    };
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        if path.as_os_str() == "-" {
            std::io::stdout().write_all(text.as_bytes())?;
        } else {
            std::fs::write(path, text)
                .with_context(|| format!("{}: cannot write the JSON report", path.display()))?;
        }
    }
    if !args.quiet {
        eprint!("{}", summary(&report, ran.host_seconds));
    } else if !matches!(result.stop, StopReason::Exit { .. }) {
        // Even quiet, a fault or a limit is said: it is why the status is 1.
        eprintln!("mcusim: {}", result.stop);
    }
    if let Some(hint) = args.max_instructions.hint(&result.stop) {
        eprintln!("{hint}");
    }
    if let (Some(path), Some(bytes)) = (&args.output, &ran.output) {
        // The model's output shape, when the firmware's model is given.
        let shape = match &args.foreign.tflite {
            Some(m) => crate::model::prepare(m, &board)?
                .output_shapes()
                .into_iter()
                .next()
                .unwrap_or_else(|| vec![bytes.len()]),
            None => vec![bytes.len()],
        };
        crate::model::write_output(path, bytes, &shape)?;
    }
    Ok(if result.stop.exit_status() == 0 {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

/// The run profiled as well (`--profile`, `--csv`, `--perfetto`, `--folded`, `--plots`).
fn profiled(args: &RunArgs, board: &Board) -> Result<Ran> {
    let inputs: Vec<std::path::PathBuf> = args.input.iter().cloned().collect();
    let mut arguments = vec![
        "run".to_owned(),
        args.firmware.display().to_string(),
        "--board".into(),
        args.board.clone(),
    ];
    if args.timing == Timing::Off {
        arguments.push("--timing=off".into());
    }
    if args.exact_flash {
        arguments.push("--exact-flash".into());
    }
    for i in &inputs {
        arguments.extend(["--input".to_owned(), i.display().to_string()]);
    }
    arguments.extend(args.what_if.arguments());
    arguments.extend(args.foreign.arguments());
    if !args.args.is_empty() {
        arguments.push("--".into());
        arguments.extend(args.args.iter().cloned());
    }
    let c = crate::cmd_profile::collect(&crate::cmd_profile::Request {
        model: &args.firmware,
        board,
        options: crate::model::Options {
            opt: "-O2".into(),
            weights_in_sram: false,
            reference_kernels: false,
            layer_markers: true,
        },
        inputs: &inputs,
        max_instructions: args.max_instructions.0,
        max_cycles: args.max_cycles,
        timing: args.timing == Timing::On,
        exact_flash: args.exact_flash,
        arguments,
        progress: false,
        read_output: args.output.is_some(),
        forward_output: true,
        foreign: args.foreign.clone(),
        firmware_args: args.args.clone(),
    })?;
    crate::cmd_profile::write_export(
        args.profile.as_deref(),
        &mcusim_profiler::export::json(&c.profile),
    )?;
    crate::cmd_profile::write_exports(&c.profile, &args.exports)?;
    Ok(Ran {
        result: c.result,
        host_seconds: c.host_seconds,
        file: c.profile.firmware.file.clone(),
        hash: c.profile.firmware.hash.clone(),
        entry: c.entry,
        output: c.output.map(|o| o.0),
    })
}

/// A plain run: no probes, no call tracking.
fn plain(args: &RunArgs, board: &Board) -> Result<Ran> {
    let firmware = Firmware::load(&args.firmware)?;
    let (input_symbol, output_symbol) = args.foreign.symbols();
    let input_data = firmware.symbol(input_symbol).cloned();
    let output_data = firmware.symbol(output_symbol).cloned();
    let (file, hash) = (firmware.name.clone(), firmware.hash.clone());
    let mut machine = Machine::new(board, firmware, Box::new(StdConsole))?;
    machine.set_args(&args.args);
    if let Some(path) = &args.input {
        let Some(sym) = &input_data else {
            bail!(
                "{}: the firmware has no `{input_symbol}` to write --input into (name the firmware's input buffer with --input-symbol)",
                args.firmware.display()
            );
        };
        let bytes = crate::model::inputs_for(std::slice::from_ref(path), &[sym.size as usize])?;
        if !machine.write_memory(sym.addr, &bytes) {
            bail!(
                "{}: cannot write the input into the firmware",
                args.firmware.display()
            );
        }
    }
    machine.set_timing(args.timing == Timing::On);
    machine.set_exact_flash(args.exact_flash);
    let started = Instant::now();
    let result = machine.run(Limits {
        max_instructions: args.max_instructions.0,
        max_cycles: args.max_cycles,
    });
    let host_seconds = started.elapsed().as_secs_f64();
    let mut output = None;
    if args.output.is_some() && result.stop.exit_status() == 0 {
        let Some(sym) = &output_data else {
            bail!(
                "{}: the firmware has no `{output_symbol}` to read --output from (name the firmware's output buffer with --output-symbol)",
                args.firmware.display()
            );
        };
        output = Some(
            machine
                .read_memory(sym.addr, sym.size as usize)
                .with_context(|| format!("{}: cannot read the output", args.firmware.display()))?,
        );
    }
    Ok(Ran {
        result,
        host_seconds,
        file,
        hash,
        entry: machine.entry(),
        output,
    })
}

/// The human summary, printed to standard error so standard output carries only what the
/// firmware printed.
fn summary(r: &RunReport, host_seconds: f64) -> String {
    let t = &r.totals;
    let mips = t.instructions as f64 / host_seconds.max(1e-9) / 1e6;
    let code = r
        .stop
        .code()
        .map_or_else(|| "-".to_string(), |c| c.to_string());
    format!(
        "\nmcusim: {stop}\n  board         {board} ({core}, {mhz} MHz)\n  exit code     {code}\n  instructions  {instr}\n  cycles        {cycles} ({sleep} asleep)\n  breakdown     execute {exec}, branch {branch}, stall {stall}, memory {memory}, exception {exception}\n  simulated     {time}\n  host          {host:.3} s, {mips:.1} M instructions/s\n",
        exec = group(t.breakdown.execute.0),
        branch = group(t.breakdown.branch.0),
        stall = group(t.breakdown.stall.0),
        memory = group(t.breakdown.memory.0),
        exception = group(t.breakdown.exception.0),
        stop = r.stop,
        board = r.board.name,
        core = r.board.core,
        mhz = r.board.clock_hz as f64 / 1e6,
        instr = group(t.instructions),
        cycles = group(t.cycles.0),
        sleep = group(t.sleep_cycles.0),
        time = human_time(t.time_us),
        host = host_seconds,
    )
}

fn human_time(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.3} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.3} ms", us / 1e3)
    } else {
        format!("{us:.3} us")
    }
}
