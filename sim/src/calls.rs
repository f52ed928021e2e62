//! The shadow call stack: calls and returns followed from the block stream, for attribution
//! when the firmware has no markers (see `Machine::track_calls`).
//!
//! Each block is classified once, when it is first seen, by its last instruction
//! ([`Exit`]): a call (BL, BLX), a direct branch to a function's entry (a tail call), an
//! instruction that may return (BX, POP or LDM with the PC, LDR PC, MOV PC), or none of these.
//! The next block entered then says what happened:
//! - after a call, a block at the return address means the call was not taken (a conditional
//!   BL in an IT block); any other block is the callee's entry, and a frame opens, keeping the
//!   stack pointer the callee started with;
//! - after a tail call to its target, the innermost frame becomes the target's, with the same
//!   return address and stack pointer;
//! - a block at the innermost frame's return address returns from it (whatever jumped there);
//! - after a possible return to anywhere else, the frames that have certainly returned close:
//!   down to the innermost frame whose return address it is, or, if none, every frame whose
//!   entry stack pointer is at or below the stack pointer now (their stack is gone: a return
//!   through a modified LR as in `__gnu_thumb1_case_*`, an indirect tail call, `longjmp`).
//!
//! Exception entry opens a frame for the handler; the exception return closes it, and every
//! frame the handler left open, whatever address it returns to (a context switch). The work
//! per block is a comparison or two; calls and returns update a node of the call tree.

use mcusim_traces::{CallNode, Cycles, ProbeId};
use rustc_hash::{FxHashMap, FxHashSet};

/// The deepest the shadow stack goes: deeper calls (runaway recursion, a context switch that
/// never returns) are not followed, so the tracker's memory stays bounded.
const MAX_DEPTH: usize = 4096;

/// How a block ends, for the call tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Exit {
    /// Falls through or branches within its function.
    #[default]
    Plain,
    /// A call returning to this address (the block's end).
    Call(u32),
    /// A direct branch to this function entry: a tail call when taken.
    TailCall(u32),
    /// An instruction that may return from a function.
    Return,
}

struct Frame {
    node: u32,
    ret: u32,
    /// The stack pointer when the function was entered (0 for the root frame).
    sp: u32,
    entry: Cycles,
    instructions: u64,
    /// The outermost open call of a watched function.
    watched: bool,
    /// The function the frame's call entered: what a watched call's return reports, even after
    /// a tail call made the frame another function's.
    called: u32,
    /// A handler's frame, opened by exception entry: only the exception return closes it.
    exception: bool,
    /// Opened by a tail call: when it closes, the frame that made the tail call does too.
    tail: bool,
}

/// A watched call began or returned: (probe, function entry address).
pub(crate) type WatchEvent = (ProbeId, u32);

pub(crate) struct CallTracker {
    stack: Vec<Frame>,
    nodes: Vec<CallNode>,
    children: FxHashMap<(u32, u32), u32>,
    /// How the last block ended.
    pub(crate) pending: Exit,
    watched: FxHashSet<u32>,
    /// Function entry addresses, sorted: the targets that make a branch a tail call.
    functions: Vec<u32>,
    watched_open: bool,
    pub(crate) call_probe: ProbeId,
    pub(crate) return_probe: ProbeId,
}

impl CallTracker {
    pub(crate) fn new(
        root: u32,
        watched: FxHashSet<u32>,
        mut functions: Vec<u32>,
        call_probe: ProbeId,
        return_probe: ProbeId,
    ) -> CallTracker {
        functions.iter_mut().for_each(|f| *f &= !1);
        functions.sort_unstable();
        functions.dedup();
        CallTracker {
            stack: vec![Frame {
                node: 0,
                ret: u32::MAX,
                sp: 0,
                entry: Cycles::ZERO,
                instructions: 0,
                watched: false,
                called: root & !1,
                exception: false,
                tail: false,
            }],
            nodes: vec![CallNode {
                function: root & !1,
                parent: None,
                calls: 0,
                cycles: 0,
                instructions: 0,
            }],
            children: FxHashMap::default(),
            pending: Exit::Plain,
            watched,
            functions,
            watched_open: false,
            call_probe,
            return_probe,
        }
    }

