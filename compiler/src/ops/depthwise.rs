//! DEPTHWISE_CONV_2D: `mnn_depthwise_conv_s8`, per-channel requantised.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::codegen::{act, dims};
use crate::interp::{at, requantize, saturate};
use crate::lower::{
    ConvGeometry, Dims, LowerError, channel_multipliers, clamp, conv_geometry, scale_zp,
};
use crate::plan::{DW_STRIPE_MAX, align};
use crate::quant::Multiplier;
use crate::tflite::Options;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct DepthwiseConv {
    pub geometry: ConvGeometry,
    pub depth_multiplier: i32,
    pub quant: Vec<Multiplier>,
    pub input: Dims,
    pub filter: Dims,
    pub output: Dims,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::Depthwise {
        padding,
        stride,
        dilation,
        depth_multiplier,
        activation,
    } = &l.op.options
    else {
        return Err(l.fail("operator not supported"));
    };
    let (input, filter) = (l.tensor(0)?, l.tensor(1)?);
    let (in_d, f_d) = (
        Dims::from_shape(&input.shape),
        Dims::from_shape(&filter.shape),
    );
    let (_, in_zp) = scale_zp(input);
    // Some converters write 0 and let the shapes say it.
    let mult = if *depth_multiplier > 0 {
        *depth_multiplier
    } else {
        l.out_dims.c / in_d.c.max(1)
    };
    let out = l.out_dims;
    super::conv_shapes(l, [in_d, f_d, out], *stride, *dilation)?;
    super::agree(
        l,
        mult >= 1 && in_d.n == out.n && f_d.n == 1 && f_d.c == out.c && out.c == in_d.c * mult,
        || {
            format!(
                "the filter {f_d:?} with depth multiplier {mult} does not take the input {in_d:?} to the output {out:?}"
            )
        },
    )?;
    super::bias_agrees(l, 2, out.c)?;
    Ok(Lowered {
        kernel: Kernel::DepthwiseConv(DepthwiseConv {
            geometry: conv_geometry(
                -in_zp,
                l.out_zp,
                *padding,
                *stride,
                *dilation,
                (in_d, f_d, l.out_dims),
                clamp(*activation, l.out),
            ),
            depth_multiplier: mult,
            quant: channel_multipliers(input, filter, l.out, l.out_dims.c),
            input: in_d,
            filter: f_d,
            output: l.out_dims,
        }),
        inputs: vec![l.index(0)],
        weights: Some(l.index(1)),
        bias: l.optional(2),
        macs: l.out_dims.elements() as u64 * (f_d.h * f_d.w) as u64,
    })
}

impl Operator for DepthwiseConv {
    fn window(&self) -> Option<super::Window> {
        Some(super::Window::of_conv(&self.geometry, self.filter))
    }

    fn scratch_bytes(&self, _dsp: bool) -> u32 {
        if self.depth_multiplier != 1 {
            return 0;
        }
        let (geometry, input, filter, output) =
            (&self.geometry, self.input, self.filter, self.output);
        // Sums and accumulators per channel, weights of whole 4-channel groups expanded.
        let taps = (filter.h * filter.w) as u32;
        let min =
            12 * filter.c as u32 + 2 * 4 * filter.c as u32 + taps * (filter.c as u32 & !3) * 2;
        // The padded input stripes, up to MNN_DW_STRIPE_MAX.
        let stripe_w =
            (output.w - 1) * geometry.stride.1 + (filter.w - 1) * geometry.dilation.1 + 1;
        let stripe = align((filter.h * stripe_w * input.c) as u32);
        if stripe <= DW_STRIPE_MAX {
            min + stripe
        } else {
            min
        }
    }

    fn scratch_check(&self) -> Option<String> {
        Some(format!(
            "mnn_depthwise_conv_s8_get_buffer_size(&(mnn_dw_conv_params){{.depth_multiplier = {}}}, &(mnn_dims){}, &(mnn_dims){}, &(mnn_dims){})",
            self.depth_multiplier,
            dims(self.input),
            dims(self.filter),
            dims(self.output)
        ))
    }

    fn channel_quant(&self) -> Option<&[Multiplier]> {
        Some(&self.quant)
    }

    fn npu(&self) -> Result<(), String> {
        super::npu_stride(self.geometry.stride)
    }

    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let g = &self.geometry;
        let _ = writeln!(
            c,
            "        static const mnn_dw_conv_params p = {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}}};",
            g.input_offset,
            g.output_offset,
            self.depth_multiplier,
            g.stride.0,
            g.stride.1,
            g.pad.0,
            g.pad.1,
            g.dilation.0,
            g.dilation.1,
            act(g.activation)
        );
        super::conv_call(
            c,
            at,
            "mnn_depthwise_conv_s8",
            [self.input, self.filter, self.output],
        )
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let DepthwiseConv {
            geometry: g,
            depth_multiplier,
            quant,
            input: i,
            filter: f,
            output: o,
        } = self;
        let (w, bias, x) = (x.weights()?, &x.bias, x.x());
        let mut out = vec![0i8; o.elements() as usize];
        for b in 0..i.n {
            for oy in 0..o.h {
                for ox in 0..o.w {
                    for ic in 0..i.c {
                        for m in 0..*depth_multiplier {
                            let oc = ic * depth_multiplier + m;
                            let mut acc = 0i32;
                            for ky in 0..f.h {
                                for kx in 0..f.w {
                                    let iy = oy * g.stride.0 - g.pad.0 + ky * g.dilation.0;
                                    let ix = ox * g.stride.1 - g.pad.1 + kx * g.dilation.1;
                                    if iy < 0 || iy >= i.h || ix < 0 || ix >= i.w {
                                        continue;
                                    }
                                    let xv = i32::from(x[at(*i, b, iy, ix, ic)]);
                                    let wv = i32::from(w[((ky * f.w + kx) * o.c + oc) as usize]);
                                    acc += wv * (xv + g.input_offset);
                                }
                            }
                            acc += bias.as_ref().map_or(0, |b| b[oc as usize]);
                            let q = quant[oc as usize];
                            let v = requantize(acc, q.multiplier, q.shift) + g.output_offset;
                            out[at(*o, b, oy, ox, oc)] =
                                saturate(v, g.activation.min, g.activation.max);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}
