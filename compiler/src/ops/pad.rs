//! PAD: `mnn_pad_s8`, constant padding with the output's zero point.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::codegen::dims;
use crate::interp::at;
use crate::lower::{Dims, LowerError};
use crate::tflite::TensorType;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Pad {
    pub input: Dims,
    pub before: [i32; 4],
    pub after: [i32; 4],
    pub value: i8,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let input = l.tensor(0)?;
    let paddings = l.tensor(1)?;
    let data = paddings
        .data
        .as_ref()
        .ok_or_else(|| l.fail("paddings must be constant"))?;
    let values: Vec<i32> = match paddings.dtype {
        TensorType::Int32 => data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        TensorType::Int64 => data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as i32)
            .collect(),
        _ => return Err(l.fail("paddings must be int32 or int64")),
    };
    let rank = input.shape.len();
    if values.len() != 2 * rank || rank > 4 {
        return Err(l.fail("paddings do not match the input's rank"));
    }
    let (mut before, mut after) = ([0; 4], [0; 4]);
    for d in 0..rank {
        before[4 - rank + d] = values[2 * d];
        after[4 - rank + d] = values[2 * d + 1];
    }
    Ok(Lowered {
        inputs: vec![l.index(0)],
        ..l.plain(Kernel::Pad(Pad {
            input: Dims::from_shape(&input.shape),
            before,
            after,
            value: l.out_zp as i8,
        }))
    })
}

impl Operator for Pad {
    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let Pad {
            input: i,
            before,
            after,
            value,
        } = self;
        let _ = writeln!(c, "        static const mnn_dims in = {};", dims(*i));
        let _ = writeln!(
            c,
            "        static const int32_t before[4] = {{{}, {}, {}, {}}};",
            before[0], before[1], before[2], before[3]
        );
        let _ = writeln!(
            c,
            "        static const int32_t after[4] = {{{}, {}, {}, {}}};",
            after[0], after[1], after[2], after[3]
        );
        let (suffix, input, out) = (at.suffix, &at.input, &at.out);
        format!("mnn_pad_s8{suffix}(&in, {input}, before, after, {value}, {out})")
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let Pad {
            input: i,
            before,
            after,
            value,
        } = self;
        let x = x.x();
        let d = [i.n, i.h, i.w, i.c];
        let o: Vec<i32> = (0..4).map(|k| d[k] + before[k] + after[k]).collect();
        let mut out = Vec::with_capacity(o.iter().product::<i32>() as usize);
        for b in 0..o[0] {
            for y in 0..o[1] {
                for xx in 0..o[2] {
                    for c in 0..o[3] {
                        let s = [b - before[0], y - before[1], xx - before[2], c - before[3]];
                        let inside = (0..4).all(|k| s[k] >= 0 && s[k] < d[k]);
                        out.push(if inside {
                            x[at(*i, s[0], s[1], s[2], s[3])]
                        } else {
                            *value
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}