    /// How a block whose last instruction is `insn` at `pc`, ending at `end`, ends.
    pub(crate) fn classify(&self, insn: &[u8], pc: u32, end: u32) -> Exit {
        if crate::thumb::is_call(insn) {
            Exit::Call(end)
        } else if crate::thumb::may_return(insn) {
            Exit::Return
        } else {
            match crate::thumb::branch_target(insn, pc) {
                Some(t) if self.functions.binary_search(&t).is_ok() => Exit::TailCall(t),
                _ => Exit::Plain,
            }
        }
    }

    fn top_ret(&self) -> u32 {
        self.stack.last().map_or(u32::MAX, |f| f.ret)
    }

    /// Whether [`CallTracker::block`] at `addr` needs the stack pointer: at a call's entry and
    /// after a possible return elsewhere than the innermost return address. Rare, so the
    /// register is read only then.
    #[inline]
    pub(crate) fn needs_sp(&self, addr: u32) -> bool {
        match self.pending {
            Exit::Call(ret) => addr != ret,
            Exit::Return => addr != self.top_ret(),
            _ => false,
        }
    }

    /// A block starts at `addr` at time `now` with `instructions` retired; `sp` is the stack
    /// pointer if [`CallTracker::needs_sp`] said so (else anything).
    #[inline]
    pub(crate) fn block(
        &mut self,
        addr: u32,
        now: Cycles,
        instructions: u64,
        sp: u32,
    ) -> Option<WatchEvent> {
        match std::mem::take(&mut self.pending) {
            Exit::Plain => {}
            // Back at the return address at once: a conditional call not taken.
            Exit::Call(ret) if ret == addr => return None,
            Exit::Call(ret) => return self.call(addr, ret, sp, now, instructions, false),
            Exit::TailCall(target) if target == addr => {
                self.tail_call(addr, now, instructions);
                return None;
            }
            Exit::TailCall(_) => {}
            Exit::Return if addr != self.top_ret() => {
                return self.unwind(addr, sp, now, instructions);
            }
            Exit::Return => {}
        }
        // The root frame's return address is never a block's.
        if self.top_ret() == addr {
            return self.pop(now, instructions);
        }
        None
    }

    /// Exception entry to `handler`, preempting the code at `ret` whose stack pointer was
    /// `sp`; the handler starts with `handler_sp`.
    pub(crate) fn exception(
        &mut self,
        handler: u32,
        ret: u32,
        sp: u32,
        handler_sp: u32,
        now: Cycles,
        instructions: u64,
    ) -> Option<WatchEvent> {
        // The preempted code had reached `ret`: what the last block did (a call, a return)
        // happened. When `ret` runs after the handler, it is an ordinary block.
        let event = self.block(ret, now, instructions, sp);
        let handler_event = self.call(handler, ret, handler_sp, now, instructions, true);
        event.or(handler_event)
    }

    /// An exception return: the innermost handler's frame closes with every frame above it.
    pub(crate) fn exception_return(
        &mut self,
        now: Cycles,
        instructions: u64,
    ) -> Option<WatchEvent> {
        self.pending = Exit::Plain;
        let at = self.stack.iter().rposition(|f| f.exception)?;
        self.pop_to(at, now, instructions)
    }

    fn call(
        &mut self,
        function: u32,
        ret: u32,
        sp: u32,
        now: Cycles,
        instructions: u64,
        exception: bool,
    ) -> Option<WatchEvent> {
        if self.stack.len() >= MAX_DEPTH {
            return None;
        }
        let function = function & !1;
        let node = self.node(function);
        let watched = !self.watched_open && self.watched.contains(&function);
        self.watched_open |= watched;
        self.stack.push(Frame {
            node,
            ret: ret & !1,
            sp,
            entry: now,
            instructions,
            watched,
            called: function,
            exception,
            tail: false,
        });
        watched.then_some((self.call_probe, function))
    }

