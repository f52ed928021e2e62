/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core and a DMA on one bus slave, and on two: a loop reading 1,024 words from SRAM1 is
 * timed alone, while the DMA copies within SRAM1, and reading SRAM3 while the DMA copies
 * within SRAM1 (nucleo-l4r5zi: RM0432 sec. 2.2, SRAM1 0x2000_0000 192 KiB, SRAM3 0x2004_0000
 * 384 KiB, separate bus-matrix slaves). Prints the three times.
 */
#include <stdio.h>

#include "mcusim_dma.h"

#if defined(MCUSIM_DMA_STM32)
#define WORDS 1024u
#define SRAM1_READ ((const volatile uint32_t *)0x20010000u)
#define SRAM1_FROM ((const uint32_t *)0x20020000u)
#define SRAM1_TO ((uint32_t *)0x20028000u)
#define SRAM3_READ ((const volatile uint32_t *)0x20050000u)

static uint32_t cycles_now(void) { return 0xFFFFFFu - MCUSIM_SYST_CVR; }

static uint32_t sum_loop(const volatile uint32_t *p, uint32_t *sum) {
    uint32_t t0 = cycles_now();
    uint32_t s = 0;
    for (unsigned i = 0; i < WORDS; i++) s += p[i];
    uint32_t t1 = cycles_now();
    *sum = s;
    return t1 - t0;
}

int main(void) {
    MCUSIM_SYST_RVR = 0xFFFFFFu;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 5u;
    uint32_t sum;
    uint32_t alone = sum_loop(SRAM1_READ, &sum);
    /* 8,192 words: about 49,000 cycles, longer than either loop. */
    mcusim_dma_copy(1, SRAM1_TO, SRAM1_FROM, 8192u, MCUSIM_DMA_32, MCUSIM_DMA_32, 0);
    uint32_t same = sum_loop(SRAM1_READ, &sum);
    uint32_t busy = mcusim_dma_flags(1) & MCUSIM_DMA_TCIF ? 0u : 1u;
    mcusim_dma_wait(1);
    mcusim_dma_copy(1, SRAM1_TO, SRAM1_FROM, 8192u, MCUSIM_DMA_32, MCUSIM_DMA_32, 0);
    uint32_t other = sum_loop(SRAM3_READ, &sum);
    busy &= mcusim_dma_flags(1) & MCUSIM_DMA_TCIF ? 0u : 1u;
    mcusim_dma_wait(1);
    uint32_t alone3 = sum_loop(SRAM3_READ, &sum);
    printf("dma_contention: alone %lu, same slave %lu, other slave %lu, other alone %lu, dma %s\n",
           (unsigned long)alone, (unsigned long)same, (unsigned long)other,
           (unsigned long)alone3, busy ? "ran throughout" : "FINISHED EARLY");
    return 0;
}
#else
int main(void) {
    puts("dma_contention: this board has no stm32-dma");
    return 0;
}
#endif
