//! Synthetic int8 models: random small graphs (shapes, strides, paddings, activations,
//! quantisation and weights drawn from a seed) written as `.tflite`, for property tests that
//! compare the compiled firmware with the reference interpreter.

use crate::tflite::writer::{
    INT8, INT32, ModelSpec, OperatorSpec, OptionsSpec, PaddingSpec, TensorSpec, code,
};

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u64) as i32
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

struct Builder {
    spec: ModelSpec,
    rng: Rng,
    /// The current activation: tensor index, NHWC shape, scale, zero point.
    x: i32,
    shape: Vec<i32>,
    scale: f32,
    zp: i64,
}

impl Builder {
    /// A model under construction with one input of `shape`, its scale and zero point drawn
    /// from `rng` next.
    fn begin(mut rng: Rng, description: String, shape: Vec<i32>) -> Builder {
        let scale = 0.02 + 0.1 * rng.unit();
        let zp = i64::from(rng.range(-30, 30));
        let mut b = Builder {
            spec: ModelSpec {
                description,
                ..ModelSpec::default()
            },
            rng,
            x: 0,
            shape: shape.clone(),
            scale,
            zp,
        };
        b.x = b.activation("input", shape, scale, zp);
        b.spec.inputs = vec![b.x];
        b
    }

    #[allow(clippy::too_many_arguments)]
    fn tensor(
        &mut self,
        name: &str,
        shape: Vec<i32>,
        dtype: u8,
        data: Option<Vec<u8>>,
        scale: Vec<f32>,
        zp: Vec<i64>,
        qdim: i32,
    ) -> i32 {
        self.spec.tensors.push(TensorSpec {
            name: name.to_owned(),
            shape,
            dtype,
            data,
            scale,
            zero_point: zp,
            quantized_dimension: qdim,
        });
        (self.spec.tensors.len() - 1) as i32
    }

    fn activation(&mut self, name: &str, shape: Vec<i32>, scale: f32, zp: i64) -> i32 {
        self.tensor(name, shape, INT8, None, vec![scale], vec![zp], 0)
    }

    fn act_code(&mut self) -> (u8, i64) {
        // (activation, a fitting output zero point)
        match self.rng.range(0, 2) {
            0 => (0, i64::from(self.rng.range(-20, 20))),
            1 => (1, -128),
            _ => (3, -128),
        }
    }

    fn weights_and_bias(
        &mut self,
        name: &str,
        wshape: Vec<i32>,
        channels: usize,
        qdim: i32,
        fan_in: i32,
    ) -> (i32, i32, f32) {
        let n: i32 = wshape.iter().product();
        let data = self.rng.bytes(n as usize);
        let base = 1.0 / (64.0 * (fan_in as f32).sqrt());
        let scales: Vec<f32> = (0..channels)
            .map(|_| base * (0.5 + self.rng.unit()))
            .collect();
        let w = self.tensor(
            &format!("{name}/weights"),
            wshape,
            INT8,
            Some(data),
            scales.clone(),
            vec![0; channels],
            qdim,
        );
        let bias: Vec<u8> = (0..channels)
            .flat_map(|_| self.rng.range(-500, 500).to_le_bytes())
            .collect();
        let bias_scales: Vec<f32> = scales.iter().map(|s| s * self.scale).collect();
        let b = self.tensor(
            &format!("{name}/bias"),
            vec![channels as i32],
            INT32,
            Some(bias),
            bias_scales,
            vec![0; channels],
            0,
        );
        (w, b, base)
    }

    fn out_size(same: bool, size: i32, k: i32, stride: i32) -> i32 {
        if same {
            (size + stride - 1) / stride
        } else {
            (size - k + stride) / stride
        }
    }

    fn conv(&mut self, n: usize) {
        let (h, w) = (self.shape[1], self.shape[2]);
        let k = self.rng.range(1, 3).min(h).min(w);
        let stride = self.rng.range(1, 2);
        let same = self.rng.range(0, 1) == 0;
        let out_c = self.rng.range(1, 12);
        self.conv_with(n, k, stride, same, out_c);
    }

