//! AVERAGE_POOL_2D and MAX_POOL_2D: `mnn_avgpool_s8`, `mnn_maxpool_s8`.

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::codegen::{act, dims};
use crate::interp::{at, saturate};
use crate::lower::{Clamp, Dims, LowerError, clamp, padding};
use crate::tflite::{Op, Options};
use std::fmt::Write as _;

/// Which pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Average,
    Max,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub kind: PoolKind,
    pub stride: (i32, i32),
    pub pad: (i32, i32),
    pub filter: (i32, i32),
    pub activation: Clamp,
    pub input: Dims,
    pub output: Dims,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let Options::Pool {
        padding: pad,
        stride,
        filter,
        activation,
    } = &l.op.options
    else {
        return Err(l.fail("operator not supported"));
    };
    let in_d = Dims::from_shape(&l.tensor(0)?.shape);
    super::positive(l, "input", in_d)?;
    super::positive(l, "output", l.out_dims)?;
    super::steps(l, "stride", *stride)?;
    super::steps(l, "window", *filter)?;
    super::agree(l, in_d.n == l.out_dims.n && in_d.c == l.out_dims.c, || {
        format!(
            "an input of {in_d:?} does not pool to an output of {:?}",
            l.out_dims
        )
    })?;
    let (stride_h, stride_w) = (stride.1, stride.0);
    let (filter_h, filter_w) = (filter.1, filter.0);
    let out = l.out_dims;
    Ok(l.plain(Kernel::Pool(Pool {
        kind: if l.op.op == Op::AveragePool2d {
            PoolKind::Average
        } else {
            PoolKind::Max
        },
        stride: (stride_h, stride_w),
        pad: (
            padding(*pad, stride_h, 1, in_d.h, filter_h, out.h),
            padding(*pad, stride_w, 1, in_d.w, filter_w, out.w),
        ),
        filter: (filter_h, filter_w),
        activation: clamp(*activation, l.out),
        input: in_d,
        output: out,
    })))
}

impl Operator for Pool {
    fn window(&self) -> Option<super::Window> {
        Some(super::Window {
            kernel: self.filter,
            stride: self.stride,
            pad: self.pad,
            dilation: (1, 1),
        })
    }

    fn npu(&self) -> Result<(), String> {
        // A global pool (one output pixel) has no stride to speak of: Vela runs it too.
        if self.output.h == 1 && self.output.w == 1 {
            return Ok(());
        }
        super::npu_stride(self.stride)
    }

    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String {
        let Pool {
            kind,
            stride,
            pad,
            filter,
            activation,
            input: i,
            output: o,
        } = self;
        let _ = writeln!(
            c,
            "        static const mnn_pool_params p = {{{}, {}, {}, {}, {}, {}, {}}};",
            stride.0,
            stride.1,
            pad.0,
            pad.1,
            filter.0,
            filter.1,
            act(*activation)
        );
        let _ = writeln!(
            c,
            "        static const mnn_dims in = {}, out = {};",
            dims(*i),
            dims(*o)
        );
        let name = match kind {
            PoolKind::Average => "avgpool",
            PoolKind::Max => "maxpool",
        };
        let (suffix, input, out) = (at.suffix, &at.input, &at.out);
        let formats = at.npu_formats();
        format!("mnn_{name}_s8{suffix}(&p, &in, {input}, &out, {out}{formats})")
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        let Pool {
            kind,
            stride,
            pad,
            filter,
            activation,
            input: i,
            output: o,
        } = self;
        let x = x.x();
        let average = *kind == PoolKind::Average;
        let mut out = vec![0i8; o.elements() as usize];
        for b in 0..i.n {
            for oy in 0..o.h {
                for ox in 0..o.w {
                    for c in 0..i.c {
                        let (x0, y0) = (ox * stride.1 - pad.1, oy * stride.0 - pad.0);
                        let (fx0, fx1) = ((-x0).max(0), filter.1.min(i.w - x0));
                        let (fy0, fy1) = ((-y0).max(0), filter.0.min(i.h - y0));
                        let (mut sum, mut count, mut max) = (0i32, 0i32, i32::from(i8::MIN));
                        for fy in fy0..fy1 {
                            for fx in fx0..fx1 {
                                let v = i32::from(x[at(*i, b, y0 + fy, x0 + fx, c)]);
                                sum += v;
                                count += 1;
                                max = max.max(v);
                            }
                        }
                        let v = if average {
                            if count == 0 {
                                return Err("a pooling window outside the input".into());
                            }
                            if sum > 0 {
                                (sum + count / 2) / count
                            } else {
                                (sum - count / 2) / count
                            }
                        } else {
                            max
                        };
                        out[at(*o, b, oy, ox, c)] = saturate(v, activation.min, activation.max);
                    }
                }
            }
        }
        Ok(out)
    }
}
