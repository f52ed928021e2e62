//! CONCATENATION: `mnn_concatenation_s8`, the inputs' slices interleaved along an axis.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::lower::LowerError;
use crate::tflite::Options;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Concatenation {
    pub outer: i32,
    /// Per input, the product of its dimensions from the axis on.
    pub inner: Vec<i32>,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::Concatenation { axis, .. } = &l.op.options else {
        return Err(l.fail("operator not supported"));
    };
    let rank = l.out.shape.len() as i32;
    let axis = if *axis < 0 { axis + rank } else { *axis };
    if axis < 0 || axis >= rank {
        return Err(l.fail("concatenation axis out of range"));
    }
    let outer: i32 = l.out.shape[..axis as usize].iter().product();
    let inner =
        l.op.inputs
            .iter()
            .map(|&i| {
                let t = &l.model.tensors[i as usize];
                t.shape[axis as usize..].iter().product::<i32>()
            })
            .collect();
    Ok(Lowered {
        inputs: l.op.inputs.iter().map(|&i| i as usize).collect(),
        ..l.plain(Kernel::Concatenation(Concatenation { outer, inner }))
    })
}

impl Operator for Concatenation {
    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let ins: Vec<String> = at.layer.inputs.iter().map(|&i| (at.tensor)(i)).collect();
        let _ = writeln!(
            c,
            "        const int8_t *const ins[] = {{{}}};",
            ins.join(", ")
        );
        let inner_list: Vec<String> = self.inner.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            c,
            "        static const int32_t inner[] = {{{}}};",
            inner_list.join(", ")
        );
        let (suffix, outer, out) = (at.suffix, self.outer, &at.out);
        format!(
            "mnn_concatenation_s8{suffix}({}, ins, inner, {outer}, {out})",
            ins.len()
        )
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let mut out = Vec::new();
        for o in 0..self.outer as usize {
            for (input, &n) in x.inputs.iter().zip(&self.inner) {
                let n = n as usize;
                out.extend_from_slice(&input[o * n..(o + 1) * n]);
            }
        }
        Ok(out)
    }
}
