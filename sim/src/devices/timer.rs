//! Arm CMSDK APB timer (Cortex-M System Design Kit TRM, DDI 0479C, 4.5; QEMU's
//! `cmsdk-apb-timer`, at 0x40000000 and 0x40001000 on the MPS2 boards): a 32-bit down-counter
//! clocked by the core clock. At zero it raises its interrupt (when enabled) and reloads.
//!
//! Registers: CTRL 0x00 (bit 0 enable, bit 3 interrupt enable; the external-input bits are
//! kept but the model has no external input), VALUE 0x04 (writing sets it), RELOAD 0x08
//! (writing sets it and the value, as QEMU does), INTSTATUS/INTCLEAR 0x0C (write 1 to clear).
//! The count is computed from the time, not ticked: reading VALUE costs nothing per cycle.

use super::{Context, Device};
use mcusim_traces::Cycles;

const CTRL_EN: u32 = 1;
const CTRL_IRQEN: u32 = 1 << 3;

/// The timer's state: the value it had at `since`, counting down from then while enabled.
#[derive(Debug, Default)]
pub struct CmsdkTimer {
    ctrl: u32,
    reload: u32,
    intstatus: u32,
    value: u32,
    since: Cycles,
    /// The next time the count is zero, while enabled.
    next_zero: Option<Cycles>,
}

impl CmsdkTimer {
    fn enabled(&self) -> bool {
        self.ctrl & CTRL_EN != 0
    }

    /// The count at `now`.
    fn value_at(&self, now: Cycles) -> u32 {
        if !self.enabled() {
            return self.value;
        }
        let elapsed = now.0.saturating_sub(self.since.0);
        let v = u64::from(self.value);
        if elapsed <= v {
            return (v - elapsed) as u32;
        }
        if self.reload == 0 {
            return 0;
        }
        let into = (elapsed - v - 1) % (u64::from(self.reload) + 1);
        (u64::from(self.reload) - into) as u32
    }

    /// Restarts the count from `value` at `now`.
    fn set_value(&mut self, value: u32, now: Cycles) {
        self.value = value;
        self.since = now;
        self.next_zero = self.enabled().then(|| Cycles(now.0 + u64::from(value)));
    }
}

impl Device for CmsdkTimer {
    fn read(&mut self, offset: u32, _size: usize, cx: &mut Context<'_>) -> u32 {
        self.advance(cx);
        match offset {
            0x00 => self.ctrl,
            0x04 => self.value_at(cx.now()),
            0x08 => self.reload,
            0x0C => self.intstatus,
            _ => 0,
        }
    }

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        self.advance(cx);
        let now = cx.now();
        match offset {
            0x00 => {
                // The count stops (or resumes) where it is.
                let current = self.value_at(now);
                self.ctrl = value & 0xF;
                self.set_value(current, now);
            }
            0x04 => self.set_value(value, now),
            0x08 => {
                self.reload = value;
                self.set_value(value, now);
            }
            0x0C => self.intstatus &= !(value & 1),
            _ => {}
        }
        cx.set_irq(self.intstatus != 0);
    }

    fn advance(&mut self, cx: &mut Context<'_>) {
        let now = cx.now();
        let Some(zero) = self.next_zero.filter(|&z| z <= now) else {
            return;
        };
        if self.ctrl & CTRL_IRQEN != 0 {
            self.intstatus = 1;
            cx.set_irq(true);
        }
        // The next zero after `now`: every reload + 1 cycles from this one (never, with 0).
        self.next_zero = (self.reload != 0).then(|| {
            let period = u64::from(self.reload) + 1;
            Cycles(zero.0 + ((now.0 - zero.0) / period + 1) * period)
        });
    }

    fn next_event(&self) -> Option<Cycles> {
        // With the interrupt off or already raised, nothing would change.
        if self.ctrl & CTRL_IRQEN == 0 || self.intstatus != 0 {
            return None;
        }
        self.next_zero
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::testing::Bench;

    #[test]
    fn the_count_falls_with_the_clock_reloads_and_raises_its_interrupt() {
        let (mut t, mut b) = (CmsdkTimer::default(), Bench::default());
        b.write(&mut t, 0x08, 100, 0);
        b.write(&mut t, 0x00, CTRL_EN | CTRL_IRQEN, 0);
        assert_eq!(b.read(&mut t, 0x04, 40), 60);
        assert_eq!(t.next_event(), Some(Cycles(100)));
        b.advance(&mut t, 99);
        assert!(!b.lines[0].level);
        b.advance(&mut t, 100);
        assert!(b.lines[0].level, "zero at cycle 100");
        assert_eq!(b.read(&mut t, 0x0C, 100), 1);
        // Cleared, it counts on from its reload: zero again 101 cycles later.
        b.write(&mut t, 0x0C, 1, 120);
        assert!(!b.lines[0].level);
        assert_eq!(b.read(&mut t, 0x04, 150), 100 - 49);
        assert_eq!(t.next_event(), Some(Cycles(201)));
        // Stopped, the count holds.
        b.write(&mut t, 0x00, 0, 160);
        assert_eq!(b.read(&mut t, 0x04, 500), 100 - 59);
        assert_eq!(t.next_event(), None);
    }
}
