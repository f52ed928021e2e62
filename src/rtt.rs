//! What a firmware writes to its RTT up channels (drained by the simulator, see
//! `mcusim_sim::RttSink`), shown as a probe-rs or J-Link RTT viewer would: channel 0's text as
//! it is on standard output, other text channels' lines prefixed with the channel's name.
//! A channel named `defmt` carries binary defmt frames, not text.

use mcusim_traces::Cycles;
use std::io::Write as _;

/// Prints RTT text channels on standard output.
#[derive(Default)]
pub struct Printer {
    /// Channels whose last line is not finished yet (they get their prefix once per line).
    open: std::collections::BTreeSet<u32>,
    /// Whether the note on a defmt channel was given.
    told_defmt: bool,
}

impl mcusim_sim::RttSink for Printer {
    fn up(&mut self, channel: u32, name: &str, _at: Cycles, bytes: &[u8]) {
        if name == "defmt" {
            if !self.told_defmt {
                self.told_defmt = true;
                eprintln!(
                    "mcusim: RTT channel {channel} carries defmt frames; decoding them is not implemented yet"
                );
            }
            return;
        }
        let mut out = std::io::stdout().lock();
        if channel == 0 {
            let _ = out.write_all(bytes);
            return;
        }
        let label = if name.is_empty() {
            format!("rtt{channel}")
        } else {
            name.to_owned()
        };
        for piece in bytes.split_inclusive(|&b| b == b'\n') {
            if self.open.insert(channel) {
                let _ = write!(out, "[{label}] ");
            }
            let _ = out.write_all(piece);
            if piece.ends_with(b"\n") {
                self.open.remove(&channel);
            }
        }
    }
}
