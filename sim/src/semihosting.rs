//! Arm semihosting (BKPT 0xAB): the firmware's console, clock and exit.
//!
//! Operation numbers and argument blocks from Arm's "Semihosting for AArch32 and AArch64"
//! specification (release 2.0). Time comes from the simulated clock, never the host's, so a
//! run is deterministic. Host files are refused unless the user names a folder for them
//! (`--semihosting-root DIR`, [`HostFiles`]): then SYS_OPEN reaches files under it and only
//! there (no absolute paths, no `..`, no symbolic link leading out, at most
//! [`MAX_OPEN_FILES`] open and [`MAX_WRITTEN`] bytes written a run). SYS_REMOVE, SYS_RENAME,
//! SYS_TMPNAM and SYS_SYSTEM are always refused: the firmware never runs a host command.

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
    /// The host files the firmware may use, if the user named a folder for them.
    fn files(&mut self) -> Option<&mut HostFiles> {
        None
    }
}

/// Files open at once under the semihosting root.
pub const MAX_OPEN_FILES: usize = 16;
/// Bytes a run may write into the semihosting root in all.
pub const MAX_WRITTEN: u64 = 64 << 20;
/// The first host file handle (below are the console's).
const FIRST_FILE: u32 = 0x200;

/// The folder a run's semihosting file calls are confined to, and the files open in it.
#[derive(Debug)]
pub struct HostFiles {
    root: std::path::PathBuf,
    open: Vec<Option<std::fs::File>>,
    written: u64,
}

