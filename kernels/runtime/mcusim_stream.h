/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small driver for mcusim's sample stream (the board's `sample-stream` peripheral, which
 * plays the file given with `mcusim ... --stream FILE`), header-only. Register map, at
 * MCUSIM_STREAM_BASE (sim/src/devices/sample_stream.rs has the details):
 *   0x00 CR       EN (bit 0), DMAEN (1), RXNEIE (2), OVRIE (3), EOSIE (4)
 *   0x04 SR       RXNE (0): a sample waits in DR; OVR (1): one was lost; EOS (2): all played
 *   0x08 ICR      write 1 to clear OVR, EOS
 *   0x0C DR       the sample, sign-extended from 16 bits; reading it clears RXNE
 *   0x10 RATE     samples per second      0x14 LENGTH  samples in the file
 *   0x18 COUNT    samples played          0x1C OVERRUNS samples lost
 * The board header gives MCUSIM_STREAM_BASE, MCUSIM_STREAM_DMA_REQUEST (its DMAMUX request
 * line) and MCUSIM_STREAM_IRQ.
 */
#ifndef MCUSIM_STREAM_H
#define MCUSIM_STREAM_H

#include "mcusim.h"
#include "mcusim_dma.h"

#ifdef MCUSIM_STREAM_BASE

#define MCUSIM_STREAM_CR MCUSIM_REG(MCUSIM_STREAM_BASE + 0x00u)
#define MCUSIM_STREAM_SR MCUSIM_REG(MCUSIM_STREAM_BASE + 0x04u)
#define MCUSIM_STREAM_ICR MCUSIM_REG(MCUSIM_STREAM_BASE + 0x08u)
#define MCUSIM_STREAM_DR MCUSIM_REG(MCUSIM_STREAM_BASE + 0x0Cu)
#define MCUSIM_STREAM_RATE MCUSIM_REG(MCUSIM_STREAM_BASE + 0x10u)
#define MCUSIM_STREAM_LENGTH MCUSIM_REG(MCUSIM_STREAM_BASE + 0x14u)
#define MCUSIM_STREAM_COUNT MCUSIM_REG(MCUSIM_STREAM_BASE + 0x18u)
#define MCUSIM_STREAM_OVERRUNS MCUSIM_REG(MCUSIM_STREAM_BASE + 0x1Cu)

#define MCUSIM_STREAM_EN (1u << 0)
#define MCUSIM_STREAM_DMAEN (1u << 1)
#define MCUSIM_STREAM_RXNEIE (1u << 2)
#define MCUSIM_STREAM_OVRIE (1u << 3)
#define MCUSIM_STREAM_EOSIE (1u << 4)

#define MCUSIM_STREAM_RXNE (1u << 0)
#define MCUSIM_STREAM_OVR (1u << 1)
#define MCUSIM_STREAM_EOS (1u << 2)

#if defined(MCUSIM_DMA_STM32) && defined(MCUSIM_DMAMUX_BASE)
/* Plays the stream into `ring` (`samples` 16-bit samples, used as a circular buffer) by DMA
 * channel `ch`: its half-transfer and transfer-complete interrupts say when each half is
 * full. The caller enables the channel's interrupt line in the NVIC. */
static inline void mcusim_stream_start_dma(unsigned ch, int16_t *ring, uint32_t samples) {
    MCUSIM_STREAM_CR = 0u;
    mcusim_dma_route(ch, MCUSIM_STREAM_DMA_REQUEST);
    mcusim_dma_from_peripheral(ch, ring, &MCUSIM_STREAM_DR, samples, MCUSIM_DMA_32,
                               MCUSIM_DMA_16,
                               MCUSIM_DMA_CIRC | MCUSIM_DMA_HTIE | MCUSIM_DMA_TCIE |
                                   MCUSIM_DMA_TEIE | MCUSIM_DMA_PL(3));
    MCUSIM_STREAM_CR = MCUSIM_STREAM_EN | MCUSIM_STREAM_DMAEN;
}
#endif

#endif
#endif
