//! The NVIC and the exception model's bookkeeping: which exceptions are pending, enabled and
//! active, and their priorities. Entry and return (the stack frames) live in `machine.rs`,
//! where the registers are.
//!
//! Rules from the Armv7-M ARM (DDI 0403E) B1.5 "Armv7-M exception model" and the Armv6-M ARM
//! (DDI 0419E) B1.5: fixed priorities -3/-2/-1 for Reset/NMI/HardFault, configurable 8-bit
//! priorities of which the top `priority_bits` are implemented, preemption by group priority
//! (AIRCR.PRIGROUP), ties broken by exception number.

/// Exception numbers (Armv7-M ARM B1.5.2).
pub mod exc {
    /// Non-maskable interrupt.
    pub const NMI: u32 = 2;
    /// HardFault.
    pub const HARD_FAULT: u32 = 3;
    /// Supervisor call.
    pub const SVCALL: u32 = 11;
    /// PendSV.
    pub const PENDSV: u32 = 14;
    /// SysTick.
    pub const SYSTICK: u32 = 15;
    /// Exception number of IRQ 0.
    pub const IRQ0: u32 = 16;
}

/// Priority of thread mode with nothing masked: lower than any exception can have.
pub const THREAD_PRIORITY: i32 = 256;

#[derive(Debug, Clone)]
pub struct Nvic {
    /// Exception numbers 0 .. 16 + irq_lines.
    pending: Vec<bool>,
    active: Vec<bool>,
    enabled: Vec<bool>,
    /// Raw 8-bit priority byte of each exception as written (unimplemented bits zero).
    priority: Vec<u8>,
    priority_mask: u8,
    prigroup: u32,
    /// Whether any exception is pending; lets the per-block check stay one load.
    any_pending: bool,
}

impl Nvic {
    pub fn new(irq_lines: u32, priority_bits: u32) -> Nvic {
        let n = (exc::IRQ0 + irq_lines) as usize;
        let mut enabled = vec![false; n];
        // System exceptions are always enabled (the fault enables in SHCSR are not modelled:
        // faults stop the run).
        enabled[..exc::IRQ0 as usize].fill(true);
        Nvic {
            pending: vec![false; n],
            active: vec![false; n],
            enabled,
            priority: vec![0; n],
            priority_mask: (0xFFu32 << (8 - priority_bits)) as u8,
            prigroup: 0,
            any_pending: false,
        }
    }

    pub fn len(&self) -> u32 {
        self.pending.len() as u32
    }

    pub fn any_pending(&self) -> bool {
        self.any_pending
    }

    fn refresh(&mut self) {
        self.any_pending = self.pending.iter().any(|p| *p);
    }

    pub fn set_pending(&mut self, n: u32, on: bool) {
        if let Some(p) = self.pending.get_mut(n as usize) {
            *p = on;
            self.refresh();
        }
    }

    pub fn is_pending(&self, n: u32) -> bool {
        self.pending.get(n as usize).copied().unwrap_or(false)
    }

    pub fn set_enabled(&mut self, irq: u32, on: bool) {
        if let Some(e) = self.enabled.get_mut((exc::IRQ0 + irq) as usize) {
            *e = on;
        }
    }

    pub fn is_enabled(&self, n: u32) -> bool {
        self.enabled.get(n as usize).copied().unwrap_or(false)
    }

    pub fn is_active(&self, n: u32) -> bool {
        self.active.get(n as usize).copied().unwrap_or(false)
    }

    pub fn set_active(&mut self, n: u32, on: bool) {
        if let Some(a) = self.active.get_mut(n as usize) {
            *a = on;
        }
    }

    pub fn set_priority(&mut self, n: u32, value: u8) {
        if n >= 4
            && let Some(p) = self.priority.get_mut(n as usize)
        {
            *p = value & self.priority_mask;
        }
    }

    pub fn priority_byte(&self, n: u32) -> u8 {
        self.priority.get(n as usize).copied().unwrap_or(0)
    }

    pub fn set_prigroup(&mut self, prigroup: u32) {
        self.prigroup = prigroup & 7;
    }

    pub fn prigroup(&self) -> u32 {
        self.prigroup
    }

