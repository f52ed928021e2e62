/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DMA timing cases: each copy is timed twice, with N and 2N items, and the difference printed,
 * so what the firmware adds around a copy cancels out and what is left is N items' time.
 * tests/e2e/dma.rs holds the expected cycles per item and their source.
 */
#include <stdio.h>

#include "mcusim_dma.h"

#ifndef MCUSIM_DMA_STM32
int main(void) {
    puts("dma_timing: this board has no stm32-dma");
    return 0;
}
#else

#define N 128u
static uint32_t sram_src[2 * N], sram_dst[2 * N];
static const uint32_t flash_src[2 * N] = {1u, 2u, 3u}; /* in flash: const, initialised */

static uint32_t cycles_now(void) { return 0xFFFFFFu - MCUSIM_SYST_CVR; }

static uint32_t timed(const void *src, void *dst, uint32_t items, unsigned sw, unsigned dw) {
    uint32_t t0 = cycles_now();
    mcusim_dma_copy(1, dst, src, items, sw, dw, 0);
    mcusim_dma_wait(1);
    uint32_t t1 = cycles_now();
    mcusim_dma_clear(1, MCUSIM_DMA_GIF);
    return t1 - t0;
}

static void report(const char *name, const void *src, void *dst, unsigned sw, unsigned dw) {
    uint32_t one = timed(src, dst, N, sw, dw);
    uint32_t two = timed(src, dst, 2 * N, sw, dw);
    printf("dma_timing: %s: %lu cycles for %u items\n", name, (unsigned long)(two - one), N);
}

int main(void) {
    MCUSIM_SYST_RVR = 0xFFFFFFu;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 5u;
    report("sram-to-sram words", sram_src, sram_dst, MCUSIM_DMA_32, MCUSIM_DMA_32);
    report("sram-to-sram bytes", sram_src, sram_dst, MCUSIM_DMA_8, MCUSIM_DMA_8);
    report("sram-to-sram halfwords widened", sram_src, sram_dst, MCUSIM_DMA_16, MCUSIM_DMA_32);
    report("flash-to-sram words", flash_src, sram_dst, MCUSIM_DMA_32, MCUSIM_DMA_32);
    return 0;
}
#endif
