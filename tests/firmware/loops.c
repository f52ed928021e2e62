/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instruction fetch from flash: a small hot loop (-DLOOPS_HOT) that an accelerator's cache
 * holds, or a long stretch of straight-line code (-DLOOPS_COLD) that no small cache holds.
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

static volatile int32_t data[256];

#if defined(LOOPS_FILTER_FLASH)
/* A 72-byte filter in flash (3 x 3 x 8), read again for each of 3000 outputs: it stays in the
 * accelerator's data cache, so only the first pass pays. */
static const int8_t filter[72] = {
    1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16, 17, -18, 19, -20, 21, -22, 23, -24,
    25, -26, 27, -28, 29, -30, 31, -32, 33, -34, 35, -36, 37, -38, 39, -40, 41, -42, 43, -44, 45, -46, 47, -48,
    49, -50, 51, -52, 53, -54, 55, -56, 57, -58, 59, -60, 61, -62, 63, -64, 65, -66, 67, -68, 69, -70, 71, -72,
};
__attribute__((noinline)) static int32_t work(void) {
    const volatile int8_t *f = filter;
    int32_t sum = 0;
    for (int o = 0; o < 3000; o++) {
        int32_t acc = 0;
        for (int k = 0; k < 72; k++) {
            acc += f[k] * data[(o + k) & 255];
        }
        sum += acc >> 4;
    }
    return sum;
}
#elif defined(LOOPS_TABLE_FLASH) || defined(LOOPS_TABLE_RAM)
/* A 16 KiB table of weights, read through twice: left in flash (const) or copied to RAM. */
#define TABLE 16384
static const int8_t weights[TABLE] = {
#define W4(n) (int8_t)(n * 7), (int8_t)(n * 7 + 1), (int8_t)(n * 7 + 2), (int8_t)(n * 7 + 3),
#define W16(n) W4(n) W4(n + 1) W4(n + 2) W4(n + 3)
#define W64(n) W16(n) W16(n + 4) W16(n + 8) W16(n + 12)
#define W256(n) W64(n) W64(n + 16) W64(n + 32) W64(n + 48)
#define W1K(n) W256(n) W256(n + 64) W256(n + 128) W256(n + 192)
    W1K(0) W1K(1) W1K(2) W1K(3) W1K(4) W1K(5) W1K(6) W1K(7)
    W1K(8) W1K(9) W1K(10) W1K(11) W1K(12) W1K(13) W1K(14) W1K(15)
};
#if defined(LOOPS_TABLE_RAM)
static int8_t ram_weights[TABLE];
#endif
__attribute__((noinline)) static int32_t work(void) {
#if defined(LOOPS_TABLE_RAM)
    for (int i = 0; i < TABLE; i++) {
        ram_weights[i] = weights[i];
    }
    const volatile int8_t *w = ram_weights;
#else
    const volatile int8_t *w = weights;
#endif
    int32_t sum = 0;
#ifndef PASSES
#define PASSES 2
#endif
    for (int r = 0; r < PASSES; r++) {
        for (int i = 0; i < TABLE; i++) {
            sum += w[i] * data[i & 255];
        }
    }
    return sum;
}
#elif defined(LOOPS_HOT)
__attribute__((noinline)) static int32_t work(void) {
    int32_t sum = 0;
    for (int r = 0; r < 200; r++) {
        for (int i = 0; i < 256; i++) {
            sum += data[i] ^ i;
        }
    }
    return sum;
}
#else
/* About 8 KiB of code run straight through, 20 times. */
#define STEP(n) acc = acc * 31u + (uint32_t)data[(n) & 255];
#define STEP8(n) STEP(n) STEP(n + 1) STEP(n + 2) STEP(n + 3) STEP(n + 4) STEP(n + 5) STEP(n + 6) STEP(n + 7)
#define STEP64(n) STEP8(n) STEP8(n + 8) STEP8(n + 16) STEP8(n + 24) STEP8(n + 32) STEP8(n + 40) STEP8(n + 48) STEP8(n + 56)
__attribute__((noinline)) static int32_t work(void) {
    uint32_t acc = 1;
    for (int r = 0; r < 20; r++) {
        STEP64(0) STEP64(64) STEP64(128) STEP64(192) STEP64(256) STEP64(320) STEP64(384) STEP64(448)
        STEP64(512) STEP64(576) STEP64(640) STEP64(704)
    }
    return (int32_t)acc;
}
#endif

int main(void) {
    for (int i = 0; i < 256; i++) {
        data[i] = i * 7;
    }
    printf("result %ld\n", (long)work());
    return 0;
}
