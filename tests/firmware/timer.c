/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CMSDK APB timer of the MPS2 boards (timer 0 at 0x40000000, IRQ 8; QEMU's mps2-an386 has
 * it): a periodic interrupt counted while the core sleeps, then the count read while running
 * and while stopped. Prints what it saw, which does not depend on how fast the core runs, and
 * exits with 0.
 */
#include <stdio.h>

#include "mcusim.h"

#define TIMER0 0x40000000u
#define CTRL MCUSIM_REG(TIMER0 + 0x0u)
#define VALUE MCUSIM_REG(TIMER0 + 0x4u)
#define RELOAD MCUSIM_REG(TIMER0 + 0x8u)
#define INTCLEAR MCUSIM_REG(TIMER0 + 0xCu)
#define CTRL_EN 1u
#define CTRL_IRQEN 8u
#define TIMER_IRQ 8u

static volatile unsigned ticks;

void mcusim_irq_handler(unsigned irq) {
    if (irq == TIMER_IRQ) {
        INTCLEAR = 1u;
        ticks++;
    }
}

int main(void) {
    RELOAD = 2500u; /* 100 us at the MPS2's 25 MHz */
    mcusim_nvic_enable(TIMER_IRQ);
    CTRL = CTRL_EN | CTRL_IRQEN;
    while (ticks < 5) {
        mcusim_wfi();
    }
    unsigned running = VALUE;
    CTRL = 0;
    unsigned a = VALUE;
    for (volatile int i = 0; i < 200; i++) {
    }
    unsigned b = VALUE;
    printf("timer: %u interrupts, value %s while running, %s when stopped, reload %u\n", ticks,
           running <= 2500u ? "in range" : "out of range", a == b ? "holds" : "moves",
           (unsigned)RELOAD);
    return 0;
}
