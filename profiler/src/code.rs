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

/// Annotates the functions named in `names` (in that order).
pub fn annotate(image: &Image, blocks: &[BlockCount], names: &[String]) -> Vec<AnnotatedFunction> {
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
        let instructions: Vec<AnnotatedInstruction> = insns
            .iter()
            .map(|i| {
                let address = i.address() as u32;
                let (executions, cycles) = cost.get(&address).copied().unwrap_or_default();
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
