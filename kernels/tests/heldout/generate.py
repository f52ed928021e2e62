#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates the held-out operator tests in kernels/tests/heldout/data/ and the example models in
examples/models/.

Each case is a small int8 .tflite model written here with the flatbuffers builder of the
`tflite` package (random weights and quantisation from a fixed seed), an input, and the output
TensorFlow Lite Micro's interpreter (the `tflite-micro` package) computes for it: the bit-exact
target. The cases cover what the MLPerf Tiny models do not: strides and SAME padding with odd
sizes, dilation, depth multipliers, ReLU6, per-tensor and per-channel weights, pools, ADD and
MUL with broadcast, SOFTMAX with beta, LOGISTIC, TANH, PAD, CONCATENATION, RESHAPE.

    python3 -m venv /tmp/tfl && /tmp/tfl/bin/pip install tflite-micro tflite flatbuffers numpy
    /tmp/tfl/bin/python kernels/tests/heldout/generate.py

The outputs are committed; tests read them without Python.
"""
import json
import os
import sys

import flatbuffers
import numpy as np
import tflite
from tflite_micro import runtime

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
rng = np.random.default_rng(20261122)

ACT = {"none": 0, "relu": 1, "relu_n1_to_1": 2, "relu6": 3}
PAD = {"same": 0, "valid": 1}


class Model:
    """A one-subgraph model under construction."""

    def __init__(self):
        self.tensors = []  # (name, shape, type, buffer_bytes or None, scales, zero_points, qdim)
        self.ops = []  # (builtin code, inputs, outputs, options_type, options_fn)
        self.inputs = []
        self.outputs = []

    def tensor(self, name, shape, dtype=tflite.TensorType.INT8, data=None, scale=None, zp=None, qdim=0):
        scales = None if scale is None else list(np.atleast_1d(np.asarray(scale, dtype=np.float32)))
        zps = None if zp is None else [int(z) for z in np.atleast_1d(zp)]
        self.tensors.append((name, list(shape), dtype, data, scales, zps, qdim))
        return len(self.tensors) - 1

    def activation(self, name, shape, scale, zp):
        return self.tensor(name, shape, scale=scale, zp=zp)

    def op(self, code, inputs, outputs, options_type=0, options=None):
        self.ops.append((code, inputs, outputs, options_type, options))

    def build(self):
        b = flatbuffers.Builder(1024)
        codes = sorted({op[0] for op in self.ops})
        # Buffers: 0 empty, then one per constant tensor.
        buffer_data = [None]
        tensor_buffer = []
        for t in self.tensors:
            if t[3] is None:
                tensor_buffer.append(0)
            else:
                buffer_data.append(t[3])
                tensor_buffer.append(len(buffer_data) - 1)
        buffers = []
        for data in buffer_data:
            if data is None:
                tflite.BufferStart(b)
                buffers.append(tflite.BufferEnd(b))
                continue
            vec = b.CreateByteVector(bytes(data))
            tflite.BufferStart(b)
            tflite.BufferAddData(b, vec)
            buffers.append(tflite.BufferEnd(b))
        tensors = []
        for (name, shape, dtype, _, scales, zps, qdim), buf in zip(self.tensors, tensor_buffer):
            name_off = b.CreateString(name)
            shape_off = vector_i32(b, shape)
            q_off = None
            if scales is not None:
                sc = vector_f32(b, scales)
                zp = vector_i64(b, zps)
                tflite.QuantizationParametersStart(b)
                tflite.QuantizationParametersAddScale(b, sc)
                tflite.QuantizationParametersAddZeroPoint(b, zp)
                tflite.QuantizationParametersAddQuantizedDimension(b, qdim)
                q_off = tflite.QuantizationParametersEnd(b)
            tflite.TensorStart(b)
            tflite.TensorAddShape(b, shape_off)
            tflite.TensorAddType(b, dtype)
            tflite.TensorAddBuffer(b, buf)
            tflite.TensorAddName(b, name_off)
            if q_off is not None:
                tflite.TensorAddQuantization(b, q_off)
            tensors.append(tflite.TensorEnd(b))
        ops = []
        for code, inputs, outputs, opt_type, opt_fn in self.ops:
            opt_off = opt_fn(b) if opt_fn else None
            in_off = vector_i32(b, inputs)
            out_off = vector_i32(b, outputs)
            tflite.OperatorStart(b)
            tflite.OperatorAddOpcodeIndex(b, codes.index(code))
            tflite.OperatorAddInputs(b, in_off)
            tflite.OperatorAddOutputs(b, out_off)
            if opt_off is not None:
                tflite.OperatorAddBuiltinOptionsType(b, opt_type)
                tflite.OperatorAddBuiltinOptions(b, opt_off)
            ops.append(tflite.OperatorEnd(b))
        t_vec = vector_offsets(b, tensors)
        o_vec = vector_offsets(b, ops)
        i_vec = vector_i32(b, self.inputs)
        out_vec = vector_i32(b, self.outputs)
        sg_name = b.CreateString("main")
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, t_vec)
        tflite.SubGraphAddInputs(b, i_vec)
        tflite.SubGraphAddOutputs(b, out_vec)
        tflite.SubGraphAddOperators(b, o_vec)
        tflite.SubGraphAddName(b, sg_name)
        subgraph = tflite.SubGraphEnd(b)
        code_offs = []
        for code in codes:
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, 1)
            code_offs.append(tflite.OperatorCodeEnd(b))
        codes_vec = vector_offsets(b, code_offs)
        sg_vec = vector_offsets(b, [subgraph])
        buf_vec = vector_offsets(b, buffers)
        desc = b.CreateString("mcusim held-out operator test")
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, codes_vec)
        tflite.ModelAddSubgraphs(b, sg_vec)
        tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buf_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def vector_i32(b, values):
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependInt32(int(v))
    return b.EndVector()


def vector_i64(b, values):
    b.StartVector(8, len(values), 8)
    for v in reversed(values):
        b.PrependInt64(int(v))
    return b.EndVector()


def vector_f32(b, values):
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependFloat32(float(v))
    return b.EndVector()


def vector_offsets(b, offs):
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def scale():
    return float(rng.uniform(0.005, 0.08))


def zp():
    return int(rng.integers(-30, 30))


def weights(shape):
    return rng.integers(-127, 128, size=shape, dtype=np.int8)


def conv_options(padding, stride, dilation, act):
    def fn(b):
        tflite.Conv2DOptionsStart(b)
        tflite.Conv2DOptionsAddPadding(b, PAD[padding])
        tflite.Conv2DOptionsAddStrideW(b, stride[1])
        tflite.Conv2DOptionsAddStrideH(b, stride[0])
        tflite.Conv2DOptionsAddFusedActivationFunction(b, ACT[act])
        tflite.Conv2DOptionsAddDilationWFactor(b, dilation[1])
        tflite.Conv2DOptionsAddDilationHFactor(b, dilation[0])
        return tflite.Conv2DOptionsEnd(b)

    return fn


def out_size(padding, size, k, stride, dilation):
    eff = (k - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == "same" else (size - eff + stride) // stride


def conv_case(in_shape, out_c, k, stride, dilation, padding, act, per_channel=True, bias=True):
    m = Model()
    n, h, w, c = in_shape
    s_in, s_out = scale(), scale() * 4
    x = m.activation("input", in_shape, s_in, zp())
    f_scales = rng.uniform(0.002, 0.02, size=out_c if per_channel else 1).astype(np.float32)
    f = m.tensor("weights", [out_c, k[0], k[1], c], data=weights((out_c, k[0], k[1], c)).tobytes(), scale=f_scales,
                 zp=[0] * len(f_scales), qdim=0)
    inputs = [x, f]
    if bias:
        bias_scale = (s_in * f_scales).astype(np.float32)
        b = m.tensor("bias", [out_c], tflite.TensorType.INT32,
                     data=rng.integers(-3000, 3000, size=out_c, dtype=np.int32).tobytes(),
                     scale=bias_scale if per_channel else bias_scale[:1], zp=[0] * len(bias_scale), qdim=0)
        inputs.append(b)
    else:
        inputs.append(-1)
    oh, ow = out_size(padding, h, k[0], stride[0], dilation[0]), out_size(padding, w, k[1], stride[1], dilation[1])
    y = m.activation("output", [n, oh, ow, out_c], s_out, zp())
    m.op(tflite.BuiltinOperator.CONV_2D, inputs, [y], tflite.BuiltinOptions.Conv2DOptions,
         conv_options(padding, stride, dilation, act))
    m.inputs, m.outputs = [x], [y]
    return m


def dw_case(in_shape, mult, k, stride, dilation, padding, act):
    m = Model()
    n, h, w, c = in_shape
    oc = c * mult
    s_in, s_out = scale(), scale() * 2
    x = m.activation("input", in_shape, s_in, zp())
    f_scales = rng.uniform(0.002, 0.02, size=oc).astype(np.float32)
    f = m.tensor("weights", [1, k[0], k[1], oc], data=weights((1, k[0], k[1], oc)).tobytes(), scale=f_scales,
                 zp=[0] * oc, qdim=3)
    b = m.tensor("bias", [oc], tflite.TensorType.INT32,
                 data=rng.integers(-3000, 3000, size=oc, dtype=np.int32).tobytes(),
                 scale=(s_in * f_scales).astype(np.float32), zp=[0] * oc, qdim=0)
    oh, ow = out_size(padding, h, k[0], stride[0], dilation[0]), out_size(padding, w, k[1], stride[1], dilation[1])
    y = m.activation("output", [n, oh, ow, oc], s_out, zp())

    def fn(bld):
        tflite.DepthwiseConv2DOptionsStart(bld)
        tflite.DepthwiseConv2DOptionsAddPadding(bld, PAD[padding])
        tflite.DepthwiseConv2DOptionsAddStrideW(bld, stride[1])
        tflite.DepthwiseConv2DOptionsAddStrideH(bld, stride[0])
        tflite.DepthwiseConv2DOptionsAddDepthMultiplier(bld, mult)
        tflite.DepthwiseConv2DOptionsAddFusedActivationFunction(bld, ACT[act])
        tflite.DepthwiseConv2DOptionsAddDilationWFactor(bld, dilation[1])
        tflite.DepthwiseConv2DOptionsAddDilationHFactor(bld, dilation[0])
        return tflite.DepthwiseConv2DOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.DEPTHWISE_CONV_2D, [x, f, b], [y], tflite.BuiltinOptions.DepthwiseConv2DOptions, fn)
    m.inputs, m.outputs = [x], [y]
    return m


def fc_case(batches, depth, outputs, act):
    m = Model()
    s_in, s_out = scale(), scale() * 4
    x = m.activation("input", [batches, depth], s_in, zp())
    f_scale = float(rng.uniform(0.002, 0.02))
    f = m.tensor("weights", [outputs, depth], data=weights((outputs, depth)).tobytes(), scale=f_scale, zp=0)
    b = m.tensor("bias", [outputs], tflite.TensorType.INT32,
                 data=rng.integers(-3000, 3000, size=outputs, dtype=np.int32).tobytes(), scale=s_in * f_scale, zp=0)
    y = m.activation("output", [batches, outputs], s_out, zp())

    def fn(bld):
        tflite.FullyConnectedOptionsStart(bld)
        tflite.FullyConnectedOptionsAddFusedActivationFunction(bld, ACT[act])
        return tflite.FullyConnectedOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.FULLY_CONNECTED, [x, f, b], [y], tflite.BuiltinOptions.FullyConnectedOptions, fn)
    m.inputs, m.outputs = [x], [y]
    return m


def pool_case(code, in_shape, k, stride, padding, act):
    m = Model()
    n, h, w, c = in_shape
    s, z = scale(), zp()
    x = m.activation("input", in_shape, s, z)
    oh, ow = out_size(padding, h, k[0], stride[0], 1), out_size(padding, w, k[1], stride[1], 1)
    y = m.activation("output", [n, oh, ow, c], s, z)

    def fn(bld):
        tflite.Pool2DOptionsStart(bld)
        tflite.Pool2DOptionsAddPadding(bld, PAD[padding])
        tflite.Pool2DOptionsAddStrideW(bld, stride[1])
        tflite.Pool2DOptionsAddStrideH(bld, stride[0])
        tflite.Pool2DOptionsAddFilterWidth(bld, k[1])
        tflite.Pool2DOptionsAddFilterHeight(bld, k[0])
        tflite.Pool2DOptionsAddFusedActivationFunction(bld, ACT[act])
        return tflite.Pool2DOptionsEnd(bld)

    m.op(code, [x], [y], tflite.BuiltinOptions.Pool2DOptions, fn)
    m.inputs, m.outputs = [x], [y]
    return m


def binary_case(code, shape_a, shape_b, act):
    m = Model()
    a = m.activation("input_a", shape_a, scale(), zp())
    b = m.activation("input_b", shape_b, scale(), zp())
    out_shape = list(np.broadcast_shapes(tuple(shape_a), tuple(shape_b)))
    y = m.activation("output", out_shape, scale() * (2 if code == tflite.BuiltinOperator.ADD else 0.3), zp())
    if code == tflite.BuiltinOperator.ADD:
        def fn(bld):
            tflite.AddOptionsStart(bld)
            tflite.AddOptionsAddFusedActivationFunction(bld, ACT[act])
            return tflite.AddOptionsEnd(bld)
        m.op(code, [a, b], [y], tflite.BuiltinOptions.AddOptions, fn)
    else:
        def fn(bld):
            tflite.MulOptionsStart(bld)
            tflite.MulOptionsAddFusedActivationFunction(bld, ACT[act])
            return tflite.MulOptionsEnd(bld)
        m.op(code, [a, b], [y], tflite.BuiltinOptions.MulOptions, fn)
    m.inputs, m.outputs = [a, b], [y]
    return m


def softmax_case(shape, beta):
    m = Model()
    x = m.activation("input", shape, scale() * 2, zp())
    y = m.activation("output", shape, 1.0 / 256, -128)

    def fn(bld):
        tflite.SoftmaxOptionsStart(bld)
        tflite.SoftmaxOptionsAddBeta(bld, beta)
        return tflite.SoftmaxOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.SOFTMAX, [x], [y], tflite.BuiltinOptions.SoftmaxOptions, fn)
    m.inputs, m.outputs = [x], [y]
    return m


def unary_case(code, shape, out_scale, out_zp):
    m = Model()
    x = m.activation("input", shape, scale() * 3, zp())
    y = m.activation("output", shape, out_scale, out_zp)
    m.op(code, [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def pad_case(shape, paddings):
    m = Model()
    s, z = scale(), zp()
    x = m.activation("input", shape, s, z)
    p = m.tensor("paddings", [len(shape), 2], tflite.TensorType.INT32,
                 data=np.asarray(paddings, dtype=np.int32).tobytes())
    out = [d + a + b for d, (a, b) in zip(shape, paddings)]
    y = m.activation("output", out, s, z)

    def fn(bld):
        tflite.PadOptionsStart(bld)
        return tflite.PadOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.PAD, [x, p], [y], tflite.BuiltinOptions.PadOptions, fn)
    m.inputs, m.outputs = [x], [y]
    return m


def concat_case(shapes, axis):
    m = Model()
    s, z = scale(), zp()
    xs = [m.activation(f"input_{i}", sh, s, z) for i, sh in enumerate(shapes)]
    out = list(shapes[0])
    out[axis] = sum(sh[axis] for sh in shapes)
    y = m.activation("output", out, s, z)

    def fn(bld):
        tflite.ConcatenationOptionsStart(bld)
        tflite.ConcatenationOptionsAddAxis(bld, axis)
        return tflite.ConcatenationOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.CONCATENATION, xs, [y], tflite.BuiltinOptions.ConcatenationOptions, fn)
    m.inputs, m.outputs = xs, [y]
    return m


def conv_reshape_fc():
    """A small network: CONV_2D (ReLU6) -> MAX_POOL -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX."""
    m = Model()
    s_in = scale()
    x = m.activation("input", [1, 8, 8, 3], s_in, zp())
    fs = rng.uniform(0.002, 0.02, size=6).astype(np.float32)
    f = m.tensor("conv/weights", [6, 3, 3, 3], data=weights((6, 3, 3, 3)).tobytes(), scale=fs, zp=[0] * 6, qdim=0)
    b = m.tensor("conv/bias", [6], tflite.TensorType.INT32, data=rng.integers(-500, 500, size=6, dtype=np.int32).tobytes(),
                 scale=(s_in * fs).astype(np.float32), zp=[0] * 6, qdim=0)
    s_c = 6.0 / 255
    c = m.activation("conv/out", [1, 8, 8, 6], s_c, -128)
    m.op(tflite.BuiltinOperator.CONV_2D, [x, f, b], [c], tflite.BuiltinOptions.Conv2DOptions,
         conv_options("same", (1, 1), (1, 1), "relu6"))
    p = m.activation("pool/out", [1, 4, 4, 6], s_c, -128)

    def pool(bld):
        tflite.Pool2DOptionsStart(bld)
        tflite.Pool2DOptionsAddPadding(bld, PAD["valid"])
        tflite.Pool2DOptionsAddStrideW(bld, 2)
        tflite.Pool2DOptionsAddStrideH(bld, 2)
        tflite.Pool2DOptionsAddFilterWidth(bld, 2)
        tflite.Pool2DOptionsAddFilterHeight(bld, 2)
        return tflite.Pool2DOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.MAX_POOL_2D, [c], [p], tflite.BuiltinOptions.Pool2DOptions, pool)
    shape_t = m.tensor("reshape/shape", [2], tflite.TensorType.INT32, data=np.asarray([1, 96], dtype=np.int32).tobytes())
    r = m.activation("reshape/out", [1, 96], s_c, -128)

    def reshape(bld):
        vec = vector_i32(bld, [1, 96])
        tflite.ReshapeOptionsStart(bld)
        tflite.ReshapeOptionsAddNewShape(bld, vec)
        return tflite.ReshapeOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.RESHAPE, [p, shape_t], [r], tflite.BuiltinOptions.ReshapeOptions, reshape)
    w_s = 0.01
    w = m.tensor("fc/weights", [10, 96], data=weights((10, 96)).tobytes(), scale=w_s, zp=0)
    bb = m.tensor("fc/bias", [10], tflite.TensorType.INT32, data=rng.integers(-500, 500, size=10, dtype=np.int32).tobytes(),
                  scale=s_c * w_s, zp=0)
    l = m.activation("fc/out", [1, 10], 0.2, 3)

    def fc(bld):
        tflite.FullyConnectedOptionsStart(bld)
        return tflite.FullyConnectedOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.FULLY_CONNECTED, [r, w, bb], [l], tflite.BuiltinOptions.FullyConnectedOptions, fc)
    y = m.activation("softmax/out", [1, 10], 1.0 / 256, -128)

    def sm(bld):
        tflite.SoftmaxOptionsStart(bld)
        tflite.SoftmaxOptionsAddBeta(bld, 1.0)
        return tflite.SoftmaxOptionsEnd(bld)

    m.op(tflite.BuiltinOperator.SOFTMAX, [l], [y], tflite.BuiltinOptions.SoftmaxOptions, sm)
    m.inputs, m.outputs = [x], [y]
    return m


class Net:
    """A chain of layers on one activation tensor: conv, depthwise, pools, FC, softmax."""

    def __init__(self, shape, in_scale=0.05, in_zp=0):
        self.m = Model()
        self.x = self.m.activation("input", shape, in_scale, in_zp)
        self.m.inputs = [self.x]
        self.shape, self.scale, self.zp = list(shape), in_scale, in_zp
        self.n = 0

    def _name(self, kind):
        self.n += 1
        return f"{kind}_{self.n}"

    def _out(self, name, shape, scale, zp):
        y = self.m.activation(f"{name}/out", shape, scale, zp)
        self.x, self.shape, self.scale, self.zp = y, list(shape), scale, zp
        return y

    def _bias(self, name, count, bias_scale):
        return self.m.tensor(f"{name}/bias", [count], tflite.TensorType.INT32,
                             data=rng.integers(-200, 200, size=count, dtype=np.int32).tobytes(),
                             scale=np.asarray(bias_scale, dtype=np.float32), zp=[0] * count, qdim=0)

    def conv(self, out_c, k, stride, padding="same", act="relu", out_scale=0.05):
        name = self._name("conv")
        n, h, w, c = self.shape
        fan_in = k[0] * k[1] * c
        fs = (rng.uniform(0.5, 1.5, size=out_c) / (64 * np.sqrt(fan_in))).astype(np.float32)
        f = self.m.tensor(f"{name}/weights", [out_c, k[0], k[1], c], data=weights((out_c, k[0], k[1], c)).tobytes(),
                          scale=fs, zp=[0] * out_c, qdim=0)
        b = self._bias(name, out_c, self.scale * fs)
        oh, ow = out_size(padding, h, k[0], stride[0], 1), out_size(padding, w, k[1], stride[1], 1)
        x = self.x
        y = self._out(name, [n, oh, ow, out_c], out_scale, -128 if act in ("relu", "relu6") else 0)
        self.m.op(tflite.BuiltinOperator.CONV_2D, [x, f, b], [y], tflite.BuiltinOptions.Conv2DOptions,
                  conv_options(padding, stride, (1, 1), act))

    def depthwise(self, k, stride, padding="same", act="relu", out_scale=0.05):
        name = self._name("depthwise")
        n, h, w, c = self.shape
        fs = (rng.uniform(0.5, 1.5, size=c) / (64 * np.sqrt(k[0] * k[1]))).astype(np.float32)
        f = self.m.tensor(f"{name}/weights", [1, k[0], k[1], c], data=weights((1, k[0], k[1], c)).tobytes(),
                          scale=fs, zp=[0] * c, qdim=3)
        b = self._bias(name, c, self.scale * fs)
        oh, ow = out_size(padding, h, k[0], stride[0], 1), out_size(padding, w, k[1], stride[1], 1)
        x = self.x
        y = self._out(name, [n, oh, ow, c], out_scale, -128 if act in ("relu", "relu6") else 0)

        def fn(bld):
            tflite.DepthwiseConv2DOptionsStart(bld)
            tflite.DepthwiseConv2DOptionsAddPadding(bld, PAD[padding])
            tflite.DepthwiseConv2DOptionsAddStrideW(bld, stride[1])
            tflite.DepthwiseConv2DOptionsAddStrideH(bld, stride[0])
            tflite.DepthwiseConv2DOptionsAddDepthMultiplier(bld, 1)
            tflite.DepthwiseConv2DOptionsAddFusedActivationFunction(bld, ACT[act])
            return tflite.DepthwiseConv2DOptionsEnd(bld)

        self.m.op(tflite.BuiltinOperator.DEPTHWISE_CONV_2D, [x, f, b], [y],
                  tflite.BuiltinOptions.DepthwiseConv2DOptions, fn)

    def global_average(self):
        name = self._name("pool")
        n, h, w, c = self.shape
        x = self.x
        y = self._out(name, [n, 1, 1, c], self.scale, self.zp)

        def fn(bld):
            tflite.Pool2DOptionsStart(bld)
            tflite.Pool2DOptionsAddPadding(bld, PAD["valid"])
            tflite.Pool2DOptionsAddStrideW(bld, w)
            tflite.Pool2DOptionsAddStrideH(bld, h)
            tflite.Pool2DOptionsAddFilterWidth(bld, w)
            tflite.Pool2DOptionsAddFilterHeight(bld, h)
            return tflite.Pool2DOptionsEnd(bld)

        self.m.op(tflite.BuiltinOperator.AVERAGE_POOL_2D, [x], [y], tflite.BuiltinOptions.Pool2DOptions, fn)

    def flatten(self):
        name = self._name("flatten")
        count = int(np.prod(self.shape[1:]))
        shape_t = self.m.tensor(f"{name}/shape", [2], tflite.TensorType.INT32,
                                data=np.asarray([self.shape[0], count], dtype=np.int32).tobytes())
        x = self.x
        y = self._out(name, [self.shape[0], count], self.scale, self.zp)

        def fn(bld):
            vec = vector_i32(bld, [self.shape[0], count])
            tflite.ReshapeOptionsStart(bld)
            tflite.ReshapeOptionsAddNewShape(bld, vec)
            return tflite.ReshapeOptionsEnd(bld)

        self.m.op(tflite.BuiltinOperator.RESHAPE, [x, shape_t], [y], tflite.BuiltinOptions.ReshapeOptions, fn)

    def dense(self, outputs, act="none", out_scale=0.1):
        name = self._name("dense")
        batches, depth = self.shape
        ws = float(1.0 / (64 * np.sqrt(depth)))
        w = self.m.tensor(f"{name}/weights", [outputs, depth], data=weights((outputs, depth)).tobytes(), scale=ws, zp=0)
        b = self._bias(name, outputs, [self.scale * ws] * outputs)
        x = self.x
        y = self._out(name, [batches, outputs], out_scale, -128 if act == "relu" else 0)

        def fn(bld):
            tflite.FullyConnectedOptionsStart(bld)
            tflite.FullyConnectedOptionsAddFusedActivationFunction(bld, ACT[act])
            return tflite.FullyConnectedOptionsEnd(bld)

        self.m.op(tflite.BuiltinOperator.FULLY_CONNECTED, [x, w, b], [y], tflite.BuiltinOptions.FullyConnectedOptions, fn)

    def softmax(self):
        name = self._name("softmax")
        x = self.x
        y = self._out(name, self.shape, 1.0 / 256, -128)

        def fn(bld):
            tflite.SoftmaxOptionsStart(bld)
            tflite.SoftmaxOptionsAddBeta(bld, 1.0)
            return tflite.SoftmaxOptionsEnd(bld)

        self.m.op(tflite.BuiltinOperator.SOFTMAX, [x], [y], tflite.BuiltinOptions.SoftmaxOptions, fn)

    def done(self):
        self.m.outputs = [self.x]
        return self.m


def kws_ds_cnn():
    """A DS-CNN keyword-spotting network shaped like MLPerf Tiny's (49x10 MFCC input, 12 classes)."""
    net = Net([1, 49, 10, 1], 0.5, 0)
    net.conv(64, (10, 4), (2, 2))
    for _ in range(4):
        net.depthwise((3, 3), (1, 1))
        net.conv(64, (1, 1), (1, 1))
    net.global_average()
    net.flatten()
    net.dense(12)
    net.softmax()
    return net.done()


