//! The one clock of a run: the time, and where every cycle of it went.
//!
//! Time moves only through [`Clock::charge`] and [`Clock::refund`], each of which adds to (or
//! takes from) one part of the breakdown as it moves the time, so the parts sum to the total by
//! construction: no caller updates the two by hand.

use mcusim_traces::{Breakdown, Cycles};

/// What cycles were spent on: one part of [`Breakdown`] each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Issuing and executing instructions.
    Execute,
    /// Pipeline refills after taken branches.
    Branch,
    /// Load/store pipeline stalls.
    Stall,
    /// Wait states of slow memory and peripherals.
    Memory,
    /// Exception entry.
    Exception,
    /// Asleep in WFI/WFE.
    Sleep,
    /// Waiting for a bus slave another master holds.
    Contention,
}

/// The time since reset and its breakdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Clock {
    now: Cycles,
    breakdown: Breakdown,
}

impl Clock {
    /// Cycles since reset.
    #[inline]
    pub(crate) fn now(&self) -> Cycles {
        self.now
    }

    /// Where they went; the parts sum to [`Clock::now`].
    #[inline]
    pub(crate) fn breakdown(&self) -> Breakdown {
        self.breakdown
    }

    /// `cycles` pass, spent on `part`.
    #[inline]
    pub(crate) fn charge(&mut self, part: Part, cycles: Cycles) {
        self.now += cycles;
        *self.part(part) += cycles;
    }

    /// `cycles` charged to `part` did not pass after all (instructions a stop kept from
    /// running).
    pub(crate) fn refund(&mut self, part: Part, cycles: Cycles) {
        self.now = self.now - cycles;
        let p = self.part(part);
        *p = *p - cycles;
    }

    fn part(&mut self, part: Part) -> &mut Cycles {
        let b = &mut self.breakdown;
        match part {
            Part::Execute => &mut b.execute,
            Part::Branch => &mut b.branch,
            Part::Stall => &mut b.stall,
            Part::Memory => &mut b.memory,
            Part::Exception => &mut b.exception,
            Part::Sleep => &mut b.sleep,
            Part::Contention => &mut b.contention,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_always_sum_to_the_time() {
        let mut c = Clock::default();
        c.charge(Part::Execute, Cycles(10));
        c.charge(Part::Sleep, Cycles(5));
        c.charge(Part::Memory, Cycles(3));
        c.refund(Part::Execute, Cycles(4));
        assert_eq!(c.now(), Cycles(14));
        assert_eq!(c.breakdown().total(), c.now());
        assert_eq!(c.breakdown().execute, Cycles(6));
    }
}
