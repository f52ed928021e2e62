/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Double buffering with the DMA: eight chunks of int8 weights in flash, each multiplied with
 * an input vector in SRAM. Serially, each chunk is copied to SRAM by the DMA and then used;
 * double-buffered, the DMA copies chunk k+1 into the other buffer while the core computes
 * with chunk k. Each chunk's computation is a layer (the runtime's markers), so a profile
 * shows the DMA's track beside the layers: between them when serial, under them when
 * overlapped. Prints both times and whether the results agree.
 */
#include <stdio.h>

#include "mcusim_dma.h"

#ifdef MCUSIM_DMA_STM32
#define CHUNK 2048u
#define CHUNKS 8u

static const int8_t weights[CHUNKS][CHUNK] = {{1, -2, 3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}};
static int8_t buffers[2][CHUNK] __attribute__((aligned(4)));
static int8_t input[CHUNK];

static const mcusim_layer_info serial_layers[CHUNKS] = {
    {0, "FULLY_CONNECTED", "serial/0", CHUNK}, {1, "FULLY_CONNECTED", "serial/1", CHUNK},
    {2, "FULLY_CONNECTED", "serial/2", CHUNK}, {3, "FULLY_CONNECTED", "serial/3", CHUNK},
    {4, "FULLY_CONNECTED", "serial/4", CHUNK}, {5, "FULLY_CONNECTED", "serial/5", CHUNK},
    {6, "FULLY_CONNECTED", "serial/6", CHUNK}, {7, "FULLY_CONNECTED", "serial/7", CHUNK},
};
static const mcusim_layer_info overlapped_layers[CHUNKS] = {
    {8, "FULLY_CONNECTED", "overlapped/0", CHUNK},  {9, "FULLY_CONNECTED", "overlapped/1", CHUNK},
    {10, "FULLY_CONNECTED", "overlapped/2", CHUNK}, {11, "FULLY_CONNECTED", "overlapped/3", CHUNK},
    {12, "FULLY_CONNECTED", "overlapped/4", CHUNK}, {13, "FULLY_CONNECTED", "overlapped/5", CHUNK},
    {14, "FULLY_CONNECTED", "overlapped/6", CHUNK}, {15, "FULLY_CONNECTED", "overlapped/7", CHUNK},
};

static uint32_t cycles_now(void) { return 0xFFFFFFu - MCUSIM_SYST_CVR; }

static int32_t dot(const int8_t *w, const int8_t *x) {
    int32_t s = 0;
    for (unsigned i = 0; i < CHUNK; i++) s += w[i] * x[i];
    return s;
}

static void fetch(unsigned k) {
    mcusim_dma_copy(1, buffers[k & 1u], weights[k], CHUNK / 4u, MCUSIM_DMA_32, MCUSIM_DMA_32, 0);
}

static int32_t run(int overlapped, uint32_t *cycles) {
    const mcusim_layer_info *layers = overlapped ? overlapped_layers : serial_layers;
    uint32_t t0 = cycles_now();
    int32_t acc = 0;
    fetch(0);
    mcusim_dma_wait(1);
    for (unsigned k = 0; k < CHUNKS; k++) {
        int more = k + 1u < CHUNKS;
        if (overlapped && more) fetch(k + 1u);
        mcusim_layer_begin(&layers[k]);
        acc += dot(buffers[k & 1u], input);
        mcusim_layer_end(&layers[k]);
        if (more) {
            if (!overlapped) fetch(k + 1u);
            mcusim_dma_wait(1);
        }
    }
    *cycles = cycles_now() - t0;
    return acc;
}

int main(void) {
    MCUSIM_SYST_RVR = 0xFFFFFFu;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 5u;
    for (unsigned i = 0; i < CHUNK; i++) input[i] = (int8_t)(i * 7u);
    uint32_t serial, overlapped;
    int32_t a = run(0, &serial);
    int32_t b = run(1, &overlapped);
    printf("double_buffer: results %s, serial %lu cycles, overlapped %lu cycles\n",
           a == b ? "agree" : "DIFFER", (unsigned long)serial, (unsigned long)overlapped);
    return a == b ? 0 : 1;
}
#else
int main(void) {
    puts("double_buffer: this board has no stm32-dma");
    return 0;
}
#endif
