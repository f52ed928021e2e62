//! Hooks on single instructions (alignment checks, divides, loads that may read flash), added
//! when their block is first seen, retired or parked when idle, and put back.

use super::*;

/// Instructions whose cost or behaviour depends on operands the block hook cannot see get a
/// code hook of their own, added the first time their block is seen (the block's translation
/// is dropped and the block restarted, so only these instructions pay a callback):
/// - LDM/STM/LDRD/STRD on Armv7-M and Armv8-M, which fault when unaligned and which unicorn
///   (QEMU 5) does not check (Armv6-M needs nothing: QEMU faults every unaligned access there);
/// - SDIV/UDIV, whose early termination depends on the operands (`timing::divide_extra`).
///
/// True if the block was restarted.
pub(super) fn hook_narrow_checks(
    uc: &mut Uc<'_>,
    start: u32,
    code: &[u8],
    offsets: &[u16],
    checks: &mut Vec<AlignCheck>,
) -> bool {
    let (v6m, timing_on, flash_data) = {
        let st = uc.get_data();
        (
            st.core.is_armv6m(),
            st.timing_on,
            st.timing_on && st.flash.is_some(),
        )
    };
    let mut added = false;
    let followed = followed_registers(code, offsets);
    for (i, &off) in offsets.iter().enumerate() {
        let off = usize::from(off);
        let insn: Box<[u8]> = code[off..code.len().min(off + 4)].into();
        let at = start + off as u32;
        let decoded = timing::decode::decode(&insn);
        let before = followed[i];
        if flash_data && may_read_flash(&insn) && !uc.get_data().flash_sites.contains_key(&at) {
            let hook = watch_flash_load(uc, at, &insn);
            let last_hit = uc.get_data().instructions;
            added |= hook.is_some();
            uc.get_data_mut().flash_sites.insert(
                at,
                FlashSite {
                    hook,
                    insn: insn.clone(),
                    ram_reads: 0,
                    flash_reads: 0,
                    samples: Vec::new(),
                    len: 0,
                    window: LEARN_SAMPLES,
                    trust: 8 * LEARN_SAMPLES as u32,
                    predicted: None,
                    agreed: 0,
                    last_hit,
                    parked: false,
                },
            );
        }
        if v6m {
            continue;
        }
        let align = thumb::requires_word_alignment(&insn);
        let divide = timing_on && decoded.class == timing::decode::Class::Div;
        if align && !uc.get_data().narrow.contains_key(&at) {
            let regs: Option<Vec<(u16, i32)>> = (0..16u16)
                .filter(|r| decoded.addr & (1 << r) != 0)
                .map(|r| before[usize::from(r)].map(|k| (r, k)))
                .collect();
            if let Some(regs) = regs.filter(|regs| !regs.is_empty()) {
                checks.push(AlignCheck { at, insn, regs });
                continue;
            }
        }
        if !(align || divide) || uc.get_data().narrow.contains_key(&at) {
            continue;
        }
        let hook = add_narrow_hook(uc, at, !align, insn.clone());
        added |= hook.is_some();
        let last_hit = uc.get_data().instructions;
        uc.get_data_mut().narrow.insert(
            at,
            Narrow {
                hook,
                divide: !align,
                insn,
                last_hit,
            },
        );
    }
    if added {
        let end = u64::from(start) + code.len() as u64;
        let _ = uc.ctl_remove_cache(u64::from(start), end);
        set_reg(uc, RegisterARM::PC, start | 1);
    }
    added
}

/// Each register's value before each instruction of a block, as its value at block entry plus
/// a constant, while that holds (followed through base updates by `thumb::base_update`;
/// `None` once anything else writes it).
pub(super) fn followed_registers(code: &[u8], offsets: &[u16]) -> Vec<[Option<i32>; 16]> {
    let mut known: [Option<i32>; 16] = [Some(0); 16];
    let mut out = Vec::with_capacity(offsets.len());
    for &off in offsets {
        let off = usize::from(off);
        let insn = &code[off..code.len().min(off + 4)];
        let decoded = timing::decode::decode(insn);
        out.push(known);
        let update = thumb::base_update(insn);
        for (r, k) in known.iter_mut().enumerate() {
            if decoded.writes & (1 << r) != 0 {
                *k = match (update, *k) {
                    (Some((ur, delta)), Some(v)) if usize::from(ur) == r => {
                        Some(v.wrapping_add(delta))
                    }
                    _ => None,
                };
            }
        }
    }
    out
}

/// Whether a load may read flash data through a register: single, doubleword and multiple
/// loads whose base is not the SP (the stack is in RAM) or the PC (literal loads are costed
/// statically).
pub(super) fn may_read_flash(insn: &[u8]) -> bool {
    use timing::decode::Class;
    let d = timing::decode::decode(insn);
    matches!(
        d.class,
        Class::Load | Class::LoadDouble | Class::LoadMultiple(_)
    ) && d.addr & (1 << 13 | 1 << 15) == 0
        && d.addr != 0
}

