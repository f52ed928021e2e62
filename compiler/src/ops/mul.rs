//! MUL: `mnn_mul_s8`, the product requantised, with broadcasting.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::codegen::act;
use crate::interp::{broadcast, requantize, saturate};
use crate::lower::{Clamp, Dims, LowerError, clamp, scale_zp};
use crate::quant::{self, Multiplier};
use crate::tflite::Options;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Mul {
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub output_offset: i32,
    pub output: Multiplier,
    pub activation: Clamp,
    pub input1_dims: Dims,
    pub input2_dims: Dims,
    pub output_dims: Dims,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::Elementwise { activation } = &l.op.options else {
        return Err(l.fail("operator not supported"));
    };
    let (a, b) = (l.tensor(0)?, l.tensor(1)?);
    super::positive(l, "output", l.out_dims)?;
    super::broadcasts(l, Dims::from_shape(&a.shape), l.out_dims)?;
    super::broadcasts(l, Dims::from_shape(&b.shape), l.out_dims)?;
    let ((a_scale, a_zp), (b_scale, b_zp)) = (scale_zp(a), scale_zp(b));
    Ok(Lowered {
        kernel: Kernel::Mul(Mul {
            input1_offset: -a_zp,
            input2_offset: -b_zp,
            output_offset: l.out_zp,
            output: quant::quantize_multiplier(
                f64::from(a_scale) * f64::from(b_scale) / f64::from(l.out_scale),
            ),
            activation: clamp(*activation, l.out),
            input1_dims: Dims::from_shape(&a.shape),
            input2_dims: Dims::from_shape(&b.shape),
            output_dims: l.out_dims,
        }),
        inputs: vec![l.index(0), l.index(1)],
        weights: None,
        bias: None,
        macs: 0,
    })
}

impl Operator for Mul {
    fn npu(&self) -> Result<(), String> {
        Ok(())
    }

    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let Mul {
            input1_offset,
            input2_offset,
            output_offset,
            output,
            activation,
            input1_dims,
            input2_dims,
            output_dims,
        } = self;
        let _ = writeln!(
            c,
            "        static const mnn_mul_params p = {{{input1_offset}, {input2_offset}, {output_offset}, {}, {}, {}}};",
            output.multiplier,
            output.shift,
            act(*activation)
        );
        super::elementwise_call(
            c,
            at,
            "mnn_mul_s8",
            [*input1_dims, *input2_dims, *output_dims],
        )
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let Mul {
            input1_offset,
            input2_offset,
            output_offset,
            output,
            activation,
            input1_dims,
            input2_dims,
            output_dims,
        } = self;
        let (a, b) = (x.x(), x.input(1)?);
        Ok(broadcast(
            a,
            *input1_dims,
            b,
            *input2_dims,
            *output_dims,
            |a, b| {
                let v = requantize(
                    (a + input1_offset) * (b + input2_offset),
                    output.multiplier,
                    output.shift,
                ) + output_offset;
                saturate(v, activation.min, activation.max)
            },
        ))
    }
}
