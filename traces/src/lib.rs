//! The vocabulary shared by the simulator and the profiler: units of time and address,
//! why a run stopped, what it counted, and the run report format.
//!
//! The simulator produces these values; the profiler and the CLI consume them. Neither side
//! needs the other, and this crate needs neither.

pub mod event;
pub mod report;
mod stop;
mod units;

pub use event::{BlockCount, CallNode, ProbeHit, ProbeId, Traffic};
pub use stop::{FaultKind, LimitKind, StopReason};
pub use units::{Addr, Breakdown, Cycles};
