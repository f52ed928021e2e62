//! SysTick (Armv7-M ARM B3.3), the core's own timer, as a device on the PPB at 0xE000_E010:
//! CSR 0x0, RVR 0x4, CVR 0x8, CALIB 0xC. Its line is the SysTick exception, pulsed each time the
//! count reaches zero with TICKINT set.

use super::{Context, Device};
use mcusim_traces::Cycles;

/// Where the registers sit in the PPB.
pub const SYSTICK_BASE: u32 = 0xE000_E010;

/// SysTick (Armv7-M ARM B3.3): a 24-bit down-counter clocked by the core clock
/// (CLKSOURCE = 1) or an implementation-defined reference clock (CLKSOURCE = 0).
#[derive(Debug, Clone)]
pub struct SysTick {
    enabled: bool,
    tickint: bool,
    clksource: bool,
    countflag: bool,
    reload: u32,
    /// Value while disabled (and the value to resume from).
    held: u32,
    /// While enabled: the time the counter next reaches zero.
    next_zero: Cycles,
    /// Core cycles per tick of the reference clock used when CLKSOURCE = 0. Approximation:
    /// 8 on every board, as on STM32 parts (HCLK/8, RM0432 sec. 6.2); firmware that needs
    /// exact ticks uses the core clock.
    ref_divider: u64,
}

impl SysTick {
    pub fn new() -> SysTick {
        SysTick {
            enabled: false,
            tickint: false,
            clksource: false,
            countflag: false,
            reload: 0,
            held: 0,
            next_zero: Cycles::ZERO,
            ref_divider: 8,
        }
    }

    fn divider(&self) -> u64 {
        if self.clksource { 1 } else { self.ref_divider }
    }

    fn period(&self) -> u64 {
        (u64::from(self.reload) + 1) * self.divider()
    }

    /// The counter value at `now`.
    fn value(&self, now: Cycles) -> u32 {
        if !self.enabled || self.reload == 0 && self.held == 0 {
            return self.held;
        }
        let left = self.next_zero.saturating_sub(now).0;
        left.div_ceil(self.divider()) as u32
    }

    /// Bring the counter up to `now`; true when it reached zero with TICKINT set, which
    /// pends the SysTick exception.
    fn tick(&mut self, now: Cycles) -> bool {
        if !self.enabled || self.reload == 0 || now < self.next_zero {
            return false;
        }
        let wraps = (now.0 - self.next_zero.0) / self.period() + 1;
        self.next_zero = Cycles(self.next_zero.0 + wraps * self.period());
        self.countflag = true;
        self.tickint
    }

    /// When the counter next reaches zero, if it is running.
    fn next_zero(&self) -> Option<Cycles> {
        (self.enabled && self.reload != 0).then_some(self.next_zero)
    }

    fn start(&mut self, now: Cycles) {
        // From the held value; a zero counter reloads on the first tick (B3.3.1).
        let ticks = if self.held == 0 {
            u64::from(self.reload) + 1
        } else {
            u64::from(self.held)
        };
        self.next_zero = Cycles(now.0 + ticks * self.divider());
    }

    fn write_csr(&mut self, value: u32, now: Cycles) {
        let was = self.enabled;
        if was {
            self.held = self.value(now);
        }
        self.enabled = value & 1 != 0;
        self.tickint = value & 2 != 0;
        self.clksource = value & 4 != 0;
        if self.enabled {
            self.start(now);
        }
    }

    fn read_csr(&mut self) -> u32 {
        let v = u32::from(self.enabled)
            | u32::from(self.tickint) << 1
            | u32::from(self.clksource) << 2
            | u32::from(self.countflag) << 16;
        self.countflag = false;
        v
    }

    fn write_cvr(&mut self, now: Cycles) {
        // Any write clears the counter and COUNTFLAG (B3.3.4).
        self.held = 0;
        self.countflag = false;
        if self.enabled {
            self.start(now);
        }
    }
}

impl Device for SysTick {
    fn read(&mut self, offset: u32, _size: usize, cx: &mut Context<'_>) -> u32 {
        match offset {
            0x0 => self.read_csr(),
            0x4 => self.reload,
            0x8 => self.value(cx.now()),
            // NOREF clear, SKEW set, TENMS unknown (B3.3.5).
            0xC => 0x4000_0000,
            _ => 0,
        }
    }

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        let now = cx.now();
        match offset {
            0x0 => self.write_csr(value, now),
            0x4 => self.reload = value & 0x00FF_FFFF,
            0x8 => self.write_cvr(now),
            _ => {}
        }
    }

    fn advance(&mut self, cx: &mut Context<'_>) {
        if self.tick(cx.now()) {
            cx.pulse_irq();
        }
    }

    fn next_event(&self) -> Option<Cycles> {
        self.next_zero()
    }
}

impl Default for SysTick {
    fn default() -> SysTick {
        SysTick::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::testing::Bench;

    #[test]
    fn systick_counts_down_with_the_core_clock_and_pends_on_zero() {
        let (mut s, mut b) = (SysTick::new(), Bench::default());
        b.write(&mut s, 0x4, 99, 0);
        b.write(&mut s, 0x8, 0, 0);
        b.write(&mut s, 0x0, 0b111, 1000);
        // Zero counter: reload on the first tick, then 100 ticks to the next zero.
        assert_eq!(s.next_event(), Some(Cycles(1100)));
        assert_eq!(b.read(&mut s, 0x8, 1050), 50);
        b.advance(&mut s, 1099);
        assert!(!b.lines[0].pulsed);
        b.advance(&mut s, 1100);
        assert!(std::mem::take(&mut b.lines[0].pulsed));
        assert_eq!(s.next_event(), Some(Cycles(1200)));
        // COUNTFLAG reads once.
        assert_eq!(b.read(&mut s, 0x0, 1101) >> 16, 1);
        assert_eq!(b.read(&mut s, 0x0, 1102) >> 16, 0);
        // A late catch-up skips whole periods, pulsing once.
        b.advance(&mut s, 1555);
        assert!(b.lines[0].pulsed);
        assert_eq!(s.next_event(), Some(Cycles(1600)));
    }
}
