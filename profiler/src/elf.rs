//! What the firmware image occupies: flash (code, constants, initial data) and static RAM, from
//! the ELF's sections and symbols, with the linker symbols of mcusim's linker script that bound
//! the heap and stack.

use goblin::elf::Elf;
use goblin::elf::section_header::{SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS};
use goblin::elf::sym::{STT_FUNC, STT_OBJECT};
use mcusim_traces::abi;
use std::path::Path;

/// Why an image cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ImageError {
    pub path: String,
    pub message: String,
}

/// A function of the image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Function {
    /// Entry address (without the Thumb bit).
    pub start: u32,
    /// One past its last byte.
    pub end: u32,
    /// The name to show: demangled (C++ and Rust), with the source file or the address added
    /// where several functions would show the same name (C++ anonymous namespaces).
    pub name: String,
    /// The symbol as the ELF spells it.
    pub symbol: String,
    /// The source file and line of its entry, from the DWARF line table, if the ELF has one
    /// (the path as the compiler recorded it).
    pub source: Option<(String, u32)>,
}

pub use mcusim_traces::demangle;

/// The sizes the profile reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    pub flash_bytes: u32,
    pub flash_code_bytes: u32,
    pub static_ram_bytes: u32,
    /// Objects stored in flash (constants), largest first: (name, bytes).
    flash_objects: Vec<(String, u32)>,
    /// Functions, sorted by start.
    functions: Vec<Function>,
    /// Data objects with a size: (name, address, bytes).
    objects: Vec<(String, u32, u32)>,
    /// Where the free RAM above static data starts and where the stack starts (its top).
    pub heap_start: Option<u32>,
    pub stack_top: Option<u32>,
    /// The compilers that built it, from the `.comment` section (`GCC: (...) 13.2.1 ...`).
    pub compiler: Option<String>,
    /// The executable sections' bytes: (address, bytes).
    code: Vec<(u32, Vec<u8>)>,
    /// Every section stored in flash (initialised data as its load image): (name, bytes), in
    /// address order.
    pub flash_sections: Vec<(String, u32)>,
    /// The model's tensor arena (the RAM object `arena` mcusim's generated code plans, or
    /// TensorFlow Lite Micro's `tensor_arena`, or the one [`Image::use_arena`] names), bytes,
    /// and its address.
    pub arena_bytes: Option<u32>,
    pub arena_addr: Option<u32>,
    /// The DWARF line table, if the ELF has one: (start address, one past its end, file,
    /// line), sorted by start.
    lines: Vec<(u32, u32, std::sync::Arc<str>, u32)>,
}

impl Function {
    /// The symbol, if it differs from the name shown.
    pub fn mangled(&self) -> Option<String> {
        (self.symbol != self.name).then(|| self.symbol.clone())
    }

    /// `file:line` of the entry, if known.
    pub fn location(&self) -> Option<String> {
        self.source
            .as_ref()
            .map(|(file, line)| format!("{file}:{line}"))
    }
}

impl Image {
    pub fn load(path: &Path) -> Result<Image, ImageError> {
        let bytes = mcusim_traces::file::read_capped(path, mcusim_traces::file::MAX_INPUT_BYTES)
            .map_err(|e| ImageError {
                path: path.display().to_string(),
                message: format!("cannot read: {e}"),
            })?;
        Image::parse(&bytes, &path.display().to_string())
    }

