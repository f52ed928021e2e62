//! ST's DMA controller as on the STM32L4/L4+ and G0 (RM0432 rev 9 chapter 11, RM0444 rev 5
//! chapter 10): up to 8 channels, each with CCR, CNDTR, CPAR and CMAR; ISR and IFCR shared;
//! one interrupt output per channel (the board file wires each to its NVIC line).
//!
//! What is modelled: memory-to-memory transfers (MEM2MEM) and transfers paced by a
//! peripheral's DMA request through the DMAMUX (peripheral to memory, or memory to peripheral
//! with DIR), 8/16/32-bit items on each side with ST's packing rule (a wider destination gets
//! the item zero-extended, a narrower one its low bytes; RM0432 table 46), increment modes,
//! circular mode, half-transfer, transfer-complete and transfer-error flags and interrupts,
//! channel priorities (PL, then the lower channel number: RM0432 sec. 11.4.3). A channel
//! without MEM2MEM transfers one item each time its DMAMUX channel's request line is high
//! (the peripheral drops the line when the item reads or writes its data register); on a DMA
//! the board file gives no DMAMUX channel, it waits forever.
//!
//! Timing (approximation): the channels share one engine, which serves one item at a time,
//! the highest-priority channel first among those ready when it is free. An item costs the
//! two AHB transfers through the bus port (each beat 1 cycle plus the slave's wait states)
//! plus 2 cycles per port for the request arbitration and address computation, the breakdown
//! ST gives for its DMA (AN4031 rev 3 sec. 3.1, tables 4 and 5: arbitration 1, address
//! computation 1, then the transfer; bus-matrix arbitration 0 without a concurrent master).
//! So a word from SRAM to SRAM takes 6 cycles. A memory-to-memory item is performed when the
//! machine next looks at the device at or after its start time (at the next basic block, an
//! access to its registers, or an interrupt), with its flags as of its start: at most one
//! item's time early. A requested item starts when the request rose (or the engine is free).
//!
//! Activity: a memory-to-memory run of items is one activity, from its first item to its last.
//! Items paced by a peripheral are spread over the time the peripheral takes, so each half of
//! the transfer (up to the half-transfer point, then up to the end) is one activity spanning
//! its items, with the cycles the engine actually spent on them as its busy time.

use super::{Context, Device};
use mcusim_traces::Cycles;

/// Cycles each port spends on arbitration and address computation (AN4031 sec. 3.1).
const PORT_OVERHEAD: u64 = 2;

/// CCR bits.
const EN: u32 = 1 << 0;
const TCIE: u32 = 1 << 1;
const HTIE: u32 = 1 << 2;
const TEIE: u32 = 1 << 3;
const DIR: u32 = 1 << 4;
const CIRC: u32 = 1 << 5;
const PINC: u32 = 1 << 6;
const MINC: u32 = 1 << 7;
const MEM2MEM: u32 = 1 << 14;
/// The CCR bits that exist (RM0432 sec. 11.6.3).
const CCR_MASK: u32 = 0x7FFF;

/// ISR flags of one channel, at `4 * (channel - 1)`.
const GIF: u32 = 1 << 0;
const TCIF: u32 = 1 << 1;
const HTIF: u32 = 1 << 2;
const TEIF: u32 = 1 << 3;

#[derive(Debug, Clone, Default)]
struct Channel {
    ccr: u32,
    cndtr: u32,
    cpar: u32,
    cmar: u32,
    /// GIF/TCIF/HTIF/TEIF.
    flags: u32,
    /// CNDTR as programmed, reloaded in circular mode.
    programmed: u32,
    /// Items done since the channel was enabled or last reloaded.
    done: u32,
    /// Whether it has items to transfer (enabled, items left, no error).
    active: bool,
    /// When it was enabled: a memory-to-memory channel is ready from then.
    enabled_at: Cycles,
    /// When its current run of items began, the bytes it moved since and the engine's cycles
    /// on them: its activity.
    began: Option<Cycles>,
    bytes: u64,
    busy: u64,
    /// When its last item ended.
    last_end: Cycles,
}

