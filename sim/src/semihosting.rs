//! Arm semihosting (BKPT 0xAB): the firmware's console, clock and exit.
//!
//! Operation numbers and argument blocks from Arm's "Semihosting for AArch32 and AArch64"
//! specification (release 2.0). Time comes from the simulated clock, never the host's, so a
//! run is deterministic. There is no host file access: only the console handles (`:tt`)
//! open, as a sandboxed, reproducible run should.

/// Reason code of a normal application exit (ADP_Stopped_ApplicationExit).
pub const APPLICATION_EXIT: u32 = 0x20026;

/// Console handles given out by SYS_OPEN of `:tt` (plus 1 and 2, the conventional stdout and
/// stderr handles bare-metal runtimes use without opening).
const HANDLE_STDIN: u32 = 0x100;
const HANDLE_STDOUT: u32 = 0x101;
const HANDLE_STDERR: u32 = 0x102;

/// What the machine gives a semihosting call.
pub trait Guest {
    /// Read guest memory; false if any byte is unmapped.
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> bool;
    /// Write guest memory; false if any byte is unmapped.
    fn write(&mut self, addr: u32, bytes: &[u8]) -> bool;
    /// Forward bytes to the firmware's standard output.
    fn stdout(&mut self, bytes: &[u8]);
    /// Forward bytes to the firmware's standard error.
    fn stderr(&mut self, bytes: &[u8]);
    /// Simulated cycles since reset.
    fn cycles(&self) -> u64;
    /// The core clock in Hz.
    fn clock_hz(&self) -> u64;
    /// The command line SYS_GET_CMDLINE gives: the program's name and its arguments.
    fn cmdline(&self) -> &str;
}

/// How a semihosting call ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Return this value in R0 and continue after the BKPT.
    Return(u32),
    /// The firmware asked to exit with this code.
    Exit(i64),
    /// The call is invalid; stop with this message.
    Refused(String),
}

/// The longest string SYS_WRITE0 follows before giving up (a missing terminator).
const MAX_STRING: usize = 1 << 20;

fn read_word(guest: &mut dyn Guest, addr: u32) -> Option<u32> {
    let mut b = [0u8; 4];
    guest.read(addr, &mut b).then(|| u32::from_le_bytes(b))
}

fn args<const N: usize>(guest: &mut dyn Guest, block: u32) -> Result<[u32; N], Outcome> {
    let mut out = [0u32; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = read_word(guest, block.wrapping_add(4 * i as u32)).ok_or_else(|| {
            Outcome::Refused(format!(
                "argument block at {block:#010x} is not in mapped memory"
            ))
        })?;
    }
    Ok(out)
}

fn read_bytes(guest: &mut dyn Guest, addr: u32, len: u32) -> Result<Vec<u8>, Outcome> {
    if len as usize > MAX_STRING * 16 {
        return Err(Outcome::Refused(format!(
            "buffer of {len} bytes is too large"
        )));
    }
    let mut buf = vec![0; len as usize];
    if guest.read(addr, &mut buf) {
        Ok(buf)
    } else {
        Err(Outcome::Refused(format!(
            "buffer {addr:#010x}..{:#010x} is not in mapped memory",
            u64::from(addr) + u64::from(len)
        )))
    }
}

/// Perform semihosting operation `op` with parameter `param` (R0 and R1 at the BKPT).
pub fn call(op: u32, param: u32, guest: &mut dyn Guest) -> Outcome {
    match perform(op, param, guest) {
        Ok(o) | Err(o) => o,
    }
}