def mobilenet_tiny():
    """A small MobileNet-style image classifier (32x32 RGB, ReLU6, strided depthwise blocks)."""
    net = Net([1, 32, 32, 3], 0.02, 0)
    net.conv(16, (3, 3), (2, 2), act="relu6")
    for out_c, stride in [(24, 1), (32, 2), (32, 1), (64, 2)]:
        net.depthwise((3, 3), (stride, stride), act="relu6")
        net.conv(out_c, (1, 1), (1, 1), act="relu6")
    net.global_average()
    net.flatten()
    net.dense(10)
    net.softmax()
    return net.done()


def autoencoder():
    """A fully connected autoencoder shaped like MLPerf Tiny's anomaly detector (640 inputs)."""
    net = Net([1, 640], 0.1, 0)
    for width in [128, 128, 8, 128, 128]:
        net.dense(width, act="relu")
    net.dense(640)
    return net.done()


EXAMPLES = {"kws_ds_cnn": kws_ds_cnn, "mobilenet_tiny": mobilenet_tiny, "autoencoder": autoencoder}
EXAMPLES_OUT = os.path.join(os.path.dirname(OUT), "..", "..", "..", "examples", "models")


OP = tflite.BuiltinOperator
CASES = {
    "conv_same_stride2_relu6": lambda: conv_case([1, 11, 9, 5], 7, (3, 3), (2, 2), (1, 1), "same", "relu6"),
    "conv_valid_dilation2_nobias": lambda: conv_case([1, 10, 12, 4], 6, (3, 3), (1, 1), (2, 2), "valid", "none",
                                                     bias=False),
    "conv_5x2_stride_1x2_per_tensor": lambda: conv_case([2, 9, 10, 3], 9, (5, 2), (1, 2), (1, 1), "same", "relu",
                                                        per_channel=False),
    "conv_1x1_odd_channels": lambda: conv_case([1, 7, 5, 13], 11, (1, 1), (1, 1), (1, 1), "valid", "none"),
    "depthwise_mult2_same_stride2": lambda: dw_case([1, 9, 11, 5], 2, (3, 3), (2, 2), (1, 1), "same", "relu"),
    "depthwise_5x5_valid": lambda: dw_case([1, 12, 10, 6], 1, (5, 5), (1, 1), (1, 1), "valid", "relu6"),
    "depthwise_dilation2_same": lambda: dw_case([1, 10, 10, 8], 1, (3, 3), (1, 1), (2, 2), "same", "none"),
    "fully_connected_batch2_relu": lambda: fc_case(2, 37, 13, "relu"),
    "max_pool_same_stride2": lambda: pool_case(OP.MAX_POOL_2D, [1, 9, 7, 6], (3, 3), (2, 2), "same", "none"),
    "average_pool_2x3_valid": lambda: pool_case(OP.AVERAGE_POOL_2D, [1, 8, 9, 5], (2, 3), (1, 2), "valid", "relu6"),
    "average_pool_same": lambda: pool_case(OP.AVERAGE_POOL_2D, [1, 7, 7, 4], (3, 3), (2, 2), "same", "none"),
    "add_broadcast_relu": lambda: binary_case(OP.ADD, [1, 4, 5, 6], [1, 1, 1, 6], "relu"),
    "add_same_shape": lambda: binary_case(OP.ADD, [1, 3, 4, 8], [1, 3, 4, 8], "none"),
    "mul_same_shape": lambda: binary_case(OP.MUL, [1, 3, 4, 5], [1, 3, 4, 5], "none"),
    "mul_broadcast": lambda: binary_case(OP.MUL, [1, 4, 3, 5], [1, 4, 1, 1], "relu6"),
    "softmax_beta_half": lambda: softmax_case([3, 20], 0.5),
    "softmax_long_rows": lambda: softmax_case([2, 100], 1.0),
    "logistic": lambda: unary_case(OP.LOGISTIC, [1, 300], 1.0 / 256, -128),
    "tanh": lambda: unary_case(OP.TANH, [1, 300], 1.0 / 128, 0),
    "pad": lambda: pad_case([1, 4, 5, 3], [[0, 0], [1, 2], [2, 1], [0, 0]]),
    "concatenation_channels": lambda: concat_case([[1, 3, 4, 5], [1, 3, 4, 2]], 3),
    "concatenation_rows": lambda: concat_case([[1, 2, 4, 3], [1, 3, 4, 3], [1, 1, 4, 3]], 1),
    "conv_pool_reshape_fc_softmax": conv_reshape_fc,
}


