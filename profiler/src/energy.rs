//! The energy model: the board's run current (per MHz, at its supply voltage) for every active
//! cycle and its sleep current for every sleeping one, both from the board file, where each
//! figure cites its source (`TIMING.md`: about 0.35 mW/MHz on NUCLEO-L4R5ZI under NN load).
//!
//! An approximation, and a whole-rail one: the published figures are rail power measured while
//! a network runs, so the core, the flash and the SRAM are in one current. That total is split,
//! never changed: the bytes loads and stores move cost the board's picojoules per byte of SRAM
//! and of flash, cycles spent waiting on flash are flash's too, and the rest is the core's.
//! Devices add to it: each byte a DMA controller or an NPU moves and each MAC an NPU does
//! cost the board's picojoules for them (`dma_pj_per_byte`, `npu_pj_per_byte`,
//! `npu_pj_per_mac`), on top of the core's current (it may sleep meanwhile).

use crate::profile::EnergyParts;
use crate::profile::MemoryTraffic;
use mcusim_boards::{Board, PeripheralModel};
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
    /// Per device that has an energy: its name, picojoules per byte moved and per MAC.
    devices: Vec<(String, f64, f64)>,
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
            // Validation requires the figures for the devices a board has.
            devices: board
                .peripherals()
                .iter()
                .filter_map(|p| match p.model {
                    PeripheralModel::Npu { .. } => Some((
                        p.name.clone(),
                        e.npu_pj_per_byte.unwrap_or(0.0),
                        e.npu_pj_per_mac.unwrap_or(0.0),
                    )),
                    PeripheralModel::Stm32Dma { .. } => {
                        Some((p.name.clone(), e.dma_pj_per_byte.unwrap_or(0.0), 0.0))
                    }
                    _ => None,
                })
                .collect(),
        })
    }

    /// Microjoules of the devices' `work`: (device, bytes moved, MACs) each.
    pub fn devices_uj<'a>(&self, work: impl IntoIterator<Item = (&'a str, u64, u64)>) -> f64 {
        work.into_iter()
            .filter_map(|(name, bytes, macs)| {
                let (_, per_byte, per_mac) = self.devices.iter().find(|d| d.0 == name)?;
                Some((bytes as f64 * per_byte + macs as f64 * per_mac) * 1e-6)
            })
            .sum()
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

    /// The parts of a span's energy: its cycles `b`, the bytes `t` the core moved and the
    /// devices' `devices_uj` ([`Model::devices_uj`]).
    pub fn parts(&self, b: &Breakdown, t: &MemoryTraffic, devices_uj: f64) -> EnergyParts {
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
            devices_uj,
        }
    }

    pub fn energy_uj(&self, b: &Breakdown, t: &MemoryTraffic, devices_uj: f64) -> f64 {
        let p = self.parts(b, t, devices_uj);
        p.core_uj + p.flash_uj + p.sram_uj + p.sleep_uj + p.devices_uj
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        let devices: String = self
            .devices
            .iter()
            .map(|(name, per_byte, per_mac)| {
                if *per_mac > 0.0 {
                    format!("; {name} {per_byte} pJ/byte and {per_mac} pJ/MAC")
                } else {
                    format!("; {name} {per_byte} pJ/byte")
                }
            })
            .collect();
        format!(
            "{:.0} uA/MHz active and {:.0} uA asleep at {:.2} V, whole rail (an approximation), of which SRAM {} pJ/byte and flash {} pJ/byte{devices}; source: {}",
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
            (m.energy_uj(&b, &none, 0.0) - 41_904.0).abs() < 1.0,
            "{}",
            m.energy_uj(&b, &none, 0.0)
        );
        // The MLPerf Tiny figure the board cites: about 0.35 mW/MHz.
        assert!((41_904.0_f64 / 1e3 / 120.0 - 0.35).abs() < 0.01);
        // Sleep for 1 s: 1.8 V x 4200 uA = 7560 uJ.
        let s = Breakdown {
            sleep: Cycles(120_000_000),
            ..Breakdown::default()
        };
        assert!((m.energy_uj(&s, &none, 0.0) - 7560.0).abs() < 1.0);
        // Memory waits are the flash part.
        let f = Breakdown {
            memory: Cycles(1000),
            ..Breakdown::default()
        };
        assert_eq!(m.parts(&f, &none, 0.0).core_uj, 0.0);
        assert!(m.parts(&f, &none, 0.0).flash_uj > 0.0);
        // Bytes moved take their share of the core's part; the total does not change.
        let t = MemoryTraffic {
            sram_read_bytes: 1_000_000,
            flash_read_bytes: 500_000,
            ..MemoryTraffic::default()
        };
        let with = m.parts(&b, &t, 0.0);
        assert!((with.sram_uj - 5.0).abs() < 1e-9, "{}", with.sram_uj);
        assert!((with.flash_uj - 5.0).abs() < 1e-9, "{}", with.flash_uj);
        assert!((m.energy_uj(&b, &t, 0.0) - m.energy_uj(&b, &none, 0.0)).abs() < 1e-6);
    }

    #[test]
    fn an_npus_macs_and_bytes_cost_the_board_figures() {
        let board = Board::builtin("corstone-300").unwrap().unwrap();
        let m = Model::for_board(&board).unwrap();
        // 1.2 pJ/MAC and 5 pJ/byte: a million MACs and a million bytes, 6.2 uJ.
        let uj = m.devices_uj([("npu", 1_000_000, 1_000_000), ("uart0", 1_000_000, 0)]);
        assert!((uj - 6.2).abs() < 1e-9, "{uj}");
        let p = m.parts(&Breakdown::default(), &MemoryTraffic::default(), uj);
        assert_eq!(p.devices_uj, uj);
        assert!(m.describe().contains("npu 5 pJ/byte and 1.2 pJ/MAC"));
        // A DMA's bytes on an ST board.
        let st = Board::builtin("nucleo-l4r5zi").unwrap().unwrap();
        let m = Model::for_board(&st).unwrap();
        let dma = st
            .peripherals()
            .iter()
            .find(|p| matches!(p.model, PeripheralModel::Stm32Dma { .. }))
            .unwrap();
        assert!((m.devices_uj([(dma.name.as_str(), 1_000_000, 0)]) - 10.0).abs() < 1e-9);
    }
}