impl Channel {
    fn size(bits: u32) -> usize {
        match bits & 3 {
            0 => 1,
            1 => 2,
            _ => 4,
        }
    }

    fn psize(&self) -> usize {
        Channel::size(self.ccr >> 8)
    }

    fn msize(&self) -> usize {
        Channel::size(self.ccr >> 10)
    }

    /// The line to the NVIC: a flag whose interrupt is enabled.
    fn line(&self) -> bool {
        (self.flags & TCIF != 0 && self.ccr & TCIE != 0)
            || (self.flags & HTIF != 0 && self.ccr & HTIE != 0)
            || (self.flags & TEIF != 0 && self.ccr & TEIE != 0)
    }
}

/// The controller.
#[derive(Debug, Clone)]
pub struct Stm32Dma {
    channels: Vec<Channel>,
    /// The DMAMUX channel channel 1 takes its requests from.
    mux: Option<u8>,
    /// When the engine is free for the next item.
    free_at: Cycles,
    /// When the next item starts, as of the last look at the requests.
    next: Option<Cycles>,
}

impl Stm32Dma {
    pub fn new(channels: u8, mux: Option<u8>) -> Stm32Dma {
        Stm32Dma {
            channels: vec![Channel::default(); usize::from(channels.clamp(1, 8))],
            mux,
            free_at: Cycles(0),
            next: None,
        }
    }

    /// When channel `i` is ready for an item: from its enabling (memory to memory), or
    /// while its request is high.
    fn ready(&self, i: usize, cx: &Context<'_>) -> Option<Cycles> {
        let c = &self.channels[i];
        if !c.active {
            None
        } else if c.ccr & MEM2MEM != 0 {
            Some(c.enabled_at)
        } else {
            cx.requested(usize::from(self.mux?) + i)
        }
    }

    /// The channel to serve next and when: once the engine is free and a channel is ready,
    /// the highest PL among those ready then, then the lowest number.
    fn next_channel(&self, cx: &Context<'_>) -> Option<(usize, Cycles)> {
        let channels = 0..self.channels.len();
        let first = channels.clone().filter_map(|i| self.ready(i, cx)).min()?;
        let at = first.max(self.free_at);
        channels
            .filter(|&i| self.ready(i, cx).is_some_and(|t| t <= at))
            .max_by_key(|&i| ((self.channels[i].ccr >> 12) & 3, usize::MAX - i))
            .map(|i| (i, at))
    }

    fn lines(&self, cx: &mut Context<'_>) {
        for (i, c) in self.channels.iter().enumerate() {
            cx.set_line(i, c.line());
        }
    }

    /// Logs channel `i`'s run of items so far as one activity.
    fn log(&mut self, i: usize, cx: &mut Context<'_>) {
        let c = &mut self.channels[i];
        if let Some(began) = c.began.take() {
            let (bytes, busy) = (std::mem::take(&mut c.bytes), std::mem::take(&mut c.busy));
            let end = c.last_end.max(began);
            if c.ccr & MEM2MEM != 0 {
                cx.record(began, end, bytes, 0, &format!("ch{} mem-to-mem", i + 1));
            } else {
                let what = if c.ccr & DIR != 0 {
                    "mem-to-periph"
                } else {
                    "periph-to-mem"
                };
                let label = format!("ch{} {what}", i + 1);
                cx.record_paced(began, end, Cycles(busy), bytes, &label);
            }
        }
    }