fn perform(op: u32, param: u32, guest: &mut dyn Guest) -> Result<Outcome, Outcome> {
    const MINUS_ONE: u32 = u32::MAX;
    let ok = Ok(Outcome::Return(0));
    match op {
        // SYS_OPEN: only the console.
        0x01 => {
            let [name, mode, len] = args::<3>(guest, param)?;
            let name = read_bytes(guest, name, len)?;
            Ok(Outcome::Return(if name == b":tt" {
                match mode {
                    0..=3 => HANDLE_STDIN,
                    4..=7 => HANDLE_STDOUT,
                    _ => HANDLE_STDERR,
                }
            } else {
                MINUS_ONE
            }))
        }
        // SYS_CLOSE.
        0x02 => ok,
        // SYS_WRITEC: one byte at the address in R1.
        0x03 => {
            let byte = read_bytes(guest, param, 1)?;
            guest.stdout(&byte);
            ok
        }
        // SYS_WRITE0: a NUL-terminated string.
        0x04 => {
            let mut text = Vec::new();
            let mut addr = param;
            loop {
                let mut b = [0u8; 1];
                if !guest.read(addr, &mut b) {
                    return Err(Outcome::Refused(format!(
                        "string at {param:#010x} runs into unmapped memory"
                    )));
                }
                if b[0] == 0 {
                    break;
                }
                text.push(b[0]);
                if text.len() > MAX_STRING {
                    return Err(Outcome::Refused(format!(
                        "string at {param:#010x} has no terminator within 1 MiB"
                    )));
                }
                addr = addr.wrapping_add(1);
            }
            guest.stdout(&text);
            ok
        }
        // SYS_WRITE: {handle, buffer, length}; returns the bytes NOT written.
        0x05 => {
            let [handle, buf, len] = args::<3>(guest, param)?;
            let bytes = read_bytes(guest, buf, len)?;
            match handle {
                1 | HANDLE_STDOUT => guest.stdout(&bytes),
                2 | HANDLE_STDERR => guest.stderr(&bytes),
                _ => return Ok(Outcome::Return(len)),
            }
            ok
        }
        // SYS_READ: the console has no input; returns the bytes NOT read (all: end of file).
        0x06 => {
            let [_, _, len] = args::<3>(guest, param)?;
            Ok(Outcome::Return(len))
        }
        // SYS_READC: end of input.
        0x07 => Ok(Outcome::Return(MINUS_ONE)),
        // SYS_ISERROR.
        0x08 => {
            let [status] = args::<1>(guest, param)?;
            Ok(Outcome::Return(u32::from((status as i32) < 0)))
        }
        // SYS_ISTTY.
        0x09 => {
            let [handle] = args::<1>(guest, param)?;
            Ok(Outcome::Return(u32::from(matches!(
                handle,
                1 | 2 | HANDLE_STDIN | HANDLE_STDOUT | HANDLE_STDERR
            ))))
        }
        // SYS_SEEK, SYS_FLEN, SYS_TMPNAM, SYS_REMOVE, SYS_RENAME, SYS_SYSTEM: no files.
        0x0A | 0x0C | 0x0D | 0x0E | 0x0F | 0x12 => Ok(Outcome::Return(MINUS_ONE)),
        // SYS_CLOCK: centiseconds of simulated time.
        0x10 => Ok(Outcome::Return(
            (u128::from(guest.cycles()) * 100 / u128::from(guest.clock_hz())) as u32,
        )),
        // SYS_TIME: seconds since 1970 on a clock that starts at the epoch at reset.
        0x11 => Ok(Outcome::Return((guest.cycles() / guest.clock_hz()) as u32)),
        // SYS_ERRNO.
        0x13 => ok,
        // SYS_GET_CMDLINE: {buffer, length} receives the command line, NUL-terminated, and
        // its length; -1 if the buffer is too small for it.
        0x15 => {
            let [buf, len] = args::<2>(guest, param)?;
            let line = guest.cmdline().as_bytes().to_vec();
            if (len as usize) <= line.len() {
                return Ok(Outcome::Return(MINUS_ONE));
            }
            let mut text = line.clone();
            text.push(0);
            if !guest.write(buf, &text)
                || !guest.write(param.wrapping_add(4), &(line.len() as u32).to_le_bytes())
            {
                return Err(Outcome::Refused(
                    "SYS_GET_CMDLINE buffer is unusable".into(),
                ));
            }
            ok
        }
        // SYS_HEAPINFO: zeros tell the C library to use its link-time defaults.
        0x16 => {
            let [block] = args::<1>(guest, param)?;
            if !guest.write(block, &[0; 16]) {
                return Err(Outcome::Refused(format!(
                    "SYS_HEAPINFO block at {block:#010x} is not writable"
                )));
            }
            ok
        }
        // SYS_EXIT: on AArch32 R1 holds the reason itself; only a normal application exit
        // means success (as QEMU does).
        0x18 => Ok(Outcome::Exit(if param == APPLICATION_EXIT { 0 } else { 1 })),
        // SYS_EXIT_EXTENDED: {reason, subcode}; the subcode is the exit code.
        0x20 => {
            let [reason, code] = args::<2>(guest, param)?;
            Ok(Outcome::Exit(if reason == APPLICATION_EXIT {
                i64::from(code as i32)
            } else {
                1
            }))
        }
        // SYS_ELAPSED: 64-bit tick count at the address in R1.
        0x30 => {
            let ticks = guest.cycles().to_le_bytes();
            if !guest.write(param, &ticks) {
                return Err(Outcome::Refused(format!(
                    "SYS_ELAPSED target {param:#010x} is not writable"
                )));
            }
            ok
        }
        // SYS_TICKFREQ.
        0x31 => Ok(Outcome::Return(guest.clock_hz() as u32)),
        _ => Err(Outcome::Refused(format!(
            "unsupported semihosting operation {op:#x}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        mem: Vec<u8>,
        out: Vec<u8>,
        err: Vec<u8>,
    }

    impl Guest for Fake {
        fn read(&mut self, addr: u32, buf: &mut [u8]) -> bool {
            let a = addr as usize;
            match self.mem.get(a..a + buf.len()) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    true
                }
                None => false,
            }
        }
        fn write(&mut self, addr: u32, bytes: &[u8]) -> bool {
            let a = addr as usize;
            match self.mem.get_mut(a..a + bytes.len()) {
                Some(dst) => {
                    dst.copy_from_slice(bytes);
                    true
                }
                None => false,
            }
        }
        fn stdout(&mut self, bytes: &[u8]) {
            self.out.extend_from_slice(bytes);
        }
        fn stderr(&mut self, bytes: &[u8]) {
            self.err.extend_from_slice(bytes);
        }
        fn cycles(&self) -> u64 {
            250_000_000
        }
        fn clock_hz(&self) -> u64 {
            100_000_000
        }
        fn cmdline(&self) -> &str {
            "fw.elf a b"
        }
    }

    fn fake() -> Fake {
        let mut mem = vec![0u8; 256];
        mem[0x40..0x46].copy_from_slice(b"hello\0");
        // SYS_WRITE block at 0x80: handle 2, buffer 0x40, length 5.
        for (i, w) in [2u32, 0x40, 5].iter().enumerate() {
            mem[0x80 + 4 * i..0x84 + 4 * i].copy_from_slice(&w.to_le_bytes());
        }
        // SYS_EXIT_EXTENDED block at 0x90.
        for (i, w) in [APPLICATION_EXIT, 42].iter().enumerate() {
            mem[0x90 + 4 * i..0x94 + 4 * i].copy_from_slice(&w.to_le_bytes());
        }
        Fake {
            mem,
            out: vec![],
            err: vec![],
        }
    }

    #[test]
    fn console_output_goes_to_the_right_stream() {
        let mut g = fake();
        assert_eq!(call(0x04, 0x40, &mut g), Outcome::Return(0));
        assert_eq!(call(0x03, 0x41, &mut g), Outcome::Return(0));
        assert_eq!(call(0x05, 0x80, &mut g), Outcome::Return(0));
        assert_eq!(g.out, b"helloe");
        assert_eq!(g.err, b"hello");
    }

    #[test]
    fn exit_codes_follow_qemu() {
        let mut g = fake();
        assert_eq!(call(0x18, APPLICATION_EXIT, &mut g), Outcome::Exit(0));
        assert_eq!(call(0x18, 0x20023, &mut g), Outcome::Exit(1));
        assert_eq!(call(0x20, 0x90, &mut g), Outcome::Exit(42));
    }

    #[test]
    fn the_command_line_reaches_the_firmware() {
        let mut g = fake();
        // {buffer 0xA0, length 32} at 0xC0.
        g.mem[0xC0..0xC4].copy_from_slice(&0xA0u32.to_le_bytes());
        g.mem[0xC4..0xC8].copy_from_slice(&32u32.to_le_bytes());
        assert_eq!(call(0x15, 0xC0, &mut g), Outcome::Return(0));
        assert_eq!(&g.mem[0xA0..0xAB], b"fw.elf a b\0");
        assert_eq!(g.mem[0xC4], 10);
        // Too small a buffer: -1, nothing written.
        g.mem[0xC4..0xC8].copy_from_slice(&10u32.to_le_bytes());
        assert_eq!(call(0x15, 0xC0, &mut g), Outcome::Return(u32::MAX));
    }

    #[test]
    fn time_is_simulated_time() {
        let mut g = fake();
        assert_eq!(call(0x10, 0, &mut g), Outcome::Return(250));
        assert_eq!(call(0x11, 0, &mut g), Outcome::Return(2));
        assert_eq!(call(0x31, 0, &mut g), Outcome::Return(100_000_000));
    }

    #[test]
    fn bad_calls_are_refused_not_obeyed() {
        let mut g = fake();
        assert!(matches!(call(0x99, 0, &mut g), Outcome::Refused(m) if m.contains("0x99")));
        assert!(matches!(
            call(0x05, 0xFFFF_0000, &mut g),
            Outcome::Refused(_)
        ));
        // A string without terminator inside mapped memory runs into the end of it.
        g.mem[0x40..].fill(b'x');
        assert!(matches!(call(0x04, 0x40, &mut g), Outcome::Refused(m) if m.contains("unmapped")));
    }
}
