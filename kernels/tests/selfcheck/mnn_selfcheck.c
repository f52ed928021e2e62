/* SPDX-License-Identifier: Apache-2.0 */
#include "mnn_selfcheck.h"

#include <string.h>

#include "mnn_functions.h"
#include "mnn_support.h"

/* Static buffers: the firmware has no heap. Sized for the largest case generated below. */
#define MAX_TENSOR 4096
#define MAX_FILTER 4096
#define MAX_CH 64
#define MAX_SCRATCH 8192

static int8_t in_a[MAX_TENSOR], in_b[MAX_TENSOR], filt[MAX_FILTER];
static int8_t out_ref[MAX_TENSOR], out_opt[MAX_TENSOR];
static int32_t bias[MAX_CH], mult[MAX_CH], shift[MAX_CH];
static int32_t scratch[MAX_SCRATCH / 4];

static uint32_t rng_state;

static uint32_t rnd(void) {
    /* xorshift32 */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static int32_t between(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

static void fill(int8_t *p, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        p[i] = (int8_t)(rnd() >> 24);
    }
}

static void fill_quant(int32_t channels, int32_t shift_lo, int32_t shift_hi) {
    for (int32_t c = 0; c < channels; c++) {
        mult[c] = (int32_t)((1u << 30) + (rnd() >> 2));
        shift[c] = between(shift_lo, shift_hi);
        bias[c] = between(-20000, 20000);
    }
}

static mnn_activation random_activation(void) {
    mnn_activation a = {-128, 127};
    switch (rnd() % 3) {
    case 1:
        a.min = between(-128, 0);
        break;
    case 2:
        a.min = between(-128, -20);
        a.max = between(20, 127);
        break;
    default:
        break;
    }
    return a;
}

typedef struct {
    mnn_selfcheck_result *r;
} checker;

static void hash_bytes(mnn_selfcheck_result *r, const int8_t *p, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        r->hash ^= (uint8_t)p[i];
        r->hash *= 16777619u;
    }
}

static void compare(mnn_selfcheck_result *r, int32_t case_index, mnn_status a, mnn_status b, int32_t n) {
    if (a != MNN_SUCCESS || b != MNN_SUCCESS || memcmp(out_ref, out_opt, (size_t)n) != 0) {
        r->mismatches++;
        if (r->first_bad < 0) {
            r->first_bad = case_index;
        }
    }
}

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t pad_total) {
    const int32_t eff = (k - 1) * dilation + 1;
    return (in + pad_total - eff) / stride + 1;
}

static void conv_case(mnn_selfcheck_result *r, int32_t idx) {
    mnn_dims in = {between(1, 2), between(1, 9), between(1, 9), between(1, 12)};
    mnn_dims f = {between(1, 10), between(1, 3), between(1, 3), in.c};
    if (rnd() % 4 == 0) {
        f.h = 1;
        f.w = 1;
    }
    mnn_conv_params p;
    p.input_offset = between(-127, 128);
    p.output_offset = between(-128, 127);
    p.stride_h = between(1, 2);
    p.stride_w = between(1, 2);
    p.dilation_h = between(1, 2);
    p.dilation_w = between(1, 2);
    p.pad_h = between(0, f.h - 1);
    p.pad_w = between(0, f.w - 1);
    p.activation = random_activation();
    mnn_dims out = {in.n, out_size(in.h, f.h, p.stride_h, p.dilation_h, 2 * p.pad_h),
                    out_size(in.w, f.w, p.stride_w, p.dilation_w, 2 * p.pad_w), f.n};
    if (out.h <= 0 || out.w <= 0) {
        p.pad_h = p.pad_w = 0;
        p.dilation_h = p.dilation_w = 1;
        f.h = f.w = 1;
        out.h = out_size(in.h, 1, p.stride_h, 1, 0);
        out.w = out_size(in.w, 1, p.stride_w, 1, 0);
    }
    fill(in_a, in.n * in.h * in.w * in.c);
    fill(filt, f.n * f.h * f.w * f.c);
    fill_quant(f.n, -12, 1);
    const mnn_per_channel_quant q = {mult, shift};
    const int32_t *b = rnd() % 5 ? bias : NULL;
    const int32_t n = out.n * out.h * out.w * out.c;
    const mnn_context ctx = {scratch, MAX_SCRATCH};
    const mnn_status s0 = mnn_conv_s8_ref(&p, &q, &in, in_a, &f, filt, b, &out, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_conv_s8(&ctx, &p, &q, &in, in_a, &f, filt, b, &out, out_opt), n);
    compare(r, idx, s0, mnn_conv_s8_dsp(&ctx, &p, &q, &in, in_a, &f, filt, b, &out, out_opt), n);
    compare(r, idx, s0, mnn_conv_s8_generic(&ctx, &p, &q, &in, in_a, &f, filt, b, &out, out_opt), n);
}

