//! The board's devices: everything outside the core and the PPB that firmware reaches through
//! memory-mapped registers. One file per device model, behind [`Device`]; [`build`] is the one
//! registration, from the board file's [`PeripheralModel`].
//!
//! A device sees each register access, and each moment it asked to be woken for, with a
//! [`Context`]: the simulated time, its interrupt line (it sets the level or pulses it; the
//! machine pends the NVIC line from that, nothing polls), and the console. It says when it next
//! changes state by itself ([`Device::next_event`]), so the machine advances it lazily and
//! jumps the clock straight there while the core sleeps.

mod npu;
mod sample_stream;
mod stm32_dma;
mod stm32_dmamux;
mod systick;
mod timer;
mod uart;

pub use npu::{DESCRIPTOR_BYTES as NPU_DESCRIPTOR_BYTES, Npu, Ports as NpuPorts, word as npu_word};
pub use sample_stream::{SampleStream, Samples};
pub use stm32_dma::Stm32Dma;
pub use stm32_dmamux::Stm32Dmamux;
pub use systick::{SYSTICK_BASE, SysTick};
pub use timer::CmsdkTimer;
pub use uart::{CmsdkUart, Stm32Usart};

use crate::bus::BusPort;
use mcusim_boards::PeripheralModel;
use mcusim_traces::Cycles;
use std::cell::RefCell;
use std::sync::Arc;

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
    /// Cycles busy within `begin..end`, when less than all of it (see `Activity::busy`).
    pub busy: Option<Cycles>,
}

/// The DMA request wires between devices: a peripheral drives its request line (numbered as
/// the DMAMUX's inputs, 1 to 127) while it has data for the DMA; a DMAMUX routes one line to
/// each of its channels; a DMA channel transfers while its DMAMUX channel's line is high.
#[derive(Debug, Clone)]
pub struct Requests {
    levels: u128,
    /// When each line last rose.
    rose: [Cycles; 128],
    /// The line routed to each DMAMUX channel (0: none).
    routes: [u8; 32],
    /// Counts rises and route changes, so the machine knows to wake the DMAs.
    changes: u64,
}

impl Default for Requests {
    fn default() -> Requests {
        Requests {
            levels: 0,
            rose: [Cycles::ZERO; 128],
            routes: [0; 32],
            changes: 0,
        }
    }
}

impl Requests {
    /// How many times a line rose or a route changed so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }
}

/// What the run feeds the board's devices from outside.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The samples a sample stream plays (`--stream`).
    pub stream: Option<Arc<Samples>>,
    /// The core clock, for devices that keep real time.
    pub clock_hz: u64,
}

/// What a device sees of the machine while it handles an access or an event.
pub struct Context<'a> {
    now: Cycles,
    lines: &'a mut [IrqLine],
    console: &'a mut Vec<u8>,
    bus: &'a mut dyn BusPort,
    work: &'a mut Vec<Work>,
    requests: &'a RefCell<Requests>,
}

impl<'a> Context<'a> {
    /// A context at time `now`, driving the interrupt outputs `lines` (one for most devices,
    /// one per channel for a DMA), writing console bytes to `console`, reaching memory through
    /// `bus`, logging what it does to `work` and driving or reading the DMA `requests`.
    pub fn new(
        now: Cycles,
        lines: &'a mut [IrqLine],
        console: &'a mut Vec<u8>,
        bus: &'a mut dyn BusPort,
        work: &'a mut Vec<Work>,
        requests: &'a RefCell<Requests>,
    ) -> Context<'a> {
        Context {
            now,
            lines,
            console,
            bus,
            work,
            requests,
        }
    }

    /// Drives DMA request line `line` (1 to 127) at the current time.
    pub fn set_request(&mut self, line: u8, level: bool) {
        let bit = 1u128 << (line & 127);
        let mut r = self.requests.borrow_mut();
        if level && r.levels & bit == 0 {
            r.rose[usize::from(line & 127)] = self.now;
            r.changes += 1;
        }
        if level {
            r.levels |= bit;
        } else {
            r.levels &= !bit;
        }
    }

    /// Routes request line `line` to DMAMUX channel `channel` (0: none).
    pub fn route(&mut self, channel: usize, line: u8) {
        let mut r = self.requests.borrow_mut();
        if let Some(slot) = r.routes.get_mut(channel)
            && *slot != line & 127
        {
            *slot = line & 127;
            r.changes += 1;
        }
    }

    /// Whether DMAMUX channel `channel`'s line is high, and since when.
    pub fn requested(&self, channel: usize) -> Option<Cycles> {
        let r = self.requests.borrow();
        let line = *r.routes.get(channel)?;
        (line != 0 && r.levels >> line & 1 != 0).then(|| r.rose[usize::from(line)])
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
        self.push(begin, end, bytes, macs, label, None);
    }

    /// Logs work paced by something else (a peripheral's requests) spread from `begin` to
    /// `end`, of which the device was busy `busy` cycles.
    pub fn record_paced(
        &mut self,
        begin: Cycles,
        end: Cycles,
        busy: Cycles,
        bytes: u64,
        label: &str,
    ) {
        self.push(begin, end, bytes, 0, label, Some(busy));
    }

    /// One entry of the log: `end` no earlier than `begin`, `busy` no longer than the two.
    fn push(
        &mut self,
        begin: Cycles,
        end: Cycles,
        bytes: u64,
        macs: u64,
        label: &str,
        busy: Option<Cycles>,
    ) {
        let end = end.max(begin);
        self.work.push(Work {
            begin,
            end,
            bytes,
            macs,
            label: label.to_owned(),
            busy: busy.map(|b| b.min(end - begin)),
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

/// The model for a board peripheral, fed the run's `inputs`: the one place a device model is
/// registered.
pub fn build(model: &PeripheralModel, inputs: &Inputs) -> Box<dyn Device> {
    match model {
        PeripheralModel::CmsdkUart { .. } => Box::new(CmsdkUart::default()),
        PeripheralModel::Stm32Usart { .. } => Box::new(Stm32Usart::default()),
        PeripheralModel::CmsdkTimer => Box::new(CmsdkTimer::default()),
        PeripheralModel::Stm32Dma {
            channels,
            dmamux_channel,
            ..
        } => Box::new(Stm32Dma::new(*channels, *dmamux_channel)),
        PeripheralModel::Stm32Dmamux { channels } => Box::new(Stm32Dmamux::new(*channels)),
        PeripheralModel::Npu { macs, sram, flash } => {
            Box::new(Npu::new(*macs, NpuPorts::of(sram, flash)))
        }
        PeripheralModel::SampleStream { dma_request } => Box::new(SampleStream::new(
            *dma_request,
            inputs.stream.clone(),
            inputs.clock_hz,
        )),
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
        pub requests: RefCell<Requests>,
        bus: NoBus,
    }

    impl Bench {
        pub fn cx_at(&mut self, now: u64) -> Context<'_> {
            Context::new(
                Cycles(now),
                &mut self.lines,
                &mut self.out,
                &mut self.bus,
                &mut self.work,
                &self.requests,
            )
        }
        pub fn read(&mut self, d: &mut dyn Device, offset: u32, now: u64) -> u32 {
            d.read(offset, 4, &mut self.cx_at(now))
        }
        pub fn write(&mut self, d: &mut dyn Device, offset: u32, value: u32, now: u64) {
            d.write(offset, 4, value, &mut self.cx_at(now));
        }
        pub fn advance(&mut self, d: &mut dyn Device, now: u64) {
            d.advance(&mut self.cx_at(now));
        }
    }
}
