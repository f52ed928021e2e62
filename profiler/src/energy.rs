//! The energy model: the board's run current (per MHz, at its supply voltage) for every active
//! cycle and its sleep current for every sleeping one, both from the board file, where each
//! figure cites its source (`TIMING.md`: about 0.35 mW/MHz on NUCLEO-L4R5ZI under NN load).
//!
//! An approximation, and a whole-rail one: the published figures are rail power measured while
//! a network runs, so the core, the flash and the SRAM are in one current. That total is split,
//! never changed: the bytes loads and stores move cost the board's picojoules per byte of SRAM
//! and of flash, cycles spent waiting on flash are flash's too, and the rest is the core's.
//! DMA and NPU parts come with those peripherals.

use crate::profile::EnergyParts;
use crate::profile::MemoryTraffic;
use mcusim_boards::Board;
use mcusim_traces::Breakdown;

/// A board's energy coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    volts: f64,
    run_ua_per_mhz: f64,
    sleep_ua: f64,
    sram_pj_per_byte: f64,
    flash_pj_per_byte: f64,
    clock_hz: f64,
    source: String,
}

impl Model {
    /// The board's model, or `None` if its file gives no energy coefficients (energy is
    /// then unknown, never zero).
    pub fn for_board(board: &Board) -> Option<Model> {
        let e = board.file.energy.as_ref()?;
        Some(Model {
            volts: e.supply_volts,
            run_ua_per_mhz: e.run_ua_per_mhz,
            sleep_ua: e.sleep_ua,
            sram_pj_per_byte: e.sram_pj_per_byte,
            flash_pj_per_byte: e.flash_pj_per_byte,
            clock_hz: board.clock_hz() as f64,
            source: e.source.clone(),
        })
    }

    /// What a profile says of energy on a board without coefficients.
    pub const ABSENT: &'static str =
        "unknown: the board file gives no energy coefficients ([energy] section)";

    /// Microjoules of `cycles` active cycles: V x (uA/MHz x MHz) x (cycles / Hz), which is
    /// V x uA/MHz x cycles x 1e-6 uJ whatever the clock.
    fn active_uj(&self, cycles: u64) -> f64 {
        self.volts * self.run_ua_per_mhz * cycles as f64 * 1e-6
    }

    fn sleep_uj(&self, cycles: u64) -> f64 {
        if self.clock_hz == 0.0 {
            return 0.0;
        }
        self.volts * self.sleep_ua * cycles as f64 / self.clock_hz
    }

    pub fn parts(&self, b: &Breakdown, t: &MemoryTraffic) -> EnergyParts {
        let core =
            self.active_uj(b.execute.0 + b.branch.0 + b.stall.0 + b.exception.0 + b.contention.0);
        let wait = self.active_uj(b.memory.0);
        // The bytes' energy is carved out of the core's share of the measured current; should
        // it exceed that share, it is scaled down so the total stays the calibrated one.
        let sram = (t.sram_read_bytes + t.sram_write_bytes) as f64 * self.sram_pj_per_byte * 1e-6;
        let flash = t.flash_read_bytes as f64 * self.flash_pj_per_byte * 1e-6;
        let scale = if sram + flash > core {
            core / (sram + flash)
        } else {
            1.0
        };
        EnergyParts {
            core_uj: core - (sram + flash) * scale,
            flash_uj: wait + flash * scale,
            sram_uj: sram * scale,
            sleep_uj: self.sleep_uj(b.sleep.0),
        }
    }

    pub fn energy_uj(&self, b: &Breakdown, t: &MemoryTraffic) -> f64 {
        let p = self.parts(b, t);
        p.core_uj + p.flash_uj + p.sram_uj + p.sleep_uj
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        format!(
            "{:.0} uA/MHz active and {:.0} uA asleep at {:.2} V, whole rail (an approximation), of which SRAM {} pJ/byte and flash {} pJ/byte; source: {}",
            self.run_ua_per_mhz,
            self.sleep_ua,
            self.volts,
            self.sram_pj_per_byte,
            self.flash_pj_per_byte,
            self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcusim_traces::Cycles;

    #[test]
    fn energy_follows_the_board_coefficients() {
        let board = Board::builtin("nucleo-l4r5zi").unwrap().unwrap();
        let m = Model::for_board(&board).unwrap();
        let none = MemoryTraffic::default();
        // 120 M active cycles = 1 s at 120 MHz: 1.8 V x 194 uA/MHz x 120 MHz = 41.9 mW -> 41904 uJ.
        let b = Breakdown {
            execute: Cycles(120_000_000),
            ..Breakdown::default()
        };
        assert!(
            (m.energy_uj(&b, &none) - 41_904.0).abs() < 1.0,
            "{}",
            m.energy_uj(&b, &none)
        );
        // The MLPerf Tiny figure the board cites: about 0.35 mW/MHz.
        assert!((41_904.0_f64 / 1e3 / 120.0 - 0.35).abs() < 0.01);
        // Sleep for 1 s: 1.8 V x 4200 uA = 7560 uJ.
        let s = Breakdown {
            sleep: Cycles(120_000_000),
            ..Breakdown::default()
        };
        assert!((m.energy_uj(&s, &none) - 7560.0).abs() < 1.0);
        // Memory waits are the flash part.
        let f = Breakdown {
            memory: Cycles(1000),
            ..Breakdown::default()
        };
        assert_eq!(m.parts(&f, &none).core_uj, 0.0);
        assert!(m.parts(&f, &none).flash_uj > 0.0);
        // Bytes moved take their share of the core's part; the total does not change.
        let t = MemoryTraffic {
            sram_read_bytes: 1_000_000,
            flash_read_bytes: 500_000,
            ..MemoryTraffic::default()
        };
        let with = m.parts(&b, &t);
        assert!((with.sram_uj - 5.0).abs() < 1e-9, "{}", with.sram_uj);
        assert!((with.flash_uj - 5.0).abs() < 1e-9, "{}", with.flash_uj);
        assert!((m.energy_uj(&b, &t) - m.energy_uj(&b, &none)).abs() < 1e-6);
    }
}