static void depthwise_case(mnn_selfcheck_result *r, int32_t idx) {
    mnn_dw_conv_params p;
    p.depth_multiplier = rnd() % 4 == 0 ? between(2, 3) : 1;
    mnn_dims in = {between(1, 2), between(1, 10), between(1, 10), between(1, 13)};
    mnn_dims f = {1, between(1, 3), between(1, 3), in.c * p.depth_multiplier};
    p.input_offset = between(-127, 128);
    p.output_offset = between(-128, 127);
    p.stride_h = between(1, 2);
    p.stride_w = between(1, 2);
    p.dilation_h = rnd() % 3 == 0 ? 2 : 1;
    p.dilation_w = rnd() % 3 == 0 ? 2 : 1;
    p.pad_h = between(0, f.h - 1);
    p.pad_w = between(0, f.w - 1);
    p.activation = random_activation();
    mnn_dims out = {in.n, out_size(in.h, f.h, p.stride_h, p.dilation_h, 2 * p.pad_h),
                    out_size(in.w, f.w, p.stride_w, p.dilation_w, 2 * p.pad_w), f.c};
    if (out.h <= 0 || out.w <= 0) {
        p.pad_h = p.pad_w = 0;
        p.dilation_h = p.dilation_w = 1;
        f.h = f.w = 1;
        out.h = out_size(in.h, 1, p.stride_h, 1, 0);
        out.w = out_size(in.w, 1, p.stride_w, 1, 0);
    }
    fill(in_a, in.n * in.h * in.w * in.c);
    fill(filt, f.h * f.w * f.c);
    fill_quant(f.c, -10, 1);
    const mnn_per_channel_quant q = {mult, shift};
    const int32_t *b = rnd() % 5 ? bias : NULL;
    const int32_t n = out.n * out.h * out.w * out.c;
    const mnn_context ctx = {scratch, MAX_SCRATCH};
    const mnn_status s0 = mnn_depthwise_conv_s8_ref(&p, &q, &in, in_a, &f, filt, b, &out, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_depthwise_conv_s8(&ctx, &p, &q, &in, in_a, &f, filt, b, &out, out_opt), n);
    if (p.depth_multiplier == 1) {
        compare(r, idx, s0, mnn_depthwise_conv_s8_opt(&ctx, &p, &q, &in, in_a, &f, filt, b, &out, out_opt), n);
        /* Without room for the stripes: clipped windows at the borders. */
        const mnn_context small = {scratch, mnn_depthwise_conv_s8_opt_get_buffer_size(&f)};
        compare(r, idx, s0, mnn_depthwise_conv_s8_opt(&small, &p, &q, &in, in_a, &f, filt, b, &out, out_opt), n);
    }
}

static void fc_case(mnn_selfcheck_result *r, int32_t idx) {
    const mnn_dims in = {between(1, 3), 1, 1, between(1, 200)};
    const mnn_dims f = {between(1, 20), 1, 1, in.c};
    mnn_fc_params p;
    p.input_offset = between(-127, 128);
    p.filter_offset = 0;
    p.output_offset = between(-128, 127);
    p.activation = random_activation();
    const int32_t per_channel = (int32_t)(rnd() % 2);
    fill(in_a, in.n * in.c);
    fill(filt, f.n * f.c);
    fill_quant(f.n, -14, 0);
    const mnn_per_channel_quant q = {mult, shift};
    const int32_t *b = rnd() % 5 ? bias : NULL;
    const int32_t n = in.n * f.n;
    const mnn_context ctx = {scratch, MAX_SCRATCH};
    const mnn_status s0 = mnn_fully_connected_s8_ref(&p, &q, per_channel, &in, in_a, &f, filt, b, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_fully_connected_s8(&ctx, &p, &q, per_channel, &in, in_a, &f, filt, b, out_opt), n);
    compare(r, idx, s0, mnn_fully_connected_s8_dsp(&ctx, &p, &q, per_channel, &in, in_a, &f, filt, b, out_opt), n);
}

static void pool_case(mnn_selfcheck_result *r, int32_t idx) {
    const mnn_dims in = {between(1, 2), between(1, 9), between(1, 9), between(1, 10)};
    mnn_pool_params p;
    p.filter_h = between(1, in.h);
    p.filter_w = between(1, in.w);
    p.stride_h = between(1, 2);
    p.stride_w = between(1, 2);
    p.pad_h = between(0, p.filter_h - 1);
    p.pad_w = between(0, p.filter_w - 1);
    p.activation = random_activation();
    const mnn_dims out = {in.n, out_size(in.h, p.filter_h, p.stride_h, 1, 2 * p.pad_h),
                          out_size(in.w, p.filter_w, p.stride_w, 1, 2 * p.pad_w), in.c};
    fill(in_a, in.n * in.h * in.w * in.c);
    const int32_t n = out.n * out.h * out.w * out.c;
    mnn_status s0 = mnn_avgpool_s8_ref(&p, &in, in_a, &out, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_avgpool_s8(&p, &in, in_a, &out, out_opt), n);
    s0 = mnn_maxpool_s8_ref(&p, &in, in_a, &out, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_maxpool_s8(&p, &in, in_a, &out, out_opt), n);
}