    /// The priority of exception `n` (negative for the fixed ones).
    pub fn priority(&self, n: u32) -> i32 {
        match n {
            1 => -3,
            exc::NMI => -2,
            exc::HARD_FAULT => -1,
            _ => i32::from(self.priority_byte(n)),
        }
    }

    /// Group priority: the bits above the PRIGROUP split (Armv7-M ARM B1.5.4).
    pub fn group_priority(&self, n: u32) -> i32 {
        let p = self.priority(n);
        if p < 0 {
            p
        } else {
            p & !((2i32 << self.prigroup) - 1)
        }
    }

    /// Group priority of a BASEPRI value.
    fn group_of(&self, raw: u8) -> i32 {
        i32::from(raw & self.priority_mask) & !((2i32 << self.prigroup) - 1)
    }

    /// The execution priority given the active exceptions and the mask registers
    /// (Armv7-M ARM B1.5.4, "Execution priority and priority boosting").
    pub fn execution_priority(&self, primask: bool, basepri: u8, faultmask: bool) -> i32 {
        let mut prio = THREAD_PRIORITY;
        for (n, active) in self.active.iter().enumerate() {
            if *active {
                prio = prio.min(self.group_priority(n as u32));
            }
        }
        if basepri & self.priority_mask != 0 {
            prio = prio.min(self.group_of(basepri));
        }
        if primask {
            prio = prio.min(0);
        }
        if faultmask {
            prio = prio.min(-1);
        }
        prio
    }

    /// The pending, enabled exception that would be taken next, ignoring masks: lowest group
    /// priority, then lowest priority value, then lowest number.
    pub fn highest_pending(&self) -> Option<u32> {
        (0..self.len())
            .filter(|&n| self.pending[n as usize] && self.enabled[n as usize])
            .min_by_key(|&n| (self.group_priority(n), self.priority(n), n))
    }

    /// The exception to take now at this execution priority, if any.
    pub fn to_take(&self, execution_priority: i32) -> Option<u32> {
        self.highest_pending()
            .filter(|&n| self.group_priority(n) < execution_priority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_most_urgent_enabled_exception() {
        let mut nvic = Nvic::new(32, 3);
        nvic.set_priority(exc::SYSTICK, 0xE0);
        nvic.set_priority(exc::IRQ0 + 3, 0x40);
        nvic.set_pending(exc::SYSTICK, true);
        nvic.set_pending(exc::IRQ0 + 3, true);
        // IRQ 3 is not enabled yet: SysTick goes first.
        assert_eq!(nvic.to_take(THREAD_PRIORITY), Some(exc::SYSTICK));
        nvic.set_enabled(3, true);
        assert_eq!(nvic.to_take(THREAD_PRIORITY), Some(exc::IRQ0 + 3));
        // PRIMASK masks everything configurable.
        assert_eq!(nvic.to_take(nvic.execution_priority(true, 0, false)), None);
        // BASEPRI 0x40 masks priority 0x40 and lower-urgency ones.
        assert_eq!(
            nvic.to_take(nvic.execution_priority(false, 0x40, false)),
            None
        );
        assert_eq!(
            nvic.to_take(nvic.execution_priority(false, 0x60, false)),
            Some(exc::IRQ0 + 3)
        );
    }

    #[test]
    fn an_active_handler_blocks_equal_and_lower_priorities() {
        let mut nvic = Nvic::new(8, 2);
        nvic.set_priority(exc::PENDSV, 0xC0);
        nvic.set_priority(exc::SVCALL, 0x40);
        nvic.set_active(exc::SVCALL, true);
        nvic.set_pending(exc::PENDSV, true);
        let ep = nvic.execution_priority(false, 0, false);
        assert_eq!(ep, 0x40);
        assert_eq!(nvic.to_take(ep), None, "PendSV waits for SVC to return");
        nvic.set_active(exc::SVCALL, false);
        assert_eq!(
            nvic.to_take(nvic.execution_priority(false, 0, false)),
            Some(exc::PENDSV)
        );
    }

    #[test]
    fn unimplemented_priority_bits_read_as_zero() {
        let mut nvic = Nvic::new(8, 2);
        nvic.set_priority(exc::IRQ0, 0xFF);
        assert_eq!(nvic.priority_byte(exc::IRQ0), 0xC0);
    }
}
