/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sample stream (`--stream FILE`) read by DMA through the DMAMUX: 256 samples (or the
 * whole file, if shorter) land in memory in order, the last one at the time the stream's rate
 * says, and a channel routed to another request line moves nothing. tests/e2e/stream.rs
 * checks what it prints against the file.
 */
#include <stdio.h>

#include "mcusim_stream.h"

#if !defined(MCUSIM_STREAM_BASE) || !defined(MCUSIM_DMAMUX_BASE)
int main(void) {
    puts("stream_dma: this board has no sample stream");
    return 0;
}
#else

#define N 256u
static int16_t buf[N];

static uint32_t cycles_now(void) { return 0xFFFFFFu - MCUSIM_SYST_CVR; }

int main(void) {
    MCUSIM_SYST_RVR = 0xFFFFFFu;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 5u;
    const uint32_t length = MCUSIM_STREAM_LENGTH;
    if (length == 0u) {
        MCUSIM_STREAM_CR = MCUSIM_STREAM_EN;
        printf("stream_dma: no samples, EOS %lu\n",
               (unsigned long)((MCUSIM_STREAM_SR & MCUSIM_STREAM_EOS) != 0u));
        return 0;
    }
    const uint32_t n = length < N ? length : N;

    /* Routed to request line 1 (a request generator, not modelled): nothing moves. */
    mcusim_dma_route(3u, 1u);
    mcusim_dma_from_peripheral(3u, buf, &MCUSIM_STREAM_DR, n, MCUSIM_DMA_32, MCUSIM_DMA_16, 0u);
    MCUSIM_STREAM_CR = MCUSIM_STREAM_EN | MCUSIM_STREAM_DMAEN;
    const uint32_t wait_from = cycles_now();
    while (cycles_now() - wait_from < 20000u) {
    }
    MCUSIM_STREAM_CR = 0u;
    printf("stream_dma: misrouted: %lu of %lu items left, %lu samples played, %lu lost\n",
           (unsigned long)MCUSIM_DMA_CNDTR(3u), (unsigned long)n,
           (unsigned long)MCUSIM_STREAM_COUNT, (unsigned long)MCUSIM_STREAM_OVERRUNS);
    MCUSIM_DMA_CCR(3u) = 0u;
    /* Read away the sample left waiting, so the next run starts with DR empty. */
    (void)MCUSIM_STREAM_DR;
    const uint32_t played = MCUSIM_STREAM_COUNT;
    const uint32_t lost = MCUSIM_STREAM_OVERRUNS;

    /* Routed right: every sample lands. */
    mcusim_dma_route(2u, MCUSIM_STREAM_DMA_REQUEST);
    mcusim_dma_from_peripheral(2u, buf, &MCUSIM_STREAM_DR, n, MCUSIM_DMA_32, MCUSIM_DMA_16, 0u);
    const uint32_t t0 = cycles_now();
    MCUSIM_STREAM_CR = MCUSIM_STREAM_EN | MCUSIM_STREAM_DMAEN;
    while ((mcusim_dma_flags(2u) & MCUSIM_DMA_TCIF) == 0u) {
    }
    const uint32_t t1 = cycles_now();
    MCUSIM_STREAM_CR = 0u;
    int32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += buf[i];
    }
    printf("stream_dma: %lu samples from %lu at %lu Hz, sum %ld, first %d, last %d\n",
           (unsigned long)n, (unsigned long)played, (unsigned long)MCUSIM_STREAM_RATE,
           (long)sum, buf[0], buf[n - 1u]);
    printf("stream_dma: %lu cycles from EN to the last item\n", (unsigned long)(t1 - t0));
    printf("stream_dma: %lu samples lost meanwhile\n",
           (unsigned long)(MCUSIM_STREAM_OVERRUNS - lost));
    return 0;
}
#endif
