//! Memory-mapped peripherals of the board (everything outside the PPB).
//!
//! A peripheral sees register reads and writes with the current simulated time, and says when
//! it next needs the clock ("time until my next event"), so the machine can advance it lazily
//! and jump the clock straight there while the core sleeps. Interrupt lines are levels: the
//! machine pends the peripheral's IRQ in the NVIC while `irq_level` is high.

mod uart;

pub use uart::{CmsdkUart, Stm32Usart};

use mcusim_boards::PeripheralKind;
use mcusim_traces::Cycles;

/// A modelled peripheral.
pub trait Peripheral {
    /// A register read of `size` bytes at `offset` from the peripheral's base.
    fn read(&mut self, offset: u32, size: usize, now: Cycles) -> u32;
    /// A register write; bytes the peripheral transmits go to `console`.
    fn write(&mut self, offset: u32, size: usize, value: u32, now: Cycles, console: &mut Vec<u8>);
    /// The next time the peripheral changes state by itself, if any.
    fn next_event(&self) -> Option<Cycles> {
        None
    }
    /// Bring the peripheral's state up to `now`.
    fn advance(&mut self, _now: Cycles) {}
    /// Whether its interrupt output is asserted.
    fn irq_level(&self) -> bool;
}

/// Build the model for a board peripheral.
pub fn build(kind: PeripheralKind) -> Box<dyn Peripheral> {
    match kind {
        PeripheralKind::CmsdkUart => Box::new(CmsdkUart::default()),
        PeripheralKind::Stm32Usart => Box::new(Stm32Usart::default()),
    }
}
