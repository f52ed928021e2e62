/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A driver for mcusim's Ethos-U55-class NPU (the board's `npu` peripheral; register map and
 * descriptor format in sim/src/devices/npu.rs). Header-only. Firmware fills descriptors (one
 * per layer), queues them and sleeps in WFI until the NPU's interrupt says the queue is done.
 * The board header gives MCUSIM_NPU_BASE, MCUSIM_NPU_MACS and MCUSIM_NPU_IRQ.
 */
#ifndef MCUSIM_NPU_H
#define MCUSIM_NPU_H

#include "mcusim.h"

#ifdef MCUSIM_NPU_BASE

#define MCUSIM_NPU_ID MCUSIM_REG(MCUSIM_NPU_BASE + 0x00u)
#define MCUSIM_NPU_CONFIG MCUSIM_REG(MCUSIM_NPU_BASE + 0x04u)
#define MCUSIM_NPU_QBASE MCUSIM_REG(MCUSIM_NPU_BASE + 0x08u)
#define MCUSIM_NPU_QSIZE MCUSIM_REG(MCUSIM_NPU_BASE + 0x0Cu)
#define MCUSIM_NPU_CMD MCUSIM_REG(MCUSIM_NPU_BASE + 0x10u)
#define MCUSIM_NPU_STATUS MCUSIM_REG(MCUSIM_NPU_BASE + 0x14u)
#define MCUSIM_NPU_INTEN MCUSIM_REG(MCUSIM_NPU_BASE + 0x18u)
#define MCUSIM_NPU_ERRINDEX MCUSIM_REG(MCUSIM_NPU_BASE + 0x1Cu)
#define MCUSIM_NPU_ACTIVE_LO MCUSIM_REG(MCUSIM_NPU_BASE + 0x20u)
#define MCUSIM_NPU_ACTIVE_HI MCUSIM_REG(MCUSIM_NPU_BASE + 0x24u)
#define MCUSIM_NPU_IDLE_LO MCUSIM_REG(MCUSIM_NPU_BASE + 0x28u)
#define MCUSIM_NPU_IDLE_HI MCUSIM_REG(MCUSIM_NPU_BASE + 0x2Cu)
#define MCUSIM_NPU_MACS_LO MCUSIM_REG(MCUSIM_NPU_BASE + 0x30u)
#define MCUSIM_NPU_MACS_HI MCUSIM_REG(MCUSIM_NPU_BASE + 0x34u)
#define MCUSIM_NPU_P0_READ MCUSIM_REG(MCUSIM_NPU_BASE + 0x38u)
#define MCUSIM_NPU_P0_WRITE MCUSIM_REG(MCUSIM_NPU_BASE + 0x3Cu)
#define MCUSIM_NPU_P1_READ MCUSIM_REG(MCUSIM_NPU_BASE + 0x40u)
#define MCUSIM_NPU_P1_WRITE MCUSIM_REG(MCUSIM_NPU_BASE + 0x44u)
#define MCUSIM_NPU_DONE MCUSIM_REG(MCUSIM_NPU_BASE + 0x48u)

#define MCUSIM_NPU_START 1u
#define MCUSIM_NPU_CLEAR 2u
#define MCUSIM_NPU_RESET_COUNTERS 4u
#define MCUSIM_NPU_BUSY 1u
#define MCUSIM_NPU_FINISHED 2u
#define MCUSIM_NPU_FAILED 4u

/* Operations. */
#define MCUSIM_NPU_CONV_2D 1u
#define MCUSIM_NPU_DEPTHWISE_CONV_2D 2u
#define MCUSIM_NPU_FULLY_CONNECTED 3u
#define MCUSIM_NPU_AVERAGE_POOL_2D 4u
#define MCUSIM_NPU_MAX_POOL_2D 5u
#define MCUSIM_NPU_ADD 6u
#define MCUSIM_NPU_MUL 7u
#define MCUSIM_NPU_WEIGHT_DMA 8u
#define MCUSIM_NPU_DMA_BUSY 8u

/* FLAGS: the fully connected layer's quantisation is per output channel. */
#define MCUSIM_NPU_PER_CHANNEL 1u
/* FLAGS: the input, the second input, the output lie in NHCWB16 bricks (per row, channels
 * 0-15 of every column, then 16-31, ...; the depth padded to 16) instead of NHWC. Generated
 * code gives them to feature maps only the NPU writes and reads, as Vela does. */
