/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Code and data in tightly coupled memory: the same straight-line function built twice, in
 * flash and in the instruction TCM (MCUSIM_ITCM), timed with the DWT cycle counter on its first
 * run (flash: cache misses and wait states; ITCM: neither), and a table in the data TCM
 * (MCUSIM_DTCM). Prints both times and the addresses; exits with 0 if both copies agree.
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

#define STEP(i) x = x * 2654435761u + (i);
#define STEP8(i) STEP(i) STEP(i + 1) STEP(i + 2) STEP(i + 3) STEP(i + 4) STEP(i + 5) STEP(i + 6) STEP(i + 7)
#define STEP64(i) STEP8(i) STEP8(i + 8) STEP8(i + 16) STEP8(i + 24) STEP8(i + 32) STEP8(i + 40) STEP8(i + 48) STEP8(i + 56)
#define BODY STEP64(0) STEP64(64) STEP64(128) STEP64(192)

__attribute__((noinline, noipa)) uint32_t in_flash(uint32_t x) {
    BODY
    return x;
}

MCUSIM_ITCM __attribute__((noipa)) uint32_t in_itcm(uint32_t x) {
    BODY
    return x;
}

MCUSIM_DTCM uint32_t table[64] = {1, 2, 3};

int main(void) {
    MCUSIM_DEMCR |= 1u << 24;
    MCUSIM_DWT_CTRL |= 1u;
    uint32_t t0 = MCUSIM_DWT_CYCCNT;
    uint32_t a = in_flash(table[0]);
    uint32_t t1 = MCUSIM_DWT_CYCCNT;
    uint32_t b = in_itcm(table[0]);
    uint32_t t2 = MCUSIM_DWT_CYCCNT;
    printf("flash %lu itcm %lu at %p, table at %p\n", (unsigned long)(t1 - t0),
           (unsigned long)(t2 - t1), (void *)in_itcm, (void *)table);
    return a == b ? 0 : 1;
}
