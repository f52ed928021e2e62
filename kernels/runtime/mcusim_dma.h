/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small driver for ST's DMA controller (STM32L4/L4+/G0: RM0432 chapter 11, RM0444
 * chapter 10), the board's first `stm32-dma` peripheral. Header-only: nothing is linked in
 * unless it is used. Register map (per channel n = 1..8, at MCUSIM_DMA_BASE):
 *   0x00 ISR   flags, 4 bits per channel at 4*(n-1): GIF, TCIF, HTIF, TEIF
 *   0x04 IFCR  write 1 to clear the same bits
 *   0x08 + 0x14*(n-1) CCR: EN, TCIE, HTIE, TEIE, DIR, CIRC, PINC, MINC, PSIZE[9:8],
 *                          MSIZE[11:10], PL[13:12], MEM2MEM
 *   0x0C + 0x14*(n-1) CNDTR (items, 16 bits), 0x10 CPAR, 0x14 CMAR
 * The board header gives MCUSIM_DMA_BASE, MCUSIM_DMA_CHANNELS and MCUSIM_DMA_CHn_IRQ.
 */
#ifndef MCUSIM_DMA_H
#define MCUSIM_DMA_H

#include "mcusim.h"

#ifdef MCUSIM_DMA_STM32

#define MCUSIM_DMA_ISR MCUSIM_REG(MCUSIM_DMA_BASE + 0x00u)
#define MCUSIM_DMA_IFCR MCUSIM_REG(MCUSIM_DMA_BASE + 0x04u)
#define MCUSIM_DMA_CCR(n) MCUSIM_REG(MCUSIM_DMA_BASE + 0x08u + 0x14u * ((n) - 1u))
#define MCUSIM_DMA_CNDTR(n) MCUSIM_REG(MCUSIM_DMA_BASE + 0x0Cu + 0x14u * ((n) - 1u))
#define MCUSIM_DMA_CPAR(n) MCUSIM_REG(MCUSIM_DMA_BASE + 0x10u + 0x14u * ((n) - 1u))
#define MCUSIM_DMA_CMAR(n) MCUSIM_REG(MCUSIM_DMA_BASE + 0x14u + 0x14u * ((n) - 1u))

#define MCUSIM_DMA_EN (1u << 0)
#define MCUSIM_DMA_TCIE (1u << 1)
#define MCUSIM_DMA_HTIE (1u << 2)
#define MCUSIM_DMA_TEIE (1u << 3)
#define MCUSIM_DMA_DIR (1u << 4)
#define MCUSIM_DMA_CIRC (1u << 5)
#define MCUSIM_DMA_PINC (1u << 6)
#define MCUSIM_DMA_MINC (1u << 7)
#define MCUSIM_DMA_PSIZE(w) ((uint32_t)(w) << 8)
#define MCUSIM_DMA_MSIZE(w) ((uint32_t)(w) << 10)
#define MCUSIM_DMA_PL(p) ((uint32_t)(p) << 12)
#define MCUSIM_DMA_MEM2MEM (1u << 14)

/* Item widths for PSIZE/MSIZE. */
#define MCUSIM_DMA_8 0u
#define MCUSIM_DMA_16 1u
#define MCUSIM_DMA_32 2u

/* A channel's flags from ISR: bit 0 GIF, 1 TCIF, 2 HTIF, 3 TEIF. */
#define MCUSIM_DMA_GIF 1u
#define MCUSIM_DMA_TCIF 2u
#define MCUSIM_DMA_HTIF 4u
#define MCUSIM_DMA_TEIF 8u

static inline uint32_t mcusim_dma_flags(unsigned ch) {
    return (MCUSIM_DMA_ISR >> (4u * (ch - 1u))) & 0xFu;
}

static inline void mcusim_dma_clear(unsigned ch, uint32_t flags) {
    MCUSIM_DMA_IFCR = flags << (4u * (ch - 1u));
}

/* Starts a memory-to-memory copy on channel `ch`: `items` items of `src_width` read from
 * `src`, each written as `dst_width` to `dst` (zero-extended or truncated, as ST's DMA does),
 * both addresses incrementing. `extra` adds CCR bits (interrupt enables, PL, CIRC). */
static inline void mcusim_dma_copy(unsigned ch, void *dst, const void *src, uint32_t items,
                                   unsigned src_width, unsigned dst_width, uint32_t extra) {
    MCUSIM_DMA_CCR(ch) = 0u;
    mcusim_dma_clear(ch, 0xFu);
    /* DIR = 0: the "peripheral" side (CPAR) is the source. */
    MCUSIM_DMA_CPAR(ch) = (uint32_t)src;
    MCUSIM_DMA_CMAR(ch) = (uint32_t)dst;
    MCUSIM_DMA_CNDTR(ch) = items;
    MCUSIM_DMA_CCR(ch) = MCUSIM_DMA_MEM2MEM | MCUSIM_DMA_PINC | MCUSIM_DMA_MINC |
                         MCUSIM_DMA_PSIZE(src_width) | MCUSIM_DMA_MSIZE(dst_width) | extra |
                         MCUSIM_DMA_EN;
}

/* Waits, polling, until channel `ch` completes or fails; returns its flags. */
static inline uint32_t mcusim_dma_wait(unsigned ch) {
    uint32_t f;
    while (((f = mcusim_dma_flags(ch)) & (MCUSIM_DMA_TCIF | MCUSIM_DMA_TEIF)) == 0u) {
    }
    return f;
}

#ifdef MCUSIM_DMAMUX_BASE
/* DMAMUX channel x's CxCR (RM0432 sec. 12.6.1): DMAREQ_ID in bits 6:0. */
#define MCUSIM_DMAMUX_CCR(x) MCUSIM_REG(MCUSIM_DMAMUX_BASE + 4u * (x))

/* Routes peripheral request line `request` to DMA channel `ch` (through the DMAMUX channel
 * that serves it). */
static inline void mcusim_dma_route(unsigned ch, unsigned request) {
    MCUSIM_DMAMUX_CCR(MCUSIM_DMA_DMAMUX_FIRST + ch - 1u) = request & 0x7Fu;
}
#endif

/* Starts a transfer paced by a peripheral on channel `ch`: each request moves one item from
 * the peripheral register `reg` (`reg_width`, address fixed) to `dst` (`dst_width`,
 * incrementing). `extra` adds CCR bits (CIRC, interrupt enables, PL). */
static inline void mcusim_dma_from_peripheral(unsigned ch, void *dst, const volatile void *reg,
                                              uint32_t items, unsigned reg_width,
                                              unsigned dst_width, uint32_t extra) {
    MCUSIM_DMA_CCR(ch) = 0u;
    mcusim_dma_clear(ch, 0xFu);
    MCUSIM_DMA_CPAR(ch) = (uint32_t)reg;
    MCUSIM_DMA_CMAR(ch) = (uint32_t)dst;
    MCUSIM_DMA_CNDTR(ch) = items;
    MCUSIM_DMA_CCR(ch) = MCUSIM_DMA_MINC | MCUSIM_DMA_PSIZE(reg_width) |
                         MCUSIM_DMA_MSIZE(dst_width) | extra | MCUSIM_DMA_EN;
}

#endif
#endif
