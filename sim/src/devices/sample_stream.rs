//! mcusim's sample source: a peripheral on no real part, standing in for an ADC or an audio
//! interface (SAI, PDM), that plays the run's sample file (`--stream FILE`) at the run's rate
//! into a data register, for firmware to take by DMA or by interrupt. The board file places it
//! and gives it the DMAMUX request line of the part's peripheral it stands in for.
//!
//! Register map (32-bit registers):
//!
//! | offset | name     | access | meaning |
//! |--------|----------|--------|---------|
//! | 0x00   | CR       | rw     | bit 0 EN (play), 1 DMAEN (request the DMA per sample), 2 RXNEIE, 3 OVRIE, 4 EOSIE |
//! | 0x04   | SR       | r      | bit 0 RXNE (a sample waits in DR), 1 OVR (a sample was lost), 2 EOS (the file has been played) |
//! | 0x08   | ICR      | w      | write 1 to clear OVR (bit 1) and EOS (bit 2) |
//! | 0x0C   | DR       | r      | the waiting sample, sign-extended from 16 bits; reading it clears RXNE |
//! | 0x10   | RATE     | r      | samples per second |
//! | 0x14   | LENGTH   | r      | samples in the file |
//! | 0x18   | COUNT    | r      | samples played so far (including lost ones) |
//! | 0x1C   | OVERRUNS | r      | samples lost because DR was still full |
//!
//! Timing: the k-th sample after EN is set at time t0 is ready at t0 + ceil(k * f / rate),
//! with f the core clock (so the stream keeps real time whatever the core does, as an ADC
//! triggered by a timer would). A sample that arrives while RXNE is set is lost and counted
//! (the ADC's OVRMOD = 0 behaviour: RM0432 sec. 21.4.27). When the last sample has been
//! played, EOS is set and nothing more arrives; without a file (no `--stream`), EOS is set as
//! soon as EN is. The interrupt line is high while a flag whose enable is set is high; the
//! DMA request while RXNE and DMAEN are.

use super::{Context, Device};
use mcusim_traces::Cycles;
use std::sync::Arc;

const EN: u32 = 1 << 0;
const DMAEN: u32 = 1 << 1;
const RXNEIE: u32 = 1 << 2;
const OVRIE: u32 = 1 << 3;
const EOSIE: u32 = 1 << 4;
const CR_MASK: u32 = 0x1F;

const RXNE: u32 = 1 << 0;
const OVR: u32 = 1 << 1;
const EOS: u32 = 1 << 2;

/// A sample file, as the run plays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Samples {
    /// Signed 16-bit samples, in order (one channel).
    pub data: Vec<i16>,
    /// Samples per second.
    pub rate_hz: u32,
}

/// The device.
#[derive(Debug, Clone)]
pub struct SampleStream {
    request: u8,
    samples: Option<Arc<Samples>>,
    clock_hz: u64,
    cr: u32,
    sr: u32,
    dr: i16,
    /// Samples played (the next one's index).
    position: usize,
    overruns: u32,
    /// When EN was last set, and how many samples have arrived since.
    started: Cycles,
    since: u64,
}

impl SampleStream {
    pub fn new(request: u8, samples: Option<Arc<Samples>>, clock_hz: u64) -> SampleStream {
        SampleStream {
            request,
            samples,
            clock_hz,
            cr: 0,
            sr: 0,
            dr: 0,
            position: 0,
            overruns: 0,
            started: Cycles::ZERO,
            since: 0,
        }
    }

    fn len(&self) -> usize {
        self.samples.as_ref().map_or(0, |s| s.data.len())
    }

    fn rate(&self) -> u32 {
        self.samples.as_ref().map_or(0, |s| s.rate_hz)
    }

    /// When the next sample arrives, if one will.
    fn next_at(&self) -> Option<Cycles> {
        let rate = u64::from(self.rate());
        if self.cr & EN == 0 || self.position >= self.len() || rate == 0 {
            return None;
        }
        let k = u128::from(self.since + 1);
        let offset = (k * u128::from(self.clock_hz)).div_ceil(u128::from(rate));
        Some(self.started + Cycles(u64::try_from(offset).unwrap_or(u64::MAX)))
    }

    fn outputs(&self, cx: &mut Context<'_>) {
        let irq = (self.sr & RXNE != 0 && self.cr & RXNEIE != 0)
            || (self.sr & OVR != 0 && self.cr & OVRIE != 0)
            || (self.sr & EOS != 0 && self.cr & EOSIE != 0);
        cx.set_irq(irq);
        cx.set_request(self.request, self.sr & RXNE != 0 && self.cr & DMAEN != 0);
    }

