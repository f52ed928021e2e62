/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One NPU descriptor of each kind, each checked against the CPU's reference kernel on the
 * same operands, with the NPU's counters read back: tests/e2e/npu.rs holds the expected
 * cycles (Vela's estimate of each layer) and compares the outputs' agreement.
 */
#include <stdio.h>
#include <string.h>

#include "mcusim_npu.h"
#include "mnn_functions.h"

#ifndef MCUSIM_NPU_BASE
int main(void) {
    puts("npu_layers: this board has no npu");
    return 0;
}
#else

#define H 16
#define W 16
#define C 16
static int8_t ifm[H * W * C], ifm2[H * W * C], weights[C * 3 * 3 * C];
static int8_t npu_out[H * W * C], cpu_out[H * W * C];
static int32_t bias[64], multiplier[64], shift[64];
static uint32_t seed = 2026u;

static int8_t next(void) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return (int8_t)(seed >> 24);
}

static void fill(int8_t *p, int n) {
    for (int i = 0; i < n; i++) {
        p[i] = next();
    }
}

static void report(const char *name, const mcusim_npu_op *op, mnn_status cpu, int bytes) {
    memset(npu_out, 0x55, sizeof npu_out);
    MCUSIM_NPU_CMD = MCUSIM_NPU_RESET_COUNTERS;
    uint32_t failed = mcusim_npu_run(op, 1);
    uint32_t cycles = MCUSIM_NPU_ACTIVE_LO, macs = MCUSIM_NPU_MACS_LO;
    int same = failed == 0u && cpu == MNN_SUCCESS && memcmp(npu_out, cpu_out, (size_t)bytes) == 0;
    printf("npu_layers: %s %s, %lu cycles, %lu MACs, %lu+%lu bytes read\n", name,
           same ? "agrees" : "DIFFERS", (unsigned long)cycles, (unsigned long)macs,
           (unsigned long)MCUSIM_NPU_P0_READ, (unsigned long)MCUSIM_NPU_P1_READ);
}

static mcusim_npu_op base(uint32_t kind, int32_t ih, int32_t iw, int32_t ic, int32_t oh, int32_t ow,
                          int32_t oc) {
    mcusim_npu_op op;
    memset(&op, 0, sizeof op);
    op.op = kind;
    op.ifm = ifm;
    op.ofm = npu_out;
    op.ifm_dims[0] = 1, op.ifm_dims[1] = ih, op.ifm_dims[2] = iw, op.ifm_dims[3] = ic;
    op.ofm_dims[0] = 1, op.ofm_dims[1] = oh, op.ofm_dims[2] = ow, op.ofm_dims[3] = oc;
    op.stride[0] = op.stride[1] = 1;
    op.dilation[0] = op.dilation[1] = 1;
    op.act_min = -128, op.act_max = 127;
    op.ifm_offset = 3, op.ofm_offset = -5;
    return op;
}

