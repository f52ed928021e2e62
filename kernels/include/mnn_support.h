/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mnn support: the integer arithmetic every kernel shares, written once.
 *
 * The rounding is TensorFlow Lite's default ("double rounding"; TFLITE_SINGLE_ROUNDING off),
 * which TFLite Micro and CMSIS-NN use: a rounding doubling high multiply (gemmlowp's
 * SaturatingRoundingDoublingHighMul, Arm's VQRDMULH) followed by a rounding arithmetic shift
 * right that rounds half away from zero (gemmlowp's RoundingDivideByPOT).
 *
 * DSP primitives (SXTB16, SMLAD, ...) are the ACLE intrinsics on cores with the DSP extension
 * and portable C elsewhere, so the optimised kernels build and are tested on the host too.
 */
#ifndef MNN_SUPPORT_H
#define MNN_SUPPORT_H

#include <stdint.h>
#include <string.h>

#include "mnn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define MNN_HAVE_DSP 1
#include <arm_acle.h>
#else
#define MNN_HAVE_DSP 0
#endif

#define MNN_INLINE static inline __attribute__((always_inline))

MNN_INLINE int32_t mnn_max(int32_t a, int32_t b) { return a > b ? a : b; }
MNN_INLINE int32_t mnn_min(int32_t a, int32_t b) { return a < b ? a : b; }
MNN_INLINE int32_t mnn_clamp(int32_t v, int32_t lo, int32_t hi) { return mnn_min(mnn_max(v, lo), hi); }

/* ---- Requantisation ---- */

/* round(a * b / 2^31), ties away from zero, saturating the one overflow (INT32_MIN^2). */
MNN_INLINE int32_t mnn_doubling_high_mult(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    /* Division, not a shift: it truncates toward zero, as gemmlowp's does. */
    return (int32_t)((ab + nudge) / (1ll << 31));
}

/* The same for multipliers known not to be INT32_MIN (every QuantizeMultiplier result), in
 * the cheaper form floor((a * b + 2^30) / 2^31): for a negative product, truncating
 * (ab + 1 - 2^30) / 2^31 toward zero is floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31), the same
 * expression, so gemmlowp's nudge and truncation amount to one add and an arithmetic shift
 * (SMULL, ADDS, ADC, two shifts on Cortex-M). The property tests hold it to the form above. */
MNN_INLINE int32_t mnn_doubling_high_mult_no_sat(int32_t a, int32_t b) {
    return (int32_t)(((int64_t)a * (int64_t)b + (1ll << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]. */
MNN_INLINE int32_t mnn_divide_by_power_of_two(int32_t x, int32_t exponent) {
    const int32_t mask = (int32_t)((1ll << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^left_shift with int32 wrap-around, as TFLite's x * (1 << left_shift) behaves. */
MNN_INLINE int32_t mnn_shl_wrap(int32_t x, int32_t left_shift) {
    return (int32_t)((uint32_t)x << left_shift);
}

/*
 * TFLite's MultiplyByQuantizedMultiplier: x * multiplier * 2^shift with its double rounding,
 * for multipliers >= 0 (every QuantizeMultiplier result), in five operations.
 *
 * With y = x * m + 2^30, the high multiply is q = floor(y / 2^31) (see
 * mnn_doubling_high_mult_no_sat), and the rounding right shift by r >= 1 is
 * floor((q + 2^(r-1) - [q < 0]) / 2^r) (round half away from zero). q < 0 exactly when y < 0,
 * and nested floors of divisions by powers of two combine, so
 *     result = floor((y + (2^(r-1) - [y < 0]) * 2^31) / 2^(31+r)).
 * [y < 0] may be replaced by [x < 0]: they differ only when x < 0 <= y, i.e. -2^30 <= x*m < 0,
 * where both choices give 0 for r >= 1. For r >= 2 the constant part, 2^30 + (2^(r-1) + s) *
 * 2^31 with s = -[x < 0], is the 64-bit value with high word 2^(r-2) + s and low word
 * 2^30 | s << 31; one SMLAL adds x * m to it, and the high word shifted right by r - 1 is the
 * result. |y| < 2^62, so nothing overflows. Both roundings stay exactly as TFLite does them;
 * the property tests hold every kernel built on this to the literal form
 * (mnn_requantize_ref). Shifts of -1 and above take the plain route.
 */
MNN_INLINE int32_t mnn_requantize(int32_t x, int32_t multiplier, int32_t shift) {
    if (shift >= 0) {
        return mnn_doubling_high_mult_no_sat(mnn_shl_wrap(x, shift), multiplier);
    }
    if (shift == -1) {
        return mnn_divide_by_power_of_two(mnn_doubling_high_mult_no_sat(x, multiplier), 1);
    }
    const int32_t r = -shift;
    const int32_t s = x >> 31; /* 0 or -1 (arithmetic shift, as GCC and Clang define it) */
    const uint32_t lo = 0x40000000u | ((uint32_t)s << 31);
    const int32_t hi = (1 << (r - 2)) + s;
    const int64_t z = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo) + (int64_t)x * multiplier;
    return (int32_t)(z >> 32) >> (r - 1);
}

/* The general form, saturating multiplier == INT32_MIN as well (reference kernels). */
MNN_INLINE int32_t mnn_requantize_ref(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mnn_divide_by_power_of_two(mnn_doubling_high_mult(mnn_shl_wrap(x, left), multiplier), right);
}

/* ---- Unaligned little-endian reads and writes ----
 * __builtin_memcpy, not memcpy: firmware is built with -ffreestanding, where a plain memcpy
 * stays a library call; the builtin always compiles to one LDR/STR (or byte loads on cores
 * without unaligned access). */

#if defined(__arm__) && !defined(__ARM_FEATURE_UNALIGNED)
/* Armv6-M has no unaligned access, and __builtin_memcpy of 4 unaligned bytes becomes a call
 * to memcpy: assembled from bytes instead. */
MNN_INLINE int32_t mnn_read_s8x4(const int8_t *p) {
    const uint8_t *b = (const uint8_t *)p;
    return (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
}

MNN_INLINE int32_t mnn_read_s16x2(const int16_t *p) {
    return (int32_t)((uint32_t)(uint16_t)p[0] | ((uint32_t)(uint16_t)p[1] << 16));
}

MNN_INLINE void mnn_write_s16x2(int16_t *p, int32_t v) {
    p[0] = (int16_t)(uint16_t)((uint32_t)v & 0xFFFFu);
    p[1] = (int16_t)(uint16_t)((uint32_t)v >> 16);
}
#else
MNN_INLINE int32_t mnn_read_s8x4(const int8_t *p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

MNN_INLINE int32_t mnn_read_s16x2(const int16_t *p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

MNN_INLINE void mnn_write_s16x2(int16_t *p, int32_t v) { __builtin_memcpy(p, &v, 4); }
#endif

/* Copy and fill for kernels' data movement: a word at a time when both ends are aligned. The C
 * library's memcpy in newlib-nano (what firmware links) goes byte by byte. */
/* A word that may alias any object (GCC and Clang), for the aligned copies below. */
typedef uint32_t __attribute__((__may_alias__)) mnn_word;

MNN_INLINE void mnn_copy(int8_t *dst, const int8_t *src, int32_t n) {
    if ((((uintptr_t)dst | (uintptr_t)src) & 3u) == 0) {
        for (; n >= 8; n -= 8) {
            const mnn_word a = ((const mnn_word *)(const void *)src)[0];
            const mnn_word b = ((const mnn_word *)(const void *)src)[1];
            ((mnn_word *)(void *)dst)[0] = a;
            ((mnn_word *)(void *)dst)[1] = b;
            dst += 8;
            src += 8;
        }
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
}

MNN_INLINE void mnn_fill(int8_t *dst, int8_t value, int32_t n) {
    if (((uintptr_t)dst & 3u) == 0) {
        const mnn_word word = 0x01010101u * (uint8_t)value;
        for (; n >= 4; n -= 4) {
            *(mnn_word *)(void *)dst = word;
            dst += 4;
        }
    }
    for (; n > 0; n--) {
        *dst++ = value;
    }
}

/* ---- DSP extension primitives (Armv7E-M; ACLE names) ---- */

#if MNN_HAVE_DSP
MNN_INLINE int32_t mnn_sxtb16(int32_t x) { return (int32_t)__sxtb16((uint32_t)x); }
/* SXTB16 of x rotated right by 8: the odd bytes. GCC folds the rotate into SXTB16. */
/* GCC 12 does not fold a rotate into SXTB16, so the rotated form is written out. */
MNN_INLINE int32_t mnn_sxtb16_ror8(int32_t x) {
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
MNN_INLINE int32_t mnn_smlad(int32_t x, int32_t y, int32_t acc) { return __smlad(x, y, acc); }
MNN_INLINE int32_t mnn_sadd16(int32_t x, int32_t y) { return (int32_t)__sadd16(x, y); }
MNN_INLINE int32_t mnn_smlabb(int32_t x, int32_t y, int32_t acc) { return __smlabb(x, y, acc); }
/* Saturate to int8 (SSAT #8). */
MNN_INLINE int32_t mnn_ssat8(int32_t x) { return __ssat(x, 8); }
MNN_INLINE int32_t mnn_smlatt(int32_t x, int32_t y, int32_t acc) { return __smlatt(x, y, acc); }
MNN_INLINE int32_t mnn_pkhbt(int32_t bottom, int32_t top) {
    return (int32_t)(((uint32_t)bottom & 0xFFFFu) | ((uint32_t)top << 16));
}
#else
MNN_INLINE int32_t mnn_lo16(int32_t x) { return (int32_t)(int16_t)(uint16_t)((uint32_t)x & 0xFFFFu); }
MNN_INLINE int32_t mnn_hi16(int32_t x) { return (int32_t)(int16_t)(uint16_t)((uint32_t)x >> 16); }
MNN_INLINE int32_t mnn_pack16(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}
/* Bytes 0 and 2 sign-extended into the two halfwords. */
MNN_INLINE int32_t mnn_sxtb16(int32_t x) {
    return mnn_pack16((int8_t)(uint8_t)((uint32_t)x & 0xFFu), (int8_t)(uint8_t)(((uint32_t)x >> 16) & 0xFFu));
}
/* Bytes 1 and 3 sign-extended into the two halfwords. */
MNN_INLINE int32_t mnn_sxtb16_ror8(int32_t x) {
    return mnn_pack16((int8_t)(uint8_t)(((uint32_t)x >> 8) & 0xFFu), (int8_t)(uint8_t)((uint32_t)x >> 24));
}
/* acc + lo(x)*lo(y) + hi(x)*hi(y), with int32 wrap-around as the instruction does. */
MNN_INLINE int32_t mnn_smlad(int32_t x, int32_t y, int32_t acc) {
    uint32_t sum = (uint32_t)acc + (uint32_t)(mnn_lo16(x) * mnn_lo16(y)) + (uint32_t)(mnn_hi16(x) * mnn_hi16(y));
    return (int32_t)sum;
}
MNN_INLINE int32_t mnn_sadd16(int32_t x, int32_t y) {
    return mnn_pack16(mnn_lo16(x) + mnn_lo16(y), mnn_hi16(x) + mnn_hi16(y));
}
MNN_INLINE int32_t mnn_smlabb(int32_t x, int32_t y, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mnn_lo16(x) * mnn_lo16(y)));
}
MNN_INLINE int32_t mnn_ssat8(int32_t x) { return x < -128 ? -128 : x > 127 ? 127 : x; }
MNN_INLINE int32_t mnn_smlatt(int32_t x, int32_t y, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mnn_hi16(x) * mnn_hi16(y)));
}
MNN_INLINE int32_t mnn_pkhbt(int32_t bottom, int32_t top) {
    return (int32_t)(((uint32_t)bottom & 0xFFFFu) | ((uint32_t)top << 16));
}
#endif

/* ---- The 2x2 multiply-accumulate loop of the convolution ----
 * For groups of four taps until x reaches x_end: two channels' int8 weights (w0, w1, any
 * alignment) times two pixels' int16 values interleaved in SXTB16 order (x, 8-byte aligned:
 * a's even pair, b's even pair, a's odd pair, b's odd pair), into s[0] (w0.a), s[1] (w0.b),
 * s[2] (w1.a), s[3] (w1.b). On DSP cores it is written out in assembly: the compiler spills a
 * pointer out of this loop, which costs a load and a store per four taps; by hand all thirteen
 * values stay in registers, and the loop is unrolled twice (34 instructions per 32 MACs). */
MNN_INLINE void mnn_mac_2x2(const int8_t **w0, const int8_t **w1, const int16_t **x, const int16_t *x_end,
                            int32_t s[4]) {
/* The assembly needs 13 registers; without optimisation GCC keeps r7 as the frame pointer and
 * cannot find them, so -O0 builds take the C loop below (same arithmetic, same results). */
#if MNN_HAVE_DSP && defined(__OPTIMIZE__)
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    const int8_t *p0 = *w0, *p1 = *w1;
    const int16_t *px = *x;
    int32_t wa, wb, t, xa, xb;
#define MNN_MAC_2X2_GROUP                                                                                \
    "ldr %[wa], [%[p0]], #4\n\t"                                                                        \
    "ldr %[wb], [%[p1]], #4\n\t"                                                                        \
    "ldrd %[xa], %[xb], [%[px]], #8\n\t"                                                                \
    "sxtb16 %[t], %[wa]\n\t"                                                                            \
    "smlad %[s00], %[t], %[xa], %[s00]\n\t"                                                             \
    "smlad %[s01], %[t], %[xb], %[s01]\n\t"                                                             \
    "sxtb16 %[t], %[wb]\n\t"                                                                            \
    "smlad %[s10], %[t], %[xa], %[s10]\n\t"                                                             \
    "smlad %[s11], %[t], %[xb], %[s11]\n\t"                                                             \
    "ldrd %[xa], %[xb], [%[px]], #8\n\t"                                                                \
    "sxtb16 %[wa], %[wa], ror #8\n\t"                                                                   \
    "smlad %[s00], %[wa], %[xa], %[s00]\n\t"                                                            \
    "smlad %[s01], %[wa], %[xb], %[s01]\n\t"                                                            \
    "sxtb16 %[wb], %[wb], ror #8\n\t"                                                                   \
    "smlad %[s10], %[wb], %[xa], %[s10]\n\t"                                                            \
    "smlad %[s11], %[wb], %[xb], %[s11]\n\t"
#define MNN_MAC_2X2_OPERANDS                                                                             \
    : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [p0] "+r"(p0), [p1] "+r"(p1), \
      [px] "+r"(px), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t), [xa] "=&r"(xa), [xb] "=&r"(xb)       \
    : [end] "r"(x_end)                                                                                   \
    : "cc", "memory"
    /* An odd group first, then two per pass: one compare and branch per 32 MACs. */
    if (((x_end - px) >> 3) & 1) {
        __asm__ volatile(MNN_MAC_2X2_GROUP MNN_MAC_2X2_OPERANDS);
    }
    if (px < x_end) {
        __asm__ volatile("1:\n\t" MNN_MAC_2X2_GROUP MNN_MAC_2X2_GROUP "cmp %[px], %[end]\n\t"
                                                                        "bne 1b\n\t" MNN_MAC_2X2_OPERANDS);
    }
#undef MNN_MAC_2X2_GROUP
#undef MNN_MAC_2X2_OPERANDS
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
    *w0 = p0;
    *w1 = p1;
    *x = px;
#else
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    const int8_t *p0 = *w0, *p1 = *w1;
    const int16_t *px = *x;
    while (px < x_end) {
        const int32_t wa = mnn_read_s8x4(p0);
        const int32_t wb = mnn_read_s8x4(p1);
        p0 += 4;
        p1 += 4;
        int32_t xa = mnn_read_s16x2(px);
        int32_t xb = mnn_read_s16x2(px + 2);
        const int32_t wa_even = mnn_sxtb16(wa);
        const int32_t wb_even = mnn_sxtb16(wb);
        s00 = mnn_smlad(wa_even, xa, s00);
        s01 = mnn_smlad(wa_even, xb, s01);
        s10 = mnn_smlad(wb_even, xa, s10);
        s11 = mnn_smlad(wb_even, xb, s11);
        xa = mnn_read_s16x2(px + 4);
        xb = mnn_read_s16x2(px + 6);
        px += 8;
        const int32_t wa_odd = mnn_sxtb16_ror8(wa);
        const int32_t wb_odd = mnn_sxtb16_ror8(wb);
        s00 = mnn_smlad(wa_odd, xa, s00);
        s01 = mnn_smlad(wa_odd, xb, s01);
        s10 = mnn_smlad(wb_odd, xa, s10);
        s11 = mnn_smlad(wb_odd, xb, s11);
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
    *w0 = p0;
    *w1 = p1;
    *x = px;
#endif
}

/* ---- Fixed point (gemmlowp's FixedPoint<int32_t, N>, scalar) ---- */

/* Multiply by 2^exponent, saturating for exponent > 0, rounding for exponent < 0. */
MNN_INLINE int32_t mnn_saturating_rounding_mul_pot(int32_t x, int32_t exponent) {
    if (exponent > 0) {
        const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return mnn_shl_wrap(x, exponent);
    }
    if (exponent < 0) {
        return mnn_divide_by_power_of_two(x, -exponent);
    }
    return x;
}

/* Rescale a fixed-point value from src integer bits to dst integer bits. */
MNN_INLINE int32_t mnn_fixed_rescale(int32_t x, int32_t src_bits, int32_t dst_bits) {
    return mnn_saturating_rounding_mul_pot(x, src_bits - dst_bits);
}

/* A channel's requantisation in the form mnn_requantize uses for shifts of -2 and below,
 * precomputed: the multiplier, the high word of the rounding constant (2^(r-2) for a right
 * shift r) and r - 1. */
typedef struct {
    int32_t multiplier;
    int32_t rounding_hi;
    int32_t shift_minus_one;
} mnn_requant_channel;

/* Everything a kernel needs to finish rows of accumulators (src/support/mnn_requantize.c). */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    /* The precomputed channels, or NULL when a channel's shift is -1 or above (rare: an
     * effective scale above a quarter), which the general form then handles. */
    const mnn_requant_channel *prepared;
    int32_t out_offset;
    mnn_activation act;
} mnn_requantizer;

/* Prepares a requantizer for n channels; `table` is scratch for n mnn_requant_channel. */
void mnn_requantizer_init(mnn_requantizer *rq, const mnn_per_channel_quant *quant, int32_t n, int32_t out_offset,
                          mnn_activation act, mnn_requant_channel *table);

/* Requantises n int32 accumulators (channel i with the requantizer's channel i), adds the
 * output offset, clamps to the activation and stores int8. Kernels collect a row of
 * accumulators and finish it here, in one tight loop, rather than interleaving
 * requantisation with their multiply loops. */
void mnn_requantize_row(const mnn_requantizer *rq, const int32_t *acc, int32_t n, int8_t *out);
/* The same for channels first .. first + n - 1 (acc and out start at channel first). */
void mnn_requantize_row_from(const mnn_requantizer *rq, int32_t first, const int32_t *acc, int32_t n, int8_t *out);

/* mnn_requantize for a prepared channel (shift <= -2): see the derivation there. */
MNN_INLINE int32_t mnn_requantize_prepared(int32_t x, const mnn_requant_channel *ch) {
    const int32_t s = x >> 31;
    const uint32_t lo = 0x40000000u | ((uint32_t)s << 31);
    const int32_t hi = ch->rounding_hi + s;
    const int64_t z = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo) + (int64_t)x * ch->multiplier;
    return (int32_t)(z >> 32) >> ch->shift_minus_one;
}

/* The functions below live in src/support/mnn_fixed_point.c. */

/* exp(x) for x <= 0, x in Q(integer_bits).(31-integer_bits); result Q0.31. */
int32_t mnn_exp_on_negative_values(int32_t x, int32_t integer_bits);
/* 1 / (1 + x) for x in [0, 1) as Q0.31; result Q0.31. */
int32_t mnn_one_over_one_plus_x(int32_t x);
/* logistic(x) for x in Q4.27; result Q0.31. */
int32_t mnn_logistic_q4(int32_t x);
/* tanh(x) for x in Q4.27; result Q0.31. */
int32_t mnn_tanh_q4(int32_t x);
/* TFLite's GetReciprocal: 1/x for x in Q(integer_bits); sets *bits_over_unit. */
int32_t mnn_reciprocal(int32_t x, int32_t integer_bits, int32_t *bits_over_unit);

#ifdef __cplusplus
}
#endif

#endif /* MNN_SUPPORT_H */
