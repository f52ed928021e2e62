//! Instruction fetch from flash: wait states, the accelerator's prefetch buffer and instruction
//! cache, as the board file describes them.
//!
//! Model (an approximation of ST's ART and of plain instruction caches; RM0432 sec. 3.3.5,
//! RM0385 sec. 3.3.3, RM0456 sec. 7, and TIMING.md "Flash wait states and accelerators"):
//! - Flash is read in fetch units of `fetch_bytes` (the accelerator's read width, or the
//!   region's access width without one). Reading a unit from the array takes WS+1 cycles.
//! - A unit whose cache line is in the instruction cache costs nothing extra.
//! - Otherwise the core waits WS+1 cycles, except when the prefetch buffer already fetched it:
//!   with prefetch on, the unit after the one being executed is read while that one executes,
//!   so straight-line code waits only `max(0, WS+1 - cycles spent in the previous unit)`.
//! - The cache is set-associative with round-robin replacement (the parts do not publish
//!   theirs); a miss fills the whole line.
//! - The block hook pays for this per block, not per instruction: a block remembers the cache
//!   "generation" (count of evictions) at which all its lines were resident, and while nothing
//!   has been evicted since, costs nothing and looks nothing up.
//!
//! Data reads from flash (constant tables, and the weights of a model left in flash) go
//! through the data side: the accelerator's data cache where the board has one, else a
//! one-unit read buffer (the last unit read stays in the flash interface), and WS+1 cycles
//! for each unit that misses. Data reads are not prefetched.

use mcusim_boards::{Board, RegionKind};

/// Fetch timing of one flash region.
#[derive(Debug, Clone)]
pub struct FlashFetch {
    /// Bytes read as data (loads, literal pools, table branches) so far.
    pub data_bytes: u64,
    start: u32,
    end: u32,
    /// Cycles to read one unit from the array: WS + 1.
    read: u32,
    unit_shift: u32,
    prefetch: bool,
    cache: Option<LineCache>,
    /// The last unit fetched, for prefetch (sequential access) detection.
    last_unit: Option<u32>,
    /// The data cache, if the accelerator has one.
    dcache: Option<LineCache>,
    /// The last unit read as data (the flash interface's read buffer).
    last_data_unit: Option<u32>,
    /// Whether data reads go through the instruction cache (a plain cache on the code bus,
    /// like the STM32U5's ICACHE, caches both).
    data_via_icache: bool,
}

/// What a block needs for fetch timing, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockFetch {
    /// The fetch units the block's instructions occupy, in order.
    units: Box<[u32]>,
    /// For each unit after the first: cycles the block spends executing the unit before it
    /// (the time a prefetch of this unit has to complete).
    cover: Box<[u32]>,
    /// Cache generation at which all the block's units were last seen resident.
    generation: u64,
    /// The last of `units`.
    last_unit: u32,
}

#[derive(Debug, Clone)]
struct LineCache {
    line_shift: u32,
    sets: u32,
    ways: u32,
    tags: Vec<u32>,
    victim: Vec<u32>,
    generation: u64,
}

impl LineCache {
    fn new(lines: u32, line_bytes: u32, ways: u32) -> LineCache {
        let ways = if ways == 0 { lines } else { ways.min(lines) }.max(1);
        let sets = (lines / ways).max(1);
        LineCache {
            line_shift: line_bytes.trailing_zeros(),
            sets,
            ways,
            tags: vec![u32::MAX; (sets * ways) as usize],
            victim: vec![0; sets as usize],
            generation: 0,
        }
    }

    /// Look the line holding `addr` up, filling it on a miss; true on a hit.
    fn access(&mut self, addr: u32) -> bool {
        let line = addr >> self.line_shift;
        let set = line % self.sets;
        let ways = &mut self.tags[(set * self.ways) as usize..((set + 1) * self.ways) as usize];
        if ways.contains(&line) {
            return true;
        }
        let v = &mut self.victim[set as usize];
        if ways[*v as usize] != u32::MAX {
            self.generation += 1;
        }
        ways[*v as usize] = line;
        *v = (*v + 1) % self.ways;
        false
    }
}

