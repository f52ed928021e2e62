//! Memory as a bus with slaves: each memory region of the board is one slave (flash, each SRAM
//! bank, each TCM, the peripheral space) with its wait states, so what depends on which memory
//! an access reaches (device-initiated transfers now; contention between masters and the bank
//! rules of the cores' load pipelines later) is looked up here, as data, not recomputed from
//! the board at each place.
//!
//! The core's own accesses are timed by the cycle model (`timing`); this module times
//! accesses other masters make through [`BusPort`].

use mcusim_boards::{Board, RegionKind};
use mcusim_traces::Cycles;
use std::fmt;
use std::ops::Range;

/// One slave: a board memory region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slave {
    /// The region's name in the board file (`flash`, `sram1`, `dtcm`).
    pub name: String,
    pub kind: RegionKind,
    /// Its addresses (exclusive end, so a region at the top of the space fits).
    pub range: Range<u64>,
    /// Wait states per access, from the board file.
    pub wait_states: u32,
    /// Bytes one access moves at most (the region's `access_width_bits`, at least 4: the bus
    /// is 32 bits wide).
    pub beat_bytes: u32,
}

/// Which slave an address belongs to: its index in [`Bus::slaves`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlaveId(pub u8);

/// The board's slaves, in board-file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bus {
    slaves: Vec<Slave>,
}

impl Bus {
    /// The slaves of `board`'s memory regions.
    pub fn new(board: &Board) -> Bus {
        Bus {
            slaves: board
                .regions()
                .iter()
                .map(|r| Slave {
                    name: r.name.clone(),
                    kind: r.kind,
                    range: r.base..r.end(),
                    wait_states: r.wait_states,
                    // A 32-bit AHB: wider flash arrays still deliver a word per beat.
                    beat_bytes: 4,
                })
                .collect(),
        }
    }

    pub fn slaves(&self) -> &[Slave] {
        &self.slaves
    }

    /// The slave holding `addr`, if any.
    pub fn slave_at(&self, addr: u32) -> Option<(SlaveId, &Slave)> {
        let a = u64::from(addr);
        self.slaves
            .iter()
            .position(|s| s.range.contains(&a))
            .map(|i| (SlaveId(i as u8), &self.slaves[i]))
    }

    /// The slave holding all of `addr..addr + len`, if one does.
    pub fn slave_for(&self, addr: u32, len: usize) -> Option<(SlaveId, &Slave)> {
        let end = u64::from(addr) + len as u64;
        self.slave_at(addr).filter(|(_, s)| end <= s.range.end)
    }

    /// What a transfer of `len` bytes from another master costs at `slave`: one bus cycle per
    /// beat plus the slave's wait states per beat (ARM AMBA 3 AHB-Lite, IHI 0033A sec. 3.1:
    /// a transfer takes an address and a data phase, the data phase extended by the slave's
    /// wait states, pipelined with the next transfer's address phase). Approximation: no
    /// accelerator or cache on the path, no contention (both come with the masters that need
    /// them).
    pub fn transfer_cycles(slave: &Slave, len: usize) -> Cycles {
        let beats = (len as u64).div_ceil(u64::from(slave.beat_bytes)).max(1);
        Cycles(beats * (1 + u64::from(slave.wait_states)))
    }
}

/// A device-initiated access that no slave answers: outside every region, into flash for a
/// write, across two slaves, or into peripheral space the machine cannot reach from there.
/// The device reports it as its own bus error (a DMA's transfer error flag), as silicon does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusFault {
    pub addr: u32,
    pub len: usize,
    pub write: bool,
}

impl fmt::Display for BusFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bus fault: {} of {} bytes at {:#010x}",
            if self.write { "write" } else { "read" },
            self.len,
            self.addr
        )
    }
}

/// The bus as a device sees it: reads and writes of memory at the device's time, each
/// returning what it cost (the device adds it to its own schedule; the core's clock does not
/// move) or a [`BusFault`]. Never panics.
pub trait BusPort {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<Cycles, BusFault>;
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<Cycles, BusFault>;
    /// The device's own time for the accesses that follow (a DMA item's start), when it runs
    /// ahead of or behind the moment the machine looks at it: what the core's contention
    /// with them is timed by.
    fn set_time(&mut self, _at: Cycles) {}
    /// Whether `addr` is in flash (a device with one port per kind of memory routes by it).
    fn is_flash(&mut self, _addr: u32) -> bool {
        false
    }
}

/// No bus: every access faults. What a device reached through another device's bus access
/// sees (one level of device-to-device access), and what unit tests of devices without bus
/// traffic use.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBus;

impl BusPort for NoBus {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<Cycles, BusFault> {
        Err(BusFault {
            addr,
            len: buf.len(),
            write: false,
        })
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<Cycles, BusFault> {
        Err(BusFault {
            addr,
            len: data.len(),
            write: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaves_follow_the_board_and_cost_their_wait_states() {
        let board = Board::builtin("nucleo-l4r5zi").unwrap().unwrap();
        let bus = Bus::new(&board);
        assert_eq!(bus.slaves().len(), board.regions().len());
        let (id, flash) = bus.slave_at(0x0800_0000).unwrap();
        assert_eq!((id, flash.name.as_str()), (SlaveId(0), "flash"));
        assert_eq!(flash.wait_states, 5);
        // 10 bytes are three beats, each an address/data phase plus 5 wait states.
        assert_eq!(Bus::transfer_cycles(flash, 10), Cycles(18));
        let (_, sram) = bus.slave_at(0x2000_0000).unwrap();
        assert_eq!(Bus::transfer_cycles(sram, 4), Cycles(1));
        assert!(bus.slave_at(0x1000_0000).is_none());
        // A burst must stay inside one slave.
        let end = sram.range.end as u32;
        assert!(bus.slave_for(end - 4, 4).is_some());
        assert!(bus.slave_for(end - 2, 4).is_none());
    }
}
