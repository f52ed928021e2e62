//! The run loop: starting unicorn, handling what the hooks asked for between runs (limits,
//! resets, retiring and parking hooks, progress, stuck checks, sleep), and turning how it ended
//! into a stop reason.

use super::*;

impl Machine {
    /// Run until the firmware exits, faults, or reaches a limit.
    pub fn run(&mut self, limits: Limits) -> RunResult {
        self.run_inner(limits, None)
    }

    /// Runs as [`Machine::run`] does, calling `report` about every `every` instructions (at a
    /// block boundary, outside the emulation) with the run so far; when it returns false the
    /// run stops with [`LimitKind::Cancelled`]. Reporting does not change any count.
    pub fn run_with_progress(
        &mut self,
        limits: Limits,
        every: u64,
        report: &mut dyn FnMut(&Progress<'_>) -> bool,
    ) -> RunResult {
        self.run_inner(limits, Some((every.max(1), report)))
    }

    fn run_inner(
        &mut self,
        limits: Limits,
        mut progress: Option<(u64, ProgressReport<'_>)>,
    ) -> RunResult {
        // The host's limits are looked at every HOST_CHECK_EVERY instructions, the report
        // made every `every`: the block hook stops at the nearer of the two.
        let deadline = limits.timeout.map(|t| std::time::Instant::now() + t);
        let mut next_report = {
            let st = self.uc.get_data_mut();
            let next = progress.as_ref().map_or(u64::MAX, |(every, _)| {
                st.instructions.saturating_add(*every)
            });
            st.progress_at = next.min(st.instructions.saturating_add(HOST_CHECK_EVERY));
            next
        };
        {
            let st = self.uc.get_data_mut();
            st.instruction_budget = limits.max_instructions.unwrap_or(u64::MAX);
            st.cycle_budget = limits.max_cycles.unwrap_or(u64::MAX);
        }
        let mut count = 0usize;
        let mut stretch: Option<LimitKind> = None;
        let mut idle_returns = 0u32;
        let stop = loop {
            let pc = reg(&self.uc, RegisterARM::PC);
            let before = self.uc.get_data().instructions;
            let result = self.uc.emu_start(u64::from(pc | 1), NO_UNTIL, 0, count);
            count = 0;
            let pc = reg(&self.uc, RegisterARM::PC);
            let st = self.uc.get_data_mut();
            if let Some(stop) = st.stop.take() {
                break stop;
            }
            if let Err(e) = result {
                let st = self.uc.get_data_mut();
                // WFE and YIELD reach unicorn as a "stop interrupt" it reports as an invalid
                // instruction, with the PC already past the hint (a real undefined instruction
                // leaves the PC on itself, inside the block).
                if e == uc_error::INSN_INVALID
                    && let Some(hint) = st.hint_ending_block_at(pc)
                {
                    st.current = None;
                    if hint == thumb::Hint::Wfe
                        && let Some(stop) = sleep(&mut self.uc, hint, pc)
                    {
                        break stop;
                    }
                    continue;
                }
                let sp = reg(&self.uc, RegisterARM::SP);
                let st = self.uc.get_data_mut();
                st.refund_from(pc);
                let stop = classify_error(st, e, pc, sp);
                // The firmware's own fault handler takes the fault, unless told otherwise.
                if !st.stop_on_fault && deliver_fault(&mut self.uc, &stop, pc) {
                    continue;
                }
                let st = self.uc.get_data_mut();
                st.stop = None;
                break stop;
            }
            if let Some(kind) = stretch {
                st.refund_from(pc);
                break limit_stop(st, kind, pc);
            }
            match st.request.take() {
                Some(Request::LimitNow(kind)) => break limit_stop(st, kind, pc),
                Some(Request::FinalStretch(n, kind)) => {
                    // Run the last few instructions counted by unicorn, then stop.
                    stretch = Some(kind);
                    st.final_stretch = true;
                    count = n as usize;
                    // unicorn counts instructions with a code hook that only blocks translated
                    // from now on carry; the run ends after this, so flushing costs nothing.
                    let _ = self.uc.ctl_flush_tb();
                    continue;
                }
                Some(Request::Reset) => {
                    st.refund_from(pc);
                    st.resets += 1;
                    for p in &mut st.peripherals {
                        // Devices come back in their reset state.
                        p.model = p.spec.build(&st.inputs);
                        p.lines = Default::default();
                    }
                    st.requests = Rc::default();
                    self.reset_core();
                    continue;
                }
                Some(Request::RetireFlashSites) => {
                    let hooks: Vec<_> = std::mem::take(&mut st.retire)
                        .into_iter()
                        .filter_map(|pc| {
                            let site = st.flash_sites.get_mut(&pc)?;
                            Some((pc, site.hook.take()?))
                        })
                        .collect();
                    for (pc, predictor) in std::mem::take(&mut st.learned_new) {
                        let check_after = st.flash_sites.get(&pc).map_or(TRUST_MAX, |s| s.trust);
                        st.learned.insert(
                            pc,
                            LearnedLoad {
                                predictor,
                                executions: 0,
                                check_after,
                            },
                        );
                        for block in &mut st.blocks {
                            let end = block.start + block.code.len() as u32;
                            if (block.start..end).contains(&pc) {
                                // In program order: the data cache sees the reads in the
                                // order the block makes them.
                                if let Err(at) = block.learned.binary_search(&pc) {
                                    block.learned.insert(at, pc);
                                }
                                block.extras = true;
                            }
                        }
                    }
                    for (pc, hook) in hooks {
                        let _ = self.uc.remove_hook(hook);
                        let _ = self.uc.ctl_remove_cache(u64::from(pc), u64::from(pc) + 4);
                    }
                    continue;
                }
                Some(Request::Sweep) => {
                    let now = st.instructions;
                    if now >= st.next_hook_sweep {
                        st.next_hook_sweep = now.saturating_add(st.sweep_every);
                        self.park_idle_hooks();
                    }
                    let st = self.uc.get_data_mut();
                    if now >= st.next_stuck_check {
                        st.next_stuck_check = now.saturating_add(STUCK_EVERY);
                        if let Some(stop) = self.stuck(pc) {
                            break stop;
                        }
                    }
                    let st = self.uc.get_data_mut();
                    st.next_sweep = st.next_hook_sweep.min(st.next_stuck_check);
                    continue;
                }
                Some(Request::Progress) => {
                    let host = if interrupt_flag().load(std::sync::atomic::Ordering::Relaxed) {
                        Some((LimitKind::Interrupted, st.instructions))
                    } else if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        Some((
                            LimitKind::Timeout,
                            limits.timeout.map_or(0, |t| t.as_secs_f64().ceil() as u64),
                        ))
                    } else {
                        None
                    };
                    if let Some((kind, limit)) = host {
                        break StopReason::Limit {
                            kind,
                            pc: Addr(pc),
                            limit,
                            symbol: None,
                        };
                    }
                    let check = st.instructions.saturating_add(HOST_CHECK_EVERY);
                    let report = match progress.as_mut() {
                        Some((every, report)) if st.instructions >= next_report => {
                            next_report = st.instructions.saturating_add(*every);
                            Some(report)
                        }
                        _ => None,
                    };
                    st.progress_at = check.min(next_report);
                    let Some(report) = report else {
                        continue;
                    };
                    let now = Progress {
                        instructions: st.instructions,
                        cycles: st.clock.now(),
                        hits: &st.probe_hits,
                    };
                    if !report(&now) {
                        break StopReason::Limit {
                            kind: LimitKind::Cancelled,
                            pc: Addr(pc),
                            limit: st.instructions,
                            symbol: None,
                        };
                    }
                    continue;
                }
                Some(Request::SleepOnExit) => {
                    if let Some(stop) = sleep(&mut self.uc, thumb::Hint::Wfi, pc) {
                        break stop;
                    }
                    continue;
                }
                None => {}
            }
            // unicorn returns after WFI/WFE (and when a counted run ends).
            st.refund_from(pc);
            let mut tail = [0u8; 4];
            let kind = if pc >= 4 && self.uc.mem_read(u64::from(pc - 4), &mut tail).is_ok() {
                thumb::hint_before(&tail)
            } else {
                let mut t2 = [0u8; 2];
                self.uc
                    .mem_read(u64::from(pc.wrapping_sub(2)), &mut t2)
                    .ok()
                    .and_then(|()| thumb::hint_before(&t2))
            };
            let st = self.uc.get_data_mut();
            if let Some(kind) = kind {
                idle_returns = 0;
                if let Some(stop) = sleep(&mut self.uc, kind, pc) {
                    break stop;
                }
                continue;
            }
            // Any other return without progress, twice in a row, would loop forever.
            if st.instructions == before {
                idle_returns += 1;
                if idle_returns > 2 {
                    break StopReason::Fault {
                        kind: FaultKind::Other,
                        pc: Addr(pc),
                        address: None,
                        message: "the emulator stopped without progress".into(),
                        symbol: None,
                        state: None,
                    };
                }
            } else {
                idle_returns = 0;
            }
        };
        self.uc.get_data_mut().console.flush();
        let mut stop = stop;
        // A fault the firmware's handler took and never recovered from (the handler faulted,
        // spins, sleeps or ran into a limit): the fault is why the run stopped.
        let ipsr = reg(&self.uc, RegisterARM::IPSR) & 0x1FF;
        let st = self.uc.get_data_mut();
        if (3..=6).contains(&ipsr)
            && !matches!(stop, StopReason::Exit { .. })
            && let Some(StopReason::Fault {
                kind,
                pc,
                address,
                message,
                state,
                ..
            }) = st.handled_fault.take()
        {
            stop = StopReason::Fault {
                kind,
                pc,
                address,
                message: format!(
                    "{message}; the firmware's fault handler took it and then: {stop}"
                ),
                symbol: None,
                state,
            };
        }
        // A fault's registers and fault status, as the core holds them at the stop.
        if matches!(stop, StopReason::Fault { state: None, .. }) {
            let state = fault_state(&self.uc, &stop);
            stop = with_state(stop, state);
        }
        if let Some(pc) = stop.pc() {
            stop.set_symbol(
                self.firmware
                    .function_at(pc.0)
                    .map(|f| format!("{}+{:#x}", mcusim_traces::demangle(&f.name), pc.0 - f.addr)),
            );
        }
        let st = self.uc.get_data();
        RunResult {
            stop,
            instructions: st.instructions,
            cycles: st.clock.now(),
            sleep_cycles: st.clock.breakdown().sleep,
            breakdown: st.clock.breakdown(),
            exceptions: st.exceptions,
            resets: st.resets,
        }
    }

    /// Parks the per-instruction hooks idle since the previous sweep (see
    /// [`Machine::set_hook_sweep`]).
    fn park_idle_hooks(&mut self) {
        let st = self.uc.get_data_mut();
        let idle_since = st.instructions.saturating_sub(st.sweep_every);
        let mut hooks = Vec::new();
        for (&pc, n) in &mut st.narrow {
            if n.last_hit < idle_since
                && let Some(h) = n.hook.take()
            {
                hooks.push((pc, h));
            }
        }
        for (&pc, site) in &mut st.flash_sites {
            if site.last_hit < idle_since
                && let Some(h) = site.hook.take()
            {
                site.parked = true;
                hooks.push((pc, h));
            }
        }
        if hooks.is_empty() {
            return;
        }
        st.parked.extend(hooks.iter().map(|&(pc, _)| pc));
        for block in &mut st.blocks {
            block.parked = holds_any(block, &st.parked);
        }
        for (pc, hook) in hooks {
            let _ = self.uc.remove_hook(hook);
            let _ = self.uc.ctl_remove_cache(u64::from(pc), u64::from(pc) + 4);
        }
    }

    /// Whether the core is stuck (see [`LimitKind::Stuck`]): the block about to run loops to
    /// itself, stores nothing, and since the last check only it ran, with the same registers
    /// at its start, no peripheral access and no exception, while no interrupt is pending or
    /// can ever become so. Checked every `STUCK_EVERY` instructions at a block boundary.
    fn stuck(&mut self, pc: u32) -> Option<StopReason> {
        let st = self.uc.get_data();
        let key = st.sweep_key;
        let b = *st.block_index.get(&key)?;
        let block = &st.blocks[b as usize];
        if !block.self_loop || block.write_bytes > 0 {
            self.uc.get_data_mut().stuck = None;
            return None;
        }
        let (n, executions) = (u64::from(block.n), block.executions);
        // A loop whose registers come back the same, which stores nothing and sees no
        // interrupt, can never leave.
        let mut regs = [0u32; 17];
        for (i, r) in GPR.iter().chain([&RegisterARM::XPSR]).enumerate() {
            regs[i] = reg(&self.uc, *r);
        }
        let st = self.uc.get_data_mut();
        let now = StuckWatch {
            key,
            regs,
            executions,
            instructions: st.instructions,
            exceptions: st.exceptions,
            mmio_bytes: st.traffic.mmio_read_bytes + st.traffic.mmio_write_bytes,
        };
        let before = st.stuck.replace(now.clone())?;
        let only_this_block = now.executions.saturating_sub(before.executions) * n
            == now.instructions - before.instructions;
        let nothing_can_interrupt =
            st.scs.nvic.highest_pending().is_none() && st.next_event.0 == u64::MAX;
        (before.key == now.key
            && before.regs == now.regs
            && before.exceptions == now.exceptions
            && before.mmio_bytes == now.mmio_bytes
            && only_this_block
            && nothing_can_interrupt)
            .then(|| limit_stop(st, LimitKind::Stuck, pc))
    }

    /// Every translated block so far, as (start address, its code, executions), sorted by
    /// address: the execution counts per basic block that hot-loop views are built from.
    /// Every executed block's start, length in bytes, instructions, executions and the issue
    /// cycles one execution costs (the block cost table's: without refills, waits and stalls
    /// that depend on what ran before), sorted by address. Blocks unicorn split or re-translated
    /// appear once per variant.
    pub fn block_profile(&self) -> Vec<mcusim_traces::BlockCount> {
        let st = self.uc.get_data();
        // What the clock gained after the last block's cost (its extras, a final sleep).
        let tail = st.clock.now().0.saturating_sub(st.accounted + st.carry);
        let mut v: Vec<mcusim_traces::BlockCount> = st
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.executions > 0)
            .map(|(id, b)| mcusim_traces::BlockCount {
                id: id as u32,
                start: b.start,
                bytes: b.code.len() as u32,
                instructions: b.n,
                executions: b.executions,
                cycles: b.cycles
                    + if st.last_block == Some(id as u32) {
                        tail
                    } else {
                        0
                    },
                cycles_each: u64::from(b.total),
                insn_cycles: b.prefix.windows(2).map(|w| w[1] - w[0]).collect(),
                insn_offsets: b.offsets.to_vec(),
            })
            .collect();
        v.sort_unstable_by_key(|b| (b.start, b.bytes));
        v
    }

