/* SPDX-License-Identifier: Apache-2.0 */
/* Never ends on its own: a busy loop (-DRUNAWAY_LOOP), a sleep nothing can wake
 * (-DRUNAWAY_SLEEP), a `while (1);` (-DRUNAWAY_SPIN), a wait for a flag nothing will set
 * with interrupts off (-DRUNAWAY_POLL), or a `while (1);` with SysTick interrupts still
 * coming (-DRUNAWAY_SPIN_TICKING, which is not stuck: the handler runs), or an interrupt
 * storm (-DRUNAWAY_STORM: SysTick's handler pends SysTick again, so the program never runs
 * another instruction). */
#include "mcusim.h"

volatile uint32_t flag, ticks;

void SysTick_Handler(void) {
    ticks++;
#if defined(RUNAWAY_STORM)
    MCUSIM_SCB_ICSR = 1u << 26; /* PENDSTSET */
#endif
}

int main(void) {
    mcusim_sh_puts("running away\n");
#if defined(RUNAWAY_SLEEP)
    mcusim_disable_irq();
    for (;;) {
        mcusim_wfi();
    }
#elif defined(RUNAWAY_SPIN)
    while (1) {
    }
#elif defined(RUNAWAY_POLL)
    mcusim_disable_irq();
    while (!flag) {
    }
    return 0;
#elif defined(RUNAWAY_STORM)
    MCUSIM_SCB_ICSR = 1u << 26;
    for (;;) {
        flag++;
    }
#elif defined(RUNAWAY_SPIN_TICKING)
    MCUSIM_SYST_RVR = 999u;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 7u;
    while (1) {
    }
#else
    volatile uint32_t n = 0;
    for (;;) {
        n++;
    }
#endif
}
