//! The memory rule of M3/M4 load pipelining, applied as the code runs: a load (or a store)
//! pipelines with the load before it only when both reach the same bus slave (jnk0le,
//! STM32F103 and STM32F407: "load pipelining happens only when targeting the same memory
//! block by all loads (e.g. SRAM1 vs SRAM2 (and CCM))"; see `CoreTiming::pipelines`). The
//! block's static cost assumes every such pair pipelines; this takes the saving back for the
//! pairs that reach two slaves (a weight in flash after an activation in SRAM, a literal
//! after a stack load).
//!
//! Where the pairs' addresses come from: each address register's value at the instruction
//! is its value at block entry plus a constant (as for the alignment checks); a pair whose
//! address cannot be followed that way keeps its saving. The slaves a pair reaches hardly
//! ever change between runs of a block (a weight pointer stays in flash), so the block's
//! penalty is sampled, not computed each time: at its first run, then after 1, 2, 4 ... up
//! to 4,096 runs while it stays the same, and again at the next run once it changes. An
//! approximation for a block that alternates between memories faster than that.

use super::*;
use crate::bus::SlaveId;

/// Longest gap between two samples of a block's penalty, as a power of two of its runs.
const MAX_STREAK: u32 = 12;

/// Where one access of a pair goes.
enum Site {
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
    fn new(insn: &[u8], pc: u32, before: &[Option<i32>; 16]) -> Option<Site> {
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
    fn needs(&self) -> u16 {
        match self {
            Site::Fixed(_) => 0,
            Site::Regs { regs, .. } => regs.iter().fold(0, |m, (r, _)| m | 1 << r),
        }
    }

    /// Its address from the registers at block entry.
    fn address(&self, entry: &[u32; 16]) -> Option<u32> {
        match self {
            Site::Fixed(a) => Some(*a),
            Site::Regs { insn, regs } => {
                let value = |r: u16| {
                    let offset = regs.iter().find(|(i, _)| *i == r & 15).map_or(0, |x| x.1);
                    entry[usize::from(r & 15)].wrapping_add(offset as u32)
                };
                thumb::data_access(insn, value).map(|span| span.start)
            }
        }
    }
}

/// A pipelined pair: the load before, the access after (the block's instruction `index`),
/// and what pipelining saved.
struct Pair {
    index: u16,
    first: Site,
    second: Site,
    saving: u32,
}

/// A block's pipelined pairs and the penalty last sampled.
pub(super) struct PairRule {
    pairs: Box<[Pair]>,
    needs: u16,
    penalty: u32,
    /// Which pairs the penalty holds (bit `i` for `pairs[i]`, the first 64).
    penalised: u64,
    streak: u32,
    /// The block's run count at which to sample next.
    next_sample: u64,
}

impl PairRule {
    /// The penalty last sampled, while the block's run count `executions` is before the next
    /// sample.
    #[inline]
    pub(super) fn until_sample(&self, executions: u64) -> Option<u32> {
        (executions < self.next_sample).then_some(self.penalty)
    }

    /// The part of the penalty owed by instructions from index `done` on (what a stop after
    /// `done` instructions gives back).
    pub(super) fn penalty_from(&self, done: usize) -> u32 {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                *i < 64 && self.penalised & (1 << i) != 0 && usize::from(p.index) >= done
            })
            .map(|(_, p)| p.saving)
            .sum()
    }
}

/// The rule for a block whose instructions at `pipelined` (index, saving) pipeline with the
/// load before them, if any of those pairs can be followed.
pub(super) fn pair_rule(
    start: u32,
    code: &[u8],
    offsets: &[u16],
    pipelined: &[(u16, u32)],
) -> Option<Box<PairRule>> {
    if pipelined.is_empty() {
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
    let pairs: Box<[Pair]> = pipelined
        .iter()
        .filter_map(|&(i, saving)| {
            let i = usize::from(i);
            Some(Pair {
                index: i as u16,
                first: site(i.checked_sub(1)?)?,
                second: site(i)?,
                saving,
            })
        })
        .collect();
    (!pairs.is_empty()).then(|| {
        Box::new(PairRule {
            needs: pairs
                .iter()
                .fold(0, |m, p| m | p.first.needs() | p.second.needs()),
            pairs,
            penalty: 0,
            penalised: 0,
            streak: 0,
            next_sample: 0,
        })
    })
}

/// The cycles block `b` loses this run to pairs that reach two slaves, sampled now (see
/// above; between samples, [`PairRule::until_sample`] gives the last one).
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
    let slave =
        |a: Option<u32>| -> Option<Option<SlaveId>> { Some(st.bus.slave_at(a?).map(|(id, _)| id)) };
    let mut penalty = 0;
    let mut penalised = 0u64;
    for (i, p) in rule.pairs.iter().enumerate() {
        let apart = match (
            slave(p.first.address(&entry)),
            slave(p.second.address(&entry)),
        ) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        if apart && i < 64 {
            penalty += p.saving;
            penalised |= 1 << i;
        }
    }
    let executions = block.executions;
    let st = uc.get_data_mut();
    let Some(rule) = &mut st.blocks[b as usize].pairs else {
        return 0;
    };
    rule.streak = if penalty == rule.penalty {
        (rule.streak + 1).min(MAX_STREAK)
    } else {
        0
    };
    rule.penalty = penalty;
    rule.penalised = penalised;
    rule.next_sample = executions + (1 << rule.streak);
    u64::from(penalty)
}
