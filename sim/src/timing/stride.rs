//! Learning the address pattern of a load, so its flash wait states can be charged per block
//! instead of by a callback per execution.
//!
//! A load in a kernel's inner loop walks memory like nested loops walk an array: a constant
//! stride for some steps, then one different step (the next row, or back to the start of a
//! filter that is read again for every output), and that whole run repeated some times before
//! a step of its own (the next output channel, the next pixel), and so on. The addresses are
//! those of a mixed-radix counter: level 0 counts accesses `stride` apart; when it wraps,
//! level 1 advances by its own step instead, and so on up. [`learn`] finds the levels (up to
//! [`MAX_LEVELS`]) and where the first observed access stood in each, from a run of observed
//! addresses, or says they follow no such pattern (the load then stays watched, exactly).
//! [`Predictor`] replays the pattern.

/// The most nested levels a pattern has (the outermost never wraps).
pub const MAX_LEVELS: usize = 4;

/// A load's address pattern: level `k` advances by `step[k]` bytes, `count[k]` times per
/// advance of level `k + 1` (`u32::MAX` for the outermost level, which never wraps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    pub levels: u8,
    pub step: [i32; MAX_LEVELS],
    pub count: [u32; MAX_LEVELS],
}

impl Pattern {
    /// One stride, never changing.
    pub fn constant(stride: i32) -> Pattern {
        let mut p = Pattern {
            levels: 1,
            step: [0; MAX_LEVELS],
            count: [u32::MAX; MAX_LEVELS],
        };
        p.step[0] = stride;
        p
    }
}

/// Where an access stands in each level of its pattern.
type Position = [u32; MAX_LEVELS];

/// The most common value of a non-empty sequence (the first seen among equals).
fn mode(seq: &[i32]) -> i32 {
    let mut counts: Vec<(i32, usize)> = Vec::new();
    for &d in seq {
        match counts.iter_mut().find(|(v, _)| *v == d) {
            Some((_, n)) => *n += 1,
            None => counts.push((d, 1)),
        }
        if counts.len() > 64 {
            // Far too irregular to be a nested loop.
            break;
        }
    }
    counts
        .iter()
        .fold(
            (seq[0], 0),
            |best, &(v, n)| if n > best.1 { (v, n) } else { best },
        )
        .0
}

/// Advances `pos` by one access of `p`; returns the step taken.
fn advance(p: &Pattern, pos: &mut Position) -> i32 {
    let top = usize::from(p.levels) - 1;
    for (k, at) in pos.iter_mut().enumerate().take(top) {
        if *at + 1 < p.count[k] {
            *at += 1;
            return p.step[k];
        }
        *at = 0;
    }
    pos[top] = pos[top].wrapping_add(1);
    p.step[top]
}

/// The pattern the addresses follow exactly, with the position of the last one, if any.
/// Every level that wraps must have been seen wrapping at least twice, so a pattern is never
/// guessed from one run.
pub fn learn(addrs: &[u32]) -> Option<Pattern> {
    learn_with_position(addrs).map(|(p, _)| p)
}

fn learn_with_position(addrs: &[u32]) -> Option<(Pattern, Position)> {
    if addrs.len() < 4 {
        return None;
    }
    let deltas: Vec<i32> = addrs
        .windows(2)
        .map(|w| w[1].wrapping_sub(w[0]) as i32)
        .collect();
    let mut p = Pattern::constant(0);
    let mut start: Position = [0; MAX_LEVELS];
    // The steps seen at this level, in order; each level's wraps are the steps that differ
    // from its own.
    let mut seq = deltas;
    for (level, first) in start.iter_mut().enumerate() {
        let step = mode(&seq);
        p.step[level] = step;
        p.levels = level as u8 + 1;
        let wraps: Vec<usize> = (0..seq.len()).filter(|&i| seq[i] != step).collect();
        if wraps.is_empty() {
            break;
        }
        if level + 1 == MAX_LEVELS || wraps.len() < 2 {
            return None;
        }
        // A level wraps once every `count` advances.
        let count = wraps[1] - wraps[0];
        if wraps.windows(2).any(|w| w[1] - w[0] != count) || wraps[0] >= count {
            return None;
        }
        p.count[level] = count as u32;
        // Before the first wrap the level stood `wraps[0]` advances short of its last value.
        *first = (count - 1 - wraps[0]) as u32;
        seq = wraps.iter().map(|&i| seq[i]).collect();
    }
    // Replay from the first address: every address where the pattern says.
    let mut pos = start;
    let mut at = addrs[0];
    for &next in &addrs[1..] {
        at = at.wrapping_add(advance(&p, &mut pos) as u32);
        if at != next {
            return None;
        }
    }
    Some((p, pos))
}

