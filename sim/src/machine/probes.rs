//! Probes (function entries recorded with the clock), the shadow call stack's set-up, block
//! snapshots and profiles, and the stack scan done at each hit: the lowest stack address
//! written since the previous hit.

use super::*;

impl Machine {
    /// Records every entry into the function at `addr` (the Thumb bit is ignored) with the clock
    /// and r0 (see [`Machine::probe_hits`]). Probes must be added before the run.
    pub fn add_probe(&mut self, addr: u32) -> ProbeId {
        let st = self.uc.get_data_mut();
        let next = ProbeId(st.probe_ids);
        let id = *st.probes.entry(addr & !1).or_insert(next);
        if id == next {
            st.probe_ids += 1;
        }
        id
    }

    /// Follows calls and returns through a shadow call stack (BL/BLX, the return to the
    /// address after them, exception entry and return) into a call tree
    /// ([`Machine::call_tree`]), and records a probe hit when a call to one of the `watched`
    /// functions begins and when it returns, for the outermost such call only: the firmware's
    /// top-level kernel calls, without markers. Returns the (call, return) probe identities,
    /// whose hits carry the function's address as `arg0`. Call before the run.
    pub fn track_calls(&mut self, watched: &[u32]) -> (ProbeId, ProbeId) {
        let entry = self.entry;
        let functions = &self.firmware.symbols;
        let st = self.uc.get_data_mut();
        let (call, ret) = (ProbeId(st.probe_ids), ProbeId(st.probe_ids + 1));
        st.probe_ids += 2;
        let watched: FxHashSet<u32> = watched.iter().map(|a| a & !1).collect();
        let functions = functions
            .iter()
            .filter(|s| s.is_function)
            .map(|s| s.addr)
            .collect();
        st.calls = Some(Box::new(CallTracker::new(
            entry, watched, functions, call, ret,
        )));
        (call, ret)
    }

    /// The call tree so far (empty unless [`Machine::track_calls`] was called): node 0 is the
    /// code run from reset; calls still open count up to now.
    pub fn call_tree(&self) -> Vec<CallNode> {
        let st = self.uc.get_data();
        st.calls
            .as_ref()
            .map_or_else(Vec::new, |c| c.tree(st.clock.now(), st.instructions))
    }

    /// Data moved by loads and stores so far.
    pub fn traffic(&self) -> Traffic {
        self.uc.get_data().traffic()
    }

    /// Watches the stack region `lo..hi` (below the initial stack pointer): fills it with `fill`
    /// now, and at every probe hit reports the lowest address written since the previous hit
    /// ([`ProbeHit::stack_low`]) and fills the free part again. Call before the run.
    ///
    /// The heap grows up from `lo` when the firmware has one: `heap_peak_at` is the address of
    /// the word where the firmware keeps its heap's highest break (mcusim's runtime:
    /// `mcusim_heap_peak`), and the scan starts above it.
    pub fn watch_stack(&mut self, lo: u32, hi: u32, fill: u8, heap_peak_at: Option<u32>) {
        if hi > lo && self.write_memory(lo, &vec![fill; (hi - lo) as usize]) {
            let st = self.uc.get_data_mut();
            st.stack_watch = Some((lo, hi, fill));
            st.heap_peak_at = heap_peak_at;
        }
    }

    /// Fills `len` bytes at `addr` with `byte` each time the function at `entry` is entered
    /// (the entry becomes a probe): memory that start-up code clears can be marked after it,
    /// to find later which bytes the run wrote. Call before the run.
    pub fn fill_on_entry(&mut self, entry: u32, addr: u32, len: u32, byte: u8) -> ProbeId {
        let probe = self.add_probe(entry);
        self.uc
            .get_data_mut()
            .entry_fills
            .push((probe, addr, len, byte));
        probe
    }

