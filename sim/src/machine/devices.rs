//! The machine's devices: SysTick and the board's, placed in the address space; how an access
//! or an event reaches one (with a context holding its interrupt line, the console, the bus
//! and its activity log), and how what it did gets back to the NVIC, the console and the run's
//! activity.
//!
//! While a device runs it is taken out of the state (a [`Detached`] stands in), so its bus
//! port can hold the whole machine: memory through unicorn, the other devices' registers
//! through their own models. A device reached that way gets no bus of its own ([`NoBus`]),
//! and one that reaches itself sees a bus fault.

use super::*;
use crate::bus::{Bus, BusFault, BusPort, NoBus};
use crate::devices::Work;
use mcusim_traces::Activity;

/// A device placed in the address space.
pub(super) struct Mapped {
    /// What it is, to build it again at a system reset.
    pub(super) spec: DeviceSpec,
    /// Its name: the board file's, `systick` for the core's timer. Its activity's track.
    name: String,
    /// Wait states of an access, from the board's mmio region holding it.
    wait: u64,
    base: u32,
    end: u32,
    /// The exception each of its interrupt outputs pends (`IRQ0 + n` for the board's
    /// devices; a DMA has one per channel).
    exceptions: [Option<u32>; 8],
    /// Its interrupt outputs as the device drives them.
    pub(super) lines: [IrqLine; 8],
    pub(super) model: Box<dyn Device>,
}

/// A device of the machine: the core's SysTick, or one of the board file's.
#[derive(Debug, Clone, Copy)]
pub(super) enum DeviceSpec {
    SysTick,
    Board(mcusim_boards::PeripheralModel),
}

impl DeviceSpec {
    pub(super) fn build(&self, inputs: &Inputs) -> Box<dyn Device> {
        match self {
            DeviceSpec::SysTick => Box::new(crate::devices::SysTick::new()),
            DeviceSpec::Board(model) => crate::devices::build(model, inputs),
        }
    }
}

/// The devices of `board`, SysTick first: it is served before the board's, as the core's
/// own timer.
pub(super) fn place(board: &Board, bus: &Bus, inputs: &Inputs) -> Vec<Mapped> {
    let systick = Mapped {
        spec: DeviceSpec::SysTick,
        name: "systick".into(),
        wait: 0,
        base: crate::devices::SYSTICK_BASE,
        end: crate::devices::SYSTICK_BASE + 0x10,
        exceptions: [Some(exc::SYSTICK), None, None, None, None, None, None, None],
        lines: Default::default(),
        model: DeviceSpec::SysTick.build(inputs),
    };
    std::iter::once(systick)
        .chain(board.peripherals().iter().map(|p| {
            let spec = DeviceSpec::Board(p.model);
            Mapped {
                spec,
                name: p.name.clone(),
                wait: bus
                    .slave_at(p.base as u32)
                    .map_or(0, |(_, s)| u64::from(s.wait_states)),
                base: p.base as u32,
                end: p.end() as u32,
                exceptions: {
                    let mut e = [None; 8];
                    for (slot, irq) in e.iter_mut().zip(p.lines()) {
                        *slot = Some(exc::IRQ0 + irq);
                    }
                    e
                },
                lines: Default::default(),
                model: spec.build(inputs),
            }
        }))
        .collect()
}

/// What stands in for a device while it runs: registers read as zero, nothing happens.
struct Detached;