    /// The call-tree node of `function` under the innermost frame's.
    fn node(&mut self, function: u32) -> u32 {
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
        node
    }

    /// The innermost function branched to `function`'s entry: a call of `function` nested in
    /// the one that made the tail call, returning where it would have (as the source reads:
    /// the caller's inclusive time holds the callee's), closing with it. A tail call from a
    /// tail-called function replaces it, so chains of tail calls stay one frame deep. A
    /// handler's tail call opens a frame above the handler's that its exception return closes.
    fn tail_call(&mut self, function: u32, now: Cycles, instructions: u64) {
        let Some(top) = self.stack.last() else {
            return;
        };
        let (ret, sp) = if top.exception {
            // Never below the stack pointer, never a block's address: only the exception
            // return closes it.
            (u32::MAX, u32::MAX)
        } else if self.stack.len() < 2 {
            return;
        } else {
            (top.ret, top.sp)
        };
        if top.tail
            && let Some(frame) = self.stack.pop()
        {
            self.close(&frame, now, instructions);
        }
        if self.stack.len() >= MAX_DEPTH {
            return;
        }
        let node = self.node(function);
        self.stack.push(Frame {
            node,
            ret,
            sp,
            entry: now,
            instructions,
            watched: false,
            called: function,
            exception: false,
            tail: ret != u32::MAX,
        });
    }

    /// After a possible return to `addr` (not the innermost return address) with the stack
    /// pointer at `sp`: close the frames that have returned.
    fn unwind(&mut self, addr: u32, sp: u32, now: Cycles, instructions: u64) -> Option<WatchEvent> {
        // Frames of the running handler (or of thread code) only: never past a handler's.
        let floor = self.stack.iter().rposition(|f| f.exception).unwrap_or(0) + 1;
        if let Some(at) = self.stack[floor..].iter().rposition(|f| f.ret == addr) {
            return self.pop_to(floor + at, now, instructions);
        }
        let mut at = self.stack.len();
        while at > floor && self.stack[at - 1].sp <= sp {
            at -= 1;
        }
        if at == self.stack.len() {
            return None;
        }
        self.pop_to(at, now, instructions)
    }

    /// Closes the frames from the innermost down to index `at`, inclusive.
    fn pop_to(&mut self, at: usize, now: Cycles, instructions: u64) -> Option<WatchEvent> {
        let at = at.max(1);
        let mut event = None;
        while self.stack.len() > at {
            event = self.pop(now, instructions).or(event);
        }
        event
    }

    fn pop(&mut self, now: Cycles, instructions: u64) -> Option<WatchEvent> {
        let mut event = None;
        loop {
            if self.stack.len() < 2 {
                return event;
            }
            let Some(frame) = self.stack.pop() else {
                return event;
            };
            event = self.close(&frame, now, instructions).or(event);
            if !frame.tail {
                return event;
            }
        }
    }