    fn end_if_played(&mut self) {
        if self.cr & EN != 0 && self.position >= self.len() {
            self.sr |= EOS;
        }
    }
}

impl Device for SampleStream {
    fn read(&mut self, offset: u32, _size: usize, cx: &mut Context<'_>) -> u32 {
        let value = match offset {
            0x00 => self.cr,
            0x04 => self.sr,
            0x0C => {
                self.sr &= !RXNE;
                i32::from(self.dr) as u32
            }
            0x10 => self.rate(),
            0x14 => u32::try_from(self.len()).unwrap_or(u32::MAX),
            0x18 => u32::try_from(self.position).unwrap_or(u32::MAX),
            0x1C => self.overruns,
            _ => 0,
        };
        self.outputs(cx);
        value
    }

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        match offset {
            0x00 => {
                let was = self.cr;
                self.cr = value & CR_MASK;
                if was & EN == 0 && self.cr & EN != 0 {
                    self.started = cx.now();
                    self.since = 0;
                }
                self.end_if_played();
            }
            0x08 => self.sr &= !(value & (OVR | EOS)),
            _ => {}
        }
        self.outputs(cx);
    }

    fn advance(&mut self, cx: &mut Context<'_>) {
        // One sample per call: the machine calls again while one is due, after the DMA has
        // had its turn.
        if let Some(at) = self.next_at()
            && at <= cx.now()
        {
            let sample = self.samples.as_ref().map_or(0, |s| s.data[self.position]);
            self.position += 1;
            self.since += 1;
            if self.sr & RXNE != 0 {
                self.sr |= OVR;
                self.overruns += 1;
            } else {
                self.dr = sample;
                self.sr |= RXNE;
            }
            self.end_if_played();
        }
        self.outputs(cx);
    }

    fn next_event(&self) -> Option<Cycles> {
        self.next_at()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::testing::Bench;

    fn stream(data: &[i16], rate_hz: u32) -> SampleStream {
        let samples = Samples {
            data: data.to_vec(),
            rate_hz,
        };
        SampleStream::new(5, Some(Arc::new(samples)), 1_000)
    }

    #[test]
    fn samples_arrive_at_the_rate_and_the_last_sets_eos() {
        // 1 kHz core, 3 samples per second: at 334, 667 and 1000 cycles after EN.
        let mut d = stream(&[-2, 7, 300], 3);
        let mut b = Bench::default();
        assert_eq!(d.next_event(), None, "not playing yet");
        b.write(&mut d, 0x00, EN | DMAEN | EOSIE, 10);
        assert_eq!(d.next_event(), Some(Cycles(344)));
        b.advance(&mut d, 344);
        assert_eq!(b.read(&mut d, 0x04, 344), RXNE);
        assert!(b.requests.borrow().levels >> 5 & 1 == 1, "DMA request");
        assert_eq!(b.read(&mut d, 0x0C, 344) as i32, -2);
        assert_eq!(b.read(&mut d, 0x04, 344), 0);
        assert!(b.requests.borrow().levels == 0, "request dropped");
        assert_eq!(d.next_event(), Some(Cycles(677)));
        // The second is not read before the third arrives: lost.
        b.advance(&mut d, 677);
        b.advance(&mut d, 1_010);
        assert_eq!(b.read(&mut d, 0x04, 1_010), RXNE | OVR | EOS);
        assert_eq!(b.read(&mut d, 0x1C, 1_010), 1);
        assert_eq!(b.read(&mut d, 0x18, 1_010), 3);
        assert_eq!(b.read(&mut d, 0x0C, 1_010), 7, "the older sample is kept");
        assert!(b.lines[0].level, "EOSIE");
        assert_eq!(d.next_event(), None);
        b.write(&mut d, 0x08, OVR | EOS, 1_010);
        assert_eq!(b.read(&mut d, 0x04, 1_010), 0);
    }

    #[test]
    fn without_a_file_the_stream_ends_at_once() {
        let mut d = SampleStream::new(5, None, 1_000);
        let mut b = Bench::default();
        b.write(&mut d, 0x00, EN, 0);
        assert_eq!(b.read(&mut d, 0x04, 0), EOS);
        assert_eq!(b.read(&mut d, 0x10, 0), 0);
        assert_eq!(d.next_event(), None);
    }
}
