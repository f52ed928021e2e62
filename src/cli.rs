//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use mcusim_traces::abi;
use std::path::PathBuf;

/// Cycle-approximate microcontroller simulator and profiler for embedded ML.
#[derive(Debug, Parser)]
#[command(name = "mcusim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a firmware ELF on a board and report how it ended.
    Run(RunArgs),
    /// Compile a .tflite model into firmware for a board (or write its C with --emit-c).
    Compile(CompileArgs),
    /// Compile a .tflite model (or take a firmware ELF built earlier), run one inference and
    /// print the cycles of every layer.
    Profile(ProfileArgs),
    /// Compare two profiles (`profile --json`): per-layer and total deltas; exit status 1 when
    /// a metric grew past its limit.
    Diff(DiffArgs),
    /// Profile every model of a `mcusim.toml` on its boards, in parallel, and check budgets
    /// (and regressions against saved baselines); exit status 1 on any failure.
    Check(CheckArgs),
    /// Explore a profile (`profile --json`) in the terminal: layers, timeline, memory,
    /// functions, and a comparison with a baseline.
    Tui(TuiArgs),
    /// List the built-in boards, or show one.
    Boards(BoardsArgs),
    /// Write the firmware runtime for a board into a folder, for your own firmware: start-up
    /// code and vector table, console and semihosting, newlib's system calls, the board header,
    /// a linker script (with ITCM/DTCM placement where the board has them) and a Makefile.
    Runtime(RuntimeArgs),
    /// Print the JSON Schema of a report mcusim writes (draft 2020-12).
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which report.
    #[arg(value_enum, default_value_t = SchemaKind::Profile)]
    pub kind: SchemaKind,
}

/// The reports with a JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// `profile --json`, `run --profile` (`mcusim-profile/1`).
    Profile,
    /// `run --json` (`mcusim-run/1`).
    Run,
    /// `diff --format json` (`mcusim-diff/1`).
    Diff,
    /// `check --format json` (`mcusim-check/1`).
    Check,
    /// `profile --board a,b --json` (`mcusim-comparison/1`).
    Comparison,
}

/// The profile's exports besides its JSON, shared by `profile` and `run`.
#[derive(Debug, Clone, Args)]
pub struct Exports {
    /// Write one CSV row per layer (Vela's column names where they mean the same).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write a Chrome trace event file that ui.perfetto.dev opens: layers as slices, energy
    /// and SRAM in use as counters.
    #[arg(long, value_name = "FILE")]
    pub perfetto: Option<PathBuf>,
    /// Write folded stacks in cycles, for flamegraph tools.
    #[arg(long, value_name = "FILE")]
    pub folded: Option<PathBuf>,
    /// Write charts (SVG and PNG) into this folder: cycles, cycles per MAC and energy per
    /// layer, SRAM in use over the run, a roofline.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

impl Exports {
    /// Whether any export was asked for.
    /// The files the exports write.
    pub fn files(&self) -> [Option<&std::path::Path>; 3] {
        [
            self.csv.as_deref(),
            self.perfetto.as_deref(),
            self.folded.as_deref(),
        ]
    }

