//! The memory rules of load pairs, applied as the code runs, where the cycle model needs to
//! know which memory each of two neighbouring accesses reaches:
//! - M3/M4: a load (or a store) pipelines with the load before it only when both reach the
//!   same bus slave (jnk0le, STM32F103 and STM32F407: "load pipelining happens only when
//!   targeting the same memory block by all loads (e.g. SRAM1 vs SRAM2 (and CCM))"; see
//!   `CoreTiming::pipelines`). The block's static cost assumes every such pair pipelines; the
//!   saving is taken back, as a stall, for the pairs that reach two slaves (a weight in flash
//!   after an activation in SRAM, a literal after a stack load).
//! - M7: two loads dual-issue only when they reach different banks, even and odd words
//!   (jnk0le, STM32H7: "two loads (targeting dtcm or cache or both) can be dual issued if
//!   each one is targeting different bank"; see `CoreTiming::pairs_in_other_banks`). The
//!   static cost keeps them apart; the second's cost is taken off for the pairs whose words
//!   differ in address bit 2 (peripheral registers excepted).
//!
//! Where the pairs' addresses come from: each address register's value at the instruction
//! is its value at block entry plus a constant (as for the alignment checks); a pair whose
//! address cannot be followed that way keeps its static cost. Which slaves a pair reaches
//! hardly ever changes between runs of a block (a weight pointer stays in flash), so the M3/M4
//! adjustment is sampled, not computed each time: at the block's first run, then after 1, 2,
//! 4 ... up to 4,096 runs while it stays the same, and again at the next run once it changes;
//! on every report of `cargo xtask snapshot` that gives the same cycles as checking every run.
//! Banks change with every word a pointer walks (a byte loop changes bank every fourth run),
//! so the M7's is computed at every run of the block.

use super::*;

/// Longest gap between two samples of a block's M3/M4 adjustment, as a power of two of its
/// runs.
const MAX_STREAK: u32 = 12;

/// Where one access of a pair (or of a block, for contention) goes.
pub(super) enum Site {
    /// A literal (PC-relative) load: known from the code.
    Fixed(u32),
    /// Through registers: the instruction and each address register's offset from its value
    /// at block entry.
    Regs {
        insn: Box<[u8]>,
        regs: Vec<(u16, i32)>,
    },
}

impl Site {
    pub(super) fn new(insn: &[u8], pc: u32, before: &[Option<i32>; 16]) -> Option<Site> {
        let decoded = timing::decode::decode(insn);
        if decoded.addr & 1 << 15 != 0 {
            return thumb::literal_access(insn, pc).map(|span| Site::Fixed(span.start));
        }
        let regs: Option<Vec<(u16, i32)>> = (0..15u16)
            .filter(|r| decoded.addr & (1 << r) != 0)
            .map(|r| before[usize::from(r)].map(|k| (r, k)))
            .collect();
        regs.filter(|r| !r.is_empty()).map(|regs| Site::Regs {
            insn: insn.into(),
            regs,
        })
    }

    /// The registers it needs, as a mask.
    pub(super) fn needs(&self) -> u16 {
        match self {
            Site::Fixed(_) => 0,
            Site::Regs { regs, .. } => regs.iter().fold(0, |m, (r, _)| m | 1 << r),
        }
    }

    /// Its address from the registers at block entry.
    fn address(&self, entry: &[u32; 16]) -> Option<u32> {
        self.span(entry).map(|span| span.start)
    }

    /// The bytes it reaches, from the registers at block entry.
    pub(super) fn span(&self, entry: &[u32; 16]) -> Option<std::ops::Range<u32>> {
        match self {
            Site::Fixed(a) => Some(*a..a.wrapping_add(4)),
            Site::Regs { insn, regs } => {
                let value = |r: u16| {
                    let offset = regs.iter().find(|(i, _)| *i == r & 15).map_or(0, |x| x.1);
                    entry[usize::from(r & 15)].wrapping_add(offset as u32)
                };
                thumb::data_access(insn, value)
            }
        }
    }
}

/// A pair: the load before, the access after (the block's instruction `index`), and the
/// cycles at stake.
struct Pair {
    index: u16,
    first: Site,
    second: Site,
    cycles: u32,
}

/// Which rule a block's pairs follow (one per core).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PairKind {
    /// M3/M4 pipelining: the saving is lost when the two reach different slaves.
    LostApart,
    /// M7 dual issue: the second's cost is saved when the two reach different banks.
    SavedInOtherBanks,
}

/// A block's pairs and the adjustment last sampled.
pub(super) struct PairRule {
    kind: PairKind,
    pairs: Box<[Pair]>,
    needs: u16,
    /// The cycles the rule adds (M3/M4) or saves (M7) per run of the block.
    adjustment: u32,
    /// Which pairs it holds (bit `i` for `pairs[i]`, the first 64).
    held: u64,
    streak: u32,
    /// The block's run count at which to sample next.
    next_sample: u64,
}

