//! The System Control Space and the rest of the Private Peripheral Bus, modelled by mcusim
//! (unicorn models none of it): SCB, NVIC registers, DWT cycle counter and ITM stimulus ports
//! (SysTick, also on the PPB, is a device: `devices::SysTick`). Register addresses and reset values are from the Armv7-M ARM (DDI 0403E)
//! B3.2 (SCS), B3.3 (SysTick), B3.4 (NVIC), C1.7 (ITM) and C1.8 (DWT).

use crate::nvic::{Nvic, exc};
use mcusim_boards::Core;
use mcusim_traces::Cycles;

/// What a PPB write asks the machine to do beyond updating registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PpbAction {
    /// Bytes written to an ITM stimulus port, to forward to the console.
    Itm { port: u8, bytes: [u8; 4], len: u8 },
    /// AIRCR.SYSRESETREQ with the right key: a system reset.
    SystemReset,
}

#[derive(Debug, Clone)]
pub struct Scs {
    core: Core,
    irq_lines: u32,
    priority_bits: u32,
    pub nvic: Nvic,
    pub vtor: u32,
    boot_vtor: u32,
    scr: u32,
    ccr: u32,
    shcsr: u32,
    cpacr: u32,
    demcr: u32,
    dwt_ctrl: u32,
    /// CYCCNT = cyccnt_value + (now - cyccnt_since) while counting.
    cyccnt_value: u32,
    cyccnt_since: Cycles,
    itm_tcr: u32,
    itm_ter: u32,
    /// Registers mcusim keeps but gives no behaviour (MPU, FPU context control, ...): they
    /// read back what was written.
    plain: std::collections::BTreeMap<u32, u32>,
}

/// SCS register addresses.
mod reg {
    pub const ITM_STIM: u32 = 0xE000_0000;
    pub const ITM_TER: u32 = 0xE000_0E00;
    pub const ITM_TCR: u32 = 0xE000_0E80;
    pub const DWT_CTRL: u32 = 0xE000_1000;
    pub const DWT_CYCCNT: u32 = 0xE000_1004;
    pub const ICTR: u32 = 0xE000_E004;
    pub const NVIC_ISER: u32 = 0xE000_E100;
    pub const NVIC_ICER: u32 = 0xE000_E180;
    pub const NVIC_ISPR: u32 = 0xE000_E200;
    pub const NVIC_ICPR: u32 = 0xE000_E280;
    pub const NVIC_IABR: u32 = 0xE000_E300;
    pub const NVIC_IPR: u32 = 0xE000_E400;
    pub const CPUID: u32 = 0xE000_ED00;
    pub const ICSR: u32 = 0xE000_ED04;
    pub const VTOR: u32 = 0xE000_ED08;
    pub const AIRCR: u32 = 0xE000_ED0C;
    pub const SCR: u32 = 0xE000_ED10;
    pub const CCR: u32 = 0xE000_ED14;
    pub const SHPR1: u32 = 0xE000_ED18;
    pub const SHCSR: u32 = 0xE000_ED24;
    pub const CFSR: u32 = 0xE000_ED28;
    pub const HFSR: u32 = 0xE000_ED2C;
    pub const MMFAR: u32 = 0xE000_ED34;
    pub const BFAR: u32 = 0xE000_ED38;
    pub const CPACR: u32 = 0xE000_ED88;
    pub const DEMCR: u32 = 0xE000_EDFC;
    pub const STIR: u32 = 0xE000_EF00;
}

impl Scs {
    pub fn new(core: Core, irq_lines: u32, priority_bits: u32, vtor: u32) -> Scs {
        // CCR reset: STKALIGN set (8-byte stack alignment on exception entry) on M3 r2p0 and
        // later, M4, M7 and M33; UNALIGN_TRP fixed to 1 on Armv6-M (B3.2.8).
        let ccr = if core.is_armv6m() { 0x208 } else { 0x200 };
        Scs {
            core,
            irq_lines,
            priority_bits,
            nvic: Nvic::new(irq_lines, priority_bits),
            vtor,
            boot_vtor: vtor,
            scr: 0,
            ccr,
            shcsr: 0,
            cpacr: 0,
            demcr: 0,
            // NUMCOMP = 4 on v7-M; NOCYCCNT (bit 25) on Armv6-M, which has no cycle counter.
            dwt_ctrl: if core.is_armv6m() {
                0x0200_0000 | 2 << 28
            } else {
                4 << 28
            },
            cyccnt_value: 0,
            cyccnt_since: Cycles::ZERO,
            itm_tcr: 1,
            itm_ter: 0xFFFF_FFFF,
            plain: Default::default(),
        }
    }

