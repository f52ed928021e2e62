//! The simulated microcontroller: a Cortex-M core on unicorn-engine, the board's memory map,
//! simulated time, the System Control Space and the board's peripherals.
//!
//! This is the only crate that links unicorn. [`Machine::new`] loads a [`Firmware`] onto a
//! [`mcusim_boards::Board`]; [`Machine::run`] runs it to a [`mcusim_traces::StopReason`].
//! Nothing the firmware does makes this crate panic or hang: faults, bad semihosting calls,
//! runaway loops and endless sleep all end the run with a stop reason.

pub mod bus;
mod calls;
mod clock;
pub mod devices;
mod error;
mod firmware;
mod machine;
mod nvic;
mod scs;
pub mod semihosting;
pub mod thumb;
pub mod timing;

pub use error::Error;
pub use firmware::{Firmware, Segment, Symbol};
pub use machine::{
    CaptureConsole, Console, HOST_CHECK_EVERY, Limits, LostOutput, Machine, Progress, RttSink,
    RunResult, StdConsole, Stream, interrupt_flag,
};