    pub fn any(&self) -> bool {
        self.csv.is_some()
            || self.perfetto.is_some()
            || self.folded.is_some()
            || self.plots.is_some()
    }
}

/// What-if changes to the board, so a question needs no copied board file. Recorded in the
/// report (the board's hash changes with them).
#[derive(Debug, Args, Clone, Default)]
pub struct WhatIf {
    /// Run the core at this clock, in MHz (flash wait states stay as the board file says
    /// unless --flash-wait-states changes them too).
    #[arg(long, value_name = "MHZ")]
    pub clock_mhz: Option<f64>,
    /// Wait states of the board's flash.
    #[arg(long, value_name = "N")]
    pub flash_wait_states: Option<u32>,
    /// `off`: no flash accelerator (ART, ICACHE) and no L1 caches.
    #[arg(long, value_name = "on|off")]
    pub accelerator: Option<OnOff>,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

impl WhatIf {
    /// The board named by `board` (a built-in name or a file), with these changes.
    pub fn board(&self, board: &str) -> anyhow::Result<mcusim_boards::Board> {
        let base = mcusim_boards::Board::resolve(board)?;
        let clock_hz = match self.clock_mhz {
            Some(mhz) if !(mhz.is_finite() && (0.001..=10_000.0).contains(&mhz)) => {
                anyhow::bail!("--clock-mhz {mhz}: expected a clock between 0.001 and 10000 MHz")
            }
            Some(mhz) => Some((mhz * 1e6).round() as u64),
            None => None,
        };
        Ok(base.with_overrides(&mcusim_boards::Overrides {
            clock_hz,
            flash_wait_states: self.flash_wait_states,
            accelerator: self.accelerator.map(|a| a == OnOff::On),
        })?)
    }