int main(void) {
    fill(ifm, sizeof ifm);
    fill(ifm2, sizeof ifm2);
    fill(weights, sizeof weights);
    for (int i = 0; i < 64; i++) {
        bias[i] = (int32_t)next() * 37;
        multiplier[i] = 1200000000 + (int32_t)next() * 1000000;
        shift[i] = -7 - (i & 1);
    }
    const mnn_per_channel_quant q = {multiplier, shift};

    /* CONV_2D 3x3, 16 -> 16 channels, SAME padding, ReLU. */
    mcusim_npu_op conv = base(MCUSIM_NPU_CONV_2D, H, W, C, H, W, C);
    conv.weights = weights, conv.bias = bias, conv.multiplier = multiplier, conv.shift = shift;
    conv.filter_dims[0] = C, conv.filter_dims[1] = 3, conv.filter_dims[2] = 3, conv.filter_dims[3] = C;
    conv.pad[0] = conv.pad[1] = 1;
    conv.act_min = -5;
    {
        const mnn_conv_params p = {3, -5, 1, 1, 1, 1, 1, 1, {-5, 127}};
        const mnn_dims in = {1, H, W, C}, f = {C, 3, 3, C}, out = {1, H, W, C};
        mnn_status s = mnn_conv_s8_ref(&p, &q, &in, ifm, &f, weights, bias, &out, cpu_out);
        report("CONV_2D", &conv, s, H * W * C);
    }

    /* The same convolution on weights in flash (bytes of this program's code), which the
     * weight DMA stages into SRAM just before it: the copy is still under way when the
     * convolution starts, so it waits for the weights, and the copy's bytes are counted. */
    {
        const int8_t *code = (const int8_t *)((uintptr_t)&main & ~(uintptr_t)1);
        static int8_t staged[C * 3 * 3 * C];
        const mnn_conv_params p = {3, -5, 1, 1, 1, 1, 1, 1, {-5, 127}};
        const mnn_dims in = {1, H, W, C}, f = {C, 3, 3, C}, out = {1, H, W, C};
        mnn_status s = mnn_conv_s8_ref(&p, &q, &in, ifm, &f, code, bias, &out, cpu_out);
        mcusim_npu_op sc = conv;
        sc.weights = staged;
        memset(npu_out, 0x55, sizeof npu_out);
        MCUSIM_NPU_CMD = MCUSIM_NPU_RESET_COUNTERS;
        uint32_t failed = mcusim_npu_weight_dma(code, staged, sizeof staged);
        uint32_t in_flight = MCUSIM_NPU_STATUS & MCUSIM_NPU_DMA_BUSY;
        failed |= mcusim_npu_run(&sc, 1);
        int same = failed == 0u && s == MNN_SUCCESS && memcmp(npu_out, cpu_out, sizeof npu_out) == 0;
        printf("npu_layers: STAGED %s, %lu cycles, copy %s, %lu bytes read from flash\n",
               same ? "agrees" : "DIFFERS", (unsigned long)MCUSIM_NPU_ACTIVE_LO,
               in_flight ? "in flight" : "done", (unsigned long)MCUSIM_NPU_P1_READ);
    }

    /* DEPTHWISE_CONV_2D 3x3, stride 2, 16 channels. */
    mcusim_npu_op dw = base(MCUSIM_NPU_DEPTHWISE_CONV_2D, H, W, C, H / 2, W / 2, C);
    dw.weights = weights, dw.bias = bias, dw.multiplier = multiplier, dw.shift = shift;
    dw.filter_dims[0] = 1, dw.filter_dims[1] = 3, dw.filter_dims[2] = 3, dw.filter_dims[3] = C;
    dw.stride[0] = dw.stride[1] = 2;
    dw.depth_multiplier = 1;
    {
        const mnn_dw_conv_params p = {3, -5, 1, 2, 2, 0, 0, 1, 1, {-128, 127}};
        const mnn_dims in = {1, H, W, C}, f = {1, 3, 3, C}, out = {1, H / 2, W / 2, C};
        mnn_status s = mnn_depthwise_conv_s8_ref(&p, &q, &in, ifm, &f, weights, bias, &out, cpu_out);
        report("DEPTHWISE_CONV_2D", &dw, s, H / 2 * W / 2 * C);
    }

    /* FULLY_CONNECTED 1024 -> 64, per-tensor quantisation. */
    mcusim_npu_op fc = base(MCUSIM_NPU_FULLY_CONNECTED, 1, 1, 1024, 1, 1, 64);
    fc.weights = weights, fc.bias = bias, fc.multiplier = multiplier, fc.shift = shift;
    fc.filter_dims[0] = 64, fc.filter_dims[1] = 1, fc.filter_dims[2] = 1, fc.filter_dims[3] = 1024;
    {
        const mnn_fc_params p = {3, 0, -5, {-128, 127}};
        const mnn_dims in = {1, 1, 1, 1024}, f = {64, 1, 1, 1024};
        static int8_t fcw[64 * 1024];
        fill(fcw, sizeof fcw);
        fc.weights = fcw;
        mnn_status s = mnn_fully_connected_s8_ref(&p, &q, 0, &in, ifm, &f, fcw, bias, cpu_out);
        report("FULLY_CONNECTED", &fc, s, 64);
    }

    /* AVERAGE_POOL_2D and MAX_POOL_2D 2x2, stride 2. */
    const mnn_pool_params pp = {2, 2, 0, 0, 2, 2, {-128, 127}};
    const mnn_dims pin = {1, H, W, C}, pout = {1, H / 2, W / 2, C};
    mcusim_npu_op avg = base(MCUSIM_NPU_AVERAGE_POOL_2D, H, W, C, H / 2, W / 2, C);
    avg.filter_dims[1] = avg.filter_dims[2] = 2;
    avg.stride[0] = avg.stride[1] = 2;
    avg.ifm_offset = avg.ofm_offset = 0;
    report("AVERAGE_POOL_2D", &avg, mnn_avgpool_s8_ref(&pp, &pin, ifm, &pout, cpu_out), H / 2 * W / 2 * C);
    mcusim_npu_op max = avg;
    max.op = MCUSIM_NPU_MAX_POOL_2D;
    report("MAX_POOL_2D", &max, mnn_maxpool_s8_ref(&pp, &pin, ifm, &pout, cpu_out), H / 2 * W / 2 * C);

    /* ADD and MUL of two 16x16x16 tensors. */
    const mnn_dims e = {1, H, W, C};
    mcusim_npu_op add = base(MCUSIM_NPU_ADD, H, W, C, H, W, C);
    add.ifm2 = ifm2;
    memcpy(add.ifm2_dims, add.ifm_dims, sizeof add.ifm2_dims);
    add.ifm_offset = 7, add.ifm2_offset = -2, add.ofm_offset = 1;
    add.ifm_multiplier = 1073741824, add.ifm_shift = 0;
    add.ifm2_multiplier = 1518500250, add.ifm2_shift = -1;
    add.left_shift = 20;
    add.ofm_multiplier = 1342177280, add.ofm_shift = -19;
    {
        const mnn_add_params p = {7, 1073741824, 0, -2, 1518500250, -1, 20, 1, 1342177280, -19, {-128, 127}};
        report("ADD", &add, mnn_add_s8_ref(&p, &e, ifm, &e, ifm2, &e, cpu_out), H * W * C);
    }
    mcusim_npu_op mul = add;
    mul.op = MCUSIM_NPU_MUL;
    mul.ofm_multiplier = 1431655765, mul.ofm_shift = -8;
    {
        const mnn_mul_params p = {7, -2, 1, 1431655765, -8, {-128, 127}};
        report("MUL", &mul, mnn_mul_s8_ref(&p, &e, ifm, &e, ifm2, &e, cpu_out), H * W * C);
    }

    /* NHCWB16 bricks: a 1x1 convolution 16 -> 20 channels writes its output in bricks (the
     * depth padded to 32), a 2x2 max pool reads them back and writes NHWC; the chain agrees
     * with the CPU's, and the bricks hold the convolution's output where the format puts it. */
    {
        enum { CO = 20, PAD = 32 };
        static int8_t bricks[H * W * PAD], nhwc[H * W * CO];
        const mnn_conv_params p = {3, -5, 1, 1, 0, 0, 1, 1, {-128, 127}};
        const mnn_dims in = {1, H, W, C}, f = {CO, 1, 1, C}, mid = {1, H, W, CO};
        const mnn_dims out = {1, H / 2, W / 2, CO};
        mnn_status s = mnn_conv_s8_ref(&p, &q, &in, ifm, &f, weights, bias, &mid, nhwc);
        if (s == MNN_SUCCESS) {
            s = mnn_maxpool_s8_ref(&pp, &mid, nhwc, &out, cpu_out);
        }
        mcusim_npu_op ops[2];
        ops[0] = base(MCUSIM_NPU_CONV_2D, H, W, C, H, W, CO);
        ops[0].ofm = bricks, ops[0].flags = MCUSIM_NPU_OFM_BRICKS;
        ops[0].weights = weights, ops[0].bias = bias;
        ops[0].multiplier = multiplier, ops[0].shift = shift;
        ops[0].filter_dims[0] = CO, ops[0].filter_dims[1] = ops[0].filter_dims[2] = 1;
        ops[0].filter_dims[3] = C;
        ops[1] = base(MCUSIM_NPU_MAX_POOL_2D, H, W, CO, H / 2, W / 2, CO);
        ops[1].ifm = bricks, ops[1].flags = MCUSIM_NPU_IFM_BRICKS;
        ops[1].filter_dims[1] = ops[1].filter_dims[2] = 2;
        ops[1].stride[0] = ops[1].stride[1] = 2;
        ops[1].ifm_offset = ops[1].ofm_offset = 0;
        memset(npu_out, 0x55, sizeof npu_out);
        uint32_t failed = mcusim_npu_run(ops, 2);
        int same = failed == 0u && s == MNN_SUCCESS &&
                   memcmp(npu_out, cpu_out, (size_t)(H / 2 * W / 2 * CO)) == 0;
        int laid_out = failed == 0u;
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                for (int c = 0; c < PAD; c++) {
                    int8_t want = c < CO ? nhwc[(y * W + x) * CO + c] : 0;
                    laid_out &= bricks[y * W * PAD + (c / 16) * W * 16 + x * 16 + c % 16] == want;
                }
            }
        }
        printf("npu_layers: BRICKS %s, %s\n", same ? "agrees" : "DIFFERS",
               laid_out ? "laid out as NHCWB16" : "NOT NHCWB16");
    }

    /* At most four weight DMAs are under way: each of the first four returns at once, the
     * fifth only when the oldest has landed (the NPU's ACTIVE counter says how long each
     * descriptor took). */
    {
        const int8_t *code = (const int8_t *)((uintptr_t)&main & ~(uintptr_t)1);
        static int8_t dst[5][1024];
        uint32_t took[5], failed = 0u;
        for (int i = 0; i < 5; i++) {
            MCUSIM_NPU_CMD = MCUSIM_NPU_RESET_COUNTERS;
            failed |= mcusim_npu_weight_dma(code + 1024 * i, dst[i], sizeof dst[i]);
            took[i] = MCUSIM_NPU_ACTIVE_LO;
        }
        while (MCUSIM_NPU_STATUS & MCUSIM_NPU_DMA_BUSY) {
        }
        int copied = failed == 0u;
        for (int i = 0; i < 5; i++) {
            copied &= memcmp(dst[i], code + 1024 * i, sizeof dst[i]) == 0;
        }
        printf("npu_layers: DMA QUEUE %s, %lu %lu %lu %lu then %lu cycles\n",
               copied ? "copied" : "LOST", (unsigned long)took[0], (unsigned long)took[1],
               (unsigned long)took[2], (unsigned long)took[3], (unsigned long)took[4]);
    }

    /* A bad descriptor fails with its index. */
    mcusim_npu_op bad[2] = {avg, avg};
    bad[1].op = 99u;
    printf("npu_layers: bad descriptor -> %lu\n", (unsigned long)mcusim_npu_run(bad, 2));

    /* A convolution of 3.3e9 MACs on operands that are all in memory (1 MiB of flash as its
     * input, its output in SRAM): over the NPU's cap on one descriptor's work, so refused
     * at once (it fails, index 0) instead of computed for many seconds. */
    {
        mcusim_npu_op big = base(MCUSIM_NPU_CONV_2D, 512, 512, 4, 449, 449, 1);
        big.ifm = (const int8_t *)0x28000000u;
        big.ofm = (int8_t *)0x21000000u;
        big.weights = (const int8_t *)0x28000000u;
        big.bias = bias, big.multiplier = multiplier, big.shift = shift;
        big.filter_dims[0] = 1, big.filter_dims[1] = 64, big.filter_dims[2] = 64, big.filter_dims[3] = 4;
        uint32_t failed = mcusim_npu_run(&big, 1);
        printf("npu_layers: too much work -> %lu\n", (unsigned long)failed);
    }
    return 0;
}
#endif