    /// One item of channel `i`, starting at `at`: its two transfers through the bus.
    fn item(&mut self, i: usize, at: Cycles, cx: &mut Context<'_>) {
        let c = &self.channels[i];
        // DIR = 1: read from memory (CMAR), write to the peripheral side (CPAR).
        let from_memory = c.ccr & DIR != 0;
        let (psize, msize) = (c.psize(), c.msize());
        let p_addr = c.cpar.wrapping_add(if c.ccr & PINC != 0 {
            c.done * psize as u32
        } else {
            0
        });
        let m_addr = c.cmar.wrapping_add(if c.ccr & MINC != 0 {
            c.done * msize as u32
        } else {
            0
        });
        let ((src, src_size), (dst, dst_size)) = if from_memory {
            ((m_addr, msize), (p_addr, psize))
        } else {
            ((p_addr, psize), (m_addr, msize))
        };
        let mut data = [0u8; 4];
        cx.bus().set_time(at);
        let moved = cx.bus().read(src, &mut data[..src_size]).and_then(|read| {
            // Zero-extended to a wider destination, its low bytes to a narrower one.
            let write = cx.bus().write(dst, &data[..dst_size])?;
            Ok(read + write)
        });
        let c = &mut self.channels[i];
        c.began.get_or_insert(at);
        let paced = c.ccr & MEM2MEM == 0;
        let finished = match moved {
            Ok(cycles) => {
                let end = at + Cycles(2 * PORT_OVERHEAD) + cycles;
                self.free_at = end;
                c.last_end = end;
                c.busy += (end - at).0;
                c.bytes += dst_size as u64;
                c.done += 1;
                c.cndtr -= 1;
                let half = c.cndtr == c.programmed / 2;
                if half {
                    c.flags |= HTIF | GIF;
                }
                if c.cndtr == 0 {
                    c.flags |= TCIF | GIF;
                    if c.ccr & CIRC != 0 {
                        c.cndtr = c.programmed;
                        c.done = 0;
                    } else {
                        c.active = false;
                    }
                    true
                } else {
                    // Paced items are logged per half transfer.
                    half && paced
                }
            }
            Err(_) => {
                // RM0432 sec. 11.4.7: a bus error disables the channel and sets TEIF.
                self.free_at = at + Cycles(2 * PORT_OVERHEAD);
                c.last_end = at;
                c.flags |= TEIF | GIF;
                c.ccr &= !EN;
                c.active = false;
                true
            }
        };
        if finished {
            self.log(i, cx);
        }
    }

    fn channel_register(offset: u32) -> Option<(usize, u32)> {
        let rel = offset.checked_sub(0x08)?;
        Some(((rel / 0x14) as usize, rel % 0x14))
    }
}