    fn close(&mut self, frame: &Frame, now: Cycles, instructions: u64) -> Option<WatchEvent> {
        let node = &mut self.nodes[frame.node as usize];
        node.calls += 1;
        node.cycles += (now - frame.entry).0;
        node.instructions += instructions - frame.instructions;
        if frame.watched {
            self.watched_open = false;
            return Some((self.return_probe, frame.called));
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

    fn tracker(watched: &[u32], functions: &[u32]) -> CallTracker {
        CallTracker::new(
            0x100,
            watched.iter().copied().collect(),
            functions.to_vec(),
            ProbeId(7),
            ProbeId(8),
        )
    }

    #[test]
    fn calls_nest_and_return_to_their_callers() {
        let mut t = tracker(&[0x200], &[]);
        // main at 0x100 calls 0x200 (watched) from 0x104, which calls 0x300 from 0x204.
        t.pending = Exit::Call(0x105);
        assert_eq!(
            t.block(0x200, Cycles(10), 5, 0x1000),
            Some((ProbeId(7), 0x200))
        );
        t.pending = Exit::Call(0x205);
        assert_eq!(t.block(0x300, Cycles(20), 8, 0xFF0), None);
        assert_eq!(t.block(0x310, Cycles(25), 9, 0), None);
        // 0x300 returns, then 0x200 returns.
        t.pending = Exit::Return;
        assert_eq!(t.block(0x204, Cycles(40), 12, 0), None);
        t.pending = Exit::Return;
        assert_eq!(t.block(0x104, Cycles(50), 15, 0), Some((ProbeId(8), 0x200)));
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
        t.pending = Exit::Call(0x105);
        t.block(0x200, Cycles(70), 25, 0x1000);
        t.block(0x104, Cycles(75), 27, 0);
        assert_eq!(t.tree(Cycles(80), 30)[1].calls, 2);
    }

    #[test]
    fn a_conditional_call_not_taken_opens_no_frame() {
        let mut t = tracker(&[], &[]);
        t.pending = Exit::Call(0x10C);
        assert_eq!(t.block(0x10C, Cycles(5), 3, 0), None);
        assert_eq!(t.stack.len(), 1);
        assert_eq!(t.tree(Cycles(9), 4).len(), 1);
    }

    #[test]
    fn a_watched_call_inside_another_is_not_reported() {
        let mut t = tracker(&[0x200, 0x300], &[]);
        t.pending = Exit::Call(0x105);
        assert!(t.block(0x200, Cycles(1), 1, 0x1000).is_some());
        t.pending = Exit::Call(0x205);
        assert!(t.block(0x300, Cycles(2), 2, 0xFF8).is_none());
        assert!(t.block(0x204, Cycles(3), 3, 0).is_none());
        assert!(t.block(0x104, Cycles(4), 4, 0).is_some());
    }

    #[test]
    fn a_return_elsewhere_closes_the_frames_whose_stack_is_gone() {
        let mut t = tracker(&[0x200], &[]);
        // main calls 0x200 (sp 0x1000), which calls a case-table helper at 0x400 (sp 0xFE0)
        // that returns past its call site.
        t.pending = Exit::Call(0x105);
        t.block(0x200, Cycles(10), 1, 0x1000);
        t.pending = Exit::Call(0x209);
        t.block(0x400, Cycles(20), 2, 0xFE0);
        t.pending = Exit::Return;
        assert_eq!(t.block(0x210, Cycles(30), 3, 0xFE0), None);
        assert_eq!(
            t.stack.len(),
            2,
            "the helper's frame closed, its caller's stays"
        );
        // A longjmp back into main closes the rest.
        t.pending = Exit::Return;
        assert_eq!(
            t.block(0x150, Cycles(40), 4, 0x1000),
            Some((ProbeId(8), 0x200))
        );
        assert_eq!(t.stack.len(), 1);
    }

    #[test]
    fn a_return_past_a_lost_frame_finds_its_caller() {
        let mut t = tracker(&[], &[]);
        t.pending = Exit::Call(0x105);
        t.block(0x200, Cycles(10), 1, 0x1000);
        t.pending = Exit::Call(0x205);
        t.block(0x300, Cycles(20), 2, 0xFF0);
        // 0x300 returns straight to main's call site.
        t.pending = Exit::Return;
        t.block(0x104, Cycles(30), 3, 0x1000);
        assert_eq!(t.stack.len(), 1);
    }

    #[test]
    fn a_tail_call_takes_over_the_frame() {
        let mut t = tracker(&[0x200], &[0x200, 0x500]);
        t.pending = Exit::Call(0x105);
        assert!(t.block(0x200, Cycles(10), 1, 0x1000).is_some());
        assert_eq!(
            t.classify(&[0x00, 0xF0, 0x00, 0xB8], 0x4FC, 0x500),
            Exit::TailCall(0x500)
        );
        t.pending = Exit::TailCall(0x500);
        assert_eq!(t.block(0x500, Cycles(20), 2, 0), None);
        // The tail-called function returns to main: both calls end, the layer (0x200's call)
        // with them; 0x200's inclusive time holds 0x500's.
        t.pending = Exit::Return;
        assert_eq!(t.block(0x104, Cycles(30), 3, 0), Some((ProbeId(8), 0x200)));
        assert_eq!(t.stack.len(), 1);
        let tree = t.tree(Cycles(30), 3);
        assert_eq!((tree[1].function, tree[1].cycles), (0x200, 20));
        assert_eq!(
            (tree[2].function, tree[2].cycles, tree[2].parent),
            (0x500, 10, Some(1))
        );
        // A tail call from the tail-called function replaces it: one frame deep.
        t.pending = Exit::Call(0x105);
        t.block(0x200, Cycles(40), 4, 0x1000);
        t.pending = Exit::TailCall(0x500);
        t.block(0x500, Cycles(45), 5, 0);
        t.pending = Exit::TailCall(0x600);
        t.block(0x600, Cycles(50), 6, 0);
        assert_eq!(t.stack.len(), 3);
    }

    #[test]
    fn an_exception_opens_a_frame_that_returns_to_the_preempted_code() {
        let mut t = tracker(&[], &[]);
        // A call made, and an interrupt taken before the callee's first block.
        t.pending = Exit::Call(0x105);
        t.exception(0x400, 0x200, 0x1000, 0xFE0, Cycles(10), 3);
        // The handler returns into the callee, which then returns.
        t.pending = Exit::Return;
        t.exception_return(Cycles(30), 9);
        t.block(0x200, Cycles(30), 9, 0);
        t.pending = Exit::Return;
        t.block(0x104, Cycles(40), 12, 0x1000);
        let tree = t.tree(Cycles(40), 12);
        assert_eq!((tree[1].function, tree[1].cycles), (0x200, 30));
        assert_eq!(
            (tree[2].function, tree[2].cycles, tree[2].parent),
            (0x400, 20, Some(1))
        );
    }

    #[test]
    fn an_exception_at_a_return_address_does_not_lose_the_return() {
        let mut t = tracker(&[], &[]);
        t.pending = Exit::Call(0x105);
        t.block(0x200, Cycles(10), 1, 0x1000);
        // 0x200 returns; an interrupt is taken just as the caller's block at 0x104 starts.
        t.pending = Exit::Return;
        t.exception(0x400, 0x104, 0x1000, 0xFE0, Cycles(20), 2);
        t.exception_return(Cycles(30), 3);
        t.block(0x104, Cycles(30), 3, 0);
        assert_eq!(t.stack.len(), 1);
        assert_eq!(t.tree(Cycles(30), 3)[1].cycles, 10);
    }

    #[test]
    fn a_handler_tail_call_counts_and_ends_with_the_handler() {
        let mut t = tracker(&[], &[0x500]);
        t.exception(0x400, 0x150, 0x1000, 0xFE0, Cycles(10), 1);
        t.pending = Exit::TailCall(0x500);
        t.block(0x500, Cycles(15), 2, 0);
        t.pending = Exit::Return;
        t.exception_return(Cycles(20), 3);
        t.block(0x150, Cycles(20), 3, 0x1000);
        assert_eq!(t.stack.len(), 1);
        let tree = t.tree(Cycles(20), 3);
        assert_eq!(
            (tree[2].function, tree[2].calls, tree[2].cycles),
            (0x500, 1, 5)
        );
        assert_eq!(tree[2].parent, Some(1));
    }

    #[test]
    fn a_context_switch_closes_the_handler_frame() {
        let mut t = tracker(&[], &[]);
        t.exception(0x400, 0x150, 0x1000, 0xFE0, Cycles(10), 1);
        // PendSV returns into another thread.
        t.pending = Exit::Return;
        t.exception_return(Cycles(20), 2);
        t.block(0x900, Cycles(20), 2, 0x2000);
        assert_eq!(t.stack.len(), 1);
    }
}
