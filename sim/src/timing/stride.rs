//! Learning the address pattern of a load, so its flash wait states can be charged per block
//! instead of by a callback per execution.
//!
//! A load in a kernel's inner loop walks memory with a constant stride, and often restarts
//! after a fixed number of steps (a filter re-read for every output, the next row of a
//! matrix): addresses `a, a+s, ..., a+(L-1)s, a+(L-1)s+J, ...`. [`learn`] finds `s`, `L` and
//! `J` from a run of observed addresses, or says the load follows no such pattern (it then
//! stays watched, exactly). [`Predictor`] replays the pattern.

/// A load's address pattern: `run` accesses `stride` apart, then one step of `jump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    /// Bytes between consecutive accesses within a run.
    pub stride: i32,
    /// Accesses per run (`u32::MAX`: the stride never changes).
    pub run: u32,
    /// Bytes from the last access of a run to the first of the next.
    pub jump: i32,
}

/// The pattern the addresses follow exactly, if any; needs at least two full runs.
pub fn learn(addrs: &[u32]) -> Option<Pattern> {
    if addrs.len() < 4 {
        return None;
    }
    let deltas: Vec<i32> = addrs
        .windows(2)
        .map(|w| w[1].wrapping_sub(w[0]) as i32)
        .collect();
    let stride = deltas[0];
    let Some(first_jump) = deltas.iter().position(|&d| d != stride) else {
        return Some(Pattern {
            stride,
            run: u32::MAX,
            jump: stride,
        });
    };
    let run = first_jump + 1;
    let jump = deltas[first_jump];
    // Two whole runs at least, and every delta where the pattern says.
    if deltas.len() < 2 * run {
        return None;
    }
    let fits = deltas.iter().enumerate().all(|(i, &d)| {
        let expected = if (i + 1) % run == 0 { jump } else { stride };
        d == expected
    });
    fits.then_some(Pattern {
        stride,
        run: run as u32,
        jump,
    })
}

/// Replays a pattern from the last observed access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Predictor {
    pattern: Pattern,
    /// The address of the last access.
    last: u32,
    /// Its position within its run (0-based).
    position: u32,
    /// Bytes each access reads.
    len: u32,
}

impl Predictor {
    /// A predictor continuing after `observed` (the addresses `pattern` was learned from).
    pub fn after(pattern: Pattern, observed: &[u32], len: u32) -> Predictor {
        let n = observed.len() as u32;
        Predictor {
            pattern,
            last: observed.last().copied().unwrap_or(0),
            position: if pattern.run == u32::MAX {
                0
            } else {
                (n - 1) % pattern.run
            },
            len,
        }
    }

    /// The bytes the next access reads.
    pub fn next_span(&mut self) -> std::ops::Range<u32> {
        let p = self.pattern;
        if p.run != u32::MAX && self.position + 1 == p.run {
            self.last = self.last.wrapping_add(p.jump as u32);
            self.position = 0;
        } else {
            self.last = self.last.wrapping_add(p.stride as u32);
            self.position += 1;
        }
        self.last..self.last.wrapping_add(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_constant_stride() {
        let a: Vec<u32> = (0..16).map(|i| 0x0800_0000 + 4 * i).collect();
        let p = learn(&a).unwrap();
        assert_eq!((p.stride, p.run), (4, u32::MAX));
        let mut pred = Predictor::after(p, &a, 4);
        assert_eq!(pred.next_span(), 0x0800_0040..0x0800_0044);
    }

    #[test]
    fn learns_a_re_read_filter() {
        // A 9-byte filter read again for every output: stride 1, run 9, jump back 8.
        let a: Vec<u32> = (0..40).map(|i| 0x0800_1000 + (i % 9)).collect();
        let p = learn(&a).unwrap();
        assert_eq!(
            p,
            Pattern {
                stride: 1,
                run: 9,
                jump: -8
            }
        );
        let mut pred = Predictor::after(p, &a, 1);
        let next: Vec<u32> = (0..12)
            .map(|_| pred.next_span().start - 0x0800_1000)
            .collect();
        assert_eq!(next, [4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn refuses_irregular_addresses() {
        assert_eq!(learn(&[0, 4, 8, 20, 24, 30, 31, 40]), None);
        // One run only is not enough to trust a jump.
        assert_eq!(learn(&[0, 1, 2, 3, 100, 101]), None);
    }
}
