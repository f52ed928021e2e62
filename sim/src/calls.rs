//! The shadow call stack: calls and returns followed from the block stream, for attribution
//! when the firmware has no markers (see `Machine::track_calls`).
//!
//! A block that ends in BL or BLX makes the next block entered a call, returning to the
//! address after the branch; a block that starts at the return address of the innermost open
//! call returns from it. Exception entry opens a frame for the handler, returning to the
//! preempted address. Tail calls (a B to another function) stay in the caller's frame, as
//! they do on the stack. The work per block is one comparison; a call or return updates a node
//! of the call tree.

use mcusim_traces::{CallNode, Cycles, ProbeId};
use rustc_hash::{FxHashMap, FxHashSet};

/// The deepest the shadow stack goes: deeper calls (runaway recursion, a context switch that
/// never returns) are not followed, so the tracker's memory stays bounded.
const MAX_DEPTH: usize = 4096;

struct Frame {
    node: u32,
    ret: u32,
    entry: Cycles,
    instructions: u64,
    /// The outermost open call of a watched function.
    watched: bool,
}

/// A watched call began or returned: (probe, function entry address).
pub(crate) type WatchEvent = (ProbeId, u32);

pub(crate) struct CallTracker {
    stack: Vec<Frame>,
    nodes: Vec<CallNode>,
    children: FxHashMap<(u32, u32), u32>,
    /// The return address of the call the last block made (0: it made none).
    pub(crate) pending: u32,
    watched: FxHashSet<u32>,
    watched_open: bool,
    pub(crate) call_probe: ProbeId,
    pub(crate) return_probe: ProbeId,
}

impl CallTracker {
    pub(crate) fn new(
        root: u32,
        watched: FxHashSet<u32>,
        call_probe: ProbeId,
        return_probe: ProbeId,
    ) -> CallTracker {
        CallTracker {
            stack: vec![Frame {
                node: 0,
                ret: u32::MAX,
                entry: Cycles::ZERO,
                instructions: 0,
                watched: false,
            }],
            nodes: vec![CallNode {
                function: root & !1,
                parent: None,
                calls: 0,
                cycles: 0,
                instructions: 0,
            }],
            children: FxHashMap::default(),
            pending: 0,
            watched,
            watched_open: false,
            call_probe,
            return_probe,
        }
    }

    /// A block starts at `addr` at time `now` with `instructions` retired.
    #[inline]
    pub(crate) fn block(
        &mut self,
        addr: u32,
        now: Cycles,
        instructions: u64,
    ) -> Option<WatchEvent> {
        if self.pending != 0 {
            let ret = std::mem::take(&mut self.pending);
            return self.call(addr, ret, now, instructions);
        }
        // The root frame's return address is never a block's.
        if self.stack.last().is_some_and(|f| f.ret == addr) {
            return self.ret(now, instructions);
        }
        None
    }

    /// Exception entry to `handler`, preempting the code at `ret`.
    pub(crate) fn exception(
        &mut self,
        handler: u32,
        ret: u32,
        now: Cycles,
        instructions: u64,
    ) -> Option<WatchEvent> {
        // A call whose first block had not run yet opens first: the handler returns into it.
        let mut event = None;
        if self.pending != 0 {
            let call_ret = std::mem::take(&mut self.pending);
            event = self.call(ret, call_ret, now, instructions);
        }
        event.or(self.call(handler, ret, now, instructions))
    }

    fn call(
        &mut self,
        function: u32,
        ret: u32,
        now: Cycles,
        instructions: u64,
    ) -> Option<WatchEvent> {
        if self.stack.len() >= MAX_DEPTH {
            return None;
        }
        let function = function & !1;
        let parent = self.stack.last().map_or(0, |f| f.node);
        let next = self.nodes.len() as u32;
        let node = *self.children.entry((parent, function)).or_insert(next);
        if node == next {
            self.nodes.push(CallNode {
                function,
                parent: Some(parent),
                calls: 0,
                cycles: 0,
                instructions: 0,
            });
        }
        let watched = !self.watched_open && self.watched.contains(&function);
        self.watched_open |= watched;
        self.stack.push(Frame {
            node,
            ret: ret & !1,
            entry: now,
            instructions,
            watched,
        });
        watched.then_some((self.call_probe, function))
    }