/// Hook one load so its flash reads are charged (and its pattern learned).
pub(super) fn watch_flash_load(
    uc: &mut Uc<'_>,
    at: u32,
    insn: &[u8],
) -> Option<unicorn_engine::UcHookId> {
    let watched: Box<[u8]> = insn.into();
    uc.add_code_hook(u64::from(at), u64::from(at), move |uc, pc, _size| {
        charge_flash_load(uc, pc as u32, &watched);
    })
    .ok()
}

/// A block's learned loads have run long enough on their prediction: watch them again for a
/// while (their pattern may have changed), restarting the block with the hooks in place.
pub(super) fn rewatch_learned_loads(uc: &mut Uc<'_>, b: u32) {
    let st = uc.get_data_mut();
    let block = &mut st.blocks[b as usize];
    let (start, end) = (block.start, block.start + block.code.len() as u32);
    let stale: Vec<u32> = block.learned.drain(..).collect();
    block.extras = block.fetch.is_some() || !block.literals.is_empty();
    for pc in stale {
        // Other blocks holding the same load predict it no more either.
        let st = uc.get_data_mut();
        let Some(predicted) = st.learned.remove(&pc).map(|l| l.predictor) else {
            continue;
        };
        for other in &mut st.blocks {
            other.learned.retain(|&l| l != pc);
            other.extras =
                other.fetch.is_some() || !other.literals.is_empty() || !other.learned.is_empty();
        }
        let Some(insn) = uc.get_data_mut().flash_sites.get_mut(&pc).map(|site| {
            site.samples.clear();
            site.predicted = Some(predicted);
            site.agreed = 0;
            site.insn.clone()
        }) else {
            continue;
        };
        let hook = watch_flash_load(uc, pc, &insn);
        if let Some(site) = uc.get_data_mut().flash_sites.get_mut(&pc) {
            site.hook = hook;
        }
    }
    let _ = uc.ctl_remove_cache(u64::from(start), u64::from(end));
    set_reg(uc, RegisterARM::PC, start | 1);
}

/// Hooks one instruction for an operand check: an alignment check, or a divide's early
/// termination.
pub(super) fn add_narrow_hook(
    uc: &mut Uc<'_>,
    at: u32,
    divide: bool,
    insn: Box<[u8]>,
) -> Option<unicorn_engine::UcHookId> {
    let hooked = if divide {
        uc.add_code_hook(u64::from(at), u64::from(at), move |uc, pc, _size| {
            charge_divide(uc, pc as u32, &insn);
        })
    } else {
        uc.add_code_hook(u64::from(at), u64::from(at), move |uc, pc, _size| {
            check_alignment(uc, pc as u32, &insn);
        })
    };
    hooked.ok()
}

/// Whether a block holds one of `pcs`.
pub(super) fn holds_any(block: &Block, pcs: &rustc_hash::FxHashSet<u32>) -> bool {
    !pcs.is_empty()
        && block
            .offsets
            .iter()
            .any(|&o| pcs.contains(&(block.start + u32::from(o))))
}

/// A block about to run holds instructions whose hooks were parked: put them back and restart
/// the block, so they run hooked (the block has not been charged yet).
pub(super) fn unpark(uc: &mut Uc<'_>, b: u32) {
    let st = uc.get_data_mut();
    let block = &st.blocks[b as usize];
    let (start, end) = (block.start, block.start + block.code.len() as u32);
    let pcs: Vec<u32> = block
        .offsets
        .iter()
        .map(|&o| start + u32::from(o))
        .filter(|pc| st.parked.remove(pc))
        .collect();
    let now = st.instructions;
    for pc in pcs {
        let narrow = uc
            .get_data()
            .narrow
            .get(&pc)
            .filter(|n| n.hook.is_none())
            .map(|n| (n.divide, n.insn.clone()));
        if let Some((divide, insn)) = narrow {
            let hook = add_narrow_hook(uc, pc, divide, insn);
            if let Some(n) = uc.get_data_mut().narrow.get_mut(&pc) {
                n.hook = hook;
                n.last_hit = now;
            }
        }
        let site = uc
            .get_data()
            .flash_sites
            .get(&pc)
            .filter(|site| site.parked)
            .map(|site| site.insn.clone());
        if let Some(insn) = site {
            let hook = watch_flash_load(uc, pc, &insn);
            if let Some(site) = uc.get_data_mut().flash_sites.get_mut(&pc) {
                site.hook = hook;
                site.parked = false;
                site.last_hit = now;
            }
        }
    }
    let st = uc.get_data_mut();
    for block in &mut st.blocks {
        if block.parked {
            block.parked = holds_any(block, &st.parked);
        }
    }
    let _ = uc.ctl_remove_cache(u64::from(start), u64::from(end));
    set_reg(uc, RegisterARM::PC, start | 1);
}