    /// A `k`x`k` convolution to `out_c` channels; activation and scales drawn.
    fn conv_with(&mut self, n: usize, k: i32, stride: i32, same: bool, out_c: i32) {
        let (h, w, c) = (self.shape[1], self.shape[2], self.shape[3]);
        let name = format!("conv_{n}");
        let (wt, b, _) =
            self.weights_and_bias(&name, vec![out_c, k, k, c], out_c as usize, 0, k * k * c);
        let (oh, ow) = (
            Self::out_size(same, h, k, stride),
            Self::out_size(same, w, k, stride),
        );
        let (act, zp) = self.act_code();
        let scale = self.scale * (0.5 + self.rng.unit());
        let y = self.activation(&format!("{name}/out"), vec![1, oh, ow, out_c], scale, zp);
        self.spec.operators.push(OperatorSpec {
            code: code::CONV_2D,
            inputs: vec![self.x, wt, b],
            outputs: vec![y],
            options: OptionsSpec::Conv {
                padding: if same {
                    PaddingSpec::Same
                } else {
                    PaddingSpec::Valid
                },
                stride: (stride, stride),
                activation: act,
                dilation: (1, 1),
            },
        });
        (self.x, self.shape, self.scale, self.zp) = (y, vec![1, oh, ow, out_c], scale, zp);
    }

    fn depthwise(&mut self, n: usize) {
        let (h, w, c) = (self.shape[1], self.shape[2], self.shape[3]);
        let k = 3.min(h).min(w);
        let stride = self.rng.range(1, 2);
        let mult = self.rng.range(1, 2);
        let same = self.rng.range(0, 1) == 0;
        let oc = c * mult;
        let name = format!("depthwise_{n}");
        let (wt, b, _) = self.weights_and_bias(&name, vec![1, k, k, oc], oc as usize, 3, k * k);
        let (oh, ow) = (
            Self::out_size(same, h, k, stride),
            Self::out_size(same, w, k, stride),
        );
        let (act, zp) = self.act_code();
        let scale = self.scale * (0.5 + self.rng.unit());
        let y = self.activation(&format!("{name}/out"), vec![1, oh, ow, oc], scale, zp);
        self.spec.operators.push(OperatorSpec {
            code: code::DEPTHWISE_CONV_2D,
            inputs: vec![self.x, wt, b],
            outputs: vec![y],
            options: OptionsSpec::Depthwise {
                padding: if same {
                    PaddingSpec::Same
                } else {
                    PaddingSpec::Valid
                },
                stride: (stride, stride),
                depth_multiplier: mult,
                activation: act,
                dilation: (1, 1),
            },
        });
        (self.x, self.shape, self.scale, self.zp) = (y, vec![1, oh, ow, oc], scale, zp);
    }

    fn pool(&mut self, n: usize) {
        let (h, w) = (self.shape[1], self.shape[2]);
        let k = self.rng.range(2, 3).min(h).min(w);
        let same = self.rng.range(0, 1) == 0;
        let average = self.rng.range(0, 1) == 0;
        self.pool_with(n, k, same, average);
    }

    /// A `k`x`k` pool with stride 2.
    fn pool_with(&mut self, n: usize, k: i32, same: bool, average: bool) {
        let (h, w, c) = (self.shape[1], self.shape[2], self.shape[3]);
        let (oh, ow) = (Self::out_size(same, h, k, 2), Self::out_size(same, w, k, 2));
        let name = format!("pool_{n}");
        let (scale, zp) = (self.scale, self.zp);
        let y = self.activation(&format!("{name}/out"), vec![1, oh, ow, c], scale, zp);
        self.spec.operators.push(OperatorSpec {
            code: if average {
                code::AVERAGE_POOL_2D
            } else {
                code::MAX_POOL_2D
            },
            inputs: vec![self.x],
            outputs: vec![y],
            options: OptionsSpec::Pool {
                padding: if same {
                    PaddingSpec::Same
                } else {
                    PaddingSpec::Valid
                },
                stride: (2, 2),
                filter: (k, k),
                activation: 0,
            },
        });
        (self.x, self.shape) = (y, vec![1, oh, ow, c]);
    }