    /// The word at `addr`, if mapped.
    pub fn read_u32(&self, addr: u32) -> Option<u32> {
        let b = self.read_memory(addr, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The lowest address of the watched stack region written so far (the whole run's stack
    /// peak), or `None` without a watch.
    pub fn stack_low_water(&self) -> Option<u32> {
        let (lo, hi, fill) = stack_region(&self.uc)?;
        let now = lowest_written(&self.uc, lo, hi, fill)?;
        // Probe hits refill the free part: the lowest of their readings and this one.
        let low = self
            .uc
            .get_data()
            .probe_hits
            .iter()
            .filter_map(|h| h.stack_low)
            .min();
        Some(low.map_or(now, |l| l.min(now)))
    }

    /// Records, at every probe hit, the execution count and the cycles (`BlockCount::cycles`)
    /// of every block seen so far (indexed by
    /// [`mcusim_traces::BlockCount::id`]; blocks first seen later are missing from earlier
    /// snapshots, their count there being 0): what ran between two hits, block by block. Costs
    /// one pass over the blocks per hit. Call before the run.
    pub fn snapshot_blocks(&mut self, on: bool) {
        self.uc.get_data_mut().snapshot_blocks = on;
    }

    /// The snapshots of [`Machine::snapshot_blocks`], one per probe hit, in order: each
    /// block's (executions, cycles) at the hit, by block id.
    pub fn block_snapshots(&self) -> &[Vec<(u64, u64)>] {
        &self.uc.get_data().block_snapshots
    }

    /// Every probed function entry so far, in order.
    pub fn probe_hits(&self) -> &[ProbeHit] {
        &self.uc.get_data().probe_hits
    }
}

/// Records a hit of a watched call or return (see `CallTracker`) with the counters taken
/// when it happened, and the stack's low-water mark since the previous hit.
pub(super) fn record_watched_hit(
    uc: &mut Uc<'_>,
    probe: ProbeId,
    function: u32,
    (cycle, instructions, breakdown, traffic): (Cycles, u64, timing::Breakdown, Traffic),
) {
    let stack_low = stack_low_water(uc);
    uc.get_data_mut().record_hit(ProbeHit {
        probe,
        cycle,
        instructions,
        arg0: function,
        breakdown,
        stack_low,
        traffic,
    });
}

/// At a probe hit, with a stack region watched: the lowest address of it written since the
/// previous hit (or since the run began), found as the first byte that is no longer the fill
/// byte; then the region below the current stack pointer is filled again, so the next hit sees
/// only what ran in between. The region below SP holds nothing live.
pub(super) fn stack_low_water(uc: &mut Uc<'_>) -> Option<u32> {
    let (lo, hi, fill) = stack_region(uc)?;
    let sp = (uc.reg_read(RegisterARM::SP).unwrap_or(u64::from(hi)) as u32).clamp(lo, hi);
    let low = lowest_written(uc, lo, hi, fill)?;
    // Nothing below `low` needs filling again.
    let buf = [fill; SCAN_CHUNK as usize];
    let mut at = low;
    while at < sp {
        let n = (sp - at).min(SCAN_CHUNK);
        let _ = uc.mem_write(u64::from(at), &buf[..n as usize]);
        at += n;
    }
    Some(low)
}

/// The watched stack region, from above the heap's highest break, and its fill byte.
pub(super) fn stack_region(uc: &Uc<'_>) -> Option<(u32, u32, u8)> {
    let (lo, hi, fill) = uc.get_data().stack_watch?;
    let lo = heap_top(uc.get_data().heap_peak_at, lo, hi, |a| {
        let mut b = [0u8; 4];
        uc.mem_read(u64::from(a), &mut b).ok()?;
        Some(u32::from_le_bytes(b))
    });
    Some((lo, hi, fill))
}

/// Bytes read at a time when scanning the stack region.
pub(super) const SCAN_CHUNK: u32 = 4096;

/// The lowest address in `lo..hi` that no longer holds `fill` (`hi` if none), read upwards a
/// chunk at a time: the stack is usually a small part of the region.
pub(super) fn lowest_written(uc: &Uc<'_>, lo: u32, hi: u32, fill: u8) -> Option<u32> {
    let mut buf = [0u8; SCAN_CHUNK as usize];
    let mut low = lo;
    while low < hi {
        let n = (hi - low).min(SCAN_CHUNK);
        let chunk = &mut buf[..n as usize];
        uc.mem_read(u64::from(low), chunk).ok()?;
        if let Some(i) = first_other(chunk, fill) {
            return Some(low + i as u32);
        }
        low += n;
    }
    Some(hi)
}

/// The index of the first byte of `bytes` that is not `fill`, eight at a time.
pub(super) fn first_other(bytes: &[u8], fill: u8) -> Option<usize> {
    let word = [fill; 8];
    let clean = bytes.chunks_exact(8).take_while(|w| *w == word).count() * 8;
    bytes[clean..]
        .iter()
        .position(|&b| b != fill)
        .map(|i| clean + i)
}

/// The lowest address of the watched region above the heap: the firmware's highest heap break,
/// kept within `lo..=hi`.
pub(super) fn heap_top(
    peak_at: Option<u32>,
    lo: u32,
    hi: u32,
    read: impl Fn(u32) -> Option<u32>,
) -> u32 {
    peak_at.and_then(read).map_or(lo, |brk| brk.clamp(lo, hi))
}
