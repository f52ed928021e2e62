use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A count of core clock cycles.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Cycles(pub u64);

impl Cycles {
    /// No time at all.
    pub const ZERO: Cycles = Cycles(0);

    /// Whether no cycles at all (for reports that leave such a field out).
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Seconds at the given clock.
    pub fn seconds_at(self, clock_hz: u64) -> f64 {
        self.0 as f64 / clock_hz as f64
    }

    /// The later of two instants, or the larger of two durations.
    pub fn max(self, other: Cycles) -> Cycles {
        Cycles(self.0.max(other.0))
    }

    /// `self - other`, or zero when `other` is later.
    pub fn saturating_sub(self, other: Cycles) -> Cycles {
        Cycles(self.0.saturating_sub(other.0))
    }
}

impl Add for Cycles {
    type Output = Cycles;
    fn add(self, rhs: Cycles) -> Cycles {
        Cycles(self.0 + rhs.0)
    }
}

impl AddAssign for Cycles {
    fn add_assign(&mut self, rhs: Cycles) {
        self.0 += rhs.0;
    }
}

impl Sub for Cycles {
    type Output = Cycles;
    fn sub(self, rhs: Cycles) -> Cycles {
        Cycles(self.0 - rhs.0)
    }
}

impl fmt::Display for Cycles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A 32-bit target address.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Addr(pub u32);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl fmt::LowerHex for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// Where each cycle of a run went. Every cycle is in exactly one part, so the parts sum to the
/// total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Breakdown {
    /// Issuing and executing instructions.
    pub execute: Cycles,
    /// Pipeline refills after taken branches.
    pub branch: Cycles,
    /// Load/store pipeline stalls: address dependencies, load-use.
    pub stall: Cycles,
    /// Wait states of slow memory (flash without an accelerator hit).
    pub memory: Cycles,
    /// Exception entry.
    pub exception: Cycles,
    /// Asleep in WFI/WFE.
    pub sleep: Cycles,
    /// Waiting for the bus while another master (a DMA) uses the same slave. Absent from
    /// reports when zero.
    #[serde(default, skip_serializing_if = "Cycles::is_zero")]
    pub contention: Cycles,
}

impl Breakdown {
    /// The sum of the parts.
    pub fn total(&self) -> Cycles {
        self.execute
            + self.branch
            + self.stall
            + self.memory
            + self.exception
            + self.sleep
            + self.contention
    }
}
