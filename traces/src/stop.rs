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
        /// The core at the fault: its registers and the fault status the fault sets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<Box<FaultState>>,
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

/// The core at a fault: the registers its exception frame holds (R0-R3, R12, LR, the
/// return address and xPSR) and the stack pointer, and the fault status registers as the
/// fault sets them (Armv7-M ARM B3.2.15-B3.2.18; the Armv6-M cores have none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FaultState {
    pub r0: Addr,
    pub r1: Addr,
    pub r2: Addr,
    pub r3: Addr,
    pub r12: Addr,
    pub lr: Addr,
    pub pc: Addr,
    pub xpsr: Addr,
    pub sp: Addr,
    /// CFSR (MMFSR, BFSR, UFSR) and HFSR as the fault sets them.
    pub cfsr: u32,
    pub hfsr: u32,
    /// The faulting data address, where the fault says one (MMARVALID, BFARVALID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmfar: Option<Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bfar: Option<Addr>,
}

impl FaultState {
    /// The set bits of CFSR and HFSR by name (`BFSR.PRECISERR`, `HFSR.FORCED`).
    pub fn status_names(&self) -> Vec<&'static str> {
        const CFSR: [(u32, &str); 17] = [
            (0, "MMFSR.IACCVIOL"),
            (1, "MMFSR.DACCVIOL"),
            (3, "MMFSR.MUNSTKERR"),
            (4, "MMFSR.MSTKERR"),
            (5, "MMFSR.MLSPERR"),
            (7, "MMFSR.MMARVALID"),
            (8, "BFSR.IBUSERR"),
            (9, "BFSR.PRECISERR"),
            (10, "BFSR.IMPRECISERR"),
            (11, "BFSR.UNSTKERR"),
            (12, "BFSR.STKERR"),
            (15, "BFSR.BFARVALID"),
            (16, "UFSR.UNDEFINSTR"),
            (17, "UFSR.INVSTATE"),
            (18, "UFSR.INVPC"),
            (24, "UFSR.UNALIGNED"),
            (25, "UFSR.DIVBYZERO"),
        ];
        let mut out: Vec<&str> = CFSR
            .iter()
            .filter(|(bit, _)| self.cfsr & (1 << bit) != 0)
            .map(|&(_, name)| name)
            .collect();
        if self.hfsr & (1 << 30) != 0 {
            out.push("HFSR.FORCED");
        }
        if self.hfsr & (1 << 1) != 0 {
            out.push("HFSR.VECTTBL");
        }
        out
    }

    /// Two lines for people: the registers, then the fault status.
    pub fn describe(&self) -> String {
        let names = self.status_names();
        let far =
            |name: &str, a: Option<Addr>| a.map_or(String::new(), |a| format!(", {name} {a}"));
        format!(
            "registers     r0 {} r1 {} r2 {} r3 {} r12 {} lr {} pc {} xpsr {} sp {}\nfault status  CFSR {:#010x} HFSR {:#010x}{}{}{}",
            self.r0,
            self.r1,
            self.r2,
            self.r3,
            self.r12,
            self.lr,
            self.pc,
            self.xpsr,
            self.sp,
            self.cfsr,
            self.hfsr,
            if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            },
            far("MMFAR", self.mmfar),
            far("BFAR", self.bfar),
        )
    }
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
    /// An interrupt storm: exceptions taken `limit` times in a row with not one instruction
    /// of thread mode (and no sleep) between; `pc` is the handler's.
    InterruptStorm,
}

impl StopReason {
    /// A fault's registers and fault status, in lines for people (see [`FaultState`]).
    pub fn detail(&self) -> Option<String> {
        match self {
            StopReason::Fault { state: Some(s), .. } => Some(s.describe()),
            _ => None,
        }
    }

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
                    LimitKind::InterruptStorm => write!(
                        f,
                        "interrupt storm at pc {pc}{s}: the handler was entered {} times in a row with not one instruction of the program between (does it clear what raises its interrupt?)",
                        crate::group(*limit)
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