def npy(path, array):
    np.save(path, np.ascontiguousarray(array.astype(np.int8)), allow_pickle=False)


def seed(name):
    """Each case draws from its own generator, so any subset regenerates the same bytes."""
    global rng
    rng = np.random.default_rng([20261122] + [ord(c) for c in name])


def run_case(name, spec, d, prefix=""):
    model = spec.build()
    interp = runtime.Interpreter.from_bytes(model)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{prefix}model.tflite" if not prefix else f"{prefix}.tflite"), "wb") as f:
        f.write(model)
    inputs = []
    for i in range(len(spec.inputs)):
        detail = interp.get_input_details(i)
        x = rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)
        interp.set_input(x, i)
        npy(os.path.join(d, f"{prefix}.input_{i}.npy" if prefix else f"input_{i}.npy"), x)
        inputs.append(list(map(int, detail["shape"])))
    interp.invoke()
    y = interp.get_output(0)
    npy(os.path.join(d, f"{prefix}.output_0.npy" if prefix else "output_0.npy"), y)
    print(f"{name}: inputs {inputs} -> output {list(y.shape)}")


def main():
    only = set(sys.argv[1:])
    for name, make in CASES.items():
        if only and name not in only:
            continue
        seed(name)
        run_case(name, make(), os.path.join(OUT, name))
    for name, make in EXAMPLES.items():
        if only and name not in only:
            continue
        seed(name)
        run_case(name, make(), os.path.abspath(EXAMPLES_OUT), prefix=name)


if __name__ == "__main__":
    main()
