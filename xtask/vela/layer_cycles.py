#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The reference figures of mcusim's NPU timing tests: Vela's own estimate of single layers.

Calls Vela's performance functions (find_block_config, measure_cycle_cost,
measure_element_access) on the layers of sim/src/timing/npu.rs's tests and of
tests/firmware/npu_layers.c, and prints the block configuration and compute cycles of each.

    target/vela-venv/bin/python xtask/vela/layer_cycles.py [ethos-u55-128]

(`cargo xtask vela` creates target/vela-venv with ethos-u-vela 5.2.0.)
"""
import glob
import os
import sys

from ethosu.vela import architecture_allocator as aa
from ethosu.vela import architecture_features as af
from ethosu.vela import npu_performance as npf
from ethosu.vela.ethos_u55_regs.ethos_u55_regs import resampling_mode
from ethosu.vela.operation import Kernel, NpuBlockType, Op
from ethosu.vela.shape4d import Shape4D
from ethosu.vela.tensor import MemArea

ACCEL = sys.argv[1] if len(sys.argv) > 1 else "ethos-u55-128"
INI = glob.glob(os.path.join(os.path.dirname(af.__file__), "..", "config_files", "Arm", "vela.ini"))
ARCH = af.ArchitectureFeatures(INI, ACCEL, "Ethos_U55_High_End_Embedded", "Shared_Sram", 0, False, None)


def layer(name, block, op, ifm, ofm, kernel, stride=(1, 1), weights=MemArea.Sram, act=None, ifm2=None):
    k = Kernel(kernel[1], kernel[0], stride[1], stride[0])
    config = aa.find_block_config(
        ARCH, block, Shape4D(ofm), Shape4D(ifm), Shape4D(ifm2) if ifm2 else None, False, 8, k, 0, True,
        resampling_mode.NONE,
    )
    q = npf.PerformanceQuery(block)
    q.ifm_shape, q.ifm_memory_area, q.ifm_bits = Shape4D(ifm), MemArea.Sram, 8
    q.ofm_shape, q.ofm_memory_area, q.ofm_bits = Shape4D(ofm), MemArea.Sram, 8
    if ifm2:
        q.ifm2_shape, q.ifm2_memory_area, q.ifm2_bits = Shape4D(ifm2), MemArea.Sram, 8
    q.kernel, q.config = k, config
    if block in (NpuBlockType.ConvolutionMxN, NpuBlockType.ConvolutionDepthWise, NpuBlockType.VectorProduct):
        q.const_shape, q.const_memory_area = Shape4D(1, 1, 1, ofm[3]), weights
    cost = npf.measure_cycle_cost(ARCH, op, act, q)
    access = npf.measure_element_access(ARCH, q)
    print(f"{name:24} ofm block {config.ofm_block.as_list()[1:]} compute {cost.op_cycles:7} "
          f"MACs {cost.op_macs:8} ifm read {access.ifm_read[0]}")


conv, dw, fc = NpuBlockType.ConvolutionMxN, NpuBlockType.ConvolutionDepthWise, NpuBlockType.VectorProduct
flash = MemArea.OffChipFlash
print(f"{ACCEL}, Ethos_U55_High_End_Embedded")
layer("kws conv 1x1", conv, Op.Conv2DBias, [1, 25, 5, 64], [1, 25, 5, 64], (1, 1), weights=flash, act=Op.Relu)
layer("kws conv 10x4 s2", conv, Op.Conv2DBias, [1, 49, 10, 1], [1, 25, 5, 64], (10, 4), (2, 2), flash, Op.Relu)
layer("kws depthwise 3x3", dw, Op.DepthwiseConv2DBias, [1, 25, 5, 64], [1, 25, 5, 64], (3, 3), weights=flash,
      act=Op.Relu)
layer("conv 3x3", conv, Op.Conv2DBias, [1, 16, 16, 16], [1, 16, 16, 16], (3, 3), act=Op.Relu)
layer("depthwise 3x3 s2", dw, Op.DepthwiseConv2DBias, [1, 16, 16, 16], [1, 8, 8, 16], (3, 3), (2, 2))
layer("fully connected", fc, Op.FullyConnected, [1, 1, 1, 1024], [1, 1, 1, 64], (1, 1))
layer("average pool", NpuBlockType.Pooling, Op.AvgPool, [1, 16, 16, 16], [1, 8, 8, 16], (2, 2), (2, 2))
layer("max pool", NpuBlockType.Pooling, Op.MaxPool, [1, 16, 16, 16], [1, 8, 8, 16], (2, 2), (2, 2))
layer("add", NpuBlockType.ElementWise, Op.Add, [1, 16, 16, 16], [1, 16, 16, 16], (1, 1), ifm2=[1, 16, 16, 16])
layer("mul", NpuBlockType.ElementWise, Op.Mul, [1, 16, 16, 16], [1, 16, 16, 16], (1, 1), ifm2=[1, 16, 16, 16])
