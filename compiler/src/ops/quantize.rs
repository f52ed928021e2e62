//! QUANTIZE (float32 to int8) and DEQUANTIZE (int8 to float32) at a model's edges:
//! `mnn_quantize_f32_s8`, `mnn_dequantize_s8_f32`. The interpreter runs int8 only.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::lower::{LowerError, scale_zp};

#[derive(Debug, Clone, PartialEq)]
pub struct Quantize {
    pub scale: f32,
    pub zero_point: i32,
    pub size: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dequantize {
    pub scale: f64,
    pub zero_point: i32,
    pub size: i32,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    Ok(l.plain(Kernel::Quantize(Quantize {
        scale: l.out_scale,
        zero_point: l.out_zp,
        size: l.out.elements() as i32,
    })))
}

pub fn lower_dequantize(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let (s, zp) = scale_zp(l.tensor(0)?);
    Ok(l.plain(Kernel::Dequantize(Dequantize {
        scale: f64::from(s),
        zero_point: zp,
        size: l.out.elements() as i32,
    })))
}

const FLOAT: &str = "float tensors are not interpreted";

impl Operator for Quantize {
    fn c_call(&self, _c: &mut String, at: &CallSite<'_>) -> String {
        let (scale, zero_point, size, input, out) =
            (self.scale, self.zero_point, self.size, &at.input, &at.out);
        format!(
            "mnn_quantize_f32_s8({scale:e}f, {zero_point}, {size}, (const float *){input}, {out})"
        )
    }

    fn interpret(&self, _x: &Operands<'_>) -> Result<Vec<i8>, String> {
        Err(FLOAT.into())
    }
}

impl Operator for Dequantize {
    fn c_call(&self, _c: &mut String, at: &CallSite<'_>) -> String {
        let (scale, zero_point, size, input, out) =
            (self.scale, self.zero_point, self.size, &at.input, &at.out);
        format!("mnn_dequantize_s8_f32({scale:e}, {zero_point}, {size}, {input}, (float *){out})")
    }

    fn interpret(&self, _x: &Operands<'_>) -> Result<Vec<i8>, String> {
        Err(FLOAT.into())
    }
}
