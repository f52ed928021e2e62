//! What a firmware writes to its RTT up channels (drained by the simulator, see
//! `mcusim_sim::RttSink`), shown as a probe-rs or J-Link RTT viewer would: channel 0's text as
//! it is on standard output, other text channels' lines prefixed with the channel's name.
//! A channel named `defmt` carries defmt frames: decoded with the ELF's defmt table by
//! `defmt-decoder` (the decoder probe-rs uses) and printed one line each, as probe-rs does, with
//! the simulated time the firmware wrote them: `0.000123 INFO  hello`.

use mcusim_traces::Cycles;
use std::io::Write as _;

/// Prints RTT text channels and decoded defmt frames on standard output.
#[derive(Default)]
pub struct Printer {
    /// Channels whose last line is not finished yet (they get their prefix once per line).
    open: std::collections::BTreeSet<u32>,
    /// The ELF's defmt table, if it has one, and the bytes of a frame not yet complete.
    defmt: Option<defmt_decoder::Table>,
    pending: Vec<u8>,
    clock_hz: u64,
    /// Whether the note on a defmt channel without a table was given.
    told_defmt: bool,
}

impl Printer {
    /// A printer for the firmware `elf` on a board clocked at `clock_hz` (simulated time).
    pub fn new(elf: &[u8], clock_hz: u64) -> Printer {
        Printer {
            defmt: defmt_decoder::Table::parse(elf).ok().flatten(),
            clock_hz: clock_hz.max(1),
            ..Printer::default()
        }
    }

    /// Decodes and prints every complete frame in `bytes` (with what came before).
    fn defmt(&mut self, at: Cycles, bytes: &[u8]) {
        let Some(table) = &self.defmt else {
            if !self.told_defmt {
                self.told_defmt = true;
                eprintln!(
                    "mcusim: an RTT channel carries defmt frames but the ELF has no defmt table to decode them"
                );
            }
            return;
        };
        self.pending.extend_from_slice(bytes);
        let seconds = at.0 as f64 / self.clock_hz as f64;
        let mut out = std::io::stdout().lock();
        let line = |frame: &defmt_decoder::Frame<'_>| {
            let level = frame
                .level()
                .map_or_else(|| "PRINT".to_owned(), |l| l.as_str().to_uppercase());
            format!("{seconds:.6} {level:<5} {}", frame.display_message())
        };
        match table.encoding() {
            // rzCOBS frames end with a zero byte: each complete one decoded on its own.
            defmt_decoder::Encoding::Rzcobs => {
                while let Some(end) = self.pending.iter().position(|&b| b == 0) {
                    let frame: Vec<u8> = self.pending.drain(..=end).collect();
                    // A lone zero separates frames (defmt-rtt starts with one).
                    if frame.len() == 1 {
                        continue;
                    }
                    let mut decoder = table.new_stream_decoder();
                    decoder.received(&frame);
                    match decoder.decode() {
                        Ok(f) => {
                            let _ = writeln!(out, "{}", line(&f));
                        }
                        Err(_) => {
                            let _ =
                                writeln!(out, "{seconds:.6} (a defmt frame that does not decode)");
                        }
                    }
                }
            }
            defmt_decoder::Encoding::Raw => loop {
                match table.decode(&self.pending) {
                    Ok((f, used)) => {
                        let _ = writeln!(out, "{}", line(&f));
                        drop(f);
                        self.pending.drain(..used);
                    }
                    Err(defmt_decoder::DecodeError::UnexpectedEof) => break,
                    Err(defmt_decoder::DecodeError::Malformed) => {
                        let _ = writeln!(out, "{seconds:.6} (defmt data that does not decode)");
                        self.pending.clear();
                        break;
                    }
                }
            },
            // An encoding newer than this decoder knows.
            _ => {
                self.pending.clear();
                if !self.told_defmt {
                    self.told_defmt = true;
                    eprintln!(
                        "mcusim: the ELF's defmt frames use an encoding this mcusim cannot decode"
                    );
                }
            }
        }
    }
}

impl mcusim_sim::RttSink for Printer {
    fn up(&mut self, channel: u32, name: &str, at: Cycles, bytes: &[u8]) {
        if name == "defmt" {
            self.defmt(at, bytes);
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
