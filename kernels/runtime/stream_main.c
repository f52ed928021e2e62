/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entry point of streaming model firmware (`mcusim compile/profile MODEL --stream ...`):
 * the board's sample stream fills a ring of two windows of MCUSIM_STREAM_WINDOW samples by
 * DMA (channel 1, circular, half- and full-transfer interrupts); each window that arrives
 * runs one inference of the generated model, the core sleeping (WFI) in between. mcusim does
 * not compute features: the window's samples, resampled to the input tensor's length by
 * nearest index and reduced to their high bytes, stand in for the model's input.
 *
 * Each window calls mcusim_window (the profile measures the real-time margin against it),
 * each inference runs between mcusim_inference_begin and _end. A window that arrives while
 * the one before it still waits is missed (counted). At the end of the stream it prints how
 * many windows ran and were missed and how many samples were lost, and exits with 0 (3 when
 * a layer's scratch does not fit, 4 when a kernel refused its arguments, 5 on a DMA error).
 */
#include <stdio.h>

#include "mcusim.h"
#include "mcusim_dma.h"
#include "mcusim_model.h"
#include "mcusim_stream.h"

#ifndef MCUSIM_STREAM_WINDOW
#define MCUSIM_STREAM_WINDOW MCUSIM_MODEL_INPUT_BYTES
#endif

#if !defined(MCUSIM_STREAM_BASE) || !defined(MCUSIM_DMAMUX_BASE) || !defined(MCUSIM_DMA_CH1_IRQ)
#error "streaming firmware needs a board with a sample stream, a DMA and a DMAMUX"
#endif

static int16_t ring[2u * MCUSIM_STREAM_WINDOW];
/* Halves filled (by the DMA interrupt) and halves used (by main). */
static volatile uint32_t filled;
static volatile uint32_t dma_error;

void mcusim_irq_handler(unsigned irq) {
    if (irq != MCUSIM_DMA_CH1_IRQ) {
        return;
    }
    const uint32_t f = mcusim_dma_flags(1u);
    mcusim_dma_clear(1u, f);
    filled += ((f & MCUSIM_DMA_HTIF) != 0u) + ((f & MCUSIM_DMA_TCIF) != 0u);
    if (f & MCUSIM_DMA_TEIF) {
        dma_error = 1u;
    }
}

/* Whether the stream has played everything and the DMA has taken it all. */
static int stream_done(void) {
    return (MCUSIM_STREAM_SR & (MCUSIM_STREAM_EOS | MCUSIM_STREAM_RXNE)) == MCUSIM_STREAM_EOS &&
           (mcusim_dma_flags(1u) & (MCUSIM_DMA_HTIF | MCUSIM_DMA_TCIF)) == 0u;
}

int main(void) {
    if (mcusim_model_init()) {
        puts("mcusim stream: a layer's scratch is larger than planned");
        return 3;
    }
    uint32_t used = 0u, missed = 0u, windows = 0u;
    mcusim_nvic_enable(MCUSIM_DMA_CH1_IRQ);
    mcusim_stream_start_dma(1u, ring, 2u * MCUSIM_STREAM_WINDOW);
    for (;;) {
        /* Sleep until a window is ready; interrupts are masked between the check and WFI, so
         * one arriving in between wakes the WFI instead of being missed. */
        mcusim_disable_irq();
        while (filled == used && !stream_done() && !dma_error) {
            mcusim_wfi();
            mcusim_enable_irq();
            mcusim_disable_irq();
        }
        const uint32_t now_filled = filled;
        mcusim_enable_irq();
        if (dma_error) {
            puts("mcusim stream: DMA transfer error");
            return 5;
        }
        if (now_filled == used) {
            break;
        }
        if (now_filled - used > 1u) {
            missed += now_filled - used - 1u;
            used = now_filled - 1u;
        }
        const int16_t *window = ring + (used % 2u) * MCUSIM_STREAM_WINDOW;
        mcusim_window(MCUSIM_STREAM_WINDOW);
        /* Input i takes sample floor(i * window / input), stepped without a division. */
        uint32_t at = 0u, rest = 0u;
        for (uint32_t i = 0; i < MCUSIM_MODEL_INPUT_BYTES; i++) {
            mcusim_model_input[i] = (int8_t)(window[at] >> 8);
            rest += MCUSIM_STREAM_WINDOW;
            while (rest >= MCUSIM_MODEL_INPUT_BYTES) {
                rest -= MCUSIM_MODEL_INPUT_BYTES;
                at++;
            }
        }
        mcusim_inference_begin();
        const int status = mcusim_model_run();
        mcusim_inference_end();
        if (status) {
            puts("mcusim stream: a kernel refused its arguments");
            return 4;
        }
        used++;
        windows++;
    }
    MCUSIM_STREAM_CR = 0u;
    printf("mcusim stream: %lu windows of %u samples, %lu missed, %lu samples lost\n",
           (unsigned long)windows, (unsigned)MCUSIM_STREAM_WINDOW, (unsigned long)missed,
           (unsigned long)MCUSIM_STREAM_OVERRUNS);
    return 0;
}
