//! SOFTMAX: `mnn_softmax_s8`, row by row over the last dimension.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::interp::{
    divide_by_power_of_two, doubling_high_mult, exp_on_negative_values, reciprocal, rescale,
    saturate,
};
use crate::lower::{LowerError, scale_zp};
use crate::quant::{self, Multiplier};
use crate::tflite::Options;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Softmax {
    pub multiplier: Multiplier,
    pub diff_min: i32,
    pub rows: i32,
    pub row_size: i32,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::Softmax { beta } = &l.op.options else {
        return Err(l.fail("operator not supported"));
    };
    let input = l.tensor(0)?;
    let (in_scale, _) = scale_zp(input);
    let (multiplier, diff_min) = quant::softmax(*beta, in_scale);
    let row_size = *input.shape.last().unwrap_or(&1);
    Ok(l.plain(Kernel::Softmax(Softmax {
        multiplier,
        diff_min,
        rows: input.elements() as i32 / row_size.max(1),
        row_size,
    })))
}

impl Operator for Softmax {
    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let Softmax {
            multiplier,
            diff_min,
            rows,
            row_size,
        } = self;
        let _ = writeln!(
            c,
            "        static const mnn_softmax_params p = {{{}, {}, {diff_min}}};",
            multiplier.multiplier, multiplier.shift
        );
        let (suffix, input, out) = (at.suffix, &at.input, &at.out);
        format!("mnn_softmax_s8{suffix}(&p, {rows}, {row_size}, {input}, {out})")
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let Softmax {
            multiplier,
            diff_min,
            row_size,
            ..
        } = self;
        let x = x.x();
        let mut out = vec![0i8; x.len()];
        for (row, out_row) in x
            .chunks(*row_size as usize)
            .zip(out.chunks_mut(*row_size as usize))
        {
            let max = row
                .iter()
                .copied()
                .max()
                .map_or(i32::from(i8::MIN), i32::from);
            let scaled = |v: i8| {
                doubling_high_mult(
                    (i32::from(v) - max).wrapping_shl(multiplier.shift as u32),
                    multiplier.multiplier,
                )
            };
            let mut sum = 0i32;
            for &v in row {
                if i32::from(v) - max >= *diff_min {
                    sum = sum.wrapping_add(rescale(exp_on_negative_values(scaled(v), 5), 0, 12));
                }
            }
            let (shifted_scale, bits_over_unit) = reciprocal(sum, 12);
            let exponent = bits_over_unit + 31 - 8;
            if !(0..=31).contains(&exponent) {
                return Err("softmax exponent out of range".into());
            }
            for (o, &v) in out_row.iter_mut().zip(row) {
                *o = if i32::from(v) - max >= *diff_min {
                    let e = exp_on_negative_values(scaled(v), 5);
                    saturate(
                        divide_by_power_of_two(doubling_high_mult(shifted_scale, e), exponent)
                            - 128,
                        -128,
                        127,
                    )
                } else {
                    i8::MIN
                };
            }
        }
        Ok(out)
    }
}