    pub fn blocks(&self) -> Vec<(u32, Vec<u8>, u64)> {
        let mut v: Vec<_> = self
            .uc
            .get_data()
            .blocks
            .iter()
            .map(|b| (b.start, b.code.to_vec(), b.executions))
            .collect();
        v.sort_unstable();
        v
    }
}

pub(super) fn limit_stop(st: &State, kind: LimitKind, pc: u32) -> StopReason {
    let limit = match kind {
        LimitKind::Instructions => st.instruction_budget,
        LimitKind::Cycles => st.cycle_budget,
        LimitKind::SleepForever | LimitKind::Stuck => 0,
        LimitKind::InterruptStorm => u64::from(exceptions::STORM),
        LimitKind::Cancelled | LimitKind::Interrupted => st.instructions,
        LimitKind::Timeout => 0,
    };
    StopReason::Limit {
        kind,
        pc: Addr(pc),
        limit,
        symbol: None,
    }
}

/// WFI/WFE: jump the clock to the next event, counting the time as sleep.
pub(super) fn sleep(uc: &mut Uc<'_>, kind: thumb::Hint, pc: u32) -> Option<StopReason> {
    let st = uc.get_data_mut();
    // The core rests: whatever interrupts come next are no storm.
    st.thread_mark = u64::MAX;
    if kind == thumb::Hint::Wfe && std::mem::take(&mut st.event) {
        return None;
    }
    loop {
        let st = uc.get_data_mut();
        // A pending enabled exception wakes the core even while PRIMASK masks it
        // (Armv7-M ARM B1.5.19).
        if st.scs.nvic.highest_pending().is_some() {
            return None;
        }
        if st.next_event.0 == u64::MAX {
            return Some(StopReason::Limit {
                kind: LimitKind::SleepForever,
                pc: Addr(pc),
                limit: 0,
                symbol: None,
            });
        }
        let wake = st.next_event.max(st.clock.now());
        if wake.0 > st.cycle_budget {
            let slept = Cycles(st.cycle_budget.saturating_sub(st.clock.now().0));
            st.clock.charge(Part::Sleep, slept);
            return Some(limit_stop(st, LimitKind::Cycles, pc));
        }
        let now = st.clock.now();
        st.clock.charge(Part::Sleep, wake - now);
        service_events(uc);
        let st = uc.get_data_mut();
        if kind == thumb::Hint::Wfe && std::mem::take(&mut st.event) {
            return None;
        }
    }
}