static void elementwise_case(mnn_selfcheck_result *r, int32_t idx) {
    const mnn_dims out = {between(1, 2), between(1, 5), between(1, 5), between(1, 8)};
    mnn_dims d1 = out, d2 = out;
    if (rnd() % 2) {
        /* Broadcast one operand along some dimensions. */
        if (rnd() % 2) d2.n = 1;
        if (rnd() % 2) d2.h = 1;
        if (rnd() % 2) d2.w = 1;
        if (rnd() % 2) d2.c = 1;
    }
    fill(in_a, d1.n * d1.h * d1.w * d1.c);
    fill(in_b, d2.n * d2.h * d2.w * d2.c);
    const int32_t n = out.n * out.h * out.w * out.c;
    mnn_add_params a;
    a.input1_offset = between(-127, 128);
    a.input2_offset = between(-127, 128);
    a.left_shift = 20;
    a.input1_multiplier = (int32_t)((1u << 30) + (rnd() >> 2));
    a.input2_multiplier = (int32_t)((1u << 30) + (rnd() >> 2));
    a.input1_shift = between(-3, 0);
    a.input2_shift = between(-3, 0);
    a.output_offset = between(-128, 127);
    a.output_multiplier = (int32_t)((1u << 30) + (rnd() >> 2));
    a.output_shift = between(-22, -16);
    a.activation = random_activation();
    mnn_status s0 = mnn_add_s8_ref(&a, &d1, in_a, &d2, in_b, &out, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_add_s8(&a, &d1, in_a, &d2, in_b, &out, out_opt), n);
    mnn_mul_params m;
    m.input1_offset = between(-127, 128);
    m.input2_offset = between(-127, 128);
    m.output_offset = between(-128, 127);
    m.output_multiplier = (int32_t)((1u << 30) + (rnd() >> 2));
    m.output_shift = between(-10, -4);
    m.activation = random_activation();
    s0 = mnn_mul_s8_ref(&m, &d1, in_a, &d2, in_b, &out, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_mul_s8(&m, &d1, in_a, &d2, in_b, &out, out_opt), n);
}

static void softmax_case(mnn_selfcheck_result *r, int32_t idx) {
    const int32_t rows = between(1, 4);
    const int32_t row_size = rnd() % 2 ? between(1, 20) : between(64, 300);
    mnn_softmax_params p;
    p.input_multiplier = (int32_t)((1u << 30) + (rnd() >> 2));
    p.input_left_shift = between(18, 26);
    /* diff_min from CalculateInputRadius(5, shift): floor(31 * 2^26 / 2^shift). */
    p.diff_min = -(int32_t)((31ll << 26) >> p.input_left_shift);
    fill(in_a, rows * row_size);
    const int32_t n = rows * row_size;
    const mnn_status s0 = mnn_softmax_s8_ref(&p, rows, row_size, in_a, out_ref);
    hash_bytes(r, out_ref, n);
    compare(r, idx, s0, mnn_softmax_s8(&p, rows, row_size, in_a, out_opt), n);
}

static void activation_case(mnn_selfcheck_result *r, int32_t idx) {
    const int32_t size = rnd() % 2 ? between(1, 100) : between(257, 600);
    mnn_activation_fn_params p;
    p.input_offset = between(-127, 128);
    p.input_multiplier = (int32_t)((1u << 30) + (rnd() >> 2));
    p.input_left_shift = between(20, 26);
    p.input_range_radius = (int32_t)((15ll << 27) >> p.input_left_shift);
    fill(in_a, size);
    mnn_status s0 = mnn_logistic_s8_ref(&p, size, in_a, out_ref);
    hash_bytes(r, out_ref, size);
    compare(r, idx, s0, mnn_logistic_s8(&p, size, in_a, out_opt), size);
    s0 = mnn_tanh_s8_ref(&p, size, in_a, out_ref);
    hash_bytes(r, out_ref, size);
    compare(r, idx, s0, mnn_tanh_s8(&p, size, in_a, out_opt), size);
}

mnn_selfcheck_result mnn_selfcheck(uint32_t seed, int32_t cases) {
    mnn_selfcheck_result r = {2166136261u, 0, 0, -1};
    rng_state = seed ? seed : 1u;
    for (int32_t i = 0; i < cases; i++) {
        switch (i % 7) {
        case 0:
            conv_case(&r, i);
            break;
        case 1:
            depthwise_case(&r, i);
            break;
        case 2:
            fc_case(&r, i);
            break;
        case 3:
            pool_case(&r, i);
            break;
        case 4:
            elementwise_case(&r, i);
            break;
        case 5:
            softmax_case(&r, i);
            break;
        default:
            activation_case(&r, i);
            break;
        }
        r.cases++;
    }
    return r;
}
