//! The run state's own bookkeeping: probe hits, refunds of instructions a stop kept from
//! running, peripheral events, faults, output.

use super::*;

impl State {
    /// Records a probe hit, with every block's execution count so far when asked
    /// (`Machine::snapshot_blocks`).
    pub(super) fn record_hit(&mut self, hit: ProbeHit) {
        if self.snapshot_blocks {
            let counts = self
                .blocks
                .iter()
                .map(|b| (b.executions, b.cycles))
                .collect();
            self.block_snapshots.push(counts);
        }
        self.probe_hits.push(hit);
    }

    /// Data moved so far.
    pub(super) fn traffic(&self) -> Traffic {
        Traffic {
            flash_read_bytes: self.flash.as_ref().map_or(0, |f| f.data_bytes),
            ..self.traffic
        }
    }

    pub(super) fn refund_from(&mut self, addr: u32) {
        let Some(b) = self.current else { return };
        let block = &self.blocks[b as usize];
        let done = block.count_below(addr);
        let n = block.len();
        if done < n {
            self.instructions -= (n - done) as u64;
            let cost = block.prefix[n] - block.prefix[done];
            let stall = block.stall_prefix[n] - block.stall_prefix[done];
            self.clock
                .refund(Part::Execute, Cycles(u64::from(cost - stall)));
            self.clock.refund(Part::Stall, Cycles(u64::from(stall)));
            self.blocks[b as usize].cycles = self.blocks[b as usize]
                .cycles
                .saturating_sub(u64::from(cost));
            self.accounted = self.accounted.saturating_sub(u64::from(cost));
            // The block did not reach its branch.
            self.branch_from = None;
        }
        self.current = None;
    }

    /// The hint instruction that ends the current block, if the block ends exactly at `pc`.
    pub(super) fn hint_ending_block_at(&self, pc: u32) -> Option<thumb::Hint> {
        let block = &self.blocks[self.current? as usize];
        (block.start.wrapping_add(block.code.len() as u32) == pc)
            .then(|| thumb::hint_before(&block.code))
            .flatten()
    }

    /// A narrow hook at `pc` ran: it is not idle (see `Request::Sweep`).
    pub(super) fn narrow_hit(&mut self, pc: u32) {
        let now = self.instructions;
        if let Some(n) = self.narrow.get_mut(&pc) {
            n.last_hit = now;
        }
    }

    pub(super) fn recompute_next_event(&mut self) {
        let mut next = Cycles(u64::MAX);
        for p in &self.peripherals {
            if let Some(t) = p.model.next_event() {
                next = next.min(t);
            }
        }
        self.next_event = next;
    }

    /// Bring the devices (SysTick first) up to the clock; pend what they raise.
    pub(super) fn service_events(&mut self) {
        let now = self.clock.now();
        let mut out = Vec::new();
        for i in 0..self.peripherals.len() {
            let p = &mut self.peripherals[i];
            p.model
                .advance(&mut Context::new(now, &mut p.line, &mut out));
            self.device_lines(i);
        }
        self.output(Stream::Stdout, &out);
        self.recompute_next_event();
    }

    /// A register access to the device whose block holds `addr`, at `now`: the device is
    /// brought up to `now` first and the access's wait states (the mmio region's, from the
    /// board file) are charged as memory time; what it prints goes to the console and what
    /// it does to its interrupt line to the NVIC. `None` outside every device's registers.
    pub(super) fn device_access(
        &mut self,
        addr: u32,
        now: Cycles,
        access: impl FnOnce(&mut dyn Device, u32, &mut Context<'_>) -> u32,
    ) -> Option<u32> {
        let i = self
            .peripherals
            .iter()
            .position(|p| (p.base..p.end).contains(&addr))?;
        let mut out = Vec::new();
        let p = &mut self.peripherals[i];
        let mut cx = Context::new(now, &mut p.line, &mut out);
        p.model.advance(&mut cx);
        let value = access(p.model.as_mut(), addr - p.base, &mut cx);
        if self.timing_on {
            self.clock.charge(Part::Memory, Cycles(p.wait));
        }
        self.device_lines(i);
        self.output(Stream::Stdout, &out);
        self.recompute_next_event();
        Some(value)
    }

    /// Device `i`'s interrupt line to the NVIC: pending while high, and once per pulse.
    fn device_lines(&mut self, i: usize) {
        let p = &mut self.peripherals[i];
        let raised = p.line.level || std::mem::take(&mut p.line.pulsed);
        if let (Some(n), true) = (p.exception, raised) {
            self.scs.nvic.set_pending(n, true);
        }
    }

    /// Pend the IRQ of every device whose interrupt line is high (level-sensitive lines stay
    /// pending while asserted: after a handler returns, for one).
    pub(super) fn sample_irq_levels(&mut self) {
        for p in &self.peripherals {
            if let (Some(n), true) = (p.exception, p.line.level) {
                self.scs.nvic.set_pending(n, true);
            }
        }
    }

    pub(super) fn output(&mut self, stream: Stream, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.console.write(stream, bytes);
        }
    }

    pub(super) fn fault(
        &mut self,
        kind: FaultKind,
        pc: u32,
        address: Option<u32>,
        message: String,
    ) {
        if self.stop.is_none() {
            self.stop = Some(StopReason::Fault {
                kind,
                pc: Addr(pc),
                address: address.map(Addr),
                message,
                symbol: None,
            });
        }
    }
}
