/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel benchmark firmware: runs one inference of a generated model (mcusim_model.c) on a
 * deterministic pseudo-random input and prints the cycles of every layer, read from the DWT
 * cycle counter at the layer markers, and of the whole inference:
 *   layer <index> <op> <macs> <cycles>
 *   inference <macs> <cycles>
 *   output <FNV-1a hash of the output bytes>
 */
#include <stdio.h>

#include "mcusim.h"
#include "mcusim_model.h"

static uint32_t started;
static uint32_t cycles[MCUSIM_MODEL_LAYERS];
static const mcusim_layer_info *info[MCUSIM_MODEL_LAYERS];
static uint32_t done;

void mcusim_layer_begin(const mcusim_layer_info *layer) {
    (void)layer;
    started = MCUSIM_DWT_CYCCNT;
}

void mcusim_layer_end(const mcusim_layer_info *layer) {
    const uint32_t now = MCUSIM_DWT_CYCCNT;
    if (done < MCUSIM_MODEL_LAYERS) {
        cycles[done] = now - started;
        info[done] = layer;
        done++;
    }
}

int main(void) {
    MCUSIM_DEMCR |= 1u << 24;   /* TRCENA */
    MCUSIM_DWT_CTRL |= 1u;      /* CYCCNTENA */
    const int init = mcusim_model_init();
    if (init) {
        printf("error: layer %d: scratch larger than planned\n", init - 1);
        return 1;
    }
    uint32_t x = 20261122u;
    for (uint32_t i = 0; i < MCUSIM_MODEL_INPUT_BYTES; i++) {
        x = x * 1664525u + 1013904223u;
        mcusim_model_input[i] = (int8_t)(x >> 24);
    }
    const uint32_t t0 = MCUSIM_DWT_CYCCNT;
    const int status = mcusim_model_run();
    const uint32_t total = MCUSIM_DWT_CYCCNT - t0;
    if (status) {
        printf("error: layer %d failed\n", status - 1);
        return 1;
    }
    for (uint32_t i = 0; i < done; i++) {
        printf("layer %lu %s %lu %lu\n", (unsigned long)info[i]->index, info[i]->op, (unsigned long)info[i]->macs,
               (unsigned long)cycles[i]);
    }
    printf("inference %lu %lu\n", (unsigned long)MCUSIM_MODEL_MACS, (unsigned long)total);
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < MCUSIM_MODEL_OUTPUT_BYTES; i++) {
        h = (h ^ (uint8_t)mcusim_model_output[i]) * 16777619u;
    }
    printf("output %08lx\n", (unsigned long)h);
    return 0;
}