#define MCUSIM_NPU_IFM_BRICKS 2u
#define MCUSIM_NPU_IFM2_BRICKS 4u
#define MCUSIM_NPU_OFM_BRICKS 8u

/* One layer: 48 words. Addresses are the tensors' in the NPU's (the core's) address space;
 * dimensions are NHWC as the mnn kernels take them; the filter's are the kernel's (OHWI for a
 * convolution, 1HWC for a depthwise one, [out, 1, 1, in] for a fully connected layer, 1HW1
 * for a pool's window). Unused words are 0. block: the output block (h | w << 8 | c << 16),
 * 0 for the NPU's own choice. A WEIGHT_DMA copies `length` bytes from `ifm` to `ofm` in the
 * background (see mcusim_npu_weight_dma). */
typedef struct {
    uint32_t op;
    const int8_t *ifm;
    const int8_t *ifm2;
    int8_t *ofm;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t ifm_dims[4];
    int32_t ifm2_dims[4];
    int32_t ofm_dims[4];
    int32_t filter_dims[4];
    int32_t stride[2];
    int32_t pad[2];
    int32_t dilation[2];
    int32_t depth_multiplier;
    int32_t act_min, act_max;
    int32_t ifm_offset, ifm2_offset, ofm_offset, filter_offset;
    int32_t ifm_multiplier, ifm_shift;
    int32_t ifm2_multiplier, ifm2_shift;
    int32_t left_shift;
    int32_t ofm_multiplier, ofm_shift;
    uint32_t flags;
    uint32_t block;
    uint32_t length;
    uint32_t reserved;
} mcusim_npu_op;

typedef char mcusim_npu_op_is_48_words[sizeof(mcusim_npu_op) == 192 ? 1 : -1];

#define MCUSIM_NVIC_ICER(n) MCUSIM_REG(0xE000E180u + 4u * (n))
#define MCUSIM_NVIC_ICPR(n) MCUSIM_REG(0xE000E280u + 4u * (n))

/* Runs `count` descriptors from `ops` and sleeps until they are done (the NPU's interrupt
 * wakes the core; it is masked meanwhile, so no handler is needed). Returns 0, or 1 + the
 * index of the descriptor that failed. */
static inline uint32_t mcusim_npu_run(const mcusim_npu_op *ops, uint32_t count) {
    uint32_t primask;
    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    mcusim_disable_irq();
    MCUSIM_NPU_CMD = MCUSIM_NPU_CLEAR;
    MCUSIM_NPU_INTEN = 1u;
#ifdef MCUSIM_NPU_IRQ
    MCUSIM_NVIC_ISER(MCUSIM_NPU_IRQ / 32u) = 1u << (MCUSIM_NPU_IRQ % 32u);
#endif
    MCUSIM_NPU_QBASE = (uint32_t)ops;
    MCUSIM_NPU_QSIZE = count;
    MCUSIM_NPU_CMD = MCUSIM_NPU_START;
    uint32_t status;
    while (((status = MCUSIM_NPU_STATUS) & (MCUSIM_NPU_FINISHED | MCUSIM_NPU_FAILED)) == 0u) {
        mcusim_wfi();
    }
    MCUSIM_NPU_CMD = MCUSIM_NPU_CLEAR;
#ifdef MCUSIM_NPU_IRQ
    MCUSIM_NVIC_ICER(MCUSIM_NPU_IRQ / 32u) = 1u << (MCUSIM_NPU_IRQ % 32u);
    MCUSIM_NVIC_ICPR(MCUSIM_NPU_IRQ / 32u) = 1u << (MCUSIM_NPU_IRQ % 32u);
#endif
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (status & MCUSIM_NPU_FAILED) ? 1u + MCUSIM_NPU_ERRINDEX : 0u;
}


/* Has the NPU's weight DMA copy `len` bytes of weights from `src` (flash) to `dst` (an SRAM
 * staging buffer) while whatever comes next runs: a later layer whose weights are `dst` waits
 * only for what has not arrived (STATUS bit MCUSIM_NPU_DMA_BUSY says a copy is under way).
 * Returns at once, as mcusim_npu_run; `dst` must stay untouched until that layer has run. */
static inline uint32_t mcusim_npu_weight_dma(const int8_t *src, int8_t *dst, uint32_t len) {
    mcusim_npu_op op;
    uint32_t *w = (uint32_t *)&op;
    for (unsigned i = 0; i < sizeof op / 4u; i++) {
        w[i] = 0u;
    }
    op.op = MCUSIM_NPU_WEIGHT_DMA;
    op.ifm = src, op.ofm = dst, op.length = len;
    return mcusim_npu_run(&op, 1u);
}

