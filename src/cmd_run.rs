//! `mcusim run`: load an ELF on a board, run it, forward its output, summarise.

use crate::cli::{RunArgs, Timing};
use crate::model::Options;
use crate::pipeline::{self, Request, Verb};
use crate::{Outcome, out};
use anyhow::Result;
use mcusim_profiler::{export, group};
use mcusim_sim::Limits;
use mcusim_traces::StopReason;
use mcusim_traces::report::{self, BoardRef, RunReport, Totals};
use std::path::PathBuf;

pub fn run(args: &RunArgs) -> Result<Outcome> {
    let e = &args.exports;
    let outputs = [
        args.json.as_deref(),
        args.output.as_deref(),
        args.profile.as_deref(),
    ];
    crate::out::check_writable(&[&outputs[..], &e.files()].concat(), &[e.plots.as_deref()])?;
    let board = args.what_if.board(&args.board)?;
    let inputs: Vec<PathBuf> = args.input.iter().cloned().collect();
    let stream = crate::stream::load(&args.stream)?;
    let request = Request {
        stream: stream.as_ref(),
        verb: Verb::Run,
        model: &args.firmware,
        board_name: &args.board,
        board: &board,
        what_if: args.what_if.clone(),
        options: Options {
            opt: "-O2".into(),
            weights_in_sram: false,
            reference_kernels: false,
            layer_markers: true,
            cpu_only: false,
            stream: None,
        },
        inputs: &inputs,
        limits: Limits {
            max_instructions: args.max_instructions.0,
            max_cycles: args.max_cycles,
            timeout: args.guest.timeout(),
        },
        timing: args.timing == Timing::On,
        exact_flash: args.exact_flash,
        foreign: args.foreign.clone(),
        firmware_args: &args.args,
        progress: false,
        read_output: args.output.is_some(),
        forward_output: true,
        stop_on_fault: args.guest.stop_on_fault,
        semihosting_root: args.guest.semihosting_root.as_deref(),
    };
    // Profiled too with `--profile` or an export; otherwise the fastest run, without probes.
    let ran = if args.profile.is_some() || args.exports.any() {
        let (ran, profile) = pipeline::profile(&request, None)?;
        out::write_if(args.profile.as_deref(), || export::json(&profile))?;
        out::exports(&profile, &args.exports)?;
        ran
    } else {
        pipeline::run(&request)?
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
        firmware: ran.firmware.clone(),
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
        out::write(path, &text)?;
    }
    if !args.quiet {
        eprint!("{}", summary(&report, ran.host_seconds));
        for line in result.stop.detail().iter().flat_map(|d| d.lines()) {
            eprintln!("  {line}");
        }
    } else if !matches!(result.stop, StopReason::Exit { .. }) {
        // Even quiet, a fault or a limit is said: it is why the status is 1.
        eprintln!("mcusim: {}", result.stop);
    }
    if let Some(hint) = args.max_instructions.hint(&result.stop) {
        eprintln!("{hint}");
    }
    if let (Some(path), Some((bytes, shape))) = (&args.output, &ran.output) {
        crate::model::write_output(path, bytes, shape)?;
    }
    ran.check_output()?;
    Ok(if result.stop.exit_status() == 0 {
        Outcome::Success
    } else {
        Outcome::Failure
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
        "\nmcusim: {stop}\n  board         {board} ({core}, {mhz} MHz)\n  exit code     {code}\n  instructions  {instr}\n  cycles        {cycles} ({sleep} asleep)\n  breakdown     execute {exec}, branch {branch}, stall {stall}, memory {memory}, exception {exception}{contention}\n  simulated     {time}\n  host          {host:.3} s, {mips:.1} M instructions/s\n",
        exec = group(t.breakdown.execute.0),
        branch = group(t.breakdown.branch.0),
        stall = group(t.breakdown.stall.0),
        memory = group(t.breakdown.memory.0),
        exception = group(t.breakdown.exception.0),
        contention = if t.breakdown.contention.is_zero() {
            String::new()
        } else {
            format!(", bus contention {}", group(t.breakdown.contention.0))
        },
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