    /// The changes as the report records them.
    pub fn arguments(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(mhz) = self.clock_mhz {
            a.push(format!("--clock-mhz={mhz}"));
        }
        if let Some(ws) = self.flash_wait_states {
            a.push(format!("--flash-wait-states={ws}"));
        }
        if self.accelerator == Some(OnOff::Off) {
            a.push("--accelerator=off".into());
        }
        a
    }
}

/// A file of samples for the board's sample stream, and what the stream summary needs.
/// Shared by `profile` and `run`.
#[derive(Debug, Args, Clone, Default)]
pub struct StreamArgs {
    /// Play this file through the board's sample stream (a `sample-stream` peripheral): WAV
    /// (16-bit PCM, one channel) or raw signed 16-bit little-endian samples (.raw, .pcm).
    /// With a .tflite model, the firmware is built to stream (see --stream-window).
    #[arg(long, value_name = "FILE")]
    pub stream: Option<PathBuf>,
    /// Samples per second (default: the WAV file's; needed for a raw file).
    #[arg(long, value_name = "HZ")]
    pub stream_rate: Option<u32>,
    /// Battery capacity in mAh, for the battery life the stream summary gives.
    #[arg(long, value_name = "MAH")]
    pub battery_mah: Option<f64>,
}

impl StreamArgs {
    /// The options as the report records them.
    pub fn arguments(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(f) = &self.stream {
            a.push(format!("--stream={}", f.display()));
        }
        if let Some(r) = self.stream_rate {
            a.push(format!("--stream-rate={r}"));
        }
        if let Some(c) = self.battery_mah {
            a.push(format!("--battery-mah={c}"));
        }
        a
    }
}

/// For a firmware ELF built with other tools (TensorFlow Lite Micro, your own): what mcusim
/// cannot find out by itself. Shared by `profile` and `run`.
#[derive(Debug, Args, Clone, Default)]
pub struct Foreign {
    /// The .tflite model the firmware runs: its layers found in the call tree take the
    /// operators' names and MACs, and `--output` writes the output tensor's shape.
    #[arg(long = "model", value_name = "MODEL")]
    pub tflite: Option<PathBuf>,
    /// The global the firmware reads its input from, where `--input` is written before the
    /// run (default: `mcusim_model_input_data`, as mcusim's model firmware has).
    #[arg(long, value_name = "SYMBOL")]
    pub input_symbol: Option<String>,
    /// The global the firmware leaves its output in, which `--output` reads after the run
    /// (default: `mcusim_model_output_data`).
    #[arg(long, value_name = "SYMBOL")]
    pub output_symbol: Option<String>,
    /// The RAM object that is the tensor arena, whose bytes the run writes are counted
    /// (default: `arena` of mcusim's firmware, or TensorFlow Lite Micro's `tensor_arena`).
    #[arg(long, value_name = "SYMBOL")]
    pub arena_symbol: Option<String>,
}

impl Foreign {
    /// The input and output symbols, given or mcusim's.
    pub fn symbols(&self) -> (&str, &str) {
        (
            self.input_symbol.as_deref().unwrap_or(abi::INPUT_DATA),
            self.output_symbol.as_deref().unwrap_or(abi::OUTPUT_DATA),
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

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// The profile to open.
    pub report: PathBuf,
    /// A baseline profile to compare it with (the Compare view).
    #[arg(long, value_name = "REPORT")]
    pub compare: Option<PathBuf>,
}

/// How `diff` and `check` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Text,
    /// Tables for a pull-request comment.
    Markdown,
    /// `mcusim-diff/1` / `mcusim-check/1`.
    Json,
    /// JUnit XML: one test case per metric (and per layer and metric).
    Junit,
}

/// Regression limits (`diff`, and `check --baseline`).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// The most any total may grow: a percent of the baseline (`2%`) or an amount (`+0`).
    /// Layers are held to --max-layer only.
    #[arg(long, value_name = "LIMIT")]
    pub max_regression: Option<String>,
    /// The most one metric of the totals may grow, overriding --max-regression: `cycles=+1%`,
    /// `peak_sram=+0`. Metrics: cycles, instructions, peak_sram, stack, flash, energy.
    #[arg(long = "max", value_name = "METRIC=LIMIT")]
    pub max: Vec<String>,
    /// The most any one layer's metric may grow: `cycles=+10%`, `stack=+0`. Metrics: cycles,
    /// instructions, stack, energy. None by default: a layer's change is reported, not failed.
    #[arg(long = "max-layer", value_name = "METRIC=LIMIT")]
    pub max_layer: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline profile (JSON from `mcusim profile --json`).
    pub baseline: PathBuf,
    /// The current profile.
    pub current: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How a running firmware is bounded and what it may reach (`run` and `profile`).
#[derive(Debug, Args)]
pub struct GuestArgs {
    /// Stop a run that takes longer than this many seconds on the host (a bound whatever
    /// the firmware does; the report says where it stopped).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<f64>,
    /// Stop at the first fault, as a debugger's vector catch does (default: a fault handler
    /// of the firmware's own takes the fault, as on the part; the run stops with the fault
    /// only if the handler never recovers).
    #[arg(long)]
    pub stop_on_fault: bool,
    /// Let the firmware's semihosting file calls (SYS_OPEN, SYS_READ, SYS_WRITE, ...) reach
    /// files under this folder, and nowhere else (default: every file call is refused).
    #[arg(long, value_name = "DIR")]
    pub semihosting_root: Option<PathBuf>,
}

impl GuestArgs {
    /// `--timeout` as a duration.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout.map(std::time::Duration::from_secs_f64)
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration: models, boards, budgets.
    #[arg(long, short, default_value = "mcusim.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// Compare against the profiles saved in this folder (`NAME@BOARD.json`).
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Write this run's profiles into the --baseline folder (budgets are still checked).
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Entries profiled at once (default: every core).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Stop an entry's run that takes longer than this many seconds on the host (each entry
    /// is also stopped at twice its cycle or latency budget).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<f64>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write every entry's profile into this folder (`NAME@BOARD.json`).
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How a model is compiled (`compile` and `profile`).
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A built-in board name (see `mcusim boards`) or the path of a board file.
    #[arg(long, short, default_value = mcusim_boards::DEFAULT_BOARD)]
    pub board: String,
    /// The compiler's optimisation flags (-O0..-O3, -Os, -Oz, -Og, -Ofast, -f... and -m...
    /// flags, --param=NAME=VALUE; nothing else reaches gcc).
    #[arg(long, default_value = "-O2", allow_hyphen_values = true, value_parser = opt_flags)]
    pub opt: String,
    /// Keep the weights in SRAM (copied from flash at start-up) instead of reading them from
    /// flash.
    #[arg(long)]
    pub weights_in_sram: bool,
    /// Call the plain reference kernels instead of the optimised ones.
    #[arg(long)]
    pub reference_kernels: bool,
    /// Leave out the layer markers: the profiler then finds the layers as the kernel calls
    /// (as it does for firmware built with other tools).
    #[arg(long)]
    pub no_layer_markers: bool,
    /// On a board with an NPU, run every layer on the CPU (to compare with the NPU's run).
    #[arg(long)]
    pub cpu_only: bool,
    /// Build streaming firmware: the board's sample stream fills windows of this many
    /// samples by DMA and each runs one inference, the core sleeping between them (with
    /// `profile --stream`, the default is the model input's length).
    #[arg(long, value_name = "SAMPLES")]
    pub stream_window: Option<u32>,
    #[command(flatten)]
    pub what_if: WhatIf,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The int8 .tflite model.
    pub model: PathBuf,
    #[command(flatten)]
    pub build: BuildArgs,
    /// The firmware ELF to write. It is built in a temporary folder (removed afterwards), so
    /// the same model gives the same bytes as `profile` and `check` build.
    #[arg(long, short, value_name = "ELF", required_unless_present = "emit_c")]
    pub output: Option<PathBuf>,
    /// Keep what the build made (generated C, runtime, kernels, linker script) in this
    /// folder instead of a temporary one.
    #[arg(long, value_name = "DIR", requires = "output")]
    pub keep_build: Option<PathBuf>,
    /// Write the generated C, the runtime, the kernels, the linker script and a Makefile into
    /// this folder instead of building (for your own toolchain).
    #[arg(long, value_name = "DIR")]
    pub emit_c: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The int8 .tflite model, or a firmware ELF built by `mcusim compile`.
    pub model: PathBuf,
    #[command(flatten)]
    pub build: BuildArgs,
    /// The model's input: an int8 .npy or raw .bin file, once per model input (default: a
    /// deterministic pseudo-random input).
    #[arg(long, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    /// Write the model's output here after the run (.npy or raw bytes, by extension).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Stop after this many instructions: a bound on every run, so none runs forever
    /// (default 2,000,000,000: twelve times ResNet-8 with reference kernels on the Cortex-M0+
    /// board, 157 M); `none` lifts it.
    #[arg(long, value_name = "N|none", default_value = "2000000000")]
    pub max_instructions: InstructionLimit,
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Print only the layer table (no progress lines, no summary).
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the profile as JSON (schema mcusim-profile/1) to this file (`-` for standard
    /// output, instead of the table).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub exports: Exports,
    #[command(flatten)]
    pub foreign: Foreign,
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Open the result in the terminal UI (`mcusim tui`).
    #[arg(long)]
    pub tui: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The firmware ELF to run.
    pub firmware: PathBuf,
    /// Arguments for the firmware: its semihosting command line (SYS_GET_CMDLINE) is the
    /// ELF's file name and these. mcusim's own options go before the ELF (or before these);
    /// after a `--` everything is the firmware's. As a cargo runner, `cargo run -- a b`
    /// passes `a b`.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
    /// A built-in board name (see `mcusim boards`) or the path of a board file.
    #[arg(long, short, default_value = mcusim_boards::DEFAULT_BOARD)]
    pub board: String,
    #[command(flatten)]
    pub what_if: WhatIf,
    /// Write the run report as JSON to this file (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Stop after this many instructions: a bound on every run, so none runs forever
    /// (default 2,000,000,000: twelve times ResNet-8 with reference kernels on the Cortex-M0+
    /// board, 157 M); `none` lifts it.
    #[arg(long, value_name = "N|none", default_value = "2000000000")]
    pub max_instructions: InstructionLimit,
    /// Stop once this many cycles have passed.
    #[arg(long, value_name = "N")]
    pub max_cycles: Option<u64>,
    #[command(flatten)]
    pub guest: GuestArgs,
    /// The cycle model: `on` (per-core tables, stalls, refills, latencies) or `off` (one
    /// cycle per instruction: the functional reference, and the fastest).
    #[arg(long, value_enum, default_value_t = Timing::On)]
    pub timing: Timing,
    /// Charge every data read from flash through a hook on its load instruction, instead of
    /// from the address pattern learned for it: slower, the exact reference.
    #[arg(long)]
    pub exact_flash: bool,
    /// Print no summary, only the stop reason of a fault or a limit (firmware output is still
    /// forwarded).
    #[arg(long, short)]
    pub quiet: bool,
    /// For model firmware (`mcusim compile`): the input, an int8 .npy or raw .bin file written
    /// into the firmware's input before the run (all model inputs, one after another).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// For model firmware: write the model's output here after the run (.npy or raw bytes).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Profile the run and write the profile as JSON (schema mcusim-profile/1; `--json` is the
    /// run report). The profile exports below imply profiling too.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    #[command(flatten)]
    pub exports: Exports,
    #[command(flatten)]
    pub foreign: Foreign,
    #[command(flatten)]
    pub stream: StreamArgs,
}

#[derive(Debug, Args)]
pub struct RuntimeArgs {
    /// The folder to write into (created if missing; the files are overwritten).
    pub dir: PathBuf,
    /// A built-in board name (see `mcusim boards`) or the path of a board file.
    #[arg(long, short, default_value = mcusim_boards::DEFAULT_BOARD)]
    pub board: String,
    #[command(flatten)]
    pub what_if: WhatIf,
    /// Stack reserved below the top of RAM, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 8192)]
    pub stack_bytes: u32,
}

#[derive(Debug, Args)]
pub struct BoardsArgs {
    #[command(subcommand)]
    pub command: Option<BoardsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum BoardsCommand {
    /// List the built-in boards (the default).
    List,
    /// Print a board file: a built-in name or a path.
    Show {
        /// The board.
        name: String,
    },
}

/// The most instructions a run may take (`--max-instructions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstructionLimit(pub Option<u64>);

/// The bound every run has unless told otherwise.
pub const DEFAULT_MAX_INSTRUCTIONS: u64 = 2_000_000_000;

impl std::str::FromStr for InstructionLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "none" {
            return Ok(InstructionLimit(None));
        }
        s.replace('_', "")
            .parse::<u64>()
            .map(|n| InstructionLimit(Some(n)))
            .map_err(|_| format!("`{s}` is neither a count of instructions nor `none`"))
    }
}

impl InstructionLimit {
    /// A hint for a run stopped by the default bound, empty otherwise.
    pub fn hint(self, stop: &mcusim_traces::StopReason) -> Option<&'static str> {
        let default = self.0 == Some(DEFAULT_MAX_INSTRUCTIONS);
        matches!(
            stop,
            mcusim_traces::StopReason::Limit {
                kind: mcusim_traces::LimitKind::Instructions,
                ..
            }
        )
        .then_some(default)
        .filter(|&d| d)
        .map(|_| {
            "mcusim: that is the default bound on every run: raise it with --max-instructions N, or lift it with --max-instructions none"
        })
    }
}

/// `--timing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Timing {
    /// The per-core cycle model.
    On,
    /// One cycle per instruction.
    Off,
}

/// A number of seconds: finite and above 0.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds above 0")),
    }
}

/// `--opt`, checked: only optimisation and code-generation flags.
fn opt_flags(s: &str) -> Result<String, String> {
    mcusim_toolchain::opt_flags(s).map(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_limits_are_counts_or_none() {
        assert_eq!("1_000".parse(), Ok(InstructionLimit(Some(1000))));
        assert_eq!("none".parse(), Ok(InstructionLimit(None)));
        assert!("ten".parse::<InstructionLimit>().is_err());
        let stop = mcusim_traces::StopReason::Limit {
            kind: mcusim_traces::LimitKind::Instructions,
            pc: mcusim_traces::Addr(0x100),
            limit: DEFAULT_MAX_INSTRUCTIONS,
            symbol: None,
        };
        // Only the default bound gets the hint.
        assert!(
            InstructionLimit(Some(DEFAULT_MAX_INSTRUCTIONS))
                .hint(&stop)
                .is_some()
        );
        assert!(InstructionLimit(Some(5)).hint(&stop).is_none());
    }
}
