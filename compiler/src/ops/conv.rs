//! CONV_2D: `mnn_conv_s8`, per-channel requantised.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::codegen::{act, dims};
use crate::interp::{at, requantize, saturate};
use crate::lower::{
    ConvGeometry, Dims, LowerError, channel_multipliers, clamp, conv_geometry, scale_zp,
};
use crate::plan::align;
use crate::quant::Multiplier;
use crate::tflite::Options;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Conv {
    pub geometry: ConvGeometry,
    pub quant: Vec<Multiplier>,
    pub input: Dims,
    pub filter: Dims,
    pub output: Dims,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::Conv {
        padding,
        stride,
        dilation,
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
    let out = l.out_dims;
    super::conv_shapes(l, [in_d, f_d, out], *stride, *dilation)?;
    // Grouped: the input's channels split in groups of the filter's depth, the output's too.
    let groups = in_d.c / f_d.c;
    super::agree(
        l,
        in_d.n == out.n && f_d.n == out.c && in_d.c % f_d.c == 0 && out.c % groups.max(1) == 0,
        || format!("the filter {f_d:?} does not take the input {in_d:?} to the output {out:?}"),
    )?;
    super::bias_agrees(l, 2, out.c)?;
    let (_, in_zp) = scale_zp(input);
    Ok(Lowered {
        kernel: Kernel::Conv(Conv {
            geometry: conv_geometry(
                -in_zp,
                l.out_zp,
                *padding,
                *stride,
                *dilation,
                (in_d, f_d, l.out_dims),
                clamp(*activation, l.out),
            ),
            quant: channel_multipliers(input, filter, l.out, l.out_dims.c),
            input: in_d,
            filter: f_d,
            output: l.out_dims,
        }),
        inputs: vec![l.index(0)],
        weights: Some(l.index(1)),
        bias: l.optional(2),
        macs: l.out_dims.elements() as u64 * (f_d.h * f_d.w * f_d.c) as u64,
    })
}

impl Operator for Conv {
    fn window(&self) -> Option<super::Window> {
        Some(super::Window::of_conv(&self.geometry, self.filter))
    }

    fn scratch_bytes(&self, _dsp: bool) -> u32 {
        let (input, filter) = (self.input, self.filter);
        if filter.c != input.c {
            return 0;
        }
        let k = (filter.h * filter.w * input.c) as u32;
        // The requantisation table (12 bytes a channel), two accumulator rows, two int16
        // columns, two int8 gather columns.
        12 * filter.n as u32 + 2 * 4 * filter.n as u32 + 2 * k * 2 + 2 * align(k)
    }

    fn scratch_check(&self) -> Option<String> {
        Some(format!(
            "mnn_conv_s8_get_buffer_size(NULL, &(mnn_dims){}, &(mnn_dims){}, &(mnn_dims){})",
            dims(self.input),
            dims(self.filter),
            dims(self.output)
        ))
    }

    fn channel_quant(&self) -> Option<&[Multiplier]> {
        Some(&self.quant)
    }

    fn npu(&self) -> Result<(), String> {
        if self.filter.c != self.input.c {
            return Err("grouped convolution: the NPU convolves all input channels".into());
        }
        super::npu_stride(self.geometry.stride)
    }

    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let g = &self.geometry;
        let _ = writeln!(
            c,
            "        static const mnn_conv_params p = {{{}, {}, {}, {}, {}, {}, {}, {}, {}}};",
            g.input_offset,
            g.output_offset,
            g.stride.0,
            g.stride.1,
            g.pad.0,
            g.pad.1,
            g.dilation.0,
            g.dilation.1,
            act(g.activation)
        );
        super::conv_call(c, at, "mnn_conv_s8", [self.input, self.filter, self.output])
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let Conv {
            geometry: g,
            quant,
            input: i,
            filter: f,
            output: o,
        } = self;
        let (w, bias, x) = (x.weights()?, &x.bias, x.x());
        let mut out = vec![0i8; o.elements() as usize];
        let group_c = f.c;
        let out_per_group = o.c / (i.c / group_c).max(1);
        for b in 0..i.n {
            for oy in 0..o.h {
                for ox in 0..o.w {
                    for oc in 0..o.c {
                        let group = oc / out_per_group;
                        let mut acc = 0i32;
                        for ky in 0..f.h {
                            let iy = oy * g.stride.0 - g.pad.0 + ky * g.dilation.0;
                            for kx in 0..f.w {
                                let ix = ox * g.stride.1 - g.pad.1 + kx * g.dilation.1;
                                if iy < 0 || iy >= i.h || ix < 0 || ix >= i.w {
                                    continue;
                                }
                                for ic in 0..group_c {
                                    let xv = i32::from(x[at(*i, b, iy, ix, group * group_c + ic)]);
                                    let wv = i32::from(
                                        w[((((oc * f.h) + ky) * f.w + kx) * group_c + ic) as usize],
                                    );
                                    acc += wv * (xv + g.input_offset);
                                }
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
        Ok(out)
    }
}