impl FlashFetch {
    /// The fetch model of the board's flash region, if it has one with wait states.
    pub fn for_board(board: &Board) -> Option<FlashFetch> {
        let flash = board
            .regions()
            .iter()
            .find(|r| r.kind == RegionKind::Flash && r.wait_states > 0)?;
        let acc = board.file.flash_accelerator.as_ref();
        let unit_bytes = acc
            .map_or(flash.access_width_bits / 8, |a| a.fetch_bytes)
            .max(2);
        // The Cortex-M7's L1 caches sit in front of everything on its AXI bus, flash included;
        // where the board has them they take the place of the accelerator's caches.
        let l1 = board.file.l1_cache.as_ref();
        let l1_cache = |bytes: u32, ways: u32| {
            l1.filter(|_| bytes > 0).map(|l| {
                let line = l.line_bytes.max(unit_bytes);
                LineCache::new(bytes / line, line, ways)
            })
        };
        let cache = l1_cache(
            l1.map_or(0, |l| l.icache_bytes),
            l1.map_or(0, |l| l.icache_ways),
        )
        .or_else(|| {
            acc.filter(|a| a.icache_lines > 0).map(|a| {
                LineCache::new(
                    a.icache_lines,
                    a.icache_line_bytes.max(unit_bytes),
                    a.icache_ways,
                )
            })
        });
        let dcache = l1_cache(
            l1.map_or(0, |l| l.dcache_bytes),
            l1.map_or(0, |l| l.dcache_ways),
        )
        .or_else(|| {
            acc.filter(|a| a.dcache_lines > 0)
                .map(|a| LineCache::new(a.dcache_lines, a.dcache_line_bytes.max(unit_bytes), 0))
        });
        Some(FlashFetch {
            data_bytes: 0,
            start: flash.base as u32,
            end: flash.end().min(u64::from(u32::MAX)) as u32,
            read: flash.wait_states + 1,
            unit_shift: unit_bytes.trailing_zeros(),
            prefetch: acc.is_some_and(|a| a.prefetch),
            cache,
            last_unit: None,
            dcache,
            last_data_unit: None,
            data_via_icache: acc.is_some_and(|a| a.kind == mcusim_boards::AcceleratorKind::Icache),
        })
    }

    /// Whether `addr` lies in the flash region.
    pub fn contains(&self, addr: u32) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// Wait cycles of a data read of the bytes `span` (in flash).
    pub fn data_read(&mut self, span: std::ops::Range<u32>) -> u32 {
        self.data_bytes += u64::from(span.end.wrapping_sub(span.start));
        let first = span.start >> self.unit_shift;
        let last = span.end.saturating_sub(1).max(span.start) >> self.unit_shift;
        let mut wait = 0;
        for unit in first..=last {
            let hit = match (&mut self.dcache, &mut self.cache) {
                (Some(cache), _) => cache.access(unit << self.unit_shift),
                (None, Some(cache)) if self.data_via_icache => {
                    cache.access(unit << self.unit_shift)
                }
                _ => self.last_data_unit == Some(unit),
            };
            if !hit {
                wait += self.read;
            }
            self.last_data_unit = Some(unit);
        }
        wait
    }

    /// The fetch description of a block at `start` whose instructions begin at `offsets` and
    /// cost `prefix`; `None` outside flash.
    pub fn block(&self, start: u32, offsets: &[u16], prefix: &[u32]) -> Option<BlockFetch> {
        if !(self.start..self.end).contains(&start) {
            return None;
        }
        let mut units: Vec<u32> = Vec::new();
        let mut cover: Vec<u32> = Vec::new();
        let mut unit_entry = 0;
        for (i, &off) in offsets.iter().enumerate() {
            let unit = (start + u32::from(off)) >> self.unit_shift;
            if units.last() != Some(&unit) {
                if !units.is_empty() {
                    cover.push(prefix[i] - unit_entry);
                }
                units.push(unit);
                unit_entry = prefix[i];
            }
        }
        Some(BlockFetch {
            last_unit: units.last().copied().unwrap_or(0),
            units: units.into_boxed_slice(),
            cover: cover.into_boxed_slice(),
            generation: u64::MAX,
        })
    }

    /// Wait cycles for one execution of a block.
    #[inline]
    pub fn charge(&mut self, block: &mut BlockFetch) -> u32 {
        // The common case, on the hot path: nothing evicted since the block last ran.
        if let Some(cache) = &self.cache
            && cache.generation == block.generation
        {
            self.last_unit = Some(block.last_unit);
            return 0;
        }
        self.charge_lines(block)
    }