    /// x + conv1x1(x) (or x * conv1x1(x)): a residual join, two operands of different scales.
    fn join(&mut self, n: usize) {
        let (x, shape, scale) = (self.x, self.shape.clone(), self.scale);
        let c = shape[3];
        let name = format!("branch_{n}");
        let (wt, b, _) = self.weights_and_bias(&name, vec![c, 1, 1, c], c as usize, 0, c);
        let bscale = scale * (0.5 + self.rng.unit());
        let bzp = i64::from(self.rng.range(-10, 10));
        let branch = self.activation(&format!("{name}/out"), shape.clone(), bscale, bzp);
        self.spec.operators.push(OperatorSpec {
            code: code::CONV_2D,
            inputs: vec![x, wt, b],
            outputs: vec![branch],
            options: OptionsSpec::Conv {
                padding: PaddingSpec::Valid,
                stride: (1, 1),
                activation: 0,
                dilation: (1, 1),
            },
        });
        let mul = self.rng.range(0, 3) == 0;
        let oscale = if mul {
            scale * bscale * 64.0 * (0.5 + self.rng.unit())
        } else {
            (scale + bscale) * (0.5 + self.rng.unit())
        };
        let (act, ozp) = self.act_code();
        let y = self.activation(&format!("join_{n}/out"), shape, oscale, ozp);
        self.spec.operators.push(OperatorSpec {
            code: if mul { code::MUL } else { code::ADD },
            inputs: vec![x, branch],
            outputs: vec![y],
            options: if mul {
                OptionsSpec::Mul { activation: act }
            } else {
                OptionsSpec::Add { activation: act }
            },
        });
        (self.x, self.scale, self.zp) = (y, oscale, ozp);
    }

    fn pad(&mut self, n: usize) {
        let p: Vec<i32> = (0..4)
            .map(|d| {
                if d == 0 || d == 3 {
                    0
                } else {
                    self.rng.range(0, 2)
                }
            })
            .collect();
        let q: Vec<i32> = (0..4)
            .map(|d| {
                if d == 0 || d == 3 {
                    0
                } else {
                    self.rng.range(0, 2)
                }
            })
            .collect();
        let data: Vec<u8> = (0..4)
            .flat_map(|d| [p[d], q[d]])
            .flat_map(i32::to_le_bytes)
            .collect();
        let paddings = self.tensor(
            &format!("pad_{n}/paddings"),
            vec![4, 2],
            INT32,
            Some(data),
            vec![],
            vec![],
            0,
        );
        let shape: Vec<i32> = (0..4).map(|d| self.shape[d] + p[d] + q[d]).collect();
        let (scale, zp) = (self.scale, self.zp);
        let y = self.activation(&format!("pad_{n}/out"), shape.clone(), scale, zp);
        self.spec.operators.push(OperatorSpec {
            code: code::PAD,
            inputs: vec![self.x, paddings],
            outputs: vec![y],
            options: OptionsSpec::Pad,
        });
        (self.x, self.shape) = (y, shape);
    }

