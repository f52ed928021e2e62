/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Speed benchmark: int8 dot products (the inner loop of fully connected and convolution
 * layers), about 200 million instructions. Prints a checksum so the work cannot be optimised
 * away and two simulators can be compared on the result.
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

#define N 4096
#ifndef REPEAT
#define REPEAT 10000
#endif

static int8_t a[N], b[N];

__attribute__((noinline)) static int32_t dot(const int8_t *x, const int8_t *y, int n) {
    int32_t acc = 0;
    for (int i = 0; i < n; i++) {
        acc += (int32_t)x[i] * (int32_t)y[i];
    }
    return acc;
}

int main(void) {
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = (int8_t)(seed >> 24);
        b[i] = (int8_t)(seed >> 16);
    }
    int32_t sum = 0;
    for (int r = 0; r < REPEAT; r++) {
        sum += dot(a, b, N - (r & 7));
    }
    printf("checksum %ld\n", (long)sum);
    return 0;
}
