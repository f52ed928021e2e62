//! Loading a firmware ELF: its loadable segments, its symbols, and its reset vector.

use crate::Error;
use goblin::elf::{Elf, program_header::PT_LOAD, sym::STT_FUNC, sym::STT_OBJECT};
use mcusim_boards::Board;
use std::path::Path;

/// A firmware image, ready to place in a board's memory.
#[derive(Debug, Clone)]
pub struct Firmware {
    /// The file name, without directories (so reports do not depend on where the file lies).
    pub name: String,
    /// The path as given, for messages.
    pub path: String,
    /// FNV-1a 64 of the file's bytes.
    pub hash: String,
    /// The bytes to place in memory, by physical address.
    pub segments: Vec<Segment>,
    /// Function and object symbols, sorted by address.
    pub symbols: Vec<Symbol>,
    /// The ELF entry point (usually the reset handler, with the Thumb bit).
    pub elf_entry: u32,
}

/// One PT_LOAD segment. As a real loader (a flash programmer) does, the file's bytes go to the
/// load address; the program uses `mem_size` bytes at the run address, which its start-up code
/// fills (initialised data is copied from flash to RAM, `.bss` is cleared). For code and
/// constants the two addresses are the same.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The load (physical) address: where `data` is placed.
    pub addr: u32,
    /// The bytes the file holds for the segment (possibly none, as for `.bss`).
    pub data: Vec<u8>,
    /// The run (virtual) address: where the program uses the segment.
    pub run_addr: u32,
    /// Bytes the segment takes at the run address, at least `data.len()`.
    pub mem_size: u32,
    /// The allocated sections the segment holds, in address order (`.data`, `.bss`).
    pub sections: Vec<String>,
}

impl Segment {
    /// The file bytes' range at the load address (empty for `.bss`).
    pub fn load_range(&self) -> std::ops::Range<u64> {
        u64::from(self.addr)..u64::from(self.addr) + self.data.len() as u64
    }

    /// The range the program uses at the run address.
    pub fn run_range(&self) -> std::ops::Range<u64> {
        u64::from(self.run_addr)..u64::from(self.run_addr) + u64::from(self.mem_size)
    }

    /// `.data, .bss`, or `segment` when the ELF has no section headers.
    fn what(&self) -> String {
        if self.sections.is_empty() {
            "segment".into()
        } else {
            self.sections.join(", ")
        }
    }
}

/// A named address from the ELF symbol table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The symbol's name.
    pub name: String,
    /// Its address (for functions, without the Thumb bit).
    pub addr: u32,
    /// Its size in bytes (0 when the ELF does not say).
    pub size: u32,
    /// Whether it is a function.
    pub is_function: bool,
}

impl Firmware {
    /// Read and parse an ELF file.
    pub fn load(path: &Path) -> Result<Firmware, Error> {
        let shown = path.display().to_string();
        let bytes = mcusim_traces::file::read_capped(path, mcusim_traces::file::MAX_INPUT_BYTES)
            .map_err(|source| Error::Io {
                path: shown.clone(),
                source,
            })?;
        let name = path
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        Firmware::parse(&bytes, &shown, name)
    }

