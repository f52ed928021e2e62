//! The core waiting for a bus slave another master (a DMA) holds. When both address the same
//! slave in the same cycle, the bus matrix grants one and the other waits one bus cycle
//! (ST AN4031 rev 3 sec. 3.1, table 5: bus-matrix arbitration, 1 AHB cycle when another
//! master accesses the same slave; 0 otherwise). On different slaves they proceed in
//! parallel (RM0432 sec. 2.1, the multi-AHB bus matrix).
//!
//! Model (an approximation): while a device moves data, each executed block's data accesses
//! are found from the registers at its entry (followed through the block as for the bank
//! rules; accesses that cannot be followed are not counted) and counted per slave. The
//! device's beats are logged with their time and slave. When the next block starts, the block
//! that just ran meets the beats logged within its time: per slave, the smaller of its
//! accesses and the device's beats collide, and each collision costs the core one cycle
//! (`Part::Contention`). The device is not slowed in turn.

use super::*;

/// Bus slaves counted (a board has a dozen regions at most).
const SLAVES: usize = 16;

/// A block's data accesses that can be followed from its entry.
pub(super) struct Accesses {
    sites: Box<[Site]>,
    needs: u16,
}

fn accesses(start: u32, code: &[u8], offsets: &[u16]) -> Box<Accesses> {
    let followed = followed_registers(code, offsets);
    let sites: Box<[Site]> = offsets
        .iter()
        .enumerate()
        .filter_map(|(i, &off)| {
            let off = usize::from(off);
            Site::new(
                &code[off..code.len().min(off + 4)],
                start + off as u32,
                &followed[i],
            )
        })
        .collect();
    Box::new(Accesses {
        needs: sites.iter().fold(0, |m, s| m | s.needs()),
        sites,
    })
}

/// At the start of block `b`: charges the block that just ran for its collisions with the
/// devices' beats in its time, and counts `b`'s accesses per slave while devices move data.
pub(super) fn contend(uc: &mut Uc<'_>, b: u32) {
    let st = uc.get_data_mut();
    let now = st.clock.now();
    let active = !st.bus_log.is_empty();
    if let Some((from, cpu)) = st.cpu_slaves.take() {
        let mut device = [0u32; SLAVES];
        for &(at, slave, beats) in &st.bus_log {
            if (from..now).contains(&at) && usize::from(slave.0) < SLAVES {
                device[usize::from(slave.0)] += beats;
            }
        }
        let collisions: u64 = cpu
            .iter()
            .zip(device)
            .map(|(&c, d)| u64::from(c.min(d)))
            .sum();
        if collisions > 0 && st.timing_on {
            st.clock.charge(Part::Contention, Cycles(collisions));
        }
    }
    let now = st.clock.now();
    st.bus_log.retain(|e| e.0 >= now);
    if !active {
        return;
    }
    let block = &mut st.blocks[b as usize];
    if block.accesses.is_none() {
        block.accesses = Some(accesses(block.start, &block.code, &block.offsets));
    }
    let st = uc.get_data();
    let Some(acc) = &st.blocks[b as usize].accesses else {
        return;
    };
    let mut entry = [0u32; 16];
    for (r, v) in entry.iter_mut().enumerate() {
        if acc.needs & (1 << r) != 0 {
            *v = reg(uc, GPR[r]);
        }
    }
    let mut cpu = [0u32; SLAVES];
    for site in acc.sites.iter() {
        if let Some(span) = site.span(&entry)
            && let Some((id, s)) = st.bus.slave_at(span.start)
            && s.kind != RegionKind::Mmio
            && usize::from(id.0) < SLAVES
        {
            cpu[usize::from(id.0)] += (span.end.wrapping_sub(span.start)).div_ceil(4).max(1);
        }
    }
    uc.get_data_mut().cpu_slaves = Some((now, cpu));
}
