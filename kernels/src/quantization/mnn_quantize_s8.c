/* SPDX-License-Identifier: Apache-2.0 */
/* QUANTIZE (float32 -> int8) and DEQUANTIZE (int8 -> float32): TFLite's
 * reference_ops::AffineQuantize and ::Dequantize. One implementation each: the work is one
 * float operation per element. */
#include "mnn_functions.h"
#include "mnn_support.h"

/* TfLiteRound: round half away from zero, in float. */
static float round_half_away(float x) {
    const float t = (float)(int32_t)x; /* truncation; |x| is checked below */
    const float frac = x - t;
    if (frac >= 0.5f) {
        return t + 1.0f;
    }
    if (frac <= -0.5f) {
        return t - 1.0f;
    }
    return t;
}

mnn_status mnn_quantize_f32_s8(float scale, int32_t zero_point, int32_t size, const float *input, int8_t *output) {
    for (int32_t i = 0; i < size; i++) {
        const float v = input[i] / scale;
        int32_t q;
        if (!(v == v)) {
            q = 0; /* NaN: TFLite's cast is undefined; 0 keeps it deterministic */
        } else if (v >= 2147483520.0f) {
            q = INT32_MAX;
        } else if (v <= -2147483648.0f) {
            q = INT32_MIN;
        } else {
            q = (int32_t)round_half_away(v);
        }
        const int64_t shifted = (int64_t)q + zero_point;
        output[i] = (int8_t)(shifted < INT8_MIN ? INT8_MIN : shifted > INT8_MAX ? INT8_MAX : shifted);
    }
    return MNN_SUCCESS;
}

mnn_status mnn_dequantize_s8_f32(double scale, int32_t zero_point, int32_t size, const int8_t *input,
                                 float *output) {
    for (int32_t i = 0; i < size; i++) {
        output[i] = (float)(scale * (double)(input[i] - zero_point));
    }
    return MNN_SUCCESS;
}
