/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scalar fixed-point transcendental functions with gemmlowp's exact arithmetic
 * (fixedpoint/fixedpoint.h), which TFLite's SOFTMAX, LOGISTIC and TANH use. A value in
 * Qm.(31-m) has m integer bits; Q0.31's "one" is INT32_MAX. Multiplying Qa by Qb with the
 * rounding doubling high multiply gives Q(a+b).
 */
#include "mnn_support.h"

/* (a + b) / 2 rounded half away from zero (NEON's VRHADD), without overflow. */
static int32_t rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), Q0.31: a Taylor expansion around -1/8 to the fourth power. */
static int32_t exp_on_interval_minus_quarter_to_zero(int32_t a) {
    const int32_t exp_minus_one_eighth = 1895147668; /* round(exp(-1/8) * 2^31) */
    const int32_t one_third = 715827883;             /* round(2^31 / 3) */
    const int32_t x = a + (1 << 28);                 /* a + 1/8 */
    const int32_t x2 = mnn_doubling_high_mult(x, x);
    const int32_t x3 = mnn_doubling_high_mult(x2, x);
    const int32_t x4 = mnn_doubling_high_mult(x2, x2);
    const int32_t x4_over_4 = mnn_saturating_rounding_mul_pot(x4, -2);
    const int32_t poly =
        mnn_saturating_rounding_mul_pot(mnn_doubling_high_mult(x4_over_4 + x3, one_third) + x2, -1);
    return exp_minus_one_eighth + mnn_doubling_high_mult(exp_minus_one_eighth, x + poly);
}

int32_t mnn_exp_on_negative_values(int32_t a, int32_t integer_bits) {
    /* exp(-2^k) in Q0.31 for k = -2 .. 4: the barrel shifter's factors. */
    static const int32_t factors[7] = {1672461947, 1302514674, 790015084, 290630308,
                                       39332535,   720401,     242};
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = (a & mask) - one_quarter;
    int32_t result =
        exp_on_interval_minus_quarter_to_zero(mnn_fixed_rescale(a_mod_quarter_minus_quarter, integer_bits, 0));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int32_t exponent = -2; exponent <= 4; exponent++) {
        if (integer_bits > exponent) {
            const int32_t shift = fractional_bits + exponent;
            if (remainder & (int32_t)(1u << shift)) {
                result = mnn_doubling_high_mult(result, factors[exponent + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        /* exp(x) for x < -32 is 0 in Q0.31. */
        const int32_t clamp = -(int32_t)(1u << (36 - integer_bits));
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* Newton-Raphson for 1 / half_denominator, Q2.29 (gemmlowp's 48/17 - 32/17 d start). */
static int32_t newton_reciprocal_q2(int32_t half_denominator) {
    const int32_t c48_over_17 = 1515870810;
    const int32_t c_neg_32_over_17 = -1010580540;
    const int32_t one_q2 = 1 << 29;
    int32_t x = c48_over_17 + mnn_doubling_high_mult(half_denominator, c_neg_32_over_17);
    for (int i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = mnn_doubling_high_mult(half_denominator, x);
        const int32_t one_minus = one_q2 - half_denominator_times_x;
        /* Q2 * Q2 is Q4; back to Q2 with a saturating shift. */
        x = x + mnn_fixed_rescale(mnn_doubling_high_mult(x, one_minus), 4, 2);
    }
    return x;
}

int32_t mnn_one_over_one_plus_x(int32_t a) {
    const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    const int32_t x = newton_reciprocal_q2(half_denominator);
    /* x / 2 read as Q1, rescaled to Q0. */
    return mnn_fixed_rescale(x, 1, 0);
}

/* (1 - a) / (1 + a) for a in (0, 1), Q0.31. */
static int32_t one_minus_x_over_one_plus_x(int32_t a) {
    const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    const int32_t x = newton_reciprocal_q2(half_denominator);
    return mnn_fixed_rescale(x - (1 << 29), 2, 0);
}

int32_t mnn_logistic_q4(int32_t a) {
    if (a == 0) {
        return 1 << 30;
    }
    const int32_t abs_a = a > 0 ? a : -a;
    const int32_t positive = mnn_one_over_one_plus_x(mnn_exp_on_negative_values(-abs_a, 4));
    return a > 0 ? positive : INT32_MAX - positive;
}

int32_t mnn_tanh_q4(int32_t a) {
    if (a == 0) {
        return 0;
    }
    const int32_t negative = a < 0 ? a : -a;
    /* exp(2 * negative): the same raw value read with one more integer bit. */
    const int32_t t = one_minus_x_over_one_plus_x(mnn_exp_on_negative_values(negative, 5));
    return a < 0 ? -t : t;
}

int32_t mnn_reciprocal(int32_t x, int32_t integer_bits, int32_t *bits_over_unit) {
    const int32_t headroom_plus_one = __builtin_clz((uint32_t)x);
    *bits_over_unit = integer_bits - headroom_plus_one;
    const int32_t shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - (1u << 31));
    return mnn_one_over_one_plus_x(shifted_minus_one);
}
