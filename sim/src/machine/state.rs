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
            let (extra_cost, extra_stall) =
                block.pairs.as_ref().map_or((0, 0), |r| r.refund_from(done));
            let cost = (i64::from(block.prefix[n] - block.prefix[done]) + extra_cost).max(0) as u32;
            let stall = (i64::from(block.stall_prefix[n] - block.stall_prefix[done]) + extra_stall)
                .max(0) as u32;
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
                state: None,
            });
        }
    }
}
