//! The roofs of a roofline: what the core and memories could deliver at best.

use crate::profile::Roofline;
use mcusim_boards::{Board, Core, RegionKind};

/// The board's roofs. Approximations, said in `source`:
/// - peak MACs per cycle: SMLAD does two 16x16 multiply-accumulates in one cycle on the cores
///   with the DSP extension (M4, M7, M33; Cortex-M4/M7/M33 TRMs, instruction timing tables: the
///   M7 dual-issues but has one MAC pipeline); MLA does one in one cycle on the M3; the M0+
///   needs a MULS and an ADDS (one cycle each) per MAC;
/// - SRAM: one access of the bus width per cycle at zero wait states (32-bit AHB on M0+, M3,
///   M4 and M33; 64-bit AXI on the M7);
/// - flash: one access of the board file's width per `wait_states + 1` cycles, no cache.
pub fn for_board(board: &Board) -> Roofline {
    let (macs, sram) = match board.core {
        Core::CortexM0Plus => (0.5, 4.0),
        Core::CortexM3 => (1.0, 4.0),
        Core::CortexM7 => (2.0, 8.0),
        _ => (2.0, 4.0),
    };
    let flash = board
        .regions()
        .iter()
        .find(|r| r.kind == RegionKind::Flash)
        .map_or(sram, |r| {
            f64::from(r.access_width_bits) / 8.0 / f64::from(r.wait_states + 1)
        });
    Roofline {
        peak_macs_per_cycle: macs,
        sram_bytes_per_cycle: sram,
        flash_bytes_per_cycle: flash,
        source: format!(
            "{}: {macs} MACs/cycle (SMLAD 2, MLA 1, MULS+ADDS 0.5 per cycle; TRM timing tables), SRAM {sram} B/cycle (bus width at zero wait), flash {flash} B/cycle (board file: access width / (wait states + 1)); approximations",
            board.core.name()
        ),
    }
}