    #[cold]
    fn charge_lines(&mut self, block: &mut BlockFetch) -> u32 {
        let mut wait = 0;
        for (i, &unit) in block.units.iter().enumerate() {
            let hit = match &mut self.cache {
                Some(cache) => cache.access(unit << self.unit_shift),
                None => false,
            };
            let sequential = self.last_unit.is_some_and(|last| unit == last + 1);
            let same = self.last_unit == Some(unit);
            if !hit && !same {
                wait += if self.prefetch && sequential {
                    // The prefetch started when the previous unit began executing.
                    let covered = if i == 0 { 0 } else { block.cover[i - 1] };
                    self.read.saturating_sub(covered)
                } else {
                    self.read
                };
            }
            self.last_unit = Some(unit);
        }
        if let Some(cache) = &self.cache {
            block.generation = cache.generation;
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(accelerator: &str) -> Board {
        let text = format!(
            r#"name = "f"
description = "d"
source = "s"
core = "cortex-m4f"
clock_hz = 100_000_000
boot_region = "flash"
ram_region = "sram"
irq_lines = 32
priority_bits = 4

[[memory]]
name = "flash"
kind = "flash"
base = 0x0800_0000
size = 0x1_0000
wait_states = 5
access_width_bits = 64

[[memory]]
name = "sram"
kind = "sram"
base = 0x2000_0000
size = 0x1_0000
{accelerator}"#
        );
        Board::parse(&text, "f.toml").unwrap()
    }

    /// A block of 8 one-cycle 16-bit instructions: two 8-byte units.
    fn straight(f: &FlashFetch, start: u32) -> BlockFetch {
        let offsets: Vec<u16> = (0..8).map(|i| i * 2).collect();
        let prefix: Vec<u32> = (0..=8).collect();
        f.block(start, &offsets, &prefix).unwrap()
    }

    #[test]
    fn without_an_accelerator_every_unit_costs_ws_plus_one() {
        let mut f = FlashFetch::for_board(&board("")).unwrap();
        let mut b = straight(&f, 0x0800_0000);
        assert_eq!(f.charge(&mut b), 12);
        // A loop re-running the block pays again (nothing is cached)...
        assert_eq!(f.charge(&mut b), 12);
        // ...and SRAM code pays nothing.
        assert!(f.block(0x2000_0000, &[0], &[0, 1]).is_none());
    }

    #[test]
    fn prefetch_hides_straight_line_code_partly() {
        let acc = "[flash_accelerator]\nkind = \"art\"\nfetch_bytes = 8\nprefetch = true\n";
        let mut f = FlashFetch::for_board(&board(acc)).unwrap();
        let mut b = straight(&f, 0x0800_0000);
        // First unit: 6; the second was prefetched during the 4 cycles of the first: 2.
        assert_eq!(f.charge(&mut b), 8);
    }

    #[test]
    fn data_reads_pay_per_unit_missed() {
        // No accelerator: a read buffer of one 8-byte unit.
        let mut f = FlashFetch::for_board(&board("")).unwrap();
        assert_eq!(f.data_read(0x0800_0100..0x0800_0101), 6);
        assert_eq!(f.data_read(0x0800_0101..0x0800_0102), 0, "same unit");
        assert_eq!(
            f.data_read(0x0800_0106..0x0800_010A),
            6,
            "straddles into the next unit"
        );
        assert_eq!(
            f.data_read(0x0800_0100..0x0800_0101),
            6,
            "the buffer holds one unit"
        );
        // A data cache keeps a small table resident.
        let acc = "[flash_accelerator]\nkind = \"art\"\nfetch_bytes = 8\ndcache_lines = 8\ndcache_line_bytes = 32\n";
        let mut f = FlashFetch::for_board(&board(acc)).unwrap();
        let first: u32 = (0..64)
            .map(|i| f.data_read(0x0800_0200 + i..0x0800_0201 + i))
            .sum();
        assert_eq!(first, 12, "two 32-byte lines");
        let again: u32 = (0..64)
            .map(|i| f.data_read(0x0800_0200 + i..0x0800_0201 + i))
            .sum();
        assert_eq!(again, 0);
    }

    #[test]
    fn an_instruction_cache_makes_a_warm_loop_free() {
        let acc = "[flash_accelerator]\nkind = \"art\"\nfetch_bytes = 8\nprefetch = true\nicache_lines = 32\nicache_line_bytes = 32\n";
        let mut f = FlashFetch::for_board(&board(acc)).unwrap();
        let mut b = straight(&f, 0x0800_0000);
        assert!(f.charge(&mut b) > 0, "cold");
        assert_eq!(f.charge(&mut b), 0, "warm");
        // Code larger than the cache keeps missing.
        let mut blocks: Vec<BlockFetch> = (0..64)
            .map(|i| straight(&f, 0x0800_0000 + i * 32))
            .collect();
        for round in 0..2 {
            let wait: u32 = blocks.iter_mut().map(|b| f.charge(b)).sum();
            assert!(
                wait > 0,
                "round {round}: 2 KiB of code thrashes a 1 KiB cache"
            );
        }
    }
}
