//! ST's DMA request multiplexer as on the STM32L4+ and G0 (RM0432 rev 9 chapter 12, RM0444
//! rev 5 chapter 11): one CxCR per channel, whose DMAREQ_ID picks the peripheral request line
//! that channel forwards to its DMA channel (DMAMUX channels 0 to 6 serve DMA1's channels 1 to
//! 7, the next ones DMA2's: RM0432 sec. 12.3.2; the board file gives each DMA its first
//! DMAMUX channel).
//!
//! What is modelled: the routing (DMAREQ_ID, request line 0 meaning none). What is not: the
//! synchronisation inputs (SE, SPOL, NBREQ, SYNC_ID) and event outputs (EGE), the
//! synchronisation-overrun flags (CSR reads 0) and the request generators (RGxCR): requests
//! pass straight through, as with SE = 0. The other bits read back as written.

use super::{Context, Device};

/// DMAREQ_ID: 7 bits on the L4+ (RM0432 sec. 12.6.1); the G0's 6 bits fit in them.
const DMAREQ_ID: u32 = 0x7F;
/// The CxCR bits that exist: DMAREQ_ID, SOIE, EGE, SE, SPOL, NBREQ, SYNC_ID.
const CXCR_MASK: u32 = 0x1FFF_037F;

/// The multiplexer.
#[derive(Debug, Clone)]
pub struct Stm32Dmamux {
    cxcr: Vec<u32>,
}

impl Stm32Dmamux {
    pub fn new(channels: u8) -> Stm32Dmamux {
        Stm32Dmamux {
            cxcr: vec![0; usize::from(channels.clamp(1, 32))],
        }
    }
}

impl Device for Stm32Dmamux {
    fn read(&mut self, offset: u32, _size: usize, _cx: &mut Context<'_>) -> u32 {
        let i = (offset / 4) as usize;
        match offset {
            0x000..0x080 if offset.is_multiple_of(4) => self.cxcr.get(i).copied().unwrap_or(0),
            _ => 0,
        }
    }

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        let i = (offset / 4) as usize;
        if offset < 0x080
            && offset.is_multiple_of(4)
            && let Some(r) = self.cxcr.get_mut(i)
        {
            *r = value & CXCR_MASK;
            cx.route(i, (value & DMAREQ_ID) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::testing::Bench;

    #[test]
    fn a_channel_forwards_the_line_its_dmareq_id_names() {
        let mut d = Stm32Dmamux::new(14);
        let mut b = Bench::default();
        b.write(&mut d, 4 * 3, 5 | 1 << 9, 0);
        assert_eq!(b.read(&mut d, 4 * 3, 0), 5 | 1 << 9);
        let mut cx = b.cx_at(100);
        assert_eq!(cx.requested(3), None, "line 5 is low");
        cx.set_request(5, true);
        assert_eq!(cx.requested(3), Some(mcusim_traces::Cycles(100)));
        assert_eq!(cx.requested(2), None, "channel 2 routes nothing");
        cx.set_request(5, false);
        assert_eq!(cx.requested(3), None);
        // Channels it does not have are ignored.
        b.write(&mut d, 4 * 20, 5, 0);
        assert_eq!(b.read(&mut d, 4 * 20, 0), 0);
    }
}