#ifdef MNN_TYPES_H
/* The NPU's entry points for generated model code: each takes the reference kernel's
 * arguments (mnn_functions.h) and the tensors' formats (MCUSIM_NPU_*_BRICKS), fills one
 * descriptor and runs it. */

static inline void mcusim_npu_dims(int32_t out[4], const mnn_dims *d) {
    out[0] = d->n, out[1] = d->h, out[2] = d->w, out[3] = d->c;
}

static inline mnn_status mcusim_npu_one(const mcusim_npu_op *op) {
    return mcusim_npu_run(op, 1u) == 0u ? MNN_SUCCESS : MNN_ARG_ERROR;
}

static inline void mcusim_npu_clear(mcusim_npu_op *op, uint32_t kind) {
    uint32_t *w = (uint32_t *)op;
    for (unsigned i = 0; i < sizeof *op / 4u; i++) {
        w[i] = 0u;
    }
    op->op = kind;
}

static inline mnn_status mnn_conv_s8_npu(const mnn_conv_params *p, const mnn_per_channel_quant *q,
                                         const mnn_dims *in, const int8_t *x, const mnn_dims *f,
                                         const int8_t *w, const int32_t *bias, const mnn_dims *out,
                                         int8_t *y, uint32_t formats) {
    mcusim_npu_op op;
    mcusim_npu_clear(&op, MCUSIM_NPU_CONV_2D);
    op.flags = formats;
    op.ifm = x, op.ofm = y, op.weights = w, op.bias = bias;
    op.multiplier = q->multiplier, op.shift = q->shift;
    mcusim_npu_dims(op.ifm_dims, in);
    mcusim_npu_dims(op.ofm_dims, out);
    mcusim_npu_dims(op.filter_dims, f);
    op.stride[0] = p->stride_h, op.stride[1] = p->stride_w;
    op.pad[0] = p->pad_h, op.pad[1] = p->pad_w;
    op.dilation[0] = p->dilation_h, op.dilation[1] = p->dilation_w;
    op.act_min = p->activation.min, op.act_max = p->activation.max;
    op.ifm_offset = p->input_offset, op.ofm_offset = p->output_offset;
    return mcusim_npu_one(&op);
}

static inline mnn_status mnn_depthwise_conv_s8_npu(const mnn_dw_conv_params *p,
                                                   const mnn_per_channel_quant *q,
                                                   const mnn_dims *in, const int8_t *x,
                                                   const mnn_dims *f, const int8_t *w,
                                                   const int32_t *bias, const mnn_dims *out,
                                                   int8_t *y, uint32_t formats) {
    mcusim_npu_op op;
    mcusim_npu_clear(&op, MCUSIM_NPU_DEPTHWISE_CONV_2D);
    op.flags = formats;
    op.ifm = x, op.ofm = y, op.weights = w, op.bias = bias;
    op.multiplier = q->multiplier, op.shift = q->shift;
    mcusim_npu_dims(op.ifm_dims, in);
    mcusim_npu_dims(op.ofm_dims, out);
    mcusim_npu_dims(op.filter_dims, f);
    op.stride[0] = p->stride_h, op.stride[1] = p->stride_w;
    op.pad[0] = p->pad_h, op.pad[1] = p->pad_w;
    op.dilation[0] = p->dilation_h, op.dilation[1] = p->dilation_w;
    op.depth_multiplier = p->depth_multiplier;
    op.act_min = p->activation.min, op.act_max = p->activation.max;
    op.ifm_offset = p->input_offset, op.ofm_offset = p->output_offset;
    return mcusim_npu_one(&op);
}

static inline mnn_status mnn_fully_connected_s8_npu(const mnn_fc_params *p,
                                                    const mnn_per_channel_quant *q,
                                                    int32_t per_channel, const mnn_dims *in,
                                                    const int8_t *x, const mnn_dims *f,
                                                    const int8_t *w, const int32_t *bias,
                                                    int8_t *y, uint32_t formats) {
    mcusim_npu_op op;
    mcusim_npu_clear(&op, MCUSIM_NPU_FULLY_CONNECTED);
    op.ifm = x, op.ofm = y, op.weights = w, op.bias = bias;
    op.multiplier = q->multiplier, op.shift = q->shift;
    mcusim_npu_dims(op.ifm_dims, in);
    mcusim_npu_dims(op.filter_dims, f);
    op.ofm_dims[0] = in->n, op.ofm_dims[1] = 1, op.ofm_dims[2] = 1, op.ofm_dims[3] = f->n;
    op.act_min = p->activation.min, op.act_max = p->activation.max;
    op.ifm_offset = p->input_offset, op.ofm_offset = p->output_offset;
    op.filter_offset = p->filter_offset;
    op.flags = formats | (per_channel ? MCUSIM_NPU_PER_CHANNEL : 0u);
    return mcusim_npu_one(&op);
}