    /// Reset to the power-on state (system reset); the clock keeps running.
    pub fn reset(&mut self) {
        *self = Scs::new(
            self.core,
            self.irq_lines,
            self.priority_bits,
            self.boot_vtor,
        );
    }

    fn cyccnt_counting(&self) -> bool {
        !self.core.is_armv6m() && self.dwt_ctrl & 1 != 0 && self.demcr & (1 << 24) != 0
    }

    fn cyccnt(&self, now: Cycles) -> u32 {
        if self.cyccnt_counting() {
            self.cyccnt_value
                .wrapping_add((now.0 - self.cyccnt_since.0) as u32)
        } else {
            self.cyccnt_value
        }
    }

    /// Freeze CYCCNT's value at `now` before a change to what makes it count.
    fn rebase_cyccnt(&mut self, now: Cycles) {
        self.cyccnt_value = self.cyccnt(now);
        self.cyccnt_since = now;
    }

    /// Whether SCR.SLEEPONEXIT is set.
    pub fn sleep_on_exit(&self) -> bool {
        self.scr & 2 != 0
    }

    /// A read of `size` bytes at `addr` in the PPB. `ipsr` is the current exception number.
    pub fn read(&mut self, addr: u32, size: usize, now: Cycles, ipsr: u32) -> u32 {
        let aligned = addr & !3;
        let word = self.read_word(aligned, now, ipsr);
        let shift = (addr & 3) * 8;
        let mask = if size >= 4 {
            u32::MAX
        } else {
            (1u32 << (size * 8)) - 1
        };
        (word >> shift) & mask
    }