    /// The image of ELF `bytes` (read once by the caller, who also hands them to the
    /// simulator); `path` names the file in errors.
    pub fn parse(bytes: &[u8], path: &str) -> Result<Image, ImageError> {
        let fail = |message: String| ImageError {
            path: path.to_owned(),
            message,
        };
        let elf = Elf::parse(bytes).map_err(|e| fail(format!("not an ELF file: {e}")))?;
        let mut image = Image::default();
        for sh in &elf.section_headers {
            if sh.sh_flags & u64::from(SHF_ALLOC) == 0 || sh.sh_size == 0 {
                continue;
            }
            let size = sh.sh_size as u32;
            let writable = sh.sh_flags & u64::from(SHF_WRITE) != 0;
            let nobits = sh.sh_type == SHT_NOBITS;
            if writable {
                image.static_ram_bytes += size;
            }
            // Flash holds every non-NOBITS section (initialised data as its load image).
            if !nobits {
                image.flash_bytes += size;
                let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?");
                image.flash_sections.push((name.to_owned(), size));
            }
            if sh.sh_flags & u64::from(SHF_EXECINSTR) != 0 && !nobits {
                let start = usize::try_from(sh.sh_offset).unwrap_or(usize::MAX);
                if let Some(b) = bytes.get(start..start.saturating_add(size as usize)) {
                    image.code.push((sh.sh_addr as u32, b.to_vec()));
                }
            }
        }
        let comment = elf
            .section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".comment"))
            .and_then(|sh| {
                let start = usize::try_from(sh.sh_offset).ok()?;
                bytes.get(start..start.checked_add(usize::try_from(sh.sh_size).ok()?)?)
            });
        if let Some(text) = comment {
            let mut found: Vec<String> = text
                .split(|&b| b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).trim().to_owned())
                .collect();
            found.sort();
            found.dedup();
            if !found.is_empty() {
                image.compiler = Some(found.join("; "));
            }
        }
        let flash_sections: Vec<(u64, u64)> = elf
            .section_headers
            .iter()
            .filter(|sh| {
                sh.sh_flags & u64::from(SHF_ALLOC) != 0 && sh.sh_flags & u64::from(SHF_WRITE) == 0
            })
            .map(|sh| (sh.sh_addr, sh.sh_addr + sh.sh_size))
            .collect();
        for sym in elf.syms.iter() {
            let Some(name) = elf.strtab.get_at(sym.st_name) else {
                continue;
            };
            if abi::ARENA.contains(&name) && sym.st_type() == STT_OBJECT {
                image.arena_bytes = u32::try_from(sym.st_size).ok();
                image.arena_addr = u32::try_from(sym.st_value).ok();
            } else if name == abi::HEAP_START {
                image.heap_start = u32::try_from(sym.st_value).ok();
            } else if name == abi::STACK_TOP {
                image.stack_top = u32::try_from(sym.st_value).ok();
            }
            let in_flash = flash_sections
                .iter()
                .any(|&(a, b)| (a..b).contains(&sym.st_value));
            if sym.st_type() == STT_OBJECT && sym.st_size > 0 {
                image
                    .objects
                    .push((name.to_owned(), sym.st_value as u32, sym.st_size as u32));
            }
            if sym.st_type() == STT_OBJECT && in_flash && sym.st_size > 0 {
                image
                    .flash_objects
                    .push((name.to_owned(), sym.st_size as u32));
            }
            // Code is what the function symbols cover (constants share the .text section).
            if sym.st_type() == STT_FUNC && in_flash {
                image.flash_code_bytes += sym.st_size as u32;
            }
            if sym.st_type() == STT_FUNC {
                let start = (sym.st_value as u32) & !1;
                image.functions.push(Function {
                    start,
                    end: start + (sym.st_size as u32).max(1),
                    name: demangle(name),
                    symbol: name.to_owned(),
                    source: None,
                });
            }
        }
        image
            .flash_objects
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        image
            .functions
            .sort_by(|a, b| (a.start, &a.symbol).cmp(&(b.start, &b.symbol)));
        image.functions.dedup_by(|a, b| a.start == b.start);
        image.lines = source_lines(&elf, bytes, &mut image.functions);
        disambiguate(&mut image.functions);
        Ok(image)
    }

    /// Takes the RAM object `name` as the tensor arena, false if the image has no such object.
    pub fn use_arena(&mut self, name: &str) -> bool {
        match self.objects.iter().find(|o| o.0 == name) {
            Some(&(_, addr, size)) => {
                self.arena_addr = Some(addr);
                self.arena_bytes = Some(size);
                true
            }
            None => false,
        }
    }

    /// The start of the function called `name`.
    pub fn function_start(&self, name: &str) -> Option<u32> {
        self.functions
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.start)
    }

    /// The code bytes at `addr..addr + len`, if an executable section holds them all.
    pub fn code_at(&self, addr: u32, len: u32) -> Option<&[u8]> {
        self.code.iter().find_map(|(start, bytes)| {
            let off = addr.checked_sub(*start)? as usize;
            bytes.get(off..off.checked_add(len as usize)?)
        })
    }

    /// The function called `name`: (start, end).
    pub fn function_range(&self, name: &str) -> Option<(u32, u32)> {
        self.functions
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.start, f.end))
    }

    /// The function shown as `name`.
    pub fn function_named(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Every function, by address.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// The function containing `addr`, if any.
    pub fn function_containing(&self, addr: u32) -> Option<&Function> {
        let i = self.functions.partition_point(|f| f.start <= addr);
        self.functions[..i].last().filter(|f| addr < f.end)
    }

    /// The source file (as the compiler recorded it) and line of the instruction at `addr`,
    /// from the DWARF line table, if the ELF has one.
    pub fn source_at(&self, addr: u32) -> Option<(&str, u32)> {
        let i = self.lines.partition_point(|r| r.0 <= addr).checked_sub(1)?;
        let (start, end, file, line) = &self.lines[i];
        (*start <= addr && addr < *end).then_some((file.as_ref(), *line))
    }

    /// The name of the function containing `addr`, if any.
    pub fn function_at(&self, addr: u32) -> Option<&str> {
        self.function_containing(addr).map(|f| f.name.as_str())
    }

    /// The `n` largest objects in flash.
    pub fn top_flash_symbols(&self, n: usize) -> Vec<(String, u32)> {
        self.flash_objects.iter().take(n).cloned().collect()
    }
}

