//! The hottest functions' code, disassembled (capstone, Thumb with the M-profile extra mode)
//! and annotated with what each instruction cost: executions and issue cycles, from the
//! simulator's per-block counts and per-instruction costs.

use crate::elf::Image;
use crate::profile::{AnnotatedFunction, AnnotatedInstruction};
use capstone::prelude::*;
use mcusim_traces::BlockCount;
use std::collections::BTreeMap;

/// The longest function annotated, in bytes (larger ones are cut there).
const MAX_FUNCTION_BYTES: u32 = 16 * 1024;

/// Annotates the functions named in `names` (in that order); each run of instructions from
/// one source line starts with its `file:line` and, where `sources` can read the file, the
/// line's text.
pub fn annotate(
    image: &Image,
    blocks: &[BlockCount],
    names: &[String],
    sources: &dyn Fn(&str) -> Option<String>,
) -> Vec<AnnotatedFunction> {
    let mut files: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    let mut text_of = |file: &str, line: u32| -> Option<String> {
        let lines = files
            .entry(file.to_owned())
            .or_insert_with(|| sources(file).map(|t| t.lines().map(str::to_owned).collect()));
        let text = lines
            .as_ref()?
            .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        Some(text.trim().to_owned())
    };
    let Ok(cs) = Capstone::new()
        .arm()
        .mode(arch::arm::ArchMode::Thumb)
        .extra_mode([arch::arm::ArchExtraMode::MClass].into_iter())
        .build()
    else {
        return Vec::new();
    };
    // Per instruction address: (executions, issue cycles).
    let mut cost: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for b in blocks {
        for (off, cycles) in b.insn_offsets.iter().zip(&b.insn_cycles) {
            let e = cost.entry(b.start + u32::from(*off)).or_default();
            e.0 += b.executions;
            e.1 += b.executions * u64::from(*cycles);
        }
    }
    let mut out = Vec::new();
    for name in names {
        let Some((start, end)) = image.function_range(name) else {
            continue;
        };
        let len = (end - start).min(MAX_FUNCTION_BYTES);
        let Some(bytes) = image.code_at(start, len) else {
            continue;
        };
        let Ok(insns) = cs.disasm_all(bytes, u64::from(start)) else {
            continue;
        };
        let mut previous: Option<(String, u32)> = None;
        let instructions: Vec<AnnotatedInstruction> = insns
            .iter()
            .map(|i| {
                let address = i.address() as u32;
                let (executions, cycles) = cost.get(&address).copied().unwrap_or_default();
                let here = image.source_at(address).map(|(f, l)| (f.to_owned(), l));
                let (source, source_text) = match &here {
                    Some((file, line)) if previous.as_ref() != here.as_ref() => {
                        (Some(format!("{file}:{line}")), text_of(file, *line))
                    }
                    _ => (None, None),
                };
                previous = here;
                AnnotatedInstruction {
                    address,
                    bytes: i.bytes().iter().map(|b| format!("{b:02x}")).collect(),
                    text: format!(
                        "{} {}",
                        i.mnemonic().unwrap_or("?"),
                        i.op_str().unwrap_or("")
                    )
                    .trim()
                    .to_owned(),
                    executions,
                    cycles,
                    source,
                    source_text,
                }
            })
            .collect();
        out.push(AnnotatedFunction {
            name: name.clone(),
            start,
            instructions,
        });
    }
    out
}
