/* SPDX-License-Identifier: Apache-2.0 */
/* Fills the board: CONST_BYTES of constants in flash and BSS_BYTES of zeroed RAM, both read
 * so the linker keeps them. Built near a board's limits, it checks that a firmware that fits
 * is loaded (its .bss program header has a load address past the end of flash, which a
 * loader must not check against flash) and that one that does not is refused in the user's
 * terms. */
#include <stdint.h>
#include <stdio.h>

#ifndef CONST_BYTES
#define CONST_BYTES 4096
#endif
#ifndef BSS_BYTES
#define BSS_BYTES 4096
#endif

/* A pattern the compiler cannot shorten: each byte from its index. */
#define B(i) (uint8_t)((i) * 31u + 7u)
static const uint8_t constants[CONST_BYTES] = {B(0), B(1), B(2), B(3)};
static uint8_t zeroed[BSS_BYTES];
static uint32_t initialised[4] = {1, 2, 3, 4};

/* Read through a pointer the compiler cannot see through, so the table stays whole. */
static const uint8_t *volatile table = constants;
static uint8_t *volatile ram = zeroed;

int main(void) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < CONST_BYTES; i += 4096) {
        sum += table[i];
    }
    for (uint32_t i = 0; i < BSS_BYTES; i += 512) {
        sum += ram[i] == 0;
        ram[i] = (uint8_t)i;
    }
    sum += initialised[0] + initialised[3] + table[1] + table[CONST_BYTES - 1];
    printf("fill %u\n", (unsigned)sum);
    return 0;
}