    fn read_word(&mut self, addr: u32, now: Cycles, ipsr: u32) -> u32 {
        let nvic_bits = |base: u32, f: &dyn Fn(u32) -> bool| {
            let first = (addr - base) * 8;
            (0..32).fold(0u32, |acc, i| {
                acc | u32::from(f(exc::IRQ0 + first + i)) << i
            })
        };
        match addr {
            // Stimulus ports read 1: the FIFO always has room.
            reg::ITM_STIM..0xE000_0080 => 1,
            reg::ITM_TER => self.itm_ter,
            reg::ITM_TCR => self.itm_tcr,
            reg::DWT_CTRL => self.dwt_ctrl,
            reg::DWT_CYCCNT => self.cyccnt(now),
            reg::ICTR => (self.nvic.len() - exc::IRQ0).div_ceil(32).saturating_sub(1),
            0xE000_E100..0xE000_E140 => nvic_bits(reg::NVIC_ISER, &|n| self.nvic.is_enabled(n)),
            0xE000_E180..0xE000_E1C0 => nvic_bits(reg::NVIC_ICER, &|n| self.nvic.is_enabled(n)),
            0xE000_E200..0xE000_E240 => nvic_bits(reg::NVIC_ISPR, &|n| self.nvic.is_pending(n)),
            0xE000_E280..0xE000_E2C0 => nvic_bits(reg::NVIC_ICPR, &|n| self.nvic.is_pending(n)),
            0xE000_E300..0xE000_E340 => nvic_bits(reg::NVIC_IABR, &|n| self.nvic.is_active(n)),
            0xE000_E400..0xE000_E5F0 => {
                let first = exc::IRQ0 + (addr - reg::NVIC_IPR);
                (0..4).fold(0, |acc, i| {
                    acc | u32::from(self.nvic.priority_byte(first + i)) << (8 * i)
                })
            }
            reg::CPUID => self.core.cpuid(),
            reg::ICSR => {
                let pending = self.nvic.highest_pending().unwrap_or(0);
                let isr_pending = (exc::IRQ0..self.nvic.len()).any(|n| self.nvic.is_pending(n));
                (ipsr & 0x1FF)
                    | (pending & 0x1FF) << 12
                    | u32::from(isr_pending) << 22
                    | u32::from(self.nvic.is_pending(exc::SYSTICK)) << 26
                    | u32::from(self.nvic.is_pending(exc::PENDSV)) << 28
                    | u32::from(self.nvic.is_pending(exc::NMI)) << 31
            }
            reg::VTOR => self.vtor,
            reg::AIRCR => 0xFA05_0000 | self.nvic.prigroup() << 8,
            reg::SCR => self.scr,
            reg::CCR => self.ccr,
            0xE000_ED18..0xE000_ED24 => {
                let first = 4 + (addr - reg::SHPR1);
                (0..4).fold(0, |acc, i| {
                    acc | u32::from(self.nvic.priority_byte(first + i)) << (8 * i)
                })
            }
            reg::SHCSR => self.shcsr,
            reg::CPACR => self.cpacr,
            reg::DEMCR => self.demcr,
            // The rest of the SCS page keeps what was written; the rest of the PPB (TPIU, ETM,
            // ROM table) reads as zero.
            0xE000_E000..0xE000_F000 => self.plain.get(&addr).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// Records a fault the firmware's handler is about to take (B3.2.15-B3.2.18): `cfsr`
    /// bits set, HFSR.FORCED when it escalated to HardFault, the faulting address in MMFAR
    /// or BFAR (their VALID bits are `cfsr`'s). The Armv6-M cores have none of these.
    pub fn record_fault(&mut self, cfsr: u32, forced: bool, mmfar: Option<u32>, bfar: Option<u32>) {
        if self.core.is_armv6m() {
            return;
        }
        *self.plain.entry(reg::CFSR).or_default() |= cfsr;
        if forced {
            *self.plain.entry(reg::HFSR).or_default() |= 1 << 30;
        }
        if let Some(a) = mmfar {
            self.plain.insert(reg::MMFAR, a);
        }
        if let Some(a) = bfar {
            self.plain.insert(reg::BFAR, a);
        }
    }

    /// Which of the configurable faults (MemManage, BusFault, UsageFault) SHCSR enables.
    pub fn fault_enabled(&self, exception: u32) -> bool {
        !self.core.is_armv6m()
            && match exception {
                4 => self.shcsr & (1 << 16) != 0,
                5 => self.shcsr & (1 << 17) != 0,
                6 => self.shcsr & (1 << 18) != 0,
                _ => false,
            }
    }

    /// A write of `size` bytes at `addr` in the PPB.
    pub fn write(&mut self, addr: u32, size: usize, value: u32, now: Cycles) -> Option<PpbAction> {
        // Priority registers are byte-addressable (B3.4.7, B3.2.10).
        let byte_prio = |addr: u32| match addr {
            0xE000_E400..0xE000_E5F0 => Some(exc::IRQ0 + (addr - reg::NVIC_IPR)),
            0xE000_ED18..0xE000_ED24 => Some(4 + (addr - reg::SHPR1)),
            _ => None,
        };
        if let Some(first) = byte_prio(addr) {
            for i in 0..size.min(4) as u32 {
                self.nvic.set_priority(first + i, (value >> (8 * i)) as u8);
            }
            return None;
        }
        if let reg::ITM_STIM..0xE000_0080 = addr {
            let port = ((addr - reg::ITM_STIM) / 4) as u8;
            let enabled = self.itm_tcr & 1 != 0 && self.itm_ter & (1 << port) != 0;
            return enabled.then_some(PpbAction::Itm {
                port,
                bytes: value.to_le_bytes(),
                len: size.min(4) as u8,
            });
        }
        let addr = addr & !3;
        let nvic_each = |base: u32, value: u32, f: &mut dyn FnMut(u32)| {
            let first = (addr - base) * 8;
            for i in (0..32).filter(|i| value & (1 << i) != 0) {
                f(first + i);
            }
        };
        match addr {
            reg::ITM_TER => self.itm_ter = value,
            reg::ITM_TCR => self.itm_tcr = value,
            reg::DWT_CTRL => {
                self.rebase_cyccnt(now);
                self.dwt_ctrl = (self.dwt_ctrl & !1) | (value & 1);
            }
            reg::DWT_CYCCNT => {
                self.cyccnt_value = value;
                self.cyccnt_since = now;
            }
            0xE000_E100..0xE000_E140 => {
                nvic_each(reg::NVIC_ISER, value, &mut |irq| {
                    self.nvic.set_enabled(irq, true)
                });
            }
            0xE000_E180..0xE000_E1C0 => {
                nvic_each(reg::NVIC_ICER, value, &mut |irq| {
                    self.nvic.set_enabled(irq, false)
                });
            }
            0xE000_E200..0xE000_E240 => nvic_each(reg::NVIC_ISPR, value, &mut |irq| {
                self.nvic.set_pending(exc::IRQ0 + irq, true);
            }),
            0xE000_E280..0xE000_E2C0 => nvic_each(reg::NVIC_ICPR, value, &mut |irq| {
                self.nvic.set_pending(exc::IRQ0 + irq, false);
            }),
            reg::ICSR => {
                if value & 1 << 31 != 0 {
                    self.nvic.set_pending(exc::NMI, true);
                }
                if value & 1 << 28 != 0 {
                    self.nvic.set_pending(exc::PENDSV, true);
                } else if value & 1 << 27 != 0 {
                    self.nvic.set_pending(exc::PENDSV, false);
                }
                if value & 1 << 26 != 0 {
                    self.nvic.set_pending(exc::SYSTICK, true);
                } else if value & 1 << 25 != 0 {
                    self.nvic.set_pending(exc::SYSTICK, false);
                }
            }
            // TBLOFF: bits [31:7] (B3.2.5).
            reg::VTOR => self.vtor = value & 0xFFFF_FF80,
            reg::AIRCR if value >> 16 == 0x05FA => {
                if !self.core.is_armv6m() {
                    self.nvic.set_prigroup(value >> 8);
                }
                if value & 4 != 0 {
                    return Some(PpbAction::SystemReset);
                }
            }
            reg::SCR => self.scr = value & 0x16,
            reg::CCR if !self.core.is_armv6m() => self.ccr = value & 0x0007_031B,
            reg::SHCSR => self.shcsr = value,
            // The fault status registers clear the bits written as 1 (B3.2.15, B3.2.16).
            reg::CFSR | reg::HFSR if !self.core.is_armv6m() => {
                let old = self.plain.get(&(addr & !3)).copied().unwrap_or(0);
                self.plain.insert(addr & !3, old & !value);
            }
            reg::CPACR => self.cpacr = value,
            reg::DEMCR => {
                self.rebase_cyccnt(now);
                self.demcr = value;
            }
            reg::STIR => self.nvic.set_pending(exc::IRQ0 + (value & 0x1FF), true),
            0xE000_E000..0xE000_F000 => {
                self.plain.insert(addr, value);
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scs() -> Scs {
        Scs::new(Core::CortexM4F, 32, 4, 0x0800_0000)
    }

    #[test]
    fn cyccnt_counts_only_when_enabled_by_dwt_and_demcr() {
        let mut s = scs();
        s.write(reg::DWT_CTRL, 4, 1, Cycles(10));
        assert_eq!(
            s.read(reg::DWT_CYCCNT, 4, Cycles(50), 0),
            0,
            "no TRCENA yet"
        );
        s.write(reg::DEMCR, 4, 1 << 24, Cycles(100));
        assert_eq!(s.read(reg::DWT_CYCCNT, 4, Cycles(150), 0), 50);
        s.write(reg::DWT_CYCCNT, 4, 7, Cycles(200));
        assert_eq!(s.read(reg::DWT_CYCCNT, 4, Cycles(210), 0), 17);
        s.write(reg::DWT_CTRL, 4, 0, Cycles(220));
        assert_eq!(s.read(reg::DWT_CYCCNT, 4, Cycles(900), 0), 27, "frozen");
    }

    #[test]
    fn armv6m_has_no_cycle_counter() {
        let mut s = Scs::new(Core::CortexM0Plus, 32, 2, 0);
        assert_ne!(
            s.read(reg::DWT_CTRL, 4, Cycles(0), 0) & 1 << 25,
            0,
            "NOCYCCNT"
        );
        s.write(reg::DEMCR, 4, 1 << 24, Cycles(0));
        s.write(reg::DWT_CTRL, 4, 1, Cycles(0));
        assert_eq!(s.read(reg::DWT_CYCCNT, 4, Cycles(100), 0), 0);
    }

    #[test]
    fn nvic_registers_enable_pend_and_prioritise() {
        let mut s = scs();
        s.write(reg::NVIC_ISER, 4, 1 << 5, Cycles(0));
        s.write(reg::NVIC_IPR + 5, 1, 0x80, Cycles(0));
        s.write(reg::STIR, 4, 5, Cycles(0));
        assert_eq!(s.read(reg::NVIC_ISPR, 4, Cycles(0), 0), 1 << 5);
        assert_eq!(s.read(reg::NVIC_IPR + 4, 4, Cycles(0), 0), 0x8000);
        assert_eq!(
            s.nvic.to_take(crate::nvic::THREAD_PRIORITY),
            Some(exc::IRQ0 + 5)
        );
        assert_eq!(
            (s.read(reg::ICSR, 4, Cycles(0), 0) >> 12) & 0x1FF,
            exc::IRQ0 + 5
        );
        s.write(reg::NVIC_ICPR, 4, 1 << 5, Cycles(0));
        assert!(!s.nvic.any_pending());
    }

    #[test]
    fn aircr_reset_needs_the_key() {
        let mut s = scs();
        assert_eq!(s.write(reg::AIRCR, 4, 4, Cycles(0)), None);
        assert_eq!(
            s.write(reg::AIRCR, 4, 0x05FA_0004, Cycles(0)),
            Some(PpbAction::SystemReset)
        );
        assert_eq!(s.read(reg::CPUID, 4, Cycles(0), 0), 0x410F_C241);
    }
}