pub(super) fn classify_error(st: &mut State, e: uc_error, pc: u32, sp: u32) -> StopReason {
    let fault = st.mem_fault.take();
    let (kind, address, message) = match (e, fault) {
        (uc_error::INSN_INVALID, _) => (
            FaultKind::Undefined,
            None,
            format!("undefined or unsupported instruction for {}", st.core),
        ),
        (_, Some(f)) => {
            let what = match f.access {
                MemType::READ | MemType::READ_UNMAPPED | MemType::READ_PROT => "read",
                MemType::WRITE | MemType::WRITE_UNMAPPED | MemType::WRITE_PROT => "write",
                _ => "instruction fetch",
            };
            let below_ram = u64::from(f.address) < st.ram.start
                && u64::from(f.address) + 0x1000 >= st.ram.start
                && u64::from(sp) <= st.ram.start + 0x40;
            match f.access {
                MemType::WRITE_UNMAPPED if below_ram => (
                    FaultKind::StackOverflow,
                    Some(f.address),
                    format!(
                        "write at {:#010x}, below the lowest RAM address {:#010x} (sp {sp:#010x})",
                        f.address, st.ram.start
                    ),
                ),
                MemType::READ_UNMAPPED | MemType::WRITE_UNMAPPED | MemType::FETCH_UNMAPPED => (
                    FaultKind::Unmapped,
                    Some(f.address),
                    format!("{what} of unmapped address {:#010x}", f.address),
                ),
                MemType::WRITE_PROT => (
                    FaultKind::Protection,
                    Some(f.address),
                    format!("write to read-only memory at {:#010x}", f.address),
                ),
                MemType::FETCH_PROT => (
                    FaultKind::Protection,
                    Some(f.address),
                    format!(
                        "instruction fetch from non-executable memory at {:#010x}",
                        f.address
                    ),
                ),
                _ => (
                    FaultKind::Protection,
                    Some(f.address),
                    format!("{what} not permitted at {:#010x}", f.address),
                ),
            }
        }
        (uc_error::FETCH_UNMAPPED, None) => (
            FaultKind::Unmapped,
            Some(pc),
            format!("instruction fetch from unmapped address {pc:#010x}"),
        ),
        (other, None) => (FaultKind::Other, None, format!("emulator error {other:?}")),
    };
    StopReason::Fault {
        kind,
        pc: Addr(pc),
        address: address.map(Addr),
        message,
        symbol: None,
        state: None,
    }
}
