//! The run report, `mcusim-run/1`: what `mcusim run --json` writes.
//!
//! Every field is documented here; the format is versioned by [`RUN_SCHEMA`]. The report holds
//! nothing that depends on the host (no wall-clock time, no absolute paths), so the same
//! firmware, board and arguments give byte-identical JSON.

use crate::{Breakdown, Cycles, StopReason};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema identifier written into every run report.
pub const RUN_SCHEMA: &str = "mcusim-run/1";

/// A finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// Always [`RUN_SCHEMA`].
    pub schema: String,
    /// The version of mcusim that made the report.
    pub mcusim_version: String,
    /// The board the firmware ran on.
    pub board: BoardRef,
    /// The firmware that ran.
    pub firmware: FirmwareRef,
    /// Why the run ended.
    pub stop: StopReason,
    /// What the run counted.
    pub totals: Totals,
}

/// Which board, precisely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BoardRef {
    /// The board's name.
    pub name: String,
    /// Its core.
    pub core: String,
    /// Its clock in Hz.
    pub clock_hz: u64,
    /// FNV-1a 64 of the board file's text, in hex: a changed board file changes this.
    pub hash: String,
}

/// Which firmware, precisely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FirmwareRef {
    /// The file name of the ELF (no directory, so reports do not depend on where it lies).
    pub file: String,
    /// FNV-1a 64 of the ELF's bytes, in hex.
    pub hash: String,
    /// The entry point (reset handler) from the vector table.
    pub entry: u32,
}

/// Counters over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Instructions executed to completion.
    pub instructions: u64,
    /// Core clock cycles from reset to the stop, sleep included.
    pub cycles: Cycles,
    /// The part of `cycles` the core spent asleep in WFI or WFE.
    pub sleep_cycles: Cycles,
    /// `cycles` by cause: execute, branch (refills), stall, memory (wait states), exception
    /// (entry), sleep. The parts sum to `cycles`.
    pub breakdown: Breakdown,
    /// `cycles` at the board clock, in microseconds.
    pub time_us: f64,
    /// Exceptions taken (SVC, PendSV, SysTick, interrupts).
    pub exceptions: u64,
}

/// FNV-1a, 64 bits: a small stable hash for identifying inputs in reports (not for security).
pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Addr, FaultKind};

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), "cbf29ce484222325");
        assert_eq!(fnv1a64(b"a"), "af63dc4c8601ec8c");
        assert_eq!(fnv1a64(b"foobar"), "85944171f73967e8");
    }

    #[test]
    fn stop_reasons_serialize_with_a_reason_tag() {
        let exit = serde_json::to_string(&StopReason::Exit { code: 3 }).unwrap();
        assert_eq!(exit, r#"{"reason":"exit","code":3}"#);
        let fault = StopReason::Fault {
            kind: FaultKind::Unmapped,
            pc: Addr(0x800_0100),
            address: Some(Addr(0x6000_0000)),
            message: "read of unmapped address".into(),
            symbol: None,
            state: None,
        };
        let json = serde_json::to_string(&fault).unwrap();
        assert_eq!(
            json,
            r#"{"reason":"fault","kind":"unmapped","pc":134217984,"address":1610612736,"message":"read of unmapped address"}"#
        );
        assert_eq!(serde_json::from_str::<StopReason>(&json).unwrap(), fault);
    }
}