    fn ret(&mut self, now: Cycles, instructions: u64) -> Option<WatchEvent> {
        let frame = self.stack.pop()?;
        let node = &mut self.nodes[frame.node as usize];
        node.calls += 1;
        node.cycles += (now - frame.entry).0;
        node.instructions += instructions - frame.instructions;
        if frame.watched {
            self.watched_open = false;
            return Some((self.return_probe, node.function));
        }
        None
    }

    /// The call tree as it stands at `now`: the calls still open count up to `now`.
    pub(crate) fn tree(&self, now: Cycles, instructions: u64) -> Vec<CallNode> {
        let mut nodes = self.nodes.clone();
        for frame in &self.stack {
            let node = &mut nodes[frame.node as usize];
            node.calls += 1;
            node.cycles += (now - frame.entry).0;
            node.instructions += instructions - frame.instructions;
        }
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_nest_and_return_to_their_callers() {
        let watched: FxHashSet<u32> = [0x200].into_iter().collect();
        let mut t = CallTracker::new(0x100, watched, ProbeId(7), ProbeId(8));
        // main at 0x100 calls 0x200 (watched) from 0x104, which calls 0x300 from 0x204.
        t.pending = 0x105;
        assert_eq!(t.block(0x200, Cycles(10), 5), Some((ProbeId(7), 0x200)));
        t.pending = 0x205;
        assert_eq!(t.block(0x300, Cycles(20), 8), None);
        assert_eq!(t.block(0x310, Cycles(25), 9), None);
        // 0x300 returns, then 0x200 returns.
        assert_eq!(t.block(0x204, Cycles(40), 12), None);
        assert_eq!(t.block(0x104, Cycles(50), 15), Some((ProbeId(8), 0x200)));
        let tree = t.tree(Cycles(60), 20);
        assert_eq!(tree.len(), 3);
        assert_eq!((tree[0].cycles, tree[0].calls), (60, 1));
        assert_eq!(
            (tree[1].function, tree[1].cycles, tree[1].calls),
            (0x200, 40, 1)
        );
        assert_eq!(
            (tree[2].function, tree[2].cycles, tree[2].parent),
            (0x300, 20, Some(1))
        );
        // A second call from the same place reuses the node.
        t.pending = 0x105;
        t.block(0x200, Cycles(70), 25);
        t.block(0x104, Cycles(75), 27);
        assert_eq!(t.tree(Cycles(80), 30)[1].calls, 2);
    }

    #[test]
    fn a_watched_call_inside_another_is_not_reported() {
        let watched: FxHashSet<u32> = [0x200, 0x300].into_iter().collect();
        let mut t = CallTracker::new(0x100, watched, ProbeId(0), ProbeId(1));
        t.pending = 0x105;
        assert!(t.block(0x200, Cycles(1), 1).is_some());
        t.pending = 0x205;
        assert!(t.block(0x300, Cycles(2), 2).is_none());
        assert!(t.block(0x204, Cycles(3), 3).is_none());
        assert!(t.block(0x104, Cycles(4), 4).is_some());
    }

    #[test]
    fn an_exception_opens_a_frame_that_returns_to_the_preempted_code() {
        let mut t = CallTracker::new(0x100, FxHashSet::default(), ProbeId(0), ProbeId(1));
        // A call made, and an interrupt taken before the callee's first block.
        t.pending = 0x105;
        t.exception(0x400, 0x200, Cycles(10), 3);
        // The handler returns into the callee, which then returns.
        t.block(0x200, Cycles(30), 9);
        t.block(0x104, Cycles(40), 12);
        let tree = t.tree(Cycles(40), 12);
        assert_eq!((tree[1].function, tree[1].cycles), (0x200, 30));
        assert_eq!(
            (tree[2].function, tree[2].cycles, tree[2].parent),
            (0x400, 20, Some(1))
        );
    }
}