    fn head(&mut self, n: usize) {
        let count: i32 = self.shape.iter().product();
        let new_shape = vec![1, count];
        let shape_data: Vec<u8> = new_shape
            .iter()
            .flat_map(|v: &i32| v.to_le_bytes())
            .collect();
        let shape_t = self.tensor(
            &format!("flatten_{n}/shape"),
            vec![2],
            INT32,
            Some(shape_data),
            vec![],
            vec![],
            0,
        );
        let (scale, zp) = (self.scale, self.zp);
        let flat = self.activation(&format!("flatten_{n}/out"), new_shape.clone(), scale, zp);
        self.spec.operators.push(OperatorSpec {
            code: code::RESHAPE,
            inputs: vec![self.x, shape_t],
            outputs: vec![flat],
            options: OptionsSpec::Reshape { new_shape },
        });
        self.x = flat;
        let outputs = self.rng.range(2, 12);
        let name = format!("dense_{n}");
        let data = self.rng.bytes((outputs * count) as usize);
        let ws = 1.0 / (64.0 * (count as f32).sqrt());
        let w = self.tensor(
            &format!("{name}/weights"),
            vec![outputs, count],
            INT8,
            Some(data),
            vec![ws],
            vec![0],
            0,
        );
        let bias: Vec<u8> = (0..outputs)
            .flat_map(|_| self.rng.range(-500, 500).to_le_bytes())
            .collect();
        let b = self.tensor(
            &format!("{name}/bias"),
            vec![outputs],
            INT32,
            Some(bias),
            vec![ws * scale],
            vec![0],
            0,
        );
        let lscale = 0.05 + 0.1 * self.rng.unit();
        let logits = self.activation(&format!("{name}/out"), vec![1, outputs], lscale, 0);
        self.spec.operators.push(OperatorSpec {
            code: code::FULLY_CONNECTED,
            inputs: vec![self.x, w, b],
            outputs: vec![logits],
            options: OptionsSpec::FullyConnected { activation: 0 },
        });
        let (kind, out_scale, out_zp) = match self.rng.range(0, 2) {
            0 => (code::SOFTMAX, 1.0 / 256.0, -128),
            1 => (code::LOGISTIC, 1.0 / 256.0, -128),
            _ => (code::TANH, 1.0 / 128.0, 0),
        };
        let y = self.activation(
            &format!("head_{n}/out"),
            vec![1, outputs],
            out_scale,
            out_zp,
        );
        self.spec.operators.push(OperatorSpec {
            code: kind,
            inputs: vec![logits],
            outputs: vec![y],
            options: if kind == code::SOFTMAX {
                OptionsSpec::Softmax { beta: 1.0 }
            } else {
                OptionsSpec::None
            },
        });
        self.x = y;
    }
}

/// A ResNet-style image classifier (32x32x3 input, residual joins, 3x3 convolutions up to
/// 128 channels, a dense head) with about 470 KB of weights and an arena of 120 KB: a
/// model that fills a Cortex-M0+ board with 512 KiB of flash and 144 KiB of SRAM nearly to the
/// last byte, as a large model does. About 11 M MACs.
pub fn large_resnet(seed: u64) -> ModelSpec {
    let mut b = Builder::begin(
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        format!("mcusim synthetic large ResNet, seed {seed}"),
        vec![1, 32, 32, 3],
    );
    b.conv_with(0, 3, 1, true, 40);
    b.join(1);
    b.pool_with(2, 2, false, false);
    b.conv_with(3, 3, 2, true, 64);
    b.conv_with(4, 3, 2, true, 128);
    b.conv_with(5, 3, 1, true, 128);
    b.conv_with(6, 3, 1, true, 128);
    b.join(7);
    b.conv_with(8, 3, 1, true, 40);
    b.head(9);
    b.spec.outputs = vec![b.x];
    b.spec
}

/// A random small int8 model from `seed`: an input of up to 12x12x8, one to four layers
/// (convolutions, depthwise convolutions, pools, residual ADD/MUL, PAD), and half the time a
/// head (RESHAPE, FULLY_CONNECTED, then SOFTMAX, LOGISTIC or TANH).
pub fn random_model(seed: u64) -> ModelSpec {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let shape = vec![1, rng.range(3, 12), rng.range(3, 12), rng.range(1, 8)];
    let mut b = Builder::begin(rng, format!("mcusim synthetic model, seed {seed}"), shape);
    let layers = b.rng.range(1, 4) as usize;
    for n in 0..layers {
        match b.rng.range(0, 5) {
            0 | 1 => b.conv(n),
            2 => b.depthwise(n),
            3 if b.shape[1] >= 2 && b.shape[2] >= 2 => b.pool(n),
            4 => b.join(n),
            _ => b.pad(n),
        }
    }
    if b.rng.range(0, 1) == 0 {
        b.head(layers);
    }
    b.spec.outputs = vec![b.x];
    b.spec
}

/// A deterministic pseudo-random int8 input for a model input of `len` bytes.
pub fn random_input(seed: u64, len: usize) -> Vec<i8> {
    let mut rng = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    rng.bytes(len).into_iter().map(|b| b as i8).collect()
}
