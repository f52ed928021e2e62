/* SPDX-License-Identifier: Apache-2.0 */
/* Never ends on its own: a busy loop (-DRUNAWAY_LOOP) or a sleep nothing can wake
 * (-DRUNAWAY_SLEEP). */
#include "mcusim.h"

int main(void) {
    mcusim_sh_puts("running away\n");
#if defined(RUNAWAY_SLEEP)
    mcusim_disable_irq();
    for (;;) {
        mcusim_wfi();
    }
#else
    volatile uint32_t n = 0;
    for (;;) {
        n++;
    }
#endif
}
