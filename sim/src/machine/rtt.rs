//! SEGGER RTT, as a debug probe reads it: the firmware's control block (`_SEGGER_RTT`: the id
//! `SEGGER RTT`, the up and down buffer counts, then per buffer its name, storage, size, write
//! and read offsets and flags) is watched for writes, and each time the firmware moves an up
//! buffer's write offset, the bytes from the read offset to it are taken at once, with the
//! simulated time of that store, and the read offset is moved up to it, as a probe draining
//! the buffer would. Taking them at the store, not by polling, means a firmware that blocks on
//! a full buffer (`SEGGER_RTT_MODE_BLOCK_IF_FIFO_FULL`) never waits, nothing is dropped, and
//! every chunk carries the time it was written. Layout: SEGGER's `SEGGER_RTT.h` (the same in
//! `defmt-rtt` and `rtt-target`).

use super::{State, Uc, access_time};
use mcusim_traces::Cycles;
use unicorn_engine::unicorn_const::HookType;

/// Where the drained bytes go.
pub trait RttSink {
    /// `bytes` the firmware wrote to up buffer `channel` (named `name` by the firmware, if it
    /// names it), at simulated time `at`.
    fn up(&mut self, channel: u32, name: &str, at: Cycles, bytes: &[u8]);
}

/// The watched control block.
pub(super) struct Host {
    base: u32,
    sink: Box<dyn RttSink>,
}

/// The most up and down buffers a control block is read with (SEGGER's default is 3 and 3).
const MAX_BUFFERS: u32 = 16;
/// `acID[16]`, then `MaxNumUpBuffers`, `MaxNumDownBuffers`.
const HEADER: u32 = 24;
/// One buffer's descriptor: `sName`, `pBuffer`, `SizeOfBuffer`, `WrOff`, `RdOff`, `Flags`.
const DESCRIPTOR: u32 = 24;
/// The largest buffer taken as one (a corrupt size is ignored, not read).
const MAX_SIZE: u32 = 1 << 20;

fn word(uc: &Uc<'_>, addr: u32) -> Option<u32> {
    let mut b = [0u8; 4];
    uc.mem_read(u64::from(addr), &mut b).ok()?;
    Some(u32::from_le_bytes(b))
}

/// A NUL-terminated name of at most 32 bytes.
fn name(uc: &Uc<'_>, addr: u32) -> String {
    let mut b = [0u8; 32];
    if addr == 0 || uc.mem_read(u64::from(addr), &mut b).is_err() {
        return String::new();
    }
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Watches the control block at `base` and drains its up buffers into `sink`.
pub(super) fn install(uc: &mut Uc<'_>, base: u32, sink: Box<dyn RttSink>) -> bool {
    let end = base + HEADER + DESCRIPTOR * 2 * MAX_BUFFERS;
    let hooked = uc.add_mem_hook(
        HookType::MEM_WRITE,
        u64::from(base),
        u64::from(end - 1),
        |uc: &mut Uc<'_>, _access, address: u64, size: usize, value: i64| {
            if size == 4 {
                store(uc, address as u32, value as u32);
            }
            true
        },
    );
    if hooked.is_err() {
        return false;
    }
    uc.get_data_mut().rtt = Some(Host { base, sink });
    true
}

/// A word stored into the control block: if it is an up buffer's write offset, drain that
/// buffer up to it.
fn store(uc: &mut Uc<'_>, address: u32, written: u32) {
    let Some(base) = uc.get_data().rtt.as_ref().map(|h| h.base) else {
        return;
    };
    let mut id = [0u8; 10];
    if uc.mem_read(u64::from(base), &mut id).is_err() || &id != b"SEGGER RTT" {
        return;
    }
    let ups = word(uc, base + 16).unwrap_or(0).min(MAX_BUFFERS);
    let Some(channel) = (0..ups).find(|i| address == base + HEADER + DESCRIPTOR * i + 12) else {
        return;
    };
    let d = base + HEADER + DESCRIPTOR * channel;
    let (Some(label), Some(buffer), Some(size), Some(read)) = (
        word(uc, d),
        word(uc, d + 4),
        word(uc, d + 8),
        word(uc, d + 16),
    ) else {
        return;
    };
    if size == 0 || size > MAX_SIZE || written >= size || read >= size || written == read {
        return;
    }
    let mut bytes = Vec::new();
    let mut take = |from: u32, to: u32| {
        let mut part = vec![0u8; (to - from) as usize];
        if uc.mem_read(u64::from(buffer + from), &mut part).is_ok() {
            bytes.extend_from_slice(&part);
        }
    };
    if written > read {
        take(read, written);
    } else {
        take(read, size);
        take(0, written);
    }
    let label = name(uc, label);
    // The time of the store, without disturbing the MMIO access tracking it shares.
    let saved = uc.get_data().mmio_last;
    let at = access_time(uc, address);
    uc.get_data_mut().mmio_last = saved;
    // Drained: the read offset moves up to the write offset, as a probe's read would.
    let _ = uc.mem_write(u64::from(d + 16), &written.to_le_bytes());
    let st: &mut State = uc.get_data_mut();
    if let Some(host) = st.rtt.as_mut() {
        host.sink.up(channel, &label, at, &bytes);
    }
}
