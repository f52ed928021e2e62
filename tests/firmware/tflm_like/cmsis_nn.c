/* SPDX-License-Identifier: Apache-2.0 */
/* Small int8 loops named like CMSIS-NN's kernels, for the TFLite-Micro-shaped test firmware. */
#include "tflm_like.h"

static int32_t mac_loop(const int8_t *in, int8_t *out, int n, int taps) {
    int32_t total = 0;
    for (int i = 0; i < n; i++) {
        int32_t acc = 0;
        for (int k = 0; k < taps; k++) {
            acc += in[(i + k) % n] * (int8_t)(k * 7 - 3);
        }
        out[i] = (int8_t)(acc >> 6);
        total += acc;
    }
    return total;
}

int32_t arm_convolve_s8(const int8_t *in, int8_t *out, int n) { return mac_loop(in, out, n, 72); }
int32_t arm_depthwise_conv_s8(const int8_t *in, int8_t *out, int n) {
    return mac_loop(in, out, n, 9);
}
int32_t arm_fully_connected_s8(const int8_t *in, int8_t *out, int n) {
    return mac_loop(in, out, n, 48);
}
int32_t arm_avgpool_s8(const int8_t *in, int8_t *out, int n) { return mac_loop(in, out, n, 4); }
int32_t arm_softmax_s8(const int8_t *in, int8_t *out, int n) { return mac_loop(in, out, n, 2); }