/// Replays a pattern from the last observed access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Predictor {
    pattern: Pattern,
    /// The address of the last access.
    last: u32,
    /// Its position in each level.
    position: Position,
    /// Bytes each access reads.
    len: u32,
}

impl Predictor {
    /// Learns the pattern of `observed` (see [`learn`]) and continues after its last access,
    /// each access reading `len` bytes.
    pub fn learn(observed: &[u32], len: u32) -> Option<Predictor> {
        let (pattern, position) = learn_with_position(observed)?;
        Some(Predictor {
            pattern,
            last: *observed.last()?,
            position,
            len,
        })
    }

    /// The bytes the next access reads.
    pub fn next_span(&mut self) -> std::ops::Range<u32> {
        let step = advance(&self.pattern, &mut self.position);
        self.last = self.last.wrapping_add(step as u32);
        self.last..self.last.wrapping_add(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn predict(addrs: &[u32], n: usize) -> Vec<u32> {
        let mut pred = Predictor::learn(addrs, 1).expect("a pattern");
        (0..n).map(|_| pred.next_span().start).collect()
    }

    #[test]
    fn learns_a_constant_stride() {
        let a: Vec<u32> = (0..16).map(|i| 0x0800_0000 + 4 * i).collect();
        let p = learn(&a).unwrap();
        assert_eq!(p, Pattern::constant(4));
        let mut pred = Predictor::learn(&a, 4).unwrap();
        assert_eq!(pred.next_span(), 0x0800_0040..0x0800_0044);
    }

    #[test]
    fn learns_a_re_read_filter() {
        // A 9-byte filter read again for every output: stride 1, run 9, jump back 8.
        let a: Vec<u32> = (0..40).map(|i| 0x0800_1000 + (i % 9)).collect();
        let p = learn(&a).unwrap();
        assert_eq!((p.levels, p.step[0], p.count[0], p.step[1]), (2, 1, 9, -8));
        let next: Vec<u32> = predict(&a, 12).iter().map(|x| x - 0x0800_1000).collect();
        assert_eq!(next, [4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn learns_nested_loops_from_any_phase() {
        // The KWS convolution's weight loads: 5 reads 8 apart, then the next row 48 on, 64
        // rows, then back to the first filter for the next output.
        let addr = |i: u32| 0x0800_4000 + (i % 5) * 8 + ((i / 5) % 64) * 80;
        for phase in [0, 3, 17, 322] {
            let a: Vec<u32> = (phase..phase + 700).map(addr).collect();
            let p = learn(&a).unwrap_or_else(|| panic!("phase {phase}"));
            assert_eq!(p.levels, 3);
            let expected: Vec<u32> = (phase + 700..phase + 1400).map(addr).collect();
            assert_eq!(predict(&a, 700), expected, "phase {phase}");
        }
    }

    #[test]
    fn refuses_irregular_addresses() {
        assert_eq!(learn(&[0, 4, 8, 20, 24, 30, 31, 40]), None);
        // One run only is not enough to trust a jump.
        assert_eq!(learn(&[0, 1, 2, 3, 100, 101]), None);
        // Nor one outer run.
        let a: Vec<u32> = (0..14).map(|i| (i % 3) * 4 + (i / 3 % 4) * 100).collect();
        assert_eq!(learn(&a), None);
    }

    proptest! {
        /// A walk of three nested levels, seen for three outer runs from any phase, is
        /// learned and predicted exactly from then on.
        #[test]
        fn nested_walks_are_predicted(
            s0 in -64i32..64, c0 in 2u32..9,
            j1 in -4096i32..4096, c1 in 2u32..9,
            j2 in -65536i32..65536,
            phase in 0u32..200,
        ) {
            // The steps taken within a run, at the end of a run, and at the end of a group.
            let wrap1 = j1 - (c0 as i32 - 1) * s0;
            let wrap2 = j2 - (c1 as i32 - 1) * j1 - (c0 as i32 - 1) * s0;
            prop_assume!(s0 != wrap1 && s0 != wrap2 && wrap1 != wrap2);
            let addr = |i: u32| {
                let (a, b, c) = ((i % c0) as i32, (i / c0 % c1) as i32, (i / (c0 * c1)) as i32);
                0x0810_0000u32.wrapping_add((a * s0 + b * j1 + c * j2) as u32)
            };
            let n = 3 * c0 * c1;
            let a: Vec<u32> = (phase..phase + n).map(addr).collect();
            let pred = Predictor::learn(&a, 1);
            prop_assert!(pred.is_some());
            let mut pred = pred.unwrap();
            for i in phase + n..phase + 2 * n {
                prop_assert_eq!(pred.next_span().start, addr(i));
            }
        }
    }
}