/// Runs a block's alignment checks with the registers at its entry. If one fails, that
/// instruction gets its own hook (which raises the fault at it) and the block restarts: true.
pub(super) fn misaligned_access_ahead(uc: &mut Uc<'_>, b: u32) -> bool {
    let failed = {
        let st = uc.get_data();
        let block = &st.blocks[b as usize];
        block.align.iter().position(|c| {
            let regs = |r: u16| {
                let offset = c
                    .regs
                    .iter()
                    .find(|(reg_index, _)| *reg_index == r & 15)
                    .map_or(0, |x| x.1);
                reg(uc, GPR[usize::from(r & 15)]).wrapping_add(offset as u32)
            };
            thumb::data_access(&c.insn, regs).is_some_and(|span| span.start % 4 != 0)
        })
    };
    let Some(i) = failed else { return false };
    let st = uc.get_data_mut();
    let block = &mut st.blocks[b as usize];
    let check = block.align.remove(i);
    let (start, end) = (block.start, block.start + block.code.len() as u32);
    let last_hit = st.instructions;
    let hook = add_narrow_hook(uc, check.at, false, check.insn.clone());
    uc.get_data_mut().narrow.insert(
        check.at,
        Narrow {
            hook,
            divide: false,
            insn: check.insn,
            last_hit,
        },
    );
    let _ = uc.ctl_remove_cache(u64::from(start), u64::from(end));
    set_reg(uc, RegisterARM::PC, start | 1);
    true
}

/// A watched load: charge the flash wait states of what it reads; once it has shown it reads
/// only RAM, or its flash addresses follow a pattern, have its hook retired.
pub(super) fn charge_flash_load(uc: &mut Uc<'_>, pc: u32, insn: &[u8]) {
    let regs = |r: u16| reg(uc, GPR[usize::from(r & 15)]);
    let Some(span) = thumb::data_access(insn, regs) else {
        return;
    };
    let st = uc.get_data_mut();
    let Some(flash) = st.flash.as_mut() else {
        return;
    };
    let in_flash = flash.contains(span.start);
    if in_flash {
        let wait = Cycles(u64::from(flash.data_read(span.clone())));
        st.clock.charge(Part::Memory, wait);
    }
    let now = st.instructions;
    if let Some(site) = st.flash_sites.get_mut(&pc) {
        site.last_hit = now;
        if in_flash {
            site.flash_reads += 1;
            if !st.exact_flash && site.hook.is_some() {
                // Check the prediction that ran until now: if it holds, go on with it and trust
                // it longer; if not, learn again from more samples.
                if let Some(mut predicted) = site.predicted.take() {
                    if predicted.next_span().start == span.start {
                        site.agreed += 1;
                        if site.agreed < CHECK_READS {
                            site.predicted = Some(predicted);
                        } else {
                            site.trust = (site.trust * 2).min(TRUST_MAX);
                            st.learned_new.push((pc, predicted));
                            st.retire.push(pc);
                        }
                        return;
                    }
                    site.window = (site.window * 2).min(LEARN_SAMPLES_MAX);
                    site.trust = 8 * site.window as u32;
                }
                site.len = span.end - span.start;
                site.samples.push(span.start);
                if site.samples.len() >= site.window {
                    match timing::stride::Predictor::learn(&site.samples, site.len) {
                        Some(predictor) => {
                            st.learned_new.push((pc, predictor));
                            st.retire.push(pc);
                        }
                        None => {
                            site.samples.clear();
                            site.window = (site.window * 2).min(LEARN_SAMPLES_MAX);
                        }
                    }
                }
            }
        } else {
            site.ram_reads += 1;
            if site.ram_reads == FLASH_SITE_PROBATION && site.flash_reads == 0 {
                st.retire.push(pc);
            }
        }
    }
}

pub(super) fn check_alignment(uc: &mut Uc<'_>, pc: u32, insn: &[u8]) {
    let st = uc.get_data_mut();
    st.narrow_hit(pc);
    let regs = |r: u16| reg(uc, GPR[usize::from(r & 15)]);
    let Some(span) = thumb::data_access(insn, regs) else {
        return;
    };
    if span.start % 4 != 0 {
        let st = uc.get_data_mut();
        st.refund_from(pc);
        let core = st.core;
        st.fault(
            FaultKind::Unaligned,
            pc,
            Some(span.start),
            format!(
                "unaligned multiple or doubleword access at {:#010x}, which {core} does not allow",
                span.start
            ),
        );
        let _ = uc.emu_stop();
    }
}

/// SDIV/UDIV (`1111 1011 1001/1011 Rn`, `1111 Rd 1111 Rm`): charge the early-terminating part.
pub(super) fn charge_divide(uc: &mut Uc<'_>, pc: u32, insn: &[u8]) {
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    let hw2 = u16::from_le_bytes([insn[2], insn[3]]);
    let dividend = reg(uc, GPR[usize::from(hw1 & 15)]);
    let divisor = reg(uc, GPR[usize::from(hw2 & 15)]);
    let signed = (hw1 >> 4) & 7 == 0b001;
    let st = uc.get_data_mut();
    st.narrow_hit(pc);
    let extra = Cycles(u64::from(timing::divide_extra(
        &st.timing, dividend, divisor, signed,
    )));
    st.clock.charge(Part::Execute, extra);
}
