//! FULLY_CONNECTED: `mnn_fully_connected_s8`, per-tensor or per-channel requantised.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::codegen::{act, dims, quant_and_dims};
use crate::interp::{requantize, saturate};
use crate::lower::{Clamp, Dims, LowerError, channel_multipliers, clamp, scale_zp, scales};
use crate::quant::Multiplier;
use crate::tflite::Options;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct FullyConnected {
    pub input_offset: i32,
    pub filter_offset: i32,
    pub output_offset: i32,
    pub activation: Clamp,
    /// One entry (per tensor) or one per output feature.
    pub quant: Vec<Multiplier>,
    /// input: n = batches, c = features; filter: n = outputs, c = features.
    pub input: Dims,
    pub filter: Dims,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::FullyConnected { activation, .. } = &l.op.options else {
        return Err(l.fail("operator not supported"));
    };
    let (input, filter) = (l.tensor(0)?, l.tensor(1)?);
    let (_, in_zp) = scale_zp(input);
    let (_, f_zp) = scale_zp(filter);
    let outputs = *filter
        .shape
        .first()
        .ok_or_else(|| l.fail("weights have no shape"))?;
    let depth = *filter
        .shape
        .last()
        .ok_or_else(|| l.fail("weights have no shape"))?;
    super::agree(
        l,
        filter.shape.len() == 2 && outputs >= 1 && depth >= 1,
        || {
            format!(
                "the weights' shape {:?} is not [outputs, depth]",
                filter.shape
            )
        },
    )?;
    let batches = (input.elements() as i32) / depth.max(1);
    super::agree(
        l,
        input.elements() % depth as usize == 0
            && batches >= 1
            && l.out.elements() == (batches * outputs) as usize,
        || {
            format!(
                "an input of {:?} in rows of {depth} does not give an output of {:?}",
                input.shape, l.out.shape
            )
        },
    )?;
    super::bias_agrees(l, 2, outputs)?;
    let per_channel = scales(filter).len() > 1;
    let quant = if per_channel {
        channel_multipliers(input, filter, l.out, outputs)
    } else {
        channel_multipliers(input, filter, l.out, 1)
    };
    Ok(Lowered {
        kernel: Kernel::FullyConnected(FullyConnected {
            input_offset: -in_zp,
            filter_offset: -f_zp,
            output_offset: l.out_zp,
            activation: clamp(*activation, l.out),
            quant,
            input: Dims {
                n: batches,
                h: 1,
                w: 1,
                c: depth,
            },
            filter: Dims {
                n: outputs,
                h: 1,
                w: 1,
                c: depth,
            },
        }),
        inputs: vec![l.index(0)],
        weights: Some(l.index(1)),
        bias: l.optional(2),
        macs: batches as u64 * outputs as u64 * depth as u64,
    })
}

impl Operator for FullyConnected {
    fn scratch_bytes(&self, dsp: bool) -> u32 {
        if dsp {
            ((self.filter.c as u32 + 1) & !1) * 2
        } else {
            0
        }
    }

    fn scratch_check(&self) -> Option<String> {
        Some(format!(
            "mnn_fully_connected_s8_get_buffer_size(&(mnn_dims){})",
            dims(self.filter)
        ))
    }

    fn channel_quant(&self) -> Option<&[Multiplier]> {
        Some(&self.quant)
    }

    fn npu(&self) -> Result<(), String> {
        Ok(())
    }

    fn flattens(&self) -> bool {
        true
    }

    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let FullyConnected {
            input_offset,
            filter_offset,
            output_offset,
            activation,
            quant,
            input: i,
            filter,
        } = self;
        let _ = writeln!(
            c,
            "        static const mnn_fc_params p = {{{input_offset}, {filter_offset}, {output_offset}, {}}};",
            act(*activation)
        );
        quant_and_dims(c, at.pos, &[("in", *i), ("filter", *filter)]);
        let per_channel = i32::from(quant.len() > 1);
        let (input, weights, bias, out) = (&at.input, &at.weights, &at.bias, &at.out);
        if at.reference() {
            format!(
                "mnn_fully_connected_s8{}(&p, &q, {per_channel}, &in, {input}, &filter, {weights}, {bias}, {out}{})",
                at.suffix,
                at.npu_formats()
            )
        } else {
            format!(
                "mnn_fully_connected_s8(&ctx, &p, &q, {per_channel}, &in, {input}, &filter, {weights}, {bias}, {out})"
            )
        }
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let FullyConnected {
            input_offset,
            filter_offset,
            output_offset,
            activation,
            quant,
            input: i,
            filter: f,
        } = self;
        let (w, bias, x) = (x.weights()?, &x.bias, x.x());
        let (batches, depth, outputs) = (i.n, f.c, f.n);
        let mut out = vec![0i8; (batches * outputs) as usize];
        for b in 0..batches {
            for o in 0..outputs {
                let mut acc = 0i32;
                for d in 0..depth {
                    let xv = i32::from(x[(b * depth + d) as usize]);
                    let wv = i32::from(w[(o * depth + d) as usize]);
                    acc += (wv + filter_offset) * (xv + input_offset);
                }
                acc += bias.as_ref().map_or(0, |b| b[o as usize]);
                let q = quant[if quant.len() > 1 { o as usize } else { 0 }];
                let v = requantize(acc, q.multiplier, q.shift) + output_offset;
                out[(b * outputs + o) as usize] = saturate(v, activation.min, activation.max);
            }
        }
        Ok(out)
    }
}
