//! The board's devices: everything outside the core and the PPB that firmware reaches through
//! memory-mapped registers. One file per device model, behind [`Device`]; [`build`] is the one
//! registration, from the board file's [`PeripheralModel`].
//!
//! A device sees each register access, and each moment it asked to be woken for, with a
//! [`Context`]: the simulated time, its interrupt line (it sets the level or pulses it; the
//! machine pends the NVIC line from that, nothing polls), and the console. It says when it next
//! changes state by itself ([`Device::next_event`]), so the machine advances it lazily and
//! jumps the clock straight there while the core sleeps.

mod stm32_dma;
mod systick;
mod timer;
mod uart;

pub use stm32_dma::Stm32Dma;
pub use systick::{SYSTICK_BASE, SysTick};
pub use timer::CmsdkTimer;
pub use uart::{CmsdkUart, Stm32Usart};

use crate::bus::BusPort;
use mcusim_boards::PeripheralModel;
use mcusim_traces::Cycles;

/// A device's interrupt output, as it drives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IrqLine {
    /// The level: the machine keeps the NVIC line pending while it is high (a level-sensitive
    /// interrupt: it pends again after the handler returns if still high).
    pub level: bool,
    /// Pulsed since the machine last looked (an edge: pends once).
    pub pulsed: bool,
}

/// What a device did over an interval of its own time, for the profile (the trace's track
/// takes the device's name from the machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    pub begin: Cycles,
    pub end: Cycles,
    pub bytes: u64,
    pub macs: u64,
    pub label: String,
}

/// What a device sees of the machine while it handles an access or an event.
pub struct Context<'a> {
    now: Cycles,
    lines: &'a mut [IrqLine],
    console: &'a mut Vec<u8>,
    bus: &'a mut dyn BusPort,
    work: &'a mut Vec<Work>,
}

impl<'a> Context<'a> {
    /// A context at time `now`, driving the interrupt outputs `lines` (one for most devices,
    /// one per channel for a DMA), writing console bytes to `console`, reaching memory through
    /// `bus` and logging what it does to `work`.
    pub fn new(
        now: Cycles,
        lines: &'a mut [IrqLine],
        console: &'a mut Vec<u8>,
        bus: &'a mut dyn BusPort,
        work: &'a mut Vec<Work>,
    ) -> Context<'a> {
        Context {
            now,
            lines,
            console,
            bus,
            work,
        }
    }

    /// The simulated time of the access or event.
    pub fn now(&self) -> Cycles {
        self.now
    }

    /// Drives the (first) interrupt line's level.
    pub fn set_irq(&mut self, level: bool) {
        self.set_line(0, level);
    }

    /// Pulses the (first) interrupt line (one edge).
    pub fn pulse_irq(&mut self) {
        if let Some(l) = self.lines.first_mut() {
            l.pulsed = true;
        }
    }

    /// Drives interrupt output `n`'s level (outputs the board does not wire are ignored).
    pub fn set_line(&mut self, n: usize, level: bool) {
        if let Some(l) = self.lines.get_mut(n) {
            l.level = level;
        }
    }

    /// Bytes the firmware prints through this device.
    pub fn console(&mut self, bytes: &[u8]) {
        self.console.extend_from_slice(bytes);
    }

    /// The bus, for the device's own reads and writes of memory (see [`BusPort`]).
    pub fn bus(&mut self) -> &mut dyn BusPort {
        self.bus
    }

    /// Logs work the device did from `begin` to `end` (a transfer, a layer): the profile's
    /// device track and busy time per layer come from these.
    pub fn record(&mut self, begin: Cycles, end: Cycles, bytes: u64, macs: u64, label: &str) {
        self.work.push(Work {
            begin,
            end: end.max(begin),
            bytes,
            macs,
            label: label.to_owned(),
        });
    }
}

/// A device model.
pub trait Device {
    /// A register read of `size` bytes at `offset` from the device's base.
    fn read(&mut self, offset: u32, size: usize, cx: &mut Context<'_>) -> u32;
    /// A register write.
    fn write(&mut self, offset: u32, size: usize, value: u32, cx: &mut Context<'_>);
    /// Brings the device's state up to `cx.now()`, doing what falls due by then.
    fn advance(&mut self, _cx: &mut Context<'_>) {}
    /// The next time the device changes state by itself, if any.
    fn next_event(&self) -> Option<Cycles> {
        None
    }
}

/// The model for a board peripheral: the one place a device model is registered.
pub fn build(model: &PeripheralModel) -> Box<dyn Device> {
    match model {
        PeripheralModel::CmsdkUart { .. } => Box::new(CmsdkUart::default()),
        PeripheralModel::Stm32Usart { .. } => Box::new(Stm32Usart::default()),
        PeripheralModel::CmsdkTimer => Box::new(CmsdkTimer::default()),
        PeripheralModel::Stm32Dma { channels, .. } => Box::new(Stm32Dma::new(*channels)),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::bus::NoBus;

    /// A device driven outside a machine: its line, what it printed and logged; no bus.
    #[derive(Default)]
    pub struct Bench {
        pub lines: [IrqLine; 8],
        pub out: Vec<u8>,
        pub work: Vec<Work>,
        bus: NoBus,
    }

    impl Bench {
        fn cx(&mut self, now: u64) -> Context<'_> {
            Context::new(
                Cycles(now),
                &mut self.lines,
                &mut self.out,
                &mut self.bus,
                &mut self.work,
            )
        }
        pub fn read(&mut self, d: &mut dyn Device, offset: u32, now: u64) -> u32 {
            d.read(offset, 4, &mut self.cx(now))
        }
        pub fn write(&mut self, d: &mut dyn Device, offset: u32, value: u32, now: u64) {
            d.write(offset, 4, value, &mut self.cx(now));
        }
        pub fn advance(&mut self, d: &mut dyn Device, now: u64) {
            d.advance(&mut self.cx(now));
        }
    }
}
