//! The memory map beyond RAM and flash: the Private Peripheral Bus and the board's
//! peripherals, their MMIO hooks and wait states, and the hooks every run installs.

use super::*;

pub(super) fn map_ppb(uc: &mut Uc<'_>) -> Result<(), uc_error> {
    let base = 0xE000_0000u32;
    uc.mmio_map(
        u64::from(base),
        0x10_0000,
        Some(move |uc: &mut Uc<'_>, off: u64, size: usize| {
            let addr = base + off as u32;
            let now = access_time(uc, addr);
            uc.get_data_mut().traffic.mmio_read_bytes += size as u64;
            let ipsr = reg(uc, RegisterARM::IPSR);
            // SysTick is a device; the rest of the PPB is the SCS's.
            if let Some(v) = device_access(uc, addr, now, |d, offset, cx| d.read(offset, size, cx))
            {
                return u64::from(v);
            }
            let st = uc.get_data_mut();
            let v = st.scs.read(addr, size, now, ipsr);
            st.recompute_next_event();
            u64::from(v)
        }),
        Some(move |uc: &mut Uc<'_>, off: u64, size: usize, value: u64| {
            let addr = base + off as u32;
            let now = access_time(uc, addr);
            uc.get_data_mut().traffic.mmio_write_bytes += size as u64;
            let device = device_access(uc, addr, now, |d, offset, cx| {
                d.write(offset, size, value as u32, cx);
                0
            });
            if device.is_some() {
                return;
            }
            let st = uc.get_data_mut();
            match st.scs.write(addr, size, value as u32, now) {
                Some(PpbAction::Itm { bytes, len, .. }) => {
                    st.output(Stream::Stdout, &bytes[..usize::from(len)]);
                }
                Some(PpbAction::SystemReset) => {
                    st.request = Some(Request::Reset);
                    let _ = uc.emu_stop();
                    return;
                }
                None => {}
            }
            st.recompute_next_event();
        }),
    )
}

/// Map the board's peripherals, one MMIO range per run of 4 KiB pages they occupy. Addresses
/// in those pages outside any register block read as zero and ignore writes (reserved space);
/// everything else in an `mmio` region is unmapped and faults.
pub(super) fn map_peripherals(uc: &mut Uc<'_>, board: &Board) -> Result<(), uc_error> {
    let page = |a: u64| a & !0xFFF;
    let mut pages: Vec<(u64, u64)> = Vec::new();
    let mut blocks: Vec<_> = board
        .peripherals()
        .iter()
        .map(|p| (page(p.base), page(p.end() + 0xFFF)))
        .collect();
    blocks.sort_unstable();
    for (start, end) in blocks {
        match pages.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => pages.push((start, end)),
        }
    }
    for (start, end) in pages {
        let base = start as u32;
        uc.mmio_map(
            start,
            end - start,
            Some(move |uc: &mut Uc<'_>, off: u64, size: usize| {
                let addr = base + off as u32;
                let now = access_time(uc, addr);
                uc.get_data_mut().traffic.mmio_read_bytes += size as u64;
                let v = device_access(uc, addr, now, |d, offset, cx| d.read(offset, size, cx));
                u64::from(v.unwrap_or(0))
            }),
            Some(move |uc: &mut Uc<'_>, off: u64, size: usize, value: u64| {
                let addr = base + off as u32;
                let now = access_time(uc, addr);
                uc.get_data_mut().traffic.mmio_write_bytes += size as u64;
                device_access(uc, addr, now, |d, offset, cx| {
                    d.write(offset, size, value as u32, cx);
                    0
                });
            }),
        )?;
    }
    Ok(())
}

/// The simulated time of an MMIO access made by the current block: the clock at block entry
/// plus the cost of the instructions before the one that made it. unicorn does not keep the
/// PC up to date inside a block, so the instruction is found by decoding the block's loads and
/// stores and matching their addresses, computed from the register file, against `addr`.
/// Falls back to block entry if no instruction matches.
pub(super) fn access_time(uc: &mut Uc<'_>, addr: u32) -> Cycles {
    let found = {
        let st = uc.get_data();
        let Some(b) = st.current else {
            return st.clock.now();
        };
        let block = &st.blocks[b as usize];
        let regs = |r: u16| reg(uc, GPR[usize::from(r & 15)]);
        let span = |i: usize| {
            let off = usize::from(block.offsets[i]);
            thumb::data_access(&block.code[off..block.code.len().min(off + 4)], regs)
        };
        // An LDM/LDRD makes several accesses at rising addresses: a continuation belongs to the
        // instruction that made the previous one. Otherwise the access comes from a later one.
        let continuation = st
            .mmio_last
            .filter(|&(i, prev)| addr > prev && span(i).is_some_and(|r| r.contains(&addr)))
            .map(|(i, _)| i);
        let first = st.mmio_last.map_or(0, |(i, _)| i + 1);
        continuation
            .or_else(|| (first..block.len()).find(|&i| span(i).is_some_and(|r| r.contains(&addr))))
            .map(|i| {
                // A stall (address dependency, load-use) happens before the access.
                let stall = block.stall_prefix[i + 1] - block.stall_prefix[i];
                (
                    i,
                    st.current_entry + Cycles(u64::from(block.prefix[i] + stall)),
                )
            })
    };
    let st = uc.get_data_mut();
    match found {
        Some((i, t)) => {
            st.mmio_last = Some((i, addr));
            t
        }
        None => st.current_entry,
    }
}

pub(super) fn install_hooks(uc: &mut Uc<'_>) -> Result<(), uc_error> {
    uc.add_block_hook(1, 0, on_block)?;
    uc.add_intr_hook(on_interrupt)?;
    uc.add_mem_hook(
        HookType::MEM_UNMAPPED | HookType::MEM_PROT,
        1,
        0,
        |uc: &mut Uc<'_>, access: MemType, address: u64, _size: usize, _value: i64| {
            uc.get_data_mut().mem_fault = Some(MemFault {
                access,
                address: address as u32,
            });
            false
        },
    )?;
    Ok(())
}
