//! The energy model: the board's run current (per MHz, at its supply voltage) for every active
//! cycle and its sleep current for every sleeping one, both from the board file, where each
//! figure cites its source (`TIMING.md`: about 0.35 mW/MHz on NUCLEO-L4R5ZI under NN load).
//!
//! An approximation, and a whole-rail one: the published figures are rail power measured while
//! a network runs, so the core, the flash and the SRAM are in one current. Cycles spent waiting
//! on flash are reported as the flash part of that current, the rest as the core's; DMA and NPU
//! parts come with those peripherals.

use crate::profile::EnergyParts;
use mcusim_boards::Board;
use mcusim_traces::Breakdown;

/// A board's energy coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    volts: f64,
    run_ua_per_mhz: f64,
    sleep_ua: f64,
    clock_hz: f64,
    source: String,
}

impl Model {
    pub fn for_board(board: &Board) -> Model {
        let (volts, run_ua_per_mhz, sleep_ua, source) = match &board.file.energy {
            Some(e) => (
                e.supply_volts,
                e.run_ua_per_mhz,
                e.sleep_ua,
                e.source.clone(),
            ),
            None => (
                0.0,
                0.0,
                0.0,
                "the board file gives no energy coefficients".into(),
            ),
        };
        Model {
            volts,
            run_ua_per_mhz,
            sleep_ua,
            clock_hz: board.clock_hz() as f64,
            source,
        }
    }

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

    pub fn parts(&self, b: &Breakdown) -> EnergyParts {
        let core = b.execute.0 + b.branch.0 + b.stall.0 + b.exception.0;
        EnergyParts {
            core_uj: self.active_uj(core),
            flash_uj: self.active_uj(b.memory.0),
            sleep_uj: self.sleep_uj(b.sleep.0),
        }
    }

    pub fn energy_uj(&self, b: &Breakdown) -> f64 {
        let p = self.parts(b);
        p.core_uj + p.flash_uj + p.sleep_uj
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        format!(
            "{:.0} uA/MHz active and {:.0} uA asleep at {:.2} V, whole rail (an approximation); source: {}",
            self.run_ua_per_mhz, self.sleep_ua, self.volts, self.source
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
        let m = Model::for_board(&board);
        // 120 M active cycles = 1 s at 120 MHz: 1.8 V x 194 uA/MHz x 120 MHz = 41.9 mW -> 41904 uJ.
        let b = Breakdown {
            execute: Cycles(120_000_000),
            ..Breakdown::default()
        };
        assert!(
            (m.energy_uj(&b) - 41_904.0).abs() < 1.0,
            "{}",
            m.energy_uj(&b)
        );
        // The MLPerf Tiny figure the board cites: about 0.35 mW/MHz.
        assert!((41_904.0_f64 / 1e3 / 120.0 - 0.35).abs() < 0.01);
        // Sleep for 1 s: 1.8 V x 4200 uA = 7560 uJ.
        let s = Breakdown {
            sleep: Cycles(120_000_000),
            ..Breakdown::default()
        };
        assert!((m.energy_uj(&s) - 7560.0).abs() < 1.0);
        // Memory waits are the flash part.
        let f = Breakdown {
            memory: Cycles(1000),
            ..Breakdown::default()
        };
        assert_eq!(m.parts(&f).core_uj, 0.0);
        assert!(m.parts(&f).flash_uj > 0.0);
    }
}