static inline mnn_status mcusim_npu_pool(uint32_t kind, const mnn_pool_params *p,
                                         const mnn_dims *in, const int8_t *x,
                                         const mnn_dims *out, int8_t *y, uint32_t formats) {
    mcusim_npu_op op;
    mcusim_npu_clear(&op, kind);
    op.flags = formats;
    op.ifm = x, op.ofm = y;
    mcusim_npu_dims(op.ifm_dims, in);
    mcusim_npu_dims(op.ofm_dims, out);
    op.filter_dims[0] = 1, op.filter_dims[1] = p->filter_h, op.filter_dims[2] = p->filter_w;
    op.filter_dims[3] = 1;
    op.stride[0] = p->stride_h, op.stride[1] = p->stride_w;
    op.pad[0] = p->pad_h, op.pad[1] = p->pad_w;
    op.act_min = p->activation.min, op.act_max = p->activation.max;
    return mcusim_npu_one(&op);
}

static inline mnn_status mnn_avgpool_s8_npu(const mnn_pool_params *p, const mnn_dims *in,
                                            const int8_t *x, const mnn_dims *out, int8_t *y,
                                            uint32_t formats) {
    return mcusim_npu_pool(MCUSIM_NPU_AVERAGE_POOL_2D, p, in, x, out, y, formats);
}

static inline mnn_status mnn_maxpool_s8_npu(const mnn_pool_params *p, const mnn_dims *in,
                                            const int8_t *x, const mnn_dims *out, int8_t *y,
                                            uint32_t formats) {
    return mcusim_npu_pool(MCUSIM_NPU_MAX_POOL_2D, p, in, x, out, y, formats);
}

static inline void mcusim_npu_binary(mcusim_npu_op *op, uint32_t kind, const mnn_dims *d1,
                                     const int8_t *a, const mnn_dims *d2, const int8_t *b,
                                     const mnn_dims *out, int8_t *y, uint32_t formats) {
    mcusim_npu_clear(op, kind);
    op->flags = formats;
    op->ifm = a, op->ifm2 = b, op->ofm = y;
    mcusim_npu_dims(op->ifm_dims, d1);
    mcusim_npu_dims(op->ifm2_dims, d2);
    mcusim_npu_dims(op->ofm_dims, out);
}

static inline mnn_status mnn_add_s8_npu(const mnn_add_params *p, const mnn_dims *d1,
                                        const int8_t *a, const mnn_dims *d2, const int8_t *b,
                                        const mnn_dims *out, int8_t *y, uint32_t formats) {
    mcusim_npu_op op;
    mcusim_npu_binary(&op, MCUSIM_NPU_ADD, d1, a, d2, b, out, y, formats);
    op.ifm_offset = p->input1_offset, op.ifm_multiplier = p->input1_multiplier;
    op.ifm_shift = p->input1_shift;
    op.ifm2_offset = p->input2_offset, op.ifm2_multiplier = p->input2_multiplier;
    op.ifm2_shift = p->input2_shift;
    op.left_shift = p->left_shift;
    op.ofm_offset = p->output_offset, op.ofm_multiplier = p->output_multiplier;
    op.ofm_shift = p->output_shift;
    op.act_min = p->activation.min, op.act_max = p->activation.max;
    return mcusim_npu_one(&op);
}

static inline mnn_status mnn_mul_s8_npu(const mnn_mul_params *p, const mnn_dims *d1,
                                        const int8_t *a, const mnn_dims *d2, const int8_t *b,
                                        const mnn_dims *out, int8_t *y, uint32_t formats) {
    mcusim_npu_op op;
    mcusim_npu_binary(&op, MCUSIM_NPU_MUL, d1, a, d2, b, out, y, formats);
    op.ifm_offset = p->input1_offset, op.ifm2_offset = p->input2_offset;
    op.ofm_offset = p->output_offset, op.ofm_multiplier = p->output_multiplier;
    op.ofm_shift = p->output_shift;
    op.act_min = p->activation.min, op.act_max = p->activation.max;
    return mcusim_npu_one(&op);
}
#endif

#endif
#endif