/// Fills in each function's source file and line from the DWARF line table, if the ELF has
/// one. A missing or broken table leaves them unknown.
fn source_lines(
    elf: &Elf<'_>,
    bytes: &[u8],
    functions: &mut [Function],
) -> Vec<(u32, u32, std::sync::Arc<str>, u32)> {
    use addr2line::gimli;
    let section = |id: gimli::SectionId| -> Result<gimli::EndianSlice<'_, gimli::LittleEndian>, gimli::Error> {
        let data = elf
            .section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(id.name()))
            .filter(|sh| sh.sh_type != SHT_NOBITS)
            .and_then(|sh| {
                let start = usize::try_from(sh.sh_offset).ok()?;
                bytes.get(start..start.checked_add(usize::try_from(sh.sh_size).ok()?)?)
            })
            .unwrap_or(&[]);
        Ok(gimli::EndianSlice::new(data, gimli::LittleEndian))
    };
    let has_lines = elf
        .section_headers
        .iter()
        .any(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".debug_line"));
    if !has_lines {
        return Vec::new();
    }
    let Ok(dwarf) = gimli::Dwarf::load(section) else {
        return Vec::new();
    };
    let Ok(context) = addr2line::Context::from_dwarf(dwarf) else {
        return Vec::new();
    };
    for f in functions.iter_mut() {
        if let Ok(Some(loc)) = context.find_location(u64::from(f.start))
            && let (Some(file), Some(line)) = (loc.file, loc.line)
        {
            f.source = Some((file.to_owned(), line));
        }
    }
    // Every function's rows, its file names shared.
    let mut files: std::collections::HashMap<String, std::sync::Arc<str>> = Default::default();
    let mut rows = Vec::new();
    for f in functions.iter() {
        let Ok(range) = context.find_location_range(u64::from(f.start), u64::from(f.end)) else {
            continue;
        };
        for (start, len, loc) in range {
            let (Some(file), Some(line)) = (loc.file, loc.line) else {
                continue;
            };
            let file = files
                .entry(file.to_owned())
                .or_insert_with(|| file.into())
                .clone();
            let start = u32::try_from(start).unwrap_or(u32::MAX);
            let end = start.saturating_add(u32::try_from(len).unwrap_or(0));
            rows.push((start, end, file, line));
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    rows.dedup_by_key(|r| r.0);
    rows
}

/// Functions that would show the same name (C++'s anonymous namespaces give every operator's
/// `Eval` one) get their source file, or their address, added to it.
fn disambiguate(functions: &mut [Function]) {
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in functions.iter() {
        *count.entry(f.name.clone()).or_default() += 1;
    }
    for f in functions.iter_mut() {
        if count.get(&f.name).is_some_and(|&n| n > 1) {
            let file = f
                .source
                .as_ref()
                .and_then(|(path, _)| path.rsplit(['/', '\\']).next())
                .map(str::to_owned);
            f.name = match file {
                Some(file) => format!("{} [{file}]", f.name),
                None => format!("{} [{:#010x}]", f.name, f.start),
            };
        }
    }
    // Two functions of one name in one file (rare): the address settles it.
    let mut again: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in functions.iter() {
        *again.entry(f.name.clone()).or_default() += 1;
    }
    for f in functions.iter_mut() {
        if again.get(&f.name).is_some_and(|&n| n > 1) {
            f.name = format!("{} [{:#010x}]", f.name, f.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_demangled_for_people() {
        assert_eq!(
            demangle("_ZN6tflite12_GLOBAL__N_14EvalEP13TfLiteContextP10TfLiteNode"),
            "tflite::(anonymous namespace)::Eval(TfLiteContext*, TfLiteNode*)"
        );
        // Rust, legacy mangling: the hash is left out.
        assert_eq!(
            demangle("_ZN4core9panicking5panic17h0123456789abcdefE"),
            "core::panicking::panic"
        );
        // Rust, v0 mangling.
        assert_eq!(demangle("_RNvCs15kBYyAo9fc_7mycrate4main"), "mycrate::main");
        // C names and anything unmangled stay as they are.
        assert_eq!(demangle("arm_convolve_s8"), "arm_convolve_s8");
        assert_eq!(demangle("_Z3"), "_Z3");
    }

    #[test]
    fn functions_of_one_name_get_their_file_or_address() {
        let f = |start, source: Option<&str>| Function {
            start,
            end: start + 4,
            name: "tflite::(anonymous namespace)::Eval(TfLiteContext*, TfLiteNode*)".into(),
            symbol: "_ZN6tflite12_GLOBAL__N_14EvalEP13TfLiteContextP10TfLiteNode".into(),
            source: source.map(|s| (s.to_owned(), 1)),
        };
        let mut v = vec![
            f(0x100, Some("kernels/conv.cpp")),
            f(0x200, Some("kernels/cmsis_nn/depthwise_conv.cpp")),
            f(0x300, None),
        ];
        disambiguate(&mut v);
        assert!(v[0].name.ends_with(" [conv.cpp]"), "{}", v[0].name);
        assert!(
            v[1].name.ends_with(" [depthwise_conv.cpp]"),
            "{}",
            v[1].name
        );
        assert!(v[2].name.ends_with(" [0x00000300]"), "{}", v[2].name);
    }
}
