//! The hot path: the block hook, run once per executed basic block.

use super::*;

/// The hot path: once per executed block.
pub(super) fn on_block(uc: &mut Uc<'_>, addr: u64, size: u32) {
    let st = uc.get_data_mut();
    if st.instructions >= st.progress_at && !st.final_stretch {
        // Back to the run loop before this block runs, which reports and comes back here.
        st.request = Some(Request::Progress);
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    if !st.retire.is_empty() {
        // Hooks cannot be removed from inside the emulation: stop before this block, let the
        // run loop remove them, and come back here.
        st.request = Some(Request::RetireFlashSites);
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    if st.instructions >= st.next_sweep && !st.final_stretch {
        st.request = Some(Request::Sweep);
        st.sweep_key = addr << 32 | u64::from(size);
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    if st.clock.now() >= st.next_event {
        service_events(uc);
    }
    let st = uc.get_data_mut();
    if st.scs.nvic.any_pending() && take_exception(uc, addr as u32) {
        return;
    }
    let st = uc.get_data_mut();
    let key = addr << 32 | u64::from(size);
    // A small direct-mapped table in front of the hash map: a hot loop's blocks hit it.
    let slot = ((addr >> 1) ^ (addr >> 11)) as usize & (RECENT_BLOCKS - 1);
    let recent = st.recent[slot];
    let b = match (recent.0 == key)
        .then_some(recent.1)
        .or_else(|| st.block_index.get(&key).copied())
    {
        Some(b) => {
            st.recent[slot] = (key, b);
            b
        }
        None => {
            let code = uc.mem_read_as_vec(addr, size as usize).unwrap_or_default();
            let offsets = thumb::instruction_offsets(&code);
            let mut align = Vec::new();
            if hook_narrow_checks(uc, addr as u32, &code, &offsets, &mut align) {
                // The block is translated again with the checks; it has not run yet.
                return;
            }
            let st = uc.get_data_mut();
            let cost = if st.timing_on {
                timing::block_cost(&st.timing, addr as u32, &code, &offsets)
            } else {
                timing::functional_cost(offsets.len())
            };
            let (fetch, literals) = match &st.flash {
                Some(flash) if st.timing_on => (
                    flash.block(addr as u32, &offsets, &cost.prefix),
                    offsets
                        .iter()
                        .filter_map(|&o| {
                            let o = usize::from(o);
                            thumb::literal_access(
                                &code[o..code.len().min(o + 4)],
                                addr as u32 + o as u32,
                            )
                        })
                        .filter(|span| flash.contains(span.start))
                        .collect(),
                ),
                _ => (None, Box::default()),
            };
            let n = offsets.len() as u32;
            let pairs = match st.timing_on {
                true if st.timing.load_pipelining => pair_rule(
                    PairKind::LostApart,
                    addr as u32,
                    &code,
                    &offsets,
                    &cost.pipelined,
                ),
                true => pair_rule(
                    PairKind::SavedInOtherBanks,
                    addr as u32,
                    &code,
                    &offsets,
                    &cost.dual_loads,
                ),
                false => None,
            };
            // Loads already learned in another block holding them (a branch into the middle of
            // a block translates a new one).
            let learned: Vec<u32> = if st.learned.is_empty() {
                Vec::new()
            } else {
                offsets
                    .iter()
                    .map(|&o| addr as u32 + u32::from(o))
                    .filter(|pc| st.learned.contains_key(pc))
                    .collect()
            };
            let (read_bytes, write_bytes) = timing::data_bytes(&code, &offsets);
            let self_loop = offsets.last().and_then(|&o| {
                thumb::branch_target(&code[usize::from(o)..], addr as u32 + u32::from(o))
            }) == Some(addr as u32);
            let exit = match (offsets.last(), &st.calls) {
                (Some(&o), Some(calls)) => calls.classify(
                    &code[usize::from(o)..],
                    addr as u32 + u32::from(o),
                    addr as u32 + size,
                ),
                _ => Exit::Plain,
            };
            st.blocks.push(Block {
                n,
                total: cost.prefix[offsets.len()],
                stall: cost.stall_prefix[offsets.len()],
                extras: fetch.is_some() || !literals.is_empty() || !learned.is_empty(),
                learned,
                parked: false,
                fetch,
                literals,
                start: addr as u32,
                probe: st.probes.get(&(addr as u32)).copied(),
                align,
                pairs,
                accesses: None,
                code: code.into_boxed_slice(),
                offsets: offsets.into_boxed_slice(),
                prefix: cost.prefix,
                stall_prefix: cost.stall_prefix,
                ends_in_branch: cost.ends_in_branch,
                refill: cost.refill,
                first_wide_unaligned: cost.first_wide_unaligned,
                exit,
                self_loop,
                read_bytes,
                write_bytes,
                executions: 0,
                cycles: 0,
            });
            if let Some(block) = st.blocks.last_mut() {
                block.parked = holds_any(block, &st.parked);
            }
            let b = (st.blocks.len() - 1) as u32;
            st.block_index.insert(key, b);
            b
        }
    };
    let st = uc.get_data_mut();
    if st.final_stretch && st.instructions >= st.instruction_budget {
        // Safety net: the counted run must not go past the budget.
        let _ = uc.emu_stop();
        return;
    }
    if st.blocks[b as usize].parked {
        unpark(uc, b);
        return;
    }
    if !st.blocks[b as usize].align.is_empty() && misaligned_access_ahead(uc, b) {
        return;
    }
    let st = uc.get_data_mut();
    if st.blocks[b as usize].learned.iter().any(|pc| {
        st.learned
            .get(pc)
            .is_some_and(|l| l.executions >= l.check_after)
    }) {
        rewatch_learned_loads(uc, b);
        return;
    }
    // Devices moving data: the block that just ran meets their beats (rare: only then).
    let st = uc.get_data();
    if !st.bus_log.is_empty() || st.cpu_slaves.is_some() {
        contend(uc, b);
    }
    // The stack pointer, for the call tracker at a call's entry or an unexpected return.
    let sp = match &uc.get_data().calls {
        Some(calls) if calls.needs_sp(addr as u32) => reg(uc, RegisterARM::SP),
        _ => 0,
    };
    // A probed function's entry: its first argument, read only for these rare blocks.
    let probe = uc.get_data().blocks[b as usize].probe;
    let (arg0, stack_low) = match probe {
        Some(p) => {
            // Fills asked for at this entry (`Machine::fill_on_entry`); idempotent, so a block
            // restarted after this point fills again harmlessly.
            let fills: Vec<(u32, u32, u8)> = uc
                .get_data()
                .entry_fills
                .iter()
                .filter(|f| f.0 == p)
                .map(|f| (f.1, f.2, f.3))
                .collect();
            for (addr, len, byte) in fills {
                let _ = uc.mem_write(u64::from(addr), &vec![byte; len as usize]);
            }
            (
                uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32,
                stack_low_water(uc),
            )
        }
        None => (0, None),
    };
    // Load pairs whose cost depends on the memories they reach (M3/M4 slaves, M7 banks).
    let block = &uc.get_data().blocks[b as usize];
    let penalty = match &block.pairs {
        None => 0,
        Some(rule) => match rule.until_sample(block.executions) {
            Some(penalty) => u64::from(penalty),
            None => sample_pair_penalty(uc, b),
        },
    };
    let st = uc.get_data_mut();
    let block = &mut st.blocks[b as usize];
    let n = u64::from(block.n);
    let (cost, stall) = (u64::from(block.total), u64::from(block.stall));
    let (cost, stall) = match &block.pairs {
        Some(rule) => rule.apply(cost, stall, penalty),
        None => (cost, stall),
    };
    let ends_in_branch = block.ends_in_branch.then_some(block.refill);
    // A taken branch into this block: the pipeline refills (dynamic, so charged here).
    let refill = match st.branch_from {
        Some((fall_through, refill)) if fall_through != addr as u32 => u64::from(
            refill
                + if block.first_wide_unaligned {
                    st.timing.refill_unaligned_wide
                } else {
                    0
                },
        ),
        _ => 0,
    };
    // Instruction fetch waits, taken as happening when the block starts. Computed before the
    // limit check so a cycle limit includes them (a block stopped by the limit has already
    // filled the cache; when it then runs, its fetch is cheaper by that much).
    let wait = match &mut st.flash {
        Some(flash) if block.extras => {
            let fetch = block.fetch.as_mut().map_or(0, |f| flash.charge(f));
            let data: u32 = block
                .literals
                .iter()
                .map(|span| flash.data_read(span.clone()))
                .sum();
            let mut learned = 0;
            for pc in &block.learned {
                if let Some(l) = st.learned.get_mut(pc) {
                    l.executions += 1;
                    learned += flash.data_read(l.predictor.next_span());
                }
            }
            u64::from(fetch + data + learned)
        }
        _ => 0,
    };
    if !st.final_stretch
        && (st.instructions + n > st.instruction_budget
            || st.clock.now().0 + refill + wait + cost > st.cycle_budget)
    {
        let by_instr = st.instruction_budget.saturating_sub(st.instructions);
        let left = st
            .cycle_budget
            .saturating_sub(st.clock.now().0 + refill + wait);
        let by_cycles = block.prefix.partition_point(|p| u64::from(*p) <= left) as u64 - 1;
        let (k, kind) = if by_instr <= by_cycles {
            (by_instr, LimitKind::Instructions)
        } else {
            (by_cycles, LimitKind::Cycles)
        };
        st.request = Some(if k == 0 {
            Request::LimitNow(kind)
        } else {
            Request::FinalStretch(k, kind)
        });
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    block.executions += 1;
    let (exit, read_bytes, write_bytes) = (block.exit, block.read_bytes, block.write_bytes);
    // What the clock gained since the last block's cost is that block's (its mid-block
    // extras, a sleep after it), and so are this block's refill and fetch waits: the branch
    // into it pays them, and the layer and call boundaries, taken after them, then fall where
    // the blocks' cycles do. An exception entry's cycles are the handler's, this block's.
    let gap = st.clock.now().0.saturating_sub(st.accounted + st.carry);
    let carry = std::mem::take(&mut st.carry);
    match st.last_block {
        Some(prev) if carry == 0 => st.blocks[prev as usize].cycles += gap + refill + wait,
        Some(prev) => {
            st.blocks[prev as usize].cycles += gap;
            st.blocks[b as usize].cycles += carry + refill + wait;
        }
        None => st.blocks[b as usize].cycles += gap + carry + refill + wait,
    }
    st.branch_from = ends_in_branch.map(|refill| (addr as u32 + size, refill));
    st.clock.charge(Part::Branch, Cycles(refill));
    st.clock.charge(Part::Memory, Cycles(wait));
    st.current = Some(b);
    st.current_entry = st.clock.now();
    st.mmio_last = None;
    let traffic = |st: &State| Traffic {
        flash_read_bytes: st.flash.as_ref().map_or(0, |f| f.data_bytes),
        ..st.traffic
    };
    if let Some(probe) = probe {
        let hit = ProbeHit {
            probe,
            cycle: st.clock.now(),
            instructions: st.instructions,
            arg0,
            breakdown: st.clock.breakdown(),
            stack_low,
            traffic: traffic(st),
        };
        st.record_hit(hit);
    }
    let watch = match &mut st.calls {
        Some(calls) => {
            let event = calls.block(addr as u32, st.clock.now(), st.instructions, sp);
            calls.pending = exit;
            event
        }
        None => None,
    };
    // Rare (a top-level kernel call or its return): what the hit records is taken only then.
    let watch = watch.map(|w| {
        (
            w,
            (
                st.clock.now(),
                st.instructions,
                st.clock.breakdown(),
                traffic(st),
            ),
        )
    });
    st.clock.charge(Part::Execute, Cycles(cost - stall));
    st.clock.charge(Part::Stall, Cycles(stall));
    st.instructions += n;
    st.traffic.read_bytes += u64::from(read_bytes);
    st.traffic.write_bytes += u64::from(write_bytes);
    if let Some(((probe, function), at)) = watch {
        // The stack reading can wait until here.
        record_watched_hit(uc, probe, function, at);
    }
    // The block's cost, after any hit at its start was recorded.
    let st = uc.get_data_mut();
    st.blocks[b as usize].cycles += cost;
    st.accounted = st.clock.now().0;
    st.last_block = Some(b);
}
