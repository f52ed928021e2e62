//! `mcusim`: run firmware for a microcontroller board on a cycle-approximate simulator.
//!
//! Exit status: 0 when the firmware exited with 0; 1 when it exited non-zero, faulted or hit a
//! limit; 2 when mcusim itself could not do the job (bad arguments, unreadable ELF, invalid
//! board). `main` is the one place that maps outcomes to exit codes.

mod cli;
mod cmd_boards;
mod cmd_check;
mod cmd_compile;
mod cmd_diff;
mod cmd_profile;
mod cmd_run;
mod cmd_runtime;
mod cmd_tui;
mod jobs;
mod model;
mod out;
mod pipeline;
mod progress;
mod rtt;
mod schema;
mod stream;
mod tui;

use clap::Parser;
use std::process::ExitCode;

/// What a command concluded, for the exit status.
pub enum Outcome {
    /// Status 0.
    Success,
    /// Status 1: the answer is "no" (the firmware failed).
    Failure,
}

/// SIGINT and SIGTERM stop the run at the simulator's next look (its report is written); a
/// second one ends mcusim at once with status 130, as an interrupted program's.
fn catch_interrupts() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = mcusim_sim::interrupt_flag();
    for signal in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, flag.clone());
        let _ = signal_hook::flag::register(signal, flag.clone());
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    catch_interrupts();
    let result = match args.command {
        cli::Command::Run(run) => cmd_run::run(&run),
        cli::Command::Compile(c) => cmd_compile::run(&c),
        cli::Command::Profile(p) => cmd_profile::run(&p),
        cli::Command::Diff(d) => cmd_diff::run(&d),
        cli::Command::Check(c) => cmd_check::run(&c),
        cli::Command::Tui(t) => cmd_tui::run(&t),
        cli::Command::Boards(b) => cmd_boards::run(&b),
        cli::Command::Runtime(r) => cmd_runtime::run(&r),
        cli::Command::Schema(s) => {
            // A pretty-printed Value always serialises.
            let mut text = serde_json::to_string_pretty(&schema::of(s.kind).1).unwrap_or_default();
            text.push('\n');
            out::stdout(&text).map(|()| Outcome::Success)
        }
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failure) => ExitCode::from(1),
        Err(e) => {
            // One line per cause chain element would be noise: the errors name their file.
            eprintln!("mcusim: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