impl PairRule {
    /// The adjustment last sampled, while the block's run count `executions` is before the
    /// next sample.
    #[inline]
    pub(super) fn until_sample(&self, executions: u64) -> Option<u32> {
        (executions < self.next_sample).then_some(self.adjustment)
    }

    /// A block's cost and stall cycles with `adjustment` applied.
    #[inline]
    pub(super) fn apply(&self, cost: u64, stall: u64, adjustment: u64) -> (u64, u64) {
        match self.kind {
            PairKind::LostApart => (cost + adjustment, stall + adjustment),
            PairKind::SavedInOtherBanks => (cost.saturating_sub(adjustment), stall),
        }
    }

    /// What a stop after `done` instructions changes in the static refund: (cost, stall),
    /// the part of the adjustment owed to the instructions that did not run.
    pub(super) fn refund_from(&self, done: usize) -> (i64, i64) {
        let owed: u32 = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(i, p)| *i < 64 && self.held & (1 << i) != 0 && usize::from(p.index) >= done)
            .map(|(_, p)| p.cycles)
            .sum();
        let owed = i64::from(owed);
        match self.kind {
            PairKind::LostApart => (owed, owed),
            PairKind::SavedInOtherBanks => (-owed, 0),
        }
    }

    /// Whether the rule holds for a pair at these addresses.
    fn holds(&self, bus: &crate::bus::Bus, a: Option<u32>, b: Option<u32>) -> bool {
        let (Some(a), Some(b)) = (a, b) else {
            return false;
        };
        let (sa, sb) = (bus.slave_at(a), bus.slave_at(b));
        match self.kind {
            PairKind::LostApart => sa.map(|s| s.0) != sb.map(|s| s.0),
            PairKind::SavedInOtherBanks => {
                let memory = |s: Option<(crate::bus::SlaveId, &crate::bus::Slave)>| {
                    s.is_some_and(|(_, s)| s.kind != RegionKind::Mmio)
                };
                (a >> 2 ^ b >> 2) & 1 == 1 && memory(sa) && memory(sb)
            }
        }
    }
}

/// The rule for a block whose instructions at `candidates` (index, cycles) pair with the load
/// before them under `kind`, if any of those pairs can be followed.
pub(super) fn pair_rule(
    kind: PairKind,
    start: u32,
    code: &[u8],
    offsets: &[u16],
    candidates: &[(u16, u32)],
) -> Option<Box<PairRule>> {
    if candidates.is_empty() {
        return None;
    }
    let followed = followed_registers(code, offsets);
    let site = |i: usize| {
        let off = usize::from(offsets[i]);
        Site::new(
            &code[off..code.len().min(off + 4)],
            start + off as u32,
            &followed[i],
        )
    };
    let pairs: Box<[Pair]> = candidates
        .iter()
        .filter_map(|&(i, cycles)| {
            let i = usize::from(i);
            Some(Pair {
                index: i as u16,
                first: site(i.checked_sub(1)?)?,
                second: site(i)?,
                cycles,
            })
        })
        .collect();
    (!pairs.is_empty()).then(|| {
        Box::new(PairRule {
            kind,
            needs: pairs
                .iter()
                .fold(0, |m, p| m | p.first.needs() | p.second.needs()),
            pairs,
            adjustment: 0,
            held: 0,
            streak: 0,
            next_sample: 0,
        })
    })
}

/// Block `b`'s adjustment this run, sampled now (see above; between samples,
/// [`PairRule::until_sample`] gives the last one).
#[cold]
pub(super) fn sample_pair_penalty(uc: &mut Uc<'_>, b: u32) -> u64 {
    let st = uc.get_data();
    let block = &st.blocks[b as usize];
    let Some(rule) = &block.pairs else { return 0 };
    let mut entry = [0u32; 16];
    for (r, v) in entry.iter_mut().enumerate() {
        if rule.needs & (1 << r) != 0 {
            *v = reg(uc, GPR[r]);
        }
    }
    let (mut adjustment, mut held) = (0, 0u64);
    for (i, p) in rule.pairs.iter().enumerate().take(64) {
        if rule.holds(&st.bus, p.first.address(&entry), p.second.address(&entry)) {
            adjustment += p.cycles;
            held |= 1 << i;
        }
    }
    let executions = block.executions;
    let st = uc.get_data_mut();
    let Some(rule) = &mut st.blocks[b as usize].pairs else {
        return 0;
    };
    let max_streak = match rule.kind {
        PairKind::LostApart => MAX_STREAK,
        PairKind::SavedInOtherBanks => 0,
    };
    rule.streak = if adjustment == rule.adjustment {
        (rule.streak + 1).min(max_streak)
    } else {
        0
    };
    rule.adjustment = adjustment;
    rule.held = held;
    rule.next_sample = executions + (1 << rule.streak);
    u64::from(adjustment)
}
