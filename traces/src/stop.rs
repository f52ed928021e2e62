use crate::Addr;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a run ended. Running always ends in one of these; the simulator never panics on
/// anything the firmware does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// The firmware exited through semihosting (SYS_EXIT or SYS_EXIT_EXTENDED).
    Exit {
        /// The exit code the firmware passed.
        code: i64,
    },
    /// The firmware did something the core faults on.
    Fault {
        /// What kind of fault.
        kind: FaultKind,
        /// Address of the faulting instruction.
        pc: Addr,
        /// The data address concerned, for memory faults.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Addr>,
        /// A sentence for people.
        message: String,
        /// The function holding `pc` and the offset into it (`main+0x1c`), if the ELF's
        /// symbols say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        symbol: Option<String>,
    },
    /// A limit given on the command line was reached.
    Limit {
        /// Which limit.
        kind: LimitKind,
        /// Where the core was.
        pc: Addr,
        /// The limit's value.
        limit: u64,
        /// The function holding `pc` and the offset into it, if the ELF's symbols say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        symbol: Option<String>,
    },
}

/// Kinds of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A read, write or fetch of an address no region or peripheral covers.
    Unmapped,
    /// A write to read-only memory (flash) or a fetch from non-executable memory.
    Protection,
    /// An unaligned access where the core does not allow one.
    Unaligned,
    /// An undefined or unsupported instruction.
    Undefined,
    /// The stack pointer went below the lowest RAM address.
    StackOverflow,
    /// A fault while no handler could run: the firmware's own fault handler ran into a fault,
    /// or a fault exception was escalated to a lockup.
    Lockup,
    /// A semihosting call the simulator refuses (bad operation or arguments).
    Semihosting,
    /// The firmware entered its own HardFault handler (a fault it detected and reported).
    HardFault,
    /// Something the emulator reported that fits no other kind.
    Other,
}

/// Kinds of run limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// `--max-instructions`.
    Instructions,
    /// `--max-cycles`.
    Cycles,
    /// The core slept with no event that could ever wake it.
    SleepForever,
    /// The user stopped the run (the terminal UI's `q` while it ran).
    Cancelled,
    /// `--timeout`: the run took longer than its limit of host time (`limit`: seconds).
    Timeout,
    /// mcusim was interrupted (SIGINT, SIGTERM) while the firmware ran.
    Interrupted,
    /// The core loops where nothing can change its state: a loop that stores nothing and
    /// touches no peripheral, its registers the same at every pass, with no interrupt that
    /// could ever be taken (a `while (1);`, Rust's `panic-halt`).
    Stuck,
}

impl StopReason {
    /// The exit status a run with this outcome gives: 0 only for a clean exit with code 0.
    pub fn exit_status(&self) -> i32 {
        match self {
            StopReason::Exit { code: 0 } => 0,
            _ => 1,
        }
    }

    /// The short name used in reports (`exit`, `fault`, `limit`).
    pub fn name(&self) -> &'static str {
        match self {
            StopReason::Exit { .. } => "exit",
            StopReason::Fault { .. } => "fault",
            StopReason::Limit { .. } => "limit",
        }
    }

    /// The program counter the run stopped at (for faults and limits).
    pub fn pc(&self) -> Option<Addr> {
        match self {
            StopReason::Exit { .. } => None,
            StopReason::Fault { pc, .. } | StopReason::Limit { pc, .. } => Some(*pc),
        }
    }

    /// Names the function the run stopped in (`main+0x1c`).
    pub fn set_symbol(&mut self, name: Option<String>) {
        match self {
            StopReason::Exit { .. } => {}
            StopReason::Fault { symbol, .. } | StopReason::Limit { symbol, .. } => *symbol = name,
        }
    }

    /// The firmware's exit code, when it exited.
    pub fn code(&self) -> Option<i64> {
        match self {
            StopReason::Exit { code } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Exit { code } => write!(f, "exit with code {code}"),
            StopReason::Fault {
                kind,
                pc,
                message,
                symbol,
                ..
            } => write!(
                f,
                "{} fault at pc {pc}{}: {message}",
                kind.name(),
                at(symbol)
            ),
            StopReason::Limit {
                kind,
                pc,
                limit,
                symbol,
            } => {
                let s = at(symbol);
                match kind {
                    LimitKind::Instructions => write!(
                        f,
                        "instruction limit of {} reached at pc {pc}{s}",
                        crate::group(*limit)
                    ),
                    LimitKind::Cycles => write!(
                        f,
                        "cycle limit of {} reached at pc {pc}{s}",
                        crate::group(*limit)
                    ),
                    LimitKind::Cancelled => write!(
                        f,
                        "stopped by the user at pc {pc}{s} after {} instructions",
                        crate::group(*limit)
                    ),
                    LimitKind::Timeout => write!(
                        f,
                        "time limit of {limit} s on the host reached at pc {pc}{s}"
                    ),
                    LimitKind::Interrupted => write!(
                        f,
                        "interrupted at pc {pc}{s} after {} instructions",
                        crate::group(*limit)
                    ),
                    LimitKind::SleepForever => write!(
                        f,
                        "core sleeps at pc {pc}{s} with no interrupt enabled that could wake it"
                    ),
                    LimitKind::Stuck => write!(
                        f,
                        "core is stuck at pc {pc}{s}: a loop that stores nothing, touches no peripheral and no interrupt can end"
                    ),
                }
            }
        }
    }
}

/// ` (main+0x1c)`, or nothing.
fn at(symbol: &Option<String>) -> String {
    symbol
        .as_ref()
        .map_or_else(String::new, |s| format!(" ({s})"))
}

impl FaultKind {
    /// The snake-case name, as in reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Unmapped => "unmapped",
            FaultKind::Protection => "protection",
            FaultKind::Unaligned => "unaligned",
            FaultKind::Undefined => "undefined instruction",
            FaultKind::StackOverflow => "stack overflow",
            FaultKind::Lockup => "lockup",
            FaultKind::Semihosting => "semihosting",
            FaultKind::HardFault => "hardfault",
            FaultKind::Other => "emulator",
        }
    }
}