    /// Parse ELF bytes; `path` names the file in errors.
    pub fn parse(bytes: &[u8], path: &str, name: String) -> Result<Firmware, Error> {
        let bad = |message: String| Error::Elf {
            path: path.to_owned(),
            message,
        };
        if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
            return Err(bad("not an ELF file (no ELF magic)".into()));
        }
        let elf = Elf::parse(bytes).map_err(|e| bad(format!("malformed or truncated ELF: {e}")))?;
        if elf.is_64 || !elf.little_endian {
            return Err(bad(
                "not a 32-bit little-endian ELF (Cortex-M firmware is ELF32 LE)".into(),
            ));
        }
        if elf.header.e_machine != goblin::elf::header::EM_ARM {
            return Err(bad(format!(
                "built for {} (e_machine {}), not Arm",
                goblin::elf::header::machine_to_str(elf.header.e_machine),
                elf.header.e_machine
            )));
        }
        let mut segments: Vec<Segment> = Vec::new();
        for ph in elf.program_headers.iter().filter(|p| p.p_type == PT_LOAD) {
            if ph.p_memsz == 0 {
                continue;
            }
            let start = usize::try_from(ph.p_offset).ok();
            let end = start.and_then(|s| s.checked_add(usize::try_from(ph.p_filesz).ok()?));
            let data = match (start, end) {
                (Some(s), Some(e)) if e <= bytes.len() => bytes[s..e].to_vec(),
                _ => {
                    return Err(bad(format!(
                        "truncated: segment at {:#x} needs file bytes {:#x}..{:#x}, the file has {:#x}",
                        ph.p_paddr,
                        ph.p_offset,
                        ph.p_offset.saturating_add(ph.p_filesz),
                        bytes.len()
                    )));
                }
            };
            let (Ok(addr), Ok(run_addr), Ok(mem_size)) = (
                u32::try_from(ph.p_paddr),
                u32::try_from(ph.p_vaddr),
                u32::try_from(ph.p_memsz),
            ) else {
                return Err(bad(format!(
                    "segment at {:#x} lies outside the 32-bit address space",
                    ph.p_vaddr
                )));
            };
            if ph.p_filesz > ph.p_memsz
                || u64::from(addr) + ph.p_filesz > 1 << 32
                || u64::from(run_addr) + u64::from(mem_size) > 1 << 32
            {
                return Err(bad(format!(
                    "segment at {run_addr:#x} has impossible sizes"
                )));
            }
            // The allocated sections inside the segment's run range, to name it in messages.
            let run = u64::from(run_addr)..u64::from(run_addr) + u64::from(mem_size);
            let sections = elf
                .section_headers
                .iter()
                .filter(|sh| sh.is_alloc() && sh.sh_size > 0 && run.contains(&sh.sh_addr))
                .filter_map(|sh| elf.shdr_strtab.get_at(sh.sh_name))
                .map(str::to_owned)
                .collect();
            let segment = Segment {
                addr,
                data,
                run_addr,
                mem_size,
                sections,
            };
            // Two segments with bytes for the same addresses: which one the part would hold
            // depends on the programmer, so the image is refused.
            if let Some(other) = segments.iter().find(|o| {
                let (a, b) = (o.load_range(), segment.load_range());
                a.start < b.end && b.start < a.end
            }) {
                let (a, b) = (other.load_range(), segment.load_range());
                return Err(bad(format!(
                    "segments overlap: {} at {:#010x}..{:#010x} and {} at {:#010x}..{:#010x}",
                    other.what(),
                    a.start,
                    a.end,
                    segment.what(),
                    b.start,
                    b.end
                )));
            }
            segments.push(segment);
        }
        if segments.is_empty() {
            return Err(bad("no loadable segments".into()));
        }
        let mut symbols: Vec<Symbol> = elf
            .syms
            .iter()
            .filter(|s| matches!(s.st_type(), STT_FUNC | STT_OBJECT) && s.st_value != 0)
            .filter_map(|s| {
                let name = elf.strtab.get_at(s.st_name)?;
                let is_function = s.st_type() == STT_FUNC;
                let addr = u32::try_from(s.st_value).ok()? & if is_function { !1 } else { !0 };
                Some(Symbol {
                    name: name.to_owned(),
                    addr,
                    size: u32::try_from(s.st_size).unwrap_or(0),
                    is_function,
                })
            })
            .collect();
        symbols.sort_by(|a, b| (a.addr, &a.name).cmp(&(b.addr, &b.name)));
        symbols.dedup();
        Ok(Firmware {
            name,
            path: path.to_owned(),
            hash: mcusim_traces::report::fnv1a64(bytes),
            segments,
            symbols,
            elf_entry: u32::try_from(elf.entry).unwrap_or(0),
        })
    }

    /// Check that every segment's file bytes lie in the board's memory at their load address
    /// and that the memory the program uses at its run address exists, in flash, SRAM or TCM
    /// (adjacent regions count as one, as the linker script joins them).
    pub fn check_fits(&self, board: &Board) -> Result<(), Error> {
        for seg in &self.segments {
            for (range, place) in [(seg.load_range(), "load"), (seg.run_range(), "run")] {
                if range.is_empty() || (place == "run" && range == seg.load_range()) {
                    continue;
                }
                fits(board, range.clone()).map_err(|(region, missing)| Error::DoesNotFit {
                    path: self.path.clone(),
                    what: seg.what(),
                    start: range.start,
                    end: range.end,
                    board: board.name.clone(),
                    problem: match region {
                        Some(r) => format!(
                            "it needs {} bytes from {:#010x}, region '{}' has {} ({:#010x}..{:#010x}): {} bytes too many",
                            mcusim_traces::group(range.end - range.start),
                            range.start,
                            r.name,
                            mcusim_traces::group(r.end().min(range.end) - range.start),
                            r.base,
                            r.end(),
                            mcusim_traces::group(missing),
                        ),
                        None => format!(
                            "no flash, SRAM or TCM region of the board holds {:#010x}",
                            range.start
                        ),
                    },
                })?;
            }
        }
        Ok(())
    }

    /// The 32-bit word the image places at `addr`, if a segment's file bytes cover it.
    pub fn word_at(&self, addr: u32) -> Option<u32> {
        self.segments.iter().find_map(|s| {
            let off = addr.checked_sub(s.addr)? as usize;
            let word = s.data.get(off..off.checked_add(4)?)?;
            Some(u32::from_le_bytes(word.try_into().ok()?))
        })
    }

    /// The function symbol containing `addr`, if any.
    pub fn function_at(&self, addr: u32) -> Option<&Symbol> {
        let i = self.symbols.partition_point(|s| s.addr <= addr);
        self.symbols[..i]
            .iter()
            .rev()
            .filter(|s| s.is_function)
            .find(|s| addr < s.addr + s.size.max(1))
    }

    /// The address of the symbol with that name.
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().find(|s| s.name == name)
    }
}

/// Whether `range` lies in flash, SRAM or TCM, crossing from one region into the next where
/// they are adjacent. If not: the region it starts in (if any) and how many bytes are missing.
fn fits(
    board: &Board,
    range: std::ops::Range<u64>,
) -> Result<(), (Option<&mcusim_boards::MemoryRegion>, u64)> {
    let memory = |addr: u64| {
        board
            .region_at(addr)
            .filter(|r| r.kind != mcusim_boards::RegionKind::Mmio)
    };
    let Some(first) = memory(range.start) else {
        return Err((None, range.end - range.start));
    };
    let mut at = first.end();
    while at < range.end {
        match memory(at) {
            Some(next) => at = next.end(),
            None => return Err((Some(first), range.end - at)),
        }
    }
    Ok(())
}