impl Device for Stm32Dma {
    fn read(&mut self, offset: u32, _size: usize, _cx: &mut Context<'_>) -> u32 {
        match offset {
            0x00 => self
                .channels
                .iter()
                .enumerate()
                .fold(0, |isr, (i, c)| isr | c.flags << (4 * i)),
            0x04 => 0,
            _ => match Stm32Dma::channel_register(offset) {
                Some((i, reg)) if i < self.channels.len() => {
                    let c = &self.channels[i];
                    match reg {
                        0x00 => c.ccr,
                        0x04 => c.cndtr,
                        0x08 => c.cpar,
                        0x0C => c.cmar,
                        _ => 0,
                    }
                }
                _ => 0,
            },
        }
    }

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        match offset {
            0x00 => {}
            0x04 => {
                for (i, c) in self.channels.iter_mut().enumerate() {
                    let clear = (value >> (4 * i)) & 0xF;
                    // CGIF clears all of the channel's flags.
                    c.flags &= !if clear & GIF != 0 { 0xF } else { clear };
                    if c.flags & (TCIF | HTIF | TEIF) == 0 {
                        c.flags &= !GIF;
                    }
                }
            }
            _ => {
                let Some((i, reg)) = Stm32Dma::channel_register(offset) else {
                    return;
                };
                let now = cx.now();
                let Some(c) = self.channels.get_mut(i) else {
                    return;
                };
                let enabled = c.ccr & EN != 0;
                match reg {
                    0x00 => {
                        let was = c.ccr;
                        c.ccr = value & CCR_MASK;
                        if was & EN == 0 && c.ccr & EN != 0 {
                            c.programmed = c.cndtr;
                            c.done = 0;
                            c.active = c.cndtr > 0;
                            c.enabled_at = now;
                        } else if was & EN != 0 && c.ccr & EN == 0 {
                            c.active = false;
                            self.log(i, cx);
                        }
                    }
                    // CNDTR, CPAR and CMAR are read-only while the channel is enabled.
                    0x04 if !enabled => c.cndtr = value & 0xFFFF,
                    0x08 if !enabled => c.cpar = value,
                    0x0C if !enabled => c.cmar = value,
                    _ => {}
                }
            }
        }
        self.next = self.next_channel(cx).map(|(_, t)| t);
        self.lines(cx);
    }

    fn advance(&mut self, cx: &mut Context<'_>) {
        let now = cx.now();
        while let Some((i, at)) = self.next_channel(cx) {
            if at > now {
                break;
            }
            self.item(i, at, cx);
        }
        self.next = self.next_channel(cx).map(|(_, t)| t);
        self.lines(cx);
    }

    fn next_event(&self) -> Option<Cycles> {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::testing::Bench;

    #[test]
    fn registers_read_back_and_flags_clear() {
        let mut d = Stm32Dma::new(7, None);
        let mut b = Bench::default();
        // Channel 3's CNDTR, CPAR, CMAR.
        b.write(&mut d, 0x08 + 0x14 * 2 + 4, 0x1_0010, 0);
        b.write(&mut d, 0x08 + 0x14 * 2 + 8, 0x2000_0000, 0);
        b.write(&mut d, 0x08 + 0x14 * 2 + 12, 0x2000_1000, 0);
        assert_eq!(b.read(&mut d, 0x08 + 0x14 * 2 + 4, 0), 0x10, "16 bits");
        assert_eq!(b.read(&mut d, 0x08 + 0x14 * 2 + 8, 0), 0x2000_0000);
        // A channel that waits for a peripheral request does nothing.
        b.write(&mut d, 0x08 + 0x14 * 2, EN | TCIE, 0);
        b.advance(&mut d, 1_000);
        assert_eq!(b.read(&mut d, 0x08 + 0x14 * 2 + 4, 1_000), 0x10);
        assert_eq!(d.next_event(), None);
        // While enabled, the counts cannot be changed.
        b.write(&mut d, 0x08 + 0x14 * 2 + 4, 5, 1_000);
        assert_eq!(b.read(&mut d, 0x08 + 0x14 * 2 + 4, 1_000), 0x10);
        d.channels[2].flags = TCIF | HTIF | GIF;
        assert_eq!(b.read(&mut d, 0, 0), (TCIF | HTIF | GIF) << 8);
        assert!(d.channels[2].line(), "TCIE is set");
        b.write(&mut d, 4, TCIF << 8, 0);
        assert_eq!(b.read(&mut d, 0, 0), (HTIF | GIF) << 8);
        b.write(&mut d, 4, GIF << 8, 0);
        assert_eq!(b.read(&mut d, 0, 0), 0);
    }

    #[test]
    fn memory_to_memory_without_a_bus_is_a_transfer_error() {
        let mut d = Stm32Dma::new(1, None);
        let mut b = Bench::default();
        b.write(&mut d, 0x0C, 4, 0);
        b.write(&mut d, 0x08, EN | TEIE | MEM2MEM | MINC | PINC, 10);
        assert_eq!(d.next_event(), Some(Cycles(10)));
        b.advance(&mut d, 10);
        assert_eq!(b.read(&mut d, 0, 10) & 0xF, TEIF | GIF);
        assert_eq!(b.read(&mut d, 0x08, 10) & EN, 0, "the channel is disabled");
        assert!(b.lines[0].level);
        assert_eq!(b.work.len(), 1);
    }
}
