/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ST's DMA controller, driven through the runtime's driver (mcusim_dma.h) on a board that
 * has one: a word copy polled to completion and timed, a byte-to-word copy finished by its
 * interrupt while the core sleeps, half- and full-transfer interrupts of a circular channel,
 * two channels at once by priority, and a transfer error. Prints what it saw and the cycles,
 * and exits with 0 when every copy matched.
 */
#include <stdio.h>
#include <string.h>

#include "mcusim_dma.h"

#ifndef MCUSIM_DMA_STM32
int main(void) {
    puts("dma: this board has no stm32-dma");
    return 0;
}
#else

#define WORDS 512u
static uint32_t src[WORDS], dst[WORDS];
static uint8_t bytes[64];
static uint32_t widened[64];
static uint16_t ring[1024];
static volatile unsigned tc_irqs, ht_irqs, error_irqs;

void mcusim_irq_handler(unsigned irq) {
    for (unsigned ch = 1; ch <= MCUSIM_DMA_CHANNELS; ch++) {
        uint32_t f = mcusim_dma_flags(ch);
        if (f == 0u) {
            continue;
        }
        if (f & MCUSIM_DMA_TEIF) error_irqs++;
        if (f & MCUSIM_DMA_HTIF) ht_irqs++;
        if (f & MCUSIM_DMA_TCIF) tc_irqs++;
        mcusim_dma_clear(ch, MCUSIM_DMA_GIF);
    }
    (void)irq;
}

/* Sleeps until `*count` reaches `n`. Interrupts are masked between the check and WFI, so an
 * interrupt that comes after the check still wakes the core (WFI wakes on a pending
 * interrupt even while PRIMASK masks it); without that, it could be taken just before WFI,
 * and the core would sleep on with nothing left to wake it. */
static void sleep_until(volatile unsigned *count, unsigned n) {
    mcusim_disable_irq();
    while (*count < n) {
        mcusim_wfi();
        mcusim_enable_irq();
        mcusim_disable_irq();
    }
    mcusim_enable_irq();
}

/* SysTick as a cycle counter (every core has it; the M0+ has no DWT cycle counter). */
static void cycle_counter_on(void) {
    MCUSIM_SYST_RVR = 0xFFFFFFu;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 5u; /* enabled, core clock, no interrupt */
}

static uint32_t cycles_now(void) { return 0xFFFFFFu - MCUSIM_SYST_CVR; }

int main(void) {
    int bad = 0;
    cycle_counter_on();
    for (unsigned i = 0; i < WORDS; i++) src[i] = 0x01010101u * i ^ 0xA5A5u;

    /* 1. A word copy, polled. */
    uint32_t t0 = cycles_now();
    mcusim_dma_copy(1, dst, src, WORDS, MCUSIM_DMA_32, MCUSIM_DMA_32, 0);
    uint32_t f = mcusim_dma_wait(1);
    uint32_t t1 = cycles_now();
    mcusim_dma_clear(1, MCUSIM_DMA_GIF);
    int same = memcmp(src, dst, sizeof src) == 0;
    bad |= !same;
    printf("dma: %u words %s, flags %lx, %s cycles per word\n", WORDS, same ? "copied" : "WRONG",
           (unsigned long)f, (t1 - t0) / WORDS >= 4u ? "at least 4" : "under 4");
    printf("dma: cycles for %u words: %lu\n", WORDS, (unsigned long)(t1 - t0));

    /* 2. Bytes widened to words, the core asleep until the transfer-complete interrupt. */
    for (unsigned i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(200u + i);
    mcusim_nvic_enable(MCUSIM_DMA_CH2_IRQ);
    mcusim_dma_copy(2, widened, bytes, sizeof bytes, MCUSIM_DMA_8, MCUSIM_DMA_32, MCUSIM_DMA_TCIE);
    sleep_until(&tc_irqs, 1);
    int widened_ok = 1;
    for (unsigned i = 0; i < sizeof bytes; i++) widened_ok &= widened[i] == bytes[i];
    bad |= !widened_ok;
    printf("dma: 64 bytes widened to words %s, %u interrupt\n", widened_ok ? "right" : "WRONG",
           tc_irqs);

    /* 3. A circular channel: half and full transfer, twice round. */
    tc_irqs = 0;
    mcusim_nvic_enable(MCUSIM_DMA_CH3_IRQ);
    mcusim_dma_copy(3, ring, src, 1024, MCUSIM_DMA_16, MCUSIM_DMA_16,
                    MCUSIM_DMA_CIRC | MCUSIM_DMA_HTIE | MCUSIM_DMA_TCIE);
    sleep_until(&tc_irqs, 2);
    MCUSIM_DMA_CCR(3) = 0u;
    uint32_t left = MCUSIM_DMA_CNDTR(3);
    printf("dma: circular: %u half and %u full transfers, CNDTR %s\n", ht_irqs, tc_irqs,
           left > 0u && left <= 1024u ? "reloaded and counting" : "WRONG");
    bad |= ht_irqs < 2;

    /* 4. Two channels at once: the higher priority (channel 5, PL 3) finishes first. */
    memset(dst, 0, sizeof dst);
    mcusim_dma_copy(4, dst, src, 64, MCUSIM_DMA_32, MCUSIM_DMA_32, MCUSIM_DMA_PL(0));
    mcusim_dma_copy(5, dst + 128, src, 64, MCUSIM_DMA_32, MCUSIM_DMA_32, MCUSIM_DMA_PL(3));
    while ((mcusim_dma_flags(5) & MCUSIM_DMA_TCIF) == 0u) {
    }
    uint32_t left4 = MCUSIM_DMA_CNDTR(4);
    mcusim_dma_wait(4);
    printf("dma: priority: channel 4 had %s items left when channel 5 finished\n",
           left4 >= 32u ? "most of its" : "few");
    bad |= memcmp(dst, src, 64 * 4) != 0 || memcmp(dst + 128, src, 64 * 4) != 0;

    /* 5. A source outside every memory: a transfer error, the channel disabled. */
    error_irqs = 0;
    mcusim_nvic_enable(MCUSIM_DMA_CH1_IRQ);
    mcusim_dma_copy(1, dst, (const void *)0x30000000u, 4, MCUSIM_DMA_32, MCUSIM_DMA_32,
                    MCUSIM_DMA_TEIE);
    sleep_until(&error_irqs, 1);
    printf("dma: bad address: %u error interrupt, channel %s\n", error_irqs,
           (MCUSIM_DMA_CCR(1) & MCUSIM_DMA_EN) ? "still enabled" : "disabled");
    return bad;
}
#endif