impl Device for Detached {
    fn read(&mut self, _: u32, _: usize, _: &mut Context<'_>) -> u32 {
        0
    }
    fn write(&mut self, _: u32, _: usize, _: u32, _: &mut Context<'_>) {}
}

/// The bus as a running device sees it: memory through unicorn, peripheral registers through
/// the other devices, timed by the slave's wait states.
struct UcBus<'u, 'a> {
    uc: &'u mut Uc<'a>,
    now: Cycles,
    /// The device using it: its own registers are not reachable this way.
    caller: usize,
}

impl UcBus<'_, '_> {
    fn access(
        &mut self,
        addr: u32,
        len: usize,
        write: bool,
        data: &mut [u8],
    ) -> Result<Cycles, BusFault> {
        let fault = BusFault { addr, len, write };
        let st = self.uc.get_data();
        let (id, slave) = st.bus.slave_for(addr, len).ok_or(fault)?;
        let cycles = Bus::transfer_cycles(slave, len);
        let beats = len.div_ceil(slave.beat_bytes as usize) as u32;
        match slave.kind {
            RegionKind::Mmio => {
                // One register of another device, by its own model, as the core would see it.
                let i = st
                    .peripherals
                    .iter()
                    .position(|p| {
                        p.base <= addr && u64::from(addr) + len as u64 <= u64::from(p.end)
                    })
                    .filter(|&i| len <= 4 && i != self.caller)
                    .ok_or(fault)?;
                let offset = addr - st.peripherals[i].base;
                let now = self.now;
                let value = if write {
                    let mut w = [0u8; 4];
                    w[..len].copy_from_slice(&data[..len]);
                    let v = u32::from_le_bytes(w);
                    with_device(self.uc, i, now, false, |d, cx| {
                        d.advance(cx);
                        d.write(offset, len, v, cx);
                        0
                    })
                } else {
                    with_device(self.uc, i, now, false, |d, cx| {
                        d.advance(cx);
                        d.read(offset, len, cx)
                    })
                };
                if !write {
                    data[..len].copy_from_slice(&value.to_le_bytes()[..len]);
                }
                self.uc.get_data_mut().recompute_next_event();
                Ok(cycles)
            }
            // Flash is programmed through its controller, never by a bus write.
            RegionKind::Flash if write => Err(fault),
            _ => {
                let r = if write {
                    self.uc.mem_write(u64::from(addr), data)
                } else {
                    self.uc.mem_read(u64::from(addr), data)
                };
                r.map_err(|_| fault)?;
                // For the core's contention with it (`contention.rs`).
                let now = self.now;
                self.uc.get_data_mut().bus_log.push((now, id, beats));
                Ok(cycles)
            }
        }
    }
}

impl BusPort for UcBus<'_, '_> {
    fn set_time(&mut self, at: Cycles) {
        self.now = at;
    }
    fn is_flash(&mut self, addr: u32) -> bool {
        let st = self.uc.get_data();
        st.bus
            .slave_at(addr)
            .is_some_and(|(_, s)| s.kind == RegionKind::Flash)
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<Cycles, BusFault> {
        self.access(addr, buf.len(), false, buf)
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<Cycles, BusFault> {
        let mut copy = data.to_vec();
        self.access(addr, data.len(), true, &mut copy)
    }
}

/// Runs `f` on device `i` at `now` with its context, then pends what it raised, prints what
/// it printed and logs what it did. `top`: the device may use the bus (it was reached by the
/// core or by its own event, not through another device's bus access).
fn with_device<R>(
    uc: &mut Uc<'_>,
    i: usize,
    now: Cycles,
    top: bool,
    f: impl FnOnce(&mut dyn Device, &mut Context<'_>) -> R,
) -> R {
    let st = uc.get_data_mut();
    let p = &mut st.peripherals[i];
    let mut model = std::mem::replace(&mut p.model, Box::new(Detached));
    let mut lines = p.lines;
    let requests = Rc::clone(&st.requests);
    let (mut out, mut work) = (Vec::new(), Vec::new());
    let r = if top {
        let mut bus = UcBus { uc, now, caller: i };
        f(
            model.as_mut(),
            &mut Context::new(now, &mut lines, &mut out, &mut bus, &mut work, &requests),
        )
    } else {
        f(
            model.as_mut(),
            &mut Context::new(now, &mut lines, &mut out, &mut NoBus, &mut work, &requests),
        )
    };
    let st = uc.get_data_mut();
    let p = &mut st.peripherals[i];
    p.model = model;
    p.lines = lines;
    let track = &p.name;
    st.activity.extend(work.into_iter().map(|w: Work| Activity {
        track: track.clone(),
        begin: w.begin,
        end: w.end,
        bytes: w.bytes,
        macs: w.macs,
        label: w.label,
        busy: w.busy,
    }));
    st.device_lines(i);
    st.output(Stream::Stdout, &out);
    r
}

/// A register access by the core to the device whose block holds `addr`, at `now`: the
/// device is brought up to `now` first and the access's wait states (the mmio region's, from
/// the board file) are charged as memory time. `None` outside every device's registers.
pub(super) fn device_access(
    uc: &mut Uc<'_>,
    addr: u32,
    now: Cycles,
    access: impl FnOnce(&mut dyn Device, u32, &mut Context<'_>) -> u32,
) -> Option<u32> {
    let st = uc.get_data_mut();
    let i = st
        .peripherals
        .iter()
        .position(|p| (p.base..p.end).contains(&addr))?;
    let offset = addr - st.peripherals[i].base;
    if st.timing_on {
        let wait = Cycles(st.peripherals[i].wait);
        st.clock.charge(Part::Memory, wait);
    }
    let changes = uc.get_data().requests.borrow().changes();
    let value = with_device(uc, i, now, true, |d, cx| {
        d.advance(cx);
        access(d, offset, cx)
    });
    wake_on_requests(uc, now, changes);
    uc.get_data_mut().recompute_next_event();
    Some(value)
}

/// After a device raised a DMA request line (or a DMAMUX rerouted one) since `changes`, the
/// other devices look at the requests at `now` (a DMA starts the requested transfer), and
/// again while that raises more (bounded: a device that keeps raising lines stops being
/// chased after a few rounds and is served at its next event).
fn wake_on_requests(uc: &mut Uc<'_>, now: Cycles, mut changes: u64) {
    for _ in 0..8 {
        let after = uc.get_data().requests.borrow().changes();
        if after == changes {
            return;
        }
        changes = after;
        for i in 0..uc.get_data().peripherals.len() {
            with_device(uc, i, now, true, |d, cx| d.advance(cx));
        }
    }
}

/// Brings the devices that are due (SysTick first) up to the clock; pends what they raise.
/// A device due again at once (a sample stream that fell behind by more than one sample) is
/// served again, after the others, up to a bound.
pub(super) fn service_events(uc: &mut Uc<'_>) {
    let now = uc.get_data().clock.now();
    for _ in 0..64 {
        let mut served = false;
        for i in 0..uc.get_data().peripherals.len() {
            // Only those due: the others are brought up to date at their next access anyway.
            let due = uc.get_data().peripherals[i]
                .model
                .next_event()
                .is_some_and(|t| t <= now);
            if due {
                let changes = uc.get_data().requests.borrow().changes();
                with_device(uc, i, now, true, |d, cx| d.advance(cx));
                wake_on_requests(uc, now, changes);
                served = true;
            }
        }
        if !served {
            break;
        }
    }
    uc.get_data_mut().recompute_next_event();
}

impl State {
    pub(super) fn recompute_next_event(&mut self) {
        let mut next = Cycles(u64::MAX);
        for p in &self.peripherals {
            if let Some(t) = p.model.next_event() {
                next = next.min(t);
            }
        }
        self.next_event = next;
    }

    /// Device `i`'s interrupt line to the NVIC: pending while high, and once per pulse.
    fn device_lines(&mut self, i: usize) {
        let p = &mut self.peripherals[i];
        for (line, exception) in p.lines.iter_mut().zip(p.exceptions) {
            let raised = line.level || std::mem::take(&mut line.pulsed);
            if let (Some(n), true) = (exception, raised) {
                self.scs.nvic.set_pending(n, true);
            }
        }
    }

    /// Pend the IRQ of every device whose interrupt line is high (level-sensitive lines stay
    /// pending while asserted: after a handler returns, for one).
    pub(super) fn sample_irq_levels(&mut self) {
        for p in &self.peripherals {
            for (line, exception) in p.lines.iter().zip(p.exceptions) {
                if let (Some(n), true) = (exception, line.level) {
                    self.scs.nvic.set_pending(n, true);
                }
            }
        }
    }
}

impl Machine {
    /// Feeds `samples` to the board's sample streams (`--stream`), which start again from
    /// their reset state. False when the board has none.
    pub fn set_stream(&mut self, samples: std::sync::Arc<crate::devices::Samples>) -> bool {
        let st = self.uc.get_data_mut();
        st.inputs.stream = Some(samples);
        let mut found = false;
        for p in &mut st.peripherals {
            if let DeviceSpec::Board(mcusim_boards::PeripheralModel::SampleStream { .. }) = p.spec {
                p.model = p.spec.build(&st.inputs);
                p.lines = Default::default();
                found = true;
            }
        }
        st.recompute_next_event();
        found
    }

    /// What the devices logged (transfers, accelerator layers), in the order they logged it.
    pub fn activity(&self) -> &[Activity] {
        &self.uc.get_data().activity
    }

    /// Puts `model` in place of the board device named `name` (tests of the device context).
    #[cfg(test)]
    pub(crate) fn replace_device(&mut self, name: &str, model: Box<dyn Device>) {
        let st = self.uc.get_data_mut();
        if let Some(p) = st.peripherals.iter_mut().find(|p| p.name == name) {
            p.model = model;
        }
        st.recompute_next_event();
    }
}
