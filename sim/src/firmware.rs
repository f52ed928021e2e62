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

/// One PT_LOAD segment: `data` at `addr`, then zeros up to `mem_size`.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Physical (load) address.
    pub addr: u32,
    /// The initialised bytes.
    pub data: Vec<u8>,
    /// Size in memory, at least `data.len()`.
    pub mem_size: u32,
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
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
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
        let mut segments = Vec::new();
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
            let (Ok(addr), Ok(mem_size)) = (u32::try_from(ph.p_paddr), u32::try_from(ph.p_memsz))
            else {
                return Err(bad(format!(
                    "segment at {:#x} lies outside the 32-bit address space",
                    ph.p_paddr
                )));
            };
            if ph.p_filesz > ph.p_memsz || u64::from(addr) + u64::from(mem_size) > 1 << 32 {
                return Err(bad(format!("segment at {addr:#x} has impossible sizes")));
            }
            segments.push(Segment {
                addr,
                data,
                mem_size,
            });
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

    /// Check that every segment lies inside one of the board's non-MMIO regions.
    pub fn check_fits(&self, board: &Board) -> Result<(), Error> {
        for seg in &self.segments {
            let end = u64::from(seg.addr) + u64::from(seg.mem_size);
            let fits = board.regions().iter().any(|r| {
                r.kind != mcusim_boards::RegionKind::Mmio
                    && r.base <= u64::from(seg.addr)
                    && end <= r.end()
            });
            if !fits {
                return Err(Error::SegmentOutside {
                    path: self.path.clone(),
                    start: seg.addr,
                    end,
                    board: board.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// The 32-bit word the image places at `addr`, if a segment covers it.
    pub fn word_at(&self, addr: u32) -> Option<u32> {
        self.segments.iter().find_map(|s| {
            let off = addr.checked_sub(s.addr)? as usize;
            if off + 4 <= s.data.len() {
                Some(u32::from_le_bytes(s.data[off..off + 4].try_into().ok()?))
            } else if off + 4 <= s.mem_size as usize {
                Some(0)
            } else {
                None
            }
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
