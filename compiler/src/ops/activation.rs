//! LOGISTIC and TANH: `mnn_logistic_s8`, `mnn_tanh_s8`, on a Q4.27 input.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::interp::{divide_by_power_of_two, logistic_q4, requantize, saturate, tanh_q4};
use crate::lower::LowerError;
use crate::lower::scale_zp;
use crate::quant::{self, Multiplier};
use crate::tflite::Op;
use std::fmt::Write as _;

/// Which function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationKind {
    Logistic,
    Tanh,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    pub kind: ActivationKind,
    pub input_offset: i32,
    pub multiplier: Multiplier,
    pub radius: i32,
    pub size: i32,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let input = l.tensor(0)?;
    let (in_scale, in_zp) = scale_zp(input);
    let (multiplier, radius) = quant::q4_activation(in_scale);
    Ok(l.plain(Kernel::Activation(Activation {
        kind: if l.op.op == Op::Logistic {
            ActivationKind::Logistic
        } else {
            ActivationKind::Tanh
        },
        input_offset: -in_zp,
        multiplier,
        radius,
        size: input.elements() as i32,
    })))
}

impl Operator for Activation {
    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let Activation {
            kind,
            input_offset,
            multiplier,
            radius,
            size,
        } = self;
        let _ = writeln!(
            c,
            "        static const mnn_activation_fn_params p = {{{input_offset}, {}, {}, {radius}}};",
            multiplier.multiplier, multiplier.shift
        );
        let name = match kind {
            ActivationKind::Tanh => "tanh",
            ActivationKind::Logistic => "logistic",
        };
        let (suffix, input, out) = (at.suffix, &at.input, &at.out);
        format!("mnn_{name}_s8{suffix}(&p, {size}, {input}, {out})")
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let Activation {
            kind,
            input_offset,
            multiplier,
            radius,
            ..
        } = self;
        let tanh = *kind == ActivationKind::Tanh;
        Ok(x.x()
            .iter()
            .map(|&v| {
                let v = i32::from(v) + input_offset;
                if v <= -radius {
                    i8::MIN
                } else if v >= *radius {
                    i8::MAX
                } else {
                    let q4 = requantize(v, multiplier.multiplier, multiplier.shift);
                    if tanh {
                        saturate(divide_by_power_of_two(tanh_q4(q4), 31 - 7), -128, 127)
                    } else {
                        saturate(
                            divide_by_power_of_two(logistic_q4(q4), 31 - 8) - 128,
                            -128,
                            127,
                        )
                    }
                }
            })
            .collect())
    }
}