impl HostFiles {
    /// Files under `root`, which must be a folder.
    pub fn new(root: &std::path::Path) -> std::io::Result<HostFiles> {
        let root = std::fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a folder",
            ));
        }
        Ok(HostFiles {
            root,
            open: Vec::new(),
            written: 0,
        })
    }

    /// Where `name` lies under the root, or `None` if it would lie anywhere else: a relative
    /// path of plain components whose real location (symbolic links followed) is inside the
    /// root; a file to create must have its folder inside and not be a link itself.
    pub fn resolve(&self, name: &[u8], create: bool) -> Option<std::path::PathBuf> {
        use std::path::{Component, Path};
        let name = std::str::from_utf8(name).ok()?;
        let rel = Path::new(name);
        let plain = rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if name.is_empty() || name.contains('\0') || !plain || rel.is_absolute() {
            return None;
        }
        let path = self.root.join(rel);
        match std::fs::canonicalize(&path) {
            Ok(real) => real.starts_with(&self.root).then_some(real),
            Err(_) if create => {
                let folder = std::fs::canonicalize(path.parent()?).ok()?;
                let fresh = std::fs::symlink_metadata(&path).is_err();
                (fresh && folder.starts_with(&self.root))
                    .then(|| folder.join(path.file_name().unwrap_or_default()))
            }
            Err(_) => None,
        }
    }

    /// SYS_OPEN of `name` with the ISO C mode number `mode` (0-11: r, rb, r+, r+b, w, wb,
    /// w+, w+b, a, ab, a+, a+b): the handle, or `None`.
    fn open(&mut self, name: &[u8], mode: u32) -> Option<u32> {
        let mut o = std::fs::OpenOptions::new();
        match mode / 2 {
            0 => o.read(true),
            1 => o.read(true).write(true),
            2 => o.write(true).create(true).truncate(true),
            3 => o.read(true).write(true).create(true).truncate(true),
            4 => o.append(true).create(true),
            5 => o.read(true).append(true).create(true),
            _ => return None,
        };
        let path = self.resolve(name, mode >= 4)?;
        let slot = match self.open.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.open.len() < MAX_OPEN_FILES => {
                self.open.push(None);
                self.open.len() - 1
            }
            None => return None,
        };
        self.open[slot] = Some(o.open(path).ok()?);
        Some(FIRST_FILE + slot as u32)
    }

    fn file(&mut self, handle: u32) -> Option<&mut std::fs::File> {
        let i = handle.checked_sub(FIRST_FILE)? as usize;
        self.open.get_mut(i)?.as_mut()
    }

    fn close(&mut self, handle: u32) -> bool {
        let i = handle.wrapping_sub(FIRST_FILE) as usize;
        self.open.get_mut(i).and_then(Option::take).is_some()
    }
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
        // SYS_OPEN: the console, or a file under the semihosting root.
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
                guest
                    .files()
                    .and_then(|f| f.open(&name, mode))
                    .unwrap_or(MINUS_ONE)
            }))
        }
        // SYS_CLOSE.
        0x02 => {
            let [handle] = args::<1>(guest, param)?;
            if handle >= FIRST_FILE {
                let closed = guest.files().is_some_and(|f| f.close(handle));
                return Ok(Outcome::Return(if closed { 0 } else { MINUS_ONE }));
            }
            ok
        }
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
                _ => {
                    use std::io::Write as _;
                    let Some(files) = guest.files() else {
                        return Ok(Outcome::Return(len));
                    };
                    if files.written + u64::from(len) > MAX_WRITTEN {
                        return Ok(Outcome::Return(len));
                    }
                    let done = files
                        .file(handle)
                        .is_some_and(|f| f.write_all(&bytes).is_ok());
                    if !done {
                        return Ok(Outcome::Return(len));
                    }
                    files.written += u64::from(len);
                }
            }
            ok
        }
        // SYS_READ: {handle, buffer, length}; returns the bytes NOT read (the console has no
        // input: all of them, end of file).
        0x06 => {
            let [handle, buf, len] = args::<3>(guest, param)?;
            let want = len.min(MAX_STRING as u32 * 16) as usize;
            let mut data = vec![0u8; want];
            let got = match guest.files().and_then(|f| f.file(handle)) {
                Some(f) => {
                    use std::io::Read as _;
                    let mut n = 0;
                    while n < want {
                        match f.read(&mut data[n..]) {
                            Ok(0) | Err(_) => break,
                            Ok(k) => n += k,
                        }
                    }
                    n
                }
                None => 0,
            };
            if got > 0 && !guest.write(buf, &data[..got]) {
                return Err(Outcome::Refused(format!(
                    "SYS_READ buffer at {buf:#010x} is not in mapped memory"
                )));
            }
            Ok(Outcome::Return(len - got as u32))
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
        // SYS_SEEK: {handle, position from the start}.
        0x0A => {
            use std::io::Seek as _;
            let [handle, pos] = args::<2>(guest, param)?;
            let done = guest
                .files()
                .and_then(|f| f.file(handle))
                .is_some_and(|f| f.seek(std::io::SeekFrom::Start(u64::from(pos))).is_ok());
            Ok(Outcome::Return(if done { 0 } else { MINUS_ONE }))
        }
        // SYS_FLEN: {handle}.
        0x0C => {
            let [handle] = args::<1>(guest, param)?;
            let len = guest
                .files()
                .and_then(|f| f.file(handle))
                .and_then(|f| f.metadata().ok())
                .and_then(|m| u32::try_from(m.len()).ok());
            Ok(Outcome::Return(len.unwrap_or(MINUS_ONE)))
        }
        // SYS_TMPNAM, SYS_REMOVE, SYS_RENAME, SYS_SYSTEM: never.
        0x0D | 0x0E | 0x0F | 0x12 => Ok(Outcome::Return(MINUS_ONE)),
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

    /// Host files reach the root and nothing outside it: no absolute path, no `..`, no
    /// symbolic link out (to a file or a folder), no dangling link to create through.
    #[cfg(unix)]
    #[test]
    fn host_files_stay_under_the_root() {
        let base = std::env::temp_dir().join(format!("mcusim-sh-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.txt"), b"a").unwrap();
        std::fs::write(base.join("secret.txt"), b"s").unwrap();
        std::os::unix::fs::symlink(&base, root.join("out")).unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(base.join("nothing.txt"), root.join("dangle")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("sub/inside.txt")).unwrap();
        let f = HostFiles::new(&root).unwrap();
        let real = std::fs::canonicalize(&root).unwrap();
        assert_eq!(f.resolve(b"a.txt", false), Some(real.join("a.txt")));
        assert_eq!(f.resolve(b"./a.txt", false), Some(real.join("a.txt")));
        assert_eq!(
            f.resolve(b"sub/inside.txt", false),
            Some(real.join("a.txt"))
        );
        assert_eq!(
            f.resolve(b"sub/new.txt", true),
            Some(real.join("sub/new.txt"))
        );
        for bad in [
            &b"../secret.txt"[..],
            b"sub/../a.txt",
            b"/etc/passwd",
            b"out/secret.txt",
            b"link.txt",
            b"",
            b"a\0b",
            b"\xff",
        ] {
            assert_eq!(
                f.resolve(bad, false),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert_eq!(
                f.resolve(bad, true),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(f.resolve(b"dangle", true), None);
        assert_eq!(f.resolve(b"out/new.txt", true), None);
        std::fs::remove_dir_all(&base).unwrap();
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
